// SPDX-License-Identifier: GPL-2.0
/*
 * stats.c - summaries of samples and latency histograms.
 *
 * Means, deviations and medians come from GSL.  Rates are summarised with
 * the harmonic mean, as mmtests and DESIGN.md do, when every sample is
 * positive; a rate that is 0 in some second (a slow cycle that spans more
 * than one sample) makes the harmonic mean 0, which says nothing, so such
 * samples fall back to the arithmetic mean and the summary says so.
 * The histogram is our own: it lives in a MAP_SHARED area written by forked
 * workers, which the heap-based HdrHistogram cannot do.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "internal.h"

void mmt_summarize(const double *v, size_t n, bool harmonic, struct mmt_summary *s)
{
	double *sorted;
	double inv = 0;
	bool positive = true;
	size_t i;

	memset(s, 0, sizeof(*s));
	s->n = n;
	if (!n)
		return;
	sorted = malloc(n * sizeof(*sorted));
	if (!sorted) {
		s->n = 0;
		return;
	}
	memcpy(sorted, v, n * sizeof(*sorted));
	gsl_sort(sorted, 1, n);
	s->min = sorted[0];
	s->max = sorted[n - 1];
	s->median = gsl_stats_median_from_sorted_data(sorted, 1, n);
	s->amean = gsl_stats_mean(v, 1, n);
	s->stddev = n > 1 ? gsl_stats_sd_m(v, 1, n, s->amean) : 0;
	s->cov = s->amean != 0 ? s->stddev / fabs(s->amean) : 0;
	s->mean = s->amean;
	if (harmonic) {
		for (i = 0; i < n; i++) {
			if (v[i] <= 0) {
				positive = false;
				break;
			}
			inv += 1.0 / v[i];
		}
		s->harmonic = positive;
		if (positive)
			s->mean = (double)n / inv;
	}
	free(sorted);
}

void mmt_hist_merge(struct mmt_hist *dst, const struct mmt_hist *src)
{
	unsigned int i;

	dst->count += __atomic_load_n(&src->count, __ATOMIC_ACQUIRE);
	dst->sum += __atomic_load_n(&src->sum, __ATOMIC_RELAXED);
	if (src->max > dst->max)
		dst->max = src->max;
	for (i = 0; i < MMT_HIST_BUCKETS; i++)
		dst->bucket[i] += __atomic_load_n(&src->bucket[i], __ATOMIC_RELAXED);
}

uint64_t mmt_hist_bucket_upper(unsigned int idx)
{
	unsigned int sub = idx & ((1u << MMT_HIST_SUB_BITS) - 1);
	unsigned int exp = idx >> MMT_HIST_SUB_BITS;
	unsigned int shift;

	if (exp == 0)
		return idx;
	/* bucket covers [(16 + sub) << shift, (17 + sub) << shift) */
	shift = exp - 1;
	if (shift >= 59)
		return UINT64_MAX;
	return (((uint64_t)(1u << MMT_HIST_SUB_BITS) + sub + 1) << shift) - 1;
}

uint64_t mmt_hist_percentile(const struct mmt_hist *h, double p)
{
	uint64_t total = 0, rank, seen = 0;
	unsigned int i;

	for (i = 0; i < MMT_HIST_BUCKETS; i++)
		total += h->bucket[i];
	if (!total)
		return 0;
	rank = (uint64_t)ceil(p / 100.0 * (double)total);
	if (rank < 1)
		rank = 1;
	for (i = 0; i < MMT_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			uint64_t up = mmt_hist_bucket_upper(i);

			return up < h->max ? up : h->max;
		}
	}
	return h->max;
}
