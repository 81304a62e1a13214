/* tile_routes.h — /tiles.json, /tiles/{layer}.json and
 * /tiles/{layer}/{z}/{x}/{y}.mvt: the HTTP half of the tiles.
 *
 * Owns: parsing tile paths, z/x/y and the tile filters, writing TileJSON
 * 3.0.0, and turning a rendered tile (tiles/tile_set.h) into a response.
 * Invariants: bad input is a 400 or 404 problem, never a 5xx; 503 only when
 * memory runs out while rendering; an empty tile is 204 with no body. */
#ifndef MAILLAGE_TILE_ROUTES_H
#define MAILLAGE_TILE_ROUTES_H

#include "http/request.h"

/* Route handlers (routes.h), filling the response_init()ed `response` from
 * request->dataset. tile_catalogue: /tiles.json, the TileJSON of every
 * layer (200; out of memory leaves body.failed set, a 503 in http.c). */
void tile_catalogue(const Request *request, Response *response, const char *rest);
/* Everything under /tiles/ (`rest` is the path after "/tiles/"): a layer's
 * TileJSON (200), or a tile (200, 204 when empty); 404 for an unknown layer
 * or path, 400 for a bad z/x/y or filter, 503 when rendering runs out of
 * memory. */
void tile_answer(const Request *request, Response *response, const char *rest);

#endif
