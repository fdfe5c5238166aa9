#!/usr/bin/env bash
# Two rtprelay nodes behind one Kamailio rtpengine set: a node that is full answers
# `load limit` and Kamailio's rtpengine module places the call on the next node.
#
#   host A (caller, $ADDR_A) ---- veth ----+---- node 1: 198.18.1.1 | 198.18.2.1, --capacity=80k
#                                          |     (one call at 80 kbit/s), NG 127.0.0.1:2223
#   host B (callee, $ADDR_B) ---- veth ----+---- node 2: 198.18.1.3 | 198.18.2.3, no limit,
#                                                NG 127.0.0.1:2224
#   Kamailio (SIP on sipnet.sh's links) in the relay namespace, rtpengine_sock
#   "udp:127.0.0.1:2223=1000 udp:127.0.0.1:2224=1"
#
# Both nodes are separate DPDK processes (own --file-prefix) in the relay namespace with
# net_af_packet ports on the same two veths: every frame reaches both, and each answers ARP
# and relays media only for its own addresses (the other node's traffic counts as its
# `not_for_us` drops). The hosts reach both nodes on-link.
#
# Call 1 (SIPp, held 15 s) lands on node 1 and fills it; call 2, placed while call 1 is up,
# is refused by node 1 with `load limit` and set up on node 2. Checked: the SDPs, RTP both
# ways through the right node, each node's counters (node 2: 1 call created; node 1: 1 call
# created, refused/capacity 1), Kamailio's log, and the NG exchange itself, captured on the
# relay namespace's loopback (ng_sniff.py).
#
# What Kamailio 5.6's rtpengine module does (observed here, and in its rtpp_function_call()):
# - every offer/answer/delete/query carries `supports: ["load limit"]` unconditionally (no
#   modparam or flag needed); its start-up and periodic pings do not.
# - node choice for a new call-id: (sum of the Call-ID's bytes & 0xff) mod the sum of the
#   enabled nodes' weights, walking the list in order; with weights 1000 and 1 that always
#   picks node 1 first (the weights exist only to make the first choice deterministic).
# - on `result: load limit` (or `error-reason: Parallel session limit reached` / `Ran out of
#   ports`) it logs "proxy <url> has reached its load limit (<message>) - trying next one",
#   excludes that node for this request and sends the same request to the next node at once,
#   within the same rtpengine_offer() call; the refusing node is not disabled (it still gets
#   later new calls). Up to queried_nodes_limit nodes are tried, then the function fails.
# - the node that accepted the offer is remembered per Call-ID (shared-memory hash table):
#   the answer, $rtpestat's query and the delete go to node 2 only.
#
#   two_nodes_test.sh BUILD_DIR [PREFIX]
# PREFIX (default rk2) gets the process id appended, so runs never share names; a run first
# removes what killed runs of this test left behind (namespaces, links, DPDK runtime
# directories of runs whose owner process is gone).
# Needs root, kamailio, sipp, python3. KEEP_LOGS=1 keeps the temporary directory.
set -euo pipefail
build=$(realpath "$1")
base=${2:-rk2}
base=${base:0:3}
prefix="$base$(($$ % 100000))"
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
kam_dir="$repo/tests/e2e/kamailio"
source "$repo/tests/support/netns.sh"
source "$kam_dir/sipnet.sh"
cfg="$repo/deploy/kamailio/kamailio-rtprelay.cfg"

for tool in kamailio kamcmd sipp python3; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool not installed (deploy/scripts/install-deps.sh)"; exit 1; }
done

# Leftovers of killed runs: each run records its owner pid; a prefix whose owner is gone is
# removed (namespaces, links). Runs still going are left alone.
owners=/run/rtprelay-e2e-owners
mkdir -p "$owners"
for f in "$owners/$base"*.pid; do
    [ -e "$f" ] || continue
    p=$(basename "$f" .pid)
    read -r owner old_tmp <"$f" || true
    if ! kill -0 "${owner:-0}" 2>/dev/null; then
        netns_cleanup "$p"; sipnet_cleanup "$p"
        rm -rf "/var/run/dpdk/$p-n1" "/var/run/dpdk/$p-n2"
        case "$old_tmp" in /tmp/rtprelay-k2.*) rm -rf "$old_tmp" ;; esac
        rm -f "$f"
    fi
done
tmp=$(mktemp -d /tmp/rtprelay-k2.XXXXXX)
echo "$$ $tmp" >"$owners/$prefix.pid"
n1_pid='' n2_pid='' kam_pid='' sniff_pid='' uas1_pid='' uac1_pid='' uas2_pid='' uac2_pid=''
finish() {
    local rc=$?
    set +e
    for p in "$uac2_pid" "$uas2_pid" "$uac1_pid" "$uas1_pid" "$kam_pid" "$sniff_pid"; do stop_pid "$p"; done
    for p in "$n1_pid" "$n2_pid"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done
    netns_cleanup "$prefix"   # kills anything left in the namespaces
    sipnet_cleanup "$prefix"
    # The nodes' DPDK runtime directories (telemetry socket), named by their --file-prefix.
    rm -rf "/var/run/dpdk/$prefix-n1" "/var/run/dpdk/$prefix-n2"
    rm -f "$owners/$prefix.pid"
    if [ $rc -ne 0 ]; then
        for f in node1.log node2.log kamailio.log ng.jsonl uac1.out uas1.out uac2.out uas2.out \
                 uac1_errors.log uas1_errors.log uac2_errors.log uas2_errors.log uac2_msg.log; do
            [ -s "$tmp/$f" ] || continue
            echo "---- $f ----"
            tail -n 60 "$tmp/$f"
        done
    fi
    if [ -n "${KEEP_LOGS:-}" ]; then echo "logs kept in $tmp"; else rm -rf "$tmp"; fi
    exit $rc
}
trap finish EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }

netns_setup "$prefix"
sipnet_setup "$prefix"
export NODE1_A=198.18.1.1 NODE1_B=198.18.2.1 NODE1_NG=2223
export NODE2_A=198.18.1.3 NODE2_B=198.18.2.3 NODE2_NG=2224
export NS_A NS_B ADDR_A ADDR_B PYTHONPATH="$repo/tests/support"
ng_set="udp:127.0.0.1:$NODE1_NG=1000 udp:127.0.0.1:$NODE2_NG=1"
check() { ip netns exec "$NS_RELAY" timeout 60 python3 "$here/two_nodes_check.py" "$@"; }

# 1. The two nodes.
start_node() {  # start_node N ADDR_A ADDR_B NG_PORT EXTRA...: sets $started
    local n=$1 a=$2 b=$3 port=$4
    shift 4
    ip netns exec "$NS_RELAY" "$build/relay/rtprelay" \
        --eal="-l 0-1 --no-pci --no-huge -m 512 --no-shconf --file-prefix $prefix-n$n --vdev=net_af_packet0,iface=$IF_A0 --vdev=net_af_packet1,iface=$IF_B0" \
        --interface="a address=$a/24 dpdk-port=0" --interface="b address=$b/24 dpdk-port=1" \
        --ng-listen="127.0.0.1:$port" --idle-sleep-us="${IDLE_SLEEP_US:-50}" "$@" >"$tmp/node$n.log" 2>&1 &
    started=$!
}
start_node 1 "$NODE1_A" "$NODE1_B" "$NODE1_NG" --capacity=80k; n1_pid=$started
start_node 2 "$NODE2_A" "$NODE2_B" "$NODE2_NG"; n2_pid=$started
ctl() { local port=$1; shift; ip netns exec "$NS_RELAY" "$build/relay/ctl/rtprelay-ctl" --ng "127.0.0.1:$port" --timeout 300 "$@"; }
for port in "$NODE1_NG" "$NODE2_NG"; do
    up=
    for _ in $(seq 1 40); do
        if ctl "$port" ping >/dev/null 2>&1; then up=1; break; fi
        kill -0 "$n1_pid" 2>/dev/null || fail "node 1 exited at start-up"
        kill -0 "$n2_pid" 2>/dev/null || fail "node 2 exited at start-up"
        sleep 0.5
    done
    [ -n "$up" ] || fail "the node on NG port $port does not answer ping"
done
cap=$(ctl "$NODE1_NG" --json capacity)
python3 -c "import json,sys; n=json.loads(sys.argv[1])['node']; sys.exit(0 if n.get('calls')==0 else 1)" "$cap" \
    || fail "node 1 capacity report: $cap"
echo "ok   two rtprelay nodes up in $NS_RELAY: node 1 (--capacity=80k) on :$NODE1_NG, node 2 on :$NODE2_NG"

# 2. The NG capture, then Kamailio with both nodes in its set.
ip netns exec "$NS_RELAY" timeout 170 python3 "$here/ng_sniff.py" "$tmp/ng.jsonl" 160 "$NODE1_NG" "$NODE2_NG" &
sniff_pid=$!
for _ in $(seq 1 50); do [ -s "$tmp/ng.jsonl" ] && break; sleep 0.1; done
[ -s "$tmp/ng.jsonl" ] || fail "ng_sniff.py did not start"
ip netns exec "$NS_RELAY" kamailio -c -f "$cfg" -A "RTPRELAY_NG=\"$ng_set\"" -l "udp:$SIP_PROXY_A:5060" \
    >"$tmp/check.log" 2>&1 || { cat "$tmp/check.log"; fail "kamailio -c with two nodes"; }
mkdir -p "$tmp/run"
ip netns exec "$NS_RELAY" kamailio -f "$cfg" -DD -E -n 2 -m 64 -M 8 \
    -P "$tmp/kamailio.pid" -Y "$tmp/run" -w "$tmp" \
    -l "udp:$SIP_PROXY_A:5060" -l "udp:$SIP_PROXY_B:5060" \
    -A "RTPRELAY_NG=\"$ng_set\"" -A 'CALLER_IF="a"' -A 'CALLEE_IF="b"' \
    -A WITH_CTL -A "CTL_SOCKET=\"unix:$tmp/run/kamailio_ctl\"" \
    >"$tmp/kamailio.log" 2>&1 &
kam_pid=$!
for _ in $(seq 1 40); do
    [ -S "$tmp/run/kamailio_ctl" ] && break
    kill -0 "$kam_pid" 2>/dev/null || fail "kamailio exited at start-up"
    sleep 0.25
done
[ -S "$tmp/run/kamailio_ctl" ] || fail "kamailio's control socket did not appear"
kamcmd -s "unix:$tmp/run/kamailio_ctl" rtpengine.show all >"$tmp/show.txt" 2>&1 || true
[ "$(grep -c "disabled: 0" "$tmp/show.txt")" = 2 ] || { cat "$tmp/show.txt"; fail "Kamailio does not have both nodes enabled"; }
grep -q "weight: 1000" "$tmp/show.txt" || { cat "$tmp/show.txt"; fail "node 1's weight 1000 not in rtpengine.show"; }
echo "ok   Kamailio's rtpengine set has both nodes enabled (weights 1000 and 1)"

# 3. Call 1: lands on node 1 and fills it. Held 15 s: call 2 is placed and checked meanwhile.
cd "$tmp"
sipp_uas 1 5080 40000; uas1_pid=$started
sleep 0.5
sipp_uac 1 5060 5080 30000 15000; uac1_pid=$started
check media "call 1" "$tmp/uac1_logs.log" "$tmp/uas1_logs.log" 30000 40000 1 2 || fail "call 1 media"
check stats 1 "sessions=1" "calls created=1" "refused/capacity=0" || fail "node 1 after call 1"
check stats 2 "sessions=0" "calls created=0" || fail "node 2 after call 1"
echo "ok   call 1 is on node 1, which is now full"

# 4. Call 2 while call 1 is up: node 1 refuses it, node 2 takes it.
sipp_uas 2 5082 40010; uas2_pid=$started
sleep 0.5
sipp_uac 2 5062 5082 30010 3000; uac2_pid=$started
check media "call 2" "$tmp/uac2_logs.log" "$tmp/uas2_logs.log" 30010 40010 2 1 || fail "call 2 media"
rc=0; wait "$uac2_pid" || rc=$?; uac2_pid=
[ "$rc" = 0 ] || fail "SIPp caller of call 2 exited with $rc"
rc=0; wait "$uas2_pid" || rc=$?; uas2_pid=
[ "$rc" = 0 ] || fail "SIPp callee of call 2 exited with $rc"
kill -0 "$uac1_pid" 2>/dev/null || fail "call 1 ended before call 2 did: the test machine is too slow for its 15 s hold"
check stats 2 "sessions=0" "calls created=1" "calls deleted=1" "refused/capacity=0" "dataplane/relayed rtp>=94" \
    || fail "node 2 after call 2"
check stats 1 "sessions=1" "calls created=1" "refused/capacity=1" || fail "node 1 after call 2"
grep -qE "proxy udp:127.0.0.1:$NODE1_NG has reached its load limit .* - trying next one" "$tmp/kamailio.log" \
    || { grep -i "load limit" "$tmp/kamailio.log"; fail "Kamailio did not log node 1's load limit"; }
kamcmd -s "unix:$tmp/run/kamailio_ctl" rtpengine.show all >"$tmp/show2.txt" 2>&1 || true
[ "$(grep -c "disabled: 0" "$tmp/show2.txt")" = 2 ] || { cat "$tmp/show2.txt"; fail "a refusal disabled node 1 in Kamailio"; }
echo "ok   call 2: node 1 refused it (load limit), Kamailio set it up on node 2 (node 1 stays enabled); BYE deleted it there"

# 5. Call 1 ends: both nodes empty.
rc=0; wait "$uac1_pid" || rc=$?; uac1_pid=
[ "$rc" = 0 ] || fail "SIPp caller of call 1 exited with $rc"
rc=0; wait "$uas1_pid" || rc=$?; uas1_pid=
[ "$rc" = 0 ] || fail "SIPp callee of call 1 exited with $rc"
check stats 1 "sessions=0" "calls created=1" "calls deleted=1" "refused/capacity=1" "dataplane/relayed rtp>=94" \
    || fail "node 1 after call 1's BYE"
check stats 2 "sessions=0" "calls created=1" || fail "node 2 at the end"
echo "ok   both calls completed INVITE/200/ACK/BYE/200; both nodes have no session left"

# 6. The NG exchange as captured: what the rtpengine module did.
stop_pid "$kam_pid"; kam_pid=
sleep 0.3
stop_pid "$sniff_pid"; sniff_pid=
call1=$(sed -n 's/.*CALL-ID \([^ ]*\).*/\1/p' "$tmp/uac1_logs.log" | head -n 1)
call2=$(sed -n 's/.*CALL-ID \([^ ]*\).*/\1/p' "$tmp/uac2_logs.log" | head -n 1)
check ngtrace "$tmp/ng.jsonl" "$call1" "$call2" || fail "NG exchange"

# 7. Both nodes stop cleanly on SIGTERM with their final counters.
for n in 1 2; do
    pid_var="n${n}_pid"
    pid=${!pid_var}
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && fail "node $n did not exit within 10 s of SIGTERM"
    rc=0; wait "$pid" || rc=$?
    printf -v "$pid_var" ''
    [ "$rc" = 0 ] || fail "node $n exited with $rc after SIGTERM"
    grep -q "final counters" "$tmp/node$n.log" || fail "no final counters in node $n's log"
done
echo "PASS: two_nodes_test"
