#!/bin/bash
# The whole daemon against this machine: a fake VMM holding a real KVM VM fd is found through
# /proc, its memory located with move_pages(2) and placed toward its vCPUs' node; when it exits
# mid-run it is forgotten quietly.
set -u
. "${top_srcdir:-.}/tests/tap.sh"
numavd="${top_builddir:-.}/numavd"
fakevmm="${top_builddir:-.}/tests/fake-vmm"
tmp=$(mktemp -d)
vmm=
trap 'rm -rf "$tmp"; [ -n "$vmm" ] && kill "$vmm" 2>/dev/null' EXIT

if [ "$(id -u)" -ne 0 ] || [ ! -w /dev/kvm ]; then
        echo "1..0 # SKIP needs root and /dev/kvm"
        exit 0
fi

start_vmm() { # name
        "$fakevmm" -m 128M -c 2 -H 16M -name "guest=$1" >"$tmp/$1.out" 2>&1 &
        vmm=$!
        for _ in $(seq 50); do grep -q '^ready' "$tmp/$1.out" && return 0; sleep 0.1; done
        grep -q '^ready' "$tmp/$1.out"
}
start_vmm realvm
rc=$?
if [ $rc -ne 0 ]; then
        wait "$vmm"
        [ $? -eq 77 ] && { echo "1..0 # SKIP KVM_CREATE_VM is not available here"; exit 0; }
        ok 1 "fake VMM started"
        done_testing
        exit 1
fi

# Sources=proc, KSM and balloons left alone: other tests may run libvirt domains and another numavd
# meanwhile; this one is about the /proc scan and the mover.
printf '[Daemon]\nEpoch=200ms\nSources=proc\n[Sampler]\nSampleInterval=50ms\nBackend=auto\n[KSM]\nKSM=no\n[Balloon]\nBalloon=no\n' >"$tmp/numavd.conf"
"$numavd" --varlink=no --config="$tmp/numavd.conf" --epochs=3 --summary=json >"$tmp/run.json" 2>"$tmp/run.err"
rc=$?
[ $rc -eq 0 ]; ok $? "numavd runs 3 epochs on the real host (exit $rc$([ $rc -eq 0 ] || echo ": $(tail -c 300 "$tmp/run.err")"))"
json_true "$tmp/run.json" '.host == "real"'; ok $? "the real host is in use"
json_true "$tmp/run.json" ".vms.realvm.pid == $vmm"; ok $? "the fake VMM is found through /proc by its KVM VM fd"
json_true "$tmp/run.json" '.vms.realvm.memoryBytes == 134217728 and .vms.realvm.hotBytes == null and .vms.realvm.hotLocalPercent == null'
ok $? "its 128 MiB of guest RAM is tracked, its heat unknown, not hot (whole-VM placement without an access backend)"
json_true "$tmp/run.json" '.vms.realvm.targetNode == 0'; ok $? "its vCPUs' node is the target"
json_true "$tmp/run.json" '.vms.realvm.failedBytes == 0'; ok $? "no page of it failed to move"
grep -q "placing whole VMs" "$tmp/run.err"; ok $? "the fallback to whole-VM placement is logged"
json_true "$tmp/run.json" '.vms.realvm.counters.taskClockNs > 0 and (.vms.realvm.counters | has("contextSwitches"))'
ok $? "perf software events of its vCPU threads are counted"
json_true "$tmp/run.json" '.vms.realvm as $v | ["cycles", "nodeLoadMisses", "kvmExits"] | all(. as $k |
        ($v.counters | has($k)) != ($v.countersUnavailable | has($k)))'
ok $? "hardware events and KVM statistics are counted or said unavailable"
json_true "$tmp/run.json" '(.vms.realvm.memoryPerNode | add) == 134217728'
ok $? "numa_maps puts all of its 128 MiB on the host's nodes"
json_true "$tmp/run.json" '(.vms.realvm.dirtyRate != null) != (.vms.realvm.dirtyRateUnavailable != null)'
ok $? "a dirty rate, or why there is none yet"

# A reload that changes Sources= and LibvirtURI= switches the VM sources of a running daemon.
ctl="${top_builddir:-.}/numavctl --address=unix:$tmp/sock"
has_realvm() { $ctl --json vms | json_ok '[.[].name] | index("realvm") != null'; }
"$numavd" --varlink="unix:$tmp/sock" --config="$tmp/numavd.conf" >"$tmp/live.out" 2>"$tmp/live.err" &
daemon=$!
# Up to 30 s: under the load of the libvirt tests beside it, startup has taken over 10 s.
for _ in $(seq 300); do has_realvm 2>/dev/null && break; sleep 0.1; done
has_realvm; ok $? "Sources=proc: the fake VMM is tracked"
# SIGPIPE (signal 13, bit 12 of SigIgn) is ignored whatever the sources: the balloon actuator's
# connection to a libvirtd that restarts must not kill the daemon (seen: exit 141 in a stress run).
ign=$(awk '/^SigIgn:/ { print $2 }' "/proc/$daemon/status")
[ $(( 0x$ign >> 12 & 1 )) -eq 1 ]; ok $? "numavd ignores SIGPIPE (SigIgn $ign)"
sed -i 's|^Sources=proc|Sources=libvirt\nLibvirtURI=test:///default|' "$tmp/numavd.conf"
$ctl reload 2>"$tmp/reload.err"; ok $? "reload to Sources=libvirt with LibvirtURI=test:///default $(head -c 300 "$tmp/reload.err")"
grep -q "Connected to libvirt at test:///default" "$tmp/live.err"
ok $? "the new libvirt URI is connected $(grep -i libvirt "$tmp/live.err" | head -c 300)"
! has_realvm; ok $? "a VMM that is no libvirt domain is no longer tracked"
sed -i 's|^Sources=libvirt|Sources=proc|' "$tmp/numavd.conf"
$ctl reload; ok $? "reload back to Sources=proc"
has_realvm; ok $? "the fake VMM is tracked again"
grep -q "No longer asking libvirt" "$tmp/live.err"; ok $? "the libvirt connection is closed"
kill -TERM "$daemon"; wait "$daemon"; ok $? "numavd exits 0 after switching sources twice"

# The VMM exits while numavd runs: forgotten quietly, the daemon goes on.
"$numavd" --varlink=no --config="$tmp/numavd.conf" --epochs=6 --summary=json >"$tmp/gone.json" 2>"$tmp/gone.err" &
daemon=$!
# Kill it once numavd tracks it (a fixed delay lost that race under load: startup took > 0.5 s).
wait_for "Tracking VM realvm" "$tmp/gone.err" 30
ok $? "numavd tracks the VM before it vanishes"
kill "$vmm"
wait "$vmm" 2>/dev/null
vmm=
wait "$daemon"
ok $? "numavd keeps running and exits 0 after the VM vanished"
json_true "$tmp/gone.json" '.epochs == 6 and (.vms | has("realvm") | not)'; ok $? "the vanished VM is forgotten"
grep -q "realvm is gone" "$tmp/gone.err"; ok $? "its departure is logged once, as information"
! grep -qiE "error|warning" "$tmp/gone.err"; ok $? "no error or warning about it"

done_testing
