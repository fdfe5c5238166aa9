#include "relay/ctl/json.h"


namespace rtprelay::ctl {

namespace {
void newline(std::string* out, int indent, int depth) {
    if (indent > 0) {
        out->push_back('\n');
        out->append(static_cast<size_t>(indent * depth), ' ');
    }
}

void write(const ng::value& v, int indent, int depth, std::string* out) {
    switch (v.kind()) {
    case ng::value::type::string:
        out->append(json_string(v.as_string()));
        return;
    case ng::value::type::integer:
        out->append(std::to_string(v.as_integer()));
        return;
    case ng::value::type::list: {
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
    case ng::value::type::dict: {
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
            out->append(json_string(key));
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


std::string to_json(const ng::value& v, int indent) {
    std::string out;
    write(v, indent, 0, &out);
    return out;
}

}  // namespace rtprelay::ctl
