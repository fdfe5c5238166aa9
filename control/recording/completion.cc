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

std::vector<std::string> named_files(const finishing& f) {
    std::vector<std::string> out;
    if (f.pcap) {
        out.push_back(".pcap");
    }
    if (f.wav) {
        out.push_back(".wav");
    }
    out.push_back(".json");
    return out;
}

void sync_media(const std::string& dir, std::vector<finishing>& batch) {
    std::vector<std::string> paths;
    std::vector<size_t> owner;
    std::vector<std::string> dirs;
    for (size_t i = 0; i < batch.size(); ++i) {
        const finishing& f = batch[i];
        const std::string open_area = dir + "/" + f.base;
        if (f.pcap) {
            paths.push_back(open_area + ".pcap");
            owner.push_back(i);
        }
        if (f.wav) {
            paths.push_back(open_area + ".wav");
            owner.push_back(i);
        }
        dirs.push_back(sub_dir_of(f.base));
    }
    const std::vector<std::string> file_errors = sync_files(paths);
    for (size_t k = 0; k < paths.size(); ++k) {
        std::string& error = batch[owner[k]].error;
        error = error.empty() ? file_errors[k] : error;
    }
    const std::vector<std::string> dir_errors = sync_dir_set(dir, dirs);
    for (size_t i = 0; i < batch.size(); ++i) {
        batch[i].error = batch[i].error.empty() ? dir_errors[i] : batch[i].error;
    }
}

void commit_metadata(const std::string& dir, std::vector<finishing>& batch, completion_step stop) {
    std::vector<std::string> tmps;
    std::vector<size_t> owner;
    for (size_t i = 0; i < batch.size(); ++i) {
        finishing& f = batch[i];
        const std::string done = dir + "/done/" + f.base;
        for (const auto& ext : named_files(f)) {
            if (struct stat st{}; f.uncommitted.empty() && ::lstat((done + ext).c_str(), &st) == 0) {
                f.uncommitted = done + ext + " exists: an earlier recording has this name";
            }
        }
        if (!f.uncommitted.empty()) {
            continue;
        }
        const std::string tmp = dir + "/" + f.base + ".json.tmp";
        ::unlink(tmp.c_str());  // a leftover of a finish that died: made again (unlink follows no symlink)
        f.uncommitted = write_new(tmp, f.json);
        if (f.uncommitted.empty()) {
            tmps.push_back(tmp);
            owner.push_back(i);
        }
    }
    const std::vector<std::string> sync_errors = sync_files(tmps);
    std::vector<std::string> dirs;
    std::vector<size_t> renamed;
    for (size_t k = 0; k < tmps.size(); ++k) {
        finishing& f = batch[owner[k]];
        if (!sync_errors[k].empty()) {
            ::unlink(tmps[k].c_str());
            f.uncommitted = sync_errors[k];
            continue;
        }
        if (stop == completion_step::metadata_written) {
            continue;  // the temporary file only
        }
        const std::string path = dir + "/" + f.base + ".json";
        if (std::string m = move_new(tmps[k], path); !m.empty()) {
            ::unlink(tmps[k].c_str());
            f.uncommitted = "cannot rename " + tmps[k] + ": " + m;
            continue;
        }
        dirs.push_back(sub_dir_of(f.base));
        renamed.push_back(owner[k]);
    }
    // Committed once renamed: a directory that could not be synced leaves the commit.
    const std::vector<std::string> dir_errors = sync_dir_set(dir, dirs);
    for (size_t k = 0; k < dirs.size(); ++k) {
        batch[renamed[k]].unsynced = dir_errors[k];
    }
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
    remove_leftovers(dir, base);
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

void remove_leftovers(const std::string& dir, const std::string& base) {
    const std::string open_area = dir + "/" + base;
    for (const char* leftover : {".state", ".state.tmp", ".json.tmp"}) {
        ::unlink((open_area + leftover).c_str());  // unlink follows no symlink
    }
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
