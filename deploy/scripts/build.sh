#!/usr/bin/env bash
# Configures (once) and builds rtprelay into ./build. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -f build/build.ninja ]; then
    meson setup build --buildtype=debugoptimized >/dev/null
fi
ninja -C build >build/ninja.log 2>&1 || { cat build/ninja.log; exit 1; }
