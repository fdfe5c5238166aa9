#!/usr/bin/env bash
# Installs what rtprelay needs to build and test on Debian 12, as root, if it is missing.
#   install-deps.sh            build + test packages
#   install-deps.sh --build    build packages only
# Packages that ship services (none in this list today) must be kept from starting.
set -euo pipefail

build_pkgs=(meson ninja-build pkg-config g++ libdpdk-dev dpdk libsrtp2-dev libssl-dev
            libboost-program-options-dev prometheus-cpp-dev libbenchmark-dev libgtest-dev
            libipsec-mb-dev)
test_pkgs=(iproute2 ethtool python3)

want=("${build_pkgs[@]}")
if [ "${1:-}" != "--build" ]; then
    want+=("${test_pkgs[@]}")
fi

missing=()
for p in "${want[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "install-deps: missing packages (${missing[*]}); run as root" >&2
    exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
