// NG offer+answer with a group's record writer on and off (control/ha; issue 14's target: on
// >= 80% of off, NG latency unchanged). The control plane as relay/main.cc wires it, on no
// ports: bencode decode, ng::commands::handle (sessions, SDES, ports, publishing into a real
// flow table), encode of the reply; with the writer on, the session observer snapshots each
// changed call and queues it for the agent thread (which encodes, seals and writes it), and
// group::tick runs after every datagram as the control loop does. The agent writes to the
// Redis named by RTPRELAY_BENCH_REDIS (HOST:PORT; bench/ha/writer_bench.sh starts one).
//
// Where the threads run: the EAL pins the main (control) thread to CPU 0 whatever taskset
// said, and the agent thread, made by it, inherits that. RTPRELAY_BENCH_CONTROL_CPU=N pins
// the control thread to CPU N after the EAL; RTPRELAY_BENCH_AGENT_CPU=M pins the agent
// thread to CPU M (default: the control thread's CPU, i.e. both on one core).
//
// One iteration = one offer + one answer of a new call; calls are deleted every 1,000 pairs
// with the timer paused (deletes are written too). Two orders:
//   pattern 0: each offer followed at once by its answer (the answer's change replaces the
//              offer's queued record: write_queue.h; one record per pair);
//   pattern 1: 1,000 offers, then their 1,000 answers (each offer's record is written long
//              before its answer, as with a phone ringing in between: two records per pair).
// Counters: p50/p99 of one NG request's handling in microseconds (decode, commands, the
// reply encoded: the NG server sends it before the loop's tick); the tick that follows it,
// timed apart: its p50/p99/max and its share of request + tick time, and p99 of request +
// tick (turn_p99_us, what a request queued behind that turn waits); pairs per second of
// all the CPU time a pair costs (cpu_pairs_per_s: every thread of the process and Redis,
// whose pid RTPRELAY_BENCH_REDIS_PID gives, until Redis acknowledged the last record: what
// one core does with everything on it; items_per_second is the control thread's CPU time
// alone); with the writer on, records
// Redis acknowledged per offer+answer pair and bytes per record. Where the control thread's
// extra time with the writer on comes from: its context switches per 1,000 pairs, and what
// the requests after an interruption (another thread's turn on its CPU) lose against those
// further on (after_interruption_us_per_pair: a cache emptied by that turn).
//   ha_writer/<kind>/<writer>/<pattern>: kind 0 plain, 1 RTP<->SRTP, 2 SRTP<->SRTP; writer 0 off, 1 on.
//   ha_seal/<impl>/<bytes>: one record's sealing as the agent does it (sealer::seal_into: a
//   fresh nonce, AES-256-GCM, its tag), impl 0 = the project's GCM as the agent uses it
//   (intel-ipsec-mb where the CPU has AES-NI), 1 = OpenSSL's EVP (control/ha/seal.h).

#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench/micro/micro_eal.h"
#include "control/admission/admission.h"
#include "control/ha/config.h"
#include "control/ha/group.h"
#include "control/ha/seal.h"
#include "control/interfaces.h"
#include "control/ng/bencode.h"
#include "control/ng/commands.h"
#include "control/publish/publisher.h"
#include "control/sdes/crypto_attr.h"
#include "control/session/manager.h"
#include "dataplane/flow_table.h"
#include "dataplane/local_addresses.h"
#include "dataplane/neighbour_table.h"

namespace {

using rtprelay::ng::value;
namespace ng = rtprelay::ng;
namespace sdes = rtprelay::sdes;
namespace ha = rtprelay::ha;
using steady = std::chrono::steady_clock;

constexpr uint32_t batch_calls = 1000;

// The CPU an environment variable names, or -1.
int cpu_from_env(const char* name) {
    const char* v = std::getenv(name);
    return v == nullptr || *v == '\0' ? -1 : std::atoi(v);
}

double cpu_seconds(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// The CPU time of Redis' main thread (it does the commands' work), from
// /proc/PID/schedstat (nanoseconds on CPU) of RTPRELAY_BENCH_REDIS_PID; 0 without it.
double redis_cpu_seconds() {
    const char* pid = std::getenv("RTPRELAY_BENCH_REDIS_PID");
    if (pid == nullptr || *pid == '\0') {
        return 0;
    }
    std::ifstream f(std::string("/proc/") + pid + "/schedstat");
    uint64_t ns = 0;
    f >> ns;
    return static_cast<double>(ns) * 1e-9;
}

// Context switches so far, voluntary and not: this thread's (`self`) or the sum of the
// process's other threads' (the agent's): getrusage's per-thread and per-process counts.
struct switches {
    double voluntary = 0;
    double involuntary = 0;
};
switches context_switches(bool self) {
    rusage thread{}, process{};
    getrusage(RUSAGE_THREAD, &thread);
    if (self) {
        return {static_cast<double>(thread.ru_nvcsw), static_cast<double>(thread.ru_nivcsw)};
    }
    getrusage(RUSAGE_SELF, &process);
    return {static_cast<double>(process.ru_nvcsw - thread.ru_nvcsw),
            static_cast<double>(process.ru_nivcsw - thread.ru_nivcsw)};
}

// What an interruption of the control thread (a request whose wall time holds another
// thread's turn on its CPU: the agent's, Redis', anyone's) costs the requests after it, from
// the requests' times in the order they ran: the mean time of the k-th request after an
// interruption (k < 128) against the mean of those further on, summed over k. A cache
// emptied by the other thread's turn shows here as the first requests after it running
// slower; a switch's own cost is inside the interrupted request and not counted.
// Returns {interruptions, excess us per interruption}.
std::pair<double, double> after_interruption(const std::vector<double>& ordered, double threshold_us) {
    constexpr size_t near = 128;
    std::vector<double> sum(near, 0), n(near, 0);
    double far_sum = 0, far_n = 0, interruptions = 0;
    size_t k = near * 4;  // the run's first requests count as far from any interruption
    for (const double t : ordered) {
        if (t > threshold_us) {
            ++interruptions;
            k = 0;
            continue;
        }
        if (k < near) {
            sum[k] += t;
            n[k] += 1;
        } else {
            far_sum += t;
            far_n += 1;
        }
        ++k;
    }
    if (far_n == 0) {
        return {interruptions, 0};
    }
    const double far = far_sum / far_n;
    double excess = 0;
    for (size_t i = 0; i < near; ++i) {
        if (n[i] > 0) {
            excess += sum[i] / n[i] - far;
        }
    }
    return {interruptions, excess};
}

void pin_this_thread(int cpu) {
    if (cpu < 0) {
        return;
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0) {
        throw std::runtime_error("cannot pin a thread to CPU " + std::to_string(cpu));
    }
}

std::string sdp(const std::string& ip, uint32_t call, bool savp) {
    std::string s = "v=0\r\no=- " + std::to_string(100000 + call) + " 1 IN IP4 " + ip + "\r\ns=-\r\nc=IN IP4 " + ip +
                    "\r\nt=0 0\r\nm=audio " + std::to_string(16384 + 2 * (call % 8000)) +
                    (savp ? " RTP/SAVP" : " RTP/AVP") + " 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n";
    if (savp) {
        s += "a=crypto:" + sdes::format_crypto(sdes::fresh_attr(1, sdes::suite::aes_cm_128_hmac_sha1_80, false)) +
             "\r\n";
    }
    return s + "a=sendrecv\r\n";
}

value request(const char* command, uint32_t call, int64_t round) {
    value d = value::dict();
    d.set("command", value::str(command));
    d.set("call-id", value::str("hab-" + std::to_string(round) + "-" + std::to_string(call) + "@198.51.100.10"));
    d.set("from-tag", value::str("ft" + std::to_string(call)));
    return d;
}

struct plane {
    // A node of a group of its own (writer on), or of `group_name` as `node`; a node with no
    // home addresses is a standby that takes over orphaned ones.
    explicit plane(bool writer, uint32_t calls = batch_calls, const std::string& group_name = {},
                   const std::string& node = "n1", bool home = true, bool wait_served = true) {
        interfaces.add(rtprelay::parse_interface("external address=198.18.1.1/24 dpdk-port=0 ports=10000-59999", 1));
        interfaces.add(rtprelay::parse_interface("internal address=198.18.2.1/24 dpdk-port=1 ports=10000-59999", 2));
        flows = std::make_unique<rtprelay::dp::flow_table>(8 * calls + 1024, 1, 0);
        neighbours = std::make_unique<rtprelay::dp::neighbour_table>(1024, 0);
        pub = std::make_unique<rtprelay::publisher>(*flows, *neighbours, 1);
        adm = std::make_unique<rtprelay::admission>(0, 80'000, 0.0, interfaces.all().size());
        sessions =
            std::make_unique<rtprelay::session_manager>(interfaces, *pub, rtprelay::session_timeouts{}, adm.get());
        cmds = std::make_unique<ng::commands>(*sessions, nullptr);
        if (!writer) {
            return;
        }
        const char* redis = std::getenv("RTPRELAY_BENCH_REDIS");
        if (redis == nullptr) {
            throw std::runtime_error("RTPRELAY_BENCH_REDIS=HOST:PORT is not set (bench/ha/writer_bench.sh)");
        }
        ha::group_config c;
        // A group of its own per run: a run's calls left open at the end must not be adopted
        // by the next run's node.
        static int runs = 0;
        c.group = group_name.empty() ? "bench" + std::to_string(getpid()) + "-" + std::to_string(++runs) : group_name;
        c.node = node;
        c.redis = ha::parse_host_port("redis", redis);
        c.key = *ha::group_key::from_hex(std::string(64, 'b'));
        if (home) {
            c.home_addresses = {"198.18.1.1", "198.18.2.1"};
        }
        if (group_name.empty()) {
            // offer_answer (a group of its own): a lease of 3 s, not 600 ms, so that the agent thread held off its
            // CPU for a few hundred ms by other work on a shared machine does not suspend the
            // calls being measured ("Call suspended" ends the run). Takeover keeps 600 ms.
            c.lease = std::chrono::milliseconds(3000);
        }
        cfg = std::make_unique<ha::group_config>(c);
        for (const auto& i : interfaces.all()) {
            for (const auto& a : i.addresses) {
                locals.add(a.net.base.v4_be(), i.dpdk_port, 0);
            }
        }
        grp = std::make_unique<ha::group>(*cfg, *sessions, interfaces, locals);
        // The agent thread inherits the affinity of the thread that starts it.
        const int control_cpu = cpu_from_env("RTPRELAY_BENCH_CONTROL_CPU");
        const int agent_cpu = cpu_from_env("RTPRELAY_BENCH_AGENT_CPU");
        pin_this_thread(agent_cpu >= 0 ? agent_cpu : control_cpu);
        grp->start();
        pin_this_thread(control_cpu);
        if (!wait_served) {
            return;
        }
        // Until the leases are taken no address serves and offers find no ports.
        const auto deadline = steady::now() + std::chrono::seconds(5);
        while (grp->counters().addresses_served.load() < 2 && steady::now() < deadline) {
            grp->tick(steady::now());
        }
        if (grp->counters().addresses_served.load() < 2) {
            throw std::runtime_error("no leases from the Redis at RTPRELAY_BENCH_REDIS");
        }
    }
    ~plane() {
        cmds.reset();
        if (grp) {
            grp->stop(!dies);
            grp.reset();
        }
        sessions.reset();
        pub.reset();
        flows->reclaim_all();
    }
    // One request as the NG server and control loop treat it: the request (decode, commands,
    // encode of the reply, which the NG server sends before the loop goes on), then the
    // group's tick of that loop turn. Returns the request's time; the tick's goes to
    // `tick_us` (0 with the writer off: no group, no tick).
    double handle(const std::string& body, double* tick_us = nullptr) {
        const auto t0 = steady::now();
        std::string error;
        auto req = ng::decode(body, &error);
        if (!req) {
            throw std::runtime_error("decode: " + error);
        }
        const value reply = cmds->handle(*req, t0);
        std::string out = "cookie ";
        ng::encode_to(reply, &out);
        const auto t1 = steady::now();
        if (grp) {
            grp->tick(t1);
        }
        const auto t2 = steady::now();
        const value* r = reply.find("result");
        if (r == nullptr || !r->is_string() || r->as_string() != "ok") {
            throw std::runtime_error("NG reply is not ok: " + ng::encode(reply));
        }
        if (tick_us != nullptr) {
            *tick_us = std::chrono::duration<double, std::micro>(t2 - t1).count();
        }
        return std::chrono::duration<double, std::micro>(t1 - t0).count();
    }

    bool dies = false;  // stop as a killed node would: leases kept until they lapse
    rtprelay::interface_set interfaces;
    std::unique_ptr<rtprelay::dp::flow_table> flows;
    std::unique_ptr<rtprelay::dp::neighbour_table> neighbours;
    std::unique_ptr<rtprelay::publisher> pub;
    std::unique_ptr<rtprelay::admission> adm;
    std::unique_ptr<rtprelay::session_manager> sessions;
    std::unique_ptr<ng::commands> cmds;
    rtprelay::dp::local_addresses locals;
    std::unique_ptr<ha::group_config> cfg;
    std::unique_ptr<ha::group> grp;
};

void offer_answer(benchmark::State& state) {
    const int k = static_cast<int>(state.range(0));
    const bool writer = state.range(1) != 0;
    const bool offers_first = state.range(2) != 0;
    pin_this_thread(cpu_from_env("RTPRELAY_BENCH_CONTROL_CPU"));
    // Per request: its own time, its loop turn's tick, and the two together (what the
    // earlier sections of bench/RESULTS.md called the request's time).
    std::vector<double> samples, ticks, turns;
    samples.reserve(1 << 20);
    ticks.reserve(1 << 20);
    turns.reserve(1 << 20);
    try {
        plane p(writer);
        int64_t round = 0;
        std::vector<std::string> offers, answers, deletes;
        auto make = [&] {
            offers.clear();
            answers.clear();
            deletes.clear();
            for (uint32_t i = 0; i < batch_calls; ++i) {
                value o = request("offer", i, round);
                o.set("sdp", value::str(sdp("198.51.100.10", i, k == 2)));
                value dir = value::list();
                dir.as_list().push_back(value::str("external"));
                dir.as_list().push_back(value::str("internal"));
                o.set("direction", dir);
                if (k == 1) {
                    o.set("transport-protocol", value::str("RTP/SAVP"));
                }
                offers.push_back(ng::encode(o));
                value a = request("answer", i, round);
                a.set("to-tag", value::str("tt" + std::to_string(i)));
                a.set("sdp", value::str(sdp("203.0.113.20", i, k != 0)));
                if (k == 1) {
                    a.set("transport-protocol", value::str("RTP/AVP"));
                }
                answers.push_back(ng::encode(a));
                deletes.push_back(ng::encode(request("delete", i, round)));
            }
        };
        make();
        auto one = [&](const std::string& body) {
            double tick = 0;
            const double req = p.handle(body, &tick);
            samples.push_back(req);
            ticks.push_back(tick);
            turns.push_back(req + tick);
        };
        uint32_t i = 0;
        const auto wall0 = steady::now();
        const double process_cpu0 = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
        const double thread_cpu0 = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
        const double redis_cpu0 = redis_cpu_seconds();
        const switches self0 = context_switches(true), others0 = context_switches(false);
        double paused_cpu = 0;
        double delete_cpu = 0;        // of paused_cpu: the control thread's deletes (not making requests)
        double agent_delete_cpu = 0;  // the agent's writing of the deletes (DEL, SREM)
        // The CPU of the process' threads other than this one (the agent's), and a wait (timer
        // paused) until every operation queued so far is acknowledged.
        const auto agent_cpu = [] {
            return cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
        };
        const auto drained = [&p] {
            const auto until = steady::now() + std::chrono::seconds(5);
            while (p.grp && p.grp->pending_writes() != 0 && steady::now() < until) {
                std::this_thread::sleep_for(std::chrono::microseconds(100));
            }
        };
        for (auto _ : state) {
            // pattern 1: the first half of a round's iterations offer two calls each, the
            // second half answer them.
            if (!offers_first) {
                one(offers[i]);
                one(answers[i]);
            } else if (i < batch_calls / 2) {
                one(offers[2 * i]);
                one(offers[2 * i + 1]);
            } else {
                const uint32_t a = 2 * (i - batch_calls / 2);
                one(answers[a]);
                one(answers[a + 1]);
            }
            if (++i == batch_calls) {
                i = 0;
                state.PauseTiming();
                const double paused0 = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
                // The agent's CPU for writing the deletes alone: from its having written every
                // record of the round until it has written every delete.
                drained();
                const double agent0 = agent_cpu();
                const double delete0 = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
                for (const auto& d : deletes) {
                    p.handle(d);
                }
                p.flows->reclaim();
                delete_cpu += cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - delete0;
                drained();
                agent_delete_cpu += agent_cpu() - agent0;
                ++round;
                make();
                paused_cpu += cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - paused0;
                state.ResumeTiming();
            }
        }
        // Everything a pair costs, in CPU time: every thread of this process (the agent's
        // encoding and sealing included) and Redis, from the first offer until Redis
        // acknowledged the last record, less what the control thread spent with the timer
        // paused (deletes, making requests; the agent's and Redis' work for deletes stays
        // in). Pairs per second of that = what one core does with everything on it.
        while (p.grp && p.grp->pending_writes() != 0 && steady::now() - wall0 < std::chrono::seconds(60)) {
            std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
        const double process_s = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - process_cpu0;
        const double thread_s = cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - thread_cpu0;
        const double redis_s = redis_cpu_seconds() - redis_cpu0;
        const switches self1 = context_switches(true), others1 = context_switches(false);
        const double cpu_s = process_s - paused_cpu + redis_s;
        const double pairs = static_cast<double>(state.iterations());
        state.counters["cpu_pairs_per_s"] = cpu_s > 0 ? pairs / cpu_s : 0;
        // Where it went, us per pair: the other threads (the agent) and Redis.
        state.counters["agent_us_per_pair"] = pairs > 0 ? (process_s - thread_s) * 1e6 / pairs : 0;
        state.counters["redis_us_per_pair"] = pairs > 0 ? redis_s * 1e6 / pairs : 0;
        // The calls' deletes, us per pair: the control thread's (timer paused, left out of
        // the figures above) and the agent's writing of them (in agent_us_per_pair and
        // cpu_pairs_per_s when the writer is on).
        state.counters["delete_us_per_pair"] = pairs > 0 ? delete_cpu * 1e6 / pairs : 0;
        state.counters["agent_delete_us_per_pair"] = pairs > 0 ? agent_delete_cpu * 1e6 / pairs : 0;
        // Context switches per 1,000 pairs: the control thread's (voluntary: it slept; not:
        // another thread took its CPU) and the other threads' (the agent's). The deletes'
        // (timer paused) are in them.
        if (pairs > 0) {
            state.counters["control_vcsw_per_kpair"] = (self1.voluntary - self0.voluntary) * 1e3 / pairs;
            state.counters["control_ivcsw_per_kpair"] = (self1.involuntary - self0.involuntary) * 1e3 / pairs;
            state.counters["agent_csw_per_kpair"] =
                (others1.voluntary + others1.involuntary - others0.voluntary - others0.involuntary) * 1e3 / pairs;
        }
        if (p.grp) {
            // What Redis received: records per offer+answer pair (deletes not counted) and
            // the size of one (sealed record; Redis adds its own per-key overhead).
            const auto& a = p.grp->agent_counters();
            const auto deadline = steady::now() + std::chrono::seconds(5);
            while (p.grp->agent_counters().queue_depth.load() != 0 && steady::now() < deadline) {
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the last batch's replies
            const double writes = static_cast<double>(a.writes.load());
            const double pairs = static_cast<double>(state.iterations());
            const double deletes = static_cast<double>(round) * batch_calls;
            state.counters["records_per_pair"] = pairs > 0 ? (writes - deletes) / pairs : 0;
            state.counters["record_bytes"] =
                writes > deletes ? static_cast<double>(a.bytes_written.load()) / (writes - deletes) : 0;
            // Records that missed the ring (full, or past a slot) and took the locked write
            // queue with heap strings: the control thread's slow way (group.h).
            // Operations (records and deletes) per agent turn that had any: how well the
            // gather window batches wake-ups, socket writes and Redis' event-loop turns.
            const double turns = static_cast<double>(a.write_turns.load());
            state.counters["ops_per_turn"] = turns > 0 ? writes / turns : 0;
            state.counters["slow_per_pair"] =
                pairs > 0 ? static_cast<double>(p.grp->counters().records_slow.load()) / pairs : 0;
        }
    } catch (const std::exception& e) {
        state.SkipWithError(e.what());
        return;
    }
    state.SetItemsProcessed(state.iterations());
    if (!samples.empty()) {
        // Interrupted: a request over 150 us (a plain one takes ~8-20 us, the agent's turn
        // ~0.5-1 ms). Turns = request + tick, in the order they ran (before the sorts).
        const auto [interruptions, excess] = after_interruption(turns, 150.0);
        const double pairs = static_cast<double>(state.iterations());
        state.counters["interruptions_per_kpair"] = pairs > 0 ? interruptions * 1e3 / pairs : 0;
        state.counters["after_interruption_us"] = excess;
        state.counters["after_interruption_us_per_pair"] = pairs > 0 ? interruptions * excess / pairs : 0;
        double tick_sum = 0;
        double turn_sum = 0;
        for (size_t k = 0; k < ticks.size(); ++k) {
            tick_sum += ticks[k];
            turn_sum += turns[k];
        }
        std::sort(samples.begin(), samples.end());
        std::sort(ticks.begin(), ticks.end());
        std::sort(turns.begin(), turns.end());
        state.counters["p50_us"] = samples[samples.size() / 2];
        state.counters["p99_us"] = samples[samples.size() * 99 / 100];
        state.counters["tick_p50_us"] = ticks[ticks.size() / 2];
        state.counters["tick_p99_us"] = ticks[ticks.size() * 99 / 100];
        state.counters["tick_max_us"] = ticks.back();
        state.counters["tick_share"] = turn_sum > 0 ? tick_sum / turn_sum : 0;  // of request + tick time
        state.counters["turn_p99_us"] = turns[turns.size() * 99 / 100];
    }
}

// Call i of the tick and takeover cases: an SRTP<->SRTP offer (external -> internal) and its
// answer.
void open_srtp_call(plane& p, uint32_t i) {
    value o = request("offer", i, 0);
    o.set("sdp", value::str(sdp("198.51.100.10", i, true)));
    value dir = value::list();
    dir.as_list().push_back(value::str("external"));
    dir.as_list().push_back(value::str("internal"));
    o.set("direction", dir);
    p.handle(ng::encode(o));
    value a = request("answer", i, 0);
    a.set("to-tag", value::str("tt" + std::to_string(i)));
    a.set("sdp", value::str(sdp("203.0.113.20", i, true)));
    p.handle(ng::encode(a));
}

// The group's tick with many SRTP calls open (writer on, no NG traffic): `calls`
// SRTP<->SRTP calls set up and written, then ticks back to back for 2 s, each timed in
// the thread's CPU time. The SRTP scan looks at every call's indices once per pass (group.cc); what
// one turn of it costs is what an NG request arriving then waits. Counters: tick p50, p99,
// p99.9 and max in microseconds, ticks over 100 us per second, scan passes (calls scanned
// / calls).
void tick_with_calls(benchmark::State& state) {
    const auto calls = static_cast<uint32_t>(state.range(0));
    pin_this_thread(cpu_from_env("RTPRELAY_BENCH_CONTROL_CPU"));
    std::vector<double> ticks;
    ticks.reserve(1 << 22);
    try {
        plane p(true, calls);
        for (uint32_t i = 0; i < calls; ++i) {
            open_srtp_call(p, i);
        }
        const auto deadline = steady::now() + std::chrono::seconds(30);
        while (p.grp->pending_writes() != 0 && steady::now() < deadline) {
            p.grp->tick(steady::now());
        }
        // Each tick timed in the thread's own CPU time, so that other work preempting it on
        // a shared machine is not counted as the tick's (every preemption lands in a tick
        // here: they run back to back).
        const auto t_start = steady::now();
        for (auto _ : state) {
            while (steady::now() - t_start < std::chrono::seconds(2) && ticks.size() < ticks.capacity()) {
                const double c0 = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
                p.grp->tick(steady::now());
                ticks.push_back((cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - c0) * 1e6);
            }
        }
        const double secs = std::chrono::duration<double>(steady::now() - t_start).count();
        std::sort(ticks.begin(), ticks.end());
        const size_t n = ticks.size();
        state.counters["tick_p50_us"] = ticks[n / 2];
        state.counters["tick_p99_us"] = ticks[n * 99 / 100];
        state.counters["tick_p999_us"] = ticks[n * 999 / 1000];
        state.counters["tick_max_us"] = ticks.back();
        const auto over = static_cast<double>(ticks.end() - std::upper_bound(ticks.begin(), ticks.end(), 100.0));
        state.counters["ticks_over_100us_per_s"] = secs > 0 ? over / secs : 0;
    } catch (const std::exception& e) {
        state.SkipWithError(e.what());
        return;
    }
}

BENCHMARK(tick_with_calls)->Name("ha_tick")->ArgName("calls")->Arg(10000)->Iterations(1)->Unit(benchmark::kMillisecond);

// Takeover: node n1 sets up `calls` SRTP<->SRTP calls (every record acknowledged) while
// standby n2 of the same group runs; n1 stops as a killed node does (its leases lapse,
// nothing released) and n2 takes the addresses over. Reported: ms from n1's death to n2
// holding every call (lease lapse and orphan detection included: the configured 600 ms
// lease), ms of adoption alone (records read, decoded, opened, calls
// rebuilt and published: group_stats::last_takeover_us), calls adopted.
void takeover(benchmark::State& state) {
    const auto calls = static_cast<uint32_t>(state.range(0));
    for (auto _ : state) {
        try {
            static int runs = 0;
            const std::string name = "takeover" + std::to_string(getpid()) + "-" + std::to_string(++runs);
            auto n1 = std::make_unique<plane>(true, calls, name, "n1", true);
            for (uint32_t i = 0; i < calls; ++i) {
                open_srtp_call(*n1, i);
            }
            auto deadline = steady::now() + std::chrono::seconds(30);
            while (n1->grp->agent_counters().writes.load() < 2ull * calls && steady::now() < deadline) {
                n1->grp->tick(steady::now());
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
            if (n1->grp->agent_counters().writes.load() < 2ull * calls) {
                throw std::runtime_error("n1's records were not all acknowledged");
            }
            // The standby runs (connected, heartbeat) before n1 dies, as in a deployed group.
            plane n2(true, calls, name, "n2", false, false);
            for (int k = 0; k < 100; ++k) {
                n1->grp->tick(steady::now());
                n2.grp->tick(steady::now());
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            }
            // The kill: n1's agent stops (no renewal, no heartbeat, nothing released); its
            // memory goes only after the measurement, as a dead process costs its peer nothing.
            n1->dies = true;
            n1->grp->stop(false);
            const steady::time_point dead = steady::now();
            deadline = steady::now() + std::chrono::seconds(10);
            while (n2.grp->counters().calls_adopted.load() < calls && steady::now() < deadline) {
                n2.grp->tick(steady::now());
            }
            const double ms = std::chrono::duration<double, std::milli>(steady::now() - dead).count();
            state.counters["death_to_all_adopted_ms"] = ms;
            state.counters["adoption_ms"] = static_cast<double>(n2.grp->counters().last_takeover_us.load()) / 1000.0;
            state.counters["calls_adopted"] = static_cast<double>(n2.grp->counters().calls_adopted.load());
            if (n2.grp->counters().calls_adopted.load() != calls) {
                throw std::runtime_error("n2 adopted " + std::to_string(n2.grp->counters().calls_adopted.load()) +
                                         " of " + std::to_string(calls) + " calls");
            }
        } catch (const std::exception& e) {
            state.SkipWithError(e.what());
            return;
        }
    }
}

void seal_record(benchmark::State& state) {
    std::array<uint8_t, ha::group_key::size> k{};
    for (size_t i = 0; i < k.size(); ++i) {
        k[i] = static_cast<uint8_t>(i * 31 + 7);
    }
    const ha::group_key key(k);
    const auto kind = state.range(0) == 0 ? ha::gcm_key::impl_kind::best : ha::gcm_key::impl_kind::openssl;
    ha::sealer s(key, kind);
    const std::string plain(static_cast<size_t>(state.range(1)), 'r');
    const std::string aad(60, 'a');  // header, group and call-id: ~60 bytes in a record
    std::string out;
    out.reserve(plain.size() + ha::seal_overhead);
    for (auto _ : state) {
        out.clear();
        s.seal_into(plain, aad, out);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(state.iterations());
}

BENCHMARK(seal_record)->Name("ha_seal")->ArgNames({"impl", "bytes"})->ArgsProduct({{0, 1}, {300, 480}});

BENCHMARK(takeover)->Name("ha_takeover")->ArgName("calls")->Arg(10000)->Iterations(1)->Unit(benchmark::kMillisecond);

BENCHMARK(offer_answer)
    ->Name("ha_writer")
    ->ArgNames({"kind", "writer", "pattern"})
    ->ArgsProduct({{0, 1, 2}, {0, 1}, {0, 1}})
    ->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
    return rtprelay::bench::run_benchmarks_with_eal(argc, argv, "ha_writer_benchmark", 256);
}
