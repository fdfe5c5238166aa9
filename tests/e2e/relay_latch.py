"""Latching against a stranger on the same segment as a real endpoint (issue 12): an
independent attacker host on each side's segment (its own namespace on a bridge with host A,
resp. host B: run_e2e.sh with E2E_ATTACKERS=1) sprays every relay port of its side.

1. A plain call streams both ways; a re-INVITE with the same SDP reopens the learning window;
   the attackers spray every port at 0.1, 0.5, 1, 2 and 2.9 s after it with a perfect RTP
   stream per port (probation-worthy: one SSRC, sequential numbers). The call never moves,
   the attackers receive nothing, no attacker packet reaches a peer, and the relay's counters
   show every attacker packet dropped by a named reason.
2. A new call: the attackers spray unrelated packets before the real peers speak. No latch
   goes to them; the real peers' media flows.
3. NAT: a peer sends from a port its SDP did not name. It latches after probation (3 packets
   dropped as latch_probation) and media flows both ways through its NAT binding.
4. That peer moves (re-INVITE naming its new port): a plain_move, counted and logged with the
   call-id, the leg, the old and the new source.

The relay runs with the default 3-s learning window and small port ranges (meson.build)."""

import os
import random
import socket
import struct
import time

from mediaflow import Media, Stream, host_socket
from rtptest import NgClient, check, ping, run_checks, socket_in_netns, text, wait_for
from rtptest import audio_sdp as sdp, parse_audio_sdp as parse

E = os.environ
ATTACK_PORT = 45000
NAMED = {"unlatched_source", "latch_probation", "unknown_port"}  # what attacker packets may be dropped as


def port_range(env_name):
    lo, hi = (int(x) for x in E[env_name].split("-"))
    return range(lo, hi + 1)


def stats(ng):
    return ng.request({"command": "statistics"})["statistics"]["dataplane"]


def drops_delta(before, after):
    return {k: v - before["drops"].get(k, 0) for k, v in after["drops"].items() if v != before["drops"].get(k, 0)}


def latch_delta(before, after):
    out = {}
    for iface, kinds in after["latch changes"].items():
        for kind, v in kinds.items():
            d = v - before["latch changes"][iface][kind]
            if d:
                out["%s/%s" % (text(iface), text(kind))] = d
    return out


class Call:
    """A plain call A <-> B through the relay; `a_port`/`b_port` are the ports their SDPs name."""

    def __init__(self, ng, call_id, a_port, b_port):
        self.ng, self.id, self.a_port, self.b_port = ng, call_id, a_port, b_port
        self.offer_answer()
        self.relay_a = self.to_a["port"]
        self.relay_b = self.to_b["port"]

    def offer_answer(self, a_port=None):
        """Offer from A, answer from B: the initial INVITE, or a re-INVITE (same SDP unless A names a new port)."""
        if a_port is not None:
            self.a_port = a_port
        o = self.ng.request({"command": "offer", "call-id": self.id, "from-tag": "A-" + self.id,
                             "direction": ["a", "b"], "sdp": sdp(E["ADDR_A"], self.a_port)})
        assert text(o.get("result")) == "ok", o
        self.to_b = parse(o["sdp"])
        a = self.ng.request({"command": "answer", "call-id": self.id, "from-tag": "A-" + self.id,
                             "to-tag": "B-" + self.id, "sdp": sdp(E["ADDR_B"], self.b_port)})
        assert text(a.get("result")) == "ok", a
        self.to_a = parse(a["sdp"])

    def stream(self, leg, rtcp=False):
        q = self.ng.request({"command": "query", "call-id": self.id})
        tag = ("A-" if leg == "a" else "B-") + self.id
        return q["tags"][tag]["medias"][0]["streams"][1 if rtcp else 0]

    def endpoint(self, leg):
        e = self.stream(leg)["endpoint"]
        return "%s:%d" % (text(e["address"]), e["port"])

    def delete(self):
        self.ng.request({"command": "delete", "call-id": self.id})


class Attacker:
    """The stranger on one side's segment: one socket, in its own namespace."""

    def __init__(self, ns, addr, relay_addr, ports):
        self.sock = socket_in_netns(ns)
        self.sock.bind((addr, ATTACK_PORT))
        self.sock.settimeout(0.2)
        self.relay_addr, self.ports = relay_addr, list(ports)
        self.sent = 0
        self.seq = random.randrange(1 << 16)

    def spray_streams(self, per_port=6):
        """A perfect RTP stream to every port: one SSRC, sequential numbers, 20-ms timestamps."""
        for port in self.ports:
            ssrc = random.getrandbits(32)
            for _ in range(per_port):
                self.seq = (self.seq + 1) & 0xFFFF
                pkt = struct.pack("!BBHII", 0x80, 0, self.seq, self.seq * 160, ssrc) + b"\xd5" * 160
                self.sock.sendto(pkt, (self.relay_addr, port))
                self.sent += 1

    def spray_unrelated(self, per_port=3):
        """Unrelated RTP-looking packets (random SSRC and sequence number each) to every port."""
        for port in self.ports:
            for _ in range(per_port):
                pkt = struct.pack("!BBHII", 0x80, 0, random.getrandbits(16), 0, random.getrandbits(32)) + bytes(160)
                self.sock.sendto(pkt, (self.relay_addr, port))
                self.sent += 1

    def received(self):
        """Datagrams that reached the attacker (anything the relay sent it)."""
        n = 0
        while True:
            try:
                self.sock.recvfrom(4096)
                n += 1
            except socket.timeout:
                return n


def streams_for(c, a_sock, b_sock):
    """Media A->B (A sends to the relay's a-side port, B receives) and B->A."""
    ab = Stream("A->B " + c.id, 0xA000 + c.a_port, a_sock, b_sock, (c.to_a["addr"], c.relay_a))
    ba = Stream("B->A " + c.id, 0xB000 + c.b_port, b_sock, a_sock, (c.to_b["addr"], c.relay_b))
    return ab, ba


def check_media(label, s, min_share=0.8):
    got = len(s.received)
    check(s.bad == 0, "%s: no foreign or altered packet reached the peer (%d)" % (label, s.bad))
    check(got >= min_share * len(s.sent), "%s: media flowed, %d of %d packets arrived" % (label, got, len(s.sent)))


def reinvite_test(ng, att_a, att_b):
    c = Call(ng, "reinvite", 23100, 24100)
    a_sock = host_socket(E["NS_A"], E["ADDR_A"], c.a_port)
    b_sock = host_socket(E["NS_B"], E["ADDR_B"], c.b_port)
    ab, ba = streams_for(c, a_sock, b_sock)
    m = Media(period=0.02)
    m.streams = [ab, ba]
    ab.on = ba.on = True
    m.start()
    check(wait_for(lambda: len(ab.received) > 10 and len(ba.received) > 10, 5), "reinvite: media flows both ways")
    before = stats(ng)
    sent0 = (att_a.sent, att_b.sent)
    ab_before, ba_before = len(ab.received), len(ba.received)
    c.offer_answer()  # the re-INVITE: same SDP, a new learning window on every port of the call
    t_re = time.monotonic()
    for at in (0.1, 0.5, 1.0, 2.0, 2.9):
        time.sleep(max(0.0, t_re + at - time.monotonic()))
        att_a.spray_streams()
        att_b.spray_streams()
    sprayed_by = time.monotonic() - t_re
    time.sleep(0.5)
    m.stop()
    time.sleep(0.3)
    after = stats(ng)
    sprayed = att_a.sent - sent0[0] + att_b.sent - sent0[1]
    d = drops_delta(before, after)
    print("     re-INVITE spray: %d attacker packets (last at %.2f s after the re-INVITE); drops %s; latch changes %s"
          % (sprayed, sprayed_by, d, latch_delta(before, after)))
    check(sprayed_by < 3.0, "reinvite: every spray fell inside the 3-s learning window (%.2f s)" % sprayed_by)
    check(c.endpoint("a") == "%s:%d" % (E["ADDR_A"], c.a_port) and c.endpoint("b") == "%s:%d" % (E["ADDR_B"], c.b_port),
          "reinvite: the call never moved (%s, %s)" % (c.endpoint("a"), c.endpoint("b")))
    check(att_a.received() == 0 and att_b.received() == 0, "reinvite: the attackers received nothing")
    check(set(d) <= NAMED and sum(d.values()) == sprayed,
          "reinvite: every attacker packet (%d) dropped by a named reason (%s)" % (sprayed, d))
    check(not latch_delta(before, after), "reinvite: no latch changed (%s)" % latch_delta(before, after))
    check(len(ab.received) - ab_before > 100 and len(ba.received) - ba_before > 100,
          "reinvite: the peers' media kept flowing while the attackers sprayed (%d, %d packets)"
          % (len(ab.received) - ab_before, len(ba.received) - ba_before))
    check_media("reinvite A->B", ab)
    check_media("reinvite B->A", ba)
    c.delete()
    a_sock.close()
    b_sock.close()


def new_call_test(ng, att_a, att_b):
    c = Call(ng, "fresh", 23200, 24200)
    before = stats(ng)
    sent0 = (att_a.sent, att_b.sent)
    # Before either peer speaks, inside the new call's window: unrelated packets to every port.
    for _ in range(2):
        att_a.spray_unrelated()
        att_b.spray_unrelated()
        time.sleep(0.2)
    sprayed = att_a.sent - sent0[0] + att_b.sent - sent0[1]
    time.sleep(0.2)
    mid = stats(ng)
    d = drops_delta(before, mid)
    print("     new-call spray: %d attacker packets; drops %s" % (sprayed, d))
    check(set(d) <= NAMED and sum(d.values()) == sprayed,
          "new call: every attacker packet (%d) dropped by a named reason (%s)" % (sprayed, d))
    check(not latch_delta(before, mid), "new call: no latch to the attackers (%s)" % latch_delta(before, mid))
    a_sock = host_socket(E["NS_A"], E["ADDR_A"], c.a_port)
    b_sock = host_socket(E["NS_B"], E["ADDR_B"], c.b_port)
    ab, ba = streams_for(c, a_sock, b_sock)
    m = Media(period=0.02)
    m.streams = [ab, ba]
    ab.on = ba.on = True
    m.start()
    time.sleep(1.5)
    m.stop()
    after = stats(ng)
    check(c.endpoint("a") == "%s:%d" % (E["ADDR_A"], c.a_port) and c.endpoint("b") == "%s:%d" % (E["ADDR_B"], c.b_port),
          "new call: the legs latched to the real peers (%s, %s)" % (c.endpoint("a"), c.endpoint("b")))
    check(latch_delta(mid, after) == {"a/first": 1, "b/first": 1},
          "new call: one first latch per leg, no move (%s)" % latch_delta(mid, after))
    check(att_a.received() == 0 and att_b.received() == 0, "new call: the attackers received nothing")
    check_media("new call A->B", ab)
    check_media("new call B->A", ba)
    c.delete()
    a_sock.close()
    b_sock.close()


def nat_test(ng):
    c = Call(ng, "nat", 23300, 24300)
    nat_port = c.a_port + 500  # the NAT's binding: not what A's SDP says
    a_sock = host_socket(E["NS_A"], E["ADDR_A"], nat_port)
    b_sock = host_socket(E["NS_B"], E["ADDR_B"], c.b_port)
    ab, ba = streams_for(c, a_sock, b_sock)
    before = stats(ng)
    m = Media(period=0.02)
    m.streams = [ab, ba]
    ab.on = ba.on = True
    m.start()
    time.sleep(1.5)
    after = stats(ng)
    d = drops_delta(before, after)
    print("     NAT: drops %s; latch changes %s" % (d, latch_delta(before, after)))
    check(c.endpoint("a") == "%s:%d" % (E["ADDR_A"], nat_port), "NAT: leg a latched the NAT binding (%s)" % c.endpoint("a"))
    check(d.get("latch_probation", 0) == 3, "NAT: the binding's first 3 packets waited out probation (%s)" % d)
    check(latch_delta(before, after) == {"a/first": 1, "b/first": 1}, "NAT: first latches only (%s)" % latch_delta(before, after))
    # B's media reaches A at its NAT binding (where A sends from), A's reaches B after probation.
    check_media("NAT A->B", ab)
    check_media("NAT B->A", ba)

    # 4. A moves: its old binding stops, a re-INVITE names the new port, media comes from it.
    ab.on = False
    time.sleep(0.1)
    moved_port = c.a_port + 700
    a2 = host_socket(E["NS_A"], E["ADDR_A"], moved_port)
    c.offer_answer(a_port=moved_port)
    before = stats(ng)
    for k in range(20):
        a2.sendto(struct.pack("!BBHII", 0x80, 0, k, k * 160, 0xA0A0) + bytes(160), (c.to_a["addr"], c.relay_a))
        time.sleep(0.02)
    m.stop()
    after = stats(ng)
    check(c.endpoint("a") == "%s:%d" % (E["ADDR_A"], moved_port), "move: leg a follows its new SDP port (%s)" % c.endpoint("a"))
    check(latch_delta(before, after) == {"a/plain_move": 1}, "move: counted as a plain_move (%s)" % latch_delta(before, after))
    want = 'msg="latch moved" call-id=nat leg=A-nat kind=plain_move local=%s:%d old=%s:%d new=%s:%d' % (
        E["RELAY_A"], c.relay_a, E["ADDR_A"], nat_port, E["ADDR_A"], moved_port)
    check(wait_for(lambda: want in open(E["RELAY_LOG"]).read(), 3), "move: logged as '%s'" % want)
    c.delete()
    for s in (a_sock, b_sock, a2):
        s.close()


def main():
    ng = NgClient(port=int(E["NG_PORT"]))
    check(wait_for(lambda: ping(ng), 20), "relay answers ping")
    att_a = Attacker(E["NS_XA"], E["ATT_A"], E["RELAY_A"], port_range("A_PORTS"))
    att_b = Attacker(E["NS_XB"], E["ATT_B"], E["RELAY_B"], port_range("B_PORTS"))
    reinvite_test(ng, att_a, att_b)
    new_call_test(ng, att_a, att_b)
    nat_test(ng)
    s = stats(ng)
    check(s["rx packets"] == s["relayed rtp"] + s["relayed rtcp"] + s["dropped"] + s["arp"] + s["icmp echo replies"],
          "received = relayed + dropped + ARP + ICMP (%d = %d + %d + %d + %d + %d)" % (
              s["rx packets"], s["relayed rtp"], s["relayed rtcp"], s["dropped"], s["arp"], s["icmp echo replies"]))


if __name__ == "__main__":
    run_checks(main)
