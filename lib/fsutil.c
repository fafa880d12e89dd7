/*
 * fsutil.c — mkdir -p, whole-file reads, atomic writes and flock-based locks (floor 1).
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "fsutil.h"
#include "util.h"
#include "banned.h"

/* Record that creating what (a "directory", a "lock file") at path failed with errno:
 * MLCTL_ECREATE (exit 73) whatever the reason, a missing parent included, where
 * mlctl_error_errno() would call ENOENT and ENOTDIR "not found". The message names the
 * path and the reason. */
static int create_failed(const char *what, const char *path)
{
	int saved = errno;

	return mlctl_error_set(saved == ENOMEM ? MLCTL_ENOMEM : MLCTL_ECREATE, "cannot create %s %s: %s",
			       what, path, strerror(saved));
}

int fs_mkdir_p(const char *dir)
{
	char *p, *s;
	int ret = 0;

	if (!*dir)
		return mlctl_error_set(MLCTL_EUSAGE, "cannot create a directory with an empty name");
	if (!(s = mlctl_strdup(dir)))
		return MLCTL_ENOMEM;
	/* Each prefix ending at a slash, then the whole: created, or there already as a
	 * directory. A file in the way is MLCTL_ECREATE naming it. */
	for (p = s + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdir(s, 0777) != 0) {
				if (errno != EEXIST) {
					ret = create_failed("directory", s);
					break;
				}
				if (!fs_is_dir(s)) {
					ret = mlctl_error_set(MLCTL_ECREATE, "cannot create directory %s: %s%s", dir,
							      c ? s : "a file is in the way", c ? " is not a directory" : "");
					break;
				}
			}
			*p = c;
			if (c == '\0')
				break;
		}
	}
	free(s);
	return ret;
}

int fs_read_file(char **out, size_t *len, const char *path, size_t max)
{
	strbuf sb = MLCTL_STRBUF_INIT;
	char chunk[65536];
	int fd, ret = 0;
	ssize_t n;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mlctl_error_errno(MLCTL_EIO, "cannot open %s", path);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = mlctl_error_errno(MLCTL_EIO, "cannot read %s", path);
			goto out;
		}
		if (max && sb.len + (size_t)n > max) {
			ret = mlctl_error_set(MLCTL_EDATA, "%s: larger than %zu bytes", path, max);
			goto out;
		}
		if ((ret = strbuf_add(&sb, chunk, (size_t)n)))
			goto out;
	}
	*out = strbuf_detach(&sb, len);
	if (!*out)
		ret = MLCTL_ENOMEM;
out:
	strbuf_release(&sb);
	close(fd);
	return ret;
}

char *fs_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return mlctl_strdup(".");
	if (slash == path)
		return mlctl_strdup("/");
	return strndup(path, (size_t)(slash - path));
}

char *fs_join(const char *a, const char *b)
{
	size_t la = strlen(a);

	if (la && a[la - 1] == '/')
		return mlctl_asprintf("%s%s", a, b);
	return mlctl_asprintf("%s/%s", a, b);
}

bool fs_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

bool fs_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int fs_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return mlctl_error_errno(MLCTL_EIO, "cannot open directory %s", dir);
	if (fsync(fd) != 0 && errno != EINVAL) {
		int ret = mlctl_error_errno(MLCTL_EIO, "cannot sync directory %s", dir);

		close(fd);
		return ret;
	}
	close(fd);
	return 0;
}

/*
 * The file an output path names: a symlink (or a chain of them) is followed to the file it
 * points at, which need not exist yet, so that the link stays a link and its target gets
 * the output. Returns a fresh string.
 */
static int resolve_output(char **out, const char *path)
{
	char *cur = mlctl_strdup(path);
	int hops;

	*out = NULL;
	if (!cur)
		return MLCTL_ENOMEM;
	for (hops = 0; hops < 40; hops++) {
		struct stat st;
		char *link = NULL, *next;
		size_t cap = 256;
		ssize_t n = -1;

		if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode)) {
			*out = cur;
			return 0;
		}
		/* Grow until the target fits: st_size is 0 for some links (/proc). */
		for (;;) {
			char *p = realloc(link, cap);

			if (!p)
				break;
			link = p;
			n = readlink(cur, link, cap);
			if (n < 0 || (size_t)n < cap)
				break;
			cap *= 2;
		}
		if (n < 0) {
			int ret = link ? mlctl_error_errno(MLCTL_ECREATE, "cannot read the link %s", cur) : MLCTL_ENOMEM;

			free(link);
			free(cur);
			return ret;
		}
		link[n] = 0;
		if (link[0] == '/') {
			next = mlctl_strdup(link);
		} else {
			char *dir = fs_dirname(cur);

			next = dir ? fs_join(dir, link) : NULL;
			free(dir);
		}
		free(link);
		free(cur);
		if (!(cur = next))
			return MLCTL_ENOMEM;
	}
	free(cur);
	return mlctl_error_set(MLCTL_ECREATE, "cannot create %s: too many levels of symbolic links", path);
}

int fs_atomic_open(fs_atomic **out, const char *path, int mode)
{
	fs_atomic *af;
	char *dir = NULL, *target = NULL;
	const char *base;
	struct stat st;
	int fd, ret = 0;

	*out = NULL;
	if ((ret = resolve_output(&target, path)))
		return ret;
	af = mlctl_calloc(1, sizeof(*af));
	if (!af) {
		free(target);
		return MLCTL_ENOMEM;
	}
	af->path = target;
	if (stat(target, &st) == 0 && S_ISDIR(st.st_mode)) {
		ret = mlctl_error_set(MLCTL_ECREATE, "cannot create %s: it is a directory", path);
		goto fail;
	}
	if (stat(target, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) || S_ISSOCK(st.st_mode))) {
		/* A pipe or a device is written in place, as it streams: there is nothing to
		 * rename over it (and renaming would replace the node with a plain file). */
		fd = open(target, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || !(af->fp = fdopen(fd, "w"))) {
			ret = mlctl_error_errno(MLCTL_ECREATE, "cannot open %s", path);
			if (fd >= 0)
				close(fd);
			goto fail;
		}
		*out = af;
		return 0;
	}
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	dir = fs_dirname(target);
	/* The pid in the name lets fs_atomic_sweep() tell a dead writer's leftover from a
	 * live writer's file. */
	af->tmp = dir ? mlctl_asprintf("%s/.%s.tmp.%d.XXXXXX", dir, base, (int)getpid()) : NULL;
	if (!af->tmp) {
		ret = MLCTL_ENOMEM;
		goto fail;
	}
	fd = mkstemp(af->tmp);
	if (fd < 0) {
		ret = mlctl_error_errno(MLCTL_ECREATE, "cannot create %s", path);
		if (ret == MLCTL_ENOTFOUND)
			mlctl_error_set(ret = MLCTL_ECREATE, "cannot create %s: directory %s does not exist", path, dir);
		goto fail;
	}
	if (fchmod(fd, (mode_t)mode) != 0 || !(af->fp = fdopen(fd, "w"))) {
		ret = mlctl_error_errno(MLCTL_ECREATE, "cannot create %s", af->tmp);
		close(fd);
		unlink(af->tmp);
		goto fail;
	}
	free(dir);
	*out = af;
	return 0;
fail:
	free(dir);
	free(af->path);
	free(af->tmp);
	free(af);
	return ret;
}

int fs_atomic_commit(fs_atomic *af)
{
	char *dir = NULL;
	int ret = 0;

	if (!af->tmp) {		/* a pipe or a device: flushed, nothing to rename */
		if (fflush(af->fp) != 0 || ferror(af->fp)) {
			ret = mlctl_error_errno(MLCTL_EIO, "cannot write %s", af->path);
			fclose(af->fp);
		} else if (fclose(af->fp) != 0) {
			ret = mlctl_error_errno(MLCTL_EIO, "cannot write %s", af->path);
		}
		goto out;
	}
	if (fflush(af->fp) != 0 || ferror(af->fp) || fsync(fileno(af->fp)) != 0) {
		ret = mlctl_error_errno(MLCTL_EIO, "cannot write %s", af->path);
		fclose(af->fp);
		unlink(af->tmp);
		goto out;
	}
	if (fclose(af->fp) != 0) {
		ret = mlctl_error_errno(MLCTL_EIO, "cannot write %s", af->path);
		unlink(af->tmp);
		goto out;
	}
	if (rename(af->tmp, af->path) != 0) {
		ret = mlctl_error_errno(MLCTL_ECREATE, "cannot rename %s to %s", af->tmp, af->path);
		unlink(af->tmp);
		goto out;
	}
	dir = fs_dirname(af->path);
	if (dir)
		ret = fs_fsync_dir(dir);
out:
	free(dir);
	free(af->path);
	free(af->tmp);
	free(af);
	return ret;
}

void fs_atomic_abort(fs_atomic *af)
{
	if (!af)
		return;
	fclose(af->fp);
	if (af->tmp)
		unlink(af->tmp);
	free(af->path);
	free(af->tmp);
	free(af);
}

void fs_atomic_sweep(const char *output)
{
	char *path = NULL, *dir, *prefix;
	const char *base;
	struct dirent *e;
	size_t plen;
	DIR *d;

	if (resolve_output(&path, output)) {
		mlctl_error_clear();
		return;
	}
	base = strrchr(path, '/');
	dir = fs_dirname(path);

	base = base ? base + 1 : path;
	prefix = mlctl_asprintf(".%s.tmp.", base);
	if (!dir || !prefix || !(d = opendir(dir))) {
		free(path);
		free(dir);
		free(prefix);
		mlctl_error_clear();
		return;
	}
	plen = strlen(prefix);
	while ((e = readdir(d))) {
		char *end, *file;
		long pid;

		if (strncmp(e->d_name, prefix, plen) != 0)
			continue;
		pid = strtol(e->d_name + plen, &end, 10);
		if (end == e->d_name + plen || *end != '.' || pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		if ((file = fs_join(dir, e->d_name)))
			unlink(file);
		free(file);
	}
	closedir(d);
	free(path);
	free(dir);
	free(prefix);
}

int fs_write_atomic(const char *path, const void *data, size_t len, int mode)
{
	fs_atomic *af;
	int ret = fs_atomic_open(&af, path, mode);

	if (ret)
		return ret;
	if (len && fwrite(data, 1, len, af->fp) != len) {
		ret = mlctl_error_errno(MLCTL_EIO, "cannot write %s", path);
		fs_atomic_abort(af);
		return ret;
	}
	return fs_atomic_commit(af);
}

static int lock_path(int *out_fd, const char *path, int op, double wait_secs,
		     const volatile sig_atomic_t *cancel)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	double start = mlctl_monotonic();
	int fd;

	*out_fd = -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0)	/* a missing directory too is "cannot create" here (73), not "not found" */
		return create_failed("lock file", path);
	for (;;) {
		if (mlctl_cancelled(cancel)) {
			close(fd);
			return mlctl_error_set(MLCTL_ECANCELED, "cancelled while waiting for the lock %s", path);
		}
		if (flock(fd, op | (wait_secs < 0 ? 0 : LOCK_NB)) == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			int ret = mlctl_error_errno(MLCTL_EIO, "cannot lock %s", path);

			close(fd);
			return ret;
		}
		if (mlctl_monotonic() - start >= wait_secs) {
			close(fd);
			return mlctl_error_set(MLCTL_ELOCKED, "%s is locked by another process", path);
		}
		nanosleep(&pause, NULL);
	}
	*out_fd = fd;
	return 0;
}

int fs_lock(int *out_fd, const char *path, double wait_secs)
{
	return lock_path(out_fd, path, LOCK_EX, wait_secs, NULL);
}

int fs_lock_cancel(int *out_fd, const char *path, double wait_secs, const volatile sig_atomic_t *cancel)
{
	return lock_path(out_fd, path, LOCK_EX, wait_secs, cancel);
}

int fs_lock_shared(int *out_fd, const char *path, double wait_secs)
{
	return lock_path(out_fd, path, LOCK_SH, wait_secs, NULL);
}

void fs_unlock(int fd)
{
	if (fd >= 0) {
		flock(fd, LOCK_UN);
		close(fd);
	}
}
