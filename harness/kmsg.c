// SPDX-License-Identifier: GPL-2.0
/*
 * kmsg.c - the kernel-log watch.
 *
 * The runner opens /dev/kmsg and seeks to its end before a workload starts,
 * so only records logged from then on are read: boot-time splats are not the
 * workload's.  Each record is matched against the splat patterns; a match
 * fails the workload, and the matching line plus the lines that follow it
 * (up to MMT_EXCERPT_LINES) go into the record.  OOM kills are noted so that
 * a worker killed by the OOM killer is reported as such, not as corruption.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define MMT_EXCERPT_LINES 40

static const char *const splat_patterns[] = {
	"BUG:",
	"WARNING:",
	"Oops:",
	"Oops -",
	"general protection fault",
	"KASAN:",
	"UBSAN:",
	"KFENCE:",
	"possible circular locking dependency",
	"possible recursive locking",
	"inconsistent lock state",
	"suspicious RCU usage",
	"rcu: INFO:",
	"detected stalls on CPUs",
	"self-detected stall",
	"blocked for more than",
	"Bad page state",
	"Bad page map",
	"Bad rss-counter",
	"soft lockup",
	"hard LOCKUP",
	"Kernel panic",
	"list_add corruption",
	"list_del corruption",
	"kernel BUG at",
	NULL,
};

bool mmt_is_splat(const char *msg)
{
	int i;

	for (i = 0; splat_patterns[i]; i++)
		if (strstr(msg, splat_patterns[i]))
			return true;
	return false;
}

int mmt_kmsg_open(struct mmt_kmsg *k)
{
	memset(k, 0, sizeof(*k));
	k->splats = json_array();
	k->fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (k->fd < 0) {
		snprintf(k->unavailable, sizeof(k->unavailable),
			 "cannot read /dev/kmsg: %s", strerror(errno));
		return -errno;
	}
	if (lseek(k->fd, 0, SEEK_END) < 0) {
		snprintf(k->unavailable, sizeof(k->unavailable),
			 "cannot seek /dev/kmsg: %s", strerror(errno));
		close(k->fd);
		k->fd = -1;
		return -errno;
	}
	return 0;
}

void mmt_kmsg_close(struct mmt_kmsg *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
	json_decref(k->open_excerpt);
	k->open_excerpt = NULL;
	json_decref(k->splats);
	k->splats = NULL;
}

int mmt_kmsg_write(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int fd, ret = 0;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, line, strlen(line)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static void note_oom(struct mmt_kmsg *k, const char *msg)
{
	const char *p = strstr(msg, "Killed process ");

	if (!p || k->nr_oom >= MMT_MAX_OOM)
		return;
	k->oom_pids[k->nr_oom++] = (pid_t)strtol(p + strlen("Killed process "), NULL, 10);
}

bool mmt_kmsg_oom_killed(const struct mmt_kmsg *k, pid_t pid)
{
	int i;

	for (i = 0; i < k->nr_oom; i++)
		if (k->oom_pids[i] == pid)
			return true;
	return false;
}

/* "pri,seq,usec,flags;text\n KEY=val\n..." -> text, unescaping \xNN */
static void record_text(char *rec, char *out, size_t len)
{
	char *p = strchr(rec, ';');
	size_t o = 0;

	p = p ? p + 1 : rec;
	while (*p && *p != '\n' && o + 1 < len) {
		if (p[0] == '\\' && p[1] == 'x' && p[2] && p[3]) {
			char hex[3] = { p[2], p[3], 0 };

			out[o++] = (char)strtol(hex, NULL, 16);
			p += 4;
			continue;
		}
		out[o++] = *p++;
	}
	out[o] = '\0';
}

int mmt_kmsg_poll(struct mmt_kmsg *k)
{
	char rec[8192], text[1024];
	int found = 0;

	if (k->fd < 0)
		return 0;
	for (;;) {
		ssize_t n = read(k->fd, rec, sizeof(rec) - 1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE)	/* overwritten while we slept: go on */
				continue;
			break;		/* EAGAIN: nothing more for now */
		}
		rec[n] = '\0';
		record_text(rec, text, sizeof(text));
		note_oom(k, text);
		if (k->open_excerpt && k->excerpt_left > 0) {
			json_array_append_new(k->open_excerpt, json_string(text));
			if (--k->excerpt_left == 0) {
				json_decref(k->open_excerpt);
				k->open_excerpt = NULL;
			}
		}
		if (!mmt_is_splat(text))
			continue;
		found++;
		if (json_array_size(k->splats) >= MMT_MAX_SPLATS)
			continue;
		json_decref(k->open_excerpt);
		k->open_excerpt = json_array();
		json_array_append_new(k->open_excerpt, json_string(text));
		k->excerpt_left = MMT_EXCERPT_LINES - 1;
		json_array_append_new(k->splats,
				      json_pack("{s:s, s:O}", "line", text,
						"excerpt", k->open_excerpt));
	}
	return found;
}
