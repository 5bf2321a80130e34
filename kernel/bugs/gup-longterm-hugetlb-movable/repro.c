// SPDX-License-Identifier: GPL-2.0
/*
 * repro.c - a FOLL_LONGTERM pin of a hugetlb page in ZONE_MOVABLE WARNs in
 * follow_hugetlb_page() and fails with -ENOMEM instead of migrating the page
 * (Linux 6.1.y).
 *
 * io_uring fixed-buffer registration pins with FOLL_LONGTERM.  A hugetlb page
 * in ZONE_MOVABLE must first be migrated out of it; on 6.1, try_grab_folio()
 * refuses the longterm grab and follow_hugetlb_page() treats that as a
 * refcount overflow: WARN_ON_ONCE, then -ENOMEM.
 *
 * This program adds a few 2 MiB hugetlb pages to the pool, maps them, finds
 * one whose memory block is in ZONE_MOVABLE, and registers it as an io_uring
 * fixed buffer.  Correct: the registration succeeds (the page is migrated).
 * It needs memory onlined movable: boot with movablecore=, or online a
 * hot-plugged block with `echo online_movable > /sys/devices/system/memory/
 * memoryN/state` before running it.
 *
 *   gcc -O2 -o repro repro.c && sudo ./repro
 *
 * exit: 1 the bug shows, 0 it does not, 77 this machine cannot run it (why is
 * printed).  nr_hugepages is put back before it exits, also on failure and on
 * SIGINT/SIGTERM.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/io_uring.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#endif
#ifndef __NR_io_uring_register
#define __NR_io_uring_register 427
#endif

#define NR_HUGE		"/proc/sys/vm/nr_hugepages"
#define FREE_HUGE	"/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"
#define MEMDIR		"/sys/devices/system/memory"
#define HPAGE		(2ul << 20)
#define MAXPAGES	64

static long saved_nr = -1;

static long read_long_base(const char *path, int base)
{
	char buf[64];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtol(buf, NULL, base);
}

static long read_long(const char *path)
{
	return read_long_base(path, 10);
}

static int read_str(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int write_long(const char *path, long v)
{
	char buf[32];
	int fd = open(path, O_WRONLY), len, ret = 0;

	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%ld\n", v);
	if (write(fd, buf, (size_t)len) != len)
		ret = -errno;
	close(fd);
	return ret;
}

static void restore(void)
{
	if (saved_nr >= 0 && write_long(NR_HUGE, saved_nr))
		fprintf(stderr, "repro: could not restore %s to %ld\n", NR_HUGE, saved_nr);
	saved_nr = -1;
}

static void on_signal(int sig)
{
	restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int cannot(const char *fmt, ...)
{
	va_list ap;

	printf("CANNOT RUN: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return 77;
}

/* Zone of the memory block holding pfn: "Movable", "Normal", ... ("" if unknown). */
static void pfn_zone(uint64_t pfn, long block_bytes, char *zone, size_t len)
{
	char path[128];

	snprintf(path, sizeof(path), MEMDIR "/memory%" PRIu64 "/valid_zones",
		 pfn * 4096 / (uint64_t)block_bytes);
	if (read_str(path, zone, len))
		zone[0] = '\0';
	zone[strcspn(zone, " ")] = '\0';
}

static uint64_t va_pfn(int pagemap, const void *va)
{
	uint64_t pm;

	if (pread(pagemap, &pm, 8, (off_t)((uintptr_t)va / 4096 * 8)) != 8 || !(pm >> 63))
		return 0;
	return pm & ((1ull << 55) - 1);
}

/* Print the kernel-log lines that appeared since kmsg was opened at its end. */
static int show_new_kmsg(int kmsg)
{
	char rec[2048];
	int warn = 0;
	ssize_t n;

	if (kmsg < 0)
		return 0;
	while ((n = read(kmsg, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
		char *msg;

		if (n <= 0)
			continue;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = '\0';
		if (strstr(msg, "WARNING") || strstr(msg, "follow_hugetlb_page") ||
		    strstr(msg, "try_grab") || strstr(msg, "RIP:")) {
			printf("  kmsg: %s\n", msg);
			warn += !!strstr(msg, "WARNING");
		}
	}
	return warn;
}

static int run(void)
{
	struct io_uring_params params;
	long nr, freep, block, want;
	int pagemap, kmsg, ring, p, movable = -1, ret, warned;
	uint64_t pfn = 0, pfn_after;
	char zone[64], zone_after[64];
	struct iovec iov;
	char *buf;

	if (geteuid())
		return cannot("needs root (pfns in pagemap, nr_hugepages)");
	nr = read_long(NR_HUGE);
	if (nr < 0 || access(FREE_HUGE, R_OK))
		return cannot("no 2 MiB hugetlb pages in this kernel (CONFIG_HUGETLBFS)");
	block = read_long_base(MEMDIR "/block_size_bytes", 16);	/* hex, no 0x */
	if (block <= 0)
		return cannot("no memory blocks in sysfs (CONFIG_MEMORY_HOTPLUG): cannot tell a page's zone");
	{
		/* is there ZONE_MOVABLE memory at all? */
		FILE *zi = fopen("/proc/zoneinfo", "r");
		char line[256];
		int in_movable = 0, present = 0;

		while (zi && fgets(line, sizeof(line), zi)) {
			if (!strncmp(line, "Node", 4))
				in_movable = strstr(line, "zone  Movable") != NULL;
			else if (in_movable && strstr(line, "present") && atol(strchr(line, 't') + 1) > 0)
				present = 1;
		}
		if (zi)
			fclose(zi);
		if (!present)
			return cannot("no memory in ZONE_MOVABLE (boot with movablecore=, or online a hot-plugged memory block as online_movable)");
	}
	pagemap = open("/proc/self/pagemap", O_RDONLY);
	if (pagemap < 0)
		return cannot("/proc/self/pagemap: %s", strerror(errno));
	memset(&params, 0, sizeof(params));
	ring = (int)syscall(__NR_io_uring_setup, 4, &params);
	if (ring < 0)
		return cannot("io_uring_setup: %s (no io_uring, or kernel.io_uring_disabled)",
			      strerror(errno));

	/* hugetlb pages are allocated movable: add some, hope for one in ZONE_MOVABLE */
	freep = read_long(FREE_HUGE);
	want = freep < MAXPAGES ? MAXPAGES - freep : 0;
	saved_nr = nr;
	if (want && write_long(NR_HUGE, nr + want))
		return cannot("cannot grow %s: %s", NR_HUGE, strerror(errno));
	freep = read_long(FREE_HUGE);
	if (freep < 1)
		return cannot("no free 2 MiB hugetlb page could be allocated");
	if (freep > MAXPAGES)
		freep = MAXPAGES;
	buf = mmap(NULL, (size_t)freep * HPAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (buf == MAP_FAILED)
		return cannot("mmap MAP_HUGETLB of %ld pages: %s", freep, strerror(errno));
	for (p = 0; p < freep; p++) {
		memset(buf + p * HPAGE, 0x5a, HPAGE);
		pfn = va_pfn(pagemap, buf + p * HPAGE);
		if (!pfn)
			return cannot("pagemap shows no pfn for huge page %d", p);
		pfn_zone(pfn, block, zone, sizeof(zone));
		if (!strcmp(zone, "Movable")) {
			movable = p;
			break;
		}
	}
	if (movable < 0)
		return cannot("none of %ld hugetlb pages landed in ZONE_MOVABLE", freep);
	printf("hugetlb page %d of %ld at pfn %#" PRIx64 " is in ZONE_MOVABLE (memory block %" PRIu64 ")\n",
	       movable, freep, pfn, pfn * 4096 / (uint64_t)block);

	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (kmsg >= 0)
		lseek(kmsg, 0, SEEK_END);
	iov.iov_base = buf + movable * HPAGE;
	iov.iov_len = HPAGE;
	ret = (int)syscall(__NR_io_uring_register, ring, IORING_REGISTER_BUFFERS, &iov, 1);
	ret = ret < 0 ? -errno : ret;
	warned = show_new_kmsg(kmsg);
	if (ret) {
		printf("io_uring_register(IORING_REGISTER_BUFFERS) of it: %s%s\n", strerror(-ret),
		       warned ? ", with a WARNING in the kernel log" : "");
		printf("BUG: a FOLL_LONGTERM pin of a hugetlb page in ZONE_MOVABLE failed instead of migrating it\n");
		return 1;
	}
	pfn_after = va_pfn(pagemap, buf + movable * HPAGE);
	pfn_zone(pfn_after, block, zone_after, sizeof(zone_after));
	printf("io_uring_register(IORING_REGISTER_BUFFERS) of it: ok; the page is now at pfn %#" PRIx64 " (%s)\n",
	       pfn_after, zone_after[0] ? zone_after : "zone unknown");
	if (warned) {
		printf("BUG: the pin succeeded but the kernel logged a WARNING\n");
		return 1;
	}
	close(ring);
	munmap(buf, (size_t)freep * HPAGE);
	printf("OK: the longterm pin migrated the page out of ZONE_MOVABLE\n");
	return 0;
}

int main(void)
{
	char rel[128] = "?";
	int fd = open("/proc/sys/kernel/osrelease", O_RDONLY), ret;
	ssize_t n = fd >= 0 ? read(fd, rel, sizeof(rel) - 1) : -1;

	if (n > 0)
		rel[n - 1] = '\0';
	if (fd >= 0)
		close(fd);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	printf("gup-longterm-hugetlb-movable on %s\n", rel);
	ret = run();
	restore();
	return ret;
}
