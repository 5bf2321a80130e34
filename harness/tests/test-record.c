// SPDX-License-Identifier: GPL-2.0
/* test-record.c - a record written atomically and read back through jansson. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#include "check.h"

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f)) {
		printf("cannot write %s\n", path);
		exit(99);
	}
}

static int files_in(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	if (d)
		closedir(d);
	return n;
}

int main(void)
{
	char dir[] = "/tmp/mmt-test-record-XXXXXX";
	char path[PATH_MAX], err[PATH_MAX + 256];
	json_t *rec, *back;

	if (!mkdtemp(dir))
		return 99;
	snprintf(path, sizeof(path), "%s/w.json", dir);
	rec = json_pack("{s:s, s:s, s:s, s:{s:{s:s, s:[f, f, f]}}}", "schema", MMT_RECORD_SCHEMA,
			"workload", "w", "status", "PASS", "metrics", "ops", "unit", "ops/s",
			"samples", 1.5, 2.5, 3.5);
	CHECK(mmt_record_write(path, rec) == 0, "write");
	CHECK(files_in(dir) == 1, "temp file left behind: %d files", files_in(dir));
	back = mmt_record_load(path, err, sizeof(err));
	CHECK(back, "load: %s", err);
	if (back) {
		CHECK(json_equal(rec, back), "round trip differs");
		json_decref(back);
	}
	/* overwrite is atomic: still one file, new content */
	json_object_set_new(rec, "status", json_string("FAIL"));
	CHECK(mmt_record_write(path, rec) == 0, "rewrite");
	back = mmt_record_load(path, err, sizeof(err));
	CHECK(back && !strcmp(json_string_value(json_object_get(back, "status")), "FAIL"),
	      "rewrite content");
	json_decref(back);
	json_decref(rec);

	put(path, "{\"schema\": \"mmtorture-record/1\", \"workload\": ");
	CHECK(!mmt_record_load(path, err, sizeof(err)) && strstr(err, "not valid JSON"),
	      "truncated: %s", err);
	put(path, "{\"schema\": \"other/9\", \"workload\": \"w\", \"status\": \"PASS\", \"metrics\": {}}");
	CHECK(!mmt_record_load(path, err, sizeof(err)) && strstr(err, "unknown record schema"),
	      "schema: %s", err);
	put(path, "[1, 2]");
	CHECK(!mmt_record_load(path, err, sizeof(err)) && strstr(err, "not a mmtorture record"),
	      "array: %s", err);
	put(path, "{\"schema\": \"mmtorture-record/1\", \"workload\": \"w\"}");
	CHECK(!mmt_record_load(path, err, sizeof(err)) && strstr(err, "lacks"),
	      "incomplete: %s", err);
	unlink(path);
	CHECK(!mmt_record_load(path, err, sizeof(err)) && strlen(err) > 0, "missing file");
	rmdir(dir);

	/* ab merges NUMA matrix records cell by cell: each boot one repeat of every cell */
	{
		json_t *m[2], *merged, *cells;
		int i;

		for (i = 0; i < 2; i++)
			m[i] = json_pack("{s:s, s:s, s:s, s:{}, s:{}, s:{}, s:[], s:[], s:{s:[{s:i, s:i, s:s, s:{s:{s:s, s:[f, f]}}}, {s:i, s:s, s:s, s:{s:{s:s, s:[f]}}}]}}",
					 "schema", MMT_RECORD_SCHEMA, "workload", "w", "status", "PASS",
					 "metrics", "run", "params", "repeats", "splats", "numa_matrix", "cells",
					 "cpu_node", 0, "mem_node", 1, "status", i ? "FAIL" : "PASS",
					 "metrics", "ops", "unit", "ops/s", "samples", 1.0 + i, 2.0 + i,
					 "cpu_node", 0, "mem_node", "interleave", "status", "PASS",
					 "metrics", "ops", "unit", "ops/s", "samples", 5.0);
		merged = mmt_record_merge(m, 2, err, sizeof(err));
		CHECK(merged, "matrix merge: %s", err);
		cells = json_object_get(json_object_get(merged, "numa_matrix"), "cells");
		CHECK(json_array_size(json_object_get(json_object_get(json_object_get(
			json_array_get(cells, 0), "metrics"), "ops"), "samples")) == 4,
		      "cell cpu0 mem1: both boots' samples");
		CHECK(!strcmp(json_string_value(json_object_get(json_array_get(cells, 0), "status")) ?: "",
			      "FAIL"), "cell cpu0 mem1: the worst status");
		CHECK(json_array_size(json_object_get(json_object_get(json_object_get(
			json_array_get(cells, 1), "metrics"), "ops"), "samples")) == 2,
		      "cell cpu0 interleave: both boots' samples");
		json_decref(merged);
		json_decref(m[0]);
		json_decref(m[1]);
	}
	if (failures) {
		printf("0 passed, %d failed\n", failures);
		return 1;
	}
	printf("ok: records\n");
	return 0;
}
