/* SPDX-License-Identifier: GPL-2.0 */
/*
 * analysis.h - reading runs back: compare two runs (compare.c), render a
 * report with gnuplot charts (report.c), list a metric across the runs kept
 * under results/ (history.c).  Records are read only through
 * mmt_record_load(); the statistics come from GSL.
 */
#ifndef MMT_ANALYSIS_H
#define MMT_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>
#include <jansson.h>

#include "internal.h"

/* ---- the commands (main.c's command table) ---- */
int mmt_cmd_compare(int argc, char **argv);	/* argv[0] == "compare" */
int mmt_cmd_report(int argc, char **argv);	/* argv[0] == "report" */
int mmt_cmd_history(int argc, char **argv);	/* argv[0] == "history" */
extern const char mmt_compare_usage[], mmt_report_usage[], mmt_history_usage[];

/* ---- the rules of a verdict (LKP's guards) ---- */
#define MMT_CMP_ALPHA		0.05	/* Welch's t-test significance level */
#define MMT_CMP_MIN_SAMPLES	3	/* per side, else no verdict */
#define MMT_CMP_MIN_EFFECT	0.01	/* |delta| below 1 % is "same" */
#define MMT_CMP_NOISY_COV	0.20	/* CoV above 20 % on either side is "noisy" */

enum mmt_verdict {
	MMT_V_SAME,
	MMT_V_BETTER,
	MMT_V_WORSE,
	MMT_V_NOISY,	/* CoV > 20 % on a side */
	MMT_V_FEW,	/* fewer than 3 samples on a side */
	MMT_V_INFO,	/* the metric has no better direction */
	MMT_V_MISSING,	/* the metric is on one side only */
};

enum mmt_direction {
	MMT_DIR_HIGHER,
	MMT_DIR_LOWER,
	MMT_DIR_NONE,
};

struct mmt_cmp {
	struct mmt_summary a, b;	/* mean is harmonic when asked for */
	double delta;		/* (b.mean - a.mean) / |a.mean|; NAN if a.mean is 0 */
	double t, df, p;	/* Welch's t-test; NAN when it could not be done */
	enum mmt_verdict verdict;
};

const char *mmt_verdict_name(enum mmt_verdict v);
/* Welch's t-test (two-sided) on arithmetic means: 0, or -EINVAL if either side has < 2 samples. */
int mmt_welch(const double *a, size_t na, const double *b, size_t nb, double *t, double *df,
	      double *p);
/* Summaries of both sides, delta, test and verdict for one metric. */
void mmt_cmp_judge(const double *a, size_t na, const double *b, size_t nb, bool harmonic,
		   enum mmt_direction dir, struct mmt_cmp *out);

/* ---- runs: a directory of records ---- */
struct mmt_rec {
	json_t *j;		/* the record */
	char *path;
	const char *workload;	/* inside j */
	int workers;		/* .run.workers */
	bool sweep;		/* written by --sweep-workers (NAME.wN.json) */
	time_t started;		/* 0 when unknown */
};

struct mmt_runset {
	char *dir;		/* the run directory */
	char *id;		/* run_id of its records (else the directory name) */
	struct mmt_rec *recs;	/* sorted by workload, then workers */
	size_t nr;
};

/*
 * RUN is a run directory, a record file, or a run id under results_dir.
 * 0, or -errno with a one-line reason in err (missing run, corrupt record,
 * unknown schema, no records).
 */
int mmt_run_load(const char *run, const char *results_dir, struct mmt_runset *rs, char *err,
		 size_t errlen);
void mmt_run_free(struct mmt_runset *rs);
/* One record file (validated beyond mmt_record_load(): every sample a number). */
int mmt_rec_load(struct mmt_rec *r, const char *path, char *err, size_t errlen);
void mmt_rec_free(struct mmt_rec *r);
/* Records of the same workload and worker setting ("demo", "demo w4" for sweeps). */
void mmt_rec_key(const struct mmt_rec *r, char *buf, size_t len);
const struct mmt_rec *mmt_run_find(const struct mmt_runset *rs, const char *key);

/* A metric of a record: its direction and whether its mean is harmonic. */
enum mmt_direction mmt_metric_dir(json_t *metric);
bool mmt_metric_harmonic(json_t *metric);
/*
 * The samples a verdict uses: each repeat's mean when there are >= 3 repeats
 * (*basis = "repeats"), else the per-second samples (*basis = "per-second";
 * for totals and gauges "per-repeat" or "values").  Caller frees *v.
 */
int mmt_metric_samples(json_t *metric, double **v, size_t *n, const char **basis);
/* Summary (harmonic mean when the record says so) of those samples. */
int mmt_metric_summary(json_t *metric, struct mmt_summary *s, const char **basis);
const char *mmt_rec_kernel(const struct mmt_rec *r);
const char *mmt_rec_status(const struct mmt_rec *r);

/* ---- compare ---- */
enum mmt_format {
	MMT_FMT_TEXT,
	MMT_FMT_MARKDOWN,
	MMT_FMT_JSON,
	MMT_FMT_HTML,	/* a fragment, for report.c */
};

bool mmt_parse_format(const char *s, enum mmt_format *f);
/*
 * The comparison of B against A as a JSON model (what --format json prints).
 * The printers call the runs "A" and "B" unless model.a.label / model.b.label say otherwise.
 */
json_t *mmt_compare_model(const struct mmt_runset *a, const struct mmt_runset *b);
/* true when something got worse: a worse row, a status change for the worse, a new splat */
bool mmt_compare_regressed(json_t *model);
void mmt_compare_print(json_t *model, enum mmt_format fmt, FILE *out);

/* ---- history ---- */
struct mmt_hist_entry {
	time_t when;
	char started[32];	/* ISO 8601 as recorded */
	char run_id[128];
	char kernel[128];
	char workload[64];
	char metric[64];
	char unit[32];
	char status[8];
	int workers;
	bool sweep;
	bool has_value;		/* the record has the metric with samples */
	bool harmonic;		/* the mean is harmonic (a rate) */
	enum mmt_direction dir;
	struct mmt_summary s;	/* of mmt_metric_samples() */
	const char *basis;
};

/*
 * Every record under results_dir (run directories; the `latest` link is
 * skipped) of workload (NULL: all), with metric (NULL: each record's main
 * metric), workers (< 0: any), ordered by date.  Unreadable records are
 * skipped with a warning on stderr.  0 or -errno with a reason in err.
 */
int mmt_history_scan(const char *results_dir, const char *workload, const char *metric,
		     int workers, struct mmt_hist_entry **out, size_t *nr, char *err,
		     size_t errlen);

/* ---- small helpers ---- */
/* 4 significant digits with k/M/G/T suffixes: 178.7, 263.0M, 6.765M. */
const char *mmt_fmt_num(double v, char *buf, size_t len);
bool mmt_parse_time(const char *iso, time_t *t);
/* s with <, >, & and " escaped */
void mmt_html_puts(FILE *out, const char *s);

#endif /* MMT_ANALYSIS_H */
