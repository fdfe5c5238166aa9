"""IPv6 media end to end through the real rtprelay (run_e2e.sh with NETNS_IPV6=1: both
interfaces dual-stack, hosts with addresses from 2001:2::/48): a v6 <-> v6 call, a
v4 <-> v6 bridged call both ways, SRTP on both legs (libsrtp2 peers, re-keyed and bridged
across families), neighbour discovery both ways, ICMPv6 echo, and IPv6 packets the relay
must drop by reason (extension header, fragment). The relay's own counters must account
for every packet it received."""

import os
import re
import socket
import struct
import subprocess
import time

from rtptest import (audio_sdp, check, dataplane, host_socket, new_key, NgClient, parse_audio_sdp, ping,
                     relay_stream, rtcp_sr, rtp_packet, run_checks, socket_in_netns, text, wait_for)

import json

E = os.environ
PEER = os.path.join(E["BUILD_DIR"], "tests", "srtp_peer")


def accounted(d):
    return d["relayed rtp"] + d["relayed rtcp"] + sum(d["drops"].values()) + d["arp"] + d["icmp echo replies"]


def call(ng, call_id, offer_sdp, answer_fn, **keys):
    o = ng.request(dict({"command": "offer", "call-id": call_id, "from-tag": "A-" + call_id, "sdp": offer_sdp,
                         "direction": ["a", "b"]}, **keys))
    check(text(o.get("result")) == "ok", "%s: offer ok (%s)" % (call_id, text(o.get("error-reason", b""))))
    if text(o.get("result")) != "ok":
        return None, None
    to_b = parse_audio_sdp(o["sdp"])
    a = ng.request({"command": "answer", "call-id": call_id, "from-tag": "A-" + call_id, "to-tag": "B-" + call_id,
                    "sdp": answer_fn(to_b)})
    check(text(a.get("result")) == "ok", "%s: answer ok (%s)" % (call_id, text(a.get("error-reason", b""))))
    return to_b, parse_audio_sdp(a["sdp"]) if text(a.get("result")) == "ok" else None


def plain_both_ways(ng, name, a_addr, b_addr, a_port, b_port, **keys):
    """A call A (a_addr) <-> B (b_addr), RTP and RTCP both ways; returns (to_b, to_a)."""
    a_rtp = host_socket(E["NS_A"], a_addr, a_port, timeout=1.0)
    a_rtcp = host_socket(E["NS_A"], a_addr, a_port + 1, timeout=1.0)
    b_rtp = host_socket(E["NS_B"], b_addr, b_port, timeout=1.0)
    b_rtcp = host_socket(E["NS_B"], b_addr, b_port + 1, timeout=1.0)
    to_b, to_a = call(ng, name, audio_sdp(a_addr, a_port), lambda o: audio_sdp(b_addr, b_port), **keys)
    if to_a is None:
        return None, None
    n = 40
    got = relay_stream(a_rtp, b_rtp, (to_a["addr"], to_a["port"]), (to_b["addr"], to_b["port"]), n,
                       lambda i: rtp_packet(0x6601, 100 + i, 160 * i, bytes([i % 256]) * 160))
    check(got >= n - 2, "%s: RTP A->B %d/%d unchanged, from the relay's %s" % (name, got, n, to_b["addr"]))
    got = relay_stream(b_rtp, a_rtp, (to_b["addr"], to_b["port"]), (to_a["addr"], to_a["port"]), n,
                       lambda i: rtp_packet(0x6602, 500 + i, 160 * i, bytes([255 - i % 256]) * 160))
    check(got >= n - 2, "%s: RTP B->A %d/%d unchanged, from the relay's %s" % (name, got, n, to_a["addr"]))
    got = relay_stream(a_rtcp, b_rtcp, (to_a["addr"], to_a["port"] + 1), (to_b["addr"], to_b["port"] + 1), 5,
                       lambda i: rtcp_sr(0x6601, packets=i))
    check(got >= 4, "%s: RTCP A->B %d/5" % (name, got))
    got = relay_stream(b_rtcp, a_rtcp, (to_b["addr"], to_b["port"] + 1), (to_a["addr"], to_a["port"] + 1), 5,
                       lambda i: rtcp_sr(0x6602, packets=i))
    check(got >= 4, "%s: RTCP B->A %d/5" % (name, got))
    for s in (a_rtp, a_rtcp, b_rtp, b_rtcp):
        s.close()
    return to_b, to_a


def bracket(addr):
    return "[%s]" % addr if ":" in addr else addr


def srtp_transfer(src_ns, src_addr, src_port, dst_ns, dst_addr, dst_port, to, send_key, recv_key, count=100):
    suite = "AES_CM_128_HMAC_SHA1_80"
    recv = [PEER, "recv", "--ns", dst_ns, "--bind", "%s:%d" % (bracket(dst_addr), dst_port), "--count", str(count),
            "--timeout-ms", "6000", "--key", recv_key, "--suite", suite]
    send = [PEER, "send", "--ns", src_ns, "--bind", "%s:%d" % (bracket(src_addr), src_port),
            "--to", "%s:%d" % (bracket(to[0]), to[1]), "--count", str(count), "--interval-us", "1000",
            "--ssrc", str(0x7000 + src_port), "--key", send_key, "--suite", suite]
    rp = subprocess.Popen(recv, stdout=subprocess.PIPE, text=True)
    # The sender starts once the receiver's socket is bound: on a loaded machine a fixed
    # pause was not always enough, and the first packets met a closed port.
    bound = lambda: subprocess.run(["ip", "netns", "exec", dst_ns, "ss", "-Hnlu", "sport = :%d" % dst_port],
                                   capture_output=True, text=True).stdout.strip() != ""
    check(wait_for(bound, 5), "srtp_peer recv bound %s:%d" % (bracket(dst_addr), dst_port))
    subprocess.run(send, check=True, timeout=30)
    out, _ = rp.communicate(timeout=30)
    return json.loads(out.strip().splitlines()[-1])


def srtp_call(ng, name, a_addr, b_addr, a_port, b_port, **keys):
    """SRTP on both legs, each with its own keys; libsrtp2 both ends, both ways."""
    ka, kb = new_key(), new_key()
    offer = audio_sdp(a_addr, a_port, "RTP/SAVP", ["1 AES_CM_128_HMAC_SHA1_80 inline:" + ka])
    to_b, to_a = call(ng, name, offer,
                      lambda o: audio_sdp(b_addr, b_port, "RTP/SAVP", ["1 %s inline:%s" % (o["crypto"][0][1], kb)]), **keys)
    if to_a is None:
        return
    check(to_b["proto"] == "RTP/SAVP" and len(to_b["crypto"]) == 1, "%s: B is offered SRTP" % name)
    check(ka not in to_b["text"] and kb not in to_a["text"], "%s: no key crosses legs" % name)
    r = srtp_transfer(E["NS_A"], a_addr, a_port, E["NS_B"], b_addr, b_port, (to_a["addr"], to_a["port"]),
                      ka, to_b["crypto"][0][2])
    check(r["ok"] >= 98 and r["auth_failed"] == 0,
          "%s: SRTP A->B re-keyed, decrypted by libsrtp2 with B's relay key: %s" % (name, r))
    check(r["from"] == "%s:%d" % (bracket(to_b["addr"]), to_b["port"]), "%s: from the relay's B side %s" % (name, r["from"]))
    r = srtp_transfer(E["NS_B"], b_addr, b_port, E["NS_A"], a_addr, a_port, (to_b["addr"], to_b["port"]),
                      kb, to_a["crypto"][0][2])
    check(r["ok"] >= 98 and r["auth_failed"] == 0, "%s: SRTP B->A re-keyed: %s" % (name, r))


def icmp6_echo(ns, addr):
    """An ICMPv6 echo request from a raw socket in `ns`; True when the reply comes back. The
    kernel fills in and verifies ICMPv6 checksums on raw sockets (RFC 3542), so a reply
    with a wrong checksum never reaches us."""
    r = socket_in_netns(ns, socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    r.settimeout(1.0)
    body = struct.pack("!BBHHH", 128, 0, 0, 0x6666, 1) + b"rtprelay-echo6"
    try:
        for _ in range(3):
            r.sendto(body, (addr, 0))
            end = time.time() + 1.0
            while time.time() < end:
                try:
                    data, src = r.recvfrom(2048)
                except socket.timeout:
                    break
                if src[0] == addr and data[0] == 129 and data[4:6] == b"\x66\x66" and data[8:] == b"rtprelay-echo6":
                    return True
        return False
    finally:
        r.close()


def neighbour_of(ns, addr):
    r = subprocess.run(["ip", "-n", ns, "-6", "neigh", "show", addr], stdout=subprocess.PIPE, text=True)
    return r.stdout.strip()


def fold_twin(addr):
    """Another address in addr's /64 whose four 32-bit words XOR to the same value: the data
    plane's packed word for it (port and a 32-bit fold) equals addr's."""
    b = bytearray(socket.inet_pton(socket.AF_INET6, addr))
    b[11] ^= 0x40
    b[15] ^= 0x40
    return socket.inet_ntop(socket.AF_INET6, bytes(b))


def latching_v6(ng, a6, to_a, to_b):
    """On the v6-v6 call (A latched at [a6]:32000, its window closed by A's packets): a host
    with a look-alike address (same fold, same port) never passes for A; after A falls
    silent and a re-offer opens a window, A from a new port latches after probation, and the
    move is logged with whole IPv6 addresses."""
    twin = fold_twin(a6)
    subprocess.run(["ip", "-n", E["NS_A"], "-6", "addr", "add", twin + "/64", "dev", E["IF_A1"], "nodad"], check=True)
    b_rtp = host_socket(E["NS_B"], E["ADDR6_B"], 42000, timeout=1.0)
    t = host_socket(E["NS_A"], twin, 32000, timeout=1.0)
    before = dataplane(ng)["drops"]["unlatched_source"]
    for i in range(8):
        t.sendto(rtp_packet(0x7701, 900 + i, 160 * i, b"\x11" * 160), (to_a["addr"], to_a["port"]))
    t.close()
    leaked = 0
    try:
        while True:
            b_rtp.recvfrom(4096)
            leaked += 1
    except socket.timeout:
        pass
    check(leaked == 0 and wait_for(lambda: dataplane(ng)["drops"]["unlatched_source"] >= before + 8, 3),
          "a look-alike IPv6 source (same fold and port as the latched one) is dropped as unlatched_source, "
          "nothing reaches B (%d leaked)" % leaked)
    # A moves: silent for more than a second, a re-offer (new window), then a new port.
    time.sleep(1.3)
    o = ng.request({"command": "offer", "call-id": "v6-v6", "from-tag": "A-v6-v6", "to-tag": "B-v6-v6",
                    "sdp": audio_sdp(a6, 32000), "direction": ["a", "b"]})
    check(text(o.get("result")) == "ok", "v6-v6: re-offer ok (%s)" % text(o.get("error-reason", b"")))
    a = ng.request({"command": "answer", "call-id": "v6-v6", "from-tag": "A-v6-v6", "to-tag": "B-v6-v6",
                    "sdp": audio_sdp(E["ADDR6_B"], 42000)})
    check(text(a.get("result")) == "ok", "v6-v6: its answer ok (%s)" % text(a.get("error-reason", b"")))
    # Paced as a phone sends (20 ms), inside the learning window; the relay holds the first
    # three (probation) and relays the rest.
    a_new = host_socket(E["NS_A"], a6, 32100, timeout=1.0)
    sent = [rtp_packet(0x6601, 1000 + i, 160 * i, bytes([i]) * 160) for i in range(8)]
    for pkt in sent:
        a_new.sendto(pkt, (to_a["addr"], to_a["port"]))
        time.sleep(0.02)
    got = []
    try:
        while True:
            data, src = b_rtp.recvfrom(4096)
            if src[:2] == (to_b["addr"], to_b["port"]):
                got.append(data)
    except socket.timeout:
        pass
    check(got == sent[3:], "v6-v6: A from a new port latches after probation (%d/8 relayed: the 4th on)" % len(got))
    a_new.close()
    b_rtp.close()
    q = ng.request({"command": "query", "call-id": "v6-v6"})
    ep = q["tags"]["A-v6-v6"]["medias"][0]["streams"][0]["endpoint"]
    check(text(ep["address"]) == a6 and ep["port"] == 32100, "v6-v6: query shows the new latch (%s)" % ep)
    line = "leg=A-v6-v6 kind=plain_move local=[%s]:%d old=[%s]:32000 new=[%s]:32100" % (to_a["addr"], to_a["port"], a6, a6)
    check(wait_for(lambda: line in open(E["RELAY_LOG"]).read(), 3), "the move is logged: ... %s" % line)


def main():
    ng = NgClient(port=int(E["NG_PORT"]))
    check(wait_for(lambda: ping(ng), 20), "relay answers NG ping")
    a4, b4, a6, b6 = E["ADDR_A"], E["ADDR_B"], E["ADDR6_A"], E["ADDR6_B"]
    r6a, r6b = E["RELAY6_A"], E["RELAY6_B"]
    log = open(E["RELAY_LOG"]).read()
    check("media address %s on DPDK port 0 announced" % r6a in log and
          "media address %s on DPDK port 1 announced" % r6b in log,
          "the relay announced its IPv6 addresses (unsolicited neighbour advertisements)")

    # 1. v6 <-> v6.
    to_b, to_a = plain_both_ways(ng, "v6-v6", a6, b6, 32000, 42000)
    if to_b:
        check(to_b["family"] == "IP6" and to_b["addr"] == r6b, "v6-v6: B is offered c=IN IP6 %s" % to_b["addr"])
        check(to_a["family"] == "IP6" and to_a["addr"] == r6a, "v6-v6: A is answered c=IN IP6 %s" % to_a["addr"])
        q = ng.request({"command": "query", "call-id": "v6-v6"})
        ep = q["tags"]["A-v6-v6"]["medias"][0]["streams"][0]["endpoint"]
        check(text(ep["family"]) == "IPv6" and text(ep["address"]) == a6 and ep["port"] == 32000,
              "v6-v6: query shows A's latched IPv6 endpoint (%s)" % ep)
        latching_v6(ng, a6, to_a, to_b)
    # Both sides resolved each other by neighbour discovery.
    check(re.search(r"lladdr [0-9a-f:]+", neighbour_of(E["NS_A"], r6a)) is not None,
          "host A learnt the relay's IPv6 MAC (its solicitation answered)")

    # 2. v4 -> v6: A speaks IPv4, B is offered IPv6 (NG address family).
    to_b, to_a = plain_both_ways(ng, "v4-v6", a4, b6, 32010, 42010, **{"address family": "IP6"})
    if to_b:
        check(to_b["family"] == "IP6" and to_a["family"] == "IP4", "v4-v6: B gets IP6, A gets IP4")
    # 3. v6 -> v4 (address-family, dash spelling).
    to_b, to_a = plain_both_ways(ng, "v6-v4", a6, b4, 32020, 42020, **{"address-family": "IP4"})
    if to_b:
        check(to_b["family"] == "IP4" and to_a["family"] == "IP6", "v6-v4: B gets IP4, A gets IP6")

    # 4. SRTP on both legs: v6 <-> v6, and bridged v4 <-> v6 with re-keying.
    srtp_call(ng, "srtp-v6-v6", a6, b6, 32030, 42030)
    srtp_call(ng, "srtp-v4-v6", a4, b6, 32040, 42040, **{"address family": "IP6"})

    # 5. ICMPv6 echo to a media address.
    check(icmp6_echo(E["NS_A"], r6a), "ICMPv6 echo to the relay's IPv6 media address is answered")

    # 6. What the relay drops, by reason: a hop-by-hop header, a fragment, a wrong address.
    before = dataplane(ng)
    s = host_socket(E["NS_A"], a6, 32050, timeout=1.0)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_HOPOPTS, bytes([0, 0, 1, 4, 0, 0, 0, 0]))  # PadN
    s.sendto(b"\x80" * 100, (r6a, 32052))
    s.close()
    s = host_socket(E["NS_A"], a6, 32050, timeout=1.0)
    s.sendto(b"\x80" * 3000, (r6a, 32052))  # above the veth's 1500: the kernel fragments it
    s.close()
    check(wait_for(lambda: dataplane(ng)["drops"]["ipv6_extension"] > before["drops"]["ipv6_extension"], 3),
          "IPv6 hop-by-hop header dropped as ipv6_extension")
    check(wait_for(lambda: dataplane(ng)["drops"]["ip_fragment"] >= before["drops"]["ip_fragment"] + 2, 3),
          "IPv6 fragments dropped as ip_fragment")
    s = host_socket(E["NS_A"], a6, 32050, timeout=1.0)
    s.sendto(b"\x80" * 20, (r6a, 19999))
    s.close()
    check(wait_for(lambda: dataplane(ng)["drops"]["unknown_port"] > before["drops"]["unknown_port"], 3),
          "IPv6 UDP to an unallocated port dropped as unknown_port")

    # 7. The relay's books: every packet it received is relayed, dropped by reason or
    # answered (ARP/ND to the control plane, echo).
    def balanced():
        d = dataplane(ng)
        return d["rx packets"] == accounted(d)
    check(wait_for(balanced, 5), "received = relayed + drops + ARP/ND + echo (%s)" % dataplane(ng))
    for cid in ("v6-v6", "v4-v6", "v6-v4", "srtp-v6-v6", "srtp-v4-v6"):
        ng.request({"command": "delete", "call-id": cid})
    check(ping(ng), "relay still answers ping")


if __name__ == "__main__":
    run_checks(main)
