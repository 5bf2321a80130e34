# common.gp - terminal and style shared by every mmtorture chart (loaded by the others).
# Names with underscores are metric names, not subscripts: no enhanced text.
set terminal pngcairo noenhanced size 900,480 font "DejaVu Sans,10"
set encoding utf8
set grid ytics lc rgb "#dddddd"
set border 3
set tics nomirror
set key noautotitle
set datafile missing "NaN"
# big numbers with SI prefixes (6.77M rather than 6.765e+06); call after `stats`
si_format = 'if (STATS_max >= 1e4 || STATS_min <= -1e4) { set format y "%.1s%c" }'
