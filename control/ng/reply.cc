#include "control/ng/reply.h"

#include <cassert>
#include <utility>

#include "control/ng/bencode_writer.h"
#include "control/ng/json.h"

namespace rtprelay::ng {

result result_kind(const value& reply) {
    const auto r = reply.is_dict() ? reply.find_string("result") : std::nullopt;
    if (r && (*r == "ok" || *r == "pong")) {
        return result::ok;
    }
    if (r && *r == "load limit") {
        return result::load_limit;
    }
    return result::error;
}

reply::reply(value tree) : tree_(std::move(tree)), kind_(result_kind(tree_)) {}

reply reply::ok_bencoded(std::string dict) {
    assert(dict.size() >= 2 && dict.front() == 'd' && dict.back() == 'e');
    reply r;
    r.bencode_ = std::move(dict);
    r.kind_ = result::ok;
    r.bencoded_ = true;
    return r;
}

std::string_view reply::result_text() const {
    return bencoded_ ? std::string_view("ok") : tree_.find_string("result").value_or("");
}

void reply::set_warning(std::string w) {
    if (!bencoded_) {
        tree_.set("warning", value::str(std::move(w)));
        return;
    }
    warning_ = std::move(w);
    has_warning_ = true;
}

std::optional<std::string_view> reply::warning() const {
    if (!bencoded_) {
        return tree_.find_string("warning");
    }
    return has_warning_ ? std::optional<std::string_view>(warning_) : std::nullopt;
}

void reply::encode_to(std::string* out) const {
    if (!bencoded_) {
        ng::encode_to(tree_, out);
        return;
    }
    out->reserve(out->size() + bencode_.size() + (has_warning_ ? warning_.size() + 16 : 0));
    if (!has_warning_) {
        out->append(bencode_);
        return;
    }
    // The dict without its closing 'e', then its greatest key and the 'e'.
    out->append(bencode_, 0, bencode_.size() - 1);
    bencode_writer w(out);
    w.key("warning");
    w.string(warning_);
    w.end();
}

void reply::to_json(std::string* out) const {
    if (!bencoded_) {
        ng::to_json(tree_, out);
        return;
    }
    ng::to_json(reply(*this).take_value(), out);
}

std::string encode(const reply& r) {
    std::string out;
    r.encode_to(&out);
    return out;
}

value reply::take_value() && {
    if (!bencoded_) {
        return std::move(tree_);
    }
    std::string bytes;
    encode_to(&bytes);
    std::string error;
    std::optional<value> v = decode(bytes, &error);
    assert(v);  // our own encoder's output
    return v ? std::move(*v) : value::dict();
}

}  // namespace rtprelay::ng
