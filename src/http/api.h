/* api.h — the JSON API handlers: /healthz and /api/... .
 *
 * Owns: turning a decoded Request into a JSON body (or an RFC 9457
 * problem) from the request's Dataset. Handlers never touch
 * libmicrohttpd, never read the database and never block: everything they
 * answer from is in the immutable Dataset. Invariants:
 *  - bad client input gives a 4xx problem (response_problem), never a 5xx;
 *    an allocation failure while writing the body gives a 503 problem;
 *  - the same Request on the same Snapshot gives a byte-identical body, so
 *    the HTTP layer may use (dataset version, request) as the ETag;
 *  - `maillage nearest` (cli/nearest_command.c) calls api_nearest(), so
 *    the command prints exactly the HTTP body.
 *
 * Paths (routes.c maps them): /healthz, /api/conditions, /api/nearest,
 * /api/structures, /api/structures/{site_id}, /api/places. */
#ifndef MAILLAGE_API_H
#define MAILLAGE_API_H

#include "http/request.h"

/* The handlers of the route table (routes.c). Each fills `response`
 * (response_init()ed by the caller) from request->dataset: 200 JSON, or a
 * problem (400 for bad input, 404 for an unknown site, 503 when memory
 * runs out). `rest` is the path after the route's prefix (the site_id of
 * /api/structures/{site_id}), "" for exact routes. */
void api_health(const Request *request, Response *response, const char *rest);
void api_nearest(const Request *request, Response *response, const char *rest);
void api_structures(const Request *request, Response *response, const char *rest);
void api_structure(const Request *request, Response *response, const char *rest);
void api_conditions(const Request *request, Response *response, const char *rest);
void api_places(const Request *request, Response *response, const char *rest);

#endif
