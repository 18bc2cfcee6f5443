#!/bin/bash
# numavctl heatmap and the per-node bar of numavctl vms, against a running `numavd --sim`: in a real
# terminal (tmux, read back with capture-pane -e: the terminal's colours), as plain text when the
# output is no terminal, with NO_COLOR, and as JSON.
set -u
. "${top_srcdir:-.}/tests/tap.sh"
B=$(cd "${top_builddir:-.}" && pwd)
. "${top_srcdir:-.}/tests/numavd-daemon.sh"
sock=$tmp/tmux.sock
test_cleanup() { tmux -S "$sock" kill-server 2>/dev/null; }

for t in tmux:tmux jq:jq; do
        command -v "${t%%:*}" >/dev/null || { echo "1..0 # SKIP ${t%%:*} is missing (apt-get install ${t#*:})"; exit 0; }
done
numavd_start --sim="$top_srcdir/tests/go-varlink/two.scn" --speed=20
# Wait until alpha's regions have a plan and its hottest ones have warmed up to a full bar: heat
# climbs over the first epochs, so a map read at the first hot region may have none yet.
for _ in $(seq 300); do
        ctl --json heatmap alpha 2>/dev/null |
                json_ok '[.regions[] | select(.hot)] | length > 0 and (map(.heat) | max) >= 0.95' && break
        sleep 0.1
done

ctl --json heatmap alpha >"$tmp/map.json"
ok $? "numavctl --json heatmap alpha"
json_true "$tmp/map.json" '.name == "alpha" and (.regions | length) > 1 and .hotHeat > 0'
ok $? "the JSON names the VM, its regions and the heat that counts as hot"
json_true "$tmp/map.json" '[.regions[] | .start, .bytes, .heat, .node, .target, (.nodeBytes | length)] | all(type == "number")'
ok $? "each region has start, bytes, heat, node, target and bytes per node"
json_true "$tmp/map.json" '(reduce .regions[] as $r (0; . + $r.bytes)) == 268435456'
ok $? "the regions cover alpha's 256 MiB of guest RAM"
json_true "$tmp/map.json" '[.regions[] | select(.hot)] | length > 0 and all(.target == 1)'
ok $? "alpha's hot regions are to go to node 1, where its vCPUs run"
nregions=$(jq '.regions | length' "$tmp/map.json")

# Plain: not a terminal.
ctl heatmap alpha >"$tmp/plain.txt"
ok $? "numavctl heatmap alpha into a file"
grep -qE '^Heat map of alpha, epoch [0-9]+: [0-9]+ regions, hot from heat [0-9.]+$' "$tmp/plain.txt"
ok $? "plain: the heading"
rows=$(grep -cE '^0x[0-9a-f]{12} +[0-9.]+[KMG]  [#.]{32} [01]\.[0-9]{2}[* ] +(-|[0-9]+) (->|  ) +(-|[0-9]+)$' "$tmp/plain.txt")
check "plain: one row per region, a bar of '#' and '.' ($rows rows, ~$nregions regions)" test "$rows" -gt 1
grep -qE '################################ (1\.00|0\.9[5-9])\*' "$tmp/plain.txt"; ok $? "plain: a full bar for the hottest regions (heat 0.95 or more), marked '*'"
! grep -q $'\033' "$tmp/plain.txt"; ok $? "plain: no escape sequence"
head -n 6 "$tmp/plain.txt" | sed 's/^/# /'

# A real terminal: tmux, 256 colours.
tmux -S "$sock" -f /dev/null new-session -d -x 120 -y 60 -e "NUMAVD_ADDRESS=$NUMAVD_ADDRESS" sh
run_in_tmux() { # command: run in the pane, wait for its end marker, capture with escapes
        tmux -S "$sock" send-keys "clear; $1; echo END-\$?" Enter
        for _ in $(seq 100); do
                tmux -S "$sock" capture-pane -p -e -J -S -60 >"$tmp/pane.txt"
                grep -q '^END-[0-9]' "$tmp/pane.txt" && return 0
                sleep 0.1
        done
        return 1
}
run_in_tmux "$B/numavctl heatmap alpha"
ok $? "numavctl heatmap alpha runs in tmux"
grep -q '^END-0' "$tmp/pane.txt"; ok $? "it exits 0 in the terminal"
sed -n '1,8p' "$tmp/pane.txt" | cat -v | cut -c1-160 | sed 's/^/# tmux: /'
grep -q $'\033\\[48;5;196m' "$tmp/pane.txt"; ok $? "tmux: the hottest cells are red (background colour 196)"
grep -q $'\033\\[48;5;' "$tmp/pane.txt" && ! grep -qE '^0x.*[#]{8}' "$tmp/pane.txt"
ok $? "tmux: heat drawn in colour, not with '#'"
grep -q $'\033\\[32m' "$tmp/pane.txt"; ok $? "tmux: a region on its target node has its node in green"

run_in_tmux "NO_COLOR=1 $B/numavctl heatmap alpha"
grep -qE '^0x[0-9a-f]{12} .*[#.]{32}' "$tmp/pane.txt" && ! grep -q $'\033\\[48;5;' "$tmp/pane.txt"
ok $? "tmux with NO_COLOR: plain characters"

run_in_tmux "$B/numavctl vms"
# tmux re-encodes what it shows: look for the colours, not for numavctl's exact bytes.
grep -E '^(.\[[0-9;]*m)?alpha ' "$tmp/pane.txt" >"$tmp/alpha-line.txt"
grep -qE $'\\[.*\033\\[48;5;[0-9]+m +.*\\] .*\033\\[38;5;[0-9]+m0.*:[0-9]+%' "$tmp/alpha-line.txt" &&
        ! grep -qE '\[[#=]+\]' "$tmp/alpha-line.txt"
ok $? "tmux: numavctl vms draws each VM's per-node bar in the nodes' colours"
ctl vms >"$tmp/vms.txt"
grep -qE '^alpha .*  \[[#=]{20}\] #0:[0-9]+% =1:[0-9]+%$' "$tmp/vms.txt"
ok $? "plain: numavctl vms prints the per-node bar with a symbol per node and each node's share"
sed 's/^/# /' "$tmp/vms.txt"

ctl heatmap no-such-vm >/dev/null 2>"$tmp/err.txt"
rc=$?
[ $rc -eq 1 ] && grep -q "io.numavd.Manager.NoSuchVM" "$tmp/err.txt"; ok $? "an unknown VM: NoSuchVM, exit 1 ($rc)"
ctl heatmap >/dev/null 2>&1; [ $? -eq 2 ]; ok $? "heatmap without a VM is a usage error (exit 2)"
kill -0 "$numavd_pid"; ok $? "numavd is still running"
done_testing
