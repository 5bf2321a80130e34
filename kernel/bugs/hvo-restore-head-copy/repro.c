// SPDX-License-Identifier: GPL-2.0
/*
 * repro.c - freeing a HugeTLB-vmemmap-optimized (HVO) hugetlb page leaves copies of its head
 * struct page at subpages 64, 128, ..., 448 (6.12.y from 6.12.115).
 *
 * With vm.hugetlb_optimize_vmemmap=1 the struct pages of a 2 MiB hugetlb page past its first
 * vmemmap page are mapped read-only onto that first page.  When the page leaves the pool,
 * the vmemmap is restored: seven new vmemmap pages are filled and mapped back.  They must
 * hold tail struct pages.  On the affected kernels each is filled with a copy of the first
 * vmemmap page, head and folio metadata included, so struct pages +64..+67, +128..+131, ...
 * go to the page allocator looking like the head (still typed hugetlb) and its first tails.
 * With struct page checks on (CONFIG_DEBUG_VM, init_on_free, ...) every such free logs
 * "BUG: Bad page state ... corrupted mapping in tail page" and the 2 MiB are leaked; with
 * them off, the pages are freed and pfns +64, +128, ... keep the hugetlb page type, so
 * /proc/kpageflags reports free memory as KPF_HUGE.
 *
 * This program turns HVO on, allocates a few hugetlb pages, maps them to learn their pfns,
 * frees them back to the page allocator, then looks at both: the kernel log (new "Bad page
 * state" reports) and the kpageflags of every pfn of the freed pages (KPF_HUGE anywhere).
 *
 *   gcc -O2 -o repro repro.c && sudo ./repro
 *
 * exit: 1 the bug shows, 0 it does not, 77 this machine cannot run it (why is printed).
 * Every knob it changes (nr_hugepages, hugetlb_optimize_vmemmap) is put back before it
 * exits, also on failure and on SIGINT/SIGTERM.  On an affected kernel with struct page
 * checks on, the 2 MiB of each page stay leaked until reboot.
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
#include <sys/klog.h>
#include <sys/mman.h>
#include <unistd.h>

#define NR_HUGE		"/proc/sys/vm/nr_hugepages"
#define HVO		"/proc/sys/vm/hugetlb_optimize_vmemmap"
#define FREE_HUGE	"/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"
#define HPAGE		(2ul << 20)
#define SUBPAGES	512
#define NPAGES		4

#define KPF_COMPOUND_HEAD	15
#define KPF_HUGE		17
#define KPF_NOPAGE		20

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

/* "Bad page state" reports in the kernel log buffer now, or -1 if it cannot be read. */
static long bad_page_reports(void)
{
	int len = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	char *buf, *s;
	long n = 0;

	if (len <= 0)
		return -1;
	buf = malloc((size_t)len + 1);
	if (!buf)
		return -1;
	len = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, len);
	if (len < 0) {
		free(buf);
		return -1;
	}
	buf[len] = '\0';
	for (s = buf; (s = strstr(s, "BUG: Bad page state")); s++)
		n++;
	free(buf);
	return n;
}

static int run(void)
{
	uint64_t pfn[NPAGES], flags[SUBPAGES], pm;
	int pagemap, kpf, p, j, freed = 0, typed = 0;
	long nr, hvo, freep, bad0, bad1;
	char *buf;

	if (geteuid())
		return cannot("needs root (pfns in pagemap, /proc/kpageflags, sysctls, kernel log)");
	nr = read_long(NR_HUGE);
	if (nr < 0 || access(FREE_HUGE, R_OK))
		return cannot("no 2 MiB hugetlb pages in this kernel (CONFIG_HUGETLBFS)");
	hvo = read_long(HVO);
	if (hvo < 0)
		return cannot("%s missing: no HugeTLB vmemmap optimization (CONFIG_HUGETLB_PAGE_OPTIMIZE_VMEMMAP) here",
			      HVO);
	kpf = open("/proc/kpageflags", O_RDONLY);
	pagemap = open("/proc/self/pagemap", O_RDONLY);
	if (kpf < 0 || pagemap < 0)
		return cannot("/proc/kpageflags or /proc/self/pagemap: %s", strerror(errno));
	bad0 = bad_page_reports();

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
	for (p = 0; p < NPAGES; p++) {
		uintptr_t va = (uintptr_t)(buf + p * HPAGE);

		memset(buf + p * HPAGE, 0x5a, HPAGE);
		if (pread(pagemap, &pm, 8, (off_t)(va / 4096 * 8)) != 8 || !(pm >> 63))
			return cannot("pagemap has no pfn for the mapped huge page %d", p);
		pfn[p] = pm & ((1ull << 55) - 1);
		if (!pfn[p])
			return cannot("pagemap hides pfns (needs CAP_SYS_ADMIN)");
	}
	/* back to the pool, then out of it: the vmemmap restore, then the page allocator */
	munmap(buf, NPAGES * HPAGE);
	if (write_long(NR_HUGE, nr))
		return cannot("cannot shrink %s back to %ld: %s", NR_HUGE, nr, strerror(errno));
	saved_nr = -1;

	printf("kernel: hugetlb_optimize_vmemmap=1, %d fresh 2 MiB hugetlb pages mapped, unmapped and freed\n",
	       NPAGES);
	for (p = 0; p < NPAGES; p++) {
		char offs[256] = "";
		size_t ol = 0;
		int huge = 0;

		if (pread(kpf, flags, sizeof(flags), (off_t)(pfn[p] * 8)) != (ssize_t)sizeof(flags))
			return cannot("reading kpageflags at pfn %#" PRIx64 ": %s", pfn[p],
				      strerror(errno));
		if ((flags[0] & (1ull << KPF_HUGE)) && (flags[0] & (1ull << KPF_COMPOUND_HEAD))) {
			printf("huge page %d: pfn %#" PRIx64 ": still a hugetlb page (the pool freed another one)\n",
			       p, pfn[p]);
			continue;
		}
		freed++;
		for (j = 0; j < SUBPAGES; j++) {
			if (!(flags[j] & (1ull << KPF_HUGE)) || (flags[j] & (1ull << KPF_NOPAGE)))
				continue;
			huge++;
			if (ol < sizeof(offs) - 8)
				ol += (size_t)snprintf(offs + ol, sizeof(offs) - ol, " +%d", j);
		}
		printf("huge page %d: pfn %#" PRIx64 ": freed; %d of its 512 pfns still KPF_HUGE%s%s\n",
		       p, pfn[p], huge, ol ? ":" : "", offs);
		if (huge)
			typed++;
	}
	bad1 = bad_page_reports();
	if (bad0 >= 0 && bad1 > bad0)
		printf("kernel log: %ld new \"BUG: Bad page state\" reports while the pages were freed\n",
		       bad1 - bad0);
	if (typed || (bad0 >= 0 && bad1 > bad0)) {
		printf("BUG: freeing HVO hugetlb pages left head struct page copies behind (%d of %d freed pages with KPF_HUGE pfns, %ld Bad page state reports)\n",
		       typed, freed, bad0 >= 0 ? bad1 - bad0 : 0);
		return 1;
	}
	if (!freed)
		return cannot("the pool did not free the pages this program allocated");
	printf("OK: %d freed HVO hugetlb pages left no hugetlb struct pages behind%s\n", freed,
	       bad0 < 0 ? " (kernel log not readable)" : ", no Bad page state report");
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
		printf("hvo-restore-head-copy on %s\n", rel);
	}
	ret = run();
	restore();
	return ret;
}
