#!/bin/bash
# hotplug-vmemmap in both layouts, a few seconds each, then sparse with round_pages=1 in both
# round placements: what every cycled block must hold.
# At least 90 % of the successful offlines must take hugetlb pages offline (kpageflags of
# the block just before the write), some memory-user pages must have been migrated out of a
# cycled block and verified, and the record must say in how many offlines user pages moved
# (at least one): the race partners the workload promises, whatever its cycle rate.  (A
# sparse block whose page went elsewhere, e.g. to another NUMA node, fails the first check.)
# usage: hotplug-layout.sh MMTORTURE OUTDIR [RUN-ARGS...]
. "$(dirname "$0")/lib.sh"
need_jq
MMT=$1 OUT=$2
shift 2
args=("$@")
pass=0

# run ID WHAT PARAM...: one run with the test's arguments too; its record in $r, its status in
# $status (PASS or XFAIL; a skip or anything else ends the test)
run() {
	local id="test-hotplug-layout-$1-$$" what=$2 rc
	shift 2
	"$MMT" run hotplug-vmemmap -o "$OUT" --run-id "$id" "$@" "${args[@]}"
	rc=$?
	r="$OUT/$id/hotplug-vmemmap.json"
	[ -f "$r" ] || { echo "ERROR: no record at $r (exit $rc)"; exit 99; }
	status=$(rec "$r" .status)
	case "$rc:$status" in
	0:PASS|0:XFAIL) ;;
	77:SKIP) skip "$(rec "$r" .reason)" ;;
	*) fail "$what: exit $rc, $status: $(rec "$r" .reason)" ;;
	esac
}

for layout in sparse full; do
	run "$layout" "layout=$layout" -p layout="$layout"
	# whole run, warm-up included (the per-second metrics leave the warm-up out)
	note=$(jq -r '.repeats[0].notes[] | select(startswith("cycled blocks:"))' "$r")
	huge=$(printf '%s\n' "$note" | sed -n 's/^cycled blocks: \([0-9]*\) of [0-9]* successful.*/\1/p')
	offl=$(printf '%s\n' "$note" | sed -n 's/^cycled blocks: [0-9]* of \([0-9]*\) successful.*/\1/p')
	[ -n "$offl" ] || fail "layout=$layout: no \"cycled blocks:\" note in $r"
	moved=$(jq -r '.metrics.user_pages_moved_from_cycled.samples | add // 0' "$r")
	cyc=$(jq -r '.metrics.cycles.summary.arithmetic_mean // 0' "$r")
	[ "$offl" -gt 0 ] || fail "layout=$layout: no successful offline"
	[ $((huge * 10)) -ge $((offl * 9)) ] ||
		fail "layout=$layout: only $huge of $offl offlines took hugetlb pages offline (90 % wanted)"
	[ "$moved" -gt 0 ] || fail "layout=$layout: no memory-user page was migrated out of a cycled block"
	user=$(printf '%s\n' "$note" | sed -n 's/.*user pages in \([0-9]*\) of them.*/\1/p')
	[ -n "$user" ] || fail "layout=$layout: the \"cycled blocks:\" note does not say in how many offlines user pages moved"
	[ "$user" -gt 0 ] && [ "$user" -le "$offl" ] ||
		fail "layout=$layout: user pages moved in $user of $offl offlines (want 1 to $offl)"
	ok "layout=$layout: $status, $cyc cycles/s, $huge of $offl offlines with hugetlb pages, $moved user pages migrated out of cycled blocks, $user offlines with user pages"
	pass=$((pass + 1))
done
# round_pages=1, in both placements: the cycler's own page must be in 90 % of the sparse blocks
# it offlines, then out of them and intact; round_place=top must put it on top of the fill
# (on average past the middle of the block), low must not
for place in top low; do
	run "round-$place" "round_pages=1 round_place=$place" -p layout=sparse -p round_pages=1 \
		-p round_place="$place"
	note=$(jq -r '.repeats[0].notes[] | select(startswith("round_pages="))' "$r")
	with=$(printf '%s\n' "$note" | sed -n 's/^round_pages=1, round_place=[a-z]*: \([0-9]*\) of [0-9]* successful.*/\1/p')
	offl=$(printf '%s\n' "$note" | sed -n 's/^round_pages=1, round_place=[a-z]*: [0-9]* of \([0-9]*\) successful.*/\1/p')
	pos=$(printf '%s\n' "$note" | sed -n 's/.*on average \([0-9]*\)\.[0-9] % into it.*/\1/p')
	[ -n "$offl" ] && [ "$offl" -gt 0 ] && [ -n "$pos" ] ||
		fail "round_place=$place: no \"round_pages=\" note with offlines and a position in $r"
	[ $((with * 10)) -ge $((offl * 9)) ] ||
		fail "round_place=$place: the cycler's page was in only $with of $offl offlined blocks (90 % wanted)"
	case $place in
	top) [ "$pos" -ge 50 ] || fail "round_place=top: the pages were on average $pos % into their block (above the fill, past 50 %, wanted)" ;;
	low) [ "$pos" -lt 50 ] || fail "round_place=low: the pages were on average $pos % into their block (under 50 % wanted)" ;;
	esac
	ok "round_place=$place: $status, $(jq -r '.metrics.cycles.summary.arithmetic_mean // 0' "$r") cycles/s, the cycler's page in $with of $offl offlined blocks, on average $pos % into it, migrated and intact"
	pass=$((pass + 1))
done
echo "$pass passed, 0 failed"
