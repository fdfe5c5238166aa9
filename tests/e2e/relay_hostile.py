"""Hostile traffic against the real rtprelay (issue 7): replayed and reordered SRTP, a
forged-tag flood into a live SRTP call, and a bleed spray over every port of the relay's
(small) port ranges from foreign addresses. Genuine packets are made and checked by libsrtp2
(tests/support/srtp_peer); every verdict comes from the relay's own counters. Runs inside the
relay's namespace (run_e2e.sh) with A_PORTS/B_PORTS small ranges and learn-window=2."""

import json
import math
import os
import subprocess
import time

from rtptest import NgClient, check, new_key, ping, run_checks, socket_in_netns, text, wait_for
from rtptest import audio_sdp as sdp, parse_audio_sdp as parse

E = os.environ
PEER = os.path.join(E["BUILD_DIR"], "tests", "srtp_peer")
SUITE = "AES_CM_128_HMAC_SHA1_80"
LEARN_WINDOW = 2.0  # seconds: A_IFACE_OPTS/B_IFACE_OPTS in tests/e2e/meson.build
FOREIGN_A = "198.18.1.66"
FOREIGN_B = "198.18.2.66"
_port = [33000]


def next_port():
    _port[0] += 2
    return _port[0]


def stats(ng):
    return ng.request({"command": "statistics"})["statistics"]["dataplane"]


def drops_delta(before, after):
    d = {}
    for k, v in after["drops"].items():
        if v - before["drops"].get(k, 0):
            d[k] = v - before["drops"].get(k, 0)
    return d


class Call:
    """One call A <-> B through the relay; SRTP on both legs when srtp=True."""

    def __init__(self, ng, call_id, srtp=False, flags=()):
        self.ng, self.id, self.srtp = ng, call_id, srtp
        self.pa, self.pb = next_port(), next_port()
        self.ka, self.kb = (new_key(), new_key()) if srtp else (None, None)
        proto = "RTP/SAVP" if srtp else "RTP/AVP"
        offer = {"command": "offer", "call-id": call_id, "from-tag": "A-" + call_id, "direction": ["a", "b"],
                 "sdp": sdp(E["ADDR_A"], self.pa, proto, ["1 %s inline:%s" % (SUITE, self.ka)] if srtp else [])}
        if flags:
            offer["flags"] = list(flags)
        o = ng.request(offer)
        assert text(o.get("result")) == "ok", o
        self.to_b = parse(o["sdp"])
        a = ng.request({"command": "answer", "call-id": call_id, "from-tag": "A-" + call_id,
                        "to-tag": "B-" + call_id,
                        "sdp": sdp(E["ADDR_B"], self.pb, proto, ["1 %s inline:%s" % (SUITE, self.kb)] if srtp else [])})
        assert text(a.get("result")) == "ok", a
        self.to_a = parse(a["sdp"])
        # Relay ports: A talks to to_a (interface a), B to to_b (interface b).
        self.relay_a = self.to_a["port"]
        self.relay_b = self.to_b["port"]

    def keys(self, direction):
        """(send key, receive key) for A->B or B->A."""
        if not self.srtp:
            return None, None
        if direction == "ab":
            return self.ka, self.to_b["crypto"][0][2]
        return self.kb, self.to_a["crypto"][0][2]

    def stream(self, leg, rtcp=False):
        q = self.ng.request({"command": "query", "call-id": self.id})
        tag = ("A-" if leg == "a" else "B-") + self.id
        return q["tags"][tag]["medias"][0]["streams"][1 if rtcp else 0]

    def packets(self):
        """Packets relayed per (leg, rtcp) of this call, from the relay's stream counters."""
        return {(leg, r): self.stream(leg, r)["stats"]["packets"] for leg in "ab" for r in (False, True)}

    def endpoint(self, leg):
        e = self.stream(leg)["endpoint"]
        return "%s:%d" % (text(e["address"]), e["port"])

    def delete(self):
        self.ng.request({"command": "delete", "call-id": self.id})


def peer_args(key, suite=SUITE):
    return ["--key", key, "--suite", suite] if key else []


def start_recv(ns, addr, port, key, count, timeout_ms=8000):
    return subprocess.Popen([PEER, "recv", "--ns", ns, "--bind", "%s:%d" % (addr, port), "--count", str(count),
                             "--timeout-ms", str(timeout_ms)] + peer_args(key), stdout=subprocess.PIPE, text=True)


def finish_recv(p):
    out, _ = p.communicate(timeout=60)
    return json.loads(out.strip().splitlines()[-1])


def send(ns, addr, port, to, key, ssrc, count=10, seq=1000, interval_us=2000, order=None, wait=True):
    cmd = [PEER, "send", "--ns", ns, "--bind", "%s:%d" % (addr, port), "--to", "%s:%d" % to, "--count", str(count),
           "--interval-us", str(interval_us), "--ssrc", str(ssrc), "--seq", str(seq)] + peer_args(key)
    if order is not None:
        cmd += ["--order", ",".join(str(k) for k in order)]
    if wait:
        subprocess.run(cmd, check=True, timeout=60)
        return None
    return subprocess.Popen(cmd)


def flood(ns, bind, to, ssrc, seq, duration_ms):
    return subprocess.Popen([PEER, "flood", "--ns", ns, "--bind", bind, "--to", "%s:%d" % to, "--ssrc", str(ssrc),
                             "--seq", str(seq), "--duration-ms", str(duration_ms)], stdout=subprocess.PIPE, text=True)


def exchange(c, count=10, seq=1000):
    """count genuine packets each way on RTP (both legs latch); returns what B and A got."""
    ka, kra = c.keys("ab")
    kb, krb = c.keys("ba")
    rb = start_recv(E["NS_B"], E["ADDR_B"], c.pb, kra, count, 4000)
    time.sleep(0.2)
    send(E["NS_A"], E["ADDR_A"], c.pa, (c.to_a["addr"], c.relay_a), ka, 0xA000 + c.pa, count, seq)
    ra = start_recv(E["NS_A"], E["ADDR_A"], c.pa, krb, count, 4000)
    time.sleep(0.2)
    send(E["NS_B"], E["ADDR_B"], c.pb, (c.to_b["addr"], c.relay_b), kb, 0xB000 + c.pb, count, seq)
    # RTCP ports latch too (plain legs only: srtp_peer's RTCP needs its own keys path).
    return finish_recv(rb), finish_recv(ra)


def replay_test(ng):
    """Duplicates and packets older than the replay window are dropped; reordered ones
    within the window are accepted exactly once."""
    c = Call(ng, "replay", srtp=True)
    ka, kra = c.keys("ab")
    warm, _ = exchange(c, count=5)  # latches and resolves next hops, on an SSRC of its own
    check(warm["ok"] == 5, "replay: call up (%s)" % warm)
    base = c.packets()[("a", False)]
    # 0..9 pairwise swapped, three duplicates, 10..199 without 20..29, then 20..29 (fresh
    # but 170+ behind the highest: older than the 128-packet window).
    order = [1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 3, 7, 9]
    order += [k for k in range(10, 200) if not 20 <= k < 30]
    order += list(range(20, 30))
    before = stats(ng)
    r = start_recv(E["NS_B"], E["ADDR_B"], c.pb, kra, 190, 10000)
    time.sleep(0.2)
    send(E["NS_A"], E["ADDR_A"], c.pa, (c.to_a["addr"], c.relay_a), ka, 0x5151, seq=3000, interval_us=2000,
         order=order)
    got = finish_recv(r)
    time.sleep(0.3)
    after = stats(ng)
    rx = after["rx packets"] - before["rx packets"]
    check(rx >= len(order), "replay: the relay received all %d packets sent (%d)" % (len(order), rx))
    relayed = c.packets()[("a", False)] - base
    replays = after["drops"]["srtp_replay"] - before["drops"]["srtp_replay"]
    check(relayed == 190, "replay: 190 distinct in-window packets relayed exactly once (%d)" % relayed)
    check(replays == 13, "replay: 3 duplicates + 10 too-old packets dropped as srtp_replay (%d)" % replays)
    check(drops_delta(before, after) == {"srtp_replay": 13}, "replay: no other drop (%s)" % drops_delta(before, after))
    check(got["ok"] == 190 and got["auth_failed"] == 0 and got["bad_payload"] == 0,
          "replay: libsrtp2 at B decrypts the 190 re-encrypted packets (%s)" % got)
    c.delete()


def flood_test(ng):
    """Forged-tag floods into a live SRTP call: from a foreign address for 5 s, then from the
    caller's own address:port for 3 s."""
    c = Call(ng, "flood", srtp=True)
    ka, kra = c.keys("ab")
    relay_to = (c.to_a["addr"], c.relay_a)
    ssrc = 0xF100D
    for phase, bind, seconds in (("foreign", "%s:40000" % FOREIGN_A, 5),
                                 ("spoofed latched source", "%s:%d" % (E["ADDR_A"], c.pa), 3)):
        genuine = 50 * seconds + 25  # 20 ms cadence, covering the flood
        seq0 = 1000 if phase == "foreign" else 20000
        before_pkts = c.packets()[("a", False)]
        before = stats(ng)
        r = start_recv(E["NS_B"], E["ADDR_B"], c.pb, kra, genuine, 1000 * seconds + 8000)
        time.sleep(0.2)
        s = send(E["NS_A"], E["ADDR_A"], c.pa, relay_to, ka, ssrc, genuine, seq0, 20000, wait=False)
        time.sleep(0.3)  # the call is up and latched before the flood starts
        f = flood(E["NS_A"], bind, relay_to, ssrc, seq0 + 20, 1000 * seconds)
        fl = json.loads(f.communicate(timeout=60)[0].strip().splitlines()[-1])
        s.wait(timeout=60)
        got = finish_recv(r)
        time.sleep(0.3)
        after = stats(ng)
        relayed = c.packets()[("a", False)] - before_pkts
        rx = after["rx packets"] - before["rx packets"]
        offered = fl["sent"] + genuine
        # The part of everything sent that never reached the relay's counters (kernel/veth/
        # af_packet ring overflow under the flood): the flood's share of loss.
        lost_share = max(0.0, 1.0 - float(rx) / offered)
        d = drops_delta(before, after)
        print("     %s flood: %d forged packets in %.2f s = %.0f packets/s; relay received %d (%.0f/s); "
              "genuine relayed %d/%d; drops %s" % (phase, fl["sent"], fl["seconds"], fl["pps"], rx,
                                                  rx / max(fl["seconds"], 0.001), relayed, genuine, d))
        check(fl["pps"] > 1000, "%s flood reached %.0f packets/s" % (phase, fl["pps"]))
        check(got["bad_payload"] == 0 and got["auth_failed"] == 0,
              "%s flood: no forged packet reached B (%s)" % (phase, got))
        check(got["ok"] == relayed, "%s flood: B got every genuine packet the relay relayed (%d/%d)" %
              (phase, got["ok"], relayed))
        check(set(d) <= {"srtp_auth_failed", "srtp_auth_capped", "srtp_replay"},
              "%s flood: only forgery drop reasons moved (%s)" % (phase, d))
        # Every genuine packet the relay received was relayed: nothing genuine is in the
        # forgery drop reasons. Genuine loss stays within the flood's share of what was lost
        # before the relay's counters saw it.
        # (Random losses: the expected share plus three standard deviations of a binomial.)
        allowed = lost_share * genuine + 3 * math.sqrt(genuine * lost_share * (1 - lost_share)) + 2
        check(genuine - relayed <= allowed,
              "%s flood: genuine loss %d/%d within the flood's share (%.1f%% of all packets lost before the relay)"
              % (phase, genuine - relayed, genuine, 100 * lost_share))
        check(c.endpoint("a") == "%s:%d" % (E["ADDR_A"], c.pa), "%s flood: nothing learned (%s)" % (phase, c.endpoint("a")))
        if phase == "foreign":
            hmacs = d.get("srtp_auth_failed", 0)
            limit = 32 + 100 * (fl["seconds"] + 1) + 10
            check(hmacs <= limit, "foreign flood: HMACs on forged packets capped: %d <= %d (%d more dropped unread)"
                  % (hmacs, limit, d.get("srtp_auth_capped", 0)))
        else:
            # From the latched source with plausible indices a forgery cannot be told from the
            # stream without its tag: those are authenticated (and fail); once its indices run
            # far ahead they are doubtful and capped. Either way no genuine packet is dropped.
            check(d.get("srtp_auth_failed", 0) > 0, "spoofed flood: %d forged packets authenticated and refused, "
                  "%d capped" % (d.get("srtp_auth_failed", 0), d.get("srtp_auth_capped", 0)))
    c.delete()


def spray(ns, src_addr, dst_addr, ports, per_port=3):
    s = socket_in_netns(ns)
    s.bind((src_addr, 45000))
    payload = bytes([0x80, 0x00, 0x12, 0x34, 0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef]) + bytes(160)
    for port in ports:
        for _ in range(per_port):
            s.sendto(payload, (dst_addr, port))
    s.close()


def port_range(env_name):
    lo, hi = (int(x) for x in E[env_name].split("-"))
    return range(lo, hi + 1)


def spray_test(ng):
    """Packets to every port of both ranges from foreign addresses: nothing forwarded on SRTP
    legs, nothing to latched plain legs after their window, nothing ever to strict-source
    legs, and nothing to a plain call still inside its learning window either: three copies of
    one packet per port are no sequence, so no stranger passes probation (latch.h)."""
    s1 = Call(ng, "spray-srtp", srtp=True)
    p1 = Call(ng, "spray-plain")
    p2 = Call(ng, "spray-strict", flags=["strict-source"])
    p4 = Call(ng, "spray-silent")  # answered, never any media
    for c in (s1, p1, p2):
        to_b, to_a = exchange(c)
        check(to_b["ok"] == 10 and to_a["ok"] == 10, "%s: genuine media both ways before the spray (%s %s)"
              % (c.id, to_b, to_a))
    time.sleep(LEARN_WINDOW + 0.5)
    p3 = Call(ng, "spray-fresh")  # its learning window is open during the spray
    calls = (s1, p1, p2, p3, p4)
    before = {c.id: c.packets() for c in calls}
    st0 = stats(ng)
    spray(E["NS_A"], FOREIGN_A, E["RELAY_A"], port_range("A_PORTS"))
    spray(E["NS_B"], FOREIGN_B, E["RELAY_B"], port_range("B_PORTS"))
    time.sleep(0.5)
    st1 = stats(ng)
    after = {c.id: c.packets() for c in calls}
    moved = {c.id: {k: after[c.id][k] - before[c.id][k] for k in after[c.id] if after[c.id][k] != before[c.id][k]}
             for c in calls}
    for c in calls:
        check(not moved[c.id], "spray: nothing forwarded for %s (%s)" % (c.id, moved[c.id]))
    relayed = st1["relayed rtp"] + st1["relayed rtcp"] - st0["relayed rtp"] - st0["relayed rtcp"]
    check(relayed == 0, "spray: nothing relayed (%d)" % relayed)
    check(p3.endpoint("a") == "%s:%d" % (E["ADDR_A"], p3.pa) and p3.endpoint("b") == "%s:%d" % (E["ADDR_B"], p3.pb),
          "spray: the fresh plain call, inside its window, latched no stranger (%s, %s)"
          % (p3.endpoint("a"), p3.endpoint("b")))
    for c in (s1, p1, p2):
        check(c.endpoint("a") == "%s:%d" % (E["ADDR_A"], c.pa) and c.endpoint("b") == "%s:%d" % (E["ADDR_B"], c.pb),
              "spray: %s still latched to its peers" % c.id)
    d = drops_delta(st0, st1)
    print("     spray drops: %s" % d)
    check(d.get("strict_source", 0) >= 4 * 3, "spray: strict-source legs dropped strangers (%d)" % d.get("strict_source", 0))
    check(d.get("unlatched_source", 0) >= 2 * 4 * 3,
          "spray: plain legs past their window dropped strangers (%d)" % d.get("unlatched_source", 0))
    check(d.get("latch_probation", 0) >= 2 * 3,
          "spray: the fresh call's RTP ports kept the strangers on probation (%d)" % d.get("latch_probation", 0))
    check(d.get("srtp_auth_failed", 0) + d.get("srtp_auth_capped", 0) + d.get("srtp_malformed", 0) >= 4 * 3,
          "spray: SRTP legs dropped the sprayed packets unauthenticated")
    # The genuine calls still work after the spray.
    for c in (s1, p2):
        to_b, to_a = exchange(c, seq=2000)
        check(to_b["ok"] == 10 and to_a["ok"] == 10, "%s: genuine media still flows after the spray" % c.id)
    for c in calls:
        c.delete()


def move_test(ng):
    """A phone changing networks: its authenticated SRTP from a new address:port moves the
    latch, and the other side's media follows it there."""
    c = Call(ng, "move", srtp=True)
    exchange(c, count=5)
    ka, kra = c.keys("ab")
    kb, krb = c.keys("ba")
    new_port = c.pa + 1000
    r = start_recv(E["NS_B"], E["ADDR_B"], c.pb, kra, 10, 4000)
    time.sleep(0.2)
    send(E["NS_A"], E["ADDR_A"], new_port, (c.to_a["addr"], c.relay_a), ka, 0xA000 + c.pa, 10, 2000)
    got = finish_recv(r)
    check(got["ok"] == 10, "move: SRTP from the new address is relayed (%s)" % got)
    check(c.endpoint("a") == "%s:%d" % (E["ADDR_A"], new_port), "move: the leg re-latched to %s" % c.endpoint("a"))
    r = start_recv(E["NS_A"], E["ADDR_A"], new_port, krb, 10, 4000)
    time.sleep(0.2)
    send(E["NS_B"], E["ADDR_B"], c.pb, (c.to_b["addr"], c.relay_b), kb, 0xB000 + c.pb, 10, 2000)
    got = finish_recv(r)
    check(got["ok"] == 10, "move: media to the phone follows it to its new address (%s)" % got)
    c.delete()


def main():
    ng = NgClient(port=int(E["NG_PORT"]))
    check(wait_for(lambda: ping(ng), 20), "relay answers ping")
    subprocess.run(["ip", "-n", E["NS_A"], "addr", "add", FOREIGN_A + "/24", "dev", E["IF_A1"]], check=True)
    subprocess.run(["ip", "-n", E["NS_B"], "addr", "add", FOREIGN_B + "/24", "dev", E["IF_B1"]], check=True)
    replay_test(ng)
    move_test(ng)
    flood_test(ng)
    spray_test(ng)
    s = stats(ng)
    check(s["dropped"] == sum(s["drops"].values()), "dropped = sum of drops by reason")
    check(s["rx packets"] == s["relayed rtp"] + s["relayed rtcp"] + s["dropped"] + s["arp"] + s["icmp echo replies"],
          "received = relayed + dropped + ARP + ICMP (%d = %d + %d + %d + %d + %d)" % (
              s["rx packets"], s["relayed rtp"], s["relayed rtcp"], s["dropped"], s["arp"], s["icmp echo replies"]))


if __name__ == "__main__":
    run_checks(main)
