/* Fuzz target: URL paths through segment splitting and the route table. */
#include <stdint.h>
#include <string.h>

#include "gw_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *methods[] = {"GET", "POST", "PUT", "DELETE", "HEAD"};
    gw_req r;
    memset(&r, 0, sizeof r);
    r.arena = lt_arena_new(1u << 20);
    char *path = lt_arena_strndup(r.arena, (const char *)data, size);
    if (path) {
        r.path = path;
        if (gw_path_split(&r) == LT_OK) {
            int idx = -1;
            bool known = false;
            const gw_route *rt = gw_route_match(methods[size % 5], &r, &idx, &known);
            if (rt && (gw_route_at(idx) != rt || !known))
                __builtin_trap();
        }
    }
    lt_errinfo_clear(&r.ei);
    lt_arena_free(r.arena);
    return 0;
}
