/* SPDX-License-Identifier: GPL-2.0 */
/* internal.h - harness-internal interfaces (not for workloads). */
#ifndef MMT_INTERNAL_H
#define MMT_INTERNAL_H

#include <limits.h>
#include <stdio.h>
#include <jansson.h>

#include "mmtorture.h"

#define MMT_RECORD_SCHEMA "mmtorture-record/1"
#define MMT_STATE_SCHEMA "mmtorture-state/1"
#define MMT_DEFAULT_STATE_DIR "/run/mmtorture"
#define MMT_KNOWN_BUGS_SCHEMA "mmtorture-known-bugs/1"

/*
 * A FAIL that matches a known kernel bug on a kernel it affects (knownbugs.c).
 * Harness-internal: never a workload's return value; a run exits 0 for it
 * (1 with --strict).  Ranks between PASS and SKIP.
 */
#define MMT_XFAIL 2

/* ---- util.c ---- */
void mmt_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mmt_errmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int mmt_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int mmt_write_str(const char *path, const char *s);
int mmt_write_atomic(const char *path, const char *data, size_t len);
int mmt_mkdir_p(const char *path, mode_t mode);
int mmt_rm_rf(const char *path);
bool mmt_parse_double(const char *s, double *out);
bool mmt_parse_ll(const char *s, long long *out);
bool mmt_parse_size(const char *s, unsigned long long *out);
bool mmt_parse_bool(const char *s, bool *out);
void mmt_iso8601(const struct timespec *ts, char *buf, size_t len);
double mmt_mono_s(void);
const char *mmt_strip(char *s);

/* ---- stats.c ---- */
struct mmt_summary {
	size_t n;
	bool harmonic;	/* mean is harmonic (asked for, and every sample > 0) */
	double mean;	/* harmonic for rates, arithmetic otherwise */
	double amean;
	double median, stddev, cov, min, max;
};

void mmt_summarize(const double *v, size_t n, bool harmonic, struct mmt_summary *s);
void mmt_hist_merge(struct mmt_hist *dst, const struct mmt_hist *src);
/* Value at percentile p (0..100): the upper bound of the bucket holding it. */
uint64_t mmt_hist_percentile(const struct mmt_hist *h, double p);
uint64_t mmt_hist_bucket_upper(unsigned int idx);

/* ---- state.c ---- */
int mmt_state_open(double lock_timeout_s);	/* lock; restore a stale state first */
void mmt_state_close(void);
void mmt_state_drop_lock(void);		/* in a forked worker */
const char *mmt_state_dir(void);
int mmt_state_save_knob(const char *path);	/* save original value if not yet saved */
int mmt_state_add(const char *kind, const char *path, const char *value);
int mmt_state_restore(void);			/* restore everything this process saved */
int mmt_state_restore_stale(bool *found);	/* `mmtorture restore` */
bool mmt_state_active(void);
bool mmt_state_had_stale(void);		/* mmt_state_open() restored a killed run's state */

/* ---- kmsg.c ---- */
#define MMT_MAX_SPLATS 16
#define MMT_MAX_OOM 64

struct mmt_kmsg {
	int fd;
	char unavailable[128];	/* why the log cannot be watched, or "" */
	json_t *splats;		/* array of { "line", "excerpt": [...] } */
	json_t *open_excerpt;	/* excerpt still collecting lines */
	int excerpt_left;
	pid_t oom_pids[MMT_MAX_OOM];
	int nr_oom;
};

int mmt_kmsg_open(struct mmt_kmsg *k);
void mmt_kmsg_close(struct mmt_kmsg *k);
int mmt_kmsg_poll(struct mmt_kmsg *k);	/* returns number of new splats */
int mmt_kmsg_write(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool mmt_is_splat(const char *msg);
bool mmt_kmsg_oom_killed(const struct mmt_kmsg *k, pid_t pid);

/* ---- sysinfo.c ---- */
json_t *mmt_sysinfo(void);
int mmt_topology_export(const char *xml_path);
void mmt_sysinfo_print(json_t *info, FILE *out);
bool mmt_node_valid(int node);
const char *mmt_git_version(void);

/* ---- record.c ---- */
json_t *mmt_summary_json(const struct mmt_summary *s);
/* Metric m of wl is a headline metric (flagged, or [0] when none is flagged). */
bool mmt_metric_headline(const struct mmt_workload *wl, unsigned int m);
/* The names of wl's headline metrics, as a JSON array. */
json_t *mmt_headline_json(const struct mmt_workload *wl);
int mmt_record_write(const char *path, json_t *rec);
json_t *mmt_record_load(const char *path, char *err, size_t errlen);
/* One record from several runs of the same workload and parameters (ab boots). */
json_t *mmt_record_merge(json_t **recs, int n, char *err, size_t errlen);

/* ---- knownbugs.c ---- */
const char *mmt_known_bugs_path(void);	/* $MMT_KNOWN_BUGS or kernel/bugs/known-bugs.json */
json_t *mmt_known_bugs_load(const char *path, char *err, size_t errlen);
json_t *mmt_known_bugs(void);		/* the list at that path, loaded once, or NULL */
bool mmt_known_bug_affects(json_t *bug, const char *release, const char *series);
/* Judge a record in place: FAIL -> XFAIL when a known bug matches; returns the status. */
int mmt_known_bugs_judge(json_t *list, json_t *rec);
int mmt_cmd_bugs(int argc, char **argv);
extern const char mmt_bugs_usage[];

/* ---- registry / requirements (runner.c) ---- */
const struct mmt_workload *const *mmt_workloads(size_t *nr);
const struct mmt_workload *mmt_find_workload(const char *name);
/* NULL if the machine can run it, else a reason (in buf). */
const char *mmt_cannot_run(const struct mmt_workload *wl, bool destructive_ok,
			   char *buf, size_t len);
const char *mmt_status_name(int status);
int mmt_worse(int a, int b);

struct mmt_run_opts {
	double duration, warmup, grace, lock_timeout;
	int workers;		/* 0: the workload's default */
	int repeat;
	const char *outdir;
	const char *run_id;
	int cpu_node, mem_node;	/* -1: not bound */
	bool interleave;	/* memory interleaved over interleave_mask (mem_node -1) */
	unsigned long long interleave_mask;	/* node bits */
	bool numa_matrix;	/* --numa-matrix: every (CPU node, memory node) cell */
	unsigned long long matrix_min_free;	/* bytes a memory node needs free for a cell */
	json_t **capture;	/* set: hand the record back instead of writing it */
	unsigned int inject;
	bool allow_destructive;
	bool strict;		/* XFAIL (known kernel bug) counts as FAIL for the exit */
	bool tty;
	char **params;		/* NAME=VALUE */
	int nr_params;
	int sweep[32];		/* --sweep-workers: worker counts, 0-terminated */
	int nr_sweep;
};

int mmt_run(const struct mmt_workload **wls, int nr, struct mmt_run_opts *o);
/* Check -p NAME=VALUE against the workloads; one-line error and false if bad. */
bool mmt_params_valid(const struct mmt_workload **wls, int nr, struct mmt_run_opts *o);

#endif /* MMT_INTERNAL_H */
