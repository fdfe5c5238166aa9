// libFuzzer target: SDP parse and rewrite (control/sdp/sdp.h).
//
// The input is an SDP body as a peer sends it. What parse() accepts is rewritten with the
// plan the relay would make for it: every stream relayed to 198.18.0.1:20000 (RTCP 20001),
// or to [2001:2::1]:20000 when the stream's own c= is IPv6 (the relay answers a leg in its
// family) -- or, with one more input bit, the other way round (v4 <-> v6 bridging) --, ICE
// removed, a=crypto replaced by one line of ours. That plan is valid for any parsed SDP,
// so the rewrite must succeed, and its output must parse again and say what the plan said
// (no session-level a=crypto either: rewrite() always drops those);
// rewriting that output again with the same plan must change nothing.
// Input bits that the parser never looks at (the length, the parity of the last byte) vary
// the parts of the plan that change which lines are written: origin, session c=, proto,
// a=rtcp-mux (kept, dropped, added), streams refused (port 0, nothing of the sender's) and
// the family each stream is relayed in.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "control/sdp/sdp.h"

namespace {

namespace sdp = rtprelay::sdp;

constexpr std::string_view relay_address = "198.18.0.1";
constexpr std::string_view relay_address6 = "2001:2::1";
constexpr uint16_t relay_port = 20000;
constexpr std::string_view our_crypto = "1 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd";

[[noreturn]] void fail(std::string_view what, std::string_view text) {
    std::fprintf(stderr, "fuzz_sdp: %.*s\n--- SDP ---\n%.*s\n", static_cast<int>(what.size()), what.data(),
                 static_cast<int>(text.size()), text.data());
    std::abort();
}

bool is_rtp(const sdp::media& m) { return m.proto.rfind("RTP/", 0) == 0; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    std::string error;
    const auto sd = sdp::parse(text, &error);
    if (!sd) {
        if (error.empty()) {
            fail("parse failed without an error message", text);
        }
        return 0;
    }
    if (sd->medias.size() > sdp::max_medias) {
        fail("more m= lines than max_medias", text);
    }
    for (size_t i = 0; i < sd->medias.size(); ++i) {
        if (const sdp::connection* c = sdp::effective_connection(*sd, i)) {
            (void)sdp::is_hold_address(c->address);
        }
    }

    const bool variant_a = (size & 1) != 0;
    const bool variant_b = size > 0 && (data[size - 1] & 1) != 0;
    // rtcp-mux (unset, off, on) per stream, and refused streams (port 0), from the length's
    // higher bits (the parser does not look at them either).
    const auto knobs = static_cast<uint8_t>(size >> 1);
    auto mux_of = [knobs](size_t i) -> std::optional<bool> {
        switch ((knobs >> (i % 4)) & 3) {
            case 1:
                return false;
            case 2:
                return true;
            default:
                return std::nullopt;
        }
    };
    auto refused = [knobs](size_t i) { return (knobs & 0x80) != 0 && i % 3 == 1; };
    // The family each stream is relayed in: its c='s, or (a bit mux_of does not use) the
    // other one.
    const bool bridge = (knobs & 0x20) != 0;
    auto relayed_v6 = [&](const sdp::session_description& d, size_t i) {
        const sdp::connection* c = sdp::effective_connection(d, i);
        return (c != nullptr && c->addrtype == "IP6") != bridge;
    };
    sdp::rewrite_plan plan;
    plan.replace_origin = variant_a;
    const bool origin6 = !sd->medias.empty() && relayed_v6(*sd, 0);
    plan.origin_address = std::string(origin6 ? relay_address6 : relay_address);
    plan.origin_addrtype = origin6 ? "IP6" : "IP4";
    plan.replace_session_connection = !variant_b;
    for (const sdp::media& m : sd->medias) {
        const size_t i = plan.medias.size();
        const bool v6 = relayed_v6(*sd, i);
        sdp::media_plan mp;
        mp.relay = true;
        mp.address = std::string(v6 ? relay_address6 : relay_address);
        mp.addrtype = v6 ? "IP6" : "IP4";
        mp.port = relay_port;
        mp.rtcp_port = relay_port + 1;
        mp.remove_ice = true;
        if (refused(i)) {
            mp.reject = true;
            mp.port = 0;
            mp.rtcp_port = 0;
            mp.replace_crypto = true;
        } else if (is_rtp(m)) {
            mp.replace_crypto = true;
            mp.crypto = {std::string(our_crypto)};
            mp.rtcp_mux = mux_of(i);
            if (variant_b) {
                mp.proto = m.proto == "RTP/AVP" ? "RTP/SAVP" : "RTP/AVP";
            }
        }
        plan.medias.push_back(std::move(mp));
    }

    const auto out = sdp::rewrite(text, *sd, plan, &error);
    if (!out) {
        fail("rewrite refused a valid plan: " + error, text);
    }
    const auto again = sdp::parse(*out, &error);
    if (!again) {
        fail("rewrite output does not parse: " + error + "\n--- output ---\n" + *out, text);
    }
    if (again->medias.size() != sd->medias.size()) {
        fail("rewrite changed the number of streams\n--- output ---\n" + *out, text);
    }
    bool any_relayed = false;
    for (size_t i = 0; i < sd->medias.size(); ++i) {
        const sdp::media& before = sd->medias[i];
        const sdp::media& after = again->medias[i];
        if (before.port == 0) {
            if (after.port != 0) {
                fail("a disabled stream got a port\n--- output ---\n" + *out, text);
            }
            continue;
        }
        any_relayed = true;
        if (refused(i)) {
            if (after.port != 0 || after.rtcp_port || after.rtcp_mux || after.has_ice || !after.crypto.empty()) {
                fail("stream " + std::to_string(i + 1) + " refused but not port 0 and bare\n--- output ---\n" + *out,
                     text);
            }
            continue;
        }
        if (const auto mux = plan.medias[i].rtcp_mux; mux && after.rtcp_mux != *mux) {
            fail("stream " + std::to_string(i + 1) + " a=rtcp-mux not as planned\n--- output ---\n" + *out, text);
        }
        // The address: the relay's, of the family planned, except that hold (0.0.0.0, ::)
        // stays hold. An SDP without any c= (invalid, but parse() leaves that to the
        // caller) gets none.
        const sdp::connection* c_before = sdp::effective_connection(*sd, i);
        const sdp::connection* c = sdp::effective_connection(*again, i);
        const sdp::media_plan& mp = plan.medias[i];
        const bool address_ok =
            c_before == nullptr || (c != nullptr && (sdp::is_hold_address(c_before->address)
                                                         ? sdp::is_hold_address(c->address)
                                                         : c->address == mp.address && c->addrtype == mp.addrtype));
        if (after.port != relay_port || after.has_ice || !address_ok) {
            fail("stream " + std::to_string(i + 1) + " not relayed as planned\n--- output ---\n" + *out, text);
        }
        if (before.rtcp_port && after.rtcp_port != relay_port + 1) {
            fail("stream " + std::to_string(i + 1) + " a=rtcp not rewritten\n--- output ---\n" + *out, text);
        }
        if (is_rtp(before) && (after.crypto.size() != 1 || after.crypto[0].value != our_crypto)) {
            fail("stream " + std::to_string(i + 1) + " a=crypto not replaced\n--- output ---\n" + *out, text);
        }
    }
    if (again->session_crypto_lines != 0) {
        fail("session-level a=crypto (the sender's key) kept\n--- output ---\n" + *out, text);
    }
    if (any_relayed && again->has_ice) {
        fail("session-level ICE kept although every relayed stream removes it\n--- output ---\n" + *out, text);
    }

    // The relay rewrites its own answers again on re-INVITEs: the same plan (without the
    // proto switch, which flips each time) must leave its output as it is.
    if (!variant_b) {
        const auto twice = sdp::rewrite(*out, *again, plan, &error);
        if (!twice) {
            fail("rewrite refused its own output: " + error + "\n--- output ---\n" + *out, text);
        }
        if (*twice != *out) {
            fail("rewrite is not idempotent\n--- output ---\n" + *out + "\n--- again ---\n" + *twice, text);
        }
    }
    return 0;
}
