/*
 * bundle.c — loading a model with its preprocessing and profile (floor 3): from texts,
 * from a registry version, and bundle_resolve(), which reads packages and release
 * directories through pkgread.c on the same floor.
 */
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

int bundle_from_texts(mlctl_bundle **out, const char *model, size_t mlen, const char *pre, size_t plen,
		      const char *prof, size_t flen, const char *origin)
{
	mlctl_bundle *b;
	char where[512];
	int ret;

	*out = NULL;
	if (!(b = mlctl_calloc(1, sizeof(*b))))
		return MLCTL_ENOMEM;
	snprintf(where, sizeof(where), "%s: model/libsvm.model", origin);
	if ((ret = model_load(&b->model, model, mlen, where)))
		goto fail;
	snprintf(where, sizeof(where), "%s: model/preprocess.yaml", origin);
	if ((ret = schema_load(&b->schema, pre, plen, where)))
		goto fail;
	if (prof) {
		snprintf(where, sizeof(where), "%s: reference/profile.yaml", origin);
		if ((ret = profile_load(&b->profile, prof, flen, where)))
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
static int resolve_current(char **out, const char *dir, const char *target)
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
		if (!(ret = resolve_current(&rel, dir, target)))
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
