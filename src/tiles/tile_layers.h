/* tile_layers.h — the layers of the vector tiles, shared by tile_set.c (which
 * renders them) and the tile_layers_*.c files (which prepare and encode one
 * family of layers each). Internal to the tile module.
 *
 * Owns: the TileSet definition, the point index (Morton order), and the
 * per-layer data. Invariants:
 *  - world positions are held as 32-bit fixed point: world unit * 2^32,
 *    clamped to [0, 2^32 - 1]; a point's Morton key interleaves the bits of
 *    x (higher bit of each pair) and y, so the points of one tile at zoom
 *    z, and of one cell of a finer grid, are one contiguous run of the
 *    sorted keys;
 *  - points are never buffered: a point belongs to exactly one tile per
 *    zoom (the one holding it, edges half open), which is what makes
 *    cluster counts add up to the sites of a tile;
 *  - everything here is immutable after tiles_load() except the lazily
 *    simplified shapes of each zoom (guarded by `simplify_lock`) and the
 *    cache (its own lock). */
#ifndef MAILLAGE_TILE_LAYERS_H
#define MAILLAGE_TILE_LAYERS_H

#include "base/buffer.h"
#include "tiles/mvt.h"
#include "model/snapshot.h"
#include "store/store.h"
#include "tiles/tile_cache.h"
#include "tiles/tile_geometry.h"
#include "tiles/tile_filter.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define TILE_BUFFER 64             /* tile units around lines and polygons */
#define TILE_CLUSTER_MAX_ZOOM 8    /* z <= 8: every cell with 2+ positions clusters */
#define TILE_SITES_MAX_ZOOM 16     /* the sites layer's maxzoom: never clustered */
#define TILE_CLUSTER_CELL_BITS 4   /* a 16 x 16 grid of cells per tile */
#define TILE_DENSE_CELL_SITES 8    /* z 9..15: a cell with more sites clusters */
#define TILE_FOLD_LIST_LIMIT 100   /* site_ids listed on one folded point */
#define TILE_MAX_LINK_BUNDLES 4096 /* network lines per tile */
#define TILE_SIMPLIFY_MAX_ZOOM 12  /* above, the source geometry is used */
#define TILE_PLACES_MIN_ZOOM 5     /* the places layer's minzoom */
#define TILE_PLACES_ALL_ZOOM 11    /* from this zoom, every place is drawn */
#define TILE_PLACES_MAX_ZOOM 14    /* the places layer's maxzoom */
#define TILE_PLACES_CELL_BITS 3    /* thinning: an 8 x 8 grid of cells per tile */

/* --- point index ------------------------------------------------------------- */

typedef struct PointIndex {
    uint64_t *keys;  /* sorted Morton keys */
    uint32_t *items; /* the item (site, établissement or place index) of each key */
    size_t count;
} PointIndex;

uint32_t tile_fixed(double world); /* world unit -> 32-bit fixed point */
/* The Morton key of (x, y): x's bits in the odd positions, y's in the even. */
uint64_t tile_morton(uint32_t x, uint32_t y);
/* The inverse of tile_morton(). */
void tile_morton_decode(uint64_t key, uint32_t *x, uint32_t *y);
/* Builds the index over `count` items with fixed-point positions; items
 * with equal keys are ordered by `tie_break` (a strcmp-like function on
 * item indexes, may be NULL: then by index). `index` is overwritten and
 * owned by the caller (point_index_free()). Returns 0, or -1 when out of
 * memory (`index` then empty). */
int point_index_build(PointIndex *index, const uint32_t *x, const uint32_t *y, size_t count,
                      int (*tie_break)(const void *context, uint32_t a, uint32_t b),
                      const void *context);
/* Frees the arrays and zeroes the index; safe on a zeroed index and twice. */
void point_index_free(PointIndex *index);
/* The run [*first, *last) of keys inside the grid cell of `level` (a tile
 * zoom, possibly beyond 16) whose column/row are `cell_x`, `cell_y`. */
void point_index_range(const PointIndex *index, int level, uint64_t cell_x, uint64_t cell_y,
                       size_t *first, size_t *last);
/* Tile coordinates of a fixed-point position, rounded, for zoom <= 20. */
MvtPoint tile_fixed_point(TileAddress tile, uint32_t x, uint32_t y);

/* --- per-layer data --------------------------------------------------------- */

typedef struct Area {
    const char *code, *name, *region, *level; /* level: "departement" or "region" */
    int64_t population;
    Shape source;
} Area;

typedef struct Etablissement {
    const char *finess, *name, *city, *facility_type;
    int in_network; /* a care-network site gives this FINESS number */
} Etablissement;

/* A named place (a commune with a point), for the `places` layer. */
typedef struct TilePlace {
    const char *code, *name;
    int64_t population; /* 0 when unknown */
    uint32_t rank;      /* 0 = labelled first (tile_layers_places.c) */
    uint8_t min_zoom;   /* the lowest zoom that draws it, TILE_PLACES_MIN_ZOOM..ALL_ZOOM */
} TilePlace;

/* Basemap shapes, in this order. */
enum {
    BASEMAP_LAND,
    BASEMAP_COASTLINE,
    BASEMAP_REGION_BOUNDARIES,
    BASEMAP_DEPARTEMENT_BOUNDARIES,
    BASEMAP_SHAPE_COUNT
};

/* The shapes of one zoom, simplified lazily one by one (the first tile
 * that needs a shape pays for it): slots parallel to TileSet.areas and
 * TileSet.basemap_chunks, with a ready flag each. */
typedef struct ZoomShapes {
    Shape *areas, *basemap;
    uint8_t *area_ready, *basemap_ready;
} ZoomShapes;

typedef struct TileSet TileSet;

struct TileSet {
    const Snapshot *snapshot;
    /* sites and network */
    uint32_t *site_x, *site_y; /* fixed-point world positions, by site index */
    PointIndex sites;
    uint8_t *site_attributes; /* role | audience << 4, in index order */
    double site_bounds[4];    /* west, south, east, north of the sites (degrees) */
    size_t *links_by_cell;    /* link indexes sorted by (level, cell key) */
    uint64_t *link_cells;     /* sorted composite keys, parallel to links_by_cell */
    size_t link_count;
    /* areas and basemap */
    Area *areas;
    size_t area_count;
    Shape *basemap_chunks; /* one polygon or line each, grouped by kind: */
    size_t basemap_kind_start[BASEMAP_SHAPE_COUNT + 1];
    ZoomShapes zooms[TILE_SIMPLIFY_MAX_ZOOM + 1];
    pthread_mutex_t simplify_lock;
    double area_bounds[4]; /* west, south, east, north (degrees) */
    double basemap_load_seconds;
    /* établissements */
    Etablissement *etablissements;
    size_t etablissement_count;
    uint32_t *etablissement_x, *etablissement_y;
    PointIndex etablissement_index;
    /* places */
    TilePlace *places; /* sorted by INSEE code */
    size_t place_count;
    uint32_t *place_x, *place_y; /* fixed-point world positions, by place index */
    PointIndex place_index;
    uint32_t *place_by_rank; /* place index of each rank */
    char **owned_strings;    /* the text of areas, établissements and places */
    size_t owned_string_count, owned_string_capacity;
    /* serving */
    TileCache *cache;
    int allow_nocache; /* TileSetOptions.allow_nocache */
};

/* Context of one tile being built. */
typedef struct TileJob {
    TileSet *tiles;
    TileAddress tile;
    TileFilter filter;
    GEOSContextHandle_t geos; /* created lazily by the polygon layers */
} TileJob;

/* Loaders (tile_layers_*.c), called once by tiles_load() on a zeroed
 * TileSet (the sites' one in its own thread, so they touch disjoint
 * fields). Each returns 0, or -1 with a one-line message in `error`; what
 * was loaded before a failure stays in `tiles` for the matching free. */

/* The sites' fixed-point positions and point index, and the links by cell,
 * from the snapshot; -1 only when out of memory. */
int tile_sites_load(TileSet *tiles, char *error, size_t error_size);
/* The départements and régions from `store`, and the basemap built from
 * them; -1 on a database, GEOS or memory failure. */
int tile_areas_load(TileSet *tiles, Store *store, char *error, size_t error_size);
/* The établissements with a position from `store`, and their point index;
 * -1 on a database or memory failure. */
int tile_etablissements_load(TileSet *tiles, Store *store, char *error, size_t error_size);
/* The communes with a point from `store` (table `communes`, kind
 * 'commune'), their point index, and each one's min_zoom and rank; -1 on
 * a database or memory failure. */
int tile_places_load(TileSet *tiles, Store *store, char *error, size_t error_size);
/* Each frees what the matching loader stored (also after its failure, or on
 * a zeroed TileSet); the TileSet itself and its owned strings stay. */
void tile_sites_free(TileSet *tiles);
void tile_areas_free(TileSet *tiles);
void tile_etablissements_free(TileSet *tiles);
void tile_places_free(TileSet *tiles);

/* Encoders: add the layer's features for job->tile (filtered by
 * job->filter for sites and network) into `layer`, from any thread; areas
 * and basemap need job->geos. Return 0, or -1 on failure (out of memory,
 * GEOS error), the layer then holding partial features: discard it. */
int tile_encode_sites(TileJob *job, MvtLayer *layer);
int tile_encode_network(TileJob *job, MvtLayer *layer);
int tile_encode_areas(TileJob *job, MvtLayer *layer);
int tile_encode_basemap(TileJob *job, MvtLayer *layer);
int tile_encode_etablissements(TileJob *job, MvtLayer *layer);
int tile_encode_places(TileJob *job, MvtLayer *layer);

/* The shape of area i or basemap chunk i to draw at `zoom` (the source
 * above TILE_SIMPLIFY_MAX_ZOOM, else simplified lazily, once, under
 * `simplify_lock`), owned by the TileSet. NULL on failure (a later call
 * tries again). Thread-safe. */
const Shape *tile_zoom_area(TileSet *tiles, int zoom, size_t area, GEOSContextHandle_t geos);
const Shape *tile_zoom_basemap(TileSet *tiles, int zoom, size_t chunk, GEOSContextHandle_t geos);

/* A copy of `text` owned by the TileSet (NULL for NULL or ""); sets
 * *failed when out of memory. */
const char *tile_keep_string(TileSet *tiles, const char *text, int *failed);

#endif
