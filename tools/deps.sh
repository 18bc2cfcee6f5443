#!/bin/sh
# Install what numavd needs to build and test on Debian 12 (run as root, or with sudo available).
set -e
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
        build-essential autoconf automake libtool pkg-config \
        libnuma-dev libhwloc-dev libvirt-dev libsystemd-dev libjson-c-dev \
        clang-format jq valgrind numactl ca-certificates git xz-utils >/dev/null
