// Group options: every mistake an operator can make is refused with the option's name.

#include "control/ha/config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "control/interfaces.h"

namespace rtprelay::ha {
namespace {

class group_config_test : public ::testing::Test {
 protected:
    void SetUp() override {
        char tmpl[] = "/tmp/ha_config_test.XXXXXX";
        dir_ = mkdtemp(tmpl);
        key_ = write("key", std::string(64, 'a') + "\n", 0600);
        ifs_.add(parse_interface("ext address=198.18.1.1/24,198.18.1.3/24,2001:2:1::1/64 dpdk-port=0", 1));
        opt_.group = "tokyo";
        opt_.node = "node-1";
        opt_.redis = "127.0.0.1:6390";
        opt_.key_file = key_;
        opt_.home_addresses = {"198.18.1.1"};
    }
    void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

    std::string write(const std::string& name, const std::string& text, mode_t mode) {
        const std::string p = dir_ + "/" + name;
        std::ofstream(p) << text;
        chmod(p.c_str(), mode);
        return p;
    }
    void expect_refused(const std::string& option) {
        try {
            make_group_config(opt_, ifs_);
            ADD_FAILURE() << "accepted; expected a complaint about --" << option;
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find("'--" + option + "'"), std::string::npos) << e.what();
        }
    }

    std::string dir_;
    std::string key_;
    interface_set ifs_;
    group_options opt_;
};

TEST_F(group_config_test, a_valid_group) {
    opt_.lease_ms = 800;
    const group_config c = make_group_config(opt_, ifs_);
    EXPECT_EQ(c.group, "tokyo");
    EXPECT_EQ(c.node, "node-1");
    EXPECT_EQ(c.redis.host, "127.0.0.1");
    EXPECT_EQ(c.redis.port, 6390);
    EXPECT_FALSE(c.key.empty());
    EXPECT_EQ(c.lease, std::chrono::milliseconds(800));
    ASSERT_EQ(c.home_addresses.size(), 1u);
}

TEST_F(group_config_test, sentinels_and_credentials) {
    opt_.redis.clear();
    opt_.sentinels = {"127.0.0.1:26379", "[::1]:26380", "sentinel-3:26381"};
    opt_.user = "rtprelay";
    opt_.password_file = write("pw", "s3cret\nignored\n", 0600);
    const group_config c = make_group_config(opt_, ifs_);
    ASSERT_EQ(c.sentinels.size(), 3u);
    EXPECT_EQ(c.sentinels[1].host, "::1");
    EXPECT_EQ(c.sentinels[1].port, 26380);
    EXPECT_EQ(c.sentinels[2].host, "sentinel-3");
    EXPECT_EQ(c.password, "s3cret");
}

TEST_F(group_config_test, names) {
    opt_.group = "tok yo";
    expect_refused("group");
    opt_.group = "tokyo";
    opt_.node = "node:1";
    expect_refused("node");
}

TEST_F(group_config_test, redis_addresses) {
    opt_.redis.clear();
    expect_refused("redis");  // neither
    opt_.redis = "127.0.0.1:6390";
    opt_.sentinels = {"127.0.0.1:26379"};
    expect_refused("redis");  // both
    opt_.sentinels.clear();
    for (const char* bad : {"127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", ":6379", "::1:6379", "[::1]6379"}) {
        opt_.redis = bad;
        expect_refused("redis");
    }
    opt_.redis.clear();
    opt_.sentinels = {"127.0.0.1:26379", "nope"};
    expect_refused("sentinel");
}

TEST_F(group_config_test, key_file) {
    opt_.key_file.clear();
    expect_refused("group-key-file");
    opt_.key_file = dir_ + "/missing";
    expect_refused("group-key-file");
    opt_.key_file = write("short", std::string(63, 'a'), 0600);
    expect_refused("group-key-file");
    opt_.key_file = write("world", std::string(64, 'a'), 0644);
    expect_refused("group-key-file");  // readable by every user
}

TEST_F(group_config_test, password_file) {
    opt_.user = "rtprelay";
    expect_refused("redis-user");  // a user without a password
    opt_.password_file = write("empty", "\n", 0600);
    expect_refused("redis-password-file");
    opt_.password_file = write("pw", "x", 0604);
    expect_refused("redis-password-file");
}

TEST_F(group_config_test, home_addresses_and_times) {
    opt_.home_addresses = {"198.18.9.9"};
    expect_refused("home-addresses");
    opt_.home_addresses = {"2001:2:1::2"};
    expect_refused("home-addresses");
    opt_.home_addresses = {"not an address"};
    expect_refused("home-addresses");
    opt_.home_addresses = {"2001:0002:0001:0000::0001", "198.18.1.3"};
    const group_config six = make_group_config(opt_, ifs_);
    ASSERT_EQ(six.home_addresses.size(), 2u);
    EXPECT_EQ(six.home_addresses[0], "2001:2:1::1") << "an IPv6 address in another form, as the interface has it";
    EXPECT_EQ(six.home_addresses[1], "198.18.1.3");
    opt_.lease_ms = 100;
    expect_refused("lease-ms");
    opt_.lease_ms = 600;
    opt_.redis_timeout_ms = 400;
    expect_refused("redis-timeout-ms");
    opt_.redis_timeout_ms = 250;
    opt_.queue = 1;
    expect_refused("redis-queue");
}

// Floating NG addresses, IPv4 or IPv6: --ng-listen must be one of them (this node's own);
// a missing prefix, prefix 0, a link-local or a media address is refused.
TEST_F(group_config_test, floating_ng_addresses) {
    opt_.ng_float_interface = "eth1";
    opt_.ng_float_addresses = {"2001:2:0:19::11/64", "2001:2:0:19::12/64"};
    opt_.ng_listen = "[2001:2:0:19:0::12]:2223";
    group_config c = make_group_config(opt_, ifs_);
    ASSERT_EQ(c.ng_float.size(), 2u);
    EXPECT_FALSE(c.ng_float[0].base.is_v4());
    EXPECT_EQ(c.ng_float[1].prefix, 64);
    EXPECT_EQ(c.ng_float_home, "2001:2:0:19::12");  // the lease key's spelling
    EXPECT_EQ(c.ng_port, 2223);
    opt_.ng_float_addresses = {"198.19.0.11/24", "2001:2:0:19::12/64"};  // both families in one group
    EXPECT_EQ(make_group_config(opt_, ifs_).ng_float.size(), 2u);
    opt_.ng_listen = "198.19.0.11:2223";
    c = make_group_config(opt_, ifs_);
    EXPECT_EQ(c.ng_float_home, "198.19.0.11");
    for (const char* bad : {"2001:2:0:19::11", "2001:2:0:19::11/0", "2001:2:0:19::11/129", "fe80::11/64",
                            "2001:2:1::1/64", "2001:2:0:19::12/64"}) {
        opt_.ng_float_addresses = {"198.19.0.11/24", "2001:2:0:19::12/64", bad};
        expect_refused("ng-float-addresses");
    }
    opt_.ng_float_addresses = {"2001:2:0:19::11/64"};
    opt_.ng_listen = "[2001:2:0:19::12]:2223";
    expect_refused("ng-listen");
}

// libsrtp2 keeps its SRTP indices to itself: a node on it could neither write them into its
// records nor start above a dead peer's, so a group refuses it before anything starts.
TEST_F(group_config_test, srtp_engine) {
    opt_.srtp_engine = "libsrtp2";
    expect_refused("srtp-engine");
    try {
        make_group_config(opt_, ifs_);
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("keystream reuse"), std::string::npos) << e.what();
    }
    opt_.srtp_engine = "native";
    EXPECT_NO_THROW(make_group_config(opt_, ifs_));
}

}  // namespace
}  // namespace rtprelay::ha
