#!/bin/sh
# lab: kernels=6.1 mem=1024 timeout=2100 init=systemd
# The Debian packages installed as an operator installs them: `apt install` of numavd and
# numavd-dkms (built by tests/test-deb.sh into BUILDDIR/lab/debs) into this guest, systemd as PID 1.
# Then numavd.socket and numavd.service are up, numavctl status answers, DKMS built numavd_ept for
# the running kernel and it loads; the metrics timer is installed but off; and `apt purge` leaves
# no unit, no group, no module and no configuration behind. Slow under TCG (about 23 minutes, most
# of it dpkg reading its database, the module's build and depmod over 9p).
. "$LAB_SRCDIR/tests/tap.sh"
debs=$LAB_BUILDDIR/lab/debs
export DEBIAN_FRONTEND=noninteractive
prop() { systemctl show -P "$2" "$1"; }
mod=numavd_ept
# The version DKMS knows the module by, as kernel/dkms.conf gives it.
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$LAB_SRCDIR/kernel/dkms.conf")

check "systemd is PID 1 ($(cat /proc/1/comm))" test "$(cat /proc/1/comm)" = systemd
deb=$(ls "$debs"/numavd_*.deb 2>/dev/null | head -n 1)
dkms=$(ls "$debs"/numavd-dkms_*_all.deb 2>/dev/null | head -n 1)
check "the packages are there ($debs: run tests/test-deb.sh $debs first)" test -n "$deb" -a -n "$dkms"
cp "$deb" "$dkms" /tmp/
# The host root may carry a container's policy-rc.d (exit 101: start no service), which would
# keep apt from starting the units; this guest is a machine of its own. man-db's trigger would
# rebuild the manual's index under TCG for minutes: not what is tested here.
rm -f /usr/sbin/policy-rc.d /var/lib/man-db/auto-update
check "numavd is not installed yet" sh -c "! dpkg -s numavd >/dev/null 2>&1 && ! getent group numavd"
check "no numavd_ept module for $LAB_KVER yet" sh -c "! modinfo -k $LAB_KVER $mod >/dev/null 2>&1"

# apt's and DKMS's output go to the share, where the host can follow a slow build.
t0=$(cut -d. -f1 /proc/uptime)
apt-get install -y --no-install-recommends "/tmp/$(basename "$deb")" "/tmp/$(basename "$dkms")" >"$LAB_OUT/apt.log" 2>&1
rc=$?
[ $rc -eq 0 ] || tail -n 30 "$LAB_OUT/apt.log" | sed 's/^/# apt: /'
ok $rc "apt-get install ./numavd ./numavd-dkms ($(($(cut -d. -f1 /proc/uptime) - t0)) s, DKMS build included)"
grep -E "^(E|W):" "$LAB_OUT/apt.log" | sed 's/^/# apt: /'

check "the group numavd exists (sysusers.d)" getent group numavd
check "numavd.socket is enabled and active" \
        test "$(systemctl is-enabled numavd.socket) $(systemctl is-active numavd.socket)" = "enabled active"
check "numavd.service is enabled" test "$(systemctl is-enabled numavd.service)" = enabled
check "/run/numavd/io.numavd.Manager: mode 0660, group numavd ($(stat -c '%a %G' /run/numavd/io.numavd.Manager 2>&1))" \
        test "$(stat -c '%a %G' /run/numavd/io.numavd.Manager 2>/dev/null)" = "660 numavd"
numavctl status >/tmp/status.txt 2>&1
ok $? "numavctl status answers"
sed 's/^/# numavctl: /' /tmp/status.txt | head -n 6
i=0
while [ "$(systemctl is-active numavd.service)" != active ] && [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); done
check "numavd.service is active ($(prop numavd.service SubState))" test "$(systemctl is-active numavd.service)" = active
journalctl -b -q --no-pager -o cat -u numavd.service | tail -n 5 | sed 's/^/# journal: /'
check "numavd-metrics.timer is installed and off" \
        test "$(systemctl is-enabled numavd-metrics.timer) $(systemctl is-active numavd-metrics.timer)" = "disabled inactive"
check "/etc/numavd/numavd.conf is a conffile of numavd" sh -c "dpkg-query -W -f='\${Conffiles}' numavd | grep -q /etc/numavd/numavd.conf"
check "man numavctl finds the page" sh -c "man -w numavctl | grep -q /usr/share/man/man1/numavctl.1"

dkms status $mod >/tmp/dkms.txt 2>/dev/null
sed 's/^/# dkms: /' /tmp/dkms.txt
check "DKMS built and installed $mod for $LAB_KVER" grep -q "$mod/$ver, $LAB_KVER, x86_64: installed" /tmp/dkms.txt
check "modinfo finds it under updates/dkms ($(modinfo -k "$LAB_KVER" -n $mod 2>&1))" \
        sh -c "modinfo -k $LAB_KVER -n $mod | grep -q /updates/dkms/"
modprobe $mod
ok $? "modprobe $mod"
check "/dev/numavd_ept is there" test -c /dev/numavd_ept
check "numavd_ept is loaded at boot (modules-load.d)" grep -qx $mod /usr/lib/modules-load.d/numavd_ept.conf
systemctl restart numavd.service
i=0
while ! numavctl --json status 2>/dev/null | grep -q '"backend":"kmod"' && [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); done
numavctl --json status 2>/dev/null | grep -q '"backend":"kmod"'
ok $? "restarted, numavd takes the module (backend kmod)"

# Purge: nothing stays.
systemctl stop numavd.service numavd.socket
modprobe -r $mod
ok $? "numavd stopped, the module unloads"
apt-get purge -y numavd numavd-dkms >"$LAB_OUT/purge.log" 2>&1
rc=$?
[ $rc -eq 0 ] || tail -n 30 "$LAB_OUT/purge.log" | sed 's/^/# apt: /'
ok $rc "apt-get purge numavd numavd-dkms"
systemctl daemon-reload
left=$(ls /lib/systemd/system/numavd* /etc/systemd/system/*/numavd* /etc/systemd/system/numavd* 2>/dev/null | tr '\n' ' ')
check "no numavd unit is left (${left:-none})" test -z "$left"
check "systemd knows no numavd unit ($(systemctl list-unit-files 'numavd*' --no-legend | tr '\n' ' '))" \
        test -z "$(systemctl list-unit-files 'numavd*' --no-legend)"
check "the group numavd is gone" sh -c "! getent group numavd"
check "no numavd_ept module for $LAB_KVER ($(modinfo -k "$LAB_KVER" -n $mod 2>&1))" \
        sh -c "! modinfo -k $LAB_KVER $mod >/dev/null 2>&1"
check "DKMS knows no numavd_ept ($(dkms status $mod 2>/dev/null))" test -z "$(dkms status $mod 2>/dev/null)"
left=$(ls -d /etc/numavd /usr/src/numavd_ept-* /var/lib/dkms/$mod /usr/sbin/numavd /usr/bin/numavctl \
        /etc/libvirt/hooks/qemu.d/numavd /usr/lib/modules-load.d/numavd_ept.conf /usr/lib/sysusers.d/numavd.conf \
        2>/dev/null | tr '\n' ' ')
check "no file or directory of numavd is left (${left:-none})" test -z "$left"
check "dpkg knows neither package" sh -c "! dpkg -s numavd >/dev/null 2>&1 && ! dpkg -s numavd-dkms >/dev/null 2>&1"
done_testing
