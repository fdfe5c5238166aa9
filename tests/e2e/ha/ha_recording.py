"""A recorded SRTP call survives the death of its node (kill -9), and so does its recording.
Node 1 records the call (record call: yes); it dies; node 2 adopts the call from its Redis
record and records the next part in its own recording directory (the first part's name
with -part2, the same recording id, metadata naming node 1 and the part it continues).
Node 1 starts again on the same recording directory and finishes the part it left open
into done/ with stop reason "node died", running the completion command. tshark reads both
parts: the first holds packets from before the kill, the second the packets after the gap.
Then a planned handover back to node 1: node 2 closes part 2 with stop reason "moved" and
node 1 records part 3. Parts 2 and 3 list the SDP in effect (the answer), carried in the
call's record. Runs inside the relay namespace (run_ha.sh)."""

import json
import os
import subprocess
import time

from hanodes import Node, PEER, S80, flow_report, holds, redis, srtp_flow
from recording_check import pcap_rtp, wait_done
from rtptest import check, new_key, run_checks, text, wait_for
from rtptest import audio_sdp as sdp, parse_audio_sdp as parse

E = os.environ
PACKETS = 250  # 20 ms apart: 5 s
SSRC = 0x2101
CID = "rec-ha-1"
CTL = os.path.join(E["BUILD_DIR"], "relay", "ctl", "rtprelay-ctl")


def recording_args(n):
    rec = os.path.join(E["HA_TMP"], "rec-n%d" % n)
    hook = os.path.join(E["HA_TMP"], "hook.sh")
    with open(hook, "w") as f:
        f.write('#!/bin/sh\necho "$@" >> %s/hook-$(basename $(dirname $(dirname "$1"))).log\n' % E["HA_TMP"])
    return rec, ["--recording-dir=%s" % rec, "--recording-command=/bin/sh %s" % hook]


def main():
    ns_a, ns_b, ip_a, ip_b = E["NS_A"], E["NS_B"], E["ADDR_A"], E["ADDR_B"]
    rec1, args1 = recording_args(1)
    rec2, args2 = recording_args(2)
    n1 = Node(1, home=True, extra=args1).start()
    n2 = Node(2, home=False, extra=args2).start()
    check(wait_for(lambda: holds("n1", E["RELAY_A"]), 10), "node 1 holds its leases")
    check(n1.wait_log("serving media address"), "node 1 serves its addresses")

    ka, kb = new_key(), new_key()
    o = n1.ng.request({"command": "offer", "call-id": CID, "from-tag": "A-" + CID, "record call": "yes",
                       "sdp": sdp(ip_a, 31000, "RTP/SAVP", ["1 %s inline:%s" % (S80, ka)]), "direction": ["a", "b"]})
    check(text(o.get("result")) == "ok", "offer with record call: yes (%s)" % o.get("error-reason"))
    to_b = parse(o["sdp"])
    a = n1.ng.request({"command": "answer", "call-id": CID, "from-tag": "A-" + CID, "to-tag": "B-" + CID,
                       "sdp": sdp(ip_b, 31000, "RTP/SAVP", ["1 %s inline:%s" % (to_b["crypto"][0][1], kb)])})
    check(text(a.get("result")) == "ok", "answer ok")
    to_a = parse(a["sdp"])
    q = n1.ng.request({"command": "query", "call-id": CID})
    r1 = q.get("recording", {})
    check(text(r1.get("state")) == "recording", "node 1 records the call")
    rec_id = text(r1.get("recording id"))
    check(len(rec_id) == 16 and r1.get("part") == 1, "part 1 of recording %s" % rec_id)
    base1 = os.path.relpath(text(r1["files"]["pcap"]), rec1)[:-len(".pcap")]
    # The recorder thread writes it on its next pass after the open, not before NG's reply.
    check(wait_for(lambda: os.path.exists(os.path.join(rec1, base1 + ".state")), 2),
          "its state file lies beside the open pcap")
    check(wait_for(lambda: redis("SCARD", "rtprelay:t:calls:n1") == "(integer) 1", 5), "the call is in Redis")

    # SRTP A -> B through the relay; the recording holds it decrypted.
    flow = srtp_flow((ns_a, ip_a, 31000), (ns_b, ip_b, 31000), (to_a["addr"], to_a["port"]), ka, to_b["crypto"][0][2],
                     SSRC, PACKETS, slack_ms=5000)
    time.sleep(2.0)
    killed_wall = time.time()
    n1.kill9()
    check(n2.wait_log("calls adopted", 5), "node 2 adopts the call")
    check(n2.wait_log('msg="recording continues"', 2), "node 2 continues the recording")
    q = n2.ng.request({"command": "query", "call-id": CID})
    r2 = q.get("recording", {})
    check(text(r2.get("state")) == "recording" and r2.get("part") == 2 and text(r2.get("recording id")) == rec_id,
          "node 2 records part 2 of the same recording (%s)" % r2)
    base2 = os.path.relpath(text(r2["files"]["pcap"]), rec2)[:-len(".pcap")]
    check(base2 == base1 + "-part2", "part 2 is named after part 1: %s" % base2)
    res = flow_report(flow)
    check(res["auth_failed"] == 0 and res["ok"] >= PACKETS - 100, "SRTP flows again through node 2 (%s)" % res)

    # Node 1 again, on the same recording directory: it finishes what it left open.
    check(not os.path.exists(os.path.join(rec1, "done", base1 + ".pcap")), "nothing finished part 1 yet")
    n1 = Node(1, home=True, extra=args1).start()
    part1 = wait_done(rec1, CID)
    check(part1 is not None and ".pcap" in part1, "the restarted node 1 finished part 1 into done/")
    meta1 = part1["meta"]
    check(meta1["recording"]["stop reason"] == "node died", "stop reason: node died (%s)" % meta1["recording"]["stop reason"])
    check(meta1["call"].get("recording id") == rec_id and meta1["call"].get("part") == 1,
          "part 1's metadata comes from its state file")
    check(not os.path.exists(os.path.join(rec1, base1 + ".pcap")) and not os.path.exists(os.path.join(rec1, base1 + ".state")),
          "nothing of part 1 is left in the open area")
    p1 = [p for p in pcap_rtp(part1[".pcap"]) if p["ssrc"] == SSRC]
    check(len(p1) >= 20, "tshark reads part 1: %d packets" % len(p1))
    check(max(p["time"] for p in p1) < killed_wall + 0.1, "part 1 holds packets from before the kill")
    check(n1.wait_log('msg="recording left open by a node that died"', 2), "node 1 logs the recovery")
    check(n1.metric("rtprelay_recordings_recovered_total") == 1, "node 1 counts it: recovered 1")
    hook_log = os.path.join(E["HA_TMP"], "hook-rec-n1.log")
    check(wait_for(lambda: os.path.exists(hook_log) and part1[".pcap"] in open(hook_log).read(), 5),
          "the completion command ran for the recovered part")

    # Planned handover back to node 1 with media flowing: node 2's part ends "moved",
    # node 1 records part 3.
    send = subprocess.Popen([PEER, "send", "--ns", ns_a, "--bind", "%s:31000" % ip_a, "--to",
                             "%s:%d" % (to_a["addr"], to_a["port"]), "--count", "100", "--interval-us", "20000",
                             "--ssrc", str(SSRC), "--key", ka, "--suite", S80, "--seq", "1300"])
    time.sleep(0.6)
    moved_wall = time.time()
    out = subprocess.run([CTL, "--ng", "127.0.0.1:%d" % n2.ng_addr[1], "handover", "n1"], capture_output=True,
                         text=True, timeout=30)
    check(out.returncode == 0 and "handed over to n1" in out.stdout, "rtprelay-ctl handover n1 completes")
    send.wait(30)
    part2 = wait_done(rec2, CID)
    check(part2 is not None and ".pcap" in part2, "node 2's part is in its done/")
    meta2 = part2["meta"]
    cont = meta2["call"].get("continues", {})
    check(meta2["call"].get("part") == 2 and meta2["call"].get("recording id") == rec_id and cont.get("node") == "n1"
          and cont.get("part") == 1 and cont.get("base") == base1,
          "part 2's metadata: continues part 1 of %s written by n1 (%s)" % (rec_id, cont))
    check(meta2["recording"]["stop reason"] == "moved", "part 2 ends with the handover: moved")
    # The SDP in effect came with the call's record: the answer as node 1 received it (its
    # key removed), with its time and the part whose metadata has the rest.
    sdps2 = meta2["call"].get("sdps", [])
    first = sdps2[0] if sdps2 else {}
    check(first.get("type") == "answer" and first.get("carried from") == {"node": "n1", "part": 1, "base": base1}
          and ("c=IN IP4 %s" % ip_b) in first.get("received", "") and "inline:[removed]" in first["received"]
          and "sent" not in first, "part 2's metadata starts with the answer carried from part 1 (%s)" % first)
    check(first.get("time") == meta1["call"]["sdps"][-1]["time"], "with the time node 1 received it (%s)" % first.get("time"))
    check(kb not in json.dumps(meta2) and ka not in json.dumps(meta2), "no media key in part 2's metadata")
    check([c["name"] for c in meta2["call"].get("codecs", [{}])[0].get("formats", [])] != [],
          "part 2's codecs, from the carried answer (%s)" % meta2["call"].get("codecs"))
    p2 = [p for p in pcap_rtp(part2[".pcap"]) if p["ssrc"] == SSRC]
    check(len(p2) >= 50, "tshark reads part 2: %d packets of the call" % len(p2))
    check(min(p["time"] for p in p2) > killed_wall, "part 2 holds only packets after the kill")
    check(max(p["seq"] for p in p1) < min(p["seq"] for p in p2),
          "part 2 continues after part 1: seq %d..%d, then %d..%d (the gap between)" %
          (min(p["seq"] for p in p1), max(p["seq"] for p in p1), min(p["seq"] for p in p2), max(p["seq"] for p in p2)))
    q = n1.ng.request({"command": "query", "call-id": CID})
    r3 = q.get("recording", {})
    check(text(r3.get("state")) == "recording" and r3.get("part") == 3 and text(r3.get("recording id")) == rec_id,
          "node 1 records part 3 after the handover (%s)" % r3)
    d = n1.ng.request({"command": "delete", "call-id": CID})
    check(text(d.get("result")) == "ok", "delete on node 1")
    meta3_path = os.path.join(rec1, "done", base1 + "-part3.json")
    check(wait_for(lambda: os.path.exists(meta3_path), 10), "part 3 is in node 1's done/")
    with open(meta3_path) as f:
        meta3 = json.load(f)
    check(meta3["call"]["continues"]["node"] == "n2" and meta3["call"]["continues"]["part"] == 2,
          "part 3 continues node 2's part 2")
    carried3 = (meta3["call"].get("sdps") or [{}])[0]
    check(carried3.get("carried from", {}).get("node") == "n2" and carried3.get("time") == first.get("time"),
          "part 3 lists the same answer, carried on by node 2 (%s)" % carried3.get("carried from"))
    p3 = [p for p in pcap_rtp(meta3_path[:-len(".json")] + ".pcap") if p["ssrc"] == SSRC]
    check(len(p3) >= 20 and min(p["seq"] for p in p3) > max(p["seq"] for p in p2) and
          min(p["time"] for p in p3) > moved_wall,
          "tshark reads part 3: %d packets after part 2's (seq %d..)" % (len(p3), min([p["seq"] for p in p3] or [0])))
    check(n1.stop() == 0 and n2.stop() == 0, "both nodes stop cleanly")


run_checks(main)
