// The NG delete and query reply (reply_call_stats) byte for byte, for a call in its full
// shape: totals, tags in dialogue and one without a partner, an RTP port with its RTCP port,
// an rtcp-mux SRTP port latched to an IPv6 source with no SDP address, a refused m= line
// with no ports. Kamailio's and OpenSIPS's rtpengine modules and rtpengine-ng-client parse
// these bytes; the expected text was produced by the reply builder before it was made
// cheaper, so any change of a key, a value or the order shows here.

#include "control/ng/replies.h"

#include <gtest/gtest.h>

#include <string>

namespace rtprelay::ng {
namespace {

endpoint ep(const char* addr, uint16_t port) { return endpoint{*ip_address::parse(addr), port}; }

call_report full_call() {
    call_report c;
    c.created_unix = 1733580000;
    c.rtp = {2100, 361200, 3};
    c.rtcp = {14, 1120, 0};

    port_report rtp;
    rtp.local_port = 30000;
    rtp.local_address = *ip_address::parse("198.18.1.1");
    rtp.peer = ep("198.51.100.77", 4000);  // latched behind a NAT
    rtp.advertised = ep("198.51.100.10", 4000);
    rtp.counts = {1000, 172000, 2};
    port_report rtcp = rtp;
    rtcp.rtcp = true;
    rtcp.local_port = 30001;
    rtcp.peer = ep("198.51.100.10", 4001);
    rtcp.advertised = rtcp.peer;
    rtcp.counts = {7, 560, 0};

    port_report mux;
    mux.local_port = 40000;
    mux.local_address = *ip_address::parse("2001:db8::1");
    mux.rtcp_mux = true;
    mux.srtp = true;
    mux.peer = ep("2001:db8:5::20", 5000);
    mux.counts = {1100, 189200, 1};

    leg_report from{"from1", "external", "to1", {}};
    from.medias.push_back(media_report{1, "audio", "RTP/AVP", {rtp, rtcp}});
    from.medias.push_back(media_report{2, "video", "RTP/AVP", {}});
    leg_report to{"to1", "internal", "from1", {}};
    to.medias.push_back(media_report{1, "audio", "RTP/SAVP", {mux}});
    leg_report branch{"branch2", "internal", std::nullopt, {}};
    c.legs = {from, to, branch};
    return c;
}

TEST(replies, call_stats_byte_for_byte) {
    const std::string expected =
        "d7:createdi1733580000e6:result2:ok4:tagsd"
        "7:branch2d9:interface8:internal6:mediasle3:tag7:branch2e"
        "5:from1d16:in dialogue with3:to19:interface8:external6:mediasl"
        "d5:indexi1e8:protocol7:RTP/AVP7:streamsl"
        "d19:advertised endpointd7:address13:198.51.100.106:family4:IPv44:porti4000ee8:endpointd7:address13:1"
        "98.51.100.776:family4:IPv44:porti4000ee5:flagsl3:RTPe13:local address10:198.18.1.110:local porti3000"
        "0e5:statsd5:bytesi172000e6:errorsi2e7:packetsi1000eee"
        "d19:advertised endpointd7:address13:198.51.100.106:family4:IPv44:porti4001ee8:endpointd7:address13:1"
        "98.51.100.106:family4:IPv44:porti4001ee5:flagsl4:RTCPe13:local address10:198.18.1.110:local porti300"
        "01e5:statsd5:bytesi560e6:errorsi0e7:packetsi7eeee4:type5:audioe"
        "d5:indexi2e8:protocol7:RTP/AVP7:streamsle4:type5:videoee3:tag5:from1e"
        "3:to1d16:in dialogue with5:from19:interface8:internal6:mediasl"
        "d5:indexi1e8:protocol8:RTP/SAVP7:streamsl"
        "d19:advertised endpointde8:endpointd7:address14:2001:db8:5::206:family4:IPv64:porti5000ee5:flagsl3:R"
        "TP8:RTCP-mux4:SRTPe13:local address11:2001:db8::110:local porti40000e5:statsd5:bytesi189200e6:errors"
        "i1e7:packetsi1100eeee4:type5:audioee3:tag3:to1ee"
        "6:totalsd4:RTCPd5:bytesi1120e6:errorsi0e7:packetsi14ee3:RTPd5:bytesi361200e6:errorsi3e7:packetsi2100"
        "eeee";
    EXPECT_EQ(encode(reply_call_stats(full_call())), expected);
}

}  // namespace
}  // namespace rtprelay::ng
