// SPDX-License-Identifier: GPL-2.0
/*
 * numamatrix.c - NUMA placement: per-node accounting around every repeat and
 * `run --numa-matrix`.
 *
 * Accounting: the numastat counters of every node (numa_hit, numa_miss,
 * numa_foreign, interleave_hit, local_node, other_node; pages) are read before
 * the workers start and after they are reaped, and the delta goes into the
 * repeat's record.  Just before the workers are stopped, /proc/PID/numa_maps of
 * every worker process says on which nodes the workload's memory is; when a
 * memory node (or interleave) was asked for, placement_check says whether the
 * memory landed there, and a repeat where it did not carries a note.
 *
 * The matrix: for every CPU node (a hwloc NUMA node with CPUs) and every memory
 * node (one with memory), the workload runs with its workers on that node's
 * CPUs and its memory, hugetlb pages included, bound to that node; then once
 * more per CPU node with memory interleaved over every memory node.  A memory
 * node with less free memory than --matrix-min-free is skipped, with the
 * reason in its cell.  The cells go into one record per workload
 * (numa_matrix); its top-level metrics are empty, each cell has its own.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hwloc.h>

#include "numamatrix.h"

#define MAX_NODES 64

/* -------------------------------------------------------------- numastat */

static const char *const numastat_keys[] = {
	"numa_hit", "numa_miss", "numa_foreign", "interleave_hit", "local_node", "other_node", NULL,
};

static bool node_dir(const char *name, int *id)
{
	char *end;
	long v;

	if (strncmp(name, "node", 4) || !isdigit((unsigned char)name[4]))
		return false;
	v = strtol(name + 4, &end, 10);
	if (*end || v < 0 || v >= 4096)
		return false;
	*id = (int)v;
	return true;
}

json_t *mmt_numastat_read(void)
{
	json_t *all = json_object();
	struct dirent *de;
	DIR *d = opendir("/sys/devices/system/node");
	char path[PATH_MAX], line[128], key[16];
	int id, i;

	while (d && (de = readdir(d))) {
		json_t *n;
		FILE *f;

		if (!node_dir(de->d_name, &id))
			continue;
		snprintf(path, sizeof(path), "/sys/devices/system/node/%s/numastat", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		n = json_object();
		while (fgets(line, sizeof(line), f)) {
			char *sp = strchr(line, ' ');

			if (!sp)
				continue;
			*sp = '\0';
			for (i = 0; numastat_keys[i]; i++)
				if (!strcmp(line, numastat_keys[i]))
					json_object_set_new(n, line,
							    json_integer(strtoll(sp + 1, NULL, 10)));
		}
		fclose(f);
		snprintf(key, sizeof(key), "%d", id);
		json_object_set_new(all, key, n);
	}
	if (d)
		closedir(d);
	return all;
}

json_t *mmt_numastat_delta(json_t *before, json_t *after)
{
	json_t *d = json_object(), *na, *v;
	const char *node, *k;

	json_object_foreach(after, node, na) {
		json_t *nb = json_object_get(before, node), *nd = json_object();

		json_object_foreach(na, k, v)
			json_object_set_new(nd, k, json_integer(json_integer_value(v) -
						  json_integer_value(json_object_get(nb, k))));
		json_object_set_new(d, node, nd);
	}
	return d;
}

/* ------------------------------------------------------------- numa_maps */

/* A mapping that holds the workload's memory (not the program or a library). */
static bool workload_mapping(const char *line)
{
	const char *file = strstr(line, " file=");

	if (!file)
		return true;	/* anonymous, heap, stack, unnamed hugetlb */
	file += 6;
	return !strncmp(file, "/memfd:", 7) || !strncmp(file, "/dev/shm/", 9) ||
	       !strncmp(file, "/dev/zero", 9) || !strncmp(file, "/SYSV", 5) ||
	       strstr(file, "/mmtorture-") || strstr(file, "/mnt-") || strstr(line, " huge ");
}

static void numa_maps_add(pid_t pid, long long *kb, int *maxnode)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/numa_maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (getline(&line, &cap, f) > 0) {
		long long pages[MAX_NODES] = { 0 }, pkb = 4;
		char *tok, *save = NULL;
		int n;

		if (!workload_mapping(line))
			continue;
		for (tok = strtok_r(line, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
			if (tok[0] == 'N' && isdigit((unsigned char)tok[1])) {
				n = atoi(tok + 1);
				if (n >= 0 && n < MAX_NODES && strchr(tok, '='))
					pages[n] += strtoll(strchr(tok, '=') + 1, NULL, 10);
			} else if (!strncmp(tok, "kernelpagesize_kB=", 18)) {
				pkb = strtoll(tok + 18, NULL, 10);
			}
		}
		for (n = 0; n < MAX_NODES; n++) {
			if (!pages[n])
				continue;
			kb[n] += pages[n] * pkb;
			if (n > *maxnode)
				*maxnode = n;
		}
	}
	free(line);
	fclose(f);
}

json_t *mmt_numa_memory(const pid_t *pids, int n)
{
	long long kb[MAX_NODES] = { 0 }, total = 0;
	json_t *by = json_object();
	char key[16];
	int i, maxnode = -1;

	for (i = 0; i < n; i++)
		numa_maps_add(pids[i], kb, &maxnode);
	for (i = 0; i <= maxnode; i++) {
		if (!kb[i])
			continue;
		snprintf(key, sizeof(key), "%d", i);
		json_object_set_new(by, key, json_integer(kb[i]));
		total += kb[i];
	}
	return json_pack("{s:o, s:I, s:i}", "kb_by_node", by, "kb", (json_int_t)total,
			 "processes", n);
}

/* Below this much workload memory the check says nothing (too little to tell). */
#define PLACEMENT_MIN_KB 1024
/* Bound to a node: at least this fraction of the memory must be there. */
#define PLACEMENT_BOUND_MIN 0.80

bool mmt_numa_account(json_t *rep, const struct mmt_run_opts *o, json_t *numastat,
		      json_t *memory, char *why, size_t len)
{
	json_t *by = json_object_get(memory, "kb_by_node"), *chk, *v;
	long long total = json_integer_value(json_object_get(memory, "kb"));
	const char *k;
	bool held = true;
	int i, nr_set = 0;

	why[0] = '\0';
	json_object_set_new(rep, "numastat", numastat ? numastat : json_object());
	json_object_set_new(rep, "memory_nodes", memory ? json_incref(memory) : json_null());
	if (!memory || (o->mem_node < 0 && !o->interleave))
		return true;
	chk = json_object();
	if (o->interleave) {
		json_t *set = json_array();

		for (i = 0; i < MAX_NODES; i++) {
			if (o->interleave_mask & (1ull << i)) {
				json_array_append_new(set, json_integer(i));
				nr_set++;
			}
		}
		json_object_set_new(chk, "asked", json_string("interleave"));
		json_object_set_new(chk, "nodes", set);
		/* every node of the set holds at least half its fair share */
		for (i = 0; i < MAX_NODES && total >= PLACEMENT_MIN_KB; i++) {
			char key[16];
			double f;

			if (!(o->interleave_mask & (1ull << i)))
				continue;
			snprintf(key, sizeof(key), "%d", i);
			f = (double)json_integer_value(json_object_get(by, key)) / (double)total;
			if (f < 0.5 / nr_set && held) {
				held = false;
				snprintf(why, len, "memory did not interleave: node %d holds %.0f %% of the workload's %lld kB, want at least %.0f %%",
					 i, 100 * f, total, 50.0 / nr_set);
			}
		}
	} else {
		char key[16];
		double f;

		snprintf(key, sizeof(key), "%d", o->mem_node);
		f = total ? (double)json_integer_value(json_object_get(by, key)) / (double)total : 0;
		json_object_set_new(chk, "asked", json_integer(o->mem_node));
		json_object_set_new(chk, "fraction_on_asked", json_real(f));
		if (total >= PLACEMENT_MIN_KB && f < PLACEMENT_BOUND_MIN) {
			int off = 0;

			held = false;
			off = snprintf(why, len, "memory did not land on node %d: %.0f %% there of the workload's %lld kB (",
				       o->mem_node, 100 * f, total);
			json_object_foreach(by, k, v)
				off += snprintf(why + off, len > (size_t)off ? len - (size_t)off : 0,
						"%snode %s %lld kB", off && why[off - 1] != '(' ? ", " : "",
						k, (long long)json_integer_value(v));
			snprintf(why + off, len > (size_t)off ? len - (size_t)off : 0, ")");
		}
	}
	json_object_set_new(chk, "memory_kb", json_integer(total));
	json_object_set_new(chk, "held", total >= PLACEMENT_MIN_KB ? json_boolean(held) :
					  json_null());
	if (total < PLACEMENT_MIN_KB)
		json_object_set_new(chk, "note", json_string("too little workload memory to tell"));
	if (!held)
		json_object_set_new(chk, "reason", json_string(why));
	json_object_set_new(rep, "placement_check", chk);
	return held;
}

/* ---------------------------------------------------------------- nodes */

struct node_info {
	int id;
	bool cpus;
	long long mem_kb, free_kb;
};

static long long node_free_kb(int id)
{
	char path[96], key[32];

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo", id);
	snprintf(key, sizeof(key), "Node %d MemFree", id);
	if (!access(path, R_OK))
		return mmt_proc_field_kb(path, key);
	return id == 0 ? mmt_proc_field_kb("/proc/meminfo", "MemFree") : -1;
}

static int nodes_read(struct node_info *nodes, int max)
{
	hwloc_topology_t topo;
	hwloc_obj_t obj = NULL;
	int n = 0;

	if (!hwloc_topology_init(&topo) && !hwloc_topology_load(topo)) {
		while ((obj = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_NUMANODE, obj)) &&
		       n < max) {
			nodes[n].id = (int)obj->os_index;
			nodes[n].cpus = obj->cpuset && !hwloc_bitmap_iszero(obj->cpuset);
			nodes[n].mem_kb = (long long)(obj->attr->numanode.local_memory >> 10);
			nodes[n].free_kb = node_free_kb(nodes[n].id);
			n++;
		}
		hwloc_topology_destroy(topo);
	}
	if (!n) {	/* no NUMA in this kernel: one node with everything */
		nodes[0] = (struct node_info){ .id = 0, .cpus = true,
			.mem_kb = mmt_proc_field_kb("/proc/meminfo", "MemTotal"),
			.free_kb = mmt_proc_field_kb("/proc/meminfo", "MemFree") };
		n = 1;
	}
	return n;
}

/* ------------------------------------------------------------- emulation */

static bool vm_json_tcg(const char *rundir)
{
	char path[PATH_MAX];
	json_t *j;
	bool tcg;

	if (!rundir)
		return false;
	snprintf(path, sizeof(path), "%s/vm.json", rundir);
	j = json_load_file(path, 0, NULL);
	tcg = j && !strcmp(json_string_value(json_object_get(j, "accel")) ?: "", "tcg");
	json_decref(j);
	return tcg;
}

bool mmt_record_emulated(json_t *rec, const char *rundir, char *how, size_t len)
{
	json_t *sys = json_object_get(rec, "system");
	const char *cmdline = json_string_value(json_object_get(json_object_get(sys, "kernel"),
								"cmdline")) ?: "";
	const char *cpu = json_string_value(json_object_get(sys, "cpu_model")) ?: "";

	if (strstr(cmdline, "mmt.accel=tcg"))
		snprintf(how, len, "the guest kernel command line says mmt.accel=tcg");
	else if (!strncmp(cpu, "QEMU TCG", 8))
		snprintf(how, len, "the CPU model is \"%s\"", cpu);
	else if (vm_json_tcg(rundir))
		snprintf(how, len, "vm.json beside the record says accel tcg");
	else
		return false;
	return true;
}

/* ---------------------------------------------------------------- cells */

void mmt_matrix_cell_name(json_t *cell, char *buf, size_t len)
{
	json_t *m = json_object_get(cell, "mem_node");

	if (json_is_integer(m))
		snprintf(buf, len, "cpu%lld mem%lld",
			 (long long)json_integer_value(json_object_get(cell, "cpu_node")),
			 (long long)json_integer_value(m));
	else
		snprintf(buf, len, "cpu%lld interleave",
			 (long long)json_integer_value(json_object_get(cell, "cpu_node")));
}

json_t *mmt_matrix_find_cell(json_t *matrix, const char *name)
{
	char buf[64];
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(matrix, "cells"), i, c) {
		mmt_matrix_cell_name(c, buf, sizeof(buf));
		if (!strcmp(buf, name))
			return c;
	}
	return NULL;
}

static void add_counts(json_t *sum, json_t *delta)
{
	json_t *nd, *v;
	const char *node, *k;

	json_object_foreach(delta, node, nd) {
		json_t *s = json_object_get(sum, node);

		if (!s) {
			s = json_object();
			json_object_set_new(sum, node, s);
		}
		json_object_foreach(nd, k, v)
			json_object_set_new(s, k, json_integer(json_integer_value(json_object_get(s, k)) +
							       json_integer_value(v)));
	}
}

/* The cell of a run: its verdict, metrics and accounting, from its record. */
static json_t *cell_from_record(json_t *cell, json_t *rec)
{
	json_t *numastat = json_object(), *notes = json_array(), *rep, *chk = NULL, *x;
	json_t *held = json_true();
	size_t i, j;

	json_object_set(cell, "status", json_object_get(rec, "status"));
	json_object_set(cell, "reason", json_object_get(rec, "reason"));
	if (json_object_get(rec, "known_bug"))
		json_object_set(cell, "known_bug", json_object_get(rec, "known_bug"));
	json_object_set(cell, "metrics", json_object_get(rec, "metrics"));
	json_object_set_new(cell, "splats",
			    json_integer((json_int_t)json_array_size(json_object_get(rec, "splats"))));
	json_array_foreach(json_object_get(rec, "repeats"), i, rep) {
		json_t *c = json_object_get(rep, "placement_check");

		add_counts(numastat, json_object_get(rep, "numastat"));
		json_array_foreach(json_object_get(rep, "notes"), j, x)
			json_array_append(notes, x);
		if (c) {
			chk = c;
			if (json_is_false(json_object_get(c, "held")))
				held = json_false();
			else if (json_is_null(json_object_get(c, "held")) && json_is_true(held))
				held = json_null();
		}
		json_object_set(cell, "memory_nodes", json_object_get(rep, "memory_nodes"));
	}
	json_object_set_new(cell, "numastat", numastat);
	json_object_set_new(cell, "notes", notes);
	json_object_set(cell, "placement_check", chk ?: json_null());
	json_object_set(cell, "placement_held", chk ? held : json_null());
	return cell;
}

static void print_matrix(const struct mmt_workload *wl, json_t *matrix)
{
	json_t *cols = json_object_get(matrix, "mem_columns"), *rows = json_object_get(matrix, "cpu_nodes");
	json_t *row, *col;
	size_t i, j;
	char name[64], cell[64];

	mmt_msg("\n%s: NUMA matrix, %s (rows: CPU node, columns: memory node)\n", wl->name,
		wl->metrics ? wl->metrics[0].name : "-");
	mmt_msg("%-8s", "");
	json_array_foreach(cols, j, col) {
		if (json_is_integer(col))
			snprintf(cell, sizeof(cell), "mem%lld", (long long)json_integer_value(col));
		else
			snprintf(cell, sizeof(cell), "%s", json_string_value(col));
		mmt_msg(" %-20s", cell);
	}
	mmt_msg("\n");
	json_array_foreach(rows, i, row) {
		mmt_msg("cpu%-5lld", (long long)json_integer_value(row));
		json_array_foreach(cols, j, col) {
			json_t *c, *s;
			const char *st;

			if (json_is_integer(col))
				snprintf(name, sizeof(name), "cpu%lld mem%lld",
					 (long long)json_integer_value(row), (long long)json_integer_value(col));
			else
				snprintf(name, sizeof(name), "cpu%lld interleave",
					 (long long)json_integer_value(row));
			c = mmt_matrix_find_cell(matrix, name);
			st = json_string_value(json_object_get(c, "status")) ?: "-";
			s = json_object_get(json_object_get(json_object_get(json_object_get(c, "metrics"),
				wl->metrics ? wl->metrics[0].name : ""), "summary"), "mean");
			if (!strcmp(st, "PASS") && json_is_number(s))
				snprintf(cell, sizeof(cell), "%.4g%s", json_number_value(s),
					 json_is_false(json_object_get(c, "placement_held")) ? " !misplaced" : "");
			else
				snprintf(cell, sizeof(cell), "%s", st);
			mmt_msg(" %-20s", cell);
		}
		mmt_msg("\n");
	}
	json_array_foreach(json_object_get(matrix, "cells"), i, col) {
		const char *st = json_string_value(json_object_get(col, "status")) ?: "";

		mmt_matrix_cell_name(col, name, sizeof(name));
		if (strcmp(st, "PASS"))
			mmt_msg("  %s: %s: %s\n", name, st,
				json_string_value(json_object_get(col, "reason")) ?: "");
		if (json_is_false(json_object_get(col, "placement_held")))
			mmt_msg("  %s: FLAGGED: %s\n", name,
				json_string_value(json_object_get(json_object_get(col, "placement_check"),
								  "reason")) ?: "");
	}
	if (json_string_value(json_object_get(matrix, "note")))
		mmt_msg("  note: %s\n", json_string_value(json_object_get(matrix, "note")));
}

int mmt_numa_matrix(const struct mmt_workload *wl, struct mmt_run_opts *o, json_t *sys,
		    const char *run_id, const char *rundir)
{
	struct node_info nodes[MAX_NODES];
	json_t *matrix, *cells = json_array(), *cpus = json_array(), *mems = json_array();
	json_t *rec = NULL, *splats = json_array(), *x;
	int nr, i, j, status = MMT_PASS, nr_mem = 0, nr_cpu = 0, nr_ok_mem = 0, ret;
	unsigned long long ok_mask = 0;
	long long min_kb = (long long)(o->matrix_min_free >> 10);
	char path[PATH_MAX], how[256], reason[1024] = "", name[64];
	size_t k;

	nr = nodes_read(nodes, MAX_NODES);
	for (i = 0; i < nr; i++) {
		if (nodes[i].cpus) {
			json_array_append_new(cpus, json_integer(nodes[i].id));
			nr_cpu++;
		}
		if (nodes[i].mem_kb > 0) {
			json_array_append_new(mems, json_integer(nodes[i].id));
			nr_mem++;
			if (nodes[i].free_kb >= min_kb && nodes[i].id < MAX_NODES) {
				ok_mask |= 1ull << nodes[i].id;
				nr_ok_mem++;
			}
		}
	}
	matrix = json_pack("{s:O, s:O, s:I}", "cpu_nodes", cpus, "mem_nodes", mems,
			   "min_free_kb", (json_int_t)min_kb);
	json_object_set_new(matrix, "mem_columns", json_deep_copy(mems));
	if (nr_mem > 1)
		json_array_append_new(json_object_get(matrix, "mem_columns"),
				      json_string("interleave"));
	json_object_set_new(matrix, "nodes", json_array());
	for (i = 0; i < nr; i++)
		json_array_append_new(json_object_get(matrix, "nodes"),
				      json_pack("{s:i, s:b, s:I, s:I}", "id", nodes[i].id, "cpus",
						nodes[i].cpus, "memory_kb", (json_int_t)nodes[i].mem_kb,
						"free_kb_at_start", (json_int_t)nodes[i].free_kb));
	if (nr_cpu == 1 && nr_mem == 1)
		json_object_set_new(matrix, "note", json_string(
			"one NUMA node on this machine: the matrix is one cell (node 0 CPUs, node 0 memory) and has no interleaved column; it says nothing about remote memory"));
	x = json_pack("{s:O}", "system", sys);
	if (mmt_record_emulated(x, NULL, how, sizeof(how))) {
		json_object_set_new(matrix, "emulated", json_pack("{s:s, s:s}", "accel", "tcg", "how", how));
		json_object_set_new(matrix, "warning", json_string(
			"recorded in an emulated guest (QEMU TCG): its NUMA nodes are one host memory with no NUMA latency, so this matrix is not a NUMA performance result"));
	}
	json_decref(x);
	mmt_msg("%s: NUMA matrix: %d CPU node%s x %d memory node%s%s\n", wl->name, nr_cpu,
		nr_cpu == 1 ? "" : "s", nr_mem, nr_mem == 1 ? "" : "s",
		nr_mem > 1 ? " + interleaved" : "");

	for (i = 0; i < nr; i++) {
		if (!nodes[i].cpus)
			continue;
		for (j = 0; j <= nr; j++) {
			bool il = j == nr;
			json_t *cell;
			int st;

			if (il && nr_mem < 2)
				break;
			if (!il && nodes[j].mem_kb <= 0)
				continue;
			cell = json_pack("{s:i, s:o}", "cpu_node", nodes[i].id, "mem_node",
					 il ? json_string("interleave") : json_integer(nodes[j].id));
			json_array_append_new(cells, cell);
			mmt_matrix_cell_name(cell, name, sizeof(name));
			if (mmt_run_interrupted()) {
				json_object_set_new(cell, "status", json_string("ERROR"));
				json_object_set_new(cell, "reason", json_string("not run: the run was interrupted"));
				status = mmt_worse(status, MMT_ERROR);
				continue;
			}
			if (!il && nodes[j].free_kb < min_kb) {
				snprintf(reason, sizeof(reason),
					 "node %d has %lld MiB free, the matrix needs %lld MiB (--matrix-min-free)",
					 nodes[j].id, nodes[j].free_kb >> 10, min_kb >> 10);
				json_object_set_new(cell, "status", json_string("SKIP"));
				json_object_set_new(cell, "reason", json_string(reason));
				mmt_msg("%s [%s]: SKIP: %s\n", wl->name, name, reason);
				status = mmt_worse(status, MMT_SKIP);
				continue;
			}
			if (il && nr_ok_mem < 2) {
				snprintf(reason, sizeof(reason),
					 "fewer than two memory nodes have %lld MiB free (--matrix-min-free)",
					 min_kb >> 10);
				json_object_set_new(cell, "status", json_string("SKIP"));
				json_object_set_new(cell, "reason", json_string(reason));
				mmt_msg("%s [%s]: SKIP: %s\n", wl->name, name, reason);
				status = mmt_worse(status, MMT_SKIP);
				continue;
			}
			o->cpu_node = nodes[i].id;
			o->mem_node = il ? -1 : nodes[j].id;
			o->interleave = il;
			o->interleave_mask = il ? ok_mask : 0;
			if (il) {
				json_t *set = json_array();
				int b;

				for (b = 0; b < MAX_NODES; b++)
					if (ok_mask & (1ull << b))
						json_array_append_new(set, json_integer(b));
				json_object_set_new(cell, "interleave_nodes", set);
			}
			mmt_msg("== %s [%s]\n", wl->name, name);
			x = NULL;
			st = mmt_run_cell(wl, o, sys, run_id, rundir, &x);
			o->cpu_node = o->mem_node = -1;
			o->interleave = false;
			o->interleave_mask = 0;
			if (!x) {
				json_object_set_new(cell, "status", json_string(mmt_status_name(st)));
				status = mmt_worse(status, st);
				continue;
			}
			cell_from_record(cell, x);
			status = mmt_worse(status, st);
			json_array_extend(splats, json_object_get(x, "splats"));
			if (!rec) {
				rec = x;
			} else {
				json_object_set(rec, "finished", json_object_get(x, "finished"));
				json_decref(x);
			}
		}
	}
	json_object_set_new(matrix, "cells", cells);
	if (!rec) {	/* nothing ran: a record all the same, with every reason */
		rec = json_pack("{s:s, s:{s:s, s:s, s:s}, s:s, s:s, s:s, s:s}", "schema",
				MMT_RECORD_SCHEMA, "tool", "name", "mmtorture", "version", MMT_VERSION,
				"git", mmt_git_version(), "run_id", run_id, "workload", wl->name,
				"summary", wl->summary, "suite", wl->suite);
		json_object_set(rec, "system", sys);
		json_object_set_new(rec, "main_metric", wl->metrics ? json_string(wl->metrics[0].name) :
								      json_null());
	}
	json_object_set_new(rec, "headline_metrics", mmt_headline_json(wl));
	/* the matrix record: the cells hold the metrics and the accounting */
	json_object_set_new(rec, "status", json_string(mmt_status_name(status)));
	json_object_set_new(rec, "exit_code", json_integer(status == MMT_XFAIL ?
							   (o->strict ? MMT_FAIL : 0) : status));
	reason[0] = '\0';
	json_array_foreach(cells, k, x) {
		const char *st = json_string_value(json_object_get(x, "status")) ?: "";

		if (!strcmp(st, mmt_status_name(status)) && status != MMT_PASS && !reason[0]) {
			mmt_matrix_cell_name(x, name, sizeof(name));
			snprintf(reason, sizeof(reason), "%s: %s", name,
				 json_string_value(json_object_get(x, "reason")) ?: st);
		}
	}
	json_object_set_new(rec, "reason", reason[0] ? json_string(reason) : json_null());
	json_object_del(rec, "known_bug");
	json_object_del(rec, "known_bugs_not_seen");
	json_object_set_new(rec, "placement", json_pack("{s:n, s:n, s:b}", "cpu_node", "mem_node",
						       "numa_matrix", 1));
	json_object_set_new(rec, "metrics", json_object());
	json_object_set_new(rec, "repeats", json_array());
	json_object_set_new(rec, "splats", splats);
	json_object_set_new(rec, "numa_matrix", matrix);
	snprintf(path, sizeof(path), "%s/%s.json", rundir, wl->name);
	ret = mmt_record_write(path, rec);
	if (ret) {
		mmt_errmsg("cannot write %s: %s", path, strerror(-ret));
		status = mmt_worse(status, MMT_ERROR);
	}
	print_matrix(wl, matrix);
	json_decref(rec);
	json_decref(cpus);
	json_decref(mems);
	return status;
}
