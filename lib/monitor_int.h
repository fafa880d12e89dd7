/*
 * monitor_int.h — the reader of serve prediction logs inside monitor (floor 4), on its own
 * for the fuzz target: a log is outside input.
 */
#ifndef MLCTL_MONITOR_INT_H
#define MLCTL_MONITOR_INT_H

#include <stdio.h>

#include "profile.h"
#include "schema.h"

/*
 * Read the JSON lines of a prediction log from f (path names it in messages) into cur, a
 * profile like the model's reference, taking the lines answered by name:version (their
 * inputs through profile_add_cells(), their predictions as class names or numbers); *lines,
 * *other (lines of another model or version) and *used are added to. MLCTL_EDATA naming
 * path:line for a line that is not JSON or not a log line.
 */
int monitor_read_log(mlctl_profile *cur, const mlctl_schema *s, const char *name, int version, FILE *f,
		     const char *path, size_t *lines, size_t *other, size_t *used);

#endif
