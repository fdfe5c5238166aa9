#pragma once
// Bencode written item by item onto the end of a string, for a reply made without a value
// tree (call_stats.cc: the delete/query reply). The writer keeps none of bencode's rules
// for its caller: dict keys must come in byte order, each once, and every dict and list
// must be ended, as encode() does by itself for a tree. replies_test pins what comes out.
// Each item is an append: nothing is allocated beyond the string's growth.

#include <cstdint>
#include <string>
#include <string_view>

#include "control/ng/bencode.h"

namespace rtprelay::ng {

class bencode_writer {
 public:
    explicit bencode_writer(std::string* out) : out_(out) {}

    void dict() { out_->push_back('d'); }
    void list() { out_->push_back('l'); }
    void end() { out_->push_back('e'); }  // of the innermost open dict or list

    // "<length>:<bytes>"; dict keys are strings too. (bencode.h's, as encode_to writes them.)
    void string(std::string_view s) { encode_string_to(s, out_); }
    void key(std::string_view k) { string(k); }
    // "i<decimal>e".
    void integer(int64_t i) { encode_integer_to(i, out_); }
    // A counter as a tree's value::integer(static_cast<int64_t>(v)) wrote it: above
    // INT64_MAX it wraps negative, as it always did on the wire.
    void counter(uint64_t v) { integer(static_cast<int64_t>(v)); }
    // A whole tree (e.g. the recording's dict inside a query reply).
    void tree(const value& v) { encode_to(v, out_); }

 private:
    std::string* out_;
};

}  // namespace rtprelay::ng
