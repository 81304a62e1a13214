/* tile_geometry.c — Web Mercator, Shapes and the GEOS clip / simplify /
 * snap pipeline; see tile_geometry.h. */
#include "tiles/tile_geometry.h"
#include "base/array.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void tile_mercator(double lat, double lon, double *world_x, double *world_y)
{
    if (lat > TILE_MAX_LATITUDE)
        lat = TILE_MAX_LATITUDE;
    if (lat < -TILE_MAX_LATITUDE)
        lat = -TILE_MAX_LATITUDE;
    double sine = sin(lat * M_PI / 180.0);
    *world_x = (lon + 180.0) / 360.0;
    *world_y = 0.5 - log((1.0 + sine) / (1.0 - sine)) / (4.0 * M_PI);
}

void tile_mercator_inverse(double world_x, double world_y, double *lat, double *lon)
{
    *lon = world_x * 360.0 - 180.0;
    *lat = atan(sinh(M_PI * (1.0 - 2.0 * world_y))) * 180.0 / M_PI;
}

TileBox tile_box(TileAddress tile, int buffer)
{
    double tiles = ldexp(1.0, tile.z);
    double margin = (double)buffer / MVT_EXTENT;
    TileBox box = {((double)tile.x - margin) / tiles, ((double)tile.y - margin) / tiles,
                   ((double)tile.x + 1.0 + margin) / tiles,
                   ((double)tile.y + 1.0 + margin) / tiles};
    return box;
}

void tile_project(TileAddress tile, double world_x, double world_y, double *tile_x, double *tile_y)
{
    double tiles = ldexp(1.0, tile.z);
    *tile_x = (world_x * tiles - (double)tile.x) * MVT_EXTENT;
    *tile_y = (world_y * tiles - (double)tile.y) * MVT_EXTENT;
}

MvtPoint tile_point(TileAddress tile, double world_x, double world_y)
{
    double x, y;
    tile_project(tile, world_x, world_y, &x, &y);
    MvtPoint point = {(int32_t)lround(x), (int32_t)lround(y)};
    return point;
}

/* --- Shapes ------------------------------------------------------------------ */

void shape_free(Shape *shape)
{
    free(shape->xy);
    free(shape->part_start);
    free(shape->part_exterior);
    memset(shape, 0, sizeof *shape);
}

/* Growable Shape under construction. */
typedef struct ShapeBuilder {
    Shape *shape;
    uint32_t point_capacity, part_capacity;
    int project;              /* coordinates are lon/lat to project */
    double minimum_ring_area; /* world units; 0 keeps every ring */
    int skipping_holes;       /* the last exterior ring was dropped */
    int failed;
} ShapeBuilder;

int shape_reserve(Shape *shape, uint32_t *point_capacity, uint32_t *part_capacity, uint32_t points,
                  uint32_t first_point_capacity, uint32_t first_part_capacity)
{
    if (shape->point_count + points > *point_capacity) {
        uint32_t capacity = *point_capacity ? *point_capacity * 2 : first_point_capacity;
        while (capacity < shape->point_count + points)
            capacity *= 2;
        double *xy = realloc(shape->xy, (size_t)capacity * 2 * sizeof *xy);
        if (!xy)
            return -1;
        shape->xy = xy;
        *point_capacity = capacity;
    }
    if (shape->part_count + 2 > *part_capacity) {
        uint32_t capacity = *part_capacity ? *part_capacity * 2 : first_part_capacity;
        uint32_t *starts = realloc(shape->part_start, (size_t)capacity * sizeof *starts);
        if (starts)
            shape->part_start = starts;
        uint8_t *exterior = realloc(shape->part_exterior, capacity);
        if (exterior)
            shape->part_exterior = exterior;
        if (!starts || !exterior)
            return -1;
        *part_capacity = capacity;
    }
    return 0;
}

static int builder_reserve(ShapeBuilder *builder, uint32_t points)
{
    return shape_reserve(builder->shape, &builder->point_capacity, &builder->part_capacity, points,
                         256, 16);
}

static double ring_area(const double *xy, uint32_t count)
{
    double area2 = 0;
    for (uint32_t i = 0; i + 1 < count; i++)
        area2 += xy[2 * i] * xy[2 * i + 3] - xy[2 * i + 2] * xy[2 * i + 1];
    return fabs(area2) / 2;
}

static void builder_add_part(ShapeBuilder *builder, const GEOSGeometry *line, int exterior,
                             GEOSContextHandle_t context)
{
    if (builder->failed)
        return;
    if (!exterior && builder->skipping_holes)
        return;
    const GEOSCoordSequence *sequence = GEOSGeom_getCoordSeq_r(context, line);
    unsigned int size = 0;
    if (!sequence || !GEOSCoordSeq_getSize_r(context, sequence, &size)) {
        builder->failed = 1;
        return;
    }
    if (size < 2)
        return;
    if (builder_reserve(builder, size) != 0) {
        builder->failed = 1;
        return;
    }
    Shape *shape = builder->shape;
    double *xy = shape->xy + (size_t)shape->point_count * 2;
    if (!GEOSCoordSeq_copyToBuffer_r(context, sequence, xy, 0, 0)) {
        builder->failed = 1;
        return;
    }
    if (builder->project) {
        for (unsigned int i = 0; i < size; i++)
            tile_mercator(xy[2 * i + 1], xy[2 * i], &xy[2 * i], &xy[2 * i + 1]);
    }
    if (shape->kind == SHAPE_POLYGONS && builder->minimum_ring_area > 0 &&
        ring_area(xy, size) < builder->minimum_ring_area) {
        if (exterior)
            builder->skipping_holes = 1;
        return;
    }
    if (exterior)
        builder->skipping_holes = 0;
    for (unsigned int i = 0; i < size; i++) {
        double x = xy[2 * i], y = xy[2 * i + 1];
        if (x < shape->bounds.min_x)
            shape->bounds.min_x = x;
        if (x > shape->bounds.max_x)
            shape->bounds.max_x = x;
        if (y < shape->bounds.min_y)
            shape->bounds.min_y = y;
        if (y > shape->bounds.max_y)
            shape->bounds.max_y = y;
    }
    shape->part_start[shape->part_count] = shape->point_count;
    shape->part_exterior[shape->part_count] = (uint8_t)(exterior ? 1 : 0);
    shape->part_count++;
    shape->point_count += size;
    shape->part_start[shape->part_count] = shape->point_count;
}

static void builder_add_geometry(ShapeBuilder *builder, const GEOSGeometry *geometry,
                                 GEOSContextHandle_t context)
{
    switch (GEOSGeomTypeId_r(context, geometry)) {
    case GEOS_POLYGON: {
        const GEOSGeometry *shell = GEOSGetExteriorRing_r(context, geometry);
        if (!shell || GEOSisEmpty_r(context, shell))
            return;
        builder_add_part(builder, shell, 1, context);
        int holes = GEOSGetNumInteriorRings_r(context, geometry);
        for (int i = 0; i < holes; i++)
            builder_add_part(builder, GEOSGetInteriorRingN_r(context, geometry, i), 0, context);
        return;
    }
    case GEOS_LINESTRING:
    case GEOS_LINEARRING:
        if (builder->shape->kind == SHAPE_LINES)
            builder_add_part(builder, geometry, 0, context);
        return;
    case GEOS_MULTIPOLYGON:
    case GEOS_MULTILINESTRING:
    case GEOS_GEOMETRYCOLLECTION: {
        int count = GEOSGetNumGeometries_r(context, geometry);
        for (int i = 0; i < count; i++)
            builder_add_geometry(builder, GEOSGetGeometryN_r(context, geometry, i), context);
        return;
    }
    default:
        return;
    }
}

static int shape_from_geometry(GEOSContextHandle_t context, const GEOSGeometry *geometry,
                               ShapeKind kind, int project, double minimum_ring_area, Shape *shape)
{
    memset(shape, 0, sizeof *shape);
    shape->kind = kind;
    shape->bounds = (TileBox){INFINITY, INFINITY, -INFINITY, -INFINITY};
    ShapeBuilder builder = {shape, 0, 0, project, minimum_ring_area, 0, 0};
    if (builder_reserve(&builder, 0) != 0)
        builder.failed = 1;
    else
        shape->part_start[0] = 0;
    builder_add_geometry(&builder, geometry, context);
    if (builder.failed) {
        shape_free(shape);
        return -1;
    }
    return 0;
}

int shape_from_lonlat_geometry(GEOSContextHandle_t context, const GEOSGeometry *geometry,
                               ShapeKind kind, Shape *shape)
{
    return shape_from_geometry(context, geometry, kind, 1, 0, shape);
}

int shape_from_world_geometry(GEOSContextHandle_t context, const GEOSGeometry *geometry,
                              ShapeKind kind, Shape *shape)
{
    return shape_from_geometry(context, geometry, kind, 0, 0, shape);
}

int shape_intersects_box(const Shape *shape, TileBox box)
{
    return shape->part_count > 0 && shape->bounds.min_x <= box.max_x &&
           shape->bounds.max_x >= box.min_x && shape->bounds.min_y <= box.max_y &&
           shape->bounds.max_y >= box.min_y;
}

/* Bounds of part i. */
static TileBox part_bounds(const Shape *shape, uint32_t part)
{
    TileBox box = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (uint32_t i = shape->part_start[part]; i < shape->part_start[part + 1]; i++) {
        double x = shape->xy[2 * i], y = shape->xy[2 * i + 1];
        box.min_x = x < box.min_x ? x : box.min_x;
        box.max_x = x > box.max_x ? x : box.max_x;
        box.min_y = y < box.min_y ? y : box.min_y;
        box.max_y = y > box.max_y ? y : box.max_y;
    }
    return box;
}

static int boxes_intersect(TileBox a, TileBox b)
{
    return a.min_x <= b.max_x && a.max_x >= b.min_x && a.min_y <= b.max_y && a.max_y >= b.min_y;
}

/* A GEOS ring or line from part i, mapped into tile coordinates when
 * `tile` is given (else left in world units). Rings are closed. */
static GEOSCoordSequence *part_sequence(GEOSContextHandle_t context, const Shape *shape,
                                        uint32_t part, const TileAddress *tile)
{
    uint32_t start = shape->part_start[part], count = shape->part_start[part + 1] - start;
    int close = shape->kind == SHAPE_POLYGONS &&
                (shape->xy[2 * start] != shape->xy[2 * (start + count - 1)] ||
                 shape->xy[2 * start + 1] != shape->xy[2 * (start + count - 1) + 1]);
    double *xy = malloc(((size_t)count + 1) * 2 * sizeof *xy);
    if (!xy)
        return NULL;
    /* tile_project(), with its constants hoisted out of the loop. */
    double scale = tile ? ldexp(1.0, tile->z) : 1.0;
    double origin_x = tile ? (double)tile->x : 0, origin_y = tile ? (double)tile->y : 0;
    double extent = tile ? MVT_EXTENT : 1.0;
    for (uint32_t i = 0; i < count; i++) {
        double x = shape->xy[2 * (start + i)], y = shape->xy[2 * (start + i) + 1];
        xy[2 * i] = tile ? (x * scale - origin_x) * extent : x;
        xy[2 * i + 1] = tile ? (y * scale - origin_y) * extent : y;
    }
    if (close) {
        xy[2 * count] = xy[0];
        xy[2 * count + 1] = xy[1];
    }
    GEOSCoordSequence *sequence =
        GEOSCoordSeq_copyFromBuffer_r(context, xy, count + (close ? 1 : 0), 0, 0);
    free(xy);
    return sequence;
}

/* Builds the parts of `shape` that meet `filter` (all parts when NULL) as
 * one GEOS multi geometry, in tile coordinates when `tile` is given. */
static GEOSGeometry *build_geometry(GEOSContextHandle_t context, const Shape *shape,
                                    const TileBox *filter, const TileAddress *tile)
{
    GEOSGeometry **members = calloc(shape->part_count ? shape->part_count : 1, sizeof *members);
    GEOSGeometry **holes = calloc(shape->part_count ? shape->part_count : 1, sizeof *holes);
    size_t member_count = 0;
    int failed = !members || !holes;
    uint32_t part = 0;
    while (!failed && part < shape->part_count) {
        uint32_t end = part + 1;
        if (shape->kind == SHAPE_POLYGONS)
            while (end < shape->part_count && !shape->part_exterior[end])
                end++;
        uint32_t size = shape->part_start[part + 1] - shape->part_start[part];
        int wanted = size >= (shape->kind == SHAPE_POLYGONS ? 3u : 2u) &&
                     (!filter || boxes_intersect(part_bounds(shape, part), *filter));
        if (wanted && shape->kind == SHAPE_LINES) {
            GEOSCoordSequence *sequence = part_sequence(context, shape, part, tile);
            GEOSGeometry *line = sequence ? GEOSGeom_createLineString_r(context, sequence) : NULL;
            if (line)
                members[member_count++] = line;
            else
                failed = 1;
        } else if (wanted) {
            GEOSCoordSequence *sequence = part_sequence(context, shape, part, tile);
            GEOSGeometry *shell = sequence ? GEOSGeom_createLinearRing_r(context, sequence) : NULL;
            unsigned int hole_count = 0;
            for (uint32_t hole = part + 1; shell && hole < end; hole++) {
                if (shape->part_start[hole + 1] - shape->part_start[hole] < 3)
                    continue;
                GEOSCoordSequence *hole_sequence = part_sequence(context, shape, hole, tile);
                GEOSGeometry *ring =
                    hole_sequence ? GEOSGeom_createLinearRing_r(context, hole_sequence) : NULL;
                if (!ring) {
                    failed = 1;
                    break;
                }
                holes[hole_count++] = ring;
            }
            GEOSGeometry *polygon =
                shell && !failed ? GEOSGeom_createPolygon_r(context, shell, holes, hole_count)
                                 : NULL;
            if (polygon) {
                members[member_count++] = polygon;
            } else {
                if (shell)
                    GEOSGeom_destroy_r(context, shell);
                for (unsigned int i = 0; i < hole_count; i++)
                    GEOSGeom_destroy_r(context, holes[i]);
                failed = 1;
            }
        }
        part = end;
    }
    GEOSGeometry *result = NULL;
    if (!failed) {
        int type = shape->kind == SHAPE_POLYGONS ? GEOS_MULTIPOLYGON : GEOS_MULTILINESTRING;
        result = GEOSGeom_createCollection_r(context, type, members, (unsigned int)member_count);
        if (!result)
            failed = 1;
    }
    if (failed && members)
        for (size_t i = 0; i < member_count; i++)
            GEOSGeom_destroy_r(context, members[i]);
    free(members);
    free(holes);
    return result;
}

GEOSGeometry *shape_to_geometry(GEOSContextHandle_t context, const Shape *shape)
{
    return build_geometry(context, shape, NULL, NULL);
}

int shape_simplify(GEOSContextHandle_t context, const Shape *shape, double tolerance,
                   double minimum_ring_area, double grid, Shape *simplified)
{
    memset(simplified, 0, sizeof *simplified);
    GEOSGeometry *geometry = build_geometry(context, shape, NULL, NULL);
    if (!geometry)
        return -1;
    GEOSGeometry *result = GEOSTopologyPreserveSimplify_r(context, geometry, tolerance);
    GEOSGeom_destroy_r(context, geometry);
    if (result && grid > 0) {
        int flags = shape->kind == SHAPE_POLYGONS ? GEOS_PREC_VALID_OUTPUT : GEOS_PREC_NO_TOPO;
        GEOSGeometry *snapped = GEOSGeom_setPrecision_r(context, result, grid, flags);
        GEOSGeom_destroy_r(context, result);
        result = snapped;
    }
    if (!result)
        return -1;
    int status =
        shape_from_geometry(context, result, shape->kind, 0, minimum_ring_area, simplified);
    GEOSGeom_destroy_r(context, result);
    if (status == 0)
        simplified->snapped = grid > 0;
    return status;
}

/* What rounding to the grid did to a clipped geometry. */
typedef struct Rounding {
    double low, high; /* the clip rectangle */
    int changed;      /* a coordinate moved */
    int on_edge;      /* a vertex lies on the clip rectangle */
} Rounding;

/* GEOSGeom_transformXY callback: rounds to the integer grid. */
static int round_coordinate(double *x, double *y, void *userdata)
{
    Rounding *rounding = userdata;
    double rounded_x = nearbyint(*x), rounded_y = nearbyint(*y);
    if (rounded_x != *x || rounded_y != *y)
        rounding->changed = 1;
    if (rounded_x == rounding->low || rounded_x == rounding->high || rounded_y == rounding->low ||
        rounded_y == rounding->high)
        rounding->on_edge = 1;
    *x = rounded_x;
    *y = rounded_y;
    return 1;
}

/* One clipped polygon on the integer grid, valid. Shapes are pre-snapped
 * per zoom, so a polygon that rounding did not move and that does not
 * touch the clip rectangle is its valid source, translated: it is not
 * checked again. Any other (cut by the rectangle, where the clip can make
 * a ring touch itself, or moved by rounding) is checked with GEOSisValid,
 * snap-rounded properly when invalid (valid output), and repaired with
 * GEOSMakeValid; when GEOS can do neither, the rounded polygon is kept as
 * it is (a tile slightly invalid at one spot beats no tile). Returns NULL
 * only when even rounding failed (out of memory). */
static GEOSGeometry *snap_polygon(GEOSContextHandle_t context, const GEOSGeometry *polygon,
                                  int source_snapped, double low, double high)
{
    Rounding rounding = {low, high, 0, 0};
    GEOSGeometry *rounded = GEOSGeom_transformXY_r(context, polygon, round_coordinate, &rounding);
    if (!rounded || (!rounding.changed && !rounding.on_edge && source_snapped) ||
        GEOSisValid_r(context, rounded) == 1)
        return rounded;
    GEOSGeometry *snapped = GEOSGeom_setPrecision_r(context, polygon, 1.0, GEOS_PREC_VALID_OUTPUT);
    if (snapped && GEOSisValid_r(context, snapped) != 1) {
        GEOSGeometry *repaired = GEOSMakeValid_r(context, snapped);
        GEOSGeom_destroy_r(context, snapped);
        snapped = repaired;
    }
    if (!snapped)       /* GEOS could do neither (found by fuzzing, an areas tile at z 12): the */
        return rounded; /* rounded polygon, drawn as it is, rather than no tile at all */
    GEOSGeom_destroy_r(context, rounded);
    return snapped;
}

/* Appends the polygons of `geometry` (any polygonal or collection type) to
 * `members`; returns -1 on failure. */
static int collect_snapped(GEOSContextHandle_t context, const GEOSGeometry *geometry,
                           int source_snapped, double low, double high, GEOSGeometry ***members,
                           size_t *count, size_t *capacity)
{
    int type = GEOSGeomTypeId_r(context, geometry);
    if (type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
        int parts = GEOSGetNumGeometries_r(context, geometry);
        for (int i = 0; i < parts; i++)
            if (collect_snapped(context, GEOSGetGeometryN_r(context, geometry, i), source_snapped,
                                low, high, members, count, capacity) != 0)
                return -1;
        return 0;
    }
    if (type != GEOS_POLYGON || GEOSisEmpty_r(context, geometry))
        return 0;
    if (array_reserve(*members, *capacity, *count + 1, 16) != 0)
        return -1;
    GEOSGeometry *snapped = snap_polygon(context, geometry, source_snapped, low, high);
    if (!snapped)
        return -1;
    (*members)[(*count)++] = snapped;
    return 0;
}

/* The clipped polygons on the grid, as one collection; NULL on failure. */
static GEOSGeometry *snap_polygons(GEOSContextHandle_t context, const GEOSGeometry *geometry,
                                   int source_snapped, double low, double high)
{
    GEOSGeometry **members = NULL;
    size_t count = 0, capacity = 0;
    GEOSGeometry *result = NULL;
    if (collect_snapped(context, geometry, source_snapped, low, high, &members, &count,
                        &capacity) == 0)
        result = GEOSGeom_createCollection_r(context, GEOS_GEOMETRYCOLLECTION, members,
                                             (unsigned int)count);
    if (!result)
        for (size_t i = 0; i < count; i++)
            GEOSGeom_destroy_r(context, members[i]);
    free(members);
    return result;
}

GEOSGeometry *tile_clip_shape(GEOSContextHandle_t context, const Shape *shape, TileAddress tile,
                              int buffer, int *failed)
{
    TileBox box = tile_box(tile, buffer);
    if (!shape_intersects_box(shape, box))
        return NULL;
    GEOSGeometry *geometry = build_geometry(context, shape, &box, &tile);
    if (!geometry) {
        *failed = 1;
        return NULL;
    }
    double low = -buffer, high = MVT_EXTENT + buffer;
    int inside = shape->bounds.min_x >= box.min_x && shape->bounds.max_x <= box.max_x &&
                 shape->bounds.min_y >= box.min_y && shape->bounds.max_y <= box.max_y;
    if (!inside) {
        GEOSGeometry *clipped = GEOSClipByRect_r(context, geometry, low, low, high, high);
        GEOSGeom_destroy_r(context, geometry);
        geometry = clipped;
    }
    if (geometry && shape->kind == SHAPE_POLYGONS) {
        GEOSGeometry *snapped = snap_polygons(context, geometry, shape->snapped, low, high);
        GEOSGeom_destroy_r(context, geometry);
        geometry = snapped;
    } else if (geometry) {
        Rounding rounding = {low, high, 0, 0};
        GEOSGeometry *snapped =
            GEOSGeom_transformXY_r(context, geometry, round_coordinate, &rounding);
        GEOSGeom_destroy_r(context, geometry);
        geometry = snapped;
    }
    if (!geometry) {
        *failed = 1;
        return NULL;
    }
    if (GEOSisEmpty_r(context, geometry)) {
        GEOSGeom_destroy_r(context, geometry);
        return NULL;
    }
    return geometry;
}

/* The integer points of a GEOS ring or line (already on the grid). */
static MvtPoint *sequence_points(GEOSContextHandle_t context, const GEOSGeometry *line,
                                 size_t *count)
{
    *count = 0;
    const GEOSCoordSequence *sequence = GEOSGeom_getCoordSeq_r(context, line);
    unsigned int size = 0;
    if (!sequence || !GEOSCoordSeq_getSize_r(context, sequence, &size) || size == 0)
        return NULL;
    double *xy = malloc((size_t)size * 2 * sizeof *xy);
    MvtPoint *points = malloc((size_t)size * sizeof *points);
    if (!xy || !points || !GEOSCoordSeq_copyToBuffer_r(context, sequence, xy, 0, 0)) {
        free(xy);
        free(points);
        return NULL;
    }
    for (unsigned int i = 0; i < size; i++) {
        points[i].x = (int32_t)lround(xy[2 * i]);
        points[i].y = (int32_t)lround(xy[2 * i + 1]);
    }
    free(xy);
    *count = size;
    return points;
}

static size_t encode_ring(GEOSContextHandle_t context, const GEOSGeometry *ring, int exterior,
                          MvtLayer *layer)
{
    size_t count;
    MvtPoint *points = sequence_points(context, ring, &count);
    if (!points) {
        if (!GEOSisEmpty_r(context, ring))
            layer->failed = 1;
        return 0;
    }
    int written = exterior < 0 ? mvt_line(layer, points, count)
                               : mvt_polygon_ring(layer, points, count, exterior);
    free(points);
    return (size_t)written;
}

size_t tile_encode_geometry(GEOSContextHandle_t context, const GEOSGeometry *geometry,
                            MvtLayer *layer)
{
    switch (GEOSGeomTypeId_r(context, geometry)) {
    case GEOS_POLYGON: {
        if (layer->type != MVT_POLYGON)
            return 0;
        const GEOSGeometry *shell = GEOSGetExteriorRing_r(context, geometry);
        if (!shell || encode_ring(context, shell, 1, layer) == 0)
            return 0; /* a dropped exterior takes its holes along */
        size_t written = 1;
        int holes = GEOSGetNumInteriorRings_r(context, geometry);
        for (int i = 0; i < holes; i++)
            written += encode_ring(context, GEOSGetInteriorRingN_r(context, geometry, i), 0, layer);
        return written;
    }
    case GEOS_LINESTRING:
    case GEOS_LINEARRING:
        return layer->type == MVT_LINESTRING ? encode_ring(context, geometry, -1, layer) : 0;
    case GEOS_MULTIPOLYGON:
    case GEOS_MULTILINESTRING:
    case GEOS_GEOMETRYCOLLECTION: {
        size_t written = 0;
        int count = GEOSGetNumGeometries_r(context, geometry);
        for (int i = 0; i < count; i++)
            written +=
                tile_encode_geometry(context, GEOSGetGeometryN_r(context, geometry, i), layer);
        return written;
    }
    default:
        return 0;
    }
}
