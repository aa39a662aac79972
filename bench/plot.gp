# SPDX-License-Identifier: GPL-2.0
# One clustered bar chart of `make bench` ratios (bench/report.py calls it):
#   gnuplot -e "datafile='...'; outfile='...'; ttl='...'; ncols=N; nrows=M" bench/plot.gp
# datafile: a header line (row, then one name per configuration), then one line per
# matrix row with a ratio per configuration (NaN when missing).
set terminal pngcairo size 1100,520 font ",10"
set output outfile
set title ttl
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key top left horizontal
set xtics rotate by 30 right nomirror
set ytics nomirror
set grid ytics
set xrange [-0.6:nrows - 0.4]
set yrange [0:*]
set ylabel "ratio to default dm-crypt"
set arrow from graph 0, first 1 to graph 1, first 1 nohead dashtype 2 linewidth 1.5 front
plot for [i=2:ncols+1] datafile using i:xtic(1) title columnheader(i)
