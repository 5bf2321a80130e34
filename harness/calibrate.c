// SPDX-License-Identifier: GPL-2.0
/*
 * calibrate.c - `mmtorture calibrate RUN_A RUN_B [RUN...]`: measure a setup's
 * own noise from A/A runs (the same kernel on every side: `run -r 5` twice, or
 * `ab --base K --patched K`, whose boots interleave), and keep it under
 * results/calibration/ beside the runs of the history.
 *
 * Per metric it keeps the noise between repeats (the pooled CoV of the
 * samples a verdict uses), the drift between runs (mmt_aa_floor(): how far the
 * runs' means spread beyond what their repeats explain), the effect floor
 * compare takes from it (the change identical runs stay within 95 % of the
 * time, at least 1 %), the change each number of repeats can detect, and the
 * repeats a wanted sensitivity needs.  compare uses the newest calibration of
 * the machine by itself.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_statistics_double.h>

#include "analysis.h"

#define gsl_mean(v, n) gsl_stats_mean(v, 1, n)

#define CAL_SCHEMA "mmtorture-calibration/1"

const char mmt_calibrate_usage[] =
	"usage: mmtorture calibrate RUN_A RUN_B [RUN...] [-o DIR] [--name NAME]\n"
	"                           [--want PCT,...]\n"
	"\n"
	"Measure this setup's own noise from A/A runs: two or more runs of the SAME\n"
	"kernel and settings (`run -r 5` twice or more, or `ab --base K --patched K`,\n"
	"whose boots interleave).  For each metric it records the noise between\n"
	"repeats (CoV), the drift between runs (how far the runs' means spread beyond\n"
	"what their repeats explain), the effect floor `compare` derives from it (the\n"
	"change identical runs stay within 95 % of the time, at least 1 %), the\n"
	"smallest change 3, 5, 10 and 20 repeats can detect, and the repeats each\n"
	"wanted sensitivity needs.  More runs measure the drift better.\n"
	"The calibration is written to DIR/calibration/NAME.json, where `compare`\n"
	"(and ab, nightly, report) find the newest one of the machine by themselves.\n"
	"\n"
	"  -o, --results DIR   where run ids are looked up and the calibration is kept\n"
	"                      (default ./results)\n"
	"      --name NAME     file name (default HOSTNAME-YYYYmmdd-HHMMSS)\n"
	"      --want PCT,...  sensitivities to plan repeats for (default 5,10,20)\n"
	"  -f, --format FMT    text (default) or json (the calibration itself)\n"
	"  -h, --help          this text\n"
	"\n"
	"exit: 0 written (no A/A pair gave a worse verdict), 1 written but an A/A pair\n"
	"      (run i against run i+1) called a metric worse or a status changed: the\n"
	"      setup drifts more than its repeats show, 99 bad input (not an A/A:\n"
	"      different kernels, ...)\n";

static double jd(json_t *v)
{
	return json_is_number(v) ? json_number_value(v) : NAN;
}

static json_t *cal_num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static const char *sys_str(json_t *rec, const char *key)
{
	return json_string_value(json_object_get(json_object_get(rec, "system"), key));
}

/* the same machine: hostname, CPU model and online CPUs */
static bool same_host(json_t *host, json_t *rec)
{
	json_t *sys = json_object_get(rec, "system");

	return json_equal(json_object_get(host, "hostname"), json_object_get(sys, "hostname")) &&
	       json_equal(json_object_get(host, "cpu_model"), json_object_get(sys, "cpu_model")) &&
	       json_equal(json_object_get(host, "online_cpus"),
			  json_object_get(sys, "online_cpus"));
}

json_t *mmt_calibration_load(const char *path, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *c = json_load_file(path, 0, &jerr);
	const char *schema;

	if (!c) {
		snprintf(err, errlen, "calibration %s: %s", path, jerr.text);
		return NULL;
	}
	schema = json_string_value(json_object_get(c, "schema"));
	if (!schema || strcmp(schema, CAL_SCHEMA)) {
		snprintf(err, errlen, "calibration %s: not a %s file", path, CAL_SCHEMA);
		json_decref(c);
		return NULL;
	}
	json_object_set_new(c, "file", json_string(path));
	return c;
}

json_t *mmt_calibration_find(const char *results_dir, const struct mmt_runset *a)
{
	char dir[PATH_MAX], path[PATH_MAX], err[PATH_MAX + 128], key[256];
	const char *best_when = "";
	json_t *best = NULL, *c;
	struct dirent *de;
	size_t best_cover = 0, cover, i;
	DIR *d;

	if (!results_dir || !a->nr)
		return NULL;
	snprintf(dir, sizeof(dir), "%s/calibration", results_dir);
	d = opendir(dir);
	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		const char *when;

		if (de->d_name[0] == '.' || l < 6 || strcmp(de->d_name + l - 5, ".json"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		c = mmt_calibration_load(path, err, sizeof(err));
		if (!c)
			continue;
		when = json_string_value(json_object_get(c, "created")) ?: "";
		/* the one covering most of A's workloads, then the newest */
		for (i = 0, cover = 0; i < a->nr; i++) {
			mmt_rec_key(&a->recs[i], key, sizeof(key));
			cover += !!json_object_get(json_object_get(c, "workloads"), key);
		}
		if (same_host(json_object_get(c, "host"), a->recs[0].j) && cover &&
		    (cover > best_cover || (cover == best_cover && strcmp(when, best_when) > 0))) {
			json_decref(best);
			best = c;
			best_when = when;
			best_cover = cover;
		} else {
			json_decref(c);
		}
	}
	closedir(d);
	return best;
}

/* the row of metric `name` of workload `key` in a compare model */
static json_t *model_row(json_t *m, const char *key, const char *name)
{
	json_t *w, *row;
	size_t i, j;

	json_array_foreach(json_object_get(m, "workloads"), i, w) {
		if (strcmp(json_string_value(json_object_get(w, "key")) ?: "", key))
			continue;
		json_array_foreach(json_object_get(w, "rows"), j, row)
			if (!strcmp(json_string_value(json_object_get(row, "metric")) ?: "", name))
				return row;
	}
	return NULL;
}

/*
 * The calibration of one workload from the compare models of consecutive run
 * pairs (run i is side a of model i, the last run side b of the last model).
 */
static json_t *cal_workload(json_t **models, size_t k, json_t *w, const struct mmt_rec *ra,
			    json_t *wants, size_t tested)
{
	static const size_t plans[] = { 3, 5, 10, 20 };
	double alpha_test = tested ? MMT_CMP_ALPHA / (double)tested : MMT_CMP_ALPHA;
	const char *key = json_string_value(json_object_get(w, "key"));
	json_t *out, *metrics = json_object(), *row0, *x;
	double *mean = calloc(k + 1, sizeof(*mean)), *wv = calloc(k + 1, sizeof(*wv));
	size_t j, i, r;

	json_array_foreach(json_object_get(w, "rows"), j, row0) {
		const char *name = json_string_value(json_object_get(row0, "metric"));
		double cov = 0, between, floor, delta, maxd = 0;
		json_t *mdc, *need, *m, *last = NULL;
		size_t n = SIZE_MAX;
		bool ok = mean && wv;

		if (!strcmp(json_string_value(json_object_get(row0, "better")) ?: "none", "none"))
			continue;
		/* each run's mean, the variance of that mean, its CoV */
		for (i = 0; ok && i < k; i++) {
			json_t *row = model_row(models[i < k - 1 ? i : k - 2], key, name);
			json_t *side = json_object_get(row, i < k - 1 ? "a" : "b");
			double sd = jd(json_object_get(side, "stddev"));
			double nn = jd(json_object_get(side, "n"));

			mean[i] = jd(json_object_get(side, "arithmetic_mean"));
			if (!json_is_object(side) || !isfinite(mean[i]) || !isfinite(sd) || nn < 2) {
				ok = false;
				break;
			}
			wv[i] = sd * sd / nn;
			cov += sd * sd / (double)k;
			n = (size_t)nn < n ? (size_t)nn : n;
			if (i < k - 1) {
				double d = fabs(jd(json_object_get(row, "delta_pct"))) / 100;

				maxd = isfinite(d) && d > maxd ? d : maxd;
			}
			last = row;
		}
		floor = ok ? mmt_aa_floor(mean, wv, k, &between) : NAN;
		if (!ok || isnan(floor))
			continue;
		cov = sqrt(cov) / fabs(gsl_mean(mean, k));
		delta = (mean[k - 1] - mean[0]) / fabs(mean[0]);
		mdc = json_object();
		need = json_object();
		for (r = 0; r < sizeof(plans) / sizeof(plans[0]); r++) {
			char pk[16];

			snprintf(pk, sizeof(pk), "%zu", plans[r]);
			json_object_set_new(mdc, pk, cal_num(100 * mmt_mdc(cov, plans[r], floor,
							MMT_CMP_ALPHA, alpha_test, MMT_CMP_POWER)));
		}
		json_array_foreach(wants, r, x) {
			char pk[16];
			size_t nr = mmt_repeats_for(cov, json_number_value(x) / 100, floor,
						    MMT_CMP_ALPHA, alpha_test, MMT_CMP_POWER, 100);

			snprintf(pk, sizeof(pk), "%g", json_number_value(x));
			json_object_set_new(need, pk, nr ? json_integer((json_int_t)nr) : json_null());
		}
		m = json_pack("{s:s, s:I, s:I, s:o, s:o, s:o, s:o, s:O, s:o, s:o, s:o, s:o}",
			      "basis", json_string_value(json_object_get(json_object_get(row0, "a"),
									 "basis")) ?: "?",
			      "n", (json_int_t)n, "runs", (json_int_t)k, "cov_pct", cal_num(cov * 100),
			      "cov_between_runs_pct", cal_num(between * 100),
			      "aa_change_pct", cal_num(delta * 100),
			      "aa_max_change_pct", cal_num(maxd * 100),
			      "aa_ci_pct", k == 2 ? json_object_get(last, "ci_pct") ?: json_null() :
				json_null(),
			      "floor_pct", cal_num(floor * 100),
			      "detectable_pct", cal_num(100 * mmt_mdc(cov, n, floor, MMT_CMP_ALPHA,
								 alpha_test, MMT_CMP_POWER)),
			      "detectable_pct_by_repeats", mdc, "repeats_for_pct", need);
		json_object_set_new(metrics, name, m);
	}
	free(mean);
	free(wv);
	out = json_pack("{s:O, s:{s:O, s:O, s:O}, s:o}",
			"params", json_object_get(ra->j, "params") ?: json_null(),
			"run", "duration_s", json_object_get(json_object_get(ra->j, "run"),
							     "duration_s") ?: json_null(),
			"workers", json_object_get(json_object_get(ra->j, "run"), "workers") ?:
				   json_null(),
			"repeats", json_object_get(json_object_get(ra->j, "run"), "repeats") ?:
				   json_null(),
			"metrics", metrics);
	return out;
}

static void print_cal(json_t *cal, FILE *out)
{
	const char *key, *name;
	json_t *w, *m;

	json_t *id;
	size_t r;

	fprintf(out, "A/A calibration %s\n  host %s, kernel %s, runs",
		json_string_value(json_object_get(cal, "file")) ?: "",
		json_string_value(json_object_get(json_object_get(cal, "host"), "hostname")) ?: "?",
		json_string_value(json_object_get(cal, "kernel")) ?: "?");
	json_array_foreach(json_object_get(cal, "run_ids"), r, id)
		fprintf(out, " %s", json_string_value(id));
	fprintf(out, "\n  the A/A compares (each run against the next): %lld worse, %lld better, %lld same, %lld inconclusive\n",
		(long long)json_integer_value(json_object_get(json_object_get(cal, "aa_counts"),
							      "worse")),
		(long long)json_integer_value(json_object_get(json_object_get(cal, "aa_counts"),
							      "better")),
		(long long)json_integer_value(json_object_get(json_object_get(cal, "aa_counts"),
							      "same")),
		(long long)json_integer_value(json_object_get(json_object_get(cal, "aa_counts"),
							      "inconclusive")));
	json_object_foreach(json_object_get(cal, "workloads"), key, w) {
		fprintf(out, "\n%s\n  %-28s %3s %7s %8s %7s %6s %7s %6s %6s %6s %6s", key, "metric",
			"n", "CoV", "A/A", "drift", "floor", "detect", "r=3", "r=5", "r=10", "r=20");
		fprintf(out, " repeats for a change of\n");
		json_object_foreach(json_object_get(w, "metrics"), name, m) {
			json_t *by = json_object_get(m, "detectable_pct_by_repeats");
			const char *pk;
			json_t *v;

			fprintf(out, "  %-28s %3lld %6.1f%% %+7.1f%% %6.1f%% %5.1f%% %6.0f%%", name,
				(long long)json_integer_value(json_object_get(m, "n")),
				jd(json_object_get(m, "cov_pct")),
				jd(json_object_get(m, "aa_change_pct")),
				jd(json_object_get(m, "cov_between_runs_pct")),
				jd(json_object_get(m, "floor_pct")),
				jd(json_object_get(m, "detectable_pct")));
			json_object_foreach(by, pk, v)
				fprintf(out, " %5.0f%%", jd(v));
			json_object_foreach(json_object_get(m, "repeats_for_pct"), pk, v) {
				if (json_is_integer(v))
					fprintf(out, " %s%%:r%lld", pk, (long long)json_integer_value(v));
				else
					fprintf(out, " %s%%:>100", pk);
			}
			fprintf(out, "\n");
		}
	}
	fprintf(out, "\nn: samples per run (repeat means with >= 3 repeats); CoV: noise between them;"
		" A/A: the change from the first run to the last;\ndrift: the spread of the runs'"
		" means beyond what their repeats explain; floor: the effect floor compare uses"
		" (95 %% of A/A changes, >= 1 %%);\n"
		"detect: the change caught %.0f %% of the time with n (r=N: with N repeats);"
		" P%%:rN: repeats per side for a sensitivity of P %%\n", MMT_CMP_POWER * 100);
}

#define bad_usage(...) mmt_usage_error("calibrate", __VA_ARGS__)

int mmt_cmd_calibrate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "results", required_argument, NULL, 'o' },
		{ "name", required_argument, NULL, 'n' },
		{ "want", required_argument, NULL, 'W' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mmt_cmp_opts o = { .correction = MMT_CORR_HOLM, .margin = MMT_CMP_MARGIN };
	const char *results = "results", *name = NULL, *ka = "?", *kb, *cname;
	char err[PATH_MAX + 256], path[PATH_MAX], stamp[64], fname[256], *p, *end;
	json_t *model, *cal = NULL, *wants = json_array(), *w, *x, **models = NULL;
	json_t *counts = json_object();
	enum mmt_format fmt = MMT_FMT_TEXT;
	struct mmt_runset *rs = NULL;
	size_t i, k = 0, loaded = 0, tested;
	bool regressed = false;
	struct tm tm;
	time_t now;
	int c, ret = MMT_ERROR;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			results = optarg;
			break;
		case 'n':
			if (!*optarg || strchr(optarg, '/')) {
				json_decref(wants);
				return bad_usage("invalid --name '%s': a file name", optarg);
			}
			name = optarg;
			break;
		case 'W':
			for (p = optarg; *p; p = *end ? end + 1 : end) {
				double v = strtod(p, &end);

				if (end == p || (*end && *end != ',') || !(v > 0 && v < 1000)) {
					json_decref(wants);
					return bad_usage("invalid --want '%s': percentages, e.g. 5,10",
							 optarg);
				}
				json_array_append_new(wants, json_real(v));
			}
			break;
		case 'f':
			if (!mmt_parse_format(optarg, &fmt) || fmt == MMT_FMT_MARKDOWN) {
				json_decref(wants);
				return bad_usage("invalid --format '%s': must be text or json", optarg);
			}
			break;
		case 'h':
			json_decref(wants);
			fputs(mmt_calibrate_usage, stdout);
			return 0;
		case ':':
			json_decref(wants);
			return bad_usage("option %s needs a value", argv[optind - 1]);
		default:
			json_decref(wants);
			return bad_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind < 2 || argc - optind > 32) {
		json_decref(wants);
		return bad_usage("expected 2 to 32 runs of the same kernel, RUN_A RUN_B ...");
	}
	k = (size_t)(argc - optind);
	rs = calloc(k, sizeof(*rs));
	models = calloc(k, sizeof(*models));
	if (!rs || !models) {
		mmt_errmsg("out of memory");
		goto out;
	}
	if (!json_array_size(wants))
		json_array_extend(wants, json_pack("[f, f, f]", 5.0, 10.0, 20.0));
	for (i = 0; i < k; i++) {
		if (mmt_run_load(argv[optind + (int)i], results, &rs[i], err, sizeof(err))) {
			mmt_errmsg("%s", err);
			goto out;
		}
		loaded = i + 1;
		kb = mmt_rec_kernel(&rs[i].recs[0]);
		ka = mmt_rec_kernel(&rs[0].recs[0]);
		if (strcmp(ka, kb)) {
			mmt_errmsg("not an A/A: kernel %s against %s; calibrate with the same kernel on all sides",
				   ka, kb);
			goto out;
		}
	}
	/* consecutive pairs: run i against run i + 1 */
	for (i = 0; i + 1 < k; i++) {
		models[i] = mmt_compare_model(&rs[i], &rs[i + 1], &o);
		if (!models[i] || !json_array_size(json_object_get(models[i], "workloads"))) {
			mmt_errmsg("runs %s and %s have no workload in common: nothing to calibrate",
				   rs[i].dir, rs[i + 1].dir);
			goto out;
		}
		json_object_foreach(json_object_get(models[i], "counts"), cname, x)
			json_object_set_new(counts, cname, json_integer(json_integer_value(
				json_object_get(counts, cname)) + json_integer_value(x)));
		regressed |= mmt_compare_regressed(models[i], false);
	}
	model = models[0];
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cal = json_pack("{s:s, s:s, s:{s:O, s:O, s:O}, s:s, s:[], s:[], s:O, s:s}",
			"schema", CAL_SCHEMA, "created", stamp,
			"host", "hostname", json_object_get(json_object_get(rs[0].recs[0].j, "system"),
							    "hostname") ?: json_null(),
			"cpu_model", json_object_get(json_object_get(rs[0].recs[0].j, "system"),
						     "cpu_model") ?: json_null(),
			"online_cpus", json_object_get(json_object_get(rs[0].recs[0].j, "system"),
						       "online_cpus") ?: json_null(),
			"kernel", ka, "runs", "run_ids", "aa_counts", counts,
			"correction", mmt_correction_name(o.correction));
	for (i = 0; i < k; i++) {
		json_array_append_new(json_object_get(cal, "runs"), json_string(rs[i].dir));
		json_array_append_new(json_object_get(cal, "run_ids"), json_string(rs[i].id));
	}
	json_object_set_new(cal, "power", json_real(MMT_CMP_POWER));
	json_object_set_new(cal, "alpha", json_real(MMT_CMP_ALPHA));
	tested = (size_t)json_integer_value(json_object_get(json_object_get(model, "rules"),
							    "tested"));
	json_object_set_new(cal, "workloads", json_object());
	json_array_foreach(json_object_get(model, "workloads"), i, w) {
		const char *key = json_string_value(json_object_get(w, "key"));
		const struct mmt_rec *ra = mmt_run_find(&rs[0], key);

		if (ra)
			json_object_set_new(json_object_get(cal, "workloads"), key,
					    cal_workload(models, k, w, ra, wants, tested));
	}
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(fname, sizeof(fname), "%s-%s", sys_str(rs[0].recs[0].j, "hostname") ?: "host",
		 stamp);
	snprintf(path, sizeof(path), "%s/calibration", results);
	if (mmt_mkdir_p(path, 0755)) {
		mmt_errmsg("cannot create %s: %s", path, strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/calibration/%s.json", results, name ? name : fname);
	json_object_set_new(cal, "file", json_string(path));
	if (json_dump_file(cal, path, JSON_INDENT(2) | JSON_REAL_PRECISION(6))) {
		mmt_errmsg("cannot write %s", path);
		goto out;
	}
	if (fmt == MMT_FMT_JSON) {
		json_dumpf(cal, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
		fputc('\n', stdout);
	} else {
		print_cal(cal, stdout);
		printf("written: %s\n", path);
	}
	ret = regressed ? MMT_FAIL : MMT_PASS;
out:
	for (i = 0; models && i < k; i++)
		json_decref(models[i]);
	for (i = 0; rs && i < loaded; i++)
		mmt_run_free(&rs[i]);
	free(models);
	free(rs);
	json_decref(cal);
	json_decref(counts);
	json_decref(wants);
	return ret;
}
