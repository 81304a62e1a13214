/* tile_geometry.h — Web Mercator, tile addressing, and the polygon and line
 * pipeline of the vector tiles (GEOS clip by rectangle, per-zoom
 * simplification, snapping to the tile grid, validity).
 *
 * Owns: the one definition of "where a WGS84 point falls in a tile" and the
 * Shape, a compact read-only copy of a (multi)polygon or (multi)line string
 * in world units. Invariants:
 *  - Web Mercator is the exact spherical formula of EPSG:3857 (the one
 *    every web map and the JS test use), not an ellipsoidal one; latitude
 *    is clamped to ±TILE_MAX_LATITUDE;
 *  - world units: x in [0, 1] from 180°W eastwards, y in [0, 1] from the
 *    northern limit southwards; a tile (z, x, y) spans
 *    [x, x+1] / 2^z by [y, y+1] / 2^z and its tile coordinates run from 0 to
 *    MVT_EXTENT, y down;
 *  - a Shape is immutable once built, so many threads may read it; GEOS
 *    objects never outlive one call and use the caller's GEOS context
 *    (one per thread);
 *  - clipped polygons come out on the integer tile grid and valid, each
 *    polygon checked with GEOSisValid when rounding moved it, snap-rounded
 *    (GEOSGeom_setPrecision) when invalid, GEOSMakeValid as a last resort:
 *    what tile_clip_shape() returns is exactly what is encoded. */
#ifndef MAILLAGE_TILE_GEOMETRY_H
#define MAILLAGE_TILE_GEOMETRY_H

#include "tiles/mvt.h"

#include <geos_c.h>
#include <stddef.h>
#include <stdint.h>

#define TILE_MAX_LATITUDE 85.0511287798066
#define TILE_MAX_ZOOM 22

/* WGS84 degrees to world units (see above). */
void tile_mercator(double lat, double lon, double *world_x, double *world_y);
/* World units back to degrees (for TileJSON bounds and tests). */
void tile_mercator_inverse(double world_x, double world_y, double *lat, double *lon);

typedef struct TileAddress {
    int z;
    uint32_t x, y;
} TileAddress;

/* The tile's extent in world units, widened by `buffer` tile units. */
typedef struct TileBox {
    double min_x, min_y, max_x, max_y;
} TileBox;
/* The extent of `tile` in world units, widened by `buffer` tile units on
 * every side (a negative buffer shrinks it). */
TileBox tile_box(TileAddress tile, int buffer);
/* World units to (unrounded) tile coordinates of `tile`. */
void tile_project(TileAddress tile, double world_x, double world_y, double *tile_x, double *tile_y);
/* Rounded to the nearest integer, as encoded. */
MvtPoint tile_point(TileAddress tile, double world_x, double world_y);

typedef enum ShapeKind { SHAPE_POLYGONS, SHAPE_LINES } ShapeKind;

typedef struct Shape {
    ShapeKind kind;
    uint32_t point_count, part_count;
    double *xy;             /* point_count (x, y) pairs in world units */
    uint32_t *part_start;   /* part_count + 1 entries: the points of part i are
                               [part_start[i], part_start[i+1]) */
    uint8_t *part_exterior; /* polygons: 1 for an exterior ring (it starts a
                               polygon), 0 for a hole of the polygon before */
    TileBox bounds;
    int snapped; /* coordinates lie on the grid of one tile unit at
                    the zoom the shape was simplified for */
} Shape;

/* Frees the shape's arrays and zeroes it (the Shape itself is the
 * caller's); safe on a zeroed shape and twice. */
void shape_free(Shape *shape);
/* Grows a Shape under construction so `points` more points and two more
 * parts fit; capacities double from the given first sizes. Returns 0, or -1
 * when out of memory (the Shape is unchanged and still freeable). */
int shape_reserve(Shape *shape, uint32_t *point_capacity, uint32_t *part_capacity, uint32_t points,
                  uint32_t first_point_capacity, uint32_t first_part_capacity);
/* Copies a GEOS (multi)polygon, (multi)line string or collection of them,
 * whose coordinates are WGS84 longitude/latitude, into `shape` (overwritten,
 * owned by the caller: shape_free()) in world units. Returns 0, or -1 when
 * out of memory or on a GEOS error, `shape` then empty. Points are ignored. */
int shape_from_lonlat_geometry(GEOSContextHandle_t context, const GEOSGeometry *geometry,
                               ShapeKind kind, Shape *shape);
/* The same for a geometry already in world units. */
int shape_from_world_geometry(GEOSContextHandle_t context, const GEOSGeometry *geometry,
                              ShapeKind kind, Shape *shape);
/* Builds a GEOS geometry (world units) from a shape, which the caller
 * destroys with GEOSGeom_destroy_r(); NULL on failure. */
GEOSGeometry *shape_to_geometry(GEOSContextHandle_t context, const Shape *shape);
/* Topology-preserving simplification with `tolerance` world units, then,
 * when `grid` > 0, snapping to that grid (polygons stay valid: snap
 * rounding); polygon rings smaller than `minimum_ring_area` (square world
 * units) are dropped (an exterior ring with its holes). A grid of one tile
 * unit at zoom z (2^-(12+z), exact in binary) makes the tiles of that zoom
 * land on integers, so they rarely need snapping again after clipping.
 * Writes into `simplified` (owned by the caller). Returns 0, or -1 on
 * failure (out of memory, GEOS error), `simplified` then empty. */
int shape_simplify(GEOSContextHandle_t context, const Shape *shape, double tolerance,
                   double minimum_ring_area, double grid, Shape *simplified);
/* 1 when the shape has a part and its bounds meet `box` (edges included),
 * else 0: a quick test, the parts themselves may miss the box. */
int shape_intersects_box(const Shape *shape, TileBox box);

/* Clips `shape` to the tile widened by `buffer` units and returns it in
 * integer tile coordinates (the caller destroys it): polygons valid (see
 * above), lines clipped. Returns NULL when nothing is left (*failed
 * untouched) or on failure (*failed set to 1). */
GEOSGeometry *tile_clip_shape(GEOSContextHandle_t context, const Shape *shape, TileAddress tile,
                              int buffer, int *failed);
/* Writes the polygons or lines of a clipped geometry (tile coordinates)
 * into the current feature of `layer`, as the feature's type allows.
 * Returns the number of parts written; out of memory marks the layer
 * failed (mvt.h). */
size_t tile_encode_geometry(GEOSContextHandle_t context, const GEOSGeometry *geometry,
                            MvtLayer *layer);

#endif
