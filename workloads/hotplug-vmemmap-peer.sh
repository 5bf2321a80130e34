#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# hotplug-vmemmap-peer.sh - our memory-hotplug figure beside stress-ng's, measured in the same
# session on the same machine: `mmtorture run hotplug-vmemmap` for SECONDS, then Debian's
# `stress-ng --memhotplug 1 -t SECONDS --metrics-brief`, then both figures side by side.
#
# The two count different things: mmtorture counts successful offline+online cycles of blocks
# it probed to go offline (with hugetlb churn, memmap readers and memory users racing them);
# stress-ng counts bogo-ops, which are attempts: it writes offline/online to every block it
# finds, and most refuse.  Refusals are listed for both.
#
# Usage: hotplug-vmemmap-peer.sh MMTORTURE [SECONDS] [OUTDIR]
# Destructive (offlines memory blocks): root only; exits 77 (skip) when it cannot run.
# Exit: 0 both ran, 1 a run failed or a block was left offline, 77 skip, 99 usage.

set -u

mmt=${1:-}
secs=${2:-10}
out=${3:-}

if [ -z "$mmt" ] || [ ! -x "$mmt" ]; then
	echo "usage: $0 MMTORTURE [SECONDS] [OUTDIR]" >&2
	exit 99
fi
case $secs in
''|*[!0-9]*) echo "$0: SECONDS must be a whole number" >&2; exit 99 ;;
esac
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root (memory blocks are offlined)"
	exit 77
fi
for tool in jq stress-ng; do
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
"$mmt" run hotplug-vmemmap --allow-destructive -d "$secs" -o "$out" --run-id "$runid" \
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
echo "== stress-ng --memhotplug 1 -t $secs --metrics-brief"
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

rc=0
online_leftovers stress-ng || rc=1
snapshot > "$out/blocks-after.txt"
if ! diff -q "$out/blocks-before.txt" "$out/blocks-after.txt" >/dev/null; then
	echo "  blocks whose state or zone differ from before:"
	diff "$out/blocks-before.txt" "$out/blocks-after.txt" | sed -n 's/^> /    now /p'
fi

echo
echo "== memory hotplug, $secs s each, $(nproc) CPUs, $(uname -r)"
printf '%-34s %-26s %s\n' "" "mmtorture hotplug-vmemmap" "stress-ng --memhotplug 1"
printf '%-34s %-26s %s\n' "reported figure" "$(printf '%.2f cycles/s' "$ours")" \
	"${sng_rate:-?} bogo-ops/s"
printf '%-34s %-26s %s\n' "what it counts" "successful offline+online" "attempts (most refused)"
printf '%-34s %-26s %s\n' "blocks" "${ours_blocks:-?} probed to go offline" "every block it finds"
printf '%-34s %-26s %s\n' "offline refusals" "$ours_fail (per errno in record)" "not reported"
printf '%-34s %-26s %s\n' "offline p50" "$(awk -v n="$ours_off" 'BEGIN { printf "%.1f ms", n / 1e6 }')" \
	"not reported"
printf '%-34s %-26s %s\n' "status" "$status (exit $mrc)" "exit $src, ${sng_ops:-?} ops in ${sng_real:-?} s"
echo "peer: mmtorture_cycles_per_s=$ours mmtorture_measured_s=$measured stress_ng_bogo_ops_per_s=${sng_rate:-nan} stress_ng_bogo_ops=${sng_ops:-nan}"

[ "$mrc" = 0 ] || rc=1
[ "$src" = 0 ] || rc=1
[ -n "$sng_rate" ] || rc=1
exit $rc
