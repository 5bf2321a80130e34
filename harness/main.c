// SPDX-License-Identifier: GPL-2.0
/* main.c - the mmtorture command line. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "vm.h"
#include "analysis.h"

static const char main_usage[] =
	"usage: mmtorture [--version] [--help] COMMAND [ARGS]\n"
	"\n"
	"Stress and benchmark Linux page-table locking; detect corruption and splats.\n"
	"\n"
	"commands:\n"
	"  list      the workloads, and whether this machine can run each\n"
	"  run       run workloads, print a summary, write records under results/\n"
	"  info      the system snapshot that goes into every record\n"
	"  restore   put back the system state saved by a run that was killed\n"
	"  compare   judge run B against run A per metric: worse, better, same, inconclusive\n"
	"  calibrate measure a setup's noise from an A/A pair, for compare's thresholds\n"
	"  report    a Markdown + HTML report with gnuplot charts of one or more runs\n"
	"  history   a metric across the runs kept under results/\n"
	"  kernel    build a kernel with or without a companion patch series\n"
	"  vm        boot a kernel under QEMU and run mmtorture inside it\n"
	"  ab        compare two kernels in VMs, booted alternately\n"
	"  nightly   a declarative build, A/B, compare and report job\n"
	"  bugs      the known kernel bugs, and whether they affect this kernel\n"
	"  help      help for a command (mmtorture help run)\n"
	"\n"
	"exit codes: 0 pass (also XFAIL: a known kernel bug), 1 fail (the kernel\n"
	"misbehaved), 77 skip, 99 error\n";

static const char list_usage[] =
	"usage: mmtorture list [-v]\n"
	"\n"
	"List every workload with its suite, whether this machine can run it (and\n"
	"if not, why) and its one-line summary.\n"
	"\n"
	"  -v, --verbose   also list each workload's roles, parameters and metrics\n";

static const char run_usage[] =
	"usage: mmtorture run [WORKLOAD...] [options]\n"
	"\n"
	"Run the named workloads (default: the quick suite).  Prints live progress on a\n"
	"terminal, a summary table at the end, and writes one JSON record per workload\n"
	"to DIR/RUN-ID/WORKLOAD.json.  Every knob a run changes is restored on exit,\n"
	"on error and on Ctrl-C; after a crash, `mmtorture restore` puts it back.\n"
	"\n"
	"  -s, --suite NAME         run every workload of suite NAME (quick, destructive)\n"
	"  -d, --duration SECONDS   measured time per workload and repeat (default 10)\n"
	"      --warmup SECONDS     warm-up before measuring; its samples are dropped (default 1)\n"
	"  -w, --workers N          workers for each scaled role (default: per workload)\n"
	"      --sweep-workers N,N  run each workload once per worker count (scaling curves);\n"
	"                           records are WORKLOAD.wN.json\n"
	"  -r, --repeat N           run each workload N times (default 1)\n"
	"  -o, --output DIR         results directory (default ./results)\n"
	"      --run-id ID          name of the run directory (default DATE-TIME-HOST)\n"
	"  -p, --param NAME=VALUE   set a workload parameter (see `mmtorture list -v`)\n"
	"      --cpu-node N         run the workers on the CPUs of NUMA node N\n"
	"      --mem-node N         allocate the workers' memory (and hugetlb pages) on node N\n"
	"      --numa-matrix        run each workload once per (CPU node, memory node) pair\n"
	"                           of this machine, plus memory interleaved over every\n"
	"                           node; one record per workload holds the matrix\n"
	"      --matrix-min-free SIZE  skip a memory node with less free memory (default 256m)\n"
	"      --inject MODE        prove a detector fires: corrupt (a rogue writer corrupts\n"
	"                           the data under test) or splat (a fake WARNING: line is\n"
	"                           written to /dev/kmsg); the workload must then FAIL\n"
	"      --allow-destructive  allow workloads that change global memory state\n"
	"                           (or MMT_DESTRUCTIVE=1)\n"
	"      --grace SECONDS      after the stop flag, wait this long before SIGKILL (default 10)\n"
	"      --lock-timeout SECONDS  wait this long for another run to finish (default 600)\n"
	"      --strict             a known kernel bug (XFAIL) fails the run like any FAIL\n"
	"      --known-bugs FILE    the known-bug list (default kernel/bugs/known-bugs.json,\n"
	"                           or $MMT_KNOWN_BUGS)\n"
	"\n"
	"A FAIL that matches a bug in the known-bug list, on a kernel that bug affects,\n"
	"is XFAIL (\"known kernel bug: ID\"): shown and recorded, but the run still exits 0.\n"
	"\n"
	"exit: 0 all passed (or XFAIL), 1 a workload failed (or XFAIL with --strict),\n"
	"      77 skipped (reason printed), 99 error\n";

static const char info_usage[] =
	"usage: mmtorture info [--json]\n"
	"\n"
	"Print the system snapshot recorded with every run: kernel, command line,\n"
	"the config lines that matter, THP / khugepaged / hugetlb knobs, hugetlb pools\n"
	"per node, CPU and the hwloc NUMA topology.\n"
	"\n"
	"      --json   print it as JSON\n";

static const char restore_usage[] =
	"usage: mmtorture restore\n"
	"\n"
	"Put back every sysctl, sysfs knob, mount and temporary directory saved in the\n"
	"state file (" MMT_DEFAULT_STATE_DIR "/state.json, or $MMT_STATE_DIR) by a run that\n"
	"was killed before it could restore them.  A new run does this by itself first.\n";


/* ------------------------------------------------------------------ list */

static void list_verbose(const struct mmt_workload *wl)
{
	const struct mmt_param *p;
	const struct mmt_metric *m;
	const struct mmt_role *r;

	mmt_msg("    roles:");
	for (r = wl->roles; r->name; r++)
		mmt_msg(" %s(%s%s)", r->name,
			r->count == MMT_SCALED ? "-w" : r->count == 1 ? "1" : "n",
			r->flags & MMT_ROLE_INJECT_CORRUPT ? ", --inject corrupt" :
			r->kind == MMT_THREAD ? ", thread" : "");
	mmt_msg("\n");
	for (p = wl->params; p && p->name; p++)
		mmt_msg("    -p %s=%s%*s%s%s%s%s\n", p->name, p->def,
			(int)(22 - strlen(p->name) - strlen(p->def)) > 0 ?
			(int)(22 - strlen(p->name) - strlen(p->def)) : 1, "", p->help,
			p->choices ? " (" : "", p->choices ? p->choices : "", p->choices ? ")" : "");
	mmt_msg("    metrics:");
	for (m = wl->metrics; m && m->name; m++)
		mmt_msg(" %s[%s]%s", m->name, m->unit,
			mmt_metric_headline(wl, (unsigned int)(m - wl->metrics)) ? "*" : "");
	mmt_msg("\n    (* headline: a regression of it pages in nightly)");
	mmt_msg("\n");
}

static int cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct mmt_workload *const *w;
	bool verbose = false;
	char why[256];
	size_t n, i;
	int c;

	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			verbose = true;
			break;
		case 'h':
			fputs(list_usage, stdout);
			return 0;
		default:
			return mmt_usage_error("list", "bad option");
		}
	}
	if (optind < argc)
		return mmt_usage_error("list", "unexpected argument '%s'", argv[optind]);
	w = mmt_workloads(&n);
	mmt_msg("%-18s %-12s %-5s %s\n", "workload", "suite", "runs", "summary");
	for (i = 0; i < n; i++) {
		const char *no = mmt_cannot_run(w[i], false, why, sizeof(why));

		mmt_msg("%-18s %-12s %-5s %s\n", w[i]->name, w[i]->suite, no ? "no" : "yes",
			w[i]->summary);
		if (no)
			mmt_msg("%-37s (%s)\n", "", no);
		if (verbose)
			list_verbose(w[i]);
	}
	return 0;
}

/* ------------------------------------------------------------------- run */

enum {
	OPT_WARMUP = 256,
	OPT_RUN_ID,
	OPT_CPU_NODE,
	OPT_MEM_NODE,
	OPT_INJECT,
	OPT_DESTRUCTIVE,
	OPT_GRACE,
	OPT_LOCK_TIMEOUT,
	OPT_SWEEP,
	OPT_STRICT,
	OPT_KNOWN_BUGS,
	OPT_NUMA_MATRIX,
	OPT_MATRIX_MIN_FREE,
};

static bool parse_seconds(const char *opt, const char *s, double min, double max, double *out)
{
	double v;

	if (!mmt_parse_double(s, &v) || v < min || v > max) {
		mmt_errmsg("invalid %s '%s': must be a number of seconds from %g to %g (e.g. %s 10)",
			   opt, s, min, max, opt);
		return false;
	}
	*out = v;
	return true;
}

static bool parse_int(const char *opt, const char *s, long long min, long long max, int *out)
{
	long long v;

	if (!mmt_parse_ll(s, &v) || v < min || v > max) {
		mmt_errmsg("invalid %s '%s': must be an integer from %lld to %lld", opt, s, min, max);
		return false;
	}
	*out = (int)v;
	return true;
}

static bool parse_node(const char *opt, const char *s, int *out)
{
	if (!parse_int(opt, s, 0, 4095, out))
		return false;
	if (!mmt_node_valid(*out)) {
		mmt_errmsg("invalid %s %d: no such online NUMA node here (see `mmtorture info`)",
			   opt, *out);
		return false;
	}
	return true;
}

static bool parse_sweep(const char *s, struct mmt_run_opts *o)
{
	char buf[256], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", s);
	o->nr_sweep = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int n;

		if (o->nr_sweep >= (int)(sizeof(o->sweep) / sizeof(o->sweep[0])) ||
		    !parse_int("--sweep-workers", tok, 1, 1024, &n))
			return false;
		o->sweep[o->nr_sweep++] = n;
	}
	if (!o->nr_sweep) {
		mmt_errmsg("invalid --sweep-workers '%s': expected worker counts such as 1,2,4", s);
		return false;
	}
	return true;
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "suite", required_argument, NULL, 's' },
		{ "duration", required_argument, NULL, 'd' },
		{ "workers", required_argument, NULL, 'w' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "output", required_argument, NULL, 'o' },
		{ "param", required_argument, NULL, 'p' },
		{ "warmup", required_argument, NULL, OPT_WARMUP },
		{ "run-id", required_argument, NULL, OPT_RUN_ID },
		{ "cpu-node", required_argument, NULL, OPT_CPU_NODE },
		{ "mem-node", required_argument, NULL, OPT_MEM_NODE },
		{ "inject", required_argument, NULL, OPT_INJECT },
		{ "allow-destructive", no_argument, NULL, OPT_DESTRUCTIVE },
		{ "grace", required_argument, NULL, OPT_GRACE },
		{ "lock-timeout", required_argument, NULL, OPT_LOCK_TIMEOUT },
		{ "sweep-workers", required_argument, NULL, OPT_SWEEP },
		{ "strict", no_argument, NULL, OPT_STRICT },
		{ "known-bugs", required_argument, NULL, OPT_KNOWN_BUGS },
		{ "numa-matrix", no_argument, NULL, OPT_NUMA_MATRIX },
		{ "matrix-min-free", required_argument, NULL, OPT_MATRIX_MIN_FREE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mmt_run_opts o = {
		.duration = 10, .warmup = 1, .grace = 10, .lock_timeout = 600, .repeat = 1,
		.outdir = "results", .cpu_node = -1, .mem_node = -1,
		.matrix_min_free = 256ull << 20,
	};
	const struct mmt_workload *const *all;
	const struct mmt_workload **sel = NULL;
	const char *suite = NULL;
	size_t nall, i;
	int c, nsel = 0, ret;

	o.params = calloc((size_t)argc + 1, sizeof(char *));
	if (!o.params)
		return MMT_ERROR;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:d:w:r:o:p:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			suite = optarg;
			break;
		case 'd':
			if (!parse_seconds("--duration", optarg, 1, 86400, &o.duration))
				return MMT_ERROR;
			break;
		case OPT_WARMUP:
			if (!parse_seconds("--warmup", optarg, 0, 3600, &o.warmup))
				return MMT_ERROR;
			break;
		case OPT_GRACE:
			if (!parse_seconds("--grace", optarg, 0.1, 3600, &o.grace))
				return MMT_ERROR;
			break;
		case OPT_LOCK_TIMEOUT:
			if (!parse_seconds("--lock-timeout", optarg, 0, 86400, &o.lock_timeout))
				return MMT_ERROR;
			break;
		case 'w':
			if (!parse_int("--workers", optarg, 1, 1024, &o.workers))
				return MMT_ERROR;
			break;
		case 'r':
			if (!parse_int("--repeat", optarg, 1, 1000, &o.repeat))
				return MMT_ERROR;
			break;
		case 'o':
			if (!*optarg)
				return mmt_usage_error("run", "empty --output directory");
			o.outdir = optarg;
			break;
		case 'p':
			o.params[o.nr_params++] = optarg;
			break;
		case OPT_RUN_ID:
			if (!*optarg || strchr(optarg, '/') || optarg[0] == '.')
				return mmt_usage_error("run", "invalid --run-id '%s': a plain name without '/'",
						 optarg);
			o.run_id = optarg;
			break;
		case OPT_CPU_NODE:
			if (!parse_node("--cpu-node", optarg, &o.cpu_node))
				return MMT_ERROR;
			break;
		case OPT_MEM_NODE:
			if (!parse_node("--mem-node", optarg, &o.mem_node))
				return MMT_ERROR;
			break;
		case OPT_INJECT:
			if (!strcmp(optarg, "corrupt"))
				o.inject |= MMT_INJECT_CORRUPT;
			else if (!strcmp(optarg, "splat"))
				o.inject |= MMT_INJECT_SPLAT;
			else
				return mmt_usage_error("run", "invalid --inject '%s': must be corrupt or splat",
						 optarg);
			break;
		case OPT_SWEEP:
			if (!parse_sweep(optarg, &o))
				return MMT_ERROR;
			break;
		case OPT_DESTRUCTIVE:
			o.allow_destructive = true;
			break;
		case OPT_STRICT:
			o.strict = true;
			break;
		case OPT_KNOWN_BUGS:
			if (access(optarg, R_OK)) {
				mmt_errmsg("invalid --known-bugs '%s': %s", optarg, strerror(errno));
				return MMT_ERROR;
			}
			setenv("MMT_KNOWN_BUGS", optarg, 1);
			break;
		case OPT_NUMA_MATRIX:
			o.numa_matrix = true;
			break;
		case OPT_MATRIX_MIN_FREE:
			if (!mmt_parse_size(optarg, &o.matrix_min_free))
				return mmt_usage_error("run", "invalid --matrix-min-free '%s': a size such as 256m",
						 optarg);
			break;
		case 'h':
			fputs(run_usage, stdout);
			return 0;
		case ':':
			return mmt_usage_error("run", "option %s needs a value", argv[optind - 1]);
		default:
			return mmt_usage_error("run", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (o.numa_matrix && (o.cpu_node >= 0 || o.mem_node >= 0 || o.nr_sweep))
		return mmt_usage_error("run", "--numa-matrix places the workers itself: not with --cpu-node, --mem-node or --sweep-workers");
	all = mmt_workloads(&nall);
	sel = calloc(nall + (size_t)argc + 1, sizeof(*sel));
	if (!sel)
		return MMT_ERROR;
	for (; optind < argc; optind++) {
		const struct mmt_workload *wl = mmt_find_workload(argv[optind]);

		if (!wl)
			return mmt_usage_error("run", "unknown workload '%s' (see `mmtorture list`)",
					 argv[optind]);
		sel[nsel++] = wl;
	}
	if (suite || !nsel) {
		const char *s = suite ? suite : "quick";
		int before = nsel;

		for (i = 0; i < nall; i++)
			if (!strcmp(all[i]->suite, s))
				sel[nsel++] = all[i];
		if (nsel == before)
			return mmt_usage_error("run", "unknown or empty suite '%s' (suites: quick, destructive)",
					 s);
	}
	if (o.inject & MMT_INJECT_CORRUPT) {
		for (c = 0; c < nsel; c++)
			if (!(sel[c]->injects & MMT_INJECT_CORRUPT))
				return mmt_usage_error("run", "workload %s has no --inject corrupt mode",
						 sel[c]->name);
	}
	if (!mmt_params_valid(sel, nsel, &o))
		return MMT_ERROR;
	o.tty = isatty(STDERR_FILENO);
	ret = mmt_run(sel, nsel, &o);
	free(sel);
	free(o.params);
	return ret;
}

/* ------------------------------------------------------- info, restore */

static int cmd_info(int argc, char **argv)
{
	bool as_json = false;
	json_t *info;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			as_json = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(info_usage, stdout);
			return 0;
		} else {
			return mmt_usage_error("info", "unexpected argument '%s'", argv[i]);
		}
	}
	info = mmt_sysinfo();
	json_object_set_new(info, "tool", json_pack("{s:s, s:s}", "version", MMT_VERSION, "git",
						    mmt_git_version()));
	if (as_json) {
		json_dumpf(info, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	} else {
		mmt_sysinfo_print(info, stdout);
	}
	json_decref(info);
	return 0;
}

static int cmd_restore(int argc, char **argv)
{
	int ret;

	if (argc > 1) {
		if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
			fputs(restore_usage, stdout);
			return 0;
		}
		return mmt_usage_error("restore", "unexpected argument '%s'", argv[1]);
	}
	ret = mmt_state_open(0);
	if (ret)
		return MMT_ERROR;
	if (!mmt_state_had_stale())
		mmt_msg("nothing to restore: no state left by a killed run in %s\n",
			mmt_state_dir());
	else
		mmt_msg("restored\n");
	mmt_state_close();
	return 0;
}

static int cmd_help(int argc, char **argv);

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
} commands[] = {
	{ "list", cmd_list, list_usage },
	{ "run", cmd_run, run_usage },
	{ "info", cmd_info, info_usage },
	{ "restore", cmd_restore, restore_usage },
	{ "compare", mmt_cmd_compare, mmt_compare_usage },
	{ "report", mmt_cmd_report, mmt_report_usage },
	{ "history", mmt_cmd_history, mmt_history_usage },
	{ "kernel", mmt_cmd_kernel, mmt_kernel_usage },
	{ "vm", mmt_cmd_vm, mmt_vm_usage },
	{ "ab", mmt_cmd_ab, mmt_ab_usage },
	{ "nightly", mmt_cmd_nightly, mmt_nightly_usage },
	{ "calibrate", mmt_cmd_calibrate, mmt_calibrate_usage },
	{ "bugs", mmt_cmd_bugs, mmt_bugs_usage },
	{ "help", cmd_help, main_usage },
};

static int cmd_help(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		fputs(main_usage, stdout);
		return 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[1], commands[i].name)) {
			fputs(commands[i].usage, stdout);
			return 0;
		}
	}
	return mmt_usage_error("help", "unknown command '%s'", argv[1]);
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		fputs(main_usage, stderr);
		return MMT_ERROR;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(main_usage, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("mmtorture %s (%s)\n", MMT_VERSION, mmt_git_version());
		return 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	mmt_errmsg("unknown command '%s' (see `mmtorture --help`)", argv[1]);
	return MMT_ERROR;
}
