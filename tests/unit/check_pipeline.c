/*
 * check_pipeline.c — pipeline files: loading against stage kinds (variables, references,
 * order, per-file stages), errors with file, line and column, keys, and plans against a
 * real registry (never run → up to date → changed input, touch, a new file of a pattern).
 */
#include <sys/stat.h>
#include <time.h>
#include <utime.h>

#include "check_util.h"
#include "mlctl.h"

static const mlctl_pipeline_option train_opts[] = {
	{ "data", MLCTL_PIPE_STRING, 0, 0, MLCTL_PIPE_PATH | MLCTL_PIPE_INPUT },
	{ "name", MLCTL_PIPE_STRING, 0, 0, 0 },
	{ "cv", MLCTL_PIPE_INT, 2, 1000, 0 },
	{ "probability", MLCTL_PIPE_FLAG, 0, 0, 0 },
	{ "tag", MLCTL_PIPE_MAP, 0, 0, 0 },
	{ "exclude", MLCTL_PIPE_LIST, 0, 0, 0 },
};
static const mlctl_pipeline_option predict_opts[] = {
	{ "model", MLCTL_PIPE_STRING, 0, 0, 0 },
	{ "input", MLCTL_PIPE_STRING, 0, 0, MLCTL_PIPE_PATH | MLCTL_PIPE_INPUT },
	{ "output", MLCTL_PIPE_STRING, 0, 0, MLCTL_PIPE_PATH | MLCTL_PIPE_OUTPUT },
	{ "threshold", MLCTL_PIPE_NUMBER, 0, 0, 0 },
};
static const char *const train_req[] = { "data", "name" };
static const char *const train_out[] = { "model", "run" };
static const char *const predict_out[] = { "output", "run" };
static const mlctl_pipeline_kind kinds[] = {
	{ "train", train_opts, 6, "data", train_req, 2, train_out, 2 },
	{ "predict", predict_opts, 4, "model", NULL, 0, predict_out, 2 },
};

static const char *last_msg(void)
{
	return mlctl_error_last()->message;
}

static mlctl_pipeline *load_text(const char *text)
{
	mlctl_pipeline *pl = NULL;
	int ret = mlctl_pipeline_load(&pl, write_tmp("p.yaml", text), kinds, 2);

	ck_assert_msg(ret == 0, "load: %s", last_msg());
	return pl;
}

/* The error message of loading text, after "FILE:" (so it starts with LINE:COLUMN). */
static const char *load_error(const char *text)
{
	mlctl_pipeline *pl = NULL;
	const char *m;
	int ret = mlctl_pipeline_load(&pl, write_tmp("p.yaml", text), kinds, 2);

	ck_assert_int_eq(ret, MLCTL_ECONFIG);
	ck_assert_ptr_null(pl);
	m = last_msg();
	ck_assert_msg(strncmp(m, tmp_path("p.yaml"), strlen(tmp_path("p.yaml"))) == 0, "%s", m);
	return m + strlen(tmp_path("p.yaml")) + 1;
}

START_TEST(test_pipeline_load)
{
	mlctl_pipeline *pl;
	const mlctl_pipeline_stage *s;
	const char *abs;

	write_tmp("a.csv", "x,y\n1,2\n");
	setenv("MLCTL_CHECK_PIPE", "b", 1);
	unsetenv("MLCTL_CHECK_UNSET");
	pl = load_text("stages:\n"
		       "  score:\n"
		       "    kind: predict\n"
		       "    model: ${train.model}\n"
		       "    input: ${data.d}\n"
		       "    output: out/${v}-${env:MLCTL_CHECK_UNSET:-none}.csv\n"
		       "  train:\n"
		       "    data: ${data.d}\n"
		       "    name: m-${env:MLCTL_CHECK_PIPE}\n"
		       "    cv: 5\n"
		       "    probability: yes\n"
		       "    tag: {team: ml, cost: $$5}\n"
		       "    exclude: [x, y]\n"
		       "vars:\n"
		       "  w: one\n"
		       "  v: ${w}2\n"
		       "data:\n"
		       "  d: a.csv\n");
	ck_assert_str_eq(pl->name, "p");   /* the file's name without .yaml */
	ck_assert_uint_eq(pl->nstages, 2);
	/* Dependencies first, whatever the file's order. */
	ck_assert_str_eq(pl->stages[0].name, "train");
	ck_assert_str_eq(pl->stages[1].name, "score");
	s = &pl->stages[1];
	ck_assert_str_eq(s->kind->name, "predict");
	ck_assert_uint_eq(s->ndeps, 1);
	ck_assert_uint_eq(s->deps[0], 0);
	ck_assert_str_eq(s->settings[0].values[0], "${train.model}");
	ck_assert_str_eq(s->settings[2].values[0], "out/one2-none.csv");
	ck_assert_int_eq(s->settings[2].line, 6);
	ck_assert_int_eq(s->settings[2].column, 13);
	s = &pl->stages[0];
	ck_assert_str_eq(s->settings[1].values[0], "m-b");
	ck_assert_uint_eq(s->settings[4].nvalues, 2);
	ck_assert_str_eq(s->settings[4].values[0], "team=ml");
	ck_assert_str_eq(s->settings[4].values[1], "cost=$5");
	ck_assert_uint_eq(s->settings[5].nvalues, 2);
	ck_assert_uint_eq(pl->ninputs, 1);
	ck_assert_uint_eq(pl->inputs[0].nfiles, 1);
	abs = realpath(tmp_path("a.csv"), NULL);
	ck_assert_str_eq(pl->inputs[0].files[0], abs);
	free((void *)abs);
	ck_assert(mlctl_pipeline_depends(pl, 1, 0));
	ck_assert(!mlctl_pipeline_depends(pl, 0, 1));
	mlctl_pipeline_free(pl);
}
END_TEST

START_TEST(test_pipeline_errors)
{
	write_tmp("a.csv", "x\n1\n");
	ck_assert_str_eq(load_error("stages: [a\n"), "2:1: malformed YAML: did not find expected ',' or ']' while parsing a flow sequence");
	ck_assert_str_eq(load_error("stages:\n  trian:\n    data: a.csv\n"),
			 "2:3: unknown stage 'trian' (did you mean 'train'?); a stage is one of train, predict (or give its kind: KIND)");
	ck_assert_str_eq(load_error("stages:\n  t:\n    kind: predictt\n"),
			 "3:11: unknown stage kind 'predictt' (did you mean 'predict'?); a stage is one of train, predict (or give its kind: KIND)");
	ck_assert_str_eq(load_error("stages:\n  train:\n    data: a.csv\n    name: m\n    nmae: x\n"),
			 "5:5: stage train: unknown option 'nmae' (did you mean 'name'?) ('mlctl train --help' lists a train stage's options)");
	ck_assert_str_eq(load_error("stages:\n  train:\n    data: a.csv\n    name: m\n    cv: five\n"),
			 "5:9: stage train: cv is a whole number from 2 to 1000, not \"five\"");
	ck_assert_str_eq(load_error("stages:\n  train:\n    data: a.csv\n    name: [m]\n"),
			 "4:11: stage train: name takes one value, not a list");
	ck_assert_ptr_nonnull(strstr(load_error("stages:\n  train:\n    data: b.csv\n    name: m\n"),
				     "/b.csv does not exist"));
	ck_assert_pstr_eq(strstr(load_error("data:\n  d: nothere.csv\nstages:\n  train:\n    data: ${data.d}\n    name: m\n"),
				 "does not exist"), "does not exist");
	ck_assert_str_eq(load_error("vars:\n  a: x\nstages:\n  train:\n    data: a.csv\n    name: ${b}\n"),
			 "6:11: unknown variable ${b} (did you mean 'a'?)");
	unsetenv("MLCTL_CHECK_UNSET");
	ck_assert_str_eq(load_error("vars:\n  a: ${env:MLCTL_CHECK_UNSET}\nstages:\n  train:\n    data: a.csv\n    name: m\n"),
			 "2:6: environment variable MLCTL_CHECK_UNSET is not set (write ${env:MLCTL_CHECK_UNSET:-DEFAULT} for a default)");
	ck_assert_str_eq(load_error("stages:\n  train:\n    data: a.csv\n    name: m\n  p:\n    kind: predict\n    model: ${trian.model}\n"),
			 "7:12: ${trian.model}: no stage called 'trian' (did you mean 'train'?)");
	ck_assert_str_eq(load_error("stages:\n  train:\n    data: a.csv\n    name: m\n  p:\n    kind: predict\n    model: ${train.modle}\n"),
			 "7:12: ${train.modle}: a train stage's outputs are model, run");
	ck_assert_str_eq(load_error("stages:\n  a:\n    kind: predict\n    model: ${b.output}\n  b:\n    kind: predict\n    model: ${a.output}\n"),
			 "2:3: stages a, b depend on each other (a cycle)");
	ck_assert_str_eq(load_error("stages:\n  a:\n    kind: predict\n    after: a\n"),
			 "4:12: stage a: after itself (a cycle)");
	ck_assert_str_eq(load_error("stages:\n  a:\n    kind: predict\n    output: ${each.stem}.csv\n"),
			 "4:13: stage a: ${each.*} is for a stage that runs once per file of an input with a pattern");
	ck_assert_str_eq(load_error("stages:\n  train:\n    data: a.csv\n    name: m\n    name: n\n"),
			 "5:5: 'name' appears twice (first on line 4)");
	ck_assert_str_eq(load_error("stages:\n  train:\n    name: m\n"), "3:5: stage train: data is required");
	ck_assert_str_eq(load_error("stages: {}\n"), "1:9: stages is empty");
	ck_assert_str_eq(load_error("stage:\n  train: {}\n"),
			 "1:1: unknown key 'stage' (did you mean 'stages'?) (a pipeline has name, vars, data and stages)");
	ck_assert_str_eq(load_error("stages:\n  a:\n    kind: predict\n    threshold: high\n"),
			 "4:16: stage a: threshold is a number, not \"high\"");
	ck_assert_str_eq(load_error("stages:\n  train:\n    data: a.csv\n    name: m\n    probability: maybe\n"),
			 "5:18: stage train: probability is true or false, not \"maybe\"");
	ck_assert_str_eq(load_error("stages:\n  train:\n    data: a.csv\n    name: m\n    tag: [nokey]\n"),
			 "5:11: stage train: tag takes KEY=VALUE items, not \"nokey\"");
}
END_TEST

/* A registry in the test's directory, and a fake run of job j recorded as succeeded. */
static mlctl_registry *open_reg(void)
{
	mlctl_registry *reg = NULL;

	ck_assert_int_eq(mlctl_registry_init(tmp_path("reg")), 0);
	ck_assert_int_eq(mlctl_registry_open(&reg, tmp_path("reg")), 0);
	return reg;
}

static void record(mlctl_registry *reg, const mlctl_pipeline *pl, mlctl_pipeline_plan *plan, size_t j)
{
	mlctl_run_start_options ro = MLCTL_RUN_START_OPTIONS_INIT;
	char id[MLCTL_RUN_ID_SIZE];
	mlctl_kv out[1] = { { (char *)"model", (char *)"m:1" } };

	ro.kind = pl->stages[plan->jobs[j].stage].kind->name;
	ck_assert_int_eq(mlctl_run_start(id, reg, &ro), 0);
	ck_assert_int_eq(mlctl_run_finish(reg, id, NULL), 0);
	ck_assert_int_eq(mlctl_pipeline_job_record(reg, pl, plan, j, id, out, 1, false), 0);
}

static mlctl_pipeline_plan *plan_of(mlctl_registry *reg, mlctl_pipeline **pl, const char *text)
{
	mlctl_pipeline_plan *plan = NULL;

	mlctl_pipeline_free(*pl);
	*pl = load_text(text);
	ck_assert_msg(mlctl_pipeline_plan_make(&plan, reg, *pl, NULL) == 0, "%s", last_msg());
	return plan;
}

static const char *const two_stage =
	"data:\n  d: a.csv\n  days: days/*.csv\n"
	"stages:\n"
	"  train:\n    data: ${data.d}\n    name: m\n    cv: 5\n"
	"  score:\n    kind: predict\n    model: ${train.model}\n    input: ${data.days}\n"
	"    output: out/${each.stem}.scores\n";

START_TEST(test_pipeline_plan)
{
	mlctl_registry *reg = open_reg();
	mlctl_pipeline *pl = NULL;
	mlctl_pipeline_plan *plan;
	mlctl_pipeline_args args;
	char key[65];
	size_t j;

	write_tmp("a.csv", "x\n1\n");
	mkdir(tmp_path("days"), 0755);
	mkdir(tmp_path("out"), 0755);
	write_tmp("days/d1.csv", "x\n1\n");
	write_tmp("days/d2.csv", "x\n2\n");
	plan = plan_of(reg, &pl, two_stage);
	ck_assert_uint_eq(plan->njobs, 3);
	ck_assert_str_eq(plan->jobs[0].label, "train");
	ck_assert_str_eq(plan->jobs[1].label, "score[d1.csv]");
	ck_assert_str_eq(plan->jobs[2].label, "score[d2.csv]");
	ck_assert_str_eq(plan->jobs[0].reason, "never run");
	ck_assert(!plan->jobs[0].up_to_date);
	/* The arguments of a per-file job: its file, its stem, upstream outputs once known. */
	record(reg, pl, plan, 0);
	ck_assert_int_eq(mlctl_pipeline_job_args(&args, pl, plan, 1), 0);
	ck_assert_str_eq(args.values[0][0], "m:1");
	ck_assert_ptr_nonnull(strstr(args.values[1][0], "/days/d1.csv"));
	ck_assert_ptr_nonnull(strstr(args.values[2][0], "/out/d1.scores"));
	ck_assert(args.values[2][0][0] == '/');
	mlctl_pipeline_args_free(&args);
	record(reg, pl, plan, 1);
	record(reg, pl, plan, 2);
	memcpy(key, plan->jobs[0].key, sizeof(key));
	mlctl_pipeline_plan_free(plan);

	/* Recorded: up to date, except a job whose output file is missing. */
	write_tmp("out/d1.scores", "s\n");
	plan = plan_of(reg, &pl, two_stage);
	ck_assert_str_eq(plan->jobs[0].key, key);
	ck_assert(plan->jobs[0].up_to_date);
	ck_assert_str_eq(mlctl_pipeline_job_output(&plan->jobs[0], "model"), "m:1");
	ck_assert(plan->jobs[1].up_to_date);
	ck_assert(!plan->jobs[2].up_to_date);
	ck_assert_str_eq(plan->jobs[2].reason, "output out/d2.scores is missing");
	mlctl_pipeline_plan_free(plan);
	write_tmp("out/d2.scores", "s\n");

	/* touch: the same content, the same key. */
	ck_assert_int_eq(utime(tmp_path("a.csv"), NULL), 0);
	plan = plan_of(reg, &pl, two_stage);
	for (j = 0; j < plan->njobs; j++)
		ck_assert_msg(plan->jobs[j].up_to_date, "%s: %s", plan->jobs[j].label, plan->jobs[j].reason);
	mlctl_pipeline_plan_free(plan);

	/* A new file of the pattern: only its job runs. */
	write_tmp("days/d3.csv", "x\n3\n");
	plan = plan_of(reg, &pl, two_stage);
	ck_assert_uint_eq(plan->njobs, 4);
	ck_assert(plan->jobs[0].up_to_date && plan->jobs[1].up_to_date && plan->jobs[2].up_to_date);
	ck_assert_str_eq(plan->jobs[3].reason, "never run");
	mlctl_pipeline_plan_free(plan);

	/* Changed content: train and everything after it. */
	write_tmp("a.csv", "x\n1\n2\n");
	plan = plan_of(reg, &pl, two_stage);
	ck_assert_str_ne(plan->jobs[0].key, key);
	ck_assert_pstr_eq(plan->jobs[0].reason, "changed input a.csv");
	ck_assert_pstr_eq(plan->jobs[1].reason, "upstream train changed");
	mlctl_pipeline_plan_free(plan);

	/* A stage using a per-file stage's output runs per file too, wherever it is written. */
	plan = plan_of(reg, &pl, "data:\n  d: a.csv\n  days: days/*.csv\n"
		       "stages:\n  report:\n    kind: predict\n    input: ${score.output}\n"
		       "  score:\n    kind: predict\n    input: ${data.days}\n    output: out/${each.stem}.s\n");
	ck_assert_uint_eq(plan->njobs, 6);
	ck_assert_str_eq(plan->jobs[3].label, "report[d1.csv]");
	ck_assert_uint_eq(plan->jobs[3].ndeps, 1);
	ck_assert_uint_eq(plan->jobs[3].deps[0], 0);
	mlctl_pipeline_plan_free(plan);

	/* A changed option. */
	write_tmp("a.csv", "x\n1\n");
	plan = plan_of(reg, &pl, "data:\n  d: a.csv\n  days: days/*.csv\n"
		       "stages:\n  train:\n    data: ${data.d}\n    name: m\n    cv: 10\n");
	ck_assert_pstr_eq(plan->jobs[0].reason, "changed option cv");
	mlctl_pipeline_plan_free(plan);
	mlctl_pipeline_free(pl);
	mlctl_registry_free(reg);
}
END_TEST

START_TEST(test_pipeline_force_and_block)
{
	mlctl_registry *reg = open_reg();
	mlctl_pipeline *pl = NULL;
	mlctl_pipeline_plan *plan;
	mlctl_pipeline_plan_options po = { false, NULL, 0 };
	const char *force[] = { "train" };
	const char *text = "data:\n  d: a.csv\nstages:\n  train:\n    data: ${data.d}\n    name: m\n"
			   "  gate:\n    kind: predict\n    model: ${train.model}\n"
			   "  after:\n    kind: predict\n    model: ${gate.output}\n";
	mlctl_run_start_options ro = MLCTL_RUN_START_OPTIONS_INIT;
	char id[MLCTL_RUN_ID_SIZE];
	mlctl_kv out[1] = { { (char *)"output", (char *)"x" } };

	write_tmp("a.csv", "x\n1\n");
	plan = plan_of(reg, &pl, text);
	record(reg, pl, plan, 0);
	/* The gate stops the pipeline: recorded as stopped. */
	ro.kind = "predict";
	ck_assert_int_eq(mlctl_run_start(id, reg, &ro), 0);
	ck_assert_int_eq(mlctl_run_finish(reg, id, NULL), 0);
	ck_assert_int_eq(mlctl_pipeline_job_record(reg, pl, plan, 1, id, out, 1, true), 0);
	mlctl_pipeline_plan_free(plan);
	plan = plan_of(reg, &pl, text);
	ck_assert(plan->jobs[1].up_to_date && plan->jobs[1].stopped);
	ck_assert(plan->jobs[2].blocked);
	ck_assert_ptr_nonnull(strstr(plan->jobs[2].reason, "gate stopped the pipeline on these inputs"));
	mlctl_pipeline_plan_free(plan);
	/* Forcing train reruns it and everything after; nothing is blocked then. */
	po.force = force;
	po.nforce = 1;
	ck_assert_int_eq(mlctl_pipeline_plan_make(&plan, reg, pl, &po), 0);
	ck_assert(!plan->jobs[0].up_to_date && !plan->jobs[1].up_to_date && !plan->jobs[2].up_to_date);
	ck_assert(!plan->jobs[2].blocked);
	ck_assert_str_eq(plan->jobs[0].reason, "forced");
	mlctl_pipeline_plan_free(plan);
	force[0] = "nope";
	ck_assert_int_eq(mlctl_pipeline_plan_make(&plan, reg, pl, &po), MLCTL_EUSAGE);
	/* Invalidate: a job and what follows it. */
	ck_assert_int_eq(mlctl_pipeline_plan_make(&plan, reg, pl, NULL), 0);
	ck_assert_int_eq(mlctl_pipeline_plan_invalidate(pl, plan, 0, "target gone"), 0);
	ck_assert_str_eq(plan->jobs[0].reason, "target gone");
	ck_assert_str_eq(plan->jobs[1].reason, "upstream train reruns");
	ck_assert(!plan->jobs[2].blocked);
	mlctl_pipeline_plan_free(plan);
	mlctl_pipeline_free(pl);
	mlctl_registry_free(reg);
}
END_TEST

static Suite *pipeline_suite(void)
{
	Suite *s = suite_create("pipeline");
	TCase *tc = tcase_create("pipeline");

	tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_add_test(tc, test_pipeline_load);
	tcase_add_test(tc, test_pipeline_errors);
	tcase_add_test(tc, test_pipeline_plan);
	tcase_add_test(tc, test_pipeline_force_and_block);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(pipeline_suite)
