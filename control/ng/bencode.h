#pragma once
// Bencode values for the NG protocol: decode untrusted bytes into a tree and encode a tree
// back. Decoding is bounded (depth 32, 4096 items, the input's own length), never throws
// (short of std::bad_alloc), never reads past the input. Dict keys from peers may come in
// any order; encoding always writes them sorted, so one tree has exactly one encoding.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rtprelay::ng {

// Limits on one decoded message. An NG offer with SDP and flags is a few dozen items and
// depth 3, so these only ever stop hostile or broken input.
inline constexpr unsigned max_depth = 32;    // nested lists/dicts
inline constexpr size_t max_items = 4096;    // every value, dict keys included

class value {
 public:
    enum class type : uint8_t { string, integer, list, dict };
    using list_t = std::vector<value>;
    using dict_t = std::map<std::string, value, std::less<>>;  // sorted keys, as bencode encodes

    value();  // empty string
    static value str(std::string s);
    static value integer(int64_t i);
    static value list(list_t items = {});
    static value dict(dict_t items = {});

    type kind() const;
    bool is_string() const;
    bool is_integer() const;
    bool is_list() const;
    bool is_dict() const;

    // Const accessors are safe on the wrong kind (they return "", 0 or an empty container),
    // so code reading an untrusted request cannot crash on a peer's type confusion.
    const std::string& as_string() const;
    int64_t as_integer() const;
    const list_t& as_list() const;
    const dict_t& as_dict() const;
    // Mutable accessors are for building trees; precondition: is_list() / is_dict().
    list_t& as_list();
    dict_t& as_dict();

    // Dict lookups; nullptr when this is not a dict or the key is absent.
    const value* find(std::string_view key) const;
    // Convenience for NG: the string at `key`, or std::nullopt if absent or not a string.
    std::optional<std::string_view> find_string(std::string_view key) const;
    // Dict insert-or-assign; precondition: is_dict(). Returns *this for chaining.
    value& set(std::string key, value v);

    friend bool operator==(const value& a, const value& b);

 private:
    type type_ = type::string;
    std::string s_;
    int64_t i_ = 0;
    std::unique_ptr<list_t> l_;
    std::unique_ptr<dict_t> d_;

 public:
    value(const value& o);
    value& operator=(const value& o);
    // A moved-from value may only be assigned to or destroyed.
    value(value&&) noexcept = default;
    value& operator=(value&&) noexcept = default;
    ~value();
};

// Decodes exactly one value that spans all of `in`. On failure returns std::nullopt and
// sets *error (e.g. "bencode: truncated string at offset 12"); `error` may be nullptr.
// Rejected: empty input, trailing bytes, leading zeros (integers and string lengths), -0,
// integers outside int64, lengths past the input, non-string or duplicate dict keys.
std::optional<value> decode(std::string_view in, std::string* error);

// Decodes one value from the front of `in`; *consumed gets its length.
std::optional<value> decode_prefix(std::string_view in, size_t* consumed, std::string* error);

std::string encode(const value& v);
// Appends the encoding of `v` to *out (lets callers put a cookie in front without a copy).
void encode_to(const value& v, std::string* out);

}  // namespace rtprelay::ng
