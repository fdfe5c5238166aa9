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
chmod 644 "$tmp/key"
if out=$("$relay" --config "$repo/deploy/config/group/rtprelay-n1.conf" "${files[@]}" --check-config 2>&1); then
    fail "a world-readable key file was accepted"
fi
grep -q "'--group-key-file'" <<<"$out" || fail "the complaint does not name --group-key-file: $out"
echo "ok   a world-readable key file is refused: $out"
echo "PASS"
