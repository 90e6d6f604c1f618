/* ad_format — the format table: names, media types and the decoder behind each row.
 * A format becomes available by giving its row a decoder and setting implemented = 1. */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "ad_int.h"

static const char *const json_media[] = {"application/json", NULL};
static const char *const xml_media[] = {"application/xml", "text/xml", NULL};
static const char *const soap_media[] = {"application/soap+xml", NULL};
static const char *const csv_media[] = {"text/csv", NULL};

static const ad_format_row formats[] = {
    {{"json", json_media, 1}, &ad_json_decoder},
    {{"xml", xml_media, 1}, &ad_xml_decoder},
    {{"soap", soap_media, 1}, &ad_soap_decoder},
    {{"csv", csv_media, 1}, &ad_csv_decoder},
};

#define NFORMATS (sizeof formats / sizeof formats[0])

const ad_format *ad_format_by_name(const char *name)
{
    for (size_t i = 0; name && i < NFORMATS; i++)
        if (strcmp(formats[i].pub.name, name) == 0)
            return &formats[i].pub;
    return NULL;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

const ad_format *ad_format_by_media(const char *content_type)
{
    if (!content_type)
        return NULL;
    /* The media type is the text before any ';' (parameters), without surrounding blanks. */
    const char *s = content_type;
    while (is_space(*s))
        s++;
    size_t n = strcspn(s, ";");
    while (n > 0 && is_space(s[n - 1]))
        n--;
    for (size_t i = 0; i < NFORMATS; i++)
        for (const char *const *m = formats[i].pub.media_types; *m; m++)
            if (strlen(*m) == n && strncasecmp(*m, s, n) == 0)
                return &formats[i].pub;
    return NULL;
}

const ad_decoder *ad_format_decoder(const ad_format *f)
{
    /* Every ad_format handed out is the first member of a row of this table. */
    const ad_format_row *row = (const ad_format_row *)f;
    return f && f->implemented ? row->dec : NULL;
}
