/*
 * fuzz_pipeline.c — libFuzzer target for mlctl_pipeline_load(): any bytes as a pipeline
 * file, loaded against a small table of stage kinds that mirrors train, validate and
 * predict (types, ranges, input and output paths, required options, outputs). What loads
 * must hold together (stages in run order, every dependency before its stage, names that
 * find themselves, input files absolute); when every file it reads is one of the target's
 * own, it is planned against an empty registry and each job's arguments are resolved.
 *
 * The input is written to p.yaml in a private directory made once (with train.csv,
 * test.csv and in/day-01.csv, in/day-02.csv beside it, so that data inputs, patterns and
 * ${each.*} load), removed at exit. FUZZ_PIPELINE_VERBOSE=1 prints why each input did not
 * load (to check that the seeds reach the stages).
 */
#define _XOPEN_SOURCE 700   /* nftw */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mlctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const mlctl_pipeline_option train_opts[] = {
	{ "data", MLCTL_PIPE_STRING, 0, 0, MLCTL_PIPE_PATH | MLCTL_PIPE_INPUT },
	{ "name", MLCTL_PIPE_STRING, 0, 0, 0 },
	{ "label", MLCTL_PIPE_STRING, 0, 0, 0 },
	{ "cv", MLCTL_PIPE_INT, 2, 1000, 0 },
	{ "cost", MLCTL_PIPE_NUMBER, 0, 0, 0 },
	{ "probability", MLCTL_PIPE_FLAG, 0, 0, 0 },
	{ "id-column", MLCTL_PIPE_LIST, 0, 0, 0 },
	{ "tag", MLCTL_PIPE_MAP, 0, 0, 0 },
	{ "test", MLCTL_PIPE_STRING, 0, 0, MLCTL_PIPE_PATH | MLCTL_PIPE_INPUT },
};
static const mlctl_pipeline_option validate_opts[] = {
	{ "model", MLCTL_PIPE_STRING, 0, 0, 0 },
	{ "data", MLCTL_PIPE_STRING, 0, 0, MLCTL_PIPE_PATH | MLCTL_PIPE_INPUT },
	{ "gate", MLCTL_PIPE_LIST, 0, 0, 0 },
	{ "max-drop", MLCTL_PIPE_NUMBER, 0, 0, 0 },
	{ "junit", MLCTL_PIPE_STRING, 0, 0, MLCTL_PIPE_PATH | MLCTL_PIPE_OUTPUT },
};
static const mlctl_pipeline_option predict_opts[] = {
	{ "model", MLCTL_PIPE_STRING, 0, 0, 0 },
	{ "input", MLCTL_PIPE_STRING, 0, 0, MLCTL_PIPE_PATH | MLCTL_PIPE_INPUT },
	{ "output", MLCTL_PIPE_STRING, 0, 0, MLCTL_PIPE_PATH | MLCTL_PIPE_OUTPUT },
	{ "keep", MLCTL_PIPE_LIST, 0, 0, 0 },
};
static const char *const train_req[] = { "data", "name" }, *const train_out[] = { "model", "run" };
static const char *const validate_req[] = { "model", "data" };
static const char *const validate_out[] = { "model", "verdict", "run" };
static const char *const predict_req[] = { "input" }, *const predict_out[] = { "output", "run" };

#define N(a) (sizeof(a) / sizeof((a)[0]))
static const mlctl_pipeline_kind kinds[] = {
	{ "train", train_opts, N(train_opts), "data", train_req, N(train_req), train_out, N(train_out) },
	{ "validate", validate_opts, N(validate_opts), "model", validate_req, N(validate_req), validate_out,
	  N(validate_out) },
	{ "predict", predict_opts, N(predict_opts), "model", predict_req, N(predict_req), predict_out,
	  N(predict_out) },
};

static char dir[] = "/tmp/mlctl-fuzz-pipeline-XXXXXX";
static char file[sizeof(dir) + 16], regdir[sizeof(dir) + 16];
static mlctl_registry *reg;

static const char *const fixtures[] = { "train.csv", "test.csv", "in/day-01.csv", "in/day-02.csv" };

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	remove(path);
	return 0;
}

/* The private directory and all in it (the registry's too). */
static void cleanup(void)
{
	mlctl_registry_free(reg);
	reg = NULL;
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void)
{
	char p[sizeof(dir) + 32];
	size_t i;
	FILE *f;

	if (!mkdtemp(dir))
		abort();
	snprintf(file, sizeof(file), "%s/p.yaml", dir);
	snprintf(p, sizeof(p), "%s/in", dir);
	if (mkdir(p, 0700) != 0)
		abort();
	for (i = 0; i < N(fixtures); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, fixtures[i]);
		if (!(f = fopen(p, "w")))
			abort();
		fprintf(f, "a,b,label\n1,2,x\n3,4,y\n");
		fclose(f);
	}
	atexit(cleanup);
	/* A registry for planning, in the same directory: when it cannot be made, no plans. */
	snprintf(regdir, sizeof(regdir), "%s/reg", dir);
	if (mlctl_registry_init(regdir) != 0 || mlctl_registry_open(&reg, regdir) != 0)
		reg = NULL;
}

/* A path the plan would read: only the target's own files (never /proc/kcore or a FIFO). */
static bool ours(const char *v)
{
	size_t n = strlen(dir);

	return !strstr(v, "..") && !strstr(v, "/reg") &&
	       (v[0] != '/' || (strncmp(v, dir, n) == 0 && v[n] == '/'));
}

static bool plannable(const mlctl_pipeline *pl)
{
	size_t i, j, k;

	for (i = 0; i < pl->ninputs; i++)
		for (j = 0; j < pl->inputs[i].nfiles; j++)
			if (!ours(pl->inputs[i].files[j]))
				return false;
	for (i = 0; i < pl->nstages; i++)
		for (j = 0; j < pl->stages[i].nsettings; j++)
			if (pl->stages[i].settings[j].option->path)
				for (k = 0; k < pl->stages[i].settings[j].nvalues; k++)
					if (!ours(pl->stages[i].settings[j].values[k]))
						return false;
	return true;
}

static void check(const mlctl_pipeline *pl)
{
	size_t i, j;

	if (!pl || !pl->name || !pl->dir || pl->dir[0] != '/')
		abort();
	for (i = 0; i < pl->nstages; i++) {
		const mlctl_pipeline_stage *s = &pl->stages[i];

		if (!s->name || !s->kind || mlctl_pipeline_stage_find(pl, s->name) != i)
			abort();
		if (s->each > pl->ninputs || (s->each && !pl->inputs[s->each - 1].glob))
			abort();
		for (j = 0; j < s->ndeps; j++)
			if (s->deps[j] >= i || !mlctl_pipeline_depends(pl, i, s->deps[j]))
				abort();
		for (j = 0; j < s->nsettings; j++)
			if (!s->settings[j].option || (s->settings[j].nvalues && !s->settings[j].values))
				abort();
	}
	for (i = 0; i < pl->ninputs; i++)
		for (j = 0; j < pl->inputs[i].nfiles; j++)
			if (pl->inputs[i].files[j][0] != '/')
				abort();
}

static void plan(const mlctl_pipeline *pl)
{
	mlctl_pipeline_plan *p = NULL;
	mlctl_pipeline_args a;
	size_t j;

	if (!reg || !plannable(pl) || mlctl_pipeline_plan_make(&p, reg, pl, NULL) != 0)
		return;
	for (j = 0; j < p->njobs; j++) {
		if (p->jobs[j].up_to_date || !p->jobs[j].label || strlen(p->jobs[j].key) != 64)
			abort();
		if (mlctl_pipeline_job_args(&a, pl, p, j) == 0)
			mlctl_pipeline_args_free(&a);
	}
	mlctl_pipeline_plan_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mlctl_pipeline *pl = NULL;
	FILE *f;

	if (!file[0])
		setup();
	if (!(f = fopen(file, "w")))
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	if (fclose(f) != 0)
		abort();
	if (mlctl_pipeline_load(&pl, file, kinds, N(kinds)) != 0) {
		/* FUZZ_PIPELINE_VERBOSE=1: why each seed did not load, to keep seeds that do */
		if (getenv("FUZZ_PIPELINE_VERBOSE"))
			fprintf(stderr, "%s\n", mlctl_error_last()->message);
		return 0;
	}
	if (getenv("FUZZ_PIPELINE_VERBOSE"))
		fprintf(stderr, "loaded: %zu stages\n", pl->nstages);
	check(pl);
	plan(pl);
	mlctl_pipeline_free(pl);
	return 0;
}
