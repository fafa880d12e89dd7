/*
 * predlog.h — a server's prediction log (floor 2): JSON lines appended to a file by one
 * writer thread from a bounded queue. Pushing never blocks on the file: when the queue is
 * full the line is dropped and counted. The file is rotated by size (path → path.1 →
 * path.2 …, keeping `keep` old files), so a log cannot fill the disk.
 */
#ifndef MLCTL_PREDLOG_H
#define MLCTL_PREDLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct predlog predlog;

typedef struct predlog_options {
	const char *path;         /* the log file (created 0644, appended to) */
	uint64_t max_bytes;       /* rotate before a line would take the file past this (0: never) */
	int keep;                 /* rotated files kept (0: 3) */
	size_t queue_lines;       /* queue capacity in lines (0: 4096) */
	size_t queue_bytes;       /* queue capacity in bytes (0: 64 MiB; a longer line is dropped) */
} predlog_options;
#define PREDLOG_OPTIONS_INIT { NULL, 0, 0, 0, 0 }

typedef struct predlog_stats {
	uint64_t written;         /* lines written */
	uint64_t dropped;         /* lines dropped: the queue was full */
	uint64_t bytes;           /* bytes written */
	uint64_t rotations;
	uint64_t errors;          /* lines lost to failed writes, one each, and failed rotations
	                           * (one each; nothing is lost: the file goes on growing) */
} predlog_stats;

/* Open (create) the log and start its writer thread (signals blocked). MLCTL_ECREATE naming
 * the path when it cannot be opened (a FIFO nobody reads included), MLCTL_EUSAGE without a
 * path or with keep < 0; *out is the caller's (predlog_close()). */
int predlog_open(predlog **out, const predlog_options *o);

/* Queue one line (len bytes ending with '\n', malloc'd: the log takes it and frees it).
 * Never blocks on I/O; false when the queue was full and the line was dropped (and freed).
 * Lines from one thread are written in the order pushed, whole (never interleaved).
 * Thread-safe; not after (or while) predlog_close() runs. */
bool predlog_push(predlog *l, char *line, size_t len);

/* Counters so far (thread-safe). A line counts as written once it is in the file, so
 * written + dropped + lost lines == pushed only once the writer has caught up. */
void predlog_get_stats(predlog *l, predlog_stats *st);

/* Write what is queued, stop the thread, fdatasync and close the file and free l. 0, or
 * MLCTL_EIO for the first failed write, rotation, sync or close, whose message names the
 * file. NULL is fine. */
int predlog_close(predlog *l);

#endif
