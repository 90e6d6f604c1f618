#include "lt_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lt_str.h"

/* Set once before threads start (lt_log_init), read-only afterwards. */
static lt_log_level max_level = LT_LOG_INFO;

void lt_log_init(void)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    const char *v = getenv("LIENTHONG_LOG");
    for (int i = 0; v && i < 4; i++)
        if (strcmp(v, names[i]) == 0)
            max_level = (lt_log_level)i;
}

void lt_log(lt_log_level lvl, const char *fmt, ...)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    if (lvl > max_level)
        return;
    char line[2048], ts[32];
    lt_time_format(lt_now_us(), true, ts);
    int n = snprintf(line, sizeof line, "%s %s ", ts, names[lvl]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    ssize_t w = write(2, line, len);
    (void)w;
}
