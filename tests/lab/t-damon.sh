#!/bin/sh
# lab: kernels=6.12 mem=2048 timeout=600
# The DAMON backend (src/sampler/backend-damon.c) on Debian's 6.12 kernel (DAMON vaddr =y) against
# a real nested KVM guest, the tiny VMM: a 16 MiB hot set in 128 MiB of data. numavd with
# Backend=damon creates one vaddr kdamond whose target is the VMM and whose regions lie in its
# guest RAM; it reports the hot set hot and the rest cold; when it exits, no kdamond is left and
# its record in /run/numavd is gone; after a SIGKILL the next start stops the stale kdamond; and a
# kdamond numavd did not create is left alone.
. "$LAB_SRCDIR/tests/tap.sh"
B=$LAB_BUILDDIR
A=/sys/kernel/mm/damon/admin/kdamonds
REC=/run/numavd/damon-kdamonds
MIB=1048576

check "DAMON's sysfs interface is there ($A)" test -r $A/nr_kdamonds
check "no kdamond runs before numavd" test "$(cat $A/nr_kdamonds)" = 0
modprobe kvm_amd
check "kvm_amd loads: /dev/kvm (nested SVM)" test -c /dev/kvm
cpus1=$(cat /sys/devices/system/node/node1/cpulist)
"$B/tests/lab/nv-vmm" -m 128 -H 16 -o 32 -c "$cpus1" -n 0 -s /tmp/vmm.status >/tmp/vmm.out 2>&1 &
vmm=$!
i=0
while [ ! -s /tmp/vmm.status ] && [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done
check "the tiny VMM runs its guest" test -s /tmp/vmm.status
# "ready pid=P ram=0x... data=0x... hot=[0x...,0x...)"
ram=$(sed -n 's/.* ram=\(0x[0-9a-f]*\).*/\1/p' /tmp/vmm.out)
hot_lo=$(sed -n 's/.* hot=\[\(0x[0-9a-f]*\),.*/\1/p' /tmp/vmm.out)
hot_hi=$(sed -n 's/.* hot=\[0x[0-9a-f]*,\(0x[0-9a-f]*\)).*/\1/p' /tmp/vmm.out)
ram_lo=$((ram)) ram_hi=$((ram + (4 + 128) * MIB)) hot_lo=$((hot_lo)) hot_hi=$((hot_hi))
hot=$((hot_hi - hot_lo))
echo "# VMM pid $vmm: guest RAM [$ram_lo, $ram_hi), hot set [$hot_lo, $hot_hi) ($((hot / MIB)) MiB)"

cat >/tmp/numavd.conf <<EOC
[Daemon]
Epoch=1s
Sources=proc
[Sampler]
Backend=damon
[KSM]
KSM=no
[Balloon]
Balloon=no
EOC
start() { # epochs output-prefix: numavd in the background, its own pid in $daemon (a function
        # run with & would put a shell between, and a SIGKILL to that shell leaves numavd running)
        "$B/numavd" --varlink=no --config=/tmp/numavd.conf --epochs="$1" --summary=json >"/tmp/$2.json" 2>"/tmp/$2.log" &
        daemon=$!
}
run() { # epochs output-prefix: numavd in the foreground
        start "$@"
        wait $daemon
}
wait_on() { # wait until kdamond 0 runs, at most 30 s (one read decides: numavd may rebuild its
        # kdamonds right after starting them, so a second read can catch one stopped again)
        i=0
        while [ "$(cat $A/0/state 2>/dev/null)" != on ]; do
                [ $i -ge 300 ] && return 1
                sleep 0.1
                i=$((i + 1))
        done
}

# 1. A normal run, watched from outside while it runs.
start 16 run1
wait_on
ok $? "numavd starts a kdamond for the VM"
check "one kdamond, numavd's ($(cat $A/nr_kdamonds))" test "$(cat $A/nr_kdamonds)" = 1
check "its context monitors virtual addresses (vaddr)" test "$(cat $A/0/contexts/0/operations)" = vaddr
check "its target is the VMM's pid" test "$(cat $A/0/contexts/0/targets/0/pid_target)" = "$vmm"
r0=$(cat $A/0/contexts/0/targets/0/regions/0/start) r1=$(cat $A/0/contexts/0/targets/0/regions/0/end)
# The mapping that holds the guest RAM, as the kernel shows it. (The kernel may merge the vCPU thread's
# stack, allocated right below with the same flags, into it: numavd cannot tell them apart either.)
vma=$(awk -v a="$(printf %x $ram_lo)" '{ split($1, r, "-"); if (length(r[1]) == length(a) && r[1] <= a &&
        (length(r[2]) > length(a) || r[2] > a)) print $1 }' /proc/$vmm/maps)
echo "# the VMM's mapping holding guest RAM: $vma ($(( (0x${vma#*-} - 0x${vma%-*}) / MIB )) MiB)"
[ "$(printf '%x-%x' "$r0" "$r1")" = "$vma" ] && [ "$r1" = "$ram_hi" ]
ok $? "its one initial region is exactly that guest RAM mapping ($r0-$r1)"
ram_lo=$r0
check "the kdamond is recorded in $REC with the VMM's pid" grep -qx "kdamond 0 $vmm" $REC
sleep 6
# DAMON's own regions, as numavd last had them updated: all inside guest RAM; the hot set's bytes
# in regions accessed at least half of the time, the rest's in regions accessed at most a tenth.
max=$(( $(cat $A/0/contexts/0/monitoring_attrs/intervals/aggr_us) / $(cat $A/0/contexts/0/monitoring_attrs/intervals/sample_us) ))
T=$A/0/contexts/0/schemes/0/tried_regions
# numavd rebuilds tried_regions every epoch: read until a snapshot covers the whole RAM.
snapshot() {
        i=0
        while [ $i -lt 10 ]; do
                # one process reads them all, between two of numavd's updates: "DIR/N/FILE:VALUE"
                grep -H . "$T"/*/start "$T"/*/end "$T"/*/nr_accesses 2>/dev/null | awk -F: '
                        { n = split($1, p, "/"); v[p[n - 1], p[n]] = $2; ids[p[n - 1]] = 1 }
                        END { for (i in ids) print v[i, "start"], v[i, "end"], v[i, "nr_accesses"] }' >/tmp/regions.txt
                [ "$(awk '{ s += $2 - $1 } END { printf "%.0f", s }' /tmp/regions.txt)" = $((ram_hi - ram_lo)) ] && return
                i=$((i + 1))
                sleep 0.3
        done
}
# A snapshot holds one aggregation interval's counts. Under TCG on a loaded machine the guest's
# vCPU can be starved for a whole interval, so its hot set reads cold then: take up to five
# snapshots an epoch apart and judge the first in which the hot set shows.
tries=0
while :; do
        snapshot
        awk -v lo=$ram_lo -v hi=$ram_hi -v hlo=$hot_lo -v hhi=$hot_hi -v max=$max '
                function ov(a, b, c, d) { x = (a > c ? a : c); y = (b < d ? b : d); return y > x ? y - x : 0 }
                { n++; if ($1 < lo || $2 > hi) out++
                  h = ov($1, $2, hlo, hhi); c = $2 - $1 - h
                  if ($3 * 2 >= max) hh += h; if ($3 * 10 <= max) cc += c; ct += c; ht += h }
                END { printf "%d %d %.0f %.0f %.0f %.0f\n", n, out, hh, ht, cc, ct }' /tmp/regions.txt >/tmp/regions.sum
        read -r n out hh ht cc ct </tmp/regions.sum
        tries=$((tries + 1))
        { [ "$ht" -gt 0 ] && [ $((hh * 100)) -ge $((ht * 90)) ]; } || [ $tries -ge 5 ] && break
        sleep 1
done
echo "# DAMON, snapshot $tries: $n regions; hot set bytes in hot regions $hh/$ht; other bytes in cold regions $cc/$ct (max $max)"
[ "$n" -gt 0 ] && [ "$out" -eq 0 ]
ok $? "DAMON's $n regions all lie within the guest RAM"
[ "$ht" -gt 0 ] && [ $((hh * 100)) -ge $((ht * 90)) ]
ok $? "DAMON: >= 90% of the hot set is in regions accessed >= half the time ($((hh / MIB))/$((ht / MIB)) MiB)"
[ "$ct" -gt 0 ] && [ $((cc * 100)) -ge $((ct * 90)) ]
ok $? "DAMON: >= 90% of the rest is in regions accessed <= a tenth of the time ($((cc / MIB))/$((ct / MIB)) MiB)"
wait $daemon
ok $? "numavd --epochs=16 with Backend=damon exits cleanly"
sed 's/^/# numavd: /' /tmp/run1.log | grep -v -i debug | head -n 10
name=$(jq -r '.vms | keys[0]' /tmp/run1.json 2>/dev/null)
check "the summary says the damon backend sampled" json_true /tmp/run1.json '.backend == "damon"'
hb=$(jq ".vms[\"$name\"].hotBytes" /tmp/run1.json 2>/dev/null)
cold=$(jq ".vms[\"$name\"].bytesByVerdict.cold // 0" /tmp/run1.json 2>/dev/null)
echo "# summary: hotBytes=$hb bytesByVerdict=$(jq -c ".vms[\"$name\"].bytesByVerdict" /tmp/run1.json 2>/dev/null)"
# The hot set is 16 MiB; DAMON's region edges are within a region split of it, and the guest's code
# page and page table (below the data) are hot too: 90%..125% of the hot set.
[ -n "$hb" ] && [ $((hb * 100)) -ge $((hot * 90)) ] && [ $((hb * 100)) -le $((hot * 125)) ]
ok $? "numavd's hotBytes is the VMM's hot set within -10%/+25% ($((hb / 1024)) of $((hot / 1024)) KiB)"
[ -n "$cold" ] && [ $((cold * 100)) -ge $(((ram_hi - ram_lo - hot) * 90)) ]
ok $? "numavd holds >= 90% of the rest as cold ($((cold / MIB)) of $(((ram_hi - ram_lo - hot) / MIB)) MiB)"
check "after numavd exits no kdamond is left ($(cat $A/nr_kdamonds))" test "$(cat $A/nr_kdamonds)" = 0
check "its record $REC is gone" test ! -e $REC

# 2. A crash: SIGKILL leaves the kdamond running; the next start stops it.
start 60 crash
wait_on
ok $? "a second numavd starts its kdamond"
kill -9 $daemon
wait $daemon 2>/dev/null
check "the killed numavd is gone" test ! -d /proc/$daemon
check "after SIGKILL the kdamond is left running" test "$(cat $A/0/state)" = on
check "and its record is left in $REC" test -e $REC
run 2 restart
ok $? "a new numavd starts and runs 2 epochs"
grep -v -i debug /tmp/restart.log | sed 's/^/# restart: /' | head -n 12
grep -q "previous numavd left behind" /tmp/restart.log
ok $? "it stops the stale kdamond and says so ($(grep -o 'Stopped.*behind' /tmp/restart.log))"
check "it still samples through DAMON" json_true /tmp/restart.json '.backend == "damon" and (.vms | length) == 1'
check "after it exits no kdamond is left ($(cat $A/nr_kdamonds))" test "$(cat $A/nr_kdamonds)" = 0
check "and no record" test ! -e $REC

# 3. A kdamond someone else created is left alone: Backend=auto falls back, nothing is written.
echo 1 >$A/nr_kdamonds && echo 1 >$A/0/contexts/nr_contexts && echo 1234 >$A/0/contexts/0/monitoring_attrs/intervals/sample_us
sed -i 's/^Backend=damon/Backend=auto/' /tmp/numavd.conf
run 2 foreign
ok $? "with a foreign kdamond, numavd Backend=auto still runs"
check "it does not use DAMON ($(jq -r .backend /tmp/foreign.json))" json_true /tmp/foreign.json '.backend != "damon"'
grep -q "did not create" /tmp/foreign.log
ok $? "it logs that DAMON is in someone else's use"
check "the foreign kdamond is untouched" test "$(cat $A/nr_kdamonds) $(cat $A/0/contexts/0/monitoring_attrs/intervals/sample_us)" = "1 1234"
echo 0 >$A/nr_kdamonds

kill $vmm
wait $vmm 2>/dev/null
dmesg | grep -E -A8 "WARNING:|BUG:|Oops" | sed 's/^/# dmesg: /' | head -n 30 >/tmp/dmesg-bad.txt
cat /tmp/dmesg-bad.txt
check "the kernel logged no warning or oops" test ! -s /tmp/dmesg-bad.txt
done_testing
