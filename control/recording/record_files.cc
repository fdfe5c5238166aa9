#include "control/recording/record_files.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

namespace rtprelay::recording {

size_t fit_open_files(size_t want, size_t reserve, std::string* note) {
    note->clear();
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) {
        *note = std::string("getrlimit(RLIMIT_NOFILE): ") + std::strerror(errno);
        return 1;
    }
    const rlim_t need = static_cast<rlim_t>(want + reserve);
    if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < need) {
        rlimit raised = lim;
        raised.rlim_cur = lim.rlim_max == RLIM_INFINITY ? need : std::min(need, lim.rlim_max);
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
            lim = raised;
        }
    }
    if (lim.rlim_cur == RLIM_INFINITY || lim.rlim_cur >= need) {
        return want;
    }
    const size_t fits = lim.rlim_cur > reserve + 1 ? static_cast<size_t>(lim.rlim_cur) - reserve : 1;
    *note = "the open-files limit (" + std::to_string(lim.rlim_cur) + ", hard " +
            (lim.rlim_max == RLIM_INFINITY ? std::string("unlimited") : std::to_string(lim.rlim_max)) + ") holds " +
            std::to_string(fits) + " pcap files beside " + std::to_string(reserve) + " others, not " +
            std::to_string(want) + ": more recordings than that take turns (each write reopens its file)";
    return fits;
}

std::string make_dirs(const std::string& path) {
    for (size_t at = 1; at <= path.size(); ++at) {
        if (at != path.size() && path[at] != '/') {
            continue;
        }
        const std::string part = path.substr(0, at);
        if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) {
            return "cannot create directory " + part + ": " + std::strerror(errno);
        }
    }
    return {};
}

std::string write_all(int fd, const char* a, size_t an, const char* b, size_t bn) {
    while (an + bn > 0) {
        iovec v[2];
        int k = 0;
        if (an != 0) {
            v[k++] = iovec{const_cast<char*>(a), an};
        }
        if (bn != 0) {
            v[k++] = iovec{const_cast<char*>(b), bn};
        }
        const ssize_t w = ::writev(fd, v, k);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return std::strerror(w < 0 ? errno : ENOSPC);
        }
        const size_t from_a = std::min(static_cast<size_t>(w), an);
        a += from_a;
        an -= from_a;
        b += static_cast<size_t>(w) - from_a;
        bn -= static_cast<size_t>(w) - from_a;
    }
    return {};
}

std::string write_all(int fd, const char* buf, size_t n) { return write_all(fd, buf, n, nullptr, 0); }

std::string write_new(const std::string& path, std::string_view text) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        return "cannot create " + path + ": " + std::strerror(errno);
    }
    std::string e = write_all(fd, text.data(), text.size());
    if (::close(fd) != 0 && e.empty()) {
        e = std::strerror(errno);
    }
    if (e.empty()) {
        return {};
    }
    ::unlink(path.c_str());
    return "cannot write " + path + ": " + e;
}

std::string move_new(const std::string& from, const std::string& to) {
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) != 0) {
        return std::string(std::strerror(errno));
    }
    return {};
}

namespace {
// Opens `path` to sync it: read-only, never through a symlink, and (unless O_DIRECTORY) only
// a regular file. The descriptor, or -1 with the reason in *error.
int open_to_sync(const std::string& path, int flags, std::string* error) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | flags);
    if (fd < 0) {
        *error = "cannot open " + path + ": " + std::strerror(errno);
        return -1;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        *error = "cannot sync " + path + ": " + std::strerror(errno);
    } else if ((flags & O_DIRECTORY) == 0 && !S_ISREG(st.st_mode)) {
        *error = "cannot sync " + path + ": not a regular file";
    } else {
        return fd;
    }
    ::close(fd);
    return -1;
}

std::string sync_one(const std::string& path, int flags, bool data_only) {
    std::string e;
    const int fd = open_to_sync(path, flags, &e);
    if (fd < 0) {
        return e;
    }
    if ((data_only ? ::fdatasync(fd) : ::fsync(fd)) != 0) {
        e = "cannot sync " + path + ": " + std::strerror(errno);
    }
    ::close(fd);
    return e;
}

// How deep `rel` is under the root: "" 0, "a" 1, "a/b" 2.
size_t depth_of(const std::string& rel) {
    return rel.empty() ? 0 : 1 + static_cast<size_t>(std::count(rel.begin(), rel.end(), '/'));
}

}  // namespace

std::string sub_dir_of(const std::string& rel) {
    const size_t slash = rel.rfind('/');
    return slash == std::string::npos ? std::string() : rel.substr(0, slash);
}

std::string sync_file(const std::string& path) { return sync_one(path, O_NONBLOCK, true); }

std::string sync_dirs(const std::string& root, const std::string& rel) {
    // Deepest first: a directory's own name is in its parent, synced after it.
    std::string sub = rel;
    while (true) {
        const std::string path = sub.empty() ? root : root + "/" + sub;
        if (std::string e = sync_one(path, O_DIRECTORY, false); !e.empty()) {
            return e;
        }
        if (sub.empty()) {
            return {};
        }
        sub = sub_dir_of(sub);
    }
}

std::vector<std::string> sync_files(const std::vector<std::string>& paths) {
    std::vector<std::string> errors(paths.size());
    // At most this many descriptors open at once (a batch's files fit: finisher.h).
    constexpr size_t chunk = 256;
    std::vector<int> fds;
    for (size_t from = 0; from < paths.size(); from += chunk) {
        const size_t to = std::min(paths.size(), from + chunk);
        fds.assign(to - from, -1);
        for (size_t i = from; i < to; ++i) {
            const int fd = open_to_sync(paths[i], O_NONBLOCK, &errors[i]);
            // Only a start: what it could not start, fdatasync writes and reports below.
            if (fd >= 0) {
                ::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
            }
            fds[i - from] = fd;
        }
        for (size_t i = from; i < to; ++i) {
            const int fd = fds[i - from];
            if (fd < 0) {
                continue;
            }
            if (::fdatasync(fd) != 0) {
                errors[i] = "cannot sync " + paths[i] + ": " + std::strerror(errno);
            }
            ::close(fd);
        }
    }
    return errors;
}

std::vector<std::string> sync_dir_set(const std::string& root, const std::vector<std::string>& rels) {
    // Every directory once, with its error; deepest first (a directory's own name is in its
    // parent, synced after it).
    std::map<std::string, std::string> done;
    for (const std::string& rel : rels) {
        for (std::string d = rel;; d = sub_dir_of(d)) {
            done.emplace(d, std::string());
            if (d.empty()) {
                break;
            }
        }
    }
    std::vector<std::string> order;
    for (const auto& [d, e] : done) {
        order.push_back(d);
    }
    std::stable_sort(order.begin(), order.end(),
                     [](const std::string& a, const std::string& b) { return depth_of(a) > depth_of(b); });
    for (const std::string& d : order) {
        done[d] = sync_one(d.empty() ? root : root + "/" + d, O_DIRECTORY, false);
    }
    std::vector<std::string> errors(rels.size());
    for (size_t i = 0; i < rels.size(); ++i) {
        for (std::string d = rels[i];; d = sub_dir_of(d)) {
            if (const std::string& e = done[d]; !e.empty()) {
                errors[i] = e;
                break;
            }
            if (d.empty()) {
                break;
            }
        }
    }
    return errors;
}

}  // namespace rtprelay::recording
