#!/usr/bin/env bash
# The README's demo, shortened: it must succeed and its summary must show the relay's own
# counters moving (the NG query totals and the relay's exit counters), not only the
# generator's.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(./deploy/scripts/demo.sh --calls 50 --duration 3 2>&1) || { echo "$out"; echo "FAIL: demo exited non-zero"; exit 1; }
echo "$out"
relay_rtp=$(echo "$out" | sed -n 's/.*relay count *RTP \([0-9]*\) pkts.*/\1/p')
final_rtp=$(echo "$out" | sed -n 's/.*final counters: .*relayed_rtp=\([0-9]*\).*/\1/p')
sent=$(echo "$out" | sed -n 's/.*packets *sent \([0-9]*\) .*/\1/p')
[ -n "$relay_rtp" ] && [ -n "$final_rtp" ] && [ -n "$sent" ] || { echo "FAIL: summary lines missing"; exit 1; }
# 50 calls x 2 directions x 50 packets/s x 3 s = 15000; allow a starved scheduler some slack.
[ "$sent" -ge 12000 ] || { echo "FAIL: generator sent only $sent packets"; exit 1; }
[ "$relay_rtp" -ge $((sent * 9 / 10)) ] || { echo "FAIL: relay counted $relay_rtp of $sent packets in NG query"; exit 1; }
[ "$final_rtp" -ge "$relay_rtp" ] || { echo "FAIL: relay's exit counters ($final_rtp) below its query totals ($relay_rtp)"; exit 1; }
# The relay's worker busy time over the streaming window, from NG statistics: it did work.
busy=$(echo "$out" | sed -n 's/^relay busy *\([0-9.]*\) s over .*/\1/p')
[ -n "$busy" ] && awk -v b="$busy" 'BEGIN { exit !(b > 0) }' || { echo "FAIL: no relay busy time in the summary"; exit 1; }
echo "PASS: demo (generator sent $sent, relay relayed $final_rtp RTP, its worker busy $busy s)"
