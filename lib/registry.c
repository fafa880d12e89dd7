/*
 * registry.c — the SQLite registry (floor 2): opening and migrating, discovery, runs and
 * their params, metrics, tags and lineage, datasets, models, versions and aliases.
 * Targets and deployments are in registry_deploy.c.
 *
 * Concurrency: the database is in WAL mode with a long busy_timeout; every write is one
 * BEGIN IMMEDIATE transaction, so writers queue instead of failing with "database is
 * locked", and readers never block. A process killed at any point leaves either the whole
 * transaction or none of it. Transactions nest: inside mlctl_registry_begin() the
 * library's own transactions join the caller's, so several writes commit as one.
 *
 * Read-only: a registry opened with MLCTL_REGISTRY_READONLY is opened with
 * SQLITE_OPEN_READONLY ("mode=ro"). In WAL mode a reader needs the -shm file; on a
 * read-only file system that no writer has open there is none and none can be made, and
 * the database is then opened "immutable=1": nothing can change it while it is mounted so.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "error.h"
#include "fsutil.h"
#include "registry_int.h"
#include "util.h"
#include "banned.h"

#define APPLICATION_ID 0x6d6c6374 /* "mlct" */
#define BUSY_TIMEOUT_MS 120000

struct mlctl_registry {
	char *dir;
	sqlite3 *db;
	bool readonly;           /* opened with SQLITE_OPEN_READONLY */
	int depth;               /* registry_begin() nesting; 0: no transaction */
	bool doomed;             /* an inner transaction rolled back: the outer one must too */
	int store_lock_fd;       /* the shared store lock (store.c), or -1 */
	char *adopt_parent;      /* mlctl_registry_adopt_runs(): the default parent, or NULL */
	char adopted[MLCTL_RUN_ID_SIZE];  /* the first run that took it ("" before) */
};

/* Schema versions 1 and 2. Later versions append to migrations[]; never edit a published one. */
static const char *const migrations[] = {
	/* 1 */
	"CREATE TABLE runs ("
	"  id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT, parent TEXT,"
	"  status TEXT NOT NULL CHECK (status IN ('running','succeeded','failed')),"
	"  started INTEGER NOT NULL, ended INTEGER, user TEXT, host TEXT, pid INTEGER,"
	"  pid_start INTEGER, argv TEXT, version TEXT, error TEXT,"
	"  model_name TEXT, model_version INTEGER, verdict TEXT);"
	"CREATE INDEX runs_kind ON runs (kind, id);"
	"CREATE INDEX runs_parent ON runs (parent, id);"
	"CREATE INDEX runs_model ON runs (model_name, model_version, kind);"
	"CREATE INDEX runs_running ON runs (status) WHERE status = 'running';"
	"CREATE TABLE params (run TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
	"  PRIMARY KEY (run, key)) WITHOUT ROWID;"
	"CREATE TABLE metrics (run TEXT NOT NULL, key TEXT NOT NULL, step INTEGER NOT NULL,"
	"  value REAL, time INTEGER NOT NULL, PRIMARY KEY (run, key, step)) WITHOUT ROWID;"
	"CREATE TABLE tags (run TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
	"  PRIMARY KEY (run, key)) WITHOUT ROWID;"
	"CREATE TABLE objects (digest TEXT PRIMARY KEY, size INTEGER NOT NULL,"
	"  media_type TEXT, created INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE run_objects (run TEXT NOT NULL,"
	"  role TEXT NOT NULL CHECK (role IN ('input','output')), name TEXT NOT NULL,"
	"  digest TEXT NOT NULL, PRIMARY KEY (run, role, name)) WITHOUT ROWID;"
	"CREATE INDEX run_objects_digest ON run_objects (digest);"
	"CREATE TABLE datasets (digest TEXT PRIMARY KEY, path TEXT, format TEXT,"
	"  rows INTEGER, columns INTEGER, first_seen INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE models (name TEXT PRIMARY KEY, created INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE model_versions (name TEXT NOT NULL, version INTEGER NOT NULL,"
	"  run TEXT NOT NULL, model_digest TEXT NOT NULL, preprocess_digest TEXT NOT NULL,"
	"  profile_digest TEXT NOT NULL, svm_type TEXT, kernel TEXT, created INTEGER NOT NULL,"
	"  user TEXT, PRIMARY KEY (name, version)) WITHOUT ROWID;"
	"CREATE INDEX model_versions_run ON model_versions (run);"
	"CREATE TABLE aliases (name TEXT NOT NULL, alias TEXT NOT NULL, version INTEGER NOT NULL,"
	"  updated INTEGER NOT NULL, PRIMARY KEY (name, alias)) WITHOUT ROWID;"
	"CREATE TABLE alias_history (id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
	"  alias TEXT NOT NULL, from_version INTEGER, to_version INTEGER, user TEXT, host TEXT,"
	"  reason TEXT, time INTEGER NOT NULL);"
	"CREATE TABLE targets (name TEXT PRIMARY KEY, path TEXT NOT NULL,"
	"  created INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE deployments (id INTEGER PRIMARY KEY, target TEXT NOT NULL,"
	"  name TEXT NOT NULL, version INTEGER NOT NULL, package_digest TEXT NOT NULL,"
	"  release TEXT NOT NULL, action TEXT NOT NULL, run TEXT, user TEXT, host TEXT,"
	"  time INTEGER NOT NULL);"
	"CREATE INDEX deployments_target ON deployments (target, id);",
	/* 2: the file digest cache (data.c): a file's digest while its stat stays the same. */
	"CREATE TABLE file_digests (path TEXT PRIMARY KEY, device INTEGER NOT NULL,"
	"  inode INTEGER NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,"
	"  digest TEXT NOT NULL, hashed_ns INTEGER NOT NULL) WITHOUT ROWID;",
};
#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

sqlite3 *registry_db(mlctl_registry *reg)
{
	return reg->db;
}

int *registry_store_lock_fd(mlctl_registry *reg)
{
	return &reg->store_lock_fd;
}

bool mlctl_registry_readonly(const mlctl_registry *reg)
{
	return reg->readonly;
}

int registry_error(mlctl_registry *reg, int rc, const char *what)
{
	int prim = rc & 0xff, code = MLCTL_EIO;

	if (prim == SQLITE_NOTADB || prim == SQLITE_CORRUPT)
		code = MLCTL_ECORRUPT;
	else if (prim == SQLITE_NOMEM)
		code = MLCTL_ENOMEM;
	else if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
		code = MLCTL_ELOCKED;
	else if (prim == SQLITE_READONLY || prim == SQLITE_CANTOPEN || prim == SQLITE_FULL)
		code = MLCTL_EIO;
	if (code == MLCTL_ECORRUPT)
		return mlctl_error_set(code, "%s/registry.db: %s: the registry is damaged or not an mlctl registry (%s)",
				       reg->dir, what, sqlite3_errstr(rc));
	if (prim == SQLITE_READONLY)
		return mlctl_error_set(code, "%s/registry.db: %s: the registry is read-only%s", reg->dir, what,
				       reg->readonly ? " (opened for reading only)" : "");
	return mlctl_error_set(code, "%s/registry.db: %s: %s", reg->dir, what,
			       reg->db ? sqlite3_errmsg(reg->db) : sqlite3_errstr(rc));
}

static int bind_args(sqlite3_stmt *st, const char *types, va_list ap)
{
	int i, rc = SQLITE_OK;

	for (i = 0; types && types[i] && rc == SQLITE_OK; i++) {
		switch (types[i]) {
		case 's': {
			const char *s = va_arg(ap, const char *);

			rc = s ? sqlite3_bind_text(st, i + 1, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i + 1);
			break;
		}
		case 'i':
			rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
			break;
		case 'd':
			rc = sqlite3_bind_double(st, i + 1, va_arg(ap, double));
			break;
		default:
			return SQLITE_MISUSE;
		}
	}
	return rc;
}

static int prepare_v(sqlite3_stmt **out, mlctl_registry *reg, const char *sql, const char *types, va_list ap)
{
	int rc = sqlite3_prepare_v2(reg->db, sql, -1, out, NULL);

	if (rc != SQLITE_OK)
		return registry_error(reg, rc, "cannot prepare a statement");
	rc = bind_args(*out, types, ap);
	if (rc != SQLITE_OK) {
		int ret = registry_error(reg, rc, "cannot bind a value");

		sqlite3_finalize(*out);
		*out = NULL;
		return ret;
	}
	return 0;
}

int registry_prepare(sqlite3_stmt **out, mlctl_registry *reg, const char *sql, const char *types, ...)
{
	va_list ap;
	int ret;

	va_start(ap, types);
	ret = prepare_v(out, reg, sql, types, ap);
	va_end(ap);
	return ret;
}

int registry_exec(mlctl_registry *reg, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int ret, rc;

	va_start(ap, types);
	ret = prepare_v(&st, reg, sql, types, ap);
	va_end(ap);
	if (ret)
		return ret;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE)
		ret = registry_error(reg, rc, "cannot write");
	sqlite3_finalize(st);
	return ret;
}

char *registry_col_str(sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	return s ? mlctl_strdup((const char *)s) : NULL;
}

/*
 * Transactions nest: only the outermost begin and commit reach SQLite. An inner rollback
 * dooms the outer transaction, whose commit then rolls back and fails.
 */
int registry_begin(mlctl_registry *reg)
{
	int rc;

	if (reg->depth > 0) {
		reg->depth++;
		return 0;
	}
	rc = sqlite3_exec(reg->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return registry_error(reg, rc, "cannot begin a transaction");
	reg->depth = 1;
	reg->doomed = false;
	return 0;
}

int registry_commit(mlctl_registry *reg)
{
	int rc;

	if (reg->depth > 1) {
		reg->depth--;
		return 0;
	}
	if (reg->doomed) {
		registry_rollback(reg);
		return mlctl_error_set(MLCTL_ERROR, "%s/registry.db: a step of the transaction failed: nothing was written",
				       reg->dir);
	}
	rc = sqlite3_exec(reg->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		int ret = registry_error(reg, rc, "cannot commit");

		registry_rollback(reg);
		return ret;
	}
	reg->depth = 0;
	return 0;
}

void registry_rollback(mlctl_registry *reg)
{
	if (reg->depth > 1) {
		reg->depth--;
		reg->doomed = true;
		return;
	}
	if (!sqlite3_get_autocommit(reg->db))
		sqlite3_exec(reg->db, "ROLLBACK", NULL, NULL, NULL);
	reg->depth = 0;
	reg->doomed = false;
}

int mlctl_registry_begin(mlctl_registry *reg)
{
	return registry_begin(reg);
}

int mlctl_registry_commit(mlctl_registry *reg)
{
	return registry_commit(reg);
}

void mlctl_registry_rollback(mlctl_registry *reg)
{
	registry_rollback(reg);
}

/* ---- opening, creating, migrating ---- */

static int pragma_int(mlctl_registry *reg, const char *sql, int64_t *out)
{
	sqlite3_stmt *st;
	int ret, rc;

	if ((ret = registry_prepare(&st, reg, sql, NULL)))
		return ret;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else
		ret = registry_error(reg, rc, "cannot read the registry header");
	sqlite3_finalize(st);
	return ret;
}

/* Bring the schema to MLCTL_REGISTRY_SCHEMA. The version is read again inside the write
 * transaction, so two processes opening a fresh registry at once migrate it once. */
static int migrate(mlctl_registry *reg)
{
	int64_t version, appid;
	char sql[64];
	int ret, rc, v;

	if ((ret = pragma_int(reg, "PRAGMA user_version", &version)))
		return ret;
	if (version > MLCTL_REGISTRY_SCHEMA)
		return mlctl_error_set(MLCTL_ECONFIG,
				       "%s: the registry has schema version %lld, written by a newer mlctl; this mlctl %s knows up to %d: upgrade mlctl",
				       reg->dir, (long long)version, MLCTL_VERSION, MLCTL_REGISTRY_SCHEMA);
	if (version == MLCTL_REGISTRY_SCHEMA)
		return 0;
	if ((ret = registry_begin(reg)))
		return ret;
	if ((ret = pragma_int(reg, "PRAGMA user_version", &version)) ||
	    (ret = pragma_int(reg, "PRAGMA application_id", &appid)))
		goto fail;
	if (version == 0 && appid != 0 && appid != APPLICATION_ID) {
		ret = mlctl_error_set(MLCTL_ECORRUPT, "%s/registry.db: an SQLite database of another application, not an mlctl registry",
				      reg->dir);
		goto fail;
	}
	for (v = (int)version; v < NMIGRATIONS; v++) {
		rc = sqlite3_exec(reg->db, migrations[v], NULL, NULL, NULL);
		if (rc != SQLITE_OK) {
			ret = registry_error(reg, rc, "cannot migrate the registry schema");
			goto fail;
		}
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", NMIGRATIONS);
	if ((rc = sqlite3_exec(reg->db, sql, NULL, NULL, NULL)) != SQLITE_OK) {
		ret = registry_error(reg, rc, "cannot set the schema version");
		goto fail;
	}
	snprintf(sql, sizeof(sql), "PRAGMA application_id = %d", APPLICATION_ID);
	sqlite3_exec(reg->db, sql, NULL, NULL, NULL);
	return registry_commit(reg);
fail:
	registry_rollback(reg);
	return ret;
}

/* Check the schema of a registry opened read-only: it cannot be migrated. *older says the
 * registry is of an older schema (one that a writer would migrate). */
static int check_schema_readonly(mlctl_registry *reg, bool *older)
{
	int64_t version;
	int ret = pragma_int(reg, "PRAGMA user_version", &version);

	*older = false;
	if (ret)
		return ret;
	*older = version < MLCTL_REGISTRY_SCHEMA;
	if (version > MLCTL_REGISTRY_SCHEMA)
		return mlctl_error_set(MLCTL_ECONFIG,
				       "%s: the registry has schema version %lld, written by a newer mlctl; this mlctl %s knows up to %d: upgrade mlctl",
				       reg->dir, (long long)version, MLCTL_VERSION, MLCTL_REGISTRY_SCHEMA);
	if (version < MLCTL_REGISTRY_SCHEMA)
		return mlctl_error_set(MLCTL_ECONFIG,
				       "%s: the registry has schema version %lld and is opened read-only: open it once where it can be written, to migrate it to version %d",
				       reg->dir, (long long)version, MLCTL_REGISTRY_SCHEMA);
	return 0;
}

/* "file:" URI of path with query (percent-encoding what a URI path may not hold). */
static char *file_uri(const char *path, const char *query)
{
	strbuf sb = MLCTL_STRBUF_INIT;
	const unsigned char *p;
	int ret = strbuf_printf(&sb, "file:");

	for (p = (const unsigned char *)path; *p && !ret; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    strchr("/._-~", *p))
			ret = strbuf_add(&sb, p, 1);
		else
			ret = strbuf_printf(&sb, "%%%02X", *p);
	}
	if (!ret)
		ret = strbuf_printf(&sb, "?%s", query);
	if (ret) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

/*
 * Open path for reading only. "mode=ro" shares the WAL index with live writers; when the
 * -shm file is missing and cannot be created (a read-only file system), SQLite cannot
 * open the WAL database that way and it is opened "immutable=1" instead.
 */
static int open_readonly(mlctl_registry *reg, const char *path)
{
	static const char *const queries[] = { "mode=ro", "mode=ro&immutable=1" };
	int64_t version;
	size_t i;
	int ret = 0, rc;

	for (i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		char *uri = file_uri(path, queries[i]);

		if (!uri)
			return MLCTL_ENOMEM;
		sqlite3_close_v2(reg->db);
		reg->db = NULL;
		rc = sqlite3_open_v2(uri, &reg->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
		free(uri);
		if (rc != SQLITE_OK)
			return registry_error(reg, rc, "cannot open for reading");
		sqlite3_extended_result_codes(reg->db, 1);
		sqlite3_busy_timeout(reg->db, BUSY_TIMEOUT_MS);
		/* The first read is where a missing WAL index shows. */
		if (!(ret = pragma_int(reg, "PRAGMA user_version", &version)))
			return 0;
		if (ret != MLCTL_EIO || access(reg->dir, W_OK) == 0)
			return ret;
	}
	return ret;
}

/* Whether dir and its database may be written (false on a read-only file system). */
static bool writable(const char *dir, const char *db)
{
	return access(dir, W_OK) == 0 && access(db, W_OK) == 0;
}

static int open_readwrite(mlctl_registry *reg, const char *path, bool create)
{
	int rc = sqlite3_open_v2(path, &reg->db,
				 SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX, NULL);

	if (rc != SQLITE_OK)
		return registry_error(reg, rc, "cannot open");
	sqlite3_extended_result_codes(reg->db, 1);
	sqlite3_busy_timeout(reg->db, BUSY_TIMEOUT_MS);
	/* WAL is a property of the file (set once, at init); the rest are per connection. */
	rc = sqlite3_exec(reg->db, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;", NULL, NULL, NULL);
	if (rc == SQLITE_OK && create)
		rc = sqlite3_exec(reg->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return registry_error(reg, rc, "cannot configure");
	return migrate(reg);
}

static int open_db(mlctl_registry **out, const char *dir, int mode, bool create)
{
	mlctl_registry *reg;
	char *path = NULL;
	struct stat st;
	int ret = 0;

	*out = NULL;
	reg = mlctl_calloc(1, sizeof(*reg));
	if (!reg)
		return MLCTL_ENOMEM;
	reg->store_lock_fd = -1;
	reg->dir = mlctl_strdup(dir);
	path = fs_join(dir, "registry.db");
	if (!reg->dir || !path) {
		ret = MLCTL_ENOMEM;
		goto fail;
	}
	if (!create && stat(path, &st) != 0) {
		ret = mlctl_error_set(MLCTL_ENOREGISTRY, "%s: not an mlctl registry (no registry.db); create one with `mlctl init`", dir);
		goto fail;
	}
	if (!create && mode == MLCTL_REGISTRY_READWRITE && !writable(dir, path)) {
		ret = mlctl_error_errno(MLCTL_EIO, "%s: the registry cannot be written", dir);
		goto fail;
	}
	if (mode == MLCTL_REGISTRY_READONLY || (mode == MLCTL_REGISTRY_READWRITE_OR_READONLY && !writable(dir, path))) {
		bool older = false;

		reg->readonly = true;
		ret = open_readonly(reg, path);
		if (!ret)
			ret = check_schema_readonly(reg, &older);
		/* A reader of an older registry it could write (a new mlctl's first command after
		 * an upgrade is often a read): migrate it through a writer first, then read. */
		if (ret && older && writable(dir, path)) {
			mlctl_registry *rw = NULL;

			if ((ret = open_db(&rw, dir, MLCTL_REGISTRY_READWRITE, false)) == 0) {
				mlctl_registry_free(rw);
				sqlite3_close_v2(reg->db);
				reg->db = NULL;
				if ((ret = open_readonly(reg, path)) == 0)
					ret = check_schema_readonly(reg, &older);
			}
		}
	} else {
		ret = open_readwrite(reg, path, create);
	}
	if (ret)
		goto fail;
	free(path);
	*out = reg;
	return 0;
fail:
	free(path);
	mlctl_registry_free(reg);
	return ret;
}

int mlctl_registry_open(mlctl_registry **out, const char *dir)
{
	return mlctl_registry_open_mode(out, dir, MLCTL_REGISTRY_READWRITE);
}

int mlctl_registry_open_mode(mlctl_registry **out, const char *dir, mlctl_registry_mode mode)
{
	*out = NULL;
	if (sodium_init() < 0)
		return mlctl_error_set(MLCTL_ERROR, "cannot initialise libsodium");
	return open_db(out, dir, mode, false);
}

void mlctl_registry_free(mlctl_registry *reg)
{
	if (!reg)
		return;
	sqlite3_close_v2(reg->db);
	fs_unlock(reg->store_lock_fd);
	free(reg->dir);
	free(reg->adopt_parent);
	free(reg);
}

const char *mlctl_registry_path(const mlctl_registry *reg)
{
	return reg->dir;
}

int mlctl_registry_init(const char *dir)
{
	mlctl_registry *reg;
	char *db, *objects, *targets;
	int ret;

	db = fs_join(dir, "registry.db");
	objects = fs_join(dir, "objects");
	targets = fs_join(dir, "targets");
	if (!db || !objects || !targets) {
		ret = MLCTL_ENOMEM;
		goto out;
	}
	if (fs_exists(db)) {
		ret = mlctl_error_set(MLCTL_EEXISTS, "%s: a registry exists here already", dir);
		goto out;
	}
	if ((ret = fs_mkdir_p(dir)) || (ret = fs_mkdir_p(objects)) || (ret = fs_mkdir_p(targets)))
		goto out;
	if (sodium_init() < 0) {
		ret = mlctl_error_set(MLCTL_ERROR, "cannot initialise libsodium");
		goto out;
	}
	ret = open_db(&reg, dir, MLCTL_REGISTRY_READWRITE, true);
	mlctl_registry_free(reg);
out:
	free(db);
	free(objects);
	free(targets);
	return ret;
}

int mlctl_registry_discover(char **out, const char *explicit_dir)
{
	const char *env = getenv("MLCTL_REGISTRY");
	char cwd[4096], *cand;

	*out = NULL;
	if (explicit_dir && *explicit_dir) {
		*out = mlctl_strdup(explicit_dir);
		return *out ? 0 : MLCTL_ENOMEM;
	}
	if (env && *env) {
		*out = mlctl_strdup(env);
		return *out ? 0 : MLCTL_ENOMEM;
	}
	if (!getcwd(cwd, sizeof(cwd)))
		return mlctl_error_errno(MLCTL_EIO, "cannot read the working directory");
	for (;;) {
		char *slash;

		cand = fs_join(cwd, ".mlctl");
		if (!cand)
			return MLCTL_ENOMEM;
		if (fs_is_dir(cand)) {
			*out = cand;
			return 0;
		}
		free(cand);
		slash = strrchr(cwd, '/');
		if (!slash || slash == cwd) {
			if (cwd[1] == '\0')
				break;
			cwd[1] = '\0';
			continue;
		}
		*slash = '\0';
	}
	return mlctl_error_set(MLCTL_ENOREGISTRY,
			       "no registry found (no .mlctl here or in any parent directory, no $MLCTL_REGISTRY, no --registry); create one with `mlctl init`");
}

int mlctl_registry_check(mlctl_registry *reg)
{
	sqlite3_stmt *st;
	int ret, rc;

	if ((ret = registry_prepare(&st, reg, "PRAGMA integrity_check", NULL)))
		return ret;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		ret = registry_error(reg, rc, "integrity check");
	else if (strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0)
		ret = mlctl_error_set(MLCTL_ECORRUPT, "%s/registry.db: integrity check failed: %s", reg->dir,
				      (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return ret;
}

/* ---- run ids ---- */

/*
 * A ULID: 48 bits of milliseconds then 80 random bits, in Crockford base32. Monotonic
 * within a thread, as the ULID spec allows: an id made in the same millisecond as the
 * previous one takes its random part plus one, so runs started in one millisecond (the
 * points of a tuning grid) still list in the order they started. A forked child draws
 * fresh random bits rather than continuing its parent's sequence.
 */
static void ulid_new(char out[MLCTL_RUN_ID_SIZE])
{
	static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	static _Thread_local uint64_t last_ms;
	static _Thread_local unsigned char last_rand[10];
	static _Thread_local pid_t last_pid;
	unsigned char bytes[16];
	uint64_t ms = (uint64_t)mlctl_now_ms();
	int i;

	if (ms <= last_ms && last_pid == getpid()) {
		ms = last_ms;
		for (i = 9; i >= 0 && ++last_rand[i] == 0; i--)
			;
	} else {
		randombytes_buf(last_rand, sizeof(last_rand));
		last_ms = ms;
		last_pid = getpid();
	}
	for (i = 0; i < 6; i++)
		bytes[i] = (unsigned char)(ms >> (8 * (5 - i)));
	memcpy(bytes + 6, last_rand, sizeof(last_rand));
	/* 130 bits: two zero bits, then the 128 bits of bytes; 5 bits per character. */
	for (i = 0; i < 26; i++) {
		int v = 0, b;

		for (b = 0; b < 5; b++) {
			int bit = i * 5 + b - 2;

			v <<= 1;
			if (bit >= 0)
				v |= (bytes[bit / 8] >> (7 - bit % 8)) & 1;
		}
		out[i] = alphabet[v];
	}
	out[26] = '\0';
}

/* The start time of a process in clock ticks since boot (/proc/PID/stat field 22), or 0. */
static int64_t proc_start_time(int pid)
{
	char path[64], buf[1024], *p;
	FILE *f;
	size_t n;
	int field;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	/* After ")" comes field 3 (state); skip to field 22. */
	for (field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	return p ? strtoll(p + 1, NULL, 10) : 0;
}

/* False when the run's process is known to be gone: same host, and no process with that
 * pid, or one that started at another time (the pid was reused). */
static bool run_process_alive(const char *host, int pid, int64_t pid_start)
{
	if (!host || strcmp(host, mlctl_hostname()) != 0 || pid <= 0)
		return true;
	if (kill(pid, 0) != 0 && errno == ESRCH)
		return false;
	if (pid_start && proc_start_time(pid) != 0 && proc_start_time(pid) != pid_start)
		return false;
	return true;
}

const char *mlctl_run_status_name(mlctl_run_status s)
{
	switch (s) {
	case MLCTL_RUN_RUNNING: return "running";
	case MLCTL_RUN_SUCCEEDED: return "succeeded";
	case MLCTL_RUN_FAILED: return "failed";
	case MLCTL_RUN_STALE: return "stale";
	}
	return "unknown";
}

/* ---- writing runs ---- */

int mlctl_registry_adopt_runs(mlctl_registry *reg, const char *parent)
{
	char *copy = NULL;

	if (parent && !(copy = mlctl_strdup(parent)))
		return MLCTL_ENOMEM;
	free(reg->adopt_parent);
	reg->adopt_parent = copy;
	reg->adopted[0] = '\0';
	return 0;
}

const char *mlctl_registry_adopted_run(const mlctl_registry *reg)
{
	return reg->adopted[0] ? reg->adopted : NULL;
}

int mlctl_run_find_tag(char out[MLCTL_RUN_ID_SIZE], mlctl_registry *reg, const char *key,
		       const char *value, bool succeeded)
{
	sqlite3_stmt *st;
	int ret, rc;

	ret = registry_prepare(&st, reg, succeeded ?
			       "SELECT t.run FROM tags t JOIN runs r ON r.id = t.run WHERE t.key = ? AND"
			       " t.value = ? AND r.status = 'succeeded' ORDER BY t.run DESC LIMIT 1" :
			       "SELECT run FROM tags WHERE key = ? AND value = ? ORDER BY run DESC LIMIT 1",
			       "ss", key, value);
	if (ret)
		return ret;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *id = sqlite3_column_text(st, 0);

		snprintf(out, MLCTL_RUN_ID_SIZE, "%s", id ? (const char *)id : "");
	} else if (rc == SQLITE_DONE) {
		ret = MLCTL_ENOTFOUND;
		mlctl_error_set(ret, "no run has tag %s = %s", key, value);
	} else {
		ret = registry_error(reg, rc, "cannot look up runs by tag");
	}
	sqlite3_finalize(st);
	return ret;
}

int mlctl_run_start(char out[MLCTL_RUN_ID_SIZE], mlctl_registry *reg, const mlctl_run_start_options *opts)
{
	const char *parent;
	strbuf argv = MLCTL_STRBUF_INIT;
	int i, ret = 0;

	for (i = 0; i < opts->argc && !ret; i++)
		ret = strbuf_printf(&argv, "%s%s", i ? " " : "", opts->argv[i]);
	if (ret)
		goto out;
	ulid_new(out);
	parent = opts->parent ? opts->parent : reg->adopt_parent;
	ret = registry_exec(reg,
			    "INSERT INTO runs (id, kind, name, parent, status, started, user, host, pid, pid_start, argv, version)"
			    " VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?)",
			    "ssssissiiss", out, opts->kind, opts->name, parent, mlctl_now_ms(),
			    mlctl_username(), mlctl_hostname(), (int64_t)getpid(), proc_start_time(getpid()),
			    argv.buf, MLCTL_VERSION);
	if (!ret && !opts->parent && reg->adopt_parent && !reg->adopted[0])
		memcpy(reg->adopted, out, MLCTL_RUN_ID_SIZE);
out:
	strbuf_release(&argv);
	return ret;
}

/* Run fn over n items inside one transaction. */
static int in_transaction(mlctl_registry *reg, int (*fn)(mlctl_registry *, const char *, const void *, size_t),
			  const char *run, const void *items, size_t n)
{
	int ret = registry_begin(reg);

	if (ret)
		return ret;
	ret = fn(reg, run, items, n);
	if (ret) {
		registry_rollback(reg);
		return ret;
	}
	return registry_commit(reg);
}

static int insert_params(mlctl_registry *reg, const char *run, const void *items, size_t n)
{
	const mlctl_kv *kv = items;
	size_t i;
	int ret = 0;

	for (i = 0; i < n && !ret; i++)
		ret = registry_exec(reg, "INSERT OR REPLACE INTO params (run, key, value) VALUES (?, ?, ?)", "sss",
				    run, kv[i].key, kv[i].value ? kv[i].value : "");
	return ret;
}

static int insert_metrics(mlctl_registry *reg, const char *run, const void *items, size_t n)
{
	const mlctl_metric *m = items;
	int64_t now = mlctl_now_ms();
	size_t i;
	int ret = 0;

	for (i = 0; i < n && !ret; i++)
		ret = registry_exec(reg, "INSERT OR REPLACE INTO metrics (run, key, step, value, time) VALUES (?, ?, ?, ?, ?)",
				    "ssidi", run, m[i].key, m[i].step, m[i].value, now);
	return ret;
}

int mlctl_run_log_params(mlctl_registry *reg, const char *run, const mlctl_kv *kv, size_t n)
{
	return in_transaction(reg, insert_params, run, kv, n);
}

int mlctl_run_log_param(mlctl_registry *reg, const char *run, const char *key, const char *value)
{
	mlctl_kv kv = { (char *)key, (char *)value };

	return mlctl_run_log_params(reg, run, &kv, 1);
}

int mlctl_run_log_metrics(mlctl_registry *reg, const char *run, const mlctl_metric *m, size_t n)
{
	return in_transaction(reg, insert_metrics, run, m, n);
}

int mlctl_run_log_metric(mlctl_registry *reg, const char *run, const char *key, double value, int64_t step)
{
	mlctl_metric m = { (char *)key, value, step };

	return mlctl_run_log_metrics(reg, run, &m, 1);
}

int mlctl_run_set_tag(mlctl_registry *reg, const char *run, const char *key, const char *value)
{
	return registry_exec(reg, "INSERT OR REPLACE INTO tags (run, key, value) VALUES (?, ?, ?)", "sss",
			     run, key, value);
}

int mlctl_run_log_object(mlctl_registry *reg, const char *run, const char *role, const char *name,
			 const char *digest)
{
	return registry_exec(reg, "INSERT OR REPLACE INTO run_objects (run, role, name, digest) VALUES (?, ?, ?, ?)",
			     "ssss", run, role, name, digest);
}

int mlctl_run_set_model(mlctl_registry *reg, const char *run, const char *name, int version)
{
	return registry_exec(reg, "UPDATE runs SET model_name = ?, model_version = ? WHERE id = ?", "sis",
			     name, (int64_t)version, run);
}

int mlctl_run_set_verdict(mlctl_registry *reg, const char *run, const char *verdict)
{
	return registry_exec(reg, "UPDATE runs SET verdict = ? WHERE id = ?", "ss", verdict, run);
}

int mlctl_run_finish(mlctl_registry *reg, const char *run, const char *error)
{
	return registry_exec(reg, "UPDATE runs SET status = ?, ended = ?, error = ? WHERE id = ?", "siss",
			     error ? "failed" : "succeeded", mlctl_now_ms(), error, run);
}

int mlctl_run_fail(mlctl_registry *reg, const char *run, int code)
{
	mlctl_error saved = *mlctl_error_last();

	mlctl_run_finish(reg, run, saved.message[0] ? saved.message : mlctl_strerror(code));
	mlctl_error_set(saved.code ? saved.code : code, "%s", saved.message);
	return code;
}

int mlctl_dataset_record(mlctl_registry *reg, const char *digest, const char *path, const char *format,
			 int64_t rows, int64_t columns)
{
	return registry_exec(reg,
			     "INSERT INTO datasets (digest, path, format, rows, columns, first_seen) VALUES (?, ?, ?, ?, ?, ?)"
			     " ON CONFLICT (digest) DO UPDATE SET path = excluded.path",
			     "sssiii", digest, path, format, rows, columns, mlctl_now_ms());
}

/* ---- reading runs ---- */

int mlctl_run_resolve(char out[MLCTL_RUN_ID_SIZE], mlctl_registry *reg, const char *prefix)
{
	char up[MLCTL_RUN_ID_SIZE + 1], hi[MLCTL_RUN_ID_SIZE + 2];
	strbuf found = MLCTL_STRBUF_INIT;
	sqlite3_stmt *st;
	size_t i, len = strlen(prefix);
	int ret, rc, n = 0;

	if (len == 0 || len > 26)
		return mlctl_error_set(MLCTL_ENOTFOUND, "no run %s", prefix);
	for (i = 0; i < len; i++) {
		char c = prefix[i];

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')))
			return mlctl_error_set(MLCTL_ENOTFOUND, "no run %s (run ids are Crockford base32)", prefix);
		up[i] = c;
	}
	up[len] = '\0';
	snprintf(hi, sizeof(hi), "%s~", up);
	ret = registry_prepare(&st, reg, "SELECT id FROM runs WHERE id >= ? AND id < ? ORDER BY id LIMIT 5", "ss", up, hi);
	if (ret)
		return ret;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);

		if (n++ == 0)
			snprintf(out, MLCTL_RUN_ID_SIZE, "%s", id);
		strbuf_printf(&found, "%s%s", n > 1 ? ", " : "", id);
	}
	if (rc != SQLITE_DONE)
		ret = registry_error(reg, rc, "cannot look up a run");
	else if (n == 0)
		ret = mlctl_error_set(MLCTL_ENOTFOUND, "no run %s", prefix);
	else if (n > 1)
		ret = mlctl_error_set(MLCTL_EAMBIGUOUS, "run id prefix %s is ambiguous: %s%s", prefix,
				      found.buf, n > 4 ? ", ..." : "");
	sqlite3_finalize(st);
	strbuf_release(&found);
	return ret;
}

#define RUN_COLUMNS "id, kind, name, parent, status, started, ended, user, host, pid, pid_start," \
	" argv, version, error, model_name, model_version, verdict"

static mlctl_run *run_from_row(sqlite3_stmt *st)
{
	mlctl_run *run = mlctl_calloc(1, sizeof(*run));
	const char *status;

	if (!run)
		return NULL;
	snprintf(run->id, sizeof(run->id), "%s", (const char *)sqlite3_column_text(st, 0));
	run->kind = registry_col_str(st, 1);
	run->name = registry_col_str(st, 2);
	run->parent = registry_col_str(st, 3);
	status = (const char *)sqlite3_column_text(st, 4);
	run->started_ms = sqlite3_column_int64(st, 5);
	run->ended_ms = sqlite3_column_int64(st, 6);
	run->user = registry_col_str(st, 7);
	run->host = registry_col_str(st, 8);
	run->pid = sqlite3_column_int(st, 9);
	run->argv = registry_col_str(st, 11);
	run->version = registry_col_str(st, 12);
	run->error = registry_col_str(st, 13);
	run->model_name = registry_col_str(st, 14);
	run->model_version = sqlite3_column_int(st, 15);
	run->verdict = registry_col_str(st, 16);
	if (status && strcmp(status, "succeeded") == 0)
		run->status = MLCTL_RUN_SUCCEEDED;
	else if (status && strcmp(status, "failed") == 0)
		run->status = MLCTL_RUN_FAILED;
	else if (!run_process_alive(run->host, run->pid, sqlite3_column_int64(st, 10)))
		run->status = MLCTL_RUN_STALE;
	else
		run->status = MLCTL_RUN_RUNNING;
	return run;
}

void mlctl_run_free(mlctl_run *run)
{
	size_t i;

	if (!run)
		return;
	free(run->kind);
	free(run->name);
	free(run->parent);
	free(run->user);
	free(run->host);
	free(run->argv);
	free(run->version);
	free(run->error);
	free(run->model_name);
	free(run->verdict);
	for (i = 0; i < run->nparams; i++) {
		free(run->params[i].key);
		free(run->params[i].value);
	}
	for (i = 0; i < run->ntags; i++) {
		free(run->tags[i].key);
		free(run->tags[i].value);
	}
	for (i = 0; i < run->nmetrics; i++)
		free(run->metrics[i].key);
	for (i = 0; i < run->nobjects; i++) {
		free(run->objects[i].role);
		free(run->objects[i].name);
		free(run->objects[i].media_type);
		free(run->objects[i].dataset_path);
		free(run->objects[i].dataset_format);
	}
	free(run->params);
	free(run->tags);
	free(run->metrics);
	free(run->objects);
	free(run);
}

/* Read key/value rows (two text columns) into a fresh array. */
static int read_kv(mlctl_kv **out, size_t *n, mlctl_registry *reg, const char *sql, const char *run)
{
	sqlite3_stmt *st;
	mlctl_kv *kv = NULL, *p;
	int ret, rc;

	*out = NULL;
	*n = 0;
	if ((ret = registry_prepare(&st, reg, sql, "s", run)))
		return ret;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!(p = mlctl_reallocarray(kv, *n + 1, sizeof(*kv)))) {
			ret = MLCTL_ENOMEM;
			break;
		}
		kv = p;
		kv[*n].key = registry_col_str(st, 0);
		kv[*n].value = registry_col_str(st, 1);
		(*n)++;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = registry_error(reg, rc, "cannot read a run");
	sqlite3_finalize(st);
	*out = kv;
	return ret;
}

static int read_run_details(mlctl_registry *reg, mlctl_run *run)
{
	sqlite3_stmt *st;
	int ret, rc;

	if ((ret = read_kv(&run->params, &run->nparams, reg, "SELECT key, value FROM params WHERE run = ? ORDER BY key", run->id)) ||
	    (ret = read_kv(&run->tags, &run->ntags, reg, "SELECT key, value FROM tags WHERE run = ? ORDER BY key", run->id)))
		return ret;
	if ((ret = registry_prepare(&st, reg, "SELECT key, value, step FROM metrics WHERE run = ? ORDER BY key, step", "s", run->id)))
		return ret;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		mlctl_metric *m = mlctl_reallocarray(run->metrics, run->nmetrics + 1, sizeof(*m));

		if (!m) {
			ret = MLCTL_ENOMEM;
			break;
		}
		run->metrics = m;
		m += run->nmetrics++;
		m->key = registry_col_str(st, 0);
		m->value = sqlite3_column_type(st, 1) == SQLITE_NULL ? (double)NAN : sqlite3_column_double(st, 1);
		m->step = sqlite3_column_int64(st, 2);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = registry_error(reg, rc, "cannot read metrics");
	sqlite3_finalize(st);
	if (ret)
		return ret;
	if ((ret = registry_prepare(&st, reg,
				    "SELECT r.role, r.name, r.digest, o.size, o.media_type, d.path, d.format, d.rows, d.columns"
				    " FROM run_objects r LEFT JOIN objects o ON o.digest = r.digest"
				    " LEFT JOIN datasets d ON d.digest = r.digest WHERE r.run = ? ORDER BY r.role, r.name",
				    "s", run->id)))
		return ret;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		mlctl_run_object *o = mlctl_reallocarray(run->objects, run->nobjects + 1, sizeof(*o));

		if (!o) {
			ret = MLCTL_ENOMEM;
			break;
		}
		run->objects = o;
		o += run->nobjects++;
		o->role = registry_col_str(st, 0);
		o->name = registry_col_str(st, 1);
		snprintf(o->digest, sizeof(o->digest), "%s", (const char *)sqlite3_column_text(st, 2));
		o->size = sqlite3_column_type(st, 3) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 3);
		o->media_type = registry_col_str(st, 4);
		o->dataset_path = registry_col_str(st, 5);
		o->dataset_format = registry_col_str(st, 6);
		o->dataset_rows = o->dataset_path ? sqlite3_column_int64(st, 7) : -1;
		o->dataset_columns = o->dataset_path ? sqlite3_column_int64(st, 8) : -1;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = registry_error(reg, rc, "cannot read lineage");
	sqlite3_finalize(st);
	if (ret)
		return ret;
	if ((ret = registry_prepare(&st, reg, "SELECT count(*) FROM runs WHERE parent = ?", "s", run->id)))
		return ret;
	if (sqlite3_step(st) == SQLITE_ROW)
		run->nchildren = (size_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return 0;
}

int mlctl_run_get(mlctl_run **out, mlctl_registry *reg, const char *id_or_prefix)
{
	char id[MLCTL_RUN_ID_SIZE];
	sqlite3_stmt *st;
	mlctl_run *run = NULL;
	int ret, rc;

	*out = NULL;
	if ((ret = mlctl_run_resolve(id, reg, id_or_prefix)))
		return ret;
	if ((ret = registry_prepare(&st, reg, "SELECT " RUN_COLUMNS " FROM runs WHERE id = ?", "s", id)))
		return ret;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		run = run_from_row(st);
		if (!run)
			ret = MLCTL_ENOMEM;
	} else {
		ret = rc == SQLITE_DONE ? mlctl_error_set(MLCTL_ENOTFOUND, "no run %s", id) : registry_error(reg, rc, "cannot read a run");
	}
	sqlite3_finalize(st);
	if (!ret)
		ret = read_run_details(reg, run);
	if (ret) {
		mlctl_run_free(run);
		return ret;
	}
	*out = run;
	return 0;
}

int mlctl_run_list_get(mlctl_run_list **out, mlctl_registry *reg, const mlctl_run_filter *f)
{
	mlctl_run_list *l;
	sqlite3_stmt *st;
	char sql[512];
	int ret, rc;

	*out = NULL;
	l = mlctl_calloc(1, sizeof(*l));
	if (!l)
		return MLCTL_ENOMEM;
	/* Only the filters that are set go into the query: "(?1 IS NULL OR kind = ?1)" would
	 * keep SQLite from using the indexes, and `models show` (validations of one model)
	 * would scan every run. Unused parameters are still bound; ?6 is always there. */
	snprintf(sql, sizeof(sql), "SELECT " RUN_COLUMNS " FROM runs WHERE 1%s%s%s%s%s ORDER BY id DESC LIMIT ?6",
		 f->kind ? " AND kind = ?1" : "", f->name ? " AND name = ?2" : "",
		 f->model_name ? " AND model_name = ?3" : "", f->parent ? " AND parent = ?4" : "",
		 f->top_level ? " AND parent IS NULL" : "");
	ret = registry_prepare(&st, reg, sql,
			       "ssssii", f->kind, f->name, f->model_name, f->parent, (int64_t)f->top_level,
			       f->limit ? (int64_t)f->limit : (int64_t)-1);
	if (ret) {
		free(l);
		return ret;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		mlctl_run **p = mlctl_reallocarray(l->runs, l->n + 1, sizeof(*p));

		if (!p || !(p[l->n] = run_from_row(st))) {
			if (p)
				l->runs = p;
			ret = MLCTL_ENOMEM;
			break;
		}
		l->runs = p;
		l->n++;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = registry_error(reg, rc, "cannot list runs");
	sqlite3_finalize(st);
	if (ret) {
		mlctl_run_list_free(l);
		return ret;
	}
	*out = l;
	return 0;
}

void mlctl_run_list_free(mlctl_run_list *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->n; i++)
		mlctl_run_free(l->runs[i]);
	free(l->runs);
	free(l);
}

bool mlctl_run_metric(const mlctl_run *run, const char *key, double *out)
{
	bool found = false;
	size_t i;

	/* Metrics are ordered by key then step: the last match is the highest step. */
	for (i = 0; i < run->nmetrics; i++) {
		if (strcmp(run->metrics[i].key, key) == 0) {
			*out = run->metrics[i].value;
			found = true;
		}
	}
	return found;
}

static const char *kv_find(const mlctl_kv *kv, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(kv[i].key, key) == 0)
			return kv[i].value;
	return NULL;
}

const char *mlctl_run_param(const mlctl_run *run, const char *key)
{
	return kv_find(run->params, run->nparams, key);
}

const char *mlctl_run_tag(const mlctl_run *run, const char *key)
{
	return kv_find(run->tags, run->ntags, key);
}
