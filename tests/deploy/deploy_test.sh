#!/usr/bin/env bash
# deploy/ checked by the tools that will consume it: promtool (scrape config, alert rules,
# and the rules' own unit tests that prove each alert fires on synthetic series),
# systemd-analyze verify (the units), the Grafana dashboard's JSON, setup-host.sh's
# --dry-run on a fake sysfs tree, and README's production section naming only files that
# exist. No root, no network, no DPDK.
#   deploy_test.sh REPO_DIR
set -uo pipefail
repo=$(realpath "${1:-$(dirname "$0")/../..}")
deploy="$repo/deploy"
tmp=$(mktemp -d /tmp/rtprelay-deploy.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failures=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; failures=$((failures + 1)); }
check() {  # check "what" command... : passes when the command exits 0
    local what=$1; shift
    if out=$("$@" 2>&1); then ok "$what"; else bad "$what"; echo "$out" | tail -20; fi
}

# --- Prometheus ---
if command -v promtool >/dev/null; then
    check "promtool check config deploy/prometheus/prometheus.yml (loads the rule file too)" \
        bash -c "cd '$deploy/prometheus' && promtool check config prometheus.yml"
    check "promtool check rules deploy/prometheus/rtprelay-alerts.yml" \
        promtool check rules "$deploy/prometheus/rtprelay-alerts.yml"
    check "promtool test rules: every alert fires on its synthetic series, healthy ones stay quiet" \
        bash -c "cd '$deploy/prometheus' && promtool test rules rtprelay-alerts_test.yml"
    # The tests must cover every alert the rules define.
    defined=$(sed -n 's/^ *- alert: *//p' "$deploy/prometheus/rtprelay-alerts.yml" | sort -u)
    tested=$(sed -n 's/^ *alertname: *//p' "$deploy/prometheus/rtprelay-alerts_test.yml" | sort -u)
    [ "$defined" = "$tested" ] && ok "rule tests cover all $(echo "$defined" | wc -l) alerts" ||
        bad "alerts without a rule test: $(comm -23 <(echo "$defined") <(echo "$tested") | tr '\n' ' ')"
    # A broken threshold must make the rule tests fail (they are not vacuous).
    cp "$deploy/prometheus/rtprelay-alerts.yml" "$deploy/prometheus/rtprelay-alerts_test.yml" "$tmp/"
    sed -i 's/> 0.8$/> 0.95/' "$tmp/rtprelay-alerts.yml"
    if (cd "$tmp" && promtool test rules rtprelay-alerts_test.yml >/dev/null 2>&1); then
        bad "rule tests still pass with the capacity threshold moved to 95%"
    else
        ok "rule tests fail when the capacity threshold is moved to 95%"
    fi
else
    bad "promtool installed (Debian package prometheus)"
fi

# --- Grafana ---
check "deploy/grafana/rtprelay-dashboard.json parses; panels have queries, unique ids, the required views" \
    python3 - "$deploy/grafana/rtprelay-dashboard.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
panels = [p for p in d["panels"] if p["type"] != "row"]
ids = [p["id"] for p in d["panels"]]
assert len(ids) == len(set(ids)), "duplicate panel ids"
assert d["uid"] and d["title"], "uid and title"
exprs = []
for p in panels:
    assert p.get("targets"), "panel %r has no query" % p["title"]
    for t in p["targets"]:
        assert t["expr"].strip(), "empty query in %r" % p["title"]
        exprs.append(t["expr"])
text = "\n".join(exprs)
for needed in ("rtprelay_capacity_calls", "rtprelay_packets_relayed_total", "rtprelay_drops_total",
               "rtprelay_capacity_utilisation_ratio", "rtprelay_worker_busy_seconds_total"):
    assert needed in text, "dashboard lacks " + needed
PY

# --- systemd ---
if command -v systemd-analyze >/dev/null; then
    # The units name installed paths; point them at this tree so verify can check them.
    mkdir -p "$tmp/units"
    for u in rtprelay.service rtprelay-host.service; do
        sed -e "s#/usr/local/bin/rtprelay#/bin/true#g" \
            -e "s#/usr/local/sbin/rtprelay-setup-host#$deploy/scripts/setup-host.sh#g" \
            "$deploy/systemd/$u" >"$tmp/units/$u"
    done
    out=$(cd "$tmp/units" && systemd-analyze verify ./rtprelay-host.service ./rtprelay.service 2>&1)
    rc=$?
    [ $rc = 0 ] && [ -z "$out" ] && ok "systemd-analyze verify rtprelay.service rtprelay-host.service: clean" ||
        { bad "systemd-analyze verify (rc $rc)"; echo "$out"; }
    grep -q '^Restart=on-failure' "$deploy/systemd/rtprelay.service" && ok "rtprelay.service restarts on failure" ||
        bad "rtprelay.service has no Restart=on-failure"
else
    echo "skip systemd-analyze not installed"
fi

# --- setup-host.sh --dry-run on a fake sysfs ---
setup="$deploy/scripts/setup-host.sh"
fake="$tmp/sys"
mkdir -p "$fake/kernel/mm/hugepages/hugepages-2048kB" "$fake/kernel/mm/hugepages/hugepages-1048576kB" \
    "$fake/kernel/iommu_groups/17" "$fake/bus/pci/drivers/ixgbe" "$fake/bus/pci/drivers/vfio-pci" \
    "$fake/bus/pci/devices/0000:3b:00.0/net/enp59s0f0" "$fake/bus/pci/devices/0000:3b:00.1" "$fake/module"
echo 0 >"$fake/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
echo 0 >"$fake/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages"
ln -s ../../drivers/ixgbe "$fake/bus/pci/devices/0000:3b:00.0/driver"
ln -s ../../drivers/vfio-pci "$fake/bus/pci/devices/0000:3b:00.1/driver"
: >"$tmp/mounts"
export RTPRELAY_SYSFS="$fake" RTPRELAY_MOUNTS="$tmp/mounts"
out=$("$setup" --dry-run --hugepages 2G --nic 0000:3b:00.0 --nic 0000:3b:00.1 2>&1)
rc=$?
expected='# dry run: nothing is changed
# hugepages: 0 x 2M reserved, reserving 1024 (2G)
+ dpdk-hugepages.py --pagesize 2M --reserve 2G
+ dpdk-hugepages.py --pagesize 2M --mount
+ modprobe vfio-pci
+ ip link set dev enp59s0f0 down
+ dpdk-devbind.py --bind=vfio-pci 0000:3b:00.0
# 0000:3b:00.1: already bound to vfio-pci
# host ready for rtprelay'
if [ $rc = 0 ] && [ "$out" = "$expected" ]; then
    ok "setup-host.sh --dry-run prints the dpdk-hugepages.py / dpdk-devbind.py steps, skips what is in place"
else
    bad "setup-host.sh --dry-run (rc $rc)"; diff <(echo "$expected") <(echo "$out")
fi
[ "$(cat "$fake/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages")" = 0 ] && ok "--dry-run changed nothing" ||
    bad "--dry-run wrote nr_hugepages"
# Already in place: hugepages reserved and mounted, module loaded -> nothing but notes.
echo 1024 >"$fake/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
echo "hugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0" >"$tmp/mounts"
mkdir -p "$fake/module/vfio_pci"
printf 'RTPRELAY_HUGEPAGES=2G\nRTPRELAY_PAGESIZE=2M\nRTPRELAY_NICS="0000:3b:00.1"\n' >"$tmp/env"
out=$("$setup" --dry-run --env "$tmp/env" 2>&1)
rc=$?
if [ $rc = 0 ] && ! grep -q '^+ ' <<<"$out" && grep -q "already reserved" <<<"$out" && grep -q "already bound" <<<"$out"; then
    ok "setup-host.sh --env: a prepared host needs no command"
else
    bad "setup-host.sh on a prepared host (rc $rc)"; echo "$out"
fi
# 1G pages on one NUMA node, from the env file with the command line winning.
mkdir -p "$fake/devices/system/node/node0/hugepages/hugepages-1048576kB"
out=$("$setup" --dry-run --env "$tmp/env" --pagesize 1G --hugepages 4G --node 0 2>&1)
grep -qx '+ dpdk-hugepages.py --pagesize 1G --node 0 --reserve 4G' <<<"$out" &&
    ok "setup-host.sh: --pagesize 1G --node 0 --hugepages 4G reserves on node 0" || { bad "1G pages on node 0"; echo "$out"; }
# Bad arguments: exit 2 with a message naming the argument, before doing anything.
for args in "--nic 3b:00.0" "--hugepages 3M" "--hugepages lots" "--pagesize 4K --hugepages 1G" \
            "--driver igb_uio --nic 0000:3b:00.0" "--frobnicate" ""; do
    # shellcheck disable=SC2086
    out=$("$setup" --dry-run $args 2>&1)
    rc=$?
    [ $rc = 2 ] && [ -n "$out" ] && ! grep -q '^+ ' <<<"$out" && ok "setup-host.sh --dry-run ${args:-(nothing)}: refused (2): ${out%%$'\n'*}" ||
        { bad "setup-host.sh ${args:-(nothing)} should exit 2 (got $rc)"; echo "$out"; }
done
unset RTPRELAY_SYSFS RTPRELAY_MOUNTS

# --- README's production section names only files that exist ---
section=$(sed -n '/^## Running in production/,/^## [^R]/p' "$repo/README.md")
if [ -z "$section" ]; then
    bad "README.md has a 'Running in production' section"
else
    missing=()
    while read -r f; do
        [ -e "$repo/$f" ] || missing+=("$f")
    done < <(grep -oE '(deploy|tests)/[A-Za-z0-9_./-]+[A-Za-z0-9_]' <<<"$section" | sort -u)
    n=$(grep -oE '(deploy|tests)/[A-Za-z0-9_./-]+[A-Za-z0-9_]' <<<"$section" | sort -u | wc -l)
    [ ${#missing[@]} = 0 ] && [ "$n" -ge 8 ] && ok "README 'Running in production' names $n repository files, all present" ||
        bad "README production section: missing files: ${missing[*]} (found $n names)"
fi

if [ $failures != 0 ]; then
    echo "FAIL: $failures deploy check(s) failed"
    exit 1
fi
echo "PASS: deploy"
