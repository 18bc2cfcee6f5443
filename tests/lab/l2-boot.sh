# Sourced by the lab's L2 tests (t-l2.sh, t-l2-attrib.sh), which set MEM (MiB) and kimg (the
# kernel image) and build /tmp/l2-initrd.cpio.gz first.
#
# l2_boot SMP APPEND: QEMU -accel kvm with a real L2 Linux of SMP vCPUs, APPEND added to its
# command line, bound to node 0 (numactl --membind=0 --cpunodebind=0) so that everything the L2
# touches is first touched there. Its console goes to /tmp/l2.log and QEMU's own output to
# /tmp/qemu.log; QEMU's pid is left in qp and the start (seconds of uptime) in t0. Waits until the
# L2's workload has mapped its memory (L2-MAP-END); fails when it has not within 240 s or QEMU
# ended (panic=-1 with -no-reboot ends it on a panic).
l2_boot() {
        rm -f /tmp/l2.log
        t0=$(cut -d' ' -f1 /proc/uptime)
        numactl --membind=0 --cpunodebind=0 qemu-system-x86_64 -name l2,debug-threads=on -accel kvm \
                -cpu host -smp "$1" -m "$MEM" -nodefaults -nographic -no-reboot -monitor none \
                -serial file:/tmp/l2.log -kernel "$kimg" -initrd /tmp/l2-initrd.cpio.gz \
                -append "console=ttyS0 panic=-1 quiet $2" >/tmp/qemu.log 2>&1 &
        qp=$!
        i=0
        while ! grep -q '^L2-MAP-END' /tmp/l2.log 2>/dev/null && [ $i -lt 240 ] && kill -0 $qp 2>/dev/null; do
                sleep 1
                i=$((i + 1))
        done
        grep -q '^L2-MAP-END' /tmp/l2.log
}
