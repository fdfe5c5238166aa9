"""rtprelay nodes of one group for the HA tests, inside the relay namespace of
tests/support/netns.sh: every node runs on net_af_packet ports on the same two veths (so
each sees every frame, and only the node holding an address's lease answers for it),
with the same two media addresses configured, its own NG port and DPDK file prefix."""

import os
import signal
import subprocess
import time

from rtptest import NgClient, peer_report, ping, wait_for

E = os.environ


SENTINELS = E.get("SENTINEL_PORTS", "").split()
RHOST = E.get("REDIS_HOST", "127.0.0.1")


PASSWORD_FILE = E.get("REDIS_PASSWORD_FILE", "")
AUTH = []
if PASSWORD_FILE:
    with open(PASSWORD_FILE) as f:
        AUTH = ["--user", "rtprelay", "--pass", f.read().strip(), "--no-auth-warning"]


def cli(port, *args, raw=False):
    auth = AUTH if int(port) not in [int(p) for p in SENTINELS] else []
    out = subprocess.run(["redis-cli", "-h", RHOST, "-p", str(port)] + auth + ["--raw" if raw else "--no-raw"] + list(args),
                         capture_output=True, timeout=10)
    return out.stdout if raw else out.stdout.decode(errors="replace").strip()


def master_port():
    """The port of the Redis the Sentinels name master (the one Redis without Sentinels)."""
    for s in SENTINELS:
        out = cli(s, "SENTINEL", "get-master-addr-by-name", "rtprelay", raw=True).decode().split()
        if len(out) >= 2 and out[-1].isdigit():
            return int(out[-1])
    return int(E["REDIS_PORT"])


def redis(*args):
    return cli(master_port(), *args)


def holds(name, *addrs):
    """Node `name` holds the lease of every one of `addrs` (the test group "t"'s keys)."""
    return all(redis("GET", "rtprelay:t:lease:" + a) == '"%s"' % name for a in addrs)


def redis_raw(*args):
    return cli(master_port(), *args, raw=True)


def redis_set_bytes(key, value):
    """SET key to exactly `value` (bytes; redis-cli -x takes the last argument from stdin)."""
    subprocess.run(["redis-cli", "-h", RHOST, "-p", str(master_port())] + AUTH + ["-x", "SET", key], input=value, check=True,
                   capture_output=True, timeout=10)


def redis_pid(port):
    for line in cli(port, "INFO", "server", raw=True).decode().splitlines():
        if line.startswith("process_id:"):
            return int(line.split(":")[1].strip())
    return None


def capture(ns, iface, path, bpf, buffer_mb=None):
    """Frames matching `bpf` on `iface` in namespace `ns`, into `path` as classic pcap (what
    pcapidx and tshark read). dumpcap is tshark's capture engine: tshark itself takes seconds
    to start on a loaded host, and a capture that starts after a kill cannot show what the
    killed node sent. buffer_mb: the kernel buffer (-B) when the default 2 MB is too small."""
    return subprocess.Popen(["ip", "netns", "exec", ns, "dumpcap", "-q", "-P", "-i", iface] +
                            (["-B", str(buffer_mb)] if buffer_mb else []) + ["-w", path, "-f", bpf],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def captures_running(paths, timeout=20):
    """dumpcap writes its file's header (24 bytes) once it captures."""
    return wait_for(lambda: all(os.path.exists(p) and os.path.getsize(p) >= 24 for p in paths), timeout)


PEER = os.path.join(E["BUILD_DIR"], "tests", "srtp_peer")
S80 = "AES_CM_128_HMAC_SHA1_80"


def srtp_flow(src, dst, to, send_key, recv_key, ssrc, count, interval_ms=20, seq=1000, rtcp=False, slack_ms=4000):
    """A libsrtp2 stream (tests/srtp_peer, AES_CM_128_HMAC_SHA1_80) through the relay while
    the test does something to the nodes: a sender at src and a receiver at dst, each
    (namespace, address, port); the sender sends to the relay at `to` (address, port) with
    send_key, the receiver checks with recv_key (the relay's key toward it) and waits for the
    `count` packets `interval_ms` apart, plus slack_ms. Returns (sender, receiver) for
    flow_report()."""
    extra = ["--rtcp"] if rtcp else []
    recv = subprocess.Popen([PEER, "recv", "--ns", dst[0], "--bind", "%s:%d" % dst[1:], "--count", str(count),
                             "--timeout-ms", str(int(count * interval_ms + slack_ms)), "--key", recv_key,
                             "--suite", S80] + extra, stdout=subprocess.PIPE, text=True)
    send = subprocess.Popen([PEER, "send", "--ns", src[0], "--bind", "%s:%d" % src[1:], "--to", "%s:%d" % to,
                             "--count", str(count), "--interval-us", str(interval_ms * 1000), "--ssrc", str(ssrc),
                             "--key", send_key, "--suite", S80, "--seq", str(seq)] + extra)
    return send, recv


def flow_report(flow, timeout=30):
    """The receiver's report once the sender of srtp_flow() has ended."""
    send, recv = flow
    send.wait(timeout)
    return peer_report(recv, timeout)


BRIDGED = bool(E.get("HA_BRIDGE"))
# Floating NG addresses of nodes 1-3 (bridged mode, on the management bridge), and their
# IPv6 twins (HA_MGMT6: IPv6 on the management bridge, bridge_net.sh).
FLOAT_NG = ["198.19.0.11", "198.19.0.12", "198.19.0.13"]
FLOAT_NG6 = ["2001:2:0:19::11", "2001:2:0:19::12", "2001:2:0:19::13"]


class Node:
    """Node n. Shared-veth mode: in the relay namespace, NG on 127.0.0.1:2222+n. Bridged
    mode (HA_BRIDGE): in namespace PREFIX-n<n> with its own veths and MACs, NG on
    198.19.0.<n>:2223 (the management bridge)."""

    def __init__(self, n, home=True, group="t", extra=(), a_addrs=None, b_addrs=None, ng_float=False, ng6=False):
        """home: True = both default media addresses, False = none (a standby), or a list.
        a_addrs/b_addrs: the media addresses of interfaces a and b (default: RELAY_A, RELAY_B).
        ng_float (bridged mode): NG on 198.19.0.1<n> (FLOAT_NG), a floating address leased with
        the media addresses and added to the node's management veth by its holder; the
        management address 198.19.0.<n> keeps Redis and /metrics. ng6 (with ng_float): the
        floating NG addresses are IPv6 (FLOAT_NG6, /64) instead."""
        self.n = n
        self.name = "n%d" % n
        p = E["HA_PREFIX"]
        self.ng_float = ng_float
        if BRIDGED:
            self.ns = "%s-n%d" % (p, n)
            floats = FLOAT_NG6 if ng6 else FLOAT_NG
            self.ng_addr = (floats[n - 1] if ng_float else "198.19.0.%d" % n, 2223)
            ifa, ifb = "%s-n%da" % (p, n), "%s-n%db" % (p, n)
        else:
            self.ns = None
            self.ng_addr = ("127.0.0.1", 2222 + n)
            ifa, ifb = E["IF_A0"], E["IF_B0"]
        self.log_path = os.path.join(E["HA_TMP"], "node%d.log" % n)
        self.args = ([] if self.ns is None else ["ip", "netns", "exec", self.ns]) + [
            os.path.join(E["BUILD_DIR"], "relay", "rtprelay"), "--workers=1",
            "--eal=--lcores=0@0,1@1 --no-pci --no-huge -m 256 --no-shconf --file-prefix %sn%d "
            "--vdev=net_af_packet0,iface=%s --vdev=net_af_packet1,iface=%s" % (p, n, ifa, ifb),
            "--interface=a address=%s dpdk-port=0" % ",".join(x + "/24" for x in (a_addrs or [E["RELAY_A"]])),
            "--interface=b address=%s dpdk-port=1" % ",".join(x + "/24" for x in (b_addrs or [E["RELAY_B"]])),
            ("--ng-listen=[%s]:%d" if ng6 else "--ng-listen=%s:%d") % self.ng_addr, "--ng-allow=%s" % RHOST, "--idle-sleep-us=50", "--drain-time=0",
            "--group=%s" % group, "--node=%s" % self.name, "--group-key-file=%s" % E["HA_KEY"],
        ] + (["--sentinel=%s:%s" % (RHOST, p) for p in SENTINELS] + ["--redis-master=rtprelay"] if SENTINELS
             else ["--redis=%s:%s" % (RHOST, E["REDIS_PORT"])]) + (
            ["--redis-user=rtprelay", "--redis-password-file=%s" % PASSWORD_FILE] if PASSWORD_FILE else [])
        if home:
            self.args.append("--home-addresses=%s" % ",".join(
                home if isinstance(home, list) else [E["RELAY_A"], E["RELAY_B"]]))
        if ng_float:
            self.args += ["--ng-float-interface=%s-n%dm" % (p, n),
                          "--ng-float-addresses=%s" % ",".join(a + ("/64" if ng6 else "/24") for a in floats)]
        self.args += list(extra)
        self.metrics_addr = ("198.19.0.%d" % n if ng_float else self.ng_addr[0], 9200 + n)
        self.args.append("--metrics-listen=%s:%d" % self.metrics_addr)
        self.proc = None
        self.ng = NgClient(host=self.ng_addr[0], port=self.ng_addr[1])

    def start(self):
        # Nodes sharing the relay namespace's veths (not HA_BRIDGE) are two DPDK af_packet
        # processes on the same interfaces, which a production host never runs: the driver
        # names each socket's fanout group (pid ^ ifindex) & 0xffff, so two nodes whose pids
        # differ by the two veths' ifindex XOR collide and the second cannot open its port
        # (PACKET_FANOUT: Invalid argument). A new process has a new pid: start it again.
        # Only this attempt's output counts (the log is appended to across starts).
        for attempt in range(3):
            start = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
            with open(self.log_path, "a") as log:
                self.proc = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT)
            if wait_for(lambda: ping(self.ng) or self.proc.poll() is not None, 20) and self.proc.poll() is None:
                return self
            if self.proc.poll() is None:
                break  # running but not answering: a real failure
            with open(self.log_path, "rb") as log:
                log.seek(start)
                fanout_taken = b"could not set PACKET_FANOUT" in log.read()
            if attempt < 2 and fanout_taken:
                print("%s: af_packet fanout group taken by the other node's pid, starting again" % self.name)
                continue
            break
        raise RuntimeError("%s does not answer NG" % self.name)

    def metrics(self):
        """{'name{labels}': value} from the node's /metrics."""
        import urllib.request
        with urllib.request.urlopen("http://%s:%d/metrics" % self.metrics_addr, timeout=5) as r:
            body = r.read().decode()
        out = {}
        for line in body.splitlines():
            if line and not line.startswith("#"):
                k, _, v = line.rpartition(" ")
                out[k] = float(v)
        return out

    def metric(self, key):
        return self.metrics().get(key)

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()

    def wait_log(self, words, timeout=10):
        return wait_for(lambda: words in self.log_text(), timeout)

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(5)
        t = time.monotonic()
        self.proc = None
        if self.ng_float:
            # What deploy/systemd/rtprelay.service's ExecStopPost does after any stop, a
            # crash or kill -9 included: the dead node's kernel answers for no NG address.
            subprocess.run(self.args + ["--ng-float-release"], check=True, timeout=10,
                           stdout=subprocess.DEVNULL)
        return t

    def kernel_addresses(self):
        """The addresses (IPv4 and IPv6) on the node's management veth (bridged mode)."""
        out = subprocess.run(["ip", "-n", self.ns, "-o", "addr", "show", "dev",
                              "%s-n%dm" % (E["HA_PREFIX"], self.n)], capture_output=True, text=True).stdout
        return [w.split("/")[0] for line in out.splitlines() for w in line.split()[3:4]]

    def stop(self):
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None
