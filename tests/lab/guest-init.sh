#!/bin/sh
# PID 1 of a lab guest (over the host root, read-only + tmpfs overlay; /tmp is left as is, since the
# build dir may live there). lab.env=FILE (a host path)
# sets LAB_TEST (the script to run), LAB_OUT (the writable share, 9p tag labout, mounted at that
# same path), and what tests/lab/README.md lists. Output goes to $LAB_OUT/result.tap; the markers
# LAB-BOOTED and LAB-DONE rc=N go to the console.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm; mount -t devpts devpts /dev/pts; mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run; mount -t debugfs none /sys/kernel/debug 2>/dev/null
for a in $(cat /proc/cmdline); do case $a in lab.env=*) ENVF=${a#lab.env=};; esac; done
set -a; . "$ENVF"; set +a
mkdir -p "$LAB_OUT" && mount -t 9p -o trans=virtio,version=9p2000.L labout "$LAB_OUT" || echo "LAB-DONE rc=95 (share)"
# A kernel that is not installed on the host (the cached 6.12): its modules for modprobe.
K=$(uname -r)
[ -d "/lib/modules/$K" ] || { [ -n "${LAB_MODROOT:-}" ] && ln -s "$LAB_MODROOT/lib/modules/$K" "/lib/modules/$K"; }
# The kernel must not move pages behind numavd's back.
echo 0 >/proc/sys/kernel/numa_balancing
# A CPU stuck in the kernel ends the boot at once (the runner reports it), with every CPU's
# backtrace on the console, instead of when the runner's timeout runs out. Stuck means 120 s
# (twice watchdog_thresh), not the default 20: under TCG a vCPU can make no progress for tens of
# seconds and then go on (seen: 22 s in clear_page on 6.1, with the bake-off's fill running).
echo 60 >/proc/sys/kernel/watchdog_thresh
echo 1 >/proc/sys/kernel/softlockup_all_cpu_backtrace
echo 1 >/proc/sys/kernel/softlockup_panic
# Keep the scheduler's static keys for KVM's preempt notifiers and for perf on for the whole boot
# (tests/lab/README.md, "TCG and the guest kernel's text patching").
[ -e "${LAB_KMOD%/*}/lab/nv_lab_hold.ko" ] && insmod "${LAB_KMOD%/*}/lab/nv_lab_hold.ko"
[ -x "$LAB_BUILDDIR/tests/lab/nv-hold-keys" ] && "$LAB_BUILDDIR/tests/lab/nv-hold-keys" &
echo "LAB-BOOTED uptime=$(cut -d' ' -f1 /proc/uptime)"
# `# lab: init=systemd`: systemd becomes PID 1 and runs the test as a service (lab-systemd.sh).
[ "${LAB_INIT:-}" = systemd ] && exec /bin/sh "$LAB_SRCDIR/tests/lab/lab-systemd.sh" "$ENVF"
cd /tmp
sh "$LAB_TEST" >"$LAB_OUT/result.tap" 2>&1
rc=$?
sync
echo "LAB-DONE rc=$rc uptime=$(cut -d' ' -f1 /proc/uptime)"
umount "$LAB_OUT"
/bin/busybox poweroff -f
