#!/bin/bash
# Install what the lab needs on Debian 12 and fetch Debian's 6.12 kernel (image, headers, kbuild)
# WITHOUT installing it: apt-get download + dpkg-deb -x into the cache, so the build machine's own
# kernel setup is left alone. Usage: tests/lab/lab-deps.sh [CACHE] (default $NUMAVD_LAB_CACHE or
# /var/cache/numavd-lab). Idempotent; prints the kernel trees it prepared.
set -euo pipefail
CACHE=${1:-${NUMAVD_LAB_CACHE:-/var/cache/numavd-lab}}
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive

$SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends \
        qemu-system-x86 linux-image-amd64 linux-headers-amd64 busybox-static cpio kmod zstd xz-utils \
        numactl dwarves numad gnuplot-nox >/dev/null
# Every tool the lab runs on the host, pahole (dwarves) for the modules' BTF included.
"$(dirname "$0")/../../tools/need-tools.sh" lab

# The newest 6.12 image bookworm(-security) offers; versions come and go there.
K612=${NUMAVD_LAB_K612:-$(apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' |
        awk '{print $1}' | sed 's/^linux-image-//; s/-unsigned$//' | sort -V | tail -n1)}
if [ -z "$K612" ]; then
        # The lab's 6.12 tests then skip, saying so; the 6.1 tests still run.
        echo "lab-deps: no linux-image-6.12.*+deb12-amd64-unsigned in apt's lists (apt-get update?): 6.12 tests will skip" >&2
        exit 0
fi
VER=${K612%-amd64}
D=$CACHE/k$K612
if [ ! -e "$D/.done" ]; then
        $SUDO mkdir -p "$CACHE/debs"
        rm -rf "$D" && mkdir -p "$D"
        (cd "$CACHE/debs" && apt-get download -q "linux-image-$K612-unsigned" "linux-headers-$K612" \
                "linux-headers-$VER-common" "linux-kbuild-$VER" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
        for p in "linux-image-$K612-unsigned" "linux-headers-$K612" "linux-headers-$VER-common" "linux-kbuild-$VER"; do
                deb=$(ls "$CACHE/debs/${p}_"*.deb | tail -n1)
                dpkg-deb -x "$deb" "$D"
        done
        # The headers' Makefile includes the common tree by its installed, absolute path.
        sed -i "s|^include /usr/src/|include $D/usr/src/|" "$D/usr/src/linux-headers-$K612/Makefile"
        depmod -b "$D" "$K612"
        touch "$D/.done"
fi
echo "lab-deps: 6.1 $(ls /lib/modules | grep -E '^6\.1\.[0-9]+-[0-9]+-amd64$' | sort -V | tail -n1) installed;" \
     "6.12 $K612 in $D"
