/*
 * mlctl/pipeline.h — pipeline files: one YAML file names data inputs and stages (train,
 * validate, package, deploy, predict, monitor) with the options of their commands; a plan
 * says which stages are up to date and why the others are not, as `dvc status` does.
 *
 * The library does not know the commands' options: the caller describes each stage kind
 * (mlctl_pipeline_kind), built from the same table its command line parser uses, so a stage
 * takes exactly the options of its command. The library parses and checks the file against
 * those kinds (errors name the file, line and column: MLCTL_ECONFIG), substitutes variables,
 * orders the stages, computes each stage's key from its resolved configuration, the digests
 * of its input files and upstream keys, and finds the recorded run whose key matches. The
 * caller runs the stages that are not up to date (through the same operations as the
 * commands) and records each with mlctl_pipeline_job_record().
 */
#ifndef MLCTL_PIPELINE_H
#define MLCTL_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>

#include "mlctl/common.h"
#include "mlctl/registry.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a stage option's value may be. */
typedef enum {
	MLCTL_PIPE_FLAG = 1,  /* true or false */
	MLCTL_PIPE_STRING,    /* any scalar */
	MLCTL_PIPE_INT,       /* a whole number in [min, max] */
	MLCTL_PIPE_NUMBER,    /* a number */
	MLCTL_PIPE_LIST,      /* a sequence of scalars, or one scalar (a repeatable option) */
	MLCTL_PIPE_MAP        /* a mapping KEY: VALUE, or a sequence of "KEY=VALUE" (values "K=V") */
} mlctl_pipeline_type;

/* A value that is a path: relative paths are taken from the pipeline file's directory. An
 * input file's digest is part of the stage's key; an output file that is missing makes the
 * stage stale. */
enum { MLCTL_PIPE_PATH = 1, MLCTL_PIPE_INPUT = 2, MLCTL_PIPE_OUTPUT = 4 };

typedef struct mlctl_pipeline_option {
	const char *name;
	mlctl_pipeline_type type;
	long min, max;             /* MLCTL_PIPE_INT */
	unsigned path;             /* 0 or MLCTL_PIPE_PATH, optionally | _INPUT or | _OUTPUT */
} mlctl_pipeline_option;

typedef struct mlctl_pipeline_kind {
	const char *name;          /* "train" */
	const mlctl_pipeline_option *options;
	size_t noptions;
	const char *positional;    /* the option that is the command's positional argument, or NULL */
	const char *const *required; /* options a stage must set */
	size_t nrequired;
	const char *const *outputs;  /* what ${stage.NAME} may name: "model", "run", ... */
	size_t noutputs;
} mlctl_pipeline_kind;

/* One option of a stage, as written; values keep ${stage.output} and ${each.*}. */
typedef struct mlctl_pipeline_setting {
	const mlctl_pipeline_option *option;   /* the kind's row */
	size_t nvalues;
	char **values;
	int line, column;
} mlctl_pipeline_setting;

typedef struct mlctl_pipeline_stage {
	char *name;
	const mlctl_pipeline_kind *kind;
	size_t nsettings;
	mlctl_pipeline_setting *settings;
	size_t ndeps;
	size_t *deps;              /* upstream stages (indices into mlctl_pipeline.stages) */
	size_t each;               /* the input it runs once per file of, + 1; 0: runs once */
	int line, column;
} mlctl_pipeline_stage;

typedef struct mlctl_pipeline_input {
	char *name;
	char *path;                /* as written (variables substituted) */
	bool glob;                 /* the path is a pattern: every matching file, sorted */
	bool store;                /* keep the file's bytes in the store (mlctl data) */
	size_t nfiles;
	char **files;              /* absolute */
	int line, column;
} mlctl_pipeline_input;

typedef struct mlctl_pipeline {
	char *path;                /* the file as given */
	char *dir;                 /* its directory, absolute */
	char *name;
	size_t nstages;
	mlctl_pipeline_stage *stages;  /* in run order: dependencies first, then file order */
	size_t ninputs;
	mlctl_pipeline_input *inputs;
} mlctl_pipeline;

/*
 * Read and check the pipeline file at path against the stage kinds. Errors (MLCTL_ECONFIG,
 * "FILE:LINE:COLUMN: ...") for bad YAML, an unknown key, stage or option (with the nearest
 * name), a value of the wrong type, an unknown variable or environment variable, a
 * reference to an unknown stage or output, a cycle, and an input file that does not exist.
 */
int mlctl_pipeline_load(mlctl_pipeline **out, const char *path, const mlctl_pipeline_kind *kinds,
			size_t nkinds);
void mlctl_pipeline_free(mlctl_pipeline *pl);
/* The index of the stage called name, or SIZE_MAX. */
size_t mlctl_pipeline_stage_find(const mlctl_pipeline *pl, const char *name);

/* One run of a stage: the stage, or one file's run of a stage that runs once per file. */
typedef struct mlctl_pipeline_job {
	size_t stage;
	size_t item;               /* the file's index in its input, or SIZE_MAX */
	char *label;               /* "train", or "predict[day-02.csv]" */
	char key[65];
	char *config;              /* the resolved configuration, as JSON (what the key hashes) */
	size_t ndeps;
	size_t *deps;              /* upstream jobs */
	bool up_to_date;           /* a succeeded run has this key and its outputs exist */
	bool stopped;              /* ... and it stopped what follows (failed gate, alert) */
	bool blocked;              /* an earlier job is up to date and stopped: this one does
				      not run until something before it changes */
	char *reason;              /* why it is not up to date: "changed input data/churn.csv" */
	char run[MLCTL_RUN_ID_SIZE];  /* the matching run, or the one that ran it now */
	size_t noutputs;
	mlctl_kv *outputs;         /* from the matching run, or set by mlctl_pipeline_job_record() */
} mlctl_pipeline_job;

typedef struct mlctl_pipeline_plan {
	size_t njobs;
	mlctl_pipeline_job *jobs;  /* in run order */
} mlctl_pipeline_plan;

typedef struct mlctl_pipeline_plan_options {
	bool force_all;            /* every stage runs */
	const char *const *force;  /* these stages run, and everything downstream of them */
	size_t nforce;
} mlctl_pipeline_plan_options;

/*
 * Digest every input (through the registry's digest cache) and work out each job's key and
 * whether a succeeded run of it is recorded. o may be NULL. reg may be read-only.
 */
int mlctl_pipeline_plan_make(mlctl_pipeline_plan **out, mlctl_registry *reg, const mlctl_pipeline *pl,
			     const mlctl_pipeline_plan_options *o);
/* Job j is not up to date after all (the caller found that what it made has changed since:
 * a target that serves another release): it and every job downstream of it will run. */
int mlctl_pipeline_plan_invalidate(const mlctl_pipeline *pl, mlctl_pipeline_plan *plan, size_t j,
				   const char *reason);
/* True when stage s is stage t or depends on it, directly or through others. */
bool mlctl_pipeline_depends(const mlctl_pipeline *pl, size_t s, size_t t);

/* Take the pipeline's lock (in the registry, by pipeline name) without waiting:
 * MLCTL_ELOCKED when another process holds it. mlctl_pipeline_unlock() releases it. */
int mlctl_pipeline_lock(int *out_fd, mlctl_registry *reg, const mlctl_pipeline *pl);
void mlctl_pipeline_unlock(int fd);
void mlctl_pipeline_plan_free(mlctl_pipeline_plan *plan);

/* The values of job j's settings for running it now: ${stage.output} from the upstream
 * jobs' outputs, ${each.*} from its file, relative paths made absolute. The arrays are
 * parallel to the stage's settings; free with mlctl_pipeline_args_free(). */
typedef struct mlctl_pipeline_args {
	size_t nsettings;
	const mlctl_pipeline_setting *settings;   /* the stage's, borrowed */
	char ***values;            /* values[i][0..settings[i].nvalues) */
} mlctl_pipeline_args;
int mlctl_pipeline_job_args(mlctl_pipeline_args *out, const mlctl_pipeline *pl,
			    const mlctl_pipeline_plan *plan, size_t j);
void mlctl_pipeline_args_free(mlctl_pipeline_args *a);
/* Create the directories of the files job args will write (its output options), as
 * `dvc repro` creates its outputs' directories. */
int mlctl_pipeline_args_mkdirs(const mlctl_pipeline_args *a);
/* Create the directory that file will be in (and its parents). */
int mlctl_pipeline_mkdir_for(const char *file);

/* Record that run ran job j: its key, configuration, outputs and whether it stopped the
 * pipeline, as tags of the run; fills the job's outputs and run. */
int mlctl_pipeline_job_record(mlctl_registry *reg, const mlctl_pipeline *pl, mlctl_pipeline_plan *plan,
			      size_t j, const char *run, const mlctl_kv *outputs, size_t noutputs,
			      bool stopped);

/* A job's output by name, or NULL. */
const char *mlctl_pipeline_job_output(const mlctl_pipeline_job *job, const char *name);

#ifdef __cplusplus
}
#endif

#endif
