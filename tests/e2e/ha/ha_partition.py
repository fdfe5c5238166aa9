"""Partition: the node holding the calls loses Redis (and its Sentinels) but stays alive.
It must stop answering for its media addresses before its lease can expire, so that when
the standby takes them no address is ever answered by two MACs at once. Checked on the
wire: captures at both hosts of every frame that claims a relay address (ARP naming it,
IP from it), grouped by source MAC, must show node 1's frames strictly before node 2's.
Then the partition heals: node 1 finds its leases held by node 2 and lets the calls go.
The nodes' NG addresses float (hanodes.FLOAT_NG): node 1's moves to node 2 with its media
addresses, and the same holds for it on the management bridge, through the healing too:
node 1 removed it from its veth before its lease could expire, so once its link is back
only node 2 answers ARP for it.
Nodes on bridges with their own MACs (run_ha.sh with HA_BRIDGE=2 HA_SENTINEL=1)."""

import os
import subprocess
import time

from hanodes import FLOAT_NG, Node, capture, captures_running, holds, redis
from mediaflow import Media, Stream, host_socket
from rtptest import check, run_checks, text, wait_for
from rtptest import audio_sdp as sdp, parse_audio_sdp as parse

E = os.environ


def claims(path, addr):
    """{mac: [times]} of frames in `path` that claim `addr`: ARP with it as sender, IP from it."""
    out = subprocess.run(["tshark", "-r", path, "-T", "fields", "-E", "separator=,", "-e", "frame.time_epoch",
                          "-e", "eth.src", "-e", "arp.src.proto_ipv4", "-e", "ip.src"],
                         capture_output=True, text=True, timeout=60).stdout
    by_mac = {}
    for line in out.splitlines():
        f = line.split(",")
        if len(f) < 4 or addr not in (f[2], f[3]):
            continue
        by_mac.setdefault(f[1], []).append(float(f[0]))
    return by_mac


def main():
    ns_a, ns_b, ip_a, ip_b = E["NS_A"], E["NS_B"], E["ADDR_A"], E["ADDR_B"]
    n1 = Node(1, home=True, ng_float=True).start()
    n2 = Node(2, home=False, ng_float=True).start()
    check(wait_for(lambda: holds("n1", E["RELAY_A"], FLOAT_NG[0]), 10), "node 1 holds its leases")
    caps = {}
    for ns, iface, side in ((ns_a, E["IF_A1"], "a"), (ns_b, E["IF_B1"], "b")):
        path = os.path.join(E["HA_TMP"], "cap-%s.pcap" % side)
        caps[side] = (capture(ns, iface, path, "arp or udp"), path)
    mgmt_path = os.path.join(E["HA_TMP"], "cap-m.pcap")
    mgmt_cap = capture(E["NS_RELAY"], "br-m", mgmt_path, "arp or udp")  # the test runs in the bridges' namespace
    check(captures_running([c[1] for c in caps.values()] + [mgmt_path]), "the captures are running")

    o = n1.ng.request({"command": "offer", "call-id": "p1", "from-tag": "A", "sdp": sdp(ip_a, 33000),
                       "direction": ["a", "b"]})
    a = n1.ng.request({"command": "answer", "call-id": "p1", "from-tag": "A", "to-tag": "B", "sdp": sdp(ip_b, 33000)})
    check(text(o.get("result")) == "ok" and text(a.get("result")) == "ok", "a call through node 1")
    to_b, to_a = parse(o["sdp"]), parse(a["sdp"])
    media = Media(period=0.02)
    ab = Stream("A->B", 0x4001, host_socket(ns_a, ip_a, 33000), host_socket(ns_b, ip_b, 33000),
                (to_a["addr"], to_a["port"]))
    ba = Stream("B->A", 0x4002, ab.rx, ab.tx, (to_b["addr"], to_b["port"]))
    media.streams = [ab, ba]
    for s in media.streams:
        s.on = True
    media.start()
    time.sleep(2.0)

    # Node 1 claims its NG address on the wire while the captures run: an ARP exchange
    # (the bridge host's entry flushed) and a reply from the address.
    subprocess.run(["ip", "neigh", "flush", "dev", "br-m"], check=False)
    check(text(n1.ng.request({"command": "ping"}).get("result")) == "pong", "node 1 answers NG on its address")
    cut = time.time()
    subprocess.run(["ip", "-n", "%s-n1" % E["HA_PREFIX"], "link", "set", "%s-n1m" % E["HA_PREFIX"], "down"], check=True)
    check(n2.wait_log("calls adopted", 10), "node 2 takes the call over")
    check(n1.wait_log("lease lapsed: not serving it", 5), "node 1 stops serving its addresses")
    check(n1.wait_log("floating NG address removed", 5) and FLOAT_NG[0] not in n1.kernel_addresses(),
          "node 1 removed its NG address from its management veth")
    check(wait_for(lambda: FLOAT_NG[0] in n2.kernel_addresses(), 5), "node 2 has node 1's NG address now")
    check(n1.proc.poll() is None, "node 1 is still alive")
    time.sleep(2.5)
    media.stop()
    for s in media.streams:
        after = [q for q in s.received if s.sent_at[q] > time.monotonic() - 2.0]
        check(len(after) > 20, "%s: media flows through node 2 after the partition" % s.name)

    for side, (proc, path) in caps.items():
        proc.terminate()
        proc.wait(10)
    for side, addr in (("a", E["RELAY_A"]), ("b", E["RELAY_B"])):
        by_mac = claims(caps[side][1], addr)
        spans = sorted((min(t), max(t), mac) for mac, t in by_mac.items())
        print("CLAIMS %s: %s" % (addr, ["%s %.3f..%.3f (%d)" % (m, lo - cut, hi - cut, len(by_mac[m]))
                                      for lo, hi, m in spans]))
        check(len(spans) == 2, "%s: claimed by two MACs over the test (node 1, then node 2)" % addr)
        if len(spans) == 2:
            dark = spans[1][0] - spans[0][1]
            check(dark > 0, "%s: node 1's last frame %.0f ms before node 2's first: never both at once" %
                  (addr, dark * 1000))

    # Healing: node 1 reaches Redis again, finds node 2 holding its leases, lets the call go.
    subprocess.run(["ip", "-n", "%s-n1" % E["HA_PREFIX"], "link", "set", "%s-n1m" % E["HA_PREFIX"], "up"], check=True)
    check(n1.wait_log("calls let go", 10), "node 1 lets the call go once it sees node 2's leases")
    check(holds("n2", E["RELAY_A"], FLOAT_NG[0]), "node 2 keeps the leases")
    # The call through node 1's NG address: the bridge host resolves it afresh (one ARP
    # request that both nodes see) and node 2 answers, on node 1's address.
    subprocess.run(["ip", "neigh", "flush", "dev", "br-m"], check=False)
    d = n1.ng.request({"command": "delete", "call-id": "p1"})
    check(text(d.get("result")) == "ok", "the call is deleted on node 2, through node 1's NG address")
    check(n2.wait_log('msg="call closed" call-id=p1 reason=deleted', 5), "node 2 closed it")
    time.sleep(1.0)
    mgmt_cap.terminate()
    mgmt_cap.wait(10)
    by_mac = claims(mgmt_path, FLOAT_NG[0])
    spans = sorted((min(t), max(t), mac) for mac, t in by_mac.items())
    print("CLAIMS %s: %s" % (FLOAT_NG[0], ["%s %.3f..%.3f (%d)" % (m, lo - cut, hi - cut, len(by_mac[m]))
                                          for lo, hi, m in spans]))
    check(len(spans) == 2, "%s: claimed by two MACs over the test (node 1, then node 2)" % FLOAT_NG[0])
    if len(spans) == 2:
        dark = spans[1][0] - spans[0][1]
        check(dark > 0, "%s: node 1's last frame %.0f ms before node 2's first, healing included: never both"
              % (FLOAT_NG[0], dark * 1000))
    check(n1.stop() == 0 and n2.stop() == 0, "both nodes stop cleanly")


run_checks(main)
