/* request.c — parameter access and problem responses; see request.h. */
#include "http/request.h"
#include "base/json.h"
#include "base/text.h"

#include <stdio.h>
#include <string.h>

void response_init(Response *response)
{
    memset(response, 0, sizeof *response);
    response->status = 200;
    response->content_type = "application/json";
    buffer_init(&response->body);
}

void response_free(Response *response)
{
    buffer_free(&response->body);
}

static const char *problem_type(int status)
{
    switch (status) {
    case 400:
        return "https://maillage.invalid/problems/bad-request";
    case 404:
        return "https://maillage.invalid/problems/not-found";
    case 405:
        return "https://maillage.invalid/problems/method-not-allowed";
    case 413:
        return "https://maillage.invalid/problems/too-large";
    case 414:
        return "https://maillage.invalid/problems/uri-too-long";
    default:
        return "about:blank";
    }
}

void response_finish(Response *response)
{
    if (!response->body.failed)
        return;
    buffer_free(&response->body);
    response_problem(response, 503, "Service unavailable",
                     "the server ran out of memory while answering; retry later");
}

void response_problem(Response *response, int status, const char *title, const char *format, ...)
{
    char detail[512];
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(detail, sizeof detail, format, arguments);
    va_end(arguments);
    /* Details may quote client input: keep them valid UTF-8 for JSON. */
    if (!utf8_is_valid(detail, strlen(detail)))
        snprintf(detail, sizeof detail, "the request holds bytes that are not UTF-8");
    buffer_reset(&response->body);
    response->status = status;
    response->content_type = "application/problem+json";
    response->cache_control = "no-store";
    JsonWriter json;
    json_init(&json, &response->body);
    json_begin_object(&json);
    json_key(&json, "type");
    json_string(&json, problem_type(status));
    json_key(&json, "title");
    json_string(&json, title);
    json_key(&json, "status");
    json_integer(&json, status);
    json_key(&json, "detail");
    json_string(&json, detail);
    json_end_object(&json);
}

/* The value of `name`, NULL when absent; *count says how often it appears. */
static const char *find_parameter(const Request *request, const char *name, int *count)
{
    const char *value = NULL;
    *count = 0;
    for (size_t i = 0; i < request->parameter_count; i++) {
        if (strcmp(request->parameters[i].name, name) == 0) {
            if (!value)
                value = request->parameters[i].value;
            (*count)++;
        }
    }
    return value;
}

int request_text(const Request *request, const char *name, const char **value, Response *response)
{
    int count;
    const char *found = find_parameter(request, name, &count);
    if (count == 0)
        return 0;
    if (count > 1) {
        response_problem(response, 400, "Repeated parameter",
                         "the parameter '%s' is given %d times; give it once", name, count);
        return -1;
    }
    if (!utf8_is_valid(found, strlen(found))) {
        response_problem(response, 400, "Invalid parameter",
                         "the parameter '%s' is not valid UTF-8", name);
        return -1;
    }
    *value = found;
    return 1;
}

int request_decimal(const Request *request, const char *name, double minimum, double maximum,
                    double *value, Response *response)
{
    const char *text;
    int status = request_text(request, name, &text, response);
    if (status <= 0)
        return status;
    double parsed;
    if (parse_decimal(text, &parsed) != 0) {
        response_problem(response, 400, "Invalid parameter",
                         "the parameter '%s' must be a decimal number, got '%.64s'", name, text);
        return -1;
    }
    if (parsed < minimum || parsed > maximum) {
        response_problem(response, 400, "Parameter out of range",
                         "the parameter '%s' must be between %g and %g, got %.64s", name, minimum,
                         maximum, text);
        return -1;
    }
    *value = parsed;
    return 1;
}

int request_integer(const Request *request, const char *name, int64_t minimum, int64_t maximum,
                    int64_t *value, Response *response)
{
    const char *text;
    int status = request_text(request, name, &text, response);
    if (status <= 0)
        return status;
    int64_t parsed;
    if (parse_integer(text, INT64_MIN, INT64_MAX, &parsed) != 0 || parsed < minimum ||
        parsed > maximum) {
        response_problem(response, 400, "Invalid parameter",
                         "the parameter '%s' must be an integer from %lld to %lld, got '%.64s'",
                         name, (long long)minimum, (long long)maximum, text);
        return -1;
    }
    *value = parsed;
    return 1;
}

int request_required_decimal(const Request *request, const char *name, double minimum,
                             double maximum, double *value, Response *response)
{
    int status = request_decimal(request, name, minimum, maximum, value, response);
    if (status == 0)
        response_problem(response, 400, "Missing parameter", "the parameter '%s' is required",
                         name);
    return status == 1 ? 0 : -1;
}
