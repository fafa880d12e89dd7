/*
 * registry_models.c — models, versions, aliases with their history, targets and
 * deployments in the registry (floor 2). Every write is one BEGIN IMMEDIATE transaction:
 * two trainings registering the same model at once get distinct versions, and an alias
 * move and its history row are written together or not at all.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "error.h"
#include "registry_int.h"
#include "util.h"
#include "banned.h"

bool mlctl_name_valid(const char *name)
{
	size_t i;

	if (!name || !isalnum((unsigned char)name[0]) || strlen(name) > 128)
		return false;
	for (i = 1; name[i]; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '.' && name[i] != '_' && name[i] != '-')
			return false;
	return true;
}

bool mlctl_model_ref_is_registry(const char *ref)
{
	size_t len = strlen(ref);

	if (strncmp(ref, "run/", 4) == 0)
		return true;
	if (strchr(ref, '/') || (len > 6 && strcmp(ref + len - 6, ".mlpkg") == 0))
		return false;
	return true;
}

/* Inside a transaction: insert spec as version (the model row created if needed). */
static int insert_version(mlctl_registry *reg, const mlctl_model_version *spec, int version, int64_t now)
{
	int ret = registry_exec(reg, "INSERT OR IGNORE INTO models (name, created) VALUES (?, ?)", "si", spec->name, now);

	if (!ret)
		ret = registry_exec(reg,
				    "INSERT INTO model_versions (name, version, run, model_digest, preprocess_digest, profile_digest,"
				    " svm_type, kernel, created, user) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
				    "sissssssis", spec->name, (int64_t)version, spec->run, spec->model_digest,
				    spec->preprocess_digest, spec->profile_digest, spec->svm_type, spec->kernel, now,
				    mlctl_username());
	if (!ret)
		ret = registry_exec(reg, "UPDATE runs SET model_name = ?, model_version = ? WHERE id = ?", "sis",
				    spec->name, (int64_t)version, spec->run);
	return ret;
}

static int check_name(const char *name)
{
	if (mlctl_name_valid(name))
		return 0;
	return mlctl_error_set(MLCTL_EUSAGE,
			       "invalid model name \"%s\": use letters, digits, '.', '_' and '-', starting with a letter or digit",
			       name);
}

int mlctl_model_register(int *out_version, mlctl_registry *reg, const mlctl_model_version *spec)
{
	sqlite3_stmt *st;
	int ret, rc, version = 0;

	if ((ret = check_name(spec->name)) || (ret = registry_begin(reg)))
		return ret;
	if ((ret = registry_prepare(&st, reg, "SELECT coalesce(max(version), 0) + 1 FROM model_versions WHERE name = ?",
				    "s", spec->name)))
		goto fail;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		ret = registry_error(reg, rc, "cannot number a model version");
	else if (sqlite3_column_int64(st, 0) > INT_MAX)	/* after a version INT_MAX registered as such */
		ret = mlctl_error_set(MLCTL_EDATA, "model %s: no version number left after %d", spec->name, INT_MAX);
	else
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (ret || (ret = insert_version(reg, spec, version, mlctl_now_ms())))
		goto fail;
	if ((ret = registry_commit(reg)))
		return ret;
	*out_version = version;
	return 0;
fail:
	registry_rollback(reg);
	return ret;
}

int mlctl_model_register_as(mlctl_registry *reg, const mlctl_model_version *spec)
{
	sqlite3_stmt *st;
	int ret, rc;

	if ((ret = check_name(spec->name)))
		return ret;
	/* Versions count from 1: a reference such as "churn:0" cannot name any other. */
	if (spec->version < 1)
		return mlctl_error_set(MLCTL_EUSAGE, "model %s: invalid version %d (versions start at 1)", spec->name,
				       spec->version);
	if ((ret = registry_begin(reg)))
		return ret;
	if ((ret = registry_prepare(&st, reg, "SELECT 1 FROM model_versions WHERE name = ? AND version = ?", "si",
				    spec->name, (int64_t)spec->version)))
		goto fail;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		ret = mlctl_error_set(MLCTL_EEXISTS, "model %s has a version %d already", spec->name, spec->version);
	else if (rc != SQLITE_DONE)
		ret = registry_error(reg, rc, "cannot read a model version");
	if (ret || (ret = insert_version(reg, spec, spec->version, mlctl_now_ms())))
		goto fail;
	return registry_commit(reg);
fail:
	registry_rollback(reg);
	return ret;
}

#define VERSION_COLUMNS "name, version, run, model_digest, preprocess_digest, profile_digest, svm_type," \
	" kernel, created, user"

static int version_from_row(mlctl_model_version **out, mlctl_registry *reg, sqlite3_stmt *row)
{
	mlctl_model_version *v = mlctl_calloc(1, sizeof(*v));
	sqlite3_stmt *st;
	int ret, rc;

	*out = NULL;
	if (!v)
		return MLCTL_ENOMEM;
	v->name = registry_col_str(row, 0);
	v->version = sqlite3_column_int(row, 1);
	snprintf(v->run, sizeof(v->run), "%s", (const char *)sqlite3_column_text(row, 2));
	snprintf(v->model_digest, sizeof(v->model_digest), "%s", (const char *)sqlite3_column_text(row, 3));
	snprintf(v->preprocess_digest, sizeof(v->preprocess_digest), "%s", (const char *)sqlite3_column_text(row, 4));
	snprintf(v->profile_digest, sizeof(v->profile_digest), "%s", (const char *)sqlite3_column_text(row, 5));
	v->svm_type = registry_col_str(row, 6);
	v->kernel = registry_col_str(row, 7);
	v->created_ms = sqlite3_column_int64(row, 8);
	v->user = registry_col_str(row, 9);
	ret = registry_prepare(&st, reg, "SELECT alias FROM aliases WHERE name = ? AND version = ? ORDER BY alias",
			       "si", v->name, (int64_t)v->version);
	if (ret)
		goto fail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char **a = mlctl_reallocarray(v->aliases, v->naliases + 1, sizeof(*a));

		if (!a) {
			ret = MLCTL_ENOMEM;
			break;
		}
		v->aliases = a;
		a[v->naliases++] = registry_col_str(st, 0);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = registry_error(reg, rc, "cannot read aliases");
	sqlite3_finalize(st);
	if (ret)
		goto fail;
	*out = v;
	return 0;
fail:
	mlctl_model_version_free(v);
	return ret;
}

void mlctl_model_version_free(mlctl_model_version *v)
{
	size_t i;

	if (!v)
		return;
	free(v->name);
	free(v->svm_type);
	free(v->kernel);
	free(v->user);
	for (i = 0; i < v->naliases; i++)
		free(v->aliases[i]);
	free(v->aliases);
	free(v);
}

/* Run a query expected to return one model version row. */
static int query_version(mlctl_model_version **out, mlctl_registry *reg, const char *missing,
			 const char *sql, const char *types, const char *s, int64_t i)
{
	sqlite3_stmt *st;
	int ret, rc;

	if (types[1] == 'i')
		ret = registry_prepare(&st, reg, sql, types, s, i);
	else
		ret = registry_prepare(&st, reg, sql, types, s);
	if (ret)
		return ret;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		ret = version_from_row(out, reg, st);
	else if (rc == SQLITE_DONE)
		ret = mlctl_error_set(MLCTL_ENOTFOUND, "%s", missing);
	else
		ret = registry_error(reg, rc, "cannot read a model version");
	sqlite3_finalize(st);
	return ret;
}

int mlctl_model_resolve(mlctl_model_version **out, mlctl_registry *reg, const char *ref)
{
	char msg[512], name[256], id[MLCTL_RUN_ID_SIZE];
	const char *sep;
	int64_t version;
	int ret;

	*out = NULL;
	if (strncmp(ref, "run/", 4) == 0) {
		if ((ret = mlctl_run_resolve(id, reg, ref + 4)))
			return ret;
		snprintf(msg, sizeof(msg), "run %s registered no model version", id);
		return query_version(out, reg, msg, "SELECT " VERSION_COLUMNS " FROM model_versions WHERE run = ?",
				     "s", id, 0);
	}
	sep = strpbrk(ref, ":@");
	snprintf(name, sizeof(name), "%.*s", (int)(sep ? (size_t)(sep - ref) : strlen(ref)), ref);
	if (!mlctl_name_valid(name))
		return mlctl_error_set(MLCTL_EUSAGE,
				       "\"%s\" is not a model reference (NAME, NAME:VERSION, NAME@ALIAS, run/ID or a .mlpkg file)", ref);
	if (!sep) {
		snprintf(msg, sizeof(msg), "no model named %s", name);
		return query_version(out, reg, msg,
				     "SELECT " VERSION_COLUMNS " FROM model_versions WHERE name = ? ORDER BY version DESC LIMIT 1",
				     "s", name, 0);
	}
	if (*sep == ':') {
		if (!mlctl_parse_int64(sep + 1, 1, INT32_MAX, &version))
			return mlctl_error_set(MLCTL_EUSAGE, "\"%s\": the version after ':' must be a positive number", ref);
		snprintf(msg, sizeof(msg), "model %s has no version %lld", name, (long long)version);
		return query_version(out, reg, msg, "SELECT " VERSION_COLUMNS " FROM model_versions WHERE name = ? AND version = ?",
				     "si", name, version);
	}
	if (!mlctl_name_valid(sep + 1))
		return mlctl_error_set(MLCTL_EUSAGE, "\"%s\": invalid alias name after '@'", ref);
	snprintf(msg, sizeof(msg), "model %s has no alias @%s", name, sep + 1);
	{
		sqlite3_stmt *st;
		int rc;

		if ((ret = registry_prepare(&st, reg, "SELECT version FROM aliases WHERE name = ? AND alias = ?", "ss",
					    name, sep + 1)))
			return ret;
		rc = sqlite3_step(st);
		version = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			ret = registry_error(reg, rc, "cannot read an alias");
		sqlite3_finalize(st);
		if (ret)
			return ret;
		if (rc == SQLITE_DONE)
			return mlctl_error_set(MLCTL_ENOTFOUND, "%s", msg);
	}
	snprintf(msg, sizeof(msg), "alias %s points at version %lld, which no longer exists", ref, (long long)version);
	return query_version(out, reg, msg, "SELECT " VERSION_COLUMNS " FROM model_versions WHERE name = ? AND version = ?",
			     "si", name, version);
}

int mlctl_model_list_get(mlctl_model_list **out, mlctl_registry *reg)
{
	mlctl_model_list *l;
	sqlite3_stmt *st;
	int ret, rc;

	*out = NULL;
	if (!(l = mlctl_calloc(1, sizeof(*l))))
		return MLCTL_ENOMEM;
	ret = registry_prepare(&st, reg,
			       "SELECT m.name, max(v.version), count(v.version), max(v.created),"
			       " (SELECT group_concat(alias || '=' || version, ', ') FROM"
			       "   (SELECT alias, version FROM aliases a WHERE a.name = m.name ORDER BY alias))"
			       " FROM models m LEFT JOIN model_versions v ON v.name = m.name"
			       " GROUP BY m.name ORDER BY m.name", NULL);
	if (ret) {
		free(l);
		return ret;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		mlctl_model_summary *m = mlctl_reallocarray(l->models, l->n + 1, sizeof(*m));

		if (!m) {
			ret = MLCTL_ENOMEM;
			break;
		}
		l->models = m;
		m += l->n++;
		m->name = registry_col_str(st, 0);
		m->latest = sqlite3_column_int(st, 1);
		m->nversions = sqlite3_column_int(st, 2);
		m->updated_ms = sqlite3_column_int64(st, 3);
		m->aliases = registry_col_str(st, 4);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = registry_error(reg, rc, "cannot list models");
	sqlite3_finalize(st);
	if (ret) {
		mlctl_model_list_free(l);
		return ret;
	}
	*out = l;
	return 0;
}

void mlctl_model_list_free(mlctl_model_list *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->n; i++) {
		free(l->models[i].name);
		free(l->models[i].aliases);
	}
	free(l->models);
	free(l);
}

int mlctl_model_versions_get(mlctl_model_versions **out, mlctl_registry *reg, const char *name)
{
	mlctl_model_versions *l;
	sqlite3_stmt *st;
	int ret, rc;

	*out = NULL;
	if (!(l = mlctl_calloc(1, sizeof(*l))))
		return MLCTL_ENOMEM;
	ret = registry_prepare(&st, reg, "SELECT " VERSION_COLUMNS " FROM model_versions WHERE name = ? ORDER BY version DESC",
			       "s", name);
	if (ret) {
		free(l);
		return ret;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		mlctl_model_version **v = mlctl_reallocarray(l->v, l->n + 1, sizeof(*v));

		if (!v) {
			ret = MLCTL_ENOMEM;
			break;
		}
		l->v = v;
		if ((ret = version_from_row(&v[l->n], reg, st)))
			break;
		l->n++;
	}
	if (!ret && rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = registry_error(reg, rc, "cannot list model versions");
	sqlite3_finalize(st);
	if (!ret && l->n == 0)
		ret = mlctl_error_set(MLCTL_ENOTFOUND, "no model named %s", name);
	if (ret) {
		mlctl_model_versions_free(l);
		return ret;
	}
	*out = l;
	return 0;
}

void mlctl_model_versions_free(mlctl_model_versions *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->n; i++)
		mlctl_model_version_free(l->v[i]);
	free(l->v);
	free(l);
}

/* Inside a transaction: move name@alias to version (0 deletes), recording the move. */
static int alias_move(mlctl_registry *reg, const char *name, const char *alias, int version, const char *reason)
{
	sqlite3_stmt *st;
	int64_t now = mlctl_now_ms(), from = 0;
	int ret, rc;

	if ((ret = registry_prepare(&st, reg, "SELECT version FROM aliases WHERE name = ? AND alias = ?", "ss", name, alias)))
		return ret;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		from = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		ret = registry_error(reg, rc, "cannot read an alias");
	sqlite3_finalize(st);
	if (ret)
		return ret;
	if (version == 0 && from == 0)
		return mlctl_error_set(MLCTL_ENOTFOUND, "model %s has no alias @%s", name, alias);
	if (version)
		ret = registry_exec(reg, "INSERT OR REPLACE INTO aliases (name, alias, version, updated) VALUES (?, ?, ?, ?)",
				    "ssii", name, alias, (int64_t)version, now);
	else
		ret = registry_exec(reg, "DELETE FROM aliases WHERE name = ? AND alias = ?", "ss", name, alias);
	if (ret)
		return ret;
	return registry_exec(reg,
			     "INSERT INTO alias_history (name, alias, from_version, to_version, user, host, reason, time)"
			     " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			     "ssiisssi", name, alias, from, (int64_t)version, mlctl_username(), mlctl_hostname(),
			     reason, now);
}

static int check_version_exists(mlctl_registry *reg, const char *name, int version)
{
	sqlite3_stmt *st;
	int ret, rc;

	if ((ret = registry_prepare(&st, reg, "SELECT 1 FROM model_versions WHERE name = ? AND version = ?", "si",
				    name, (int64_t)version)))
		return ret;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return mlctl_error_set(MLCTL_ENOTFOUND, "model %s has no version %d", name, version);
	return rc == SQLITE_ROW ? 0 : registry_error(reg, rc, "cannot read a model version");
}

int mlctl_alias_set(mlctl_registry *reg, const char *name, const char *alias, int version, const char *reason)
{
	int ret;

	if (!mlctl_name_valid(alias))
		return mlctl_error_set(MLCTL_EUSAGE, "invalid alias name \"%s\"", alias);
	if ((ret = registry_begin(reg)))
		return ret;
	if ((ret = check_version_exists(reg, name, version)) ||
	    (ret = alias_move(reg, name, alias, version, reason))) {
		registry_rollback(reg);
		return ret;
	}
	return registry_commit(reg);
}

int mlctl_alias_delete(mlctl_registry *reg, const char *name, const char *alias)
{
	int ret;

	if ((ret = registry_begin(reg)))
		return ret;
	if ((ret = alias_move(reg, name, alias, 0, "deleted"))) {
		registry_rollback(reg);
		return ret;
	}
	return registry_commit(reg);
}

int mlctl_alias_history_get(mlctl_alias_history **out, mlctl_registry *reg, const char *name, const char *alias)
{
	mlctl_alias_history *h;
	sqlite3_stmt *st;
	int ret, rc;

	*out = NULL;
	if (!(h = mlctl_calloc(1, sizeof(*h))))
		return MLCTL_ENOMEM;
	ret = registry_prepare(&st, reg,
			       "SELECT name, alias, from_version, to_version, user, host, reason, time FROM alias_history"
			       " WHERE name = ? AND (?2 IS NULL OR alias = ?2) ORDER BY id", "ss", name, alias);
	if (ret) {
		free(h);
		return ret;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		mlctl_alias_move *m = mlctl_reallocarray(h->moves, h->n + 1, sizeof(*m));

		if (!m) {
			ret = MLCTL_ENOMEM;
			break;
		}
		h->moves = m;
		m += h->n++;
		m->name = registry_col_str(st, 0);
		m->alias = registry_col_str(st, 1);
		m->from_version = sqlite3_column_int(st, 2);
		m->to_version = sqlite3_column_int(st, 3);
		m->user = registry_col_str(st, 4);
		m->host = registry_col_str(st, 5);
		m->reason = registry_col_str(st, 6);
		m->time_ms = sqlite3_column_int64(st, 7);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = registry_error(reg, rc, "cannot read the alias history");
	sqlite3_finalize(st);
	if (ret) {
		mlctl_alias_history_free(h);
		return ret;
	}
	*out = h;
	return 0;
}

void mlctl_alias_history_free(mlctl_alias_history *h)
{
	size_t i;

	if (!h)
		return;
	for (i = 0; i < h->n; i++) {
		free(h->moves[i].name);
		free(h->moves[i].alias);
		free(h->moves[i].user);
		free(h->moves[i].host);
		free(h->moves[i].reason);
	}
	free(h->moves);
	free(h);
}

/* ---- targets and deployments ---- */

int mlctl_target_set(mlctl_registry *reg, const char *name, const char *path)
{
	if (!mlctl_name_valid(name))
		return mlctl_error_set(MLCTL_EUSAGE, "invalid target name \"%s\"", name);
	return registry_exec(reg,
			     "INSERT INTO targets (name, path, created) VALUES (?, ?, ?)"
			     " ON CONFLICT (name) DO UPDATE SET path = excluded.path",
			     "ssi", name, path, mlctl_now_ms());
}

int mlctl_target_path(char **out, mlctl_registry *reg, const char *name)
{
	sqlite3_stmt *st;
	int ret, rc;

	*out = NULL;
	if ((ret = registry_prepare(&st, reg, "SELECT path FROM targets WHERE name = ?", "s", name)))
		return ret;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		ret = (*out = registry_col_str(st, 0)) ? 0 : MLCTL_ENOMEM;
	else if (rc == SQLITE_DONE)
		ret = mlctl_error_set(MLCTL_ENOTFOUND, "no target named %s (deploy to it first)", name);
	else
		ret = registry_error(reg, rc, "cannot read a target");
	sqlite3_finalize(st);
	return ret;
}

int mlctl_deployment_record(mlctl_registry *reg, mlctl_deployment *d)
{
	int ret;

	d->time_ms = mlctl_now_ms();
	if ((ret = registry_begin(reg)))
		return ret;
	ret = registry_exec(reg,
			    "INSERT INTO deployments (target, name, version, package_digest, release, action, run, user, host, time)"
			    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			    "ssissssssi", d->target, d->name, (int64_t)d->version, d->package_digest, d->release,
			    d->action, d->run[0] ? d->run : NULL, mlctl_username(), mlctl_hostname(), d->time_ms);
	if (!ret) {
		d->id = sqlite3_last_insert_rowid(registry_db(reg));
		/* The alias moves only when this registry knows the version (a package from
		 * elsewhere is registered by the caller first). */
		if (check_version_exists(reg, d->name, d->version) == 0)
			ret = alias_move(reg, d->name, d->target, d->version, d->action);
		else
			mlctl_error_clear();
	}
	if (ret) {
		registry_rollback(reg);
		return ret;
	}
	return registry_commit(reg);
}

int mlctl_deployment_list_get(mlctl_deployment_list **out, mlctl_registry *reg, const char *target)
{
	mlctl_deployment_list *l;
	sqlite3_stmt *st;
	int ret, rc;

	*out = NULL;
	if (!(l = mlctl_calloc(1, sizeof(*l))))
		return MLCTL_ENOMEM;
	if (target)
		ret = registry_prepare(&st, reg,
				       "SELECT id, target, name, version, package_digest, release, action, run, user, host, time"
				       " FROM deployments WHERE target = ? ORDER BY id DESC", "s", target);
	else
		ret = registry_prepare(&st, reg,
				       "SELECT id, target, name, version, package_digest, release, action, run, user, host, time"
				       " FROM deployments WHERE id IN (SELECT max(id) FROM deployments GROUP BY target)"
				       " ORDER BY target", NULL);
	if (ret) {
		free(l);
		return ret;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		mlctl_deployment *d = mlctl_reallocarray(l->d, l->n + 1, sizeof(*d));

		if (!d) {
			ret = MLCTL_ENOMEM;
			break;
		}
		l->d = d;
		d += l->n++;
		memset(d, 0, sizeof(*d));
		d->id = sqlite3_column_int64(st, 0);
		d->target = registry_col_str(st, 1);
		d->name = registry_col_str(st, 2);
		d->version = sqlite3_column_int(st, 3);
		snprintf(d->package_digest, sizeof(d->package_digest), "%s", (const char *)sqlite3_column_text(st, 4));
		d->release = registry_col_str(st, 5);
		d->action = registry_col_str(st, 6);
		if (sqlite3_column_text(st, 7))
			snprintf(d->run, sizeof(d->run), "%s", (const char *)sqlite3_column_text(st, 7));
		d->user = registry_col_str(st, 8);
		d->host = registry_col_str(st, 9);
		d->time_ms = sqlite3_column_int64(st, 10);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = registry_error(reg, rc, "cannot list deployments");
	sqlite3_finalize(st);
	if (ret) {
		mlctl_deployment_list_free(l);
		return ret;
	}
	*out = l;
	return 0;
}

void mlctl_deployment_list_free(mlctl_deployment_list *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->n; i++) {
		free(l->d[i].target);
		free(l->d[i].name);
		free(l->d[i].release);
		free(l->d[i].action);
		free(l->d[i].user);
		free(l->d[i].host);
	}
	free(l->d);
	free(l);
}
