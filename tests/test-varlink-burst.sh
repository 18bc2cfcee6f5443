#!/bin/bash
# A stall plus a burst loses nothing: numavd is stopped (SIGSTOP) for at least 5 s while the real
# libvirt hook (etc/libvirt/hooks/qemu.d/numavd, through the real numavctl) runs 1000 times, for
# 100 domains with 10 events each, then resumed (SIGCONT). Every call must arrive, each domain's in
# the order the hook ran them, as numavd's own log shows; and the last event of a VM numavd tracks
# shows in its published state.
set -u
. "$top_srcdir/tests/tap.sh"
B=$top_builddir
hook=$B/etc/libvirt/hooks/qemu.d/numavd
tmp=$(mktemp -d)
pid=
cleanup() {
        [ -n "$pid" ] && kill -CONT "$pid" 2>/dev/null && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT

if [ "$(id -u)" -ne 0 ]; then
        echo "1..0 # SKIP NotifyDomain is for root only"
        exit 0
fi
if ! command -v jq >/dev/null; then
        echo "1..0 # SKIP jq is not installed"
        exit 0
fi
# Each call waits in numavd's listen backlog while it is stopped; the kernel caps that backlog.
backlog=$(cat /proc/sys/net/core/somaxconn 2>/dev/null || echo 0)
if [ "$backlog" -lt 1100 ]; then
        echo "1..0 # SKIP net.core.somaxconn is $backlog: the burst of 1000 would not fit in the backlog"
        exit 0
fi

export NUMAVD_ADDRESS=unix:$tmp/io.numavd.Manager
export NUMAVCTL=$B/numavctl
"$B/numavd" --sim="$top_srcdir/tests/scenarios/rehome-test.scn" --speed=1 --log-level=debug \
        --varlink="$NUMAVD_ADDRESS" >/dev/null 2>"$tmp/numavd.log" &
pid=$!
for _ in $(seq 100); do "$NUMAVCTL" --timeout=1s vm rehome >/dev/null 2>&1 && break; sleep 0.1; done
"$NUMAVCTL" --json vm rehome | json_ok '.frozen == false'; ok $? "numavd runs and tracks VM rehome, not frozen"

# Domain vm-D gets events s0 .. s9 in this order; rehome ends with "migrate begin", which freezes
# its placement.
ops=(started reconnect attach migrate restore stopped release)
worker() { # domains $1 .. $2
        local d k
        for d in $(seq "$1" "$2"); do
                for k in $(seq 0 9); do
                        "$hook" "vm-$d" "${ops[$((k % 7))]}" "s$k" - </dev/null || echo "hook exit $?" >>"$tmp/hook-failed"
                done
        done
}

kill -STOP "$pid"
start=$(date +%s%N)
workers=()
for w in $(seq 0 9); do
        worker $((w * 10)) $((w * 10 + 9)) &
        workers+=($!)
done
wait "${workers[@]}"
"$hook" rehome migrate begin - </dev/null
end=$(date +%s%N)
# Stopped for 5 s at least, longer if the burst itself took longer.
rest_ms=$((5000 - (end - start) / 1000000))
[ $rest_ms -gt 0 ] && sleep "$((rest_ms / 1000)).$(printf %03d $((rest_ms % 1000)))"
ps -o stat= -p "$pid" | grep -q '^T'; ok $? "numavd stayed stopped throughout the burst"
kill -CONT "$pid"
[ ! -e "$tmp/hook-failed" ]; ok $? "all 1001 hook runs exited 0 while numavd was stopped"
echo "# the burst took $(((end - start) / 1000000)) ms"

for _ in $(seq 600); do
        [ "$(grep -c 'libvirt: domain vm-' "$tmp/numavd.log")" -ge 1000 ] && break
        sleep 0.1
done
got=$(grep -c 'libvirt: domain vm-' "$tmp/numavd.log")
[ "$got" -eq 1000 ]; ok $? "numavd ran all 1000 NotifyDomain calls (got $got)"
bad=0
for d in $(seq 0 99); do
        seen=$(grep -o "libvirt: domain vm-$d [a-z]* s[0-9]\." "$tmp/numavd.log" | sed 's/.* s\([0-9]\)\./\1/' | tr -d '\n')
        [ "$seen" = 0123456789 ] || { bad=$((bad + 1)); echo "# vm-$d: events in the order $seen"; }
done
[ $bad -eq 0 ]; ok $? "every domain's 10 events ran in the order the hook sent them ($bad out of order)"
for _ in $(seq 50); do grep -q "VM rehome is being migrated" "$tmp/numavd.log" && break; sleep 0.1; done
"$NUMAVCTL" --json vm rehome | json_ok '.frozen == true'; ok $? "the last event of VM rehome (migrate begin) shows: frozen"
kill -0 "$pid"; ok $? "numavd still runs"
kill "$pid"; wait "$pid"; rc=$?; pid=
[ $rc -eq 0 ]; ok $? "numavd exits 0 (rc $rc)"
done_testing
