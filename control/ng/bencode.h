#pragma once
// Bencode values for the NG protocol: decode untrusted bytes into a tree and encode a tree
// back. Decoding is bounded (depth 32, 4096 items, the input's own length), never throws
// (short of std::bad_alloc), never reads past the input. Dict keys from peers may come in
// any order; encoding always writes them sorted, so one tree has exactly one encoding.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rtprelay::ng {

// A dict as a vector of (key, value) pairs kept sorted by key, with the part of std::map's
// interface the NG code uses. One allocation per dict instead of one per key: decoding an
// offer and building its reply made ~40 map nodes, a third of the control plane's
// allocations. Lookups are binary searches. Inserting keeps the order (O(n) per insert;
// dicts here have a few dozen keys at most; the decoder appends and sorts once).
template <class V>
class flat_dict {
 public:
    using value_type = std::pair<std::string, V>;
    using storage = std::vector<value_type>;
    using iterator = typename storage::iterator;
    using const_iterator = typename storage::const_iterator;

    iterator begin() { return items_.begin(); }
    iterator end() { return items_.end(); }
    const_iterator begin() const { return items_.begin(); }
    const_iterator end() const { return items_.end(); }
    size_t size() const { return items_.size(); }
    bool empty() const { return items_.empty(); }
    void reserve(size_t n) { items_.reserve(n); }

    iterator find(std::string_view key) {
        auto it = lower_bound(key);
        return it != items_.end() && it->first == key ? it : items_.end();
    }
    const_iterator find(std::string_view key) const {
        auto it = const_cast<flat_dict*>(this)->lower_bound(key);
        return it != items_.end() && it->first == key ? const_iterator(it) : items_.end();
    }
    V& at(std::string_view key) {
        auto it = find(key);
        if (it == items_.end()) {
            throw std::out_of_range("flat_dict::at");
        }
        return it->second;
    }
    const V& at(std::string_view key) const { return const_cast<flat_dict*>(this)->at(key); }
    V& operator[](std::string_view key) { return try_emplace(key, V()).first->second; }
    // Like std::map's: (position, inserted).
    std::pair<iterator, bool> emplace(std::string key, V v) {
        auto it = lower_bound(key);
        if (it != items_.end() && it->first == key) {
            return {it, false};
        }
        return {items_.emplace(it, std::move(key), std::move(v)), true};
    }
    std::pair<iterator, bool> insert_or_assign(std::string key, V v) {
        // A key above every key so far goes at the end with one comparison: builders that
        // set keys in sorted order (replies.cc) pay no search and no shift of later pairs.
        if (items_.empty() || std::string_view(items_.back().first) < std::string_view(key)) {
            items_.emplace_back(std::move(key), std::move(v));
            return {std::prev(items_.end()), true};
        }
        auto it = lower_bound(key);
        if (it != items_.end() && it->first == key) {
            it->second = std::move(v);
            return {it, false};
        }
        return {items_.emplace(it, std::move(key), std::move(v)), true};
    }
    // For a decoder: the pairs themselves, appended in any order; it must leave them
    // sorted by key and without duplicates.
    storage& unsorted_storage() { return items_; }

    friend bool operator==(const flat_dict& a, const flat_dict& b) { return a.items_ == b.items_; }

 private:
    std::pair<iterator, bool> try_emplace(std::string_view key, V v) {
        auto it = lower_bound(key);
        if (it != items_.end() && it->first == key) {
            return {it, false};
        }
        return {items_.emplace(it, std::string(key), std::move(v)), true};
    }
    iterator lower_bound(std::string_view key) {
        return std::lower_bound(items_.begin(), items_.end(), key,
                                [](const value_type& e, std::string_view k) { return std::string_view(e.first) < k; });
    }

    storage items_;
};

// Limits on one decoded message. An NG offer with SDP and flags is a few dozen items and
// depth 3, so these only ever stop hostile or broken input.
inline constexpr unsigned max_depth = 32;  // nested lists/dicts
inline constexpr size_t max_items = 4096;  // every value, dict keys included

class value {
 public:
    enum class type : uint8_t { string, integer, list, dict };
    using list_t = std::vector<value>;
    using dict_t = flat_dict<value>;  // sorted keys, as bencode encodes

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
// One string ("<length>:<bytes>") or integer ("i<decimal>e") appended to `out`: what
// encode_to writes for a string or integer value, for writers that emit bencode item by item
// (bencode_writer.h).
void encode_string_to(std::string_view s, std::string* out);
void encode_integer_to(int64_t i, std::string* out);

}  // namespace rtprelay::ng
