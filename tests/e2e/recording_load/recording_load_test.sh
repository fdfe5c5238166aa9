#!/usr/bin/env bash
# Recording under load: rtprelay-loadgen sets up CALLS calls (default 1,000) and streams RTP
# and RTCP both ways for SECONDS (default 10) twice, through the same relay setup: once with
# every call recorded from the answer, once without recording. With recording:
#   - every call's pcap holds exactly the packets the relay relayed for it (capinfos counts
#     the pcaps; tshark reads a sample), the WAV and JSON are there, nothing failed;
#   - no packet dropped from a recording, and the relay dropped no more than without (the
#     generator's end-to-end loss of both runs is printed);
#   - the relay's open files stay under the bound (--recording-open-files) while it records,
#     and come back to where they started (no descriptor leak).
#   recording_load_test.sh BUILD_DIR [CALLS] [SECONDS]
set -euo pipefail
build=$(realpath "$1")
calls=${2:-1000}
seconds=${3:-10}
prefix=rprld$(($$ % 1000))
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
source "$repo/tests/support/netns.sh"
open_files=64
# The record ring: 128 MiB, 6 s of these calls' packets. On this 2-core test machine the
# recorder shares a core with the control plane, the generator and whatever else runs (a
# load average of 10 from parallel builds starved it for seconds and a 32 MiB ring
# overflowed: 290,000 of 898,000 copies dropped, every packet still relayed). A production
# node gives the recorder a core of its own; the ring is the room for the OS or the disk
# holding it up (README, Recording).
ring_mb=128

for tool in capinfos tshark python3; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool not installed (deploy/scripts/install-deps.sh)"; exit 1; }
done
tmp=$(mktemp -d /tmp/rtprelay-recload.XXXXXX)
relay_pid=
finish() {
    local rc=$?
    set +e
    if [ -n "$relay_pid" ]; then kill -9 "$relay_pid" 2>/dev/null; fi
    netns_cleanup "$prefix"
    if [ $rc -ne 0 ]; then tail -n 40 "$tmp"/relay-*.log 2>/dev/null; fi
    rm -rf "$tmp"
    exit $rc
}
trap finish EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }
netns_setup "$prefix"
export PYTHONPATH="$repo/tests/support"

fds() { ls "/proc/$relay_pid/fd" | wc -l; }
start_relay() {  # start_relay NAME [extra args...]
    local name=$1; shift
    ip netns exec "$NS_RELAY" "$build/relay/rtprelay" \
        --eal="-l 0-1 --no-pci --no-huge -m 512 --no-shconf --file-prefix $prefix --vdev=net_af_packet0,iface=$IF_A0 --vdev=net_af_packet1,iface=$IF_B0" \
        --interface="a address=$RELAY_A/24 dpdk-port=0" --mbufs=16383 \
        --ng-listen=127.0.0.1:2223 --idle-sleep-us=50 --timeout=600 "$@" >"$tmp/relay-$name.log" 2>&1 &
    relay_pid=$!
    ip netns exec "$NS_RELAY" python3 -c '
import sys, time
from rtptest import NgClient, ping
ng = NgClient(timeout=0.5)
end = time.time() + 30
while time.time() < end:
    if ping(ng):
        sys.exit(0)
    time.sleep(0.2)
sys.exit("rtprelay did not answer NG within 30 s")' || fail "relay $name did not start"
}
stop_relay() {
    kill -TERM "$relay_pid"
    for _ in $(seq 1 300); do kill -0 "$relay_pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$relay_pid" 2>/dev/null && fail "rtprelay did not exit within 30 s of SIGTERM"
    local rc=0; wait "$relay_pid" || rc=$?
    relay_pid=
    [ "$rc" = 0 ] || fail "rtprelay exited with $rc"
}
loadgen() {  # loadgen NAME: the run's JSON summary in $tmp/NAME.json; calls kept on the relay
    ip netns exec "$NS_RELAY" timeout $((seconds + 240)) "$build/bench/loadgen/rtprelay-loadgen" \
        --ng 127.0.0.1:2223 --calls "$calls" --duration "$seconds" --ns-a "$NS_A" --ns-b "$NS_B" \
        --addr-a "$ADDR_A" --addr-b "$ADDR_B" --interface-a a --interface-b b --rtcp --keep --json \
        >"$tmp/$1.json" || fail "loadgen $1"
}
# The relay's statistics, the calls' relayed packets, then every call deleted.
collect() {  # collect NAME
    ip netns exec "$NS_RELAY" python3 - "$tmp/$1" <<'PY'
import json, sys
from rtptest import NgClient, text
ng = NgClient(timeout=2)
ids, relayed = [], {}
while True:
    batch = [text(c) for c in ng.request({"command": "list", "limit": 500})["calls"]]
    batch = [c for c in batch if c not in relayed]
    if not batch:
        break
    for c in batch:
        q = ng.request({"command": "query", "call-id": c})
        relayed[c] = q["totals"]["RTP"]["packets"] + q["totals"]["RTCP"]["packets"]
        ng.request({"command": "delete", "call-id": c})
stats = ng.request({"command": "statistics"})["statistics"]
json.dump({"relayed": relayed, "dataplane": {k: v for k, v in stats["dataplane"].items() if not isinstance(v, (list, bytes))},
           "recording": stats.get("recording", {})}, open(sys.argv[1] + "-relay.json", "w"), default=text)
PY
}

# 1. Without recording.
start_relay plain --interface="b address=$RELAY_B/24 dpdk-port=1"
loadgen plain
collect plain
stop_relay

# 2. The same with every call recorded from the answer (interface b's policy).
mkdir -p "$tmp/rec"
start_relay rec --interface="b address=$RELAY_B/24 dpdk-port=1 recording=from-answer" \
    --recording-dir="$tmp/rec" --recording-open-files=$open_files --recording-ring-mb=$ring_mb
base_fds=$(fds)
loadgen rec &
lg=$!
max_fds=$base_fds
while kill -0 $lg 2>/dev/null; do
    n=$(fds); [ "$n" -gt "$max_fds" ] && max_fds=$n
    sleep 0.5
done
wait $lg || fail "loadgen rec"
collect rec
for _ in $(seq 1 300); do  # the finisher writes the WAVs and moves the files
    [ "$(find "$tmp/rec/done" -name '*.json' | wc -l)" -ge "$calls" ] && break
    sleep 0.2
done
sleep 0.5
end_fds=$(fds)
stop_relay
echo "   open files: $base_fds at start, at most $max_fds while recording $calls calls, $end_fds after"
[ "$max_fds" -le $((base_fds + open_files + 4)) ] || fail "open files grew to $max_fds (start $base_fds, bound $open_files)"
[ "$end_fds" -le "$base_fds" ] || fail "open files after the calls: $end_fds, at start $base_fds (leak)"
echo "ok   open files bounded by --recording-open-files=$open_files and none leaked"

find "$tmp/rec/done" -name '*.pcap' -print0 | xargs -0 capinfos -c -T -r -B >"$tmp/counts.tsv"
python3 - "$tmp" "$calls" <<'PY'
import glob, json, os, sys
tmp, calls = sys.argv[1], int(sys.argv[2])
plain = json.load(open(tmp + "/plain.json")); rec = json.load(open(tmp + "/rec.json"))
rp = json.load(open(tmp + "/plain-relay.json")); rr = json.load(open(tmp + "/rec-relay.json"))
counts = {os.path.basename(l.split("\t")[0])[:-5]: int(l.split("\t")[1]) for l in open(tmp + "/counts.tsv") if l.strip()}
metas = {}
for f in glob.glob(tmp + "/rec/done/*.json"):
    m = json.load(open(f))
    metas[m["call"]["call-id"]] = (os.path.basename(f)[:-5], m)
fails = []
def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        fails.append(what)
check(len(rr["relayed"]) == calls and len(metas) == calls, "%d calls relayed, %d recordings finished" % (len(rr["relayed"]), len(metas)))
missing = [c for c, n in rr["relayed"].items() if c not in metas or counts.get(metas[c][0]) != n]
check(not missing, "every call's pcap holds exactly the packets relayed for it (%d differ%s)" %
      (len(missing), ": %s relayed %d, pcap %s" % (missing[0], rr["relayed"][missing[0]], counts.get(metas.get(missing[0], ("?",))[0])) if missing else ""))
check(all(m["status"] == "complete" for _, m in metas.values()), "every recording complete (pcap, WAV, JSON)")
check(all(os.path.exists("%s/rec/done/%s.wav" % (tmp, b)) for b, _ in metas.values()), "a WAV for every call")
check(sum(rr["relayed"].values()) == sum(counts.values()), "pcap packets in all: %d, relayed: %d" % (sum(counts.values()), sum(rr["relayed"].values())))
r = rr["recording"]
check(r["failed"] == 0 and r["packets lost"] == 0 and r["ring full"] == 0 and r["file wait drops"] == 0,
      "no recording failed, no packet dropped from one (%s)" % r)
# The relay's loss is what it dropped of what it received: the same with recording as without.
# The generator's end-to-end loss also counts what the kernel lost before the relay on this
# shared 2-core machine (the generator, the recorder and other work on one core): reported,
# not asserted (TESTING.md: assert on the relay's own counters).
d_plain, d_rec = rp["dataplane"]["dropped"], rr["dataplane"]["dropped"]
check(d_rec <= d_plain + calls // 100, "relay drops with recording %d, without %d" % (d_rec, d_plain))
lp, lr = plain["packets"]["loss_percent"], rec["packets"]["loss_percent"]
print("   generator: %d calls, end-to-end loss %.4f%% without recording, %.4f%% with (sent %d / %d)" %
      (calls, lp, lr, plain["packets"]["sent"], rec["packets"]["sent"]))
sys.exit(1 if fails else 0)
PY
# awk reads to the end: head would close the pipe and pipefail would fail on find's SIGPIPE.
sample=$(find "$tmp/rec/done" -name '*.pcap' | awk 'NR <= 3')
for f in $sample; do
    n=$(tshark -r "$f" -o rtp.heuristic_rtp:TRUE -o udp.try_heuristic_first:TRUE -Y rtp -T fields -e rtp.seq | wc -l)
    [ "$n" -gt 0 ] || fail "tshark finds no RTP in $f"
done
echo "ok   tshark reads the RTP of sample pcaps"
echo "PASS: recording_load_test ($calls calls, $seconds s)"
