#!/bin/bash
# The lab bake-off (make lab-bench; tests/lab/README.md): boots each kernel once and runs
# tests/lab/bench-cells.sh there (every scenario under every policy, one cell after the other), then
# gathers the cells into BUILDDIR/lab/bench/: cells.csv (every cell, with progress_vs_none),
# summary.csv (per kernel, scenario and policy: medians over the repetitions), spread.csv (min and
# max over them), table.md (docs/bench.md's table), series/ (hot-local share over time) and
# SCENARIO-KERNEL.png (gnuplot).
# Exits 1 when a guest failed, a cell left something behind, or a policy that should act has no
# evidence of acting. env: LAB_BENCH=quick|full (default full), LAB_BENCH_SCENES and
# LAB_BENCH_POLICIES (only these scenarios, policies), LAB_KERNELS (only these kernels), top_srcdir,
# top_builddir.
set -u
src=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${top_builddir:-$PWD}
mode=${LAB_BENCH:-full}
out=$build/lab/bench
t_start=$(date +%s)
case $mode in
quick) kernels=${LAB_KERNELS:-6.12} ;; # DAMON and DAMOS exist there: every policy runs
full) kernels=${LAB_KERNELS:-6.1 6.12} ;;
*)
        echo "LAB_BENCH=$mode: quick or full" >&2
        exit 2
        ;;
esac
rm -rf "$out" && mkdir -p "$out/series"

LAB_BENCH=$mode LAB_KERNELS=$kernels top_srcdir=$src top_builddir=$build "$src/tests/lab/lab.sh" bench-cells
rc=$?
for k in $kernels; do
        share=$build/lab/bench-cells-$k/share
        [ -s "$share/cells.csv" ] || { echo "lab-bench: no cells from $k" >&2; rc=1; continue; }
        [ -s "$out/cells.csv" ] || head -n1 "$share/cells.csv" >"$out/cells.csv"
        tail -n +2 "$share/cells.csv" >>"$out/cells.csv"
        for f in "$share"/series/*.dat; do [ -e "$f" ] && cp "$f" "$out/series/$k-${f##*/}"; done
done
[ -s "$out/cells.csv" ] || { echo "lab-bench: no cells at all" >&2; exit 1; }

# progress_vs_none: the workload's passes per second against the none cell of the same kernel,
# scenario and repetition.
awk -F, -v OFS=, 'NR == FNR { if ($3 == "none") base[$1 "," $2 "," $4] = $10; next }
        FNR == 1 { print $0, "progress_vs_none"; next }
        { b = base[$1 "," $2 "," $4]; print $0, (b > 0 ? sprintf("%.2f", $10 / b) : "NA") }' \
        "$out/cells.csv" "$out/cells.csv" >"$out/cells.tmp" && mv "$out/cells.tmp" "$out/cells.csv"

# Medians (a cell that never reached 95% counts as the longest), min and max per kernel, scenario
# and policy.
"$src/tests/lab/bench-summary.awk" -v out="$out" "$out/cells.csv"
# The same cells as docs/bench.md shows them: every repetition, and the means.
"$src/tests/lab/bench-table.awk" "$out/cells.csv" >"$out/table.md" || rc=1

# Empty evidence where a policy should have acted fails the run.
missing=$(awk -F, 'NR > 1 && $11 == "" { print $1 "/" $2 "/" $3 "/" $4 }' "$out/cells.csv")
if [ -n "$missing" ]; then
        echo "lab-bench: no evidence that the policy acted in: $missing" >&2
        rc=1
fi

if command -v gnuplot >/dev/null; then
        for k in $kernels; do
                for sc in $(awk -F, -v k="$k" 'NR > 1 && $1 == k { print $2 }' "$out/cells.csv" | sort -u); do
                        gnuplot -e "dir='$out/series'; prefix='$k-$sc-'; out='$out/$sc-$k.png'; title='$sc, $k'" \
                                "$src/tests/lab/bench-plot.gp" || rc=1
                done
        done
else
        echo "lab-bench: gnuplot missing (tests/lab/lab-deps.sh): no plots" >&2
        rc=1
fi
column -s, -t "$out/summary.csv"
echo "lab-bench ($mode, kernels $kernels): $(($(date +%s) - t_start)) s; results in $out"
exit $rc
