#!/bin/sh
# lab: kernels=6.1 mem=2048 timeout=900 needs=kmod
# Harvest accuracy and cost (issue 4 item 6): the tiny VMM's guest touches random pages; one
# HARVEST over its 128 MiB is compared with them, at 4 KiB and 2 MiB, with and without flush.
# Results: bench/lab-harvest.txt in the build dir.
. "$LAB_SRCDIR/tests/tap.sh"
B=$LAB_BUILDDIR
out=$LAB_OUT/bench-lab-harvest.txt
modprobe kvm_amd
insmod "$LAB_KMOD"
ok $? "insmod numavd_ept"
echo "# numavd_ept harvest accuracy, kernel $LAB_KVER, QEMU TCG lab with nested SVM, $(date -u +%F)" >"$out"
"$B/tests/lab/nv-vmm" -b "$out" -m 128 -r 3 -c "$(cat /sys/devices/system/node/node1/cpulist)"
ok $? "the benchmark ran"
sed 's/^/# /' "$out"
line=$(grep 'block=2M flush=yes' "$out")
p=$(echo "$line" | sed -n 's/.*precision=\([0-9.]*\).*/\1/p')
r=$(echo "$line" | sed -n 's/.*recall=\([0-9.]*\).*/\1/p')
awk -v p="$p" -v r="$r" 'BEGIN { exit !(p >= 0.95 && r >= 0.95) }'
ok $? "2 MiB with flush: precision $p and recall $r are >= 95%"
grep -q 'block=4K flush=yes ran=flush' "$out"
ok $? "the reply says the flushing variant ran when asked"
rmmod numavd_ept
ok $? "rmmod numavd_ept"
done_testing
