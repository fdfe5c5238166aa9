#include "control/ng/json.h"

#include "control/json_string.h"

#include <charconv>

namespace rtprelay::ng {

namespace {
void newline(std::string* out, int indent, int depth) {
    if (indent > 0) {
        out->push_back('\n');
        out->append(static_cast<size_t>(indent * depth), ' ');
    }
}

void write(const value& v, int indent, int depth, std::string* out) {
    switch (v.kind()) {
        case value::type::string:
            append_json_string(v.as_string(), out);
            return;
        case value::type::integer: {
            char buf[24];
            auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.as_integer());
            (void)ec;  // 24 bytes hold any int64
            out->append(buf, end);
            return;
        }
        case value::type::list: {
            const auto& l = v.as_list();
            if (l.empty()) {
                out->append("[]");
                return;
            }
            out->push_back('[');
            for (size_t i = 0; i < l.size(); ++i) {
                if (i > 0) {
                    out->push_back(',');
                }
                newline(out, indent, depth + 1);
                write(l[i], indent, depth + 1, out);
            }
            newline(out, indent, depth);
            out->push_back(']');
            return;
        }
        case value::type::dict: {
            const auto& d = v.as_dict();
            if (d.empty()) {
                out->append("{}");
                return;
            }
            out->push_back('{');
            bool first = true;
            for (const auto& [key, item] : d) {
                if (!first) {
                    out->push_back(',');
                }
                first = false;
                newline(out, indent, depth + 1);
                append_json_string(key, out);
                out->append(indent > 0 ? ": " : ":");
                write(item, indent, depth + 1, out);
            }
            newline(out, indent, depth);
            out->push_back('}');
            return;
        }
    }
}
}  // namespace

std::string to_json(const value& v, int indent) {
    std::string out;
    write(v, indent, 0, &out);
    return out;
}

void to_json(const value& v, std::string* out) { write(v, 0, 0, out); }

}  // namespace rtprelay::ng
