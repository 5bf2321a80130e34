/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmtorture.h - the workload interface.
 *
 * A workload is one struct mmt_workload in its own file under workloads/,
 * registered with MMT_REGISTER(); there is no central list.  The runner owns
 * workers, the start gate, warm-up, sampling, the stop flag, reaping, the
 * kernel-log watch, system-state save/restore and the result record.  A
 * workload supplies parameters, metrics, roles and setup/verify/teardown.
 *
 * Conventions: functions that act return 0 or -errno; role functions and
 * setup/verify return an enum mmt_status.
 */
#ifndef MMTORTURE_H
#define MMTORTURE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* Exit codes, everywhere (meson's conventions). */
enum mmt_status {
	MMT_PASS = 0,
	MMT_FAIL = 1,	/* the kernel misbehaved */
	MMT_SKIP = 77,	/* this machine cannot run it; always with a reason */
	MMT_ERROR = 99,	/* bad usage or a harness/workload bug */
};

/* What a workload needs from the machine (checked before setup). */
enum mmt_need {
	MMT_NEED_ROOT = 1u << 0,
	MMT_NEED_HUGETLB = 1u << 1,	/* 2 MiB hugetlb pages can be configured */
	MMT_NEED_IO_URING = 1u << 2,
	MMT_NEED_HOTPLUG = 1u << 3,	/* memory blocks under /sys/devices/system/memory */
	MMT_NEED_DEBUGFS = 1u << 4,
	MMT_NEED_DESTRUCTIVE = 1u << 5,	/* only with --allow-destructive / MMT_DESTRUCTIVE=1 */
	MMT_NEED_THP = 1u << 6,
	MMT_NEED_USERFAULTFD = 1u << 7,
};

/* Fault injections a workload may support (--inject MODE). */
enum mmt_inject {
	MMT_INJECT_NONE = 0,
	MMT_INJECT_CORRUPT = 1u << 0,	/* a rogue writer; workload-specific role */
	MMT_INJECT_SPLAT = 1u << 1,	/* fake splat line to /dev/kmsg; done by the runner */
};

enum mmt_metric_kind {
	MMT_RATE,	/* per-worker counter, sampled once a second as a rate (unit "x/s") */
	MMT_LATENCY,	/* per-worker histogram of nanoseconds: p50/p90/p99/max */
	MMT_GAUGE,	/* values reported by the parent (mmt_gauge) or workers (mmt_gauge_w) */
	MMT_TOTAL,	/* per-worker counter summed over the whole measured run */
};

enum mmt_better {
	MMT_BETTER_DEFAULT,	/* rates and totals: higher; latency: lower; gauges: none */
	MMT_BETTER_HIGHER,
	MMT_BETTER_LOWER,
	MMT_BETTER_NONE,
};

enum mmt_metric_flag {
	/*
	 * A headline metric: what the workload is for.  A nightly verdict pages on
	 * a regression of a headline metric only (and on status changes and new
	 * splats); the other metrics are shown, judged, and do not page.  A
	 * workload with no headline metric has its main metric ([0]) as headline.
	 */
	MMT_METRIC_HEADLINE = 1u << 0,
};

struct mmt_metric {
	const char *name;	/* snake_case, unique within the workload */
	const char *unit;	/* "cycles/s", "ns", "kB", "fraction", ... */
	enum mmt_metric_kind kind;
	enum mmt_better better;
	const char *help;
	unsigned int flags;	/* enum mmt_metric_flag */
};

#define MMT_MAX_METRICS 64

enum mmt_param_type {
	MMT_P_INT,	/* integer in [min, max] */
	MMT_P_SIZE,	/* bytes; accepts k/m/g suffixes */
	MMT_P_BOOL,	/* 0/1/yes/no/true/false/on/off */
	MMT_P_CHOICE,	/* one of choices, "a|b|c" */
	MMT_P_STR,
};

struct mmt_param {
	const char *name;
	enum mmt_param_type type;
	const char *def;	/* default, as text */
	const char *help;
	long long min, max;	/* INT/SIZE bounds (both 0: any value >= 0) */
	const char *choices;	/* CHOICE only */
};

struct mmt_worker;
struct mmt_ctx;

enum mmt_role_kind {
	MMT_PROCESS,	/* each worker its own process (own mm), forked after setup */
	MMT_THREAD,	/* all thread workers of a workload share one host process (one mm) */
};

#define MMT_SCALED (-1)	/* role count = the run's --workers value */

enum mmt_role_flag {
	MMT_ROLE_INJECT_CORRUPT = 1u << 0,	/* started only with --inject corrupt */
};

struct mmt_role {
	const char *name;
	int (*run)(struct mmt_worker *w);	/* loop while mmt_running(w); return mmt_status */
	enum mmt_role_kind kind;
	int count;		/* workers of this role, or MMT_SCALED */
	unsigned int flags;
};

struct mmt_workload {
	const char *name;	/* == file stem == meson test name */
	const char *summary;	/* one line */
	const char *suite;	/* "quick" or "destructive" */
	unsigned int needs;	/* enum mmt_need */
	unsigned int injects;	/* enum mmt_inject supported beyond splat */
	int default_workers;	/* for MMT_SCALED roles when -w is not given */
	const struct mmt_param *params;		/* {} terminated, may be NULL */
	const struct mmt_metric *metrics;	/* {} terminated; [0] is the main metric */
	const struct mmt_role *roles;		/* {} terminated */
	size_t priv_size;	/* shared (MAP_SHARED) private state, zeroed, see mmt_priv() */
	int (*setup)(struct mmt_ctx *ctx);	/* parent, once per repeat: PASS, SKIP or ERROR */
	int (*verify)(struct mmt_ctx *ctx);	/* parent, after workers stopped: PASS or FAIL */
	void (*teardown)(struct mmt_ctx *ctx);	/* parent, always after a setup that ran */
};

#define MMT_REGISTER(wl)						\
	static const struct mmt_workload *const mmt_reg_##wl		\
	__attribute__((used, section("mmt_workloads"), aligned(sizeof(void *)))) = &(wl)

/* ---- per-worker shared slot: cache-line separated, one writer each ---- */

#define MMT_PUB_WORDS 8
#define MMT_REASON_LEN 480

struct mmt_slot {
	uint64_t ctr[MMT_MAX_METRICS];	/* counters (rate/total), bit-cast doubles (gauge) */
	uint64_t gauge_set;		/* bit per metric: worker gauge was set */
	pid_t pid;			/* the worker's process (or host process for threads) */
	pid_t tid;
	int32_t status;			/* the role function's result once it returned */
	uint32_t done;
	uint64_t pub[MMT_PUB_WORDS];	/* workload-defined values for race partners */
	char reason[MMT_REASON_LEN];	/* first failure / skip reason */
} __attribute__((aligned(64)));

/* Latency histogram: log-linear, 16 sub-buckets per power of two (~6 %). */
#define MMT_HIST_SUB_BITS 4
#define MMT_HIST_BUCKETS ((64 - MMT_HIST_SUB_BITS + 1) << MMT_HIST_SUB_BITS)

struct mmt_hist {
	uint64_t count;
	uint64_t sum;
	uint64_t max;
	uint64_t bucket[MMT_HIST_BUCKETS];
} __attribute__((aligned(64)));

struct mmt_worker {
	struct mmt_ctx *ctx;
	const struct mmt_role *role;
	int index;		/* index within its role */
	int id;			/* index among all workers of the run */
	int nr_role;		/* workers of this role */
	struct mmt_slot *slot;	/* this worker's slot (shared with the parent) */
	struct mmt_hist **hist;	/* [metric] -> histogram, NULL for non-latency metrics */
	const volatile int *stop;
	void *priv;		/* the workload's shared private state */
	uint64_t seed;		/* distinct per worker and repeat */
};

static inline bool mmt_running(const struct mmt_worker *w)
{
	return !__atomic_load_n(w->stop, __ATOMIC_RELAXED);
}

/* Counters: single writer per slot, so a relaxed store is enough. */
static inline void mmt_add(struct mmt_worker *w, unsigned int metric, uint64_t n)
{
	uint64_t *c = &w->slot->ctr[metric];

	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED);
}

static inline unsigned int mmt_hist_bucket(uint64_t v)
{
	unsigned int msb;

	if (v < (1u << MMT_HIST_SUB_BITS))
		return (unsigned int)v;
	msb = 63 - (unsigned int)__builtin_clzll(v);
	return ((msb - MMT_HIST_SUB_BITS + 1) << MMT_HIST_SUB_BITS) |
	       (unsigned int)((v >> (msb - MMT_HIST_SUB_BITS)) &
			      ((1u << MMT_HIST_SUB_BITS) - 1));
}

/* Record one latency sample (ns) into a MMT_LATENCY metric. */
static inline void mmt_latency(struct mmt_worker *w, unsigned int metric, uint64_t ns)
{
	struct mmt_hist *h = w->hist[metric];
	uint64_t *b;

	if (!h)
		return;
	b = &h->bucket[mmt_hist_bucket(ns)];
	__atomic_store_n(b, *b + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&h->sum, h->sum + ns, __ATOMIC_RELAXED);
	if (ns > h->max)
		__atomic_store_n(&h->max, ns, __ATOMIC_RELAXED);
	__atomic_store_n(&h->count, h->count + 1, __ATOMIC_RELEASE);
}

static inline uint64_t mmt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: cheap per-worker randomness; seed from w->seed. */
static inline uint64_t mmt_rand(uint64_t *state)
{
	uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ull;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* ---- worker-side helpers ---- */

/* Record the failure reason (first one wins), print it, return MMT_FAIL. */
int mmt_fail(struct mmt_worker *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* This role cannot run here: record why, return MMT_SKIP (not a workload skip). */
int mmt_role_skip(struct mmt_worker *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A harness/workload error (not the kernel's fault): record, return MMT_ERROR. */
int mmt_werror(struct mmt_worker *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Worker-side gauge: each worker that sets it contributes one value. */
void mmt_gauge_w(struct mmt_worker *w, unsigned int metric, double value);
/* Sleep up to ns, returning early (false) once the run is stopping. */
bool mmt_sleep(struct mmt_worker *w, uint64_t ns);

/* The slots of another role's workers (race partners); NULL if no such role. */
struct mmt_slot *mmt_role_slots(struct mmt_ctx *ctx, const char *role, int *nr);

/* ---- context accessors (parent and workers) ---- */

void *mmt_priv(struct mmt_ctx *ctx);
const struct mmt_workload *mmt_workload_of(struct mmt_ctx *ctx);
int mmt_nr_workers(struct mmt_ctx *ctx);	/* the --workers value */
double mmt_duration(struct mmt_ctx *ctx);	/* measured seconds */
double mmt_warmup(struct mmt_ctx *ctx);		/* warm-up seconds before measuring starts */
bool mmt_injecting(struct mmt_ctx *ctx, enum mmt_inject mode);
int mmt_mem_node(struct mmt_ctx *ctx);		/* -1 when not bound */
const char *mmt_tmpdir(struct mmt_ctx *ctx);	/* private temp dir, removed after the run */

long long mmt_param_int(struct mmt_ctx *ctx, const char *name);
uint64_t mmt_param_size(struct mmt_ctx *ctx, const char *name);
bool mmt_param_bool(struct mmt_ctx *ctx, const char *name);
const char *mmt_param_str(struct mmt_ctx *ctx, const char *name);

/* ---- parent-side helpers (setup / verify / teardown) ---- */

/* Return MMT_SKIP with a reason (setup) / MMT_FAIL (verify) / MMT_ERROR. */
int mmt_skip(struct mmt_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int mmt_fail_ctx(struct mmt_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int mmt_error(struct mmt_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Free-text facts for the record ("proved: 8 of 8 mms PMD-mapped"). */
void mmt_note(struct mmt_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append one value to a MMT_GAUGE metric. */
void mmt_gauge(struct mmt_ctx *ctx, unsigned int metric, double value);

/*
 * System state.  Every knob written through these is saved first (state
 * file, fsync'd) and restored after the workload, on error, on SIGINT/SIGTERM
 * and by `mmtorture restore` after a crash.  Returns 0 or -errno.
 */
int mmt_knob_write(struct mmt_ctx *ctx, const char *path, const char *value);
int mmt_knob_write_u64(struct mmt_ctx *ctx, const char *path, uint64_t value);
/* Read a knob; "always [madvise] never" reads as "madvise".  0 or -errno. */
int mmt_knob_read(const char *path, char *buf, size_t len);
/* The same for a knob's text already read (NUL-terminated; changed in place) */
int mmt_knob_parse(char *raw, char *buf, size_t len);
int mmt_knob_read_u64(const char *path, uint64_t *value);
/*
 * Make at least `pages` more 2 MiB hugetlb pages available (on the --mem-node
 * node when bound).  Returns the number of free pages now available or -errno.
 */
long mmt_hugetlb_reserve(struct mmt_ctx *ctx, unsigned long pages);
/* The same on one node, whatever --mem-node says (-1: the global pool). */
long mmt_hugetlb_reserve_node(struct mmt_ctx *ctx, int node, unsigned long pages);
/* Mount fstype (e.g. "hugetlbfs") on a fresh directory; unmounted on restore. */
int mmt_mount_tmp(struct mmt_ctx *ctx, const char *fstype, const char *options,
		  char *path, size_t len);
/*
 * Save memory block N (/sys/devices/system/memory/memoryN) as online, in its
 * current zone, before a workload offlines it: restore onlines it again
 * (online_movable / online_kernel as it was, plain "online" if the kernel
 * refuses that zone).  Parent only, in setup; workers may then write the
 * block's state file directly.  Likewise a knob saved with mmt_knob_write()
 * in setup may be rewritten by workers with plain writes: restore puts back
 * the value saved first.  0 or -errno (-EBUSY if the block is not online).
 */
int mmt_memblock_save(struct mmt_ctx *ctx, int block);

/* ---- small utilities shared by workloads and harness ---- */

/* Read a whole (small) file into buf, NUL-terminated.  Bytes read or -errno. */
ssize_t mmt_read_file(const char *path, char *buf, size_t len);
/* A "Key:   123 kB" field of /proc/PID/status, smaps_rollup, meminfo; -1 if absent. */
long long mmt_proc_field_kb(const char *path, const char *key);
/* Move the whole buffer, retrying EINTR and short transfers; 0, -errno, or -EIO at EOF. */
int mmt_pread_full(int fd, void *buf, size_t len, off_t off);
int mmt_pwrite_full(int fd, const void *buf, size_t len, off_t off);
int mmt_write_full(int fd, const void *buf, size_t len);
/*
 * Write value to a (sysfs) file that may block, giving up after timeout_ms
 * (SIGALRM, no SA_RESTART; the caller's SIGALRM handler and mask are kept).
 * 0, -ETIME on timeout, or -errno.  Not for workers that use SIGALRM themselves
 * at the same time.
 */
int mmt_write_timeout(const char *path, const char *value, unsigned int timeout_ms);

#endif /* MMTORTURE_H */
