// SPDX-License-Identifier: GPL-2.0
/*
 * shmem-collapse - MADV_COLLAPSE and khugepaged on a shared memfd, and
 * retract_page_tables() across every mm that maps it.
 *
 * Kernel path: madvise_collapse() -> hpage_collapse_scan_file() ->
 * collapse_file() copies the small shmem folios of a 2 MiB range into one
 * PMD-sized folio and unmaps the old ones from every mm; retract_page_tables()
 * then frees the now empty PTE table of every other VMA mapping the range, so
 * those mms map the new folio with a PMD on their next fault (do_set_pmd()),
 * while VMAs with an anon_vma (a written MAP_PRIVATE mapping) or with
 * userfaultfd write-protect armed must be skipped and keep their PTEs or PTE
 * markers.  khugepaged does the same from its own thread (shmem_enabled=advise
 * plus MADV_HUGEPAGE, fast scanning).
 *
 * Race partners, each in its own mm (process), all mapping the memfd at
 * PMD-aligned addresses, one VMA per 2 MiB region:
 *   collapser  MADV_COLLAPSE over each 2 MiB range that is not a THP (retry
 *              once on EAGAIN), then proves the new THP through /proc/kpageflags
 *              and measures in /proc/PID/smaps which mms map it by PMD after
 *              they touched it again (and which of those had it PTE-mapped
 *              before: proof that their PTE table was retracted);
 *   writer     owner of most pages: checks its stamps exactly, rewrites them;
 *              runs mmap_lock contender threads (mmap/munmap in a loop);
 *   reader     checks every page's stamp against the owner's published
 *              generation (seqlock-style, race-free); contender threads too;
 *   splitter   mprotect of a 4 KiB subrange (splits its VMA and PMD), punch-hole
 *              of one page per region then rewrite (splits the THP), ftruncate
 *              of the last 1 MiB down and up then rewrite;
 *   private    MAP_PRIVATE mapping of the file, written (anon_vma) and dropped
 *              again with MADV_DONTNEED;
 *   uffd       registers region 1 for userfaultfd write-protect, protects a
 *              range, has the collapser collapse the region meanwhile, writes
 *              the range: every write must fault and be resolved by its
 *              handler thread;
 *   rogue      (--inject corrupt only) pwrite()s another page's stamp into the
 *              file.
 *
 * Corruption: a page whose stamp (three words: head, middle, tail) is not the
 * generation its owner last published (a write lost or a stale page after a
 * collapse), another page's stamp, zeroes where no hole was punched, data left
 * after a punch-hole or truncate, a private COW page that survives
 * MADV_DONTNEED or is lost, a write to a write-protected page that lands
 * without a uffd-wp fault.  Checked continuously by every role and in full by
 * the parent at the end.
 *
 * Needs: root (knobs, /proc/kpageflags), THP with shmem collapse (MADV_COLLAPSE
 * on memfd, Linux >= 6.1; probed in setup), optionally userfaultfd with
 * UFFD_FEATURE_WP_HUGETLBFS_SHMEM (the uffd role skips without it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "mmtorture.h"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

#define SHC_PAGE	4096ul
#define SHC_PMD		(2ul << 20)
#define SHC_PPR		512u			/* pages per 2 MiB region */
#define SHC_STRIDE	(2 * SHC_PMD)		/* region r at base + r * SHC_STRIDE */
#define SHC_TAIL_PAGES	256u			/* last 1 MiB: truncated down and up */
#define SHC_PUNCH_OFF	100u			/* the page of each region punched */
#define SHC_UFFD_REGION	1u			/* the region registered for uffd-wp */
#define SHC_MAX_PAGES	(1u << 20)		/* stamps hold a 20-bit page index */
#define SHC_MAX_REGIONS	(SHC_MAX_PAGES / SHC_PPR)

/* A stamp: magic:12 | page index:20 | generation:32, at three places per page. */
#define SHC_MAGIC	0x5c3ull
#define SHC_MAGIC_PRIV	0xa7eull
#define SHC_BUSY	0x80000000u		/* gen[]: the owner is punching/truncating */
#define SHC_GEN_MASK	0x7fffffffu
#define SHC_NR_WORDS	3

#define THP_DIR		"/sys/kernel/mm/transparent_hugepage"
#define KHP_DIR		THP_DIR "/khugepaged"

#define KPF_COMPOUND_HEAD	15
#define KPF_COMPOUND_TAIL	16
#define KPF_THP			22

#define SHC_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define SHC_OWN_SPLIT	(-1)
#define SHC_OWN_UFFD	(-2)

#define SHC_MAX_PROBES	16384
#define SHC_PROBE_WAIT_NS	250000000ull	/* collapser waits for re-touches */
#define SHC_UFFD_STUCK_NS	1000000000ull	/* in handle_userfault, no message */

/* slot->pub[] words */
enum { PUB_BASE, PUB_ACK };

enum {
	M_COLLAPSE,
	M_COLLAPSE_LAT,
	M_OK,
	M_EAGAIN,
	M_EINVAL,
	M_ENOMEM,
	M_OTHER,
	M_NEW_THP,
	M_ALREADY,
	M_PMD_FRAC,
	M_PMD_PRIV,
	M_PMD_UFFD,
	M_PROBES,
	M_PROBE_DISCARD,
	M_WRITES,
	M_READS,
	M_UNSURE,
	M_MPROTECT,
	M_PUNCH,
	M_TRUNC,
	M_COW,
	M_DROP,
	M_UFFD_WRITES,
	M_UFFD_LAT,
	M_UFFD_RACED,
	M_UFFD_EXTRA,
	M_MMAP,
	M_ROGUE,
	M_NR
};

/* One probe: how many mms could map the new THP by PMD, and how many did. */
struct shc_probe_rec {
	uint64_t t;		/* CLOCK_MONOTONIC ns */
	uint8_t elig, pmd;	/* MAP_SHARED mms able to PMD-map the region, and did */
	uint8_t elig_pte, pmd_pte;	/* of those, PTE-mapped before the collapse */
	uint8_t flags;
};

#define PR_PRIV		(1u << 0)	/* the anon_vma mm was measured */
#define PR_PRIV_PMD	(1u << 1)
#define PR_UFFD		(1u << 2)	/* the uffd-wp mm, its armed region */
#define PR_UFFD_PMD	(1u << 3)

#define SHC_MAX_MISSES	4

/* A MAP_SHARED mm that did not map a freshly collapsed region by PMD. */
struct shc_miss {
	const char *role;	/* static string: same address in every process */
	int index;
	pid_t pid;
	uint32_t region;
	int before, after;	/* enum shc_map_state */
};

struct shc_priv {
	bool ready;
	bool kpf_ok;		/* pagemap PFNs and /proc/kpageflags readable */
	bool uffd_ok;
	bool khugepaged;
	bool probe;
	int fd;
	uint64_t size;
	uint32_t nr_pages, nr_regions, nr_writers, tail_start;
	uint32_t *gen;		/* [nr_pages] published generation; MAP_SHARED, from setup */
	size_t gen_len;
	int contenders, split_us, uffd_pages, probe_ms;

	/* collapser -> workers: touch region probe_region again, ack in pub[PUB_ACK] */
	uint64_t probe_seq;
	int32_t probe_region;
	uint64_t uffd_collapses;	/* successful MADV_COLLAPSE of SHC_UFFD_REGION */
	uint64_t uffd_want;		/* uffd round waiting for a collapse of its region */
	uint64_t uffd_served;		/* last round the collapser looked at the region for */
	uint32_t mprot_seq[SHC_MAX_REGIONS];	/* splitter: mprotect splits per region */
	uint64_t t_stop;		/* collapser saw the stop flag */

	/* written by the collapser only, read by verify */
	uint32_t nr_probe_recs;
	uint64_t late, unfit;
	uint32_t nr_misses;
	struct shc_miss misses[SHC_MAX_MISSES];	/* mms found not PMD-mapped */
	uint64_t khp_collapsed0, khp_scans0;
	char uffd_why[256];
	struct shc_probe_rec probe_rec[SHC_MAX_PROBES];
};

/* ------------------------------------------------------------------ stamps */

static inline uint64_t shc_stamp(uint64_t magic, uint32_t p, uint32_t gen)
{
	return magic << 52 | (uint64_t)(p & (SHC_MAX_PAGES - 1)) << 32 | (gen & SHC_GEN_MASK);
}

static inline uint32_t shc_stamp_page(uint64_t v)
{
	return (uint32_t)(v >> 32) & (SHC_MAX_PAGES - 1);
}

static inline uint32_t shc_stamp_gen(uint64_t v)
{
	return (uint32_t)v;
}

static inline uint32_t shc_next(uint32_t g)
{
	return (g + 1) & SHC_GEN_MASK;
}

static const unsigned int shc_word_off[SHC_NR_WORDS] = { 0, 256, 511 };

static inline uint64_t shc_ld(const char *page, int i)
{
	return __atomic_load_n((const uint64_t *)page + shc_word_off[i], __ATOMIC_RELAXED);
}

static inline void shc_put(char *page, uint64_t v)
{
	int i;

	for (i = 0; i < SHC_NR_WORDS; i++)
		__atomic_store_n((uint64_t *)page + shc_word_off[i], v, __ATOMIC_RELAXED);
}

static inline bool shc_is_zero(const char *page)
{
	int i;

	for (i = 0; i < SHC_NR_WORDS; i++)
		if (shc_ld(page, i))
			return false;
	return true;
}

static inline char *shc_addr(char *base, uint32_t p)
{
	return base + (size_t)(p / SHC_PPR) * SHC_STRIDE + (size_t)(p % SHC_PPR) * SHC_PAGE;
}

/* Who may write page p: a writer index, the splitter or the uffd role. */
static int shc_owner(const struct shc_priv *sp, uint32_t p)
{
	if (p >= sp->tail_start || p % SHC_PPR == SHC_PUNCH_OFF)
		return SHC_OWN_SPLIT;
	if (p / SHC_PPR == SHC_UFFD_REGION)
		return SHC_OWN_UFFD;
	return (int)(p % sp->nr_writers);
}

static inline uint32_t shc_gen_acq(const struct shc_priv *sp, uint32_t p)
{
	return __atomic_load_n(&sp->gen[p], __ATOMIC_ACQUIRE);
}

static inline void shc_publish(struct shc_priv *sp, uint32_t p, uint32_t g)
{
	__atomic_store_n(&sp->gen[p], g, __ATOMIC_RELEASE);
}

/* Mark page p as being destroyed: ordered before the punch/truncate that follows. */
static inline void shc_set_busy(struct shc_priv *sp, uint32_t p)
{
	__atomic_store_n(&sp->gen[p], sp->gen[p] | SHC_BUSY, __ATOMIC_SEQ_CST);
}

struct shc_bad {
	int word;
	uint64_t found;
	uint64_t magic;
	uint32_t glo, ghi;	/* allowed generations */
	bool hole_ok;
};

static void shc_fmt_word(uint64_t v, char *buf, size_t len)
{
	uint64_t magic = v >> 52;

	if (!v)
		snprintf(buf, len, "0 (zero-filled)");
	else if (magic == SHC_MAGIC)
		snprintf(buf, len, "0x%016" PRIx64 " (stamp of page %u gen %u)", v,
			 shc_stamp_page(v), shc_stamp_gen(v));
	else if (magic == SHC_MAGIC_PRIV)
		snprintf(buf, len, "0x%016" PRIx64 " (private COW stamp of page %u gen %u)", v,
			 shc_stamp_page(v), shc_stamp_gen(v));
	else
		snprintf(buf, len, "0x%016" PRIx64 " (not a stamp)", v);
}

/* "where: page P (file offset, region) word W at ADDR: expected E, found F" */
static void shc_bad_text(char *buf, size_t len, const char *where, uint32_t p,
			 const void *addr, const struct shc_bad *b)
{
	char found[96], gens[48];

	shc_fmt_word(b->found, found, sizeof(found));
	if (b->glo == b->ghi)
		snprintf(gens, sizeof(gens), "gen %u", b->glo);
	else
		snprintf(gens, sizeof(gens), "gen %u or %u", b->glo, b->ghi);
	snprintf(buf, len,
		 "%s: page %u (file offset 0x%lx, region %u) word %d at %p: expected %sstamp of page %u %s%s, found %s",
		 where, p, (unsigned long)p * SHC_PAGE, p / SHC_PPR, b->word, addr,
		 b->magic == SHC_MAGIC_PRIV ? "private " : "", p, gens,
		 b->hole_ok ? " or 0 (hole being punched)" : "", found);
}

/* Exact check of a page whose generation cannot change under us. */
static bool shc_check_exact(const char *page, uint64_t want, struct shc_bad *b)
{
	uint32_t g = shc_stamp_gen(want);
	int i;

	for (i = 0; i < SHC_NR_WORDS; i++) {
		uint64_t v = shc_ld(page, i);

		if (v != want) {
			*b = (struct shc_bad){ .word = i, .found = v, .magic = want >> 52,
					       .glo = g, .ghi = g };
			return false;
		}
	}
	return true;
}

enum shc_res { SHC_OK, SHC_UNSURE, SHC_BAD };

/*
 * Check page p of the shared file while its owner may be rewriting it.  The
 * owner stores the words, then publishes gen[p] with release; a punch or
 * truncate is bracketed by SHC_BUSY.  We read gen, the words, gen again
 * (seqlock style): with an unchanged generation g each word must be the
 * stamp of g or g+1 (a rewrite in flight), or 0 while BUSY.  Another page's
 * or a private stamp is wrong whatever the timing.
 */
static enum shc_res shc_check_shared(const struct shc_priv *sp, uint32_t p, const char *page,
				     struct shc_bad *b)
{
	bool hole_ok = shc_owner(sp, p) == SHC_OWN_SPLIT;
	uint64_t v[SHC_NR_WORDS];
	uint32_t g0, g1, g;
	bool stable;
	int i;

	g0 = shc_gen_acq(sp, p);
	for (i = 0; i < SHC_NR_WORDS; i++)
		v[i] = shc_ld(page, i);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	g1 = __atomic_load_n(&sp->gen[p], __ATOMIC_RELAXED);
	stable = g0 == g1;
	g = g0 & SHC_GEN_MASK;
	for (i = 0; i < SHC_NR_WORDS; i++) {
		*b = (struct shc_bad){ .word = i, .found = v[i], .magic = SHC_MAGIC, .glo = g,
				       .ghi = shc_next(g), .hole_ok = hole_ok && (g0 & SHC_BUSY) };
		if (!v[i]) {
			if (!hole_ok || (stable && !(g0 & SHC_BUSY)))
				return SHC_BAD;
			continue;
		}
		if (v[i] >> 52 != SHC_MAGIC || shc_stamp_page(v[i]) != (p & (SHC_MAX_PAGES - 1)))
			return SHC_BAD;
		if (stable && shc_stamp_gen(v[i]) != g && shc_stamp_gen(v[i]) != shc_next(g))
			return SHC_BAD;
	}
	return stable ? SHC_OK : SHC_UNSURE;
}

/* ------------------------------------------------------ per-process state */

struct shc_cont {
	pthread_t thr;
	struct mmt_worker *w;
	const struct shc_priv *sp;
	uint64_t rnd;
	uint64_t ops;		/* atomic */
	int quit;		/* atomic */
	int bad;		/* atomic: msg is set */
	char msg[MMT_REASON_LEN];
};

struct shc_ctx {
	struct mmt_worker *w;
	struct shc_priv *sp;
	char *base;		/* region r at base + r * SHC_STRIDE */
	uint64_t rnd;
	uint64_t acked;
	struct shc_cont *cont;
	int nr_cont;
	uint64_t cont_flushed;
};

static inline uint32_t shc_rand(struct shc_ctx *c, uint32_t n)
{
	return (uint32_t)(mmt_rand(&c->rnd) % n);
}

/*
 * Map every 2 MiB region of the file as its own PMD-aligned VMA (a 2 MiB hole
 * after each, so they never merge): smaps then speaks per region.
 */
static int shc_map_file(struct shc_priv *sp, bool private, char **basep)
{
	size_t span = (size_t)sp->nr_regions * SHC_STRIDE + SHC_PMD;
	char *res, *base, *end;
	uint32_t r;
	int ret;

	res = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		return -errno;
	base = (char *)(((uintptr_t)res + SHC_PMD - 1) & ~(SHC_PMD - 1));
	for (r = 0; r < sp->nr_regions; r++) {
		char *m = mmap(base + (size_t)r * SHC_STRIDE, SHC_PMD, PROT_READ | PROT_WRITE,
			       (private ? MAP_PRIVATE : MAP_SHARED) | MAP_FIXED, sp->fd,
			       (off_t)r * (off_t)SHC_PMD);

		if (m == MAP_FAILED) {
			ret = -errno;
			goto out_unmap;
		}
		if (sp->khugepaged && madvise(m, SHC_PMD, MADV_HUGEPAGE)) {
			ret = -errno;
			goto out_unmap;
		}
	}
	/* give back the reservation around and between the regions */
	if (base > res)
		munmap(res, (size_t)(base - res));
	for (r = 0; r + 1 < sp->nr_regions; r++)
		munmap(base + (size_t)r * SHC_STRIDE + SHC_PMD, SHC_STRIDE - SHC_PMD);
	end = base + (size_t)(sp->nr_regions - 1) * SHC_STRIDE + SHC_PMD;
	if (res + span > end)
		munmap(end, (size_t)(res + span - end));
	*basep = base;
	return 0;

out_unmap:
	munmap(res, span);
	return ret;
}

static void shc_unmap_file(struct shc_priv *sp, char *base)
{
	uint32_t r;

	for (r = 0; r < sp->nr_regions; r++)
		munmap(base + (size_t)r * SHC_STRIDE, SHC_PMD);
}

static void *shc_cont_main(void *arg)
{
	struct shc_cont *t = arg;
	const struct shc_priv *sp = t->sp;
	uint64_t i;

	for (i = 0; mmt_running(t->w) && !__atomic_load_n(&t->quit, __ATOMIC_RELAXED); i++) {
		char *a = mmap(NULL, 4 * SHC_PAGE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (a == MAP_FAILED) {
			snprintf(t->msg, sizeof(t->msg), "contender mmap: %s", strerror(errno));
			__atomic_store_n(&t->bad, 1, __ATOMIC_RELEASE);
			break;
		}
		a[0] = 1;
		a[2 * SHC_PAGE] = 1;
		munmap(a, 4 * SHC_PAGE);
		if (i % 4 == 3) {
			/* a short-lived window on the file: a fresh VMA must see the right page */
			uint32_t p = (uint32_t)(mmt_rand(&t->rnd) % sp->tail_start);
			struct shc_bad b;
			char *f = mmap(NULL, SHC_PAGE, PROT_READ, MAP_SHARED, sp->fd,
				       (off_t)p * (off_t)SHC_PAGE);

			if (f == MAP_FAILED) {
				snprintf(t->msg, sizeof(t->msg), "contender mmap of the memfd: %s",
					 strerror(errno));
				__atomic_store_n(&t->bad, 1, __ATOMIC_RELEASE);
				break;
			}
			if (shc_check_shared(sp, p, f, &b) == SHC_BAD) {
				shc_bad_text(t->msg, sizeof(t->msg),
					     "contender thread, fresh 4 KiB mapping of the memfd", p, f,
					     &b);
				__atomic_store_n(&t->bad, 1, __ATOMIC_RELEASE);
				munmap(f, SHC_PAGE);
				break;
			}
			munmap(f, SHC_PAGE);
		}
		__atomic_store_n(&t->ops, t->ops + 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static int shc_cont_start(struct shc_ctx *c, int n)
{
	int i;

	if (n <= 0)
		return 0;
	c->cont = calloc((size_t)n, sizeof(*c->cont));
	if (!c->cont)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		struct shc_cont *t = &c->cont[i];
		int ret;

		t->w = c->w;
		t->sp = c->sp;
		t->rnd = c->w->seed ^ (0xc0ffee00ull + (uint64_t)i);
		ret = pthread_create(&t->thr, NULL, shc_cont_main, t);
		if (ret)
			return -ret;
		c->nr_cont++;
	}
	return 0;
}

/* Fold the contenders' counts into our slot; 0 or the first failure's text. */
static const char *shc_cont_poll(struct shc_ctx *c)
{
	uint64_t sum = 0;
	int i;

	for (i = 0; i < c->nr_cont; i++) {
		if (__atomic_load_n(&c->cont[i].bad, __ATOMIC_ACQUIRE))
			return c->cont[i].msg;
		sum += __atomic_load_n(&c->cont[i].ops, __ATOMIC_RELAXED);
	}
	mmt_add(c->w, M_MMAP, sum - c->cont_flushed);
	c->cont_flushed = sum;
	return NULL;
}

static void shc_cont_stop(struct shc_ctx *c)
{
	int i;

	for (i = 0; i < c->nr_cont; i++)
		__atomic_store_n(&c->cont[i].quit, 1, __ATOMIC_RELAXED);
	for (i = 0; i < c->nr_cont; i++)
		pthread_join(c->cont[i].thr, NULL);
}

static int shc_begin(struct mmt_worker *w, struct shc_ctx *c, bool private)
{
	struct shc_priv *sp = w->priv;
	int ret;

	memset(c, 0, sizeof(*c));
	c->w = w;
	c->sp = sp;
	c->rnd = w->seed;
	ret = shc_map_file(sp, private, &c->base);
	if (ret)
		return ret;
	__atomic_store_n(&w->slot->pub[PUB_BASE], (uint64_t)(uintptr_t)c->base, __ATOMIC_RELEASE);
	return 0;
}

static void shc_end(struct shc_ctx *c)
{
	if (c->nr_cont)
		shc_cont_stop(c);
	free(c->cont);
	c->cont = NULL;
	c->nr_cont = 0;
	if (c->base) {
		__atomic_store_n(&c->w->slot->pub[PUB_BASE], 0, __ATOMIC_RELEASE);
		shc_unmap_file(c->sp, c->base);
	}
}

/*
 * The collapser asked every mm to touch a freshly collapsed region: read its
 * first page (a read fault maps the THP by PMD if the PTE table was
 * retracted, by PTE if it was left behind) and acknowledge.
 */
static void shc_ack_probe(struct shc_ctx *c)
{
	struct shc_priv *sp = c->sp;
	uint64_t seq = __atomic_load_n(&sp->probe_seq, __ATOMIC_ACQUIRE);
	int32_t r;

	if (seq == c->acked)
		return;
	r = __atomic_load_n(&sp->probe_region, __ATOMIC_ACQUIRE);
	if (r >= 0 && (uint32_t)r < sp->nr_regions)
		(void)shc_ld(shc_addr(c->base, (uint32_t)r * SHC_PPR), 0);
	c->acked = seq;
	__atomic_store_n(&c->w->slot->pub[PUB_ACK], seq, __ATOMIC_RELEASE);
}

/* Once per loop of every mapping role: probes, contenders.  0 or a failure. */
static int shc_tick(struct shc_ctx *c)
{
	const char *bad;

	shc_ack_probe(c);
	if (c->nr_cont) {
		bad = shc_cont_poll(c);
		if (bad)
			return mmt_fail(c->w, "%s", bad);
	}
	return MMT_PASS;
}

static int shc_fail_bad(struct shc_ctx *c, const char *what, uint32_t p, const void *addr,
			const struct shc_bad *b)
{
	char where[160], text[MMT_REASON_LEN];

	snprintf(where, sizeof(where), "pid %d, %s", (int)getpid(), what);
	shc_bad_text(text, sizeof(text), where, p, addr, b);
	return mmt_fail(c->w, "%s", text);
}

/* An owner's exact check of page p through this mm: 0 or MMT_FAIL. */
static int shc_own_check(struct shc_ctx *c, uint32_t p, const char *what)
{
	uint32_t g = c->sp->gen[p];
	char *page = shc_addr(c->base, p);
	struct shc_bad b;

	if (g & SHC_BUSY)
		return mmt_fail(c->w, "page %u: generation word left busy (0x%x) by its owner", p, g);
	if (!shc_check_exact(page, shc_stamp(SHC_MAGIC, p, g), &b))
		return shc_fail_bad(c, what, p, page, &b);
	return MMT_PASS;
}

/* An owner rewrites page p with the next generation and publishes it. */
static void shc_rewrite(struct shc_ctx *c, uint32_t p)
{
	uint32_t g = shc_next(c->sp->gen[p] & SHC_GEN_MASK);

	/* readers that see these words must see the previous publish too */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	shc_put(shc_addr(c->base, p), shc_stamp(SHC_MAGIC, p, g));
	shc_publish(c->sp, p, g);
}

/* Check every page not in the truncated tail through this mm (final pass). */
static int shc_check_all(struct shc_ctx *c, const char *what)
{
	uint32_t p;

	for (p = 0; p < c->sp->tail_start; p++) {
		char *page = shc_addr(c->base, p);
		struct shc_bad b;

		if (shc_check_shared(c->sp, p, page, &b) == SHC_BAD)
			return shc_fail_bad(c, what, p, page, &b);
	}
	return MMT_PASS;
}

/* ---------------------------------------------------------------- writer */

static int shc_writer(struct mmt_worker *w)
{
	struct shc_priv *sp = w->priv;
	struct shc_ctx c;
	int ret, st = MMT_PASS;
	uint32_t p;

	if (w->nr_role != (int)sp->nr_writers)
		return mmt_werror(w, "%d writers started, setup planned %u", w->nr_role,
				  sp->nr_writers);
	ret = shc_begin(w, &c, false);
	if (ret)
		return mmt_werror(w, "mapping the memfd: %s", strerror(-ret));
	ret = shc_cont_start(&c, sp->contenders);
	if (ret) {
		st = mmt_werror(w, "starting contender threads: %s", strerror(-ret));
		goto out_end;
	}
	while (mmt_running(w)) {
		uint32_t r, start, k, n = 0;

		st = shc_tick(&c);
		if (st)
			goto out_end;
		r = shc_rand(&c, sp->nr_regions - 1);
		if (r >= SHC_UFFD_REGION)
			r++;
		start = shc_rand(&c, SHC_PPR);
		for (k = 0; k < 64; k++) {
			p = r * SHC_PPR + (start + k) % SHC_PPR;
			if (shc_owner(sp, p) != w->index)
				continue;
			st = shc_own_check(&c, p, "writer: own page before rewrite");
			if (st)
				goto out_end;
			shc_rewrite(&c, p);
			n++;
		}
		mmt_add(w, M_WRITES, n);
	}
	/* final pass: every page this writer owns, through this mm */
	for (p = 0; p < sp->tail_start; p++) {
		if (shc_owner(sp, p) != w->index)
			continue;
		st = shc_own_check(&c, p, "writer: final check of own page");
		if (st)
			break;
	}
out_end:
	shc_end(&c);
	return st;
}

/* ---------------------------------------------------------------- reader */

static int shc_reader(struct mmt_worker *w)
{
	struct shc_priv *sp = w->priv;
	struct shc_ctx c;
	int ret, st = MMT_PASS;

	ret = shc_begin(w, &c, false);
	if (ret)
		return mmt_werror(w, "mapping the memfd: %s", strerror(-ret));
	ret = shc_cont_start(&c, sp->contenders);
	if (ret) {
		st = mmt_werror(w, "starting contender threads: %s", strerror(-ret));
		goto out_end;
	}
	while (mmt_running(w)) {
		uint32_t r = shc_rand(&c, sp->nr_regions), p, n = 0, unsure = 0;

		st = shc_tick(&c);
		if (st)
			goto out_end;
		for (p = r * SHC_PPR; p < (r + 1) * SHC_PPR && p < sp->tail_start; p++) {
			char *page = shc_addr(c.base, p);
			struct shc_bad b;

			switch (shc_check_shared(sp, p, page, &b)) {
			case SHC_BAD:
				st = shc_fail_bad(&c, "reader", p, page, &b);
				goto out_end;
			case SHC_UNSURE:
				unsure++;
				break;
			default:
				break;
			}
			n++;
		}
		mmt_add(w, M_READS, n);
		mmt_add(w, M_UNSURE, unsure);
	}
	st = shc_check_all(&c, "reader: final pass");
out_end:
	shc_end(&c);
	return st;
}

/* -------------------------------------------------------------- splitter */

static bool shc_probe_busy(const struct shc_priv *sp, uint32_t r)
{
	return __atomic_load_n(&sp->probe_region, __ATOMIC_ACQUIRE) == (int32_t)r;
}

/* mprotect one 4 KiB page of a region read-only (splits our VMA and PMD), read it, restore. */
static int shc_split_mprotect(struct shc_ctx *c)
{
	struct shc_priv *sp = c->sp;
	uint32_t r = shc_rand(c, sp->nr_regions), p;
	struct shc_bad b;
	char *page;

	if (shc_probe_busy(sp, r))
		return MMT_PASS;
	p = r * SHC_PPR + shc_rand(c, SHC_PPR);
	if (p >= sp->tail_start)
		p = r * SHC_PPR;
	page = shc_addr(c->base, p);
	if (mprotect(page, SHC_PAGE, PROT_READ))
		return mmt_werror(c->w, "mprotect(%p, 4 KiB, PROT_READ): %s", page, strerror(errno));
	if (shc_check_shared(sp, p, page, &b) == SHC_BAD) {
		mprotect(page, SHC_PAGE, PROT_READ | PROT_WRITE);
		return shc_fail_bad(c, "splitter: page just mprotected read-only", p, page, &b);
	}
	if (mprotect(page, SHC_PAGE, PROT_READ | PROT_WRITE))
		return mmt_werror(c->w, "mprotect(%p, 4 KiB, RW): %s", page, strerror(errno));
	/* this mm may now have a fresh PTE table there: the probe leaves it out */
	__atomic_add_fetch(&sp->mprot_seq[r], 1, __ATOMIC_RELEASE);
	mmt_add(c->w, M_MPROTECT, 1);
	return MMT_PASS;
}

/* A page just punched or truncated must read as zeroes through our mapping. */
static int shc_expect_zero(struct shc_ctx *c, uint32_t p, const char *what)
{
	char *page = shc_addr(c->base, p);
	struct shc_bad b = { .magic = SHC_MAGIC, .hole_ok = true };
	int i;

	if (shc_is_zero(page))
		return MMT_PASS;
	for (i = 0; i < SHC_NR_WORDS; i++) {
		b.word = i;
		b.found = shc_ld(page, i);
		if (b.found)
			break;
	}
	return mmt_fail(c->w,
			"pid %d, splitter: page %u (file offset 0x%lx, region %u) at %p still reads word %d = 0x%016" PRIx64 " after %s: expected zeroes (a stale mapping of the freed page?)",
			(int)getpid(), p, (unsigned long)p * SHC_PAGE, p / SHC_PPR, page, b.word,
			b.found, what);
}

/* Punch a hole at one page of a region (splits its THP), check zeroes, rewrite. */
static int shc_split_punch(struct shc_ctx *c)
{
	struct shc_priv *sp = c->sp;
	uint32_t r, p;
	int st;

	/* a quarter of the punches go to the uffd-wp region so that it gets recollapsed */
	if (sp->uffd_ok && !shc_rand(c, 4))
		r = SHC_UFFD_REGION;
	else
		r = shc_rand(c, sp->nr_regions);
	if (shc_probe_busy(sp, r))
		return MMT_PASS;
	p = r * SHC_PPR + SHC_PUNCH_OFF;
	st = shc_own_check(c, p, "splitter: own page before punch-hole");
	if (st)
		return st;
	shc_set_busy(sp, p);
	if (fallocate(sp->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)p * (off_t)SHC_PAGE, (off_t)SHC_PAGE))
		return mmt_werror(c->w, "fallocate(PUNCH_HOLE, page %u): %s", p, strerror(errno));
	st = shc_expect_zero(c, p, "fallocate(PUNCH_HOLE)");
	if (st)
		return st;
	shc_rewrite(c, p);
	mmt_add(c->w, M_PUNCH, 1);
	return MMT_PASS;
}

/* ftruncate the last 1 MiB away and back (splits the last THP), check zeroes, rewrite. */
static int shc_split_truncate(struct shc_ctx *c)
{
	struct shc_priv *sp = c->sp;
	uint32_t p;
	int st;

	if (shc_probe_busy(sp, sp->nr_regions - 1))
		return MMT_PASS;
	for (p = sp->tail_start; p < sp->nr_pages; p++) {
		st = shc_own_check(c, p, "splitter: own tail page before truncate");
		if (st)
			return st;
	}
	for (p = sp->tail_start; p < sp->nr_pages; p++)
		shc_set_busy(sp, p);
	if (ftruncate(sp->fd, (off_t)sp->tail_start * (off_t)SHC_PAGE))
		return mmt_werror(c->w, "ftruncate down to %lu: %s",
				  (unsigned long)sp->tail_start * SHC_PAGE, strerror(errno));
	if (ftruncate(sp->fd, (off_t)sp->size))
		return mmt_werror(c->w, "ftruncate back up to %" PRIu64 ": %s", sp->size,
				  strerror(errno));
	for (p = sp->tail_start; p < sp->nr_pages; p++) {
		st = shc_expect_zero(c, p, "ftruncate down and up");
		if (st)
			return st;
	}
	for (p = sp->tail_start; p < sp->nr_pages; p++)
		shc_rewrite(c, p);
	mmt_add(c->w, M_TRUNC, 1);
	return MMT_PASS;
}

static int shc_splitter(struct mmt_worker *w)
{
	struct shc_priv *sp = w->priv;
	struct shc_ctx c;
	int ret, st = MMT_PASS;
	uint32_t p;

	ret = shc_begin(w, &c, false);
	if (ret)
		return mmt_werror(w, "mapping the memfd: %s", strerror(-ret));
	while (mmt_running(w)) {
		uint32_t dice = shc_rand(&c, 10);

		st = shc_tick(&c);
		if (st)
			goto out_end;
		if (dice < 4)
			st = shc_split_mprotect(&c);
		else if (dice < 9)
			st = shc_split_punch(&c);
		else
			st = shc_split_truncate(&c);
		if (st)
			goto out_end;
		if (sp->split_us)
			mmt_sleep(w, (uint64_t)sp->split_us * 1000);
	}
	for (p = 0; p < sp->nr_pages; p++) {
		if (shc_owner(sp, p) != SHC_OWN_SPLIT)
			continue;
		st = shc_own_check(&c, p, "splitter: final check of own page");
		if (st)
			break;
	}
out_end:
	shc_end(&c);
	return st;
}

/* --------------------------------------------------------------- private */

struct shc_private {
	uint8_t *cow;		/* [nr_pages] this page is our private copy */
	uint32_t *pgen;		/* [nr_pages] its private generation */
};

static int shc_priv_check(struct shc_ctx *c, struct shc_private *pv, uint32_t p,
			  const char *what)
{
	char *page = shc_addr(c->base, p);
	struct shc_bad b;

	if (pv->cow[p]) {
		if (!shc_check_exact(page, shc_stamp(SHC_MAGIC_PRIV, p, pv->pgen[p]), &b))
			return shc_fail_bad(c, what, p, page, &b);
		return MMT_PASS;
	}
	if (shc_check_shared(c->sp, p, page, &b) == SHC_BAD)
		return shc_fail_bad(c, what, p, page, &b);
	return MMT_PASS;
}

static int shc_priv_cow(struct shc_ctx *c, struct shc_private *pv, uint32_t p)
{
	int st = shc_priv_check(c, pv, p, "private: page before COW write");

	if (st)
		return st;
	pv->pgen[p] = shc_next(pv->pgen[p]);
	shc_put(shc_addr(c->base, p), shc_stamp(SHC_MAGIC_PRIV, p, pv->pgen[p]));
	pv->cow[p] = 1;
	mmt_add(c->w, M_COW, 1);
	return MMT_PASS;
}

static uint32_t shc_region_end(const struct shc_priv *sp, uint32_t r)
{
	uint32_t end = (r + 1) * SHC_PPR;

	return end < sp->tail_start ? end : sp->tail_start;
}

static int shc_private(struct mmt_worker *w)
{
	struct shc_priv *sp = w->priv;
	struct shc_private pv = { NULL, NULL };
	struct shc_ctx c;
	int ret, st = MMT_PASS;
	uint32_t r, p, k;

	ret = shc_begin(w, &c, true);
	if (ret)
		return mmt_werror(w, "mapping the memfd MAP_PRIVATE: %s", strerror(-ret));
	pv.cow = calloc(sp->nr_pages, 1);
	pv.pgen = calloc(sp->nr_pages, sizeof(*pv.pgen));
	if (!pv.cow || !pv.pgen) {
		st = mmt_werror(w, "out of memory");
		goto out_free;
	}
	/* one COW page in every region: every VMA gets its anon_vma at once */
	for (r = 0; r < sp->nr_regions; r++) {
		st = shc_priv_cow(&c, &pv, r * SHC_PPR + 1);
		if (st)
			goto out_free;
	}
	while (mmt_running(w)) {
		uint32_t dice = shc_rand(&c, 10), end;

		st = shc_tick(&c);
		if (st)
			goto out_free;
		r = shc_rand(&c, sp->nr_regions);
		end = shc_region_end(sp, r);
		if (dice < 5) {
			for (k = 0; k < 8; k++) {
				p = r * SHC_PPR + shc_rand(&c, end - r * SHC_PPR);
				st = shc_priv_cow(&c, &pv, p);
				if (st)
					goto out_free;
			}
		} else if (dice < 9) {
			for (p = r * SHC_PPR; p < end; p++) {
				st = shc_priv_check(&c, &pv, p, "private: check");
				if (st)
					goto out_free;
			}
		} else {
			char *a = c.base + (size_t)r * SHC_STRIDE;

			if (madvise(a, SHC_PMD, MADV_DONTNEED)) {
				st = mmt_werror(w, "MADV_DONTNEED on the private mapping: %s",
						strerror(errno));
				goto out_free;
			}
			memset(pv.cow + r * SHC_PPR, 0, SHC_PPR);
			for (p = r * SHC_PPR; p < end; p++) {
				st = shc_priv_check(&c, &pv, p,
						    "private: page after MADV_DONTNEED (the file's data expected)");
				if (st)
					goto out_free;
			}
			/* keep the anon_vma busy: COW the page again */
			st = shc_priv_cow(&c, &pv, r * SHC_PPR + 1);
			if (st)
				goto out_free;
			mmt_add(w, M_DROP, 1);
		}
	}
	for (p = 0; p < sp->tail_start; p++) {
		st = shc_priv_check(&c, &pv, p, "private: final pass");
		if (st)
			break;
	}
out_free:
	free(pv.cow);
	free(pv.pgen);
	shc_end(&c);
	return st;
}

/* ------------------------------------------------------------------ uffd */

struct shc_uffd {
	struct shc_ctx *c;
	int fd;
	char *rbase;		/* region SHC_UFFD_REGION in this mm */
	uint32_t first;		/* its first page */
	uint64_t round;		/* atomic: the current protect round */
	uint64_t token[SHC_PPR];	/* atomic: round in which page i's WP fault was seen */
	int32_t wr_page;	/* atomic: page being written, -1 none */
	pid_t tid;		/* the writing thread */
	uint64_t wr_since;	/* atomic */
	uint64_t faults, extra;	/* atomic, handler thread */
	int quit;		/* atomic */
	int bad;		/* atomic: msg is set */
	char msg[MMT_REASON_LEN];
	pthread_t thr;
};

static void shc_uffd_bad(struct shc_uffd *u, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void shc_uffd_bad(struct shc_uffd *u, const char *fmt, ...)
{
	va_list ap;

	if (__atomic_load_n(&u->bad, __ATOMIC_ACQUIRE))
		return;
	va_start(ap, fmt);
	vsnprintf(u->msg, sizeof(u->msg), fmt, ap);
	va_end(ap);
	__atomic_store_n(&u->bad, 1, __ATOMIC_RELEASE);
}

static int shc_uffd_wp(int fd, void *addr, size_t len, bool protect)
{
	struct uffdio_writeprotect wp = {
		.range = { .start = (uintptr_t)addr, .len = len },
		.mode = protect ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};
	int i;

	for (i = 0; i < 1000; i++) {
		if (!ioctl(fd, UFFDIO_WRITEPROTECT, &wp))
			return 0;
		if (errno != EAGAIN)
			return -errno;
	}
	return -EAGAIN;
}

static void shc_uffd_fault(struct shc_uffd *u, const struct uffd_msg *m)
{
	uintptr_t addr = (uintptr_t)m->arg.pagefault.address & ~(SHC_PAGE - 1);
	uint64_t round = __atomic_load_n(&u->round, __ATOMIC_ACQUIRE);
	uint32_t i;
	int ret;

	if (m->event != UFFD_EVENT_PAGEFAULT) {
		shc_uffd_bad(u, "uffd: unexpected event %u", m->event);
		return;
	}
	if (addr < (uintptr_t)u->rbase || addr >= (uintptr_t)u->rbase + SHC_PMD) {
		shc_uffd_bad(u, "uffd: fault at 0x%lx outside the registered region %p",
			     (unsigned long)addr, u->rbase);
		return;
	}
	i = (uint32_t)((addr - (uintptr_t)u->rbase) / SHC_PAGE);
	if (!(m->arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP)) {
		shc_uffd_bad(u, "uffd: fault at %p (page %u) without the WP flag (flags 0x%llx) on a WP-only registration",
			     (void *)addr, u->first + i,
			     (unsigned long long)m->arg.pagefault.flags);
		return;
	}
	if (__atomic_load_n(&u->token[i], __ATOMIC_RELAXED) == round)
		__atomic_store_n(&u->extra, u->extra + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&u->token[i], round, __ATOMIC_RELEASE);
	__atomic_store_n(&u->faults, u->faults + 1, __ATOMIC_RELAXED);
	ret = shc_uffd_wp(u->fd, (void *)addr, SHC_PAGE, false);
	if (ret)
		shc_uffd_bad(u, "uffd: UFFDIO_WRITEPROTECT clearing page %u at %p: %s",
			     u->first + i, (void *)addr, strerror(-ret));
}

/* Does thread tid of this process sleep in handle_userfault()? */
static bool shc_in_userfault(pid_t tid)
{
	char path[64], buf[64];

	snprintf(path, sizeof(path), "/proc/self/task/%d/wchan", (int)tid);
	if (mmt_read_file(path, buf, sizeof(buf)) <= 0)
		return false;
	return !strcmp(buf, "handle_userfault");
}

/*
 * Watchdog: the writer has slept in handle_userfault() for a second on a
 * protected page while polling gave us no message for it (lost fault message),
 * or after we resolved it (lost wakeup).  Sleeping elsewhere, e.g. on the
 * folio lock of a collapse in progress, is not a uffd failure.
 */
static void shc_uffd_watch(struct shc_uffd *u, uint64_t *key, uint64_t *since, bool *unstuck)
{
	int32_t wp = __atomic_load_n(&u->wr_page, __ATOMIC_ACQUIRE);
	uint64_t round = __atomic_load_n(&u->round, __ATOMIC_ACQUIRE);
	uint64_t now = mmt_now_ns(), k = round * SHC_PPR + (uint64_t)wp;

	if (wp < 0 || *unstuck || k != *key ||
	    now - __atomic_load_n(&u->wr_since, __ATOMIC_RELAXED) < 100000000ull ||
	    !shc_in_userfault(u->tid)) {
		*key = k;
		*since = 0;
		return;
	}
	if (!*since) {
		*since = now;
		return;
	}
	if (now - *since < SHC_UFFD_STUCK_NS)
		return;
	if (__atomic_load_n(&u->token[wp], __ATOMIC_ACQUIRE) == round)
		shc_uffd_bad(u, "uffd: write to protected page %u: its WP fault was resolved, but the writer still sleeps in handle_userfault() after 1 s (lost wakeup)",
			     u->first + (uint32_t)wp);
	else
		shc_uffd_bad(u, "uffd: write to protected page %u sleeps in handle_userfault() for 1 s while no fault message can be read (lost uffd-wp fault message)",
			     u->first + (uint32_t)wp);
	shc_uffd_wp(u->fd, u->rbase, SHC_PMD, false);
	*unstuck = true;
}

/* Handler thread: resolve write-protect faults until the main thread is done. */
static void *shc_uffd_main(void *arg)
{
	struct shc_uffd *u = arg;
	uint64_t key = 0, since = 0;
	bool unstuck = false;

	while (!__atomic_load_n(&u->quit, __ATOMIC_ACQUIRE)) {
		struct pollfd pfd = { .fd = u->fd, .events = POLLIN };
		struct uffd_msg m;

		if (poll(&pfd, 1, 50) > 0) {
			while (read(u->fd, &m, sizeof(m)) == (ssize_t)sizeof(m))
				shc_uffd_fault(u, &m);
		}
		shc_uffd_watch(u, &key, &since, &unstuck);
	}
	return NULL;
}

static int shc_uffd_open(struct shc_uffd *u)
{
	struct uffdio_api api = {
		.api = UFFD_API,
		.features = UFFD_FEATURE_WP_HUGETLBFS_SHMEM,
	};
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)u->rbase, .len = SHC_PMD },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};
	int fd, ret;

	fd = (int)syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, UFFDIO_API, &api) || ioctl(fd, UFFDIO_REGISTER, &reg)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	u->fd = fd;
	return 0;
}

/*
 * Write-protect a run of the region, give a collapse of the region a chance to
 * happen while it is protected, then write every page of it: each write must
 * raise a WP fault that the handler saw before the write could complete.
 */
static int shc_uffd_round(struct shc_uffd *u)
{
	struct shc_ctx *c = u->c;
	struct shc_priv *sp = c->sp;
	uint32_t n = (uint32_t)sp->uffd_pages, start, i, p;
	uint64_t round = __atomic_load_n(&u->round, __ATOMIC_RELAXED) + 1;
	uint64_t seq0, t0, deadline;
	int st, ret;

	start = shc_rand(c, SHC_PPR - n + 1);
	for (i = start; i < start + n; i++) {
		p = u->first + i;
		if (shc_owner(sp, p) != SHC_OWN_UFFD)
			continue;
		st = shc_own_check(c, p, "uffd: own page before write-protect");
		if (st)
			return st;
	}
	__atomic_store_n(&u->round, round, __ATOMIC_RELEASE);
	seq0 = __atomic_load_n(&sp->uffd_collapses, __ATOMIC_ACQUIRE);
	ret = shc_uffd_wp(u->fd, u->rbase + (size_t)start * SHC_PAGE, (size_t)n * SHC_PAGE, true);
	if (ret)
		return mmt_werror(c->w, "UFFDIO_WRITEPROTECT pages %u..%u: %s", u->first + start,
				  u->first + start + n - 1, strerror(-ret));
	/* ask the collapser to look at our region now, while it is protected */
	__atomic_store_n(&sp->uffd_want, round, __ATOMIC_RELEASE);
	deadline = mmt_now_ns() + 50000000ull;
	while (mmt_running(c->w) && mmt_now_ns() < deadline &&
	       __atomic_load_n(&sp->uffd_served, __ATOMIC_ACQUIRE) != round) {
		struct timespec ts = { 0, 200000 };

		shc_ack_probe(c);
		nanosleep(&ts, NULL);
	}
	for (i = start; i < start + n; i++) {
		char *page = u->rbase + (size_t)i * SHC_PAGE;

		p = u->first + i;
		if (shc_owner(sp, p) != SHC_OWN_UFFD)
			continue;
		__atomic_store_n(&u->wr_since, mmt_now_ns(), __ATOMIC_RELAXED);
		__atomic_store_n(&u->wr_page, (int32_t)i, __ATOMIC_RELEASE);
		t0 = mmt_now_ns();
		shc_rewrite(c, p);
		mmt_latency(c->w, M_UFFD_LAT, mmt_now_ns() - t0);
		__atomic_store_n(&u->wr_page, -1, __ATOMIC_RELEASE);
		if (__atomic_load_n(&u->bad, __ATOMIC_ACQUIRE))
			return mmt_fail(c->w, "%s", u->msg);
		if (__atomic_load_n(&u->token[i], __ATOMIC_ACQUIRE) != round) {
			bool raced = __atomic_load_n(&sp->uffd_collapses,
						     __ATOMIC_RELAXED) != seq0;

			return mmt_fail(c->w,
					"pid %d, uffd: write to page %u (file offset 0x%lx) at %p landed without a write-protect fault; pages %u..%u were protected with UFFDIO_WRITEPROTECT in round %" PRIu64 "%s",
					(int)getpid(), p, (unsigned long)p * SHC_PAGE, page,
					u->first + start, u->first + start + n - 1, round,
					raced ? " and the region was collapsed meanwhile" : "");
		}
		mmt_add(c->w, M_UFFD_WRITES, 1);
	}
	if (__atomic_load_n(&sp->uffd_collapses, __ATOMIC_ACQUIRE) != seq0)
		mmt_add(c->w, M_UFFD_RACED, 1);
	return MMT_PASS;
}

static int shc_uffd(struct mmt_worker *w)
{
	struct shc_priv *sp = w->priv;
	struct shc_uffd *u;
	struct shc_ctx c;
	uint64_t extra_flushed = 0;
	int ret, st = MMT_PASS;
	uint32_t p;

	if (!sp->uffd_ok)
		return mmt_role_skip(w, "%s", sp->uffd_why);
	u = calloc(1, sizeof(*u));
	if (!u)
		return mmt_werror(w, "out of memory");
	ret = shc_begin(w, &c, false);
	if (ret) {
		free(u);
		return mmt_werror(w, "mapping the memfd: %s", strerror(-ret));
	}
	u->c = &c;
	u->rbase = c.base + (size_t)SHC_UFFD_REGION * SHC_STRIDE;
	u->first = SHC_UFFD_REGION * SHC_PPR;
	u->wr_page = -1;
	u->tid = gettid();
	ret = shc_uffd_open(u);
	if (ret) {
		st = mmt_werror(w, "userfaultfd WP registration of %p: %s", u->rbase,
				strerror(-ret));
		goto out_end;
	}
	ret = pthread_create(&u->thr, NULL, shc_uffd_main, u);
	if (ret) {
		st = mmt_werror(w, "starting the uffd handler thread: %s", strerror(ret));
		goto out_close;
	}
	while (mmt_running(w)) {
		uint64_t e;

		st = shc_tick(&c);
		if (st)
			break;
		st = shc_uffd_round(u);
		if (st)
			break;
		e = __atomic_load_n(&u->extra, __ATOMIC_RELAXED);
		mmt_add(w, M_UFFD_EXTRA, e - extra_flushed);
		extra_flushed = e;
	}
	for (p = u->first; !st && p < u->first + SHC_PPR; p++) {
		if (shc_owner(sp, p) == SHC_OWN_UFFD)
			st = shc_own_check(&c, p, "uffd: final check of own page");
	}
	__atomic_store_n(&u->quit, 1, __ATOMIC_RELEASE);
	pthread_join(u->thr, NULL);
	if (!st && __atomic_load_n(&u->bad, __ATOMIC_ACQUIRE))
		st = mmt_fail(w, "%s", u->msg);
out_close:
	close(u->fd);
out_end:
	shc_end(&c);
	free(u);
	return st;
}

/* ------------------------------------------------------------- collapser */

struct shc_coll {
	struct shc_ctx c;
	int pagemap, kpf;	/* -1 when PFNs cannot be read */
};

static int shc_pread_u64(int fd, uint64_t idx, uint64_t *v)
{
	ssize_t n = pread(fd, v, sizeof(*v), (off_t)(idx * sizeof(*v)));

	if (n == (ssize_t)sizeof(*v))
		return 0;
	return n < 0 ? -errno : -EIO;
}

/* The PFN mapped at addr in our mm: 0, -ENODATA (not present) or -errno. */
static int shc_pfn_of(int pagemap, const void *addr, uint64_t *pfn)
{
	uint64_t e;
	int ret = shc_pread_u64(pagemap, (uintptr_t)addr / SHC_PAGE, &e);

	if (ret)
		return ret;
	if (!(e >> 63))
		return -ENODATA;
	*pfn = e & ((1ull << 55) - 1);
	return *pfn ? 0 : -EPERM;
}

/*
 * Is pfn the head of one PMD-sized THP?  The head must be followed by 511
 * tail pages and no other head: a punch-hole may split a THP non-uniformly
 * into smaller large folios (6.15+), which are flagged THP too.
 */
static bool shc_pfn_pmd_thp(int kpf, uint64_t pfn)
{
	uint64_t f[SHC_PPR];
	unsigned int i;

	if (pfn % SHC_PPR ||
	    pread(kpf, f, sizeof(f), (off_t)(pfn * sizeof(f[0]))) != (ssize_t)sizeof(f))
		return false;
	if (!(f[0] >> KPF_THP & 1) || !(f[0] >> KPF_COMPOUND_HEAD & 1))
		return false;
	for (i = 1; i < SHC_PPR; i++)
		if (!(f[i] >> KPF_COMPOUND_TAIL & 1) || (f[i] >> KPF_COMPOUND_HEAD & 1))
			return false;
	return true;
}

/* Touch region r's first page here; its PFN and whether it heads a PMD THP. */
static bool shc_region_thp(struct shc_coll *cl, uint32_t r, uint64_t *pfn)
{
	char *a = shc_addr(cl->c.base, r * SHC_PPR);

	*pfn = 0;
	(void)shc_ld(a, 0);
	if (cl->pagemap < 0 || shc_pfn_of(cl->pagemap, a, pfn))
		return false;
	return shc_pfn_pmd_thp(cl->kpf, *pfn);
}

struct shc_vma {
	unsigned long start, end;
	long long rss_kb, pmd_kb;
};

/* The smaps entry of pid's VMA containing addr: 0, -ENOENT or -errno. */
static int shc_smaps_vma(pid_t pid, uintptr_t addr, struct shc_vma *v)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	bool in = false;
	int ret = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		unsigned long s, e;
		char perms[8];

		if (sscanf(line, "%lx-%lx %7s", &s, &e, perms) == 3) {
			if (in)
				break;
			if (addr >= s && addr < e) {
				in = true;
				*v = (struct shc_vma){ .start = s, .end = e };
				ret = 0;
			}
			continue;
		}
		if (!in)
			continue;
		if (!strncmp(line, "Rss:", 4)) {
			v->rss_kb = strtoll(line + 4, NULL, 10);
		} else if (!strncmp(line, "ShmemPmdMapped:", 15)) {
			v->pmd_kb = strtoll(line + 15, NULL, 10);
			break;
		}
	}
	free(line);
	fclose(f);
	return ret;
}

enum shc_map_state {
	MS_UNFIT = -1,	/* the VMA does not cover the whole aligned region (mprotect split) */
	MS_NONE,	/* nothing mapped */
	MS_PTE,		/* mapped by PTEs: the mm has a PTE table there */
	MS_PMD,		/* mapped by a PMD */
};

static enum shc_map_state shc_map_state(pid_t pid, uintptr_t base, uint32_t r)
{
	uintptr_t a = base + (uintptr_t)r * SHC_STRIDE;
	struct shc_vma v = { 0, 0, 0, 0 };

	if (shc_smaps_vma(pid, a, &v) || v.start != a || v.end != a + SHC_PMD)
		return MS_UNFIT;
	if (v.pmd_kb >= (long long)(SHC_PMD >> 10))
		return MS_PMD;
	return v.rss_kb > 0 ? MS_PTE : MS_NONE;
}

enum shc_class { CL_SHARED, CL_SPLITTER, CL_PRIVATE, CL_UFFD };

static const struct {
	const char *role;
	enum shc_class cl;
} shc_partners[] = {
	{ "writer", CL_SHARED },
	{ "reader", CL_SHARED },
	{ "splitter", CL_SPLITTER },
	{ "uffd", CL_UFFD },
	{ "private", CL_PRIVATE },
};

#define SHC_MAX_MMS	64

struct shc_mm {
	struct mmt_slot *slot;	/* NULL: the collapser's own mm */
	const char *role;
	int index;
	pid_t pid;
	uintptr_t base;
	enum shc_class cl;
	enum shc_map_state before;
};

/* The mms mapping the file and how they map region r, taken before a collapse. */
struct shc_probe_set {
	uint32_t r;
	uint32_t mprot0;	/* splitter's mprotect count of the region */
	int nr;
	struct shc_mm mm[SHC_MAX_MMS];
};

static void shc_probe_prepare(struct shc_coll *cl, uint32_t r, struct shc_probe_set *ps)
{
	struct shc_priv *sp = cl->c.sp;
	struct mmt_ctx *ctx = cl->c.w->ctx;
	size_t k;
	int i, n;

	ps->r = r;
	ps->mprot0 = __atomic_load_n(&sp->mprot_seq[r], __ATOMIC_ACQUIRE);
	ps->nr = 0;
	ps->mm[ps->nr++] = (struct shc_mm){ NULL, "collapser", 0, getpid(), (uintptr_t)cl->c.base,
					    CL_SHARED, MS_NONE };
	for (k = 0; k < SHC_ARRAY_SIZE(shc_partners); k++) {
		struct mmt_slot *s = mmt_role_slots(ctx, shc_partners[k].role, &n);

		for (i = 0; s && i < n && ps->nr < SHC_MAX_MMS; i++) {
			uint64_t base = __atomic_load_n(&s[i].pub[PUB_BASE], __ATOMIC_ACQUIRE);
			enum shc_class c = shc_partners[k].cl;

			if (__atomic_load_n(&s[i].done, __ATOMIC_ACQUIRE) || !base)
				continue;
			if (c == CL_UFFD && r != SHC_UFFD_REGION)
				c = CL_SHARED;
			ps->mm[ps->nr++] = (struct shc_mm){ &s[i], shc_partners[k].role, i, s[i].pid,
							    (uintptr_t)base, c, MS_NONE };
		}
	}
	for (i = 0; i < ps->nr; i++)
		ps->mm[i].before = shc_map_state(ps->mm[i].pid, ps->mm[i].base, r);
}

/* Has every partner of the set acknowledged probe seq (or gone)? */
static bool shc_all_acked(const struct shc_probe_set *ps, uint64_t seq)
{
	int i;

	for (i = 0; i < ps->nr; i++) {
		const struct mmt_slot *s = ps->mm[i].slot;

		if (!s || __atomic_load_n(&s->done, __ATOMIC_ACQUIRE))
			continue;
		if (__atomic_load_n(&s->pub[PUB_ACK], __ATOMIC_ACQUIRE) < seq)
			return false;
	}
	return true;
}

/*
 * Right after region r became a new THP: ask every mm to touch it again, then
 * read from smaps which of them map it by PMD.  A mm whose PTE table was
 * retracted faults a PMD mapping; one left with its PTE table maps PTEs.  A
 * mm that had the region PTE-mapped before the collapse and maps it by PMD now
 * proves that retract_page_tables() freed its PTE table.
 */
static void shc_probe(struct shc_coll *cl, struct shc_probe_set *ps, uint64_t pfn)
{
	struct shc_miss miss[SHC_MAX_MISSES];
	struct shc_ctx *c = &cl->c;
	struct shc_priv *sp = c->sp;
	struct shc_probe_rec rec = { 0 };
	uint64_t seq, deadline, pfn2;
	uint32_t r = ps->r;
	int i, nmiss = 0;

	__atomic_store_n(&sp->probe_region, (int32_t)r, __ATOMIC_RELEASE);
	seq = sp->probe_seq + 1;
	__atomic_store_n(&sp->probe_seq, seq, __ATOMIC_RELEASE);
	deadline = mmt_now_ns() + SHC_PROBE_WAIT_NS;
	while (!shc_all_acked(ps, seq) && mmt_running(c->w) && mmt_now_ns() < deadline) {
		struct timespec ts = { 0, 50000 };

		nanosleep(&ts, NULL);
	}
	/* our own mm re-touches too */
	(void)shc_ld(shc_addr(c->base, r * SHC_PPR), 0);
	for (i = 0; i < ps->nr; i++) {
		struct shc_mm *m = &ps->mm[i];
		enum shc_map_state now;

		if (m->slot && (__atomic_load_n(&m->slot->done, __ATOMIC_ACQUIRE) ||
				__atomic_load_n(&m->slot->pub[PUB_BASE], __ATOMIC_ACQUIRE) !=
				(uint64_t)m->base))
			continue;
		if (m->slot && __atomic_load_n(&m->slot->pub[PUB_ACK], __ATOMIC_ACQUIRE) < seq) {
			sp->late++;
			continue;
		}
		if (m->cl == CL_SPLITTER &&
		    __atomic_load_n(&sp->mprot_seq[r], __ATOMIC_ACQUIRE) != ps->mprot0) {
			sp->unfit++;	/* mprotect split it after the collapse */
			continue;
		}
		now = shc_map_state(m->pid, m->base, r);
		if (now == MS_UNFIT || now == MS_NONE) {
			/* split by mprotect, or zapped again after the re-touch */
			sp->unfit++;
			continue;
		}
		switch (m->cl) {
		case CL_SHARED:
		case CL_SPLITTER:
			rec.elig++;
			rec.pmd += now == MS_PMD;
			if (m->before == MS_PTE) {
				rec.elig_pte++;
				rec.pmd_pte += now == MS_PMD;
			}
			if (now != MS_PMD && nmiss < SHC_MAX_MISSES)
				miss[nmiss++] = (struct shc_miss){ m->role, m->index, m->pid, r,
								   m->before, now };
			break;
		case CL_PRIVATE:
			rec.flags |= PR_PRIV | (now == MS_PMD ? PR_PRIV_PMD : 0);
			break;
		case CL_UFFD:
			rec.flags |= PR_UFFD | (now == MS_PMD ? PR_UFFD_PMD : 0);
			break;
		}
	}
	/* the region must still be the same THP, else a punch raced the probe */
	if (!shc_region_thp(cl, r, &pfn2) || pfn2 != pfn) {
		mmt_add(c->w, M_PROBE_DISCARD, 1);
	} else {
		mmt_add(c->w, M_PROBES, 1);
		for (i = 0; i < nmiss && sp->nr_misses < SHC_MAX_MISSES; i++)
			sp->misses[sp->nr_misses++] = miss[i];
		if (sp->nr_probe_recs < SHC_MAX_PROBES) {
			rec.t = mmt_now_ns();
			sp->probe_rec[sp->nr_probe_recs] = rec;
			__atomic_store_n(&sp->nr_probe_recs, sp->nr_probe_recs + 1,
					 __ATOMIC_RELEASE);
		}
	}
	__atomic_store_n(&sp->probe_region, -1, __ATOMIC_RELEASE);
}

static void shc_count_errno(struct mmt_worker *w, int err)
{
	switch (err) {
	case 0:
		mmt_add(w, M_OK, 1);
		break;
	case EAGAIN:
		mmt_add(w, M_EAGAIN, 1);
		break;
	case EINVAL:
		mmt_add(w, M_EINVAL, 1);
		break;
	case ENOMEM:
		mmt_add(w, M_ENOMEM, 1);
		break;
	default:
		mmt_add(w, M_OTHER, 1);
		break;
	}
}

/* One MADV_COLLAPSE call, timed and counted: 0 or the errno. */
static int shc_collapse_call(struct mmt_worker *w, char *a)
{
	uint64_t t0 = mmt_now_ns();
	int err = madvise(a, SHC_PMD, MADV_COLLAPSE) ? errno : 0;

	mmt_latency(w, M_COLLAPSE_LAT, mmt_now_ns() - t0);
	mmt_add(w, M_COLLAPSE, 1);
	shc_count_errno(w, err);
	return err;
}

static int shc_collapser(struct mmt_worker *w)
{
	struct shc_priv *sp = w->priv;
	struct shc_probe_set ps = { .nr = 0 };
	uint64_t next_probe = 0;
	struct shc_coll cl;
	uint32_t r = 0, already = 0;
	int ret, st = MMT_PASS;

	ret = shc_begin(w, &cl.c, false);
	if (ret)
		return mmt_werror(w, "mapping the memfd: %s", strerror(-ret));
	cl.pagemap = -1;
	cl.kpf = -1;
	if (sp->kpf_ok) {
		cl.pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
		cl.kpf = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
		if (cl.pagemap < 0 || cl.kpf < 0) {
			st = mmt_werror(w, "opening pagemap/kpageflags: %s", strerror(errno));
			goto out_close;
		}
	}
	while (mmt_running(w)) {
		uint64_t pfn0, pfn1, want;
		uint32_t cur = r;
		bool jump = false;
		bool probing;
		char *a;
		int err;

		st = shc_tick(&cl.c);
		if (st)
			goto out_close;
		/* the uffd role has just write-protected a range: its region goes first */
		want = __atomic_load_n(&sp->uffd_want, __ATOMIC_ACQUIRE);
		if (want && want != __atomic_load_n(&sp->uffd_served, __ATOMIC_RELAXED)) {
			cur = SHC_UFFD_REGION;
			jump = true;
		}
		a = cl.c.base + (size_t)cur * SHC_STRIDE;
		if (shc_region_thp(&cl, cur, &pfn0)) {
			mmt_add(w, M_ALREADY, 1);
			already += !jump;
		} else {
			probing = sp->probe && mmt_now_ns() >= next_probe;
			if (probing)
				shc_probe_prepare(&cl, cur, &ps);
			err = shc_collapse_call(w, a);
			if (err == EAGAIN)
				err = shc_collapse_call(w, a);
			if (!err && cur == SHC_UFFD_REGION)
				__atomic_add_fetch(&sp->uffd_collapses, 1, __ATOMIC_RELEASE);
			/* a punch-hole that waited for the collapse may split it at once */
			if (!err && shc_region_thp(&cl, cur, &pfn1) && pfn1 != pfn0) {
				mmt_add(w, M_NEW_THP, 1);
				if (probing) {
					shc_probe(&cl, &ps, pfn1);
					next_probe = mmt_now_ns() +
						     (uint64_t)sp->probe_ms * 1000000ull;
				}
			}
		}
		if (jump) {
			__atomic_store_n(&sp->uffd_served, want, __ATOMIC_RELEASE);
			continue;
		}
		if (++r == sp->nr_regions) {
			/* every region is a THP already: give the splitter time */
			if (already == sp->nr_regions)
				mmt_sleep(w, 500000);
			r = 0;
			already = 0;
		}
	}
	__atomic_store_n(&sp->t_stop, mmt_now_ns(), __ATOMIC_RELEASE);
out_close:
	if (cl.pagemap >= 0)
		close(cl.pagemap);
	if (cl.kpf >= 0)
		close(cl.kpf);
	shc_end(&cl.c);
	return st;
}

/* ----------------------------------------------------------------- rogue */

static int shc_rogue(struct mmt_worker *w)
{
	struct shc_priv *sp = w->priv;
	uint64_t rnd = w->seed;

	if (!mmt_sleep(w, 300000000ull))
		return MMT_PASS;
	while (mmt_running(w)) {
		uint32_t p = 0, q, g;
		uint64_t v;
		int tries;

		for (tries = 0; tries < 64; tries++) {
			p = (uint32_t)(mmt_rand(&rnd) % sp->tail_start);
			if (shc_owner(sp, p) >= 0)
				break;
		}
		if (shc_owner(sp, p) < 0)
			continue;
		/* a believable stamp of the wrong page, current generation */
		q = p + 1 < sp->tail_start ? p + 1 : p - 1;
		g = shc_gen_acq(sp, p) & SHC_GEN_MASK;
		v = shc_stamp(SHC_MAGIC, q, g);
		if (pwrite(sp->fd, &v, sizeof(v), (off_t)p * (off_t)SHC_PAGE) != sizeof(v))
			return mmt_werror(w, "pwrite into the memfd: %s", strerror(errno));
		fprintf(stderr, "mmtorture: shmem-collapse: rogue wrote the stamp of page %u into page %u (file offset 0x%lx)\n",
			q, p, (unsigned long)p * SHC_PAGE);
		mmt_add(w, M_ROGUE, 1);
		if (!mmt_sleep(w, 200000000ull))
			break;
	}
	return MMT_PASS;
}

/* ----------------------------------------------------------------- setup */

/* Map region 0 alone, PMD-aligned, in the parent (temporarily). */
static char *shc_map_region0(int fd, bool hugepage)
{
	char *res, *a, *m;

	res = mmap(NULL, 2 * SHC_PMD, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		   -1, 0);
	if (res == MAP_FAILED)
		return NULL;
	a = (char *)(((uintptr_t)res + SHC_PMD - 1) & ~(SHC_PMD - 1));
	m = mmap(a, SHC_PMD, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	if (m == MAP_FAILED) {
		munmap(res, 2 * SHC_PMD);
		return NULL;
	}
	if (a > res)
		munmap(res, (size_t)(a - res));
	munmap(a + SHC_PMD, (size_t)(res + SHC_PMD - a));
	if (hugepage)
		madvise(a, SHC_PMD, MADV_HUGEPAGE);
	return a;
}

/*
 * MADV_COLLAPSE region 0 from the parent: 0 or the errno.  *kpf_ok when this
 * process can read PFNs and page flags, *thp_pfn when the THP is proved.
 * EAGAIN and EINVAL are both tried again (10 times, 20 ms apart): a kernel that can
 * collapse shmem answers EINVAL for passing states too (collapse_file()'s SCAN_FAIL exits),
 * and one quick-suite boot in about ten here skipped the workload that way, as if the
 * kernel could not.
 */
static int shc_try_collapse(struct shc_priv *sp, bool hugepage, bool *kpf_ok,
			    uint64_t *thp_pfn)
{
	char *a = shc_map_region0(sp->fd, hugepage);
	int err = 0, i, pagemap, kpf;
	uint64_t pfn, flags;

	*kpf_ok = false;
	*thp_pfn = 0;
	if (!a)
		return errno;
	for (i = 0; i < 10; i++) {
		err = madvise(a, SHC_PMD, MADV_COLLAPSE) ? errno : 0;
		if (err != EAGAIN && err != EINVAL)
			break;
		usleep(20000);
	}
	(void)shc_ld(a, 0);
	pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	kpf = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	if (pagemap >= 0 && kpf >= 0 && !shc_pfn_of(pagemap, a, &pfn) &&
	    !shc_pread_u64(kpf, pfn, &flags)) {
		*kpf_ok = true;
		if (!err && shc_pfn_pmd_thp(kpf, pfn))
			*thp_pfn = pfn;
	}
	if (pagemap >= 0)
		close(pagemap);
	if (kpf >= 0)
		close(kpf);
	munmap(a, SHC_PMD);
	return err;
}

/* Let khugepaged see our VMAs (shmem_enabled=advise + MADV_HUGEPAGE) and scan fast. */
static int shc_thp_knobs(struct mmt_ctx *ctx, struct shc_priv *sp)
{
	char cur[64];
	int ret;

	if (!mmt_knob_read(THP_DIR "/shmem_enabled", cur, sizeof(cur)) &&
	    (!strcmp(cur, "never") || !strcmp(cur, "deny"))) {
		ret = mmt_knob_write(ctx, THP_DIR "/shmem_enabled", "advise");
		if (ret)
			return ret;
		mmt_note(ctx, "setup: shmem_enabled %s -> advise (restored after the run)", cur);
	}
	if (!mmt_knob_read(THP_DIR "/hugepages-2048kB/shmem_enabled", cur, sizeof(cur)) &&
	    !strcmp(cur, "never")) {
		ret = mmt_knob_write(ctx, THP_DIR "/hugepages-2048kB/shmem_enabled", "inherit");
		if (ret)
			return ret;
	}
	if (!sp->khugepaged)
		return 0;
	ret = mmt_knob_write_u64(ctx, KHP_DIR "/scan_sleep_millisecs", 10);
	if (!ret)
		ret = mmt_knob_write_u64(ctx, KHP_DIR "/alloc_sleep_millisecs", 10);
	if (!ret)
		ret = mmt_knob_write_u64(ctx, KHP_DIR "/pages_to_scan", 8192);
	return ret;
}

/* Does this kernel do uffd-wp on shmem?  Sets uffd_ok or uffd_why. */
static void shc_probe_uffd(struct shc_priv *sp)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_WP_HUGETLBFS_SHMEM };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_WP };
	char *a;
	int fd;

	fd = (int)syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		snprintf(sp->uffd_why, sizeof(sp->uffd_why), "userfaultfd(): %s", strerror(errno));
		return;
	}
	if (ioctl(fd, UFFDIO_API, &api)) {
		snprintf(sp->uffd_why, sizeof(sp->uffd_why),
			 "UFFDIO_API with UFFD_FEATURE_WP_HUGETLBFS_SHMEM: %s (no uffd-wp on shmem)",
			 strerror(errno));
		goto out_close;
	}
	a = shc_map_region0(sp->fd, false);
	if (!a) {
		snprintf(sp->uffd_why, sizeof(sp->uffd_why), "mmap of the memfd: %s",
			 strerror(errno));
		goto out_close;
	}
	reg.range.start = (uintptr_t)a;
	reg.range.len = SHC_PMD;
	if (ioctl(fd, UFFDIO_REGISTER, &reg))
		snprintf(sp->uffd_why, sizeof(sp->uffd_why),
			 "UFFDIO_REGISTER_MODE_WP on a memfd mapping: %s", strerror(errno));
	else
		sp->uffd_ok = true;
	munmap(a, SHC_PMD);
out_close:
	close(fd);
}

static int shc_fill(struct shc_priv *sp)
{
	char *buf = malloc(SHC_PMD);
	uint32_t r, i;
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	memset(buf, 0, SHC_PMD);
	for (r = 0; r < sp->nr_regions && !ret; r++) {
		size_t done = 0;

		for (i = 0; i < SHC_PPR; i++) {
			uint32_t p = r * SHC_PPR + i;

			shc_put(buf + (size_t)i * SHC_PAGE, shc_stamp(SHC_MAGIC, p, 1));
			sp->gen[p] = 1;
		}
		while (done < SHC_PMD) {
			ssize_t n = pwrite(sp->fd, buf + done, SHC_PMD - done,
					   (off_t)r * (off_t)SHC_PMD + (off_t)done);

			if (n <= 0) {
				ret = n < 0 ? -errno : -EIO;
				break;
			}
			done += (size_t)n;
		}
	}
	free(buf);
	return ret;
}

static int shc_setup(struct mmt_ctx *ctx)
{
	struct shc_priv *sp = mmt_priv(ctx);
	uint64_t pfn, v;
	int ret, err, st;
	bool kpf_ok;

	sp->fd = -1;
	sp->probe_region = -1;
	sp->size = mmt_param_size(ctx, "size");
	sp->contenders = (int)mmt_param_int(ctx, "contenders");
	sp->split_us = (int)mmt_param_int(ctx, "split_interval_us");
	sp->uffd_pages = (int)mmt_param_int(ctx, "uffd_pages");
	sp->khugepaged = mmt_param_bool(ctx, "khugepaged");
	sp->probe = mmt_param_bool(ctx, "probe");
	sp->probe_ms = (int)mmt_param_int(ctx, "probe_interval_ms");
	if (sp->size % SHC_PMD || sp->size < 4 * SHC_PMD || sp->size / SHC_PAGE > SHC_MAX_PAGES)
		return mmt_error(ctx, "size=%" PRIu64 ": must be a multiple of 2 MiB, 8 MiB to 4 GiB",
				 sp->size);
	if (mmt_nr_workers(ctx) < 1)
		return mmt_error(ctx, "needs at least one writer (-w 1)");
	sp->nr_writers = (uint32_t)mmt_nr_workers(ctx);
	sp->nr_pages = (uint32_t)(sp->size / SHC_PAGE);
	sp->nr_regions = sp->nr_pages / SHC_PPR;
	sp->tail_start = sp->nr_pages - SHC_TAIL_PAGES;

	sp->gen_len = (size_t)sp->nr_pages * sizeof(*sp->gen);
	sp->gen = mmap(NULL, sp->gen_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		       -1, 0);
	if (sp->gen == MAP_FAILED) {
		sp->gen = NULL;
		return mmt_error(ctx, "mmap of the generation table: %s", strerror(errno));
	}
	sp->fd = memfd_create("mmtorture-shmem-collapse", MFD_CLOEXEC);
	if (sp->fd < 0) {
		st = mmt_error(ctx, "memfd_create: %s", strerror(errno));
		goto out_unmap;
	}
	if (ftruncate(sp->fd, (off_t)sp->size)) {
		st = mmt_error(ctx, "ftruncate of the memfd to %" PRIu64 ": %s", sp->size,
			       strerror(errno));
		goto out_close;
	}
	ret = shc_fill(sp);
	if (ret) {
		st = mmt_error(ctx, "writing the initial stamps: %s", strerror(-ret));
		goto out_close;
	}

	err = shc_try_collapse(sp, false, &kpf_ok, &pfn);
	if (err == EINVAL) {
		/* older kernels want shmem THP allowed for MADV_COLLAPSE too */
		sp->khugepaged = true;
		ret = shc_thp_knobs(ctx, sp);
		if (ret) {
			st = mmt_error(ctx, "setting THP knobs: %s", strerror(-ret));
			goto out_close;
		}
		err = shc_try_collapse(sp, true, &kpf_ok, &pfn);
		if (err == EINVAL) {
			st = mmt_skip(ctx, "MADV_COLLAPSE on a memfd mapping fails with EINVAL in 10 tries even with shmem_enabled=advise and MADV_HUGEPAGE: this kernel cannot collapse shmem (needs Linux >= 6.1 with CONFIG_TRANSPARENT_HUGEPAGE and CONFIG_SHMEM)");
			goto out_close;
		}
	} else if (sp->khugepaged) {
		ret = shc_thp_knobs(ctx, sp);
		if (ret) {
			st = mmt_error(ctx, "setting THP knobs: %s", strerror(-ret));
			goto out_close;
		}
	}
	if (err)
		mmt_note(ctx, "setup: probe MADV_COLLAPSE of region 0 failed with %s (transient; the collapser retries)",
			 strerror(err));
	else if (pfn)
		mmt_note(ctx, "setup: proved MADV_COLLAPSE works on a memfd here: region 0 became a PMD-sized THP (head pfn 0x%" PRIx64 ", /proc/kpageflags)",
			 pfn);
	else if (kpf_ok)
		mmt_note(ctx, "setup: MADV_COLLAPSE of region 0 returned 0, but region 0 is not a PMD-sized THP right after (kpageflags)");
	sp->kpf_ok = kpf_ok;
	if (!sp->kpf_ok) {
		mmt_note(ctx, "setup: no PFNs from pagemap/kpageflags: new THPs are not proved and no PMD-mapped fraction is measured");
		sp->probe = false;
	}

	shc_probe_uffd(sp);
	if (!sp->uffd_ok)
		mmt_note(ctx, "setup: uffd role will skip: %s", sp->uffd_why);
	if (!mmt_knob_read_u64(KHP_DIR "/pages_collapsed", &v))
		sp->khp_collapsed0 = v;
	if (!mmt_knob_read_u64(KHP_DIR "/full_scans", &v))
		sp->khp_scans0 = v;
	mmt_note(ctx, "setup: memfd of %" PRIu64 " MiB = %u regions of 2 MiB, each its own PMD-aligned VMA in every mm; %u writers own most pages, the splitter page %u of each region and the last 1 MiB, the uffd role region %u",
		 sp->size >> 20, sp->nr_regions, sp->nr_writers, SHC_PUNCH_OFF, SHC_UFFD_REGION);
	sp->ready = true;
	return MMT_PASS;

out_close:
	close(sp->fd);
	sp->fd = -1;
out_unmap:
	munmap(sp->gen, sp->gen_len);
	sp->gen = NULL;
	return st;
}

/* ---------------------------------------------------------------- verify */

/* Every worker of role returned normally (not killed mid-write). */
static bool shc_role_clean(struct mmt_ctx *ctx, const char *role)
{
	struct mmt_slot *s;
	int i, n;

	s = mmt_role_slots(ctx, role, &n);
	for (i = 0; s && i < n; i++)
		if (!__atomic_load_n(&s[i].done, __ATOMIC_ACQUIRE))
			return false;
	return true;
}

static uint64_t shc_sum(struct mmt_ctx *ctx, const char *role, unsigned int m)
{
	struct mmt_slot *s;
	uint64_t sum = 0;
	int i, n;

	s = mmt_role_slots(ctx, role, &n);
	for (i = 0; s && i < n; i++)
		sum += s[i].ctr[m];
	return sum;
}

static void shc_notes(struct mmt_ctx *ctx, struct shc_priv *sp)
{
	uint64_t elig = 0, pmd = 0, elig_pte = 0, pmd_pte = 0, np = 0, npp = 0, nu = 0, nup = 0;
	uint64_t v, scans, t0 = 0;
	uint32_t i, n = __atomic_load_n(&sp->nr_probe_recs, __ATOMIC_ACQUIRE), used = 0;
	uint64_t t_stop = __atomic_load_n(&sp->t_stop, __ATOMIC_ACQUIRE);
	uint64_t measured = (uint64_t)(mmt_duration(ctx) * 1e9);

	/* like the runner's samples: probes of the warm-up are left out */
	if (t_stop > measured)
		t0 = t_stop - measured;
	for (i = 0; i < n; i++) {
		const struct shc_probe_rec *pr = &sp->probe_rec[i];

		if (pr->t < t0)
			continue;
		used++;
		if (pr->elig) {
			mmt_gauge(ctx, M_PMD_FRAC, (double)pr->pmd / pr->elig);
			elig += pr->elig;
			pmd += pr->pmd;
			elig_pte += pr->elig_pte;
			pmd_pte += pr->pmd_pte;
		}
		if (pr->flags & PR_PRIV) {
			mmt_gauge(ctx, M_PMD_PRIV, pr->flags & PR_PRIV_PMD ? 1.0 : 0.0);
			np++;
			npp += !!(pr->flags & PR_PRIV_PMD);
		}
		if (pr->flags & PR_UFFD) {
			mmt_gauge(ctx, M_PMD_UFFD, pr->flags & PR_UFFD_PMD ? 1.0 : 0.0);
			nu++;
			nup += !!(pr->flags & PR_UFFD_PMD);
		}
	}
	mmt_note(ctx, "collapse (whole run, warm-up included): %" PRIu64 " MADV_COLLAPSE calls, %" PRIu64 " ok, %" PRIu64 " EAGAIN, %" PRIu64 " EINVAL, %" PRIu64 " ENOMEM, %" PRIu64 " other; proved: %" PRIu64 " of them made a new PMD-sized THP (new head pfn in /proc/kpageflags)",
		 shc_sum(ctx, "collapser", M_COLLAPSE), shc_sum(ctx, "collapser", M_OK),
		 shc_sum(ctx, "collapser", M_EAGAIN), shc_sum(ctx, "collapser", M_EINVAL),
		 shc_sum(ctx, "collapser", M_ENOMEM), shc_sum(ctx, "collapser", M_OTHER),
		 shc_sum(ctx, "collapser", M_NEW_THP));
	if (sp->probe) {
		mmt_note(ctx, "pmd_mapped_fraction: after a new THP (at most one probe per probe_interval_ms) every mm read the region's first page again (a fault), then smaps of the region's VMA was read (ShmemPmdMapped 2048 kB = PMD-mapped); in the %u probes of the measured time %" PRIu64 " of %" PRIu64 " MAP_SHARED mm observations were PMD-mapped (%.3f)",
			 used, pmd, elig, elig ? (double)pmd / (double)elig : 0.0);
		mmt_note(ctx, "proved: %" PRIu64 " of %" PRIu64 " observations of mms that had the region PTE-mapped just before the collapse (smaps Rss > 0, ShmemPmdMapped 0) map it by PMD after the re-touch, so retract_page_tables() freed their PTE tables",
			 pmd_pte, elig_pte);
		for (i = 0; i < sp->nr_misses; i++) {
			static const char *const st[] = { "split VMA", "unmapped", "PTE-mapped",
							  "PMD-mapped" };
			const struct shc_miss *ms = &sp->misses[i];

			mmt_note(ctx, "not PMD-mapped after the re-touch: %s[%d] (pid %d), region %u: %s before the collapse, %s after",
				 ms->role, ms->index, (int)ms->pid, ms->region, st[ms->before + 1],
				 st[ms->after + 1]);
		}
		mmt_note(ctx, "probes, whole run: %" PRIu64 " observations of VMAs split by mprotect or zapped after the re-touch and %" PRIu64 " of mms slower than %llu ms left out, %" PRIu64 " probes discarded (a punch split the THP meanwhile)",
			 sp->unfit, sp->late, SHC_PROBE_WAIT_NS / 1000000ull,
			 shc_sum(ctx, "collapser", M_PROBE_DISCARD));
	}
	if (np)
		mmt_note(ctx, "pmd_mapped_private: the written MAP_PRIVATE mm (anon_vma, skipped by retract_page_tables) was PMD-mapped in %" PRIu64 " of %" PRIu64 " probes",
			 npp, np);
	if (nu)
		mmt_note(ctx, "pmd_mapped_uffd_wp: the uffd-wp mm on its armed region (skipped by retract_page_tables) was PMD-mapped in %" PRIu64 " of %" PRIu64 " probes",
			 nup, nu);
	if (sp->uffd_ok)
		mmt_note(ctx, "uffd-wp: %" PRIu64 " writes to write-protected pages, each raised a WP fault resolved by the handler; %" PRIu64 " protect rounds had the region collapsed while protected; %" PRIu64 " extra faults",
			 shc_sum(ctx, "uffd", M_UFFD_WRITES), shc_sum(ctx, "uffd", M_UFFD_RACED),
			 shc_sum(ctx, "uffd", M_UFFD_EXTRA));
	mmt_note(ctx, "splitter: %" PRIu64 " mprotect splits, %" PRIu64 " punch-holes, %" PRIu64 " truncate down/up, each followed by a check that the hole reads zero",
		 shc_sum(ctx, "splitter", M_MPROTECT), shc_sum(ctx, "splitter", M_PUNCH),
		 shc_sum(ctx, "splitter", M_TRUNC));
	if (sp->khugepaged && !mmt_knob_read_u64(KHP_DIR "/pages_collapsed", &v) &&
	    !mmt_knob_read_u64(KHP_DIR "/full_scans", &scans))
		mmt_note(ctx, "khugepaged (scan_sleep 10 ms): pages_collapsed +%" PRIu64 ", full_scans +%" PRIu64 " during the run (system-wide counters)",
			 v - sp->khp_collapsed0, scans - sp->khp_scans0);
}

static int shc_verify(struct mmt_ctx *ctx)
{
	struct shc_priv *sp = mmt_priv(ctx);
	bool clean_w = shc_role_clean(ctx, "writer");
	bool clean_s = shc_role_clean(ctx, "splitter");
	bool clean_u = shc_role_clean(ctx, "uffd");
	char first[MMT_REASON_LEN] = "";
	uint32_t r, i, nbad = 0;
	struct stat stt;
	char *buf;

	if (!sp->ready)
		return MMT_PASS;
	shc_notes(ctx, sp);
	if (fstat(sp->fd, &stt))
		return mmt_error(ctx, "fstat of the memfd: %s", strerror(errno));
	if ((uint64_t)stt.st_size != sp->size && clean_s)
		return mmt_fail_ctx(ctx, "final check: memfd size is %lld, expected %" PRIu64,
				    (long long)stt.st_size, sp->size);
	buf = malloc(SHC_PMD);
	if (!buf)
		return mmt_error(ctx, "out of memory");
	for (r = 0; r < sp->nr_regions; r++) {
		ssize_t n = pread(sp->fd, buf, SHC_PMD, (off_t)r * (off_t)SHC_PMD);

		if (n < 0) {
			free(buf);
			return mmt_error(ctx, "pread of the memfd: %s", strerror(errno));
		}
		if (n < (ssize_t)SHC_PMD)
			memset(buf + n, 0, SHC_PMD - (size_t)n);
		for (i = 0; i < SHC_PPR; i++) {
			uint32_t p = r * SHC_PPR + i, g = sp->gen[p];
			int owner = shc_owner(sp, p);
			bool clean = owner >= 0 ? clean_w :
				     owner == SHC_OWN_SPLIT ? clean_s : clean_u;
			char *page = buf + (size_t)i * SHC_PAGE;
			struct shc_bad b;
			bool ok;

			if (clean) {
				ok = !(g & SHC_BUSY) &&
				     shc_check_exact(page, shc_stamp(SHC_MAGIC, p, g), &b);
			} else {
				ok = shc_check_shared(sp, p, page, &b) != SHC_BAD;
			}
			if (ok)
				continue;
			if (!nbad++) {
				if (g & SHC_BUSY)
					snprintf(first, sizeof(first),
						 "page %u: generation word left busy (0x%x)", p, g);
				else
					shc_bad_text(first, sizeof(first), "pread", p, page, &b);
			}
		}
	}
	free(buf);
	if (nbad)
		return mmt_fail_ctx(ctx, "final check: %u of %u pages of the memfd are wrong; first: %s",
				    nbad, sp->nr_pages, first);
	mmt_note(ctx, "final check: all %u pages of the memfd hold the stamp their owner last published (pread)",
		 sp->nr_pages);
	return MMT_PASS;
}

static void shc_teardown(struct mmt_ctx *ctx)
{
	struct shc_priv *sp = mmt_priv(ctx);

	if (!sp->ready)
		return;
	close(sp->fd);
	sp->fd = -1;
	munmap(sp->gen, sp->gen_len);
	sp->gen = NULL;
	sp->ready = false;
}

/* ------------------------------------------------------------ the workload */

static const struct mmt_param shc_params[] = {
	{ "size", MMT_P_SIZE, "64m", "memfd size: a multiple of 2 MiB, at least 8 MiB",
	  8ll << 20, 4ll << 30, NULL },
	{ "contenders", MMT_P_INT, "1",
	  "mmap_lock contender threads (mmap/munmap loop) in each writer and reader process",
	  0, 8, NULL },
	{ "split_interval_us", MMT_P_INT, "1000", "pause of the splitter between operations",
	  0, 1000000, NULL },
	{ "uffd_pages", MMT_P_INT, "32", "pages write-protected and written per uffd-wp round",
	  1, 511, NULL },
	{ "khugepaged", MMT_P_BOOL, "on",
	  "khugepaged collapses too: shmem_enabled=advise, MADV_HUGEPAGE, 10 ms scans", 0, 0,
	  NULL },
	{ "probe", MMT_P_BOOL, "on",
	  "after a new THP measure in smaps which mms map it by PMD", 0, 0, NULL },
	{ "probe_interval_ms", MMT_P_INT, "100",
	  "at most one PMD-mapping probe per interval (a probe stalls the collapser), 0: every THP",
	  0, 10000, NULL },
	{ 0 }
};

static const struct mmt_metric shc_metrics[] = {
	[M_COLLAPSE] = { "collapse", "calls/s", MMT_RATE, MMT_BETTER_DEFAULT,
			 "MADV_COLLAPSE calls on 2 MiB ranges that were not a THP (EAGAIN retries included)",
			 MMT_METRIC_HEADLINE },
	[M_COLLAPSE_LAT] = { "collapse_latency", "ns", MMT_LATENCY, MMT_BETTER_DEFAULT,
			     "duration of one MADV_COLLAPSE call", MMT_METRIC_HEADLINE },
	[M_OK] = { "collapse_ok", "calls", MMT_TOTAL, MMT_BETTER_NONE, "MADV_COLLAPSE returned 0" },
	[M_EAGAIN] = { "collapse_eagain", "calls", MMT_TOTAL, MMT_BETTER_NONE,
		       "MADV_COLLAPSE failed with EAGAIN" },
	[M_EINVAL] = { "collapse_einval", "calls", MMT_TOTAL, MMT_BETTER_NONE,
		       "MADV_COLLAPSE failed with EINVAL" },
	[M_ENOMEM] = { "collapse_enomem", "calls", MMT_TOTAL, MMT_BETTER_NONE,
		       "MADV_COLLAPSE failed with ENOMEM" },
	[M_OTHER] = { "collapse_other", "calls", MMT_TOTAL, MMT_BETTER_NONE,
		      "MADV_COLLAPSE failed with another errno" },
	[M_NEW_THP] = { "collapse_new_thp", "collapses", MMT_TOTAL, MMT_BETTER_DEFAULT,
			"successful calls after which the range is a new PMD-sized THP (kpageflags), checked at once" },
	[M_ALREADY] = { "collapse_already_thp", "regions", MMT_TOTAL, MMT_BETTER_NONE,
			"ranges found already a THP and not collapsed" },
	[M_PMD_FRAC] = { "pmd_mapped_fraction", "fraction", MMT_GAUGE, MMT_BETTER_HIGHER,
			 "per probed new THP: MAP_SHARED mms mapping it by PMD after touching it again (smaps)" },
	[M_PMD_PRIV] = { "pmd_mapped_private", "fraction", MMT_GAUGE, MMT_BETTER_NONE,
			 "per probed new THP: the written MAP_PRIVATE mm maps it by PMD (expected 0)" },
	[M_PMD_UFFD] = { "pmd_mapped_uffd_wp", "fraction", MMT_GAUGE, MMT_BETTER_NONE,
			 "per probed new THP of the armed region: the uffd-wp mm maps it by PMD (expected 0)" },
	[M_PROBES] = { "probes", "probes", MMT_TOTAL, MMT_BETTER_NONE,
		       "PMD-mapping measurements taken" },
	[M_PROBE_DISCARD] = { "probes_discarded", "probes", MMT_TOTAL, MMT_BETTER_NONE,
			      "measurements dropped because the THP was split meanwhile" },
	[M_WRITES] = { "writes", "pages/s", MMT_RATE, MMT_BETTER_DEFAULT,
		       "pages checked and rewritten by their owning writer" },
	[M_READS] = { "reads", "pages/s", MMT_RATE, MMT_BETTER_DEFAULT,
		      "pages checked by readers in other mms" },
	[M_UNSURE] = { "reads_unsure", "pages", MMT_TOTAL, MMT_BETTER_NONE,
		       "reader checks inconclusive because the owner rewrote the page meanwhile" },
	[M_MPROTECT] = { "split_mprotect", "ops/s", MMT_RATE, MMT_BETTER_DEFAULT,
			 "4 KiB mprotect splits of a region VMA" },
	[M_PUNCH] = { "split_punch", "ops/s", MMT_RATE, MMT_BETTER_DEFAULT,
		      "punch-hole + zero check + rewrite of one page" },
	[M_TRUNC] = { "split_truncate", "ops/s", MMT_RATE, MMT_BETTER_DEFAULT,
		      "ftruncate of the last 1 MiB down and up + zero check + rewrite" },
	[M_COW] = { "private_cow", "pages/s", MMT_RATE, MMT_BETTER_DEFAULT,
		    "private COW writes to the MAP_PRIVATE mapping" },
	[M_DROP] = { "private_drop", "ops/s", MMT_RATE, MMT_BETTER_DEFAULT,
		     "MADV_DONTNEED of a private 2 MiB region + check it shows the file again" },
	[M_UFFD_WRITES] = { "uffd_wp_writes", "writes/s", MMT_RATE, MMT_BETTER_DEFAULT,
			    "writes to write-protected pages, each faulted and resolved" },
	[M_UFFD_LAT] = { "uffd_wp_fault_latency", "ns", MMT_LATENCY, MMT_BETTER_DEFAULT,
			 "a protected write: fault, handler, UFFDIO_WRITEPROTECT clear, retry" },
	[M_UFFD_RACED] = { "uffd_wp_raced", "rounds", MMT_TOTAL, MMT_BETTER_NONE,
			   "protect rounds during which the armed region was collapsed" },
	[M_UFFD_EXTRA] = { "uffd_wp_extra_faults", "faults", MMT_TOTAL, MMT_BETTER_NONE,
			   "WP faults on a page already resolved in the same round" },
	[M_MMAP] = { "mmap_munmap", "ops/s", MMT_RATE, MMT_BETTER_DEFAULT,
		     "mmap_lock contender mmap+munmap cycles" },
	[M_ROGUE] = { "rogue_writes", "writes", MMT_TOTAL, MMT_BETTER_NONE,
		      "wrong stamps written by the injected rogue" },
	[M_NR] = { 0 }
};

static const struct mmt_role shc_roles[] = {
	{ "collapser", shc_collapser, MMT_PROCESS, 1, 0 },
	{ "writer", shc_writer, MMT_PROCESS, MMT_SCALED, 0 },
	{ "reader", shc_reader, MMT_PROCESS, 2, 0 },
	{ "splitter", shc_splitter, MMT_PROCESS, 1, 0 },
	{ "private", shc_private, MMT_PROCESS, 1, 0 },
	{ "uffd", shc_uffd, MMT_PROCESS, 1, 0 },
	{ "rogue", shc_rogue, MMT_PROCESS, 1, MMT_ROLE_INJECT_CORRUPT },
	{ 0 }
};

static const struct mmt_workload shmem_collapse = {
	.name = "shmem-collapse",
	.summary = "MADV_COLLAPSE/khugepaged on a shared memfd vs faults, splits, anon_vma, uffd-wp",
	.suite = "quick",
	.needs = MMT_NEED_ROOT | MMT_NEED_THP,
	.injects = MMT_INJECT_CORRUPT,
	.default_workers = 2,
	.params = shc_params,
	.metrics = shc_metrics,
	.roles = shc_roles,
	.priv_size = sizeof(struct shc_priv),
	.setup = shc_setup,
	.verify = shc_verify,
	.teardown = shc_teardown,
};

MMT_REGISTER(shmem_collapse);
