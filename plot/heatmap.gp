# heatmap.gp - a NUMA matrix (run --numa-matrix): one metric per cell, rows the
# CPU node the workers ran on, columns the memory node (and "interleave").
# gnuplot -c heatmap.gp DATA PNG TITLE UNIT
#   DATA: a matrix with a header row (the memory columns) and a header column
#   (the CPU nodes): "cpu\mem" "mem0" "mem1" "interleave" / "cpu0" v v v ...;
#   NaN where a cell did not run.  Cells whose memory did not land where asked
#   are written as the value, with a '!' drawn in the label by the caller's
#   title; this script only draws.
load ARG0[1:strstrt(ARG0, "heatmap.gp") - 1] . "common.gp"
set output ARG2
set title ARG3
set terminal pngcairo noenhanced size 640,480 font "DejaVu Sans,10"
set xlabel "memory node"
set ylabel "CPU node (workers)"
set cblabel ARG4
set palette defined (0 "#f7fbff", 0.5 "#6baed6", 1 "#08306b")
set yrange [] reverse
set border 15
set tics out nomirror
unset grid
set view map
set rmargin 12
# cells drawn as boxes (with image needs a 2x2 grid; a one-node machine has one cell)
set offsets 0.5, 0.5, 0.5, 0.5
set style fill solid 1.0 noborder
plot ARG1 matrix rowheaders columnheaders using 1:2:(0.5):(0.5):3 with boxxyerror fc palette, \
     ARG1 matrix rowheaders columnheaders using 1:2:($3 == $3 ? (abs($3) >= 1e4 ? gprintf("%.3s%c", $3) : gprintf("%.4g", $3)) : "-") with labels tc rgb "#d62728" font ",12"
