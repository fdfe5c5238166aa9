"""rtprelay-ctl against the real rtprelay (run by run_e2e.sh inside the relay's namespace):
a call set up over NG with RTP both ways, then list/query/statistics/delete in text and
--json, error replies, and the message when nothing answers."""

import json
import os
import re
import socket
import subprocess
import time

from rtptest import (check, host_socket, media_of, NgClient, ping, rtcp_sr, rtp_packet, run_checks, sdp_for, text,
                     wait_for)

E = os.environ
CTL = os.path.join(E["BUILD_DIR"], "relay", "ctl", "rtprelay-ctl")
NG = "127.0.0.1:%s" % E["NG_PORT"]


def ctl(*args, ng=NG):
    r = subprocess.run([CTL, "--ng", ng] + list(args), capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout, r.stderr


def ctl_json(*args):
    rc, out, err = ctl("--json", *args)
    try:
        return rc, json.loads(out), err
    except ValueError as e:
        print("   not JSON (%s): %r" % (e, out[:300]))
        return rc, None, err


def plain(v):
    """An NG reply decoded by rtptest (bytes strings) in the shape json.loads gives."""
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    return v


def pump(tx, rx, dst, n, make):
    got = 0
    for i in range(n):
        tx.sendto(make(i), dst)
        try:
            rx.recvfrom(4096)
            got += 1
        except socket.timeout:
            pass
    return got


def row(out, *first_cells):
    """The whitespace-split row of a text table whose first cells are `first_cells`."""
    for line in out.splitlines():
        cells = line.split()
        if cells[:len(first_cells)] == list(first_cells):
            return cells
    return None


def kv(out, name):
    """The integer after `name` on a 'name  value' line of the statistics text."""
    m = re.search(r"^\s+%s\s+(\d+)$" % re.escape(name), out, re.M)
    return int(m.group(1)) if m else None


def drop_count(out, reason):
    """Packets dropped for `reason` in the statistics' drop table (REASON  PACKETS  MEANING), 0
    when it is not listed (only reasons that dropped something are)."""
    r = row(out, reason)
    return int(r[1]) if r is not None and len(r) > 1 and r[1].isdigit() else 0


def setup_call(ng, call_id, a_port, b_port):
    offer = ng.request({"command": "offer", "call-id": call_id, "from-tag": "alice",
                        "sdp": sdp_for(E["ADDR_A"], a_port), "direction": ["a", "b"]})
    answer = ng.request({"command": "answer", "call-id": call_id, "from-tag": "alice", "to-tag": "bob",
                         "sdp": sdp_for(E["ADDR_B"], b_port)})
    return offer, answer


def main():
    ng = NgClient(port=int(E["NG_PORT"]))
    check(wait_for(lambda: ping(ng), 20), "relay answers NG ping")

    rc, out, err = ctl("ping")
    check(rc == 0 and out.startswith("pong from %s" % NG), "ctl ping: %r" % (out or err).strip())
    rc, out, _ = ctl("list")
    check(rc == 0 and out == "no calls\n", "ctl list with no calls says so")

    # One call with RTP and RTCP both ways.
    a_rtp = host_socket(E["NS_A"], E["ADDR_A"], 30000, timeout=1.0)
    a_rtcp = host_socket(E["NS_A"], E["ADDR_A"], 30001, timeout=1.0)
    b_rtp = host_socket(E["NS_B"], E["ADDR_B"], 40000, timeout=1.0)
    b_rtcp = host_socket(E["NS_B"], E["ADDR_B"], 40001, timeout=1.0)
    offer, answer = setup_call(ng, "ctl-1", 30000, 40000)
    check(text(offer.get("result")) == "ok" and text(answer.get("result")) == "ok", "offer and answer ok")
    b_addr, b_port, b_rtcp_port = media_of(offer["sdp"])
    a_addr, a_port, a_rtcp_port = media_of(answer["sdp"])
    n = 30
    got_ab = pump(a_rtp, b_rtp, (a_addr, a_port), n, lambda i: rtp_packet(0x1111, i, 160 * i, b"\xaa" * 160))
    got_ba = pump(b_rtp, a_rtp, (b_addr, b_port), n, lambda i: rtp_packet(0x2222, i, 160 * i, b"\x55" * 160))
    pump(a_rtcp, b_rtcp, (a_addr, a_rtcp_port), 3, lambda i: rtcp_sr(0x1111, packets=i))
    check(got_ab >= n - 2 and got_ba >= n - 2, "RTP relayed both ways (%d, %d of %d)" % (got_ab, got_ba, n))
    # A second call whose id needs escaping in JSON.
    odd_id = 'ctl "odd" \\ id\t2'
    setup_call(ng, odd_id, 30010, 40010)

    rc, out, _ = ctl("list")
    ids = out.splitlines()
    check(rc == 0 and sorted(ids) == sorted(["ctl-1", odd_id]), "ctl list prints both call-ids: %r" % ids)
    rc, j, _ = ctl_json("list")
    check(rc == 0 and j is not None and sorted(j["calls"]) == sorted(["ctl-1", odd_id]),
          "ctl --json list: valid JSON with both ids (quotes, backslash, tab escaped)")

    # query: text table and JSON.
    rc, out, _ = ctl("query", "ctl-1")
    print("   " + out.replace("\n", "\n   ").rstrip())
    check(rc == 0 and out.startswith("call ctl-1, created "), "ctl query: header names the call")
    r_alice = row(out, "alice", "a", "1", "audio", "RTP/AVP", "rtp")
    r_bob = row(out, "bob", "b", "1", "audio", "RTP/AVP", "rtp")
    r_alice_rtcp = row(out, "alice", "a", "1", "audio", "RTP/AVP", "rtcp")
    check(r_alice is not None and r_alice[6] == "%s:%d" % (a_addr, a_port) and r_alice[7] == "%s:30000" % E["ADDR_A"],
          "query row alice/rtp: local %s:%d, endpoint %s:30000 (%s)" % (a_addr, a_port, E["ADDR_A"], r_alice))
    check(r_bob is not None and r_bob[6] == "%s:%d" % (b_addr, b_port) and r_bob[7] == "%s:40000" % E["ADDR_B"],
          "query row bob/rtp: local %s:%d, endpoint %s:40000 (%s)" % (b_addr, b_port, E["ADDR_B"], r_bob))
    check(r_alice is not None and int(r_alice[8]) >= n - 2 and int(r_alice[9]) >= (n - 2) * 172,
          "query row alice/rtp counts the packets and bytes A sent")
    check(r_bob is not None and int(r_bob[8]) >= n - 2, "query row bob/rtp counts the packets B sent")
    check(r_alice_rtcp is not None and r_alice_rtcp[6] == "%s:%d" % (a_addr, a_rtcp_port) and int(r_alice_rtcp[8]) >= 2,
          "query row alice/rtcp: RTCP port and packets")
    tot = row(out, "RTP")
    check(tot is not None and int(tot[1]) >= 2 * n - 4, "query totals RTP: %s" % tot)
    rc, j, _ = ctl_json("query", "ctl-1")
    direct = plain(ng.request({"command": "query", "call-id": "ctl-1"}))
    check(rc == 0 and j == direct, "ctl --json query equals the reply decoded independently")
    rc, out, _ = ctl("query", odd_id)
    check(rc == 0 and row(out, "alice", "a") is not None, "ctl query works for an id with quotes and spaces")

    # statistics: trigger a drop first so a non-zero reason shows, with what it means.
    before = drop_count(ctl("statistics")[1], "unknown_port")
    a_rtp.sendto(b"\x80" * 20, (E["RELAY_A"], 19999))
    wait_for(lambda: drop_count(ctl("statistics")[1], "unknown_port") > before, 5, step=0.2)
    rc, out, _ = ctl("statistics")
    print("   " + out.replace("\n", "\n   ").rstrip())
    check(rc == 0 and kv(out, "sessions") == 2, "ctl statistics: 2 sessions")
    check((kv(out, "calls created") or 0) >= 2, "ctl statistics: calls created")
    check((kv(out, "relayed rtp") or 0) >= 2 * n - 4, "ctl statistics: relayed rtp %s" % kv(out, "relayed rtp"))
    unknown = row(out, "unknown_port")
    check(drop_count(out, "unknown_port") > before and unknown is not None and
          " ".join(unknown[2:]) == "no flow on this local address and port",
          "ctl statistics: non-zero drop unknown_port listed with its meaning (%s)" % unknown)
    drops = out.split("DROP REASON", 1)[-1].split("\n\n", 1)[0].splitlines()[1:]
    check(drops and all(int(l.split()[1]) > 0 for l in drops), "ctl statistics lists only non-zero drops: %s" % drops)
    ra = row(out, "a", E["RELAY_A"])
    rb = row(out, "b", E["RELAY_B"])
    check(ra is not None and ra[3] == "2" and rb is not None and rb[3] == "2",
          "ctl statistics: 2 ports used on each interface address (%s, %s)" % (ra, rb))
    rc, j, _ = ctl_json("statistics")
    s = j["statistics"] if j else {}
    check(rc == 0 and s.get("sessions") == 2 and s["dataplane"]["relayed rtp"] >= 2 * n - 4
          and [i["name"] for i in s["interfaces"]] == ["a", "b"], "ctl --json statistics")

    # delete, then the errors for an unknown call.
    rc, out, _ = ctl("delete", "ctl-1")
    check(rc == 0 and out.startswith("deleted call ctl-1\n") and (row(out, "RTP") or [0, 0])[1] != "0",
          "ctl delete prints the final totals")
    rc, out, _ = ctl("--json", "delete", odd_id)
    check(rc == 0 and json.loads(out).get("result") == "ok", "ctl --json delete")
    rc, out, _ = ctl("list")
    check(rc == 0 and out == "no calls\n", "no calls after delete")
    out = ctl("statistics")[1]
    check(kv(out, "sessions") == 0, "ctl statistics: 0 sessions after delete")
    closed = out.split("calls closed\n", 1)[-1].split("\n\n", 1)[0] if "calls closed\n" in out else ""
    check(kv(closed, "deleted") == 2,
          "ctl statistics: calls closed by reason shows the 2 deletes (%r)" % closed.strip())
    rc, out, err = ctl("query", "ctl-1")
    check(rc == 1 and out == "" and "query failed: Unknown call-id" in err, "query of a deleted call: exit 1, %r" % err.strip())
    rc, out, err = ctl("--json", "delete", "ctl-1")
    check(rc == 1 and json.loads(out).get("result") == "error" and "Unknown call-id" in err,
          "--json delete of an unknown call: error reply printed, exit 1")

    # Nothing listening: exit 1 with the hint, within the tries' time.
    wrong = "127.0.0.1:%d" % (int(E["NG_PORT"]) + 1)
    t0 = time.time()
    rc, out, err = ctl("--timeout", "300", "statistics", ng=wrong)
    took = time.time() - t0
    check(rc == 1 and out == "" and ("rtprelay-ctl: no reply from %s after 3 tries" % wrong) in err
          and "is rtprelay running and is this address allowed?" in err,
          "unreachable daemon: exit 1 with the hint (%r)" % err.strip())
    check(0.8 <= took < 5, "unreachable daemon: gave up after 3 tries of 300 ms (%.1f s)" % took)
    rc, _, err = ctl("frobnicate")
    check(rc == 2 and "unknown command" in err, "unknown command: usage error, exit 2")


if __name__ == "__main__":
    run_checks(main)
