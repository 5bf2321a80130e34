// SPDX-License-Identifier: GPL-2.0
/*
 * knownbugs.c - tell a known kernel bug from a new failure.
 *
 * kernel/bugs/known-bugs.json lists the kernel bugs the suite has found: per
 * bug the workloads that hit it, the failure signature (a regex over the
 * record's reason, over its splat lines and excerpts, and/or a metric above a
 * threshold), the affected kernel versions and the companion series of this
 * project that fix it.  A FAIL record of a listed workload that matches a
 * signature on a kernel in range becomes XFAIL ("known kernel bug: ID"); a
 * PASS of such a workload on a kernel in range gets a note that the bug did
 * not show.  Everything here works on records, so compare and tests can use
 * it on records that were written elsewhere.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "internal.h"

static json_t *loaded;
static bool load_tried;

const char *mmt_known_bugs_path(void)
{
	const char *p = getenv("MMT_KNOWN_BUGS");

	return p && *p ? p : MMT_SOURCE_ROOT "/kernel/bugs/known-bugs.json";
}

json_t *mmt_known_bugs_load(const char *path, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *l, *bugs, *b;
	size_t i;

	l = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!l) {
		snprintf(err, errlen, "%s: %s", path, jerr.text);
		return NULL;
	}
	bugs = json_object_get(l, "bugs");
	if (strcmp(json_string_value(json_object_get(l, "schema")) ?: "", MMT_KNOWN_BUGS_SCHEMA) ||
	    !json_is_array(bugs)) {
		snprintf(err, errlen, "%s: not a %s list", path, MMT_KNOWN_BUGS_SCHEMA);
		json_decref(l);
		return NULL;
	}
	json_array_foreach(bugs, i, b) {
		if (!json_string_value(json_object_get(b, "id")) ||
		    !json_is_array(json_object_get(b, "workloads")) ||
		    !json_is_object(json_object_get(b, "signature")) ||
		    !json_is_array(json_object_get(b, "affected"))) {
			snprintf(err, errlen, "%s: bug %zu lacks id, workloads, signature or affected",
				 path, i);
			json_decref(l);
			return NULL;
		}
	}
	return l;
}

/* The list at mmt_known_bugs_path(), loaded once; NULL (warned once) if unusable. */
json_t *mmt_known_bugs(void)
{
	char err[PATH_MAX + 256];

	if (load_tried)
		return loaded;
	load_tried = true;
	if (access(mmt_known_bugs_path(), R_OK)) {
		mmt_errmsg("warning: no known-bug list at %s (set MMT_KNOWN_BUGS): no XFAIL verdicts",
			   mmt_known_bugs_path());
		return NULL;
	}
	loaded = mmt_known_bugs_load(mmt_known_bugs_path(), err, sizeof(err));
	if (!loaded)
		mmt_errmsg("warning: known-bug list unusable: %s: no XFAIL verdicts", err);
	return loaded;
}

/* "6.1.0-57-cloud-amd64" -> 6, 1, 0; false if it does not start with a number. */
static bool parse_version(const char *s, long v[3])
{
	int i;

	v[0] = v[1] = v[2] = 0;
	for (i = 0; i < 3; i++) {
		char *end;

		if (*s < '0' || *s > '9')
			return i > 0;
		v[i] = strtol(s, &end, 10);
		s = end;
		if (*s != '.')
			return true;
		s++;
	}
	return true;
}

static int vcmp(const long a[3], const long b[3])
{
	int i;

	for (i = 0; i < 3; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

/* One range: space-separated ">=4.15", "<6.7", "=6.1.192", ... all must hold. */
static bool in_one_range(const long v[3], const char *range)
{
	char buf[256], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", range);
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		long b[3];
		int op = 0, c;	/* 1 >=, 2 >, 3 <=, 4 <, 5 = */

		if (!strncmp(tok, ">=", 2))
			op = 1, tok += 2;
		else if (!strncmp(tok, "<=", 2))
			op = 3, tok += 2;
		else if (*tok == '>')
			op = 2, tok++;
		else if (*tok == '<')
			op = 4, tok++;
		else if (*tok == '=')
			op = 5, tok++;
		if (!op || !parse_version(tok, b))
			return false;
		c = vcmp(v, b);
		if ((op == 1 && c < 0) || (op == 2 && c <= 0) || (op == 3 && c > 0) ||
		    (op == 4 && c >= 0) || (op == 5 && c))
			return false;
	}
	return true;
}

bool mmt_known_bug_affects(json_t *bug, const char *release, const char *series)
{
	json_t *x;
	long v[3];
	size_t i;

	if (!release || !parse_version(release, v))
		return false;
	json_array_foreach(json_object_get(json_object_get(bug, "fix"), "series"), i, x)
		if (series && json_is_string(x) && !strcmp(series, json_string_value(x)))
			return false;
	json_array_foreach(json_object_get(bug, "affected"), i, x)
		if (json_is_string(x) && in_one_range(v, json_string_value(x)))
			return true;
	return false;
}

static bool lists_workload(json_t *bug, const char *workload)
{
	json_t *x;
	size_t i;

	json_array_foreach(json_object_get(bug, "workloads"), i, x)
		if (json_is_string(x) && (!strcmp(json_string_value(x), workload) ||
					  !strcmp(json_string_value(x), "*")))
			return true;
	return false;
}

static bool rx_match(const char *pattern, const char *s)
{
	regex_t re;
	bool m;

	if (!s || regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB))
		return false;
	m = !regexec(&re, s, 0, NULL, 0);
	regfree(&re);
	return m;
}

/* Does one splat (its line or any line of its excerpt) match the pattern? */
static bool splat_one_match(const char *pattern, json_t *s)
{
	json_t *l;
	size_t j;

	if (rx_match(pattern, json_string_value(json_object_get(s, "line"))))
		return true;
	json_array_foreach(json_object_get(s, "excerpt"), j, l)
		if (rx_match(pattern, json_string_value(l)))
			return true;
	return false;
}

static bool splat_match(const char *pattern, json_t *splats)
{
	json_t *s;
	size_t i;

	json_array_foreach(splats, i, s)
		if (splat_one_match(pattern, s))
			return true;
	return false;
}

/* A bug's splat pattern, or NULL */
static const char *sig_splat(json_t *bug)
{
	return json_string_value(json_object_get(json_object_get(bug, "signature"), "splat"));
}

/* The splat pattern of a bug that affects this kernel and lists this workload, or NULL. */
static const char *bug_splat(json_t *bug, const char *workload, const char *release,
			     const char *series)
{
	if (!lists_workload(bug, workload) || !mmt_known_bug_affects(bug, release, series))
		return NULL;
	return sig_splat(bug);
}

/*
 * Is every splat of the record one that a bug of this kernel and workload explains?  A known
 * splat must not excuse an unknown one logged in the same run.
 */
static bool splats_explained(json_t *list, json_t *rec, const char *workload,
			     const char *release, const char *series)
{
	json_t *s, *bug;
	size_t i, j;

	json_array_foreach(json_object_get(rec, "splats"), i, s) {
		bool known = false;

		json_array_foreach(json_object_get(list, "bugs"), j, bug) {
			const char *pattern = bug_splat(bug, workload, release, series);

			if (pattern && splat_one_match(pattern, s)) {
				known = true;
				break;
			}
		}
		if (!known)
			return false;
	}
	return true;
}

/* Every field the signature gives must match; which ones did is written to how. */
static bool signature_match(json_t *sig, json_t *rec, char *how, size_t len)
{
	const char *reason = json_string_value(json_object_get(sig, "reason"));
	const char *splat = json_string_value(json_object_get(sig, "splat"));
	json_t *metric = json_object_get(sig, "metric");
	size_t off = 0;

	how[0] = '\0';
	if (!reason && !splat && !metric)
		return false;
	if (reason) {
		if (!rx_match(reason, json_string_value(json_object_get(rec, "reason"))))
			return false;
		off += (size_t)snprintf(how + off, len - off, "reason");
	}
	if (splat) {
		if (!splat_match(splat, json_object_get(rec, "splats")))
			return false;
		off += (size_t)snprintf(how + off, len - off, "%ssplat", off ? "+" : "");
	}
	if (metric) {
		const char *name = json_string_value(json_object_get(metric, "name"));
		json_t *m = json_object_get(json_object_get(rec, "metrics"), name ?: "");
		double above = json_number_value(json_object_get(metric, "above"));
		double v = json_number_value(json_object_get(json_object_get(m, "summary"), "max"));

		if (!name || !m || !(v > above))
			return false;
		snprintf(how + off, len - off, "%smetric %s", off ? "+" : "", name);
	}
	return true;
}

static const char *rec_kernel(json_t *rec, const char *key)
{
	return json_string_value(json_object_get(json_object_get(json_object_get(rec, "system"),
								  "kernel"), key));
}

/*
 * Judge one record against the list (in place).  A FAIL that matches a bug
 * affecting the record's kernel becomes XFAIL with "known_bug"; a PASS gets
 * "known_bugs_not_seen" for each bug of its workload that affects the kernel.
 * Returns the record's (new) status code.
 */
int mmt_known_bugs_judge(json_t *list, json_t *rec)
{
	const char *status = json_string_value(json_object_get(rec, "status"));
	const char *workload = json_string_value(json_object_get(rec, "workload"));
	const char *release = rec_kernel(rec, "release");
	const char *series = rec_kernel(rec, "patch_series");
	const char *inject = json_string_value(json_object_get(json_object_get(rec, "run"),
							       "inject"));
	json_t *bug, *first, *absent = NULL;
	char how[64], reason[2048];
	bool excusable;
	size_t i;
	int pass;

	if (!list || !status || !workload)
		return status && !strcmp(status, "PASS") ? MMT_PASS : MMT_FAIL;
	/* a run with an injected fault must fail: a known bug never excuses it */
	if (inject && strcmp(inject, "none"))
		return !strcmp(status, "PASS") ? MMT_PASS : !strcmp(status, "SKIP") ? MMT_SKIP :
		       !strcmp(status, "FAIL") ? MMT_FAIL : MMT_ERROR;
	/*
	 * A FAIL is a known bug only when every splat it logged is one a listed bug explains
	 * (a known splat must not excuse an unknown one).  The bug named is one that explains
	 * the first splat, the one the reason quotes, if any does (pass 0), else the first
	 * whose signature matches (pass 1).
	 */
	first = json_array_get(json_object_get(rec, "splats"), 0);
	excusable = !strcmp(status, "FAIL") &&
		    splats_explained(list, rec, workload, release, series);
	for (pass = excusable && first ? 0 : 1; pass < 2; pass++) {
		json_array_foreach(json_object_get(list, "bugs"), i, bug) {
			const char *id = json_string_value(json_object_get(bug, "id"));
			const char *orig = json_string_value(json_object_get(rec, "reason"));
			const char *pattern;

			if (!lists_workload(bug, workload) ||
			    !mmt_known_bug_affects(bug, release, series))
				continue;
			pattern = sig_splat(bug);
			if (excusable && (pass || (pattern && splat_one_match(pattern, first))) &&
			    signature_match(json_object_get(bug, "signature"), rec, how,
					    sizeof(how))) {
				json_object_set_new(rec, "known_bug",
					json_pack("{s:s, s:O, s:O, s:O, s:s, s:O}", "id", id,
						  "summary", json_object_get(bug, "summary") ?: json_null(),
						  "folder", json_object_get(bug, "folder") ?: json_null(),
						  "fix", json_object_get(bug, "fix") ?: json_null(),
						  "matched", how, "failure",
						  json_object_get(rec, "reason") ?: json_null()));
				snprintf(reason, sizeof(reason), "known kernel bug: %s: %s", id,
					 orig ? orig : "(no reason)");
				json_object_set_new(rec, "status", json_string("XFAIL"));
				json_object_set_new(rec, "reason", json_string(reason));
				json_decref(absent);
				return MMT_XFAIL;
			}
			if (pass && !strcmp(status, "PASS")) {
				if (!absent)
					absent = json_array();
				json_array_append_new(absent,
					json_pack("{s:s, s:O, s:O}", "id", id, "summary",
						  json_object_get(bug, "summary") ?: json_null(), "needs",
						  json_object_get(bug, "needs") ?: json_null()));
			}
		}
	}
	if (absent)
		json_object_set_new(rec, "known_bugs_not_seen", absent);
	return !strcmp(status, "PASS") ? MMT_PASS : !strcmp(status, "SKIP") ? MMT_SKIP :
	       !strcmp(status, "FAIL") ? MMT_FAIL : MMT_ERROR;
}

const char mmt_bugs_usage[] =
	"usage: mmtorture bugs [--release RELEASE] [--series NAME] [--json] [--known-bugs FILE]\n"
	"\n"
	"List the known kernel bugs (kernel/bugs/known-bugs.json) and whether each\n"
	"affects this kernel, or RELEASE (a `uname -r` string) built with companion\n"
	"series NAME (default: the -mmt-NAME part of RELEASE).  A workload FAIL that\n"
	"matches one of these on a kernel it affects is reported as XFAIL.  One line per\n"
	"bug: id, affected or not, the workloads that find it, its folder.\n"
	"\n"
	"      --json   one object per bug: id, affected, workloads, folder, summary\n"
	"\n"
	"exit: 0, 99 on error (no usable list)\n";

int mmt_cmd_bugs(int argc, char **argv)
{
	char rel[256] = "", series[128] = "", err[PATH_MAX + 256];
	const char *path = NULL;
	bool as_json = false, series_given = false;
	json_t *list, *bug, *out;
	struct utsname u;
	size_t i;
	int a;

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--json")) {
			as_json = true;
		} else if (!strcmp(argv[a], "-h") || !strcmp(argv[a], "--help")) {
			fputs(mmt_bugs_usage, stdout);
			return 0;
		} else if (!strcmp(argv[a], "--release") && a + 1 < argc) {
			snprintf(rel, sizeof(rel), "%s", argv[++a]);
		} else if (!strcmp(argv[a], "--series") && a + 1 < argc) {
			snprintf(series, sizeof(series), "%s", argv[++a]);
			series_given = true;
		} else if (!strcmp(argv[a], "--known-bugs") && a + 1 < argc) {
			path = argv[++a];
		} else {
			return mmt_usage_error("bugs", "unexpected argument '%s'", argv[a]);
		}
	}
	if (!rel[0]) {
		uname(&u);
		snprintf(rel, sizeof(rel), "%s", u.release);
	}
	if (!series_given && strstr(rel, "-mmt-"))
		snprintf(series, sizeof(series), "%s", strstr(rel, "-mmt-") + 5);
	if (!path)
		path = mmt_known_bugs_path();
	list = mmt_known_bugs_load(path, err, sizeof(err));
	if (!list) {
		mmt_errmsg("%s", err);
		return MMT_ERROR;
	}
	out = json_array();
	if (!as_json)
		printf("known kernel bugs (%s) on %s%s%s:\n", path, rel, series[0] ? ", series " : "",
		       series);
	json_array_foreach(json_object_get(list, "bugs"), i, bug) {
		bool aff = mmt_known_bug_affects(bug, rel, series[0] ? series : NULL);
		char wls[256] = "";
		size_t j, off = 0;
		json_t *w;

		json_array_foreach(json_object_get(bug, "workloads"), j, w)
			off += (size_t)snprintf(wls + off, off < sizeof(wls) ? sizeof(wls) - off : 0,
						"%s%s", off ? "," : "", json_string_value(w) ?: "?");
		if (as_json)
			json_array_append_new(out, json_pack("{s:O, s:b, s:O, s:O, s:O}", "id",
				json_object_get(bug, "id"), "affected", aff, "workloads",
				json_object_get(bug, "workloads"), "folder",
				json_object_get(bug, "folder") ?: json_null(), "summary",
				json_object_get(bug, "summary") ?: json_null()));
		else
			printf("  %-30s %-12s %-16s %s\n", json_string_value(json_object_get(bug, "id")),
			       aff ? "affected" : "not affected", wls,
			       json_string_value(json_object_get(bug, "folder")) ?: "-");
	}
	if (as_json) {
		json_dumpf(out, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	}
	json_decref(out);
	json_decref(list);
	return 0;
}
