/* tile_layers_areas.c — the polygon layers: `areas` (départements and
 * régions with their population) and `basemap` (land, coastline, région
 * and département boundaries), read from the database's area tables.
 *
 * How: at load, every area becomes a Shape in world units. The basemap is
 * derived from the départements, whose neighbours share exact vertices in
 * the source: land is the région polygons (each the union of its
 * départements in the source), and each département ring segment is
 * counted in a hash table: a segment used once is on the coastline (or a
 * national border), a segment used by two départements is a boundary,
 * a région boundary when their régions differ, written once. Per zoom
 * (0..TILE_SIMPLIFY_MAX_ZOOM), shapes are simplified lazily, once, with a
 * tolerance of one tile unit (GEOSTopologyPreserveSimplify), and rings
 * under 4 square tile units dropped; tiles then clip with GEOSClipByRect
 * and snap to the grid valid (tile_geometry.h). */
#include "tiles/tile_layers.h"
#include "base/array.h"
#include "base/text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* --- line shapes built from raw points ------------------------------------------ */

typedef struct LineCollector {
    Shape shape;
    uint32_t point_capacity, part_capacity;
    int open; /* the last part can still be extended */
    int failed;
} LineCollector;

static void collector_init(LineCollector *collector)
{
    memset(collector, 0, sizeof *collector);
    collector->shape.kind = SHAPE_LINES;
    collector->shape.bounds = (TileBox){INFINITY, INFINITY, -INFINITY, -INFINITY};
}

static int collector_reserve(LineCollector *collector, uint32_t points)
{
    return shape_reserve(&collector->shape, &collector->point_capacity, &collector->part_capacity,
                         points, 4096, 256);
}

static void collector_point(LineCollector *collector, double x, double y)
{
    Shape *shape = &collector->shape;
    shape->xy[2 * shape->point_count] = x;
    shape->xy[2 * shape->point_count + 1] = y;
    shape->point_count++;
    shape->part_start[shape->part_count] = shape->point_count;
    shape->bounds.min_x = fmin(shape->bounds.min_x, x);
    shape->bounds.max_x = fmax(shape->bounds.max_x, x);
    shape->bounds.min_y = fmin(shape->bounds.min_y, y);
    shape->bounds.max_y = fmax(shape->bounds.max_y, y);
}

/* Adds the segment a-b, extending the open part when it ends at a. */
static void collector_segment(LineCollector *collector, const double *a, const double *b)
{
    if (collector->failed)
        return;
    if (collector_reserve(collector, 2) != 0) {
        collector->failed = 1;
        return;
    }
    Shape *shape = &collector->shape;
    if (!collector->open) {
        if (shape->part_count == 0)
            shape->part_start[0] = 0;
        shape->part_exterior[shape->part_count] = 0;
        shape->part_count++;
        shape->part_start[shape->part_count] = shape->point_count;
        collector_point(collector, a[0], a[1]);
        collector->open = 1;
    }
    collector_point(collector, b[0], b[1]);
}

/* --- segment counting -------------------------------------------------------------- */

typedef struct SegmentEntry {
    double a[2], b[2]; /* ordered endpoints */
    uint32_t count;
    uint32_t first_owner, second_owner;
} SegmentEntry;

typedef struct SegmentTable {
    SegmentEntry *entries;
    size_t capacity; /* a power of two */
} SegmentTable;

static void order_endpoints(const double *p, const double *q, double a[2], double b[2])
{
    int swap = p[0] > q[0] || (p[0] == q[0] && p[1] > q[1]);
    const double *first = swap ? q : p, *second = swap ? p : q;
    a[0] = first[0];
    a[1] = first[1];
    b[0] = second[0];
    b[1] = second[1];
}

static SegmentEntry *segment_slot(SegmentTable *table, const double *p, const double *q)
{
    double a[2], b[2];
    order_endpoints(p, q, a, b);
    double key[4] = {a[0], a[1], b[0], b[1]};
    uint64_t hash = hash_fnv1a(HASH_FNV1A_SEED, key, sizeof key);
    size_t slot = hash & (table->capacity - 1);
    for (;;) {
        SegmentEntry *entry = &table->entries[slot];
        if (entry->count == 0) {
            memcpy(entry->a, a, sizeof a);
            memcpy(entry->b, b, sizeof b);
            return entry;
        }
        if (entry->a[0] == a[0] && entry->a[1] == a[1] && entry->b[0] == b[0] &&
            entry->b[1] == b[1])
            return entry;
        slot = (slot + 1) & (table->capacity - 1);
    }
}

static int same_point(const double *p, const double *q)
{
    return p[0] == q[0] && p[1] == q[1];
}

/* Builds coastline and boundary lines from the départements. */
static int build_boundaries(TileSet *tiles, const size_t *departements, size_t count,
                            Shape whole[BASEMAP_SHAPE_COUNT])
{
    size_t segments = 0;
    for (size_t d = 0; d < count; d++)
        segments += tiles->areas[departements[d]].source.point_count;
    SegmentTable table = {NULL, 1024};
    while (table.capacity < segments * 2)
        table.capacity *= 2;
    /* malloc + memset rather than calloc: calloc's pages start as the
     * shared zero page, and a table probed before it is written then takes
     * a second fault and a TLB shootdown per page (measured: 1.4% of a
     * 1M-site load's CPU for this table alone). */
    table.entries = malloc(table.capacity * sizeof *table.entries);
    if (!table.entries)
        return -1;
    memset(table.entries, 0, table.capacity * sizeof *table.entries);
    for (size_t d = 0; d < count; d++) {
        const Shape *shape = &tiles->areas[departements[d]].source;
        for (uint32_t part = 0; part < shape->part_count; part++) {
            for (uint32_t i = shape->part_start[part]; i + 1 < shape->part_start[part + 1]; i++) {
                const double *p = &shape->xy[2 * i], *q = &shape->xy[2 * i + 2];
                if (same_point(p, q))
                    continue;
                SegmentEntry *entry = segment_slot(&table, p, q);
                if (entry->count == 0)
                    entry->first_owner = (uint32_t)d;
                else if (entry->first_owner != d)
                    entry->second_owner = (uint32_t)d;
                entry->count++;
            }
        }
    }
    LineCollector coastline, region_lines, departement_lines;
    collector_init(&coastline);
    collector_init(&region_lines);
    collector_init(&departement_lines);
    for (size_t d = 0; d < count; d++) {
        const Shape *shape = &tiles->areas[departements[d]].source;
        for (uint32_t part = 0; part < shape->part_count; part++) {
            coastline.open = region_lines.open = departement_lines.open = 0;
            for (uint32_t i = shape->part_start[part]; i + 1 < shape->part_start[part + 1]; i++) {
                const double *p = &shape->xy[2 * i], *q = &shape->xy[2 * i + 2];
                if (same_point(p, q))
                    continue;
                SegmentEntry *entry = segment_slot(&table, p, q);
                LineCollector *target = NULL;
                if (entry->count == 1 || entry->first_owner == entry->second_owner) {
                    target = &coastline;
                } else if (entry->first_owner == d) {
                    const char *region = tiles->areas[departements[d]].region;
                    const char *other = tiles->areas[departements[entry->second_owner]].region;
                    int same_region = region && other && strcmp(region, other) == 0;
                    target = same_region ? &departement_lines : &region_lines;
                }
                LineCollector *all[3] = {&coastline, &region_lines, &departement_lines};
                for (int c = 0; c < 3; c++)
                    if (all[c] != target)
                        all[c]->open = 0;
                if (target)
                    collector_segment(target, p, q);
            }
        }
    }
    free(table.entries);
    whole[BASEMAP_COASTLINE] = coastline.shape;
    whole[BASEMAP_REGION_BOUNDARIES] = region_lines.shape;
    whole[BASEMAP_DEPARTEMENT_BOUNDARIES] = departement_lines.shape;
    return coastline.failed || region_lines.failed || departement_lines.failed ? -1 : 0;
}

/* Appends each polygon (exterior ring and holes) or line of `shape` to
 * tiles->basemap_chunks as its own Shape. Returns 0, or -1. */
static int split_into_chunks(TileSet *tiles, const Shape *shape, size_t *capacity)
{
    uint32_t part = 0;
    while (part < shape->part_count) {
        uint32_t end = part + 1;
        if (shape->kind == SHAPE_POLYGONS)
            while (end < shape->part_count && !shape->part_exterior[end])
                end++;
        if (array_reserve(tiles->basemap_chunks, *capacity,
                          tiles->basemap_kind_start[BASEMAP_SHAPE_COUNT] + 1, 256) != 0)
            return -1;
        Shape *chunk = &tiles->basemap_chunks[tiles->basemap_kind_start[BASEMAP_SHAPE_COUNT]];
        memset(chunk, 0, sizeof *chunk);
        chunk->kind = shape->kind;
        uint32_t first_point = shape->part_start[part];
        chunk->point_count = shape->part_start[end] - first_point;
        chunk->part_count = end - part;
        chunk->xy = malloc((size_t)chunk->point_count * 2 * sizeof *chunk->xy);
        chunk->part_start = malloc(((size_t)chunk->part_count + 1) * sizeof *chunk->part_start);
        chunk->part_exterior = malloc(chunk->part_count);
        if (!chunk->xy || !chunk->part_start || !chunk->part_exterior) {
            shape_free(chunk);
            return -1;
        }
        memcpy(chunk->xy, shape->xy + (size_t)first_point * 2,
               (size_t)chunk->point_count * 2 * sizeof *chunk->xy);
        for (uint32_t i = 0; i <= chunk->part_count; i++)
            chunk->part_start[i] = shape->part_start[part + i] - first_point;
        memcpy(chunk->part_exterior, shape->part_exterior + part, chunk->part_count);
        chunk->bounds = (TileBox){INFINITY, INFINITY, -INFINITY, -INFINITY};
        for (uint32_t i = 0; i < chunk->point_count; i++) {
            chunk->bounds.min_x = fmin(chunk->bounds.min_x, chunk->xy[2 * i]);
            chunk->bounds.max_x = fmax(chunk->bounds.max_x, chunk->xy[2 * i]);
            chunk->bounds.min_y = fmin(chunk->bounds.min_y, chunk->xy[2 * i + 1]);
            chunk->bounds.max_y = fmax(chunk->bounds.max_y, chunk->xy[2 * i + 1]);
        }
        tiles->basemap_kind_start[BASEMAP_SHAPE_COUNT]++;
        part = end;
    }
    return 0;
}

/* --- loading ------------------------------------------------------------------------ */

static int load_area_table(TileSet *tiles, Store *store, GEOSContextHandle_t geos,
                           GEOSWKBReader *reader, const char *sql, const char *level,
                           size_t *capacity, char *error, size_t error_size)
{
    sqlite3_stmt *statement = NULL;
    if (sqlite3_prepare_v2(store->db, sql, -1, &statement, NULL) != SQLITE_OK) {
        snprintf(error, error_size, "tiles: reading %s areas: %s", level,
                 sqlite3_errmsg(store->db));
        return -1;
    }
    int failed = 0, status = SQLITE_DONE;
    while (!failed && (status = sqlite3_step(statement)) == SQLITE_ROW) {
        const unsigned char *wkb = sqlite3_column_blob(statement, 4);
        int wkb_size = sqlite3_column_bytes(statement, 4);
        if (!wkb || wkb_size <= 0)
            continue;
        if (array_reserve(tiles->areas, *capacity, tiles->area_count + 1, 128) != 0) {
            failed = 1;
            break;
        }
        Area *area = &tiles->areas[tiles->area_count];
        memset(area, 0, sizeof *area);
        area->code =
            tile_keep_string(tiles, (const char *)sqlite3_column_text(statement, 0), &failed);
        area->name =
            tile_keep_string(tiles, (const char *)sqlite3_column_text(statement, 1), &failed);
        area->region =
            tile_keep_string(tiles, (const char *)sqlite3_column_text(statement, 2), &failed);
        area->population = sqlite3_column_int64(statement, 3);
        area->level = level;
        GEOSGeometry *geometry = GEOSWKBReader_read_r(geos, reader, wkb, (size_t)wkb_size);
        if (!geometry) {
            snprintf(error, error_size, "tiles: %s %s: unreadable geometry", level,
                     area->code ? area->code : "?");
            sqlite3_finalize(statement);
            return -1;
        }
        if (shape_from_lonlat_geometry(geos, geometry, SHAPE_POLYGONS, &area->source) != 0)
            failed = 1;
        GEOSGeom_destroy_r(geos, geometry);
        if (!failed)
            tiles->area_count++;
    }
    sqlite3_finalize(statement);
    if (failed) {
        snprintf(error, error_size, "tiles: out of memory loading %s areas", level);
        return -1;
    }
    if (status != SQLITE_DONE) {
        snprintf(error, error_size, "tiles: cannot read the %s areas: %s", level,
                 sqlite3_errmsg(store->db));
        return -1;
    }
    return 0;
}

static double seconds_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + now.tv_nsec / 1e9;
}

int tile_areas_load(TileSet *tiles, Store *store, char *error, size_t error_size)
{
    double start = seconds_now();
    GEOSContextHandle_t geos = GEOS_init_r();
    GEOSWKBReader *reader = geos ? GEOSWKBReader_create_r(geos) : NULL;
    if (!reader) {
        if (geos)
            GEOS_finish_r(geos);
        snprintf(error, error_size, "tiles: cannot initialise GEOS");
        return -1;
    }
    size_t capacity = 0;
    int status = load_area_table(
        tiles, store, geos, reader,
        "SELECT d.code, d.name, COALESCE(d.region, (SELECT c.region FROM communes c "
        "WHERE c.departement = d.code AND c.region IS NOT NULL LIMIT 1)), d.population, "
        "AsBinary(d.geom) FROM departements d ORDER BY d.code",
        "departement", &capacity, error, error_size);
    size_t departement_count = tiles->area_count;
    if (status == 0)
        status = load_area_table(tiles, store, geos, reader,
                                 "SELECT code, name, code, population, AsBinary(geom) FROM "
                                 "regions ORDER BY code",
                                 "region", &capacity, error, error_size);
    GEOSWKBReader_destroy_r(geos, reader);
    size_t *departements = NULL;
    Shape whole[BASEMAP_SHAPE_COUNT];
    memset(whole, 0, sizeof whole);
    if (status == 0) {
        departements = malloc((departement_count ? departement_count : 1) * sizeof *departements);
        if (!departements)
            status = -1;
        for (size_t i = 0; departements && i < departement_count; i++)
            departements[i] = i;
        if (status == 0 && build_boundaries(tiles, departements, departement_count, whole) != 0)
            status = -1;
        /* Land: the polygons of the régions, each the union of its
         * départements in the source (their shared edges are exactly the
         * région boundaries drawn on top), so no union is computed. */
        size_t chunk_capacity = 0;
        for (int kind = 0; status == 0 && kind < BASEMAP_SHAPE_COUNT; kind++) {
            tiles->basemap_kind_start[kind] = tiles->basemap_kind_start[BASEMAP_SHAPE_COUNT];
            for (size_t i = departement_count; kind == BASEMAP_LAND && i < tiles->area_count; i++)
                if (split_into_chunks(tiles, &tiles->areas[i].source, &chunk_capacity) != 0)
                    status = -1;
            if (whole[kind].part_count > 0 &&
                split_into_chunks(tiles, &whole[kind], &chunk_capacity) != 0)
                status = -1;
        }
        if (status != 0)
            snprintf(error, error_size, "tiles: cannot build the basemap (out of memory or GEOS)");
    }
    for (int kind = 0; kind < BASEMAP_SHAPE_COUNT; kind++)
        shape_free(&whole[kind]);
    free(departements);
    GEOS_finish_r(geos);
    /* TileJSON bounds of the areas. */
    TileBox bounds = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (size_t i = 0; i < tiles->area_count; i++) {
        const TileBox *box = &tiles->areas[i].source.bounds;
        if (tiles->areas[i].source.part_count == 0)
            continue;
        bounds.min_x = fmin(bounds.min_x, box->min_x);
        bounds.min_y = fmin(bounds.min_y, box->min_y);
        bounds.max_x = fmax(bounds.max_x, box->max_x);
        bounds.max_y = fmax(bounds.max_y, box->max_y);
    }
    if (tiles->area_count > 0) {
        tile_mercator_inverse(bounds.min_x, bounds.max_y, &tiles->area_bounds[1],
                              &tiles->area_bounds[0]);
        tile_mercator_inverse(bounds.max_x, bounds.min_y, &tiles->area_bounds[3],
                              &tiles->area_bounds[2]);
    } else {
        tiles->area_bounds[0] = -180;
        tiles->area_bounds[1] = -TILE_MAX_LATITUDE;
        tiles->area_bounds[2] = 180;
        tiles->area_bounds[3] = TILE_MAX_LATITUDE;
    }
    tiles->basemap_load_seconds = seconds_now() - start;
    return status;
}

static void zoom_shapes_free(ZoomShapes *zoom, size_t area_count, size_t chunk_count)
{
    for (size_t i = 0; zoom->areas && i < area_count; i++)
        shape_free(&zoom->areas[i]);
    for (size_t i = 0; zoom->basemap && i < chunk_count; i++)
        shape_free(&zoom->basemap[i]);
    free(zoom->areas);
    free(zoom->basemap);
    free(zoom->area_ready);
    free(zoom->basemap_ready);
    memset(zoom, 0, sizeof *zoom);
}

void tile_areas_free(TileSet *tiles)
{
    size_t chunk_count = tiles->basemap_kind_start[BASEMAP_SHAPE_COUNT];
    for (int z = 0; z <= TILE_SIMPLIFY_MAX_ZOOM; z++)
        zoom_shapes_free(&tiles->zooms[z], tiles->area_count, chunk_count);
    for (size_t i = 0; i < tiles->area_count; i++)
        shape_free(&tiles->areas[i].source);
    free(tiles->areas);
    for (size_t i = 0; i < chunk_count; i++)
        shape_free(&tiles->basemap_chunks[i]);
    free(tiles->basemap_chunks);
}

/* --- per-zoom simplification ------------------------------------------------------ */

/* The simplified `source` for `zoom` in slot `*slot`, computed once under
 * the lock (GEOS work is done by the first thread that needs it). */
static const Shape *zoom_shape(TileSet *tiles, int zoom, const Shape *source, int is_area,
                               size_t index, GEOSContextHandle_t geos)
{
    if (zoom > TILE_SIMPLIFY_MAX_ZOOM)
        return source;
    ZoomShapes *shapes = &tiles->zooms[zoom];
    const Shape *result = NULL;
    pthread_mutex_lock(&tiles->simplify_lock);
    if (!shapes->areas) {
        size_t areas = tiles->area_count ? tiles->area_count : 1;
        size_t chunks = tiles->basemap_kind_start[BASEMAP_SHAPE_COUNT];
        chunks = chunks ? chunks : 1;
        shapes->areas = calloc(areas, sizeof *shapes->areas);
        shapes->area_ready = calloc(areas, 1);
        shapes->basemap = calloc(chunks, sizeof *shapes->basemap);
        shapes->basemap_ready = calloc(chunks, 1);
        if (!shapes->areas || !shapes->area_ready || !shapes->basemap || !shapes->basemap_ready)
            zoom_shapes_free(shapes, 0, 0);
    }
    if (shapes->areas) {
        Shape *slot = is_area ? &shapes->areas[index] : &shapes->basemap[index];
        uint8_t *ready = is_area ? &shapes->area_ready[index] : &shapes->basemap_ready[index];
        if (!*ready) {
            double unit = 1.0 / (MVT_EXTENT * ldexp(1.0, zoom));
            if (source->part_count == 0 ||
                shape_simplify(geos, source, unit, 4 * unit * unit, unit, slot) == 0)
                *ready = 1;
        }
        if (*ready)
            result = slot;
    }
    pthread_mutex_unlock(&tiles->simplify_lock);
    return result;
}

const Shape *tile_zoom_area(TileSet *tiles, int zoom, size_t area, GEOSContextHandle_t geos)
{
    return zoom_shape(tiles, zoom, &tiles->areas[area].source, 1, area, geos);
}

const Shape *tile_zoom_basemap(TileSet *tiles, int zoom, size_t chunk, GEOSContextHandle_t geos)
{
    return zoom_shape(tiles, zoom, &tiles->basemap_chunks[chunk], 0, chunk, geos);
}

/* --- encoding ----------------------------------------------------------------------- */

/* Clips `shape` into the current feature; returns -1 on failure. */
static int encode_shape(TileJob *job, const Shape *shape, MvtLayer *layer)
{
    int failed = 0;
    GEOSGeometry *clipped = tile_clip_shape(job->geos, shape, job->tile, TILE_BUFFER, &failed);
    if (clipped) {
        tile_encode_geometry(job->geos, clipped, layer);
        GEOSGeom_destroy_r(job->geos, clipped);
    }
    return failed ? -1 : 0;
}

int tile_encode_areas(TileJob *job, MvtLayer *layer)
{
    TileBox box = tile_box(job->tile, TILE_BUFFER);
    for (size_t i = 0; i < job->tiles->area_count; i++) {
        const Area *area = &job->tiles->areas[i];
        if (!shape_intersects_box(&area->source, box))
            continue;
        const Shape *shape = tile_zoom_area(job->tiles, job->tile.z, i, job->geos);
        if (!shape)
            return -1;
        mvt_feature_begin(layer, MVT_POLYGON, 1, (uint64_t)i + 1);
        mvt_feature_string(layer, "level", area->level);
        mvt_feature_string(layer, "code", area->code);
        mvt_feature_string(layer, "name", area->name);
        mvt_feature_integer(layer, "population", area->population);
        if (strcmp(area->level, "departement") == 0)
            mvt_feature_string(layer, "region", area->region);
        if (encode_shape(job, shape, layer) != 0)
            return -1;
        mvt_feature_end(layer);
    }
    return layer->failed ? -1 : 0;
}

int tile_encode_basemap(TileJob *job, MvtLayer *layer)
{
    static const struct {
        const char *kind, *level;
        MvtGeometryType type;
    } features[BASEMAP_SHAPE_COUNT] = {
        [BASEMAP_LAND] = {"land", NULL, MVT_POLYGON},
        [BASEMAP_COASTLINE] = {"coastline", NULL, MVT_LINESTRING},
        [BASEMAP_REGION_BOUNDARIES] = {"boundary", "region", MVT_LINESTRING},
        [BASEMAP_DEPARTEMENT_BOUNDARIES] = {"boundary", "departement", MVT_LINESTRING},
    };
    TileSet *tiles = job->tiles;
    TileBox box = tile_box(job->tile, TILE_BUFFER);
    for (int kind = 0; kind < BASEMAP_SHAPE_COUNT; kind++) {
        mvt_feature_begin(layer, features[kind].type, 1, (uint64_t)kind + 1);
        mvt_feature_string(layer, "kind", features[kind].kind);
        mvt_feature_string(layer, "level", features[kind].level);
        for (size_t i = tiles->basemap_kind_start[kind]; i < tiles->basemap_kind_start[kind + 1];
             i++) {
            if (!shape_intersects_box(&tiles->basemap_chunks[i], box))
                continue;
            const Shape *shape = tile_zoom_basemap(tiles, job->tile.z, i, job->geos);
            if (!shape || encode_shape(job, shape, layer) != 0)
                return -1;
        }
        mvt_feature_end(layer);
    }
    return layer->failed ? -1 : 0;
}
