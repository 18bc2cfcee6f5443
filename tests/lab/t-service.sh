#!/bin/sh
# lab: kernels=6.1 mem=1024 timeout=420 init=systemd
# numavd.service under systemd as PID 1, installed by `make install` from the build dir into the
# guest's root: socket activation (numavctl status starts the service through numavd.socket),
# Type=notify (active only once the daemon says READY=1), reload (SIGHUP; an invalid drop-in is
# refused and the daemon keeps running), the sandbox still lets it write /sys/kernel/mm/ksm (KSM=yes
# in a drop-in) and the knobs are restored after stop, and stop is clean.
. "$LAB_SRCDIR/tests/tap.sh"
B=$LAB_BUILDDIR
K=/sys/kernel/mm/ksm
SOCK=/run/numavd/io.numavd.Manager
prop() { systemctl show -P "$2" "$1"; }
knobs() { echo "run=$(cat $K/run) pages_to_scan=$(cat $K/pages_to_scan) sleep_millisecs=$(cat $K/sleep_millisecs)"; }
journal() { journalctl -b -q --no-pager -o cat -u numavd.service; }

check "systemd is PID 1 ($(cat /proc/1/comm))" test "$(cat /proc/1/comm)" = systemd
# `make lab-check` ran `make install DESTDIR=BUILDDIR/lab/root` (tests/lab/local.mk); the root here is
# a tmpfs overlay, so copying that tree over / installs numavd into this guest only.
test -d "$B/lab/root" && cp -a "$B/lab/root/." /
ok $? "numavd as make install laid it out ($B/lab/root) copied into the guest's root"
eval "$(cat "$B/lab/install-dirs")" # prefix=, sbindir=, sysusersdir=, ... (make print-install-dirs)
systemd-sysusers >/dev/null 2>&1
check "systemd-sysusers creates the group numavd ($sysusersdir)" getent group numavd
systemctl daemon-reload
check "numavd.service is installed and starts $sbindir/numavd" \
        sh -c "systemctl cat numavd.service | grep -qx 'ExecStart=$sbindir/numavd'"
mkdir -p /etc/numavd/numavd.conf.d
printf '[Daemon]\nSources=proc\n[KSM]\nKSM=yes\n[Balloon]\nBalloon=no\n' >/etc/numavd/numavd.conf.d/lab.conf
before=$(knobs)
echo "# KSM before: $before"

# Socket activation.
systemctl start numavd.socket
ok $? "systemctl start numavd.socket"
check "$SOCK is a socket, mode 0660, group numavd ($(stat -c '%A %G' $SOCK 2>&1))" \
        test -S $SOCK -a "$(stat -c '%a %G' $SOCK)" = "660 numavd"
check "numavd.service is not running yet" test "$(systemctl is-active numavd.service)" = inactive
numavctl status >/tmp/status.txt 2>&1
ok $? "numavctl status answers through the socket"
sed 's/^/# numavctl: /' /tmp/status.txt | head -n 8
check "the connection activated numavd.service" test "$(systemctl is-active numavd.service)" = active
echo "# $(systemctl show -p Type -p NotifyAccess -p SubState -p StatusText numavd.service | tr '\n' ' ')"
check "it runs as Type=notify and told systemd its status" test -n "$(prop numavd.service StatusText)"
pid=$(prop numavd.service MainPID)

# The sandbox (ProtectKernelTunables=yes, ReadWritePaths=/sys/kernel/mm) lets it write KSM's knobs.
i=0
while [ "$(cat $K/run)" != 1 ] && [ $i -lt 30 ]; do sleep 0.5; i=$((i + 1)); done
check "with KSM=yes it switched ksmd on through the sandbox ($(knobs))" test "$(cat $K/run)" = 1
check "its KSM settings are saved in /run/numavd/ksm.state" test -s /run/numavd/ksm.state

# Reload: SIGHUP through ExecReload; the daemon says RELOADING=1, then READY=1.
systemctl reload numavd.service
ok $? "systemctl reload numavd.service"
sleep 1
check "still active, same main pid $pid" test "$(systemctl is-active numavd.service) $(prop numavd.service MainPID)" = "active $pid"
printf '[Daemon]\nEpoch=banana\n' >/etc/numavd/numavd.conf.d/zz-bad.conf
systemctl reload numavd.service
sleep 1
check "an invalid drop-in: the reload is refused and numavd keeps running" \
        test "$(systemctl is-active numavd.service) $(prop numavd.service MainPID)" = "active $pid"
journal | grep -q "zz-bad.conf"
ok $? "the journal names the invalid file ($(journal | grep -m1 zz-bad.conf))"
rm /etc/numavd/numavd.conf.d/zz-bad.conf
numavctl status >/dev/null 2>&1
ok $? "numavctl status still answers after the reloads"

# Stop: clean, and the kernel as before.
systemctl stop numavd.service 2>/dev/null # "can still be activated by numavd.socket"
ok $? "systemctl stop numavd.service"
check "numavd.service is inactive" test "$(systemctl is-active numavd.service)" = inactive
check "it exited 0 (Result=$(prop numavd.service Result), status $(prop numavd.service ExecMainStatus))" \
        test "$(prop numavd.service Result) $(prop numavd.service ExecMainStatus)" = "success 0"
check "the KSM knobs are restored ($(knobs))" test "$(knobs)" = "$before"
check "its ksm.state is gone" test ! -e /run/numavd/ksm.state

# A direct start: systemctl returns once READY=1 came.
systemctl start numavd.service
ok $? "systemctl start numavd.service"
check "active and running at once ($(prop numavd.service SubState))" \
        test "$(systemctl is-active numavd.service) $(prop numavd.service SubState)" = "active running"
systemctl stop numavd.service numavd.socket
ok $? "systemctl stop numavd.service numavd.socket"
check "both inactive" test "$(systemctl is-active numavd.service numavd.socket | sort -u)" = inactive
check "the socket file is removed" test ! -e $SOCK
check "the KSM knobs are restored again ($(knobs))" test "$(knobs)" = "$before"
journal | grep -iE "error|warning|denied" | grep -v "zz-bad.conf\|Reloading the configuration failed\|Epoch=" |
        sed 's/^/# journal: /' >/tmp/journal-bad.txt
cat /tmp/journal-bad.txt
check "the journal has no other error or warning from numavd" test ! -s /tmp/journal-bad.txt
failed=$(systemctl list-units --failed --plain --no-legend | awk '{print $1}' | tr '\n' ' ')
check "no failed numavd unit (failed: ${failed:-none})" sh -c "! echo '$failed' | grep -q numavd"
done_testing
