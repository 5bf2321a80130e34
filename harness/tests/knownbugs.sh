#!/bin/bash
# Known kernel bugs in verdicts, through the selftest workload: a FAIL whose
# signature is in the known-bug list, on a kernel the bug affects, is XFAIL and
# exits 0 (1 with --strict); the same FAIL on a kernel outside the bug's range,
# or with a signature that does not match, stays FAIL (exit 1); a PASS on an
# affected kernel notes that the bug did not show; compare shows XFAIL without
# calling it a regression.  Then the real list parses and its ranges say what
# kernel/bugs/README.md says about the running kernel.
# usage: knownbugs.sh MMTORTURE-SELFTEST MMTORTURE KNOWN-BUGS-JSON
. "$(dirname "$0")/lib.sh"
need_jq
MMT=$1 MAIN=$2 LIST=$3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export MMT_STATE_DIR="$out/state"	# the selftest touches no knob
release=$(uname -r)

# list RANGE [SERIES] [REASON-REGEX]: a list with one bug of the selftest workload
list() {
	jq -n --arg range "$1" --arg series "${2:-}" --arg re "${3:-expected 0xaa found 0x55}" '{
	  schema: "mmtorture-known-bugs/1",
	  bugs: [{ id: "selftest-bug", summary: "the selftest corrupts its own data",
	           workloads: ["selftest"], signature: { reason: $re },
	           affected: [$range], needs: "mode=fail",
	           fix: { upstream: "none", series: (if $series == "" then [] else [$series] end) },
	           folder: "kernel/bugs/selftest-bug" }] }'
}

run() {	# run ID WANT-RC ARGS...
	local id=$1 want=$2; shift 2
	"$MMT" run selftest -o "$out" --run-id "$id" --lock-timeout 60 -d 30 "$@" >"$out/$id.log" 2>&1
	local rc=$?
	[ "$rc" = "$want" ] || { cat "$out/$id.log"; fail "$id: exit $rc, want $want"; }
	R="$out/$id/selftest.json"
	[ -f "$R" ] || fail "$id: no record"
}

list ">=2.6" >"$out/affected.json"
run affected 0 -p mode=fail --known-bugs "$out/affected.json"
[ "$(rec "$R" .status)" = XFAIL ] || fail "affected: status $(rec "$R" .status), want XFAIL"
[ "$(rec "$R" .exit_code)" = 0 ] || fail "affected: record exit_code $(rec "$R" .exit_code)"
[[ "$(rec "$R" .reason)" == "known kernel bug: selftest-bug: "*"expected 0xaa found 0x55"* ]] ||
	fail "affected: reason $(rec "$R" .reason)"
[ "$(rec "$R" .known_bug.id)" = selftest-bug ] && [ "$(rec "$R" .known_bug.matched)" = reason ] ||
	fail "affected: known_bug $(rec "$R" -c .known_bug)"
[ "$(rec "$R" '.repeats[0].status')" = FAIL ] || fail "affected: the repeat's own verdict should stay FAIL"
grep -qE '^selftest +XFAIL ' "$out/affected.log" || fail "affected: summary table does not show XFAIL"
grep -q "XFAIL selftest: known kernel bug: selftest-bug" "$out/affected.log" || fail "affected: no XFAIL line under the table"
ok "known signature on an affected kernel ($release): XFAIL, exit 0: $(rec "$R" .reason)"

run strict 1 -p mode=fail --known-bugs "$out/affected.json" --strict
[ "$(rec "$R" .status)" = XFAIL ] && [ "$(rec "$R" .exit_code)" = 1 ] ||
	fail "strict: status $(rec "$R" .status) exit_code $(rec "$R" .exit_code)"
ok "--strict: XFAIL exits 1"

list "<2.6" >"$out/unaffected.json"
run unaffected 1 -p mode=fail --known-bugs "$out/unaffected.json"
[ "$(rec "$R" .status)" = FAIL ] && [ "$(rec "$R" .known_bug)" = null ] ||
	fail "unaffected: status $(rec "$R" .status), known_bug $(rec "$R" -c .known_bug)"
ok "the same failure on a kernel outside the bug's range ($release is not <2.6): FAIL, exit 1"

series=$(printf '%s' "$release" | sed -n 's/.*-mmt-//p')
list ">=2.6" "${series:-no-such-series}" >"$out/fixed.json"
if [ -n "$series" ]; then
	run fixed 1 -p mode=fail --known-bugs "$out/fixed.json"
	[ "$(rec "$R" .status)" = FAIL ] || fail "fixed: status $(rec "$R" .status)"
	ok "a kernel carrying the fixing series $series: FAIL"
fi

list ">=2.6" "" "expected 0x11 found 0x22" >"$out/other.json"
run other 1 -p mode=fail --known-bugs "$out/other.json"
[ "$(rec "$R" .status)" = FAIL ] || fail "other signature: status $(rec "$R" .status)"
ok "a failure that matches no signature: FAIL, exit 1"

# splats: a known one is XFAIL, naming the bug that explains it; a known one beside an
# unknown one stays FAIL (a known bug must not excuse a splat nobody explained)
# (the fake splats go to the kernel log: meson runs this test alone, or runs beside it would
# see them)
if [ -w /dev/kmsg ]; then
	jq -n --arg range ">=2.6" '{ schema: "mmtorture-known-bugs/1",
	  bugs: [ { id: "selftest-other", summary: "a bug whose splat is not this one", workloads: ["selftest"],
	            signature: { splat: "selftest splat Z" }, affected: [$range], needs: "-",
	            fix: { upstream: "none", series: [] }, folder: "kernel/bugs/x" },
	          { id: "selftest-wide", summary: "any selftest splat, by reason", workloads: ["selftest"],
	            signature: { reason: "kernel splat" }, affected: [$range], needs: "-",
	            fix: { upstream: "none", series: [] }, folder: "kernel/bugs/x" },
	          { id: "selftest-splat-a", summary: "splat A", workloads: ["selftest"],
	            signature: { splat: "selftest splat A" }, affected: [$range], needs: "-",
	            fix: { upstream: "none", series: [] }, folder: "kernel/bugs/x" } ] }' >"$out/splat.json"
	run splat 0 -d 2 -p mode=splat --known-bugs "$out/splat.json"
	[ "$(rec "$R" .status)" = XFAIL ] && [ "$(rec "$R" .known_bug.id)" = selftest-splat-a ] ||
		fail "splat: status $(rec "$R" .status), known_bug $(rec "$R" .known_bug.id) (want XFAIL, selftest-splat-a: the bug that explains the splat, not the first whose signature matches)"
	ok "a known splat: XFAIL naming the bug that explains it ($(rec "$R" .reason))"
	run splat2 1 -d 2 -p mode=splat2 --known-bugs "$out/splat.json"
	[ "$(rec "$R" .status)" = FAIL ] && [ "$(rec "$R" .known_bug)" = null ] ||
		fail "splat2: status $(rec "$R" .status), known_bug $(rec "$R" -c .known_bug) (splat B is unknown: want FAIL)"
	ok "a known splat beside an unknown one: FAIL, exit 1"
else
	echo "(no splat cases: /dev/kmsg is not writable here)"
fi

run notseen 0 -d 2 --known-bugs "$out/affected.json"
[ "$(rec "$R" .status)" = PASS ] && [ "$(rec "$R" '.known_bugs_not_seen[0].id')" = selftest-bug ] ||
	fail "notseen: status $(rec "$R" .status), known_bugs_not_seen $(rec "$R" -c .known_bugs_not_seen)"
grep -q "known kernel bug selftest-bug affects this kernel but did not show" "$out/notseen.log" ||
	fail "notseen: not said"
ok "a known bug of this kernel that did not show is said: $(grep -m1 'did not show' "$out/notseen.log")"

"$MAIN" compare "$out/unaffected" "$out/affected" >"$out/cmp" 2>&1
rc=$?
cat "$out/cmp"
grep -q "XFAIL" "$out/cmp" || fail "compare does not show XFAIL"
[ "$rc" = 0 ] || fail "compare FAIL -> XFAIL exited $rc, want 0 (a known bug is not a regression)"
"$MAIN" compare "$out/affected" "$out/unaffected" >"$out/cmp2" 2>&1
[ $? = 1 ] || { cat "$out/cmp2"; fail "compare XFAIL -> FAIL must exit 1"; }
ok "compare: FAIL -> XFAIL shown, exit 0; XFAIL -> FAIL exit 1"

"$MAIN" report "$out/affected" -o "$out/report" >"$out/report.log" 2>&1 ||
	{ cat "$out/report.log"; fail "report of an XFAIL run failed"; }
grep -q "XFAIL" "$out/report/report.md" && grep -q "known kernel bug: selftest-bug" "$out/report/report.md" ||
	fail "the report does not show the XFAIL and the bug"
ok "report shows XFAIL and names the bug"

# the real list: valid, every folder has a README and a repro.c
root=$(dirname "$LIST")/../..
n=$(jq '.bugs | length' "$LIST") || fail "$LIST does not parse"
[ "$(jq -r .schema "$LIST")" = mmtorture-known-bugs/1 ] || fail "$LIST: schema"
for id in $(jq -r '.bugs[].id' "$LIST"); do
	folder=$(jq -r --arg id "$id" '.bugs[] | select(.id == $id) | .folder' "$LIST")
	[ -f "$root/$folder/README.md" ] && [ -f "$root/$folder/repro.c" ] || fail "$id: no README.md or repro.c in $folder"
	grep -q "$id" "$(dirname "$LIST")/README.md" || fail "$id is not in kernel/bugs/README.md"
done
ok "$LIST: $n bugs, each with README.md and repro.c, each in the index"
echo "1 passed, 0 failed"
