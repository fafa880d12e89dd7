/*
 * pkgread.c — reading packages (floor 3): a .mlpkg file or an extracted release directory
 * read once and checked file by file against its MANIFEST.yaml (and, given a key, its
 * signature). bundle.c makes bundles of what is read here, and package.c and deploy.c on
 * floor 4 read through here too: reading needs nothing above floor 3, so it lives here
 * rather than beside the package writer. It knows nothing of bundles.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "manifest.h"
#include "pkgfmt.h"
#include "pkgread.h"
#include "sign.h"
#include "util.h"
#include "banned.h"

const char *const package_entries[] = {
	"MANIFEST.yaml", "model/libsvm.model", "model/preprocess.yaml", "reference/profile.yaml",
};
const size_t package_nentries = sizeof(package_entries) / sizeof(package_entries[0]);

/* Check every entry against the manifest: listed, same size, same digest; and every
 * listed file present. The manifest is returned parsed. */
int package_check(manifest **out, const pkg_contents *c, const char *origin)
{
	const pkg_entry *me = pkg_find(c, "MANIFEST.yaml");
	manifest *m = NULL;
	size_t i;
	int ret;

	*out = NULL;
	if (!me)
		return mlctl_error_set(MLCTL_EDATA, "%s: not an mlctl package (no MANIFEST.yaml)", origin);
	{
		char where[512];

		snprintf(where, sizeof(where), "%s: MANIFEST.yaml", origin);
		if ((ret = manifest_parse(&m, (const char *)me->data, me->len, where)))
			return ret;
		/* The manifest's version is 64-bit; the registry's and a bundle's are int. A
		 * crafted 4294967293 must not become -3. */
		if (m->version > INT_MAX) {
			ret = mlctl_error_set(MLCTL_EDATA, "%s: version %lld is larger than the largest model version (%d)",
					      where, (long long)m->version, INT_MAX);
			goto fail;
		}
	}
	for (i = 0; i < c->n; i++) {
		const pkg_entry *e = &c->entries[i];
		const manifest_file *f;
		char digest[MLCTL_DIGEST_HEX];

		if (e == me)
			continue;
		if (!(f = manifest_find_file(m, e->name))) {
			ret = mlctl_error_set(MLCTL_EVERDICT, "%s: %s is not listed in the manifest", origin, e->name);
			goto fail;
		}
		hash_buf_hex(digest, e->data, e->len);
		if (f->size != e->len || strcmp(f->sha256, digest) != 0) {
			ret = mlctl_error_set(MLCTL_EVERDICT, "%s: %s does not match the manifest (sha256 %.16s…, expected %.16s…): the package was modified",
					      origin, e->name, digest, f->sha256);
			goto fail;
		}
	}
	for (i = 0; i < m->nfiles; i++) {
		if (!pkg_find(c, m->files[i].path)) {
			ret = mlctl_error_set(MLCTL_EVERDICT, "%s: %s is listed in the manifest but missing", origin, m->files[i].path);
			goto fail;
		}
	}
	if (!pkg_find(c, "model/libsvm.model") || !pkg_find(c, "model/preprocess.yaml")) {
		ret = mlctl_error_set(MLCTL_EDATA, "%s: the package has no model/libsvm.model or model/preprocess.yaml", origin);
		goto fail;
	}
	*out = m;
	return 0;
fail:
	manifest_free(m);
	return ret;
}

#define PACKAGE_FILE_MAX ((size_t)1 << 30)
#define KEY_FILE_MAX ((size_t)64 << 10)

void package_file_free(package_file *f)
{
	if (!f)
		return;
	free(f->data);
	free(f->trusted_comment);
	pkg_contents_free(f->contents);
	manifest_free(f->manifest);
	free(f);
}

/* Check the signature sigpath of the bytes f holds with the public key file pubkey. */
static int check_signature(package_file *f, const char *path, const char *pubkey, const char *sigpath)
{
	char *pk = NULL, *sig = NULL;
	size_t pklen, siglen;
	int ret;

	if (!fs_exists(sigpath))
		return mlctl_error_set(MLCTL_EVERDICT, "%s: no signature (%s is missing)", path, sigpath);
	if ((ret = fs_read_file(&pk, &pklen, pubkey, KEY_FILE_MAX)) ||
	    (ret = fs_read_file(&sig, &siglen, sigpath, KEY_FILE_MAX)))
		goto out;
	if ((ret = sign_verify_mem(pk, pklen, f->data, f->len, sig, siglen, sigpath, &f->trusted_comment)))
		goto out;
	f->signature_checked = true;
out:
	free(pk);
	free(sig);
	return ret;
}

/* Hash, read and check the bytes f holds. */
static int check_bytes(package_file *f, const char *origin)
{
	pkg_limits lim = PKG_LIMITS_INIT;
	int ret;

	hash_buf_hex(f->digest, f->data, f->len);
	if ((ret = pkg_read_mem(&f->contents, f->data, f->len, origin, package_entries, package_nentries, &lim)))
		return ret;
	return package_check(&f->manifest, f->contents, origin);
}

int package_file_from_mem(package_file **out, char *data, size_t len, const char *origin)
{
	package_file *f;
	int ret;

	*out = NULL;
	if (!(f = mlctl_calloc(1, sizeof(*f)))) {
		free(data);
		return MLCTL_ENOMEM;
	}
	f->data = data;
	f->len = len;
	if ((ret = check_bytes(f, origin))) {
		package_file_free(f);
		return ret;
	}
	*out = f;
	return 0;
}

int package_file_load(package_file **out, const char *path, const char *pubkey, const char *sig)
{
	package_file *f;
	char *sigpath = NULL;
	int ret;

	*out = NULL;
	if (!(f = mlctl_calloc(1, sizeof(*f))))
		return MLCTL_ENOMEM;
	if ((ret = fs_read_file(&f->data, &f->len, path, PACKAGE_FILE_MAX)))
		goto fail;
	if (pubkey) {
		if (!(sigpath = sig ? mlctl_strdup(sig) : mlctl_asprintf("%s.minisig", path))) {
			ret = MLCTL_ENOMEM;
			goto fail;
		}
		if ((ret = check_signature(f, path, pubkey, sigpath)))
			goto fail;
	}
	if ((ret = check_bytes(f, path)))
		goto fail;
	free(sigpath);
	*out = f;
	return 0;
fail:
	free(sigpath);
	package_file_free(f);
	return ret;
}
