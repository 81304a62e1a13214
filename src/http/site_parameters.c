/* site_parameters.c — orpha, role and public; see site_parameters.h. */
#include "http/site_parameters.h"
#include "base/text.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
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

/* Appends to `query` (room for `size`, *used bytes used), never past it:
 * text that does not fit is cut. */
static void key_append(char *query, size_t size, size_t *used, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

static void key_append(char *query, size_t size, size_t *used, const char *format, ...)
{
    assert(*used < size);
    va_list arguments;
    va_start(arguments, format);
    int written = vsnprintf(query + *used, size - *used, format, arguments);
    va_end(arguments);
    if (written > 0)
        *used = *used + (size_t)written < size ? *used + (size_t)written : size - 1;
}

void site_parameters_key(const SiteParameters *parameters, char *query, size_t query_size)
{
    assert(query_size > 0);
    query[0] = 0;
    size_t used = 0;
    if (parameters->condition)
        key_append(query, query_size, &used, "orpha=%lld", (long long)parameters->condition->orpha);
    if (parameters->role_text) {
        key_append(query, query_size, &used, "%srole=", used ? "&" : "");
        const char *separator = "";
        for (int role = 0; role < ROLE_COUNT; role++) {
            if (!(parameters->filter.role_mask >> role & 1u))
                continue;
            key_append(query, query_size, &used, "%s%s", separator, role_name((Role)role));
            separator = ",";
        }
    }
    if (parameters->public_text)
        key_append(query, query_size, &used, "%spublic=%s", used ? "&" : "",
                   parameters->public_text);
}
