#!/bin/bash
# Slow subscribers cost numavd little: 100 Subscribe clients that never read, against numavd on
# the 16-VM scenario running epochs as fast as it can, add at most 32 MiB to its resident memory
# over 600 epochs (measured from VmRSS before they connect and after), and stay connected: each
# is owed only the latest epoch's summary.
set -u
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/numavd-daemon.sh"
B=$top_builddir
subs=
test_cleanup() { [ -n "$subs" ] && kill "$subs" 2>/dev/null; }

if ! command -v jq >/dev/null; then
        echo "1..0 # SKIP jq is not installed"
        exit 0
fi

epoch() { ctl --json status 2>/dev/null | jq -r '.epoch // 0'; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$numavd_pid/status"; }
sockets() { find "/proc/$numavd_pid/fd" -lname 'socket:*' 2>/dev/null | wc -l; }
wait_epoch() { # until the epoch reaches $1, for at most 300 s
        for _ in $(seq 3000); do [ "$(epoch)" -ge "$1" ] 2>/dev/null && return 0; sleep 0.1; done
        return 1
}

numavd_start --sim="$top_srcdir/bench/scenarios/many.scn" --speed=0
wait_epoch 30; ok $? "numavd runs the 16-VM scenario (epoch $(epoch))"
ctl --json monitor | head -n 1 >"$tmp/one.json"
size=$(wc -c <"$tmp/one.json")
[ "$size" -gt 1000 ]; ok $? "one epoch's summary is $size bytes"

before=$(rss_kib)
sockets_before=$(sockets)
mkfifo "$tmp/hold"
"$B/tests/varlink-raw" "$NUMAVD_ADDRESS" subscribe 100 <"$tmp/hold" >"$tmp/subs.out" 2>&1 & subs=$!
exec 9>"$tmp/hold"
for _ in $(seq 100); do [ -s "$tmp/subs.out" ] && break; sleep 0.1; done
[ "$(cat "$tmp/subs.out")" = 100 ]; ok $? "100 subscribers that never read are connected"
start=$(epoch)
wait_epoch $((start + 600)); ok $? "600 epochs pass (from $start to $(epoch))"
after=$(rss_kib)
grown=$(((after - before) / 1024))
echo "# VmRSS before $before KiB, after $after KiB: +$grown MiB; $((600 * size / 1024)) KiB of summaries were published to each subscriber"
[ "$after" -le $((before + 32 * 1024)) ]; ok $? "the stuck subscribers added $grown MiB to numavd's RSS (at most 32 MiB)"
[ $(($(sockets) - sockets_before)) -ge 100 ]; ok $? "all 100 are still connected ($(($(sockets) - sockets_before)) more sockets)"
ctl status >/dev/null; ok $? "numavd serves another client meanwhile"
exec 9>&-
wait "$subs"; subs=
numavd_stop; rc=$?
[ $rc -eq 0 ]; ok $? "numavd exits 0 (rc $rc)"
done_testing
