#pragma once
// The file operations of the recording directory, for the recorder, the pcap store and the
// finisher (non-worker threads). Recordings are private and never replace one another:
// directories are made 0700, files 0600 with O_EXCL, moves into done/ refuse an existing
// name. std::filesystem has neither a mode for create_directories nor a rename that does not
// replace, hence the system calls. Each returns an empty string on success, else the error
// as text.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace rtprelay::recording {

// How many pcap files the recorder may keep open at once: `want` if this process's limit on
// open files (RLIMIT_NOFILE) holds them beside `reserve` others, its soft limit raised
// toward the hard one as far as that needs; else what the hard limit leaves, at least 1,
// with the reason in *note (empty when `want` fits).
size_t fit_open_files(size_t want, size_t reserve, std::string* note);

// mkdir -p with mode 0700 for every directory it creates.
std::string make_dirs(const std::string& path);

// Writes all `n` bytes of `buf` to `fd`, retrying short writes and EINTR: strerror's text.
std::string write_all(int fd, const char* buf, size_t n);
// Writes a[0, an) then b[0, bn) to `fd` as one writev() (short writes and EINTR retried):
// one system call and one file range for two buffers (pcap_store: the bytes carried from the
// last flush, then the stream's buffer).
std::string write_all(int fd, const char* a, size_t an, const char* b, size_t bn);

// Writes `text` to a new file `path` (0600, not over an existing one, not through a symlink);
// a file it could not complete is removed again. Not synced: a caller that needs it on the
// disk syncs it (sync_files, many files at once).
std::string write_new(const std::string& path, std::string_view text);

// Renames `from` to `to` unless `to` exists (an earlier recording of the same name).
std::string move_new(const std::string& from, const std::string& to);

// The directory of `rel` (a path relative to the recording directory): "" for one without
// a directory ("a/b/c" -> "a/b", "c" -> "").
std::string sub_dir_of(const std::string& rel);

// fdatasync(2)s the regular file `path` (opened read-only, not through a symlink): its data,
// and the size that reaches it, survive a power loss. Costs what the kernel still had to
// write of it (a finished recording's last seconds) plus a disk flush.
std::string sync_file(const std::string& path);

// fsync(2)s `root`/`rel` and every directory above it up to `root` itself (`rel` empty:
// `root` alone), so that the names made in them (files created, renamed or linked there,
// and the directories make_dirs made on the way) survive a power loss. A directory with
// nothing new costs a system call; one with changes, a journal commit.
std::string sync_dirs(const std::string& root, const std::string& rel);

// sync_file for many files at once, as a batch of finished recordings needs: every file's
// writeback is started first (sync_file_range, which waits for nothing), then each is
// fdatasync'ed. The disk then writes them together, and on ext4 the first fdatasync's
// journal commit carries the others' sizes, so the later ones mostly find their work done:
// a few disk flushes per batch instead of one or two per file. The errors, one per path
// (empty: synced), as sync_file's.
std::vector<std::string> sync_files(const std::vector<std::string>& paths);

// sync_dirs for many directories under `root` at once: each distinct directory (the `rels`
// and those above them) fsync'ed once, deepest first. The errors, one per rel: the first of
// its directories that could not be synced.
std::vector<std::string> sync_dir_set(const std::string& root, const std::vector<std::string>& rels);

}  // namespace rtprelay::recording
