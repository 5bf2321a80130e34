#!/bin/bash
# Suite bugs: run one kernel-bug reproducer (kernel/bugs/ID/repro.c) on the
# running kernel and check that it agrees with the known-bug list: the bug
# shows (exit 1) exactly when `mmtorture bugs` says the kernel is affected.
# A reproducer that cannot run here (77) is a skip with its reason.  It holds
# the mmtorture lock while it runs (it resizes the hugetlb pool) and must leave
# every knob as it found it.
# usage: bug-repro.sh MMTORTURE ID REPRO
. "$(dirname "$0")/lib.sh"
need_jq
MMT=$1 ID=$2 REPRO=$3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
affected=$("$MMT" bugs --json | jq -r --arg id "$ID" '.[] | select(.id == $id) | .affected')
[ -n "$affected" ] || { echo "ERROR: $ID is not in the known-bug list"; exit 99; }
lock="$(mmt_state_dir)/lock"
mkdir -p "$(mmt_state_dir)"
exec 9>>"$lock"
flock -w 900 9 || fail "another mmtorture run held $lock for 15 minutes"
knobs_snapshot >"$out/before" 2>/dev/null
"$REPRO" >"$out/log" 2>&1
rc=$?
exec 9>&-
cat "$out/log"
knobs_snapshot >"$out/after" 2>/dev/null
diff "$out/before" "$out/after" || fail "$ID: the reproducer left knobs changed"
rel=$(uname -r)
case "$rc:$affected" in
77:*) skip "$ID cannot run on $rel: $(grep -m1 'CANNOT RUN' "$out/log")" ;;
1:true) ok "$ID shows on $rel, which the known-bug list says it affects" ;;
0:false) ok "$ID does not show on $rel, which the known-bug list says it does not affect" ;;
1:false) fail "$ID shows on $rel, outside the affected range in the known-bug list: widen the range" ;;
0:true) fail "$ID does not show on $rel, which the known-bug list says it affects: fixed here, or the reproducer misses it" ;;
*) echo "ERROR: $ID: reproducer exit $rc"; exit 99 ;;
esac
echo "1 passed, 0 failed"
