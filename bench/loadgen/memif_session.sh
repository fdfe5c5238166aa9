# Sourced by generator_ceiling.sh and whole_daemon.sh (from the repository root, after their
# options are read): one far side at a time (rtprelay-wire or rtprelay) as the net_memif
# server, rtprelay-loadgen --dpdk as its client, the pipeline bench for the same run, each
# process in a session of its own whose autogroup gets nice $priority (own_session.sh).
#
#   memif_session_init PREFIX   $pfx, $sock, $work, $servers, $clients; the EXIT trap
#   start_server NAME READY CMD...  CMD in a session, log in $work/server.log, its pid in
#                                   $server_pid once READY appears (10 s, else exit 1)
#   stop_server                 SIGTERM, SIGKILL after 10 s
#   run_loadgen TIMEOUT OUT ARGS...  one generator run on the memif clients, JSON in OUT;
#                               the binary is $loadgen_bin (default: this build's), before ARGS
#                               come $loadgen_args (e.g. --dpdk-verify-every 16)
#   pipeline_ns MODE            the pipeline bench's worker ns per packet, 10000 calls
#   relay_lcores                the relay's EAL lcore option for $workers workers and its
#                               control thread: -l 0-N, or all N+1 lcores floating over the
#                               host's CPUs where it has fewer (their figures then timeshare)
#   host_line, keep_json DIR    the CPU and load average; the runs' JSON copied to DIR
server_pid=   # the wire or the relay itself
# Relay workers (--workers of the scripts, default 1): with more than one the generator runs
# a memif queue pair per worker and sends each stream on its owner's queue (--dpdk-queues;
# the relay runs --flow-steering=sender).
workers=${workers:-1}
loadgen_bin=${loadgen_bin:-./build/bench/loadgen/rtprelay-loadgen}
loadgen_args=${loadgen_args:-}
source bench/loadgen/own_session.sh

memif_session_init() {
    pfx="$1$(($$ % 1000))"
    sock="/run/$pfx.sock"
    work=$(mktemp -d "/tmp/$1.XXXXXX")
    session_dir=$work
    session_nice=$priority
    # Rings of 8192 descriptors (rsize=13; memif's default is 1024): 4 ms at 2 Mpps, what a
    # process descheduled for a scheduler slice on a shared host needs not to drop.
    servers="--vdev=net_memif0,role=server,socket=$sock,id=0,rsize=13 --vdev=net_memif1,role=server,socket=$sock,id=1,rsize=13"
    clients="--vdev=net_memif0,role=client,socket=$sock,id=0,rsize=13 --vdev=net_memif1,role=client,socket=$sock,id=1,rsize=13"
    # A signal ends the script (after the foreground step it waits for), the EXIT trap cleans.
    trap 'stop_server; rm -rf "/var/run/dpdk/$pfx-"* "$sock" "$work"' EXIT
    trap 'exit 143' INT TERM
}

start_server() {
    local name=$1 ready=$2
    shift 2
    rm -f "$sock"
    start_session "$work/server.log" "$@"
    server_pid=$session_leader
    for _ in $(seq 1 100); do
        grep -q "$ready" "$work/server.log" && return 0
        kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; echo "$name did not start" >&2; exit 1; }
        sleep 0.1
    done
    echo "$name not ready within 10 s" >&2
    exit 1
}

stop_server() {
    stop_session
    server_pid=
}

run_loadgen() {
    local limit=$1 out=$2
    shift 2
    local queues=
    [ "$workers" = 1 ] || queues="--dpdk-queues $workers"
    # shellcheck disable=SC2086  # $loadgen_args, $queues: words on purpose
    in_session timeout "$limit" "$loadgen_bin" --dpdk $loadgen_args $queues \
        --eal="-l 0 --no-pci --no-huge -m 1024 --no-shconf --file-prefix $pfx-g $clients" \
        --dpdk-port-a 0 --dpdk-port-b 1 --addr-a 198.18.1.2 --addr-b 198.18.2.2 --dpdk-mbufs 65535 \
        --json "$@" >"$out" 2>"$work/lg.err" || true
}

pipeline_ns() {
    local out="$work/pipeline-$1.json"
    in_session timeout 300 ./build/bench/pipeline/rtprelay-pipeline-bench --mode "$1" --calls 10000 \
        --packets 2000000 --floor-keys 0 --no-huge --mem 1024 --json >"$out" 2>"$work/pipeline.err" || true
    python3 -c 'import json,sys; print("%.1f" % json.load(open(sys.argv[1]))["results"][0]["worker_ns_per_packet"])' \
        "$out" 2>/dev/null || echo 0
}

relay_lcores() {
    if [ $((workers + 1)) -le "$(nproc)" ]; then
        echo "-l 0-$workers"
    else
        echo "--lcores=(0-$workers)@(0-$(($(nproc) - 1)))"
    fi
}

host_line() { echo "$(lscpu | sed -n 's/^Model name: *//p'), load average $(cut -d' ' -f1-3 /proc/loadavg)"; }

keep_json() {
    [ -n "$1" ] || return 0
    mkdir -p "$1"
    cp "$work"/*.json "$1"/
}
