"""Link down/up on the relay's net_tap port (DPDK port 0, host A's side) while a call flows
both ways (link_state_test.sh builds the topology). Checked: the relay logs the change and
counts it (rtprelay_port_link_up / rtprelay_port_link_changes_total on /metrics), announces
its address again when the link returns, relays every packet sent once the link is back,
and its own accounting holds: received = relayed + ARP + ICMP + every drop."""

import os
import re
import subprocess
import time
import urllib.request

from mediaflow import Media, Stream, host_socket
from rtptest import NgClient, check, media_of, ping, run_checks, sdp_for, text, wait_for

E = os.environ
TAP = E["TAP"]


def relay_log():
    with open(E["RELAY_LOG"], errors="replace") as f:
        return f.read()


def metric(name, port):
    body = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % E["METRICS_PORT"], timeout=5).read().decode()
    m = re.search(r'^%s\{port="%d"\} (\S+)$' % (name, port), body, re.M)
    return float(m.group(1)) if m else None


def link(port):
    return metric("rtprelay_port_link_up", port), metric("rtprelay_port_link_changes_total", port)


def set_tap(state):
    subprocess.run(["ip", "link", "set", TAP, state], check=True)


def main():
    ng = NgClient(port=int(E["NG_PORT"]))
    check(wait_for(lambda: ping(ng), 30), "relay answers ping")
    check(link(0) == (1, 0) and link(1) == (1, 0), "both links up, no change counted yet (%s, %s)" % (link(0), link(1)))

    a = host_socket(E["NS_A"], E["ADDR_A"], 30000)
    b = host_socket(E["NS_B"], E["ADDR_B"], 40000)
    r = ng.request({"command": "offer", "call-id": "link-1", "from-tag": "fa", "sdp": sdp_for(E["ADDR_A"], 30000),
                    "direction": ["a", "b"]})
    check(text(r["result"]) == "ok", "offer ok")
    to_b = media_of(r["sdp"])
    r = ng.request({"command": "answer", "call-id": "link-1", "from-tag": "fa", "to-tag": "tb",
                    "sdp": sdp_for(E["ADDR_B"], 40000)})
    check(text(r["result"]) == "ok", "answer ok")
    to_a = media_of(r["sdp"])
    media = Media()
    ab = Stream("A->B", 0xA1, a, b, to_a[:2])
    ba = Stream("B->A", 0xB1, b, a, to_b[:2])
    media.streams += [ab, ba]
    for s in media.streams:
        s.on = True
    media.start()
    # The first packets may wait for ARP; after that the call must be lossless.
    check(wait_for(lambda: len(ab.received) >= 50 and len(ba.received) >= 50, 15), "media flows both ways")
    steady = time.monotonic()
    time.sleep(1.0)
    check(not ab.lost(steady, time.monotonic() - 0.3) and not ba.lost(steady, time.monotonic() - 0.3),
          "no loss while the link is up")

    announced = relay_log().count("media address %s on DPDK port 0 announced" % E["RELAY_A"])
    again = relay_log().count("media address %s on DPDK port 0 announced again" % E["RELAY_A"])
    set_tap("down")
    down_at = time.monotonic()
    check(wait_for(lambda: "DPDK port 0: link down" in relay_log(), 5), "relay logs link down on port 0")
    check(wait_for(lambda: link(0) == (0, 1), 5), "metrics: port 0 link_up 0, 1 change (%s)" % (link(0),))
    check(link(1) == (1, 0), "port 1 untouched (%s)" % (link(1),))
    links = {l["port"]: (l["up"], l["changes"]) for l in ng.request({"command": "statistics"})["statistics"]
             ["dataplane"]["links"]}
    check(links == {0: (0, 1), 1: (1, 0)}, "NG statistics: links %s" % links)
    time.sleep(1.5)
    during = (len(ab.received), len(ba.received))
    time.sleep(0.5)
    check((len(ab.received), len(ba.received)) == during, "no media crosses the downed link")

    set_tap("up")
    up_at = time.monotonic()
    check(wait_for(lambda: "DPDK port 0: link up" in relay_log(), 5), "relay logs link up on port 0")
    check(wait_for(lambda: link(0) == (1, 2), 5), "metrics: port 0 link_up 1, 2 changes (%s)" % (link(0),))
    check(wait_for(lambda: relay_log().count("media address %s on DPDK port 0 announced" % E["RELAY_A"])
                   > announced, 5), "relay announces its address on port 0 again (gratuitous ARP)")
    check(wait_for(lambda: relay_log().count("media address %s on DPDK port 0 announced again" % E["RELAY_A"])
                   > again, 5), "... and once more 300 ms later, in case the first was lost")
    n_ab, n_ba = len(ab.received), len(ba.received)
    check(wait_for(lambda: len(ab.received) >= n_ab + 100 and len(ba.received) >= n_ba + 100, 10),
          "media flows both ways again after link up")
    resumed = time.monotonic()
    time.sleep(1.0)
    media.stop()
    # Once media is back, nothing sent afterwards is lost.
    check(not ab.lost(resumed) and not ba.lost(resumed),
          "no loss after the link returned (A->B lost %s, B->A lost %s)" % (ab.lost(resumed)[:10], ba.lost(resumed)[:10]))
    check(ab.bad == 0 and ba.bad == 0, "no altered packets")
    print("   link down %.1f s; lost during the outage: A->B %d, B->A %d"
          % (up_at - down_at, len(ab.lost(down_at - 0.2, resumed)), len(ba.lost(down_at - 0.2, resumed))))

    # Accounting from the relay's own counters, once nothing moves any more.
    def dataplane():
        return ng.request({"command": "statistics"})["statistics"]["dataplane"]

    d = dataplane()
    for _ in range(20):
        time.sleep(0.2)
        d2 = dataplane()
        if d2["rx packets"] == d["rx packets"]:
            break
        d = d2
    d = d2
    parts = d["relayed rtp"] + d["relayed rtcp"] + d["arp"] + d["icmp echo replies"] + d["dropped"]
    check(d["rx packets"] == parts, "accounting: rx %d = relayed %d + %d + arp %d + icmp %d + dropped %d (%s)"
          % (d["rx packets"], d["relayed rtp"], d["relayed rtcp"], d["arp"], d["icmp echo replies"], d["dropped"],
             {k: v for k, v in d["drops"].items() if v}))
    sent = len(ab.sent) + len(ba.sent)
    print("   sent %d, relay rx %d, relayed %d, drops %s" % (sent, d["rx packets"], d["relayed rtp"],
                                                           {k: v for k, v in d["drops"].items() if v}))


if __name__ == "__main__":
    run_checks(main)
