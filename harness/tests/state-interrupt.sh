#!/bin/bash
# A run stopped midway leaves every knob as it was before the run:
#   SIGINT/SIGTERM: the run restores on its way out;
#   SIGKILL: the state file survives and `mmtorture restore` uses it.
# usage: state-interrupt.sh INT|TERM|KILL MMTORTURE WORKLOAD [RUN-ARGS...]
. "$(dirname "$0")/lib.sh"
need_root
SIG=$1 MMT=$2 WL=$3
shift 3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
state="$(mmt_state_dir)/state.json"

wait_idle
[ -e "$state" ] && { "$MMT" restore >/dev/null || fail "a stale state could not be restored first"; }
knobs_snapshot >"$out/before"
"$MMT" run "$WL" -d 60 -o "$out/results" "$@" >"$out/log" 2>&1 &
pid=$!

# wait until the run has changed something (a test that changes nothing proves nothing)
for _ in $(seq 200); do
	knobs_snapshot >"$out/during"
	cmp -s "$out/before" "$out/during" || break
	kill -0 $pid 2>/dev/null || { cat "$out/log"; fail "the run ended before changing any knob"; }
	sleep 0.1
done
cmp -s "$out/before" "$out/during" && { kill -9 $pid; fail "no knob changed within 20 s"; }
[ -e "$state" ] || { kill -9 $pid; fail "knobs changed but no state file at $state"; }
sleep 1
ok "knobs changed during the run: $(diff "$out/before" "$out/during" | grep '^>' | tr '\n' ' ')"

kill -"$SIG" $pid
for _ in $(seq 300); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
kill -0 $pid 2>/dev/null && { kill -9 $pid; fail "the run did not exit within 30 s of SIG$SIG"; }
wait $pid
rc=$?

if [ "$SIG" = KILL ]; then
	# workers die with their parent (PR_SET_PDEATHSIG); give them a moment
	for _ in $(seq 50); do pgrep -f "$MMT run $WL" >/dev/null || break; sleep 0.1; done
	pgrep -f "$MMT run $WL" >/dev/null && fail "workers outlived the killed run"
	[ -e "$state" ] || fail "SIGKILL left no state file for restore"
	knobs_snapshot >"$out/killed"
	cmp -s "$out/before" "$out/killed" && fail "knobs already back after SIGKILL? (nothing to prove)"
	"$MMT" restore >"$out/restore" 2>&1 || { cat "$out/restore"; fail "mmtorture restore exited $?"; }
	grep -q "restoring the state saved by run pid $pid" "$out/restore" ||
		fail "restore did not name the killed run: $(cat "$out/restore")"
	ok "mmtorture restore: $(head -1 "$out/restore")"
	"$MMT" restore | grep -q "nothing to restore" || fail "a second restore found something"
else
	[ "$rc" = 99 ] || { cat "$out/log"; fail "interrupted run exited $rc, want 99"; }
	grep -q "interrupted" "$out/log" || fail "the run did not say it was interrupted"
fi
knobs_snapshot >"$out/after"
diff "$out/before" "$out/after" >"$out/diff" || fail "knobs differ after SIG$SIG: $(cat "$out/diff")"
[ -e "$state" ] && fail "state file left at $state"
ok "SIG$SIG: every knob, mount and temp dir is as before the run"
echo "1 passed, 0 failed"
