"""A node of a group dies (kill -9) with a plain call and SRTP<->SRTP calls streaming
through it; the standby takes its media address leases, adopts the calls from their Redis
records and relays them: both directions resume, libsrtp2 at each end accepts every packet
after the gap, the standby serves the calls' later NG commands, and the records go with
the delete. Runs inside the relay namespace (run_ha.sh)."""

import base64
import os
import re
import time

import pcapidx

from hanodes import (Node, S80, capture, captures_running, flow_report, holds, redis, redis_raw, redis_set_bytes,
                     srtp_flow)
from mediaflow import Media, Stream, host_socket
from rtptest import check, new_key, run_checks, text, wait_for
from rtptest import audio_sdp as sdp, parse_audio_sdp as parse

E = os.environ
PACKETS = 300       # per SRTP direction, 20 ms apart: 6 s
KILL_AFTER = 2.0    # seconds of media before the kill


def call(ng, call_id, offer_sdp, answer_fn):
    o = ng.request({"command": "offer", "call-id": call_id, "from-tag": "A-" + call_id, "sdp": offer_sdp,
                    "direction": ["a", "b"]})
    check(text(o.get("result")) == "ok", "%s: offer ok (%s)" % (call_id, o.get("error-reason")))
    to_b = parse(o["sdp"])
    a = ng.request({"command": "answer", "call-id": call_id, "from-tag": "A-" + call_id, "to-tag": "B-" + call_id,
                    "sdp": answer_fn(to_b)})
    check(text(a.get("result")) == "ok", "%s: answer ok (%s)" % (call_id, a.get("error-reason")))
    return to_b, parse(a["sdp"])


def main():
    ns_a, ns_b, ip_a, ip_b = E["NS_A"], E["NS_B"], E["ADDR_A"], E["ADDR_B"]
    n1 = Node(1, home=True).start()
    n2 = Node(2, home=False).start()
    check(wait_for(lambda: holds("n1", E["RELAY_A"]), 10),
          "node 1 holds the lease of its home address")
    check(n1.wait_log("serving media address"), "node 1 serves its addresses")
    check(holds("n1", E["RELAY_B"]), "and of the other one")
    check("serving media address" not in n2.log_text(), "the standby serves nothing")
    m1, m2 = n1.metrics(), n2.metrics()
    check(m1.get("rtprelay_leases_held") == 2 and m1.get("rtprelay_addresses_served") == 2,
          "node 1's metrics: 2 leases held, 2 addresses served")
    check(m2.get("rtprelay_leases_held") == 0 and m2.get("rtprelay_addresses_served") == 0 and
          m2.get("rtprelay_redis_up") == 1, "node 2's metrics: connected, nothing held")

    # A plain call and two SRTP<->SRTP calls through node 1 (one streams A->B, the other
    # B->A: a libsrtp2 sender and receiver cannot share one port).
    to_b, to_a = call(n1.ng, "plain-1", sdp(ip_a, 30000), lambda to_b: sdp(ip_b, 30000))
    keys = {}
    for cid, port in (("srtp-1", 30100), ("srtp-2", 30200), ("srtcp-1", 30300)):
        ka, kb = new_key(), new_key()
        s_to_b, s_to_a = call(n1.ng, cid, sdp(ip_a, port, "RTP/SAVP", ["1 %s inline:%s" % (S80, ka)]),
                              lambda b: sdp(ip_b, port, "RTP/SAVP", ["1 %s inline:%s" % (b["crypto"][0][1], kb)]))
        keys[cid] = (port, ka, kb, s_to_b, s_to_a)
    check(wait_for(lambda: redis("SCARD", "rtprelay:t:calls:n1") == "(integer) 4", 5), "the calls are in Redis")
    dump = redis_raw("GET", "rtprelay:t:call:srtp-1")
    port, ka, kb, s_to_b, s_to_a = keys["srtp-1"]
    for k in (ka, kb, s_to_b["crypto"][0][2], s_to_a["crypto"][0][2]):
        raw = base64.b64decode(k)
        check(raw not in dump and k.encode() not in dump, "the record shows no media key (%s...)" % k[:6])

    # Bad records among node 1's calls: refused by the taker, counted and logged, never a
    # call built from them, and the good ones still adopted.
    good = dump.rstrip(b"\n")  # redis-cli --raw appends a newline
    bad = {"bad-corrupt": good[:20] + bytes(b ^ 0x5a for b in good[20:40]) + good[40:],
           "bad-truncated": good[:len(good) // 2],
           "bad-newer": good[:4] + bytes([0x7f]) + good[5:],  # a format version no node has
           "bad-moved": good,  # srtp-1's record under another call-id: the seal binds the name
           "bad-garbage": os.urandom(300)}
    for cid, value in bad.items():
        redis_set_bytes("rtprelay:t:call:" + cid, value)
        redis("SADD", "rtprelay:t:calls:n1", cid)

    media = Media(period=0.02)
    ab = Stream("A->B", 0x1001, host_socket(ns_a, ip_a, 30000), host_socket(ns_b, ip_b, 30000),
                (to_a["addr"], to_a["port"]))
    ba = Stream("B->A", 0x1002, ab.rx, ab.tx, (to_b["addr"], to_b["port"]))
    media.streams = [ab, ba]
    for s in media.streams:
        s.on = True
    media.start()
    # Every packet the relays send to B, for the (SSRC, index) check.
    cap_path = os.path.join(E["HA_TMP"], "to-b.pcap")
    cap = capture(ns_b, E["IF_B1"], cap_path, "udp and src host %s" % E["RELAY_B"])
    check(captures_running([cap_path]), "the capture is running")
    time.sleep(0.5)
    # srtp-1's A->B stream starts 50 packets before its sequence number wraps: it is under
    # ROC 1 well before the kill, and must still decrypt at B after it.
    port, ka, kb, s_to_b, s_to_a = keys["srtp-1"]
    srtp = [srtp_flow((ns_a, ip_a, port), (ns_b, ip_b, port), (s_to_a["addr"], s_to_a["port"]), ka,
                      s_to_b["crypto"][0][2], 0x2001, PACKETS, seq=65486)]
    port, ka, kb, s_to_b, s_to_a = keys["srtp-2"]
    srtp.append(srtp_flow((ns_b, ip_b, port), (ns_a, ip_a, port), (s_to_b["addr"], s_to_b["port"]), kb,
                          s_to_a["crypto"][0][2], 0x2002, PACKETS))
    # SRTCP A->B through srtcp-1: the relay's own SRTCP indices toward B, across the takeover.
    port, ka, kb, s_to_b, s_to_a = keys["srtcp-1"]
    srtcp_port_b = port + 1
    srtcp = srtp_flow((ns_a, ip_a, port + 1), (ns_b, ip_b, port + 1), (s_to_a["addr"], s_to_a["port"] + 1), ka,
                      s_to_b["crypto"][0][2], 0x3001, 60, 100, rtcp=True)
    time.sleep(KILL_AFTER)
    check(len(ab.received) > 50 and len(ba.received) > 50, "plain media flows through node 1 before the kill")
    killed_at = n1.kill9()
    ok = wait_for(lambda: n2.wait_log("calls adopted", 0.1), 5)
    check(ok, "node 2 adopts the calls")
    time.sleep(3.0)
    media.stop()
    for s in (ab, ba):
        g = s.longest_gap()
        after = [q for q in s.received if s.sent_at[q] > killed_at + 2.0]
        check(len(after) > 20, "%s: plain media flows again through node 2 (%d packets after)" % (s.name, len(after)))
        check(g < 2.0, "%s: gap %.0f ms (target 1000 ms)" % (s.name, g * 1000))
        print("GAP plain %s %.0f ms" % (s.name, g * 1000))
        check(s.bad == 0, "%s: nothing altered" % s.name)
    r = flow_report(srtcp)
    check(r["auth_failed"] == 0 and r["ok"] >= 45, "SRTCP: libsrtp2 at B accepts the relays' SRTCP across the takeover (%s)" % r)
    for flow in srtp:
        r = flow_report(flow)
        print("GAP srtp %s %.0f ms (%s)" % (r["from"], r["max_gap_ms"], r))
        check(r["auth_failed"] == 0 and r["bad_payload"] == 0,
              "SRTP: libsrtp2 accepts every packet, before and after the takeover (%s)" % r)
        check(r["ok"] >= PACKETS - 100 and r["max_gap_ms"] < 2000,
              "SRTP: %d/%d decrypted, gap %.0f ms" % (r["ok"], PACKETS, r["max_gap_ms"]))
    log2 = n2.log_text()
    for cid, reason in (("bad-corrupt", "seal"), ("bad-truncated", "seal"), ("bad-newer", "newer_version"),
                        ("bad-moved", "seal"), ("bad-garbage", "bad_magic")):
        check('msg="call record refused" call-id=%s reason=%s' % (cid, reason) in log2,
              "bad record %s refused (%s) and logged" % (cid, reason))
    check("calls=4 refused=0" in log2, "the four good calls adopted, nothing built from the bad ones")
    m = n2.metrics()
    expect = {"rtprelay_takeovers_total": 1, "rtprelay_calls_adopted_total": 4, "rtprelay_leases_held": 2,
              "rtprelay_addresses_served": 2, 'rtprelay_call_records_refused_total{reason="seal"}': 3,
              'rtprelay_call_records_refused_total{reason="newer_version"}': 1,
              'rtprelay_call_records_refused_total{reason="bad_magic"}': 1}
    for k, v in expect.items():
        check(m.get(k) == v, "node 2: %s = %s (%s)" % (k, v, m.get(k)))
    check(m.get("rtprelay_redis_writes_total", 0) >= 3 and m.get("rtprelay_redis_write_latency_seconds_count", 0) >= 3,
          "node 2 wrote the adopted calls (%s writes)" % m.get("rtprelay_redis_writes_total"))
    rules = open(os.path.join(os.path.dirname(__file__), "../../../deploy/prometheus/rtprelay-group-alerts.yml")).read()
    wanted = set(re.findall(r"\b(rtprelay_[a-z0-9_]+?)(?:_bucket)?\b", rules))
    have = {k.split("{")[0] for k in m} | {k.split("{")[0][:-len("_bucket")] for k in m if "_bucket{" in k}
    check(len(wanted) >= 8 and not (wanted - have),
          "every metric the group alert rules query is in node 2's scrape (missing: %s)" % sorted(wanted - have))
    cap.terminate()
    cap.wait(10)
    pkts = [p for p in pcapidx.udp_packets(cap_path) if p[3] == ip_b]
    rtp = pcapidx.srtp_indices([p[5] for p in pkts if p[4] == keys["srtp-1"][0]])
    rtcp = pcapidx.srtcp_indices([p[5] for p in pkts if p[4] == srtcp_port_b])
    check(len(rtp) > 200 and max(i for _, i in rtp) > 65536, "the capture holds srtp-1's packets, past the wrap "
          "(%d packets)" % len(rtp))
    check(not pcapidx.repeats(rtp), "no (SSRC, index) twice among the SRTP packets the relays sent to B")
    check(len(rtcp) >= 45 and not pcapidx.repeats(rtcp),
          "no (SSRC, index) twice among the %d SRTCP packets the relays sent to B (indices %s)" %
          (len(rtcp), sorted(i for _, i in rtcp)))
    m = n2.metrics()
    print("EXPOSED node 2: %s" % m.get("rtprelay_srtp_unreserved_indices_total"))
    check(holds("n2", E["RELAY_A"]), "node 2 holds the leases now")
    check(wait_for(lambda: redis("SCARD", "rtprelay:t:calls:n2") == "(integer) 4", 5), "the calls are node 2's in Redis")
    check(redis("SMEMBERS", "rtprelay:t:calls:n1").count("bad-") == 5, "and no longer node 1's (the bad ones stay)")

    # Later NG commands go to node 2 (as Kamailio's next node) and work there.
    q = n2.ng.request({"command": "query", "call-id": "srtp-1"})
    check(text(q.get("result")) == "ok", "query on node 2")
    for cid in ("plain-1", "srtp-1", "srtp-2", "srtcp-1"):
        d = n2.ng.request({"command": "delete", "call-id": cid})
        check(text(d.get("result")) == "ok", "delete %s on node 2" % cid)
    check(wait_for(lambda: redis("EXISTS", "rtprelay:t:call:srtp-1") == "(integer) 0", 5), "the records go with the delete")
    check(n2.stop() == 0, "node 2 stops cleanly")


run_checks(main)
