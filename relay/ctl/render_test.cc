#include "relay/ctl/render.h"

#include <gtest/gtest.h>

namespace rtprelay::ctl {
namespace {

using ng::value;

value stats(int64_t p, int64_t b, int64_t e) {
    value v = value::dict();
    v.set("packets", value::integer(p));
    v.set("bytes", value::integer(b));
    v.set("errors", value::integer(e));
    return v;
}

value endpoint(const char* addr, int64_t port) {
    value v = value::dict();
    v.set("family", value::str("IPv4"));
    v.set("address", value::str(addr));
    v.set("port", value::integer(port));
    return v;
}

value stream(const char* local, int64_t port, value ep, value st) {
    value v = value::dict();
    v.set("local address", value::str(local));
    v.set("local port", value::integer(port));
    v.set("endpoint", std::move(ep));
    v.set("stats", std::move(st));
    return v;
}

value tag(const char* name, const char* iface, value streams) {
    value m = value::dict();
    m.set("index", value::integer(1));
    m.set("type", value::str("audio"));
    m.set("protocol", value::str("RTP/AVP"));
    m.set("streams", std::move(streams));
    value t = value::dict();
    t.set("tag", value::str(name));
    t.set("interface", value::str(iface));
    t.set("medias", value::list({std::move(m)}));
    return t;
}

value query_reply() {
    value tags = value::dict();
    tags.set("alice", tag("alice", "a",
                          value::list({stream("198.18.1.1", 10000, endpoint("198.18.1.2", 30000), stats(50, 8600, 0)),
                                       stream("198.18.1.1", 10001, endpoint("198.18.1.2", 30001), stats(5, 140, 1))})));
    tags.set("bob", tag("bob", "b", value::list({stream("198.18.2.1", 10002, value::dict(), stats(0, 0, 0))})));
    value totals = value::dict();
    totals.set("RTP", stats(50, 8600, 0));
    totals.set("RTCP", stats(5, 140, 1));
    value r = value::dict();
    r.set("result", value::str("ok"));
    r.set("created", value::integer(1700000000));
    r.set("tags", std::move(tags));
    r.set("totals", std::move(totals));
    return r;
}

TEST(render_query, table_per_stream_and_totals) {
    EXPECT_EQ(
        render_query("call-1", query_reply(), 1700000000 + 75),
        "call call-1, created 2023-11-14 22:13:20 UTC (1 min 15 s ago)\n"
        "\n"
        "TAG    INTERFACE  MEDIA    PROTOCOL  STREAM  LOCAL             ENDPOINT          PACKETS  BYTES  ERRORS\n"
        "alice  a          1 audio  RTP/AVP   rtp     198.18.1.1:10000  198.18.1.2:30000       50   8600       0\n"
        "alice  a          1 audio  RTP/AVP   rtcp    198.18.1.1:10001  198.18.1.2:30001        5    140       1\n"
        "bob    b          1 audio  RTP/AVP   rtp     198.18.2.1:10002  -                       0      0       0\n"
        "\n"
        "TOTALS  PACKETS  BYTES  ERRORS\n"
        "RTP          50   8600       0\n"
        "RTCP          5    140       1\n");
}

TEST(render_query, recording_state_and_files) {
    value reply = query_reply();
    value r = value::dict();
    r.set("state", value::str("paused"));
    r.set("policy", value::str("from-answer"));
    r.set("channels", value::str("dual"));
    r.set("started by", value::str("policy"));
    value f = value::dict();
    f.set("pcap", value::str("/rec/x.pcap"));
    f.set("done", value::str("/rec/done/x"));
    r.set("files", std::move(f));
    value fin = value::list();
    fin.as_list().push_back(value::str("/rec/done/earlier"));
    r.set("finished", std::move(fin));
    reply.set("recording", std::move(r));
    const std::string out = render_query("call-1", reply, 1700000000);
    EXPECT_NE(out.find("\nrecording: paused (policy from-answer, dual channels, started by policy)\n"
                       "  pcap      /rec/x.pcap\n"
                       "  done      /rec/done/x (.pcap .json .wav when finished)\n"
                       "  finished  /rec/done/earlier\n"),
              std::string::npos)
        << out;
    EXPECT_EQ(render_query("call-1", query_reply(), 1700000000).find("recording"), std::string::npos);
}

TEST(render_delete, confirmation_and_totals) {
    const std::string out = render_delete("call-1", query_reply());
    EXPECT_EQ(out.rfind("deleted call call-1\n", 0), 0U);
    EXPECT_NE(out.find("RTP          50   8600       0\n"), std::string::npos);
}

TEST(render_list, ids_and_limit_note) {
    value r = value::dict();
    r.set("calls", value::list({value::str("a"), value::str("b")}));
    EXPECT_EQ(render_list(r, 10), "a\nb\n");
    EXPECT_EQ(render_list(r, 2), "a\nb\n(the first 2 calls; --limit shows more)\n");
    r.set("calls", value::list());
    EXPECT_EQ(render_list(r, 10), "no calls\n");
}

// Data plane counters in worker_counters.def's order (unknown ones after), a row per worker,
// and each drop reason that dropped anything with its meaning from drop_reasons.def.
TEST(render_statistics, counters_nonzero_drops_and_ports) {
    value drops = value::dict();
    drops.set("unknown_port", value::integer(3));
    drops.set("bad_checksum", value::integer(0));
    drops.set("from_a_newer_daemon", value::integer(2));
    value dp = value::dict();
    dp.set("rx packets", value::integer(110));
    dp.set("relayed rtp", value::integer(100));
    dp.set("dropped", value::integer(3));
    dp.set("new counter", value::integer(9));
    dp.set("drops", std::move(drops));
    value w0 = value::dict();
    w0.set("worker", value::integer(0));
    w0.set("polls", value::integer(1000));
    w0.set("busy polls", value::integer(70));
    w0.set("busy ns", value::integer(1500000));
    value w1 = value::dict();
    w1.set("worker", value::integer(1));
    w1.set("polls", value::integer(990));
    w1.set("busy polls", value::integer(40));
    dp.set("workers", value::list({std::move(w0), std::move(w1)}));
    value addr = value::dict();
    addr.set("address", value::str("198.18.1.1"));
    addr.set("ports free", value::integer(4999));
    addr.set("ports used", value::integer(1));
    value iface = value::dict();
    iface.set("name", value::str("a"));
    iface.set("addresses", value::list({std::move(addr)}));
    value closed = value::dict();
    closed.set("deleted", value::integer(4));
    closed.set("timeout", value::integer(0));
    value refused = value::dict();
    refused.set("ports", value::integer(0));
    value s = value::dict();
    s.set("calls closed", std::move(closed));
    s.set("refused", std::move(refused));
    s.set("sessions", value::integer(1));
    s.set("calls created", value::integer(2));
    s.set("dataplane", std::move(dp));
    s.set("interfaces", value::list({std::move(iface)}));
    value r = value::dict();
    r.set("statistics", std::move(s));
    EXPECT_EQ(render_statistics(r),
              "sessions\n"
              "  sessions       1\n"
              "  calls created  2\n"
              "\n"
              "calls closed\n"
              "  deleted  4\n"
              "\n"
              "refused\n"
              "  none\n"
              "\n"
              "data plane\n"
              "  rx packets   110\n"
              "  relayed rtp  100\n"
              "  dropped        3\n"
              "  new counter    9\n"
              "\n"
              "WORKER  POLLS  BUSY POLLS  BUSY NS\n"
              "     0   1000          70  1500000\n"
              "     1    990          40        0\n"
              "\n"
              "DROP REASON          PACKETS  MEANING\n"
              "from_a_newer_daemon        2\n"
              "unknown_port               3  no flow on this local address and port\n"
              "\n"
              "INTERFACE  ADDRESS     PORTS FREE  PORTS USED\n"
              "a          198.18.1.1        4999           1\n");
}

// Bencode dicts are sorted by key: so are the rows. Commands never asked are left out.
TEST(render_statistics, ng_requests_and_server_counters) {
    auto row = [](int64_t ok, int64_t error, int64_t limit) {
        value v = value::dict();
        v.set("ok", value::integer(ok));
        v.set("error", value::integer(error));
        v.set("load limit", value::integer(limit));
        return v;
    };
    value req = value::dict();
    req.set("ping", row(2, 0, 0));
    req.set("offer", row(30, 1, 4));
    req.set("query", row(0, 0, 0));
    value server = value::dict();
    server.set("requests", value::integer(37));
    server.set("cache hits", value::integer(0));
    server.set("ignored not allowed", value::integer(5));
    value s = value::dict();
    s.set("sessions", value::integer(0));
    s.set("ng requests", std::move(req));
    s.set("ng server", std::move(server));
    value r = value::dict();
    r.set("statistics", std::move(s));
    EXPECT_EQ(render_statistics(r),
              "sessions\n"
              "  sessions  0\n"
              "\n"
              "ng server\n"
              "  ignored not allowed   5\n"
              "  requests             37\n"
              "\n"
              "NG COMMAND  OK  ERROR  LOAD LIMIT\n"
              "offer       30      1           4\n"
              "ping         2      0           0\n"
              "\n"
              "no interfaces\n");
}

TEST(endpoint_text, v4_v6_and_empty) {
    EXPECT_EQ(endpoint_text(endpoint("198.18.1.2", 5)), "198.18.1.2:5");
    EXPECT_EQ(endpoint_text(endpoint("2001:db8::1", 5)), "[2001:db8::1]:5");
    EXPECT_EQ(endpoint_text(value::dict()), "-");
}

}  // namespace
}  // namespace rtprelay::ctl
