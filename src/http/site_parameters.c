/* site_parameters.c — orpha, role and public; see site_parameters.h. */
#include "http/site_parameters.h"
#include "base/text.h"

#include <string.h>
#include <strings.h>

static int parse_orpha(const Request *request, const Snapshot *snapshot,
                       const Condition **condition, Response *response)
{
    const char *text;
    int status = request_text(request, "orpha", &text, response);
    if (status <= 0)
        return status;
    const char *digits = strncasecmp(text, "ORPHA:", 6) == 0 ? text + 6 : text;
    int64_t code;
    if (parse_integer(digits, 1, INT32_MAX, &code) != 0) {
        response_problem(response, 400, "Invalid parameter",
                         "the parameter 'orpha' must be an ORPHAcode such as 232 or ORPHA:232, "
                         "got '%.64s'",
                         text);
        return -1;
    }
    *condition = snapshot_condition(snapshot, (int32_t)code);
    if (!*condition) {
        response_problem(response, 400, "Unknown ORPHAcode",
                         "ORPHA:%lld is not in the Orphanet nomenclature of this dataset",
                         (long long)code);
        return -1;
    }
    return 1;
}

/* The role named by the `length` bytes at `text`, or -1. */
static int role_from_span(const char *text, size_t length)
{
    char name[64];
    if (length == 0 || length >= sizeof name)
        return -1;
    memcpy(name, text, length);
    name[length] = 0;
    return role_from_name(name);
}

static int parse_roles(const Request *request, SiteParameters *parameters, Response *response)
{
    const char *text;
    int status = request_text(request, "role", &text, response);
    if (status <= 0)
        return status;
    uint32_t mask = 0;
    const char *cursor = text;
    for (;;) {
        const char *comma = strchr(cursor, ',');
        size_t length = comma ? (size_t)(comma - cursor) : strlen(cursor);
        int role = role_from_span(cursor, length);
        if (role < 0) {
            response_problem(response, 400, "Invalid parameter",
                             "the parameter 'role' holds '%.*s', which is not a role (one of "
                             "crmr_coordonnateur, crmr_constitutif, crmr, ccmr, cooperation, "
                             "platform_member, platform_coordinator, medico_social, association)",
                             (int)(length < 64 ? length : 64), cursor);
            return -1;
        }
        mask |= 1u << role;
        if (!comma)
            break;
        cursor = comma + 1;
    }
    parameters->filter.role_mask = mask;
    parameters->role_text = text;
    return 1;
}

static int parse_public(const Request *request, SiteParameters *parameters, Response *response)
{
    const char *text;
    int status = request_text(request, "public", &text, response);
    if (status <= 0)
        return status;
    uint32_t unstated_or_all = (1u << AUDIENCE_UNSTATED) | (1u << AUDIENCE_TOUS);
    if (strcmp(text, "enfants") == 0) {
        parameters->filter.audience_mask = unstated_or_all | (1u << AUDIENCE_ENFANTS);
    } else if (strcmp(text, "adultes") == 0) {
        parameters->filter.audience_mask = unstated_or_all | (1u << AUDIENCE_ADULTES);
    } else if (strcmp(text, "tous") != 0) {
        response_problem(response, 400, "Invalid parameter",
                         "the parameter 'public' must be enfants, adultes or tous, got '%.64s'",
                         text);
        return -1;
    }
    parameters->public_text = text;
    return 1;
}

int site_parameters_parse(const Request *request, const Snapshot *snapshot,
                          SiteParameters *parameters, Response *response)
{
    memset(parameters, 0, sizeof *parameters);
    site_filter_init(&parameters->filter);
    if (parse_orpha(request, snapshot, &parameters->condition, response) < 0 ||
        parse_roles(request, parameters, response) < 0 ||
        parse_public(request, parameters, response) < 0)
        return -1;
    return 0;
}
