#!/usr/bin/env bash
# The group samples (deploy/config/group/rtprelay-n*.conf) pass --check-config with a key and
# password file of the right kind, and name the option when one is wrong. No DPDK, no root.
#   group_samples_test.sh BUILD_DIR REPO
set -euo pipefail
relay="$1/relay/rtprelay"
repo=$2
tmp=$(mktemp -d /tmp/rtprelay-group-samples.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
(umask 077 && openssl rand -hex 32 >"$tmp/key" && echo secret >"$tmp/pass")
fail() { echo "FAIL: $*"; exit 1; }
files=(--group-key-file="$tmp/key" --redis-password-file="$tmp/pass")
for n in 1 2 3; do
    out=$("$relay" --config "$repo/deploy/config/group/rtprelay-n$n.conf" "${files[@]}" --check-config 2>&1) ||
        fail "rtprelay-n$n.conf: $out"
    grep -q "group jp1: node n$n" <<<"$out" || fail "rtprelay-n$n.conf: no group line: $out"
    echo "ok   rtprelay-n$n.conf: $(tail -1 <<<"$out")"
done
grep -q "0 home address" <<<"$("$relay" --config "$repo/deploy/config/group/rtprelay-n3.conf" "${files[@]}" --check-config)" ||
    fail "node 3 is the standby"
for n in 1 2; do
    grep -q "node n$n, 1 home address" <<<"$("$relay" --config "$repo/deploy/config/group/rtprelay-n$n.conf" "${files[@]}" --check-config)" ||
        fail "node $n leases its one home address (home-addresses)"
done
for n in 1 2 3; do
    grep -q "NG address 10.20.0.1$((n + 4)) floating on eno1 (3 in the group)" \
        <<<"$("$relay" --config "$repo/deploy/config/group/rtprelay-n$n.conf" "${files[@]}" --check-config)" ||
        fail "node $n's NG address floats (ng-float-interface, ng-float-addresses)"
done
echo "ok   each node's NG address floats"
# Floating NG addresses that do not fit are refused, naming the option.
bad_float() {  # WANTED_OPTION ARGS...
    local want=$1 out
    shift
    if out=$("$relay" --config "$repo/deploy/config/group/rtprelay-n1.conf" "${files[@]}" "$@" --check-config 2>&1); then
        fail "accepted: $*"
    fi
    grep -q "'--$want'" <<<"$out" || fail "the complaint about $* does not name --$want: $out"
    echo "ok   refused: $* ($out)"
}
bad_float ng-listen --ng-listen=10.20.0.5:2223
bad_float ng-float-addresses --ng-float-addresses=10.20.0.15
bad_float ng-float-addresses --ng-float-addresses=10.20.0.15/24,54.65.63.200/24
bad_float ng-float-addresses --ng-float-addresses=10.20.0.15/24,fe80::15/64
bad_float ng-listen --ng-float-addresses=2001:2::15/64,2001:2::16/64
# IPv6 floating NG addresses (the node's --ng-listen one of them).
out=$("$relay" --config "$repo/deploy/config/group/rtprelay-n1.conf" "${files[@]}" --ng-listen='[2001:2::15]:2223' \
    --ng-float-addresses=2001:2::15/64,2001:2::16/64 --check-config 2>&1) || fail "IPv6 floating NG addresses: $out"
grep -q "NG address 2001:2::15 floating on eno1 (2 in the group)" <<<"$out" || fail "IPv6 floating NG address: $out"
echo "ok   IPv6 floating NG addresses"
# libsrtp2 cannot be seeded with a dead peer's SRTP indices (README "SRTP after a takeover").
bad_float srtp-engine --srtp-engine=libsrtp2
chmod 644 "$tmp/key"
if out=$("$relay" --config "$repo/deploy/config/group/rtprelay-n1.conf" "${files[@]}" --check-config 2>&1); then
    fail "a world-readable key file was accepted"
fi
grep -q "'--group-key-file'" <<<"$out" || fail "the complaint does not name --group-key-file: $out"
echo "ok   a world-readable key file is refused: $out"
echo "PASS"
