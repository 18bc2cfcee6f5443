#!/bin/bash
# The bake-off's summaries (tests/lab/bench-summary.awk, bench-table.awk), which make lab-bench
# runs on the cells of real kernels, checked here on a fixture of cells: two repetitions on 6.1,
# one that never reached 95%, and a kernel with one.
set -u
. "${top_srcdir:-.}/tests/tap.sh"
src=${top_srcdir:-.}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The fixture has lab-bench.sh's progress_vs_none column (passes per second against the none cell
# of the same kernel, scenario and repetition) worked out.
cells=$src/tests/fixtures/lab-bench/cells.csv

"$src/tests/lab/bench-summary.awk" -v out="$tmp" "$cells"
ok $? "bench-summary.awk runs"
# Medians: the middle repetition, the lower of two; a cell that never got there counts as the
# longest.
grep -qx '6.1,rehome,numavd-kmod,2,16777216,33554432,0,numavd_migrated=33554432; numavd_migrated=16777216' "$tmp/summary.csv"
ok $? "summary: of 2.0 s and never, the median of two is 2; the evidence of both cells"
grep -qx '6.1,rehome,autonuma,2.7,33554432,33554432,0,numa_hint_faults=10 numa_pages_migrated=8192; numa_hint_faults=12 numa_pages_migrated=9216' "$tmp/summary.csv"
ok $? "summary: each column's own median (2.7 s, the lower bytes and ping-pong)"
grep -qx '6.1,rehome,numavd-kmod,2,2,NA,16777216,33554432,0,0,0.5,1' "$tmp/spread.csv"
ok $? "spread: min and max of seconds (NA: never), bytes, ping-pong and the end share"

"$src/tests/lab/bench-table.awk" "$cells" >"$tmp/table.md"
ok $? "bench-table.awk runs"
[ "$(grep -c '^\*\*6\.1\*\*$' "$tmp/table.md")" = 1 ] && [ "$(grep -c '^\*\*6\.12\*\*$' "$tmp/table.md")" = 1 ]
ok $? "table: one table per kernel"
grep -qxF '| rehome | autonuma | 2 | 9.1, 2.7 | 1.06 | 1.0 | NA | 1.00 | 0.50 |' "$tmp/table.md"
ok $? "table: each repetition's seconds, mean moved/hot, ping-pong MiB, CPU NA for NUMA balancing, progress: $(grep '| rehome | autonuma' "$tmp/table.md")"
grep -qxF '| rehome | numavd-kmod | 2 | 2.0, never | 0.75 | 0.0 | 13.0 | 0.75 | 0.45 |' "$tmp/table.md"
ok $? "table: a cell that never got there says never; the means of the rest: $(grep '| rehome | numavd-kmod' "$tmp/table.md")"
grep -qxF '| wide | numavd-attrib | 1 | 5.4 | 0.75 | 0.0 | 19.4 | 1.00 | 0.20 |' "$tmp/table.md"
ok $? "table: 6.12's row: $(grep '| wide | numavd-attrib' "$tmp/table.md")"
[ "$(grep -c '^| [a-z]* | [a-z-]* | [0-9]' "$tmp/table.md")" = 5 ]
ok $? "table: a row per kernel, scenario and policy (5)"
done_testing
