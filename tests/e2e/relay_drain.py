"""SIGTERM while calls flow (run_e2e.sh with DRAIN_TIME set; DRAIN_MODE picks the ending):
the relay refuses new calls at once (`load limit` to proxies that support it, else "Parallel
session limit reached"), keeps relaying the calls it admitted, both ways, with no packet
lost, and then exits 0 with its final counters, whose accounting must hold. Every call ends
in the books: a `call closed` line each, with reason `drain` for those still open when the
relay stopped (or `deleted`), and a `final calls` line whose closes by reason add up to the
calls created (the figures rtprelay_sessions_closed_total{reason} ends with).

  timer          calls stay up: the relay exits when DRAIN_TIME is over, not before
  calls-end      the calls are deleted during the drain: the relay exits right after
  second-signal  a SIGINT during the drain: the relay exits at once

Media is RTP at 100 packets/s per direction per call, so a lost packet shows as a missing
sequence number; each packet is compared byte for byte."""

import os
import re
import signal
import time

from mediaflow import Media, Stream, host_socket
from rtptest import NgClient, call_drops, check, media_of, ping, run_checks, sdp_for, text, wait_for

E = os.environ
PID = int(E["RELAY_PID"])
DRAIN = int(E["DRAIN_TIME"])
MODE = E.get("DRAIN_MODE", "timer")


def relay_alive():
    try:
        with open("/proc/%d/stat" % PID) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def relay_log():
    with open(E["RELAY_LOG"], errors="replace") as f:
        return f.read()


def offer(ng, call_id, port, supports_load_limit=False):
    req = {"command": "offer", "call-id": call_id, "from-tag": "f-" + call_id,
           "sdp": sdp_for(E["ADDR_A"], port), "direction": ["a", "b"]}
    if supports_load_limit:
        req["supports"] = ["load limit"]
    return ng.request(req)


def answer(ng, call_id, port):
    return ng.request({"command": "answer", "call-id": call_id, "from-tag": "f-" + call_id,
                       "to-tag": "t-" + call_id, "sdp": sdp_for(E["ADDR_B"], port)})


def final_counters(log):
    """rx, relayed rtp, relayed rtcp, arp, icmp, dropped from the "final counters" line."""
    m = re.search(r'msg="final counters"(.*)', log)
    if not m:
        return None
    f = dict((k, int(v)) for k, v in re.findall(r" (\w+)=(\d+)", m.group(1)))
    keys = ("rx_packets", "relayed_rtp", "relayed_rtcp", "arp", "icmp_echo_replies", "dropped")
    return [f[k] for k in keys] if all(k in f for k in keys) else None


def call_closes(log):
    """(call-id, reason) of every `call closed` line, sorted."""
    return sorted(re.findall(r'^level=info msg="call closed" call-id=(\S+) reason=(\w+) ', log, re.M))


def final_calls(log):
    """The `final calls` line's fields as integers, or None."""
    m = re.search(r'^level=info msg="final calls" (.*)$', log, re.M)
    return dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", m.group(1))) if m else None


def wait_exit(timeout):
    """Seconds until the relay's process is gone, or None."""
    start = time.monotonic()
    if wait_for(lambda: not relay_alive(), timeout, step=0.05):
        return time.monotonic() - start
    return None


def main():
    ng = NgClient(port=int(E["NG_PORT"]))
    check(wait_for(lambda: ping(ng), 20), "relay answers ping")
    media = Media()

    # Call 1: answered before the signal. Call 2: offered before, answered during the drain
    # (it was admitted at its offer, so the drain must let it finish setting up).
    legs = {}
    for n, call_id in enumerate(["drain-1", "drain-2"]):
        a_port, b_port = 30000 + 10 * n, 40000 + 10 * n
        a = host_socket(E["NS_A"], E["ADDR_A"], a_port)
        b = host_socket(E["NS_B"], E["ADDR_B"], b_port)
        r = offer(ng, call_id, a_port)
        check(text(r["result"]) == "ok", "%s offered" % call_id)
        legs[call_id] = (a, b, media_of(r["sdp"]), b_port)
    a1, b1, to_b1, b1_port = legs["drain-1"]
    r = answer(ng, "drain-1", b1_port)
    check(text(r["result"]) == "ok", "drain-1 answered")
    to_a1 = media_of(r["sdp"])
    s1 = [Stream("drain-1 A->B", 0x1001, a1, b1, to_a1[:2]), Stream("drain-1 B->A", 0x1002, b1, a1, to_b1[:2])]
    media.streams += s1
    a2, b2, to_b2, b2_port = legs["drain-2"]
    s2 = [Stream("drain-2 A->B", 0x2001, a2, b2, None), Stream("drain-2 B->A", 0x2002, b2, a2, to_b2[:2])]
    media.streams += s2
    for s in s1:
        s.on = True
    media.start()
    check(wait_for(lambda: all(len(s.received) >= 20 for s in s1), 10), "drain-1 media flows both ways")

    # SIGTERM: the drain starts.
    t0 = time.monotonic()
    os.kill(PID, signal.SIGTERM)
    check(wait_for(lambda: "draining: new calls refused" in relay_log(), 5), "relay logs that it drains")
    r = offer(ng, "late-1", 30100, supports_load_limit=True)
    check(text(r["result"]) == "load limit", "new call during the drain: result 'load limit' (%s)" % text(r["result"]))
    r = offer(ng, "late-2", 30110)
    check(text(r["result"]) == "error" and text(r.get("error-reason")) == "Parallel session limit reached",
          "new call without `supports: load limit`: 'Parallel session limit reached' (%s)" % text(r.get("error-reason")))
    check(ping(ng), "ping still answered during the drain")
    r = answer(ng, "drain-2", b2_port)
    check(text(r["result"]) == "ok", "drain-2 (offered before the signal) answered during the drain")
    s2[0].dst = media_of(r["sdp"])[:2]
    for s in s2:
        s.on = True
    # A re-INVITE of an admitted call is not a new call: it goes through, media undisturbed.
    r = ng.request({"command": "offer", "call-id": "drain-1", "from-tag": "f-drain-1", "to-tag": "t-drain-1",
                    "sdp": sdp_for(E["ADDR_A"], 30000), "direction": ["a", "b"]})
    check(text(r["result"]) == "ok" and media_of(r["sdp"]) == to_b1,
          "re-INVITE of drain-1 during the drain: offer ok, same relay address and port (%s)" % text(r["result"]))
    r = answer(ng, "drain-1", b1_port)
    check(text(r["result"]) == "ok" and media_of(r["sdp"]) == to_a1, "re-INVITE of drain-1 answered")
    ng.request({"command": "undrain"})
    r = offer(ng, "late-3", 30120)
    check(text(r["result"]) == "error", "NG undrain does not reopen a node that is shutting down")
    st = ng.request({"command": "statistics"})["statistics"]
    check(st["refused"]["draining"] >= 3, "refusals counted as draining (%s)" % st["refused"])
    calls = sorted(text(c) for c in ng.request({"command": "list"})["calls"])
    check(calls == ["drain-1", "drain-2"], "refused offers left no call behind (%s)" % calls)
    check(wait_for(lambda: all(len(s.received) >= 20 for s in s2), 10), "drain-2 media flows both ways")

    if MODE == "timer":
        # Stream until shortly before the drain time is over; the relay must still be there.
        time.sleep(max(0.0, t0 + DRAIN - 1.5 - time.monotonic()))
        late = time.monotonic() - t0
        alive = relay_alive()
        media.stop()
        if late < DRAIN - 0.5:
            check(alive, "relay still relaying %.1f s into a %d s drain" % (late, DRAIN))
        took = wait_exit(DRAIN + 10)
        check(took is not None, "relay exits when the drain time is over")
        if took is not None:
            total = time.monotonic() - t0
            check(total >= DRAIN - 0.2, "relay exited %.1f s after SIGTERM (drain time %d s)" % (total, DRAIN))
        check("drain time (%d s) over" % DRAIN in relay_log(), "log: drain time over")
    elif MODE == "calls-end":
        time.sleep(1.0)
        media.stop()
        for call_id in ["drain-1", "drain-2"]:
            r = ng.request({"command": "delete", "call-id": call_id, "from-tag": "f-" + call_id})
            check(text(r["result"]) == "ok", "%s deleted" % call_id)
        took = wait_exit(10)
        check(took is not None and took < 5, "relay exits right after the last call ends (%s s; drain time %d s)"
              % (None if took is None else round(took, 1), DRAIN))
        check("drain done: the last call ended" in relay_log(), "log: drain done")
    elif MODE == "second-signal":
        time.sleep(1.0)
        media.stop()
        check(relay_alive(), "relay still draining before the second signal")
        os.kill(PID, signal.SIGINT)
        took = wait_exit(10)
        check(took is not None and took < 5, "a second signal (SIGINT) exits at once (%s s)"
              % (None if took is None else round(took, 1)))
        check("drain cut short by a second signal" in relay_log(), "log: drain cut short")
    else:
        check(False, "unknown DRAIN_MODE %s" % MODE)

    received = 0
    for s in media.streams:
        lost = s.lost_since_first()
        received += len(s.received)
        check(not lost and s.bad == 0 and len(s.received) > 0,
              "%s: %d sent, %d received intact, none lost once flowing (lost: %s, before: %d, altered: %d)"
              % (s.name, len(s.sent), len(s.received), lost[:10], min(s.received or [0]), s.bad))
    log = relay_log()
    c = final_counters(log)
    check(c is not None, "final counters in the log")
    if c:
        rx, rtp, rtcp, arp, icmp, dropped = c
        check(rx == rtp + rtcp + arp + icmp + dropped,
              "accounting: rx %d = relayed %d + %d + arp %d + icmp %d + dropped %d" % (rx, rtp, rtcp, arp, icmp, dropped))
        check(rtp >= received, "relay counted at least the %d packets the hosts received as relayed (%d)"
              % (received, rtp))
        # Frames the relay received that no stream sent: not_for_us may only be those.
        strays = rx - arp - icmp - sum(len(s.sent) for s in media.streams)
        drops = call_drops({k: int(v) for k, v in re.findall(r'msg="final drops" reason=(\w+) packets=(\d+)', log)},
                           strays)
        check(set(drops) <= {"no_neighbour"} and drops.get("no_neighbour", 0) <= len(media.streams),
              "the relay dropped nothing but a call's first packets waiting for ARP (%s; %d frames not the calls')"
              % (drops, strays))

    # The books: both calls closed once, by the drain unless they were deleted.
    reason = "deleted" if MODE == "calls-end" else "drain"
    closes = call_closes(log)
    check(closes == [("drain-1", reason), ("drain-2", reason)],
          "each call closed once with reason %s (%s)" % (reason, closes))
    f = final_calls(log)
    check(f is not None, "final calls line in the log")
    if f:
        by_reason = dict((k, v) for k, v in f.items() if k not in ("created", "closed", "closed_now"))
        check(f["created"] == 2 and f["closed"] == 2 and sum(by_reason.values()) == 2 and by_reason.get(reason) == 2,
              "final calls: 2 created, 2 closed, both by %s (%s)" % (reason, f))
        check(f["closed_now"] == (0 if MODE == "calls-end" else 2),
              "final calls: closed at the stop %d (%s)" % (f["closed_now"], MODE))
        check(log.index('msg="final calls"') < log.index('msg="final counters"'),
              "calls closed before the workers stopped")


if __name__ == "__main__":
    run_checks(main)
