#include "dataplane/classify.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include "tests/dataplane/classify_fixture.h"
#include "tests/dataplane/test_packets.h"

namespace rtprelay::dp {
namespace {

using test::bytes;
using test::frame_spec;
using test::ip4;

class classify_test : public test::classify_fixture {
 protected:
    void SetUp() override {
        locals_.add(ours_, rx_port, 0);
        locals_.add(on_other_port_, rx_port + 1, 0);
        spec_.src_ip = ip4(198, 18, 0, 10);
        spec_.dst_ip = ours_;
        spec_.src_port = 4000;
        spec_.dst_port = 30000;
        spec_.payload = bytes(172, 0xab);
    }

    const uint32_t ours_ = ip4(198, 18, 1, 1);
    const uint32_t on_other_port_ = ip4(198, 18, 2, 1);
    frame_spec spec_;
};

TEST_F(classify_test, udp_fills_key_in_network_order) {
    const classified c = run(test::udp_frame(spec_));
    ASSERT_EQ(c.cls, packet_class::udp);
    EXPECT_EQ(key_.local_addr, ours_);
    EXPECT_EQ(key_.local_port, rte_cpu_to_be_16(30000));
    EXPECT_EQ(key_.v6_slot, 0);  // hashed whole: must be cleared
    EXPECT_EQ(l2_len_, 14);
    EXPECT_EQ(l3_len_, 20);
}

TEST_F(classify_test, udp_behind_vlan_and_ip_options) {
    spec_.vlan = 100;
    spec_.ip_options = 2;
    const classified c = run(test::udp_frame(spec_));
    ASSERT_EQ(c.cls, packet_class::udp);
    EXPECT_EQ(l2_len_, 18);
    EXPECT_EQ(l3_len_, 28);
    EXPECT_EQ(key_.local_port, rte_cpu_to_be_16(30000));
}

TEST_F(classify_test, udp_to_any_address_is_left_to_the_flow_lookup) {
    // The flow table decides (unknown port vs not for us); classify must not drop it.
    spec_.dst_ip = ip4(203, 0, 113, 5);
    ASSERT_EQ(run(test::udp_frame(spec_)).cls, packet_class::udp);
    EXPECT_EQ(key_.local_addr, ip4(203, 0, 113, 5));
}

TEST_F(classify_test, ethernet_padding_after_the_ip_packet_is_fine) {
    spec_.payload.clear();
    bytes f = test::udp_frame(spec_);  // 42 bytes
    f.resize(60, 0);                   // minimum Ethernet frame
    EXPECT_EQ(run(f).cls, packet_class::udp);
}

TEST_F(classify_test, zero_udp_checksum_is_accepted) {
    spec_.udp_checksum = false;
    EXPECT_EQ(run(test::udp_frame(spec_)).cls, packet_class::udp);
}

TEST_F(classify_test, arp_untagged_and_tagged) {
    EXPECT_EQ(run(test::arp_request_frame(test::mac(1), ip4(198, 18, 1, 10), ours_, 0)).cls, packet_class::arp);
    EXPECT_EQ(l2_len_, 14);
    EXPECT_EQ(run(test::arp_request_frame(test::mac(1), ip4(198, 18, 1, 10), ours_, 7)).cls, packet_class::arp);
    EXPECT_EQ(l2_len_, 18);
}

TEST_F(classify_test, icmp_echo_to_our_address) {
    const classified c = run(test::icmp_frame(spec_, 8, 1, 1));
    EXPECT_EQ(c.cls, packet_class::icmp_echo);
    EXPECT_EQ(l3_len_, 20);
}

TEST_F(classify_test, short_frame) { EXPECT_EQ(dropped(bytes(13, 0)), drop_reason::malformed_l2); }

TEST_F(classify_test, vlan_header_cut_short) {
    bytes f = test::udp_frame(spec_);
    f[12] = 0x81;
    f[13] = 0x00;
    f.resize(16);  // 802.1Q ethertype but only half the tag
    EXPECT_EQ(dropped(f), drop_reason::malformed_l2);
}

TEST_F(classify_test, non_ip_ethertype) {
    bytes f = test::udp_frame(spec_);
    f[12] = 0x88;  // PTP
    f[13] = 0xf7;
    EXPECT_EQ(dropped(f), drop_reason::unsupported_l3);
    f[12] = 0x86;  // IPv6, but an IPv4 header behind it
    f[13] = 0xdd;
    EXPECT_EQ(dropped(f), drop_reason::malformed_ip);
    spec_.vlan = 5;
    f = test::udp_frame(spec_);
    f[16] = 0x88;  // LLDP behind a VLAN tag
    f[17] = 0xcc;
    EXPECT_EQ(dropped(f), drop_reason::unsupported_l3);
}

TEST_F(classify_test, ip_header_cut_short) {
    bytes f = test::udp_frame(spec_);
    f.resize(14 + 19);
    EXPECT_EQ(dropped(f), drop_reason::malformed_ip);
}

TEST_F(classify_test, bad_ip_version) {
    bytes f = test::udp_frame(spec_);
    f[14] = 0x65;  // version 6, IHL 5
    test::fix_ip_checksum(f, 14);
    EXPECT_EQ(dropped(f), drop_reason::malformed_ip);
}

TEST_F(classify_test, bad_ihl) {
    bytes f = test::udp_frame(spec_);
    f[14] = 0x44;  // IHL 4: 16 bytes, less than a header
    test::fix_ip_checksum(f, 14);
    EXPECT_EQ(dropped(f), drop_reason::malformed_ip);
}

TEST_F(classify_test, ip_total_length_beyond_frame) {
    bytes f = test::udp_frame(spec_);
    const uint16_t total = static_cast<uint16_t>(f.size() - 14 + 1);
    f[16] = static_cast<uint8_t>(total >> 8);
    f[17] = static_cast<uint8_t>(total);
    test::fix_ip_checksum(f, 14);
    EXPECT_EQ(dropped(f), drop_reason::malformed_ip);
}

TEST_F(classify_test, ip_total_length_below_header_length) {
    bytes f = test::udp_frame(spec_);
    f[16] = 0;
    f[17] = 19;
    test::fix_ip_checksum(f, 14);
    EXPECT_EQ(dropped(f), drop_reason::malformed_ip);
}

TEST_F(classify_test, bad_ip_header_checksum) {
    bytes f = test::udp_frame(spec_);
    f[14 + 10] ^= 0x01;
    EXPECT_EQ(dropped(f), drop_reason::malformed_ip);
    // A changed field without a fixed checksum is caught too (a corrupt destination
    // must not steer the packet).
    f = test::udp_frame(spec_);
    f[14 + 19] ^= 0x40;
    EXPECT_EQ(dropped(f), drop_reason::malformed_ip);
}

TEST_F(classify_test, fragments) {
    bytes f = test::udp_frame(spec_);
    f[20] = 0x20;  // MF, offset 0: first fragment
    f[21] = 0x00;
    test::fix_ip_checksum(f, 14);
    EXPECT_EQ(dropped(f), drop_reason::ip_fragment);
    f[20] = 0x00;  // no MF, offset 185 * 8: last fragment
    f[21] = 185;
    test::fix_ip_checksum(f, 14);
    EXPECT_EQ(dropped(f), drop_reason::ip_fragment);
    f[20] = 0x40;  // DF alone is not a fragment
    f[21] = 0x00;
    test::fix_ip_checksum(f, 14);
    EXPECT_EQ(run(f).cls, packet_class::udp);
}

TEST_F(classify_test, udp_length_overruns_ip_payload) {
    bytes f = test::udp_frame(spec_);
    const uint16_t ulen = static_cast<uint16_t>(8 + spec_.payload.size() + 1);
    f[14 + 20 + 4] = static_cast<uint8_t>(ulen >> 8);
    f[14 + 20 + 5] = static_cast<uint8_t>(ulen);
    EXPECT_EQ(dropped(f), drop_reason::malformed_udp);
}

TEST_F(classify_test, udp_length_below_header) {
    bytes f = test::udp_frame(spec_);
    f[14 + 20 + 4] = 0;
    f[14 + 20 + 5] = 7;
    EXPECT_EQ(dropped(f), drop_reason::malformed_udp);
}

TEST_F(classify_test, ip_payload_too_short_for_udp_header) {
    spec_.payload = bytes(4, 0);
    const bytes f = test::ip_frame(spec_, IPPROTO_UDP);  // 4 bytes of "UDP"
    EXPECT_EQ(dropped(f), drop_reason::malformed_udp);
}

TEST_F(classify_test, icmp_other_than_echo_to_us) {
    EXPECT_EQ(dropped(test::icmp_frame(spec_, 0, 1, 1)), drop_reason::unsupported_l4);  // echo reply
    EXPECT_EQ(dropped(test::icmp_frame(spec_, 3, 1, 1)), drop_reason::unsupported_l4);  // unreachable
}

TEST_F(classify_test, icmp_echo_cut_below_icmp_header) {
    spec_.payload = bytes(7, 0x08);  // type 8 but only 7 bytes of ICMP
    EXPECT_EQ(dropped(test::ip_frame(spec_, IPPROTO_ICMP)), drop_reason::unsupported_l4);
}

TEST_F(classify_test, tcp_to_us) {
    spec_.payload = bytes(20, 0);
    EXPECT_EQ(dropped(test::ip_frame(spec_, IPPROTO_TCP)), drop_reason::unsupported_l4);
}

TEST_F(classify_test, non_udp_to_someone_else_is_not_for_us) {
    spec_.dst_ip = ip4(203, 0, 113, 5);
    EXPECT_EQ(dropped(test::icmp_frame(spec_, 8, 1, 1)), drop_reason::not_for_us);
    spec_.payload = bytes(20, 0);
    EXPECT_EQ(dropped(test::ip_frame(spec_, IPPROTO_TCP)), drop_reason::not_for_us);
}

TEST_F(classify_test, non_udp_to_a_group_address_is_link_multicast) {
    // IGMP to all-hosts and an ICMP echo to the broadcast MAC: the link's chatter, kept apart
    // from not_for_us (unicast that is not ours: misrouting, or an address a peer now holds).
    spec_.dst_ip = ip4(224, 0, 0, 1);
    spec_.dst_mac = rte_ether_addr{{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}};
    spec_.payload = bytes(8, 0);
    EXPECT_EQ(dropped(test::ip_frame(spec_, IPPROTO_IGMP)), drop_reason::link_multicast);
    spec_.dst_ip = ip4(198, 18, 1, 255);
    spec_.dst_mac = rte_ether_addr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
    EXPECT_EQ(dropped(test::icmp_frame(spec_, 8, 1, 1)), drop_reason::link_multicast);
}

TEST_F(classify_test, our_address_on_another_port_is_not_ours_here) {
    // Addresses belong to a DPDK port: a ping for port 4's address arriving on port 3 is
    // not answered.
    spec_.dst_ip = on_other_port_;
    EXPECT_EQ(dropped(test::icmp_frame(spec_, 8, 1, 1)), drop_reason::not_for_us);
}

}  // namespace
}  // namespace rtprelay::dp
