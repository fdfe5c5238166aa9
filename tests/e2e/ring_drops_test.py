"""Ingress loss before the relay is visible (net_af_packet's kernel ring drops).

Port 0's af_packet RX ring holds 32 frames (A_VDEV_OPTS=,framecnt=32) and the worker sleeps
20 ms whenever its polls come back empty (IDLE_SLEEP_US=20000), so a burst of 3,000 packets
from host A overflows the ring: the kernel drops what does not fit and counts it on the
driver's socket (PACKET_STATISTICS). The relay must add that to rtprelay_port_rx_missed_total
for port 0, so that what the kernel delivered to the relay's interface (the veth's rx_packets)
= what the workers took from the ring (rtprelay_port_rx_packets_total) + what was lost
(rtprelay_port_rx_missed_total), exactly, and the burst is all of it."""

import os
import re
import socket
import time
import urllib.request

from rtptest import NgClient, check, ping, run_checks, socket_in_netns, wait_for

E = os.environ
METRICS = E.get("METRICS_ADDR", "127.0.0.1:9103")
BURST = 3000
# Host A's packets go to a port of the relay's address no call uses: the workers count each
# one they take as an `unknown_port` drop, so the relay's own counters see the burst too.
TARGET_PORT = 19998

_sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)')


def scrape():
    with urllib.request.urlopen("http://%s/metrics" % METRICS, timeout=3) as r:
        out = {}
        for line in r.read().decode().splitlines():
            m = _sample.match(line)
            if m and not line.startswith("#"):
                out[(m.group(1), m.group(2) or "")] = float(m.group(3))
        return out


def try_scrape():
    try:
        return scrape()
    except OSError:
        return None


def port0(s, name):
    return s.get((name, 'port="0"'), 0.0)


def unknown_port(s):
    return s.get(("rtprelay_drops_total", 'reason="unknown_port"'), 0.0)


def veth_rx():
    """What the kernel delivered to the relay's end of host A's veth (this namespace's)."""
    with open("/sys/class/net/%s/statistics/rx_packets" % E["IF_A0"]) as f:
        return int(f.read())


def quiet_scrape():
    """A scrape after the port's counters stopped moving (ring drained, 250 ms refresh)."""
    last = [None]

    def stable():
        s = scrape()
        keys = [port0(s, "rtprelay_port_rx_packets_total"), port0(s, "rtprelay_port_rx_missed_total")]
        same = last[0] is not None and keys == last[0][0]
        last[0] = (keys, s)
        return same
    time.sleep(0.3)
    check(wait_for(stable, 10, step=0.6), "port 0 counters settle")
    return last[0][1]


def main():
    ng = NgClient(port=int(E["NG_PORT"]))
    check(wait_for(lambda: ping(ng), 20), "relay answers ping")
    check(wait_for(lambda: try_scrape() is not None, 10), "metrics served")
    s0 = scrape()
    a = socket_in_netns(E["NS_A"])
    a.bind((E["ADDR_A"], 0))
    # One packet first: host A resolves the relay's address (ARP) before the measured window.
    before_warm = unknown_port(s0)
    a.sendto(b"warm-up", (E["RELAY_A"], TARGET_PORT))
    check(wait_for(lambda: unknown_port(scrape()) >= before_warm + 1, 10), "warm-up packet reached a worker")

    m0 = quiet_scrape()
    k0 = veth_rx()
    sent = 0
    payload = b"x" * 172
    start = time.monotonic()
    for i in range(BURST):  # bounded in count; a few ms on any machine
        try:
            a.sendto(payload, (E["RELAY_A"], TARGET_PORT))
            sent += 1
        except OSError:
            pass
    took = time.monotonic() - start
    m1 = quiet_scrape()
    k1 = veth_rx()

    delivered = k1 - k0
    received = port0(m1, "rtprelay_port_rx_packets_total") - port0(m0, "rtprelay_port_rx_packets_total")
    missed = port0(m1, "rtprelay_port_rx_missed_total") - port0(m0, "rtprelay_port_rx_missed_total")
    seen = unknown_port(m1) - unknown_port(m0)
    print("burst: sent %d in %.1f ms, kernel delivered %d, relay received %d, missed %d, unknown_port %d"
          % (sent, took * 1000, delivered, received, missed, seen))
    check(sent == BURST, "host A sent the whole burst (%d)" % sent)
    check(delivered == sent, "the kernel delivered every packet to the relay's interface (%d of %d)" % (delivered, sent))
    check(missed > 0, "the 32-frame ring overflowed: rtprelay_port_rx_missed_total{port=0} moved (+%d)" % missed)
    check(received + missed == delivered,
          "received %d + missed %d = delivered %d: every lost packet is counted" % (received, missed, delivered))
    check(seen == received, "the workers saw every packet they took from the ring (unknown_port +%d)" % seen)
    check(port0(m1, "rtprelay_port_rx_missed_total") >= missed, "the counter only grows")
    check(m1.get(("rtprelay_port_rx_missed_total", 'port="1"'), 0.0) == 0, "port 1 lost nothing")


if __name__ == "__main__":
    run_checks(main)
