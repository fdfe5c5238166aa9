"""Media for the Kamailio call test, run inside the relay's namespace while the SIPp call
is up: reads the media addresses each side got in its SDP (from the SIPp logs), checks
they are rtprelay's, sends RTP both ways between the hosts' media addresses through
those, and checks what arrived and what rtprelay counted for the call.
    call_media.py UAC_LOG UAS_LOG"""

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




def main(uac_log, uas_log):
    offer = answer = None
    if not wait_for(lambda: logged(uas_log, "OFFER-MEDIA") and logged(uac_log, "ANSWER-MEDIA"), 30, step=0.1):
        check(False, "both SIPp sides logged the SDP they received")
        return
    call_id, b_addr, b_port = offer = logged(uas_log, "OFFER-MEDIA")
    _, a_addr, a_port = answer = logged(uac_log, "ANSWER-MEDIA")
    print("   call %s: callee got %s:%d in the INVITE, caller got %s:%d in the 200 OK" %
          (call_id, b_addr, b_port, a_addr, a_port))
    check(b_addr == E["RELAY_B"], "callee saw rtprelay's B address %s in the INVITE SDP (%s)" % (E["RELAY_B"], b_addr))
    check(a_addr == E["RELAY_A"], "caller saw rtprelay's A address %s in the 200 OK SDP (%s)" % (E["RELAY_A"], a_addr))
    check(offer[2] != int(E["RTP_PORT_A"]) and answer[2] != int(E["RTP_PORT_B"]), "ports rewritten too")

    a = host_socket(E["NS_A"], E["ADDR_A"], int(E["RTP_PORT_A"]))
    b = host_socket(E["NS_B"], E["ADDR_B"], int(E["RTP_PORT_B"]))
    n = 50
    to_b = [rtp_packet(0xA0A0, 1000 + i, 160 * i, bytes([i]) * 160) for i in range(n)]
    to_a = [rtp_packet(0xB0B0, 5000 + i, 160 * i, bytes([255 - i]) * 160) for i in range(n)]
    for i in range(n):
        a.sendto(to_b[i], (a_addr, a_port))
        b.sendto(to_a[i], (b_addr, b_port))
        time.sleep(0.01)
    got_b = drain(b, (b_addr, b_port), set(to_b))
    got_a = drain(a, (a_addr, a_port), set(to_a))
    # The first packet of a direction may wait for ARP at the relay: allow a little loss.
    check(got_b >= n - 3, "RTP caller -> callee through rtprelay: %d/%d arrived from %s:%d" % (got_b, n, b_addr, b_port))
    check(got_a >= n - 3, "RTP callee -> caller through rtprelay: %d/%d arrived from %s:%d" % (got_a, n, a_addr, a_port))

    ng = NgClient(port=int(E["NG_PORT"]))
    q = ng.request({"command": "query", "call-id": call_id})
    check(text(q.get("result")) == "ok", "rtprelay knows the call Kamailio set up (%s)" % call_id)
    tags = q.get("tags", {})
    per_tag = {}
    for name, t in tags.items():
        pk = 0
        for m in t.get("medias", []):
            for s in m.get("streams", []):
                pk += s.get("stats", {}).get("packets", 0)
        per_tag[name] = pk
    print("   rtprelay per-tag packets received: %s" % per_tag)
    check(len(per_tag) == 2 and all(v >= n - 3 for v in per_tag.values()),
          "rtprelay counted RTP from both sides of the call")
    a.close()
    b.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
    if failures:
        print("%d check(s) failed" % len(failures))
        sys.exit(1)
    print("media checks passed")
