#!/bin/bash
# The verdict rules against the project's own stored VM runs (results/evidence): the A/A ab
# runs of one 6.12 image against a copy must not call anything worse (exit 0), and every fork-delay
# run (known-slow/fork-delay at 20 to 200 ms against base) must call a fork
# latency worse and nothing off the fork path (the fresh runs of the revised rule too).  Under
# the first rules (repeat means, linear Welch) 4 of the first 7 runs called nothing.
# usage: verdicts-evidence.sh MMTORTURE EVIDENCE-DIR
. "$(dirname "$0")/lib.sh"
MMT=$1 EV=$2
need_jq
command -v xz >/dev/null || { echo "ERROR: xz not installed (apt-get install xz-utils)"; exit 99; }
[ -d "$EV/aa-quick-6.12" ] && [ -d "$EV/known-slow-fork-delay-6.12" ] ||
	{ echo "ERROR: no stored A/A or fork-delay runs under $EV"; exit 99; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# judge RUN-DIR: compare its merged base and patched sides; JSON in $out/j, exit in $rc
judge() {
	local t=$out/${1//\//_}
	mkdir -p "$t"
	cp -r "$1/base" "$1/patched" "$t/"
	xz -d "$t"/base/*.xz "$t"/patched/*.xz 2>/dev/null
	"$MMT" compare --format json --calibration none "$t/base" "$t/patched" >"$out/j" 2>"$out/e"
	rc=$?
}
# the fork path: the four fork latencies and the rates the fork drives
on_path='^(fork_ns_(thp|pte_thp|hugetlb|shmem)|cycles(_thp|_pte_thp|_hugetlb|_shmem)?|fork_exit(_latency)?|forks)$'

n=0 b=0
for r in "$EV"/aa-quick-6.12/run*/ "$EV"/known-slow-fork-delay-6.12*/aa-run*/; do
	[ -d "$r" ] || continue
	judge "${r%/}"
	[ "$rc" = 0 ] || fail "A/A $(basename "$r"): exit $rc: $(jq -c .counts "$out/j") $(cat "$out/e")"
	jq -e '.counts.worse == 0' "$out/j" >/dev/null ||
		fail "A/A $(basename "$r"): $(jq -c .counts "$out/j")"
	# a "better" pages no one, but it is a false discovery all the same: counted, shown
	b=$((b + $(jq .counts.better "$out/j")))
	n=$((n + 1))
done
[ "$n" -ge 5 ] || fail "only $n stored A/A runs"
ok "$n stored A/A runs: 0 worse, exit 0 each ($b metric(s) called better in all: false discoveries, which do not page)"

n=0
for r in "$EV"/known-slow-fork-delay-6.12*/fork_us-*/; do
	judge "${r%/}"
	worse=$(jq -r '[.workloads[].rows[] | select(.verdict == "worse" or .verdict == "better")
		| .metric] | join(" ")' "$out/j")
	[ -n "$worse" ] || fail "$(basename "$r"): nothing called worse"
	for m in $worse; do
		[[ "$m" =~ $on_path ]] || fail "$(basename "$r"): $m called worse or better, off the fork path"
	done
	jq -e '[.workloads[].rows[] | select(.verdict == "better")] | length == 0' "$out/j" >/dev/null ||
		fail "$(basename "$r"): something called better"
	echo "  $(basename "$r"): $worse"
	n=$((n + 1))
done
[ "$n" -ge 7 ] || fail "only $n stored fork-delay runs"
ok "$n stored fork-delay runs: each calls a fork latency worse, nothing off the fork path"
