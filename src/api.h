/* api.h — the JSON API handlers: /healthz and /api/... .
 *
 * Owns: turning a decoded Request into a JSON body (or an RFC 9457
 * problem) from the request's Snapshot. Handlers never touch
 * libmicrohttpd, never read the database and never block: everything they
 * answer from is in the immutable Snapshot. Invariants:
 *  - bad client input gives a 4xx problem (response_problem), never a 5xx;
 *    an allocation failure while writing the body gives a 503 problem;
 *  - the same Request on the same Snapshot gives a byte-identical body, so
 *    the HTTP layer may use (dataset version, request) as the ETag;
 *  - `maillage nearest` (nearest_command.c) calls api_handle() with a
 *    Request for /api/nearest, so the command prints exactly the HTTP body.
 *
 * Paths handled: /healthz, /api/conditions, /api/nearest, /api/structures,
 * /api/structures/{site_id}, /api/places. Any other path returns 0 (the
 * caller answers it or gives the 404), so other modules may add /api/ paths
 * such as /api/coverage. */
#ifndef MAILLAGE_API_H
#define MAILLAGE_API_H

#include "request.h"

/* Answers /api/... and /healthz for `request` (request->snapshot is set):
 * fills `response` (200 JSON, or a problem). Returns 1 if the path is an API
 * path it handled, 0 if not its path (then the caller tries tiles, static
 * files, or 404). `response` must have been response_init()ed. */
int api_handle(const Request *request, Response *response);

#endif
