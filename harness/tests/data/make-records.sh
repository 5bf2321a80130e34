#!/bin/bash
# make-records.sh - regenerate the hand-made records the compare/report tests use.
# The answers are known by construction (see README.md here); run from anywhere:
#   bash harness/tests/data/make-records.sh
set -euo pipefail
cd "$(dirname "$0")"
rm -rf runs bad
mkdir -p runs bad

# summary of a sample array, as the runner writes it (harmonic mean for rates)
SUMMARY='def summ($harm):
  length as $n | (add / $n) as $m |
  (if $n > 1 then (map((. - $m) * (. - $m)) | add / ($n - 1) | sqrt) else 0 end) as $sd |
  sort as $s |
  { n: $n, mean_kind: (if $harm then "harmonic" else "arithmetic" end),
    mean: (if $harm then ($n / (map(1 / .) | add)) else $m end),
    arithmetic_mean: $m,
    median: (if $n % 2 == 1 then $s[($n - 1) / 2] else ($s[$n / 2 - 1] + $s[$n / 2]) / 2 end),
    stddev: $sd, cov: (if $m != 0 then $sd / $m else 0 end), min: $s[0], max: $s[-1] };
def metric($unit; $kind; $better; $samples; $rv):
  { unit: $unit, kind: $kind, better: $better, higher_is_better: ($better == "higher"),
    samples: $samples, summary: ($samples | summ($kind == "rate")) }
  + (if $kind == "latency" then { histogram: { count: 100000, mean: ($samples | add / length),
      p50: ($samples | add / length), p90: ($samples | add / length * 1.8),
      p99: ($samples | add / length * 4), p999: ($samples | add / length * 9),
      max: ($samples | add / length * 20) } } else {} end)
  + { repeat_values: ($rv // [$samples | summ($kind == "rate") | .mean]) };'

# rec RUN_ID DATE FILE JQ-OVERRIDES: write runs/RUN_ID/FILE from the base record
rec() {
	local id=$1 date=$2 file=$3 over=${4:-.}
	local dir=runs/$id
	mkdir -p "$dir"
	jq -n --arg id "$id" --arg date "$date" "$SUMMARY"'
	{ ops: [1000, 1010, 990, 1005, 995, 1002, 998, 1008, 992, 1000],
	  lat: [5000, 5050, 4950, 5020, 4980, 5010, 4990, 5030, 4970, 5000],
	  events: [12000], fraction: [1], repeats: null, workers: 2 } as $base |
	($base | '"$over"') as $v |
	{ schema: "mmtorture-record/1",
	  tool: { name: "mmtorture", version: "0.1.0", git: "hand-made" },
	  run_id: $id, workload: "demo", started: ($date + "T10:00:00Z"),
	  finished: ($date + "T10:00:12Z"),
	  summary: "hand-made record for the compare and report tests", suite: "quick",
	  status: "PASS", exit_code: 0, reason: null, main_metric: "ops",
	  run: { duration_s: 10.0, warmup_s: 1.0, grace_s: 10.0, workers: $v.workers,
		 repeats: ($v.repeats // [1] | length), inject: "none" },
	  params: { size: "2M", mode: "fork" },
	  placement: { cpu_node: null, mem_node: null },
	  roles: [ { name: "worker", kind: "process", workers: $v.workers } ],
	  system: {
	    hostname: "testbox",
	    kernel: { sysname: "Linux", release: "6.18.0-test", version: "#1 SMP",
		      machine: "x86_64", cmdline: "console=ttyS0", patch_series: null,
		      config: { CONFIG_TRANSPARENT_HUGEPAGE: "y" } },
	    cpu_model: "Test CPU 2000", online_cpus: 2, mem_total_kb: 24684092,
	    topology: { packages: 1, cores: 2, pus: 2,
			numa_nodes: [ { os_index: 0, cpus: "0-1", memory_kb: 24000000 } ] },
	    thp: { enabled: "madvise", defrag: "madvise", shmem_enabled: "never",
		   khugepaged: { pages_to_scan: "4096", pages_collapsed: "10", full_scans: "3" } },
	    hugetlb: { nr_hugepages: "0", hugetlb_optimize_vmemmap: "0",
		       pool_2m_free_hugepages: "0" },
	    vm: { overcommit_memory: "0" } },
	  topology_xml: "topology.xml",
	  metrics: {
	    ops: metric("ops/s"; "rate"; "higher"; $v.ops; $v.repeats),
	    lat: metric("ns"; "latency"; "lower"; $v.lat; null),
	    events: metric("events"; "total"; "higher"; $v.events; null),
	    fraction: metric("fraction"; "gauge"; "none"; $v.fraction; null) },
	  repeats: [ { index: 1, started: ($date + "T10:00:00Z"), measured_s: 10.0,
		       status: "PASS", exit_code: 0, reason: null, notes: [], splats: [],
		       metrics: {} } ],
	  splats: [] }' >"$dir/$file.tmp"
	mv "$dir/$file.tmp" "$dir/$file"
}

# tweak RUN FILE JQ: edit a written record in place
tweak() {
	jq "$3" "runs/$1/$2" >"runs/$1/$2.tmp" && mv "runs/$1/$2.tmp" "runs/$1/$2"
}

rec base 2026-11-01 demo.json
# every ops sample 10 % lower, and THP switched off: a clear regression
rec drop10 2026-11-02 demo.json '.ops |= map(. * 0.9)'
tweak drop10 demo.json '.system.thp.enabled = "never"'
rec same 2026-11-03 demo.json
# CoV of exactly 30 %: 5 samples at 1000 - x, 5 at 1000 + x, x = 300 / sqrt(10/9)
rec noisy 2026-11-04 demo.json '.ops = ([range(5)] | map(715.3940) + map(1284.6060))'
# two samples only (a 2 s run)
rec few 2026-11-05 demo.json '.ops = [1000, 1002] | .lat = [5000, 5010]'
rec fail 2026-11-06 demo.json
tweak fail demo.json '.status = "FAIL" | .exit_code = 1 |
	.reason = "worker 1: page at 0x7f0000200000 holds 0x00, expected 0xa5 (written before fork)" |
	.splats = [ { line: "WARNING: CPU: 1 PID: 4242 at mm/memory.c:1234 zap_pte_range+0x5a/0x120",
		      excerpt: [ "WARNING: CPU: 1 PID: 4242 at mm/memory.c:1234 zap_pte_range+0x5a/0x120",
				 "Call Trace:", " <TASK>", " unmap_page_range+0x1a/0x40" ] } ] |
	.repeats[0].status = "FAIL" | .repeats[0].exit_code = 1'
# same figures on another machine with other parameters and run settings
rec othermachine 2026-11-07 demo.json
tweak othermachine demo.json '.system.hostname = "bigbox" | .system.cpu_model = "Other CPU 9000" |
	.system.online_cpus = 4 | .system.topology.cores = 4 | .system.topology.pus = 4 |
	.system.topology.numa_nodes[0].cpus = "0-3" | .params.size = "4M" | .run.duration_s = 20.0'
# 10 % more ops/s and 10 % less latency: better twice
rec faster 2026-11-08 demo.json '.ops |= map(. * 1.1) | .lat |= map(. * 0.9)'
# three repeats: the verdict uses each repeat's mean
rec rep3 2026-11-09 demo.json '.ops = [1000, 1010, 990, 1005, 995, 1002, 998, 1008, 992, 1000,
	1001, 1011, 991, 1006, 996, 1003, 999, 1009, 993, 1001, 999, 1009, 989, 1004, 994, 1001,
	997, 1007, 991, 999] | .repeats = [999.9, 1000.9, 998.9]'
# --sweep-workers 1,2,4: two runs for the scaling curves
for w in 1 2 4; do
	rec sweep-a 2026-11-10 "demo.w$w.json" \
		".workers = $w | .ops |= map(. * $w * (1 - 0.1 * ($w - 1)) / 2)"
	tweak sweep-a "demo.w$w.json" '.run.sweep_workers = [1, 2, 4]'
	rec sweep-b 2026-11-11 "demo.w$w.json" \
		".workers = $w | .ops |= map(. * $w * (1 - 0.05 * ($w - 1)) / 2)"
	tweak sweep-b "demo.w$w.json" '.run.sweep_workers = [1, 2, 4]'
done

# bad input
mkdir -p bad/corrupt bad/badschema bad/badsample bad/empty
head -c 700 runs/base/demo.json >bad/corrupt/demo.json
jq '.schema = "mmtorture-record/99"' runs/base/demo.json >bad/badschema/demo.json
jq '.metrics.ops.samples[3] = "fast"' runs/base/demo.json >bad/badsample/demo.json
touch bad/empty/.keep
# a valid run of another workload: nothing in common with the others
mkdir -p bad/otherworkload
jq '.workload = "other" | .run_id = "otherworkload"' runs/base/demo.json >bad/otherworkload/other.json
echo "records written under $(pwd)"
