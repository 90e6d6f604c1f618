/* rg_calendar — working days in Vietnam time (UTC+7, no daylight saving): Saturdays, Sundays
 * and the configured public holidays are not working days. Decree 47 deadlines (answer within
 * 5 working days, maintenance announced 7 working days ahead) count whole Vietnamese days. */
#include <stdlib.h>
#include <string.h>

#include "rg_share_int.h"

int64_t rg_vn_day(int64_t us)
{
    int64_t t = us + RG_VN_OFFSET_US, d = t / RG_DAY_US;
    return (t % RG_DAY_US < 0) ? d - 1 : d; /* floor: instants before 1970 too */
}

int64_t rg_vn_day_start(int64_t day)
{
    return day * RG_DAY_US - RG_VN_OFFSET_US;
}

lt_err rg_set_holidays(rg_registry *rg, const int64_t *days, size_t n)
{
    int64_t *copy = NULL;
    if (n && !(copy = malloc(n * sizeof *copy)))
        return LT_E_NOMEM;
    if (n)
        memcpy(copy, days, n * sizeof *copy);
    pthread_rwlock_wrlock(&rg->lock);
    int64_t *old = rg->holidays;
    rg->holidays = copy;
    rg->nholidays = n;
    pthread_rwlock_unlock(&rg->lock);
    free(old);
    return LT_OK;
}

static bool is_holiday(const int64_t *h, size_t n, int64_t day)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h[mid] == day)
            return true;
        if (h[mid] < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static bool is_working(const int64_t *h, size_t n, int64_t day)
{
    int wd = (int)(((day % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday; 0 = Sunday */
    return wd != 0 && wd != 6 && !is_holiday(h, n, day);
}

int64_t rg_working_days_after(const rg_registry *rg, int64_t start_us, int n)
{
    /* The lock is the registry's mutable part; the registry itself is never a const object. */
    pthread_rwlock_t *lock = (pthread_rwlock_t *)&rg->lock;
    int64_t day = rg_vn_day(start_us);
    pthread_rwlock_rdlock(lock);
    for (int k = 0; k < n;)
        if (is_working(rg->holidays, rg->nholidays, ++day))
            k++;
    pthread_rwlock_unlock(lock);
    return rg_vn_day_start(day + 1) - 1;
}
