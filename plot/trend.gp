# trend.gp - a key metric across the runs kept under results/, by date.
# gnuplot -c trend.gp DATA PNG TITLE YLABEL
#   DATA: one row per run: epoch-seconds mean stddev in-this-report(0/1) not-pass(0/1)
load ARG0[1:strstrt(ARG0, "trend.gp") - 1] . "common.gp"
set output ARG2
set title ARG3
set ylabel ARG4
# about six date tics whatever the span (stats must run before time mode)
stats ARG1 using 2 nooutput
eval si_format
stats ARG1 using 1 nooutput
lo = STATS_min
hi = STATS_max
if (hi - lo < 3600) { lo = lo - 3 * 3600; hi = hi + 3 * 3600 }
pad = (hi - lo) / 20
set xdata time
set timefmt "%s"
set format x "%Y-%m-%d\n%H:%M"
set xrange [lo - pad:hi + pad]
step = (hi - lo) / 6
set xtics step
set yrange [0:*]
set offsets 0, 0, graph 0.1, 0
set key top left box opaque
plot ARG1 using 1:2:3 with yerrorlines lw 2 pt 7 lc rgb "#4e79a7" title "mean ± stddev", \
     ARG1 using 1:($4 > 0 ? $2 : NaN) with points pt 6 ps 2.5 lw 2 lc rgb "#f28e2b" \
	title "runs in this report", \
     ARG1 using 1:($5 > 0 ? $2 : NaN) with points pt 2 ps 2 lw 2 lc rgb "#e15759" \
	title "status not PASS"
