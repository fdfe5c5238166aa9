"""Admission control end to end: the relay runs with --capacity=160k (two calls at
80 kbit/s). New calls past the budget are refused with `load limit` (proxies that support
it) or "Parallel session limit reached"; a re-INVITE of an admitted call never is;
drain/undrain; the capacity command answers both sizing questions."""

import os
import socket
import subprocess

from rtptest import NgClient, check, media_of, ping, rtp_packet, run_checks, sdp_for, socket_in_netns, text, wait_for

E = os.environ



def offer(ng, call_id, port, **extra):
    return ng.request(dict({"command": "offer", "call-id": call_id, "from-tag": "f-" + call_id,
                            "sdp": sdp_for(E["ADDR_A"], port, session_id=7), "direction": ["a", "b"]}, **extra))


def answer(ng, call_id, port):
    return ng.request({"command": "answer", "call-id": call_id, "from-tag": "f-" + call_id, "to-tag": "t-" + call_id,
                       "sdp": sdp_for(E["ADDR_B"], port, session_id=8)})


def main():
    ng = NgClient(port=int(E["NG_PORT"]))
    check(wait_for(lambda: ping(ng), 20), "relay answers ping")

    r1, r2 = offer(ng, "c1", 30000), offer(ng, "c2", 30002)
    check(text(r1["result"]) == "ok" and text(r2["result"]) == "ok", "two calls fit in 160 kbit/s")
    answer(ng, "c1", 40000)
    r3 = offer(ng, "c3", 30004, supports=["load limit"])
    check(text(r3["result"]) == "load limit", "third call, proxy supports load limit: result %s" % text(r3["result"]))
    r3 = offer(ng, "c3", 30004)
    check(text(r3["result"]) == "error" and text(r3.get("error-reason")) == "Parallel session limit reached",
          "third call, plain proxy: error 'Parallel session limit reached'")
    re1 = offer(ng, "c1", 30000, supports=["load limit"])
    check(text(re1["result"]) == "ok", "re-INVITE of an admitted call is not refused at full capacity")
    check(media_of(re1["sdp"])[1] == media_of(r1["sdp"])[1], "re-INVITE keeps the call's port")

    cap = ng.request({"command": "capacity", "calls": 1000, "bandwidth": "1G"})
    check(cap["node"]["reserved bps"] == 160000 and cap["node"]["calls"] == 2,
          "capacity: node reserves 160000 bit/s for 2 calls (%s)" % cap["node"])
    check(cap["node"]["utilisation permille"] == 1000, "capacity: utilisation 100%")
    check(cap["calls for bandwidth"] == 12500 and cap["bandwidth for calls bps"] == 80000000,
          "capacity: 1G fits 12500 calls, 1000 calls need 80 Mbit/s")

    ctl = [os.path.join(E["BUILD_DIR"], "relay", "ctl", "rtprelay-ctl"), "--ng", "127.0.0.1:" + E["NG_PORT"]]
    out = subprocess.run(ctl + ["capacity", "--bandwidth", "1G", "--calls", "1000"], capture_output=True, text=True)
    check(out.returncode == 0 and "node" in out.stdout and "100.0%" in out.stdout and "12500" in out.stdout
          and "80.000 Mbit/s" in out.stdout, "rtprelay-ctl capacity shows the node full and the sizing answers")
    print("   " + out.stdout.replace("\n", "\n   "))

    # Media of an admitted call keeps flowing while new ones are refused.
    a = socket_in_netns(E["NS_A"]); a.bind((E["ADDR_A"], 30000)); a.settimeout(1)
    b = socket_in_netns(E["NS_B"]); b.bind((E["ADDR_B"], 40000)); b.settimeout(1)
    to_a = media_of(answer(ng, "c1", 40000)["sdp"])
    got = 0
    for i in range(20):
        a.sendto(rtp_packet(0x77, i, i * 160, b"z" * 160), (to_a[0], to_a[1]))
        try:
            b.recvfrom(2048)
            got += 1
        except socket.timeout:
            pass
    check(got >= 19, "admitted call relays media at full capacity (%d/20)" % got)

    ng.request({"command": "delete", "call-id": "c2"})
    r3 = offer(ng, "c3", 30004, supports=["load limit"])
    check(text(r3["result"]) == "ok", "after a delete the next call fits again")

    out = subprocess.run(ctl + ["drain"], capture_output=True, text=True)
    check(out.returncode == 0 and "draining" in out.stdout, "rtprelay-ctl drain: %s" % out.stdout.strip())
    d = ng.request({"command": "drain"})
    check(text(d["result"]) == "ok" and d["draining"] == 1, "drain accepted")
    ng.request({"command": "delete", "call-id": "c3"})
    r4 = offer(ng, "c4", 30006, supports=["load limit"])
    check(text(r4["result"]) == "load limit", "draining: new call refused with load limit though there is room")
    re1 = offer(ng, "c1", 30000)
    check(text(re1["result"]) == "ok", "draining: existing call's re-INVITE still ok")
    ng.request({"command": "undrain"})
    r4 = offer(ng, "c4", 30006)
    check(text(r4["result"]) == "ok", "undrain: new calls admitted again")

    st = ng.request({"command": "statistics"})["statistics"]
    check(st["refused"]["capacity"] == 2 and st["refused"]["draining"] == 1,
          "statistics count refusals by reason (%s)" % st["refused"])



if __name__ == "__main__":
    run_checks(main)
