#!/bin/bash
# The whole daemon against the simulated host: convergence after a re-home, determinism, dry-run,
# configuration errors, reload and signals.
set -u
. "${top_srcdir:-.}/tests/tap.sh"
numavd="${top_builddir:-.}/numavd"
scn="${top_srcdir:-.}/tests/scenarios/rehome-test.scn"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null' EXIT

cat >"$tmp/numavd.conf" <<CONF
[Daemon]
Epoch=1s
[Sampler]
SampleInterval=50ms
CONF

# 1. Re-home: vCPUs move to node 1 at 2 s; 10 epochs later the hot set must be there.
"$numavd" --config="$tmp/numavd.conf" --sim="$scn" --speed=0 --epochs=12 --summary=json \
        >"$tmp/run1.json" 2>"$tmp/run1.err"
ok $? "numavd --sim runs 12 epochs and exits 0"
json_true "$tmp/run1.json" '.epochs == 12'; ok $? "summary counts 12 epochs"
json_true "$tmp/run1.json" '.vms.rehome.truth.hotLocalPercent >= 95'
ok $? "hot set on the vCPUs' node within 10 epochs of the re-home: $(jq .vms.rehome.truth.hotLocalPercent "$tmp/run1.json")%"
json_true "$tmp/run1.json" '.vms.rehome.truth.bytesMoved <= 1.2 * .vms.rehome.truth.hotBytes'
ok $? "bytes moved <= 1.2 x hot bytes: $(jq '.vms.rehome.truth.bytesMoved / .vms.rehome.truth.hotBytes' "$tmp/run1.json")"
json_true "$tmp/run1.json" '.vms.rehome.truth.coldBytesMoved <= 0.02 * (1073741824 - .vms.rehome.truth.hotBytes)'
ok $? "cold pages stay where they were: $(jq .vms.rehome.truth.coldBytesMoved "$tmp/run1.json") cold bytes moved"
json_true "$tmp/run1.json" '.vms.rehome.migratedBytes == .vms.rehome.truth.bytesMoved'
ok $? "numavd's migrated bytes match what the host saw move"
json_true "$tmp/run1.json" '.vms.rehome.pingPongBytes == 0'; ok $? "no ping-pong"
json_true "$tmp/run1.json" '.vms.rehome.hotLocalPercent >= 90'; ok $? "numavd's own view agrees: hot memory local"
json_true "$tmp/run1.json" '.vms.rehome | has("hotBytes") and has("migratedBytes") and has("pingPongBytes")'
ok $? "summary has the documented per-VM fields"

# 1b. The hot set shifts at 10 s: the regions that turn hot move within the epoch that sees the
# shift (a quarter epoch in), not at its end: had they waited for the epoch's end, that epoch would
# be 97.5% remote. The sim charges the copies (256 MiB of 4 KiB pages at 14 us each, about 0.9 s),
# and a page serves from its old node until its copy ends, so the epoch stays about 70% remote and
# the copies end in the next one.
"$numavd" --config="$tmp/numavd.conf" --sim="${top_srcdir:-.}/bench/scenarios/phase.scn" --speed=0 --epochs=11 \
        --summary=json >"$tmp/phase.json" 2>/dev/null
json_true "$tmp/phase.json" '.vms.db1.truth.remoteFraction < 0.8'
ok $? "a shifted hot set moves within the epoch that sees it: $(jq .vms.db1.truth.remoteFraction "$tmp/phase.json") remote"
"$numavd" --config="$tmp/numavd.conf" --sim="${top_srcdir:-.}/bench/scenarios/phase.scn" --speed=0 --epochs=12 \
        --summary=json >"$tmp/phase12.json" 2>/dev/null
json_true "$tmp/phase12.json" '.vms.db1.truth.remoteFraction < 0.1 and .vms.db1.truth.hotLocalPercent == 100'
ok $? "and its copies end in the next epoch: $(jq .vms.db1.truth.hotLocalPercent "$tmp/phase12.json")% local"
json_true "$tmp/phase.json" '.vms.db1.truth.coldBytesMoved == 0 and .vms.db1.pingPongBytes == 0'
ok $? "... moving no cold page and no page back"

# 1c. Attribution: an L2 guest run by the two vCPUs of its VM that sit on the other node. Sampled
# faults say who touches its memory, which then goes to those vCPUs' node, not to the VM's.
l2="${top_srcdir:-.}/bench/scenarios/l2-split.scn"
"$numavd" --config="$tmp/numavd.conf" --sim="$l2" --speed=0 --epochs=10 --summary=json >"$tmp/l2.json" 2>/dev/null
json_true "$tmp/l2.json" '.vms.host1.truth.ownedLocalBytes >= 0.95 * .vms.host1.truth.ownedHotBytes'
ok $? "each node's private hot data on that node: $(jq '.vms.host1.truth.ownedLocalBytes / .vms.host1.truth.ownedHotBytes' "$tmp/l2.json")"
json_true "$tmp/l2.json" '.vms.host1.attribution.faultsSampled > 0 and .vms.host1.attribution.privateBytesPerNode[1] > 0 and .vms.host1.attribution.faultsDropped == 0'
ok $? "the summary reports the faults sampled and bytes private to node 1"
json_true "$tmp/l2.json" '.vms.host1.pingPongBytes == 0 and .vms.host1.truth.coldBytesMoved == 0'
ok $? "... moving no cold page and no page back"
printf '[Sampler]\nAttributionRate=0\n' >"$tmp/noattr.conf"
"$numavd" --config="$tmp/noattr.conf" --sim="$l2" --speed=0 --epochs=10 --summary=json >"$tmp/l2-off.json" 2>/dev/null
json_true "$tmp/l2-off.json" '.vms.host1.attribution == null and .vms.host1.truth.ownedLocalBytes < 0.8 * .vms.host1.truth.ownedHotBytes'
ok $? "AttributionRate=0: whole-VM placement, the L2's memory goes to the VM's node: $(jq '.vms.host1.truth.ownedLocalBytes / .vms.host1.truth.ownedHotBytes' "$tmp/l2-off.json")"

# 2. Deterministic for a seed.
"$numavd" --config="$tmp/numavd.conf" --sim="$scn" --speed=0 --epochs=12 --summary=json >"$tmp/run2.json" 2>/dev/null
cmp -s "$tmp/run1.json" "$tmp/run2.json"; ok $? "the same scenario and seed give the same summary"

# 3. Dry run: plans, moves nothing.
"$numavd" --config="$tmp/numavd.conf" --sim="$scn" --speed=0 --epochs=6 --dry-run --summary=json >"$tmp/dry.json" 2>/dev/null
json_true "$tmp/dry.json" '.dryRun and .migratedBytes == 0 and .vms.rehome.truth.bytesMoved == 0'
ok $? "--dry-run moves nothing"
json_true "$tmp/dry.json" '.vms.rehome.bytesByVerdict.move > 0'; ok $? "--dry-run still plans moves"

# 4. Placement=no for this VM through a [VM] override.
printf '[VM "reh*"]\nPlacement=no\n' >"$tmp/off.conf"
"$numavd" --config="$tmp/off.conf" --sim="$scn" --speed=0 --epochs=6 --summary=json >"$tmp/off.json" 2>/dev/null
json_true "$tmp/off.json" '.vms.rehome.migratedBytes == 0 and .vms.rehome.bytesByVerdict.disabled > 0'
ok $? "a [VM] override disables placement for a matching VM"

# 4b. The largest rate with a 2 s epoch: its byte budget saturates (through a double it overflowed
# to 0, and nothing moved); MinResidency=infinity keeps moved regions put.
printf '[Daemon]\nEpoch=2s\n[Placement]\nMaxMoveRate=15E\nMinResidency=infinity\n' >"$tmp/rate.conf"
"$numavd" --config="$tmp/rate.conf" --sim="$scn" --speed=0 --epochs=6 --summary=json >"$tmp/rate.json" 2>"$tmp/rate.err"
json_true "$tmp/rate.json" '.vms.rehome.truth.hotLocalPercent >= 95 and .migratedBytes > 0'
ok $? "MaxMoveRate=15E with Epoch=2s moves the hot set: $(jq .migratedBytes "$tmp/rate.json") bytes"

# 5. Configuration errors name file:line and exit 1.
printf '[Placement]\nMaxMoveRate=lots\n' >"$tmp/bad.conf"
"$numavd" --config="$tmp/bad.conf" --sim="$scn" --speed=0 --once >/dev/null 2>"$tmp/bad.err"
ok $([ $? -eq 1 ] && echo 0 || echo 1) "an invalid value makes startup exit 1"
grep -q "bad.conf:2" "$tmp/bad.err"; ok $? "the error names bad.conf:2: $(head -n1 "$tmp/bad.err")"
"$numavd" --sim="$tmp/missing.scn" --once >/dev/null 2>"$tmp/noscn.err"
ok $([ $? -eq 1 ] && echo 0 || echo 1) "a missing scenario makes startup exit 1"
"$numavd" --epochs=0 >/dev/null 2>&1
ok $([ $? -eq 1 ] && echo 0 || echo 1) "--epochs=0 is refused"

# 5b. NodeFreeFloor=2% is 2% of each node: a small node (a CXL expander, say) with about 1 GiB free
# takes a VM's hot set, which a floor of 2% of the 64 GiB node (1.3 GiB) would have kept out.
cat >"$tmp/small-node.scn" <<SCN
node 0 mem 64G cpus 0-7
node 1 mem 2G cpus 8-9
grow 1 1G
vm small mem 512M vcpus 2 first-touch 0
  run 0-1 on 8-9
  workload hot 128M rate 1M
SCN
"$numavd" --config="$tmp/numavd.conf" --sim="$tmp/small-node.scn" --speed=0 --epochs=6 --summary=json \
        >"$tmp/small.json" 2>/dev/null
json_true "$tmp/small.json" '.vms.small.truth.hotLocalPercent >= 95'
ok $? "a small node takes hot memory down to 2% of its own size: $(jq .vms.small.truth.hotLocalPercent "$tmp/small.json")% local"

# 6. Reload: a broken file keeps the old config; a good one is applied; SIGTERM exits cleanly.
cp "$tmp/numavd.conf" "$tmp/live.conf"
"$numavd" --config="$tmp/live.conf" --sim="$scn" --speed=20 --summary=json >"$tmp/live.json" 2>"$tmp/live.err" &
pid=$!
# Signals are handled once the daemon tracks its VM: wait for that, not for a fixed time.
wait_for "Tracking VM" "$tmp/live.err"
printf '[Daemon]\nEpoch=fast\n' >"$tmp/live.conf"
kill -HUP "$pid"
wait_for "keeping the previous one" "$tmp/live.err"
kill -0 "$pid" 2>/dev/null; ok $? "a reload with an invalid file keeps the daemon running"
grep -q "live.conf:2" "$tmp/live.err"; ok $? "the reload error names live.conf:2"
grep -q "keeping the previous one" "$tmp/live.err"; ok $? "the reload error says the old configuration stays"
printf '[Daemon]\nLogLevel=debug\n' >"$tmp/live.conf"
kill -HUP "$pid"
wait_for "Configuration reloaded" "$tmp/live.err"
grep -q "Configuration reloaded" "$tmp/live.err"; ok $? "a reload with a valid file is applied"
kill -TERM "$pid"
wait "$pid"; rc=$?
pid=
ok $rc "SIGTERM exits 0"
json_true "$tmp/live.json" '.epochs >= 1'; ok $? "the summary is printed after SIGTERM"

# 7. A SIGHUP as soon as numavd runs its main() (systemd's reload, a hook) is a reload, never a
# death by signal. Before main(), the dynamic loader's few milliseconds are out of the daemon's
# hands: main() is known to run once SIGHUP is blocked (what it does first) or SIGPIPE ignored
# (what the manager does first), as /proc/PID/status shows.
main_runs() { # pid
        local line blk=0 ign=0
        while IFS= read -r line; do
                case $line in
                SigBlk:*) blk=$((16#${line##*[[:space:]]})) ;;
                SigIgn:*) ign=$((16#${line##*[[:space:]]})) ;;
                esac
        done <"/proc/$1/status" 2>/dev/null || return 0 # gone: nothing to wait for
        (( (blk & 0x1) || (ign & 0x1000) ))             # SIGHUP is 1, SIGPIPE 13
}
for i in 1 2 3 4 5 6 7 8; do
        "$numavd" --config="$tmp/numavd.conf" --sim="$scn" --speed=0 --epochs=3 >/dev/null 2>"$tmp/early.err" &
        pid=$!
        until main_runs "$pid"; do :; done
        kill -HUP "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null; rc=$?
        pid=
        [ $rc -eq 0 ] || break
done
ok $rc "a SIGHUP as soon as main() runs never kills numavd (8 runs, exit status $rc)"

# 8. A FIFO swapped in for the config file: the reload is refused at once, the daemon goes on.
cp "$tmp/numavd.conf" "$tmp/swap.conf"
"$numavd" --config="$tmp/swap.conf" --sim="$scn" --speed=20 >/dev/null 2>"$tmp/swap.err" &
pid=$!
wait_for "Tracking VM" "$tmp/swap.err"
rm "$tmp/swap.conf" && mkfifo "$tmp/swap.conf"
kill -HUP "$pid"
wait_for "keeping the previous one" "$tmp/swap.err"
grep -q "swap.conf is a FIFO, not a regular file" "$tmp/swap.err"; ok $? "a reload of a FIFO names it: $(grep FIFO "$tmp/swap.err")"
rm "$tmp/swap.conf" && cp "$tmp/numavd.conf" "$tmp/swap.conf"
kill -HUP "$pid"
wait_for "Configuration reloaded" "$tmp/swap.err"
grep -q "Configuration reloaded" "$tmp/swap.err"; ok $? "the event loop was not blocked: the next reload is applied"
kill -TERM "$pid"
wait "$pid"; ok $? "and SIGTERM exits 0"
pid=

done_testing
