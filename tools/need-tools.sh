#!/bin/sh
# Check that every tool a step of the build, the tests or the lab runs is on PATH, and name the
# Debian package that provides each missing one. Usage: tools/need-tools.sh STEP...
#   build  autotools, compiler, pkg-config, man page generator, format checker
#   check  what `make check`, `make fuzz-run`, `make distcheck` and tests/test-deb.sh run
#   lab    what `make lab-check` runs on the host (tests/lab/lab.sh, kernel module builds)
# Exits 1 after listing everything missing, so a fresh machine fails here, loudly, and not in the
# middle of a step that happens to need the tool.
set -u
missing=0

need() { # step command package
        command -v "$2" >/dev/null 2>&1 && return 0
        [ -x "/usr/sbin/$2" ] || [ -x "/sbin/$2" ] && return 0
        echo "need-tools: $1: '$2' is missing (Debian package: $3)" >&2
        missing=$((missing + 1))
}

for step in "$@"; do
        case $step in
        build)
                for t in "cc build-essential" "make make" "autoreconf autoconf" "automake automake" \
                        "libtoolize libtool" "pkg-config pkg-config" "scdoc scdoc" \
                        "clang-format clang-format" "git git" "xz xz-utils"; do
                        need build $t
                done ;;
        check)
                for t in "jq jq" "valgrind valgrind" "numactl numactl" "setpriv util-linux" \
                        "systemd-analyze systemd" "man man-db" "go golang-go" "clang clang" \
                        "timeout coreutils" "flock util-linux" "unshare util-linux" \
                        "virsh libvirt-clients" "libvirtd libvirt-daemon-system" \
                        "virtlogd libvirt-daemon-system" "qemu-system-x86_64 qemu-system-x86" \
                        "busybox busybox-static" "cpio cpio" "gzip gzip" \
                        "varlink-go-certification varlink-go" "promtool prometheus" \
                        "prometheus-node-exporter prometheus-node-exporter" "curl curl" "tmux tmux" \
                        "dpkg-buildpackage dpkg-dev" "dh debhelper" "dh_dkms dh-dkms" "dkms dkms" \
                        "lintian lintian"; do
                        need check $t
                done
                [ -r /usr/share/bash-completion/bash_completion ] || {
                        echo "need-tools: check: bash-completion's library is missing (Debian package: bash-completion)" >&2
                        missing=$((missing + 1))
                }
                [ -r /usr/share/gocode/src/github.com/varlink/go/varlink/service.go ] || {
                        echo "need-tools: check: the Go varlink library is missing (Debian package: golang-github-varlink-go-dev)" >&2
                        missing=$((missing + 1))
                }
                ls /boot/vmlinuz-*-amd64 >/dev/null 2>&1 || {
                        echo "need-tools: check: no Debian kernel image in /boot (Debian package: linux-image-amd64)" >&2
                        missing=$((missing + 1))
                } ;;
        lab)
                # pahole: kbuild generates the module's BTF with it wherever the kernel has
                # CONFIG_DEBUG_INFO_BTF_MODULES (Debian's 6.12 has; the build stops without it).
                for t in "qemu-system-x86_64 qemu-system-x86" "busybox busybox-static" "cpio cpio" \
                        "zstd zstd" "xz xz-utils" "modprobe kmod" "depmod kmod" "pahole dwarves" \
                        "dpkg-deb dpkg" "numactl numactl" "gcc build-essential" "make make"; do
                        need lab $t
                done ;;
        *)
                echo "need-tools: unknown step '$step' (build, check, lab)" >&2
                exit 2 ;;
        esac
done
[ "$missing" -eq 0 ] || { echo "need-tools: $missing missing; install the packages named above" >&2; exit 1; }
