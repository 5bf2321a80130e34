# scaling.gp - ops/s against workers, one curve per run, with the linear line
# drawn from each run's fewest-workers point.
# gnuplot -c scaling.gp DATA PNG TITLE YLABEL NRUNS
#   DATA: a header row, then one row per worker count:
#   workers, and for each run: mean stddev linear (NaN where the run lacks it)
load ARG0[1:strstrt(ARG0, "scaling.gp") - 1] . "common.gp"
n = int(ARG5)
stats ARG1 using 2 nooutput
eval si_format
set output ARG2
set title ARG3
set ylabel ARG4
set xlabel "workers"
set yrange [0:*]
set offsets graph 0.05, graph 0.05, graph 0.05, 0
set key top left box opaque
plot for [i=0:n-1] ARG1 using 1:(column(2 + 3 * i)):(column(3 + 3 * i)):xtic(1) \
	with yerrorlines lw 2 pt 7 lc i + 1 title columnheader(2 + 3 * i), \
     ARG1 using 1:4 with lines dt 2 lc 1 title "linear (dashed): fewest-workers value x workers", \
     for [i=1:n-1] ARG1 using 1:(column(4 + 3 * i)) with lines dt 2 lc i + 1 notitle
