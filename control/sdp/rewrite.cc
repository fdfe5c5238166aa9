// rewrite(): one pass over the lines, copying each one the relay does not own byte for
// byte. What to change is decided up front (session c= address, session ICE lines), then
// per section; lines are only inserted for a missing media-level c= and for new a=crypto.

#include <exception>
#include <string>

#include "control/sdp/fields.h"
#include "control/sdp/lines.h"
#include "control/sdp/plan_check.h"
#include "control/sdp/sdp.h"

namespace rtprelay::sdp {

namespace {

using detail::line;

// Appends lines. A line without an ending (the input's last) gets `fallback` as soon as
// another line follows it, so that an insertion never glues two lines together.
class emitter {
 public:
    emitter(std::string& out, std::string_view fallback) : out_(out), fallback_(fallback) {}

    void emit(std::string_view text, std::string_view ending) {
        if (open_) {
            out_ += fallback_;
        }
        out_ += text;
        out_ += ending;
        open_ = ending.empty();
    }

 private:
    std::string& out_;
    std::string_view fallback_;
    bool open_ = false;
};

std::string connection_line(std::string_view addrtype, std::string_view address) {
    return "c=IN " + std::string(addrtype) + " " + std::string(address);
}

// State of the m= section being written.
struct section {
    size_t index = 0;
    bool relayed = false;
    std::string_view ending;      // of the m= line; used by inserted lines
    std::string pending_c;        // c= line to insert after the m= and i= lines
    bool crypto_pending = false;  // new a=crypto lines due before the first a= line
    bool crypto_done = false;     // new a=crypto lines written
    bool mux_done = false;        // a=rtcp-mux written (media_plan::rtcp_mux)
};

class rewriter {
 public:
    rewriter(std::string_view text, const session_description& sd, const rewrite_plan& plan, std::string& out)
        : sd_(sd), plan_(plan), out_(out, detail::first_line_ending(text)) {}

    void decide_session();
    bool on_line(const line& l);
    bool finish();
    const std::string& error() const { return error_; }

 private:
    bool mismatch();
    bool session_line(const line& l);
    bool begin_section(const line& l);
    bool media_line(const line& l);
    bool relayed_attribute(const line& l, const media_plan& mp);
    void flush_pending_c();
    void end_section();
    void write_crypto(const media_plan& mp, std::string_view ending);

    const session_description& sd_;
    const rewrite_plan& plan_;
    emitter out_;
    std::string error_;
    // Decided before the first line.
    bool replace_session_c_ = false;
    std::string_view session_addrtype_;  // what the session c= says once written
    std::string_view session_address_;
    bool drop_session_ice_ = false;
    bool in_media_ = false;
    size_t next_index_ = 0;
    section cur_;
};

bool rewriter::mismatch() {
    error_ = "SDP rewrite: text does not match the parsed SDP";
    return false;
}

void rewriter::decide_session() {
    bool any_relayed = false;
    bool all_remove_ice = true;
    size_t pick = sd_.medias.size();
    for (size_t i = 0; i < sd_.medias.size(); ++i) {
        if (!detail::is_relayed(sd_, plan_, i)) {
            continue;
        }
        any_relayed = true;
        all_remove_ice = all_remove_ice && plan_.medias[i].remove_ice;
        // A refused stream (port 0 once written) does not give the session c= its address:
        // with streams of two families, the next rewrite of the output would pick another.
        if (plan_.medias[i].reject) {
            continue;
        }
        // Prefer a stream that relies on the session c=: then it needs no c= of its own.
        const bool relies = !sd_.medias[i].conn;
        if (pick == sd_.medias.size() || (relies && sd_.medias[pick].conn)) {
            pick = i;
        }
    }
    drop_session_ice_ = any_relayed && all_remove_ice;
    if (!sd_.conn) {
        return;
    }
    session_addrtype_ = sd_.conn->addrtype;
    session_address_ = sd_.conn->address;
    if (pick == sd_.medias.size()) {
        // No stream is relayed (all disabled): the session c= still must not show the
        // other side's address; use the one the plan gives for a stream, if any.
        for (size_t i = 0; i < plan_.medias.size(); ++i) {
            if (detail::is_token(plan_.medias[i].address) && !plan_.medias[i].addrtype.empty()) {
                pick = i;
                break;
            }
        }
    }
    if (plan_.replace_session_connection && !is_hold_address(sd_.conn->address) && pick < sd_.medias.size()) {
        replace_session_c_ = true;
        session_addrtype_ = plan_.medias[pick].addrtype;
        session_address_ = plan_.medias[pick].address;
    }
}

bool rewriter::on_line(const line& l) {
    if (l.type() == 'm') {
        end_section();
        return begin_section(l);
    }
    if (!in_media_) {
        return session_line(l);
    }
    return media_line(l);
}

bool rewriter::finish() {
    end_section();
    return next_index_ == sd_.medias.size() ? true : mismatch();
}

// What is still due at the end of the section being written: its c=, its new a=crypto
// lines (when it had no a= line to put them before), and an a=rtcp-mux it did not have.
void rewriter::end_section() {
    flush_pending_c();
    if (!in_media_) {
        return;
    }
    if (cur_.crypto_pending) {
        write_crypto(plan_.medias[cur_.index], cur_.ending);
    }
    const media_plan& mp = plan_.medias[cur_.index];
    if (cur_.relayed && mp.rtcp_mux.value_or(false) && !cur_.mux_done) {
        out_.emit("a=rtcp-mux", cur_.ending);
        cur_.mux_done = true;
    }
}

bool rewriter::session_line(const line& l) {
    const char type = l.type();
    if (type == 'o' && plan_.replace_origin) {
        // Keep username, session id and version; replace address type and address.
        const std::string_view value = l.value();
        const auto words = split_words(value);
        if (words.size() < 6) {
            return mismatch();
        }
        const size_t keep = static_cast<size_t>(words[words.size() - 2].data() - value.data());
        out_.emit("o=" + std::string(value.substr(0, keep)) + plan_.origin_addrtype + " " + plan_.origin_address,
                  l.ending);
        return true;
    }
    if (type == 'c' && replace_session_c_) {
        out_.emit(connection_line(session_addrtype_, session_address_), l.ending);
        return true;
    }
    if (type == 'a') {
        const auto name = detail::split_attribute(detail::trim_trailing(l.value())).name;
        // A session-level a=crypto (not valid, RFC 4568 puts it in media sections) still
        // carries the sender's key: it never reaches the other side.
        if (name == "crypto" || (drop_session_ice_ && detail::is_ice_attribute(name))) {
            return true;
        }
    }
    out_.emit(l.text, l.ending);
    return true;
}

bool rewriter::begin_section(const line& l) {
    if (next_index_ >= sd_.medias.size()) {
        return mismatch();
    }
    const size_t i = next_index_++;
    const media& m = sd_.medias[i];
    in_media_ = true;
    cur_ = section{};
    cur_.index = i;
    cur_.relayed = detail::is_relayed(sd_, plan_, i);
    cur_.ending = l.ending;
    const bool relies_on_session = !m.conn;
    if (!cur_.relayed) {
        // Keep the untouched stream pointed where it was if the session c= moves.
        if (m.port != 0 && relies_on_session && replace_session_c_) {
            cur_.pending_c = connection_line(sd_.conn->addrtype, sd_.conn->address);
        }
        out_.emit(l.text, l.ending);
        return true;
    }
    const media_plan& mp = plan_.medias[i];
    if (relies_on_session) {
        const bool hold = sd_.conn && is_hold_address(sd_.conn->address);
        const bool same = sd_.conn && session_address_ == mp.address && session_addrtype_ == mp.addrtype;
        if (!hold && !same) {
            cur_.pending_c = connection_line(mp.addrtype, mp.address);
        }
    }
    cur_.crypto_pending = mp.replace_crypto && m.crypto.empty();

    const std::string_view value = l.value();
    const auto words = split_words(value);
    if (words.size() < 3) {
        return mismatch();
    }
    // Formats (and whatever follows the proto) are kept as written.
    const size_t tail = static_cast<size_t>(words[2].data() + words[2].size() - value.data());
    const std::string_view proto = mp.proto ? std::string_view(*mp.proto) : words[2];
    out_.emit("m=" + std::string(words[0]) + " " + std::to_string(mp.port) + " " + std::string(proto) +
                  std::string(value.substr(tail)),
              l.ending);
    return true;
}

bool rewriter::media_line(const line& l) {
    const char type = l.type();
    if (type != 'i') {
        flush_pending_c();
    }
    if (!cur_.relayed) {
        // A stream left alone still loses its keys when asked: an a=crypto line carries
        // the sender's key and must never reach the other side, even on a port-0 stream.
        if (type == 'a' && cur_.index < plan_.medias.size() && plan_.medias[cur_.index].replace_crypto &&
            detail::split_attribute(detail::trim_trailing(l.value())).name == "crypto") {
            return true;
        }
        out_.emit(l.text, l.ending);
        return true;
    }
    const media& m = sd_.medias[cur_.index];
    const media_plan& mp = plan_.medias[cur_.index];
    if (type == 'c') {
        if (!m.conn) {
            return mismatch();
        }
        if (is_hold_address(m.conn->address)) {
            out_.emit(l.text, l.ending);
        } else {
            out_.emit(connection_line(mp.addrtype, mp.address), l.ending);
        }
        return true;
    }
    if (type == 'a') {
        if (cur_.crypto_pending) {
            write_crypto(mp, cur_.ending);
        }
        return relayed_attribute(l, mp);
    }
    out_.emit(l.text, l.ending);
    return true;
}

bool rewriter::relayed_attribute(const line& l, const media_plan& mp) {
    const auto attr = detail::split_attribute(detail::trim_trailing(l.value()));
    if (mp.remove_ice && detail::is_ice_attribute(attr.name)) {
        return true;
    }
    if (mp.reject && (attr.name == "rtcp" || attr.name == "rtcp-mux" || detail::is_ice_attribute(attr.name))) {
        return true;  // a refused stream has no ports, and the sender's would leak
    }
    if (attr.name == "crypto" && mp.replace_crypto) {
        // The new lines go where the first old one was; the other old ones are dropped.
        if (!cur_.crypto_done) {
            write_crypto(mp, l.ending);
        }
        return true;
    }
    if (attr.name == "rtcp-mux" && mp.rtcp_mux) {
        // The relay decides per leg (RFC 5761 5.1.1): kept where it was when it stays,
        // dropped otherwise; duplicates go.
        if (*mp.rtcp_mux && !cur_.mux_done) {
            out_.emit(l.text, l.ending);
            cur_.mux_done = true;
        }
        return true;
    }
    if (attr.name == "rtcp") {
        const auto words = split_words(attr.value);
        std::string text = "a=rtcp:" + std::to_string(mp.rtcp_port);
        if (words.size() == 4) {
            // An address given for RTCP is the relay's too, except a hold address.
            if (is_hold_address(words[3].substr(0, words[3].find('/')))) {
                text += " IN " + std::string(words[2]) + " " + std::string(words[3]);
            } else {
                text += " IN " + mp.addrtype + " " + mp.address;
            }
        } else if (words.size() != 1) {
            return mismatch();
        }
        out_.emit(text, l.ending);
        return true;
    }
    out_.emit(l.text, l.ending);
    return true;
}

void rewriter::flush_pending_c() {
    if (!cur_.pending_c.empty()) {
        out_.emit(cur_.pending_c, cur_.ending);
        cur_.pending_c.clear();
    }
}

void rewriter::write_crypto(const media_plan& mp, std::string_view ending) {
    for (const std::string& value : mp.crypto) {
        out_.emit("a=crypto:" + value, ending);
    }
    cur_.crypto_pending = false;
    cur_.crypto_done = true;
}

}  // namespace

std::optional<std::string> rewrite(std::string_view text, const session_description& sd, const rewrite_plan& plan,
                                   std::string* error) {
    std::string reason = detail::check_plan(sd, plan);
    if (reason.empty()) {
        // Only std::bad_alloc can be thrown here; the NG server must see an error instead.
        try {
            std::string out;
            out.reserve(text.size() + 256);
            rewriter r(text, sd, plan, out);
            r.decide_session();
            detail::line_reader reader(text);
            line l;
            bool ok = true;
            while (ok && reader.next(l)) {
                ok = r.on_line(l);
            }
            if (ok && r.finish()) {
                return out;
            }
            reason = r.error();
        } catch (const std::exception&) {
            reason = "SDP rewrite: out of memory";
        }
    }
    if (error != nullptr) {
        *error = std::move(reason);
    }
    return std::nullopt;
}

}  // namespace rtprelay::sdp
