"""Through Kamailio: its rtpengine set holds two nodes of a group (node 1 first). A SIPp call
goes through node 1; RTP flows both ways; node 1 is killed (kill -9) mid-call. Node 2 takes
node 1's addresses and the call over and relays it. At the BYE, Kamailio's module finds node
1 dead, marks it disabled and sends the BYE's `$rtpestat` query and the delete to node 2
(WITH_RTPRELAY_GROUP: the module does not pin the call to node 1), which answers both: the
query with the call's totals, the delete cleanly. Runs inside the
relay namespace (run_ha.sh with HA_SIPNET=1: SIP links of tests/e2e/kamailio/sipnet.sh)."""

import os
import time

from hanodes import Node, holds, redis
from hasip import Kamailio, sipp_call
from mediaflow import Media, Stream, host_socket
from rtptest import check, run_checks, sipp_logged, wait_for

E = os.environ
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "../../.."))
KAM = os.path.join(REPO, "tests/e2e/kamailio")
A1, A3, B1, B3 = "198.18.1.1", "198.18.1.3", "198.18.2.1", "198.18.2.3"
HOLD_MS = 12000


def main():
    both = dict(a_addrs=[A1, A3], b_addrs=[B1, B3])
    n1 = Node(1, home=[A1, B1], **both).start()
    n2 = Node(2, home=[A3, B3], **both).start()
    check(wait_for(lambda: holds("n1", A1) and holds("n2", A3), 10), "both nodes hold their addresses")

    kam = Kamailio("udp:127.0.0.1:2223=1000 udp:127.0.0.1:2224=1", defines=["WITH_RTPRELAY_GROUP"])
    try:
        check(kam.running(), "Kamailio runs with both nodes in its rtpengine set")
        time.sleep(1.0)
        uas, uac, uas_log, uac_log = sipp_call(os.path.join(KAM, "uas.xml"), os.path.join(KAM, "uac.xml"), HOLD_MS, 80)
        ok = wait_for(lambda: sipp_logged(uas_log, "OFFER-MEDIA") and sipp_logged(uac_log, "ANSWER-MEDIA"), 20)
        check(ok, "the call is set up through Kamailio")
        call_id, b_addr, b_port = sipp_logged(uas_log, "OFFER-MEDIA")
        _, a_addr, a_port = sipp_logged(uac_log, "ANSWER-MEDIA")
        check(a_addr == A1 and b_addr == B1, "on node 1's media addresses (%s, %s)" % (a_addr, b_addr))

        media = Media(period=0.02)
        ab = Stream("A->B", 0x5001, host_socket(E["NS_A"], E["ADDR_A"], 30000),
                    host_socket(E["NS_B"], E["ADDR_B"], 40000), (a_addr, a_port))
        ba = Stream("B->A", 0x5002, ab.rx, ab.tx, (b_addr, b_port))
        media.streams = [ab, ba]
        for s in media.streams:
            s.on = True
        media.start()
        time.sleep(2.0)
        check(len(ab.received) > 50 and len(ba.received) > 50, "RTP both ways through node 1")
        killed = n1.kill9()
        check(n2.wait_log("calls adopted", 5), "node 2 adopts the call")
        time.sleep(2.5)
        for s in media.streams:
            gap = s.longest_gap()
            after = [q for q in s.received if s.sent_at[q] > killed + 1.5]
            print("GAP kamailio %s %.0f ms" % (s.name, gap * 1000))
            check(len(after) > 20 and gap < 2.0, "%s: RTP flows again through node 2 (gap %.0f ms)" %
                  (s.name, gap * 1000))

        # The BYE (SIPp hangs up after HOLD_MS): $rtpestat and delete reach node 2.
        check(uac.wait(60) == 0 and uas.wait(30) == 0, "the call completes INVITE/200/ACK/BYE/200 (SIPp exit 0)")
        media.stop()
        check("media of %s: deleted" % call_id in kam.log_text(), "Kamailio's delete for the BYE succeeds")
        check(n2.wait_log('msg="call closed" call-id=%s reason=deleted' % call_id, 10),
              "the BYE's delete closes the call on node 2")
        check(redis("EXISTS", "rtprelay:t:call:" + call_id) == "(integer) 0", "its record is gone")
    finally:
        kam.stop()
    check(n2.stop() == 0, "node 2 stops cleanly")


run_checks(main)
