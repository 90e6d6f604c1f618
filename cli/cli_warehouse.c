/* `backup` and `verify-audit`: warehouse operations that run beside a live `serve`. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lt_str.h"
#include "wh.h"

static int parse(int argc, char **argv, const char **config, const char **to, bool want_to)
{
    static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                         {"to", required_argument, 0, 't'}, {0, 0, 0, 0}};
    int c;
    bool bad = false;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'c') *config = optarg;
        else if (c == 't' && want_to) *to = optarg;
        else bad = true;
    }
    return !bad && *config && (!want_to || *to) && optind == argc ? 0 : -1;
}

/* Opens the configured warehouse, runs fn on it, closes it; returns the exit code. */
static int with_warehouse(const char *config, const char *cmd,
                          int (*fn)(wh_env *, const char *, lt_errinfo *), const char *arg)
{
    lt_config *cfg = cli_load_config(config);
    if (!cfg)
        return 1;
    wh_env *wh = NULL;
    lt_errinfo ei = {0};
    int rc = wh_open(cfg->data_dir, cfg->map_size, &wh, &ei) ? -1 : fn(wh, arg, &ei);
    if (rc < 0)
        rc = cli_error(cmd, ei.detail);
    wh_close(wh);
    lt_errinfo_clear(&ei);
    lt_config_free(cfg);
    return rc;
}

static int run_backup(wh_env *wh, const char *to, lt_errinfo *ei)
{
    if (wh_backup(wh, to, ei))
        return -1;
    printf("backup written to %s\n", to);
    return 0;
}

static int run_verify(wh_env *wh, const char *unused, lt_errinfo *ei)
{
    uint64_t count = 0, bad = 0;
    (void)unused;
    lt_err e = wh_audit_verify(wh, &count, &bad, ei);
    if (e == LT_E_CONFLICT) {
        printf("%llu entries checked; chain broken at seq %llu\n", (unsigned long long)count,
               (unsigned long long)bad);
        return 1;
    }
    if (e)
        return -1;
    printf("%llu entries, chain valid\n", (unsigned long long)count);
    return 0;
}

int cli_backup(int argc, char **argv)
{
    const char *config = NULL, *to = NULL;
    if (parse(argc, argv, &config, &to, true)) {
        fprintf(stderr, "usage: lienthong backup --config FILE --to DIR\n");
        return 2;
    }
    return with_warehouse(config, "backup", run_backup, to);
}

/* An export's first line: the range and where it chains from. */
typedef struct export_head {
    uint64_t from, to, head;
    char prev[65], head_hash[65];
} export_head;

static bool read_export_head(const char *line, export_head *h)
{
    json_t *j = json_loads(line, 0, NULL);
    const char *prev = json_string_value(json_object_get(j, "prev_hash"));
    const json_t *ch = json_object_get(j, "chain_head");
    const char *hh = json_string_value(json_object_get(ch, "hash"));
    bool ok = j && lt_streq(json_string_value(json_object_get(j, "export")), "lienthong-audit") &&
              prev && strlen(prev) == 64 && hh && strlen(hh) == 64;
    if (ok) {
        h->from = (uint64_t)json_integer_value(json_object_get(j, "from_seq"));
        h->to = (uint64_t)json_integer_value(json_object_get(j, "to_seq"));
        h->head = (uint64_t)json_integer_value(json_object_get(ch, "seq"));
        memcpy(h->prev, prev, 65);
        memcpy(h->head_hash, hh, 65);
    }
    json_decref(j);
    return ok && h->from >= 1;
}

/* verify-audit --file: checks an export (GET /v1/audit/export) on its own: every entry chains
 * from the one before, the range is whole, and its end is the head it names when it says so. */
static int verify_export(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return cli_error("verify-audit", "cannot open the export file");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, f);
    export_head h;
    int rc = 0;
    uint64_t seq = 0;
    if (n <= 0 || !read_export_head(line, &h)) {
        rc = cli_error("verify-audit", "not an audit export (its first line is not the header)");
    } else {
        char prev[65], hash[65];
        memcpy(prev, h.prev, 65);
        for (seq = h.from; (n = getline(&line, &cap, f)) > 0; seq++) {
            size_t len = (size_t)n - (line[n - 1] == '\n');
            if (seq > h.to || !wh_audit_check_text(prev, line, len, seq, hash)) {
                printf("entry seq %llu is altered, out of place or foreign: chain broken\n",
                       (unsigned long long)seq);
                rc = 1;
                break;
            }
            memcpy(prev, hash, 65);
        }
        if (!rc && seq != h.to + 1) {
            printf("entries %llu to %llu are missing from the export\n", (unsigned long long)seq,
                   (unsigned long long)h.to);
            rc = 1;
        } else if (!rc && h.to == h.head && strcmp(prev, h.head_hash) != 0) {
            printf("the last entry is not the chain head the export names\n");
            rc = 1;
        } else if (!rc) {
            printf("%llu entries (seq %llu to %llu) verified; chain head at export: seq %llu\n",
                   (unsigned long long)(h.to + 1 - h.from), (unsigned long long)h.from,
                   (unsigned long long)h.to, (unsigned long long)h.head);
        }
    }
    free(line);
    fclose(f);
    return rc;
}

int cli_verify_audit(int argc, char **argv)
{
    const char *config = NULL, *to = NULL;
    if (argc == 3 && strcmp(argv[1], "--file") == 0)
        return verify_export(argv[2]);
    if (parse(argc, argv, &config, &to, false)) {
        fprintf(stderr, "usage: lienthong verify-audit --config FILE\n"
                        "       lienthong verify-audit --file EXPORT.jsonl\n");
        return 2;
    }
    return with_warehouse(config, "verify-audit", run_verify, NULL);
}
