#!/bin/sh
# lab: kernels=6.1,6.12 mem=2048 timeout=900 needs=kmod
# Which vCPU touches which page, through numavd_ept's ZAP and DRAIN: the tiny VMM runs two vCPUs,
# pinned to the two nodes, each touching its own half of 64 MiB; every page is zapped again and
# again and the drained faults are checked against that truth. Also the cost: a zap, the faults per
# second and the guest's progress with zapping (all pages, and a 1/16 sample) against none. Then
# numavd's kmod attribution sampler (tests/lab/nv-attr-port) on the tiny VMM.
# Results: bench/lab-attrib-SERIES.txt in the build dir.
. "$LAB_SRCDIR/tests/tap.sh"
B=$LAB_BUILDDIR
series=${LAB_KVER%%.*}.$(echo "$LAB_KVER" | cut -d. -f2)
out=$LAB_OUT/bench-lab-attrib-$series.txt
modprobe kvm_amd
check "kvm_amd loads: /dev/kvm exists (nested SVM)" test -c /dev/kvm
ref0=$(cat /sys/module/kvm_amd/refcnt)
dmesg -C
insmod "$LAB_KMOD"
ok $? "insmod numavd_ept ($LAB_KVER)"
echo "# numavd_ept fault attribution, kernel $LAB_KVER, QEMU TCG lab with nested SVM, $(date -u +%F)" >"$out"
n0=$(cat /sys/devices/system/node/node0/cpulist)
n1=$(cat /sys/devices/system/node/node1/cpulist)
"$B/tests/lab/nv-vmm" -a "$out" -m 64 -t 8 -c "$n0" -C "$n1"
ok $? "nv-vmm -a ran: two vCPUs on CPUs $n0 (node 0) and $n1 (node 1)"
sed 's/^/# /' "$out"

val() { # LINE-PATTERN KEY
        grep "$1" "$out" | sed -n "s/.* $2=\([0-9.]*\).*/\1/p" | head -n1
}
for h in 0 1; do
        v=$(val "attrib half=$h" right_vcpu)
        n=$(val "attrib half=$h" right_node)
        c=$(val "attrib half=$h" coverage)
        awk -v v="$v" -v n="$n" 'BEGIN { exit !(v >= 0.99 && n >= 0.99) }'
        ok $? "half $h: >= 99% of its faults on vCPU $h ($v) and on node $h's CPUs ($n)"
        awk -v c="$c" 'BEGIN { exit !(c >= 0.99) }'
        ok $? "half $h: >= 99% of its pages were seen faulting ($c)"
done
check "no fault recorded outside the guest's data" test "$(val '^records' outside)" = 0
check "guest data intact: no page differs from its pattern" test "$(val '^integrity' pages_differing)" = 0
s=$(val 'phase=sample' right_vcpu)
awk -v s="$s" 'BEGIN { exit !(s >= 0.99) }'
ok $? "a 1/16 sample, re-armed, attributes as well ($s)"
check "the module re-arms zaps (ABI 1.2)" test "$(val 'phase=sample' rearm)" = 1
b=$(val 'phase=sample' records_per_block)
awk -v b="$b" 'BEGIN { exit !(b <= 1) }'
ok $? "re-armed, a page one vCPU writes is recorded once per zap at most ($b records per block)"
# Half 0 written by both vCPUs in step: re-armed, both are heard, as often as each other.
for k in first rearm; do
        echo "# shared, $k: vCPU 1's share $(val "phase=$k" vcpu1_share), records per block $(val "phase=$k" records_per_block)"
done
b=$(val 'phase=rearm' records_per_block)
v=$(val 'phase=rearm' vcpu1_share)
awk -v b="$b" -v v="$v" 'BEGIN { exit !(b >= 1.2 && b <= 2 && v >= 0.4 && v <= 0.6) }'
ok $? "shared, re-armed: 1.2-2 records per block ($b), vCPU 1 makes 40-60% of them ($v)"

# The sampler numavd uses, on the tiny VMM with its vCPU on node 1: addresses, vCPU and node.
"$B/tests/lab/nv-attr-port" "$B/tests/lab/nv-vmm" "$n1" 1

rmmod numavd_ept
ok $? "rmmod numavd_ept"
ref1=$(cat /sys/module/kvm_amd/refcnt)
check "kvm_amd's reference count is back to $ref0 ($ref1)" test "$ref1" = "$ref0"
if dmesg | grep -E -i 'BUG:|WARNING:|Oops|general protection|refcount_t|Call Trace|use-after-free'; then
        ok 1 "dmesg is free of oopses and warnings"
else
        ok 0 "dmesg is free of oopses and warnings"
fi
done_testing
