// SPDX-License-Identifier: GPL-2.0
/*
 * record.c - result records: one JSON document per workload run, written
 * atomically (temp file, fsync, rename) and read back only through jansson.
 * The schema is described in results/README.md.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The "summary" object of a metric (results/README.md). */
bool mmt_metric_headline(const struct mmt_workload *wl, unsigned int m)
{
	const struct mmt_metric *md;
	bool any = false;

	if (!wl->metrics || !wl->metrics[m].name)
		return false;
	for (md = wl->metrics; md->name; md++)
		any |= !!(md->flags & MMT_METRIC_HEADLINE);
	return any ? !!(wl->metrics[m].flags & MMT_METRIC_HEADLINE) : m == 0;
}

json_t *mmt_headline_json(const struct mmt_workload *wl)
{
	json_t *a = json_array();
	unsigned int m;

	for (m = 0; wl->metrics && wl->metrics[m].name; m++)
		if (mmt_metric_headline(wl, m))
			json_array_append_new(a, json_string(wl->metrics[m].name));
	return a;
}

json_t *mmt_summary_json(const struct mmt_summary *s)
{
	return json_pack("{s:I, s:s, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "n", (json_int_t)s->n,
			 "mean_kind", s->harmonic ? "harmonic" : "arithmetic", "mean", s->mean,
			 "arithmetic_mean", s->amean, "median", s->median, "stddev", s->stddev,
			 "cov", s->cov, "min", s->min, "max", s->max);
}

int mmt_record_write(const char *path, json_t *rec)
{
	char *text, *t;
	size_t len;
	int ret;

	text = json_dumps(rec, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
	if (!text)
		return -ENOMEM;
	/* end with a newline, like every text file */
	len = strlen(text);
	t = realloc(text, len + 1);
	if (!t) {
		free(text);
		return -ENOMEM;
	}
	text = t;
	text[len++] = '\n';
	ret = mmt_write_atomic(path, text, len);
	free(text);
	return ret;
}

json_t *mmt_record_load(const char *path, char *err, size_t errlen)
{
	json_error_t jerr;
	const char *schema;
	json_t *rec;

	rec = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!rec) {
		if (jerr.line <= 0)
			snprintf(err, errlen, "%s: %s", path, jerr.text);
		else
			snprintf(err, errlen, "%s: not valid JSON at line %d: %s", path,
				 jerr.line, jerr.text);
		return NULL;
	}
	if (!json_is_object(rec)) {
		snprintf(err, errlen, "%s: not a mmtorture record (not a JSON object)", path);
		goto out_put;
	}
	schema = json_string_value(json_object_get(rec, "schema"));
	if (!schema || strcmp(schema, MMT_RECORD_SCHEMA)) {
		snprintf(err, errlen, "%s: unknown record schema '%s' (this mmtorture reads %s)",
			 path, schema ? schema : "(none)", MMT_RECORD_SCHEMA);
		goto out_put;
	}
	if (!json_is_string(json_object_get(rec, "workload")) ||
	    !json_is_string(json_object_get(rec, "status")) ||
	    !json_is_object(json_object_get(rec, "metrics"))) {
		snprintf(err, errlen, "%s: record lacks workload, status or metrics", path);
		goto out_put;
	}
	return rec;

out_put:
	json_decref(rec);
	return NULL;
}

static int status_rank(const char *s)
{
	if (!s)
		return 3;
	if (!strcmp(s, "FAIL"))
		return 4;
	if (!strcmp(s, "ERROR"))
		return 3;
	if (!strcmp(s, "SKIP"))
		return 2;
	if (!strcmp(s, "XFAIL"))
		return 1;
	return 0;
}

static void merge_metric(json_t *dst, json_t **recs, int n, const char *name)
{
	json_t *all = json_array(), *rv = json_array(), *hists = json_array();
	json_t *m0 = json_object_get(json_object_get(recs[0], "metrics"), name);
	const char *mk = json_string_value(json_object_get(json_object_get(m0, "summary"),
							   "mean_kind"));
	bool harmonic = mk && !strcmp(mk, "harmonic");
	struct mmt_summary s;
	double *v;
	json_t *x, *m;
	size_t i, k = 0;
	int r;

	for (r = 0; r < n; r++) {
		m = json_object_get(json_object_get(recs[r], "metrics"), name);
		json_array_extend(all, json_object_get(m, "samples"));
		json_array_extend(rv, json_object_get(m, "repeat_values"));
		if (json_object_get(m, "histogram"))
			json_array_append(hists, json_object_get(m, "histogram"));
	}
	v = calloc(json_array_size(all) + 1, sizeof(*v));
	json_array_foreach(all, i, x)
		if (v)
			v[k++] = json_number_value(x);
	mmt_summarize(v, v ? k : 0, harmonic, &s);
	free(v);
	m = json_deep_copy(m0);
	json_object_set_new(m, "samples", all);
	json_object_set_new(m, "repeat_values", rv);
	json_object_set_new(m, "summary", mmt_summary_json(&s));
	/* percentiles cannot be merged from percentiles: keep each run's */
	json_object_del(m, "histogram");
	if (json_array_size(hists))
		json_object_set_new(m, "histograms", hists);
	else
		json_decref(hists);
	json_object_set_new(dst, name, m);
}

/*
 * NUMA matrices (run --numa-matrix): the cells of the other records merged into
 * out's cells of the same name, metric by metric as the top level is, so that
 * each ab boot is one repeat of every cell.  A cell a record lacks is left out.
 */
static void merge_matrix(json_t *out, json_t **recs, int n)
{
	json_t *cells = json_object_get(json_object_get(out, "numa_matrix"), "cells");
	json_t **tmp = calloc((size_t)n, sizeof(*tmp)), *cell, *x;
	const char *key;
	size_t i, j;
	int r, k;

	for (i = 0; tmp && i < json_array_size(cells); i++) {
		json_t *cm0 = json_object_get(json_array_get(cells, i), "cpu_node");
		json_t *mm0 = json_object_get(json_array_get(cells, i), "mem_node");
		json_t *merged;

		cell = json_array_get(cells, i);
		for (r = 0, k = 0; r < n; r++) {
			json_array_foreach(json_object_get(json_object_get(recs[r], "numa_matrix"), "cells"),
					   j, x) {
				if (json_equal(json_object_get(x, "cpu_node"), cm0) &&
				    json_equal(json_object_get(x, "mem_node"), mm0)) {
					tmp[k++] = x;
					if (status_rank(json_string_value(json_object_get(x, "status"))) >
					    status_rank(json_string_value(json_object_get(cell, "status")))) {
						json_object_set(cell, "status", json_object_get(x, "status"));
						json_object_set(cell, "reason", json_object_get(x, "reason"));
					}
					if (json_is_false(json_object_get(x, "placement_held")))
						json_object_set(cell, "placement_held", json_false());
					break;
				}
			}
		}
		if (k < 2)
			continue;
		merged = json_object();
		json_object_foreach(json_object_get(tmp[0], "metrics"), key, x)
			merge_metric(merged, tmp, k, key);
		json_object_set_new(cell, "metrics", merged);
	}
	free(tmp);
}

json_t *mmt_record_merge(json_t **recs, int n, char *err, size_t errlen)
{
	json_t *out, *metrics, *repeats, *splats, *from, *x, *rp;
	const char *wl, *key;
	int r, worst = 0, idx = 1;
	size_t i;

	if (n < 1) {
		snprintf(err, errlen, "nothing to merge");
		return NULL;
	}
	wl = json_string_value(json_object_get(recs[0], "workload"));
	for (r = 1; r < n; r++) {
		if (strcmp(wl, json_string_value(json_object_get(recs[r], "workload")))) {
			snprintf(err, errlen, "cannot merge records of different workloads");
			return NULL;
		}
		if (!json_equal(json_object_get(recs[0], "params"), json_object_get(recs[r], "params"))) {
			snprintf(err, errlen, "cannot merge %s records run with different parameters", wl);
			return NULL;
		}
	}
	out = json_deep_copy(recs[0]);
	metrics = json_object();
	json_object_foreach(json_object_get(recs[0], "metrics"), key, x)
		merge_metric(metrics, recs, n, key);
	json_object_set_new(out, "metrics", metrics);
	repeats = json_array();
	splats = json_array();
	from = json_array();
	for (r = 0; r < n; r++) {
		const char *st = json_string_value(json_object_get(recs[r], "status"));

		if (status_rank(st) > status_rank(json_string_value(json_object_get(out, "status")))) {
			json_object_set(out, "status", json_object_get(recs[r], "status"));
			json_object_set(out, "exit_code", json_object_get(recs[r], "exit_code"));
			json_object_set(out, "reason", json_object_get(recs[r], "reason"));
			if (json_object_get(recs[r], "known_bug"))
				json_object_set(out, "known_bug", json_object_get(recs[r], "known_bug"));
			else
				json_object_del(out, "known_bug");
		}
		worst = status_rank(st) > worst ? status_rank(st) : worst;
		json_array_foreach(json_object_get(recs[r], "repeats"), i, rp) {
			json_t *c = json_deep_copy(rp);

			json_object_set_new(c, "index", json_integer(idx++));
			json_object_set(c, "from_run", json_object_get(recs[r], "run_id"));
			json_array_append_new(repeats, c);
		}
		json_array_extend(splats, json_object_get(recs[r], "splats"));
		json_array_append(from, json_object_get(recs[r], "run_id"));
	}
	json_object_set_new(out, "repeats", repeats);
	json_object_set_new(out, "splats", splats);
	json_object_set_new(out, "merged_from", from);
	if (json_object_get(out, "numa_matrix"))
		merge_matrix(out, recs, n);
	json_object_set_new(json_object_get(out, "run"), "repeats", json_integer(idx - 1));
	return out;
}
