# lib.sh - helpers for the shell tests (sourced).  Tests print what they check,
# exit 0 pass, 1 fail, 77 skip (with a reason), 99 error.

fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
ok() { echo "ok: $*"; }

need_root() { [ "$(id -u)" = 0 ] || skip "needs root"; }
need_jq() { command -v jq >/dev/null || { echo "ERROR: jq not installed (apt-get install jq)"; exit 99; }; }

# Every knob the harness may change, one "path=value" per line.
knobs_snapshot() {
	local f
	for f in /proc/sys/vm/nr_hugepages /proc/sys/vm/nr_overcommit_hugepages \
		 /proc/sys/vm/hugetlb_optimize_vmemmap \
		 /sys/kernel/mm/transparent_hugepage/enabled \
		 /sys/kernel/mm/transparent_hugepage/defrag \
		 /sys/kernel/mm/transparent_hugepage/shmem_enabled \
		 /sys/kernel/mm/transparent_hugepage/khugepaged/* \
		 /sys/devices/system/node/node*/hugepages/hugepages-2048kB/nr_hugepages; do
		case "$f" in
		*/full_scans|*/pages_collapsed) continue ;;	# counters, not knobs
		esac
		[ -r "$f" ] && echo "$f=$(cat "$f" 2>/dev/null)"
	done
	# memory blocks: state and zone (hotplug workloads must put both back)
	for f in /sys/devices/system/memory/memory*/state; do
		echo "$f=$(cat "$f" 2>/dev/null) $(cat "${f%state}valid_zones" 2>/dev/null)"
	done
	grep -c " $(mmt_state_dir)/mnt-" /proc/mounts | sed 's/^/mounts=/'
	echo "tmpdirs=$(ls -d /tmp/mmtorture-* 2>/dev/null | wc -l)"
}

mmt_state_dir() { echo "${MMT_STATE_DIR:-/run/mmtorture}"; }

# record FILE EXPR: jq on a record
rec() { jq -r "$2" "$1"; }

# Wait until no other mmtorture run holds the lock, so that a "before"
# snapshot is not taken in the middle of someone else's run.
wait_idle() {
	local lock
	lock="$(mmt_state_dir)/lock"
	[ -e "$lock" ] || return 0
	flock -w 900 "$lock" true || fail "another mmtorture run held $lock for 15 minutes"
}
