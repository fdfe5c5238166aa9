// SDES golden tests at the NG level: an offer or answer request (bencoded both ways, as from
// Kamailio) carrying the SDP of tests/golden/ng/<case>.{offer,answer}.in.sdp goes through
// ng::commands::handle, and the reply's SDP must equal <case>.{offer,answer}.out.sdp byte for
// byte once the relay's keys are masked (inline:<base64> -> inline:<KEY>). Ports are not
// masked: every interface here owns exactly one port pair, so allocation is deterministic.
// The NG keys of each case (direction, transport-protocol, SDES flags) are in its test.
//
// Every key the relay writes is checked on its own (40 base64 characters, 30 bytes), no key
// of any input SDP may appear in any output, and where a call is set up the flow table's
// SRTP contexts are checked against the keys in the SDP: a packet protected with the key
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

namespace rtprelay {
namespace {

namespace fs = std::filesystem;
using ng::value;
using dp::srtp::suite;

// --- Golden files ---------------------------------------------------------------------

// tests/golden/ng in the source tree. Meson compiles this file as a path relative to the
// build directory, so that directory is found by walking up from the test binary until
// the path names this file.
fs::path golden_dir() {
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

bool update_golden() {
    const char* v = std::getenv("RTPRELAY_UPDATE_GOLDEN");
    return v != nullptr && std::string_view(v) == "1";
}

// Binary, so CRLF survives. Empty (and a test failure) when the file cannot be read.
std::string read_golden(const std::string& file) {
    std::ifstream in(golden_dir() / file, std::ios::binary);
    EXPECT_TRUE(in.good()) << "cannot read " << (golden_dir() / file)
                           << " (RTPRELAY_UPDATE_GOLDEN=1 writes missing .out.sdp files)";
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_golden(const std::string& file, const std::string& contents) {
    std::ofstream out(golden_dir() / file, std::ios::binary | std::ios::trunc);
    out << contents;
    EXPECT_TRUE(out.good()) << "cannot write " << (golden_dir() / file);
}

// CR and LF made visible, for failure messages.
std::string visible(const std::string& text) {
    std::string out;
    for (const char c : text) {
        out += c == '\r' ? std::string("\\r") : c == '\n' ? std::string("\\n\n") : std::string(1, c);
    }
    return out;
}

// Every case with files in tests/golden/ng; a file of no case there is a test failure.
constexpr std::string_view known_cases[] = {
    "answer_plain_optional", "answer_plain_required", "answer_renumbered_tag", "lifetime_2_49",
    "mki_line_dropped",      "mki_only",              "offer_suites_two",      "plain_to_savp",
    "reoffer_keeps_keys",    "required_plain_offer",  "savp_32_first",         "sdes_no_80",
    "sdes_only_32",          "sdes_only_32_default_policy", "srtp_off_b",      "video_port0",
    "gcm_256_first",         "aes256_and_gcm_offered", "mki_accepted",
};

// --- Keys and lines in SDP text -------------------------------------------------------

constexpr std::string_view inline_prefix = "inline:";

bool is_base64_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
           c == '=';
}

// The base64 text after every "inline:", in order.
std::vector<std::string> inline_keys(const std::string& sdp) {
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

std::string mask_keys(const std::string& sdp) {
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
std::optional<std::vector<uint8_t>> base64_decode(std::string_view text) {
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
std::vector<std::string> lines_with(const std::string& sdp, std::string_view prefix) {
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
    std::string key;          // base64, without lifetime/MKI
    std::string mki;          // "<value>:<length>" after the key, or empty
};

std::vector<crypto_line> crypto_lines(const std::string& sdp) {
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

suite suite_of(const std::string& name) {
    const auto s = dp::srtp::suite_from_name(name);
    EXPECT_TRUE(s.has_value()) << name;
    return s.value_or(suite::aes_cm_128_hmac_sha1_80);
}

// The key, salt and MKI of a line, decoded independently of control/sdes.
dp::srtp::master_key master_key_of(const crypto_line& line) {
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

value strings(std::initializer_list<const char*> items) {
    value l = value::list();
    for (const char* s : items) {
        l.as_list().push_back(value::str(s));
    }
    return l;
}

value direction(const char* offerer_side, const char* answerer_side) {
    return strings({offerer_side, answerer_side});
}

std::string result_of(const value& v) {
    const auto r = v.find_string("result");
    return r ? std::string(*r) : std::string("<none>");
}
std::string reason_of(const value& v) {
    const auto r = v.find_string("error-reason");
    return r ? std::string(*r) : std::string();
}
std::string sdp_of(const value& v) {
    const auto r = v.find_string("sdp");
    return r ? std::string(*r) : std::string();
}

const std::string from_tag = "from-a";
const std::string to_tag = "to-b";

class sdes_golden_test : public ::testing::Test {
 protected:
    void SetUp() override {
        ASSERT_FALSE(golden_dir().empty()) << "tests/golden/ng not found from " << __FILE__;
        flows_ = std::make_unique<dp::flow_table>(4096, 1, 0);
        neighbours_ = std::make_unique<dp::neighbour_table>(256, 0);
        // One port pair per interface: the ports in the golden files are the only ones.
        // a: the offerer's side; the others face the answerer, each with its own policy.
        interfaces_.add(parse_interface("a address=198.18.1.1/24 dpdk-port=0 ports=30000-30001", 1));
        interfaces_.add(parse_interface("b address=198.18.2.1/24 dpdk-port=1 ports=40000-40001", 2));
        interfaces_.add(parse_interface("req address=198.18.3.1/24 dpdk-port=1 ports=42000-42001 srtp=required", 3));
        interfaces_.add(parse_interface("off address=198.18.4.1/24 dpdk-port=1 ports=44000-44001 srtp=off", 4));
        interfaces_.add(parse_interface("two address=198.18.5.1/24 dpdk-port=1 ports=46000-46001 "
                                        "offer-suites=AES_CM_128_HMAC_SHA1_32,AES_CM_128_HMAC_SHA1_80",
                                        5));
        interfaces_.add(parse_interface("mki address=198.18.6.1/24 dpdk-port=0 ports=48000-48001 mki=accept", 6));
        interfaces_.add(parse_interface("strong address=198.18.7.1/24 dpdk-port=1 ports=50000-50001 "
                                        "offer-suites=AES_256_CM_HMAC_SHA1_32,AEAD_AES_128_GCM",
                                        7));
        pub_ = std::make_unique<publisher>(*flows_, *neighbours_, 1);
        sessions_ = std::make_unique<session_manager>(interfaces_, *pub_);
        commands_ = std::make_unique<ng::commands>(*sessions_, std::function<value()>{});
    }

    void TearDown() override {
        // The relay never hands one leg's key to the other: no input key in any output.
        for (const std::string& out : outputs_) {
            for (const std::string& k : input_keys_) {
                EXPECT_EQ(out.find(k), std::string::npos) << "input key " << k << " leaked into\n" << visible(out);
            }
        }
        commands_.reset();
        sessions_.reset();
        pub_.reset();
        if (flows_) {
            flows_->reclaim_all();  // no reader registered: every grace period is over
        }
    }

    value handle(const value& req) {
        std::string err;
        const auto decoded = ng::decode(ng::encode(req), &err);
        EXPECT_TRUE(decoded.has_value()) << err;
        const value reply = commands_->handle(*decoded, std::chrono::steady_clock::now());
        const auto back = ng::decode(ng::encode(reply), &err);
        EXPECT_TRUE(back.has_value()) << err;
        if (back && result_of(*back) == "ok") {
            outputs_.push_back(sdp_of(*back));
        }
        return back ? *back : value();
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

    size_t flows_after_grace() {
        flows_->reclaim_all();
        return flows_->size();
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
        auto peer = dp::srtp::make_context(dp::srtp::engine::native, suite_of(line.suite_name), master_key_of(line),
                                           false);
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
        auto peer = dp::srtp::make_context(dp::srtp::engine::native, suite_of(line.suite_name), master_key_of(line),
                                           false);
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
        for (const auto& [tag, iface, proto] : {std::tuple{from_tag, a_iface, a_proto}, std::tuple{to_tag, b_iface, b_proto}}) {
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

    std::unique_ptr<dp::flow_table> flows_;
    std::unique_ptr<dp::neighbour_table> neighbours_;
    interface_set interfaces_;
    std::unique_ptr<publisher> pub_;
    std::unique_ptr<session_manager> sessions_;
    std::unique_ptr<ng::commands> commands_;
    std::vector<std::string> input_keys_;
    std::vector<std::string> outputs_;
    uint16_t seq_ = 1000;
};

TEST_F(sdes_golden_test, golden_directory_holds_only_known_cases) {
    const std::set<std::string_view> known(std::begin(known_cases), std::end(known_cases));
    std::set<std::string> with_offer;
    for (const auto& e : fs::directory_iterator(golden_dir())) {
        const std::string name = e.path().filename().string();
        bool matched = false;
        for (std::string_view suffix : {".offer.in.sdp", ".offer.out.sdp", ".answer.in.sdp", ".answer.out.sdp"}) {
            if (name.ends_with(suffix) && known.contains(std::string_view(name).substr(0, name.size() - suffix.size()))) {
                matched = true;
                if (suffix == ".offer.in.sdp") {
                    with_offer.insert(name.substr(0, name.size() - suffix.size()));
                }
            }
        }
        EXPECT_TRUE(matched) << name << " belongs to no case of this test";
    }
    EXPECT_EQ(with_offer.size(), known.size());
}

// A plain phone, a trunk that wants SRTP: transport-protocol RTP/SAVP makes the B leg
// SRTP with the default policy's single AES_CM_128_HMAC_SHA1_80 line; A stays plain.
TEST_F(sdes_golden_test, plain_to_savp) {
    const std::string kase = "plain_to_savp";
    const value o = offer(kase, {{"direction", direction("a", "b")}, {"transport-protocol", value::str("RTP/SAVP")}});
    expect_golden(kase + ".offer.out.sdp", o);
    const auto offered = crypto_lines(sdp_of(o));
    ASSERT_EQ(offered.size(), 1u);
    EXPECT_EQ(offered[0].tag, "1");
    EXPECT_EQ(offered[0].suite_name, s80);
    EXPECT_EQ(lines_with(sdp_of(o), "m=").at(0), "audio 40000 RTP/SAVP 0 8 101");
    // Until B answers, B's keys are unknown: nothing is relayed yet.
    EXPECT_EQ(entry("198.18.1.1", 30000)->forward, dp::forward_no_key);

    const value a = answer(kase);
    expect_golden(kase + ".answer.out.sdp", a);
    EXPECT_TRUE(crypto_lines(sdp_of(a)).empty());
    EXPECT_EQ(lines_with(sdp_of(a), "m=").at(0), "audio 30000 RTP/AVP 0 101");
    expect_query(kase, "a", "RTP/AVP", "b", "RTP/SAVP");
    EXPECT_EQ(flows_after_grace(), 4u);

    const dp::flow_entry* from_a = entry("198.18.1.1", 30000);
    const dp::flow_entry* from_b = entry("198.18.2.1", 40000);
    ASSERT_TRUE(from_a && from_b);
    EXPECT_EQ(from_a->forward, dp::forward_on);
    EXPECT_EQ(from_b->forward, dp::forward_on);
    EXPECT_EQ(from_a->srtp_in[0], nullptr);
    EXPECT_EQ(from_b->srtp_out[0], nullptr);
    expect_sends_with(from_a->srtp_out[0], offered[0]);
    expect_receives_with(from_b->srtp_in[0], crypto_lines(input(kase + ".answer.in.sdp")).at(0));
}

// The offerer lists _32 first: our answer to it takes _32 (the offerer's preference), tag 1.
// Towards B the default policy offers _80 only, with a key of its own.
TEST_F(sdes_golden_test, savp_32_first) {
    const std::string kase = "savp_32_first";
    const value o = offer(kase, {{"direction", direction("a", "b")}});
    expect_golden(kase + ".offer.out.sdp", o);
    ASSERT_EQ(crypto_lines(sdp_of(o)).size(), 1u);
    EXPECT_EQ(crypto_lines(sdp_of(o))[0].suite_name, s80);

    const value a = answer(kase);
    expect_golden(kase + ".answer.out.sdp", a);
    const auto answered = crypto_lines(sdp_of(a));
    ASSERT_EQ(answered.size(), 1u);
    EXPECT_EQ(answered[0].tag, "1");
    EXPECT_EQ(answered[0].suite_name, s32);
    EXPECT_NE(answered[0].key, crypto_lines(sdp_of(o))[0].key) << "each leg has its own key";
    expect_query(kase, "a", "RTP/SAVP", "b", "RTP/SAVP");

    const dp::flow_entry* from_a = entry("198.18.1.1", 30000);
    const dp::flow_entry* from_b = entry("198.18.2.1", 40000);
    ASSERT_TRUE(from_a && from_b);
    const auto a_lines = crypto_lines(input(kase + ".offer.in.sdp"));
    expect_receives_with(from_a->srtp_in[0], a_lines.at(0));  // A's _32 line
    expect_sends_with(from_a->srtp_out[0], crypto_lines(sdp_of(o)).at(0));
    expect_receives_with(from_b->srtp_in[0], crypto_lines(input(kase + ".answer.in.sdp")).at(0));
    expect_sends_with(from_b->srtp_out[0], answered[0]);
}

// Tag 1 carries an MKI: that line is not usable, tag 2 (_32) is taken instead.
TEST_F(sdes_golden_test, mki_line_dropped) {
    const std::string kase = "mki_line_dropped";
    const value o = offer(kase, {{"direction", direction("a", "b")}});
    expect_golden(kase + ".offer.out.sdp", o);
    const value a = answer(kase);
    expect_golden(kase + ".answer.out.sdp", a);
    const auto answered = crypto_lines(sdp_of(a));
    ASSERT_EQ(answered.size(), 1u);
    EXPECT_EQ(answered[0].tag, "2");
    EXPECT_EQ(answered[0].suite_name, s32);
    const dp::flow_entry* from_a = entry("198.18.1.1", 30000);
    ASSERT_NE(from_a, nullptr);
    expect_receives_with(from_a->srtp_in[0], crypto_lines(input(kase + ".offer.in.sdp")).at(1));
}

// A prefers AEAD_AES_256_GCM: answered with it (a 44-byte key of ours); B is offered the
// interface's default, AES_CM_128_HMAC_SHA1_80; each leg's contexts take its own suite.
TEST_F(sdes_golden_test, gcm_offer_is_answered_with_gcm) {
    const std::string kase = "gcm_256_first";
    const value o = offer(kase, {{"direction", direction("a", "b")}});
    expect_golden(kase + ".offer.out.sdp", o);
    const value a = answer(kase);
    expect_golden(kase + ".answer.out.sdp", a);
    const auto answered = crypto_lines(sdp_of(a));
    ASSERT_EQ(answered.size(), 1u);
    EXPECT_EQ(answered[0].tag, "1");
    EXPECT_EQ(answered[0].suite_name, "AEAD_AES_256_GCM");
    const dp::flow_entry* from_a = entry("198.18.1.1", 30000);
    const dp::flow_entry* from_b = entry("198.18.2.1", 40000);
    ASSERT_TRUE(from_a && from_b);
    expect_receives_with(from_a->srtp_in[0], crypto_lines(input(kase + ".offer.in.sdp")).at(0));
    expect_sends_with(from_a->srtp_out[0], crypto_lines(sdp_of(o)).at(0));
    expect_receives_with(from_b->srtp_in[0], crypto_lines(input(kase + ".answer.in.sdp")).at(0));
    expect_sends_with(from_b->srtp_out[0], answered[0]);
}

// offer-suites=AES_256_CM_HMAC_SHA1_32,AEAD_AES_128_GCM toward B, which answers the second.
TEST_F(sdes_golden_test, aes256_and_gcm_offered) {
    const std::string kase = "aes256_and_gcm_offered";
    const value o = offer(kase, {{"direction", direction("a", "strong")}});
    expect_golden(kase + ".offer.out.sdp", o);
    const auto offered = crypto_lines(sdp_of(o));
    ASSERT_EQ(offered.size(), 2u);
    EXPECT_EQ(offered[0].suite_name, "AES_256_CM_HMAC_SHA1_32");
    EXPECT_EQ(offered[1].suite_name, "AEAD_AES_128_GCM");
    const value a = answer(kase);
    expect_golden(kase + ".answer.out.sdp", a);
    const dp::flow_entry* from_a = entry("198.18.1.1", 30000);
    const dp::flow_entry* from_b = entry("198.18.7.1", 50000);
    ASSERT_TRUE(from_a && from_b);
    expect_sends_with(from_a->srtp_out[0], offered[1]);
    expect_receives_with(from_b->srtp_in[0], crypto_lines(input(kase + ".answer.in.sdp")).at(0));
    expect_sends_with(from_b->srtp_out[0], crypto_lines(sdp_of(a)).at(0));
}

// On an interface with mki=accept the MKI line is taken: A's packets must carry its MKI, and
// our answer carries one of the same length (1:4), which our packets to A carry.
TEST_F(sdes_golden_test, mki_accepted_where_the_interface_says) {
    const std::string kase = "mki_accepted";
    const value o = offer(kase, {{"direction", direction("mki", "b")}});
    expect_golden(kase + ".offer.out.sdp", o);
    const value a = answer(kase);
    expect_golden(kase + ".answer.out.sdp", a);
    const auto answered = crypto_lines(sdp_of(a));
    ASSERT_EQ(answered.size(), 1u);
    EXPECT_EQ(answered[0].tag, "1");
    EXPECT_EQ(answered[0].mki, "1:4");
    EXPECT_TRUE(crypto_lines(sdp_of(o)).at(0).mki.empty()) << "our offers carry no MKI";
    const dp::flow_entry* from_a = entry("198.18.6.1", 48000);
    const dp::flow_entry* from_b = entry("198.18.2.1", 40000);
    ASSERT_TRUE(from_a && from_b);
    const crypto_line a_line = crypto_lines(input(kase + ".offer.in.sdp")).at(0);
    ASSERT_EQ(a_line.mki, "1:4");
    expect_receives_with(from_a->srtp_in[0], a_line);
    expect_sends_with(from_b->srtp_out[0], answered[0]);
    // A packet from A without its MKI, or with another, is not taken.
    crypto_line no_mki = a_line;
    no_mki.mki.clear();
    auto peer = dp::srtp::make_context(dp::srtp::engine::native, suite_of(a_line.suite_name), master_key_of(no_mki),
                                       false);
    rtp_packet p = make_packet();
    ASSERT_EQ(dp::srtp::protect_rtp(*peer, p.buf.data(), &p.len, p.room()), dp::srtp::result::ok);
    EXPECT_NE(dp::srtp::unprotect_rtp(*from_a->srtp_in[0], p.buf.data(), &p.len), dp::srtp::result::ok);
    crypto_line other_mki = a_line;
    other_mki.mki = "2:4";
    peer = dp::srtp::make_context(dp::srtp::engine::native, suite_of(a_line.suite_name), master_key_of(other_mki),
                                  false);
    p = make_packet();
    ASSERT_EQ(dp::srtp::protect_rtp(*peer, p.buf.data(), &p.len, p.room()), dp::srtp::result::ok);
    EXPECT_EQ(dp::srtp::unprotect_rtp(*from_a->srtp_in[0], p.buf.data(), &p.len), dp::srtp::result::bad_mki);
}

TEST_F(sdes_golden_test, mki_only_is_refused) {
    const value o = offer("mki_only", {{"direction", direction("a", "b")}});
    expect_refused(o, {"MKI", "interface 'a'"});
}

TEST_F(sdes_golden_test, lifetime_above_2_48_is_refused) {
    const value o = offer("lifetime_2_49", {{"direction", direction("a", "b")}});
    expect_refused(o, {"lifetime", "2^49", "interface 'a'"});
}

TEST_F(sdes_golden_test, required_interface_refuses_a_plain_offer) {
    const value o = offer("required_plain_offer", {{"direction", direction("req", "b")}});
    expect_refused(o, {"SRTP required", "interface 'req'"});
}

// B's interface has srtp=off: B is offered plain RTP without a=crypto; A still gets SRTP.
TEST_F(sdes_golden_test, srtp_off_on_the_answerer_side) {
    const std::string kase = "srtp_off_b";
    const value o = offer(kase, {{"direction", direction("a", "off")}});
    expect_golden(kase + ".offer.out.sdp", o);
    EXPECT_TRUE(crypto_lines(sdp_of(o)).empty());
    EXPECT_EQ(lines_with(sdp_of(o), "m=").at(0), "audio 44000 RTP/AVP 0 8 101");

    const value a = answer(kase);
    expect_golden(kase + ".answer.out.sdp", a);
    ASSERT_EQ(crypto_lines(sdp_of(a)).size(), 1u);
    EXPECT_EQ(crypto_lines(sdp_of(a))[0].suite_name, s80);
    expect_query(kase, "a", "RTP/SAVP", "off", "RTP/AVP");
    const dp::flow_entry* from_a = entry("198.18.1.1", 30000);
    const dp::flow_entry* from_b = entry("198.18.4.1", 44000);
    ASSERT_TRUE(from_a && from_b);
    EXPECT_EQ(from_a->forward, dp::forward_on);
    EXPECT_EQ(from_a->srtp_out[0], nullptr);
    EXPECT_EQ(from_b->srtp_in[0], nullptr);
    expect_receives_with(from_a->srtp_in[0], crypto_lines(input(kase + ".offer.in.sdp")).at(0));
    expect_sends_with(from_b->srtp_out[0], crypto_lines(sdp_of(a)).at(0));
}

// offer-suites=_32,_80: two lines in that order; B answers the second (tag 2).
TEST_F(sdes_golden_test, interface_offer_suites_in_order) {
    const std::string kase = "offer_suites_two";
    const value o = offer(kase, {{"direction", direction("a", "two")}, {"transport-protocol", value::str("RTP/SAVP")}});
    expect_golden(kase + ".offer.out.sdp", o);
    const auto offered = crypto_lines(sdp_of(o));
    ASSERT_EQ(offered.size(), 2u);
    EXPECT_EQ(offered[0].tag, "1");
    EXPECT_EQ(offered[0].suite_name, s32);
    EXPECT_EQ(offered[1].tag, "2");
    EXPECT_EQ(offered[1].suite_name, s80);
    EXPECT_NE(offered[0].key, offered[1].key);

    const value a = answer(kase);
    expect_golden(kase + ".answer.out.sdp", a);
    const dp::flow_entry* from_a = entry("198.18.1.1", 30000);
    ASSERT_NE(from_a, nullptr);
    expect_sends_with(from_a->srtp_out[0], offered[1]);
}

// SDES-only-<suite> in "flags" narrows the interface's two suites to one.
TEST_F(sdes_golden_test, sdes_only_flag_narrows_our_offer) {
    const std::string kase = "sdes_only_32";
    const value o = offer(kase, {{"direction", direction("a", "two")},
                                 {"transport-protocol", value::str("RTP/SAVP")},
                                 {"flags", strings({"SDES-only-AES_CM_128_HMAC_SHA1_32"})}});
    expect_golden(kase + ".offer.out.sdp", o);
    EXPECT_EQ(o.find("warning"), nullptr);
    const auto offered = crypto_lines(sdp_of(o));
    ASSERT_EQ(offered.size(), 1u);
    EXPECT_EQ(offered[0].tag, "1");
    EXPECT_EQ(offered[0].suite_name, s32);

    const value a = answer(kase);
    expect_golden(kase + ".answer.out.sdp", a);
    const dp::flow_entry* from_a = entry("198.18.1.1", 30000);
    ASSERT_NE(from_a, nullptr);
    expect_sends_with(from_a->srtp_out[0], offered[0]);
}

// no-<suite> in the NG "SDES" list (Kamailio's other spelling) does the same.
TEST_F(sdes_golden_test, sdes_no_list_entry_narrows_our_offer) {
    const std::string kase = "sdes_no_80";
    const value o = offer(kase, {{"direction", direction("a", "two")},
                                 {"transport-protocol", value::str("RTP/SAVP")},
                                 {"SDES", strings({"no-AES_CM_128_HMAC_SHA1_80"})}});
    expect_golden(kase + ".offer.out.sdp", o);
    const auto offered = crypto_lines(sdp_of(o));
    ASSERT_EQ(offered.size(), 1u);
    EXPECT_EQ(offered[0].suite_name, s32);
}

// The default policy offers _80 only: SDES-only-_32 leaves nothing, which is an error.
TEST_F(sdes_golden_test, sdes_only_flag_outside_the_policy_is_refused) {
    const value o = offer("sdes_only_32_default_policy", {{"direction", direction("a", "b")},
                                                          {"transport-protocol", value::str("RTP/SAVP")},
                                                          {"flags", strings({"SDES-only-AES_CM_128_HMAC_SHA1_32"})}});
    expect_refused(o, {"no SRTP suite left to offer", "interface 'b'"});
}

// We offer tag 1, B answers the same suite as tag 7 (rtpengine #2098): matched by suite.
// Our answer to A keeps A's tag.
TEST_F(sdes_golden_test, answerer_renumbering_the_tag_still_works) {
    const std::string kase = "answer_renumbered_tag";
    const value o = offer(kase, {{"direction", direction("a", "b")}});
    expect_golden(kase + ".offer.out.sdp", o);
    ASSERT_EQ(crypto_lines(sdp_of(o)).at(0).tag, "1");
    const value a = answer(kase);
    expect_golden(kase + ".answer.out.sdp", a);
    EXPECT_EQ(crypto_lines(sdp_of(a)).at(0).tag, "1");
    const dp::flow_entry* from_a = entry("198.18.1.1", 30000);
    const dp::flow_entry* from_b = entry("198.18.2.1", 40000);
    ASSERT_TRUE(from_a && from_b);
    EXPECT_EQ(from_b->forward, dp::forward_on);
    expect_receives_with(from_b->srtp_in[0], crypto_lines(input(kase + ".answer.in.sdp")).at(0));
    expect_sends_with(from_a->srtp_out[0], crypto_lines(sdp_of(o)).at(0));
}

// The same offer again (a retransmission, or a re-INVITE before the answer), and after the
// answer a re-INVITE with the to-tag and a repeated answer: every copy names the same keys,
// and the data plane keeps its contexts (ROC and replay state survive).
TEST_F(sdes_golden_test, reoffer_keeps_the_relays_keys) {
    const std::string kase = "reoffer_keeps_keys";
    const ng_keys keys = {{"direction", direction("a", "b")}};
    const value first = offer(kase, keys);
    expect_golden(kase + ".offer.out.sdp", first);
    const value again = offer(kase, keys);
    expect_golden(kase + ".offer.out.sdp", again);
    EXPECT_EQ(sdp_of(again), sdp_of(first)) << "unmasked: the same key";

    const value a = answer(kase);
    expect_golden(kase + ".answer.out.sdp", a);
    const dp::flow_entry* from_a = entry("198.18.1.1", 30000);
    ASSERT_NE(from_a, nullptr);
    const dp::srtp::context* in_before = from_a->srtp_in[0];
    const dp::srtp::context* out_before = from_a->srtp_out[0];

    ng_keys with_to_tag = keys;
    with_to_tag.emplace_back("to-tag", value::str(to_tag));
    const value reinvite = offer(kase, with_to_tag);
    expect_golden(kase + ".offer.out.sdp", reinvite);
    EXPECT_EQ(sdp_of(reinvite), sdp_of(first));
    const value a2 = answer(kase);
    EXPECT_EQ(sdp_of(a2), sdp_of(a));

    from_a = entry("198.18.1.1", 30000);
    ASSERT_NE(from_a, nullptr);
    EXPECT_EQ(from_a->srtp_in[0], in_before);
    EXPECT_EQ(from_a->srtp_out[0], out_before);
    expect_receives_with(from_a->srtp_in[0], crypto_lines(input(kase + ".offer.in.sdp")).at(0));
    expect_sends_with(from_a->srtp_out[0], crypto_lines(sdp_of(first)).at(0));
    EXPECT_EQ(sessions_->size(), 1u);
    EXPECT_EQ(flows_after_grace(), 4u);
}

// B, offered SRTP on an optional interface, answers plain RTP/AVP: accepted, A keeps SRTP.
TEST_F(sdes_golden_test, plain_answer_on_an_optional_interface_is_accepted) {
    const std::string kase = "answer_plain_optional";
    const value o = offer(kase, {{"direction", direction("a", "b")}});
    expect_golden(kase + ".offer.out.sdp", o);
    ASSERT_EQ(crypto_lines(sdp_of(o)).size(), 1u);
    const value a = answer(kase);
    expect_golden(kase + ".answer.out.sdp", a);
    ASSERT_EQ(crypto_lines(sdp_of(a)).size(), 1u);
    EXPECT_EQ(lines_with(sdp_of(a), "m=").at(0), "audio 30000 RTP/SAVP 0 101");
    expect_query(kase, "a", "RTP/SAVP", "b", "RTP/AVP");
    const dp::flow_entry* from_a = entry("198.18.1.1", 30000);
    const dp::flow_entry* from_b = entry("198.18.2.1", 40000);
    ASSERT_TRUE(from_a && from_b);
    EXPECT_EQ(from_a->forward, dp::forward_on);
    EXPECT_EQ(from_b->forward, dp::forward_on);
    EXPECT_EQ(from_a->srtp_out[0], nullptr);
    EXPECT_EQ(from_b->srtp_in[0], nullptr);
    expect_receives_with(from_a->srtp_in[0], crypto_lines(input(kase + ".offer.in.sdp")).at(0));
    expect_sends_with(from_b->srtp_out[0], crypto_lines(sdp_of(a)).at(0));
}

// The same on a required interface: refused, naming the interface; nothing is relayed.
TEST_F(sdes_golden_test, plain_answer_on_a_required_interface_is_refused) {
    const std::string kase = "answer_plain_required";
    const value o = offer(kase, {{"direction", direction("a", "req")}});
    expect_golden(kase + ".offer.out.sdp", o);
    ASSERT_EQ(crypto_lines(sdp_of(o)).size(), 1u);
    const value a = answer(kase);
    EXPECT_EQ(result_of(a), "error");
    EXPECT_NE(reason_of(a).find("SRTP required on interface 'req'"), std::string::npos) << reason_of(a);
    EXPECT_EQ(a.find("sdp"), nullptr);
    const dp::flow_entry* from_a = entry("198.18.1.1", 30000);
    ASSERT_NE(from_a, nullptr);
    EXPECT_EQ(from_a->forward, dp::forward_no_key);
}

// Audio SRTP plus a disabled (port 0) video line: the video line passes as it is.
TEST_F(sdes_golden_test, disabled_video_line_is_left_alone) {
    const std::string kase = "video_port0";
    const value o = offer(kase, {{"direction", direction("a", "b")}});
    expect_golden(kase + ".offer.out.sdp", o);
    EXPECT_EQ(lines_with(sdp_of(o), "m=").at(1), "video 0 RTP/SAVP 96");
    EXPECT_EQ(crypto_lines(sdp_of(o)).size(), 1u);
    const value a = answer(kase);
    expect_golden(kase + ".answer.out.sdp", a);
    EXPECT_EQ(lines_with(sdp_of(a), "m=").at(1), "video 0 RTP/SAVP 96");
    EXPECT_EQ(crypto_lines(sdp_of(a)).size(), 1u);
    EXPECT_EQ(interfaces_.find("a")->addresses.front().pool->used(), 1u);
    EXPECT_EQ(interfaces_.find("b")->addresses.front().pool->used(), 1u);
    EXPECT_EQ(flows_after_grace(), 4u);
}

// --- re-offers through Kamailio: each leg keeps its protocol ---------------------------
// Kamailio passes the trunk's SRTP policy (transport-protocol) only toward the side it is
// configured for; a re-INVITE from the other side comes without it. As in rtpengine, an
// offerer that keeps its m= proto leaves the other leg as negotiated.

std::string inline_sdp(const char* addr, uint16_t port, const char* proto, const std::string& crypto = "",
                       const char* dir = "sendrecv") {
    std::string s = std::string("v=0\r\no=- 7 2 IN IP4 ") + addr + "\r\ns=-\r\nc=IN IP4 " + addr + "\r\nt=0 0\r\n";
    s += "m=audio " + std::to_string(port) + " " + proto + " 0\r\na=rtpmap:0 PCMU/8000\r\n";
    if (!crypto.empty()) {
        s += "a=crypto:" + crypto + "\r\n";
    }
    return s + "a=" + dir + "\r\n";
}

const std::string key_a = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB";  // 30 bytes, base64
const std::string key_b = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJC";

TEST_F(sdes_golden_test, reinvite_from_the_plain_side_keeps_the_srtp_leg) {
    const std::string kase = "reinvite_keeps_srtp_leg";
    const ng_keys to_carrier = {{"direction", direction("a", "b")}, {"transport-protocol", value::str("RTP/AVP")}};
    input_keys_.push_back(key_a);
    // The SRTP customer A calls the plain carrier B: B gets RTP/AVP, A's answer SAVP.
    const value o = handle(request("offer", kase, inline_sdp("198.51.100.10", 4000, "RTP/SAVP", "1 " + std::string(s80) + " inline:" + key_a), to_carrier));
    ASSERT_EQ(result_of(o), "ok") << reason_of(o);
    EXPECT_EQ(lines_with(sdp_of(o), "m=").at(0), "audio 40000 RTP/AVP 0");
    value ar = request("answer", kase, inline_sdp("203.0.113.20", 5000, "RTP/AVP"), {});
    ar.set("to-tag", value::str(to_tag));
    const value a = handle(ar);
    ASSERT_EQ(result_of(a), "ok") << reason_of(a);
    const auto to_a = crypto_lines(sdp_of(a));
    ASSERT_EQ(to_a.size(), 1u);

    // B puts A on hold: B's offer, plain as before, without transport-protocol. A is
    // still offered SRTP, with the key it already has from us.
    value hold = request("offer", kase, inline_sdp("203.0.113.20", 5000, "RTP/AVP", "", "sendonly"),
                         {{"direction", direction("b", "a")}});
    hold.set("from-tag", value::str(to_tag));
    hold.set("to-tag", value::str(from_tag));
    const value h = handle(hold);
    ASSERT_EQ(result_of(h), "ok") << reason_of(h);
    EXPECT_EQ(lines_with(sdp_of(h), "m=").at(0), "audio 30000 RTP/SAVP 0");
    const auto reoffered = crypto_lines(sdp_of(h));
    ASSERT_EQ(reoffered.size(), 1u);
    EXPECT_EQ(reoffered[0].suite_name, s80);
    EXPECT_EQ(reoffered[0].key, to_a[0].key) << "A keeps the key it has";
    // A answers (recvonly) with its key: B gets plain RTP/AVP again.
    value ha = request("answer", kase, inline_sdp("198.51.100.10", 4000, "RTP/SAVP", reoffered[0].tag + " " + std::string(s80) + " inline:" + key_a, "recvonly"), {});
    ha.set("from-tag", value::str(to_tag));
    ha.set("to-tag", value::str(from_tag));
    const value hr = handle(ha);
    ASSERT_EQ(result_of(hr), "ok") << reason_of(hr);
    EXPECT_EQ(lines_with(sdp_of(hr), "m=").at(0), "audio 40000 RTP/AVP 0");
    EXPECT_TRUE(crypto_lines(sdp_of(hr)).empty());
    expect_query(kase, "a", "RTP/SAVP", "b", "RTP/AVP");
    const dp::flow_entry* from_a = entry("198.18.1.1", 30000);
    ASSERT_NE(from_a, nullptr);
    expect_receives_with(from_a->srtp_in[0], crypto_lines(inline_sdp("x", 1, "RTP/SAVP", "1 " + std::string(s80) + " inline:" + key_a)).at(0));
}

TEST_F(sdes_golden_test, reinvite_without_flags_keeps_each_legs_protocol) {
    const std::string kase = "reinvite_keeps_protocols";
    input_keys_.push_back(key_b);
    // A plain customer calls an SRTP carrier: Kamailio asks for RTP/SAVP toward B.
    const ng_keys to_carrier = {{"direction", direction("a", "b")}, {"transport-protocol", value::str("RTP/SAVP")}};
    const value o = handle(request("offer", kase, inline_sdp("198.51.100.10", 4000, "RTP/AVP"), to_carrier));
    ASSERT_EQ(result_of(o), "ok") << reason_of(o);
    const auto to_b = crypto_lines(sdp_of(o));
    ASSERT_EQ(to_b.size(), 1u);
    value ar = request("answer", kase, inline_sdp("203.0.113.20", 5000, "RTP/SAVP", to_b[0].tag + " " + std::string(s80) + " inline:" + key_b), {});
    ar.set("to-tag", value::str(to_tag));
    ASSERT_EQ(result_of(handle(ar)), "ok");

    // A re-INVITEs, plain as before, and this time the request has no transport-protocol:
    // B still gets SRTP (no downgrade), with the same key.
    value re = request("offer", kase, inline_sdp("198.51.100.10", 4000, "RTP/AVP"), {{"direction", direction("a", "b")}});
    re.set("to-tag", value::str(to_tag));
    const value r = handle(re);
    ASSERT_EQ(result_of(r), "ok") << reason_of(r);
    EXPECT_EQ(lines_with(sdp_of(r), "m=").at(0), "audio 40000 RTP/SAVP 0");
    ASSERT_EQ(crypto_lines(sdp_of(r)).size(), 1u);
    EXPECT_EQ(crypto_lines(sdp_of(r))[0].key, to_b[0].key);
    ASSERT_EQ(result_of(handle(ar)), "ok");

    // B re-INVITEs, SAVP as before: A stays plain.
    value rb = request("offer", kase, inline_sdp("203.0.113.20", 5000, "RTP/SAVP", "1 " + std::string(s80) + " inline:" + key_b),
                       {{"direction", direction("b", "a")}});
    rb.set("from-tag", value::str(to_tag));
    rb.set("to-tag", value::str(from_tag));
    const value b = handle(rb);
    ASSERT_EQ(result_of(b), "ok") << reason_of(b);
    EXPECT_EQ(lines_with(sdp_of(b), "m=").at(0), "audio 30000 RTP/AVP 0");
    EXPECT_TRUE(crypto_lines(sdp_of(b)).empty());
}

}  // namespace
}  // namespace rtprelay
