/* service_land.c — the land by territory: loading the départements'
 * geometry, and building at first use the union of each territory's
 * départements, its projection and its communes; see service_land.h
 * (public: load, free) and service_internal.h (internal: the build).
 *
 * The land is built under the ServiceLand's mutex at the first computation
 * and published with a release store; later computations read it without
 * locks (an acquire load). The départements' WKB is freed once the land is
 * built: land_build() never runs twice on one land. */
#include "index/service_land.h"

#include "base/array.h"
#include "base/geodesy.h"
#include "base/slots.h"
#include "base/text.h"
#include "index/service_geometry.h"
#include "index/service_internal.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The projection of each territory (communes.h order): metres on the
 * ground within the territory. */
static const char *const territory_projections[TERRITORY_COUNT] = {
    "EPSG:2154",  /* RGF93 / Lambert-93: metropolitan France */
    "EPSG:32620", /* WGS 84 / UTM 20N: Guadeloupe */
    "EPSG:32620", /* WGS 84 / UTM 20N: Martinique */
    "EPSG:32622", /* WGS 84 / UTM 22N: Guyane */
    "EPSG:32740", /* WGS 84 / UTM 40S: La Réunion */
    "EPSG:32738", /* WGS 84 / UTM 38S: Mayotte */
};

/* The projected envelope of a territory's land is widened by this much
 * (edges straight in WGS84 bulge by far less in the projection);
 * service_areas.c clips the Voronoi diagram to this envelope widened
 * further, so that every edge piece near the land is a true Voronoi edge. */
#define LAND_ENVELOPE_MARGIN_M 1000.0

/* --- The land ------------------------------------------------------------------ */

struct ServiceLand {
    /* Read at load, freed once the land is built (under `lock`): */
    unsigned char *wkb; /* every département's WKB, end to end */
    size_t *wkb_start;  /* count + 1 offsets into wkb */
    uint8_t *territory; /* of each département */
    size_t count;
    pthread_mutex_t lock; /* held while building; initialised with the struct */
    LandBuild *built;     /* NULL until built; written once, with a release store */
};

ServiceLand *service_land_load(Store *store, char *error, size_t error_size)
{
    ServiceLand *land = calloc(1, sizeof *land);
    if (!land) {
        snprintf(error, error_size, "service areas: out of memory");
        return NULL;
    }
    pthread_mutex_init(&land->lock, NULL);
    sqlite3_stmt *statement = NULL;
    if (sqlite3_prepare_v2(store->db, "SELECT code, AsBinary(geom) FROM departements ORDER BY code",
                           -1, &statement, NULL) != SQLITE_OK) {
        snprintf(error, error_size, "service areas: reading departements: %s",
                 sqlite3_errmsg(store->db));
        service_land_free(land);
        return NULL;
    }
    size_t wkb_capacity = 0, start_capacity = 0, territory_capacity = 0, bytes = 0;
    int status, failed = 0;
    while (!failed && (status = sqlite3_step(statement)) == SQLITE_ROW) {
        const char *code = (const char *)sqlite3_column_text(statement, 0);
        int territory = territory_of_departement(code);
        const void *blob = sqlite3_column_blob(statement, 1);
        int length = sqlite3_column_bytes(statement, 1);
        if (territory < 0 || !blob || length <= 0)
            continue;
        if (array_reserve(land->wkb, wkb_capacity, bytes + (size_t)length, 1 << 16) != 0 ||
            array_reserve(land->wkb_start, start_capacity, land->count + 2, 128) != 0 ||
            array_reserve(land->territory, territory_capacity, land->count + 1, 128) != 0) {
            failed = 1;
            break;
        }
        memcpy(land->wkb + bytes, blob, (size_t)length);
        land->wkb_start[land->count] = bytes;
        bytes += (size_t)length;
        land->territory[land->count++] = (uint8_t)territory;
        land->wkb_start[land->count] = bytes;
    }
    sqlite3_finalize(statement);
    if (failed || (status != SQLITE_DONE && status != SQLITE_ROW)) {
        snprintf(error, error_size, "service areas: %s",
                 failed ? "out of memory" : sqlite3_errmsg(store->db));
        service_land_free(land);
        return NULL;
    }
    return land;
}

static void land_build_free(LandBuild *build)
{
    if (!build)
        return;
    for (int t = 0; t < TERRITORY_COUNT; t++) {
        Territory *territory = &build->territories[t];
        free(territory->projection);
        polygon_set_free(&territory->land);
        free(territory->communes);
        free(territory->commune_xy);
    }
    free(build);
}

void service_land_free(ServiceLand *land)
{
    if (!land)
        return;
    pthread_mutex_destroy(&land->lock);
    land_build_free(land->built);
    free(land->wkb);
    free(land->wkb_start);
    free(land->territory);
    free(land);
}

/* --- The union of a territory's départements ----------------------------------
 *
 * Neighbouring départements share exact vertices in the source (the tiles'
 * basemap relies on it too), so a ring segment used by two of them is inside
 * the union and a segment used once is on its outline. The outline segments
 * are chained into lines between vertices where other than two of them meet,
 * polygonized, and the faces lying in a département kept: about 0.1 s for
 * metropolitan France where GEOSCoverageUnion takes 0.4 s. The result is
 * checked (valid, and its area the sum of the départements' within 1e-9);
 * GEOSUnaryUnion is the fallback for a source that is not an exact
 * coverage. */

typedef struct OutlineSegment {
    double a[2], b[2]; /* end points, a before b (point_before) */
    uint32_t count;    /* ring segments equal to it */
    uint32_t ends[2];  /* its vertices (outline segments only) */
} OutlineSegment;

typedef struct Outline {
    OutlineSegment *segments;
    size_t segment_count, segment_capacity;
    HashSlots segment_table; /* value: segment index + 1 */
    double *vertices;        /* x, y of each distinct outline vertex */
    size_t vertex_count, vertex_capacity;
    HashSlots vertex_table; /* value: vertex index + 1 */
} Outline;

static void outline_free(Outline *outline)
{
    free(outline->segments);
    free(outline->vertices);
    hash_slots_free(&outline->segment_table);
    hash_slots_free(&outline->vertex_table);
    memset(outline, 0, sizeof *outline);
}

/* Counts the segment p-q (a zero-length one is skipped). Returns 0, or -1. */
static int outline_count(Outline *outline, const double *p, const double *q)
{
    if (p[0] == q[0] && p[1] == q[1])
        return 0;
    int forward = point_before(p, q);
    const double key[4] = {forward ? p[0] : q[0], forward ? p[1] : q[1], forward ? q[0] : p[0],
                           forward ? q[1] : p[1]};
    uint32_t hash = (uint32_t)hash_fnv1a(HASH_FNV1A_SEED, key, sizeof key);
    HashSlots *table = &outline->segment_table;
    if (hash_slots_reserve(table, 1 << 16) != 0)
        return -1;
    size_t slot = hash_slots_start(table, hash);
    for (; table->values[slot]; slot = hash_slots_next(table, slot)) {
        OutlineSegment *segment = &outline->segments[table->values[slot] - 1];
        if (table->hashes[slot] == hash && segment->a[0] == key[0] && segment->a[1] == key[1] &&
            segment->b[0] == key[2] && segment->b[1] == key[3]) {
            segment->count++;
            return 0;
        }
    }
    if (array_reserve(outline->segments, outline->segment_capacity, outline->segment_count + 1,
                      4096) != 0)
        return -1;
    outline->segments[outline->segment_count] =
        (OutlineSegment){{key[0], key[1]}, {key[2], key[3]}, 1, {0, 0}};
    hash_slots_fill(table, slot, ++outline->segment_count, hash);
    return 0;
}

/* The index of vertex `p` (added when new), or -1 when out of memory. */
static int64_t outline_vertex(Outline *outline, const double *p)
{
    uint32_t hash = (uint32_t)hash_fnv1a(HASH_FNV1A_SEED, p, 2 * sizeof *p);
    HashSlots *table = &outline->vertex_table;
    if (hash_slots_reserve(table, 1 << 15) != 0)
        return -1;
    size_t slot = hash_slots_start(table, hash);
    for (; table->values[slot]; slot = hash_slots_next(table, slot)) {
        const double *vertex = outline->vertices + 2 * (table->values[slot] - 1);
        if (table->hashes[slot] == hash && vertex[0] == p[0] && vertex[1] == p[1])
            return (int64_t)table->values[slot] - 1;
    }
    if (outline->vertex_count >= UINT32_MAX ||
        array_reserve(outline->vertices, outline->vertex_capacity, 2 * (outline->vertex_count + 1),
                      8192) != 0)
        return -1;
    outline->vertices[2 * outline->vertex_count] = p[0];
    outline->vertices[2 * outline->vertex_count + 1] = p[1];
    hash_slots_fill(table, slot, ++outline->vertex_count, hash);
    return (int64_t)outline->vertex_count - 1;
}

/* Copies the polygons of `part` into `set` and counts their ring
 * segments. Returns 0, -1 or -2. */
static int outline_add(Outline *outline, PolygonSet *set, Session *session,
                       const GEOSGeometry *part)
{
    int polygons = GEOSGetNumGeometries_r(session->geos, part);
    for (int i = 0; i < polygons; i++) {
        const GEOSGeometry *polygon = GEOSGetGeometryN_r(session->geos, part, i);
        size_t first_ring = set->ring_count;
        int status = polygon ? polygon_set_add_geos(set, session, polygon) : -2;
        for (size_t r = first_ring; status == 0 && r < set->ring_count; r++)
            for (uint32_t k = set->ring_points[r]; status == 0 && k + 1 < set->ring_points[r + 1];
                 k++)
                status = outline_count(outline, set->points + 2 * (size_t)k,
                                       set->points + 2 * (size_t)k + 2);
        if (status != 0)
            return status;
    }
    return polygons < 0 ? -2 : 0;
}

/* The outline as lines: chains of outline segments through vertices where
 * exactly two meet. NULL on failure. */
static GEOSGeometry *outline_lines(Outline *outline, Session *session)
{
    size_t count = 0;
    for (size_t s = 0; s < outline->segment_count; s++)
        if (outline->segments[s].count % 2 == 1)
            outline->segments[count++] = outline->segments[s]; /* the outline only */
    outline->segment_count = count;
    for (size_t s = 0; s < count; s++) {
        OutlineSegment *segment = &outline->segments[s];
        int64_t a = outline_vertex(outline, segment->a), b = outline_vertex(outline, segment->b);
        if (a < 0 || b < 0)
            return NULL;
        segment->ends[0] = (uint32_t)a;
        segment->ends[1] = (uint32_t)b;
    }
    /* Incident segments of each vertex, compressed: start[v] .. start[v + 1]. */
    size_t vertices = outline->vertex_count;
    uint32_t *start = calloc(vertices + 2, sizeof *start);
    uint32_t *incident = malloc((2 * count + 1) * sizeof *incident);
    uint8_t *visited = calloc(count + 1, 1);
    double *points = malloc((2 * count + 4) * sizeof *points);
    GEOSGeometry **lines = malloc((count + 1) * sizeof *lines);
    size_t line_count = 0;
    int failed = !start || !incident || !visited || !points || !lines;
    for (size_t s = 0; !failed && s < count; s++) {
        start[outline->segments[s].ends[0] + 2]++;
        start[outline->segments[s].ends[1] + 2]++;
    }
    for (size_t v = 0; !failed && v < vertices; v++)
        start[v + 2] += start[v + 1];
    for (size_t s = 0; !failed && s < count; s++)
        for (int e = 0; e < 2; e++)
            incident[start[outline->segments[s].ends[e] + 1]++] = (uint32_t)s;
    /* Now start[v] .. start[v + 1] are v's. Chains from the vertices where
     * other than two segments meet, then the closed loops left. */
    for (int pass = 0; !failed && pass < 2; pass++) {
        for (size_t v = 0; !failed && v < vertices; v++) {
            uint32_t degree = start[v + 1] - start[v];
            if ((pass == 0) == (degree == 2))
                continue;
            for (uint32_t k = start[v]; !failed && k < start[v + 1]; k++) {
                uint32_t s = incident[k], at = (uint32_t)v;
                if (visited[s])
                    continue;
                size_t used = 0;
                points[used++] = outline->vertices[2 * (size_t)at];
                points[used++] = outline->vertices[2 * (size_t)at + 1];
                for (;;) {
                    visited[s] = 1;
                    const OutlineSegment *segment = &outline->segments[s];
                    at = segment->ends[0] == at ? segment->ends[1] : segment->ends[0];
                    points[used++] = outline->vertices[2 * (size_t)at];
                    points[used++] = outline->vertices[2 * (size_t)at + 1];
                    if (start[at + 1] - start[at] != 2 || at == v)
                        break;
                    uint32_t next =
                        incident[start[at]] == s ? incident[start[at] + 1] : incident[start[at]];
                    if (visited[next])
                        break;
                    s = next;
                }
                assert(used <= 2 * count + 4);
                GEOSCoordSequence *sequence = GEOSCoordSeq_copyFromBuffer_r(
                    session->geos, points, (unsigned)(used / 2), 0, 0);
                GEOSGeometry *line =
                    sequence ? GEOSGeom_createLineString_r(session->geos, sequence) : NULL;
                if (!line && sequence)
                    GEOSCoordSeq_destroy_r(session->geos, sequence);
                failed = !(lines[line_count++] = line);
            }
        }
    }
    GEOSGeometry *collection =
        failed ? NULL
               : GEOSGeom_createCollection_r(session->geos, GEOS_MULTILINESTRING, lines,
                                             (unsigned int)line_count);
    if (!collection)
        for (size_t i = 0; lines && i < line_count; i++)
            if (lines[i])
                GEOSGeom_destroy_r(session->geos, lines[i]);
    free(start);
    free(incident);
    free(visited);
    free(points);
    free(lines);
    return collection;
}

/* The union of the départements `parts` from their outline (see above), or
 * NULL (then the caller falls back). */
static GEOSGeometry *outline_union(Session *session, GEOSGeometry *const *parts, size_t count)
{
    GEOSContextHandle_t geos = session->geos;
    Outline outline;
    PolygonSet departements;
    memset(&outline, 0, sizeof outline);
    int status = polygon_set_init(&departements);
    for (size_t i = 0; status == 0 && i < count; i++)
        status = outline_add(&outline, &departements, session, parts[i]);
    GEOSGeometry *lines = status == 0 ? outline_lines(&outline, session) : NULL;
    outline_free(&outline);
    const GEOSGeometry *const inputs[1] = {lines};
    GEOSGeometry *faces = lines ? GEOSPolygonize_r(geos, inputs, 1) : NULL;
    if (lines)
        GEOSGeom_destroy_r(geos, lines);
    /* Each département polygon's box, to test few of them per face. */
    size_t polygons = departements.polygon_count;
    double *boxes = malloc((4 * polygons + 1) * sizeof *boxes);
    for (size_t p = 0; boxes && p < polygons; p++) {
        double *box = boxes + 4 * p;
        box[0] = box[1] = INFINITY;
        box[2] = box[3] = -INFINITY;
        uint32_t first = departements.ring_points[departements.polygon_rings[p]];
        uint32_t end = departements.ring_points[departements.polygon_rings[p] + 1];
        for (uint32_t k = first; k < end; k++) {
            box[0] = fmin(box[0], departements.points[2 * (size_t)k]);
            box[1] = fmin(box[1], departements.points[2 * (size_t)k + 1]);
            box[2] = fmax(box[2], departements.points[2 * (size_t)k]);
            box[3] = fmax(box[3], departements.points[2 * (size_t)k + 1]);
        }
    }
    int face_count = faces && boxes ? GEOSGetNumGeometries_r(geos, faces) : -1;
    GEOSGeometry **kept = face_count >= 0 ? malloc(((size_t)face_count + 1) * sizeof *kept) : NULL;
    size_t kept_count = 0;
    int failed = !kept;
    /* A face is land when a point inside it is in a département (a hole
     * of the outline, such as an enclave, is in none). */
    for (int f = 0; !failed && f < face_count; f++) {
        const GEOSGeometry *face = GEOSGetGeometryN_r(geos, faces, f);
        GEOSGeometry *inside = face ? GEOSPointOnSurface_r(geos, face) : NULL;
        double x = 0, y = 0;
        failed = !inside || !GEOSGeomGetX_r(geos, inside, &x) || !GEOSGeomGetY_r(geos, inside, &y);
        int land = 0;
        for (size_t p = 0; !failed && !land && p < polygons; p++) {
            const double *box = boxes + 4 * p;
            land = x >= box[0] && x <= box[2] && y >= box[1] && y <= box[3] &&
                   polygon_set_contains(&departements, p, x, y);
        }
        if (inside)
            GEOSGeom_destroy_r(geos, inside);
        if (!failed && land && !(kept[kept_count++] = GEOSGeom_clone_r(geos, face)))
            failed = 1;
    }
    GEOSGeometry *merged = failed ? NULL
                                  : GEOSGeom_createCollection_r(geos, GEOS_MULTIPOLYGON, kept,
                                                                (unsigned int)kept_count);
    if (!merged)
        for (size_t i = 0; kept && i < kept_count; i++)
            if (kept[i])
                GEOSGeom_destroy_r(geos, kept[i]);
    free(kept);
    free(boxes);
    polygon_set_free(&departements);
    if (faces)
        GEOSGeom_destroy_r(geos, faces);
    return merged;
}

/* The union of `count` départements (taken over): outline_union(), checked
 * for validity and area, else GEOSUnaryUnion. NULL on failure. */
static GEOSGeometry *union_of(Session *session, GEOSGeometry **parts, size_t count)
{
    double sum = 0, area = 0;
    for (size_t i = 0; i < count; i++)
        if (GEOSArea_r(session->geos, parts[i], &area))
            sum += area;
    GEOSGeometry *merged = outline_union(session, parts, count);
    if (merged && (GEOSisValid_r(session->geos, merged) != 1 ||
                   !GEOSArea_r(session->geos, merged, &area) || fabs(area - sum) > 1e-9 * sum)) {
        GEOSGeom_destroy_r(session->geos, merged);
        merged = NULL;
    }
    GEOSGeometry *collection = GEOSGeom_createCollection_r(session->geos, GEOS_GEOMETRYCOLLECTION,
                                                           parts, (unsigned int)count);
    if (!collection)
        for (size_t i = 0; i < count; i++)
            GEOSGeom_destroy_r(session->geos, parts[i]);
    if (!merged && collection)
        merged = GEOSUnaryUnion_r(session->geos, collection);
    if (collection)
        GEOSGeom_destroy_r(session->geos, collection);
    return merged;
}

/* Fills territory `t`'s land, envelopes, centre and projection from its
 * union. Returns 0, -1 or -2 (message in session). */
static int territory_fill(Session *session, Territory *territory, unsigned t,
                          const GEOSGeometry *merged)
{
    int count = GEOSGetNumGeometries_r(session->geos, merged);
    if (count < 0 || polygon_set_init(&territory->land) != 0)
        return count < 0 ? -2 : -1;
    for (int i = 0; i < count; i++) {
        const GEOSGeometry *polygon = GEOSGetGeometryN_r(session->geos, merged, i);
        if (!polygon || GEOSGeomTypeId_r(session->geos, polygon) != GEOS_POLYGON)
            continue; /* a union of polygons has no other part; be lenient */
        int status = polygon_set_add_geos(&territory->land, session, polygon);
        if (status != 0)
            return status;
    }
    const PolygonSet *land = &territory->land;
    if (land->polygon_count == 0)
        return 0;
    territory->west = territory->south = INFINITY;
    territory->east = territory->north = -INFINITY;
    for (size_t i = 0; i < land->point_count; i++) {
        territory->west = fmin(territory->west, land->points[2 * i]);
        territory->east = fmax(territory->east, land->points[2 * i]);
        territory->south = fmin(territory->south, land->points[2 * i + 1]);
        territory->north = fmax(territory->north, land->points[2 * i + 1]);
    }
    /* Centre and radius: the centroid, and its farthest hull vertex. */
    GEOSGeometry *centroid = GEOSGetCentroid_r(session->geos, merged);
    GEOSGeometry *hull = GEOSConvexHull_r(session->geos, merged);
    double x = 0, y = 0;
    int status = centroid && hull && GEOSGeomGetX_r(session->geos, centroid, &x) &&
                         GEOSGeomGetY_r(session->geos, centroid, &y)
                     ? 0
                     : -2;
    const GEOSGeometry *outline =
        status == 0 && GEOSGeomTypeId_r(session->geos, hull) == GEOS_POLYGON
            ? GEOSGetExteriorRing_r(session->geos, hull)
            : NULL;
    size_t hull_count = 0;
    if (status == 0 && outline)
        status = session_coordinates(session, outline, &hull_count);
    territory->centre_lat = y;
    territory->centre_lon = x;
    territory->radius_m = 0;
    const double *around = outline ? session->scratch : land->points;
    size_t around_count = outline ? hull_count : land->point_count;
    for (size_t i = 0; status == 0 && i < around_count; i++)
        territory->radius_m =
            fmax(territory->radius_m, geodesy_distance_m(y, x, around[2 * i + 1], around[2 * i]));
    territory->radius_m += 1; /* rounding of the geodesics */
    if (centroid)
        GEOSGeom_destroy_r(session->geos, centroid);
    if (hull)
        GEOSGeom_destroy_r(session->geos, hull);
    if (status != 0)
        return status;
    /* The projection and the projected envelope. */
    territory->projection = projection_string(session->proj, territory_projections[t]);
    PJ *projection =
        territory->projection ? proj_create(session->proj, territory->projection) : NULL;
    double *projected = malloc((2 * land->point_count + 1) * sizeof *projected);
    status = projection && projected ? 0 : (!projected ? -1 : -2);
    if (status == 0) {
        memcpy(projected, land->points, 2 * land->point_count * sizeof *projected);
        status = project_points(projection, PJ_FWD, projected, land->point_count) == 0 ? 0 : -2;
    }
    territory->min_x = territory->min_y = INFINITY;
    territory->max_x = territory->max_y = -INFINITY;
    for (size_t i = 0; status == 0 && i < land->point_count; i++) {
        territory->min_x = fmin(territory->min_x, projected[2 * i]);
        territory->max_x = fmax(territory->max_x, projected[2 * i]);
        territory->min_y = fmin(territory->min_y, projected[2 * i + 1]);
        territory->max_y = fmax(territory->max_y, projected[2 * i + 1]);
    }
    territory->min_x -= LAND_ENVELOPE_MARGIN_M;
    territory->min_y -= LAND_ENVELOPE_MARGIN_M;
    territory->max_x += LAND_ENVELOPE_MARGIN_M;
    territory->max_y += LAND_ENVELOPE_MARGIN_M;
    free(projected);
    if (projection)
        proj_destroy(projection);
    if (status == -2)
        snprintf(session->message, sizeof session->message, "cannot project the land of %s to %s",
                 territory_code(t), territory_projections[t]);
    territory->present = status == 0;
    return status;
}

/* Gives each commune with a point the territory whose land contains it
 * (its own first), and its projected point. Returns 0, -1 or -2. */
static int place_communes(Session *session, LandBuild *build, GEOSGeometry *const *lands)
{
    const Communes *communes = build->communes;
    const GEOSPreparedGeometry *prepared[TERRITORY_COUNT] = {NULL};
    uint8_t *placed = malloc(communes->commune_count + 1);
    int status = placed ? 0 : -1;
    for (int t = 0; status == 0 && t < TERRITORY_COUNT; t++)
        if (lands[t] && !(prepared[t] = GEOSPrepare_r(session->geos, lands[t])))
            status = -2;
    for (size_t c = 0; status == 0 && c < communes->commune_count; c++) {
        const Commune *commune = &communes->communes[c];
        placed[c] = TERRITORY_COUNT; /* none */
        if (!commune->has_point)
            continue;
        GEOSGeometry *point =
            GEOSGeom_createPointFromXY_r(session->geos, commune->lon, commune->lat);
        if (!point) {
            status = -2;
            break;
        }
        for (int k = 0; k < TERRITORY_COUNT && placed[c] == TERRITORY_COUNT; k++) {
            /* Its own territory first, then the others in order. */
            int t = k == 0 ? commune->territory : (k <= commune->territory ? k - 1 : k);
            const Territory *territory = &build->territories[t];
            if (!prepared[t] || commune->lon < territory->west || commune->lon > territory->east ||
                commune->lat < territory->south || commune->lat > territory->north)
                continue;
            char inside = GEOSPreparedContains_r(session->geos, prepared[t], point);
            if (inside == 2)
                status = -2;
            else if (inside)
                placed[c] = (uint8_t)t;
        }
        GEOSGeom_destroy_r(session->geos, point);
    }
    for (int t = 0; t < TERRITORY_COUNT; t++)
        if (prepared[t])
            GEOSPreparedGeom_destroy_r(session->geos, prepared[t]);
    for (int t = 0; status == 0 && t < TERRITORY_COUNT; t++) {
        Territory *territory = &build->territories[t];
        size_t count = 0;
        for (size_t c = 0; c < communes->commune_count; c++)
            count += placed[c] == t;
        territory->communes = malloc((count + 1) * sizeof *territory->communes);
        territory->commune_xy = malloc((2 * count + 1) * sizeof *territory->commune_xy);
        if (!territory->communes || !territory->commune_xy) {
            status = -1;
            break;
        }
        for (size_t c = 0; c < communes->commune_count; c++) {
            if (placed[c] != t)
                continue;
            size_t k = territory->commune_count++;
            territory->communes[k] = (uint32_t)c;
            territory->commune_xy[2 * k] = communes->communes[c].lon;
            territory->commune_xy[2 * k + 1] = communes->communes[c].lat;
            territory->population += communes->communes[c].population;
        }
        if (count == 0)
            continue;
        PJ *projection = proj_create(session->proj, territory->projection);
        if (!projection || project_points(projection, PJ_FWD, territory->commune_xy,
                                          territory->commune_count) != 0) {
            snprintf(session->message, sizeof session->message, "cannot project the communes of %s",
                     territory_code((unsigned)t));
            status = -2;
        }
        if (projection)
            proj_destroy(projection);
    }
    free(placed);
    return status;
}

/* Builds the land of every territory and places the communes. Returns the
 * build, or NULL with *status -1 or -2 and a message. */
static LandBuild *land_build(const ServiceLand *land, const Communes *communes, int *status,
                             char *error, size_t error_size)
{
    Session session;
    LandBuild *build = calloc(1, sizeof *build);
    GEOSWKBReader *reader = NULL;
    GEOSGeometry *lands[TERRITORY_COUNT] = {NULL};
    *status = build && session_open(&session) == 0 ? 0 : -1;
    if (*status == 0) {
        build->communes = communes;
        reader = GEOSWKBReader_create_r(session.geos);
        if (!reader)
            *status = -2;
    }
    for (unsigned t = 0; *status == 0 && t < TERRITORY_COUNT; t++) {
        size_t count = 0;
        for (size_t d = 0; d < land->count; d++)
            count += land->territory[d] == t;
        if (count == 0)
            continue;
        GEOSGeometry **parts = malloc(count * sizeof *parts);
        size_t made = 0;
        for (size_t d = 0; parts && d < land->count && *status == 0; d++) {
            if (land->territory[d] != t)
                continue;
            parts[made] = GEOSWKBReader_read_r(session.geos, reader, land->wkb + land->wkb_start[d],
                                               land->wkb_start[d + 1] - land->wkb_start[d]);
            if (!parts[made])
                *status = -2;
            else
                made++;
        }
        if (!parts)
            *status = -1;
        if (*status == 0) {
            lands[t] = union_of(&session, parts, made); /* takes the parts */
            made = 0;
            *status = lands[t] ? territory_fill(&session, &build->territories[t], t, lands[t]) : -2;
        }
        if (*status == 0 && !build->territories[t].present) { /* an empty union */
            GEOSGeom_destroy_r(session.geos, lands[t]);
            lands[t] = NULL;
        }
        for (size_t i = 0; i < made; i++)
            GEOSGeom_destroy_r(session.geos, parts[i]);
        free(parts);
    }
    if (*status == 0)
        *status = place_communes(&session, build, lands);
    if (*status != 0)
        snprintf(error, error_size, "service areas: cannot build the land: %s",
                 *status == -1        ? "out of memory"
                 : session.message[0] ? session.message
                                      : "GEOS or PROJ failed");
    for (int t = 0; t < TERRITORY_COUNT; t++)
        if (lands[t])
            GEOSGeom_destroy_r(session.geos, lands[t]);
    if (reader)
        GEOSWKBReader_destroy_r(session.geos, reader);
    if (build)
        session_close(&session);
    if (*status != 0) {
        land_build_free(build);
        return NULL;
    }
    return build;
}

/* The built land, building it first when no call has. */
const LandBuild *service_land_ready(struct ServiceLand *land, const Communes *communes, int *status,
                                    char *error, size_t error_size)
{
    LandBuild *built = __atomic_load_n(&land->built, __ATOMIC_ACQUIRE);
    if (!built) {
        pthread_mutex_lock(&land->lock);
        built = land->built;
        if (!built) {
            built = land_build(land, communes, status, error, error_size);
            if (built) {
                __atomic_store_n(&land->built, built, __ATOMIC_RELEASE);
                free(land->wkb); /* read only by land_build(), which will not run again */
                free(land->wkb_start);
                free(land->territory);
                land->wkb = NULL;
                land->wkb_start = NULL;
                land->territory = NULL;
                land->count = 0;
            }
        }
        pthread_mutex_unlock(&land->lock);
    }
    assert(!built || built->communes == communes);
    *status = built ? 0 : *status;
    return built;
}
