#include "bench/loadgen/options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lg = rtprelay::loadgen;

namespace {

lg::parse_outcome parse(std::vector<std::string> args, lg::options* out) {
    args.insert(args.begin(), "rtprelay-loadgen");
    std::vector<char*> argv;
    for (std::string& a : args) {
        argv.push_back(a.data());
    }
    return lg::parse_options(static_cast<int>(argv.size()), argv.data(), out);
}

const std::vector<std::string> dpdk_base = {
    "--dpdk", "--eal=--no-pci --no-huge", "--addr-a", "198.18.1.2", "--addr-b", "198.18.2.2"};

std::vector<std::string> with(std::vector<std::string> more) {
    std::vector<std::string> v = dpdk_base;
    v.insert(v.end(), more.begin(), more.end());
    return v;
}

}  // namespace

TEST(LoadgenOptions, DpdkModeParsesItsOptions) {
    lg::options o;
    ASSERT_EQ(parse(with({"--dpdk-port-a", "0", "--dpdk-port-b", "1", "--dpdk-udp-port", "30000", "--relay-mac",
                          "02:00:00:00:00:01", "--dpdk-idle-sleep-us", "20"}),
                    &o),
              lg::parse_outcome::run);
    EXPECT_TRUE(o.dpdk);
    EXPECT_EQ(o.eal, "--no-pci --no-huge");
    EXPECT_EQ(o.dpdk_port_b, 1u);
    EXPECT_EQ(o.dpdk_udp_port, 30000u);
    EXPECT_EQ(o.relay_mac, "02:00:00:00:00:01");
    EXPECT_EQ(o.dpdk_idle_sleep_us, 20u);
}

TEST(LoadgenOptions, DpdkModeRefusesWhatItCannotDo) {
    lg::options o;
    EXPECT_EQ(parse(with({"--rtcp"}), &o), lg::parse_outcome::exit_error);
    EXPECT_EQ(parse(with({"--ns-a", "x", "--ns-b", "y"}), &o), lg::parse_outcome::exit_error);
    // The sides' addresses: IPv4, and two different ones.
    EXPECT_EQ(parse({"--dpdk", "--addr-a", "198.18.1.2", "--addr-b", "198.18.1.2"}, &o), lg::parse_outcome::exit_error);
    EXPECT_EQ(parse({"--dpdk", "--addr-a", "2001:db8::1", "--addr-b", "198.18.2.2"}, &o),
              lg::parse_outcome::exit_error);
    EXPECT_EQ(parse({"--dpdk", "--addr-a", "198.18.1.2", "--addr-b", "198.18.2.2"}, &o), lg::parse_outcome::run);
    EXPECT_EQ(parse(with({"--relay-mac", "02:00:00:00:00"}), &o), lg::parse_outcome::exit_error);
    EXPECT_EQ(parse(with({"--dpdk-port-a", "64"}), &o), lg::parse_outcome::exit_error);
    EXPECT_EQ(parse(with({"--dpdk-udp-port", "65500"}), &o), lg::parse_outcome::exit_error);
    EXPECT_EQ(parse(with({"--dpdk-mbufs", "100"}), &o), lg::parse_outcome::exit_error);
    // Without --dpdk the same addresses and --rtcp are fine (sockets).
    EXPECT_EQ(parse({"--rtcp", "--addr-a", "127.0.0.1", "--addr-b", "127.0.0.1"}, &o), lg::parse_outcome::run);
    EXPECT_FALSE(o.dpdk);
}

TEST(LoadgenOptions, DpdkQueuesAreAPowerOfTwoUpToTheRelaysWorkers) {
    lg::options o;
    ASSERT_EQ(parse(with({}), &o), lg::parse_outcome::run);
    EXPECT_EQ(o.dpdk_queues, 1u) << "one queue pair unless asked";
    ASSERT_EQ(parse(with({"--dpdk-queues", "2"}), &o), lg::parse_outcome::run);
    EXPECT_EQ(o.dpdk_queues, 2u);
    ASSERT_EQ(parse(with({"--dpdk-queues", "16"}), &o), lg::parse_outcome::run);
    for (const char* bad : {"0", "3", "6", "32", "-1"}) {
        EXPECT_EQ(parse(with({"--dpdk-queues", bad}), &o), lg::parse_outcome::exit_error) << bad;
    }
    // rtprelay-wire forwards queue 0 only.
    EXPECT_EQ(parse(with({"--dpdk-queues", "2", "--dpdk-wire", "--dpdk-port-b", "1"}), &o),
              lg::parse_outcome::exit_error);
    EXPECT_EQ(parse(with({"--dpdk-queues", "1", "--dpdk-wire", "--dpdk-port-b", "1"}), &o), lg::parse_outcome::run);
}

TEST(LoadgenOptions, PlotNeedsARampAndAnSvgOrPngName) {
    lg::options o;
    EXPECT_EQ(parse({"--ramp", "--plot", "ramp.svg"}, &o), lg::parse_outcome::run);
    EXPECT_EQ(o.plot, "ramp.svg");
    EXPECT_EQ(parse({"--ramp", "--plot", "/tmp/x/ramp.png", "--plot-title", "rtprelay"}, &o), lg::parse_outcome::run);
    EXPECT_EQ(o.plot_title, "rtprelay");
    lg::options bad;
    EXPECT_EQ(parse({"--plot", "ramp.svg"}, &bad), lg::parse_outcome::exit_error) << "no --ramp";
    EXPECT_EQ(parse({"--ramp", "--plot", "ramp.pdf"}, &bad), lg::parse_outcome::exit_error);
    EXPECT_EQ(parse({"--ramp", "--plot", ".svg"}, &bad), lg::parse_outcome::exit_error);
}

TEST(LoadgenOptions, NgTakesAListOfNodes) {
    lg::options o;
    ASSERT_EQ(parse({"--ng", "198.19.0.1:2223,198.19.0.2:2223,198.19.0.3:2223"}, &o), lg::parse_outcome::run);
    EXPECT_EQ(o.ng, "198.19.0.1:2223");
    EXPECT_EQ(o.ng_more, (std::vector<std::string>{"198.19.0.2:2223", "198.19.0.3:2223"}));
    lg::options one;
    ASSERT_EQ(parse({"--ng", "127.0.0.1:2223"}, &one), lg::parse_outcome::run);
    EXPECT_TRUE(one.ng_more.empty());
    lg::options bad;
    EXPECT_EQ(parse({"--ng", "127.0.0.1:2223,nowhere"}, &bad), lg::parse_outcome::exit_error);
    EXPECT_EQ(parse({"--ng", "127.0.0.1:2223,"}, &bad), lg::parse_outcome::exit_error);
}

TEST(LoadgenOptions, SrtpMixStandsAlone) {
    lg::options o;
    ASSERT_EQ(parse({"--srtp-mix", "--json", "--per-call"}, &o), lg::parse_outcome::run);
    EXPECT_TRUE(o.srtp_mix);
    EXPECT_TRUE(o.per_call);
    lg::options bad;
    EXPECT_EQ(parse({"--srtp-mix", "--srtp"}, &bad), lg::parse_outcome::exit_error);
    EXPECT_EQ(parse({"--srtp-mix", "--rtcp"}, &bad), lg::parse_outcome::exit_error);
    EXPECT_EQ(parse({"--per-call"}, &bad), lg::parse_outcome::exit_error);  // rows are JSON
    EXPECT_EQ(parse({"--srtp-mix", "--rtp-srtp"}, &bad), lg::parse_outcome::exit_error);
}

TEST(LoadgenOptions, EachSrtpOptionChoosesTheLegs) {
    lg::options plain;
    ASSERT_EQ(parse({}, &plain), lg::parse_outcome::run);
    EXPECT_EQ(plain.legs(), lg::leg_mode::plain);
    EXPECT_FALSE(plain.any_srtp());
    lg::options both;
    ASSERT_EQ(parse({"--srtp"}, &both), lg::parse_outcome::run);
    EXPECT_EQ(both.legs(), lg::leg_mode::srtp);
    lg::options bridged;
    ASSERT_EQ(parse({"--rtp-srtp"}, &bridged), lg::parse_outcome::run);
    EXPECT_EQ(bridged.legs(), lg::leg_mode::rtp_srtp);
    EXPECT_TRUE(bridged.any_srtp());
    lg::options mix;
    ASSERT_EQ(parse({"--srtp-mix"}, &mix), lg::parse_outcome::run);
    EXPECT_EQ(mix.legs(), lg::leg_mode::mix);
    lg::options bad;
    EXPECT_EQ(parse({"--rtp-srtp", "--srtp"}, &bad), lg::parse_outcome::exit_error);
    EXPECT_EQ(parse({"--rtp-srtp", "--rtcp"}, &bad), lg::parse_outcome::exit_error);
}

// The DPDK generator runs every leg combination against a relay; a wire (no relay) cannot
// turn RTP into SRTP, so there only --srtp or plain make sense.
TEST(LoadgenOptions, DpdkTakesBridgedCallsButAWireDoesNot) {
    lg::options o;
    ASSERT_EQ(parse(with({"--rtp-srtp"}), &o), lg::parse_outcome::run);
    EXPECT_TRUE(o.dpdk);
    EXPECT_EQ(o.legs(), lg::leg_mode::rtp_srtp);
    lg::options mix;
    ASSERT_EQ(parse(with({"--srtp-mix"}), &mix), lg::parse_outcome::run);
    EXPECT_EQ(mix.legs(), lg::leg_mode::mix);
    lg::options wire;
    ASSERT_EQ(parse(with({"--srtp", "--dpdk-wire", "--dpdk-port-b", "1"}), &wire), lg::parse_outcome::run);
    lg::options bad;
    EXPECT_EQ(parse(with({"--rtp-srtp", "--dpdk-wire", "--dpdk-port-b", "1"}), &bad), lg::parse_outcome::exit_error);
    EXPECT_EQ(parse(with({"--srtp-mix", "--dpdk-wire", "--dpdk-port-b", "1"}), &bad), lg::parse_outcome::exit_error);
}
