/* SPDX-License-Identifier: GPL-2.0 */
/*
 * numamatrix.h - NUMA placement: the per-node accounting done around every
 * repeat (numastat deltas, the nodes the workers' memory is on, whether the
 * placement held) and `run --numa-matrix`, which runs each workload once per
 * (CPU node, memory node) cell plus an interleaved column and writes one
 * record holding the whole matrix.
 */
#ifndef MMT_NUMAMATRIX_H
#define MMT_NUMAMATRIX_H

#include <stdbool.h>
#include <sys/types.h>
#include <jansson.h>

#include "internal.h"

/* ---- accounting (runner.c calls these around every repeat) ---- */

/* /sys/devices/system/node/nodeN/numastat of every node: {"0": {numa_hit: ...}, ...} */
json_t *mmt_numastat_read(void);
/* after - before, per node and counter */
json_t *mmt_numastat_delta(json_t *before, json_t *after);
/*
 * The workload's memory by node, from /proc/PID/numa_maps of the worker
 * processes: {"kb_by_node": {"0": kB, ...}, "kb": total, "processes": n}.
 * Counted: anonymous memory, heap, stack, hugetlb, shmem/memfd and files under
 * the run's temporary directories; not the program and its libraries.
 */
json_t *mmt_numa_memory(const pid_t *pids, int n);
/*
 * Put numastat, memory_nodes and placement_check into a repeat's record.
 * Returns false when the workers' memory did not land where --mem-node (or
 * interleave) asked, with the reason in why.
 */
bool mmt_numa_account(json_t *rep, const struct mmt_run_opts *o, json_t *numastat,
		      json_t *memory, char *why, size_t len);

/* ---- run --numa-matrix ---- */

/* One workload over the whole matrix; writes RUNDIR/WORKLOAD.json.  Its status. */
int mmt_numa_matrix(const struct mmt_workload *wl, struct mmt_run_opts *o, json_t *sys,
		    const char *run_id, const char *rundir);
/* runner.c: one workload with the placement in o, its record handed back, not written */
int mmt_run_cell(const struct mmt_workload *wl, struct mmt_run_opts *o, json_t *sys,
		 const char *run_id, const char *rundir, json_t **rec);

/* runner.c: a signal asked the run to stop; the matrix runs no further cell */
bool mmt_run_interrupted(void);

/* ---- reading matrices back (compare.c, report.c) ---- */

/* "cpu0 mem1" / "cpu1 interleave" */
void mmt_matrix_cell_name(json_t *cell, char *buf, size_t len);
json_t *mmt_matrix_find_cell(json_t *matrix, const char *name);
/*
 * Whether a record comes from an emulated guest (QEMU TCG), from its system
 * snapshot (kernel command line mmt.accel=tcg, CPU model "QEMU TCG CPU") or
 * from vm.json beside it in rundir (may be NULL).  how says which.
 */
bool mmt_record_emulated(json_t *rec, const char *rundir, char *how, size_t len);

#endif /* MMT_NUMAMATRIX_H */
