"""Through Kamailio, floating NG addresses: a group of two nodes on bridges, each with its
own MACs and its NG address floating on its management veth (198.19.0.11, 198.19.0.12,
leased with its media addresses). Kamailio (on the management side) runs
deploy/kamailio/kamailio-rtprelay.cfg plainly: rtpengine_offer/answer/delete and $rtpestat,
no via-branch trick. A SIPp call goes through node 1; RTP flows both ways; node 1 is killed
(kill -9, then what the systemd unit's ExecStopPost runs). Node 2 takes node 1's media
addresses, its calls and its NG address. Then the caller's re-INVITE: the module sends its
offer and answer to node 1's NG address, as it pinned the call there, and node 2 answers
both on it (media goes on); at the BYE, $rtpestat's query returns the call's totals from
node 2 and the delete closes the call on node 2. Then node 1 comes back and node 2 hands
everything over to it (rtprelay-ctl handover): the NG addresses move with the rest.
run_ha.sh with HA_BRIDGE=2 HA_SIPNET=1."""

import os
import re
import subprocess
import time

from hanodes import FLOAT_NG, Node, holds, redis
from hasip import Kamailio, sipp_call
from mediaflow import Media, Stream, host_socket
from rtptest import check, run_checks, sipp_logged, wait_for

E = os.environ
HERE = os.path.dirname(os.path.abspath(__file__))
A1, A3, B1, B3 = "198.18.1.1", "198.18.1.3", "198.18.2.1", "198.18.2.3"
HOLD_MS = 4000  # after the re-INVITE (uac_reinvite.xml: the re-INVITE 6 s after the ACK)


def ng_ok(node, command):
    """Node's rtprelay_ng_requests_total{command=COMMAND,result=ok}."""
    return sum(v for k, v in node.metrics().items() if k.startswith("rtprelay_ng_requests_total{") and
               'command="%s"' % command in k and 'result="ok"' in k)


def main():
    both = dict(a_addrs=[A1, A3], b_addrs=[B1, B3], ng_float=True)
    n1 = Node(1, home=[A1, B1], **both).start()
    n2 = Node(2, home=[A3, B3], **both).start()
    check(wait_for(lambda: holds("n1", A1, FLOAT_NG[0]) and holds("n2", FLOAT_NG[1]), 10),
          "each node holds its media addresses and its NG address")
    check(FLOAT_NG[0] in n1.kernel_addresses() and FLOAT_NG[0] not in n2.kernel_addresses() and
          FLOAT_NG[1] in n2.kernel_addresses(), "each NG address is on its holder's management veth only")

    kam = Kamailio("udp:%s:2223=1000 udp:%s:2223=1" % (FLOAT_NG[0], FLOAT_NG[1]))
    try:
        check(kam.running(), "Kamailio runs with both nodes' NG addresses in its rtpengine set")
        time.sleep(1.0)
        uas, uac, uas_log, uac_log = sipp_call(os.path.join(HERE, "uas_reinvite.xml"),
                                               os.path.join(HERE, "uac_reinvite.xml"), HOLD_MS, 50)
        ok = wait_for(lambda: sipp_logged(uas_log, "OFFER-MEDIA") and sipp_logged(uac_log, "ANSWER-MEDIA"), 20)
        check(ok, "the call is set up through Kamailio")
        set_up = time.monotonic()
        call_id, b_addr, b_port = sipp_logged(uas_log, "OFFER-MEDIA")
        _, a_addr, a_port = sipp_logged(uac_log, "ANSWER-MEDIA")
        check(a_addr == A1 and b_addr == B1, "on node 1's media addresses (%s, %s)" % (a_addr, b_addr))
        check(n1.wait_log("call-id=%s" % call_id, 5), "node 1 took the offer")

        media = Media(period=0.02)
        ab = Stream("A->B", 0x5001, host_socket(E["NS_A"], E["ADDR_A"], 30000),
                    host_socket(E["NS_B"], E["ADDR_B"], 40000), (a_addr, a_port))
        ba = Stream("B->A", 0x5002, ab.rx, ab.tx, (b_addr, b_port))
        media.streams = [ab, ba]
        for s in media.streams:
            s.on = True
        media.start()
        time.sleep(1.5)
        check(len(ab.received) > 30 and len(ba.received) > 30, "RTP both ways through node 1")
        before = {c: ng_ok(n2, c) for c in ("offer", "answer", "query", "delete")}
        killed = n1.kill9()
        check(n2.wait_log("calls adopted", 5), "node 2 adopts the call")
        check(n2.wait_log("serving NG address", 5) and
              wait_for(lambda: holds("n2", FLOAT_NG[0]), 5),
              "node 2 holds node 1's NG address lease")
        check(wait_for(lambda: FLOAT_NG[0] in n2.kernel_addresses(), 5) and
              FLOAT_NG[0] not in n1.kernel_addresses(), "node 1's NG address is on node 2's management veth")
        moved = time.monotonic() - killed
        print("NG address moved %.0f ms after the kill, %.1f s after the call's set-up" % (
            moved * 1000, time.monotonic() - set_up))
        check(time.monotonic() - set_up < 5.5, "before the re-INVITE (6 s after the ACK)")

        # The re-INVITE: Kamailio sends its offer and answer to node 1's NG address.
        ok = wait_for(lambda: sipp_logged(uas_log, "REOFFER-MEDIA") and sipp_logged(uac_log, "REANSWER-MEDIA"), 15)
        check(ok, "the re-INVITE's offer and answer succeed through Kamailio")
        if ok:
            _, b2, b2_port = sipp_logged(uas_log, "REOFFER-MEDIA")
            _, a2, a2_port = sipp_logged(uac_log, "REANSWER-MEDIA")
            check((a2, a2_port, b2, b2_port) == (a_addr, a_port, b_addr, b_port),
                  "the re-INVITE keeps the call's addresses and ports (%s:%d, %s:%d)" % (a2, a2_port, b2, b2_port))
        for cmd in ("offer", "answer"):
            check(ng_ok(n2, cmd) - before[cmd] == 1, "node 2 served the re-INVITE's %s" % cmd)
        reinvited = time.monotonic()
        time.sleep(2.0)
        for s in media.streams:
            gap = s.longest_gap()
            after = [q for q in s.received if s.sent_at[q] > reinvited]
            print("GAP kamailio-float %s %.0f ms" % (s.name, gap * 1000))
            check(len(after) > 30 and gap < 2.0, "%s: RTP flows through node 2, also after the re-INVITE (gap %.0f ms)"
                  % (s.name, gap * 1000))

        # The BYE (SIPp hangs up HOLD_MS after the re-INVITE): $rtpestat and delete on node 2.
        check(uac.wait(30) == 0 and uas.wait(15) == 0, "the call completes, re-INVITE and BYE included (SIPp exit 0)")
        media.stop()
        text = kam.log_text()
        m = re.search(r"media of %s: RTP: [0-9]+ bytes, ([0-9]+) packets" % re.escape(call_id), text)
        check(m is not None and int(m.group(1)) > 0, "$rtpestat at the BYE returns the call's totals (%s)" %
              (m.group(0) if m else [line for line in text.splitlines() if "media of" in line]))
        check(ng_ok(n2, "query") - before["query"] >= 1 and ng_ok(n2, "delete") - before["delete"] == 1,
              "node 2 answered that query and the delete")
        check("media of %s: deleted" % call_id in text, "Kamailio's delete for the BYE succeeds")
        check(n2.wait_log('msg="call closed" call-id=%s reason=deleted' % call_id, 10),
              "the BYE's delete closes the call on node 2")
        check(redis("EXISTS", "rtprelay:t:call:" + call_id) == "(integer) 0", "its record is gone")
    finally:
        kam.stop()

    # Node 1 back (it finds its NG address held by node 2 and holds nothing), then a planned
    # handover of everything node 2 holds to it, asked on node 1's address (node 2 answers
    # there): both NG addresses move to node 1, and rtprelay-ctl sees the move complete.
    n1.start()
    check(wait_for(lambda: redis("EXISTS", "rtprelay:t:node:n1") == "(integer) 1", 10), "node 1 restarted")
    check(FLOAT_NG[0] not in n1.kernel_addresses(), "node 1 does not take its NG address back from node 2")
    ctl = os.path.join(E["BUILD_DIR"], "relay", "ctl", "rtprelay-ctl")
    out = subprocess.run([ctl, "--ng", "%s:2223" % FLOAT_NG[0], "handover", "n1"], capture_output=True, text=True,
                         timeout=30)
    check(out.returncode == 0, "rtprelay-ctl handover n1 through node 1's NG address completes (%s)" %
          (out.stdout + out.stderr).strip().splitlines()[:1])
    check(wait_for(lambda: all(a in n1.kernel_addresses() for a in FLOAT_NG[:2]), 5) and
          not any(a in n2.kernel_addresses() for a in FLOAT_NG), "both NG addresses are on node 1's veth now")
    check(holds("n1", FLOAT_NG[1], A3), "node 1 holds node 2's leases, NG and media")
    check(n2.stop() == 0 and n1.stop() == 0, "both nodes stop cleanly")
    check(not any(a in n1.kernel_addresses() + n2.kernel_addresses() for a in FLOAT_NG),
          "the nodes removed the NG addresses when they stopped")


run_checks(main)
