// SPDX-License-Identifier: GPL-2.0
/*
 * hotplug-vmemmap - memory block offline/online against HugeTLB vmemmap optimization.
 *
 * Kernel path: memory hotplug through /sys/devices/system/memory/memoryN/state
 * (offline_pages(): isolate the block, migrate what is in use - anonymous pages, in-use
 * hugetlb pages - dissolve free hugetlb pages, mark the sections offline; online_pages()),
 * together with HugeTLB Vmemmap Optimization (vm.hugetlb_optimize_vmemmap): each hugetlb
 * page allocated has the tail part of its memmap remapped onto its first memmap page and the
 * rest freed, each one freed gets it back (kernel page-table surgery on the vmemmap, one
 * synchronize_rcu() per page), including the pages that offlining migrates or dissolves.
 *
 * Race partners (processes): a cycler that offlines and onlines the chosen blocks in one of
 * two layouts.  layout=sparse (the default): the blocks rest offline, `anchors` of them stay
 * online and full of hugetlb pages, and one thread onlines a block, puts hvo_pages hugetlb
 * pages into it (they can only land there) and offlines it again, every round, swapping an
 * anchor every anchor_ms (see hp_offliner_sparse()); a round costs about what an empty block
 * does, a third of a full one.  layout=full: the blocks rest online, and its `offliners`
 * threads offline and online them (each thread pipelined: its block stays offline while its
 * next goes offline; the state writes themselves one at a time, since the kernel serialises
 * them under device_hotplug_lock and a writer that finds it taken sleeps 5 ms and restarts),
 * picking for each round a block that holds hugetlb pages and, in light rounds, only free ones
 * and few LRU pages (a migration round, every migrate_every-th, wants many LRU pages or mapped
 * hugetlb pages: everything that offlining must copy), from the block's /proc/kpageflags
 * read just before (hugetlb pages, in use or free, vmemmap-optimized or not, LRU pages); it
 * samples the offlining threads' kernel stacks (/proc/self/task/TID/stack, every sample_ms)
 * and records offline latency per cause (HVO on/off, hugetlb pages in the block or not, free
 * only or in use, migration volume: in the sparse layout the kernel's pgmigrate_success count
 * across the offline; a user page migrated or none: one such page makes the kernel visit
 * every pfn after it, several times the cost of the rest of the offline) and where it went.
 * By default it onlines the blocks into ZONE_MOVABLE (online_zone=movable, where valid_zones
 * allows it), the zone movable allocations - hugetlb pool pages included - try first, and
 * (layout=full) right after each online grows the pool by
 * fill_pages pages allocated with hugetlb_optimize_vmemmap=0 and hvo_pages under the current
 * phase, from the block's node: they land in the block just onlined (the rest of ZONE_MOVABLE
 * is full), so every offline dissolves a block full of free hugetlb pages and, in an on phase,
 * restores the vmemmap of an optimized one, and the machine's other movable memory finds no
 * room there; every migrate_every-th block keeps heavy_room slots free, for user data that the
 * next offline migrates.  The synchronize_rcu() of each vmemmap restore/optimize becomes an
 * expedited grace period with rcu_expedited=on (saved and restored): page_ref_add_unless()
 * takes rcu_read_lock() around its speculative reference, and an expedited grace period
 * waits for those readers just as a normal one does (kernel/rcu/tree.c: synchronize_rcu()
 * calls synchronize_rcu_expedited() when rcu_gp_is_expedited()), so the race is the same,
 * only the wait is shorter.  A pool churn grows and shrinks its share of nr_hugepages,
 * takes surplus pages through nr_overcommit_hugepages plus fallocate on a hugetlbfs memfd
 * and keeps them mapped and stamped until the next round (churn_ms apart), and keeps
 * held_pages pages mapped for the whole run (in-use pages that offlining must migrate):
 * with hugetlb_optimize_vmemmap alternating 1 and 0 every hvo_round_ms, growing the pool a
 * few pages per write; a process-shared lock keeps its nr_hugepages and sysctl writes apart
 * from the cycler's.  The racing roles run niced (racer_nice), so that the kworkers offlining
 * waits for get the CPUs.
 * A memmap reader reads /proc/kpageflags and /proc/kpagecount in chunks, alternating a
 * sweep of the whole pfn range with the cycled blocks (pfn_to_online_page() against
 * offlining, stable_page_flags() over the remapped memmap).  A ptdump reader reads debugfs
 * page_tables/ where the kernel has it (CONFIG_PTDUMP_DEBUGFS; otherwise the role skips,
 * with the reason in the record).  Memory users fill, verify, refault and re-stamp
 * anonymous memory, and watch their pfns move through /proc/self/pagemap.
 *
 * Corruption (FAIL): a memory user's page or a held hugetlb page does not hold its stamp
 * (stale, zero or garbage: data changed by migration); pagemap maps a user page at a pfn
 * of a block that was offline for the whole read; kpageflags/kpagecount show page state
 * (anything but KPF_NOPAGE or nothing, or a count) for a pfn of a block offline for the
 * whole read, or KPF_NOPAGE for a pfn of a cycled block online for the whole read; a block
 * that went offline cannot be onlined again within 5 s, or its state file disagrees with
 * the write that just succeeded; with round_pages, a page the cycler wrote into a sparse block
 * that still maps a pfn of it after the offline, or no longer holds its stamp; a kernel splat
 * (the harness watches the log).  Offline
 * refusals are legal and counted per errno; a block whose offline write outlives
 * offline_timeout_ms is dropped for the rest of the run.  kpageflags reporting a tail pfn
 * as a hugetlb head (a "fake head" of the optimized memmap, 6.17+) is a FAIL, which the
 * known-bug list (kernel/bugs/) turns into XFAIL on those kernels; fake_heads=count only
 * counts them.
 *
 * Needs: root, memory blocks that really go offline (removable, online, in one zone;
 * probed in setup within probe_s seconds, at most `blocks` kept, each saved first so the
 * harness onlines it again after the run, on Ctrl-C and in `mmtorture restore`; teardown
 * moves blocks back from ZONE_MOVABLE to their own zone - after a crash that move is not
 * made), 2 MiB hugetlb pages (the pool grows by pool_pages + held_pages, surplus by
 * surplus_pages; restored), /proc/kpageflags.  Destructive: runs only with
 * --allow-destructive or MMT_DESTRUCTIVE=1.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <numa.h>
#include <numaif.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "mmtorture.h"

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif
#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB (21U << 26)
#endif

#define HP_MEMDIR	"/sys/devices/system/memory"
#define HP_HSYS		"/sys/kernel/mm/hugepages/hugepages-2048kB/"
#define HP_NR_HUGE	HP_HSYS "nr_hugepages"
#define HP_NR_OVER	HP_HSYS "nr_overcommit_hugepages"
#define HP_FREE_HUGE	HP_HSYS "free_hugepages"
#define HP_SURP_HUGE	HP_HSYS "surplus_hugepages"
#define HP_HVO		"/proc/sys/vm/hugetlb_optimize_vmemmap"
#define HP_NODE_NR_FMT	"/sys/devices/system/node/node%d/hugepages/hugepages-2048kB/nr_hugepages"
#define HP_PTDUMP	"/sys/kernel/debug/page_tables"
#define HP_RCU_EXP	"/sys/kernel/rcu_expedited"
#define HP_RCU_NORMAL	"/sys/kernel/rcu_normal"

#define HP_PAGE		4096ul
#define HP_HPAGE	(2ul << 20)
#define HP_MAX_KEEP	64
#define HP_MAX_BLOCKNR	65536		/* block numbers above this are never chosen */
#define HP_ONLINE_TIMEOUT_MS 5000
#define HP_ONLINE_RETRY_NS (5ull * 1000000000ull)
#define HP_POOL_TIMEOUT_MS 5000
#define HP_POOL_STEP	4		/* pool pages per nr_hugepages write */
#define HP_SCAN_NS	250000000ull	/* memory users' pagemap scans */
#define HP_CHUNK_PAGES	512u		/* memory users verify 2 MiB at a time */
#define HP_MAX_HOLD	4096u
#define HP_MAX_OFF	8		/* offliner threads */
#define HP_ROUND_SLOTS	16384u		/* round_pages: a ring of 64 MiB, reused from its start */
#define HP_ROUND_SALT	0x726f756e64ull	/* the round pages' stamps differ from the users' */
#define HP_ROUND_MAX	64u		/* round pages written per round, at most */
#define HP_ROUND_STRIDE	512u		/* bytes between two stamped words of a round page */

/* where an offliner's time goes */
enum { HP_T_PICK, HP_T_WAIT, HP_T_OFFLINE, HP_T_ONLINE, HP_T_FILL, HP_T_IDLE, HP_T_NR };
#define HP_NR_LEAF	24
#define HP_LEAF_LEN	48

#define PM_PRESENT	(1ull << 63)
#define PM_PFN_MASK	((1ull << 55) - 1)
#define KPF_NOPAGE	20
#define KPF_HUGE	17
#define KPF_COMPOUND_HEAD 15

enum {
	M_CYCLES,
	M_OFF_LAT,
	M_ON_LAT,
	M_OFF_EBUSY,
	M_OFF_EIO,
	M_OFF_ENOMEM,
	M_OFF_EINVAL,
	M_OFF_EAGAIN,
	M_OFF_TIMEOUT,
	M_OFF_OTHER,
	M_BLOCKS_DROPPED,
	M_ZONE_CHANGED,
	M_HUGE_ALLOC,
	M_HUGE_FREE,
	M_HUGE_ALLOC_ON,
	M_HUGE_FREE_ON,
	M_HUGE_ALLOC_OFF,
	M_HUGE_FREE_OFF,
	M_VMEMMAP_ON,
	M_VMEMMAP_OFF,
	M_HUGE_MIGRATED,
	M_MEMMAP_PFNS,
	M_NOPAGE_CHECKED,
	M_ONLINE_CHECKED,
	M_HUGE_IN_CYCLED,
	M_PTDUMP,
	M_USER_VERIFY,
	M_USER_MOVED,
	M_USER_MOVED_OFF,
	M_INJECTED,
	M_FAKE_HEADS,
	M_OFF_LAT_ON,
	M_OFF_LAT_OFF,
	M_OFF_LAT_HUGE_ON,
	M_OFF_LAT_HUGE_OFF,
	M_OFF_LAT_NOHUGE,
	M_OFF_LAT_MIG0,
	M_OFF_LAT_MIG1,
	M_OFF_LAT_MIG2,
	M_CYC_HUGE,
	M_ST_HVO_RCU,
	M_ST_HVO_REMAP,
	M_ST_HUGETLB,
	M_ST_MIGRATE,
	M_ST_DRAIN,
	M_ST_ISOLATE,
	M_ST_LOCK,
	M_ST_OTHER,
	M_OFF_LAT_USER0,
	M_OFF_LAT_USER,
	M_ROUND_IN,
	M_ROUND_OFF,
};

static const struct mmt_metric hp_metrics[] = {
	[M_CYCLES] = { "cycles", "cycles/s", MMT_RATE, MMT_BETTER_HIGHER,
		"successful offline+online cycles of the chosen memory blocks", MMT_METRIC_HEADLINE },
	[M_OFF_LAT] = { "offline_latency", "ns", MMT_LATENCY, MMT_BETTER_LOWER,
		"write of 'offline' to a block's state file, successful ones", MMT_METRIC_HEADLINE },
	[M_ON_LAT] = { "online_latency", "ns", MMT_LATENCY, MMT_BETTER_LOWER,
		"write of 'online_kernel'/'online_movable' to a block's state file" },
	[M_OFF_EBUSY] = { "offline_fail_ebusy", "failures", MMT_TOTAL, MMT_BETTER_NONE,
		"offline refused with EBUSY (unmovable or isolated pages)" },
	[M_OFF_EIO] = { "offline_fail_eio", "failures", MMT_TOTAL, MMT_BETTER_NONE,
		"offline refused with EIO" },
	[M_OFF_ENOMEM] = { "offline_fail_enomem", "failures", MMT_TOTAL, MMT_BETTER_NONE,
		"offline refused with ENOMEM (no memory to migrate to, or for vmemmap)" },
	[M_OFF_EINVAL] = { "offline_fail_einval", "failures", MMT_TOTAL, MMT_BETTER_NONE,
		"offline refused with EINVAL" },
	[M_OFF_EAGAIN] = { "offline_fail_eagain", "failures", MMT_TOTAL, MMT_BETTER_NONE,
		"offline refused with EAGAIN" },
	[M_OFF_TIMEOUT] = { "offline_fail_timeout", "failures", MMT_TOTAL, MMT_BETTER_NONE,
		"offline interrupted by the offline_timeout_ms timer (EINTR); block dropped" },
	[M_OFF_OTHER] = { "offline_fail_other", "failures", MMT_TOTAL, MMT_BETTER_NONE,
		"offline refused with any other errno" },
	[M_BLOCKS_DROPPED] = { "blocks_dropped", "blocks", MMT_TOTAL, MMT_BETTER_NONE,
		"blocks dropped from the cycle after an offline timeout" },
	[M_ZONE_CHANGED] = { "zone_changed", "onlines", MMT_TOTAL, MMT_BETTER_NONE,
		"onlines that put a block into another zone than the one asked for" },
	[M_HUGE_ALLOC] = { "hugetlb_alloc", "pages/s", MMT_RATE, MMT_BETTER_NONE,
		"hugetlb pages allocated from the buddy allocator (pool growth + surplus)" },
	[M_HUGE_FREE] = { "hugetlb_free", "pages/s", MMT_RATE, MMT_BETTER_NONE,
		"hugetlb pages given back to the buddy allocator (pool shrink + surplus)" },
	[M_HUGE_ALLOC_ON] = { "hugetlb_alloc_hvo_on", "pages/s", MMT_GAUGE, MMT_BETTER_HIGHER,
		"pages allocated per second spent allocating, hugetlb_optimize_vmemmap=1 phase" },
	[M_HUGE_FREE_ON] = { "hugetlb_free_hvo_on", "pages/s", MMT_GAUGE, MMT_BETTER_HIGHER,
		"pages freed per second spent freeing, hugetlb_optimize_vmemmap=1 phase" },
	[M_HUGE_ALLOC_OFF] = { "hugetlb_alloc_hvo_off", "pages/s", MMT_GAUGE, MMT_BETTER_HIGHER,
		"pages allocated per second spent allocating, hugetlb_optimize_vmemmap=0 phase" },
	[M_HUGE_FREE_OFF] = { "hugetlb_free_hvo_off", "pages/s", MMT_GAUGE, MMT_BETTER_HIGHER,
		"pages freed per second spent freeing, hugetlb_optimize_vmemmap=0 phase" },
	[M_VMEMMAP_ON] = { "vmemmap_freed_per_hpage_hvo_on", "pages", MMT_GAUGE, MMT_BETTER_NONE,
		"memmap pages (vmstat nr_memmap*) freed per hugetlb page allocated, HVO on" },
	[M_VMEMMAP_OFF] = { "vmemmap_freed_per_hpage_hvo_off", "pages", MMT_GAUGE,
		MMT_BETTER_NONE, "the same with HVO off (expected 0)" },
	[M_HUGE_MIGRATED] = { "hugetlb_held_moved", "pages", MMT_TOTAL, MMT_BETTER_NONE,
		"held (mapped, stamped) hugetlb pages found at a new pfn: migrated" },
	[M_MEMMAP_PFNS] = { "memmap_pfns", "pfns/s", MMT_RATE, MMT_BETTER_HIGHER,
		"pfns read from /proc/kpageflags and /proc/kpagecount" },
	[M_NOPAGE_CHECKED] = { "offline_pfns_checked", "pfns", MMT_TOTAL, MMT_BETTER_NONE,
		"pfns of a block offline for the whole read, checked to have no page flags, count 0" },
	[M_ONLINE_CHECKED] = { "online_pfns_checked", "pfns", MMT_TOTAL, MMT_BETTER_NONE,
		"pfns of a cycled block online for the whole read, checked not KPF_NOPAGE" },
	[M_HUGE_IN_CYCLED] = { "hugetlb_in_cycled_blocks", "pages", MMT_GAUGE, MMT_BETTER_NONE,
		"most hugetlb pages kpageflags found in the cycled blocks in one read of them all" },
	[M_PTDUMP] = { "ptdump_reads", "dumps/s", MMT_RATE, MMT_BETTER_NONE,
		"full reads of debugfs page_tables/ files" },
	[M_USER_VERIFY] = { "user_verify", "pages/s", MMT_RATE, MMT_BETTER_NONE,
		"stamped 4 KiB pages verified by the memory users" },
	[M_USER_MOVED] = { "user_pages_moved", "pages", MMT_TOTAL, MMT_BETTER_NONE,
		"memory users' pages found at a new pfn (migrated) and verified afterwards" },
	[M_USER_MOVED_OFF] = { "user_pages_moved_from_cycled", "pages", MMT_TOTAL,
		MMT_BETTER_NONE, "of those, pages that had been in a cycled block" },
	[M_INJECTED] = { "injected_corruptions", "writes", MMT_TOTAL, MMT_BETTER_NONE,
		"--inject corrupt: garbage words written into memory users' pages" },
	[M_FAKE_HEADS] = { "kpageflags_fake_heads", "pfns", MMT_TOTAL, MMT_BETTER_LOWER,
		"reads of a pfn kpageflags reports as a hugetlb compound head that is not 2 MiB aligned (a tail of a vmemmap-optimized page seen through its remapped memmap)" },
	[M_OFF_LAT_ON] = { "offline_latency_hvo_on", "ns", MMT_LATENCY, MMT_BETTER_LOWER,
		"successful offlines while hugetlb_optimize_vmemmap=1 (hugetlb pages migrated or dissolved pay a vmemmap remap each)" },
	[M_OFF_LAT_OFF] = { "offline_latency_hvo_off", "ns", MMT_LATENCY, MMT_BETTER_LOWER,
		"successful offlines while hugetlb_optimize_vmemmap=0" },
	[M_OFF_LAT_HUGE_ON] = { "offline_latency_hugetlb_hvo_on", "ns", MMT_LATENCY,
		MMT_BETTER_LOWER, "successful offlines of a block holding hugetlb pages (kpageflags just before), HVO on" },
	[M_OFF_LAT_HUGE_OFF] = { "offline_latency_hugetlb_hvo_off", "ns", MMT_LATENCY,
		MMT_BETTER_LOWER, "the same, HVO off" },
	[M_OFF_LAT_NOHUGE] = { "offline_latency_no_hugetlb", "ns", MMT_LATENCY, MMT_BETTER_LOWER,
		"successful offlines of a block without hugetlb pages (either HVO phase)" },
	[M_OFF_LAT_MIG0] = { "offline_latency_migrate_lt_1m", "ns", MMT_LATENCY, MMT_BETTER_LOWER,
		"successful offlines of a block with under 1 MiB of LRU pages to migrate" },
	[M_OFF_LAT_MIG1] = { "offline_latency_migrate_1m_16m", "ns", MMT_LATENCY,
		MMT_BETTER_LOWER, "the same, 1 to 16 MiB of LRU pages" },
	[M_OFF_LAT_MIG2] = { "offline_latency_migrate_ge_16m", "ns", MMT_LATENCY,
		MMT_BETTER_LOWER, "the same, 16 MiB of LRU pages or more" },
	[M_CYC_HUGE] = { "offlines_with_hugetlb", "offlines", MMT_TOTAL, MMT_BETTER_HIGHER,
		"successful offlines of a block that held hugetlb pages just before" },
	[M_ST_HVO_RCU] = { "offline_stack_hvo_rcu", "samples", MMT_TOTAL, MMT_BETTER_NONE,
		"stack samples of an offlining thread in synchronize_rcu() under hugetlb_vmemmap (one grace period per optimized page)" },
	[M_ST_HVO_REMAP] = { "offline_stack_hvo_remap", "samples", MMT_TOTAL, MMT_BETTER_NONE,
		"... in the rest of the vmemmap restore/optimize" },
	[M_ST_HUGETLB] = { "offline_stack_hugetlb", "samples", MMT_TOTAL, MMT_BETTER_NONE,
		"... in other hugetlb code (dissolve, allocation of a migration target)" },
	[M_ST_MIGRATE] = { "offline_stack_migrate", "samples", MMT_TOTAL, MMT_BETTER_NONE,
		"... migrating pages (do_migrate_range, copies)" },
	[M_ST_DRAIN] = { "offline_stack_drain", "samples", MMT_TOTAL, MMT_BETTER_NONE,
		"... draining LRU, per-cpu and slab lists (lru_add_drain_all, drain_all_pages, slab flush_all, expedited RCU): waits for per-CPU kworkers" },
	[M_ST_ISOLATE] = { "offline_stack_isolate", "samples", MMT_TOTAL, MMT_BETTER_NONE,
		"... isolating the range and scanning it" },
	[M_ST_LOCK] = { "offline_stack_lock", "samples", MMT_TOTAL, MMT_BETTER_NONE,
		"... waiting for the hotplug locks (another offliner's write)" },
	[M_ST_OTHER] = { "offline_stack_other", "samples", MMT_TOTAL, MMT_BETTER_NONE,
		"... anywhere else, or running with no stack to show" },
	[M_OFF_LAT_USER0] = { "offline_latency_no_user_pages", "ns", MMT_LATENCY, MMT_BETTER_LOWER,
		"successful offlines that migrated no 4 KiB page (user data: anonymous or file LRU pages)" },
	[M_OFF_LAT_USER] = { "offline_latency_user_pages", "ns", MMT_LATENCY, MMT_BETTER_LOWER,
		"the same, one 4 KiB page or more migrated" },
	[M_ROUND_IN] = { "round_pages_in_block", "pages", MMT_TOTAL, MMT_BETTER_NONE,
		"round_pages: anonymous pages the cycler wrote after a fill that landed in the block just onlined (each one migrated by the offline and verified)" },
	[M_ROUND_OFF] = { "offlines_with_round_pages", "offlines", MMT_TOTAL, MMT_BETTER_HIGHER,
		"successful offlines of a block that held one of those pages or more" },
	{ 0 }
};

static const struct mmt_param hp_params[] = {
	{ "blocks", MMT_P_INT, "32", "memory blocks to keep cycling (those that go offline)",
	  1, HP_MAX_KEEP, NULL },
	{ "offliners", MMT_P_INT, "0",
	  "layout=full: cycler threads offlining and onlining blocks in parallel (at most a quarter of the blocks cycled; 0: one per online CPU, at most 4)",
	  0, HP_MAX_OFF, NULL },
	{ "light_pages", MMT_P_INT, "512",
	  "layout=full: LRU pages a block may hold in a light round, which also wants no mapped hugetlb page (more, or a mapped one: a migration round's block)", 0,
	  1 << 20, NULL },
	{ "migrate_every", MMT_P_INT, "16",
	  "layout=full: every Nth round of an offliner wants a block with data to migrate: light_pages LRU pages or more, or a mapped hugetlb page (0: never)",
	  0, 1000, NULL },
	{ "hvo_round_ms", MMT_P_INT, "1000",
	  "vmemmap=both: hugetlb_optimize_vmemmap alternates on/off every this many ms", 100,
	  600000, NULL },
	{ "probe_s", MMT_P_INT, "30", "time budget in seconds for probing blocks in setup",
	  1, 600, NULL },
	{ "offline_timeout_ms", MMT_P_INT, "10000",
	  "bound on one offline write; a block that takes longer is dropped", 50, 60000, NULL },
	{ "pool_pages", MMT_P_INT, "16", "hugetlb pool growth above its size, 2 MiB pages",
	  1, HP_MAX_HOLD / 2, NULL },
	{ "surplus_pages", MMT_P_INT, "8", "surplus hugetlb pages via nr_overcommit_hugepages",
	  0, HP_MAX_HOLD / 2, NULL },
	{ "user_size", MMT_P_SIZE, "16m", "stamped anonymous memory per memory user",
	  2 << 20, 16ll << 30, NULL },
	{ "memmap_chunk", MMT_P_INT, "8192", "pfns per /proc/kpageflags read", 512,
	  1 << 20, NULL },
	{ "online_zone", MMT_P_CHOICE, "movable",
	  "zone the cycler onlines blocks into: movable (where the kernel allows: user and hugetlb pages then land in them) or same",
	  0, 0, "movable|same" },
	{ "heavy_room", MMT_P_INT, "2",
	  "layout=full: 2 MiB slots a migration round's block (every migrate_every-th online) is left without fill, for user data to land in and be migrated",
	  0, 512, NULL },
	{ "racer_nice", MMT_P_INT, "19",
	  "nice value of the memmap reader, ptdump reader and memory users (20: SCHED_IDLE; the churn: at most 10)", 0, 20,
	  NULL },
	{ "pin", MMT_P_CHOICE, "split",
	  "split: the cycler runs on the first CPU the run may use and every racing role (memmap and ptdump readers, memory users, churn) on the others, so that they run beside each offline instead of taking turns with it (needs 2 CPUs; with one the scheduler places them); off: the scheduler places every role",
	  0, 0, "split|off" },
	{ "sample_ms", MMT_P_INT, "5",
	  "period of the kernel stack samples of offlining threads (and of the write timeouts' check)",
	  1, 100, NULL },
	{ "churn_ms", MMT_P_INT, "1000",
	  "pause of the pool churn between its rounds (each grows or shrinks the pool and takes pages): every page it allocates in an on phase is one more vmemmap-optimized page in some cycled block, replacing fill",
	  0, 10000, NULL },
	{ "held_pages", MMT_P_INT, "4",
	  "hugetlb pages the churn keeps mapped and stamped for the whole run (migrated by offlining)",
	  0, 512, NULL },
	{ "fake_heads", MMT_P_CHOICE, "fail",
	  "a misaligned hugetlb head in /proc/kpageflags: fail (XFAIL on 6.17+ via kernel/bugs) or only count it",
	  0, 0, "count|fail" },
	{ "fill_pages", MMT_P_INT, "63",
	  "free hugetlb pages (allocated with HVO off) put into each ZONE_MOVABLE block right after it is onlined (layout=sparse: into each anchor), so that the next offline dissolves them and the machine's other movable allocations find no room in it (0: none)",
	  0, 512, NULL },
	{ "hvo_pages", MMT_P_INT, "1",
	  "hugetlb pages allocated into each onlined ZONE_MOVABLE block under the current HVO phase (optimized in an on phase), from the block's node: every offline restores their vmemmap",
	  0, 512, NULL },
	{ "layout", MMT_P_CHOICE, "sparse",
	  "sparse: the cycled blocks rest offline, and each round onlines one, puts hvo_pages hugetlb pages in it and offlines it (one offliner; anchors blocks stay online, full); full: the blocks rest online, each full of hugetlb pages (fill_pages + hvo_pages), and offliners take them offline in turn",
	  0, 0, "sparse|full" },
	{ "anchors", MMT_P_INT, "2",
	  "layout=sparse: blocks kept online and full of hugetlb pages (ZONE_MOVABLE stays populated, and the sparse blocks' pages and the machine's movable allocations find no room in them); one is swapped every anchor_ms",
	  1, 16, NULL },
	{ "anchor_ms", MMT_P_INT, "1000",
	  "layout=sparse: every this many ms a fresh block is onlined and filled full and the oldest anchor goes offline (its held hugetlb pages migrated, its free ones dissolved; 0: never)",
	  0, 60000, NULL },
	{ "round_pages", MMT_P_INT, "0",
	  "layout=sparse: after each fill the cycler writes this many fresh anonymous pages, which land in the block just onlined; after the offline each must have left the block (pagemap) and still hold its stamp (FAIL otherwise): user data in every cycled block, at the cost of the walk the offline makes from the first of them to the block's end (see round_place) (0: only the memory users' pages, which land in some blocks)",
	  0, 64, NULL },
	{ "round_place", MMT_P_CHOICE, "top",
	  "round_pages: where in the block the round pages land.  top: the round's fill first puts free hugetlb pages (HVO off) into all but the top 4 MiB of the block, so the pages land there and the kernel's pfn-by-pfn walk from the first page it migrates to the end of the block is short; low: only hvo_pages go in first, the pages land near the start and the offline walks nearly the whole block",
	  0, 0, "top|low" },
	{ "rcu_expedited", MMT_P_CHOICE, "on",
	  "/sys/kernel/rcu_expedited for the run (saved and restored): on makes the synchronize_rcu() of every vmemmap restore/optimize an expedited grace period; keep leaves it alone",
	  0, 0, "on|off|keep" },
	{ "vmemmap", MMT_P_CHOICE, "both",
	  "hugetlb_optimize_vmemmap phases: both (on and off, alternating every hvo_round_ms), on, off", 0, 0,
	  "both|on|off" },
	{ 0 }
};

struct hp_block {
	int32_t nr;		/* memoryN */
	uint32_t dropped;	/* timed out: not cycled any more */
	uint64_t seq;		/* odd while the cycler changes the state */
	uint32_t offline;	/* state when seq is even */
	uint32_t pad;
	char zone[16];		/* zone it was in ("Normal", "DMA32", "Movable") */
	char home_cmd[16];	/* online_kernel / online_movable: back into that zone */
	char target[16];	/* zone the cycler onlines it into */
	char online_cmd[16];	/* the write that does that */
	int32_t node;		/* its NUMA node if that node's pool can be set, else -1 */
};

enum { HP_ON, HP_OFF, HP_NR_PHASES };

/* Offline latency per cause, for the record's notes. */
enum { HP_C_ON, HP_C_OFF, HP_C_HUGE_ON, HP_C_HUGE_OFF, HP_C_NOHUGE, HP_C_MIG0, HP_C_MIG1,
       HP_C_MIG2, HP_C_FREE_ONLY, HP_C_INUSE, HP_C_USER0, HP_C_USER, HP_NR_CAUSES };

struct hp_phase {
	uint64_t ran;
	uint64_t wall_ns;
	uint64_t alloc_pages, alloc_ns;
	uint64_t free_pages, free_ns;
	int64_t memmap_freed;		/* memmap pages given back while allocating */
	uint64_t memmap_hpages;		/* pages allocated with memmap readings around */
};

struct hp_priv {
	pthread_mutex_t pool_lock;	/* process-shared: nr_hugepages and HVO sysctl writes */
	uint64_t ppb;			/* 4 KiB pages per block */
	uint64_t max_pfn;
	uint64_t salt;
	int nr_blocks;
	int timeout_ms;
	int pool_pages;
	int surplus_pages;
	int held_pages;
	bool fake_fail;
	uint64_t base_pool;		/* nr_hugepages before the run */
	uint64_t base_over;		/* nr_overcommit_hugepages before the run */
	uint64_t user_size;
	uint64_t chunk;
	int phases[HP_NR_PHASES];	/* phase order; -1 unused */
	int nr_phases;
	bool memmap_stat;		/* /proc/vmstat has nr_memmap_pages */
	bool hvo;			/* the sysctl exists */
	bool hugetlb_saved;		/* base_pool is valid and the knob saved */
	uint64_t duration_ns;
	uint64_t warmup_ns;
	struct hp_phase phase[HP_NR_PHASES];
	uint32_t cur_phase;		/* HP_ON + 1, HP_OFF + 1; 0 before the churn set one */
	char ptdump_dir[256];
	char ptdump_why[256];
	int offliners;
	int want_blocks;		/* blocks to keep (hp_blocks_wanted()) */
	int offliners_run;		/* offliner threads the cycler started */
	uint64_t light_pages;
	int migrate_every;
	bool sparse;			/* layout=sparse */
	int anchors;
	uint64_t anchor_ns;
	int round_pages;		/* layout=sparse */
	bool round_top;			/* round_place=top */
	uint64_t round_fill;		/* round_place=top: HVO-off pages a sparse fill puts under them */
	uint64_t round_pos;		/* round pages in their block: offsets summed, in 1/1000 */
	uint32_t round_gate;		/* round_place=top: set from online to the round pages */
	uint64_t hvo_round_ns;
	uint64_t churn_ns;
	uint64_t sample_ns;
	int racer_nice;
	bool pin_split;			/* pin=split */
	uint64_t fill_pages;		/* per onlined movable block, allocated with HVO off */
	uint64_t heavy_room;		/* slots a migration round's block keeps free */
	uint64_t hvo_pages;		/* per onlined movable block, under the current phase */
	uint64_t pool_cap;		/* the fills never grow nr_hugepages beyond this */
	uint64_t fills, fill_got, fill_capped;
	uint64_t inuse_at_offline;
	uint64_t hvo_at_offline;
	uint64_t huge_at_offline;	/* summed over successful offlines with known content */
	uint64_t lru_at_offline;
	uint64_t user_offlines;		/* ... that migrated one 4 KiB page or more */
	uint64_t offlines_known;
	struct { uint64_t n, ns; } cause[HP_NR_CAUSES];
	uint64_t off_t[HP_T_NR];	/* offliner time by activity, summed at their exit */
	uint64_t off_wall;		/* the cycler's wall time with offliners running */
	struct { char name[HP_LEAF_LEN]; uint64_t count; } leaf[HP_NR_LEAF];
	struct hp_block blk[HP_MAX_KEEP];
	int16_t kept_of[HP_MAX_BLOCKNR];	/* block number -> kept index + 1 */
};

/* ------------------------------------------------------------------ helpers */

/*
 * The knob files the cycler reads and writes every round (block state and valid_zones,
 * the pool counts, the HVO sysctl), kept open: pread()/pwrite() at offset 0 run the
 * attribute's show/store anew, and each open() of a sysfs path cost 5 us here, several per
 * round.  Only in the cycler process (hp_fds_open() .. hp_fds_close()); elsewhere, and
 * when the table is full or a file does not open read-write, the path is opened per use.
 */
#define HP_NR_FDS	192
static struct { char path[120]; int fd; } hp_fds[HP_NR_FDS];
static int hp_nr_fds = -1;		/* -1: no cache in this process */
static pthread_mutex_t hp_fds_lock = PTHREAD_MUTEX_INITIALIZER;

static void hp_fds_open(void)
{
	hp_nr_fds = 0;
}

static void hp_fds_close(void)
{
	int i;

	for (i = 0; i < hp_nr_fds; i++)
		close(hp_fds[i].fd);
	hp_nr_fds = -1;
}

/* The cached read-write fd of path, or -1 */
static int hp_fd(const char *path)
{
	int i, fd = -1;

	if (hp_nr_fds < 0 || strlen(path) >= sizeof(hp_fds[0].path))
		return -1;
	pthread_mutex_lock(&hp_fds_lock);
	for (i = 0; i < hp_nr_fds; i++) {
		if (!strcmp(hp_fds[i].path, path)) {
			fd = hp_fds[i].fd;
			break;
		}
	}
	if (i == hp_nr_fds && hp_nr_fds < HP_NR_FDS) {
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			strcpy(hp_fds[i].path, path);
			hp_fds[i].fd = fd;
			hp_nr_fds++;
		}
	}
	pthread_mutex_unlock(&hp_fds_lock);
	return fd;
}

/* mmt_knob_read() through the cache */
static int hp_knob_read(const char *path, char *buf, size_t len)
{
	int fd = hp_fd(path);
	char raw[512];
	ssize_t n;

	if (fd < 0)
		return mmt_knob_read(path, buf, len);
	n = pread(fd, raw, sizeof(raw) - 1, 0);
	if (n < 0)
		return -errno;
	raw[n] = '\0';
	return mmt_knob_parse(raw, buf, len);
}

/* Only there so that SIGALRM interrupts a blocking write instead of killing us. */
static void hp_on_alarm(int sig)
{
	(void)sig;
}

/*
 * SIGALRM without SA_RESTART for the cycler's watchdog, which tgkill()s the cycler thread
 * to interrupt a blocking offline (offline_pages() gives up on a pending signal).  Bounded
 * writes elsewhere use mmt_write_timeout(), which sets up its own timer and handler.
 */
static int hp_alarm_install(struct sigaction *old)
{
	struct sigaction sa = { .sa_handler = hp_on_alarm };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, old))
		return -errno;
	return 0;
}

static int hp_write_u64_bounded(const char *path, uint64_t v, unsigned int timeout_ms)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return mmt_write_timeout(path, buf, timeout_ms);
}

static void hp_block_path(char *buf, size_t len, int block, const char *leaf)
{
	snprintf(buf, len, HP_MEMDIR "/memory%d/%s", block, leaf);
}

static int hp_block_read(int block, const char *leaf, char *buf, size_t len)
{
	char path[128];

	hp_block_path(path, sizeof(path), block, leaf);
	return hp_knob_read(path, buf, len);
}

/* The first word of valid_zones: the zone an online block is in. */
static int hp_block_zone(int block, char *buf, size_t len)
{
	char zones[256];
	size_t n;
	int ret;

	ret = hp_block_read(block, "valid_zones", zones, sizeof(zones));
	if (ret)
		return ret;
	n = strcspn(zones, " \n");
	if (n >= len)
		n = len - 1;
	memcpy(buf, zones, n);
	buf[n] = '\0';
	return 0;
}

static bool hp_block_is(int block, const char *state)
{
	char now[64];

	return !hp_block_read(block, "state", now, sizeof(now)) && !strcmp(now, state);
}

static struct hp_block *hp_kept(struct hp_priv *p, uint64_t pfn)
{
	uint64_t b = pfn / p->ppb;
	int k;

	if (b >= HP_MAX_BLOCKNR)
		return NULL;
	k = p->kept_of[b];
	return k ? &p->blk[k - 1] : NULL;
}

/* Seqcount over a block's state: odd while the cycler writes the state file. */
static void hp_blk_begin(struct hp_block *b)
{
	__atomic_fetch_add(&b->seq, 1, __ATOMIC_ACQ_REL);
}

static void hp_blk_end(struct hp_block *b, bool offline)
{
	__atomic_store_n(&b->offline, offline, __ATOMIC_RELAXED);
	__atomic_fetch_add(&b->seq, 1, __ATOMIC_RELEASE);
}

static uint64_t hp_blk_read_begin(const struct hp_block *b)
{
	return __atomic_load_n(&b->seq, __ATOMIC_ACQUIRE);
}

/* True when nothing changed since read_begin returned s (and s was stable). */
static bool hp_blk_read_stable(const struct hp_block *b, uint64_t s)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return !(s & 1) && __atomic_load_n(&b->seq, __ATOMIC_ACQUIRE) == s;
}

static unsigned int hp_errno_metric(int err)
{
	switch (err) {
	case EBUSY:
		return M_OFF_EBUSY;
	case EIO:
		return M_OFF_EIO;
	case ENOMEM:
		return M_OFF_ENOMEM;
	case EINVAL:
		return M_OFF_EINVAL;
	case EAGAIN:
		return M_OFF_EAGAIN;
	case ETIME:
		return M_OFF_TIMEOUT;
	default:
		return M_OFF_OTHER;
	}
}

/* nr_memmap_pages + nr_memmap_boot_pages from /proc/vmstat; -1 if the kernel lacks them. */
static long long hp_memmap_pages(void)
{
	static char buf[16384];
	long long sum = 0;
	int found = 0;
	char *s;

	if (mmt_read_file("/proc/vmstat", buf, sizeof(buf)) <= 0)
		return -1;
	for (s = buf; s && *s; s = strchr(s, '\n'), s = s ? s + 1 : NULL) {
		if (!strncmp(s, "nr_memmap_pages ", 16)) {
			sum += strtoll(s + 16, NULL, 10);
			found++;
		} else if (!strncmp(s, "nr_memmap_boot_pages ", 21)) {
			sum += strtoll(s + 21, NULL, 10);
			found++;
		}
	}
	return found ? sum : -1;
}

static uint64_t hp_read_u64(const char *path)
{
	char buf[64];

	return hp_knob_read(path, buf, sizeof(buf)) ? 0 : strtoull(buf, NULL, 10);
}

/*
 * The pool lock serialises the read-modify-writes of nr_hugepages and the HVO sysctl between
 * the cycler (fills) and the pool churn (its own growth and shrink, the phase switch), which
 * are different processes; robust, so that a killed holder does not wedge the other.
 */
static int hp_pool_lock_init(struct hp_priv *p)
{
	pthread_mutexattr_t a;
	int r;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	r = pthread_mutex_init(&p->pool_lock, &a);
	pthread_mutexattr_destroy(&a);
	return -r;
}

static void hp_pool_lock(struct hp_priv *p)
{
	if (pthread_mutex_lock(&p->pool_lock) == EOWNERDEAD)
		pthread_mutex_consistent(&p->pool_lock);
}

static void hp_pool_unlock(struct hp_priv *p)
{
	pthread_mutex_unlock(&p->pool_lock);
}

/* A bounded write: mmt_write_timeout() in setup, the monitor-watched write in the cycler. */
typedef int (*hp_writer_fn)(void *arg, const char *path, const char *value,
			    unsigned int timeout_ms);

static int hp_setup_writer(void *arg, const char *path, const char *value,
			   unsigned int timeout_ms)
{
	(void)arg;
	return mmt_write_timeout(path, value, timeout_ms);
}

/*
 * Put hugetlb pages into a block that just came online into ZONE_MOVABLE: n pages allocated
 * with hugetlb_optimize_vmemmap=0 (cheap to allocate and to dissolve: the fill) and m under
 * the current HVO phase (optimized in an on phase: every offline of the block restores their
 * vmemmap, and the allocation optimized it).  Pool pages are GFP_HIGHUSER_MOVABLE and come
 * from ZONE_MOVABLE first; its free memory right after an online is mostly the new block
 * (the other cycled blocks are filled the same way), so they land in it, and the rest of the
 * machine's movable allocations find no room there to be migrated by the next offline.
 * With node >= 0 (the block's node) the pages are asked of that node: the pool's own growth
 * goes round the nodes, and in a two-node guest most sparse blocks got their page on the
 * other node.  Never grows the pool beyond pool_cap.  The pages the pool grew by.
 */
static uint64_t hp_pool_fill(struct hp_priv *p, hp_writer_fn wr, void *arg, uint64_t n,
			     uint64_t m, int node)
{
	uint64_t now, base, got;
	char buf[32], nodecnt[128];
	const char *cnt = HP_NR_HUGE;
	bool on;

	if (!n && !m)
		return 0;
	if (node >= 0) {
		snprintf(nodecnt, sizeof(nodecnt), HP_NODE_NR_FMT, node);
		cnt = nodecnt;
	}
	hp_pool_lock(p);
	/*
	 * The sysctl itself: in setup (no phase yet) it is already 1 when an on phase comes.
	 * Only a fill of n pages switches it; m pages alone take it as it is (a sparse round).
	 */
	on = n && p->hvo && hp_read_u64(HP_HVO) == 1;
	now = hp_read_u64(HP_NR_HUGE);
	base = node >= 0 ? hp_read_u64(cnt) : now;
	if (now + n + m > p->pool_cap) {
		uint64_t room = p->pool_cap > now ? p->pool_cap - now : 0;

		__atomic_add_fetch(&p->fill_capped, 1, __ATOMIC_RELAXED);
		if (m > room)
			m = room;
		n = room - m < n ? room - m : n;
	}
	if (!on) {
		n += m;
		m = 0;
	}
	if (n) {
		if (on)
			wr(arg, HP_HVO, "0", HP_POOL_TIMEOUT_MS);
		snprintf(buf, sizeof(buf), "%" PRIu64, base + n);
		wr(arg, cnt, buf, HP_POOL_TIMEOUT_MS);
		if (on)
			wr(arg, HP_HVO, "1", HP_POOL_TIMEOUT_MS);
	}
	if (m) {
		/* what base read, unless the n pages moved it */
		snprintf(buf, sizeof(buf), "%" PRIu64, (n ? hp_read_u64(cnt) : base) + m);
		wr(arg, cnt, buf, HP_POOL_TIMEOUT_MS);
	}
	got = hp_read_u64(cnt);
	hp_pool_unlock(p);
	got = got > base ? got - base : 0;
	__atomic_add_fetch(&p->fills, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&p->fill_got, got, __ATOMIC_RELAXED);
	return got;
}

/*
 * The racing roles run niced: offlining waits for per-CPU kworkers (lru_add_drain_all(),
 * drain_all_pages()) on every CPU, and with memory users and readers spinning at nice 0
 * on a 2-CPU machine those waits took most of an offline (stack samples: __flush_work).
 * Niced, they still run whenever a CPU is free, so the race is intact.
 */
#define HP_NICE_RACER	19
#define HP_NICE_CHURN	10

static void hp_nice(int n)
{
	if (n > 19) {
		struct sched_param sp = { 0 };

		/* SCHED_IDLE: runs only when nothing else wants the CPU */
		if (!sched_setscheduler(0, SCHED_IDLE, &sp))
			return;
		n = 19;
	}
	if (setpriority(PRIO_PROCESS, 0, n))
		return;		/* best effort: the run is only slower */
}

/*
 * pin=split: the cycler on the first CPU the run may use, a racing role on the others.  On
 * one CPU they took turns: a reader or memory user ran while the offline waited and the
 * offline ran in the caches it left; split, they run beside each other all the time (2 CPUs
 * here: 1853 and 1926 cycles/s against 1602 and 1634).  Every role starts with the run's
 * CPUs (--cpu-node), so all of them pick the same first CPU.  Best effort: with one CPU,
 * or if sched_setaffinity() fails, the scheduler places them.
 */
static void hp_pin(const struct hp_priv *p, bool cycler)
{
	cpu_set_t set;
	int c, first = -1;

	if (!p->pin_split || sched_getaffinity(0, sizeof(set), &set) || CPU_COUNT(&set) < 2)
		return;
	for (c = 0; c < CPU_SETSIZE && first < 0; c++) {
		if (CPU_ISSET(c, &set))
			first = c;
	}
	if (cycler) {
		CPU_ZERO(&set);
		CPU_SET(first, &set);
	} else {
		CPU_CLR(first, &set);
	}
	sched_setaffinity(0, sizeof(set), &set);
}

/* Present pfn of a virtual address in our own mm, 0 if not present. */
static uint64_t hp_pfn_of(int pm_fd, const void *va)
{
	uint64_t e;

	if (pread(pm_fd, &e, sizeof(e), (off_t)((uintptr_t)va / HP_PAGE * sizeof(e))) !=
	    (ssize_t)sizeof(e))
		return 0;
	return (e & PM_PRESENT) ? (e & PM_PFN_MASK) : 0;
}

static inline uint64_t hp_stamp(uint64_t salt, uint64_t page, uint32_t gen, uint32_t word)
{
	uint64_t x = salt ^ (page << 20) ^ ((uint64_t)gen << 48) ^ word;

	x *= 0x9e3779b97f4a7c15ull;
	return x ^ (x >> 29) ^ 0x5a5a000000000000ull;
}

/* ------------------------------------------------------------------- setup */

static int hp_cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Memory block numbers, ascending; the count or -errno. */
static int hp_list_blocks(int **out)
{
	struct dirent *de;
	int *v = NULL, n = 0, cap = 0;
	DIR *d;

	d = opendir(HP_MEMDIR);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char *end;
		long nr;

		if (strncmp(de->d_name, "memory", 6))
			continue;
		nr = strtol(de->d_name + 6, &end, 10);
		if (end == de->d_name + 6 || *end || nr < 0 || nr > INT32_MAX)
			continue;
		if (n == cap) {
			int *nv = realloc(v, (size_t)(cap ? cap * 2 : 256) * sizeof(*v));

			if (!nv) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
			cap = cap ? cap * 2 : 256;
		}
		v[n++] = (int)nr;
	}
	closedir(d);
	qsort(v, (size_t)n, sizeof(*v), hp_cmp_int);
	*out = v;
	return n;
}

/* Online a block again, retrying for a while: 0 or the last -errno. */
static int hp_online_retry(const struct hp_block *b, uint64_t *lat_ns)
{
	uint64_t t0 = mmt_now_ns(), t;
	char path[128];
	int ret;

	hp_block_path(path, sizeof(path), b->nr, "state");
	for (;;) {
		t = mmt_now_ns();
		ret = mmt_write_timeout(path, b->online_cmd, HP_ONLINE_TIMEOUT_MS);
		if (ret == -EINVAL && strcmp(b->online_cmd, b->home_cmd))
			ret = mmt_write_timeout(path, b->home_cmd, HP_ONLINE_TIMEOUT_MS);
		if (ret == -EINVAL)
			ret = mmt_write_timeout(path, "online", HP_ONLINE_TIMEOUT_MS);
		if (!ret || hp_block_is(b->nr, "online")) {
			if (lat_ns)
				*lat_ns = mmt_now_ns() - t;
			return 0;
		}
		if (mmt_now_ns() - t0 > HP_ONLINE_RETRY_NS)
			return ret;
		usleep(100 * 1000);
	}
}

struct hp_probe_stats {
	int blocks, candidates, probed, kept, timeouts;
	int err[M_OFF_OTHER + 1];
	double secs;
	char kept_list[512];
};

struct hp_cand {
	int nr;
	int rank;
	char zone[16];
};

/* The zone new allocations come from first (Movable, Normal, DMA32, DMA) probes first. */
static int hp_zone_rank(const char *zone)
{
	if (!strcmp(zone, "Movable"))
		return 3;
	if (!strcmp(zone, "Normal"))
		return 2;
	if (!strcmp(zone, "DMA32"))
		return 1;
	return 0;
}

static int hp_cmp_cand(const void *a, const void *b)
{
	const struct hp_cand *x = a, *y = b;

	if (x->rank != y->rank)
		return y->rank - x->rank;
	return x->nr - y->nr;
}

/* Removable online blocks within one zone, in probe order; the count or -errno. */
static int hp_candidates(struct hp_cand **out, int *nr_blocks)
{
	struct hp_cand *c;
	int *nrs = NULL, n, i, nc = 0;
	char val[64];

	n = hp_list_blocks(&nrs);
	if (n < 0)
		return n;
	*nr_blocks = n;
	c = calloc((size_t)n + 1, sizeof(*c));
	if (!c) {
		free(nrs);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		if (nrs[i] >= HP_MAX_BLOCKNR ||
		    hp_block_read(nrs[i], "removable", val, sizeof(val)) || strcmp(val, "1") ||
		    !hp_block_is(nrs[i], "online") ||
		    hp_block_zone(nrs[i], c[nc].zone, sizeof(c[nc].zone)) ||
		    !strcmp(c[nc].zone, "none"))	/* spans zones: offline refuses it */
			continue;
		c[nc].nr = nrs[i];
		c[nc].rank = hp_zone_rank(c[nc].zone);
		nc++;
	}
	free(nrs);
	qsort(c, (size_t)nc, sizeof(*c), hp_cmp_cand);
	*out = c;
	return nc;
}

/* The node of memory block nr (its memoryN/nodeM link), if that node's pool can be set. */
static int hp_block_node(int nr)
{
	char path[128];
	struct dirent *d;
	int node = -1;
	DIR *dir;

	snprintf(path, sizeof(path), HP_MEMDIR "/memory%d", nr);
	dir = opendir(path);
	if (!dir)
		return -1;
	while (node < 0 && (d = readdir(dir))) {
		if (sscanf(d->d_name, "node%d", &node) != 1)
			node = -1;
	}
	closedir(dir);
	if (node >= 0) {
		snprintf(path, sizeof(path), HP_NODE_NR_FMT, node);
		if (access(path, W_OK))
			node = -1;
	}
	return node;
}

/*
 * Probe removable online blocks with a bounded offline attempt, zone by zone (where the
 * allocator puts memory first, so that offlining has something to migrate) and ascending
 * within a zone; keep those that go offline.  Every block is saved before it is touched,
 * so the harness onlines it whatever happens.  MMT_PASS, or MMT_FAIL / MMT_ERROR with the
 * reason set.
 */
static int hp_probe(struct mmt_ctx *ctx, struct hp_priv *p, int want, int budget_s,
		    struct hp_probe_stats *ps)
{
	bool movable = !strcmp(mmt_param_str(ctx, "online_zone"), "movable");
	struct hp_cand *c = NULL;
	struct sigaction old;
	uint64_t deadline, t0;
	int n, i, ret;

	n = hp_candidates(&c, &ps->blocks);
	if (n < 0)
		return mmt_error(ctx, "cannot list %s: %s", HP_MEMDIR, strerror(-n));
	ps->candidates = n;
	ret = hp_alarm_install(&old);
	if (ret) {
		ret = mmt_error(ctx, "sigaction(SIGALRM): %s", strerror(-ret));
		goto out_free;
	}
	t0 = mmt_now_ns();
	deadline = t0 + (uint64_t)budget_s * 1000000000ull;
	for (i = 0; i < n && p->nr_blocks < want && mmt_now_ns() < deadline; i++) {
		struct hp_block *b = &p->blk[p->nr_blocks];
		char path[128], zones[256];
		int r;

		memset(b, 0, sizeof(*b));
		b->nr = c[i].nr;
		snprintf(b->zone, sizeof(b->zone), "%s", c[i].zone);
		snprintf(b->home_cmd, sizeof(b->home_cmd), "%s",
			 strcmp(b->zone, "Movable") ? "online_kernel" : "online_movable");
		memcpy(b->online_cmd, b->home_cmd, sizeof(b->online_cmd));
		memcpy(b->target, b->zone, sizeof(b->target));
		b->node = hp_block_node(b->nr);
		r = mmt_memblock_save(ctx, b->nr);
		if (r == -EBUSY)
			continue;	/* went offline under us: not ours to touch */
		if (r) {
			ret = mmt_error(ctx, "cannot save the state of memory block %d: %s", b->nr,
					strerror(-r));
			goto out_alarm;
		}
		ps->probed++;
		hp_block_path(path, sizeof(path), b->nr, "state");
		r = mmt_write_timeout(path, "offline", (unsigned int)p->timeout_ms);
		if (r) {
			ps->err[hp_errno_metric(-r)]++;
			if (r == -ETIME)
				ps->timeouts++;
			continue;
		}
		if (movable && strcmp(b->zone, "Movable") &&
		    !hp_block_read(b->nr, "valid_zones", zones, sizeof(zones)) &&
		    strstr(zones, "Movable")) {
			snprintf(b->online_cmd, sizeof(b->online_cmd), "online_movable");
			snprintf(b->target, sizeof(b->target), "Movable");
		}
		r = hp_online_retry(b, NULL);
		if (r) {
			ret = mmt_fail_ctx(ctx, "memory block %d went offline in the probe but could not be onlined again (%s): %s",
					   b->nr, b->online_cmd, strerror(-r));
			goto out_alarm;
		}
		if (!strcmp(b->target, "Movable"))
			hp_pool_fill(p, hp_setup_writer, NULL, p->fill_pages, p->hvo_pages, b->node);
		p->kept_of[b->nr] = (int16_t)(p->nr_blocks + 1);
		p->nr_blocks++;
		snprintf(ps->kept_list + strlen(ps->kept_list),
			 sizeof(ps->kept_list) - strlen(ps->kept_list), "%s%d(%s%s%s)",
			 p->nr_blocks > 1 ? " " : "", b->nr, b->zone,
			 strcmp(b->zone, b->target) ? "->" : "",
			 strcmp(b->zone, b->target) ? b->target : "");
	}
	ps->kept = p->nr_blocks;
	ps->secs = (double)(mmt_now_ns() - t0) / 1e9;
	ret = MMT_PASS;
out_alarm:
	sigaction(SIGALRM, &old, NULL);
out_free:
	free(c);
	return ret;
}

static bool hp_ptdump_at(struct hp_priv *p, const char *mnt)
{
	char dir[320];
	struct stat st;

	if ((size_t)snprintf(dir, sizeof(dir), "%s/page_tables", mnt) >= sizeof(p->ptdump_dir) ||
	    stat(dir, &st) || !S_ISDIR(st.st_mode))
		return false;
	snprintf(p->ptdump_dir, sizeof(p->ptdump_dir), "%s", dir);
	return true;
}

/* Find debugfs page_tables/, mounting debugfs for the run if it is not mounted anywhere. */
static void hp_find_ptdump(struct mmt_ctx *ctx, struct hp_priv *p)
{
	char mnt[256], buf[65536], *line, *save = NULL;
	bool mounted = false;
	int ret;

	if (hp_ptdump_at(p, "/sys/kernel/debug"))
		return;
	/* mountinfo: id parent maj:min root mountpoint options ... - fstype source ... */
	if (mmt_read_file("/proc/self/mountinfo", buf, sizeof(buf)) > 0) {
		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			if (!strstr(line, " - debugfs ") ||
			    sscanf(line, "%*s %*s %*s %*s %255s", mnt) != 1)
				continue;
			mounted = true;
			if (hp_ptdump_at(p, mnt))
				return;
		}
	}
	if (mounted) {
		snprintf(p->ptdump_why, sizeof(p->ptdump_why),
			 "ptdump reader: debugfs has no page_tables/ (kernel without CONFIG_PTDUMP_DEBUGFS)");
		return;
	}
	ret = mmt_mount_tmp(ctx, "debugfs", NULL, mnt, sizeof(mnt));
	if (ret) {
		snprintf(p->ptdump_why, sizeof(p->ptdump_why),
			 "ptdump reader: debugfs is not mounted and mounting it failed: %s",
			 strerror(-ret));
		return;
	}
	if (hp_ptdump_at(p, mnt))
		return;
	snprintf(p->ptdump_why, sizeof(p->ptdump_why),
		 "ptdump reader: debugfs has no page_tables/ (kernel without CONFIG_PTDUMP_DEBUGFS)");
}

/*
 * The fills grow a block's own node (hp_pool_fill()): every node's pool is saved as it is,
 * so that each gets its share back, not only the total.  0 or an MMT_ status.
 */
static int hp_save_node_pools(struct mmt_ctx *ctx)
{
	char path[128];
	uint64_t v;
	int node, ret, max = numa_available() < 0 ? 0 : numa_max_node();

	for (node = 0; node <= max; node++) {
		snprintf(path, sizeof(path), HP_NODE_NR_FMT, node);
		if (mmt_knob_read_u64(path, &v))
			continue;
		ret = mmt_knob_write_u64(ctx, path, v);
		if (ret)
			return mmt_error(ctx, "cannot write %s: %s", path, strerror(-ret));
	}
	return 0;
}

static int hp_setup_hugetlb(struct mmt_ctx *ctx, struct hp_priv *p)
{
	const char *mode = mmt_param_str(ctx, "vmemmap");
	int blocks = p->want_blocks;
	uint64_t hvo;
	int ret;

	p->hvo = !mmt_knob_read_u64(HP_HVO, &hvo);
	p->nr_phases = 0;
	if (!strcmp(mode, "both") || !strcmp(mode, "on")) {
		if (p->hvo && !mmt_knob_write(ctx, HP_HVO, "1")) {
			p->phases[p->nr_phases++] = HP_ON;
		} else if (!strcmp(mode, "on")) {
			return mmt_skip(ctx, "vmemmap=on needs %s (CONFIG_HUGETLB_PAGE_OPTIMIZE_VMEMMAP): %s",
					HP_HVO, p->hvo ? "write refused" : "missing");
		} else {
			mmt_note(ctx, "%s missing or refused: only the HVO-off phase runs", HP_HVO);
		}
	}
	if (!strcmp(mode, "both") || !strcmp(mode, "off")) {
		if (p->hvo && !p->nr_phases) {
			ret = mmt_knob_write(ctx, HP_HVO, "0");
			if (ret)
				return mmt_error(ctx, "cannot write %s: %s", HP_HVO,
						 strerror(-ret));
		}
		p->phases[p->nr_phases++] = HP_OFF;
	}

	ret = mmt_knob_read_u64(HP_NR_HUGE, &p->base_pool);
	if (!ret)
		ret = mmt_knob_read_u64(HP_NR_OVER, &p->base_over);
	if (ret)
		return mmt_skip(ctx, "no 2 MiB hugetlb pool in sysfs (%s): %s", HP_HSYS,
				strerror(-ret));
	/* saved now (restored to what they were); the churn rewrites them directly */
	ret = mmt_knob_write_u64(ctx, HP_NR_HUGE, p->base_pool);
	if (!ret)
		ret = mmt_knob_write_u64(ctx, HP_NR_OVER,
					 p->base_over + (uint64_t)p->surplus_pages);
	if (ret)
		return mmt_error(ctx, "cannot write the hugetlb pool knobs: %s", strerror(-ret));
	p->hugetlb_saved = true;
	ret = hp_save_node_pools(ctx);
	if (ret)
		return ret;
	/* the fills of the probe may use it all; set again to the blocks kept afterwards */
	p->pool_cap = p->base_pool + (uint64_t)p->held_pages + (uint64_t)p->pool_pages +
		      (uint64_t)blocks * (p->fill_pages + p->hvo_pages) + p->round_fill;
	p->memmap_stat = hp_memmap_pages() >= 0;

	mode = mmt_param_str(ctx, "rcu_expedited");
	if (strcmp(mode, "keep")) {
		char was[16] = "?", normal[16] = "0";

		mmt_knob_read(HP_RCU_EXP, was, sizeof(was));
		ret = access(HP_RCU_EXP, W_OK) ? -errno :
		      mmt_knob_write(ctx, HP_RCU_EXP, strcmp(mode, "on") ? "0" : "1");
		mmt_knob_read(HP_RCU_NORMAL, normal, sizeof(normal));
		if (ret)
			mmt_note(ctx, "rcu_expedited=%s asked, but %s cannot be written (%s): grace periods as the kernel has them",
				 mode, HP_RCU_EXP, strerror(-ret));
		else
			mmt_note(ctx, "%s=%s for the run (was %s; restored after it)%s", HP_RCU_EXP,
				 strcmp(mode, "on") ? "0" : "1", was,
				 strcmp(normal, "0") ? "; but rcu_normal is set, which overrides it" : "");
	}
	if (!p->memmap_stat)
		mmt_note(ctx, "/proc/vmstat has no nr_memmap_pages (kernel < 6.11): the vmemmap-freed gauges are not measured");
	return MMT_PASS;
}

/*
 * How many blocks to keep cycling: the `blocks` asked for, but no more than the fills of all
 * of them leave half of the memory available at setup (less the blocks the offliners hold
 * offline) to everything else, and at least two per offliner.  On a small machine (a VM with
 * a 1 GiB DIMM) nearly every block is removable, and filling them all with hugetlb pages left
 * the memory users nothing: OOM kills.
 */
static int hp_blocks_wanted(struct mmt_ctx *ctx, const struct hp_priv *p)
{
	int want = (int)mmt_param_int(ctx, "blocks"), fit;
	long long avail_kb = mmt_proc_field_kb("/proc/meminfo", "MemAvailable");
	uint64_t per_kb = (p->fill_pages + p->hvo_pages) * (HP_HPAGE / 1024);
	uint64_t off_kb = (uint64_t)p->offliners * p->ppb * (HP_PAGE / 1024);

	if (avail_kb <= 0 || !per_kb)
		return want;
	fit = (uint64_t)avail_kb / 2 > off_kb ? (int)(((uint64_t)avail_kb / 2 - off_kb) / per_kb) : 0;
	if (fit < 2 * p->offliners)
		fit = 2 * p->offliners;
	if (fit >= want)
		return want;
	mmt_note(ctx, "blocks to cycle: %d of the %d asked for, so that their fills (%" PRIu64 " MiB each) leave half of MemAvailable (%lld MiB, less %d blocks held offline) to the rest",
		 fit, want, per_kb / 1024, avail_kb / 1024, p->offliners);
	return fit;
}

static int hp_setup(struct mmt_ctx *ctx)
{
	struct hp_priv *p = mmt_priv(ctx);
	struct hp_probe_stats ps = { 0 };
	uint64_t bsz;
	char buf[64];
	int *nrs = NULL, n, ret, i;

	ret = mmt_knob_read(HP_MEMDIR "/block_size_bytes", buf, sizeof(buf));
	if (ret)
		return mmt_skip(ctx, "no memory hotplug: %s/block_size_bytes: %s", HP_MEMDIR,
				strerror(-ret));
	bsz = strtoull(buf, NULL, 16);
	if (bsz < HP_HPAGE || bsz % HP_HPAGE)
		return mmt_error(ctx, "odd memory block size %s", buf);
	p->ppb = bsz / HP_PAGE;
	n = hp_list_blocks(&nrs);
	if (n <= 0)
		return mmt_skip(ctx, "no memory blocks under %s", HP_MEMDIR);
	p->max_pfn = ((uint64_t)nrs[n - 1] + 1) * p->ppb;
	free(nrs);

	p->timeout_ms = (int)mmt_param_int(ctx, "offline_timeout_ms");
	p->pool_pages = (int)mmt_param_int(ctx, "pool_pages");
	p->surplus_pages = (int)mmt_param_int(ctx, "surplus_pages");
	p->held_pages = (int)mmt_param_int(ctx, "held_pages");
	p->offliners = (int)mmt_param_int(ctx, "offliners");
	if (!p->offliners) {
		/*
		 * The offline path is one CPU-bound thread in the kernel plus kworkers (LRU
		 * and per-cpu drains); more offliners than CPUs only took CPU from it: on 2
		 * CPUs, 2 offliners cycled 758 blocks/s, 4 cycled 549 (no migration rounds).
		 */
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

		p->offliners = ncpu < 1 ? 1 : ncpu > 4 ? 4 : (int)ncpu;
	}
	p->light_pages = (uint64_t)mmt_param_int(ctx, "light_pages");
	p->migrate_every = (int)mmt_param_int(ctx, "migrate_every");
	p->sparse = !strcmp(mmt_param_str(ctx, "layout"), "sparse");
	p->anchors = (int)mmt_param_int(ctx, "anchors");
	p->anchor_ns = (uint64_t)mmt_param_int(ctx, "anchor_ms") * 1000000ull;
	p->round_pages = (int)mmt_param_int(ctx, "round_pages");
	p->hvo_round_ns = (uint64_t)mmt_param_int(ctx, "hvo_round_ms") * 1000000ull;
	p->churn_ns = (uint64_t)mmt_param_int(ctx, "churn_ms") * 1000000ull;
	p->sample_ns = (uint64_t)mmt_param_int(ctx, "sample_ms") * 1000000ull;
	p->racer_nice = (int)mmt_param_int(ctx, "racer_nice");
	p->pin_split = !strcmp(mmt_param_str(ctx, "pin"), "split");
	p->fake_fail = !strcmp(mmt_param_str(ctx, "fake_heads"), "fail");
	p->user_size = mmt_param_size(ctx, "user_size") & ~(HP_CHUNK_PAGES * HP_PAGE - 1);
	p->chunk = (uint64_t)mmt_param_int(ctx, "memmap_chunk");
	if (p->chunk > p->ppb)
		p->chunk = p->ppb;
	p->duration_ns = (uint64_t)(mmt_duration(ctx) * 1e9);
	p->warmup_ns = (uint64_t)(mmt_warmup(ctx) * 1e9);
	p->salt = mmt_now_ns() * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
	p->fill_pages = (uint64_t)mmt_param_int(ctx, "fill_pages");
	p->hvo_pages = (uint64_t)mmt_param_int(ctx, "hvo_pages");
	p->heavy_room = (uint64_t)mmt_param_int(ctx, "heavy_room");
	if (p->fill_pages + p->hvo_pages > p->ppb / (HP_HPAGE / HP_PAGE))
		return mmt_error(ctx, "fill_pages + hvo_pages (%" PRIu64 ") exceed the 2 MiB pages of a block (%" PRIu64 ")",
				 p->fill_pages + p->hvo_pages, p->ppb / (HP_HPAGE / HP_PAGE));
	p->round_top = !strcmp(mmt_param_str(ctx, "round_place"), "top");
	if (p->sparse && p->round_pages && p->round_top) {
		uint64_t slots = p->ppb / (HP_HPAGE / HP_PAGE);

		/* two 2 MiB slots stay free: a zone left only 2 MiB refused the fault (watermark) */
		p->round_fill = slots > p->hvo_pages + 2 ? slots - p->hvo_pages - 2 : 0;
	}
	if (access("/proc/kpageflags", R_OK) || access("/proc/kpagecount", R_OK))
		return mmt_skip(ctx, "/proc/kpageflags or /proc/kpagecount not readable");
	ret = hp_pool_lock_init(p);
	if (ret)
		return mmt_error(ctx, "pthread_mutex_init (pool lock): %s", strerror(-ret));
	p->want_blocks = hp_blocks_wanted(ctx, p);
	/* before the probe: the pool knobs are saved first, and the probe fills the blocks */
	ret = hp_setup_hugetlb(ctx, p);
	if (ret != MMT_PASS)
		return ret;

	ret = hp_probe(ctx, p, p->want_blocks,
		       (int)mmt_param_int(ctx, "probe_s"), &ps);
	if (ret != MMT_PASS)
		return ret;
	mmt_note(ctx, "block probe: %d blocks, %d removable and online in one zone, %d probed in %.1f s (zones Movable, Normal, DMA32, DMA in turn; budget %lld s, cap %lld kept); kept %d: %s",
		 ps.blocks, ps.candidates, ps.probed, ps.secs, mmt_param_int(ctx, "probe_s"),
		 (long long)p->want_blocks, ps.kept, ps.kept ? ps.kept_list : "none");
	mmt_note(ctx, "block probe refusals: EBUSY %d, EIO %d, ENOMEM %d, EINVAL %d, EAGAIN %d, timeout (%d ms) %d, other %d",
		 ps.err[M_OFF_EBUSY], ps.err[M_OFF_EIO], ps.err[M_OFF_ENOMEM],
		 ps.err[M_OFF_EINVAL], ps.err[M_OFF_EAGAIN], p->timeout_ms,
		 ps.err[M_OFF_TIMEOUT], ps.err[M_OFF_OTHER]);
	if (!p->nr_blocks)
		return mmt_skip(ctx, "no removable memory block went offline within the probe (%d probed in %.1f s)",
				ps.probed, ps.secs);
	for (i = 0; i < p->nr_blocks; i++) {
		if (!hp_block_is(p->blk[i].nr, "online"))
			return mmt_error(ctx, "memory block %d is not online after the probe",
					 p->blk[i].nr);
	}

	p->pool_cap = p->base_pool + (uint64_t)p->held_pages + (uint64_t)p->pool_pages +
		      (uint64_t)p->nr_blocks * (p->fill_pages + p->hvo_pages) + p->round_fill;
	hp_find_ptdump(ctx, p);
	return MMT_PASS;
}

/* ------------------------------------------------------------------ cycler */

/*
 * The cycler is one process with `offliners` threads, each offlining and onlining its own
 * blocks (a block belongs to one thread from its pick until it is online again), and one
 * monitor thread.  The kernel serializes the state writes themselves (device_hotplug_lock,
 * taken by trylock: a writer that finds it held sleeps 5 ms and restarts the syscall), so
 * the offliners take turns for the writes (hp_state_write()) and overlap everything around
 * them - picking and reading the next block, filling the last one onlined; "lock" in the
 * stack samples is then only another process's hotplug write.
 *
 * The monitor bounds every write (it interrupts it with SIGALRM to the writing thread, no
 * SA_RESTART, when its timeout passes or, for offlines, as soon as the run is stopping; a
 * signal meant for an earlier write is told apart by a generation) and samples the kernel
 * stack of every thread with an offline in flight (/proc/self/task/TID/stack, every
 * sample_ms): each sample is put down to one cause, so the record says where offline
 * time goes.
 */
enum { HP_WHY_TIMEOUT = 1, HP_WHY_STOP };

#define HP_LOOKAHEAD	4

struct hp_cyc;

struct hp_off {
	struct hp_cyc *cy;
	int idx;
	pid_t tid;		/* the offliner thread */
	uint64_t gen;		/* bumped per watched write */
	uint64_t deadline;	/* 0: no write in flight */
	uint32_t stoppable;	/* an offline: interrupted when the run stops */
	uint64_t fired_gen;	/* the write the monitor interrupted */
	int fired_why;
	uint64_t round;
	pthread_t th;
	int rc;
	int kfd;		/* /proc/kpageflags */
	int vfd;		/* /proc/vmstat (layout=sparse) */
	uint64_t pgmig;		/* its pgmigrate_success after the last offline */
	char *rbuf;		/* round_pages: the ring (layout=sparse), or NULL */
	int pmfd;		/* /proc/self/pagemap for it */
	uint64_t rnext;		/* its next free slot */
	uint64_t rfirst;	/* this round's first slot */
	uint32_t rgen;		/* bumped per round: in the stamps */
	uint64_t rused;		/* this round's slots written */
	uint64_t rmask;		/* those that landed in the block */
	uint64_t rpfn[HP_ROUND_MAX];	/* and where each one was */
	int rnode;		/* the node its thread policy prefers for them, -1: as it was */
	int pol_mode;		/* the thread's memory policy before */
	unsigned long pol_mask[16];
	uint64_t *fl;		/* one block of flags */
	uint64_t onlines;	/* fills made: every migrate_every-th is a half one */
	uint64_t t[HP_T_NR];	/* where its time went (ns) */
};

struct hp_cyc {
	struct mmt_worker *w;
	struct hp_priv *p;
	pthread_mutex_t lock;	/* picks, and the worker slot (one writer at a time) */
	pthread_mutex_t wlock;	/* state writes: one at a time (see hp_state_write) */
	int rr;
	uint8_t busy[HP_MAX_KEEP];
	int nr_off;
	int quit;		/* the monitor */
	int failed;		/* an offliner failed: the others stop too */
	struct hp_off off[HP_MAX_OFF];
};

static void hp_cyc_add(struct hp_cyc *cy, unsigned int m, uint64_t n)
{
	pthread_mutex_lock(&cy->lock);
	mmt_add(cy->w, m, n);
	pthread_mutex_unlock(&cy->lock);
}

/* Which part of offlining a kernel stack of the offlining thread is in. */
static unsigned int hp_stack_cause(const char *s)
{
	if (strstr(s, "hugetlb_vmemmap") || strstr(s, "vmemmap_remap"))
		return strstr(s, "synchronize_rcu") || strstr(s, "wait_rcu_gp") ?
		       M_ST_HVO_RCU : M_ST_HVO_REMAP;
	if (strstr(s, "hugetlb"))
		return M_ST_HUGETLB;
	if (strstr(s, "migrate") || strstr(s, "folio_mc_copy"))
		return M_ST_MIGRATE;
	/* 6.12's slab notifier flushes every cache's per-CPU slabs (flush_all_cpus_locked) */
	if (strstr(s, "lru_add_drain") || strstr(s, "lru_cache_disable") ||
	    strstr(s, "drain_all_pages") || strstr(s, "zone_pcp") ||
	    strstr(s, "synchronize_rcu_expedited") || strstr(s, "flush_work") ||
	    strstr(s, "flush_all_cpus") || strstr(s, "slab_mem_going_offline"))
		return M_ST_DRAIN;
	if (strstr(s, "isolate") || strstr(s, "scan_movable_pages") ||
	    strstr(s, "unmovable"))
		return M_ST_ISOLATE;
	if (strstr(s, "lock_device_hotplug") || strstr(s, "mem_hotplug_begin") ||
	    strstr(s, "percpu_down_write"))
		return M_ST_LOCK;
	return M_ST_OTHER;
}

/* Count the innermost function of a sample in the published table (monitor only). */
static void hp_leaf_count(struct hp_priv *p, const char *s)
{
	char fn[HP_LEAF_LEN];
	const char *a = strchr(s, ']');
	size_t n;
	int i;

	if (!a)
		return;
	a += strspn(a + 1, " ") + 1;
	n = strcspn(a, "+\n");
	if (!n)
		return;
	if (n >= sizeof(fn))
		n = sizeof(fn) - 1;
	memcpy(fn, a, n);
	fn[n] = '\0';
	for (i = 0; i < HP_NR_LEAF && p->leaf[i].name[0]; i++) {
		if (!strcmp(p->leaf[i].name, fn)) {
			__atomic_add_fetch(&p->leaf[i].count, 1, __ATOMIC_RELAXED);
			return;
		}
	}
	if (i < HP_NR_LEAF) {
		memcpy(p->leaf[i].name, fn, n + 1);
		__atomic_store_n(&p->leaf[i].count, 1, __ATOMIC_RELEASE);
	}
}

static void hp_sample(struct hp_cyc *cy, struct hp_off *o)
{
	char path[64], buf[4096];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stack", (int)o->tid);
	n = mmt_read_file(path, buf, sizeof(buf));
	/* the write may have ended while we read: drop the sample */
	if (n < 0 || !__atomic_load_n(&o->deadline, __ATOMIC_ACQUIRE))
		return;
	if (n == 0) {		/* no stack to show (running on the other CPU) */
		hp_cyc_add(cy, M_ST_OTHER, 1);
		return;
	}
	hp_cyc_add(cy, hp_stack_cause(buf), 1);
	hp_leaf_count(cy->p, buf);
}

static void *hp_monitor(void *arg)
{
	struct hp_cyc *cy = arg;
	sigset_t set;
	int i;

	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	while (!__atomic_load_n(&cy->quit, __ATOMIC_ACQUIRE)) {
		for (i = 0; i < cy->nr_off; i++) {
			struct hp_off *o = &cy->off[i];
			uint64_t g = __atomic_load_n(&o->gen, __ATOMIC_ACQUIRE);
			uint64_t d = __atomic_load_n(&o->deadline, __ATOMIC_ACQUIRE);
			bool stop;

			if (!d)
				continue;
			stop = __atomic_load_n(&o->stoppable, __ATOMIC_RELAXED) &&
			       (!mmt_running(cy->w) ||
				__atomic_load_n(&cy->failed, __ATOMIC_RELAXED));
			if (mmt_now_ns() >= d || stop) {
				if (__atomic_load_n(&o->fired_gen, __ATOMIC_RELAXED) == g &&
				    mmt_now_ns() < d + 20000000ull)
					continue;	/* already fired; again every 20 ms */
				__atomic_store_n(&o->fired_why, stop ? HP_WHY_STOP : HP_WHY_TIMEOUT,
						 __ATOMIC_RELAXED);
				__atomic_store_n(&o->fired_gen, g, __ATOMIC_RELEASE);
				syscall(SYS_tgkill, getpid(), o->tid, SIGALRM);
				continue;
			}
			if (o->stoppable)
				hp_sample(cy, o);
		}
		usleep((useconds_t)(cy->p->sample_ns / 1000));
	}
	return NULL;
}

/* 0, -ETIME (timed out), -ECANCELED (the run is stopping) or -errno. */
static int hp_write_watched(struct hp_off *o, const char *path, const char *value,
			    unsigned int timeout_ms, bool stoppable)
{
	size_t len = strlen(value);
	bool cached = false;
	uint64_t gen;
	ssize_t n;
	int fd, ret;

	fd = hp_fd(path);
	if (fd < 0)
		fd = open(path, O_WRONLY | O_CLOEXEC);
	else
		cached = true;
	if (fd < 0)
		return -errno;
	__atomic_store_n(&o->stoppable, stoppable, __ATOMIC_RELAXED);
	gen = __atomic_add_fetch(&o->gen, 1, __ATOMIC_ACQ_REL);
	__atomic_store_n(&o->deadline, mmt_now_ns() + (uint64_t)timeout_ms * 1000000ull,
			 __ATOMIC_RELEASE);
	for (;;) {
		n = pwrite(fd, value, len, 0);
		ret = n < 0 ? -errno : (size_t)n == len ? 0 : -EIO;
		if (ret != -EINTR)
			break;
		if (__atomic_load_n(&o->fired_gen, __ATOMIC_ACQUIRE) == gen) {
			ret = __atomic_load_n(&o->fired_why, __ATOMIC_RELAXED) == HP_WHY_STOP ?
			      -ECANCELED : -ETIME;
			break;
		}
		/* a signal meant for an earlier write: try again */
	}
	__atomic_store_n(&o->deadline, 0, __ATOMIC_RELEASE);
	if (!cached)
		close(fd);
	return ret;
}

static int hp_cyc_writer(void *arg, const char *path, const char *value,
			 unsigned int timeout_ms)
{
	return hp_write_watched(arg, path, value, timeout_ms, false);
}

/*
 * A block state write, one at a time.  The kernel takes device_hotplug_lock for each by
 * trylock, and a writer that finds it held sleeps 5 ms and restarts the syscall
 * (lock_device_hotplug_sysfs()): with two offliners writing at once, half the stack samples
 * were that sleep.  Serialised here, the offliners still overlap everything else (picking and
 * reading the next block, filling the last one onlined with hugetlb pages).  *wait_ns: time
 * spent waiting for the other writer.
 */
static int hp_state_write(struct hp_off *o, const char *path, const char *value,
			  unsigned int timeout_ms, bool stoppable, uint64_t *lat_ns)
{
	uint64_t t, w;
	int r;

	t = mmt_now_ns();
	pthread_mutex_lock(&o->cy->wlock);
	w = mmt_now_ns();
	o->t[HP_T_WAIT] += w - t;
	r = hp_write_watched(o, path, value, timeout_ms, stoppable);
	t = mmt_now_ns() - w;
	o->t[stoppable ? HP_T_OFFLINE : HP_T_ONLINE] += t;
	if (lat_ns)
		*lat_ns = t;
	pthread_mutex_unlock(&o->cy->wlock);
	return r;
}

/* Online a block again from an offliner thread, retrying for a while: 0 or -errno. */
static int hp_online_watched(struct hp_off *o, const struct hp_block *b, uint64_t *lat_ns)
{
	uint64_t t0 = mmt_now_ns(), t = 0;
	char path[128];
	int ret;

	hp_block_path(path, sizeof(path), b->nr, "state");
	for (;;) {
		ret = hp_state_write(o, path, b->online_cmd, HP_ONLINE_TIMEOUT_MS, false, &t);
		if (ret == -EINVAL && strcmp(b->online_cmd, b->home_cmd))
			ret = hp_state_write(o, path, b->home_cmd, HP_ONLINE_TIMEOUT_MS, false, &t);
		if (ret == -EINVAL)
			ret = hp_state_write(o, path, "online", HP_ONLINE_TIMEOUT_MS, false, &t);
		if (!ret || hp_block_is(b->nr, "online")) {
			if (lat_ns)
				*lat_ns = t;
			return 0;
		}
		if (mmt_now_ns() - t0 > HP_ONLINE_RETRY_NS)
			return ret;
		usleep(100 * 1000);
	}
}

/* What a block holds just before it goes offline (one read of its kpageflags). */
struct hp_content {
	uint64_t huge;		/* 2 MiB hugetlb pages (aligned heads) */
	uint64_t lru;		/* 4 KiB LRU pages outside hugetlb pages: migrated one by one */
	uint64_t inuse;		/* of the hugetlb pages, mapped ones (KPF_MMAP): migrated */
	uint64_t hvo;		/* of the hugetlb pages, vmemmap-optimized ones (see below) */
	bool known;
};

#define KPF_LRU		5
#define KPF_MMAP	11
#define KPF_HUGE_TAIL_MASK ((1ull << KPF_HUGE) | (1ull << KPF_COMPOUND_HEAD))

/*
 * Read it 2 MiB slot by slot: a slot's first entry tells a hugetlb head (mapped or not), its
 * 65th whether the page's memmap is optimized, and with lru set the slots that are not
 * hugetlb pages are read whole to count their LRU pages.  kpageflags costs about 120 ns per
 * entry here: a block's 32768 entries are 4 ms of CPU, its 64 slot heads 21 us.
 */
static void hp_block_content(struct hp_off *o, const struct hp_block *b, struct hp_content *c,
			     bool lru)
{
	struct hp_priv *p = o->cy->p;
	const uint64_t slot = HP_HPAGE / HP_PAGE;
	uint64_t base = (uint64_t)b->nr * p->ppb, s, i, tail;
	const size_t one = sizeof(uint64_t);

	memset(c, 0, sizeof(*c));
	if (o->kfd < 0)
		return;
	for (s = 0; s + slot <= p->ppb; s += slot) {
		uint64_t *fl = o->fl + s;

		if (pread(o->kfd, fl, one, (off_t)((base + s) * one)) != (ssize_t)one)
			return;
		if ((fl[0] & KPF_HUGE_TAIL_MASK) == KPF_HUGE_TAIL_MASK) {
			c->huge++;
			/*
			 * An optimized page's memmap tail is remapped onto its first memmap
			 * page, so its subpage 64 reads like the head (the 6.17+ "fake head";
			 * on older kernels kpageflags hides it, and this counts nothing).
			 */
			if (pread(o->kfd, &tail, one, (off_t)((base + s + 64) * one)) ==
			    (ssize_t)one && (tail & KPF_HUGE_TAIL_MASK) == KPF_HUGE_TAIL_MASK)
				c->hvo++;
			/* mapped (kpagecount would say the same, one more read per page) */
			if (fl[0] & (1ull << KPF_MMAP))
				c->inuse++;
			continue;
		}
		if (!lru)
			continue;
		if (pread(o->kfd, fl, slot * one, (off_t)((base + s) * one)) !=
		    (ssize_t)(slot * one))
			return;
		for (i = 0; i < slot; i++) {
			if (!(fl[i] & (1ull << KPF_HUGE)) && (fl[i] & (1ull << KPF_LRU)))
				c->lru++;
		}
	}
	c->known = true;
}

/*
 * Pick the next block for this offliner: round-robin over online blocks no other thread
 * owns, looking at up to HP_LOOKAHEAD of them for one that fits the round: every round
 * wants hugetlb pages in the block; light rounds want only free ones (dissolved, not copied)
 * and under light_pages LRU pages, migration rounds (every migrate_every-th) a block with data
 * to copy: light_pages LRU pages or more, or a mapped hugetlb page.  A mapped hugetlb page
 * costs an offline about 10 ms (a new page allocated and optimized, the old one restored,
 * 2 MiB copied) against under 1 ms for a block of free ones, and the state writes are one
 * at a time, so light rounds that met them were what held the cycle rate down.  The last
 * one looked at is taken when none fits.  The block index, or -1 when all are taken.
 */
static int hp_pick(struct hp_off *o, struct hp_content *c)
{
	struct hp_cyc *cy = o->cy;
	struct hp_priv *p = cy->p;
	bool mig = p->migrate_every && o->round % (uint64_t)p->migrate_every == 0;
	int tries, k = -1, i;

	for (tries = 0; tries < HP_LOOKAHEAD; tries++) {
		int got = -1;

		pthread_mutex_lock(&cy->lock);
		for (i = 0; i < p->nr_blocks; i++) {
			int j = (cy->rr + i) % p->nr_blocks;

			if (cy->busy[j] || j == k ||
			    __atomic_load_n(&p->blk[j].dropped, __ATOMIC_RELAXED))
				continue;
			got = j;
			cy->busy[j] = 1;
			cy->rr = (j + 1) % p->nr_blocks;
			break;
		}
		if (got >= 0 && k >= 0)
			cy->busy[k] = 0;	/* the one looked at before did not fit */
		pthread_mutex_unlock(&cy->lock);
		if (got < 0)
			break;
		k = got;
		hp_block_content(o, &p->blk[k], c, true);
		if (!c->known)
			break;
		if (c->huge && (mig ? c->lru >= p->light_pages || c->inuse :
				       c->lru < p->light_pages && !c->inuse))
			break;
	}
	o->round++;
	return k;
}

static void hp_release(struct hp_off *o, int k)
{
	pthread_mutex_lock(&o->cy->lock);
	o->cy->busy[k] = 0;
	pthread_mutex_unlock(&o->cy->lock);
}

static void hp_cause_account(struct hp_priv *p, int cause, uint64_t ns)
{
	__atomic_add_fetch(&p->cause[cause].n, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&p->cause[cause].ns, ns, __ATOMIC_RELAXED);
}

/* Record a successful offline's latency under each cause that applies. */
static void hp_offline_account(struct hp_off *o, const struct hp_content *c, uint64_t t)
{
	struct hp_cyc *cy = o->cy;
	struct hp_priv *p = cy->p;
	uint32_t ph = __atomic_load_n(&p->cur_phase, __ATOMIC_RELAXED);
	unsigned int mig;

	pthread_mutex_lock(&cy->lock);
	mmt_latency(cy->w, M_OFF_LAT, t);
	if (ph == HP_ON + 1)
		mmt_latency(cy->w, M_OFF_LAT_ON, t);
	else if (ph == HP_OFF + 1)
		mmt_latency(cy->w, M_OFF_LAT_OFF, t);
	if (c->known) {
		if (!c->huge)
			mmt_latency(cy->w, M_OFF_LAT_NOHUGE, t);
		else if (ph == HP_ON + 1)
			mmt_latency(cy->w, M_OFF_LAT_HUGE_ON, t);
		else if (ph == HP_OFF + 1)
			mmt_latency(cy->w, M_OFF_LAT_HUGE_OFF, t);
		mig = c->lru < 256 ? M_OFF_LAT_MIG0 : c->lru < 4096 ? M_OFF_LAT_MIG1 :
		      M_OFF_LAT_MIG2;
		mmt_latency(cy->w, mig, t);
		mmt_latency(cy->w, c->lru ? M_OFF_LAT_USER : M_OFF_LAT_USER0, t);
		if (c->huge)
			mmt_add(cy->w, M_CYC_HUGE, 1);
	}
	pthread_mutex_unlock(&cy->lock);
	if (!c->known)
		return;
	__atomic_add_fetch(&p->huge_at_offline, c->huge, __ATOMIC_RELAXED);
	__atomic_add_fetch(&p->inuse_at_offline, c->inuse, __ATOMIC_RELAXED);
	__atomic_add_fetch(&p->hvo_at_offline, c->hvo, __ATOMIC_RELAXED);
	if (c->inuse)
		hp_cause_account(p, HP_C_INUSE, t);
	else if (c->huge && c->lru < 256)
		hp_cause_account(p, HP_C_FREE_ONLY, t);
	__atomic_add_fetch(&p->lru_at_offline, c->lru, __ATOMIC_RELAXED);
	if (c->lru)
		__atomic_add_fetch(&p->user_offlines, 1, __ATOMIC_RELAXED);
	hp_cause_account(p, c->lru ? HP_C_USER : HP_C_USER0, t);
	__atomic_add_fetch(&p->offlines_known, 1, __ATOMIC_RELAXED);
	if (ph)
		hp_cause_account(p, (ph == HP_ON + 1 ? HP_C_ON : HP_C_OFF), t);
	if (!c->huge)
		hp_cause_account(p, HP_C_NOHUGE, t);
	else if (ph)	/* no phase yet: the churn has not set the sysctl */
		hp_cause_account(p, ph == HP_ON + 1 ? HP_C_HUGE_ON : HP_C_HUGE_OFF, t);
	hp_cause_account(p, c->lru < 256 ? HP_C_MIG0 : c->lru < 4096 ? HP_C_MIG1 : HP_C_MIG2,
			 t);
}

/* pgmigrate_success from /proc/vmstat (kept open), or 0 */
static uint64_t hp_pgmigrate(int fd)
{
	static const char key[] = "\npgmigrate_success ";
	char buf[8192];
	ssize_t n;
	char *s;

	if (fd < 0)
		return 0;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	s = strstr(buf, key);
	return s ? strtoull(s + sizeof(key) - 1, NULL, 10) : 0;
}

/*
 * layout=sparse: the 4 KiB pages the offline just done migrated, from the pages the kernel
 * migrated since the offline before (the onlines and fills in between migrate nothing;
 * compaction elsewhere would be counted too), less the mapped hugetlb pages it moved.  The
 * blocks are mostly free, and counting their LRU pages from kpageflags beforehand would
 * read all 32768 entries (4 ms) per round.
 */
static uint64_t hp_migrated(struct hp_off *o, const struct hp_content *c)
{
	uint64_t now = hp_pgmigrate(o->vfd), pages = now > o->pgmig ? now - o->pgmig : 0;
	uint64_t huge = c->inuse * (HP_HPAGE / HP_PAGE);

	o->pgmig = now;
	return pages > huge ? pages - huge : 0;
}

/* Offline block k; *done tells whether it went offline.  MMT_PASS or MMT_FAIL. */
static int hp_cycle_offline(struct hp_off *o, int k, struct hp_content *c, bool *done)
{
	struct hp_cyc *cy = o->cy;
	struct hp_priv *p = cy->p;
	struct hp_block *b = &p->blk[k];
	char path[128];
	uint64_t t;
	int r, rc;

	*done = false;
	hp_block_path(path, sizeof(path), b->nr, "state");
	hp_blk_begin(b);
	r = hp_state_write(o, path, "offline", (unsigned int)p->timeout_ms, true, &t);
	if (r == -ECANCELED) {
		*done = hp_block_is(b->nr, "offline");
		hp_blk_end(b, *done);
		return MMT_PASS;	/* the run is stopping: not a refusal */
	}
	if (r) {
		hp_blk_end(b, false);
		hp_cyc_add(cy, hp_errno_metric(-r), 1);
		if (r == -ETIME) {
			__atomic_store_n(&b->dropped, 1, __ATOMIC_RELAXED);
			hp_cyc_add(cy, M_BLOCKS_DROPPED, 1);
		}
		if (!hp_block_is(b->nr, "online") && hp_block_is(b->nr, "offline")) {
			pthread_mutex_lock(&cy->lock);
			rc = mmt_fail(cy->w, "memory block %d: offline failed (%s) yet the block reads offline",
				      b->nr, strerror(-r));
			pthread_mutex_unlock(&cy->lock);
			return rc;
		}
		return MMT_PASS;
	}
	if (!hp_block_is(b->nr, "offline")) {
		hp_blk_end(b, false);
		pthread_mutex_lock(&cy->lock);
		rc = mmt_fail(cy->w, "memory block %d: the write of 'offline' succeeded but the state file does not read offline",
			      b->nr);
		pthread_mutex_unlock(&cy->lock);
		return rc;
	}
	hp_blk_end(b, true);
	if (p->sparse && c->known)
		c->lru = hp_migrated(o, c);
	hp_offline_account(o, c, t);
	*done = true;
	return MMT_PASS;
}

/* What an online puts into a ZONE_MOVABLE block: see hp_cycle_online(). */
enum { HP_FILL_FULL, HP_FILL_ANCHOR, HP_FILL_SPARSE };

/*
 * Online block k, and put hugetlb pages into it if it came into ZONE_MOVABLE: full (every
 * migrate_every-th keeps heavy_room slots free for user data), an anchor (full, every page
 * under the current phase: see hp_offliner_sparse()), or sparse (only hvo_pages, under the
 * current phase).
 */
static int hp_cycle_online(struct hp_off *o, int k, int fill)
{
	struct hp_cyc *cy = o->cy;
	struct hp_block *b = &cy->p->blk[k];
	char zone[16];
	uint64_t lat = 0;
	int r, rc;

	hp_blk_begin(b);
	r = hp_online_watched(o, b, &lat);
	if (r) {
		/* left odd: nobody checks this block any more; the harness onlines it */
		pthread_mutex_lock(&cy->lock);
		rc = mmt_fail(cy->w, "memory block %d went offline but '%s' failed for %llu s: %s (the harness onlines it again after the run)",
			      b->nr, b->online_cmd, HP_ONLINE_RETRY_NS / 1000000000ull,
			      strerror(-r));
		pthread_mutex_unlock(&cy->lock);
		return rc;
	}
	hp_blk_end(b, false);
	pthread_mutex_lock(&cy->lock);
	mmt_latency(cy->w, M_ON_LAT, lat);
	mmt_add(cy->w, M_CYCLES, 1);
	pthread_mutex_unlock(&cy->lock);
	if (!hp_block_zone(b->nr, zone, sizeof(zone)) && strcmp(zone, b->target))
		hp_cyc_add(cy, M_ZONE_CHANGED, 1);
	else if (!strcmp(b->target, "Movable")) {
		struct hp_priv *p = cy->p;
		/* every migrate_every-th block keeps heavy_room: user data lands there */
		bool heavy = fill == HP_FILL_FULL && p->migrate_every &&
			     ++o->onlines % (uint64_t)p->migrate_every == 0;
		/* round_place=top: the round pages go on top of round_fill HVO-off pages */
		uint64_t n = fill == HP_FILL_FULL ? p->fill_pages :
			     fill == HP_FILL_SPARSE && o->rbuf ? p->round_fill : 0, t = mmt_now_ns();
		uint64_t m = fill == HP_FILL_ANCHOR ? p->fill_pages + p->hvo_pages : p->hvo_pages;

		if (heavy)
			n = n > p->heavy_room ? n - p->heavy_room : 0;
		hp_pool_fill(p, hp_cyc_writer, o, n, m, b->node);
		o->t[HP_T_FILL] += mmt_now_ns() - t;
	}
	return MMT_PASS;
}

/*
 * One offliner, pipelined: its block k goes offline while its previous block is still
 * offline, then that one is onlined; so each offliner keeps one block offline most of the
 * time and the memmap readers and memory users get windows in which a block is offline
 * for sure.
 */
static void *hp_offliner(void *arg)
{
	struct hp_off *o = arg;
	struct hp_cyc *cy = o->cy;
	struct mmt_worker *w = cy->w;
	int cur = -1, k, rc = MMT_PASS;
	struct hp_content c;
	bool done;

	o->tid = (pid_t)syscall(SYS_gettid);
	while (mmt_running(w) && !__atomic_load_n(&cy->failed, __ATOMIC_RELAXED)) {
		uint64_t t = mmt_now_ns();

		k = hp_pick(o, &c);
		o->t[HP_T_PICK] += mmt_now_ns() - t;
		if (k < 0) {
			if (cur >= 0) {
				rc = hp_cycle_online(o, cur, HP_FILL_FULL);
				if (rc == MMT_PASS)
					hp_release(o, cur);
				cur = -1;
				if (rc != MMT_PASS)
					break;
			}
			t = mmt_now_ns();
			mmt_sleep(w, 5 * 1000000ull);
			o->t[HP_T_IDLE] += mmt_now_ns() - t;
			continue;
		}
		rc = hp_cycle_offline(o, k, &c, &done);
		if (!done)
			hp_release(o, k);
		if (rc != MMT_PASS)
			break;
		if (cur >= 0) {
			rc = hp_cycle_online(o, cur, HP_FILL_FULL);
			if (rc == MMT_PASS)
				hp_release(o, cur);
			if (rc != MMT_PASS) {
				cur = done ? k : -1;
				break;
			}
		}
		cur = done ? k : -1;
	}
	if (cur >= 0) {
		int r = hp_cycle_online(o, cur, HP_FILL_FULL);

		if (r == MMT_PASS)
			hp_release(o, cur);
		if (rc == MMT_PASS)
			rc = r;
	}
	for (k = 0; k < HP_T_NR; k++)
		__atomic_add_fetch(&cy->p->off_t[k], o->t[k], __ATOMIC_RELAXED);
	if (rc != MMT_PASS)
		__atomic_store_n(&cy->failed, 1, __ATOMIC_RELAXED);
	o->rc = rc;
	return NULL;
}

/*
 * round_pages: right after a sparse fill, write fresh anonymous pages of the ring until
 * p->round_pages of them landed in block k (pagemap says where), at most HP_ROUND_MAX pages
 * a round.  ZONE_MOVABLE's only free memory is then the block just onlined (the anchors are
 * full), but the per-cpu lists may still hold a page from elsewhere (an anchor's few free
 * pages, where an earlier round page was migrated to and freed): the pages that land there
 * stay mapped in the ring too and are checked like the others.  With round_place=top the
 * fill put round_fill free hugetlb pages into all but the block's top 4 MiB (an onlined
 * block's free memory is handed out from its start), so the pages land there, and the
 * offline's walk from the first page it migrates to the block's end (pfn by pfn, free
 * hugetlb pages included: about 17 ns a pfn here) is short; the memory users' refaults wait
 * meanwhile (hp_round_gate_wait()).  Slots are given back only when the ring comes round
 * again.  The cycler's worker slot publishes the round for --inject corrupt.
 */
static void hp_round_place(struct hp_off *o, int k)
{
	struct hp_priv *p = o->cy->p;
	struct mmt_slot *s = o->cy->w->slot;
	uint64_t want = (uint64_t)p->round_pages, base = (uint64_t)p->blk[k].nr * p->ppb, in = 0;
	char *va;

	/* from the block's node: the fault would otherwise take the CPU's own (a guest's DIMM) */
	if (p->blk[k].node >= 0 && p->blk[k].node < 1024 && p->blk[k].node != o->rnode) {
		unsigned long m[16] = { 0 };

		m[p->blk[k].node / 64] = 1ul << (p->blk[k].node % 64);
		if (!set_mempolicy(MPOL_PREFERRED, m, 1024))
			o->rnode = p->blk[k].node;
	}
	if (o->rnext + HP_ROUND_MAX > HP_ROUND_SLOTS)
		o->rnext = 0;
	o->rfirst = o->rnext;
	o->rgen++;
	o->rmask = 0;
	o->rused = 0;
	va = o->rbuf + o->rfirst * HP_PAGE;
	madvise(va, HP_ROUND_MAX * HP_PAGE, MADV_DONTNEED);	/* pages of a round long gone */
	while (in < want && o->rused < HP_ROUND_MAX) {
		uint64_t i = o->rused++, *pg = (uint64_t *)(va + i * HP_PAGE), j;

		for (j = 0; j < HP_PAGE / sizeof(*pg); j += HP_ROUND_STRIDE / sizeof(*pg))
			pg[j] = hp_stamp(p->salt ^ HP_ROUND_SALT, o->rfirst + i, o->rgen, (uint32_t)j);
		o->rpfn[i] = hp_pfn_of(o->pmfd, pg);
		if (o->rpfn[i] >= base && o->rpfn[i] < base + p->ppb) {
			o->rmask |= 1ull << i;
			in++;
		}
	}
	o->rnext += o->rused;
	__atomic_store_n(&s->pub[0], (uint64_t)(uintptr_t)va, __ATOMIC_RELAXED);
	__atomic_store_n(&s->pub[1], o->rused * HP_PAGE, __ATOMIC_RELAXED);
	__atomic_store_n(&s->pub[2], 1, __ATOMIC_RELEASE);
}

/*
 * After block k went offline: every round page that was in it now maps a pfn outside it,
 * and every round page still holds its stamp.  MMT_PASS or MMT_FAIL.
 */
static int hp_round_check(struct hp_off *o, int k)
{
	struct hp_cyc *cy = o->cy;
	struct hp_priv *p = cy->p;
	uint64_t base = (uint64_t)p->blk[k].nr * p->ppb, i, j;
	char *va = o->rbuf + o->rfirst * HP_PAGE;
	int rc;

	for (i = 0; i < o->rused; i++) {
		const uint64_t *pg = (const uint64_t *)(va + i * HP_PAGE);
		uint64_t pfn = hp_pfn_of(o->pmfd, pg);
		bool in = (o->rmask >> i) & 1;

		for (j = 0; j < HP_PAGE / sizeof(*pg); j += HP_ROUND_STRIDE / sizeof(*pg)) {
			uint64_t want = hp_stamp(p->salt ^ HP_ROUND_SALT, o->rfirst + i, o->rgen,
						 (uint32_t)j);

			if (pg[j] == want)
				continue;
			pthread_mutex_lock(&cy->lock);
			rc = mmt_fail(cy->w, "round page %" PRIu64 " (pfn 0x%" PRIx64 " %s memory block %d, 0x%" PRIx64 " after its offline) does not hold its stamp at word %" PRIu64 ": 0x%016" PRIx64 ", want 0x%016" PRIx64 " (%s)",
				      o->rfirst + i, o->rpfn[i], in ? "in" : "outside",
				      p->blk[k].nr, pfn, j, pg[j], want,
				      in ? "data changed by migration" :
				      "data changed while the block went offline");
			pthread_mutex_unlock(&cy->lock);
			return rc;
		}
		if (!in || (pfn && (pfn < base || pfn >= base + p->ppb)))
			continue;
		pthread_mutex_lock(&cy->lock);
		rc = mmt_fail(cy->w, "memory block %d went offline, but round page %" PRIu64 " that was at its pfn 0x%" PRIx64 " %s",
			      p->blk[k].nr, o->rfirst + i, o->rpfn[i],
			      pfn ? "still maps a pfn of it" : "is no longer present");
		pthread_mutex_unlock(&cy->lock);
		return rc;
	}
	if (o->rmask) {
		for (i = 0; i < o->rused; i++) {
			if ((o->rmask >> i) & 1)
				__atomic_add_fetch(&p->round_pos,
						   (o->rpfn[i] - base) * 1000 / p->ppb,
						   __ATOMIC_RELAXED);
		}
		hp_cyc_add(cy, M_ROUND_IN, (uint64_t)__builtin_popcountll(o->rmask));
		hp_cyc_add(cy, M_ROUND_OFF, 1);
	}
	return MMT_PASS;
}

/*
 * layout=sparse, one offliner.  The cycled blocks rest offline; `anchors` of them stay
 * online, full of hugetlb pages, so that ZONE_MOVABLE stays populated and holds no free
 * memory but the block in flight.  A round onlines the next offline block into
 * ZONE_MOVABLE, puts hvo_pages hugetlb pages into it (they can only land there: an
 * onlined block's pages go to the tail of the free lists, and every other block of the
 * zone is full or offline), reads its slot heads and takes it offline again: the vmemmap
 * of an optimized page restored, free pages dissolved, and whatever user data landed in
 * the block while it was online migrated.  A block costs about as much as an empty one to
 * cycle (0.43 ms here against 0.35; a block full of free hugetlb pages 0.85), so the race
 * comes round several times as often.  Every anchor_ms (in an on phase) a round onlines a
 * block and fills it full instead, every page vmemmap-optimized, and the oldest anchor goes
 * offline: a full block with the held, mapped hugetlb pages migrated.  The anchors' optimized
 * pages hold the HVO static key on: when the last optimized page goes, the kernel rewrites
 * every jump label of the key (static_branch_dec()), and that cost 1.7 ms at the fill and
 * 1.9 ms at the offline of each on-phase round here, against 0.08 and 0.25 ms with it held
 * (and TCG guests do not always survive the rewrite).  One thread, because two blocks in
 * flight at once would put the second one's pages into the first (its free pages are ahead
 * in the lists).  Blocks that are online and no anchor (all of them after setup; one whose
 * offline was refused) go offline first, a refused one retried after 100 ms.
 */
static void *hp_offliner_sparse(void *arg)
{
	struct hp_off *o = arg;
	struct hp_cyc *cy = o->cy;
	struct hp_priv *p = cy->p;
	struct mmt_worker *w = cy->w;
	uint8_t online[HP_MAX_KEEP], anchor[HP_MAX_KEEP];
	uint64_t retry[HP_MAX_KEEP] = { 0 }, next_swap, t;
	bool on_phases = false;
	int ring[16], nanch = 0, pos = 0, next = 0, k, i, rc = MMT_PASS;
	/* one block at least is cycled: with fewer blocks than anchors + 1, fewer anchors */
	int want = p->anchors < p->nr_blocks ? p->anchors : p->nr_blocks - 1;
	struct hp_content c;
	bool done;

	o->tid = (pid_t)syscall(SYS_gettid);
	o->rnode = -1;
	if (o->rbuf && get_mempolicy(&o->pol_mode, o->pol_mask, 1024, NULL, 0))
		o->rbuf = NULL;		/* cannot put it back: no round pages */
	o->pgmig = hp_pgmigrate(o->vfd);
	for (i = 0; i < p->nr_phases; i++)
		on_phases |= p->phases[i] == HP_ON;
	for (k = 0; k < p->nr_blocks; k++) {
		online[k] = hp_block_is(p->blk[k].nr, "online");
		anchor[k] = online[k] && nanch < want;
		if (anchor[k])
			ring[nanch++] = k;
	}
	next_swap = mmt_now_ns();	/* the first on phase: the keeper */
	while (mmt_running(w) && !__atomic_load_n(&cy->failed, __ATOMIC_RELAXED)) {
		uint64_t now = mmt_now_ns();
		bool swap = false;
		bool placed = false;
		int b = -1;

		for (k = 0; k < p->nr_blocks; k++) {
			if (online[k] && !anchor[k] && retry[k] <= now &&
			    !__atomic_load_n(&p->blk[k].dropped, __ATOMIC_RELAXED))
				break;
		}
		if (k == p->nr_blocks) {
			for (i = 0; i < p->nr_blocks && b < 0; i++) {
				int j = (next + i) % p->nr_blocks;

				if (!online[j] && !__atomic_load_n(&p->blk[j].dropped, __ATOMIC_RELAXED))
					b = j;
			}
			if (b < 0) {
				mmt_sleep(w, 5 * 1000000ull);
				o->t[HP_T_IDLE] += mmt_now_ns() - now;
				continue;
			}
			next = (b + 1) % p->nr_blocks;
			swap = nanch && p->anchor_ns && now >= next_swap &&
			       (!on_phases || __atomic_load_n(&p->cur_phase, __ATOMIC_RELAXED) == HP_ON + 1);
			if (!swap && o->rbuf && p->round_fill)
				__atomic_store_n(&p->round_gate, 1, __ATOMIC_RELEASE);
			rc = hp_cycle_online(o, b, swap ? HP_FILL_ANCHOR : HP_FILL_SPARSE);
			if (rc != MMT_PASS)
				break;
			online[b] = 1;
			k = b;
			placed = !swap && o->rbuf;
			if (placed) {
				t = mmt_now_ns();
				hp_round_place(o, b);
				__atomic_store_n(&p->round_gate, 0, __ATOMIC_RELEASE);
				o->t[HP_T_FILL] += mmt_now_ns() - t;
			}
			if (swap) {
				k = ring[pos];
				anchor[k] = 0;
				anchor[b] = 1;
				ring[pos] = b;
				pos = (pos + 1) % nanch;
				next_swap = mmt_now_ns() + p->anchor_ns;
			}
		}
		t = mmt_now_ns();
		hp_block_content(o, &p->blk[k], &c, false);
		o->t[HP_T_PICK] += mmt_now_ns() - t;
		rc = hp_cycle_offline(o, k, &c, &done);
		if (rc != MMT_PASS)
			break;
		if (placed && done) {
			rc = hp_round_check(o, k);
			if (rc != MMT_PASS)
				break;
		}
		if (done)
			online[k] = 0;
		else
			retry[k] = mmt_now_ns() + 100 * 1000000ull;
	}
	__atomic_store_n(&p->round_gate, 0, __ATOMIC_RELEASE);
	if (o->rnode >= 0)	/* the thread's policy as it was */
		set_mempolicy(o->pol_mode, o->pol_mask, 1024);
	for (k = 0; k < HP_T_NR; k++)
		__atomic_add_fetch(&p->off_t[k], o->t[k], __ATOMIC_RELAXED);
	if (rc != MMT_PASS)
		__atomic_store_n(&cy->failed, 1, __ATOMIC_RELAXED);
	o->rc = rc;
	return NULL;
}

static int hp_role_cycler(struct mmt_worker *w)
{
	struct hp_priv *p = w->priv;
	struct hp_cyc *cy;
	struct sigaction old;
	pthread_t mon;
	uint64_t t0;
	int i, r, rc = MMT_PASS, started = 0;

	cy = calloc(1, sizeof(*cy));
	if (!cy)
		return mmt_werror(w, "out of memory");
	cy->w = w;
	cy->p = p;
	hp_fds_open();
	hp_pin(p, true);
	/*
	 * At most a quarter of the cycled blocks offline at once (each offliner keeps one
	 * offline while it takes the next): in a 4 GiB VM with 10 blocks, 4 offliners left
	 * 6 online for the fills and the memory users, and every offline migrated their data.
	 */
	cy->nr_off = p->offliners < (p->nr_blocks + 3) / 4 ? p->offliners : (p->nr_blocks + 3) / 4;
	if (p->sparse)
		cy->nr_off = 1;
	p->offliners_run = cy->nr_off;
	for (i = 0; i < cy->nr_off; i++)	/* an early exit closes only what was opened */
		cy->off[i].kfd = cy->off[i].vfd = cy->off[i].pmfd = -1;
	pthread_mutex_init(&cy->lock, NULL);
	pthread_mutex_init(&cy->wlock, NULL);
	if (hp_alarm_install(&old)) {
		rc = mmt_werror(w, "sigaction(SIGALRM): %s", strerror(errno));
		goto out_free;
	}
	for (i = 0; i < cy->nr_off; i++) {
		struct hp_off *o = &cy->off[i];

		o->cy = cy;
		o->idx = i;
		o->round = (uint64_t)i;		/* offliners start on different round kinds */
		o->kfd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
		if (p->sparse)
			o->vfd = open("/proc/vmstat", O_RDONLY | O_CLOEXEC);
		if (p->sparse && p->round_pages) {
			o->pmfd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
			o->rbuf = mmap(NULL, (size_t)HP_ROUND_SLOTS * HP_PAGE, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
			if (o->rbuf == MAP_FAILED)
				o->rbuf = NULL;
			if (o->pmfd < 0 || !o->rbuf) {
				rc = mmt_werror(w, "round_pages: %s: %s",
						o->pmfd < 0 ? "open /proc/self/pagemap" : "mmap of the ring",
						strerror(errno));
				goto out_threads;
			}
			madvise(o->rbuf, (size_t)HP_ROUND_SLOTS * HP_PAGE, MADV_NOHUGEPAGE);
		}
		o->fl = malloc(p->ppb * sizeof(*o->fl));
		if (!o->fl) {
			rc = mmt_werror(w, "out of memory");
			goto out_threads;
		}
	}
	r = pthread_create(&mon, NULL, hp_monitor, cy);
	if (r) {
		rc = mmt_werror(w, "pthread_create (monitor): %s", strerror(r));
		goto out_threads;
	}
	t0 = mmt_now_ns();
	for (i = 0; i < cy->nr_off; i++, started++) {
		r = pthread_create(&cy->off[i].th, NULL, p->sparse ? hp_offliner_sparse : hp_offliner,
				   &cy->off[i]);
		if (r) {
			__atomic_store_n(&cy->failed, 1, __ATOMIC_RELAXED);
			rc = mmt_werror(w, "pthread_create (offliner): %s", strerror(r));
			break;
		}
	}
	for (i = 0; i < started; i++) {
		pthread_join(cy->off[i].th, NULL);
		if (rc == MMT_PASS && cy->off[i].rc != MMT_PASS)
			rc = cy->off[i].rc;
	}
	p->off_wall = mmt_now_ns() - t0;
	__atomic_store_n(&cy->quit, 1, __ATOMIC_RELEASE);
	pthread_join(mon, NULL);
out_threads:
	for (i = 0; i < cy->nr_off; i++) {
		if (cy->off[i].kfd >= 0)
			close(cy->off[i].kfd);
		if (cy->off[i].vfd >= 0)
			close(cy->off[i].vfd);
		free(cy->off[i].fl);
		if (cy->off[i].pmfd >= 0)
			close(cy->off[i].pmfd);
		if (cy->off[i].rbuf)
			munmap(cy->off[i].rbuf, (size_t)HP_ROUND_SLOTS * HP_PAGE);
	}
	sigaction(SIGALRM, &old, NULL);
out_free:
	pthread_mutex_destroy(&cy->lock);
	pthread_mutex_destroy(&cy->wlock);
	free(cy);
	hp_fds_close();
	return rc;
}


/* ------------------------------------------------------------- pool churn */

struct hp_churn {
	struct hp_priv *p;
	int fd;			/* hugetlbfs memfd */
	int pm_fd;		/* /proc/self/pagemap */
	char *map;
	uint64_t held;		/* pages in the file and mapped */
	uint32_t gen;
	uint64_t pfn[HP_MAX_HOLD];
	uint64_t rnd;
	struct hp_phase *ph;	/* NULL: not measuring */
	int kfd;		/* long-held pages: memfd, mapping, count, pfns */
	char *kmap;
	uint64_t kept;
	uint64_t extra;		/* pool pages the churn added (the cycler's fills aside) */
	uint64_t kpfn[512];
};

static void hp_churn_account(struct mmt_worker *w, struct hp_churn *c, bool alloc,
			     uint64_t pages, uint64_t ns, long long mm0, long long mm1)
{
	mmt_add(w, alloc ? M_HUGE_ALLOC : M_HUGE_FREE, pages);
	if (!c->ph || !pages)
		return;
	if (alloc) {
		c->ph->alloc_pages += pages;
		c->ph->alloc_ns += ns;
		if (mm0 >= 0 && mm1 >= 0) {
			c->ph->memmap_freed += mm0 - mm1;
			c->ph->memmap_hpages += pages;
		}
	} else {
		c->ph->free_pages += pages;
		c->ph->free_ns += ns;
	}
}

/* Verify one stamped hugetlb page (three words); count it if it moved. */
static int hp_huge_check(struct mmt_worker *w, struct hp_churn *c, const char *what,
			 char *base, uint64_t i, uint64_t salt, uint32_t gen, uint64_t *pfn_was)
{
	static const uint32_t words[3] = { 0, HP_HPAGE / 16, HP_HPAGE / 8 - 1 };
	uint64_t *pg = (uint64_t *)(base + i * HP_HPAGE);
	uint64_t pfn = hp_pfn_of(c->pm_fd, pg);
	int j;

	if (pfn && *pfn_was && pfn != *pfn_was)
		mmt_add(w, M_HUGE_MIGRATED, 1);
	for (j = 0; j < 3; j++) {
		uint64_t want = hp_stamp(salt, i, gen, words[j]);

		if (pg[words[j]] == want)
			continue;
		return mmt_fail(w, "%s hugetlb page %" PRIu64 " (file offset %#" PRIx64 ", pfn %#" PRIx64 ", was %#" PRIx64 ") word %u: expected %#" PRIx64 ", found %#" PRIx64 "%s",
				what, i, i * HP_HPAGE, pfn, *pfn_was, words[j], want, pg[words[j]],
				pg[words[j]] ? "" : " (zero: data lost)");
	}
	if (pfn)
		*pfn_was = pfn;
	return MMT_PASS;
}

static void hp_huge_stamp(char *base, uint64_t i, uint64_t salt, uint32_t gen)
{
	uint64_t *pg = (uint64_t *)(base + i * HP_HPAGE);

	pg[0] = hp_stamp(salt, i, gen, 0);
	pg[HP_HPAGE / 16] = hp_stamp(salt, i, gen, HP_HPAGE / 16);
	pg[HP_HPAGE / 8 - 1] = hp_stamp(salt, i, gen, HP_HPAGE / 8 - 1);
}

static uint64_t hp_nr_total(void)
{
	return hp_read_u64(HP_NR_HUGE) + hp_read_u64(HP_SURP_HUGE);
}

/* Verify the held pages' stamps, unmap and truncate: frees surplus pages to the buddy. */
static int hp_churn_release(struct mmt_worker *w, struct hp_churn *c)
{
	struct hp_priv *p = c->p;
	uint64_t i, t, tot0, tot1;
	int ret = MMT_PASS;

	for (i = 0; i < c->held && ret == MMT_PASS; i++)
		ret = hp_huge_check(w, c, "held", c->map, i, p->salt ^ 0xa11ceull, c->gen,
				    &c->pfn[i]);
	if (c->map) {
		munmap(c->map, c->held * HP_HPAGE);
		c->map = NULL;
	}
	tot0 = hp_nr_total();
	t = mmt_now_ns();
	if (ftruncate(c->fd, 0) && ret == MMT_PASS)
		ret = mmt_werror(w, "ftruncate of the hugetlbfs file: %s", strerror(errno));
	t = mmt_now_ns() - t;
	tot1 = hp_nr_total();
	if (c->held && tot0 > tot1)
		hp_churn_account(w, c, false, tot0 - tot1, t, -1, -1);
	c->held = 0;
	return ret;
}

static int hp_churn_resize_step(struct mmt_worker *w, struct hp_churn *c, int64_t delta);

/*
 * Grow or shrink the churn's own share of the pool (c->extra) to target, in steps of at most
 * HP_POOL_STEP pages, each a read-modify-write of nr_hugepages under the pool lock (the
 * cycler grows the pool too, to fill the blocks it onlines).  The kernel allocates a pool
 * growth as one batch and, with HVO on, optimizes the whole batch (one synchronize_rcu())
 * before any of it reaches the free list; an offline that meets one of those pages spins in
 * dissolve_free_hugetlb_folio() until then.  Growing 64 pages at once stalled offlines for
 * over a second (stack samples); small steps keep that window short.
 */
static int hp_churn_resize(struct mmt_worker *w, struct hp_churn *c, uint64_t target)
{
	int rc = MMT_PASS;

	while (rc == MMT_PASS && c->extra != target && mmt_running(w)) {
		uint64_t before = c->extra;
		int64_t d = (int64_t)target - (int64_t)c->extra;

		if (d > HP_POOL_STEP)
			d = HP_POOL_STEP;
		if (d < -HP_POOL_STEP)
			d = -HP_POOL_STEP;
		rc = hp_churn_resize_step(w, c, d);
		if (c->extra == before)
			break;		/* no progress (no memory): the next round tries again */
	}
	return rc;
}

static int hp_churn_resize_step(struct mmt_worker *w, struct hp_churn *c, int64_t delta)
{
	uint64_t tot0, tot1, t, now, got;
	long long mm0, mm1;
	int r;

	hp_pool_lock(c->p);
	now = hp_read_u64(HP_NR_HUGE);
	if (delta < 0 && (uint64_t)-delta > now)
		delta = -(int64_t)now;
	if (delta > 0 && now + (uint64_t)delta > c->p->pool_cap)
		delta = c->p->pool_cap > now ? (int64_t)(c->p->pool_cap - now) : 0;
	tot0 = hp_nr_total();
	mm0 = c->p->memmap_stat ? hp_memmap_pages() : -1;
	t = mmt_now_ns();
	r = hp_write_u64_bounded(HP_NR_HUGE, (uint64_t)((int64_t)now + delta), HP_POOL_TIMEOUT_MS);
	t = mmt_now_ns() - t;
	mm1 = c->p->memmap_stat ? hp_memmap_pages() : -1;
	tot1 = hp_nr_total();
	got = hp_read_u64(HP_NR_HUGE);
	hp_pool_unlock(c->p);
	if (r && r != -ETIME && r != -ENOMEM)
		return mmt_werror(w, "write %" PRId64 " to %s: %s", (int64_t)now + delta,
				  HP_NR_HUGE, strerror(-r));
	/*
	 * The share is what the churn asked for: an offline dissolving the cycler's fill
	 * meanwhile lowers nr_hugepages too, and must not be taken for the churn's pages
	 * (it would grow them back, optimized in an on phase, where the fill should go).
	 * A grow that got fewer pages than asked (no memory) credits what it got.
	 */
	if (delta > 0)
		c->extra += got > now ? (got - now < (uint64_t)delta ? got - now : (uint64_t)delta) : 0;
	else
		c->extra = c->extra > (uint64_t)-delta ? c->extra - (uint64_t)-delta : 0;
	if (tot1 > tot0)
		hp_churn_account(w, c, true, tot1 - tot0, t, mm0, mm1);
	else if (tot0 > tot1)
		hp_churn_account(w, c, false, tot0 - tot1, t, -1, -1);
	return MMT_PASS;
}

/*
 * Fill the file with `want` pages (free pool pages first, then surplus pages from the buddy
 * allocator), map them and stamp them; they stay held until the next release.
 */
static int hp_churn_hold(struct mmt_worker *w, struct hp_churn *c, uint64_t want)
{
	struct hp_priv *p = c->p;
	uint64_t s0, s1, t, i;
	long long mm0, mm1;
	struct stat st;
	int r = 0;

	if (!want)
		return MMT_PASS;
	if (want > HP_MAX_HOLD)
		want = HP_MAX_HOLD;
	s0 = hp_read_u64(HP_SURP_HUGE);
	mm0 = p->memmap_stat ? hp_memmap_pages() : -1;
	t = mmt_now_ns();
	if (fallocate(c->fd, 0, 0, (off_t)(want * HP_HPAGE)))
		r = -errno;
	t = mmt_now_ns() - t;
	mm1 = p->memmap_stat ? hp_memmap_pages() : -1;
	s1 = hp_read_u64(HP_SURP_HUGE);
	if (s1 > s0)
		hp_churn_account(w, c, true, s1 - s0, t, mm0, mm1);
	if (r && r != -ENOSPC && r != -ENOMEM && r != -EINTR)
		return mmt_werror(w, "fallocate of %" PRIu64 " hugetlb pages: %s", want,
				  strerror(-r));
	if (fstat(c->fd, &st))
		return mmt_werror(w, "fstat of the hugetlbfs file: %s", strerror(errno));
	c->held = (uint64_t)st.st_blocks * 512 / HP_HPAGE;
	if (c->held > want)
		c->held = want;
	if (!c->held)
		return MMT_PASS;
	/* a failed fallocate leaves i_size short of the pages it added */
	if (ftruncate(c->fd, (off_t)(c->held * HP_HPAGE)))
		return mmt_werror(w, "ftruncate of the hugetlbfs file: %s", strerror(errno));
	c->map = mmap(NULL, c->held * HP_HPAGE, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_NORESERVE, c->fd, 0);
	if (c->map == MAP_FAILED) {
		c->map = NULL;
		return mmt_werror(w, "mmap of %" PRIu64 " held hugetlb pages: %s", c->held,
				  strerror(errno));
	}
	c->gen++;
	for (i = 0; i < c->held; i++) {
		hp_huge_stamp(c->map, i, p->salt ^ 0xa11ceull, c->gen);
		c->pfn[i] = hp_pfn_of(c->pm_fd, c->map + i * HP_HPAGE);
	}
	return MMT_PASS;
}

/*
 * Pages kept mapped and stamped for the whole run: in-use hugetlb pages that offlining has
 * to migrate (allocating a new page, with HVO remapping its memmap, and freeing the old).
 */
static int hp_churn_keep_init(struct mmt_worker *w, struct hp_churn *c)
{
	struct hp_priv *p = c->p;
	struct stat st;
	uint64_t i;
	int rc;

	if (!p->held_pages)
		return MMT_PASS;
	c->kfd = memfd_create("mmt-hotplug-held", MFD_CLOEXEC | MFD_HUGETLB | MFD_HUGE_2MB);
	if (c->kfd < 0)
		return mmt_werror(w, "memfd_create(MFD_HUGETLB): %s", strerror(errno));
	rc = hp_churn_resize(w, c, (uint64_t)p->held_pages);
	if (rc != MMT_PASS)
		return rc;
	if (fallocate(c->kfd, 0, 0, (off_t)((uint64_t)p->held_pages * HP_HPAGE)) &&
	    errno != ENOSPC && errno != ENOMEM)
		return mmt_werror(w, "fallocate of %d held hugetlb pages: %s", p->held_pages,
				  strerror(errno));
	if (fstat(c->kfd, &st))
		return mmt_werror(w, "fstat of the hugetlbfs file: %s", strerror(errno));
	c->kept = (uint64_t)st.st_blocks * 512 / HP_HPAGE;
	if (c->kept > (uint64_t)p->held_pages)
		c->kept = (uint64_t)p->held_pages;
	if (!c->kept)
		return MMT_PASS;
	if (ftruncate(c->kfd, (off_t)(c->kept * HP_HPAGE)))
		return mmt_werror(w, "ftruncate of the hugetlbfs file: %s", strerror(errno));
	c->kmap = mmap(NULL, c->kept * HP_HPAGE, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_NORESERVE, c->kfd, 0);
	if (c->kmap == MAP_FAILED) {
		c->kmap = NULL;
		c->kept = 0;
		return mmt_werror(w, "mmap of the held hugetlb pages: %s", strerror(errno));
	}
	for (i = 0; i < c->kept; i++) {
		hp_huge_stamp(c->kmap, i, p->salt ^ 0xbeefull, 1);
		c->kpfn[i] = hp_pfn_of(c->pm_fd, c->kmap + i * HP_HPAGE);
	}
	return MMT_PASS;
}

static int hp_churn_check_kept(struct mmt_worker *w, struct hp_churn *c)
{
	uint64_t i;
	int rc;

	for (i = 0; i < c->kept; i++) {
		rc = hp_huge_check(w, c, "long-held", c->kmap, i, c->p->salt ^ 0xbeefull, 1,
				   &c->kpfn[i]);
		if (rc != MMT_PASS)
			return rc;
	}
	return MMT_PASS;
}

/* Release everything, shrink to the base pool and set the sysctl for the phase. */
static int hp_churn_enter_phase(struct mmt_worker *w, struct hp_churn *c, int phase)
{
	int rc;

	c->ph = NULL;		/* the switch itself is not measured */
	rc = hp_churn_release(w, c);
	if (rc == MMT_PASS)
		rc = hp_churn_resize(w, c, c->kept);
	if (rc != MMT_PASS)
		return rc;
	hp_pool_lock(c->p);	/* the cycler's fills set the sysctl by the phase */
	if (c->p->hvo) {
		int r = mmt_write_timeout(HP_HVO, phase == HP_ON ? "1" : "0", HP_POOL_TIMEOUT_MS);

		if (r) {
			hp_pool_unlock(c->p);
			return mmt_werror(w, "write of %s: %s", HP_HVO, strerror(-r));
		}
	}
	__atomic_store_n(&c->p->cur_phase, (uint32_t)phase + 1, __ATOMIC_RELAXED);
	hp_pool_unlock(c->p);
	return MMT_PASS;
}

static int hp_role_churn(struct mmt_worker *w)
{
	struct hp_priv *p = w->priv;
	struct hp_churn *c;
	struct sigaction old;
	uint64_t t_start, it = 0, phase_t0 = 0;
	int cur = -1, rc = MMT_PASS, want;

	hp_nice(p->racer_nice < HP_NICE_CHURN ? p->racer_nice : HP_NICE_CHURN);
	hp_pin(p, false);

	c = calloc(1, sizeof(*c));
	if (!c)
		return mmt_werror(w, "out of memory");
	c->p = p;
	c->rnd = w->seed;
	c->kfd = -1;
	if (hp_alarm_install(&old)) {
		rc = mmt_werror(w, "sigaction(SIGALRM): %s", strerror(errno));
		goto out_free;
	}
	c->fd = memfd_create("mmt-hotplug-churn", MFD_CLOEXEC | MFD_HUGETLB | MFD_HUGE_2MB);
	if (c->fd < 0) {
		rc = mmt_werror(w, "memfd_create(MFD_HUGETLB): %s", strerror(errno));
		goto out_free;
	}
	c->pm_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (c->pm_fd < 0) {
		rc = mmt_werror(w, "open /proc/self/pagemap: %s", strerror(errno));
		goto out_memfd;
	}
	rc = hp_churn_keep_init(w, c);
	if (rc != MMT_PASS)
		goto out_kept;
	/*
	 * Phase statistics are the churn's own (pages per second spent allocating or freeing),
	 * so they are kept from the start, warm-up included.  With both phases the sysctl
	 * alternates every hvo_round_ms, so that blocks go offline under both settings all
	 * through the run.
	 */
	t_start = mmt_now_ns();

	while (mmt_running(w) && rc == MMT_PASS) {
		uint64_t now = mmt_now_ns();
		int phase = p->phases[p->nr_phases < 2 ? 0 :
				      ((now - t_start) / p->hvo_round_ns) & 1];
		uint64_t free_now, target;

		if (phase != cur) {
			if (c->ph)
				c->ph->wall_ns += now - phase_t0;
			rc = hp_churn_enter_phase(w, c, phase);
			if (rc != MMT_PASS)
				break;
			cur = phase;
			c->ph = &p->phase[cur];
			c->ph->ran = 1;
			phase_t0 = mmt_now_ns();
		}
		rc = hp_churn_check_kept(w, c);
		if (rc == MMT_PASS)
			rc = hp_churn_release(w, c);
		if (rc != MMT_PASS)
			break;
		target = c->kept + mmt_rand(&c->rnd) % ((uint64_t)p->pool_pages + 1);
		rc = hp_churn_resize(w, c, target);
		if (rc != MMT_PASS)
			break;
		/*
		 * Even rounds take up to pool_pages free pool pages plus surplus ones (fresh
		 * allocations); odd rounds half as many, leaving free pages for offlining to
		 * dissolve.  Not every free page: most of the pool is the cycler's fill, which
		 * light rounds dissolve rather than migrate.
		 */
		free_now = hp_read_u64(HP_FREE_HUGE);
		if (free_now > (uint64_t)p->pool_pages)
			free_now = (uint64_t)p->pool_pages;
		if (it++ & 1)
			want = (int)(free_now / 2);
		else
			want = (int)free_now + (p->surplus_pages ?
				1 + (int)(mmt_rand(&c->rnd) % (uint64_t)p->surplus_pages) : 0);
		hp_pool_lock(p);	/* surplus pages are allocated under the phase's sysctl */
		rc = hp_churn_hold(w, c, (uint64_t)want);
		hp_pool_unlock(p);
		if (rc == MMT_PASS && p->churn_ns)
			mmt_sleep(w, p->churn_ns);
	}
	if (c->ph)
		c->ph->wall_ns += mmt_now_ns() - phase_t0;
	if (rc == MMT_PASS)
		rc = hp_churn_release(w, c);
	else
		hp_churn_release(w, c);
	if (rc == MMT_PASS)
		rc = hp_churn_check_kept(w, c);
out_kept:
	if (c->kmap)
		munmap(c->kmap, c->kept * HP_HPAGE);
	if (c->kfd >= 0)
		close(c->kfd);
	close(c->pm_fd);
out_memfd:
	close(c->fd);
out_free:
	free(c);
	return rc;
}

/* ------------------------------------------------------------ memmap reader */

static int hp_check_chunk(struct mmt_worker *w, struct hp_block *b, bool offline,
			  uint64_t pfn, const uint64_t *fl, const uint64_t *cnt, size_t n)
{
	size_t i;

	/*
	 * An offline pfn has no online page: kpageflags reads KPF_NOPAGE (or 0 on kernels that
	 * report nothing for such pfns, like 6.18), kpagecount 0.
	 */
	for (i = 0; i < n; i++) {
		bool nopage = fl[i] & (1ull << KPF_NOPAGE);

		if (offline && ((fl[i] && fl[i] != (1ull << KPF_NOPAGE)) || cnt[i]))
			return mmt_fail(w, "pfn %#" PRIx64 " of memory block %d, offline for the whole read: kpageflags %#" PRIx64 " (expected KPF_NOPAGE or nothing), kpagecount %" PRIu64 " (expected 0)",
					pfn + i, b->nr, fl[i], cnt[i]);
		if (!offline && nopage)
			return mmt_fail(w, "pfn %#" PRIx64 " of memory block %d, online for the whole read: kpageflags says KPF_NOPAGE (no struct page)",
					pfn + i, b->nr);
	}
	mmt_add(w, offline ? M_NOPAGE_CHECKED : M_ONLINE_CHECKED, n);
	return MMT_PASS;
}

/*
 * A hugetlb head must be aligned to its size (2 MiB pages: 512 pfns, 1 GiB: more).  With
 * HVO the tail part of a huge page's memmap is remapped onto its first memmap page, so the
 * struct pages of tails 64, 128, ... look like the head ("fake heads"); the kernel must not
 * report those as heads.  A FAIL, or counted and published for the record (fake_heads=count).
 */
static int hp_scan_heads(struct mmt_worker *w, const struct hp_block *b, uint64_t pfn,
			 const uint64_t *fl, size_t n, uint64_t *huge_pass)
{
	const uint64_t head = (1ull << KPF_HUGE) | (1ull << KPF_COMPOUND_HEAD);
	struct hp_priv *p = w->priv;
	uint64_t fake = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if ((fl[i] & head) != head)
			continue;
		if (!((pfn + i) & (HP_HPAGE / HP_PAGE - 1))) {
			if (b)
				(*huge_pass)++;
			continue;
		}
		if (p->fake_fail)
			return mmt_fail(w, "/proc/kpageflags reports pfn %#" PRIx64 " (subpage %" PRIu64 " of the 2 MiB page at pfn %#" PRIx64 ") as a hugetlb compound head, flags %#" PRIx64 ": a tail page seen through the vmemmap-optimized memmap (fake head)",
					pfn + i, (pfn + i) & 511, (pfn + i) & ~(uint64_t)511,
					fl[i]);
		if (!fake++ && !w->slot->pub[0]) {
			w->slot->pub[1] = fl[i];
			__atomic_store_n(&w->slot->pub[0], pfn + i, __ATOMIC_RELEASE);
		}
	}
	mmt_add(w, M_FAKE_HEADS, fake);
	return MMT_PASS;
}

struct hp_reader {
	int ffd, cfd;		/* /proc/kpageflags, /proc/kpagecount */
	uint64_t *fl, *cnt;
	uint64_t huge_pass;	/* aligned hugetlb heads in cycled blocks, this rotation */
};

/*
 * Read n pfns of flags and counts from pfn (all within one block) and check them against
 * the block's state if it is a cycled one.  *got: pfns read (0 past the end of memory).
 */
static int hp_memmap_chunk(struct mmt_worker *w, struct hp_reader *r, uint64_t pfn,
			   uint64_t n, bool sweep, size_t *got)
{
	struct hp_priv *p = w->priv;
	struct hp_block *b = hp_kept(p, pfn);
	uint64_t s = 0, dummy = 0;
	ssize_t rf, rcn;
	bool off = false;
	int rc;

	if (b) {
		s = hp_blk_read_begin(b);
		off = __atomic_load_n(&b->offline, __ATOMIC_RELAXED);
	}
	rf = pread(r->ffd, r->fl, n * sizeof(*r->fl), (off_t)(pfn * sizeof(*r->fl)));
	rcn = pread(r->cfd, r->cnt, n * sizeof(*r->cnt), (off_t)(pfn * sizeof(*r->cnt)));
	if (rf < 0 || rcn < 0)
		return mmt_werror(w, "read of /proc/kpage%s at pfn %#" PRIx64 ": %s",
				  rf < 0 ? "flags" : "count", pfn, strerror(errno));
	*got = (size_t)(rf < rcn ? rf : rcn) / sizeof(*r->fl);
	if (b && *got && hp_blk_read_stable(b, s)) {
		rc = hp_check_chunk(w, b, off, pfn, r->fl, r->cnt, *got);
		if (rc != MMT_PASS)
			return rc;
	}
	rc = hp_scan_heads(w, b, pfn, r->fl, *got, sweep ? &dummy : &r->huge_pass);
	if (rc != MMT_PASS)
		return rc;
	mmt_add(w, M_MEMMAP_PFNS, *got);
	return MMT_PASS;
}

/*
 * Alternate between a sweep over the whole pfn range and a walk over the cycled blocks only,
 * so that the blocks going offline and online are read far more often than once a pass.
 */
static int hp_role_memmap(struct mmt_worker *w)
{
	struct hp_priv *p = w->priv;
	struct hp_reader r = { .ffd = -1, .cfd = -1 };
	uint64_t pfn = 0, focus = 0, huge_max = 0;
	bool sweep = true;
	int rc = MMT_PASS;

	hp_nice(p->racer_nice);
	hp_pin(p, false);

	r.fl = malloc(p->chunk * sizeof(*r.fl));
	r.cnt = malloc(p->chunk * sizeof(*r.cnt));
	if (!r.fl || !r.cnt) {
		rc = mmt_werror(w, "out of memory");
		goto out_free;
	}
	r.ffd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	if (r.ffd < 0) {
		rc = mmt_role_skip(w, "memmap reader: /proc/kpageflags: %s", strerror(errno));
		goto out_free;
	}
	r.cfd = open("/proc/kpagecount", O_RDONLY | O_CLOEXEC);
	if (r.cfd < 0) {
		rc = mmt_role_skip(w, "memmap reader: /proc/kpagecount: %s", strerror(errno));
		goto out_flags;
	}
	while (mmt_running(w) && rc == MMT_PASS) {
		uint64_t at, n = p->chunk, in_block;
		size_t got = 0;

		if (sweep) {
			at = pfn;
		} else {
			uint64_t k = (focus / p->ppb) % (uint64_t)p->nr_blocks;

			at = (uint64_t)p->blk[k].nr * p->ppb + focus % p->ppb;
		}
		in_block = p->ppb - at % p->ppb;
		if (n > in_block)
			n = in_block;
		if (sweep && n > p->max_pfn - at)
			n = p->max_pfn - at;
		rc = hp_memmap_chunk(w, &r, at, n, sweep, &got);
		if (!sweep) {
			focus = (focus + n) % (p->ppb * (uint64_t)p->nr_blocks);
			if (!focus) {	/* one rotation over the cycled blocks */
				if (r.huge_pass > huge_max) {
					huge_max = r.huge_pass;
					mmt_gauge_w(w, M_HUGE_IN_CYCLED, (double)huge_max);
				}
				r.huge_pass = 0;
			}
		} else {
			pfn += n;
			if (!got || pfn >= p->max_pfn)
				pfn = 0;
		}
		sweep = !sweep;
	}
	mmt_gauge_w(w, M_HUGE_IN_CYCLED, (double)(r.huge_pass > huge_max ? r.huge_pass : huge_max));
	close(r.cfd);
out_flags:
	close(r.ffd);
out_free:
	free(r.fl);
	free(r.cnt);
	return rc;
}

/* ------------------------------------------------------------ ptdump reader */

static int hp_role_ptdump(struct mmt_worker *w)
{
	struct hp_priv *p = w->priv;
	static const char *const files[] = { "kernel", "current_kernel", "current_user" };
	char path[320], *buf;
	unsigned int f = 0, missing = 0;
	int rc = MMT_PASS;

	hp_nice(p->racer_nice);
	hp_pin(p, false);

	if (!p->ptdump_dir[0])
		return mmt_role_skip(w, "%s", p->ptdump_why);
	buf = malloc(1 << 16);
	if (!buf)
		return mmt_werror(w, "out of memory");
	while (mmt_running(w)) {
		ssize_t n;
		int fd;

		snprintf(path, sizeof(path), "%s/%s", p->ptdump_dir, files[f++ % 3]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT && ++missing < 3)
				continue;
			rc = errno == ENOENT ?
				mmt_role_skip(w, "ptdump reader: no readable file in %s",
					      p->ptdump_dir) :
				mmt_werror(w, "open %s: %s", path, strerror(errno));
			break;
		}
		missing = 0;
		while (mmt_running(w) && (n = read(fd, buf, 1 << 16)) > 0)
			;
		close(fd);
		mmt_add(w, M_PTDUMP, 1);
	}
	free(buf);
	return rc;
}

/* ------------------------------------------------------------- memory user */

struct hp_user {
	struct hp_priv *p;
	uint8_t *mem;
	uint64_t pages;
	uint16_t *gen;
	uint64_t *pfn;		/* pfn at the last scan, 0 unknown */
	uint8_t *was_cycled;	/* the page was seen in a cycled block */
	uint64_t *pm;		/* pagemap scan buffer */
	int pm_fd;
	uint64_t salt;
};

static void hp_user_fill(struct hp_user *u, uint64_t pg)
{
	uint64_t *v = (uint64_t *)(u->mem + pg * HP_PAGE);
	uint32_t i;

	for (i = 0; i < HP_PAGE / 8; i++)
		v[i] = hp_stamp(u->salt, pg, u->gen[pg], i);
}

static int hp_user_check(struct mmt_worker *w, struct hp_user *u, uint64_t pg, bool zero)
{
	const uint64_t *v = (const uint64_t *)(u->mem + pg * HP_PAGE);
	uint32_t i;

	for (i = 0; i < HP_PAGE / 8; i++) {
		uint64_t want = zero ? 0 : hp_stamp(u->salt, pg, u->gen[pg], i);
		uint64_t pfn = u->pfn[pg];
		const char *what;

		if (v[i] == want)
			continue;
		if (zero)
			what = "garbage after MADV_DONTNEED (expected a zero page)";
		else if (!v[i])
			what = "zero (data lost)";
		else if (v[i] == hp_stamp(u->salt, pg, (uint16_t)(u->gen[pg] - 1), i))
			what = "the previous generation (a stale copy)";
		else
			what = "garbage";
		return mmt_fail(w, "memory user %d: page %" PRIu64 " (va %p, last pfn %#" PRIx64 " in block %" PRIu64 "%s) word %u: expected %#" PRIx64 " (generation %u), found %#" PRIx64 ": %s",
				w->index, pg, (void *)v, pfn, pfn / u->p->ppb,
				u->was_cycled[pg] ? ", had been in a cycled block" : "", i, want,
				u->gen[pg], v[i], what);
	}
	return MMT_PASS;
}

/*
 * Read the whole region's pagemap: count pages that moved, and FAIL if a page sits at a pfn
 * of a block that was offline for the whole read.
 */
static int hp_user_scan(struct mmt_worker *w, struct hp_user *u)
{
	struct hp_priv *p = u->p;
	uint64_t seq[HP_MAX_KEEP], off = 0, pg, moved = 0, moved_off = 0;
	size_t want = u->pages * sizeof(uint64_t);
	ssize_t n;
	int k;

	for (k = 0; k < p->nr_blocks; k++) {
		seq[k] = hp_blk_read_begin(&p->blk[k]);
		if (__atomic_load_n(&p->blk[k].offline, __ATOMIC_RELAXED))
			off |= 1ull << k;
	}
	n = pread(u->pm_fd, u->pm, want, (off_t)((uintptr_t)u->mem / HP_PAGE * 8));
	if (n != (ssize_t)want)
		return mmt_werror(w, "read of /proc/self/pagemap: %s",
				  n < 0 ? strerror(errno) : "short read");
	for (k = 0; k < p->nr_blocks; k++) {
		if (!hp_blk_read_stable(&p->blk[k], seq[k]))
			off &= ~(1ull << k);
	}
	for (pg = 0; pg < u->pages; pg++) {
		uint64_t e = u->pm[pg], pfn = e & PM_PFN_MASK;
		struct hp_block *b;

		if (!(e & PM_PRESENT) || !pfn)
			continue;
		b = hp_kept(p, pfn);
		if (b && (off & (1ull << (b - p->blk))))
			return mmt_fail(w, "memory user %d: pagemap maps page %" PRIu64 " (va %p) at pfn %#" PRIx64 " in memory block %d, which was offline for the whole read",
					w->index, pg, (void *)(u->mem + pg * HP_PAGE), pfn,
					b->nr);
		if (u->pfn[pg] && u->pfn[pg] != pfn) {
			moved++;
			if (hp_kept(p, u->pfn[pg]))
				moved_off++;
		}
		if (b)
			u->was_cycled[pg] = 1;
		u->pfn[pg] = pfn;
	}
	mmt_add(w, M_USER_MOVED, moved);
	mmt_add(w, M_USER_MOVED_OFF, moved_off);
	return MMT_PASS;
}

/*
 * round_place=top: a fault while the cycler is between an online and its round pages would
 * land under the fill, at the start of the block, and make the offline walk all of it; the
 * memory users' refaults wait for the round pages (a few hundred us) and then land on top
 * like them.  *end (0 at the start of a refault) bounds the waits of one refault to 20 ms
 * together: a fill that waits long for the pool lock, or a cycler that is gone, only slows
 * the users.
 */
static void hp_round_gate_wait(struct hp_priv *p, uint64_t *end)
{
	while (__atomic_load_n(&p->round_gate, __ATOMIC_ACQUIRE)) {
		if (!*end)
			*end = mmt_now_ns() + 20 * 1000000ull;
		else if (mmt_now_ns() > *end)
			return;
		sched_yield();
	}
}

static int hp_user_step(struct mmt_worker *w, struct hp_user *u, uint64_t chunk, uint64_t *rnd)
{
	uint64_t first = chunk * HP_CHUNK_PAGES, pg;
	bool refault = mmt_rand(rnd) % 16 == 0;
	int rc;

	for (pg = first; pg < first + HP_CHUNK_PAGES; pg++) {
		rc = hp_user_check(w, u, pg, false);
		if (rc != MMT_PASS)
			return rc;
	}
	mmt_add(w, M_USER_VERIFY, HP_CHUNK_PAGES);
	if (refault) {
		uint64_t gate_end = 0;

		/* give the pages back and fault new ones: they may land in an onlined block */
		if (madvise(u->mem + first * HP_PAGE, HP_CHUNK_PAGES * HP_PAGE, MADV_DONTNEED))
			return mmt_werror(w, "madvise(MADV_DONTNEED): %s", strerror(errno));
		for (pg = first; pg < first + HP_CHUNK_PAGES; pg++) {
			rc = hp_user_check(w, u, pg, true);
			if (rc != MMT_PASS)
				return rc;
			u->pfn[pg] = 0;
			u->gen[pg]++;
			hp_round_gate_wait(u->p, &gate_end);
			hp_user_fill(u, pg);
		}
		return MMT_PASS;
	}
	for (pg = first; pg < first + HP_CHUNK_PAGES; pg++) {
		if (mmt_rand(rnd) % 8)
			continue;
		u->gen[pg]++;
		hp_user_fill(u, pg);
	}
	return MMT_PASS;
}

static int hp_role_user(struct mmt_worker *w)
{
	struct hp_priv *p = w->priv;
	uint64_t rnd = w->seed, chunk = 0, nchunks, pg, next_scan, filled;
	struct hp_user u = { .p = p, .pm_fd = -1 };
	int rc = MMT_PASS;

	hp_nice(p->racer_nice);
	hp_pin(p, false);

	u.pages = p->user_size / HP_PAGE;
	u.salt = p->salt ^ ((uint64_t)(w->index + 1) << 32);
	nchunks = u.pages / HP_CHUNK_PAGES;
	u.gen = calloc(u.pages, sizeof(*u.gen));
	u.pfn = calloc(u.pages, sizeof(*u.pfn));
	u.pm = calloc(u.pages, sizeof(*u.pm));
	u.was_cycled = calloc(u.pages, 1);
	if (!u.gen || !u.pfn || !u.pm || !u.was_cycled) {
		rc = mmt_werror(w, "out of memory for %" PRIu64 " pages of bookkeeping", u.pages);
		goto out_free;
	}
	u.pm_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (u.pm_fd < 0) {
		rc = mmt_werror(w, "open /proc/self/pagemap: %s", strerror(errno));
		goto out_free;
	}
	u.mem = mmap(NULL, p->user_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		     -1, 0);
	if (u.mem == MAP_FAILED) {
		rc = mmt_werror(w, "mmap of %" PRIu64 " bytes: %s", p->user_size, strerror(errno));
		goto out_pm;
	}
	madvise(u.mem, p->user_size, MADV_NOHUGEPAGE);	/* 4 KiB pages migrate one by one */
	for (filled = 0; filled < u.pages && mmt_running(w); filled++)
		hp_user_fill(&u, filled);
	w->slot->pub[0] = (uint64_t)(uintptr_t)u.mem;
	w->slot->pub[1] = p->user_size;
	__atomic_store_n(&w->slot->pub[2], 1, __ATOMIC_RELEASE);
	next_scan = mmt_now_ns();
	while (mmt_running(w) && rc == MMT_PASS) {
		if (mmt_now_ns() >= next_scan) {
			rc = hp_user_scan(w, &u);
			next_scan = mmt_now_ns() + HP_SCAN_NS;
			if (rc != MMT_PASS)
				break;
		}
		rc = hp_user_step(w, &u, chunk, &rnd);
		chunk = (chunk + 1) % nchunks;
	}
	/*
	 * A last full sweep: everything offlining migrated must still hold its stamp (only the
	 * pages filled: a run that stopped early, e.g. on another role's failure, may not
	 * have filled them all).
	 */
	for (pg = 0; rc == MMT_PASS && pg < filled; pg++)
		rc = hp_user_check(w, &u, pg, false);
	munmap(u.mem, p->user_size);
out_pm:
	close(u.pm_fd);
out_free:
	free(u.gen);
	free(u.pfn);
	free(u.pm);
	free(u.was_cycled);
	return rc;
}

/* ------------------------------------------------------------------ rogue */

/*
 * --inject corrupt: write garbage words via /proc/PID/mem into the memory users' pages, or
 * with round_pages into the cycler's round pages.
 */
static int hp_role_rogue(struct mmt_worker *w)
{
	const struct hp_priv *p = w->priv;
	/* round_pages: the cycler's round pages, at their stamped words */
	bool round = p->sparse && p->round_pages;
	struct mmt_slot *users;
	uint64_t rnd = w->seed;
	int nr = 0, i;

	users = mmt_role_slots(w->ctx, round ? "cycler" : "memory_user", &nr);
	if (!users || !nr)
		return mmt_role_skip(w, round ? "rogue: no cycler to corrupt" :
				     "rogue: no memory users to corrupt");
	mmt_sleep(w, 500 * 1000000ull);
	while (mmt_running(w)) {
		struct mmt_slot *s;
		char path[64];
		uint64_t off, v;
		int fd;

		i = (int)(mmt_rand(&rnd) % (uint64_t)nr);
		s = &users[i];
		if (!__atomic_load_n(&s->pub[2], __ATOMIC_ACQUIRE)) {
			mmt_sleep(w, 50 * 1000000ull);
			continue;
		}
		off = round ? (mmt_rand(&rnd) % (s->pub[1] / HP_ROUND_STRIDE)) * HP_ROUND_STRIDE :
			(mmt_rand(&rnd) % (s->pub[1] / 8)) * 8;
		v = 0xbadc0ffee0ddf00dull ^ mmt_rand(&rnd);
		snprintf(path, sizeof(path), "/proc/%d/mem", (int)s->pid);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return mmt_werror(w, "rogue: open %s: %s", path, strerror(errno));
		if (pwrite(fd, &v, sizeof(v), (off_t)(s->pub[0] + off)) == (ssize_t)sizeof(v))
			mmt_add(w, M_INJECTED, 1);
		close(fd);
		mmt_sleep(w, 200 * 1000000ull);
	}
	return MMT_PASS;
}

/* ------------------------------------------------------------------ verify */

static uint64_t hp_role_sum(struct mmt_ctx *ctx, const char *role, unsigned int m)
{
	struct mmt_slot *s;
	uint64_t sum = 0;
	int nr = 0, i;

	s = mmt_role_slots(ctx, role, &nr);
	for (i = 0; s && i < nr; i++)
		sum += __atomic_load_n(&s[i].ctr[m], __ATOMIC_RELAXED);
	return sum;
}

static void hp_report_phase(struct mmt_ctx *ctx, struct hp_priv *p, int ph)
{
	const struct hp_phase *f = &p->phase[ph];
	const char *name = ph == HP_ON ? "on" : "off";
	double a = f->alloc_ns ? (double)f->alloc_pages / ((double)f->alloc_ns / 1e9) : 0;
	double fr = f->free_ns ? (double)f->free_pages / ((double)f->free_ns / 1e9) : 0;

	if (!f->ran)
		return;
	if (f->alloc_ns)
		mmt_gauge(ctx, ph == HP_ON ? M_HUGE_ALLOC_ON : M_HUGE_ALLOC_OFF, a);
	if (f->free_ns)
		mmt_gauge(ctx, ph == HP_ON ? M_HUGE_FREE_ON : M_HUGE_FREE_OFF, fr);
	if (f->memmap_hpages)
		mmt_gauge(ctx, ph == HP_ON ? M_VMEMMAP_ON : M_VMEMMAP_OFF,
			  (double)f->memmap_freed / (double)f->memmap_hpages);
	mmt_note(ctx, "HVO %s phase: %.1f s; %" PRIu64 " hugetlb pages allocated in %.1f ms (%.0f pages/s), %" PRIu64 " freed in %.1f ms (%.0f pages/s); memmap pages freed per page allocated: %.2f",
		 name, (double)f->wall_ns / 1e9, f->alloc_pages, (double)f->alloc_ns / 1e6, a,
		 f->free_pages, (double)f->free_ns / 1e6, fr,
		 f->memmap_hpages ? (double)f->memmap_freed / (double)f->memmap_hpages : 0.0);
}

static const char *const hp_cause_name[HP_NR_CAUSES] = {
	[HP_C_ON] = "HVO on", [HP_C_OFF] = "HVO off",
	[HP_C_HUGE_ON] = "hugetlb pages in the block, HVO on",
	[HP_C_HUGE_OFF] = "hugetlb pages in the block, HVO off",
	[HP_C_NOHUGE] = "no hugetlb pages in the block",
	[HP_C_MIG0] = "< 1 MiB to migrate", [HP_C_MIG1] = "1-16 MiB to migrate",
	[HP_C_MIG2] = ">= 16 MiB to migrate",
	[HP_C_FREE_ONLY] = "only free hugetlb pages to dissolve (< 1 MiB LRU)",
	[HP_C_INUSE] = "in-use hugetlb pages to migrate",
	[HP_C_USER0] = "no user page migrated",
	[HP_C_USER] = "user pages migrated (1 or more)",
};

static const char *const hp_stack_name[] = {
	[M_ST_HVO_RCU - M_ST_HVO_RCU] = "hvo_rcu", [M_ST_HVO_REMAP - M_ST_HVO_RCU] = "hvo_remap",
	[M_ST_HUGETLB - M_ST_HVO_RCU] = "hugetlb", [M_ST_MIGRATE - M_ST_HVO_RCU] = "migrate",
	[M_ST_DRAIN - M_ST_HVO_RCU] = "drain", [M_ST_ISOLATE - M_ST_HVO_RCU] = "isolate",
	[M_ST_LOCK - M_ST_HVO_RCU] = "lock", [M_ST_OTHER - M_ST_HVO_RCU] = "other",
};

/*
 * Where the offliners' time went, and how busy the state writes kept the kernel's hotplug
 * lock: the writes are one at a time, so that share bounds the cycle rate.
 */
static void hp_report_offliners(struct mmt_ctx *ctx, const struct hp_priv *p)
{
	static const char *const name[HP_T_NR] = {
		[HP_T_PICK] = "reading kpageflags of the block to offline (layout=full: picking it)",
		[HP_T_WAIT] = "waiting for another offliner's state write",
		[HP_T_OFFLINE] = "writing offline", [HP_T_ONLINE] = "writing online",
		[HP_T_FILL] = "filling the onlined block with hugetlb pages",
		[HP_T_IDLE] = "idle (every block taken)",
	};
	double all = (double)p->off_wall * (double)p->offliners_run;
	char buf[768] = "";
	int i;

	if (!p->off_wall)
		return;
	for (i = 0; i < HP_T_NR; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s %.0f %%",
			 i ? ", " : "", name[i], 100.0 * (double)p->off_t[i] / all);
	mmt_note(ctx, "offliner time (%d threads, %.1f s each, warm-up included): %s; the one-at-a-time state writes kept the hotplug lock busy %.0f %% of the time",
		 p->offliners_run, (double)p->off_wall / 1e9, buf,
		 100.0 * (double)(p->off_t[HP_T_OFFLINE] + p->off_t[HP_T_ONLINE]) /
		 (double)p->off_wall);
}

/* Offline latency per cause, and where the kernel stacks of offlining threads were. */
static void hp_report_causes(struct mmt_ctx *ctx, struct hp_priv *p, uint64_t cycles)
{
	uint64_t st[M_ST_OTHER - M_ST_HVO_RCU + 1], tot = 0, with_huge, known;
	char buf[1536] = "";
	int i, j, best[6], nb = 0;

	for (i = 0; i < HP_NR_CAUSES; i++) {
		if (!p->cause[i].n)
			continue;
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s: %" PRIu64 " x %.1f ms",
			 buf[0] ? "; " : "", hp_cause_name[i], p->cause[i].n,
			 (double)p->cause[i].ns / (double)p->cause[i].n / 1e6);
	}
	if (buf[0])
		mmt_note(ctx, "offline latency by cause (count x mean; block content from kpageflags just before the write): %s",
			 buf);
	known = p->offlines_known;
	with_huge = hp_role_sum(ctx, "cycler", M_CYC_HUGE);
	if (known)
		mmt_note(ctx, "cycled blocks: %" PRIu64 " of %" PRIu64 " successful offlines (%.0f %%) took hugetlb pages offline, %.2f per offline (%.2f in use: migrated; %.2f vmemmap-optimized, as kpageflags shows them: restored); %.0f KiB of LRU pages migrated per offline (mean, user pages in %" PRIu64 " of them, %.0f %%); %" PRIu64 " cycles in all, %d offliners; fills after online: %" PRIu64 ", %.1f pages each, %" PRIu64 " cut by the pool cap",
			 with_huge, known, 100.0 * (double)with_huge / (double)known,
			 (double)p->huge_at_offline / (double)known,
			 (double)p->inuse_at_offline / (double)known,
			 (double)p->hvo_at_offline / (double)known,
			 (double)p->lru_at_offline * 4.0 / (double)known, p->user_offlines,
			 100.0 * (double)p->user_offlines / (double)known, cycles, p->offliners_run,
			 p->fills, p->fills ? (double)p->fill_got / (double)p->fills : 0.0,
			 p->fill_capped);
	if (p->sparse && p->round_pages && known) {
		uint64_t r_off = hp_role_sum(ctx, "cycler", M_ROUND_OFF);
		uint64_t r_in = hp_role_sum(ctx, "cycler", M_ROUND_IN);

		mmt_note(ctx, "round_pages=%d, round_place=%s: %" PRIu64 " of %" PRIu64 " successful offlines (%.0f %%) took the cycler's round pages out of their block (%" PRIu64 " pages, on average %.1f %% into it%s), each one then outside it and holding its stamp",
			 p->round_pages, p->round_top ? "top" : "low", r_off, known,
			 100.0 * (double)r_off / (double)known, r_in,
			 r_in ? (double)p->round_pos / 10.0 / (double)r_in : 0.0,
			 p->round_fill ? ", above the fill's free hugetlb pages" : "");
	}
	hp_report_offliners(ctx, p);
	for (i = 0; i <= M_ST_OTHER - M_ST_HVO_RCU; i++) {
		st[i] = hp_role_sum(ctx, "cycler", (unsigned int)(M_ST_HVO_RCU + i));
		tot += st[i];
	}
	if (!tot)
		return;
	buf[0] = '\0';
	for (i = 0; i <= M_ST_OTHER - M_ST_HVO_RCU; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s %.0f %%",
			 i ? ", " : "", hp_stack_name[i], 100.0 * (double)st[i] / (double)tot);
	mmt_note(ctx, "offline time by kernel stack of the offlining thread (%" PRIu64 " samples of /proc/self/task/TID/stack, %" PRIu64 " ms apart): %s",
		 tot, p->sample_ns / 1000000, buf);
	/* the innermost functions seen most often */
	buf[0] = '\0';
	for (j = 0; j < 6; j++) {
		int b = -1;

		for (i = 0; i < HP_NR_LEAF && p->leaf[i].name[0]; i++) {
			bool taken = false;
			int x;

			for (x = 0; x < nb; x++)
				taken |= best[x] == i;
			if (!taken && (b < 0 || p->leaf[i].count > p->leaf[b].count))
				b = i;
		}
		if (b < 0)
			break;
		best[nb++] = b;
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s %.0f %%",
			 j ? ", " : "", p->leaf[b].name,
			 100.0 * (double)p->leaf[b].count / (double)tot);
	}
	if (buf[0])
		mmt_note(ctx, "innermost kernel functions of those samples: %s", buf);
}

static int hp_verify(struct mmt_ctx *ctx)
{
	struct hp_priv *p = mmt_priv(ctx);
	uint64_t cycles = hp_role_sum(ctx, "cycler", M_CYCLES);
	uint64_t off_chk = hp_role_sum(ctx, "memmap_reader", M_NOPAGE_CHECKED);
	uint64_t on_chk = hp_role_sum(ctx, "memmap_reader", M_ONLINE_CHECKED);
	uint64_t moved = hp_role_sum(ctx, "memory_user", M_USER_MOVED);
	uint64_t moved_off = hp_role_sum(ctx, "memory_user", M_USER_MOVED_OFF);
	uint64_t hmoved = hp_role_sum(ctx, "pool_churn", M_HUGE_MIGRATED);
	uint64_t fake = hp_role_sum(ctx, "memmap_reader", M_FAKE_HEADS);
	struct mmt_slot *rs;
	char dropped[256] = "";
	int k, i, nr = 0;

	for (k = 0; k < p->nr_blocks; k++) {
		if (p->blk[k].dropped)
			snprintf(dropped + strlen(dropped), sizeof(dropped) - strlen(dropped),
				 " %d", p->blk[k].nr);
	}
	for (i = 0; i < p->nr_phases; i++)
		hp_report_phase(ctx, p, p->phases[i]);
	if (dropped[0])
		mmt_note(ctx, "blocks dropped after an offline timeout of %d ms:%s",
			 p->timeout_ms, dropped);
	mmt_note(ctx, "proved: %" PRIu64 " offline+online cycles over %d blocks; %" PRIu64 " memory-user pages found moved (%" PRIu64 " out of a cycled block) and %" PRIu64 " held hugetlb pages moved, all verified intact",
		 cycles, p->nr_blocks, moved, moved_off, hmoved);
	mmt_note(ctx, "proved: memmap readers saw %" PRIu64 " pfns of blocks offline for the whole read, all without page flags (KPF_NOPAGE or 0) and count 0, and %" PRIu64 " pfns of onlined blocks, none KPF_NOPAGE",
		 off_chk, on_chk);
	hp_report_causes(ctx, p, cycles);
	rs = mmt_role_slots(ctx, "memmap_reader", &nr);
	if (fake && rs && nr)
		mmt_note(ctx, "kernel: /proc/kpageflags reported %" PRIu64 " pfns as hugetlb compound heads that are not 2 MiB aligned, e.g. pfn %#" PRIx64 " (subpage %" PRIu64 ", flags %#" PRIx64 "): tail pages of vmemmap-optimized hugetlb pages read through the remapped memmap (fake heads; kernel/bugs/kpageflags-hvo-fake-heads); counted because of -p fake_heads=count",
			 fake, rs[0].pub[0], rs[0].pub[0] & 511, rs[0].pub[1]);
	if (!cycles)
		return mmt_error(ctx, "no block completed an offline+online cycle during the run (%d blocks went offline in the probe; see the offline_fail_* totals)",
				 p->nr_blocks);
	return MMT_PASS;
}

/* ---------------------------------------------------------------- teardown */

/*
 * Put every kept block back into the zone it was in: online it if it was left offline, and
 * offline + online it in its old zone if the cycler moved it to ZONE_MOVABLE.  The harness
 * onlines blocks left offline but does not move zones, so this is the place for it.
 */
static void hp_teardown(struct mmt_ctx *ctx)
{
	struct hp_priv *p = mmt_priv(ctx);
	char zone[16], path[128], left[256] = "";
	int k, rezoned = 0, r = 0;
	struct sigaction old;
	uint64_t deadline;

	if (!p->nr_blocks)
		return;
	/* fewer free hugetlb pages for offlining to dissolve; restore sets it again anyway */
	if (p->hugetlb_saved)
		hp_write_u64_bounded(HP_NR_HUGE, p->base_pool, HP_POOL_TIMEOUT_MS);
	if (hp_alarm_install(&old))
		return;
	for (k = 0; k < p->nr_blocks; k++) {
		struct hp_block home = p->blk[k];

		snprintf(home.online_cmd, sizeof(home.online_cmd), "%s", home.home_cmd);
		snprintf(home.target, sizeof(home.target), "%s", home.zone);
		if (hp_block_is(home.nr, "offline"))
			hp_online_retry(&home, NULL);
		if (hp_block_zone(home.nr, zone, sizeof(zone)) || !strcmp(zone, home.zone))
			continue;
		hp_block_path(path, sizeof(path), home.nr, "state");
		deadline = mmt_now_ns() + 10ull * 1000000000ull;
		while (mmt_now_ns() < deadline) {
			r = mmt_write_timeout(path, "offline", (unsigned int)p->timeout_ms);
			if (!r)
				break;
			usleep(50 * 1000);
		}
		if (!r && !hp_online_retry(&home, NULL) &&
		    !hp_block_zone(home.nr, zone, sizeof(zone)) && !strcmp(zone, home.zone)) {
			rezoned++;
			continue;
		}
		if (hp_block_is(home.nr, "offline"))
			hp_online_retry(p->blk + k, NULL);	/* online somewhere, at least */
		snprintf(left + strlen(left), sizeof(left) - strlen(left), " %d(%s: %s)",
			 home.nr, zone, r ? strerror(-r) : "online refused");
	}
	sigaction(SIGALRM, &old, NULL);
	if (rezoned)
		mmt_note(ctx, "teardown: %d blocks moved back from ZONE_MOVABLE to their own zone",
			 rezoned);
	if (left[0])
		mmt_note(ctx, "teardown: blocks left online in another zone than before the run (offline refused for 10 s):%s",
			 left);
}

static const struct mmt_role hp_roles[] = {
	{ "cycler", hp_role_cycler, MMT_PROCESS, 1, 0 },
	{ "pool_churn", hp_role_churn, MMT_PROCESS, 1, 0 },
	{ "memmap_reader", hp_role_memmap, MMT_PROCESS, 1, 0 },
	{ "ptdump_reader", hp_role_ptdump, MMT_PROCESS, 1, 0 },
	{ "memory_user", hp_role_user, MMT_PROCESS, MMT_SCALED, 0 },
	{ "rogue", hp_role_rogue, MMT_PROCESS, 1, MMT_ROLE_INJECT_CORRUPT },
	{ 0 }
};

static const struct mmt_workload hotplug_vmemmap = {
	.name = "hotplug-vmemmap",
	.summary = "memory blocks offlined/onlined under HugeTLB vmemmap optimization, with memmap readers",
	.suite = "destructive",
	.needs = MMT_NEED_ROOT | MMT_NEED_HOTPLUG | MMT_NEED_HUGETLB | MMT_NEED_DESTRUCTIVE,
	.injects = MMT_INJECT_CORRUPT,
	.default_workers = 2,
	.params = hp_params,
	.metrics = hp_metrics,
	.roles = hp_roles,
	.priv_size = sizeof(struct hp_priv),
	.setup = hp_setup,
	.verify = hp_verify,
	.teardown = hp_teardown,
};

MMT_REGISTER(hotplug_vmemmap);
