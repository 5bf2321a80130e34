// SPDX-License-Identifier: GPL-2.0
/*
 * compare.c - `mmtorture compare RUN_A RUN_B`: run B judged against run A,
 * workload by workload and metric by metric.
 *
 * The statistics are in verdict.c: Welch's t-test and CI per metric, the
 * p-values corrected over the whole comparison (Holm or Benjamini-Hochberg),
 * an effect floor from the A/A calibration (calibrate.c) or 1 %, and three
 * outcomes, worse (or better) / same / inconclusive.  At least 3 samples per
 * side (each repeat's mean when a run has three repeats or more, else the
 * per-second samples).
 * Rates are averaged harmonically (equal time slices), everything else
 * arithmetically; the record's summary.mean_kind says which.  Status changes
 * and new kernel splats head the output; different machines, parameters or
 * run settings are flagged, never compared silently.
 *
 * Also here, shared with report.c and history.c: loading a run directory,
 * the samples of a metric, the verdict, and number formatting.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_statistics_double.h>

#include "analysis.h"
#include "numamatrix.h"

const char mmt_compare_usage[] =
	"usage: mmtorture compare RUN_A RUN_B [options]\n"
	"\n"
	"Judge run B against run A, workload by workload and metric by metric: each\n"
	"side's mean (harmonic for rates, arithmetic for latencies and the rest), stddev,\n"
	"CoV, the change in % with its 95 % confidence interval (Welch), the p-value\n"
	"adjusted over every metric of the comparison (Holm by default), the change\n"
	"these samples can detect, whether the metric is a headline metric (its worse\n"
	"pages in nightly), and a verdict:\n"
	"  worse / better  significant after the correction AND the whole CI of the\n"
	"                  change beyond the effect floor (1 %, or the A/A calibration's)\n"
	"  same            the whole CI within the margin (+-5 %, or the floor if larger)\n"
	"  inconclusive    neither (too noisy for these repeats, or < 3 samples a side)\n"
	"  info            the metric has no better direction\n"
	"The samples are each repeat's mean when a run has 3 repeats or more (run -r 3),\n"
	"else the per-second samples; the output says which.  A latency or a rate counts\n"
	"a repeat by the median of its per-second samples (\"repeat medians\") and is\n"
	"tested on the logarithm (ratio of geometric means) when no value is 0.  Status\n"
	"changes (PASS to FAIL) and new kernel splats come first; runs from different\n"
	"machines or with different parameters or run settings are flagged.\n"
	"\n"
	"A RUN is a run directory (results/RUN-ID), one record file, or a run id looked\n"
	"up under the results directory (`latest` is the newest run).  The newest A/A\n"
	"calibration of A's machine under DIR/calibration/ (`mmtorture calibrate`) is\n"
	"used when there is one.\n"
	"\n"
	"  -o, --results DIR      where run ids and calibrations are looked up\n"
	"                         (default ./results)\n"
	"  -f, --format FMT       text (default), markdown or json\n"
	"      --correction C     holm (default: family-wise error), bh (Benjamini-\n"
	"                         Hochberg: false discovery rate) or none\n"
	"      --margin PCT       the equivalence margin of \"same\" (default 5)\n"
	"      --calibration F    an A/A calibration file, or none\n"
	"      --headline         exit 1 only for what pages in nightly: a status change,\n"
	"                         a new splat, a worse headline metric\n"
	"  -h, --help             this text\n"
	"\n"
	"exit: 0 nothing got worse, 1 something did (a metric, a status, a new splat),\n"
	"      99 bad input (a missing run, a corrupt record, an unknown schema)\n";

/* --------------------------------------------------------------- helpers */

const char *mmt_fmt_num(double v, char *buf, size_t len)
{
	static const struct {
		double scale;
		const char *suffix;
	} si[] = { { 1e12, "T" }, { 1e9, "G" }, { 1e6, "M" }, { 1e4, "k" } };
	double av = fabs(v);
	size_t i;

	if (!isfinite(v)) {
		snprintf(buf, len, "n/a");
		return buf;
	}
	for (i = 0; i < sizeof(si) / sizeof(si[0]); i++) {
		if (av >= si[i].scale) {
			/* 12.05k rather than 1.205e+04 */
			double s = si[i].scale == 1e4 ? 1e3 : si[i].scale;

			snprintf(buf, len, "%.4g%s", v / s, si[i].scale == 1e4 ? "k" :
				 si[i].suffix);
			return buf;
		}
	}
	snprintf(buf, len, "%.4g", v);
	return buf;
}

bool mmt_parse_time(const char *iso, time_t *t)
{
	struct tm tm;
	const char *end;

	if (!iso)
		return false;
	memset(&tm, 0, sizeof(tm));
	end = strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		return false;
	*t = timegm(&tm);
	return true;
}

bool mmt_parse_format(const char *s, enum mmt_format *f)
{
	if (!strcmp(s, "text"))
		*f = MMT_FMT_TEXT;
	else if (!strcmp(s, "markdown") || !strcmp(s, "md"))
		*f = MMT_FMT_MARKDOWN;
	else if (!strcmp(s, "json"))
		*f = MMT_FMT_JSON;
	else
		return false;
	return true;
}

static json_t *jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static double jdouble(json_t *v, double def)
{
	return json_is_number(v) ? json_number_value(v) : def;
}

/* a JSON scalar as text, for messages */
static const char *jtext(json_t *v, char *buf, size_t len)
{
	size_t n;

	if (json_is_string(v))
		snprintf(buf, len, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, len, "%g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
	else if (!v || json_is_null(v))
		snprintf(buf, len, "(none)");
	else if ((n = json_dumpb(v, buf, len - 1, JSON_COMPACT)) && n < len)
		buf[n] = '\0';	/* arrays and objects, compact */
	else
		snprintf(buf, len, "(...)");
	return buf;
}

/* ---------------------------------------------------------------- metrics */

enum mmt_direction mmt_metric_dir(json_t *metric)
{
	const char *b = json_string_value(json_object_get(metric, "better"));
	json_t *hib = json_object_get(metric, "higher_is_better");

	if (b)
		return !strcmp(b, "higher") ? MMT_DIR_HIGHER :
		       !strcmp(b, "lower") ? MMT_DIR_LOWER : MMT_DIR_NONE;
	if (json_is_boolean(hib))
		return json_is_true(hib) ? MMT_DIR_HIGHER : MMT_DIR_LOWER;
	return MMT_DIR_NONE;
}

bool mmt_metric_harmonic(json_t *metric)
{
	const char *mk = json_string_value(json_object_get(json_object_get(metric, "summary"),
							   "mean_kind"));
	const char *kind = json_string_value(json_object_get(metric, "kind"));

	if (mk)
		return !strcmp(mk, "harmonic");
	return kind && !strcmp(kind, "rate");
}

int mmt_metric_samples(json_t *metric, double **v, size_t *n, const char **basis)
{
	json_t *rv = json_object_get(metric, "repeat_values");
	const char *kind = json_string_value(json_object_get(metric, "kind"));
	json_t *src, *x;
	size_t i, k = 0;

	if (json_array_size(rv) >= MMT_CMP_MIN_SAMPLES) {
		src = rv;
		*basis = "repeats";
	} else {
		src = json_object_get(metric, "samples");
		if (kind && !strcmp(kind, "total"))
			*basis = "per-repeat";
		else if (kind && !strcmp(kind, "gauge"))
			*basis = "values";
		else
			*basis = "per-second";
	}
	*n = 0;
	*v = calloc(json_array_size(src) + 1, sizeof(**v));
	if (!*v)
		return -ENOMEM;
	json_array_foreach(src, i, x) {
		if (json_is_number(x))
			(*v)[k++] = json_number_value(x);
	}
	*n = k;
	return 0;
}

int mmt_metric_summary(json_t *metric, struct mmt_summary *s, const char **basis)
{
	double *v;
	size_t n;
	int ret;

	ret = mmt_metric_samples(metric, &v, &n, basis);
	if (ret)
		return ret;
	mmt_summarize(v, n, mmt_metric_harmonic(metric), s);
	free(v);
	return 0;
}

/* ------------------------------------------------------------------- runs */

const char *mmt_rec_kernel(const struct mmt_rec *r)
{
	const char *k = json_string_value(json_object_get(json_object_get(
				json_object_get(r->j, "system"), "kernel"), "release"));

	return k ? k : "?";
}

const char *mmt_rec_status(const struct mmt_rec *r)
{
	return json_string_value(json_object_get(r->j, "status"));
}

void mmt_rec_key(const struct mmt_rec *r, char *buf, size_t len)
{
	if (r->sweep)
		snprintf(buf, len, "%s w%d", r->workload, r->workers);
	else
		snprintf(buf, len, "%s", r->workload);
}

const struct mmt_rec *mmt_run_find(const struct mmt_runset *rs, const char *key)
{
	char k[256];
	size_t i;

	for (i = 0; i < rs->nr; i++) {
		mmt_rec_key(&rs->recs[i], k, sizeof(k));
		if (!strcmp(k, key))
			return &rs->recs[i];
	}
	return NULL;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && !strcmp(s + ls - lx, suffix);
}

static int json_file(const struct dirent *de)
{
	return de->d_name[0] != '.' && has_suffix(de->d_name, ".json") &&
	       strcmp(de->d_name, "vm.json");	/* vm run's verdict, not a record */
}

/* NAME.w<N>.json: a --sweep-workers record */
static bool sweep_name(const char *file)
{
	const char *dot = strstr(file, ".w");
	const char *p;

	if (!dot)
		return false;
	for (p = dot + 2; isdigit((unsigned char)*p); p++)
		;
	return p > dot + 2 && !strcmp(p, ".json");
}

/* What the comparison relies on beyond what mmt_record_load() checks. */
static bool rec_valid(json_t *j, const char *path, char *err, size_t errlen)
{
	const char *name;
	json_t *m, *x;
	size_t i;

	json_object_foreach(json_object_get(j, "metrics"), name, m) {
		json_t *s = json_object_get(m, "samples");

		if (!json_is_object(m) || !json_is_array(s)) {
			snprintf(err, errlen, "%s: metric '%s' has no samples array", path, name);
			return false;
		}
		json_array_foreach(s, i, x) {
			if (!json_is_number(x)) {
				snprintf(err, errlen, "%s: metric '%s' has a sample that is not a number",
					 path, name);
				return false;
			}
		}
	}
	return true;
}

static int rec_cmp(const void *pa, const void *pb)
{
	const struct mmt_rec *a = pa, *b = pb;
	int c = strcmp(a->workload, b->workload);

	if (c)
		return c;
	if (a->sweep != b->sweep)
		return a->sweep ? 1 : -1;
	return a->workers - b->workers;
}

int mmt_rec_load(struct mmt_rec *r, const char *path, char *err, size_t errlen)
{
	const char *file = strrchr(path, '/');
	json_t *run;

	memset(r, 0, sizeof(*r));
	r->j = mmt_record_load(path, err, errlen);
	if (!r->j)
		return -EINVAL;
	if (!rec_valid(r->j, path, err, errlen)) {
		json_decref(r->j);
		r->j = NULL;
		return -EINVAL;
	}
	r->path = strdup(path);
	if (!r->path) {
		json_decref(r->j);
		r->j = NULL;
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	file = file ? file + 1 : path;
	r->workload = json_string_value(json_object_get(r->j, "workload"));
	run = json_object_get(r->j, "run");
	r->workers = (int)json_integer_value(json_object_get(run, "workers"));
	r->sweep = json_is_array(json_object_get(run, "sweep_workers")) || sweep_name(file);
	if (!mmt_parse_time(json_string_value(json_object_get(r->j, "started")), &r->started))
		r->started = 0;
	return 0;
}

void mmt_rec_free(struct mmt_rec *r)
{
	json_decref(r->j);
	free(r->path);
	memset(r, 0, sizeof(*r));
}

void mmt_run_free(struct mmt_runset *rs)
{
	size_t i;

	for (i = 0; i < rs->nr; i++)
		mmt_rec_free(&rs->recs[i]);
	free(rs->recs);
	free(rs->dir);
	free(rs->id);
	memset(rs, 0, sizeof(*rs));
}

int mmt_run_load(const char *run, const char *results_dir, struct mmt_runset *rs, char *err,
		 size_t errlen)
{
	struct dirent **de = NULL;
	char path[PATH_MAX], *slash;
	const char *id;
	struct stat st;
	int i, n = 0, ret = 0;

	memset(rs, 0, sizeof(*rs));
	if (!*run) {
		snprintf(err, errlen, "empty run name");
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s", run);
	while (strlen(path) > 1 && path[strlen(path) - 1] == '/')
		path[strlen(path) - 1] = '\0';
	if (stat(path, &st)) {
		if (strchr(run, '/') || !results_dir) {
			snprintf(err, errlen, "run '%s' not found: %s", run, strerror(errno));
			return -ENOENT;
		}
		snprintf(path, sizeof(path), "%s/%s", results_dir, run);
		if (stat(path, &st)) {
			snprintf(err, errlen,
				 "run '%s' not found: no directory %s nor a run id under %s/",
				 run, run, results_dir);
			return -ENOENT;
		}
	}
	if (S_ISREG(st.st_mode)) {
		/* one record file: a run of one */
		rs->recs = calloc(1, sizeof(*rs->recs));
		if (!rs->recs) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		ret = mmt_rec_load(&rs->recs[0], path, err, errlen);
		if (ret)
			goto out_free;
		rs->nr = 1;
		slash = strrchr(path, '/');
		if (slash)
			*slash = '\0';
		else
			snprintf(path, sizeof(path), ".");
	} else if (S_ISDIR(st.st_mode)) {
		n = scandir(path, &de, json_file, alphasort);
		if (n < 0) {
			snprintf(err, errlen, "cannot read run directory %s: %s", path,
				 strerror(errno));
			return -errno;
		}
		if (!n) {
			snprintf(err, errlen, "%s holds no records (*.json): not a run directory",
				 path);
			ret = -ENOENT;
			goto out_free;
		}
		rs->recs = calloc((size_t)n, sizeof(*rs->recs));
		if (!rs->recs) {
			snprintf(err, errlen, "out of memory");
			ret = -ENOMEM;
			goto out_free;
		}
		for (i = 0; i < n; i++) {
			char file[PATH_MAX];

			snprintf(file, sizeof(file), "%s/%s", path, de[i]->d_name);
			ret = mmt_rec_load(&rs->recs[rs->nr], file, err, errlen);
			if (ret)
				goto out_free;
			rs->nr++;
		}
		qsort(rs->recs, rs->nr, sizeof(*rs->recs), rec_cmp);
	} else {
		snprintf(err, errlen, "run '%s' is neither a run directory nor a record file", run);
		return -EINVAL;
	}
	{
		char real[PATH_MAX];

		/* results/latest -> results/<run-id> */
		rs->dir = strdup(realpath(path, real) ? real : path);
	}
	id = json_string_value(json_object_get(rs->recs[0].j, "run_id"));
	if (!id) {
		slash = strrchr(path, '/');
		id = slash ? slash + 1 : path;
	}
	rs->id = strdup(id);
	if (!rs->dir || !rs->id) {
		snprintf(err, errlen, "out of memory");
		ret = -ENOMEM;
		goto out_free;
	}
	for (i = 0; i < n; i++)
		free(de[i]);
	free(de);
	return 0;

out_free:
	for (i = 0; i < n; i++)
		free(de[i]);
	free(de);
	mmt_run_free(rs);
	return ret ? ret : -EINVAL;
}

/* ---------------------------------------------------------------- the model */

static int status_code(const char *s)
{
	if (!s)
		return MMT_ERROR;
	if (!strcmp(s, "PASS"))
		return MMT_PASS;
	if (!strcmp(s, "FAIL"))
		return MMT_FAIL;
	if (!strcmp(s, "SKIP"))
		return MMT_SKIP;
	if (!strcmp(s, "XFAIL"))
		return MMT_XFAIL;
	return MMT_ERROR;
}

/* B's status is worse than A's; a known kernel bug (XFAIL) is shown, never a regression. */
static bool status_worse(int ca, int cb)
{
	return cb != MMT_XFAIL && ca != cb && mmt_worse(ca, cb) == cb;
}

static json_t *run_info(const struct mmt_runset *rs)
{
	json_t *sys = json_object_get(rs->recs[0].j, "system");
	json_t *o;

	o = json_pack("{s:s, s:s, s:O, s:s}", "id", rs->id, "dir", rs->dir,
		      "started", json_object_get(rs->recs[0].j, "started") ?: json_null(),
		      "kernel", mmt_rec_kernel(&rs->recs[0]));
	json_object_set(o, "hostname", json_object_get(sys, "hostname"));
	json_object_set(o, "cpu_model", json_object_get(sys, "cpu_model"));
	json_object_set(o, "patch_series", json_object_get(json_object_get(sys, "kernel"),
							    "patch_series"));
	return o;
}

static void add_warning(json_t *warnings, const char *kind, const char *key, const char *msg)
{
	json_array_append_new(warnings, json_pack("{s:s, s:s?, s:s}", "kind", kind,
						  "workload", key, "message", msg));
}

/* cpus of each NUMA node; memory sizes vary with the kernel, so they are left out */
static void topo_sig(json_t *topo, char *buf, size_t len)
{
	size_t off, i;
	json_t *node;

	off = (size_t)snprintf(buf, len, "%lld packages, %lld cores, %lld PUs, nodes",
			       (long long)json_integer_value(json_object_get(topo, "packages")),
			       (long long)json_integer_value(json_object_get(topo, "cores")),
			       (long long)json_integer_value(json_object_get(topo, "pus")));
	json_array_foreach(json_object_get(topo, "numa_nodes"), i, node) {
		if (off >= len)
			break;
		off += (size_t)snprintf(buf + off, len - off, " %lld:%s",
			(long long)json_integer_value(json_object_get(node, "os_index")),
			json_string_value(json_object_get(node, "cpus")) ?: "?");
	}
}

static void machine_check(json_t *sa, json_t *sb, json_t *warnings)
{
	static const char *const keys[] = { "hostname", "cpu_model", "online_cpus" };
	char msg[1024], ta[256], tb[256], va[256], vb[256];
	size_t off = 0, i;

	msg[0] = '\0';
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *a = json_object_get(sa, keys[i]), *b = json_object_get(sb, keys[i]);

		if (json_equal(a, b) || (!a && !b))
			continue;
		off += (size_t)snprintf(msg + off, sizeof(msg) - off, "%s%s '%s' vs '%s'",
					off ? "; " : "", keys[i], jtext(a, va, sizeof(va)),
					jtext(b, vb, sizeof(vb)));
		if (off >= sizeof(msg))
			break;
	}
	topo_sig(json_object_get(sa, "topology"), ta, sizeof(ta));
	topo_sig(json_object_get(sb, "topology"), tb, sizeof(tb));
	if (strcmp(ta, tb) && off < sizeof(msg))
		off += (size_t)snprintf(msg + off, sizeof(msg) - off, "%stopology '%s' vs '%s'",
					off ? "; " : "", ta, tb);
	if (off) {
		char full[1200];

		snprintf(full, sizeof(full), "different machines: %s", msg);
		add_warning(warnings, "machine", NULL, full);
	}
}

/* counters and pool fill levels change by themselves; they are not settings */
static bool volatile_key(const char *path)
{
	static const char *const skip[] = {
		"pages_collapsed", "full_scans", "free_hugepages", "resv_hugepages",
		"surplus_hugepages", "config_source",
	};
	size_t i;

	for (i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (strstr(path, skip[i]))
			return true;
	return false;
}

static void flatten(json_t *v, const char *prefix, json_t *out)
{
	char path[512], buf[1024];
	const char *k;
	json_t *x;

	if (json_is_object(v)) {
		json_object_foreach(v, k, x) {
			snprintf(path, sizeof(path), "%s.%s", prefix, k);
			flatten(x, path, out);
		}
		return;
	}
	if (volatile_key(prefix))
		return;
	json_object_set_new(out, prefix, json_string(jtext(v, buf, sizeof(buf))));
}

/* Settings of the two systems that differ: expected when comparing kernels or knobs. */
static json_t *settings_diff(json_t *sa, json_t *sb)
{
	static const char *const parts[] = { "kernel", "thp", "hugetlb", "vm" };
	json_t *fa = json_object(), *fb = json_object(), *diff = json_array(), *x;
	const char *k;
	size_t i;

	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		flatten(json_object_get(sa, parts[i]), parts[i], fa);
		flatten(json_object_get(sb, parts[i]), parts[i], fb);
	}
	json_object_foreach(fa, k, x) {
		json_t *y = json_object_get(fb, k);

		if (!y || !json_equal(x, y))
			json_array_append_new(diff, json_pack("{s:s, s:O, s:o}", "key", k,
							      "a", x, "b", y ? json_incref(y) :
							      json_null()));
	}
	json_object_foreach(fb, k, x) {
		if (!json_object_get(fa, k))
			json_array_append_new(diff, json_pack("{s:s, s:n, s:O}", "key", k, "a", "b", x));
	}
	json_decref(fa);
	json_decref(fb);
	return diff;
}

/* key=value pairs of two objects that differ, "k=a vs k=b; ..." */
static bool object_diff(json_t *a, json_t *b, const char *const *only, char *msg, size_t len)
{
	char va[256], vb[256];
	size_t off = 0, i;
	const char *k;
	json_t *x;

	msg[0] = '\0';
	if (only) {
		for (i = 0; only[i] && off < len; i++) {
			json_t *xa = json_object_get(a, only[i]), *xb = json_object_get(b, only[i]);

			if (json_equal(xa, xb) || (!xa && !xb))
				continue;
			off += (size_t)snprintf(msg + off, len - off, "%s%s %s vs %s",
						off ? "; " : "", only[i], jtext(xa, va, sizeof(va)),
						jtext(xb, vb, sizeof(vb)));
		}
		return off > 0;
	}
	json_object_foreach(a, k, x) {
		json_t *y = json_object_get(b, k);

		if (off >= len)
			break;
		if (y && json_equal(x, y))
			continue;
		off += (size_t)snprintf(msg + off, len - off, "%s%s=%s vs %s=%s", off ? "; " : "",
					k, jtext(x, va, sizeof(va)), k, jtext(y, vb, sizeof(vb)));
	}
	json_object_foreach(b, k, x) {
		if (off >= len)
			break;
		if (json_object_get(a, k))
			continue;
		off += (size_t)snprintf(msg + off, len - off, "%s%s unset vs %s=%s",
					off ? "; " : "", k, k, jtext(x, vb, sizeof(vb)));
	}
	return off > 0;
}

/* A splat line with its numbers (CPU, PID, offsets, line numbers) blanked. */
static void splat_norm(const char *line, char *buf, size_t len)
{
	size_t o = 0;
	const char *p = line;

	while (*p && o + 4 < len) {
		if (p[0] == '0' && p[1] == 'x' && isxdigit((unsigned char)p[2])) {
			memcpy(buf + o, "0x#", 3);
			o += 3;
			for (p += 2; isxdigit((unsigned char)*p); p++)
				;
		} else if (isdigit((unsigned char)*p)) {
			buf[o++] = '#';
			while (isdigit((unsigned char)*p))
				p++;
		} else {
			buf[o++] = *p++;
		}
	}
	buf[o] = '\0';
}

static void new_splats(const struct mmt_rec *ra, const struct mmt_rec *rb, const char *key,
		       json_t *out)
{
	json_t *kb = json_object_get(rb->j, "known_bug");
	char na[1024], nb[1024];
	json_t *sb, *sa;
	size_t i, j;

	json_array_foreach(json_object_get(rb->j, "splats"), i, sb) {
		const char *lb = json_string_value(json_object_get(sb, "line"));
		bool seen = false;

		if (!lb)
			continue;
		splat_norm(lb, nb, sizeof(nb));
		if (ra) {
			json_array_foreach(json_object_get(ra->j, "splats"), j, sa) {
				const char *la = json_string_value(json_object_get(sa, "line"));

				splat_norm(la ? la : "", na, sizeof(na));
				if (!strcmp(na, nb)) {
					seen = true;
					break;
				}
			}
		}
		if (!seen) {
			json_t *n = json_pack("{s:s, s:s, s:O}", "workload", key, "line", lb,
					      "excerpt", json_object_get(sb, "excerpt") ?:
					      json_null());

			/* the splat a known kernel bug was recognised by: named, not a regression */
			if (kb && strstr(json_string_value(json_object_get(kb, "matched")) ?: "",
					 "splat"))
				json_object_set(n, "known_bug", json_object_get(kb, "id"));
			json_array_append_new(out, n);
		}
	}
}

static json_t *side_json(const struct mmt_summary *s, const char *basis)
{
	if (!s->n)	/* no samples: no figures */
		return json_pack("{s:i, s:n, s:n, s:n, s:n, s:s}", "n", 0, "mean",
				 "arithmetic_mean", "stddev", "cov", "basis", basis);
	return json_pack("{s:I, s:o, s:o, s:o, s:o, s:s}", "n", (json_int_t)s->n,
			 "mean", jnum(s->mean), "arithmetic_mean", jnum(s->amean),
			 "stddev", jnum(s->stddev), "cov", jnum(s->cov), "basis", basis);
}

static const char *dir_name(enum mmt_direction d)
{
	return d == MMT_DIR_HIGHER ? "higher" : d == MMT_DIR_LOWER ? "lower" : "none";
}

/* every judged row of a comparison, decided together once all are known */
struct row_ent {
	json_t *row;		/* the model's row (borrowed) */
	struct mmt_cmp c;
	enum mmt_direction dir;
	bool both;		/* the metric is on both sides */
	double floor;		/* the effect floor of this metric */
	double cal_cov;		/* the calibrated noise (CoV), NAN without */
};

struct cmp_ctx {
	const struct mmt_cmp_opts *o;
	json_t *model;
	json_t *cal_wl;		/* this workload's calibration metrics, NULL without */
	struct row_ent *rows;
	size_t nr, cap;
};

/* A record's headline metrics: headline_metrics, or its main metric for older records. */
static bool rec_headline(const struct mmt_rec *r, const char *metric)
{
	json_t *hl = json_object_get(r->j, "headline_metrics"), *x;
	const char *mm;
	size_t i;

	if (json_is_array(hl)) {
		json_array_foreach(hl, i, x)
			if (json_is_string(x) && !strcmp(json_string_value(x), metric))
				return true;
		return false;
	}
	mm = json_string_value(json_object_get(r->j, "main_metric"));
	return mm && !strcmp(mm, metric);
}

/*
 * For a latency or a rate, the value a boot (a repeat) stands for is the median of its
 * per-second samples, not their mean: one second in which the host stalled the guest (a
 * 1.5 s fork among 20-ms ones, a rate that fell to nothing for a second) moved a repeat's mean
 * five-fold in the fork-delay runs and, with four repeats a side, set that side's spread.
 * Kept beside repeat_values (in memory only) when every repeat of the record has the metric
 * with per-second samples; the NUMA matrix cells, which have no repeats, keep their means.
 */
static void add_repeat_medians(const struct mmt_rec *r)
{
	json_t *metrics = json_object_get(r->j, "metrics"), *reps = json_object_get(r->j, "repeats");
	json_t *m, *rep;
	const char *name;
	size_t i;

	if (json_array_size(reps) < MMT_CMP_MIN_SAMPLES)
		return;
	json_object_foreach(metrics, name, m) {
		json_t *med = json_array();

		json_array_foreach(reps, i, rep) {
			json_t *s = json_object_get(json_object_get(json_object_get(rep, "metrics"),
								    name), "summary");

			if (jdouble(json_object_get(s, "n"), 0) < 1 ||
			    !json_is_number(json_object_get(s, "median")))
				break;
			json_array_append(med, json_object_get(s, "median"));
		}
		if (json_array_size(med) == json_array_size(reps) &&
		    json_array_size(med) == json_array_size(json_object_get(m, "repeat_values")))
			json_object_set_new(m, "repeat_medians", med);
		else
			json_decref(med);
	}
}

/* The per-repeat medians of a ratio metric in place of its per-repeat means (above). */
static void use_repeat_medians(json_t *m, double *v, size_t n, const char **basis)
{
	json_t *med = json_object_get(m, "repeat_medians");
	size_t i;

	if (!m || !v || strcmp(*basis, "repeats") || json_array_size(med) != n)
		return;
	for (i = 0; i < n; i++)
		v[i] = json_number_value(json_array_get(med, i));
	*basis = "repeat medians";
}

static json_t *metric_row(const char *name, json_t *ma, json_t *mb, struct cmp_ctx *ctx,
			  const char *cal_name, bool headline)
{
	json_t *m = ma ? ma : mb, *row, *cal;
	const char *basis_a = "", *basis_b = "";
	double *va = NULL, *vb = NULL;
	size_t na = 0, nb = 0;
	enum mmt_direction dir = mmt_metric_dir(m);
	bool harmonic = mmt_metric_harmonic(m);
	const char *kind;
	bool ratio;
	struct row_ent *e;

	if (ctx->nr == ctx->cap) {
		size_t ncap = ctx->cap ? ctx->cap * 2 : 64;
		struct row_ent *n = realloc(ctx->rows, ncap * sizeof(*n));

		if (!n)
			return NULL;
		ctx->rows = n;
		ctx->cap = ncap;
	}
	e = &ctx->rows[ctx->nr];
	memset(e, 0, sizeof(*e));
	if (ma)
		mmt_metric_samples(ma, &va, &na, &basis_a);
	if (mb)
		mmt_metric_samples(mb, &vb, &nb, &basis_b);
	kind = json_string_value(json_object_get(m, "kind"));
	ratio = kind && (!strcmp(kind, "latency") || !strcmp(kind, "rate"));
	if (ratio && ma && mb) {
		use_repeat_medians(ma, va, na, &basis_a);
		use_repeat_medians(mb, vb, nb, &basis_b);
	}
	mmt_cmp_judge(va, na, vb, nb, harmonic, ratio, dir, &e->c);
	free(va);
	free(vb);
	e->dir = dir;
	e->both = ma && mb;
	e->floor = MMT_CMP_MIN_EFFECT;
	e->cal_cov = NAN;
	cal = json_object_get(ctx->cal_wl, cal_name);
	if (cal) {
		double f = jdouble(json_object_get(cal, "floor_pct"), NAN) / 100;
		double cv = jdouble(json_object_get(cal, "cov_pct"), NAN) / 100;

		if (f > e->floor)
			e->floor = f;
		e->cal_cov = cv;
	}
	row = json_pack("{s:s, s:O, s:O, s:s, s:s, s:b}", "metric", name,
			"unit", json_object_get(m, "unit") ?: json_null(),
			"kind", json_object_get(m, "kind") ?: json_null(),
			"better", dir_name(dir), "mean_kind", harmonic ? "harmonic" : "arithmetic",
			"headline", headline);
	json_object_set_new(row, "a", ma ? side_json(&e->c.a, basis_a) : json_null());
	json_object_set_new(row, "b", mb ? side_json(&e->c.b, basis_b) : json_null());
	json_object_set_new(row, "delta_pct", ma && mb ? jnum(e->c.delta * 100) : json_null());
	json_object_set_new(row, "t", jnum(e->c.t));
	json_object_set_new(row, "df", jnum(e->c.df));
	json_object_set_new(row, "p", jnum(e->c.p));
	json_object_set_new(row, "scale", json_string(e->c.log_scale ? "log" : "linear"));
	json_object_set_new(row, "ci_pct", ma && mb && isfinite(e->c.ci_lo) ?
			    json_pack("[f, f]", e->c.ci_lo * 100, e->c.ci_hi * 100) : json_null());
	json_object_set_new(row, "floor_source", json_string(cal ? "calibration" : "default"));
	e->row = row;
	ctx->nr++;
	return row;
}

/*
 * The whole comparison at once: correct the p-values of every metric judged,
 * then decide each row against its floor, and count.
 */
static void decide_rows(struct cmp_ctx *ctx)
{
	json_t *counts = json_object_get(ctx->model, "counts");
	double *p = calloc(ctx->nr + 1, sizeof(*p)), *adj = calloc(ctx->nr + 1, sizeof(*adj));
	double margin = ctx->o->margin, alpha_test = MMT_CMP_ALPHA;
	size_t i, tested = 0;

	if (!p || !adj) {
		free(p);
		free(adj);
		return;
	}
	for (i = 0; i < ctx->nr; i++) {
		struct row_ent *e = &ctx->rows[i];

		p[i] = NAN;
		if (e->both && e->dir != MMT_DIR_NONE && e->c.a.n >= MMT_CMP_MIN_SAMPLES &&
		    e->c.b.n >= MMT_CMP_MIN_SAMPLES && !isnan(e->c.p)) {
			p[i] = e->c.p;
			tested++;
		}
	}
	mmt_p_adjust(p, ctx->nr, ctx->o->correction, adj);
	if (ctx->o->correction != MMT_CORR_NONE && tested)
		alpha_test = MMT_CMP_ALPHA / (double)tested;
	for (i = 0; i < ctx->nr; i++) {
		struct row_ent *e = &ctx->rows[i];
		json_t *row = e->row;
		const char *vname;
		double cov, mdc = NAN;
		size_t n;

		mmt_cmp_decide(&e->c, e->dir, isnan(adj[i]) ? e->c.p : adj[i], e->floor, margin);
		if (!e->both)
			e->c.verdict = MMT_V_MISSING;
		vname = mmt_verdict_name(e->c.verdict);
		json_object_set_new(counts, vname, json_integer(json_integer_value(
					json_object_get(counts, vname)) + 1));
		json_object_set_new(row, "p_adj", jnum(adj[i]));
		json_object_set_new(row, "floor_pct", jnum(e->c.floor * 100));
		json_object_set_new(row, "margin_pct", jnum(e->c.margin * 100));
		if (e->both && e->dir != MMT_DIR_NONE) {
			cov = sqrt((e->c.a.cov * e->c.a.cov + e->c.b.cov * e->c.b.cov) / 2);
			if (isfinite(e->cal_cov) && !(cov >= e->cal_cov))
				cov = e->cal_cov;
			n = e->c.a.n < e->c.b.n ? e->c.a.n : e->c.b.n;
			mdc = mmt_mdc(cov, n, e->c.floor, MMT_CMP_ALPHA, alpha_test, MMT_CMP_POWER);
		}
		json_object_set_new(row, "detectable_pct", jnum(mdc * 100));
		json_object_set_new(row, "verdict", json_string(vname));
		json_object_set_new(row, "why", e->c.why ? json_string(e->c.why) : json_null());
		json_object_set_new(row, "pages", json_boolean(e->c.verdict == MMT_V_WORSE &&
				    json_is_true(json_object_get(row, "headline"))));
		if (json_is_true(json_object_get(row, "pages")))
			json_object_set_new(counts, "headline_worse", json_integer(
				json_integer_value(json_object_get(counts, "headline_worse")) + 1));
		if (json_is_true(json_object_get(row, "headline")) &&
		    e->c.verdict == MMT_V_INCONCLUSIVE)
			json_object_set_new(counts, "headline_inconclusive", json_integer(
				json_integer_value(json_object_get(counts,
								   "headline_inconclusive")) + 1));
	}
	json_object_set_new(json_object_get(ctx->model, "rules"), "tested",
			    json_integer((json_int_t)tested));
	json_object_set_new(json_object_get(ctx->model, "rules"), "alpha_first_step",
			    json_real(alpha_test));
	free(p);
	free(adj);
}

/*
 * NUMA matrices (run --numa-matrix): the cells of A and B paired by name
 * ("cpu0 mem1"), each cell's metrics judged like a record's, as rows named
 * "cpu0 mem1: METRIC".  A cell on one side only, a cell whose memory did not
 * land where asked and a matrix from an emulated guest are warnings.
 */
static void matrix_rows(const struct mmt_rec *ra, const struct mmt_rec *rb, const char *key,
			json_t *rows, struct cmp_ctx *ctx)
{
	json_t *m = ctx->model;
	json_t *xa = json_object_get(ra->j, "numa_matrix"), *xb = json_object_get(rb->j, "numa_matrix");
	json_t *warnings = json_object_get(m, "warnings"), *ca, *cb, *x;
	const char *main_metric = json_string_value(json_object_get(ra->j, "main_metric"));
	const struct mmt_rec *side[2] = { ra, rb };
	char cell[64], name[160], msg[1024], dir[PATH_MAX], how[256];
	const char *mname;
	size_t i;
	int s;

	if (!xa && !xb)
		return;
	if (!xa || !xb) {
		snprintf(msg, sizeof(msg), "%s: a NUMA matrix in %s only: its cells are not compared",
			 key, xa ? "A" : "B");
		add_warning(warnings, "numa_matrix", key, msg);
		return;
	}
	for (s = 0; s < 2; s++) {
		snprintf(dir, sizeof(dir), "%s", side[s]->path);
		if (strrchr(dir, '/'))
			*strrchr(dir, '/') = '\0';
		if (mmt_record_emulated(side[s]->j, dir, how, sizeof(how))) {
			snprintf(msg, sizeof(msg), "%s: %s's NUMA matrix comes from an emulated guest (QEMU TCG: %s): no NUMA latency there, not a NUMA performance result",
				 key, s ? "B" : "A", how);
			add_warning(warnings, "numa_matrix", key, msg);
		}
	}
	json_array_foreach(json_object_get(xa, "cells"), i, ca) {
		json_t *ma, *mb;

		mmt_matrix_cell_name(ca, cell, sizeof(cell));
		cb = mmt_matrix_find_cell(xb, cell);
		if (!cb) {
			snprintf(msg, sizeof(msg), "%s: NUMA cell %s is in A only", key, cell);
			add_warning(warnings, "numa_matrix", key, msg);
			continue;
		}
		for (s = 0; s < 2; s++) {
			x = s ? cb : ca;
			if (!json_is_false(json_object_get(x, "placement_held")))
				continue;
			snprintf(msg, sizeof(msg), "%s: NUMA cell %s of %s is flagged: %s", key, cell,
				 s ? "B" : "A",
				 json_string_value(json_object_get(json_object_get(x, "placement_check"),
								   "reason")) ?: "memory not where asked");
			add_warning(warnings, "numa_matrix", key, msg);
		}
		if (strcmp(json_string_value(json_object_get(ca, "status")) ?: "",
			   json_string_value(json_object_get(cb, "status")) ?: "")) {
			snprintf(msg, sizeof(msg), "%s: NUMA cell %s: %s in A, %s in B", key, cell,
				 json_string_value(json_object_get(ca, "status")) ?: "?",
				 json_string_value(json_object_get(cb, "status")) ?: "?");
			add_warning(warnings, "numa_matrix", key, msg);
		}
		ma = json_object_get(ca, "metrics");
		mb = json_object_get(cb, "metrics");
		if (main_metric && json_object_get(ma, main_metric)) {
			snprintf(name, sizeof(name), "%s: %s", cell, main_metric);
			json_array_append_new(rows, metric_row(name, json_object_get(ma, main_metric),
							   json_object_get(mb, main_metric), ctx, name,
							   rec_headline(ra, main_metric)));
		}
		json_object_foreach(ma, mname, x) {
			if (main_metric && !strcmp(mname, main_metric))
				continue;
			snprintf(name, sizeof(name), "%s: %s", cell, mname);
			json_array_append_new(rows, metric_row(name, x, json_object_get(mb, mname), ctx,
							   name, rec_headline(ra, mname)));
		}
	}
	json_array_foreach(json_object_get(xb, "cells"), i, cb) {
		mmt_matrix_cell_name(cb, cell, sizeof(cell));
		if (!mmt_matrix_find_cell(xa, cell)) {
			snprintf(msg, sizeof(msg), "%s: NUMA cell %s is in B only", key, cell);
			add_warning(warnings, "numa_matrix", key, msg);
		}
	}
}

static json_t *workload_json(const struct mmt_rec *ra, const struct mmt_rec *rb, const char *key,
			     struct cmp_ctx *ctx)
{
	json_t *m = ctx->model;
	static const char *const run_keys[] = {
		"duration_s", "warmup_s", "workers", "repeats", "inject", "sweep_workers", NULL,
	};
	json_t *metrics_a = json_object_get(ra->j, "metrics");
	json_t *metrics_b = json_object_get(rb->j, "metrics");
	json_t *w, *rows = json_array(), *x;
	const char *main_metric = json_string_value(json_object_get(ra->j, "main_metric"));
	const char *sa = mmt_rec_status(ra), *sb = mmt_rec_status(rb);
	char msg[2048], full[2200];
	const char *name;

	add_repeat_medians(ra);
	add_repeat_medians(rb);
	w = json_pack("{s:s, s:s, s:i, s:i, s:s, s:s}", "key", key, "workload", ra->workload,
		      "workers_a", ra->workers, "workers_b", rb->workers, "status_a", sa,
		      "status_b", sb);
	if (strcmp(sa, sb)) {
		int ca = status_code(sa), cb = status_code(sb);
		json_t *reason = json_object_get(cb != MMT_PASS ? rb->j : ra->j, "reason");

		json_array_append_new(json_object_get(m, "status_changes"),
			json_pack("{s:s, s:s, s:s, s:O, s:b}", "workload", key, "a", sa, "b", sb,
				  "reason", reason ?: json_null(),
				  "worse", status_worse(ca, cb)));
	}
	new_splats(ra, rb, key, json_object_get(m, "new_splats"));
	if (object_diff(json_object_get(ra->j, "params"), json_object_get(rb->j, "params"), NULL,
			msg, sizeof(msg))) {
		snprintf(full, sizeof(full), "%s: different parameters: %s", key, msg);
		add_warning(json_object_get(m, "warnings"), "params", key, full);
	}
	if (object_diff(json_object_get(ra->j, "run"), json_object_get(rb->j, "run"), run_keys,
			msg, sizeof(msg))) {
		snprintf(full, sizeof(full), "%s: different run settings: %s", key, msg);
		add_warning(json_object_get(m, "warnings"), "run", key, full);
	}
	if (object_diff(json_object_get(ra->j, "placement"), json_object_get(rb->j, "placement"),
			NULL, msg, sizeof(msg))) {
		snprintf(full, sizeof(full), "%s: different placement: %s", key, msg);
		add_warning(json_object_get(m, "warnings"), "placement", key, full);
	}
	ctx->cal_wl = NULL;
	if (ctx->o->calibration) {
		json_t *cw = json_object_get(json_object_get(ctx->o->calibration, "workloads"), key);
		json_t *cal = json_object_get(m, "calibration");
		const char *why = NULL;

		if (!cw)
			why = "the calibration has no A/A of it";
		else if (!json_equal(json_object_get(cw, "params"), json_object_get(ra->j, "params")))
			why = "the calibration ran it with other parameters";
		else if (object_diff(json_object_get(cw, "run"), json_object_get(ra->j, "run"),
				     (const char *const[]){ "duration_s", "workers", NULL }, msg,
				     sizeof(msg)))
			why = "the calibration ran it with other run settings";
		else
			ctx->cal_wl = json_object_get(cw, "metrics");
		if (why)
			json_array_append_new(json_object_get(cal, "not_used"),
					      json_pack("{s:s, s:s}", "workload", key, "why", why));
		else
			json_array_append_new(json_object_get(cal, "used_for"), json_string(key));
	}

	/* the main metric first, then A's order, then what only B has */
	if (main_metric && json_object_get(metrics_a, main_metric))
		json_array_append_new(rows, metric_row(main_metric,
						   json_object_get(metrics_a, main_metric),
						   json_object_get(metrics_b, main_metric), ctx,
						   main_metric, rec_headline(ra, main_metric)));
	json_object_foreach(metrics_a, name, x) {
		if (main_metric && !strcmp(name, main_metric))
			continue;
		json_array_append_new(rows, metric_row(name, x, json_object_get(metrics_b, name),
						   ctx, name, rec_headline(ra, name)));
	}
	json_object_foreach(metrics_b, name, x) {
		if (!json_object_get(metrics_a, name))
			json_array_append_new(rows, metric_row(name, NULL, x, ctx, name,
							   rec_headline(rb, name)));
	}
	matrix_rows(ra, rb, key, rows, ctx);
	json_object_set_new(w, "main_metric", main_metric ? json_string(main_metric) :
							    json_null());
	json_object_set_new(w, "rows", rows);
	return w;
}

static bool b_taken(const int *pair, size_t na, size_t j)
{
	size_t k;

	for (k = 0; k < na; k++)
		if (pair[k] == (int)j)
			return true;
	return false;
}

/*
 * Pair B's records with A's: the same workload and worker setting first, then
 * the same workload and worker count (a sweep record against a plain one),
 * then the one record of a workload left on each side (flagged: its run
 * settings differ).
 */
static void pair_records(const struct mmt_runset *a, const struct mmt_runset *b, int *pair)
{
	char ka[256], kb[256];
	size_t i, j;

	for (i = 0; i < a->nr; i++) {
		pair[i] = -1;
		mmt_rec_key(&a->recs[i], ka, sizeof(ka));
		for (j = 0; j < b->nr; j++) {
			mmt_rec_key(&b->recs[j], kb, sizeof(kb));
			if (!strcmp(ka, kb)) {
				pair[i] = (int)j;
				break;
			}
		}
	}
	for (i = 0; i < a->nr; i++) {
		for (j = 0; j < b->nr && pair[i] < 0; j++) {
			if (!strcmp(b->recs[j].workload, a->recs[i].workload) &&
			    b->recs[j].workers == a->recs[i].workers && !b_taken(pair, a->nr, j))
				pair[i] = (int)j;
		}
	}
	for (i = 0; i < a->nr; i++) {
		size_t left_a = 0, left_b = 0, cand = 0;

		if (pair[i] >= 0)
			continue;
		for (j = 0; j < a->nr; j++)
			if (pair[j] < 0 && !strcmp(a->recs[j].workload, a->recs[i].workload))
				left_a++;
		for (j = 0; j < b->nr; j++) {
			if (!strcmp(b->recs[j].workload, a->recs[i].workload) &&
			    !b_taken(pair, a->nr, j)) {
				left_b++;
				cand = j;
			}
		}
		if (left_a == 1 && left_b == 1)
			pair[i] = (int)cand;
	}
}

/* caveats the reader of a verdict should know */
static json_t *notes_json(json_t *workloads)
{
	json_t *notes = json_array(), *w, *row;
	bool per_second = false;
	size_t i, j;

	json_array_foreach(workloads, i, w) {
		json_array_foreach(json_object_get(w, "rows"), j, row) {
			const char *v = json_string_value(json_object_get(row, "verdict"));
			const char *ba = json_string_value(json_object_get(json_object_get(row, "a"),
									   "basis"));
			const char *bb = json_string_value(json_object_get(json_object_get(row, "b"),
									   "basis"));

			if (strcmp(v, "info") && strcmp(v, "missing") &&
			    ((ba && !strcmp(ba, "per-second")) || (bb && !strcmp(bb, "per-second"))))
				per_second = true;
		}
	}
	if (per_second)
		json_array_append_new(notes, json_string(
			"per-second samples show the noise within one run, not between runs (boot,"
			" placement, other load); for verdicts that count it, run each side with -r 3"));
	return notes;
}

json_t *mmt_compare_model(const struct mmt_runset *a, const struct mmt_runset *b,
			  const struct mmt_cmp_opts *opts)
{
	static const struct mmt_cmp_opts defaults = {
		.correction = MMT_CORR_HOLM, .margin = MMT_CMP_MARGIN,
	};
	struct cmp_ctx ctx = { .o = opts ? opts : &defaults };
	json_t *m, *only_a = json_array(), *only_b = json_array(), *workloads = json_array();
	json_t *sa = json_object_get(a->recs[0].j, "system");
	json_t *sb = json_object_get(b->recs[0].j, "system");
	int *pair = calloc(a->nr + 1, sizeof(*pair));
	char key[256];
	size_t i, j;

	if (!pair)
		return NULL;
	m = json_pack("{s:o, s:o, s:{s:f, s:s, s:i, s:f, s:f, s:f}}", "a", run_info(a),
		      "b", run_info(b), "rules", "alpha", MMT_CMP_ALPHA,
		      "correction", mmt_correction_name(ctx.o->correction),
		      "min_samples", MMT_CMP_MIN_SAMPLES, "min_effect_pct", MMT_CMP_MIN_EFFECT * 100,
		      "margin_pct", (ctx.o->margin > MMT_CMP_MIN_EFFECT ? ctx.o->margin :
				     MMT_CMP_MIN_EFFECT) * 100, "power", MMT_CMP_POWER);
	ctx.model = m;
	if (ctx.o->calibration)
		json_object_set_new(m, "calibration", json_pack("{s:O, s:O, s:[], s:[]}",
			"file", json_object_get(ctx.o->calibration, "file") ?: json_null(),
			"created", json_object_get(ctx.o->calibration, "created") ?: json_null(),
			"used_for", "not_used"));
	json_object_set_new(m, "status_changes", json_array());
	json_object_set_new(m, "new_splats", json_array());
	json_object_set_new(m, "warnings", json_array());
	json_object_set_new(m, "counts", json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i}",
						   "worse", 0, "better", 0, "same", 0,
						   "inconclusive", 0, "info", 0, "missing", 0,
						   "headline_worse", 0, "headline_inconclusive", 0));
	machine_check(sa, sb, json_object_get(m, "warnings"));
	json_object_set_new(m, "settings_differ", settings_diff(sa, sb));

	pair_records(a, b, pair);
	for (i = 0; i < a->nr; i++) {
		if (pair[i] < 0) {
			mmt_rec_key(&a->recs[i], key, sizeof(key));
			json_array_append_new(only_a, json_string(key));
			continue;
		}
		mmt_rec_key(&b->recs[pair[i]], key, sizeof(key));
		json_array_append_new(workloads, workload_json(&a->recs[i], &b->recs[pair[i]],
							       key, &ctx));
	}
	for (j = 0; j < b->nr; j++) {
		bool used = false;

		for (i = 0; i < a->nr; i++)
			if (pair[i] == (int)j)
				used = true;
		if (used)
			continue;
		mmt_rec_key(&b->recs[j], key, sizeof(key));
		json_array_append_new(only_b, json_string(key));
		/* a workload that appears in B only: its splats are new, its failure too */
		new_splats(NULL, &b->recs[j], key, json_object_get(m, "new_splats"));
		if (status_code(mmt_rec_status(&b->recs[j])) != MMT_PASS)
			json_array_append_new(json_object_get(m, "status_changes"),
				json_pack("{s:s, s:s, s:s, s:O, s:b}", "workload", key,
					  "a", "(absent)", "b", mmt_rec_status(&b->recs[j]),
					  "reason", json_object_get(b->recs[j].j, "reason") ?:
					  json_null(), "worse",
					  status_worse(MMT_PASS, status_code(mmt_rec_status(&b->recs[j]))) &&
					  status_code(mmt_rec_status(&b->recs[j])) != MMT_SKIP));
	}
	decide_rows(&ctx);
	free(ctx.rows);
	json_object_set_new(m, "workloads", workloads);
	json_object_set_new(m, "notes", notes_json(workloads));
	json_object_set_new(m, "only_in_a", only_a);
	json_object_set_new(m, "only_in_b", only_b);
	free(pair);
	json_object_set_new(m, "regressed", json_boolean(mmt_compare_regressed(m, false)));
	json_object_set_new(m, "pages", json_boolean(mmt_compare_regressed(m, true)));
	json_object_set_new(m, "exit_code", json_integer(mmt_compare_regressed(m,
						ctx.o->headline_only) ? 1 : 0));
	return m;
}

bool mmt_compare_regressed(json_t *m, bool headline_only)
{
	json_t *x;
	size_t i;

	if (json_integer_value(json_object_get(json_object_get(m, "counts"),
					       headline_only ? "headline_worse" : "worse")))
		return true;
	json_array_foreach(json_object_get(m, "new_splats"), i, x)
		if (!json_object_get(x, "known_bug"))
			return true;
	json_array_foreach(json_object_get(m, "status_changes"), i, x)
		if (json_is_true(json_object_get(x, "worse")))
			return true;
	return false;
}

/* --------------------------------------------------------------- printing */

void mmt_html_puts(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '&':
			fputs("&amp;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		default:
			fputc(*s, out);
		}
	}
}

static const char *label_of(json_t *m, const char *side)
{
	return json_string_value(json_object_get(json_object_get(m, side), "label")) ?:
	       (!strcmp(side, "a") ? "A" : "B");
}

static const char *fmt_pct(json_t *v, char *buf, size_t len)
{
	if (!json_is_number(v))
		snprintf(buf, len, "n/a");
	else
		snprintf(buf, len, "%+.1f%%", json_number_value(v));
	return buf;
}

static const char *fmt_p(json_t *v, char *buf, size_t len)
{
	double p = jdouble(v, NAN);

	if (isnan(p))
		snprintf(buf, len, "-");
	else if (p < 0.001)
		snprintf(buf, len, "<0.001");
	else
		snprintf(buf, len, "%.3f", p);
	return buf;
}

static const char *fmt_cov(json_t *side, char *buf, size_t len)
{
	double c = jdouble(json_object_get(side, "cov"), NAN);

	if (!json_is_object(side) || isnan(c))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1f%%", c * 100);
	return buf;
}

static const char *fmt_side(json_t *side, const char *field, char *buf, size_t len)
{
	if (!json_is_object(side)) {
		snprintf(buf, len, "-");
		return buf;
	}
	return mmt_fmt_num(jdouble(json_object_get(side, field), NAN), buf, len);
}

/* "5+5 per-second", "3+3 repeats" */
static const char *fmt_n(json_t *row, char *buf, size_t len)
{
	json_t *a = json_object_get(row, "a"), *b = json_object_get(row, "b");
	const char *ba = json_string_value(json_object_get(a, "basis"));
	const char *bb = json_string_value(json_object_get(b, "basis"));
	char na[24] = "-", nb[24] = "-";

	if (json_is_object(a))
		snprintf(na, sizeof(na), "%lld",
			 (long long)json_integer_value(json_object_get(a, "n")));
	if (json_is_object(b))
		snprintf(nb, sizeof(nb), "%lld",
			 (long long)json_integer_value(json_object_get(b, "n")));
	if (ba && bb && strcmp(ba, bb))
		snprintf(buf, len, "%s %s+%s %s", na, ba, nb, bb);
	else
		snprintf(buf, len, "%s+%s %s", na, nb, ba ? ba : bb ? bb : "");
	return buf;
}

/* "-12.0..+3.5%": the confidence interval of the change */
static const char *fmt_ci(json_t *ci, char *buf, size_t len)
{
	if (!json_is_array(ci) || json_array_size(ci) != 2)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%+.1f..%+.1f%%", jdouble(json_array_get(ci, 0), NAN),
			 jdouble(json_array_get(ci, 1), NAN));
	return buf;
}

/* the smallest change the rule catches with these samples: "15%" */
static const char *fmt_detect(json_t *v, char *buf, size_t len)
{
	double d = jdouble(v, NAN);

	if (isnan(d))
		snprintf(buf, len, "-");
	else if (d >= 1000)
		snprintf(buf, len, ">999%%");
	else
		snprintf(buf, len, "%.*f%%", d < 10 ? 1 : 0, d);
	return buf;
}

enum {
	C_METRIC, C_UNIT, C_MEAN, C_A, C_ASD, C_ACOV, C_B, C_BSD, C_BCOV, C_CHANGE, C_CI, C_P, C_N,
	C_DETECT, C_NIGHTLY, C_VERDICT, NR_COLS
};

static void row_cells(json_t *row, char cell[NR_COLS][64], bool short_mean)
{
	json_t *a = json_object_get(row, "a"), *b = json_object_get(row, "b");
	bool h = !strcmp(json_string_value(json_object_get(row, "mean_kind")) ?: "", "harmonic");

	snprintf(cell[C_METRIC], 64, "%s", json_string_value(json_object_get(row, "metric")));
	snprintf(cell[C_UNIT], 64, "%s", json_string_value(json_object_get(row, "unit")) ?: "");
	snprintf(cell[C_MEAN], 64, "%s", short_mean ? (h ? "H" : "A") :
		 (h ? "harmonic" : "arithmetic"));
	fmt_side(a, "mean", cell[C_A], 64);
	fmt_side(a, "stddev", cell[C_ASD], 64);
	fmt_cov(a, cell[C_ACOV], 64);
	fmt_side(b, "mean", cell[C_B], 64);
	fmt_side(b, "stddev", cell[C_BSD], 64);
	fmt_cov(b, cell[C_BCOV], 64);
	fmt_pct(json_object_get(row, "delta_pct"), cell[C_CHANGE], 64);
	fmt_ci(json_object_get(row, "ci_pct"), cell[C_CI], 64);
	fmt_p(json_object_get(row, "p_adj"), cell[C_P], 64);
	fmt_n(row, cell[C_N], 64);
	fmt_detect(json_object_get(row, "detectable_pct"), cell[C_DETECT], 64);
	snprintf(cell[C_NIGHTLY], 64, "%s",
		 json_is_true(json_object_get(row, "headline")) ? "yes" : "no");
	snprintf(cell[C_VERDICT], 64, "%s", json_string_value(json_object_get(row, "verdict")));
}

static void header_cells(json_t *m, char cell[NR_COLS][64])
{
	static const char *const names[NR_COLS] = {
		"metric", "unit", "mean", NULL, "sd", "CoV", NULL, "sd", "CoV", "change", "CI",
		"p adj", "samples", "detect", "pages", "verdict",
	};
	int i;

	for (i = 0; i < NR_COLS; i++)
		snprintf(cell[i], 64, "%s", names[i] ?: "");
	snprintf(cell[C_A], 64, "%s", label_of(m, "a"));
	snprintf(cell[C_B], 64, "%s", label_of(m, "b"));
	snprintf(cell[C_N], 64, "samples %s+%s", label_of(m, "a"), label_of(m, "b"));
}

static const char *when_text(json_t *run, char *buf, size_t len)
{
	const char *s = json_string_value(json_object_get(run, "started"));
	struct tm tm;
	time_t t;

	if (!mmt_parse_time(s, &t)) {
		snprintf(buf, len, "?");
		return buf;
	}
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M UTC", &tm);
	return buf;
}

static void run_text(json_t *run, char *buf, size_t len)
{
	const char *series = json_string_value(json_object_get(run, "patch_series"));
	char when[64];

	snprintf(buf, len, "%s, %s, kernel %s%s%s, host %s (%s)",
		 json_string_value(json_object_get(run, "id")), when_text(run, when, sizeof(when)),
		 json_string_value(json_object_get(run, "kernel")), series ? ", patches " : "",
		 series ? series : "", json_string_value(json_object_get(run, "hostname")) ?: "?",
		 json_string_value(json_object_get(run, "dir")));
}

/*
 * What heads the output, worst first: status changes, new splats, machines,
 * parameters and settings that differ, workloads on one side only.
 * Each line: { "class": status|splat|warning|only, "text" }.
 */
static json_t *head_lines(json_t *m)
{
	json_t *out = json_array(), *x;
	char buf[2048];
	size_t i;

	json_array_foreach(json_object_get(m, "status_changes"), i, x) {
		const char *reason = json_string_value(json_object_get(x, "reason"));

		snprintf(buf, sizeof(buf), "STATUS CHANGED %s: %s -> %s%s%s",
			 json_string_value(json_object_get(x, "workload")),
			 json_string_value(json_object_get(x, "a")),
			 json_string_value(json_object_get(x, "b")), reason ? ": " : "",
			 reason ? reason : "");
		json_array_append_new(out, json_pack("{s:s, s:s}", "class", "status", "text", buf));
	}
	json_array_foreach(json_object_get(m, "new_splats"), i, x) {
		const char *kid = json_string_value(json_object_get(x, "known_bug"));

		snprintf(buf, sizeof(buf), "NEW SPLAT in %s, %s%s%s%s: %s", label_of(m, "b"),
			 json_string_value(json_object_get(x, "workload")),
			 kid ? " (known kernel bug " : "", kid ? kid : "", kid ? ")" : "",
			 json_string_value(json_object_get(x, "line")));
		json_array_append_new(out, json_pack("{s:s, s:s}", "class", "splat", "text", buf));
	}
	json_array_foreach(json_object_get(m, "warnings"), i, x) {
		snprintf(buf, sizeof(buf), "WARNING: %s",
			 json_string_value(json_object_get(x, "message")));
		json_array_append_new(out, json_pack("{s:s, s:s}", "class", "warning",
						     "text", buf));
	}
	json_array_foreach(json_object_get(m, "only_in_a"), i, x) {
		snprintf(buf, sizeof(buf), "only in %s, not compared: %s", label_of(m, "a"),
			 json_string_value(x));
		json_array_append_new(out, json_pack("{s:s, s:s}", "class", "only", "text", buf));
	}
	json_array_foreach(json_object_get(m, "only_in_b"), i, x) {
		snprintf(buf, sizeof(buf), "only in %s, not compared: %s", label_of(m, "b"),
			 json_string_value(x));
		json_array_append_new(out, json_pack("{s:s, s:s}", "class", "only", "text", buf));
	}
	return out;
}

static void settings_line(json_t *x, char *buf, size_t len)
{
	char va[512], vb[512];

	snprintf(buf, len, "%s: %s -> %s", json_string_value(json_object_get(x, "key")),
		 jtext(json_object_get(x, "a"), va, sizeof(va)),
		 jtext(json_object_get(x, "b"), vb, sizeof(vb)));
}

static void rules_text(json_t *m, char *buf, size_t len)
{
	json_t *r = json_object_get(m, "rules"), *cal = json_object_get(m, "calibration");
	const char *corr = json_string_value(json_object_get(r, "correction")) ?: "holm";
	size_t off;

	off = (size_t)snprintf(buf, len,
		"rules: Welch's t-test (on logs for latencies and rates), p adjusted over the %lld metrics tested (%s), alpha %.2f;"
		" worse/better: significant after that AND the whole %.0f %% CI of the change"
		" beyond the effect floor (%s); same: the whole CI within +-%.0f %% (or the"
		" floor); else inconclusive (also with < %d samples a side); info: no better"
		" direction.\n"
		"detect: the change caught %.0f %% of the time with these samples and noise;"
		" pages: a headline metric, whose worse pages in nightly.\n"
		"mean: H harmonic (rates), A arithmetic; samples: each repeat's mean when >= %d"
		" repeats, else per-second",
		(long long)json_integer_value(json_object_get(r, "tested")),
		!strcmp(corr, "holm") ? "Holm, family-wise" : !strcmp(corr, "bh") ?
		"Benjamini-Hochberg, false discovery rate" : "no correction",
		MMT_CMP_ALPHA, (1 - MMT_CMP_ALPHA) * 100,
		cal ? "from the A/A calibration where it has the workload, else 1 %" :
		"1 %, no A/A calibration",
		jdouble(json_object_get(r, "margin_pct"), MMT_CMP_MARGIN * 100),
		MMT_CMP_MIN_SAMPLES, MMT_CMP_POWER * 100, MMT_CMP_MIN_SAMPLES);
	if (cal && off < len)
		off += (size_t)snprintf(buf + off, len - off, "\ncalibration: %s (%s)",
			 json_string_value(json_object_get(cal, "file")) ?: "?",
			 json_string_value(json_object_get(cal, "created")) ?: "?");
	if (cal) {
		json_t *x;
		size_t i;

		json_array_foreach(json_object_get(cal, "not_used"), i, x) {
			if (off >= len)
				break;
			off += (size_t)snprintf(buf + off, len - off, "; not for %s: %s",
				json_string_value(json_object_get(x, "workload")) ?: "?",
				json_string_value(json_object_get(x, "why")) ?: "?");
		}
	}
}

static void counts_text(json_t *m, char *buf, size_t len)
{
	json_t *c = json_object_get(m, "counts");
	size_t off;

	off = (size_t)snprintf(buf, len,
			       "summary: %lld worse (%lld headline), %lld better, %lld same, %lld inconclusive",
			       (long long)json_integer_value(json_object_get(c, "worse")),
			       (long long)json_integer_value(json_object_get(c, "headline_worse")),
			       (long long)json_integer_value(json_object_get(c, "better")),
			       (long long)json_integer_value(json_object_get(c, "same")),
			       (long long)json_integer_value(json_object_get(c, "inconclusive")));
	if (off < len && json_integer_value(json_object_get(c, "info")))
		off += (size_t)snprintf(buf + off, len - off, ", %lld without a better direction",
				(long long)json_integer_value(json_object_get(c, "info")));
	if (off < len && json_integer_value(json_object_get(c, "missing")))
		off += (size_t)snprintf(buf + off, len - off, ", %lld on one side only",
				(long long)json_integer_value(json_object_get(c, "missing")));
	if (off < len)
		snprintf(buf + off, len - off, "; %s",
			 json_integer_value(json_object_get(m, "exit_code")) ?
			 "something got WORSE (exit 1)" :
			 json_is_true(json_object_get(m, "regressed")) ?
			 "only metrics that do not page got worse (exit 0)" :
			 "nothing got worse (exit 0)");
}

static void workload_title(json_t *m, json_t *w, char *buf, size_t len)
{
	snprintf(buf, len, "%s (%s %s, %s %s; workers %lld vs %lld)",
		 json_string_value(json_object_get(w, "key")), label_of(m, "a"),
		 json_string_value(json_object_get(w, "status_a")), label_of(m, "b"),
		 json_string_value(json_object_get(w, "status_b")),
		 (long long)json_integer_value(json_object_get(w, "workers_a")),
		 (long long)json_integer_value(json_object_get(w, "workers_b")));
}

/*
 * One line per headline metric of a workload: what the samples can detect
 * ("with 5+5 repeats and CoV 12.0 %, changes under 37 % do not count") and,
 * when inconclusive, why.
 */
static void headline_notes(json_t *w, FILE *out, const char *pre, const char *post)
{
	json_t *row;
	size_t j;

	json_array_foreach(json_object_get(w, "rows"), j, row) {
		json_t *a = json_object_get(row, "a"), *b = json_object_get(row, "b");
		const char *why = json_string_value(json_object_get(row, "why"));
		double d = jdouble(json_object_get(row, "detectable_pct"), NAN);
		double ca = jdouble(json_object_get(a, "cov"), NAN);
		double cb = jdouble(json_object_get(b, "cov"), NAN);
		char n[64];

		if (!json_is_true(json_object_get(row, "headline")) || isnan(d))
			continue;
		fmt_n(row, n, sizeof(n));
		if (!strstr(n, "repeats"))
			strncat(n, " samples", sizeof(n) - strlen(n) - 1);
		fprintf(out, "%s%s: with %s and CoV %.1f %%, changes under %.0f %% do not count"
			"%s%s%s\n", pre, json_string_value(json_object_get(row, "metric")), n,
			100 * sqrt((ca * ca + cb * cb) / 2), d, why ? " (" : "", why ? why : "",
			why ? ")" : "");
		fputs(post, out);
	}
}

static void print_text(json_t *m, FILE *out)
{
	static const int right[NR_COLS] = {
		[C_A] = 1, [C_ASD] = 1, [C_ACOV] = 1, [C_B] = 1, [C_BSD] = 1, [C_BCOV] = 1,
		[C_CHANGE] = 1, [C_CI] = 1, [C_P] = 1, [C_DETECT] = 1,
	};
	char cell[NR_COLS][64], buf[2048];
	json_t *head = head_lines(m), *w, *row, *x;
	size_t i, j;
	int c;

	fprintf(out, "compare %s against %s\n", label_of(m, "b"), label_of(m, "a"));
	json_array_foreach(head, i, x)
		fprintf(out, "!! %s\n", json_string_value(json_object_get(x, "text")));
	json_decref(head);
	run_text(json_object_get(m, "a"), buf, sizeof(buf));
	fprintf(out, "  %s: %s\n", label_of(m, "a"), buf);
	run_text(json_object_get(m, "b"), buf, sizeof(buf));
	fprintf(out, "  %s: %s\n", label_of(m, "b"), buf);
	if (json_array_size(json_object_get(m, "settings_differ"))) {
		fprintf(out, "system settings that differ:\n");
		json_array_foreach(json_object_get(m, "settings_differ"), i, x) {
			settings_line(x, buf, sizeof(buf));
			fprintf(out, "  %s\n", buf);
		}
	}
	rules_text(m, buf, sizeof(buf));
	fprintf(out, "%s\n", buf);
	json_array_foreach(json_object_get(m, "notes"), i, x)
		fprintf(out, "note: %s\n", json_string_value(x));
	json_array_foreach(json_object_get(m, "workloads"), i, w) {
		int width[NR_COLS] = { 0 };

		header_cells(m, cell);
		for (c = 0; c < NR_COLS; c++)
			width[c] = (int)strlen(cell[c]);
		json_array_foreach(json_object_get(w, "rows"), j, row) {
			row_cells(row, cell, true);
			for (c = 0; c < NR_COLS; c++)
				if ((int)strlen(cell[c]) > width[c])
					width[c] = (int)strlen(cell[c]);
		}
		workload_title(m, w, buf, sizeof(buf));
		fprintf(out, "\n%s\n", buf);
		header_cells(m, cell);
		fprintf(out, " ");
		for (c = 0; c < NR_COLS; c++)
			fprintf(out, " %*s", c == NR_COLS - 1 ? 0 : right[c] ? width[c] : -width[c],
				cell[c]);
		fprintf(out, "\n");
		json_array_foreach(json_object_get(w, "rows"), j, row) {
			row_cells(row, cell, true);
			fprintf(out, " ");
			for (c = 0; c < NR_COLS; c++)
				fprintf(out, " %*s", c == NR_COLS - 1 ? 0 :
					right[c] ? width[c] : -width[c], cell[c]);
			fprintf(out, "\n");
		}
		headline_notes(w, out, "  headline ", "");
	}
	counts_text(m, buf, sizeof(buf));
	fprintf(out, "\n%s\n", buf);
}

static void print_markdown(json_t *m, FILE *out)
{
	char cell[NR_COLS][64], buf[2048];
	json_t *head = head_lines(m), *w, *row, *x;
	size_t i, j;
	int c;

	fprintf(out, "## Compare %s against %s\n\n", label_of(m, "b"), label_of(m, "a"));
	json_array_foreach(head, i, x) {
		const char *cls = json_string_value(json_object_get(x, "class"));
		bool strong = strcmp(cls, "only");

		fprintf(out, "- %s%s%s\n", strong ? "**" : "",
			json_string_value(json_object_get(x, "text")), strong ? "**" : "");
	}
	if (json_array_size(head))
		fprintf(out, "\n");
	json_decref(head);
	run_text(json_object_get(m, "a"), buf, sizeof(buf));
	fprintf(out, "- %s: %s\n", label_of(m, "a"), buf);
	run_text(json_object_get(m, "b"), buf, sizeof(buf));
	fprintf(out, "- %s: %s\n", label_of(m, "b"), buf);
	if (json_array_size(json_object_get(m, "settings_differ"))) {
		fprintf(out, "\nSystem settings that differ:\n\n");
		json_array_foreach(json_object_get(m, "settings_differ"), i, x) {
			settings_line(x, buf, sizeof(buf));
			fprintf(out, "- `%s`\n", buf);
		}
	}
	rules_text(m, buf, sizeof(buf));
	fprintf(out, "\n_%s_\n", buf);
	json_array_foreach(json_object_get(m, "notes"), i, x)
		fprintf(out, "\n_note: %s_\n", json_string_value(x));
	json_array_foreach(json_object_get(m, "workloads"), i, w) {
		workload_title(m, w, buf, sizeof(buf));
		fprintf(out, "\n### %s\n\n|", buf);
		header_cells(m, cell);
		for (c = 0; c < NR_COLS; c++)
			fprintf(out, " %s |", cell[c]);
		fprintf(out, "\n|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|---|---|\n");
		json_array_foreach(json_object_get(w, "rows"), j, row) {
			const char *v = json_string_value(json_object_get(row, "verdict"));
			bool bold = !strcmp(v, "worse") || !strcmp(v, "better");

			row_cells(row, cell, false);
			fprintf(out, "|");
			for (c = 0; c < NR_COLS; c++)
				fprintf(out, c == C_VERDICT && bold ? " **%s** |" : " %s |",
					cell[c]);
			fprintf(out, "\n");
		}
		fprintf(out, "\n");
		headline_notes(w, out, "- headline ", "");
	}
	counts_text(m, buf, sizeof(buf));
	fprintf(out, "\n**%s**\n", buf);
}

static void print_html(json_t *m, FILE *out)
{
	char cell[NR_COLS][64], buf[2048];
	json_t *head = head_lines(m), *w, *row, *x;
	size_t i, j;
	int c;

	fprintf(out, "<h2>Compare %s against %s</h2>\n", label_of(m, "b"), label_of(m, "a"));
	if (json_array_size(head)) {
		fprintf(out, "<ul class=\"head\">\n");
		json_array_foreach(head, i, x) {
			fprintf(out, "<li class=\"%s\">",
				json_string_value(json_object_get(x, "class")));
			mmt_html_puts(out, json_string_value(json_object_get(x, "text")));
			fprintf(out, "</li>\n");
		}
		fprintf(out, "</ul>\n");
	}
	json_decref(head);
	fprintf(out, "<ul>\n");
	run_text(json_object_get(m, "a"), buf, sizeof(buf));
	fprintf(out, "<li>%s: ", label_of(m, "a"));
	mmt_html_puts(out, buf);
	run_text(json_object_get(m, "b"), buf, sizeof(buf));
	fprintf(out, "</li>\n<li>%s: ", label_of(m, "b"));
	mmt_html_puts(out, buf);
	fprintf(out, "</li>\n</ul>\n");
	if (json_array_size(json_object_get(m, "settings_differ"))) {
		fprintf(out, "<p>System settings that differ:</p>\n<ul>\n");
		json_array_foreach(json_object_get(m, "settings_differ"), i, x) {
			settings_line(x, buf, sizeof(buf));
			fprintf(out, "<li><code>");
			mmt_html_puts(out, buf);
			fprintf(out, "</code></li>\n");
		}
		fprintf(out, "</ul>\n");
	}
	rules_text(m, buf, sizeof(buf));
	fprintf(out, "<p class=\"rules\">");
	mmt_html_puts(out, buf);
	fprintf(out, "</p>\n");
	json_array_foreach(json_object_get(m, "notes"), i, x) {
		fprintf(out, "<p class=\"rules\">note: ");
		mmt_html_puts(out, json_string_value(x));
		fprintf(out, "</p>\n");
	}
	json_array_foreach(json_object_get(m, "workloads"), i, w) {
		workload_title(m, w, buf, sizeof(buf));
		fprintf(out, "<h3>");
		mmt_html_puts(out, buf);
		fprintf(out, "</h3>\n<table class=\"cmp\">\n<tr>");
		header_cells(m, cell);
		for (c = 0; c < NR_COLS; c++) {
			fprintf(out, "<th>");
			mmt_html_puts(out, cell[c]);
			fprintf(out, "</th>");
		}
		fprintf(out, "</tr>\n");
		json_array_foreach(json_object_get(w, "rows"), j, row) {
			const char *v = json_string_value(json_object_get(row, "verdict"));

			row_cells(row, cell, false);
			fprintf(out, "<tr class=\"%s\">", v);
			for (c = 0; c < NR_COLS; c++) {
				fprintf(out, c >= C_A && c <= C_P ? "<td class=\"num\">" : "<td>");
				mmt_html_puts(out, cell[c]);
				fprintf(out, "</td>");
			}
			fprintf(out, "</tr>\n");
		}
		fprintf(out, "</table>\n");
	}
	counts_text(m, buf, sizeof(buf));
	fprintf(out, "<p class=\"%s\"><b>", json_is_true(json_object_get(m, "regressed")) ?
		"verdict worse" : "verdict");
	mmt_html_puts(out, buf);
	fprintf(out, "</b></p>\n");
}

void mmt_compare_print(json_t *model, enum mmt_format fmt, FILE *out)
{
	switch (fmt) {
	case MMT_FMT_JSON:
		json_dumpf(model, out, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
		fputc('\n', out);
		break;
	case MMT_FMT_MARKDOWN:
		print_markdown(model, out);
		break;
	case MMT_FMT_HTML:
		print_html(model, out);
		break;
	default:
		print_text(model, out);
		break;
	}
	fflush(out);
}

/* ---------------------------------------------------------------- command */

#define bad_usage(...) mmt_usage_error("compare", __VA_ARGS__)

int mmt_cmd_compare(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "results", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "correction", required_argument, NULL, 'C' },
		{ "margin", required_argument, NULL, 'M' },
		{ "calibration", required_argument, NULL, 'K' },
		{ "headline", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mmt_cmp_opts o = { .correction = MMT_CORR_HOLM, .margin = MMT_CMP_MARGIN };
	const char *results = "results", *calib = NULL;
	enum mmt_format fmt = MMT_FMT_TEXT;
	struct mmt_runset a, b;
	char err[PATH_MAX + 256], *end;
	json_t *model;
	int c, ret;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			results = optarg;
			break;
		case 'f':
			if (!mmt_parse_format(optarg, &fmt))
				return bad_usage("invalid --format '%s': must be text, markdown or json",
						 optarg);
			break;
		case 'C':
			if (!mmt_parse_correction(optarg, &o.correction))
				return bad_usage("invalid --correction '%s': must be holm, bh or none",
						 optarg);
			break;
		case 'M':
			o.margin = strtod(optarg, &end) / 100;
			if (end == optarg || *end || !(o.margin > 0 && o.margin < 10))
				return bad_usage("invalid --margin '%s': a percentage above 0", optarg);
			break;
		case 'K':
			calib = optarg;
			break;
		case 'H':
			o.headline_only = true;
			break;
		case 'h':
			fputs(mmt_compare_usage, stdout);
			return 0;
		case ':':
			return bad_usage("option %s needs a value", argv[optind - 1]);
		default:
			return bad_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind < 2)
		return bad_usage("expected two runs, RUN_A and RUN_B");
	if (argc - optind > 2)
		return bad_usage("unexpected argument '%s': expected two runs", argv[optind + 2]);
	if (mmt_run_load(argv[optind], results, &a, err, sizeof(err))) {
		mmt_errmsg("%s", err);
		return MMT_ERROR;
	}
	if (mmt_run_load(argv[optind + 1], results, &b, err, sizeof(err))) {
		mmt_errmsg("%s", err);
		mmt_run_free(&a);
		return MMT_ERROR;
	}
	if (calib && strcmp(calib, "none")) {
		o.calibration = mmt_calibration_load(calib, err, sizeof(err));
		if (!o.calibration) {
			mmt_errmsg("%s", err);
			ret = MMT_ERROR;
			goto out_free;
		}
	} else if (!calib) {
		o.calibration = mmt_calibration_find(results, &a);
	}
	model = mmt_compare_model(&a, &b, &o);
	if (!model) {
		mmt_errmsg("out of memory");
		ret = MMT_ERROR;
		goto out_free;
	}
	if (!json_array_size(json_object_get(model, "workloads"))) {
		mmt_errmsg("runs %s and %s have no workload in common: nothing to compare",
			   a.dir, b.dir);
		json_decref(model);
		ret = MMT_ERROR;
		goto out_free;
	}
	mmt_compare_print(model, fmt, stdout);
	ret = mmt_compare_regressed(model, o.headline_only) ? MMT_FAIL : MMT_PASS;
	json_decref(model);
out_free:
	json_decref(o.calibration);
	mmt_run_free(&a);
	mmt_run_free(&b);
	return ret;
}
