#pragma once
// The NG golden harness: an offer or answer request (bencoded both ways, as from Kamailio)
// carrying the SDP of tests/golden/ng/<case>.{offer,answer}.in.sdp goes through
// ng::commands::handle, and the reply's SDP must equal <case>.{offer,answer}.out.sdp byte for
// byte once the relay's keys are masked (inline:<base64> -> inline:<KEY>). Ports are not
// masked: every interface here owns exactly one port pair, so allocation is deterministic.
// The NG keys of each case (direction, transport-protocol, SDES flags, rtcp-mux) are in its
// test.
//
// Every key the relay writes is checked on its own (40 base64 characters, 30 bytes), no key
// of any input SDP may appear in any output, and where a call is set up the flow table's
// SRTP contexts can be checked against the keys in the SDP: a packet protected with the key
// the SDP names must pass the context, and the reverse.
//
// RTPRELAY_UPDATE_GOLDEN=1 (re)writes the .out.sdp files; review every one by hand.

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "control/interfaces.h"
#include "control/ng/bencode.h"
#include "control/ng/commands.h"
#include "control/publish/publisher.h"
#include "control/session/manager.h"
#include "dataplane/flow_entry.h"
#include "dataplane/flow_table.h"
#include "dataplane/neighbour_table.h"
#include "dataplane/srtp/srtp.h"
#include "tests/support/control_rig.h"

namespace rtprelay::ng_golden {

namespace fs = std::filesystem;
using dp::srtp::suite;
using ng::value;

// --- Golden files ---------------------------------------------------------------------

// tests/golden/ng in the source tree. Meson compiles this file as a path relative to the
// build directory, so that directory is found by walking up from the test binary until
// the path names this file.
inline fs::path golden_dir() {
    static const fs::path dir = [] {
        const fs::path self = __FILE__;
        if (self.is_absolute()) {
            return (self.parent_path() / "../../golden/ng").lexically_normal();
        }
        std::error_code ec;
        for (fs::path p = fs::canonical("/proc/self/exe", ec).parent_path(); !p.empty(); p = p.parent_path()) {
            if (fs::exists(p / self, ec)) {
                return (fs::weakly_canonical(p / self, ec).parent_path() / "../../golden/ng").lexically_normal();
            }
            if (p == p.root_path()) {
                break;
            }
        }
        return fs::path();
    }();
    return dir;
}

inline bool update_golden() {
    const char* v = std::getenv("RTPRELAY_UPDATE_GOLDEN");
    return v != nullptr && std::string_view(v) == "1";
}

// Binary, so CRLF survives. Empty (and a test failure) when the file cannot be read.
inline std::string read_golden(const std::string& file) {
    std::ifstream in(golden_dir() / file, std::ios::binary);
    EXPECT_TRUE(in.good()) << "cannot read " << (golden_dir() / file)
                           << " (RTPRELAY_UPDATE_GOLDEN=1 writes missing .out.sdp files)";
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_golden(const std::string& file, const std::string& contents) {
    std::ofstream out(golden_dir() / file, std::ios::binary | std::ios::trunc);
    out << contents;
    EXPECT_TRUE(out.good()) << "cannot write " << (golden_dir() / file);
}

// CR and LF made visible, for failure messages.
inline std::string visible(const std::string& text) {
    std::string out;
    for (const char c : text) {
        out += c == '\r' ? std::string("\\r") : c == '\n' ? std::string("\\n\n") : std::string(1, c);
    }
    return out;
}

// Every case with files in tests/golden/ng; a file of no case there is a test failure.
constexpr std::string_view known_cases[] = {
    "answer_plain_optional",
    "answer_plain_required",
    "answer_renumbered_tag",
    "lifetime_2_49",
    "mki_line_dropped",
    "mki_only",
    "offer_suites_two",
    "plain_to_savp",
    "reoffer_keeps_keys",
    "required_plain_offer",
    "savp_32_first",
    "sdes_no_80",
    "sdes_only_32",
    "sdes_only_32_default_policy",
    "srtp_off_b",
    "video_port0",
    "rtcp_mux_default",
    "rtcp_mux_unoffered",
    "rtcp_mux_demux",
    "rtcp_mux_reject",
    "rtcp_mux_accept",
    "rtcp_mux_require",
    "sdes_stream_refused",
    "sdes_all_streams_refused",
    "sdes_answer_stream_refused",
    "fec_order_default",
    "gcm_256_first",
    "aes256_and_gcm_offered",
    "mki_accepted",
};

// --- Keys and lines in SDP text -------------------------------------------------------

constexpr std::string_view inline_prefix = "inline:";

inline bool is_base64_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
           c == '=';
}

// The base64 text after every "inline:", in order.
inline std::vector<std::string> inline_keys(const std::string& sdp) {
    std::vector<std::string> out;
    for (size_t at = sdp.find(inline_prefix); at != std::string::npos; at = sdp.find(inline_prefix, at)) {
        at += inline_prefix.size();
        size_t end = at;
        while (end < sdp.size() && is_base64_char(sdp[end])) {
            ++end;
        }
        out.push_back(sdp.substr(at, end - at));
        at = end;
    }
    return out;
}

inline std::string mask_keys(const std::string& sdp) {
    std::string out;
    size_t from = 0;
    for (size_t at = sdp.find(inline_prefix); at != std::string::npos; at = sdp.find(inline_prefix, at)) {
        at += inline_prefix.size();
        out.append(sdp, from, at - from);
        out += "<KEY>";
        while (at < sdp.size() && is_base64_char(sdp[at])) {
            ++at;
        }
        from = at;
    }
    out.append(sdp, from, std::string::npos);
    return out;
}

// Standard base64, '=' padding optional; null on any other character or a dangling bit
// group. Written here rather than taken from the relay, so that it checks the relay.
inline std::optional<std::vector<uint8_t>> base64_decode(std::string_view text) {
    while (!text.empty() && text.back() == '=') {
        text.remove_suffix(1);
    }
    std::vector<uint8_t> out;
    uint32_t bits = 0;
    int nbits = 0;
    for (const char c : text) {
        int v = -1;
        if (c >= 'A' && c <= 'Z') {
            v = c - 'A';
        } else if (c >= 'a' && c <= 'z') {
            v = c - 'a' + 26;
        } else if (c >= '0' && c <= '9') {
            v = c - '0' + 52;
        } else if (c == '+') {
            v = 62;
        } else if (c == '/') {
            v = 63;
        } else {
            return std::nullopt;
        }
        bits = (bits << 6) | static_cast<uint32_t>(v);
        nbits += 6;
        if (nbits >= 8) {
            nbits -= 8;
            out.push_back(static_cast<uint8_t>(bits >> nbits));
            bits &= (1u << nbits) - 1;
        }
    }
    if (nbits >= 6) {
        return std::nullopt;  // one character left over: not a whole byte
    }
    return out;
}

// The value of every line starting with `prefix`, without the prefix and the line end.
inline std::vector<std::string> lines_with(const std::string& sdp, std::string_view prefix) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start < sdp.size()) {
        size_t end = sdp.find('\n', start);
        end = end == std::string::npos ? sdp.size() : end;
        std::string_view line(sdp.data() + start, end - start);
        if (line.ends_with('\r')) {
            line.remove_suffix(1);
        }
        if (line.starts_with(prefix)) {
            out.emplace_back(line.substr(prefix.size()));
        }
        start = end + 1;
    }
    return out;
}

struct crypto_line {
    std::string tag;
    std::string suite_name;
    std::string key;  // base64, without lifetime/MKI
    std::string mki;  // "<value>:<length>" after the key, or empty
};

inline std::vector<crypto_line> crypto_lines(const std::string& sdp) {
    std::vector<crypto_line> out;
    for (const std::string& v : lines_with(sdp, "a=crypto:")) {
        crypto_line c;
        const size_t sp1 = v.find(' ');
        const size_t sp2 = v.find(' ', sp1 + 1);
        c.tag = v.substr(0, sp1);
        c.suite_name = v.substr(sp1 + 1, sp2 - sp1 - 1);
        const auto keys = inline_keys(v);
        c.key = keys.empty() ? std::string() : keys.front();
        // key-info: key ["|" lifetime] ["|" mki ":" length] (RFC 4568 9.2)
        const std::string key_params = v.substr(sp2 + 1, v.find(' ', sp2 + 1) - sp2 - 1);
        for (size_t bar = key_params.find('|'); bar != std::string::npos; bar = key_params.find('|', bar + 1)) {
            const std::string field = key_params.substr(bar + 1, key_params.find('|', bar + 1) - bar - 1);
            if (field.find(':') != std::string::npos) {
                c.mki = field;
            }
        }
        out.push_back(c);
    }
    return out;
}

inline suite suite_of(const std::string& name) {
    const auto s = dp::srtp::suite_from_name(name);
    EXPECT_TRUE(s.has_value()) << name;
    return s.value_or(suite::aes_cm_128_hmac_sha1_80);
}

// The key, salt and MKI of a line, decoded independently of control/sdes.
inline dp::srtp::master_key master_key_of(const crypto_line& line) {
    const dp::srtp::suite_info& si = dp::srtp::info(suite_of(line.suite_name));
    dp::srtp::master_key k{};
    const auto raw = base64_decode(line.key);
    EXPECT_TRUE(raw && raw->size() == size_t{si.master_key_len} + si.master_salt_len) << line.key;
    if (raw && raw->size() == size_t{si.master_key_len} + si.master_salt_len) {
        std::copy_n(raw->begin(), si.master_key_len, k.key.begin());
        std::copy_n(raw->begin() + si.master_key_len, si.master_salt_len, k.salt.begin());
    }
    if (!line.mki.empty()) {
        const size_t colon = line.mki.find(':');
        const uint64_t value = std::stoull(line.mki.substr(0, colon));
        k.mki_len = static_cast<uint8_t>(std::stoul(line.mki.substr(colon + 1)));
        for (size_t i = 0; i < k.mki_len; ++i) {
            k.mki[i] = static_cast<uint8_t>(value >> (8 * (k.mki_len - 1 - i)));
        }
    }
    return k;
}

constexpr std::string_view s80 = "AES_CM_128_HMAC_SHA1_80";
constexpr std::string_view s32 = "AES_CM_128_HMAC_SHA1_32";

// --- NG requests ----------------------------------------------------------------------

using ng_keys = std::vector<std::pair<std::string, value>>;

inline value strings(std::initializer_list<const char*> items) {
    value l = value::list();
    for (const char* s : items) {
        l.as_list().push_back(value::str(s));
    }
    return l;
}

inline value direction(const char* offerer_side, const char* answerer_side) {
    return strings({offerer_side, answerer_side});
}

inline std::string result_of(const value& v) {
    const auto r = v.find_string("result");
    return r ? std::string(*r) : std::string("<none>");
}
inline std::string reason_of(const value& v) {
    const auto r = v.find_string("error-reason");
    return r ? std::string(*r) : std::string();
}
inline std::string sdp_of(const value& v) {
    const auto r = v.find_string("sdp");
    return r ? std::string(*r) : std::string();
}

inline const std::string from_tag = "from-a";
inline const std::string to_tag = "to-b";

class ng_golden_test : public ::testing::Test, protected test::control_rig {
 protected:
    void SetUp() override {
        ASSERT_FALSE(golden_dir().empty()) << "tests/golden/ng not found from " << __FILE__;
        // One port pair per interface: the ports in the golden files are the only ones.
        // a: the offerer's side; the others face the answerer, each with its own policy.
        interfaces_.add(parse_interface("a address=198.18.1.1/24 dpdk-port=0 ports=30000-30001", 1));
        interfaces_.add(parse_interface("b address=198.18.2.1/24 dpdk-port=1 ports=40000-40001", 2));
        interfaces_.add(parse_interface("req address=198.18.3.1/24 dpdk-port=1 ports=42000-42001 srtp=required", 3));
        interfaces_.add(parse_interface("off address=198.18.4.1/24 dpdk-port=1 ports=44000-44001 srtp=off", 4));
        // Two port pairs each, for calls with two streams.
        interfaces_.add(parse_interface("a2 address=198.18.6.1/24 dpdk-port=0 ports=32000-32003", 6));
        interfaces_.add(parse_interface("b2 address=198.18.7.1/24 dpdk-port=1 ports=48000-48003", 7));
        interfaces_.add(
            parse_interface("two address=198.18.5.1/24 dpdk-port=1 ports=46000-46001 "
                            "offer-suites=AES_CM_128_HMAC_SHA1_32,AES_CM_128_HMAC_SHA1_80",
                            5));
        interfaces_.add(parse_interface("mki address=198.18.8.1/24 dpdk-port=0 ports=52000-52001 mki=accept", 8));
        interfaces_.add(
            parse_interface("strong address=198.18.9.1/24 dpdk-port=1 ports=50000-50001 "
                            "offer-suites=AES_256_CM_HMAC_SHA1_32,AEAD_AES_128_GCM",
                            9));
        start();
    }

    void TearDown() override {
        // The relay never hands one leg's key to the other: no input key in any output.
        for (const std::string& out : outputs_) {
            for (const std::string& k : input_keys_) {
                EXPECT_EQ(out.find(k), std::string::npos) << "input key " << k << " leaked into\n" << visible(out);
            }
        }
    }

    // The rig's round trip, keeping every ok reply's SDP for TearDown's key check.
    value handle(const value& req) {
        value back = control_rig::handle(req);
        if (result_of(back) == "ok") {
            outputs_.push_back(sdp_of(back));
        }
        return back;
    }

    std::string input(const std::string& file) {
        const std::string sdp = read_golden(file);
        for (auto& k : inline_keys(sdp)) {
            input_keys_.push_back(std::move(k));
        }
        return sdp;
    }

    value request(const char* command, const std::string& kase, const std::string& sdp, const ng_keys& keys) {
        value r = value::dict();
        r.set("command", value::str(command));
        r.set("call-id", value::str(kase));
        r.set("from-tag", value::str(from_tag));
        r.set("sdp", value::str(sdp));
        for (const auto& [k, v] : keys) {
            r.set(k, v);
        }
        return r;
    }

    // The offer of <kase>.offer.in.sdp from the caller (from-tag from-a).
    value offer(const std::string& kase, const ng_keys& keys) {
        return handle(request("offer", kase, input(kase + ".offer.in.sdp"), keys));
    }
    // The callee's answer <kase>.answer.in.sdp (to-tag to-b).
    value answer(const std::string& kase, const ng_keys& keys = {}) {
        value r = request("answer", kase, input(kase + ".answer.in.sdp"), keys);
        r.set("to-tag", value::str(to_tag));
        return handle(r);
    }

    // offer() / answer() of `kase` whose reply must match <kase>.{offer,answer}.out.sdp
    // (expect_golden); the reply, for the case's own checks.
    value golden_offer(const std::string& kase, const ng_keys& keys) {
        value o = offer(kase, keys);
        expect_golden(kase + ".offer.out.sdp", o);
        return o;
    }
    value golden_answer(const std::string& kase, const ng_keys& keys = {}) {
        value a = answer(kase, keys);
        expect_golden(kase + ".answer.out.sdp", a);
        return a;
    }

    // The reply is ok and its SDP, keys masked, equals `file`; every key the relay wrote
    // is a well-formed key of its suite's length (30 bytes for AES_CM_128), without padding.
    void expect_golden(const std::string& file, const value& reply) {
        ASSERT_EQ(result_of(reply), "ok") << reason_of(reply);
        const std::string sdp = sdp_of(reply);
        for (const crypto_line& l : crypto_lines(sdp)) {
            const dp::srtp::suite_info& si = dp::srtp::info(suite_of(l.suite_name));
            const size_t bytes = size_t{si.master_key_len} + si.master_salt_len;
            EXPECT_EQ(l.key.size(), (bytes * 4 + 2) / 3) << l.key;
            const auto raw = base64_decode(l.key);
            ASSERT_TRUE(raw.has_value()) << l.key;
            EXPECT_EQ(raw->size(), bytes) << l.key;
        }
        const std::string masked = mask_keys(sdp);
        if (update_golden()) {
            write_golden(file, masked);
            return;
        }
        const std::string want = read_golden(file);
        EXPECT_EQ(masked, want) << file << ": got\n" << visible(masked) << "want\n" << visible(want);
    }

    // An error reply that left nothing behind: no call, every port free, no flow.
    void expect_refused(const value& reply, const std::vector<std::string>& words) {
        EXPECT_EQ(result_of(reply), "error");
        for (const std::string& w : words) {
            EXPECT_NE(reason_of(reply).find(w), std::string::npos) << "'" << w << "' not in: " << reason_of(reply);
        }
        EXPECT_EQ(reply.find("sdp"), nullptr);
        EXPECT_EQ(sessions_->size(), 0u);
        for (const auto& i : interfaces_.all()) {
            EXPECT_EQ(i.addresses.front().pool->used(), 0u) << i.name;
        }
        EXPECT_EQ(flows_after_grace(), 0u);
    }

    const dp::flow_entry* entry(const char* addr, uint16_t port) {
        dp::flow_key k;
        k.local_addr = ip_address::parse(addr)->v4_be();
        k.local_port = htons(port);
        const dp::flow_entry* e = flows_->lookup(k);
        EXPECT_NE(e, nullptr) << addr << ":" << port;
        return e;
    }

    // A 172-byte RTP packet (12 header + 160 payload) with room for the tag.
    struct rtp_packet {
        std::array<uint8_t, 172 + dp::srtp::max_overhead> buf{};
        uint32_t len = 172;
        uint32_t room() const { return static_cast<uint32_t>(buf.size()) - len; }
        // The same packet (the bytes past len are a removed tag's leftovers).
        bool same_as(const rtp_packet& o) const {
            return len == o.len && std::equal(buf.begin(), buf.begin() + len, o.buf.begin());
        }
    };
    rtp_packet make_packet() {
        rtp_packet p;
        ++seq_;
        p.buf[0] = 0x80;
        p.buf[2] = static_cast<uint8_t>(seq_ >> 8);
        p.buf[3] = static_cast<uint8_t>(seq_);
        p.buf[8] = 0x12;
        p.buf[9] = 0x34;
        p.buf[10] = 0x56;
        p.buf[11] = 0x78;
        for (size_t i = 12; i < p.len; ++i) {
            p.buf[i] = static_cast<uint8_t>(i * 7);
        }
        return p;
    }

    // The data plane's receive context `ctx` takes what a peer protects with `line`'s key.
    void expect_receives_with(dp::srtp::context* ctx, const crypto_line& line) {
        ASSERT_NE(ctx, nullptr) << "no receive context for " << line.suite_name;
        EXPECT_EQ(ctx->cipher_suite(), suite_of(line.suite_name));
        auto peer =
            dp::srtp::make_context(dp::srtp::engine::native, suite_of(line.suite_name), master_key_of(line), false);
        rtp_packet p = make_packet();
        const rtp_packet plain = p;
        ASSERT_EQ(dp::srtp::protect_rtp(*peer, p.buf.data(), &p.len, p.room()), dp::srtp::result::ok);
        EXPECT_EQ(dp::srtp::unprotect_rtp(*ctx, p.buf.data(), &p.len), dp::srtp::result::ok);
        EXPECT_TRUE(p.same_as(plain));
    }
    // What the data plane's send context `ctx` protects, a peer with `line`'s key opens.
    void expect_sends_with(dp::srtp::context* ctx, const crypto_line& line) {
        ASSERT_NE(ctx, nullptr) << "no send context for " << line.suite_name;
        EXPECT_EQ(ctx->cipher_suite(), suite_of(line.suite_name));
        auto peer =
            dp::srtp::make_context(dp::srtp::engine::native, suite_of(line.suite_name), master_key_of(line), false);
        rtp_packet p = make_packet();
        const rtp_packet plain = p;
        ASSERT_EQ(dp::srtp::protect_rtp(*ctx, p.buf.data(), &p.len, p.room()), dp::srtp::result::ok);
        EXPECT_EQ(dp::srtp::unprotect_rtp(*peer, p.buf.data(), &p.len), dp::srtp::result::ok);
        EXPECT_TRUE(p.same_as(plain));
    }

    // The query reply names the call, both tags on their interfaces with these protocols.
    void expect_query(const std::string& kase, const char* a_iface, const char* a_proto, const char* b_iface,
                      const char* b_proto) {
        value q = value::dict();
        q.set("command", value::str("query"));
        q.set("call-id", value::str(kase));
        const value r = handle(q);
        ASSERT_EQ(result_of(r), "ok") << reason_of(r);
        const value* tags = r.find("tags");
        ASSERT_NE(tags, nullptr);
        for (const auto& [tag, iface, proto] :
             {std::tuple{from_tag, a_iface, a_proto}, std::tuple{to_tag, b_iface, b_proto}}) {
            SCOPED_TRACE(tag);
            const value* t = tags->find(tag);
            ASSERT_NE(t, nullptr);
            EXPECT_EQ(t->find_string("interface"), iface);
            const value& m = t->find("medias")->as_list().at(0);
            EXPECT_EQ(m.find_string("protocol"), proto);
            EXPECT_EQ(m.find("streams")->as_list().size(), 2u);  // RTP and RTCP
        }
        value l = value::dict();
        l.set("command", value::str("list"));
        const value calls = handle(l);
        ASSERT_NE(calls.find("calls"), nullptr);
        const auto& ids = calls.find("calls")->as_list();
        EXPECT_TRUE(std::any_of(ids.begin(), ids.end(), [&](const value& v) { return v.as_string() == kase; }));
    }

    std::vector<std::string> input_keys_;
    std::vector<std::string> outputs_;
    uint16_t seq_ = 1000;
};

}  // namespace rtprelay::ng_golden
