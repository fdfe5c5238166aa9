#include "control/address.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <random>
#include <string>

namespace rtprelay {
namespace {

std::string ntop4(const ip_address& a) {
    char buf[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, a.bytes.data(), buf, sizeof(buf));
    return buf;
}

TEST(ip_address, v4_to_string_matches_inet_ntop) {
    for (const char* text : {"0.0.0.0", "255.255.255.255", "198.18.1.1", "10.0.100.9", "1.20.199.250", "100.99.10.0"}) {
        const auto a = ip_address::parse(text);
        ASSERT_TRUE(a) << text;
        EXPECT_EQ(a->to_string(), text);
    }
    std::mt19937 rng(5);
    for (int i = 0; i < 10000; ++i) {
        const ip_address a = ip_address::from_v4_be(rng());
        EXPECT_EQ(a.to_string(), ntop4(a));
    }
}

TEST(ip_address, v6_to_string) {
    const auto a = ip_address::parse("2001:db8::1");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->to_string(), "2001:db8::1");
    EXPECT_EQ(ip_address::parse("::")->to_string(), "::");
    // from_v6 takes the 16 bytes as they are: the same value as parsing the text.
    const ip_address b = ip_address::from_v6(a->bytes.data());
    EXPECT_FALSE(b.is_v4());
    EXPECT_EQ(b, *a);
}

TEST(endpoint, to_string) {
    EXPECT_EQ((endpoint{*ip_address::parse("198.18.0.7"), 10000}.to_string()), "198.18.0.7:10000");
    EXPECT_EQ((endpoint{*ip_address::parse("2001:db8::2"), 5}.to_string()), "[2001:db8::2]:5");
}

}  // namespace
}  // namespace rtprelay
