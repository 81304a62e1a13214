/* request.h — one HTTP request as the API handlers see it, and its response.
 *
 * Owns: the handler-facing view of a request (decoded path, query
 * parameters, the Dataset pinned for the request) and the response
 * a handler fills. Handlers never touch libmicrohttpd: http.c builds the
 * Request and turns the Response into headers, ETag, gzip and CORS.
 * Invariants:
 *  - `dataset` stays valid for the whole request (http.c holds a reference),
 *    so one request never mixes two datasets;
 *  - every error response is RFC 9457 problem+json made by
 *    response_problem(), with a 4xx status for anything the client sent. */
#ifndef MAILLAGE_REQUEST_H
#define MAILLAGE_REQUEST_H

#include "base/buffer.h"

#include <stddef.h>
#include <stdint.h>

struct Dataset;

typedef struct QueryParameter {
    const char *name;
    const char *value;
} QueryParameter;

#define REQUEST_MAX_PARAMETERS 32

typedef struct Request {
    const char *method; /* GET or HEAD */
    const char *path;   /* percent-decoded, NUL-free */
    QueryParameter parameters[REQUEST_MAX_PARAMETERS];
    size_t parameter_count;
    int too_many_parameters;
    const struct Dataset *dataset; /* pinned for the whole request */
} Request;

typedef struct Response {
    int status;
    const char *content_type; /* a static string */
    Buffer body;
    const char *cache_control; /* a static string; NULL for the default */
    int no_etag;               /* set for bodies that change without the dataset */
} Response;

/* Makes `response` a 200 application/json with an empty body (nothing
 * allocated yet), default Cache-Control and an ETag. */
void response_init(Response *response);
/* Frees the body, which is left empty; the other fields are unchanged, so
 * response_init() it again before reuse. */
void response_free(Response *response);
/* Replaces the body with a problem+json document (RFC 9457) with `status`,
 * `title` and the formatted detail (made valid UTF-8), and sets no-store;
 * out of memory leaves body.failed set (http.c answers 503). */
void response_problem(Response *response, int status, const char *title, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

/* Turns a body that ran out of memory (body.failed) into a 503 problem;
 * leaves any other response as it is. Every handler that writes a body
 * calls it last. */
void response_finish(Response *response);

/* Parameter access. Each returns 0 when absent (value untouched), 1 when
 * present and valid, -1 after writing a 400 problem into `response`
 * (repeated, not UTF-8, malformed or out of range; value untouched). The
 * text is the request's own (valid as long as the request); decimals and
 * integers must lie in [minimum, maximum]. */
int request_text(const Request *request, const char *name, const char **value, Response *response);
int request_decimal(const Request *request, const char *name, double minimum, double maximum,
                    double *value, Response *response);
/* request_decimal() for a parameter that must be present: a missing one is
 * a 400 "Missing parameter" problem. Returns 0 with *value, or -1 after
 * writing the problem. */
int request_required_decimal(const Request *request, const char *name, double minimum,
                             double maximum, double *value, Response *response);
int request_integer(const Request *request, const char *name, int64_t minimum, int64_t maximum,
                    int64_t *value, Response *response);

#endif
