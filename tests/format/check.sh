#!/usr/bin/env bash
# The format check of the test command: every C++ file of the repository (tracked by git,
# or every *.cc/*.h under the tree when it is not a git checkout) is as clang-format and the
# repository's .clang-format would write it. Prints the files that differ and how to fix them.
#   tests/format/check.sh [SOURCE_ROOT]
# Fix: clang-format -i $(git ls-files '*.cc' '*.h')
set -euo pipefail
root="${1:-$(dirname "$0")/../..}"
cd "$root"
fmt=$(command -v clang-format-14 || command -v clang-format || true)
if [ -z "$fmt" ]; then
    echo "format: clang-format is missing (deploy/scripts/install-deps.sh installs it)" >&2
    exit 1
fi
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    mapfile -t files < <(git ls-files '*.cc' '*.h')
else
    mapfile -t files < <(find . -path ./build -prune -o \( -name '*.cc' -o -name '*.h' \) -print)
fi
bad=()
for f in "${files[@]}"; do
    if ! "$fmt" --style=file --dry-run --Werror "$f" >/dev/null 2>&1; then
        bad+=("$f")
    fi
done
if [ ${#bad[@]} -gt 0 ]; then
    echo "format: ${#bad[@]} of ${#files[@]} files differ from .clang-format:" >&2
    printf '  %s\n' "${bad[@]}" >&2
    echo "format: fix with: $fmt -i ${bad[*]}" >&2
    exit 1
fi
echo "format: ${#files[@]} files match .clang-format"
