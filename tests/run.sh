#!/usr/bin/env bash
# The test command: installs missing Debian packages (as root), builds, and runs every
# test — unit tests, then the serial end-to-end tests in network namespaces and the demo.
#   sudo ./tests/run.sh [meson test args...]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
    echo "tests/run.sh: must run as root (DPDK, network namespaces)" >&2
    exit 1
fi
./deploy/scripts/install-deps.sh
./deploy/scripts/build.sh
# Leftovers of an interrupted earlier run (namespaces, DPDK runtime dirs) go first.
source tests/support/netns.sh
for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^rp[a-z0-9]*-(relay|a|b)$' || true); do
    netns_cleanup "${ns%-*}"
done
rc=0
meson test -C build --print-errorlogs --num-processes 2 "$@" || rc=$?
# One closing line any CI reader understands, from meson's own log.
python3 - build/meson-logs/testlog.json <<'PY' || true
import json, sys
ok = bad = skip = 0
for line in open(sys.argv[1]):
    r = json.loads(line).get("result")
    if r in ("OK", "EXPECTEDFAIL"):
        ok += 1
    elif r == "SKIP":
        skip += 1
    else:
        bad += 1
print("tests: %d passed, %d failed, %d skipped" % (ok, bad, skip))
PY
exit $rc
