#!/bin/bash
# Live migrations against a real libvirtd and QEMU (TCG) domains, and what an operator sees on this
# host. One libvirtd cannot migrate a domain to itself, so:
# - destination: libvirt's sequence of hook calls (migrate begin, prepare begin, start begin, then
#   started begin once QEMU runs) is replayed through the real hook script and the real numavctl,
#   around the start of a real domain;
# - source: a real outgoing migration job, QEMU's live pre-copy into a file (virsh
#   snapshot-create-as --live with a memory file, a FIFO read slowly so that the job lasts), run
#   to its end once and aborted once;
# - the safety net: a freeze that nothing ends is thawed after MigrationFreeze=.
# On a one-node host (this one) it also checks that numavd places nothing there and says so once,
# and how numavctl shows placement, frozen and unknown heat.
set -u
. "${top_srcdir:-.}/tests/tap.sh"
. "${top_srcdir:-.}/tests/libvirt-env.sh"
. "${top_srcdir:-.}/tests/numavd-daemon.sh"
hook="${top_builddir:-.}/etc/libvirt/hooks/qemu.d/numavd"
reader=
lister=
test_cleanup() {
        for p in $reader $lister; do kill "$p" 2>/dev/null; done
        libvirt_env_down
}

libvirt_env_test_up
wait_log() { _lv_wait "$2" grep -qF -- "$1" "$tmp/numavd.err"; } # PATTERN TENTHS
frozen() { ctl --json vm "$1" 2>/dev/null | json_ok ".frozen == $2"; } # VM true|false
wait_frozen() { _lv_wait "$3" frozen "$1" "$2"; }                       # VM true|false TENTHS
run_hook() { printf '<domain/>' | NUMAVCTL="$numavctl_bin" "$hook" "$@"; }
# slow_fifo PATH: a FIFO read at about 20 MiB/s in the background (the job's file)
slow_fifo() {
        rm -f "$1" && mkfifo "$1" || return 1
        python3 -c '
import sys, time
with open(sys.argv[1], "rb") as f:
    while f.read(1 << 20):
        time.sleep(0.05)' "$1" &
        reader=$!
}

printf '[Daemon]\nEpoch=500ms\nSources=libvirt\n[Sampler]\nBackend=none\n[Placement]\nPlacement=yes\n[Balloon]\nBalloon=no\n[KSM]\nKSM=no\n' >"$tmp/numavd.conf"
numavd_start --config="$tmp/numavd.conf"
wait_log "Connected to libvirt at qemu:///system" 100
ok $? "numavd connects to libvirt"

libvirt_env_domain_xml lvmig1 256 1 >"$tmp/lvmig1.xml"
virsh_ create "$tmp/lvmig1.xml" >/dev/null
ok $? "domain lvmig1 starts (TCG, 256 MiB, its guest touches 64 MiB of it)"
wait_log "Tracking VM lvmig1 " 100
ok $? "numavd tracks lvmig1"
libvirt_env_wait_guest lvmig1 90
ok $? "the guest boots and fills its memory"
sleep 1.5 # three epochs

# What an operator sees here.
nodes=$(ls -d /sys/devices/system/node/node[0-9]* 2>/dev/null | wc -l)
if [ "$nodes" -eq 1 ]; then
        [ "$(grep -c "The host has one NUMA node: all memory is local, numavd places nothing" "$tmp/numavd.err")" -eq 1 ]
        ok $? "one NUMA node: numavd says once that it places nothing"
        ctl --json status | json_ok '.moveCalls == 0 and .migratedBytes == 0'
        ok $? "... and makes no move_pages(2) call"
        ctl --json vm lvmig1 | json_ok '(.bytesByVerdict | length) == 0 and .targetNode == 0'
        ok $? "... plans nothing for lvmig1, whose target is the one node"
else
        for _ in 1 2 3; do
                tap_n=$((tap_n + 1)); echo "ok $tap_n # SKIP the host has $nodes NUMA nodes"
        done
fi
ctl --json vm lvmig1 | json_ok '.hotBytes == null and .hotLocalPercent == null and .placement == true and .frozen == false'
ok $? "no access backend: lvmig1's heat is null (unknown), placement on, not frozen"
ctl vm lvmig1 >"$tmp/vm.txt"
grep -qx "Placement: *on" "$tmp/vm.txt" && grep -q "^Hot: *unknown" "$tmp/vm.txt" &&
        ! grep -q "^Not moved, why:.* move " "$tmp/vm.txt"
ok $? "numavctl vm: Placement: on, Hot: unknown, no 'move' under 'Not moved, why:' ($(tr '\n' '|' <"$tmp/vm.txt" | head -c 400))"
ctl vms | grep -E "^lvmig1 " | grep -q " unknown "
ok $? "numavctl vms: lvmig1's HOT is unknown, not its whole memory"

# Destination: "migrate begin" comes before the domain exists here.
run_hook lvmig2 migrate begin - && wait_log "Domain lvmig2: incoming live migration" 50
ok $? "hook 'migrate begin' for lvmig2, not here yet: numavd waits for it"
run_hook lvmig2 prepare begin - && run_hook lvmig2 start begin -
ok $? "hooks 'prepare begin' and 'start begin'"
libvirt_env_domain_xml lvmig2 128 1 >"$tmp/lvmig2.xml"
virsh_ create "$tmp/lvmig2.xml" >/dev/null && wait_log "Tracking VM lvmig2 " 100
ok $? "the domain lvmig2 starts and is tracked"
wait_log "VM lvmig2: incoming live migration, placement frozen." 20 && frozen lvmig2 true
ok $? "lvmig2 is frozen from the moment it is tracked"
ctl vm lvmig2 | grep -qx "Placement: *on, frozen (live migration)"
ok $? "numavctl vm lvmig2: Placement: on, frozen (live migration)"
t0=$(date +%s%N)
run_hook lvmig2 started begin -
wait_frozen lvmig2 false 50
ok $? "hook 'started begin': lvmig2 thaws ($(ms_since "$t0") ms)"
grep -qF "VM lvmig2: it has started here, placement thawed." "$tmp/numavd.err"
ok $? "the thaw is logged"
frozen lvmig1 false
ok $? "lvmig1 was never frozen by lvmig2's migration"

# Source: a live migration of lvmig1 into a slowly read file, to its end.
slow_fifo "$tmp/mem.fifo"
t0=$(date +%s%N)
virsh_ snapshot-create-as lvmig1 s1 --memspec "file=$tmp/mem.fifo,snapshot=external" --live --no-metadata \
        >"$tmp/snap1.out" 2>&1 &
job=$!
# While libvirt sets the job up it holds lvmig1's lock for seconds: a listing of the domains
# waits for it (timed here, for the record). numavd keeps answering meanwhile.
{
        t=$(date +%s%N)
        virsh_ list --name >/dev/null
        ms_since "$t" >"$tmp/list.ms"
} &
lister=$!
slowest=0
for _ in $(seq 100); do
        t=$(date +%s%N)
        ctl --json vm lvmig1 >"$tmp/vm.json" 2>/dev/null
        ms=$(ms_since "$t")
        [ "$ms" -gt "$slowest" ] && slowest=$ms
        json_true "$tmp/vm.json" '.frozen == true'
        rc=$?
        [ $rc -eq 0 ] && break
        sleep 0.1
done
ok $rc "an outgoing live migration job of lvmig1 freezes it ($(ms_since "$t0") ms after virsh started the job; libvirt's own setup takes seconds here)"
grep -qF "VM lvmig1: outgoing live migration, placement frozen." "$tmp/numavd.err"
ok $? "the freeze is logged"
virsh_ domjobinfo lvmig1 | grep -q "Operation: *Snapshot"
ok $? "libvirt's job is running meanwhile, early in its first pass: $(virsh_ domjobinfo lvmig1 | grep -E 'Operation|Data processed|Memory total' | tr -s ' ' | tr '\n' ' ')"
sleep 2
frozen lvmig1 true
ok $? "lvmig1 stays frozen through the passes"
wait "$job"
rc=$?
t0=$(date +%s%N)
ok $rc "the job completes: $(head -c 200 "$tmp/snap1.out")"
wait "$lister"
lister=
[ "$slowest" -lt 1500 ]
ok $? "numavd answered every call within 1.5 s until the job froze lvmig1 (slowest: $slowest ms; virsh list meanwhile: $(cat "$tmp/list.ms") ms)"
wait_frozen lvmig1 false 30
ok $? "lvmig1 thaws when the job has ended ($(ms_since "$t0") ms)"
grep -qF "VM lvmig1: its migration job ended, placement thawed." "$tmp/numavd.err"
ok $? "the thaw is logged"
wait "$reader" 2>/dev/null
reader=

# Source: the same job aborted half-way; the VM runs on here and thaws.
slow_fifo "$tmp/mem2.fifo"
virsh_ snapshot-create-as lvmig1 s2 --memspec "file=$tmp/mem2.fifo,snapshot=external" --live --no-metadata \
        >"$tmp/snap2.out" 2>&1 &
job=$!
wait_frozen lvmig1 true 50
ok $? "a second outgoing job freezes lvmig1 again"
virsh_ domjobabort lvmig1
ok $? "virsh domjobabort lvmig1"
t0=$(date +%s%N)
wait "$job"
[ $? -ne 0 ]
ok $? "the aborted job fails: $(head -c 200 "$tmp/snap2.out" | tr '\n' ' ')"
wait_frozen lvmig1 false 30
ok $? "lvmig1 thaws after the aborted job ($(ms_since "$t0") ms)"
[ "$(virsh_ domstate lvmig1)" = running ]
ok $? "lvmig1 runs on here"
kill "$reader" 2>/dev/null
wait "$reader" 2>/dev/null
reader=

# The safety net: a freeze that nothing ends.
sed -i 's/^Placement=yes$/Placement=yes\nMigrationFreeze=2s/' "$tmp/numavd.conf"
ctl reload
ok $? "reload with MigrationFreeze=2s"
run_hook lvmig2 migrate begin -
wait_frozen lvmig2 true 50
ok $? "'migrate begin' for a VM that is here freezes it"
t0=$(date +%s%N)
wait_frozen lvmig2 false 100
ok $? "with no 'started', it thaws after MigrationFreeze= ($(ms_since "$t0") ms)"
wait_log "VM lvmig2: frozen for its incoming live migration longer than MigrationFreeze= allows, thawing it." 20
ok $? "the expiry is a warning"

numavd_stop
ok $? "numavd exits 0 on SIGTERM"
! grep -iE "error|warning" "$tmp/numavd.err" | grep -v "longer than MigrationFreeze= allows"
ok $? "no other error or warning in numavd's log"
done_testing
