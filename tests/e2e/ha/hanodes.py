"""rtprelay nodes of one group for the HA tests, inside the relay namespace of
tests/support/netns.sh: every node runs on net_af_packet ports on the same two veths (so
each sees every frame, and only the node holding an address's lease answers for it),
with the same two media addresses configured, its own NG port and DPDK file prefix."""

import os
import signal
import subprocess
import time

from rtptest import NgClient, ping, wait_for

E = os.environ


SENTINELS = E.get("SENTINEL_PORTS", "").split()


def cli(port, *args, raw=False):
    out = subprocess.run(["redis-cli", "-p", str(port), "--raw" if raw else "--no-raw"] + list(args),
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


def redis_raw(*args):
    return cli(master_port(), *args, raw=True)


def redis_set_bytes(key, value):
    """SET key to exactly `value` (bytes; redis-cli -x takes the last argument from stdin)."""
    subprocess.run(["redis-cli", "-p", str(master_port()), "-x", "SET", key], input=value, check=True,
                   capture_output=True, timeout=10)


def redis_pid(port):
    for line in cli(port, "INFO", "server", raw=True).decode().splitlines():
        if line.startswith("process_id:"):
            return int(line.split(":")[1].strip())
    return None


class Node:
    def __init__(self, n, home=True, group="t", extra=()):
        self.n = n
        self.name = "n%d" % n
        self.ng_port = 2222 + n
        self.log_path = os.path.join(E["HA_TMP"], "node%d.log" % n)
        self.args = [
            os.path.join(E["BUILD_DIR"], "relay", "rtprelay"), "--workers=1",
            "--eal=--lcores=0@0,1@1 --no-pci --no-huge -m 256 --no-shconf --file-prefix %sn%d "
            "--vdev=net_af_packet0,iface=%s --vdev=net_af_packet1,iface=%s" % (E["HA_PREFIX"], n, E["IF_A0"], E["IF_B0"]),
            "--interface=a address=%s/24 dpdk-port=0" % E["RELAY_A"],
            "--interface=b address=%s/24 dpdk-port=1" % E["RELAY_B"],
            "--ng-listen=127.0.0.1:%d" % self.ng_port, "--idle-sleep-us=50", "--drain-time=0",
            "--group=%s" % group, "--node=%s" % self.name, "--group-key-file=%s" % E["HA_KEY"],
        ] + (["--sentinel=127.0.0.1:%s" % p for p in SENTINELS] + ["--redis-master=rtprelay"] if SENTINELS
             else ["--redis=127.0.0.1:%s" % E["REDIS_PORT"]]) + (["--home-addresses=%s,%s" % (E["RELAY_A"], E["RELAY_B"])] if home else []) + list(extra)
        self.proc = None
        self.ng = NgClient(port=self.ng_port)

    def start(self):
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT)
        if not wait_for(lambda: ping(self.ng), 20):
            raise RuntimeError("%s does not answer NG" % self.name)
        return self

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
        return t

    def stop(self):
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None
