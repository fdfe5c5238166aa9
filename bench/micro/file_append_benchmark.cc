// What the kernel charges a thread for appending to many files at once, as the recorder does
// (one pcap per recording, control/recording/pcap_store.h): append/W/F writes W bytes to
// the end of each of F fresh files in turn (one write() each, from one buffer already in the
// cache), so the time per write is the file system's and the page cache's, none of ours.
// A recording at a call's real rate (two legs of 20 ms G.711) fills 64 KiB in ~3 s, so with
// the default 500 ms age flush its writes are ~11 KB (51 records of 216 bytes); flat-out
// recordings write 64 KiB on 64 KiB boundaries. The files are made before the timed part
// and removed after it. One file (files:1) is what a single append-only file written in
// large appends would pay instead; append_direct/W is that file opened O_DIRECT (W a
// multiple of 4 KiB, from a 4 KiB-aligned buffer: the device reads the buffer, the page
// cache is left out, and write() returns once the device has the bytes).
//
// Files go to $RECORDER_BENCH_DIR (default /tmp), as recorder_benchmark's:
//   file_append_benchmark --benchmark_filter=append/ --benchmark_min_time=0.5

#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

void append_to(benchmark::State& state, size_t bytes, size_t files, int flags) {
    const char* d = std::getenv("RECORDER_BENCH_DIR");
    std::string dir = std::string(d != nullptr ? d : "/tmp") + "/rtprelay-appendbench.XXXXXX";
    if (mkdtemp(dir.data()) == nullptr) {
        state.SkipWithError("mkdtemp failed");
        return;
    }
    std::vector<int> fds;
    for (size_t i = 0; i < files; ++i) {
        const std::string path = dir + "/f" + std::to_string(i);
        const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | flags, 0600);
        if (fd < 0) {
            state.SkipWithError("cannot create a file");
            break;
        }
        fds.push_back(fd);
    }
    // On a 4 KiB boundary (O_DIRECT's rule), whole pages.
    auto* buf = static_cast<char*>(std::aligned_alloc(4096, (bytes + 4095) / 4096 * 4096));
    std::memset(buf, 0x55, bytes);
    size_t next = 0;
    uint64_t written = 0;
    for (auto _ : state) {
        if (fds.size() != files) {
            break;
        }
        if (::write(fds[next], buf, bytes) != static_cast<ssize_t>(bytes)) {
            state.SkipWithError("write failed (disk full?)");
            break;
        }
        written += bytes;
        next = next + 1 == files ? 0 : next + 1;
    }
    state.SetBytesProcessed(static_cast<int64_t>(written));
    for (size_t i = 0; i < fds.size(); ++i) {
        ::close(fds[i]);
        ::unlink((dir + "/f" + std::to_string(i)).c_str());
    }
    ::rmdir(dir.c_str());
    std::free(buf);
}

void append(benchmark::State& state) {
    append_to(state, static_cast<size_t>(state.range(0)), static_cast<size_t>(state.range(1)), 0);
}
BENCHMARK(append)
    ->Name("append")
    ->ArgNames({"bytes", "files"})
    ->ArgsProduct({{8192, 11016, 12288, 16384, 65536, 262144}, {1, 1000}})
    ->Unit(benchmark::kMicrosecond);

void append_direct(benchmark::State& state) { append_to(state, static_cast<size_t>(state.range(0)), 1, O_DIRECT); }
BENCHMARK(append_direct)
    ->Name("append_direct")
    ->ArgNames({"bytes"})
    ->Arg(65536)
    ->Arg(262144)
    ->Arg(1 << 20)
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
