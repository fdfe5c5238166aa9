// The NG delete and query reply (reply_call_stats) byte for byte, for a call in its full
// shape: totals, tags in dialogue and one without a partner, an RTP port with its RTCP port,
// an rtcp-mux SRTP port latched to an IPv6 source with no SDP address, a refused m= line
// with no ports. Kamailio's and OpenSIPS's rtpengine modules and rtpengine-ng-client parse
// these bytes; the expected text was produced by the reply builder before it was made
// cheaper, so any change of a key, a value or the order shows here. Its variants likewise
// (expected texts from the tree-built reply of main 0b4bf03): a query with a recording, a
// warning, tags out of order and repeated, a call without legs.

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

// rtpengine's query reply with this relay's "recording" (control/recording's describe()):
// the key sorts between "created" and "result", not at the end.
value recording_of_call() {
    value files = value::dict();
    files.set("pcap", value::str("/var/spool/rtprelay/c1-0001.pcap"));
    files.set("metadata", value::str("/var/spool/rtprelay/done/c1-0001.json"));
    files.set("done", value::str("/var/spool/rtprelay/done/c1-0001"));
    value r = value::dict();
    r.set("state", value::str("recording"));
    r.set("policy", value::str("always"));
    r.set("channels", value::str("mixed"));
    r.set("files", std::move(files));
    r.set("started by", value::str("record-call"));
    r.set("recording id", value::str("c1"));
    r.set("part", value::integer(1));
    r.set("finished", value::list({value::str("/var/spool/rtprelay/done/c1-0000")}));
    return r;
}

// One plain leg, so that the variants below stay short.
call_report small_call() {
    call_report c;
    c.created_unix = 1733580001;
    c.rtp = {5, 800, 0};
    port_report p;
    p.local_port = 30002;
    p.local_address = *ip_address::parse("198.18.1.1");
    p.rtcp_mux = true;
    p.counts = {5, 800, 0};
    leg_report l{"ft", "external", std::nullopt, {}};
    l.medias.push_back(media_report{1, "audio", "RTP/AVP", {p}});
    c.legs = {l};
    return c;
}

TEST(replies, query_with_a_recording_byte_for_byte) {
    const std::string expected =
        "d7:createdi1733580001e9:recordingd8:channels5:mixed5:filesd4:done32:/var/spool/rtprelay/done/c1-0001"
        "8:metadata37:/var/spool/rtprelay/done/c1-0001.json4:pcap32:/var/spool/rtprelay/c1-0001.pcape8:finish"
        "edl32:/var/spool/rtprelay/done/c1-0000e4:parti1e6:policy6:always12:recording id2:c110:started by11:r"
        "ecord-call5:state9:recordinge6:result2:ok4:tagsd2:ftd9:interface8:external6:mediasld5:indexi1e8:prot"
        "ocol7:RTP/AVP7:streamsld19:advertised endpointde8:endpointde5:flagsl3:RTP8:RTCP-muxe13:local address"
        "10:198.18.1.110:local porti30002e5:statsd5:bytesi800e6:errorsi0e7:packetsi5eeee4:type5:audioee3:tag2"
        ":ftee6:totalsd4:RTCPd5:bytesi0e6:errorsi0e7:packetsi0ee3:RTPd5:bytesi800e6:errorsi0e7:packetsi5eeee";
    EXPECT_EQ(encode(reply_query(query_report{small_call(), recording_of_call()})), expected);
}

TEST(replies, query_without_a_recording_is_the_delete_reply) {
    EXPECT_EQ(encode(reply_query(query_report{full_call(), std::nullopt})), encode(reply_call_stats(full_call())));
}

// commands.cc adds "warning" after the handler built the reply (a delete-delay that is no
// number of seconds, an unknown key): the greatest key of the reply, so it is written last.
TEST(replies, call_stats_with_a_warning_byte_for_byte) {
    const std::string expected =
        "d7:createdi1733580001e9:recordingd8:channels5:mixed5:filesd4:done32:/var/spool/rtprelay/done/c1-0001"
        "8:metadata37:/var/spool/rtprelay/done/c1-0001.json4:pcap32:/var/spool/rtprelay/c1-0001.pcape8:finish"
        "edl32:/var/spool/rtprelay/done/c1-0000e4:parti1e6:policy6:always12:recording id2:c110:started by11:r"
        "ecord-call5:state9:recordinge6:result2:ok4:tagsd2:ftd9:interface8:external6:mediasld5:indexi1e8:prot"
        "ocol7:RTP/AVP7:streamsld19:advertised endpointde8:endpointde5:flagsl3:RTP8:RTCP-muxe13:local address"
        "10:198.18.1.110:local porti30002e5:statsd5:bytesi800e6:errorsi0e7:packetsi5eeee4:type5:audioee3:tag2"
        ":ftee6:totalsd4:RTCPd5:bytesi0e6:errorsi0e7:packetsi0ee3:RTPd5:bytesi800e6:errorsi0e7:packetsi5eee7:"
        "warning76:delete-delay 'soon' is not a number of seconds: the configured delay appliese";
    reply v = reply_query(query_report{small_call(), recording_of_call()});
    v.set_warning("delete-delay 'soon' is not a number of seconds: the configured delay applies");
    EXPECT_EQ(encode(v), expected);
}

// Tags are dict keys: in byte order whatever the legs' order ("" and upper case first, a
// prefix before its extensions); of two legs with one tag the later one is the one replied.
TEST(replies, tags_in_byte_order_and_a_repeated_tag) {
    call_report c;
    c.created_unix = -5;
    c.rtp = {UINT64_MAX, 0, 0};
    for (const char* tag : {"ab", "a", "", "B", "ab"}) {
        leg_report l{tag, std::string("if-") + tag, std::nullopt, {}};
        l.medias.push_back(media_report{l.interface.size(), "audio", "RTP/AVP", {}});
        c.legs.push_back(l);
    }
    c.legs.back().interface = "the later one";
    const std::string expected =
        "d7:createdi-5e6:result2:ok4:tagsd0:d9:interface3:if-6:mediasld5:indexi3e8:protocol7:RTP/AVP7:streams"
        "le4:type5:audioee3:tag0:e1:Bd9:interface4:if-B6:mediasld5:indexi4e8:protocol7:RTP/AVP7:streamsle4:ty"
        "pe5:audioee3:tag1:Be1:ad9:interface4:if-a6:mediasld5:indexi4e8:protocol7:RTP/AVP7:streamsle4:type5:a"
        "udioee3:tag1:ae2:abd9:interface13:the later one6:mediasld5:indexi5e8:protocol7:RTP/AVP7:streamsle4:t"
        "ype5:audioee3:tag2:abee6:totalsd4:RTCPd5:bytesi0e6:errorsi0e7:packetsi0ee3:RTPd5:bytesi0e6:errorsi0e"
        "7:packetsi-1eeee";
    EXPECT_EQ(encode(reply_call_stats(c)), expected);
}

TEST(replies, a_call_without_legs_byte_for_byte) {
    const std::string expected =
        "d7:createdi0e6:result2:ok4:tagsde6:totalsd4:RTCPd5:bytesi0e6:errorsi0e7:packetsi0ee3:RTPd5:bytesi0e6"
        ":errorsi0e7:packetsi0eeee";
    EXPECT_EQ(encode(reply_call_stats(call_report{})), expected);
}

}  // namespace
}  // namespace rtprelay::ng
