#!/bin/sh
# lab: kernels=6.1 mem=2048 timeout=600
# The dirty rate (src/sampler/dirty-rate.c) on Debian's 6.1 kernel, which has CONFIG_MEM_SOFT_DIRTY.
# 1. tests/test-dirty-rate, whose real-measurement part runs only where soft-dirty exists.
# 2. A known rate: tests/lab/nv-dirty-writer dirties 8 MiB/s of distinct pages of its 128 MiB of
#    guest RAM, in one contiguous band per interval (it wraps around only every 16 s). numavd runs
#    with DirtyRateInterval=4500ms, so an interval spans 5 epochs (~5 s, 40 MiB dirtied). Error
#    budget, 10% in all: numavd samples 32 evenly spaced pages per region (4 MiB regions: every
#    128 KiB), so a contiguous band is counted within +-2 samples, +-256 KiB of 40 MiB (0.7%); the
#    writer may fall behind its schedule by ~100 ms under TCG and catch up (2%); and numavd stamps
#    an interval's start before it reads the samples and clears the bits again, so writes in
#    between are cleared unseen while their time counts (reading and clearing took 0.06-0.1 s
#    under TCG: 2%). Measured: -0.3% (8368051 B/s).
# 3. A real guest's writes, through nested KVM: the tiny VMM's vCPU rewrites its 8 MiB hot set
#    thousands of times a second, so each interval dirties exactly the hot set (plus the page of
#    its pass counter) whatever its length: numavd's rate is that over the interval it measured.
#    With DirtyRateInterval=1500ms the interval is the second epoch after the clear: 2 s plus the
#    epoch's jitter under TCG (up to +15% seen), never less; sampling adds +-2 samples of ~140 KiB
#    against 8 MiB (3.5%). Accepted: 8 MiB per 2 s, -15% .. +5%. Soft-dirty sees guest writes
#    because clearing it write-protects the VMM's pages and KVM's MMU notifier drops its mappings
#    of them, so the guest's next write faults through the host's page tables.
# Placement=no in both: numavd's own page moves would count as writes (see the end of part 2).
. "$LAB_SRCDIR/tests/tap.sh"
B=$LAB_BUILDDIR
MIB=1048576

# 1. The unit test, with its real part.
"$B/tests/test-dirty-rate" >/tmp/tdr.tap 2>&1
rc=$?
while IFS= read -r l; do
        case $l in
        "ok "*) ok 0 "test-dirty-rate: ${l#ok * - }" ;;
        "not ok "*) ok 1 "test-dirty-rate: ${l#not ok * - }" ;;
        esac
done </tmp/tdr.tap
ok $rc "test-dirty-rate exits 0"
grep -q '^ok .* real: exactly the quarter written since the clear is dirty$' /tmp/tdr.tap
ok $? "test-dirty-rate's real measurement ran (not skipped) on $LAB_KVER"
grep -q '^CONFIG_MEM_SOFT_DIRTY=y' "/boot/config-$LAB_KVER"
ok $? "and /boot/config-$LAB_KVER agrees: CONFIG_MEM_SOFT_DIRTY=y (no /proc/config.gz in Debian's kernels)"

modprobe kvm_amd
check "kvm_amd loads: /dev/kvm (nested SVM)" test -c /dev/kvm

cat >/tmp/numavd.conf <<EOC
[Daemon]
Epoch=1s
Sources=proc
[Sampler]
Backend=none
DirtyRateInterval=@INTERVAL@
[Placement]
Placement=@PLACEMENT@
[KSM]
KSM=no
[Balloon]
Balloon=no
EOC
# numavd's last dirtyRate for the one VM, in bytes per second (integer)
measure() { # what interval epochs [placement]
        sed "s/@INTERVAL@/$2/; s/@PLACEMENT@/${4:-no}/" /tmp/numavd.conf >/tmp/$1.conf
        "$B/numavd" --varlink=no --config=/tmp/$1.conf --epochs=$3 --summary=json >/tmp/$1.json 2>/tmp/$1.log
        ok $? "numavd runs $3 epochs next to the $1 (DirtyRateInterval=$2; uptime $(cut -d' ' -f1 /proc/uptime) s)"
        jq -r '.vms[] | .dirtyRate // "null"' /tmp/$1.json | head -n1 | sed 's/\..*//' >/tmp/$1.rate
        echo "# $1: dirtyRate=$(cat /tmp/$1.rate) regions=$(jq -c "[.vms[].regions]" /tmp/$1.json) unavailable=$(jq -c "[.vms[].dirtyRateUnavailable]" /tmp/$1.json)"
}
within() { # measured expected -percent +percent
        [ -n "$1" ] && [ "$1" != null ] && [ $(($1 * 100)) -ge $(($2 * (100 - $3))) ] &&
                [ $(($1 * 100)) -le $(($2 * (100 + $4))) ]
}

# 2. A known rate.
"$B/tests/lab/nv-dirty-writer" -m 128 -r 8 -s /tmp/writer.status >/tmp/writer.out 2>&1 &
w=$!
i=0
while [ ! -s /tmp/writer.status ] && [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); done
check "the writer runs ($(cat /tmp/writer.out))" test -s /tmp/writer.status
measure writer 4500ms 8
rate=$(cat /tmp/writer.rate)
within "$rate" $((8 * MIB)) 10 10
ok $? "numavd's dirty rate is the writer's 8 MiB/s within 10% ($rate B/s)"
st=$(cat /tmp/writer.status)
echo "# writer: $st"
pages=$(echo "$st" | sed -n 's/.*pages=\([0-9]*\).*/\1/p')
ms=$(echo "$st" | sed -n 's/.*seconds=\([0-9]*\)\.\([0-9]*\).*/\1\2/p')
within "$pages" $((2048 * ms / 1000)) 1 1
ok $? "the writer kept its rate: $pages pages in $ms ms (2048 pages/s)"
# Known issue, shown and not checked: while numavd moves a VM's pages, the moves count as writes.
# Migrating a dirty page maps the new one with pte_mkdirty(), which on x86 sets the soft-dirty bit
# too (seen: 24.8 MB/s for this writer's 8 MiB/s while numavd moved its 128 MiB). Whether numavd
# moves anything here depends on where the writer's unpinned thread ran.
measure writer-moving 4500ms 8 yes
echo "# with Placement=yes numavd moved $(jq .migratedBytes /tmp/writer-moving.json) bytes and measured" \
        "$(cat /tmp/writer-moving.rate) B/s for the writer's 8 MiB/s"
kill $w
wait $w 2>/dev/null

# 3. A real guest writing through nested KVM.
cpus1=$(cat /sys/devices/system/node/node1/cpulist)
"$B/tests/lab/nv-vmm" -m 128 -H 8 -o 32 -c "$cpus1" -s /tmp/vmm.status >/tmp/vmm.out 2>&1 &
vmm=$!
i=0
while [ ! -s /tmp/vmm.status ] && [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done
check "the tiny VMM runs its guest" test -s /tmp/vmm.status
p0=$(sed -n 's/.*passes=\([0-9]*\).*/\1/p' /tmp/vmm.status)
measure guest 1500ms 7
p1=$(sed -n 's/.*passes=\([0-9]*\).*/\1/p' /tmp/vmm.status)
echo "# guest: $((p1 - p0)) passes over its hot set while numavd ran"
rate=$(cat /tmp/guest.rate)
within "$rate" $(((8 * MIB + 4096) / 2)) 15 5
ok $? "numavd's dirty rate is the guest's 8 MiB hot set per 2 s interval, -15%..+5% ($rate B/s)"
kill $vmm
wait $vmm 2>/dev/null
done_testing
