#!/bin/sh
# lab: kernels=6.1,6.12 mem=2048 timeout=420 needs=kmod
# A real L2 Linux (Debian's kernel, the lab's own image, with a busybox initramfs) under
# qemu-system-x86_64 -accel kvm inside the lab, running tests/lab/l2-touch: a 32 MiB hot set written
# in a loop and a 128 MiB cold set written once, in 384 MiB of guest RAM. QEMU starts bound to node
# 0 (numactl --membind=0 --cpunodebind=0), so everything the L2 touches is first touched there; once
# the workload runs, its vCPU thread is pinned to node 1's CPUs. numavd, from the build dir, finds
# QEMU through /proc (its KVM VM fd) and samples it, Backend=kmod on 6.1 and Backend=damon on 6.12.
# Within 10 epochs >= 95% of the hot set sits on node 1 and >= 95% of the cold set is still on node
# 0. 10 epochs, as for the tiny VMM (t-kmod-numavd): the first epoch only learns the VM's heat, the
# hot set is hot from the second on and its 32 MiB fit one epoch of the default 256 MiB/s budget;
# in the lab both backends moved it in epoch 2, so 10 leaves a wide margin for a noisy TCG lab,
# while 15 would only add ~10 s of lab time. Where each page sits is measured independently of
# numavd: the workload reports its guest frames (pagemap), tests/lab/l2-where asks move_pages(2)
# about the matching pages of QEMU's guest RAM. Bytes moved are checked against where they ended
# up (none wasted), not against the hot set alone: the L2 kernel's own hot memory moves too.
. "$LAB_SRCDIR/tests/tap.sh"
. "$LAB_SRCDIR/tests/lab/l2-boot.sh"
B=$LAB_BUILDDIR
EPOCHS=10 HOT=32 COLD=128 MEM=384
case $LAB_KVER in
6.1.*) backend=kmod ;;
*) backend=damon ;;
esac
since() { awk -v t="$1" '{ printf "%.1f", $1 - t }' /proc/uptime; }
qp=
cleanup() {
        [ -n "$qp" ] && kill "$qp" 2>/dev/null && wait "$qp" 2>/dev/null
        qp=
}
trap cleanup EXIT

modprobe kvm_amd
check "kvm_amd loads" test -c /dev/kvm
if [ $backend = kmod ]; then
        insmod "$LAB_KMOD"
        ok $? "insmod numavd_ept"
fi
kimg=${LAB_MODROOT%/}/boot/vmlinuz-$LAB_KVER
"$LAB_SRCDIR/tests/lab/l2-mkinitramfs.sh" /tmp/l2-initrd.cpio.gz "$B/tests/lab/l2-touch"
ok $? "the L2 initramfs builds (busybox, l2-touch)"
cpus0=$(cat /sys/devices/system/node/node0/cpulist)
cpus1=$(cat /sys/devices/system/node/node1/cpulist)

l2_boot 1 "l2.hot=$HOT l2.cold=$COLD"
check "the L2 Linux boots under -accel kvm and its workload runs" grep -q '^L2-MAP-END' /tmp/l2.log
echo "# L2 workload running after $(since "$t0") s:" \
        "$(grep -ao 'L2-READY.*' /tmp/l2.log)"
sed 's/^/# qemu: /' /tmp/qemu.log | head -n 5

# The vCPU's thread (named by debug-threads=on, as libvirt does) moves to node 1's CPUs.
vcpu=
for t in /proc/$qp/task/*; do
        [ "$(cat "$t/comm" 2>/dev/null)" = "CPU 0/KVM" ] && vcpu=${t##*/}
done
[ -n "$vcpu" ] && taskset -pc "$cpus1" "$vcpu" >/dev/null
ok $? "the L2's vCPU thread ($vcpu) pinned to node 1's CPUs $cpus1"

# where [-q [hot]]: the latest frames the workload reported, then l2-where's counts (-q: only the
# sets' pages; hot: only the hot set's); field LABEL NAME reads them.
where() {
        gen=$(sed -n 's/^L2-MAP-END gen=\([0-9]*\).*/\1/p' /tmp/l2.log | tail -n1)
        awk -v g="$gen" -v l="${2:-.}" '$1 == "L2-RANGE" && $2 == g && $3 ~ l { print $3, $4, $5 }' \
                /tmp/l2.log >/tmp/l2.ranges
        "$B/tests/lab/l2-where" $1 $qp $((MEM << 20)) /tmp/l2.ranges >/tmp/where.txt
}
field() {
        awk -v l="$1" -v k="$2=" '$1 == l { for (i = 2; i <= NF; i++)
                if (index($i, k) == 1) print substr($i, length(k) + 1) }' /tmp/where.txt
}
where
ok $? "l2-where finds QEMU's $MEM MiB of guest RAM ($(head -n1 /tmp/where.txt))"
sed 's/^/# before: /' /tmp/where.txt
[ "$(field hot node0)" -gt 0 ] 2>/dev/null && [ "$(field hot node0)" = "$(field hot present)" ] &&
        [ "$(field hot present)" = "$(field hot pages)" ]
ok $? "before numavd: the hot set is resident on node 0 ($(field hot node0)/$(field hot pages) pages)"

cat >/tmp/numavd.conf <<EOC
[Daemon]
Epoch=1s
Sources=proc
[Sampler]
Backend=$backend
EOC
t1=$(cut -d' ' -f1 /proc/uptime)
# numavd runs in the background (its --watch lines unbuffered) while l2-where looks once a second:
# the first time >= 95% of the hot set is on node 1, `reached` is the epoch in progress.
stdbuf -oL taskset -c "$cpus0" "$B/numavd" --config=/tmp/numavd.conf --epochs=$EPOCHS --watch \
        --summary=json --varlink=no >/tmp/numavd.out 2>/tmp/numavd.log &
np=$!
reached= reached_s=
while kill -0 $np 2>/dev/null; do
        if [ -z "$reached" ] && where -q hot 2>/dev/null && h=$(field hot pages) h1=$(field hot node1); then
                e=$(($(grep -c '^epoch' /tmp/numavd.out) + 1))
                echo "# poll: $(since "$t1") s, epoch $e: hot set on node 1 ${h1:-?}/${h:-?} pages"
                if [ "${h:-0}" -gt 0 ] && [ $((${h1:-0} * 100)) -ge $((h * 95)) ]; then
                        reached=$e reached_s=$(since "$t1")
                fi
        fi
        sleep 1
done
wait $np
ok $? "numavd --epochs=$EPOCHS with Backend=$backend exits cleanly"
secs=$(since "$t1")
grep -v -i debug /tmp/numavd.log | head -n 10 | sed 's/^/# numavd: /'
grep '^epoch' /tmp/numavd.out | sed 's/^/# /'
sed -n '/^{/,$p' /tmp/numavd.out >/tmp/summary.json
grep -a '^L2-RATE' /tmp/l2.log | tail -n 2 | sed 's/^/# /'
cp /tmp/l2.log /tmp/numavd.out /tmp/numavd.log "$LAB_OUT/" 2>/dev/null

where
sed 's/^/# after: /' /tmp/where.txt
hot=$(field hot pages) hot1=$(field hot node1) cold=$(field cold pages) cold0=$(field cold node0)
hot=${hot:-0} hot1=${hot1:-0} cold=${cold:-0} cold0=${cold0:-0} other1=$(field other node1)
[ "$hot" -gt 0 ] && [ $((hot1 * 100)) -ge $((hot * 95)) ]
ok $? "within $EPOCHS epochs >= 95% of the L2's hot set sits on node 1 ($hot1/$hot pages)"
[ "$cold" -gt 0 ] && [ $((cold0 * 100)) -ge $((cold * 95)) ]
ok $? "the L2's cold set stays on node 0 ($cold0/$cold pages)"
json_true /tmp/summary.json '.vms | to_entries | map(select(.value.pid == '"$qp"')) | length == 1'
ok $? "numavd found QEMU through /proc ($(jq -c '.vms | keys' /tmp/summary.json 2>/dev/null))"
moved=$(jq '.migratedBytes' /tmp/summary.json 2>/dev/null)
vm_hot=$(jq '[.vms[].hotBytes] | add' /tmp/summary.json 2>/dev/null)
pingpong=$(jq '[.vms[].pingPongBytes] | add' /tmp/summary.json 2>/dev/null)
on1=$(($(field all node1) * 4096))
[ -n "$moved" ] && [ "$moved" -ge $((HOT << 20)) ] && [ $((moved * 10)) -le $((on1 * 12)) ] &&
        [ "$pingpong" = 0 ]
ok $? "bytes moved >= the hot set, <= 1.2x the L2 RAM now on node 1, none back and forth" \
        "($moved moved, $on1 on node 1, hot set $((HOT << 20)), numavd's hot $vm_hot, ping-pong $pingpong)"
echo "# numavd: $EPOCHS epochs in $secs s; memoryPerNode $(jq -c '.vms[].memoryPerNode' /tmp/summary.json)"
echo "# L2 resident outside the two sets (kernel, page cache):" \
        "node0=$(field other node0) node1=$other1 pages"
[ -n "$reached" ]
ok $? "l2-where saw >= 95% of the hot set on node 1 during epoch ${reached:-?}" \
        "(${reached_s:-?} s after numavd started)"
{
        echo "t-l2 ($LAB_KVER, Backend=$backend): L2 Linux, $MEM MiB," \
                "hot set $HOT MiB written in a loop, cold set $COLD MiB"
        echo "hot set on node 1: $hot1/$hot pages at the end;" \
                ">= 95% during epoch ${reached:-?}, ${reached_s:-?} s after numavd started"
        echo "cold set on node 0: $cold0/$cold pages"
        echo "other L2 memory (kernel, page cache), resident: node0=$(field other node0) node1=$other1 pages"
        echo "numavd: $EPOCHS epochs in $secs s; moved $moved bytes (on node 1 at the end: $on1);" \
                "found hot $vm_hot bytes; ping-pong $pingpong"
        echo "L2 workload: $(grep -a '^L2-RATE' /tmp/l2.log | tail -n 1)"
} >"$LAB_OUT/bench-lab-l2-$backend.txt"

old=$qp
cleanup
! kill -0 "$old" 2>/dev/null
ok $? "QEMU and its L2 are gone"
if [ $backend = kmod ]; then
        rmmod numavd_ept
        ok $? "rmmod numavd_ept after numavd and QEMU exited"
fi
done_testing
