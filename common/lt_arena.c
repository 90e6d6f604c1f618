#include "lt_arena.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_MIN 8192u

typedef struct chunk {
    struct chunk *next;
    size_t size, used;
    _Alignas(16) unsigned char mem[];
} chunk;

typedef struct hook {
    struct hook *next;
    void (*fn)(void *);
    void *p;
} hook;

struct lt_arena {
    chunk *head;
    hook *hooks;
    size_t cap, used;
    int over;
};

lt_arena *lt_arena_new(size_t cap)
{
    lt_arena *a = calloc(1, sizeof *a);
    if (a)
        a->cap = cap;
    return a;
}

void lt_arena_free(lt_arena *a)
{
    if (!a)
        return;
    for (hook *h = a->hooks; h;) { /* reverse order: newest first */
        hook *n = h->next;
        h->fn(h->p);
        free(h);
        h = n;
    }
    for (chunk *c = a->head; c;) {
        chunk *n = c->next;
        free(c);
        c = n;
    }
    free(a);
}

void *lt_arena_alloc(lt_arena *a, size_t n)
{
    size_t need = (n + 15u) & ~(size_t)15u;
    if (need < n || a->used + need > a->cap || a->used + need < a->used) {
        a->over = 1;
        return NULL;
    }
    chunk *c = a->head;
    if (!c || c->size - c->used < need) {
        size_t sz = need > CHUNK_MIN ? need : CHUNK_MIN;
        if (c && sz < c->size * 2 && c->size * 2 <= 1u << 20)
            sz = c->size * 2; /* grow chunks geometrically up to 1 MiB */
        c = malloc(sizeof *c + sz);
        if (!c) {
            a->over = 1;
            return NULL;
        }
        c->size = sz;
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->mem + c->used;
    c->used += need;
    a->used += need;
    return p;
}

void *lt_arena_calloc(lt_arena *a, size_t n)
{
    void *p = lt_arena_alloc(a, n);
    if (p)
        memset(p, 0, n);
    return p;
}

char *lt_arena_strndup(lt_arena *a, const char *s, size_t n)
{
    char *d = lt_arena_alloc(a, n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

char *lt_arena_strdup(lt_arena *a, const char *s) { return lt_arena_strndup(a, s, strlen(s)); }

char *lt_arena_printf(lt_arena *a, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *d = n < 0 ? NULL : lt_arena_alloc(a, (size_t)n + 1);
    if (d)
        vsnprintf(d, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return d;
}

int lt_arena_defer(lt_arena *a, void (*fn)(void *), void *p)
{
    hook *h = malloc(sizeof *h); /* outside the cap: cleanup must never fail for size */
    if (!h) {
        fn(p);
        return -1;
    }
    h->fn = fn;
    h->p = p;
    h->next = a->hooks;
    a->hooks = h;
    return 0;
}

size_t lt_arena_used(const lt_arena *a) { return a->used; }
int lt_arena_over(const lt_arena *a) { return a->over; }
