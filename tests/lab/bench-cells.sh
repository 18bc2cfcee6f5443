#!/bin/sh
# lab: kernels=6.1,6.12 mem=2048 timeout=14400 resume
# The cells of the lab bake-off (make lab-bench, tests/lab/lab-bench.sh), all in this one boot: each
# scenario under each policy, from the same starting state (the tiny VMM started afresh, every page
# first touched on node 0, numa_balancing 0, no numad or kdamond running), measured for $DUR s.
# LAB_BENCH=quick: scenarios rehome and wide, once each; full: all four, three times each.
# LAB_BENCH_SCENES="shift pressure": only these scenarios; LAB_BENCH_POLICIES: only these policies.
# Per cell one line of $LAB_OUT/cells.csv and the series $LAB_OUT/series/SCENARIO-POLICY-REP.dat
# ("seconds hot-local-share", from the moment the workload changes); TAP on stdout. A cell after
# which a numad, a kdamond, a numavd, the VMM or a changed sysctl remains is a failure. A boot after
# a failed one (the runner's `resume`) keeps the cells that one finished and runs the rest.
. "$LAB_SRCDIR/tests/tap.sh"
B=$LAB_BUILDDIR
W=/tmp/bench
. "$LAB_SRCDIR/tests/lab/bench-policy.sh"
series=${LAB_KVER%%.*}.$(echo "$LAB_KVER" | cut -d. -f2)
MEM=384 HOT=32 WARM=3
if [ "${LAB_BENCH:-full}" = quick ]; then
        SCENES="rehome wide" REPS=1
else
        SCENES="rehome shift wide pressure" REPS=3
fi
SCENES=${LAB_BENCH_SCENES:-$SCENES} SETTLE=15 DUR=30
# none first: the others' progress is relative to it. numad last: it binds nothing in the guest's
# first 300 s (bench-policy.sh), which the cells before it fill.
POLICIES="none autonuma numavd-kmod numavd-attrib"
[ -d $DAMON ] && POLICIES="$POLICIES damos numavd-damon"
POLICIES="$POLICIES numad numad-i5"
POLICIES=${LAB_BENCH_POLICIES:-$POLICIES}
cpus0=$(cat /sys/devices/system/node/node0/cpulist)
cpus1=$(cat /sys/devices/system/node/node1/cpulist)
thp_sleep0=$(cat /sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs)
mkdir -p "$W" "$LAB_OUT/series" "$LAB_OUT/logs"
[ -s "$LAB_OUT/cells.csv" ] ||
        echo "kernel,scenario,policy,rep,seconds_to_95,bytes_moved,hot_bytes,pingpong_bytes,policy_cpu_s,passes_per_s,evidence,local_end" \
                >"$LAB_OUT/cells.csv"

modprobe kvm_amd
check "kvm_amd loads" test -c /dev/kvm
insmod "$LAB_KMOD"
ok $? "insmod numavd_ept"
# DAMOS filters the VMM's pages by its memory cgroup.
memcg=bench
mount -t cgroup2 none /sys/fs/cgroup && echo +memory >/sys/fs/cgroup/cgroup.subtree_control &&
        mkdir /sys/fs/cgroup/$memcg
ok $? "memory cgroup /$memcg for the VMM"

# Nothing of a policy outlives its cell.
leftovers() {
        for d in /proc/[0-9]*; do
                read -r c <"$d/comm" 2>/dev/null || continue
                case $c in
                numad | kdamond* | numavd | nv-vmm) echo "$c(${d#/proc/})" ;;
                esac
        done
        [ "$(cat /proc/sys/kernel/numa_balancing)" = 0 ] || echo "numa_balancing=$(cat /proc/sys/kernel/numa_balancing)"
        t=$(cat /sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs)
        [ "$t" = "$thp_sleep0" ] || echo "khugepaged scan_sleep_millisecs=$t"
}

# pressure: fill node 1 with tmpfs pages bound there until it has room for half the hot set above
# its reserve: the larger of numavd's default floor (NodeFreeFloor=2% of the node) and the kernel's
# high watermarks, under which NUMA balancing does not migrate. The fill comes just before t0, with
# the VMM and the policy running, so that what they allocated before does not eat into the room.
fill_node1() {
        sync && echo 3 >/proc/sys/vm/drop_caches # what it caches would make room on demand
        free1=$(node_free 1)
        total1=$(node_mib 1 MemTotal)
        high1=$(awk '/^Node/ { z = ($2 == "1,") } z && $1 == "high" { s += $2 } END { print int(s * 4 / 1024) + 1 }' /proc/zoneinfo)
        reserve=$((total1 / 50 + 1))
        [ "$high1" -le "$reserve" ] || reserve=$high1
        fill=$W/fill want=$((reserve + HOT / 2))
        mkdir -p $fill && mount -t tmpfs -o mpol=bind:1,size=$((free1))M none $fill &&
                dd if=/dev/zero of=$fill/x bs=1M count=$((free1 - want)) 2>/dev/null
        # What is free moves while the fill runs (reclaim, the VMM, the policy): grow or shrink the
        # fill until node 1 is within 1 MiB of what it should have free.
        for _ in 1 2 3 4 5; do
                d=$(($(node_free 1) - want))
                if [ $d -gt 1 ]; then
                        dd if=/dev/zero of=$fill/x bs=1M count=$d oflag=append conv=notrunc 2>/dev/null
                elif [ $d -lt -1 ]; then
                        truncate -s -$((-d))M $fill/x
                else
                        break
                fi
        done
        echo "# pressure: node 1 had $free1 MiB free; reserve $reserve MiB; after the fill: $(node_free 1) MiB"
}

# MiB of a field of a node's meminfo (MemFree, MemTotal).
node_mib() { awk -v k="$2:" '$3 == k { print int($4 / 1024) }' /sys/devices/system/node/node$1/meminfo; }
node_free() { node_mib "$1" MemFree; }

# Key K of the series line $1 (t=... passes=... hot=... local=...).
key() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

series_lines() { cat $W/series 2>/dev/null | wc -l; }

# The VMM runs (kill -0 is true of a zombie too).
vmm_running() {
        st=$(sed -n 's/^.*) \(.\).*/\1/p' /proc/$vmm/stat 2>/dev/null)
        [ -n "$st" ] && [ "$st" != Z ]
}

clear_fill() { [ -z "$fill" ] || { umount $fill && rm -rf $fill; }; }

# The VMM is the instrument, not a policy: when it fails, say why (its output, its exit status and
# the kernel's last words) and leave the cell unmeasured.
vmm_failed() { # what
        kill $vmm 2>/dev/null
        wait $vmm
        echo "# $sc/$po/$rep: the VMM $1 (exit status $?, $(series_lines) lines of series); its output:"
        sed 's/^/#   /' $W/vmm.out
        echo "# the kernel's last messages:"
        dmesg | tail -n 15 | sed 's/^/#   /'
}

# A cell returns 2 when its VMM failed: the cell runs once more; a second failure is the cell's.
cell() { # scenario policy rep
        sc=$1 po=$2 rep=$3 out=$LAB_OUT/series/$1-$2-$3.dat
        rm -rf "${W:?}"/* /var/log/numad.log &&
                echo "# $sc $po $rep: $(date +%T), MiB free on node 0: $(node_free 0), node 1: $(node_free 1)"
        left=$(leftovers)
        [ -z "$left" ] || { ok 1 "$sc/$po/$rep: clean start (left: $left)"; return; }
        fill= goal=0.95
        [ "$sc" != pressure ] || goal=0.475 # half the hot set fits on node 1: 95% of that half
        c0=$cpus0 c1= scene=$sc
        case $sc in
        shift) c0=$cpus1 ;;
        wide) c1="-C $cpus1" ;;
        pressure) scene=rehome ;;
        esac
        sh -c 'echo $$ >/sys/fs/cgroup/'$memcg'/cgroup.procs && exec "$@"' nv-vmm "$B/tests/lab/nv-vmm" \
                -w $scene -m $MEM -H $HOT -o 32 -c "$c0" $c1 -s $W/series >$W/vmm.out 2>&1 &
        vmm=$!
        i=0
        while [ "$(series_lines)" -lt $WARM ] && [ $i -lt 120 ] && vmm_running; do
                sleep 1
                i=$((i + 1))
        done
        if [ "$(series_lines)" -lt $WARM ]; then
                vmm_failed "did not start"
                return 2
        fi
        policy_wait "$po"
        # A policy that runs all the time on a host (every one but DAMOS, whose target node is fixed
        # when it starts) runs for $SETTLE s before the workload changes, so what is measured is how
        # it follows the change, not how it starts. In wide nothing changes: the policy starts at t0.
        early=
        [ "$sc" = wide ] || [ "$po" = damos ] || early=yes
        if [ -n "$early" ]; then
                policy_start "$po" 0
                sleep $SETTLE
        fi
        [ "$sc" != pressure ] || fill_node1
        cpu0=$(policy_cpu "$po")
        # t0: the workload changes (vCPU re-homed, hot set shifted) or the policy starts.
        pgm0=$(vmstat_of pgmigrate_success) hint0=$(vmstat_of numa_hint_faults) npm0=$(vmstat_of numa_pages_migrated)
        case $sc in
        rehome | pressure) taskset -pc "$cpus1" "$(sed -n 's/.*vcpu0=\([0-9]*\).*/\1/p' $W/vmm.out)" >/dev/null ;;
        shift) kill -USR1 $vmm ;;
        esac
        t0=$(cut -d' ' -f1 /proc/uptime)
        [ -n "$early" ] || policy_start "$po" 1
        sleep $DUR
        vmm_running
        vmm_ran=$?
        cpu=$(echo "$(policy_cpu "$po") $cpu0" | awk '$1 == "NA" { print "NA"; next } { printf "%.2f", $1 - $2 }')
        policy_stop "$po"
        ev=$(policy_evidence "$po" "$sc" | tr ',\n' '  ' | sed 's/ *$//')
        [ -z "$fill" ] || echo "# pressure: node 1 free at the end: $(node_free 1) MiB"
        for f in /var/log/numad.log $W/numavd.log $W/summary.json $W/damos.log; do [ -e $f ] && cp $f "$LAB_OUT/logs/$sc-$po-$rep-${f##*/}"; done
        if [ $vmm_ran -ne 0 ]; then
                vmm_failed "ended before the cell did"
                clear_fill
                return 2
        fi
        kill $vmm 2>/dev/null
        wait $vmm 2>/dev/null
        clear_fill
        moved=$((($(vmstat_of pgmigrate_success) - pgm0) * 4096))
        # The series from t0 on (t: /proc/uptime when each line's measurement began): seconds and
        # hot-local share; the first time it reaches 95%. line0: the last line before t0.
        line0=$(awk -v t0="$t0" '{ split($1, kv, "=") } kv[2] <= t0' $W/series | tail -n1)
        p0=$(key "$line0" passes) pp0=$(key "$line0" pingpong)
        awk -v t0="$t0" -v dur=$DUR '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
                if (v["t"] > t0 && v["t"] <= t0 + dur) printf "%.1f %.4f\n", v["t"] - t0, v["local"] / v["hot"] }' $W/series >"$out"
        t95=$(awk -v goal=$goal '$2 >= goal { print $1; exit }' "$out")
        end=$(awk 'END { print $2 }' "$out")
        last=$(awk -v t0="$t0" -v dur=$DUR '{ split($1, kv, "=") } kv[2] <= t0 + dur' $W/series | tail -n1)
        hotb=$(($(key "$last" hot) * 4096)) ppb=$((($(key "$last" pingpong) - pp0) * 4096))
        rate=$(echo "$(key "$last" passes) $p0 $(key "$last" t) $(key "$line0" t)" | awk '{ printf "%.2f", ($1 - $2) / ($3 - $4) }')
        echo "$series,$sc,$po,$rep,${t95:-NA},$moved,$hotb,$ppb,$cpu,$rate,$ev,${end:-NA}" >>"$LAB_OUT/cells.csv"
        echo "# $sc/$po/$rep: to95=${t95:-never} moved=$moved pingpong=$ppb cpu=$cpu passes/s=$rate local_end=$end evidence: $ev"
        left=$(leftovers)
        [ -z "$left" ]
        ok $? "$sc/$po/$rep: ran $DUR s and left nothing behind${left:+ (left: $left)}"
}

for rep in $(seq 1 $REPS); do
        for sc in $SCENES; do
                for po in $POLICIES; do
                        if grep -q "^$series,$sc,$po,$rep," "$LAB_OUT/cells.csv"; then
                                echo "# $sc/$po/$rep: done in the boot before"
                                continue
                        fi
                        cell "$sc" "$po" "$rep" && continue
                        [ $? -eq 2 ] || continue
                        echo "# $sc/$po/$rep: once more, with a new VMM"
                        cell "$sc" "$po" "$rep"
                        [ $? -ne 2 ] || ok 1 "$sc/$po/$rep: the VMM failed twice"
                done
        done
done
rmmod numavd_ept
ok $? "rmmod numavd_ept"
done_testing
