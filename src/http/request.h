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
 *    response_problem(), with a 4xx status for anything the client sent;
 *  - the language of an answer's human text is resolved by
 *    request_language() alone (CONTRACT: `lang=fr|en`, default from
 *    Accept-Language, else fr); a handler that calls it records the
 *    language in the Response, and the ETag (request_etag()) and the
 *    `Vary: Accept-Language` header follow it. Problem details stay in
 *    English whatever the language: they are for developers. */
#ifndef MAILLAGE_REQUEST_H
#define MAILLAGE_REQUEST_H

#include "base/buffer.h"
#include "model/snapshot.h"

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
    const char *accept_language;   /* the Accept-Language header, NULL when absent */
    int accepts_gzip;              /* Accept-Encoding accepts gzip (gzip_accepted()) */
} Request;

typedef struct Response {
    int status;
    const char *content_type; /* a static string */
    Buffer body;
    /* The body's gzip encoding when the handler has it ready (a cached
     * answer's variant, tile_cache.h): http.c sends it to a client that
     * accepts gzip instead of compressing the body. Empty: http.c
     * compresses when it pays. Only ever set when request->accepts_gzip. */
    Buffer gzip_body;
    const char *cache_control; /* a static string; NULL for the default */
    int no_etag;               /* set for bodies that change without the dataset */
    /* "fr" or "en" once request_language() resolved the language of the
     * answer's text (it then varies with Accept-Language unless `lang` was
     * given); NULL for answers without human text. */
    const char *language;
} Response;

/* Makes `response` a 200 application/json with an empty body (nothing
 * allocated yet), default Cache-Control and an ETag. */
void response_init(Response *response);
/* Frees the body and its gzip encoding, which are left empty; the other
 * fields are unchanged, so response_init() it again before reuse. */
void response_free(Response *response);
/* Replaces the body with a problem+json document (RFC 9457) with `status`,
 * `title` and the formatted detail (made valid UTF-8), drops any gzip
 * encoding of the body it replaces, and sets no-store; out of memory
 * leaves body.failed set (http.c answers 503). */
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

/* The language of the answer's human text (messages, labels): the `lang`
 * parameter when present ("fr" or "en"; anything else, or a repeated one,
 * is a 400 problem), else the first of fr/en that Accept-Language prefers
 * (accept_language_choose()), else French. Sets *language and
 * response->language; returns 0, or -1 after writing the problem. No
 * allocation: nearest calls it on every request. */
int request_language(const Request *request, Language *language, Response *response);

/* The language an Accept-Language header value (RFC 9110 12.5.4) prefers
 * among French and English: each range ("fr", "fr-FR", "en-GB", "*") with
 * its q-value (default 1; an unreadable q drops the range), the highest q
 * wins, ties go to the range listed first; "*" stands for a language not
 * named; q=0 refuses. French when neither is acceptable, or for NULL. */
Language accept_language_choose(const char *header);

/* The entity tag of an API answer, without quotes:
 * "<dataset tag>-<request hash>", from the dataset version, the path, the
 * query parameters sorted by name then value and the answer's resolved
 * language (response->language), so that two answers in different
 * languages never share a tag. Writes into `etag` (room for 40 bytes). */
void request_etag(const Request *request, const Response *response, char etag[40]);

#endif
