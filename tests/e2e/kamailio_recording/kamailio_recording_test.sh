#!/usr/bin/env bash
# Call recording driven by Kamailio: a SIPp call through Kamailio's rtpengine_manage
# ("record-call=yes") and rtprelay; RTP both ways while the call is up; after the BYE the
# recording's pcap, WAV and JSON are in done/, named after the SIP Call-ID, and the pcap
# holds what rtprelay relayed (tshark). Reuses tests/e2e/kamailio's SIPp scenarios,
# SIP network and media script.
#   kamailio_recording_test.sh BUILD_DIR [PREFIX]
set -euo pipefail
build=$(realpath "$1")
prefix=${2:-rpkrec}
prefix=${prefix:0:8}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
kam="$repo/tests/e2e/kamailio"
source "$repo/tests/support/netns.sh"
source "$kam/sipnet.sh"

for tool in kamailio sipp python3 tshark; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool not installed (deploy/scripts/install-deps.sh)"; exit 1; }
done

tmp=$(mktemp -d /tmp/rtprelay-kamrec.XXXXXX)
relay_pid= kam_pid= uas_pid= uac_pid=
finish() {
    local rc=$?
    set +e
    stop_pid "$uac_pid"; stop_pid "$uas_pid"; stop_pid "$kam_pid"
    if [ -n "$relay_pid" ]; then kill -9 "$relay_pid" 2>/dev/null; fi
    netns_cleanup "$prefix"
    sipnet_cleanup "$prefix"
    if [ $rc -ne 0 ]; then
        for f in relay.log kamailio.log uac.out uas.out; do
            [ -s "$tmp/$f" ] && { echo "---- $f ----"; tail -n 60 "$tmp/$f"; }
        done
    fi
    if [ -n "${KEEP_LOGS:-}" ]; then echo "logs kept in $tmp"; else rm -rf "$tmp"; fi
    exit $rc
}
trap finish EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }

netns_setup "$prefix"
sipnet_setup "$prefix"
ng_port=${NG_PORT:-2223}
rtp_a=30000 rtp_b=40000
rec="$tmp/rec"

ip netns exec "$NS_RELAY" kamailio -c -f "$here/kamailio-record.cfg" -l "udp:$SIP_PROXY_A:5060" >"$tmp/check.log" 2>&1 \
    || { cat "$tmp/check.log"; fail "kamailio -c -f kamailio-record.cfg"; }

ip netns exec "$NS_RELAY" "$build/relay/rtprelay" \
    --eal="-l 0-1 --no-pci --no-huge -m 512 --no-shconf --file-prefix $prefix --vdev=net_af_packet0,iface=$IF_A0 --vdev=net_af_packet1,iface=$IF_B0" \
    --interface="a address=$RELAY_A/24 dpdk-port=0" \
    --interface="b address=$RELAY_B/24 dpdk-port=1" \
    --recording-dir="$rec" \
    --ng-listen="127.0.0.1:$ng_port" --idle-sleep-us="${IDLE_SLEEP_US:-50}" >"$tmp/relay.log" 2>&1 &
relay_pid=$!
ctl_ns() { ip netns exec "$NS_RELAY" "$build/relay/ctl/rtprelay-ctl" --ng "127.0.0.1:$ng_port" --timeout 300 "$@"; }
up=
for _ in $(seq 1 40); do
    if ctl_ns ping >/dev/null 2>&1; then up=1; break; fi
    kill -0 "$relay_pid" 2>/dev/null || fail "rtprelay exited at start-up"
    sleep 0.5
done
[ -n "$up" ] || fail "rtprelay does not answer NG ping"

mkdir -p "$tmp/run"
ip netns exec "$NS_RELAY" kamailio -f "$here/kamailio-record.cfg" -DD -E -n 2 -m 64 -M 8 \
    -P "$tmp/kamailio.pid" -Y "$tmp/run" -w "$tmp" \
    -l "udp:$SIP_PROXY_A:5060" -l "udp:$SIP_PROXY_B:5060" \
    -A "RTPRELAY_NG=\"udp:127.0.0.1:$ng_port\"" >"$tmp/kamailio.log" 2>&1 &
kam_pid=$!
found=
for _ in $(seq 1 40); do
    grep -qF "rtpengine instance <udp:127.0.0.1:$ng_port> found, support for it enabled" "$tmp/kamailio.log" \
        && { found=1; break; }
    kill -0 "$kam_pid" 2>/dev/null || fail "kamailio exited at start-up"
    sleep 0.25
done
[ -n "$found" ] || fail "Kamailio did not find rtprelay"
echo "ok   Kamailio (rtpengine_manage with record-call=yes) and rtprelay (--recording-dir) up"

cd "$tmp"
ip netns exec "$NS_B" timeout 90 sipp -sf "$kam/uas.xml" -i "$SIP_B" -p 5080 -m 1 -nostdin \
    -key rtp_addr "$ADDR_B" -key rtp_port "$rtp_b" -timeout 80s \
    -trace_logs -log_file "$tmp/uas_logs.log" >"$tmp/uas.out" 2>&1 &
uas_pid=$!
sleep 0.5
ip netns exec "$NS_A" timeout 90 sipp -sf "$kam/uac.xml" "$SIP_PROXY_A:5060" -i "$SIP_A" -p 5060 -m 1 -nostdin \
    -s callee -key callee "$SIP_B:5080" -key rtp_addr "$ADDR_A" -key rtp_port "$rtp_a" -d 4000 -timeout 80s \
    -trace_logs -log_file "$tmp/uac_logs.log" >"$tmp/uac.out" 2>&1 &
uac_pid=$!
media_rc=0
NS_A=$NS_A NS_B=$NS_B ADDR_A=$ADDR_A ADDR_B=$ADDR_B RELAY_A=$RELAY_A RELAY_B=$RELAY_B NG_PORT=$ng_port \
    RTP_PORT_A=$rtp_a RTP_PORT_B=$rtp_b PYTHONPATH="$repo/tests/support" \
    ip netns exec "$NS_RELAY" timeout 60 python3 "$kam/call_media.py" "$tmp/uac_logs.log" "$tmp/uas_logs.log" \
    >"$tmp/media.out" 2>&1 || media_rc=$?
call_id=$(sed -n 's/.*CALL-ID \([^ ]*\).*/\1/p' "$tmp/uac_logs.log" | head -n 1)
state=$(ctl_ns --json query "$call_id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["recording"]["state"])') \
    || fail "rtprelay-ctl query $call_id"
[ "$state" = recording ] || fail "the call's recording state is '$state' while it is up"
echo "ok   while the call is up rtprelay-ctl query shows its recording: $state"
uac_rc=0; wait "$uac_pid" || uac_rc=$?; uac_pid=
uas_rc=0; wait "$uas_pid" || uas_rc=$?; uas_pid=
[ "$media_rc" = 0 ] || { cat "$tmp/media.out"; fail "media checks"; }
[ "$uac_rc" = 0 ] && [ "$uas_rc" = 0 ] || fail "SIPp exited with $uac_rc / $uas_rc"
echo "ok   SIPp call INVITE/200/ACK/BYE through Kamailio with media both ways"

# After the BYE (rtpengine_manage's delete) the files are finished in done/.
json=
for _ in $(seq 1 50); do
    json=$(find "$rec/done" -name '*.json' 2>/dev/null | head -n 1)
    [ -n "$json" ] && break
    sleep 0.1
done
[ -n "$json" ] || fail "no recording in $rec/done after the BYE"
base=${json%.json}
[ -f "$base.pcap" ] && [ -f "$base.wav" ] || fail "pcap or WAV missing beside $json"
python3 - "$json" "$call_id" <<'PY' || fail "metadata"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["status"] == "complete", m["status"]
assert m["call"]["call-id"] == sys.argv[2], m["call"]["call-id"]
assert m["call"]["started by"] == "record-call", m["call"]["started by"]
assert m["recording"]["stop reason"] == "deleted", m["recording"]["stop reason"]
print("ok   metadata: call-id %s, started by record-call, stopped by the BYE's delete" % sys.argv[2])
PY
rtp=$(tshark -r "$base.pcap" -o rtp.heuristic_rtp:TRUE -Y rtp -T fields -e rtp.ssrc | sort | uniq -c)
a=$(awk '$2 == "0x0000a0a0" {print $1}' <<<"$rtp"); b=$(awk '$2 == "0x0000b0b0" {print $1}' <<<"$rtp")
[ "${a:-0}" -ge 47 ] && [ "${b:-0}" -ge 47 ] || { echo "$rtp"; fail "tshark finds ${a:-0} and ${b:-0} of 50+50 RTP packets"; }
echo "ok   tshark reads the pcap: $a RTP packets from the caller, $b from the callee"

stop_pid "$kam_pid"; kam_pid=
kill -TERM "$relay_pid"
for _ in $(seq 1 100); do
    kill -0 "$relay_pid" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$relay_pid" 2>/dev/null && fail "rtprelay did not exit within 10 s of SIGTERM"
rc=0; wait "$relay_pid" || rc=$?
relay_pid=
[ "$rc" = 0 ] || fail "rtprelay exited with $rc after SIGTERM"
echo "PASS: kamailio_recording_test"
