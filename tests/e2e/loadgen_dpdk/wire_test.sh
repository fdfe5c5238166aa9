#!/usr/bin/env bash
# rtprelay-loadgen --dpdk --dpdk-wire into rtprelay-wire (issue 17): the generator alone, its
# two memif ports joined by a wire, in a namespace of its own (memif's abstract socket is per
# namespace). A small bounded SRTP load must come back whole: every stream's packets received,
# the sample verified (UDP checksum, SRTP under the sender's key, payload identity) with no
# failure, the generator's own busy time reported, and the wire's count equal to what the
# generator sent. No speed assertions: the host is a shared 2-core machine.
#   wire_test.sh BUILD_DIR
set -euo pipefail
build=$(realpath "$1")
source "$(cd "$(dirname "$0")" && pwd)/../../support/netns.sh"
calls=${CALLS:-200}
duration=${DURATION:-3}
source "$(cd "$(dirname "$0")" && pwd)/common.sh"
lgd_begin rplgw
start_far rtprelay-wire "port 0 <-> port 1" "$build/bench/loadgen/rtprelay-wire" -l 1 --no-pci --no-huge -m 256 \
    --no-shconf --file-prefix "$p-w" --vdev="net_memif0,role=server,socket=$sock,id=0" \
    --vdev="net_memif1,role=server,socket=$sock,id=1"

rc=0
ip netns exec "$ns" timeout 60 "$build/bench/loadgen/rtprelay-loadgen" --dpdk --dpdk-wire \
    --eal="-l 0 --no-pci --no-huge -m 256 --no-shconf --file-prefix $p-g --vdev=net_memif0,role=client,socket=$sock,id=0 --vdev=net_memif1,role=client,socket=$sock,id=1" \
    --dpdk-port-a 0 --dpdk-port-b 1 --addr-a 198.18.1.2 --addr-b 198.18.2.2 \
    --calls "$calls" --duration "$duration" --srtp --dpdk-idle-sleep-us 50 --skip-tolerance 100 \
    --json >"$logdir/loadgen.json" 2>"$logdir/loadgen.err" || rc=$?
[ "$rc" = 0 ] || { echo "FAIL: rtprelay-loadgen exited with $rc"; exit 1; }
stop_far INT rtprelay-wire

CALLS=$calls python3 - "$logdir/loadgen.json" "$logdir/far.log" <<'PY'
import json, os, re, sys
s = json.load(open(sys.argv[1]))
wire = open(sys.argv[2]).read()
calls = int(os.environ["CALLS"])
bad = []
def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        bad.append(what)
pk, st, d, g = s["packets"], s["streams"], s["dpdk"], s.get("generator_busy", {})
check(d["wire"] is True and s["transport"] == "dpdk", "generator alone, on its DPDK ports, into the wire")
check(st["total"] == 2 * calls and st["silent"] == 0, "every stream came back (%d streams, %d silent)" % (st["total"], st["silent"]))
check(pk["sent"] > 0 and pk["loss_percent"] <= 0.5, "loss %.4f %% of %d (<= 0.5 %%)" % (pk["loss_percent"], pk["sent"]))
check(pk["misrouted"] == 0 and pk["duplicates"] == 0 and pk["foreign"] == 0, "nothing misrouted, duplicated or foreign")
check(d["verified"] > 0 and d["verify_failed"] == 0, "%d packets verified in full, none failed" % d["verified"])
check(s["srtp"]["libsrtp2_checked_received"] > 0 and s["srtp"]["libsrtp2_mismatched_received"] == 0,
      "libsrtp2 agreed on %d received packets" % s["srtp"]["libsrtp2_checked_received"])
check(g.get("busy_seconds", 0) > 0 and g.get("handled", 0) == pk["sent"] + pk["received"],
      "generator busy time reported over %s packets sent or received" % g.get("handled"))
m = re.search(r"0->1 passed (\d+) dropped (\d+), 1->0 passed (\d+) dropped (\d+)", wire)
check(m is not None and int(m.group(1)) + int(m.group(3)) == pk["sent"] - d["tx_ring_full"],
      "the wire passed what the generator's ports took (%s)" % (m.group(0) if m else "no wire summary"))
sys.exit(1 if bad else 0)
PY
echo "PASS: loadgen_dpdk_wire"
