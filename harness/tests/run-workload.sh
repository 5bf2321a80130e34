#!/bin/bash
# Run a workload for real for a few seconds; the record must agree with the
# exit code and carry figures for the main metric.  XFAIL (a known kernel bug
# of this kernel, kernel/bugs/) passes with exit 0 and says which bug.
# usage: run-workload.sh MMTORTURE WORKLOAD OUTDIR [RUN-ARGS...]
. "$(dirname "$0")/lib.sh"
need_jq
MMT=$1 WL=$2 OUT=$3
shift 3
id="test-$WL-$$"
"$MMT" run "$WL" -o "$OUT" --run-id "$id" "$@"
rc=$?
r="$OUT/$id/$WL.json"
[ -f "$r" ] || { echo "ERROR: no record at $r"; exit 99; }
status=$(rec "$r" .status)
case "$rc:$status" in
0:PASS) ;;
77:SKIP) skip "$(rec "$r" .reason)" ;;
1:FAIL) fail "$(rec "$r" .reason)" ;;
0:XFAIL)
	[ "$(rec "$r" .known_bug.id)" != null ] || fail "XFAIL without known_bug in the record"
	ok "$WL: XFAIL ($(rec "$r" .known_bug.folder)): $(rec "$r" .reason)"
	echo "1 passed, 0 failed"
	exit 0 ;;
*) echo "ERROR: exit $rc but record status $status: $(rec "$r" .reason)"; exit 99 ;;
esac
main=$(rec "$r" .main_metric)
n=$(rec "$r" ".metrics[\"$main\"].summary.n")
mean=$(rec "$r" ".metrics[\"$main\"].summary.mean")
[ "$n" -gt 0 ] || fail "no samples of the main metric $main"
jq -e ".metrics[\"$main\"].summary.mean > 0" "$r" >/dev/null || fail "main metric $main is $mean"
ok "$WL: $main = $mean $(rec "$r" ".metrics[\"$main\"].unit") over $n samples; notes: $(rec "$r" '.repeats[0].notes | join("; ")')"
echo "1 passed, 0 failed"
