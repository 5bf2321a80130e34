// SPDX-License-Identifier: GPL-2.0
/*
 * pte-reclaim - freeing empty user PTE tables after MADV_DONTNEED, against lockless walkers.
 *
 * Kernel path: with CONFIG_PT_RECLAIM (upstream since 6.14; the bundled series for older
 * kernels) madvise(MADV_DONTNEED) over a whole PMD range zaps the PTEs and, when the table is
 * left empty, clears the PMD entry and frees the PTE table (zap_pte_range() ->
 * try_get_and_clear_pmd() / try_to_free_pte(), table freed through the mmu_gather RCU path).
 * Everything that walks page tables without mmap_lock in write mode must cope with the table
 * vanishing under it: GUP-fast (IRQs off, no locks), pte_offset_map() users that revalidate the
 * PMD (faults, pagemap, mincore), and remote GUP.  The region is a sparse anonymous mapping
 * (default 32 GiB, MAP_NORESERVE, MADV_NOHUGEPAGE) with one stamped page per 2 MiB, so every
 * PMD range holds one PTE table with one entry: each zap of a range frees its table.
 *
 * Race partners, all threads of one mm except the last: zappers (MADV_DONTNEED of 1..zap_max
 * whole 2 MiB ranges, often right where a refaulter works, and every full_zap_ms the whole
 * region); refaulters (each owns every n-th range and works on 4 of them at a time, `revisit`
 * times each: check the page, then fault it in and write the next stamp generation, by plain
 * faults or MADV_POPULATE_WRITE); GUP-fast walkers: io_uring buffer registration of stamp pages
 * (pin_user_pages_fast, FOLL_LONGTERM) followed by write_fixed of them into a memfd, O_DIRECT
 * reads from a file of known content into a second page of the range, vmsplice of stamp pages
 * into a pipe read out afterwards; readers of /proc/self/pagemap (pread and PAGEMAP_SCAN) and
 * mincore; and an outside process reading the stamp pages with process_vm_readv and
 * /proc/PID/mem (remote GUP on the threads' mm).
 *
 * Partners for the other walkers the PT_RECLAIM series touches (-p partners=, all by
 * default; each says in the record why it did not run): migrate - move_pages() of stamp pages
 * to the next NUMA node and mbind(MPOL_BIND, MPOL_MF_MOVE_ALL) of 1..8 ranges (migration and
 * its rmap walk with >= 2 nodes; with one node the kernel only walks the tables and moves
 * nothing: noted), alternating with MADV_COLD / MADV_PAGEOUT of 1..64 ranges; collapse -
 * MADV_COLLAPSE of a memfd of 4 ranges mapped twice in this mm (collapse_pte_mapped_thp,
 * retract_page_tables of the other mapping), then a punch-hole-and-rewrite of one page to
 * split the THP again; side_zapper - MADV_DONTNEED of whole ranges of that memfd (shared
 * file data must survive: read back exactly), of the mremap region and of the UFFDIO_MOVE
 * region; uffd_move - UFFDIO_MOVE (6.8+, probed) of 4 stamped tokens between 8 slots of a
 * userfaultfd-registered (write-protect mode, nothing protected) region of 4 ranges; forker -
 * fork() of this mm (copy_page_range), the child checks 32 inherited stamp pages and exits 1
 * with the reason in shared memory; mremap - a region of 4 ranges moved with
 * MREMAP_FIXED | MREMAP_DONTUNMAP between two aligned addresses (whole tables moved) and an
 * unaligned one (move_ptes), checked and restamped after each move; lru_gen - MGLRU aging
 * ("+ memcg node max_gen 1 1" to debugfs lru_gen, force_scan walks this mm) every 20 ms when
 * lru_gen is enabled (debugfs mounted on a temporary directory if it is not).
 *
 * Corruption: a stamp word encodes range, word index, generation and a checksum salted per
 * run; only the range's owner writes it, announcing the generation first; zappers count every
 * zap per range before and after madvise().  The owner then knows (a) if no zap touched the
 * range since its last stamp, the page must hold exactly that stamp; (b) if a whole zap began
 * after the stamp and ended before the check, the refaulted page must read all zero; (c)
 * otherwise every word is zero or the stamp.  Every GUP'd copy (io_uring, vmsplice, remote
 * reads) must hold in each word zero or a stamp of that range, at that word, with a generation
 * that was mapped while the copy was taken; an O_DIRECT read must leave exactly the file's data
 * (only zero words too if a zap raced it).  pagemap and mincore must never show any page of a
 * range present besides its stamp page and its O_DIRECT page.  Anything else - a stamp of
 * another range or generation, foreign bytes - is a FAIL naming range, address, word, expected
 * and found.  The partners check the same way: copies of stamp pages taken after a
 * move_pages / mbind / MADV_COLD / MADV_PAGEOUT / aging, and a fork child's inherited pages,
 * follow the GUP-copy rule; the memfd must read back exactly (the page a punch-hole raced: 0
 * or its data); a page UFFDIO_MOVE moved must hold exactly its token's stamp unless a zap of
 * either range raced (then each word zero or the stamp), and ENOENT without such a zap is a
 * FAIL (ENOENT/EEXIST/EAGAIN/EBUSY, and EINVAL when a zap raced, are counted as lost moves);
 * the mremap region's owner applies rules (a) and (c).  --inject corrupt starts a rogue
 * process that writes another range's stamp words into stamp pages, mostly where the
 * refaulters work, with process_vm_writev.
 *
 * Figures: in setup the parent stamps the whole region, reads VmPTE, zaps the whole region in
 * one call and reads VmPTE again: the fraction of PTE-table memory given back (near 1 with
 * PT_RECLAIM, near 0 without); during the run DONTNEED MiB/s (and GiB/s), refaults/s and
 * GUP-walker ops/s per kind.
 *
 * Needs: nothing beyond Linux; io_uring (the io_uring walker skips without it), a filesystem
 * under /tmp that accepts O_DIRECT (the O_DIRECT walker skips otherwise), ptrace access to a
 * sibling process (root, or yama ptrace_scope 0) for the remote reader; about 128 MiB of memory
 * for the default size (one page plus one PTE table per 2 MiB).  Partners: libnuma and 2 NUMA
 * nodes for real migration; THP and shmem MADV_COLLAPSE (Linux 6.1+); UFFD_FEATURE_MOVE
 * (6.8+); CONFIG_LRU_GEN enabled and debugfs for aging.  Changes no knob, except
 * shmem_enabled never/deny -> advise through the harness state API (restored) on a kernel
 * whose MADV_COLLAPSE of a memfd says EINVAL without it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/falloc.h>
#include <linux/userfaultfd.h>
#include <liburing.h>
#include <numa.h>
#include <numaif.h>

#include "mmt-compat.h"
#include "mmtorture.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

/* UFFDIO_MOVE (Linux 6.8, include/uapi/linux/userfaultfd.h); probed at run time */
#define PR_UFFD_FEATURE_MOVE	(1ull << 16)
struct pr_uffdio_move {
	uint64_t dst;
	uint64_t src;
	uint64_t len;
	uint64_t mode;
	int64_t move;
};
#define PR_UFFDIO_MOVE		_IOWR(UFFDIO, 0x05, struct pr_uffdio_move)


#define PM_PRESENT		(1ull << 63)
#define PM_SWAP			(1ull << 62)

#define THP_PMD_SIZE		"/sys/kernel/mm/transparent_hugepage/hpage_pmd_size"
#define THP_DIR_SHMEM		"/sys/kernel/mm/transparent_hugepage/shmem_enabled"
#define LRU_GEN_ENABLED		"/sys/kernel/mm/lru_gen/enabled"

/* Stamp words: range (20 bits) | word index (9) | generation (24) | checksum (11). */
#define W_RANGE_SHIFT		44
#define W_K_SHIFT		35
#define W_K_MASK		0x1ffu
#define W_GEN_SHIFT		11
#define W_GEN_MASK		0xffffffu
#define W_SUM_MASK		0x7ffull
#define FILE_RANGE		0xfffffu	/* range field of the O_DIRECT file's words */
#define MEMFD_RANGE		0xffffeu	/* the memfd's words; generation = file page */
#define MR_RANGE		0xffff8u	/* + r: range r of the mremap region */
#define UV_RANGE		0xffff0u	/* + t: token t of the UFFDIO_MOVE region */
#define MAX_RANGES		(UV_RANGE - 1)

/* the side regions (partners 2, 3, 5): a few 2 MiB ranges each */
#define SH_NR			4	/* memfd ranges, mapped twice */
#define MR_NR			4	/* mremap region ranges */
#define MR_SKEW			16	/* pages: the third mremap position is not PMD aligned */
#define UV_NR			4	/* UFFDIO_MOVE region ranges: two slots each */
#define UV_TOKENS		4	/* stamp pages moving between the 2 * UV_NR slots */
#define FORK_SAMPLE		32	/* stamp pages a fork child checks */
#define LRU_BUF			(1 << 20)

#define NR_FILE_PAGES		256	/* O_DIRECT file: page j is read into ranges r % 256 == j */
#define BATCH			8	/* stamp pages per io_uring / vmsplice / remote operation */
#define SCAN_RANGES		64	/* ranges per pagemap / mincore call */
#define PIPE_BYTES		(1 << 20)
#define GROUP			4	/* ranges a refaulter works on at a time */

/* slot->pub[] words */
#define PUB_CURSOR		0	/* refaulter: the range it works on */
#define PUB_SWEEPS		1	/* refaulter: sweeps over its ranges */
#define PUB_RUN_NS		2	/* zapper: how long it zapped */
#define PUB_SH_ZAPS		3	/* side_zapper: zaps of the memfd mappings */
#define PUB_MR_ZAPS		4	/* side_zapper: zaps of the mremap region */
#define PUB_UV_ZAPS		5	/* side_zapper: zaps of the UFFDIO_MOVE region */

/* -p partners=: the race partners for other kernel walkers (all on by default) */
enum pr_partner {
	PA_MIGRATE = 1u << 0,
	PA_PAGEOUT = 1u << 1,
	PA_COLLAPSE = 1u << 2,
	PA_UFFD = 1u << 3,
	PA_FORK = 1u << 4,
	PA_MREMAP = 1u << 5,
	PA_LRU_GEN = 1u << 6,
	PA_ALL = (1u << 7) - 1,
};

static const char *const pr_partner_names[] = { "migrate", "pageout", "collapse", "uffd_move",
						"fork", "mremap", "lru_gen" };

enum pr_metric {
	M_DONTNEED,
	M_REFAULTS,
	M_STAMPS,
	M_URING,
	M_DIO,
	M_VMSPLICE,
	M_REMOTE,
	M_PAGEMAP,
	M_MINCORE,
	M_DONTNEED_NS,
	M_FULL_ZAP_NS,
	M_REFAULT_NS,
	M_URING_PIN_NS,
	M_PT_POPULATED_KB,
	M_PT_ZAPPED_KB,
	M_RECLAIMED_FRAC,
	M_DONTNEED_GIB_S,
	M_CHECK_EXACT,
	M_CHECK_ZERO,
	M_CHECK_RACED,
	M_DIO_EXACT,
	M_GUP_RACED,
	M_FULL_ZAPS,
	M_PIN_FAILED,
	M_ROGUE_WRITES,
	M_MIGRATE,
	M_MIGRATED,
	M_MBIND,
	M_PAGEOUT,
	M_COLLAPSE,
	M_COLLAPSE_OK,
	M_SH_SPLITS,
	M_SH_CHECKS,
	M_SIDE_ZAPS,
	M_UFFD_MOVE,
	M_UFFD_EXACT,
	M_UFFD_LOST,
	M_FORKS,
	M_FORK_CHECKS,
	M_MREMAP,
	M_MREMAP_EXACT,
	M_LRU_AGING,
	NR_METRICS
};

static const struct mmt_metric pr_metrics[NR_METRICS + 1] = {
	[M_DONTNEED] = { "dontneed", "MiB/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"address space zapped by MADV_DONTNEED of 1..zap_max whole 2 MiB ranges "
		"(full-region zaps not included)", MMT_METRIC_HEADLINE },
	[M_REFAULTS] = { "refaults", "pages/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"stamp pages found zapped by their owner, faulted in and stamped again", MMT_METRIC_HEADLINE },
	[M_STAMPS] = { "stamps", "pages/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"stamp pages checked and rewritten by their owners" },
	[M_URING] = { "gup_uring", "pages/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"stamp pages pinned by io_uring buffer registration, written out, verified" },
	[M_DIO] = { "gup_odirect", "reads/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"O_DIRECT page reads into the ranges, verified" },
	[M_VMSPLICE] = { "gup_vmsplice", "pages/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"stamp pages vmspliced into a pipe, read out, verified" },
	[M_REMOTE] = { "gup_remote", "pages/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"stamp pages read by another process (process_vm_readv, /proc/PID/mem), verified" },
	[M_PAGEMAP] = { "pagemap", "scans/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"/proc/self/pagemap reads (pread or PAGEMAP_SCAN) of 1..64 ranges, verified" },
	[M_MINCORE] = { "mincore", "scans/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"mincore() calls over 1..64 ranges, verified" },
	[M_DONTNEED_NS] = { "dontneed_ns", "ns", MMT_LATENCY, MMT_BETTER_DEFAULT,
		"one MADV_DONTNEED of 1..zap_max ranges", MMT_METRIC_HEADLINE },
	[M_FULL_ZAP_NS] = { "full_zap_ns", "ns", MMT_LATENCY, MMT_BETTER_DEFAULT,
		"one MADV_DONTNEED of the whole region" },
	[M_REFAULT_NS] = { "refault_ns", "ns", MMT_LATENCY, MMT_BETTER_DEFAULT,
		"owner: check, refault and restamp of a zapped page" },
	[M_URING_PIN_NS] = { "uring_pin_ns", "ns", MMT_LATENCY, MMT_BETTER_DEFAULT,
		"io_uring_register_buffers of 1..8 stamp pages" },
	[M_PT_POPULATED_KB] = { "pagetables_populated_kb", "kB", MMT_GAUGE, MMT_BETTER_NONE,
		"setup: VmPTE of a process with one page per 2 MiB of the region" },
	[M_PT_ZAPPED_KB] = { "pagetables_zapped_kb", "kB", MMT_GAUGE, MMT_BETTER_NONE,
		"setup: VmPTE after one MADV_DONTNEED of the whole region" },
	[M_RECLAIMED_FRAC] = { "reclaimed_fraction", "fraction", MMT_GAUGE, MMT_BETTER_NONE,
		"setup: page-table memory the region added that the full zap gave back" },
	[M_DONTNEED_GIB_S] = { "dontneed_gib_s", "GiB/s", MMT_GAUGE, MMT_BETTER_HIGHER,
		"DONTNEED address-space throughput over the whole run, all zappers" },
	[M_CHECK_EXACT] = { "owner_checks_exact", "checks", MMT_TOTAL, MMT_BETTER_NONE,
		"owner checks with no zap since the stamp: page held exactly the stamp" },
	[M_CHECK_ZERO] = { "owner_checks_zero", "checks", MMT_TOTAL, MMT_BETTER_NONE,
		"owner checks after a whole zap: refaulted page read all zero" },
	[M_CHECK_RACED] = { "owner_checks_raced", "checks", MMT_TOTAL, MMT_BETTER_NONE,
		"owner checks that raced a zap: every word zero or the stamp" },
	[M_DIO_EXACT] = { "odirect_exact", "reads", MMT_TOTAL, MMT_BETTER_NONE,
		"O_DIRECT reads with no zap around them: page held exactly the file data" },
	[M_GUP_RACED] = { "gup_raced", "ops", MMT_TOTAL, MMT_BETTER_NONE,
		"GUP walker operations during which a zap of their range began" },
	[M_FULL_ZAPS] = { "full_zaps", "zaps", MMT_TOTAL, MMT_BETTER_NONE,
		"MADV_DONTNEED of the whole region" },
	[M_PIN_FAILED] = { "pin_failed", "ops", MMT_TOTAL, MMT_BETTER_NONE,
		"io_uring_register_buffers failing with ENOMEM/EAGAIN (operation skipped)" },
	[M_ROGUE_WRITES] = { "rogue_writes", "writes", MMT_TOTAL, MMT_BETTER_NONE,
		"--inject corrupt: foreign stamp words written into stamp pages" },
	[M_MIGRATE] = { "migrate", "pages/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"stamp pages passed to move_pages() (or an mbind(MPOL_MF_MOVE) span), then "
		"copied and verified" },
	[M_MIGRATED] = { "migrated", "pages", MMT_TOTAL, MMT_BETTER_NONE,
		"stamp pages move_pages() put on another NUMA node (0 with one node)" },
	[M_MBIND] = { "mbind_move", "calls", MMT_TOTAL, MMT_BETTER_NONE,
		"mbind(MPOL_BIND, MPOL_MF_MOVE_ALL) of 1..8 ranges, policy reset after" },
	[M_PAGEOUT] = { "pageout", "calls/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"MADV_COLD / MADV_PAGEOUT of 1..64 ranges, stamp pages verified after" },
	[M_COLLAPSE] = { "shmem_collapse", "calls/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"MADV_COLLAPSE of a 2 MiB memfd range being zapped, range verified after" },
	[M_COLLAPSE_OK] = { "shmem_collapse_ok", "calls", MMT_TOTAL, MMT_BETTER_NONE,
		"MADV_COLLAPSE of the memfd returned 0" },
	[M_SH_SPLITS] = { "shmem_splits", "ops", MMT_TOTAL, MMT_BETTER_NONE,
		"punch-hole and rewrite of one memfd page (splits the THP for the next collapse)" },
	[M_SH_CHECKS] = { "shmem_checks", "ranges", MMT_TOTAL, MMT_BETTER_NONE,
		"2 MiB memfd ranges read back exactly (after a zap or a collapse)" },
	[M_SIDE_ZAPS] = { "side_zaps", "zaps/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"MADV_DONTNEED of whole ranges of the memfd, mremap and UFFDIO_MOVE regions" },
	[M_UFFD_MOVE] = { "uffd_move", "moves/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"UFFDIO_MOVE of a stamp page between slots of zapped ranges, page verified" },
	[M_UFFD_EXACT] = { "uffd_move_exact", "moves", MMT_TOTAL, MMT_BETTER_NONE,
		"moves with no zap around them: the moved page held exactly its stamp" },
	[M_UFFD_LOST] = { "uffd_move_lost", "moves", MMT_TOTAL, MMT_BETTER_NONE,
		"UFFDIO_MOVE failing with ENOENT/EEXIST/EAGAIN/EBUSY, or EINVAL as a zap raced" },
	[M_FORKS] = { "forks", "forks/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"fork() of the zapped mm whose child verified 32 inherited stamp pages" },
	[M_FORK_CHECKS] = { "fork_checks", "pages", MMT_TOTAL, MMT_BETTER_NONE,
		"stamp pages fork children verified" },
	[M_MREMAP] = { "mremap", "moves/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"mremap(MREMAP_FIXED) of a zapped region between three addresses, verified" },
	[M_MREMAP_EXACT] = { "mremap_exact", "pages", MMT_TOTAL, MMT_BETTER_NONE,
		"pages checked after a move with no zap since stamped: exactly the stamp" },
	[M_LRU_AGING] = { "lru_gen_aging", "agings/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"MGLRU aging (force_scan) of this memcg through debugfs lru_gen, then verified" },
	{}
};

static const struct mmt_param pr_params[] = {
	{ "size", MMT_P_SIZE, "32g",
	  "address space of the sparse region (MAP_NORESERVE), a multiple of the PMD size",
	  64ll << 20, 1ll << 40, NULL },
	{ "zap_max", MMT_P_INT, "64", "most 2 MiB ranges one partial MADV_DONTNEED covers",
	  1, 4096, NULL },
	{ "full_zap_ms", MMT_P_INT, "250", "ms between zaps of the whole region (0: none)",
	  0, 60000, NULL },
	{ "hot", MMT_P_INT, "80",
	  "percent of zaps and walks aimed at the range a refaulter is working on", 0, 100, NULL },
	{ "revisit", MMT_P_INT, "4",
	  "times a refaulter checks and restamps its current 4 ranges before moving on",
	  1, 100000, NULL },
	{ "partners", MMT_P_STR, "all",
	  "race partners for other walkers, comma-separated: migrate (move_pages, mbind), "
	  "pageout (MADV_COLD/PAGEOUT), collapse (memfd MADV_COLLAPSE), uffd_move, fork, "
	  "mremap, lru_gen (MGLRU aging); or all, none", 0, 0, NULL },
	{}
};

/* Shared private state, written by setup before the workers exist. */
struct pr_priv {
	char *region;		/* PMD-aligned; the same address in every worker */
	uint64_t size;
	uint64_t pmd;		/* bytes per range */
	uint64_t psz;
	uint64_t ppr;		/* pages per range */
	uint64_t words;		/* 64-bit words per page */
	uint64_t nr;		/* ranges */
	uint64_t salt;
	uint64_t *gen;		/* [nr] the owner's current stamp generation (0: none yet) */
	uint32_t *zap_begin;	/* [nr] zaps of the range begun */
	uint32_t *zap_end;	/* [nr] zaps of the range ended */
	void *shared;		/* the MAP_SHARED mapping holding the three arrays */
	size_t shared_len;
	uint64_t zap_max;
	uint64_t hot;
	uint64_t revisit;
	uint64_t full_zap_ns;
	int have_uring;
	int have_dio;
	int have_populate;
	int have_pm_scan;
	int stop;		/* a worker saw corruption or an error: everyone stops */
	char uring_why[160];
	char dio_why[200];
	char dio_path[PATH_MAX];

	unsigned int partners;	/* enum pr_partner */
	/* migrate: NUMA nodes with memory */
	int nr_nodes;
	int nodes[64];
	int max_node;
	/* collapse: a memfd of SH_NR ranges mapped twice, its content kept in sh_tmpl */
	int sh_fd;
	bool sh_ok;
	char *sh_map[2];
	uint64_t *sh_tmpl;
	void *sh_raw;
	size_t sh_raw_len;
	uint32_t sh_punch_begin[SH_NR];	/* punch-hole + rewrite of a page of range i */
	uint32_t sh_punch_end[SH_NR];
	char sh_why[240];
	/* mremap: MR_NR ranges moving between mr_pos[0..2] inside one reservation */
	char *mr_pos[3];
	void *mr_raw;
	size_t mr_raw_len;
	int mr_cur;		/* index into mr_pos of where the region is now */
	uint32_t mr_zap_begin[MR_NR];
	uint32_t mr_zap_end[MR_NR];
	/* UFFDIO_MOVE: UV_NR ranges, registered by the uffd_move role in the host's mm */
	char *uv_region;
	bool uv_ok;
	char uv_why[200];
	uint32_t uv_zap_begin[UV_NR];
	uint32_t uv_zap_end[UV_NR];
	/* MGLRU aging */
	bool lru_ok;
	char lru_why[240];
	char lru_path[PATH_MAX];
	char lru_memcg[PATH_MAX];
};

/* ---- stamps ---- */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static uint64_t word_enc(const struct pr_priv *pv, uint64_t range, uint64_t k, uint64_t gen)
{
	uint64_t v = (range << W_RANGE_SHIFT) | ((k & W_K_MASK) << W_K_SHIFT) |
		     ((gen & W_GEN_MASK) << W_GEN_SHIFT);

	return v | (mix64(v ^ pv->salt) & W_SUM_MASK);
}

/* Split a stamp word; false if its checksum is wrong (not a stamp of this run). */
static bool word_dec(const struct pr_priv *pv, uint64_t v, uint32_t *range, uint32_t *k,
		     uint32_t *gen)
{
	*range = (uint32_t)(v >> W_RANGE_SHIFT);
	*k = (uint32_t)(v >> W_K_SHIFT) & W_K_MASK;
	*gen = (uint32_t)(v >> W_GEN_SHIFT) & W_GEN_MASK;
	return (mix64((v & ~W_SUM_MASK) ^ pv->salt) & W_SUM_MASK) == (v & W_SUM_MASK);
}

static void word_str(const struct pr_priv *pv, uint64_t v, char *buf, size_t len)
{
	uint32_t r, k, g;

	if (!v)
		snprintf(buf, len, "0");
	else if (!word_dec(pv, v, &r, &k, &g))
		snprintf(buf, len, "0x%016" PRIx64 " (foreign data)", v);
	else if (r == FILE_RANGE)
		snprintf(buf, len, "0x%016" PRIx64 " (O_DIRECT file page %u word %u)", v, g, k);
	else if (r == MEMFD_RANGE)
		snprintf(buf, len, "0x%016" PRIx64 " (memfd page %u word %u)", v, g, k);
	else if (r >= MR_RANGE && r < MR_RANGE + MR_NR)
		snprintf(buf, len, "0x%016" PRIx64 " (stamp of mremap range %u word %u gen %u)", v,
			 r - MR_RANGE, k, g);
	else if (r >= UV_RANGE && r < UV_RANGE + UV_TOKENS)
		snprintf(buf, len, "0x%016" PRIx64 " (stamp of UFFDIO_MOVE token %u word %u gen "
			 "%u)", v, r - UV_RANGE, k, g);
	else
		snprintf(buf, len, "0x%016" PRIx64 " (stamp of range %u word %u gen %u)", v, r,
			 k, g);
}

static uint64_t stamp_idx(const struct pr_priv *pv, uint64_t r)
{
	return (r * 37 + 11) % pv->ppr;
}

static uint64_t io_idx(const struct pr_priv *pv, uint64_t r)
{
	return (stamp_idx(pv, r) + pv->ppr / 2) % pv->ppr;
}

static uint64_t *stamp_page(const struct pr_priv *pv, uint64_t r)
{
	return (uint64_t *)(pv->region + r * pv->pmd + stamp_idx(pv, r) * pv->psz);
}

static uint64_t *io_page(const struct pr_priv *pv, uint64_t r)
{
	return (uint64_t *)(pv->region + r * pv->pmd + io_idx(pv, r) * pv->psz);
}

/* The only pages of range r anything ever touches. */
static bool page_used(const struct pr_priv *pv, uint64_t r, uint64_t p)
{
	return p == stamp_idx(pv, r) || p == io_idx(pv, r);
}

static void stamp_fill(const struct pr_priv *pv, uint64_t *page, uint64_t r, uint64_t gen)
{
	uint64_t k;

	for (k = 0; k < pv->words; k++)
		page[k] = word_enc(pv, r, k, gen);
	__asm__ __volatile__("" : : "r"(page) : "memory");
}

enum pr_expect {
	EXPECT_ZERO,	/* all zero */
	EXPECT_EXACT,	/* exactly the stamp */
	EXPECT_EITHER,	/* each word zero or the stamp */
};

/* First word of an owner's page that breaks the expectation, or -1; *nzero counts zeros. */
static long owner_check(const struct pr_priv *pv, const uint64_t *p, uint64_t r, uint64_t gen,
			enum pr_expect e, uint64_t *nzero)
{
	uint64_t k, z = 0;

	for (k = 0; k < pv->words; k++) {
		uint64_t v = p[k];

		if (!v) {
			z++;
			if (e == EXPECT_EXACT)
				break;
			continue;
		}
		if (e == EXPECT_ZERO || v != word_enc(pv, r, k, gen))
			break;
	}
	*nzero = z;
	return k < pv->words ? (long)k : -1;
}

/* Is every byte of v either 0 or the same byte of want? */
static bool bytes_of(uint64_t v, uint64_t want)
{
	unsigned int b;

	for (b = 0; b < 64; b += 8)
		if (((v >> b) & 0xff) && ((v >> b) & 0xff) != ((want >> b) & 0xff))
			return false;
	return true;
}

/*
 * A copy (pipe read after vmsplice, process_vm_readv, write_fixed) may overlap the owner's
 * store of a word: the kernel copies with memcpy, which may move a word in pieces (rep movs
 * is emulated byte by byte under TCG), so the copy can hold a byte-wise mix of the word's
 * old and new values.  Legal: every byte is 0 or that byte of r's stamp for word k in one
 * of the generations [lo, hi].  Another range's stamp or a foreign page still fails.
 */
static bool torn_ok(const struct pr_priv *pv, uint64_t v, uint64_t r, uint64_t k, uint64_t lo,
		    uint64_t hi)
{
	unsigned int b;
	uint64_t g;

	if (hi < lo || hi - lo > 16)
		return false;
	for (b = 0; b < 64; b += 8) {
		uint64_t byte = (v >> b) & 0xff;
		bool legal = !byte;

		for (g = lo; !legal && g <= hi; g++)
			legal = byte == ((word_enc(pv, r, k, g) >> b) & 0xff);
		if (!legal)
			return false;
	}
	return true;
}

/*
 * First word of a copy of range r's stamp page that is neither zero nor r's stamp for that
 * word with a generation in [lo, hi] (none legal when hi < lo); -1 if the copy is good.
 */
static long copy_check(const struct pr_priv *pv, const uint64_t *p, uint64_t r, uint64_t lo,
		       uint64_t hi)
{
	uint32_t wr, wk, wg;
	uint64_t k;

	for (k = 0; k < pv->words; k++) {
		uint64_t v = p[k];

		if (!v || torn_ok(pv, v, r, k, lo, hi))
			continue;
		if (!word_dec(pv, v, &wr, &wk, &wg) || wr != r || wk != (k & W_K_MASK) ||
		    hi < lo)
			return (long)k;
		if (hi - lo < W_GEN_MASK && ((wg - lo) & W_GEN_MASK) > hi - lo)
			return (long)k;
	}
	return -1;
}

/* The generations a copy taken between reading g0 and g1 may show. */
static void gen_window(uint64_t g0, uint64_t g1, uint64_t *lo, uint64_t *hi)
{
	*lo = g0 > 1 ? g0 - 1 : 1;
	*hi = g1;
}

/* ---- run control ---- */

static bool going(const struct mmt_worker *w)
{
	const struct pr_priv *pv = w->priv;

	return mmt_running(w) && !__atomic_load_n(&pv->stop, __ATOMIC_RELAXED);
}

static void stop_all(struct mmt_worker *w)
{
	struct pr_priv *pv = w->priv;

	__atomic_store_n(&pv->stop, 1, __ATOMIC_RELAXED);
}

/*
 * The runner notices a failed worker at its next once-a-second check, and only for FAIL; a
 * failing or erring worker here also raises pv->stop, on which every role of this mm returns
 * at once, so the first report is not followed by a cascade of consequential ones.
 */
static int pr_fail(struct mmt_worker *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int pr_fail(struct mmt_worker *w, const char *fmt, ...)
{
	char buf[MMT_REASON_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	stop_all(w);
	return mmt_fail(w, "%s", buf);
}

static int pr_werror(struct mmt_worker *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int pr_werror(struct mmt_worker *w, const char *fmt, ...)
{
	char buf[MMT_REASON_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	stop_all(w);
	return mmt_werror(w, "%s", buf);
}

/* Report a bad word of a GUP'd copy of range r's stamp page. */
static int copy_fail(struct mmt_worker *w, const char *via, uint64_t r, long k,
		     const uint64_t *copy, uint64_t g0, uint64_t g1)
{
	const struct pr_priv *pv = w->priv;
	uint64_t lo, hi;
	char found[96];

	gen_window(g0, g1, &lo, &hi);
	word_str(pv, copy[k], found, sizeof(found));
	if (hi < lo)
		return pr_fail(w, "%s copy of range %" PRIu64 " stamp page %p word %ld: found %s; "
			       "expected 0 (never stamped yet): not the page that was mapped",
			       via, r, (void *)stamp_page(pv, r), k, found);
	return pr_fail(w, "%s copy of range %" PRIu64 " stamp page %p word %ld: found %s; "
		       "expected 0 or 0x%016" PRIx64 " (this range and word, gen %" PRIu64
		       "..%" PRIu64 "): not the page that was mapped", via, r,
		       (void *)stamp_page(pv, r), k, found, word_enc(pv, r, (uint64_t)k, hi), lo,
		       hi);
}

/* ---- small helpers: 0 or -errno ---- */

static void *page_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * Zap ranges [r0, r0 + n): count the zap begun on each range first, end it after madvise()
 * returned (the PTEs are gone and the TLBs flushed by then).  0 or -errno.
 */
static int zap(const struct pr_priv *pv, uint64_t r0, uint64_t n)
{
	uint64_t i;
	int ret = 0;

	for (i = 0; i < n; i++)
		__atomic_fetch_add(&pv->zap_begin[r0 + i], 1, __ATOMIC_SEQ_CST);
	if (madvise(pv->region + r0 * pv->pmd, n * pv->pmd, MADV_DONTNEED))
		ret = -errno;
	for (i = 0; i < n; i++)
		__atomic_fetch_add(&pv->zap_end[r0 + i], 1, __ATOMIC_SEQ_CST);
	return ret;
}

/* Where to zap or walk: start of `span` ranges, often at a refaulter's cursor. */
struct picker {
	const struct pr_priv *pv;
	struct mmt_slot *ref;
	int nref;
	uint64_t rnd;
};

static void picker_init(struct picker *pk, struct mmt_worker *w)
{
	pk->pv = w->priv;
	pk->nref = 0;
	pk->ref = mmt_role_slots(w->ctx, "refaulter", &pk->nref);
	pk->rnd = w->seed;
}

static uint64_t pick(struct picker *pk, uint64_t span)
{
	const struct pr_priv *pv = pk->pv;
	uint64_t r, step;

	if (span > pv->nr)
		span = pv->nr;
	if (pk->ref && pk->nref > 0 && mmt_rand(&pk->rnd) % 100 < pv->hot) {
		int i = (int)(mmt_rand(&pk->rnd) % (uint64_t)pk->nref);

		r = __atomic_load_n(&pk->ref[i].pub[PUB_CURSOR], __ATOMIC_RELAXED);
		step = mmt_rand(&pk->rnd) % 4;
		if (step > 1)	/* the ranges its owner does next */
			r += (step - 1) * (uint64_t)pk->nref;
		if (r + span > pv->nr)
			r = pv->nr - span;
		return r;
	}
	return mmt_rand(&pk->rnd) % (pv->nr - span + 1);
}

/* ---- zapper ---- */

static int zapper_run(struct mmt_worker *w)
{
	const struct pr_priv *pv = w->priv;
	uint64_t start = mmt_now_ns(), next_full = start + pv->full_zap_ns;
	struct picker pk;
	int status = MMT_PASS;

	picker_init(&pk, w);
	while (going(w)) {
		uint64_t r0, n, t0, now = mmt_now_ns();
		bool full = false;
		int ret;

		if (w->index == 0 && pv->full_zap_ns && now >= next_full) {
			full = true;
			r0 = 0;
			n = pv->nr;
			next_full = now + pv->full_zap_ns;
		} else if (mmt_rand(&pk.rnd) % 100 < pv->hot) {
			n = 1 + mmt_rand(&pk.rnd) % 4;
			r0 = pick(&pk, n);
		} else {
			n = 1 + mmt_rand(&pk.rnd) % pv->zap_max;
			if (n > pv->nr)
				n = pv->nr;
			r0 = mmt_rand(&pk.rnd) % (pv->nr - n + 1);
		}
		t0 = mmt_now_ns();
		ret = zap(pv, r0, n);
		if (ret) {
			status = pr_werror(w, "madvise(%p, %" PRIu64 " MiB, MADV_DONTNEED): %s",
					   (void *)(pv->region + r0 * pv->pmd),
					   (n * pv->pmd) >> 20, strerror(-ret));
			break;
		}
		if (full) {
			mmt_latency(w, M_FULL_ZAP_NS, mmt_now_ns() - t0);
			mmt_add(w, M_FULL_ZAPS, 1);
		} else {
			mmt_latency(w, M_DONTNEED_NS, mmt_now_ns() - t0);
			mmt_add(w, M_DONTNEED, (n * pv->pmd) >> 20);
		}
	}
	__atomic_store_n(&w->slot->pub[PUB_RUN_NS], mmt_now_ns() - start, __ATOMIC_RELAXED);
	return status;
}

/* ---- refaulter: owner of every nr_role-th range ---- */

struct own {
	uint32_t bs;	/* zaps begun, read right before the stamp was written */
	uint32_t es;	/* zaps ended, read right before that */
	uint32_t bw;	/* zaps begun, read right after the stamp was written */
};

/*
 * What an owner may find in its page: e_r = zaps ended, read before the page was read; b_r =
 * zaps begun, read after it.  (a) no zap since the stamp: exactly the stamp; (b) a whole zap
 * began after the stamp and ended before the read: all zero; (c) otherwise each word either.
 */
static enum pr_expect own_expect(const struct own *st, uint64_t gen, uint32_t e_r, uint32_t b_r)
{
	if (!gen)
		return EXPECT_ZERO;
	if (st->bs == st->es && b_r == st->bs)
		return EXPECT_EXACT;
	if ((int32_t)(e_r - st->bw) > 0)
		return EXPECT_ZERO;
	return EXPECT_EITHER;
}

/* What the owner expected of word k, for a failure report. */
static void expect_str(const struct pr_priv *pv, enum pr_expect e, uint64_t r, uint64_t k,
		       uint64_t gen, char *buf, size_t len)
{
	uint64_t want = gen ? word_enc(pv, r, k, gen) : 0;

	if (!gen)
		snprintf(buf, len, "0 (range not stamped yet in this run)");
	else if (e == EXPECT_ZERO)
		snprintf(buf, len, "0 (a zap began after stamp gen %" PRIu64 " was written and "
			 "ended before this check: the refaulted page must be fresh)", gen);
	else if (e == EXPECT_EXACT)
		snprintf(buf, len, "0x%016" PRIx64 " (stamp gen %" PRIu64 "; no zap of the range "
			 "since it was written)", want, gen);
	else
		snprintf(buf, len, "0 or 0x%016" PRIx64 " (stamp gen %" PRIu64 "; a zap raced)",
			 want, gen);
}

static int owner_step(struct mmt_worker *w, uint64_t *copy, uint64_t r, struct own *st,
		      bool populate)
{
	const struct pr_priv *pv = w->priv;
	uint64_t *page = stamp_page(pv, r);
	uint64_t gen = __atomic_load_n(&pv->gen[r], __ATOMIC_RELAXED);	/* we are its writer */
	uint32_t e_r, b_r, bs, es;
	uint64_t t0, nzero;
	enum pr_expect e;
	bool refault;
	long bad;

	t0 = mmt_now_ns();
	e_r = __atomic_load_n(&pv->zap_end[r], __ATOMIC_SEQ_CST);
	if (populate && madvise(page, pv->psz, MADV_POPULATE_WRITE))
		return pr_werror(w, "MADV_POPULATE_WRITE of range %" PRIu64 " (%p): %s", r,
				 (void *)page, strerror(errno));
	memcpy(copy, page, pv->psz);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	b_r = __atomic_load_n(&pv->zap_begin[r], __ATOMIC_SEQ_CST);

	e = own_expect(st, gen, e_r, b_r);
	bad = owner_check(pv, copy, r, gen, e, &nzero);
	if (bad >= 0) {
		char found[96], want[160];

		word_str(pv, copy[bad], found, sizeof(found));
		expect_str(pv, e, r, (uint64_t)bad, gen, want, sizeof(want));
		if (!gen)
			return pr_fail(w, "range %" PRIu64 " stamp page %p word %ld: found %s; "
				       "expected %s", r, (void *)page, bad, found, want);
		return pr_fail(w, "range %" PRIu64 " stamp page %p word %ld: found %s; expected "
			       "%s [zaps begun/ended: %u/%u before the stamp, %u/- after it, -/%u "
			       "before the check, %u/- after it]", r, (void *)page, bad, found,
			       want, st->bs, st->es, st->bw, e_r, b_r);
	}
	refault = gen && nzero == pv->words;
	if (gen) {
		if (e == EXPECT_EXACT)
			mmt_add(w, M_CHECK_EXACT, 1);
		else if (e == EXPECT_ZERO)
			mmt_add(w, M_CHECK_ZERO, 1);
		else
			mmt_add(w, M_CHECK_RACED, 1);
	}

	/* stamp gen + 1: counters first, then announce the generation, then write */
	es = __atomic_load_n(&pv->zap_end[r], __ATOMIC_SEQ_CST);
	bs = __atomic_load_n(&pv->zap_begin[r], __ATOMIC_SEQ_CST);
	__atomic_store_n(&pv->gen[r], gen + 1, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	stamp_fill(pv, page, r, gen + 1);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	st->bw = __atomic_load_n(&pv->zap_begin[r], __ATOMIC_SEQ_CST);
	st->bs = bs;
	st->es = es;
	mmt_add(w, M_STAMPS, 1);
	if (refault) {
		mmt_add(w, M_REFAULTS, 1);
		mmt_latency(w, M_REFAULT_NS, mmt_now_ns() - t0);
	}
	return MMT_PASS;
}

/*
 * Each refaulter owns ranges index, index + nr_role, ...  It works on GROUP of them at a
 * time, checking and restamping each `revisit` times before moving on, so that the zaps and
 * walks aimed at its cursor race its faults on tables it has just repopulated.
 */
static int refaulter_run(struct mmt_worker *w)
{
	const struct pr_priv *pv = w->priv;
	uint64_t me = (uint64_t)w->index, stride = (uint64_t)w->nr_role, count, pos, sweep = 0;
	int status = MMT_PASS;
	struct own *own;
	uint64_t *copy;

	count = pv->nr > me ? (pv->nr - me + stride - 1) / stride : 0;
	if (!count)
		return mmt_role_skip(w, "no range to own: %d refaulters for %" PRIu64 " ranges",
				     w->nr_role, pv->nr);
	own = calloc(count, sizeof(*own));
	if (!own)
		return pr_werror(w, "out of memory");
	copy = page_alloc(pv->psz);
	if (!copy) {
		status = pr_werror(w, "mmap: %s", strerror(errno));
		goto out_own;
	}
	__atomic_store_n(&w->slot->pub[PUB_CURSOR], me, __ATOMIC_RELAXED);

	while (going(w)) {
		for (pos = 0; pos < count && going(w); pos += GROUP) {
			uint64_t n = count - pos < GROUP ? count - pos : GROUP, pass, i;

			for (pass = 0; pass < pv->revisit && going(w); pass++) {
				for (i = 0; i < n; i++) {
					uint64_t r = me + (pos + i) * stride;

					__atomic_store_n(&w->slot->pub[PUB_CURSOR], r,
							 __ATOMIC_RELAXED);
					status = owner_step(w, copy, r, &own[pos + i],
							    pv->have_populate &&
							    ((sweep + pass + i) & 1));
					if (status != MMT_PASS)
						goto out_copy;
				}
			}
		}
		sweep++;
		__atomic_store_n(&w->slot->pub[PUB_SWEEPS], sweep, __ATOMIC_RELAXED);
	}

out_copy:
	munmap(copy, pv->psz);
out_own:
	free(own);
	return status;
}

/* ---- GUP-fast walker: io_uring buffer registration, write_fixed into a memfd ---- */

static int uring_batch(struct mmt_worker *w, struct picker *pk, struct io_uring *ring, int fd,
		       uint64_t *buf)
{
	const struct pr_priv *pv = w->priv;
	uint64_t r[BATCH], g0[BATCH], g1, t0;
	uint32_t b0[BATCH];
	struct iovec iov[BATCH];
	unsigned int n, k, got = 0;
	bool raced = false;
	int ret, status = MMT_PASS;

	n = 1 + (unsigned int)(mmt_rand(&pk->rnd) % BATCH);
	for (k = 0; k < n; k++) {
		r[k] = pick(pk, 1);
		b0[k] = __atomic_load_n(&pv->zap_begin[r[k]], __ATOMIC_SEQ_CST);
		g0[k] = __atomic_load_n(&pv->gen[r[k]], __ATOMIC_SEQ_CST);
		iov[k].iov_base = stamp_page(pv, r[k]);
		iov[k].iov_len = pv->psz;
	}
	t0 = mmt_now_ns();
	ret = io_uring_register_buffers(ring, iov, n);
	if (ret == -ENOMEM || ret == -EAGAIN || ret == -EINTR) {
		mmt_add(w, M_PIN_FAILED, 1);
		return MMT_PASS;
	}
	if (ret)
		return pr_werror(w, "io_uring_register_buffers of %u stamp pages: %s", n,
				 strerror(-ret));
	mmt_latency(w, M_URING_PIN_NS, mmt_now_ns() - t0);

	for (k = 0; k < n; k++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

		if (!sqe) {
			status = pr_werror(w, "io_uring: no free sqe");
			goto out_unregister;
		}
		io_uring_prep_write_fixed(sqe, fd, iov[k].iov_base, (unsigned int)pv->psz,
					  k * pv->psz, (int)k);
		sqe->user_data = k;
	}
	ret = io_uring_submit(ring);
	if (ret < 0) {
		status = pr_werror(w, "io_uring_submit: %s", strerror(-ret));
		goto out_unregister;
	}
	while (got < n) {
		struct io_uring_cqe *cqe;
		int res;

		ret = io_uring_wait_cqe(ring, &cqe);
		if (ret == -EINTR)
			continue;
		if (ret < 0) {
			status = pr_werror(w, "io_uring_wait_cqe: %s", strerror(-ret));
			goto out_unregister;
		}
		res = cqe->res;
		k = (unsigned int)cqe->user_data;
		io_uring_cqe_seen(ring, cqe);
		got++;
		if (res != (int)pv->psz && status == MMT_PASS)
			status = pr_werror(w, "write_fixed of range %" PRIu64 "'s pinned page: "
					   "%s", k < n ? r[k] : 0,
					   res < 0 ? strerror(-res) : "short write");
	}

out_unregister:
	io_uring_unregister_buffers(ring);
	if (status != MMT_PASS)
		return status;
	ret = mmt_pread_full(fd, buf, n * pv->psz, 0);
	if (ret)
		return pr_werror(w, "pread memfd: %s", strerror(-ret));
	for (k = 0; k < n; k++) {
		uint64_t lo, hi;
		long bad;

		g1 = __atomic_load_n(&pv->gen[r[k]], __ATOMIC_SEQ_CST);
		raced |= __atomic_load_n(&pv->zap_begin[r[k]], __ATOMIC_SEQ_CST) != b0[k];
		gen_window(g0[k], g1, &lo, &hi);
		bad = copy_check(pv, buf + k * pv->words, r[k], lo, hi);
		if (bad >= 0)
			return copy_fail(w, "io_uring write_fixed", r[k], bad,
					 buf + k * pv->words, g0[k], g1);
	}
	mmt_add(w, M_URING, n);
	if (raced)
		mmt_add(w, M_GUP_RACED, 1);
	return MMT_PASS;
}

static int uring_run(struct mmt_worker *w)
{
	const struct pr_priv *pv = w->priv;
	int fd, ret, status = MMT_PASS;
	struct io_uring ring;
	struct picker pk;
	uint64_t *buf;

	if (!pv->have_uring)
		return mmt_role_skip(w, "%s", pv->uring_why);
	picker_init(&pk, w);
	ret = io_uring_queue_init(2 * BATCH, &ring, 0);
	if (ret)
		return pr_werror(w, "io_uring_queue_init: %s", strerror(-ret));
	fd = memfd_create("mmt-pte-reclaim-uring", MFD_CLOEXEC);
	if (fd < 0) {
		status = pr_werror(w, "memfd_create: %s", strerror(errno));
		goto out_ring;
	}
	if (ftruncate(fd, (off_t)(BATCH * pv->psz))) {
		status = pr_werror(w, "ftruncate: %s", strerror(errno));
		goto out_fd;
	}
	buf = page_alloc(BATCH * pv->psz);
	if (!buf) {
		status = pr_werror(w, "mmap: %s", strerror(errno));
		goto out_fd;
	}
	while (going(w) && status == MMT_PASS)
		status = uring_batch(w, &pk, &ring, fd, buf);

	munmap(buf, BATCH * pv->psz);
out_fd:
	close(fd);
out_ring:
	io_uring_queue_exit(&ring);
	return status;
}

/* ---- GUP-fast walker: O_DIRECT reads into the ranges' second page ---- */

static int dio_run(struct mmt_worker *w)
{
	const struct pr_priv *pv = w->priv;
	int fd, status = MMT_PASS;
	struct picker pk;
	uint64_t *copy;

	if (!pv->have_dio)
		return mmt_role_skip(w, "%s", pv->dio_why);
	picker_init(&pk, w);
	fd = open(pv->dio_path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0)
		return pr_werror(w, "open %s O_DIRECT: %s", pv->dio_path, strerror(errno));
	copy = page_alloc(pv->psz);
	if (!copy) {
		status = pr_werror(w, "mmap: %s", strerror(errno));
		goto out_fd;
	}
	while (going(w)) {
		uint64_t r = pick(&pk, 1), j = r % NR_FILE_PAGES, k;
		uint64_t *page = io_page(pv, r);
		uint32_t es, bs, b1;
		bool exact;
		ssize_t n;

		es = __atomic_load_n(&pv->zap_end[r], __ATOMIC_SEQ_CST);
		bs = __atomic_load_n(&pv->zap_begin[r], __ATOMIC_SEQ_CST);
		do
			n = pread(fd, page, pv->psz, (off_t)(j * pv->psz));
		while (n < 0 && errno == EINTR);
		if (n != (ssize_t)pv->psz) {
			status = pr_werror(w, "O_DIRECT pread into range %" PRIu64 " (%p): %s", r,
					   (void *)page, n < 0 ? strerror(errno) : "short read");
			break;
		}
		memcpy(copy, page, pv->psz);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		b1 = __atomic_load_n(&pv->zap_begin[r], __ATOMIC_SEQ_CST);
		exact = bs == es && b1 == bs;
		for (k = 0; k < pv->words; k++) {
			uint64_t want = word_enc(pv, FILE_RANGE, k, j);

			if (copy[k] == want)
				continue;
			/*
			 * A zap that lands during our memcpy (rep movs: byte by byte under TCG)
			 * may leave a word half file data, half zero: each byte must be one of
			 * the two.
			 */
			if (exact || !bytes_of(copy[k], want))
				break;
		}
		if (k < pv->words) {
			char found[96];

			word_str(pv, copy[k], found, sizeof(found));
			status = pr_fail(w, "O_DIRECT read of file page %" PRIu64 " into range %"
					 PRIu64 " page %p: word %" PRIu64 " is %s, expected %s"
					 "0x%016" PRIx64 " (the file's data%s)", j, r, (void *)page,
					 k, found, exact ? "" : "0 or ",
					 word_enc(pv, FILE_RANGE, k, j),
					 exact ? "; no zap of the range around the read" : "");
			break;
		}
		mmt_add(w, M_DIO, 1);
		if (exact)
			mmt_add(w, M_DIO_EXACT, 1);
		if (b1 != bs)
			mmt_add(w, M_GUP_RACED, 1);
	}

	munmap(copy, pv->psz);
out_fd:
	close(fd);
	return status;
}

/* ---- GUP-fast walker: vmsplice of stamp pages into a pipe ---- */

static int vmsplice_batch(struct mmt_worker *w, struct picker *pk, int *p, uint64_t *buf)
{
	const struct pr_priv *pv = w->priv;
	uint64_t r[BATCH], g0[BATCH], g1;
	uint32_t b0[BATCH];
	struct iovec iov[BATCH];
	unsigned int n, k, pages;
	size_t got = 0;
	bool raced = false;
	ssize_t ret;

	n = 1 + (unsigned int)(mmt_rand(&pk->rnd) % BATCH);
	for (k = 0; k < n; k++) {
		r[k] = pick(pk, 1);
		b0[k] = __atomic_load_n(&pv->zap_begin[r[k]], __ATOMIC_SEQ_CST);
		g0[k] = __atomic_load_n(&pv->gen[r[k]], __ATOMIC_SEQ_CST);
		iov[k].iov_base = stamp_page(pv, r[k]);
		iov[k].iov_len = pv->psz;
	}
	do
		ret = vmsplice(p[1], iov, n, 0);
	while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return pr_werror(w, "vmsplice of %u stamp pages: %s", n, strerror(errno));
	while (got < (size_t)ret) {
		ssize_t m = read(p[0], (char *)buf + got, (size_t)ret - got);

		if (m < 0 && errno == EINTR)
			continue;
		if (m <= 0)
			return pr_werror(w, "read from pipe: %s", m < 0 ? strerror(errno) : "EOF");
		got += (size_t)m;
	}
	pages = (unsigned int)(got / pv->psz);
	for (k = 0; k < pages; k++) {
		uint64_t lo, hi;
		long bad;

		g1 = __atomic_load_n(&pv->gen[r[k]], __ATOMIC_SEQ_CST);
		raced |= __atomic_load_n(&pv->zap_begin[r[k]], __ATOMIC_SEQ_CST) != b0[k];
		gen_window(g0[k], g1, &lo, &hi);
		bad = copy_check(pv, buf + k * pv->words, r[k], lo, hi);
		if (bad >= 0)
			return copy_fail(w, "vmsplice", r[k], bad, buf + k * pv->words, g0[k], g1);
	}
	mmt_add(w, M_VMSPLICE, pages);
	if (raced)
		mmt_add(w, M_GUP_RACED, 1);
	return MMT_PASS;
}

static int vmsplice_run(struct mmt_worker *w)
{
	const struct pr_priv *pv = w->priv;
	int p[2], status = MMT_PASS;
	struct picker pk;
	uint64_t *buf;

	picker_init(&pk, w);
	if (pipe2(p, O_CLOEXEC))
		return pr_werror(w, "pipe2: %s", strerror(errno));
	/* room for a whole batch; the default 16 pipe buffers are enough too */
	fcntl(p[1], F_SETPIPE_SZ, PIPE_BYTES);
	buf = page_alloc(BATCH * pv->psz);
	if (!buf) {
		status = pr_werror(w, "mmap: %s", strerror(errno));
		goto out_pipe;
	}
	while (going(w) && status == MMT_PASS)
		status = vmsplice_batch(w, &pk, p, buf);

	munmap(buf, BATCH * pv->psz);
out_pipe:
	close(p[0]);
	close(p[1]);
	return status;
}

/* ---- lockless table walkers: pagemap and mincore ---- */

static int unused_present(struct mmt_worker *w, const char *via, uint64_t r, uint64_t p,
			  uint64_t what)
{
	const struct pr_priv *pv = w->priv;

	return pr_fail(w, "%s: range %" PRIu64 " page %" PRIu64 " (%p) present (0x%" PRIx64 ") "
		       "though nothing touches it: only pages %" PRIu64 " and %" PRIu64
		       " of this range are used", via, r, p,
		       (void *)(pv->region + r * pv->pmd + p * pv->psz), what, stamp_idx(pv, r),
		       io_idx(pv, r));
}

static int pagemap_pread(struct mmt_worker *w, int fd, uint64_t *ents, uint64_t r0, uint64_t n)
{
	const struct pr_priv *pv = w->priv;
	uint64_t i, off = (uint64_t)(uintptr_t)(pv->region + r0 * pv->pmd) / pv->psz * 8;
	int ret;

	ret = mmt_pread_full(fd, ents, n * pv->ppr * 8, (off_t)off);
	if (ret)
		return pr_werror(w, "pread /proc/self/pagemap: %s", strerror(-ret));
	for (i = 0; i < n * pv->ppr; i++) {
		if (!(ents[i] & (PM_PRESENT | PM_SWAP)))
			continue;
		if (!page_used(pv, r0 + i / pv->ppr, i % pv->ppr))
			return unused_present(w, "pagemap", r0 + i / pv->ppr, i % pv->ppr,
					      ents[i]);
	}
	return MMT_PASS;
}

static int pagemap_scan(struct mmt_worker *w, int fd, struct mmt_page_region *vec, size_t nvec,
			uint64_t r0, uint64_t n)
{
	const struct pr_priv *pv = w->priv;
	uint64_t start = (uint64_t)(uintptr_t)(pv->region + r0 * pv->pmd);
	uint64_t end = start + n * pv->pmd, a;
	long i, got;

	while (start < end && going(w)) {
		struct mmt_pm_scan_arg arg = {
			.size = sizeof(arg),
			.start = start,
			.end = end,
			.vec = (uint64_t)(uintptr_t)vec,
			.vec_len = nvec,
			.category_anyof_mask = MMT_PAGE_IS_PRESENT | MMT_PAGE_IS_SWAPPED,
			.return_mask = MMT_PAGE_IS_PRESENT | MMT_PAGE_IS_SWAPPED,
		};

		got = ioctl(fd, MMT_PAGEMAP_SCAN, &arg);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return pr_werror(w, "PAGEMAP_SCAN: %s", strerror(errno));
		for (i = 0; i < got; i++) {
			for (a = vec[i].start; a < vec[i].end; a += pv->psz) {
				uint64_t off = a - (uint64_t)(uintptr_t)pv->region;

				if (!page_used(pv, off / pv->pmd, off % pv->pmd / pv->psz))
					return unused_present(w, "PAGEMAP_SCAN", off / pv->pmd,
							      off % pv->pmd / pv->psz,
							      vec[i].categories);
			}
		}
		if (arg.walk_end <= start)
			return pr_werror(w, "PAGEMAP_SCAN made no progress at 0x%" PRIx64, start);
		start = arg.walk_end;
	}
	return MMT_PASS;
}

static int pagemap_run(struct mmt_worker *w)
{
	const struct pr_priv *pv = w->priv;
	size_t ents_len = SCAN_RANGES * pv->ppr * 8, nvec = 4 * SCAN_RANGES;
	struct mmt_page_region *vec;
	int fd, status = MMT_PASS;
	uint64_t *ents, op = 0;
	struct picker pk;

	picker_init(&pk, w);
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mmt_role_skip(w, "open /proc/self/pagemap: %s", strerror(errno));
	ents = page_alloc(ents_len);
	if (!ents) {
		status = pr_werror(w, "mmap: %s", strerror(errno));
		goto out_fd;
	}
	vec = calloc(nvec, sizeof(*vec));
	if (!vec) {
		status = pr_werror(w, "out of memory");
		goto out_ents;
	}
	while (going(w) && status == MMT_PASS) {
		uint64_t n = 1 + mmt_rand(&pk.rnd) % SCAN_RANGES, r0;

		if (n > pv->nr)
			n = pv->nr;
		r0 = pick(&pk, n);
		if (pv->have_pm_scan && (op++ & 1))
			status = pagemap_scan(w, fd, vec, nvec, r0, n);
		else
			status = pagemap_pread(w, fd, ents, r0, n);
		if (status == MMT_PASS)
			mmt_add(w, M_PAGEMAP, 1);
	}

	free(vec);
out_ents:
	munmap(ents, ents_len);
out_fd:
	close(fd);
	return status;
}

static int mincore_run(struct mmt_worker *w)
{
	const struct pr_priv *pv = w->priv;
	size_t len = SCAN_RANGES * pv->ppr;
	int status = MMT_PASS;
	struct picker pk;
	unsigned char *vec;

	picker_init(&pk, w);
	vec = page_alloc(len);
	if (!vec)
		return pr_werror(w, "mmap: %s", strerror(errno));
	while (going(w)) {
		uint64_t n = 1 + mmt_rand(&pk.rnd) % SCAN_RANGES, r0, i;

		if (n > pv->nr)
			n = pv->nr;
		r0 = pick(&pk, n);
		if (mincore(pv->region + r0 * pv->pmd, n * pv->pmd, vec)) {
			status = pr_werror(w, "mincore: %s", strerror(errno));
			break;
		}
		for (i = 0; i < n * pv->ppr; i++)
			if ((vec[i] & 1) && !page_used(pv, r0 + i / pv->ppr, i % pv->ppr))
				break;
		if (i < n * pv->ppr) {
			status = unused_present(w, "mincore", r0 + i / pv->ppr, i % pv->ppr,
						vec[i]);
			break;
		}
		mmt_add(w, M_MINCORE, 1);
	}
	munmap(vec, len);
	return status;
}

/* ---- outside processes: remote reader, rogue ---- */

/* The threads' host process, once it exists; 0 if the run stops first. */
static pid_t host_pid(struct mmt_worker *w)
{
	struct mmt_slot *s;
	int n = 0;

	s = mmt_role_slots(w->ctx, "refaulter", &n);
	if (!s || n <= 0)
		return 0;
	while (going(w)) {
		pid_t pid = __atomic_load_n(&s[0].pid, __ATOMIC_ACQUIRE);

		if (pid > 0)
			return pid;
		mmt_sleep(w, 1000000);
	}
	return 0;
}

static int remote_batch(struct mmt_worker *w, struct picker *pk, pid_t pid, int mem_fd,
			uint64_t *buf, uint64_t op)
{
	const struct pr_priv *pv = w->priv;
	struct iovec local[BATCH], remote[BATCH];
	uint64_t r[BATCH], g0[BATCH], g1;
	uint32_t b0[BATCH];
	unsigned int n, k, pages;
	bool raced = false, via_mem = mem_fd >= 0 && (op & 3) == 3;
	const char *via = via_mem ? "/proc/PID/mem" : "process_vm_readv";
	ssize_t ret;

	n = via_mem ? 1 : 1 + (unsigned int)(mmt_rand(&pk->rnd) % BATCH);
	for (k = 0; k < n; k++) {
		r[k] = pick(pk, 1);
		b0[k] = __atomic_load_n(&pv->zap_begin[r[k]], __ATOMIC_SEQ_CST);
		g0[k] = __atomic_load_n(&pv->gen[r[k]], __ATOMIC_SEQ_CST);
		local[k].iov_base = buf + k * pv->words;
		local[k].iov_len = pv->psz;
		remote[k].iov_base = stamp_page(pv, r[k]);
		remote[k].iov_len = pv->psz;
	}
	do {
		if (via_mem)
			ret = pread(mem_fd, buf, pv->psz, (off_t)(uintptr_t)remote[0].iov_base);
		else
			ret = process_vm_readv(pid, local, n, remote, n, 0);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0 && (errno == ESRCH || !going(w)))
		return MMT_PASS;	/* the host is gone: the run is ending */
	if (ret < 0 && (errno == EPERM || errno == EACCES))
		return mmt_role_skip(w, "%s of pid %d: %s (needs ptrace access to a sibling: root "
				     "or yama ptrace_scope 0)", via, (int)pid, strerror(errno));
	if (ret < 0)
		return pr_werror(w, "%s of pid %d: %s", via, (int)pid, strerror(errno));
	pages = (unsigned int)((size_t)ret / pv->psz);
	for (k = 0; k < pages; k++) {
		uint64_t lo, hi;
		long bad;

		g1 = __atomic_load_n(&pv->gen[r[k]], __ATOMIC_SEQ_CST);
		raced |= __atomic_load_n(&pv->zap_begin[r[k]], __ATOMIC_SEQ_CST) != b0[k];
		gen_window(g0[k], g1, &lo, &hi);
		bad = copy_check(pv, buf + k * pv->words, r[k], lo, hi);
		if (bad >= 0)
			return copy_fail(w, via, r[k], bad, buf + k * pv->words, g0[k], g1);
	}
	mmt_add(w, M_REMOTE, pages);
	if (raced)
		mmt_add(w, M_GUP_RACED, 1);
	return MMT_PASS;
}

static int remote_run(struct mmt_worker *w)
{
	const struct pr_priv *pv = w->priv;
	int mem_fd, status = MMT_PASS;
	uint64_t *buf, op = 0;
	struct picker pk;
	char path[64];
	pid_t pid;

	picker_init(&pk, w);
	pid = host_pid(w);
	if (!pid)
		return going(w) ? pr_werror(w, "no refaulter to read from") : MMT_PASS;
	buf = page_alloc(BATCH * pv->psz);
	if (!buf)
		return pr_werror(w, "mmap: %s", strerror(errno));
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	mem_fd = open(path, O_RDONLY | O_CLOEXEC);	/* optional: process_vm_readv only */
	while (going(w) && status == MMT_PASS)
		status = remote_batch(w, &pk, pid, mem_fd, buf, op++);
	if (mem_fd >= 0)
		close(mem_fd);
	munmap(buf, BATCH * pv->psz);
	return status;
}

/* --inject corrupt: another range's stamp words into stamp pages, with process_vm_writev */
static int rogue_run(struct mmt_worker *w)
{
	const struct pr_priv *pv = w->priv;
	struct picker pk;
	uint64_t last_ok;
	int last_err = 0;
	pid_t pid;

	picker_init(&pk, w);
	pid = host_pid(w);
	if (!pid)
		return going(w) ? pr_werror(w, "rogue: no refaulter to corrupt") : MMT_PASS;
	last_ok = mmt_now_ns();
	while (going(w)) {
		uint64_t r = pick(&pk, 1), k = mmt_rand(&pk.rnd) % pv->words, o = (r + 1) % pv->nr;
		uint64_t v = word_enc(pv, o, k, __atomic_load_n(&pv->gen[o], __ATOMIC_RELAXED) + 1);
		struct iovec local = { .iov_base = &v, .iov_len = sizeof(v) };
		struct iovec remote = { .iov_base = stamp_page(pv, r) + k, .iov_len = sizeof(v) };

		if (process_vm_writev(pid, &local, 1, &remote, 1, 0) == (ssize_t)sizeof(v)) {
			mmt_add(w, M_ROGUE_WRITES, 1);
			last_ok = mmt_now_ns();
		} else {
			last_err = errno;
			if (last_err == ESRCH)
				break;
		}
		if (mmt_now_ns() - last_ok > 5000000000ull)
			return pr_werror(w, "rogue: no write landed in 5 s (last error: %s)",
					 last_err ? strerror(last_err) : "none");
		mmt_sleep(w, 1000000);
	}
	return MMT_PASS;
}

/* ---- race partners for the other walkers the PT_RECLAIM series touches ---- */

static bool partner(const struct pr_priv *pv, unsigned int p)
{
	return pv->partners & p;
}

static int partner_off(struct mmt_worker *w, const char *what)
{
	return mmt_role_skip(w, "%s: off (partners=%s)", what,
			     mmt_param_str(w->ctx, "partners"));
}

/*
 * Copy range r's stamp page and check it like a GUP'd copy: each word zero or r's stamp with
 * a generation mapped since g0 was read (b0: zaps of r begun then).  PASS or a FAIL naming it.
 */
static int stamp_verify(struct mmt_worker *w, const char *via, uint64_t r, uint64_t *buf,
			uint64_t g0, uint32_t b0, bool *raced)
{
	const struct pr_priv *pv = w->priv;
	uint64_t g1, lo, hi;
	long bad;

	memcpy(buf, stamp_page(pv, r), pv->psz);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	g1 = __atomic_load_n(&pv->gen[r], __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&pv->zap_begin[r], __ATOMIC_SEQ_CST) != b0)
		*raced = true;
	gen_window(g0, g1, &lo, &hi);
	bad = copy_check(pv, buf, r, lo, hi);
	if (bad >= 0)
		return copy_fail(w, via, r, bad, buf, g0, g1);
	return MMT_PASS;
}

/* ---- migrate: move_pages(), mbind(MPOL_MF_MOVE_ALL), MADV_COLD / MADV_PAGEOUT ---- */

/* The node to move a page on node `cur` to: the next node with memory (the only one). */
static int migrate_target(const struct pr_priv *pv, int cur, uint64_t *rnd)
{
	int i;

	if (pv->nr_nodes < 2)
		return pv->nodes[0];
	for (i = 0; i < pv->nr_nodes; i++)
		if (pv->nodes[i] == cur)
			return pv->nodes[(i + 1) % pv->nr_nodes];
	return pv->nodes[mmt_rand(rnd) % (uint64_t)pv->nr_nodes];
}

static bool transient(int err)
{
	return err == EINTR || err == EAGAIN || err == ENOMEM || err == EBUSY;
}

static int migrate_batch(struct mmt_worker *w, struct picker *pk, uint64_t *buf, int *flags)
{
	const struct pr_priv *pv = w->priv;
	int nodes[BATCH], before[BATCH], status[BATCH];
	uint64_t r[BATCH], g0[BATCH];
	unsigned int n, k, moved = 0;
	uint32_t b0[BATCH];
	void *pages[BATCH];
	bool raced = false;
	long ret;
	int st;

	n = 1 + (unsigned int)(mmt_rand(&pk->rnd) % BATCH);
	for (k = 0; k < n; k++) {
		r[k] = pick(pk, 1);
		b0[k] = __atomic_load_n(&pv->zap_begin[r[k]], __ATOMIC_SEQ_CST);
		g0[k] = __atomic_load_n(&pv->gen[r[k]], __ATOMIC_SEQ_CST);
		pages[k] = stamp_page(pv, r[k]);
	}
	/* where they are now: a page-table walk of its own (folio_walk_start) */
	if (move_pages(0, n, pages, NULL, before, 0) < 0)
		return pr_werror(w, "move_pages(nodes=NULL) of %u stamp pages: %s", n,
				 strerror(errno));
	for (k = 0; k < n; k++)
		nodes[k] = migrate_target(pv, before[k], &pk->rnd);
	ret = move_pages(0, n, pages, nodes, status, *flags);
	if (ret < 0 && errno == EPERM && *flags == MPOL_MF_MOVE_ALL) {
		*flags = MPOL_MF_MOVE;	/* no CAP_SYS_NICE: only pages mapped once */
		ret = move_pages(0, n, pages, nodes, status, *flags);
	}
	if (ret < 0 && !transient(errno))
		return pr_werror(w, "move_pages of %u stamp pages to node %d: %s", n, nodes[0],
				 strerror(errno));
	for (k = 0; ret >= 0 && k < n; k++)
		if (before[k] >= 0 && before[k] != nodes[k] && status[k] == nodes[k])
			moved++;
	for (k = 0; k < n; k++) {
		st = stamp_verify(w, "move_pages", r[k], buf, g0[k], b0[k], &raced);
		if (st != MMT_PASS)
			return st;
	}
	mmt_add(w, M_MIGRATE, n);
	if (moved)
		mmt_add(w, M_MIGRATED, moved);
	return MMT_PASS;
}

/* mbind(MPOL_BIND, MPOL_MF_MOVE_ALL) of 1..8 ranges, then back to the default policy. */
static int mbind_span(struct mmt_worker *w, struct picker *pk, uint64_t *buf, int *flags,
		      struct bitmask *bm)
{
	const struct pr_priv *pv = w->priv;
	uint64_t n = 1 + mmt_rand(&pk->rnd) % 8, r0, g0[8], i;
	unsigned long maxnode = bm->size + 1;
	uint32_t b0[8];
	bool raced = false;
	char *a;
	size_t len;
	int node, st;
	long ret;

	if (n > pv->nr)
		n = pv->nr;
	r0 = pick(pk, n);
	a = pv->region + r0 * pv->pmd;
	len = n * pv->pmd;
	for (i = 0; i < n; i++) {
		b0[i] = __atomic_load_n(&pv->zap_begin[r0 + i], __ATOMIC_SEQ_CST);
		g0[i] = __atomic_load_n(&pv->gen[r0 + i], __ATOMIC_SEQ_CST);
	}
	node = migrate_target(pv, -1, &pk->rnd);
	numa_bitmask_clearall(bm);
	numa_bitmask_setbit(bm, (unsigned int)node);
	ret = mbind(a, len, MPOL_BIND, bm->maskp, maxnode, (unsigned int)*flags);
	if (ret && errno == EPERM && *flags == MPOL_MF_MOVE_ALL) {
		*flags = MPOL_MF_MOVE;
		ret = mbind(a, len, MPOL_BIND, bm->maskp, maxnode, (unsigned int)*flags);
	}
	if (ret && !transient(errno) && errno != EIO)
		return pr_werror(w, "mbind(%p, %zu MiB, MPOL_BIND node %d, MPOL_MF_MOVE): %s",
				 (void *)a, len >> 20, node, strerror(errno));
	if (mbind(a, len, MPOL_DEFAULT, NULL, 0, 0))
		return pr_werror(w, "mbind(%p, %zu MiB, MPOL_DEFAULT): %s", (void *)a, len >> 20,
				 strerror(errno));
	for (i = 0; i < n; i++) {
		st = stamp_verify(w, "mbind(MPOL_MF_MOVE)", r0 + i, buf, g0[i], b0[i], &raced);
		if (st != MMT_PASS)
			return st;
	}
	mmt_add(w, M_MIGRATE, n);
	mmt_add(w, M_MBIND, 1);
	return MMT_PASS;
}

/* MADV_COLD or MADV_PAGEOUT of 1..64 ranges; up to 8 of their stamp pages checked after. */
static int pageout_span(struct mmt_worker *w, struct picker *pk, uint64_t *buf, bool cold)
{
	const struct pr_priv *pv = w->priv;
	uint64_t span = 1 + mmt_rand(&pk->rnd) % SCAN_RANGES, r0, r[8], g0[8], i, nchk;
	uint32_t b0[8];
	bool raced = false;
	int st;

	if (span > pv->nr)
		span = pv->nr;
	r0 = pick(pk, span);
	nchk = span < 8 ? span : 8;
	for (i = 0; i < nchk; i++) {
		r[i] = r0 + (nchk == span ? i : mmt_rand(&pk->rnd) % span);
		b0[i] = __atomic_load_n(&pv->zap_begin[r[i]], __ATOMIC_SEQ_CST);
		g0[i] = __atomic_load_n(&pv->gen[r[i]], __ATOMIC_SEQ_CST);
	}
	if (madvise(pv->region + r0 * pv->pmd, span * pv->pmd, cold ? MADV_COLD : MADV_PAGEOUT) &&
	    !transient(errno))
		return pr_werror(w, "madvise(%p, %" PRIu64 " MiB, %s): %s",
				 (void *)(pv->region + r0 * pv->pmd), (span * pv->pmd) >> 20,
				 cold ? "MADV_COLD" : "MADV_PAGEOUT", strerror(errno));
	for (i = 0; i < nchk; i++) {
		st = stamp_verify(w, cold ? "MADV_COLD" : "MADV_PAGEOUT", r[i], buf, g0[i], b0[i],
				  &raced);
		if (st != MMT_PASS)
			return st;
	}
	mmt_add(w, M_PAGEOUT, 1);
	return MMT_PASS;
}

static int migrate_run(struct mmt_worker *w)
{
	const struct pr_priv *pv = w->priv;
	bool mig = partner(pv, PA_MIGRATE), po = partner(pv, PA_PAGEOUT);
	int status = MMT_PASS, flags = MPOL_MF_MOVE_ALL;
	struct bitmask *bm = NULL;
	struct picker pk;
	uint64_t *buf, op = 0;

	if (!mig && !po)
		return partner_off(w, "migrate and pageout");
	if (mig && numa_available() < 0)
		return mmt_role_skip(w, "migrate: libnuma says NUMA is not available");
	picker_init(&pk, w);
	buf = page_alloc(pv->psz);
	if (!buf)
		return pr_werror(w, "mmap: %s", strerror(errno));
	if (mig)
		bm = numa_allocate_nodemask();
	while (going(w) && status == MMT_PASS) {
		op++;
		if (mig && (!po || (op & 1))) {
			if (op % 16 == 1)
				status = mbind_span(w, &pk, buf, &flags, bm);
			else
				status = migrate_batch(w, &pk, buf, &flags);
		} else {
			status = pageout_span(w, &pk, buf, (op >> 1) & 1);
		}
	}
	if (bm)
		numa_free_nodemask(bm);
	munmap(buf, pv->psz);
	return status;
}

/* ---- collapse: MADV_COLLAPSE of a memfd mapped twice, while side_zapper zaps it ---- */

/* The page of memfd range i that sh_split punches out and writes back. */
static uint64_t sh_punch_page(const struct pr_priv *pv, uint64_t i)
{
	return (i * 37 + 5) % pv->ppr;
}

/*
 * Read memfd range i through mapping m: it must hold exactly the file's data (a zap of a
 * shared file mapping drops no data; a collapse copies it), except that the page a
 * punch-hole-and-rewrite raced may read 0 in any byte.
 */
static int sh_check(struct mmt_worker *w, int m, uint64_t i, uint64_t *buf, const char *after)
{
	const struct pr_priv *pv = w->priv;
	const char *base = pv->sh_map[m] + i * pv->pmd;
	const uint64_t *tmpl = pv->sh_tmpl + i * pv->pmd / 8;
	uint32_t pe, pb, pb2;
	uint64_t p, k;

	pe = __atomic_load_n(&pv->sh_punch_end[i], __ATOMIC_SEQ_CST);
	pb = __atomic_load_n(&pv->sh_punch_begin[i], __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (p = 0; p < pv->ppr; p++) {
		const uint64_t *t = tmpl + p * pv->words;
		bool raced;

		memcpy(buf, base + p * pv->psz, pv->psz);
		if (!memcmp(buf, t, pv->psz))
			continue;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		pb2 = __atomic_load_n(&pv->sh_punch_begin[i], __ATOMIC_SEQ_CST);
		raced = p == sh_punch_page(pv, i) && (pe != pb || pb2 != pb);
		for (k = 0; k < pv->words; k++) {
			char found[96];

			if (buf[k] == t[k] || (raced && bytes_of(buf[k], t[k])))
				continue;
			word_str(pv, buf[k], found, sizeof(found));
			return pr_fail(w, "memfd range %" PRIu64 " page %" PRIu64 " via mapping %d "
				       "(%p) word %" PRIu64 ": found %s; expected %s0x%016" PRIx64
				       " (memfd page %" PRIu64 "'s data) after %s: shared file data "
				       "must survive MADV_DONTNEED and MADV_COLLAPSE", i, p, m,
				       (const void *)(base + p * pv->psz), k, found,
				       raced ? "0 (a punch-hole raced) or " : "", t[k],
				       i * pv->ppr + p, after);
		}
	}
	mmt_add(w, M_SH_CHECKS, 1);
	return MMT_PASS;
}

/* Punch one page of memfd range i out and write it back: splits a THP there. */
static int sh_split(struct mmt_worker *w, uint64_t i)
{
	struct pr_priv *pv = w->priv;
	uint64_t pg = i * pv->ppr + sh_punch_page(pv, i);
	off_t off = (off_t)(pg * pv->psz);
	int ret = 0;

	__atomic_fetch_add(&pv->sh_punch_begin[i], 1, __ATOMIC_SEQ_CST);
	if (fallocate(pv->sh_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off,
		      (off_t)pv->psz))
		ret = -errno;
	if (!ret)
		ret = mmt_pwrite_full(pv->sh_fd, pv->sh_tmpl + pg * pv->words, pv->psz, off);
	__atomic_fetch_add(&pv->sh_punch_end[i], 1, __ATOMIC_SEQ_CST);
	if (ret)
		return pr_werror(w, "punch-hole and rewrite of memfd page %" PRIu64 ": %s", pg,
				 strerror(-ret));
	mmt_add(w, M_SH_SPLITS, 1);
	return MMT_PASS;
}

static int collapse_run(struct mmt_worker *w)
{
	const struct pr_priv *pv = w->priv;
	int status = MMT_PASS;
	uint64_t rnd = w->seed, *buf;

	if (!partner(pv, PA_COLLAPSE))
		return partner_off(w, "collapse");
	if (!pv->sh_ok)
		return mmt_role_skip(w, "collapse: %s", pv->sh_why);
	buf = page_alloc(pv->psz);
	if (!buf)
		return pr_werror(w, "mmap: %s", strerror(errno));
	while (going(w) && status == MMT_PASS) {
		uint64_t i = mmt_rand(&rnd) % SH_NR;
		int m = (int)(mmt_rand(&rnd) & 1), err;

		err = madvise(pv->sh_map[m] + i * pv->pmd, pv->pmd, MADV_COLLAPSE) ? errno : 0;
		if (err == EFAULT || err == EPERM || err == ENOSYS) {
			status = pr_werror(w, "MADV_COLLAPSE of memfd range %" PRIu64 " via mapping "
					   "%d: %s", i, m, strerror(err));
			break;
		}
		mmt_add(w, M_COLLAPSE, 1);
		if (!err)
			mmt_add(w, M_COLLAPSE_OK, 1);
		status = sh_check(w, m, i, buf, err ? "a failed MADV_COLLAPSE" : "MADV_COLLAPSE");
		if (status == MMT_PASS && !err && (mmt_rand(&rnd) & 1))
			status = sh_split(w, i);
	}
	munmap(buf, pv->psz);
	return status;
}

/* ---- side_zapper: MADV_DONTNEED of whole ranges of the memfd, mremap and uffd regions ---- */

static int side_zap(struct mmt_worker *w, char *a, uint64_t n, uint32_t *begin, uint32_t *end,
		    const char *what)
{
	const struct pr_priv *pv = w->priv;
	uint64_t i;
	int err = 0;

	for (i = 0; begin && i < n; i++)
		__atomic_fetch_add(&begin[i], 1, __ATOMIC_SEQ_CST);
	if (madvise(a, n * pv->pmd, MADV_DONTNEED))
		err = errno;
	for (i = 0; end && i < n; i++)
		__atomic_fetch_add(&end[i], 1, __ATOMIC_SEQ_CST);
	if (err)
		return pr_werror(w, "madvise(%p, %" PRIu64 " MiB of the %s, MADV_DONTNEED): %s",
				 (void *)a, (n * pv->pmd) >> 20, what, strerror(err));
	mmt_add(w, M_SIDE_ZAPS, 1);
	return MMT_PASS;
}

static int side_zapper_run(struct mmt_worker *w)
{
	struct pr_priv *pv = w->priv;
	uint64_t rnd = w->seed, op = 0, *buf, cnt[3] = { 0 };
	int status = MMT_PASS, nt = 0;
	char targets[3];

	if (partner(pv, PA_COLLAPSE) && pv->sh_ok)
		targets[nt++] = 'S';
	if (partner(pv, PA_MREMAP) && pv->mr_pos[0])
		targets[nt++] = 'M';
	if (partner(pv, PA_UFFD) && pv->uv_ok)
		targets[nt++] = 'U';
	if (!nt)
		return mmt_role_skip(w, "side_zapper: no memfd, mremap or UFFDIO_MOVE region to zap "
				     "(partners off or unavailable)");
	buf = page_alloc(pv->psz);
	if (!buf)
		return pr_werror(w, "mmap: %s", strerror(errno));
	while (going(w) && status == MMT_PASS) {
		char t = targets[op++ % (uint64_t)nt];
		uint64_t i0, n;

		if (t == 'S') {
			int m = (int)(mmt_rand(&rnd) & 1);

			i0 = mmt_rand(&rnd) % SH_NR;
			n = 1 + mmt_rand(&rnd) % (SH_NR - i0);
			status = side_zap(w, pv->sh_map[m] + i0 * pv->pmd, n, NULL, NULL,
					  "memfd mapping");
			if (status == MMT_PASS)
				status = sh_check(w, m, i0 + mmt_rand(&rnd) % n, buf,
						  "MADV_DONTNEED");
			__atomic_store_n(&w->slot->pub[PUB_SH_ZAPS], ++cnt[0], __ATOMIC_RELAXED);
		} else if (t == 'M') {
			int cur = __atomic_load_n(&pv->mr_cur, __ATOMIC_SEQ_CST);

			i0 = mmt_rand(&rnd) % MR_NR;
			n = 1 + mmt_rand(&rnd) % (MR_NR - i0);
			status = side_zap(w, pv->mr_pos[cur] + i0 * pv->pmd, n,
					  &pv->mr_zap_begin[i0], &pv->mr_zap_end[i0],
					  "mremap region");
			__atomic_store_n(&w->slot->pub[PUB_MR_ZAPS], ++cnt[1], __ATOMIC_RELAXED);
		} else {
			i0 = mmt_rand(&rnd) % UV_NR;
			n = 1 + mmt_rand(&rnd) % (UV_NR - i0);
			status = side_zap(w, pv->uv_region + i0 * pv->pmd, n, &pv->uv_zap_begin[i0],
					  &pv->uv_zap_end[i0], "UFFDIO_MOVE region");
			__atomic_store_n(&w->slot->pub[PUB_UV_ZAPS], ++cnt[2], __ATOMIC_RELAXED);
		}
	}
	munmap(buf, pv->psz);
	return status;
}

/* ---- uffd_move: UFFDIO_MOVE of stamp pages between slots of ranges being zapped ---- */

struct uv_token {
	int slot;	/* 2 per range: slot s is in range s / 2 */
	uint64_t gen;
	bool clean;	/* written with no zap of its range around, none begun since bsnap */
	uint32_t bsnap;
};

static uint64_t *uv_slot(const struct pr_priv *pv, int s)
{
	uint64_t r = (uint64_t)s / 2, p = (r * 37 + 11 + (uint64_t)(s & 1) * (pv->ppr / 2)) % pv->ppr;

	return (uint64_t *)(pv->uv_region + r * pv->pmd + p * pv->psz);
}

/* (Re)write token t in its slot: a fault of a fresh page when it was zapped or moved away. */
static void uv_write(const struct pr_priv *pv, struct uv_token *tok, int t)
{
	int r = tok->slot / 2;
	uint32_t e, b, b2;

	e = __atomic_load_n(&pv->uv_zap_end[r], __ATOMIC_SEQ_CST);
	b = __atomic_load_n(&pv->uv_zap_begin[r], __ATOMIC_SEQ_CST);
	tok->gen++;
	stamp_fill(pv, uv_slot(pv, tok->slot), UV_RANGE + (uint64_t)t, tok->gen);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	b2 = __atomic_load_n(&pv->uv_zap_begin[r], __ATOMIC_SEQ_CST);
	tok->clean = e == b && b2 == b;
	tok->bsnap = b2;
}

/* For a failure report: which slots are present (pagemap) and what they hold. */
static void uv_where(const struct pr_priv *pv, int t, uint64_t gen, const int *occ, char *buf,
		     size_t len)
{
	size_t off = 0;
	int fd, s;

	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	for (s = 0; s < 2 * UV_NR && off < len; s++) {
		uint64_t ent = 0, *p = uv_slot(pv, s);
		uint32_t r, k, g;
		const char *what = "-";

		if (fd >= 0)
			mmt_pread_full(fd, &ent, 8, (off_t)((uintptr_t)p / pv->psz * 8));
		if (ent & PM_PRESENT)
			what = !p[0] ? "0" : !word_dec(pv, p[0], &r, &k, &g) ? "foreign" :
			       r == UV_RANGE + (uint64_t)t && g == (gen & W_GEN_MASK) ? "THIS" :
			       "other token";
		off += (size_t)snprintf(buf + off, len - off, "%sslot %d occ %d %s %s",
					s ? "; " : "", s, occ[s],
					ent & PM_PRESENT ? "present" : "none", what);
	}
	if (fd >= 0)
		close(fd);
}

static int uv_move(struct mmt_worker *w, int uffd, struct uv_token *tok, int t, int *occ,
		   uint64_t *rnd, uint64_t *buf)
{
	const struct pr_priv *pv = w->priv;
	int s = tok->slot, d, rs = s / 2, rd, tries;
	struct pr_uffdio_move mv = { 0 };
	uint32_t e0, b0, b1;
	bool clean_s, exact;
	uint64_t k;

	for (tries = 0, d = s; tries < 64 && (d == s || occ[d] >= 0); tries++)
		d = (int)(mmt_rand(rnd) % (2 * UV_NR));
	if (occ[d] >= 0)
		return MMT_PASS;
	rd = d / 2;
	clean_s = tok->clean &&
		  __atomic_load_n(&pv->uv_zap_begin[rs], __ATOMIC_SEQ_CST) == tok->bsnap;
	e0 = __atomic_load_n(&pv->uv_zap_end[rd], __ATOMIC_SEQ_CST);
	b0 = __atomic_load_n(&pv->uv_zap_begin[rd], __ATOMIC_SEQ_CST);
	mv.dst = (uint64_t)(uintptr_t)uv_slot(pv, d);
	mv.src = (uint64_t)(uintptr_t)uv_slot(pv, s);
	mv.len = pv->psz;
	if (ioctl(uffd, PR_UFFDIO_MOVE, &mv)) {
		int err = errno;
		bool zs, zd;

		if (err == EINTR)
			return MMT_PASS;
		/* did a zap of either range begin before or during the move? */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		zs = !clean_s || __atomic_load_n(&pv->uv_zap_begin[rs], __ATOMIC_SEQ_CST) !=
				 tok->bsnap;
		zd = e0 != b0 || __atomic_load_n(&pv->uv_zap_begin[rd], __ATOMIC_SEQ_CST) != b0;
		/*
		 * move_pages_pte() says EINVAL when it finds a PMD none after taking the
		 * PTE locks: PT_RECLAIM freed the table meanwhile.  Only a zap explains it.
		 */
		if (err == EINVAL && (zs || zd))
			err = EAGAIN;
		if (err == ENOENT && !zs) {
			char where[200];

			uv_where(pv, t, tok->gen, occ, where, sizeof(where));
			return pr_fail(w, "UFFDIO_MOVE of token %d from %p (range %d) to %p: ENOENT, "
				       "the source page is gone though no zap of its range began "
				       "since stamp gen %" PRIu64 " was written [%s]", t,
				       uv_slot(pv, s), rs, uv_slot(pv, d), tok->gen, where);
		}
		if (err != ENOENT && err != EEXIST && err != EAGAIN && err != EBUSY)
			return pr_werror(w, "UFFDIO_MOVE of %p to %p: %s", uv_slot(pv, s),
					 uv_slot(pv, d), strerror(err));
		mmt_add(w, M_UFFD_LOST, 1);
		if (err == EEXIST)	/* an empty slot is not empty: clear it */
			madvise(uv_slot(pv, d), pv->psz, MADV_DONTNEED);
		if (err != EAGAIN)	/* a zap won (ENOENT) or a fork shared it (EBUSY) */
			uv_write(pv, tok, t);
		else
			tok->clean = !zs;	/* an EINVAL race may have zapped it */
		return MMT_PASS;
	}
	occ[s] = -1;
	occ[d] = t;
	tok->slot = d;
	memcpy(buf, uv_slot(pv, d), pv->psz);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	b1 = __atomic_load_n(&pv->uv_zap_begin[rd], __ATOMIC_SEQ_CST);
	exact = clean_s && e0 == b0 && b1 == b0;
	for (k = 0; k < pv->words; k++) {
		uint64_t want = word_enc(pv, UV_RANGE + (uint64_t)t, k, tok->gen);
		char found[96];

		if (buf[k] == want || (!exact && !buf[k]))
			continue;
		word_str(pv, buf[k], found, sizeof(found));
		return pr_fail(w, "UFFDIO_MOVE of token %d from %p (range %d) to %p (range %d): "
			       "word %" PRIu64 " is %s; expected %s0x%016" PRIx64 " (its stamp gen %"
			       PRIu64 "%s)", t, uv_slot(pv, s), rs, uv_slot(pv, d), rd, k, found,
			       exact ? "" : "0 or ", want, tok->gen,
			       exact ? "; no zap of either range around the move" : "; a zap raced");
	}
	mmt_add(w, M_UFFD_MOVE, 1);
	if (exact) {
		mmt_add(w, M_UFFD_EXACT, 1);
		tok->bsnap = b1;	/* clean in its new range from here on */
	} else {
		uv_write(pv, tok, t);
	}
	return MMT_PASS;
}

static int uffd_move_run(struct mmt_worker *w)
{
	const struct pr_priv *pv = w->priv;
	struct uffdio_api api = { .api = UFFD_API, .features = PR_UFFD_FEATURE_MOVE };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_WP };
	struct uv_token tok[UV_TOKENS];
	int occ[2 * UV_NR], uffd, t, status = MMT_PASS;
	uint64_t rnd = w->seed, *buf;

	if (!partner(pv, PA_UFFD))
		return partner_off(w, "uffd_move");
	if (!pv->uv_ok)
		return mmt_role_skip(w, "uffd_move: %s", pv->uv_why);
	/* the registration must be made in this mm: fork drops it without EVENT_FORK */
	uffd = (int)syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0)
		return pr_werror(w, "userfaultfd(): %s", strerror(errno));
	if (ioctl(uffd, UFFDIO_API, &api)) {
		status = pr_werror(w, "UFFDIO_API with UFFD_FEATURE_MOVE: %s", strerror(errno));
		goto out_fd;
	}
	/* write-protect mode: faults on missing pages stay ordinary; nothing is protected */
	reg.range.start = (uint64_t)(uintptr_t)pv->uv_region;
	reg.range.len = UV_NR * pv->pmd;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		status = mmt_role_skip(w, "uffd_move: UFFDIO_REGISTER_MODE_WP of anonymous memory: "
				       "%s", strerror(errno));
		goto out_fd;
	}
	buf = page_alloc(pv->psz);
	if (!buf) {
		status = pr_werror(w, "mmap: %s", strerror(errno));
		goto out_fd;
	}
	for (t = 0; t < 2 * UV_NR; t++)
		occ[t] = -1;
	for (t = 0; t < UV_TOKENS; t++) {
		tok[t] = (struct uv_token){ .slot = 2 * t };
		occ[2 * t] = t;
		uv_write(pv, &tok[t], t);
	}
	while (going(w) && status == MMT_PASS) {
		t = (int)(mmt_rand(&rnd) % UV_TOKENS);
		status = uv_move(w, uffd, &tok[t], t, occ, &rnd, buf);
	}
	munmap(buf, pv->psz);
out_fd:
	close(uffd);
	return status;
}

/* ---- forker: fork (copy_page_range) of the mm being zapped; the child checks ---- */

/* In the child: each sampled stamp page as inherited; 0, or 1 with the reason in msg. */
static int fork_child(const struct pr_priv *pv, const uint64_t *r, const uint64_t *g0,
		      char *msg)
{
	unsigned int k;

	alarm(30);
	for (k = 0; k < FORK_SAMPLE; k++) {
		const uint64_t *p = stamp_page(pv, r[k]);
		uint64_t g1 = __atomic_load_n(&pv->gen[r[k]], __ATOMIC_SEQ_CST), lo, hi;
		char found[96];
		long bad;

		gen_window(g0[k], g1, &lo, &hi);
		bad = copy_check(pv, p, r[k], lo, hi);
		if (bad < 0)
			continue;
		word_str(pv, p[bad], found, sizeof(found));
		snprintf(msg, MMT_REASON_LEN - 64, "fork child: inherited stamp page of range %"
			 PRIu64 " (%p) word %ld: found %s; expected 0 or 0x%016" PRIx64 " (this "
			 "range and word, gen %" PRIu64 "..%" PRIu64 ")", r[k], (const void *)p,
			 bad, found, hi >= lo ? word_enc(pv, r[k], (uint64_t)bad, hi) : 0, lo, hi);
		return 1;
	}
	return 0;
}

static int forker_run(struct mmt_worker *w)
{
	const struct pr_priv *pv = w->priv;
	uint64_t r[FORK_SAMPLE], g0[FORK_SAMPLE];
	int status = MMT_PASS, ws;
	struct picker pk;
	unsigned int k;
	char *msg;
	pid_t pid;

	if (!partner(pv, PA_FORK))
		return partner_off(w, "fork");
	picker_init(&pk, w);
	msg = mmap(NULL, MMT_REASON_LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		   0);
	if (msg == MAP_FAILED)
		return pr_werror(w, "mmap: %s", strerror(errno));
	while (going(w)) {
		for (k = 0; k < FORK_SAMPLE; k++) {
			r[k] = pick(&pk, 1);
			g0[k] = __atomic_load_n(&pv->gen[r[k]], __ATOMIC_SEQ_CST);
		}
		msg[0] = 0;
		pid = fork();
		if (pid < 0 && (errno == EAGAIN || errno == ENOMEM)) {
			mmt_sleep(w, 1000000);
			continue;
		}
		if (pid < 0) {
			status = pr_werror(w, "fork: %s", strerror(errno));
			break;
		}
		if (!pid)
			_exit(fork_child(pv, r, g0, msg));
		while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
			;
		if (WIFSIGNALED(ws)) {
			status = pr_fail(w, "fork child pid %d died of signal %s while checking the "
					 "stamp pages it inherited", (int)pid,
					 strsignal(WTERMSIG(ws)));
			break;
		}
		if (WEXITSTATUS(ws) == 1) {
			status = pr_fail(w, "%s", msg);
			break;
		}
		if (WEXITSTATUS(ws)) {
			status = pr_werror(w, "fork child exited with %d", WEXITSTATUS(ws));
			break;
		}
		mmt_add(w, M_FORKS, 1);
		mmt_add(w, M_FORK_CHECKS, FORK_SAMPLE);
	}
	munmap(msg, MMT_REASON_LEN);
	return status;
}

/* ---- mremap: move_ptes / move_normal_pmd of a region being zapped ---- */

/* After a move: check range r's stamp page at base as its owner would, then restamp. */
static int mr_step(struct mmt_worker *w, char *base, uint64_t r, struct own *st, uint64_t *gen,
		   uint64_t *buf, const char *move)
{
	struct pr_priv *pv = w->priv;
	uint64_t *page = (uint64_t *)(base + r * pv->pmd + stamp_idx(pv, r) * pv->psz), nz;
	uint32_t e_r, b_r;
	enum pr_expect e;
	long bad;

	e_r = __atomic_load_n(&pv->mr_zap_end[r], __ATOMIC_SEQ_CST);
	memcpy(buf, page, pv->psz);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	b_r = __atomic_load_n(&pv->mr_zap_begin[r], __ATOMIC_SEQ_CST);
	e = own_expect(st, *gen, e_r, b_r);
	/* a zap counted for r may have hit the address the region had just left */
	if (e == EXPECT_ZERO && *gen)
		e = EXPECT_EITHER;
	bad = owner_check(pv, buf, MR_RANGE + r, *gen, e, &nz);
	if (bad >= 0) {
		char found[96], want[160];

		word_str(pv, buf[bad], found, sizeof(found));
		expect_str(pv, e, MR_RANGE + r, (uint64_t)bad, *gen, want, sizeof(want));
		return pr_fail(w, "mremap range %" PRIu64 " stamp page %p after %s: word %ld: found "
			       "%s; expected %s [zaps begun/ended: %u/%u before the stamp, %u/- "
			       "after it, -/%u before the check, %u/- after it]", r, (void *)page,
			       move, bad, found, want, st->bs, st->es, st->bw, e_r, b_r);
	}
	if (*gen && e == EXPECT_EXACT)
		mmt_add(w, M_MREMAP_EXACT, 1);
	st->es = __atomic_load_n(&pv->mr_zap_end[r], __ATOMIC_SEQ_CST);
	st->bs = __atomic_load_n(&pv->mr_zap_begin[r], __ATOMIC_SEQ_CST);
	(*gen)++;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	stamp_fill(pv, page, MR_RANGE + r, *gen);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	st->bw = __atomic_load_n(&pv->mr_zap_begin[r], __ATOMIC_SEQ_CST);
	return MMT_PASS;
}

static int mremap_run(struct mmt_worker *w)
{
	struct pr_priv *pv = w->priv;
	/* aligned <-> aligned moves whole PTE tables, aligned <-> skewed goes PTE by PTE */
	static const int order[4] = { 1, 0, 2, 0 };
	static const char *const moves[3][3] = {
		{ "", "a move from P0 to P1", "a move from P0 to P2 (unaligned)" },
		{ "a move from P1 to P0", "", "" },
		{ "a move from P2 (unaligned) to P0", "", "" },
	};
	size_t len = MR_NR * pv->pmd;
	struct own st[MR_NR] = { 0 };
	uint64_t gen[MR_NR] = { 0 }, *buf, op = 0, r;
	int status = MMT_PASS, cur = 0, next;

	if (!partner(pv, PA_MREMAP))
		return partner_off(w, "mremap");
	if (!pv->mr_pos[0])
		return mmt_role_skip(w, "mremap: the region could not be set up");
	buf = page_alloc(pv->psz);
	if (!buf)
		return pr_werror(w, "mmap: %s", strerror(errno));
	for (r = 0; r < MR_NR && status == MMT_PASS; r++)
		status = mr_step(w, pv->mr_pos[cur], r, &st[r], &gen[r], buf, "setup");
	while (going(w) && status == MMT_PASS) {
		next = order[op++ % 4];
		/* DONTUNMAP keeps the old range mapped (empty): no one else can map there */
		if (mremap(pv->mr_pos[cur], len, len, MREMAP_MAYMOVE | MREMAP_FIXED |
			   MREMAP_DONTUNMAP, pv->mr_pos[next]) == MAP_FAILED) {
			if (errno == EINVAL && op == 1)
				status = mmt_role_skip(w, "mremap: MREMAP_DONTUNMAP: EINVAL (needs "
						       "Linux >= 5.7)");
			else
				status = pr_werror(w, "mremap(%p -> %p, %zu MiB, MREMAP_FIXED | "
						   "MREMAP_DONTUNMAP): %s", (void *)pv->mr_pos[cur],
						   (void *)pv->mr_pos[next], len >> 20,
						   strerror(errno));
			break;
		}
		__atomic_store_n(&pv->mr_cur, next, __ATOMIC_SEQ_CST);
		for (r = 0; r < MR_NR && status == MMT_PASS; r++)
			status = mr_step(w, pv->mr_pos[next], r, &st[r], &gen[r], buf,
					 moves[cur][next]);
		cur = next;
		if (status == MMT_PASS)
			mmt_add(w, M_MREMAP, 1);
	}
	munmap(buf, pv->psz);
	return status;
}

/* ---- lru_gen: MGLRU aging of this memcg (page-table walks of our mm) ---- */

/* The memcg id and a node's max_gen of memcg path `memcg` in debugfs lru_gen; 0 or -ENOENT. */
static int lru_find(char *text, const char *memcg, int node, unsigned long *id,
		    unsigned long *max_gen)
{
	bool in_memcg = false, in_node = false, found = false;
	char *line, *save = NULL, path[PATH_MAX];
	unsigned long v;
	int n;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		while (*line == ' ' || *line == '\t')
			line++;
		if (sscanf(line, "memcg %lu %4095s", &v, path) == 2) {
			in_memcg = !strcmp(path, memcg);
			in_node = false;
			if (in_memcg)
				*id = v;
		} else if (sscanf(line, "node %d", &n) == 1) {
			in_node = in_memcg && n == node;
		} else if (in_node && sscanf(line, "%lu", &v) == 1) {
			*max_gen = v;	/* the last generation listed is max_gen */
			found = true;
		}
	}
	return found ? 0 : -ENOENT;
}

static int lru_gen_run(struct mmt_worker *w)
{
	const struct pr_priv *pv = w->priv;
	unsigned long id = 0, max_gen = 0;
	uint64_t r[BATCH], g0[BATCH], *buf;
	int status = MMT_PASS, fd, i;
	uint32_t b0[BATCH];
	struct picker pk;
	char *text, cmd[96];
	bool raced = false;
	unsigned int k;

	if (!partner(pv, PA_LRU_GEN))
		return partner_off(w, "lru_gen");
	if (!pv->lru_ok)
		return mmt_role_skip(w, "lru_gen: %s", pv->lru_why);
	picker_init(&pk, w);
	text = malloc(LRU_BUF);
	buf = page_alloc(pv->psz);
	if (!text || !buf) {
		status = pr_werror(w, "out of memory");
		goto out;
	}
	while (going(w) && status == MMT_PASS) {
		bool aged = false;

		for (k = 0; k < BATCH; k++) {
			r[k] = pick(&pk, 1);
			b0[k] = __atomic_load_n(&pv->zap_begin[r[k]], __ATOMIC_SEQ_CST);
			g0[k] = __atomic_load_n(&pv->gen[r[k]], __ATOMIC_SEQ_CST);
		}
		for (i = 0; i < pv->nr_nodes; i++) {
			ssize_t got = mmt_read_file(pv->lru_path, text, LRU_BUF);

			if (got < 0) {
				status = pr_werror(w, "read %s: %s", pv->lru_path,
						   strerror((int)-got));
				break;
			}
			if (lru_find(text, pv->lru_memcg, pv->nodes[i], &id, &max_gen))
				continue;
			/* + memcg_id node_id max_gen [can_swap [force_scan]] */
			snprintf(cmd, sizeof(cmd), "+ %lu %d %lu 1 1", id, pv->nodes[i], max_gen);
			fd = open(pv->lru_path, O_WRONLY | O_CLOEXEC);
			if (fd < 0) {
				status = pr_werror(w, "open %s: %s", pv->lru_path, strerror(errno));
				break;
			}
			/* EINVAL: max_gen moved on meanwhile */
			if (write(fd, cmd, strlen(cmd)) == (ssize_t)strlen(cmd))
				aged = true;
			else if (errno != EINVAL && !transient(errno))
				status = pr_werror(w, "write '%s' to %s: %s", cmd, pv->lru_path,
						   strerror(errno));
			close(fd);
		}
		for (k = 0; k < BATCH && status == MMT_PASS; k++)
			status = stamp_verify(w, "MGLRU aging", r[k], buf, g0[k], b0[k], &raced);
		if (aged && status == MMT_PASS)
			mmt_add(w, M_LRU_AGING, 1);
		mmt_sleep(w, 20000000);
	}
out:
	free(text);
	if (buf)
		munmap(buf, pv->psz);
	return status;
}

/* ---- setup / verify / teardown ---- */

static long long vmpte_kb(void)
{
	return mmt_proc_field_kb("/proc/self/status", "VmPTE");
}

/*
 * Stamp one page per range in this (the parent's) mm, check it, zap the whole region in one
 * call and read VmPTE around it: the reclaimed fraction.  Leaves the region empty.
 */
static int measure_reclaim(struct mmt_ctx *ctx, struct pr_priv *pv)
{
	long long base, pop, zapped, mi0, mi1, mi2, mi3;
	char mi[160];
	double frac;
	uint64_t settle_ns = 0;
	uint64_t r, t0, fill_ns, zap_ns, nz;
	unsigned char *vec;
	long bad;

	base = vmpte_kb();
	mi0 = mmt_proc_field_kb("/proc/meminfo", "PageTables");
	t0 = mmt_now_ns();
	for (r = 0; r < pv->nr; r++)
		stamp_fill(pv, stamp_page(pv, r), r, 1);
	fill_ns = mmt_now_ns() - t0;
	for (r = 0; r < pv->nr; r++) {
		bad = owner_check(pv, stamp_page(pv, r), r, 1, EXPECT_EXACT, &nz);
		if (bad >= 0)
			return mmt_fail_ctx(ctx, "setup: range %" PRIu64 " word %ld read 0x%016"
					    PRIx64 " right after stamping it with 0x%016" PRIx64, r,
					    bad, stamp_page(pv, r)[bad],
					    word_enc(pv, r, (uint64_t)bad, 1));
	}
	pop = vmpte_kb();
	mi1 = mmt_proc_field_kb("/proc/meminfo", "PageTables");

	t0 = mmt_now_ns();
	if (madvise(pv->region, pv->size, MADV_DONTNEED))
		return mmt_error(ctx, "setup: MADV_DONTNEED of the region: %s", strerror(errno));
	zap_ns = mmt_now_ns() - t0;
	zapped = vmpte_kb();
	mi2 = mmt_proc_field_kb("/proc/meminfo", "PageTables");
	/*
	 * VmPTE drops at once; the tables themselves go back through RCU: wait (at most 2 s)
	 * for /proc/meminfo to show most of them freed.
	 */
	mi3 = mi2;
	if (base >= 0 && zapped >= 0 && pop - zapped > (pop - base) / 2 && mi0 >= 0) {
		while (mi3 > mi0 + (mi1 - mi0) / 10 && mmt_now_ns() - t0 < 2000000000ull) {
			usleep(5000);
			mi3 = mmt_proc_field_kb("/proc/meminfo", "PageTables");
		}
		settle_ns = mmt_now_ns() - t0;
	}

	/* nothing may be left resident */
	vec = page_alloc(SCAN_RANGES * pv->ppr);
	if (!vec)
		return mmt_error(ctx, "setup: mmap: %s", strerror(errno));
	for (r = 0; r < pv->nr; r += SCAN_RANGES) {
		uint64_t n = pv->nr - r < SCAN_RANGES ? pv->nr - r : SCAN_RANGES, i;

		if (mincore(pv->region + r * pv->pmd, n * pv->pmd, vec)) {
			munmap(vec, SCAN_RANGES * pv->ppr);
			return mmt_error(ctx, "setup: mincore: %s", strerror(errno));
		}
		for (i = 0; i < n * pv->ppr; i++) {
			if (vec[i] & 1) {
				munmap(vec, SCAN_RANGES * pv->ppr);
				return mmt_fail_ctx(ctx, "setup: page %p still resident after "
						    "MADV_DONTNEED of the whole region",
						    (void *)(pv->region + r * pv->pmd +
							     i * pv->psz));
			}
		}
	}
	munmap(vec, SCAN_RANGES * pv->ppr);
	mmt_note(ctx, "proved: %" PRIu64 " stamped pages (one per %" PRIu64 " KiB over %" PRIu64
		 " MiB) read back intact; after one MADV_DONTNEED of the region (%.1f ms; "
		 "stamping took %.1f ms) mincore shows none resident", pv->nr, pv->pmd >> 10,
		 pv->size >> 20, (double)zap_ns / 1e6, (double)fill_ns / 1e6);

	if (base < 0 || pop < 0 || zapped < 0) {
		mmt_note(ctx, "VmPTE not in /proc/self/status: reclaimed fraction not measured");
		return MMT_PASS;
	}
	mmt_gauge(ctx, M_PT_POPULATED_KB, (double)pop);
	mmt_gauge(ctx, M_PT_ZAPPED_KB, (double)zapped);
	if (pop <= base) {
		mmt_note(ctx, "VmPTE did not grow when the region was populated (%lld -> %lld kB): "
			 "reclaimed fraction not measured", base, pop);
		return MMT_PASS;
	}
	frac = (double)(pop - zapped) / (double)(pop - base);
	mmt_gauge(ctx, M_RECLAIMED_FRAC, frac);
	if (settle_ns)
		snprintf(mi, sizeof(mi), "%lld kB right after the zap, %lld kB %.0f ms later "
			 "(tables are freed through RCU)", mi2, mi3, (double)settle_ns / 1e6);
	else
		snprintf(mi, sizeof(mi), "%lld kB after the zap", mi2);
	mmt_note(ctx, "%s: VmPTE %lld kB before populating, %lld kB with one page per range, "
		 "%lld kB after the full zap: %lld of %lld kB given back (fraction %.3f); "
		 "/proc/meminfo PageTables %lld -> %lld kB populated, %s",
		 frac > 0.9 ? "proved: this kernel frees empty PTE tables on MADV_DONTNEED "
			      "(PT_RECLAIM)" :
		 frac < 0.1 ? "this kernel keeps empty PTE tables after MADV_DONTNEED "
			      "(no PT_RECLAIM)" :
			      "this kernel freed only part of the emptied PTE tables",
		 base, pop, zapped, pop - zapped, pop - base, frac, mi0, mi1, mi);
	return MMT_PASS;
}

static void probe_features(struct mmt_ctx *ctx, struct pr_priv *pv)
{
	struct mmt_page_region reg[4];
	struct io_uring ring;
	char *buf;
	int fd, ret;

	buf = page_alloc(pv->psz);
	if (buf) {
		pv->have_populate = !madvise(buf, pv->psz, MADV_POPULATE_WRITE);
		if (!pv->have_populate)
			mmt_note(ctx, "MADV_POPULATE_WRITE: %s: refaulters use plain faults only",
				 strerror(errno));
		fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			struct mmt_pm_scan_arg arg = {
				.size = sizeof(arg),
				.start = (uint64_t)(uintptr_t)buf,
				.end = (uint64_t)(uintptr_t)buf + pv->psz,
				.vec = (uint64_t)(uintptr_t)reg,
				.vec_len = 4,
				.category_anyof_mask = MMT_PAGE_IS_PRESENT,
				.return_mask = MMT_PAGE_IS_PRESENT,
			};

			pv->have_pm_scan = ioctl(fd, MMT_PAGEMAP_SCAN, &arg) >= 0;
			if (!pv->have_pm_scan)
				mmt_note(ctx, "PAGEMAP_SCAN: %s: pagemap reader uses pread only",
					 strerror(errno));
			close(fd);
		}
		munmap(buf, pv->psz);
	}

	ret = io_uring_queue_init(4, &ring, 0);
	if (ret == -ENOSYS)
		snprintf(pv->uring_why, sizeof(pv->uring_why),
			 "io_uring: ENOSYS (kernel built without CONFIG_IO_URING)");
	else if (ret == -EPERM)
		snprintf(pv->uring_why, sizeof(pv->uring_why),
			 "io_uring: EPERM (disabled by kernel.io_uring_disabled)");
	else if (ret)
		snprintf(pv->uring_why, sizeof(pv->uring_why), "io_uring_queue_init: %s",
			 strerror(-ret));
	else
		io_uring_queue_exit(&ring);
	pv->have_uring = !ret;
}

/* Write the O_DIRECT file and prove O_DIRECT reads of it work.  0 or -errno (with why). */
static int setup_dio(struct mmt_ctx *ctx, struct pr_priv *pv)
{
	size_t len = NR_FILE_PAGES * pv->psz;
	uint64_t *buf, j, k;
	int fd, ret;

	if ((size_t)snprintf(pv->dio_path, sizeof(pv->dio_path), "%s/odirect-data",
			     mmt_tmpdir(ctx)) >= sizeof(pv->dio_path))
		return -ENAMETOOLONG;
	buf = page_alloc(len);
	if (!buf)
		return -errno;
	for (j = 0; j < NR_FILE_PAGES; j++)
		for (k = 0; k < pv->words; k++)
			buf[j * pv->words + k] = word_enc(pv, FILE_RANGE, k, j);
	fd = open(pv->dio_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		snprintf(pv->dio_why, sizeof(pv->dio_why), "create %s: %s", pv->dio_path,
			 strerror(-ret));
		goto out_buf;
	}
	ret = mmt_write_full(fd, buf, len);
	if (!ret && fsync(fd))
		ret = -errno;
	close(fd);
	if (ret) {
		snprintf(pv->dio_why, sizeof(pv->dio_why), "write %s: %s", pv->dio_path,
			 strerror(-ret));
		goto out_buf;
	}
	fd = open(pv->dio_path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(pv->dio_why, sizeof(pv->dio_why), "O_DIRECT refused on %s: open: %s",
			 mmt_tmpdir(ctx), strerror(-ret));
		goto out_buf;
	}
	memset(buf, 0, pv->psz);
	ret = mmt_pread_full(fd, buf, pv->psz, (off_t)(7 * pv->psz));
	close(fd);
	if (ret) {
		snprintf(pv->dio_why, sizeof(pv->dio_why), "O_DIRECT refused on %s: pread: %s",
			 mmt_tmpdir(ctx), strerror(-ret));
		goto out_buf;
	}
	if (buf[1] != word_enc(pv, FILE_RANGE, 1, 7)) {
		ret = -EIO;
		snprintf(pv->dio_why, sizeof(pv->dio_why), "O_DIRECT read of %s returned "
			 "wrong data", pv->dio_path);
		goto out_buf;
	}
	ret = 0;
out_buf:
	munmap(buf, len);
	return ret;
}

/* -p partners=a,b,...|all|none -> enum pr_partner; -1 on an unknown name */
static int parse_partners(const char *spec, unsigned int *mask, char *bad, size_t len)
{
	char buf[256], *tok, *save = NULL;
	size_t i;

	*mask = 0;
	if ((size_t)snprintf(buf, sizeof(buf), "%s", spec ? spec : "all") >= sizeof(buf))
		return -1;
	for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		if (!strcmp(tok, "all")) {
			*mask |= PA_ALL;
			continue;
		}
		if (!strcmp(tok, "none"))
			continue;
		for (i = 0; i < sizeof(pr_partner_names) / sizeof(pr_partner_names[0]); i++)
			if (!strcmp(tok, pr_partner_names[i]))
				break;
		if (i == sizeof(pr_partner_names) / sizeof(pr_partner_names[0])) {
			snprintf(bad, len, "%s", tok);
			return -1;
		}
		*mask |= 1u << i;
	}
	return 0;
}

/* NUMA nodes with memory this process may use: the migration targets. */
static void setup_nodes(struct mmt_ctx *ctx, struct pr_priv *pv)
{
	struct bitmask *allowed;
	int n;

	pv->nr_nodes = 0;
	if (numa_available() >= 0) {
		allowed = numa_get_mems_allowed();
		for (n = 0; n <= numa_max_node() && pv->nr_nodes < 64; n++) {
			long long free_b;

			if (numa_bitmask_isbitset(allowed, (unsigned int)n) &&
			    numa_node_size64(n, &free_b) > 0)
				pv->nodes[pv->nr_nodes++] = n;
		}
		numa_bitmask_free(allowed);
	}
	if (!pv->nr_nodes)
		pv->nodes[pv->nr_nodes++] = 0;
	if (!partner(pv, PA_MIGRATE))
		return;
	if (pv->nr_nodes >= 2)
		mmt_note(ctx, "migrate: %d NUMA nodes with memory: move_pages() and mbind("
			 "MPOL_MF_MOVE_ALL) move stamp pages between them (migrate_pages: rmap "
			 "walk, migration entries) while their ranges are zapped", pv->nr_nodes);
	else
		mmt_note(ctx, "migrate: one NUMA node with memory (node %d): move_pages() and "
			 "mbind(MPOL_MF_MOVE_ALL) target it and walk the page tables (folio_walk "
			 "in move_pages, queue_pages_range in mbind) under the zaps, but migrate "
			 "nothing: the kernel skips pages already on the target node, so there is no "
			 "migration and no rmap walk here (migrated stays 0); run with 2 nodes "
			 "(vm run --numa 2) for that", pv->nodes[0]);
}

/* A PMD-aligned PROT_NONE reservation of len bytes: the aligned start, or NULL. */
static char *reserve_aligned(const struct pr_priv *pv, size_t len, void **raw, size_t *raw_len)
{
	char *p;

	*raw_len = len + pv->pmd;
	p = mmap(NULL, *raw_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		*raw = NULL;
		return NULL;
	}
	*raw = p;
	return (char *)(((uintptr_t)p + pv->pmd - 1) & ~(uintptr_t)(pv->pmd - 1));
}

/* Compare the memfd through both mappings with its template; 0 or the first bad mapping + 1. */
static int sh_compare(const struct pr_priv *pv)
{
	int m;

	for (m = 0; m < 2; m++)
		if (memcmp(pv->sh_map[m], pv->sh_tmpl, SH_NR * pv->pmd))
			return m + 1;
	return 0;
}

/*
 * Partner 2: a memfd of SH_NR ranges with known content, mapped twice (so a collapse
 * through one mapping retracts the other's PTE table).  sh_ok, or sh_why says why not.
 */
static int setup_shmem(struct mmt_ctx *ctx, struct pr_priv *pv)
{
	size_t len = SH_NR * pv->pmd;
	uint64_t j, k;
	char cur[64] = "";
	char *base;
	int m, err, bad;

	if (access(THP_PMD_SIZE, R_OK)) {
		snprintf(pv->sh_why, sizeof(pv->sh_why), "no %s: kernel without THP", THP_PMD_SIZE);
		return MMT_PASS;
	}
	pv->sh_fd = memfd_create("mmt-pte-reclaim-shmem", MFD_CLOEXEC);
	if (pv->sh_fd < 0)
		return mmt_error(ctx, "memfd_create: %s", strerror(errno));
	pv->sh_tmpl = page_alloc(len);
	if (!pv->sh_tmpl)
		return mmt_error(ctx, "mmap %zu bytes: %s", len, strerror(errno));
	for (j = 0; j < SH_NR * pv->ppr; j++)
		for (k = 0; k < pv->words; k++)
			pv->sh_tmpl[j * pv->words + k] = word_enc(pv, MEMFD_RANGE, k, j);
	if (ftruncate(pv->sh_fd, (off_t)len))
		return mmt_error(ctx, "ftruncate memfd: %s", strerror(errno));
	err = mmt_pwrite_full(pv->sh_fd, pv->sh_tmpl, len, 0);
	if (err)
		return mmt_error(ctx, "write memfd: %s", strerror(-err));
	base = reserve_aligned(pv, 2 * len, &pv->sh_raw, &pv->sh_raw_len);
	if (!base)
		return mmt_error(ctx, "mmap reservation: %s", strerror(errno));
	for (m = 0; m < 2; m++) {
		pv->sh_map[m] = base + (size_t)m * len;
		if (mmap(pv->sh_map[m], len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
			 pv->sh_fd, 0) == MAP_FAILED)
			return mmt_error(ctx, "mmap memfd: %s", strerror(errno));
		/* for kernels that want shmem_enabled=advise plus MADV_HUGEPAGE to collapse */
		madvise(pv->sh_map[m], len, MADV_HUGEPAGE);
	}
	err = madvise(pv->sh_map[0], pv->pmd, MADV_COLLAPSE) ? errno : 0;
	if (err == EINVAL && !mmt_knob_read(THP_DIR_SHMEM, cur, sizeof(cur)) &&
	    (!strcmp(cur, "never") || !strcmp(cur, "deny"))) {
		/* older kernels want shmem THP allowed for MADV_COLLAPSE too: saved, restored */
		err = mmt_knob_write(ctx, THP_DIR_SHMEM, "advise");
		if (err)
			return mmt_error(ctx, "%s: %s", THP_DIR_SHMEM, strerror(-err));
		mmt_note(ctx, "collapse: MADV_COLLAPSE of the memfd said EINVAL with shmem_enabled="
			 "%s: set to advise (restored after the run)", cur);
		err = madvise(pv->sh_map[0], pv->pmd, MADV_COLLAPSE) ? errno : 0;
	}
	if (err == EINVAL) {
		snprintf(pv->sh_why, sizeof(pv->sh_why), "MADV_COLLAPSE of a memfd mapping: EINVAL "
			 "(shmem THP not allowed here: shmem_enabled=%s; or a kernel before 6.1)",
			 cur[0] ? cur : "?");
		return MMT_PASS;
	}
	bad = sh_compare(pv);
	if (bad)
		return mmt_fail_ctx(ctx, "setup: memfd content differs from what was written, "
				    "through mapping %d, after MADV_COLLAPSE of its first range",
				    bad - 1);
	mmt_note(ctx, "collapse: memfd of %d x %" PRIu64 " KiB mapped at %p and %p; probe "
		 "MADV_COLLAPSE of range 0: %s; content read back intact through both mappings",
		 SH_NR, pv->pmd >> 10, (void *)pv->sh_map[0], (void *)pv->sh_map[1],
		 err ? strerror(err) : "ok");
	pv->sh_ok = true;
	return MMT_PASS;
}

/* Partner 5: an anonymous region that mremap moves between mr_pos[0..2]. */
static int setup_mremap(struct mmt_ctx *ctx, struct pr_priv *pv)
{
	size_t len = MR_NR * pv->pmd;
	char *base;

	/* P0 | gap | P1 (aligned) ...; P2 = P1 + MR_SKEW pages (not aligned) */
	base = reserve_aligned(pv, 2 * len + 2 * pv->pmd, &pv->mr_raw, &pv->mr_raw_len);
	if (!base)
		return mmt_error(ctx, "mmap reservation: %s", strerror(errno));
	pv->mr_pos[0] = base;
	pv->mr_pos[1] = base + len + pv->pmd;
	pv->mr_pos[2] = pv->mr_pos[1] + MR_SKEW * pv->psz;
	if (mmap(base, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
		 0) == MAP_FAILED)
		return mmt_error(ctx, "mmap mremap region: %s", strerror(errno));
	if (madvise(base, len, MADV_NOHUGEPAGE) && errno != EINVAL)
		return mmt_error(ctx, "MADV_NOHUGEPAGE: %s", strerror(errno));
	pv->mr_cur = 0;
	return MMT_PASS;
}

/* Partner 3: probe UFFDIO_MOVE; the region is registered by the role, in the host's mm. */
static int setup_uffd(struct mmt_ctx *ctx, struct pr_priv *pv)
{
	struct uffdio_api api = { .api = UFFD_API };
	void *raw;
	size_t raw_len;
	int fd;

	fd = (int)syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		snprintf(pv->uv_why, sizeof(pv->uv_why), "userfaultfd(): %s", strerror(errno));
		return MMT_PASS;
	}
	if (ioctl(fd, UFFDIO_API, &api)) {
		snprintf(pv->uv_why, sizeof(pv->uv_why), "UFFDIO_API: %s", strerror(errno));
		close(fd);
		return MMT_PASS;
	}
	close(fd);
	if (!(api.features & PR_UFFD_FEATURE_MOVE)) {
		snprintf(pv->uv_why, sizeof(pv->uv_why), "UFFDIO_API offers no UFFD_FEATURE_MOVE "
			 "(features 0x%llx; needs Linux >= 6.8)", (unsigned long long)api.features);
		return MMT_PASS;
	}
	pv->uv_region = reserve_aligned(pv, UV_NR * pv->pmd, &raw, &raw_len);
	if (!pv->uv_region)
		return mmt_error(ctx, "mmap reservation: %s", strerror(errno));
	munmap(raw, raw_len);	/* only the address: map it for real */
	if (mmap(pv->uv_region, UV_NR * pv->pmd, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != pv->uv_region) {
		pv->uv_region = NULL;
		return mmt_error(ctx, "mmap UFFDIO_MOVE region: %s", strerror(errno));
	}
	if (madvise(pv->uv_region, UV_NR * pv->pmd, MADV_NOHUGEPAGE) && errno != EINVAL)
		return mmt_error(ctx, "MADV_NOHUGEPAGE: %s", strerror(errno));
	pv->uv_ok = true;
	return MMT_PASS;
}

/* Partner 6: MGLRU on, debugfs lru_gen reachable (mounted on a temp dir if need be). */
static void setup_lru_gen(struct mmt_ctx *ctx, struct pr_priv *pv)
{
	char buf[4096], dir[PATH_MAX], *line, *save = NULL;
	int ret;

	if (mmt_knob_read(LRU_GEN_ENABLED, buf, sizeof(buf))) {
		snprintf(pv->lru_why, sizeof(pv->lru_why), "no %s: kernel built without "
			 "CONFIG_LRU_GEN (MGLRU)", LRU_GEN_ENABLED);
		return;
	}
	if (!strtoul(buf, NULL, 0)) {
		snprintf(pv->lru_why, sizeof(pv->lru_why), "MGLRU is off (%s = %s); this workload "
			 "does not turn it on", LRU_GEN_ENABLED, buf);
		return;
	}
	snprintf(pv->lru_path, sizeof(pv->lru_path), "/sys/kernel/debug/lru_gen");
	if (access(pv->lru_path, W_OK)) {
		ret = mmt_mount_tmp(ctx, "debugfs", NULL, dir, sizeof(dir));
		if (ret) {
			snprintf(pv->lru_why, sizeof(pv->lru_why), "no /sys/kernel/debug/lru_gen and "
				 "debugfs cannot be mounted: %s", strerror(-ret));
			return;
		}
		snprintf(pv->lru_path, sizeof(pv->lru_path), "%s/lru_gen", dir);
		if (access(pv->lru_path, W_OK)) {
			snprintf(pv->lru_why, sizeof(pv->lru_why), "debugfs has no writable lru_gen: "
				 "%s", strerror(errno));
			return;
		}
	}
	/* our memcg: the v1 memory hierarchy's path, or the v2 one */
	snprintf(pv->lru_memcg, sizeof(pv->lru_memcg), "/");
	if (mmt_read_file("/proc/self/cgroup", buf, sizeof(buf)) > 0) {
		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char *c = strchr(line, ':'), *path = c ? strchr(c + 1, ':') : NULL;

			if (!path)
				continue;
			if (!strncmp(c + 1, "memory:", 7) || (!strncmp(line, "0::", 3) &&
							      !strcmp(pv->lru_memcg, "/")))
				snprintf(pv->lru_memcg, sizeof(pv->lru_memcg), "%s", path + 1);
		}
	}
	mmt_note(ctx, "lru_gen: aging memcg %s through %s every 20 ms", pv->lru_memcg,
		 pv->lru_path);
	pv->lru_ok = true;
}

static int pr_setup(struct mmt_ctx *ctx)
{
	struct pr_priv *pv = mmt_priv(ctx);
	uint64_t pmd = 0;
	size_t per;
	char *raw, bad[64] = "";
	int ret;

	pv->sh_fd = -1;
	if (parse_partners(mmt_param_str(ctx, "partners"), &pv->partners, bad, sizeof(bad)))
		return mmt_error(ctx, "partners=%s: unknown partner '%s' (known: migrate, pageout, "
				 "collapse, uffd_move, fork, mremap, lru_gen, all, none)",
				 mmt_param_str(ctx, "partners"), bad);
	pv->psz = (uint64_t)sysconf(_SC_PAGESIZE);
	if (mmt_knob_read_u64(THP_PMD_SIZE, &pmd) || !pmd)
		pmd = pv->psz * (pv->psz / 8);	/* one page of 8-byte PTEs */
	pv->pmd = pmd;
	pv->ppr = pmd / pv->psz;
	pv->words = pv->psz / 8;
	pv->size = mmt_param_size(ctx, "size");
	if (pv->size % pv->pmd)
		return mmt_error(ctx, "size=%" PRIu64 " is not a multiple of the PMD size %" PRIu64,
				 pv->size, pv->pmd);
	pv->nr = pv->size / pv->pmd;
	if (pv->nr < 2 || pv->nr > MAX_RANGES)
		return mmt_error(ctx, "size=%" PRIu64 " gives %" PRIu64 " ranges; 2..%u allowed",
				 pv->size, pv->nr, MAX_RANGES);
	pv->zap_max = (uint64_t)mmt_param_int(ctx, "zap_max");
	pv->hot = (uint64_t)mmt_param_int(ctx, "hot");
	pv->revisit = (uint64_t)mmt_param_int(ctx, "revisit");
	pv->full_zap_ns = (uint64_t)mmt_param_int(ctx, "full_zap_ms") * 1000000ull;
	pv->salt = mix64(mmt_now_ns() ^ ((uint64_t)getpid() << 32));

	/* gen[], zap_begin[], zap_end[]: shared with every worker, the outside process too */
	per = sizeof(*pv->gen) + sizeof(*pv->zap_begin) + sizeof(*pv->zap_end);
	pv->shared_len = (size_t)pv->nr * per;
	pv->shared = mmap(NULL, pv->shared_len, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (pv->shared == MAP_FAILED) {
		pv->shared = NULL;
		return mmt_error(ctx, "mmap %zu bytes of shared counters: %s", pv->shared_len,
				 strerror(errno));
	}
	pv->gen = pv->shared;
	pv->zap_begin = (uint32_t *)(pv->gen + pv->nr);
	pv->zap_end = pv->zap_begin + pv->nr;

	raw = mmap(NULL, pv->size + pv->pmd, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (raw == MAP_FAILED)
		return mmt_skip(ctx, "cannot map %" PRIu64 " MiB MAP_NORESERVE: %s (strict "
				"overcommit? try size=)", pv->size >> 20, strerror(errno));
	pv->region = (char *)(((uintptr_t)raw + pv->pmd - 1) & ~(uintptr_t)(pv->pmd - 1));
	if (pv->region != raw)
		munmap(raw, (size_t)(pv->region - raw));
	if (pv->region + pv->size != raw + pv->size + pv->pmd)
		munmap(pv->region + pv->size, (size_t)(raw + pv->size + pv->pmd -
						       (pv->region + pv->size)));
	/* one 4 KiB page per 2 MiB: no THP, no mTHP, no khugepaged */
	if (madvise(pv->region, pv->size, MADV_NOHUGEPAGE) && errno != EINVAL)
		return mmt_error(ctx, "MADV_NOHUGEPAGE: %s", strerror(errno));

	ret = measure_reclaim(ctx, pv);
	if (ret != MMT_PASS)
		return ret;

	probe_features(ctx, pv);
	ret = setup_dio(ctx, pv);
	pv->have_dio = !ret;
	if (ret && !pv->dio_why[0])
		snprintf(pv->dio_why, sizeof(pv->dio_why), "O_DIRECT file: %s", strerror(-ret));
	if (ret)
		mmt_note(ctx, "O_DIRECT walker will skip: %s", pv->dio_why);
	if (!pv->have_uring)
		mmt_note(ctx, "io_uring walker will skip: %s", pv->uring_why);

	setup_nodes(ctx, pv);
	if (partner(pv, PA_COLLAPSE)) {
		ret = setup_shmem(ctx, pv);
		if (ret != MMT_PASS)
			return ret;
		if (!pv->sh_ok)
			mmt_note(ctx, "collapse partner will skip: %s", pv->sh_why);
	}
	if (partner(pv, PA_MREMAP)) {
		ret = setup_mremap(ctx, pv);
		if (ret != MMT_PASS)
			return ret;
	}
	if (partner(pv, PA_UFFD)) {
		ret = setup_uffd(ctx, pv);
		if (ret != MMT_PASS)
			return ret;
		if (!pv->uv_ok)
			mmt_note(ctx, "uffd_move partner will skip: %s", pv->uv_why);
	}
	if (partner(pv, PA_LRU_GEN)) {
		setup_lru_gen(ctx, pv);
		if (!pv->lru_ok)
			mmt_note(ctx, "lru_gen partner will skip (MGLRU aging not run): %s",
				 pv->lru_why);
	}
	mmt_note(ctx, "region %p: %" PRIu64 " ranges of %" PRIu64 " KiB; stamp page of range r at "
		 "page (37r+11) mod %" PRIu64 ", O_DIRECT page %" PRIu64 " pages further; zaps "
		 "of 1..%" PRIu64 " ranges, %" PRIu64 "%% aimed at refaulters, whole region every "
		 "%" PRIu64 " ms; refaulters revisit groups of %d ranges %" PRIu64 " times",
		 (void *)pv->region, pv->nr, pv->pmd >> 10, pv->ppr, pv->ppr / 2,
		 pv->zap_max, pv->hot, pv->full_zap_ns / 1000000, GROUP, pv->revisit);
	return MMT_PASS;
}

static const char *const pr_role_names[] = { "zapper", "refaulter", "uring", "odirect",
					     "vmsplice", "pagemap", "mincore", "remote",
					     "migrate", "collapse", "side_zapper", "uffd_move",
					     "forker", "mremap", "lru_gen" };

/* Sum of counter m over a role's workers; *worked: one of them ran to the end and passed. */
static uint64_t role_sum(struct mmt_ctx *ctx, const char *role, unsigned int m, bool *worked)
{
	struct mmt_slot *s;
	uint64_t sum = 0;
	int n = 0, i;

	s = mmt_role_slots(ctx, role, &n);
	for (i = 0; s && i < n; i++) {
		sum += __atomic_load_n(&s[i].ctr[m], __ATOMIC_RELAXED);
		if (worked && s[i].done && s[i].status == MMT_PASS)
			*worked = true;
	}
	return sum;
}

static int pr_verify(struct mmt_ctx *ctx)
{
	/* per role of pr_role_names[]: the counters that show it worked */
	static const unsigned int work[][2] = {
		{ M_DONTNEED, M_FULL_ZAPS }, { M_STAMPS, M_STAMPS }, { M_URING, M_PIN_FAILED },
		{ M_DIO, M_DIO }, { M_VMSPLICE, M_VMSPLICE }, { M_PAGEMAP, M_PAGEMAP },
		{ M_MINCORE, M_MINCORE }, { M_REMOTE, M_REMOTE }, { M_MIGRATE, M_PAGEOUT },
		{ M_COLLAPSE, M_COLLAPSE }, { M_SIDE_ZAPS, M_SIDE_ZAPS },
		{ M_UFFD_MOVE, M_UFFD_LOST }, { M_FORKS, M_FORKS }, { M_MREMAP, M_MREMAP },
		{ M_LRU_AGING, M_LRU_AGING },
	};
	const struct pr_priv *pv = mmt_priv(ctx);
	uint64_t sz[3] = { 0 };
	uint64_t v[NR_METRICS] = { 0 }, run_ns = 0, sum;
	struct mmt_slot *zs;
	bool worked;
	int nz = 0, i;
	size_t j;

	/* a role that ran to the end without doing its work tested nothing: not a pass */
	for (j = 0; j < sizeof(work) / sizeof(work[0]); j++) {
		worked = false;
		sum = role_sum(ctx, pr_role_names[j], work[j][0], &worked);
		if (work[j][1] != work[j][0])
			sum += role_sum(ctx, pr_role_names[j], work[j][1], NULL);
		if (worked && !sum && work[j][0] == M_LRU_AGING) {
			/* aging only takes when max_gen holds still: not up to us */
			mmt_note(ctx, "lru_gen: no aging request took effect in this run; "
				 "MGLRU walks were not raced");
		} else if (worked && !sum) {
			return mmt_error(ctx, "role %s did no work in the whole run",
					 pr_role_names[j]);
		}
	}
	for (i = 0; i < NR_METRICS; i++) {
		if (pr_metrics[i].kind == MMT_GAUGE || pr_metrics[i].kind == MMT_LATENCY)
			continue;
		for (j = 0; j < sizeof(pr_role_names) / sizeof(pr_role_names[0]); j++)
			v[i] += role_sum(ctx, pr_role_names[j], (unsigned int)i, NULL);
	}

	zs = mmt_role_slots(ctx, "zapper", &nz);
	for (i = 0; zs && i < nz; i++)
		run_ns += __atomic_load_n(&zs[i].pub[PUB_RUN_NS], __ATOMIC_RELAXED);
	if (nz > 0 && run_ns) {
		double secs = (double)run_ns / nz / 1e9;
		double gib_s = (double)v[M_DONTNEED] / 1024 / secs;

		mmt_gauge(ctx, M_DONTNEED_GIB_S, gib_s);
		mmt_note(ctx, "zappers: %.2f GiB/s of MADV_DONTNEED over 1..%lld ranges (%" PRIu64
			 " MiB in %.1f s, warm-up included), and %" PRIu64 " zaps of the whole "
			 "region", gib_s, mmt_param_int(ctx, "zap_max"), v[M_DONTNEED], secs,
			 v[M_FULL_ZAPS]);
	}
	mmt_note(ctx, "proved: owners checked %" PRIu64 " stamp pages: %" PRIu64 " held exactly "
		 "their stamp (no zap since), %" PRIu64 " read all zero after a whole zap "
		 "(refaulted), %" PRIu64 " raced a zap (each word zero or the stamp); %" PRIu64
		 " refaults in all", v[M_CHECK_EXACT] + v[M_CHECK_ZERO] + v[M_CHECK_RACED],
		 v[M_CHECK_EXACT], v[M_CHECK_ZERO], v[M_CHECK_RACED], v[M_REFAULTS]);
	mmt_note(ctx, "proved: GUP'd copies matched the mapped stamps: io_uring %" PRIu64
		 " pages, vmsplice %" PRIu64 " pages, remote %" PRIu64 " pages, O_DIRECT %" PRIu64
		 " reads (%" PRIu64 " exactly the file data); %" PRIu64 " operations raced a zap "
		 "of their range; io_uring pins skipped for ENOMEM/EAGAIN: %" PRIu64,
		 v[M_URING], v[M_VMSPLICE], v[M_REMOTE], v[M_DIO], v[M_DIO_EXACT], v[M_GUP_RACED],
		 v[M_PIN_FAILED]);
	mmt_note(ctx, "proved: %" PRIu64 " pagemap and %" PRIu64 " mincore walks never saw a page "
		 "present besides the two used per range (counts include warm-up)", v[M_PAGEMAP],
		 v[M_MINCORE]);
	if (v[M_MIGRATE] || v[M_PAGEOUT])
		mmt_note(ctx, "proved: migrate partner: %" PRIu64 " stamp pages through move_pages() "
			 "and %" PRIu64 " mbind(MPOL_MF_MOVE_ALL) spans, %" PRIu64 " of them moved "
			 "to another node%s; %" PRIu64 " MADV_COLD/MADV_PAGEOUT calls; every copy "
			 "after them held zero or the range's own stamp", v[M_MIGRATE], v[M_MBIND],
			 v[M_MIGRATED], pv->nr_nodes < 2 ? " (one node: nothing to migrate to)" : "",
			 v[M_PAGEOUT]);
	zs = mmt_role_slots(ctx, "side_zapper", &nz);
	for (i = 0; zs && i < nz; i++)
		for (j = 0; j < 3; j++)
			sz[j] += __atomic_load_n(&zs[i].pub[PUB_SH_ZAPS + j], __ATOMIC_RELAXED);
	if (v[M_COLLAPSE] || sz[0])
		mmt_note(ctx, "proved: collapse partner: %" PRIu64 " MADV_COLLAPSE of memfd ranges "
			 "(%" PRIu64 " returned 0), %" PRIu64 " punch-hole splits, %" PRIu64
			 " zaps of its two mappings; %" PRIu64 " 2 MiB ranges read back exactly the "
			 "file's data", v[M_COLLAPSE], v[M_COLLAPSE_OK], v[M_SH_SPLITS], sz[0],
			 v[M_SH_CHECKS]);
	if (v[M_UFFD_MOVE] || v[M_UFFD_LOST])
		mmt_note(ctx, "proved: uffd_move partner: %" PRIu64 " UFFDIO_MOVEs of stamp pages "
			 "verified (%" PRIu64 " exactly the stamp, no zap around them), %" PRIu64
			 " lost to a zap or fork (ENOENT/EEXIST/EAGAIN/EBUSY, EINVAL when a zap "
			 "raced); %" PRIu64 " zaps of "
			 "the region", v[M_UFFD_MOVE], v[M_UFFD_EXACT], v[M_UFFD_LOST], sz[2]);
	if (v[M_FORKS])
		mmt_note(ctx, "proved: fork partner: %" PRIu64 " children each checked %d inherited "
			 "stamp pages (%" PRIu64 " pages): zero or the range's stamp", v[M_FORKS],
			 FORK_SAMPLE, v[M_FORK_CHECKS]);
	if (v[M_MREMAP])
		mmt_note(ctx, "proved: mremap partner: %" PRIu64 " moves of a %d-range region "
			 "between two aligned addresses and an unaligned one under %" PRIu64
			 " zaps; %" PRIu64 " stamp pages checked exactly after a move", v[M_MREMAP],
			 MR_NR, sz[1], v[M_MREMAP_EXACT]);
	if (v[M_LRU_AGING])
		mmt_note(ctx, "proved: lru_gen partner: %" PRIu64 " MGLRU agings of this memcg, "
			 "stamp pages verified after each", v[M_LRU_AGING]);
	if (!v[M_CHECK_RACED] && !v[M_GUP_RACED])
		mmt_note(ctx, "warning: no check raced a zap of its range; the races were not hit");
	return MMT_PASS;
}

static void pr_teardown(struct mmt_ctx *ctx)
{
	struct pr_priv *pv = mmt_priv(ctx);

	if (pv->dio_path[0])
		unlink(pv->dio_path);
	if (pv->region)
		munmap(pv->region, pv->size);
	if (pv->shared)
		munmap(pv->shared, pv->shared_len);
	if (pv->sh_raw)
		munmap(pv->sh_raw, pv->sh_raw_len);
	if (pv->sh_tmpl)
		munmap(pv->sh_tmpl, SH_NR * pv->pmd);
	if (pv->sh_fd >= 0)
		close(pv->sh_fd);
	if (pv->mr_raw)
		munmap(pv->mr_raw, pv->mr_raw_len);
	if (pv->uv_region)
		munmap(pv->uv_region, UV_NR * pv->pmd);
	pv->region = NULL;
	pv->shared = NULL;
	pv->sh_raw = NULL;
	pv->sh_tmpl = NULL;
	pv->sh_fd = -1;
	pv->mr_raw = NULL;
	pv->uv_region = NULL;
}

static const struct mmt_role pr_roles[] = {
	{ .name = "zapper", .run = zapper_run, .kind = MMT_THREAD, .count = MMT_SCALED },
	{ .name = "refaulter", .run = refaulter_run, .kind = MMT_THREAD, .count = MMT_SCALED },
	{ .name = "uring", .run = uring_run, .kind = MMT_THREAD, .count = 1 },
	{ .name = "odirect", .run = dio_run, .kind = MMT_THREAD, .count = 1 },
	{ .name = "vmsplice", .run = vmsplice_run, .kind = MMT_THREAD, .count = 1 },
	{ .name = "pagemap", .run = pagemap_run, .kind = MMT_THREAD, .count = 1 },
	{ .name = "mincore", .run = mincore_run, .kind = MMT_THREAD, .count = 1 },
	{ .name = "remote", .run = remote_run, .kind = MMT_PROCESS, .count = 1 },
	{ .name = "migrate", .run = migrate_run, .kind = MMT_THREAD, .count = 1 },
	{ .name = "collapse", .run = collapse_run, .kind = MMT_THREAD, .count = 1 },
	{ .name = "side_zapper", .run = side_zapper_run, .kind = MMT_THREAD, .count = 1 },
	{ .name = "uffd_move", .run = uffd_move_run, .kind = MMT_THREAD, .count = 1 },
	{ .name = "forker", .run = forker_run, .kind = MMT_THREAD, .count = 1 },
	{ .name = "mremap", .run = mremap_run, .kind = MMT_THREAD, .count = 1 },
	{ .name = "lru_gen", .run = lru_gen_run, .kind = MMT_THREAD, .count = 1 },
	{ .name = "rogue", .run = rogue_run, .kind = MMT_PROCESS, .count = 1,
	  .flags = MMT_ROLE_INJECT_CORRUPT },
	{}
};

static const struct mmt_workload pte_reclaim = {
	.name = "pte-reclaim",
	.summary = "empty PTE tables freed by MADV_DONTNEED vs GUP-fast, pagemap, mincore, "
		   "remote GUP, refaults, migration, collapse, UFFDIO_MOVE, fork, mremap",
	.suite = "quick",
	.needs = 0,
	.injects = MMT_INJECT_CORRUPT,
	.default_workers = 2,
	.params = pr_params,
	.metrics = pr_metrics,
	.roles = pr_roles,
	.priv_size = sizeof(struct pr_priv),
	.setup = pr_setup,
	.verify = pr_verify,
	.teardown = pr_teardown,
};

MMT_REGISTER(pte_reclaim);
