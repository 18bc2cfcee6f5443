#!/bin/bash
# The Debian packages: `dpkg-buildpackage -b -us -uc` in a clean clone of the committed tree builds
# numavd and numavd-dkms, lintian reports no error, and the packages hold what debian/ says.
#   tests/test-deb.sh [OUTDIR]    OUTDIR (optional) receives the .debs, for the lab's install test
# Not part of `make check` (a build of its own, a few minutes): .ci/run runs it.
set -u
src=$(cd "${top_srcdir:-$(dirname "$0")/..}" && pwd)
. "$src/tests/tap.sh"
out=${1:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for t in dpkg-buildpackage:dpkg-dev dh:debhelper dh_dkms:dh-dkms lintian:lintian git:git; do
        command -v "${t%%:*}" >/dev/null || { echo "1..0 # SKIP ${t%%:*} is missing (apt-get install ${t#*:})"; exit 0; }
done
git clone -q "$src" "$tmp/numavd"
ok $? "a clean clone of $(git -C "$src" rev-parse --short HEAD)"
(cd "$tmp/numavd" && dpkg-buildpackage -b -us -uc) >"$tmp/build.log" 2>&1
rc=$?
[ $rc -eq 0 ] || tail -n 40 "$tmp/build.log" | sed 's/^/# /'
ok $rc "dpkg-buildpackage -b -us -uc"
deb=$(ls "$tmp"/numavd_*_*.deb 2>/dev/null | head -n1)
dkms=$(ls "$tmp"/numavd-dkms_*_all.deb 2>/dev/null | head -n1)
check "it built numavd ($(basename "${deb:-none}")) and numavd-dkms ($(basename "${dkms:-none}"))" test -n "$deb" -a -n "$dkms"

lintian --pedantic --display-info "$tmp"/numavd_*.changes >"$tmp/lintian.txt" 2>&1
grep -E '^[EWIP]: ' "$tmp/lintian.txt" | sed 's/^/# lintian: /'
! grep -q '^E: ' "$tmp/lintian.txt"
ok $? "lintian: $(grep -c '^E: ' "$tmp/lintian.txt") errors, $(grep -c '^W: ' "$tmp/lintian.txt") warnings"

files() { dpkg-deb -c "$1" | awk '{print $6}' | sed 's|^\./|/|'; }
for f in /usr/sbin/numavd /usr/bin/numavctl /lib/systemd/system/numavd.service /lib/systemd/system/numavd.socket \
        /lib/systemd/system/numavd-metrics.service /lib/systemd/system/numavd-metrics.timer \
        /usr/lib/sysusers.d/numavd.conf /etc/libvirt/hooks/qemu.d/numavd /etc/numavd/numavd.conf \
        /usr/share/man/man8/numavd.8.gz /usr/share/man/man1/numavctl.1.gz /usr/share/man/man5/numavd.conf.5.gz \
        /usr/share/man/man4/numavd_ept.4.gz /usr/share/bash-completion/completions/numavctl \
        /usr/share/varlink/io.numavd.Manager.varlink; do
        files "$deb" | grep -qx "$f"; ok $? "numavd ships $f"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles >"$tmp/conffiles"
grep -qx /etc/numavd/numavd.conf "$tmp/conffiles"; ok $? "numavd.conf is a conffile"
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./postinst >"$tmp/postinst"
grep -q "systemd-sysusers.* numavd.conf" "$tmp/postinst"; ok $? "postinst creates the group (systemd-sysusers)"
grep -q "deb-systemd-helper enable 'numavd.socket'" "$tmp/postinst" &&
        grep -q "deb-systemd-helper enable 'numavd.service'" "$tmp/postinst"
ok $? "postinst enables numavd.socket and numavd.service"
# --no-enable: enabled again on upgrade only where it was (debian-installed), never started.
grep -q "debian-installed 'numavd-metrics.timer'" "$tmp/postinst" && ! grep -q "invoke.*numavd-metrics" "$tmp/postinst"
ok $? "numavd-metrics.timer is shipped off (enabled only where it was before)"
# The module's whole source, under the version kernel/dkms.conf gives DKMS.
v=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$src/kernel/dkms.conf")
for f in dkms.conf Kbuild Makefile $(cd "$src/kernel" && git ls-files '*.c' '*.h') uapi/numavd_ept.h; do
        files "$dkms" | grep -qx "/usr/src/numavd_ept-$v/$f"; ok $? "numavd-dkms ships /usr/src/numavd_ept-$v/$f"
done
for f in /usr/lib/modules-load.d/numavd_ept.conf; do
        files "$dkms" | grep -qx "$f"; ok $? "numavd-dkms ships $f"
done
dpkg-deb --ctrl-tarfile "$dkms" | tar -xO ./postinst | grep -q "dkms"
ok $? "numavd-dkms's postinst hands the module to DKMS"
dpkg-deb -f "$dkms" Depends | grep -q dkms; ok $? "numavd-dkms depends on dkms ($(dpkg-deb -f "$dkms" Depends))"

if [ -n "$out" ]; then
        mkdir -p "$out" && cp "$deb" "$dkms" "$out/"
        ok $? "the packages are in $out"
fi
done_testing
