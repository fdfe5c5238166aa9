"""Kamailio and SIPp for the HA tests that call through Kamailio (run_ha.sh with
HA_SIPNET=1: the SIP links of tests/e2e/kamailio/sipnet.sh). Kamailio runs the deploy
config (deploy/kamailio/kamailio-rtprelay.cfg) on SIP_PROXY_A/SIP_PROXY_B; one SIPp call
goes from NS_A (caller, RTP at ADDR_A:30000) to NS_B (callee, RTP at ADDR_B:40000). Logs
go to HA_TMP."""

import os
import subprocess
import time

from rtptest import wait_for

E = os.environ
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "../../.."))
CFG = os.path.join(REPO, "deploy/kamailio/kamailio-rtprelay.cfg")


class Kamailio:
    """Kamailio whose rtpengine set is `ng_set` ("udp:ADDR:PORT=WEIGHT ..."); defines: more
    -A NAME for the config (e.g. WITH_RTPRELAY_GROUP)."""

    def __init__(self, ng_set, defines=()):
        tmp = E["HA_TMP"]
        run = os.path.join(tmp, "run")
        os.makedirs(run, exist_ok=True)
        self.log_path = os.path.join(tmp, "kamailio.log")
        args = ["kamailio", "-f", CFG, "-DD", "-E", "-n", "2", "-m", "64", "-M", "8",
                "-P", os.path.join(tmp, "kamailio.pid"), "-Y", run, "-w", tmp,
                "-l", "udp:%s:5060" % E["SIP_PROXY_A"], "-l", "udp:%s:5060" % E["SIP_PROXY_B"],
                "-A", 'RTPRELAY_NG="%s"' % ng_set, "-A", 'CALLER_IF="a"', "-A", 'CALLEE_IF="b"']
        for d in defines:
            args += ["-A", d]
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)

    def running(self):
        """Kamailio logged its start-up and still runs (waits up to 10 s)."""
        return wait_for(lambda: "INFO" in self.log_text() or self.proc.poll() is not None, 10) and \
            self.proc.poll() is None

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _sipp(ns, role, scenario, args, limit_s):
    """SIPp in namespace `ns`, one call of `scenario`; its logs HA_TMP/<role>_logs.log and
    <role>_errors.log. limit_s: SIPp's own -timeout; the process is killed 10 s later."""
    tmp = E["HA_TMP"]
    log = os.path.join(tmp, "%s_logs.log" % role)
    proc = subprocess.Popen(["ip", "netns", "exec", ns, "timeout", str(limit_s + 10), "sipp", "-sf", scenario] + args +
                            ["-m", "1", "-nostdin", "-timeout", "%ds" % limit_s, "-trace_logs", "-log_file", log,
                             "-trace_err", "-error_file", os.path.join(tmp, "%s_errors.log" % role)],
                            cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, log


def sipp_call(uas_xml, uac_xml, hold_ms, limit_s):
    """The callee (uas_xml) on SIP_B:5080, then 0.5 s later the caller (uac_xml) through
    Kamailio, hanging up hold_ms after its ACK. Returns (uas, uac, uas_log, uac_log)."""
    uas, uas_log = _sipp(E["NS_B"], "uas", uas_xml, ["-i", E["SIP_B"], "-p", "5080", "-key", "rtp_addr", E["ADDR_B"],
                                                      "-key", "rtp_port", "40000"], limit_s)
    time.sleep(0.5)
    uac, uac_log = _sipp(E["NS_A"], "uac", uac_xml,
                         ["%s:5060" % E["SIP_PROXY_A"], "-i", E["SIP_A"], "-p", "5060", "-s", "callee",
                          "-key", "callee", "%s:5080" % E["SIP_B"], "-key", "rtp_addr", E["ADDR_A"],
                          "-key", "rtp_port", "30000", "-d", str(hold_ms)], limit_s)
    return uas, uac, uas_log, uac_log
