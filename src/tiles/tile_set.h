/* tile_set.h — the vector tiles (Mapbox Vector Tile 2.1) of one snapshot:
 * the care network, a self-hosted basemap and place names.
 *
 * Owns: the TileSet of one snapshot (per-layer data prepared at load time,
 * the spatial ordering of sites, and the tile cache), the catalogue of
 * layers, and encoding one tile of one layer. It knows nothing of HTTP:
 * http/tile_routes.c parses paths and filters and answers. Invariants:
 *  - a TileSet is immutable after tiles_load() except for its cache and
 *    the lazily simplified shapes, each behind its own lock: any number of
 *    threads call tile_set_render();
 *  - the cache belongs to the TileSet, so a reload starts with a new cache;
 *  - an empty tile (no feature, or a zoom below the layer's minzoom) is
 *    rendered as status 204 with an empty body;
 *  - points are never buffered, lines and polygons by TILE_BUFFER units.
 * The layers, their properties and zooms are listed in tile_set.c and
 * served as TileJSON at /tiles.json. */
#ifndef MAILLAGE_TILE_SET_H
#define MAILLAGE_TILE_SET_H

#include "base/buffer.h"
#include "model/snapshot.h"
#include "store/store.h"
#include "tiles/tile_filter.h"
#include "tiles/tile_geometry.h"

#include <stddef.h>

typedef struct TileSet TileSet;

/* The attribution of every layer (TileJSON). */
extern const char TILE_ATTRIBUTION[];

/* One layer of the catalogue. */
typedef struct TileLayerInfo {
    const char *name, *description;
    int minzoom, maxzoom;
    int filtered;       /* takes orpha, role, public */
    const char *fields; /* TileJSON vector_layers fields, as a JSON object */
} TileLayerInfo;

/* The layers, in catalogue order: `*count` of them. */
const TileLayerInfo *tile_layers(size_t *count);
/* The layer named by the `length` bytes of `name`; NULL when none. */
const TileLayerInfo *tile_layer_find(const char *name, size_t length);

typedef struct TileSetOptions {
    size_t cache_bytes; /* encoded tiles kept (LRU) */
    int allow_nocache;  /* benchmarks: tile_set_render() may be asked to skip the cache */
} TileSetOptions;

/* 64 MB of cache, no bypass. */
#define TILE_SET_DEFAULTS ((TileSetOptions){(size_t)64 << 20, 0})

/* Prepares tile data for a snapshot (areas, basemap, établissements and
 * places read from `store`; sites and links taken from the snapshot, which must
 * outlive the TileSet). `options` NULL means TILE_SET_DEFAULTS. Returns
 * NULL with a one-line message in `error`. */
TileSet *tiles_load(const Snapshot *snapshot, Store *store, const TileSetOptions *options,
                    char *error, size_t error_size);
void tiles_free(TileSet *tiles); /* NULL is a no-op */

/* The snapshot the tiles draw. */
const Snapshot *tile_set_snapshot(const TileSet *tiles);
/* 1 when the set was loaded with allow_nocache. */
int tile_set_allows_nocache(const TileSet *tiles);
/* West, south, east, north (degrees) of what `layer` draws. */
void tile_set_bounds(const TileSet *tiles, const TileLayerInfo *layer, double bounds[4]);

/* Renders tile `address` (z within the layer's zooms, x and y within the
 * grid: asserted) of `layer` with `filter` into `out` (emptied first):
 * returns 200 (a tile in `out`) or 204 (no feature, `out` empty), or -1
 * when memory runs out. `cache_key` names the tile and its normalised
 * filter; the answer is read from and kept in the cache unless `use_cache`
 * is 0 (allowed only when the set allows nocache). `gzip_out` (NULL when
 * the client does not accept gzip) gets the cached tile's gzip variant
 * (tile_cache_get()); it stays empty for a tile just built. */
int tile_set_render(TileSet *tiles, const TileLayerInfo *layer, TileAddress address,
                    const TileFilter *filter, const char *cache_key, int use_cache, Buffer *out,
                    Buffer *gzip_out);

#endif
