# Sourced by loadgen_dpdk_test.sh and wire_test.sh (after tests/support/netns.sh): each run
# in a network namespace of its own (memif's abstract socket is per namespace), one far
# side (rtprelay or rtprelay-wire) in it as a background process.
#
#   lgd_begin BASE            $p (BASE + pid), $ns, $sock, $logdir; removes what killed runs
#                             of BASE left; on exit everything this run made goes, and on
#                             failure the far side's log and the generator's stderr are shown
#   start_far NAME READY CMD...  CMD in $ns, log in $logdir/far.log, pid in $far_pid; FAIL
#                             unless READY is in the log within 10 s
#   stop_far SIGNAL NAME      SIGNAL to the far side; FAIL unless it exits 0 within 10 s

lgd_cleanup_prefix() {  # the namespace (and its veths), its processes, DPDK files, socket
    local q=$1
    ip netns pids "$q-ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$q-ns" 2>/dev/null || true
    rm -rf "/var/run/dpdk/$q-"* "/run/$q-memif.sock" 2>/dev/null || true
}

lgd_finish() {
    local rc=$?
    if [ -n "$far_pid" ] && kill -0 "$far_pid" 2>/dev/null; then
        kill -9 "$far_pid" 2>/dev/null || true
        wait "$far_pid" 2>/dev/null || true
    fi
    lgd_cleanup_prefix "$p"
    if [ $rc -ne 0 ]; then
        echo "---- far side ($logdir/far.log) ----"
        tail -n 40 "$logdir/far.log" 2>/dev/null || true
        echo "---- loadgen stderr ----"
        tail -n 20 "$logdir/loadgen.err" 2>/dev/null || true
    else
        rm -rf "$logdir"
    fi
    exit $rc
}

lgd_begin() {
    local base=$1
    p="$base$(($$ % 100000))"
    ns="$p-ns"
    sock="/run/$p-memif.sock"
    # Leftovers of killed runs: the prefix ends in the owner's pid (mod 100000).
    sweep_dead_runs "$base" -ns lgd_cleanup_prefix
    far_pid=
    logdir=$(mktemp -d "/tmp/$base.XXXXXX")
    trap lgd_finish EXIT INT TERM
    lgd_cleanup_prefix "$p"
    ip netns add "$ns"
    ip -n "$ns" link set lo up
}

start_far() {
    local name=$1 ready=$2
    shift 2
    ip netns exec "$ns" "$@" >"$logdir/far.log" 2>&1 &
    far_pid=$!
    for _ in $(seq 1 100); do
        grep -q "$ready" "$logdir/far.log" 2>/dev/null && return 0
        kill -0 "$far_pid" 2>/dev/null || { echo "FAIL: $name exited at start-up"; exit 1; }
        sleep 0.1
    done
    echo "FAIL: $name not ready within 10 s"
    exit 1
}

stop_far() {
    local signal=$1 name=$2 rc=0
    kill "-$signal" "$far_pid"
    for _ in $(seq 1 100); do
        kill -0 "$far_pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$far_pid" 2>/dev/null; then
        echo "FAIL: $name did not exit within 10 s of SIG$signal"
        exit 1
    fi
    wait "$far_pid" || rc=$?
    far_pid=
    [ "$rc" = 0 ] || { echo "FAIL: $name exited with $rc after SIG$signal"; exit 1; }
}
