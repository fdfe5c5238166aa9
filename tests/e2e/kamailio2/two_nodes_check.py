"""Checks for two_nodes_test.sh, run in the relay namespace (NG on its loopback).

    two_nodes_check.py media LABEL UAC_LOG UAS_LOG RTP_PORT_A RTP_PORT_B NODE OTHER
        While a SIPp call is up: the SDP each side got names node NODE's media addresses
        (NODE/OTHER are "1" or "2"); RTP flows both ways through that node; NODE knows the
        call and counted its packets, OTHER does not know it.
    two_nodes_check.py stats NODE KEY=VALUE...
        Node NODE's NG statistics: each KEY (a path such as `sessions`, `calls created`,
        `refused/capacity`, `dataplane/relayed rtp`) equals VALUE, or is at least N for
        VALUE `>=N`.
    two_nodes_check.py ngtrace SNIFF.jsonl CALL1 CALL2
        What Kamailio's rtpengine module sent where (the capture of ng_sniff.py): call 1
        entirely on node 1; call 2 offered to node 1 first with `supports: ["load limit"]`,
        refused with `result: load limit`, offered again (same call-id) to node 2, and its
        answer, query and delete only to node 2; call 1's delete after call 2's offer.

Environment: NS_A NS_B ADDR_A ADDR_B, NODE1_A NODE1_B NODE1_NG, NODE2_A NODE2_B NODE2_NG
(media addresses on the caller's and callee's links, NG ports), PYTHONPATH with rtptest.
The checks' own NG requests come from 127.0.0.5, so the capture tells them from Kamailio's
(127.0.0.1)."""

import json
import os
import sys
import time

from rtptest import NgClient, rtp_packet, text, wait_for
from rtptest import drain_matching as drain, host_socket, sipp_logged as logged

E = os.environ
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


OWN_SOURCE = "127.0.0.5"


def ng(port):
    c = NgClient(port=port)
    c.sock.bind((OWN_SOURCE, 0))
    return c


def node(n):
    return {"a": E["NODE%s_A" % n], "b": E["NODE%s_B" % n], "ng": int(E["NODE%s_NG" % n])}




def packets_per_tag(q):
    per_tag = {}
    for name, t in q.get("tags", {}).items():
        per_tag[name] = sum(s.get("stats", {}).get("packets", 0)
                            for m in t.get("medias", []) for s in m.get("streams", []))
    return per_tag


def media(label, uac_log, uas_log, port_a, port_b, n, other):
    port_a, port_b = int(port_a), int(port_b)
    mine, theirs = node(n), node(other)
    if not wait_for(lambda: logged(uas_log, "OFFER-MEDIA") and logged(uac_log, "ANSWER-MEDIA"), 30, step=0.1):
        check(False, "%s: both SIPp sides logged the SDP they received" % label)
        return
    call_id, b_addr, b_port = logged(uas_log, "OFFER-MEDIA")
    _, a_addr, a_port = logged(uac_log, "ANSWER-MEDIA")
    print("   %s (%s): callee got %s:%d, caller got %s:%d" % (label, call_id, b_addr, b_port, a_addr, a_port))
    check(b_addr == mine["b"] and a_addr == mine["a"],
          "%s: both SDPs name node %s's media addresses (%s to the callee, %s to the caller)"
          % (label, n, b_addr, a_addr))

    a = host_socket(E["NS_A"], E["ADDR_A"], port_a)
    b = host_socket(E["NS_B"], E["ADDR_B"], port_b)
    count = 50
    ssrc = 0xA000 + port_a
    to_b = [rtp_packet(ssrc, 1000 + i, 160 * i, bytes([i]) * 160) for i in range(count)]
    to_a = [rtp_packet(ssrc + 1, 5000 + i, 160 * i, bytes([255 - i]) * 160) for i in range(count)]
    for i in range(count):
        a.sendto(to_b[i], (a_addr, a_port))
        b.sendto(to_a[i], (b_addr, b_port))
        time.sleep(0.01)
    got_b = drain(b, (b_addr, b_port), set(to_b))
    got_a = drain(a, (a_addr, a_port), set(to_a))
    a.close()
    b.close()
    # The first packet of a direction may wait for ARP at the relay: allow a little loss.
    check(got_b >= count - 3 and got_a >= count - 3,
          "%s: RTP both ways through node %s (caller->callee %d/%d, callee->caller %d/%d)"
          % (label, n, got_b, count, got_a, count))

    q = ng(mine["ng"]).request({"command": "query", "call-id": call_id})
    per_tag = packets_per_tag(q)
    check(text(q.get("result")) == "ok" and len(per_tag) == 2 and all(v >= count - 3 for v in per_tag.values()),
          "%s: node %s has the call and counted RTP from both sides (%s)" % (label, n, per_tag))
    q = ng(theirs["ng"]).request({"command": "query", "call-id": call_id})
    check(text(q.get("result")) == "error", "%s: node %s does not know the call (%s)"
          % (label, other, text(q.get("error-reason"))))


def lookup(stats, path):
    v = stats
    for part in path.split("/"):
        v = v[part]
    return v


def stats(n, *expect):
    st = ng(node(n)["ng"]).request({"command": "statistics"})["statistics"]
    for e in expect:
        at_least = ">=" in e
        key, want = e.split(">=" if at_least else "=", 1)
        got = lookup(st, key)
        ok = got >= int(want) if at_least else got == int(want)
        want = (">=" if at_least else "") + want
        check(ok, "node %s statistics: %s = %s (want %s)" % (n, key, got, want))
    dp = st["dataplane"]
    drops = {k: v for k, v in dp["drops"].items() if v}
    print("   node %s: sessions %d, created %d, deleted %d, refused %s; data plane rx %d, relayed rtp %d, drops %s"
          % (n, st["sessions"], st["calls created"], st["calls deleted"], st["refused"], dp["rx packets"],
             dp["relayed rtp"], drops))


def ngtrace(path, call1, call2):
    p1, p2 = node(1)["ng"], node(2)["ng"]
    recs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("{"):
                recs.append(json.loads(line))
    replies = {(r["cookie"], r["from"]): r["msg"] for r in recs if r["from"] in (p1, p2)}
    # Requests with the reply each got (matched by cookie and node).
    reqs = []
    for r in recs:
        if (r["to"] in (p1, p2) and r["src"] != OWN_SOURCE and isinstance(r["msg"], dict)
                and "command" in r["msg"]):
            reqs.append(dict(r["msg"], node=1 if r["to"] == p1 else 2, t=r["t"],
                             reply=replies.get((r["cookie"], r["to"]), {})))
    for r in reqs:
        if r.get("call-id") in (call1, call2):
            print("   %6.3f s  %-6s %-9s -> node %d: %s%s" % (
                r["t"], "call 1" if r["call-id"] == call1 else "call 2", r["command"], r["node"],
                r["reply"].get("result"), " (%s)" % r["reply"]["message"] if "message" in r["reply"] else ""))
    c1 = [r for r in reqs if r.get("call-id") == call1]
    c2 = [r for r in reqs if r.get("call-id") == call2]
    offers = [r for r in reqs if r["command"] == "offer"]
    check(offers and all("load limit" in (r.get("supports") or []) for r in offers),
          "every offer from Kamailio carries supports: [\"load limit\"] (%d offers)" % len(offers))
    check(c1 and all(r["node"] == 1 for r in c1), "call 1: every request (%s) went to node 1"
          % ", ".join(r["command"] for r in c1))
    c2_offers = [r for r in c2 if r["command"] == "offer"]
    check(len(c2_offers) == 2 and c2_offers[0]["node"] == 1 and c2_offers[0]["reply"].get("result") == "load limit"
          and c2_offers[1]["node"] == 2 and c2_offers[1]["reply"].get("result") == "ok",
          "call 2: offer to node 1 -> load limit, then the same offer to node 2 -> ok (%s)"
          % ["node %d: %s" % (r["node"], r["reply"].get("result")) for r in c2_offers])
    if len(c2_offers) == 2:
        check(c2_offers[0]["from-tag"] == c2_offers[1]["from-tag"], "call 2: the retried offer is the same request "
              "(call-id and from-tag)")
        check(c2_offers[1]["t"] - c2_offers[0]["t"] < 0.5, "call 2: retried at once (%.3f s after the refusal)"
              % (c2_offers[1]["t"] - c2_offers[0]["t"]))
    rest = [r for r in c2 if r["command"] != "offer"]
    check({r["command"] for r in rest} >= {"answer", "delete"} and all(r["node"] == 2 for r in rest),
          "call 2: answer, query and delete only to node 2 (%s)"
          % ", ".join("%s->%d" % (r["command"], r["node"]) for r in rest))
    d1 = [r["t"] for r in c1 if r["command"] == "delete"]
    check(d1 and c2_offers and d1[0] > c2_offers[0]["t"], "call 1 was still up on node 1 when call 2 was offered")


if __name__ == "__main__":
    {"media": media, "stats": stats, "ngtrace": ngtrace}[sys.argv[1]](*sys.argv[2:])
    if failures:
        print("%d check(s) failed" % len(failures))
        sys.exit(1)
