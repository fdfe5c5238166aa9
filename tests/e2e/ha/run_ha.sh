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
source "$here/bridge_net.sh"
# HA_BRIDGE=N: N nodes in namespaces of their own on bridges (bridge_net.sh), each with its
# own MACs; otherwise all nodes share the relay namespace's two veths (netns.sh).
bridged=${HA_BRIDGE:-}

for tool in redis-server redis-cli python3; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool not installed (deploy/scripts/install-deps.sh)"; exit 1; }
done

tmp=$(mktemp -d /tmp/rtprelay-ha.XXXXXX)
redis_pids=
finish() {
    local rc=$?
    set +e
    for p in $redis_pids; do stop_pid "$p"; done
    if [ -n "$bridged" ]; then bridge_cleanup "$prefix"; else netns_cleanup "$prefix"; fi
    if type sipnet_cleanup >/dev/null 2>&1; then sipnet_cleanup "$prefix"; fi
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
sweep_dead_runs "$base" "-br" bridge_cleanup
if [ -n "$bridged" ]; then
    bridge_setup "$prefix" "$bridged"
    NS_RELAY=$BR_NS  # Redis, Sentinels and the test live on the management bridge
    redis_host=$MGMT_HOST
    # Off loopback Redis wants credentials: an ACL user for the group, as in production.
    (umask 077 && echo "s3cret-$$" >"$tmp/redis.pass")
    redis_auth=(--user default off --user rtprelay on ">s3cret-$$" "~*" "&*" "+@all"
                --masteruser rtprelay --masterauth "s3cret-$$")
    if [ -n "${HA_SIPNET:-}" ]; then
        # SIP for a Kamailio on the management side: the bridge namespace also sits on the
        # media segments (198.18.1.100, 198.18.2.100), where the hosts' SIPp runs.
        ip -n "$BR_NS" addr add 198.18.1.100/24 dev br-a
        ip -n "$BR_NS" addr add 198.18.2.100/24 dev br-b
        SIP_PROXY_A=198.18.1.100 SIP_A=$ADDR_A SIP_PROXY_B=198.18.2.100 SIP_B=$ADDR_B
        export SIP_PROXY_A SIP_PROXY_B SIP_A SIP_B
    fi
else
    netns_setup "$prefix"
    if [ -n "${HA_SIPNET:-}" ]; then
        # SIP links for Kamailio in the relay namespace (tests/e2e/kamailio/sipnet.sh).
        source "$here/../kamailio/sipnet.sh"
        sipnet_setup "$prefix"
        export SIP_PROXY_A SIP_PROXY_B SIP_A SIP_B
    fi
    redis_host=127.0.0.1
    redis_auth=()
fi
cli_auth=()
[ -z "$bridged" ] || cli_auth=(--user rtprelay --pass "s3cret-$$" --no-auth-warning)

# Redis on the relay namespace's loopback: nodes reach it, nothing outside can. With
# HA_SENTINEL=1: a master, a replica and three Sentinels (quorum 2, master down after
# 300 ms, so they ping it every 300 ms), as a group would run them.
redis_port=${REDIS_PORT:-6391}
start_redis() {  # PORT [extra redis-server arguments]
    local port=$1
    shift
    mkdir -p "$tmp/r$port"
    ip netns exec "$NS_RELAY" redis-server --port "$port" --bind "$redis_host" --save '' --appendonly no \
        --dir "$tmp/r$port" --daemonize no --logfile "$tmp/redis-$port.log" "${redis_auth[@]}" "$@" &
    redis_pids="$redis_pids $!"
    disown  # tests kill Redis on purpose: no job notice for it
    for _ in $(seq 1 50); do
        ip netns exec "$NS_RELAY" redis-cli -h "$redis_host" -p "$port" "${cli_auth[@]}" ping 2>/dev/null | grep -q PONG && return 0
        sleep 0.1
    done
    echo "FAIL: redis-server on port $port does not start"
    return 1
}
redis_pids=
start_redis "$redis_port"
sentinel_ports=
if [ -n "${HA_SENTINEL:-}" ]; then
    start_redis $((redis_port + 1)) --replicaof "$redis_host" "$redis_port"
    for k in 0 1 2; do
        port=$((redis_port + 10 + k))
        cat >"$tmp/sentinel-$port.conf" <<CONF
port $port
bind $redis_host
daemonize no
dir $tmp
logfile $tmp/sentinel-$port.log
protected-mode no
sentinel monitor rtprelay $redis_host $redis_port 2
sentinel down-after-milliseconds rtprelay 300
sentinel failover-timeout rtprelay 2000
sentinel parallel-syncs rtprelay 1
CONF
        if [ -n "$bridged" ]; then
            printf 'sentinel auth-user rtprelay rtprelay\nsentinel auth-pass rtprelay s3cret-%s\n' "$$" \
                >>"$tmp/sentinel-$port.conf"
        fi
        ip netns exec "$NS_RELAY" redis-sentinel "$tmp/sentinel-$port.conf" &
        redis_pids="$redis_pids $!"
        disown
        sentinel_ports="$sentinel_ports $port"
    done
    for port in $sentinel_ports; do
        for _ in $(seq 1 50); do
            ip netns exec "$NS_RELAY" redis-cli -h "$redis_host" -p "$port" ping 2>/dev/null | grep -q PONG && break
            sleep 0.1
        done
    done
fi
(umask 077 && openssl rand -hex 32 >"$tmp/group.key")

export NS_RELAY NS_A NS_B ADDR_A ADDR_B RELAY_A RELAY_B IF_A0=${IF_A0:-} IF_B0=${IF_B0:-} IF_A1 IF_B1 BUILD_DIR=$build
export REDIS_HOST=$redis_host MGMT_HOST6=${MGMT_HOST6:-} HA_BRIDGE=$bridged REDIS_PASSWORD_FILE=$([ -n "$bridged" ] && echo "$tmp/redis.pass")
export HA_PREFIX=$prefix HA_TMP=$tmp HA_KEY="$tmp/group.key" REDIS_PORT=$redis_port SENTINEL_PORTS="$sentinel_ports"
export PYTHONPATH="$here:$here/../../support"
ip netns exec "$NS_RELAY" timeout "${TEST_TIMEOUT:-240}" python3 "$test_py"
echo "PASS: $(basename "$test_py")"
