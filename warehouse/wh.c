/* wh — the environment: open/close, named DBs, the pool of read handles, operations
 * (stat, writability, backup). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "lt_log.h"
#include "lt_str.h"
#include "wh_int.h"

/* One named DB per registry kind, in wh_kind order; the names are the on-disk format. */
static const char *const DOC_DB[WH_KIND_COUNT] = {
    "agencies", "systems", "codelists", "contracts", "services",
    "requests", "grants",  "indicators", "meta", "pullruns",
};

static lt_err mkdir_p(const char *dir, lt_errinfo *ei)
{
    char p[PATH_MAX];
    if (!dir || !*dir || lt_strlcpy(p, dir, sizeof p) >= sizeof p)
        return lt_fail(ei, LT_E_IO, "warehouse directory: bad path");
    for (char *s = p + 1;; s++) {
        bool end = *s == '\0';
        if (*s == '/' || end) {
            *s = '\0';
            if (mkdir(p, 0750) != 0 && errno != EEXIST)
                return lt_fail(ei, LT_E_IO, "%s: %s", p, strerror(errno));
            if (end)
                break;
            *s = '/';
        }
    }
    return LT_OK;
}

static int open_dbi(MDB_txn *txn, const char *name, MDB_dbi *dbi)
{
    return mdb_dbi_open(txn, name, MDB_CREATE, dbi);
}

/* Records the format on first open; refuses a directory written in another format. */
static int check_format(MDB_txn *txn, MDB_dbi meta)
{
    static const char k[] = "format";
    MDB_val key = {sizeof k - 1, (void *)k}, v;
    int rc = mdb_get(txn, meta, &key, &v);
    if (rc == MDB_NOTFOUND) {
        v.mv_size = sizeof WH_FORMAT - 1;
        v.mv_data = (void *)WH_FORMAT;
        return mdb_put(txn, meta, &key, &v, 0);
    }
    if (rc)
        return rc;
    if (v.mv_size != sizeof WH_FORMAT - 1 || memcmp(v.mv_data, WH_FORMAT, v.mv_size) != 0)
        return MDB_VERSION_MISMATCH;
    return 0;
}

static int open_dbs(wh_env *e)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(e->env, NULL, 0, &txn);
    if (rc)
        return rc;
    for (int i = 0; i < WH_KIND_COUNT && !rc; i++)
        rc = open_dbi(txn, DOC_DB[i], &e->docs[i]);
    struct { const char *name; MDB_dbi *dbi; } own[] = {
        {"records", &e->records}, {"revisions", &e->revisions}, {"feed", &e->feed},
        {"quarantine", &e->quarantine}, {"audit", &e->audit}, {"wh_meta", &e->meta},
        {"obs", &e->obs},
    };
    for (size_t i = 0; i < sizeof own / sizeof own[0] && !rc; i++)
        rc = open_dbi(txn, own[i].name, own[i].dbi);
    if (!rc)
        rc = check_format(txn, e->meta);
    if (rc) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mdb_txn_commit(txn);
}

static int env_open(wh_env *e, const char *dir, size_t map_size)
{
    int rc = mdb_env_create(&e->env);
    if (rc)
        return rc;
    if ((rc = mdb_env_set_maxdbs(e->env, 32)) || (rc = mdb_env_set_maxreaders(e->env, 512)) ||
        (rc = mdb_env_set_mapsize(e->env, map_size ? map_size : LT_MAP_SIZE_DEFAULT)))
        return rc;
    /* NOTLS: read txns live in a pool and move between the server's threads. Default sync:
     * a commit that returned is on disk. */
    if ((rc = mdb_env_open(e->env, dir, MDB_NOTLS, 0640)))
        return rc;
    int dead = 0;
    mdb_reader_check(e->env, &dead); /* slots left by crashed processes */
    if (dead)
        lt_log(LT_LOG_WARN, "warehouse: cleared %d stale reader slots", dead);
    return open_dbs(e);
}

/* Moves an audit log written before it had its own environment (the main env's "audit" DB
 * and chain head) into the audit env, once: copied and committed there first, then dropped
 * here, so a crash in between leaves a complete log in the new place (the old copy is
 * ignored: the audit env is no longer empty). */
static int audit_migrate(wh_env *e)
{
    MDB_txn *old = NULL, *neu = NULL;
    MDB_cursor *c = NULL;
    MDB_stat os, ns;
    uint64_t seq = 0;
    char hash[65];
    int rc = mdb_txn_begin(e->env, NULL, 0, &old);
    if (!rc)
        rc = mdb_stat(old, e->audit, &os);
    if (!rc)
        rc = mdb_txn_begin(e->aenv, NULL, 0, &neu);
    if (!rc)
        rc = mdb_stat(neu, e->alog, &ns);
    if (rc || os.ms_entries == 0 || ns.ms_entries != 0) {
        mdb_txn_abort(neu);
        mdb_txn_abort(old);
        return rc;
    }
    MDB_val k, v;
    if (!(rc = mdb_cursor_open(old, e->audit, &c)))
        for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
            if ((rc = mdb_put(neu, e->alog, &k, &v, MDB_APPEND)))
                break;
    if (c)
        mdb_cursor_close(c);
    if (rc == MDB_NOTFOUND)
        rc = wh_meta_head_get(old, e->meta, &seq, hash);
    if (!rc)
        rc = wh_meta_head_put(neu, e->ameta, seq, hash);
    if (!rc)
        rc = mdb_txn_commit(neu);
    else
        mdb_txn_abort(neu);
    if (!rc)
        rc = mdb_drop(old, e->audit, 0);
    if (!rc) {
        rc = mdb_txn_commit(old);
        lt_log(LT_LOG_INFO, "warehouse: audit log (%llu entries) moved to its own environment",
               (unsigned long long)seq);
    } else {
        mdb_txn_abort(old);
    }
    return rc;
}

/* LMDB does not say where it mapped a file (me_mapaddr is only set for fixed maps): the
 * audit writer needs it to hand old pages back (wh_audit.c), so it is read from
 * /proc/self/maps by the file's device and inode. NULL when not found (no trimming). */
static void find_map(const char *dir, void **addr, size_t *len)
{
    char path[PATH_MAX], line[PATH_MAX + 128];
    struct stat st;
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    FILE *f = stat(path, &st) == 0 ? fopen("/proc/self/maps", "r") : NULL;
    *addr = NULL;
    *len = 0;
    while (f && fgets(line, sizeof line, f)) {
        unsigned long lo, hi, ino;
        unsigned maj, mnr;
        if (sscanf(line, "%lx-%lx %*s %*s %x:%x %lu", &lo, &hi, &maj, &mnr, &ino) == 5 &&
            ino == (unsigned long)st.st_ino && makedev(maj, mnr) == st.st_dev &&
            hi - lo > *len) {
            *addr = (void *)lo;
            *len = hi - lo;
        }
    }
    if (f)
        fclose(f);
}

static int audit_env_open(wh_env *e, const char *dir, size_t map_size)
{
    int rc = mdb_env_create(&e->aenv);
    if (rc)
        return rc;
    if ((rc = mdb_env_set_maxdbs(e->aenv, 4)) || (rc = mdb_env_set_maxreaders(e->aenv, 512)) ||
        (rc = mdb_env_set_mapsize(e->aenv, map_size ? map_size : LT_MAP_SIZE_DEFAULT)) ||
        (rc = mdb_env_open(e->aenv, dir, MDB_NOTLS, 0640)))
        return rc;
    int dead = 0;
    mdb_reader_check(e->aenv, &dead);
    MDB_txn *txn;
    if ((rc = mdb_txn_begin(e->aenv, NULL, 0, &txn)))
        return rc;
    if ((rc = open_dbi(txn, "audit", &e->alog)) || (rc = open_dbi(txn, "audit_meta", &e->ameta))) {
        mdb_txn_abort(txn);
        return rc;
    }
    if ((rc = mdb_txn_commit(txn)))
        return rc;
    find_map(dir, &e->amap, &e->amap_len);
    return audit_migrate(e);
}

lt_err wh_open(const char *dir, size_t map_size, wh_env **out, lt_errinfo *ei)
{
    *out = NULL;
    lt_err err = mkdir_p(dir, ei);
    if (err)
        return err;
    wh_env *e = calloc(1, sizeof *e);
    if (!e)
        return lt_fail(ei, LT_E_NOMEM, "warehouse: out of memory");
    pthread_mutex_init(&e->rmu, NULL);
    char adir[PATH_MAX];
    int rc = env_open(e, dir, map_size);
    snprintf(adir, sizeof adir, "%s/audit", dir);
    if (!rc && (err = mkdir_p(adir, ei))) {
        wh_close(e);
        return err;
    }
    if (!rc)
        rc = audit_env_open(e, adir, map_size);
    if (rc) {
        err = rc == MDB_VERSION_MISMATCH
                  ? lt_fail(ei, LT_E_STORAGE, "%s: unsupported warehouse format", dir)
                  : wh_mdb_fail(ei, rc, dir);
        wh_close(e);
        return err;
    }
    if ((err = wh_audit_start(e, ei))) {
        wh_close(e);
        return err;
    }
    *out = e;
    return LT_OK;
}

void wh_close(wh_env *env)
{
    if (!env)
        return;
    wh_audit_stop(env);
    for (size_t i = 0; i < env->nrpool; i++) {
        mdb_txn_abort(env->rpool[i]->txn);
        free(env->rpool[i]);
    }
    if (env->aenv)
        mdb_env_close(env->aenv);
    if (env->env)
        mdb_env_close(env->env);
    pthread_mutex_destroy(&env->rmu);
    free(env);
}

/* ---- read handles: a reset txn keeps its reader slot, so renew is a few stores ---- */

lt_err wh_read_begin(wh_env *env, wh_read **out, lt_errinfo *ei)
{
    wh_read *r = NULL;
    pthread_mutex_lock(&env->rmu);
    if (env->nrpool)
        r = env->rpool[--env->nrpool];
    pthread_mutex_unlock(&env->rmu);
    if (r) {
        int rc = mdb_txn_renew(r->txn);
        if (rc == 0) {
            *out = r;
            return LT_OK;
        }
        mdb_txn_abort(r->txn);
    } else if (!(r = malloc(sizeof *r))) {
        return lt_fail(ei, LT_E_NOMEM, "warehouse: out of memory");
    }
    r->env = env;
    int rc = mdb_txn_begin(env->env, NULL, MDB_RDONLY, &r->txn);
    if (rc) {
        free(r);
        *out = NULL;
        return wh_mdb_fail(ei, rc, "read transaction");
    }
    *out = r;
    return LT_OK;
}

void wh_read_end(wh_read *r)
{
    if (!r)
        return;
    wh_env *env = r->env;
    mdb_txn_reset(r->txn);
    pthread_mutex_lock(&env->rmu);
    if (env->nrpool < WH_READ_POOL) {
        env->rpool[env->nrpool++] = r;
        r = NULL;
    }
    pthread_mutex_unlock(&env->rmu);
    if (r) {
        mdb_txn_abort(r->txn);
        free(r);
    }
}

/* ---- operations ---- */

lt_err wh_stat(wh_env *env, wh_stats *st)
{
    MDB_envinfo info;
    MDB_stat ms;
    memset(st, 0, sizeof *st);
    if (mdb_env_info(env->env, &info) || mdb_env_stat(env->env, &ms))
        return LT_E_STORAGE;
    st->map_size = info.me_mapsize;
    st->used_bytes = (uint64_t)(info.me_last_pgno + 1) * ms.ms_psize;
    MDB_txn *txn;
    char hash[65];
    int rc = mdb_txn_begin(env->aenv, NULL, MDB_RDONLY, &txn);
    if (!rc) {
        rc = wh_meta_head_get(txn, env->ameta, &st->audit_entries, hash);
        mdb_txn_abort(txn);
    }
    return rc ? LT_E_STORAGE : LT_OK;
}

lt_err wh_check_writable(wh_env *env, lt_errinfo *ei)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(env->env, NULL, 0, &txn);
    if (rc)
        return wh_mdb_fail(ei, rc, "write transaction");
    mdb_txn_abort(txn);
    return LT_OK;
}

lt_err wh_backup(wh_env *env, const char *dir, lt_errinfo *ei)
{
    lt_err err = mkdir_p(dir, ei);
    if (err)
        return err;
    int rc = mdb_env_copy2(env->env, dir, MDB_CP_COMPACT);
    if (rc > 0) /* an errno: the target (exists, permissions, disk) */
        return lt_fail(ei, LT_E_IO, "backup to %s: %s", dir, mdb_strerror(rc));
    if (rc)
        return wh_mdb_fail(ei, rc, "backup");
    /* Then the audit log: copied after the records, its chain covers at least what they
     * record (every exchange was committed to it before or after, never lost). */
    char adir[4096];
    snprintf(adir, sizeof adir, "%s/audit", dir);
    if ((err = mkdir_p(adir, ei)))
        return err;
    rc = mdb_env_copy2(env->aenv, adir, MDB_CP_COMPACT);
    if (rc > 0)
        return lt_fail(ei, LT_E_IO, "backup to %s: %s", adir, mdb_strerror(rc));
    return rc ? wh_mdb_fail(ei, rc, "backup of the audit log") : LT_OK;
}
