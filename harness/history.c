// SPDX-License-Identifier: GPL-2.0
/*
 * history.c - `mmtorture history [WORKLOAD [METRIC]]`: one metric across the
 * runs kept under results/, oldest first (date, run, kernel, value, status).
 * report.c draws the same list as a trend chart.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analysis.h"

const char mmt_history_usage[] =
	"usage: mmtorture history [WORKLOAD [METRIC]] [options]\n"
	"\n"
	"List the runs kept under the results directory, oldest first: date, run id,\n"
	"kernel release, workers, the metric's mean and stddev, and the status.  Without\n"
	"METRIC, each workload's main metric; without WORKLOAD, every record.  Means are\n"
	"harmonic for rates, arithmetic otherwise, over each repeat's mean when a run has\n"
	"3 repeats or more, else over its per-second samples.  Unreadable records are\n"
	"skipped with a warning.  `mmtorture report` draws this as a trend chart.\n"
	"\n"
	"  -o, --results DIR   the results directory (default ./results)\n"
	"  -w, --workers N     only records run with N workers\n"
	"  -f, --format FMT    text (default), markdown or json\n"
	"  -h, --help          this text\n"
	"\n"
	"exit: 0, or 99 on bad input (no results directory, no such workload or metric)\n";

/* Records only: vm.json (written by vm run beside them) is not one. */
static int json_file(const struct dirent *de)
{
	size_t l = strlen(de->d_name);

	return de->d_name[0] != '.' && l > 5 && !strcmp(de->d_name + l - 5, ".json") &&
	       strcmp(de->d_name, "vm.json");
}

static int entry_cmp(const void *pa, const void *pb)
{
	const struct mmt_hist_entry *a = pa, *b = pb;
	int c;

	if (a->when != b->when)
		return a->when < b->when ? -1 : 1;
	c = strcmp(a->run_id, b->run_id);
	if (c)
		return c;
	c = strcmp(a->workload, b->workload);
	if (c)
		return c;
	return a->workers - b->workers;
}

static void fill_entry(struct mmt_hist_entry *e, const struct mmt_rec *r, const char *dirname,
		       const char *metric)
{
	const char *id = json_string_value(json_object_get(r->j, "run_id"));
	const char *name = metric ?: json_string_value(json_object_get(r->j, "main_metric"));
	json_t *m = name ? json_object_get(json_object_get(r->j, "metrics"), name) : NULL;

	memset(e, 0, sizeof(*e));
	e->when = r->started;
	snprintf(e->started, sizeof(e->started), "%s",
		 json_string_value(json_object_get(r->j, "started")) ?: "?");
	snprintf(e->run_id, sizeof(e->run_id), "%s", id ?: dirname);
	snprintf(e->kernel, sizeof(e->kernel), "%s", mmt_rec_kernel(r));
	snprintf(e->workload, sizeof(e->workload), "%s", r->workload);
	snprintf(e->metric, sizeof(e->metric), "%s", name ?: "");
	snprintf(e->status, sizeof(e->status), "%s", mmt_rec_status(r));
	e->workers = r->workers;
	e->sweep = r->sweep;
	e->basis = "";
	if (!m)
		return;
	snprintf(e->unit, sizeof(e->unit), "%s",
		 json_string_value(json_object_get(m, "unit")) ?: "");
	e->harmonic = mmt_metric_harmonic(m);
	e->dir = mmt_metric_dir(m);
	if (!mmt_metric_summary(m, &e->s, &e->basis) && e->s.n)
		e->has_value = true;
}

static int scan_run(const char *results_dir, const char *name, const char *workload,
		    const char *metric, int workers, struct mmt_hist_entry **out, size_t *nr,
		    size_t *cap)
{
	struct dirent **de;
	char dir[PATH_MAX], path[PATH_MAX], err[PATH_MAX + 256];
	struct mmt_rec r;
	int i, n, ret = 0;

	snprintf(dir, sizeof(dir), "%s/%s", results_dir, name);
	n = scandir(dir, &de, json_file, alphasort);
	if (n < 0)
		return 0;	/* not a run directory */
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, de[i]->d_name);
		if (mmt_rec_load(&r, path, err, sizeof(err))) {
			mmt_errmsg("warning: skipping %s", err);
			continue;
		}
		if ((workload && strcmp(workload, r.workload)) ||
		    (workers >= 0 && r.workers != workers)) {
			mmt_rec_free(&r);
			continue;
		}
		if (*nr == *cap) {
			size_t ncap = *cap ? *cap * 2 : 64;
			struct mmt_hist_entry *ne = realloc(*out, ncap * sizeof(*ne));

			if (!ne) {
				mmt_rec_free(&r);
				ret = -ENOMEM;
				break;
			}
			*out = ne;
			*cap = ncap;
		}
		fill_entry(&(*out)[(*nr)++], &r, name, metric);
		mmt_rec_free(&r);
	}
	for (i = 0; i < n; i++)
		free(de[i]);
	free(de);
	return ret;
}

int mmt_history_scan(const char *results_dir, const char *workload, const char *metric,
		     int workers, struct mmt_hist_entry **out, size_t *nr, char *err,
		     size_t errlen)
{
	struct dirent **de;
	size_t cap = 0;
	int i, n, ret = 0;

	*out = NULL;
	*nr = 0;
	n = scandir(results_dir, &de, NULL, alphasort);
	if (n < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot read the results directory %s: %s (see -o DIR)",
			 results_dir, strerror(errno));
		return ret;
	}
	for (i = 0; i < n; i++) {
		char path[PATH_MAX];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", results_dir, de[i]->d_name);
		/* `latest` and other links point at runs listed anyway */
		/* calibration/ holds A/A calibrations (calibrate.c), not runs */
		if (!ret && de[i]->d_name[0] != '.' && strcmp(de[i]->d_name, "calibration") &&
		    !lstat(path, &st) && S_ISDIR(st.st_mode))
			ret = scan_run(results_dir, de[i]->d_name, workload, metric, workers, out,
				       nr, &cap);
		free(de[i]);
	}
	free(de);
	if (ret) {
		snprintf(err, errlen, "out of memory reading %s", results_dir);
		free(*out);
		*out = NULL;
		*nr = 0;
		return ret;
	}
	if (*nr)
		qsort(*out, *nr, sizeof(**out), entry_cmp);
	return 0;
}

/* ---------------------------------------------------------------- command */

#define bad_usage(...) mmt_usage_error("history", __VA_ARGS__)

static const char *date_text(const struct mmt_hist_entry *e, char *buf, size_t len)
{
	struct tm tm;

	if (!e->when) {
		snprintf(buf, len, "%s", e->started);
		return buf;
	}
	gmtime_r(&e->when, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M", &tm);
	return buf;
}

static const char *value_text(const struct mmt_hist_entry *e, char *buf, size_t len)
{
	char m[32], sd[32];

	if (!e->has_value)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%s ± %s", mmt_fmt_num(e->s.mean, m, sizeof(m)),
			 mmt_fmt_num(e->s.stddev, sd, sizeof(sd)));
	return buf;
}

static const char *dir_text(enum mmt_direction d)
{
	return d == MMT_DIR_HIGHER ? "higher is better" : d == MMT_DIR_LOWER ?
	       "lower is better" : "no better direction";
}

static void print_json(const struct mmt_hist_entry *e, size_t nr, const char *results)
{
	json_t *arr = json_array(), *o;
	size_t i;

	for (i = 0; i < nr; i++) {
		o = json_pack("{s:s, s:s, s:s, s:s, s:i, s:b, s:s, s:s, s:s}", "started",
			      e[i].started, "run_id", e[i].run_id, "kernel", e[i].kernel,
			      "workload", e[i].workload, "workers", e[i].workers, "sweep",
			      e[i].sweep, "metric", e[i].metric, "unit", e[i].unit, "status",
			      e[i].status);
		if (e[i].has_value) {
			json_object_set_new(o, "n", json_integer((json_int_t)e[i].s.n));
			json_object_set_new(o, "basis", json_string(e[i].basis));
			json_object_set_new(o, "mean_kind", json_string(e[i].harmonic ? "harmonic" :
									  "arithmetic"));
			json_object_set_new(o, "mean", json_real(e[i].s.mean));
			json_object_set_new(o, "stddev", json_real(e[i].s.stddev));
			json_object_set_new(o, "cov", json_real(e[i].s.cov));
		} else {
			json_object_set_new(o, "mean", json_null());
		}
		json_array_append_new(arr, o);
	}
	o = json_pack("{s:s, s:o}", "results", results, "runs", arr);
	json_dumpf(o, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
	fputc('\n', stdout);
	json_decref(o);
}

static void print_table(const struct mmt_hist_entry *e, size_t nr, const char *workload,
			const char *results, bool md)
{
	char date[32], val[64];
	int wk = 8, wr = 6, wm = 15;
	const struct mmt_hist_entry *first = NULL;
	size_t i;

	for (i = 0; i < nr; i++) {
		if (!first && e[i].has_value)
			first = &e[i];
		wk = (int)strlen(e[i].kernel) > wk ? (int)strlen(e[i].kernel) : wk;
		wr = (int)strlen(e[i].run_id) > wr ? (int)strlen(e[i].run_id) : wr;
		wm = (int)strlen(e[i].workload) + (int)strlen(e[i].metric) + 1 > wm ?
		     (int)strlen(e[i].workload) + (int)strlen(e[i].metric) + 1 : wm;
	}
	if (workload && first)
		printf("%shistory of %s %s (%s, %s; %s mean ± stddev) under %s/\n\n",
		       md ? "## " : "", workload, first->metric, first->unit, dir_text(first->dir),
		       first->harmonic ? "harmonic" : "arithmetic", results);
	else
		printf("%shistory of every workload's main metric under %s/\n\n", md ? "## " : "",
		       results);
	if (md) {
		printf("| date (UTC) | run | kernel |%s workers | value | unit | samples | status |\n",
		       workload ? "" : " workload.metric |");
		printf("|---|---|---|%s--:|--:|---|---|---|\n", workload ? "" : "---|");
	} else {
		printf("%-16s  %-*s  %-*s  ", "date (UTC)", wr, "run", wk, "kernel");
		if (!workload)
			printf("%-*s  ", wm, "workload.metric");
		printf("%7s  %-22s %-10s %-16s %s\n", "workers", "value", "unit", "samples",
		       "status");
	}
	for (i = 0; i < nr; i++) {
		char wm_name[160], samples[48];

		snprintf(wm_name, sizeof(wm_name), "%s.%s", e[i].workload, e[i].metric);
		if (e[i].has_value)
			snprintf(samples, sizeof(samples), "%zu %s", e[i].s.n, e[i].basis);
		else
			snprintf(samples, sizeof(samples), "-");
		date_text(&e[i], date, sizeof(date));
		value_text(&e[i], val, sizeof(val));
		if (md) {
			printf("| %s | `%s` | %s |", date, e[i].run_id, e[i].kernel);
			if (!workload)
				printf(" %s |", wm_name);
			printf(" %d%s | %s | %s | %s | %s |\n", e[i].workers,
			       e[i].sweep ? " (sweep)" : "", val, e[i].unit, samples, e[i].status);
		} else {
			printf("%-16s  %-*s  %-*s  ", date, wr, e[i].run_id, wk, e[i].kernel);
			if (!workload)
				printf("%-*s  ", wm, wm_name);
			printf("%7d  %-23s %-10s %-16s %s\n", e[i].workers, val, e[i].unit,
			       samples, e[i].status);
		}
	}
}

int mmt_cmd_history(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "results", required_argument, NULL, 'o' },
		{ "workers", required_argument, NULL, 'w' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *results = "results", *workload = NULL, *metric = NULL;
	enum mmt_format fmt = MMT_FMT_TEXT;
	struct mmt_hist_entry *e = NULL;
	char err[PATH_MAX + 256];
	long long workers = -1;
	bool any_value = false;
	size_t nr, i;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:w:f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			results = optarg;
			break;
		case 'w':
			if (!mmt_parse_ll(optarg, &workers) || workers < 1 || workers > 1024)
				return bad_usage("invalid --workers '%s': must be an integer from 1 to 1024",
						 optarg);
			break;
		case 'f':
			if (!mmt_parse_format(optarg, &fmt))
				return bad_usage("invalid --format '%s': must be text, markdown or json",
						 optarg);
			break;
		case 'h':
			fputs(mmt_history_usage, stdout);
			return 0;
		case ':':
			return bad_usage("option %s needs a value", argv[optind - 1]);
		default:
			return bad_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		workload = argv[optind++];
	if (optind < argc)
		metric = argv[optind++];
	if (optind < argc)
		return bad_usage("unexpected argument '%s'", argv[optind]);

	if (mmt_history_scan(results, workload, metric, (int)workers, &e, &nr, err,
			     sizeof(err))) {
		mmt_errmsg("%s", err);
		return MMT_ERROR;
	}
	if (workload && !nr) {
		mmt_errmsg("no records of workload '%s'%s under %s/", workload,
			   workers > 0 ? " with those workers" : "", results);
		free(e);
		return MMT_ERROR;
	}
	for (i = 0; i < nr; i++)
		any_value |= e[i].has_value;
	if (metric && !any_value) {
		mmt_errmsg("no record of workload '%s' under %s/ has a metric '%s'", workload,
			   results, metric);
		free(e);
		return MMT_ERROR;
	}
	if (fmt == MMT_FMT_JSON)
		print_json(e, nr, results);
	else if (!nr)
		printf("no runs under %s/\n", results);
	else
		print_table(e, nr, workload, results, fmt == MMT_FMT_MARKDOWN);
	free(e);
	return 0;
}
