#!/bin/bash
# numavd's metrics where Prometheus looks, from a running `numavd --sim`:
#   - `numavctl metrics` passes `promtool check metrics` (Debian's prometheus);
#   - the route of numavd-metrics.service: `numavctl --output=DIR/numavd.prom metrics` replaces the
#     file atomically, and prometheus-node-exporter's textfile collector, listening on 127.0.0.1 on
#     a port of its own, serves the numavd_ series, per VM and node included;
#   - a failing numavctl leaves the previous numavd.prom as it was.
set -u
. "${top_srcdir:-.}/tests/tap.sh"
. "${top_srcdir:-.}/tests/numavd-daemon.sh"
exporter=
test_cleanup() { [ -n "$exporter" ] && kill "$exporter" 2>/dev/null && wait "$exporter" 2>/dev/null; }

for t in promtool:prometheus prometheus-node-exporter:prometheus-node-exporter curl:curl; do
        command -v "${t%%:*}" >/dev/null || { echo "1..0 # SKIP ${t%%:*} is missing (apt-get install ${t#*:})"; exit 0; }
done
numavd_start --sim="$top_srcdir/tests/go-varlink/two.scn" --speed=20
for _ in $(seq 100); do ctl --json status 2>/dev/null | json_ok '.epoch >= 3' && break; sleep 0.1; done
ctl --json status | json_ok '.epoch >= 3'; ok $? "numavd --sim runs and answers"

ctl metrics >"$tmp/metrics.txt"
ok $? "numavctl metrics"
promtool check metrics <"$tmp/metrics.txt" >"$tmp/promtool.txt" 2>&1
rc=$?
sed 's/^/# promtool: /' "$tmp/promtool.txt"
[ $rc -eq 0 ] && ! [ -s "$tmp/promtool.txt" ]
ok $? "promtool check metrics finds nothing to say"
# The check can fail: a metric with neither HELP nor a valid name is reported.
printf '# TYPE numavd_bad counter\nnumavd_bad{vm="x" 1\n' | promtool check metrics >/dev/null 2>&1
[ $? -ne 0 ]; ok $? "promtool check metrics rejects a broken exposition"

# The textfile route.
mkdir "$tmp/textfile"
ctl --output="$tmp/textfile/numavd.prom" metrics
ok $? "numavctl --output=DIR/numavd.prom metrics"
check "numavd.prom is mode 0644, for the exporter's user ($(stat -c %a "$tmp/textfile/numavd.prom"))" \
        test "$(stat -c %a "$tmp/textfile/numavd.prom")" = 644
check "and no temporary file is left ($(ls "$tmp/textfile" | tr '\n' ' '))" test "$(ls "$tmp/textfile")" = numavd.prom

port=
for try in $(seq 10); do
        p=$((20000 + RANDOM % 20000))
        prometheus-node-exporter --web.listen-address="127.0.0.1:$p" --collector.disable-defaults \
                --collector.textfile --collector.textfile.directory="$tmp/textfile" >"$tmp/exporter.log" 2>&1 &
        exporter=$!
        for _ in $(seq 50); do
                curl -fsS "http://127.0.0.1:$p/metrics" >"$tmp/scrape.txt" 2>/dev/null && { port=$p; break; }
                kill -0 "$exporter" 2>/dev/null || break
                sleep 0.1
        done
        [ -n "$port" ] && break
        kill "$exporter" 2>/dev/null; wait "$exporter" 2>/dev/null; exporter=
done
check "prometheus-node-exporter serves on 127.0.0.1:${port:-?}" test -n "$port"
grep -E '^numavd_' "$tmp/scrape.txt" | head -n 6 | sed 's/^/# scrape: /'
grep -qE '^numavd_epochs_total [1-9][0-9]*$' "$tmp/scrape.txt"
ok $? "it serves numavd_epochs_total from the running numavd"
grep -qE '^numavd_vms 2$' "$tmp/scrape.txt"; ok $? "it serves numavd_vms 2"
for vm in alpha beta; do
        for node in 0 1; do
                grep -qE "^numavd_vm_node_bytes\{node=\"$node\",vm=\"$vm\"\} [0-9.e+]+$" "$tmp/scrape.txt"
                ok $? "numavd_vm_node_bytes{node=\"$node\",vm=\"$vm\"}"
                grep -qE "^numavd_vm_hot_node_bytes\{node=\"$node\",vm=\"$vm\"\} [0-9.e+]+$" "$tmp/scrape.txt"
                ok $? "numavd_vm_hot_node_bytes{node=\"$node\",vm=\"$vm\"}"
        done
done
# The per-node series add up to the VM's totals, as numavd reports them.
mem=$(awk '/^numavd_vm_node_bytes\{.*vm="alpha"/ { s += $2 } END { printf "%.0f", s }' "$tmp/scrape.txt")
total=$(awk '/^numavd_vm_memory_bytes\{vm="alpha"\}/ { printf "%.0f", $2 }' "$tmp/scrape.txt")
check "alpha's memory per node adds up to its memory ($mem of $total)" test "$mem" = "$total" -a "${total:-0}" -gt 0
hot=$(awk '/^numavd_vm_hot_node_bytes\{.*vm="alpha"/ { s += $2 } END { printf "%.0f", s }' "$tmp/scrape.txt")
check "alpha has hot memory on some node ($hot bytes)" test "${hot:-0}" -gt 0
grep -q '^node_textfile_scrape_error 0$' "$tmp/scrape.txt"; ok $? "the textfile collector read numavd.prom without error"

# A failure keeps the previous file.
cp "$tmp/textfile/numavd.prom" "$tmp/before.prom"
"$numavctl_bin" --address="unix:$tmp/nobody-here" --output="$tmp/textfile/numavd.prom" metrics 2>/dev/null
[ $? -eq 3 ]; ok $? "numavctl --output against no daemon fails (exit 3)"
cmp -s "$tmp/before.prom" "$tmp/textfile/numavd.prom" && [ "$(ls "$tmp/textfile")" = numavd.prom ]
ok $? "and leaves numavd.prom as it was, with no temporary file"
ctl --output="$tmp/no-such-dir/numavd.prom" metrics 2>"$tmp/err.txt"
[ $? -eq 1 ] && grep -q "Cannot write $tmp/no-such-dir/numavd.prom" "$tmp/err.txt"
ok $? "an unwritable --output is a clear error ($(head -c 120 "$tmp/err.txt"))"
kill -0 "$numavd_pid"; ok $? "numavd is still running"
done_testing
