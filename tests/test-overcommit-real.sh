#!/bin/bash
# numavd's balloon and KSM control against a real libvirtd and QEMU (TCG) guests on this machine:
# two guests with virtio-balloon and a memory-touching workload, a third whose guest lacks the
# balloon driver. A configuration puts the host "under pressure" (HostPressure= above the free
# memory it has), then a reload lowers it. Checks: both balloons shrink within 3 epochs and never
# below their floors (one from [VM], one from the domain's metadata); after the reload they grow
# back; KSM is turned on and each QEMU's ksm_merging_pages rises; the domain without a driver is
# reported as stalled and not retried every epoch; after numavd stops, every KSM knob is exactly
# as before. Every domain and daemon the test started is gone at the end, and the KSM knobs are
# put back by the test itself if numavd failed to (which then fails the test).
set -u
. "${top_srcdir:-.}/tests/tap.sh"
. "${top_srcdir:-.}/tests/libvirt-env.sh"
numavd="${top_builddir:-.}/numavd"
KSM=/sys/kernel/mm/ksm
tmp=$(mktemp -d)
daemon=
ksm_saved=

# Every writable KSM knob, "name=value" per line.
ksm_snapshot() {
        local f
        for f in "$KSM"/*; do
                # root may write anything: the knobs are the files with the owner's write bit
                case "$(stat -c %A "$f")" in -?w*) echo "${f##*/}=$(cat "$f")" ;; esac
        done
}
ksm_put_back() { # the snapshot in $1; merge_across_nodes needs nothing merged
        local line
        [ -s "$1" ] || return 0
        while IFS= read -r line; do
                name=${line%%=*} value=${line#*=}
                case "$value" in *"["*) value=$(echo "$value" | sed 's/.*\[\(.*\)\].*/\1/') ;; esac
                [ "$(cat "$KSM/$name")" = "$(grep "^$name=" "$1" | cut -d= -f2-)" ] && continue
                [ "$name" = merge_across_nodes ] && echo 2 >"$KSM/run"
                echo "$value" >"$KSM/$name" 2>/dev/null
        done <"$1"
        echo "$(grep '^run=' "$1" | cut -d= -f2)" >"$KSM/run"
}
cleanup() {
        [ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
        libvirt_env_down
        [ -n "$ksm_saved" ] && ksm_put_back "$tmp/ksm.before"
        rm -rf "$tmp"
}
trap cleanup EXIT

start=$(date +%s%N)
if [ ! -d "$KSM" ] || [ "$(id -u)" -ne 0 ]; then
        echo "1..0 # SKIP needs root and a kernel with KSM"
        exit 0
fi
if [ -e /run/numavd/ksm.state ]; then
        echo "1..0 # SKIP another numavd manages KSM (/run/numavd/ksm.state)"
        exit 0
fi
if ! libvirt_env_up; then
        echo "1..0 # SKIP $LIBVIRT_ENV_SKIP"
        exit 0
fi
ksm_snapshot >"$tmp/ksm.before"
ksm_saved=1
if ! libvirt_env_guest; then
        ok 1 "the test guest builds (kernel + busybox initramfs)"
        done_testing
        exit 1
fi
actual_kib() { virsh_ dommemstat "$1" 2>/dev/null | awk '$1 == "actual" {print $2}'; }
merging() { awk '$1 == "ksm_merging_pages" {print $2}' "/proc/$1/ksm_stat" 2>/dev/null || echo 0; }
wait_log() { _lv_wait "$2" grep -q -- "$1" "$tmp/numavd.err"; }

# Two guests with the driver, one without; the second's floor comes from its metadata.
META="<metadata><numavd:balloon xmlns:numavd='https://numavd.org/xmlns/balloon/1.0' min='208M'/></metadata>"
libvirt_env_domain_xml ocvm1 256 1 >"$tmp/ocvm1.xml"
libvirt_env_domain_xml ocvm2 256 1 "$META" >"$tmp/ocvm2.xml"
LIBVIRT_GUEST_ARGS="memhog=32 dirty=1 interval=2 noballoon" libvirt_env_domain_xml ocvm3 256 1 >"$tmp/ocvm3.xml"
for d in ocvm1 ocvm2 ocvm3; do
        virsh_ create "$tmp/$d.xml" >/dev/null
        ok $? "domain $d starts (TCG, 256 MiB)"
done
for d in ocvm1 ocvm2 ocvm3; do
        libvirt_env_wait_guest "$d" 120
        ok $? "guest $d runs its workload"
done
grep -q "balloon_driver_bound=no" "$LIBVIRT_ENV_DIR/ocvm3.log"
ok $? "ocvm3's guest has no balloon driver"
p1=$(cat /run/libvirt/qemu/ocvm1.pid) p2=$(cat /run/libvirt/qemu/ocvm2.pid)
sleep 2 # the first balloon statistics (period 1 s)

# Under pressure: a threshold above the free memory the host has.
cat >"$tmp/numavd.conf" <<EOF
[Daemon]
Epoch=1s
[Sampler]
Backend=none
[Placement]
Placement=no
[Balloon]
HostPressure=99.9%
BalloonMin=50%
StallEpochs=3
[KSM]
Threshold=99.9%
[VM "ocvm1"]
BalloonMin=200M
EOF
cp "$tmp/numavd.conf" "$tmp/pressure.conf"
m1=$(merging "$p1") m2=$(merging "$p2")
"$numavd" --varlink=no --config="$tmp/numavd.conf" --watch --summary=json --log-level=info >"$tmp/watch.out" 2>"$tmp/numavd.err" &
daemon=$!

# Poll the balloons every 0.2 s while under pressure.
: >"$tmp/actual.log"
poll() { # seconds
        local i=0 a1 a2
        while [ $i -lt $(($1 * 5)) ]; do
                a1=$(actual_kib ocvm1) a2=$(actual_kib ocvm2)
                echo "$a1 $a2" >>"$tmp/actual.log"
                sleep 0.2
                i=$((i + 1))
        done
}
poll 12
# The first epoch whose watch line shows the balloon moved (actual below 256 MiB).
first_moved() { awk -v vm="$1" '$3 == vm && $4 == "balloon" && $6 != "256.0M" {print $2; exit}' "$tmp/watch.out"; }
e1=$(first_moved ocvm1) e2=$(first_moved ocvm2)
[ -n "$e1" ] && [ "$e1" -le 3 ]
ok $? "ocvm1's balloon shrank within 3 epochs (actual below the maximum in epoch ${e1:-never})"
[ -n "$e2" ] && [ "$e2" -le 3 ]
ok $? "ocvm2's balloon shrank within 3 epochs (actual below the maximum in epoch ${e2:-never})"
min1=$(awk '$1 != "" {print $1}' "$tmp/actual.log" | sort -n | head -n 1)
min2=$(awk '$2 != "" {print $2}' "$tmp/actual.log" | sort -n | head -n 1)
[ -n "$min1" ] && [ "$min1" -lt 262144 ] && [ "$min1" -ge 204800 ]
ok $? "ocvm1 shrank and never went below its [VM] floor of 200M (lowest ${min1:-?} KiB)"
[ -n "$min2" ] && [ "$min2" -lt 262144 ] && [ "$min2" -ge 212992 ]
ok $? "ocvm2 shrank and never went below its metadata floor of 208M (lowest ${min2:-?} KiB)"
grep -q "VM ocvm3: the balloon did not reach its target" "$tmp/numavd.err"
ok $? "ocvm3 (no balloon driver) is reported as stalled"
n3=$(grep -c "VM ocvm3: balloon .* -> " "$tmp/numavd.err")
[ "$n3" -le 2 ]
ok $? "ocvm3 is not retried every epoch ($n3 balloon requests in 12 epochs)"
[ "$(cat $KSM/run)" = 1 ]
ok $? "KSM was turned on (run=1, pages_to_scan=$(cat $KSM/pages_to_scan))"
n1=$(merging "$p1") n2=$(merging "$p2")
i=0
while { [ "$n1" -le "$m1" ] || [ "$n2" -le "$m2" ]; } && [ $i -lt 60 ]; do
        sleep 0.5
        n1=$(merging "$p1") n2=$(merging "$p2")
        i=$((i + 1))
done
[ "$n1" -gt "$m1" ]
ok $? "ocvm1's QEMU ksm_merging_pages rose ($m1 -> $n1)"
[ "$n2" -gt "$m2" ]
ok $? "ocvm2's QEMU ksm_merging_pages rose ($m2 -> $n2)"

# The threshold lowered again: reload; the balloons grow back.
sed -i 's/^HostPressure=.*/HostPressure=20%/' "$tmp/numavd.conf"
kill -HUP "$daemon"
wait_log "Configuration reloaded" 50
ok $? "numavd reloads on SIGHUP"
i=0
until [ "$(actual_kib ocvm1)" = 262144 ] && [ "$(actual_kib ocvm2)" = 262144 ] || [ $i -gt 150 ]; do
        sleep 0.2
        i=$((i + 1))
done
[ "$(actual_kib ocvm1)" = 262144 ]
ok $? "ocvm1's balloon grew back to 256 MiB after the reload ($((i / 5)) s)"
[ "$(actual_kib ocvm2)" = 262144 ]
ok $? "ocvm2's balloon grew back to 256 MiB after the reload"

kill -TERM "$daemon"
wait "$daemon"
ok $? "numavd exits cleanly"
daemon=
json_true "$tmp/watch.out" '.vms.ocvm3.balloon.stalled == true and .vms.ocvm1.balloon.floorBytes == 209715200 and
       .vms.ocvm2.balloon.floorBytes == 218103808 and .ksm.vmMergingPages > 0' 2>/dev/null || sed -n '/^{/,$p' "$tmp/watch.out" | json_ok '.vms.ocvm3.balloon.stalled == true and
       .vms.ocvm1.balloon.floorBytes == 209715200 and .vms.ocvm2.balloon.floorBytes == 218103808 and
       .ksm.vmMergingPages > 0'
ok $? "the summary reports the floors, ocvm3 stalled and what KSM saves"
ksm_snapshot >"$tmp/ksm.after"
diff "$tmp/ksm.before" "$tmp/ksm.after" >"$tmp/ksm.diff"
ok $? "after numavd stops, every KSM knob is exactly as before$( [ -s "$tmp/ksm.diff" ] && echo ": $(tr '\n' ' ' <"$tmp/ksm.diff")")"
[ ! -e /run/numavd/ksm.state ]
ok $? "numavd removed its KSM state file"

# A crash: SIGKILL while KSM is on; the next start puts the host's settings back.
"$numavd" --varlink=no --config="$tmp/pressure.conf" --log-level=info >/dev/null 2>"$tmp/crash.err" &
daemon=$!
_lv_wait 100 test -e /run/numavd/ksm.state && _lv_wait 50 grep -qx 1 "$KSM/run"
ok $? "a second numavd turned KSM on"
kill -KILL "$daemon"
wait "$daemon" 2>/dev/null
daemon=
[ -e /run/numavd/ksm.state ] && [ "$(cat $KSM/run)" = 1 ]
ok $? "killed with SIGKILL: KSM left on, the state file left behind"
sed 's/^HostPressure=.*/HostPressure=20%/; s/^Threshold=.*/Threshold=20%/' "$tmp/pressure.conf" >"$tmp/calm.conf"
"$numavd" --varlink=no --config="$tmp/calm.conf" --once --log-level=info >/dev/null 2>"$tmp/restart.err"
ok $? "the next numavd runs an epoch and exits"
grep -q "restoring the KSM settings it saved" "$tmp/restart.err"
ok $? "it found the state file of the crashed run"
ksm_snapshot >"$tmp/ksm.after2"
diff "$tmp/ksm.before" "$tmp/ksm.after2" >"$tmp/ksm.diff2"
ok $? "after the crash and a restart, every KSM knob is exactly as before$( [ -s "$tmp/ksm.diff2" ] && echo ": $(tr '\n' ' ' <"$tmp/ksm.diff2")")"
[ ! -e /run/numavd/ksm.state ]
ok $? "and the crashed run's state file is gone"

if [ "$tap_failed" -gt 0 ]; then
        echo "# numavd log:"
        tail -n 40 "$tmp/numavd.err" | sed 's/^/#   /'
fi
echo "# took $((($(date +%s%N) - start) / 1000000)) ms"
done_testing
