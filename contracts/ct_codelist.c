/* ct_codelist — checking code-list documents {id, title, description?, codes: [...]}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct_contract.h"
#include "ct_int.h"
#include "lt_json.h"

#define CODE_MAX_CHARS 64

static const char *const list_keys[] = {"id", "title", "description", "codes", NULL};
static const char *const code_keys[] = {"code", "name", "parent", "description", NULL};

/* Codes become key parts of records, so the key separator and control characters are out. */
static bool code_text_ok(const char *s, size_t n)
{
    if (n == 0 || strlen(s) != n || ct_utf8_chars(s, n) > CODE_MAX_CHARS)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '~' || ch < 0x20 || ch == 0x7f)
            return false;
    }
    return true;
}

static lt_err check_entry(const json_t *e, size_t i, json_t *index, lt_errinfo *ei)
{
    char where[48];
    snprintf(where, sizeof where, "codes[%zu]", i);
    lt_err err = lt_json_check_keys(e, code_keys, where, ei);
    if (err)
        return err;
    const json_t *code = json_object_get(e, "code");
    const char *name = lt_json_str(e, "name");
    const json_t *parent = json_object_get(e, "parent");
    const json_t *desc = json_object_get(e, "description");
    if (!json_is_string(code) || !code_text_ok(json_string_value(code), json_string_length(code)))
        return lt_fail(ei, LT_E_INVALID,
                       "%s: 'code' must be a non-empty string of at most %d characters, "
                       "without '~' or control characters",
                       where, CODE_MAX_CHARS);
    if (!name || !*name)
        return lt_fail(ei, LT_E_INVALID, "%s: 'name' is required (a string)", where);
    if ((parent && !json_is_string(parent)) || (desc && !json_is_string(desc)))
        return lt_fail(ei, LT_E_INVALID, "%s: 'parent' and 'description' must be strings", where);
    const char *c = json_string_value(code);
    if (json_object_get(index, c))
        return lt_fail(ei, LT_E_INVALID, "%s: duplicate code '%s'", where, c);
    if (json_object_set_new(index, c, json_integer((json_int_t)i)))
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    return LT_OK;
}

/* Parent index of code i, or -1 for a root; index maps code -> position. */
static long parent_of(const json_t *codes, const json_t *index, size_t i)
{
    const char *p = lt_json_str(json_array_get(codes, i), "parent");
    const json_t *pi = p ? json_object_get(index, p) : NULL;
    return pi ? (long)json_integer_value(pi) : -1;
}

/* Parents must exist and the parent relation must be a forest (no cycles). */
static lt_err check_parents(const json_t *codes, const json_t *index, lt_errinfo *ei)
{
    size_t n = json_array_size(codes);
    for (size_t i = 0; i < n; i++) {
        const char *p = lt_json_str(json_array_get(codes, i), "parent");
        if (p && !json_object_get(index, p))
            return lt_fail(ei, LT_E_INVALID, "codes[%zu]: parent '%.64s' is not in the list", i, p);
    }
    /* state: 0 unvisited, 1 on the current walk, 2 known to reach a root */
    unsigned char *state = calloc(n ? n : 1, 1);
    if (!state)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    lt_err err = LT_OK;
    for (size_t i = 0; i < n && !err; i++) {
        long j = (long)i;
        while (j >= 0 && state[j] == 0) {
            state[j] = 1;
            j = parent_of(codes, index, (size_t)j);
        }
        if (j >= 0 && state[j] == 1)
            err = lt_fail(ei, LT_E_INVALID, "codes[%zu]: parent chain forms a cycle", i);
        for (j = (long)i; j >= 0 && state[j] == 1; j = parent_of(codes, index, (size_t)j))
            state[j] = 2;
    }
    free(state);
    return err;
}

lt_err ct_codelist_check(const json_t *doc, const char *expect_id, lt_errinfo *ei)
{
    lt_err err = lt_json_check_keys(doc, list_keys, "codelist", ei);
    if (err)
        return err;
    const char *id = lt_json_str(doc, "id"), *title = lt_json_str(doc, "title");
    const json_t *desc = json_object_get(doc, "description");
    const json_t *codes = json_object_get(doc, "codes");
    if (!id || !ct_id_valid(id))
        return lt_fail(ei, LT_E_INVALID, "codelist: 'id' must match [a-z0-9][a-z0-9._-]{0,127}");
    if (expect_id && strcmp(id, expect_id) != 0)
        return lt_fail(ei, LT_E_INVALID, "codelist: id '%s' does not match '%.128s'", id,
                       expect_id);
    if (!title || !*title)
        return lt_fail(ei, LT_E_INVALID, "codelist: 'title' is required (a string)");
    if (desc && !json_is_string(desc))
        return lt_fail(ei, LT_E_INVALID, "codelist: 'description' must be a string");
    if (!json_is_array(codes))
        return lt_fail(ei, LT_E_INVALID, "codelist: 'codes' must be an array");
    json_t *index = json_object();
    if (!index)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    for (size_t i = 0; i < json_array_size(codes) && !err; i++)
        err = check_entry(json_array_get(codes, i), i, index, ei);
    if (!err)
        err = check_parents(codes, index, ei);
    json_decref(index);
    return err;
}
