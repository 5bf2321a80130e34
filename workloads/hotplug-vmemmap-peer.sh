#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# hotplug-vmemmap-peer.sh - our memory-hotplug rate beside stress-ng's, measured in the same
# session on the same machine: `mmtorture run hotplug-vmemmap` for SECONDS, then Debian's
# `stress-ng --memhotplug 1 -t SECONDS --metrics-brief`, then both tools' successful
# offline+online cycles per second side by side, and the ratio.
#
# Both sides are counted the same way, by the kernel: every successful write of a memory
# block's state sends an "offline" or "online" uevent, and mmt-hotplug-uevents (built beside
# mmtorture, build/workloads/) counts them while each tool runs, with no tracer slowing
# either.  stress-ng's bogo-ops count every attempt on every block (most refused) and its
# metrics do not tell successes apart, so the uevents are its only fair count.  For
# The ceiling both meet: one empty block offlined and onlined in a tight sh loop for
# SECONDS, counted the same way (the kernel serialises state writes, so no tool cycles
# empty blocks much faster); and how busy our run kept the hotplug lock, which gives the
# rate our blocks' content allows (rate / busy).  Both tools' successful offlines are
# set beside the pages the kernel migrated while each ran (/proc/vmstat pgmigrate_success):
# cycles of blocks that hold user data cost more than cycles of empty ones.  For
# comparison with earlier figures, stress-ng runs a second time under
# `strace -f -e trace=write` (its successful writes of "offline" counted from the trace, as
# this script once did): strace slows it about six-fold, which is why the ratio is given
# against the untraced run.  Our own count is the record's (measured seconds, warm-up left
# out); the uevents seen during our run are printed beside the record's offlines as a check.
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
# dash exits on a "shift" past the end, so shift only what is there
if [ $# -ge 3 ]; then shift 3; else shift $#; fi
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
uev=${MMT_HOTPLUG_UEVENTS:-$(dirname "$mmt")/workloads/mmt-hotplug-uevents}
if [ ! -x "$uev" ]; then
	echo "$0: $uev is not built (meson builds it beside mmtorture; or set MMT_HOTPLUG_UEVENTS)" >&2
	exit 99
fi
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

# pages the kernel migrated (any cause) while a tool ran, counted the same way for both:
# what a successful offline of each tool moved on average (free pages dissolved or dropped
# by an offline are not migrations and are not counted)
pgmigrated() { awk '$1 == "pgmigrate_success" { print $2; f = 1 } END { if (!f) print 0 }' /proc/vmstat; }

# ---- ours
runid=peer-$$
echo "== mmtorture run hotplug-vmemmap --allow-destructive -d $secs"
mg0=$(pgmigrated)
"$uev" -o "$out/mmtorture.uevents" -- \
	"$mmt" run hotplug-vmemmap --allow-destructive -d "$secs" -o "$out" --run-id "$runid" "$@" \
	> "$out/mmtorture.log" 2>&1
mrc=$?
mu_mig=$(($(pgmigrated) - mg0))
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

# uev_get FILE KEY: a number from mmt-hotplug-uevents' "offline=N online=M ..." line
uev_get() { sed -n "s/.*\<$2=\([0-9.]*\).*/\1/p" "$1" 2>/dev/null | head -n 1; }
# sng_metrics LOG: OPS REAL-SECONDS OPS/S(real) from "... memhotplug OPS REAL USR SYS OPS/S ..."
sng_metrics() {
	awk '{ for (i = 1; i < NF; i++) if ($i == "memhotplug" && $(i + 1) ~ /^[0-9]+$/) {
		print $(i + 1), $(i + 2), $(i + 5); exit } }' "$1"
}
# per_s COUNT SECONDS
per_s() { awk -v c="$1" -v s="$2" 'BEGIN { printf "%.2f", (s > 0 ? c / s : 0) }'; }

# ---- stress-ng, as it runs, counted by uevents
echo "== stress-ng --memhotplug 1 -t $secs --metrics-brief"
mg0=$(pgmigrated)
"$uev" -o "$out/stress-ng.uevents" -- \
	stress-ng --memhotplug 1 -t "$secs" --metrics-brief > "$out/stress-ng-bare.log" 2>&1
brc=$?
sb_mig=$(($(pgmigrated) - mg0))
sed 's/^/  /' "$out/stress-ng-bare.log" | grep -E 'memhotplug +[0-9]|successful|fail' | tail -n 3
sb_off=$(uev_get "$out/stress-ng.uevents" offline)
sb_on=$(uev_get "$out/stress-ng.uevents" online)
# shellcheck disable=SC2046  # three numbers, split on purpose
set -- $(sng_metrics "$out/stress-ng-bare.log")
sb_real=${2:-}
sb_rate=${3:-}
sb_cycles=$(( ${sb_off:-0} < ${sb_on:-0} ? ${sb_off:-0} : ${sb_on:-0} ))
# over stress-ng's own run time (its start-up and clean-up are outside it)
sb_cps=$(per_s "$sb_cycles" "${sb_real:-$secs}")
mu_off=$(uev_get "$out/mmtorture.uevents" offline)
mu_on=$(uev_get "$out/mmtorture.uevents" online)

# ---- the kernel path alone: one empty block offlined and onlined in a tight loop
# The state writes are serialised in the kernel (device_hotplug_lock), so this is about
# the most cycles per second this machine's kernel gives any tool, for blocks that hold
# nothing; stress-ng's successes are mostly such blocks.  The block: the highest-numbered
# one that goes offline now (onlined again into the zone it was in, then cycled).
empty_block=
for n in $(ls "$memdir" | sed -n "s/^memory\([0-9]*\)$/\1/p" | sort -n -r); do
	b=$memdir/memory$n
	[ "$(cat "$b/state" 2>/dev/null)" = online ] || continue
	[ "$(cat "$b/removable" 2>/dev/null)" != 0 ] || continue
	if echo offline 2>/dev/null > "$b/state"; then
		echo online > "$b/state" 2>/dev/null
		empty_block=${b##*/}
		break
	fi
done
el_cps=-
if [ -n "$empty_block" ]; then
	echo "== $empty_block: offline, online, in a sh loop for $secs s"
	# a clock read per 64 cycles; refused offlines (something landed in it) just go on
	"$uev" -o "$out/empty-loop.uevents" -- sh -c '
		s=$1/state; end=$(( $(date +%s) + $2 )); n=0
		while :; do
			if [ $((n % 64)) = 0 ] && [ "$(date +%s)" -ge "$end" ]; then break; fi
			n=$((n + 1))
			echo offline 2>/dev/null > "$s" && echo online > "$s"
		done
		[ "$(cat "$s")" = online ] || echo online > "$s"' sh "$memdir/$empty_block" "$secs" \
		> "$out/empty-loop.log" 2>&1
	el_off=$(uev_get "$out/empty-loop.uevents" offline)
	el_on=$(uev_get "$out/empty-loop.uevents" online)
	el_s=$(uev_get "$out/empty-loop.uevents" seconds)
	el_cycles=$(( ${el_off:-0} < ${el_on:-0} ? ${el_off:-0} : ${el_on:-0} ))
	el_cps=$(per_s "$el_cycles" "${el_s:-$secs}")
	echo "  $el_cycles cycles in ${el_s:-?} s"
else
	echo "== no block goes offline now: the empty-block loop is left out"
fi

# ---- stress-ng under strace (the way this script counted before it had uevents)
echo "== strace -f -e trace=write stress-ng --memhotplug 1 -t $secs --metrics-brief"
strace -f -e trace=write -o "$out/stress-ng.strace" \
	stress-ng --memhotplug 1 -t "$secs" --metrics-brief > "$out/stress-ng.log" 2>&1
src=$?
sed 's/^/  /' "$out/stress-ng.log" | tail -n 6
# shellcheck disable=SC2046  # three numbers, split on purpose
set -- $(sng_metrics "$out/stress-ng.log")
sng_ops=${1:-}
sng_real=${2:-}
sng_rate=${3:-}
# strace pads the return value with spaces: 'write(3, "offline", 7)   = 7'
sng_off=$(grep -cE 'write\([0-9]+, "offline", 7\) += 7$' "$out/stress-ng.strace")
sng_on=$(grep -cE 'write\([0-9]+, "online", 6\) += 6$' "$out/stress-ng.strace")
sng_refused=$(grep -cE 'write\([0-9]+, "offline", 7\) += -1' "$out/stress-ng.strace")
sng_cycles=$((sng_off < sng_on ? sng_off : sng_on))
sng_cps=$(per_s "$sng_cycles" "${sng_real:-$secs}")

rc=0
online_leftovers stress-ng || rc=1
[ -n "$sb_off" ] || { echo "  no uevent count for stress-ng ($out/stress-ng.uevents)"; rc=1; }
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
ratio=$(awk -v a="$ours" -v b="$sb_cps" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "inf" }')
ratio_strace=$(awk -v a="$ours" -v b="$sng_cps" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "inf" }')
# frac A B: A / B, or "-" when B is not a positive number
frac() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "-" }'; }
ours_busy=$(jq -r '.repeats[0].notes[] | select(startswith("offliner time"))' "$rec" |
	sed -n 's/.*kept the hotplug lock busy \([0-9]*\) %.*/\1/p' | head -n 1)
ms() { awk -v n="$1" 'BEGIN { printf "%.1f ms", n / 1e6 }'; }

echo
echo "== memory hotplug, $secs s each, $(nproc) CPUs, $(uname -r)"
printf '%-34s %-30s %-26s %s\n' "" "mmtorture hotplug-vmemmap" "stress-ng --memhotplug 1" \
	"stress-ng under strace"
printf '%-34s %-30s %-26s %s\n' "successful cycles/s" "$(printf '%.2f' "$ours")" "$sb_cps" "$sng_cps"
printf '%-34s %-30s %-26s %s\n' "counted by" "its record (measured $(printf %.0f "$measured") s)" \
	"uevents (${sb_real:-?} s)" "strace of its writes"
printf '%-34s %-30s %-26s %s\n' "successful offlines (whole run)" "$ours_offl" \
	"${sb_off:-?} (online: ${sb_on:-?})" "$sng_off (online: $sng_on)"
printf '%-34s %-30s %-26s %s\n' "offline uevents (whole run)" "${mu_off:-?} (online: ${mu_on:-?})" \
	"${sb_off:-?}" "-"
printf '%-34s %-30s %-26s %s\n' "offlines refused" "$ours_fail (per errno in record)" "not known" \
	"$sng_refused"
printf '%-34s %-30s %-26s %s\n' "offlines with hugetlb pages" "${ours_huge:-?}" "not known" "not known"
printf '%-34s %-30s %-26s %s\n' "pages migrated per offline" \
	"$(frac "$mu_mig" "${mu_off:-0}") ($mu_mig, vmstat)" "$(frac "$sb_mig" "${sb_off:-0}") ($sb_mig, vmstat)" "-"
printf '%-34s %-30s %-26s %s\n' "blocks" "${ours_blocks:-?} kept, layout=$(jq -r '.params.layout // "full"' "$rec")" \
	"every block it finds" "the same"
printf '%-34s %-30s %-26s %s\n' "offline p50" "$(ms "$ours_off")" "not reported" "not reported"
printf '%-34s %-30s %-26s %s\n' "bogo-ops/s (attempts)" "-" "${sb_rate:-?}" "${sng_rate:-?}"
printf '%-34s %-30s %-26s %s\n' "status" "$status (exit $mrc)" "exit $brc" \
	"exit $src, ${sng_ops:-?} ops in ${sng_real:-?} s"
printf '%-34s %s (against stress-ng under strace: %s)\n' "ratio mmtorture / stress-ng" "$ratio" \
	"$ratio_strace"
printf '%-34s %s cycles/s (%s; stress-ng at %s of it, mmtorture at %s)\n' "kernel alone, empty block loop" \
	"$el_cps" "${empty_block:-no block}" "$(frac "$sb_cps" "$el_cps")" "$(frac "$ours" "$el_cps")"
printf '%-34s %s %% of the run (mmtorture'"'"'s rate with the lock never idle: %s cycles/s)\n' \
	"hotplug lock busy, mmtorture" "${ours_busy:-?}" \
	"$(awk -v r="$ours" -v b="${ours_busy:-0}" 'BEGIN { if (b > 0) printf "%.0f", r * 100 / b; else print "?" }')"
echo
echo "mmtorture, where its offlines went (record: $rec):"
jq -r '.repeats[0].notes[] | select(startswith("offline latency by cause") or startswith("cycled blocks:")
	or startswith("offliner time") or startswith("offline time by kernel stack")
	or startswith("innermost kernel functions"))' "$rec" |
	fold -s -w 110 | sed 's/^/  /'
echo "peer: mmtorture_cycles_per_s=$ours mmtorture_measured_s=$measured stress_ng_cycles_per_s=$sb_cps stress_ng_offline_ok=${sb_off:-nan} stress_ng_online_ok=${sb_on:-nan} stress_ng_bogo_ops_per_s=${sb_rate:-nan} ratio=$ratio stress_ng_strace_cycles_per_s=$sng_cps ratio_strace=$ratio_strace empty_loop_cycles_per_s=$el_cps hotplug_lock_busy_pct=${ours_busy:-nan} mmtorture_pages_migrated=$mu_mig stress_ng_pages_migrated=$sb_mig"

# an XFAIL (known kernel bug) exits 0 like a pass
[ "$mrc" = 0 ] || rc=1
[ "$brc" = 0 ] || rc=1
[ "$src" = 0 ] || rc=1
[ -n "$sng_rate" ] || rc=1
exit $rc
