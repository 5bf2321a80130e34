#!/bin/bash
# Suite vm: boot Debian's prebuilt 6.12 cloud kernel under QEMU (two NUMA
# nodes, a hot-pluggable DIMM), run the quick suite inside, and check that the
# records came back and carry the guest's kernel release; or (panic) prove
# that a guest which panics is reported as FAIL; or (bugs) run the kernel-bug
# reproducers in the guest, each of which must show its bug exactly when the
# known-bug list says the guest's kernel is affected; or (stall) prove that a
# guest the accelerator stops is given up within seconds for the next one; or
# (numa) a two-node guest's run --numa-matrix.
# usage: vm.sh quick|panic|stall|numa MMTORTURE KERNEL-CACHE-DIR
#        vm.sh bugs MMTORTURE KERNEL-CACHE-DIR REPRO-DIR [DEBIAN-KERNEL-PACKAGE]
. "$(dirname "$0")/lib.sh"
need_jq
MODE=$1 MMT=$2 CACHE=$3
for t in qemu-system-x86_64 busybox cpio; do
	command -v $t >/dev/null || { echo "ERROR: $t missing: run harness/setup.sh (apt-get install qemu-system-x86 busybox-static cpio)"; exit 99; }
done
kernel=$("$(dirname "$0")/../../kernel/fetch-debian-kernel.sh" "$CACHE" ${5:+"$5"}) || { echo "ERROR: no kernel image"; exit 99; }
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
numa)
	# a two-node guest: run --numa-matrix gives a 2x2 matrix plus the interleaved
	# column; every cell ran, and each bound cell's numastat delta shows its
	# memory allocated on the node asked for (more numa_hit there than on the
	# other node) and numa_maps agrees; interleaved cells allocated on both
	# nodes (interleave_hit).  The report says a TCG matrix is no NUMA result.
	wl=shmem-collapse
	"$MMT" vm run --kernel "$kernel" --cpus 2 --numa 2 --mem 3G --hotplug-dimm 1G --timeout 600 \
		-o "$out" --run-id vmn -- --numa-matrix $wl -d 2 --warmup 1
	rc=$?
	d="$out/vmn" r="$out/vmn/$wl.json"
	[ -f "$d/vm.json" ] || fail "no vm.json"
	[ "$rc" = 0 ] || fail "vm run exited $rc: $(rec "$d/vm.json" .reason)"
	[ -f "$r" ] || fail "no matrix record came back"
	[ "$(rec "$r" '.numa_matrix.cpu_nodes | length')x$(rec "$r" '.numa_matrix.mem_nodes | length')" = 2x2 ] ||
		fail "want a 2x2 matrix, got cpu nodes $(jq -c .numa_matrix.cpu_nodes "$r"), memory nodes $(jq -c .numa_matrix.mem_nodes "$r")"
	[ "$(rec "$r" '.numa_matrix.cells | length')" = 6 ] || fail "want 6 cells (2x2 + 2 interleaved)"
	for i in 0 1 2 3 4 5; do
		c=".numa_matrix.cells[$i]"
		m=$(rec "$r" "$c.mem_node") cpu=$(rec "$r" "$c.cpu_node")
		st=$(rec "$r" "$c.status")
		[ "$st" = PASS ] || [ "$st" = XFAIL ] || fail "cpu$cpu $m: $st: $(rec "$r" "$c.reason")"
		h0=$(rec "$r" "$c.numastat[\"0\"].numa_hit") h1=$(rec "$r" "$c.numastat[\"1\"].numa_hit")
		if [ "$m" = interleave ]; then
			i0=$(rec "$r" "$c.numastat[\"0\"].interleave_hit") i1=$(rec "$r" "$c.numastat[\"1\"].interleave_hit")
			[ "$i0" -gt 0 ] && [ "$i1" -gt 0 ] || fail "cpu$cpu interleave: interleave_hit $i0 / $i1 pages on nodes 0 / 1"
			ok "cpu$cpu interleave: $st, interleave_hit +$i0 / +$i1 pages on nodes 0 / 1; numa_maps: $(jq -c "$c.memory_nodes.kb_by_node" "$r") kB$( [ "$(rec "$r" "$c.placement_held")" = false ] && echo "; flagged: $(rec "$r" "$c.placement_check.reason")")"
			continue
		fi
		[ "$m" = 0 ] && mine=$h0 other=$h1 || mine=$h1 other=$h0
		[ "$mine" -gt "$other" ] || fail "cpu$cpu mem$m: numastat numa_hit +$h0 / +$h1 pages on nodes 0 / 1: not mostly on node $m"
		[ "$(rec "$r" "$c.placement_held")" = true ] || fail "cpu$cpu mem$m: numa_maps: $(jq -c "$c.placement_check" "$r")"
		ok "cpu$cpu mem$m: $st, numa_hit +$h0 / +$h1 pages on nodes 0 / 1, $(rec "$r" "$c.placement_check.fraction_on_asked * 100 | floor") % of the workload's memory on node $m"
	done
	"$MMT" report "$d" -o "$out/rep" >"$out/rep.log" 2>&1 || fail "report: $(tail -2 "$out/rep.log")"
	ls "$out"/rep/charts/heatmap-$wl-*.png >/dev/null 2>&1 || fail "report drew no heat map"
	grep -q "Not a NUMA performance result" "$out/rep/report.md" || fail "the report of a TCG guest's matrix does not say it is no NUMA result"
	[ -n "${MMT_KEEP_REPORT:-}" ] && cp -r "$out/rep" "$MMT_KEEP_REPORT" && cp -r "$d" "$MMT_KEEP_REPORT/run"
	ok "2x2 + interleave matrix from the $(rec "$d/vm.json" .accel) guest in $(rec "$d/vm.json" .boot_to_end_s) s; $(ls "$out"/rep/charts/heatmap-*.png | wc -l) heat maps"
	;;
stall)
	# the first guest is stopped through QEMU's monitor once it runs, as a KVM
	# internal error leaves it (QEMU alive, vCPUs stopped): vm run must see it
	# within seconds and boot again with the next accelerator
	t0=$SECONDS
	"$MMT" vm run --kernel "$kernel" --cpus 2 --numa 1 --mem 1G --timeout 300 -o "$out" \
		--run-id vms --accel tcg,tcg --test-stall -- uring-pin-fork -p backing=thp -d 1 --warmup 0
	rc=$?
	d="$out/vms"
	[ -f "$d/vm.json" ] || fail "no vm.json"
	jq -c '{accel, accel_attempts, verdict, boot_to_end_s}' "$d/vm.json"
	[ "$rc" = 0 ] || fail "vm run exited $rc: $(rec "$d/vm.json" .reason)"
	[ "$(rec "$d/vm.json" '.accel_attempts | length')" = 1 ] || fail "want one attempt given up"
	why=$(rec "$d/vm.json" '.accel_attempts[0].given_up')
	[[ "$why" == *"stopped the guest"*paused* ]] || fail "the attempt given up does not say the guest stopped: $why"
	sf=$(rec "$d/vm.json" '.accel_attempts[0].stop_to_fallback_s')
	# the one place a test looks at time: "within seconds" is the feature
	[ "$sf" != null ] && [ "$sf" -le 15 ] || fail "the stopped guest was given up $sf s after it stopped, want within seconds"
	[ -f "$d/uring-pin-fork.json" ] || fail "the second boot brought no record back"
	ok "stopped guest given up $sf s after it stopped, then $(rec "$d/vm.json" .accel) ran: $(rec "$d/uring-pin-fork.json" .status) (whole vm run $((SECONDS - t0)) s)"
	;;
bugs)
	# one node, and a DIMM onlined movable: hugetlb pages in ZONE_MOVABLE for the pin bug
	"$MMT" vm run --kernel "$kernel" --cpus 2 --numa 1 --mem 2G --hotplug-dimm 512M --timeout 600 \
		-o "$out" --run-id vmb --bugs "$4"
	rc=$?
	d="$out/vmb"
	[ -f "$d/vm.json" ] || fail "no vm.json"
	jq -c '{guest_release, accel, boot_to_end_s, verdict, guest_exit, bugs, console_splat}' "$d/vm.json"
	[ "$(rec "$d/vm.json" .verdict)" = PASS ] || fail "vm run: $(rec "$d/vm.json" .reason)"
	grel=$(rec "$d/vm.json" .guest_release)
	[ "$grel" = "$release" ] || fail "the guest ran $grel, want $release"
	n=0
	for id in $("$MMT" bugs --json | jq -r '.[].id'); do
		affected=$("$MMT" bugs --release "$grel" --json | jq -r --arg id "$id" '.[] | select(.id == $id) | .affected')
		[ -f "$d/bugs/$id.rc" ] || fail "$id did not run in the guest"
		brc=$(cat "$d/bugs/$id.rc")
		last=$(grep -E '^(BUG|OK|CANNOT RUN):' "$d/bugs/$id.log" | tail -1)
		case "$brc:$affected" in
		1:true|0:false) ok "$id on $grel: exit $brc, as the list says (affected: $affected): $last" ;;
		77:*) ok "$id cannot run on $grel: $last" ;;
		1:false) fail "$id shows on $grel, which the known-bug list says it does not affect: $last" ;;
		0:true) fail "$id does not show on $grel, which the known-bug list says it affects: $last" ;;
		*) fail "$id: exit $brc in the guest: $(tail -3 "$d/bugs/$id.log")" ;;
		esac
		n=$((n + 1))
	done
	[ "$n" -ge 1 ] || fail "no known bugs listed"
	cs=$(rec "$d/vm.json" .console_splat)
	[ -n "$cs" ] && echo "NOTE: a splat on the guest console while the reproducers ran: $cs (console.log: $(grep -c 'BUG:\|WARNING:' "$d/console.log") BUG/WARNING lines)"
	ok "$n reproducers in the guest ($grel, $(rec "$d/vm.json" .accel), $(rec "$d/vm.json" .boot_to_end_s) s)"
	;;
*) echo "usage: vm.sh quick|panic|stall|numa|bugs MMTORTURE CACHE [REPRO-DIR [PACKAGE]]"; exit 99 ;;
esac
echo "1 passed, 0 failed"
