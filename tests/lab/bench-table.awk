#!/usr/bin/awk -f
# tests/lab/lab-bench.sh's table for docs/bench.md: cells.csv (with progress_vs_none) as one
# Markdown table per kernel, a row per scenario and policy in the order the cells ran: every
# repetition's seconds to 95% ("never" for a cell that did not get there), and the means over the
# repetitions of the bytes moved per hot byte, the ping-pong, the policy's CPU seconds (NA where
# its work runs in the workload's own threads), the hot-local share at the end and the progress
# against the none cell.
BEGIN { FS = "," }
NR == 1 { next }
{
        k = $1 SUBSEP $2 SUBSEP $3
        if (!(k in n)) { order[++groups] = k; if (!($1 in seen)) { seen[$1] = 1; kernels[++nk] = $1 } }
        i = ++n[k]
        t95[k] = t95[k] (i > 1 ? ", " : "") ($5 == "NA" ? "never" : $5)
        moved[k] += $7 > 0 ? $6 / $7 : 0
        pp[k] += $8 / 1048576
        if ($9 != "NA") { cpu[k] += $9; ncpu[k]++ }
        lend[k] += $12
        if ($13 != "NA") { prog[k] += $13; nprog[k]++ }
}
END {
        for (x = 1; x <= nk; x++) {
                printf "%s**%s**\n\n", (x > 1 ? "\n" : ""), kernels[x]
                print "| scenario | policy | reps | s to 95% | moved / hot | ping-pong MiB | policy CPU s | local at end | progress vs none |"
                print "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
                for (g = 1; g <= groups; g++) {
                        split(order[g], f, SUBSEP)
                        if (f[1] != kernels[x]) continue
                        k = order[g]; m = n[k]
                        printf "| %s | %s | %d | %s | %.2f | %.1f | %s | %.2f | %s |\n", f[2], f[3], m, t95[k],
                               moved[k] / m, pp[k] / m, ncpu[k] ? sprintf("%.1f", cpu[k] / ncpu[k]) : "NA",
                               lend[k] / m, nprog[k] ? sprintf("%.2f", prog[k] / nprog[k]) : "NA"
                }
        }
}
