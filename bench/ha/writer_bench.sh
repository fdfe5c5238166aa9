#!/usr/bin/env bash
# NG offer+answer pairs/s and per-request p50/p99 with a group's record writer on vs off
# (bench/micro/ha_writer_benchmark.cc), against a Redis of its own on loopback (a private
# port and directory, no persistence), stopped on every exit. Pinned to one CPU, so the HA
# agent thread shares the control thread's core.
#   bench/ha/writer_bench.sh BUILD_DIR [CPU] [REPETITIONS]
set -euo pipefail
build=$(realpath "$1")
cpu=${2:-1}
reps=${3:-5}
port=${REDIS_PORT:-6479}
tmp=$(mktemp -d /tmp/rtprelay-hawb.XXXXXX)
redis_pid=
finish() {
    [ -z "$redis_pid" ] || kill "$redis_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap finish EXIT INT TERM
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" --daemonize no \
    --logfile "$tmp/redis.log" &
redis_pid=$!
for _ in $(seq 1 50); do redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
RTPRELAY_BENCH_REDIS=127.0.0.1:$port taskset -c "$cpu" "$build/bench/micro/ha_writer_benchmark" \
    --benchmark_repetitions="$reps" --benchmark_report_aggregates_only=true --benchmark_min_time="${MIN_TIME:-2}"
echo "redis: $(redis-cli -p "$port" info memory | grep '^used_memory:' | tr -d '\r')"
