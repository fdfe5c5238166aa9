#pragma once
// Bencode values for the NG protocol: decode untrusted bytes into a tree and encode a tree
// back. Decoding is bounded (depth 32, 4096 items, the input's own length), never throws,
// never reads past the input.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rtprelay::ng {

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

    const std::string& as_string() const;  // precondition: is_string()
    int64_t as_integer() const;            // precondition: is_integer()
    const list_t& as_list() const;         // precondition: is_list()
    list_t& as_list();
    const dict_t& as_dict() const;         // precondition: is_dict()
    dict_t& as_dict();

    // Dict lookups; nullptr when this is not a dict or the key is absent.
    const value* find(std::string_view key) const;
    // Convenience for NG: the string at `key`, or std::nullopt if absent or not a string.
    std::optional<std::string_view> find_string(std::string_view key) const;
    // Dict insert-or-assign; precondition: is_dict(). Returns *this for chaining.
    value& set(std::string key, value v);

 private:
    type type_ = type::string;
    std::string s_;
    int64_t i_ = 0;
    std::unique_ptr<list_t> l_;
    std::unique_ptr<dict_t> d_;

 public:
    value(const value& o);
    value& operator=(const value& o);
    value(value&&) noexcept = default;
    value& operator=(value&&) noexcept = default;
    ~value();
};

// Decodes exactly one value that spans all of `in`. On failure returns std::nullopt and
// sets *error (e.g. "bencode: truncated string at offset 12").
std::optional<value> decode(std::string_view in, std::string* error);

// Decodes one value from the front of `in`; *consumed gets its length.
std::optional<value> decode_prefix(std::string_view in, size_t* consumed, std::string* error);

std::string encode(const value& v);
void encode_to(const value& v, std::string* out);

}  // namespace rtprelay::ng
