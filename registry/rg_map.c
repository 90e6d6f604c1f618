/* rg_map — the string-keyed hash map behind every registry cache (see rg_int.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rg_int.h"

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a: short keys, good spread, no setup */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

static size_t slot_of(const rg_map *m, const char *key)
{
    size_t mask = m->cap - 1, i = (size_t)hash_str(key) & mask;
    while (m->keys[i] && strcmp(m->keys[i], key) != 0)
        i = (i + 1) & mask;
    return i;
}

static int grow(rg_map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 16;
    rg_map g = {calloc(cap, sizeof(char *)), calloc(cap, sizeof(void *)), cap, 0};
    if (!g.keys || !g.vals) {
        free(g.keys);
        free(g.vals);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i])
            continue;
        size_t j = slot_of(&g, m->keys[i]);
        g.keys[j] = m->keys[i];
        g.vals[j] = m->vals[i];
        g.n++;
    }
    free(m->keys);
    free(m->vals);
    *m = g;
    return 0;
}

int rg_map_put(rg_map *m, const char *key, void *val, void **old)
{
    if (old)
        *old = NULL;
    /* Keep the load under 1/2 so probes stay short for rg_code_exists. */
    if ((m->n + 1) * 2 > m->cap && grow(m))
        return -1;
    size_t i = slot_of(m, key);
    if (m->keys[i]) {
        if (old)
            *old = m->vals[i];
        m->vals[i] = val;
        return 0;
    }
    if (!(m->keys[i] = strdup(key)))
        return -1;
    m->vals[i] = val;
    m->n++;
    return 0;
}

void *rg_map_get(const rg_map *m, const char *key)
{
    if (!m || !m->cap || !key)
        return NULL;
    size_t i = slot_of(m, key);
    return m->keys[i] ? m->vals[i] : NULL;
}

bool rg_map_has(const rg_map *m, const char *key)
{
    return m && m->cap && key && m->keys[slot_of(m, key)] != NULL;
}

void rg_map_free(rg_map *m, void (*free_val)(void *))
{
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i])
            continue;
        free(m->keys[i]);
        if (free_val)
            free_val(m->vals[i]);
    }
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **rg_map_sorted_keys(const rg_map *m, size_t *n)
{
    *n = 0;
    if (!m->n)
        return NULL;
    const char **keys = malloc(m->n * sizeof *keys);
    if (!keys)
        return NULL;
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i])
            keys[(*n)++] = m->keys[i];
    qsort(keys, *n, sizeof *keys, cmp_str);
    return keys;
}
