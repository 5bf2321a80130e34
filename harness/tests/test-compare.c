// SPDX-License-Identifier: GPL-2.0
/*
 * test-compare.c - the statistics behind `mmtorture compare` against known
 * answers: Welch's t-test (t, Welch-Satterthwaite df, two-sided p checked
 * against the closed-form t CDF for 4 degrees of freedom and a textbook
 * example), Welch's CI of the change, Holm and Benjamini-Hochberg adjusted
 * p-values (hand-computed, as R's p.adjust gives them), the minimum detectable
 * change and the repeats a sensitivity needs (t quantiles from tables), and
 * every verdict rule (worse, better, same, inconclusive, no direction, the CI
 * against the effect floor, harmonic means, the samples' basis).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analysis.h"

#include "check.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static bool near(double a, double b, double tol)
{
	return fabs(a - b) <= tol;
}

/* Student's t CDF for 4 degrees of freedom, in closed form */
static double t4_cdf(double t)
{
	double u = 1 + t * t / 4;

	return 0.5 + 3.0 / 8 * (t / sqrt(u)) * (1 - t * t / (12 * u));
}

static void test_welch(void)
{
	/* equal variances and sizes: t = 3 / sqrt(2/3), df = 4 exactly */
	const double a[] = { 1, 2, 3 }, b[] = { 4, 5, 6 };
	/* Welch's example 1 (Wikipedia, "Welch's t-test"): t = 2.46, df = 24.99, p = 0.021 */
	const double w1[] = { 27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1,
			      19.6, 19.0, 21.7, 21.4 };
	const double w2[] = { 27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9,
			      22.1, 22.9, 20.5, 24.4 };
	const double c1[] = { 5, 5, 5 }, c2[] = { 6, 6, 6 };
	double t, df, p;

	CHECK(!mmt_welch(a, 3, b, 3, &t, &df, &p), "welch failed");
	CHECK(near(t, 3 / sqrt(2.0 / 3), 1e-12), "t %.12g", t);
	CHECK(near(df, 4, 1e-12), "df %.12g", df);
	CHECK(near(p, 2 * (1 - t4_cdf(t)), 1e-9), "p %.12g, closed form %.12g", p,
	      2 * (1 - t4_cdf(t)));
	CHECK(near(p, 0.021312, 1e-6), "p %.8g", p);

	/* symmetric: B against A has the opposite t and the same p */
	CHECK(!mmt_welch(b, 3, a, 3, &t, &df, &p) && t < 0 && near(p, 0.021312, 1e-6),
	      "reversed: t %g p %g", t, p);

	CHECK(!mmt_welch(w1, N(w1), w2, N(w2), &t, &df, &p), "welch failed");
	CHECK(near(t, 2.45536, 1e-4), "t %.6g", t);
	CHECK(near(df, 24.9885, 1e-3), "df %.6g", df);
	CHECK(p > 0.020 && p < 0.023, "p %.6g, want 0.021", p);

	/* constant sides: equal means are the same, different means infinitely significant */
	CHECK(!mmt_welch(c1, 3, c1, 3, &t, &df, &p) && t == 0 && p == 1, "equal constants");
	CHECK(!mmt_welch(c1, 3, c2, 3, &t, &df, &p) && isinf(t) && p == 0, "different constants");
	/* one constant side: df falls to the other side's n - 1 */
	CHECK(!mmt_welch(c1, 3, b, 3, &t, &df, &p) && near(df, 2, 1e-12), "df %g", df);

	CHECK(mmt_welch(a, 1, b, 3, &t, &df, &p) == -EINVAL, "one sample must be refused");
}

static void scale(const double *in, double *out, size_t n, double f)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = in[i] * f;
}

static void test_verdicts(void)
{
	const double base[] = { 1000, 1010, 990, 1005, 995, 1002, 998, 1008, 992, 1000 };
	double other[N(base)];
	/* 5 at 1000 - x and 5 at 1000 + x, x = 300 / sqrt(10/9): CoV exactly 30 % */
	double noisy[10];
	const double two[] = { 1000, 1002 };
	/* +0.5 %, clearly significant, below the 1 % minimum effect */
	const double tight_a[] = { 1000, 1000.1, 999.9, 1000, 1000.1, 999.9 };
	const double tight_b[] = { 1005, 1005.1, 1004.9, 1005, 1005.1, 1004.9 };
	/* +5 % but too spread (CoV 10 %) for 3 samples to tell */
	const double loose_a[] = { 90, 100, 110 }, loose_b[] = { 95, 105, 115 };
	const double rates[] = { 100, 200, 100, 200 };
	struct mmt_cmp c;
	size_t i;

	for (i = 0; i < 10; i++)
		noisy[i] = 1000 + (i < 5 ? -1 : 1) * 300 / sqrt(10.0 / 9);

	/* a clear 10 % drop of a rate: worse */
	scale(base, other, N(base), 0.9);
	mmt_cmp_judge(base, N(base), other, N(base), true, false, MMT_DIR_HIGHER, &c);
	CHECK(c.verdict == MMT_V_WORSE, "10%% drop: %s", mmt_verdict_name(c.verdict));
	CHECK(near(c.delta, -0.10, 1e-9), "delta %g", c.delta);
	CHECK(c.p < 1e-6, "p %g", c.p);

	/* the same drop of a latency is better, a 10 % rise worse */
	mmt_cmp_judge(base, N(base), other, N(base), false, false, MMT_DIR_LOWER, &c);
	CHECK(c.verdict == MMT_V_BETTER, "latency -10%%: %s", mmt_verdict_name(c.verdict));
	scale(base, other, N(base), 1.1);
	mmt_cmp_judge(base, N(base), other, N(base), false, false, MMT_DIR_LOWER, &c);
	CHECK(c.verdict == MMT_V_WORSE, "latency +10%%: %s", mmt_verdict_name(c.verdict));
	mmt_cmp_judge(base, N(base), other, N(base), true, false, MMT_DIR_HIGHER, &c);
	CHECK(c.verdict == MMT_V_BETTER, "rate +10%%: %s", mmt_verdict_name(c.verdict));

	/* identical runs: same, p = 1, no change */
	mmt_cmp_judge(base, N(base), base, N(base), true, false, MMT_DIR_HIGHER, &c);
	CHECK(c.verdict == MMT_V_SAME && c.p == 1 && c.delta == 0, "identical: %s p %g delta %g",
	      mmt_verdict_name(c.verdict), c.p, c.delta);

	/* CoV 30 % on one side: the CI is too wide to tell, inconclusive */
	mmt_cmp_judge(base, N(base), noisy, N(noisy), true, false, MMT_DIR_HIGHER, &c);
	CHECK(near(c.b.cov, 0.30, 1e-9), "cov %g", c.b.cov);
	CHECK(c.verdict == MMT_V_INCONCLUSIVE, "cov 30%%: %s", mmt_verdict_name(c.verdict));
	mmt_cmp_judge(noisy, N(noisy), base, N(base), true, false, MMT_DIR_HIGHER, &c);
	CHECK(c.verdict == MMT_V_INCONCLUSIVE, "cov 30%% on A: %s", mmt_verdict_name(c.verdict));

	/* fewer than 3 samples on a side: inconclusive, even for a big change */
	mmt_cmp_judge(base, N(base), two, N(two), true, false, MMT_DIR_HIGHER, &c);
	CHECK(c.verdict == MMT_V_INCONCLUSIVE && c.why && strstr(c.why, "fewer than 3"),
	      "2 samples: %s", mmt_verdict_name(c.verdict));
	scale(base, other, 2, 0.5);
	mmt_cmp_judge(other, 2, base, N(base), true, false, MMT_DIR_HIGHER, &c);
	CHECK(c.verdict == MMT_V_INCONCLUSIVE, "2 samples, -50%%: %s", mmt_verdict_name(c.verdict));
	mmt_cmp_judge(base, 1, base, 1, false, false, MMT_DIR_HIGHER, &c);
	CHECK(c.verdict == MMT_V_INCONCLUSIVE && isnan(c.p), "1 sample: %s p %g",
	      mmt_verdict_name(c.verdict), c.p);

	/* significant but the whole CI below the 1 % floor, inside the margin: same */
	mmt_cmp_judge(tight_a, N(tight_a), tight_b, N(tight_b), false, false, MMT_DIR_HIGHER, &c);
	CHECK(c.p < 0.001, "tight p %g", c.p);
	CHECK(c.ci_lo > 0.004 && c.ci_hi < 0.006, "tight CI %g..%g", c.ci_lo, c.ci_hi);
	CHECK(c.verdict == MMT_V_SAME, "+0.5%%: %s", mmt_verdict_name(c.verdict));

	/* a big effect the test cannot confirm: neither changed nor the same */
	mmt_cmp_judge(loose_a, 3, loose_b, 3, false, false, MMT_DIR_HIGHER, &c);
	CHECK(c.p > 0.05 && near(c.delta, 0.05, 1e-9), "loose p %g delta %g", c.p, c.delta);
	CHECK(c.verdict == MMT_V_INCONCLUSIVE, "+5%% p>0.05: %s", mmt_verdict_name(c.verdict));

	/* no better direction: information only */
	scale(base, other, N(base), 0.5);
	mmt_cmp_judge(base, N(base), other, N(base), false, false, MMT_DIR_NONE, &c);
	CHECK(c.verdict == MMT_V_INFO, "none: %s", mmt_verdict_name(c.verdict));

	/* rates are averaged harmonically: 100 and 200 ops/s over equal slices is 133.3 */
	mmt_cmp_judge(rates, N(rates), rates, N(rates), true, false, MMT_DIR_HIGHER, &c);
	CHECK(near(c.a.mean, 400.0 / 3, 1e-9) && near(c.a.amean, 150, 1e-9), "hmean %g amean %g",
	      c.a.mean, c.a.amean);
	mmt_cmp_judge(rates, N(rates), rates, N(rates), false, false, MMT_DIR_HIGHER, &c);
	CHECK(near(c.a.mean, 150, 1e-9), "amean %g", c.a.mean);

	/* a zero baseline: the change is undefined, not infinite */
	{
		const double z[] = { 0, 0, 0 }, o[] = { 1, 1, 1 };

		mmt_cmp_judge(z, 3, o, 3, false, false, MMT_DIR_HIGHER, &c);
		CHECK(isnan(c.delta) && c.verdict == MMT_V_BETTER, "zero base: delta %g %s",
		      c.delta, mmt_verdict_name(c.verdict));
	}
}

static void test_samples(void)
{
	json_t *m;
	double *v;
	size_t n;
	const char *basis;
	struct mmt_summary s;

	/* one repeat: the per-second samples */
	m = json_pack("{s:s, s:s, s:[f, f, f, f], s:{s:s}, s:[f]}", "kind", "rate", "better",
		      "higher", "samples", 100.0, 200.0, 100.0, 200.0, "summary", "mean_kind",
		      "harmonic", "repeat_values", 133.3);
	CHECK(!mmt_metric_samples(m, &v, &n, &basis), "samples");
	CHECK(n == 4 && !strcmp(basis, "per-second") && v[1] == 200, "n %zu basis %s", n, basis);
	free(v);
	CHECK(mmt_metric_dir(m) == MMT_DIR_HIGHER && mmt_metric_harmonic(m), "dir/harmonic");
	CHECK(!mmt_metric_summary(m, &s, &basis) && near(s.mean, 400.0 / 3, 1e-9), "hmean %g",
	      s.mean);
	json_decref(m);

	/* three repeats: each repeat's mean */
	m = json_pack("{s:s, s:s, s:[f, f, f, f, f, f], s:[f, f, f]}", "kind", "latency",
		      "better", "lower", "samples", 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, "repeat_values",
		      10.0, 11.0, 12.0);
	CHECK(!mmt_metric_samples(m, &v, &n, &basis), "samples");
	CHECK(n == 3 && !strcmp(basis, "repeats") && v[0] == 10, "n %zu basis %s", n, basis);
	free(v);
	CHECK(mmt_metric_dir(m) == MMT_DIR_LOWER && !mmt_metric_harmonic(m), "dir/arith");
	json_decref(m);

	/* totals have one value per repeat; gauges say so too */
	m = json_pack("{s:s, s:s, s:[f], s:[f]}", "kind", "total", "better", "none", "samples",
		      5.0, "repeat_values", 5.0);
	CHECK(!mmt_metric_samples(m, &v, &n, &basis) && n == 1 &&
	      !strcmp(basis, "per-repeat"), "total basis %s", basis);
	free(v);
	CHECK(mmt_metric_dir(m) == MMT_DIR_NONE, "none");
	json_decref(m);
}

static void test_format(void)
{
	char buf[32];

	CHECK(!strcmp(mmt_fmt_num(178.7324, buf, sizeof(buf)), "178.7"), "%s", buf);
	CHECK(!strcmp(mmt_fmt_num(263017157.2, buf, sizeof(buf)), "263M"), "%s", buf);
	CHECK(!strcmp(mmt_fmt_num(6765385.866, buf, sizeof(buf)), "6.765M"), "%s", buf);
	CHECK(!strcmp(mmt_fmt_num(12345, buf, sizeof(buf)), "12.35k"), "%s", buf);
	CHECK(!strcmp(mmt_fmt_num(1000, buf, sizeof(buf)), "1000"), "%s", buf);
	CHECK(!strcmp(mmt_fmt_num(-2.5e9, buf, sizeof(buf)), "-2.5G"), "%s", buf);
	CHECK(!strcmp(mmt_fmt_num(NAN, buf, sizeof(buf)), "n/a"), "%s", buf);
	CHECK(!strcmp(mmt_verdict_name(MMT_V_INCONCLUSIVE), "inconclusive"), "inconclusive");
}

/* Holm and Benjamini-Hochberg adjusted p-values, by hand (R: p.adjust(p, "holm"/"BH")) */
static void test_p_adjust(void)
{
	const double p[] = { 0.01, 0.04, 0.03, 0.005 };
	const double holm[] = { 0.03, 0.06, 0.06, 0.02 }, bh[] = { 0.02, 0.04, 0.04, 0.02 };
	/* a NAN is no test: not counted in m, left NAN */
	const double pn[] = { 0.01, NAN, 0.04, 0.03, 0.005 };
	/* R: p.adjust(c(0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205), "BH") */
	const double r8[] = { 0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205 };
	const double r8bh[] = { 0.008, 0.032, 0.0672, 0.0672, 0.0672, 0.08, 0.08457143, 0.205 };
	const double r8holm[] = { 0.008, 0.056, 0.234, 0.234, 0.234, 0.234, 0.234, 0.234 };
	double adj[8];
	size_t i;

	mmt_p_adjust(p, 4, MMT_CORR_HOLM, adj);
	for (i = 0; i < 4; i++)
		CHECK(near(adj[i], holm[i], 1e-12), "holm[%zu] %g, want %g", i, adj[i], holm[i]);
	mmt_p_adjust(p, 4, MMT_CORR_BH, adj);
	for (i = 0; i < 4; i++)
		CHECK(near(adj[i], bh[i], 1e-12), "bh[%zu] %g, want %g", i, adj[i], bh[i]);
	mmt_p_adjust(p, 4, MMT_CORR_NONE, adj);
	for (i = 0; i < 4; i++)
		CHECK(adj[i] == p[i], "none[%zu] %g", i, adj[i]);
	mmt_p_adjust(pn, 5, MMT_CORR_HOLM, adj);
	CHECK(isnan(adj[1]) && near(adj[0], 0.03, 1e-12) && near(adj[4], 0.02, 1e-12),
	      "holm with a NAN: %g %g %g", adj[0], adj[1], adj[4]);
	mmt_p_adjust(r8, 8, MMT_CORR_BH, adj);
	for (i = 0; i < 8; i++)
		CHECK(near(adj[i], r8bh[i], 1e-7), "R bh[%zu] %g, want %g", i, adj[i], r8bh[i]);
	mmt_p_adjust(r8, 8, MMT_CORR_HOLM, adj);
	for (i = 0; i < 8; i++)
		CHECK(near(adj[i], r8holm[i], 1e-12), "R holm[%zu] %g, want %g", i, adj[i],
		      r8holm[i]);
	/* Holm never caps below the raw p, and stays <= 1 */
	{
		const double big[] = { 0.5, 0.6, 0.7 };

		mmt_p_adjust(big, 3, MMT_CORR_HOLM, adj);
		CHECK(adj[0] == 1 && adj[1] == 1 && adj[2] == 1, "holm cap %g %g %g", adj[0], adj[1],
		      adj[2]);
	}
}

/* a +5 % change, CI [+2.733 %, +7.267 %]: the verdict against the floor and the correction */
static void test_ci_floor(void)
{
	/* means 100 and 105, variance 1 each: se = sqrt(2/3), df = 4, t(0.975, 4) = 2.776445 */
	const double a[] = { 99, 100, 101 }, b[] = { 104, 105, 106 };
	double half = 2.776445 * sqrt(2.0 / 3) / 100, lo, hi;
	struct mmt_cmp c;

	CHECK(!mmt_change_ci(a, 3, b, 3, 0.05, &lo, &hi), "ci");
	CHECK(near(lo, 0.05 - half, 1e-5) && near(hi, 0.05 + half, 1e-5), "CI %g..%g, want %g..%g",
	      lo, hi, 0.05 - half, 0.05 + half);
	mmt_cmp_judge(a, 3, b, 3, false, false, MMT_DIR_LOWER, &c);
	CHECK(c.p < 0.01 && near(c.ci_lo, lo, 1e-12), "p %g", c.p);
	/* floor 1 %: the whole CI clears it, significant: worse (a latency went up) */
	CHECK(c.verdict == MMT_V_WORSE, "floor 1%%: %s", mmt_verdict_name(c.verdict));
	/* floor 2.5 %: still clear */
	mmt_cmp_decide(&c, MMT_DIR_LOWER, c.p, 0.025, MMT_CMP_MARGIN);
	CHECK(c.verdict == MMT_V_WORSE, "floor 2.5%%: %s", mmt_verdict_name(c.verdict));
	/* floor 3 %: the point estimate (5 %) clears it, the CI (from 2.73 %) does not */
	mmt_cmp_decide(&c, MMT_DIR_LOWER, c.p, 0.03, MMT_CMP_MARGIN);
	CHECK(c.verdict == MMT_V_INCONCLUSIVE && strstr(c.why, "floor"), "floor 3%%: %s",
	      mmt_verdict_name(c.verdict));
	/* not significant after the correction: inconclusive, whatever the CI */
	mmt_cmp_decide(&c, MMT_DIR_LOWER, 0.2, 0.01, MMT_CMP_MARGIN);
	CHECK(c.verdict == MMT_V_INCONCLUSIVE && strstr(c.why, "correction"), "p_adj 0.2: %s",
	      mmt_verdict_name(c.verdict));
	/* a margin of 8 % holds the whole CI: same, even though significant */
	mmt_cmp_decide(&c, MMT_DIR_LOWER, c.p, 0.10, 0.08);
	CHECK(c.verdict == MMT_V_SAME, "floor 10%%, margin 8%%: %s", mmt_verdict_name(c.verdict));
	CHECK(c.margin == 0.10, "the margin is at least the floor: %g", c.margin);
	/* the other direction: a rate up 5 % is better */
	mmt_cmp_decide(&c, MMT_DIR_HIGHER, c.p, 0.01, MMT_CMP_MARGIN);
	CHECK(c.verdict == MMT_V_BETTER, "rate +5%%: %s", mmt_verdict_name(c.verdict));
}

/* the minimum detectable change: t(0.975, 4) 2.776445, t(0.8, 4) 0.940965, df 8: 2.306004, 0.888889 */
static void test_mdc(void)
{
	double s3 = 0.12 * sqrt(2.0 / 3), s5 = 0.10 * sqrt(2.0 / 5), d, d40;
	size_t n;

	/* 3 repeats, CoV 12 %, floor 1 %: 1 % + (2.776445 + 0.940965) x 9.80 % = 37.4 % */
	d = mmt_mdc(0.12, 3, 0.01, 0.05, 0.05, 0.80);
	CHECK(near(d, 0.01 + (2.776445 + 0.940965) * s3, 1e-4), "mdc(3, 12%%) %g, want %g", d,
	      0.01 + (2.776445 + 0.940965) * s3);
	/* 5 repeats, CoV 10 % */
	d = mmt_mdc(0.10, 5, 0.01, 0.05, 0.05, 0.80);
	CHECK(near(d, 0.01 + (2.306004 + 0.888889) * s5, 1e-4), "mdc(5, 10%%) %g, want %g", d,
	      0.01 + (2.306004 + 0.888889) * s5);
	/* a big floor adds itself: 10 % floor */
	d = mmt_mdc(0.10, 5, 0.10, 0.05, 0.05, 0.80);
	CHECK(near(d, 0.10 + (2.306004 + 0.888889) * s5, 1e-4), "mdc floor 10%% %g", d);
	/* with 40 metrics Holm's first step tests at 0.05 / 40: t(1 - 0.000625, 8) = 4.7 rules */
	d40 = mmt_mdc(0.10, 5, 0.01, 0.05, 0.05 / 40, 0.80);
	CHECK(d40 > mmt_mdc(0.10, 5, 0.01, 0.05, 0.05, 0.80) + 0.05, "mdc under Holm %g", d40);
	/* no noise: the floor is all */
	CHECK(near(mmt_mdc(0, 5, 0.01, 0.05, 0.05, 0.8), 0.01, 1e-12), "mdc cov 0");
	CHECK(isnan(mmt_mdc(0.1, 1, 0.01, 0.05, 0.05, 0.8)), "mdc n 1");
	/* the repeats for 20 % at CoV 10 %: the first n whose mdc is <= 20 % */
	n = mmt_repeats_for(0.10, 0.20, 0.01, 0.05, 0.05, 0.80, 100);
	CHECK(n >= 3 && mmt_mdc(0.10, n, 0.01, 0.05, 0.05, 0.8) <= 0.20 &&
	      mmt_mdc(0.10, n - 1, 0.01, 0.05, 0.05, 0.8) > 0.20, "repeats for 20%%: %zu", n);
	/* 6 repeats: 1 % + (t(.975,10) 2.228139 + t(.8,10) 0.879058) x 10 % x sqrt(1/3) = 18.9 % */
	CHECK(n == 6, "repeats for 20%% at CoV 10%%: %zu, want 6", n);
	CHECK(!mmt_repeats_for(0.10, 0.01, 0.01, 0.05, 0.05, 0.80, 100), "at the floor: never");
	CHECK(!mmt_repeats_for(0.50, 0.02, 0.01, 0.05, 0.05, 0.80, 10), "beyond max: 0");
}

/* the floor from A/A runs: drift between the runs' means beyond what their repeats explain */
static void test_aa_floor(void)
{
	/* means 100 and 110, each mean's own variance 4: var(m) 50, s_b^2 46, mean 105 */
	const double m[] = { 100, 110 }, w[] = { 4, 4 };
	/* means within what the repeats explain: no drift, the 1 % floor */
	const double m2[] = { 100, 100.5 }, m3[] = { 100, 104, 96 }, w3[] = { 0, 0, 0 };
	double f, b;

	f = mmt_aa_floor(m, w, 2, &b);
	CHECK(near(b, sqrt(46.0) / 105, 1e-12), "between %g", b);
	CHECK(near(f, 1.959964 * sqrt(2.0) * sqrt(46.0) / 105, 1e-5), "floor %g, want %g", f,
	      1.959964 * sqrt(2.0) * sqrt(46.0) / 105);
	f = mmt_aa_floor(m2, w, 2, &b);
	CHECK(f == MMT_CMP_MIN_EFFECT && b == 0, "no drift: floor %g between %g", f, b);
	/* three runs, exact repeats: s_b = 4 (sample sd of 100, 104, 96), floor 10.9 % */
	f = mmt_aa_floor(m3, w3, 3, NULL);
	CHECK(near(f, 1.959964 * sqrt(2.0) * 4 / 100, 1e-5), "3 runs: floor %g", f);
	CHECK(isnan(mmt_aa_floor(m, w, 1, NULL)), "one run: no floor");
}

/* a real-looking record scaled by 0.7 (30 % slower) is worse, also after Holm over 40 metrics */
static void test_scaled_worse(void)
{
	const double base[] = { 1000, 1130, 870, 1060, 940 };	/* CoV 10 % between repeats */
	double slow[5], p[40], adj[40];
	struct mmt_cmp c;
	size_t i;

	scale(base, slow, 5, 0.7);
	mmt_cmp_judge(base, 5, slow, 5, true, false, MMT_DIR_HIGHER, &c);
	for (i = 0; i < 40; i++)
		p[i] = i ? 0.5 : c.p;
	mmt_p_adjust(p, 40, MMT_CORR_HOLM, adj);
	mmt_cmp_decide(&c, MMT_DIR_HIGHER, adj[0], 0.01, MMT_CMP_MARGIN);
	CHECK(c.verdict == MMT_V_WORSE, "x0.7 after Holm over 40: %s (p %g adj %g CI %g..%g)",
	      mmt_verdict_name(c.verdict), c.p, adj[0], c.ci_lo, c.ci_hi);
	/* and an identical copy is not */
	mmt_cmp_judge(base, 5, base, 5, true, false, MMT_DIR_HIGHER, &c);
	CHECK(c.verdict != MMT_V_WORSE, "identical: %s", mmt_verdict_name(c.verdict));
}

/*
 * A ratio metric on the log scale: the fork-delay boots (per-boot fork latency, ms) are worse
 * after Holm over 67 metrics only on logs, where the one slow patched boot (300 ms) widens
 * the side far less; an identical side is not worse; a zero falls back to the linear test.
 */
static void test_log_scale(void)
{
	const double base[] = { 3.48, 3.33, 5.45, 3.07 }, slow[] = { 217.6, 219.9, 222.7, 299.5 };
	const double zero[] = { 0, 3.33, 5.45, 3.07 };
	double p[67], adj[67];
	struct mmt_cmp lin, lg;
	size_t i;

	mmt_cmp_judge(base, 4, slow, 4, false, false, MMT_DIR_LOWER, &lin);
	mmt_cmp_judge(base, 4, slow, 4, false, true, MMT_DIR_LOWER, &lg);
	CHECK(!lin.log_scale && lg.log_scale, "scales %d %d", lin.log_scale, lg.log_scale);
	CHECK(lg.p < lin.p / 10, "log p %g vs linear p %g", lg.p, lin.p);
	CHECK(lg.ci_lo > 40 && lg.ci_hi < 100, "log CI %g..%g (x%g)", lg.ci_lo, lg.ci_hi,
	      exp((log(217.6) + log(219.9) + log(222.7) + log(299.5)) / 4 -
		  (log(3.48) + log(3.33) + log(5.45) + log(3.07)) / 4));
	for (i = 0; i < 67; i++)
		p[i] = i ? 0.5 : lin.p;
	mmt_p_adjust(p, 67, MMT_CORR_HOLM, adj);
	mmt_cmp_decide(&lin, MMT_DIR_LOWER, adj[0], 0.01, MMT_CMP_MARGIN);
	p[0] = lg.p;
	mmt_p_adjust(p, 67, MMT_CORR_HOLM, adj);
	mmt_cmp_decide(&lg, MMT_DIR_LOWER, adj[0], 0.01, MMT_CMP_MARGIN);
	CHECK(lin.verdict != MMT_V_WORSE && lg.verdict == MMT_V_WORSE, "after Holm over 67: %s linear, %s log",
	      mmt_verdict_name(lin.verdict), mmt_verdict_name(lg.verdict));
	mmt_cmp_judge(base, 4, base, 4, false, true, MMT_DIR_LOWER, &lg);
	CHECK(lg.verdict != MMT_V_WORSE && lg.p == 1, "identical on logs: %s p %g",
	      mmt_verdict_name(lg.verdict), lg.p);
	mmt_cmp_judge(zero, 4, slow, 4, false, true, MMT_DIR_LOWER, &lg);
	CHECK(!lg.log_scale, "a zero must keep the linear scale");
}

int main(void)
{
	test_p_adjust();
	test_ci_floor();
	test_mdc();
	test_scaled_worse();
	test_log_scale();
	test_aa_floor();
	test_welch();
	test_verdicts();
	test_samples();
	test_format();
	printf("%d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
