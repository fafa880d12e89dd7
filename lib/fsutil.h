/*
 * fsutil.h — file-system helpers (floor 1): mkdir -p, whole-file reads, atomic writes
 * (temp file in the same directory, fsync, rename, fsync of the directory) and locks.
 */
#ifndef MLCTL_FSUTIL_H
#define MLCTL_FSUTIL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Create dir and its missing parents with mode 0777 & ~umask. An empty dir is
 * MLCTL_EUSAGE; any failure to create, a file in the way included, MLCTL_ECREATE. */
int fs_mkdir_p(const char *dir);

/* Read a whole file into a fresh NUL-terminated buffer (len excludes the NUL). Refuses
 * files larger than max bytes (0: no limit) with MLCTL_EDATA. */
int fs_read_file(char **out, size_t *len, const char *path, size_t max);

/* Write data to path atomically: a temp file next to it, fsynced, renamed over path. */
int fs_write_atomic(const char *path, const void *data, size_t len, int mode);

/*
 * An output file being written under a temp name: fs_atomic_open() creates
 * "<dir>/.<base>.tmp.XXXXXX"; fs_atomic_commit() flushes, fsyncs and renames it to path;
 * fs_atomic_abort() removes it. Exactly one of commit or abort must be called; both free af.
 * A symlink is followed: the file it names is replaced, the link stays. A FIFO, a character
 * device or a socket is written in place, streaming (tmp is NULL; commit flushes and closes
 * it, abort closes it). A directory is refused with MLCTL_ECREATE.
 */
typedef struct fs_atomic {
	FILE *fp;
	char *path;		/* the file written: path with its symlinks followed */
	char *tmp;		/* the temp file, or NULL when writing in place */
} fs_atomic;
int fs_atomic_open(fs_atomic **out, const char *path, int mode);
int fs_atomic_commit(fs_atomic *af);
void fs_atomic_abort(fs_atomic *af);

/* Remove the temp files a killed fs_atomic_open() writer of path left behind (those whose
 * process is gone); a live writer's file is left alone. */
void fs_atomic_sweep(const char *path);

/* fsync a directory so that a rename in it is durable. */
int fs_fsync_dir(const char *dir);

/* Directory part of path ("." when none), fresh allocation. */
char *fs_dirname(const char *path);
/* path1 "/" path2, fresh allocation. */
char *fs_join(const char *a, const char *b);
bool fs_exists(const char *path);
bool fs_is_dir(const char *path);

/*
 * An exclusive advisory lock (flock) on path, created if needed. wait_secs < 0 waits
 * forever, 0 fails at once, > 0 waits that long. MLCTL_ELOCKED when it is held elsewhere.
 * The lock is released by fs_unlock() or when the process dies.
 */
int fs_lock(int *out_fd, const char *path, double wait_secs);
/* fs_lock() that gives up with MLCTL_ECANCELED once *cancel is nonzero (checked every
 * 20 ms, and when a blocking wait is interrupted by a signal). */
int fs_lock_cancel(int *out_fd, const char *path, double wait_secs, const volatile sig_atomic_t *cancel);
/* The same lock taken shared: many holders at once, none while it is held exclusively. */
int fs_lock_shared(int *out_fd, const char *path, double wait_secs);
void fs_unlock(int fd);

#endif
