#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for SECONDS each, on a copy of its seed corpus.
#   tests/fuzz/run.sh [SECONDS] [TARGET...]      default 20 s; a long run: tests/fuzz/run.sh 600
#
# Builds first (tests/fuzz/build.sh, incremental). Exits non-zero if any target crashes,
# leaks, hangs (20 s on one input; FUZZ_TIMEOUT) or exceeds 2 GB, after printing the input
# that did it (kept in build-fuzz/fuzz/artifacts/<target>/) and the end of the target's log.
# Runs of 600 s or more (or with FUZZ_RECORD=1) append their result to tests/fuzz/RESULTS.md:
# the command, date, duration, and per target executions, exec/s, corpus size and status.
#
# Targets that start DPDK use the file prefix ${RTPRELAY_FUZZ_FILE_PREFIX:-rtprelay_fuzz}_<pid>;
# give two runs on one machine different prefixes (and FUZZ_BUILD_DIRs if their code differs).
# A runtime directory left by a crashed run is removed here (only ours: that prefix, and a
# pid no longer running).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${FUZZ_BUILD_DIR:-$root/build-fuzz}
secs=${1:-20}
# Seconds one input may take before it counts as a hang. Inputs take milliseconds; the
# margin is for a loaded machine (the limit is wall time), not for slow code.
per_input=${FUZZ_TIMEOUT:-20}
shift || true
all=(fuzz_bencode_ng fuzz_sdp fuzz_sdes fuzz_classify fuzz_rtp_srtp)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
if ! [[ "$secs" =~ ^[0-9]+$ ]] || [ "$secs" -eq 0 ]; then
    echo "usage: tests/fuzz/run.sh [SECONDS] [TARGET...]" >&2
    exit 2
fi

# The commit the run tests, taken before anything (RESULTS.md included) is written.
commit=$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)
build_start=$(date +%s)
"$here/build.sh"
echo "fuzz: build took $(( $(date +%s) - build_start )) s" >&2

eal_prefix=${RTPRELAY_FUZZ_FILE_PREFIX:-rtprelay_fuzz}
if ! [[ "$eal_prefix" =~ ^[A-Za-z0-9_-]{1,64}$ ]]; then
    echo "fuzz: RTPRELAY_FUZZ_FILE_PREFIX must be up to 64 of [A-Za-z0-9_-]" >&2
    exit 2
fi
export RTPRELAY_FUZZ_FILE_PREFIX=$eal_prefix
clean_stale_eal_dirs() {
    local d pid
    for d in /var/run/dpdk/"$eal_prefix"_* "${XDG_RUNTIME_DIR:-/tmp}"/dpdk/"$eal_prefix"_* /tmp/dpdk/"$eal_prefix"_*; do
        [ -d "$d" ] || continue
        pid=${d##*_}
        [[ "$pid" =~ ^[0-9]+$ ]] || continue
        kill -0 "$pid" 2>/dev/null || rm -rf "$d"
    done
}
clean_stale_eal_dirs

work=$(mktemp -d "${TMPDIR:-/tmp}/rtprelay-fuzz.XXXXXX")
trap 'rm -rf "$work"; clean_stale_eal_dirs' EXIT

# Sanitizer reports abort the run with a full stack; leaks are checked (libFuzzer does per
# input); UBSan prints where.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()
summary=()
for t in "${targets[@]}"; do
    bin="$out/fuzz/$t"
    if [ ! -x "$bin" ]; then
        echo "fuzz: no target $t" >&2
        failed+=("$t")
        continue
    fi
    corpus="$work/$t"
    mkdir -p "$corpus"
    cp "$here/corpus/$t"/* "$corpus"/ 2>/dev/null || true
    seeds=$(find "$corpus" -type f | wc -l)
    artifacts="$out/fuzz/artifacts/$t"
    mkdir -p "$artifacts"
    # The log is this run's own (runs may overlap); a copy is left in build-fuzz/fuzz/.
    log="$work/$t.log"
    args=(-max_total_time="$secs" -rss_limit_mb=2048 -timeout="$per_input" -print_final_stats=1
          -artifact_prefix="$artifacts/")
    [ -f "$here/dict/$t.dict" ] && args+=(-dict="$here/dict/$t.dict")
    echo "fuzz: $t for $secs s ($seeds seeds)" >&2
    rc=0
    # Artifacts from earlier runs stay until looked at; only this run's are reported.
    marker="$work/$t.start"
    touch "$marker"
    "$bin" "${args[@]}" "$corpus" >"$log" 2>&1 || rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    execs=${execs:-0}
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    size=$(find "$corpus" -type f | wc -l)
    cp "$log" "$out/fuzz/$t.log"
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
    line="$t: $execs execs, ~${rate:-?} exec/s, corpus $seeds -> $size, cov ${cov:-?}"
    if [ "$rc" -ne 0 ]; then
        line="$line, FAILED (exit $rc)"
    fi
    summary+=("$line")
    if [ "$rc" -ne 0 ]; then
        failed+=("$t")
        echo "fuzz: $t FAILED (exit $rc); end of $out/fuzz/$t.log:" >&2
        tail -n 60 "$log" >&2
        found=0
        for a in "$artifacts"/*; do
            if [ -f "$a" ] && [ "$a" -nt "$marker" ]; then
                echo "fuzz: $t: failing input: $a" >&2
                found=1
            fi
        done
        [ "$found" = 1 ] || echo "fuzz: $t: no input saved (see the log above)" >&2
    else
        echo "fuzz: $line" >&2
    fi
done

echo "fuzz: summary (${secs} s per target)" >&2
for l in "${summary[@]}"; do
    echo "  $l" >&2
done

if [ "$secs" -ge 600 ] || [ "${FUZZ_RECORD:-0}" = 1 ]; then
    results="$here/RESULTS.md"
    if [ ! -s "$results" ]; then
        printf '# Fuzzing runs\n\nAppended by tests/fuzz/run.sh for runs of 600 s or more (or FUZZ_RECORD=1).\n' >"$results"
    fi
    {
        # shellcheck disable=SC2016  # the backquotes are Markdown
        printf '\n## %s: `tests/fuzz/run.sh %s%s` — %s\n\n' "$(date -u +%Y-%m-%dT%H:%MZ)" "$secs" \
            "$([ $# -gt 0 ] && printf ' %s' "$@")" \
            "$([ ${#failed[@]} -eq 0 ] && echo clean || echo "FAILED: ${failed[*]}")"
        printf 'Host: %s cores, %s. Duration per target: %s s. Commit: %s.\n\n' \
            "$(nproc)" "$(uname -r)" "$secs" "$commit"
        for l in "${summary[@]}"; do
            printf -- '- %s\n' "$l"
        done
    } >>"$results"
    echo "fuzz: recorded in tests/fuzz/RESULTS.md" >&2
fi

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "fuzz: all clean" >&2
