#!/usr/bin/env bash
# Harness for the group (high availability) tests: the namespace topology of
# tests/support/netns.sh, a Redis of the test's own in the relay namespace (loopback, a
# private port and directory, no persistence), and a sealing key; then one Python test,
# which starts, kills and restarts the rtprelay nodes itself (tests/e2e/ha/hanodes.py).
# Every process lives in the test's namespaces and goes with them on every exit.
#   run_ha.sh BUILD_DIR TEST.py [PREFIX]
set -euo pipefail
build=$(realpath "$1")
test_py=$(realpath "$2")
base=${3:-rha}
base=${base:0:5}
prefix="$base$(($$ % 100000))"
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../support/netns.sh"

for tool in redis-server redis-cli python3; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool not installed (deploy/scripts/install-deps.sh)"; exit 1; }
done

tmp=$(mktemp -d /tmp/rtprelay-ha.XXXXXX)
redis_pid=
finish() {
    local rc=$?
    set +e
    stop_pid "$redis_pid"
    [ -z "$redis_pid" ] || wait "$redis_pid" 2>/dev/null
    netns_cleanup "$prefix"
    for n in 1 2 3; do rm -rf "/var/run/dpdk/${prefix}n$n"; done
    if [ $rc -ne 0 ]; then
        for f in "$tmp"/*.log; do
            [ -e "$f" ] || continue
            echo "---- $(basename "$f") (last 40 lines) ----"
            tail -n 40 "$f"
        done
    fi
    [ -n "${KEEP_LOGS:-}" ] && echo "logs kept in $tmp" || rm -rf "$tmp"
    exit $rc
}
trap finish EXIT INT TERM
sweep_dead_runs "$base" "-relay" netns_cleanup
netns_setup "$prefix"

# Redis on the relay namespace's loopback: nodes reach it, nothing outside can.
redis_port=${REDIS_PORT:-6391}
ip netns exec "$NS_RELAY" redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$tmp" --daemonize no --logfile "$tmp/redis.log" &
redis_pid=$!
for _ in $(seq 1 50); do
    ip netns exec "$NS_RELAY" redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG && break
    sleep 0.1
done
(umask 077 && openssl rand -hex 32 >"$tmp/group.key")

export NS_RELAY NS_A NS_B ADDR_A ADDR_B RELAY_A RELAY_B IF_A0 IF_B0 IF_A1 IF_B1 BUILD_DIR=$build
export HA_PREFIX=$prefix HA_TMP=$tmp HA_KEY="$tmp/group.key" REDIS_PORT=$redis_port
export PYTHONPATH="$here:$here/../../support"
ip netns exec "$NS_RELAY" timeout "${TEST_TIMEOUT:-240}" python3 "$test_py"
echo "PASS: $(basename "$test_py")"
