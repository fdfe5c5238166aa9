#include "bench/loadgen/call_teardown.h"

#include <gtest/gtest.h>

#include "bench/loadgen/call_setup.h"

namespace rtprelay::loadgen {
namespace {

using ng::value;

TEST(call_teardown, sums_rtpengine_query_totals) {
    value rtp = value::dict();
    rtp.set("packets", value::integer(500)).set("bytes", value::integer(80000));
    value rtcp = value::dict();
    rtcp.set("packets", value::integer(2));  // bytes and errors missing
    value totals = value::dict();
    totals.set("RTP", rtp).set("RTCP", rtcp);
    value reply = value::dict();
    reply.set("result", value::str("ok")).set("totals", totals);

    relay_totals t;
    add_query_reply(reply, &t);
    add_query_reply(reply, &t);
    EXPECT_EQ(t.rtp_packets, 1000u);
    EXPECT_EQ(t.rtp_bytes, 160000u);
    EXPECT_EQ(t.rtp_errors, 0u);
    EXPECT_EQ(t.rtcp_packets, 4u);
}

TEST(call_teardown, tolerates_replies_without_totals) {
    value reply = value::dict();
    reply.set("result", value::str("ok")).set("totals", value::str("odd"));
    relay_totals t;
    add_query_reply(reply, &t);
    add_query_reply(value::list(), &t);
    EXPECT_EQ(t.rtp_packets, 0u);
}

TEST(call_setup, reply_failure_reasons) {
    value ok = value::dict();
    ok.set("result", value::str("ok"));
    EXPECT_EQ(reply_failure(&ok), "");
    value err = value::dict();
    err.set("result", value::str("error")).set("error-reason", value::str("Ran out of ports"));
    EXPECT_EQ(reply_failure(&err), "Ran out of ports");
    value limit = value::dict();
    limit.set("result", value::str("load limit"));
    EXPECT_EQ(reply_failure(&limit), "result: load limit");
    EXPECT_EQ(reply_failure(nullptr), "reply is not a dictionary");
}

}  // namespace
}  // namespace rtprelay::loadgen
