/* ad_csv — the CSV decoder (RFC 4180, with what spreadsheets really export).
 *
 * One pass over the body splits it into rows and cells; a cell is kept as (offset, length)
 * into the body, and only cells holding "" escapes or text after a closing quote are decoded,
 * when a JSON value is asked for. The first non-blank row is the header: its names (trimmed)
 * are the field paths of a csv mapping, found through a small hash table.
 *
 * Rules: a UTF-8 BOM is skipped; rows end with LF, CRLF or CR; quoted cells may hold
 * delimiters, line breaks and "" escapes; a row whose cells are all empty (a blank line, or
 * ";;;" from a blank spreadsheet row) is skipped. Without a delimiter in the mapping, ';' is
 * used when the header line has more ';' than ',' outside quotes, ',' otherwise.
 * A row with another number of cells than the header, or an unterminated quoted field at the
 * end, is a record error (record_error) and its raw value is the array of its cells, since
 * they cannot be paired with the header; a well-formed row's raw value is {header: cell}.
 * Rows are numbered by the line they start on (the header is on line 1 unless blank lines
 * precede it), which is the spreadsheet row when no cell holds a line break.
 *
 * Ownership: the document borrows the body given to open (it must outlive close); open_raw
 * copies what it needs. Row handles live until close.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_int.h"
#include "lt_str.h"

#define CELL_COMPLEX 0x80000000u /* len flag: text starts with a quote and must be decoded */
#define CELL_LEN(c) ((c).len & ~CELL_COMPLEX)
#define SHOW_MAX 60    /* bytes of a name quoted in an error */
#define STACK_CELL 256 /* decoded cells up to this size need no heap buffer */

typedef struct csv_cell {
    uint32_t off, len; /* span in the text; len carries CELL_COMPLEX */
} csv_cell;

enum { ROW_OK, ROW_UNTERMINATED, ROW_NO_HEADER };

typedef struct csv_doc csv_doc;

typedef struct csv_row {
    const csv_doc *doc; /* get() receives only the row */
    uint32_t first, ncells, line, state;
} csv_row;

typedef struct csv_name {
    const char *s; /* into names_text */
    uint32_t len, hash;
} csv_name;

struct csv_doc {
    const char *text; /* the body (borrowed) or own */
    size_t len;
    char *own; /* open_raw: the keys and cells copied into one block */
    csv_cell *cells;
    size_t ncells, cap_cells;
    csv_row *rows;
    size_t nrows, cap_rows;
    csv_name *names; /* header columns in order; NULL when there is no header */
    size_t nnames;
    char *names_text;
    uint32_t *slots; /* open addressing: column + 1, 0 = empty */
    uint32_t mask;
};

/* A compiled field path: a column name, trimmed. */
typedef struct csv_path {
    uint32_t len, hash;
    char name[];
} csv_path;

typedef struct csv_scan {
    const char *p;
    size_t len, pos;
    uint32_t line;
    char delim;
} csv_scan;

enum { END_DELIM, END_ROW, END_INPUT, END_UNTERMINATED };

/* ---- small helpers ---- */

static uint32_t name_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a: header names are short, any spread is enough */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && is_blank((*s)[*n - 1]))
        (*n)--;
    while (*n > 0 && is_blank(**s))
        (*s)++, (*n)--;
}

/* How many bytes of s to quote in an error so the text stays valid UTF-8. */
static int show_len(const char *s, size_t n)
{
    if (n <= SHOW_MAX)
        return (int)n;
    size_t k = SHOW_MAX;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--; /* s[k] is the lead byte of the character that did not fit */
    return (int)k;
}

/* Decodes a complex cell (starting at its opening quote) into out, which holds n bytes:
 * "" is one quote, the closing quote ends the quoted part, what follows is taken as is. */
static size_t cell_decode(const char *s, size_t n, char *out)
{
    size_t w = 0, i = 1;
    while (i < n) {
        if (s[i] != '"') {
            out[w++] = s[i++];
        } else if (i + 1 < n && s[i + 1] == '"') {
            out[w++] = '"';
            i += 2;
        } else {
            i++;
            break;
        }
    }
    while (i < n)
        out[w++] = s[i++];
    return w;
}

/* The text of a cell as a new JSON string (the body was checked to be UTF-8 and a cell is
 * cut at ASCII bytes only, so no check is needed). */
static json_t *cell_json(const csv_doc *d, csv_cell c)
{
    const char *s = d->text + c.off;
    size_t n = CELL_LEN(c);
    if (!(c.len & CELL_COMPLEX))
        return json_stringn_nocheck(s, n);
    char stack[STACK_CELL] = {0}; /* zeroed only to quiet a -Wmaybe-uninitialized false alarm */
    char *buf = n <= sizeof stack ? stack : malloc(n);
    if (!buf)
        return NULL;
    size_t w = cell_decode(s, n, buf);
    json_t *v = json_stringn_nocheck(buf, w);
    if (buf != stack)
        free(buf);
    return v;
}

/* ---- growing arrays ---- */

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    if (n > SIZE_MAX / size)
        return -1;
    void *q = realloc(*p, n * size);
    if (!q)
        return -1;
    *p = q;
    *cap = n;
    return 0;
}

static int push_cell(csv_doc *d, csv_cell c)
{
    if (d->ncells == d->cap_cells &&
        grow((void **)&d->cells, &d->cap_cells, d->ncells + 1, sizeof *d->cells))
        return -1;
    d->cells[d->ncells++] = c;
    return 0;
}

static int push_row(csv_doc *d, const csv_row *r)
{
    if (d->nrows == d->cap_rows &&
        grow((void **)&d->rows, &d->cap_rows, d->nrows + 1, sizeof *d->rows))
        return -1;
    d->rows[d->nrows++] = *r;
    return 0;
}

/* ---- the scanner ---- */

static int is_end(const csv_scan *s, char c)
{
    return c == s->delim || c == '\n' || c == '\r';
}

/* Line breaks inside p[a..b) (a quoted cell): LF, CRLF and a lone CR each count once. */
static uint32_t count_breaks(const char *p, size_t a, size_t b)
{
    uint32_t n = 0;
    for (size_t i = a; i < b; i++)
        n += p[i] == '\n' || (p[i] == '\r' && (i + 1 >= b || p[i + 1] != '\n'));
    return n;
}

/* Consumes what ends a cell at s->pos and says what it was. */
static int cell_end(csv_scan *s)
{
    if (s->pos >= s->len)
        return END_INPUT;
    char c = s->p[s->pos++];
    if (c == s->delim)
        return END_DELIM;
    if (c == '\r' && s->pos < s->len && s->p[s->pos] == '\n')
        s->pos++;
    s->line++;
    return END_ROW;
}

static size_t scan_plain(const csv_scan *s, size_t i)
{
    while (i < s->len && !is_end(s, s->p[i]))
        i++;
    return i;
}

/* A cell starting with a quote. A plain "text" is kept as the span inside the quotes; ""
 * escapes or text after the closing quote make it complex (decoded on use). */
static int scan_quoted(csv_scan *s, csv_cell *cell)
{
    size_t start = s->pos, i = s->pos + 1;
    int complex = 0;
    for (;;) {
        const char *q = memchr(s->p + i, '"', s->len - i);
        size_t qi = q ? (size_t)(q - s->p) : s->len;
        s->line += count_breaks(s->p, i, qi);
        if (!q) {
            *cell = (csv_cell){(uint32_t)start, (uint32_t)(s->len - start) | CELL_COMPLEX};
            s->pos = s->len;
            return END_UNTERMINATED;
        }
        i = qi + 1;
        if (i < s->len && s->p[i] == '"') {
            complex = 1;
            i++;
            continue;
        }
        break;
    }
    if (i < s->len && !is_end(s, s->p[i])) {
        complex = 1; /* "ab"c: lenient like most readers, the rest is literal text */
        i = scan_plain(s, i);
    }
    if (complex)
        *cell = (csv_cell){(uint32_t)start, (uint32_t)(i - start) | CELL_COMPLEX};
    else
        *cell = (csv_cell){(uint32_t)start + 1, (uint32_t)(i - start - 2)};
    s->pos = i;
    return cell_end(s);
}

/* Scans one row into d->cells. Returns 1 with *r set, 0 for a blank row (nothing kept), -1
 * when out of memory. */
static int scan_row(csv_doc *d, csv_scan *s, csv_row *r)
{
    int end, blank = 1;
    r->doc = d;
    r->first = (uint32_t)d->ncells;
    r->line = s->line;
    do {
        csv_cell c;
        if (s->pos < s->len && s->p[s->pos] == '"') {
            end = scan_quoted(s, &c);
        } else {
            size_t i = scan_plain(s, s->pos);
            c = (csv_cell){(uint32_t)s->pos, (uint32_t)(i - s->pos)};
            s->pos = i;
            end = cell_end(s);
        }
        if (push_cell(d, c))
            return -1;
        blank &= CELL_LEN(c) == 0;
    } while (end == END_DELIM);
    r->ncells = (uint32_t)d->ncells - r->first;
    r->state = end == END_UNTERMINATED ? ROW_UNTERMINATED : ROW_OK;
    if (blank)
        d->ncells = r->first;
    return !blank;
}

/* ';' when the first non-empty line has more of them than ',' outside quotes. */
static char sniff(const char *p, size_t len)
{
    size_t i = 0, semi = 0, comma = 0;
    int quoted = 0;
    while (i < len && (p[i] == '\n' || p[i] == '\r'))
        i++;
    for (; i < len && (quoted || (p[i] != '\n' && p[i] != '\r')); i++) {
        if (p[i] == '"')
            quoted = !quoted;
        else if (!quoted)
            semi += p[i] == ';', comma += p[i] == ',';
    }
    return semi > comma ? ';' : ',';
}

/* ---- the header ---- */

static long header_find(const csv_doc *d, const char *s, size_t n, uint32_t h)
{
    if (!d->slots)
        return -1;
    for (uint32_t i = h & d->mask; d->slots[i]; i = (i + 1) & d->mask) {
        const csv_name *c = &d->names[d->slots[i] - 1];
        if (c->hash == h && c->len == n && memcmp(c->s, s, n) == 0)
            return (long)(d->slots[i] - 1);
    }
    return -1;
}

static lt_err header_alloc(csv_doc *d, const csv_row *r, lt_errinfo *ei)
{
    size_t text = 0, slots = 8;
    for (uint32_t k = 0; k < r->ncells; k++)
        text += CELL_LEN(d->cells[r->first + k]);
    while (slots < 2 * (size_t)r->ncells)
        slots *= 2;
    d->names = calloc(r->ncells ? r->ncells : 1, sizeof *d->names);
    d->names_text = malloc(text + 1);
    d->slots = calloc(slots, sizeof *d->slots);
    if (!d->names || !d->names_text || !d->slots)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    d->mask = (uint32_t)(slots - 1);
    return LT_OK;
}

/* Names the header's columns: decoded, trimmed, each non-empty and distinct. */
static lt_err header_build(csv_doc *d, const csv_row *r, lt_errinfo *ei)
{
    if (r->state == ROW_UNTERMINATED)
        return lt_fail(ei, LT_E_INVALID,
                       "the CSV header (line %u) has an unterminated quoted field", r->line);
    lt_err e = header_alloc(d, r, ei);
    char *w = d->names_text;
    for (uint32_t k = 0; e == LT_OK && k < r->ncells; k++) {
        csv_cell c = d->cells[r->first + k];
        size_t n = CELL_LEN(c);
        if (c.len & CELL_COMPLEX)
            n = cell_decode(d->text + c.off, n, w);
        else
            memcpy(w, d->text + c.off, n);
        const char *s = w;
        w += n;
        trim(&s, &n);
        if (n == 0)
            return lt_fail(ei, LT_E_INVALID, "the CSV header's column %u has no name", k + 1);
        uint32_t h = name_hash(s, n);
        long dup = header_find(d, s, n, h);
        if (dup >= 0)
            return lt_fail(ei, LT_E_INVALID,
                           "the CSV header names '%.*s' twice (columns %ld and %u)", show_len(s, n),
                           s, dup + 1, k + 1);
        d->names[k] = (csv_name){s, (uint32_t)n, h};
        d->nnames = k + 1;
        uint32_t i = h & d->mask;
        while (d->slots[i])
            i = (i + 1) & d->mask;
        d->slots[i] = k + 1;
    }
    return e;
}

/* ---- the decoder ---- */

static lt_err csv_compile_path(const char *text, size_t len, int is_records, const ad_opts *o,
                               const char *where, void **out, lt_errinfo *ei)
{
    (void)o;
    *out = NULL;
    if (is_records)
        return lt_fail(ei, LT_E_INVALID,
                       "%s: csv mappings take no records selector (every row is a record)", where);
    trim(&text, &len);
    if (len == 0 || len > UINT32_MAX)
        return lt_fail(ei, LT_E_INVALID, "%s: a csv path is a column header, not empty", where);
    csv_path *p = malloc(sizeof *p + len);
    if (!p)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    p->len = (uint32_t)len;
    p->hash = name_hash(text, len);
    memcpy(p->name, text, len);
    *out = p;
    return LT_OK;
}

static void csv_free_path(void *path)
{
    free(path);
}

static void csv_close(void *doc)
{
    csv_doc *d = doc;
    if (!d)
        return;
    free(d->own);
    free(d->cells);
    free(d->rows);
    free(d->names);
    free(d->names_text);
    free(d->slots);
    free(d);
}

/* Splits d->text into the header and the rows. */
static lt_err csv_parse(csv_doc *d, size_t start, char delim, lt_errinfo *ei)
{
    csv_scan s = {d->text, d->len, start, 1, delim};
    /* A first guess from the size saves most regrowth; push_* grow further when needed. */
    (void)grow((void **)&d->cells, &d->cap_cells, d->len / 16 + 16, sizeof *d->cells);
    (void)grow((void **)&d->rows, &d->cap_rows, d->len / 64 + 16, sizeof *d->rows);
    while (s.pos < s.len) {
        csv_row r;
        int rc = scan_row(d, &s, &r);
        lt_err e = LT_OK;
        if (rc < 0 || (rc > 0 && d->names && push_row(d, &r)))
            return lt_fail(ei, LT_E_NOMEM, "out of memory reading CSV row %u", r.line);
        if (rc > 0 && !d->names && (e = header_build(d, &r, ei)) != LT_OK)
            return e;
    }
    return LT_OK;
}

static lt_err csv_open(const char *body, size_t len, const ad_opts *o, void **doc, lt_errinfo *ei)
{
    *doc = NULL;
    if (len >= CELL_COMPLEX) /* offsets and lengths are 31-bit */
        return lt_fail(ei, LT_E_TOO_LARGE, "a CSV payload is limited to 2 GiB");
    if (!lt_utf8_valid(body, len))
        return lt_fail(ei, LT_E_BAD_UTF8, "the CSV payload is not valid UTF-8");
    csv_doc *d = calloc(1, sizeof *d);
    if (!d)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    d->text = body;
    d->len = len;
    size_t start = len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    char delim = o && o->delimiter ? o->delimiter : sniff(body + start, len - start);
    lt_err e = csv_parse(d, start, delim, ei);
    if (e != LT_OK) {
        csv_close(d);
        return e;
    }
    *doc = d;
    return LT_OK;
}

static lt_err csv_select(void *doc, const void *records, const char *shown, size_t *count,
                         lt_errinfo *ei)
{
    (void)records, (void)shown, (void)ei; /* compile_path never makes a records selector */
    *count = ((csv_doc *)doc)->nrows;
    return LT_OK;
}

static lt_err csv_check_path(void *doc, const void *path, const char *where, lt_errinfo *ei)
{
    const csv_doc *d = doc;
    const csv_path *p = path;
    if (!d->names || !p || header_find(d, p->name, p->len, p->hash) >= 0)
        return LT_OK; /* no header at all (empty payload, a malformed row retried): no rows */
    return lt_fail(ei, LT_E_INVALID, "%s.path: no column '%.*s' in the CSV header", where,
                   show_len(p->name, p->len), p->name);
}

/* A well-formed row as {header: cell}; a malformed one as [cell, ...]. New reference. */
static json_t *row_json(const csv_row *r, int as_object)
{
    const csv_doc *d = r->doc;
    json_t *v = as_object ? json_object() : json_array();
    for (uint32_t k = 0; v && k < r->ncells; k++) {
        json_t *cell = cell_json(d, d->cells[r->first + k]);
        int rc = as_object ? json_object_setn_new_nocheck(v, d->names[k].s, d->names[k].len, cell)
                           : json_array_append_new(v, cell);
        if (rc) {
            json_decref(v);
            return NULL;
        }
    }
    return v;
}

static int row_ok(const csv_row *r)
{
    return r->state == ROW_OK && r->ncells == r->doc->nnames;
}

static const void *csv_record(void *doc, size_t i, json_t **raw)
{
    const csv_row *r = &((csv_doc *)doc)->rows[i];
    *raw = row_json(r, row_ok(r));
    return r;
}

static json_t *csv_get(const void *rec, const void *path)
{
    const csv_row *r = rec;
    const csv_path *p = path;
    if (!p)
        return row_json(r, row_ok(r));
    long col = header_find(r->doc, p->name, p->len, p->hash);
    if (col < 0 || (uint32_t)col >= r->ncells)
        return NULL;
    csv_cell c = r->doc->cells[r->first + (uint32_t)col];
    return CELL_LEN(c) == 0 ? NULL : cell_json(r->doc, c); /* empty: `default` applies */
}

static const char *csv_record_error(const void *rec, char *buf, size_t size)
{
    const csv_row *r = rec;
    if (r->state == ROW_UNTERMINATED)
        snprintf(buf, size, "row %u: unterminated quoted field", r->line);
    else if (r->state == ROW_NO_HEADER)
        snprintf(buf, size,
                 "a CSV row of %u field%s that did not match its header cannot be "
                 "mapped again: correct the source and send it again",
                 r->ncells, r->ncells == 1 ? "" : "s");
    else if (r->ncells != r->doc->nnames)
        snprintf(buf, size, "row %u has %u field%s, the header has %zu", r->line, r->ncells,
                 r->ncells == 1 ? "" : "s", r->doc->nnames);
    else
        return NULL;
    return buf;
}

/* ---- re-opening a quarantined row ---- */

/* Total text of raw's keys (when an object) and values, or -1 when a value is not a string
 * (raw did not come from record()). */
static long long raw_size(const json_t *raw)
{
    long long total = 0;
    const char *key;
    size_t klen, k;
    json_t *v;
    json_object_keylen_foreach((json_t *)raw, key, klen, v)
    {
        if (!json_is_string(v))
            return -1;
        total += (long long)(klen + json_string_length(v));
    }
    json_array_foreach(raw, k, v)
    {
        if (!json_is_string(v))
            return -1;
        total += (long long)json_string_length(v);
    }
    return total;
}

/* Appends s[0..n) to d->own at *w as one more cell. */
static int own_cell(csv_doc *d, char **w, const char *s, size_t n)
{
    memcpy(*w, s, n);
    csv_cell c = {(uint32_t)(*w - d->own), (uint32_t)n};
    *w += n;
    return push_cell(d, c);
}

/* Lays raw out in d->own as cells: an object's keys (the header row) then its values; an
 * array's values (a row that never matched its header). */
static lt_err raw_cells(csv_doc *d, const json_t *raw, size_t total, lt_errinfo *ei)
{
    const char *key;
    size_t klen, k;
    json_t *v;
    int bad = 0;
    if (!(d->own = malloc(total + 1)))
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    d->text = d->own;
    char *w = d->own;
    json_object_keylen_foreach((json_t *)raw, key, klen, v) bad |= own_cell(d, &w, key, klen);
    json_object_keylen_foreach((json_t *)raw, key, klen, v) bad |=
        own_cell(d, &w, json_string_value(v), json_string_length(v));
    json_array_foreach(raw, k, v) bad |=
        own_cell(d, &w, json_string_value(v), json_string_length(v));
    d->len = (size_t)(w - d->own);
    return bad ? lt_fail(ei, LT_E_NOMEM, "out of memory") : LT_OK;
}

static lt_err raw_rows(csv_doc *d, const json_t *raw, lt_errinfo *ei)
{
    uint32_t n = (uint32_t)(json_is_object(raw) ? json_object_size(raw) : json_array_size(raw));
    csv_row header = {d, 0, n, 0, ROW_OK}, row = {d, n, n, 0, ROW_OK};
    if (json_is_array(raw))
        row = (csv_row){d, 0, n, 0, ROW_NO_HEADER};
    lt_err e = json_is_object(raw) ? header_build(d, &header, ei) : LT_OK;
    if (e == LT_OK && push_row(d, &row))
        e = lt_fail(ei, LT_E_NOMEM, "out of memory");
    return e;
}

static lt_err csv_open_raw(const json_t *raw, const ad_opts *o, void **doc, lt_errinfo *ei)
{
    (void)o;
    *doc = NULL;
    long long total = json_is_object(raw) || json_is_array(raw) ? raw_size(raw) : -1;
    if (total < 0)
        return lt_fail(ei, LT_E_INVALID,
                       "a quarantined CSV record is an object of column "
                       "header to cell text (or an array of cells)");
    if (total >= (long long)CELL_COMPLEX)
        return lt_fail(ei, LT_E_TOO_LARGE, "a CSV record is limited to 2 GiB");
    csv_doc *d = calloc(1, sizeof *d);
    if (!d)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    lt_err e = raw_cells(d, raw, (size_t)total, ei);
    if (e == LT_OK)
        e = raw_rows(d, raw, ei);
    if (e != LT_OK) {
        csv_close(d);
        return e;
    }
    *doc = d;
    return LT_OK;
}

const ad_decoder ad_csv_decoder = {
    .compile_path = csv_compile_path,
    .free_path = csv_free_path,
    .open = csv_open,
    .select = csv_select,
    .record = csv_record,
    .get = csv_get,
    .close = csv_close,
    .open_raw = csv_open_raw,
    .check_path = csv_check_path,
    .record_error = csv_record_error,
};
