# Sourced by the Kamailio tests (tests/e2e/kamailio*): the namespaces of tests/support/netns.sh
# plus the SIP links of sipnet.sh, rtprelay in the relay's namespace on net_af_packet ports,
# and Kamailio beside it (deploy/kamailio/kamailio-rtprelay.cfg, or $kam_cfg if set before).
# Before sourcing set: build (absolute build dir), prefix (<= 8 chars). Sets repo, tmp,
# ng_port (NG_PORT, default 2223), ctl. Every process started here is stopped by finish()
# on every exit path; KEEP_LOGS=1 keeps the temporary directory with every log.

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
source "$repo/tests/support/netns.sh"
source "$repo/tests/e2e/kamailio/sipnet.sh"
kam_cfg=${kam_cfg:-"$repo/deploy/kamailio/kamailio-rtprelay.cfg"}
ctl="$build/relay/ctl/rtprelay-ctl"
ng_port=${NG_PORT:-2223}

tmp=$(mktemp -d "/tmp/rtprelay-$prefix.XXXXXX")
relay_pid= kam_pid=
extra_pids=()      # more processes for finish() to stop (SIP peers)
log_files=(relay.log kamailio.log)

finish() {
    local rc=$?
    set +e
    local p
    for p in "${extra_pids[@]}"; do stop_pid "$p"; done
    stop_pid "$kam_pid"
    if [ -n "$relay_pid" ]; then kill -9 "$relay_pid" 2>/dev/null; fi
    netns_cleanup "$prefix"   # kills anything left in the namespaces
    sipnet_cleanup "$prefix"
    if [ $rc -ne 0 ]; then
        local f
        for f in "${log_files[@]}"; do
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

need_tools() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || fail "$tool not installed (deploy/scripts/install-deps.sh)"
    done
}

ctl_ns() { ip netns exec "$NS_RELAY" "$ctl" --ng "127.0.0.1:$ng_port" --timeout 300 "$@"; }
json_field() {  # json_field EXPR: evaluates EXPR on the JSON from stdin as `j`
    python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"
}

# start_relay OPTION...: rtprelay as run_e2e.sh starts it, NG on 127.0.0.1:$ng_port in the
# relay's namespace, with OPTION... added; B_IF_EXTRA adds keys to interface b's line.
start_relay() {
    ip netns exec "$NS_RELAY" "$build/relay/rtprelay" \
        --eal="-l 0-1 --no-pci --no-huge -m 512 --no-shconf --file-prefix $prefix --vdev=net_af_packet0,iface=$IF_A0 --vdev=net_af_packet1,iface=$IF_B0" \
        --interface="a address=$RELAY_A/24 dpdk-port=0" \
        --interface="b address=$RELAY_B/24 dpdk-port=1 ${B_IF_EXTRA:-}" \
        --ng-listen="127.0.0.1:$ng_port" --idle-sleep-us="${IDLE_SLEEP_US:-50}" "$@" >"$tmp/relay.log" 2>&1 &
    relay_pid=$!
    local _
    for _ in $(seq 1 40); do
        if ctl_ns ping >/dev/null 2>&1; then
            echo "ok   rtprelay answers on 127.0.0.1:$ng_port"
            return 0
        fi
        kill -0 "$relay_pid" 2>/dev/null || fail "rtprelay exited at start-up"
        sleep 0.5
    done
    fail "rtprelay does not answer NG ping"
}

# start_kamailio OPTION...: Kamailio in the foreground with $kam_cfg, SIP on sipnet.sh's
# links, rtprelay's NG at 127.0.0.1:$ng_port, interfaces a (caller) and b (callee), and
# OPTION... (its -A defines); waits until its start-up ping found rtprelay and, with -A
# WITH_CTL, its control socket ($tmp/run/kamailio_ctl) is there.
start_kamailio() {
    stop_kamailio
    mkdir -p "$tmp/run"
    rm -f "$tmp/run/kamailio_ctl"
    : >"$tmp/kamailio.log"
    local with_ctl= a
    for a in "$@"; do
        [ "$a" = WITH_CTL ] && with_ctl=1
    done
    ip netns exec "$NS_RELAY" kamailio -f "$kam_cfg" -DD -E -n 2 -m 64 -M 8 \
        -P "$tmp/kamailio.pid" -Y "$tmp/run" -w "$tmp" \
        -l "udp:$SIP_PROXY_A:5060" -l "udp:$SIP_PROXY_B:5060" \
        -A "RTPRELAY_NG=\"udp:127.0.0.1:$ng_port\"" -A 'CALLER_IF="a"' -A 'CALLEE_IF="b"' \
        -A "CTL_SOCKET=\"unix:$tmp/run/kamailio_ctl\"" "$@" \
        >>"$tmp/kamailio.log" 2>&1 &
    kam_pid=$!
    local _
    for _ in $(seq 1 60); do
        grep -qF "rtpengine instance <udp:127.0.0.1:$ng_port> found, support for it enabled" "$tmp/kamailio.log" &&
            { [ -z "$with_ctl" ] || [ -S "$tmp/run/kamailio_ctl" ]; } && return 0
        kill -0 "$kam_pid" 2>/dev/null || fail "kamailio exited at start-up"
        sleep 0.25
    done
    fail "Kamailio did not find rtprelay at start-up"
}

stop_kamailio() {
    stop_pid "$kam_pid"
    kam_pid=
}

# stop_relay: SIGTERM, a clean exit within 10 s with its final counters.
stop_relay() {
    kill -TERM "$relay_pid"
    local _
    for _ in $(seq 1 100); do
        kill -0 "$relay_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$relay_pid" 2>/dev/null && fail "rtprelay did not exit within 10 s of SIGTERM"
    local rc=0
    wait "$relay_pid" || rc=$?
    relay_pid=
    [ "$rc" = 0 ] || fail "rtprelay exited with $rc after SIGTERM"
    grep -q "final counters" "$tmp/relay.log" || fail "no final counters in the relay log"
}
