#!/bin/sh
# lab: kernels=6.1,6.12 mem=1024 timeout=300 needs=kmod
# numavd_ept reads kvm_amd's and kvm_intel's parameters by their registered names. The lab's guests
# have SVM but no VMX, so kvm_intel cannot load here: a test module registers parameters as svm.c
# and vmx.c do, and answers through numavd_ept's own lookup what numavd_ept would read. The names
# themselves are checked against the kernel's real kvm-intel.ko and kvm-amd.ko.
. "$LAB_SRCDIR/tests/tap.sh"
ko=$(dirname "$LAB_KMOD")/lab/nv_param_test.ko
check "the parameter test module built ($ko)" test -e "$ko"

# Every name the module looks up is a bool parameter of the real vendor module of this kernel.
names=$(sed -n 's/^#define NV_EPT_PARAM_\([A-Z]*\)_[A-Z_]* *"\([a-z_]*\)".*/\1 \2/p' "$LAB_SRCDIR/kernel/numavd_ept_param.h")
[ -n "$names" ]
ok $? "kernel/numavd_ept_param.h names the parameters it looks up"
set -- $names
while [ $# -ge 2 ]; do
        case $1 in
        AMD) mod=kvm-amd ;;
        *) mod=kvm-intel ;;
        esac
        modinfo -F parmtype "$mod" | grep -qx "$2:bool"
        ok $? "$mod of $LAB_KVER has the bool parameter '$2'"
        shift 2
done

lookup_is() { # expected description
        got=$(cat /sys/module/nv_param_test/parameters/lookup)
        [ "$got" = "$1" ]
        ok $? "$2 (got '$got')"
}
insmod "$ko" npt=1 ept=1 eptad=1
ok $? "insmod nv_param_test npt=1 ept=1 eptad=1"
lookup_is "npt=1 ept=1 eptad=1" "the lookup reads npt, ept and eptad as set"
rmmod nv_param_test
insmod "$ko" npt=0 ept=1 eptad=0
ok $? "insmod nv_param_test npt=0 ept=1 eptad=0"
lookup_is "npt=0 ept=1 eptad=0" "the lookup reads eptad=0 (a name it does not find would read 1)"
rmmod nv_param_test
ok $? "rmmod nv_param_test"
done_testing
