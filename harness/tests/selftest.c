// SPDX-License-Identifier: GPL-2.0
/*
 * selftest.c - a workload that exercises the runner itself (linked only into
 * the test binary mmtorture-selftest, never into mmtorture).  Its behaviour
 * is chosen by -p mode=...: pass, fail (a worker reports corruption), skip
 * (setup skips), hang (a worker ignores the stop flag), crash (a worker dies
 * of SIGSEGV), roleskip (one role cannot run), splat (worker 0 logs a fake
 * "WARNING:" line to /dev/kmsg, which fails the run), splat2 (two different
 * ones).  -p knobs=1 changes real
 * knobs through the harness (khugepaged scan_sleep_millisecs and the hugetlb
 * pool) so that the save/restore paths can be tested without a real workload.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mmtorture.h"

enum { M_OPS, M_THREAD_OPS, M_LAT, M_EVENTS, M_GAUGE, NR_M };

static const struct mmt_metric metrics[] = {
	[M_OPS] = { "ops", "ops/s", MMT_RATE, .help = "spinner loop iterations" },
	[M_THREAD_OPS] = { "thread_ops", "ops/s", MMT_RATE },
	[M_LAT] = { "lat", "ns", MMT_LATENCY },
	[M_EVENTS] = { "events", "events", MMT_TOTAL },
	[M_GAUGE] = { "gauge", "units", MMT_GAUGE },
	{ NULL },
};

static const struct mmt_param params[] = {
	{ "mode", MMT_P_CHOICE, "pass", "what the workload does",
	  .choices = "pass|fail|skip|hang|crash|roleskip|splat|splat2" },
	{ "knobs", MMT_P_BOOL, "0", "change real knobs through the harness" },
	{ "lat_ns", MMT_P_INT, "1000", "latency value recorded", 0, 1000000000 },
	{ NULL },
};

struct priv {
	int mode;
};

static int setup(struct mmt_ctx *ctx)
{
	const char *mode = mmt_param_str(ctx, "mode");
	int ret;

	if (!strcmp(mode, "skip"))
		return mmt_skip(ctx, "selftest asked to skip");
	if (mmt_param_bool(ctx, "knobs")) {
		ret = mmt_knob_write(ctx, "/sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs",
				     "1234");
		if (ret)
			return mmt_error(ctx, "knob write failed: %s", strerror(-ret));
		if (mmt_hugetlb_reserve(ctx, 2) < 0)
			return mmt_error(ctx, "hugetlb reserve failed");
	}
	mmt_gauge(ctx, M_GAUGE, 42);
	mmt_note(ctx, "selftest mode %s", mode);
	return MMT_PASS;
}

/* A line the harness takes for a kernel splat (root: /dev/kmsg is writable). */
static void selftest_splat(const char *which)
{
	char line[96];
	int fd = open("/dev/kmsg", O_WRONLY);

	if (fd < 0)
		return;
	snprintf(line, sizeof(line), "WARNING: mmtorture selftest splat %s\n", which);
	if (write(fd, line, strlen(line)) < 0)
		line[0] = '\0';
	close(fd);
}

static int spinner(struct mmt_worker *w)
{
	const char *mode = mmt_param_str(w->ctx, "mode");
	uint64_t lat = (uint64_t)mmt_param_int(w->ctx, "lat_ns");
	uint64_t n = 0;

	if (!strncmp(mode, "splat", 5) && w->index == 0) {
		selftest_splat("A");
		if (!strcmp(mode, "splat2"))
			selftest_splat("B");
	}

	if (!strcmp(mode, "crash") && w->index == 0) {
		mmt_sleep(w, 500000000ull);
		raise(SIGSEGV);
	}
	if (!strcmp(mode, "hang") && w->index == 0) {
		for (;;)
			pause();
	}
	while (mmt_running(w)) {
		mmt_add(w, M_OPS, 1);
		if ((++n & 0xffff) == 0) {
			mmt_latency(w, M_LAT, lat);
			mmt_add(w, M_EVENTS, 1);
		}
		if (!strcmp(mode, "fail") && n == 1000000)
			return mmt_fail(w, "offset 0x%x: expected 0x%02x found 0x%02x (selftest)",
					0x1000, 0xaa, 0x55);
	}
	mmt_gauge_w(w, M_GAUGE, 7);
	return MMT_PASS;
}

static int threader(struct mmt_worker *w)
{
	if (!strcmp(mmt_param_str(w->ctx, "mode"), "roleskip"))
		return mmt_role_skip(w, "selftest thread role cannot run here");
	while (mmt_running(w)) {
		mmt_add(w, M_THREAD_OPS, 1);
		mmt_sleep(w, 1000000);
	}
	return MMT_PASS;
}

static const struct mmt_role roles[] = {
	{ "spinner", spinner, MMT_PROCESS, MMT_SCALED },
	{ "threader", threader, MMT_THREAD, 2 },
	{ NULL },
};

static const struct mmt_workload selftest = {
	.name = "selftest",
	.summary = "exercises the runner itself (test binary only)",
	.suite = "quick",
	.needs = 0,
	.default_workers = 1,
	.params = params,
	.metrics = metrics,
	.roles = roles,
	.priv_size = sizeof(struct priv),
	.setup = setup,
};

MMT_REGISTER(selftest);
