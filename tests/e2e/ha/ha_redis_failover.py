"""Redis fails, the nodes do not: a group behind a Redis master, a replica and three
Sentinels. (1) The master is killed mid-call: the Sentinels promote the replica, node 1
keeps relaying throughout (the Sentinels see the master down too, so it serves on past its
lease), NG replies keep coming without delay, the standby takes nothing over, and node 1's
writes and leases continue on the new master. (2) Then Redis is down for 10 s (the new
master killed and, 10 s later, started again empty): calls keep flowing, a new call is
admitted meanwhile, and once Redis is back every call is in it again. Runs inside the
relay namespace (run_ha.sh with HA_SENTINEL=1)."""

import os
import signal
import subprocess
import time

from hanodes import Node, holds, master_port, redis, redis_pid
from mediaflow import Media, Stream, host_socket
from rtptest import check, run_checks, text, wait_for
from rtptest import audio_sdp as sdp, parse_audio_sdp as parse

E = os.environ
_port = [31000]


def call(ng, call_id, port):
    """A plain call A <-> B; returns (where A sends, where B sends) and the NG round trips' seconds."""
    ip_a, ip_b = E["ADDR_A"], E["ADDR_B"]
    t0 = time.monotonic()
    o = ng.request({"command": "offer", "call-id": call_id, "from-tag": "A-" + call_id, "sdp": sdp(ip_a, port),
                    "direction": ["a", "b"]}, tries=1)
    t1 = time.monotonic()
    a = ng.request({"command": "answer", "call-id": call_id, "from-tag": "A-" + call_id, "to-tag": "B-" + call_id,
                    "sdp": sdp(ip_b, port)}, tries=1)
    t2 = time.monotonic()
    ok = text(o.get("result")) == "ok" and text(a.get("result")) == "ok"
    check(ok, "%s: offer and answer ok (%s %s)" % (call_id, o.get("error-reason"), a.get("error-reason")))
    return parse(a["sdp"]), parse(o["sdp"]), max(t1 - t0, t2 - t1)


def flows(media, ns_a, ns_b, port, to_a, to_b, ssrc):
    ab = Stream("A->B:%d" % port, ssrc, host_socket(ns_a, E["ADDR_A"], port), host_socket(ns_b, E["ADDR_B"], port),
                (to_a["addr"], to_a["port"]))
    ba = Stream("B->A:%d" % port, ssrc + 1, ab.rx, ab.tx, (to_b["addr"], to_b["port"]))
    media.streams += [ab, ba]
    return [ab, ba]


def main():
    ns_a, ns_b = E["NS_A"], E["NS_B"]
    first = master_port()
    check(first == int(E["REDIS_PORT"]), "the Sentinels name the first Redis master")
    n1 = Node(1, home=True).start()
    n2 = Node(2, home=False).start()
    check(wait_for(lambda: holds("n1", E["RELAY_A"]), 10), "node 1 holds its leases")
    to_a, to_b, _ = call(n1.ng, "c1", 32000)
    media = Media(period=0.02)
    streams = flows(media, ns_a, ns_b, 32000, to_a, to_b, 0x3001)
    for s in media.streams:
        s.on = True
    media.start()
    time.sleep(1.5)

    # (1) The master dies.
    killed = time.monotonic()
    os.kill(redis_pid(first), signal.SIGKILL)
    slowest = 0.0
    for k in range(3):
        time.sleep(0.3)
        _, _, rtt = call(n1.ng, "during-failover-%d" % k, 32100 + 2 * k)
        slowest = max(slowest, rtt)
    check(slowest < 0.2, "NG replies keep coming while Redis fails over (slowest %.0f ms)" % (slowest * 1000))
    check(wait_for(lambda: master_port() == first + 1, 10), "the Sentinels promote the replica")
    promoted = time.monotonic()
    print("FAILOVER promoted after %.0f ms" % ((promoted - killed) * 1000))
    check(wait_for(lambda: holds("n1", E["RELAY_A"]), 5),
          "node 1 holds its leases on the new master")
    check(wait_for(lambda: redis("SCARD", "rtprelay:t:calls:n1") == "(integer) 4", 5),
          "the calls made during the failover are written to the new master")
    time.sleep(1.5)
    for s in streams:
        g = s.longest_gap(killed - 0.5, time.monotonic() - 0.3)
        print("GAP failover %s %.0f ms" % (s.name, g * 1000))
        check(g < 0.25, "%s: media goes on through the failover (longest gap %.0f ms)" % (s.name, g * 1000))
    check("taking over" not in n2.log_text(), "the standby takes nothing over")
    check("Redis master down for the Sentinels too" in n1.log_text(), "node 1 served on the Sentinels' word")

    # (2) Redis down for 10 s: the new master killed, then started again, empty.
    second = first + 1
    down_at = time.monotonic()
    os.kill(redis_pid(second), signal.SIGKILL)
    time.sleep(2)
    _, _, rtt = call(n1.ng, "while-down", 32200)
    check(rtt < 0.2, "a new call is admitted while Redis is down (%.0f ms)" % (rtt * 1000))
    m = n1.metrics()
    check(m.get("rtprelay_redis_up") == 0 and m.get("rtprelay_addresses_served") == 2,
          "node 1's metrics while Redis is down: redis_up 0, both addresses still served")
    time.sleep(8)
    subprocess.Popen(["redis-server", "--port", str(second), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                      "--dir", E["HA_TMP"], "--daemonize", "no", "--logfile", os.path.join(E["HA_TMP"], "redis-again.log")])
    back_at = time.monotonic()
    check(wait_for(lambda: holds("n1", E["RELAY_A"]), 10),
          "node 1 holds its leases again once Redis is back")
    check(wait_for(lambda: redis("SCARD", "rtprelay:t:calls:n1") == "(integer) 5", 10),
          "every call (and the one made while Redis was down) is written again")
    check(redis("EXISTS", "rtprelay:t:call:while-down") == "(integer) 1", "the call made while down is there")
    time.sleep(1.0)
    media.stop()
    for s in streams:
        g = s.longest_gap(down_at, time.monotonic() - 1.0)
        print("GAP redis-down %s %.0f ms" % (s.name, g * 1000))
        check(g < 0.25, "%s: media goes on while Redis is down (longest gap %.0f ms)" % (s.name, g * 1000))
    print("REDIS down for %.1f s" % (back_at - down_at))
    m = n1.metrics()
    check(m.get("rtprelay_redis_up") == 1 and m.get("rtprelay_redis_connects_total", 0) >= 3 and
          m.get("rtprelay_redis_master_switches_total", 0) + m.get("rtprelay_redis_connect_failures_total", 0) >= 1,
          "node 1's metrics count the reconnections (%s connects)" % m.get("rtprelay_redis_connects_total"))
    check("taking over" not in n2.log_text(), "the standby still takes nothing over")
    check(n1.stop() == 0 and n2.stop() == 0, "both nodes stop cleanly")
    # The restarted Redis is this test's: stopped with the namespace by run_ha.sh.


run_checks(main)
