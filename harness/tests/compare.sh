#!/bin/bash
# compare and history on hand-made records with known answers (data/README.md):
# a clear 10 % drop is worse (exit 1), identical runs are same (exit 0), a CoV of
# 30 % is inconclusive, fewer than 3 samples is inconclusive and says why, status changes and new splats
# head the output, other machines / parameters are flagged, bad input is one
# line on stderr and exit 99.
# usage: compare.sh MMTORTURE DATADIR
. "$(dirname "$0")/lib.sh"
MMT=$1 DATA=$2
RUNS=$DATA/runs BAD=$DATA/bad
[ -d "$RUNS/base" ] || { echo "ERROR: no test records in $RUNS"; exit 99; }
need_jq
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# cmp WANT-EXIT A B [options]: run compare, keep stdout in $out/o
cmp_runs() {
	local want=$1; shift
	"$MMT" compare "$@" >"$out/o" 2>"$out/e" </dev/null
	local rc=$?
	[ "$rc" = "$want" ] || fail "compare $* exited $rc, want $want: $(cat "$out/e") $(cat "$out/o")"
	[ -s "$out/e" ] && fail "compare $* wrote on stderr: $(cat "$out/e")"
	return 0
}
# row METRIC [WORKLOAD-KEY]: the text row of METRIC under the first (or named) workload
row() {
	awk -v m="$1" -v k="${2:-}" '
		/^[^ !]/ && / \(A [A-Z]+, B [A-Z]+;/ { inside = (k == "" || index($0, k " (") == 1) }
		inside && $1 == m { print; exit }' "$out/o"
}
verdict() { row "$@" | awk '{ print $NF }'; }

cmp_runs 1 "$RUNS/base" "$RUNS/drop10"
[ "$(verdict ops)" = worse ] || fail "10 % drop: ops is '$(verdict ops)', want worse"
row ops | grep -q -- '-10.0%' || fail "10 % drop: no -10.0% in '$(row ops)'"
[ "$(verdict lat)" = same ] || fail "unchanged latency is '$(verdict lat)', want same"
grep -q 'thp.enabled: madvise -> never' "$out/o" || fail "the THP setting that differs is not shown"
grep -q 'harmonic' "$out/o" || fail "does not say which mean"
row ops | grep -q 'per-second' || fail "does not say the samples are per-second: $(row ops)"
ok "a clear 10 % drop is worse, exit 1: $(row ops)"

cmp_runs 0 "$RUNS/base" "$RUNS/same"
[ "$(verdict ops)" = same ] && [ "$(verdict lat)" = same ] || fail "identical runs: $(row ops) / $(row lat)"
grep -q 'nothing got worse' "$out/o" || fail "identical runs: no 'nothing got worse'"
ok "identical runs are same, exit 0"

cmp_runs 0 "$RUNS/base" "$RUNS/noisy"
[ "$(verdict ops)" = inconclusive ] || fail "CoV 30 %: ops is '$(verdict ops)', want inconclusive"
row ops | grep -q '30.0%' || fail "CoV 30 %: no 30.0% in '$(row ops)'"
ok "a CoV of 30 % is inconclusive: $(row ops)"

cmp_runs 0 "$RUNS/base" "$RUNS/few"
[ "$(verdict ops)" = inconclusive ] || fail "2 samples: ops is '$(verdict ops)', want inconclusive"
row ops | grep -q '10+2 per-second' || fail "2 samples: sample counts not shown: $(row ops)"
grep -q '^  headline ops: .*(fewer than 3 samples on a side)' "$out/o" ||
	fail "2 samples: the headline note does not say why: $(grep headline "$out/o")"
ok "fewer than 3 samples is inconclusive and says why: $(row ops)"

cmp_runs 1 "$RUNS/base" "$RUNS/fail"
sed -n 2p "$out/o" | grep -q '^!! STATUS CHANGED demo: PASS -> FAIL' ||
	fail "the status change does not head the output: $(head -3 "$out/o")"
sed -n 3p "$out/o" | grep -q '^!! NEW SPLAT in B, demo: WARNING: CPU' ||
	fail "the new splat does not come next: $(head -3 "$out/o")"
ok "a status change and a new splat head the output, exit 1"

cmp_runs 0 "$RUNS/fail" "$RUNS/fail"
grep -q 'NEW SPLAT\|STATUS CHANGED' "$out/o" && fail "a splat seen in A and B is reported as new"
cmp_runs 0 "$RUNS/fail" "$RUNS/base"
grep -q '^!! STATUS CHANGED demo: FAIL -> PASS' "$out/o" || fail "FAIL -> PASS not shown"
ok "the same splat on both sides is not new; FAIL -> PASS is shown and is not worse"

cmp_runs 0 "$RUNS/base" "$RUNS/othermachine"
grep -q "^!! WARNING: different machines: hostname 'testbox' vs 'bigbox'; cpu_model" "$out/o" ||
	fail "different machines not flagged: $(head -5 "$out/o")"
grep -q '^!! WARNING: demo: different parameters: size=2M vs size=4M' "$out/o" ||
	fail "different parameters not flagged: $(head -5 "$out/o")"
grep -q '^!! WARNING: demo: different run settings: duration_s 10 vs 20' "$out/o" ||
	fail "different run settings not flagged: $(head -5 "$out/o")"
ok "different machines, parameters and run settings are flagged"

cmp_runs 0 "$RUNS/base" "$RUNS/faster"
[ "$(verdict ops)" = better ] && [ "$(verdict lat)" = better ] ||
	fail "10 % more ops/s and 10 % less latency: $(row ops) / $(row lat)"
ok "higher ops/s and lower latency are both better, exit 0"

cmp_runs 0 "$RUNS/rep3" "$RUNS/rep3"
row ops | grep -q '3+3 repeats' || fail "3 repeats: the verdict should use repeat means: $(row ops)"
ok "with 3 repeats the verdict uses each repeat's mean: $(row ops)"

cmp_runs 0 "$RUNS/sweep-a" "$RUNS/sweep-b"
[ "$(verdict ops 'demo w4')" = better ] || fail "sweep w4: $(row ops 'demo w4')"
[ "$(verdict ops 'demo w1')" = same ] || fail "sweep w1: $(row ops 'demo w1')"
cmp_runs 1 "$RUNS/base" "$RUNS/sweep-a"
grep -q '^!! WARNING: demo w2: different run settings: sweep_workers (none) vs \[1,2,4\]' "$out/o" ||
	fail "a plain record against a sweep record is not flagged: $(head -4 "$out/o")"
grep -q '^!! only in B, not compared: demo w4' "$out/o" || fail "sweep w4 not listed as only in B"
ok "sweep records are paired by worker count, also against a plain record (flagged)"

# run ids are looked up under -o DIR
cmp_runs 1 -o "$RUNS" base drop10
ok "run ids are looked up under --results"

cmp_runs 1 --format json "$RUNS/base" "$RUNS/drop10"
jq -e '.exit_code == 1 and .regressed and .counts.worse == 1 and
	(.workloads[0].rows[0] | .metric == "ops" and .verdict == "worse" and
	 .mean_kind == "harmonic" and .a.basis == "per-second" and .a.n == 10 and
	 (.delta_pct | . > -10.01 and . < -9.99) and .p < 0.001)' "$out/o" >/dev/null ||
	fail "json: $(jq -c '.workloads[0].rows[0]' "$out/o")"
cmp_runs 0 --format markdown "$RUNS/base" "$RUNS/faster"
grep -q '^| ops | ops/s | harmonic | 1000 |.* \*\*better\*\* |$' "$out/o" ||
	fail "markdown row: $(grep '^| ops' "$out/o")"
ok "--format json and markdown"

# bad input: one line on stderr, nothing on stdout, exit 99
bad() {
	local want=$1; shift
	"$MMT" "$@" >"$out/o" 2>"$out/e" </dev/null
	local rc=$? lines
	lines=$(wc -l <"$out/e")
	[ "$rc" = 99 ] || fail "'$*' exited $rc, want 99 ($(cat "$out/e"))"
	[ "$lines" = 1 ] || fail "'$*' printed $lines lines on stderr, want 1: $(cat "$out/e")"
	grep -q -- "$want" "$out/e" || fail "'$*': error '$(cat "$out/e")' does not mention '$want'"
	[ -s "$out/o" ] && fail "'$*' printed on stdout: $(head -3 "$out/o")"
	ok "$* -> 99: $(cat "$out/e")"
}
bad "not valid JSON" compare "$RUNS/base" "$BAD/corrupt"
bad "unknown record schema 'mmtorture-record/99'" compare "$BAD/badschema" "$RUNS/base"
bad "has a sample that is not a number" compare "$RUNS/base" "$BAD/badsample"
bad "holds no records" compare "$RUNS/base" "$BAD/empty"
bad "run 'nosuchrun' not found" compare -o "$RUNS" base nosuchrun
bad "run '$RUNS/nosuchrun' not found" compare "$RUNS/base" "$RUNS/nosuchrun"
bad "no workload in common" compare "$RUNS/base" "$BAD/otherworkload"
bad "expected two runs" compare "$RUNS/base"
bad "unexpected argument" compare "$RUNS/base" "$RUNS/same" "$RUNS/few"
bad "invalid --format 'xml'" compare --format xml "$RUNS/base" "$RUNS/same"
bad "unknown option" compare --frobnicate "$RUNS/base" "$RUNS/same"
"$MMT" compare --help | grep -q '^usage: mmtorture compare' || fail "compare --help"

# history: a metric across the runs under results/, oldest first
"$MMT" history -o "$RUNS" demo >"$out/o" 2>"$out/e" || fail "history exited $?: $(cat "$out/e")"
[ -s "$out/e" ] && fail "history wrote on stderr: $(cat "$out/e")"
head -1 "$out/o" | grep -q 'history of demo ops (ops/s, higher is better; harmonic' ||
	fail "history title: $(head -1 "$out/o")"
grep -q '^2026-11-01 10:00  base .*6.18.0-test .* 1000 ± 6.549 .* PASS$' "$out/o" ||
	fail "history row of base: $(grep base "$out/o")"
grep -q '^2026-11-06 10:00  fail .* FAIL$' "$out/o" || fail "history row of fail: $(grep fail "$out/o")"
"$MMT" history -o "$RUNS" demo lat --format json >"$out/o" || fail "history json exited $?"
jq -e '(.runs | length) == 15 and ([.runs[].started] == ([.runs[].started] | sort)) and
	.runs[0].run_id == "base" and .runs[0].metric == "lat" and .runs[0].mean == 5000' 	"$out/o" >/dev/null || fail "history json: $(jq -c '.runs[0]' "$out/o")"
"$MMT" history -o "$RUNS" demo -w 4 --format json >"$out/o" || fail "history -w exited $?"
jq -e '(.runs | length) == 2 and all(.runs[]; .workers == 4 and .sweep)' "$out/o" >/dev/null ||
	fail "history -w 4: $(jq -c '.runs' "$out/o")"
"$MMT" history -o "$RUNS" >"$out/o" || fail "history of everything exited $?"
grep -q 'demo.ops' "$out/o" || fail "history without a workload: $(head -3 "$out/o")"
ok "history lists date, run, kernel, value and status, oldest first"
bad "no records of workload 'nosuch'" history -o "$RUNS" nosuch
bad "has a metric 'nometric'" history -o "$RUNS" demo nometric
bad "cannot read the results directory" history -o "$out/nonexistent"
"$MMT" history --help | grep -q '^usage: mmtorture history' || fail "history --help"

# a setting only B has (a kernel built with another config) is listed, never a crash
mkdir -p "$out/extra"
jq '.system.kernel.config.CONFIG_ONLY_IN_B = "y"' "$RUNS/base/demo.json" >"$out/extra/demo.json"
cmp_runs 0 "$RUNS/base" "$out/extra"
grep -q 'CONFIG_ONLY_IN_B: (none) -> y' "$out/o" || fail "a config line only B has is not listed: $(grep CONFIG "$out/o")"
ok "a setting only B has is listed as (none) -> y"
echo "all passed"
