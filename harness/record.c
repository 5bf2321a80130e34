// SPDX-License-Identifier: GPL-2.0
/*
 * record.c - result records: one JSON document per workload run, written
 * atomically (temp file, fsync, rename) and read back only through jansson.
 * The schema is described in results/README.md.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int mmt_record_write(const char *path, json_t *rec)
{
	char *text;
	size_t len;
	int ret;

	text = json_dumps(rec, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	text[len] = '\0';
	{
		/* end with a newline, like every text file */
		char *t = realloc(text, len + 2);

		if (!t) {
			free(text);
			return -ENOMEM;
		}
		text = t;
		text[len++] = '\n';
		text[len] = '\0';
	}
	ret = mmt_write_atomic(path, text, len);
	free(text);
	return ret;
}

json_t *mmt_record_load(const char *path, char *err, size_t errlen)
{
	json_error_t jerr;
	const char *schema;
	json_t *rec;

	rec = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!rec) {
		if (jerr.line <= 0)
			snprintf(err, errlen, "%s: %s", path, jerr.text);
		else
			snprintf(err, errlen, "%s: not valid JSON at line %d: %s", path,
				 jerr.line, jerr.text);
		return NULL;
	}
	if (!json_is_object(rec)) {
		snprintf(err, errlen, "%s: not a mmtorture record (not a JSON object)", path);
		goto out_put;
	}
	schema = json_string_value(json_object_get(rec, "schema"));
	if (!schema || strcmp(schema, MMT_RECORD_SCHEMA)) {
		snprintf(err, errlen, "%s: unknown record schema '%s' (this mmtorture reads %s)",
			 path, schema ? schema : "(none)", MMT_RECORD_SCHEMA);
		goto out_put;
	}
	if (!json_is_string(json_object_get(rec, "workload")) ||
	    !json_is_string(json_object_get(rec, "status")) ||
	    !json_is_object(json_object_get(rec, "metrics"))) {
		snprintf(err, errlen, "%s: record lacks workload, status or metrics", path);
		goto out_put;
	}
	return rec;

out_put:
	json_decref(rec);
	return NULL;
}
