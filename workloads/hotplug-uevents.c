// SPDX-License-Identifier: GPL-2.0
/*
 * mmt-hotplug-uevents - count the memory blocks a command takes offline and online, as the
 * kernel announces them, without slowing the command down.
 *
 * Usage: mmt-hotplug-uevents [-o FILE] -- COMMAND [ARGS...]
 *
 * Every successful write of a memory block's state file ends in device_offline() or
 * device_online(), which send an "offline@" or "online@" uevent for the block over the
 * kernel's uevent netlink socket; refused writes send nothing.  This listens on that socket
 * (group 1, the kernel's own messages) while COMMAND runs and counts them, so the hotplug
 * peer comparison counts both tools' successful offlines the same way, at no cost to either
 * (counting writes under strace, as an earlier version did, slowed stress-ng six-fold).
 * It prints "offline=N online=M lost=L seconds=S" to stdout, or to FILE (written whole,
 * then renamed into place); lost is the number of times the socket overflowed (ENOBUFS),
 * after which the counts are too low, so a loss makes the exit 1.
 *
 * Exit: COMMAND's exit status (128 + signal if it was killed), 1 if uevents were lost,
 * 99 on bad usage or when the socket cannot be opened (root is not needed).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/netlink.h>

struct counts {
	uint64_t offline, online, lost;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One message: "ACTION@DEVPATH\0KEY=VALUE\0...". */
static void count_one(struct counts *c, const char *msg, size_t len)
{
	const char *p = msg, *end = msg + len, *action = NULL;
	bool memory = false;

	for (; p < end; p += strlen(p) + 1) {
		if (!strncmp(p, "ACTION=", 7))
			action = p + 7;
		else if (!strcmp(p, "SUBSYSTEM=memory"))
			memory = true;
	}
	if (!memory || !action)
		return;
	if (!strcmp(action, "offline"))
		c->offline++;
	else if (!strcmp(action, "online"))
		c->online++;
}

/* Read whatever is queued; false once nothing is left. */
static bool drain(int fd, struct counts *c)
{
	static char buf[16384];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	if (n < 0) {
		if (errno == ENOBUFS) {
			c->lost++;
			return true;
		}
		return false;
	}
	buf[n] = '\0';
	count_one(c, buf, (size_t)n);
	return true;
}

static int report(const char *file, const struct counts *c, double secs)
{
	char tmp[4096];
	FILE *f = stdout;

	if (file) {
		snprintf(tmp, sizeof(tmp), "%s.tmp", file);
		f = fopen(tmp, "w");
		if (!f) {
			fprintf(stderr, "mmt-hotplug-uevents: cannot write %s: %s\n", tmp,
				strerror(errno));
			return -1;
		}
	}
	fprintf(f, "offline=%llu online=%llu lost=%llu seconds=%.3f\n",
		(unsigned long long)c->offline, (unsigned long long)c->online,
		(unsigned long long)c->lost, secs);
	if (file && (fclose(f) || rename(tmp, file))) {
		fprintf(stderr, "mmt-hotplug-uevents: cannot write %s: %s\n", file, strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	const char *file = NULL;
	struct counts c = { 0 };
	int fd, status = 0, rc, i = 1, rcvbuf = 32 << 20;
	double t0;
	pid_t pid;

	if (i + 1 < argc && !strcmp(argv[i], "-o")) {
		file = argv[i + 1];
		i += 2;
	}
	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	if (i >= argc || argv[i][0] == '-') {
		fprintf(stderr, "usage: mmt-hotplug-uevents [-o FILE] -- COMMAND [ARGS...]\n");
		return 99;
	}
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "mmt-hotplug-uevents: cannot listen for kernel uevents: %s\n",
			strerror(errno));
		return 99;
	}
	/* a few thousand events a second: a big buffer, forced past rmem_max when root */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	t0 = now_s();
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "mmt-hotplug-uevents: fork: %s\n", strerror(errno));
		return 99;
	}
	if (!pid) {
		execvp(argv[i], argv + i);
		fprintf(stderr, "mmt-hotplug-uevents: cannot run %s: %s\n", argv[i],
			strerror(errno));
		_exit(127);
	}
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		pid_t w;

		if (poll(&pfd, 1, 100) > 0)
			while (drain(fd, &c))
				;
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid || (w < 0 && errno != EINTR))
			break;
	}
	/* the last events are sent before the writes return: whatever is queued is all */
	while (drain(fd, &c))
		;
	close(fd);
	if (report(file, &c, now_s() - t0))
		return 99;
	if (c.lost) {
		fprintf(stderr, "mmt-hotplug-uevents: the uevent socket overflowed %llu times: the counts are too low\n",
			(unsigned long long)c.lost);
		return 1;
	}
	if (WIFSIGNALED(status))
		rc = 128 + WTERMSIG(status);
	else
		rc = WEXITSTATUS(status);
	return rc;
}
