"""The SRTP suites beyond AES_CM_128 and the MKI, end to end through the real rtprelay:
keys negotiated over NG, packets made and checked by libsrtp2 (tests/support/srtp_peer).
Interface a accepts MKIs (mki=accept); interface b offers AES_256_CM_HMAC_SHA1_32 then
AEAD_AES_128_GCM (meson.build sets both). Runs inside the relay's namespace (run_e2e.sh)."""

import base64
import os
import re

from rtptest import NgClient, check, peer_transfer, ping, run_checks, text, wait_for
from rtptest import audio_sdp as sdp, parse_audio_sdp as parse

E = os.environ
PEER = os.path.join(E["BUILD_DIR"], "tests", "srtp_peer")
_port = [33000]

# Key + salt bytes of each suite (RFC 4568, RFC 6188, RFC 7714).
KEY_BYTES = {"AES_CM_128_HMAC_SHA1_80": 30, "AES_256_CM_HMAC_SHA1_32": 46, "AEAD_AES_128_GCM": 28,
             "AEAD_AES_256_GCM": 44}


def next_port():
    _port[0] += 2
    return _port[0]


def key(suite):
    """A random key of `suite`, base64 without '=' as rtprelay writes them."""
    return base64.b64encode(os.urandom(KEY_BYTES[suite])).decode().rstrip("=")


def drops(ng):
    return ng.request({"command": "statistics"})["statistics"]["dataplane"]["drops"]


def transfer(src, dst, to, send, recv, count=100, rtcp=False, expect=None):
    """libsrtp2 sender -> relay -> libsrtp2 receiver. src/dst/to: (ns, addr, RTP port) and
    (addr, RTP port); RTCP goes port + 1 to port + 1. send/recv: (key, suite, mki or None).
    Returns the receiver's report."""
    up = 1 if rtcp else 0
    r = [PEER, "recv", "--ns", dst[0], "--bind", "%s:%d" % (dst[1], dst[2] + up), "--key", recv[0],
         "--suite", recv[1], "--count", str(expect if expect is not None else count), "--timeout-ms", "4000"]
    s = [PEER, "send", "--ns", src[0], "--bind", "%s:%d" % (src[1], src[2] + up), "--to", "%s:%d" % (to[0], to[1] + up),
         "--key", send[0], "--suite", send[1], "--count", str(count), "--interval-us", "1000",
         "--ssrc", str(0x2000 + src[2])]
    for cmd, (_, _, mki) in ((r, recv), (s, send)):
        if mki:
            cmd += ["--mki", mki]
        if rtcp:
            cmd.append("--rtcp")
    return peer_transfer(r, s)


def mki_of(sdp_text, tag):
    m = re.search(r"^a=crypto:%s \S+ inline:[A-Za-z0-9+/=]+(?:\|[^|\s:]+)?\|(\d+:\d+)" % tag, text(sdp_text), re.M)
    return m.group(1) if m else None


def main():
    ng = NgClient(port=int(E["NG_PORT"]))
    check(wait_for(lambda: ping(ng), 20), "relay answers ping")
    ns_a, ns_b, ip_a, ip_b = E["NS_A"], E["NS_B"], E["ADDR_A"], E["ADDR_B"]

    def call(call_id, a_lines, b_answer):
        """A offers a_lines; B answers with b_answer(offer to B) -> (tag, suite, key, mki)."""
        pa, pb = next_port(), next_port()
        o = ng.request({"command": "offer", "call-id": call_id, "from-tag": "A", "direction": ["a", "b"],
                        "sdp": sdp(ip_a, pa, "RTP/SAVP", a_lines)})
        check(text(o.get("result")) == "ok", "%s: offer ok %s" % (call_id, text(o.get("error-reason", b""))))
        to_b = parse(o["sdp"])
        tag, suite, kb, mki = b_answer(to_b)
        line = "%s %s inline:%s%s" % (tag, suite, kb, "|" + mki if mki else "")
        a = ng.request({"command": "answer", "call-id": call_id, "from-tag": "A", "to-tag": "B",
                        "sdp": sdp(ip_b, pb, "RTP/SAVP", [line])})
        check(text(a.get("result")) == "ok", "%s: answer ok %s" % (call_id, text(a.get("error-reason", b""))))
        return (ns_a, ip_a, pa), (ns_b, ip_b, pb), o, a

    def both_ways(call_id, a, b, o, ans, a_send, b_send, a_recv_mki=None):
        """A sends with a_send (key, suite, mki), B with b_send; each receives with what the relay
        wrote for it: B the line of the offer to B its answer named, A the answer's line."""
        to_b, to_a = parse(o["sdp"]), parse(ans["sdp"])
        b_line = [c for c in to_b["crypto"] if c[1] == b_send[1]][0]
        a_line = to_a["crypto"][0]
        for rtcp, count in ((False, 100), (True, 20)):
            what = "RTCP" if rtcp else "RTP"
            r = transfer(a, b, (to_a["addr"], to_a["port"]), a_send, (b_line[2], b_line[1], None), count, rtcp)
            check(r["ok"] >= count - 3 and r["auth_failed"] == 0,
                  "%s: %s A (%s) -> B (%s): %d/%d" % (call_id, what, a_send[1], b_send[1], r["ok"], count))
            r = transfer(b, a, (to_b["addr"], to_b["port"]), b_send, (a_line[2], a_line[1], a_recv_mki), count, rtcp)
            check(r["ok"] >= count - 3 and r["auth_failed"] == 0,
                  "%s: %s B (%s) -> A (%s): %d/%d" % (call_id, what, b_send[1], a_line[1], r["ok"], count))

    # 1. A prefers AEAD_AES_256_GCM and gets it; B is offered the interface's suites and
    #    answers AEAD_AES_128_GCM. Re-keyed GCM <-> GCM of two key sizes.
    ka = key("AEAD_AES_256_GCM")
    kb = key("AEAD_AES_128_GCM")
    a, b, o, ans = call("gcm-1", ["1 AEAD_AES_256_GCM inline:" + ka, "2 AES_CM_128_HMAC_SHA1_80 inline:" +
                                  key("AES_CM_128_HMAC_SHA1_80")],
                        lambda to_b: ("2", "AEAD_AES_128_GCM", kb, None))
    offered = [c[1] for c in parse(o["sdp"])["crypto"]]
    check(offered == ["AES_256_CM_HMAC_SHA1_32", "AEAD_AES_128_GCM"], "B offered the interface's suites: %s" % offered)
    to_a = parse(ans["sdp"])["crypto"]
    check(len(to_a) == 1 and to_a[0][1] == "AEAD_AES_256_GCM" and len(to_a[0][2]) == 59,
          "A answered with AEAD_AES_256_GCM and a 44-byte key: %s" % (to_a,))
    both_ways("gcm-1", a, b, o, ans, (ka, "AEAD_AES_256_GCM", None), (kb, "AEAD_AES_128_GCM", None))

    # 2. B answers AES_256_CM_HMAC_SHA1_32: AEAD_AES_256_GCM <-> AES-256 counter mode.
    ka = key("AEAD_AES_256_GCM")
    kb = key("AES_256_CM_HMAC_SHA1_32")
    a, b, o, ans = call("aes256-1", ["1 AEAD_AES_256_GCM inline:" + ka],
                        lambda to_b: ("1", "AES_256_CM_HMAC_SHA1_32", kb, None))
    both_ways("aes256-1", a, b, o, ans, (ka, "AEAD_AES_256_GCM", None), (kb, "AES_256_CM_HMAC_SHA1_32", None))

    # 3. MKI on interface a (mki=accept): A's line carries 1:4; our answer carries an MKI of
    #    the same length (1:4), on every packet to A. B's leg has none.
    ka = key("AES_CM_128_HMAC_SHA1_80")
    kb = key("AEAD_AES_128_GCM")
    a, b, o, ans = call("mki-1", ["1 AES_CM_128_HMAC_SHA1_80 inline:%s|2^20|1:4" % ka],
                        lambda to_b: ("2", "AEAD_AES_128_GCM", kb, None))
    check(mki_of(ans["sdp"], 1) == "1:4", "A's answer carries our MKI 1:4")
    check(mki_of(o["sdp"], 1) is None and mki_of(o["sdp"], 2) is None, "our offer to B carries no MKI")
    both_ways("mki-1", a, b, o, ans, (ka, "AES_CM_128_HMAC_SHA1_80", "1:4"), (kb, "AEAD_AES_128_GCM", None),
              a_recv_mki="1:4")
    # A packet of A's key with another MKI is dropped before any crypto, counted by name.
    before = drops(ng)
    to_a, to_b = parse(ans["sdp"]), parse(o["sdp"])
    b_line = [c for c in to_b["crypto"] if c[1] == "AEAD_AES_128_GCM"][0]
    r = transfer(a, b, (to_a["addr"], to_a["port"]), (ka, "AES_CM_128_HMAC_SHA1_80", "2:4"),
                 (b_line[2], b_line[1], None), count=30, expect=1)
    after = drops(ng)
    check(r["ok"] == 0, "nothing with a wrong MKI reached B (%d)" % r["ok"])
    check(after.get("srtp_bad_mki", 0) - before.get("srtp_bad_mki", 0) == 30,
          "30 packets with a wrong MKI counted as srtp_bad_mki (%d)" %
          (after.get("srtp_bad_mki", 0) - before.get("srtp_bad_mki", 0)))

    # 4. An MKI on an AEAD line (RFC 7714: after the tag), one byte.
    ka = key("AEAD_AES_128_GCM")
    kb = key("AES_256_CM_HMAC_SHA1_32")
    a, b, o, ans = call("mki-2", ["1 AEAD_AES_128_GCM inline:%s|7:1" % ka],
                        lambda to_b: ("1", "AES_256_CM_HMAC_SHA1_32", kb, None))
    check(mki_of(ans["sdp"], 1) == "1:1", "A's GCM answer carries our MKI 1:1")
    both_ways("mki-2", a, b, o, ans, (ka, "AEAD_AES_128_GCM", "7:1"), (kb, "AES_256_CM_HMAC_SHA1_32", None),
              a_recv_mki="1:1")

    # 5. Interface b does not accept MKIs (the default): B's answer with one is refused.
    pa, pb = next_port(), next_port()
    o = ng.request({"command": "offer", "call-id": "mki-3", "from-tag": "A", "direction": ["a", "b"],
                    "sdp": sdp(ip_a, pa, "RTP/SAVP", ["1 AES_CM_128_HMAC_SHA1_80 inline:" +
                                                      key("AES_CM_128_HMAC_SHA1_80")])})
    ans = ng.request({"command": "answer", "call-id": "mki-3", "from-tag": "A", "to-tag": "B",
                      "sdp": sdp(ip_b, pb, "RTP/SAVP", ["2 AEAD_AES_128_GCM inline:%s|1:2" %
                                                        key("AEAD_AES_128_GCM")])})
    check(text(ans.get("result")) == "error" and "MKI" in text(ans.get("error-reason", b"")),
          "an answer with an MKI on interface b is refused: %s" % text(ans.get("error-reason", b"")))

    s = ng.request({"command": "statistics"})["statistics"]["dataplane"]
    check(s["rx packets"] == s["relayed rtp"] + s["relayed rtcp"] + s["dropped"] + s["arp"] + s["icmp echo replies"],
          "received = relayed + dropped + ARP + ICMP")


if __name__ == "__main__":
    run_checks(main)
