#!/bin/bash
# report on hand-made records: the Markdown and HTML reports are written, every
# chart file exists, is a non-empty PNG and is referenced by both documents (and
# every chart the HTML references exists); the expected kinds of chart are there
# (per metric, latency percentiles, scaling curves, trend); bad input is one
# line on stderr and exit 99.
# usage: report.sh MMTORTURE DATADIR
. "$(dirname "$0")/lib.sh"
MMT=$1 DATA=$2
RUNS=$DATA/runs BAD=$DATA/bad
[ -d "$RUNS/base" ] || { echo "ERROR: no test records in $RUNS"; exit 99; }
[ -x "${MMT_GNUPLOT:-/usr/bin/gnuplot}" ] || skip "gnuplot is not installed (apt-get install gnuplot-nox)"
# the scripts in the source tree, wherever the build directory is
export MMT_PLOT_DIR=${MMT_PLOT_DIR:-$(cd "$(dirname "$0")/../../plot" && pwd)}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

"$MMT" report -o "$out/r" "$RUNS/base" "$RUNS/drop10" "$RUNS/sweep-a" "$RUNS/sweep-b" \
	>"$out/o" 2>"$out/e" </dev/null || fail "report exited $?: $(cat "$out/e")"
[ -s "$out/e" ] && fail "report wrote on stderr: $(cat "$out/e")"
grep -q "^report: $out/r/report.html" "$out/o" || fail "report did not say where: $(cat "$out/o")"
for f in report.md report.html; do
	[ -s "$out/r/$f" ] || fail "$f missing or empty"
done
n=0
for png in "$out"/r/charts/*.png; do
	[ -e "$png" ] || fail "no charts in $out/r/charts"
	name=charts/$(basename "$png")
	[ -s "$png" ] || fail "$name is empty"
	[ "$(head -c 4 "$png" | od -An -c | tr -d ' ')" = '211PNG' ] || fail "$name is not a PNG"
	grep -qF "<img src=\"$name\"" "$out/r/report.html" || fail "report.html does not reference $name"
	grep -qF "]($name)" "$out/r/report.md" || fail "report.md does not reference $name"
	n=$((n + 1))
done
for name in $(grep -o '<img src="[^"]*"' "$out/r/report.html" | sed 's/<img src="//; s/"$//'); do
	[ -s "$out/r/$name" ] || fail "report.html references $name, which does not exist"
done
for want in metric-demo-ops metric-demo-lat latency-demo-lat scaling-demo-ops trend-demo-ops \
	    metric-demo_w4-ops trend-demo_w2-ops; do
	[ -s "$out/r/charts/$want.png" ] || fail "no $want.png among: $(ls "$out/r/charts")"
done
ok "$n charts, every one a non-empty PNG referenced by report.html and report.md"

grep -q '<tr class="worse"><td>ops</td>' "$out/r/report.html" || fail "the HTML lacks the worse ops row"
grep -q '^## Compare B against A' "$out/r/report.md" || fail "report.md lacks the comparison"
grep -q '^| ops | ops/s | harmonic | 1000 |.*\*\*worse\*\*' "$out/r/report.md" ||
	fail "report.md comparison row: $(grep '^| ops' "$out/r/report.md" | head -1)"
# the scaling data: per run, mean sd linear; linear = the 1-worker value x workers
awk 'function off(x, y) { return (x - y) ^ 2 > 1e-12 * y ^ 2 }
     NR > 1 && $1 == 1 { a = $2; b = $5 }
     NR > 1 && $1 == 4 { if (off($4, 4 * a) || off($7, 4 * b) || a < 499 || a > 501) exit 1
			   found = 1 }
     END { exit !found }' "$out/r/data/scaling-demo-ops.dat" ||
	fail "scaling data: $(cat "$out/r/data/scaling-demo-ops.dat")"
# the trend: the runs with 2 workers under data/runs, two of them in this report
[ "$(wc -l <"$out/r/data/trend-demo-ops.dat")" = 9 ] ||
	fail "trend data: $(cat "$out/r/data/trend-demo-ops.dat")"
[ "$(awk '$4 == 1' "$out/r/data/trend-demo-ops.dat" | wc -l)" = 2 ] ||
	fail "trend: not two runs of this report marked"
ok "the comparison, scaling (with the linear line) and trend data are right"

# one run is a report too
"$MMT" report -o "$out/one" "$RUNS/fail" >/dev/null 2>"$out/e" || fail "one-run report: $(cat "$out/e")"
grep -q 'kernel splat' "$out/one/report.md" || fail "one-run report does not show the splat"
ok "a one-run report"

bad() {
	local want=$1; shift
	"$MMT" "$@" >"$out/o" 2>"$out/e" </dev/null
	local rc=$? lines
	lines=$(wc -l <"$out/e")
	[ "$rc" = 99 ] || fail "'$*' exited $rc, want 99 ($(cat "$out/e"))"
	[ "$lines" = 1 ] || fail "'$*' printed $lines lines on stderr, want 1: $(cat "$out/e")"
	grep -q -- "$want" "$out/e" || fail "'$*': error '$(cat "$out/e")' does not mention '$want'"
	ok "$* -> 99: $(cat "$out/e")"
}
bad "run 'nosuchrun' not found" report -o "$out/x" --results "$RUNS" base nosuchrun
bad "not valid JSON" report -o "$out/x" "$RUNS/base" "$BAD/corrupt"
bad "unknown record schema" report -o "$out/x" "$BAD/badschema"
bad "expected at least one RUN" report -o "$out/x"
MMT_GNUPLOT=$out/no-gnuplot bad "gnuplot not found" report -o "$out/x" "$RUNS/base"
MMT_PLOT_DIR=$out bad "holds no metric.gp" report -o "$out/x" "$RUNS/base"
"$MMT" report --help | grep -q '^usage: mmtorture report' || fail "report --help"
echo "all passed"
