// SPDX-License-Identifier: GPL-2.0
/*
 * report.c - `mmtorture report RUN... [-o DIR]`: a Markdown and an HTML
 * report with PNG charts drawn by gnuplot (the scripts live in plot/):
 *
 *   - each later run compared against the first (compare.c's tables);
 *   - per workload and metric, the runs side by side: mean and stddev bars;
 *   - scaling curves, ops/s against workers with the linear line, when the
 *     runs hold --sweep-workers records;
 *   - latency percentiles (p50 .. max) from the records' histograms;
 *   - a trend chart of each workload's main metric over the runs kept in the
 *     results directory (the same list `mmtorture history` prints).
 *
 * We write the data files (DIR/data/NAME.dat) and run /usr/bin/gnuplot on them;
 * its messages go to DIR/data/gnuplot.log.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analysis.h"
#include "numamatrix.h"

const char mmt_report_usage[] =
	"usage: mmtorture report RUN... [options]\n"
	"\n"
	"Write DIR/report.md and DIR/report.html with PNG charts in DIR/charts/, drawn by\n"
	"gnuplot (apt-get install gnuplot-nox) from the scripts in plot/:\n"
	"  - every run after the first compared against the first (as `mmtorture compare`,\n"
	"    with the newest A/A calibration of the machine under the results directory):\n"
	"    per metric the verdict (worse, better, same, inconclusive), the change the\n"
	"    samples can detect, and whether it pages in nightly (a headline metric);\n"
	"  - per workload and metric, the runs side by side (mean, stddev error bars);\n"
	"  - scaling curves, ops/s against workers with the linear line, for runs made\n"
	"    with `mmtorture run --sweep-workers 1,2,4`;\n"
	"  - latency percentiles (p50, p90, p99, p99.9, max) of each latency metric;\n"
	"  - a trend chart of each workload's main metric over the runs kept in the\n"
	"    results directory (see `mmtorture history`);\n"
	"  - for `run --numa-matrix` records, a heat map per metric (CPU node by memory\n"
	"    node) and a table of each cell's placement and numastat accounting.\n"
	"\n"
	"A RUN is a run directory (results/RUN-ID), one record file, or a run id looked\n"
	"up under the results directory (`latest` is the newest run).\n"
	"\n"
	"  -o, --output DIR    where the report goes (default ./report)\n"
	"      --results DIR   where run ids are looked up and the history is read\n"
	"                      (default ./results; for the history, the directory\n"
	"                      holding the first RUN when RUN is a path)\n"
	"  -h, --help          this text\n"
	"\n"
	"Environment: MMT_PLOT_DIR (the gnuplot scripts), MMT_GNUPLOT (default /usr/bin/gnuplot).\n"
	"exit: 0 report written, 99 bad input (a missing run, a corrupt record) or gnuplot failed\n";

#define MAX_RUNS 26

struct report {
	const char *outdir;
	char plot[PATH_MAX];
	char gnuplot[PATH_MAX];
	char log[PATH_MAX];
	char history[PATH_MAX];
	struct mmt_runset runs[MAX_RUNS];
	char label[MAX_RUNS][160];
	size_t nr;
	FILE *md, *html, *logf;
	int charts;
	char err[PATH_MAX + 512];
};

static int report_err(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int report_err(struct report *r, const char *fmt, ...)
{
	va_list ap;

	if (r->err[0])
		return -EIO;	/* the first error says it best */
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return -EIO;
}

/* ------------------------------------------------------------- gnuplot */

static bool plot_dir_ok(const char *dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/metric.gp", dir);
	return !access(path, R_OK);
}

/* $MMT_PLOT_DIR, the build's source tree, beside the executable, ./plot */
static int find_plot_dir(struct report *r)
{
	static const char *const rel[] = {
		"../plot", "../../plot", "../../../plot", "../share/mmtorture/plot",
	};
	char exe[PATH_MAX], cand[PATH_MAX * 2];
	const char *env = getenv("MMT_PLOT_DIR");
	ssize_t n;
	size_t i;

	if (env && *env) {
		if (!plot_dir_ok(env))
			return report_err(r, "MMT_PLOT_DIR=%s holds no metric.gp", env);
		snprintf(cand, sizeof(cand), "%s", env);
		goto found;
	}
#ifdef MMT_PLOT_DIR
	if (plot_dir_ok(MMT_PLOT_DIR)) {
		snprintf(cand, sizeof(cand), "%s", MMT_PLOT_DIR);
		goto found;
	}
#endif
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
			snprintf(cand, sizeof(cand), "%s/%s", dirname(exe), rel[i]);
			if (plot_dir_ok(cand))
				goto found;
			exe[n] = '\0';	/* dirname() may have cut it */
		}
	}
	snprintf(cand, sizeof(cand), "plot");
	if (plot_dir_ok(cand))
		goto found;
	return report_err(r, "cannot find the gnuplot scripts (plot/metric.gp); set MMT_PLOT_DIR");
found:
	if (!realpath(cand, r->plot))
		snprintf(r->plot, sizeof(r->plot), "%s", cand);
	return 0;
}

static int find_gnuplot(struct report *r)
{
	const char *env = getenv("MMT_GNUPLOT");

	snprintf(r->gnuplot, sizeof(r->gnuplot), "%s", env && *env ? env : "/usr/bin/gnuplot");
	if (access(r->gnuplot, X_OK))
		return report_err(r, "gnuplot not found at %s (apt-get install gnuplot-nox, or set MMT_GNUPLOT)",
				  r->gnuplot);
	return 0;
}

/* the last non-empty line gnuplot wrote, for a one-line error */
static void log_tail(struct report *r, char *buf, size_t len)
{
	char line[512];
	FILE *f = fopen(r->log, "r");

	buf[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (*mmt_strip(line) && line[0] != '=' && !strchr("^ ", line[0]))
			snprintf(buf, len, "%s", mmt_strip(line));
	}
	fclose(f);
}

/* gnuplot -c plot/SCRIPT DATA PNG ARGS...; 0 once PNG exists and is not empty */
static int gnuplot(struct report *r, const char *script, const char *data, const char *png,
		   const char *const *args)
{
	char path[PATH_MAX * 2], tail[512];
	const char *argv[16];
	struct stat st;
	int n = 0, status, nullfd;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/%s", r->plot, script);
	argv[n++] = "gnuplot";
	argv[n++] = "-c";
	argv[n++] = path;
	argv[n++] = data;
	argv[n++] = png;
	while (*args && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	fprintf(r->logf, "== %s %s %s\n", script, data, png);
	fflush(r->logf);
	unlink(png);
	pid = fork();
	if (pid < 0)
		return report_err(r, "cannot start gnuplot: %s", strerror(errno));
	if (pid == 0) {
		nullfd = open("/dev/null", O_RDONLY);
		if (nullfd >= 0)
			dup2(nullfd, STDIN_FILENO);
		dup2(fileno(r->logf), STDOUT_FILENO);
		dup2(fileno(r->logf), STDERR_FILENO);
		execv(r->gnuplot, (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", r->gnuplot, strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return report_err(r, "waiting for gnuplot: %s", strerror(errno));
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		log_tail(r, tail, sizeof(tail));
		return report_err(r, "gnuplot failed drawing %s with plot/%s: %s (see %s)", png,
				  script, tail[0] ? tail : "no message", r->log);
	}
	if (stat(png, &st) || st.st_size == 0)
		return report_err(r, "gnuplot wrote no %s (see %s)", png, r->log);
	r->charts++;
	return 0;
}

/* ------------------------------------------------------------- output */

static void name_part(const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (; *in && o + 1 < len; in++)
		out[o++] = (isalnum((unsigned char)*in) || strchr("_.-", *in)) ? *in : '_';
	out[o] = '\0';
}

/* "metric", "demo w2", "ops" -> "metric-demo_w2-ops" */
static void chart_name(char *buf, size_t len, const char *kind, const char *key,
		       const char *metric)
{
	char k[128], m[128];

	name_part(key, k, sizeof(k));
	name_part(metric ? metric : "", m, sizeof(m));
	snprintf(buf, len, "%s-%s%s%s", kind, k, metric ? "-" : "", m);
}

static FILE *data_open(struct report *r, const char *name, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/data/%s.dat", r->outdir, name);
	f = fopen(path, "w");
	if (!f)
		report_err(r, "cannot write %s: %s", path, strerror(errno));
	return f;
}

static int data_close(struct report *r, FILE *f, const char *path)
{
	if (ferror(f) | fclose(f))
		return report_err(r, "cannot write %s", path);
	return 0;
}

/* a gnuplot data-file string: no quotes inside */
static void gp_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++)
		fputc(*s == '"' ? '\'' : *s, f);
	fputc('"', f);
}

static void heading(struct report *r, int level, const char *text)
{
	fprintf(r->md, "\n%.*s %s\n\n", level, "######", text);
	fprintf(r->html, "<h%d>", level);
	mmt_html_puts(r->html, text);
	fprintf(r->html, "</h%d>\n", level);
}

static void para(struct report *r, const char *text)
{
	fprintf(r->md, "%s\n\n", text);
	fprintf(r->html, "<p>");
	mmt_html_puts(r->html, text);
	fprintf(r->html, "</p>\n");
}

/* draw, then reference the chart from both documents */
static int chart(struct report *r, const char *script, const char *name, const char *data,
		 const char *caption, const char *const *args)
{
	char png[PATH_MAX];
	int ret;

	snprintf(png, sizeof(png), "%s/charts/%s.png", r->outdir, name);
	ret = gnuplot(r, script, data, png, args);
	if (ret)
		return ret;
	fprintf(r->md, "![%s](charts/%s.png)\n\n", caption, name);
	fprintf(r->html, "<figure><img src=\"charts/%s.png\" alt=\"", name);
	mmt_html_puts(r->html, caption);
	fprintf(r->html, "\"><figcaption>");
	mmt_html_puts(r->html, caption);
	fprintf(r->html, "</figcaption></figure>\n");
	return 0;
}

/* ------------------------------------------------------------- sections */

static const char *sys_str(const struct mmt_rec *rec, const char *a, const char *b)
{
	json_t *v = json_object_get(json_object_get(rec->j, "system"), a);

	if (b)
		v = json_object_get(v, b);
	return json_string_value(v) ?: "?";
}

static void section_runs(struct report *r)
{
	static const char *const cols[] = {
		"run", "id", "started", "kernel", "patches", "host", "THP", "hugetlb vmemmap opt",
		"records", "status",
	};
	size_t i, j, c;

	heading(r, 2, "Runs");
	fprintf(r->md, "|");
	fprintf(r->html, "<table>\n<tr>");
	for (c = 0; c < sizeof(cols) / sizeof(cols[0]); c++) {
		fprintf(r->md, " %s |", cols[c]);
		fprintf(r->html, "<th>%s</th>", cols[c]);
	}
	fprintf(r->md, "\n|");
	for (c = 0; c < sizeof(cols) / sizeof(cols[0]); c++)
		fprintf(r->md, "---|");
	fprintf(r->md, "\n");
	fprintf(r->html, "</tr>\n");
	for (i = 0; i < r->nr; i++) {
		const struct mmt_rec *rec = &r->runs[i].recs[0];
		const char *series = json_string_value(json_object_get(json_object_get(
				json_object_get(rec->j, "system"), "kernel"), "patch_series"));
		char status[256] = "", cell[10][512];
		size_t off = 0;

		for (j = 0; j < r->runs[i].nr && off < sizeof(status); j++) {
			const char *st = mmt_rec_status(&r->runs[i].recs[j]);

			if (strcmp(st, "PASS")) {
				char key[128];

				mmt_rec_key(&r->runs[i].recs[j], key, sizeof(key));
				off += (size_t)snprintf(status + off, sizeof(status) - off,
							"%s%s %s", off ? ", " : "", key, st);
			}
		}
		snprintf(cell[0], sizeof(cell[0]), "%c", (int)('A' + i));
		snprintf(cell[1], sizeof(cell[1]), "%s", r->runs[i].id);
		snprintf(cell[2], sizeof(cell[2]), "%s",
			 json_string_value(json_object_get(rec->j, "started")) ?: "?");
		snprintf(cell[3], sizeof(cell[3]), "%s", mmt_rec_kernel(rec));
		snprintf(cell[4], sizeof(cell[4]), "%s", series ? series : "-");
		snprintf(cell[5], sizeof(cell[5]), "%s", sys_str(rec, "hostname", NULL));
		snprintf(cell[6], sizeof(cell[6]), "%s", sys_str(rec, "thp", "enabled"));
		snprintf(cell[7], sizeof(cell[7]), "%s",
			 sys_str(rec, "hugetlb", "hugetlb_optimize_vmemmap"));
		snprintf(cell[8], sizeof(cell[8]), "%zu", r->runs[i].nr);
		snprintf(cell[9], sizeof(cell[9]), "%s", off ? status : "all PASS");
		fprintf(r->md, "|");
		fprintf(r->html, "<tr>");
		for (c = 0; c < 10; c++) {
			fprintf(r->md, c == 1 ? " `%s` |" : " %s |", cell[c]);
			fprintf(r->html, "<td>");
			mmt_html_puts(r->html, cell[c]);
			fprintf(r->html, "</td>");
		}
		fprintf(r->md, "\n");
		fprintf(r->html, "</tr>\n");
	}
	fprintf(r->md, "\nRun directories:\n\n");
	for (i = 0; i < r->nr; i++)
		fprintf(r->md, "- %c: `%s`\n", (int)('A' + i), r->runs[i].dir);
	fprintf(r->html, "</table>\n<ul>\n");
	for (i = 0; i < r->nr; i++) {
		fprintf(r->html, "<li>%c: <code>", (int)('A' + i));
		mmt_html_puts(r->html, r->runs[i].dir);
		fprintf(r->html, "</code></li>\n");
	}
	fprintf(r->html, "</ul>\n");
}

static int section_compare(struct report *r)
{
	size_t i;

	for (i = 1; i < r->nr; i++) {
		struct mmt_cmp_opts o = { .correction = MMT_CORR_HOLM, .margin = MMT_CMP_MARGIN,
					  .calibration = mmt_calibration_find(r->history,
									      &r->runs[0]) };
		json_t *m = mmt_compare_model(&r->runs[0], &r->runs[i], &o);

		json_decref(o.calibration);
		char la[2] = { 'A', 0 }, lb[2] = { (char)('A' + i), 0 };

		if (!m)
			return report_err(r, "out of memory");
		json_object_set_new(json_object_get(m, "a"), "label", json_string(la));
		json_object_set_new(json_object_get(m, "b"), "label", json_string(lb));
		fprintf(r->md, "\n");
		mmt_compare_print(m, MMT_FMT_MARKDOWN, r->md);
		mmt_compare_print(m, MMT_FMT_HTML, r->html);
		json_decref(m);
	}
	return 0;
}

/* the metric names of a key across the runs: the main metric first, then in record order */
static json_t *metric_names(struct report *r, const char *key)
{
	json_t *names = json_array(), *x;
	const char *name;
	size_t i, j;

	for (i = 0; i < r->nr; i++) {
		const struct mmt_rec *rec = mmt_run_find(&r->runs[i], key);
		const char *mm;
		bool have;

		if (!rec)
			continue;
		mm = json_string_value(json_object_get(rec->j, "main_metric"));
		if (mm && !json_array_size(names))
			json_array_append_new(names, json_string(mm));
		json_object_foreach(json_object_get(rec->j, "metrics"), name, x) {
			have = false;
			for (j = 0; j < json_array_size(names); j++)
				if (!strcmp(json_string_value(json_array_get(names, j)), name))
					have = true;
			if (!have)
				json_array_append_new(names, json_string(name));
		}
	}
	return names;
}

static json_t *rec_metric(const struct mmt_rec *rec, const char *name)
{
	return rec ? json_object_get(json_object_get(rec->j, "metrics"), name) : NULL;
}

static const char *dir_words(enum mmt_direction d)
{
	return d == MMT_DIR_HIGHER ? "higher is better" : d == MMT_DIR_LOWER ? "lower is better" :
	       "no better direction";
}

/* a table: one row per metric, one column per run (mean ± sd) */
static void values_table(struct report *r, const char *key, json_t *names)
{
	char num[2][32];
	size_t i, j;

	fprintf(r->md, "| metric | unit |");
	fprintf(r->html, "<table>\n<tr><th>metric</th><th>unit</th>");
	for (i = 0; i < r->nr; i++) {
		fprintf(r->md, " %s |", r->label[i]);
		fprintf(r->html, "<th>");
		mmt_html_puts(r->html, r->label[i]);
		fprintf(r->html, "</th>");
	}
	fprintf(r->md, "\n|---|---|");
	for (i = 0; i < r->nr; i++)
		fprintf(r->md, "--:|");
	fprintf(r->md, "\n");
	fprintf(r->html, "</tr>\n");
	for (j = 0; j < json_array_size(names); j++) {
		const char *name = json_string_value(json_array_get(names, j));
		const char *unit = NULL;

		for (i = 0; i < r->nr && !unit; i++)
			unit = json_string_value(json_object_get(rec_metric(
					mmt_run_find(&r->runs[i], key), name), "unit"));
		fprintf(r->md, "| %s | %s |", name, unit ?: "");
		fprintf(r->html, "<tr><td>");
		mmt_html_puts(r->html, name);
		fprintf(r->html, "</td><td>");
		mmt_html_puts(r->html, unit ?: "");
		fprintf(r->html, "</td>");
		for (i = 0; i < r->nr; i++) {
			json_t *m = rec_metric(mmt_run_find(&r->runs[i], key), name);
			struct mmt_summary s;
			const char *basis;
			char cell[96] = "-";

			if (m && !mmt_metric_summary(m, &s, &basis) && s.n)
				snprintf(cell, sizeof(cell), "%s ± %s (%zu)",
					 mmt_fmt_num(s.mean, num[0], sizeof(num[0])),
					 mmt_fmt_num(s.stddev, num[1], sizeof(num[1])), s.n);
			fprintf(r->md, " %s |", cell);
			fprintf(r->html, "<td class=\"num\">");
			mmt_html_puts(r->html, cell);
			fprintf(r->html, "</td>");
		}
		fprintf(r->md, "\n");
		fprintf(r->html, "</tr>\n");
	}
	fprintf(r->md, "\n_mean ± stddev (samples): harmonic means for rates; each repeat's mean"
		" when a run has 3 repeats or more, else per-second samples_\n\n");
	fprintf(r->html, "</table>\n<p class=\"rules\">mean ± stddev (samples): harmonic means"
		" for rates; each repeat's mean when a run has 3 repeats or more, else per-second"
		" samples</p>\n");
}

/* per metric: the runs side by side, mean with a stddev error bar */
static int metric_chart(struct report *r, const char *key, const char *name)
{
	char cname[256], path[PATH_MAX], caption[512], ylabel[96];
	const char *basis = NULL, *unit = NULL;
	enum mmt_direction dir = MMT_DIR_NONE;
	bool harmonic = false, mixed = false, negative = false;
	size_t i, rows = 0;
	FILE *f;

	chart_name(cname, sizeof(cname), "metric", key, name);
	f = data_open(r, cname, path, sizeof(path));
	if (!f)
		return -EIO;
	for (i = 0; i < r->nr; i++) {
		json_t *m = rec_metric(mmt_run_find(&r->runs[i], key), name);
		struct mmt_summary s;
		const char *b;

		if (!m || mmt_metric_summary(m, &s, &b) || !s.n)
			continue;
		if (!unit) {
			unit = json_string_value(json_object_get(m, "unit"));
			dir = mmt_metric_dir(m);
			harmonic = mmt_metric_harmonic(m);
		}
		if (basis && strcmp(basis, b))
			mixed = true;
		basis = b;
		negative |= s.mean - s.stddev < 0;
		gp_str(f, r->label[i]);
		fprintf(f, " %.10g %.10g %zu\n", s.mean, s.stddev, s.n);
		rows++;
	}
	if (data_close(r, f, path))
		return -EIO;
	if (!rows)
		return 0;
	snprintf(caption, sizeof(caption), "%s: %s (%s mean ± stddev; samples: %s; %s)", key,
		 name, harmonic ? "harmonic" : "arithmetic", mixed ? "mixed" : basis,
		 dir_words(dir));
	snprintf(ylabel, sizeof(ylabel), "%s", unit ?: "");
	return chart(r, "metric.gp", cname, path, caption,
		     (const char *const[]){ caption, ylabel, negative ? "*" : "0", NULL });
}

static int latency_chart(struct report *r, const char *key, const char *name)
{
	static const char *const pct[] = { "p50", "p90", "p99", "p999", "max" };
	static const char *const pct_label[] = { "p50", "p90", "p99", "p99.9", "max" };
	char cname[256], path[PATH_MAX], caption[512], nruns[16];
	const char *unit = NULL;
	size_t i, p, have = 0;
	bool with[MAX_RUNS] = { false };
	FILE *f;

	for (i = 0; i < r->nr; i++) {
		json_t *m = rec_metric(mmt_run_find(&r->runs[i], key), name);

		if (json_is_object(json_object_get(m, "histogram")) &&
		    json_integer_value(json_object_get(json_object_get(m, "histogram"), "count"))) {
			have++;
			with[i] = true;
			unit = unit ?: json_string_value(json_object_get(m, "unit"));
		}
	}
	if (!have)
		return 0;
	chart_name(cname, sizeof(cname), "latency", key, name);
	f = data_open(r, cname, path, sizeof(path));
	if (!f)
		return -EIO;
	fprintf(f, "percentile");
	for (i = 0; i < r->nr; i++) {
		if (!with[i])
			continue;
		fputc(' ', f);
		gp_str(f, r->label[i]);
	}
	fputc('\n', f);
	for (p = 0; p < sizeof(pct) / sizeof(pct[0]); p++) {
		gp_str(f, pct_label[p]);
		for (i = 0; i < r->nr; i++) {
			json_t *m = rec_metric(mmt_run_find(&r->runs[i], key), name);
			json_t *v = json_object_get(json_object_get(m, "histogram"), pct[p]);

			if (!with[i])
				continue;

			if (json_is_number(v) && json_number_value(v) > 0)
				fprintf(f, " %.10g", json_number_value(v));
			else
				fprintf(f, " NaN");
		}
		fputc('\n', f);
	}
	if (data_close(r, f, path))
		return -EIO;
	snprintf(caption, sizeof(caption),
		 "%s: %s latency percentiles (all workers and repeats; each within 6.25 %%)", key,
		 name);
	snprintf(nruns, sizeof(nruns), "%zu", have);
	return chart(r, "latency.gp", cname, path, caption,
		     (const char *const[]){ caption, unit ?: "ns", nruns, NULL });
}

/* ops/s against workers for the workload's --sweep-workers records */
static int scaling_chart(struct report *r, const char *workload)
{
	int workers[64], nw = 0, k;
	char cname[256], path[PATH_MAX], caption[512], nruns[16];
	const char *metric = NULL, *unit = NULL;
	size_t i, j, with = 0;
	bool has[MAX_RUNS] = { false };
	FILE *f;

	for (i = 0; i < r->nr; i++) {
		size_t mine = 0;

		for (j = 0; j < r->runs[i].nr; j++) {
			const struct mmt_rec *rec = &r->runs[i].recs[j];
			bool seen = false;

			if (!rec->sweep || strcmp(rec->workload, workload))
				continue;
			mine++;
			if (!metric)
				metric = json_string_value(json_object_get(rec->j, "main_metric"));
			for (k = 0; k < nw; k++)
				seen |= workers[k] == rec->workers;
			if (!seen && nw < 64)
				workers[nw++] = rec->workers;
		}
		with += mine >= 2;
		has[i] = mine > 0;
	}
	if (!with || !metric)
		return 0;
	/* sort the worker counts */
	for (k = 1; k < nw; k++) {
		int v = workers[k], l = k - 1;

		for (; l >= 0 && workers[l] > v; l--)
			workers[l + 1] = workers[l];
		workers[l + 1] = v;
	}
	chart_name(cname, sizeof(cname), "scaling", workload, metric);
	f = data_open(r, cname, path, sizeof(path));
	if (!f)
		return -EIO;
	fprintf(f, "workers");
	for (i = 0; i < r->nr; i++) {
		if (!has[i])
			continue;
		fputc(' ', f);
		gp_str(f, r->label[i]);
		fprintf(f, " sd linear");
	}
	fputc('\n', f);
	for (k = 0; k < nw; k++) {
		fprintf(f, "%d", workers[k]);
		for (i = 0; i < r->nr; i++) {
			double base = NAN, v = NAN, sd = NAN;
			int w0 = 0;

			if (!has[i])
				continue;
			for (j = 0; j < r->runs[i].nr; j++) {
				const struct mmt_rec *rec = &r->runs[i].recs[j];
				json_t *m = rec_metric(rec, metric);
				struct mmt_summary s;
				const char *b;

				if (!rec->sweep || strcmp(rec->workload, workload) || !m ||
				    mmt_metric_summary(m, &s, &b) || !s.n)
					continue;
				unit = unit ?: json_string_value(json_object_get(m, "unit"));
				if (!w0 || rec->workers < w0) {
					w0 = rec->workers;
					base = s.mean;
				}
				if (rec->workers == workers[k]) {
					v = s.mean;
					sd = s.stddev;
				}
			}
			if (isnan(v))
				fprintf(f, " NaN NaN NaN");
			else
				fprintf(f, " %.10g %.10g %.10g", v, sd,
					base * workers[k] / (w0 ? w0 : 1));
		}
		fputc('\n', f);
	}
	if (data_close(r, f, path))
		return -EIO;
	snprintf(caption, sizeof(caption),
		 "%s: %s against workers (mean ± stddev); dashed: linear scaling from the fewest workers",
		 workload, metric);
	for (i = 0, j = 0; i < r->nr; i++)
		j += has[i];
	snprintf(nruns, sizeof(nruns), "%zu", j);
	return chart(r, "scaling.gp", cname, path, caption,
		     (const char *const[]){ caption, unit ?: "", nruns, NULL });
}

/* the main metric across the runs kept in the results directory */
static int trend_chart(struct report *r, const char *key, const struct mmt_rec *first)
{
	const char *metric = json_string_value(json_object_get(first->j, "main_metric"));
	char cname[256], path[PATH_MAX], caption[600], err[PATH_MAX + 256], note[PATH_MAX + 300];
	struct mmt_hist_entry *e;
	const char *unit = "";
	size_t nr, i, k, rows = 0;
	FILE *f;

	if (!metric)
		return 0;
	if (mmt_history_scan(r->history, first->workload, metric, first->workers, &e, &nr, err,
			     sizeof(err))) {
		snprintf(note, sizeof(note), "No trend chart: %s.", err);
		para(r, note);
		return 0;
	}
	chart_name(cname, sizeof(cname), "trend", key, metric);
	f = data_open(r, cname, path, sizeof(path));
	if (!f) {
		free(e);
		return -EIO;
	}
	for (i = 0; i < nr; i++) {
		bool mine = false;

		if (!e[i].has_value || e[i].sweep != first->sweep || !e[i].when)
			continue;
		for (k = 0; k < r->nr; k++)
			mine |= !strcmp(r->runs[k].id, e[i].run_id);
		unit = e[i].unit;
		fprintf(f, "%lld %.10g %.10g %d %d\n", (long long)e[i].when, e[i].s.mean,
			e[i].s.stddev, mine, strcmp(e[i].status, "PASS") != 0);
		rows++;
	}
	if (data_close(r, f, path)) {
		free(e);
		return -EIO;
	}
	if (!rows) {
		snprintf(note, sizeof(note), "No trend chart: no run under %s/ has %s %s.",
			 r->history, key, metric);
		para(r, note);
		free(e);
		return 0;
	}
	snprintf(caption, sizeof(caption),
		 "%s: %s over the %zu run%s with workers=%d under %s/ (mean ± stddev)", key,
		 metric, rows, rows == 1 ? "" : "s", first->workers, r->history);
	{
		char ylabel[64];
		int ret;

		snprintf(ylabel, sizeof(ylabel), "%s", unit);
		ret = chart(r, "trend.gp", cname, path, caption,
			    (const char *const[]){ caption, ylabel, NULL });
		free(e);
		return ret;
	}
}

/* every record key of one workload, across the runs, in order */
static json_t *workload_keys(struct report *r, const char *workload)
{
	json_t *keys = json_array();
	char key[256];
	size_t i, j, k;

	for (i = 0; i < r->nr; i++) {
		for (j = 0; j < r->runs[i].nr; j++) {
			bool have = false;

			if (strcmp(r->runs[i].recs[j].workload, workload))
				continue;
			mmt_rec_key(&r->runs[i].recs[j], key, sizeof(key));
			for (k = 0; k < json_array_size(keys); k++)
				have |= !strcmp(json_string_value(json_array_get(keys, k)), key);
			if (!have)
				json_array_append_new(keys, json_string(key));
		}
	}
	return keys;
}

/* ------------------------------------------- NUMA matrices (--numa-matrix) */

static json_t *rec_matrix(const struct mmt_rec *rec)
{
	return rec ? json_object_get(rec->j, "numa_matrix") : NULL;
}

static bool key_is_matrix(struct report *r, const char *key)
{
	size_t i;

	for (i = 0; i < r->nr; i++)
		if (rec_matrix(mmt_run_find(&r->runs[i], key)))
			return true;
	return false;
}

/* the matrix's metrics: the main one first, then as the cells have them */
static json_t *matrix_metric_names(const struct mmt_rec *rec)
{
	json_t *names = json_array(), *cell, *x;
	const char *mm = json_string_value(json_object_get(rec->j, "main_metric")), *name;
	size_t i, j;

	if (mm)
		json_array_append_new(names, json_string(mm));
	json_array_foreach(json_object_get(rec_matrix(rec), "cells"), i, cell) {
		json_object_foreach(json_object_get(cell, "metrics"), name, x) {
			bool have = false;

			for (j = 0; j < json_array_size(names); j++)
				have |= !strcmp(json_string_value(json_array_get(names, j)), name);
			if (!have)
				json_array_append_new(names, json_string(name));
		}
	}
	return names;
}

static void matrix_col_name(json_t *col, char *buf, size_t len)
{
	if (json_is_integer(col))
		snprintf(buf, len, "mem%lld", (long long)json_integer_value(col));
	else
		snprintf(buf, len, "%s", json_string_value(col) ?: "?");
}

static json_t *matrix_cell_at(json_t *matrix, json_t *row, json_t *col)
{
	char name[64], c[32];

	matrix_col_name(col, c, sizeof(c));
	snprintf(name, sizeof(name), "cpu%lld %s", (long long)json_integer_value(row),
		 json_is_integer(col) ? c : "interleave");
	return mmt_matrix_find_cell(matrix, name);
}

/* what a reader must know before looking at the cells */
static void matrix_notes(struct report *r, const struct mmt_rec *rec, size_t run)
{
	json_t *matrix = rec_matrix(rec), *cell;
	char how[256], text[1024], dir[PATH_MAX], name[64];
	size_t i;

	snprintf(dir, sizeof(dir), "%s", rec->path);
	if (strrchr(dir, '/'))
		*strrchr(dir, '/') = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	if (mmt_record_emulated(rec->j, dir, how, sizeof(how))) {
		snprintf(text, sizeof(text),
			 "**Not a NUMA performance result:** %s's matrix was recorded in an emulated guest (QEMU TCG; %s). TCG gives the guest a NUMA topology but no NUMA latency: every node is the same host memory, so the differences between cells are noise. The matrix shows that placement and accounting work, nothing more.",
			 r->label[run], how);
		para(r, text);
	}
	if (json_string_value(json_object_get(matrix, "note"))) {
		snprintf(text, sizeof(text), "%s: %s", r->label[run],
			 json_string_value(json_object_get(matrix, "note")));
		para(r, text);
	}
	json_array_foreach(json_object_get(matrix, "cells"), i, cell) {
		if (!json_is_false(json_object_get(cell, "placement_held")))
			continue;
		mmt_matrix_cell_name(cell, name, sizeof(name));
		snprintf(text, sizeof(text), "**Flagged:** %s, cell %s: %s", r->label[run], name,
			 json_string_value(json_object_get(json_object_get(cell, "placement_check"),
							   "reason")) ?: "memory not where asked");
		para(r, text);
	}
}

/* one row per cell: status, main metric, where the memory was, numastat */
static void matrix_table(struct report *r, const struct mmt_rec *rec)
{
	static const char *const cols[] = {
		"cell", "status", "main metric", "workload memory by node (MiB)",
		"numastat numa_hit by node (pages)", "other_node (pages)", "placement",
	};
	const char *mm = json_string_value(json_object_get(rec->j, "main_metric")) ?: "";
	json_t *cell, *v, *nd;
	const char *k;
	char cells[7][512], num[32];
	size_t i, c;
	int off;

	fprintf(r->md, "|");
	fprintf(r->html, "<table>\n<tr>");
	for (c = 0; c < 7; c++) {
		fprintf(r->md, " %s |", cols[c]);
		fprintf(r->html, "<th>%s</th>", cols[c]);
	}
	fprintf(r->md, "\n|---|---|--:|---|---|---|---|\n");
	fprintf(r->html, "</tr>\n");
	json_array_foreach(json_object_get(rec_matrix(rec), "cells"), i, cell) {
		json_t *m = json_object_get(json_object_get(cell, "metrics"), mm);
		json_t *chk = json_object_get(cell, "placement_check");
		struct mmt_summary s;
		const char *basis;
		long long other = 0;

		mmt_matrix_cell_name(cell, cells[0], sizeof(cells[0]));
		snprintf(cells[1], sizeof(cells[1]), "%s%s%s",
			 json_string_value(json_object_get(cell, "status")) ?: "?",
			 json_string_value(json_object_get(cell, "reason")) ? ": " : "",
			 json_string_value(json_object_get(cell, "reason")) ?: "");
		if (m && !mmt_metric_summary(m, &s, &basis) && s.n)
			snprintf(cells[2], sizeof(cells[2]), "%s %s", mmt_fmt_num(s.mean, num, sizeof(num)),
				 json_string_value(json_object_get(m, "unit")) ?: "");
		else
			snprintf(cells[2], sizeof(cells[2]), "-");
		off = 0;
		cells[3][0] = '\0';
		json_object_foreach(json_object_get(json_object_get(cell, "memory_nodes"), "kb_by_node"),
				    k, v)
			off += snprintf(cells[3] + off, sizeof(cells[3]) - (size_t)off, "%snode %s: %.1f",
					off ? ", " : "", k, (double)json_integer_value(v) / 1024);
		off = 0;
		cells[4][0] = '\0';
		json_object_foreach(json_object_get(cell, "numastat"), k, nd) {
			off += snprintf(cells[4] + off, sizeof(cells[4]) - (size_t)off, "%snode %s: %lld",
					off ? ", " : "", k,
					(long long)json_integer_value(json_object_get(nd, "numa_hit")));
			other += json_integer_value(json_object_get(nd, "other_node"));
		}
		snprintf(cells[5], sizeof(cells[5]), "%lld", other);
		if (json_is_false(json_object_get(cell, "placement_held")))
			snprintf(cells[6], sizeof(cells[6]), "FLAGGED: not where asked");
		else if (json_is_true(json_object_get(cell, "placement_held")))
			snprintf(cells[6], sizeof(cells[6]), "held (%s)",
				 json_is_number(json_object_get(chk, "fraction_on_asked")) ?
				 (snprintf(num, sizeof(num), "%.0f %% on node %lld",
					   100 * json_number_value(json_object_get(chk, "fraction_on_asked")),
					   (long long)json_integer_value(json_object_get(chk, "asked"))), num) :
				 "interleaved");
		else
			snprintf(cells[6], sizeof(cells[6]), "-");
		fprintf(r->md, "|");
		fprintf(r->html, "<tr>");
		for (c = 0; c < 7; c++) {
			fprintf(r->md, " %s |", cells[c]);
			fprintf(r->html, "<td>");
			mmt_html_puts(r->html, cells[c]);
			fprintf(r->html, "</td>");
		}
		fprintf(r->md, "\n");
		fprintf(r->html, "</tr>\n");
	}
	fprintf(r->md, "\n");
	fprintf(r->html, "</table>\n");
}

/* one metric of one run's matrix as a heat map: CPU node by memory node */
static int matrix_heatmap(struct report *r, const char *key, size_t run,
			  const struct mmt_rec *rec, const char *metric)
{
	json_t *matrix = rec_matrix(rec), *row, *col;
	char cname[320], base[256], path[PATH_MAX], caption[512], c[32], unit[64] = "";
	size_t i, j, have = 0;
	FILE *f;

	snprintf(base, sizeof(base), "%s-%s", metric, r->nr > 1 ? r->label[run] : "");
	if (r->nr == 1)
		base[strlen(base) - 1] = '\0';
	chart_name(cname, sizeof(cname), "heatmap", key, base);
	f = data_open(r, cname, path, sizeof(path));
	if (!f)
		return -EIO;
	fprintf(f, "\"cpu\\\\mem\"");
	json_array_foreach(json_object_get(matrix, "mem_columns"), j, col) {
		matrix_col_name(col, c, sizeof(c));
		fprintf(f, " ");
		gp_str(f, c);
	}
	fprintf(f, "\n");
	json_array_foreach(json_object_get(matrix, "cpu_nodes"), i, row) {
		snprintf(c, sizeof(c), "cpu%lld", (long long)json_integer_value(row));
		gp_str(f, c);
		json_array_foreach(json_object_get(matrix, "mem_columns"), j, col) {
			json_t *m = json_object_get(json_object_get(matrix_cell_at(matrix, row, col),
								    "metrics"), metric);
			struct mmt_summary s;
			const char *basis;

			if (m && !mmt_metric_summary(m, &s, &basis) && s.n) {
				fprintf(f, " %.10g", s.mean);
				have++;
				if (!unit[0])
					snprintf(unit, sizeof(unit), "%s",
						 json_string_value(json_object_get(m, "unit")) ?: "");
			} else {
				fprintf(f, " NaN");
			}
		}
		fprintf(f, "\n");
	}
	if (data_close(r, f, path))
		return -EIO;
	if (!have)
		return 0;
	snprintf(caption, sizeof(caption), "%s, %s: %s by CPU node and memory node (mean)", key,
		 r->label[run], metric);
	return chart(r, "heatmap.gp", cname, path, caption,
		     (const char *const[]){ caption, unit, NULL });
}

static int matrix_section(struct report *r, const char *key)
{
	size_t i, j;
	int ret = 0;

	for (i = 0; i < r->nr && !ret; i++) {
		const struct mmt_rec *rec = mmt_run_find(&r->runs[i], key);
		char text[256];
		json_t *names;

		if (!rec_matrix(rec))
			continue;
		snprintf(text, sizeof(text), "%s: NUMA matrix", r->label[i]);
		heading(r, 4, text);
		matrix_notes(r, rec, i);
		matrix_table(r, rec);
		names = matrix_metric_names(rec);
		for (j = 0; j < json_array_size(names) && !ret; j++)
			ret = matrix_heatmap(r, key, i, rec, json_string_value(json_array_get(names, j)));
		json_decref(names);
	}
	return ret;
}

static int section_key(struct report *r, const char *key, bool sub)
{
	const struct mmt_rec *first = NULL;
	json_t *names = metric_names(r, key);
	char text[1024];
	size_t i, j;
	int ret = 0;

	for (i = 0; i < r->nr && !first; i++)
		first = mmt_run_find(&r->runs[i], key);
	if (sub)
		heading(r, 3, key);
	for (i = 0; i < r->nr; i++) {
		const struct mmt_rec *rec = mmt_run_find(&r->runs[i], key);
		const char *reason = rec ? json_string_value(json_object_get(rec->j, "reason")) :
				     NULL;

		snprintf(text, sizeof(text), "%s: %s%s%s%s", r->label[i],
			 rec ? mmt_rec_status(rec) : "not in this run", reason ? " (" : "",
			 reason ? reason : "", reason ? ")" : "");
		if (rec && json_array_size(json_object_get(rec->j, "splats")))
			snprintf(text + strlen(text), sizeof(text) - strlen(text),
				 "; %zu kernel splat(s), first: %s",
				 json_array_size(json_object_get(rec->j, "splats")),
				 json_string_value(json_object_get(json_array_get(
					json_object_get(rec->j, "splats"), 0), "line")) ?: "?");
		fprintf(r->md, "- %s\n", text);
		fprintf(r->html, "%s<li>", i ? "" : "<ul>\n");
		mmt_html_puts(r->html, text);
		fprintf(r->html, "</li>\n");
	}
	fprintf(r->md, "\n");
	fprintf(r->html, "</ul>\n");
	if (key_is_matrix(r, key)) {	/* the cells hold the metrics */
		json_decref(names);
		return matrix_section(r, key);
	}
	values_table(r, key, names);
	for (j = 0; j < json_array_size(names) && !ret; j++)
		ret = metric_chart(r, key, json_string_value(json_array_get(names, j)));
	for (j = 0; j < json_array_size(names) && !ret; j++) {
		const char *name = json_string_value(json_array_get(names, j));
		const char *kind = NULL;

		for (i = 0; i < r->nr && !kind; i++)
			kind = json_string_value(json_object_get(rec_metric(
					mmt_run_find(&r->runs[i], key), name), "kind"));
		if (kind && !strcmp(kind, "latency"))
			ret = latency_chart(r, key, name);
	}
	if (!ret && first)
		ret = trend_chart(r, key, first);
	json_decref(names);
	return ret;
}

static int section_workloads(struct report *r)
{
	json_t *done = json_array();
	size_t i, j, k;
	int ret = 0;

	for (i = 0; i < r->nr && !ret; i++) {
		for (j = 0; j < r->runs[i].nr && !ret; j++) {
			const struct mmt_rec *rec = &r->runs[i].recs[j];
			const char *summary = json_string_value(json_object_get(rec->j, "summary"));
			bool seen = false;
			json_t *keys;

			for (k = 0; k < json_array_size(done); k++)
				seen |= !strcmp(json_string_value(json_array_get(done, k)),
						rec->workload);
			if (seen)
				continue;
			json_array_append_new(done, json_string(rec->workload));
			heading(r, 2, rec->workload);
			if (summary)
				para(r, summary);
			ret = scaling_chart(r, rec->workload);
			keys = workload_keys(r, rec->workload);
			for (k = 0; k < json_array_size(keys) && !ret; k++)
				ret = section_key(r, json_string_value(json_array_get(keys, k)),
						  json_array_size(keys) > 1);
			json_decref(keys);
		}
	}
	json_decref(done);
	return ret;
}

static const char html_head[] =
	"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	"<title>mmtorture report</title>\n<style>\n"
	"body { font-family: sans-serif; max-width: 1100px; margin: 1em auto; padding: 0 1em; }\n"
	"table { border-collapse: collapse; margin: 0.5em 0; font-size: 90%; }\n"
	"th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: left; }\n"
	"td.num { text-align: right; font-variant-numeric: tabular-nums; }\n"
	"tr.worse td { background: #fbdada; } tr.better td { background: #daf5da; }\n"
	"tr.inconclusive td { background: #fff4cc; } tr.info td { color: #777; }\n"
	"ul.head li.status, ul.head li.splat { color: #b00; font-weight: bold; }\n"
	"ul.head li.warning { color: #a60; font-weight: bold; }\n"
	"p.rules { color: #555; font-size: 85%; } p.verdict.worse { color: #b00; }\n"
	"figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #eee; }\n"
	"figcaption { font-size: 85%; color: #444; }\n"
	"</style>\n</head>\n<body>\n";

static int write_report(struct report *r)
{
	char path[PATH_MAX], now[64], text[1024];
	struct timespec ts;
	size_t i;
	int ret;

	clock_gettime(CLOCK_REALTIME, &ts);
	mmt_iso8601(&ts, now, sizeof(now));
	fprintf(r->md, "# mmtorture report\n\n");
	fprintf(r->html, "%s<h1>mmtorture report</h1>\n", html_head);
	snprintf(text, sizeof(text), "Generated %s by mmtorture %s (%s) from %zu run%s; history"
		 " from %s/.  Charts: charts/*.png (gnuplot, scripts in plot/), their data:"
		 " data/*.dat.", now, MMT_VERSION, mmt_git_version(), r->nr, r->nr == 1 ? "" : "s",
		 r->history);
	para(r, text);
	section_runs(r);
	ret = section_compare(r);
	if (!ret)
		ret = section_workloads(r);
	fprintf(r->html, "</body>\n</html>\n");
	for (i = 0; i < 2; i++) {
		FILE *f = i ? r->html : r->md;

		snprintf(path, sizeof(path), "%s/report.%s", r->outdir, i ? "html" : "md");
		if (ferror(f) | fclose(f))
			ret = ret ?: report_err(r, "cannot write %s", path);
	}
	r->md = r->html = NULL;
	return ret;
}

static int open_outputs(struct report *r)
{
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), "%s/charts", r->outdir);
	ret = mmt_mkdir_p(path, 0755);
	if (!ret) {
		snprintf(path, sizeof(path), "%s/data", r->outdir);
		ret = mmt_mkdir_p(path, 0755);
	}
	if (ret)
		return report_err(r, "cannot create %s: %s", path, strerror(-ret));
	snprintf(r->log, sizeof(r->log), "%s/data/gnuplot.log", r->outdir);
	r->logf = fopen(r->log, "w");
	snprintf(path, sizeof(path), "%s/report.md", r->outdir);
	r->md = fopen(path, "w");
	snprintf(path, sizeof(path), "%s/report.html", r->outdir);
	r->html = fopen(path, "w");
	if (!r->logf || !r->md || !r->html)
		return report_err(r, "cannot write the report into %s: %s", r->outdir,
				  strerror(errno));
	return 0;
}

/* ---------------------------------------------------------------- command */

#define bad_usage(...) mmt_usage_error("report", __VA_ARGS__)

enum { OPT_RESULTS = 256 };

int mmt_cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "results", required_argument, NULL, OPT_RESULTS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *results = "results";
	bool results_given = false;
	struct report *r;
	size_t i;
	int c, ret;

	r = calloc(1, sizeof(*r));
	if (!r) {
		mmt_errmsg("out of memory");
		return MMT_ERROR;
	}
	r->outdir = "report";
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (!*optarg) {
				free(r);
				return bad_usage("empty --output directory");
			}
			r->outdir = optarg;
			break;
		case OPT_RESULTS:
			results = optarg;
			results_given = true;
			break;
		case 'h':
			free(r);
			fputs(mmt_report_usage, stdout);
			return 0;
		case ':':
			free(r);
			return bad_usage("option %s needs a value", argv[optind - 1]);
		default:
			free(r);
			return bad_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc) {
		free(r);
		return bad_usage("expected at least one RUN");
	}
	if (argc - optind > MAX_RUNS) {
		free(r);
		return bad_usage("at most %d runs in one report", MAX_RUNS);
	}
	ret = MMT_ERROR;
	for (; optind < argc; optind++, r->nr++) {
		if (mmt_run_load(argv[optind], results, &r->runs[r->nr], r->err, sizeof(r->err)))
			goto out_free;
		snprintf(r->label[r->nr], sizeof(r->label[r->nr]), "%c %s", (int)('A' + r->nr),
			 r->runs[r->nr].id);
	}
	if (results_given) {
		snprintf(r->history, sizeof(r->history), "%s", results);
	} else {
		/* the directory the first run lives in: results/ for results/<id> */
		char tmp[PATH_MAX];

		snprintf(tmp, sizeof(tmp), "%s", r->runs[0].dir);
		snprintf(r->history, sizeof(r->history), "%s", dirname(tmp));
	}
	if (find_gnuplot(r) || find_plot_dir(r) || open_outputs(r))
		goto out_free;
	if (write_report(r))
		goto out_free;
	mmt_msg("report: %s/report.html and %s/report.md, %d charts in %s/charts/\n", r->outdir,
		r->outdir, r->charts, r->outdir);
	ret = 0;

out_free:
	if (ret && r->err[0])
		mmt_errmsg("%s", r->err);
	if (r->md)
		fclose(r->md);
	if (r->html)
		fclose(r->html);
	if (r->logf)
		fclose(r->logf);
	for (i = 0; i < r->nr; i++)
		mmt_run_free(&r->runs[i]);
	free(r);
	return ret;
}
