/* lt_config_int — the config loader's internals shared by its files (lt_config.c, the reader
 * of the whole file and most keys; lt_config_tls.c, the `tls` object). Never included from
 * outside common/.
 *
 * A section of the file is a table of lt_cfg_field rows; lt_cfg_walk checks each member's
 * name and type against the table and calls the row's handler, which fails through
 * lt_cfg_fail_at ("FILE:LINE:COL: message", LT_E_CONFIG). Handlers fill x->c.
 */
#ifndef LT_CONFIG_INT_H
#define LT_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "lt_config.h"
#include "lt_json.h"

/* Key and certificate files are a few KB; the cap keeps a mistyped path (a disk image) from
 * being slurped. */
#define LT_CFG_FILE_MAX (1u << 20)
#define LT_CFG_BOOL 100 /* pseudo json_type: true or false */

typedef struct lt_cfg_ctx {
    const char *file; /* the config path as given, for messages */
    char *text;       /* source text, read lazily for error positions */
    size_t len;
    bool text_tried;
    lt_config *c;
    lt_key_conf *key; /* the key object being read */
    const char *secret_file, *public_file, *private_file;
    lt_errinfo *ei;
} lt_cfg_ctx;

typedef lt_err (*lt_cfg_field_fn)(lt_cfg_ctx *x, const json_t *v, const char *const *path,
                                  size_t n);

typedef struct lt_cfg_field {
    const char *key;
    int type; /* json_type or LT_CFG_BOOL */
    lt_cfg_field_fn fn;
} lt_cfg_field;

/* Reads a whole regular file into a new NUL-terminated buffer (free()); NULL with errno set
 * (EFBIG over max, EINVAL when not a regular file). */
char *lt_cfg_read_file(const char *path, size_t max, size_t *len);
/* "auth.keys[0].kid" from a JSON path, into buf; returns buf. */
const char *lt_cfg_path_str(const char *const *path, size_t n, char *buf, size_t size);
/* Fails LT_E_CONFIG with "FILE:LINE:COL: message", the position being that of path. */
lt_err lt_cfg_fail_at(lt_cfg_ctx *x, const char *const *path, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Checks every member of obj (at path[0..n)) against fields, then calls each handler. */
lt_err lt_cfg_walk(lt_cfg_ctx *x, const json_t *obj, const char *const *path, size_t n,
                   const lt_cfg_field *fields);
/* LT_E_CONFIG when the string v is empty. */
lt_err lt_cfg_nonempty(lt_cfg_ctx *x, const json_t *v, const char *const *path, size_t n);
/* *dst = v resolved against the config folder (new; the old value is freed). */
lt_err lt_cfg_set_path(lt_cfg_ctx *x, const json_t *v, const char *const *path, size_t n,
                       char **dst);

/* lt_config_tls.c: the `tls` object (handler of the top-level key). */
lt_err lt_cfg_tls(lt_cfg_ctx *x, const json_t *v, const char *const *path, size_t n);
/* Frees c->tls. */
void lt_cfg_tls_free(lt_config *c);

#endif
