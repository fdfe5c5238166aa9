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
source "$here/../kamailio/common.sh"
need_tools kamailio sipp python3
ng_port=${NG_PORT:-2224}

netns_setup "$prefix"
sipnet_setup "$prefix"
start_relay
start_kamailio
echo "ok   Kamailio up, rtprelay enabled"

export NS_RELAY NS_A NS_B ADDR_A ADDR_B RELAY_A RELAY_B SIP_A SIP_B SIP_PROXY_A SIP_PROXY_B
export NG_PORT=$ng_port SCENARIOS=$here RTPRELAY_CTL=$ctl TMPDIR_FLOWS=$tmp
export PYTHONPATH="$repo/tests/support"
rc=0
ip netns exec "$NS_RELAY" timeout 600 python3 "$here/flows.py" "${flows[@]}" || rc=$?
kill -0 "$relay_pid" 2>/dev/null || fail "rtprelay died during the flows"
[ "$rc" = 0 ] || fail "call flows ($rc)"

# Kamailio stops on SIGTERM; rtprelay stops cleanly.
stop_kamailio
stop_relay
echo "PASS: kamailio_flows_test ${flows[*]}"
