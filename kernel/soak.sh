#!/bin/bash
# soak.sh - boot one kernel again and again under QEMU, running the suite in each boot, until a
# time budget is spent; report every boot's verdict and any splat. For debug kernels (KASAN,
# lockdep): a series is not done until a soak on its debug build shows no splat.
#
# usage: kernel/soak.sh --kernel BZIMAGE --minutes N [-o DIR] [vm options] [-- RUN-ARGS...]
#   RUN-ARGS default: --suite quick -d 60
#   vm options (--cpus, --mem, --numa, --hotplug-dimm) go to `mmtorture vm run`;
#   defaults: 2 CPUs in 2 NUMA nodes, 3G, a 1G hot-pluggable DIMM.
#
# A boot that would start after the budget is spent is not started; a boot's deadline is what is
# left of the budget plus a grace of 10 minutes, so a soak ends within N + 10 minutes.
# Writes DIR/soak-<stamp>/{boot-K/, summary.md}. Exit 0 every boot PASSed (or XFAIL), 1 a boot
# failed or splatted, 99 bad usage.
set -uo pipefail

ME=kernel/soak.sh
TOP=$(cd "$(dirname "$0")/.." && pwd)
MMT=${MMT:-$TOP/build/mmtorture}
KERNEL= MINUTES= OUTDIR=$TOP/results
VMOPTS=(--cpus 2 --numa 2 --mem 3G --hotplug-dimm 1G)
die() { echo "$ME: $*" >&2; exit 99; }

while [ $# -gt 0 ]; do
	case $1 in
	--kernel) KERNEL=${2-}; shift ;;
	--minutes) MINUTES=${2-}; shift ;;
	-o) OUTDIR=${2-}; shift ;;
	--cpus|--mem|--numa|--hotplug-dimm) VMOPTS+=("$1" "${2-}"); shift ;;
	-h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	--) shift; break ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
	shift
done
RUNARGS=("$@")
[ ${#RUNARGS[@]} -gt 0 ] || RUNARGS=(--suite quick -d 60)
[ -n "$KERNEL" ] || die "missing --kernel BZIMAGE"
[ -r "$KERNEL" ] || die "--kernel $KERNEL is not a readable file"
[[ "$MINUTES" =~ ^[1-9][0-9]*$ ]] || die "--minutes wants a positive whole number, not '${MINUTES}'"
[ -x "$MMT" ] || die "$MMT is not built (meson setup build && ninja -C build)"

OUT=$OUTDIR/soak-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT" || die "cannot write to $OUT"
budget=$((MINUTES * 60)) t0=$SECONDS k=0 bad=0 rows=()
while [ $((SECONDS - t0)) -lt "$budget" ]; do
	k=$((k + 1))
	left=$((budget - (SECONDS - t0)))
	printf '[%s] boot %d (%d s of the budget left): %s\n' "$(date -u +%H:%M:%S)" "$k" "$left" "${RUNARGS[*]}"
	b0=$SECONDS
	"$MMT" vm run --kernel "$KERNEL" "${VMOPTS[@]}" --timeout $((left + 600)) -o "$OUT" \
		--run-id "boot-$k" -- "${RUNARGS[@]}" >"$OUT/boot-$k.log" 2>&1
	rc=$?
	verdict=$(jq -r '.verdict // "ERROR"' "$OUT/boot-$k/vm.json" 2>/dev/null || echo ERROR)
	splat=$(jq -r '.console_splat // ""' "$OUT/boot-$k/vm.json" 2>/dev/null)
	wls=$(for f in "$OUT/boot-$k"/*.json; do
		case $f in */vm.json) continue ;; esac
		[ -r "$f" ] && jq -r '"\(.workload) \(.status)"' "$f"
	done | tr '\n' ',' | sed 's/,$//; s/,/, /g')
	[ "$rc" = 0 ] || bad=1
	printf '[%s]   boot %d: %s, exit %d, %d s; %s%s\n' "$(date -u +%H:%M:%S)" "$k" "$verdict" "$rc" \
		$((SECONDS - b0)) "${wls:-no records}" "${splat:+; SPLAT: $splat}"
	rows+=("| $k | $((SECONDS - b0)) | $verdict (exit $rc) | ${wls:-no records} | ${splat:-none} |")
done
{
	echo "# Soak of $(basename "$(dirname "$KERNEL")")/$(basename "$KERNEL"): $k boots in $(((SECONDS - t0) / 60)) min"
	echo
	echo "Release: $(jq -r '.guest_release // "?"' "$OUT/boot-1/vm.json" 2>/dev/null), accelerator:" \
	     "$(jq -r '.accel // "?"' "$OUT/boot-1/vm.json" 2>/dev/null), vm options: ${VMOPTS[*]}, run: ${RUNARGS[*]}"
	echo
	echo "| boot | seconds | verdict | workloads | console splat |"
	echo "|---|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
} | tee "$OUT/summary.md"
echo "(summary: $OUT/summary.md)"
exit $bad
