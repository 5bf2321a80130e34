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
	if (failures) {
		printf("0 passed, %d failed\n", failures);
		return 1;
	}
	printf("ok: records\n");
	return 0;
}
