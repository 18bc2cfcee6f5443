#!/bin/sh
# Usage: l2-mkinitramfs.sh OUT.cpio.gz L2_TOUCH
# The initramfs of the L2 Linux in t-l2.sh: static busybox and the static workload L2_TOUCH
# (tests/lab/l2-touch). Its init turns transparent huge pages on, keeps the L2 kernel from moving
# the workload's pages by itself (khugepaged and proactive compaction idle), prints L2-READY and
# runs the workload with l2.hot=MIB and l2.cold=MIB from the kernel command line; l2.private=MIB
# runs it with -P MIB instead of the hot set (one private set per vCPU, t-l2-attrib.sh). No
# modules: the serial console and pagemap are built in.
set -eu
OUT=$1 TOUCH=$2
R=$(mktemp -d)
trap 'rm -rf "$R"' EXIT
mkdir -p "$R/bin" "$R/proc" "$R/sys" "$R/dev"
cp /bin/busybox "$R/bin/busybox"
cp "$TOUCH" "$R/bin/l2-touch"
cat >"$R/init" <<'EOI'
#!/bin/busybox sh
B=/bin/busybox
$B mount -t proc proc /proc; $B mount -t sysfs sys /sys; $B mount -t devtmpfs dev /dev
T=/sys/kernel/mm/transparent_hugepage
echo always >$T/enabled # the 6.1 default (6.12's is never): the sets are whole 2 MiB frames
echo 3600000 >$T/khugepaged/scan_sleep_millisecs; echo 3600000 >$T/khugepaged/alloc_sleep_millisecs
echo 0 >/proc/sys/vm/compaction_proactiveness 2>/dev/null
HOT=32 COLD=128 PRIV=
for a in $($B cat /proc/cmdline); do
        case $a in
        l2.hot=*) HOT=${a#l2.hot=} ;;
        l2.cold=*) COLD=${a#l2.cold=} ;;
        l2.private=*) PRIV=${a#l2.private=} ;;
        esac
done
echo "L2-READY uptime=$($B cut -d' ' -f1 /proc/uptime) thp=$($B cat $T/enabled) cpus=$($B nproc)"
if [ -n "$PRIV" ]; then
        /bin/l2-touch -P "$PRIV" -C "$COLD"
else
        /bin/l2-touch -H "$HOT" -C "$COLD"
fi
echo "L2-FAILED rc=$?"
$B poweroff -f
EOI
chmod +x "$R/init"
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) >"$OUT"
