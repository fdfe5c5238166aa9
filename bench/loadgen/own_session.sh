# Sourced by bench/compare and bench/loadgen/memif_session.sh: each benchmark process as the
# leader of a session of its own whose autogroup gets nice $session_nice. With the kernel's
# autogroup scheduling (Debian's default) a process's nice counts only inside its session, so
# on a shared host another session's build would take the relay worker's CPU as an equal
# (bench/RESULTS.md: 20-23% of its runnable time). session_plain=1 runs `nice -n
# $session_nice` in the caller's session instead, the layout before, for comparison.
# $session_dir: a private directory for the pid file.
#
#   in_session CMD...         CMD exec'd (so the pid written is CMD's) in the foreground
#   start_session LOG CMD...  the same in the background, output to LOG; the job in
#                             $session_pid, CMD's own pid in $session_leader
#   stop_session              SIGTERM to $session_leader, SIGKILL after 10 s; waits for the job
session_pid=
session_leader=

in_session() {
    if [ -n "${session_plain:-}" ]; then
        bash -c 'echo $$ >"$1/pid"; n=$0; shift; exec nice -n "$n" "$@"' "$session_nice" "$session_dir" "$@"
        return
    fi
    # setsid may fork: the pid file, not $!, names the process.
    setsid -w bash -c 'echo $$ >"$1/pid"; echo "$0" >/proc/self/autogroup; shift; exec "$@"' \
        "$session_nice" "$session_dir" "$@"
}

start_session() {
    local log=$1
    shift
    rm -f "$session_dir/pid"
    in_session "$@" >"$log" 2>&1 &
    session_pid=$!
    for _ in $(seq 1 100); do
        [ -s "$session_dir/pid" ] && break
        sleep 0.02
    done
    session_leader=$(cat "$session_dir/pid" 2>/dev/null || true)
    rm -f "$session_dir/pid"
}

stop_session() {
    if [ -n "$session_leader" ]; then
        kill -TERM "$session_leader" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$session_leader" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$session_leader" 2>/dev/null || true
    fi
    [ -z "$session_pid" ] || wait "$session_pid" 2>/dev/null || true
    session_leader=
    session_pid=
}
