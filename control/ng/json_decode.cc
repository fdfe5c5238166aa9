// from_json(): JSON bytes from a peer into an NG value (json.h).

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <vector>

#include "control/ng/json.h"

#include "control/json_string.h"

namespace rtprelay::ng {

namespace {

// Recursive descent over untrusted bytes, bounded like bencode's decoder: depth max_depth
// (~32 frames of stack at worst), max_items values, every read checked against the end.
class json_decoder {
 public:
    explicit json_decoder(std::string_view in) : in_(in) {}

    // One value; false with error() set. `dropped` is set for a null.
    bool parse(value* out, unsigned depth, bool* dropped);
    void skip_blanks() {
        while (pos_ < in_.size() && (in_[pos_] == ' ' || in_[pos_] == '\t' || in_[pos_] == '\n' || in_[pos_] == '\r')) {
            ++pos_;
        }
    }
    bool at_end() const { return pos_ >= in_.size(); }
    size_t pos() const { return pos_; }
    const std::string& error() const { return error_; }
    bool fail(std::string_view what, size_t at) {
        error_ = "JSON: ";
        error_ += what;
        error_ += " at offset ";
        error_ += std::to_string(at);
        return false;
    }

 private:
    bool literal(std::string_view word) {
        if (in_.substr(pos_, word.size()) != word) {
            return fail("unexpected byte", pos_);
        }
        pos_ += word.size();
        return true;
    }
    bool parse_number(value* out);
    bool parse_string(std::string* out);
    bool parse_hex4(uint32_t* cp);
    bool parse_array(value* out, unsigned depth);
    bool parse_object(value* out, unsigned depth);

    std::string_view in_;
    size_t pos_ = 0;
    size_t items_ = 0;
    std::string error_;
};

void append_utf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
        out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

bool json_decoder::parse(value* out, unsigned depth, bool* dropped) {
    skip_blanks();
    if (at_end()) {
        return fail("truncated input", pos_);
    }
    if (++items_ > max_items) {
        return fail("more than " + std::to_string(max_items) + " values", pos_);
    }
    *dropped = false;
    const char c = in_[pos_];
    switch (c) {
        case '{':
            return parse_object(out, depth);
        case '[':
            return parse_array(out, depth);
        case '"': {
            std::string s;
            if (!parse_string(&s)) {
                return false;
            }
            *out = value::str(std::move(s));
            return true;
        }
        case 't':
            *out = value::integer(1);
            return literal("true");
        case 'f':
            *out = value::integer(0);
            return literal("false");
        case 'n':
            *dropped = true;
            return literal("null");
        default:
            if (c == '-' || (c >= '0' && c <= '9')) {
                return parse_number(out);
            }
            return fail("unexpected byte", pos_);
    }
}

bool json_decoder::parse_number(value* out) {
    const size_t start = pos_;
    if (in_[pos_] == '-') {
        ++pos_;
    }
    const size_t digits = pos_;
    while (!at_end() && in_[pos_] >= '0' && in_[pos_] <= '9') {
        ++pos_;
    }
    if (pos_ == digits) {
        return fail("bad number", start);
    }
    if (in_[digits] == '0' && pos_ - digits > 1) {
        return fail("number with leading zero", start);
    }
    if (!at_end() && (in_[pos_] == '.' || in_[pos_] == 'e' || in_[pos_] == 'E')) {
        return fail("number with a fraction or exponent (only integers are NG values)", start);
    }
    int64_t n = 0;
    auto [end, ec] = std::from_chars(in_.data() + start, in_.data() + pos_, n);
    if (ec != std::errc() || end != in_.data() + pos_) {
        return fail("integer outside int64", start);
    }
    *out = value::integer(n);
    return true;
}

bool json_decoder::parse_hex4(uint32_t* cp) {
    if (in_.size() - pos_ < 4) {
        return fail("truncated \\u escape", pos_);
    }
    uint32_t v = 0;
    for (size_t k = 0; k < 4; ++k) {
        const char h = in_[pos_ + k];
        v <<= 4;
        if (h >= '0' && h <= '9') {
            v |= static_cast<uint32_t>(h - '0');
        } else if (h >= 'a' && h <= 'f') {
            v |= static_cast<uint32_t>(h - 'a' + 10);
        } else if (h >= 'A' && h <= 'F') {
            v |= static_cast<uint32_t>(h - 'A' + 10);
        } else {
            return fail("bad \\u escape", pos_);
        }
    }
    pos_ += 4;
    *cp = v;
    return true;
}

bool json_decoder::parse_string(std::string* out) {
    const size_t start = pos_;
    ++pos_;  // '"'
    for (;;) {
        if (at_end()) {
            return fail("unterminated string", start);
        }
        const auto c = static_cast<uint8_t>(in_[pos_]);
        if (c == '"') {
            ++pos_;
            return true;
        }
        if (c < 0x20) {
            return fail("control character in string", pos_);
        }
        if (c >= 0x80) {
            const size_t n = utf8_sequence_length(in_, pos_);
            if (n == 0) {
                return fail("invalid UTF-8", pos_);
            }
            out->append(in_.substr(pos_, n));
            pos_ += n;
            continue;
        }
        if (c != '\\') {
            out->push_back(static_cast<char>(c));
            ++pos_;
            continue;
        }
        const size_t esc = pos_++;
        if (at_end()) {
            return fail("unterminated string", start);
        }
        const char e = in_[pos_++];
        switch (e) {
            case '"':
                out->push_back('"');
                break;
            case '\\':
                out->push_back('\\');
                break;
            case '/':
                out->push_back('/');
                break;
            case 'b':
                out->push_back('\b');
                break;
            case 'f':
                out->push_back('\f');
                break;
            case 'n':
                out->push_back('\n');
                break;
            case 'r':
                out->push_back('\r');
                break;
            case 't':
                out->push_back('\t');
                break;
            case 'u': {
                uint32_t cp = 0;
                if (!parse_hex4(&cp)) {
                    return false;
                }
                if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    return fail("lone low surrogate", esc);
                }
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    uint32_t lo = 0;
                    if (in_.substr(pos_, 2) != "\\u") {
                        return fail("high surrogate without its low half", esc);
                    }
                    pos_ += 2;
                    if (!parse_hex4(&lo)) {
                        return false;
                    }
                    if (lo < 0xDC00 || lo > 0xDFFF) {
                        return fail("high surrogate without its low half", esc);
                    }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                append_utf8(cp, out);
                break;
            }
            default:
                return fail("bad escape", esc);
        }
    }
}

bool json_decoder::parse_array(value* out, unsigned depth) {
    const size_t start = pos_;
    if (depth >= max_depth) {
        return fail("nesting deeper than " + std::to_string(max_depth), start);
    }
    ++pos_;  // '['
    value::list_t items;
    skip_blanks();
    if (!at_end() && in_[pos_] == ']') {
        ++pos_;
        *out = value::list(std::move(items));
        return true;
    }
    for (;;) {
        value item;
        bool dropped = false;
        if (!parse(&item, depth + 1, &dropped)) {
            return false;
        }
        if (!dropped) {
            items.push_back(std::move(item));
        }
        skip_blanks();
        if (at_end()) {
            return fail("unterminated array", start);
        }
        if (in_[pos_] == ']') {
            ++pos_;
            break;
        }
        if (in_[pos_] != ',') {
            return fail("expected ',' or ']'", pos_);
        }
        ++pos_;
    }
    *out = value::list(std::move(items));
    return true;
}

bool json_decoder::parse_object(value* out, unsigned depth) {
    const size_t start = pos_;
    if (depth >= max_depth) {
        return fail("nesting deeper than " + std::to_string(max_depth), start);
    }
    ++pos_;  // '{'
    value::dict_t items;
    value::dict_t nulls;  // keys of null members
    skip_blanks();
    if (!at_end() && in_[pos_] == '}') {
        ++pos_;
        *out = value::dict(std::move(items));
        return true;
    }
    for (;;) {
        skip_blanks();
        const size_t key_at = pos_;
        if (at_end() || in_[pos_] != '"') {
            return fail("object key is not a string", key_at);
        }
        if (++items_ > max_items) {
            return fail("more than " + std::to_string(max_items) + " values", key_at);
        }
        std::string key;
        if (!parse_string(&key)) {
            return false;
        }
        skip_blanks();
        if (at_end() || in_[pos_] != ':') {
            return fail("expected ':'", pos_);
        }
        ++pos_;
        value item;
        bool dropped = false;
        if (!parse(&item, depth + 1, &dropped)) {
            return false;
        }
        // Appended as they come, sorted once at the end (as the bencode decoder does: sorted
        // inserts are O(n^2) for keys in reverse order). A null member is left out, but its
        // key still counts for the duplicate check.
        auto& raw = dropped ? nulls.unsorted_storage() : items.unsorted_storage();
        raw.emplace_back(std::move(key), std::move(item));
        skip_blanks();
        if (at_end()) {
            return fail("unterminated object", start);
        }
        if (in_[pos_] == '}') {
            ++pos_;
            break;
        }
        if (in_[pos_] != ',') {
            return fail("expected ',' or '}'", pos_);
        }
        ++pos_;
    }
    // A repeated key makes the request ambiguous, so it is refused (as in bencode).
    auto& raw = items.unsorted_storage();
    const size_t kept = raw.size();
    for (auto& n : nulls.unsorted_storage()) {
        raw.push_back(std::move(n));
    }
    std::vector<size_t> order(raw.size());
    for (size_t k = 0; k < order.size(); ++k) {
        order[k] = k;
    }
    std::stable_sort(order.begin(), order.end(), [&raw](size_t a, size_t b) { return raw[a].first < raw[b].first; });
    for (size_t k = 1; k < order.size(); ++k) {
        if (raw[order[k]].first == raw[order[k - 1]].first) {
            return fail("duplicate object key", pos_);
        }
    }
    value::dict_t::storage sorted;
    sorted.reserve(kept);
    for (size_t k : order) {
        if (k < kept) {
            sorted.push_back(std::move(raw[k]));
        }
    }
    raw = std::move(sorted);
    *out = value::dict(std::move(items));
    return true;
}

}  // namespace

std::optional<value> from_json(std::string_view in, std::string* error) {
    json_decoder d(in);
    value v;
    bool dropped = false;
    bool ok = d.parse(&v, 0, &dropped);
    if (ok && dropped) {
        ok = d.fail("null is not a request", 0);
    }
    if (ok) {
        d.skip_blanks();
        if (!d.at_end()) {
            ok = d.fail("trailing bytes", d.pos());
        }
    }
    if (!ok) {
        if (error != nullptr) {
            *error = d.error();
        }
        return std::nullopt;
    }
    return v;
}

}  // namespace rtprelay::ng
