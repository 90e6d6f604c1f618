/* lt_log — one-line structured logs to stderr ("2026-…Z level msg key=value").
 * Contract: never logs personal fields (callers pass only ids and counts). Thread-safe:
 * each line is one write(2). The level is read from the LIENTHONG_LOG environment variable
 * (error, warn, info, debug) once per process by lt_log_init; the default is info. */
#ifndef LT_LOG_H
#define LT_LOG_H

typedef enum lt_log_level { LT_LOG_ERROR, LT_LOG_WARN, LT_LOG_INFO, LT_LOG_DEBUG } lt_log_level;

void lt_log_init(void);
void lt_log(lt_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
