#!/usr/bin/awk -f
# tests/lab/lab-bench.sh's summary of cells.csv (kernel,scenario,policy,rep,seconds_to_95,
# bytes_moved,hot_bytes,pingpong_bytes,policy_cpu_s,passes_per_s,evidence,local_end,
# progress_vs_none) into out/summary.csv (medians over the repetitions; a cell that never reached 95%
# counts as longer than any that did, NA when the median is such a cell) and out/spread.csv (min and
# max).
BEGIN { FS = ","; OFS = "," }
NR == 1 { next }
{
        k = $1 "," $2 "," $3
        if (!(k in n)) order[++groups] = k
        i = ++n[k]
        t95[k, i] = $5 == "NA" ? 1e9 : $5
        moved[k, i] = $6; hot[k] = $7; pp[k, i] = $8; lend[k, i] = $12
        ev[k] = ev[k] (i > 1 ? "; " : "") $11
}
function sorted(a, k, m, v,    i, j, x) { # v[1..m] = a[k, 1..m] sorted
        for (i = 1; i <= m; i++) v[i] = a[k, i] + 0
        for (i = 2; i <= m; i++)
                for (j = i; j > 1 && v[j - 1] > v[j]; j--) { x = v[j]; v[j] = v[j - 1]; v[j - 1] = x }
}
function secs(x) { return x >= 1e9 ? "NA" : x }
END {
        s = out "/summary.csv"; d = out "/spread.csv"
        print "kernel,scenario,policy,seconds_to_95,bytes_moved,hot_bytes,pingpong_bytes,evidence" > s
        print "kernel,scenario,policy,reps,seconds_to_95_min,seconds_to_95_max,bytes_moved_min,bytes_moved_max,pingpong_bytes_min,pingpong_bytes_max,local_end_min,local_end_max" > d
        for (g = 1; g <= groups; g++) {
                k = order[g]; m = n[k]; mid = int((m + 1) / 2)
                sorted(t95, k, m, T); sorted(moved, k, m, M); sorted(pp, k, m, P); sorted(lend, k, m, L)
                print k, secs(T[mid]), M[mid], hot[k], P[mid], ev[k] > s
                print k, m, secs(T[1]), secs(T[m]), M[1], M[m], P[1], P[m], L[1], L[m] > d
        }
}
