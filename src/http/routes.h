/* routes.h — the route table: every path the server answers, in one place.
 *
 * Owns: the mapping from a decoded request path to what answers it — a
 * handler, or a page file under --web — with its method and metrics
 * label. http.c dispatches through it, /metrics labels by it, and nothing
 * else in the server compares paths. Invariants (asserted by
 * routes_check()):
 *  - every route answers GET (and HEAD, the same without a body); other
 *    methods get 405 before routing, OPTIONS the CORS preflight;
 *  - an exact route matches its path only; a prefix route (path ending in
 *    '/') matches every path that starts with it, the bare prefix included
 *    (its handler then gets "" and answers 404), and hands the rest to its
 *    handler; routes are tried in table order;
 *  - a route has a handler or a page, never both;
 *  - paths no route matches are static files under --web, else 404. */
#ifndef MAILLAGE_ROUTES_H
#define MAILLAGE_ROUTES_H

#include "http/metrics.h"
#include "http/request.h"

#include <stddef.h>

/* Fills `response` for `request`; `rest` is the path after a prefix route's
 * prefix ("" for exact routes). */
typedef void (*RouteHandler)(const Request *request, Response *response, const char *rest);

typedef enum RouteMatch { ROUTE_MATCH_EXACT, ROUTE_MATCH_PREFIX } RouteMatch;

typedef struct Route {
    const char *method; /* "GET" */
    const char *path;   /* the path, or the prefix (ending in '/') */
    RouteMatch match;
    MetricsRoute label; /* /metrics route label */
    RouteHandler handler;
    const char *page; /* a file under --web, for page routes; NULL otherwise */
    int embed;        /* the page is meant for <iframe>s (frame-ancestors *) */
} Route;

/* The route for `path`, with *rest set to the path after its prefix; NULL
 * when no route matches (then a static file or a 404). */
const Route *routes_find(const char *path, const char **rest);
/* The whole table, in matching order: `*count` routes. */
const Route *routes_all(size_t *count);
/* Checks the table's invariants (assert); returns the number of routes. */
size_t routes_check(void);

#endif
