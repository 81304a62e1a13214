/* support.h — helpers shared by the C unit tests (header only).
 *
 * Owns: calling a route of the server in-process (the route table, as
 * http.c dispatches) and copying a fixture file. Test code only. */
#ifndef MAILLAGE_TEST_SUPPORT_H
#define MAILLAGE_TEST_SUPPORT_H

#include "dataset/dataset.h"
#include "http/request.h"
#include "http/routes.h"

#include <stdio.h>
#include <string.h>

/* Calls the handler the route table gives `path`, with `count` decoded
 * parameters and the Accept-Language header `accept_language` (NULL:
 * none), on `dataset`; `response` is response_init()ed here (the
 * caller frees it). Returns 1 when a handler answered, 0 when no route has
 * a handler for the path (a page, a static file or the server's 404). */
static inline int route_call_as(const Dataset *dataset, const char *path,
                                const QueryParameter *parameters, size_t count,
                                const char *accept_language, Response *response)
{
    Request request;
    memset(&request, 0, sizeof request);
    request.method = "GET";
    request.path = path;
    request.dataset = dataset;
    request.accept_language = accept_language;
    for (size_t i = 0; i < count && i < REQUEST_MAX_PARAMETERS; i++)
        request.parameters[request.parameter_count++] = parameters[i];
    response_init(response);
    const char *rest;
    const Route *route = routes_find(path, &rest);
    if (!route || !route->handler)
        return 0;
    route->handler(&request, response, rest);
    return 1;
}

/* route_call() without an Accept-Language header. */
static inline int route_call(const Dataset *dataset, const char *path,
                             const QueryParameter *parameters, size_t count, Response *response)
{
    return route_call_as(dataset, path, parameters, count, NULL, response);
}

/* Splits a query string "a=1&b=2" (not decoded) into `parameters` (room
 * for REQUEST_MAX_PARAMETERS), writing the texts into `copy`; returns how
 * many. */
static inline size_t split_query(const char *query, char *copy, size_t copy_size,
                                 QueryParameter *parameters)
{
    size_t count = 0;
    snprintf(copy, copy_size, "%s", query ? query : "");
    for (char *item = copy; *item && count < REQUEST_MAX_PARAMETERS;) {
        char *next = strchr(item, '&');
        if (next)
            *next++ = 0;
        char *equals = strchr(item, '=');
        if (equals)
            *equals++ = 0;
        parameters[count++] = (QueryParameter){item, equals ? equals : ""};
        item = next ? next : item + strlen(item);
    }
    return count;
}

/* Copies the file `from` to `to` (replaced). Returns 0, or -1. */
static inline int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    int ok = in && out;
    char buffer[65536];
    size_t got;
    while (ok && (got = fread(buffer, 1, sizeof buffer, in)) > 0)
        ok = fwrite(buffer, 1, got, out) == got;
    ok = ok && !ferror(in);
    if (in)
        fclose(in);
    if (out)
        ok = fclose(out) == 0 && ok;
    return ok ? 0 : -1;
}

#endif
