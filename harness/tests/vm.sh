#!/bin/bash
# Suite vm: boot Debian's prebuilt 6.12 cloud kernel under QEMU (two NUMA
# nodes, a hot-pluggable DIMM), run the quick suite inside, and check that the
# records came back and carry the guest's kernel release; or (panic) prove
# that a guest which panics is reported as FAIL.
# usage: vm.sh quick|panic MMTORTURE KERNEL-CACHE-DIR
. "$(dirname "$0")/lib.sh"
need_jq
MODE=$1 MMT=$2 CACHE=$3
for t in qemu-system-x86_64 busybox cpio; do
	command -v $t >/dev/null || { echo "ERROR: $t missing: run harness/setup.sh (apt-get install qemu-system-x86 busybox-static cpio)"; exit 99; }
done
kernel=$("$(dirname "$0")/../../kernel/fetch-debian-kernel.sh" "$CACHE") || { echo "ERROR: no kernel image"; exit 99; }
release=$(basename "$kernel" | sed 's/^vmlinuz-//')
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

case "$MODE" in
quick)
	"$MMT" vm run --kernel "$kernel" --cpus 2 --numa 2 --mem 3G --hotplug-dimm 1G --timeout 900 \
		-o "$out" --run-id vmq -- --suite quick -d 2 --warmup 1
	rc=$?
	d="$out/vmq"
	[ -f "$d/vm.json" ] || fail "no vm.json"
	cat "$d/vm.json"
	[ "$rc" = 0 ] || fail "vm run exited $rc: $(rec "$d/vm.json" .reason)"
	n=0
	for r in "$d"/*.json; do
		[ "$(basename "$r")" = vm.json ] && continue
		got=$(rec "$r" .system.kernel.release)
		[ "$got" = "$release" ] || fail "$(basename "$r") carries kernel $got, want the guest's $release"
		[ "$(rec "$r" '.system.topology.numa_nodes | length')" = 2 ] || fail "$(basename "$r"): guest had not 2 NUMA nodes"
		ok "$(basename "$r" .json): $(rec "$r" .status) on $got: $(rec "$r" .main_metric) = $(rec "$r" '.metrics[.main_metric].summary.mean')"
		n=$((n + 1))
	done
	[ "$n" -ge 1 ] || fail "no records came back"
	want=$("$MMT" list | awk '$2 == "quick" {print $1}' | wc -l)
	[ "$n" = "$want" ] || fail "$n records came back, the quick suite has $want workloads"
	"$MMT" compare "$d" "$d" >"$out/cmp" 2>&1 || fail "compare of a vm run directory with itself: $(head -3 "$out/cmp")"
	ok "$n records from the guest ($(rec "$d/vm.json" .accel), $(rec "$d/vm.json" .boot_to_end_s) s)"
	;;
panic)
	"$MMT" vm run --kernel "$kernel" --cpus 2 --numa 2 --timeout 300 -o "$out" --run-id vmp \
		--test-panic -- --suite quick -d 1
	rc=$?
	[ "$rc" = 1 ] || fail "a guest that panicked gave exit $rc, want 1"
	reason=$(rec "$out/vmp/vm.json" .reason)
	[[ "$reason" == *"panicked"* ]] || fail "reason does not say panic: $reason"
	grep -q "Kernel panic" "$out/vmp/console.log" || fail "console.log lacks the panic"
	ok "a panicking guest is FAIL: $reason"
	;;
*) echo "usage: vm.sh quick|panic MMTORTURE CACHE"; exit 99 ;;
esac
echo "1 passed, 0 failed"
