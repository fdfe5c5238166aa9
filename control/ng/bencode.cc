#include "control/ng/bencode.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cstdint>
#include <limits>
#include <utility>

namespace rtprelay::ng {

value::value() = default;
value::~value() = default;

value::value(const value& o) : type_(o.type_), s_(o.s_), i_(o.i_) {
    if (o.l_) {
        l_ = std::make_unique<list_t>(*o.l_);
    }
    if (o.d_) {
        d_ = std::make_unique<dict_t>(*o.d_);
    }
}

value& value::operator=(const value& o) {
    if (this != &o) {
        value copy(o);
        *this = std::move(copy);
    }
    return *this;
}

value value::str(std::string s) {
    value v;
    v.s_ = std::move(s);
    return v;
}

value value::integer(int64_t i) {
    value v;
    v.type_ = type::integer;
    v.i_ = i;
    return v;
}

value value::list(list_t items) {
    value v;
    v.type_ = type::list;
    v.l_ = std::make_unique<list_t>(std::move(items));
    return v;
}

value value::dict(dict_t items) {
    value v;
    v.type_ = type::dict;
    v.d_ = std::make_unique<dict_t>(std::move(items));
    return v;
}

value::type value::kind() const { return type_; }
bool value::is_string() const { return type_ == type::string; }
bool value::is_integer() const { return type_ == type::integer; }
bool value::is_list() const { return type_ == type::list; }
bool value::is_dict() const { return type_ == type::dict; }

const std::string& value::as_string() const {
    static const std::string empty;
    return is_string() ? s_ : empty;
}

int64_t value::as_integer() const { return is_integer() ? i_ : 0; }

const value::list_t& value::as_list() const {
    static const list_t empty;
    return is_list() && l_ ? *l_ : empty;
}

const value::dict_t& value::as_dict() const {
    static const dict_t empty;
    return is_dict() && d_ ? *d_ : empty;
}

value::list_t& value::as_list() {
    assert(is_list() && l_);
    return *l_;
}

value::dict_t& value::as_dict() {
    assert(is_dict() && d_);
    return *d_;
}

const value* value::find(std::string_view key) const {
    if (!is_dict() || !d_) {
        return nullptr;
    }
    auto it = d_->find(key);
    return it == d_->end() ? nullptr : &it->second;
}

std::optional<std::string_view> value::find_string(std::string_view key) const {
    const value* v = find(key);
    if (v == nullptr || !v->is_string()) {
        return std::nullopt;
    }
    return std::string_view(v->s_);
}

value& value::set(std::string key, value v) {
    as_dict().insert_or_assign(std::move(key), std::move(v));
    return *this;
}

bool operator==(const value& a, const value& b) {
    if (a.type_ != b.type_) {
        return false;
    }
    switch (a.type_) {
        case value::type::string:
            return a.s_ == b.s_;
        case value::type::integer:
            return a.i_ == b.i_;
        case value::type::list:
            return a.as_list() == b.as_list();
        case value::type::dict:
            return a.as_dict() == b.as_dict();
    }
    return false;
}

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Recursive descent over untrusted bytes. Recursion is bounded by max_depth, so the stack
// cost is ~32 frames at worst. Every read checks pos_ against the input size first.
class decoder {
 public:
    explicit decoder(std::string_view in) : in_(in) {}

    bool parse(value* out, unsigned depth);
    size_t pos() const { return pos_; }
    const std::string& error() const { return error_; }

    bool fail(std::string_view what, size_t at) {
        error_ = "bencode: ";
        error_ += what;
        error_ += " at offset ";
        error_ += std::to_string(at);
        return false;
    }

 private:
    bool at_end() const { return pos_ >= in_.size(); }
    bool count_item();
    bool parse_integer(value* out);
    bool parse_string(std::string* out);
    bool parse_list(value* out, unsigned depth);
    bool parse_dict(value* out, unsigned depth);

    std::string_view in_;
    size_t pos_ = 0;
    size_t items_ = 0;
    std::string error_;
};

bool decoder::count_item() {
    if (++items_ > max_items) {
        return fail("more than " + std::to_string(max_items) + " items", pos_);
    }
    return true;
}

bool decoder::parse(value* out, unsigned depth) {
    if (at_end()) {
        return fail("truncated input", pos_);
    }
    if (!count_item()) {
        return false;
    }
    const char c = in_[pos_];
    if (c == 'i') {
        return parse_integer(out);
    }
    if (c == 'l') {
        return parse_list(out, depth);
    }
    if (c == 'd') {
        return parse_dict(out, depth);
    }
    if (is_digit(c)) {
        std::string s;
        if (!parse_string(&s)) {
            return false;
        }
        *out = value::str(std::move(s));
        return true;
    }
    static constexpr char hex[] = "0123456789abcdef";
    const auto u = static_cast<unsigned char>(c);
    std::string what = "unexpected byte ";
    if (u >= 0x20 && u < 0x7f) {
        what += '\'';
        what += c;
        what += '\'';
    } else {
        what += "0x";
        what += hex[u >> 4];
        what += hex[u & 0xf];
    }
    return fail(what, pos_);
}

bool decoder::parse_integer(value* out) {
    const size_t start = pos_;
    ++pos_;  // 'i'
    const bool negative = !at_end() && in_[pos_] == '-';
    if (negative) {
        ++pos_;
    }
    if (at_end()) {
        return fail("truncated integer", start);
    }
    if (!is_digit(in_[pos_])) {
        return fail("bad integer", start);
    }
    if (in_[pos_] == '0' && (negative || (pos_ + 1 < in_.size() && is_digit(in_[pos_ + 1])))) {
        return fail(negative ? "negative zero integer" : "integer with leading zero", start);
    }
    // Magnitude in uint64 so INT64_MIN (magnitude 2^63) is representable.
    const uint64_t limit = negative ? uint64_t{1} << 63 : uint64_t{std::numeric_limits<int64_t>::max()};
    uint64_t magnitude = 0;
    while (!at_end() && is_digit(in_[pos_])) {
        const auto d = static_cast<uint64_t>(in_[pos_] - '0');
        if (magnitude > (limit - d) / 10) {
            return fail("integer overflows int64", start);
        }
        magnitude = magnitude * 10 + d;
        ++pos_;
    }
    if (at_end()) {
        return fail("truncated integer", start);
    }
    if (in_[pos_] != 'e') {
        return fail("bad integer", start);
    }
    ++pos_;
    int64_t i = 0;
    if (!negative) {
        i = static_cast<int64_t>(magnitude);
    } else if (magnitude == limit) {
        i = std::numeric_limits<int64_t>::min();
    } else {
        i = -static_cast<int64_t>(magnitude);
    }
    *out = value::integer(i);
    return true;
}

bool decoder::parse_string(std::string* out) {
    const size_t start = pos_;
    if (at_end() || !is_digit(in_[pos_])) {
        return fail("bad string length", start);
    }
    if (in_[pos_] == '0' && pos_ + 1 < in_.size() && is_digit(in_[pos_ + 1])) {
        return fail("string length with leading zero", start);
    }
    // Any length beyond the whole input is an error before it can become an allocation or
    // overflow: the running value never exceeds in_.size() * 10 + 9.
    size_t len = 0;
    while (!at_end() && is_digit(in_[pos_])) {
        len = len * 10 + static_cast<size_t>(in_[pos_] - '0');
        if (len > in_.size()) {
            return fail("string length exceeds input", start);
        }
        ++pos_;
    }
    if (at_end()) {
        return fail("truncated string", start);
    }
    if (in_[pos_] != ':') {
        return fail("bad string length", start);
    }
    ++pos_;
    if (len > in_.size() - pos_) {
        return fail("truncated string", start);
    }
    out->assign(in_.substr(pos_, len));
    pos_ += len;
    return true;
}

bool decoder::parse_list(value* out, unsigned depth) {
    const size_t start = pos_;
    if (depth >= max_depth) {
        return fail("nesting deeper than " + std::to_string(max_depth), start);
    }
    ++pos_;  // 'l'
    value::list_t items;
    for (;;) {
        if (at_end()) {
            return fail("unterminated list", start);
        }
        if (in_[pos_] == 'e') {
            ++pos_;
            break;
        }
        value item;
        if (!parse(&item, depth + 1)) {
            return false;
        }
        items.push_back(std::move(item));
    }
    *out = value::list(std::move(items));
    return true;
}

bool decoder::parse_dict(value* out, unsigned depth) {
    const size_t start = pos_;
    if (depth >= max_depth) {
        return fail("nesting deeper than " + std::to_string(max_depth), start);
    }
    ++pos_;  // 'd'
    value::dict_t items;
    items.reserve(8);  // an NG request's top-level dict has ~10 keys, a flags dict a few
    bool in_order = true;
    size_t first_unordered = 0;   // index of the first key out of order
    std::vector<size_t> offsets;  // input offsets of that key and those after it
    for (;;) {
        if (at_end()) {
            return fail("unterminated dict", start);
        }
        if (in_[pos_] == 'e') {
            ++pos_;
            break;
        }
        const size_t key_at = pos_;
        if (!is_digit(in_[pos_])) {
            return fail("dict key is not a string", key_at);
        }
        if (!count_item()) {
            return false;
        }
        std::string key;
        if (!parse_string(&key)) {
            return false;
        }
        if (at_end()) {
            return fail("dict key without value", key_at);
        }
        value item;
        if (!parse(&item, depth + 1)) {
            return false;
        }
        // Peers may send keys unsorted (Kamailio does; we sort on encode): appended as
        // they come, sorted once at the end (inserting each in place was O(n^2): 90 ms
        // for 2,000 keys in reverse order).
        auto& raw = items.unsorted_storage();
        if (in_order && !raw.empty() && !(std::string_view(raw.back().first) < std::string_view(key))) {
            in_order = false;
            first_unordered = raw.size();
        }
        if (!in_order) {
            offsets.push_back(key_at);
        }
        raw.emplace_back(std::move(key), std::move(item));
    }
    if (!in_order) {
        // A repeated key makes the request ambiguous, so it is refused rather than silently
        // resolved. Keys before first_unordered rise strictly, so every repeat's later
        // copy lies after it and has its offset recorded; the error names the earliest.
        auto& raw = items.unsorted_storage();
        std::vector<size_t> order(raw.size());
        for (size_t k = 0; k < order.size(); ++k) {
            order[k] = k;
        }
        std::stable_sort(order.begin(), order.end(),
                         [&raw](size_t a, size_t b) { return raw[a].first < raw[b].first; });
        size_t duplicate_at = SIZE_MAX;
        for (size_t k = 1; k < order.size(); ++k) {
            if (raw[order[k]].first == raw[order[k - 1]].first) {
                duplicate_at = std::min(duplicate_at, offsets[order[k] - first_unordered]);
            }
        }
        if (duplicate_at != SIZE_MAX) {
            return fail("duplicate dict key", duplicate_at);
        }
        value::dict_t::storage sorted;
        sorted.reserve(raw.size());
        for (size_t k : order) {
            sorted.push_back(std::move(raw[k]));
        }
        raw = std::move(sorted);
    }
    *out = value::dict(std::move(items));
    return true;
}

}  // namespace

std::optional<value> decode_prefix(std::string_view in, size_t* consumed, std::string* error) {
    decoder d(in);
    if (in.empty()) {
        if (error != nullptr) {
            *error = "bencode: empty input";
        }
        return std::nullopt;
    }
    value v;
    if (!d.parse(&v, 0)) {
        if (error != nullptr) {
            *error = d.error();
        }
        return std::nullopt;
    }
    if (consumed != nullptr) {
        *consumed = d.pos();
    }
    return v;
}

std::optional<value> decode(std::string_view in, std::string* error) {
    size_t consumed = 0;
    auto v = decode_prefix(in, &consumed, error);
    if (v && consumed != in.size()) {
        if (error != nullptr) {
            *error = "bencode: trailing bytes at offset " + std::to_string(consumed);
        }
        return std::nullopt;
    }
    return v;
}

void encode_string_to(std::string_view s, std::string* out) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, s.size());
    (void)ec;  // 24 bytes always hold a size_t
    out->append(buf, static_cast<size_t>(end - buf));
    out->push_back(':');
    out->append(s);
}

void encode_integer_to(int64_t i, std::string* out) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, i);
    (void)ec;  // 24 bytes always hold an int64
    out->push_back('i');
    out->append(buf, static_cast<size_t>(end - buf));
    out->push_back('e');
}

void encode_to(const value& v, std::string* out) {
    switch (v.kind()) {
        case value::type::string:
            encode_string_to(v.as_string(), out);
            return;
        case value::type::integer:
            encode_integer_to(v.as_integer(), out);
            return;
        case value::type::list:
            out->push_back('l');
            for (const value& item : v.as_list()) {
                encode_to(item, out);
            }
            out->push_back('e');
            return;
        case value::type::dict:
            // flat_dict keeps its keys sorted by byte: the order bencode asks for.
            out->push_back('d');
            for (const auto& [key, item] : v.as_dict()) {
                encode_string_to(key, out);
                encode_to(item, out);
            }
            out->push_back('e');
            return;
    }
}

std::string encode(const value& v) {
    std::string out;
    encode_to(v, &out);
    return out;
}

}  // namespace rtprelay::ng
