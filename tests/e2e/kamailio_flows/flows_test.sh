#!/usr/bin/env bash
# Real SIP call flows through Kamailio and rtprelay, scripted with SIPp: a caller in
# namespace A and a callee in namespace B signal through Kamailio (the example config,
# unchanged) in the relay's namespace; flows.py runs each flow's SIPp pair, reads the SDP
# each side received and sends media where that SDP says, through rtprelay.
#   flows_test.sh BUILD_DIR [PREFIX] [FLOW...]
# Flows (default all): late_offer hold video_off t38 ice_remove fork.
# PREFIX (default rpflw) names namespaces and links; leftovers of a killed run with the same
# prefix are removed first. KEEP_LOGS=1 keeps the temporary directory with every trace.
set -euo pipefail
build=$(realpath "$1")
prefix=${2:-rpflw}
prefix=${prefix:0:8}
shift $(( $# >= 2 ? 2 : $# ))
flows=("$@")
[ ${#flows[@]} -gt 0 ] || flows=(late_offer hold video_off t38 ice_remove fork)
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
source "$repo/tests/support/netns.sh"
source "$repo/tests/e2e/kamailio/sipnet.sh"
cfg="$repo/deploy/kamailio/kamailio-rtprelay.cfg"
ctl="$build/relay/ctl/rtprelay-ctl"

for tool in kamailio sipp python3; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool not installed (deploy/scripts/install-deps.sh)"; exit 1; }
done

tmp=$(mktemp -d /tmp/rtprelay-flows.XXXXXX)
relay_pid= kam_pid=
finish() {
    local rc=$?
    set +e
    stop_pid "$kam_pid"
    if [ -n "$relay_pid" ]; then kill -9 "$relay_pid" 2>/dev/null; fi
    netns_cleanup "$prefix"   # kills anything left in the namespaces (SIPp included)
    sipnet_cleanup "$prefix"
    if [ $rc -ne 0 ]; then
        for f in relay.log kamailio.log; do
            [ -s "$tmp/$f" ] || continue
            echo "---- $f ----"
            tail -n 60 "$tmp/$f"
        done
    fi
    if [ -n "${KEEP_LOGS:-}" ]; then echo "logs kept in $tmp"; else rm -rf "$tmp"; fi
    exit $rc
}
trap finish EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }

netns_setup "$prefix"
sipnet_setup "$prefix"
ng_port=${NG_PORT:-2224}

ip netns exec "$NS_RELAY" "$build/relay/rtprelay" \
    --eal="-l 0-1 --no-pci --no-huge -m 512 --no-shconf --file-prefix $prefix --vdev=net_af_packet0,iface=$IF_A0 --vdev=net_af_packet1,iface=$IF_B0" \
    --interface="a address=$RELAY_A/24 dpdk-port=0" \
    --interface="b address=$RELAY_B/24 dpdk-port=1" \
    --ng-listen="127.0.0.1:$ng_port" --idle-sleep-us="${IDLE_SLEEP_US:-50}" >"$tmp/relay.log" 2>&1 &
relay_pid=$!
up=
for _ in $(seq 1 40); do
    if ip netns exec "$NS_RELAY" "$ctl" --ng "127.0.0.1:$ng_port" ping >/dev/null 2>&1; then up=1; break; fi
    kill -0 "$relay_pid" 2>/dev/null || fail "rtprelay exited at start-up"
    sleep 0.5
done
[ -n "$up" ] || fail "rtprelay does not answer NG ping"
echo "ok   rtprelay answers on 127.0.0.1:$ng_port"

mkdir -p "$tmp/run"
ip netns exec "$NS_RELAY" kamailio -f "$cfg" -DD -E -n 2 -m 64 -M 8 \
    -P "$tmp/kamailio.pid" -Y "$tmp/run" -w "$tmp" \
    -l "udp:$SIP_PROXY_A:5060" -l "udp:$SIP_PROXY_B:5060" \
    -A "RTPRELAY_NG=\"udp:127.0.0.1:$ng_port\"" -A 'CALLER_IF="a"' -A 'CALLEE_IF="b"' \
    >"$tmp/kamailio.log" 2>&1 &
kam_pid=$!
found=
for _ in $(seq 1 60); do
    grep -qF "rtpengine instance <udp:127.0.0.1:$ng_port> found, support for it enabled" "$tmp/kamailio.log" \
        && { found=1; break; }
    kill -0 "$kam_pid" 2>/dev/null || fail "kamailio exited at start-up"
    sleep 0.25
done
[ -n "$found" ] || fail "Kamailio did not find rtprelay at start-up"
echo "ok   Kamailio up, rtprelay enabled"

export NS_RELAY NS_A NS_B ADDR_A ADDR_B RELAY_A RELAY_B SIP_A SIP_B SIP_PROXY_A SIP_PROXY_B
export NG_PORT=$ng_port SCENARIOS=$here RTPRELAY_CTL=$ctl TMPDIR_FLOWS=$tmp
export PYTHONPATH="$repo/tests/support"
rc=0
ip netns exec "$NS_RELAY" timeout 600 python3 "$here/flows.py" "${flows[@]}" || rc=$?
kill -0 "$relay_pid" 2>/dev/null || fail "rtprelay died during the flows"
[ "$rc" = 0 ] || fail "call flows ($rc)"

# Kamailio stops on SIGTERM; rtprelay stops cleanly.
stop_pid "$kam_pid"; kam_pid=
kill -TERM "$relay_pid"
for _ in $(seq 1 100); do
    kill -0 "$relay_pid" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$relay_pid" 2>/dev/null && fail "rtprelay did not exit within 10 s of SIGTERM"
relay_rc=0; wait "$relay_pid" || relay_rc=$?
relay_pid=
[ "$relay_rc" = 0 ] || fail "rtprelay exited with $relay_rc after SIGTERM"
echo "PASS: kamailio_flows_test ${flows[*]}"
