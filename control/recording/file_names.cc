#include "control/recording/file_names.h"

namespace rtprelay::recording {

namespace {
bool safe_byte(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-' || c == '+' || c == '@';
}

// Expands `pattern`; false (with *error) on an unknown % sequence.
bool expand(std::string_view pattern, std::string_view call_id, std::string_view tag, std::time_t now, std::string* out,
            std::string* error) {
    std::tm t{};
    gmtime_r(&now, &t);
    auto two = [&](int v) {
        out->push_back(static_cast<char>('0' + (v / 10) % 10));
        out->push_back(static_cast<char>('0' + v % 10));
    };
    for (size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] != '%') {
            out->push_back(pattern[i]);
            continue;
        }
        if (i + 1 == pattern.size()) {
            *error = "recording-pattern: ends in a lone %";
            return false;
        }
        switch (pattern[++i]) {
            case 'c':
                *out += file_safe(call_id);
                break;
            case 'r':
                out->append(tag);
                break;
            case 'Y':
                *out += std::to_string(t.tm_year + 1900);
                break;
            case 'm':
                two(t.tm_mon + 1);
                break;
            case 'd':
                two(t.tm_mday);
                break;
            case 'H':
                two(t.tm_hour);
                break;
            case 'M':
                two(t.tm_min);
                break;
            case 'S':
                two(t.tm_sec);
                break;
            case '%':
                out->push_back('%');
                break;
            default:
                *error = std::string("recording-pattern: unknown sequence %") + pattern[i] +
                         " (known: %c %r %Y %m %d %H %M %S %%)";
                return false;
        }
    }
    return true;
}
}  // namespace

std::string file_safe(std::string_view call_id) {
    std::string s;
    const size_t n = call_id.size() < 128 ? call_id.size() : 128;
    s.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        s.push_back(safe_byte(call_id[i]) ? call_id[i] : '_');
    }
    if (s.empty()) {
        s = "_";
    }
    if (s[0] == '.') {
        s[0] = '_';  // never a hidden file, never `.` or `..`
    }
    return s;
}

std::string check_relative(std::string_view path, std::string_view what) {
    const std::string w(what);
    if (path.empty()) {
        return w + ": empty";
    }
    if (path.size() > max_name_bytes) {
        return w + ": longer than " + std::to_string(max_name_bytes) + " bytes";
    }
    for (char c : path) {
        if (c == '\0') {
            return w + ": holds a NUL byte";
        }
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            return w + ": holds a control character";
        }
    }
    if (path.front() == '/') {
        return w + ": absolute paths are refused (names are relative to the recording directory)";
    }
    size_t start = 0;
    bool first = true;
    while (true) {
        const size_t slash = path.find('/', start);
        const std::string_view part = path.substr(start, slash == std::string_view::npos ? path.npos : slash - start);
        if (part.empty()) {
            return w + ": empty path component";
        }
        if (part == "..") {
            return w + ": '..' is refused (names stay inside the recording directory)";
        }
        if (part == ".") {
            return w + ": '.' components are refused";
        }
        if (first && part == "done") {
            return w + ": 'done/' is where finished recordings go";
        }
        first = false;
        if (slash == std::string_view::npos) {
            break;
        }
        start = slash + 1;
    }
    return {};
}

std::string base_path(const name_request& r, std::string_view call_id, std::string_view random_tag, std::time_t now,
                      std::string* error) {
    std::string out;
    if (!r.file.empty()) {
        *error = check_relative(r.file, "recording-file");
        return error->empty() ? r.file : std::string();
    }
    if (!r.dir.empty()) {
        // A trailing slash is a common way to write a directory: accept it.
        std::string_view dir = r.dir;
        if (dir.size() > 1 && dir.back() == '/') {
            dir.remove_suffix(1);
        }
        *error = check_relative(dir, "recording-dir");
        if (!error->empty()) {
            return {};
        }
        out.append(dir);
        out.push_back('/');
    }
    const std::string_view pattern = r.pattern.empty() ? default_pattern : std::string_view(r.pattern);
    if (pattern.find('\0') != std::string_view::npos) {
        *error = "recording-pattern: holds a NUL byte";
        return {};
    }
    if (!expand(pattern, call_id, random_tag, now, &out, error)) {
        return {};
    }
    *error = check_relative(out, r.pattern.empty() ? "recording-dir" : "recording-pattern");
    return error->empty() ? out : std::string();
}

}  // namespace rtprelay::recording
