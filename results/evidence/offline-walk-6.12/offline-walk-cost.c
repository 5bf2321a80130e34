// SPDX-License-Identifier: GPL-2.0
/*
 * offline-walk-cost - what one anonymous page in a mostly free memory block costs its
 * offline.  Each round onlines BLOCK into ZONE_MOVABLE, grows node 0's hugetlb pool by one
 * page (as a sparse hotplug-vmemmap round does), faults K fresh anonymous pages (kept mapped,
 * so the next fault cannot reuse them from the per-cpu lists), checks through
 * /proc/self/pagemap how many landed in BLOCK, and offlines BLOCK, which migrates those.
 * Prints mean microseconds per step, separately for rounds with and without a page in BLOCK.
 * Run by hand as root, with the setup cycle-cost.c (hotplug-sparse evidence) describes:
 * an anchor block onlined movable and filled by 64 hugetlb pages, BLOCK offline;
 *
 *   gcc -O2 -o offline-walk-cost offline-walk-cost.c
 *   ./offline-walk-cost memoryB 1000 0; ./offline-walk-cost memoryB 1000 1
 *
 * The K pages of every round stay mapped until exit (4 KiB x K x ROUNDS).
 * Evidence only, not part of the suite.
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
#define BLOCK_PAGES 32768ul	/* 128 MiB of 4 KiB pages */

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static long rd(const char *path)
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

static int wr(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY), r;

	if (fd < 0)
		return -1;
	r = write(fd, v, strlen(v)) < 0 ? -1 : 0;
	close(fd);
	return r;
}

int main(int argc, char **argv)
{
	double on[2] = { 0 }, fill[2] = { 0 }, off[2] = { 0 };
	unsigned long block, n, k, i, j, rounds[2] = { 0 };
	char st[128], buf[32];
	int pm;

	if (argc != 4 || sscanf(argv[1], "memory%lu", &block) != 1 ||
	    (n = strtoul(argv[2], NULL, 10)) < 1) {
		fprintf(stderr, "usage: %s memoryN ROUNDS K (memoryN offline to start with)\n",
			argv[0]);
		return 99;
	}
	k = strtoul(argv[3], NULL, 10);
	pm = open("/proc/self/pagemap", O_RDONLY);
	if (pm < 0) {
		perror("/proc/self/pagemap");
		return 1;
	}
	snprintf(st, sizeof(st), "/sys/devices/system/memory/%s/state", argv[1]);
	for (i = 0; i < n; i++) {
		double t0 = now_us(), t1, t2, t3;
		unsigned long in = 0;
		char *p = NULL;

		if (wr(st, "online_movable")) {
			perror("online_movable");
			return 1;
		}
		t1 = now_us();
		snprintf(buf, sizeof(buf), "%ld", rd(NODE_NR) + 1);
		wr(NODE_NR, buf);
		if (k) {
			p = mmap(NULL, k * 4096, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED) {
				perror("mmap");
				return 1;
			}
			for (j = 0; j < k; j++)
				p[j * 4096] = 1;
		}
		t2 = now_us();
		for (j = 0; j < k; j++) {
			uint64_t e = 0;

			if (pread(pm, &e, 8, (off_t)(((uintptr_t)p / 4096 + j) * 8)) == 8 &&
			    (e >> 63) && (e & ((1ull << 55) - 1)) / BLOCK_PAGES == block)
				in++;
		}
		if (wr(st, "offline")) {
			perror("offline");
			return 1;
		}
		t3 = now_us();
		on[!!in] += t1 - t0;
		fill[!!in] += t2 - t1;
		off[!!in] += t3 - t2;
		rounds[!!in]++;
	}
	for (i = 0; i < 2; i++) {
		if (!rounds[i])
			continue;
		printf("%s page in the block: %lu rounds, online %.0f us, fill %.0f us, offline %.0f us\n",
		       i ? "a" : "no", rounds[i], on[i] / rounds[i], fill[i] / rounds[i],
		       off[i] / rounds[i]);
	}
	return 0;
}
