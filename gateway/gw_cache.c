/* gw_cache — a bounded LRU of rendered answers keyed by query and caller (gw_cache.h). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "gw_cache.h"

#define CACHE_BUCKETS 1024u /* a province's dashboards ask a few hundred distinct queries */

struct gw_cache {
    pthread_mutex_t mu;
    gw_cached *buckets[CACHE_BUCKETS];
    gw_cached *head, *tail; /* most recently used first */
    size_t entries, bytes, max_bytes;
    uint64_t hits, misses;
};

static uint64_t hash_key(const char *k, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a: keys are short, spread is enough */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)k[i]) * 1099511628211ull;
    return h;
}

static void entry_free(gw_cached *e)
{
    for (size_t i = 0; i < e->nsrcs; i++)
        free((char *)e->srcs[i].service);
    free(e->srcs);
    free(e->key);
    free(e->body);
    free(e);
}

void gw_cached_release(gw_cached *e)
{
    if (e && atomic_fetch_sub_explicit((_Atomic int *)&e->refs, 1, memory_order_acq_rel) == 1)
        entry_free(e);
}

static void take_ref(gw_cached *e)
{
    atomic_fetch_add_explicit((_Atomic int *)&e->refs, 1, memory_order_relaxed);
}

gw_cache *gw_cache_new(size_t max_bytes)
{
    gw_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    pthread_mutex_init(&c->mu, NULL);
    c->max_bytes = max_bytes;
    return c;
}

/* ---- list and table (callers hold mu) ---- */

static void lru_unlink(gw_cache *c, gw_cached *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_front(gw_cache *c, gw_cached *e)
{
    e->next = c->head;
    if (c->head)
        c->head->prev = e;
    c->head = e;
    if (!c->tail)
        c->tail = e;
}

static gw_cached **slot_of(gw_cache *c, const char *key, size_t klen)
{
    gw_cached **p = &c->buckets[hash_key(key, klen) % CACHE_BUCKETS];
    while (*p && !((*p)->klen == klen && memcmp((*p)->key, key, klen) == 0))
        p = &(*p)->hnext;
    return p;
}

/* Unlinks the entry at *slot from table and list; drops the cache's reference. */
static void drop(gw_cache *c, gw_cached **slot)
{
    gw_cached *e = *slot;
    *slot = e->hnext;
    lru_unlink(c, e);
    c->entries--;
    c->bytes -= e->bytes;
    gw_cached_release(e);
}

static void evict(gw_cache *c, size_t want)
{
    while (c->tail && c->bytes + want > c->max_bytes)
        drop(c, slot_of(c, c->tail->key, c->tail->klen));
}

/* ---- the interface ---- */

gw_cached *gw_cache_get(gw_cache *c, const char *key, size_t klen, uint64_t wgen,
                        uint64_t ogen)
{
    if (!c)
        return NULL;
    pthread_mutex_lock(&c->mu);
    gw_cached **slot = slot_of(c, key, klen), *e = *slot;
    if (e && (e->wgen != wgen || e->ogen != ogen)) {
        drop(c, slot);
        e = NULL;
    }
    if (e) {
        lru_unlink(c, e);
        lru_front(c, e);
        take_ref(e);
        c->hits++;
    } else {
        c->misses++;
    }
    pthread_mutex_unlock(&c->mu);
    return e;
}

gw_cached *gw_cached_new(const char *key, size_t klen, uint64_t wgen, uint64_t ogen,
                         const char *body, size_t len, const char *content_type, size_t records,
                         const gw_obs_decision *srcs, size_t nsrcs)
{
    gw_cached *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->key = malloc(klen ? klen : 1);
    e->body = malloc(len ? len : 1);
    e->srcs = calloc(nsrcs ? nsrcs : 1, sizeof *e->srcs);
    bool ok = e->key && e->body && e->srcs;
    for (size_t i = 0; ok && i < nsrcs; i++, e->nsrcs++) {
        e->srcs[i] = srcs[i];
        ok = (e->srcs[i].service = strdup(srcs[i].service)) != NULL;
    }
    if (!ok) {
        entry_free(e);
        return NULL;
    }
    memcpy(e->key, key, klen);
    memcpy(e->body, body, len);
    e->klen = klen;
    e->len = len;
    e->wgen = wgen;
    e->ogen = ogen;
    e->content_type = content_type;
    e->records = records;
    e->bytes = len + klen + sizeof *e + nsrcs * 64;
    e->refs = 1;
    return e;
}

void gw_cache_put(gw_cache *c, gw_cached *e)
{
    if (!c || !e || e->bytes > c->max_bytes / 4) {
        gw_cached_release(e);
        return;
    }
    pthread_mutex_lock(&c->mu);
    gw_cached **slot = slot_of(c, e->key, e->klen);
    if (*slot)
        drop(c, slot);
    evict(c, e->bytes);
    slot = slot_of(c, e->key, e->klen);
    e->hnext = NULL;
    *slot = e;
    lru_front(c, e);
    c->entries++;
    c->bytes += e->bytes;
    pthread_mutex_unlock(&c->mu);
}

void gw_cache_stats(gw_cache *c, size_t *entries, size_t *bytes, uint64_t *hits,
                    uint64_t *misses)
{
    pthread_mutex_lock(&c->mu);
    *entries = c->entries;
    *bytes = c->bytes;
    *hits = c->hits;
    *misses = c->misses;
    pthread_mutex_unlock(&c->mu);
}

void gw_cache_free(gw_cache *c)
{
    if (!c)
        return;
    while (c->head)
        drop(c, slot_of(c, c->head->key, c->head->klen));
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* ---- the request side: key, lookup, offer ---- */

#include <stdio.h>

#include "gw_int.h"

typedef struct kv {
    const char *k, *v;
} kv;

typedef struct kv_list {
    kv *v;
    size_t n, cap;
} kv_list;

static enum MHD_Result add_kv(void *cls, enum MHD_ValueKind kind, const char *key,
                              const char *value)
{
    kv_list *l = cls;
    (void)kind;
    if (l->n < l->cap)
        l->v[l->n++] = (kv){key, value ? value : ""};
    return MHD_YES;
}

static int cmp_kv(const void *a, const void *b)
{
    const kv *x = a, *y = b;
    int c = strcmp(x->k, y->k);
    return c ? c : strcmp(x->v, y->v);
}

static void key_part(lt_buf *b, const char *s)
{
    lt_buf_printf(b, "%zu:", strlen(s)); /* length-prefixed: no separator can be forged */
    lt_buf_puts(b, s);
}

bool gw_cache_key(gw_req *r, const char *what, const char *extra, lt_buf *key)
{
    lt_buf_init(key, 0);
    int n = MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, NULL, NULL);
    kv_list l = {lt_arena_alloc(r->arena, (size_t)(n > 0 ? n : 1) * sizeof(kv)), 0,
                 (size_t)(n > 0 ? n : 0)};
    if (!l.v)
        return false;
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, add_kv, &l);
    qsort(l.v, l.n, sizeof *l.v, cmp_kv);
    key_part(key, what);
    key_part(key, r->path);
    key_part(key, extra ? extra : "");
    lt_buf_printf(key, "%u:", r->who.roles);
    key_part(key, r->who.org);
    key_part(key, r->who.sub);
    for (size_t i = 0; i < l.n; i++) {
        key_part(key, l.v[i].k);
        key_part(key, l.v[i].v);
    }
    return !key->err;
}

bool gw_cache_try(gw_req *r, const lt_buf *key, uint64_t wgen)
{
    uint64_t ogen = 0;
    wh_read *rd = NULL;
    lt_errinfo ei = {0};
    bool ok = wh_read_begin(r->ctx->wh, &rd, &ei) == LT_OK &&
              wh_obs_generation(rd, &ogen) == LT_OK;
    wh_read_end(rd);
    lt_errinfo_clear(&ei);
    gw_cached *e = ok ? gw_cache_get(r->ctx->cache, key->data, key->len, wgen, ogen) : NULL;
    if (!e)
        return false;
    if (!gw_obs_redecide(r, e->srcs, e->nsrcs)) {
        gw_cached_release(e);
        return false;
    }
    r->shared = e;
    r->status = 200;
    r->content_type = e->content_type;
    r->records = e->records;
    return true;
}

void gw_cache_offer(gw_req *r, const lt_buf *key, uint64_t wgen, const gw_obs_set *s)
{
    if (r->status != 200 || r->out.err || key->err || json_array_size(s->excluded) ||
        s->obs_gen == UINT64_MAX || atomic_load(&r->ctx->writes) != wgen)
        return;
    gw_cached *e = gw_cached_new(key->data, key->len, wgen, s->obs_gen, r->out.data, r->out.len,
                                 r->content_type, r->records, s->decisions, s->ndecisions);
    gw_cache_put(r->ctx->cache, e);
}
