/* fuzz_support.h — what the libFuzzer targets share (header only, test code).
 *
 * Owns: the Dataset the route targets answer from, loaded once per process
 * from MAILLAGE_FUZZ_DATABASE (default build/maillage.sqlite, made by
 * `make dataset`); answering a raw request target in-process exactly as
 * http.c does (request_target_parse(), the 400s for a bad target or too
 * many parameters, then the route table); and the checks every answer
 * passes. A failed check calls abort(), which libFuzzer reports as a crash
 * with the input that caused it. The checks (CONTRACT "Errors"):
 *  - never a 5xx (503 is only for memory running out, which the fuzzer's
 *    malloc limit turns into a crash of its own);
 *  - an error status carries an application/problem+json body;
 *  - every JSON body (API, GeoJSON, problem) is strict JSON (json_read.h:
 *    RFC 8259, valid UTF-8, no repeated key);
 *  - a 204 has an empty body;
 *  - a gzip variant the handler has ready (a cached answer's: requests are
 *    answered as to a client that accepts gzip) inflates to the body.
 * Also the NUL-terminated copy of an input, writing a file, and writing a
 * target's seed corpus (MAILLAGE_FUZZ_WRITE_SEEDS), for every target. */
#ifndef MAILLAGE_FUZZ_SUPPORT_H
#define MAILLAGE_FUZZ_SUPPORT_H

#include "dataset/dataset.h"
#include "gunzip_check.h"
#include "http/request.h"
#include "http/request_target.h"
#include "http/routes.h"
#include "json_read.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints `why` with the answer's status and the start of its body, then
 * aborts (the fuzzer keeps the input as a crash). */
static inline void fuzz_fail(const char *why, const Response *response)
{
    fprintf(stderr, "fuzz check failed: %s (status %d, %s): %.300s\n", why, response->status,
            response->content_type ? response->content_type : "no content type",
            response->body.data ? response->body.data : "");
    abort();
}

/* The dataset every route target uses, loaded at the first call; exits
 * (not a finding: a set-up error) when the database cannot be loaded. */
static inline const Dataset *fuzz_dataset(void)
{
    static Dataset *dataset;
    if (dataset)
        return dataset;
    const char *path = getenv("MAILLAGE_FUZZ_DATABASE");
    if (!path || !path[0])
        path = "build/maillage.sqlite";
    char error[1024];
    DatasetOptions options = DATASET_DEFAULTS;
    dataset = dataset_load(path, &options, error, sizeof error);
    if (!dataset) {
        fprintf(stderr,
                "fuzz: cannot load the dataset (set MAILLAGE_FUZZ_DATABASE, or run "
                "`make dataset`): %s\n",
                error);
        exit(2);
    }
    return dataset;
}

/* Checks one answer against the rules above (aborts on a breach). */
static inline void fuzz_check_response(const Response *response)
{
    int status = response->status;
    if (response->body.failed)
        fuzz_fail("the body ran out of memory", response);
    if (status < 200 || status >= 500)
        fuzz_fail("a status outside 2xx-4xx", response);
    const char *type = response->content_type ? response->content_type : "";
    if (status >= 400 && strcmp(type, "application/problem+json") != 0)
        fuzz_fail("an error that is not problem+json", response);
    if (status == 204 && response->body.length != 0)
        fuzz_fail("a 204 with a body", response);
    if (response->gzip_body.length > 0 &&
        !gunzips_to(response->gzip_body.data, response->gzip_body.length, response->body.data,
                    response->body.length))
        fuzz_fail("a gzip variant that is not the body's", response);
    if (strstr(type, "json") && response->body.length > 0) {
        char error[256];
        JsonNode *root =
            json_node_parse(response->body.data, response->body.length, error, sizeof error);
        if (!root) {
            fprintf(stderr, "fuzz: %s\n", error);
            fuzz_fail("a JSON body that is not strict JSON", response);
        }
        if (status >= 400 &&
            (json_node_number(root, "/status") != status || !json_node_string(root, "/title")))
            fuzz_fail("a problem without its status or title", response);
        json_node_free(root);
    }
}

/* Answers the raw request target `raw` (NUL-terminated) as http.c does
 * for a GET: into `response` (response_init()ed here; the caller frees
 * it). Returns 1 when a handler (or the target checks) answered, 0 when
 * the path is a page, a static file or the server's 404 (no handler), or
 * when `skip_heavy` is set and the route is /api/coverage or
 * /api/service-areas (seconds of computation per new parameter set). */
static inline int fuzz_answer_target(const Dataset *dataset, const char *raw, int skip_heavy,
                                     Response *response)
{
    size_t length = strlen(raw);
    char *storage = malloc(request_target_storage_size(length));
    if (!storage)
        abort();
    RequestTarget target;
    request_target_parse(raw, storage, &target);
    response_init(response);
    int answered = 1;
    if (target.error) {
        response_problem(response, 400, "Bad request target", "%s", target.error);
    } else if (target.too_many_parameters) {
        response_problem(response, 400, "Too many parameters",
                         "at most %d query parameters are accepted", REQUEST_MAX_PARAMETERS);
    } else {
        Request request;
        memset(&request, 0, sizeof request);
        request.method = "GET";
        request.path = target.path;
        memcpy(request.parameters, target.parameters,
               target.parameter_count * sizeof target.parameters[0]);
        request.parameter_count = target.parameter_count;
        request.dataset = dataset;
        request.accepts_gzip = 1;
        const char *rest;
        const Route *route = routes_find(target.path, &rest);
        int heavy =
            route && (route->label == ROUTE_COVERAGE || route->label == ROUTE_SERVICE_AREAS);
        if (route && route->handler && !(heavy && skip_heavy))
            route->handler(&request, response, rest);
        else
            answered = 0;
    }
    free(storage);
    return answered;
}

/* A NUL-terminated copy of the fuzzer's bytes (malloc'd; aborts when out
 * of memory). Embedded NULs stay: C-string consumers see a prefix. */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        abort();
    if (size)
        memcpy(text, data, size);
    text[size] = 0;
    return text;
}

/* Writes `size` bytes to the file at `path` (replaced). Returns 0, or -1. */
static inline int fuzz_write_file(const char *path, const void *bytes, size_t size)
{
    FILE *file = fopen(path, "wb");
    if (!file)
        return -1;
    int written = fwrite(bytes, 1, size, file) == size;
    return fclose(file) == 0 && written ? 0 : -1;
}

/* Writes `size` bytes as the seed DIR/NAME; aborts when it cannot. */
static inline void fuzz_write_seed(const char *dir, const char *name, const void *bytes,
                                   size_t size)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (fuzz_write_file(path, bytes, size) != 0) {
        fprintf(stderr, "fuzz: cannot write the seed %s\n", path);
        abort();
    }
}

/* For a target's LLVMFuzzerInitialize(), after its set-up: when
 * MAILLAGE_FUZZ_WRITE_SEEDS names a directory, calls write_seeds(DIR) and
 * exits 0 (the binary writing its own seed corpus); else returns. */
static inline void fuzz_write_seeds_if_asked(void (*write_seeds)(const char *dir))
{
    const char *dir = getenv("MAILLAGE_FUZZ_WRITE_SEEDS");
    if (dir && dir[0]) {
        write_seeds(dir);
        exit(0);
    }
}

#endif
