// SPDX-License-Identifier: GPL-2.0
/*
 * round-place-cost - what the place of one anonymous page in a memory block costs the
 * block's offline.  Each round onlines BLOCK into ZONE_MOVABLE, grows node 0's hugetlb pool
 * by H pages and faults one fresh anonymous page, the page either before the pool grows
 * ("first": it lands at the start of the block, the hugetlb pages above it) or after ("after":
 * the hugetlb pages take the start of the block, the page lands above them), reads where it
 * landed (/proc/self/pagemap) and offlines BLOCK, which migrates the page and dissolves the
 * H free hugetlb pages.  Prints the mean time of each step and where the page was.
 * Run by hand as root, HVO off, with an anchor block onlined movable and full of hugetlb
 * pages (ZONE_MOVABLE keeps it populated) and BLOCK offline:
 *
 *   gcc -O2 -o round-place-cost round-place-cost.c
 *   for a in "0 first" "1 after" "62 after"; do ./round-place-cost memoryB 300 $a; done
 *
 * With BLOCK offline, 4 MiB are faulted first (the anchor's few free pages).
 * The pages of every round stay mapped until exit (so the next fault cannot reuse one from
 * the per-cpu lists).  Evidence only, not part of the suite.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define NODE_NR "/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages"
#define PM_PFN ((1ull << 55) - 1)

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static long read_long(const char *path)
{
	char b[64] = { 0 };
	int fd = open(path, O_RDONLY);

	if (fd < 0 || read(fd, b, sizeof(b) - 1) < 0) {
		perror(path);
		exit(1);
	}
	close(fd);
	return atol(b);
}

static int write_str(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY), r;

	if (fd < 0)
		return -1;
	r = write(fd, v, strlen(v)) < 0 ? -1 : 0;
	close(fd);
	return r;
}

static void grow_pool(unsigned long h)
{
	char buf[32];

	if (!h)
		return;
	snprintf(buf, sizeof(buf), "%ld", read_long(NODE_NR) + (long)h);
	write_str(NODE_NR, buf);
}

int main(int argc, char **argv)
{
	double t_on[2] = { 0 }, t_fill[2] = { 0 }, t_off[2] = { 0 }, where = 0;
	unsigned long block, rounds, h, n[2] = { 0 }, i, bpages;
	char state[128];
	int pm, first;

	if (argc != 5 || sscanf(argv[1], "memory%lu", &block) != 1 ||
	    (rounds = strtoul(argv[2], NULL, 10)) < 1 ||
	    (strcmp(argv[4], "first") && strcmp(argv[4], "after"))) {
		fprintf(stderr, "usage: %s memoryN ROUNDS H first|after (memoryN offline)\n", argv[0]);
		return 99;
	}
	h = strtoul(argv[3], NULL, 10);
	first = !strcmp(argv[4], "first");
	/* block_size_bytes is hex */
	{
		char b[64] = { 0 };
		int fd = open("/sys/devices/system/memory/block_size_bytes", O_RDONLY);

		if (fd < 0 || read(fd, b, sizeof(b) - 1) < 0)
			return 1;
		close(fd);
		bpages = strtoul(b, NULL, 16) / 4096;
	}
	pm = open("/proc/self/pagemap", O_RDONLY);
	if (pm < 0) {
		perror("/proc/self/pagemap");
		return 1;
	}
	/* the anchor's few free pages first (kept mapped): the rounds' pages then find only BLOCK */
	{
		char *q = mmap(NULL, 1024 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);

		for (i = 0; q != MAP_FAILED && i < 1024; i++)
			q[i * 4096] = 1;
	}
	snprintf(state, sizeof(state), "/sys/devices/system/memory/%s/state", argv[1]);
	for (i = 0; i < rounds; i++) {
		double t0, t1, t2, t3;
		uint64_t e = 0, pfn;
		int in = 0;
		char *p;

		p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		t0 = now_us();
		if (write_str(state, "online_movable")) {
			perror("online_movable");
			return 1;
		}
		t1 = now_us();
		if (first)
			p[0] = 1;
		grow_pool(h);
		if (!first)
			p[0] = 1;
		t2 = now_us();
		if (pread(pm, &e, 8, (off_t)((uintptr_t)p / 4096 * 8)) == 8 && (e >> 63)) {
			pfn = e & PM_PFN;
			if (pfn / bpages == block) {
				in = 1;
				where += (double)(pfn % bpages) / (double)bpages;
			}
		}
		if (write_str(state, "offline")) {
			perror("offline");
			return 1;
		}
		t3 = now_us();
		t_on[in] += t1 - t0;
		t_fill[in] += t2 - t1;
		t_off[in] += t3 - t2;
		n[in]++;
	}
	for (i = 0; i < 2; i++) {
		if (!n[i])
			continue;
		printf("H=%lu page %s: %lu of %lu rounds with the page %s", h, argv[4], n[i], rounds,
		       i ? "in the block" : "elsewhere");
		if (i)
			printf(" (on average %.1f %% into it)", 100.0 * where / (double)n[i]);
		printf(": online %.0f us, fill %.0f us, offline %.0f us, round %.0f us\n",
		       t_on[i] / n[i], t_fill[i] / n[i], t_off[i] / n[i],
		       (t_on[i] + t_fill[i] + t_off[i]) / n[i]);
	}
	return 0;
}
