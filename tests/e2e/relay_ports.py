"""Port exhaustion end to end: interface b has three port pairs (ports=20000-20005) and
offers expire after 3 s (--offer-timeout=3). Offers without delete run the pool dry: the
next offer gets "Ran out of ports" (`load limit` when the proxy sent supports: ["load
limit"]), the answered call keeps relaying, and the ports come
back when the unanswered offers time out. Media of the answered call is checked both ways at
each step, and the relay's accounting (received = relayed + ARP + ICMP + drops) at the end."""

import os
import socket
import time

from rtptest import NgClient, check, media_of, ping, rtp_packet, run_checks, sdp_for, socket_in_netns, text, wait_for

E = os.environ



def offer(ng, call_id, port):
    return ng.request({"command": "offer", "call-id": call_id, "from-tag": "f-" + call_id,
                       "sdp": sdp_for(E["ADDR_A"], port), "direction": ["a", "b"]})


def relay_some(a, b, to, n=10):
    got = 0
    for i in range(n):
        a.sendto(rtp_packet(0x99, i, i * 160, b"p" * 160), to)
        try:
            b.recvfrom(2048)
            got += 1
        except socket.timeout:
            pass
    return got


def main():
    ng = NgClient(port=int(E["NG_PORT"]))
    check(wait_for(lambda: ping(ng), 20), "relay answers ping")
    a = socket_in_netns(E["NS_A"]); a.bind((E["ADDR_A"], 30000)); a.settimeout(1)
    b = socket_in_netns(E["NS_B"]); b.bind((E["ADDR_B"], 40000)); b.settimeout(1)

    r = offer(ng, "live", 30000)
    check(text(r["result"]) == "ok", "first call offered")
    to_b = media_of(r["sdp"])
    ans = ng.request({"command": "answer", "call-id": "live", "from-tag": "f-live", "to-tag": "t-live",
                      "sdp": sdp_for(E["ADDR_B"], 40000)})
    to_a = media_of(ans["sdp"])
    check(text(offer(ng, "idle-1", 30010)["result"]) == "ok", "second offer (never answered)")
    check(text(offer(ng, "idle-2", 30020)["result"]) == "ok", "third offer (never answered)")
    r = offer(ng, "one-too-many", 30030)
    check(text(r["result"]) == "error" and text(r.get("error-reason")) == "Ran out of ports",
          "fourth offer: error 'Ran out of ports' (%s)" % text(r.get("error-reason", b"")))
    st = ng.request({"command": "statistics"})["statistics"]
    check(st["refused"]["ports"] >= 1, "refusal counted as ports")
    check(ng.request({"command": "list"})["calls"].__len__() == 3, "the refused offer left no call behind")
    check(relay_some(a, b, (to_a[0], to_a[1])) >= 9 and relay_some(b, a, (to_b[0], to_b[1])) >= 9,
          "the answered call still relays both ways while ports are exhausted")
    r = ng.request({"command": "offer", "call-id": "one-too-many-2", "from-tag": "f-x", "supports": ["load limit"],
                    "sdp": sdp_for(E["ADDR_A"], 30050), "direction": ["a", "b"]})
    check(text(r["result"]) == "load limit" and text(r.get("message")) == "refused: ports",
          "a proxy that supports `load limit` gets it, so it moves the new call to its next node (%s %s)"
          % (text(r["result"]), text(r.get("message", r.get("error-reason", b"")))))
    check(ng.request({"command": "statistics"})["statistics"]["refused"]["ports"] >= 2,
          "that refusal is counted as ports too")

    # Offer timeout (3 s) frees the unanswered calls' ports; the answered call stays.
    def recovered():
        return text(offer(ng, "after-timeout", 30040)["result"]) == "ok"
    time.sleep(2.5)
    check(wait_for(recovered, 6, step=0.5), "ports come back after the offer timeout")
    st = ng.request({"command": "statistics"})["statistics"]
    check(st["calls closed"]["offer timeout"] == 2, "two calls closed as offer timeout (%s)" % st["calls closed"])
    calls = [text(c) for c in ng.request({"command": "list"})["calls"]]
    check("live" in calls, "the answered call survived the offer timeouts")
    check(relay_some(a, b, (to_a[0], to_a[1])) >= 9 and relay_some(b, a, (to_b[0], to_b[1])) >= 9,
          "and still relays both ways")
    d = ng.request({"command": "statistics"})["statistics"]["dataplane"]
    parts = d["relayed rtp"] + d["relayed rtcp"] + d["arp"] + d["icmp echo replies"] + d["dropped"]
    check(d["rx packets"] == parts, "accounting: rx %d = relayed + arp + icmp + dropped %d" % (d["rx packets"], parts))



if __name__ == "__main__":
    run_checks(main)
