"""Planned handover: `rtprelay-ctl handover n2` on node 1 while a plain call and an SRTP call
stream through it. Node 1 writes every record, stops serving, releases its leases for node
2; node 2 takes them at once (no waiting for the lease to expire), adopts the calls and
relays. Checked: the command completes; media resumes through node 2 after a short move
(measured, far below a takeover's lease time); libsrtp2 accepts every packet after it;
node 1 is alive and serves nothing; `rtprelay-ctl group` on node 2 shows it holding both
addresses and the calls. Runs inside the relay namespace (run_ha.sh)."""

import os
import subprocess
import time

from hanodes import Node, S80, flow_report, holds, redis, srtp_flow
from mediaflow import Media, Stream, host_socket
from rtptest import check, new_key, run_checks, text, wait_for
from rtptest import audio_sdp as sdp, parse_audio_sdp as parse

E = os.environ
CTL = os.path.join(E["BUILD_DIR"], "relay", "ctl", "rtprelay-ctl")


def call(ng, cid, a_sdp, b_sdp_fn):
    o = ng.request({"command": "offer", "call-id": cid, "from-tag": "A-" + cid, "sdp": a_sdp, "direction": ["a", "b"]})
    to_b = parse(o["sdp"])
    a = ng.request({"command": "answer", "call-id": cid, "from-tag": "A-" + cid, "to-tag": "B-" + cid,
                    "sdp": b_sdp_fn(to_b)})
    check(text(o.get("result")) == "ok" and text(a.get("result")) == "ok", "%s set up on node 1" % cid)
    return to_b, parse(a["sdp"])


def main():
    ns_a, ns_b, ip_a, ip_b = E["NS_A"], E["NS_B"], E["ADDR_A"], E["ADDR_B"]
    n1 = Node(1, home=True).start()
    n2 = Node(2, home=False).start()
    check(wait_for(lambda: holds("n1", E["RELAY_A"]), 10), "node 1 holds its leases")
    to_b, to_a = call(n1.ng, "h-plain", sdp(ip_a, 35000), lambda b: sdp(ip_b, 35000))
    ka, kb = new_key(), new_key()
    s_to_b, s_to_a = call(n1.ng, "h-srtp", sdp(ip_a, 35100, "RTP/SAVP", ["1 %s inline:%s" % (S80, ka)]),
                          lambda b: sdp(ip_b, 35100, "RTP/SAVP", ["1 %s inline:%s" % (b["crypto"][0][1], kb)]))
    media = Media(period=0.02)
    ab = Stream("A->B", 0x6001, host_socket(ns_a, ip_a, 35000), host_socket(ns_b, ip_b, 35000),
                (to_a["addr"], to_a["port"]))
    ba = Stream("B->A", 0x6002, ab.rx, ab.tx, (to_b["addr"], to_b["port"]))
    media.streams = [ab, ba]
    for s in media.streams:
        s.on = True
    media.start()
    count = 250
    flow = srtp_flow((ns_a, ip_a, 35100), (ns_b, ip_b, 35100), (s_to_a["addr"], s_to_a["port"]), ka,
                     s_to_b["crypto"][0][2], 24577, count, slack_ms=7000)
    time.sleep(2.0)

    t0 = time.monotonic()
    out = subprocess.run([CTL, "--ng", "127.0.0.1:%d" % n1.ng_addr[1], "handover", "n2"], capture_output=True,
                         text=True, timeout=30)
    took = time.monotonic() - t0
    print(out.stdout + out.stderr)
    check(out.returncode == 0 and "handed over to n2" in out.stdout,
          "rtprelay-ctl handover n2 completes (%.2f s)" % took)
    time.sleep(2.0)
    media.stop()
    for s in media.streams:
        gap = s.longest_gap()
        lost = s.lost(sent_after=t0 - 1, sent_before=time.monotonic() - 1)
        after = [q for q in s.received if s.sent_at[q] > t0 + took + 0.5]
        print("HANDOVER %s gap %.0f ms, %d packets lost" % (s.name, gap * 1000, len(lost)))
        check(len(after) > 20, "%s: media flows through node 2 after the handover" % s.name)
        check(gap < 0.4, "%s: the move took %.0f ms (a takeover waits for the lease: ~600)" % (s.name, gap * 1000))
    r = flow_report(flow)
    print("HANDOVER srtp %s" % r)
    check(r["auth_failed"] == 0 and r["bad_payload"] == 0 and r["ok"] >= count - 25,
          "SRTP: libsrtp2 at B accepts every packet across the handover (%d/%d, gap %.0f ms)" %
          (r["ok"], count, r["max_gap_ms"]))

    check(n1.proc.poll() is None, "node 1 is still alive")
    check(holds("n2", E["RELAY_A"], E["RELAY_B"]), "node 2 holds both leases")
    m1 = n1.metrics()
    check(m1.get("rtprelay_addresses_served") == 0 and m1.get("rtprelay_leases_held") == 0,
          "node 1 serves nothing")
    g = subprocess.run([CTL, "--ng", "127.0.0.1:%d" % n2.ng_addr[1], "group"], capture_output=True, text=True,
                       timeout=10)
    print(g.stdout)
    check(g.returncode == 0 and "node n2: 2 calls" in g.stdout, "rtprelay-ctl group on node 2 shows its 2 calls")
    for cid in ("h-plain", "h-srtp"):
        d = n2.ng.request({"command": "delete", "call-id": cid})
        check(text(d.get("result")) == "ok", "delete %s on node 2" % cid)
    check(n1.stop() == 0 and n2.stop() == 0, "both nodes stop cleanly")


run_checks(main)
