"""End to end through the real rtprelay on DPDK net_af_packet ports: NG offer/answer,
RTP and RTCP both ways between two hosts in network namespaces, delete, and bad input.
Runs inside the relay's namespace (run_e2e.sh); hosts' sockets are opened in theirs."""

import os
import socket
import struct
import time

from rtptest import (check, dataplane, host_socket, media_of, NgClient, ping, relay_stream, rtcp_sr, rtp_packet,
                     run_checks, sdp_for, text, wait_for)

E = os.environ


def ports_used(ng, iface):
    for i in ng.request({"command": "statistics"})["statistics"]["interfaces"]:
        if text(i["name"]) == iface:
            return sum(a["ports used"] for a in i["addresses"])
    return None


def main():
    ng = NgClient(port=int(E["NG_PORT"]))
    check(wait_for(lambda: ping(ng), 20), "relay answers NG ping with pong")

    a_rtp = host_socket(E["NS_A"], E["ADDR_A"], 30000, timeout=1.0)
    a_rtcp = host_socket(E["NS_A"], E["ADDR_A"], 30001, timeout=1.0)
    b_rtp = host_socket(E["NS_B"], E["ADDR_B"], 40000, timeout=1.0)
    b_rtcp = host_socket(E["NS_B"], E["ADDR_B"], 40001, timeout=1.0)

    offer = ng.request({"command": "offer", "call-id": "e2e-1", "from-tag": "alice",
                        "sdp": sdp_for(E["ADDR_A"], 30000), "direction": ["a", "b"],
                        "replace": ["origin"]})
    check(text(offer.get("result")) == "ok", "offer ok")
    b_addr, b_port, b_rtcp_port = media_of(offer["sdp"])
    check(b_addr == E["RELAY_B"], "offer SDP for B carries the relay's B address (%s)" % b_addr)
    check(b_port % 2 == 0 and 10000 <= b_port <= 19998, "offer SDP port %d is even and in range" % b_port)
    check("IN IP4 %s" % E["ADDR_A"] not in text(offer["sdp"]), "A's address does not leak to B (replace origin)")

    answer = ng.request({"command": "answer", "call-id": "e2e-1", "from-tag": "alice", "to-tag": "bob",
                         "sdp": sdp_for(E["ADDR_B"], 40000)})
    check(text(answer.get("result")) == "ok", "answer ok")
    a_addr, a_port, a_rtcp_port = media_of(answer["sdp"])
    check(a_addr == E["RELAY_A"], "answer SDP for A carries the relay's A address (%s)" % a_addr)
    check(a_port != b_port or a_addr != b_addr, "each leg has its own port")
    check(ports_used(ng, "a") == 1 and ports_used(ng, "b") == 1, "one port pair in use per interface")

    before = dataplane(ng)
    n = 50
    got = relay_stream(a_rtp, b_rtp, (a_addr, a_port), (b_addr, b_port), n,
                       lambda i: rtp_packet(0x1111, 100 + i, 160 * i, bytes([i % 256]) * 160))
    check(got >= n - 2, "RTP A->B: %d/%d arrived unchanged from %s:%d" % (got, n, b_addr, b_port))
    got = relay_stream(b_rtp, a_rtp, (b_addr, b_port), (a_addr, a_port), n,
                       lambda i: rtp_packet(0x2222, 500 + i, 160 * i, bytes([255 - i % 256]) * 160))
    check(got >= n - 2, "RTP B->A: %d/%d arrived unchanged from %s:%d" % (got, n, a_addr, a_port))
    got = relay_stream(a_rtcp, b_rtcp, (a_addr, a_rtcp_port), (b_addr, b_rtcp_port), 5,
                       lambda i: rtcp_sr(0x1111, packets=i))
    check(got >= 4, "RTCP A->B: %d/5 arrived from the RTCP port %d" % (got, b_rtcp_port))
    got = relay_stream(b_rtcp, a_rtcp, (b_addr, b_rtcp_port), (a_addr, a_rtcp_port), 5,
                       lambda i: rtcp_sr(0x2222, packets=i))
    check(got >= 4, "RTCP B->A: %d/5 arrived from the RTCP port %d" % (got, a_rtcp_port))

    q = ng.request({"command": "query", "call-id": "e2e-1"})
    rtp_pk = q["totals"]["RTP"]["packets"]
    rtcp_pk = q["totals"]["RTCP"]["packets"]
    check(rtp_pk >= 2 * n - 4, "query: relay counted %d RTP packets for the call" % rtp_pk)
    check(rtcp_pk >= 8, "query: relay counted %d RTCP packets for the call" % rtcp_pk)
    check(set(q["tags"].keys()) == {"alice", "bob"}, "query lists both tags")

    after = dataplane(ng)
    check(after["relayed rtp"] - before["relayed rtp"] >= 2 * n - 4, "data plane relayed_rtp moved")

    # Unallocated port on our address: dropped and counted.
    unknown0 = after["drops"]["unknown_port"]
    a_rtp.sendto(b"\x80" * 20, (E["RELAY_A"], 10001 if a_port != 10000 else 10003))
    check(wait_for(lambda: dataplane(ng)["drops"]["unknown_port"] > unknown0, 3),
          "packet to an unallocated port is dropped as unknown_port")

    # Delete: ports back to the pool, old port now unknown.
    d = ng.request({"command": "delete", "call-id": "e2e-1", "from-tag": "alice"})
    check(text(d.get("result")) == "ok", "delete ok")
    check(ports_used(ng, "a") == 0 and ports_used(ng, "b") == 0, "delete returned the ports to the pools")
    unknown1 = dataplane(ng)["drops"]["unknown_port"]
    a_rtp.sendto(rtp_packet(0x1111, 999, 0, b"late"), (a_addr, a_port))
    try:
        b_rtp.recvfrom(4096)
        check(False, "no packet relayed after delete")
    except socket.timeout:
        check(True, "no packet relayed after delete")
    check(wait_for(lambda: dataplane(ng)["drops"]["unknown_port"] > unknown1, 3),
          "packet to a deleted call's port is dropped as unknown_port")
    again = ng.request({"command": "delete", "call-id": "e2e-1"})
    check(text(again.get("result")) == "error" and b"Unknown call-id" in again.get("error-reason", b""),
          "second delete: error Unknown call-id")

    # ICMP echo to the relay's media address is answered.
    check(icmp_echo(E["NS_A"], E["RELAY_A"]), "ICMP echo to the media address is answered")

    # Bad NG input: errors or silence, never a crash.
    bad = [b"", b"nocookie", b"c1 d7:command4:pin", b"c2 xyz", b"c3 l", b"c4 i99999999999999999999999e",
           b"c5 d7:command5:bogus e", b"c6 " + b"d" * 5000, b"c7 d7:command5:offere", b"\x00\xff" * 100]
    for payload in bad:
        try:
            ng.raw(payload, wait=False)
        except OSError:
            pass
    reply = ng.raw(b"c8 d7:command5:bogus e".replace(b" e", b"e"))
    check(b"error" in reply, "unknown command gets an error reply")
    reply = ng.raw(b"c9 d7:command5:offer7:call-id1:xe")
    check(b"error" in reply, "offer without SDP gets an error reply")
    check(ping(ng), "relay still answers ping after garbage")

    # Accounting: every received packet is relayed, dropped by reason, or consumed (ARP/ICMP).
    def balanced():
        s = dataplane(ng)
        return s["rx packets"] == s["relayed rtp"] + s["relayed rtcp"] + s["dropped"] + s["arp"] + s["icmp echo replies"]
    check(wait_for(balanced, 3), "received = relayed + dropped + ARP + ICMP")
    s = dataplane(ng)
    print("   data plane: rx=%d relayed_rtp=%d relayed_rtcp=%d dropped=%d" %
          (s["rx packets"], s["relayed rtp"], s["relayed rtcp"], s["dropped"]))


def icmp_echo(ns, dst):
    own = os.open("/proc/self/ns/net", os.O_RDONLY)
    # A raw ICMP socket: create it in the namespace with the same trick.
    import rtptest
    target = os.open("/var/run/netns/%s" % ns, os.O_RDONLY)
    rtptest._libc.setns(target, rtptest.CLONE_NEWNET)
    try:
        r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    finally:
        rtptest._libc.setns(own, rtptest.CLONE_NEWNET)
        os.close(own)
        os.close(target)
    r.settimeout(1.0)
    body = struct.pack("!BBHHH", 8, 0, 0, 0x4242, 1) + b"rtprelay-echo"
    csum = _inet_csum(body)
    body = body[:2] + struct.pack("!H", csum) + body[4:]
    for _ in range(3):
        r.sendto(body, (dst, 0))
        end = time.time() + 1.0
        while time.time() < end:
            try:
                data, src = r.recvfrom(2048)
            except socket.timeout:
                break
            ihl = (data[0] & 0x0F) * 4
            icmp = data[ihl:]
            if src[0] == dst and icmp[0] == 0 and icmp[4:6] == b"\x42\x42" and _inet_csum(icmp) == 0:
                return True
    return False


def _inet_csum(b):
    if len(b) % 2:
        b += b"\x00"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


if __name__ == "__main__":
    run_checks(main)
