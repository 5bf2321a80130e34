// SPDX-License-Identifier: GPL-2.0
/*
 * repro.c - mincore() on a hugetlb mapping with no page tables reports the
 * page-cache state of the wrong huge pages (Linux 4.15 to 6.6; checked on
 * 6.1.y).
 *
 * When the walk finds no page table for a hugetlb range (PUD not present),
 * mincore looks the range up in the page cache, one 4 KiB entry at a time,
 * starting from linear_page_index().  For hugetlb VMAs that index is in huge
 * pages, so entry j of huge page p asks about huge page p + j.
 *
 * This program makes a hugetlb memfd of 4 huge pages, allocates pages 0 and 2
 * in its page cache (fallocate: no mapping, no page tables), maps the file
 * alone in a fresh 1 GiB-aligned region (so no PUD exists there), and calls
 * mincore() on it without touching it.  Correct: all 512 entries of huge
 * pages 0 and 2 are 1, all of pages 1 and 3 are 0.
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
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif

#define NR_HUGE		"/proc/sys/vm/nr_hugepages"
#define FREE_HUGE	"/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"
#define HPAGE		(2ul << 20)
#define GIB		(1ul << 30)
#define SUBPAGES	512
#define NPAGES		4

static const int cached[NPAGES] = { 1, 0, 1, 0 };
static long saved_nr = -1;

static long read_long(const char *path)
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
	return strtol(buf, NULL, 10);
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

static int run(void)
{
	unsigned char vec[NPAGES * SUBPAGES];
	int fd, p, j, wrong = 0;
	char *resv, *map;
	long nr, freep;

	nr = read_long(NR_HUGE);
	if (nr < 0 || access(FREE_HUGE, R_OK))
		return cannot("no 2 MiB hugetlb pages in this kernel (CONFIG_HUGETLBFS)");
	freep = read_long(FREE_HUGE);
	if (freep < NPAGES / 2) {
		if (geteuid())
			return cannot("needs %d free 2 MiB hugetlb pages (have %ld) or root to add them",
				      NPAGES / 2, freep);
		saved_nr = nr;
		if (write_long(NR_HUGE, nr + NPAGES / 2 - freep))
			return cannot("cannot grow %s: %s", NR_HUGE, strerror(errno));
		if (read_long(FREE_HUGE) < NPAGES / 2)
			return cannot("could not get %d free 2 MiB hugetlb pages", NPAGES / 2);
	}

	fd = memfd_create("mincore-hugetlb-hole", MFD_HUGETLB | MFD_CLOEXEC);
	if (fd < 0)
		return cannot("memfd_create(MFD_HUGETLB): %s", strerror(errno));
	if (ftruncate(fd, NPAGES * HPAGE))
		return cannot("ftruncate of the hugetlb memfd: %s", strerror(errno));
	for (p = 0; p < NPAGES; p++)
		if (cached[p] && fallocate(fd, 0, (off_t)(p * HPAGE), HPAGE))
			return cannot("fallocate huge page %d: %s", p, strerror(errno));

	/* a fresh 1 GiB-aligned region: nothing else there, so no PUD */
	resv = mmap(NULL, 2 * GIB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (resv == MAP_FAILED)
		return cannot("cannot reserve 2 GiB of address space: %s", strerror(errno));
	map = (char *)(((uintptr_t)resv + GIB - 1) & ~(GIB - 1));
	map = mmap(map, NPAGES * HPAGE, PROT_READ, MAP_SHARED | MAP_FIXED | MAP_NORESERVE, fd, 0);
	if (map == MAP_FAILED)
		return cannot("mmap of the hugetlb memfd: %s", strerror(errno));
	if (mincore(map, NPAGES * HPAGE, vec))
		return cannot("mincore: %s", strerror(errno));

	printf("hugetlb file of %d huge pages, in page cache: 0 and 2; mapped untouched at %p\n",
	       NPAGES, (void *)map);
	for (p = 0; p < NPAGES; p++) {
		int ones = 0, first_bad = -1;

		for (j = 0; j < SUBPAGES; j++) {
			int v = vec[p * SUBPAGES + j] & 1;

			ones += v;
			if (v != cached[p] && first_bad < 0)
				first_bad = j;
		}
		printf("huge page %d (%s): %d of %d mincore entries say resident (want %d)",
		       p, cached[p] ? "in page cache" : "hole", ones, SUBPAGES,
		       cached[p] ? SUBPAGES : 0);
		if (first_bad >= 0) {
			printf("; first wrong entry %d", first_bad);
			wrong++;
		}
		printf("\n");
	}
	printf("entries 0-3 of huge page 0: %d %d %d %d\n", vec[0] & 1, vec[1] & 1, vec[2] & 1,
	       vec[3] & 1);
	munmap(resv, 2 * GIB);
	close(fd);
	if (wrong) {
		printf("BUG: mincore reported the wrong page-cache state for %d of %d huge pages of an unmapped hugetlb range (entry j of huge page p looked up huge page p+j)\n",
		       wrong, NPAGES);
		return 1;
	}
	printf("OK: mincore agrees with the page cache for every 4 KiB entry\n");
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
	printf("mincore-hugetlb-hole on %s\n", rel);
	ret = run();
	restore();
	return ret;
}
