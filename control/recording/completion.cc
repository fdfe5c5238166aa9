#include "control/recording/completion.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "control/recording/record_files.h"

namespace rtprelay::recording {

namespace {

// How every metadata file the finisher writes begins (json_writer, indent 2): a file that
// does not is not ours.
constexpr std::string_view metadata_start = "{\n  \"status\": ";
// The top-level key after "files": the files object ends before it. json_writer escapes
// newlines inside strings, so a raw newline is layout and these cannot occur in a value.
constexpr std::string_view after_files = "\n  \"call\": ";
constexpr size_t max_metadata_read = 64 * 1024;  // "files" comes first, well inside this

enum class kind : uint8_t { missing, regular, other };

kind kind_of(const std::string& path, struct stat* st = nullptr) {
    struct stat s {};
    if (::lstat(path.c_str(), &s) != 0) {
        return kind::missing;
    }
    if (st != nullptr) {
        *st = s;
    }
    return S_ISREG(s.st_mode) ? kind::regular : kind::other;
}

std::string parent_of(const std::string& path) { return path.substr(0, path.rfind('/')); }

bool ends_with(std::string_view s, std::string_view tail) {
    return s.size() > tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

std::string sync_media(const std::string& dir, const std::string& base, bool pcap, bool wav) {
    const std::string open_area = dir + "/" + base;
    std::vector<std::string> files;
    if (pcap) {
        files.push_back(open_area + ".pcap");
    }
    if (wav) {
        files.push_back(open_area + ".wav");
    }
    for (const std::string& e : sync_files(files)) {
        if (!e.empty()) {
            return e;
        }
    }
    return sync_dirs(dir, sub_dir_of(base));
}

std::string commit_metadata(const std::string& dir, const std::string& base, std::string_view json,
                            completion_step stop, std::string* unsynced) {
    const std::string path = dir + "/" + base + ".json";
    const std::string tmp = path + ".tmp";
    ::unlink(tmp.c_str());  // a leftover of a finish that died: made again (unlink follows no symlink)
    if (std::string e = write_new(tmp, json, true); !e.empty()) {
        return e;
    }
    if (stop == completion_step::metadata_written) {
        return {};
    }
    if (std::string m = move_new(tmp, path); !m.empty()) {
        ::unlink(tmp.c_str());
        return "cannot rename " + tmp + ": " + m;
    }
    if (std::string e = sync_dirs(dir, sub_dir_of(base)); !e.empty() && unsynced != nullptr) {
        *unsynced = e;
    }
    return {};
}

bool read_committed(const std::string& dir, const std::string& base, committed_files* files) {
    const std::string path = dir + "/" + base + ".json";
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        return false;
    }
    struct stat st {};
    std::string text;
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        text.resize(max_metadata_read);
        const ssize_t n = ::read(fd, text.data(), text.size());
        text.resize(n > 0 ? static_cast<size_t>(n) : 0);
    }
    ::close(fd);
    if (text.compare(0, metadata_start.size(), metadata_start) != 0) {
        return false;
    }
    const std::string_view head = std::string_view(text).substr(0, text.find(after_files));
    const size_t at = head.find("\n  \"files\": {");
    if (at == std::string_view::npos) {
        return false;
    }
    files->pcap = head.find("\n    \"pcap\": \"", at) != std::string_view::npos;
    files->wav = head.find("\n    \"wav\": \"", at) != std::string_view::npos;
    return true;
}

moved move_committed(const std::string& dir, const std::string& base, const committed_files& files,
                     completion_step stop, std::vector<std::string>* dirs_to_sync) {
    moved out;
    const std::string open_area = dir + "/" + base;
    const std::string done = dir + "/done/" + base;
    for (const char* leftover : {".state", ".state.tmp", ".json.tmp"}) {
        ::unlink((open_area + leftover).c_str());
    }
    if (stop == completion_step::state_removed) {
        return out;
    }
    if (std::string e = make_dirs(parent_of(done)); !e.empty()) {
        out.error = e;
        return out;
    }
    struct step {
        bool has;
        const char* ext;
        completion_step after;
    };
    for (const step s : {step{files.pcap, ".pcap", completion_step::pcap_moved},
                         step{files.wav, ".wav", completion_step::wav_moved}}) {
        if (!s.has) {
            continue;
        }
        const std::string from = open_area + s.ext;
        const std::string to = done + s.ext;
        const kind k = kind_of(from);
        if (k == kind::regular) {
            if (std::string m = move_new(from, to); !m.empty()) {
                out.error = "cannot move " + from + " to done/: " + m;
                return out;
            }
        } else if (k == kind::other || kind_of(to) != kind::regular) {
            // The commit checked that done/ had no file of this name: one there now, and none
            // here, was moved by an earlier run. Neither: it is lost (removed by hand).
            out.error = from + " is " + (k == kind::other ? "not a regular file" : "missing");
            return out;
        }
        out.paths.push_back(to);
        if (stop == s.after) {
            return out;
        }
    }
    const std::string json = open_area + ".json";
    const std::string json_done = done + ".json";
    struct stat here {
    }, there{};
    if (kind_of(json, &here) != kind::regular) {
        out.error = json + " is not a regular file";
        return out;
    }
    const kind k = kind_of(json_done, &there);
    if (k == kind::missing) {
        if (::link(json.c_str(), json_done.c_str()) != 0) {
            out.error = "cannot link " + json + " into done/: " + std::strerror(errno);
            return out;
        }
    } else if (k != kind::regular || here.st_dev != there.st_dev || here.st_ino != there.st_ino) {
        out.error = json_done + " exists: an earlier recording has this name";
        return out;
    }
    // The renames and the link on the disk before the command announces them and step 8
    // removes the open area's BASE.json (which alone lets a next start redo a lost rename).
    const std::string sub = sub_dir_of(base);
    for (const std::string& d : {sub.empty() ? std::string("done") : "done/" + sub, sub}) {
        if (dirs_to_sync != nullptr) {
            dirs_to_sync->push_back(d);
            continue;
        }
        if (std::string e = sync_dirs(dir, d); !e.empty()) {
            out.error = e;
            return out;
        }
    }
    out.paths.push_back(json_done);
    return out;
}

void release_committed(const std::string& dir, const std::string& base) {
    ::unlink((dir + "/" + base + ".json").c_str());
}

bool base_of_left_file(std::string_view name, std::string* base) {
    for (const std::string_view ext : {".pcap", ".json", ".json.tmp", ".state", ".state.tmp"}) {
        if (ends_with(name, ext)) {
            *base = std::string(name.substr(0, name.size() - ext.size()));
            return true;
        }
    }
    return false;
}

}  // namespace rtprelay::recording
