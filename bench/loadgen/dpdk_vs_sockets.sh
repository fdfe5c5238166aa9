#!/usr/bin/env bash
# rtprelay-loadgen's DPDK mode against its kernel-socket mode, same relay, same call counts,
# interleaved (sockets, dpdk-memif, dpdk-afp, then again), one short fixed load per line:
#
#   sockets    rtprelay on net_af_packet over two veths; the generator's kernel UDP sockets
#              in two host namespaces (the bench/compare topology, tests/support/netns.sh)
#   dpdk-afp   the same relay ports; the generator --dpdk on net_af_packet on the veths'
#              other ends (all in the relay's namespace, no kernel addresses on them)
#   dpdk-memif rtprelay on two net_memif servers, the generator --dpdk as their client
#
# The relay: one worker (lcore 1) with --idle-sleep-us (default 50: on a shared 2-core host
# two busy pollers leave the kernel's softirqs and everyone else only scheduler slices of
# milliseconds); its busy time (loop turns that found packets, NG statistics) says how much
# of the worker the load took: "busy %" is its utilisation, "us/pkt" its busy time per
# relayed packet. The DPDK generator on lcore 0, --dpdk-idle-sleep-us (default 20).
# Both at nice -10. Prints one line per run (and keeps the JSON in --json-dir if given).
#
#   sudo bench/loadgen/dpdk_vs_sockets.sh [--calls "1000 4000"] [--duration S] [--rounds N]
#        [--modes "sockets dpdk-afp dpdk-memif"] [--srtp] [--relay-idle-us US]
#        [--gen-idle-us US] [--own-sessions] [--extra "LOADGEN ARGS"] [--json-dir DIR]
# --extra passes more arguments to every rtprelay-loadgen run, e.g. "--ramp --ramp-max 32000
# --loss-threshold 0.1" (then --calls is where the ramp starts and each step is a line).
# --own-sessions starts the relay and the generator each in a session of its own: with the
# kernel's autogroup scheduling (sched_autogroup_enabled=1) nice only ranks processes
# within one session, and a shared host's other sessions otherwise get as much CPU as the
# relay and the generator together.
# Bounded: every run is setup + --duration + drain, under `timeout`; namespaces are removed
# on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
calls_list="1000 4000"
duration=5
rounds=2
modes="sockets dpdk-afp dpdk-memif"
srtp=
relay_idle=50
gen_idle=20
sess=
sess_w=
extra=
json_dir=
while [ $# -gt 0 ]; do
    case "$1" in
        --calls) calls_list=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --modes) modes=$2; shift 2 ;;
        --srtp) srtp=--srtp; shift ;;
        --relay-idle-us) relay_idle=$2; shift 2 ;;
        --gen-idle-us) gen_idle=$2; shift 2 ;;
        --extra) extra=$2; shift 2 ;;
        --own-sessions) sess=setsid; sess_w="setsid -w"; shift ;;
        --json-dir) json_dir=$2; shift 2 ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "dpdk_vs_sockets: unknown option '$1'" >&2; exit 2 ;;
    esac
done
source tests/support/netns.sh
pfx="lgdvs$(($$ % 1000))"
netns_names "$pfx"
sock="/run/$pfx-memif.sock"
work=$(mktemp -d /tmp/lg-dvs.XXXXXX)
relay_pid=
cleanup() {
    stop_pid "$relay_pid"
    relay_pid=
    netns_cleanup "$pfx"
    rm -rf "/var/run/dpdk/$pfx-g" "$sock"
}
trap 'cleanup; rm -rf "$work"' EXIT INT TERM

start_relay() {  # start_relay VDEVS
    $sess ip netns exec "$NS_RELAY" nice -n -10 ./build/relay/rtprelay \
        --eal="-l 0-1 --no-pci --no-huge -m 1024 --no-shconf --file-prefix $pfx $1" \
        --interface="a address=$RELAY_A/24 dpdk-port=0 ports=10000-60000" \
        --interface="b address=$RELAY_B/24 dpdk-port=1 ports=10000-60000" \
        --ng-listen=127.0.0.1:2223 --idle-sleep-us="$relay_idle" --stats-interval=0 >"$work/relay.log" 2>&1 &
    relay_pid=$!
    for _ in $(seq 1 100); do
        grep -q "NG control listening" "$work/relay.log" && return 0
        kill -0 "$relay_pid" 2>/dev/null || break
        sleep 0.1
    done
    tail -20 "$work/relay.log"
    return 1
}

run_one() {  # run_one MODE CALLS OUT.json
    local mode=$1 n=$2 out=$3
    local common=(--ng 127.0.0.1:2223 --interface-a a --interface-b b --calls "$n" --duration "$duration" $srtp $extra --json)
    netns_setup "$pfx"
    case "$mode" in
        sockets|dpdk-afp)
            start_relay "--vdev=net_af_packet0,iface=$IF_A0,framecnt=4096 --vdev=net_af_packet1,iface=$IF_B0,framecnt=4096"
            ;;
        dpdk-memif)
            start_relay "--vdev=net_memif0,role=server,socket=$sock,id=0,rsize=13 --vdev=net_memif1,role=server,socket=$sock,id=1,rsize=13"
            ;;
    esac
    common+=(--relay-pid "$relay_pid")
    case "$mode" in
        sockets)
            $sess_w ip netns exec "$NS_RELAY" timeout $(( (duration + 20) * 10 )) nice -n -10 ./build/bench/loadgen/rtprelay-loadgen \
                --ns-a "$NS_A" --ns-b "$NS_B" --addr-a "$ADDR_A" --addr-b "$ADDR_B" "${common[@]}" >"$out" || true
            ;;
        dpdk-afp)
            # The hosts' veth ends join the relay's namespace without their addresses: the
            # generator's DPDK ports own them.
            ip -n "$NS_A" link set "$IF_A1" netns "$NS_RELAY"
            ip -n "$NS_B" link set "$IF_B1" netns "$NS_RELAY"
            ip netns exec "$NS_RELAY" sysctl -qw "net.ipv6.conf.$IF_A1.disable_ipv6=1" "net.ipv6.conf.$IF_B1.disable_ipv6=1"
            ip -n "$NS_RELAY" link set "$IF_A1" up
            ip -n "$NS_RELAY" link set "$IF_B1" up
            $sess_w ip netns exec "$NS_RELAY" timeout $(( (duration + 20) * 10 )) nice -n -10 ./build/bench/loadgen/rtprelay-loadgen --dpdk \
                --eal="-l 0 --no-pci --no-huge -m 512 --no-shconf --file-prefix $pfx-g --vdev=net_af_packet0,iface=$IF_A1,framecnt=4096 --vdev=net_af_packet1,iface=$IF_B1,framecnt=4096" \
                --dpdk-idle-sleep-us "$gen_idle" --dpdk-port-a 0 --dpdk-port-b 1 --addr-a "$ADDR_A" --addr-b "$ADDR_B" "${common[@]}" >"$out" 2>"$work/lg.err" || true
            ;;
        dpdk-memif)
            $sess_w ip netns exec "$NS_RELAY" timeout $(( (duration + 20) * 10 )) nice -n -10 ./build/bench/loadgen/rtprelay-loadgen --dpdk \
                --eal="-l 0 --no-pci --no-huge -m 512 --no-shconf --file-prefix $pfx-g --vdev=net_memif0,role=client,socket=$sock,id=0,rsize=13 --vdev=net_memif1,role=client,socket=$sock,id=1,rsize=13" \
                --dpdk-idle-sleep-us "$gen_idle" --dpdk-port-a 0 --dpdk-port-b 1 --addr-a "$ADDR_A" --addr-b "$ADDR_B" "${common[@]}" >"$out" 2>"$work/lg.err" || true
            ;;
    esac
    stop_pid "$relay_pid"
    relay_pid=
    grep -ho 'reason=[a-z_]* packets=[0-9]*' "$work/relay.log" | tr '\n' ' ' >"$work/drops" || true
    cleanup
}

echo "== $(date -u '+%F %T UTC'), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== ${duration} s per run${srtp:+, SRTP<->SRTP}${sess:+, own sessions}, relay 1 worker, --idle-sleep-us=$relay_idle, generator --dpdk-idle-sleep-us=$gen_idle"
printf '%-10s %6s %9s %9s %8s %9s %9s %8s %9s %8s %8s %8s\n' mode calls sent recvd "loss %" "p50 us" "p99 us" "busy %" "us/pkt" skipped ringfull "gen cpu"
for r in $(seq 1 "$rounds"); do
    for n in $calls_list; do
        for mode in $modes; do
            out="$work/$mode-$n-$r.json"
            run_one "$mode" "$n" "$out"
            [ -n "$json_dir" ] && mkdir -p "$json_dir" && cp "$out" "$json_dir/" 2>/dev/null
            python3 - "$mode" "$n" "$out" "$(cat "$work/drops" 2>/dev/null)" <<'PY'
import json, sys
mode, n, path = sys.argv[1], sys.argv[2], sys.argv[3]
try:
    top = json.load(open(path))
except Exception as e:
    print("%-10s %6s  no result (%s)" % (mode, n, e)); sys.exit(0)
runs = [(st["summary"], st["verdict"]) for st in top["ramp"]["steps"]] if "ramp" in top else [(top, "")]
for s, verdict in runs:
    n = s["calls"]["requested"]
    p, l = s["packets"], s["latency_us"]
    b = s.get("relay_busy", {})  # the relay's workers' busy time over the streaming window
    busy = 100 * b["max_utilisation"] if "max_utilisation" in b else float("nan")
    per = b["ns_per_packet"] / 1000 if "ns_per_packet" in b else float("nan")
    ring = s.get("dpdk", {}).get("tx_ring_full", 0)
    print("%-10s %6s %9d %9d %8.4f %9.1f %9.1f %8.2f %9.3f %8d %8d %8.2f %s" % (mode, n, p["sent"], p["received"],
          p["loss_percent"], l["p50"], l["p99"], busy, per, p["sender_skipped"], ring, s["generator_cpu_seconds"], verdict))
if "ramp" in top:
    print("%-10s largest good: %d calls (%s)" % (mode, top["ramp"]["best_calls"], top["ramp"]["stopped_by"]))
if sys.argv[4].strip():
    print("%-10s relay drops: %s" % ("", sys.argv[4].strip()))
PY
        done
    done
done
