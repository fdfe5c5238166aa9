#include "control/recording/policy.h"

#include <gtest/gtest.h>

#include "control/interfaces.h"

namespace rtprelay::recording {
namespace {

TEST(recording_policy, names_round_trip) {
    for (mode m : {mode::off, mode::from_answer, mode::from_ringing}) {
        EXPECT_EQ(parse_mode(mode_name(m)), m);
    }
    for (channels c : {channels::mixed, channels::dual}) {
        EXPECT_EQ(parse_channels(channels_name(c)), c);
    }
    EXPECT_EQ(parse_mode("none"), mode::off);
    EXPECT_FALSE(parse_mode("from-ring"));
    EXPECT_FALSE(parse_channels("stereo"));
}

TEST(recording_policy, the_earliest_leg_wins_and_the_node_fills_in) {
    const policy node{mode::from_answer, channels::mixed};
    EXPECT_EQ(resolve(node, {}, {}).when, mode::from_answer);
    EXPECT_EQ(resolve(node, {}, {}).layout, channels::mixed);
    EXPECT_EQ(resolve(node, {mode::off, {}}, {mode::off, {}}).when, mode::off);
    EXPECT_EQ(resolve(node, {mode::off, {}}, {}).when, mode::from_answer);
    EXPECT_EQ(resolve(node, {mode::from_ringing, {}}, {mode::off, {}}).when, mode::from_ringing);
    EXPECT_EQ(resolve(node, {{}, channels::dual}, {}).layout, channels::dual);
    EXPECT_EQ(resolve({{}, channels::dual}, {{}, channels::mixed}, {}).layout, channels::mixed)
        << "an interface's word before the node's";
    EXPECT_EQ(resolve({}, {{}, channels::mixed}, {{}, channels::dual}).layout, channels::dual);
    EXPECT_EQ(resolve({}, {}, {}).when, mode::off);
    EXPECT_EQ(resolve({}, {}, {}).layout, channels::dual);
}

TEST(recording_policy, interface_lines_take_recording_keys) {
    const logical_interface i = parse_interface(
        "a address=198.18.0.1/24 dpdk-port=0 recording=from-ringing "
        "recording-channels=mixed",
        1);
    EXPECT_EQ(i.recording.when, mode::from_ringing);
    EXPECT_EQ(i.recording.layout, channels::mixed);
    EXPECT_FALSE(parse_interface("a address=198.18.0.1/24 dpdk-port=0", 1).recording.when);
    try {
        parse_interface("a address=198.18.0.1/24 dpdk-port=0 recording=always", 1);
        FAIL() << "accepted recording=always";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "interface 'a': recording 'always' must be off, from-answer or from-ringing");
    }
    EXPECT_THROW(parse_interface("a address=198.18.0.1/24 dpdk-port=0 recording-channels=4", 1), std::invalid_argument);
}

}  // namespace
}  // namespace rtprelay::recording
