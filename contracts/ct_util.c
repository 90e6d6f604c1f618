/* ct_util — small helpers shared by the contracts module (see ct_int.h). */
#include <string.h>

#include "ct_int.h"

bool ct_id_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  (i > 0 && (c == '.' || c == '_' || c == '-'));
        if (!ok)
            return false;
    }
    return true;
}

size_t ct_utf8_chars(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += ((unsigned char)s[i] & 0xC0) != 0x80;
    return count;
}

void ct_quote_text(const char *s, size_t n, char *out, size_t size)
{
    if (n < size) {
        memcpy(out, s, n);
        out[n] = '\0';
        return;
    }
    size_t cut = size - 4; /* room for "..." and the NUL */
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut--; /* back up to the start of a character */
    memcpy(out, s, cut);
    memcpy(out + cut, "...", 4);
}
