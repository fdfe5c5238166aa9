"""Media for the SRTP calls through Kamailio, run inside the relay's namespace while the
SIPp call is up. Reads what each side got in its SDP from the SIPp logs (media address,
port, proto, the a=crypto line), then sends RTP and RTCP both ways between the hosts'
media addresses through rtprelay: the SRTP side encrypts and decrypts with libsrtp2
(tests/support/srtp_peer) using the keys of the SDP it sent and got, the plain side sends
and checks plain RTP. Every packet's payload is checked byte for byte.
    srtp_media.py savp-to-avp|avp-to-savp UAC_LOG UAS_LOG
In savp-to-avp the callee re-INVITEs first (uas_reinvite.xml) and the media runs on the
keys of that re-negotiation.
Environment: NS_A NS_B ADDR_A ADDR_B RELAY_A RELAY_B NG_PORT RTP_PORT_A RTP_PORT_B
BUILD_DIR, and the SRTP side's own keys: CALLER_SUITES/CALLER_KEYS (comma-separated, in
a=crypto tag order) and KEY_RE (its key in the re-INVITE's answer) for savp-to-avp,
CALLEE_KEY for avp-to-savp."""

import os
import re
import sys

from rtptest import NgClient, check, peer_transfer, run_checks, text, wait_for

E = os.environ
PEER = os.path.join(E["BUILD_DIR"], "tests", "srtp_peer")
COUNT = 100        # RTP packets per direction
RTCP_COUNT = 10    # RTCP packets per direction


def logged(path, word):
    """The words after '<word> ' in a SIPp log, or None before SIPp wrote them."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            data = f.read()
    except OSError:
        return None
    m = re.search(r"%s (.*)" % word, data)
    return m.group(1).split() if m else None


def transfer(src, dst, to, send_crypto=None, recv_crypto=None, count=COUNT, rtcp=False, ssrc=0x5100):
    """srtp_peer sender at src=(ns, addr, port) -> relay `to` -> srtp_peer receiver at dst;
    *_crypto is (suite, key) or None for plain. Returns the receiver's report."""
    # The receiver waits for every packet, but not much longer than they take to send.
    recv = [PEER, "recv", "--ns", dst[0], "--bind", "%s:%d" % (dst[1], dst[2]),
            "--count", str(count), "--timeout-ms", str(count * 5 + 3000)]
    send = [PEER, "send", "--ns", src[0], "--bind", "%s:%d" % (src[1], src[2]), "--to", "%s:%d" % to,
            "--count", str(count), "--interval-us", "5000", "--ssrc", str(ssrc)]
    if recv_crypto:
        recv += ["--suite", recv_crypto[0], "--key", recv_crypto[1]]
    if send_crypto:
        send += ["--suite", send_crypto[0], "--key", send_crypto[1]]
    if rtcp:
        recv.append("--rtcp")
        send.append("--rtcp")
    return peer_transfer(recv, send)


def main():
    mode, uac_log, uas_log = sys.argv[1], sys.argv[2], sys.argv[3]
    srtp_caller = mode == "savp-to-avp"
    ready = wait_for(lambda: logged(uas_log, "OFFER-MEDIA") and logged(uac_log, "ANSWER-MEDIA"), 30, step=0.1)
    if not check(ready, "both SIPp sides logged the SDP they received"):
        return
    call_id = logged(uac_log, "CALL-ID")[0]
    off = logged(uas_log, "OFFER-MEDIA")   # what the callee got: rtprelay's B side
    ans = logged(uac_log, "ANSWER-MEDIA")  # what the caller got: rtprelay's A side
    b_to = (off[0], int(off[1]))
    a_to = (ans[0], int(ans[1]))
    print("   call %s: callee got %s:%d, caller got %s:%d" % (call_id, b_to[0], b_to[1], a_to[0], a_to[1]))
    check(b_to[0] == E["RELAY_B"] and a_to[0] == E["RELAY_A"], "each side was given rtprelay's address on its side")

    port_a, port_b = int(E["RTP_PORT_A"]), int(E["RTP_PORT_B"])
    host_a = (E["NS_A"], E["ADDR_A"], port_a)
    host_b = (E["NS_B"], E["ADDR_B"], port_b)
    if srtp_caller:
        # The caller offered SAVP with its keys; rtprelay answered with one suite and its
        # own key; the callee got plain RTP/AVP.
        tag, suite, relay_key = logged(uac_log, "ANSWER-CRYPTO")
        check(ans[2] == "RTP/SAVP", "caller's 200 OK is RTP/SAVP (%s)" % ans[2])
        suites = E["CALLER_SUITES"].split(",")
        keys = E["CALLER_KEYS"].split(",")
        i = int(tag) - 1
        check(0 <= i < len(suites) and suites[i] == suite,
              "rtprelay's answer names one of the caller's lines: tag %s %s" % (tag, suite))
        check(suite == suites[0], "rtprelay took the caller's first (preferred) suite %s" % suites[0])
        check(relay_key not in keys, "rtprelay answered with its own key, not the caller's")
        # Then the plain callee re-INVITEs; Kamailio routes it upstream without SRTP flags.
        # The caller must still be offered SRTP (no downgrade); when its suite is the one
        # the interface offers, with the key it already has. The caller answers with a new
        # key of its own (KEY_RE): the media below runs on the re-negotiated keys.
        if not check(wait_for(lambda: logged(uac_log, "REINVITE-MEDIA"), 20, step=0.1),
                     "the caller got the callee's re-INVITE"):
            return
        re_port, re_proto = logged(uac_log, "REINVITE-MEDIA")
        re_crypto = logged(uac_log, "REINVITE-CRYPTO") or []
        check(re_proto == "RTP/SAVP" and len(re_crypto) == 3,
              "the callee's plain re-INVITE reaches the caller as RTP/SAVP with a=crypto (%s %s)" % (re_proto, re_crypto))
        check(int(re_port) == a_to[1], "the re-INVITE keeps rtprelay's port for the caller (%s)" % re_port)
        if len(re_crypto) != 3:
            return
        _, re_suite, re_key = re_crypto
        if re_suite == suite:
            check(re_key == relay_key, "the re-INVITE keeps rtprelay's key for the caller")
        a_send, a_recv = (re_suite, E["KEY_RE"]), (re_suite, re_key)
        b_send = b_recv = None
        what_a, what_b = "SRTP (%s)" % re_suite, "RTP"
    else:
        # The caller offered plain RTP; the callee got SAVP with one key of rtprelay's and
        # answered with its own.
        tag, suite, relay_key = logged(uas_log, "OFFER-CRYPTO")
        check(off[2] == "RTP/SAVP", "callee's INVITE is RTP/SAVP (%s)" % off[2])
        check(suite == "AES_CM_128_HMAC_SHA1_80", "callee was offered AES_CM_128_HMAC_SHA1_80 (%s)" % suite)
        check(relay_key != E["CALLEE_KEY"], "rtprelay's key for the callee is not the callee's own")
        a_send = a_recv = None
        b_send, b_recv = (suite, E["CALLEE_KEY"]), (suite, relay_key)
        what_a, what_b = "RTP", "SRTP (%s)" % suite

    r = transfer(host_a, host_b, a_to, send_crypto=a_send, recv_crypto=b_recv, ssrc=0xA100)
    check(r["ok"] >= COUNT - 3 and r["auth_failed"] == 0 and r["bad_payload"] == 0 and
          r["from"] == "%s:%d" % b_to,
          "caller %s -> callee %s: %d/%d arrived intact from %s (%s)" % (what_a, what_b, r["ok"], COUNT, b_to, r))
    r = transfer(host_b, host_a, b_to, send_crypto=b_send, recv_crypto=a_recv, ssrc=0xB100)
    check(r["ok"] >= COUNT - 3 and r["auth_failed"] == 0 and r["bad_payload"] == 0 and
          r["from"] == "%s:%d" % a_to,
          "callee %s -> caller %s: %d/%d arrived intact from %s (%s)" % (what_b, what_a, r["ok"], COUNT, a_to, r))
    rtcp_a, rtcp_b = (host_a[0], host_a[1], port_a + 1), (host_b[0], host_b[1], port_b + 1)
    r = transfer(rtcp_a, rtcp_b, (a_to[0], a_to[1] + 1), a_send, b_recv, count=RTCP_COUNT, rtcp=True, ssrc=0xA100)
    check(r["ok"] >= RTCP_COUNT - 3 and r["auth_failed"] == 0,
          "RTCP caller -> callee: %d/%d (%s)" % (r["ok"], RTCP_COUNT, r))
    r = transfer(rtcp_b, rtcp_a, (b_to[0], b_to[1] + 1), b_send, a_recv, count=RTCP_COUNT, rtcp=True, ssrc=0xB100)
    check(r["ok"] >= RTCP_COUNT - 3 and r["auth_failed"] == 0,
          "RTCP callee -> caller: %d/%d (%s)" % (r["ok"], RTCP_COUNT, r))

    ng = NgClient(port=int(E["NG_PORT"]))
    q = ng.request({"command": "query", "call-id": call_id})
    check(text(q.get("result")) == "ok", "rtprelay knows the call Kamailio set up (%s)" % call_id)
    per_tag = {}
    for name, t in q.get("tags", {}).items():
        pk = 0
        for m in t.get("medias", []):
            for s in m.get("streams", []):
                pk += s.get("stats", {}).get("packets", 0)
        per_tag[text(name)] = pk
    print("   rtprelay per-tag packets received: %s" % per_tag)
    check(len(per_tag) == 2 and all(v >= COUNT - 3 for v in per_tag.values()),
          "rtprelay counted the media of both sides of the call")
    d = ng.request({"command": "statistics"})["statistics"]["dataplane"]
    check(d["drops"]["srtp_auth_failed"] == 0, "no SRTP authentication failures at rtprelay")


if __name__ == "__main__":
    run_checks(main)
