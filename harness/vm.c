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
	"                        [--bugs DIR] [--accel LIST] [--test-stall] [-- RUN-ARGS...]\n"
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
	"                       console splat is kept in vm.json instead of failing the run\n";

const char mmt_ab_usage[] =
	"usage: mmtorture ab --base BZIMAGE_A --patched BZIMAGE_B [--repeat N] [-o DIR]\n"
	"                    [vm options] -- RUN-ARGS...\n"
	"\n"
	"Boot the two kernels alternately (A B A B ...) N times each (default 3) under\n"
	"QEMU, run `mmtorture run RUN-ARGS` in each boot, merge each side's boots into\n"
	"one run (DIR/AB-ID-base, DIR/AB-ID-patched; each boot is one repeat), then run\n"
	"`mmtorture compare` and `mmtorture report` on them.  vm options (--cpus, --mem,\n"
	"--numa, --hotplug-dimm, --timeout, --accel) go to `vm run`.\n"
	"\n"
	"exit: compare's verdict (0 nothing worse, 1 worse or a FAIL), 99 on error\n";

const char mmt_nightly_usage[] =
	"usage: mmtorture nightly --config FILE\n"
	"\n"
	"Run a declarative job end to end: build (or take) a base and a patched kernel,\n"
	"A/B them in VMs, compare and report, and keep the runs under results/ for\n"
	"`mmtorture history`.  Exit 0 when nothing got worse, 1 on a regression or\n"
	"corruption, 99 on error.  FILE is JSON; see kernel/nightly.example.json.\n";

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

int mmt_cmd_ab(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "base", required_argument, NULL, 'a' },
		{ "patched", required_argument, NULL, 'b' },
		{ "repeat", required_argument, NULL, 'r' },
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
	const char *base = NULL, *patched = NULL, *outdir = "results";
	char *vmopts[16], ab_id[96], run_id[160], dirs[2][PATH_MAX], rep[PATH_MAX];
	int nvm = 0, repeat = 3, c, i, s, rc, worst = 0, nrun;
	long long v;
	struct tm tm;
	time_t now;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:r:h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			base = optarg;
			break;
		case 'b':
			patched = optarg;
			break;
		case 'r':
			if (!mmt_parse_ll(optarg, &v) || v < 1 || v > 100) {
				mmt_errmsg("invalid --repeat '%s': boots per kernel, 1-100", optarg);
				return MMT_ERROR;
			}
			repeat = (int)v;
			break;
		case 'o':
			outdir = optarg;
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
	if (!base || !patched) {
		return mmt_usage_error("ab", "--base and --patched kernel images are required");
	}
	for (i = 0; i < 2; i++) {
		const char *k = i ? patched : base;

		if (access(k, R_OK)) {
			mmt_errmsg("kernel image '%s' does not exist", k);
			return MMT_ERROR;
		}
	}
	now = time(NULL);
	gmtime_r(&now, &tm);
	snprintf(ab_id, sizeof(ab_id), "%04d%02d%02d-%02d%02d%02d-ab", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	mmt_msg("ab %s: %d boots of each kernel, alternating; records in %s/%s-*\n", ab_id,
		repeat, outdir, ab_id);
	for (i = 1; i <= repeat; i++) {
		for (s = 0; s < 2; s++) {
			char *av[64];
			int n = 0, k;

			snprintf(run_id, sizeof(run_id), "%s-%s-%d", ab_id, s ? "patched" : "base", i);
			mmt_msg("== boot %d/%d: %s (%s)\n", (i - 1) * 2 + s + 1, repeat * 2,
				s ? "patched" : "base", s ? patched : base);
			av[n++] = "--kernel";
			av[n++] = (char *)(s ? patched : base);
			av[n++] = "--results";
			av[n++] = (char *)outdir;
			av[n++] = "--run-id";
			av[n++] = run_id;
			for (k = 0; k < nvm; k++)
				av[n++] = vmopts[k];
			av[n++] = "--";
			for (k = optind; k < argc && n < 62; k++)
				if (strcmp(argv[k], "--") || k != optind)
					av[n++] = argv[k];
			av[n] = NULL;
			rc = vm_run(n, av);
			if (rc == MMT_ERROR) {
				mmt_errmsg("the %s boot could not run; stopping", s ? "patched" : "base");
				return MMT_ERROR;
			}
			worst = mmt_worse(worst, rc);
		}
	}
	for (s = 0; s < 2; s++) {
		if (merge_side(outdir, ab_id, s ? "patched" : "base", repeat))
			worst = mmt_worse(worst, MMT_ERROR);
		snprintf(dirs[s], sizeof(dirs[s]), "%s/%s-%s", outdir, ab_id, s ? "patched" : "base");
	}
	{
		char *cmp[] = { (char *)self_exe(), "compare", dirs[0], dirs[1], NULL };
		char *rpt[] = { (char *)self_exe(), "report", dirs[0], dirs[1], "-o", rep, NULL };

		snprintf(rep, sizeof(rep), "%s/%s-report", outdir, ab_id);
		nrun = run_child(cmp);
		if (run_child(rpt))
			mmt_errmsg("warning: the report could not be written to %s", rep);
		else
			mmt_msg("report: %s/\n", rep);
	}
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
	json_decref(cfg);
	return i;

out_error:
	json_decref(cfg);
	return MMT_ERROR;
}
