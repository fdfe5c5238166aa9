#!/usr/bin/env bash
# A real call through Kamailio and rtprelay: a SIPp caller in namespace A and a SIPp callee
# in namespace B signal through Kamailio (Debian package, rtpengine module) in the relay's
# namespace, which drives rtprelay over NG; RTP flows both ways through rtprelay while the
# call is up; BYE deletes the session. Then a burst of new calls meets the trunk CPS limit.
#   kamailio_call_test.sh BUILD_DIR [PREFIX]
# PREFIX (default rpkam) names the namespaces and links; a run first removes what a killed
# run with the same prefix left behind.
# Needs root, kamailio, sipp (sip-tester), python3. Cleans up on every exit path (KEEP_LOGS=1
# keeps the temporary directory with every log and SIP message trace).
set -euo pipefail
build=$(realpath "$1")
prefix=${2:-rpkam}
prefix=${prefix:0:8}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
cfg=$kam_cfg
need_tools kamailio sipp python3
log_files+=(uac.out uas.out uac_logs.log uas_logs.log uac_errors.log uas_errors.log uac_msg.log uas_msg.log)

netns_setup "$prefix"
sipnet_setup "$prefix"
rtp_a=30000 rtp_b=40000

# 1. The config loads, with and without its optional parts.
for defs in "" "-A WITH_CPS_LIMIT -A WITH_CTL"; do
    # shellcheck disable=SC2086
    ip netns exec "$NS_RELAY" kamailio -c -f "$cfg" $defs -l "udp:$SIP_PROXY_A:5060" >"$tmp/check.log" 2>&1 \
        || { cat "$tmp/check.log"; fail "kamailio -c -f $cfg $defs"; }
done
echo "ok   kamailio -c accepts $(basename "$cfg") (plain, and with WITH_CPS_LIMIT WITH_CTL)"

# 2. rtprelay, as run_e2e.sh starts it.
start_relay

# 3. Kamailio in the foreground, own pid file, runtime dir and control socket; its start-up
# ping found rtprelay.
start_kamailio -A WITH_CPS_LIMIT -A WITH_CTL
# Its start-up ping: every process pings the node and disables it if there is no pong.
kamcmd -s "unix:$tmp/run/kamailio_ctl" rtpengine.show all >"$tmp/show.txt" 2>&1 || true
grep -q "disabled: 0" "$tmp/show.txt" || { cat "$tmp/show.txt"; fail "rtprelay is disabled in Kamailio (start-up ping unanswered)"; }
kamcmd -s "unix:$tmp/run/kamailio_ctl" rtpengine.ping all >"$tmp/ping.txt" 2>&1 || true
grep -q "success" "$tmp/ping.txt" || { cat "$tmp/ping.txt"; fail "kamcmd rtpengine.ping all"; }
if grep -qiE "proxy did not respond|rtpengine.*(ERROR|disabled)" "$tmp/kamailio.log"; then
    grep -iE "rtpengine" "$tmp/kamailio.log" | head; fail "Kamailio logged rtpengine errors at start-up"
fi
echo "ok   Kamailio's start-up ping got pong: rtprelay enabled, rtpengine.ping all succeeds"

# 4. The call: callee first, then the caller; it holds the call 6 s for the media.
cd "$tmp"
sipp_uas "" 5080 "$rtp_b"; uas_pid=$started
extra_pids+=("$uas_pid")
sleep 0.5
sipp_uac "" 5060 5080 "$rtp_a" 6000; uac_pid=$started
extra_pids+=("$uac_pid")

media_rc=0
NS_A=$NS_A NS_B=$NS_B ADDR_A=$ADDR_A ADDR_B=$ADDR_B RELAY_A=$RELAY_A RELAY_B=$RELAY_B NG_PORT=$ng_port \
    RTP_PORT_A=$rtp_a RTP_PORT_B=$rtp_b PYTHONPATH="$repo/tests/support" \
    ip netns exec "$NS_RELAY" timeout 60 python3 "$here/call_media.py" "$tmp/uac_logs.log" "$tmp/uas_logs.log" || media_rc=$?
# While the call is up: rtprelay-ctl sees it too.
ctl_ns list >"$tmp/list.txt" 2>&1 || true

uac_rc=0; wait "$uac_pid" || uac_rc=$?; uac_pid=
uas_rc=0; wait "$uas_pid" || uas_rc=$?; uas_pid=
extra_pids=()
[ "$media_rc" = 0 ] || fail "media checks"
[ "$uac_rc" = 0 ] || fail "SIPp caller exited with $uac_rc"
[ "$uas_rc" = 0 ] || fail "SIPp callee exited with $uas_rc"
echo "ok   SIPp caller and callee completed INVITE/200/ACK/BYE/200"
call_id=$(sed -n 's/.*CALL-ID \([^ ]*\).*/\1/p' "$tmp/uac_logs.log" | head -n 1)
grep -qxF "$call_id" "$tmp/list.txt" || { cat "$tmp/list.txt"; fail "rtprelay-ctl list did not show $call_id during the call"; }
echo "ok   rtprelay-ctl list showed the call while it was up"

# What each side received: rtprelay's media address, no ICE candidates, no host address.
invite=$(awk '/INVITE sip:/,/a=sendrecv/' "$tmp/uas_msg.log")
grep -q "c=IN IP4 $RELAY_B" <<<"$invite" || fail "callee's INVITE SDP lacks c=IN IP4 $RELAY_B"
grep -q "a=candidate" <<<"$invite" && fail "callee's INVITE SDP still has ICE candidates (ICE=remove)"
grep -q "$ADDR_A" <<<"$invite" && fail "caller's media address $ADDR_A leaked to the callee"
echo "ok   callee's INVITE SDP: c=IN IP4 $RELAY_B, ICE candidates removed, caller's address hidden"
ok200=$(awk '/SIP\/2.0 200 OK/,/a=sendrecv/' "$tmp/uac_msg.log")
grep -q "c=IN IP4 $RELAY_A" <<<"$ok200" || fail "caller's 200 OK SDP lacks c=IN IP4 $RELAY_A"
grep -q "$ADDR_B" <<<"$ok200" && fail "callee's media address $ADDR_B leaked to the caller"
echo "ok   caller's 200 OK SDP: c=IN IP4 $RELAY_A, callee's address hidden"

# 5. After the BYE: Kamailio read the call's totals ($rtpestat) and deleted it.
grep -E "media of $call_id: RTP: [0-9]+ bytes, [1-9][0-9]* packets" "$tmp/kamailio.log" >/dev/null \
    || { grep "media of" "$tmp/kamailio.log"; fail "Kamailio's \$rtpestat for the call shows no RTP packets"; }
echo "ok   Kamailio's \$rtpestat before the delete: $(sed -n 's/.*media of [^:]*: //p' "$tmp/kamailio.log" | head -n 1)"
stats=$(ctl_ns --json statistics) || fail "rtprelay-ctl statistics"
sessions=$(json_field 'j["statistics"]["sessions"]' <<<"$stats")
created=$(json_field 'j["statistics"]["calls created"]' <<<"$stats")
deleted=$(json_field 'j["statistics"]["calls deleted"]' <<<"$stats")
relayed=$(json_field 'j["statistics"]["dataplane"]["relayed rtp"]' <<<"$stats")
used=$(json_field 'sum(a["ports used"] for i in j["statistics"]["interfaces"] for a in i["addresses"])' <<<"$stats")
[ "$sessions" = 0 ] || fail "rtprelay still has $sessions session(s) after the BYE"
[ "$created" = 1 ] && [ "$deleted" = 1 ] || fail "rtprelay created $created and deleted $deleted calls (want 1 and 1)"
[ "$used" = 0 ] || fail "rtprelay still has $used port pair(s) in use after the BYE"
[ "$relayed" -ge 94 ] || fail "rtprelay relayed only $relayed RTP packets"
echo "ok   after the BYE rtprelay has 0 sessions and 0 ports in use; it relayed $relayed RTP packets"

# 6. Trunk CPS limit: a burst of new calls from the caller's trunk.
ip netns exec "$NS_A" timeout 20 python3 "$here/cps_burst.py" "$SIP_PROXY_A" "$SIP_A" "$SIP_B:5099" \
    || fail "trunk CPS limit"
stats=$(ctl_ns --json statistics) || fail "rtprelay-ctl statistics"
[ "$(json_field 'j["statistics"]["calls created"]' <<<"$stats")" = 1 ] || fail "refused calls reached rtprelay"

# 7. Kamailio stops on SIGTERM; rtprelay stops cleanly with its final counters.
stop_kamailio
stop_relay
echo "PASS: kamailio_call_test"
