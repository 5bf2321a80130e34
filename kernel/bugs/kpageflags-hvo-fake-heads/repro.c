// SPDX-License-Identifier: GPL-2.0
/*
 * repro.c - /proc/kpageflags reports tail pages of vmemmap-optimized (HVO)
 * hugetlb pages as compound heads (Linux 6.17 and later).
 *
 * With vm.hugetlb_optimize_vmemmap=1, the struct pages of a 2 MiB hugetlb
 * page past the first vmemmap page are remapped read-only onto it, so the
 * struct pages of subpages 64, 128, ..., 448 read exactly like the head
 * ("fake heads").  The kernel must still report them as tails.  This program
 * turns HVO on, allocates a few hugetlb pages, maps them, and reads the 512
 * kpageflags entries of each: exactly one KPF_COMPOUND_HEAD (subpage 0) is
 * correct.
 *
 *   gcc -O2 -o repro repro.c && sudo ./repro
 *
 * exit: 1 the bug shows, 0 it does not, 77 this machine cannot run it (why is
 * printed).  Every knob it changes (nr_hugepages, hugetlb_optimize_vmemmap) is
 * put back before it exits, also on failure and on SIGINT/SIGTERM.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NR_HUGE		"/proc/sys/vm/nr_hugepages"
#define HVO		"/proc/sys/vm/hugetlb_optimize_vmemmap"
#define FREE_HUGE	"/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"
#define HPAGE		(2ul << 20)
#define SUBPAGES	512
#define NPAGES		4

#define KPF_COMPOUND_HEAD	15
#define KPF_COMPOUND_TAIL	16
#define KPF_HUGE		17

static long saved_nr = -1, saved_hvo = -1;

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

/* Put back what we changed: the pool first (it must shrink before HVO flips back). */
static void restore(void)
{
	if (saved_nr >= 0 && write_long(NR_HUGE, saved_nr))
		fprintf(stderr, "repro: could not restore %s to %ld\n", NR_HUGE, saved_nr);
	if (saved_hvo >= 0 && write_long(HVO, saved_hvo))
		fprintf(stderr, "repro: could not restore %s to %ld\n", HVO, saved_hvo);
	saved_nr = saved_hvo = -1;
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
	uint64_t flags[SUBPAGES], count[SUBPAGES], pm;
	int pagemap, kpf, kpc, p, j, bad_pages = 0;
	long nr, hvo, freep;
	char *buf;

	if (geteuid())
		return cannot("needs root (pfns in pagemap, /proc/kpageflags, sysctls)");
	nr = read_long(NR_HUGE);
	if (nr < 0 || access(FREE_HUGE, R_OK))
		return cannot("no 2 MiB hugetlb pages in this kernel (CONFIG_HUGETLBFS)");
	hvo = read_long(HVO);
	if (hvo < 0)
		return cannot("%s missing: no HugeTLB vmemmap optimization (CONFIG_HUGETLB_PAGE_OPTIMIZE_VMEMMAP) here",
			      HVO);
	kpf = open("/proc/kpageflags", O_RDONLY);
	kpc = open("/proc/kpagecount", O_RDONLY);
	pagemap = open("/proc/self/pagemap", O_RDONLY);
	if (kpf < 0 || kpc < 0 || pagemap < 0)
		return cannot("/proc/kpageflags, /proc/kpagecount or /proc/self/pagemap: %s",
			      strerror(errno));

	/* HVO applies to pages allocated into the pool while it is on */
	saved_hvo = hvo;
	if (hvo != 1 && write_long(HVO, 1))
		return cannot("cannot turn %s on: %s", HVO, strerror(errno));
	saved_nr = nr;
	if (write_long(NR_HUGE, nr + NPAGES))
		return cannot("cannot grow %s: %s", NR_HUGE, strerror(errno));
	freep = read_long(FREE_HUGE);
	if (freep < NPAGES)
		return cannot("only %ld free 2 MiB hugetlb pages after asking for %d more (memory too fragmented?)",
			      freep, NPAGES);

	buf = mmap(NULL, NPAGES * HPAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (buf == MAP_FAILED)
		return cannot("mmap MAP_HUGETLB: %s", strerror(errno));
	for (p = 0; p < NPAGES; p++)
		memset(buf + p * HPAGE, 0x5a, HPAGE);

	printf("kernel: hugetlb_optimize_vmemmap=1, %d fresh 2 MiB hugetlb pages mapped\n", NPAGES);
	for (p = 0; p < NPAGES; p++) {
		uintptr_t va = (uintptr_t)(buf + p * HPAGE);
		uint64_t pfn;
		int heads = 0, tails = 0;
		char offs[256] = "";
		size_t ol = 0;

		if (pread(pagemap, &pm, 8, (off_t)(va / 4096 * 8)) != 8 || !(pm >> 63))
			return cannot("pagemap has no pfn for the mapped huge page %d", p);
		pfn = pm & ((1ull << 55) - 1);
		if (!pfn)
			return cannot("pagemap hides pfns (needs CAP_SYS_ADMIN)");
		if (pread(kpf, flags, sizeof(flags), (off_t)(pfn * 8)) != (ssize_t)sizeof(flags) ||
		    pread(kpc, count, sizeof(count), (off_t)(pfn * 8)) != (ssize_t)sizeof(count))
			return cannot("reading kpageflags/kpagecount at pfn %#" PRIx64 ": %s", pfn,
				      strerror(errno));
		for (j = 0; j < SUBPAGES; j++) {
			if (flags[j] & (1ull << KPF_COMPOUND_TAIL))
				tails++;
			if (!(flags[j] & (1ull << KPF_COMPOUND_HEAD)))
				continue;
			heads++;
			if (j && ol < sizeof(offs) - 8)
				ol += (size_t)snprintf(offs + ol, sizeof(offs) - ol, " +%d", j);
		}
		printf("huge page %d: pfn %#" PRIx64 ": %d head%s, %d tails in kpageflags (want 1 head at +0, 511 tails)%s%s\n",
		       p, pfn, heads, heads == 1 ? "" : "s", tails, ol ? "; heads at" : "", offs);
		if (ol)
			printf("  kpageflags +0 %#" PRIx64 " +1 %#" PRIx64 " +64 %#" PRIx64 "; kpagecount +0 %" PRIu64 " +1 %" PRIu64 " +64 %" PRIu64 "\n",
			       flags[0], flags[1], flags[64], count[0], count[1], count[64]);
		if (heads != 1 || !(flags[0] & (1ull << KPF_COMPOUND_HEAD)))
			bad_pages++;
	}
	munmap(buf, NPAGES * HPAGE);
	if (bad_pages) {
		printf("BUG: %d of %d HVO-optimized hugetlb pages show tail pages as compound heads in /proc/kpageflags\n",
		       bad_pages, NPAGES);
		return 1;
	}
	printf("OK: every huge page has exactly one compound head in /proc/kpageflags\n");
	return 0;
}

int main(void)
{
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	{
		char rel[128] = "?";
		int fd = open("/proc/sys/kernel/osrelease", O_RDONLY);
		ssize_t n = fd >= 0 ? read(fd, rel, sizeof(rel) - 1) : -1;

		if (n > 0)
			rel[n - 1] = '\0';
		if (fd >= 0)
			close(fd);
		printf("kpageflags-hvo-fake-heads on %s\n", rel);
	}
	ret = run();
	restore();
	return ret;
}
