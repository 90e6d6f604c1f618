/* lt_test — the tiny harness every unit test uses: CHECK macros, table-driven loops, and the
 * closing line "N passed, N failed" that CI reads. A test file defines test functions and
 * calls them from main via LT_RUN, then returns lt_test_done(). */
#ifndef LT_TEST_H
#define LT_TEST_H

#include <stdio.h>
#include <string.h>

static int lt_test_pass, lt_test_fail;

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (cond) {                                                                 \
            lt_test_pass++;                                                         \
        } else {                                                                    \
            lt_test_fail++;                                                         \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                           \
    } while (0)

#define CHECK_MSG(cond, ...)                                                        \
    do {                                                                            \
        if (cond) {                                                                 \
            lt_test_pass++;                                                         \
        } else {                                                                    \
            lt_test_fail++;                                                         \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                           \
            fputc('\n', stderr);                                                    \
        }                                                                           \
    } while (0)

#define CHECK_STR(a, b) CHECK_MSG((a) && (b) && strcmp((a), (b)) == 0, "'%s' != '%s'", \
                                  (a) ? (a) : "(null)", (b) ? (b) : "(null)")

#define LT_RUN(fn)                         \
    do {                                   \
        fprintf(stderr, "-- %s\n", #fn);   \
        fn();                              \
    } while (0)

static inline int lt_test_done(void)
{
    printf("%d passed, %d failed\n", lt_test_pass, lt_test_fail);
    return lt_test_fail ? 1 : 0;
}

#endif
