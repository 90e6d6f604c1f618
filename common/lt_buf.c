#include "lt_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lt_buf_init(lt_buf *b, size_t max)
{
    memset(b, 0, sizeof *b);
    b->max = max;
}

void lt_buf_free(lt_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

void lt_buf_reset(lt_buf *b)
{
    b->len = 0;
    b->err = LT_OK;
    if (b->data)
        b->data[0] = '\0';
}

char *lt_buf_detach(lt_buf *b, size_t *len)
{
    if (b->err || !lt_buf_cstr(b)) {
        lt_buf_free(b);
        return NULL;
    }
    char *d = b->data;
    if (len)
        *len = b->len;
    memset(b, 0, sizeof *b);
    return d;
}

static int reserve(lt_buf *b, size_t n)
{
    if (b->err)
        return -1;
    size_t need = b->len + n + 1;
    if (need < n || (b->max && need - 1 > b->max)) {
        b->err = LT_E_TOO_LARGE;
        return -1;
    }
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) {
        b->err = LT_E_NOMEM;
        return -1;
    }
    b->data = d;
    b->cap = cap;
    return 0;
}

void lt_buf_append(lt_buf *b, const void *p, size_t n)
{
    if (reserve(b, n))
        return;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void lt_buf_puts(lt_buf *b, const char *s) { lt_buf_append(b, s, strlen(s)); }
void lt_buf_putc(lt_buf *b, char c) { lt_buf_append(b, &c, 1); }

void lt_buf_printf(lt_buf *b, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n >= 0 && !reserve(b, (size_t)n)) {
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
}

void lt_buf_json_str(lt_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (reserve(b, n + 2))
        return;
    lt_buf_putc(b, '"');
    size_t run = 0; /* copy runs of plain bytes at once */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        lt_buf_append(b, s + run, i - run);
        run = i + 1;
        char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        switch (c) {
        case '"': lt_buf_append(b, "\\\"", 2); break;
        case '\\': lt_buf_append(b, "\\\\", 2); break;
        case '\n': lt_buf_append(b, "\\n", 2); break;
        case '\r': lt_buf_append(b, "\\r", 2); break;
        case '\t': lt_buf_append(b, "\\t", 2); break;
        default: lt_buf_append(b, esc, 6);
        }
    }
    lt_buf_append(b, s + run, n - run);
    lt_buf_putc(b, '"');
}

void lt_buf_be64(lt_buf *b, uint64_t v)
{
    unsigned char k[8];
    for (int i = 7; i >= 0; i--) {
        k[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
    lt_buf_append(b, k, 8);
}

const char *lt_buf_cstr(lt_buf *b)
{
    if (b->err)
        return NULL;
    if (!b->data) {
        if (reserve(b, 0))
            return NULL;
        b->data[0] = '\0';
    }
    return b->data;
}
