/*
 * predlog.c — a server's prediction log (floor 2). Request threads push malloc'd lines into
 * a bounded queue; one writer thread takes the whole queue at once and appends it to the
 * file with writev(2), rotating the file by size.
 *
 * The queue is two arrays of queue_lines entries: the callers fill one while the writer
 * writes the other, and the writer swaps them under the mutex. A push is then a bounds
 * check and a store (no allocation, no I/O under the lock), and the writer holds the lock
 * only for the swap and to publish its counters. Every counter lives under the mutex.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "error.h"
#include "predlog.h"
#include "util.h"
#include "banned.h"

#define PREDLOG_KEEP 3
#define PREDLOG_QUEUE_LINES 4096
#define PREDLOG_QUEUE_BYTES ((size_t)64 << 20)
/* Lines per writev(2): IOV_MAX is 1024 on Linux, and POSIX promises at least 16. */
#define PREDLOG_IOV 1024

typedef struct entry {
	char *line;
	size_t len;
} entry;

struct predlog {
	char *path;
	uint64_t max_bytes;
	int keep;

	pthread_mutex_t mu;
	pthread_cond_t cv;            /* the writer waits here for lines or for stop */
	pthread_t thread;

	/* Under mu: the queue being filled, the flag that stops the writer, the counters and
	 * the first error (errno and what failed). */
	entry *q;
	size_t n, qbytes, cap_lines, cap_bytes;
	bool stop;
	predlog_stats st;
	int err_errno;
	const char *err_what;

	/* The writer's alone (and close()'s after the join). */
	entry *wq;                    /* the array being written */
	struct iovec *iov;
	int niov;
	int fd;
	uint64_t size;                /* the file's size as far as we have written it */
	uint64_t limit;               /* rotate before a write would pass this */
};

/* What one batch did, published under the mutex when it is written. */
typedef struct batch_result {
	predlog_stats st;
	int err_errno;
	const char *err_what;
} batch_result;

static void note_error(batch_result *r, const char *what, int err)
{
	if (!r->err_what) {
		r->err_what = what;
		r->err_errno = err;
	}
}

static int open_log(const char *path)
{
	int fd, fl;

	/* O_NONBLOCK so that a FIFO nobody reads fails at once (ENXIO) instead of hanging the
	 * caller; writes then block as usual. */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0644);
	if (fd < 0)
		return -1;
	if ((fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static uint64_t fd_size(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && st.st_size > 0 ? (uint64_t)st.st_size : 0;
}

/* True when adding add bytes to a file of size bytes would take it past limit. */
static bool would_pass(uint64_t size, uint64_t add, uint64_t limit)
{
	return size > limit || add > limit - size;
}

/*
 * path.(k-1) → path.k for k = keep..2, path → path.1, then a fresh path. The renames come
 * first, while the old file is still open, so that when any step fails the writer keeps
 * appending to the file it has (now perhaps path.1) and loses nothing. A file missing from
 * the chain is no error (path itself included: someone removed it, and a fresh one is what
 * is wanted). A failure counts one error and pushes the next attempt one max_bytes further
 * on, so a directory that refuses renames costs one try per max_bytes, not one per line.
 */
static void rotate(predlog *l, batch_result *r)
{
	size_t plen = strlen(l->path) + 24;
	char *from = malloc(plen), *to = malloc(plen);
	int k, fd;

	if (!from || !to) {
		note_error(r, "rotate", ENOMEM);
		goto fail;
	}
	for (k = l->keep; k >= 1; k--) {
		if (k > 1)
			snprintf(from, plen, "%s.%d", l->path, k - 1);
		else
			snprintf(from, plen, "%s", l->path);
		snprintf(to, plen, "%s.%d", l->path, k);
		if (rename(from, to) != 0 && errno != ENOENT) {
			note_error(r, "rotate", errno);
			goto fail;
		}
	}
	if ((fd = open_log(l->path)) < 0) {
		note_error(r, "rotate", errno);
		goto fail;
	}
	close(l->fd);
	l->fd = fd;
	l->size = fd_size(fd);
	l->limit = l->max_bytes;
	r->st.rotations++;
	goto out;
fail:
	r->st.errors++;
	l->limit = l->max_bytes > UINT64_MAX - l->size ? UINT64_MAX : l->size + l->max_bytes;
out:
	free(from);
	free(to);
}

/*
 * Write n lines (their iovecs in l->iov) with as few writev(2) calls as the kernel allows,
 * through EINTR and short writes. On a failure the lines wholly written count as written
 * and the rest as errors; a line cut in the middle is cut off the file again, so that the
 * log holds only whole lines.
 */
static void write_run(predlog *l, int n, batch_result *r)
{
	struct iovec *iov = l->iov;
	uint64_t done = 0, whole = 0;
	int left = n, i, err = 0;

	while (left > 0) {
		ssize_t w = writev(l->fd, iov, left);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			err = w < 0 ? errno : EIO;
			break;
		}
		done += (uint64_t)w;
		while (left > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			left--;
		}
		if (left > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	/* Lines wholly written: the first n - left, their lengths still in entry order. */
	for (i = 0; i < n - left; i++)
		whole += l->iov[i].iov_len;
	if (done > whole && ftruncate(l->fd, (off_t)(l->size + whole)) != 0)
		whole = done;   /* cannot cut it off: count what is in the file */
	if (err)
		note_error(r, "write", err);
	l->size += whole;
	r->st.bytes += whole;
	r->st.written += (uint64_t)(n - left);
	r->st.errors += (uint64_t)left;
}

/* Write a batch in order, rotating before a line that would take a non-empty file past
 * the limit (a line longer than max_bytes goes alone into a fresh file); frees the lines. */
static void write_batch(predlog *l, entry *e, size_t n, batch_result *r)
{
	size_t i = 0, j, k;

	while (i < n) {
		uint64_t run = 0;
		int niov = 0;

		if (l->max_bytes && l->size > 0 && would_pass(l->size, e[i].len, l->limit))
			rotate(l, r);
		/* The first line goes in whatever its length; the others while they fit. */
		for (j = i; j < n && niov < l->niov; j++) {
			if (j > i && l->max_bytes && would_pass(l->size + run, e[j].len, l->limit))
				break;
			l->iov[niov].iov_base = e[j].line;
			l->iov[niov].iov_len = e[j].len;
			niov++;
			run += e[j].len;
		}
		write_run(l, niov, r);
		for (k = i; k < j; k++)
			free(e[k].line);
		i = j;
	}
}

static void *writer_main(void *arg)
{
	predlog *l = arg;

	pthread_mutex_lock(&l->mu);
	for (;;) {
		batch_result r;
		entry *e;
		size_t n;

		while (l->n == 0 && !l->stop)
			pthread_cond_wait(&l->cv, &l->mu);
		if (l->n == 0)
			break;
		/* Take everything queued: the callers go on filling the other array. */
		e = l->q;
		n = l->n;
		l->q = l->wq;
		l->wq = e;
		l->n = 0;
		l->qbytes = 0;
		pthread_mutex_unlock(&l->mu);

		memset(&r, 0, sizeof(r));
		write_batch(l, e, n, &r);

		pthread_mutex_lock(&l->mu);
		l->st.written += r.st.written;
		l->st.bytes += r.st.bytes;
		l->st.rotations += r.st.rotations;
		l->st.errors += r.st.errors;
		if (r.err_what && !l->err_what) {
			l->err_what = r.err_what;
			l->err_errno = r.err_errno;
		}
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

static void predlog_free(predlog *l)
{
	size_t i;

	for (i = 0; l->q && i < l->n; i++)
		free(l->q[i].line);
	free(l->q);
	free(l->wq);
	free(l->iov);
	free(l->path);
	free(l);
}

int predlog_open(predlog **out, const predlog_options *o)
{
	predlog *l;
	int ret;

	*out = NULL;
	if (!o || !o->path || !*o->path)
		return mlctl_error_set(MLCTL_EUSAGE, "prediction log: no file given");
	if (o->keep < 0)
		return mlctl_error_set(MLCTL_EUSAGE, "prediction log %s: keep must be 0 or more, not %d",
				       o->path, o->keep);
	if (!(l = mlctl_calloc(1, sizeof(*l))))
		return MLCTL_ENOMEM;
	l->fd = -1;
	l->max_bytes = o->max_bytes;
	l->limit = o->max_bytes;
	l->keep = o->keep ? o->keep : PREDLOG_KEEP;
	l->cap_lines = o->queue_lines ? o->queue_lines : PREDLOG_QUEUE_LINES;
	l->cap_bytes = o->queue_bytes ? o->queue_bytes : PREDLOG_QUEUE_BYTES;
	l->niov = l->cap_lines < PREDLOG_IOV ? (int)l->cap_lines : PREDLOG_IOV;
	if (!(l->path = mlctl_strdup(o->path)) ||
	    !(l->q = mlctl_calloc(l->cap_lines, sizeof(*l->q))) ||
	    !(l->wq = mlctl_calloc(l->cap_lines, sizeof(*l->wq))) ||
	    !(l->iov = mlctl_calloc((size_t)l->niov, sizeof(*l->iov)))) {
		ret = MLCTL_ENOMEM;
		goto out_free;
	}
	if ((l->fd = open_log(o->path)) < 0) {
		ret = mlctl_error_set(errno == ENOMEM ? MLCTL_ENOMEM : MLCTL_ECREATE,
				      "cannot open prediction log %s: %s", o->path, strerror(errno));
		goto out_free;
	}
	l->size = fd_size(l->fd);
	if (pthread_mutex_init(&l->mu, NULL) != 0) {
		ret = mlctl_error_set(MLCTL_ERROR, "prediction log %s: cannot make a mutex", o->path);
		goto out_close;
	}
	if (pthread_cond_init(&l->cv, NULL) != 0) {
		ret = mlctl_error_set(MLCTL_ERROR, "prediction log %s: cannot make a condition variable", o->path);
		goto out_mutex;
	}
	if ((ret = mlctl_thread_start(&l->thread, writer_main, l)) != 0) {
		ret = mlctl_error_set(MLCTL_ERROR, "prediction log %s: cannot start the writer thread: %s",
				      o->path, strerror(ret));
		goto out_cond;
	}
	*out = l;
	return 0;

out_cond:
	pthread_cond_destroy(&l->cv);
out_mutex:
	pthread_mutex_destroy(&l->mu);
out_close:
	close(l->fd);
out_free:
	predlog_free(l);
	return ret;
}

bool predlog_push(predlog *l, char *line, size_t len)
{
	bool ok;

	if (len == 0) {
		free(line);
		return true;    /* nothing to write */
	}
	pthread_mutex_lock(&l->mu);
	ok = !l->stop && l->n < l->cap_lines && len <= l->cap_bytes - l->qbytes;
	if (ok) {
		l->q[l->n].line = line;
		l->q[l->n].len = len;
		l->qbytes += len;
		/* The writer waits only on an empty queue, so only the first line wakes it. */
		if (l->n++ == 0)
			pthread_cond_signal(&l->cv);
	} else {
		l->st.dropped++;
	}
	pthread_mutex_unlock(&l->mu);
	if (!ok)
		free(line);
	return ok;
}

void predlog_get_stats(predlog *l, predlog_stats *st)
{
	pthread_mutex_lock(&l->mu);
	*st = l->st;
	pthread_mutex_unlock(&l->mu);
}

int predlog_close(predlog *l)
{
	int ret = 0;

	if (!l)
		return 0;
	pthread_mutex_lock(&l->mu);
	l->stop = true;
	pthread_cond_signal(&l->cv);
	pthread_mutex_unlock(&l->mu);
	pthread_join(l->thread, NULL);

	/* The writer has written everything queued. A file that cannot be synced (a pipe, a
	 * device) is not an error; a disk that failed to take the data is. */
	if (fdatasync(l->fd) != 0 && errno != EINVAL && errno != EROFS && !l->err_what) {
		l->err_what = "sync";
		l->err_errno = errno;
	}
	if (close(l->fd) != 0 && errno != EINTR && !l->err_what) {
		l->err_what = "close";
		l->err_errno = errno;
	}
	if (l->err_what)
		ret = mlctl_error_set(MLCTL_EIO, "cannot %s prediction log %s: %s", l->err_what, l->path,
				      strerror(l->err_errno));
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	predlog_free(l);
	return ret;
}
