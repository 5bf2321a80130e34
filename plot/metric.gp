# metric.gp - one metric, the runs side by side: mean with a stddev error bar.
# gnuplot -c metric.gp DATA PNG TITLE YLABEL YMIN
#   DATA: one row per run: "label" mean stddev n
#   YMIN: 0, or * when a mean is negative
load ARG0[1:strstrt(ARG0, "metric.gp") - 1] . "common.gp"
stats ARG1 using 2 nooutput
eval si_format
set output ARG2
set title ARG3
set ylabel ARG4
eval "set yrange [" . ARG5 . ":*]"
set offsets 0.6, 0.6, graph 0.12, 0
set style fill solid 0.55 border -1
set boxwidth 0.6
set xtics rotate by -15
unset key
plot ARG1 using 0:2:3:xtic(1) with boxerrorbars lc rgb "#4e79a7", \
     ARG1 using 0:($2 + $3):(abs($2) >= 1e4 ? gprintf("%.3s%c", $2) : gprintf("%.4g", $2)) with labels offset 0,0.8
