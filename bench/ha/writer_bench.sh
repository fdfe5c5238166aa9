#!/usr/bin/env bash
# NG offer+answer pairs/s and per-request p50/p99 with a group's record writer on vs off
# (bench/micro/ha_writer_benchmark.cc), against a Redis of its own on loopback (a private
# port and directory, no persistence), stopped on every exit.
#   bench/ha/writer_bench.sh BUILD_DIR [CONTROL_CPU] [REPETITIONS] [AGENT_CPU] [BINARY...]
# CONTROL_CPU: the control (NG) thread's CPU. AGENT_CPU: the HA agent thread's and Redis'
# CPU: another CPU = the split (control thread alone on its CPU); equal to CONTROL_CPU =
# everything on one CPU; empty = the agent on the control thread's CPU and Redis unpinned.
# REDIS_CPU=N (environment) pins Redis to CPU N whatever AGENT_CPU says: the deployed layout,
# the relay's threads on one CPU and Redis a service on another, is
#   REDIS_CPU=0 bench/ha/writer_bench.sh BUILD_DIR 1 REPS 1 ...
# pairs/s is the control thread's CPU time; "all CPU" pairs/s counts every thread of the
# benchmark and Redis (what one core does with everything on it); "relay CPU" pairs/s counts
# the benchmark's threads only (control + HA agent thread, Redis excluded: what the relay's
# core does when Redis runs elsewhere). Each repetition runs every BINARY once (default: BUILD_DIR's benchmark) with every
# ha_writer case, so binaries and writer on/off interleave in one time window; the summary
# gives per binary and case the medians over the repetitions and the on/off ratio (a FILTER
# that keeps one side only, e.g. FILTER='^ha_writer/kind:0/writer:0/': that side's figures).
# Extra BINARY arguments (e.g. a baseline build's copy) make an A/B/A' comparison.
# LO_RPS_CPUS=MASK (environment, hex CPU mask, e.g. 1 = CPU 0): receive packets on the
# loopback device on those CPUs (RPS: /sys/class/net/lo/queues/rx-0/rps_cpus, restored on
# exit). Without it a TCP write to Redis on loopback runs Redis' side of the receive (the
# softirq's process_backlog, tcp_v4_rcv, the wake-up of Redis) in the writer's own system
# call, on the relay's CPU, and Redis' replies the other way on Redis' CPU; with
# LO_RPS_CPUS=1 and REDIS_CPU=0 both directions' receive runs on CPU 0, the relay's CPU keeps
# its sends (TCP, the queueing of each packet to CPU 0 and an IPI), as on a node whose Redis
# is another host (which receives on its own CPUs). Needs root; changes a machine-wide
# setting while it runs.
set -euo pipefail
build=$(realpath "$1")
cpu=${2:-1}
reps=${3:-5}
agent_cpu=${4:-}
shift $(($# < 4 ? $# : 4))
bins=("$@")
[ ${#bins[@]} -gt 0 ] || bins=("$build/bench/micro/ha_writer_benchmark")
port=${REDIS_PORT:-6479}
tmp=$(mktemp -d /tmp/rtprelay-hawb.XXXXXX)
out=${OUT_DIR:-$tmp}  # where the per-run JSON goes (OUT_DIR: kept after the run)
mkdir -p "$out"
redis_pid=
rps=/sys/class/net/lo/queues/rx-0/rps_cpus
rps_was=
finish() {
    if [ -n "$redis_pid" ]; then
        kill "$redis_pid" 2>/dev/null || true
        wait "$redis_pid" 2>/dev/null || true
    fi
    if [ -n "$rps_was" ]; then
        echo "$rps_was" >"$rps"
    fi
    rm -rf "$tmp"
}
trap finish EXIT INT TERM
if [ -n "${LO_RPS_CPUS:-}" ]; then
    rps_was=$(cat "$rps")
    echo "$LO_RPS_CPUS" >"$rps"
fi
pin_redis=()
if [ -n "$agent_cpu" ]; then
    pin_redis=(taskset -c "$agent_cpu")
else
    agent_cpu=$cpu
fi
if [ -n "${REDIS_CPU:-}" ]; then
    pin_redis=(taskset -c "$REDIS_CPU")
fi
"${pin_redis[@]}" redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" \
    --daemonize no --logfile "$tmp/redis.log" &
redis_pid=$!
for _ in $(seq 1 50); do redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
echo "control thread: CPU $cpu; agent thread: CPU $agent_cpu; redis: ${pin_redis[*]:-unpinned}; lo RPS: $(cat "$rps"); $(lscpu | grep 'Model name' | sed 's/  */ /g')"
for r in $(seq 1 "$reps"); do
    for b in "${!bins[@]}"; do
        redis-cli -p "$port" flushall >/dev/null
        RTPRELAY_BENCH_REDIS=127.0.0.1:$port RTPRELAY_BENCH_REDIS_PID=$redis_pid RTPRELAY_BENCH_CONTROL_CPU=$cpu RTPRELAY_BENCH_AGENT_CPU=$agent_cpu \
            "${bins[$b]}" --benchmark_filter="${FILTER:-^ha_writer/}" --benchmark_min_time="${MIN_TIME:-2}" \
            --benchmark_format=json --benchmark_out="$out/run-$b-$r.json" --benchmark_out_format=json \
            >/dev/null 2>"$tmp/stderr-$b-$r.log" || { tail -5 "$tmp/stderr-$b-$r.log" >&2; exit 1; }
    done
done
python3 - "$out" "${#bins[@]}" "${bins[@]}" <<'PY'
import glob, json, statistics, sys
tmp, n = sys.argv[1], int(sys.argv[2])
names = sys.argv[3:3 + n]
for b in range(n):
    runs = {}
    for f in sorted(glob.glob(f"{tmp}/run-{b}-*.json")):
        for x in json.load(open(f))["benchmarks"]:
            if x.get("error_occurred"):
                sys.exit(f"{x['name']}: {x.get('error_message')}")
            runs.setdefault(x["name"], []).append(x)
    print(f"== binary {b}: {names[b]} ({len(glob.glob(f'{tmp}/run-{b}-*.json'))} repetitions, medians)")
    med = lambda name, key: statistics.median(r.get(key, 0) for r in runs[name])
    for kind, label in ((0, "plain"), (1, "RTP<->SRTP"), (2, "SRTP<->SRTP")):
        for pattern in (0, 1):
            off = f"ha_writer/kind:{kind}/writer:0/pattern:{pattern}"
            on = f"ha_writer/kind:{kind}/writer:1/pattern:{pattern}"
            if off not in runs or on not in runs:
                # FILTER kept one side only: its own figures, no ratio.
                for side, name in (("off", off), ("on", on)):
                    if name not in runs:
                        continue
                    line = (f"{label:12s} pattern {pattern}: {side} {med(name, 'items_per_second')/1e3:6.1f}k pairs/s"
                            f" p50 {med(name, 'p50_us'):5.1f} p99 {med(name, 'p99_us'):6.1f} us")
                    if med(name, "cpu_pairs_per_s") > 0:
                        relay = lambda r: 1 / (1 / r["cpu_pairs_per_s"] - r.get("redis_us_per_pair", 0) * 1e-6)
                        line += (f" | all CPU {med(name, 'cpu_pairs_per_s')/1e3:6.1f}k pairs/s,"
                                 f" relay CPU (Redis excluded) {statistics.median(map(relay, runs[name]))/1e3:6.1f}k pairs/s")
                    print(line + f" (writer {side} only: no on/off ratio)")
                continue
            o, w = med(off, "items_per_second"), med(on, "items_per_second")
            per_rep = " ".join("%.2f" % (a["items_per_second"] / c["items_per_second"]) for a, c in zip(runs[on], runs[off]))
            print(f"{label:12s} pattern {pattern}: off {o/1e3:6.1f}k pairs/s p50 {med(off,'p50_us'):5.1f} p99 {med(off,'p99_us'):6.1f} us"
                  f" | on {w/1e3:6.1f}k p50 {med(on,'p50_us'):5.1f} p99 {med(on,'p99_us'):6.1f} us"
                  f" tick p50 {med(on,'tick_p50_us'):4.1f} p99 {med(on,'tick_p99_us'):5.1f} max {med(on,'tick_max_us'):6.0f} us"
                  f" share {med(on,'tick_share'):.3f} turn p99 {med(on,'turn_p99_us'):6.1f} us"
                  f" records/pair {med(on,'records_per_pair'):.2f} slow/pair {med(on,'slow_per_pair'):.3f} ops/turn {med(on,'ops_per_turn'):.0f} bytes {med(on,'record_bytes'):.0f}"
                  f" | on/off {w/o:.2f} (per rep: {per_rep})")
            wo, ww = med(off, "cpu_pairs_per_s"), med(on, "cpu_pairs_per_s")
            if wo > 0:
                cpu_rep = " ".join("%.2f" % (a["cpu_pairs_per_s"] / c["cpu_pairs_per_s"]) for a, c in zip(runs[on], runs[off]))
                print(f"{'':12s} all CPU pairs/s: off {wo/1e3:6.1f}k on {ww/1e3:6.1f}k on/off {ww/wo:.2f} (per rep: {cpu_rep})"
                      f" | on, us per pair: control thread {1e6/w:.1f} agent {med(on,'agent_us_per_pair'):.1f} redis {med(on,'redis_us_per_pair'):.1f}")
                # The relay's own CPU per pair: all of it less Redis' (control + agent threads).
                relay = lambda r: 1 / (1 / r["cpu_pairs_per_s"] - r.get("redis_us_per_pair", 0) * 1e-6)
                ro, rw = statistics.median(map(relay, runs[off])), statistics.median(map(relay, runs[on]))
                relay_rep = " ".join("%.2f" % (relay(a) / relay(c)) for a, c in zip(runs[on], runs[off]))
                print(f"{'':12s} relay CPU pairs/s (Redis excluded): off {ro/1e3:6.1f}k on {rw/1e3:6.1f}k on/off {rw/ro:.2f} (per rep: {relay_rep})")
                # The relay CPU figure counts the agent's writing of the calls' deletes but not
                # the control thread's handling of them (timer paused): the same without the
                # agent's part, offer and answer alone on both sides.
                oa = lambda r: 1 / (1 / relay(r) - r.get("agent_delete_us_per_pair", 0) * 1e-6)
                ao, aw = statistics.median(map(oa, runs[off])), statistics.median(map(oa, runs[on]))
                oa_rep = " ".join("%.2f" % (oa(a) / oa(c)) for a, c in zip(runs[on], runs[off]))
                print(f"{'':12s} relay CPU pairs/s, the deletes' writes left out: on {aw/1e3:6.1f}k on/off {aw/ao:.2f} (per rep: {oa_rep})"
                      f" | deletes, us per pair: control thread {med(on,'delete_us_per_pair'):.1f}, agent {med(on,'agent_delete_us_per_pair'):.2f}"
                      f" | control thread switches per 1k pairs off/on: {med(off,'control_ivcsw_per_kpair'):.0f}/{med(on,'control_ivcsw_per_kpair'):.0f} involuntary,"
                      f" {med(off,'control_vcsw_per_kpair'):.1f}/{med(on,'control_vcsw_per_kpair'):.1f} voluntary; agent {med(on,'agent_csw_per_kpair'):.0f}"
                      f" | after an interruption, us per pair off/on: {med(off,'after_interruption_us_per_pair'):.2f}/{med(on,'after_interruption_us_per_pair'):.2f}")
PY
echo "redis: $(redis-cli -p "$port" info memory | grep '^used_memory:' | tr -d '\r')"
