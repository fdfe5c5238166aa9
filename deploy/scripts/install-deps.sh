#!/usr/bin/env bash
# Installs what rtprelay needs to build and test on Debian 12, as root, if it is missing.
#   install-deps.sh            build + test packages
#   install-deps.sh --build    build packages only
#   install-deps.sh --bench    build packages + rtpengine-daemon (bench/compare only; the
#                              userspace daemon, no kernel module: no recommends)
# Packages that ship services (kamailio, prometheus) are kept from starting: tests run
# their own instances on their own ports and stop them.
set -euo pipefail

# libmnl-dev: rtnetlink for the floating NG addresses (relay/kernel_address.cc); libdpdk-dev
# pulls it in today, named so that stays true.
build_pkgs=(meson ninja-build pkg-config g++ libdpdk-dev dpdk libsrtp2-dev libssl-dev
            libboost-program-options-dev prometheus-cpp-dev libbenchmark-dev libgtest-dev
            libipsec-mb-dev libhiredis-dev libpcap-dev libsndfile1-dev libmnl-dev)
# kamailio and sip-tester (SIPp): the Kamailio call test (tests/e2e/kamailio/).
# clang and libclang-rt-14-dev: the libFuzzer targets (tests/fuzz/); the runtime is only a
# recommendation of clang, so --no-install-recommends needs it named.
# prometheus: promtool and a real server scraping /metrics (tests/e2e/metrics_test.py).
# tshark (Wireshark's dissectors, and capinfos) reads the recordings' pcaps; sox makes their
# test tones (tests/e2e/relay_recording.py, recording_load/).
# baresip-core: two SIP phones with SDES-SRTP calling through Kamailio (tests/e2e/kamailio_srtp/);
# it ships no service.
# redis-server, redis-sentinel: the group tests start their own Redis and Sentinels (tests/e2e/ha/);
# redis-tools is redis-cli, which those tests read Redis with; tshark reads their captures.
# gnuplot-nox: rtprelay-loadgen --plot and bench/compare draw their ramps with it (its test
# draws one).
# librte-net-af-xdp23 and librte-net-memif23: the DPDK drivers e2e_loadgen_dpdk_* load at run
# time (libdpdk-dev pulls them in today; named so that stays true).
# clang-format: the format check (tests/format/check.sh, .clang-format).
# rtpengine-utils: rtpengine's own NG client (rtpengine-ng-client) driving rtprelay
# (tests/e2e/ng_interop.py); its --json needs libjson-perl, which it only recommends.
test_pkgs=(iproute2 ethtool python3 kamailio sip-tester clang libclang-rt-14-dev prometheus baresip-core
           redis-server redis-sentinel redis-tools gnuplot-nox librte-net-af-xdp23 librte-net-memif23
           rtpengine-utils libjson-perl tshark sox clang-format)
# Services of test packages: never left enabled or running as system services.
service_pkgs=(kamailio prometheus rtpengine-daemon redis-server redis-sentinel)
# The relay bench/compare measures rtprelay against (an optional benchmark dependency), and
# gnuplot for its chart.
bench_pkgs=(rtpengine-daemon gnuplot-nox)

want=("${build_pkgs[@]}")
if [ "${1:-}" = "--bench" ]; then
    want+=("${bench_pkgs[@]}")
elif [ "${1:-}" != "--build" ]; then
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
# policy-rc.d exiting 101 keeps invoke-rc.d from starting the services packages ship; one
# that was already there (containers have one) is left as it was.
own_policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    own_policy=1
fi
install_rc=0
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null || install_rc=$?
[ -z "$own_policy" ] || rm -f /usr/sbin/policy-rc.d
for s in "${service_pkgs[@]}"; do
    [[ " ${missing[*]} " == *" $s "* ]] || continue  # only what this run installed
    if [ -e "/lib/systemd/system/$s.service" ] && command -v systemctl >/dev/null; then
        systemctl disable --now "$s" >/dev/null 2>&1 || systemctl disable "$s" >/dev/null 2>&1 || true
    fi
    if [ -x "/etc/init.d/$s" ]; then
        "/etc/init.d/$s" stop >/dev/null 2>&1 || true
    fi
done
exit $install_rc
