"""rtprelay driven by rtpengine's own NG client (rtpengine-ng-client, Debian rtpengine-utils),
as a user trying it in place of rtpengine would: what that client sends must mean to rtprelay
what it means to rtpengine.

- --protocol sends "transport protocol" (spaces): an SRTP offer bridged to plain RTP;
- --strict-source sends the flag "strict source": a stranger is dropped (strict_source) where a
  call without it latches a source that passes probation while A is silent (a NAT'd phone);
- --json: requests and replies in JSON, and statistics in rtpengine's shapes;
- --delete-delay: the call stays queryable until the delay is over;
- keys rtprelay does not know come back in the reply's warning.
Runs inside the relay's namespace (run_e2e.sh); the hosts' sockets are opened in theirs."""

import json
import os
import re
import socket
import subprocess
import time

from rtptest import (NgClient, audio_sdp, check, dataplane, host_socket, new_key, parse_audio_sdp, ping, rtp_packet,
                     run_checks, text, wait_for)

E = os.environ
# Sequential packets before a new plain source latches, read from dataplane/latch.h so the
# test follows the header.
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "dataplane", "latch.h")) as _f:
    PROBATION = int(re.search(r"\bprobation_packets = (\d+);", _f.read()).group(1))


def client(*args, json_mode=False):
    """Runs rtpengine-ng-client against the relay: (exit status, stdout, stderr)."""
    cmd = ["rtpengine-ng-client", "--proxy-address=127.0.0.1", "--proxy-port=" + E["NG_PORT"]]
    if json_mode:
        cmd.append("--json")
    p = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=20)
    return p.returncode, p.stdout, p.stderr


def new_sdp(out):
    """The rewritten SDP the client printed, or None."""
    m = re.search(r"New SDP:\n-----8<[-8<]*\n(.*?)\n----->8", out, re.S)
    return m.group(1).replace("\n", "\r\n") if m else None


_cookies = iter(range(1, 1000))


def json_request(d):
    """One NG request in JSON over a raw socket (a cookie of its own: the relay answers a
    repeated cookie from its cache); the JSON-decoded reply."""
    cookie = b"json-%d" % next(_cookies)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2.0)
    try:
        s.sendto(cookie + b" " + json.dumps(d).encode(), ("127.0.0.1", int(E["NG_PORT"])))
        data, _ = s.recvfrom(65535)
    finally:
        s.close()
    got, _, body = data.partition(b" ")
    check(got == cookie, "JSON reply echoes the cookie")
    return json.loads(body)


def bridge_srtp_to_rtp(ng):
    """--protocol=RTP/AVP on an SRTP offer: the plain side gets RTP/AVP and no key."""
    offer_sdp = audio_sdp(E["ADDR_A"], 30000, "RTP/SAVP", ["1 AES_CM_128_HMAC_SHA1_80 inline:" + new_key()])
    rc, out, err = client("offer", "--call-id=ngi-proto", "--from-tag=a1", "--direction=a,b", "--protocol=RTP/AVP",
                          "--sdp=" + offer_sdp)
    check(rc == 0, "offer --protocol=RTP/AVP accepted (%s)" % err.strip())
    sdp = new_sdp(out)
    check(sdp is not None, "the client printed the rewritten SDP")
    if sdp is None:
        return
    b = parse_audio_sdp(sdp)
    check(b["proto"] == "RTP/AVP", "transport protocol honoured: B is offered %s" % b["proto"])
    check(not b["crypto"], "B gets no a=crypto line")
    check(b["addr"] == E["RELAY_B"], "B is offered the relay's B address (%s)" % b["addr"])
    rc, out, err = client("answer", "--call-id=ngi-proto", "--from-tag=a1", "--to-tag=b1",
                          "--sdp=" + audio_sdp(E["ADDR_B"], 40000))
    check(rc == 0, "answer accepted (%s)" % err.strip())
    a = parse_audio_sdp(new_sdp(out) or "m=audio 0 none\r\nc=IN IP4 none\r\n")
    check(a["proto"] == "RTP/SAVP" and len(a["crypto"]) == 1, "A is answered RTP/SAVP with one key of the relay's")
    q = ng.request({"command": "query", "call-id": "ngi-proto"})
    protos = {text(tag): text(t["medias"][0]["protocol"]) for tag, t in q.get("tags", {}).items()}
    check(protos == {"a1": "RTP/SAVP", "b1": "RTP/AVP"}, "query: A leg SRTP, B leg plain (%s)" % protos)
    # bencode delete with a delay: the call stays until it is over.
    rc, out, err = client("delete", "--call-id=ngi-proto", "--from-tag=a1", "--delete-delay=2")
    check(rc == 0, "delete --delete-delay=2 accepted (%s)" % err.strip())
    check(text(ng.request({"command": "query", "call-id": "ngi-proto"}).get("result")) == "ok",
          "the call is still queryable during the delete delay")
    check(wait_for(lambda: text(ng.request({"command": "query", "call-id": "ngi-proto"}).get("result")) == "error", 6),
          "after the delay the call is gone")


def strict_source(ng):
    """--strict-source: a stranger (another port of A's host) is dropped, not relayed."""
    results = {}
    for call, flag, port in (("ngi-strict", ["--strict-source"], 30010), ("ngi-loose", [], 30020)):
        a = host_socket(E["NS_A"], E["ADDR_A"], port)
        stranger = host_socket(E["NS_A"], E["ADDR_A"], port + 4)
        b = host_socket(E["NS_B"], E["ADDR_B"], port + 10010, timeout=1.0)
        rc, out, err = client("offer", "--call-id=" + call, "--from-tag=a", "--direction=a,b", *flag,
                              "--sdp=" + audio_sdp(E["ADDR_A"], port))
        check(rc == 0, "%s: offer accepted (%s)" % (call, err.strip()))
        check("warning" not in out, "%s: no warning (the flag is known)" % call)
        relay_b = parse_audio_sdp(new_sdp(out))
        rc, out, err = client("answer", "--call-id=" + call, "--from-tag=a", "--to-tag=b", *flag,
                              "--sdp=" + audio_sdp(E["ADDR_B"], port + 10010))
        check(rc == 0, "%s: answer accepted (%s)" % (call, err.strip()))
        relay_a = parse_audio_sdp(new_sdp(out))
        before = dataplane(ng)["drops"]["strict_source"]
        # The stranger behaves as a NAT'd phone would: one SSRC, sequential packets, enough
        # of them to pass probation while A's SDP address is silent. Only the flag differs.
        pkts = [rtp_packet(0x5151, 7 + i, 160 * i, b"stranger" * 20) for i in range(PROBATION)]
        arrived = False
        for pkt in pkts:
            stranger.sendto(pkt, (relay_a["addr"], relay_a["port"]))
            time.sleep(0.02)
        try:
            while True:
                data, src = b.recvfrom(4096)
                arrived = arrived or data in pkts
        except socket.timeout:
            pass
        time.sleep(0.2)
        results[call] = (arrived, dataplane(ng)["drops"]["strict_source"] - before)
        good = rtp_packet(0x5252, 8, 160, b"genuine!" * 20)
        a.sendto(good, (relay_a["addr"], relay_a["port"]))
        try:
            data, src = b.recvfrom(4096)
            ok = data == good and src == (relay_b["addr"], relay_b["port"])
        except socket.timeout:
            ok = False
        check(ok, "%s: A's own packet is relayed to B" % call)
        for s in (a, stranger, b):
            s.close()
    check(results["ngi-strict"] == (False, PROBATION),
          "strict source: the stranger is dropped as strict_source (arrived, drops) = %s" % (results["ngi-strict"],))
    check(results["ngi-loose"][0], "without it a source that passes probation while A is silent latches "
          "(as a NAT'd phone does; the flag is what differs)")


def json_mode(ng):
    """--json: the client sends JSON and decodes the reply as JSON."""
    rc, out, err = client("ping", json_mode=True)
    check(rc == 0 and "pong" in out, "JSON ping: pong (%s)" % err.strip())
    rc, out, err = client("offer", "--call-id=ngi-json", "--from-tag=ja", "--direction=a,b",
                          "--sdp=" + audio_sdp(E["ADDR_A"], 30030), json_mode=True)
    check(rc == 0 and new_sdp(out) is not None, "JSON offer: rewritten SDP (%s)" % err.strip())
    rc, out, err = client("answer", "--call-id=ngi-json", "--from-tag=ja", "--to-tag=jb",
                          "--sdp=" + audio_sdp(E["ADDR_B"], 40030), json_mode=True)
    check(rc == 0 and new_sdp(out) is not None, "JSON answer: rewritten SDP (%s)" % err.strip())
    rc, out, err = client("query", "--call-id=ngi-json", json_mode=True)
    check(rc == 0 and "'ja'" in out and "'jb'" in out, "JSON query lists both tags")
    st = json_request({"command": "statistics"})
    s = st.get("statistics", {})
    cur, tot, ctl = s.get("currentstatistics", {}), s.get("totalstatistics", {}), s.get("controlstatistics", {})
    check(st.get("result") == "ok" and cur.get("sessionsown", 0) >= 1 and cur.get("sessionstotal") == s.get("sessions"),
          "statistics in JSON: currentstatistics counts the open calls (%s)" % cur)
    check(tot.get("managedsessions", -1) >= 0 and "avgcallduration" in tot, "statistics: totalstatistics present")
    proxies = ctl.get("proxies", [])
    check(any(p.get("proxy") == "127.0.0.1" and p.get("offercount", 0) >= 3 for p in proxies),
          "statistics: controlstatistics counts this proxy's offers (%s)" % proxies)
    rc, out, err = client("delete", "--call-id=ngi-json", "--from-tag=ja", "--delete-delay=1", json_mode=True)
    check(rc == 0, "JSON delete --delete-delay=1 accepted (%s)" % err.strip())
    check(text(ng.request({"command": "query", "call-id": "ngi-json"}).get("result")) == "ok",
          "queryable during the delay")
    check(wait_for(lambda: text(ng.request({"command": "query", "call-id": "ngi-json"}).get("result")) == "error", 5),
          "gone after the delay")
    bad = json_request({"command": "offer", "sdp": 1.5})
    check(bad.get("result") == "error" and "JSON" in bad.get("error-reason", ""),
          "a JSON request rtprelay cannot take gets a JSON error (%s)" % bad.get("error-reason"))


def unknown_keys(ng):
    """What rtprelay does not do is said, not silently dropped."""
    rc, out, err = client("offer", "--call-id=ngi-warn", "--from-tag=w", "--direction=a,b", "--TOS=184",
                          "--flags=no-such-flag", "--sdp=" + audio_sdp(E["ADDR_A"], 30040))
    check(rc == 0, "offer with an unknown key accepted (%s)" % err.strip())
    check("warning" in out and "TOS" in out and "no-such-flag" in out,
          "the reply's warning names the unknown key and flag")
    ng.request({"command": "delete", "call-id": "ngi-warn"})


def main():
    ng = NgClient(port=int(E["NG_PORT"]))
    check(wait_for(lambda: ping(ng), 20), "relay answers NG ping with pong")
    rc, out, _ = client("ping")
    check(rc == 0 and "pong" in out, "rtpengine-ng-client ping: pong")
    bridge_srtp_to_rtp(ng)
    strict_source(ng)
    json_mode(ng)
    unknown_keys(ng)
    check(ping(ng), "relay still answers ping")


if __name__ == "__main__":
    run_checks(main)
