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

printf '[Daemon]\nEpoch=200ms\n[Sampler]\nSampleInterval=50ms\nBackend=auto\n' >"$tmp/numavd.conf"
"$numavd" --config="$tmp/numavd.conf" --epochs=3 --summary=json >"$tmp/run.json" 2>"$tmp/run.err"
ok $? "numavd runs 3 epochs on the real host"
json_true "$tmp/run.json" '.host == "real"'; ok $? "the real host is in use"
json_true "$tmp/run.json" ".vms.realvm.pid == $vmm"; ok $? "the fake VMM is found through /proc by its KVM VM fd"
json_true "$tmp/run.json" '.vms.realvm.hotBytes == 134217728'
ok $? "its 128 MiB of guest RAM is tracked (whole-VM placement without an access backend)"
json_true "$tmp/run.json" '.vms.realvm.targetNode == 0'; ok $? "its vCPUs' node is the target"
json_true "$tmp/run.json" '.vms.realvm.hotLocalPercent == 100'
ok $? "move_pages(2) confirms its pages are on that node"
json_true "$tmp/run.json" '[.moveFailures[]] | add == 0'; ok $? "no page failed to move"
grep -q "placing whole VMs" "$tmp/run.err"; ok $? "the fallback to whole-VM placement is logged"

# The VMM exits while numavd runs: forgotten quietly, the daemon goes on.
"$numavd" --config="$tmp/numavd.conf" --epochs=6 --summary=json >"$tmp/gone.json" 2>"$tmp/gone.err" &
daemon=$!
sleep 0.5
kill "$vmm"
wait "$vmm" 2>/dev/null
vmm=
wait "$daemon"
ok $? "numavd keeps running and exits 0 after the VM vanished"
json_true "$tmp/gone.json" '.epochs == 6 and (.vms | length == 0)'; ok $? "the vanished VM is forgotten"
grep -q "realvm is gone" "$tmp/gone.err"; ok $? "its departure is logged once, as information"
! grep -qiE "error|warning" "$tmp/gone.err"; ok $? "no error or warning about it"

done_testing
