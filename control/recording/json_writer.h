#pragma once
// A small streaming JSON writer for recording metadata: objects, arrays, strings, numbers.
// Strings are bytes from the network (call-ids, tags, SDPs), written with json_string
// (control/json_string.h), so the file is valid JSON whatever the peers sent. Control plane
// and recorder threads only.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rtprelay::recording {

class json_writer {
 public:
    explicit json_writer(int indent = 2) : indent_(indent) {}

    json_writer& begin_object() { return open('{'); }
    json_writer& end_object() { return close('}'); }
    json_writer& begin_array() { return open('['); }
    json_writer& end_array() { return close(']'); }
    // A member's name; the value follows with one of the calls below.
    json_writer& key(std::string_view k);
    json_writer& value(std::string_view s);
    json_writer& value(const char* s) { return value(std::string_view(s)); }
    json_writer& value(int64_t v);
    json_writer& value(uint64_t v);
    json_writer& value(int v) { return value(static_cast<int64_t>(v)); }
    json_writer& value(unsigned v) { return value(static_cast<uint64_t>(v)); }
    json_writer& value(double v);
    json_writer& value(bool v);
    json_writer& null();
    // Text that already is one JSON value (written by another json_writer).
    json_writer& raw(std::string_view json);

    const std::string& str() const { return out_; }
    std::string take() { return std::move(out_); }

    // `s` as a JSON string literal, quotes included (json_string).
    static std::string quote(std::string_view s);

 private:
    json_writer& open(char c);
    json_writer& close(char c);
    void before_value();
    void newline();

    int indent_;
    std::string out_;
    std::vector<bool> first_;  // per open container: nothing written in it yet
    bool after_key_ = false;
};

}  // namespace rtprelay::recording
