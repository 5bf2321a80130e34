// SPDX-License-Identifier: GPL-2.0
/*
 * vm.c - the kernel side of the command line: `kernel build`, `vm run`,
 * `ab` and `nightly`.  Building and booting are done by kernel/build.sh and
 * kernel/vm-run.sh (make and QEMU orchestration is shell's job); this file
 * validates arguments, runs them, merges the per-boot records of an A/B run
 * and hands the two sides to compare and report.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "analysis.h"
#include "internal.h"
#include "vm.h"

const char mmt_kernel_usage[] =
	"usage: mmtorture kernel build --source DIR|TARBALL --series NAME|none\n"
	"                              --config perf|debug|trim -o DIR [--jobs N]\n"
	"\n"
	"Prepare a kernel tree from a git checkout or Debian's linux-source-6.x tarball,\n"
	"apply a patch series from kernel/series/NAME (none: the empty base series),\n"
	"configure it with kernel/configs/CONFIG.config, and build a bzImage out of tree\n"
	"with ccache.  The series id is stamped into the release (-mmt-NAME), so records\n"
	"show it.  Building the same tree with another series rebuilds incrementally.\n"
	"Prints the bzImage path at the end.  See kernel/README.md.\n";

const char mmt_vm_usage[] =
	"usage: mmtorture vm run --kernel BZIMAGE [--cpus N] [--mem SIZE] [--numa N]\n"
	"                        [--hotplug-dimm SIZE] [--timeout SECONDS] [-o DIR]\n"
	"                        [--run-id ID] [--append CMDLINE] [--test-panic]\n"
	"                        [--bugs DIR] [--accel LIST] [--test-stall]\n"
	"                        [--peer SCRIPT] [-- RUN-ARGS...]\n"
	"\n"
	"Boot BZIMAGE under QEMU with an initramfs holding this mmtorture, run\n"
	"`mmtorture run RUN-ARGS` inside, and bring the records back to DIR/RUN-ID/\n"
	"(default results/), with console.log and vm.json (accelerator, guest release,\n"
	"verdict).  A guest panic, a hang past the deadline or a splat on the console\n"
	"is FAIL (exit 1) with a console excerpt.  KVM is used when it works, TCG\n"
	"otherwise (tried, not guessed): when QEMU cannot start an accelerator, or the\n"
	"accelerator stops the guest while QEMU lives on (\"KVM internal error\"), which\n"
	"is seen within seconds, the boot is retried with the next one; vm.json lists\n"
	"every attempt given up and why.\n"
	"\n"
	"  --cpus N             virtual CPUs (default 2)\n"
	"  --mem SIZE           boot memory, e.g. 3G (default 3G)\n"
	"  --numa N             NUMA nodes, one socket each; must divide --cpus (default 2)\n"
	"  --hotplug-dimm SIZE  add a hot-pluggable DIMM (pc-dimm) of SIZE on the last node\n"
	"  --timeout SECONDS    deadline for the whole boot (default 900)\n"
	"  --accel LIST         accelerators to try in order (default kvm,tcg)\n"
	"  --test-panic         make the guest panic on purpose (proves panics are caught)\n"
	"  --test-stall         stop the first guest through QEMU's monitor once it runs,\n"
	"                       as a KVM internal error does (proves the fallback)\n"
	"  --bugs DIR           also pack the kernel-bug reproducers DIR/repro-* (meson\n"
	"                       builds them in build/kernel/bugs) and run them first; their\n"
	"                       output and exit codes come back in bugs/ and vm.json.  Without\n"
	"                       RUN-ARGS only they run: exit 1 if one showed its bug, and a\n"
	"                       console splat is kept in vm.json instead of failing the run\n"
	"  --peer SCRIPT        run a peer script (workloads/*-peer.sh) in the guest instead of\n"
	"                       `mmtorture run`: `sh SCRIPT mmtorture RUN-ARGS...` in the records\n"
	"                       directory, with stress-ng, strace, jq and the helpers built\n"
	"                       beside mmtorture packed; e.g. --peer\n"
	"                       workloads/hotplug-vmemmap-peer.sh -- 10 peer\n";

const char mmt_ab_usage[] =
	"usage: mmtorture ab --base BZIMAGE_A --patched BZIMAGE_B [--repeat N] [-o DIR]\n"
	"                    [--max-repeat M] [--confirm] [--headline]\n"
	"                    [--calibration FILE] [--base-append CMDLINE]\n"
	"                    [--patched-append CMDLINE] [vm options] -- RUN-ARGS...\n"
	"\n"
	"Boot the two kernels alternately (A B A B ...) N times each (default 3) under\n"
	"QEMU, run `mmtorture run RUN-ARGS` in each boot, merge each side's boots into\n"
	"one run (DIR/AB-ID-base, DIR/AB-ID-patched; each boot is one repeat), then run\n"
	"`mmtorture compare` and `mmtorture report` on them.  vm options (--cpus, --mem,\n"
	"--numa, --hotplug-dimm, --timeout, --accel) go to `vm run`.  The same image\n"
	"on both sides is an A/A run: `mmtorture calibrate` measures the noise from it.\n"
	"\n"
	"  --max-repeat M      while a headline metric is inconclusive (and none is\n"
	"                      worse), boot one more pair (A then B) up to M boots per\n"
	"                      kernel (default N: no more boots)\n"
	"  --confirm           a headline metric called worse is re-run once: N fresh\n"
	"                      boots of each kernel, interleaved (DIR/AB-ID-confirm-*);\n"
	"                      only a worse that reproduces there counts\n"
	"  --headline          exit 1 only for what pages: a status change for the\n"
	"                      worse, a new splat, a (confirmed) worse headline metric\n"
	"  --calibration FILE  the A/A calibration compare uses (default: the newest\n"
	"                      of the machine under DIR/calibration/)\n"
	"  --base-append CMDLINE, --patched-append CMDLINE\n"
	"                      kernel command line added to that side's boots only\n"
	"                      (vm run --append): one image with a boot parameter, e.g.\n"
	"                      the same bzImage both sides and --patched-append\n"
	"                      mmt_slow.fork_us=20000 for a known-slow series\n"
	"\n"
	"A boot whose mmtorture exits 99 (it could not run) is booted once more, its\n"
	"records moved aside to DIR/RUN-ID.failed; a second 99 stops ab.\n"
	"\n"
	"exit: compare's verdict (0 nothing worse, 1 worse or a FAIL), 99 on error\n";

const char mmt_nightly_usage[] =
	"usage: mmtorture nightly --config FILE\n"
	"\n"
	"Run a declarative job end to end: build (or take) a base and a patched kernel,\n"
	"A/B them in VMs, compare and report, and keep the runs under results/ for\n"
	"`mmtorture history`.  The verdict is what pages: status changes, new splats\n"
	"and worse headline metrics (ab --headline); a headline metric inconclusive\n"
	"after \"repeat\" boots gets more boots of both kernels, up to \"max_repeat\"\n"
	"(default twice \"repeat\"), and a worse one is re-run once on fresh boots and\n"
	"counts only if it reproduces (ab --confirm; \"confirm\": false turns it off).\n"
	"With \"known_bad\": {\"source\": TREE, \"config\": C, \"series\": [NAME...]}\n"
	"it then runs kernel/known-bad.sh: a known-bad kernel that no longer FAILs (the\n"
	"suite lost detection power), or a parent that no longer PASSes, pages too.\n"
	"Exit 0 when nothing pages, 1 on a regression or corruption, 99 on error.\n"
	"FILE is JSON; see kernel/nightly.example.json.\n";

static const char *kernel_dir(void)
{
	const char *d = getenv("MMT_KERNEL_DIR");

	return d && *d ? d : MMT_SOURCE_ROOT "/kernel";
}

static const char *self_exe(void)
{
	static char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);

	if (n <= 0)
		return "mmtorture";
	path[n] = '\0';
	return path;
}

/* Run argv, wait, return its exit status (or 99 when it cannot be run). */
static int run_child(char *const argv[])
{
	int st;
	pid_t pid = fork();

	if (pid < 0)
		return MMT_ERROR;
	if (pid == 0) {
		execvp(argv[0], argv);
		mmt_errmsg("cannot run %s: %s", argv[0], strerror(errno));
		_exit(MMT_ERROR);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return MMT_ERROR;
	if (WIFSIGNALED(st))
		return MMT_ERROR;
	return WEXITSTATUS(st);
}

static bool is_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	return false;
}

static int script(const char *name, char **extra, int nextra, int argc, char **argv)
{
	char path[PATH_MAX];
	char **av;
	int i, n = 0, ret;

	snprintf(path, sizeof(path), "%s/%s", kernel_dir(), name);
	if (access(path, R_OK)) {
		mmt_errmsg("cannot find %s (set MMT_KERNEL_DIR to the kernel/ folder of mmtorture)",
			   path);
		return MMT_ERROR;
	}
	av = calloc((size_t)(argc + nextra + 3), sizeof(char *));
	if (!av)
		return MMT_ERROR;
	av[n++] = "bash";
	av[n++] = path;
	for (i = 0; i < nextra; i++)
		av[n++] = extra[i];
	for (i = 0; i < argc; i++)
		av[n++] = argv[i];
	ret = run_child(av);
	free(av);
	return ret;
}

int mmt_cmd_kernel(int argc, char **argv)
{
	if (argc < 2 || is_help(argc, argv)) {
		fputs(mmt_kernel_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? MMT_ERROR : 0;
	}
	if (strcmp(argv[1], "build")) {
		return mmt_usage_error("kernel", "unknown kernel command '%s'", argv[1]);
	}
	return script("build.sh", NULL, 0, argc - 2, argv + 2);
}

static int vm_run(int argc, char **argv)
{
	char *extra[2] = { "--mmtorture", (char *)self_exe() };
	int i;

	/* -o DIR is spelt --results for the script */
	for (i = 0; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output"))
			argv[i] = "--results";
	return script("vm-run.sh", extra, 2, argc, argv);
}

int mmt_cmd_vm(int argc, char **argv)
{
	if (argc < 2 || is_help(argc, argv)) {
		fputs(mmt_vm_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? MMT_ERROR : 0;
	}
	if (strcmp(argv[1], "run")) {
		return mmt_usage_error("vm", "unknown vm command '%s'", argv[1]);
	}
	return vm_run(argc - 2, argv + 2);
}

/* ------------------------------------------------------------------ ab */

static int merge_side(const char *outdir, const char *ab_id, const char *side, int boots)
{
	char dir[PATH_MAX], path[PATH_MAX], err[PATH_MAX + 256], src[PATH_MAX];
	json_t *recs[256];
	struct dirent *de;
	DIR *d;
	int b, n, ret = 0;

	snprintf(dir, sizeof(dir), "%s/%s-%s", outdir, ab_id, side);
	if (mmt_mkdir_p(dir, 0755))
		return -EIO;
	/* the workloads are those the first boot recorded */
	snprintf(src, sizeof(src), "%s/%s-%s-1", outdir, ab_id, side);
	d = opendir(src);
	if (!d) {
		mmt_errmsg("no records from the first %s boot in %s", side, src);
		return -ENOENT;
	}
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		json_t *merged;

		if (l < 6 || strcmp(de->d_name + l - 5, ".json") || !strcmp(de->d_name, "vm.json"))
			continue;
		n = 0;
		for (b = 1; b <= boots && n < 256; b++) {
			snprintf(path, sizeof(path), "%s/%s-%s-%d/%s", outdir, ab_id, side, b,
				 de->d_name);
			recs[n] = mmt_record_load(path, err, sizeof(err));
			if (!recs[n]) {
				mmt_errmsg("warning: %s", err);
				continue;
			}
			n++;
		}
		merged = n ? mmt_record_merge(recs, n, err, sizeof(err)) : NULL;
		while (n)
			json_decref(recs[--n]);
		if (!merged) {
			mmt_errmsg("cannot merge the %s boots of %s: %s", side, de->d_name, err);
			ret = -EINVAL;
			continue;
		}
		snprintf(path, sizeof(path), "%s-%s", ab_id, side);
		json_object_set_new(merged, "run_id", json_string(path));
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (mmt_record_write(path, merged))
			ret = -EIO;
		json_decref(merged);
	}
	closedir(d);
	snprintf(path, sizeof(path), "%s/topology.xml", src);
	snprintf(err, sizeof(err), "%s/topology.xml", dir);
	if (!access(path, R_OK)) {
		char *cp[] = { "cp", path, err, NULL };

		run_child(cp);
	}
	return ret;
}

struct ab_job {
	const char *base, *patched, *outdir;
	char **vmopts;
	int nvm;
	char **run_args;	/* RUN-ARGS */
	int nrun;
	struct mmt_cmp_opts o;
	const char *calib;	/* --calibration FILE */
	const char *append[2];	/* --base-append, --patched-append */
};

/* Boot pair i (base, then patched): the worse exit of the two, MMT_ERROR when one could not run. */
static int ab_boot_pair(const struct ab_job *j, const char *ab_id, int i, int total)
{
	char run_id[160];
	int s, rc, worst = 0;

	for (s = 0; s < 2; s++) {
		char *av[64];
		int n = 0, k;

		snprintf(run_id, sizeof(run_id), "%s-%s-%d", ab_id, s ? "patched" : "base", i);
		mmt_msg("== boot %d/%d: %s (%s)\n", (i - 1) * 2 + s + 1, total * 2,
			s ? "patched" : "base", s ? j->patched : j->base);
		av[n++] = "--kernel";
		av[n++] = (char *)(s ? j->patched : j->base);
		av[n++] = "--results";
		av[n++] = (char *)j->outdir;
		av[n++] = "--run-id";
		av[n++] = run_id;
		for (k = 0; k < j->nvm; k++)
			av[n++] = j->vmopts[k];
		if (j->append[s]) {
			av[n++] = "--append";
			av[n++] = (char *)j->append[s];
		}
		av[n++] = "--";
		for (k = 0; k < j->nrun && n < 62; k++)
			av[n++] = j->run_args[k];
		av[n] = NULL;
		rc = vm_run(n, av);
		if (rc == MMT_ERROR) {
			/*
			 * One boot that could not run (a workload ERROR, a guest that never
			 * came up) would otherwise cost the whole comparison: boot it once
			 * more, its records kept aside as RUN-ID.failed.  Twice is a stop.
			 */
			char from[PATH_MAX], to[PATH_MAX + 16];
			int t = 1;

			snprintf(from, sizeof(from), "%s/%s", j->outdir, run_id);
			snprintf(to, sizeof(to), "%s.failed", from);
			while (!access(to, F_OK) && t < 100)	/* an earlier ab of the same id */
				snprintf(to, sizeof(to), "%s.failed-%d", from, ++t);
			if (rename(from, to) && errno != ENOENT) {
				mmt_errmsg("cannot move %s aside: %s; stopping", from,
					   strerror(errno));
				return MMT_ERROR;
			}
			mmt_msg("the %s boot could not run (exit 99; records in %s): booting it once more\n",
				s ? "patched" : "base", to);
			rc = vm_run(n, av);
		}
		if (rc == MMT_ERROR) {
			mmt_errmsg("the %s boot could not run, twice; stopping", s ? "patched" : "base");
			return MMT_ERROR;
		}
		worst = mmt_worse(worst, rc);
	}
	return worst;
}

/* Merge the boots of both sides and compare them in-process: the model, or NULL. */
static json_t *ab_judge(struct ab_job *j, const char *ab_id, int boots, char dirs[2][PATH_MAX],
			bool *merge_failed)
{
	struct mmt_runset a, b;
	char err[PATH_MAX + 256];
	json_t *m;
	int s;

	for (s = 0; s < 2; s++) {
		if (merge_side(j->outdir, ab_id, s ? "patched" : "base", boots))
			*merge_failed = true;
		snprintf(dirs[s], PATH_MAX, "%s/%s-%s", j->outdir, ab_id, s ? "patched" : "base");
	}
	if (mmt_run_load(dirs[0], NULL, &a, err, sizeof(err))) {
		mmt_errmsg("%s", err);
		return NULL;
	}
	if (mmt_run_load(dirs[1], NULL, &b, err, sizeof(err))) {
		mmt_errmsg("%s", err);
		mmt_run_free(&a);
		return NULL;
	}
	if (!j->o.calibration && !j->calib)
		j->o.calibration = mmt_calibration_find(j->outdir, &a);
	m = mmt_compare_model(&a, &b, &j->o);
	mmt_run_free(&a);
	mmt_run_free(&b);
	return m;
}

/*
 * One A/B: `repeat` boot pairs, then, while a headline metric is
 * inconclusive and none is worse, one pair more up to max_repeat.  The model
 * of the last comparison, or NULL on error; *boots the pairs booted.
 */
static json_t *ab_round(struct ab_job *j, const char *ab_id, int repeat, int max_repeat,
			int *boots, int *worst, char dirs[2][PATH_MAX], bool *merge_failed)
{
	json_t *m = NULL, *c;
	int i, rc;

	mmt_msg("ab %s: %d boots of each kernel, alternating%s; records in %s/%s-*\n", ab_id,
		repeat, max_repeat > repeat ? " (more while a headline metric is inconclusive)" : "",
		j->outdir, ab_id);
	for (i = 1; ; i++) {
		rc = ab_boot_pair(j, ab_id, i, i <= repeat ? repeat : i);
		if (rc == MMT_ERROR) {
			json_decref(m);
			return NULL;
		}
		*worst = mmt_worse(*worst, rc);
		*boots = i;
		if (i < repeat)
			continue;
		json_decref(m);
		m = ab_judge(j, ab_id, i, dirs, merge_failed);
		if (!m)
			return NULL;
		c = json_object_get(m, "counts");
		if (i >= max_repeat || !json_integer_value(json_object_get(c, "headline_inconclusive")) ||
		    json_integer_value(json_object_get(c, "headline_worse")))
			break;
		mmt_msg("ab %s: %lld headline metric%s inconclusive after %d boots each: one more pair\n",
			ab_id, (long long)json_integer_value(json_object_get(c, "headline_inconclusive")),
			json_integer_value(json_object_get(c, "headline_inconclusive")) == 1 ? "" : "s", i);
	}
	c = json_object_get(m, "counts");
	if (json_integer_value(json_object_get(c, "headline_inconclusive")))
		mmt_msg("ab %s: still %lld headline metric%s inconclusive after %d boots each: shown, not paging\n",
			ab_id, (long long)json_integer_value(json_object_get(c, "headline_inconclusive")),
			json_integer_value(json_object_get(c, "headline_inconclusive")) == 1 ? "" : "s",
			*boots);
	return m;
}

/* print the comparison (a child `compare`, the same rules) and write the report */
static int ab_show(const struct ab_job *j, const char *ab_id, char dirs[2][PATH_MAX])
{
	char rep[PATH_MAX];
	char *cmp[12] = { (char *)self_exe(), "compare", dirs[0], dirs[1], "--correction",
			  (char *)mmt_correction_name(j->o.correction) };
	char *rpt[] = { (char *)self_exe(), "report", dirs[0], dirs[1], "-o", rep, "--results",
			(char *)j->outdir, NULL };
	int n = 6, rc;

	if (j->calib) {
		cmp[n++] = "--calibration";
		cmp[n++] = (char *)j->calib;
	} else {
		cmp[n++] = "-o";
		cmp[n++] = (char *)j->outdir;
	}
	if (j->o.headline_only)
		cmp[n++] = "--headline";
	cmp[n] = NULL;
	snprintf(rep, sizeof(rep), "%s/%s-report", j->outdir, ab_id);
	rc = run_child(cmp);
	if (run_child(rpt))
		mmt_errmsg("warning: the report could not be written to %s", rep);
	else
		mmt_msg("report: %s/\n", rep);
	return rc;
}

/* the headline rows called worse: ["workload: metric", ...] */
static json_t *headline_worse(json_t *m)
{
	json_t *out = json_array(), *w, *row;
	size_t i, k;
	char buf[512];

	json_array_foreach(json_object_get(m, "workloads"), i, w)
		json_array_foreach(json_object_get(w, "rows"), k, row) {
			if (!json_is_true(json_object_get(row, "pages")))
				continue;
			snprintf(buf, sizeof(buf), "%s: %s",
				 json_string_value(json_object_get(w, "key")),
				 json_string_value(json_object_get(row, "metric")));
			json_array_append_new(out, json_string(buf));
		}
	return out;
}

/* status changes and new splats: what pages whatever the metrics say */
static bool other_regressed(json_t *m)
{
	json_t *c = json_deep_copy(m);
	bool r;

	json_object_set_new(json_object_get(c, "counts"), "worse", json_integer(0));
	json_object_set_new(json_object_get(c, "counts"), "headline_worse", json_integer(0));
	r = mmt_compare_regressed(c, true);
	json_decref(c);
	return r;
}

int mmt_cmd_ab(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "base", required_argument, NULL, 'a' },
		{ "patched", required_argument, NULL, 'b' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "max-repeat", required_argument, NULL, 'R' },
		{ "confirm", no_argument, NULL, 'C' },
		{ "headline", no_argument, NULL, 'H' },
		{ "calibration", required_argument, NULL, 'K' },
		{ "base-append", required_argument, NULL, 'x' },
		{ "patched-append", required_argument, NULL, 'y' },
		{ "output", required_argument, NULL, 'o' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "mem", required_argument, NULL, 'm' },
		{ "numa", required_argument, NULL, 'n' },
		{ "hotplug-dimm", required_argument, NULL, 'd' },
		{ "timeout", required_argument, NULL, 't' },
		{ "accel", required_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ab_job j = { .outdir = "results",
			    .o = { .correction = MMT_CORR_HOLM, .margin = MMT_CMP_MARGIN } };
	char *vmopts[16], ab_id[96], cid[128], dirs[2][PATH_MAX], err[PATH_MAX + 256];
	int nvm = 0, repeat = 3, max_repeat = 0, c, i, worst = 0, nrun, boots = 0, cboots = 0;
	bool confirm = false, merge_failed = false, metrics_regressed;
	json_t *model, *cmodel, *hw;
	long long v;
	struct tm tm;
	time_t now;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:r:h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			j.base = optarg;
			break;
		case 'b':
			j.patched = optarg;
			break;
		case 'r':
		case 'R':
			if (!mmt_parse_ll(optarg, &v) || v < 1 || v > 100) {
				mmt_errmsg("invalid %s '%s': boots per kernel, 1-100",
					   c == 'r' ? "--repeat" : "--max-repeat", optarg);
				return MMT_ERROR;
			}
			*(c == 'r' ? &repeat : &max_repeat) = (int)v;
			break;
		case 'C':
			confirm = true;
			break;
		case 'H':
			j.o.headline_only = true;
			break;
		case 'K':
			j.calib = optarg;
			break;
		case 'x':
		case 'y':
			j.append[c == 'y'] = optarg;
			break;
		case 'o':
			j.outdir = optarg;
			break;
		case 'c':
		case 'm':
		case 'n':
		case 'd':
		case 't':
		case 'A':
			if (nvm + 2 > (int)(sizeof(vmopts) / sizeof(vmopts[0])))
				return mmt_usage_error("ab", "too many vm options");
			vmopts[nvm++] = c == 'c' ? "--cpus" : c == 'm' ? "--mem" : c == 'n' ? "--numa" :
					  c == 'd' ? "--hotplug-dimm" : c == 'A' ? "--accel" : "--timeout";
			vmopts[nvm++] = optarg;
			break;
		case 'h':
			fputs(mmt_ab_usage, stdout);
			return 0;
		case ':':
			return mmt_usage_error("ab", "option %s needs a value", argv[optind - 1]);
		default:
			return mmt_usage_error("ab", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (!j.base || !j.patched) {
		return mmt_usage_error("ab", "--base and --patched kernel images are required");
	}
	if (max_repeat && max_repeat < repeat)
		return mmt_usage_error("ab", "--max-repeat %d is below --repeat %d", max_repeat,
				       repeat);
	if (!max_repeat)
		max_repeat = repeat;
	for (i = 0; i < 2; i++) {
		const char *k = i ? j.patched : j.base;

		if (access(k, R_OK)) {
			mmt_errmsg("kernel image '%s' does not exist", k);
			return MMT_ERROR;
		}
	}
	if (j.calib) {
		j.o.calibration = mmt_calibration_load(j.calib, err, sizeof(err));
		if (!j.o.calibration) {
			mmt_errmsg("%s", err);
			return MMT_ERROR;
		}
	}
	j.vmopts = vmopts;
	j.nvm = nvm;
	j.run_args = argv + optind;
	j.nrun = argc - optind;
	if (j.nrun && !strcmp(j.run_args[0], "--")) {
		j.run_args++;
		j.nrun--;
	}
	now = time(NULL);
	gmtime_r(&now, &tm);
	snprintf(ab_id, sizeof(ab_id), "%04d%02d%02d-%02d%02d%02d-ab", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	model = ab_round(&j, ab_id, repeat, max_repeat, &boots, &worst, dirs, &merge_failed);
	if (!model) {
		json_decref(j.o.calibration);
		return MMT_ERROR;
	}
	nrun = ab_show(&j, ab_id, dirs);
	metrics_regressed = mmt_compare_regressed(model, j.o.headline_only) && !other_regressed(model);
	hw = headline_worse(model);
	if (confirm && json_array_size(hw)) {
		json_t *again, *x;
		size_t k, reproduced = 0;

		snprintf(cid, sizeof(cid), "%s-confirm", ab_id);
		mmt_msg("ab %s: headline metric%s worse: re-running %d fresh boots of each kernel, interleaved, to confirm\n",
			ab_id, json_array_size(hw) == 1 ? "" : "s", boots);
		cmodel = ab_round(&j, cid, boots, boots, &cboots, &worst, dirs, &merge_failed);
		if (!cmodel) {
			json_decref(hw);
			json_decref(model);
			json_decref(j.o.calibration);
			return MMT_ERROR;
		}
		ab_show(&j, cid, dirs);
		again = headline_worse(cmodel);
		json_array_foreach(hw, k, x) {
			bool same = false;
			size_t l;
			json_t *y;

			json_array_foreach(again, l, y)
				same |= json_equal(x, y);
			reproduced += same;
			mmt_msg("ab %s: %s: worse, and %s\n", ab_id, json_string_value(x),
				same ? "CONFIRMED on fresh boots" :
				"NOT reproduced on fresh boots: not reported as a regression");
		}
		/* only what reproduced pages; a worse metric that does not page still shows */
		if (!reproduced && j.o.headline_only)
			metrics_regressed = false;
		else if (!reproduced)
			metrics_regressed = json_integer_value(json_object_get(json_object_get(model,
						"counts"), "worse")) > (json_int_t)json_array_size(hw);
		json_decref(again);
		json_decref(cmodel);
		if (other_regressed(model))
			nrun = MMT_FAIL;
		else
			nrun = metrics_regressed ? MMT_FAIL : MMT_PASS;
	}
	json_decref(hw);
	json_decref(model);
	json_decref(j.o.calibration);
	if (merge_failed)
		worst = mmt_worse(worst, MMT_ERROR);
	if (worst == MMT_FAIL || nrun == MMT_FAIL)
		return MMT_FAIL;
	if (worst == MMT_ERROR || nrun == MMT_ERROR)
		return MMT_ERROR;
	return nrun;
}

/* ------------------------------------------------------------- nightly */

static int nightly_kernel(json_t *k, const char *builddir, char *image, size_t len)
{
	const char *img = json_string_value(json_object_get(k, "image"));
	const char *src = json_string_value(json_object_get(k, "source"));
	const char *series = json_string_value(json_object_get(k, "series"));
	const char *config = json_string_value(json_object_get(k, "config"));
	char out[PATH_MAX];
	int rc;

	if (img) {
		snprintf(image, len, "%s", img);
		return access(img, R_OK) ? MMT_ERROR : 0;
	}
	if (!src || !series || !config) {
		mmt_errmsg("nightly: a kernel needs \"image\", or \"source\", \"series\" and \"config\"");
		return MMT_ERROR;
	}
	snprintf(out, sizeof(out), "%s", builddir);
	{
		char *av[] = { "--source", (char *)src, "--series", (char *)series, "--config",
			       (char *)config, "-o", out, NULL };

		rc = script("build.sh", NULL, 0, 8, av);
	}
	if (rc)
		return MMT_ERROR;
	snprintf(image, len, "%s/build-%s-%s/bzImage", builddir, series, config);
	if (access(image, R_OK)) {
		mmt_errmsg("nightly: the build of %s did not leave %s", series, image);
		return MMT_ERROR;
	}
	return 0;
}

/*
 * Detection power: kernel/known-bad.sh builds every known-bad kernel named (all
 * of them by default) and its parent, boots both and expects FAIL and PASS.
 * Returns its exit: 0 all caught, 1 a defect missed or a parent failed.
 */
static int nightly_known_bad(json_t *kb, const char *builddir, const char *outdir)
{
	const char *src = json_string_value(json_object_get(kb, "source"));
	const char *config = json_string_value(json_object_get(kb, "config"));
	json_t *names = json_object_get(kb, "series"), *x;
	char *av[64];
	int n = 0;
	size_t j;

	if (!src) {
		mmt_errmsg("nightly: \"known_bad\" needs \"source\", the kernel tree or tarball "
			   "the known-bad series apply to");
		return MMT_ERROR;
	}
	av[n++] = "--source";
	av[n++] = (char *)src;
	av[n++] = "-o";
	av[n++] = (char *)builddir;
	av[n++] = "--results";
	av[n++] = (char *)outdir;
	if (config) {
		av[n++] = "--config";
		av[n++] = (char *)config;
	}
	json_array_foreach(names, j, x)
		if (json_is_string(x) && n < 62)
			av[n++] = (char *)json_string_value(x);
	av[n] = NULL;
	return script("known-bad.sh", NULL, 0, n, av);
}

int mmt_cmd_nightly(int argc, char **argv)
{
	char images[2][PATH_MAX], err[PATH_MAX + 128];
	const char *file = NULL, *builddir, *outdir;
	json_t *cfg, *kernels, *vm, *args, *x;
	json_error_t jerr;
	char *av[128];
	int n = 0, i;
	size_t j;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(mmt_nightly_usage, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--config") && i + 1 < argc) {
			file = argv[++i];
		} else {
			return mmt_usage_error("nightly", "unexpected argument '%s'", argv[i]);
		}
	}
	if (!file) {
		mmt_errmsg("--config FILE is required (see kernel/nightly.example.json)");
		return MMT_ERROR;
	}
	cfg = json_load_file(file, JSON_REJECT_DUPLICATES, &jerr);
	if (!cfg) {
		mmt_errmsg("nightly: %s: %s (line %d)", file, jerr.text, jerr.line);
		return MMT_ERROR;
	}
	kernels = json_object_get(cfg, "kernels");
	if (json_array_size(kernels) != 2) {
		mmt_errmsg("nightly: %s: \"kernels\" must list two kernels, base then patched", file);
		goto out_error;
	}
	builddir = json_string_value(json_object_get(cfg, "build_dir"));
	if (!builddir)
		builddir = "/var/cache/mmtorture/kbuild";
	outdir = json_string_value(json_object_get(cfg, "results"));
	if (!outdir)
		outdir = "results";
	for (i = 0; i < 2; i++) {
		if (nightly_kernel(json_array_get(kernels, (size_t)i), builddir, images[i],
				   sizeof(images[i]))) {
			snprintf(err, sizeof(err), "nightly: kernel %d of %s could not be built or found",
				 i + 1, file);
			mmt_errmsg("%s", err);
			goto out_error;
		}
	}
	av[n++] = "ab";
	av[n++] = "--base";
	av[n++] = images[0];
	av[n++] = "--patched";
	av[n++] = images[1];
	av[n++] = "-o";
	av[n++] = (char *)outdir;
	x = json_object_get(cfg, "repeat");
	if (json_is_integer(x)) {
		static char r[16];

		snprintf(r, sizeof(r), "%lld", (long long)json_integer_value(x));
		av[n++] = "--repeat";
		av[n++] = r;
	}
	/*
	 * The nightly verdict pages on status changes, new splats and headline
	 * regressions that reproduce; an inconclusive headline metric gets more
	 * boots (up to max_repeat, default twice repeat), never a page.
	 */
	{
		static char mr[16];
		long long rep = json_is_integer(x) ? json_integer_value(x) : 3;
		json_t *y = json_object_get(cfg, "max_repeat");

		snprintf(mr, sizeof(mr), "%lld", json_is_integer(y) ? json_integer_value(y) :
			 (rep * 2 > 100 ? 100 : rep * 2));
		av[n++] = "--max-repeat";
		av[n++] = mr;
		av[n++] = "--headline";
		if (!json_is_false(json_object_get(cfg, "confirm")))
			av[n++] = "--confirm";
		y = json_object_get(cfg, "calibration");
		if (json_is_string(y)) {
			av[n++] = "--calibration";
			av[n++] = (char *)json_string_value(y);
		}
	}
	vm = json_object_get(cfg, "vm");
	{
		static const char *const keys[] = { "cpus", "mem", "numa", "hotplug_dimm", "timeout",
						    "accel" };
		static const char *const flags[] = { "--cpus", "--mem", "--numa", "--hotplug-dimm",
						     "--timeout", "--accel" };
		static char vals[6][32];

		for (i = 0; i < 6; i++) {
			x = json_object_get(vm, keys[i]);
			if (!x)
				continue;
			if (json_is_integer(x))
				snprintf(vals[i], sizeof(vals[i]), "%lld", (long long)json_integer_value(x));
			else if (json_is_string(x))
				snprintf(vals[i], sizeof(vals[i]), "%s", json_string_value(x));
			else
				continue;
			av[n++] = (char *)flags[i];
			av[n++] = vals[i];
		}
	}
	av[n++] = "--";
	args = json_object_get(cfg, "run_args");
	json_array_foreach(args, j, x)
		if (json_is_string(x) && n < 126)
			av[n++] = (char *)json_string_value(x);
	av[n] = NULL;
	optind = 0;	/* reset getopt for a second parse */
	i = mmt_cmd_ab(n, av);
	x = json_object_get(cfg, "known_bad");
	if (x && i != MMT_ERROR) {
		int k = nightly_known_bad(x, builddir, outdir);

		if (k == MMT_ERROR)
			i = MMT_ERROR;
		else if (k == 1)
			i = MMT_FAIL;	/* lost detection power pages like a regression */
		else if (k == MMT_SKIP)
			printf("nightly: known-bad kernels not run (known-bad.sh could not run here)\n");
	}
	json_decref(cfg);
	return i;

out_error:
	json_decref(cfg);
	return MMT_ERROR;
}
