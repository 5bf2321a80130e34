#!/bin/bash
# run --numa-matrix on this machine: every (CPU node, memory node) cell of its
# hwloc topology ran, the record holds the matrix, each cell's numastat delta
# and numa_maps accounting show its memory on the node asked for; a one-node
# machine gets one cell that says so.  A memory node with too little free memory
# is skipped with the reason; report draws a heat map; compare pairs the cells.
# Also: a plain run with --mem-node carries the accounting in every repeat.
# usage: numa-matrix.sh MMTORTURE [WORKLOAD]
. "$(dirname "$0")/lib.sh"
need_jq
need_root
MMT=$1 WL=${2:-shmem-collapse}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

"$MMT" run --numa-matrix "$WL" -d 1 --warmup 0 -o "$out" --run-id m >"$out/m.log" 2>&1
rc=$?
r="$out/m/$WL.json"
[ -f "$r" ] || { cat "$out/m.log"; echo "ERROR: no record"; exit 99; }
[ "$rc" = 0 ] || fail "exit $rc: $(rec "$r" .reason)"
grep -A4 "NUMA matrix," "$out/m.log"
ncpu=$(rec "$r" '.numa_matrix.cpu_nodes | length')
nmem=$(rec "$r" '.numa_matrix.mem_nodes | length')
want=$((ncpu * nmem + (nmem > 1 ? ncpu : 0)))
[ "$(rec "$r" '.numa_matrix.cells | length')" = "$want" ] || fail "want $want cells for $ncpu CPU x $nmem memory nodes"
[ "$(rec "$r" '.metrics | length')" = 0 ] || fail "a matrix record keeps its metrics in the cells"
if [ "$nmem" = 1 ]; then
	[[ "$(rec "$r" .numa_matrix.note)" == *"one NUMA node"* ]] || fail "a one-node matrix does not say so"
	ok "one node here: $(rec "$r" .numa_matrix.note)"
fi
for ((i = 0; i < want; i++)); do
	c=".numa_matrix.cells[$i]"
	m=$(rec "$r" "$c.mem_node")
	name="cpu$(rec "$r" "$c.cpu_node") $([ "$m" = interleave ] && echo interleave || echo "mem$m")"
	st=$(rec "$r" "$c.status")
	[ "$st" = PASS ] || [ "$st" = XFAIL ] || fail "$name: $st: $(rec "$r" "$c.reason")"
	[ "$(rec "$r" "$c.metrics[\"$(rec "$r" .main_metric)\"].summary.n")" -gt 0 ] || fail "$name: no figures"
	[ "$m" = interleave ] && continue
	hit=$(rec "$r" "$c.numastat[\"$m\"].numa_hit")
	[ "$hit" -gt 0 ] || fail "$name: numastat shows no allocation on node $m"
	[ "$(rec "$r" "$c.placement_held")" = true ] || fail "$name: placement not held: $(rec "$r" "$c.placement_check")"
	ok "$name: $st, node $m numa_hit +$hit pages, $(rec "$r" "$c.placement_check.fraction_on_asked * 100 | floor") % of $(rec "$r" "$c.memory_nodes.kb") kB on node $m"
done

# heat map and cell-by-cell compare
"$MMT" report "$out/m" -o "$out/rep" >"$out/rep.log" 2>&1 || fail "report: $(tail -2 "$out/rep.log")"
hm=$(ls "$out"/rep/charts/heatmap-*.png 2>/dev/null | head -1)
[ -s "$hm" ] || fail "report drew no heat map"
grep -q "NUMA matrix" "$out/rep/report.md" || fail "report.md has no NUMA matrix section"
ok "report: $(ls "$out"/rep/charts/heatmap-*.png | wc -l) heat maps"
"$MMT" compare "$out/m" "$out/m" --format json >"$out/cmp.json" 2>"$out/cmp.err" || fail "compare of a matrix with itself: $(cat "$out/cmp.err")"
n=$(jq '[.workloads[].rows[] | select(.metric | test("^cpu[0-9]+ (mem[0-9]+|interleave): "))] | length' "$out/cmp.json")
[ "$n" -gt 0 ] || fail "compare made no per-cell rows"
ok "compare: $n per-cell rows"

# a node with too little free memory is skipped with the reason
"$MMT" run --numa-matrix "$WL" -d 1 --warmup 0 --matrix-min-free 64t -o "$out" --run-id s >"$out/s.log" 2>&1
rc=$?
r="$out/s/$WL.json"
[ "$rc" = 77 ] || fail "every node too small: exit $rc, want 77"
why=$(rec "$r" '.numa_matrix.cells[0].reason')
[[ "$why" == *"MiB free"*"--matrix-min-free"* ]] || fail "skip reason: $why"
ok "too little free memory: SKIP: $why"

# the matrix places the workers itself
"$MMT" run --numa-matrix "$WL" --mem-node 0 -o "$out" >"$out/bad.log" 2>&1
rc=$?
[ "$rc" = 99 ] && grep -q "numa-matrix" "$out/bad.log" || fail "--numa-matrix with --mem-node: exit $rc: $(cat "$out/bad.log")"
ok "--numa-matrix --mem-node 0 -> 99: $(cat "$out/bad.log")"

# a plain bound run carries the accounting too
"$MMT" run "$WL" -d 1 --warmup 0 --mem-node 0 --cpu-node 0 -o "$out" --run-id p >"$out/p.log" 2>&1 ||
	fail "--mem-node 0 run: $(tail -3 "$out/p.log")"
r="$out/p/$WL.json"
[ "$(rec "$r" '.repeats[0].placement_check.held')" = true ] || fail "--mem-node 0: placement_check $(rec "$r" '.repeats[0].placement_check')"
[ "$(rec "$r" '.repeats[0].numastat["0"].numa_hit')" -gt 0 ] || fail "--mem-node 0: no numastat delta"
ok "--mem-node 0: numastat and placement_check in the record"
echo "1 passed, 0 failed"
