#include "control/recording/json_writer.h"

#include <cmath>
#include <cstdio>

namespace rtprelay::recording {

namespace {
// Length of the valid UTF-8 sequence at s[i], or 0.
size_t utf8_len(std::string_view s, size_t i) {
    const auto b = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (b >= 0xc2 && b <= 0xdf) {
        n = 2;
        cp = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
        n = 3;
        cp = b & 0x0f;
    } else if (b >= 0xf0 && b <= 0xf4) {
        n = 4;
        cp = b & 0x07;
    } else {
        return 0;
    }
    if (i + n > s.size()) {
        return 0;
    }
    for (size_t k = 1; k < n; ++k) {
        const auto c = static_cast<unsigned char>(s[i + k]);
        if ((c & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (c & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not valid.
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return n;
}
}  // namespace

std::string json_writer::quote(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    out.push_back('"');
    for (size_t i = 0; i < s.size();) {
        const auto b = static_cast<unsigned char>(s[i]);
        if (b == '"' || b == '\\') {
            out.push_back('\\');
            out.push_back(static_cast<char>(b));
            ++i;
        } else if (b == '\n') {
            out += "\\n";
            ++i;
        } else if (b == '\r') {
            out += "\\r";
            ++i;
        } else if (b == '\t') {
            out += "\\t";
            ++i;
        } else if (b < 0x20 || b == 0x7f) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\u%04x", b);
            out += hex;
            ++i;
        } else if (b < 0x80) {
            out.push_back(static_cast<char>(b));
            ++i;
        } else if (const size_t n = utf8_len(s, i); n != 0) {
            out.append(s.substr(i, n));
            i += n;
        } else {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\u%04x", b);
            out += hex;
            ++i;
        }
    }
    out.push_back('"');
    return out;
}

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
