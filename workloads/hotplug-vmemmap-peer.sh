#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# hotplug-vmemmap-peer.sh - our memory-hotplug rate beside stress-ng's, measured in the same
# session on the same machine: `mmtorture run hotplug-vmemmap` for SECONDS, then Debian's
# `stress-ng --memhotplug 1 -t SECONDS --metrics-brief` under `strace -f -e trace=write`, then
# both tools' successful offline+online cycles per second side by side, and the ratio.
#
# Both are counted as successes, not attempts: mmtorture counts offline+online cycles of blocks
# it probed to go offline (with hugetlb churn, memmap readers and memory users racing them);
# for stress-ng, whose bogo-ops count every attempt on every block (most refused) and whose
# metrics do not tell successes apart, the script counts its writes of "offline" to a block's
# state file that returned 7 (and of "online" that returned 6).  strace slows stress-ng down
# somewhat; its bogo-op rate is listed too.
#
# Usage: hotplug-vmemmap-peer.sh MMTORTURE [SECONDS] [OUTDIR] [-- MMTORTURE-RUN-ARGS...]
# (RUN-ARGS default to `-p fake_heads=count`.)
# Destructive (offlines memory blocks): root only; exits 77 (skip) when it cannot run.
# Exit: 0 both ran, 1 a run failed (an XFAIL is not a failure) or a block was left offline,
# 77 skip, 99 usage.

set -u

mmt=${1:-}
secs=${2:-10}
out=${3:-}
shift 3 2>/dev/null || shift $#
[ "${1:-}" = -- ] && shift
# a rate comparison, not the detector: by default the known 6.17+ kpageflags bug (XFAIL) is
# only counted, so that it does not end our run after a second
[ $# -gt 0 ] || set -- -p fake_heads=count

if [ -z "$mmt" ] || [ ! -x "$mmt" ]; then
	echo "usage: $0 MMTORTURE [SECONDS] [OUTDIR] [-- RUN-ARGS...]" >&2
	exit 99
fi
case $secs in
''|*[!0-9]*) echo "$0: SECONDS must be a whole number" >&2; exit 99 ;;
esac
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root (memory blocks are offlined)"
	exit 77
fi
for tool in jq stress-ng strace; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool not installed (apt-get install $tool)"
		exit 77
	fi
done
memdir=/sys/devices/system/memory
if [ ! -r "$memdir/block_size_bytes" ]; then
	echo "SKIP: no memory hotplug ($memdir)"
	exit 77
fi

tmp=
if [ -z "$out" ]; then
	tmp=$(mktemp -d /tmp/mmt-hotplug-peer.XXXXXX) || exit 99
	out=$tmp
elif ! mkdir -p "$out"; then
	echo "$0: cannot create $out" >&2
	exit 99
fi
# shellcheck disable=SC2317  # called through the trap
cleanup() {
	if [ -n "$tmp" ]; then
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# state and zone of every block, to check that both tools put everything back
snapshot() {
	for b in "$memdir"/memory[0-9]*; do
		[ -r "$b/state" ] || continue
		printf '%s %s %s\n' "${b##*/}" "$(cat "$b/state")" "$(cat "$b/valid_zones")"
	done
}

# a block left offline is onlined again (stress-ng's own cleanup should have done it)
online_leftovers() {
	left=0
	for b in "$memdir"/memory[0-9]*; do
		[ -r "$b/state" ] || continue
		if [ "$(cat "$b/state")" = offline ]; then
			echo "  $1 left ${b##*/} offline; onlining it"
			echo online > "$b/state" 2>/dev/null
			left=$((left + 1))
		fi
	done
	return $left
}

snapshot > "$out/blocks-before.txt"

# ---- ours
runid=peer-$$
echo "== mmtorture run hotplug-vmemmap --allow-destructive -d $secs"
"$mmt" run hotplug-vmemmap --allow-destructive -d "$secs" -o "$out" --run-id "$runid" "$@" \
	> "$out/mmtorture.log" 2>&1
mrc=$?
rec=$out/$runid/hotplug-vmemmap.json
sed 's/^/  /' "$out/mmtorture.log" | grep -v '^  *$' | tail -n 12
if [ ! -r "$rec" ]; then
	echo "FAIL: mmtorture wrote no record (exit $mrc)"
	exit 1
fi
status=$(jq -r '.status' "$rec")
if [ "$status" = SKIP ]; then
	echo "SKIP: hotplug-vmemmap skipped: $(jq -r '.reason' "$rec")"
	exit 77
fi
# arithmetic means: per-second rates of about one cycle have zero samples (harmonic mean 0)
ours=$(jq -r '.metrics.cycles.summary.arithmetic_mean // 0' "$rec")
measured=$(jq -r '.repeats[0].measured_s // 0' "$rec")
ours_fail=$(jq -r '[.metrics | to_entries[] | select(.key | startswith("offline_fail_"))
	| .value.samples[0] // 0] | add // 0' "$rec")
ours_blocks=$(jq -r '.repeats[0].notes[] | select(startswith("block probe:"))
	| capture("kept (?<n>[0-9]+)").n' "$rec" | head -n 1)
ours_off=$(jq -r '.metrics.offline_latency.histogram.p50 // 0' "$rec")

# ---- stress-ng
echo "== strace -f -e trace=write stress-ng --memhotplug 1 -t $secs --metrics-brief"
strace -f -e trace=write -o "$out/stress-ng.strace" \
	stress-ng --memhotplug 1 -t "$secs" --metrics-brief > "$out/stress-ng.log" 2>&1
src=$?
sed 's/^/  /' "$out/stress-ng.log" | tail -n 6
# "... memhotplug  OPS  REAL  USR  SYS  OPS/S(real)  OPS/S(usr+sys)"
# shellcheck disable=SC2046  # three numbers, split on purpose
set -- $(awk '{ for (i = 1; i < NF; i++) if ($i == "memhotplug" && $(i + 1) ~ /^[0-9]+$/) {
	print $(i + 1), $(i + 2), $(i + 5); exit } }' "$out/stress-ng.log")
sng_ops=${1:-}
sng_real=${2:-}
sng_rate=${3:-}
# strace pads the return value with spaces: 'write(3, "offline", 7)   = 7'
sng_off=$(grep -cE 'write\([0-9]+, "offline", 7\) += 7$' "$out/stress-ng.strace")
sng_on=$(grep -cE 'write\([0-9]+, "online", 6\) += 6$' "$out/stress-ng.strace")
sng_refused=$(grep -cE 'write\([0-9]+, "offline", 7\) += -1' "$out/stress-ng.strace")
sng_cycles=$((sng_off < sng_on ? sng_off : sng_on))
sng_cps=$(awk -v c="$sng_cycles" -v s="${sng_real:-$secs}" 'BEGIN { printf "%.2f", (s > 0 ? c / s : 0) }')

rc=0
online_leftovers stress-ng || rc=1
snapshot > "$out/blocks-after.txt"
if ! diff -q "$out/blocks-before.txt" "$out/blocks-after.txt" >/dev/null; then
	echo "  blocks whose state or zone differ from before:"
	diff "$out/blocks-before.txt" "$out/blocks-after.txt" | sed -n 's/^> /    now /p'
fi

# both from the run's note (whole run, warm-up included): "X of Y successful offlines ..."
cyc_note=$(jq -r '.repeats[0].notes[] | select(startswith("cycled blocks:"))' "$rec" | head -n 1)
ours_huge=$(printf '%s\n' "$cyc_note" | sed -n 's/^cycled blocks: \([0-9]*\) of [0-9]* successful.*/\1/p')
ours_offl=$(printf '%s\n' "$cyc_note" | sed -n 's/^cycled blocks: [0-9]* of \([0-9]*\) successful.*/\1/p')
[ -n "$ours_offl" ] || ours_offl=$(jq -r '.metrics.offline_latency.histogram.count // 0' "$rec")
ratio=$(awk -v a="$ours" -v b="$sng_cps" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "inf" }')
ms() { awk -v n="$1" 'BEGIN { printf "%.1f ms", n / 1e6 }'; }

echo
echo "== memory hotplug, $secs s each, $(nproc) CPUs, $(uname -r)"
printf '%-34s %-30s %s\n' "" "mmtorture hotplug-vmemmap" "stress-ng --memhotplug 1"
printf '%-34s %-30s %s\n' "successful cycles/s" "$(printf '%.2f' "$ours")" "$sng_cps"
printf '%-34s %-30s %s\n' "successful offlines (whole run)" "$ours_offl" \
	"$sng_off (online: $sng_on)"
printf '%-34s %-30s %s\n' "offlines refused" "$ours_fail (per errno in record)" "$sng_refused"
printf '%-34s %-30s %s\n' "offlines with hugetlb pages" "${ours_huge:-?}" "not known"
printf '%-34s %-30s %s\n' "blocks" "${ours_blocks:-?} probed to go offline" "every block it finds"
printf '%-34s %-30s %s\n' "offline p50" "$(ms "$ours_off")" "not reported"
printf '%-34s %-30s %s\n' "bogo-ops/s" "-" "${sng_rate:-?} (attempts, under strace)"
printf '%-34s %-30s %s\n' "status" "$status (exit $mrc)" "exit $src, ${sng_ops:-?} ops in ${sng_real:-?} s"
printf '%-34s %s\n' "ratio mmtorture / stress-ng" "$ratio"
echo
echo "mmtorture, where its offlines went (record: $rec):"
jq -r '.repeats[0].notes[] | select(startswith("offline latency by cause") or startswith("cycled blocks:")
	or startswith("offline time by kernel stack") or startswith("innermost kernel functions"))' "$rec" |
	fold -s -w 110 | sed 's/^/  /'
echo "peer: mmtorture_cycles_per_s=$ours mmtorture_measured_s=$measured stress_ng_cycles_per_s=$sng_cps stress_ng_offline_ok=$sng_off stress_ng_online_ok=$sng_on stress_ng_bogo_ops_per_s=${sng_rate:-nan} ratio=$ratio"

# an XFAIL (known kernel bug) exits 0 like a pass
[ "$mrc" = 0 ] || rc=1
[ "$src" = 0 ] || rc=1
[ -n "$sng_rate" ] || rc=1
exit $rc
