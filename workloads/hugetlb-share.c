// SPDX-License-Identifier: GPL-2.0
/*
 * hugetlb-share - hugetlb PMD page-table sharing and its unsharing.
 *
 * Kernel path: hugetlb PMD sharing on x86_64 (CONFIG_HUGETLB_PMD_PAGE_TABLE_SHARING).  A
 * hugetlbfs file (memfd, MFD_HUGETLB, 2 MiB pages) of `size` GiB is mapped MAP_SHARED at the
 * same 1 GiB-aligned address in every worker process; each mm's first fault in a 1 GiB range
 * finds another mm's PMD table through the file's i_mmap (huge_pmd_share()) and points its
 * PUD entry at it, so all mms walk one PMD table per GiB.  The unsharers take it apart again,
 * each in its own mm: mprotect of one 2 MiB page read-only and back, MADV_DONTNEED of a range,
 * munmap and remap of the whole range, fallocate(PUNCH_HOLE) of a page (which unshares every
 * mm: hugetlb_vmdelete_list()), and process exit (huge_pmd_unshare() from exit_mmap()).
 *
 * Race partners: walkers reading the other workers' mms while they unshare and reshare -
 * process_vm_readv (GUP on a foreign mm), pread of /proc/PID/mem, /proc/PID/pagemap,
 * /proc/PID/smaps, and mincore of the walker's own (shared) range; touchers faulting and
 * rewriting pages; a fork-exit storm whose children each fault `storm_pages` random pages of
 * the shared range and exit (one share and one unshare with TLB flush per child: the pattern
 * whose unshare IPI broadcasts cost a 4x slowdown in the field).
 *
 * Corruption: every 2 MiB page carries a stamp word at its head and one at its tail (page
 * index, generation, checksum, salted per run).  Toucher pages are owned by one toucher
 * (p % touchers), every 32nd page by one unsharer (it punches and rewrites it); only the
 * owner writes, so an owner checks the exact generation and everyone else checks index and
 * checksum (a punched page may also read as zero).  FAIL: a page read through any mm holds
 * another page's stamp, a stale generation, or garbage; a page still reads its old stamp right
 * after it was punched out of the file; /proc/PID/pagemap shows a hugetlb page present with a
 * PFN other than the page the walker itself maps, or not flagged as a file page; smaps shows
 * more hugetlb memory than the VMA's size; any SIGBUS/SIGSEGV on the mapped range.  The
 * parent checks every stamp again after the run.
 *
 * Sharing is proved in setup, not assumed: probe processes fault the file through the aligned
 * mapping and through a deliberately 2 MiB-misaligned one (no PUD range covered, so no sharing
 * possible); a probe must see, in its own pagemap, pages that only another probe faulted
 * (aligned: all, misaligned: none), and /proc/meminfo PageTables growth per process is
 * recorded for both.  During the run the unsharers record how often one fault after an
 * unshare brought back a populated (shared) table.
 *
 * Needs: root (PFNs in pagemap, /proc/PID/mem), x86_64, 2 MiB hugetlb pages: size/2 MiB + 16
 * (sized by the harness, restored afterwards).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mmtorture.h"

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif
#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB (21U << 26)
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE 0x01
#endif
#ifndef FALLOC_FL_PUNCH_HOLE
#define FALLOC_FL_PUNCH_HOLE 0x02
#endif

#define HS_HPAGE	(2ul << 20)		/* hugetlb page */
#define HS_PUD		(1ul << 30)		/* one PMD table maps this much */
#define HS_PER_PUD	512u			/* hugetlb pages per PMD table */
#define HS_SUBPAGES	512u			/* 4 KiB pagemap entries per hugetlb page */
#define HS_MAX_GIB	32
#define HS_MAX_PAGES	(HS_MAX_GIB * HS_PER_PUD)
#define HS_CYC_STRIDE	32u			/* every 32nd page belongs to an unsharer */
#define HS_SLACK	16			/* free pages for punch + refault and remap */
#define HS_NR_UNSHARERS	2
#define HS_NR_WALKERS	2
#define HS_MAX_PROBES	64
#define HS_ROUNDS	5			/* probe rounds; the median is reported */
#define HS_MIS_STRIDE	(HS_PUD + (4ul << 20))	/* misaligned chunks, kept unmergeable */
#define HS_PM_WINDOW	4u			/* hugetlb pages per pagemap walk */
#define HS_MC_WINDOW	8u			/* hugetlb pages per mincore walk */
#define HS_SAMPLE	16			/* pagemap samples in the reshare probe */

#define HS_IDX_BITS	24
#define HS_IDX_MASK	((1u << HS_IDX_BITS) - 1)
#define HS_GEN_MASK	((1u << 24) - 1)

#define PM_PRESENT	(1ull << 63)
#define PM_FILE		(1ull << 61)
#define PM_PFN_MASK	((1ull << 55) - 1)

enum hs_copy { HS_HEAD, HS_TAIL };

enum hs_unshare_kind { HS_U_MPROTECT, HS_U_DONTNEED, HS_U_REMAP, HS_U_PUNCH, HS_U_NR };
static const char *const hs_unshare_names[HS_U_NR] = { "mprotect", "dontneed", "remap", "punch" };

enum hs_walk_kind { HS_W_VM_READV, HS_W_PROC_MEM, HS_W_PAGEMAP, HS_W_SMAPS, HS_W_MINCORE, HS_W_NR };
static const char *const hs_walk_names[HS_W_NR] = {
	"vm_readv", "proc_mem", "pagemap", "smaps", "mincore"
};

enum {
	M_TOUCH,
	M_UNSHARE_MPROTECT,	/* + enum hs_unshare_kind */
	M_UNSHARE_DONTNEED,
	M_UNSHARE_REMAP,
	M_UNSHARE_PUNCH,
	M_LAT_MPROTECT,		/* + enum hs_unshare_kind */
	M_LAT_DONTNEED,
	M_LAT_REMAP,
	M_LAT_PUNCH,
	M_WALK_VM_READV,	/* + enum hs_walk_kind */
	M_WALK_PROC_MEM,
	M_WALK_PAGEMAP,
	M_WALK_SMAPS,
	M_WALK_MINCORE,
	M_FORK_EXIT,
	M_FORK_EXIT_LAT,
	M_PT_SHARED,
	M_PT_UNSHARED,
	M_SEEN_SHARED,
	M_SEEN_UNSHARED,
	M_VMPTE_SHARED,
	M_VMPTE_UNSHARED,
	M_UNSHARE_SEEN,
	M_RESHARE_SEEN,
	M_RESHARE_MPROTECT,	/* + enum hs_unshare_kind */
	M_RESHARE_DONTNEED,
	M_RESHARE_REMAP,
	M_RESHARE_PUNCH,
	M_WALK_MISS,
	M_INJECTED,
};

static const struct mmt_metric hs_metrics[] = {
	[M_TOUCH] = { "touch", "touches/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"stamp checks (and rewrites of owned pages) through the shared mapping" },
	[M_UNSHARE_MPROTECT] = { "unshare_mprotect", "ops/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"mprotect of one 2 MiB page read-only and back" },
	[M_UNSHARE_DONTNEED] = { "unshare_dontneed", "ops/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"MADV_DONTNEED of 1-64 pages" },
	[M_UNSHARE_REMAP] = { "unshare_remap", "ops/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"munmap and mmap again of the whole aligned range" },
	[M_UNSHARE_PUNCH] = { "unshare_punch", "ops/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"fallocate(PUNCH_HOLE) of one page, then rewrite (unshares every mm)" },
	[M_LAT_MPROTECT] = { "unshare_mprotect_latency", "ns", MMT_LATENCY, MMT_BETTER_DEFAULT,
		"both mprotect calls" },
	[M_LAT_DONTNEED] = { "unshare_dontneed_latency", "ns", MMT_LATENCY, MMT_BETTER_DEFAULT,
		"the madvise call" },
	[M_LAT_REMAP] = { "unshare_remap_latency", "ns", MMT_LATENCY, MMT_BETTER_DEFAULT,
		"munmap + mmap" },
	[M_LAT_PUNCH] = { "unshare_punch_latency", "ns", MMT_LATENCY, MMT_BETTER_DEFAULT,
		"the fallocate call" },
	[M_WALK_VM_READV] = { "walk_vm_readv", "ops/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"process_vm_readv of a page's stamps from another worker's mm" },
	[M_WALK_PROC_MEM] = { "walk_proc_mem", "ops/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"pread of /proc/PID/mem of another worker" },
	[M_WALK_PAGEMAP] = { "walk_pagemap", "ops/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"/proc/PID/pagemap of 4 pages of another worker, PFNs cross-checked" },
	[M_WALK_SMAPS] = { "walk_smaps", "ops/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"/proc/PID/smaps of another worker" },
	[M_WALK_MINCORE] = { "walk_mincore", "ops/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"mincore of 8 pages of the walker's own shared range" },
	[M_FORK_EXIT] = { "fork_exit", "cycles/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"fork, child faults storm_pages random pages and exits, reap" },
	[M_FORK_EXIT_LAT] = { "fork_exit_latency", "ns", MMT_LATENCY, MMT_BETTER_DEFAULT,
		"one fork-touch-exit-reap cycle" },
	[M_PT_SHARED] = { "pagetables_kb_per_proc_shared", "kB", MMT_GAUGE, MMT_BETTER_NONE,
		"meminfo PageTables growth per probe process, 1 GiB-aligned mapping (setup)" },
	[M_PT_UNSHARED] = { "pagetables_kb_per_proc_unshared", "kB", MMT_GAUGE, MMT_BETTER_NONE,
		"the same for the 2 MiB-misaligned mapping (no sharing possible)" },
	[M_SEEN_SHARED] = { "seen_through_shared", "fraction", MMT_GAUGE, MMT_BETTER_NONE,
		"pages a probe sees mapped that only another probe faulted, aligned" },
	[M_SEEN_UNSHARED] = { "seen_through_unshared", "fraction", MMT_GAUGE, MMT_BETTER_NONE,
		"the same for the misaligned mapping (0 expected)" },
	[M_VMPTE_SHARED] = { "vmpte_kb_per_proc_shared", "kB", MMT_GAUGE, MMT_BETTER_NONE,
		"/proc/PID/status VmPTE growth of one probe, aligned (counts shared tables too)" },
	[M_VMPTE_UNSHARED] = { "vmpte_kb_per_proc_unshared", "kB", MMT_GAUGE, MMT_BETTER_NONE,
		"the same, misaligned" },
	[M_UNSHARE_SEEN] = { "unshare_seen", "ops", MMT_TOTAL, MMT_BETTER_NONE,
		"unshare ops after which the unsharer's own GiB range had no page mapped" },
	[M_RESHARE_SEEN] = { "reshare_seen", "ops", MMT_TOTAL, MMT_BETTER_NONE,
		"of those, ops where one fault brought back pages it never faulted (shared)" },
	[M_RESHARE_MPROTECT] = { "reshare_fraction_mprotect", "fraction", MMT_GAUGE,
		MMT_BETTER_NONE, "per unsharer: mprotect ops that unshared and then reshared" },
	[M_RESHARE_DONTNEED] = { "reshare_fraction_dontneed", "fraction", MMT_GAUGE,
		MMT_BETTER_NONE, "the same for MADV_DONTNEED" },
	[M_RESHARE_REMAP] = { "reshare_fraction_remap", "fraction", MMT_GAUGE,
		MMT_BETTER_NONE, "the same for munmap + mmap" },
	[M_RESHARE_PUNCH] = { "reshare_fraction_punch", "fraction", MMT_GAUGE,
		MMT_BETTER_NONE, "the same for punch-hole (one mm keeps the table: low)" },
	[M_WALK_MISS] = { "walk_miss", "ops", MMT_TOTAL, MMT_BETTER_NONE,
		"walks that found the target unmapped or gone (remap in progress, exit)" },
	[M_INJECTED] = { "injected", "writes", MMT_TOTAL, MMT_BETTER_NONE,
		"wrong stamps written by the rogue (--inject corrupt)" },
	{ }
};

/* Shared (MAP_SHARED) state: the harness zeroes it, workers inherit it. */
struct hs_priv {
	uint64_t salt;
	uint64_t size;
	uint64_t addr;			/* 1 GiB-aligned mapping, same in every process */
	uint32_t npages;
	int32_t fd;			/* the hugetlb memfd, inherited */
	int32_t child_fault_sig;	/* fork-storm child: signal it took */
	uint64_t child_fault_addr;
	char storm_reason[MMT_REASON_LEN];
	uint32_t gen[HS_MAX_PAGES];	/* generation of each page; written by its owner only */
};

/* Per worker process. */
struct hs_local {
	struct hs_priv *hp;
	uintptr_t addr;
	uint32_t npages;
	int ntouch;	/* toucher workers: owners of toucher pages */
	int ncyc;	/* unsharer workers: owners of every 32nd page */
	int pagemap;	/* /proc/self/pagemap, or -1 */
	uint64_t rng;
};

/* ---- stamps ---- */

static uint16_t hs_check16(uint64_t body, uint64_t salt, unsigned int copy)
{
	uint64_t x = body ^ salt ^ ((uint64_t)(copy + 1) << 56);
	uint16_t c;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	c = (uint16_t)(x ^ (x >> 16) ^ (x >> 32) ^ (x >> 48));
	return c ? c : 1;	/* a valid stamp is never zero */
}

static uint64_t hs_stamp(uint64_t salt, uint32_t idx, uint32_t gen, unsigned int copy)
{
	uint64_t body = (idx & HS_IDX_MASK) | ((uint64_t)(gen & HS_GEN_MASK) << HS_IDX_BITS);

	return body | ((uint64_t)hs_check16(body, salt, copy) << 48);
}

/* A well-formed stamp for this copy (head/tail) of this run? */
static bool hs_stamp_parse(uint64_t v, uint64_t salt, unsigned int copy, uint32_t *idx,
			   uint32_t *gen)
{
	uint64_t body = v & ((1ull << 48) - 1);

	if ((uint16_t)(v >> 48) != hs_check16(body, salt, copy))
		return false;
	*idx = (uint32_t)(body & HS_IDX_MASK);
	*gen = (uint32_t)(body >> HS_IDX_BITS) & HS_GEN_MASK;
	return true;
}

static void hs_describe(uint64_t v, uint64_t salt, unsigned int copy, char *buf, size_t len)
{
	uint32_t idx, gen;

	if (!v)
		snprintf(buf, len, "zero (no stamp)");
	else if (!hs_stamp_parse(v, salt, copy, &idx, &gen))
		snprintf(buf, len, "%#018" PRIx64 " (not a %s stamp of this run)", v,
			 copy == HS_HEAD ? "head" : "tail");
	else
		snprintf(buf, len, "%#018" PRIx64 " (the stamp of page %u, generation %u)", v, idx,
			 gen);
}

/*
 * Is word v fine as copy `copy` of page p?  want_gen < 0: any generation (a
 * reader that does not own the page); hole_ok: zero is acceptable (a page
 * that its owner may have punched out).
 */
static bool hs_word_ok(uint64_t salt, uint32_t p, unsigned int copy, uint64_t v, bool hole_ok,
		       long long want_gen)
{
	uint32_t idx, gen;

	if (!v)
		return hole_ok;
	if (!hs_stamp_parse(v, salt, copy, &idx, &gen) || idx != (p & HS_IDX_MASK))
		return false;
	return want_gen < 0 || gen == ((uint64_t)want_gen & HS_GEN_MASK);
}

static inline uint64_t *hs_word(uintptr_t base, uint32_t p, unsigned int copy)
{
	return (uint64_t *)(base + (uintptr_t)p * HS_HPAGE + (copy == HS_TAIL ? HS_HPAGE - 8 : 0));
}

static inline uint64_t hs_load(uintptr_t base, uint32_t p, unsigned int copy)
{
	return __atomic_load_n(hs_word(base, p, copy), __ATOMIC_RELAXED);
}

static inline void hs_store(uintptr_t base, uint32_t p, unsigned int copy, uint64_t v)
{
	__atomic_store_n(hs_word(base, p, copy), v, __ATOMIC_RELAXED);
}

/* ---- ownership ---- */

static bool hs_is_cyc_page(int ncyc, uint32_t p)
{
	return ncyc > 0 && p % HS_CYC_STRIDE == HS_CYC_STRIDE - 1;
}

/* Owner of page p within its role (toucher or unsharer), -1 when nobody writes it. */
static int hs_owner(int ntouch, int ncyc, uint32_t p, bool *cyc)
{
	*cyc = hs_is_cyc_page(ncyc, p);
	if (*cyc)
		return (int)((p / HS_CYC_STRIDE) % (uint32_t)ncyc);
	return ntouch > 0 ? (int)(p % (uint32_t)ntouch) : -1;
}

/* ---- faults on the mapped range become a FAIL with a reason ---- */

static sigjmp_buf hs_jmp;
static volatile sig_atomic_t hs_jmp_armed;
static volatile sig_atomic_t hs_in_child;
static void *volatile hs_fault_addr;
static volatile sig_atomic_t hs_fault_sig;
static struct mmt_worker *hs_cur_w;
static int (*hs_cur_fn)(struct mmt_worker *w);
static const char *hs_cur_role;

static void hs_on_fault(int sig, siginfo_t *si, void *uc)
{
	struct hs_priv *hp = hs_cur_w ? hs_cur_w->priv : NULL;
	uint64_t a = (uint64_t)(uintptr_t)si->si_addr;

	(void)uc;
	if (!hp || a < hp->addr || a >= hp->addr + hp->size) {
		/* Not on the shared range: not ours to explain; crash as usual. */
		signal(sig, SIG_DFL);
		return;
	}
	hs_fault_addr = si->si_addr;
	hs_fault_sig = sig;
	if (hs_in_child) {
		__atomic_store_n(&hp->child_fault_addr, (uint64_t)(uintptr_t)si->si_addr,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&hp->child_fault_sig, sig, __ATOMIC_RELEASE);
		_exit(3);
	}
	if (hs_jmp_armed) {
		hs_jmp_armed = 0;
		siglongjmp(hs_jmp, 1);
	}
	signal(sig, SIG_DFL);
}

static void hs_fault_where(const struct hs_priv *hp, uint64_t addr, char *buf, size_t len)
{
	uint64_t p = (addr - hp->addr) / HS_HPAGE;

	if (addr >= hp->addr && addr < hp->addr + hp->size)
		snprintf(buf, len, "page %" PRIu64 " (+%#" PRIx64 ") of the shared hugetlb range%s",
			 p, (addr - hp->addr) % HS_HPAGE, p % HS_CYC_STRIDE == HS_CYC_STRIDE - 1 ?
			 " (a page that is punched and refaulted: a refault needs a free huge "
			 "page; did something outside the run take the pool's free pages?)" : "");
	else
		snprintf(buf, len, "outside the shared hugetlb range");
}

static int hs_fault_report(void)
{
	struct mmt_worker *w = hs_cur_w;
	uint64_t addr = (uint64_t)(uintptr_t)hs_fault_addr;
	char where[256];

	hs_fault_where(w->priv, addr, where, sizeof(where));
	return mmt_fail(w, "%s %d: %s at %#" PRIx64 ", %s: a mapped hugetlb page could not be "
			"accessed (now HugePages_Free %lld, HugePages_Rsvd %lld)", hs_cur_role,
			(int)getpid(), strsignal(hs_fault_sig), addr, where,
			mmt_proc_field_kb("/proc/meminfo", "HugePages_Free"),
			mmt_proc_field_kb("/proc/meminfo", "HugePages_Rsvd"));
}

/* Run a role function with SIGBUS/SIGSEGV turned into a FAIL naming the address. */
static int hs_guard(struct mmt_worker *w, int (*fn)(struct mmt_worker *w), const char *role)
{
	struct sigaction sa;

	hs_cur_w = w;
	hs_cur_fn = fn;
	hs_cur_role = role;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = hs_on_fault;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL) || sigaction(SIGSEGV, &sa, NULL))
		return mmt_werror(w, "sigaction: %s", strerror(errno));
	if (sigsetjmp(hs_jmp, 1))
		return hs_fault_report();
	hs_jmp_armed = 1;
	return hs_cur_fn(hs_cur_w);
}

/* ---- worker helpers ---- */

static void hs_local_init(struct hs_local *l, struct mmt_worker *w)
{
	l->hp = w->priv;
	l->addr = (uintptr_t)l->hp->addr;
	l->npages = l->hp->npages;
	if (!mmt_role_slots(w->ctx, "toucher", &l->ntouch))
		l->ntouch = 0;
	if (!mmt_role_slots(w->ctx, "unsharer", &l->ncyc))
		l->ncyc = 0;
	l->pagemap = -1;
	l->rng = w->seed ^ 0x6875676574626c73ull;
}

static uint32_t hs_rand(struct hs_local *l, uint32_t n)
{
	return (uint32_t)(mmt_rand(&l->rng) % n);
}

/* Tell race partners where this worker's mapping is. */
static void hs_publish(struct mmt_worker *w, const struct hs_local *l)
{
	__atomic_store_n(&w->slot->pub[0], (uint64_t)l->addr, __ATOMIC_RELAXED);
	__atomic_store_n(&w->slot->pub[1], 1, __ATOMIC_RELEASE);
}

static int hs_bad(struct mmt_worker *w, const struct hs_local *l, uint32_t p, unsigned int copy,
		  uint64_t v, bool hole_ok, long long want_gen, const char *via)
{
	char found[96], gen[48] = "";

	hs_describe(v, l->hp->salt, copy, found, sizeof(found));
	if (want_gen >= 0)
		snprintf(gen, sizeof(gen), ", generation %lld", want_gen & HS_GEN_MASK);
	return mmt_fail(w, "page %u %s word (file offset %#lx) read via %s by pid %d: expected "
			"the stamp of page %u%s%s, found %s", p, copy == HS_HEAD ? "head" : "tail",
			(unsigned long)p * HS_HPAGE + (copy == HS_TAIL ? HS_HPAGE - 8 : 0), via,
			(int)getpid(), p, gen, hole_ok ? " or zero" : "", found);
}

/* Read and check both words of page p through this process's own mapping. */
static int hs_check_own(struct mmt_worker *w, const struct hs_local *l, uint32_t p,
			long long want_gen, bool hole_ok, const char *via)
{
	unsigned int c;
	uint64_t v;

	for (c = HS_HEAD; c <= HS_TAIL; c++) {
		v = hs_load(l->addr, p, c);
		if (!hs_word_ok(l->hp->salt, p, c, v, hole_ok, want_gen))
			return hs_bad(w, l, p, c, v, hole_ok, want_gen, via);
	}
	return 0;
}

/* Owner: check generation g, then write g + 1 (head first, then tail, then gen[]). */
static int hs_owner_rewrite(struct mmt_worker *w, const struct hs_local *l, uint32_t p,
			    bool hole_ok, const char *via)
{
	uint32_t g = __atomic_load_n(&l->hp->gen[p], __ATOMIC_RELAXED);
	int ret;

	ret = hs_check_own(w, l, p, g, hole_ok, via);
	if (ret)
		return ret;
	g = (g + 1) & HS_GEN_MASK;
	hs_store(l->addr, p, HS_HEAD, hs_stamp(l->hp->salt, p, g, HS_HEAD));
	hs_store(l->addr, p, HS_TAIL, hs_stamp(l->hp->salt, p, g, HS_TAIL));
	__atomic_store_n(&l->hp->gen[p], g, __ATOMIC_RELEASE);
	return 0;
}

/* Read n 8-byte pagemap entries for the 4 KiB pages from vaddr: 0 or -errno. */
static int hs_pagemap_read(int fd, uintptr_t vaddr, size_t n, uint64_t *out)
{
	size_t want = n * sizeof(uint64_t), got = 0;
	off_t off = (off_t)(vaddr / 4096) * (off_t)sizeof(uint64_t);
	ssize_t r;

	while (got < want) {
		r = pread(fd, (char *)out + got, want - got, off + (off_t)got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EIO;
		got += (size_t)r;
	}
	return 0;
}

static int hs_parse_choice(const char *val, const char *const *names, int nr, int *kinds)
{
	int i, n = 0;

	for (i = 0; i < nr; i++)
		if (!val || !strcmp(val, "all") || !strcmp(val, names[i]))
			kinds[n++] = i;
	return n;
}

/* ---- toucher ---- */

static int hs_toucher(struct mmt_worker *w)
{
	struct hs_local l;
	uint32_t p;
	bool cyc;
	int ret, owner;

	hs_local_init(&l, w);
	hs_publish(w, &l);
	while (mmt_running(w)) {
		p = hs_rand(&l, l.npages);
		owner = hs_owner(l.ntouch, l.ncyc, p, &cyc);
		if (!cyc && owner == w->index)
			ret = hs_owner_rewrite(w, &l, p, false,
					       "the toucher's own mapping (owner)");
		else
			ret = hs_check_own(w, &l, p, -1, cyc, "a toucher's own mapping");
		if (ret)
			return ret;
		mmt_add(w, M_TOUCH, 1);
	}
	return MMT_PASS;
}

static int toucher_run(struct mmt_worker *w)
{
	return hs_guard(w, hs_toucher, "toucher");
}

/* ---- unsharer ---- */

/* How many of HS_SAMPLE random pages of [base, base + n), other than skip, are mapped here. */
static int hs_sample_present(struct hs_local *l, uint32_t base, uint32_t n, uint32_t skip)
{
	uint64_t e;
	uint32_t p;
	int i, present = 0, ret;

	for (i = 0; i < HS_SAMPLE; i++) {
		p = base + hs_rand(l, n);
		if (p == skip)
			continue;
		ret = hs_pagemap_read(l->pagemap, l->addr + (uintptr_t)p * HS_HPAGE, 1, &e);
		if (ret)
			return ret;
		present += !!(e & PM_PRESENT);
	}
	return present;
}

/*
 * Put one VMA back over the whole range.  mprotect splits the hugetlb VMA and
 * the pieces never merge again (hugetlb VMAs have a ->close), so without this
 * no VMA of ours would cover a PUD range and this mm could never share again.
 * MAP_FIXED replaces the pieces in one step: no window where the range is
 * unmapped.
 */
static int hs_restore_vma(struct mmt_worker *w, const struct hs_local *l)
{
	void *m = mmap((void *)l->addr, l->hp->size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_FIXED, l->hp->fd, 0);

	if (m != (void *)l->addr)
		return mmt_werror(w, "mmap MAP_FIXED over the split range at %#lx: %s",
				  (unsigned long)l->addr,
				  m == MAP_FAILED ? strerror(errno) : "moved");
	return 0;
}

/*
 * After an unshare op on GiB range `chunk`: were none of its pages mapped in
 * this mm (the op cleared our PUD entry), and after one fault are pages mapped
 * that we did not fault (the fault found another mm's table and shared it)?
 */
static int hs_reshare_probe(struct mmt_worker *w, struct hs_local *l, uint32_t chunk,
			    bool restore, uint64_t *reshared)
{
	uint32_t base = chunk * HS_PER_PUD, n = HS_PER_PUD, q;
	int before, after, ret;

	if (base + n > l->npages)
		n = l->npages - base;
	before = hs_sample_present(l, base, n, UINT32_MAX);
	if (before < 0)
		return mmt_werror(w, "pread /proc/self/pagemap: %s", strerror(-before));
	if (restore) {
		ret = hs_restore_vma(w, l);
		if (ret)
			return ret;
	}
	q = base + hs_rand(l, n);
	ret = hs_check_own(w, l, q, -1, hs_is_cyc_page(l->ncyc, q),
			   "an unsharer's own mapping, first fault after an unshare");
	if (ret)
		return ret;
	after = hs_sample_present(l, base, n, q);
	if (after < 0)
		return mmt_werror(w, "pread /proc/self/pagemap: %s", strerror(-after));
	if (!before) {
		mmt_add(w, M_UNSHARE_SEEN, 1);
		if (after) {
			mmt_add(w, M_RESHARE_SEEN, 1);
			(*reshared)++;
		}
	}
	return 0;
}

static int hs_punch(struct mmt_worker *w, struct hs_local *l, uint32_t p, uint64_t *lat)
{
	uint64_t t0, v;
	unsigned int c;
	uint32_t g;
	int ret;

	/* Owner check of the current contents before they go. */
	ret = hs_check_own(w, l, p, __atomic_load_n(&l->hp->gen[p], __ATOMIC_RELAXED), false,
			   "the unsharer's own mapping before punching its page");
	if (ret)
		return ret;
	t0 = mmt_now_ns();
	if (fallocate(l->hp->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)p * (off_t)HS_HPAGE, (off_t)HS_HPAGE)) {
		if (errno == EOPNOTSUPP)
			return mmt_role_skip(w, "fallocate(PUNCH_HOLE) is not supported on a "
					     "hugetlb memfd here");
		return mmt_werror(w, "fallocate(PUNCH_HOLE) of page %u: %s", p, strerror(errno));
	}
	*lat = mmt_now_ns() - t0;
	/* Nobody else writes this page: it must read as a fresh zero page now. */
	for (c = HS_HEAD; c <= HS_TAIL; c++) {
		v = hs_load(l->addr, p, c);
		if (v) {
			char found[96];

			hs_describe(v, l->hp->salt, c, found, sizeof(found));
			return mmt_fail(w, "page %u %s word still reads %s through pid %d's "
					"mapping "
					"right after fallocate(PUNCH_HOLE) removed the page from "
					"the file: a stale (shared) hugetlb mapping", p,
					c == HS_HEAD ? "head" : "tail", found, (int)getpid());
		}
	}
	/* Rewrite it with the next generation. */
	g = (__atomic_load_n(&l->hp->gen[p], __ATOMIC_RELAXED) + 1) & HS_GEN_MASK;
	hs_store(l->addr, p, HS_HEAD, hs_stamp(l->hp->salt, p, g, HS_HEAD));
	hs_store(l->addr, p, HS_TAIL, hs_stamp(l->hp->salt, p, g, HS_TAIL));
	__atomic_store_n(&l->hp->gen[p], g, __ATOMIC_RELEASE);
	return 0;
}

static int hs_unsharer(struct mmt_worker *w)
{
	struct hs_local l;
	int kinds[HS_U_NR], nk, kind, ret = MMT_PASS;
	uint32_t *own = NULL, nown = 0, p, r, n, chunk, nchunks;
	uint64_t t0, lat, ops[HS_U_NR] = { 0 }, reshared[HS_U_NR] = { 0 };
	void *m;

	hs_local_init(&l, w);
	nchunks = l.npages / HS_PER_PUD;
	nk = hs_parse_choice(mmt_param_str(w->ctx, "unshare"), hs_unshare_names, HS_U_NR, kinds);
	if (!nk)
		return mmt_werror(w, "unshare=%s: no such kind", mmt_param_str(w->ctx, "unshare"));
	own = calloc(l.npages / HS_CYC_STRIDE + 1, sizeof(*own));
	if (!own)
		return mmt_werror(w, "out of memory");
	for (p = 0; p < l.npages; p++) {
		bool cyc;

		if (hs_owner(l.ntouch, l.ncyc, p, &cyc) == w->index && cyc)
			own[nown++] = p;
	}
	l.pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (l.pagemap < 0) {
		ret = mmt_werror(w, "open /proc/self/pagemap: %s", strerror(errno));
		goto out_free;
	}
	hs_publish(w, &l);

	for (uint64_t iter = 0; mmt_running(w); iter++) {
		kind = kinds[(iter + (uint64_t)w->index) % (uint64_t)nk];
		lat = 0;
		switch (kind) {
		case HS_U_MPROTECT:
			r = hs_rand(&l, l.npages);
			chunk = r / HS_PER_PUD;
			m = (void *)(l.addr + (uintptr_t)r * HS_HPAGE);
			t0 = mmt_now_ns();
			if (mprotect(m, HS_HPAGE, PROT_READ) ||
			    mprotect(m, HS_HPAGE, PROT_READ | PROT_WRITE)) {
				ret = mmt_werror(w, "mprotect of page %u: %s", r, strerror(errno));
				goto out_close;
			}
			lat = mmt_now_ns() - t0;
			break;
		case HS_U_DONTNEED:
			r = hs_rand(&l, l.npages);
			n = 1 + hs_rand(&l, 64);
			if (n > l.npages - r)
				n = l.npages - r;
			chunk = r / HS_PER_PUD;
			t0 = mmt_now_ns();
			if (madvise((void *)(l.addr + (uintptr_t)r * HS_HPAGE), n * HS_HPAGE,
				    MADV_DONTNEED)) {
				ret = mmt_werror(w, "MADV_DONTNEED of pages %u-%u: %s", r,
						 r + n - 1,
						 strerror(errno));
				goto out_close;
			}
			lat = mmt_now_ns() - t0;
			break;
		case HS_U_REMAP:
			chunk = hs_rand(&l, nchunks);
			t0 = mmt_now_ns();
			if (munmap((void *)l.addr, l.hp->size)) {
				ret = mmt_werror(w, "munmap: %s", strerror(errno));
				goto out_close;
			}
			m = mmap((void *)l.addr, l.hp->size, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_FIXED_NOREPLACE, l.hp->fd, 0);
			if (m != (void *)l.addr) {
				ret = mmt_werror(w, "mmap again at %#lx: %s", (unsigned long)l.addr,
						 m == MAP_FAILED ? strerror(errno) : "moved");
				goto out_close;
			}
			lat = mmt_now_ns() - t0;
			break;
		case HS_U_PUNCH:
		default:
			if (!nown)
				continue;
			p = own[hs_rand(&l, nown)];
			chunk = p / HS_PER_PUD;
			ret = hs_punch(w, &l, p, &lat);
			if (ret)
				goto out_close;
			break;
		}
		mmt_add(w, M_UNSHARE_MPROTECT + (unsigned int)kind, 1);
		mmt_latency(w, M_LAT_MPROTECT + (unsigned int)kind, lat);
		ops[kind]++;
		ret = hs_reshare_probe(w, &l, chunk, kind == HS_U_MPROTECT, &reshared[kind]);
		if (ret)
			goto out_close;
		/* Keep our own pages moving too, whatever the kind. */
		if (nown) {
			ret = hs_owner_rewrite(w, &l, own[hs_rand(&l, nown)], false,
					       "the unsharer's own mapping (owner)");
			if (ret)
				goto out_close;
		}
	}
	for (kind = 0; kind < HS_U_NR; kind++)
		if (ops[kind])
			mmt_gauge_w(w, M_RESHARE_MPROTECT + (unsigned int)kind,
				    (double)reshared[kind] / (double)ops[kind]);
	ret = MMT_PASS;
out_close:
	close(l.pagemap);
out_free:
	free(own);
	return ret;
}

static int unsharer_run(struct mmt_worker *w)
{
	return hs_guard(w, hs_unsharer, "unsharer");
}

/* ---- walker ---- */

struct hs_targets {
	struct mmt_slot *slot[64];
	int n;
};

static void hs_targets_add(struct hs_targets *t, struct mmt_ctx *ctx, const char *role)
{
	struct mmt_slot *s;
	int i, n;

	s = mmt_role_slots(ctx, role, &n);
	for (i = 0; s && i < n && t->n < (int)(sizeof(t->slot) / sizeof(t->slot[0])); i++)
		t->slot[t->n++] = &s[i];
}

/* A live partner with its mapping published, or 0. */
static pid_t hs_pick(struct hs_local *l, const struct hs_targets *t)
{
	const struct mmt_slot *s;
	int tries;

	for (tries = 0; tries < 8 && t->n; tries++) {
		s = t->slot[hs_rand(l, (uint32_t)t->n)];
		if (__atomic_load_n(&s->pub[1], __ATOMIC_ACQUIRE) && !s->done && s->pid > 0)
			return s->pid;
	}
	return 0;
}

static bool hs_gone(int err)
{
	return err == ESRCH || err == ENOENT || err == EFAULT || err == EIO || err == ENOMEM;
}

static int hs_check_words(struct mmt_worker *w, const struct hs_local *l, uint32_t p,
			  const uint64_t *v, int nwords, const char *via)
{
	bool hole_ok = hs_is_cyc_page(l->ncyc, p);
	int c;

	for (c = 0; c < nwords; c++)
		if (!hs_word_ok(l->hp->salt, p, (unsigned int)c, v[c], hole_ok, -1))
			return hs_bad(w, l, p, (unsigned int)c, v[c], hole_ok, -1, via);
	return 0;
}

static int hs_walk_vm_readv(struct mmt_worker *w, struct hs_local *l, pid_t pid)
{
	uint32_t p = hs_rand(l, l->npages);
	uint64_t v[2] = { 0, 0 };
	struct iovec loc[2] = { { &v[0], 8 }, { &v[1], 8 } };
	struct iovec rem[2] = {
		{ hs_word(l->addr, p, HS_HEAD), 8 },
		{ hs_word(l->addr, p, HS_TAIL), 8 },
	};
	char via[64];
	ssize_t n;

	n = process_vm_readv(pid, loc, 2, rem, 2, 0);
	if (n < 0) {
		if (hs_gone(errno)) {
			mmt_add(w, M_WALK_MISS, 1);
			return 0;
		}
		return mmt_werror(w, "process_vm_readv from pid %d: %s", (int)pid, strerror(errno));
	}
	if (n < 16)
		mmt_add(w, M_WALK_MISS, 1);
	snprintf(via, sizeof(via), "process_vm_readv from pid %d", (int)pid);
	return hs_check_words(w, l, p, v, (int)(n / 8), via);
}

static int hs_walk_proc_mem(struct mmt_worker *w, struct hs_local *l, pid_t pid)
{
	uint32_t p = hs_rand(l, l->npages);
	uint64_t v[2];
	char path[64];
	int fd, c, ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (hs_gone(errno)) {
			mmt_add(w, M_WALK_MISS, 1);
			return 0;
		}
		return mmt_werror(w, "open %s: %s", path, strerror(errno));
	}
	for (c = HS_HEAD; c <= HS_TAIL; c++) {
		if (pread(fd, &v[c], 8, (off_t)(uintptr_t)hs_word(l->addr, p, (unsigned int)c)) !=
		    8) {
			if (hs_gone(errno)) {
				mmt_add(w, M_WALK_MISS, 1);
				goto out;
			}
			ret = mmt_werror(w, "pread %s: %s", path, strerror(errno));
			goto out;
		}
	}
	snprintf(path, sizeof(path), "pread of /proc/%d/mem", (int)pid);
	ret = hs_check_words(w, l, p, v, 2, path);
out:
	close(fd);
	return ret;
}

/*
 * Check the HS_SUBPAGES entries of one hugetlb page: all present or none,
 * file-backed and PFN-contiguous when present.  Returns the head PFN (0 when
 * not present or hidden), or -1 with why[] filled.
 */
static long long hs_pm_hpage(const uint64_t *e, char *why, size_t len)
{
	bool present = e[0] & PM_PRESENT;
	uint64_t pfn0 = e[0] & PM_PFN_MASK;
	unsigned int j;

	for (j = 0; j < HS_SUBPAGES; j++) {
		if (!!(e[j] & PM_PRESENT) != present) {
			snprintf(why, len, "4 KiB entry %u is %spresent, entry 0 is %spresent", j,
				 e[j] & PM_PRESENT ? "" : "not ", present ? "" : "not ");
			return -1;
		}
		if (!present)
			continue;
		if (!(e[j] & PM_FILE)) {
			snprintf(why, len, "entry %u (%#" PRIx64 ") is present but not a file page",
				 j, e[j]);
			return -1;
		}
		if (pfn0 && (e[j] & PM_PFN_MASK) != pfn0 + j) {
			snprintf(why, len, "entry %u has PFN %#" PRIx64 ", head PFN %#" PRIx64
				 " + %u expected", j, (uint64_t)(e[j] & PM_PFN_MASK), pfn0, j);
			return -1;
		}
	}
	return present ? (long long)pfn0 : 0;
}

static int hs_walk_pagemap(struct mmt_worker *w, struct hs_local *l, pid_t pid, uint64_t *tbuf,
			   uint64_t *obuf)
{
	uint32_t nw = l->npages < HS_PM_WINDOW ? l->npages : HS_PM_WINDOW;
	uint32_t first = hs_rand(l, l->npages - nw + 1), h, p;
	uintptr_t va = l->addr + (uintptr_t)first * HS_HPAGE;
	size_t n = (size_t)nw * HS_SUBPAGES;
	long long tpfn, opfn;
	char path[64], why[160];
	int fd, ret = 0, tries;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (hs_gone(errno)) {
			mmt_add(w, M_WALK_MISS, 1);
			return 0;
		}
		return mmt_werror(w, "open %s: %s", path, strerror(errno));
	}
	/* Fault our own view first: our PFNs are the reference. */
	for (h = 0; h < nw; h++) {
		ret = hs_check_own(w, l, first + h, -1, hs_is_cyc_page(l->ncyc, first + h),
				   "a walker's own mapping");
		if (ret)
			goto out;
	}
	ret = hs_pagemap_read(fd, va, n, tbuf);
	if (ret) {
		if (hs_gone(-ret)) {
			mmt_add(w, M_WALK_MISS, 1);
			ret = 0;
			goto out;
		}
		ret = mmt_werror(w, "pread %s: %s", path, strerror(-ret));
		goto out;
	}
	ret = hs_pagemap_read(l->pagemap, va, n, obuf);
	if (ret) {
		ret = mmt_werror(w, "pread /proc/self/pagemap: %s", strerror(-ret));
		goto out;
	}
	for (h = 0; h < nw; h++) {
		p = first + h;
		tpfn = hs_pm_hpage(&tbuf[h * HS_SUBPAGES], why, sizeof(why));
		if (tpfn < 0) {
			ret = mmt_fail(w, "%s of page %u (vaddr %#lx): %s", path, p,
				       (unsigned long)(va + h * HS_HPAGE), why);
			goto out;
		}
		opfn = hs_pm_hpage(&obuf[h * HS_SUBPAGES], why, sizeof(why));
		if (opfn < 0) {
			ret = mmt_fail(w, "/proc/self/pagemap (pid %d) of page %u: %s",
				       (int)getpid(), p, why);
			goto out;
		}
		/* Punched pages change PFN legitimately; everything else never moves. */
		for (tries = 0; tpfn > 0 && opfn > 0 && tpfn != opfn &&
		     !hs_is_cyc_page(l->ncyc, p); tries++) {
			if (tries == 2) {
				ret = mmt_fail(w, "%s says page %u (vaddr %#lx) maps PFN %#llx, "
					       "but "
					       "pid %d maps that file page at PFN %#llx", path, p,
					       (unsigned long)(va + h * HS_HPAGE), tpfn,
					       (int)getpid(), opfn);
				goto out;
			}
			/* A migration in between would settle: read both again. */
			mmt_sleep(w, 1000000);
			if (hs_pagemap_read(fd, va + h * HS_HPAGE, HS_SUBPAGES,
					    &tbuf[h * HS_SUBPAGES]) ||
			    hs_pagemap_read(l->pagemap, va + h * HS_HPAGE, HS_SUBPAGES,
					    &obuf[h * HS_SUBPAGES]))
				break;
			tpfn = hs_pm_hpage(&tbuf[h * HS_SUBPAGES], why, sizeof(why));
			opfn = hs_pm_hpage(&obuf[h * HS_SUBPAGES], why, sizeof(why));
		}
	}
out:
	close(fd);
	return ret;
}

static long long hs_smaps_field(const char *blk, const char *end, const char *key)
{
	size_t kl = strlen(key);
	const char *s;

	for (s = blk; s && s < end; s = strchr(s, '\n'), s = s ? s + 1 : NULL)
		if (!strncmp(s, key, kl) && s[kl] == ':')
			return strtoll(s + kl + 1, NULL, 10);
	return -1;
}

static int hs_walk_smaps(struct mmt_worker *w, struct hs_local *l, pid_t pid, char *buf,
			 size_t len)
{
	long long size, kps, shared, private;
	char path[64], key[32];
	const char *blk, *end;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	n = mmt_read_file(path, buf, len);
	if (n < 0) {
		if (hs_gone((int)-n)) {
			mmt_add(w, M_WALK_MISS, 1);
			return 0;
		}
		return mmt_werror(w, "read %s: %s", path, strerror((int)-n));
	}
	snprintf(key, sizeof(key), "%lx-", (unsigned long)l->addr);
	for (blk = buf; blk; blk = strchr(blk, '\n'), blk = blk ? blk + 1 : NULL)
		if (!strncmp(blk, key, strlen(key)))
			break;
	if (!blk) {
		mmt_add(w, M_WALK_MISS, 1);	/* unmapped or split right now */
		return 0;
	}
	/* The VMA's block ends at the next header line (it starts with a hex digit). */
	for (end = strchr(blk, '\n'); end && end[1]; end = strchr(end + 1, '\n'))
		if ((end[1] >= '0' && end[1] <= '9') || (end[1] >= 'a' && end[1] <= 'f'))
			break;
	if (!end)
		end = buf + n;
	size = hs_smaps_field(blk, end, "Size");
	kps = hs_smaps_field(blk, end, "KernelPageSize");
	shared = hs_smaps_field(blk, end, "Shared_Hugetlb");
	private = hs_smaps_field(blk, end, "Private_Hugetlb");
	if (size <= 0 || kps != 2048 || shared < 0 || private < 0 || shared + private > size)
		return mmt_fail(w, "%s, VMA at %#lx: Size %lld kB, KernelPageSize %lld kB, "
				"Shared_Hugetlb %lld kB, Private_Hugetlb %lld kB: expected a "
				"2048 kB "
				"page size and hugetlb memory within the VMA size", path,
				(unsigned long)l->addr, size, kps, shared, private);
	return 0;
}

static int hs_walk_mincore(struct mmt_worker *w, struct hs_local *l, unsigned char *vec)
{
	uint32_t nw = l->npages < HS_MC_WINDOW ? l->npages : HS_MC_WINDOW;
	uint32_t first = hs_rand(l, l->npages - nw + 1), h, j, p;
	void *va = (void *)(l->addr + (uintptr_t)first * HS_HPAGE);
	int ret;

	if (mincore(va, nw * HS_HPAGE, vec))
		return mmt_werror(w, "mincore of pages %u-%u: %s", first, first + nw - 1,
				  strerror(errno));
	for (h = 0; h < nw; h++) {
		const unsigned char *hv = &vec[h * HS_SUBPAGES];

		p = first + h;
		/*
		 * Where our PUD entry is empty, mincore answers from the page
		 * cache one 4 KiB index at a time, which may race with a punch
		 * of that page: only pages that are never punched must agree.
		 */
		for (j = 1; j < HS_SUBPAGES && !hs_is_cyc_page(l->ncyc, p); j++)
			if ((hv[j] & 1) != (hv[0] & 1))
				return mmt_fail(w, "mincore (pid %d) reports 4 KiB page %u of "
						"hugetlb page %u as %sresident but page 0 as "
						"%sresident", (int)getpid(), j, p,
						hv[j] & 1 ? "" : "not ", hv[0] & 1 ? "" : "not ");
		if (hv[0] & 1) {
			ret = hs_check_own(w, l, p, -1, hs_is_cyc_page(l->ncyc, p),
					   "a walker's own mapping, reported resident by mincore");
			if (ret)
				return ret;
		}
	}
	return 0;
}

static int hs_walker(struct mmt_worker *w)
{
	size_t smaps_len = 1u << 20;
	uint64_t *tbuf = NULL, *obuf = NULL;
	unsigned char *vec = NULL;
	struct hs_targets t = { .n = 0 };
	int kinds[HS_W_NR], nk, kind, ret;
	struct hs_local l;
	char *smaps = NULL;
	pid_t pid;

	hs_local_init(&l, w);
	nk = hs_parse_choice(mmt_param_str(w->ctx, "walk"), hs_walk_names, HS_W_NR, kinds);
	if (!nk)
		return mmt_werror(w, "walk=%s: no such kind", mmt_param_str(w->ctx, "walk"));
	tbuf = calloc(HS_PM_WINDOW * HS_SUBPAGES, sizeof(*tbuf));
	obuf = calloc(HS_PM_WINDOW * HS_SUBPAGES, sizeof(*obuf));
	vec = calloc(HS_MC_WINDOW * HS_SUBPAGES, 1);
	smaps = malloc(smaps_len);
	if (!tbuf || !obuf || !vec || !smaps) {
		ret = mmt_werror(w, "out of memory");
		goto out_free;
	}
	l.pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (l.pagemap < 0) {
		ret = mmt_werror(w, "open /proc/self/pagemap: %s", strerror(errno));
		goto out_free;
	}
	hs_targets_add(&t, w->ctx, "toucher");
	hs_targets_add(&t, w->ctx, "unsharer");
	hs_targets_add(&t, w->ctx, "fork_storm");

	ret = MMT_PASS;
	for (uint64_t iter = 0; mmt_running(w); iter++) {
		kind = kinds[(iter + (uint64_t)w->index) % (uint64_t)nk];
		pid = 0;
		if (kind != HS_W_MINCORE) {
			pid = hs_pick(&l, &t);
			if (!pid) {
				mmt_sleep(w, 1000000);	/* partners not up yet */
				continue;
			}
		}
		switch (kind) {
		case HS_W_VM_READV:
			ret = hs_walk_vm_readv(w, &l, pid);
			break;
		case HS_W_PROC_MEM:
			ret = hs_walk_proc_mem(w, &l, pid);
			break;
		case HS_W_PAGEMAP:
			ret = hs_walk_pagemap(w, &l, pid, tbuf, obuf);
			break;
		case HS_W_SMAPS:
			ret = hs_walk_smaps(w, &l, pid, smaps, smaps_len);
			break;
		case HS_W_MINCORE:
		default:
			ret = hs_walk_mincore(w, &l, vec);
			break;
		}
		if (ret)
			break;
		mmt_add(w, M_WALK_VM_READV + (unsigned int)kind, 1);
	}
	close(l.pagemap);
out_free:
	free(smaps);
	free(vec);
	free(obuf);
	free(tbuf);
	return ret;
}

static int walker_run(struct mmt_worker *w)
{
	return hs_guard(w, hs_walker, "walker");
}

/* ---- fork-exit storm ---- */

static void __attribute__((noreturn)) hs_storm_child(struct hs_local *l, long pages)
{
	struct hs_priv *hp = l->hp;
	uint32_t p;
	uint64_t v;
	unsigned int c;
	long i;

	hs_in_child = 1;
	l->rng ^= (uint64_t)getpid() * 0x9e3779b97f4a7c15ull;
	for (i = 0; i < pages; i++) {
		p = hs_rand(l, l->npages);
		for (c = HS_HEAD; c <= HS_TAIL; c++) {
			v = hs_load(l->addr, p, c);
			if (!hs_word_ok(hp->salt, p, c, v, hs_is_cyc_page(l->ncyc, p), -1)) {
				char found[96];

				hs_describe(v, hp->salt, c, found, sizeof(found));
				snprintf(hp->storm_reason, sizeof(hp->storm_reason),
					 "fork-exit child %d, touch %ld: page %u %s word holds %s",
					 (int)getpid(), i + 1, p, c == HS_HEAD ? "head" : "tail",
					 found);
				_exit(1);
			}
		}
	}
	_exit(0);
}

static int hs_storm(struct mmt_worker *w)
{
	long pages = mmt_param_int(w->ctx, "storm_pages");
	struct hs_local l;
	uint64_t t0, fails = 0;
	int st;
	pid_t pid;

	hs_local_init(&l, w);
	hs_publish(w, &l);
	while (mmt_running(w)) {
		t0 = mmt_now_ns();
		pid = fork();
		if (pid < 0) {
			if ((errno == EAGAIN || errno == ENOMEM) && ++fails < 1000) {
				mmt_sleep(w, 1000000);
				continue;
			}
			return mmt_werror(w, "fork: %s", strerror(errno));
		}
		if (!pid)
			hs_storm_child(&l, pages);
		while (waitpid(pid, &st, 0) < 0)
			if (errno != EINTR)
				return mmt_werror(w, "waitpid %d: %s", (int)pid, strerror(errno));
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			mmt_latency(w, M_FORK_EXIT_LAT, mmt_now_ns() - t0);
			mmt_add(w, M_FORK_EXIT, 1);
			continue;
		}
		if (WIFEXITED(st) && WEXITSTATUS(st) == 1)
			return mmt_fail(w, "%s", l.hp->storm_reason);
		if (WIFEXITED(st) && WEXITSTATUS(st) == 3) {
			char where[256];
			uint64_t a = __atomic_load_n(&l.hp->child_fault_addr, __ATOMIC_ACQUIRE);

			hs_fault_where(l.hp, a, where, sizeof(where));
			return mmt_fail(w, "fork-exit child %d: %s at %#" PRIx64 ", %s", (int)pid,
					strsignal(l.hp->child_fault_sig), a, where);
		}
		if (WIFSIGNALED(st))
			return mmt_fail(w, "fork-exit child %d killed by %s", (int)pid,
					strsignal(WTERMSIG(st)));
		return mmt_werror(w, "fork-exit child %d: wait status %#x", (int)pid, st);
	}
	return MMT_PASS;
}

static int storm_run(struct mmt_worker *w)
{
	return hs_guard(w, hs_storm, "fork_storm");
}

/* ---- rogue (--inject corrupt) ---- */

static int rogue_run(struct mmt_worker *w)
{
	struct hs_local l;
	uint32_t p, other;

	hs_local_init(&l, w);
	if (!mmt_sleep(w, 300000000ull))
		return MMT_PASS;
	while (mmt_running(w)) {
		/* A toucher page gets the stamp of its neighbour: a wrong page. */
		do
			p = hs_rand(&l, l.npages);
		while (hs_is_cyc_page(l.ncyc, p));
		other = (p + 1) % l.npages;
		hs_store(l.addr, p, HS_HEAD, hs_stamp(l.hp->salt, other,
						      l.hp->gen[other], HS_HEAD));
		mmt_add(w, M_INJECTED, 1);
		mmt_sleep(w, 20000000ull);
	}
	return MMT_PASS;
}

/* ---- setup: the file, the mapping, and the proof that mms share PMD tables ---- */

enum hs_probe_op { HS_OP_FIRST, HS_OP_FULL, HS_OP_SEEN, HS_OP_QUIT };
enum hs_mode { HS_ALIGNED, HS_MISALIGNED };

struct hs_probes {
	int n;
	pid_t pid[HS_MAX_PROBES];
	int cmd[HS_MAX_PROBES];	/* write ends */
	int reply;		/* read end */
};

struct hs_round {
	double pt_kb[2];	/* PageTables growth per process */
	double seen[2];		/* fraction of never-faulted pages seen mapped */
	double vmpte_kb[2];	/* VmPTE growth of probe 1 */
};

/* Parent-only state (setup to teardown). */
static struct {
	uintptr_t addr;
	size_t size;
	uintptr_t mis;
	size_t mis_len;
	int fd;
} hs_parent = { .fd = -1 };

static uintptr_t hs_probe_addr(const struct hs_priv *hp, uintptr_t mis, int mode, uint32_t p)
{
	if (mode == HS_ALIGNED)
		return (uintptr_t)hp->addr + (uintptr_t)p * HS_HPAGE;
	return mis + (uintptr_t)(p / HS_PER_PUD) * HS_MIS_STRIDE + HS_HPAGE +
	       (uintptr_t)(p % HS_PER_PUD) * HS_HPAGE;
}

/* Fault page p through mapping `mode` and check it is page p: true if fine. */
static bool hs_probe_touch(const struct hs_priv *hp, uintptr_t mis, int mode, uint32_t p)
{
	uint64_t v = __atomic_load_n((uint64_t *)hs_probe_addr(hp, mis, mode, p),
				     __ATOMIC_RELAXED);

	return hs_word_ok(hp->salt, p, HS_HEAD, v, false, -1);
}

static void __attribute__((noreturn)) hs_probe_main(const struct hs_priv *hp, uintptr_t mis,
						     int cmdfd, int replyfd)
{
	unsigned char c[2];
	uint32_t p, nchunks = hp->npages / HS_PER_PUD;
	int64_t res;
	uint64_t e;
	int pm;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	for (;;) {
		if (read(cmdfd, c, 2) != 2 || c[0] == HS_OP_QUIT)
			_exit(0);
		res = 0;
		switch (c[0]) {
		case HS_OP_FIRST:	/* the first page of every GiB */
			for (p = 0; p < nchunks && res >= 0; p++)
				if (!hs_probe_touch(hp, mis, c[1], p * HS_PER_PUD))
					res = -1000 - (int64_t)(p * HS_PER_PUD);
			break;
		case HS_OP_FULL:
			for (p = 0; p < hp->npages && res >= 0; p++)
				if (!hs_probe_touch(hp, mis, c[1], p))
					res = -1000 - (int64_t)p;
			break;
		case HS_OP_SEEN:	/* pages mapped here that this probe never faulted */
			for (p = 0; p < hp->npages && res >= 0; p++) {
				if (!(p % HS_PER_PUD))
					continue;
				if (pm < 0 || pread(pm, &e, 8, (off_t)(hs_probe_addr(hp, mis, c[1],
						p) / 4096 * 8)) != 8)
					res = -1;
				else
					res += !!(e & PM_PRESENT);
			}
			break;
		}
		if (write(replyfd, &res, sizeof(res)) != sizeof(res))
			_exit(1);
	}
}

static void hs_probes_stop(struct hs_probes *ps)
{
	unsigned char c[2] = { HS_OP_QUIT, 0 };
	int i, st, k;

	for (i = 0; i < ps->n; i++) {
		if (write(ps->cmd[i], c, 2) != 2) {
			/* it is gone or stuck: it is ours, end it */
		}
		close(ps->cmd[i]);
	}
	for (i = 0; i < ps->n; i++) {
		for (k = 0; k < 500; k++) {
			pid_t r = waitpid(ps->pid[i], &st, WNOHANG);

			if (r == ps->pid[i] || (r < 0 && errno == ECHILD))
				break;
			usleep(10000);
		}
		if (k == 500) {
			kill(ps->pid[i], SIGKILL);
			waitpid(ps->pid[i], &st, 0);
		}
	}
	if (ps->reply >= 0)
		close(ps->reply);
	ps->n = 0;
	ps->reply = -1;
}

static int hs_probes_start(struct hs_probes *ps, int n, const struct hs_priv *hp, uintptr_t mis)
{
	int rep[2], cmd[2], i, ret;
	pid_t pid;

	ps->n = 0;
	ps->reply = -1;
	if (pipe2(rep, O_CLOEXEC))
		return -errno;
	ps->reply = rep[0];
	for (i = 0; i < n; i++) {
		if (pipe2(cmd, O_CLOEXEC)) {
			ret = -errno;
			goto out_stop;
		}
		pid = fork();
		if (pid < 0) {
			ret = -errno;
			close(cmd[0]);
			close(cmd[1]);
			goto out_stop;
		}
		if (!pid) {
			close(cmd[1]);
			close(rep[0]);
			hs_probe_main(hp, mis, cmd[0], rep[1]);
		}
		close(cmd[0]);
		ps->pid[ps->n] = pid;
		ps->cmd[ps->n++] = cmd[1];
	}
	close(rep[1]);
	return 0;
out_stop:
	close(rep[1]);
	hs_probes_stop(ps);
	return ret;
}

/* One command to probe i and its answer: 0 or -errno (-EBADMSG: a stamp was wrong). */
static int hs_probe_cmd(struct hs_probes *ps, int i, int op, int mode, int64_t *val)
{
	unsigned char c[2] = { (unsigned char)op, (unsigned char)mode };
	struct pollfd pfd = { .fd = ps->reply, .events = POLLIN };
	int r;

	if (write(ps->cmd[i], c, 2) != 2)
		return -EPIPE;
	do
		r = poll(&pfd, 1, 30000);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return r ? -errno : -ETIMEDOUT;
	if (read(ps->reply, val, sizeof(*val)) != sizeof(*val))
		return -EPIPE;
	return *val < 0 ? -EBADMSG : 0;
}

/* meminfo PageTables in kB, per-CPU vmstat deltas folded first. */
static long long hs_pagetables_kb(void)
{
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		/* A trigger, not a knob: nothing to save or restore. */
		if (write(fd, "1", 1) < 0) {
			/* EINVAL when a counter was briefly negative: the fold still ran */
		}
		close(fd);
	}
	return mmt_proc_field_kb("/proc/meminfo", "PageTables");
}

/*
 * PageTables once it stops moving: page tables of exited processes (the
 * previous round's probes, fork's copies) are freed after an RCU grace period.
 */
static long long hs_pagetables_settled_kb(void)
{
	long long prev = hs_pagetables_kb(), cur = prev;
	int i;

	for (i = 0; i < 25; i++) {
		usleep(20000);
		cur = hs_pagetables_kb();
		if (cur == prev)
			break;
		prev = cur;
	}
	return cur;
}

static long long hs_vmpte_kb(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	return mmt_proc_field_kb(path, "VmPTE");
}

/*
 * One round: n fresh probes, each mapping the file aligned (inherited) and
 * misaligned (inherited).  Per mode: probe 0 faults the first page of every
 * GiB, then the others do (sharing probe 0's tables if they can), then probe
 * 0 faults everything, then the others count the pages their own page tables
 * map that they never faulted, then fault everything too.
 */
static int hs_probe_round(struct mmt_ctx *ctx, const struct hs_priv *hp, uintptr_t mis, int n,
			  struct hs_round *r, char *err, size_t errlen)
{
	uint32_t nchunks = hp->npages / HS_PER_PUD;
	long long pt0, pt1, vm0, vm1;
	struct hs_probes ps;
	int64_t val, seen;
	int mode, i, ret;

	(void)ctx;
	ret = hs_probes_start(&ps, n, hp, mis);
	if (ret) {
		snprintf(err, errlen, "starting probe processes: %s", strerror(-ret));
		return ret;
	}
	for (mode = HS_ALIGNED; mode <= HS_MISALIGNED; mode++) {
		pt0 = hs_pagetables_settled_kb();
		vm0 = hs_vmpte_kb(ps.pid[1]);
		seen = 0;
		for (i = 0; i < n && !ret; i++)
			ret = hs_probe_cmd(&ps, i, HS_OP_FIRST, mode, &val);
		if (!ret)
			ret = hs_probe_cmd(&ps, 0, HS_OP_FULL, mode, &val);
		for (i = 1; i < n && !ret; i++) {
			ret = hs_probe_cmd(&ps, i, HS_OP_SEEN, mode, &val);
			seen += val;
		}
		for (i = 1; i < n && !ret; i++)
			ret = hs_probe_cmd(&ps, i, HS_OP_FULL, mode, &val);
		if (ret) {
			if (ret == -EBADMSG && val <= -1000)
				snprintf(err, errlen, "a probe read a wrong stamp on page %" PRId64
					 " through the %s mapping", -1000 - val,
					 mode == HS_ALIGNED ? "aligned" : "misaligned");
			else
				snprintf(err, errlen, "probe command: %s", strerror(-ret));
			break;
		}
		pt1 = hs_pagetables_settled_kb();
		vm1 = hs_vmpte_kb(ps.pid[1]);
		r->pt_kb[mode] = (double)(pt1 - pt0) / n;
		r->vmpte_kb[mode] = (double)(vm1 - vm0);
		r->seen[mode] = (double)seen / ((double)(n - 1) * (hp->npages - nchunks));
	}
	hs_probes_stop(&ps);
	return ret;
}

static int hs_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double hs_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), hs_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Reserve len bytes of address space at an address that is 1 GiB-aligned. */
static uintptr_t hs_reserve_aligned(size_t len)
{
	size_t raw_len = len + HS_PUD;
	uintptr_t raw, a;
	void *m;

	m = mmap(NULL, raw_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return 0;
	raw = (uintptr_t)m;
	a = (raw + HS_PUD - 1) & ~(uintptr_t)(HS_PUD - 1);
	if (a > raw)
		munmap((void *)raw, a - raw);
	if (raw + raw_len > a + len)
		munmap((void *)(a + len), raw + raw_len - (a + len));
	return a;
}

static int hs_prove_sharing(struct mmt_ctx *ctx, struct hs_priv *hp, bool *proved)
{
	int n = (int)mmt_param_int(ctx, "probes");
	uint32_t nchunks = hp->npages / HS_PER_PUD, k;
	double pt[2][HS_ROUNDS], seen[2][HS_ROUNDS], vmpte[2][HS_ROUNDS], med[3][2];
	struct hs_round r;
	char err[200];
	void *m;
	int i, mode, ret;

	/* The misaligned view: each GiB of the file 2 MiB off a PUD boundary, apart. */
	hs_parent.mis_len = nchunks * HS_MIS_STRIDE;
	hs_parent.mis = hs_reserve_aligned(hs_parent.mis_len);
	if (!hs_parent.mis)
		return mmt_error(ctx, "reserving %zu bytes of address space: %s",
				 hs_parent.mis_len, strerror(errno));
	for (k = 0; k < nchunks; k++) {
		uintptr_t a = hs_parent.mis + k * HS_MIS_STRIDE + HS_HPAGE;

		m = mmap((void *)a, HS_PUD, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
			 hp->fd, (off_t)k * (off_t)HS_PUD);
		if (m == MAP_FAILED)
			return mmt_error(ctx, "mmap of the misaligned view at %#lx: %s",
					 (unsigned long)a, strerror(errno));
	}

	for (i = 0; i < HS_ROUNDS; i++) {
		memset(&r, 0, sizeof(r));
		ret = hs_probe_round(ctx, hp, hs_parent.mis, n, &r, err, sizeof(err));
		if (ret == -EBADMSG)
			return mmt_fail_ctx(ctx, "sharing proof: %s", err);
		if (ret)
			return mmt_error(ctx, "sharing proof: %s", err);
		for (mode = HS_ALIGNED; mode <= HS_MISALIGNED; mode++) {
			pt[mode][i] = r.pt_kb[mode];
			seen[mode][i] = r.seen[mode];
			vmpte[mode][i] = r.vmpte_kb[mode];
			mmt_gauge(ctx, mode == HS_ALIGNED ? M_PT_SHARED : M_PT_UNSHARED,
				  r.pt_kb[mode]);
			mmt_gauge(ctx, mode == HS_ALIGNED ? M_SEEN_SHARED : M_SEEN_UNSHARED,
				  r.seen[mode]);
			mmt_gauge(ctx, mode == HS_ALIGNED ? M_VMPTE_SHARED : M_VMPTE_UNSHARED,
				  r.vmpte_kb[mode]);
		}
	}
	if (munmap((void *)hs_parent.mis, hs_parent.mis_len))
		return mmt_error(ctx, "munmap of the misaligned view at %#lx: %s",
				 (unsigned long)hs_parent.mis, strerror(errno));
	hs_parent.mis = 0;

	for (mode = HS_ALIGNED; mode <= HS_MISALIGNED; mode++) {
		med[0][mode] = hs_median(pt[mode], HS_ROUNDS);
		med[1][mode] = hs_median(seen[mode], HS_ROUNDS);
		med[2][mode] = hs_median(vmpte[mode], HS_ROUNDS);
	}
	*proved = med[1][HS_ALIGNED] >= 0.99 && med[1][HS_MISALIGNED] <= 0.01;
	mmt_note(ctx, "PMD sharing %s: a process saw %.1f%% of the pages it never faulted mapped "
		 "in its own page tables with the 1 GiB-aligned mapping (another process had "
		 "faulted them), %.1f%% with the 2 MiB-misaligned one; meminfo PageTables "
		 "%.2f kB/process aligned vs %.2f kB/process misaligned (%d processes, %u GiB, "
		 "median of %d rounds)", *proved ? "proved" : "NOT proved",
		 100 * med[1][HS_ALIGNED], 100 * med[1][HS_MISALIGNED], med[0][HS_ALIGNED],
		 med[0][HS_MISALIGNED], n, nchunks, HS_ROUNDS);
	mmt_note(ctx, "VmPTE grew %.0f kB per process aligned and %.0f kB misaligned: it "
		 "charges a shared PMD table to every mm that maps it, so only PageTables and the "
		 "seen-through pages show the sharing", med[2][HS_ALIGNED], med[2][HS_MISALIGNED]);
	return MMT_PASS;
}

static void hs_teardown(struct mmt_ctx *ctx)
{
	(void)ctx;
	if (hs_parent.mis)
		munmap((void *)hs_parent.mis, hs_parent.mis_len);
	if (hs_parent.addr)
		munmap((void *)hs_parent.addr, hs_parent.size);
	if (hs_parent.fd >= 0)
		close(hs_parent.fd);
	hs_parent.mis = 0;
	hs_parent.addr = 0;
	hs_parent.fd = -1;
}

static int hs_setup(struct mmt_ctx *ctx)
{
	struct hs_priv *hp = mmt_priv(ctx);
	uint64_t size = mmt_param_size(ctx, "size");
	unsigned long need;
	bool proved = false;
	uint32_t p;
	void *m;
	long avail;
	int ret;

#ifndef __x86_64__
	return mmt_skip(ctx, "hugetlb PMD sharing as driven here assumes x86_64 (1 GiB PUD, "
			"CONFIG_HUGETLB_PMD_PAGE_TABLE_SHARING)");
#endif
	if (!size || size % HS_PUD || size / HS_HPAGE > HS_MAX_PAGES)
		return mmt_error(ctx, "size=%" PRIu64 ": must be whole GiB, at most %d GiB", size,
				 HS_MAX_GIB);
	hp->size = size;
	hp->npages = (uint32_t)(size / HS_HPAGE);
	hp->salt = mmt_now_ns() * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
	need = hp->npages + HS_SLACK;
	avail = mmt_hugetlb_reserve(ctx, need);
	if (avail < 0)
		return mmt_skip(ctx, "cannot get 2 MiB hugetlb pages: %s", strerror((int)-avail));
	if ((unsigned long)avail < need)
		return mmt_skip(ctx, "only %ld free 2 MiB hugetlb pages, need %lu (%" PRIu64
				" GiB file + %d slack)", avail, need, size >> 30, HS_SLACK);

	hs_parent.fd = memfd_create("mmt-hugetlb-share", MFD_CLOEXEC | MFD_HUGETLB | MFD_HUGE_2MB);
	if (hs_parent.fd < 0) {
		if (errno == EINVAL || errno == ENOSYS)
			return mmt_skip(ctx, "memfd_create(MFD_HUGETLB | MFD_HUGE_2MB): %s",
					strerror(errno));
		return mmt_error(ctx, "memfd_create: %s", strerror(errno));
	}
	hp->fd = hs_parent.fd;
	if (ftruncate(hs_parent.fd, (off_t)size))
		return mmt_error(ctx, "ftruncate of the hugetlb memfd to %" PRIu64 ": %s", size,
				 strerror(errno));
	if (fallocate(hs_parent.fd, 0, 0, (off_t)size)) {
		if (errno == ENOSPC || errno == ENOMEM)
			return mmt_skip(ctx, "could not allocate %u hugetlb pages for the file: %s",
					hp->npages, strerror(errno));
		return mmt_error(ctx, "fallocate of the hugetlb memfd: %s", strerror(errno));
	}

	/* Stamps, through a temporary mapping that takes its page tables with it. */
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, hs_parent.fd, 0);
	if (m == MAP_FAILED)
		return mmt_error(ctx, "mmap of the hugetlb memfd: %s", strerror(errno));
	for (p = 0; p < hp->npages; p++) {
		hs_store((uintptr_t)m, p, HS_HEAD, hs_stamp(hp->salt, p, 0, HS_HEAD));
		hs_store((uintptr_t)m, p, HS_TAIL, hs_stamp(hp->salt, p, 0, HS_TAIL));
	}
	if (munmap(m, size))
		return mmt_error(ctx, "munmap of the stamping view: %s", strerror(errno));

	/* The worker mapping: 1 GiB-aligned, never faulted by the parent before verify. */
	hs_parent.size = size;
	hs_parent.addr = hs_reserve_aligned(size);
	if (!hs_parent.addr)
		return mmt_error(ctx, "reserving %" PRIu64 " bytes of address space: %s", size,
				 strerror(errno));
	m = mmap((void *)hs_parent.addr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 hs_parent.fd, 0);
	if (m == MAP_FAILED)
		return mmt_error(ctx, "mmap of the hugetlb memfd at %#lx: %s",
				 (unsigned long)hs_parent.addr, strerror(errno));
	hp->addr = hs_parent.addr;

	ret = hs_prove_sharing(ctx, hp, &proved);
	if (ret != MMT_PASS)
		return ret;
	if (!proved && mmt_param_bool(ctx, "require_sharing"))
		return mmt_skip(ctx, "mms mapping the same hugetlb file at 1 GiB-aligned addresses "
				"do not share PMD tables on this kernel (no "
				"CONFIG_HUGETLB_PMD_PAGE_TABLE_SHARING?); require_sharing=no runs "
				"anyway");
	mmt_note(ctx, "layout: %u hugetlb pages (%" PRIu64 " GiB memfd) at %#lx in every worker; "
		 "every page p with p %% %u == %u owned by an unsharer, the rest by the touchers",
		 hp->npages, size >> 30, (unsigned long)hp->addr, HS_CYC_STRIDE,
		 HS_CYC_STRIDE - 1);
	return MMT_PASS;
}

/* ---- verify: every stamp, through a fresh fault of every page in the parent ---- */

static int hs_verify(struct mmt_ctx *ctx)
{
	struct hs_priv *hp = mmt_priv(ctx);
	struct mmt_slot *ts, *us;
	int nt = 0, nu = 0, owner;
	uint32_t p, bad = 0, g;
	uint64_t rewrites = 0, v;
	char first[3][200];
	unsigned int c;
	bool cyc, done, ok;
	uint32_t idx, sg;

	if (!hp->addr)
		return MMT_PASS;
	ts = mmt_role_slots(ctx, "toucher", &nt);
	us = mmt_role_slots(ctx, "unsharer", &nu);
	if (!ts)
		nt = 0;
	if (!us)
		nu = 0;
	for (p = 0; p < hp->npages; p++) {
		owner = hs_owner(nt, nu, p, &cyc);
		done = owner < 0 || (cyc ? us[owner].done : ts[owner].done);
		g = hp->gen[p];
		rewrites += g;
		for (c = HS_HEAD; c <= HS_TAIL; c++) {
			v = hs_load((uintptr_t)hp->addr, p, c);
			/* An owner killed mid-update: the next generation or a hole. */
			ok = hs_word_ok(hp->salt, p, c, v, cyc && !done, g);
			if (!ok && !done && hs_stamp_parse(v, hp->salt, c, &idx, &sg))
				ok = idx == p && sg == ((g + 1) & HS_GEN_MASK);
			if (ok)
				continue;
			if (bad < 3) {
				char found[96];

				hs_describe(v, hp->salt, c, found, sizeof(found));
				snprintf(first[bad], sizeof(first[bad]), "page %u %s: %s, expected "
					 "page %u generation %u", p, c == HS_HEAD ? "head" : "tail",
					 found, p, g);
			}
			bad++;
			break;
		}
	}
	if (bad)
		return mmt_fail_ctx(ctx, "after the run %u of %u pages hold wrong stamps: "
				    "%s%s%s%s%s",
				    bad, hp->npages, first[0], bad > 1 ? "; " : "",
				    bad > 1 ? first[1] : "", bad > 2 ? "; " : "",
				    bad > 2 ? first[2] : "");
	mmt_note(ctx, "verified: all %u pages carry their own stamps (head and tail) at the "
		 "owners' final generations; %" PRIu64 " owner rewrites in total", hp->npages,
		 rewrites);
	return MMT_PASS;
}

/* ---- registration ---- */

static const struct mmt_param hs_params[] = {
	{ "size", MMT_P_SIZE, "1g", "hugetlb file size, whole GiB (one shareable PMD table each)",
	  1ll << 30, (long long)HS_MAX_GIB << 30, NULL },
	{ "probes", MMT_P_INT, "16", "processes in the sharing proof (setup)", 2, HS_MAX_PROBES,
	  NULL },
	{ "require_sharing", MMT_P_BOOL, "yes", "skip when PMD sharing cannot be proved", 0, 0,
	  NULL },
	{ "unshare", MMT_P_CHOICE, "all", "unshare kinds the unsharers rotate through", 0, 0,
	  "all|mprotect|dontneed|remap|punch" },
	{ "walk", MMT_P_CHOICE, "all", "walk kinds the walkers rotate through", 0, 0,
	  "all|vm_readv|proc_mem|pagemap|smaps|mincore" },
	{ "storm_pages", MMT_P_INT, "100", "random pages each fork-storm child faults", 1, 4096,
	  NULL },
	{ }
};

static const struct mmt_role hs_roles[] = {
	{ "toucher", toucher_run, MMT_PROCESS, MMT_SCALED, 0 },
	{ "unsharer", unsharer_run, MMT_PROCESS, HS_NR_UNSHARERS, 0 },
	{ "walker", walker_run, MMT_PROCESS, HS_NR_WALKERS, 0 },
	{ "fork_storm", storm_run, MMT_PROCESS, 1, 0 },
	{ "rogue", rogue_run, MMT_PROCESS, 1, MMT_ROLE_INJECT_CORRUPT },
	{ }
};

static const struct mmt_workload hugetlb_share = {
	.name = "hugetlb-share",
	.summary = "hugetlb PMD tables shared by many mms, unshared by mprotect/DONTNEED/munmap/"
		   "punch-hole/exit under foreign-mm walkers",
	.suite = "quick",
	.needs = MMT_NEED_ROOT | MMT_NEED_HUGETLB,
	.injects = MMT_INJECT_CORRUPT,
	.default_workers = 2,
	.params = hs_params,
	.metrics = hs_metrics,
	.roles = hs_roles,
	.priv_size = sizeof(struct hs_priv),
	.setup = hs_setup,
	.verify = hs_verify,
	.teardown = hs_teardown,
};

MMT_REGISTER(hugetlb_share);
