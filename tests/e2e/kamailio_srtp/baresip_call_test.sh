#!/usr/bin/env bash
# One call between two baresip instances (Debian baresip-core) through Kamailio and
# rtprelay, SRTP on both legs negotiated with SDES (mediaenc=srtp-mand, PCMU): A in
# namespace A dials B in namespace B through Kamailio, B answers automatically, each plays
# its own tone (A 440 Hz, B 1000 Hz, from an 8 kHz WAV through the aufile source) and
# records what it decodes (the sndfile filter). A hangs up after a bounded time (-t).
# Checks: each side decoded the OTHER side's tone (not silence, not its own), baresip saw
# no SRTP errors, rtprelay re-keyed (each leg's SDP carries keys the other never saw),
# rtprelay counted the call's packets, and the call is gone after the BYE.
#   baresip_call_test.sh BUILD_DIR [PREFIX]
set -euo pipefail
build=$(realpath "$1")
prefix=${2:-rpkbs}
prefix="${prefix:0:5}$(($$ % 1000))"
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../kamailio/common.sh"
need_tools kamailio baresip python3
log_files+=(a.out b.out)
call_secs=${CALL_SECS:-10}

netns_setup "$prefix"
sipnet_setup "$prefix"
start_relay
start_kamailio -A 'CALLEE_MEDIA=""' -A 'CALLER_MEDIA=""' -A WITH_CTL
echo "ok   Kamailio up (no media flags: SRTP stays SRTP on both legs, re-keyed by rtprelay)"

# Config per side: SIP on the SIP link, media on the media link (net_interface), no
# sound card: the player is an aubridge device nobody reads, the sndfile filter records.
python3 - "$tmp" <<'EOF'
import math, struct, sys, wave
for side, freq in (("a", 440), ("b", 1000)):
    w = wave.open("%s/tone_%s.wav" % (sys.argv[1], side), "wb")
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(8000)
    w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * freq * i / 8000)))
                           for i in range(8000 * 60)))
    w.close()
EOF
baresip_config() {  # baresip_config SIDE SIP_ADDR MEDIA_IF
    local d="$tmp/$1"
    mkdir -p "$d/dump"
    cat >"$d/config" <<EOC
poll_method		epoll
sip_listen		$2:5060
call_local_timeout	30
call_max_calls		1
audio_player		aubridge,play_$1
audio_alert		aubridge,alert_$1
audio_source		aufile,$tmp/tone_$1.wav
rtp_ports		30000-30019
rtp_stats		yes
net_interface		$3
snd_path		$d/dump
module_path		/usr/lib/baresip/modules
module			g711.so
module			aufile.so
module			aubridge.so
module			srtp.so
module			sndfile.so
module_app		account.so
module_app		menu.so
EOC
    echo "<sip:$1@$2>;regint=0;mediaenc=srtp-mand;audio_codecs=PCMU;answermode=auto$4" >"$d/accounts"
}
baresip_config a "$SIP_A" "$IF_A1" ";outbound=\"sip:$SIP_PROXY_A:5060\""
baresip_config b "$SIP_B" "$IF_B1" ""

cd "$tmp"
ip netns exec "$NS_B" timeout $((call_secs + 30)) baresip -f "$tmp/b" -s -t $((call_secs + 8)) \
    </dev/null >"$tmp/b.out" 2>&1 &
b_pid=$!
extra_pids+=("$b_pid")
sleep 1
ip netns exec "$NS_A" timeout $((call_secs + 30)) baresip -f "$tmp/a" -s -t "$call_secs" -e "/dial sip:b@$SIP_B" \
    </dev/null >"$tmp/a.out" 2>&1 &
a_pid=$!
extra_pids+=("$a_pid")

# While the call is up: rtprelay has it, with packets from both sides.
call_id=
for _ in $(seq 1 $((call_secs * 4))); do
    call_id=$(ctl_ns --json list 2>/dev/null | json_field '(j.get("calls") or [""])[0]' 2>/dev/null || true)
    [ -n "$call_id" ] && break
    sleep 0.25
done
[ -n "$call_id" ] || fail "rtprelay never saw the call"
sleep $((call_secs / 2))
q=$(ctl_ns --json query "$call_id") || fail "rtprelay-ctl query $call_id"
per_tag=$(json_field '" ".join(str(sum(s.get("stats",{}).get("packets",0) for m in t.get("medias",[]) for s in m.get("streams",[]))) for t in j["tags"].values())' <<<"$q")
echo "     rtprelay per-tag packets received mid-call: $per_tag"
for n in $per_tag; do
    [ "$n" -ge 50 ] || fail "rtprelay counted only $n packets from one side mid-call ($per_tag)"
done
[ "$(wc -w <<<"$per_tag")" = 2 ] || fail "rtprelay's call has not two sides ($per_tag)"
echo "ok   rtprelay relays the call $call_id: both sides' packets counted mid-call"

a_rc=0; wait "$a_pid" || a_rc=$?
b_rc=0; wait "$b_pid" || b_rc=$?
extra_pids=()
[ "$a_rc" = 0 ] && [ "$b_rc" = 0 ] || fail "baresip exited with $a_rc (A) and $b_rc (B)"
grep -q "Call established" "$tmp/a.out" || fail "A's call was not established"
grep -q "Call established" "$tmp/b.out" || fail "B never answered"
for side in a b; do
    grep -q "SRTP is Enabled (cryptosuite=" "$tmp/$side.out" || fail "baresip $side did not enable SRTP"
    grep -q "failed to decrypt RTP packet" "$tmp/$side.out" && fail "baresip $side failed to decrypt RTP"
done
echo "ok   both baresips established the call with SRTP: $(grep -o 'cryptosuite=[A-Z0-9_]*' "$tmp/a.out" | head -n 1) (A), $(grep -o 'cryptosuite=[A-Z0-9_]*' "$tmp/b.out" | head -n 1) (B)"

# The SDP on each leg (baresip's SIP trace, -s): RTP/SAVP, rtprelay's address, and keys
# that never cross from one leg to the other.
python3 - "$tmp/a.out" "$tmp/b.out" "$RELAY_A" "$RELAY_B" <<'EOF' || fail "SDP per leg"
import re, sys
def keys(path):
    t = open(path, encoding="utf-8", errors="replace").read()
    return set(re.findall(r"a=crypto:\d+ \S+ inline:([A-Za-z0-9+/=]+)", t)), t
ka, ta = keys(sys.argv[1])
kb, tb = keys(sys.argv[2])
ok = True
def check(cond, what):
    global ok
    print(("ok   " if cond else "FAIL ") + what)
    ok = ok and cond
check(len(ka) >= 2 and len(kb) >= 2, "both traces carry SDES keys (A %d, B %d distinct)" % (len(ka), len(kb)))
check(not (ka & kb), "no key appears on both legs: rtprelay re-keys between them")
check(re.search(r"m=audio \d+ RTP/SAVP", ta) and re.search(r"m=audio \d+ RTP/SAVP", tb), "both legs are RTP/SAVP")
check("c=IN IP4 %s" % sys.argv[3] in ta and "c=IN IP4 %s" % sys.argv[4] in tb, "each side was given rtprelay's address")
sys.exit(0 if ok else 1)
EOF

# What each side decoded: the other side's tone, loud, and not its own.
python3 - "$tmp" <<'EOF' || fail "received audio"
import glob, math, struct, sys, wave
def power(s, f, rate=8000):  # Goertzel: the energy of s at frequency f, per sample^2
    k = 2 * math.cos(2 * math.pi * f / rate)
    s1 = s2 = 0.0
    for x in s:
        s1, s2 = x + k * s1 - s2, s1
    return (s1 * s1 + s2 * s2 - k * s1 * s2) / (len(s) ** 2)
ok = True
for side, want, own in (("a", 1000, 440), ("b", 440, 1000)):
    files = glob.glob("%s/%s/dump/*-dec.wav" % (sys.argv[1], side))
    if not files:
        print("FAIL %s recorded no decoded audio" % side)
        ok = False
        continue
    w = wave.open(files[0])
    data = w.readframes(w.getnframes())
    s = struct.unpack("<%dh" % (len(data) // 2), data)
    # The loudest second: the start is silence until media flows.
    secs = [s[i:i + 8000] for i in range(0, len(s) - 7999, 8000)]
    best = max(secs, key=lambda c: sum(x * x for x in c)) if secs else []
    rms = math.sqrt(sum(x * x for x in best) / len(best)) if best else 0
    loud = sum(1 for c in secs if math.sqrt(sum(x * x for x in c) / 8000) > 1000)
    pw, po = (power(best, want), power(best, own)) if best else (0, 0)
    good = rms > 2000 and pw > 100 * max(po, 1e-9) and loud >= 3
    print(("ok   " if good else "FAIL ") + "%s decoded %.1f s of audio, %d s loud; loudest second RMS %.0f, "
          "%d Hz (the other side's tone) %.3g vs %d Hz (its own) %.3g" % (side, len(s) / 8000, loud, rms, want, pw, own, po))
    ok = ok and good
sys.exit(0 if ok else 1)
EOF
for side in a b; do
    sed -n '/^audio *Transmit/,/^jitter/p' "$tmp/$side.out" | sed "s/^/     $side: /"
done

# After A's BYE: Kamailio deleted the call; rtprelay relayed it and saw no SRTP failures.
stats=$(ctl_ns --json statistics) || fail "rtprelay-ctl statistics"
[ "$(json_field 'j["statistics"]["sessions"]' <<<"$stats")" = 0 ] || fail "rtprelay still has the call after the BYE"
[ "$(json_field 'j["statistics"]["calls deleted"]' <<<"$stats")" = 1 ] || fail "rtprelay did not delete the call"
echo "     rtprelay drops: $(json_field '{k: v for k, v in j["statistics"]["dataplane"]["drops"].items() if v}' <<<"$stats")"
echo "     Kamailio's \$rtpestat before the delete: $(sed -n 's/.*media of [^:]*: //p' "$tmp/kamailio.log" | head -n 1)"
relayed=$(json_field 'j["statistics"]["dataplane"]["relayed rtp"]' <<<"$stats")
dropped=$(json_field 'sum(j["statistics"]["dataplane"]["drops"].values())' <<<"$stats")
[ "$relayed" -ge $((call_secs * 50)) ] || fail "rtprelay relayed only $relayed RTP packets"
# A few drops are the peers' doing and rtprelay is right to refuse them: baresip sends a
# 16-byte plain RTCP packet when a stream starts and one more at hang-up, on an SRTP
# stream (baresip itself refuses its peer's: "failed to decrypt RTCP packet with 16
# bytes"); the answerer's first SRTP packets can beat the answer carrying its key; the
# last RTCP can arrive after the delete.
[ "$dropped" -le 10 ] || fail "rtprelay dropped $dropped packets of a 2-party call"
echo "ok   after the BYE rtprelay has 0 sessions; it relayed $relayed RTP packets, dropped $dropped"

stop_kamailio
stop_relay
echo "PASS: baresip_call_test"
