#!/usr/bin/env bash
# Harness for end-to-end tests: builds the namespace topology (tests/support/netns.sh),
# starts the real rtprelay on net_af_packet ports, runs one Python test inside the relay's
# namespace, stops the relay with SIGTERM and checks it exits 0. Cleans up on every exit.
#   run_e2e.sh BUILD_DIR TEST.py [PREFIX]
# The relay runs with --drain-time=${DRAIN_TIME:-0}: tests leave calls open on purpose, and
# the stop below expects an exit within 10 s. A test may signal the relay itself ($RELAY_PID;
# its log is $RELAY_LOG); the exit status is still checked here.
set -euo pipefail
build=$(realpath "$1")
test_py=$(realpath "$2")
# A per-run suffix: two runs of the same test (a developer's and CI's) never share names.
prefix=${3:-rpe}
prefix="${prefix:0:6}$(($$ % 100000))"
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/netns.sh"

relay_pid=
strays_pid=
logdir=$(mktemp -d /tmp/rtprelay-e2e.XXXXXX)
recording_mount=
finish() {
    local rc=$?
    if [ -n "$relay_pid" ] && kill -0 "$relay_pid" 2>/dev/null; then
        kill -9 "$relay_pid" 2>/dev/null || true
    fi
    stop_pid "$strays_pid"
    netns_cleanup "$prefix"
    if [ -n "$recording_mount" ]; then
        umount "$recording_mount" 2>/dev/null || umount -l "$recording_mount" 2>/dev/null || true
    fi
    if [ $rc -eq 0 ]; then
        rm -rf "$logdir"  # a passed test leaves nothing behind; a failed one keeps its logs
    fi
    if [ $rc -ne 0 ]; then
        echo "---- relay log ($logdir/relay.log) ----"
        tail -n 60 "$logdir/relay.log" 2>/dev/null || true
        if [ -s "$logdir/strays.pcapng" ]; then
            echo "---- frames that reached the relay's ports not addressed to it (first 20) ----"
            tshark -r "$logdir/strays.pcapng" -c 20 -T fields -e frame.time_relative -e frame.interface_name \
                -e eth.src -e eth.dst -e _ws.col.Source -e _ws.col.Destination -e _ws.col.Protocol -e _ws.col.Info \
                2>/dev/null || true
        fi
    fi
    exit $rc
}
trap finish EXIT INT TERM

netns_setup "$prefix"
# E2E_ATTACKERS=1: an independent attacker host on each endpoint's segment ($NS_XA/$ATT_A, $NS_XB/$ATT_B).
if [ -n "${E2E_ATTACKERS:-}" ]; then
    netns_add_attackers
fi
ng_port=${NG_PORT:-2223}
# RECORDING=1: call recording into $logdir/rec (exported as RECORDING_DIR); with
# RECORDING_TMPFS=SIZE that directory is a tmpfs of SIZE (a disk that fills up).
recording_args=
if [ -n "${RECORDING:-}" ]; then
    mkdir -p "$logdir/rec"
    if [ -n "${RECORDING_TMPFS:-}" ]; then
        mount -t tmpfs -o "size=$RECORDING_TMPFS,mode=0700" tmpfs "$logdir/rec"
        recording_mount="$logdir/rec"
    fi
    recording_args="--recording-dir=$logdir/rec"
    export RECORDING_DIR="$logdir/rec"
fi
# NETNS_IPV6=1: both interfaces dual-stack (the hosts have IPv6 too, see netns.sh).
a_addrs="$RELAY_A/24"
b_addrs="$RELAY_B/24"
if [ "${NETNS_IPV6:-0}" = 1 ]; then
    a_addrs="$a_addrs,$RELAY6_A/64"
    b_addrs="$b_addrs,$RELAY6_B/64"
fi
# Frames that reach the relay's ports addressed to none of its addresses (ARP aside): the
# relay counts them as not_for_us drops and keeps nothing of them, so a failing test prints
# them here (a capture filter keeps the file to those few frames).
strays_filter="inbound and not arp"
for a in "$RELAY_A" "$RELAY_B"; do strays_filter="$strays_filter and not dst host $a"; done
if [ "${NETNS_IPV6:-0}" = 1 ]; then
    for a in "$RELAY6_A" "$RELAY6_B"; do strays_filter="$strays_filter and not dst host $a"; done
fi
ip netns exec "$NS_RELAY" dumpcap -q -i "$IF_A0" -f "$strays_filter" -i "$IF_B0" -f "$strays_filter" -w "$logdir/strays.pcapng" \
    >/dev/null 2>&1 &
strays_pid=$!
# A_VDEV_OPTS / B_VDEV_OPTS: more net_af_packet options for port 0 / 1 (",framecnt=32").
# RELAY_WORKERS=N: N workers on lcores 1..N mapped onto CPU 1 (this machine may have 2), each
# with its own queue pair on both af_packet ports (the kernel spreads flows over them by hash,
# as RSS would, so workers hand each other packets of streams they do not own).
workers=${RELAY_WORKERS:-1}
lcores="0@0"
for w in $(seq 1 "$workers"); do lcores="$lcores,$w@1"; done
ip netns exec "$NS_RELAY" "$build/relay/rtprelay" --workers="$workers" \
    --eal="--lcores=$lcores --no-pci --no-huge -m 512 --no-shconf --file-prefix $prefix --vdev=net_af_packet0,iface=$IF_A0,qpairs=$workers${A_VDEV_OPTS:-} --vdev=net_af_packet1,iface=$IF_B0,qpairs=$workers${B_VDEV_OPTS:-}" \
    --interface="a address=$a_addrs dpdk-port=0 ports=${A_PORTS:-10000-20000} ${A_IFACE_OPTS:-}" \
    --interface="b address=$b_addrs dpdk-port=1 ports=${B_PORTS:-10000-20000} ${B_IFACE_OPTS:-}" \
    --ng-listen="127.0.0.1:$ng_port" --idle-sleep-us="${IDLE_SLEEP_US:-50}" --drain-time="${DRAIN_TIME:-0}" \
    ${RELAY_EXTRA_ARGS:-} $recording_args >"$logdir/relay.log" 2>&1 &
relay_pid=$!

export NS_RELAY NS_A NS_B ADDR_A ADDR_B RELAY_A RELAY_B ADDR6_A ADDR6_B RELAY6_A RELAY6_B IF_A0 IF_B0 IF_A1 IF_B1 NG_PORT=$ng_port RELAY_PID=$relay_pid BUILD_DIR=$build
export NS_XA NS_XB ATT_A ATT_B
export RELAY_LOG="$logdir/relay.log"
export PYTHONPATH="$here/../support"
ip netns exec "$NS_RELAY" timeout "${TEST_TIMEOUT:-240}" python3 "$test_py"

kill -TERM "$relay_pid" 2>/dev/null || true  # may have exited already (the test stopped it)
for _ in $(seq 1 100); do
    kill -0 "$relay_pid" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$relay_pid" 2>/dev/null; then
    echo "FAIL: rtprelay did not exit within 10 s of SIGTERM"
    exit 1
fi
wait "$relay_pid" && rc=0 || rc=$?
relay_pid=
if [ "$rc" != 0 ]; then
    echo "FAIL: rtprelay exited with $rc after SIGTERM"
    exit 1
fi
grep -q "final counters" "$logdir/relay.log" || { echo "FAIL: no final counters in the relay log"; exit 1; }
echo "PASS: $(basename "$test_py")"
