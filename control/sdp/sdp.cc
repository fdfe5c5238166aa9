// parse() and the small queries on its result. rewrite() lives in rewrite.cc.

#include "control/sdp/sdp.h"

#include <exception>
#include <string>

#include "control/sdp/fields.h"
#include "control/sdp/lines.h"

namespace rtprelay::sdp {

namespace {

using detail::line;

class parser {
 public:
    std::optional<session_description> run(std::string_view text);
    const std::string& error() const { return error_; }

 private:
    bool fail(const line& l, std::string_view what);
    bool on_line(const line& l);
    bool on_origin(const line& l);
    bool on_connection(const line& l);
    bool on_media(const line& l);
    bool on_attribute(const line& l);
    bool on_rtcp(const line& l, std::string_view value, media& m);
    media* current() { return sd_.medias.empty() ? nullptr : &sd_.medias.back(); }

    session_description sd_;
    std::string error_;
    bool seen_v_ = false;
    bool seen_o_ = false;
};

bool parser::fail(const line& l, std::string_view what) {
    error_ = "SDP: line " + std::to_string(l.number) + ": " + std::string(what);
    return false;
}

std::optional<session_description> parser::run(std::string_view text) {
    if (text.size() > max_text_bytes) {
        error_ = "SDP: larger than 64 KiB";
        return std::nullopt;
    }
    detail::line_reader reader(text);
    line l;
    while (reader.next(l)) {
        if (!on_line(l)) {
            return std::nullopt;
        }
    }
    if (!seen_v_) {
        error_ = text.empty() ? "SDP: empty" : "SDP: no v= line";
        return std::nullopt;
    }
    if (!seen_o_) {
        error_ = "SDP: no o= line";
        return std::nullopt;
    }
    return std::move(sd_);
}

bool parser::on_line(const line& l) {
    // Tolerated: some user agents end the body with an extra blank line.
    if (l.text.empty()) {
        return true;
    }
    for (const char c : l.text) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7f) {
            return fail(l, "control character");
        }
    }
    const char type = l.type();
    if (type == 0) {
        return fail(l, "not a <letter>=<value> line");
    }
    if (!seen_v_) {
        if (type != 'v') {
            return fail(l, "SDP must start with v=");
        }
        if (detail::trim_trailing(l.value()) != "0") {
            return fail(l, "v= must be 0");
        }
        seen_v_ = true;
        return true;
    }
    switch (type) {
        case 'v':
            return fail(l, "second v= line");
        case 'o':
            return on_origin(l);
        case 'c':
            return on_connection(l);
        case 'm':
            return on_media(l);
        case 'a':
            return on_attribute(l);
        default:
            // s=, t=, i=, b=, k=, r=, z=, ... carry nothing the relay needs.
            return true;
    }
}

bool parser::on_origin(const line& l) {
    if (current() != nullptr) {
        return fail(l, "o= inside a media section");
    }
    if (seen_o_) {
        return fail(l, "second o= line");
    }
    // Six fields; the address is taken from the end so that a username with blanks (seen
    // from broken user agents) still parses.
    const auto words = split_words(l.value());
    if (words.size() < 6) {
        return fail(l, "o= needs 6 fields");
    }
    const size_t n = words.size();
    if (words[n - 3] != "IN" || (words[n - 2] != "IP4" && words[n - 2] != "IP6")) {
        return fail(l, "o= must be IN IP4 or IN IP6");
    }
    sd_.origin_address = std::string(words[n - 1]);
    seen_o_ = true;
    return true;
}

bool parser::on_connection(const line& l) {
    const auto words = split_words(l.value());
    auto conn = detail::parse_connection(words);
    if (!conn) {
        return fail(l, "c= must be IN IP4 <address> or IN IP6 <address>");
    }
    media* m = current();
    // Several c= lines only make sense for layered multicast; rewriting one and leaving
    // the other would leak an address, so refuse.
    std::optional<connection>& slot = m != nullptr ? m->conn : sd_.conn;
    if (slot) {
        return fail(l, "second c= line in the same section");
    }
    slot = std::move(conn);
    return true;
}

bool parser::on_media(const line& l) {
    if (sd_.medias.size() >= max_medias) {
        return fail(l, "more than 64 m= lines");
    }
    const auto words = split_words(l.value());
    if (words.size() < 3) {
        return fail(l, "m= needs <media> <port> <proto> <formats>");
    }
    media m;
    m.type = std::string(words[0]);
    const std::string_view port_field = words[1];
    const size_t slash = port_field.find('/');
    const std::string_view port_text = port_field.substr(0, slash);
    if (!is_digits(port_text)) {
        return fail(l, "m= port not a number");
    }
    const auto port = detail::parse_number(port_text, 65535);
    if (!port) {
        return fail(l, "m= port out of range");
    }
    m.port = static_cast<uint16_t>(*port);
    if (slash != std::string_view::npos) {
        const auto count = detail::parse_number(port_field.substr(slash + 1), 65535);
        if (!count || *count == 0) {
            return fail(l, "m= port count not a number from 1 to 65535");
        }
        m.port_count = static_cast<uint16_t>(*count);
    }
    m.proto = std::string(words[2]);
    const bool rtp = detail::is_rtp_proto(m.proto);
    for (size_t i = 3; i < words.size(); ++i) {
        if (rtp && !detail::parse_number(words[i], 127)) {
            return fail(l, "m= payload type not a number from 0 to 127");
        }
        m.formats.emplace_back(words[i]);
    }
    sd_.medias.push_back(std::move(m));
    return true;
}

bool parser::on_attribute(const line& l) {
    const auto attr = detail::split_attribute(detail::trim_trailing(l.value()));
    media* m = current();
    if (const auto dir = detail::direction_from_name(attr.name)) {
        (m != nullptr ? m->dir : sd_.dir) = dir;
        return true;
    }
    if (detail::is_ice_attribute(attr.name)) {
        (m != nullptr ? m->has_ice : sd_.has_ice) = true;
        return true;
    }
    // The rest only means something inside a media section.
    if (m == nullptr) {
        sd_.session_crypto_lines += attr.name == "crypto" ? 1 : 0;
        return true;
    }
    if (attr.name == "rtcp") {
        return on_rtcp(l, attr.value, *m);
    }
    if (attr.name == "rtcp-mux") {
        m->rtcp_mux = true;
        return true;
    }
    if (attr.name == "crypto") {
        if (attr.value.empty()) {
            return fail(l, "a=crypto without a value");
        }
        m->crypto.push_back(crypto_line{std::string(attr.value)});
    }
    return true;
}

bool parser::on_rtcp(const line& l, std::string_view value, media& m) {
    if (m.rtcp_port) {
        return fail(l, "second a=rtcp line in the same section");
    }
    const auto words = split_words(value);
    if (words.empty() || (words.size() != 1 && words.size() != 4)) {
        return fail(l, "a=rtcp must be <port> [IN IP4|IP6 <address>]");
    }
    const auto port = detail::parse_number(words[0], 65535);
    if (!port) {
        return fail(l, "a=rtcp port not a number from 0 to 65535");
    }
    if (words.size() == 4) {
        auto conn = detail::parse_connection(std::span(words).subspan(1));
        if (!conn) {
            return fail(l, "a=rtcp address must be IN IP4|IP6 <address>");
        }
        m.rtcp_conn = std::move(conn);
    }
    m.rtcp_port = static_cast<uint16_t>(*port);
    return true;
}

}  // namespace

std::optional<session_description> parse(std::string_view text, std::string* error) {
    std::string reason;
    // The only exception possible is std::bad_alloc (input is capped at 64 KiB); it must not
    // reach the NG server, so it becomes an error like any other.
    try {
        parser p;
        auto sd = p.run(text);
        if (sd) {
            return sd;
        }
        reason = p.error();
    } catch (const std::exception&) {
        reason = "SDP: out of memory";
    }
    if (error != nullptr) {
        *error = std::move(reason);
    }
    return std::nullopt;
}

const connection* effective_connection(const session_description& sd, size_t media_index) {
    if (media_index >= sd.medias.size()) {
        return nullptr;
    }
    const media& m = sd.medias[media_index];
    if (m.conn) {
        return &*m.conn;
    }
    return sd.conn ? &*sd.conn : nullptr;
}

bool is_rtp_proto(std::string_view proto) { return detail::is_rtp_proto(proto); }

bool is_hold_address(std::string_view address) { return address == "0.0.0.0" || address == "::"; }

}  // namespace rtprelay::sdp
