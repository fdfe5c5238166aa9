#!/usr/bin/env bash
# Is rtprelay-loadgen --dpdk ever the bound? Three figures from one interleaved run, SRTP both
# ways (the relay's most expensive mode; --mode plain: RTP both ways, against the pipeline
# bench's plain mode), all over net_memif (copy mode, no hugepages):
#
#   pipeline  rtprelay-pipeline-bench --mode srtp-srtp: the relay worker's own busy ns per
#             packet on ring ports, i.e. the rate one relay core can carry (1e3/ns Mpps)
#   wire      rtprelay-loadgen --dpdk --dpdk-wire into rtprelay-wire (port 0 <-> port 1 on
#             lcore 1): the generator alone, its far side costing it nothing
#   relay     rtprelay-loadgen --dpdk against the real rtprelay (one worker on lcore 1, two
#             net_memif servers), the generator as their client on lcore 0
#
# Per line: packets sent per second (both directions), loss, the share of the schedule the
# generator sent late (> --late-us) or skipped, its busy ns per packet handled (sent or
# received: loop turns that did work, summed over the 1-ms windows in which its thread was
# not switched out, so a shared host's other processes do not count as its work), and what
# that makes its ceiling in relayed packets per second: every relayed packet costs the
# generator one send and one receive, so 1e3 / (2 x ns) Mpps. "x relay" is that ceiling over
# the pipeline bench's worker rate in the same round: the generator is not the bound while it
# is >= 3 (issue 17's target). Wire lines add the wire's own ns per frame (memif receive and
# transmit on the server side: what the transport costs a poll-mode core).
#
# --loadgen LABEL=BIN[:ARGS] (repeatable) compares generator builds or options: every wire and
# relay run is made once per --loadgen, one after the other in the order given, so that they
# share one time window on a noisy host (give the baseline twice, A and A', for an A/A control:
# the spread between those two is the noise). Without it: this build's generator, label "-".
#
# Every process runs in a session of its own whose autogroup gets nice --priority (default
# -10), so that a shared host's other sessions do not take the cores (memif_session.sh).
#
#   sudo bench/loadgen/generator_ceiling.sh [--wire-calls "5000 20000"] [--relay-calls "5000"]
#        [--duration S] [--rounds N] [--priority NICE] [--json-dir DIR] [--mode srtp|plain]
#        [--loadgen LABEL=BIN[:ARGS]]...
# Bounded: each run is --duration plus a few seconds under `timeout`; every process and
# file it made is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
wire_calls="5000 20000"
relay_calls="5000"
duration=5
rounds=2
priority=-10
json_dir=
mode=srtp
variants=()
while [ $# -gt 0 ]; do
    case "$1" in
        --wire-calls) wire_calls=$2; shift 2 ;;
        --relay-calls) relay_calls=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --priority) priority=$2; shift 2 ;;
        --json-dir) json_dir=$2; shift 2 ;;
        --mode) mode=$2; shift 2 ;;
        --loadgen) variants+=("$2"); shift 2 ;;
        -h|--help) sed -n '2,33p' "$0"; exit 0 ;;
        *) echo "generator_ceiling: unknown option '$1'" >&2; exit 2 ;;
    esac
done
case "$mode" in
    srtp) srtp_flag=--srtp; pmode=srtp-srtp; mode_name="SRTP<->SRTP" ;;
    plain) srtp_flag=; pmode=plain; mode_name="plain RTP" ;;
    *) echo "generator_ceiling: --mode must be srtp or plain" >&2; exit 2 ;;
esac
[ ${#variants[@]} -gt 0 ] || variants=("-=./build/bench/loadgen/rtprelay-loadgen")
for v in "${variants[@]}"; do
    bin=${v#*=}
    bin=${bin%%:*}
    [ -x "$bin" ] || { echo "generator_ceiling: --loadgen $v: $bin is not an executable" >&2; exit 2; }
done
workers=1  # its relay runs one worker: one queue pair for the generator (memif_session.sh)
source bench/loadgen/memif_session.sh
memif_session_init lgceil

use_variant() {  # use_variant LABEL=BIN[:ARGS]: sets $label, $loadgen_bin and $loadgen_args
    label=${1%%=*}
    local rest=${1#*=}
    loadgen_bin=${rest%%:*}
    loadgen_args=
    [ "$rest" = "$loadgen_bin" ] || loadgen_args=${rest#*:}
}

start_far() {  # start_far wire|relay
    if [ "$1" = wire ]; then
        start_server "generator_ceiling: wire" "port 0 <-> port 1" \
            ./build/bench/loadgen/rtprelay-wire -l 1 --no-pci --no-huge -m 512 --no-shconf --file-prefix "$pfx-w" $servers
    else
        start_server "generator_ceiling: relay" "NG control listening" ./build/relay/rtprelay \
            --eal="-l 0-1 --no-pci --no-huge -m 1024 --no-shconf --file-prefix $pfx-r $servers" \
            --interface="a address=198.18.1.1/24 dpdk-port=0 ports=10000-60000" \
            --interface="b address=198.18.2.1/24 dpdk-port=1 ports=10000-60000" \
            --ng-listen=127.0.0.1:2291 --stats-interval=0 --drain-time=0
    fi
}

loadgen() {  # loadgen OUT CALLS ARGS...: one run, JSON in OUT
    local out=$1 calls=$2
    shift 2
    # shellcheck disable=SC2086  # $srtp_flag: empty in plain mode
    run_loadgen $((duration * 3 + 60)) "$out" --calls "$calls" --duration "$duration" $srtp_flag "$@"
}

pipeline_ns=0
pipeline() {  # the relay worker's ns per packet in the same mode, 10000 calls
    pipeline_ns=$(pipeline_ns "$pmode")
    printf "%-12s %7s %9s %9s %8s %8s %10s %8s %s\n" pipeline 10000 "" "" "" "" "" "" \
        "worker $pipeline_ns ns/pkt = $(python3 -c "print('%.2f' % (1e3 / $pipeline_ns) if $pipeline_ns else 'n/a')") Mpps"
}

line() {  # line KIND CALLS JSON WIRE_NS
    python3 - "$1/$label" "$2" "$3" "$pipeline_ns" "$4" <<'PY'
import json, sys
kind, calls, path, pipe_ns, wire_ns = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5]
try:
    s = json.load(open(path))
except Exception:
    print("%-12s %7s  (no result: see the generator's stderr)" % (kind, calls))
    sys.exit(0)
p = s["packets"]
g = s.get("generator_busy", {})
ns = g.get("clean_ns_per_packet", 0)
ceiling = 1e3 / (2 * ns) if ns else 0
x = ceiling / (1e3 / pipe_ns) if ns and pipe_ns else 0
relay = s.get("relay_busy", {})
extra = "relay worker %.0f ns/pkt, busy %.0f %%" % (relay["ns_per_packet"], 100 * relay["utilisation"]) if relay else ""
if wire_ns:
    extra = "wire %s ns/frame" % wire_ns
extra += "  (generator: %.0f ns/pkt all windows, %.0f %% of packets in clean ones)" % (
    g.get("ns_per_packet", 0), 100.0 * g.get("clean_handled", 0) / max(g.get("handled", 1), 1))
print("%-12s %7s %9.3f %8.4f%% %7.2f%% %8.1f %10.2f %8.2f %s" % (
    kind, calls, p["sent"] / max(p["stream_seconds"], 1e-9) / 1e6, p["loss_percent"],
    p["sender_behind_percent"], ns, ceiling, x, extra))
PY
}

echo "== generator ceiling, $mode_name over net_memif, ${duration} s per run, $rounds rounds, autogroup nice $priority"
echo "== $(host_line)"
printf "%-12s %7s %9s %9s %8s %8s %10s %8s %s\n" run/loadgen calls "sent Mpps" loss behind "gen ns" "ceil Mpps" "x relay" ""
for r in $(seq 1 "$rounds"); do
    pipeline
    # A fresh wire or relay for every run: a memif server whose client leaves while frames
    # are still in flight may not survive it (DPDK 22.11 unmaps the rings under the poller).
    for c in $wire_calls; do
        for v in "${variants[@]}"; do
            use_variant "$v"
            start_far wire
            loadgen "$work/wire-$r-$c-$label.json" "$c" --dpdk-wire
            stop_server
            line wire "$c" "$work/wire-$r-$c-$label.json" \
                "$(grep -o '[0-9.]* ns in windows' "$work/server.log" | cut -d' ' -f1)"
        done
    done
    for c in $relay_calls; do
        for v in "${variants[@]}"; do
            use_variant "$v"
            start_far relay
            loadgen "$work/relay-$r-$c-$label.json" "$c" --ng 127.0.0.1:2291 --interface-a a --interface-b b \
                --relay-pid "$server_pid"
            stop_server
            line relay "$c" "$work/relay-$r-$c-$label.json" ""
        done
    done
done
echo "== load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
keep_json "$json_dir"
