/* The working-day calendar (Vietnam time, weekends and configured holidays skipped) and the
 * planned-maintenance rule built on it (Decree 47 Art. 43: announced 7 working days ahead). */
#include "rg_share_fixture.h"

#define DAY_US 86400000000LL

static int64_t D(const char *date) /* "YYYY-MM-DD" → days since epoch */
{
    int64_t d = 0;
    if (lt_date_parse(date, strlen(date), &d)) {
        fprintf(stderr, "bad test date %s\n", date);
        abort();
    }
    return d;
}

static void test_working_days(void)
{
    static const struct {
        const char *start;
        int n;
        bool tet; /* with the Tết 2026 holidays (16-20 Feb) configured */
        const char *want;
    } rows[] = {
        /* Friday 09:00 Vietnam + 5: the next Friday, end of day Vietnam time. */
        {"2026-01-09T02:00:00Z", 5, false, "2026-01-16T16:59:59.999999Z"},
        /* 18:00 UTC Friday is already Saturday in Vietnam: the count starts on Monday. */
        {"2026-01-09T18:00:00Z", 5, false, "2026-01-16T16:59:59.999999Z"},
        /* 16:59 UTC Friday is still Friday 23:59 in Vietnam. */
        {"2026-01-09T16:59:00Z", 1, false, "2026-01-12T16:59:59.999999Z"},
        {"2026-01-11T05:00:00Z", 1, false, "2026-01-12T16:59:59.999999Z"}, /* Sunday */
        {"2026-01-09T02:00:00Z", 0, false, "2026-01-09T16:59:59.999999Z"},
        /* Friday before Tết: the whole holiday week is skipped. */
        {"2026-02-13T02:00:00Z", 5, true, "2026-02-27T16:59:59.999999Z"},
        {"2026-02-13T02:00:00Z", 5, false, "2026-02-20T16:59:59.999999Z"},
        {"2026-02-12T02:00:00Z", 1, true, "2026-02-13T16:59:59.999999Z"},
        {"2026-02-17T02:00:00Z", 1, true, "2026-02-23T16:59:59.999999Z"}, /* on a holiday */
        {"2026-02-13T02:00:00Z", 7, true, "2026-03-03T16:59:59.999999Z"},
    };
    const int64_t tet[] = {D("2026-02-16"), D("2026-02-17"), D("2026-02-18"), D("2026-02-19"),
                           D("2026-02-20")};
    fx f;
    if (fx_open(&f)) {
        CHECK(0);
        return;
    }
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        CHECK(rg_set_holidays(f.rg, tet, rows[i].tet ? 5 : 0) == LT_OK);
        char got[32];
        lt_time_format(rg_working_days_after(f.rg, T(rows[i].start), rows[i].n), true, got);
        CHECK_MSG(strcmp(got, rows[i].want) == 0, "row %zu: %s want %s", i, got, rows[i].want);
    }
    fx_close(&f);
}

/* A maintenance body; effective_at and until as µs. */
static json_t *maint_body(int64_t from, int64_t until, const char *reason)
{
    char a[32], b[32];
    lt_time_format(from, from % 1000000 != 0, a);
    lt_time_format(until, until % 1000000 != 0, b);
    json_t *body =
        json_pack("{s:s, s:s, s:s}", "status", "maintenance", "effective_at", a, "until", b);
    if (reason)
        json_object_set_new(body, "reason", json_string(reason));
    return body;
}

static lt_err set_status(fx *f, const char *id, json_t *body, lt_errinfo *ei)
{
    json_t *out = NULL;
    lt_err e = rg_service_set_status(f->rg, id, body, &out, ei);
    json_decref(body);
    json_decref(out);
    return e;
}

static void test_maintenance(void)
{
    fx f;
    lt_errinfo ei = {0};
    rg_service *s = NULL;
    if (sx_open(&f)) {
        CHECK(0);
        return;
    }
    /* The earliest start: 00:00 Vietnam time of the 8th working day after today. */
    int64_t now = lt_now_us();
    int64_t earliest = rg_working_days_after(f.rg, now, 8) - DAY_US + 1;
    int64_t until = earliest + 4 * 3600 * 1000000LL;
    static const struct {
        int64_t from_off, until_off; /* µs added to earliest / until */
        const char *reason;
        lt_err want;
        const char *detail;
    } rows[] = {
        {-1, 0, "nâng cấp", LT_E_INVALID, "7 working days"},
        {-DAY_US * 5, 0, "nâng cấp", LT_E_INVALID, "earliest start"},
        {0, 0, NULL, LT_E_INVALID, "reason"},
        {0, 0, "", LT_E_INVALID, "reason"},
        {0, -4 * 3600 * 1000000LL, "nâng cấp", LT_E_INVALID, "status.until"},
        {0, 0, "nâng cấp máy chủ", LT_OK, NULL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        lt_err e = set_status(
            &f, "stc-thu",
            maint_body(earliest + rows[i].from_off, until + rows[i].until_off, rows[i].reason),
            &ei);
        CHECK_MSG(e == rows[i].want && (!rows[i].detail || strstr(ei.detail, rows[i].detail)),
                  "row %zu: %d '%s'", i, e, ei.detail);
    }
    CHECK(rg_service_get(f.rg, "stc-thu", &s) == LT_OK);
    CHECK(s && s->maint_from_us == earliest && s->maint_until_us == until);
    CHECK(s && strcmp(s->status, "published") == 0);
    json_t *m = s ? json_object_get(s->def, "maintenance") : NULL;
    CHECK_STR(S(m, "reason"), "nâng cấp máy chủ");
    CHECK(strlen(S(m, "announced_at")) > 0);
    rg_service_release(s);
    /* `until` belongs to maintenance only; a draft service has no window. */
    json_t *b = J("{\"status\": \"suspended\", \"until\": \"2030-01-01T00:00:00Z\"}");
    CHECK_ERR(set_status(&f, "stc-thu", b, &ei), LT_E_INVALID, &ei, "status.until");
    CHECK_ERR(set_status(&f, "stc-nhap", maint_body(earliest, until, "r"), &ei), LT_E_CONFLICT, &ei,
              "only a published service");
    /* An update of the definition and a restart keep the window. */
    json_t *def = service_def("stc-thu", ""), *out = NULL;
    CHECK_MSG(rg_service_update(f.rg, "stc-thu", def, &out, &ei) == LT_OK, "%s", ei.detail);
    json_decref(def);
    json_decref(out);
    CHECK(fx_reopen(&f) == 0);
    CHECK(rg_service_get(f.rg, "stc-thu", &s) == LT_OK);
    CHECK(s && s->maint_from_us == earliest && s->maint_until_us == until);
    rg_service_release(s);
    /* Publishing a published service clears its window; without one it is a conflict. */
    CHECK(set_status(&f, "stc-thu", J("{\"status\": \"published\"}"), &ei) == LT_OK);
    CHECK(rg_service_get(f.rg, "stc-thu", &s) == LT_OK);
    CHECK(s && s->maint_from_us == 0 && s->maint_until_us == 0);
    CHECK(s && json_object_get(s->def, "maintenance") == NULL);
    rg_service_release(s);
    CHECK_ERR(set_status(&f, "stc-thu", J("{\"status\": \"published\"}"), &ei), LT_E_CONFLICT, &ei,
              "cannot go from published to published");
    /* Retiring drops a window. */
    CHECK(set_status(&f, "stc-auto", maint_body(earliest, until, "r"), &ei) == LT_OK);
    CHECK(set_status(&f, "stc-auto", J("{\"status\": \"retired\"}"), &ei) == LT_OK);
    CHECK(rg_service_get(f.rg, "stc-auto", &s) == LT_OK);
    CHECK(s && s->maint_from_us == 0 && strcmp(s->status, "retired") == 0);
    rg_service_release(s);
    fx_close(&f);
}

/* With holidays the earliest start moves by the holidays inside the 8 working days. */
static void test_maintenance_holidays(void)
{
    fx f;
    lt_errinfo ei = {0};
    if (sx_open(&f)) {
        CHECK(0);
        return;
    }
    int64_t now = lt_now_us(), today = (now + 7 * 3600 * 1000000LL) / DAY_US;
    int64_t plain = rg_working_days_after(f.rg, now, 8) - DAY_US + 1;
    int64_t days[10];
    for (int i = 0; i < 10; i++)
        days[i] = today + 1 + i; /* the next ten days are holidays */
    CHECK(rg_set_holidays(f.rg, days, 10) == LT_OK);
    int64_t later = rg_working_days_after(f.rg, now, 8) - DAY_US + 1;
    CHECK(later > plain);
    CHECK_ERR(set_status(&f, "stc-thu", maint_body(plain, plain + DAY_US, "r"), &ei), LT_E_INVALID,
              &ei, "earliest start");
    CHECK(set_status(&f, "stc-thu", maint_body(later, later + DAY_US, "r"), &ei) == LT_OK);
    fx_close(&f);
}

int main(void)
{
    LT_RUN(test_working_days);
    LT_RUN(test_maintenance);
    LT_RUN(test_maintenance_holidays);
    return lt_test_done();
}
