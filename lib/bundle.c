/*
 * bundle.c — loading a model with its preprocessing and profile (floor 3): from texts,
 * from a registry version, from a package or a release directory (read and checked by
 * pkgread.c on the same floor, which knows nothing of bundles), and bundle_resolve().
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle.h"
#include "error.h"
#include "fsutil.h"
#include "model.h"
#include "pkgread.h"
#include "util.h"
#include "mlctl/store.h"
#include "banned.h"

/* The profile, parsed on a thread of its own while the model is (each takes tens of ms for
 * a model of thousands of support vectors and a reference of thousands of rows). */
typedef struct profile_job {
	mlctl_profile *profile;
	const char *text;
	size_t len;
	char where[512];
	int ret;
	mlctl_error err;
} profile_job;

static void *profile_main(void *arg)
{
	profile_job *pj = arg;

	pj->ret = profile_load(&pj->profile, pj->text, pj->len, pj->where);
	if (pj->ret)
		pj->err = *mlctl_error_last();
	return NULL;
}

int bundle_from_texts(mlctl_bundle **out, const char *model, size_t mlen, const char *pre, size_t plen,
		      const char *prof, size_t flen, const char *origin)
{
	mlctl_bundle *b;
	char where[512];
	profile_job pj;
	pthread_t th;
	bool threaded = false;
	int ret;

	*out = NULL;
	if (!(b = mlctl_calloc(1, sizeof(*b))))
		return MLCTL_ENOMEM;
	memset(&pj, 0, sizeof(pj));
	if (prof) {
		pj.text = prof;
		pj.len = flen;
		snprintf(pj.where, sizeof(pj.where), "%s: reference/profile.yaml", origin);
		/* without a thread, the profile is parsed here after the model */
		threaded = mlctl_thread_start(&th, profile_main, &pj) == 0;
	}
	snprintf(where, sizeof(where), "%s: model/libsvm.model", origin);
	ret = model_load(&b->model, model, mlen, where);
	if (!ret) {
		snprintf(where, sizeof(where), "%s: model/preprocess.yaml", origin);
		ret = schema_load(&b->schema, pre, plen, where);
	}
	if (threaded) {
		pthread_join(th, NULL);
	} else if (prof && !ret) {
		profile_main(&pj);
	}
	b->profile = pj.profile;
	/* the model's error first, as when the three were read in turn */
	if (ret)
		goto fail;
	if (prof && pj.ret) {
		ret = pj.ret;
		*(mlctl_error *)mlctl_error_last() = pj.err;
		goto fail;
	}
	if (!(b->source = mlctl_strdup(origin))) {
		ret = MLCTL_ENOMEM;
		goto fail;
	}
	*out = b;
	return 0;
fail:
	bundle_free(b);
	return ret;
}

int bundle_from_version(mlctl_bundle **out, mlctl_registry *reg, const mlctl_model_version *v)
{
	char *model = NULL, *pre = NULL, *prof = NULL, origin[300];
	size_t mlen, plen, flen = 0;
	mlctl_bundle *b = NULL;
	int ret;

	*out = NULL;
	if ((ret = mlctl_store_get(&model, &mlen, reg, v->model_digest)) ||
	    (ret = mlctl_store_get(&pre, &plen, reg, v->preprocess_digest)))
		goto out;
	if (v->profile_digest[0] && (ret = mlctl_store_get(&prof, &flen, reg, v->profile_digest)))
		goto out;
	snprintf(origin, sizeof(origin), "%s:%d", v->name, v->version);
	if ((ret = bundle_from_texts(&b, model, mlen, pre, plen, prof, flen, origin)))
		goto out;
	free(b->source);
	b->source = mlctl_strdup("registry");
	b->name = mlctl_strdup(v->name);
	if (!b->source || !b->name) {
		bundle_free(b);
		ret = MLCTL_ENOMEM;
		goto out;
	}
	b->version = v->version;
	snprintf(b->run, sizeof(b->run), "%s", v->run);
	snprintf(b->model_digest, sizeof(b->model_digest), "%s", v->model_digest);
	snprintf(b->preprocess_digest, sizeof(b->preprocess_digest), "%s", v->preprocess_digest);
	snprintf(b->profile_digest, sizeof(b->profile_digest), "%s", v->profile_digest);
	*out = b;
out:
	free(model);
	free(pre);
	free(prof);
	return ret;
}

/*
 * The digest of entry e, which package_check() computed on e's bytes and found equal to the
 * manifest's: the manifest carries it along, so that no file is hashed twice.
 */
static int copy_digest(char out[MLCTL_DIGEST_HEX], const manifest *m, const pkg_entry *e)
{
	const manifest_file *f = manifest_find_file(m, e->name);

	if (!f)
		return mlctl_error_set(MLCTL_ERROR, "%s is not in the checked manifest", e->name);
	memcpy(out, f->sha256, MLCTL_DIGEST_HEX);
	return 0;
}

/* A bundle from a package's contents c and manifest m, as package_check() checked them. */
static int package_bundle(mlctl_bundle **out, const pkg_contents *c, const manifest *m, const char *origin)
{
	const pkg_entry *me = pkg_find(c, "model/libsvm.model"), *pe = pkg_find(c, "model/preprocess.yaml");
	const pkg_entry *fe = pkg_find(c, "reference/profile.yaml"), *mf = pkg_find(c, "MANIFEST.yaml");
	mlctl_bundle *b = NULL;
	int ret;

	*out = NULL;
	ret = bundle_from_texts(&b, (const char *)me->data, me->len, (const char *)pe->data, pe->len,
				fe ? (const char *)fe->data : NULL, fe ? fe->len : 0, origin);
	if (ret)
		return ret;
	b->name = mlctl_strdup(m->name);
	b->version = (int)m->version;
	b->manifest = mlctl_calloc(mf->len + 1, 1);
	if (!b->name || !b->manifest) {
		bundle_free(b);
		return MLCTL_ENOMEM;
	}
	memcpy(b->manifest, mf->data, mf->len);
	if (m->lineage.train_run)
		snprintf(b->run, sizeof(b->run), "%s", m->lineage.train_run);
	if ((ret = copy_digest(b->model_digest, m, me)) || (ret = copy_digest(b->preprocess_digest, m, pe)) ||
	    (fe && (ret = copy_digest(b->profile_digest, m, fe)))) {
		bundle_free(b);
		return ret;
	}
	*out = b;
	return 0;
}

int bundle_from_package(mlctl_bundle **out, const char *path, const char *pubkey)
{
	package_file *f = NULL;
	int ret;

	*out = NULL;
	if ((ret = package_file_load(&f, path, pubkey, NULL)) ||
	    (ret = package_bundle(out, f->contents, f->manifest, path)))
		goto out;
	memcpy((*out)->package_digest, f->digest, sizeof((*out)->package_digest));
out:
	package_file_free(f);
	return ret;
}

/* A release directory: the files of a package as deploy extracted them. */
int bundle_from_dir(mlctl_bundle **out, const char *dir)
{
	pkg_contents c = { 0 };
	pkg_entry e[4];
	manifest *m = NULL;
	size_t i;
	int ret = 0;

	*out = NULL;
	memset(e, 0, sizeof(e));
	for (i = 0; i < package_nentries; i++) {
		char *p = fs_join(dir, package_entries[i]);

		if (!p) {
			ret = MLCTL_ENOMEM;
			goto out;
		}
		if (!fs_exists(p) && i == 3) {
			free(p);
			continue;
		}
		ret = fs_read_file((char **)&e[c.n].data, &e[c.n].len, p, (size_t)1 << 30);
		free(p);
		if (ret)
			goto out;
		e[c.n++].name = (char *)package_entries[i];
	}
	c.entries = e;
	if ((ret = package_check(&m, &c, dir)) || (ret = package_bundle(out, &c, m, dir)))
		goto out;
	{
		char *p = fs_join(dir, ".package-sha256");
		char *text = NULL;
		size_t len;

		if (p && fs_read_file(&text, &len, p, 128) == 0 && len >= 64)
			snprintf((*out)->package_digest, sizeof((*out)->package_digest), "%.64s", text);
		else
			mlctl_error_clear();
		free(text);
		free(p);
	}
out:
	for (i = 0; i < c.n; i++)
		free(e[i].data);
	manifest_free(m);
	return ret;
}

void bundle_free(mlctl_bundle *b)
{
	if (!b)
		return;
	if (b->model)
		model_free(b->model);
	schema_free(b->schema);
	profile_free(b->profile);
	free(b->name);
	free(b->source);
	free(b->manifest);
	free(b);
}

/* The text of the symbolic link path, in a buffer that grows until it holds all of it. */
static int read_link(char **out, const char *path)
{
	size_t size = 256;
	char *buf = NULL, *nb;
	ssize_t n;

	*out = NULL;
	for (;;) {
		if (!(nb = realloc(buf, size))) {
			free(buf);
			return MLCTL_ENOMEM;
		}
		buf = nb;
		if ((n = readlink(path, buf, size)) < 0) {
			free(buf);
			return mlctl_error_errno(MLCTL_EIO, "cannot read the link %s", path);
		}
		if ((size_t)n < size)
			break;
		if (size > SIZE_MAX / 2) {
			free(buf);
			return mlctl_error_set(MLCTL_EDATA, "%s: the link is too long", path);
		}
		size *= 2;
	}
	buf[n] = '\0';
	*out = buf;
	return 0;
}

/*
 * The release directory target's current link names, resolved once: "<dir>/releases/X".
 * Every file of the bundle is then read from that directory, so that a deploy switching
 * current in the middle of the reads cannot mix two releases.
 */
int bundle_current_release(char **out, const char *dir, const char *target)
{
	char *link = fs_join(dir, "current"), *buf = NULL;
	int ret;

	*out = NULL;
	if (!link)
		return MLCTL_ENOMEM;
	ret = read_link(&buf, link);
	if (ret == MLCTL_ENOTFOUND)
		ret = mlctl_error_set(MLCTL_ENOTFOUND, "target %s has no current release (%s)", target, link);
	else if (!ret && (strncmp(buf, "releases/", 9) != 0 || !buf[9] || strchr(buf + 9, '/')))
		ret = mlctl_error_set(MLCTL_EDATA, "%s -> %s: not a release of target %s", link, buf, target);
	else if (!ret && !(*out = fs_join(dir, buf)))
		ret = MLCTL_ENOMEM;
	free(buf);
	free(link);
	return ret;
}

int bundle_resolve(mlctl_bundle **out, mlctl_registry *reg, const char *model, const char *target)
{
	mlctl_model_version *v = NULL;
	char *dir = NULL, *rel = NULL;
	int ret;

	*out = NULL;
	if (target) {
		if (!reg)
			return mlctl_error_set(MLCTL_ENOREGISTRY, "--target needs a registry");
		if ((ret = mlctl_target_path(&dir, reg, target)))
			return ret;
		if (!(ret = bundle_current_release(&rel, dir, target)))
			ret = bundle_from_dir(out, rel);
		if (ret == MLCTL_ENOTFOUND && rel)
			ret = mlctl_error_set(MLCTL_ENOTFOUND, "target %s: its current release %s is missing", target, rel);
		free(dir);
		free(rel);
		return ret;
	}
	if (!model)
		return mlctl_error_set(MLCTL_EUSAGE, "no model given: name a model reference, a .mlpkg file or --target");
	if (!mlctl_model_ref_is_registry(model) || (fs_exists(model) && !fs_is_dir(model)))
		return bundle_from_package(out, model, NULL);
	if (!reg)
		return mlctl_error_set(MLCTL_ENOREGISTRY, "%s: a registry reference needs a registry", model);
	if ((ret = mlctl_model_resolve(&v, reg, model)))
		return ret;
	ret = bundle_from_version(out, reg, v);
	mlctl_model_version_free(v);
	return ret;
}
