# latency.gp - latency percentiles (p50 .. max) of each run, log scale.
# gnuplot -c latency.gp DATA PNG TITLE YLABEL NRUNS
#   DATA: a header row ("percentile", then one name per run), then one row per
#   percentile: "p50" value-of-run-1 value-of-run-2 ...
load ARG0[1:strstrt(ARG0, "latency.gp") - 1] . "common.gp"
n = int(ARG5)
set output ARG2
set title ARG3
set ylabel ARG4
set logscale y
set format y "%.0s%c"
set offsets 0.3, 0.3, 0, 0
set key top left box opaque
plot for [i=2:n + 1] ARG1 using 0:(column(i)):xtic(1) with linespoints lw 2 pt 7 \
	lc i - 1 title columnheader(i)
