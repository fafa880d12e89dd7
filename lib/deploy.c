/*
 * deploy.c — deployment targets (floor 4).
 *
 *   <target>/releases/<name>-<version>-<digest12>/   an extracted, verified package
 *   <target>/current -> releases/…                    switched by renaming a new symlink
 *   <target>/.lock                                     serialises deploys and rollbacks
 *
 * A release is extracted under a temp name and renamed into place, so a release directory
 * is always complete; current is replaced by rename(2), so it always names a complete
 * release. The registry is written after the switch, in one transaction (the deployment
 * and the alias NAME@TARGET); if a kill falls between the switch and that transaction,
 * the next deploy or rollback sees the difference under the target lock and records it
 * (reconcile). `deploy status` only reports it: a read writes nothing.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "package_int.h"
#include "sign.h"
#include "util.h"
#include "mlctl/deploy.h"
#include "mlctl/package.h"
#include "mlctl/store.h"
#include "banned.h"

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) == 0 || errno == ENOENT ? 0 : -1;
	return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
}

/* rm -rf path (not following symlinks). */
static int remove_tree(const char *path)
{
	if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT)
		return mlctl_error_errno(MLCTL_EIO, "cannot remove %s", path);
	return 0;
}

/* The release name current points at ("releases/X" → "X"), or NULL. */
static char *current_release(const char *dir)
{
	char *link = fs_join(dir, "current"), buf[PATH_MAX];
	ssize_t n;

	if (!link)
		return NULL;
	n = readlink(link, buf, sizeof(buf) - 1);
	free(link);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return mlctl_strdup(strncmp(buf, "releases/", 9) == 0 ? buf + 9 : buf);
}

/* Point current at releases/rel: a new symlink renamed over the old one. */
static int switch_current(const char *dir, const char *rel)
{
	char *tmp = mlctl_asprintf("%s/.current.tmp-%d", dir, (int)getpid());
	char *target = mlctl_asprintf("releases/%s", rel);
	char *link = fs_join(dir, "current");
	int ret = 0;

	if (!tmp || !target || !link) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	unlink(tmp);
	if (symlink(target, tmp) != 0) {
		ret = mlctl_error_errno(MLCTL_ECREATE, "cannot create the link %s", tmp);
		goto out;
	}
	if (rename(tmp, link) != 0) {
		ret = mlctl_error_errno(MLCTL_EIO, "cannot switch %s", link);
		unlink(tmp);
		goto out;
	}
	ret = fs_fsync_dir(dir);
out:
	free(tmp);
	free(target);
	free(link);
	return ret;
}

/* Under the lock: what a killed deploy left behind (temp releases, links and packages) goes. */
static void clean_leftovers(const char *dir)
{
	char *rels = fs_join(dir, "releases");
	DIR *d;
	struct dirent *e;

	if (rels && (d = opendir(rels))) {
		while ((e = readdir(d))) {
			if (strncmp(e->d_name, ".tmp-", 5) == 0) {
				char *p = fs_join(rels, e->d_name);

				if (p)
					remove_tree(p);
				free(p);
			}
		}
		closedir(d);
	}
	if ((d = opendir(dir))) {
		while ((e = readdir(d))) {
			if (strncmp(e->d_name, ".current.tmp-", 13) == 0 || strncmp(e->d_name, ".incoming-", 10) == 0) {
				char *p = fs_join(dir, e->d_name);

				if (p)
					unlink(p);
				free(p);
			}
		}
		closedir(d);
	}
	free(rels);
	mlctl_error_clear();
}

/* The target's directory, not created: --path, else the one recorded, else under the
 * registry. */
static int target_locate(char **out, mlctl_registry *reg, const char *target, const char *path)
{
	int ret;

	*out = NULL;
	if (!mlctl_name_valid(target))
		return mlctl_error_set(MLCTL_EUSAGE, "invalid target name \"%s\"", target);
	if (path) {
		*out = mlctl_strdup(path);
	} else if ((ret = mlctl_target_path(out, reg, target))) {
		if (ret != MLCTL_ENOTFOUND)
			return ret;
		mlctl_error_clear();
		*out = mlctl_asprintf("%s/targets/%s", mlctl_registry_path(reg), target);
	}
	return *out ? 0 : MLCTL_ENOMEM;
}

/* Create the target at dir (its releases/ directory) and record it; *out is its real path. */
static int target_create(char **out, mlctl_registry *reg, const char *target, const char *dir)
{
	char *rels = fs_join(dir, "releases"), real[PATH_MAX];
	int ret;

	*out = NULL;
	if (!rels)
		return MLCTL_ENOMEM;
	ret = fs_mkdir_p(rels);
	free(rels);
	if (!ret && !realpath(dir, real))
		ret = mlctl_error_errno(MLCTL_EIO, "cannot resolve %s", dir);
	if (ret || (ret = mlctl_target_set(reg, target, real)))
		return ret;
	*out = mlctl_strdup(real);
	return *out ? 0 : MLCTL_ENOMEM;
}

#define PACKAGE_FILE_MAX ((size_t)1 << 30)

/* The bytes of the package of a registry version, as `mlctl package` writes them, made
 * in memory: nothing is written before the deploy has been checked. */
static int build_package(char **buf, size_t *len, mlctl_registry *reg, const mlctl_deploy_options *o)
{
	mlctl_model_version *v = NULL;
	pkg_entry *e = NULL;
	size_t n = 0;
	int ret;

	/* Such a package has no signature: a key given to check one must not be ignored. */
	if (o->pubkey)
		return mlctl_error_set(MLCTL_EUSAGE, "--pubkey checks the signature of a package file; %s is a model in the registry",
				       o->model);
	if (!(ret = mlctl_model_resolve(&v, reg, o->model)) && !(ret = package_build(&e, &n, NULL, reg, v)))
		ret = pkg_write_mem(buf, len, e, n, package_mtime(v));
	package_entries_free(e, n);
	mlctl_model_version_free(v);
	return ret;
}

/*
 * Read the package to deploy into memory, once: built from the registry, or a file whose
 * signature (with --pubkey), digest and contents are all checked on the same bytes, so
 * that the file cannot change between the checks and the use. Writes nothing.
 */
static int load_package(package_file **out, mlctl_registry *reg, const mlctl_deploy_options *o)
{
	char *buf = NULL;
	size_t len = 0;
	int ret;

	*out = NULL;
	if (mlctl_model_ref_is_registry(o->model) && !(fs_exists(o->model) && !fs_is_dir(o->model))) {
		if ((ret = build_package(&buf, &len, reg, o)))
			return ret;
		return package_file_from_mem(out, buf, len, o->model);
	}
	return package_file_load(out, o->model, o->pubkey, NULL);
}

/* Whether this registry has the version the package holds (*known), and if it has, that
 * it is the same model: otherwise the alias NAME@TARGET would name a version that is not
 * what the target serves. m is as package_check() left it: every file's digest in m is
 * its bytes', so nothing is hashed again. Reads only. */
static int check_known(bool *known, mlctl_registry *reg, const manifest *m)
{
	const char *md = manifest_find_file(m, "model/libsvm.model")->sha256;
	const char *pd = manifest_find_file(m, "model/preprocess.yaml")->sha256;
	mlctl_model_version *have = NULL;
	char ref[300];
	int ret;

	*known = false;
	snprintf(ref, sizeof(ref), "%s:%lld", m->name, (long long)m->version);
	if ((ret = mlctl_model_resolve(&have, reg, ref)) == MLCTL_ENOTFOUND) {
		mlctl_error_clear();
		return 0;
	}
	if (ret)
		return ret;
	*known = true;
	if (strcmp(md, have->model_digest) != 0 || strcmp(pd, have->preprocess_digest) != 0)
		ret = mlctl_error_set(MLCTL_EVERDICT,
				      "the package holds %s, but this registry's %s is a different model (model sha256 %.12s, here %.12s)",
				      ref, ref, md, have->model_digest);
	mlctl_model_version_free(have);
	return ret;
}

/* A package from elsewhere: teach the registry its version (objects, an import run). */
static int learn_version(mlctl_registry *reg, const pkg_contents *c, const manifest *m, const char *run)
{
	mlctl_model_version spec = { 0 };
	const pkg_entry *me = pkg_find(c, "model/libsvm.model"), *pe = pkg_find(c, "model/preprocess.yaml");
	const pkg_entry *fe = pkg_find(c, "reference/profile.yaml");
	bool known;
	int ret;

	if ((ret = check_known(&known, reg, m)) || known)
		return ret;
	if ((ret = mlctl_store_put(spec.model_digest, reg, me->data, me->len, "application/x-libsvm-model")) ||
	    (ret = mlctl_store_put(spec.preprocess_digest, reg, pe->data, pe->len, "application/yaml")))
		return ret;
	if (fe && (ret = mlctl_store_put(spec.profile_digest, reg, fe->data, fe->len, "application/yaml")))
		return ret;
	spec.name = m->name;
	spec.version = (int)m->version;	/* package_check() refused versions above INT_MAX */
	snprintf(spec.run, sizeof(spec.run), "%s", run);
	spec.svm_type = m->model.type;
	spec.kernel = m->model.kernel;
	return mlctl_model_register_as(reg, &spec);
}

/*
 * The newest finished validation of name:version decides: one this registry recorded, or
 * for a package from elsewhere the last one its manifest carries, but only when signed
 * says that the manifest came with a signature verified against --pubkey. A manifest
 * that arrived unsigned is input, never evidence: anyone can write "verdict: pass" into
 * it and re-tar it. A pass followed by a fail is a fail.
 */
static int check_validated(mlctl_registry *reg, const manifest *m, bool signed_manifest)
{
	mlctl_run_filter f = MLCTL_RUN_FILTER_INIT;
	mlctl_run_list *l = NULL;
	char verdict[16] = "", run[MLCTL_RUN_ID_SIZE] = "";
	size_t i;
	int ret;

	f.kind = "validate";
	f.model_name = m->name;
	if ((ret = mlctl_run_list_get(&l, reg, &f)))
		return ret;
	/* Newest first: the first finished validation of this version is the latest. */
	for (i = 0; i < l->n; i++) {
		const mlctl_run *r = l->runs[i];

		if (r->model_version == m->version && r->status == MLCTL_RUN_SUCCEEDED && r->verdict) {
			snprintf(verdict, sizeof(verdict), "%s", r->verdict);
			snprintf(run, sizeof(run), "%s", r->id);
			break;
		}
	}
	mlctl_run_list_free(l);
	if (!verdict[0] && m->nvalidations) {
		const manifest_validation *v = &m->validations[m->nvalidations - 1];

		if (!signed_manifest)
			return mlctl_error_set(MLCTL_EVERDICT,
					       "%s:%lld: the package's validations are not trusted: it is unsigned or its signature was not verified (deploy it with --pubkey KEY), and this registry has no validation of it",
					       m->name, (long long)m->version);
		snprintf(verdict, sizeof(verdict), "%s", v->verdict);
		snprintf(run, sizeof(run), "%s", v->run);
	}
	if (strcmp(verdict, "pass") == 0)
		return 0;
	if (verdict[0])
		return mlctl_error_set(MLCTL_EVERDICT, "%s:%lld: its latest validation (run %s) did not pass: not deploying",
				       m->name, (long long)m->version, run);
	return mlctl_error_set(MLCTL_EVERDICT,
			       "%s:%lld has no passing validation (run `mlctl validate %s:%lld --data DATA --gate ...` first)",
			       m->name, (long long)m->version, m->name, (long long)m->version);
}

/* Extract into releases/.tmp-…, then rename to releases/rel. An existing complete release
 * is reused; a damaged one is replaced. */
static int install_release(const char *dir, const char *rel, const pkg_contents *c, const char *digest)
{
	char *final = mlctl_asprintf("%s/releases/%s", dir, rel);
	char *tmp = mlctl_asprintf("%s/releases/.tmp-%s-%d", dir, rel, (int)getpid());
	char *mark = NULL, *rels = NULL;
	mlctl_bundle *b = NULL;
	int ret;

	if (!final || !tmp) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	if (fs_is_dir(final)) {
		if (bundle_from_dir(&b, final) == 0)
			goto out_ok;
		mlctl_error_clear();
		if ((ret = remove_tree(final)))
			goto out;
	}
	remove_tree(tmp);
	if (mkdir(tmp, 0755) != 0) {
		ret = mlctl_error_errno(MLCTL_ECREATE, "cannot create %s", tmp);
		goto out;
	}
	if ((ret = pkg_extract(c, tmp)))
		goto out;
	if (!(mark = fs_join(tmp, ".package-sha256"))) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	if ((ret = fs_write_atomic(mark, digest, strlen(digest), 0444)) || (ret = fs_fsync_dir(tmp)))
		goto out;
	if (rename(tmp, final) != 0) {
		ret = mlctl_error_errno(MLCTL_EIO, "cannot rename %s to %s", tmp, final);
		goto out;
	}
	rels = fs_dirname(final);
	if (rels && (ret = fs_fsync_dir(rels)))
		goto out;
out_ok:
	ret = 0;
out:
	if (ret && tmp)
		remove_tree(tmp);
	bundle_free(b);
	free(final);
	free(tmp);
	free(mark);
	free(rels);
	return ret;
}

typedef struct rel_age {
	char *name;
	struct timespec mtime;
	bool protect;           /* current or previous: never removed */
} rel_age;

/* Newest first; equal times (a second's deploys on a coarse clock) by name, so that the
 * choice does not depend on readdir's order. */
static int cmp_age(const void *a, const void *b)
{
	const rel_age *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? 1 : -1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* The release directories of rels with their times; NULL names are never returned. */
static rel_age *list_releases(const char *rels, const char *current, const char *previous, size_t *n)
{
	rel_age *v = NULL, *nv;
	struct dirent *e;
	DIR *d;

	*n = 0;
	if (!(d = opendir(rels)))
		return NULL;
	while ((e = readdir(d))) {
		struct stat st;
		char *p, *name;

		if (e->d_name[0] == '.')
			continue;
		p = fs_join(rels, e->d_name);
		if (p && stat(p, &st) == 0 && S_ISDIR(st.st_mode) && (name = mlctl_strdup(e->d_name))) {
			if (!(nv = realloc(v, (*n + 1) * sizeof(*v)))) {
				free(name);
				free(p);
				break;
			}
			v = nv;
			v[*n].name = name;
			v[*n].mtime = st.st_mtim;
			v[(*n)++].protect = (current && strcmp(name, current) == 0) ||
					    (previous && strcmp(name, previous) == 0);
		}
		free(p);
	}
	closedir(d);
	return v;
}

/* Keep the keep newest releases, counting current and previous, which are always kept;
 * remove the rest. Returns how many were removed. */
static size_t prune(const char *dir, int keep, const char *current, const char *previous)
{
	char *rels = fs_join(dir, "releases");
	rel_age *v;
	size_t n = 0, i, kept = 0, removed = 0;

	if (!rels)
		return 0;
	v = list_releases(rels, current, previous, &n);
	if (n)
		qsort(v, n, sizeof(*v), cmp_age);
	for (i = 0; i < n; i++)
		kept += v[i].protect;
	for (i = 0; i < n; i++) {
		bool drop = !v[i].protect && kept >= (size_t)keep;

		if (!v[i].protect && !drop)
			kept++;
		if (drop) {
			/* Renamed out of the way first: a kill in the middle of the removal must
			 * not leave a half release under a name that rollback would switch to.
			 * clean_leftovers() finishes the job after a kill. */
			char *p = fs_join(rels, v[i].name);
			char *gone = mlctl_asprintf("%s/.tmp-prune-%s", rels, v[i].name);

			if (p && gone && rename(p, gone) == 0 && remove_tree(gone) == 0)
				removed++;
			free(p);
			free(gone);
		}
		free(v[i].name);
	}
	free(v);
	free(rels);
	mlctl_error_clear();
	return removed;
}

/* Seconds to wait for the target lock: zero-initialised options get the default, a
 * negative wait means one try (fs_lock() takes a negative wait as "forever"). */
static double lock_wait(const mlctl_deploy_options *o)
{
	if (o->wait < 0)
		return 0;
	return o->wait > 0 ? o->wait : 5;
}

static int start_run(char run[MLCTL_RUN_ID_SIZE], mlctl_registry *reg, const mlctl_deploy_options *o, const char *kind)
{
	mlctl_run_start_options ro = MLCTL_RUN_START_OPTIONS_INIT;

	ro.kind = kind;
	ro.name = o->target;
	ro.argc = o->argc;
	ro.argv = o->argv;
	return mlctl_run_start(run, reg, &ro);
}

static int finish_run(mlctl_registry *reg, const char *run, int ret)
{
	if (ret)
		return mlctl_run_fail(reg, run, ret);
	return mlctl_run_finish(reg, run, NULL);
}

/* Under the target lock: record what current points at when the registry says otherwise
 * (a deploy or rollback killed between the switch and its record). */
static int reconcile_locked(mlctl_registry *reg, const char *target)
{
	mlctl_deployment_list *l = NULL;
	mlctl_deployment d = { 0 };
	mlctl_bundle *b = NULL;
	char *dir = NULL, *cur = NULL, *reldir = NULL;
	int ret;

	if ((ret = mlctl_target_path(&dir, reg, target))) {
		mlctl_error_clear();
		return ret == MLCTL_ENOTFOUND ? 0 : ret;
	}
	if (!(cur = current_release(dir)))
		goto out;
	if ((ret = mlctl_deployment_list_get(&l, reg, target)))
		goto out;
	if (l->n && strcmp(l->d[0].release, cur) == 0)
		goto out;
	if (!(reldir = mlctl_asprintf("%s/releases/%s", dir, cur))) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	if ((ret = bundle_from_dir(&b, reldir)))
		goto out;
	d.target = (char *)target;
	d.name = b->name;
	d.version = b->version;
	snprintf(d.package_digest, sizeof(d.package_digest), "%s", b->package_digest);
	d.release = cur;
	d.action = "reconcile";
	ret = mlctl_deployment_record(reg, &d);
out:
	bundle_free(b);
	mlctl_deployment_list_free(l);
	free(dir);
	free(cur);
	free(reldir);
	return ret;
}

int mlctl_deploy(mlctl_deploy_result **out, mlctl_registry *reg, const mlctl_deploy_options *o)
{
	mlctl_deploy_result *res;
	mlctl_deployment d = { 0 };
	package_file *pf = NULL;
	const pkg_contents *c;
	const manifest *m;
	char *dir = NULL, *lockpath = NULL, stored[MLCTL_DIGEST_HEX];
	int lockfd = -1, ret;
	bool known;

	*out = NULL;
	if (!o->model || !o->target)
		return mlctl_error_set(MLCTL_EUSAGE, "deploy needs a model and --target");
	if (!(res = mlctl_calloc(1, sizeof(*res))) || !(res->target = mlctl_strdup(o->target))) {
		mlctl_deploy_result_free(res);
		return MLCTL_ENOMEM;
	}
	if ((ret = target_locate(&dir, reg, o->target, o->path)) || (ret = start_run(res->run, reg, o, "deploy")))
		goto out;
	/* Everything that can refuse the deploy does so before the target is created: a
	 * model that does not resolve, a package that does not read or check, a missing
	 * validation, a version that is another model here. A refused deploy leaves no
	 * target directory and no target row (only its failed run). */
	if ((ret = load_package(&pf, reg, o)))
		goto out_run;
	c = pf->contents;
	m = pf->manifest;
	memcpy(res->package_digest, pf->digest, sizeof(res->package_digest));
	if ((o->require_validated && (ret = check_validated(reg, m, pf->signature_checked))) ||
	    (ret = check_known(&known, reg, m)))
		goto out_run;
	if ((ret = target_create(&res->path, reg, o->target, dir)))
		goto out_run;
	if (!(lockpath = fs_join(res->path, ".lock"))) {
		ret = MLCTL_ENOMEM;
		goto out_run;
	}
	if ((ret = fs_lock(&lockfd, lockpath, lock_wait(o)))) {
		if (ret == MLCTL_ELOCKED)
			mlctl_error_set(ret, "target %s is being deployed by another process (%s): try again later",
					o->target, lockpath);
		goto out_run;
	}
	clean_leftovers(res->path);
	/* Under the lock the version is looked up again: another deploy may have taught it. */
	if ((ret = reconcile_locked(reg, o->target)) ||
	    (ret = mlctl_store_put(stored, reg, pf->data, pf->len, "application/x-mlpkg")) ||
	    (ret = learn_version(reg, c, m, res->run)))
		goto out_run;
	res->model = mlctl_asprintf("%s:%lld", m->name, (long long)m->version);
	res->release = mlctl_asprintf("%s-%lld-%.12s", m->name, (long long)m->version, res->package_digest);
	res->previous = current_release(res->path);
	if (!res->model || !res->release) {
		ret = MLCTL_ENOMEM;
		goto out_run;
	}
	res->unchanged = res->previous && strcmp(res->previous, res->release) == 0;
	/* The run's bookkeeping comes before the switch, so that after it the registry is
	 * written once: the deployment and the alias in one transaction. A kill after the
	 * switch leaves either both (and a run that shows as stale) or neither, which the
	 * next deploy or rollback reconciles. */
	if ((ret = mlctl_run_set_model(reg, res->run, m->name, (int)m->version)) ||
	    (ret = mlctl_run_log_object(reg, res->run, "input", "package", res->package_digest)) ||
	    (ret = mlctl_run_log_param(reg, res->run, "release", res->release)))
		goto out_run;
	if ((ret = install_release(res->path, res->release, c, res->package_digest)) ||
	    (ret = switch_current(res->path, res->release)))
		goto out_run;
	d.target = (char *)o->target;
	d.name = m->name;
	d.version = (int)m->version;
	snprintf(d.package_digest, sizeof(d.package_digest), "%s", res->package_digest);
	d.release = res->release;
	d.action = "deploy";
	snprintf(d.run, sizeof(d.run), "%s", res->run);
	if ((ret = mlctl_deployment_record(reg, &d)))
		goto out_run;
	res->pruned = prune(res->path, o->keep > 0 ? o->keep : 5, res->release, res->previous);
out_run:
	ret = finish_run(reg, res->run, ret);
out:
	fs_unlock(lockfd);
	free(lockpath);
	free(dir);
	package_file_free(pf);
	if (ret) {
		mlctl_deploy_result_free(res);
		return ret;
	}
	*out = res;
	return 0;
}

int mlctl_deploy_current(char **out, mlctl_registry *reg, const char *target)
{
	char *dir = NULL;
	int ret;

	*out = NULL;
	if ((ret = mlctl_target_path(&dir, reg, target)))
		return ret;
	*out = current_release(dir);
	free(dir);
	return 0;
}

int mlctl_deploy_reconcile(mlctl_registry *reg, const char *target)
{
	char *dir = NULL, *lockpath = NULL;
	int lockfd = -1, ret;

	if ((ret = mlctl_target_path(&dir, reg, target)))
		return ret;
	if (!(lockpath = fs_join(dir, ".lock"))) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	if ((ret = fs_lock(&lockfd, lockpath, 5))) {
		if (ret == MLCTL_ELOCKED)
			mlctl_error_set(ret, "target %s is being deployed by another process: try again later", target);
		goto out;
	}
	ret = reconcile_locked(reg, target);
	fs_unlock(lockfd);
out:
	free(lockpath);
	free(dir);
	return ret;
}

int mlctl_deploy_rollback(mlctl_deploy_result **out, mlctl_registry *reg, const mlctl_deploy_options *o)
{
	mlctl_deployment_list *l = NULL;
	mlctl_deploy_result *res;
	mlctl_deployment d = { 0 };
	char *lockpath = NULL;
	size_t i;
	int lockfd = -1, ret;

	*out = NULL;
	if (!(res = mlctl_calloc(1, sizeof(*res))) || !(res->target = mlctl_strdup(o->target))) {
		mlctl_deploy_result_free(res);
		return MLCTL_ENOMEM;
	}
	if ((ret = mlctl_target_path(&res->path, reg, o->target)))
		goto out;
	if (!(lockpath = fs_join(res->path, ".lock"))) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	if ((ret = fs_lock(&lockfd, lockpath, lock_wait(o)))) {
		if (ret == MLCTL_ELOCKED)
			mlctl_error_set(ret, "target %s is being deployed by another process: try again later", o->target);
		goto out;
	}
	clean_leftovers(res->path);
	if ((ret = reconcile_locked(reg, o->target)) || (ret = mlctl_deployment_list_get(&l, reg, o->target)))
		goto out;
	res->previous = current_release(res->path);
	for (i = 0; i < l->n; i++) {
		char *p;
		bool usable;

		mlctl_bundle *b = NULL;

		if (res->previous && strcmp(l->d[i].release, res->previous) == 0)
			continue;
		/* Only a release that is still there and complete: current must never name a
		 * damaged one. */
		p = mlctl_asprintf("%s/releases/%s", res->path, l->d[i].release);
		usable = p && fs_is_dir(p) && bundle_from_dir(&b, p) == 0;
		bundle_free(b);
		free(p);
		mlctl_error_clear();
		if (usable)
			break;
	}
	if (i == l->n) {
		ret = mlctl_error_set(MLCTL_EVERDICT, "target %s has no previous release to roll back to", o->target);
		goto out;
	}
	if ((ret = start_run(res->run, reg, o, "rollback")))
		goto out;
	res->release = mlctl_strdup(l->d[i].release);
	res->model = mlctl_asprintf("%s:%d", l->d[i].name, l->d[i].version);
	if (!res->release || !res->model) {
		ret = MLCTL_ENOMEM;
		goto out_run;
	}
	snprintf(res->package_digest, sizeof(res->package_digest), "%s", l->d[i].package_digest);
	/* As in deploy: after the switch, one transaction (the deployment and the alias). */
	if ((ret = mlctl_run_set_model(reg, res->run, l->d[i].name, l->d[i].version)) ||
	    (ret = switch_current(res->path, res->release)))
		goto out_run;
	d.target = (char *)o->target;
	d.name = l->d[i].name;
	d.version = l->d[i].version;
	snprintf(d.package_digest, sizeof(d.package_digest), "%s", l->d[i].package_digest);
	d.release = res->release;
	d.action = "rollback";
	snprintf(d.run, sizeof(d.run), "%s", res->run);
	ret = mlctl_deployment_record(reg, &d);
out_run:
	ret = finish_run(reg, res->run, ret);
out:
	fs_unlock(lockfd);
	free(lockpath);
	mlctl_deployment_list_free(l);
	if (ret) {
		mlctl_deploy_result_free(res);
		return ret;
	}
	*out = res;
	return 0;
}

void mlctl_deploy_result_free(mlctl_deploy_result *r)
{
	if (!r)
		return;
	free(r->target);
	free(r->path);
	free(r->model);
	free(r->release);
	free(r->previous);
	free(r);
}
