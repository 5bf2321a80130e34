#!/bin/bash
# Verdicts a nightly job can trust, on real records: an A/A pair of this
# project's development machine (uring-pin-fork -r 5 -d 5 twice, a loaded
# 2-CPU box: data/aa) must give no worse and exit 0; the same record with a
# metric scaled by 0.7 (scale-record.sh: a known change on real noise) must be
# worse, and page only when the metric is a headline one; a calibration from
# the A/A pair sets the floor; the reference records, each main metric x 0.7,
# are worse too.
# usage: verdicts.sh MMTORTURE DATADIR REFERENCE-RUN
. "$(dirname "$0")/lib.sh"
MMT=$1 DATA=$2 REF=$3
AA=$DATA/aa SCALE=$(dirname "$0")/scale-record.sh
[ -d "$AA/upf-aa1" ] || { echo "ERROR: no A/A records in $AA"; exit 99; }
need_jq
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# cmp WANT-EXIT A B [options]: compare as JSON into $out/j
cmp_json() {
	local want=$1; shift
	"$MMT" compare --format json --calibration none "$@" >"$out/j" 2>"$out/e" </dev/null
	local rc=$?
	[ "$rc" = "$want" ] || fail "compare $* exited $rc, want $want: $(cat "$out/e")"
	[ -s "$out/e" ] && fail "compare $* wrote on stderr: $(cat "$out/e")"
	return 0
}
verdict() { jq -r --arg m "$1" '.workloads[0].rows[] | select(.metric == $m) | .verdict' "$out/j"; }

cmp_json 0 "$AA/upf-aa1" "$AA/upf-aa2"
jq -e '.counts.worse == 0 and .counts.better == 0 and .exit_code == 0 and
       .rules.correction == "holm" and .rules.tested > 0' "$out/j" >/dev/null ||
	fail "A/A: $(jq -c '.counts, .rules' "$out/j")"
ok "A/A on a loaded machine: no worse, exit 0 ($(jq -c .counts "$out/j"))"

"$SCALE" "$AA/upf-aa2/uring-pin-fork.json" "$out/slow/uring-pin-fork.json" cycles 0.7
cmp_json 1 "$AA/upf-aa1" "$out/slow"
[ "$(verdict cycles)" = worse ] || fail "cycles x 0.7: $(verdict cycles)"
jq -e '[.workloads[0].rows[] | select(.verdict == "worse")] | length == 1' "$out/j" >/dev/null ||
	fail "cycles x 0.7: other metrics called worse: $(jq -c '[.workloads[0].rows[] | select(.verdict == "worse") | .metric]' "$out/j")"
jq -e '.workloads[0].rows[] | select(.metric == "cycles") | .headline and .pages and
       .ci_pct[1] < -1 and .p_adj < 0.05' "$out/j" >/dev/null ||
	fail "cycles x 0.7 row: $(jq -c '.workloads[0].rows[0]' "$out/j")"
jq -e '.pages and .counts.headline_worse == 1' "$out/j" >/dev/null || fail "does not page"
cmp_json 1 "$AA/upf-aa1" "$out/slow" --headline
cmp_json 1 "$AA/upf-aa1" "$out/slow" --correction bh
ok "a headline rate x 0.7 is worse, pages, exit 1 (also --headline, --correction bh)"

"$SCALE" "$AA/upf-aa2/uring-pin-fork.json" "$out/slowthp/uring-pin-fork.json" cycles_thp 0.7
cmp_json 1 "$AA/upf-aa1" "$out/slowthp"
[ "$(verdict cycles_thp)" = worse ] || fail "cycles_thp x 0.7: $(verdict cycles_thp)"
jq -e '(.workloads[0].rows[] | select(.metric == "cycles_thp") | .pages == false and
	.headline == false) and .pages == false and .regressed' "$out/j" >/dev/null ||
	fail "cycles_thp x 0.7 should be worse without paging"
cmp_json 0 "$AA/upf-aa1" "$out/slowthp" --headline
ok "a metric that is not a headline x 0.7 is worse, shown, and does not page (--headline exit 0)"

"$SCALE" "$AA/upf-aa2/uring-pin-fork.json" "$out/slowfork/uring-pin-fork.json" fork_ns_thp 1.43
cmp_json 1 "$AA/upf-aa1" "$out/slowfork"
[ "$(verdict fork_ns_thp)" = worse ] || fail "fork_ns_thp x 1.43: $(verdict fork_ns_thp)"
ok "a latency 43 % longer is worse"

# the reference run (3 repeats): every workload's main metric 30 % worse is called
# worse where the samples detect 30 % (80 % power: always here), else worse or
# inconclusive, never same or better
for rec in "$REF"/*.json; do
	wl=$(jq -r .workload "$rec") mm=$(jq -r .main_metric "$rec")
	better=$(jq -r --arg m "$mm" '.metrics[$m].better' "$rec")
	f=0.7; [ "$better" = lower ] && f=1.43
	"$SCALE" "$rec" "$out/ref-$wl/$wl.json" "$mm" "$f"
	"$MMT" compare --format json --calibration none "$rec" "$out/ref-$wl/$wl.json" >"$out/j" 2>"$out/e"
	rc=$?
	det=$(jq -r --arg m "$mm" '.workloads[0].rows[] | select(.metric == $m) | .detectable_pct' "$out/j")
	v=$(verdict "$mm")
	if awk -v d="$det" 'BEGIN { exit !(d < 30) }'; then
		[ "$v" = worse ] && [ $rc = 1 ] || fail "$wl $mm x $f (detectable $det %): $v, exit $rc"
	else
		case $v in worse|inconclusive) ;; *) fail "$wl $mm x $f (detectable $det %): $v" ;; esac
	fi
	jq -e '[.workloads[0].rows[] | select(.verdict == "worse")] | length <= 1' "$out/j" >/dev/null ||
		fail "$wl: more than $mm called worse"
	ok "reference $wl: $mm x $f is $v (detectable with these repeats: $(printf %.0f "$det") %)"
done

# calibration: kept under results/calibration, found by compare
mkdir -p "$out/res"
"$MMT" calibrate -o "$out/res" --name aa "$AA/upf-aa1" "$AA/upf-aa2" >"$out/o" 2>"$out/e" ||
	fail "calibrate exited $?: $(cat "$out/e")"
[ -s "$out/res/calibration/aa.json" ] || fail "no calibration written: $(cat "$out/o")"
grep -q '^  cycles ' "$out/o" || fail "calibrate does not list cycles: $(cat "$out/o")"
floor=$(jq '.workloads["uring-pin-fork"].metrics.cycles.floor_pct' "$out/res/calibration/aa.json")
jq -e '.schema == "mmtorture-calibration/1" and .aa_counts.worse == 0 and
       (.workloads["uring-pin-fork"].metrics.cycles | .n == 5 and .runs == 2 and .cov_pct > 0 and
	.floor_pct >= 1 and .cov_between_runs_pct >= 0 and (.repeats_for_pct | has("10")) and
	(.detectable_pct_by_repeats["3"] > .detectable_pct_by_repeats["10"]) and
	.detectable_pct > .floor_pct)' \
	"$out/res/calibration/aa.json" >/dev/null || fail "calibration: $(jq -c '.workloads[].metrics.cycles' "$out/res/calibration/aa.json")"
"$MMT" compare --format json -o "$out/res" "$AA/upf-aa1" "$out/slow" >"$out/j" 2>"$out/e"
[ $? = 1 ] || fail "compare with the calibration: exit $?: $(cat "$out/e")"
jq -e --argjson f "$floor" '(.calibration.file | endswith("aa.json")) and
	(.workloads[0].rows[] | select(.metric == "cycles") | .floor_source == "calibration" and
	 (.floor_pct - $f | fabs) < 1e-6 and .verdict == "worse")' "$out/j" >/dev/null ||
	fail "calibrated compare: $(jq -c '.calibration, (.workloads[0].rows[0] | {floor_pct, floor_source, verdict})' "$out/j")"
"$MMT" compare -o "$out/res" "$AA/upf-aa1" "$AA/upf-aa2" >/dev/null || fail "calibrated A/A: exit $?"
ok "calibrate keeps the A/A noise; compare finds it (floor $floor %), A/A exit 0, x 0.7 still worse"

# three runs: a third run that drifted 20 % raises the floor
"$SCALE" "$AA/upf-aa2/uring-pin-fork.json" "$out/drift/uring-pin-fork.json" cycles 0.8
"$MMT" calibrate -o "$out/res" --name aa3 "$AA/upf-aa1" "$AA/upf-aa2" "$out/drift" >"$out/o" 2>&1
[ $? = 1 ] || fail "a drifting A/A should exit 1: $(tail -3 "$out/o")"
jq -e --argjson f "$floor" '.workloads["uring-pin-fork"].metrics.cycles | .runs == 3 and .floor_pct > $f' \
	"$out/res/calibration/aa3.json" >/dev/null ||
	fail "3 runs: $(jq -c '.workloads[].metrics.cycles' "$out/res/calibration/aa3.json")"
ok "three A/A runs, one drifting 20 %: exit 1 (the setup drifts), floor raised to $(jq '.workloads[].metrics.cycles.floor_pct' "$out/res/calibration/aa3.json") %"

# bad input
jq '.system.kernel.release = "6.1.0-other"' "$AA/upf-aa2/uring-pin-fork.json" >"$out/other.json"
"$MMT" calibrate -o "$out/res" "$AA/upf-aa1" "$out/other.json" >/dev/null 2>"$out/e"
[ $? = 99 ] && grep -q 'not an A/A' "$out/e" || fail "calibrate of two kernels: $(cat "$out/e")"
"$MMT" compare --correction bonferroni "$AA/upf-aa1" "$AA/upf-aa2" >/dev/null 2>"$out/e"
[ $? = 99 ] && grep -q "invalid --correction" "$out/e" || fail "bad --correction: $(cat "$out/e")"
"$MMT" compare --calibration "$out/other.json" "$AA/upf-aa1" "$AA/upf-aa2" >/dev/null 2>"$out/e"
[ $? = 99 ] && grep -q "not a mmtorture-calibration/1 file" "$out/e" || fail "bad --calibration: $(cat "$out/e")"
"$MMT" calibrate --help | grep -q '^usage: mmtorture calibrate' || fail "calibrate --help"
ok "calibrating two kernels, a bad correction or calibration file: exit 99"
echo "all passed"
