/* tiles.h — vector tiles (Mapbox Vector Tile 2.1) of the care network and a
 * self-hosted basemap, served at /tiles.json, /tiles/{layer}.json and
 * /tiles/{layer}/{z}/{x}/{y}.mvt.
 *
 * Owns: the TileSet of one snapshot (per-layer data prepared at load time,
 * the spatial ordering of sites, and the tile cache) and the HTTP answers of
 * the tile paths. Invariants:
 *  - a TileSet is immutable after tiles_load() except for its cache, which
 *    is internally locked: any number of threads call tiles_handle();
 *  - the cache belongs to the TileSet, so a reload starts with a new cache;
 *  - an empty tile (no feature in any requested layer) is answered
 *    "204 No Content" with an empty body; TileJSON and the page treat 204 as
 *    "nothing here";
 *  - z/x/y outside the grid or a zoom beyond the layer's maxzoom is a 400
 *    problem, an unknown layer a 404 problem, never a 5xx for bad input
 *    (503 only when memory runs out while building a tile);
 *  - benchmarks only: with MAILLAGE_BENCH=1 in the server's environment at
 *    load, `?nocache=1` builds a tile without the cache (ignored otherwise).
 * The layers, their properties and zooms are listed in tiles.c and served
 * as TileJSON at /tiles.json. */
#ifndef MAILLAGE_TILES_H
#define MAILLAGE_TILES_H

#include "request.h"
#include "snapshot.h"
#include "store.h"

#include <stddef.h>

struct TileSet;

/* Prepares tile data for a snapshot (areas, basemap, établissements read
 * from `store`; sites and links taken from the snapshot). The snapshot must
 * outlive the TileSet. Returns NULL with a one-line message in `error`. */
struct TileSet *tiles_load(const Snapshot *snapshot, Store *store, char *error, size_t error_size);
void tiles_free(struct TileSet *tiles);

/* Answers /tiles.json, /tiles/{layer}.json and /tiles/{layer}/{z}/{x}/{y}.mvt;
 * returns 1 if the path is a tile path (then `response` is filled: 200 with
 * body, 204 for an empty tile, or a problem), else 0.
 * request->snapshot->tiles is the TileSet. */
int tiles_handle(const Request *request, Response *response);

#endif
