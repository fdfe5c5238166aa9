"""SRTP end to end through the real rtprelay: SDES keys negotiated over NG, packets made
and checked by libsrtp2 (tests/support/srtp_peer), the relay re-keying between legs and
bridging RTP <-> SRTP. Runs inside the relay's namespace (run_e2e.sh)."""

import os

from rtptest import NgClient, check, new_key, peer_transfer, ping, run_checks, text, wait_for
from rtptest import audio_sdp as sdp, parse_audio_sdp as parse

E = os.environ
PEER = os.path.join(E["BUILD_DIR"], "tests", "srtp_peer")
_port = [31000]



def next_port():
    _port[0] += 2
    return _port[0]


def stats(ng):
    return ng.request({"command": "statistics"})["statistics"]["dataplane"]


def transfer(src_ns, src_addr, src_port, dst_ns, dst_addr, dst_port, to, send_key=None, send_suite=None,
             recv_key=None, recv_suite=None, count=200, rtcp=False, corrupt_every=0, expect=None, seq=1000):
    """libsrtp2 sender -> relay -> libsrtp2 receiver; returns the receiver's report."""
    recv = [PEER, "recv", "--ns", dst_ns, "--bind", "%s:%d" % (dst_addr, dst_port),
            "--count", str(expect if expect is not None else count), "--timeout-ms", "6000"]
    if recv_key:
        recv += ["--key", recv_key, "--suite", recv_suite]
    send = [PEER, "send", "--ns", src_ns, "--bind", "%s:%d" % (src_addr, src_port), "--to", "%s:%d" % to,
            "--count", str(count), "--interval-us", "1000", "--ssrc", str(0x1000 + src_port),
            "--corrupt-every", str(corrupt_every), "--seq", str(seq)]
    if send_key:
        send += ["--key", send_key, "--suite", send_suite]
    if rtcp:
        recv.append("--rtcp")
        send.append("--rtcp")
    return peer_transfer(recv, send)


def call(ng, call_id, offer_sdp, answer_fn, **ng_keys):
    o = ng.request(dict({"command": "offer", "call-id": call_id, "from-tag": "A-" + call_id, "sdp": offer_sdp,
                         "direction": ["a", "b"]}, **ng_keys))
    if text(o.get("result")) != "ok":
        return o, None
    to_b = parse(o["sdp"])
    a = ng.request({"command": "answer", "call-id": call_id, "from-tag": "A-" + call_id, "to-tag": "B-" + call_id,
                    "sdp": answer_fn(to_b)})
    return o, a


def main():
    ng = NgClient(port=int(E["NG_PORT"]))
    check(wait_for(lambda: ping(ng), 20), "relay answers ping")
    ns_a, ns_b, ip_a, ip_b = E["NS_A"], E["NS_B"], E["ADDR_A"], E["ADDR_B"]

    # 1. SRTP <-> SRTP, re-keyed: A offers _32 then _80; B is offered the policy's one _80 line.
    ka, kb = new_key(), new_key()
    pa, pb = next_port(), next_port()
    offer = sdp(ip_a, pa, "RTP/SAVP", ["1 AES_CM_128_HMAC_SHA1_32 inline:" + ka,
                                       "2 AES_CM_128_HMAC_SHA1_80 inline:" + new_key()])
    o, a = call(ng, "srtp-1", offer, lambda to_b: sdp(ip_b, pb, "RTP/SAVP", ["1 %s inline:%s" % (to_b["crypto"][0][1], kb)]))
    to_b = parse(o["sdp"])
    to_a = parse(a["sdp"])
    check(to_b["proto"] == "RTP/SAVP", "B is offered RTP/SAVP")
    check(len(to_b["crypto"]) == 1 and to_b["crypto"][0][1] == "AES_CM_128_HMAC_SHA1_80",
          "B is offered exactly one AES_CM_128_HMAC_SHA1_80 line (policy default)")
    check(ka not in to_b["text"], "A's key does not reach B")
    check(len(to_a["crypto"]) == 1 and to_a["crypto"][0][1] == "AES_CM_128_HMAC_SHA1_32",
          "A's answer picks A's first acceptable suite (_32)")
    check(to_a["crypto"][0][2] not in (ka, kb, to_b["crypto"][0][2]), "each leg has its own relay key")
    krb, kra = to_b["crypto"][0][2], to_a["crypto"][0][2]
    r = transfer(ns_a, ip_a, pa, ns_b, ip_b, pb, (to_a["addr"], to_a["port"]), ka, "AES_CM_128_HMAC_SHA1_32",
                 krb, "AES_CM_128_HMAC_SHA1_80")
    check(r["ok"] >= 195 and r["auth_failed"] == 0 and r["bad_payload"] == 0,
          "SRTP A->B: libsrtp2 at B decrypts %d/200 with the key the relay gave B (%s)" % (r["ok"], r))
    r = transfer(ns_b, ip_b, pb, ns_a, ip_a, pa, (to_b["addr"], to_b["port"]), kb, "AES_CM_128_HMAC_SHA1_80",
                 kra, "AES_CM_128_HMAC_SHA1_32")
    check(r["ok"] >= 195 and r["auth_failed"] == 0, "SRTP B->A: libsrtp2 at A decrypts %d/200 (%s)" % (r["ok"], r))
    r = transfer(ns_a, ip_a, pa + 1, ns_b, ip_b, pb + 1, (to_a["addr"], to_a["port"] + 1), ka,
                 "AES_CM_128_HMAC_SHA1_32", krb, "AES_CM_128_HMAC_SHA1_80", count=20, rtcp=True)
    check(r["ok"] >= 19 and r["auth_failed"] == 0, "SRTCP A->B decrypts at B: %d/20" % r["ok"])
    r = transfer(ns_b, ip_b, pb + 1, ns_a, ip_a, pa + 1, (to_b["addr"], to_b["port"] + 1), kb,
                 "AES_CM_128_HMAC_SHA1_80", kra, "AES_CM_128_HMAC_SHA1_32", count=20, rtcp=True)
    check(r["ok"] >= 19 and r["auth_failed"] == 0, "SRTCP B->A decrypts at A: %d/20" % r["ok"])

    # Replay: the same 50 packets again (same SSRC, same sequence numbers) are dropped.
    before = stats(ng)["drops"]["srtp_replay"]
    r = transfer(ns_a, ip_a, pa, ns_b, ip_b, pb, (to_a["addr"], to_a["port"]), ka, "AES_CM_128_HMAC_SHA1_32",
                 krb, "AES_CM_128_HMAC_SHA1_80", count=50, expect=1)
    check(r["received"] == 0 and stats(ng)["drops"]["srtp_replay"] - before >= 50,
          "replayed packets are dropped as srtp_replay and never forwarded")

    # Forged tags into the live port: dropped and counted, the genuine packets still flow.
    before = stats(ng)["drops"]["srtp_auth_failed"]
    r = transfer(ns_a, ip_a, pa, ns_b, ip_b, pb, (to_a["addr"], to_a["port"]), ka, "AES_CM_128_HMAC_SHA1_32",
                 krb, "AES_CM_128_HMAC_SHA1_80", count=100, corrupt_every=4, expect=75, seq=5000)
    after = stats(ng)["drops"]["srtp_auth_failed"]
    check(after - before >= 24, "forged tags dropped as srtp_auth_failed (%d)" % (after - before))
    check(r["ok"] >= 73 and r["auth_failed"] == 0, "genuine packets around the forged ones still arrive: %d/75" % r["ok"])
    q = ng.request({"command": "query", "call-id": "srtp-1"})
    check(q["totals"]["RTP"]["errors"] >= 24, "query counts the forged packets as errors")
    ng.request({"command": "delete", "call-id": "srtp-1"})

    # 2. RTP A -> SRTP B (transport-protocol RTP/SAVP): the relay encrypts for B.
    pa, pb, kb = next_port(), next_port(), new_key()
    o, a = call(ng, "bridge-1", sdp(ip_a, pa), lambda to_b: sdp(ip_b, pb, "RTP/SAVP",
                                                                ["1 AES_CM_128_HMAC_SHA1_80 inline:" + kb]),
                **{"transport-protocol": "RTP/SAVP"})
    to_b, to_a = parse(o["sdp"]), parse(a["sdp"])
    check(to_b["proto"] == "RTP/SAVP" and len(to_b["crypto"]) == 1, "plain offer becomes RTP/SAVP with one key for B")
    check(to_a["proto"] == "RTP/AVP" and not to_a["crypto"], "A's answer stays RTP/AVP without a=crypto")
    r = transfer(ns_a, ip_a, pa, ns_b, ip_b, pb, (to_a["addr"], to_a["port"]), None, None,
                 to_b["crypto"][0][2], "AES_CM_128_HMAC_SHA1_80")
    check(r["ok"] >= 195 and r["auth_failed"] == 0, "RTP->SRTP: B decrypts %d/200" % r["ok"])
    r = transfer(ns_b, ip_b, pb, ns_a, ip_a, pa, (to_b["addr"], to_b["port"]), kb, "AES_CM_128_HMAC_SHA1_80")
    check(r["ok"] >= 195, "SRTP->RTP: A receives %d/200 plain packets with the right payload" % r["ok"])
    ng.request({"command": "delete", "call-id": "bridge-1"})

    # 3. SRTP A -> RTP B (transport-protocol RTP/AVP): no a=crypto reaches B.
    pa, pb, ka = next_port(), next_port(), new_key()
    o, a = call(ng, "bridge-2", sdp(ip_a, pa, "RTP/SAVP", ["1 AES_CM_128_HMAC_SHA1_80 inline:" + ka]),
                lambda to_b: sdp(ip_b, pb), **{"transport-protocol": "RTP/AVP"})
    to_b, to_a = parse(o["sdp"]), parse(a["sdp"])
    check(to_b["proto"] == "RTP/AVP" and not to_b["crypto"], "B gets RTP/AVP without a=crypto")
    check(to_a["proto"] == "RTP/SAVP" and len(to_a["crypto"]) == 1, "A's answer is RTP/SAVP with the relay's key")
    r = transfer(ns_a, ip_a, pa, ns_b, ip_b, pb, (to_a["addr"], to_a["port"]), ka, "AES_CM_128_HMAC_SHA1_80")
    check(r["ok"] >= 195, "SRTP->RTP: B receives %d/200 decrypted packets" % r["ok"])
    r = transfer(ns_b, ip_b, pb, ns_a, ip_a, pa, (to_b["addr"], to_b["port"]), None, None,
                 to_a["crypto"][0][2], "AES_CM_128_HMAC_SHA1_80")
    check(r["ok"] >= 195 and r["auth_failed"] == 0, "RTP->SRTP: A decrypts %d/200" % r["ok"])
    ng.request({"command": "delete", "call-id": "bridge-2"})

    # 4. An offer whose only a=crypto line has an MKI is refused, naming the cause.
    o = ng.request({"command": "offer", "call-id": "mki-1", "from-tag": "x", "direction": ["a", "b"],
                    "sdp": sdp(ip_a, next_port(), "RTP/SAVP", ["1 AES_CM_128_HMAC_SHA1_80 inline:%s|2^20|1:4" % new_key()])})
    check(text(o.get("result")) == "error" and "MKI" in text(o.get("error-reason", b"")),
          "MKI-only offer refused: %s" % text(o.get("error-reason", b"")))

    s = stats(ng)
    check(s["rx packets"] == s["relayed rtp"] + s["relayed rtcp"] + s["dropped"] + s["arp"] + s["icmp echo replies"],
          "received = relayed + dropped + ARP + ICMP")



if __name__ == "__main__":
    run_checks(main)
