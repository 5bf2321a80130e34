// SPDX-License-Identifier: GPL-2.0
/*
 * cycle-cost - what one sparse-layout round costs the kernel, alone: online BLOCK into
 * ZONE_MOVABLE, grow node 0's hugetlb pool by one page (it can only land in BLOCK when the
 * zone's other blocks are full), offline BLOCK again; N times, mean microseconds per step.
 * The figures in README.md came from it, run by hand as root:
 *
 *   gcc -O2 -o cycle-cost cycle-cost.c
 *   cd /sys/devices/system/memory
 *   echo offline > memoryA/state; echo online_movable > memoryA/state     # the anchor
 *   echo 1 > /proc/sys/vm/hugetlb_optimize_vmemmap; echo 1 > /sys/kernel/rcu_expedited
 *   echo 64 > /sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages
 *   echo offline > memoryB/state; ./cycle-cost memoryB 1000                # HVO on
 *   echo 0 > /proc/sys/vm/hugetlb_optimize_vmemmap; ./cycle-cost memoryB 1000
 *   # then put back: nr_hugepages 0, both sysctls 0, memoryB online, memoryA offline and
 *   # online (back into its own zone)
 *
 * A and B: blocks that go offline (Normal on this machine: 150 and 151).  The anchor's 64
 * pages, allocated with HVO on, keep the HVO static key on; without them every on-phase
 * round paid its jump-label rewrite (1.7 ms at the fill, 1.9 ms at the offline).
 * Evidence only, not part of the suite.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NODE_NR "/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages"

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
	double on = 0, fill = 0, off = 0;
	char st[128], buf[32];
	int i, n;

	if (argc != 3 || (n = atoi(argv[2])) < 1) {
		fprintf(stderr, "usage: %s memoryN ROUNDS (memoryN offline to start with)\n", argv[0]);
		return 99;
	}
	snprintf(st, sizeof(st), "/sys/devices/system/memory/%s/state", argv[1]);
	for (i = 0; i < n; i++) {
		double t0 = now_us(), t1, t2, t3;

		if (wr(st, "online_movable")) {
			perror("online_movable");
			return 1;
		}
		t1 = now_us();
		/* what the workload reads too: the sysctl, the total, the node's count */
		rd("/proc/sys/vm/hugetlb_optimize_vmemmap");
		rd("/proc/sys/vm/nr_hugepages");
		snprintf(buf, sizeof(buf), "%ld", rd(NODE_NR) + 1);
		wr(NODE_NR, buf);
		rd(NODE_NR);
		t2 = now_us();
		if (wr(st, "offline")) {
			perror("offline");
			return 1;
		}
		t3 = now_us();
		on += t1 - t0;
		fill += t2 - t1;
		off += t3 - t2;
	}
	printf("online %.0f us, fill %.0f us, offline %.0f us, cycle %.0f us (%.0f cycles/s)\n",
	       on / n, fill / n, off / n, (on + fill + off) / n, 1e6 * n / (on + fill + off));
	return 0;
}
