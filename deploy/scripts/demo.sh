#!/usr/bin/env bash
# The main job: rtprelay on DPDK virtual devices (net_af_packet on veth) between two test
# hosts in network namespaces, loaded by rtprelay-loadgen: N calls set up over NG and
# streamed at 50 packets/s per direction, then a summary from both sides — the generator's
# (loss, latency) and the relay's own counters.
#   sudo ./deploy/scripts/demo.sh [--calls N] [--duration SECONDS] [--json]
set -euo pipefail
cd "$(dirname "$0")/../.."
calls=300
duration=10
json=
while [ $# -gt 0 ]; do
    case "$1" in
        --calls) calls=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --json) json=--json; shift ;;
        -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
        *) echo "demo: unknown option '$1'" >&2; exit 2 ;;
    esac
done
if [ "$(id -u)" != 0 ]; then
    echo "demo: must run as root (DPDK, network namespaces)" >&2
    exit 1
fi
./deploy/scripts/install-deps.sh
./deploy/scripts/build.sh
source tests/support/netns.sh

prefix=rpdemo$(($$ % 10000))
relay_pid=
log=$(mktemp /tmp/rtprelay-demo.XXXXXX.log)
finish() {
    local rc=$?
    if [ -n "$relay_pid" ] && kill -0 "$relay_pid" 2>/dev/null; then
        kill -9 "$relay_pid" 2>/dev/null || true
    fi
    netns_cleanup "$prefix"
    exit $rc
}
trap finish EXIT INT TERM
netns_setup "$prefix"

echo "== rtprelay on net_af_packet ports: host A $ADDR_A <-> relay $RELAY_A | $RELAY_B <-> host B $ADDR_B"
ip netns exec "$NS_RELAY" ./build/relay/rtprelay \
    --eal="-l 0-1 --no-pci --no-huge -m 512 --no-shconf --file-prefix $prefix --vdev=net_af_packet0,iface=$IF_A0 --vdev=net_af_packet1,iface=$IF_B0" \
    --interface="a address=$RELAY_A/24 dpdk-port=0" \
    --interface="b address=$RELAY_B/24 dpdk-port=1" \
    --ng-listen=127.0.0.1:2223 --idle-sleep-us=50 >"$log" 2>&1 &
relay_pid=$!
# Wait until the relay answers NG (EAL and port start-up take a moment).
PYTHONPATH=tests/support ip netns exec "$NS_RELAY" python3 -c '
import sys, time
from rtptest import NgClient
ng = NgClient(timeout=0.5)
end = time.time() + 30
while time.time() < end:
    try:
        if ng.request({"command": "ping"}, tries=1)["result"] == b"pong":
            sys.exit(0)
    except (TimeoutError, OSError):
        time.sleep(0.2)
sys.exit("demo: rtprelay did not answer NG within 30 s")
' || { tail -20 "$log"; exit 1; }

echo "== $calls calls for $duration s from rtprelay-loadgen (NG on 127.0.0.1:2223)"
lg_rc=0
ip netns exec "$NS_RELAY" timeout $((duration + 60)) ./build/bench/loadgen/rtprelay-loadgen \
    --ng 127.0.0.1:2223 --calls "$calls" --duration "$duration" \
    --ns-a "$NS_A" --ns-b "$NS_B" --addr-a "$ADDR_A" --addr-b "$ADDR_B" \
    --interface-a a --interface-b b --rtcp --relay-pid "$relay_pid" $json || lg_rc=$?

kill -TERM "$relay_pid"
wait "$relay_pid" || true
relay_pid=
echo "== the relay's own counters (from its log at exit)"
grep -E 'msg="final (counters|drops)"' "$log" |
    sed -e 's/^level=info msg="final counters" /   final counters: /' \
        -e 's/^level=info msg="final drops" reason=\([^ ]*\) packets=/     drop \1=/'
rm -f "$log"
exit $lg_rc
