# Sourced after tests/support/netns.sh: a SIP signalling network beside the media one.
# The relay's media veth ends belong to DPDK and carry no kernel address, so SIP between
# the hosts and a Kamailio in the relay's namespace gets its own veth pairs:
#
#   host A (ns $NS_A) $SIP_A <-veth $SIP_IF_A1|$SIP_IF_A0-> $SIP_PROXY_A (ns $NS_RELAY)
#   host B (ns $NS_B) $SIP_B <-veth $SIP_IF_B1|$SIP_IF_B0-> $SIP_PROXY_B (ns $NS_RELAY)
#
# Addresses from 198.18.10.0/24 and 198.18.20.0/24, no routes beyond them. Call
# sipnet_setup PREFIX after netns_setup PREFIX; netns_cleanup removes the namespaces and
# with them these links, sipnet_cleanup PREFIX removes any left in the root namespace.

sipnet_names() {
    local p=$1
    SIP_IF_A0="$p-sa0"; SIP_IF_A1="$p-sa1"; SIP_IF_B0="$p-sb0"; SIP_IF_B1="$p-sb1"
    SIP_PROXY_A=198.18.10.1; SIP_A=198.18.10.2
    SIP_PROXY_B=198.18.20.1; SIP_B=198.18.20.2
}

sipnet_cleanup() {
    local p=${1:-$NETNS_PREFIX}
    [ -n "$p" ] || return 0
    sipnet_names "$p"
    ip link del "$SIP_IF_A0" 2>/dev/null || true
    ip link del "$SIP_IF_B0" 2>/dev/null || true
}

sipnet_setup() {
    local p=$1
    sipnet_cleanup "$p"
    netns_names "$p"
    sipnet_names "$p"
    ip link add "$SIP_IF_A0" type veth peer name "$SIP_IF_A1"
    ip link add "$SIP_IF_B0" type veth peer name "$SIP_IF_B1"
    ip link set "$SIP_IF_A0" netns "$NS_RELAY"
    ip link set "$SIP_IF_B0" netns "$NS_RELAY"
    ip link set "$SIP_IF_A1" netns "$NS_A"
    ip link set "$SIP_IF_B1" netns "$NS_B"
    ip netns exec "$NS_RELAY" sysctl -qw "net.ipv6.conf.$SIP_IF_A0.disable_ipv6=1" "net.ipv6.conf.$SIP_IF_B0.disable_ipv6=1"
    ip netns exec "$NS_A" sysctl -qw "net.ipv6.conf.$SIP_IF_A1.disable_ipv6=1"
    ip netns exec "$NS_B" sysctl -qw "net.ipv6.conf.$SIP_IF_B1.disable_ipv6=1"
    ip -n "$NS_RELAY" addr add "$SIP_PROXY_A/24" dev "$SIP_IF_A0"
    ip -n "$NS_RELAY" addr add "$SIP_PROXY_B/24" dev "$SIP_IF_B0"
    ip -n "$NS_A" addr add "$SIP_A/24" dev "$SIP_IF_A1"
    ip -n "$NS_B" addr add "$SIP_B/24" dev "$SIP_IF_B1"
    ip -n "$NS_RELAY" link set "$SIP_IF_A0" up
    ip -n "$NS_RELAY" link set "$SIP_IF_B0" up
    ip -n "$NS_A" link set "$SIP_IF_A1" up
    ip -n "$NS_B" link set "$SIP_IF_B1" up
}

# The SIPp pair of tests/e2e/kamailio's scenarios (uas.xml, uac.xml): a callee on host B and
# a caller on host A calling it through Kamailio, each with its logs in $tmp (uasN_*.log,
# uacN_*.log, uasN.out, uacN.out; N may be empty). They set $started (not in a $(...)
# subshell: the test waits for them, so they must be its own children).
sipnet_scenarios=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
sipp_uas() {  # sipp_uas N SIP_PORT RTP_PORT
    ip netns exec "$NS_B" timeout 90 sipp -sf "$sipnet_scenarios/uas.xml" -i "$SIP_B" -p "$2" -m 1 -nostdin \
        -key rtp_addr "$ADDR_B" -key rtp_port "$3" -timeout 80s \
        -trace_logs -log_file "$tmp/uas$1_logs.log" -trace_msg -message_file "$tmp/uas$1_msg.log" \
        -trace_err -error_file "$tmp/uas$1_errors.log" >"$tmp/uas$1.out" 2>&1 &
    started=$!
}
sipp_uac() {  # sipp_uac N SIP_PORT CALLEE_PORT RTP_PORT HOLD_MS
    ip netns exec "$NS_A" timeout 90 sipp -sf "$sipnet_scenarios/uac.xml" "$SIP_PROXY_A:5060" -i "$SIP_A" -p "$2" \
        -m 1 -nostdin -s callee -key callee "$SIP_B:$3" -key rtp_addr "$ADDR_A" -key rtp_port "$4" -d "$5" \
        -timeout 80s -trace_logs -log_file "$tmp/uac$1_logs.log" -trace_msg -message_file "$tmp/uac$1_msg.log" \
        -trace_err -error_file "$tmp/uac$1_errors.log" >"$tmp/uac$1.out" 2>&1 &
    started=$!
}
