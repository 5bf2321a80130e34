#!/bin/bash
# known-bad.sh - measure the suite's detection power: build each known-bad kernel and its parent
# series, boot both under QEMU, run the workload that must catch the defect, and tabulate.
#
# usage: kernel/known-bad.sh --source TARBALL|DIR [-o OUTDIR] [--config debug|perf|trim]
#                            [--results DIR] [--seconds N] [--no-parent] [NAME...]
#
# Every kernel/series/known-bad/NAME/ with a known-bad.conf takes part (or only the NAMEs given).
# known-bad.conf is shell: parent=SERIES  workload=NAME  args="extra run args"  seconds=N
# config=perf|debug|trim (seconds: how long the workload may run before the defect counts as
# missed; config: the config this series and its parent are built with, overriding --config for
# this series alone, e.g. config=perf for a defect the workload's data checks catch without
# KASAN; without it, --config).
#
# For each: the parent must PASS (else the row says so and the defect is not judged), the
# known-bad kernel must FAIL. A row gives the defect, the workload, FAIL or missed, and the
# seconds of workload time until the FAIL (warm-up + measured time of the failing repeat, or the
# guest's run time when only the console caught a splat or the guest died before a record). The table goes to stdout and to
# RESULTS/known-bad-<date>/table.md, with each boot's vm run directory beside it.
# Exit: 0 every defect caught and every parent passed, 1 a defect missed or a parent failed,
# 77 cannot run (QEMU missing), 99 bad usage or a build error.
set -uo pipefail

ME=kernel/known-bad.sh
KDIR=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$KDIR/.." && pwd)
SOURCE= OUTDIR=/var/tmp/mmtorture-kbuild CONFIG=debug RESULTS=$TOP/results SECONDS_OVERRIDE= PARENT=1
NAMES=()

die() { echo "$ME: $*" >&2; exit 99; }
usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
	case $1 in
	--source) SOURCE=${2-}; shift ;;
	-o) OUTDIR=${2-}; shift ;;
	--config) CONFIG=${2-}; shift ;;
	--results) RESULTS=${2-}; shift ;;
	--seconds) SECONDS_OVERRIDE=${2-}; shift ;;
	--no-parent) PARENT=0 ;;
	-h|--help) usage; exit 0 ;;
	-*) die "unknown option '$1' (see --help)" ;;
	*) NAMES+=("$1") ;;
	esac
	shift
done
[ -n "$SOURCE" ] || die "missing --source TARBALL|DIR (e.g. /usr/src/linux-source-6.12.tar.xz)"
[ -e "$SOURCE" ] || die "--source $SOURCE does not exist (apt-get install linux-source-6.12?)"
[[ -z "$SECONDS_OVERRIDE" || "$SECONDS_OVERRIDE" =~ ^[1-9][0-9]*$ ]] ||
	die "--seconds wants a positive number of seconds, not '$SECONDS_OVERRIDE'"
MMT=$TOP/build/mmtorture
[ -x "$MMT" ] || die "$MMT is not built (meson setup build && ninja -C build)"
command -v qemu-system-x86_64 >/dev/null || { echo "$ME: SKIP: qemu-system-x86_64 is not installed" >&2; exit 77; }

if [ ${#NAMES[@]} -eq 0 ]; then
	for c in "$KDIR"/series/known-bad/*/known-bad.conf; do
		[ -e "$c" ] && NAMES+=("$(basename "$(dirname "$c")")")
	done
fi
[ ${#NAMES[@]} -gt 0 ] || die "no known-bad series with a known-bad.conf under $KDIR/series/known-bad"
for n in "${NAMES[@]}"; do
	[ -r "$KDIR/series/known-bad/$n/known-bad.conf" ] ||
		die "unknown known-bad series '$n' (no $KDIR/series/known-bad/$n/known-bad.conf)"
done

stamp=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$RESULTS/known-bad-$stamp
mkdir -p "$OUT" || die "cannot write to $OUT"
say() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }

# build SERIES CONFIG: prints the bzImage path
build() {
	local log=$OUT/build-${1//\//-}-$2.log
	say "build   $1 ($2)" >&2
	if ! "$KDIR/build.sh" --source "$SOURCE" --series "$1" --config "$2" -o "$OUTDIR" >"$log" 2>&1; then
		echo "$ME: building $1 failed; log: $log" >&2
		tail -5 "$log" >&2
		return 1
	fi
	tail -1 "$log"
}

# boot BZIMAGE ID WORKLOAD SECONDS ARGS...: runs the workload in a guest; prints "STATUS SECONDS REASON"
boot() {
	local bz=$1 id=$2 wl=$3 secs=$4 rc status t reason rec
	shift 4
	# TCG guests are slow: give the boot 3x the workload time plus setup
	"$MMT" vm run --kernel "$bz" --cpus 2 --numa 2 --mem 3G --hotplug-dimm 1G \
		--timeout $((secs * 3 + 300)) -o "$OUT" --run-id "$id" -- "$wl" -d "$secs" "$@" \
		>"$OUT/$id.log" 2>&1
	rc=$?
	rec=$OUT/$id/$wl.json
	if [ -r "$rec" ]; then
		status=$(jq -r '.status // "ERROR"' "$rec")
		t=$(jq -r '(.run.warmup_s // 0) + ([.repeats[]? | .measured_s // 0] | add // 0) | floor' "$rec")
		reason=$(jq -r '.reason // ""' "$rec")
	else
		status=ERROR t=0 reason="no record came back (vm run exit $rc; see $OUT/$id.log)"
	fi
	# a splat only the console saw (e.g. at process exit) still fails the kernel, and so does a
	# guest that panicked or hung before any record came back
	if { [ "$status" = PASS ] || [ ! -r "$rec" ]; } && [ -r "$OUT/$id/vm.json" ] &&
	   [ "$(jq -r '.verdict' "$OUT/$id/vm.json")" = FAIL ]; then
		status=FAIL
		t=$(jq -r '.boot_to_end_s // 0' "$OUT/$id/vm.json")
		reason="console: $(jq -r '.console_splat // .reason' "$OUT/$id/vm.json")"
	fi
	printf '%s %s %s\n' "$status" "$t" "${reason//$'\n'/ }"
}

rows=() bad=0
for n in "${NAMES[@]}"; do
	parent= workload= args= seconds=600 config=
	# shellcheck source=/dev/null
	. "$KDIR/series/known-bad/$n/known-bad.conf"
	[ -n "$parent" ] && [ -n "$workload" ] || die "$n/known-bad.conf must set parent= and workload="
	cfg=${config:-$CONFIG}
	case $cfg in perf|debug|trim) ;; *) die "$n/known-bad.conf: config=$cfg is not perf, debug or trim" ;; esac
	[ -n "$SECONDS_OVERRIDE" ] && seconds=$SECONDS_OVERRIDE
	# shellcheck disable=SC2206
	extra=($args)

	pres="not run"
	if [ "$PARENT" = 1 ]; then
		pbz=$(build "$parent" "$cfg") || exit 99
		say "boot    $parent: $workload for ${seconds}s" >&2
		read -r pst pt preason < <(boot "$pbz" "parent-$parent-$n" "$workload" "$seconds" "${extra[@]}")
		pres="$pst"
		[ "$pst" = PASS ] || { pres="$pst ($preason)"; bad=1; }
		say "        $parent: $pst${preason:+ ($preason)}" >&2
	fi
	kbz=$(build "known-bad/$n" "$cfg") || exit 99
	say "boot    known-bad/$n: $workload for ${seconds}s" >&2
	read -r kst kt kreason < <(boot "$kbz" "known-bad-$n" "$workload" "$seconds" "${extra[@]}")
	say "        known-bad/$n: $kst after ${kt}s${kreason:+ ($kreason)}" >&2
	if [ "$kst" = FAIL ]; then
		verdict="FAIL (caught)" when="$kt"
	else
		verdict="missed ($kst)" when="-" bad=1
	fi
	cfgnote=
	[ "$cfg" != "$CONFIG" ] && cfgnote=" (\`$cfg\`)"
	rows+=("| \`$n\`$cfgnote | $workload | $verdict | $when | $pres | ${kreason//|/\\|} |")
done

{
	echo "# Known-bad kernels: detection power, $stamp"
	echo
	echo "Config \`$CONFIG\` (a row names its own when its known-bad.conf sets config=), source \`$(basename "$SOURCE")\`, QEMU guests with 2 CPUs in 2 NUMA nodes and a"
	echo "hot-pluggable DIMM (\`kernel/known-bad.sh\`)."
	echo
	echo "| defect | workload | known-bad kernel | seconds to first FAIL | parent series | what caught it |"
	echo "|---|---|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
} | tee "$OUT/table.md"
echo "(table: $OUT/table.md)"
exit $bad
