/* Fuzz target: request templates through gw_template_fill with fixed parameters, both
 * escapings. On success the output must be a string; XML output must hold no raw '<' that
 * came from a parameter. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gw_upstream.h"

static const char PARAMS[] =
    "{\"a\": \"x<&>\\\"'\", \"n\": 42, \"r\": -1.25e-3, \"b\": true, \"f\": false,"
    " \"u\": \"H\xc3\xa0 N\xe1\xbb\x99i\", \"e\": \"\", \"z\": null, \"o\": {}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *tmpl = malloc(size + 1);
    json_t *params = json_loads(PARAMS, 0, NULL);
    if (tmpl && params) {
        memcpy(tmpl, data, size);
        tmpl[size] = '\0'; /* templates are C strings: an embedded NUL ends them */
        for (int esc = GW_ESC_XML; esc <= GW_ESC_URL; esc++) {
            char *out = NULL;
            lt_errinfo ei = {0};
            lt_err e = gw_template_fill(tmpl, params, (gw_escape)esc, &out, &ei);
            if ((e == LT_OK) != (out != NULL))
                __builtin_trap();
            /* a template without '<' gives XML without '<': parameters are escaped */
            if (out && esc == GW_ESC_XML && !strchr(tmpl, '<') && strchr(out, '<'))
                __builtin_trap();
            free(out);
            lt_errinfo_clear(&ei);
        }
    }
    json_decref(params);
    free(tmpl);
    return 0;
}
