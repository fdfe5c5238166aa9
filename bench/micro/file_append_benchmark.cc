// What the kernel charges a thread for appending to many files at once, as the recorder does
// (one pcap per recording, control/recording/pcap_store.h): append/W/F writes W bytes to
// the end of each of F fresh files in turn (one write() each, from one buffer already in the
// cache), so the time per write is the file system's and the page cache's, none of ours.
// A recording at a call's real rate (two legs of 20 ms G.711) fills 64 KiB in ~3 s, so with
// the default 500 ms age flush its writes are ~11 KB (51 records of 216 bytes); flat-out
// recordings write 64 KiB on 64 KiB boundaries. The files are made before the timed part
// and removed after it.
//
// Files go to $RECORDER_BENCH_DIR (default /tmp), as recorder_benchmark's:
//   file_append_benchmark --benchmark_filter=append/ --benchmark_min_time=0.5

#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace {

void append(benchmark::State& state) {
    const auto bytes = static_cast<size_t>(state.range(0));
    const auto files = static_cast<size_t>(state.range(1));
    const char* d = std::getenv("RECORDER_BENCH_DIR");
    std::string dir = std::string(d != nullptr ? d : "/tmp") + "/rtprelay-appendbench.XXXXXX";
    if (mkdtemp(dir.data()) == nullptr) {
        state.SkipWithError("mkdtemp failed");
        return;
    }
    std::vector<int> fds;
    for (size_t i = 0; i < files; ++i) {
        const std::string path = dir + "/f" + std::to_string(i);
        const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
        if (fd < 0) {
            state.SkipWithError("cannot create a file");
            break;
        }
        fds.push_back(fd);
    }
    const std::vector<char> buf(bytes, 0x55);
    size_t next = 0;
    uint64_t written = 0;
    for (auto _ : state) {
        if (fds.size() != files) {
            break;
        }
        if (::write(fds[next], buf.data(), bytes) != static_cast<ssize_t>(bytes)) {
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
}
BENCHMARK(append)
    ->Name("append")
    ->ArgNames({"bytes", "files"})
    ->ArgsProduct({{8192, 11016, 12288, 16384, 65536, 262144}, {1000}})
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
