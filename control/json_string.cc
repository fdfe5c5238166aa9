#include "control/json_string.h"

#include <cstdint>
#include <cstdio>

namespace rtprelay {

size_t utf8_sequence_length(std::string_view s, size_t i) {
    const auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
    const uint8_t c = b(i);
    size_t n = 0;
    uint8_t lo = 0x80;
    uint8_t hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (i + n > s.size() || b(i + 1) < lo || b(i + 1) > hi) {
        return 0;
    }
    for (size_t k = 2; k < n; ++k) {
        if (b(i + k) < 0x80 || b(i + k) > 0xBF) {
            return 0;
        }
    }
    return n;
}

namespace {
void append_u00(std::string* out, uint8_t c) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\u%04x", c);
    out->append(buf);
}
}  // namespace

void append_json_string(std::string_view s, std::string* out_ptr) {
    std::string& out = *out_ptr;
    out.reserve(out.size() + s.size() + 2);
    out.push_back('"');
    for (size_t i = 0; i < s.size();) {
        const auto c = static_cast<uint8_t>(s[i]);
        if (c >= 0x80) {
            if (const size_t n = utf8_sequence_length(s, i); n > 0) {
                out.append(s.substr(i, n));
                i += n;
            } else {
                append_u00(&out, c);
                ++i;
            }
            continue;
        }
        switch (c) {
            case '"':
                out.append("\\\"");
                break;
            case '\\':
                out.append("\\\\");
                break;
            case '\n':
                out.append("\\n");
                break;
            case '\r':
                out.append("\\r");
                break;
            case '\t':
                out.append("\\t");
                break;
            case '\b':
                out.append("\\b");
                break;
            case '\f':
                out.append("\\f");
                break;
            default:
                if (c < 0x20 || c == 0x7F) {
                    append_u00(&out, c);
                } else {
                    out.push_back(static_cast<char>(c));
                }
        }
        ++i;
    }
    out.push_back('"');
}

std::string json_string(std::string_view s) {
    std::string out;
    append_json_string(s, &out);
    return out;
}

}  // namespace rtprelay
