// Stage 2 for IPv6 (dataplane/classify.cc, classify6): what an IPv6 frame is, from frames
// built byte by byte (test_packets6.h).

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include <cstring>

#include "dataplane/classify.h"
#include "tests/dataplane/classify_fixture.h"
#include "tests/dataplane/test_packets6.h"

namespace rtprelay::dp {
namespace {

using test::addr6;
using test::bytes;
using test::frame_spec6;
using test::ip6;

class classify6_test : public test::classify_fixture {
 protected:
    void SetUp() override {
        locals_.add(test::ip4(198, 18, 1, 1), rx_port, 0);
        for (const auto& [a, port] : {std::pair{ours_, rx_port}, std::pair{on_other_port_, uint16_t(rx_port + 1)}}) {
            local_address la{0, port, 0};
            la.v6 = true;
            std::memcpy(la.addr6, a.data(), 16);
            ASSERT_TRUE(locals_.add(la));
        }
        spec_.src_ip = ip6("2001:2:a::10");
        spec_.dst_ip = ours_;
        spec_.src_port = 4000;
        spec_.dst_port = 30000;
        spec_.payload = bytes(172, 0xab);
    }

    const addr6 ours_ = ip6("2001:2:1::1");
    const addr6 on_other_port_ = ip6("2001:2:2::1");
    frame_spec6 spec_;
};

TEST_F(classify6_test, udp_to_our_address_names_it_by_slot) {
    const classified c = run(test::udp6_frame(spec_));
    ASSERT_EQ(c.cls, packet_class::udp);
    EXPECT_EQ(key_.local_addr, 0u);
    EXPECT_EQ(key_.local_port, rte_cpu_to_be_16(30000));
    EXPECT_EQ(key_.v6_slot, 2) << "the IPv6 address is the second local address";
    EXPECT_EQ(key_.v6_slot, locals_.slot6(rx_port, ours_.data()));
    EXPECT_EQ(l2_len_, 14);
    EXPECT_EQ(l3_len_, 40);
}

TEST_F(classify6_test, udp_behind_vlan) {
    spec_.vlan = 42;
    ASSERT_EQ(run(test::udp6_frame(spec_)).cls, packet_class::udp);
    EXPECT_EQ(l2_len_, 18);
    EXPECT_EQ(l3_len_, 40);
}

TEST_F(classify6_test, to_a_multicast_group_is_link_multicast) {
    // mDNS (ff02::fb) and an MLDv2 report's destination (ff02::16): link chatter.
    spec_.dst_mac = rte_ether_addr{{0x33, 0x33, 0x00, 0x00, 0x00, 0xfb}};
    spec_.dst_ip = ip6("ff02::fb");
    EXPECT_EQ(dropped(test::udp6_frame(spec_)), drop_reason::link_multicast);
    spec_.dst_mac = rte_ether_addr{{0x33, 0x33, 0x00, 0x00, 0x00, 0x16}};
    spec_.dst_ip = ip6("ff02::16");
    EXPECT_EQ(dropped(test::icmp6_frame(spec_, 143, 0, bytes{0, 0, 0, 0})), drop_reason::link_multicast);
}

TEST_F(classify6_test, udp_to_an_address_not_ours_or_on_another_port) {
    spec_.dst_ip = ip6("2001:2:1::99");
    EXPECT_EQ(dropped(test::udp6_frame(spec_)), drop_reason::not_for_us);
    spec_.dst_ip = on_other_port_;
    EXPECT_EQ(dropped(test::udp6_frame(spec_)), drop_reason::not_for_us);
}

TEST_F(classify6_test, udp_without_checksum_is_dropped) {
    spec_.udp_checksum = false;
    EXPECT_EQ(dropped(test::udp6_frame(spec_)), drop_reason::udp6_no_checksum);
}

TEST_F(classify6_test, ethernet_padding_after_the_packet_is_fine) {
    spec_.payload.clear();
    bytes f = test::udp6_frame(spec_);  // 62 bytes
    f.resize(80, 0);
    EXPECT_EQ(run(f).cls, packet_class::udp);
}

TEST_F(classify6_test, malformed_headers) {
    bytes f = test::udp6_frame(spec_);
    EXPECT_EQ(dropped(bytes(f.begin(), f.begin() + 14 + 39)), drop_reason::malformed_ip) << "header cut short";
    bytes v = f;
    v[14] = 0x45;  // version 4 behind the IPv6 ethertype
    EXPECT_EQ(dropped(v), drop_reason::malformed_ip);
    bytes longer = f;
    longer[14 + 4] = 0x01;  // payload length past the frame
    EXPECT_EQ(dropped(longer), drop_reason::malformed_ip);
    bytes ulen = f;
    ulen[14 + 40 + 4] = 0x01;  // UDP length past the IPv6 payload
    ulen[14 + 40 + 5] = 0x00;
    EXPECT_EQ(dropped(ulen), drop_reason::malformed_udp);
    bytes tiny = f;
    tiny[14 + 40 + 4] = 0;  // UDP length 4
    tiny[14 + 40 + 5] = 4;
    EXPECT_EQ(dropped(tiny), drop_reason::malformed_udp);
    spec_.payload.clear();
    bytes short_udp = test::udp6_frame(spec_);
    short_udp.resize(14 + 40 + 4);
    short_udp[14 + 4] = 0;
    short_udp[14 + 5] = 4;  // payload length 4: no room for a UDP header
    EXPECT_EQ(dropped(short_udp), drop_reason::malformed_udp);
}

TEST_F(classify6_test, extension_headers_are_dropped_by_reason) {
    spec_.ext = bytes(8, 0);  // one 8-byte header: next header, length 0, 6 bytes of padding
    spec_.ext[2] = 1;         // PadN
    spec_.ext[3] = 4;
    for (const uint8_t type : {0, 43, 60}) {  // hop-by-hop, routing, destination options
        spec_.ext_type = type;
        EXPECT_EQ(dropped(test::udp6_frame(spec_)), drop_reason::ipv6_extension) << int(type);
    }
    spec_.ext_type = 44;  // fragment
    EXPECT_EQ(dropped(test::udp6_frame(spec_)), drop_reason::ip_fragment);
}

TEST_F(classify6_test, other_protocols) {
    spec_.payload = bytes(20, 0);
    EXPECT_EQ(dropped(test::ip6_frame(spec_, IPPROTO_TCP)), drop_reason::unsupported_l4);
    EXPECT_EQ(dropped(test::ip6_frame(spec_, 59)), drop_reason::unsupported_l4);  // no next header
    // ICMPv6 other than echo and neighbour discovery (destination unreachable, router advert).
    EXPECT_EQ(dropped(test::icmp6_frame(spec_, 1, 0, bytes(4, 0))), drop_reason::unsupported_l4);
    EXPECT_EQ(dropped(test::icmp6_frame(spec_, 134, 0, bytes(12, 0))), drop_reason::unsupported_l4);
}

TEST_F(classify6_test, echo_request_to_our_address) {
    EXPECT_EQ(run(test::icmp6_frame(spec_, 128, 0, bytes{0, 1, 0, 1, 'h', 'i'})).cls, packet_class::icmp6_echo);
    EXPECT_EQ(l3_len_, 40);
    EXPECT_EQ(dropped(test::icmp6_frame(spec_, 128, 1, bytes{0, 1, 0, 1})), drop_reason::unsupported_l4) << "code 1";
    spec_.dst_ip = ip6("2001:2:1::99");
    EXPECT_EQ(dropped(test::icmp6_frame(spec_, 128, 0, bytes{0, 1, 0, 1})), drop_reason::not_for_us);
}

TEST_F(classify6_test, neighbour_discovery_goes_to_the_control_plane) {
    spec_.hop_limit = 255;
    spec_.dst_ip = test::solicited_node(ours_);
    spec_.dst_mac = test::group_mac(spec_.dst_ip);
    EXPECT_EQ(run(test::ns_frame(spec_, ours_)).cls, packet_class::nd) << "solicitation to the solicited-node group";
    spec_.dst_ip = ours_;
    EXPECT_EQ(run(test::na_frame(spec_, spec_.src_ip, spec_.src_mac, true)).cls, packet_class::nd);
    spec_.dst_ip = ip6("ff02::1");
    EXPECT_EQ(run(test::na_frame(spec_, spec_.src_ip, spec_.src_mac, false)).cls, packet_class::nd);
    // RFC 4861 7.1: a router on the way lowered the hop limit: not from this link.
    spec_.hop_limit = 254;
    EXPECT_EQ(dropped(test::ns_frame(spec_, ours_)), drop_reason::nd_not_on_link);
}

}  // namespace
}  // namespace rtprelay::dp
