# gnuplot -e "in='OUT/NAME-remote.dat'; out='OUT/NAME-remote.png'; name='NAME'" plot.gp
# Columns: epoch numavd none numad autonuma damon oracle.
set terminal pngcairo size 900,500 font ",11"
set output out
set title sprintf("%s: remote-access fraction per epoch (lower is better)", name)
set xlabel "time (s, 1 s epochs)"
set ylabel "remote accesses / all accesses"
set yrange [0:1.05]
set key outside right top autotitle columnhead
set grid
plot in using 1:3 with lines linewidth 2 linecolor rgb "#999999", \
     in using 1:4 with linespoints pointtype 4 pointsize 0.7 linewidth 2 linecolor rgb "#e69f00", \
     in using 1:5 with linespoints pointtype 6 pointsize 0.7 linewidth 2 linecolor rgb "#56b4e9", \
     in using 1:6 with linespoints pointtype 8 pointsize 0.7 linewidth 2 linecolor rgb "#009e73", \
     in using 1:7 with lines dashtype 2 linewidth 2 linecolor rgb "#000000", \
     in using 1:2 with linespoints pointtype 7 pointsize 0.8 linewidth 3 linecolor rgb "#d55e00"
