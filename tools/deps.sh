#!/bin/sh
# Install what numavd needs to build and test on Debian 12 (run as root, or with sudo available).
set -e
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# Wait for another apt (unattended-upgrades on a fresh machine) instead of failing at once.
APT="$SUDO apt-get -o DPkg::Lock::Timeout=600"
$APT update -qq
$APT install -y -qq --no-install-recommends \
        build-essential autoconf automake libtool pkg-config \
        libnuma-dev libhwloc-dev libvirt-dev libsystemd-dev libjson-c-dev \
        clang-format jq valgrind numactl ca-certificates git xz-utils >/dev/null
# Man pages (scdoc), and systemd-analyze verify/security on the units, which runs man (man-db).
$APT install -y -qq --no-install-recommends scdoc systemd man-db >/dev/null
# Varlink: the Go varlink library as an independent conformance client, clang for the libFuzzer
# targets (`make fuzz`), setpriv (util-linux) for the permission tests.
$APT install -y -qq --no-install-recommends golang-go golang-github-varlink-go-dev clang \
        libclang-rt-dev util-linux >/dev/null
# The libvirt source: libxml2 for domain XML; real libvirtd + QEMU (TCG) for tests/test-libvirt-real.sh,
# whose guest is the Debian kernel (linux-image-amd64) with a busybox initramfs (tests/libvirt-env.sh).
$APT install -y -qq --no-install-recommends libxml2-dev libvirt-daemon-system libvirt-clients \
        qemu-system-x86 busybox-static linux-image-amd64 cpio >/dev/null
# The varlink project's certification (varlink-go-certification, package varlink-go); promtool and
# the node exporter for the metrics; tmux and bash-completion for numavctl's terminal and completion
# tests; debhelper, dh-dkms and lintian for the Debian packages (tests/test-deb.sh, the lab's
# install test). Their services (prometheus, node exporter) are not what the tests use: those run
# their own exporter on 127.0.0.1 and a port of their own.
$APT install -y -qq --no-install-recommends varlink-go prometheus prometheus-node-exporter curl tmux \
        bash-completion dpkg-dev debhelper dh-dkms dkms lintian >/dev/null
# Everything the build and `make check` run must be there now; name the package of what is not.
"$(dirname "$0")/need-tools.sh" build check
