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
kam_cfg="$here/kamailio-record.cfg"
source "$here/../kamailio/common.sh"
kam="$repo/tests/e2e/kamailio"
need_tools kamailio sipp python3 tshark
log_files+=(uac.out uas.out media.out)

netns_setup "$prefix"
sipnet_setup "$prefix"
rtp_a=30000 rtp_b=40000
rec="$tmp/rec"

ip netns exec "$NS_RELAY" kamailio -c -f "$kam_cfg" -l "udp:$SIP_PROXY_A:5060" >"$tmp/check.log" 2>&1 \
    || { cat "$tmp/check.log"; fail "kamailio -c -f kamailio-record.cfg"; }
start_relay --recording-dir="$rec"
start_kamailio
echo "ok   Kamailio (rtpengine_manage with record-call=yes) and rtprelay (--recording-dir) up"

cd "$tmp"
sipp_uas "" 5080 "$rtp_b"; uas_pid=$started
extra_pids+=("$uas_pid")
sleep 0.5
# The call is held 8 s: the media script must start, find both SDPs in the SIPp logs and send
# its 0.5 s of RTP before the BYE even on a loaded host (at 4 s, one run under load 9 saw
# the BYE after 20 of its 50 packets).
sipp_uac "" 5060 5080 "$rtp_a" 8000; uac_pid=$started
extra_pids+=("$uac_pid")
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
extra_pids=()
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
# The RTP heuristic before UDP's port table: a relay port Wireshark assigns to another
# protocol (12000, 12222, 13400, 17500, 19132, ...) would hide that leg's stream otherwise.
rtp=$(tshark -r "$base.pcap" -o rtp.heuristic_rtp:TRUE -o udp.try_heuristic_first:TRUE -Y rtp -T fields -e rtp.ssrc | sort | uniq -c)
a=$(awk '$2 == "0x0000a0a0" {print $1}' <<<"$rtp"); b=$(awk '$2 == "0x0000b0b0" {print $1}' <<<"$rtp")
[ "${a:-0}" -ge 47 ] && [ "${b:-0}" -ge 47 ] || { echo "$rtp"; cat "$tmp/media.out"; fail "tshark finds ${a:-0} and ${b:-0} of 50+50 RTP packets"; }
echo "ok   tshark reads the pcap: $a RTP packets from the caller, $b from the callee"

stop_kamailio
stop_relay
echo "PASS: kamailio_recording_test"
