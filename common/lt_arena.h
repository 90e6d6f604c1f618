/* lt_arena — a bump allocator per request with a byte cap and cleanup hooks.
 *
 * Contract: memory from an arena lives until lt_arena_free. Allocation past the cap returns
 * NULL (callers report LT_E_TOO_LARGE, never crash). Cleanup hooks (for json_t, xmlDoc, CURL,
 * MDB_txn …) run in reverse order of registration at lt_arena_free.
 * Ownership: lt_arena_new returns a new arena, free with lt_arena_free; pointers it returns are
 * arena-owned. Thread safety: one arena belongs to one thread at a time.
 */
#ifndef LT_ARENA_H
#define LT_ARENA_H

#include <stdarg.h>
#include <stddef.h>

typedef struct lt_arena lt_arena;

lt_arena *lt_arena_new(size_t cap);
void lt_arena_free(lt_arena *a);
/* 16-byte aligned; NULL when over the cap or out of memory (then lt_arena_over() is true). */
void *lt_arena_alloc(lt_arena *a, size_t n);
void *lt_arena_calloc(lt_arena *a, size_t n);
char *lt_arena_strdup(lt_arena *a, const char *s);
char *lt_arena_strndup(lt_arena *a, const char *s, size_t n);
char *lt_arena_printf(lt_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Registers fn(p) to run at lt_arena_free. Returns 0, or -1 (fn(p) is then run at once). */
int lt_arena_defer(lt_arena *a, void (*fn)(void *), void *p);
size_t lt_arena_used(const lt_arena *a);
int lt_arena_over(const lt_arena *a);

#endif
