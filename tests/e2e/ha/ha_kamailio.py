"""Through Kamailio: its rtpengine set holds two nodes of a group (node 1 first). A SIPp call
goes through node 1; RTP flows both ways; node 1 is killed (kill -9) mid-call. Node 2 takes
node 1's addresses and the call over and relays it. At the BYE, Kamailio's module finds node
1 dead, marks it disabled and sends the BYE's `$rtpestat` query and the delete to node 2
(WITH_RTPRELAY_GROUP: the module does not pin the call to node 1), which answers both: the
query with the call's totals, the delete cleanly. Runs inside the
relay namespace (run_ha.sh with HA_SIPNET=1: SIP links of tests/e2e/kamailio/sipnet.sh)."""

import os
import re
import subprocess
import time

from hanodes import Node, redis
from mediaflow import Media, Stream, host_socket
from rtptest import check, run_checks, sipp_logged, wait_for

E = os.environ
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "../../.."))
KAM = os.path.join(REPO, "tests/e2e/kamailio")
CFG = os.path.join(REPO, "deploy/kamailio/kamailio-rtprelay.cfg")
A1, A3, B1, B3 = "198.18.1.1", "198.18.1.3", "198.18.2.1", "198.18.2.3"
HOLD_MS = 12000


def main():
    tmp = E["HA_TMP"]
    both = dict(a_addrs=[A1, A3], b_addrs=[B1, B3])
    n1 = Node(1, home=[A1, B1], **both).start()
    n2 = Node(2, home=[A3, B3], **both).start()
    check(wait_for(lambda: redis("GET", "rtprelay:t:lease:" + A1) == '"n1"' and
                   redis("GET", "rtprelay:t:lease:" + A3) == '"n2"', 10), "both nodes hold their addresses")

    ng_set = "udp:127.0.0.1:2223=1000 udp:127.0.0.1:2224=1"
    run = os.path.join(tmp, "run")
    os.makedirs(run, exist_ok=True)
    kam_log = open(os.path.join(tmp, "kamailio.log"), "w")
    kam = subprocess.Popen(["kamailio", "-f", CFG, "-DD", "-E", "-n", "2", "-m", "64", "-M", "8",
                            "-P", os.path.join(tmp, "kamailio.pid"), "-Y", run, "-w", tmp,
                            "-l", "udp:%s:5060" % E["SIP_PROXY_A"], "-l", "udp:%s:5060" % E["SIP_PROXY_B"],
                            "-A", 'RTPRELAY_NG="%s"' % ng_set, "-A", 'CALLER_IF="a"', "-A", 'CALLEE_IF="b"',
                            "-A", "WITH_RTPRELAY_GROUP"],
                           stdout=kam_log, stderr=subprocess.STDOUT)
    try:
        check(wait_for(lambda: "INFO" in open(kam_log.name).read() or kam.poll() is not None, 10) and
              kam.poll() is None, "Kamailio runs with both nodes in its rtpengine set")
        time.sleep(1.0)
        uas_log, uac_log = os.path.join(tmp, "uas_logs.log"), os.path.join(tmp, "uac_logs.log")
        uas = subprocess.Popen(["ip", "netns", "exec", E["NS_B"], "timeout", "90", "sipp", "-sf",
                                os.path.join(KAM, "uas.xml"), "-i", E["SIP_B"], "-p", "5080", "-m", "1", "-nostdin",
                                "-key", "rtp_addr", E["ADDR_B"], "-key", "rtp_port", "40000", "-timeout", "80s",
                                "-trace_logs", "-log_file", uas_log, "-trace_err", "-error_file",
                                os.path.join(tmp, "uas_errors.log")], cwd=tmp,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        uac = subprocess.Popen(["ip", "netns", "exec", E["NS_A"], "timeout", "90", "sipp", "-sf",
                                os.path.join(KAM, "uac.xml"), "%s:5060" % E["SIP_PROXY_A"], "-i", E["SIP_A"],
                                "-p", "5060", "-m", "1", "-nostdin", "-s", "callee",
                                "-key", "callee", "%s:5080" % E["SIP_B"], "-key", "rtp_addr", E["ADDR_A"],
                                "-key", "rtp_port", "30000", "-d", str(HOLD_MS), "-timeout", "80s",
                                "-trace_logs", "-log_file", uac_log, "-trace_err", "-error_file",
                                os.path.join(tmp, "uac_errors.log")], cwd=tmp,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
        text = open(kam_log.name).read()
        check("media of %s: deleted" % call_id in text, "Kamailio's delete for the BYE succeeds")
        check(n2.wait_log('msg="call closed" call-id=%s reason=deleted' % call_id, 10),
              "the BYE's delete closes the call on node 2")
        check(redis("EXISTS", "rtprelay:t:call:" + call_id) == "(integer) 0", "its record is gone")
    finally:
        kam.terminate()
        try:
            kam.wait(10)
        except subprocess.TimeoutExpired:
            kam.kill()
    check(n2.stop() == 0, "node 2 stops cleanly")


run_checks(main)
