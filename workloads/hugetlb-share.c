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
 * In-mm walkers (-p inmm=gup,access,reuse, all by default): threads inside the sharing mms
 * themselves, racing the unshare of their own mm (by a sibling thread or another process) -
 * what GUP-fast and stale TLB entries see there.  gup (every toucher, unsharer and walker):
 * pins the shared range through GUP-fast and checks the data end to end: io_uring buffer
 * registration (pin_user_pages_fast, FOLL_LONGTERM) of 1-4 pages' head and tail 4 KiB blocks,
 * write_fixed into a memfd, read back; O_DIRECT pread of a file block of known words into the
 * thread's own 4 KiB slot in a never-punched page, poisoned first (data that went to another
 * page leaves the poison); O_DIRECT pwrite of a page's head and tail blocks, read back; vmsplice
 * of 1-4 pages' blocks into a pipe, read out (-p gup= picks one kind).  A copied block must
 * hold the page's stamp, of a generation between the one its owner announced before the copy
 * and the one after (+1), or zero if a punch of the page was in flight (punch_seq), and zero
 * everywhere else; a word torn by the kernel's copy may mix two such values byte by byte.
 * access (unsharers, walkers; a toucher's main thread is its accessor): on another CPU across
 * the unshares, reads both stamps of random pages (often the page the main thread works on)
 * with the same generation lower bound - a read through a stale TLB entry of a punched page
 * shows an older generation - and writes and reads back a word of its own in each page (the
 * value it wrote last; zero only on a punched page, -p strict_punch=yes: only if a punch began
 * after the write).  reuse (touchers, walkers; an unsharer's main thread fills right after each
 * of its ops): the moment an unshare or a fork-storm exit ends (futex on unshare_seq), maps a
 * fresh anonymous region and faults one page per (1 GiB + 2 MiB), so each gets a new PMD and a
 * new PTE table from the pages just freed, fills each page with a PTE-shaped word pointing at
 * itself (present, user, read-only: a stale walk through a reused table lands on a page whose
 * content names it), reads every word back and unmaps.  Accesses or pins that fault (EFAULT)
 * inside the unsharer's own mprotect/munmap window are counted as misses; outside it they
 * FAIL.  Any wrong word FAILs naming the mm (pid), thread, page, word, expected and found.
 * O_DIRECT needs a block-backed filesystem in the run's temporary directory; on tmpfs (a VM's
 * initramfs; its O_DIRECT copies without pinning) an autoclear loop device over the file is used (detached when its last fd closes,
 * also if the run is killed); without either the O_DIRECT kinds are off (noted).  The threads
 * make the main loops slower on few CPUs: -p inmm=none gives the foreign-mm-only figures.
 *
 * Stale (-p stale=yes, default): one more process unmaps the whole shared range together with
 * a ballast mapped right after it (a never-faulted shmem memfd split into 4096 VMAs), so that
 * the kernel zaps the hugetlb VMA first (unsharing the PMD table: the PUD entry goes) and
 * finishes its mmu_gather only after walking and unlinking the ballast.  A sibling thread on
 * another CPU sees the PUD entry go (a read of an untouched page faults), raises a reader
 * pinned to the unmapper's CPU to SCHED_FIFO above the munmap (it holds the munmap at its next
 * preemption point, in the same mm: no CR3 switch), punches one of its own pages p (the
 * unmapper read it last), faults a private hugetlb page bound to p's node (the pool hands back
 * the page just freed) and fills it with foreign words; the reader reads p meanwhile and once
 * more after the fill.  The vma is gone, so only a TLB entry can answer: a fault, or p's old
 * stamp while the page is still held, is correct; zero, the foreign fill or anything else is a
 * page freed while this mm's TLB still mapped it: FAIL (mm, thread, CPU, page, word, PFNs).
 * That is what huge_pmd_unshare_flush() prevents by flushing before the i_mmap_rwsem drops.
 *
 * Figures: `unshare` and `walk` are the unsharers' and walkers' loops (ops/s, all kinds), with
 * one latency metric per kind; `gup_inmm` the gup threads' loop with per-kind latency and
 * verified blocks; `access_inmm` checks/s; `reuse_fill` ranges filled/s and the latency from
 * the end of an unshare to the end of the fill; `stale` cycles/s, with how many re-reads came
 * inside the munmap (stale_in_window), how often the foreign page got the punched page's PFN
 * (stale_reused), and the re-reads' outcomes (stale_flushed, stale_old).
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
 * (sized by the harness, restored afterwards); io_uring for the uring kind (off, noted,
 * without it).  Changes no knob itself.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/futex.h>
#include <linux/loop.h>
#include <liburing.h>

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
#define HS_FOREIGN_SALT	0x666f726569676e21ull	/* the stale role's foreign fill words */
#define HS_BAL_LEN	(512ul << 20)		/* stale ballast after the range */
#define HS_BAL_CHUNK	(128u << 10)		/* every other one read-only: 4096 VMAs */
#define HS_ST_WARM	256u			/* pages the stale unmapper faults, its sibling probes */

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
	M_UNSHARE,		/* the unsharers' loop, every kind */
	M_LAT_MPROTECT,		/* + enum hs_unshare_kind */
	M_LAT_DONTNEED,
	M_LAT_REMAP,
	M_LAT_PUNCH,
	M_WALK,			/* the walkers' loop, every kind */
	M_WLAT_VM_READV,	/* + enum hs_walk_kind */
	M_WLAT_PROC_MEM,
	M_WLAT_PAGEMAP,
	M_WLAT_SMAPS,
	M_WLAT_MINCORE,
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
	M_GUP,			/* in-mm GUP-fast thread's loop, every kind */
	M_GLAT_URING,		/* + enum hs_gup_kind */
	M_GLAT_DIO_READ,
	M_GLAT_DIO_WRITE,
	M_GLAT_VMSPLICE,
	M_GBLK_URING,		/* + enum hs_gup_kind */
	M_GBLK_DIO_READ,
	M_GBLK_DIO_WRITE,
	M_GBLK_VMSPLICE,
	M_GUP_MISS,
	M_ACCESS,
	M_ACCESS_MISS,
	M_REUSE,
	M_REUSE_LAT,
	M_STALE,		/* stale role: munmap + punch + reuse cycles */
	M_STALE_MUNMAP_LAT,
	M_STALE_INWIN,
	M_STALE_REUSED,
	M_STALE_FLUSHED,
	M_STALE_OLD,
};

static const struct mmt_metric hs_metrics[] = {
	[M_TOUCH] = { "touch", "touches/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"stamp checks (and rewrites of owned pages) through the shared mapping" },
	[M_UNSHARE] = { "unshare", "ops/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"unshare ops of every kind (one loop rotating through `unshare`; per kind: "
		"the unshare_*_latency metrics)", MMT_METRIC_HEADLINE },
	[M_LAT_MPROTECT] = { "unshare_mprotect_latency", "ns", MMT_LATENCY, MMT_BETTER_DEFAULT,
		"both mprotect calls" },
	[M_LAT_DONTNEED] = { "unshare_dontneed_latency", "ns", MMT_LATENCY, MMT_BETTER_DEFAULT,
		"the madvise call" },
	[M_LAT_REMAP] = { "unshare_remap_latency", "ns", MMT_LATENCY, MMT_BETTER_DEFAULT,
		"munmap + mmap" },
	[M_LAT_PUNCH] = { "unshare_punch_latency", "ns", MMT_LATENCY, MMT_BETTER_DEFAULT,
		"the fallocate call" },
	[M_WALK] = { "walk", "ops/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"foreign-mm walks of every kind (one loop rotating through `walk`; per kind: "
		"the walk_*_latency metrics)", MMT_METRIC_HEADLINE },
	[M_WLAT_VM_READV] = { "walk_vm_readv_latency", "ns", MMT_LATENCY, MMT_BETTER_DEFAULT,
		"process_vm_readv of a page's stamps from another worker's mm, checked" },
	[M_WLAT_PROC_MEM] = { "walk_proc_mem_latency", "ns", MMT_LATENCY, MMT_BETTER_DEFAULT,
		"open + pread of /proc/PID/mem of another worker, checked" },
	[M_WLAT_PAGEMAP] = { "walk_pagemap_latency", "ns", MMT_LATENCY, MMT_BETTER_DEFAULT,
		"/proc/PID/pagemap of 4 pages of another worker, PFNs cross-checked" },
	[M_WLAT_SMAPS] = { "walk_smaps_latency", "ns", MMT_LATENCY, MMT_BETTER_DEFAULT,
		"/proc/PID/smaps of another worker, parsed and checked" },
	[M_WLAT_MINCORE] = { "walk_mincore_latency", "ns", MMT_LATENCY, MMT_BETTER_DEFAULT,
		"mincore of 8 pages of the walker's own shared range, checked" },
	[M_FORK_EXIT] = { "fork_exit", "cycles/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"fork, child faults storm_pages random pages and exits, reap", MMT_METRIC_HEADLINE },
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
	[M_GUP] = { "gup_inmm", "ops/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"GUP-fast ops on the shared range by a thread of each sharing process, data "
		"verified (one loop rotating through `gup`; per kind: gup_*_latency and _blocks)" },
	[M_GLAT_URING] = { "gup_uring_latency", "ns", MMT_LATENCY, MMT_BETTER_DEFAULT,
		"io_uring registration of 1-4 pages' head and tail blocks, write_fixed, unregister" },
	[M_GLAT_DIO_READ] = { "gup_dio_read_latency", "ns", MMT_LATENCY, MMT_BETTER_DEFAULT,
		"O_DIRECT read of a file block into a shared page" },
	[M_GLAT_DIO_WRITE] = { "gup_dio_write_latency", "ns", MMT_LATENCY, MMT_BETTER_DEFAULT,
		"O_DIRECT write of a page's head and tail blocks, read back" },
	[M_GLAT_VMSPLICE] = { "gup_vmsplice_latency", "ns", MMT_LATENCY, MMT_BETTER_DEFAULT,
		"vmsplice of 1-4 pages' head and tail blocks, read out of the pipe" },
	[M_GBLK_URING] = { "gup_uring_blocks", "blocks", MMT_TOTAL, MMT_BETTER_NONE,
		"4 KiB blocks pinned by io_uring registration and verified word by word" },
	[M_GBLK_DIO_READ] = { "gup_dio_read_blocks", "blocks", MMT_TOTAL, MMT_BETTER_NONE,
		"4 KiB O_DIRECT reads into shared pages verified word by word" },
	[M_GBLK_DIO_WRITE] = { "gup_dio_write_blocks", "blocks", MMT_TOTAL, MMT_BETTER_NONE,
		"4 KiB blocks O_DIRECT-written from shared pages and verified word by word" },
	[M_GBLK_VMSPLICE] = { "gup_vmsplice_blocks", "blocks", MMT_TOTAL, MMT_BETTER_NONE,
		"4 KiB blocks vmspliced from shared pages and verified word by word" },
	[M_GUP_MISS] = { "gup_inmm_miss", "ops", MMT_TOTAL, MMT_BETTER_NONE,
		"in-mm GUP ops that hit the own process's mprotect/munmap window (EFAULT), a "
		"punch of a pinned page or an empty hugetlb pool (EFAULT), or ENOMEM/EAGAIN" },
	[M_ACCESS] = { "access_inmm", "checks/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"stamp reads (generation no older than announced) and own-word write/read-backs "
		"by a sibling thread of unsharers and walkers" },
	[M_ACCESS_MISS] = { "access_inmm_miss", "ops", MMT_TOTAL, MMT_BETTER_NONE,
		"sibling accesses that faulted inside the own unsharer's mprotect/munmap window" },
	[M_REUSE] = { "reuse_fill", "ranges/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"fresh page tables (1 PMD table, 1 PTE table and 1 page per range) allocated, "
		"filled and checked right after an unshare, in the unsharer and every other mm" },
	[M_REUSE_LAT] = { "reuse_fill_latency", "ns", MMT_LATENCY, MMT_BETTER_DEFAULT,
		"from the end of an unshare to the end of the fill that follows it" },
	[M_STALE] = { "stale", "cycles/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"stale role (-p stale): munmap of the shared range + ballast by one thread while "
		"a sibling on another CPU punches a page it holds in its TLB, refaults the freed "
		"page elsewhere with foreign data and reads the punched page again" },
	[M_STALE_MUNMAP_LAT] = { "stale_munmap_latency", "ns", MMT_LATENCY, MMT_BETTER_DEFAULT,
		"the stale role's munmap of the shared range and its ballast" },
	[M_STALE_INWIN] = { "stale_in_window", "cycles", MMT_TOTAL, MMT_BETTER_NONE,
		"cycles whose punch, refault and re-read all ended before the munmap returned" },
	[M_STALE_REUSED] = { "stale_reused", "cycles", MMT_TOTAL, MMT_BETTER_NONE,
		"of those, cycles where the foreign refault got the punched page's own PFN" },
	[M_STALE_FLUSHED] = { "stale_flushed", "reads", MMT_TOTAL, MMT_BETTER_NONE,
		"re-reads of the punched page that faulted: its TLB entry was gone (correct)" },
	[M_STALE_OLD] = { "stale_old", "reads", MMT_TOTAL, MMT_BETTER_NONE,
		"re-reads that still saw the page's old stamp through a kept TLB entry (legal "
		"while the page is not yet freed: the munmap's gather holds it until its flush)" },
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
	uint32_t punch_seq[HS_MAX_PAGES]; /* odd while its owner punches and rewrites the page */
	/* In-mm threads (see "in-mm walkers" below). */
	uint32_t unshare_seq __attribute__((aligned(64)));	/* futex: bumped after an unshare */
	uint64_t unshare_ns;		/* when it was bumped */
	uint32_t inmm;			/* enum hs_inmm bits */
	uint32_t gup_kinds;		/* enum hs_gup_kind bits that can run here */
	uint32_t reuse_ranges;
	uint32_t strict_punch;		/* own word zero after a punch only if punch_seq moved */
	uint32_t stale;			/* the stale role runs (-p stale=yes) */
	char dio_path[128];		/* O_DIRECT target: a file, or a loop device over one */
	char dio_why[160];		/* why the O_DIRECT kinds cannot run, "" if they can */
	char uring_why[160];
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
	else if (!hs_stamp_parse(v, salt, copy, &idx, &gen) &&
		 hs_stamp_parse(v, salt ^ HS_FOREIGN_SALT, copy, &idx, &gen))
		snprintf(buf, len, "%#018" PRIx64 " (the stale role's foreign fill of cycle %u "
			 "after punching page %u: the freed page, reused)", v, gen, idx);
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

/* 1 when the stale role runs: it owns every (ncyc + 1)th punched page, as owner ncyc. */
static int hs_nstale;

/*
 * Owner of page p within its role (toucher or unsharer; a punched page's owner
 * ncyc is the stale worker), -1 when nobody writes it.
 */
static int hs_owner(int ntouch, int ncyc, uint32_t p, bool *cyc)
{
	*cyc = hs_is_cyc_page(ncyc, p);
	if (*cyc)
		return (int)((p / HS_CYC_STRIDE) % (uint32_t)(ncyc + hs_nstale));
	return ntouch > 0 ? (int)(p % (uint32_t)ntouch) : -1;
}

/* ---- faults on the mapped range become a FAIL with a reason ---- */

static sigjmp_buf hs_jmp;
static volatile sig_atomic_t hs_jmp_armed;
/* A sibling thread (in-mm walker) arms its own jump buffer around its accesses. */
static __thread sigjmp_buf hs_tjmp;
static __thread volatile sig_atomic_t hs_tjmp_armed;
static __thread void *volatile hs_tfault_addr;
static __thread volatile sig_atomic_t hs_tjmp_any;	/* armed for addresses off the range too */
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
	if (hs_tjmp_armed && hs_tjmp_any) {
		hs_tjmp_armed = 0;
		hs_tfault_addr = si->si_addr;
		siglongjmp(hs_tjmp, 1);
	}
	if (!hp || a < hp->addr || a >= hp->addr + hp->size) {
		/* Not on the shared range: not ours to explain; crash as usual. */
		signal(sig, SIG_DFL);
		return;
	}
	if (hs_tjmp_armed) {
		hs_tjmp_armed = 0;
		hs_tfault_addr = si->si_addr;
		siglongjmp(hs_tjmp, 1);
	}
	hs_fault_addr = si->si_addr;
	hs_fault_sig = sig;
	if (hs_in_child) {
		__atomic_store_n(&hp->child_fault_addr, (uint64_t)(uintptr_t)si->si_addr,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&hp->child_fault_sig, sig, __ATOMIC_RELEASE);
		_exit(3);
	}
	if (hs_jmp_armed && gettid() == getpid()) {	/* the worker's main thread only */
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

	/*
	 * malloc must never mmap in a worker: a chunk of 128 KiB or more would get
	 * a mapping of its own, which can land in the hole an unsharer's munmap
	 * leaves for an instant, and the unsharer's mmap of the range back then
	 * fails (EEXIST).  Nor may it make a new arena: that is a 64 MiB-aligned
	 * mapping too (its first 132 KiB in use), and one still landed there after
	 * every sibling thread had made its own at start (an ab boot, 2026-11-30).
	 * All threads share the main arena, which grows by brk.
	 */
	mallopt(M_MMAP_MAX, 0);
	mallopt(M_ARENA_MAX, 1);
	hs_cur_w = w;
	hs_cur_fn = fn;
	hs_cur_role = role;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = hs_on_fault;
	/* SA_NODEFER: sibling threads jump out without restoring the signal mask */
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
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
	hs_nstale = !!l->hp->stale;
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

/*
 * The kinds val names, in table order: "all" (or no value), or a comma list of
 * kinds and "all".  Returns how many, or -1 with the first token that names no
 * kind in bad (when bad is given).
 */
static int hs_parse_choice(const char *val, const char *const *names, int nr, int *kinds,
			   char *bad, size_t badlen)
{
	char spec[128], *tok, *save = NULL;
	unsigned int mask = 0;
	int i, n = 0;

	snprintf(spec, sizeof(spec), "%s", val ? val : "all");
	for (tok = strtok_r(spec, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < nr && strcmp(tok, names[i]); i++)
			;
		if (i < nr) {
			mask |= 1u << i;
		} else if (!strcmp(tok, "all")) {
			mask = (1u << nr) - 1;
		} else {
			if (bad)
				snprintf(bad, badlen, "%s", tok);
			return -1;
		}
	}
	for (i = 0; i < nr; i++)
		if (mask & (1u << i))
			kinds[n++] = i;
	return n;
}

/*
 * ---- in-mm walkers: threads of the sharing processes themselves ----
 *
 * Each toucher, unsharer and walker process runs, beside its main thread, up to three
 * threads (-p inmm=): "gup" pins pages of the shared range through GUP-fast and checks the
 * copied data word by word; "access" (unsharers and walkers; a toucher's main thread is its
 * accessor) reads stamps with a generation lower bound and writes and reads back a word of
 * its own in every page; "reuse" (touchers and walkers; an unsharer fills after its own ops
 * in its main thread) allocates fresh PMD and PTE tables the moment an unshare ends.  They
 * never write a stamp: GUP-fast copies, O_DIRECT reads into their own 4 KiB slot of a
 * never-punched page, access words at their own offset.  Nothing in them allocates with
 * malloc once they run: an unsharer's munmap/remap window must stay free for its mmap.
 */
#define HS_BLK		4096u
#define HS_BLK_WORDS	(HS_BLK / 8u)
#define HS_MAX_SLOTS	64				/* in-mm slots: workers with id < 64 */
#define HS_DIO_OFF	(1ul << 20)			/* O_DIRECT read slots, 4 KiB each */
#define HS_ACC_OFF	(HS_DIO_OFF + HS_MAX_SLOTS * HS_BLK)	/* access words, 64 B each */
#define HS_DIO_DATA	64u				/* file blocks of known content */
#define HS_DIO_BLOCKS	(HS_DIO_DATA + 2u * HS_MAX_SLOTS)	/* + 2 scratch blocks per slot */
#define HS_GUP_BATCH	4u				/* pages (2 blocks each) per uring/vmsplice op */
#define HS_ACC_BATCH	64u
#define HS_REUSE_STRIDE	(HS_PUD + HS_HPAGE)		/* each fill page its own PMD table */
#define HS_FILL_FLAGS	0x25ull				/* present | user | accessed, read-only */
#define HS_TMPFS_MAGIC	0x01021994
#define HS_RAMFS_MAGIC	0x858458f6

enum hs_inmm { HS_IN_GUP = 1u << 0, HS_IN_ACCESS = 1u << 1, HS_IN_REUSE = 1u << 2 };
enum hs_gup_kind { HS_G_URING, HS_G_DIO_READ, HS_G_DIO_WRITE, HS_G_VMSPLICE, HS_G_NR };
static const char *const hs_gup_names[HS_G_NR] = { "uring", "dio_read", "dio_write", "vmsplice" };

struct hs_thr {
	struct mmt_worker *w;
	struct hs_local l;
	unsigned int kind;	/* enum hs_inmm, one bit */
	const char *name;
	int slot;
	int status;
	pthread_t pt;
};

/* Per worker process: its sibling threads and the window of its own mapping changes. */
static struct {
	struct hs_thr thr[4];
	int nthr;
	uint32_t win_seq;	/* odd while the main thread mprotects or munmaps its own range */
	uint32_t hot;		/* the page the main thread works on now */
	int ready;
	int quit;
	int failed;		/* first failing status of a sibling thread, 0 while fine */
	pthread_mutex_t lock;
} hs_proc = { .lock = PTHREAD_MUTEX_INITIALIZER };

static inline uint32_t hs_win(void)
{
	return __atomic_load_n(&hs_proc.win_seq, __ATOMIC_SEQ_CST);
}

static inline void hs_win_step(void)
{
	__atomic_add_fetch(&hs_proc.win_seq, 1, __ATOMIC_SEQ_CST);
}

/* Did a window of the own process's mapping change overlap since w0 was read? */
static inline bool hs_win_hit(uint32_t w0)
{
	return (w0 & 1) || hs_win() != w0;
}

static bool hs_thr_going(const struct hs_thr *t);

/* After a miss in a window: wait until it closes rather than fault again and again. */
static void hs_win_wait(const struct hs_thr *t)
{
	while ((hs_win() & 1) && hs_thr_going(t))
		sched_yield();
}

static inline bool hs_failed(void)
{
	return __atomic_load_n(&hs_proc.failed, __ATOMIC_RELAXED) != 0;
}

static bool hs_thr_going(const struct hs_thr *t)
{
	return mmt_running(t->w) && !__atomic_load_n(&hs_proc.quit, __ATOMIC_RELAXED);
}

/* A sibling thread's failure: the worker's reason (first one wins), names mm and thread. */
static int hs_tfail(struct hs_thr *t, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int hs_tfail(struct hs_thr *t, int status, const char *fmt, ...)
{
	char buf[MMT_REASON_LEN];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), "mm of pid %d, thread %s (tid %d): ", (int)getpid(),
		     t->name, (int)gettid());
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&hs_proc.lock);
	if (!hs_proc.failed) {
		if (status == MMT_FAIL)
			mmt_fail(t->w, "%s", buf);
		else
			mmt_werror(t->w, "%s", buf);
		__atomic_store_n(&hs_proc.failed, status, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&hs_proc.lock);
	return status;
}

static long hs_futex(uint32_t *addr, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, addr, op, val, ts, NULL, 0);
}

/* An unshare just ended (or a sharing process exited): wake every reuse thread. */
static void hs_unshared(struct hs_priv *hp)
{
	__atomic_store_n(&hp->unshare_ns, mmt_now_ns(), __ATOMIC_RELAXED);
	__atomic_add_fetch(&hp->unshare_seq, 1, __ATOMIC_RELEASE);
	if (hp->inmm & HS_IN_REUSE)
		hs_futex(&hp->unshare_seq, FUTEX_WAKE, INT32_MAX, NULL);
}

/* A page for a sibling thread: often the one the main thread works on. */
static uint32_t hs_thr_page(struct hs_thr *t, bool never_punched)
{
	uint32_t p;

	do {
		if (!(mmt_rand(&t->l.rng) & 3))
			p = __atomic_load_n(&hs_proc.hot, __ATOMIC_RELAXED) % t->l.npages;
		else
			p = hs_rand(&t->l, t->l.npages);
		if (never_punched && hs_is_cyc_page(t->l.ncyc, p))
			p = (p + 1) % t->l.npages;
	} while (never_punched && hs_is_cyc_page(t->l.ncyc, p));
	return p;
}

/* Generation and punch sequence of page p, read before or after a copy of it. */
struct hs_gs {
	uint32_t g0, g1, s0, s1;
};

static inline void hs_gs_before(const struct hs_priv *hp, uint32_t p, struct hs_gs *x)
{
	x->s0 = __atomic_load_n(&hp->punch_seq[p], __ATOMIC_SEQ_CST);
	x->g0 = __atomic_load_n(&hp->gen[p], __ATOMIC_SEQ_CST);
}

static inline void hs_gs_after(const struct hs_priv *hp, uint32_t p, struct hs_gs *x)
{
	x->g1 = __atomic_load_n(&hp->gen[p], __ATOMIC_SEQ_CST);
	x->s1 = __atomic_load_n(&hp->punch_seq[p], __ATOMIC_SEQ_CST);
}

static bool hs_bytes_of(uint64_t v, uint64_t a, uint64_t b)
{
	int i;

	for (i = 0; i < 64; i += 8) {
		uint64_t m = 0xffull << i;

		if ((v & m) != (a & m) && (v & m) != (b & m))
			return false;
	}
	return true;
}

/*
 * Stamp word v (copy c of page p) taken between hs_gs_before and hs_gs_after:
 * a stamp of p no older than the generation announced before (g0; the owner
 * announces after writing) and no newer than g1 + 1, or zero while a punch of
 * the page was in flight.  torn: the kernel copied it (rep movs may tear a
 * word under TCG), so a byte mix of two such values passes too.
 */
static bool hs_copy_ok(uint64_t salt, uint32_t p, unsigned int c, uint64_t v,
		       const struct hs_gs *x, bool torn)
{
	bool zero_ok = (x->s0 & 1) || x->s0 != x->s1;
	uint32_t idx, g, span = (x->g1 - x->g0 + 1) & HS_GEN_MASK, i;

	if (!v)
		return zero_ok;
	if (hs_stamp_parse(v, salt, c, &idx, &g) && idx == (p & HS_IDX_MASK))
		return ((g - x->g0) & HS_GEN_MASK) <= span;
	if (!torn || span > 64)
		return false;
	for (i = 0; i <= span; i++) {
		uint64_t a = hs_stamp(salt, p, x->g0 + i, c);

		if (zero_ok && hs_bytes_of(v, a, 0))
			return true;
		if (i < span && hs_bytes_of(v, a, hs_stamp(salt, p, x->g0 + i + 1, c)))
			return true;
	}
	return false;
}

static void hs_found(const struct hs_priv *hp, uint64_t v, unsigned int c, char *buf, size_t len)
{
	hs_describe(v, hp->salt, c, buf, len);
	if (v && (v & 0xfff) == HS_FILL_FLAGS)
		snprintf(buf + strlen(buf), len - strlen(buf), " - shaped like a reuse-fill word "
			 "(a PTE of a freshly filled page table): a walk of a freed and reused "
			 "table?");
}

/* A 4 KiB block copy of page p's head (c = HS_HEAD) or tail block: the stamp, zeros elsewhere. */
static int hs_block_check(struct hs_thr *t, uint32_t p, unsigned int c, const uint64_t *blk,
			  const struct hs_gs *x, const char *via)
{
	const struct hs_priv *hp = t->l.hp;
	unsigned int sw = c == HS_HEAD ? 0 : HS_BLK_WORDS - 1, k;
	char found[200], want[120];

	for (k = 0; k < HS_BLK_WORDS; k++) {
		if (k == sw ? hs_copy_ok(hp->salt, p, c, blk[k], x, true) : !blk[k])
			continue;
		hs_found(hp, blk[k], c, found, sizeof(found));
		if (k == sw)
			snprintf(want, sizeof(want), "the %s stamp of page %u, generation %u..%u%s",
				 c == HS_HEAD ? "head" : "tail", p, x->g0, (x->g1 + 1) & HS_GEN_MASK,
				 (x->s0 & 1) || x->s0 != x->s1 ? " or zero (punched)" : "");
		else
			snprintf(want, sizeof(want), "zero (nothing else is written there)");
		return hs_tfail(t, MMT_FAIL, "page %u %s block word %u (file offset %#lx) copied "
				"via %s: expected %s, found %s", p, c == HS_HEAD ? "head" : "tail",
				k, (unsigned long)p * HS_HPAGE + (c == HS_HEAD ? 0 : HS_HPAGE -
				HS_BLK) + k * 8ul, via, want, found);
	}
	return 0;
}

static inline void *hs_blk(const struct hs_local *l, uint32_t p, unsigned int c)
{
	return (void *)(l->addr + (uintptr_t)p * HS_HPAGE + (c == HS_HEAD ? 0 : HS_HPAGE - HS_BLK));
}

static uint64_t hs_fileword(uint64_t salt, uint32_t j, uint32_t k)
{
	uint64_t x = salt ^ 0xd1d1d1d1ull ^ ((uint64_t)j << 32) ^ k;

	x ^= x >> 31;
	x *= 0x9e3779b97f4a7c15ull;
	x ^= x >> 29;
	return x | 1;	/* never zero; bit 1 clear makes no PTE-shaped value collide */
}

/* ---- gup thread ---- */

struct hs_gup {
	struct io_uring ring;
	bool ring_ok;
	int memfd;
	int dio;
	int pipe[2];
	uint64_t *buf;		/* 2 * HS_GUP_BATCH blocks, page aligned */
	uint64_t poison_seq;
};

/*
 * Did an EFAULT of a pin of these pages have a cause other than the kernel's
 * page tables: a punch of one of them in flight (its refault needs a free huge
 * page, and pinned punched pages are freed only at unpin), or an empty pool
 * (a FOLL_LONGTERM pin migrates a page out of ZONE_MOVABLE into a free one)?
 */
static bool hs_pool_excuse(const struct hs_priv *hp, const uint32_t *p, const struct hs_gs *x,
			   unsigned int n)
{
	unsigned int k;

	for (k = 0; k < n; k++)
		if ((x[k].s0 & 1) || __atomic_load_n(&hp->punch_seq[p[k]], __ATOMIC_SEQ_CST) !=
		    x[k].s0)
			return true;
	return mmt_proc_field_kb("/proc/meminfo", "HugePages_Free") < 2;
}

/* EFAULT/ENOMEM of a GUP op: a miss (0) inside an own window or on a transient error, else FAIL. */
static int hs_gup_err(struct hs_thr *t, int err, uint32_t w0, uint32_t p, const char *what,
		      bool excused)
{
	if ((err == EFAULT && (excused || hs_win_hit(w0))) || err == ENOMEM || err == EAGAIN ||
	    err == EINTR) {
		mmt_add(t->w, M_GUP_MISS, 1);
		hs_win_wait(t);
		return 0;
	}
	if (err == EFAULT)
		return -hs_tfail(t, MMT_FAIL, "%s of page %u (and others) failed with EFAULT "
				 "though this mm's range was mapped read-write throughout: mapped "
				 "hugetlb pages could not be pinned", what, p);
	return -hs_tfail(t, MMT_ERROR, "%s of page %u: %s", what, p, strerror(err));
}

static int hs_gup_uring(struct hs_thr *t, struct hs_gup *g)
{
	const struct hs_priv *hp = t->l.hp;
	unsigned int n = 1 + (unsigned int)(mmt_rand(&t->l.rng) % HS_GUP_BATCH), k, got = 0;
	struct iovec iov[2 * HS_GUP_BATCH];
	struct hs_gs x[HS_GUP_BATCH];
	uint32_t p[HS_GUP_BATCH], w0;
	int ret, status = 0;

	for (k = 0; k < n; k++) {
		p[k] = hs_thr_page(t, false);
		hs_gs_before(hp, p[k], &x[k]);
		iov[2 * k] = (struct iovec){ hs_blk(&t->l, p[k], HS_HEAD), HS_BLK };
		iov[2 * k + 1] = (struct iovec){ hs_blk(&t->l, p[k], HS_TAIL), HS_BLK };
	}
	w0 = hs_win();
	ret = io_uring_register_buffers(&g->ring, iov, 2 * n);
	if (ret)
		return hs_gup_err(t, -ret, w0, p[0], "io_uring_register_buffers",
				  -ret == EFAULT && hs_pool_excuse(hp, p, x, n));
	for (k = 0; k < 2 * n; k++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&g->ring);

		io_uring_prep_write_fixed(sqe, g->memfd, iov[k].iov_base, HS_BLK,
					  (uint64_t)k * HS_BLK, (int)k);
		sqe->user_data = k;
	}
	ret = io_uring_submit(&g->ring);
	if (ret < 0) {
		status = -hs_tfail(t, MMT_ERROR, "io_uring_submit: %s", strerror(-ret));
		goto out;
	}
	while (got < 2 * n) {
		struct io_uring_cqe *cqe;
		int res;

		ret = io_uring_wait_cqe(&g->ring, &cqe);
		if (ret == -EINTR)
			continue;
		if (ret < 0) {
			status = -hs_tfail(t, MMT_ERROR, "io_uring_wait_cqe: %s", strerror(-ret));
			goto out;
		}
		res = cqe->res;
		io_uring_cqe_seen(&g->ring, cqe);
		got++;
		if (res != (int)HS_BLK && !status)
			status = -hs_tfail(t, MMT_ERROR, "write_fixed of a pinned block: %s",
					   res < 0 ? strerror(-res) : "short write");
	}
out:
	io_uring_unregister_buffers(&g->ring);
	if (status)
		return status;
	for (k = 0; k < n; k++)
		hs_gs_after(hp, p[k], &x[k]);
	ret = mmt_pread_full(g->memfd, g->buf, 2 * n * HS_BLK, 0);
	if (ret)
		return -hs_tfail(t, MMT_ERROR, "pread of the write_fixed memfd: %s", strerror(-ret));
	for (k = 0; k < 2 * n; k++) {
		ret = hs_block_check(t, p[k / 2], k & 1 ? HS_TAIL : HS_HEAD,
				     g->buf + k * HS_BLK_WORDS, &x[k / 2],
				     "io_uring buffer registration (pin_user_pages_fast) + write_fixed");
		if (ret)
			return -ret;
	}
	return (int)(2 * n);
}

static int hs_gup_dio_read(struct hs_thr *t, struct hs_gup *g)
{
	const struct hs_priv *hp = t->l.hp;
	uint32_t p = hs_thr_page(t, true), j = hs_rand(&t->l, HS_DIO_DATA), k, w0;
	uint64_t *dst = (uint64_t *)(t->l.addr + (uintptr_t)p * HS_HPAGE + HS_DIO_OFF +
				     (uintptr_t)t->slot * HS_BLK);
	uint64_t poison = 0xdead000000000000ull | ((uint64_t)(t->slot & 0xff) << 40) |
			  (++g->poison_seq & 0xffffffffffull);
	char found[200];
	ssize_t n;

	w0 = hs_win();
	if (sigsetjmp(hs_tjmp, 0)) {
		if (hs_win_hit(w0)) {
			mmt_add(t->w, M_GUP_MISS, 1);
			hs_win_wait(t);
			return 0;
		}
		return -hs_tfail(t, MMT_FAIL, "fault at %p (page %u, O_DIRECT slot) though this "
				 "mm's range was mapped read-write throughout", hs_tfault_addr, p);
	}
	hs_tjmp_armed = 1;
	/* Poison first: a read that lands in another page leaves it here. */
	for (k = 0; k < HS_BLK_WORDS; k += 64)
		__atomic_store_n(&dst[k], poison, __ATOMIC_RELAXED);
	__atomic_store_n(&dst[HS_BLK_WORDS - 1], poison, __ATOMIC_RELAXED);
	do
		n = pread(g->dio, dst, HS_BLK, (off_t)j * HS_BLK);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)HS_BLK) {
		int err = n < 0 ? errno : EIO;

		hs_tjmp_armed = 0;
		return hs_gup_err(t, err, w0, p, "O_DIRECT pread into the shared range",
				  err == EFAULT && mmt_proc_field_kb("/proc/meminfo",
								     "HugePages_Free") < 2);
	}
	for (k = 0; k < HS_BLK_WORDS; k++) {
		uint64_t v = __atomic_load_n(&dst[k], __ATOMIC_RELAXED), want;

		want = hs_fileword(hp->salt, j, k);
		if (v == want)
			continue;
		hs_tjmp_armed = 0;
		if (v == poison)
			snprintf(found, sizeof(found), "%#018" PRIx64 ", the poison written just "
				 "before the read: the O_DIRECT read went to another page", v);
		else
			hs_found(hp, v, HS_HEAD, found, sizeof(found));
		return -hs_tfail(t, MMT_FAIL, "page %u word %u of its O_DIRECT slot (file offset "
				 "%#lx) after an O_DIRECT read of block %u: expected %#018" PRIx64
				 " (the file's data), found %s", p, k, (unsigned long)p * HS_HPAGE +
				 HS_DIO_OFF + (unsigned long)t->slot * HS_BLK + k * 8ul, j, want,
				 found);
	}
	hs_tjmp_armed = 0;
	return 1;
}

static int hs_gup_dio_write(struct hs_thr *t, struct hs_gup *g)
{
	const struct hs_priv *hp = t->l.hp;
	uint32_t p = hs_thr_page(t, false), w0;
	off_t off = (off_t)(HS_DIO_DATA + 2u * (unsigned int)t->slot) * HS_BLK;
	struct hs_gs x;
	unsigned int c;
	ssize_t n;
	int ret;

	hs_gs_before(hp, p, &x);
	w0 = hs_win();
	for (c = HS_HEAD; c <= HS_TAIL; c++) {
		do
			n = pwrite(g->dio, hs_blk(&t->l, p, c), HS_BLK, off + (off_t)c * HS_BLK);
		while (n < 0 && errno == EINTR);
		if (n != (ssize_t)HS_BLK) {
			int err = n < 0 ? errno : EIO;

			return hs_gup_err(t, err, w0, p, "O_DIRECT pwrite from the shared range",
					  err == EFAULT && hs_pool_excuse(hp, &p, &x, 1));
		}
	}
	hs_gs_after(hp, p, &x);
	ret = mmt_pread_full(g->dio, g->buf, 2 * HS_BLK, off);
	if (ret)
		return -hs_tfail(t, MMT_ERROR, "O_DIRECT pread of the scratch blocks: %s",
				 strerror(-ret));
	for (c = HS_HEAD; c <= HS_TAIL; c++) {
		ret = hs_block_check(t, p, c, g->buf + c * HS_BLK_WORDS, &x,
				     "O_DIRECT write (GUP-fast of the source), read back");
		if (ret)
			return -ret;
	}
	return 2;
}

static int hs_gup_vmsplice(struct hs_thr *t, struct hs_gup *g)
{
	const struct hs_priv *hp = t->l.hp;
	unsigned int n = 1 + (unsigned int)(mmt_rand(&t->l.rng) % HS_GUP_BATCH), k, blocks;
	struct iovec iov[2 * HS_GUP_BATCH];
	struct hs_gs x[HS_GUP_BATCH];
	uint32_t p[HS_GUP_BATCH], w0;
	size_t got = 0;
	ssize_t r;
	int ret;

	for (k = 0; k < n; k++) {
		p[k] = hs_thr_page(t, false);
		hs_gs_before(hp, p[k], &x[k]);
		iov[2 * k] = (struct iovec){ hs_blk(&t->l, p[k], HS_HEAD), HS_BLK };
		iov[2 * k + 1] = (struct iovec){ hs_blk(&t->l, p[k], HS_TAIL), HS_BLK };
	}
	w0 = hs_win();
	do
		r = vmsplice(g->pipe[1], iov, 2 * n, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		int err = errno;

		return hs_gup_err(t, err, w0, p[0], "vmsplice",
				  err == EFAULT && hs_pool_excuse(hp, p, x, n));
	}
	while (got < (size_t)r) {
		ssize_t m = read(g->pipe[0], (char *)g->buf + got, (size_t)r - got);

		if (m < 0 && errno == EINTR)
			continue;
		if (m <= 0)
			return -hs_tfail(t, MMT_ERROR, "read from the vmsplice pipe: %s",
					 m < 0 ? strerror(errno) : "EOF");
		got += (size_t)m;
	}
	/* The pipe held page references: its data is what the pages held at read time. */
	for (k = 0; k < n; k++)
		hs_gs_after(hp, p[k], &x[k]);
	blocks = (unsigned int)(got / HS_BLK);
	for (k = 0; k < blocks; k++) {
		ret = hs_block_check(t, p[k / 2], k & 1 ? HS_TAIL : HS_HEAD,
				     g->buf + k * HS_BLK_WORDS, &x[k / 2],
				     "vmsplice (get_user_pages_fast) + read from the pipe");
		if (ret)
			return -ret;
	}
	return (int)blocks;
}

static void *hs_gup_main(void *arg)
{
	struct hs_thr *t = arg;
	struct hs_priv *hp = t->l.hp;
	int kinds[HS_G_NR], nk = 0, k, ret = 0;
	struct hs_gup g = { .memfd = -1, .dio = -1, .pipe = { -1, -1 } };
	uint64_t t0;

	for (k = 0; k < HS_G_NR; k++)
		if (hp->gup_kinds & (1u << k))
			kinds[nk++] = k;
	g.buf = mmap(NULL, 2 * HS_GUP_BATCH * HS_BLK, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (g.buf == MAP_FAILED) {
		g.buf = NULL;
		t->status = hs_tfail(t, MMT_ERROR, "mmap: %s", strerror(errno));
		goto out;
	}
	if (hp->gup_kinds & (1u << HS_G_URING)) {
		ret = io_uring_queue_init(4 * HS_GUP_BATCH, &g.ring, 0);
		g.ring_ok = !ret;
		g.memfd = memfd_create("mmt-hugetlb-share-uring", MFD_CLOEXEC);
		if (ret || g.memfd < 0 || ftruncate(g.memfd, 2 * HS_GUP_BATCH * HS_BLK)) {
			t->status = hs_tfail(t, MMT_ERROR, "io_uring ring / memfd: %s",
					     strerror(ret ? -ret : errno));
			goto out;
		}
	}
	if (hp->gup_kinds & ((1u << HS_G_DIO_READ) | (1u << HS_G_DIO_WRITE))) {
		g.dio = open(hp->dio_path, O_RDWR | O_DIRECT | O_CLOEXEC);
		if (g.dio < 0) {
			t->status = hs_tfail(t, MMT_ERROR, "open %s O_DIRECT: %s", hp->dio_path,
					     strerror(errno));
			goto out;
		}
	}
	if (pipe2(g.pipe, O_CLOEXEC)) {
		t->status = hs_tfail(t, MMT_ERROR, "pipe2: %s", strerror(errno));
		goto out;
	}
	__atomic_add_fetch(&hs_proc.ready, 1, __ATOMIC_RELEASE);

	for (uint64_t iter = 0; nk && hs_thr_going(t); iter++) {
		k = kinds[(iter + (uint64_t)t->slot) % (uint64_t)nk];
		t0 = mmt_now_ns();
		switch (k) {
		case HS_G_URING:
			ret = hs_gup_uring(t, &g);
			break;
		case HS_G_DIO_READ:
			ret = hs_gup_dio_read(t, &g);
			break;
		case HS_G_DIO_WRITE:
			ret = hs_gup_dio_write(t, &g);
			break;
		case HS_G_VMSPLICE:
		default:
			ret = hs_gup_vmsplice(t, &g);
			break;
		}
		if (ret < 0) {
			t->status = -ret;
			break;
		}
		if (!ret)
			continue;
		mmt_latency(t->w, M_GLAT_URING + (unsigned int)k, mmt_now_ns() - t0);
		mmt_add(t->w, M_GBLK_URING + (unsigned int)k, (uint64_t)ret);
		mmt_add(t->w, M_GUP, 1);
	}
out:
	if (g.pipe[0] >= 0) {
		close(g.pipe[0]);
		close(g.pipe[1]);
	}
	if (g.dio >= 0)
		close(g.dio);
	if (g.memfd >= 0)
		close(g.memfd);
	if (g.ring_ok)
		io_uring_queue_exit(&g.ring);
	if (g.buf)
		munmap(g.buf, 2 * HS_GUP_BATCH * HS_BLK);
	return NULL;
}

/* ---- access thread ---- */

static inline uint64_t hs_accval(const struct hs_priv *hp, int slot, uint32_t p, uint32_t n)
{
	return hs_stamp(hp->salt ^ ((uint64_t)(slot + 1) * 0x51ed27ull), p, n, HS_HEAD);
}

static void *hs_access_main(void *arg)
{
	struct hs_thr *t = arg;
	const struct hs_priv *hp = t->l.hp;
	uint32_t *last = NULL, *lastps = NULL, w0, p, i, s;
	volatile uint32_t done = 0;
	size_t len = (size_t)t->l.npages * sizeof(uint32_t) * 2;
	char found[200], want[120];
	struct hs_gs x;
	uint64_t v, exp;
	unsigned int c;
	bool cyc;

	last = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
		    -1, 0);
	if (last == MAP_FAILED) {
		t->status = hs_tfail(t, MMT_ERROR, "mmap: %s", strerror(errno));
		return NULL;
	}
	lastps = last + t->l.npages;
	__atomic_add_fetch(&hs_proc.ready, 1, __ATOMIC_RELEASE);

	while (hs_thr_going(t)) {
		w0 = hs_win();
		done = 0;
		if (sigsetjmp(hs_tjmp, 0)) {
			mmt_add(t->w, M_ACCESS, done);
			if (hs_win_hit(w0)) {
				mmt_add(t->w, M_ACCESS_MISS, 1);
				hs_win_wait(t);
				continue;
			}
			t->status = hs_tfail(t, MMT_FAIL, "fault at %p of the shared range though "
					     "this mm's range was mapped read-write throughout: "
					     "a mapped hugetlb page could not be accessed",
					     hs_tfault_addr);
			break;
		}
		hs_tjmp_armed = 1;
		for (i = 0; i < HS_ACC_BATCH; i++) {
			p = hs_thr_page(t, false);
			cyc = hs_is_cyc_page(t->l.ncyc, p);
			hs_gs_before(hp, p, &x);
			for (c = HS_HEAD; c <= HS_TAIL; c++) {
				v = hs_load(t->l.addr, p, c);
				hs_gs_after(hp, p, &x);
				if (hs_copy_ok(hp->salt, p, c, v, &x, false))
					continue;
				hs_tjmp_armed = 0;
				hs_found(hp, v, c, found, sizeof(found));
				t->status = hs_tfail(t, MMT_FAIL, "page %u %s word (file offset "
						     "%#lx) read through this mm: expected the stamp "
						     "of page %u, generation %u..%u%s (generation %u "
						     "was announced before the read), found %s", p,
						     c == HS_HEAD ? "head" : "tail",
						     (unsigned long)p * HS_HPAGE + (c == HS_HEAD ? 0 :
						     HS_HPAGE - 8), p, x.g0, (x.g1 + 1) & HS_GEN_MASK,
						     (x.s0 & 1) || x.s0 != x.s1 ?
						     " or zero (punched)" : "", x.g0, found);
				goto out;
			}
			/* Our own word: exactly what we wrote last, zero only across a punch. */
			uint64_t *aw = (uint64_t *)(t->l.addr + (uintptr_t)p * HS_HPAGE + HS_ACC_OFF +
						    (uintptr_t)t->slot * 64);
			v = __atomic_load_n(aw, __ATOMIC_RELAXED);
			s = __atomic_load_n(&hp->punch_seq[p], __ATOMIC_SEQ_CST);
			exp = last[p] ? hs_accval(hp, t->slot, p, last[p]) : 0;
			if (v != exp && !(cyc && !v && (!hp->strict_punch || s != lastps[p] ||
						     (s & 1)))) {
				hs_tjmp_armed = 0;
				if (v && hs_stamp_parse(v, hp->salt ^ ((uint64_t)(t->slot + 1) *
							0x51ed27ull), HS_HEAD, &x.g0, &x.g1))
					snprintf(found, sizeof(found), "%#018" PRIx64 " (this "
						 "thread's value for page %u, write %u)", v, x.g0, x.g1);
				else
					hs_found(hp, v, HS_HEAD, found, sizeof(found));
				snprintf(want, sizeof(want), "%#018" PRIx64 " (write %u%s)", exp,
					 last[p], cyc ? ", or zero after a punch" : "");
				t->status = hs_tfail(t, MMT_FAIL, "page %u: this thread's own word "
						     "(file offset %#lx) read back through this mm: "
						     "expected %s, found %s: a write went through a "
						     "stale translation, or a read did", p,
						     (unsigned long)p * HS_HPAGE + HS_ACC_OFF +
						     (unsigned long)t->slot * 64, want, found);
				goto out;
			}
			lastps[p] = __atomic_load_n(&hp->punch_seq[p], __ATOMIC_SEQ_CST);
			__atomic_store_n(aw, hs_accval(hp, t->slot, p, last[p] + 1),
					 __ATOMIC_RELAXED);
			/*
			 * Only once the store is done: if it faults (our own mprotect
			 * window) we jump out and it never happened.  Without the fence the
			 * compiler may count it first.
			 */
			__atomic_signal_fence(__ATOMIC_SEQ_CST);
			last[p]++;
			done = i + 1;
		}
		hs_tjmp_armed = 0;
		mmt_add(t->w, M_ACCESS, HS_ACC_BATCH);
	}
out:
	hs_tjmp_armed = 0;
	munmap(last, len);
	return NULL;
}

/* ---- reuse: fresh page tables right after an unshare ---- */

struct hs_reuse {
	uintptr_t hint;
	size_t len;
	uint32_t nr;
	int pm;
};

static int hs_reuse_init(struct hs_reuse *r, uint32_t nr)
{
	void *m;

	r->nr = nr;
	r->len = (size_t)nr * HS_REUSE_STRIDE;
	r->pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (r->pm < 0)
		return -errno;
	m = mmap(NULL, r->len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return -errno;
	munmap(m, r->len);
	r->hint = (uintptr_t)m;
	return 0;
}

/*
 * Map the fill region (never into an unsharer's remap hole: fixed, no
 * replace), fault one page per range so each gets a new PMD table and a new
 * PTE table, fill each page with a PTE-shaped word pointing at itself
 * (present, user, read-only), read every word back, unmap (tables freed).
 * Ranges filled, or -status.
 */
static int hs_reuse_fill(struct mmt_worker *w, struct hs_thr *t, struct hs_reuse *r)
{
	uint64_t *pg, e, val, vals[256];
	uint32_t i, k;
	char *m;

	m = mmap((void *)r->hint, r->len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
	if (m == MAP_FAILED || m != (char *)r->hint) {
		if (m != MAP_FAILED)
			munmap(m, r->len);
		return 0;	/* the hint got taken; count nothing this time */
	}
	madvise(m, r->len, MADV_NOHUGEPAGE);
	for (i = 0; i < r->nr; i++) {
		pg = (uint64_t *)(m + (size_t)i * HS_REUSE_STRIDE);
		pg[0] = 1;
		e = 0;
		if (pread(r->pm, &e, 8, (off_t)((uintptr_t)pg / 4096 * 8)) != 8)
			e = 0;
		val = ((e & PM_PFN_MASK) << 12) | HS_FILL_FLAGS;
		vals[i] = val;
		for (k = 0; k < HS_BLK_WORDS; k++)
			pg[k] = val;
	}
	for (i = 0; i < r->nr; i++) {
		pg = (uint64_t *)(m + (size_t)i * HS_REUSE_STRIDE);
		val = vals[i];
		for (k = 0; k < HS_BLK_WORDS; k++) {
			e = pg[k];
			if (e == val)
				continue;
			munmap(m, r->len);
			if (t)
				return -hs_tfail(t, MMT_FAIL, "freshly filled anonymous page %u (own "
						 "PMD and PTE table) word %u: expected %#018" PRIx64
						 " (as written), found %#018" PRIx64, i, k, val, e);
			return -mmt_fail(w, "mm of pid %d, unsharer's main thread: freshly filled "
					 "anonymous page %u (own PMD and PTE table) word %u: "
					 "expected %#018" PRIx64 " (as written), found %#018" PRIx64,
					 (int)getpid(), i, k, val, e);
		}
	}
	munmap(m, r->len);
	return (int)r->nr;
}

static void *hs_reuse_main(void *arg)
{
	struct hs_thr *t = arg;
	struct hs_priv *hp = t->l.hp;
	struct timespec ts = { 0, 20000000 };
	struct hs_reuse r;
	uint32_t seen, cur;
	uint64_t t0;
	int ret;

	ret = hs_reuse_init(&r, hp->reuse_ranges);
	if (ret) {
		t->status = hs_tfail(t, MMT_ERROR, "reserving the fill region: %s",
				     strerror(-ret));
		return NULL;
	}
	seen = __atomic_load_n(&hp->unshare_seq, __ATOMIC_ACQUIRE);
	__atomic_add_fetch(&hs_proc.ready, 1, __ATOMIC_RELEASE);
	while (hs_thr_going(t)) {
		hs_futex(&hp->unshare_seq, FUTEX_WAIT, seen, &ts);
		cur = __atomic_load_n(&hp->unshare_seq, __ATOMIC_ACQUIRE);
		if (cur == seen)
			continue;
		seen = cur;
		t0 = __atomic_load_n(&hp->unshare_ns, __ATOMIC_RELAXED);
		ret = hs_reuse_fill(t->w, t, &r);
		if (ret < 0) {
			t->status = -ret;
			break;
		}
		if (ret) {
			uint64_t now = mmt_now_ns();

			mmt_add(t->w, M_REUSE, (uint64_t)ret);
			if (now > t0)	/* read before the fill: never a later unshare's */
				mmt_latency(t->w, M_REUSE_LAT, now - t0);
		}
	}
	close(r.pm);
	return NULL;
}

/* Start the sibling threads of `kinds` (& -p inmm) in this worker process; 0 or status. */
static int hs_inmm_start(struct mmt_worker *w, const struct hs_local *l, unsigned int kinds)
{
	static const struct {
		unsigned int kind;
		const char *name;
		void *(*fn)(void *);
	} tab[] = {
		{ HS_IN_GUP, "gup", hs_gup_main },
		{ HS_IN_ACCESS, "access", hs_access_main },
		{ HS_IN_REUSE, "reuse", hs_reuse_main },
	};
	const struct hs_priv *hp = l->hp;
	unsigned int i;
	int n = 0;

	kinds &= hp->inmm;
	if (w->id >= HS_MAX_SLOTS)
		kinds = 0;
	if (!(hp->gup_kinds))
		kinds &= ~(unsigned int)HS_IN_GUP;
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		struct hs_thr *t = &hs_proc.thr[hs_proc.nthr];

		if (!(kinds & tab[i].kind))
			continue;
		*t = (struct hs_thr){ .w = w, .l = *l, .kind = tab[i].kind, .name = tab[i].name,
				      .slot = w->id };
		t->l.rng ^= (uint64_t)(i + 1) * 0x2545f4914f6cdd1dull;
		t->l.pagemap = -1;
		if (pthread_create(&t->pt, NULL, tab[i].fn, t))
			return mmt_werror(w, "pthread_create of the %s thread", tab[i].name);
		hs_proc.nthr++;
		n++;
	}
	/* Wait until they allocated what they need (they allocate nothing later). */
	while (__atomic_load_n(&hs_proc.ready, __ATOMIC_ACQUIRE) < n && !hs_failed() &&
	       mmt_running(w))
		mmt_sleep(w, 1000000);
	return hs_failed() ? hs_proc.failed : 0;
}

/* Stop and join the sibling threads; the worse of ret and theirs. */
static int hs_inmm_stop(int ret)
{
	int i;

	__atomic_store_n(&hs_proc.quit, 1, __ATOMIC_RELAXED);
	for (i = 0; i < hs_proc.nthr; i++)
		pthread_join(hs_proc.thr[i].pt, NULL);
	hs_proc.nthr = 0;
	if (ret == MMT_PASS && hs_proc.failed)
		ret = hs_proc.failed;
	return ret;
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
	ret = hs_inmm_start(w, &l, HS_IN_GUP | HS_IN_REUSE);
	if (ret)
		return hs_inmm_stop(ret);
	while (mmt_running(w) && !hs_failed()) {
		p = hs_rand(&l, l.npages);
		__atomic_store_n(&hs_proc.hot, p, __ATOMIC_RELAXED);
		owner = hs_owner(l.ntouch, l.ncyc, p, &cyc);
		if (!cyc && owner == w->index)
			ret = hs_owner_rewrite(w, &l, p, false,
					       "the toucher's own mapping (owner)");
		else
			ret = hs_check_own(w, &l, p, -1, cyc, "a toucher's own mapping");
		if (ret)
			return hs_inmm_stop(ret);
		mmt_add(w, M_TOUCH, 1);
	}
	return hs_inmm_stop(MMT_PASS);
}

static int toucher_run(struct mmt_worker *w)
{
	return hs_guard(w, hs_toucher, "toucher");
}

/* ---- unsharer ---- */

/* The first /proc/self/maps line overlapping [a, a + len), for an error message. */
static void hs_maps_at(uintptr_t a, size_t len, char *buf, size_t sz)
{
	char line[256];
	FILE *f = fopen("/proc/self/maps", "re");

	snprintf(buf, sz, "nothing in /proc/self/maps there now");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && lo < a + len && hi > a) {
			line[strcspn(line, "\n")] = 0;
			snprintf(buf, sz, "in the way: %s", line);
			break;
		}
	}
	fclose(f);
}

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
	__atomic_add_fetch(&l->hp->punch_seq[p], 1, __ATOMIC_SEQ_CST);	/* odd: in flight */
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
	__atomic_add_fetch(&l->hp->punch_seq[p], 1, __ATOMIC_SEQ_CST);
	return 0;
}

static int hs_unsharer(struct mmt_worker *w)
{
	struct hs_local l;
	int kinds[HS_U_NR], nk, kind, ret = MMT_PASS;
	uint32_t *own = NULL, nown = 0, p, r, n, chunk, nchunks;
	uint64_t t0, lat, ops[HS_U_NR] = { 0 }, reshared[HS_U_NR] = { 0 };
	struct hs_reuse reuse = { .pm = -1 };
	bool fill = false;
	void *m;

	hs_local_init(&l, w);
	nchunks = l.npages / HS_PER_PUD;
	nk = hs_parse_choice(mmt_param_str(w->ctx, "unshare"), hs_unshare_names, HS_U_NR, kinds, NULL, 0);
	if (nk <= 0)
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
	if ((l.hp->inmm & HS_IN_REUSE) && w->id < HS_MAX_SLOTS) {
		ret = hs_reuse_init(&reuse, l.hp->reuse_ranges);
		if (ret) {
			ret = mmt_werror(w, "reserving the fill region: %s", strerror(-ret));
			goto out_close;
		}
		fill = true;
	}
	ret = hs_inmm_start(w, &l, HS_IN_GUP | HS_IN_ACCESS);
	if (ret)
		goto out_close;

	for (uint64_t iter = 0; mmt_running(w) && !hs_failed(); iter++) {
		kind = kinds[(iter + (uint64_t)w->index) % (uint64_t)nk];
		lat = 0;
		switch (kind) {
		case HS_U_MPROTECT:
			r = hs_rand(&l, l.npages);
			chunk = r / HS_PER_PUD;
			m = (void *)(l.addr + (uintptr_t)r * HS_HPAGE);
			__atomic_store_n(&hs_proc.hot, r, __ATOMIC_RELAXED);
			hs_win_step();	/* siblings' writes to page r may fault now */
			t0 = mmt_now_ns();
			if (mprotect(m, HS_HPAGE, PROT_READ) ||
			    mprotect(m, HS_HPAGE, PROT_READ | PROT_WRITE)) {
				ret = mmt_werror(w, "mprotect of page %u: %s", r, strerror(errno));
				goto out_close;
			}
			lat = mmt_now_ns() - t0;
			hs_win_step();
			break;
		case HS_U_DONTNEED:
			r = hs_rand(&l, l.npages);
			n = 1 + hs_rand(&l, 64);
			if (n > l.npages - r)
				n = l.npages - r;
			chunk = r / HS_PER_PUD;
			__atomic_store_n(&hs_proc.hot, r, __ATOMIC_RELAXED);
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
			hs_win_step();	/* siblings' accesses and pins may fault now */
			t0 = mmt_now_ns();
			if (munmap((void *)l.addr, l.hp->size)) {
				ret = mmt_werror(w, "munmap: %s", strerror(errno));
				goto out_close;
			}
			m = mmap((void *)l.addr, l.hp->size, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_FIXED_NOREPLACE, l.hp->fd, 0);
			if (m != (void *)l.addr) {
				char what[200];

				hs_maps_at(l.addr, l.hp->size, what, sizeof(what));
				ret = mmt_werror(w, "mmap again at %#lx: %s (%s)", (unsigned long)l.addr,
						 m == MAP_FAILED ? strerror(errno) : "moved", what);
				goto out_close;
			}
			lat = mmt_now_ns() - t0;
			hs_win_step();
			break;
		case HS_U_PUNCH:
		default:
			if (!nown)
				continue;
			p = own[hs_rand(&l, nown)];
			chunk = p / HS_PER_PUD;
			__atomic_store_n(&hs_proc.hot, p, __ATOMIC_RELAXED);
			ret = hs_punch(w, &l, p, &lat);
			if (ret)
				goto out_close;
			break;
		}
		mmt_add(w, M_UNSHARE, 1);
		mmt_latency(w, M_LAT_MPROTECT + (unsigned int)kind, lat);
		ops[kind]++;
		/* At once: new tables here (and, woken, in every other mm) on the freed memory. */
		hs_unshared(l.hp);
		if (fill) {
			t0 = mmt_now_ns();
			ret = hs_reuse_fill(w, NULL, &reuse);
			if (ret < 0) {
				ret = -ret;
				goto out_close;
			}
			if (ret) {
				mmt_add(w, M_REUSE, (uint64_t)ret);
				mmt_latency(w, M_REUSE_LAT, mmt_now_ns() - t0);
			}
		}
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
	ret = hs_inmm_stop(ret);
	if (reuse.pm >= 0)
		close(reuse.pm);
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
		ssize_t r = pread(fd, &v[c], 8, (off_t)(uintptr_t)hs_word(l->addr, p,
								   (unsigned int)c));

		if (r != 8) {
			/* 0: the target's mm is already gone (it is exiting) */
			if (r >= 0 || hs_gone(errno)) {
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
	nk = hs_parse_choice(mmt_param_str(w->ctx, "walk"), hs_walk_names, HS_W_NR, kinds, NULL, 0);
	if (nk <= 0)
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

	ret = hs_inmm_start(w, &l, HS_IN_GUP | HS_IN_ACCESS | HS_IN_REUSE);
	for (uint64_t iter = 0; !ret && mmt_running(w) && !hs_failed(); iter++) {
		uint64_t t0;

		kind = kinds[(iter + (uint64_t)w->index) % (uint64_t)nk];
		pid = 0;
		if (kind != HS_W_MINCORE) {
			pid = hs_pick(&l, &t);
			if (!pid) {
				mmt_sleep(w, 1000000);	/* partners not up yet */
				continue;
			}
		}
		t0 = mmt_now_ns();
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
		mmt_latency(w, M_WLAT_VM_READV + (unsigned int)kind, mmt_now_ns() - t0);
		mmt_add(w, M_WALK, 1);
	}
	ret = hs_inmm_stop(ret);
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
			hs_unshared(l.hp);	/* exit_mmap() unshared the child's tables */
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

/*
 * ---- stale: a punched page read again through the TLB entry an unsharing munmap kept ----
 *
 * One process (role "stale", -p stale=yes) with three threads.  The main thread U, pinned to
 * one CPU, maps the ballast right after the shared range (hs_st_ballast()), faults HS_ST_WARM
 * pages of the range (sharing the PMD table), reads the victim page p last and munmaps range +
 * ballast in one call, SCHED_FIFO 1.  The kernel zaps the hugetlb VMA first - unsharing this
 * mm's PUD entry and, on a correct kernel, flushing this mm's TLB before it drops the
 * i_mmap_rwsem - then walks the ballast, unlinks every VMA (free_pgtables()) and only then
 * finishes its mmu_gather.  The sibling S, on the other CPU, owns a share of the punched-page
 * class; it waits until a read of a page it has not touched faults (the PUD entry is gone:
 * its CPU walks the tables, the vma is already detached), raises the reader (below) to FIFO 2,
 * punches p, faults a private hugetlb page bound to p's node (the pool hands out the page it
 * got back last: the punched one), fills its head and tail with foreign words and reads p
 * itself.  The reader R, pinned to U's CPU, keeps that CPU in this mm while the munmap sleeps
 * (hs_reader_main()); raised, it holds the munmap at its next preemption point and reads p
 * until the foreign page is filled, then once more.  The vma is detached, so only a TLB entry
 * can answer: a fault (flushed, correct), or p's old stamp (legal: when nothing was shared
 * the page is still held by the munmap's gather until its flush).  Anything else - zero, the
 * foreign fill, another stamp - is a page freed while this mm's TLB still mapped it: FAIL.
 * Unless -p inmm excludes it, this process also runs an access thread pinned to U's CPU.
 */
#define HS_MPOL_BIND		2
#define HS_MPOL_F_NODE		1
#define HS_MPOL_F_ADDR		2
#ifndef MAP_HUGETLB
#define MAP_HUGETLB		0x40000
#endif
#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT		26
#endif

struct hs_st_cycle {
	uint32_t n, p, g;
	uint64_t hv, tv;	/* p's words as read before the cycle */
	uint64_t pfn0, pfn1;	/* p's PFN before; the foreign page's after */
	void *fm;		/* the private hugetlb page */
	int node;
};

static struct {
	uint32_t go;		/* cycle n: the range is mapped, S may prepare */
	uint32_t ready;		/* S prepared cycle n */
	uint32_t in;		/* cycle n: U's munmap is about to start or running */
	uint32_t out;		/* cycle n: U's munmap returned */
	uint32_t done;		/* S checked cycle n */
	uint32_t quit;		/* U stopped; the range is mapped */
	uint32_t exited;	/* S returned */
	struct hs_st_cycle cy;	/* S's cycle, for the reader */
	pthread_t rd_pt;
	uint32_t boost;		/* S: cycle n's PUD entry is gone, the reader is raised */
	uint64_t boost_ns;
	uint32_t filled;	/* S: cycle n's foreign page is filled: reader, read p now */
	uint32_t rd_done;	/* the reader read cycle n */
	uint32_t rd_exited;
	uint32_t warm[HS_ST_WARM];
	uint32_t nwarm;
	uint32_t victim;	/* the page S holds this cycle, for the access thread */
	int cpu[2];
	int rt;			/* two CPUs: U and the reader use SCHED_FIFO */
} hs_stl;

static inline uint32_t hs_ld(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void hs_set(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
	syscall(SYS_futex, p, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
}

/* Sleep while *p == cur, at most 5 ms (callers re-check why they wait). */
static inline void hs_nap(uint32_t *p, uint32_t cur)
{
	struct timespec ts = { 0, 5000000 };

	syscall(SYS_futex, p, FUTEX_WAIT_PRIVATE, cur, &ts, NULL, 0);
}

/*
 * Scheduling of the stale process's threads: SCHED_FIFO prio (0: SCHED_OTHER), only with
 * two CPUs to pin to (on one, a spinning FIFO reader would starve what the munmap waits for).
 */
static void hs_st_sched(pthread_t pt, int prio)
{
	struct sched_param sp = { .sched_priority = prio };

	if (hs_stl.rt)
		pthread_setschedparam(pt, prio ? SCHED_FIFO : SCHED_OTHER, &sp);
}

static void hs_pin(pthread_t pt, int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pt, sizeof(set), &set);	/* best effort */
}

/* PFN of the hugetlb page at va in this mm, 0 if unknown. */
static uint64_t hs_self_pfn(int pm, uintptr_t va)
{
	uint64_t e = 0;

	if (pm < 0 || hs_pagemap_read(pm, va, 1, &e) || !(e & PM_PRESENT))
		return 0;
	return e & PM_PFN_MASK;
}

/*
 * S: wait for U's step n; false when U quit.  U, once it saw S ready, always
 * goes on to its munmap, so only the wait for `go` gives up when the run ends.
 */
static bool hs_st_wait(struct hs_thr *t, uint32_t *what, uint32_t n)
{
	uint32_t cur;

	while ((cur = hs_ld(what)) != n) {
		if (hs_ld(&hs_stl.quit) || hs_failed() ||
		    (what == &hs_stl.go && !mmt_running(t->w)))
			return false;
		hs_nap(what, cur);
	}
	return true;
}

/* S: the punched page pending from the last cycle is mapped again: it must read zero. */
static int hs_st_refill(struct hs_thr *t, uint32_t p)
{
	const struct hs_priv *hp = t->l.hp;
	uint32_t g;
	unsigned int c;
	uint64_t v;

	if (sigsetjmp(hs_tjmp, 0))
		return hs_tfail(t, MMT_FAIL, "fault at %p refilling punched page %u through this "
				"mm's range, mapped again", hs_tfault_addr, p);
	hs_tjmp_any = 0;
	hs_tjmp_armed = 1;
	for (c = HS_HEAD; c <= HS_TAIL; c++) {
		v = hs_load(t->l.addr, p, c);
		if (v) {
			char found[200];

			hs_tjmp_armed = 0;
			hs_found(hp, v, c, found, sizeof(found));
			return hs_tfail(t, MMT_FAIL, "page %u %s word (file offset %#lx), punched by "
					"this thread and mapped again, reads %s: expected zero (a new "
					"page)", p, c == HS_HEAD ? "head" : "tail",
					(unsigned long)p * HS_HPAGE + (c == HS_HEAD ? 0 : HS_HPAGE - 8),
					found);
		}
	}
	g = (__atomic_load_n(&hp->gen[p], __ATOMIC_RELAXED) + 1) & HS_GEN_MASK;
	hs_store(t->l.addr, p, HS_HEAD, hs_stamp(hp->salt, p, g, HS_HEAD));
	hs_store(t->l.addr, p, HS_TAIL, hs_stamp(hp->salt, p, g, HS_TAIL));
	hs_tjmp_armed = 0;
	__atomic_store_n(&((struct hs_priv *)hp)->gen[p], g, __ATOMIC_RELEASE);
	__atomic_add_fetch(&((struct hs_priv *)hp)->punch_seq[p], 1, __ATOMIC_SEQ_CST);
	return 0;
}

/* S, before the window: read p (TLB entry), find its page, map the foreign page on its node. */
static int hs_st_prepare(struct hs_thr *t, int pm, struct hs_st_cycle *cy)
{
	const struct hs_priv *hp = t->l.hp;
	unsigned long mask[4] = { 0 };
	int node = -1;

	cy->g = __atomic_load_n(&hp->gen[cy->p], __ATOMIC_ACQUIRE);
	if (sigsetjmp(hs_tjmp, 0))
		return hs_tfail(t, MMT_FAIL, "fault at %p reading page %u of this mm's range, "
				"mapped read-write throughout", hs_tfault_addr, cy->p);
	hs_tjmp_any = 0;
	hs_tjmp_armed = 1;
	cy->hv = hs_load(t->l.addr, cy->p, HS_HEAD);
	cy->tv = hs_load(t->l.addr, cy->p, HS_TAIL);
	hs_tjmp_armed = 0;
	if (cy->hv != hs_stamp(hp->salt, cy->p, cy->g, HS_HEAD) ||
	    cy->tv != hs_stamp(hp->salt, cy->p, cy->g, HS_TAIL)) {
		char found[200];
		bool head = cy->hv != hs_stamp(hp->salt, cy->p, cy->g, HS_HEAD);

		hs_found(hp, head ? cy->hv : cy->tv, head ? HS_HEAD : HS_TAIL, found,
			 sizeof(found));
		return hs_tfail(t, MMT_FAIL, "page %u %s word (file offset %#lx) read by its "
				"owner: expected the stamp of page %u, generation %u, found %s",
				cy->p, head ? "head" : "tail", (unsigned long)cy->p * HS_HPAGE +
				(head ? 0 : HS_HPAGE - 8), cy->p, cy->g, found);
	}
	cy->pfn0 = hs_self_pfn(pm, t->l.addr + (uintptr_t)cy->p * HS_HPAGE);
	if (syscall(SYS_get_mempolicy, &node, NULL, 0UL,
		    (void *)(t->l.addr + (uintptr_t)cy->p * HS_HPAGE),
		    (unsigned long)(HS_MPOL_F_NODE | HS_MPOL_F_ADDR)))
		node = -1;
	cy->node = node;
	cy->fm = mmap(NULL, HS_HPAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
		      MAP_HUGETLB | (21 << MAP_HUGE_SHIFT), -1, 0);
	if (cy->fm == MAP_FAILED) {
		cy->fm = NULL;	/* pool exhausted: this cycle without a foreign page */
		return 0;
	}
	if (node >= 0 && node < (int)(sizeof(mask) * 8)) {
		mask[node / (8 * sizeof(long))] = 1ul << (node % (8 * sizeof(long)));
		syscall(SYS_mbind, cy->fm, HS_HPAGE, HS_MPOL_BIND, mask,
			(unsigned long)(sizeof(mask) * 8), 0u);
	}
	/* Read p again last: its TLB entry is the freshest S holds. */
	if (sigsetjmp(hs_tjmp, 0))
		return hs_tfail(t, MMT_FAIL, "fault at %p reading page %u of this mm's range, "
				"mapped read-write throughout", hs_tfault_addr, cy->p);
	hs_tjmp_armed = 1;
	(void)hs_load(t->l.addr, cy->p, HS_HEAD);
	(void)hs_load(t->l.addr, cy->p, HS_TAIL);
	hs_tjmp_armed = 0;
	return 0;
}

/*
 * Read punched page p through this mm (its vma is detached: only a TLB entry
 * can answer): a fault or the old stamp is correct, anything else FAILs.
 * The reader (window) counts the cycle's window figures.
 */
static int hs_st_read(struct hs_thr *t, const struct hs_st_cycle *cy, bool window, bool *gone)
{
	const struct hs_priv *hp = t->l.hp;
	volatile bool faulted = false;
	uint64_t v[2] = { 0, 0 };
	char found[240], want[160], pfn[160];
	unsigned int c;
	bool inwin;

	if (sigsetjmp(hs_tjmp, 0)) {
		faulted = true;
	} else {
		hs_tjmp_any = 0;
		hs_tjmp_armed = 1;
		v[0] = hs_load(t->l.addr, cy->p, HS_HEAD);
		v[1] = hs_load(t->l.addr, cy->p, HS_TAIL);
		hs_tjmp_armed = 0;
	}
	inwin = hs_ld(&hs_stl.out) != cy->n;
	if (window && inwin) {
		mmt_add(t->w, M_STALE_INWIN, 1);
		if (cy->pfn0 && cy->pfn1 == cy->pfn0)
			mmt_add(t->w, M_STALE_REUSED, 1);
	}
	if (faulted) {
		if (gone)
			*gone = true;
		if (window || !gone)
			mmt_add(t->w, M_STALE_FLUSHED, 1);
		return 0;
	}
	if (v[0] == cy->hv && v[1] == cy->tv) {
		if (window || !gone)
			mmt_add(t->w, M_STALE_OLD, 1);
		return 0;
	}
	c = v[0] != cy->hv ? HS_HEAD : HS_TAIL;
	hs_found(hp, v[c], c, found, sizeof(found));
	snprintf(want, sizeof(want), "a fault or its old stamp %#018" PRIx64 " (gen %u)",
		 c == HS_HEAD ? cy->hv : cy->tv, cy->g);
	if (cy->pfn1)
		snprintf(pfn, sizeof(pfn), "%#" PRIx64, cy->pfn1);
	else
		snprintf(pfn, sizeof(pfn), "not filled yet");
	return hs_tfail(t, MMT_FAIL, "page %u %s word (file offset %#lx) read on CPU %d %s its "
			"punch, with this mm's munmap of the range %s: expected %s, found %s; "
			"punched PFN %#" PRIx64 ", foreign page PFN %s: a TLB entry still maps a "
			"page freed and reused", cy->p, c == HS_HEAD ? "head" : "tail",
			(unsigned long)cy->p * HS_HPAGE + (c == HS_HEAD ? 0 : HS_HPAGE - 8),
			sched_getcpu(), gone && !window ? "during" : "after",
			inwin ? "still running" : "returned", want, found, cy->pfn0, pfn);
}

/*
 * The reader (keeper): SCHED_FIFO 1 on U's CPU, the priority U's munmap runs at.  From the
 * moment U starts its munmap it spins there reading p and yielding: whenever U sleeps inside
 * the munmap it is the reader that runs, in the same mm, so the CPU never switches to another
 * mm (without PCID that flushes the TLB) and p's TLB entry stays.  Before the PUD entry goes
 * a read walks the tables (the vma is detached, the tables are not yet): p's old stamp.  Once
 * S sees the PUD entry gone it raises the reader to FIFO 2: the reader preempts the munmap at
 * its next preemption point and holds it there (at most HS_ST_HOLD_NS), reading p, until S
 * has punched p and filled the foreign page; then a last read, and back to FIFO 1.
 */
#define HS_ST_HOLD_NS	600000000ull

static void *hs_reader_main(void *arg)
{
	struct hs_thr *t = arg;
	uint32_t cur, n;
	uint64_t t0;
	int ret = 0;

	hs_st_sched(pthread_self(), 1);
	__atomic_add_fetch(&hs_proc.ready, 1, __ATOMIC_RELEASE);
	for (n = 0;;) {
		bool gone = false;

		while ((cur = hs_ld(&hs_stl.in)) == n) {
			if (hs_ld(&hs_stl.quit) || hs_failed())
				goto out;
			hs_nap(&hs_stl.in, cur);
		}
		n = cur;
		/* A raise meant for the last cycle that landed late: undo it. */
		if (hs_ld(&hs_stl.boost) != n)
			hs_st_sched(pthread_self(), 1);
		t0 = mmt_now_ns();
		while (hs_ld(&hs_stl.out) != n && !hs_failed() && !hs_ld(&hs_stl.quit)) {
			bool last = hs_ld(&hs_stl.filled) == n;

			if (!gone || last) {
				ret = hs_st_read(t, &hs_stl.cy, last, &gone);
				if (ret)
					break;
			}
			if (last)
				break;
			if (hs_ld(&hs_stl.boost) == n &&
			    mmt_now_ns() - hs_stl.boost_ns > HS_ST_HOLD_NS)
				break;	/* S is too slow: let the munmap go on */
			if (hs_ld(&hs_stl.boost) != n && mmt_now_ns() - t0 > 4 * HS_ST_HOLD_NS) {
				/* A munmap this slow waits for others: stop keeping the CPU. */
				hs_st_sched(pthread_self(), 0);
				hs_nap(&hs_stl.boost, hs_ld(&hs_stl.boost));
				continue;
			}
			sched_yield();
		}
		hs_st_sched(pthread_self(), 1);
		if (ret) {
			t->status = ret;
			break;
		}
		hs_set(&hs_stl.rd_done, n);
	}
out:
	hs_set(&hs_stl.rd_exited, 1);
	return NULL;
}

/* S, in the window: wait for the PUD entry to go, then punch, refault elsewhere, read p. */
static int hs_st_window(struct hs_thr *t, int pm, struct hs_st_cycle *cy)
{
	struct hs_priv *hp = t->l.hp;
	uint32_t k = 0, round = 0, r, sub, nwarm = hs_ld(&hs_stl.nwarm);
	volatile uint64_t sink;
	uint64_t fw[2];
	char found[240];
	unsigned int c;
	uint32_t cur;
	int ret;

	/* Probe pages S never touched this cycle until one faults. */
	if (sigsetjmp(hs_tjmp, 0))
		goto gone;
	hs_tjmp_any = 0;
	while (nwarm) {
		if (hs_ld(&hs_stl.out) == cy->n) {
			hs_tjmp_armed = 0;
			return -1;	/* the munmap was over before S saw the range go */
		}
		r = hs_stl.warm[k % nwarm];
		sub = 1 + (uint32_t)((round * 37u + k) % (HS_SUBPAGES - 2));
		hs_tjmp_armed = 1;
		sink = *(volatile uint64_t *)(t->l.addr + (uintptr_t)r * HS_HPAGE +
					      (uintptr_t)sub * 4096u + 8u * (uint32_t)t->slot);
		hs_tjmp_armed = 0;
		(void)sink;
		if (++k % nwarm == 0)
			round++;
		sched_yield();	/* the lock holders U waits for may need this CPU */
	}
	return -1;
gone:
	hs_tjmp_armed = 0;
	/*
	 * The PUD entry is gone: raise the reader above the munmap, so that it holds
	 * the munmap at its next preemption point until the page is reused.
	 */
	hs_stl.boost_ns = mmt_now_ns();
	hs_set(&hs_stl.boost, cy->n);
	if (hs_ld(&hs_stl.rd_done) != cy->n)
		hs_st_sched(hs_stl.rd_pt, 2);
	/* The punch: the page goes back to the pool once nothing else holds it. */
	__atomic_add_fetch(&hp->punch_seq[cy->p], 1, __ATOMIC_SEQ_CST);	/* odd until refilled */
	if (fallocate(hp->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)cy->p * (off_t)HS_HPAGE, (off_t)HS_HPAGE)) {
		ret = errno;
		hs_set(&hs_stl.filled, cy->n);
		return hs_tfail(t, MMT_ERROR, "fallocate(PUNCH_HOLE) of page %u: %s", cy->p,
				strerror(ret));
	}
	/* The foreign refault: most likely the page just freed. */
	fw[0] = hs_stamp(hp->salt ^ HS_FOREIGN_SALT, cy->p, cy->n, HS_HEAD);
	fw[1] = hs_stamp(hp->salt ^ HS_FOREIGN_SALT, cy->p, cy->n, HS_TAIL);
	if (cy->fm) {
		if (sigsetjmp(hs_tjmp, 0)) {
			hs_tjmp_any = 0;
			munmap(cy->fm, HS_HPAGE);	/* SIGBUS: no free page on that node */
			cy->fm = NULL;
		} else {
			hs_tjmp_any = 1;
			hs_tjmp_armed = 1;
			__atomic_store_n((uint64_t *)cy->fm, fw[0], __ATOMIC_RELAXED);
			__atomic_store_n((uint64_t *)((char *)cy->fm + HS_HPAGE - 8), fw[1],
					 __ATOMIC_RELAXED);
			hs_tjmp_armed = 0;
			hs_tjmp_any = 0;
		}
	}
	cy->pfn1 = cy->fm ? hs_self_pfn(pm, (uintptr_t)cy->fm) : 0;
	/* p through this mm, on this CPU, then by the reader on U's CPU. */
	ret = hs_st_read(t, cy, false, NULL);
	if (ret)
		return ret;
	hs_stl.cy.pfn1 = cy->pfn1;
	hs_set(&hs_stl.filled, cy->n);
	while ((cur = hs_ld(&hs_stl.rd_done)) != cy->n && !hs_failed() &&
	       !hs_ld(&hs_stl.rd_exited))
		hs_nap(&hs_stl.rd_done, cur);
	if (hs_failed())
		return MMT_FAIL;
	/* Nothing may have written into the foreign page through a stale entry either. */
	if (cy->fm) {
		for (c = HS_HEAD; c <= HS_TAIL; c++) {
			uint64_t x = __atomic_load_n(c == HS_HEAD ? (uint64_t *)cy->fm :
						     (uint64_t *)((char *)cy->fm + HS_HPAGE - 8),
						     __ATOMIC_RELAXED);

			if (x == fw[c])
				continue;
			hs_found(hp, x, c, found, sizeof(found));
			return hs_tfail(t, MMT_FAIL, "the private hugetlb page (PFN %#" PRIx64 ") "
					"faulted right after punching page %u: %s word expected its "
					"foreign fill %#018" PRIx64 ", found %s: written through a "
					"stale translation", cy->pfn1, cy->p, c == HS_HEAD ? "head" :
					"tail", fw[c], found);
		}
		for (c = 0; c < HS_MAX_SLOTS; c++) {
			uint64_t x = __atomic_load_n((uint64_t *)((char *)cy->fm + HS_ACC_OFF +
								  (size_t)c * 64), __ATOMIC_RELAXED);

			if (!x)
				continue;
			hs_found(hp, x, HS_HEAD, found, sizeof(found));
			return hs_tfail(t, MMT_FAIL, "the private hugetlb page (PFN %#" PRIx64 ") "
					"faulted right after punching page %u: the access word of "
					"slot %u (offset %#lx) expected zero, found %s: an access "
					"thread's write to page %u went through a stale translation "
					"into this page", cy->pfn1, cy->p, c, (unsigned long)HS_ACC_OFF +
					c * 64ul, found, cy->p);
		}
	}
	return 0;
}

static void *hs_stale_main(void *arg)
{
	struct hs_thr *t = arg;
	const struct hs_local *l = &t->l;
	uint32_t *own, nown = 0, p, n, pi, pending = UINT32_MAX;
	struct hs_st_cycle cy;
	int pm, ret;
	bool cyc;

	own = mmap(NULL, (size_t)l->npages * sizeof(*own), PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (own == MAP_FAILED) {
		t->status = hs_tfail(t, MMT_ERROR, "mmap: %s", strerror(errno));
		return NULL;
	}
	for (p = 0; p < l->npages; p++)
		if (hs_owner(l->ntouch, l->ncyc, p, &cyc) == l->ncyc && cyc)
			own[nown++] = p;
	pi = (uint32_t)(mmt_rand(&t->l.rng) % (nown ? nown : 1));
	setpriority(PRIO_PROCESS, (id_t)gettid(), -10);	/* see the PUD entry go early */
	__atomic_add_fetch(&hs_proc.ready, 1, __ATOMIC_RELEASE);
	for (n = 1; nown; n++) {
		if (!hs_st_wait(t, &hs_stl.go, n))
			break;
		if (pending != UINT32_MAX) {
			ret = hs_st_refill(t, pending);
			if (ret) {
				t->status = ret;
				goto out;
			}
			pending = UINT32_MAX;
		}
		memset(&cy, 0, sizeof(cy));
		cy.n = n;
		cy.p = own[pi++ % nown];
		hs_set(&hs_stl.victim, cy.p);
		ret = hs_st_prepare(t, pm, &cy);
		if (ret) {
			t->status = ret;
			goto out;
		}
		hs_stl.cy = cy;
		hs_set(&hs_stl.ready, n);
		if (!hs_st_wait(t, &hs_stl.in, n)) {
			if (cy.fm)
				munmap(cy.fm, HS_HPAGE);
			break;
		}
		ret = hs_st_window(t, pm, &cy);
		if (cy.fm)
			munmap(cy.fm, HS_HPAGE);
		if (ret > 0) {
			t->status = ret;
			goto out;
		}
		if (!ret)
			pending = cy.p;
		hs_set(&hs_stl.done, n);
	}
	/* U stopped with the range mapped: put the pending page back. */
	while (pending != UINT32_MAX && !hs_failed() && !hs_ld(&hs_stl.quit))
		hs_nap(&hs_stl.quit, 0);
	if (pending != UINT32_MAX && !hs_failed())
		t->status = hs_st_refill(t, pending);
out:
	if (pm >= 0)
		close(pm);
	munmap(own, (size_t)l->npages * sizeof(*own));
	hs_set(&hs_stl.exited, 1);
	return NULL;
}

/*
 * U: the ballast right after the range: a shmem memfd mapped shared, never faulted (no page
 * tables: its zap never reaches zap_pte_range(), whose flush_tlb_batched_pending() would flush
 * this mm if NUMA balancing or compaction left a batched unmap pending), split into
 * HS_BAL_LEN / HS_BAL_CHUNK file VMAs (every other chunk read-only).  The munmap walks them
 * after the hugetlb VMA and unlinks them from the memfd's i_mmap in batches before its
 * flush: each batch takes the i_mmap_rwsem, a point where the reader can preempt it.
 * 0 or errno.
 */
static int hs_st_ballast(uintptr_t bal, bool fixed, int fd)
{
	void *m = mmap((void *)bal, HS_BAL_LEN, PROT_READ | PROT_WRITE, MAP_SHARED |
		       (fixed ? MAP_FIXED : MAP_FIXED_NOREPLACE), fd, 0);
	uint32_t i;

	if (m == MAP_FAILED)
		return errno;
	if (m != (void *)bal) {
		munmap(m, HS_BAL_LEN);
		return EEXIST;
	}
	for (i = 0; i < HS_BAL_LEN / HS_BAL_CHUNK; i += 2) {
		if (mprotect((char *)m + (size_t)i * HS_BAL_CHUNK, HS_BAL_CHUNK, PROT_READ))
			return errno;
		/* 2048 mprotects: seconds under KASAN; the stop grace is 10 s */
		if (!(i % 128) && hs_cur_w && !mmt_running(hs_cur_w))
			return ECANCELED;
	}
	return 0;
}

/* U: fault HS_ST_WARM never-punched pages of the range (sharing its PMD table again). */
static void hs_st_warm(struct hs_local *l)
{
	uint32_t i, p;

	for (i = 0; i < HS_ST_WARM; i++) {
		do
			p = hs_rand(l, l->npages);
		while (hs_is_cyc_page(l->ncyc, p));
		(void)hs_load(l->addr, p, HS_HEAD);
		hs_stl.warm[i] = p;
	}
	hs_set(&hs_stl.nwarm, HS_ST_WARM);
}

static int hs_stale(struct mmt_worker *w)
{
	struct hs_local l;
	uintptr_t bal;
	cpu_set_t set;
	struct hs_thr *s;
	uint64_t t0, lat;
	uint32_t n, v;
	int ret = MMT_PASS, i, err, bfd;
	void *m;

	hs_local_init(&l, w);
	if (!l.hp->stale)
		return MMT_PASS;
	bal = l.addr + (uintptr_t)l.hp->size;
	bfd = memfd_create("mmt-hugetlb-share-ballast", MFD_CLOEXEC);
	if (bfd < 0 || ftruncate(bfd, (off_t)HS_BAL_LEN))
		return mmt_werror(w, "ballast memfd: %s", strerror(errno));
	err = hs_st_ballast(bal, true, bfd);	/* over the parent's PROT_NONE reservation */
	if (err == ECANCELED) {
		close(bfd);
		return MMT_PASS;	/* stopped while setting up */
	}
	if (err)
		return mmt_werror(w, "mapping the ballast at %#lx: %s", (unsigned long)bal,
				  strerror(err));
	/* Two CPUs of those allowed: U (and its access thread) on one, S on the other. */
	hs_stl.cpu[0] = hs_stl.cpu[1] = -1;
	if (!sched_getaffinity(0, sizeof(set), &set) && CPU_COUNT(&set) >= 2) {
		int k = 0, skip = (int)(w->seed % (uint64_t)CPU_COUNT(&set));

		for (i = 0; i < CPU_SETSIZE && k < 2; i++)
			if (CPU_ISSET(i, &set) && skip-- <= 0)
				hs_stl.cpu[k++] = i;
		for (i = 0; i < CPU_SETSIZE && k < 2; i++)
			if (CPU_ISSET(i, &set) && i != hs_stl.cpu[0])
				hs_stl.cpu[k++] = i;
	}
	hs_stl.rt = hs_stl.cpu[0] >= 0 && hs_stl.cpu[1] >= 0 && hs_stl.cpu[0] != hs_stl.cpu[1];
	hs_st_warm(&l);
	ret = hs_inmm_start(w, &l, HS_IN_ACCESS);
	if (ret)
		return hs_inmm_stop(ret);
	for (i = 0; i < hs_proc.nthr; i++)
		hs_pin(hs_proc.thr[i].pt, hs_stl.cpu[0]);
	s = &hs_proc.thr[hs_proc.nthr];
	*s = (struct hs_thr){ .w = w, .l = l, .kind = 0, .name = "stale", .slot = w->id };
	s->l.rng ^= 0x5354414c45ull;
	if (pthread_create(&s->pt, NULL, hs_stale_main, s))
		return hs_inmm_stop(mmt_werror(w, "pthread_create of the stale thread"));
	hs_proc.nthr++;
	hs_pin(s->pt, hs_stl.cpu[1]);
	s = &hs_proc.thr[hs_proc.nthr];
	*s = (struct hs_thr){ .w = w, .l = l, .kind = 0, .name = "reader", .slot = w->id };
	if (pthread_create(&s->pt, NULL, hs_reader_main, s))
		return hs_inmm_stop(mmt_werror(w, "pthread_create of the reader thread"));
	hs_stl.rd_pt = s->pt;
	hs_proc.nthr++;
	hs_pin(s->pt, hs_stl.cpu[0]);
	hs_pin(pthread_self(), hs_stl.cpu[0]);

	for (n = 1; mmt_running(w) && !hs_failed(); n++) {
		__atomic_store_n(&hs_proc.hot, hs_ld(&hs_stl.victim), __ATOMIC_RELAXED);
		hs_set(&hs_stl.go, n);
		while (hs_ld(&hs_stl.ready) != n && mmt_running(w) && !hs_failed() &&
		       !hs_ld(&hs_stl.exited))
			hs_nap(&hs_stl.ready, hs_ld(&hs_stl.ready));
		if (hs_ld(&hs_stl.ready) != n)
			break;
		v = hs_ld(&hs_stl.victim);
		__atomic_store_n(&hs_proc.hot, v, __ATOMIC_RELAXED);
		/* Last, so that this CPU's TLB holds it for the reader. */
		(void)hs_load(l.addr, v, HS_HEAD);
		(void)hs_load(l.addr, v, HS_TAIL);
		hs_win_step();	/* the access thread's faults are misses from here */
		/*
		 * SCHED_FIFO for the munmap: no other process runs on this CPU until it
		 * returns (without PCID a switch to another mm flushes the TLB the
		 * reader is to find), only the reader, which is above it.
		 */
		hs_st_sched(pthread_self(), 1);
		hs_set(&hs_stl.in, n);
		t0 = mmt_now_ns();
		err = munmap((void *)l.addr, (size_t)l.hp->size + HS_BAL_LEN) ? errno : 0;
		lat = mmt_now_ns() - t0;
		hs_set(&hs_stl.out, n);	/* before leaving FIFO: the reader spins until then */
		hs_st_sched(pthread_self(), 0);
		if (err) {
			ret = mmt_werror(w, "munmap of the range and its ballast: %s",
					 strerror(err));
			break;
		}
		mmt_latency(w, M_STALE_MUNMAP_LAT, lat);
		hs_unshared(l.hp);
		/*
		 * Not cut short when the run stops: S ends its window in bounded time, and
		 * it puts its punched page back through the range once U quits, so the
		 * range must be mapped again by then.
		 */
		while (hs_ld(&hs_stl.done) != n && !hs_failed() && !hs_ld(&hs_stl.exited))
			hs_nap(&hs_stl.done, hs_ld(&hs_stl.done));	/* S never waits for U now */
		m = mmap((void *)l.addr, l.hp->size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED_NOREPLACE, l.hp->fd, 0);
		if (m != (void *)l.addr) {
			char what[200];

			hs_maps_at(l.addr, l.hp->size, what, sizeof(what));
			ret = mmt_werror(w, "mmap of the range again at %#lx: %s (%s)",
					 (unsigned long)l.addr, m == MAP_FAILED ? strerror(errno) :
					 "moved", what);
			break;
		}
		err = hs_st_ballast(bal, false, bfd);
		if (err == ECANCELED)
			break;
		if (err) {
			ret = mmt_werror(w, "mapping the ballast again at %#lx: %s",
					 (unsigned long)bal, strerror(err));
			break;
		}
		hs_st_warm(&l);
		hs_win_step();
		if (hs_failed())
			break;
		mmt_add(w, M_STALE, 1);
	}
	hs_set(&hs_stl.quit, 1);
	ret = hs_inmm_stop(ret);
	close(bfd);
	return ret;
}

static int stale_run(struct mmt_worker *w)
{
	return hs_guard(w, hs_stale, "stale");
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
	int loop_fd;	/* a loop device (autoclear) for O_DIRECT when tmpdir refuses it */
} hs_parent = { .fd = -1, .loop_fd = -1 };

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

/* ---- setup of the in-mm threads: O_DIRECT target, io_uring, parameters ---- */

/* O_DIRECT read of block 7 of path into an aligned buffer, checked: 0 or -errno. */
static int hs_dio_probe(const struct hs_priv *hp, const char *path, uint64_t *buf)
{
	int fd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	memset(buf, 0, HS_BLK);
	ret = mmt_pread_full(fd, buf, HS_BLK, 7 * (off_t)HS_BLK);
	close(fd);
	if (!ret && buf[3] != hs_fileword(hp->salt, 7, 3))
		ret = -EIO;
	return ret;
}

/*
 * Attach file to a free loop device with LO_FLAGS_AUTOCLEAR (it detaches when
 * the last fd closes: teardown, or the processes dying), for O_DIRECT on a
 * tmpfs-only system (the VM's initramfs).  0 or -errno; path filled.
 */
static int hs_loop_attach(const char *file, char *path, size_t len)
{
	struct loop_info64 info;
	int ctl, lfd = -1, ffd, n, tries, k, ret = -ENODEV;

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -errno;
	ffd = open(file, O_RDWR | O_CLOEXEC);
	if (ffd < 0) {
		ret = -errno;
		goto out_ctl;
	}
	for (tries = 0; tries < 8; tries++) {
		n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0) {
			ret = -errno;
			break;
		}
		snprintf(path, len, "/dev/loop%d", n);
		for (k = 0; k < 100; k++) {	/* devtmpfs creates the node a little later */
			lfd = open(path, O_RDWR | O_CLOEXEC);
			if (lfd >= 0 || errno != ENOENT)
				break;
			usleep(10000);
		}
		if (lfd < 0) {
			ret = -errno;
			break;
		}
		if (!ioctl(lfd, LOOP_SET_FD, ffd))
			break;
		ret = -errno;
		close(lfd);
		lfd = -1;
		if (ret != -EBUSY)
			break;
	}
	if (lfd >= 0) {
		memset(&info, 0, sizeof(info));
		info.lo_flags = LO_FLAGS_AUTOCLEAR;
		if (ioctl(lfd, LOOP_SET_STATUS64, &info)) {
			ret = -errno;
			ioctl(lfd, LOOP_CLR_FD, 0);
			close(lfd);
			lfd = -1;
		} else {
			hs_parent.loop_fd = lfd;
			ret = 0;
		}
	}
	close(ffd);
out_ctl:
	close(ctl);
	return ret;
}

/* The O_DIRECT file: HS_DIO_DATA blocks of known words, then 2 scratch blocks per slot. */
static int hs_setup_dio(struct mmt_ctx *ctx, struct hs_priv *hp)
{
	size_t len = (size_t)HS_DIO_BLOCKS * HS_BLK;
	char file[128], lpath[32];
	struct statfs sfs;
	uint64_t *buf;
	uint32_t j, k;
	int fd, ret;

	if ((size_t)snprintf(file, sizeof(file), "%s/odirect-data", mmt_tmpdir(ctx)) >=
	    sizeof(file)) {
		snprintf(hp->dio_why, sizeof(hp->dio_why), "temporary path too long");
		return -ENAMETOOLONG;
	}
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return -errno;
	for (j = 0; j < HS_DIO_DATA; j++)
		for (k = 0; k < HS_BLK_WORDS; k++)
			buf[j * HS_BLK_WORDS + k] = hs_fileword(hp->salt, j, k);
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		snprintf(hp->dio_why, sizeof(hp->dio_why), "create %s: %s", file, strerror(-ret));
		goto out;
	}
	ret = mmt_write_full(fd, buf, len);
	if (!ret && fsync(fd))
		ret = -errno;
	close(fd);
	if (ret) {
		snprintf(hp->dio_why, sizeof(hp->dio_why), "write %s: %s", file, strerror(-ret));
		goto out;
	}
	/*
	 * tmpfs takes O_DIRECT (6.6+) but copies like a buffered read, without
	 * pinning anything: only a real block-backed path runs GUP-fast.
	 */
	ret = !statfs(mmt_tmpdir(ctx), &sfs) && (sfs.f_type == HS_TMPFS_MAGIC ||
						 sfs.f_type == HS_RAMFS_MAGIC) ? -EOPNOTSUPP :
	      hs_dio_probe(hp, file, buf);
	if (!ret) {
		snprintf(hp->dio_path, sizeof(hp->dio_path), "%s", file);
		mmt_note(ctx, "in-mm O_DIRECT target: %s", file);
		goto out;
	}
	/* tmpfs (a VM's initramfs): a loop device over the file takes real O_DIRECT. */
	ret = hs_loop_attach(file, lpath, sizeof(lpath));
	if (!ret)
		ret = hs_dio_probe(hp, lpath, buf);
	if (ret) {
		snprintf(hp->dio_why, sizeof(hp->dio_why), "O_DIRECT refused on %s and no loop "
			 "device over it worked: %s", mmt_tmpdir(ctx), strerror(-ret));
		goto out;
	}
	snprintf(hp->dio_path, sizeof(hp->dio_path), "%s", lpath);
	mmt_note(ctx, "in-mm O_DIRECT target: %s (autoclear loop device over %s: O_DIRECT on "
		 "%s would not pin pages)", lpath, file, mmt_tmpdir(ctx));
out:
	munmap(buf, len);
	return ret;
}

static int hs_setup_inmm(struct mmt_ctx *ctx, struct hs_priv *hp)
{
	char spec[128], *tok, *save = NULL;
	int kinds[HS_G_NR], nk, i;
	struct io_uring ring;
	int ret;

	snprintf(spec, sizeof(spec), "%s", mmt_param_str(ctx, "inmm"));
	hp->inmm = 0;
	for (tok = strtok_r(spec, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "all"))
			hp->inmm |= HS_IN_GUP | HS_IN_ACCESS | HS_IN_REUSE;
		else if (!strcmp(tok, "gup"))
			hp->inmm |= HS_IN_GUP;
		else if (!strcmp(tok, "access"))
			hp->inmm |= HS_IN_ACCESS;
		else if (!strcmp(tok, "reuse"))
			hp->inmm |= HS_IN_REUSE;
		else if (strcmp(tok, "none"))
			return mmt_error(ctx, "inmm=%s: '%s' is none of gup, access, reuse, all, "
					 "none", mmt_param_str(ctx, "inmm"), tok);
	}
	hp->reuse_ranges = (uint32_t)mmt_param_int(ctx, "reuse_ranges");
	hp->strict_punch = mmt_param_bool(ctx, "strict_punch");
	hp->stale = mmt_param_bool(ctx, "stale");
	nk = hs_parse_choice(mmt_param_str(ctx, "gup"), hs_gup_names, HS_G_NR, kinds, NULL, 0);
	hp->gup_kinds = 0;
	for (i = 0; i < nk; i++)
		hp->gup_kinds |= 1u << kinds[i];
	if (!(hp->inmm & HS_IN_GUP)) {
		hp->gup_kinds = 0;
		goto out;
	}
	if (hp->gup_kinds & (1u << HS_G_URING)) {
		ret = io_uring_queue_init(4, &ring, 0);
		if (ret) {
			snprintf(hp->uring_why, sizeof(hp->uring_why), "io_uring_queue_init: %s%s",
				 strerror(-ret), ret == -EPERM ? " (kernel.io_uring_disabled)" : "");
			hp->gup_kinds &= ~(1u << HS_G_URING);
			mmt_note(ctx, "in-mm gup: no io_uring kind: %s", hp->uring_why);
		} else {
			io_uring_queue_exit(&ring);
		}
	}
	if (hp->gup_kinds & ((1u << HS_G_DIO_READ) | (1u << HS_G_DIO_WRITE))) {
		ret = hs_setup_dio(ctx, hp);
		if (ret) {
			if (!hp->dio_why[0])
				snprintf(hp->dio_why, sizeof(hp->dio_why), "%s", strerror(-ret));
			hp->gup_kinds &= ~((1u << HS_G_DIO_READ) | (1u << HS_G_DIO_WRITE));
			mmt_note(ctx, "in-mm gup: no O_DIRECT kinds: %s", hp->dio_why);
		}
	}
out:
	mmt_note(ctx, "in-mm threads: %s%s%s%s in every toucher (gup, reuse), unsharer (gup, "
		 "access; its main thread fills after each op) and walker (all three) with "
		 "worker id < %d; gup kinds:%s%s%s%s; %u fill ranges per unshare",
		 hp->inmm & HS_IN_GUP ? "gup " : "", hp->inmm & HS_IN_ACCESS ? "access " : "",
		 hp->inmm & HS_IN_REUSE ? "reuse " : "", hp->inmm ? "" : "none", HS_MAX_SLOTS,
		 hp->gup_kinds & (1u << HS_G_URING) ? " uring" : "",
		 hp->gup_kinds & (1u << HS_G_DIO_READ) ? " dio_read" : "",
		 hp->gup_kinds & (1u << HS_G_DIO_WRITE) ? " dio_write" : "",
		 hp->gup_kinds & (1u << HS_G_VMSPLICE) ? " vmsplice" : "", hp->reuse_ranges);
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
	if (hs_parent.loop_fd >= 0)
		close(hs_parent.loop_fd);	/* LO_FLAGS_AUTOCLEAR: detached with the last fd */
	hs_parent.loop_fd = -1;
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
	int kinds[HS_W_NR + HS_U_NR];
	char bad[64];

	if (hs_parse_choice(mmt_param_str(ctx, "unshare"), hs_unshare_names, HS_U_NR, kinds, bad,
			    sizeof(bad)) < 0)
		return mmt_error(ctx, "unshare=%s: no kind '%s'; use all, or a comma list of "
				 "mprotect,dontneed,remap,punch", mmt_param_str(ctx, "unshare"), bad);
	if (hs_parse_choice(mmt_param_str(ctx, "walk"), hs_walk_names, HS_W_NR, kinds, bad,
			    sizeof(bad)) < 0)
		return mmt_error(ctx, "walk=%s: no kind '%s'; use all, or a comma list of "
				 "vm_readv,proc_mem,pagemap,smaps,mincore", mmt_param_str(ctx, "walk"),
				 bad);

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
	/* The range, then the stale role's ballast: PROT_NONE here, its own in that worker. */
	hs_parent.size = size + HS_BAL_LEN;
	hs_parent.addr = hs_reserve_aligned(size + HS_BAL_LEN);
	if (!hs_parent.addr)
		return mmt_error(ctx, "reserving %" PRIu64 " bytes of address space: %s", size,
				 strerror(errno));
	m = mmap((void *)hs_parent.addr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 hs_parent.fd, 0);
	if (m == MAP_FAILED)
		return mmt_error(ctx, "mmap of the hugetlb memfd at %#lx: %s",
				 (unsigned long)hs_parent.addr, strerror(errno));
	hp->addr = hs_parent.addr;

	ret = hs_setup_inmm(ctx, hp);
	if (ret != MMT_PASS)
		return ret;
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
	struct mmt_slot *ts, *us, *ss;
	int nt = 0, nu = 0, ns = 0, owner;
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
	ss = mmt_role_slots(ctx, "stale", &ns);
	hs_nstale = hp->stale && ss && ns > 0;
	for (p = 0; p < hp->npages; p++) {
		owner = hs_owner(nt, nu, p, &cyc);
		done = owner < 0 || (cyc ? (owner < nu ? us[owner].done : ss[0].done) :
				     ts[owner].done);
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
	{ "unshare", MMT_P_STR, "all", "unshare kinds the unsharers rotate through: all, or a "
	  "comma list of mprotect,dontneed,remap,punch", 0, 0, NULL },
	{ "walk", MMT_P_STR, "all", "walk kinds the walkers rotate through: all, or a comma "
	  "list of vm_readv,proc_mem,pagemap,smaps,mincore", 0, 0, NULL },
	{ "storm_pages", MMT_P_INT, "100", "random pages each fork-storm child faults", 1, 4096,
	  NULL },
	{ "inmm", MMT_P_STR, "all", "threads in the sharing processes themselves, comma list: "
	  "gup (GUP-fast pins, data verified), access (stamp reads, own-word writes), reuse "
	  "(fresh page tables right after each unshare); all or none", 0, 0, NULL },
	{ "gup", MMT_P_CHOICE, "all", "GUP-fast kinds the gup threads rotate through", 0, 0,
	  "all|uring|dio_read|dio_write|vmsplice" },
	{ "strict_punch", MMT_P_BOOL, "no", "access threads: their own word in a punched page may "
	  "read zero only if a punch of it began after they wrote it (FAILed on a 6.18 host "
	  "with mprotect + punch; not reproduced since on 6.18.44 or 6.12.117, see issue 12)",
	  0, 0, NULL },
	{ "stale", MMT_P_BOOL, "yes", "a process that munmaps the shared range (and a ballast "
	  "of 4096 VMAs after it) while its sibling thread on another CPU punches a page the "
	  "unmapper's CPU holds in its TLB and refaults the freed page elsewhere with foreign "
	  "data, and a reader on that CPU reads the punched page again: a freed page read "
	  "through a kept TLB entry FAILs", 0, 0, NULL },
	{ "reuse_ranges", MMT_P_INT, "16", "2 MiB ranges (each a new PMD and PTE table) per "
	  "fill after an unshare", 1, 256, NULL },
	{ }
};

static const struct mmt_role hs_roles[] = {
	{ "toucher", toucher_run, MMT_PROCESS, MMT_SCALED, 0 },
	{ "unsharer", unsharer_run, MMT_PROCESS, HS_NR_UNSHARERS, 0 },
	{ "walker", walker_run, MMT_PROCESS, HS_NR_WALKERS, 0 },
	{ "fork_storm", storm_run, MMT_PROCESS, 1, 0 },
	{ "stale", stale_run, MMT_PROCESS, 1, 0 },
	{ "rogue", rogue_run, MMT_PROCESS, 1, MMT_ROLE_INJECT_CORRUPT },
	{ }
};

static const struct mmt_workload hugetlb_share = {
	.name = "hugetlb-share",
	.summary = "hugetlb PMD tables shared by many mms, unshared by mprotect/DONTNEED/munmap/"
		   "punch-hole/exit under foreign-mm walkers and GUP-fast, access and table-reuse "
		   "threads inside the sharing mms",
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
