# Sourced by end-to-end tests and the demo: a relay namespace with two veth-attached test
# hosts, addresses from 198.18.0.0/15, no default route anywhere.
#
#   host A (ns $NS_A, $ADDR_A) <-veth-> [$IF_A0 in ns $NS_RELAY] rtprelay [$IF_B0] <-veth-> host B (ns $NS_B, $ADDR_B)
#
# Relay-side media addresses are $RELAY_A / $RELAY_B. Call netns_setup PREFIX (<= 8 chars)
# and register netns_cleanup in a trap; a later run removes leftovers of the same prefix.
# With NETNS_IPV6=1 the hosts also get IPv6 from the benchmarking prefix 2001:2::/48
# ($ADDR6_A / $ADDR6_B, relay side $RELAY6_A / $RELAY6_B, /64 each); the relay's ends keep
# IPv6 off (DPDK owns them), and still no default route anywhere.
#
# netns_add_attackers (after netns_setup) puts an independent host on each endpoint's
# segment: host A's veth end joins a bridge in A's namespace, and a third namespace
# ($NS_XA, $ATT_A) joins that bridge with its own veth, MAC and address; the same on B's
# side ($NS_XB, $ATT_B). netns_cleanup removes them too. IPv4 only: not with NETNS_IPV6=1.

# Stops a process the test started: TERM, up to 5 s, then KILL (no-op for an empty PID).
stop_pid() {
    local pid=$1
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
}

# Removes what killed earlier runs of a test left: for every namespace BASE<owner>SUFFIX
# whose owner (that run's $$ mod 100000, ending its prefix) is gone, calls CLEANUP BASE<owner>.
# Runs still going, and this one, are left alone.
sweep_dead_runs() {
    local base=$1 suffix=$2 cleanup=$3 ns q owner
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$base[0-9]+$suffix$" || true); do
        q=${ns%"$suffix"}
        owner=${q#"$base"}
        if [ "$owner" != "$(($$ % 100000))" ] && ! kill -0 "$owner" 2>/dev/null; then
            "$cleanup" "$q"
        fi
    done
}

netns_names() {
    local p=$1
    NS_RELAY="$p-relay"; NS_A="$p-a"; NS_B="$p-b"
    IF_A0="$p-a0"; IF_A1="$p-a1"; IF_B0="$p-b0"; IF_B1="$p-b1"
    ADDR_A=198.18.1.2; ADDR_B=198.18.2.2
    RELAY_A=198.18.1.1; RELAY_B=198.18.2.1
    ADDR6_A=2001:2:1::2; ADDR6_B=2001:2:2::2
    RELAY6_A=2001:2:1::1; RELAY6_B=2001:2:2::1
    NS_XA="$p-xa"; NS_XB="$p-xb"
    ATT_A=198.18.1.66; ATT_B=198.18.2.66
}

netns_cleanup() {
    local p=${1:-$NETNS_PREFIX}
    [ -n "$p" ] || return 0
    netns_names "$p"
    local ns
    for ns in "$NS_RELAY" "$NS_A" "$NS_B" "$NS_XA" "$NS_XB"; do
        if ip netns pids "$ns" >/dev/null 2>&1; then
            ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
        fi
        ip netns del "$ns" 2>/dev/null || true
    done
    ip link del "$IF_A0" 2>/dev/null || true
    ip link del "$IF_B0" 2>/dev/null || true
    rm -rf "/var/run/dpdk/$p" 2>/dev/null || true
}

netns_setup() {
    NETNS_PREFIX=$1
    netns_cleanup "$NETNS_PREFIX"
    netns_names "$NETNS_PREFIX"
    ip netns add "$NS_RELAY"
    ip netns add "$NS_A"
    ip netns add "$NS_B"
    ip link add "$IF_A0" type veth peer name "$IF_A1"
    ip link add "$IF_B0" type veth peer name "$IF_B1"
    ip link set "$IF_A0" netns "$NS_RELAY"
    ip link set "$IF_B0" netns "$NS_RELAY"
    ip link set "$IF_A1" netns "$NS_A"
    ip link set "$IF_B1" netns "$NS_B"
    local ns
    for ns in "$NS_RELAY" "$NS_A" "$NS_B"; do
        ip -n "$ns" link set lo up
    done
    # The relay's ends carry no kernel address: DPDK (net_af_packet) owns them. No IPv6
    # either, so the kernel sends nothing of its own on them.
    ip netns exec "$NS_RELAY" sysctl -qw "net.ipv6.conf.$IF_A0.disable_ipv6=1" "net.ipv6.conf.$IF_B0.disable_ipv6=1"
    if [ "${NETNS_IPV6:-0}" = 1 ]; then
        # Hosts speak IPv6 to the relay: no duplicate address detection delay (nodad), no
        # router solicitations or autoconfiguration (there is no router, and must be none).
        ip netns exec "$NS_A" sysctl -qw "net.ipv6.conf.$IF_A1.accept_ra=0" "net.ipv6.conf.$IF_A1.router_solicitations=0"
        ip netns exec "$NS_B" sysctl -qw "net.ipv6.conf.$IF_B1.accept_ra=0" "net.ipv6.conf.$IF_B1.router_solicitations=0"
        ip -n "$NS_A" -6 addr add "$ADDR6_A/64" dev "$IF_A1" nodad
        ip -n "$NS_B" -6 addr add "$ADDR6_B/64" dev "$IF_B1" nodad
    else
        ip netns exec "$NS_A" sysctl -qw "net.ipv6.conf.$IF_A1.disable_ipv6=1"
        ip netns exec "$NS_B" sysctl -qw "net.ipv6.conf.$IF_B1.disable_ipv6=1"
    fi
    ip -n "$NS_A" addr add "$ADDR_A/24" dev "$IF_A1"
    ip -n "$NS_B" addr add "$ADDR_B/24" dev "$IF_B1"
    # TX checksum offload off everywhere: with it on, af_packet sees partial UDP checksums.
    ip netns exec "$NS_RELAY" ethtool -K "$IF_A0" tx off >/dev/null
    ip netns exec "$NS_RELAY" ethtool -K "$IF_B0" tx off >/dev/null
    ip netns exec "$NS_A" ethtool -K "$IF_A1" tx off >/dev/null
    ip netns exec "$NS_B" ethtool -K "$IF_B1" tx off >/dev/null
    ip -n "$NS_RELAY" link set "$IF_A0" up
    ip -n "$NS_RELAY" link set "$IF_B0" up
    ip -n "$NS_A" link set "$IF_A1" up
    ip -n "$NS_B" link set "$IF_B1" up
}

# One attacker host on SIDE's segment (a or b): see the header.
netns_add_attacker() {
    local side=$1 host_ns host_if host_addr att_ns att_addr br xv0 xv1
    if [ "$side" = a ]; then
        host_ns=$NS_A; host_if=$IF_A1; host_addr=$ADDR_A; att_ns=$NS_XA; att_addr=$ATT_A
    else
        host_ns=$NS_B; host_if=$IF_B1; host_addr=$ADDR_B; att_ns=$NS_XB; att_addr=$ATT_B
    fi
    br="$NETNS_PREFIX-b$side"; xv0="$NETNS_PREFIX-x${side}0"; xv1="$NETNS_PREFIX-x${side}1"
    ip netns add "$att_ns"
    # No IPv6 on the new links either: the relay would count the kernel's own packets.
    ip netns exec "$host_ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1
    ip netns exec "$att_ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1
    ip -n "$att_ns" link set lo up
    ip -n "$host_ns" link add "$br" type bridge
    ip -n "$host_ns" link add "$xv0" type veth peer name "$xv1" netns "$att_ns"
    ip -n "$host_ns" addr del "$host_addr/24" dev "$host_if"
    ip -n "$host_ns" link set "$host_if" master "$br"
    ip -n "$host_ns" link set "$xv0" master "$br"
    ip -n "$host_ns" addr add "$host_addr/24" dev "$br"
    ip -n "$att_ns" addr add "$att_addr/24" dev "$xv1"
    ip netns exec "$host_ns" ethtool -K "$br" tx off >/dev/null
    ip netns exec "$host_ns" ethtool -K "$xv0" tx off >/dev/null
    ip netns exec "$att_ns" ethtool -K "$xv1" tx off >/dev/null
    ip -n "$host_ns" link set "$br" up
    ip -n "$host_ns" link set "$xv0" up
    ip -n "$att_ns" link set "$xv1" up
}

netns_add_attackers() {
    netns_add_attacker a
    netns_add_attacker b
}
