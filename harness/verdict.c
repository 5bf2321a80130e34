// SPDX-License-Identifier: GPL-2.0
/*
 * verdict.c - the statistics of a verdict, for compare (compare.c) and the
 * A/A calibration (calibrate.c).
 *
 * One metric: Welch's t-test and Welch's confidence interval of the change
 * (GSL's t distribution).  The whole comparison: the p-values of every metric
 * judged are corrected together (Holm for the family-wise error, or
 * Benjamini-Hochberg for the false discovery rate), so that fifty metrics at
 * alpha 0.05 do not page someone two or three times a night on identical
 * kernels.  A change counts only when it is significant after the correction
 * and its whole confidence interval clears the effect floor (1 %, or what an
 * A/A calibration measured); it is "same" when the whole interval lies within
 * the margin, and inconclusive otherwise.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "analysis.h"

const char *mmt_verdict_name(enum mmt_verdict v)
{
	switch (v) {
	case MMT_V_SAME:
		return "same";
	case MMT_V_BETTER:
		return "better";
	case MMT_V_WORSE:
		return "worse";
	case MMT_V_INCONCLUSIVE:
		return "inconclusive";
	case MMT_V_INFO:
		return "info";
	default:
		return "missing";
	}
}

const char *mmt_correction_name(enum mmt_correction c)
{
	return c == MMT_CORR_HOLM ? "holm" : c == MMT_CORR_BH ? "bh" : "none";
}

bool mmt_parse_correction(const char *s, enum mmt_correction *c)
{
	if (!strcmp(s, "holm"))
		*c = MMT_CORR_HOLM;
	else if (!strcmp(s, "bh") || !strcmp(s, "fdr"))
		*c = MMT_CORR_BH;
	else if (!strcmp(s, "none"))
		*c = MMT_CORR_NONE;
	else
		return false;
	return true;
}

int mmt_welch(const double *a, size_t na, const double *b, size_t nb, double *t, double *df,
	      double *p)
{
	double ma, mb, sa, sb, se2;

	if (na < 2 || nb < 2)
		return -EINVAL;
	ma = gsl_stats_mean(a, 1, na);
	mb = gsl_stats_mean(b, 1, nb);
	sa = gsl_stats_variance_m(a, 1, na, ma) / (double)na;
	sb = gsl_stats_variance_m(b, 1, nb, mb) / (double)nb;
	se2 = sa + sb;
	if (se2 <= 0) {
		/* both sides constant: equal, or as different as can be */
		*df = (double)(na + nb - 2);
		*t = ma == mb ? 0 : copysign(INFINITY, mb - ma);
		*p = ma == mb ? 1 : 0;
		return 0;
	}
	*t = (mb - ma) / sqrt(se2);
	/* Welch-Satterthwaite */
	*df = se2 * se2 / (sa * sa / (double)(na - 1) + sb * sb / (double)(nb - 1));
	*p = 2 * gsl_cdf_tdist_Q(fabs(*t), *df);
	if (*p > 1)
		*p = 1;
	return 0;
}

/*
 * The (1 - alpha) Welch interval of mean(b) - mean(a): *d and its half-width *half (0 when
 * both sides are constant).
 */
static void diff_ci(const double *a, size_t na, const double *b, size_t nb, double alpha,
		    double *d, double *half)
{
	double ma = gsl_stats_mean(a, 1, na), mb = gsl_stats_mean(b, 1, nb), sa, sb, se2, df;

	sa = gsl_stats_variance_m(a, 1, na, ma) / (double)na;
	sb = gsl_stats_variance_m(b, 1, nb, mb) / (double)nb;
	se2 = sa + sb;
	*d = mb - ma;
	*half = 0;
	if (se2 <= 0)
		return;
	df = se2 * se2 / (sa * sa / (double)(na - 1) + sb * sb / (double)(nb - 1));
	*half = gsl_cdf_tdist_Pinv(1 - alpha / 2, df) * sqrt(se2);
}

int mmt_change_ci(const double *a, size_t na, const double *b, size_t nb, double alpha,
		  double *lo, double *hi)
{
	double ma, d, half;

	if (na < 2 || nb < 2)
		return -EINVAL;
	ma = gsl_stats_mean(a, 1, na);
	if (ma == 0)
		return -EINVAL;
	diff_ci(a, na, b, nb, alpha, &d, &half);
	*lo = (d - half) / fabs(ma);
	*hi = (d + half) / fabs(ma);
	return 0;
}

void mmt_p_adjust(const double *p, size_t n, enum mmt_correction c, double *adj)
{
	double *v = calloc(n + 1, sizeof(*v)), run;
	size_t *idx = calloc(n + 1, sizeof(*idx)), *map = calloc(n + 1, sizeof(*map));
	size_t i, m = 0;

	if (!v || !idx || !map) {
		/* no memory: the strictest answer, nothing significant */
		for (i = 0; i < n; i++)
			adj[i] = isnan(p[i]) ? NAN : 1;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (isnan(p[i]))
			continue;
		map[m] = i;
		v[m++] = p[i];
	}
	for (i = 0; i < n; i++)
		if (isnan(p[i]))
			adj[i] = NAN;
	if (!m)
		goto out;
	gsl_sort_index(idx, v, 1, m);	/* v[idx[0]] is the smallest */
	if (c == MMT_CORR_HOLM) {
		/* step down: max over j <= i of (m - j) p(j), 0-based */
		run = 0;
		for (i = 0; i < m; i++) {
			double x = fmin(1, (double)(m - i) * v[idx[i]]);

			run = fmax(run, x);
			adj[map[idx[i]]] = run;
		}
	} else if (c == MMT_CORR_BH) {
		/* step up: min over j >= i of m / (j + 1) p(j) */
		run = 1;
		for (i = m; i-- > 0;) {
			double x = fmin(1, (double)m / (double)(i + 1) * v[idx[i]]);

			run = fmin(run, x);
			adj[map[idx[i]]] = run;
		}
	} else {
		for (i = 0; i < m; i++)
			adj[map[i]] = v[i];
	}
out:
	free(v);
	free(idx);
	free(map);
}

double mmt_mdc(double cov, size_t n, double floor, double alpha, double alpha_test,
	       double power)
{
	double s, df, t_test, t_ci, t_pow;

	if (n < 2 || !isfinite(cov) || cov < 0)
		return NAN;
	s = cov * sqrt(2.0 / (double)n);
	df = 2.0 * (double)(n - 1);
	t_test = gsl_cdf_tdist_Pinv(1 - alpha_test / 2, df);
	t_ci = gsl_cdf_tdist_Pinv(1 - alpha / 2, df);
	t_pow = gsl_cdf_tdist_Pinv(power, df);
	return fmax(t_test * s, floor + t_ci * s) + t_pow * s;
}

size_t mmt_repeats_for(double cov, double wanted, double floor, double alpha, double alpha_test,
		       double power, size_t max)
{
	size_t n;

	if (!(wanted > floor))
		return 0;
	for (n = 2; n <= max; n++)
		if (mmt_mdc(cov, n, floor, alpha, alpha_test, power) <= wanted)
			return n;
	return 0;
}

double mmt_aa_floor(const double *m, const double *w, size_t k, double *between)
{
	double mean, var, wmean = 0, sb2;
	size_t i;

	if (between)
		*between = NAN;
	if (k < 2)
		return NAN;
	mean = gsl_stats_mean(m, 1, k);
	if (mean == 0)
		return NAN;
	var = gsl_stats_variance_m(m, 1, k, mean);
	for (i = 0; i < k; i++)
		wmean += (isfinite(w[i]) ? w[i] : 0) / (double)k;
	sb2 = var - wmean > 0 ? var - wmean : 0;
	if (between)
		*between = sqrt(sb2) / fabs(mean);
	return fmax(MMT_CMP_MIN_EFFECT, gsl_cdf_ugaussian_Pinv(0.975) * M_SQRT2 * sqrt(sb2) /
			fabs(mean));
}

void mmt_cmp_decide(struct mmt_cmp *c, enum mmt_direction dir, double p_adj, double floor,
		    double margin)
{
	bool up, changed, zero_base;

	c->p_adj = p_adj;
	c->floor = floor;
	c->margin = margin > floor ? margin : floor;
	c->why = NULL;
	zero_base = c->a.n && c->a.amean == 0;
	if (dir == MMT_DIR_NONE) {
		c->verdict = MMT_V_INFO;
		return;
	}
	if (c->a.n < MMT_CMP_MIN_SAMPLES || c->b.n < MMT_CMP_MIN_SAMPLES) {
		c->verdict = MMT_V_INCONCLUSIVE;
		c->why = "fewer than 3 samples on a side";
		return;
	}
	if (isnan(c->p)) {
		c->verdict = MMT_V_INCONCLUSIVE;
		c->why = "no test possible";
		return;
	}
	if (c->a.stddev == 0 && c->b.stddev == 0 && c->a.amean == c->b.amean) {
		c->verdict = MMT_V_SAME;	/* constant and equal on both sides (0 == 0) */
		return;
	}
	up = c->b.amean > c->a.amean;
	if (zero_base) {
		/* no relative change: the test alone decides */
		changed = p_adj < MMT_CMP_ALPHA;
	} else {
		changed = p_adj < MMT_CMP_ALPHA && (c->ci_lo > floor || c->ci_hi < -floor);
		/* the shown (harmonic) mean must move the same way as the tested one */
		if (changed && !isnan(c->delta) && (c->delta > 0) != up)
			changed = false;
	}
	if (changed) {
		c->verdict = up == (dir == MMT_DIR_HIGHER) ? MMT_V_BETTER : MMT_V_WORSE;
		return;
	}
	if (!zero_base && c->ci_lo >= -c->margin && c->ci_hi <= c->margin) {
		c->verdict = MMT_V_SAME;
		return;
	}
	c->verdict = MMT_V_INCONCLUSIVE;
	if (zero_base)
		c->why = "A is 0: no relative change";
	else if (p_adj < MMT_CMP_ALPHA)
		c->why = "significant, but the CI reaches into the effect floor";
	else if (c->ci_lo > floor || c->ci_hi < -floor)
		c->why = "beyond the floor, but not significant after the correction";
	else
		c->why = "the CI is wider than the margin";
}

/*
 * Welch on the logarithms, for a quantity whose changes are ratios (a latency, a rate): the
 * test is then of the ratio of geometric means, and the CI of the change is exp() of the CI
 * of the difference of the mean logs, less one.  Noise on these metrics is multiplicative (a
 * boot on a busy host is slower by a factor, not by a fixed amount), so one such boot widens
 * a side's spread far less than on the linear scale: in the fork-delay runs, a patched side of
 * 218, 220, 223 and 300 ms per boot against 3-5 ms on base had t = 12 linearly and t = 28 on
 * logs.  -EINVAL unless every value is positive and each side has two.
 */
static int log_judge(const double *a, size_t na, const double *b, size_t nb,
		     struct mmt_cmp *out)
{
	double *la = calloc(na + 1, sizeof(*la)), *lb = calloc(nb + 1, sizeof(*lb));
	double d, half;
	int ret = -EINVAL;
	size_t i;

	if (!la || !lb || na < 2 || nb < 2)
		goto out;
	for (i = 0; i < na; i++) {
		if (!(a[i] > 0) || !isfinite(a[i]))
			goto out;
		la[i] = log(a[i]);
	}
	for (i = 0; i < nb; i++) {
		if (!(b[i] > 0) || !isfinite(b[i]))
			goto out;
		lb[i] = log(b[i]);
	}
	if (mmt_welch(la, na, lb, nb, &out->t, &out->df, &out->p))
		goto out;
	diff_ci(la, na, lb, nb, MMT_CMP_ALPHA, &d, &half);
	out->ci_lo = expm1(d - half);
	out->ci_hi = expm1(d + half);
	ret = 0;
out:
	free(la);
	free(lb);
	return ret;
}

void mmt_cmp_judge(const double *a, size_t na, const double *b, size_t nb, bool harmonic,
		   bool ratio, enum mmt_direction dir, struct mmt_cmp *out)
{
	mmt_summarize(a, na, harmonic, &out->a);
	mmt_summarize(b, nb, harmonic, &out->b);
	if (!na || !nb)
		out->delta = NAN;
	else if (out->a.mean != 0)
		out->delta = (out->b.mean - out->a.mean) / fabs(out->a.mean);
	else
		out->delta = out->b.mean == 0 ? 0 : NAN;
	out->log_scale = false;
	if (ratio && !log_judge(a, na, b, nb, out)) {
		out->log_scale = true;
		mmt_cmp_decide(out, dir, out->p, MMT_CMP_MIN_EFFECT, MMT_CMP_MARGIN);
		return;
	}
	out->t = out->df = out->p = NAN;
	if (na && nb && mmt_welch(a, na, b, nb, &out->t, &out->df, &out->p))
		out->t = out->df = out->p = NAN;
	out->ci_lo = out->ci_hi = NAN;
	if (na && nb && mmt_change_ci(a, na, b, nb, MMT_CMP_ALPHA, &out->ci_lo, &out->ci_hi))
		out->ci_lo = out->ci_hi = NAN;
	mmt_cmp_decide(out, dir, out->p, MMT_CMP_MIN_EFFECT, MMT_CMP_MARGIN);
}
