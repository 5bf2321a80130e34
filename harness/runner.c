// SPDX-License-Identifier: GPL-2.0
/*
 * runner.c - runs workloads: workers, start gate, warm-up, one sample per
 * second per metric, stop flag, reaping with a grace period then SIGKILL,
 * worst-status-wins folding, the kernel-log watch, and the result record.
 *
 * Shared area (MAP_SHARED | MAP_ANONYMOUS, created before any fork):
 *   struct mmt_ctl | slots[nr_workers] | hists[nr_workers][nr_hist] | priv
 * Each worker writes only its own slot and histograms (cache-line aligned),
 * with relaxed stores; the parent reads them once a second.  The workers'
 * hot path has no locks and no syscalls of the harness's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <numa.h>

#include "internal.h"
#include "numamatrix.h"

extern const struct mmt_workload *const __start_mmt_workloads[] __attribute__((weak));
extern const struct mmt_workload *const __stop_mmt_workloads[] __attribute__((weak));

#define MMT_MAX_PARAMS 64

struct mmt_ctl {
	int stop;
} __attribute__((aligned(64)));

struct mmt_proc {
	pid_t pid;
	int first, nr;		/* workers it hosts */
	bool host;		/* thread host */
	bool reaped, killed, dstate;
	int wstatus;
};

struct mmt_ctx {
	const struct mmt_workload *wl;
	const struct mmt_run_opts *o;
	int nr_metrics;
	int hist_of[MMT_MAX_METRICS];
	int nr_hist;
	const char *pval[MMT_MAX_PARAMS];
	int nr_params;
	int workers;		/* the --workers value in effect */
	int nr_workers;
	int *role_of, *index_of, *nr_of_role;
	void *shm;
	size_t shm_len;
	struct mmt_ctl *ctl;
	struct mmt_slot *slots;
	struct mmt_hist *hists;
	void *priv;
	char tmpdir[PATH_MAX];
	int status;
	char reason[1024];
	json_t *notes;
	json_t *gauges[MMT_MAX_METRICS];
	pid_t parent;
	uint64_t seed;
	int gate_r;
	int mounts;
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

/* ---------------------------------------------------------------- registry */

const struct mmt_workload *const *mmt_workloads(size_t *nr)
{
	if (!__start_mmt_workloads || !__stop_mmt_workloads) {
		*nr = 0;
		return NULL;
	}
	*nr = (size_t)(__stop_mmt_workloads - __start_mmt_workloads);
	return __start_mmt_workloads;
}

const struct mmt_workload *mmt_find_workload(const char *name)
{
	const struct mmt_workload *const *w;
	size_t n, i;

	w = mmt_workloads(&n);
	for (i = 0; i < n; i++)
		if (!strcmp(w[i]->name, name))
			return w[i];
	return NULL;
}

const char *mmt_status_name(int status)
{
	switch (status) {
	case MMT_PASS:
		return "PASS";
	case MMT_FAIL:
		return "FAIL";
	case MMT_SKIP:
		return "SKIP";
	case MMT_XFAIL:
		return "XFAIL";
	default:
		return "ERROR";
	}
}

static int severity(int s)
{
	switch (s) {
	case MMT_PASS:
		return 0;
	case MMT_XFAIL:
		return 1;
	case MMT_SKIP:
		return 2;
	case MMT_FAIL:
		return 4;
	default:
		return 3;
	}
}

/* Worst status wins: FAIL > ERROR > SKIP > XFAIL > PASS. */
int mmt_worse(int a, int b)
{
	return severity(b) > severity(a) ? b : a;
}

static bool hugetlb_usable(char *why, size_t len)
{
	if (access("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", F_OK)) {
		snprintf(why, len, "no 2 MiB hugetlb pages in this kernel (CONFIG_HUGETLBFS)");
		return false;
	}
	return true;
}

const char *mmt_cannot_run(const struct mmt_workload *wl, bool destructive_ok,
			   char *buf, size_t len)
{
	char v[64];

	if ((wl->needs & MMT_NEED_ROOT) && geteuid() != 0) {
		snprintf(buf, len, "needs root (it changes sysctls and sysfs knobs)");
		return buf;
	}
	if ((wl->needs & MMT_NEED_HUGETLB) && !hugetlb_usable(buf, len))
		return buf;
	if ((wl->needs & MMT_NEED_THP) &&
	    access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK)) {
		snprintf(buf, len, "no transparent hugepages in this kernel (CONFIG_TRANSPARENT_HUGEPAGE)");
		return buf;
	}
	if ((wl->needs & MMT_NEED_IO_URING) &&
	    !mmt_knob_read("/proc/sys/kernel/io_uring_disabled", v, sizeof(v)) &&
	    strcmp(v, "0")) {
		snprintf(buf, len, "io_uring is disabled (kernel.io_uring_disabled=%s)", v);
		return buf;
	}
	if ((wl->needs & MMT_NEED_USERFAULTFD) && access("/proc/sys/vm/unprivileged_userfaultfd", F_OK) &&
	    access("/dev/userfaultfd", F_OK)) {
		snprintf(buf, len, "no userfaultfd in this kernel (CONFIG_USERFAULTFD)");
		return buf;
	}
	if ((wl->needs & MMT_NEED_HOTPLUG) && access("/sys/devices/system/memory/block_size_bytes", F_OK)) {
		snprintf(buf, len, "no memory hotplug in this kernel (/sys/devices/system/memory)");
		return buf;
	}
	if ((wl->needs & MMT_NEED_DEBUGFS) && access("/sys/kernel/debug", F_OK)) {
		snprintf(buf, len, "debugfs is not available at /sys/kernel/debug");
		return buf;
	}
	if ((wl->needs & MMT_NEED_DESTRUCTIVE) && !destructive_ok) {
		const char *e = getenv("MMT_DESTRUCTIVE");

		if (!e || strcmp(e, "1")) {
			snprintf(buf, len, "destructive (changes global memory state): pass --allow-destructive or set MMT_DESTRUCTIVE=1");
			return buf;
		}
	}
	return NULL;
}

/* ------------------------------------------------------------- parameters */

static const struct mmt_param *find_param(const struct mmt_workload *wl, const char *name,
					  size_t nlen, int *idx)
{
	const struct mmt_param *p;
	int i = 0;

	for (p = wl->params; p && p->name; p++, i++) {
		if (strlen(p->name) == nlen && !strncmp(p->name, name, nlen)) {
			if (idx)
				*idx = i;
			return p;
		}
	}
	return NULL;
}

static bool param_value_ok(const struct mmt_workload *wl, const struct mmt_param *p,
			   const char *v)
{
	unsigned long long sz;
	long long iv;
	bool b;

	switch (p->type) {
	case MMT_P_INT:
		if (!mmt_parse_ll(v, &iv) || ((p->min || p->max) && (iv < p->min || iv > p->max)) ||
		    (!p->min && !p->max && iv < 0)) {
			if (p->min || p->max)
				mmt_errmsg("%s: invalid %s '%s': must be an integer in %lld..%lld",
					   wl->name, p->name, v, p->min, p->max);
			else
				mmt_errmsg("%s: invalid %s '%s': must be a non-negative integer",
					   wl->name, p->name, v);
			return false;
		}
		return true;
	case MMT_P_SIZE:
		if (!mmt_parse_size(v, &sz) ||
		    ((p->min || p->max) && ((long long)sz < p->min || (long long)sz > p->max))) {
			mmt_errmsg("%s: invalid %s '%s': must be a size such as 2m or 1g%s", wl->name,
				   p->name, v, p->min || p->max ? " within the allowed range" : "");
			return false;
		}
		return true;
	case MMT_P_BOOL:
		if (!mmt_parse_bool(v, &b)) {
			mmt_errmsg("%s: invalid %s '%s': must be 0/1, yes/no, true/false or on/off",
				   wl->name, p->name, v);
			return false;
		}
		return true;
	case MMT_P_CHOICE: {
		const char *c = p->choices, *bar;
		size_t vl = strlen(v);

		while (c && *c) {
			bar = strchr(c, '|');
			if ((size_t)((bar ? bar : c + strlen(c)) - c) == vl && !strncmp(c, v, vl))
				return true;
			c = bar ? bar + 1 : NULL;
		}
		mmt_errmsg("%s: invalid %s '%s': must be one of %s", wl->name, p->name, v,
			   p->choices);
		return false;
	}
	case MMT_P_STR:
		return true;
	}
	return false;
}

bool mmt_params_valid(const struct mmt_workload **wls, int nr, struct mmt_run_opts *o)
{
	int i, j;

	for (i = 0; i < o->nr_params; i++) {
		const char *eq = strchr(o->params[i], '=');
		bool known = false;

		if (!eq || eq == o->params[i]) {
			mmt_errmsg("invalid parameter '%s': expected NAME=VALUE (see `mmtorture list -v`)",
				   o->params[i]);
			return false;
		}
		for (j = 0; j < nr; j++) {
			const struct mmt_param *p;

			p = find_param(wls[j], o->params[i], (size_t)(eq - o->params[i]), NULL);
			if (!p)
				continue;
			known = true;
			if (!param_value_ok(wls[j], p, eq + 1))
				return false;
		}
		if (!known) {
			mmt_errmsg("unknown parameter '%.*s' for %s%s (see `mmtorture list -v` for parameters)",
				   (int)(eq - o->params[i]), o->params[i], nr == 1 ? "" : "the workloads ",
				   nr == 1 ? wls[0]->name : "selected");
			return false;
		}
	}
	return true;
}

static const char *param_text(struct mmt_ctx *c, const char *name, const struct mmt_param **pp)
{
	int idx;
	const struct mmt_param *p = find_param(c->wl, name, strlen(name), &idx);

	if (!p) {
		mmt_errmsg("workload %s asked for parameter '%s' it does not declare (bug)",
			   c->wl->name, name);
		exit(MMT_ERROR);
	}
	if (pp)
		*pp = p;
	return c->pval[idx];
}

long long mmt_param_int(struct mmt_ctx *c, const char *name)
{
	long long v = 0;

	mmt_parse_ll(param_text(c, name, NULL), &v);
	return v;
}

uint64_t mmt_param_size(struct mmt_ctx *c, const char *name)
{
	unsigned long long v = 0;

	mmt_parse_size(param_text(c, name, NULL), &v);
	return v;
}

bool mmt_param_bool(struct mmt_ctx *c, const char *name)
{
	bool v = false;

	mmt_parse_bool(param_text(c, name, NULL), &v);
	return v;
}

const char *mmt_param_str(struct mmt_ctx *c, const char *name)
{
	return param_text(c, name, NULL);
}

static void resolve_params(struct mmt_ctx *c)
{
	const struct mmt_param *p;
	int i = 0, j;

	for (p = c->wl->params; p && p->name && i < MMT_MAX_PARAMS; p++, i++) {
		c->pval[i] = p->def;
		for (j = 0; j < c->o->nr_params; j++) {
			const char *kv = c->o->params[j];
			size_t nl = strlen(p->name);

			if (!strncmp(kv, p->name, nl) && kv[nl] == '=')
				c->pval[i] = kv + nl + 1;
		}
	}
	c->nr_params = i;
}

/* ------------------------------------------------------- context accessors */

void *mmt_priv(struct mmt_ctx *c)
{
	return c->priv;
}

const struct mmt_workload *mmt_workload_of(struct mmt_ctx *c)
{
	return c->wl;
}

int mmt_nr_workers(struct mmt_ctx *c)
{
	return c->workers;
}

double mmt_duration(struct mmt_ctx *c)
{
	return c->o->duration;
}

double mmt_warmup(struct mmt_ctx *c)
{
	return c->o->warmup;
}

bool mmt_injecting(struct mmt_ctx *c, enum mmt_inject mode)
{
	return c->o->inject & mode;
}

int mmt_mem_node(struct mmt_ctx *c)
{
	return c->o->mem_node;
}

const char *mmt_tmpdir(struct mmt_ctx *c)
{
	return c->tmpdir;
}

struct mmt_slot *mmt_role_slots(struct mmt_ctx *c, const char *role, int *nr)
{
	int i, r = -1;

	for (i = 0; c->wl->roles[i].name; i++)
		if (!strcmp(c->wl->roles[i].name, role))
			r = i;
	for (i = 0; r >= 0 && i < c->nr_workers; i++) {
		if (c->role_of[i] == r) {
			*nr = c->nr_of_role[r];
			return &c->slots[i];
		}
	}
	*nr = 0;
	return NULL;
}

/* ---------------------------------------------------------- status helpers */

static void set_status(struct mmt_ctx *c, int status, const char *fmt, va_list ap)
{
	int worse = mmt_worse(c->status, status);

	if (worse != c->status || !c->reason[0]) {
		if (worse != c->status || status == c->status)
			vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
	}
	c->status = worse;
}

static void ctx_status(struct mmt_ctx *c, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void ctx_status(struct mmt_ctx *c, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_status(c, status, fmt, ap);
	va_end(ap);
}

int mmt_skip(struct mmt_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_status(c, MMT_SKIP, fmt, ap);
	va_end(ap);
	return MMT_SKIP;
}

int mmt_fail_ctx(struct mmt_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_status(c, MMT_FAIL, fmt, ap);
	va_end(ap);
	return MMT_FAIL;
}

int mmt_error(struct mmt_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_status(c, MMT_ERROR, fmt, ap);
	va_end(ap);
	return MMT_ERROR;
}

void mmt_note(struct mmt_ctx *c, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (getpid() != c->parent)
		return;		/* notes are the parent's; workers use pub[] or gauges */
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_array_append_new(c->notes, json_string(buf));
}

void mmt_gauge(struct mmt_ctx *c, unsigned int m, double value)
{
	if (m >= (unsigned int)c->nr_metrics || c->wl->metrics[m].kind != MMT_GAUGE ||
	    getpid() != c->parent)
		return;
	json_array_append_new(c->gauges[m], json_real(value));
}

static int worker_reason(struct mmt_worker *w, int status, const char *fmt, va_list ap)
{
	char buf[MMT_REASON_LEN];
	int n;

	if (!w->slot->reason[0]) {
		n = snprintf(buf, sizeof(buf), "%s[%d]: ", w->role->name, w->index);
		vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
		memcpy(w->slot->reason, buf, sizeof(buf));
		if (status != MMT_SKIP)
			fprintf(stderr, "mmtorture: %s: %s: %s\n", w->ctx->wl->name,
				mmt_status_name(status), buf);
	}
	return status;
}

int mmt_fail(struct mmt_worker *w, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = worker_reason(w, MMT_FAIL, fmt, ap);
	va_end(ap);
	return r;
}

int mmt_role_skip(struct mmt_worker *w, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = worker_reason(w, MMT_SKIP, fmt, ap);
	va_end(ap);
	return r;
}

int mmt_werror(struct mmt_worker *w, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = worker_reason(w, MMT_ERROR, fmt, ap);
	va_end(ap);
	return r;
}

void mmt_gauge_w(struct mmt_worker *w, unsigned int m, double value)
{
	uint64_t bits;

	if (m >= MMT_MAX_METRICS)
		return;
	memcpy(&bits, &value, sizeof(bits));
	__atomic_store_n(&w->slot->ctr[m], bits, __ATOMIC_RELAXED);
	__atomic_or_fetch(&w->slot->gauge_set, 1ull << m, __ATOMIC_RELEASE);
}

bool mmt_sleep(struct mmt_worker *w, uint64_t ns)
{
	uint64_t end = mmt_now_ns() + ns;

	while (mmt_running(w)) {
		uint64_t now = mmt_now_ns();
		uint64_t step;
		struct timespec ts;

		if (now >= end)
			return true;
		step = end - now;
		if (step > 20000000ull)
			step = 20000000ull;	/* wake up for the stop flag */
		ts.tv_sec = 0;
		ts.tv_nsec = (long)step;
		nanosleep(&ts, NULL);
	}
	return false;
}

/* ------------------------------------------------------------ system state */

int mmt_knob_write(struct mmt_ctx *c, const char *path, const char *value)
{
	int ret;

	(void)c;
	ret = mmt_state_save_knob(path);
	if (ret)
		return ret;
	return mmt_write_str(path, value);
}

int mmt_knob_write_u64(struct mmt_ctx *c, const char *path, uint64_t value)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)value);
	return mmt_knob_write(c, path, buf);
}

long mmt_hugetlb_reserve(struct mmt_ctx *c, unsigned long pages)
{
	unsigned int n, nr_set = 0;
	long got, sum = 0;

	if (!c->o->interleave)
		return mmt_hugetlb_reserve_node(c, c->o->mem_node, pages);
	/* interleaved: each node of the set its share, sized per node (restored) */
	for (n = 0; n < 64; n++)
		nr_set += !!(c->o->interleave_mask & (1ull << n));
	for (n = 0; n < 64; n++) {
		if (!(c->o->interleave_mask & (1ull << n)))
			continue;
		got = mmt_hugetlb_reserve_node(c, (int)n, (pages + nr_set - 1) / nr_set);
		if (got < 0)
			return got;
		sum += got;
	}
	return sum;
}

long mmt_hugetlb_reserve_node(struct mmt_ctx *c, int node, unsigned long pages)
{
	char nr_path[PATH_MAX], free_path[PATH_MAX];
	uint64_t nr, fr;
	int ret;

	if (node >= 0) {
		snprintf(nr_path, sizeof(nr_path),
			 "/sys/devices/system/node/node%d/hugepages/hugepages-2048kB/nr_hugepages", node);
		snprintf(free_path, sizeof(free_path),
			 "/sys/devices/system/node/node%d/hugepages/hugepages-2048kB/free_hugepages", node);
	} else {
		snprintf(nr_path, sizeof(nr_path), "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages");
		snprintf(free_path, sizeof(free_path),
			 "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages");
	}
	ret = mmt_knob_read_u64(nr_path, &nr);
	if (!ret)
		ret = mmt_knob_read_u64(free_path, &fr);
	if (ret)
		return ret;
	if (fr >= pages)
		return (long)fr;
	ret = mmt_knob_write_u64(c, nr_path, nr + (pages - fr));
	if (ret && ret != -ENOMEM)
		return ret;
	ret = mmt_knob_read_u64(free_path, &fr);
	return ret ? ret : (long)fr;
}

int mmt_mount_tmp(struct mmt_ctx *c, const char *fstype, const char *options,
		  char *path, size_t len)
{
	int ret;

	if ((size_t)snprintf(path, len, "%s/mnt-%d-%d", mmt_state_dir(), (int)getpid(),
			     c->mounts++) >= len)
		return -ENAMETOOLONG;
	if (mkdir(path, 0700) && errno != EEXIST)
		return -errno;
	ret = mmt_state_add("mount", path, NULL);
	if (ret)
		return ret;
	if (mount(fstype, path, fstype, 0, options))
		return -errno;
	return 0;
}

/* ----------------------------------------------------------------- workers */

static void bind_placement(const struct mmt_run_opts *o, bool cpus)
{
	if (numa_available() < 0)
		return;
	if (cpus && o->cpu_node >= 0)
		numa_run_on_node(o->cpu_node);
	if (o->mem_node >= 0) {
		struct bitmask *bm = numa_allocate_nodemask();

		numa_bitmask_setbit(bm, (unsigned int)o->mem_node);
		numa_set_membind(bm);
		numa_free_nodemask(bm);
	} else if (o->interleave) {
		struct bitmask *bm = numa_allocate_nodemask();
		unsigned int n;

		for (n = 0; n < 64; n++)
			if (o->interleave_mask & (1ull << n))
				numa_bitmask_setbit(bm, n);
		numa_set_interleave_mask(bm);
		numa_free_nodemask(bm);
	}
}

static void worker_process_enter(struct mmt_ctx *c)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != c->parent)
		_exit(MMT_ERROR);
	signal(SIGINT, SIG_IGN);	/* the parent stops us through the flag */
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	mmt_state_drop_lock();	/* the lock must not outlive the parent in a worker */
	/* prefer our workers over the rest of the system when memory runs out */
	mmt_write_str("/proc/self/oom_score_adj", "500");
	bind_placement(c->o, true);
}

static int worker_body(struct mmt_ctx *c, int id)
{
	struct mmt_hist *hp[MMT_MAX_METRICS] = { NULL };
	const struct mmt_role *role = &c->wl->roles[c->role_of[id]];
	struct mmt_worker w = {
		.ctx = c,
		.role = role,
		.index = c->index_of[id],
		.id = id,
		.nr_role = c->nr_of_role[c->role_of[id]],
		.slot = &c->slots[id],
		.hist = hp,
		.stop = &c->ctl->stop,
		.priv = c->priv,
		.seed = c->seed ^ ((uint64_t)(id + 1) * 0x9e3779b97f4a7c15ull),
	};
	char b;
	int m, rc;

	for (m = 0; m < c->nr_metrics; m++)
		if (c->hist_of[m] >= 0)
			hp[m] = &c->hists[(size_t)id * (size_t)c->nr_hist + (size_t)c->hist_of[m]];
	w.slot->pid = getpid();
	w.slot->tid = gettid();
	while (read(c->gate_r, &b, 1) < 0 && errno == EINTR)
		;
	rc = role->run(&w);
	if (rc != MMT_PASS && rc != MMT_FAIL && rc != MMT_SKIP)
		rc = MMT_ERROR;
	__atomic_store_n(&w.slot->status, rc, __ATOMIC_RELAXED);
	__atomic_store_n(&w.slot->done, 1, __ATOMIC_RELEASE);
	return rc;
}

struct thread_arg {
	struct mmt_ctx *c;
	int id;
	int rc;
};

static void *thread_main(void *p)
{
	struct thread_arg *a = p;

	a->rc = worker_body(a->c, a->id);
	return NULL;
}

static int thread_host(struct mmt_ctx *c, int first, int nr)
{
	struct thread_arg *args = calloc((size_t)nr, sizeof(*args));
	pthread_t *tids = calloc((size_t)nr, sizeof(*tids));
	int i, worst = MMT_PASS, started = 0;

	if (!args || !tids)
		return MMT_ERROR;
	for (i = 0; i < nr; i++) {
		args[i].c = c;
		args[i].id = first + i;
		if (pthread_create(&tids[i], NULL, thread_main, &args[i])) {
			snprintf(c->slots[first + i].reason, MMT_REASON_LEN,
				 "could not create a worker thread");
			c->ctl->stop = 1;
			worst = MMT_ERROR;
			break;
		}
		started++;
	}
	for (i = 0; i < started; i++) {
		pthread_join(tids[i], NULL);
		worst = mmt_worse(worst, args[i].rc);
	}
	/* a thread role that skipped does not make the host's exit a skip */
	return worst == MMT_SKIP ? MMT_PASS : worst;
}

static int spawn_workers(struct mmt_ctx *c, struct mmt_proc *procs, int *nr_procs, int gate_w)
{
	int i, np = 0, first_thread = -1, nr_threads = 0;
	pid_t pid;

	for (i = 0; i < c->nr_workers; i++) {
		if (c->wl->roles[c->role_of[i]].kind == MMT_THREAD) {
			if (first_thread < 0)
				first_thread = i;
			nr_threads++;
			continue;
		}
		pid = fork();
		if (pid < 0)
			goto out_fail;
		if (pid == 0) {
			close(gate_w);
			worker_process_enter(c);
			_exit(worker_body(c, i));
		}
		procs[np++] = (struct mmt_proc){ .pid = pid, .first = i, .nr = 1 };
	}
	if (nr_threads) {
		pid = fork();
		if (pid < 0)
			goto out_fail;
		if (pid == 0) {
			close(gate_w);
			worker_process_enter(c);
			_exit(thread_host(c, first_thread, nr_threads));
		}
		procs[np++] = (struct mmt_proc){ .pid = pid, .first = first_thread,
						 .nr = nr_threads, .host = true };
	}
	*nr_procs = np;
	return 0;

out_fail:
	*nr_procs = np;
	return -errno;
}

/* Thread workers must be contiguous for the host: order roles so. */
static int layout_workers(struct mmt_ctx *c)
{
	const struct mmt_role *r;
	int pass, ri, n = 0, total = 0, k;

	for (r = c->wl->roles, ri = 0; r->name; r++, ri++) {
		int cnt = r->count == MMT_SCALED ? c->workers : r->count;

		if ((r->flags & MMT_ROLE_INJECT_CORRUPT) && !(c->o->inject & MMT_INJECT_CORRUPT))
			cnt = 0;
		c->nr_of_role[ri] = cnt;
		total += cnt;
	}
	c->role_of = calloc((size_t)total + 1, sizeof(int));
	c->index_of = calloc((size_t)total + 1, sizeof(int));
	if (!c->role_of || !c->index_of)
		return -ENOMEM;
	for (pass = 0; pass < 2; pass++) {
		for (r = c->wl->roles, ri = 0; r->name; r++, ri++) {
			if ((r->kind == MMT_THREAD) != (pass == 1))
				continue;
			for (k = 0; k < c->nr_of_role[ri]; k++) {
				c->role_of[n] = ri;
				c->index_of[n] = k;
				n++;
			}
		}
	}
	c->nr_workers = total;
	return 0;
}

/* -------------------------------------------------------------- sampling */

struct sampler {
	double *prev;			/* per metric: counter sum, or hist sum */
	uint64_t *prev_cnt;		/* per metric: hist count */
	double *base;			/* counter sums at the end of warm-up */
	json_t *samples[MMT_MAX_METRICS];
	double last_rate[MMT_MAX_METRICS];
};

static void read_sums(struct mmt_ctx *c, int m, double *sum, uint64_t *cnt)
{
	int i;

	*sum = 0;
	*cnt = 0;
	for (i = 0; i < c->nr_workers; i++) {
		if (c->hist_of[m] >= 0) {
			struct mmt_hist *h = &c->hists[(size_t)i * (size_t)c->nr_hist +
						       (size_t)c->hist_of[m]];

			*cnt += __atomic_load_n(&h->count, __ATOMIC_ACQUIRE);
			*sum += (double)__atomic_load_n(&h->sum, __ATOMIC_RELAXED);
		} else {
			*sum += (double)__atomic_load_n(&c->slots[i].ctr[m], __ATOMIC_RELAXED);
		}
	}
}

static void sample(struct mmt_ctx *c, struct sampler *s, double dt, bool keep)
{
	int m;

	for (m = 0; m < c->nr_metrics; m++) {
		const struct mmt_metric *md = &c->wl->metrics[m];
		double sum;
		uint64_t cnt;

		if (md->kind == MMT_GAUGE)
			continue;
		read_sums(c, m, &sum, &cnt);
		if (md->kind == MMT_RATE) {
			s->last_rate[m] = dt > 0 ? (sum - s->prev[m]) / dt : 0;
			if (keep)
				json_array_append_new(s->samples[m], json_real(s->last_rate[m]));
		} else if (md->kind == MMT_LATENCY && keep && cnt > s->prev_cnt[m]) {
			json_array_append_new(s->samples[m],
					      json_real((sum - s->prev[m]) /
							(double)(cnt - s->prev_cnt[m])));
		}
		s->prev[m] = sum;
		s->prev_cnt[m] = cnt;
	}
}

/* --------------------------------------------------------------- reaping */

static bool all_reaped(struct mmt_proc *p, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!p[i].reaped)
			return false;
	return true;
}

static void reap_nohang(struct mmt_proc *p, int n)
{
	int i, ws;

	for (i = 0; i < n; i++) {
		if (p[i].reaped)
			continue;
		if (waitpid(p[i].pid, &ws, WNOHANG) == p[i].pid) {
			p[i].reaped = true;
			p[i].wstatus = ws;
		}
	}
}

static bool proc_in_dstate(pid_t pid)
{
	char path[64], buf[512];
	char *rp;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (mmt_read_file(path, buf, sizeof(buf)) <= 0)
		return false;
	rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' && rp[2] == 'D';
}

static void stop_and_reap(struct mmt_ctx *c, struct mmt_proc *p, int n)
{
	double deadline;
	int i;

	__atomic_store_n(&c->ctl->stop, 1, __ATOMIC_RELEASE);
	deadline = mmt_mono_s() + c->o->grace;
	while (!all_reaped(p, n) && mmt_mono_s() < deadline) {
		reap_nohang(p, n);
		usleep(10000);
	}
	for (i = 0; i < n; i++) {
		if (p[i].reaped)
			continue;
		p[i].dstate = proc_in_dstate(p[i].pid);
		p[i].killed = true;
		kill(p[i].pid, SIGKILL);
	}
	deadline = mmt_mono_s() + 10;
	while (!all_reaped(p, n) && mmt_mono_s() < deadline) {
		reap_nohang(p, n);
		usleep(10000);
	}
}

static void fold_worker_status(struct mmt_ctx *c, struct mmt_proc *p, int n, struct mmt_kmsg *k)
{
	int i, j, skipped = 0;

	for (i = 0; i < n; i++) {
		const struct mmt_role *r = &c->wl->roles[c->role_of[p[i].first]];

		if (!p[i].reaped) {
			ctx_status(c, MMT_FAIL, "%s worker pid %d could not be killed (stuck in the kernel)",
				   r->name, (int)p[i].pid);
			continue;
		}
		if (p[i].killed) {
			if (p[i].dstate)
				ctx_status(c, MMT_FAIL,
					   "%s worker pid %d was in D state %.0f s after the stop flag (stuck in the kernel); killed",
					   r->name, (int)p[i].pid, c->o->grace);
			else
				ctx_status(c, MMT_ERROR,
					   "%s worker pid %d did not stop within %.0f s of the stop flag; killed",
					   r->name, (int)p[i].pid, c->o->grace);
			continue;
		}
		if (WIFSIGNALED(p[i].wstatus)) {
			int sig = WTERMSIG(p[i].wstatus);

			if (sig == SIGKILL && mmt_kmsg_oom_killed(k, p[i].pid))
				ctx_status(c, MMT_ERROR,
					   "%s worker pid %d was killed by the OOM killer; use fewer workers or a smaller size",
					   r->name, (int)p[i].pid);
			else
				ctx_status(c, MMT_FAIL, "%s worker pid %d died of signal %s",
					   r->name, (int)p[i].pid, strsignal(sig));
			continue;
		}
		for (j = p[i].first; j < p[i].first + p[i].nr; j++) {
			struct mmt_slot *s = &c->slots[j];
			int st = s->done ? s->status : WEXITSTATUS(p[i].wstatus);
			const char *why = s->reason[0] ? s->reason : "no reason given";

			switch (st) {
			case MMT_PASS:
				break;
			case MMT_SKIP:
				skipped++;
				if (!j || strcmp(c->slots[j - 1].reason, s->reason))
					mmt_note(c, "role skipped: %s", why);
				break;
			case MMT_FAIL:
				ctx_status(c, MMT_FAIL, "%s", why);
				break;
			default:
				ctx_status(c, MMT_ERROR, "%s (exit %d)", why, st);
				break;
			}
		}
	}
	if (c->nr_workers && skipped == c->nr_workers)
		ctx_status(c, MMT_SKIP, "every role skipped: %s", c->slots[0].reason);
}

/* ---------------------------------------------------------------- records */

static bool metric_higher(const struct mmt_metric *m)
{
	switch (m->better) {
	case MMT_BETTER_HIGHER:
		return true;
	case MMT_BETTER_LOWER:
	case MMT_BETTER_NONE:
		return false;
	default:
		return m->kind == MMT_RATE || m->kind == MMT_TOTAL;
	}
}

static const char *better_name(const struct mmt_metric *m)
{
	if (m->better == MMT_BETTER_NONE || (m->better == MMT_BETTER_DEFAULT && m->kind == MMT_GAUGE))
		return "none";
	return metric_higher(m) ? "higher" : "lower";
}

static const char *kind_name(enum mmt_metric_kind k)
{
	static const char *const names[] = { "rate", "latency", "gauge", "total" };

	return names[k];
}

static double *json_doubles(json_t *arr, size_t *n)
{
	double *v;
	json_t *x;
	size_t i;

	*n = json_array_size(arr);
	v = calloc(*n + 1, sizeof(*v));
	if (!v)
		return NULL;
	json_array_foreach(arr, i, x)
		v[i] = json_number_value(x);
	return v;
}

static json_t *metric_json(const struct mmt_metric *md, json_t *samples, const struct mmt_hist *h)
{
	bool harmonic = md->kind == MMT_RATE;
	struct mmt_summary s;
	json_t *o;
	double *v;
	size_t n;

	o = json_pack("{s:s, s:s, s:s, s:b}", "unit", md->unit, "kind", kind_name(md->kind),
		      "better", better_name(md), "higher_is_better", metric_higher(md));
	if (md->help)
		json_object_set_new(o, "help", json_string(md->help));
	json_object_set(o, "samples", samples);
	v = json_doubles(samples, &n);
	mmt_summarize(v, v ? n : 0, harmonic, &s);
	free(v);
	json_object_set_new(o, "summary", mmt_summary_json(&s));
	if (md->kind == MMT_LATENCY && h) {
		json_object_set_new(o, "histogram",
			json_pack("{s:I, s:f, s:I, s:I, s:I, s:I, s:I}",
				  "count", (json_int_t)h->count,
				  "mean", h->count ? (double)h->sum / (double)h->count : 0.0,
				  "p50", (json_int_t)mmt_hist_percentile(h, 50),
				  "p90", (json_int_t)mmt_hist_percentile(h, 90),
				  "p99", (json_int_t)mmt_hist_percentile(h, 99),
				  "p999", (json_int_t)mmt_hist_percentile(h, 99.9),
				  "max", (json_int_t)h->max));
	}
	return o;
}

/* -------------------------------------------------------------- progress */

static void fmt_value(char *buf, size_t len, double v, const char *unit)
{
	if (!strcmp(unit, "ns")) {
		if (v >= 1e9)
			snprintf(buf, len, "%.2f s", v / 1e9);
		else if (v >= 1e6)
			snprintf(buf, len, "%.2f ms", v / 1e6);
		else if (v >= 1e3)
			snprintf(buf, len, "%.1f us", v / 1e3);
		else
			snprintf(buf, len, "%.0f ns", v);
		return;
	}
	if (fabs(v) >= 100 || v == floor(v))
		snprintf(buf, len, "%.0f %s", v, unit);
	else
		snprintf(buf, len, "%.3g %s", v, unit);
}

static void print_metrics(struct mmt_ctx *c, json_t *metrics)
{
	const struct mmt_metric *md;
	char a[64], b[64];

	for (md = c->wl->metrics; md && md->name; md++) {
		json_t *m = json_object_get(metrics, md->name);
		json_t *s = json_object_get(m, "summary");
		json_t *h = json_object_get(m, "histogram");

		if (!m)
			continue;
		if (h) {
			if (!json_integer_value(json_object_get(h, "count")))
				continue;
			fmt_value(a, sizeof(a), (double)json_integer_value(json_object_get(h, "p50")), "ns");
			fmt_value(b, sizeof(b), (double)json_integer_value(json_object_get(h, "p99")), "ns");
			mmt_msg("  %-26s p50 %-10s p99 %-10s (%lld samples)\n", md->name, a, b,
				(long long)json_integer_value(json_object_get(h, "count")));
			continue;
		}
		if (!json_integer_value(json_object_get(s, "n")))
			continue;
		fmt_value(a, sizeof(a), json_number_value(json_object_get(s, "mean")), md->unit);
		if (json_integer_value(json_object_get(s, "n")) > 1)
			mmt_msg("  %-26s %s ± %.3g  (n=%lld, CoV %.1f%%)\n", md->name, a,
				json_number_value(json_object_get(s, "stddev")),
				(long long)json_integer_value(json_object_get(s, "n")),
				100 * json_number_value(json_object_get(s, "cov")));
		else
			mmt_msg("  %-26s %s\n", md->name, a);
	}
}


/* ----------------------------------------------------- kernel vm events */

/*
 * The /proc/vmstat events that say what the page-table paths did during a
 * repeat: THP faults, collapses and splits, compaction, migration, and the
 * companion series' hugetlb_pmd_* / thp_collapse_retract* events when the
 * kernel carries them (kernel/series/pt-counters).
 */
static const char *const vmstat_prefixes[] = {
	"hugetlb_pmd_", "thp_collapse_", "thp_fault_", "thp_split_", "thp_migration_",
	"compact_", "pgmigrate_", "htlb_buddy_alloc_", "nr_page_table_pages", NULL,
};

static json_t *vmstat_read(void)
{
	json_t *o = json_object();
	char line[256];
	FILE *f = fopen("/proc/vmstat", "re");
	int i;

	while (f && fgets(line, sizeof(line), f)) {
		char *sp = strchr(line, ' ');

		if (!sp)
			continue;
		*sp = '\0';
		for (i = 0; vmstat_prefixes[i]; i++) {
			if (!strncmp(line, vmstat_prefixes[i], strlen(vmstat_prefixes[i]))) {
				json_object_set_new(o, line, json_integer(strtoll(sp + 1, NULL, 10)));
				break;
			}
		}
	}
	if (f)
		fclose(f);
	return o;
}

/* after - before, per event (nr_page_table_pages is a level: kept as the change) */
static json_t *vmstat_delta(json_t *before, json_t *after)
{
	json_t *d = json_object(), *v;
	const char *k;

	json_object_foreach(after, k, v) {
		json_t *b = json_object_get(before, k);

		if (b)
			json_object_set_new(d, k, json_integer(json_integer_value(v) -
							       json_integer_value(b)));
	}
	return d;
}

/* ----------------------------------------------------------- one repeat */

static void hist_collect(struct mmt_ctx *c, int m, struct mmt_hist *out)
{
	int i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < c->nr_workers; i++)
		mmt_hist_merge(out, &c->hists[(size_t)i * (size_t)c->nr_hist + (size_t)c->hist_of[m]]);
}

static double rusage_s(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int alloc_shared(struct mmt_ctx *c)
{
	size_t off_slots, off_hists, off_priv, len;
	long pg = sysconf(_SC_PAGESIZE);

	off_slots = sizeof(struct mmt_ctl);
	off_hists = off_slots + (size_t)c->nr_workers * sizeof(struct mmt_slot);
	off_priv = off_hists + (size_t)c->nr_workers * (size_t)c->nr_hist * sizeof(struct mmt_hist);
	off_priv = (off_priv + (size_t)pg - 1) & ~((size_t)pg - 1);
	len = off_priv + c->wl->priv_size + 1;
	c->shm = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c->shm == MAP_FAILED) {
		c->shm = NULL;
		return -errno;
	}
	c->shm_len = len;
	c->ctl = c->shm;
	c->slots = (struct mmt_slot *)((char *)c->shm + off_slots);
	c->hists = (struct mmt_hist *)((char *)c->shm + off_hists);
	c->priv = c->wl->priv_size ? (char *)c->shm + off_priv : NULL;
	return 0;
}

struct repeat_out {
	json_t *rec;			/* the repeat's JSON */
	struct mmt_hist *hists;		/* per metric merged histograms, for the top level */
	json_t *samples[MMT_MAX_METRICS];
	int nsplats;
};

static void progress(struct mmt_ctx *c, int rep, double t, double total, double rate)
{
	const struct mmt_metric *m0 = &c->wl->metrics[0];
	char v[64];

	if (!c->o->tty)
		return;
	fmt_value(v, sizeof(v), rate, m0->unit);
	fprintf(stderr, "\r\033[K  %s%s%.0f/%.0f s  %s: %s", c->wl->name,
		c->o->repeat > 1 ? " " : "", t, total, m0->name, v);
	if (c->o->repeat > 1)
		fprintf(stderr, "  (repeat %d/%d)", rep + 1, c->o->repeat);
	fflush(stderr);
}

static void inject_splat(void)
{
	mmt_kmsg_write("<4>mmtorture-inject: WARNING: CPU: 0 PID: %d at mm/mmtorture-inject.c:1 mmt_injected_splat+0x0/0x10 (injected by --inject splat)\n",
		       (int)getpid());
}

static int run_repeat(struct mmt_ctx *c, int rep, struct repeat_out *out)
{
	struct mmt_proc *procs = NULL;
	struct sampler s = { 0 };
	struct mmt_kmsg k;
	struct timespec t_start;
	double t0, now, last, end_t, warm_t, cpu_self0, cpu_kids0, measured = 0, next;
	int gate[2] = { -1, -1 }, nprocs = 0, m, i, ret;
	bool setup_ran = false, injected = false, kmsg_ok;
	char iso[64];
	json_t *metrics, *rj;
	json_t *vm0 = NULL, *kernel_events = NULL, *ns0 = NULL, *numastat = NULL, *memory = NULL;

	c->status = MMT_PASS;
	c->reason[0] = '\0';
	c->notes = json_array();
	for (m = 0; m < c->nr_metrics; m++) {
		c->gauges[m] = json_array();
		s.samples[m] = json_array();
	}
	s.prev = calloc((size_t)c->nr_metrics, sizeof(double));
	s.prev_cnt = calloc((size_t)c->nr_metrics, sizeof(uint64_t));
	s.base = calloc((size_t)c->nr_metrics, sizeof(double));
	procs = calloc((size_t)c->nr_workers + 1, sizeof(*procs));
	if (!s.prev || !s.prev_cnt || !s.base || !procs) {
		ctx_status(c, MMT_ERROR, "out of memory");
		goto out_record;
	}
	clock_gettime(CLOCK_REALTIME, &t_start);
	c->seed = ((uint64_t)t_start.tv_nsec << 20) ^ (uint64_t)t_start.tv_sec ^
		  ((uint64_t)getpid() << 40) ^ (uint64_t)rep;

	ret = alloc_shared(c);
	if (ret) {
		ctx_status(c, MMT_ERROR, "cannot map the shared area: %s", strerror(-ret));
		goto out_record;
	}
	snprintf(c->tmpdir, sizeof(c->tmpdir), "/tmp/mmtorture-%s-XXXXXX", c->wl->name);
	if (!mkdtemp(c->tmpdir) || mmt_state_add("dir", c->tmpdir, NULL)) {
		ctx_status(c, MMT_ERROR, "cannot create a temporary directory under /tmp: %s",
			   strerror(errno));
		goto out_unmap;
	}
	kmsg_ok = mmt_kmsg_open(&k) == 0;
	if (!kmsg_ok)
		mmt_note(c, "kernel-log watch unavailable: %s", k.unavailable);
	if (c->o->inject & MMT_INJECT_SPLAT && !kmsg_ok) {
		ctx_status(c, MMT_ERROR, "--inject splat needs the kernel-log watch: %s",
			   k.unavailable);
		goto out_kmsg;
	}
	mmt_kmsg_write("<5>mmtorture: start workload=%s repeat=%d pid=%d\n", c->wl->name, rep + 1,
		       (int)getpid());
	bind_placement(c->o, false);

	setup_ran = true;
	if (c->wl->setup) {
		ret = c->wl->setup(c);
		if (ret != MMT_PASS) {
			if (c->status == MMT_PASS)
				ctx_status(c, ret == MMT_SKIP ? MMT_SKIP : MMT_ERROR,
					   "setup returned %d without a reason", ret);
			goto out_teardown;
		}
	}
	if (pipe2(gate, O_CLOEXEC)) {
		ctx_status(c, MMT_ERROR, "pipe: %s", strerror(errno));
		goto out_teardown;
	}
	c->gate_r = gate[0];
	cpu_self0 = rusage_s(RUSAGE_SELF);
	cpu_kids0 = rusage_s(RUSAGE_CHILDREN);
	ret = spawn_workers(c, procs, &nprocs, gate[1]);
	close(gate[0]);
	if (ret) {
		ctx_status(c, MMT_ERROR, "fork of a worker failed: %s", strerror(-ret));
		close(gate[1]);
		goto out_reap;
	}

	vm0 = vmstat_read();
	ns0 = mmt_numastat_read();
	/* release every worker at once */
	t0 = mmt_mono_s();
	close(gate[1]);
	warm_t = t0 + c->o->warmup;
	end_t = warm_t + c->o->duration;
	last = t0;
	for (;;) {
		struct timespec ts;
		double target;
		bool in_measure;

		next = last + 1.0;
		if (last < warm_t && next > warm_t)
			next = warm_t;
		if (next > end_t)
			next = end_t;
		target = next;
		while (!interrupted && (now = mmt_mono_s()) < target) {
			double d = target - now;

			if (d > 0.1)
				d = 0.1;
			ts.tv_sec = 0;
			ts.tv_nsec = (long)(d * 1e9);
			nanosleep(&ts, NULL);
			if (kmsg_ok && mmt_kmsg_poll(&k))
				break;
			reap_nohang(procs, nprocs);
			if (all_reaped(procs, nprocs))
				break;
		}
		now = mmt_mono_s();
		in_measure = last >= warm_t - 1e-6;
		sample(c, &s, now - last, in_measure);
		if (in_measure)
			measured += now - last;
		if (!in_measure && now >= warm_t - 1e-6) {
			for (m = 0; m < c->nr_metrics; m++)
				s.base[m] = s.prev[m];
		}
		last = now;
		if (kmsg_ok)
			mmt_kmsg_poll(&k);
		if (json_array_size(k.splats)) {
			ctx_status(c, MMT_FAIL, "kernel splat: %s",
				   json_string_value(json_object_get(json_array_get(k.splats, 0),
								     "line")));
			break;
		}
		if (interrupted) {
			ctx_status(c, MMT_ERROR, "interrupted by %s; stopped early", strsignal(interrupted));
			break;
		}
		reap_nohang(procs, nprocs);
		for (i = 0; i < nprocs; i++) {
			if (procs[i].reaped && WIFEXITED(procs[i].wstatus) &&
			    WEXITSTATUS(procs[i].wstatus) == MMT_FAIL)
				break;
		}
		/* a thread worker reports through its slot before its host exits */
		for (m = 0; i == nprocs && m < c->nr_workers; m++)
			if (__atomic_load_n(&c->slots[m].done, __ATOMIC_ACQUIRE) &&
			    c->slots[m].status == MMT_FAIL)
				i = 0;
		if (i < nprocs)
			break;		/* a worker saw corruption: stop now */
		if (all_reaped(procs, nprocs))
			break;
		if ((c->o->inject & MMT_INJECT_SPLAT) && !injected &&
		    now >= warm_t + c->o->duration / 2) {
			inject_splat();
			injected = true;
		}
		progress(c, rep, now - t0, c->o->warmup + c->o->duration,
			 s.last_rate[0]);
		if (now >= end_t - 1e-6)
			break;
	}
	if (c->o->tty)
		fprintf(stderr, "\r\033[K");
	/* where the workers' memory is, while they still hold it */
	{
		pid_t *pids = calloc((size_t)nprocs + 1, sizeof(pid_t));
		int np = 0;

		for (i = 0; pids && i < nprocs; i++)
			if (!procs[i].reaped)
				pids[np++] = procs[i].pid;
		memory = mmt_numa_memory(pids, np);
		free(pids);
	}

out_reap:
	stop_and_reap(c, procs, nprocs);
	if (vm0) {
		json_t *vm1 = vmstat_read();

		kernel_events = vmstat_delta(vm0, vm1);
		json_decref(vm1);
		json_decref(vm0);
		vm0 = NULL;
	}
	if (ns0) {
		json_t *ns1 = mmt_numastat_read();

		numastat = mmt_numastat_delta(ns0, ns1);
		json_decref(ns1);
		json_decref(ns0);
		ns0 = NULL;
	}
	if (kmsg_ok) {
		usleep(50000);
		mmt_kmsg_poll(&k);
		if (json_array_size(k.splats))
			ctx_status(c, MMT_FAIL, "kernel splat: %s",
				   json_string_value(json_object_get(json_array_get(k.splats, 0),
								     "line")));
	}
	fold_worker_status(c, procs, nprocs, &k);
	if (c->status == MMT_PASS && c->wl->verify) {
		ret = c->wl->verify(c);
		if (ret != MMT_PASS && c->status == MMT_PASS)
			ctx_status(c, ret == MMT_FAIL ? MMT_FAIL : MMT_ERROR,
				   "verify returned %d without a reason", ret);
	}
	{
		double self = rusage_s(RUSAGE_SELF) - cpu_self0;
		double kids = rusage_s(RUSAGE_CHILDREN) - cpu_kids0;

		out->rec = json_pack("{s:{s:f, s:f, s:f}}", "harness", "parent_cpu_s", self,
				     "workers_cpu_s", kids, "parent_cpu_fraction",
				     self + kids > 0 ? self / (self + kids) : 0.0);
	}

out_teardown:
	if (setup_ran && c->wl->teardown)
		c->wl->teardown(c);
	numa_set_localalloc();
	if (kmsg_ok) {
		mmt_kmsg_write("<5>mmtorture: end workload=%s repeat=%d status=%s\n", c->wl->name,
			       rep + 1, mmt_status_name(c->status));
	}
out_kmsg:
	if (kmsg_ok || k.splats) {
		out->nsplats = (int)json_array_size(k.splats);
		if (!out->rec)
			out->rec = json_object();
		json_object_set(out->rec, "splats", k.splats);
	}
	mmt_kmsg_close(&k);
out_unmap:
	ret = mmt_state_restore();
	if (ret)
		ctx_status(c, MMT_ERROR, "could not restore every knob (see above); run `mmtorture restore`");

out_record:
	if (!out->rec)
		out->rec = json_object();
	rj = out->rec;
	mmt_iso8601(&t_start, iso, sizeof(iso));
	json_object_set_new(rj, "index", json_integer(rep + 1));
	json_object_set_new(rj, "started", json_string(iso));
	json_object_set_new(rj, "measured_s", json_real(measured));
	json_object_set_new(rj, "kernel_events", kernel_events ? kernel_events : json_object());
	{
		char why[512];

		if (!mmt_numa_account(rj, c->o, numastat, memory, why, sizeof(why))) {
			mmt_msg("  FLAGGED: %s\n", why);
			json_array_append_new(c->notes, json_string(why));
		}
		json_decref(memory);
	}
	metrics = json_object();
	out->hists = calloc((size_t)c->nr_metrics + 1, sizeof(struct mmt_hist));
	for (m = 0; m < c->nr_metrics; m++) {
		const struct mmt_metric *md = &c->wl->metrics[m];
		struct mmt_hist *h = NULL;

		/* s.prev holds the sum at the last tick, the end of measuring */
		if (md->kind == MMT_TOTAL && c->shm && measured > 0)
			json_array_append_new(s.samples[m], json_real(s.prev[m] - s.base[m]));
		if (md->kind == MMT_GAUGE) {
			json_array_extend(s.samples[m], c->gauges[m]);
			for (i = 0; c->shm && i < c->nr_workers; i++) {
				uint64_t bits = c->slots[i].ctr[m];
				double v;

				if (!(c->slots[i].gauge_set & (1ull << m)))
					continue;
				memcpy(&v, &bits, sizeof(v));
				json_array_append_new(s.samples[m], json_real(v));
			}
		}
		if (md->kind == MMT_LATENCY && c->shm && out->hists) {
			h = &out->hists[m];
			hist_collect(c, m, h);
		}
		json_object_set_new(metrics, md->name, metric_json(md, s.samples[m], h));
		json_object_set_new(json_object_get(metrics, md->name), "headline",
				    json_boolean(mmt_metric_headline(c->wl, m)));
		out->samples[m] = s.samples[m];
		json_decref(c->gauges[m]);
		c->gauges[m] = NULL;
	}
	json_object_set_new(rj, "metrics", metrics);
	json_object_set_new(rj, "status", json_string(mmt_status_name(c->status)));
	json_object_set_new(rj, "exit_code", json_integer(c->status));
	json_object_set_new(rj, "reason", c->reason[0] ? json_string(c->reason) : json_null());
	json_object_set_new(rj, "notes", c->notes);
	if (!json_object_get(rj, "splats"))
		json_object_set_new(rj, "splats", json_array());
	c->notes = NULL;
	if (c->shm)
		munmap(c->shm, c->shm_len);
	c->shm = NULL;
	free(s.prev);
	free(s.prev_cnt);
	free(s.base);
	free(procs);
	return c->status;
}

/* -------------------------------------------------------- one workload */

static json_t *params_json(struct mmt_ctx *c)
{
	json_t *o = json_object();
	int i;

	for (i = 0; i < c->nr_params; i++)
		json_object_set_new(o, c->wl->params[i].name, json_string(c->pval[i]));
	return o;
}

static json_t *placement_json(const struct mmt_run_opts *o)
{
	return json_pack("{s:o, s:o}", "cpu_node",
			 o->cpu_node >= 0 ? json_integer(o->cpu_node) : json_null(), "mem_node",
			 o->mem_node >= 0 ? json_integer(o->mem_node) :
			 o->interleave ? json_string("interleave") : json_null());
}

struct wl_result {
	const struct mmt_workload *wl;
	int workers;
	int status;
	char reason[1024];
	double main_mean, main_sd;
	bool have_main;
	int splats;
	char known_bug[256];	/* XFAIL: the bug's folder */
	json_t *not_seen;	/* known bugs of this kernel that did not show, or NULL */
};

static int run_workload(const struct mmt_workload *wl, struct mmt_run_opts *o, json_t *sys,
			const char *run_id, const char *rundir, struct wl_result *res)
{
	struct mmt_ctx c = { .wl = wl, .o = o, .parent = getpid() };
	struct repeat_out *reps = NULL;
	const struct mmt_metric *md;
	json_t *rec = NULL, *jreps, *metrics;
	char why[256], path[PATH_MAX], iso[64];
	struct timespec ts0, ts1;
	int status = MMT_PASS, r, m, nrep = 0, ret;

	res->wl = wl;
	res->workers = o->workers;
	clock_gettime(CLOCK_REALTIME, &ts0);
	c.workers = o->workers ? o->workers : (wl->default_workers > 0 ? wl->default_workers : 2);
	for (md = wl->metrics; md && md->name; md++) {
		if (c.nr_metrics == MMT_MAX_METRICS) {
			mmt_errmsg("%s: declares more than %d metrics (MMT_MAX_METRICS in harness/mmtorture.h): raise the limit and rebuild",
				   wl->name, MMT_MAX_METRICS);
			return MMT_ERROR;
		}
		c.hist_of[c.nr_metrics] = md->kind == MMT_LATENCY ? c.nr_hist++ : -1;
		c.nr_metrics++;
	}
	resolve_params(&c);
	c.nr_of_role = calloc(64, sizeof(int));
	if (!c.nr_of_role || layout_workers(&c)) {
		mmt_errmsg("out of memory");
		return MMT_ERROR;
	}
	reps = calloc((size_t)o->repeat, sizeof(*reps));
	jreps = json_array();

	mmt_msg("%s: %s\n", wl->name, wl->summary);
	if (mmt_cannot_run(wl, o->allow_destructive, why, sizeof(why))) {
		status = MMT_SKIP;
		snprintf(res->reason, sizeof(res->reason), "%s", why);
		mmt_msg("  SKIP: %s\n", why);
		goto out_record;
	}
	if (!o->tty)
		mmt_msg("  running %.0f s (+%.0f s warm-up) with %d %s, %d repeat%s\n",
			o->duration, o->warmup, c.workers, c.workers == 1 ? "worker" : "workers",
			o->repeat, o->repeat == 1 ? "" : "s");
	for (r = 0; r < o->repeat && !interrupted; r++) {
		int st = run_repeat(&c, r, &reps[r]);

		nrep++;
		json_array_append(jreps, reps[r].rec);
		res->splats += reps[r].nsplats;
		status = mmt_worse(status, st);
		if (st != MMT_PASS && !res->reason[0])
			snprintf(res->reason, sizeof(res->reason), "%s", c.reason);
		if (st == MMT_SKIP || st == MMT_ERROR)
			break;
	}

out_record:
	clock_gettime(CLOCK_REALTIME, &ts1);
	metrics = json_object();
	for (m = 0; m < c.nr_metrics; m++) {
		struct mmt_hist h;
		json_t *all = json_array(), *rv = json_array(), *mj;
		bool any_h = false;

		md = &wl->metrics[m];
		memset(&h, 0, sizeof(h));
		for (r = 0; r < nrep; r++) {
			json_t *rm = json_object_get(json_object_get(reps[r].rec, "metrics"), md->name);
			json_t *sum = json_object_get(rm, "summary");

			if (reps[r].samples[m])
				json_array_extend(all, reps[r].samples[m]);
			if (json_integer_value(json_object_get(sum, "n")))
				json_array_append(rv, json_object_get(sum, "mean"));
			if (md->kind == MMT_LATENCY && reps[r].hists) {
				mmt_hist_merge(&h, &reps[r].hists[m]);
				any_h = true;
			}
		}
		mj = metric_json(md, all, any_h ? &h : NULL);
		json_object_set_new(mj, "repeat_values", rv);
		json_object_set_new(mj, "headline", json_boolean(mmt_metric_headline(wl, m)));
		json_object_set_new(metrics, md->name, mj);
		json_decref(all);
		if (m == 0) {
			json_t *sum = json_object_get(mj, "summary");

			res->have_main = json_integer_value(json_object_get(sum, "n")) > 0;
			res->main_mean = json_number_value(json_object_get(sum, "mean"));
			res->main_sd = json_number_value(json_object_get(sum, "stddev"));
		}
	}
	mmt_iso8601(&ts0, iso, sizeof(iso));
	rec = json_pack("{s:s, s:{s:s, s:s, s:s}, s:s, s:s, s:s}", "schema", MMT_RECORD_SCHEMA,
			"tool", "name", "mmtorture", "version", MMT_VERSION, "git", mmt_git_version(),
			"run_id", run_id, "workload", wl->name, "started", iso);
	mmt_iso8601(&ts1, iso, sizeof(iso));
	json_object_set_new(rec, "finished", json_string(iso));
	json_object_set_new(rec, "summary", json_string(wl->summary));
	json_object_set_new(rec, "suite", json_string(wl->suite));
	json_object_set_new(rec, "status", json_string(mmt_status_name(status)));
	json_object_set_new(rec, "exit_code", json_integer(status));
	json_object_set_new(rec, "reason", res->reason[0] ? json_string(res->reason) : json_null());
	json_object_set_new(rec, "main_metric", wl->metrics ? json_string(wl->metrics[0].name) :
							      json_null());
	json_object_set_new(rec, "headline_metrics", mmt_headline_json(wl));
	json_object_set_new(rec, "run", json_pack("{s:f, s:f, s:f, s:i, s:i, s:s}", "duration_s",
						  o->duration, "warmup_s", o->warmup, "grace_s",
						  o->grace, "workers", c.workers, "repeats", o->repeat,
						  "inject", o->inject & MMT_INJECT_CORRUPT ? "corrupt" :
							    o->inject & MMT_INJECT_SPLAT ? "splat" : "none"));
	json_object_set_new(rec, "params", params_json(&c));
	if (o->nr_sweep) {
		json_t *sw = json_array();

		for (r = 0; r < o->nr_sweep; r++)
			json_array_append_new(sw, json_integer(o->sweep[r]));
		json_object_set_new(json_object_get(rec, "run"), "sweep_workers", sw);
	}
	json_object_set_new(rec, "placement", placement_json(o));
	json_object_set_new(rec, "roles", json_array());
	for (r = 0; wl->roles[r].name; r++)
		json_array_append_new(json_object_get(rec, "roles"),
				      json_pack("{s:s, s:s, s:i}", "name", wl->roles[r].name, "kind",
						wl->roles[r].kind == MMT_THREAD ? "thread" : "process",
						"workers", c.nr_of_role[r]));
	json_object_set(rec, "system", sys);
	json_object_set_new(rec, "topology_xml", json_string("topology.xml"));
	json_object_set_new(rec, "metrics", metrics);
	json_object_set_new(rec, "repeats", jreps);
	{
		json_t *all = json_array(), *rj;
		size_t i;

		json_array_foreach(jreps, i, rj)
			json_array_extend(all, json_object_get(rj, "splats"));
		json_object_set_new(rec, "splats", all);
	}
	/* a FAIL that is a known kernel bug on this kernel becomes XFAIL */
	if (status == MMT_FAIL || status == MMT_PASS) {
		status = mmt_known_bugs_judge(mmt_known_bugs(), rec);
		snprintf(res->reason, sizeof(res->reason), "%s",
			 json_string_value(json_object_get(rec, "reason")) ?: "");
		if (status == MMT_XFAIL) {
			json_object_set_new(rec, "exit_code", json_integer(o->strict ? MMT_FAIL : 0));
			snprintf(res->known_bug, sizeof(res->known_bug), "%s",
				 json_string_value(json_object_get(json_object_get(rec, "known_bug"),
								   "folder")) ?: "");
		}
		res->not_seen = json_incref(json_object_get(rec, "known_bugs_not_seen"));
	}
	if (o->nr_sweep)
		snprintf(path, sizeof(path), "%s/%s.w%d.json", rundir, wl->name, c.workers);
	else
		snprintf(path, sizeof(path), "%s/%s.json", rundir, wl->name);
	ret = o->capture ? 0 : mmt_record_write(path, rec);
	if (ret) {
		mmt_errmsg("cannot write %s: %s", path, strerror(-ret));
		status = mmt_worse(status, MMT_ERROR);
	}
	if (o->capture)
		*o->capture = json_incref(rec);
	if (status != MMT_SKIP || nrep)
		mmt_msg("  %s%s%s\n", mmt_status_name(status), res->reason[0] ? ": " : "",
			res->reason);
	if (res->not_seen) {
		json_t *x;
		size_t i;

		json_array_foreach(res->not_seen, i, x)
			mmt_msg("  note: known kernel bug %s affects this kernel but did not show (it needs %s)\n",
				json_string_value(json_object_get(x, "id")),
				json_string_value(json_object_get(x, "needs")) ?: "?");
	}
	print_metrics(&c, metrics);
	res->status = status;
	for (r = 0; r < o->repeat; r++) {
		json_decref(reps[r].rec);
		free(reps[r].hists);
		for (m = 0; m < c.nr_metrics; m++)
			json_decref(reps[r].samples[m]);
	}
	free(reps);
	json_decref(rec);
	free(c.role_of);
	free(c.index_of);
	free(c.nr_of_role);
	return status;
}

bool mmt_run_interrupted(void)
{
	return interrupted != 0;
}

int mmt_run_cell(const struct mmt_workload *wl, struct mmt_run_opts *o, json_t *sys,
		 const char *run_id, const char *rundir, json_t **rec)
{
	struct wl_result res = { 0 };
	int st;

	*rec = NULL;
	o->capture = rec;
	st = run_workload(wl, o, sys, run_id, rundir, &res);
	o->capture = NULL;
	json_decref(res.not_seen);
	return st;
}

/* -------------------------------------------------------------- the run */

static void make_run_id(char *buf, size_t len)
{
	char host[64] = "host";
	struct tm tm;
	time_t t = time(NULL);
	char *dot;

	gethostname(host, sizeof(host) - 1);
	dot = strchr(host, '.');
	if (dot)
		*dot = '\0';
	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d%02d%02d-%02d%02d%02d-%s", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, host);
}

static void print_summary(struct wl_result *res, int n)
{
	char main[96];
	int i;

	mmt_msg("\n%-18s %-6s %-44s %s\n", "workload", "status", "main metric (mean ± stddev)",
		"splats");
	for (i = 0; i < n; i++) {
		const struct mmt_metric *m0 = res[i].wl->metrics;

		if (res[i].have_main && m0)
			snprintf(main, sizeof(main), "%s %.6g ± %.3g %s", m0->name,
				 res[i].main_mean, res[i].main_sd, m0->unit);
		else
			snprintf(main, sizeof(main), "-");
		char name[64];

		if (res[i].workers)
			snprintf(name, sizeof(name), "%s -w%d", res[i].wl->name, res[i].workers);
		else
			snprintf(name, sizeof(name), "%s", res[i].wl->name);
		mmt_msg("%-18s %-6s %-44s %d\n", name, mmt_status_name(res[i].status),
			main, res[i].splats);
	}
	for (i = 0; i < n; i++) {
		json_t *x;
		size_t j;

		if (res[i].status == MMT_XFAIL)
			mmt_msg("XFAIL %s: %.160s (%s)\n", res[i].wl->name, res[i].reason,
				res[i].known_bug[0] ? res[i].known_bug : "kernel/bugs");
		json_array_foreach(res[i].not_seen, j, x)
			mmt_msg("note: %s: known kernel bug %s affects this kernel but did not show\n",
				res[i].wl->name, json_string_value(json_object_get(x, "id")));
	}
}

int mmt_run(const struct mmt_workload **wls, int nr, struct mmt_run_opts *o)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct wl_result *res;
	char run_id[128], rundir[PATH_MAX], path[PATH_MAX];
	json_t *sys;
	int i, ret, status = MMT_PASS, done = 0;

	if (o->run_id)
		snprintf(run_id, sizeof(run_id), "%s", o->run_id);
	else
		make_run_id(run_id, sizeof(run_id));
	snprintf(rundir, sizeof(rundir), "%s/%s", o->outdir, run_id);
	for (i = 2; !o->run_id && !access(rundir, F_OK) && i < 100; i++)
		snprintf(rundir, sizeof(rundir), "%s/%s-%d", o->outdir, run_id, i);
	snprintf(run_id, sizeof(run_id), "%s", strrchr(rundir, '/') + 1);
	ret = mmt_mkdir_p(rundir, 0755);
	if (ret) {
		mmt_errmsg("cannot create the results directory %s: %s (use -o DIR)", rundir,
			   strerror(-ret));
		return MMT_ERROR;
	}
	res = calloc((size_t)nr * (size_t)(o->nr_sweep ? o->nr_sweep : 1), sizeof(*res));
	if (!res)
		return MMT_ERROR;

	ret = mmt_state_open(o->lock_timeout);
	if (ret) {
		free(res);
		return MMT_ERROR;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	sys = mmt_sysinfo();
	snprintf(path, sizeof(path), "%s/topology.xml", rundir);
	ret = mmt_topology_export(path);
	if (ret)
		mmt_errmsg("warning: cannot save the hwloc topology to %s: %s", path,
			   strerror(-ret));
	mmt_msg("run %s: %d workload%s, records in %s/\n", run_id, nr, nr == 1 ? "" : "s",
		rundir);
	for (i = 0; i < nr && !interrupted; i++) {
		int s;

		if (o->numa_matrix) {
			int st = mmt_numa_matrix(wls[i], o, sys, run_id, rundir);

			status = mmt_worse(status, st == MMT_XFAIL && o->strict ? MMT_FAIL : st);
			continue;
		}
		for (s = 0; s < (o->nr_sweep ? o->nr_sweep : 1) && !interrupted; s++) {
			if (o->nr_sweep)
				o->workers = o->sweep[s];
			int st = run_workload(wls[i], o, sys, run_id, rundir, &res[done]);

			status = mmt_worse(status, st == MMT_XFAIL && o->strict ? MMT_FAIL : st);
			done++;
		}
	}
	json_decref(sys);
	mmt_state_close();
	if (interrupted) {
		mmt_msg("interrupted: every knob the run changed was put back\n");
		status = mmt_worse(status, MMT_ERROR);
	}
	if (done)
		print_summary(res, done);
	snprintf(path, sizeof(path), "%s/latest", o->outdir);
	unlink(path);
	if (symlink(run_id, path))
		mmt_errmsg("warning: cannot link %s: %s", path, strerror(errno));
	mmt_msg("records: %s/\n", rundir);
	for (i = 0; i < done; i++)
		json_decref(res[i].not_seen);
	free(res);
	/* a known kernel bug does not fail the run unless --strict */
	return status == MMT_XFAIL ? MMT_PASS : status;
}

int mmt_memblock_save(struct mmt_ctx *c, int block)
{
	char path[PATH_MAX], zones[256], state[64];
	const char *value = "online";
	int ret;

	(void)c;
	snprintf(path, sizeof(path), "/sys/devices/system/memory/memory%d/state", block);
	ret = mmt_knob_read(path, state, sizeof(state));
	if (ret)
		return ret;
	if (strcmp(state, "online"))
		return -EBUSY;
	/* for an online block, valid_zones names the zone it is in */
	snprintf(path, sizeof(path), "/sys/devices/system/memory/memory%d/valid_zones", block);
	if (!mmt_knob_read(path, zones, sizeof(zones))) {
		if (!strncmp(zones, "Movable", 7))
			value = "online_movable";
		else if (!strncmp(zones, "Normal", 6) || !strncmp(zones, "DMA", 3))
			value = "online_kernel";
	}
	snprintf(path, sizeof(path), "/sys/devices/system/memory/memory%d/state", block);
	return mmt_state_add("memblock", path, value);
}
