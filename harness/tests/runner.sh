#!/bin/bash
# The runner's own behaviour, through the selftest workload (test binary only):
# samples per second after warm-up, worst-status-wins, failure reasons, skips,
# a worker that ignores the stop flag, a worker that crashes, repeats, threads.
# usage: runner.sh MMTORTURE-SELFTEST
. "$(dirname "$0")/lib.sh"
need_jq
MMT=$1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export MMT_STATE_DIR="$out/state"	# the selftest touches no knob unless knobs=1

run() {	# run ID WANT-RC ARGS...
	local id=$1 want=$2; shift 2
	"$MMT" run selftest -o "$out" --run-id "$id" --lock-timeout 60 "$@" >"$out/$id.log" 2>&1
	local rc=$?
	[ "$rc" = "$want" ] || { cat "$out/$id.log"; fail "$id: exit $rc, want $want"; }
	R="$out/$id/selftest.json"
	[ -f "$R" ] || fail "$id: no record"
}

run pass 0 -d 3 --warmup 1 -w 2
[ "$(rec "$R" '.metrics.ops.summary.n')" = 3 ] || fail "pass: want 3 per-second samples after warm-up, got $(rec "$R" '.metrics.ops.summary.n')"
jq -e '.metrics.ops.summary.mean > 0 and .metrics.thread_ops.summary.mean > 0' "$R" >/dev/null || fail "pass: process or thread role did no work"
jq -e '.metrics.lat.histogram.count > 0 and .metrics.lat.histogram.p50 >= 1000 and .metrics.lat.histogram.p50 <= 1063' "$R" >/dev/null || fail "pass: latency p50 $(rec "$R" .metrics.lat.histogram.p50), want 1000 within a bucket"
jq -e '(.metrics.gauge.samples | sort) == [7, 7, 42]' "$R" >/dev/null || fail "pass: gauges $(rec "$R" -c .metrics.gauge.samples)"
jq -e '.metrics.events.samples | length == 1 and .[0] > 0' "$R" >/dev/null || fail "pass: total"
jq -e '.roles == [{"name":"spinner","kind":"process","workers":2},{"name":"threader","kind":"thread","workers":2}]' "$R" >/dev/null || fail "pass: roles $(rec "$R" -c .roles)"
jq -e '.system.kernel.release and .system.topology.pus > 0 and .schema == "mmtorture-record/1"' "$R" >/dev/null || fail "pass: system snapshot"
[ -s "$out/pass/topology.xml" ] || fail "pass: no hwloc topology.xml beside the record"
ok "pass: 3 samples after warm-up, threads and processes ran, histogram, gauges, totals, snapshot"
ok "harness parent CPU fraction: $(rec "$R" '.repeats[0].harness.parent_cpu_fraction')"

run fail 1 -d 30 -p mode=fail
[[ "$(rec "$R" .reason)" == *"expected 0xaa found 0x55"* ]] || fail "fail: reason $(rec "$R" .reason)"
[ "$(rec "$R" '.repeats[0].measured_s < 10')" = true ] || fail "fail: did not stop early"
ok "fail: exit 1, stops early, reason: $(rec "$R" .reason)"

run skip 77 -d 2 -p mode=skip
[[ "$(rec "$R" .reason)" == *"asked to skip"* ]] || fail "skip: reason $(rec "$R" .reason)"
grep -q "SKIP" "$out/skip.log" || fail "skip: not shown as SKIP"
ok "skip: exit 77 with the reason"

run hang 99 -d 2 --grace 1 -p mode=hang
[[ "$(rec "$R" .reason)" == *"did not stop within"* ]] || fail "hang: reason $(rec "$R" .reason)"
ok "hang: killed after the grace period, exit 99"

run crash 1 -d 3 -p mode=crash
[[ "$(rec "$R" .reason)" == *"died of signal"* ]] || fail "crash: reason $(rec "$R" .reason)"
ok "crash: $(rec "$R" .reason)"

run roleskip 0 -d 2 -p mode=roleskip
jq -e '.repeats[0].notes | any(test("role skipped"))' "$R" >/dev/null || fail "roleskip: no note"
ok "roleskip: a role that cannot run is a note, not a pass-as-skip"

run repeat 0 -d 1 --warmup 0 --repeat 3
jq -e '(.repeats | length) == 3 and (.metrics.ops.repeat_values | length) == 3' "$R" >/dev/null || fail "repeat: $(rec "$R" -c '.metrics.ops.repeat_values')"
ok "repeat: 3 repeats, repeat_values per metric"
echo "1 passed, 0 failed"
