#!/usr/bin/env bash
# The sample configurations in deploy/config: the lab one starts the real relay (net_tap
# devices in a namespace of its own, no NIC, no hugepages), answers NG, and serves /metrics
# holding every metric the Grafana dashboard and the alert rules query; the production ones
# (jp1, two regions) pass --check-config, and a broken one is refused naming the option.
#   lab_config_test.sh BUILD_DIR
set -euo pipefail
build=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
relay="$build/relay/rtprelay"
# Named like the other e2e namespaces so tests/run.sh removes a leftover.
ns="rplab$(($$ % 100000))-relay"
tmp=$(mktemp -d /tmp/rtprelay-lab.XXXXXX)
relay_pid=
finish() {
    local rc=$?
    if [ -n "$relay_pid" ] && kill -0 "$relay_pid" 2>/dev/null; then
        kill -9 "$relay_pid" 2>/dev/null || true
    fi
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
    rm -rf /var/run/dpdk/rtprelay-lab  # the lab config's --file-prefix (empty with --no-shconf)
    if [ $rc -ne 0 ]; then
        echo "---- relay log ----"
        tail -n 40 "$tmp/relay.log" 2>/dev/null || true
    fi
    rm -rf "$tmp"
    exit $rc
}
trap finish EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }

# 1. --check-config on every sample, without DPDK.
for conf in rtprelay.conf rtprelay-two-regions.conf rtprelay-lab.conf; do
    out=$("$relay" --config "$repo/deploy/config/$conf" --check-config 2>&1) || fail "$conf: --check-config: $out"
    echo "ok   $conf: $out"
done
grep -q "jp1(port 0, 2 address(es))" <<<"$("$relay" --config "$repo/deploy/config/rtprelay.conf" --check-config)" ||
    fail "jp1 sample: expected interface jp1 on port 0 with 2 addresses"
out=$("$relay" --config "$repo/deploy/config/rtprelay-two-regions.conf" --check-config)
grep -q "2 interface(s) jp1(port 0, 2 address(es)) sg1(port 1, 2 address(es))" <<<"$out" ||
    fail "two-region sample: $out"
sed 's/^interface = jp1 address=54.65.63.200\/26/interface = jp1 address=54.65.63.300\/26/' \
    "$repo/deploy/config/rtprelay.conf" >"$tmp/broken.conf"
if out=$("$relay" --config "$tmp/broken.conf" --check-config 2>&1); then
    fail "--check-config accepted an address 54.65.63.300"
fi
grep -q "54.65.63.300" <<<"$out" || fail "--check-config error does not name the bad address: $out"
echo "ok   --check-config refuses a bad address: $out"

# 2. The lab config starts the relay as written.
ip netns add "$ns"
ip -n "$ns" link set lo up
ip netns exec "$ns" "$relay" --config "$repo/deploy/config/rtprelay-lab.conf" >"$tmp/relay.log" 2>&1 &
relay_pid=$!

export PYTHONPATH="$here/../support"
ip netns exec "$ns" timeout 120 python3 - "$repo" <<'PY'
import json, re, subprocess, sys, time, urllib.request
from rtptest import NgClient, check, ping, run_checks, wait_for

repo = sys.argv[1]


def scrape():
    try:
        with urllib.request.urlopen("http://127.0.0.1:9100/metrics", timeout=3) as r:
            return r.read().decode()
    except OSError:
        return None


def names_in(body):
    """Metric names a PromQL query could select: TYPE'd families plus histogram series."""
    out = set()
    for line in body.splitlines():
        if line.startswith("# TYPE "):
            name, kind = line[7:].split(" ", 1)
            out.add(name)
            if kind.strip() == "histogram":
                out |= {name + "_bucket", name + "_sum", name + "_count"}
        elif line and not line.startswith("#"):
            out.add(re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0))
    return out


def queried(text):
    return set(re.findall(r"\brtprelay_[a-z0-9_]+\b", text))


def main():
    ng = NgClient(port=2223)
    check(wait_for(lambda: ping(ng), 30), "the relay started from deploy/config/rtprelay-lab.conf answers NG ping")
    body = [None]
    check(wait_for(lambda: body.__setitem__(0, scrape()) or body[0] is not None, 10),
          "/metrics answers on 127.0.0.1:9100 (metrics-listen of the lab config)")
    have = names_in(body[0])
    r = subprocess.run(["promtool", "check", "metrics"], input=body[0], capture_output=True, text=True)
    check(r.returncode == 0 and not (r.stdout + r.stderr).strip(), "promtool check metrics on the lab relay's scrape")
    ifaces = re.findall(r'rtprelay_interface_info\{([^}]*)\} 1', body[0])
    check(len(ifaces) == 2 and 'interface="a"' in ifaces[0] and 'port="0"' in ifaces[0],
          "rtprelay_interface_info maps the lab interfaces a and b to DPDK ports: %s" % ifaces)
    cap = re.search(r'rtprelay_capacity_bytes_per_second\{scope="node"\} (\S+)', body[0])
    check(cap is not None and float(cap.group(1)) == 20000, "capacity = 160k from the lab config (20000 B/s)")

    dash = json.load(open(repo + "/deploy/grafana/rtprelay-dashboard.json"))
    exprs = "\n".join(t["expr"] for p in dash["panels"] for t in p.get("targets", []))
    wanted = queried(exprs)
    missing = sorted(wanted - have)
    check(len(wanted) >= 20 and not missing,
          "all %d metrics the Grafana dashboard queries are in the live scrape%s" %
          (len(wanted), ": missing " + ", ".join(missing) if missing else ""))
    rules = open(repo + "/deploy/prometheus/rtprelay-alerts.yml").read()
    wanted = queried(rules)
    missing = sorted(wanted - have)
    check(len(wanted) >= 8 and not missing,
          "all %d metrics the alert rules query are in the live scrape%s" %
          (len(wanted), ": missing " + ", ".join(missing) if missing else ""))
    readme = open(repo + "/README.md").read()
    section = readme[readme.index("## Running in production"):]
    table = section.split("What `/metrics` exports")[1].split("\n\n")[1]
    documented = set()
    for row in table.splitlines()[2:]:                     # | metric names | labels |
        documented |= {"rtprelay_" + n for n in re.findall(r"`([a-z0-9_]+)`", row.split("|")[1])}
        documented |= {"rtprelay_" + n for n in re.findall(r"`([a-z0-9_]+)` maps", row)}
    missing = sorted(documented - have)
    check(len(documented) >= 20 and not missing,
          "all %d metrics README documents are in the live scrape%s" %
          (len(documented), ": missing " + ", ".join(missing) if missing else ""))


run_checks(main)
PY

kill -TERM "$relay_pid"
for _ in $(seq 1 100); do
    kill -0 "$relay_pid" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$relay_pid" 2>/dev/null && fail "rtprelay did not exit within 10 s of SIGTERM"
rc=0
wait "$relay_pid" || rc=$?
relay_pid=
[ "$rc" = 0 ] || fail "rtprelay exited with $rc after SIGTERM"
grep -q 'msg="final counters"' "$tmp/relay.log" || fail "no final counters line in the relay log"
# Every line the relay wrote is a structured one.
# DPDK's own lines ("EAL: ...", "eth_dev_tap_create(): ...") are not rtprelay's.
other=$(grep -v '^level=\(error\|warning\|info\|debug\) msg=' "$tmp/relay.log" |
        grep -Ev '^[A-Z_]+: |^[a-z_0-9]+\(\): |^ *$' || true)
if [ -n "$other" ]; then
    echo "$other" | head
    fail "relay log lines not in level=... msg=... form (above; DPDK's own lines excepted)"
fi
[ "$(grep -c '^level=' "$tmp/relay.log")" -ge 5 ] || fail "fewer than 5 structured lines in the relay log"
echo "ok   relay log: every rtprelay line is level=... msg=..."
echo "PASS: lab_config_test"
