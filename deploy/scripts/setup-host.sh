#!/usr/bin/env bash
# Prepares a bare-metal media node for rtprelay with DPDK's own tools (Debian package
# `dpdk`): loads vfio-pci, reserves and mounts hugepages (dpdk-hugepages.py) and binds the
# media NICs to vfio-pci (dpdk-devbind.py). Idempotent: what is already in place is left
# alone. Run as root, by hand or from rtprelay-host.service before rtprelay starts.
#
#   setup-host.sh [--dry-run] [--env FILE] [--hugepages SIZE] [--pagesize 2M|1G] [--node N]
#                 [--nic PCI_ADDRESS]... [--driver vfio-pci]
#
#   --dry-run      print the commands it would run ("+ command"), change nothing
#   --env FILE     read defaults from FILE (RTPRELAY_HUGEPAGES, RTPRELAY_PAGESIZE,
#                  RTPRELAY_NUMA_NODE, RTPRELAY_NICS, RTPRELAY_DRIVER); see
#                  deploy/systemd/rtprelay.default. Options given later win.
#   --hugepages    total hugepage memory to reserve, e.g. 2G (0 = leave hugepages alone)
#   --pagesize     2M (default) or 1G
#   --node         NUMA node to reserve on (default: let the kernel spread them)
#   --nic          PCI address of a media NIC port, e.g. 0000:3b:00.0 (repeatable)
#   --driver       vfio-pci (default), or uio_pci_generic where there is no IOMMU
#
# Exit status: 0 when the host is ready (or, with --dry-run, when the arguments are valid),
# 1 when a step failed, 2 for bad arguments.
set -euo pipefail

prog=$(basename "$0")
dry_run=
hugepages=
pagesize=
node=
driver=
nics=()
sysfs=${RTPRELAY_SYSFS:-/sys}          # tests point these at a fake tree
mounts=${RTPRELAY_MOUNTS:-/proc/mounts}

usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "$prog: $*" >&2; exit 2; }
fail() { echo "$prog: $*" >&2; exit 1; }
note() { echo "# $*"; }
run() {
    echo "+ $*"
    if [ -z "$dry_run" ]; then
        "$@"
    fi
}

load_env() {
    [ -r "$1" ] || die "--env: cannot read '$1'"
    # shellcheck disable=SC1090
    source "$1"
    hugepages=${RTPRELAY_HUGEPAGES:-$hugepages}
    pagesize=${RTPRELAY_PAGESIZE:-$pagesize}
    node=${RTPRELAY_NUMA_NODE:-$node}
    driver=${RTPRELAY_DRIVER:-$driver}
    if [ -n "${RTPRELAY_NICS:-}" ]; then
        read -r -a nics <<<"$RTPRELAY_NICS"
    fi
}

while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) dry_run=1 ;;
        --env) [ $# -ge 2 ] || die "--env needs a file"; load_env "$2"; shift ;;
        --env=*) load_env "${1#*=}" ;;
        --hugepages) [ $# -ge 2 ] || die "--hugepages needs a size"; hugepages=$2; shift ;;
        --hugepages=*) hugepages=${1#*=} ;;
        --pagesize) [ $# -ge 2 ] || die "--pagesize needs 2M or 1G"; pagesize=$2; shift ;;
        --pagesize=*) pagesize=${1#*=} ;;
        --node) [ $# -ge 2 ] || die "--node needs a number"; node=$2; shift ;;
        --node=*) node=${1#*=} ;;
        --nic) [ $# -ge 2 ] || die "--nic needs a PCI address"; nics+=("$2"); shift ;;
        --nic=*) nics+=("${1#*=}") ;;
        --driver) [ $# -ge 2 ] || die "--driver needs a name"; driver=$2; shift ;;
        --driver=*) driver=${1#*=} ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
    shift
done
pagesize=${pagesize:-2M}
driver=${driver:-vfio-pci}
hugepages=${hugepages:-0}

# --- validate everything before changing anything ---
case "$pagesize" in
    2M) page_kb=2048 ;;
    1G) page_kb=1048576 ;;
    *) die "--pagesize: '$pagesize' is not 2M or 1G" ;;
esac
case "$driver" in
    vfio-pci|uio_pci_generic) ;;
    *) die "--driver: '$driver' is not vfio-pci or uio_pci_generic" ;;
esac
if ! [[ "$hugepages" =~ ^[0-9]+[KMG]?$ ]]; then
    die "--hugepages: '$hugepages' is not a size like 2G or 1024M"
fi
[ -z "$node" ] || [[ "$node" =~ ^[0-9]+$ ]] || die "--node: '$node' is not a NUMA node number"
to_kb() {
    local n=${1%[KMG]} unit=${1##*[0-9]}
    case "$unit" in
        K) echo "$n" ;;
        M) echo $((n * 1024)) ;;
        G) echo $((n * 1024 * 1024)) ;;
        *) echo $((n / 1024)) ;;
    esac
}
want_kb=$(to_kb "$hugepages")
if [ "$want_kb" -ne 0 ] && [ $((want_kb % page_kb)) -ne 0 ]; then
    die "--hugepages: $hugepages is not a whole number of $pagesize pages"
fi
want_pages=$((want_kb / page_kb))
for pci in "${nics[@]}"; do
    [[ "$pci" =~ ^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$ ]] ||
        die "--nic: '$pci' is not a PCI address like 0000:3b:00.0 (lower-case hex, see 'dpdk-devbind.py --status')"
done
if [ "$want_pages" -eq 0 ] && [ ${#nics[@]} -eq 0 ]; then
    die "nothing to do: give --hugepages and/or --nic (or --env with RTPRELAY_HUGEPAGES / RTPRELAY_NICS)"
fi
if [ -z "$dry_run" ] && [ "$(id -u)" != 0 ]; then
    fail "must run as root (or use --dry-run)"
fi
for tool in dpdk-hugepages.py dpdk-devbind.py; do
    command -v "$tool" >/dev/null || fail "$tool not found: install Debian's dpdk package"
done
[ -n "$dry_run" ] && note "dry run: nothing is changed"

# --- hugepages ---
if [ "$want_pages" -gt 0 ]; then
    if [ -n "$node" ]; then
        nr_file="$sysfs/devices/system/node/node$node/hugepages/hugepages-${page_kb}kB/nr_hugepages"
    else
        nr_file="$sysfs/kernel/mm/hugepages/hugepages-${page_kb}kB/nr_hugepages"
    fi
    have_pages=$(cat "$nr_file" 2>/dev/null || echo 0)
    if [ "$have_pages" -ge "$want_pages" ]; then
        note "hugepages: $have_pages x $pagesize already reserved (want $want_pages)"
    else
        note "hugepages: $have_pages x $pagesize reserved, reserving $want_pages ($hugepages)"
        run dpdk-hugepages.py --pagesize "$pagesize" ${node:+--node "$node"} --reserve "$hugepages"
        if [ -z "$dry_run" ]; then
            got=$(cat "$nr_file" 2>/dev/null || echo 0)
            [ "$got" -ge "$want_pages" ] || fail "hugepages: the kernel gave $got of $want_pages $pagesize pages" \
                "(memory fragmented: reserve at boot with hugepages=$want_pages on the kernel command line)"
        fi
    fi
    if grep -qs "^hugetlbfs /dev/hugepages " "$mounts"; then
        note "hugepages: hugetlbfs already mounted on /dev/hugepages"
    else
        run dpdk-hugepages.py --pagesize "$pagesize" --mount
    fi
fi

# --- NICs ---
if [ ${#nics[@]} -gt 0 ]; then
    if [ "$driver" = vfio-pci ]; then
        if [ -d "$sysfs/module/vfio_pci" ]; then
            note "vfio-pci: module loaded"
        else
            run modprobe vfio-pci
        fi
        if [ -z "$(ls -A "$sysfs/kernel/iommu_groups" 2>/dev/null)" ]; then
            msg="no IOMMU groups: enable VT-d/AMD-Vi in the BIOS and boot with intel_iommu=on iommu=pt"
            [ -n "$dry_run" ] && note "warning: $msg" || fail "$msg"
        fi
    else
        run modprobe "$driver"
    fi
fi
for pci in "${nics[@]}"; do
    dev="$sysfs/bus/pci/devices/$pci"
    if [ ! -e "$dev" ]; then
        [ -n "$dry_run" ] || fail "$pci: no such PCI device (see 'dpdk-devbind.py --status')"
        note "warning: $pci is not present on this host"
    else
        current=$(basename "$(readlink "$dev/driver" 2>/dev/null || echo none)")
        if [ "$current" = "$driver" ]; then
            note "$pci: already bound to $driver"
            continue
        fi
        # A port the kernel still uses must go down first; devbind refuses one with routes.
        for netdev in "$dev"/net/*; do
            [ -e "$netdev" ] || continue
            run ip link set dev "$(basename "$netdev")" down
        done
    fi
    run dpdk-devbind.py --bind="$driver" "$pci"
done
if [ -z "$dry_run" ] && [ ${#nics[@]} -gt 0 ]; then
    dpdk-devbind.py --status-dev net | sed -n '/DPDK-compatible driver/,/^$/p'
fi
note "host ready for rtprelay"
