#!/bin/bash
# numavd as a systemd service sees it: sd_notify READY, STATUS, RELOADING, STOPPING, the watchdog,
# and journal priority prefixes. systemd is not PID 1 here, so a test socket stands in for it.
set -u
. "${top_srcdir:-.}/tests/tap.sh"
numavd="${top_builddir:-.}/numavd"
listen="${top_builddir:-.}/tests/notify-listen"
scn="${top_srcdir:-.}/tests/scenarios/rehome-test.scn"
tmp=$(mktemp -d)
trap 'kill $lpid $dpid 2>/dev/null; rm -rf "$tmp"' EXIT
lpid=
dpid=

"$listen" "$tmp/notify" 30 >"$tmp/notify.log" &
lpid=$!
wait_for listening "$tmp/notify.log"

printf '[Daemon]\nEpoch=200ms\n' >"$tmp/numavd.conf"
NOTIFY_SOCKET="$tmp/notify" WATCHDOG_USEC=300000 JOURNAL_STREAM=8:1234 \
        "$numavd" --config="$tmp/numavd.conf" --sim="$scn" >/dev/null 2>"$tmp/err" &
dpid=$!
wait_for "^STATUS=Epoch 2:" "$tmp/notify.log"
kill -HUP "$dpid"
wait_for "^READY=1 STATUS=Configuration reloaded" "$tmp/notify.log"
wait_for "WATCHDOG=1" "$tmp/notify.log"
kill -TERM "$dpid"
wait "$dpid"
ok $? "numavd exits 0 on SIGTERM"
dpid=
sleep 0.2

grep -q '^READY=1 STATUS=Tracking 1 VMs' "$tmp/notify.log"; ok $? "READY=1 once the first inventory is in"
grep -q '^STATUS=Epoch [0-9]*: 1 VMs, .* hot, .*% local, .* moved$' "$tmp/notify.log"
ok $? "a one-line STATUS per epoch: $(grep -m1 '^STATUS=Epoch' "$tmp/notify.log")"
grep -q '^WATCHDOG=1' "$tmp/notify.log"; ok $? "WATCHDOG=1 pings when WATCHDOG_USEC is set"
grep -q '^RELOADING=1 .*MONOTONIC_USEC=[0-9]' "$tmp/notify.log"; ok $? "RELOADING=1 with MONOTONIC_USEC on SIGHUP"
grep -A3 '^RELOADING=1' "$tmp/notify.log" | grep -q '^READY=1'; ok $? "READY=1 again after the reload"
tail -n 1 "$tmp/notify.log" | grep -q '^STOPPING=1'; ok $? "STOPPING=1 last"
grep -q '^<6>Tracking VM rehome' "$tmp/err"; ok $? "journal priority prefixes when JOURNAL_STREAM is set"
! grep -qv '^<[0-7]>' "$tmp/err"; ok $? "every stderr line carries a priority prefix"

done_testing
