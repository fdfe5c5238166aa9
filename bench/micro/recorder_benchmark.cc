// The recorder's own throughput on one core (control/recording/recorder.h): packets a worker
// copied into its record ring (172-byte G.711 RTP, spread round robin over R recordings),
// read by recorder::poll() and written to pcap files with at most recorder_config's
// max_open_files (4,096, the relay's default) files open. What one
// recorder thread can take from the workers: compare with a worker's relay rate.
//
//   recorder/drain/R      ring -> pcap files, R recordings at once (R > 4,096: files reopened;
//                         3,000 recordings buffer up to ~200 MB, flush_bytes each)
//   recorder/paced/R/F    R recordings at a call's real rate (two legs of 20 ms G.711: 100
//                         packets/s each) on a simulated clock, flush_every = F ms: what
//                         the age flushes cost (at this rate a recording's 64 KiB fills in
//                         ~3 s, so flush_every, not flush_bytes, decides every write; with
//                         R > 4,096 each write reopens the file). Packets/s of the
//                         recorder's one core; the node's loss window on kill -9 is F.
//   recorder/start        starting recordings: what the recorder thread pays (recorder_us,
//                         its own CPU per start) and what the file thread pays to create
//                         their files (file_thread_us, the rest of the process's CPU)
//   recorder/finish/S     closing one recording of S seconds of two-leg G.711: WAV rendered
//                         from its pcap, JSON written, files moved (the finisher thread)
//   recorder/stop/R       a node's stop with R recordings open (2 s of two-leg G.711 each):
//                         every one finished durably; wall time, most of it disk waits
//
// Files go to $RECORDER_BENCH_DIR (default /tmp): a disk, or /dev/shm to leave the disk out.
//   recorder_benchmark --benchmark_repetitions=3 --benchmark_report_aggregates_only=true

#include <benchmark/benchmark.h>

#include <arpa/inet.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "control/recording/record_files.h"
#include "control/recording/recorder.h"
#include "dataplane/record_ring.h"

namespace rec = rtprelay::recording;
namespace dp = rtprelay::dp;

namespace {

std::string bench_dir() {
    const char* d = std::getenv("RECORDER_BENCH_DIR");
    std::string tmpl = std::string(d != nullptr ? d : "/tmp") + "/rtprelay-recbench.XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
        std::abort();
    }
    rec::prepare_directory(tmpl);
    return tmpl;
}

void remove_dir(const std::string& d) {
    if (std::system(("rm -rf '" + d + "'").c_str()) != 0) {
        std::abort();
    }
}

std::vector<uint8_t> g711_packet(uint16_t seq) {
    std::vector<uint8_t> p(172, 0x55);
    p[0] = 0x80;
    p[2] = static_cast<uint8_t>(seq >> 8);
    p[3] = static_cast<uint8_t>(seq);
    return p;
}

// The relay's recorder configuration, its open files fitted to this process' limit as the
// relay fits them.
rec::recorder_config bench_config(const std::string& dir) {
    rec::recorder_config c;
    c.dir = dir;
    std::string note;
    c.max_open_files = rec::fit_open_files(c.max_open_files, 64, &note);
    return c;
}

// Packet k of a PCMU stream (20 ms apart, RTP timestamp k * 160) on `leg` of recording `id`,
// into the ring: the finish renders a WAV from these.
void copy_pcmu(dp::record_ring& ring, uint32_t k, uint32_t id, uint8_t leg) {
    std::vector<uint8_t> q = g711_packet(static_cast<uint16_t>(k));
    const uint32_t ts = k * 160;
    q[4] = static_cast<uint8_t>(ts >> 24);
    q[5] = static_cast<uint8_t>(ts >> 16);
    q[6] = static_cast<uint8_t>(ts >> 8);
    q[7] = static_cast<uint8_t>(ts);
    q[1] = 0;  // PCMU
    q[11] = leg;
    dp::record_copy(ring, k * 20'000'000ull, id, leg, false, htonl(0xc6120001 + leg), htons(4000),
                    htonl(0xc6120101 + leg), htons(30000), q.data(), static_cast<uint32_t>(q.size()));
}

// Opens recordings 1..n, each named by its number.
void open_numbered(rec::recorder& r, uint32_t n) {
    for (uint32_t id = 1; id <= n; ++id) {
        rec::open_request o;
        o.id = id;
        o.base = std::to_string(id);
        r.open(o);
    }
}

// range(1): 6 = the packets arrived over IPv6 (records with both addresses; IPv6/UDP with its
// checksum in the pcap), else IPv4. range(2): the recorder's flush_bytes in KiB (how much of
// each recording's buffer the loop keeps writing into before a write(): at 1,000 recordings
// the buffers together are 1,000 times that, and whether they stay in cache is the question).
void drain(benchmark::State& state) {
    const auto recordings = static_cast<uint32_t>(state.range(0));
    const bool v6 = state.range(1) == 6;
    const auto flush_kib = static_cast<size_t>(state.range(2));
    const uint8_t src6[16] = {0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};
    const uint8_t dst6[16] = {0x20, 0x01, 0x00, 0x02, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
    const std::string dir = bench_dir();
    dp::record_ring ring(8 << 20);
    rec::recorder_config c = bench_config(dir);
    c.flush_bytes = flush_kib << 10;
    rec::recorder r(c, {&ring}, nullptr);
    // Not what this measures: stop() leaves every recording as a node dying after its WAV
    // would (no sync, no move), so a run's end costs no disk flushes per recording.
    r.die_after(rec::completion_step::wav_written);
    open_numbered(r, recordings);
    r.poll(std::chrono::steady_clock::now());
    const std::vector<uint8_t> p = g711_packet(1);
    uint64_t packets = 0;
    uint64_t tsc = 0;
    uint32_t id = 0;
    auto lap = [&] {
        for (int k = 0; k < 4096; ++k) {
            id = id % recordings + 1;
            if (v6) {
                dp::record_copy6(ring, tsc += 1000, id, static_cast<uint8_t>(id & 1), false, src6, htons(4000), dst6,
                                 htons(30000), p.data(), static_cast<uint32_t>(p.size()));
            } else {
                dp::record_copy(ring, tsc += 1000, id, static_cast<uint8_t>(id & 1), false, htonl(0xc6120001),
                                htons(4000), htonl(0xc6120101), htons(30000), p.data(),
                                static_cast<uint32_t>(p.size()));
            }
        }
        ring.commit();
    };
    // Untimed, every recording's first flush: its buffer has grown to its size (a recording
    // does that once in its life, ~128 KiB of fresh pages, which at 1,000 recordings would be
    // ~5% of a timed run), and the files' first, unaligned writes are done.
    const uint64_t warm = recordings * (c.flush_bytes / (16 + 28 + 172) + 2);
    for (uint64_t done = 0; done < warm; done += 4096) {
        lap();
        while (ring.consumed() != ring.committed()) {
            r.poll(std::chrono::steady_clock::now());
        }
    }
    for (auto _ : state) {
        state.PauseTiming();
        lap();
        state.ResumeTiming();
        while (ring.consumed() != ring.committed()) {
            packets += r.poll(std::chrono::steady_clock::now());
        }
    }
    state.SetItemsProcessed(static_cast<int64_t>(packets));
    // Bytes of pcap per packet: record header (16) + IPv4/UDP (28) or IPv6/UDP (48) + RTP (172).
    state.SetBytesProcessed(static_cast<int64_t>(packets * (16 + (v6 ? 48 : 28) + 172)));
    r.stop();
    remove_dir(dir);
}
BENCHMARK(drain)
    ->Name("recorder/drain")
    ->ArgNames({"recordings", "ip", "flush_kib"})
    ->ArgsProduct({{1, 100, 1000, 3000}, {4, 6}, {64}})  // 64 KiB: recorder_config's default
    ->ArgsProduct({{100, 1000, 3000}, {4}, {4, 8, 16, 256}})
    ->Unit(benchmark::kMicrosecond);

void paced(benchmark::State& state) {
    const auto recordings = static_cast<uint32_t>(state.range(0));
    const std::string dir = bench_dir();
    dp::record_ring ring(8 << 20);
    rec::recorder_config c = bench_config(dir);
    c.flush_every = std::chrono::milliseconds(state.range(1));
    rec::recorder r(c, {&ring}, nullptr);
    // Not what this measures: stop() leaves every recording as a node dying after its WAV
    // would (no sync, no move), so a run's end costs no disk flushes per recording.
    r.die_after(rec::completion_step::wav_written);
    open_numbered(r, recordings);
    // The simulated clock: 1,024 packets a turn at 100 packets/s per recording (10 ms at
    // 1,000 recordings, so the age passes come as often as in real time).
    auto now = std::chrono::steady_clock::now();
    const auto turn = std::chrono::nanoseconds(1024ull * 1'000'000'000 / (100ull * recordings));
    r.poll(now);
    const std::vector<uint8_t> p = g711_packet(1);
    uint64_t packets = 0;
    uint64_t tsc = 0;
    uint32_t id = 0;
    auto turn_of_packets = [&] {
        for (int k = 0; k < 1024; ++k) {
            id = id % recordings + 1;
            dp::record_copy(ring, tsc += 1000, id, static_cast<uint8_t>(id & 1), false, htonl(0xc6120001), htons(4000),
                            htonl(0xc6120101), htons(30000), p.data(), static_cast<uint32_t>(p.size()));
        }
        ring.commit();
        now += turn;
    };
    // Two flush_every of packets untimed: every recording then has a buffer of the steady
    // state's age, so the timed turns flush at the steady rate.
    for (const auto until = now + 2 * c.flush_every; now < until;) {
        turn_of_packets();
        while (ring.consumed() != ring.committed()) {
            r.poll(now);
        }
    }
    for (auto _ : state) {
        state.PauseTiming();
        turn_of_packets();
        state.ResumeTiming();
        while (ring.consumed() != ring.committed()) {
            packets += r.poll(now);
        }
    }
    state.SetItemsProcessed(static_cast<int64_t>(packets));
    r.stop();
    remove_dir(dir);
}
BENCHMARK(paced)
    ->Name("recorder/paced")
    ->ArgNames({"recordings", "flush_ms"})
    ->ArgsProduct({{1000}, {4000, 2000, 1000, 500, 250, 100, 50}})
    ->Unit(benchmark::kMicrosecond);

double cpu_seconds(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// What starting recordings costs the recorder thread, whose pass takes the opens before it
// reads the rings: the memory side (the dumper, its pcap file header) and the file work
// queued; the file thread creates each pcap with its header and writes its state file
// (created, then renamed into place), as in a running node. Batches of 64, as a burst of NG
// requests brings them; every recording is closed again between batches (untimed, once the
// file thread made its files) and finished at the end. Per recording started, on
// $RECORDER_BENCH_DIR's file system. The time columns are the timed poll()'s (Google
// Benchmark's CPU time is this thread's); recorder_us is that thread's CPU per start read
// around poll() alone (CLOCK_THREAD_CPUTIME_ID), file_thread_us the process's CPU besides
// this thread's over the loop (the file thread's: the finisher is not started), per start.
void start(benchmark::State& state) {
    const std::string dir = bench_dir();
    dp::record_ring ring(1 << 20);
    rec::recorder_config c = bench_config(dir);
    rec::recorder r(c, {&ring}, nullptr);
    r.die_after(rec::completion_step::wav_written);
    r.start_file_thread();
    constexpr uint32_t batch = 64;
    uint32_t id = 0;
    double recorder_cpu = 0;
    const double process0 = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
    const double thread0 = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
    for (auto _ : state) {
        state.PauseTiming();
        const uint32_t first = id + 1;
        for (uint32_t k = 0; k < batch; ++k) {
            rec::open_request o;
            o.id = ++id;
            o.base = std::to_string(id);
            r.open(o);
        }
        state.ResumeTiming();
        const double before = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
        r.poll(std::chrono::steady_clock::now());
        recorder_cpu += cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - before;
        state.PauseTiming();
        for (uint32_t k = first; k <= id; ++k) {
            rec::close_request cr;
            cr.id = k;
            r.close(cr);
        }
        // A close waits for its recording's files: poll until the file thread made them all.
        while (r.open_recordings() != 0) {
            r.poll(std::chrono::steady_clock::now());
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        state.ResumeTiming();
    }
    const double starts = static_cast<double>(state.iterations() * batch);
    const double others =
        (cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - process0) - (cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - thread0);
    state.counters["recorder_us"] = recorder_cpu * 1e6 / starts;
    state.counters["file_thread_us"] = others * 1e6 / starts;
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
    r.stop();
    remove_dir(dir);
}
BENCHMARK(start)->Name("recorder/start")->Iterations(40)->Unit(benchmark::kMicrosecond);

void finish(benchmark::State& state) {
    const auto seconds = static_cast<uint32_t>(state.range(0));
    const std::string dir = bench_dir();
    dp::record_ring ring(1 << 20);
    rec::recorder_config c = bench_config(dir);
    uint32_t id = 0;
    for (auto _ : state) {
        state.PauseTiming();
        // A recorder per call: stop() ends one (its threads were never started, so stop()
        // runs the finisher's work on this thread: what is timed).
        auto r = std::make_unique<rec::recorder>(c, std::vector<dp::record_ring*>{&ring}, nullptr);
        rec::open_request o;
        o.id = ++id;
        o.base = std::to_string(id);
        r->open(o);
        r->poll(std::chrono::steady_clock::now());
        for (uint32_t k = 0; k < seconds * 50; ++k) {
            for (uint8_t leg = 0; leg < 2; ++leg) {
                copy_pcmu(ring, k, id, leg);
            }
            if (ring.committed() - ring.consumed() > (512 << 10)) {
                ring.commit();
                r->poll(std::chrono::steady_clock::now());
            }
        }
        ring.commit();
        r->poll(std::chrono::steady_clock::now());
        rec::close_request cr;
        cr.id = id;
        cr.stop_ns = static_cast<int64_t>(seconds) * 1'000'000'000;
        r->close(cr);
        r->poll(std::chrono::steady_clock::now());  // the close: pcap done, job to the finisher
        state.ResumeTiming();
        r->stop();
        state.PauseTiming();
        r.reset();
        state.ResumeTiming();
    }
    state.counters["call_seconds_per_s"] = benchmark::Counter(
        static_cast<double>(seconds) * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
    remove_dir(dir);
}
BENCHMARK(finish)->Name("recorder/finish")->Arg(10)->Arg(60)->Unit(benchmark::kMillisecond);

// A node's stop with R recordings open, each of 2 s of two-leg G.711 (its pcap in the page
// cache, not yet on the disk, as a call's last seconds are): stop() closes them all and
// finishes every one durably (WAV, syncs, metadata, moves), on this thread as the recorder's
// threads were never started. Wall time: most of it waits for the disk.
void stop(benchmark::State& state) {
    const auto recordings = static_cast<uint32_t>(state.range(0));
    constexpr uint32_t packets_per_leg = 100;
    for (auto _ : state) {
        state.PauseTiming();
        const std::string dir = bench_dir();
        dp::record_ring ring(8 << 20);
        rec::recorder_config c;
        c.dir = dir;
        // The packets' clock starts 2 s ago, as the recordings do: stop() ends them now, so
        // each WAV is ~2 s long (with a start at 0 it would span since 1970, up to the WAV's
        // limit).
        c.unix_ns0 =
            std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count() -
            2'000'000'000;
        rec::recorder r(c, {&ring}, nullptr);
        for (uint32_t id = 1; id <= recordings; ++id) {
            rec::open_request o;
            o.id = id;
            o.base = std::to_string(id);
            o.start_ns = c.unix_ns0;
            r.open(o);
        }
        r.poll(std::chrono::steady_clock::now());
        for (uint32_t k = 0; k < packets_per_leg; ++k) {
            for (uint32_t id = 1; id <= recordings; ++id) {
                for (uint8_t leg = 0; leg < 2; ++leg) {
                    copy_pcmu(ring, k, id, leg);
                }
            }
            ring.commit();
            while (ring.consumed() != ring.committed()) {
                r.poll(std::chrono::steady_clock::now());
            }
        }
        // Every buffer written to its file (an age flush), so stop() has only the finish left.
        r.poll(std::chrono::steady_clock::now() + std::chrono::hours(1));
        state.ResumeTiming();
        r.stop();
        state.PauseTiming();
        if (r.counters().finished != recordings) {
            state.SkipWithError("not every recording finished");
        }
        remove_dir(dir);
        state.ResumeTiming();
    }
    state.counters["recordings_per_s"] = benchmark::Counter(
        static_cast<double>(recordings) * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(stop)
    ->Name("recorder/stop")
    ->ArgName("recordings")
    ->Arg(100)
    ->Arg(1000)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
