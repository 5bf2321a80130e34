// SPDX-License-Identifier: GPL-2.0
/*
 * offline-walk-cost-vm - offline-walk-cost.c with its own setup, for a guest with a
 * hot-pluggable DIMM (`mmtorture vm run --hotplug-dimm 1G --bugs DIR`, the binary named
 * DIR/repro-offline-walk-cost): takes every ZONE_MOVABLE block of the first such node offline
 * (the DIMM's, which the guest onlines movable at boot), onlines the first again and fills it
 * with hugetlb pages of its node (HVO on, rcu_expedited on), binds itself to that node, and
 * times ROUNDS (default 200) rounds of the second, twice each with K=0 then K=1 fresh anonymous
 * pages.  Puts the pool, the blocks and the two knobs back.  Evidence only.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MEM "/sys/devices/system/memory"
#define NODE_FMT "/sys/devices/system/node/node%d/hugepages/hugepages-2048kB/nr_hugepages"
#define HVO "/proc/sys/vm/hugetlb_optimize_vmemmap"
#define RCU "/sys/kernel/rcu_expedited"

static unsigned long block_pages;

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int rd(const char *path, char *b, size_t n)
{
	int fd = open(path, O_RDONLY);
	ssize_t r;

	if (fd < 0)
		return -1;
	r = read(fd, b, n - 1);
	close(fd);
	if (r < 0)
		return -1;
	b[r] = 0;
	return 0;
}

static long rdl(const char *path)
{
	char b[64];

	return rd(path, b, sizeof(b)) ? -1 : atol(b);
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

static int block_node(int nr)
{
	char p[128];
	int n;

	for (n = 0; n < 64; n++) {
		snprintf(p, sizeof(p), MEM "/memory%d/node%d", nr, n);
		if (!access(p, F_OK))
			return n;
	}
	return -1;
}

static void rounds(int st_nr, unsigned long n, unsigned long k, const char *nodenr)
{
	double on = 0, fill = 0, off = 0;
	unsigned long i, j, in = 0;
	char st[128], buf[32];
	int pm = open("/proc/self/pagemap", O_RDONLY);

	snprintf(st, sizeof(st), MEM "/memory%d/state", st_nr);
	for (i = 0; i < n; i++) {
		double t0 = now_us(), t1, t2, t3;
		char *p = NULL;

		if (wr(st, "online_movable")) {
			perror("online_movable");
			exit(2);
		}
		t1 = now_us();
		snprintf(buf, sizeof(buf), "%ld", rdl(nodenr) + 1);
		wr(nodenr, buf);
		if (k) {
			p = mmap(NULL, k * 4096, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			for (j = 0; j < k; j++)
				p[j * 4096] = 1;
		}
		t2 = now_us();
		for (j = 0; j < k; j++) {
			uint64_t e = 0;

			if (pread(pm, &e, 8, (off_t)(((uintptr_t)p / 4096 + j) * 8)) == 8 &&
			    (e >> 63) && (long)((e & ((1ull << 55) - 1)) / block_pages) == st_nr)
				in++;
		}
		if (wr(st, "offline")) {
			perror("offline");
			exit(2);
		}
		t3 = now_us();
		on += t1 - t0;
		fill += t2 - t1;
		off += t3 - t2;
	}
	printf("K=%lu: %lu rounds (%lu of %lu pages in the block), online %.0f us, fill %.0f us, offline %.0f us\n",
	       k, n, in, n * k, on / n, fill / n, off / n);
	fflush(stdout);
	close(pm);
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 200;
	int blk[2], was_online[2] = { 0 }, other[64], nother = 0, nb = 0, node, i;
	char p[160], b[256], nodenr[128], hvo[16] = "0", rcu[16] = "0";
	unsigned long nodemask;
	long pool;
	DIR *d;
	struct dirent *e;

	if (rd(MEM "/block_size_bytes", b, sizeof(b)))
		return 77;
	block_pages = strtoul(b, NULL, 16) / 4096;
	d = opendir(MEM);
	while (d && (e = readdir(d))) {
		int nr;

		if (sscanf(e->d_name, "memory%d", &nr) != 1)
			continue;
		snprintf(p, sizeof(p), MEM "/memory%d/state", nr);
		if (rd(p, b, sizeof(b)))
			continue;
		if (nb >= 2 && strncmp(b, "online", 6))
			continue;
		if (nb < 2)
			was_online[nb] = !strncmp(b, "online", 6);
		snprintf(p, sizeof(p), MEM "/memory%d/valid_zones", nr);
		if (rd(p, b, sizeof(b)) || strncmp(b, "Movable", 7))
			continue;
		if (nb && block_node(nr) != block_node(blk[0]))
			continue;
		snprintf(p, sizeof(p), MEM "/memory%d/state", nr);
		if ((nb >= 2 || was_online[nb]) && wr(p, "offline"))
			continue;
		if (nb < 2)
			blk[nb] = nr;
		else if (nother < 64)
			other[nother++] = nr;
		nb++;
	}
	if (d)
		closedir(d);
	if (nb < 2) {
		printf("CANNOT RUN: fewer than two blocks that may go into ZONE_MOVABLE and offline\n");
		return 77;
	}
	node = block_node(blk[0]);
	snprintf(nodenr, sizeof(nodenr), NODE_FMT, node);
	printf("anchor memory%d, cycled memory%d, node %d, %lu pages per block\n", blk[0], blk[1],
	       node, block_pages);
	rd(HVO, hvo, sizeof(hvo));
	rd(RCU, rcu, sizeof(rcu));
	pool = rdl(nodenr);
	wr(HVO, "1");
	wr(RCU, "1");
	snprintf(p, sizeof(p), MEM "/memory%d/state", blk[0]);
	if (wr(p, "online_movable")) {
		perror("anchor online_movable");
		return 2;
	}
	snprintf(b, sizeof(b), "%ld", pool + (long)(block_pages / 512));
	wr(nodenr, b);
	nodemask = 1ul << node;
	if (syscall(SYS_set_mempolicy, 2 /* MPOL_BIND */, &nodemask, 64))
		perror("set_mempolicy");
	for (i = 0; i < 2; i++) {
		rounds(blk[1], n, 0, nodenr);
		rounds(blk[1], n, 1, nodenr);
	}
	snprintf(b, sizeof(b), "%ld", pool);
	wr(nodenr, b);
	wr(p, "offline");
	for (i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), MEM "/memory%d/state", blk[i]);
		if (was_online[i])
			wr(p, "online_movable");
	}
	for (i = 0; i < nother; i++) {
		snprintf(p, sizeof(p), MEM "/memory%d/state", other[i]);
		wr(p, "online_movable");
	}
	wr(HVO, strtok(hvo, "\n"));
	wr(RCU, strtok(rcu, "\n"));
	return 0;
}
