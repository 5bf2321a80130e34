// SPDX-License-Identifier: GPL-2.0
/* test-stats.c - statistics and histogram percentiles against known answers. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#include "check.h"

static bool near(double a, double b, double rel)
{
	return fabs(a - b) <= rel * fmax(fabs(a), fabs(b)) + 1e-12;
}

static void test_summary(void)
{
	const double v[] = { 2, 4, 4, 4, 5, 5, 7, 9 };
	const double rates[] = { 100, 200 };
	struct mmt_summary s;

	mmt_summarize(v, 8, false, &s);
	CHECK(s.n == 8, "n %zu", s.n);
	CHECK(near(s.mean, 5, 1e-12), "mean %g", s.mean);
	CHECK(near(s.median, 4.5, 1e-12), "median %g", s.median);
	/* sample stddev of this set: sqrt(32/7) */
	CHECK(near(s.stddev, sqrt(32.0 / 7), 1e-12), "stddev %g", s.stddev);
	CHECK(near(s.cov, sqrt(32.0 / 7) / 5, 1e-12), "cov %g", s.cov);
	CHECK(s.min == 2 && s.max == 9, "min %g max %g", s.min, s.max);

	/* harmonic mean of 100 and 200 ops/s over equal slices: 133.33 */
	mmt_summarize(rates, 2, true, &s);
	CHECK(near(s.mean, 400.0 / 3, 1e-12), "hmean %g", s.mean);
	CHECK(near(s.amean, 150, 1e-12), "amean %g", s.amean);

	mmt_summarize(v, 1, false, &s);
	CHECK(s.stddev == 0 && s.cov == 0 && s.mean == 2, "single sample");
	/* a zero-rate second: the harmonic mean would be 0; fall back, and say so */
	{
		const double z[] = { 0, 2, 4 };

		mmt_summarize(z, 3, true, &s);
		CHECK(!s.harmonic && near(s.mean, 2, 1e-12), "zero sample: mean %g harmonic %d",
		      s.mean, s.harmonic);
	}
	mmt_summarize(rates, 2, true, &s);
	CHECK(s.harmonic, "positive rates keep the harmonic mean");
	mmt_summarize(NULL, 0, true, &s);
	CHECK(s.n == 0 && s.mean == 0, "empty");
}

static void test_hist(void)
{
	static struct mmt_hist h;
	uint64_t i, p50, p99;
	unsigned int b;

	/* bucket boundaries are monotonic and cover their values */
	for (i = 1; i < (1ull << 40); i = i * 3 + 1) {
		b = mmt_hist_bucket(i);
		CHECK(b < MMT_HIST_BUCKETS, "bucket %u out of range for %llu", b,
		      (unsigned long long)i);
		CHECK(mmt_hist_bucket_upper(b) >= i, "upper %llu < %llu",
		      (unsigned long long)mmt_hist_bucket_upper(b), (unsigned long long)i);
		CHECK(b == 0 || mmt_hist_bucket_upper(b - 1) < i, "lower bound of %llu",
		      (unsigned long long)i);
	}
	CHECK(mmt_hist_bucket(UINT64_MAX) < MMT_HIST_BUCKETS, "max bucket");

	/* 1..10000 ns uniform: p50 ~ 5000, p99 ~ 9900, within a bucket (6.25 %) */
	memset(&h, 0, sizeof(h));
	for (i = 1; i <= 10000; i++) {
		h.bucket[mmt_hist_bucket(i)]++;
		h.count++;
		h.sum += i;
		if (i > h.max)
			h.max = i;
	}
	p50 = mmt_hist_percentile(&h, 50);
	p99 = mmt_hist_percentile(&h, 99);
	CHECK(p50 >= 5000 && p50 <= 5000 * 1.0625, "p50 %llu", (unsigned long long)p50);
	CHECK(p99 >= 9900 && p99 <= 10000, "p99 %llu", (unsigned long long)p99);
	CHECK(mmt_hist_percentile(&h, 100) == 10000, "p100 is the max");

	/* merging doubles counts, keeps percentiles */
	{
		static struct mmt_hist m;

		memset(&m, 0, sizeof(m));
		mmt_hist_merge(&m, &h);
		mmt_hist_merge(&m, &h);
		CHECK(m.count == 20000 && m.max == 10000, "merge count %llu",
		      (unsigned long long)m.count);
		CHECK(mmt_hist_percentile(&m, 50) == p50, "merged p50");
	}
	memset(&h, 0, sizeof(h));
	CHECK(mmt_hist_percentile(&h, 99) == 0, "empty histogram");
}

int main(void)
{
	test_summary();
	test_hist();
	if (failures) {
		printf("0 passed, %d failed\n", failures);
		return 1;
	}
	printf("ok: statistics and histograms\n");
	return 0;
}
