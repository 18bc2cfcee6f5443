# tests/lab/lab-bench.sh: the hot-local share over time of one kernel's scenario, a line per policy
# (the first repetition). gnuplot -e "dir='SERIES_DIR'; prefix='KERNEL-SCENARIO-'; out='X.png'; title='T'"
files = system("ls " . dir . "/" . prefix . "*-1.dat")
head = strlen(dir . "/" . prefix)
policy(f) = f[head + 1:strlen(f) - 6]
set terminal pngcairo size 900,500
set output out
set title title
set xlabel "seconds since the workload changed"
set ylabel "hot set on its vCPU's node"
set yrange [0:1.05]
set key outside right
set grid
plot for [f in files] f using 1:2 with lines lw 2 title policy(f)
