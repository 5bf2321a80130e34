#!/bin/bash
# A detector must fire: with a fault injected the workload reports FAIL.
# usage: [EXPECT_REASON=TEXT] expect-fail.sh MMTORTURE WORKLOAD corrupt|splat [RUN-ARGS...]
. "$(dirname "$0")/lib.sh"
need_jq
MMT=$1 WL=$2 MODE=$3
shift 3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
wait_idle
knobs_snapshot >"$out/before" 2>/dev/null

"$MMT" run "$WL" -d 8 --inject "$MODE" -o "$out" --run-id inject "$@" >"$out/log" 2>&1
rc=$?
cat "$out/log"
[ "$rc" = 77 ] && skip "$WL cannot run here: $(grep -m1 SKIP "$out/log")"
r="$out/inject/$WL.json"
[ -f "$r" ] || fail "no record at $r"
status=$(rec "$r" .status) reason=$(rec "$r" .reason)
[ "$rc" = 1 ] || fail "--inject $MODE: exit $rc, want 1 (status $status: $reason)"
[ "$status" = FAIL ] || fail "record status $status, want FAIL"
case "$MODE" in
splat)
	rec "$r" '.splats[].line' | grep -q "mmtorture-inject: WARNING:" ||
		fail "the injected splat is not in the record's splats"
	[[ "$reason" == *"kernel splat"* ]] || fail "reason does not name the splat: $reason"
	;;
corrupt)
	[[ "$reason" == *"splat"* ]] && fail "corruption was reported as a splat: $reason"
	[ "$(rec "$r" '.splats | length')" = 0 ] || fail "unexpected splats during --inject corrupt"
	# EXPECT_REASON: the detector that must have fired, as a piece of the reason
	[ -z "$EXPECT_REASON" ] || [[ "$reason" == *"$EXPECT_REASON"* ]] ||
		fail "reason does not name '$EXPECT_REASON': $reason"
	;;
esac
knobs_snapshot >"$out/after" 2>/dev/null
diff "$out/before" "$out/after" || fail "knobs differ after the failed run"
ok "--inject $MODE makes $WL FAIL: $reason"
echo "1 passed, 0 failed"
