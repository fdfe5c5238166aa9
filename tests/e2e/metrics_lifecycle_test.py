"""Call ends and refusals that need time or a small relay, each triggered for real and seen
in /metrics, in the relay's log (with the call-id) or both: offer, media, silent and final
timeouts; refusals for ports and CPS; NG datagram floods logged through the rate limiter
with a "messages suppressed" count. Runs with run_e2e.sh and
--offer-timeout=2 --timeout=2 --silent-timeout=4 --final-timeout=8 --max-cps=3,
B_PORTS=20000-20005 (three port pairs on interface b)."""

import os
import re
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from metrics_test import delta, host_socket, scrape, try_scrape  # noqa: E402
from rtptest import NgClient, check, media_of, ping, rtp_packet, run_checks, sdp_for, text, wait_for  # noqa: E402

E = os.environ
LOG = "/proc/%s/fd/2" % E["RELAY_PID"]  # the relay's stderr: run_e2e.sh's log file


def log_text():
    with open(LOG, errors="replace") as f:
        return f.read()


def offer(ng, cid, port, mode="sendrecv"):
    time.sleep(0.4)  # stay under --max-cps=3 unless a test means to exceed it
    return ng.request({"command": "offer", "call-id": cid, "from-tag": "f-" + cid, "direction": ["a", "b"],
                       "sdp": sdp_for(E["ADDR_A"], port).replace("a=sendrecv", "a=" + mode)})


def answer(ng, cid, port, mode="sendrecv"):
    return ng.request({"command": "answer", "call-id": cid, "from-tag": "f-" + cid, "to-tag": "t-" + cid,
                       "sdp": sdp_for(E["ADDR_B"], port).replace("a=sendrecv", "a=" + mode)})


def closed(s, reason):
    return s.v("rtprelay_sessions_closed_total", reason=reason)


def log_has(pattern, timeout=3.0):
    return wait_for(lambda: re.search(pattern, log_text(), re.M) is not None, timeout, 0.1)


def main():
    ng = NgClient(port=int(E["NG_PORT"]))
    check(wait_for(lambda: ping(ng), 20), "relay answers NG ping")
    check(wait_for(lambda: try_scrape() is not None, 10), "/metrics answers")
    m0 = scrape()

    # Three calls fill interface b's three port pairs: one never answered, one answered
    # with no media, one answered on hold (a=sendonly).
    o = offer(ng, "lc-offer", 30100)
    o2 = offer(ng, "lc-media", 30110)
    a2 = answer(ng, "lc-media", 40110)
    o3 = offer(ng, "lc-hold", 30120, "sendonly")
    a3 = answer(ng, "lc-hold", 40120, "recvonly")
    check(all(text(r.get("result")) == "ok" for r in (o, o2, a2, o3, a3)), "three calls set up on b's three port pairs")
    check(log_has(r'^level=info msg=offer call-id=lc-media from-tag=f-lc-media result=ok$') and
          log_has(r'^level=info msg=answer call-id=lc-media from-tag=f-lc-media to-tag=t-lc-media result=ok$'),
          "relay log: offer and answer lines with call-id and tags")
    full = offer(ng, "lc-full", 30130)
    m1 = scrape()
    check(text(full.get("result")) == "error" and "Ran out of ports" in text(full.get("error-reason")),
          "fourth offer: Ran out of ports (%s)" % text(full.get("error-reason")))
    check(delta(m0, m1, "rtprelay_sessions_refused_total", reason="ports") == 1,
          "rtprelay_sessions_refused_total{reason=ports} +1")
    check(m1.v("rtprelay_ports_free", interface="b", address=E["RELAY_B"]) == 0,
          "rtprelay_ports_free{interface=b} 0 with the pool dry")
    check(log_has(r'^level=warning msg="NG request failed" command=offer call-id=lc-full from-tag=f-lc-full '
                  r'result=error error-reason="Ran out of ports"'),
          "relay log: the refused offer as a warning with its call-id and error-reason")

    # Offer and media timeouts (2 s) close the first two.
    m2 = [m1]

    def two_closed():
        m2[0] = scrape()
        return (delta(m1, m2[0], "rtprelay_sessions_closed_total", reason="offer_timeout") >= 1 and
                delta(m1, m2[0], "rtprelay_sessions_closed_total", reason="media_timeout") >= 1)
    check(wait_for(two_closed, 10, 0.2), "offer and media timeouts fire within 10 s")
    m2 = m2[0]
    check(delta(m1, m2, "rtprelay_sessions_closed_total", reason="offer_timeout") == 1 and
          delta(m1, m2, "rtprelay_sessions_closed_total", reason="media_timeout") == 1 and
          delta(m1, m2, "rtprelay_sessions_closed_total", reason="silent_timeout") == 0,
          "closed_total{offer_timeout} +1, {media_timeout} +1, the call on hold still open")
    check(log_has(r'^level=info msg="call closed" call-id=lc-offer reason=offer_timeout answered=no') and
          log_has(r'^level=info msg="call closed" call-id=lc-media reason=media_timeout answered=yes'),
          "relay log: one 'call closed' line per call, with call-id and reason")

    # CPS: four new calls at once against --max-cps=3 (bucket full after the pause above).
    time.sleep(1.2)
    results = []
    for i in range(4):
        r = ng.request({"command": "offer", "call-id": "lc-cps%d" % i, "from-tag": "f", "direction": ["a", "b"],
                        "sdp": sdp_for(E["ADDR_A"], 30200 + 2 * i), "supports": ["load limit"]})
        results.append(text(r.get("result")))
        if results[-1] == "ok":
            ng.request({"command": "delete", "call-id": "lc-cps%d" % i, "from-tag": "f"})
    m3 = scrape()
    check(results == ["ok", "ok", "ok", "load limit"], "4 offers at once with --max-cps=3: %s" % results)
    check(delta(m2, m3, "rtprelay_sessions_refused_total", reason="cps") == 1 and
          delta(m2, m3, "rtprelay_ng_requests_total", command="offer", result="load_limit") == 1,
          "rtprelay_sessions_refused_total{reason=cps} +1, ng_requests{offer,load_limit} +1")

    # Silent timeout (4 s) closes the call on hold.
    m4 = [m3]

    def hold_closed():
        m4[0] = scrape()
        return delta(m0, m4[0], "rtprelay_sessions_closed_total", reason="silent_timeout") >= 1
    check(wait_for(hold_closed, 10, 0.2), "silent timeout closes the call on hold")
    check(delta(m0, m4[0], "rtprelay_sessions_closed_total", reason="silent_timeout") == 1 and
          log_has(r'^level=info msg="call closed" call-id=lc-hold reason=silent_timeout'),
          "closed_total{silent_timeout} +1, logged with call-id lc-hold")

    # Final timeout (8 s): a call with media flowing still ends.
    time.sleep(0.5)
    o = offer(ng, "lc-final", 30300)
    a = answer(ng, "lc-final", 40300)
    check(text(o.get("result")) == "ok" and text(a.get("result")) == "ok", "call lc-final set up")
    a_addr, a_port, _ = media_of(a["sdp"])
    tx = host_socket(E["NS_A"], E["ADDR_A"], 30300)
    m5 = scrape()
    seq = 0
    deadline = time.time() + 15
    while time.time() < deadline:
        tx.sendto(rtp_packet(0x77, seq, 160 * seq, b"f" * 160), (a_addr, a_port))
        seq += 1
        time.sleep(0.25)
        if seq % 4 == 0 and delta(m5, scrape(), "rtprelay_sessions_closed_total", reason="final_timeout") >= 1:
            break
    m6 = scrape()
    check(delta(m5, m6, "rtprelay_sessions_closed_total", reason="final_timeout") == 1 and
          delta(m5, m6, "rtprelay_sessions_closed_total", reason="media_timeout") == 0,
          "closed_total{final_timeout} +1 for a call with media flowing (after %.1f s)" % (seq * 0.25))
    check(delta(m5, m6, "rtprelay_media_packets_total", port="0", direction="rx", kind="rtp") >= 4,
          "media of lc-final counted in rtprelay_media_packets_total{port=0,direction=rx,kind=rtp}")
    check(log_has(r'^level=info msg="call closed" call-id=lc-final reason=final_timeout answered=yes duration=[0-9.]+$'),
          "relay log: lc-final closed by final_timeout")
    check(delta(m0, m6, "rtprelay_sessions_created_total") == 3 + 3 + 1,
          "rtprelay_sessions_created_total +7 (3 calls, 3 CPS-admitted, lc-final)")

    # A flood of undecodable datagrams: 10 warnings at once, then a count of the rest.
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    before = log_text().count('msg="NG datagram without a cookie, dropped"')
    for _ in range(200):
        s.sendto(b"no-cookie-here", ("127.0.0.1", int(E["NG_PORT"])))
    time.sleep(0.5)
    time.sleep(1.2)
    s.sendto(b"no-cookie-again", ("127.0.0.1", int(E["NG_PORT"])))
    m7 = [None]

    def all_dropped():
        m7[0] = scrape()
        return delta(m6, m7[0], "rtprelay_ng_dropped_total", reason="malformed") >= 201
    check(wait_for(all_dropped, 5, 0.1), "rtprelay_ng_dropped_total{reason=malformed} +201")
    check(log_has(r'^level=warning msg="messages suppressed" what="ng dropped datagrams" count=\d+$'),
          "relay log: a 'messages suppressed' line for the flood")
    held = sum(int(n) for n in re.findall(r'what="ng dropped datagrams" count=(\d+)', log_text()))
    logged = log_text().count('msg="NG datagram without a cookie, dropped"') - before
    check(10 <= logged <= 12 and logged + held == 201,
          "relay log: %d of 201 undecodable datagrams logged (burst 10, then 1/s), %d counted as suppressed" %
          (logged, held))
    check(log_text().count("\n") < 200, "the flood did not flood the log")


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    run_checks(main)
