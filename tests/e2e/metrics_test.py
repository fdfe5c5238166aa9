"""Prometheus /metrics end to end: every assertion triggers what a metric counts (a call,
RTP both ways, a packet to an unallocated port, SRTP forgeries and replays, a capacity
refusal, drain, a policy error) and checks the scrape moved by exactly that. The live
scrape must pass `promtool check metrics`, and a real Prometheus server started here
scrapes the relay during a call and answers PromQL for the packet rate and the sessions.
Runs inside the relay's namespace (run_e2e.sh with --metrics-listen and --capacity=160k:
two calls of 80 kbit/s fit, a third is refused)."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

from rtptest import (NgClient, check, drain, host_socket, media_of, new_key, ping, rtcp_sr, rtp_packet, run_checks,
                     sdp_for, text, wait_for)

E = os.environ
METRICS_ADDR = E.get("METRICS_ADDR", "127.0.0.1:9100")
PROM_ADDR = "127.0.0.1:19090"  # in the relay's namespace: nothing else listens there
HERE = os.path.dirname(os.path.abspath(__file__))
SRTP_PEER = os.path.join(E.get("BUILD_DIR", ""), "tests", "srtp_peer")

RTP_FRAME = 14 + 20 + 8 + 12 + 160   # Ethernet + IPv4 + UDP + RTP header + 160-byte payload
RTCP_FRAME = 14 + 20 + 8 + 28        # a sender report without report blocks


# --- scraping and parsing the text format ---

_sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$')
_label = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


class Scrape:
    def __init__(self, body):
        self.text = body
        self.samples = {}
        self.help = {}
        self.type = {}
        for line in body.splitlines():
            if line.startswith("# HELP "):
                parts = line[7:].split(" ", 1)
                self.help[parts[0]] = parts[1] if len(parts) > 1 else ""
            elif line.startswith("# TYPE "):
                name, kind = line[7:].split(" ", 1)
                self.type[name] = kind
            elif line and not line.startswith("#"):
                m = _sample.match(line)
                if not m:
                    raise ValueError("unparsable line: %r" % line)
                labels = tuple(sorted(_label.findall(m.group(2) or "")))
                self.samples[(m.group(1), labels)] = float(m.group(3))

    def get(self, name, **labels):
        return self.samples.get((name, tuple(sorted(labels.items()))))

    def v(self, name, **labels):
        """The sample's value, 0 when absent (so deltas of a missing series show up as a failure)."""
        x = self.get(name, **labels)
        return 0.0 if x is None else x

    def series(self, name):
        return {dict(k[1]).get("reason") or dict(k[1]).get("interface") or "": v
                for k, v in self.samples.items() if k[0] == name}

    def total(self, name):
        return sum(v for k, v in self.samples.items() if k[0] == name)


def scrape():
    with urllib.request.urlopen("http://%s/metrics" % METRICS_ADDR, timeout=3) as r:
        return Scrape(r.read().decode())


def try_scrape():
    try:
        return scrape()
    except OSError:
        return None


def delta(before, after, name, **labels):
    return after.v(name, **labels) - before.v(name, **labels)


def settle(pred, timeout=3.0):
    """Waits until pred(scrape) holds; returns the last scrape."""
    last = [scrape()]

    def once():
        last[0] = scrape()
        return pred(last[0])
    wait_for(once, timeout, 0.05)
    return last[0]


def promtool(s, what):
    r = subprocess.run(["promtool", "check", "metrics"], input=s.text, capture_output=True, text=True, timeout=30)
    out = (r.stdout + r.stderr).strip()
    check(r.returncode == 0 and out == "", "promtool check metrics passes on %s%s" %
          (what, "" if not out else ": " + out[:600]))


def drop_reasons():
    """{reason: description} from drop_reasons.def."""
    with open(os.path.join(HERE, "..", "..", "dataplane", "drop_reasons.def")) as f:
        return dict(re.findall(r'^DROP_REASON\((\w+), "((?:[^"\\]|\\.)*)"\)', f.read(), re.M))


# --- a real Prometheus server, scraping every second ---

class PrometheusServer:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="rtprelay-prom.")
        self.proc = None
        self.log = os.path.join(self.dir, "prometheus.log")

    def start(self):
        cfg = os.path.join(self.dir, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: rtprelay\n    static_configs:\n"
                    "      - targets: ['%s']\n" % METRICS_ADDR)
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                ["prometheus", "--config.file=" + cfg, "--storage.tsdb.path=" + os.path.join(self.dir, "data"),
                 "--web.listen-address=" + PROM_ADDR, "--storage.tsdb.retention.time=1h", "--log.level=warn"],
                stdout=log, stderr=subprocess.STDOUT, cwd=self.dir, start_new_session=True)

    def query(self, expr):
        url = "http://%s/api/v1/query?%s" % (PROM_ADDR, urllib.parse.urlencode({"query": expr}))
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                body = json.loads(r.read().decode())
        except (OSError, ValueError):
            return None
        if body.get("status") != "success":
            return None
        return [(s["metric"], float(s["value"][1])) for s in body["data"]["result"]]

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.proc is not None and self.proc.returncode not in (0, -signal.SIGTERM, None):
            with open(self.log) as f:
                print("   prometheus log:\n" + f.read()[-2000:])
        shutil.rmtree(self.dir, ignore_errors=True)


# --- media helpers ---

def lockstep(tx, rx, dst, n, make):
    """Sends n packets one at a time, each waiting for its copy; returns how many arrived."""
    got = 0
    for i in range(n):
        tx.sendto(make(i), dst)
        try:
            rx.recvfrom(4096)
            got += 1
        except socket.timeout:
            pass
    return got


def first_through(tx, rx, dst, packet, tries=10):
    """Sends packet until a copy arrives (rx waits up to its timeout each time); returns how
    many times it was sent, or None if none arrived. Copies that arrive late are read away."""
    for n in range(1, tries + 1):
        tx.sendto(packet, dst)
        try:
            rx.recvfrom(4096)
        except socket.timeout:
            continue
        time.sleep(0.1)
        timeout = rx.gettimeout()
        rx.setblocking(False)
        try:
            while True:
                rx.recvfrom(4096)
        except BlockingIOError:
            pass
        finally:
            rx.settimeout(timeout)
        return n
    return None


def srtp_transfer(src, dst, to, send_key, send_suite, recv_key, recv_suite, count, expect, seq, corrupt_every=0):
    """tests/support/srtp_peer (libsrtp2) sender -> relay -> receiver; the receiver's report."""
    recv = [SRTP_PEER, "recv", "--ns", dst[0], "--bind", "%s:%d" % (dst[1], dst[2]), "--count", str(expect),
            "--timeout-ms", "3000", "--key", recv_key, "--suite", recv_suite]
    send = [SRTP_PEER, "send", "--ns", src[0], "--bind", "%s:%d" % (src[1], src[2]), "--to", "%s:%d" % to,
            "--count", str(count), "--interval-us", "1000", "--ssrc", "4660", "--seq", str(seq),
            "--corrupt-every", str(corrupt_every), "--key", send_key, "--suite", send_suite]
    rp = subprocess.Popen(recv, stdout=subprocess.PIPE, text=True)
    time.sleep(0.2)
    subprocess.run(send, check=True, timeout=30)
    out, _ = rp.communicate(timeout=30)
    return json.loads(out.strip().splitlines()[-1])


def savp_sdp(addr, port, crypto):
    return ("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/SAVP 0\r\n"
            "a=rtpmap:0 PCMU/8000\r\na=crypto:%s\r\na=sendrecv\r\n") % (addr, addr, port, crypto)


def crypto_of(sdp):
    m = re.search(r"^a=crypto:\d+ (\S+) inline:([A-Za-z0-9+/=]+)", text(sdp), re.M)
    return (m.group(1), m.group(2)) if m else (None, None)


# --- the test ---

def main():
    ng = NgClient(port=int(E["NG_PORT"]))
    check(wait_for(lambda: ping(ng), 20), "relay answers NG ping")
    check(wait_for(lambda: try_scrape() is not None, 10), "/metrics answers on %s" % METRICS_ADDR)
    m0 = settle(lambda s: s.get("rtprelay_control_snapshot_age_seconds") is not None)

    # Shape: every family documented; every drop reason present from the start, zero included.
    undocumented = [n for n in m0.type if not m0.help.get(n)]
    check(not undocumented, "every metric family has HELP text %s" % (undocumented or ""))
    reasons = drop_reasons()
    drops0 = m0.series("rtprelay_drops_total")
    nonzero0 = {k: v for k, v in drops0.items() if v != 0}
    check(set(drops0) == set(reasons) and not nonzero0,
          "rtprelay_drops_total has all %d reasons of drop_reasons.def, all zero at start %s"
          % (len(reasons), nonzero0 or ""))
    info = {dict(k[1])["reason"]: dict(k[1]).get("description") for k, v in m0.samples.items()
            if k[0] == "rtprelay_drop_reason_info" and v == 1}
    check(info == reasons, "rtprelay_drop_reason_info gives each reason its description from drop_reasons.def%s"
          % ("" if info == reasons else ": " + str({k: v for k, v in info.items() if reasons.get(k) != v})))
    promtool(m0, "the first scrape")

    prom = PrometheusServer()
    if shutil.which("prometheus"):
        prom.start()
    else:
        check(False, "the prometheus server is installed (Debian package prometheus)")
    try:
        run_calls(ng, m0, prom)
    finally:
        prom.stop()


def run_calls(ng, m0, prom):
    a_rtp = host_socket(E["NS_A"], E["ADDR_A"], 30000, timeout=1.0)
    a_rtcp = host_socket(E["NS_A"], E["ADDR_A"], 30001, timeout=1.0)
    b_rtp = host_socket(E["NS_B"], E["ADDR_B"], 40000, timeout=1.0)
    b_rtcp = host_socket(E["NS_B"], E["ADDR_B"], 40001, timeout=1.0)

    # 1. A call over NG: sessions, NG counts, ports, capacity.
    offer = ng.request({"command": "offer", "call-id": "met-1", "from-tag": "alice",
                        "sdp": sdp_for(E["ADDR_A"], 30000), "direction": ["a", "b"]})
    answer = ng.request({"command": "answer", "call-id": "met-1", "from-tag": "alice", "to-tag": "bob",
                         "sdp": sdp_for(E["ADDR_B"], 40000)})
    check(text(offer.get("result")) == "ok" and text(answer.get("result")) == "ok", "call met-1 set up")
    b_addr, b_port, b_rtcp_port = media_of(offer["sdp"])
    a_addr, a_port, a_rtcp_port = media_of(answer["sdp"])
    m1 = scrape()
    check(m0.get("rtprelay_sessions", interface="a") == 0 and m1.get("rtprelay_sessions", interface="a") == 1
          and m1.get("rtprelay_sessions", interface="b") == 1, "rtprelay_sessions{interface=a,b}: 0 -> 1 with the call up")
    check(delta(m0, m1, "rtprelay_sessions_created_total") == 1, "rtprelay_sessions_created_total +1")
    check(delta(m0, m1, "rtprelay_ng_requests_total", command="offer", result="ok") == 1,
          "rtprelay_ng_requests_total{command=offer,result=ok} +1")
    check(delta(m0, m1, "rtprelay_ng_requests_total", command="answer", result="ok") == 1,
          "rtprelay_ng_requests_total{command=answer,result=ok} +1")
    check(delta(m0, m1, "rtprelay_ports_used", interface="a", address=E["RELAY_A"]) == 1 and
          delta(m0, m1, "rtprelay_ports_free", interface="a", address=E["RELAY_A"]) == -1,
          "rtprelay_ports_used/free{interface=a,address=%s}: one pair taken" % E["RELAY_A"])
    check(m1.get("rtprelay_capacity_bytes_per_second", scope="node") == 20000 and
          m1.get("rtprelay_capacity_reserved_bytes_per_second", scope="node") == 10000 and
          m1.get("rtprelay_capacity_calls", scope="node") == 1 and
          m1.get("rtprelay_capacity_call_limit", scope="node") == 2 and
          m1.get("rtprelay_capacity_utilisation_ratio", scope="node") == 0.5,
          "capacity{scope=node}: budget 160 kbit/s = 20000 B/s, 10000 reserved by 1 call of 2, utilisation 0.5")
    check(m1.get("rtprelay_capacity_reserved_bytes_per_second", scope="a") == 10000 and
          m1.get("rtprelay_capacity_bytes_per_second", scope="a") == 0 and
          m1.get("rtprelay_capacity_utilisation_ratio", scope="a") is None,
          "capacity{scope=a}: 10000 B/s reserved, no budget, so no utilisation series")

    # 2. RTP and RTCP both ways, one packet at a time: the counters move by exactly that.
    # The first packet of a leg may meet a next hop whose MAC the relay is still resolving
    # (dropped as no_neighbour, not latched): resend it until one copy gets through.
    sent_a = first_through(a_rtp, b_rtp, (a_addr, a_port), rtp_packet(0x1111, 1, 0, b"\0" * 160))
    sent_b = first_through(b_rtp, a_rtp, (b_addr, b_port), rtp_packet(0x2222, 1, 0, b"\0" * 160))
    check(sent_a is not None and sent_b is not None,
          "the first RTP packet of each leg got through (sent %s and %s times)" % (sent_a, sent_b))
    # The latch counters reach /metrics when the control loop next reads the workers' blocks:
    # wait for them (as for the TX counters below) rather than scrape once.
    m2 = settle(lambda s: all(delta(m1, s, "rtprelay_latch_changes_total", interface=i, kind="first") >= 1
                              for i in "ab"))
    n = 40
    got = lockstep(a_rtp, b_rtp, (a_addr, a_port), n, lambda i: rtp_packet(0x1111, 10 + i, 160 * i, bytes([i]) * 160))
    got += lockstep(b_rtp, a_rtp, (b_addr, b_port), n, lambda i: rtp_packet(0x2222, 10 + i, 160 * i, bytes([i]) * 160))
    got_rtcp = lockstep(a_rtcp, b_rtcp, (a_addr, a_rtcp_port), 3, lambda i: rtcp_sr(0x1111, packets=i))
    got_rtcp += lockstep(b_rtcp, a_rtcp, (b_addr, b_rtcp_port), 3, lambda i: rtcp_sr(0x2222, packets=i))
    check(got == 2 * n and got_rtcp == 6, "hosts received %d/%d RTP and %d/6 RTCP through the relay" % (got, 2 * n, got_rtcp))
    m3 = settle(lambda s: delta(m2, s, "rtprelay_port_tx_packets_total", port="1") >= n + 3 and
                all(delta(m2, s, "rtprelay_latch_changes_total", interface=i, kind="first") >= 1 for i in "ab"))
    # The first packet of each leg latched its RTP port (before m2), the first SR its RTCP port.
    windows = (("first", "m1-m2", m1, m2), ("first", "m2-m3", m2, m3), ("plain_move", "m1-m3", m1, m3),
               ("srtp_relatch", "m1-m3", m1, m3))
    seen = {(i, k, w): delta(x, y, "rtprelay_latch_changes_total", interface=i, kind=k)
            for i in "ab" for (k, w, x, y) in windows}
    check(all(delta(m1, m2, "rtprelay_latch_changes_total", interface=i, kind="first") == 1 and
              delta(m2, m3, "rtprelay_latch_changes_total", interface=i, kind="first") == 1 for i in "ab") and
          all(delta(m1, m3, "rtprelay_latch_changes_total", interface=i, kind=k) == 0
              for i in "ab" for k in ("plain_move", "srtp_relatch")) and
          m3.v("rtprelay_latch_events_dropped_total") == 0,
          "rtprelay_latch_changes_total{interface=a,b,kind=first} +1 per port, no move, no event dropped (%s, "
          "events dropped %s)" % (", ".join("%s %s %s: %s" % (i, k, w, v) for (i, k, w), v in sorted(seen.items())),
                                  m3.v("rtprelay_latch_events_dropped_total")))
    check(delta(m2, m3, "rtprelay_packets_relayed_total", kind="rtp") == 2 * n,
          "rtprelay_packets_relayed_total{kind=rtp} +%d (sent %d)" %
          (delta(m2, m3, "rtprelay_packets_relayed_total", kind="rtp"), 2 * n))
    check(delta(m2, m3, "rtprelay_packets_relayed_total", kind="rtcp") == 6, "rtprelay_packets_relayed_total{kind=rtcp} +6")
    want_bytes = 2 * n * RTP_FRAME + 6 * RTCP_FRAME
    check(delta(m2, m3, "rtprelay_bytes_relayed_total") == want_bytes,
          "rtprelay_bytes_relayed_total +%d (frames sent: %d)" % (delta(m2, m3, "rtprelay_bytes_relayed_total"), want_bytes))
    check(delta(m2, m3, "rtprelay_packets_received_total") >= 2 * n + 6, "rtprelay_packets_received_total moved")
    # The same packets by DPDK port (a = 0, b = 1), direction and kind: each counted where it
    # arrived (rx) and where it left (tx), in frame bytes.
    media = {(p, d, k): delta(m2, m3, "rtprelay_media_packets_total", port=p, direction=d, kind=k)
             for p in ("0", "1") for d in ("rx", "tx") for k in ("rtp", "rtcp", "srtp", "srtcp")}
    want = {k: 0 for k in media}
    for p in ("0", "1"):
        for d in ("rx", "tx"):
            want[(p, d, "rtp")] = n
            want[(p, d, "rtcp")] = 3
    check(media == want, "rtprelay_media_packets_total{port,direction,kind}: %d RTP and 3 RTCP in and out of each port%s"
          % (n, "" if media == want else ": " + str({k: v for k, v in media.items() if v != want[k]})))
    check(delta(m2, m3, "rtprelay_media_bytes_total", port="0", direction="rx", kind="rtp") == n * RTP_FRAME and
          delta(m2, m3, "rtprelay_media_bytes_total", port="1", direction="tx", kind="rtcp") == 3 * RTCP_FRAME,
          "rtprelay_media_bytes_total: %d-byte RTP frames in on port 0, %d-byte RTCP frames out on port 1" %
          (RTP_FRAME, RTCP_FRAME))
    check(m3.get("rtprelay_interface_info", interface="a", port="0", vlan="0") == 1 and
          m3.get("rtprelay_interface_info", interface="b", port="1", vlan="0") == 1,
          "rtprelay_interface_info maps interface a to port 0 and b to port 1")
    check(delta(m2, m3, "rtprelay_worker_busy_polls_total", worker="0") >= 1 and
          delta(m2, m3, "rtprelay_worker_polls_total", worker="0") > delta(m2, m3, "rtprelay_worker_busy_polls_total", worker="0"),
          "rtprelay_worker_polls_total / busy_polls_total{worker=0} moved, busy < all")
    check(delta(m2, m3, "rtprelay_port_rx_packets_total", port="0") >= n + 3 and
          delta(m2, m3, "rtprelay_port_tx_packets_total", port="1") >= n + 3 and
          m3.get("rtprelay_port_link_up", port="0") == 1,
          "DPDK port stats: rx on port 0 and tx on port 1 moved by the A->B packets; link up")
    # net_af_packet copies into an mbuf per packet and holds none between bursts: 0 is normal.
    # The pool: --mbufs (8191) plus one mbuf per RX and TX descriptor of each port's queue
    # (2 ports x 1 worker x (4096 + 4096), dataplane/port_setup.h's default).
    check(0 <= m3.v("rtprelay_mempool_mbufs_in_use") <= m3.v("rtprelay_mempool_mbufs") == 8191 + 2 * (4096 + 4096),
          "rtprelay_mempool_mbufs_in_use %d of %d" % (m3.v("rtprelay_mempool_mbufs_in_use"), m3.v("rtprelay_mempool_mbufs")))
    check(m3.v("rtprelay_flows") >= 4, "rtprelay_flows counts the call's published flows")

    busy_time_checks(a_rtp, b_rtp, (a_addr, a_port))

    # 3. A real Prometheus scraping every second while media streams.
    if prom.proc is not None:
        stream_and_query(prom, a_rtp, (a_addr, a_port))
    drain(b_rtp)

    # 4. One packet to a port nobody holds: unknown_port +1, nothing else.
    m4 = scrape()
    spare = next(p for p in range(10000, 10100, 2) if p not in (a_port, b_port))
    a_rtp.sendto(rtp_packet(0x1111, 1, 0, b"x" * 20), (E["RELAY_A"], spare))
    m5 = settle(lambda s: delta(m4, s, "rtprelay_drops_total", reason="unknown_port") >= 1)
    time.sleep(0.3)
    m5 = scrape()
    check(delta(m4, m5, "rtprelay_drops_total", reason="unknown_port") == 1,
          "rtprelay_drops_total{reason=unknown_port} +1 for one packet to an unallocated port")
    check(m5.total("rtprelay_drops_total") - m4.total("rtprelay_drops_total") == 1, "no other drop reason moved")
    if prom.proc is not None:
        dashboard_drops_query(prom)

    # 5. Delete: the gauge falls back, the close is counted by reason.
    d = ng.request({"command": "delete", "call-id": "met-1", "from-tag": "alice"})
    m6 = scrape()
    check(text(d.get("result")) == "ok" and m6.get("rtprelay_sessions", interface="a") == 0 and
          m6.get("rtprelay_sessions", interface="b") == 0, "rtprelay_sessions{interface=a,b}: 1 -> 0 after delete")
    check(delta(m5, m6, "rtprelay_sessions_closed_total", reason="deleted") == 1,
          "rtprelay_sessions_closed_total{reason=deleted} +1")
    check(m6.get("rtprelay_ports_used", interface="a", address=E["RELAY_A"]) ==
          m0.get("rtprelay_ports_used", interface="a", address=E["RELAY_A"]), "ports back in the pool")
    check(delta(m5, m6, "rtprelay_ng_requests_total", command="delete", result="ok") == 1,
          "rtprelay_ng_requests_total{command=delete,result=ok} +1")

    # 6. SRTP: forged tags and replays are counted as such.
    srtp_checks(ng)

    # 7. Refusals: capacity (two calls fill 160k), draining, policy; NG errors.
    refusal_checks(ng)

    # 8. The histogram times every handled request; the whole scrape still lints clean.
    m9 = scrape()
    check(m9.v("rtprelay_ng_request_duration_seconds_count") == m9.total("rtprelay_ng_requests_total") and
          m9.v("rtprelay_ng_request_duration_seconds_count") > m0.v("rtprelay_ng_request_duration_seconds_count"),
          "rtprelay_ng_request_duration_seconds_count equals the requests counted (%d)" %
          m9.v("rtprelay_ng_request_duration_seconds_count"))
    check(m9.get("rtprelay_ng_request_duration_seconds_bucket", le="+Inf") ==
          m9.v("rtprelay_ng_request_duration_seconds_count") and m9.v("rtprelay_ng_request_duration_seconds_sum") > 0,
          "histogram: +Inf bucket = count, sum > 0")
    check(0 <= m9.v("rtprelay_control_snapshot_age_seconds") < 1, "control snapshot is fresh (%.3f s)" %
          m9.v("rtprelay_control_snapshot_age_seconds"))
    promtool(m9, "the last scrape (every counter non-zero somewhere)")


def stream_and_query(prom, tx, dst):
    stop = threading.Event()

    def stream():
        i = 0
        while not stop.is_set():
            tx.sendto(rtp_packet(0x3333, i, 160 * i, b"\x55" * 160), dst)
            i += 1
            time.sleep(0.01)
    t = threading.Thread(target=stream, daemon=True)
    t.start()
    try:
        up = wait_for(lambda: (prom.query('up{job="rtprelay"}') or [({}, 0)])[0][1] == 1, 30, 0.5)
        check(up, "Prometheus scrapes rtprelay (up == 1)")
        rate = []

        def rate_positive():
            r = prom.query("sum(rate(rtprelay_packets_relayed_total[10s])) > 0")
            rate[:] = r or []
            return bool(r) and r[0][1] > 0
        check(up and wait_for(rate_positive, 15, 0.5),
              "PromQL sum(rate(rtprelay_packets_relayed_total[10s])) > 0 while streaming: %s" %
              (rate[0][1] if rate else "no result"))
        sessions = []

        def one_session():
            r = prom.query("rtprelay_sessions")
            sessions[:] = r or []
            return r is not None and len(r) == 2 and all(v == 1 for _, v in r)
        check(up and wait_for(one_session, 10, 0.5), "PromQL rtprelay_sessions == 1 on both interfaces: %s" %
              [(m.get("interface"), v) for m, v in sessions])
    finally:
        stop.set()
        t.join()


def busy_time_checks(tx, rx, dst):
    """rtprelay_worker_busy_seconds_total: a worker polling empty queues adds (next to) nothing,
    relaying a flood adds time, and never more than the wall clock."""
    busy = "rtprelay_worker_busy_seconds_total"
    s0, t0 = scrape(), time.monotonic()
    time.sleep(1.0)
    s1, t1 = scrape(), time.monotonic()
    idle = delta(s0, s1, busy, worker="0")
    # A stray frame (IPv6 neighbour discovery on the veths) costs microseconds; 1 ms is 0.1%.
    check(delta(s0, s1, "rtprelay_worker_polls_total", worker="0") > 0 and 0 <= idle < 0.001,
          "idle: the worker polled for %.2f s and counted %.6f s busy (< 1 ms)" % (t1 - t0, idle))
    n = 5000
    for i in range(n):
        tx.sendto(rtp_packet(0x1111, 1000 + i, 160 * (1000 + i), b"\x33" * 160), dst)
        if i % 100 == 99:
            time.sleep(0.002)  # bursts the relay's af_packet RX ring (512 frames) holds
    s2 = settle(lambda s: delta(s1, s, "rtprelay_packets_received_total") >= n // 2, timeout=5)
    time.sleep(0.3)  # what is still in the af_packet ring
    s2, t2 = scrape(), time.monotonic()
    drain(rx)
    load = delta(s1, s2, busy, worker="0")
    relayed = delta(s1, s2, "rtprelay_packets_relayed_total", kind="rtp")
    check(relayed >= n // 2 and load > 10 * max(idle, 1e-5) and load < t2 - t1,
          "load: %d packets relayed in %.2f s took %.6f s of busy time (%.0f ns each), more than 10x idle's %.6f s "
          "and less than the wall clock" % (relayed, t2 - t1, load, 1e9 * load / max(relayed, 1), idle))
    check(delta(s1, s2, "rtprelay_worker_busy_polls_total", worker="0") >= 1,
          "rtprelay_worker_busy_polls_total{worker=0} moved with the flood")


def dashboard_drops_query(prom):
    """The Grafana drops panel's query, run by Prometheus: the drop just made shows with what
    its reason means (joined from rtprelay_drop_reason_info)."""
    with open(os.path.join(HERE, "..", "..", "deploy", "grafana", "rtprelay-dashboard.json")) as f:
        panel = next(p for p in json.load(f)["panels"] if p["title"] == "Drops by reason")
    expr = panel["targets"][0]["expr"].replace("$instance", ".*").replace("$__rate_interval", "1m")
    got = []

    def shown():
        got[:] = prom.query(expr) or []
        return any(m.get("reason") == "unknown_port" for m, _ in got)
    check(wait_for(shown, 15, 0.5) and
          [m.get("description") for m, _ in got if m.get("reason") == "unknown_port"] ==
          ["no flow on this local address and port"],
          "the dashboard's drops query shows unknown_port with its description: %s" % [m for m, _ in got])


def srtp_checks(ng):
    if not os.path.exists(SRTP_PEER):
        check(False, "srtp_peer built (%s)" % SRTP_PEER)
        return
    ip_a, ip_b = E["ADDR_A"], E["ADDR_B"]
    pa, pb = 32000, 42000
    ka, kb = new_key(), new_key()
    o = ng.request({"command": "offer", "call-id": "met-srtp", "from-tag": "sa", "direction": ["a", "b"],
                    "sdp": savp_sdp(ip_a, pa, "1 AES_CM_128_HMAC_SHA1_80 inline:" + ka)})
    to_b_suite, to_b_key = crypto_of(o.get("sdp", b""))
    a = ng.request({"command": "answer", "call-id": "met-srtp", "from-tag": "sa", "to-tag": "sb",
                    "sdp": savp_sdp(ip_b, pb, "1 %s inline:%s" % (to_b_suite, kb))})
    check(text(o.get("result")) == "ok" and text(a.get("result")) == "ok" and to_b_key is not None,
          "SRTP call met-srtp set up")
    _, to_a_key = crypto_of(a.get("sdp", b""))
    _, a_port, _ = media_of(a["sdp"])
    to = (E["RELAY_A"], a_port)
    suite = "AES_CM_128_HMAC_SHA1_80"
    src, dst = (E["NS_A"], ip_a, pa), (E["NS_B"], ip_b, pb)
    s0 = scrape()
    r = srtp_transfer(src, dst, to, ka, suite, to_b_key, to_b_suite, 20, 20, 100)
    s1 = scrape()
    check(r["ok"] == 20 and delta(s0, s1, "rtprelay_srtp_auth_failures_total") == 0 and
          delta(s0, s1, "rtprelay_packets_relayed_total", kind="rtp") == 20,
          "20 genuine SRTP packets relayed, no auth failures counted (%s)" % r)
    check(delta(s0, s1, "rtprelay_media_packets_total", port="0", direction="rx", kind="srtp") == 20 and
          delta(s0, s1, "rtprelay_media_packets_total", port="1", direction="tx", kind="srtp") == 20 and
          delta(s0, s1, "rtprelay_media_packets_total", port="0", direction="rx", kind="rtp") == 0,
          "rtprelay_media_packets_total{kind=srtp}: 20 in on port 0, 20 out on port 1, none counted as rtp")
    r = srtp_transfer(src, dst, to, ka, suite, to_b_key, to_b_suite, 20, 1, 100)  # the same indexes again
    s2 = settle(lambda s: delta(s1, s, "rtprelay_srtp_replay_drops_total") >= 20)
    check(delta(s1, s2, "rtprelay_media_packets_total", port="0", direction="rx", kind="srtp") == 0,
          "replayed SRTP is not counted as relayed media")
    check(r["received"] == 0 and delta(s1, s2, "rtprelay_srtp_replay_drops_total") == 20 and
          delta(s1, s2, "rtprelay_drops_total", reason="srtp_replay") == 20,
          "replaying 20 packets: rtprelay_srtp_replay_drops_total +%d (= drops_total{reason=srtp_replay})" %
          delta(s1, s2, "rtprelay_srtp_replay_drops_total"))
    r = srtp_transfer(src, dst, to, ka, suite, to_b_key, to_b_suite, 20, 15, 500, corrupt_every=4)
    s3 = settle(lambda s: delta(s2, s, "rtprelay_srtp_auth_failures_total") >= 5)
    check(delta(s2, s3, "rtprelay_srtp_auth_failures_total") == 5 and
          delta(s2, s3, "rtprelay_drops_total", reason="srtp_auth_failed") == 5 and r["ok"] == 15,
          "5 forged tags in 20: rtprelay_srtp_auth_failures_total +%d (= drops_total{reason=srtp_auth_failed})" %
          delta(s2, s3, "rtprelay_srtp_auth_failures_total"))
    check(to_a_key is not None, "A got the relay's key in the answer")


def refusal_checks(ng):
    r0 = scrape()
    check(r0.get("rtprelay_capacity_calls", scope="node") == 1, "met-srtp holds one of the two calls")
    o = ng.request({"command": "offer", "call-id": "met-2", "from-tag": "x", "direction": ["a", "b"],
                    "sdp": sdp_for(E["ADDR_A"], 30010)})
    full = ng.request({"command": "offer", "call-id": "met-3", "from-tag": "y", "direction": ["a", "b"],
                       "sdp": sdp_for(E["ADDR_A"], 30020), "supports": ["load limit"]})
    r1 = scrape()
    check(text(o.get("result")) == "ok" and text(full.get("result")) == "load limit", "third call refused with load limit")
    check(r1.get("rtprelay_capacity_utilisation_ratio", scope="node") == 1.0 and
          r1.get("rtprelay_sessions", interface="a") == 2, "two calls: utilisation 1.0, rtprelay_sessions{a} 2")
    check(delta(r0, r1, "rtprelay_sessions_refused_total", reason="capacity") == 1,
          "rtprelay_sessions_refused_total{reason=capacity} +1")
    check(delta(r0, r1, "rtprelay_ng_requests_total", command="offer", result="load_limit") == 1,
          "rtprelay_ng_requests_total{command=offer,result=load_limit} +1")
    for cid, tag in (("met-2", "x"), ("met-srtp", "sa")):
        ng.request({"command": "delete", "call-id": cid, "from-tag": tag})
    r2 = scrape()
    check(delta(r1, r2, "rtprelay_sessions_closed_total", reason="deleted") == 2 and
          r2.get("rtprelay_sessions", interface="a") == 0 and r2.get("rtprelay_capacity_reserved_bytes_per_second", scope="node") == 0,
          "two deletes: closed{deleted} +2, sessions and reservation back to 0")

    ng.request({"command": "drain"})
    r3 = scrape()
    refused = ng.request({"command": "offer", "call-id": "met-4", "from-tag": "z", "direction": ["a", "b"],
                          "sdp": sdp_for(E["ADDR_A"], 30030)})
    ng.request({"command": "undrain"})
    r4 = scrape()
    check(r3.get("rtprelay_draining") == 1 and r4.get("rtprelay_draining") == 0, "rtprelay_draining 1 while drained, 0 after")
    check(text(refused.get("result")) == "error" and delta(r3, r4, "rtprelay_sessions_refused_total", reason="draining") == 1
          and delta(r3, r4, "rtprelay_ng_requests_total", command="offer", result="error") == 1,
          "offer while draining: refused{reason=draining} +1, ng_requests{offer,error} +1")

    bad = ng.request({"command": "offer", "call-id": "met-5", "from-tag": "w", "direction": ["nosuch", "b"],
                      "sdp": sdp_for(E["ADDR_A"], 30040)})
    other = ng.request({"command": "frobnicate"})
    ng.raw(b"met7 this-is-not-bencode")
    # Never reaches the handler: the NG server's own counters reach the snapshot on its 250 ms timer.
    r5 = settle(lambda s: delta(r4, s, "rtprelay_ng_errors_total", reason="bad_request") >= 1)
    check(text(bad.get("result")) == "error" and delta(r4, r5, "rtprelay_sessions_refused_total", reason="policy") == 1,
          "offer to an unknown interface: refused{reason=policy} +1")
    check(text(other.get("result")) == "error" and
          delta(r4, r5, "rtprelay_ng_requests_total", command="other", result="error") == 1,
          "unknown NG command: ng_requests{command=other,result=error} +1")
    check(delta(r4, r5, "rtprelay_ng_errors_total", reason="bad_request") == 1,
          "undecodable NG request: rtprelay_ng_errors_total{reason=bad_request} +1")
    check(delta(r0, r5, "rtprelay_sessions_created_total") == 1, "only met-2 was created in this part")

    # A retransmit (same cookie, same body) is a cache hit; the cookie reused by the same
    # proxy for another request runs as that request and is counted.
    first = ng.raw(b"met9 d7:command4:pinge")
    again = ng.raw(b"met9 d7:command4:pinge")
    reused = ng.raw(b"met9 d7:call-id5:met-97:command5:querye")
    r6 = settle(lambda s: delta(r5, s, "rtprelay_ng_cookie_reuses_total") >= 1)
    check(first == again and b"Unknown call-id" in reused and
          delta(r5, r6, "rtprelay_ng_cache_hits_total") == 1 and delta(r5, r6, "rtprelay_ng_cookie_reuses_total") == 1,
          "NG cookie reused for another request: answered anew, rtprelay_ng_cookie_reuses_total +1 (%r)" % reused)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # run the clean-up in finally
    run_checks(main)
