"""A recording disk that fills up (run_e2e.sh mounts a 64 KiB tmpfs as the recording
directory): the recordings fail cleanly and are counted (NG statistics, /metrics), every
packet of the recorded calls is still relayed, new calls still work, the relay stays up
(and exits 0 on SIGTERM: run_e2e.sh checks). Runs inside the relay's namespace."""

import os
import re
import time
import urllib.request

from rtptest import NgClient, call_drops, check, drain, host_socket, ping, run_checks, text, wait_for
from rtptest import audio_sdp as sdp, parse_audio_sdp as parse
from recording_check import RtpSender

E = os.environ
NS_A, NS_B, IP_A, IP_B = E["NS_A"], E["NS_B"], E["ADDR_A"], E["ADDR_B"]
METRICS = "http://%s/metrics" % E["METRICS_ADDR"]


def metric(name, labels=""):
    body = urllib.request.urlopen(METRICS, timeout=5).read().decode()
    m = re.search(r"^%s%s (\S+)$" % (re.escape(name), re.escape(labels)), body, re.M)
    return float(m.group(1)) if m else None


def recorded_call(ng, call_id, pa, pb, seconds):
    """A plain call recorded from its offer, both legs sending `seconds` of audio at once."""
    o = ng.request({"command": "offer", "call-id": call_id, "from-tag": "A", "sdp": sdp(IP_A, pa),
                    "direction": ["a", "b"], "record call": "yes"})
    check(text(o.get("result")) == "ok", "%s: offer ok" % call_id)
    a = ng.request({"command": "answer", "call-id": call_id, "from-tag": "A", "to-tag": "B", "sdp": sdp(IP_B, pb)})
    check(text(a.get("result")) == "ok", "%s: answer ok" % call_id)
    to_b, to_a = parse(o["sdp"]), parse(a["sdp"])
    sa, sb = host_socket(NS_A, IP_A, pa), host_socket(NS_B, IP_B, pb)
    audio = bytes(range(256)) * (seconds * 50 * 160 // 256 + 1)
    senders = [RtpSender(sa, (to_a["addr"], to_a["port"]), audio[:seconds * 8000], 0x10),
               RtpSender(sb, (to_b["addr"], to_b["port"]), audio[:seconds * 8000], 0x20)]
    for s in senders:
        s.start()
    return senders, (sa, sb)


def main():
    ng = NgClient(port=int(E["NG_PORT"]))
    check(wait_for(lambda: ping(ng), 20), "relay answers ping")
    check(metric("rtprelay_recordings_failed_total") == 0, "no failure counted yet")
    # 6 s of two legs: ~120 KB of pcap for a 64 KiB disk, and a WAV that cannot fit either.
    calls = [recorded_call(ng, "full-%d" % i, 36000 + 4 * i, 36002 + 4 * i, 6) for i in range(2)]
    for senders, socks in calls:
        for s in senders:
            s.join()
    time.sleep(0.3)
    sent = sum(len(s.sent) for senders, _ in calls for s in senders)
    relayed = errors = 0
    for i in range(2):
        q = ng.request({"command": "query", "call-id": "full-%d" % i})
        relayed += q["totals"]["RTP"]["packets"]
        errors += q["totals"]["RTP"]["errors"]
        check(text(q["recording"]["state"]) == "failed" and "No space left" in text(q["recording"]["error"]),
              "full-%d: query says the recording failed: %s" % (i, text(q["recording"].get("error", b""))))
    # The relay's own count: what it dropped of these calls was for the usual start-of-call
    # reason (a first packet before its next hop's ARP answer), none for the recording.
    # Frames the relay received that the calls did not send: not_for_us may only be those.
    dp = ng.request({"command": "statistics"})["statistics"]["dataplane"]
    strays = dp["rx packets"] - dp["arp"] - dp["icmp echo replies"] - sent
    drops = call_drops(dp["drops"], strays)
    check(set(drops) <= {"no_neighbour"} and errors == sum(drops.values()) and relayed + errors >= sent - 5,
          "the recorded calls' packets were relayed (%d of %d sent, drops %s, %d frames not the calls')"
          % (relayed, sent, drops, strays))
    for i in range(2):
        check(text(ng.request({"command": "delete", "call-id": "full-%d" % i}).get("result")) == "ok",
              "full-%d: deleted" % i)
    for _, socks in calls:
        for s in socks:
            drain(s)
            s.close()
    check(wait_for(lambda: metric("rtprelay_recordings_active") == 0, 10), "nothing left open")
    failed = metric("rtprelay_recordings_failed_total")
    check(failed is not None and failed >= 2, "/metrics counts the failed recordings (%s)" % failed)
    lost = metric("rtprelay_recording_packets_lost_total")
    check(lost is not None and lost > 0, "/metrics counts the packets the failed recordings lost (%s)" % lost)
    st = ng.request({"command": "statistics"})["statistics"]["recording"]
    check(st["failed"] >= 2 and st["finished"] == 0, "NG statistics count them too (%s)" % st)
    # The disk is still full: a new recorded call fails to record, and relays.
    senders, socks = recorded_call(ng, "after", 36100, 36102, 1)
    for s in senders:
        s.join()
    time.sleep(0.2)
    q = ng.request({"command": "query", "call-id": "after"})
    check(q["totals"]["RTP"]["packets"] >= 95 and q["totals"]["RTP"]["errors"] == 0,
          "a call made on the full disk relays (%d of 100)" % q["totals"]["RTP"]["packets"])
    ng.request({"command": "delete", "call-id": "after"})
    for s in socks:
        drain(s)
        s.close()
    check(ping(ng), "the relay is up")


if __name__ == "__main__":
    run_checks(main)
