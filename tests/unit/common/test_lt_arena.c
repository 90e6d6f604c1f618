/* lt_arena: alignment, the byte cap (NULL, never a crash), strdup/printf, and cleanup hooks
 * that run in reverse order of registration. */
#include <stdint.h>
#include <string.h>

#include "lt_arena.h"
#include "lt_test.h"

static void test_alloc(void)
{
    lt_arena *a = lt_arena_new(1 << 20);
    CHECK(a != NULL);
    static const size_t sizes[] = {1, 7, 16, 17, 100, 8191, 8192, 8193, 70000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned char *p = lt_arena_alloc(a, sizes[i]);
        CHECK_MSG(p && (uintptr_t)p % 16 == 0, "size %zu", sizes[i]);
        if (p)
            memset(p, 0xab, sizes[i]); /* ASan would flag an undersized block */
    }
    unsigned char *z = lt_arena_calloc(a, 64);
    int zero = 1;
    for (int i = 0; z && i < 64; i++)
        zero &= z[i] == 0;
    CHECK(z && zero);
    char *s = lt_arena_strdup(a, "hello");
    CHECK(s && strcmp(s, "hello") == 0);
    s = lt_arena_strndup(a, "hello", 3);
    CHECK(s && strcmp(s, "hel") == 0);
    s = lt_arena_printf(a, "%s-%d", "x", 7);
    CHECK(s && strcmp(s, "x-7") == 0);
    CHECK(lt_arena_used(a) > 0 && !lt_arena_over(a));
    lt_arena_free(a);
}

static void test_cap(void)
{
    static const struct {
        size_t cap, first, second;
        int first_ok, second_ok;
    } cases[] = {
        {64, 64, 1, 1, 0},
        {64, 48, 16, 1, 1},
        {64, 65, 1, 0, 1},
        {0, 1, 0, 0, 1},
        {1024, SIZE_MAX, 1, 0, 1}, /* rounding up must not wrap */
        {1024, SIZE_MAX - 8, 1, 0, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lt_arena *a = lt_arena_new(cases[i].cap);
        void *p = lt_arena_alloc(a, cases[i].first);
        CHECK_MSG((p != NULL) == cases[i].first_ok, "case %zu first", i);
        void *q = lt_arena_alloc(a, cases[i].second);
        CHECK_MSG((q != NULL) == cases[i].second_ok, "case %zu second", i);
        CHECK_MSG(lt_arena_over(a) == !(cases[i].first_ok && cases[i].second_ok), "case %zu", i);
        CHECK(lt_arena_used(a) <= cases[i].cap);
        lt_arena_free(a);
    }
    lt_arena *a = lt_arena_new(32);
    CHECK(lt_arena_strdup(a, "a string longer than thirty-two bytes") == NULL);
    CHECK(lt_arena_printf(a, "%0100d", 1) == NULL);
    lt_arena_free(a);
}

typedef struct order {
    int seq[8];
    int n;
} order;

typedef struct tag {
    order *o;
    int id;
} tag;

static void record(void *p)
{
    tag *t = p;
    t->o->seq[t->o->n++] = t->id;
}

static void test_hooks(void)
{
    order o = {{0}, 0};
    tag tags[4] = {{&o, 1}, {&o, 2}, {&o, 3}, {&o, 4}};
    lt_arena *a = lt_arena_new(16); /* hooks live outside the cap */
    CHECK(lt_arena_alloc(a, 16) != NULL);
    for (int i = 0; i < 4; i++)
        CHECK(lt_arena_defer(a, record, &tags[i]) == 0);
    CHECK(o.n == 0);
    lt_arena_free(a);
    CHECK(o.n == 4);
    CHECK(o.seq[0] == 4 && o.seq[1] == 3 && o.seq[2] == 2 && o.seq[3] == 1);
    lt_arena_free(NULL);
}

int main(void)
{
    LT_RUN(test_alloc);
    LT_RUN(test_cap);
    LT_RUN(test_hooks);
    return lt_test_done();
}
