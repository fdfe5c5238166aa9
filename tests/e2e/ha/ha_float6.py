"""IPv6 floating NG addresses: a group of two nodes on bridges, each with its own MACs, IPv6
on the management segment (HA_MGMT6), each node's NG address an IPv6 address floating on
its management veth (2001:2:0:19::11 and ::12, leased with its media addresses). A call is
set up over IPv6 on node 1's NG address; node 1 is killed (kill -9, then what the systemd
unit's ExecStopPost runs). Node 2 takes node 1's media addresses, its call and its NG
address: it adds the address to its veth (usable at once: no duplicate address detection)
and announces it with an unsolicited neighbour advertisement, which moves the test host's
neighbour entry to node 2's MAC before it sends anything. The same NG request to the same
address is then answered by node 2 (the reply leaves from node 2's MAC) and finds the call.
A capture of the management bridge shows the advertisement: from node 2's MAC, to all nodes,
hop limit 255, override set, target node 1's NG address with node 2's MAC in its option.
run_ha.sh with HA_BRIDGE=2 HA_MGMT6=1."""

import os
import subprocess
import time

from hanodes import FLOAT_NG6, Node, capture, captures_running, holds, redis
from rtptest import NgClient, check, run_checks, text, wait_for
from rtptest import audio_sdp as sdp, parse_audio_sdp as parse

E = os.environ
A1, A3, B1, B3 = "198.18.1.1", "198.18.1.3", "198.18.2.1", "198.18.2.3"
CID = "float6-call"


def mac(node):
    """The MAC of node's management veth."""
    out = subprocess.run(["ip", "-n", node.ns, "-o", "link", "show", "dev", "%s-n%dm" % (E["HA_PREFIX"], node.n)],
                         capture_output=True, text=True).stdout.split()
    return out[out.index("link/ether") + 1]


def neighbour_mac(address):
    """The MAC this host's (the management bridge namespace's) neighbour cache has for address."""
    out = subprocess.run(["ip", "-6", "neigh", "show", address], capture_output=True, text=True).stdout.split()
    return out[out.index("lladdr") + 1] if "lladdr" in out else None


def tshark(path, display_filter, *fields):
    args = ["tshark", "-r", path, "-Y", display_filter, "-T", "fields", "-E", "separator=|"]
    for f in fields:
        args += ["-e", f]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60).stdout
    return [line.split("|") for line in out.splitlines() if line]


def ng_ok(node, command):
    """Node's rtprelay_ng_requests_total{command=COMMAND,result=ok}."""
    return sum(v for k, v in node.metrics().items() if k.startswith("rtprelay_ng_requests_total{") and
               'command="%s"' % command in k and 'result="ok"' in k)


def main():
    both = dict(a_addrs=[A1, A3], b_addrs=[B1, B3], ng_float=True, ng6=True, extra=["--ng-allow=" + E["MGMT_HOST6"]])
    pcap = os.path.join(E["HA_TMP"], "mgmt6.pcap")
    cap = capture(E["NS_RELAY"], "br-m", pcap, "icmp6 or (ip6 and udp port 2223)")
    check(captures_running([pcap]), "capture on the management bridge")
    n1 = Node(1, home=[A1, B1], **both).start()
    n2 = Node(2, home=[A3, B3], **both).start()
    mac1, mac2 = mac(n1), mac(n2)
    check(wait_for(lambda: holds("n1", A1, FLOAT_NG6[0]) and holds("n2", A3, FLOAT_NG6[1]), 10),
          "each node holds its media addresses and its IPv6 NG address")
    check(FLOAT_NG6[0] in n1.kernel_addresses() and FLOAT_NG6[0] not in n2.kernel_addresses() and
          FLOAT_NG6[1] in n2.kernel_addresses(), "each NG address is on its holder's management veth only")

    # The proxy's side: one client, node 1's NG address, IPv6 all the way.
    ng = NgClient(host=FLOAT_NG6[0], port=2223)
    o = ng.request({"command": "offer", "call-id": CID, "from-tag": "A", "sdp": sdp(E["ADDR_A"], 36000),
                    "direction": ["a", "b"]})
    a = ng.request({"command": "answer", "call-id": CID, "from-tag": "A", "to-tag": "B",
                    "sdp": sdp(E["ADDR_B"], 36000)})
    check(text(o.get("result")) == "ok" and text(a.get("result")) == "ok", "a call set up over IPv6 on node 1's NG address")
    to_b, to_a = parse(o["sdp"]), parse(a["sdp"])
    check(to_b["addr"] == B1 and to_a["addr"] == A1, "on node 1's media addresses")
    check(n1.wait_log("call-id=%s" % CID, 5), "node 1 served it")
    check(neighbour_mac(FLOAT_NG6[0]) == mac1, "this host reaches node 1's NG address at node 1's MAC")
    check(wait_for(lambda: redis("SCARD", "rtprelay:t:calls:n1") == "(integer) 1", 5), "the call is in Redis")

    before = ng_ok(n2, "query")
    killed = n1.kill9()
    check(FLOAT_NG6[0] not in n1.kernel_addresses(), "--ng-float-release removed the IPv6 address from node 1's veth")
    check(n2.wait_log("calls adopted", 5) and wait_for(lambda: holds("n2", A1, FLOAT_NG6[0]), 5),
          "node 2 takes node 1's addresses, its call and its NG address lease")
    check(wait_for(lambda: FLOAT_NG6[0] in n2.kernel_addresses(), 5), "node 1's NG address is on node 2's veth")
    # Nothing sent yet: only the advertisement can have moved the entry.
    check(wait_for(lambda: neighbour_mac(FLOAT_NG6[0]) == mac2, 3),
          "the unsolicited neighbour advertisement moved this host's entry to node 2's MAC (%s)" %
          neighbour_mac(FLOAT_NG6[0]))
    q = ng.request({"command": "query", "call-id": CID})
    answered = time.monotonic()
    print("NG over IPv6 answered %.0f ms after the kill" % ((answered - killed) * 1000))
    check(text(q.get("result")) == "ok" and "A" in q.get("tags", {}), "the same address finds the call (%s)" %
          q.get("error-reason"))
    check(ng_ok(n2, "query") - before == 1, "node 2 answered it")
    d = ng.request({"command": "delete", "call-id": CID})
    check(text(d.get("result")) == "ok" and n2.wait_log('msg="call closed" call-id=%s reason=deleted' % CID, 5),
          "and deletes the call there")
    time.sleep(max(0.0, answered + 0.5 - time.monotonic()))  # its second advertisement, 300 ms after the first
    check(n2.stop() == 0, "node 2 stops cleanly")
    check(not any(x in n2.kernel_addresses() for x in FLOAT_NG6), "node 2 removed the NG addresses when it stopped")
    time.sleep(0.5)
    cap.terminate()
    cap.wait(10)

    # The wire: node 2's advertisements for node 1's address, and who sent the NG replies.
    nas = tshark(pcap, "icmpv6.type == 136 && icmpv6.nd.na.target_address == %s" % FLOAT_NG6[0], "eth.src",
                 "ipv6.src", "ipv6.dst", "ipv6.hlim", "icmpv6.nd.na.flag.o", "icmpv6.nd.na.flag.s",
                 "icmpv6.opt.linkaddr", "icmpv6.checksum.status")
    from2 = [r for r in nas if r[0] == mac2]
    print("neighbour advertisements for %s: %s" % (FLOAT_NG6[0], nas))
    check(len(from2) >= 2, "node 2 advertised node 1's NG address, twice (%d)" % len(from2))
    check(all(r[1] == FLOAT_NG6[0] and r[2] == "ff02::1" and r[3] == "255" and r[4] in ("1", "True") and
              r[5] in ("0", "False") and r[6] == mac2 and r[7] in ("1", "Good") for r in from2),
          "from the address to all nodes, hop limit 255, override, unsolicited, node 2's MAC, checksum good")
    replies = tshark(pcap, "udp.srcport == 2223 && ipv6.src == %s" % FLOAT_NG6[0], "eth.src", "frame.time_relative")
    macs = [r[0] for r in replies]
    check(mac1 in macs and mac2 in macs and macs.index(mac2) > len(macs) - 1 - macs[::-1].index(mac1),
          "NG replies from node 1's address left node 1's MAC, then only node 2's (%d replies)" % len(macs))


run_checks(main)
