/* request.c — parameter access, the answer's language, entity tags and
 * problem responses; see request.h. */
#include "http/request.h"
#include "base/json.h"
#include "base/text.h"
#include "dataset/dataset.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

void response_init(Response *response)
{
    memset(response, 0, sizeof *response);
    response->status = 200;
    response->content_type = "application/json";
    buffer_init(&response->body);
    buffer_init(&response->gzip_body);
}

void response_free(Response *response)
{
    buffer_free(&response->body);
    buffer_free(&response->gzip_body);
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
    buffer_free(&response->gzip_body);
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

/* --- Language ------------------------------------------------------------ */

/* What an Accept-Language range names: one of our languages (its Language
 * value), any language, or another one. */
enum { RANGE_ANY = 2, RANGE_OTHER = 3 };

static int range_kind(const char *range, size_t length)
{
    if (length == 1 && range[0] == '*')
        return RANGE_ANY;
    if (length < 2 || (length > 2 && range[2] != '-'))
        return RANGE_OTHER;
    if (strncasecmp(range, "fr", 2) == 0)
        return LANGUAGE_FRENCH;
    if (strncasecmp(range, "en", 2) == 0)
        return LANGUAGE_ENGLISH;
    return RANGE_OTHER;
}

/* A qvalue ("0", "0.8", "1.000") in thousandths, -1 when malformed. */
static int parse_qvalue(const char *text, size_t length)
{
    if (length == 0 || (text[0] != '0' && text[0] != '1'))
        return -1;
    int value = (text[0] - '0') * 1000;
    if (length == 1)
        return value;
    if (text[1] != '.' || length > 5)
        return -1;
    int scale = 100;
    for (size_t i = 2; i < length; i++, scale /= 10) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        value += (text[i] - '0') * scale;
    }
    return value > 1000 ? -1 : value;
}

static int is_space(char character)
{
    return character == ' ' || character == '\t';
}

/* The weight of a range from its parameters (the bytes after the range up
 * to the element's end): 1000 without q, -1 when the q is unreadable. */
static int range_weight(const char *text, const char *end)
{
    int weight = 1000;
    while (text < end) {
        while (text < end && (is_space(*text) || *text == ';'))
            text++;
        const char *parameter = text;
        while (text < end && *text != ';')
            text++;
        const char *parameter_end = text;
        while (parameter_end > parameter && is_space(parameter_end[-1]))
            parameter_end--;
        if (parameter_end - parameter >= 2 && (parameter[0] == 'q' || parameter[0] == 'Q') &&
            parameter[1] == '=') {
            weight = parse_qvalue(parameter + 2, (size_t)(parameter_end - parameter - 2));
            if (weight < 0)
                return -1;
        }
    }
    return weight;
}

Language accept_language_choose(const char *header)
{
    int weight[3] = {-1, -1, -1}; /* per range kind but "other", in thousandths */
    size_t order[3] = {0, 0, 0};  /* the position of the range that gave it */
    size_t position = 0;
    for (const char *p = header; p && *p; position++) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        while (p < end && is_space(*p))
            p++;
        const char *range = p;
        while (p < end && *p != ';' && !is_space(*p))
            p++;
        int kind = range_kind(range, (size_t)(p - range));
        int q = kind == RANGE_OTHER ? -1 : range_weight(p, end);
        if (kind != RANGE_OTHER && q > weight[kind]) {
            weight[kind] = q;
            order[kind] = position;
        }
        p = *end ? end + 1 : end;
    }
    for (int language = LANGUAGE_FRENCH; language <= LANGUAGE_ENGLISH; language++)
        if (weight[language] < 0) {
            weight[language] = weight[RANGE_ANY];
            order[language] = order[RANGE_ANY];
        }
    int english = weight[LANGUAGE_ENGLISH], french = weight[LANGUAGE_FRENCH];
    if (english > 0 && (english > french ||
                        (english == french && order[LANGUAGE_ENGLISH] < order[LANGUAGE_FRENCH])))
        return LANGUAGE_ENGLISH;
    return LANGUAGE_FRENCH;
}

int request_language(const Request *request, Language *language, Response *response)
{
    const char *text;
    int given = request_text(request, "lang", &text, response);
    if (given < 0)
        return -1;
    if (given == 0) {
        *language = accept_language_choose(request->accept_language);
    } else if (strcmp(text, "fr") == 0) {
        *language = LANGUAGE_FRENCH;
    } else if (strcmp(text, "en") == 0) {
        *language = LANGUAGE_ENGLISH;
    } else {
        response_problem(response, 400, "Invalid parameter",
                         "the parameter 'lang' must be fr or en, got '%.16s'", text);
        return -1;
    }
    response->language = *language == LANGUAGE_ENGLISH ? "en" : "fr";
    return 0;
}

/* --- Entity tags ----------------------------------------------------------- */

static int compare_parameters(const QueryParameter *a, const QueryParameter *b)
{
    int order = strcmp(a->name, b->name);
    return order ? order : strcmp(a->value, b->value);
}

/* Hash of (dataset version, path, query sorted by name then value, the
 * answer's language). */
static uint64_t request_hash(const char *version, const Request *request, const char *language)
{
    const QueryParameter *sorted[REQUEST_MAX_PARAMETERS];
    size_t count = request->parameter_count;
    for (size_t i = 0; i < count; i++) {
        const QueryParameter *parameter = &request->parameters[i];
        size_t j = i;
        while (j > 0 && compare_parameters(sorted[j - 1], parameter) > 0) {
            sorted[j] = sorted[j - 1];
            j--;
        }
        sorted[j] = parameter;
    }
    uint64_t hash = hash_fnv1a(HASH_FNV1A_SEED, version, strlen(version) + 1);
    hash = hash_fnv1a(hash, request->path, strlen(request->path) + 1);
    for (size_t i = 0; i < count; i++) {
        hash = hash_fnv1a(hash, sorted[i]->name, strlen(sorted[i]->name) + 1);
        hash = hash_fnv1a(hash, sorted[i]->value, strlen(sorted[i]->value) + 1);
    }
    if (language) /* after a byte no parameter name holds (names are UTF-8) */
        hash = hash_fnv1a(hash_fnv1a(hash, "\xff", 1), language, strlen(language) + 1);
    return hash;
}

void request_etag(const Request *request, const Response *response, char etag[40])
{
    const char *version = request->dataset->snapshot->version;
    /* "<dataset tag>-<request hash>": the first part names the dataset,
     * so a client (and the reload test) can tell which one answered. */
    uint64_t dataset_tag = hash_fnv1a(HASH_FNV1A_SEED, version, strlen(version));
    snprintf(etag, 40, "%08llx-%016llx", (unsigned long long)(dataset_tag & 0xffffffffu),
             (unsigned long long)request_hash(version, request, response->language));
}
