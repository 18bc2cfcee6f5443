#!/bin/sh
# lab: kernels=6.1,6.12 mem=2048 timeout=900 needs=kmod
# A real nested KVM guest (tests/lab/nv-vmm): its vCPU thread pinned to node 1's CPUs, its RAM
# first touched on node 0, a 16 MiB hot set of 128 MiB touched in a loop by the guest. numavd,
# run from the build dir, finds it through /proc and samples it: Backend=kmod on 6.1, and
# Backend=damon on 6.12 when the DAMON backend exists. Within 10 epochs >= 95% of the hot pages sit
# on node 1, cold pages stay on node 0, and the bytes moved are <= 1.2x the hot bytes.
. "$LAB_SRCDIR/tests/tap.sh"
B=$LAB_BUILDDIR
case $LAB_KVER in
6.1.*) backend=kmod ;;
*) backend=damon ;;
esac
modprobe kvm_amd
check "kvm_amd loads" test -c /dev/kvm
if [ $backend = kmod ]; then
        insmod "$LAB_KMOD"
        ok $? "insmod numavd_ept"
fi
cpus1=$(cat /sys/devices/system/node/node1/cpulist)
"$B/tests/lab/nv-vmm" -m 128 -H 16 -o 32 -c "$cpus1" -n 0 -s /tmp/vmm.status >/tmp/vmm.out 2>&1 &
vmm=$!
i=0
while [ ! -s /tmp/vmm.status ] && [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done
check "the tiny VMM runs its guest (vCPU on node 1's CPUs $cpus1)" test -s /tmp/vmm.status
st() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" /tmp/vmm.status; }
echo "# before: $(cat /tmp/vmm.status)"
[ "$(st hot_n0)" = "$(st hot_total)" ]
ok $? "before numavd: the hot set was first touched on node 0"

cat >/tmp/numavd.conf <<EOC
[Daemon]
Epoch=1s
[Sampler]
Backend=$backend
EOC
"$B/numavd" --config=/tmp/numavd.conf --epochs=10 --summary=json >/tmp/summary.json 2>/tmp/numavd.log
ok $? "numavd --epochs=10 with Backend=$backend exits cleanly"
sed 's/^/# numavd: /' /tmp/numavd.log | grep -v -i debug | head -n 20
sleep 2 # a fresh status line after the last epoch
echo "# after: $(cat /tmp/vmm.status)"
hot_total=$(st hot_total) hot_n1=$(st hot_n1) cold_total=$(st cold_total) cold_n0=$(st cold_n0)
[ $((hot_n1 * 100)) -ge $((hot_total * 95)) ]
ok $? "within 10 epochs >= 95% of the hot pages sit on node 1 ($hot_n1/$hot_total)"
[ $((cold_n0 * 100)) -ge $((cold_total * 95)) ]
ok $? "cold pages stay on node 0 ($cold_n0/$cold_total)"
moved=$(jq '.migratedBytes' /tmp/summary.json 2>/dev/null)
hot_bytes=$((hot_total * 4096))
[ -n "$moved" ] && [ $((moved * 10)) -le $((hot_bytes * 12)) ] && [ "$moved" -gt 0 ]
ok $? "bytes moved <= 1.2x the hot bytes ($moved of $hot_bytes)"
grep -q "VMM\|vms" /tmp/summary.json
ok $? "numavd found the VMM through /proc ($(jq -c '.vms | keys' /tmp/summary.json 2>/dev/null))"
kill $vmm
wait $vmm 2>/dev/null
if [ $backend = kmod ]; then
        rmmod numavd_ept
        ok $? "rmmod numavd_ept after numavd exited"
fi
done_testing
