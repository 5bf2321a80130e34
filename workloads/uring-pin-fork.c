// SPDX-License-Identifier: GPL-2.0
/*
 * uring-pin-fork - FOLL_LONGTERM pins (io_uring fixed buffers) across fork().
 *
 * Kernel path: io_uring_register_buffers() pins the buffer with
 * pin_user_pages(FOLL_LONGTERM).  fork() must then give the child a copy of
 * every possibly-pinned anonymous page instead of sharing it for COW and
 * write-protecting the parent: copy_present_page() for small pages,
 * copy_huge_pmd() splitting a pinned PMD-mapped THP and retrying on PTEs,
 * copy_hugetlb_page_range() allocating a fresh huge page for the child.  The
 * parent must keep writing the very pages io_uring reads from and writes to.
 * Backings, one per cycle in turn: PMD-mapped anonymous THP, PTE-mapped THP
 * (PMD mapping split by mprotect of one subpage), private hugetlb, shared
 * shmem (memfd; never COW, the child must see the parent's data).
 *
 * Race partners: each pinner forks one child per cycle.  The child writes its
 * own pattern over its private copy while the parent writes a fresh pattern
 * and does fixed-buffer I/O; children alternately exit at once (their exit
 * and zap race the parent's I/O) and linger until the parent's checks are
 * done, then check their own copy.  The pressure role triggers compaction
 * (/proc/sys/vm/compact_memory) and setup makes khugepaged scan every 100 ms,
 * so both keep trying to migrate or collapse the buffers; buffers are mapped,
 * registered, unregistered and unmapped every cycle (unpin before or after
 * munmap, alternately).
 *
 * Corruption: (a) write_fixed from the pinned buffer into a file does not
 * write what the parent just wrote there, or the parent's own view changed;
 * (b) after read_fixed from a file into the pinned buffer the parent does not
 * see the file's data; a lingering child's private copy lost its pattern, or
 * its view of the shared buffer differs from the parent's final data; a child
 * killed by SIGBUS or SIGSEGV.  Each is a FAIL naming the backing, the offset
 * and the expected and found bytes.  --inject corrupt starts a rogue that
 * writes garbage into the pinners' buffers through /proc/PID/mem.
 *
 * Needs: root (khugepaged knobs, compact_memory, /proc/kpageflags and PFNs),
 * io_uring; THP for the thp and pte-thp backings; 2 MiB hugetlb pages
 * (reserved in setup) for the hugetlb backing.  A backing this machine cannot
 * provide is dropped with a note; the workload skips only when none remains.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <numaif.h>
#include <liburing.h>

#include "mmt-compat.h"
#include "mmtorture.h"

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif
#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB (21 << MAP_HUGE_SHIFT)
#endif


#define KPF_THP_BIT		22
#define PM_PRESENT		(1ull << 63)
#define PM_PFN_MASK		((1ull << 55) - 1)

#define HPAGE_SIZE		(2ul << 20)
#define THP_DIR			"/sys/kernel/mm/transparent_hugepage"
#define KHUGEPAGED_DIR		THP_DIR "/khugepaged"
#define COMPACT_MEMORY		"/proc/sys/vm/compact_memory"
#define KHUGEPAGED_SLEEP_MS	100

enum upf_backing {
	B_THP,
	B_PTE_THP,
	B_HUGETLB,
	B_SHMEM,
	NR_BACKINGS
};

static const char *const backing_name[NR_BACKINGS] = {
	[B_THP] = "thp",
	[B_PTE_THP] = "pte-thp",
	[B_HUGETLB] = "hugetlb",
	[B_SHMEM] = "shmem",
};

enum upf_metric {
	M_CYCLES,
	M_CYCLES_B,				/* + enum upf_backing */
	M_FORK_NS_B = M_CYCLES_B + NR_BACKINGS,	/* + enum upf_backing */
	M_COMPACTIONS = M_FORK_NS_B + NR_BACKINGS,
	M_COMPACT_NS,
	M_THP_ATTEMPTS,
	M_THP_BACKED,
	M_PTE_THP_ATTEMPTS,
	M_PTE_THP_BACKED,
	M_THP_BACKED_FRAC,
	M_PTE_THP_BACKED_FRAC,
	M_CHILD_CHECKS,
	M_FORK_FAILED,
	M_MAP_FAILED,
	M_PIN_FAILED,
	M_CHILD_KILLED,
	M_FULL_SCANS,
	M_ROGUE_WRITES,
	M_HUGETLB_MOVABLE,
	M_HUGETLB_MIGRATED,
	M_HUGETLB_MOVABLE_FAILED,
	NR_METRICS
};

static const struct mmt_metric upf_metrics[NR_METRICS + 1] = {
	[M_CYCLES] = { "cycles", "cycles/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"map, pin, fork, write/check both ways, unpin, unmap; all backings", MMT_METRIC_HEADLINE },
	[M_CYCLES_B + B_THP] = { "cycles_thp", "cycles/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"cycles on PMD-mapped anonymous THP" },
	[M_CYCLES_B + B_PTE_THP] = { "cycles_pte_thp", "cycles/s", MMT_RATE,
		MMT_BETTER_DEFAULT, "cycles on PTE-mapped THP" },
	[M_CYCLES_B + B_HUGETLB] = { "cycles_hugetlb", "cycles/s", MMT_RATE,
		MMT_BETTER_DEFAULT, "cycles on private hugetlb" },
	[M_CYCLES_B + B_SHMEM] = { "cycles_shmem", "cycles/s", MMT_RATE, MMT_BETTER_DEFAULT,
		"cycles on shared shmem (memfd)" },
	[M_FORK_NS_B + B_THP] = { "fork_ns_thp", "ns", MMT_LATENCY, MMT_BETTER_DEFAULT,
		"fork() with a pinned PMD-mapped THP buffer", MMT_METRIC_HEADLINE },
	[M_FORK_NS_B + B_PTE_THP] = { "fork_ns_pte_thp", "ns", MMT_LATENCY,
		MMT_BETTER_DEFAULT, "fork() with a pinned PTE-mapped THP buffer" },
	[M_FORK_NS_B + B_HUGETLB] = { "fork_ns_hugetlb", "ns", MMT_LATENCY,
		MMT_BETTER_DEFAULT, "fork() with a pinned private hugetlb buffer" },
	[M_FORK_NS_B + B_SHMEM] = { "fork_ns_shmem", "ns", MMT_LATENCY, MMT_BETTER_DEFAULT,
		"fork() with a pinned shared shmem buffer" },
	[M_COMPACTIONS] = { "compactions", "compactions/s", MMT_RATE, MMT_BETTER_NONE,
		"writes to /proc/sys/vm/compact_memory by the pressure role" },
	[M_COMPACT_NS] = { "compact_ns", "ns", MMT_LATENCY, MMT_BETTER_NONE,
		"duration of one full compaction" },
	[M_THP_ATTEMPTS] = { "thp_attempts", "cycles", MMT_TOTAL, MMT_BETTER_NONE,
		"thp cycles whose mapping was checked before pinning" },
	[M_THP_BACKED] = { "thp_backed", "cycles", MMT_TOTAL, MMT_BETTER_NONE,
		"thp cycles whose whole buffer was PMD-mapped THP just before pinning" },
	[M_PTE_THP_ATTEMPTS] = { "pte_thp_attempts", "cycles", MMT_TOTAL, MMT_BETTER_NONE,
		"pte-thp cycles whose mapping was checked before pinning" },
	[M_PTE_THP_BACKED] = { "pte_thp_backed", "cycles", MMT_TOTAL, MMT_BETTER_NONE,
		"pte-thp cycles: buffer was THP folios mapped by PTEs only just before pinning" },
	[M_THP_BACKED_FRAC] = { "thp_backed_fraction", "fraction", MMT_GAUGE,
		MMT_BETTER_NONE, "thp_backed / thp_attempts over the run" },
	[M_PTE_THP_BACKED_FRAC] = { "pte_thp_backed_fraction", "fraction", MMT_GAUGE,
		MMT_BETTER_NONE, "pte_thp_backed / pte_thp_attempts over the run" },
	[M_CHILD_CHECKS] = { "child_checks", "children", MMT_TOTAL, MMT_BETTER_NONE,
		"lingering children that checked their view after the parent's checks" },
	[M_FORK_FAILED] = { "fork_failed", "forks", MMT_TOTAL, MMT_BETTER_NONE,
		"fork() failing with ENOMEM/EAGAIN (cycle skipped)" },
	[M_MAP_FAILED] = { "map_failed", "maps", MMT_TOTAL, MMT_BETTER_NONE,
		"buffer mmap failing with ENOMEM (cycle skipped)" },
	[M_PIN_FAILED] = { "pin_failed", "pins", MMT_TOTAL, MMT_BETTER_NONE,
		"io_uring_register_buffers failing with ENOMEM/EAGAIN (cycle skipped)" },
	[M_CHILD_KILLED] = { "child_killed", "children", MMT_TOTAL, MMT_BETTER_NONE,
		"children killed from outside (SIGKILL/SIGTERM/SIGINT) before reporting" },
	[M_FULL_SCANS] = { "khugepaged_full_scans", "scans", MMT_GAUGE, MMT_BETTER_NONE,
		"khugepaged full scans completed during the run" },
	[M_ROGUE_WRITES] = { "rogue_writes", "writes", MMT_TOTAL, MMT_BETTER_NONE,
		"--inject corrupt: garbage writes that landed in a pinned buffer" },
	[M_HUGETLB_MOVABLE] = { "hugetlb_movable_pins", "cycles", MMT_TOTAL, MMT_BETTER_NONE,
		"hugetlb cycles whose buffer was in ZONE_MOVABLE when pinning began (-p movable)" },
	[M_HUGETLB_MIGRATED] = { "hugetlb_movable_migrated", "cycles", MMT_TOTAL, MMT_BETTER_NONE,
		"of those, pins that moved the buffer out of ZONE_MOVABLE, as FOLL_LONGTERM must" },
	[M_HUGETLB_MOVABLE_FAILED] = { "hugetlb_movable_pin_failed", "cycles", MMT_TOTAL,
		MMT_BETTER_NONE, "hugetlb cycles whose pin of a buffer in ZONE_MOVABLE failed (ENOMEM/EAGAIN)" },
	{}
};

static const struct mmt_param upf_params[] = {
	{ "backing", MMT_P_CHOICE, "all",
	  "memory behind the pinned buffer; all = every backing in turn",
	  0, 0, "all|thp|pte-thp|hugetlb|shmem" },
	{ "size", MMT_P_SIZE, "2m", "buffer per cycle, a multiple of 2 MiB",
	  2ll << 20, 1ll << 30, NULL },
	{ "linger", MMT_P_BOOL, "1",
	  "alternate children that exit at once with children that linger and check", 0, 0,
	  NULL },
	{ "compact_ms", MMT_P_INT, "500", "pressure role: ms between compactions (0: none)",
	  0, 60000, NULL },
	{ "movable", MMT_P_CHOICE, "auto",
	  "hugetlb backing: prefer the node with ZONE_MOVABLE memory for the buffer, so a "
	  "FOLL_LONGTERM pin must migrate it out; auto = when there is such memory",
	  0, 0, "auto|yes|no" },
	{}
};

/* Shared private state, written by setup before the workers exist. */
struct upf_priv {
	uint64_t size;
	int nr_backings;
	int backing[NR_BACKINGS];	/* the enabled backings, in order */
	int linger;
	int have_kpageflags;		/* PFNs and /proc/kpageflags readable */
	int have_pm_scan;		/* PAGEMAP_SCAN works */
	int have_full_scans;
	uint64_t compact_ns;
	uint64_t full_scans0;
	int movable_node;		/* hugetlb buffers preferred here; -1: no placement */
	uint64_t block_bytes;		/* memory block size, to find a pfn's block */
};

/* One pinner worker's resources. */
struct pinner {
	struct mmt_worker *w;
	const struct upf_priv *pv;
	struct io_uring ring;
	int io_fd;		/* memfd the fixed-buffer I/O goes to and comes from */
	char *scratch;		/* staging for pread/pwrite; MADV_DONTFORK */
	int pagemap_fd;
	int kpf_fd;
	size_t page_size;
	uint64_t cycle;
};

/* ---- patterns: 64-bit words base + i * step, distinct per (worker, cycle, tag) ---- */

#define PAT_STEP 0x9e3779b97f4a7c15ull

enum pat_tag {
	PAT_A = 1,	/* initial fill, before the pin */
	PAT_P,		/* the parent's write after fork */
	PAT_C,		/* the child's write to its private copy */
	PAT_Q,		/* what read_fixed brings in from the file */
};

static uint64_t pat_base(uint64_t seed, uint64_t cycle, enum pat_tag tag)
{
	uint64_t x = seed ^ (cycle * 0xbf58476d1ce4e5b9ull) ^ ((uint64_t)tag << 56);

	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static void pat_fill(void *buf, size_t len, uint64_t base)
{
	uint64_t *p = buf;
	size_t i;

	for (i = 0; i < len / 8; i++)
		p[i] = base + i * PAT_STEP;
	__asm__ __volatile__("" : : "r"(buf) : "memory");
}

static unsigned int pat_byte(uint64_t base, size_t off)
{
	uint64_t word = base + (off / 8) * PAT_STEP;
	uint8_t b[8];

	memcpy(b, &word, sizeof(b));
	return b[off % 8];
}

/* Offset of the first byte that differs from the pattern, or len if none. */
static size_t pat_check(const void *buf, size_t len, uint64_t base)
{
	const uint64_t *p = buf;
	const uint8_t *b = buf;
	size_t i, off;

	__asm__ __volatile__("" : : "r"(buf) : "memory");
	for (i = 0; i < len / 8; i++)
		if (p[i] != base + i * PAT_STEP)
			break;
	if (i == len / 8)
		return len;
	for (off = i * 8; off < i * 8 + 8; off++)
		if (b[off] != pat_byte(base, off))
			return off;
	return i * 8;	/* changed back while we looked */
}

static int report(struct pinner *pn, int b, const char *what, const char *buf, size_t off,
		  uint64_t base)
{
	return mmt_fail(pn->w, "backing %s: %s: offset 0x%zx: expected 0x%02x found 0x%02x "
			"(cycle %" PRIu64 ", pinner %d)", backing_name[b], what, off,
			pat_byte(base, off), (uint8_t)buf[off], pn->cycle, pn->w->index);
}

/* ---- small I/O helpers: 0 or -errno ---- */

/* write_fixed (pinned buffer -> file) or read_fixed (file -> pinned buffer), offset 0. */
static int ring_io_fixed(struct io_uring *ring, bool write, int fd, char *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
		struct io_uring_cqe *cqe;
		int ret, res;

		if (!sqe)
			return -EBUSY;
		if (write)
			io_uring_prep_write_fixed(sqe, fd, buf + done, (unsigned int)(len - done),
						  done, 0);
		else
			io_uring_prep_read_fixed(sqe, fd, buf + done, (unsigned int)(len - done),
						 done, 0);
		ret = io_uring_submit(ring);
		if (ret < 0)
			return ret;
		do
			ret = io_uring_wait_cqe(ring, &cqe);
		while (ret == -EINTR);
		if (ret < 0)
			return ret;
		res = cqe->res;
		io_uring_cqe_seen(ring, cqe);
		if (res < 0)
			return res;
		if (res == 0)
			return -EIO;
		done += (size_t)res;
	}
	return 0;
}

/* ---- backings ---- */

/* Map size bytes of backing b at *bufp (not yet touched).  0 or -errno. */
static int map_backing(int b, size_t size, char **bufp)
{
	int prot = PROT_READ | PROT_WRITE;
	char *raw, *buf;
	size_t head;
	int fd, ret;

	switch (b) {
	case B_THP:
	case B_PTE_THP:
		raw = mmap(NULL, size + HPAGE_SIZE, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (raw == MAP_FAILED)
			return -errno;
		buf = (char *)(((uintptr_t)raw + HPAGE_SIZE - 1) & ~(uintptr_t)(HPAGE_SIZE - 1));
		head = (size_t)(buf - raw);
		if (head)
			munmap(raw, head);
		if (HPAGE_SIZE - head)
			munmap(buf + size, HPAGE_SIZE - head);
		if (madvise(buf, size, MADV_HUGEPAGE)) {
			ret = -errno;
			munmap(buf, size);
			return ret;
		}
		break;
	case B_HUGETLB:
		buf = mmap(NULL, size, prot,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB, -1, 0);
		if (buf == MAP_FAILED)
			return -errno;
		break;
	case B_SHMEM:
		fd = memfd_create("mmt-upf-shmem", MFD_CLOEXEC);
		if (fd < 0)
			return -errno;
		if (ftruncate(fd, (off_t)size)) {
			ret = -errno;
			close(fd);
			return ret;
		}
		buf = mmap(NULL, size, prot, MAP_SHARED, fd, 0);
		ret = buf == MAP_FAILED ? -errno : 0;
		close(fd);
		if (ret)
			return ret;
		break;
	default:
		return -EINVAL;
	}
	*bufp = buf;
	return 0;
}

/* mprotect one subpage of every 2 MiB read-only and back: the PMD mappings get split. */
/*
 * ZONE_MOVABLE placement.  A FOLL_LONGTERM pin must not leave a page in
 * ZONE_MOVABLE (offlining could never migrate it): gup migrates such a page
 * out before pinning it.  Hugetlb pages get there only when the pool was
 * grown on a node with movable memory, so the hugetlb buffer is preferred on
 * that node and every pin of it is checked before and after.
 */

/* The first node whose ZONE_MOVABLE manages pages (*pages: how many), or -1. */
static int movable_zone_node(unsigned long *pages)
{
	char line[256];
	unsigned long n;
	int node = -1, cur = -1;
	bool in_movable = false;
	FILE *f = fopen("/proc/zoneinfo", "re");

	if (!f)
		return -1;
	while (node < 0 && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Node ", 5)) {
			char zone[32];

			in_movable = sscanf(line, "Node %d, zone %31s", &cur, zone) == 2 &&
				     !strcmp(zone, "Movable");
		} else if (in_movable && sscanf(line, " managed %lu", &n) == 1 && n > 0) {
			node = cur;
			*pages = n;
		}
	}
	fclose(f);
	return node;
}

/* 1 if the page at addr lives in a ZONE_MOVABLE memory block, 0 if not, -errno. */
static int page_in_movable(const struct pinner *pn, const char *addr, uint64_t *pfnp)
{
	char path[96], zone[64];
	uint64_t ent;
	off_t off = (off_t)((uintptr_t)addr / pn->page_size) * (off_t)sizeof(ent);

	if (pread(pn->pagemap_fd, &ent, sizeof(ent), off) != (ssize_t)sizeof(ent))
		return -EIO;
	if (!(ent >> 63))
		return -ENOENT;
	*pfnp = ent & ((1ull << 55) - 1);
	if (!*pfnp)
		return -EPERM;	/* PFNs hidden: not CAP_SYS_ADMIN */
	snprintf(path, sizeof(path), "/sys/devices/system/memory/memory%" PRIu64 "/valid_zones",
		 *pfnp * pn->page_size / pn->pv->block_bytes);
	if (mmt_knob_read(path, zone, sizeof(zone)))
		return -EIO;
	return !strncmp(zone, "Movable", 7);
}

/* Which pages of the hugetlb buffer are in ZONE_MOVABLE: a bitmap (bit i = page i). */
static uint64_t movable_pages(const struct pinner *pn, const char *buf, size_t size,
			      uint64_t *pfns)
{
	uint64_t mask = 0;
	size_t i;

	for (i = 0; i * HPAGE_SIZE < size && i < 64; i++)
		if (page_in_movable(pn, buf + i * HPAGE_SIZE, &pfns[i]) == 1)
			mask |= 1ull << i;
	return mask;
}

static int split_pmd_mappings(char *buf, size_t size, size_t page)
{
	size_t off;

	for (off = 0; off < size; off += HPAGE_SIZE) {
		if (mprotect(buf + off + page, page, PROT_READ))
			return -errno;
		if (mprotect(buf + off + page, page, PROT_READ | PROT_WRITE))
			return -errno;
	}
	return 0;
}

static bool page_is_thp(const struct pinner *pn, const char *addr)
{
	uint64_t ent, flags;
	off_t off = (off_t)((uintptr_t)addr / pn->page_size * sizeof(ent));

	if (pread(pn->pagemap_fd, &ent, sizeof(ent), off) != sizeof(ent))
		return false;
	if (!(ent & PM_PRESENT) || !(ent & PM_PFN_MASK))
		return false;
	off = (off_t)((ent & PM_PFN_MASK) * sizeof(flags));
	if (pread(pn->kpf_fd, &flags, sizeof(flags), off) != sizeof(flags))
		return false;
	return flags & (1ull << KPF_THP_BIT);
}

/* Every 2 MiB chunk's first and last subpage belongs to a THP folio. */
static bool all_thp_folios(const struct pinner *pn, const char *buf, size_t size)
{
	size_t off;

	for (off = 0; off < size; off += HPAGE_SIZE)
		if (!page_is_thp(pn, buf + off) ||
		    !page_is_thp(pn, buf + off + HPAGE_SIZE - pn->page_size))
			return false;
	return true;
}

/* Bytes of [buf, buf + size) mapped by huge PMDs (PAGEMAP_SCAN), or -errno. */
static long long pmd_mapped_bytes(int pagemap_fd, const char *buf, size_t size)
{
	struct mmt_page_region regs[16];
	struct mmt_pm_scan_arg arg;
	uint64_t start = (uintptr_t)buf, end = (uintptr_t)buf + size;
	long long total = 0;
	int i, n;

	while (start < end) {
		memset(&arg, 0, sizeof(arg));
		arg.size = sizeof(arg);
		arg.start = start;
		arg.end = end;
		arg.vec = (uintptr_t)regs;
		arg.vec_len = sizeof(regs) / sizeof(regs[0]);
		arg.category_mask = MMT_PAGE_IS_HUGE | MMT_PAGE_IS_PRESENT;
		arg.return_mask = MMT_PAGE_IS_HUGE;
		n = ioctl(pagemap_fd, MMT_PAGEMAP_SCAN, &arg);
		if (n < 0)
			return -errno;
		for (i = 0; i < n; i++)
			total += (long long)(regs[i].end - regs[i].start);
		if (arg.walk_end <= start)
			break;
		start = arg.walk_end;
	}
	return total;
}

/* Count whether this cycle's buffer really is what the backing claims. */
static void thp_proof(struct pinner *pn, int b, const char *buf, size_t size)
{
	struct mmt_worker *w = pn->w;
	long long pmd = -1;
	bool folios = false;

	if (pn->pv->have_pm_scan)
		pmd = pmd_mapped_bytes(pn->pagemap_fd, buf, size);
	if (pn->pv->have_kpageflags)
		folios = all_thp_folios(pn, buf, size);

	if (b == B_THP) {
		mmt_add(w, M_THP_ATTEMPTS, 1);
		if (pn->pv->have_pm_scan ? pmd == (long long)size : folios)
			mmt_add(w, M_THP_BACKED, 1);
	} else {
		mmt_add(w, M_PTE_THP_ATTEMPTS, 1);
		if (folios && (!pn->pv->have_pm_scan || pmd == 0))
			mmt_add(w, M_PTE_THP_BACKED, 1);
	}
}

/* ---- the child ---- */

/*
 * Result on res_fd, one write: 'K' nothing checked, 'C' checked and fine,
 * 'F' followed by the mismatch.
 */
static void __attribute__((noreturn))
child_main(const struct pinner *pn, int b, bool linger, char *buf, int go_fd, int res_fd,
	   pid_t ppid)
{
	size_t size = pn->pv->size, off;
	char msg[MMT_REASON_LEN - 96];
	const char *what;
	uint64_t base;
	char go = 0;
	ssize_t n;
	int len;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != ppid)
		_exit(0);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);

	if (b != B_SHMEM)
		pat_fill(buf, size, pat_base(pn->w->seed, pn->cycle, PAT_C));
	if (linger) {
		do
			n = read(go_fd, &go, 1);
		while (n < 0 && errno == EINTR);
	}
	if (go != 'v') {
		n = write(res_fd, "K", 1);
		_exit(0);
	}
	if (b == B_SHMEM) {
		base = pat_base(pn->w->seed, pn->cycle, PAT_Q);
		what = "lingering child's view of the shared buffer after read_fixed";
	} else {
		base = pat_base(pn->w->seed, pn->cycle, PAT_C);
		what = "lingering child's private copy";
	}
	off = pat_check(buf, size, base);
	if (off == size) {
		n = write(res_fd, "C", 1);
		_exit(0);
	}
	len = snprintf(msg, sizeof(msg),
		       "Fbacking %s: %s: offset 0x%zx: expected 0x%02x found 0x%02x",
		       backing_name[b], what, off, pat_byte(base, off), (uint8_t)buf[off]);
	if (len > (int)sizeof(msg) - 1)
		len = (int)sizeof(msg) - 1;
	n = write(res_fd, msg, (size_t)len);
	(void)n;
	_exit(1);
}

/* Wait for the child's report and reap it.  Returns an enum mmt_status. */
static int collect_child(struct pinner *pn, int b, pid_t pid, int res_fd)
{
	struct mmt_worker *w = pn->w;
	char msg[MMT_REASON_LEN - 64];
	uint64_t stop_seen = 0;
	bool killed = false;
	size_t len = 0;
	int status, sig;

	for (;;) {
		struct pollfd pfd = { .fd = res_fd, .events = POLLIN };
		ssize_t n;
		int ret = poll(&pfd, 1, 100);

		if (ret < 0 && errno != EINTR)
			return mmt_werror(w, "poll on the child's pipe: %s", strerror(errno));
		if (ret > 0) {
			n = read(res_fd, msg + len, sizeof(msg) - 1 - len);
			if (n < 0 && errno == EINTR)
				continue;
			if (n > 0) {
				len += (size_t)n;
				if (len < sizeof(msg) - 1)
					continue;
			}
			break;	/* EOF, error or full */
		}
		/* A child stuck after the stop: the runner's grace period is short. */
		if (!killed && !mmt_running(w)) {
			if (!stop_seen) {
				stop_seen = mmt_now_ns();
			} else if (mmt_now_ns() - stop_seen > 1000000000ull) {
				kill(pid, SIGKILL);
				killed = true;
			}
		}
	}
	msg[len] = '\0';
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return mmt_werror(w, "waitpid(%d): %s", (int)pid, strerror(errno));
	}

	if (len && msg[0] == 'F')
		return mmt_fail(w, "%s (cycle %" PRIu64 ", pinner %d)", msg + 1, pn->cycle,
				w->index);
	if (len && msg[0] == 'C')
		mmt_add(w, M_CHILD_CHECKS, 1);
	if (len)
		return MMT_PASS;
	/* The child died before it could report. */
	if (killed)
		return MMT_PASS;
	if (WIFSIGNALED(status)) {
		sig = WTERMSIG(status);
		if (sig == SIGBUS || sig == SIGSEGV)
			return mmt_fail(w, "backing %s: child died of %s touching its copy of the "
					"pinned buffer (cycle %" PRIu64 ", pinner %d)",
					backing_name[b], strsignal(sig), pn->cycle, w->index);
		mmt_add(w, M_CHILD_KILLED, 1);
		return MMT_PASS;
	}
	return mmt_werror(w, "backing %s: child exited with status %d without reporting",
			  backing_name[b], WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* ---- the parent's side of one cycle ---- */

static int parent_checks(struct pinner *pn, int b, char *buf)
{
	struct mmt_worker *w = pn->w;
	size_t size = pn->pv->size, off;
	uint64_t p = pat_base(w->seed, pn->cycle, PAT_P);
	uint64_t q = pat_base(w->seed, pn->cycle, PAT_Q);
	int ret;

	pat_fill(buf, size, p);

	/* (a) io_uring reads the pinned pages: they must hold what the parent wrote. */
	ret = ring_io_fixed(&pn->ring, true, pn->io_fd, buf, size);
	if (ret)
		return mmt_werror(w, "backing %s: write_fixed: %s", backing_name[b],
				  strerror(-ret));
	ret = mmt_pread_full(pn->io_fd, pn->scratch, size, 0);
	if (ret)
		return mmt_werror(w, "pread of the I/O file: %s", strerror(-ret));
	off = pat_check(buf, size, p);
	if (off < size)
		return report(pn, b, "parent's view of its own write, after write_fixed", buf,
			      off, p);
	off = pat_check(pn->scratch, size, p);
	if (off < size)
		return mmt_fail(w, "backing %s: write_fixed from the pinned buffer: offset 0x%zx: "
				"expected 0x%02x found 0x%02x (parent sees 0x%02x; cycle %" PRIu64
				", pinner %d)", backing_name[b], off, pat_byte(p, off),
				(uint8_t)pn->scratch[off], (uint8_t)buf[off], pn->cycle,
				w->index);

	/* (b) io_uring writes the pinned pages: the parent must see it. */
	pat_fill(pn->scratch, size, q);
	ret = mmt_pwrite_full(pn->io_fd, pn->scratch, size, 0);
	if (ret)
		return mmt_werror(w, "pwrite of the I/O file: %s", strerror(-ret));
	ret = ring_io_fixed(&pn->ring, false, pn->io_fd, buf, size);
	if (ret)
		return mmt_werror(w, "backing %s: read_fixed: %s", backing_name[b],
				  strerror(-ret));
	off = pat_check(buf, size, q);
	if (off < size)
		return report(pn, b, "parent's view after read_fixed into the pinned buffer", buf,
			      off, q);
	return MMT_PASS;
}

static void publish(struct mmt_worker *w, const char *buf, size_t size)
{
	if (buf) {
		__atomic_store_n(&w->slot->pub[0], (uint64_t)(uintptr_t)buf, __ATOMIC_RELAXED);
		__atomic_store_n(&w->slot->pub[1], (uint64_t)size, __ATOMIC_RELEASE);
	} else {
		__atomic_store_n(&w->slot->pub[1], 0, __ATOMIC_RELEASE);
		__atomic_store_n(&w->slot->pub[0], 0, __ATOMIC_RELAXED);
	}
}

static int unpin(struct pinner *pn)
{
	int ret = io_uring_unregister_buffers(&pn->ring);

	if (ret)
		return mmt_werror(pn->w, "io_uring_unregister_buffers: %s", strerror(-ret));
	return MMT_PASS;
}

/*
 * One cycle: map, fill, pin, fork, check both directions, unpin, unmap, reap.
 * Returns an enum mmt_status; resource shortages skip the cycle and count.
 */
static int pinner_cycle(struct pinner *pn, int b, bool linger, bool unpin_first)
{
	struct mmt_worker *w = pn->w;
	size_t size = pn->pv->size;
	int status = MMT_PASS, cstatus, ustatus, ret;
	int go[2], res[2];
	struct iovec iov;
	uint64_t t0, t1;
	pid_t pid, self = getpid();
	char *buf;
	uint64_t in_movable = 0, pfns[64], pfns_after[64];

	ret = map_backing(b, size, &buf);
	if (ret == -ENOMEM || ret == -EAGAIN) {
		mmt_add(w, M_MAP_FAILED, 1);
		return MMT_PASS;
	}
	if (ret)
		return mmt_werror(w, "backing %s: mmap: %s", backing_name[b], strerror(-ret));
	if (b == B_HUGETLB && pn->pv->movable_node >= 0) {
		/* preferred, not bound: a node without free pages must not SIGBUS the fill */
		unsigned long node_mask = 1ul << pn->pv->movable_node;

		if (mbind(buf, size, MPOL_PREFERRED, &node_mask, sizeof(node_mask) * 8, 0)) {
			status = mmt_werror(w, "mbind: %s", strerror(errno));
			goto out_unmap;
		}
	}
	pat_fill(buf, size, pat_base(w->seed, pn->cycle, PAT_A));
	if (b == B_PTE_THP) {
		ret = split_pmd_mappings(buf, size, pn->page_size);
		if (ret) {
			status = mmt_werror(w, "mprotect: %s", strerror(-ret));
			goto out_unmap;
		}
	}
	if (b == B_THP || b == B_PTE_THP)
		thp_proof(pn, b, buf, size);
	if (b == B_HUGETLB && pn->pv->movable_node >= 0)
		in_movable = movable_pages(pn, buf, size, pfns);
	if (in_movable)
		mmt_add(w, M_HUGETLB_MOVABLE, 1);

	iov.iov_base = buf;
	iov.iov_len = size;
	ret = io_uring_register_buffers(&pn->ring, &iov, 1);
	if (ret == -ENOMEM || ret == -EAGAIN) {
		mmt_add(w, M_PIN_FAILED, 1);
		if (in_movable)
			mmt_add(w, M_HUGETLB_MOVABLE_FAILED, 1);
		goto out_unmap;
	}
	if (ret) {
		status = mmt_werror(w, "backing %s: io_uring_register_buffers: %s",
				    backing_name[b], strerror(-ret));
		goto out_unmap;
	}
	if (in_movable) {
		uint64_t still = movable_pages(pn, buf, size, pfns_after) & in_movable;

		if (still) {
			int i = __builtin_ctzll(still);

			status = mmt_fail(w, "backing hugetlb: a FOLL_LONGTERM pin (io_uring "
					  "registration) left huge page %d of the buffer in "
					  "ZONE_MOVABLE (pfn %#" PRIx64 " before, %#" PRIx64
					  " after): offlining can never migrate it",
					  i, pfns[i], pfns_after[i]);
			goto out_unpin;
		}
		mmt_add(w, M_HUGETLB_MIGRATED, 1);
	}
	publish(w, buf, size);

	if (pipe2(go, O_CLOEXEC)) {
		status = mmt_werror(w, "pipe2: %s", strerror(errno));
		goto out_unpin;
	}
	if (pipe2(res, O_CLOEXEC)) {
		status = mmt_werror(w, "pipe2: %s", strerror(errno));
		goto out_close_go;
	}

	t0 = mmt_now_ns();
	pid = fork();
	t1 = mmt_now_ns();
	if (pid < 0) {
		if (errno == ENOMEM || errno == EAGAIN)
			mmt_add(w, M_FORK_FAILED, 1);
		else
			status = mmt_werror(w, "fork: %s", strerror(errno));
		goto out_close_res;
	}
	if (pid == 0) {
		close(go[1]);
		close(res[0]);
		child_main(pn, b, linger, buf, go[0], res[1], self);
	}
	mmt_latency(w, M_FORK_NS_B + b, t1 - t0);
	close(go[0]);
	close(res[1]);

	status = parent_checks(pn, b, buf);
	if (status == MMT_PASS && linger)
		ret = (int)write(go[1], "v", 1);	/* EPIPE if it died: collect says why */
	close(go[1]);

	publish(w, NULL, 0);
	ustatus = MMT_PASS;
	if (unpin_first)
		ustatus = unpin(pn);
	munmap(buf, size);
	if (!unpin_first)
		ustatus = unpin(pn);

	cstatus = collect_child(pn, b, pid, res[0]);
	close(res[0]);
	if (status == MMT_PASS)
		status = cstatus;
	if (status == MMT_PASS)
		status = ustatus;
	if (status == MMT_PASS) {
		mmt_add(w, M_CYCLES, 1);
		mmt_add(w, M_CYCLES_B + b, 1);
	}
	return status;

out_close_res:
	close(res[0]);
	close(res[1]);
out_close_go:
	close(go[0]);
	close(go[1]);
out_unpin:
	publish(w, NULL, 0);
	ustatus = unpin(pn);
	if (status == MMT_PASS)
		status = ustatus;
out_unmap:
	munmap(buf, size);
	return status;
}

static int pinner_run(struct mmt_worker *w)
{
	const struct upf_priv *pv = w->priv;
	struct pinner pn = {
		.w = w, .pv = pv, .io_fd = -1, .pagemap_fd = -1, .kpf_fd = -1,
	};
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	int status = MMT_PASS, ret;

	if (pv->nr_backings <= 0)
		return mmt_werror(w, "no backing enabled");
	pn.page_size = (size_t)sysconf(_SC_PAGESIZE);
	signal(SIGPIPE, SIG_IGN);	/* a lingering child may die before it reads */
	signal(SIGCHLD, SIG_DFL);	/* we reap our children ourselves */
	setrlimit(RLIMIT_MEMLOCK, &rl);	/* best effort; root pins under CAP_IPC_LOCK */

	ret = io_uring_queue_init(8, &pn.ring, 0);
	if (ret)
		return mmt_werror(w, "io_uring_queue_init: %s", strerror(-ret));
	pn.io_fd = memfd_create("mmt-upf-io", MFD_CLOEXEC);
	if (pn.io_fd < 0) {
		status = mmt_werror(w, "memfd_create: %s", strerror(errno));
		goto out_ring;
	}
	if (ftruncate(pn.io_fd, (off_t)pv->size)) {
		status = mmt_werror(w, "ftruncate: %s", strerror(errno));
		goto out_io_fd;
	}
	pn.scratch = mmap(NULL, pv->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);
	if (pn.scratch == MAP_FAILED) {
		status = mmt_werror(w, "mmap scratch: %s", strerror(errno));
		goto out_io_fd;
	}
	/* The child never uses it; keep the parent's writes to it free of COW faults. */
	madvise(pn.scratch, pv->size, MADV_DONTFORK);
	if (pv->have_pm_scan || pv->have_kpageflags || pv->movable_node >= 0) {
		pn.pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
		if (pn.pagemap_fd < 0) {
			status = mmt_werror(w, "open /proc/self/pagemap: %s", strerror(errno));
			goto out_scratch;
		}
	}
	if (pv->have_kpageflags) {
		pn.kpf_fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
		if (pn.kpf_fd < 0) {
			status = mmt_werror(w, "open /proc/kpageflags: %s", strerror(errno));
			goto out_pagemap;
		}
	}

	while (mmt_running(w)) {
		uint64_t k = pn.cycle;
		uint64_t round = k / (uint64_t)pv->nr_backings;
		int b = pv->backing[((uint64_t)w->index + k) % (uint64_t)pv->nr_backings];
		bool linger = pv->linger && !(round & 1);
		bool unpin_first = !(round & 2);

		status = pinner_cycle(&pn, b, linger, unpin_first);
		if (status != MMT_PASS)
			break;
		pn.cycle++;
	}

	if (pn.kpf_fd >= 0)
		close(pn.kpf_fd);
out_pagemap:
	if (pn.pagemap_fd >= 0)
		close(pn.pagemap_fd);
out_scratch:
	munmap(pn.scratch, pv->size);
out_io_fd:
	close(pn.io_fd);
out_ring:
	io_uring_queue_exit(&pn.ring);
	return status;
}

/* ---- pressure: compaction on a timer ---- */

static int pressure_run(struct mmt_worker *w)
{
	const struct upf_priv *pv = w->priv;

	if (!pv->compact_ns)
		return mmt_role_skip(w, "compact_ms=0: no compaction");
	while (mmt_running(w)) {
		uint64_t t0 = mmt_now_ns();
		ssize_t n;
		int fd, err;

		fd = open(COMPACT_MEMORY, O_WRONLY | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT)
			return mmt_role_skip(w, "no %s (CONFIG_COMPACTION off)", COMPACT_MEMORY);
		if (fd < 0)
			return mmt_werror(w, "open %s: %s", COMPACT_MEMORY, strerror(errno));
		n = write(fd, "1", 1);
		err = errno;
		close(fd);
		if (n != 1 && err != EINTR)
			return mmt_werror(w, "write %s: %s", COMPACT_MEMORY, strerror(err));
		if (n == 1) {
			mmt_latency(w, M_COMPACT_NS, mmt_now_ns() - t0);
			mmt_add(w, M_COMPACTIONS, 1);
		}
		mmt_sleep(w, pv->compact_ns);
	}
	return MMT_PASS;
}

/* ---- rogue (--inject corrupt): garbage into the pinned buffers via /proc/PID/mem ---- */

static int rogue_run(struct mmt_worker *w)
{
	struct mmt_slot *slots;
	uint64_t rnd = w->seed, last_ok, start = mmt_now_ns();
	int nr = 0, i, status = MMT_PASS, last_err = 0;
	pid_t *pids;
	int *fds;

	slots = mmt_role_slots(w->ctx, "pinner", &nr);
	if (!slots || nr <= 0)
		return mmt_werror(w, "rogue: no pinner to corrupt");
	fds = calloc((size_t)nr, sizeof(*fds));
	pids = calloc((size_t)nr, sizeof(*pids));
	if (!fds || !pids) {
		status = mmt_werror(w, "rogue: out of memory");
		goto out_free;
	}
	for (i = 0; i < nr; i++)
		fds[i] = -1;
	last_ok = start;

	while (mmt_running(w)) {
		uint64_t addr, size, garbage = mmt_rand(&rnd), off;
		char path[64];
		pid_t pid;

		i = (int)(mmt_rand(&rnd) % (uint64_t)nr);
		pid = __atomic_load_n(&slots[i].pid, __ATOMIC_RELAXED);
		size = __atomic_load_n(&slots[i].pub[1], __ATOMIC_ACQUIRE);
		addr = __atomic_load_n(&slots[i].pub[0], __ATOMIC_RELAXED);
		if (pid > 0 && pid != pids[i] && fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
		if (pid > 0 && fds[i] < 0) {
			snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
			fds[i] = open(path, O_RDWR | O_CLOEXEC);
			if (fds[i] < 0)
				last_err = errno;
			pids[i] = pid;
		}
		if (fds[i] >= 0 && addr && size >= sizeof(garbage)) {
			off = mmt_rand(&rnd) % (size - sizeof(garbage) + 1);
			if (pwrite(fds[i], &garbage, sizeof(garbage), (off_t)(addr + off)) ==
			    sizeof(garbage)) {
				mmt_add(w, M_ROGUE_WRITES, 1);
				last_ok = mmt_now_ns();
			} else {
				/* EIO: unmapped at that moment; nothing to do */
				last_err = errno;
			}
		}
		if (mmt_now_ns() - last_ok > 5000000000ull) {
			status = mmt_werror(w, "rogue: no write landed in 5 s (last error: %s)",
					    last_err ? strerror(last_err) : "none");
			break;
		}
		mmt_sleep(w, 1000000);
	}

	for (i = 0; i < nr; i++)
		if (fds[i] >= 0)
			close(fds[i]);
out_free:
	free(pids);
	free(fds);
	return status;
}

/* ---- setup / verify / teardown ---- */

/* Map, touch, pin and unpin 2 MiB of backing b on ring.  0 or -errno. */
static int probe_backing(struct io_uring *ring, int b, const char **what)
{
	struct iovec iov;
	char *buf;
	int ret;

	*what = "mmap";
	ret = map_backing(b, HPAGE_SIZE, &buf);
	if (ret)
		return ret;
	memset(buf, 0x5a, HPAGE_SIZE);
	iov.iov_base = buf;
	iov.iov_len = HPAGE_SIZE;
	*what = "io_uring_register_buffers";
	ret = io_uring_register_buffers(ring, &iov, 1);
	if (!ret)
		io_uring_unregister_buffers(ring);
	munmap(buf, HPAGE_SIZE);
	return ret;
}

static bool pm_scan_works(void)
{
	char *buf;
	long long ret;
	int fd;

	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	buf = mmap(NULL, HPAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		close(fd);
		return false;
	}
	buf[0] = 1;
	ret = pmd_mapped_bytes(fd, buf, HPAGE_SIZE);
	munmap(buf, HPAGE_SIZE);
	close(fd);
	return ret >= 0;
}

static bool kpageflags_work(void)
{
	uint64_t ent = 0, flags;
	char *buf;
	bool ok = false;
	int fd, kfd;

	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	kfd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	if (kfd < 0)
		goto out_pagemap;
	buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		goto out_kpf;
	buf[0] = 1;
	if (pread(fd, &ent, sizeof(ent),
		  (off_t)((uintptr_t)buf / (uintptr_t)sysconf(_SC_PAGESIZE) * sizeof(ent))) ==
	    sizeof(ent) && (ent & PM_PRESENT) && (ent & PM_PFN_MASK))
		ok = pread(kfd, &flags, sizeof(flags),
			   (off_t)((ent & PM_PFN_MASK) * sizeof(flags))) == sizeof(flags);
	munmap(buf, 4096);
out_kpf:
	close(kfd);
out_pagemap:
	close(fd);
	return ok;
}

/* THP present, enabled at least for madvise, khugepaged scanning often.  0 or -errno. */
static int setup_thp(struct mmt_ctx *ctx)
{
	static const char *const sleeps[] = { "scan_sleep_millisecs", "alloc_sleep_millisecs" };
	char path[128], val[64];
	uint64_t cur;
	size_t i;
	int ret;

	ret = mmt_knob_read(THP_DIR "/enabled", val, sizeof(val));
	if (ret)
		return ret;
	if (!strcmp(val, "never")) {
		ret = mmt_knob_write(ctx, THP_DIR "/enabled", "madvise");
		if (ret)
			return ret;
		mmt_note(ctx, "THP enabled was never: set to madvise for the run");
	}
	for (i = 0; i < sizeof(sleeps) / sizeof(sleeps[0]); i++) {
		snprintf(path, sizeof(path), KHUGEPAGED_DIR "/%s", sleeps[i]);
		if (mmt_knob_read_u64(path, &cur) || cur <= KHUGEPAGED_SLEEP_MS)
			continue;
		ret = mmt_knob_write_u64(ctx, path, KHUGEPAGED_SLEEP_MS);
		if (ret)
			mmt_note(ctx, "could not lower khugepaged %s: %s", sleeps[i],
				 strerror(-ret));
	}
	return 0;
}

static void drop_backing(bool *on, int b, char *why, size_t len,
			 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void drop_backing(bool *on, int b, char *why, size_t len,
			 const char *fmt, ...)
{
	size_t used = strlen(why);
	va_list ap;

	on[b] = false;
	if (used < len)
		used += (size_t)snprintf(why + used, len - used, "%s%s: ", used ? "; " : "",
					 backing_name[b]);
	if (used < len) {
		va_start(ap, fmt);
		vsnprintf(why + used, len - used, fmt, ap);
		va_end(ap);
	}
}

/*
 * -p movable: grow the pool on the node with ZONE_MOVABLE memory (a fresh
 * movable allocation takes the highest zone first) and prefer that node for
 * the hugetlb buffers.  Which pages really were movable is checked per pin.
 */
static void place_movable(struct mmt_ctx *ctx, struct upf_priv *pv, bool *on, char *why,
			  size_t len, unsigned long per_buf)
{
	const char *mode = mmt_param_str(ctx, "movable");
	bool must = mode && !strcmp(mode, "yes");
	unsigned long managed = 0, need;
	char hex[32];
	long avail;
	int node;

	if (mode && !strcmp(mode, "no"))
		return;
	node = movable_zone_node(&managed);
	if (node < 0 || node >= 64) {
		if (must)
			drop_backing(on, B_HUGETLB, why, len, "movable=yes: no memory in "
				     "ZONE_MOVABLE (boot with movablecore=, or online a memory "
				     "block with online_movable)");
		else
			mmt_note(ctx, "hugetlb: no ZONE_MOVABLE memory here, so no pin of a movable "
				 "hugetlb page is tested (-p movable)");
		return;
	}
	if (mmt_mem_node(ctx) >= 0) {
		mmt_note(ctx, "hugetlb: --mem-node decides placement; ZONE_MOVABLE of node %d "
			 "not used", node);
		return;
	}
	if (mmt_knob_read("/sys/devices/system/memory/block_size_bytes", hex, sizeof(hex)) ||
	    !(pv->block_bytes = strtoull(hex, NULL, 16))) {
		if (must)
			drop_backing(on, B_HUGETLB, why, len,
				     "movable=yes: no memory block size in sysfs");
		return;
	}
	need = (unsigned long)mmt_nr_workers(ctx) * per_buf + 1;
	avail = mmt_hugetlb_reserve_node(ctx, node, need);
	if (avail < 0 || (unsigned long)avail < need) {
		if (must)
			drop_backing(on, B_HUGETLB, why, len, "movable=yes: %ld of %lu 2 MiB "
				     "pages free on node %d", avail < 0 ? 0 : avail, need, node);
		else
			mmt_note(ctx, "hugetlb: only %ld of %lu 2 MiB pages free on node %d "
				 "(ZONE_MOVABLE); buffers placed by the kernel",
				 avail < 0 ? 0 : avail, need, node);
		return;
	}
	pv->movable_node = node;
	mmt_note(ctx, "hugetlb: buffers preferred on node %d, whose ZONE_MOVABLE manages %lu "
		 "pages; %ld free 2 MiB pages there; each pin of a movable page must move it "
		 "out of ZONE_MOVABLE", node, managed, avail);
}

static int upf_setup(struct mmt_ctx *ctx)
{
	struct upf_priv *pv = mmt_priv(ctx);
	const char *choice = mmt_param_str(ctx, "backing");
	bool on[NR_BACKINGS] = { false };
	unsigned long per_buf, need;
	char why[400] = "", names[64] = "";
	struct io_uring ring;
	const char *what;
	long avail;
	int b, ret;

	pv->movable_node = -1;
	pv->size = mmt_param_size(ctx, "size");
	if (!pv->size || pv->size % HPAGE_SIZE)
		return mmt_error(ctx, "size=%" PRIu64 " is not a multiple of 2 MiB", pv->size);
	pv->linger = mmt_param_bool(ctx, "linger");
	pv->compact_ns = (uint64_t)mmt_param_int(ctx, "compact_ms") * 1000000ull;
	for (b = 0; b < NR_BACKINGS; b++)
		on[b] = !choice || !strcmp(choice, "all") || !strcmp(choice, backing_name[b]);

	ret = io_uring_queue_init(4, &ring, 0);
	if (ret == -ENOSYS)
		return mmt_skip(ctx, "io_uring: ENOSYS (kernel built without CONFIG_IO_URING)");
	if (ret == -EPERM)
		return mmt_skip(ctx, "io_uring: EPERM (disabled by kernel.io_uring_disabled)");
	if (ret)
		return mmt_skip(ctx, "io_uring_queue_init: %s", strerror(-ret));

	if (on[B_THP] || on[B_PTE_THP]) {
		ret = setup_thp(ctx);
		if (ret) {
			if (on[B_THP])
				drop_backing(on, B_THP, why, sizeof(why),
					     "no usable THP (%s)", strerror(-ret));
			if (on[B_PTE_THP])
				drop_backing(on, B_PTE_THP, why, sizeof(why),
					     "no usable THP (%s)", strerror(-ret));
		}
	}
	if (on[B_HUGETLB]) {
		/* parent's pages, the child's copies at fork, one COW page each if it goes wrong */
		per_buf = (unsigned long)(pv->size / HPAGE_SIZE);
		need = (unsigned long)mmt_nr_workers(ctx) * 3 * per_buf + 2;
		avail = mmt_hugetlb_reserve(ctx, need);
		if (avail < 0)
			drop_backing(on, B_HUGETLB, why, sizeof(why),
				     "cannot reserve %lu 2 MiB hugetlb pages: %s", need,
				     strerror((int)-avail));
		else if ((unsigned long)avail < need)
			drop_backing(on, B_HUGETLB, why, sizeof(why),
				     "only %ld of %lu 2 MiB hugetlb pages free", avail, need);
		else
			mmt_note(ctx, "hugetlb: %ld free 2 MiB pages for %lu needed", avail, need);
	}
	if (on[B_HUGETLB])
		place_movable(ctx, pv, on, why, sizeof(why), per_buf);
	for (b = 0; b < NR_BACKINGS; b++) {
		if (!on[b])
			continue;
		ret = probe_backing(&ring, b, &what);
		if (ret == -ENOMEM && b == B_HUGETLB && pv->movable_node >= 0 &&
		    !strcmp(what, "io_uring_register_buffers"))
			/* its page may sit in ZONE_MOVABLE: the workers judge such pins */
			mmt_note(ctx, "hugetlb: the setup probe's pin failed with ENOMEM; "
				 "kept, the workers count and judge pins of movable pages");
		else if (ret)
			drop_backing(on, b, why, sizeof(why), "%s: %s", what, strerror(-ret));
	}
	io_uring_queue_exit(&ring);

	pv->nr_backings = 0;
	for (b = 0; b < NR_BACKINGS; b++) {
		if (!on[b])
			continue;
		pv->backing[pv->nr_backings++] = b;
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
			 pv->nr_backings > 1 ? " " : "", backing_name[b]);
	}
	if (!pv->nr_backings)
		return mmt_skip(ctx, "no backing can be tested: %s", why);
	if (why[0])
		mmt_note(ctx, "backings dropped: %s", why);
	mmt_note(ctx, "backings tested: %s; %" PRIu64 " KiB per cycle; children %s",
		 names, pv->size >> 10,
		 pv->linger ? "alternately exit at once and linger" : "all exit at once");

	pv->have_pm_scan = pm_scan_works();
	pv->have_kpageflags = kpageflags_work();
	if (on[B_THP] || on[B_PTE_THP]) {
		if (!pv->have_pm_scan)
			mmt_note(ctx, "PAGEMAP_SCAN unavailable: PMD mapping not provable, "
				 "THP folios checked through kpageflags only");
		if (!pv->have_kpageflags)
			mmt_note(ctx, "/proc/kpageflags unreadable: THP folios not provable");
		pv->have_full_scans = !mmt_knob_read_u64(KHUGEPAGED_DIR "/full_scans",
							 &pv->full_scans0);
	}
	if (pv->compact_ns && access(COMPACT_MEMORY, W_OK))
		mmt_note(ctx, "%s not writable (%s): pressure role will skip", COMPACT_MEMORY,
			 strerror(errno));
	return MMT_PASS;
}

static uint64_t sum_ctr(const struct mmt_slot *s, int n, unsigned int m)
{
	uint64_t sum = 0;
	int i;

	for (i = 0; i < n; i++)
		sum += __atomic_load_n(&s[i].ctr[m], __ATOMIC_RELAXED);
	return sum;
}

static int upf_verify(struct mmt_ctx *ctx)
{
	const struct upf_priv *pv = mmt_priv(ctx);
	uint64_t att, ok, cycles[NR_BACKINGS], scans;
	char line[256] = "";
	bool all_passed = true, any_cycles = false;
	struct mmt_slot *s;
	int n = 0, i, b;

	s = mmt_role_slots(ctx, "pinner", &n);
	if (!s || n <= 0)
		return mmt_error(ctx, "no pinner slots");
	for (i = 0; i < n; i++)
		if (!s[i].done || s[i].status != MMT_PASS)
			all_passed = false;

	for (i = 0; i < pv->nr_backings; i++) {
		b = pv->backing[i];
		cycles[b] = sum_ctr(s, n, M_CYCLES_B + (unsigned int)b);
		any_cycles |= cycles[b] > 0;
		snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s%s %" PRIu64,
			 i ? ", " : "", backing_name[b], cycles[b]);
	}
	mmt_note(ctx, "cycles (incl. warm-up): %s; lingering children checked: %" PRIu64
		 "; skipped for ENOMEM/EAGAIN: mmap %" PRIu64 ", pin %" PRIu64 ", fork %" PRIu64
		 "; children killed from outside: %" PRIu64, line,
		 sum_ctr(s, n, M_CHILD_CHECKS), sum_ctr(s, n, M_MAP_FAILED),
		 sum_ctr(s, n, M_PIN_FAILED), sum_ctr(s, n, M_FORK_FAILED),
		 sum_ctr(s, n, M_CHILD_KILLED));
	if (pv->movable_node >= 0) {
		uint64_t mv = sum_ctr(s, n, M_HUGETLB_MOVABLE);
		uint64_t moved = sum_ctr(s, n, M_HUGETLB_MIGRATED);
		uint64_t failed = sum_ctr(s, n, M_HUGETLB_MOVABLE_FAILED);
		const char *mode = mmt_param_str(ctx, "movable");

		mmt_note(ctx, "hugetlb: %" PRIu64 " cycles tried to pin a buffer in ZONE_MOVABLE "
			 "(node %d); the pin moved it out in %" PRIu64 ", failed in %" PRIu64, mv,
			 pv->movable_node, moved, failed);
		/* a kernel that can pin movable hugetlb pages succeeds at least sometimes */
		if (all_passed && failed >= 3 && !moved)
			return mmt_fail_ctx(ctx, "backing hugetlb: all %" PRIu64 " FOLL_LONGTERM pins "
					    "(io_uring registrations) of a buffer in ZONE_MOVABLE "
					    "failed with ENOMEM/EAGAIN instead of migrating it "
					    "out", failed);
		if (!mv && all_passed && mode && !strcmp(mode, "yes"))
			return mmt_error(ctx, "movable=yes, but no hugetlb buffer was in "
					 "ZONE_MOVABLE when pinned");
	}

	att = sum_ctr(s, n, M_THP_ATTEMPTS);
	if (att) {
		ok = sum_ctr(s, n, M_THP_BACKED);
		mmt_gauge(ctx, M_THP_BACKED_FRAC, (double)ok / (double)att);
		mmt_note(ctx, "proved: thp buffer wholly PMD-mapped THP just before pinning "
			 "in %" PRIu64 " of %" PRIu64 " cycles (%s)", ok, att,
			 pv->have_pm_scan ? "PAGEMAP_SCAN PAGE_IS_HUGE" : "kpageflags KPF_THP");
	}
	att = sum_ctr(s, n, M_PTE_THP_ATTEMPTS);
	if (att) {
		ok = sum_ctr(s, n, M_PTE_THP_BACKED);
		mmt_gauge(ctx, M_PTE_THP_BACKED_FRAC, (double)ok / (double)att);
		mmt_note(ctx, "proved: pte-thp buffer THP folios mapped by PTEs only just before "
			 "pinning in %" PRIu64 " of %" PRIu64 " cycles (kpageflags KPF_THP%s)",
			 ok, att, pv->have_pm_scan ? ", no PAGEMAP_SCAN PAGE_IS_HUGE" : "");
	}
	if (pv->have_full_scans &&
	    !mmt_knob_read_u64(KHUGEPAGED_DIR "/full_scans", &scans)) {
		mmt_gauge(ctx, M_FULL_SCANS, (double)(scans - pv->full_scans0));
		mmt_note(ctx, "khugepaged completed %" PRIu64 " full scans during the run",
			 scans - pv->full_scans0);
	}

	/* A backing that never completed a cycle was not tested: not a pass. */
	if (all_passed) {
		for (i = 0; i < pv->nr_backings; i++) {
			b = pv->backing[i];
			if (!cycles[b])
				return mmt_error(ctx, "backing %s completed no cycle (%s)",
						 backing_name[b],
						 any_cycles ? "others did" : "none did");
		}
	}
	return MMT_PASS;
}

static void upf_teardown(struct mmt_ctx *ctx)
{
	/* Knobs and hugetlb pages are the runner's to restore; nothing else outlives a run. */
	(void)ctx;
}

static const struct mmt_role upf_roles[] = {
	{ .name = "pinner", .run = pinner_run, .kind = MMT_PROCESS, .count = MMT_SCALED },
	{ .name = "pressure", .run = pressure_run, .kind = MMT_PROCESS, .count = 1 },
	{ .name = "rogue", .run = rogue_run, .kind = MMT_PROCESS, .count = 1,
	  .flags = MMT_ROLE_INJECT_CORRUPT },
	{}
};

static const struct mmt_workload uring_pin_fork = {
	.name = "uring-pin-fork",
	.summary = "io_uring fixed buffers (FOLL_LONGTERM) on THP, PTE-mapped THP, hugetlb, "
		   "shmem across fork()",
	.suite = "quick",
	.needs = MMT_NEED_ROOT | MMT_NEED_IO_URING,
	.injects = MMT_INJECT_CORRUPT,
	.default_workers = 2,
	.params = upf_params,
	.metrics = upf_metrics,
	.roles = upf_roles,
	.priv_size = sizeof(struct upf_priv),
	.setup = upf_setup,
	.verify = upf_verify,
	.teardown = upf_teardown,
};

MMT_REGISTER(uring_pin_fork);
