// SPDX-License-Identifier: GPL-2.0
/*
 * repro.c - memory offlining takes cpu_hotplug_lock for reading a second time, inside its own
 * read, whenever it frees a HugeTLB-vmemmap-optimized (HVO) page (6.12.117).
 *
 * offline_pages() holds cpu_hotplug_lock for reading for the whole offline (mem_hotplug_begin()
 * -> cpus_read_lock()).  Free hugetlb pages in the block are dissolved there, and dissolving an
 * HVO page restores its vmemmap and drops the HVO static key: static_branch_dec() ->
 * static_key_slow_dec() -> cpus_read_lock() again, on every page (6.12's static_key_slow_dec()
 * takes the lock before looking at the count).  cpu_hotplug_lock is a per-CPU rwsem, whose
 * readers must not nest: a cpus_write_lock() that starts waiting between the two reads blocks
 * the second, and the writer waits for the first.  Lockdep reports it on the first such
 * offline: "WARNING: possible recursive locking detected ... cpu_hotplug_lock ... at:
 * static_key_slow_dec ... already holding lock ... at: mem_hotplug_begin".
 *
 * The deadlock itself was not shown: CPU hotplug through sysfs takes device_hotplug_lock first,
 * like a memory offline through sysfs, so the two never overlap (a CPU 1 offline/online loop
 * beside 321 such offlines did not hang a 6.12.117 guest).  This program shows the nesting as
 * lockdep sees it: with hugetlb_optimize_vmemmap=1 (and rcu_expedited, for speed) it grows the
 * pool by 8 pages, maps them to find one in a ZONE_MOVABLE block, unmaps them (free, still
 * optimized) and offlines that block and onlines it again, ROUNDS times (default 3), then
 * counts new lockdep reports of that kind.
 *
 *   gcc -O2 -o repro repro.c && sudo MMT_DESTRUCTIVE=1 ./repro [ROUNDS]
 *
 * Destructive: it offlines memory of a running machine (and puts it back).  It runs only with
 * MMT_DESTRUCTIVE=1 in the environment or mmtorture.destructive=1 on the kernel command line
 * (a guest: `mmtorture vm run --hotplug-dimm 1G --append mmtorture.destructive=1 --bugs DIR`),
 * on a kernel with lockdep (CONFIG_PROVE_LOCKING), with a block in ZONE_MOVABLE (a
 * hot-pluggable DIMM, movablecore=).
 *
 * exit: 1 the bug shows (the lockdep report), 0 it does not, 77 this machine cannot run it
 * (why is printed).  nr_hugepages, hugetlb_optimize_vmemmap, rcu_expedited and the block are put back.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <inttypes.h>
#include <unistd.h>

#define NR_HUGE		"/proc/sys/vm/nr_hugepages"
#define HVO		"/proc/sys/vm/hugetlb_optimize_vmemmap"
#define MEMDIR		"/sys/devices/system/memory"
#define RCU_EXP		"/sys/kernel/rcu_expedited"
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

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int write_long(const char *path, long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld", v);
	return write_str(path, buf);
}

static int __attribute__((format(printf, 1, 2))) cannot(const char *fmt, ...)
{
	va_list ap;

	printf("CANNOT RUN: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return 77;
}

static bool destructive_allowed(void)
{
	const char *e = getenv("MMT_DESTRUCTIVE");
	char cmdline[4096] = "";
	int fd = open("/proc/cmdline", O_RDONLY);

	if (e && !strcmp(e, "1"))
		return true;
	if (fd < 0)
		return false;
	if (read(fd, cmdline, sizeof(cmdline) - 1) < 0)
		cmdline[0] = '\0';
	close(fd);
	return strstr(cmdline, "mmtorture.destructive=1");
}

/* An online memory block in ZONE_MOVABLE that goes offline now (put back online), or -1. */
static int movable_block(void)
{
	char path[128], buf[64];
	struct dirent *d;
	int nr, found = -1;
	DIR *dir = opendir(MEMDIR);

	if (!dir)
		return -1;
	while (found < 0 && (d = readdir(dir))) {
		int fd;
		ssize_t n;

		if (sscanf(d->d_name, "memory%d", &nr) != 1)
			continue;
		snprintf(path, sizeof(path), MEMDIR "/memory%d/valid_zones", nr);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		if (strncmp(buf, "Movable", 7))
			continue;
		snprintf(path, sizeof(path), MEMDIR "/memory%d/state", nr);
		if (!write_str(path, "offline") && !write_str(path, "online_movable"))
			found = nr;
	}
	closedir(dir);
	return found;
}

/* "possible recursive locking" reports naming cpu_hotplug_lock in the kernel log */
static int lockdep_reports(void)
{
	int len = klogctl(10, NULL, 0), n = 0;
	char *buf, *s;

	if (len <= 0 || !(buf = malloc((size_t)len + 1)))
		return -1;
	len = klogctl(3, buf, len);
	buf[len > 0 ? len : 0] = '\0';
	for (s = buf; (s = strstr(s, "possible recursive locking detected")); s++) {
		char *t = strstr(s, "is trying to acquire lock:");

		if (t && t - s < 300 && strstr(t, "cpu_hotplug_lock") &&
		    strstr(t, "cpu_hotplug_lock") - t < 200)
			n++;
	}
	free(buf);
	return n;
}

/* The block holding pfn, if it is in ZONE_MOVABLE, or -1. */
static int movable_block_of(uint64_t pfn)
{
	long bsize = 0;
	char path[128], buf[64] = "";
	int fd, nr;
	ssize_t n;
	FILE *f = fopen(MEMDIR "/block_size_bytes", "r");

	if (!f)
		return -1;
	if (fscanf(f, "%lx", &bsize) != 1 || bsize <= 0)
		bsize = 0;
	fclose(f);
	if (!bsize)
		return -1;
	nr = (int)(pfn * 4096 / (uint64_t)bsize);
	snprintf(path, sizeof(path), MEMDIR "/memory%d/valid_zones", nr);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return strncmp(buf, "Movable", 7) ? -1 : nr;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 3, lock0, lock1, done = 0, tried = 0, i, pm;
	const size_t hpage = 2ul << 20, npages = 8;
	long saved_exp;
	char *buf;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("hvo-offline-cpuhp-recursion\n");
	if (geteuid())
		return cannot("needs root");
	if (access("/proc/lockdep", R_OK))
		return cannot("no lockdep in this kernel (CONFIG_PROVE_LOCKING): nothing would report the nested read");
	if (!destructive_allowed())
		return cannot("destructive (offlines memory): set MMT_DESTRUCTIVE=1 or boot with mmtorture.destructive=1");
	saved_nr = read_long(NR_HUGE);
	saved_hvo = read_long(HVO);
	if (saved_nr < 0 || saved_hvo < 0)
		return cannot("no 2 MiB hugetlb pool or no %s here", HVO);
	if (movable_block() < 0)
		return cannot("no memory block in ZONE_MOVABLE that goes offline (add a hot-pluggable DIMM or movablecore=)");
	lock0 = lockdep_reports();
	pm = open("/proc/self/pagemap", O_RDONLY);
	if (lock0 < 0 || pm < 0)
		return cannot("cannot read the kernel log (klogctl) or /proc/self/pagemap");
	/* every synchronize_rcu() of the vmemmap work, expedited: lockdep guests are slow */
	saved_exp = read_long(RCU_EXP);
	write_long(RCU_EXP, 1);
	if (write_long(HVO, 1))
		return cannot("cannot turn %s on", HVO);
	for (i = 0; i < rounds; i++) {
		uint64_t e, pfn;
		size_t p;
		int block = -1;
		char state[128];

		/* fresh optimized pages; pool pages come from ZONE_MOVABLE first */
		write_long(NR_HUGE, saved_nr + (long)npages);
		buf = mmap(NULL, npages * hpage, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		if (buf == MAP_FAILED)
			break;
		for (p = 0; p < npages && block < 0; p++) {
			buf[p * hpage] = 1;
			if (pread(pm, &e, 8, (off_t)((uintptr_t)(buf + p * hpage) / 4096 * 8)) == 8 &&
			    (e >> 63) && (pfn = e & ((1ull << 55) - 1)))
				block = movable_block_of(pfn);
		}
		munmap(buf, npages * hpage);	/* back to the pool: free, still optimized */
		if (block < 0)
			continue;
		tried++;
		snprintf(state, sizeof(state), MEMDIR "/memory%d/state", block);
		printf("round %d: memory block %d (ZONE_MOVABLE) holds a free vmemmap-optimized page; offlining it\n",
		       i + 1, block);
		if (!write_str(state, "offline")) {
			done++;
			write_str(state, "online_movable");
		}
		write_long(NR_HUGE, saved_nr);
	}
	lock1 = lockdep_reports();
	write_long(NR_HUGE, saved_nr);
	write_long(HVO, saved_hvo);
	if (saved_exp >= 0)
		write_long(RCU_EXP, saved_exp);
	if (lock1 > lock0) {
		printf("BUG: lockdep: %d new \"possible recursive locking detected\" report(s) on cpu_hotplug_lock (%d offlines)\n",
		       lock1 - lock0, done);
		return 1;
	}
	if (!done)
		return cannot("no block holding an optimized page went offline (%d tried)", tried);
	printf("OK: %d offlines of a block holding a vmemmap-optimized page, no lockdep report\n", done);
	return 0;
}
