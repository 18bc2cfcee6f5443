# The policies of the lab bake-off, sourced by tests/lab/bench-cells.sh inside the guest:
#   policy_wait NAME                before the cell's t0: wait until NAME can act at all
#   policy_start NAME TARGET_NODE   start NAME against the VMM $vmm (in the memory cgroup $memcg)
#   policy_cpu NAME                 CPU seconds of NAME's own threads so far ("NA" where it has none)
#   policy_stop NAME                stop NAME and undo what it changed
#   policy_evidence NAME SCENARIO   after policy_stop: what NAME did ("" when it did nothing)
# Work files are in $W; $B is the build dir. numavd and the policies run from the host root (9p).
DAMON=/sys/kernel/mm/damon/admin/kdamonds
HZ=$(getconf CLK_TCK)

# CPU seconds (utime + stime) of the processes and threads whose comm starts with $1. Shell
# builtins only while scanning /proc: a fork per process costs seconds under TCG.
cpu_of_comm() {
        for d in /proc/[0-9]*; do
                read -r c <"$d/comm" 2>/dev/null || continue
                case $c in
                "$1"*) read -r st <"$d/stat" && echo "${st##*) }" ;;
                esac
        done | awk -v hz="$HZ" '{ s += $12 + $13 } END { printf "%.2f", s / hz }'
}

vmstat_of() { awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat; }

# numavd logs at debug level: each region it moves, with the heat and votes that moved it
# (logs/SCENARIO-POLICY-REP-numavd.log).
numavd_conf() { # backend attribution-rate
        cat >"$W/numavd.conf" <<EOC
[Daemon]
Epoch=1s
Sources=proc
[Sampler]
Backend=$1
AttributionRate=$2
EOC
        "$B/numavd" --config="$W/numavd.conf" --summary=json --varlink=no --log-level=debug >"$W/numavd.out" 2>"$W/numavd.log" &
        policy_pid=$!
}

# DAMOS migrate_hot on the physical address space, only for the VMM's memory cgroup, to one node.
# The sysfs interface monitors no physical memory unless told which: the largest System RAM range.
damos_start() { # target node
        c=$DAMON/0/contexts/0 start=0 end=0
        for r in $(sed -n 's/^\([0-9a-f]*-[0-9a-f]*\) : System RAM$/\1/p' /proc/iomem); do
                s=$((0x${r%-*})) e=$((0x${r#*-} + 1))
                [ $((e - s)) -le $((end - start)) ] || start=$s end=$e
        done
        echo 1 >$DAMON/nr_kdamonds && echo 1 >$DAMON/0/contexts/nr_contexts && echo paddr >$c/operations &&
                echo 20000 >$c/monitoring_attrs/intervals/sample_us &&
                echo 200000 >$c/monitoring_attrs/intervals/aggr_us &&
                echo 1 >$c/targets/nr_targets && echo 1 >$c/targets/0/regions/nr_regions &&
                echo $start >$c/targets/0/regions/0/start && echo $end >$c/targets/0/regions/0/end &&
                echo 1 >$c/schemes/nr_schemes &&
                echo migrate_hot >$c/schemes/0/action && echo "$1" >$c/schemes/0/target_nid &&
                echo 3 >$c/schemes/0/access_pattern/nr_accesses/min &&
                echo 4294967295 >$c/schemes/0/access_pattern/nr_accesses/max &&
                echo 4294967295 >$c/schemes/0/access_pattern/age/max &&
                echo 18446744073709551615 >$c/schemes/0/access_pattern/sz/max &&
                echo 1 >$c/schemes/0/filters/nr_filters && echo memcg >$c/schemes/0/filters/0/type &&
                echo "/$memcg" >$c/schemes/0/filters/0/memcg_path &&
                echo N >$c/schemes/0/filters/0/matching && echo on >$DAMON/0/state
}

policy_wait() {
        case $1 in
        numad | numad-i5)
                # numad binds nothing until its clock (uptime in 1/100 s) passes its 300 s minimum
                # delay between two bindings of a process: a fresh guest waits for that.
                while [ "$(cut -d. -f1 /proc/uptime)" -lt 305 ]; do sleep 1; done
                ;;
        esac
}

policy_start() {
        policy_pid=
        case $1 in
        none) ;;
        numad | numad-i5)
                rm -f /var/log/numad.log /var/run/numad.pid
                if [ "$1" = numad ]; then numad -l 6; else numad -l 6 -i 5; fi
                i=0 # numad forks into the background and writes its pid file there
                while [ ! -s /var/run/numad.pid ] && [ $i -lt 50 ]; do
                        sleep 0.1
                        i=$((i + 1))
                done
                policy_pid=$(cat /var/run/numad.pid 2>/dev/null)
                ;;
        autonuma) echo 1 >/proc/sys/kernel/numa_balancing ;;
        damos) damos_start "$2" ;;
        numavd-kmod) numavd_conf kmod 0 ;;
        numavd-damon) numavd_conf damon 0 ;;
        numavd-attrib) numavd_conf kmod 2000 ;;
        esac
}

policy_cpu() {
        case $1 in
        none | autonuma) echo NA ;; # AutoNUMA's scanning runs in the VMM's own threads
        numad | numad-i5) cpu_of_comm numad ;;
        damos) cpu_of_comm kdamond ;;
        numavd-*) echo "$(cpu_of_comm numavd) $(cpu_of_comm kdamond)" | awk '{ printf "%.2f", $1 + $2 }' ;;
        esac
}

policy_evidence() {
        case $1 in
        none) echo none ;;
        numad | numad-i5)
                n=$(grep -c 'moved to node' /var/log/numad.log 2>/dev/null)
                to=$(sed -n 's/.* moved to node(s) \([0-9,-]*\) .*/\1/p' /var/log/numad.log 2>/dev/null | tail -n1)
                [ "${n:-0}" -gt 0 ] && echo "numad_moves=$n last_to_nodes=$to"
                ;;
        autonuma)
                n=$(($(vmstat_of numa_hint_faults) - hint0))
                [ "$n" -gt 0 ] && echo "numa_hint_faults=$n numa_pages_migrated=$(($(vmstat_of numa_pages_migrated) - npm0))"
                ;;
        damos)
                n=$(cat "$W/damos.nr_applied")
                [ "${n:-0}" -gt 0 ] && echo "damos_nr_applied=$n sz_applied=$(cat "$W/damos.sz_applied")"
                ;;
        numavd-*)
                sed -n '/^{/,$p' "$W/numavd.out" >"$W/summary.json"
                m=$(jq '.migratedBytes // 0' "$W/summary.json" 2>/dev/null)
                f=$(jq '[.vms[].attribution.faultsSampled // 0] | add // 0' "$W/summary.json" 2>/dev/null)
                h=$(jq '[.vms[].hotBytes // 0] | add // 0' "$W/summary.json" 2>/dev/null)
                fl=$(jq '[.vms[].bytesByVerdict["node-floor"] // 0] | add // 0' "$W/summary.json" 2>/dev/null)
                if [ "$1" = numavd-attrib ] && [ "${m:-0}" -gt 0 ]; then
                        [ "${f:-0}" -gt 0 ] && echo "numavd_migrated=$m faults_sampled=$f"
                elif [ "${m:-0}" -gt 0 ]; then
                        echo "numavd_migrated=$m"
                elif [ "$2" = wide ] && [ "$1" != numavd-attrib ] && [ "${h:-0}" -gt 0 ]; then
                        # Without attribution numavd places a VM's memory by where its vCPUs run as a
                        # whole; wide's run half on each node, so it holds: evidence that it saw the
                        # hot set, and where it found the vCPUs.
                        echo "numavd_migrated=0 hot_bytes=$h vcpu_node_percent=$(jq -c '[.vms[].vcpuNodePercent]' "$W/summary.json")"
                elif [ "$2" = pressure ] && [ "${fl:-0}" -gt 0 ]; then
                        # The target node had no room above numavd's floor (the larger of
                        # NodeFreeFloor and the kernel's high watermark), so it held: its verdicts say
                        # so.
                        echo "numavd_migrated=0 hot_bytes=$h node_floor_bytes=$fl"
                fi
                ;;
        esac
}

policy_stop() {
        case $1 in
        numad | numad-i5 | numavd-*)
                [ -n "$policy_pid" ] && kill "$policy_pid" 2>/dev/null
                i=0
                while [ -n "$policy_pid" ] && [ -d "/proc/$policy_pid" ] && [ $i -lt 30 ]; do
                        sleep 1
                        i=$((i + 1))
                done
                # numad sets khugepaged's scan interval at start (its -H) and leaves it so.
                echo "$thp_sleep0" >/sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs
                ;;
        autonuma) echo 0 >/proc/sys/kernel/numa_balancing ;;
        damos)
                s=$DAMON/0/contexts/0/schemes/0/stats
                echo update_schemes_stats >$DAMON/0/state && cat $s/nr_applied >"$W/damos.nr_applied" &&
                        cat $s/sz_applied >"$W/damos.sz_applied"
                for f in nr_tried sz_tried nr_applied sz_applied qt_exceeds; do echo "$f=$(cat $s/$f)"; done >"$W/damos.log"
                echo off >$DAMON/0/state && echo 0 >$DAMON/nr_kdamonds
                ;;
        esac
}
