#!/usr/bin/env bash
# The whole daemon against its worker loop: the real rtprelay binary on net_memif, driven by
# rtprelay-loadgen --dpdk up a call ramp (until loss > --loss-threshold, or until the
# generator falls behind), and the pipeline bench's worker ns per packet for the same mode
# in the same run. --workers N (1, 2, 4, 8, 16; default 1) relay workers; per mode (plain
# RTP; RTP<->SRTP, every call bridged from plain RTP at A to SRTP at B; SRTP<->SRTP),
# interleaved per round:
#
#   pipeline  rtprelay-pipeline-bench --mode M --calls 10000: the worker loop on ring ports
#             (one worker: a worker's cost per packet, what each of N should approach)
#   daemon    rtprelay (N workers on lcores 1..N, two net_memif servers, rsize=13; ports
#             10000-60000 on each side: at most 25,000 calls, --max) and the
#             generator (lcore 0, their client), a ramp from --start calls. With N > 1
#             the memif ports have a queue pair per worker, the generator sends each stream
#             on its owner's queue (--dpdk-queues N) and the relay trusts it
#             (--flow-steering=sender); "handoff" counts packets that still went between
#             workers (~0 when steering works). Where the host has fewer than N + 1 CPUs the
#             relay's lcores float over all of them: the path works, the figures timeshare.
#
# Per ramp step: calls, loss, the generator's late + skipped share (a step over 1% is
# 'generator behind': the generator's limit, not the relay's), the relay worker's busy ns
# per relayed packet as the relay reports it (NG statistics), the same scaled by the worker
# thread's on-CPU share of its runnable time (schedstat: on this shared host a busy turn
# during which another process ran counts that process's time), and that estimate over the
# pipeline bench's figure ("x pipe"; issue 17's target: <= 1.3); with N > 1 also each
# worker's busy ns per packet put on its queues ("per worker").
#
# Every process runs in a session of its own whose autogroup gets nice --priority (default
# -10): memif_session.sh.
#
# --idle-sleep-us US (default 0: busy polling, as in production) makes the relay's workers
# and the generator sleep after an empty loop turn: on a host with fewer CPUs than polling
# threads (2 workers + the generator on 2 vCPUs) a spinning thread otherwise takes the
# CPU the others need. Busy time counts only turns that received packets, so it still
# measures the work, not the sleeps.
#
# --skip-tolerance passes on to the ramp (default 1): on a host where other sessions keep the
# generator late, a larger one lets the ramp go on; steps over 1% are still marked
# "generator bound" in the table, and their figures are not the relay's knee.
#
#   sudo bench/loadgen/whole_daemon.sh [--modes "plain rtp-srtp srtp"] [--workers N] [--start N]
#        [--max N] [--step-seconds S] [--rounds N] [--skip-tolerance PCT] [--priority NICE]
#        [--idle-sleep-us US] [--json-dir DIR]
# The end: one line per mode and round at its knee (the largest good step): calls, the
# estimated worker ns per packet there, the pipeline's, and their ratio.
#
# Bounded: each ramp has at most log2(max/start) + 2 steps of --step-seconds plus set-up,
# under `timeout`; every process and file it made is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
modes="plain rtp-srtp srtp"
start=2000
max=24000
step_s=4
rounds=1
priority=-10
tolerance=1
json_dir=
workers=1
idle_us=0
while [ $# -gt 0 ]; do
    case "$1" in
        --modes) modes=$2; shift 2 ;;
        --start) start=$2; shift 2 ;;
        --max) max=$2; shift 2 ;;
        --step-seconds) step_s=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --priority) priority=$2; shift 2 ;;
        --skip-tolerance) tolerance=$2; shift 2 ;;
        --json-dir) json_dir=$2; shift 2 ;;
        --workers) workers=$2; shift 2 ;;
        --idle-sleep-us) idle_us=$2; shift 2 ;;
        -h|--help) sed -n '2,48p' "$0"; exit 0 ;;
        *) echo "whole_daemon: unknown option '$1'" >&2; exit 2 ;;
    esac
done
case "$workers" in
    1|2|4|8|16) ;;
    *) echo "whole_daemon: --workers must be 1, 2, 4, 8 or 16 (what flow steering takes)" >&2; exit 2 ;;
esac
relay_workers="--workers=$workers"
[ "$workers" = 1 ] || relay_workers="$relay_workers --flow-steering=sender"
source bench/loadgen/memif_session.sh
memif_session_init lgwd

echo "== whole daemon vs worker loop, net_memif, $workers worker(s) ($(relay_lcores)), ${step_s} s steps," \
    "autogroup nice $priority, idle sleep ${idle_us} us"
echo "== $(host_line)"
for r in $(seq 1 "$rounds"); do
    for mode in $modes; do
        case "$mode" in
            plain) pmode=plain; srtp= ;;
            rtp-srtp) pmode=rtp-srtp; srtp=--rtp-srtp ;;
            srtp) pmode=srtp-srtp; srtp=--srtp ;;
            *) echo "whole_daemon: unknown mode '$mode'" >&2; exit 2 ;;
        esac
        pns=$(pipeline_ns "$pmode")
        # shellcheck disable=SC2086  # $relay_workers: words on purpose
        start_server "whole_daemon: rtprelay" "NG control listening" ./build/relay/rtprelay $relay_workers \
            --eal="$(relay_lcores) --no-pci --no-huge -m 2048 --no-shconf --file-prefix $pfx-r $servers" \
            --interface="a address=198.18.1.1/24 dpdk-port=0 ports=10000-60000" \
            --interface="b address=198.18.2.1/24 dpdk-port=1 ports=10000-60000" \
            --max-flows=524288 --ng-listen=127.0.0.1:2292 --stats-interval=0 --drain-time=0 \
            --idle-sleep-us="$idle_us"
        out="$work/daemon-$r-$mode.json"
        run_loadgen $(( (step_s + 30) * 12 + 60 )) "$out" \
            --interface-a a --interface-b b --ng 127.0.0.1:2292 --relay-pid "$server_pid" $srtp \
            --ramp --calls "$start" --ramp-max "$max" --ramp-factor 2 --ramp-refine 1 --duration "$step_s" \
            --skip-tolerance "$tolerance" --dpdk-idle-sleep-us "$idle_us"
        stop_server
        python3 - "$mode" "$pns" "$out" "$r" "$work/knees.txt" <<'PY'
import json, sys
mode, pns, path, rnd, knees = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
print(f"\n{mode}: pipeline worker {pns:.1f} ns/pkt ({1e3 / pns if pns else 0:.2f} Mpps)")
try:
    r = json.load(open(path))["ramp"]
except Exception:
    print("  (no ramp result: see the generator's stderr)")
    sys.exit(0)
# With several workers: each one's busy ns per packet put on its queues, and the packets
# handed between workers (both from the generator's JSON, relay_busy).
print(f"  {'calls':>7} {'loss %':>8} {'behind%':>8} {'busy ns':>8} {'on-CPU':>7} {'est. ns':>8} {'x pipe':>7}  "
      f"{'per worker ns':>15} {'handoff':>8}  verdict")
for st in sorted(r["steps"], key=lambda st: st["summary"]["calls"]["requested"]):
    s = st["summary"]
    b = s.get("relay_busy", {})
    est = b.get("on_cpu_ns_per_packet")
    x = est / pns if est and pns else None
    per_worker = "/".join(f"{w:.0f}" for w in b.get("worker_ns_per_packet", [])) or "-"
    print(f"  {s['calls']['requested']:>7} {s['packets']['loss_percent']:>8.4f} "
          f"{s['packets'].get('sender_behind_percent', 0):>8.2f} {b.get('ns_per_packet', float('nan')):>8.0f} "
          f"{100 * b.get('on_cpu_share', float('nan')):>6.1f}% {est if est else float('nan'):>8.0f} "
          f"{x if x else float('nan'):>7.2f}  {per_worker:>15} {b.get('handed_off', -1):>8}  {st['verdict']}"
          f"{'  (generator bound)' if s['packets'].get('sender_behind_percent', 0) > 1 else ''}")
print(f"  largest good: {r['best_calls']} calls; stopped by: {r['stopped_by'] or 'the maximum'}")
knee = [st["summary"] for st in r["steps"] if st["summary"]["calls"]["requested"] == r["best_calls"]]
est = knee[0].get("relay_busy", {}).get("on_cpu_ns_per_packet") if knee else None
with open(knees, "a") as f:
    f.write(f"{mode:<9} {rnd:>5} {r['best_calls']:>7} {est if est else float('nan'):>8.0f} {pns:>8.1f} "
            f"{est / pns if est and pns else float('nan'):>7.2f}  {r['stopped_by'] or 'the maximum'}\n")
PY
    done
done
echo
echo "== knees (est. ns: the worker's busy ns per packet scaled by its on-CPU share, at the knee)"
printf "%-9s %5s %7s %8s %8s %7s  %s\n" mode round calls "est. ns" "pipe ns" "x pipe" "stopped by"
cat "$work/knees.txt" 2>/dev/null || true
echo "== load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
keep_json "$json_dir"
