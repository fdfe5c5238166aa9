#include "control/recording/json_writer.h"

#include <cmath>
#include <cstdio>

#include "control/json_string.h"

namespace rtprelay::recording {

std::string json_writer::quote(std::string_view s) { return json_string(s); }

void json_writer::newline() {
    if (indent_ <= 0) {
        return;
    }
    out_.push_back('\n');
    out_.append(first_.size() * static_cast<size_t>(indent_), ' ');
}

void json_writer::before_value() {
    if (after_key_) {
        after_key_ = false;
        return;
    }
    if (!first_.empty()) {
        if (!first_.back()) {
            out_.push_back(',');
        }
        first_.back() = false;
        newline();
    }
}

json_writer& json_writer::open(char c) {
    before_value();
    out_.push_back(c);
    first_.push_back(true);
    return *this;
}

json_writer& json_writer::close(char c) {
    const bool empty = first_.back();
    first_.pop_back();
    if (!empty) {
        newline();
    }
    out_.push_back(c);
    return *this;
}

json_writer& json_writer::key(std::string_view k) {
    before_value();
    out_ += quote(k);
    out_ += indent_ > 0 ? ": " : ":";
    after_key_ = true;
    return *this;
}

json_writer& json_writer::value(std::string_view s) {
    before_value();
    out_ += quote(s);
    return *this;
}

json_writer& json_writer::value(int64_t v) {
    before_value();
    out_ += std::to_string(v);
    return *this;
}

json_writer& json_writer::value(uint64_t v) {
    before_value();
    out_ += std::to_string(v);
    return *this;
}

json_writer& json_writer::value(double v) {
    before_value();
    if (!std::isfinite(v)) {
        out_ += "null";
        return *this;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6f", v);
    out_ += buf;
    return *this;
}

json_writer& json_writer::value(bool v) {
    before_value();
    out_ += v ? "true" : "false";
    return *this;
}

json_writer& json_writer::null() {
    before_value();
    out_ += "null";
    return *this;
}

json_writer& json_writer::raw(std::string_view json) {
    before_value();
    out_.append(json);
    return *this;
}

}  // namespace rtprelay::recording
