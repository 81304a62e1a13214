/* site.c — the names of roles and audiences, and the site filter; see site.h. */
#include "model/site.h"

#include <string.h>

static const char *const role_names[ROLE_COUNT] = {
    "crmr_coordonnateur", "crmr_constitutif",     "crmr",          "ccmr",        "cooperation",
    "platform_member",    "platform_coordinator", "medico_social", "association",
};

const char *role_name(Role role)
{
    return (unsigned)role < ROLE_COUNT ? role_names[role] : "unknown";
}

int role_from_name(const char *name)
{
    for (int role = 0; role < ROLE_COUNT; role++)
        if (strcmp(name, role_names[role]) == 0)
            return role;
    return -1;
}

const char *audience_name(Audience audience)
{
    switch (audience) {
    case AUDIENCE_ENFANTS:
        return "enfants";
    case AUDIENCE_ADULTES:
        return "adultes";
    case AUDIENCE_TOUS:
        return "tous";
    default:
        return NULL;
    }
}

Audience audience_from_name(const char *name)
{
    if (!name)
        return AUDIENCE_UNSTATED;
    if (strcmp(name, "enfants") == 0)
        return AUDIENCE_ENFANTS;
    if (strcmp(name, "adultes") == 0)
        return AUDIENCE_ADULTES;
    if (strcmp(name, "tous") == 0)
        return AUDIENCE_TOUS;
    return AUDIENCE_UNSTATED;
}

void site_filter_init(SiteFilter *filter)
{
    filter->role_mask = SITE_FILTER_ALL_ROLES;
    filter->audience_mask = SITE_FILTER_ALL_AUDIENCES;
    filter->filiere = NULL;
}
