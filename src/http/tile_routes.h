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

/* Route handlers (routes.h): the catalogue of every layer's TileJSON, and
 * everything under /tiles/ (`rest` is the path after "/tiles/"). */
void tile_catalogue(const Request *request, Response *response, const char *rest);
void tile_answer(const Request *request, Response *response, const char *rest);

#endif
