#!/bin/sh
# lab: kernels=6.1,6.12 mem=2048 timeout=300 needs=kmod
# numavd_ept loads, survives thousands of random and invalid ioctls and VMMs killed mid-harvest,
# drops every reference, unloads, and leaves dmesg free of oopses and warnings.
. "$LAB_SRCDIR/tests/tap.sh"
B=$LAB_BUILDDIR
modprobe kvm_amd
check "kvm_amd loads: /dev/kvm exists (nested SVM)" test -c /dev/kvm
ref0=$(cat /sys/module/kvm_amd/refcnt)
dmesg -C
insmod "$LAB_KMOD"
ok $? "insmod numavd_ept ($LAB_KVER)"
check "/dev/numavd_ept exists" test -c /dev/numavd_ept
# Root without CAP_SYS_ADMIN is refused.
setpriv --bounding-set=-sys_admin --inh-caps=-sys_admin -- sh -c 'exec 3<>/dev/numavd_ept' 2>/dev/null
[ $? -ne 0 ]
ok $? "opening without CAP_SYS_ADMIN is refused"

"$B/tests/lab/nv-ept-fuzz" "$B/tests/lab/nv-vmm" 5000 12

vms=$(ls /sys/kernel/debug/kvm 2>/dev/null | grep -c -E '^[0-9]+-[0-9]+$')
[ "$vms" -eq 0 ]
ok $? "no VM is left in KVM's debugfs: every VM reference was dropped ($vms left)"
ref1=$(cat /sys/module/kvm_amd/refcnt)
[ "$ref1" = "$ref0" ]
ok $? "kvm_amd's reference count is back to $ref0 ($ref1)"
check "numavd_ept's reference count is 0" test "$(cat /sys/module/numavd_ept/refcnt)" = 0
rmmod numavd_ept
ok $? "rmmod numavd_ept"
check "/dev/numavd_ept is gone" test ! -e /dev/numavd_ept
dmesg >/tmp/dmesg.txt
if grep -E -i 'BUG:|WARNING:|Oops|general protection|refcount_t|Call Trace|kmemleak|use-after-free' /tmp/dmesg.txt; then
        ok 1 "dmesg is free of oopses, warnings and leak reports"
else
        ok 0 "dmesg is free of oopses, warnings and leak reports"
fi
done_testing
