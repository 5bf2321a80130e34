// SPDX-License-Identifier: GPL-2.0
/*
 * repro.c - splitting a hugetlb VMA unshares PMD tables without the file's
 * rmap lock (6.1.y since the backport of "mm/hugetlb: unshare page tables
 * during VMA split, not before").
 *
 * hugetlb_split() unshares the PMD tables around a new VMA boundary and
 * relies on its caller holding the mmap lock and the file's i_mmap_rwsem for
 * write; it asserts both.  In 6.1.y __vma_adjust() calls it before taking
 * i_mmap_rwsem, so a hole punch, truncation or rmap walk of the same file
 * can run on the same page tables at the same time.  Lockdep kernels
 * (CONFIG_PROVE_LOCKING) say so on every split: a WARNING at
 * i_mmap_assert_write_locked() in hugetlb_split().
 *
 * This program maps a hugetlb memfd of 1 GiB, MAP_SHARED|MAP_NORESERVE, at
 * a 1 GiB-aligned address (so the VMA may share PMD tables), faults one
 * huge page, then mprotect()s the second huge page, which splits the VMA
 * inside the 1 GiB range, and looks for the warning in the kernel log.
 *
 *   gcc -O2 -o repro repro.c && sudo ./repro
 *
 * exit: 1 the bug shows, 0 it does not, 77 this machine cannot run it (why
 * is printed): the assertion only exists on lockdep kernels, and lockdep
 * must still be on (it switches itself off after its first report).
 * nr_hugepages is put back before it exits, also on failure and on
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

/* 1 lockdep is on, 0 off (or after a report), -1 not a lockdep kernel. */
static int lockdep_on(void)
{
	char line[256];
	int on = -1;
	FILE *f = fopen("/proc/lockdep_stats", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "debug_locks:"))
			on = atoi(strchr(line, ':') + 1) ? 1 : 0;
	fclose(f);
	return on < 0 ? 1 : on;
}

/* Read the kernel log records written since fd was opened; print and count the matches. */
static int scan_kmsg(int fd)
{
	char rec[8192];
	ssize_t n;
	int hits = 0;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: go on */
		if (n <= 0)
			break;
		rec[n] = '\0';
		if (strstr(rec, "WARNING") && strstr(rec, "hugetlb_split")) {
			char *msg = strchr(rec, ';');

			printf("kernel: %s", msg ? msg + 1 : rec);
			hits++;
		}
	}
	return hits;
}

static int run(void)
{
	char *resv, *map;
	long free_pages;
	int fd, kmsg, ld, hits;

	ld = lockdep_on();
	if (ld < 0)
		return cannot("not a lockdep kernel (no /proc/lockdep_stats): the missing lock is "
			      "only asserted with CONFIG_PROVE_LOCKING");
	if (!ld)
		return cannot("lockdep has switched itself off (debug_locks: 0) after an earlier "
			      "report; boot again");
	if (read_long(FREE_HUGE) < 0)
		return cannot("no 2 MiB hugetlb pages in this kernel (CONFIG_HUGETLBFS)");
	free_pages = read_long(FREE_HUGE);
	if (free_pages < 1) {
		saved_nr = read_long(NR_HUGE);
		if (saved_nr < 0 || write_long(NR_HUGE, saved_nr + 1))
			return cannot("needs a free 2 MiB hugetlb page, or root to add one");
		if (read_long(FREE_HUGE) < 1)
			return cannot("could not get a free 2 MiB hugetlb page");
	}
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg < 0)
		return cannot("cannot read the kernel log (/dev/kmsg): %s", strerror(errno));
	lseek(kmsg, 0, SEEK_END);

	fd = memfd_create("repro-hugetlb-split", MFD_HUGETLB | MFD_CLOEXEC);
	if (fd < 0)
		return cannot("memfd_create(MFD_HUGETLB): %s", strerror(errno));
	if (ftruncate(fd, (off_t)GIB))
		return cannot("ftruncate of the hugetlb memfd: %s", strerror(errno));
	resv = mmap(NULL, 2 * GIB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (resv == MAP_FAILED)
		return cannot("cannot reserve 2 GiB of address space: %s", strerror(errno));
	map = (char *)(((uintptr_t)resv + GIB - 1) & ~(uintptr_t)(GIB - 1));
	map = mmap(map, GIB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE | MAP_FIXED,
		   fd, 0);
	if (map == MAP_FAILED)
		return cannot("mmap of the hugetlb memfd: %s", strerror(errno));
	map[0] = 1;					/* one huge page, page tables */
	if (mprotect(map + HPAGE, HPAGE, PROT_READ))	/* split inside the 1 GiB range */
		return cannot("mprotect: %s", strerror(errno));
	usleep(100000);
	hits = scan_kmsg(kmsg);
	close(kmsg);
	munmap(resv, 2 * GIB);
	close(fd);
	if (hits) {
		printf("BUG: splitting a hugetlb VMA unshared its PMD tables without the file's "
		       "i_mmap_rwsem (%d warning%s)\n", hits, hits == 1 ? "" : "s");
		return 1;
	}
	printf("OK: the VMA split held the locks hugetlb_split() asserts\n");
	return 0;
}

int main(void)
{
	char rel[128] = "?";
	FILE *f = fopen("/proc/sys/kernel/osrelease", "re");
	int ret;

	if (f) {
		if (fgets(rel, sizeof(rel), f))
			rel[strcspn(rel, "\n")] = '\0';
		fclose(f);
	}
	printf("hugetlb-split-unlocked on %s\n", rel);
	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	ret = run();
	restore();
	return ret;
}
