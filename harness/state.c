// SPDX-License-Identifier: GPL-2.0
/*
 * state.c - save and restore the system state a run changes.
 *
 * Before a knob (sysctl, sysfs file), a mount or a temporary directory is
 * touched, its original state is appended to a state file that is written
 * atomically and fsync'd.  Restoring walks the entries backwards.  The state
 * file outlives a killed run; the next run (or `mmtorture restore`) finds it
 * and puts everything back.  A flock on a lock file keeps runs apart.
 *
 * The state directory is /run/mmtorture (tmpfs: a reboot resets the knobs
 * to their boot values and clears the file with them), or $MMT_STATE_DIR.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static struct {
	char dir[PATH_MAX];
	char file[PATH_MAX];
	int lock_fd;
	json_t *doc;		/* { schema, pid, started, entries: [...] } */
	bool had_stale;
} st = { .lock_fd = -1 };

const char *mmt_state_dir(void)
{
	const char *d;

	if (st.dir[0])
		return st.dir;
	d = getenv("MMT_STATE_DIR");
	snprintf(st.dir, sizeof(st.dir), "%s", d && *d ? d : MMT_DEFAULT_STATE_DIR);
	snprintf(st.file, sizeof(st.file), "%s/state.json", st.dir);
	return st.dir;
}

bool mmt_state_active(void)
{
	return st.doc && json_array_size(json_object_get(st.doc, "entries"));
}

static int state_flush(void)
{
	char *text;
	int ret;

	if (!json_array_size(json_object_get(st.doc, "entries"))) {
		if (unlink(st.file) && errno != ENOENT)
			return -errno;
		return 0;
	}
	text = json_dumps(st.doc, JSON_INDENT(1));
	if (!text)
		return -ENOMEM;
	ret = mmt_write_atomic(st.file, text, strlen(text));
	free(text);
	return ret;
}

int mmt_knob_parse(char *raw, char *buf, size_t len)
{
	const char *v;
	char *open, *close;

	/* "always [madvise] never" selects madvise */
	open = strchr(raw, '[');
	close = open ? strchr(open, ']') : NULL;
	if (open && close) {
		*close = '\0';
		v = open + 1;
	} else {
		v = mmt_strip(raw);
	}
	if (strlen(v) >= len)
		return -ENOSPC;
	strcpy(buf, v);
	return 0;
}

int mmt_knob_read(const char *path, char *buf, size_t len)
{
	char raw[4096];
	ssize_t n;

	n = mmt_read_file(path, raw, sizeof(raw));
	if (n < 0)
		return (int)n;
	return mmt_knob_parse(raw, buf, len);
}

int mmt_knob_read_u64(const char *path, uint64_t *value)
{
	char buf[64];
	char *end;
	int ret;

	ret = mmt_knob_read(path, buf, sizeof(buf));
	if (ret)
		return ret;
	errno = 0;
	*value = strtoull(buf, &end, 10);
	if (errno || end == buf)
		return -EINVAL;
	return 0;
}

static json_t *find_entry(const char *kind, const char *path)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(st.doc, "entries"), i, e) {
		if (!strcmp(json_string_value(json_object_get(e, "kind")), kind) &&
		    !strcmp(json_string_value(json_object_get(e, "path")), path))
			return e;
	}
	return NULL;
}

int mmt_state_add(const char *kind, const char *path, const char *value)
{
	json_t *e;

	if (!st.doc)
		return -EBADF;
	if (find_entry(kind, path))
		return 0;
	e = json_pack("{s:s, s:s}", "kind", kind, "path", path);
	if (!e)
		return -ENOMEM;
	if (value)
		json_object_set_new(e, "value", json_string(value));
	json_array_append_new(json_object_get(st.doc, "entries"), e);
	return state_flush();
}

int mmt_state_save_knob(const char *path)
{
	char orig[4096];
	int ret;

	if (!st.doc)
		return -EBADF;
	if (find_entry("knob", path))
		return 0;
	ret = mmt_knob_read(path, orig, sizeof(orig));
	if (ret)
		return ret;
	return mmt_state_add("knob", path, orig);
}

static int restore_knob(const char *path, const char *value)
{
	char now[4096];
	int tries, ret = 0;

	/*
	 * Shrinking a hugetlb pool can lag behind pages still being freed by
	 * exiting workers; retry briefly (bounded) until the value sticks.
	 */
	for (tries = 0; tries < 50; tries++) {
		ret = mmt_write_str(path, value);
		if (!ret && !mmt_knob_read(path, now, sizeof(now)) && !strcmp(now, value))
			return 0;
		if (ret == -ENOENT)
			return ret;
		usleep(100 * 1000);
	}
	return ret ? ret : -EAGAIN;
}

/* Does an online block sit in the zone that `online` (online_movable / online_kernel) names? */
static bool in_saved_zone(const char *state_path, const char *online)
{
	char zpath[PATH_MAX], zones[256];
	const char *slash = strrchr(state_path, '/');

	if (!slash || !strcmp(online, "online"))
		return true;
	snprintf(zpath, sizeof(zpath), "%.*s/valid_zones", (int)(slash - state_path), state_path);
	if (mmt_knob_read(zpath, zones, sizeof(zones)))
		return true;
	if (!strcmp(online, "online_movable"))
		return !strncmp(zones, "Movable", 7);
	return strncmp(zones, "Movable", 7) != 0;
}

/*
 * Online a block that a workload left offline, in its old zone if allowed;
 * a block left online in another zone (a workload moved it to ZONE_MOVABLE
 * and was killed) is offlined, bounded in time, and onlined in the old one.
 */
static int restore_memblock(const char *path, const char *online)
{
	char now[64];
	int ret;

	ret = mmt_knob_read(path, now, sizeof(now));
	if (ret == -ENOENT)
		return 0;	/* the block was hot-removed: nothing to online */
	if (ret)
		return ret;
	if (!strcmp(now, "online")) {
		if (in_saved_zone(path, online))
			return 0;
		ret = mmt_write_timeout(path, "offline", 10000);
		if (ret) {
			mmt_errmsg("warning: %s is online but not in its old zone (%s), and could not be offlined to move it back: %s",
				   path, online, strerror(-ret));
			return 0;
		}
	}
	ret = mmt_write_str(path, online);
	if (ret && strcmp(online, "online"))
		ret = mmt_write_str(path, "online");
	if (ret)
		mmt_errmsg("could not online %s again: %s", path, strerror(-ret));
	return ret;
}

static int restore_entry(json_t *e)
{
	const char *kind = json_string_value(json_object_get(e, "kind"));
	const char *path = json_string_value(json_object_get(e, "path"));
	const char *value = json_string_value(json_object_get(e, "value"));
	int ret = 0;

	if (!kind || !path)
		return -EINVAL;
	if (!strcmp(kind, "knob")) {
		if (!value)
			return -EINVAL;
		ret = restore_knob(path, value);
		if (ret)
			mmt_errmsg("could not restore %s to '%s': %s", path, value, strerror(-ret));
	} else if (!strcmp(kind, "memblock")) {
		ret = restore_memblock(path, value ? value : "online");
	} else if (!strcmp(kind, "mount")) {
		if (umount2(path, MNT_DETACH) && errno != EINVAL && errno != ENOENT) {
			ret = -errno;
			mmt_errmsg("could not unmount %s: %s", path, strerror(errno));
		}
		if (rmdir(path) && errno != ENOENT && !ret)
			ret = -errno;
	} else if (!strcmp(kind, "dir")) {
		ret = mmt_rm_rf(path);
		if (ret == -ENOENT)
			ret = 0;
		if (ret)
			mmt_errmsg("could not remove %s: %s", path, strerror(-ret));
	} else {
		mmt_errmsg("state entry of unknown kind '%s' for %s left alone", kind, path);
		ret = -EINVAL;
	}
	return ret;
}

static int restore_doc(json_t *doc)
{
	json_t *entries = json_object_get(doc, "entries");
	int ret = 0, r;
	size_t i;

	if (!json_is_array(entries))
		return -EINVAL;
	for (i = json_array_size(entries); i-- > 0;) {
		r = restore_entry(json_array_get(entries, i));
		if (r && !ret)
			ret = r;
	}
	return ret;
}

int mmt_state_restore(void)
{
	sigset_t all, old;
	int ret;

	if (!st.doc)
		return 0;
	/* No Ctrl-C half way through putting things back. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	ret = restore_doc(st.doc);
	json_array_clear(json_object_get(st.doc, "entries"));
	if (state_flush() && !ret)
		ret = -EIO;
	sigprocmask(SIG_SETMASK, &old, NULL);
	return ret;
}

static json_t *load_stale(char *why, size_t len)
{
	json_error_t jerr;
	json_t *doc;
	const char *schema;

	doc = json_load_file(st.file, 0, &jerr);
	if (!doc) {
		snprintf(why, len, "%s: %s (line %d)", st.file, jerr.text, jerr.line);
		return NULL;
	}
	schema = json_string_value(json_object_get(doc, "schema"));
	if (!schema || strcmp(schema, MMT_STATE_SCHEMA)) {
		snprintf(why, len, "%s: unknown schema '%s'", st.file, schema ? schema : "(none)");
		json_decref(doc);
		return NULL;
	}
	return doc;
}

int mmt_state_restore_stale(bool *found)
{
	char why[PATH_MAX + 128];
	const char *started;
	json_t *doc;
	int ret;

	*found = false;
	mmt_state_dir();
	if (access(st.file, F_OK))
		return 0;
	*found = true;
	doc = load_stale(why, sizeof(why));
	if (!doc) {
		mmt_errmsg("cannot read the saved state: %s; inspect it, put the knobs back by hand, then remove it",
			   why);
		return -EINVAL;
	}
	started = json_string_value(json_object_get(doc, "started"));
	mmt_msg("restoring the state saved by run pid %lld (started %s): %zu entries\n",
		(long long)json_integer_value(json_object_get(doc, "pid")),
		started ? started : "?", json_array_size(json_object_get(doc, "entries")));
	ret = restore_doc(doc);
	json_decref(doc);
	if (!ret && unlink(st.file))
		ret = -errno;
	return ret;
}

static int take_lock(double timeout_s)
{
	char path[PATH_MAX], owner[64] = "";
	double deadline = mmt_mono_s() + timeout_s;
	bool told = false;
	int fd;

	snprintf(path, sizeof(path), "%s/lock", st.dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (!flock(fd, LOCK_EX | LOCK_NB))
			break;
		if (errno != EWOULDBLOCK) {
			close(fd);
			return -errno;
		}
		if (pread(fd, owner, sizeof(owner) - 1, 0) < 0)
			owner[0] = '\0';
		if (mmt_mono_s() >= deadline) {
			mmt_errmsg("another mmtorture run (pid %s) holds %s; wait for it to finish or use --lock-timeout SECONDS",
				   mmt_strip(owner), path);
			close(fd);
			return -EBUSY;
		}
		if (!told) {
			mmt_msg("waiting up to %.0f s for another mmtorture run (pid %s) to finish\n",
				timeout_s, mmt_strip(owner));
			told = true;
		}
		usleep(200 * 1000);
	}
	snprintf(owner, sizeof(owner), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) == 0 && pwrite(fd, owner, strlen(owner), 0) < 0)
		owner[0] = '\0';
	st.lock_fd = fd;
	return 0;
}

int mmt_state_open(double lock_timeout_s)
{
	struct timespec now;
	char iso[64];
	bool found;
	int ret;

	mmt_state_dir();
	ret = mmt_mkdir_p(st.dir, 0755);
	if (ret) {
		mmt_errmsg("cannot create the state directory %s: %s (run as root, or set MMT_STATE_DIR)",
			   st.dir, strerror(-ret));
		return ret;
	}
	ret = take_lock(lock_timeout_s);
	if (ret) {
		if (ret != -EBUSY)
			mmt_errmsg("cannot lock %s/lock: %s", st.dir, strerror(-ret));
		return ret;
	}
	if (!access(st.file, F_OK)) {
		mmt_msg("found system state left by a run that was killed; restoring it first\n");
		ret = mmt_state_restore_stale(&found);
		st.had_stale = true;
		if (ret) {
			mmt_errmsg("could not restore the stale state in %s; fix it, then run `mmtorture restore`",
				   st.file);
			goto out_unlock;
		}
	}
	clock_gettime(CLOCK_REALTIME, &now);
	mmt_iso8601(&now, iso, sizeof(iso));
	st.doc = json_pack("{s:s, s:i, s:s, s:[]}", "schema", MMT_STATE_SCHEMA,
			   "pid", (json_int_t)getpid(), "started", iso, "entries");
	if (!st.doc) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	return 0;

out_unlock:
	close(st.lock_fd);
	st.lock_fd = -1;
	return ret;
}

void mmt_state_close(void)
{
	mmt_state_restore();
	json_decref(st.doc);
	st.doc = NULL;
	if (st.lock_fd >= 0) {
		/* the lock file stays (it is the flock target); the owner pid goes */
		if (ftruncate(st.lock_fd, 0) < 0)
			mmt_errmsg("warning: cannot clear %s/lock: %s", st.dir, strerror(errno));
		close(st.lock_fd);
		st.lock_fd = -1;
	}
}

bool mmt_state_had_stale(void)
{
	return st.had_stale;
}

/*
 * In a forked worker: close the inherited lock descriptor (flock locks follow
 * the open file, so a worker outliving a killed parent would keep the lock).
 */
void mmt_state_drop_lock(void)
{
	if (st.lock_fd >= 0)
		close(st.lock_fd);
	st.lock_fd = -1;
}
