#include "control/recording/record_files.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace rtprelay::recording {

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

std::string write_all(int fd, const char* buf, size_t n) {
    while (n > 0) {
        const ssize_t w = ::write(fd, buf, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return std::strerror(w < 0 ? errno : ENOSPC);
        }
        buf += w;
        n -= static_cast<size_t>(w);
    }
    return {};
}

std::string write_new(const std::string& path, std::string_view text, bool sync) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        return "cannot create " + path + ": " + std::strerror(errno);
    }
    std::string e = write_all(fd, text.data(), text.size());
    if (sync && e.empty() && ::fsync(fd) != 0) {
        e = std::strerror(errno);
    }
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
std::string sync_one(const std::string& path, int flags, bool data_only) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | flags);
    if (fd < 0) {
        return "cannot open " + path + ": " + std::strerror(errno);
    }
    std::string e;
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        e = std::strerror(errno);
    } else if ((flags & O_DIRECTORY) == 0 && !S_ISREG(st.st_mode)) {
        e = "not a regular file";
    } else if ((data_only ? ::fdatasync(fd) : ::fsync(fd)) != 0) {
        e = std::strerror(errno);
    }
    ::close(fd);
    return e.empty() ? std::string() : "cannot sync " + path + ": " + e;
}
}  // namespace

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
        const size_t slash = sub.rfind('/');
        sub = slash == std::string::npos ? std::string() : sub.substr(0, slash);
    }
}

}  // namespace rtprelay::recording
