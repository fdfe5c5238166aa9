#!/usr/bin/env bash
# Link down/up on a net_tap port while a call flows (issue 7).
#
#   host A (ns $p-a, 198.18.1.2) <-veth-> [$p-a0 -- bridge $p-br -- tap $p-t0] DPDK port 0 (net_tap)
#                                                                  rtprelay (root namespace)
#   host B (ns $p-b, 198.18.2.2) <-veth-> [$p-b0] DPDK port 1 (net_af_packet)
#
# A net_tap moved into a namespace reports link down and cannot be set up
# (shared/TESTING.md), so the relay runs in the root namespace with its tap there, bridged to
# host A's veth. The bridge, the tap and the veth ends carry no address and no IPv6, and the
# bridge does not hand frames to iptables. NG and /metrics listen on free loopback ports.
# link_state.py sets the tap down and up while RTP flows both ways and checks the log, the
# metrics, the resumed media and the accounting; then the relay must exit 0 on SIGTERM.
#
#   link_state_test.sh BUILD_DIR
# Names carry the process id; a run first removes what killed runs left behind.
set -euo pipefail
build=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/netns.sh"
base=rplnk
p="$base$(($$ % 100000))"
NS_A="$p-a" NS_B="$p-b" BR="$p-br" TAP="$p-t0" A0="$p-a0" A1="$p-a1" B0="$p-b0" B1="$p-b1"
ADDR_A=198.18.1.2 ADDR_B=198.18.2.2 RELAY_A=198.18.1.1 RELAY_B=198.18.2.1

cleanup_prefix() {  # cleanup_prefix PREFIX: namespaces, links and DPDK files of one run
    local q=$1 ns
    for ns in "$q-a" "$q-b"; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
        ip netns del "$ns" 2>/dev/null || true
    done
    for l in "$q-a0" "$q-b0" "$q-br" "$q-t0"; do
        ip link del "$l" 2>/dev/null || true
    done
    rm -rf "/var/run/dpdk/$q" 2>/dev/null || true
}
# Leftovers of killed runs: the prefix ends in the owner's pid (mod 100000).
sweep_dead_runs "$base" -a cleanup_prefix

relay_pid=
logdir=$(mktemp -d /tmp/rtprelay-link.XXXXXX)
finish() {
    local rc=$?
    if [ -n "$relay_pid" ] && kill -0 "$relay_pid" 2>/dev/null; then
        kill -9 "$relay_pid" 2>/dev/null || true
        wait "$relay_pid" 2>/dev/null || true
    fi
    cleanup_prefix "$p"
    if [ $rc -ne 0 ]; then
        echo "---- relay log ($logdir/relay.log) ----"
        tail -n 60 "$logdir/relay.log" 2>/dev/null || true
    else
        rm -rf "$logdir"
    fi
    exit $rc
}
trap finish EXIT INT TERM
cleanup_prefix "$p"

# Host A behind the bridge, host B on a plain veth.
ip netns add "$NS_A"
ip netns add "$NS_B"
ip link add "$A0" type veth peer name "$A1"
ip link add "$B0" type veth peer name "$B1"
ip link set "$A1" netns "$NS_A"
ip link set "$B1" netns "$NS_B"
ip link add "$BR" type bridge stp_state 0 forward_delay 0 nf_call_iptables 0 nf_call_ip6tables 0 nf_call_arptables 0
for l in "$A0" "$B0" "$BR"; do
    sysctl -qw "net.ipv6.conf.$l.disable_ipv6=1"
done
ip netns exec "$NS_A" sysctl -qw "net.ipv6.conf.$A1.disable_ipv6=1"
ip netns exec "$NS_B" sysctl -qw "net.ipv6.conf.$B1.disable_ipv6=1"
ip -n "$NS_A" link set lo up
ip -n "$NS_B" link set lo up
ip -n "$NS_A" addr add "$ADDR_A/24" dev "$A1"
ip -n "$NS_B" addr add "$ADDR_B/24" dev "$B1"
ethtool -K "$A0" tx off >/dev/null
ethtool -K "$B0" tx off >/dev/null
ip netns exec "$NS_A" ethtool -K "$A1" tx off >/dev/null
ip netns exec "$NS_B" ethtool -K "$B1" tx off >/dev/null
ip link set "$A0" master "$BR"
ip link set "$A0" up
ip link set "$B0" up
ip link set "$BR" up
ip -n "$NS_A" link set "$A1" up
ip -n "$NS_B" link set "$B1" up

read -r ng_port metrics_port < <(python3 -c '
import socket
s = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM), socket.socket()]
for x in s: x.bind(("127.0.0.1", 0))
print(s[0].getsockname()[1], s[1].getsockname()[1])')

"$build/relay/rtprelay" \
    --eal="-l 0-1 --no-pci --no-huge -m 512 --no-shconf --file-prefix $p --vdev=net_tap0,iface=$TAP --vdev=net_af_packet1,iface=$B0" \
    --interface="a address=$RELAY_A/24 dpdk-port=0" \
    --interface="b address=$RELAY_B/24 dpdk-port=1" \
    --ng-listen="127.0.0.1:$ng_port" --metrics-listen="127.0.0.1:$metrics_port" \
    --idle-sleep-us="${IDLE_SLEEP_US:-50}" --drain-time=0 >"$logdir/relay.log" 2>&1 &
relay_pid=$!

# Once the relay has started (it logs its NG address) the tap is there and set up: no IPv6 on
# it, then into the bridge. net_tap gives the kernel's end of the tap the DPDK port's own MAC
# (at port start); a bridge treats the MAC of one of its ports as its own and would deliver
# frames for the relay to the root namespace's stack instead of the tap. So the kernel's end
# gets another MAC (locally administered); the DPDK port keeps its own.
for _ in $(seq 1 300); do
    grep -q "NG control listening" "$logdir/relay.log" && break
    kill -0 "$relay_pid" 2>/dev/null || { echo "FAIL: rtprelay exited at start-up"; exit 1; }
    sleep 0.1
done
ip link show "$TAP" >/dev/null 2>&1 || { echo "FAIL: no tap $TAP after 30 s"; exit 1; }
sysctl -qw "net.ipv6.conf.$TAP.disable_ipv6=1"
ip link set "$TAP" address 02:72:70:6c:6e:6b
ip link set "$TAP" master "$BR"

export NS_A NS_B ADDR_A ADDR_B RELAY_A RELAY_B TAP NG_PORT=$ng_port METRICS_PORT=$metrics_port
export RELAY_PID=$relay_pid RELAY_LOG="$logdir/relay.log" PYTHONPATH="$here/../support"
timeout "${TEST_TIMEOUT:-120}" python3 "$here/link_state.py"

kill -TERM "$relay_pid"
for _ in $(seq 1 100); do
    kill -0 "$relay_pid" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$relay_pid" 2>/dev/null; then
    echo "FAIL: rtprelay did not exit within 10 s of SIGTERM"
    exit 1
fi
rc=0; wait "$relay_pid" || rc=$?
relay_pid=
[ "$rc" = 0 ] || { echo "FAIL: rtprelay exited with $rc after SIGTERM"; exit 1; }
grep -q "final counters" "$logdir/relay.log" || { echo "FAIL: no final counters in the relay log"; exit 1; }
echo "PASS: link_state_test"
