#!/bin/bash
# ab's nightly logic without VMs: a stand-in vm-run.sh (MMT_KERNEL_DIR) turns
# each "boot" into a record made from data/runs/base, its ops rate scaled by
# the "kernel" (a file: factor=, noise=, bad_boots=) and a deterministic
# boot-to-boot noise.  An A/A exits 0; a kernel 30 % slower is worse, confirmed
# on fresh boots, exit 1; one slow only on its first boots is not reproduced
# and does not page; an inconclusive headline metric gets more boots up to
# --max-repeat.  A kernel series that adds a fixed delay to a hot path is
# judged the same way (kernel/series/known-slow); --patched-append and
# --base-append give one side's boots a kernel command line (here a factor= the
# stand-in honours, as a known-slow kernel honours mmt_slow.fork_us=).
# usage: ab.sh MMTORTURE DATADIR
. "$(dirname "$0")/lib.sh"
MMT=$1 DATA=$2
need_jq
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mkdir -p "$out/kdir" "$out/k"
cat >"$out/kdir/vm-run.sh" <<'SH'
#!/bin/bash
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) K=$2; shift 2 ;; --results) R=$2; shift 2 ;; --run-id) ID=$2; shift 2 ;;
	--append) APPEND=$2; shift 2 ;;
	--) shift; break ;; *) shift ;;
	esac
done
factor=1 noise=0.02 bad_boots= error_boots=
. "$K"
for w in $APPEND; do case $w in factor=*) factor=${w#factor=} ;; esac; done
echo "$ID ${APPEND:-none}" >>"$R/appends"
n=$(( $(cat "$K.count" 2>/dev/null || echo 0) + 1 )); echo $n >"$K.count"
[ -n "$bad_boots" ] && [ $n -gt "$bad_boots" ] && factor=1
for e in $error_boots; do [ "$e" = $n ] && { mkdir -p "$R/$ID"; echo "boot $n: ERROR" >"$R/$ID/error"; exit 99; }; done
m=$(awk -v f="$factor" -v z="$noise" -v k=$n 'BEGIN { print f * (1 + z * ((k % 3) - 1)) }')
mkdir -p "$R/$ID"
jq --argjson m "$m" --arg id "$ID" --arg rel "6.12.0-$(basename "$K")" '
	.run_id = $id | .system.kernel.release = $rel |
	.metrics.ops.samples |= map(. * $m) | .metrics.ops.repeat_values |= map(. * $m) |
	.metrics.ops.summary.mean *= $m | .metrics.ops.summary.arithmetic_mean *= $m' \
	"$MMT_TEST_TEMPLATE" >"$R/$ID/demo.json"
SH
export MMT_KERNEL_DIR=$out/kdir MMT_TEST_TEMPLATE=$DATA/runs/base/demo.json

# ab_run WANT-EXIT LOG ab-args...
ab_run() {
	local want=$1 log=$2; shift 2
	"$MMT" ab -o "$out/res" "$@" -- --suite quick >"$out/$log" 2>&1 </dev/null
	local rc=$?
	[ "$rc" = "$want" ] || fail "ab $* exited $rc, want $want: $(cat "$out/$log")"
}
last_ab() { ls -d "$out"/res/*-ab-"$1" | tail -1; }

echo "factor=1" >"$out/k/aa"
ab_run 0 aa.log --base "$out/k/aa" --patched "$out/k/aa" --repeat 3 --headline --confirm
grep -q 'nothing got worse (exit 0)' "$out/aa.log" || fail "A/A: $(grep summary "$out/aa.log")"
grep -q 'CONFIRMED\|NOT reproduced' "$out/aa.log" && fail "A/A: a confirmation ran: $(cat "$out/aa.log")"
ok "A/A (the same image both sides): nothing worse, exit 0"

echo "factor=1" >"$out/k/base"
echo "factor=0.7" >"$out/k/slow"
ab_run 1 slow.log --base "$out/k/base" --patched "$out/k/slow" --repeat 3 --headline --confirm
grep -q 'demo: ops: worse, and CONFIRMED on fresh boots' "$out/slow.log" ||
	fail "slow: not confirmed: $(cat "$out/slow.log")"
[ "$(jq .run.repeats "$(last_ab patched)/demo.json")" = 3 ] || fail "slow: the confirm run has not 3 boots"
ok "a kernel 30 % slower: worse, confirmed on 3 fresh interleaved boots each, exit 1"

rm -f "$out"/k/*.count
printf 'factor=1\nerror_boots=2\n' >"$out/k/erring"
ab_run 0 erring.log --base "$out/k/base" --patched "$out/k/erring" --repeat 3 --headline
grep -q 'the patched boot could not run (exit 99; records in .*-patched-2.failed): booting it once more' "$out/erring.log" ||
	fail "erring: no second boot: $(cat "$out/erring.log")"
[ -f "$(last_ab patched)-2.failed/error" ] && [ "$(jq .run.repeats "$(last_ab patched)/demo.json")" = 3 ] ||
	fail "erring: the failed boot is not kept aside, or the side has not 3 boots"
sleep 1	# a new ab id
rm -f "$out"/k/*.count
printf 'factor=1\nerror_boots="2 3"\n' >"$out/k/erring2"
ab_run 99 erring2.log --base "$out/k/base" --patched "$out/k/erring2" --repeat 3
grep -q 'the patched boot could not run, twice; stopping' "$out/erring2.log" ||
	fail "erring twice: $(cat "$out/erring2.log")"
ok "a boot that could not run is booted once more (kept aside as .failed); twice in a row stops ab (99)"

rm -f "$out"/k/*.count
printf 'factor=0.7\nbad_boots=3\n' >"$out/k/flaky"
ab_run 0 flaky.log --base "$out/k/base" --patched "$out/k/flaky" --repeat 3 --headline --confirm
grep -q 'demo: ops: worse, and NOT reproduced on fresh boots' "$out/flaky.log" ||
	fail "flaky: $(cat "$out/flaky.log")"
ok "slow on its first boots only: worse once, not reproduced, does not page (exit 0)"

rm -f "$out"/k/*.count
printf 'factor=1\nnoise=0.15\n' >"$out/k/noisy"
printf 'factor=0.95\nnoise=0.15\n' >"$out/k/noisy2"
ab_run 0 noisy.log --base "$out/k/noisy" --patched "$out/k/noisy2" --repeat 3 --max-repeat 5 --headline
grep -q 'inconclusive after 3 boots each: one more pair' "$out/noisy.log" ||
	fail "noisy: no more boots: $(cat "$out/noisy.log")"
grep -q 'still 1 headline metric inconclusive after 5 boots each' "$out/noisy.log" ||
	fail "noisy: did not stop at 5: $(cat "$out/noisy.log")"
[ "$(jq .run.repeats "$(last_ab patched)/demo.json")" = 5 ] || fail "noisy: not 5 boots merged"
ok "an inconclusive headline metric gets more interleaved boots, up to --max-repeat, and does not page"

rm -f "$out"/k/*.count "$out"/res/appends
ab_run 1 append.log --base "$out/k/aa" --patched "$out/k/aa" --repeat 3 --patched-append "quiet factor=0.7"
grep -q 'summary: 1 worse (1 headline), 0 better' "$out/append.log" || fail "--patched-append: $(cat "$out/append.log")"
[ "$(grep -c -- '-patched-[0-9]* quiet factor=0.7$' "$out/res/appends")" = 3 ] &&
	[ "$(grep -c -- '-base-[0-9]* none$' "$out/res/appends")" = 3 ] ||
	fail "--patched-append reached the wrong boots: $(cat "$out/res/appends")"
ok "--patched-append: only the patched boots get it (one image, 30 % slower by its parameter): worse, exit 1"

rm -f "$out"/k/*.count "$out"/res/appends
ab_run 0 bappend.log --base "$out/k/aa" --patched "$out/k/aa" --repeat 3 --base-append "factor=0.7"
grep -q 'summary: 0 worse (0 headline), 1 better' "$out/bappend.log" || fail "--base-append: $(cat "$out/bappend.log")"
[ "$(grep -c -- '-base-[0-9]* factor=0.7$' "$out/res/appends")" = 3 ] ||
	fail "--base-append reached the wrong boots: $(cat "$out/res/appends")"
ok "--base-append: only the base boots get it: the patched side is better, exit 0"

"$MMT" ab --base "$out/k/base" --patched "$out/k/slow" --repeat 3 --max-repeat 2 -- x >/dev/null 2>"$out/e"
[ $? = 99 ] && grep -q 'below --repeat' "$out/e" || fail "--max-repeat < --repeat: $(cat "$out/e")"
"$MMT" ab --help | grep -q -- '--confirm' || fail "ab --help does not document --confirm"
"$MMT" ab --help | grep -q -- '--patched-append' || fail "ab --help does not document --patched-append"
echo "all passed"
