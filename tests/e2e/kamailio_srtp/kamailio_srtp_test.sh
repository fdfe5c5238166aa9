#!/usr/bin/env bash
# SRTP through Kamailio and rtprelay, SIP by SIPp (sip-tester), media by libsrtp2:
#   1. an SRTP customer (RTP/SAVP, two SDES suites) calls a plain-RTP carrier: Kamailio's
#      route asks rtprelay for RTP/AVP toward the callee (CALLEE_MEDIA="RTP/AVP"); run twice,
#      with the caller preferring _80 and then _32; each time the callee re-INVITEs, which
#      Kamailio sends upstream without SRTP flags: the caller must still get RTP/SAVP;
#   2. a plain customer calls an SRTP carrier: Kamailio asks for RTP/SAVP with
#      SDES-only-AES_CM_128_HMAC_SHA1_80 toward the callee.
# Each call checks the SDP each side received (proto, suites, keys differ per leg, no key
# crosses legs) and that RTP and RTCP flow both ways and decrypt at the SRTP end
# (srtp_media.py). Then rtprelay's statistics show the calls gone and Kamailio's NG
# requests counted by command and result.
#   kamailio_srtp_test.sh BUILD_DIR [PREFIX]
set -euo pipefail
build=$(realpath "$1")
prefix=${2:-rpksr}
prefix="${prefix:0:5}$(($$ % 1000))"
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../kamailio/common.sh"
need_tools kamailio sipp python3
[ -x "$build/tests/srtp_peer" ] || fail "$build/tests/srtp_peer not built"
log_files+=(media.out uac.out uas.out uac_errors.log uas_errors.log uac_msg.log uas_msg.log)

netns_setup "$prefix"
sipnet_setup "$prefix"
S80=AES_CM_128_HMAC_SHA1_80 S32=AES_CM_128_HMAC_SHA1_32
# The carrier side's interface offers both suites: only SDES-only-... makes it one.
B_IF_EXTRA="offer-suites=$S32,$S80" start_relay
rtp_a=30000 rtp_b=40000
new_key() { head -c 30 /dev/urandom | base64 -w0; }

# sip_call MODE UAC_XML UAS_XML [-key K V ...]: one SIPp call (the caller holds it 8 s)
# with srtp_media.py sending media while it is up. The SIPp logs stay in $tmp/uac_*.log
# and $tmp/uas_*.log until the next call.
sip_call() {
    local mode=$1 uac=$2 uas=$3
    shift 3
    rm -f "$tmp"/uac_* "$tmp"/uas_* "$tmp/media.out"
    cd "$tmp"
    ip netns exec "$NS_B" timeout 90 sipp -sf "$uas" -i "$SIP_B" -p 5080 -m 1 -nostdin \
        -key rtp_addr "$ADDR_B" -key rtp_port "$rtp_b" -timeout 80s "$@" \
        -trace_logs -log_file "$tmp/uas_logs.log" -trace_msg -message_file "$tmp/uas_msg.log" \
        -trace_err -error_file "$tmp/uas_errors.log" >"$tmp/uas.out" 2>&1 &
    local uas_pid=$!
    extra_pids+=("$uas_pid")
    sleep 0.5
    ip netns exec "$NS_A" timeout 90 sipp -sf "$uac" "$SIP_PROXY_A:5060" -i "$SIP_A" -p 5060 -m 1 -nostdin \
        -s callee -key callee "$SIP_B:5080" -key rtp_addr "$ADDR_A" -key rtp_port "$rtp_a" -d 8000 -timeout 80s "$@" \
        -trace_logs -log_file "$tmp/uac_logs.log" -trace_msg -message_file "$tmp/uac_msg.log" \
        -trace_err -error_file "$tmp/uac_errors.log" >"$tmp/uac.out" 2>&1 &
    local uac_pid=$!
    extra_pids+=("$uac_pid")
    local media_rc=0
    NS_A=$NS_A NS_B=$NS_B ADDR_A=$ADDR_A ADDR_B=$ADDR_B RELAY_A=$RELAY_A RELAY_B=$RELAY_B NG_PORT=$ng_port \
        RTP_PORT_A=$rtp_a RTP_PORT_B=$rtp_b BUILD_DIR=$build PYTHONPATH="$repo/tests/support" \
        ip netns exec "$NS_RELAY" timeout 60 python3 "$here/srtp_media.py" "$mode" "$tmp/uac_logs.log" "$tmp/uas_logs.log" \
        >"$tmp/media.out" 2>&1 || media_rc=$?
    sed 's/^/     /' "$tmp/media.out"
    local uac_rc=0 uas_rc=0
    wait "$uac_pid" || uac_rc=$?
    wait "$uas_pid" || uas_rc=$?
    extra_pids=()
    [ "$media_rc" = 0 ] || fail "media checks ($mode)"
    [ "$uac_rc" = 0 ] || fail "SIPp caller exited with $uac_rc"
    [ "$uas_rc" = 0 ] || fail "SIPp callee exited with $uas_rc"
    echo "ok   SIPp caller and callee completed INVITE/200/ACK/BYE/200 ($mode)"
}

# The SDP of the INVITE the callee received and of the 200 OK the caller received.
callee_sdp() { awk '/INVITE sip:/{on=1} on&&/^v=0/{sdp=1} sdp{print} sdp&&/a=sendrecv/{exit}' "$tmp/uas_msg.log"; }
caller_sdp() { awk '/SIP\/2.0 200 OK/{on=1} on&&/^v=0/{sdp=1} sdp{print} sdp&&/a=sendrecv/{exit}' "$tmp/uac_msg.log"; }
count_lines() { grep -c "$1" <<<"$2" || true; }

# 1. SRTP customer -> plain carrier.
start_kamailio -A 'CALLEE_MEDIA="RTP/AVP"' -A 'CALLER_MEDIA=""' -A WITH_CTL
echo "ok   Kamailio up with CALLEE_MEDIA=\"RTP/AVP\"; its start-up ping found rtprelay"
calls=0 reinvites=0
for order in "$S80 $S32" "$S32 $S80"; do
    read -r s1 s2 <<<"$order"
    k1=$(new_key) k2=$(new_key) kre=$(new_key)
    echo "---- SRTP caller offering $s1, $s2 -> plain callee, who re-INVITEs"
    CALLER_SUITES="$s1,$s2" CALLER_KEYS="$k1,$k2" KEY_RE=$kre \
        sip_call savp-to-avp "$here/uac_savp.xml" "$here/uas_reinvite.xml" \
        -key suite1 "$s1" -key key1 "$k1" -key suite2 "$s2" -key key2 "$k2" -key key_re "$kre"
    calls=$((calls + 1)) reinvites=$((reinvites + 1))
    to_b=$(callee_sdp) to_a=$(caller_sdp)
    [ -n "$to_b" ] && [ -n "$to_a" ] || fail "no SDP in the SIPp message logs"
    grep -q "^m=audio [0-9]* RTP/AVP " <<<"$to_b" || { echo "$to_b"; fail "callee was not offered RTP/AVP"; }
    [ "$(count_lines '^a=crypto' "$to_b")" = 0 ] || { echo "$to_b"; fail "a=crypto reached the plain callee"; }
    grep -qe "$k1" -e "$k2" <<<"$to_b" && fail "the caller's keys reached the callee"
    echo "ok   callee's INVITE SDP: RTP/AVP, no a=crypto, none of the caller's keys"
    grep -q "^m=audio [0-9]* RTP/SAVP " <<<"$to_a" || { echo "$to_a"; fail "caller's answer is not RTP/SAVP"; }
    [ "$(count_lines '^a=crypto' "$to_a")" = 1 ] || { echo "$to_a"; fail "caller's answer has not exactly one a=crypto"; }
    grep -q "^a=crypto:1 $s1 inline:" <<<"$to_a" || { echo "$to_a"; fail "caller's answer does not take its first suite $s1 (tag 1)"; }
    grep -qe "$k1" -e "$k2" <<<"$to_a" && fail "rtprelay echoed the caller's key back"
    grep -q "c=IN IP4 $RELAY_A" <<<"$to_a" || fail "caller's answer lacks c=IN IP4 $RELAY_A"
    echo "ok   caller's 200 OK SDP: RTP/SAVP, one a=crypto ($s1, tag 1) with rtprelay's own key"
done

# 2. Plain customer -> SRTP carrier, SDES with one suite.
start_kamailio -A "CALLEE_MEDIA=\"RTP/SAVP SDES-only-$S80\"" -A 'CALLER_MEDIA=""' -A WITH_CTL
echo "ok   Kamailio up with CALLEE_MEDIA=\"RTP/SAVP SDES-only-$S80\""
kb=$(new_key)
echo "---- plain caller -> SRTP callee"
CALLEE_KEY=$kb sip_call avp-to-savp "$repo/tests/e2e/kamailio/uac.xml" "$here/uas_savp.xml" -key key1 "$kb"
calls=$((calls + 1))
to_b=$(callee_sdp) to_a=$(caller_sdp)
grep -q "^m=audio [0-9]* RTP/SAVP " <<<"$to_b" || { echo "$to_b"; fail "callee was not offered RTP/SAVP"; }
[ "$(count_lines '^a=crypto' "$to_b")" = 1 ] || { echo "$to_b"; fail "callee was not offered exactly one a=crypto"; }
grep -q "^a=crypto:[0-9]* $S80 inline:" <<<"$to_b" || { echo "$to_b"; fail "callee's a=crypto is not $S80"; }
grep -q "a=candidate" <<<"$to_b" && fail "ICE candidates reached the callee (ICE=remove)"
echo "ok   callee's INVITE SDP: RTP/SAVP, exactly one a=crypto ($S80, of the interface's $S32,$S80: SDES-only- reached rtprelay) with rtprelay's key"
grep -q "^m=audio [0-9]* RTP/AVP " <<<"$to_a" || { echo "$to_a"; fail "caller's answer is not RTP/AVP"; }
[ "$(count_lines '^a=crypto' "$to_a")" = 0 ] || { echo "$to_a"; fail "a=crypto reached the plain caller"; }
grep -qe "$kb" <<<"$to_a" && fail "the callee's key reached the caller"
echo "ok   caller's 200 OK SDP: RTP/AVP, no a=crypto, not the callee's key"

# 3. rtprelay afterwards: every call deleted, Kamailio's requests counted.
stats=$(ctl_ns --json statistics) || fail "rtprelay-ctl statistics"
[ "$(json_field 'j["statistics"]["sessions"]' <<<"$stats")" = 0 ] || fail "sessions left after the BYEs"
[ "$(json_field 'j["statistics"]["calls created"]' <<<"$stats")" = "$calls" ] || fail "calls created is not $calls"
[ "$(json_field 'j["statistics"]["calls deleted"]' <<<"$stats")" = "$calls" ] || fail "calls deleted is not $calls"
# Offers and answers: one per call plus one per re-INVITE (the first two calls).
for want in "offer $((calls + reinvites))" "answer $((calls + reinvites))" "delete $calls"; do
    read -r cmd n_want <<<"$want"
    n=$(json_field "j['statistics']['ng requests']['$cmd']['ok']" <<<"$stats")
    e=$(json_field "j['statistics']['ng requests']['$cmd']['error']" <<<"$stats")
    [ "$n" = "$n_want" ] && [ "$e" = 0 ] || fail "ng requests $cmd: $n ok, $e error (want $n_want and 0)"
done
pings=$(json_field 'j["statistics"]["ng requests"]["ping"]["ok"]' <<<"$stats")
ignored=$(json_field 'j["statistics"]["ng server"]["ignored not allowed"]' <<<"$stats")
[ "$pings" -ge 1 ] && [ "$ignored" = 0 ] || fail "ng requests ping ok $pings, ignored $ignored"
echo "ok   rtprelay: 0 sessions, $calls calls created and deleted; NG requests all ok: $((calls + reinvites)) offers and answers, $calls deletes, $pings ping(s)"

stop_kamailio
stop_relay
echo "PASS: kamailio_srtp_test"
