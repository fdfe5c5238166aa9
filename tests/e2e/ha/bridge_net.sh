# Sourced by the HA tests that need nodes with MACs of their own: two L2 segments (Linux
# bridges in namespace $BR_NS) for the media, one for management (NG, Redis, Sentinels):
#
#   host A ($NS_A, 198.18.1.2) --+-- br-a --+-- $p-n1a | $p-n2a | $p-n3a  (DPDK net_af_packet, in $p-n<k>)
#   host B ($NS_B, 198.18.2.2) --+-- br-b --+-- $p-n1b | $p-n2b | $p-n3b
#   $BR_NS (198.19.0.100: Redis, Sentinels, the test) -- br-m -- $p-n<k>m (198.19.0.<k>: NG)
#
# HA_MGMT6=1: IPv6 on the management segment too (br-m 2001:2:0:19::100/64, IPv6 on the
# nodes' management veths, no multicast snooping), for IPv6 floating NG addresses; the
# media segments stay IPv4.
#
# Every interface name carries the prefix (it is created in the root namespace, where
# another run may be making its own); the bridge side of a veth is $p-x....
#
# Addresses from 198.18.0.0/15, no default route anywhere. The media addresses (198.18.1.1,
# 198.18.2.1) belong to no kernel: whichever node holds their lease answers for them.
# bridge_setup PREFIX NODES; bridge_cleanup PREFIX removes everything (namespaces take
# their veths with them).

bridge_names() {
    local p=$1
    BR_NS="$p-br"; NS_A="$p-a"; NS_B="$p-b"
    ADDR_A=198.18.1.2; ADDR_B=198.18.2.2
    RELAY_A=198.18.1.1; RELAY_B=198.18.2.1
    MGMT_NET=198.19.0; MGMT_HOST=198.19.0.100
}

bridge_cleanup() {
    local p=$1 ns
    bridge_names "$p"
    for ns in "$p-n1" "$p-n2" "$p-n3" "$NS_A" "$NS_B" "$BR_NS"; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
        ip netns del "$ns" 2>/dev/null || true
    done
    rm -rf "/var/run/dpdk/$p"* 2>/dev/null || true
}

# veth NAME in namespace NS, its peer PEER enslaved to bridge BR in $BR_NS.
bridge_port() {
    local ns=$1 name=$2 peer=$3 br=$4
    ip link add "$name" type veth peer name "$peer"
    ip link set "$name" netns "$ns"
    ip link set "$peer" netns "$BR_NS"
    ip -n "$BR_NS" link set "$peer" master "$br"
    ip netns exec "$BR_NS" ethtool -K "$peer" tx off >/dev/null
    ip -n "$BR_NS" link set "$peer" up
    ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$name.disable_ipv6=1"
    ip netns exec "$ns" ethtool -K "$name" tx off >/dev/null
    ip -n "$ns" link set "$name" up
}

bridge_setup() {
    local p=$1 nodes=$2 k br
    bridge_cleanup "$p"
    bridge_names "$p"
    for ns in "$BR_NS" "$NS_A" "$NS_B"; do
        ip netns add "$ns"
        ip -n "$ns" link set lo up
    done
    for br in br-a br-b br-m; do
        ip -n "$BR_NS" link add "$br" type bridge
        ip netns exec "$BR_NS" sysctl -qw "net.ipv6.conf.$br.disable_ipv6=1"
        ip -n "$BR_NS" link set "$br" up
    done
    ip -n "$BR_NS" addr add "$MGMT_HOST/24" dev br-m
    if [ -n "${HA_MGMT6:-}" ]; then
        MGMT_HOST6=2001:2:0:19::100
        ip -n "$BR_NS" link set br-m type bridge mcast_snooping 0
        ip netns exec "$BR_NS" sysctl -qw net.ipv6.conf.br-m.disable_ipv6=0
        ip -n "$BR_NS" addr add "$MGMT_HOST6/64" dev br-m nodad
    fi
    bridge_port "$NS_A" "$p-a1" "$p-xa" br-a
    bridge_port "$NS_B" "$p-b1" "$p-xb" br-b
    ip -n "$NS_A" addr add "$ADDR_A/24" dev "$p-a1"
    ip -n "$NS_B" addr add "$ADDR_B/24" dev "$p-b1"
    IF_A1="$p-a1"; IF_B1="$p-b1"
    for k in $(seq 1 "$nodes"); do
        ip netns add "$p-n$k"
        ip -n "$p-n$k" link set lo up
        bridge_port "$p-n$k" "$p-n${k}a" "$p-x${k}a" br-a
        bridge_port "$p-n$k" "$p-n${k}b" "$p-x${k}b" br-b
        bridge_port "$p-n$k" "$p-n${k}m" "$p-x${k}m" br-m
        ip -n "$p-n$k" addr add "$MGMT_NET.$k/24" dev "$p-n${k}m"
        [ -z "${HA_MGMT6:-}" ] || ip netns exec "$p-n$k" sysctl -qw "net.ipv6.conf.$p-n${k}m.disable_ipv6=0"
    done
}
