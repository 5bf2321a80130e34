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

/* ---- the rules of a verdict ---- */
#define MMT_CMP_ALPHA		0.05	/* after the correction over the whole comparison */
#define MMT_CMP_MIN_SAMPLES	3	/* per side, else inconclusive */
#define MMT_CMP_MIN_EFFECT	0.01	/* the effect floor without an A/A calibration */
#define MMT_CMP_MARGIN		0.05	/* a change whose CI lies within +-5 % is "same" */
#define MMT_CMP_POWER		0.80	/* the detectable change is caught this often */

enum mmt_verdict {
	MMT_V_SAME,		/* the whole CI of the change lies within the margin */
	MMT_V_BETTER,		/* significant after correction, the whole CI beyond the floor */
	MMT_V_WORSE,		/* likewise, the bad way */
	MMT_V_INCONCLUSIVE,	/* neither clearly changed nor clearly the same */
	MMT_V_INFO,		/* the metric has no better direction */
	MMT_V_MISSING,		/* the metric is on one side only */
};

enum mmt_direction {
	MMT_DIR_HIGHER,
	MMT_DIR_LOWER,
	MMT_DIR_NONE,
};

/* How the p-values of one comparison are corrected for the number of metrics. */
enum mmt_correction {
	MMT_CORR_HOLM,	/* family-wise error (Holm-Bonferroni): default */
	MMT_CORR_BH,	/* false discovery rate (Benjamini-Hochberg) */
	MMT_CORR_NONE,
};

struct mmt_cmp {
	struct mmt_summary a, b;	/* mean is harmonic when asked for */
	double delta;		/* (b.mean - a.mean) / |a.mean|; NAN if a.mean is 0 */
	double t, df, p;	/* Welch's t-test; NAN when it could not be done */
	double ci_lo, ci_hi;	/* (1 - alpha) CI of the change, relative to A's arithmetic mean */
	bool log_scale;		/* t, p and the CI from the logs (a ratio metric, all values > 0) */
	double p_adj;		/* p after the correction (p until mmt_cmp_decide() says) */
	double floor;		/* the effect floor used */
	double margin;		/* the equivalence margin used (>= floor) */
	enum mmt_verdict verdict;
	const char *why;	/* inconclusive: why; else NULL */
};

const char *mmt_verdict_name(enum mmt_verdict v);
const char *mmt_correction_name(enum mmt_correction c);
bool mmt_parse_correction(const char *s, enum mmt_correction *c);
/* Welch's t-test (two-sided) on arithmetic means: 0, or -EINVAL if either side has < 2 samples. */
int mmt_welch(const double *a, size_t na, const double *b, size_t nb, double *t, double *df,
	      double *p);
/*
 * Welch's (1 - alpha) confidence interval of mean(b) - mean(a), divided by
 * |mean(a)|: the relative change.  0, or -EINVAL (< 2 samples, mean(a) 0).
 */
int mmt_change_ci(const double *a, size_t na, const double *b, size_t nb, double alpha,
		  double *lo, double *hi);
/*
 * Adjust n p-values for multiplicity (Holm step-down or Benjamini-Hochberg
 * step-up adjusted p-values, each at most 1).  NAN entries are no test: left
 * NAN and not counted.  adj may be p.
 */
void mmt_p_adjust(const double *p, size_t n, enum mmt_correction c, double *adj);
/*
 * The smallest true change (relative) the rule calls with probability
 * `power`, with n samples per side of coefficient of variation cov: the
 * standard error s = cov * sqrt(2 / n), df = 2 (n - 1), and
 *   mdc = max(t(1 - alpha_test / 2) s, floor + t(1 - alpha / 2) s) + t(power) s
 * (significant after the correction, whose first step tests at alpha_test,
 * and the whole CI beyond the floor).  NAN for n < 2.
 */
double mmt_mdc(double cov, size_t n, double floor, double alpha, double alpha_test,
	       double power);
/* The repeats per side for mmt_mdc() <= wanted (2 .. max), or 0 when max is not enough. */
size_t mmt_repeats_for(double cov, double wanted, double floor, double alpha, double alpha_test,
		       double power, size_t max);
/*
 * The effect floor from k >= 2 A/A runs of one metric: the runs' means m[]
 * and the variance of each mean that its own repeats explain, w[i] =
 * sd_i^2 / n_i.  What spreads the means beyond that, s_b^2 = var(m) - mean(w)
 * (at least 0), is drift between runs (load, boot layout); two runs of
 * identical kernels differ by less than z(0.975) sqrt(2) s_b 95 % of the time.
 * Relative to |mean(m)|, at least MMT_CMP_MIN_EFFECT; NAN for k < 2 or a zero
 * mean.  *between (may be NULL): s_b / |mean(m)|.
 */
double mmt_aa_floor(const double *m, const double *w, size_t k, double *between);
/*
 * Summaries of both sides, delta, test, CI and a verdict for one metric, as
 * if it were the only one (p_adj = p, floor MMT_CMP_MIN_EFFECT, margin
 * MMT_CMP_MARGIN).  ratio: a latency or a rate, tested on the logs (the
 * ratio of geometric means) when every value on both sides is positive.
 */
void mmt_cmp_judge(const double *a, size_t na, const double *b, size_t nb, bool harmonic,
		   bool ratio, enum mmt_direction dir, struct mmt_cmp *out);
/* The verdict again with a corrected p, an effect floor and a margin (< floor: floor). */
void mmt_cmp_decide(struct mmt_cmp *c, enum mmt_direction dir, double p_adj, double floor,
		    double margin);

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
struct mmt_cmp_opts {
	enum mmt_correction correction;	/* over every metric of the comparison */
	double margin;		/* a change whose whole CI lies within +-margin is "same" */
	json_t *calibration;	/* an A/A calibration (mmt_calibration_load()), or NULL */
	bool headline_only;	/* exit_code: the nightly rule (headline metrics only) */
};

/*
 * The comparison of B against A as a JSON model (what --format json prints);
 * opts NULL: Holm, margin 5 %, no calibration.  The printers call the runs "A"
 * and "B" unless model.a.label / model.b.label say otherwise.
 */
json_t *mmt_compare_model(const struct mmt_runset *a, const struct mmt_runset *b,
			  const struct mmt_cmp_opts *opts);
/*
 * true when something got worse: a status change for the worse, a new splat
 * (not of a known kernel bug), and a worse metric: any (headline_only false),
 * or a headline metric (true: what pages in nightly).
 */
bool mmt_compare_regressed(json_t *model, bool headline_only);

/* ---- A/A calibration (calibrate.c) ---- */
int mmt_cmd_calibrate(int argc, char **argv);	/* argv[0] == "calibrate" */
extern const char mmt_calibrate_usage[];
/*
 * A calibration file (mmtorture-calibration/1), with "file" set to its path.
 * NULL with a reason in err.
 */
json_t *mmt_calibration_load(const char *path, char *err, size_t errlen);
/*
 * The calibration under results_dir/calibration/ made on the machine of run a
 * (hostname, CPU model, CPUs) that covers most of a's workloads, the newest of
 * those, or NULL (none: not an error).
 */
json_t *mmt_calibration_find(const char *results_dir, const struct mmt_runset *a);
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
