/* Fuzz target: the configuration loader (lt_config_load) on arbitrary file contents. The
 * input is written to a fresh temp file, since the loader reads a path. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lt_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/lt-fuzz-config-" "XX" "XX" "XX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    close(fd);
    lt_config *c = NULL;
    lt_errinfo ei = {0};
    lt_err e = lt_config_load(path, &c, &ei);
    if (e == LT_OK && !c)
        abort(); /* success must give a config */
    if (e != LT_OK && (c || (e != LT_E_CONFIG && e != LT_E_NOMEM) || !ei.detail[0]))
        abort(); /* a failure is a config error with a message, and leaves nothing behind */
    lt_config_free(c);
    lt_errinfo_clear(&ei);
    unlink(path);
    return 0;
}
