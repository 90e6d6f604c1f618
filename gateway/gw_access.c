/* The one access check every data path passes through (API.md §3, §6).
 * Now: the operator (admin) and the owning agency. Grants (Decree 47/2020 Arts. 33-44) slot in
 * here: a consumer's live grant for the service will allow READ with a field projection. */
#include <string.h>

#include "gw_int.h"

bool gw_access_service(gw_req *r, const rg_service *svc, gw_op op)
{
    if (gw_is_admin(r))
        return true;
    bool owner = (r->who.roles & GW_ROLE_AGENCY) && r->who.org[0] &&
                 strcmp(r->who.org, svc->agency) == 0;
    if (owner)
        return true;
    static const char *what[] = {"read data of", "push data to", "manage"};
    gw_fail(r, LT_E_FORBIDDEN, "organisation '%s' may not %s service '%s'",
            r->who.org[0] ? r->who.org : "(none)", what[op], svc->id);
    return false;
}
