#!/usr/bin/env bash
# The daemon's error paths, made to happen with RTPRELAY_TEST_FAULT (relay/main.cc):
#   ring=dp_to_control, ring=dp_handoff1  a ring of the data plane cannot be created
#   after-launch                          run() throws once both workers poll
# Each must end in exit code 1 with the error as the last log line, within seconds (no
# crash, no hang); after launch, the workers are stopped and joined before DPDK goes. A run
# without a fault on the same devices stops on SIGTERM with exit code 0.
# The relay runs on a net_null port (no namespaces needed), NG on an ephemeral loopback port.
#   fault_test.sh BUILD_DIR
set -euo pipefail
relay="$(realpath "$1")/relay/rtprelay"
prefix="rpflt$(($$ % 100000))"
logdir=$(mktemp -d /tmp/rtprelay-fault.XXXXXX)
pid=
finish() {
    local rc=$?
    if [ -n "$pid" ]; then
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -rf "/var/run/dpdk/$prefix"
    if [ $rc -eq 0 ]; then
        rm -rf "$logdir"
    else
        echo "logs kept in $logdir"
    fi
    exit $rc
}
trap finish EXIT INT TERM

cpu=$(python3 -c 'import os; print(min(os.sched_getaffinity(0)))')
failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# start_relay FAULT LOG: two workers on lcores sharing this process's first CPU.
start_relay() {
    RTPRELAY_TEST_FAULT="$1" "$relay" --workers=2 \
        --eal="--lcores=0@$cpu,1@$cpu,2@$cpu --no-pci --no-huge -m 256 --no-shconf --no-telemetry --file-prefix $prefix --vdev=net_null0,no-rx=1" \
        --interface="a address=198.18.0.1/24 dpdk-port=0" \
        --ng-listen=127.0.0.1:0 --idle-sleep-us=100 --drain-time=0 >"$2" 2>&1 &
    pid=$!
}

# wait_exit SECONDS: the relay's exit status in $status; a relay still running is killed
# and the test fails.
wait_exit() {
    local i
    for i in $(seq 1 $(($1 * 10))); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        fail "relay still running after $1 s"
        kill -9 "$pid" 2>/dev/null || true
    fi
    wait "$pid" && status=0 || status=$?
    pid=
}

expect_line() {  # LOG TEXT WHAT
    grep -qF -- "$2" "$1" || fail "$3: no line '$2' in the log"
}

for ring in dp_to_control dp_handoff1; do
    log="$logdir/ring-$ring.log"
    start_relay "ring=$ring" "$log"
    wait_exit 20
    [ "$status" = 1 ] || fail "ring $ring: exit code $status, want 1"
    want="level=error msg=\"ring '$ring': rte_ring_create failed: File exists\""
    [ "$(tail -n 1 "$log")" = "$want" ] || fail "ring $ring: last log line is '$(tail -n 1 "$log")', want '$want'"
    if grep -q "worker(s) polling" "$log"; then
        fail "ring $ring: workers launched although the data plane was not built"
    fi
    rm -rf "/var/run/dpdk/$prefix"
done

log="$logdir/after-launch.log"
start_relay after-launch "$log"
wait_exit 20
[ "$status" = 1 ] || fail "after-launch: exit code $status, want 1"
expect_line "$log" 'level=info msg="2 worker(s) polling 1 port(s)"' "after-launch"
expect_line "$log" 'level=info msg="2 worker(s) stopped and joined"' "after-launch"
want='level=error msg="RTPRELAY_TEST_FAULT: thrown after the workers started"'
[ "$(tail -n 1 "$log")" = "$want" ] || fail "after-launch: last log line is '$(tail -n 1 "$log")', want '$want'"
if [ "$(grep -n 'stopped and joined' "$log" | cut -d: -f1)" -ge "$(grep -n 'RTPRELAY_TEST_FAULT' "$log" | cut -d: -f1)" ] 2>/dev/null; then
    fail "after-launch: the workers were not joined before the error left run()"
fi
rm -rf "/var/run/dpdk/$prefix"

log="$logdir/no-fault.log"
start_relay "" "$log"
for _ in $(seq 1 100); do
    grep -q "NG control listening" "$log" && break
    sleep 0.1
done
expect_line "$log" "NG control listening" "no fault"
kill -TERM "$pid"
wait_exit 10
[ "$status" = 0 ] || fail "no fault: exit code $status after SIGTERM, want 0"
expect_line "$log" 'level=info msg="2 worker(s) stopped and joined"' "no fault"
expect_line "$log" 'msg="final counters"' "no fault"

if [ $failures -ne 0 ]; then
    exit 1
fi
echo "PASS: ring failures and an exception after launch exit 1 cleanly; a clean stop exits 0"
