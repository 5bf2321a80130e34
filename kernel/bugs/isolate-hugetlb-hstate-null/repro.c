// SPDX-License-Identifier: GPL-2.0
/*
 * repro.c - offlining a memory block dereferences a NULL hstate when a
 * hugetlb page in it is freed at the same moment (6.12.y and older).
 *
 * Before a block goes offline, start_isolate_page_range() checks every
 * pageblock of it for unmovable pages (has_unmovable_pages(), from
 * set_migratetype_isolate()).  Outside ZONE_MOVABLE that check looks at each
 * hugetlb page it meets: PageHuge(page), then
 * hugepage_migration_supported(folio_hstate(folio)).  It holds no hugetlb
 * lock and no reference, so the page can be freed to the buddy allocator in
 * between: folio_hstate() then looks up the hstate of a page that is no
 * longer a 2 MiB folio, finds none, and the check reads NULL->order
 * (offset 0x28 on x86-64): "BUG: kernel NULL pointer dereference, address:
 * 0000000000000028" in set_migratetype_isolate().
 *
 * This program does what it takes: with hugetlb_optimize_vmemmap=1 (freeing
 * an optimized page restores its memmap first, which makes the free slow and
 * the window wide), one thread grows the 2 MiB hugetlb pool by enough pages
 * that they spill out of ZONE_MOVABLE into the normal zones and shrinks it
 * back, over and over; another tries to offline every online
 * memory block that is not in ZONE_MOVABLE, one after another, and onlines
 * each one that went.  It watches the kernel log for the oops.
 *
 *   gcc -O2 -pthread -o repro repro.c && sudo MMT_DESTRUCTIVE=1 ./repro [SECONDS]
 *
 * Destructive: it offlines memory of the normal zones of a running machine
 * (and puts it back).  It runs only with MMT_DESTRUCTIVE=1 in the
 * environment or mmtorture.destructive=1 on the kernel command line (a
 * guest: `mmtorture vm run --append mmtorture.destructive=1 --bugs DIR`).
 * On an affected kernel the oops kills the offlining thread with the
 * hotplug locks held: memory hotplug then hangs until a reboot, and kernels
 * with panic_on_oops panic.  Run it in a VM.
 *
 * exit: 1 the bug shows (the oops, in the kernel log), 0 it did not within
 * SECONDS (default 30), 77 this machine cannot run it (why is printed), 2 a
 * write never returned, even interrupted (another failure: the kernel log
 * says what).  Offline writes that take over 3 s are interrupted (SIGUSR1).
 * nr_hugepages, hugetlb_optimize_vmemmap and every block it offlined are put back before it exits,
 * also on failure and on SIGINT/SIGTERM - except after the oops, when any
 * further hotplug write would hang.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define NR_HUGE		"/proc/sys/vm/nr_hugepages"
#define HVO		"/proc/sys/vm/hugetlb_optimize_vmemmap"
#define MEMDIR		"/sys/devices/system/memory"
#define MAX_BLOCKS	4096
#ifndef MFD_HUGETLB
#define MFD_HUGETLB	0x0004U
#endif

static long saved_nr = -1, saved_hvo = -1;
static int blocks[MAX_BLOCKS], nr_blocks;
static volatile sig_atomic_t stop, oopsed;
static volatile int offline_now = -1;	/* the block the offliner has offline, or -1 */
static volatile double write_since[2];	/* a write in flight since (churn, offliner); 0: none */
static unsigned long attempts, offlined, pool_cycles;
static long grow_to;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int read_str(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

static long read_long(const char *path)
{
	char buf[64];

	return read_str(path, buf, sizeof(buf)) ? -1 : strtol(buf, NULL, 10);
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), ret = 0;
	size_t len = strlen(s);

	if (fd < 0)
		return -errno;
	if (write(fd, s, len) != (ssize_t)len)
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

static int block_state(int nr, const char *state)
{
	char path[128];

	snprintf(path, sizeof(path), MEMDIR "/memory%d/state", nr);
	return write_str(path, state);
}

static long meminfo_kb(const char *key)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':')
			v = strtol(line + strlen(key) + 1, NULL, 10);
	fclose(f);
	return v;
}

/* Put back what was changed: never after the oops (the hotplug locks are gone). */
static void restore(void)
{
	int b = offline_now, i;

	if (oopsed)
		return;
	if (b >= 0) {
		for (i = 0; i < 100 && block_state(b, "online"); i++)
			usleep(100 * 1000);
		offline_now = -1;
	}
	if (saved_nr >= 0)
		write_long(NR_HUGE, saved_nr);
	if (saved_hvo >= 0)
		write_long(HVO, saved_hvo);
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* SIGUSR1 only interrupts a write (offline_pages() gives up on a pending signal) */
static void on_usr1(int sig)
{
	(void)sig;
}

static int cannot(const char *why)
{
	printf("CANNOT RUN: %s\n", why);
	return 77;
}

static bool destructive_allowed(void)
{
	const char *e = getenv("MMT_DESTRUCTIVE");
	char cmdline[4096];

	if (e && !strcmp(e, "1"))
		return true;
	return !read_str("/proc/cmdline", cmdline, sizeof(cmdline)) &&
	       strstr(cmdline, "mmtorture.destructive=1");
}

/*
 * One vmemmap-optimized page held for the whole run.  The kernel switches its
 * fake-head checks on and off with a static key whenever the number of optimized
 * pages crosses zero, and each switch rewrites kernel text through int3
 * breakpoints; under QEMU's TCG that rewriting oopses on its own now and then
 * ("Oops: int3").  With one page always optimized the key never flips, and
 * whatever oopses is the race this program is about.  Mapped, touched, never
 * freed before exit.  False when it could not be had (the run goes on).
 */
static bool hold_keeper(void)
{
	const size_t hpage = 2ul << 20;
	char *p;
	int fd;

	if (write_long(NR_HUGE, saved_nr + 1))
		return false;
	fd = memfd_create("repro-keeper", MFD_HUGETLB);
	if (fd < 0)
		return false;
	if (ftruncate(fd, (off_t)hpage)) {
		close(fd);
		return false;
	}
	p = mmap(NULL, hpage, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return false;
	memset(p, 1, 4096);
	return true;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Online memory blocks outside ZONE_MOVABLE, block 0 aside. */
static void find_blocks(void)
{
	DIR *d = opendir(MEMDIR);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) && nr_blocks < MAX_BLOCKS) {
		char path[300], buf[128];
		int nr;

		if (sscanf(e->d_name, "memory%d", &nr) != 1 || nr == 0)
			continue;
		snprintf(path, sizeof(path), MEMDIR "/%s/state", e->d_name);
		if (read_str(path, buf, sizeof(buf)) || strcmp(buf, "online"))
			continue;
		snprintf(path, sizeof(path), MEMDIR "/%s/valid_zones", e->d_name);
		if (read_str(path, buf, sizeof(buf)) || strstr(buf, "Movable"))
			continue;
		blocks[nr_blocks++] = nr;
	}
	closedir(d);
	qsort(blocks, (size_t)nr_blocks, sizeof(blocks[0]), cmp_int);
}

static void *churn(void *arg)
{
	(void)arg;
	while (!stop) {
		write_since[0] = now();
		write_long(NR_HUGE, grow_to);
		write_long(NR_HUGE, saved_nr);
		write_since[0] = 0;
		pool_cycles++;
	}
	return NULL;
}

static void *offliner(void *arg)
{
	int i = 0;

	(void)arg;
	while (!stop) {
		int b = blocks[i++ % nr_blocks], k;

		attempts++;
		offline_now = b;	/* before the write: it may succeed and be interrupted */
		write_since[1] = now();
		k = block_state(b, "offline");
		write_since[1] = 0;
		if (k) {
			offline_now = -1;
			continue;
		}
		offlined++;
		for (k = 0; k < 100 && block_state(b, "online"); k++)
			usleep(100 * 1000);
		offline_now = -1;
	}
	return NULL;
}

/* The oops, as the kernel log shows it; the lines of it are printed. */
static bool scan_kmsg(int fd)
{
	static bool in_oops;
	char rec[2048];
	bool hit = false;
	ssize_t n;

	while ((n = read(fd, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
		char *msg;

		if (n < 0)
			continue;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = '\0';
		if (strstr(msg, "BUG: kernel NULL pointer dereference"))
			in_oops = true;
		if (!in_oops)
			continue;
		printf("  kernel: %s\n", msg);
		if (strstr(msg, "set_migratetype_isolate") || strstr(msg, "has_unmovable_pages"))
			hit = true;
		if (strstr(msg, "---[ end trace"))
			in_oops = false;
	}
	return hit;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 30, t0, t1;
	struct sigaction su = { .sa_handler = on_usr1 };
	bool joined[2] = { false, false };
	bool keeper = false;
	struct sigaction sa = { .sa_handler = on_signal };
	pthread_t tc, to;
	struct utsname u;
	long free_kb;
	int kfd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!(secs > 0) || secs > 3600) {
		fprintf(stderr, "usage: %s [SECONDS (1-3600, default 30)]\n", argv[0]);
		return 2;
	}
	if (geteuid())
		return cannot("needs root (memory blocks are offlined)");
	if (!destructive_allowed())
		return cannot("destructive (offlines memory of the normal zones): set MMT_DESTRUCTIVE=1, or boot with mmtorture.destructive=1");
	if (access(MEMDIR "/block_size_bytes", R_OK))
		return cannot("no memory hotplug (" MEMDIR ")");
	saved_nr = read_long(NR_HUGE);
	if (saved_nr < 0)
		return cannot("no hugetlb pool (" NR_HUGE ")");
	find_blocks();
	if (!nr_blocks)
		return cannot("no online memory block outside ZONE_MOVABLE to offline");
	kfd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (kfd < 0)
		return cannot("cannot read /dev/kmsg");
	lseek(kfd, 0, SEEK_END);
	/* enough pages that they spill out of ZONE_MOVABLE, and memory left over */
	free_kb = meminfo_kb("MemFree");
	grow_to = saved_nr + (free_kb > 0 ? free_kb * 6 / 10 / 2048 : 0);
	if (grow_to - saved_nr < 16)
		return cannot("too little free memory for the hugetlb pool churn");
	sigaction(SIGUSR1, &su, NULL);	/* no SA_RESTART: the write returns EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* vmemmap-optimized pages take much longer to free: the window opens wide */
	saved_hvo = read_long(HVO);
	if (saved_hvo >= 0 && write_long(HVO, 1))
		saved_hvo = -1;
	keeper = saved_hvo >= 0 && hold_keeper();
	uname(&u);
	printf("kernel %s; %d blocks outside ZONE_MOVABLE to offline; hugetlb pool %ld <-> %ld pages, hugetlb_optimize_vmemmap %s%s; %.0f s\n",
	       u.release, nr_blocks, saved_nr, grow_to, saved_hvo >= 0 ? "1" : "not available",
	       keeper ? ", one optimized page held" : "", secs);
	if (pthread_create(&tc, NULL, churn, NULL) || pthread_create(&to, NULL, offliner, NULL)) {
		stop = 1;
		restore();
		return cannot("pthread_create failed");
	}
	t0 = now();
	while (!stop && now() - t0 < secs) {
		double w = write_since[1];

		usleep(100 * 1000);
		if (scan_kmsg(kfd)) {
			oopsed = 1;
			break;
		}
		if (w && now() - w > 3)	/* an offline that will not finish: give up on it */
			pthread_kill(to, SIGUSR1);
	}
	if (oopsed) {
		printf("BUG: offlining a memory block oopsed in the unmovable-page check (NULL hstate of a hugetlb page freed under it) after %.1f s, %lu offline attempts, %lu pool cycles; memory hotplug now hangs until a reboot\n",
		       now() - t0, attempts, pool_cycles);
		fflush(stdout);
		_exit(1);	/* the threads may be stuck behind the dead one's locks */
	}
	stop = 1;
	/* both threads, each write interrupted if need be; at most 20 s */
	for (t1 = now(); now() - t1 < 20; usleep(50 * 1000)) {
		if (!joined[0] && !pthread_tryjoin_np(tc, NULL))
			joined[0] = true;
		if (!joined[1] && !pthread_tryjoin_np(to, NULL))
			joined[1] = true;
		if (joined[0] && joined[1])
			break;
		if (!joined[0])
			pthread_kill(tc, SIGUSR1);
		if (!joined[1])
			pthread_kill(to, SIGUSR1);
	}
	if (!joined[0] || !joined[1]) {
		printf("STUCK: a %s write has not returned in 20 s after the stop, even interrupted (not this bug: see the kernel log for soft lockups)\n",
		       !joined[1] ? "memory block state" : "nr_hugepages");
		fflush(stdout);
		_exit(2);
	}
	restore();
	usleep(200 * 1000);
	if (scan_kmsg(kfd)) {
		printf("BUG: offlining a memory block oopsed in the unmovable-page check\n");
		return 1;
	}
	printf("OK: %lu offline attempts (%lu went offline) against %lu hugetlb pool grow/shrink cycles in %.1f s, no oops\n",
	       attempts, offlined, pool_cycles, now() - t0);
	return 0;
}
