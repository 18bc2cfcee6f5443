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
# shift (a quarter epoch in), not at its end; before, that epoch was 97.5% remote.
"$numavd" --config="$tmp/numavd.conf" --sim="${top_srcdir:-.}/bench/scenarios/phase.scn" --speed=0 --epochs=11 \
        --summary=json >"$tmp/phase.json" 2>/dev/null
json_true "$tmp/phase.json" '.vms.db1.truth.remoteFraction < 0.5 and .vms.db1.truth.hotLocalPercent == 100'
ok $? "a shifted hot set moves within the epoch that sees it: $(jq .vms.db1.truth.remoteFraction "$tmp/phase.json") remote"
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

# 5. Configuration errors name file:line and exit 1.
printf '[Placement]\nMaxMoveRate=lots\n' >"$tmp/bad.conf"
"$numavd" --config="$tmp/bad.conf" --sim="$scn" --speed=0 --once >/dev/null 2>"$tmp/bad.err"
ok $([ $? -eq 1 ] && echo 0 || echo 1) "an invalid value makes startup exit 1"
grep -q "bad.conf:2" "$tmp/bad.err"; ok $? "the error names bad.conf:2: $(head -n1 "$tmp/bad.err")"
"$numavd" --sim="$tmp/missing.scn" --once >/dev/null 2>"$tmp/noscn.err"
ok $([ $? -eq 1 ] && echo 0 || echo 1) "a missing scenario makes startup exit 1"
"$numavd" --epochs=0 >/dev/null 2>&1
ok $([ $? -eq 1 ] && echo 0 || echo 1) "--epochs=0 is refused"

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

done_testing
