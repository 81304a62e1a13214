/* service_areas.c — the land by territory and the cells of a selection; see
 * service_areas.h.
 *
 * Layout: plain polygon sets (PolygonSet: polygons, rings, points) hold the
 * land and the answer, so nothing shared between threads is a GEOS or PROJ
 * object; each computation makes its own GEOS context, PROJ context and
 * projections (from the PROJ pipeline strings kept with the land, 0.2 ms
 * each, where proj_create_crs_to_crs takes 2 to 30 ms), and GEOS geometries
 * from the plain arrays. The land is built under a mutex at the first
 * computation and published with a release store; later computations read
 * it without locks. PROJ is used directly (as geodesy.c does) rather than
 * through geodesy.h's Reprojector, which takes one point at a time and only
 * towards WGS84: here whole arrays go both ways. */
#include "index/service_areas.h"

#include "base/array.h"
#include "base/geodesy.h"
#include "base/slots.h"
#include "base/text.h"

#include <assert.h>
#define GEOS_USE_ONLY_R_API
#include <geos_c.h>
#include <math.h>
#include <proj.h>
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
 * (edges straight in WGS84 bulge by far less in the projection), and the
 * Voronoi diagram is clipped to the envelope widened by VORONOI_FRAME_M,
 * so that every edge piece near the land is a true Voronoi edge. */
#define LAND_ENVELOPE_MARGIN_M 1000.0
#define VORONOI_FRAME_M 50000.0
/* Voronoi segments are deduplicated on their end points rounded to this
 * grid (metres): the two cells of an edge clipped by the frame may compute
 * its end on the frame a few ulps apart. */
#define SEGMENT_KEY_GRID_M 0.001

/* 1 when a comes before b (lexicographic on x, y). */
static int point_before(const double *a, const double *b)
{
    return a[0] < b[0] || (a[0] == b[0] && a[1] < b[1]);
}

/* --- Plain polygon sets ------------------------------------------------- */

typedef struct PolygonSet {
    uint32_t *polygon_rings; /* polygon_count + 1 entries */
    uint32_t *ring_points;   /* ring_count + 1 entries */
    double *points;          /* x, y (longitude, latitude) pairs */
    size_t polygon_count, ring_count, point_count;
    size_t polygon_capacity, ring_capacity, point_capacity; /* in entries (points: doubles) */
} PolygonSet;

/* An empty set with its two index arrays started. Returns 0, or -1. */
static int polygon_set_init(PolygonSet *set)
{
    memset(set, 0, sizeof *set);
    if (array_reserve(set->polygon_rings, set->polygon_capacity, 1, 64) != 0 ||
        array_reserve(set->ring_points, set->ring_capacity, 1, 64) != 0)
        return -1;
    set->polygon_rings[0] = 0;
    set->ring_points[0] = 0;
    return 0;
}

static void polygon_set_free(PolygonSet *set)
{
    free(set->polygon_rings);
    free(set->ring_points);
    free(set->points);
    memset(set, 0, sizeof *set);
}

/* Twice the signed area of a closed ring (positive: counterclockwise). */
static double ring_signed_area(const double *xy, size_t count)
{
    double sum = 0;
    for (size_t i = 0; i + 1 < count; i++)
        sum += xy[2 * i] * xy[2 * i + 3] - xy[2 * i + 2] * xy[2 * i + 1];
    return sum;
}

/* 1 when (px, py) is inside the closed ring (crossing number). */
static int ring_contains(const double *xy, size_t count, double px, double py)
{
    int inside = 0;
    for (size_t i = 1; i < count; i++) {
        double x0 = xy[2 * i - 2], y0 = xy[2 * i - 1], x1 = xy[2 * i], y1 = xy[2 * i + 1];
        if ((y0 > py) != (y1 > py) && px < x0 + (x1 - x0) * (py - y0) / (y1 - y0))
            inside = !inside;
    }
    return inside;
}

/* Appends a closed ring of `count` points to the polygon being built,
 * reversed when its orientation is not the one wanted. Returns 0, or -1. */
static int polygon_set_ring(PolygonSet *set, const double *xy, size_t count, int counterclockwise)
{
    assert(count >= 4 && xy[0] == xy[2 * count - 2] && xy[1] == xy[2 * count - 1]);
    if (set->point_count + count > UINT32_MAX || set->ring_count + 1 >= UINT32_MAX ||
        array_reserve(set->ring_points, set->ring_capacity, set->ring_count + 2, 64) != 0 ||
        array_reserve(set->points, set->point_capacity, 2 * (set->point_count + count), 4096) != 0)
        return -1;
    double *to = set->points + 2 * set->point_count;
    if ((ring_signed_area(xy, count) > 0) == (counterclockwise != 0)) {
        memcpy(to, xy, 2 * count * sizeof *xy);
    } else {
        for (size_t i = 0; i < count; i++) {
            to[2 * i] = xy[2 * (count - 1 - i)];
            to[2 * i + 1] = xy[2 * (count - 1 - i) + 1];
        }
    }
    set->point_count += count;
    set->ring_points[++set->ring_count] = (uint32_t)set->point_count;
    return 0;
}

/* Ends the polygon made of the rings appended since the last one. */
static int polygon_set_close(PolygonSet *set)
{
    assert(set->ring_count > set->polygon_rings[set->polygon_count]);
    if (array_reserve(set->polygon_rings, set->polygon_capacity, set->polygon_count + 2, 64) != 0)
        return -1;
    set->polygon_rings[++set->polygon_count] = (uint32_t)set->ring_count;
    return 0;
}

/* Appends polygon `p` of `from` to `set`. Returns 0, or -1. */
static int polygon_set_copy(PolygonSet *set, const PolygonSet *from, size_t p)
{
    for (uint32_t r = from->polygon_rings[p]; r < from->polygon_rings[p + 1]; r++) {
        uint32_t first = from->ring_points[r], end = from->ring_points[r + 1];
        if (polygon_set_ring(set, from->points + 2 * (size_t)first, end - first,
                             r == from->polygon_rings[p]) != 0)
            return -1;
    }
    return polygon_set_close(set);
}

/* 1 when (x, y) is inside polygon `p` of `set` (crossing number: in its
 * exterior ring and in none of its holes). */
static int polygon_set_contains(const PolygonSet *set, size_t p, double x, double y)
{
    for (uint32_t r = set->polygon_rings[p]; r < set->polygon_rings[p + 1]; r++) {
        uint32_t first = set->ring_points[r], end = set->ring_points[r + 1];
        int inside = ring_contains(set->points + 2 * (size_t)first, end - first, x, y);
        if (inside != (r == set->polygon_rings[p]))
            return 0;
    }
    return 1;
}

/* --- GEOS sessions ---------------------------------------------------------- */

/* One GEOS context and one PROJ context, for one thread at a time. */
typedef struct Session {
    GEOSContextHandle_t geos;
    PJ_CONTEXT *proj;
    char message[256]; /* GEOS's last error, "" when none */
    double *scratch;   /* coordinates copied out of GEOS */
    size_t scratch_capacity;
} Session;

static void geos_message(const char *message, void *user)
{
    Session *session = user;
    snprintf(session->message, sizeof session->message, "%s", message);
}

static int session_open(Session *session)
{
    memset(session, 0, sizeof *session);
    session->geos = GEOS_init_r();
    session->proj = proj_context_create();
    if (!session->geos || !session->proj)
        return -1;
    GEOSContext_setErrorMessageHandler_r(session->geos, geos_message, session);
    GEOSContext_setNoticeMessageHandler_r(session->geos, NULL, NULL);
    proj_log_level(session->proj, PJ_LOG_NONE);
    return 0;
}

static void session_close(Session *session)
{
    if (session->geos)
        GEOS_finish_r(session->geos);
    if (session->proj)
        proj_context_destroy(session->proj);
    free(session->scratch);
    memset(session, 0, sizeof *session);
}

/* The coordinates of a GEOS ring or line into session->scratch; *count
 * points. Returns 0, -1 (memory) or -2 (GEOS). */
static int session_coordinates(Session *session, const GEOSGeometry *line, size_t *count)
{
    const GEOSCoordSequence *sequence = GEOSGeom_getCoordSeq_r(session->geos, line);
    unsigned int size = 0;
    if (!sequence || !GEOSCoordSeq_getSize_r(session->geos, sequence, &size))
        return -2;
    if (array_reserve(session->scratch, session->scratch_capacity, 2 * (size_t)size + 2, 1024) != 0)
        return -1;
    if (size > 0 && !GEOSCoordSeq_copyToBuffer_r(session->geos, sequence, session->scratch, 0, 0))
        return -2;
    *count = size;
    return 0;
}

/* Appends a GEOS polygon (its exterior ring counterclockwise, holes
 * clockwise; an empty one is skipped). Returns 0, -1 or -2. */
static int polygon_set_add_geos(PolygonSet *set, Session *session, const GEOSGeometry *polygon)
{
    int holes = GEOSGetNumInteriorRings_r(session->geos, polygon);
    if (holes < 0)
        return -2;
    for (int r = -1; r < holes; r++) {
        const GEOSGeometry *ring = r < 0 ? GEOSGetExteriorRing_r(session->geos, polygon)
                                         : GEOSGetInteriorRingN_r(session->geos, polygon, r);
        size_t count = 0;
        int status = ring ? session_coordinates(session, ring, &count) : -2;
        if (status != 0)
            return status;
        if (count < 4) {
            if (r < 0)
                return 0; /* an empty polygon */
            continue;
        }
        if (polygon_set_ring(set, session->scratch, count, r < 0) != 0)
            return -1;
    }
    return polygon_set_close(set) == 0 ? 0 : -1;
}

static GEOSGeometry *geos_ring(Session *session, const PolygonSet *set, uint32_t r, int linear_ring)
{
    uint32_t first = set->ring_points[r], end = set->ring_points[r + 1];
    GEOSCoordSequence *sequence = GEOSCoordSeq_copyFromBuffer_r(
        session->geos, set->points + 2 * (size_t)first, end - first, 0, 0);
    if (!sequence)
        return NULL;
    GEOSGeometry *ring = linear_ring ? GEOSGeom_createLinearRing_r(session->geos, sequence)
                                     : GEOSGeom_createLineString_r(session->geos, sequence);
    if (!ring)
        GEOSCoordSeq_destroy_r(session->geos, sequence);
    return ring;
}

/* Polygon `p` of `set` as a GEOS polygon, or NULL. */
static GEOSGeometry *geos_polygon(Session *session, const PolygonSet *set, size_t p)
{
    uint32_t first = set->polygon_rings[p], end = set->polygon_rings[p + 1];
    GEOSGeometry *shell = geos_ring(session, set, first, 1);
    GEOSGeometry **holes = malloc((end - first) * sizeof *holes);
    size_t hole_count = 0;
    int failed = !shell || !holes;
    for (uint32_t r = first + 1; !failed && r < end; r++) {
        holes[hole_count] = geos_ring(session, set, r, 1);
        failed = !holes[hole_count++];
    }
    GEOSGeometry *polygon = NULL;
    if (!failed)
        polygon = GEOSGeom_createPolygon_r(session->geos, shell, holes, (unsigned int)hole_count);
    if (!polygon) {
        if (shell)
            GEOSGeom_destroy_r(session->geos, shell);
        for (size_t h = 0; holes && h < hole_count; h++)
            if (holes[h])
                GEOSGeom_destroy_r(session->geos, holes[h]);
    }
    free(holes);
    return polygon;
}

/* Every polygon of `set` as one GEOS MultiPolygon, or NULL. */
static GEOSGeometry *geos_multipolygon(Session *session, const PolygonSet *set)
{
    GEOSGeometry **polygons = malloc((set->polygon_count + 1) * sizeof *polygons);
    size_t made = 0;
    while (polygons && made < set->polygon_count &&
           (polygons[made] = geos_polygon(session, set, made)) != NULL)
        made++;
    GEOSGeometry *multipolygon = NULL;
    if (polygons && made == set->polygon_count)
        multipolygon = GEOSGeom_createCollection_r(session->geos, GEOS_MULTIPOLYGON, polygons,
                                                   (unsigned int)made);
    if (!multipolygon)
        for (size_t i = 0; i < made; i++)
            GEOSGeom_destroy_r(session->geos, polygons[i]);
    free(polygons);
    return multipolygon;
}

/* --- Projections ------------------------------------------------------------ */

/* The PROJ pipeline (longitude, latitude in degrees -> metres) of `crs`,
 * as a string to instantiate in any context, or NULL. */
static char *projection_string(PJ_CONTEXT *context, const char *crs)
{
    PJ *raw = proj_create_crs_to_crs(context, "EPSG:4326", crs, NULL);
    PJ *normalised = raw ? proj_normalize_for_visualization(context, raw) : NULL;
    const char *text =
        normalised ? proj_as_proj_string(context, normalised, PJ_PROJ_5, NULL) : NULL;
    char *copy = text ? strdup(text) : NULL;
    if (normalised)
        proj_destroy(normalised);
    if (raw)
        proj_destroy(raw);
    return copy;
}

/* Transforms `count` (x, y) pairs in place; returns 0, or -1 when PROJ
 * failed or gave a non-finite value. */
static int project_points(PJ *projection, PJ_DIRECTION direction, double *xy, size_t count)
{
    if (count == 0)
        return 0;
    proj_trans_generic(projection, direction, xy, 2 * sizeof *xy, count, xy + 1, 2 * sizeof *xy,
                       count, NULL, 0, 0, NULL, 0, 0);
    for (size_t i = 0; i < 2 * count; i++)
        if (!isfinite(xy[i]))
            return -1;
    return 0;
}

/* --- The land ------------------------------------------------------------------ */

typedef struct Territory {
    int present;                       /* 1 when some département gave it land */
    char *projection;                  /* PROJ pipeline: degrees -> metres */
    PolygonSet land;                   /* WGS84, the union of its départements */
    double west, south, east, north;   /* WGS84 envelope of `land` */
    double min_x, min_y, max_x, max_y; /* projected envelope, widened */
    double centre_lat, centre_lon;     /* the land's centroid */
    double radius_m;                   /* every land point is this close to the centre */
    uint32_t *communes;                /* communes whose point is on this land */
    double *commune_xy;                /* their points, projected */
    size_t commune_count;
    int64_t population; /* of those communes */
} Territory;

typedef struct LandBuild {
    const Communes *communes; /* the one Communes the commune lists index */
    Territory territories[TERRITORY_COUNT];
} LandBuild;

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
static const LandBuild *land_ready(ServiceLand *land, const Communes *communes, int *status,
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

/* --- Generators: the positions of one territory, projected ---------------- */

typedef struct Generators {
    size_t count;
    double *x, *y;        /* projected, sorted by x (then y, area) */
    uint32_t *area;       /* the position (area index) of each */
    int *cell;            /* its Voronoi cell in the GEOS answer, -1 none */
    size_t *ring_start;   /* count + 1: its cell's WGS84 outline in `rings` */
    double *rings;        /* longitude, latitude pairs */
    uint32_t *candidates; /* scratch for generator_of() */
} Generators;

static void generators_free(Generators *generators)
{
    free(generators->x);
    free(generators->y);
    free(generators->area);
    free(generators->cell);
    free(generators->ring_start);
    free(generators->rings);
    free(generators->candidates);
    memset(generators, 0, sizeof *generators);
}

typedef struct GeneratorOrder {
    double x, y;
    uint32_t area;
} GeneratorOrder;

static int compare_generators(const void *a, const void *b)
{
    const GeneratorOrder *p = a, *q = b;
    if (p->x != q->x)
        return p->x < q->x ? -1 : 1;
    if (p->y != q->y)
        return p->y < q->y ? -1 : 1;
    return (p->area > q->area) - (p->area < q->area);
}

/* Takes `count` projected points with their areas, sorted by x. */
static int generators_init(Generators *generators, GeneratorOrder *order, size_t count)
{
    memset(generators, 0, sizeof *generators);
    qsort(order, count, sizeof *order, compare_generators);
    generators->count = count;
    generators->x = malloc(count * sizeof *generators->x);
    generators->y = malloc(count * sizeof *generators->y);
    generators->area = malloc(count * sizeof *generators->area);
    generators->cell = malloc(count * sizeof *generators->cell);
    generators->ring_start = calloc(count + 1, sizeof *generators->ring_start);
    generators->candidates = malloc(count * sizeof *generators->candidates);
    if (!generators->x || !generators->y || !generators->area || !generators->cell ||
        !generators->ring_start || !generators->candidates)
        return -1;
    for (size_t i = 0; i < count; i++) {
        generators->x[i] = order[i].x;
        generators->y[i] = order[i].y;
        generators->area[i] = order[i].area;
        generators->cell[i] = -1;
    }
    return 0;
}

/* 1 when generator i at distance d beats generator `best` at `best_d`
 * (ties: the smaller area index, that is the smaller first site). */
static int nearer(const Generators *generators, size_t i, double d, size_t best, double best_d)
{
    return d < best_d || (d == best_d && generators->area[i] < generators->area[best]);
}

/* The generator nearest to (x, y) in the plane; every generator within its
 * distance + `slack` goes to generators->candidates (*count of them). */
static size_t generators_near(Generators *generators, double x, double y, double slack,
                              size_t *count)
{
    const double *gx = generators->x, *gy = generators->y;
    size_t low = 0, high = generators->count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (gx[middle] < x)
            low = middle + 1;
        else
            high = middle;
    }
    size_t best = low < generators->count ? low : low - 1;
    double best_d = hypot(gx[best] - x, gy[best] - y);
    for (size_t i = low; i < generators->count && gx[i] - x <= best_d; i++) {
        double d = hypot(gx[i] - x, gy[i] - y);
        if (nearer(generators, i, d, best, best_d))
            best = i, best_d = d;
    }
    for (size_t i = low; i-- > 0 && x - gx[i] <= best_d;) {
        double d = hypot(gx[i] - x, gy[i] - y);
        if (nearer(generators, i, d, best, best_d))
            best = i, best_d = d;
    }
    *count = 0;
    double reach = best_d + slack;
    for (size_t i = low; i < generators->count && gx[i] - x <= reach; i++)
        if (hypot(gx[i] - x, gy[i] - y) <= reach)
            generators->candidates[(*count)++] = (uint32_t)i;
    for (size_t i = low; i-- > 0 && x - gx[i] <= reach;)
        if (hypot(gx[i] - x, gy[i] - y) <= reach)
            generators->candidates[(*count)++] = (uint32_t)i;
    assert(*count >= 1);
    return best;
}

/* The generator whose cell holds the point (x, y) projected, (lon, lat) in
 * WGS84: the nearest in the plane, unless another is nearly as near; then
 * the one whose WGS84 cell outline contains (lon, lat). */
static size_t generator_of(Generators *generators, double x, double y, double lon, double lat)
{
    size_t count = 0;
    size_t best = generators_near(generators, x, y, 2 * SERVICE_AREAS_AMBIGUOUS_M, &count);
    if (count <= 1)
        return best;
    for (size_t k = 0; k < count; k++) {
        size_t i = generators->candidates[k];
        size_t first = generators->ring_start[i], end = generators->ring_start[i + 1];
        if (end - first >= 4 && ring_contains(generators->rings + 2 * first, end - first, lon, lat))
            return i;
    }
    return best;
}

/* --- The computation -------------------------------------------------------------- */

/* Everything one computation accumulates. */
typedef struct Work {
    Session session;
    const Snapshot *snapshot;
    const Communes *communes;
    ServiceArea *areas;
    size_t area_count;
    PolygonSet cells;       /* the polygons of every cell */
    uint32_t *polygon_area; /* the area of each polygon of `cells` */
    size_t polygon_area_capacity;
    uint32_t joined;
} Work;

/* Records the polygon just added to work->cells as area `area`'s. */
static int work_polygon_of(Work *work, uint32_t area, unsigned territory)
{
    assert(work->cells.polygon_count > 0 && area < work->area_count);
    if (array_reserve(work->polygon_area, work->polygon_area_capacity, work->cells.polygon_count,
                      64) != 0)
        return -1;
    work->polygon_area[work->cells.polygon_count - 1] = area;
    work->areas[area].territories |= 1u << territory;
    return 0;
}

/* Territory `t`'s whole land joins area `area`, with all its communes. */
static int territory_whole(Work *work, const Territory *territory, unsigned t, uint32_t area)
{
    for (size_t p = 0; p < territory->land.polygon_count; p++)
        if (polygon_set_copy(&work->cells, &territory->land, p) != 0 ||
            work_polygon_of(work, area, t) != 0)
            return -1;
    work->areas[area].population += territory->population;
    return 0;
}

typedef struct Segment {
    int64_t key[4]; /* canonical end points on the SEGMENT_KEY_GRID_M grid */
    size_t first;   /* its points in generators->rings: first .. first + count - 1 */
    size_t count;
} Segment;

static int compare_segments(const void *a, const void *b)
{
    const Segment *p = a, *q = b;
    for (int i = 0; i < 4; i++)
        if (p->key[i] != q->key[i])
            return p->key[i] < q->key[i] ? -1 : 1;
    return (p->first > q->first) - (p->first < q->first);
}

/* The Voronoi cells of the generators (projected), their outlines densified
 * and taken to WGS84 into generators->rings, and the distinct segments near
 * the land into *segments. Returns 0, -1 or -2. */
static int voronoi_outlines(Work *work, PJ *projection, const Territory *territory,
                            Generators *generators, Segment **segments, size_t *segment_count)
{
    Session *session = &work->session;
    GEOSContextHandle_t geos = session->geos;
    GEOSGeometry **points = malloc(generators->count * sizeof *points);
    size_t made = 0;
    while (points && made < generators->count &&
           (points[made] = GEOSGeom_createPointFromXY_r(geos, generators->x[made],
                                                        generators->y[made])) != NULL)
        made++;
    GEOSGeometry *multipoint = NULL;
    if (points && made == generators->count)
        multipoint = GEOSGeom_createCollection_r(geos, GEOS_MULTIPOINT, points, (unsigned int)made);
    if (!multipoint)
        for (size_t i = 0; i < made; i++)
            GEOSGeom_destroy_r(geos, points[i]);
    free(points);
    if (!multipoint)
        return -2;
    GEOSGeometry *frame = GEOSGeom_createRectangle_r(
        geos, territory->min_x - VORONOI_FRAME_M, territory->min_y - VORONOI_FRAME_M,
        territory->max_x + VORONOI_FRAME_M, territory->max_y + VORONOI_FRAME_M);
    GEOSGeometry *cells = frame ? GEOSVoronoiDiagram_r(geos, multipoint, frame, 0, 0) : NULL;
    GEOSGeom_destroy_r(geos, multipoint);
    if (frame)
        GEOSGeom_destroy_r(geos, frame);
    if (!cells)
        return -2;
    int status = 0;
    int cell_count = GEOSGetNumGeometries_r(geos, cells);
    if (cell_count < 0)
        status = -2;
    /* Each cell's generator: the nearest to the mean of its vertices (inside
     * the convex cell); by containment if that ever gives one twice. */
    int conflict = 0;
    for (int c = 0; !conflict && status == 0 && c < cell_count; c++) {
        const GEOSGeometry *ring = GEOSGetExteriorRing_r(geos, GEOSGetGeometryN_r(geos, cells, c));
        size_t count = 0;
        status = ring ? session_coordinates(session, ring, &count) : -2;
        if (status != 0 || count < 4)
            continue;
        double mean_x = 0, mean_y = 0;
        for (size_t i = 0; i + 1 < count; i++) {
            mean_x += session->scratch[2 * i];
            mean_y += session->scratch[2 * i + 1];
        }
        size_t ignored;
        size_t g = generators_near(generators, mean_x / (double)(count - 1),
                                   mean_y / (double)(count - 1), 0, &ignored);
        if (generators->cell[g] >= 0 ||
            !ring_contains(session->scratch, count, generators->x[g], generators->y[g]))
            conflict = 1;
        generators->cell[g] = c;
    }
    for (size_t g = 0; conflict && status == 0 && g < generators->count; g++) {
        generators->cell[g] = -1;
        for (int c = 0; c < cell_count && generators->cell[g] < 0 && status == 0; c++) {
            const GEOSGeometry *ring =
                GEOSGetExteriorRing_r(geos, GEOSGetGeometryN_r(geos, cells, c));
            size_t count = 0;
            status = ring ? session_coordinates(session, ring, &count) : -2;
            if (status == 0 && count >= 4 &&
                ring_contains(session->scratch, count, generators->x[g], generators->y[g]))
                generators->cell[g] = c;
        }
    }
    /* The outlines, densified from each segment's canonical end so that
     * the two cells of an edge get the same points. */
    size_t ring_capacity = 0, segment_capacity = 0, used = 0;
    double *rings = NULL;
    for (size_t g = 0; status == 0 && g < generators->count; g++) {
        generators->ring_start[g] = used;
        if (generators->cell[g] < 0)
            continue;
        const GEOSGeometry *ring =
            GEOSGetExteriorRing_r(geos, GEOSGetGeometryN_r(geos, cells, generators->cell[g]));
        size_t count = 0;
        status = ring ? session_coordinates(session, ring, &count) : -2;
        if (count < 4)
            count = 0; /* a degenerate cell: no outline */
        for (size_t i = 0; status == 0 && i + 1 < count; i++) {
            const double *p = session->scratch + 2 * i, *q = p + 2;
            int forward = point_before(p, q);
            const double *a = forward ? p : q, *b = forward ? q : p;
            double length = hypot(b[0] - a[0], b[1] - a[1]);
            size_t pieces = length > SERVICE_AREAS_DENSIFY_M
                                ? (size_t)ceil(length / SERVICE_AREAS_DENSIFY_M)
                                : 1;
            if (pieces > 100000 ||
                array_reserve(rings, ring_capacity, 2 * (used + pieces + 1), 4096) != 0 || !rings) {
                status = -1;
                break;
            }
            size_t first = used;
            for (size_t k = 0; k < pieces; k++) { /* p's end to just before q's */
                size_t j = forward ? k : pieces - k;
                rings[2 * used] = j == pieces ? b[0] : a[0] + (b[0] - a[0]) * ((double)j / pieces);
                rings[2 * used + 1] =
                    j == pieces ? b[1] : a[1] + (b[1] - a[1]) * ((double)j / pieces);
                used++;
            }
            int near_land =
                fmax(a[0], b[0]) >= territory->min_x && fmin(a[0], b[0]) <= territory->max_x &&
                fmax(a[1], b[1]) >= territory->min_y && fmin(a[1], b[1]) <= territory->max_y;
            if (!near_land)
                continue;
            if (array_reserve(*segments, segment_capacity, *segment_count + 1, 256) != 0) {
                status = -1;
                break;
            }
            Segment *segment = &(*segments)[(*segment_count)++];
            segment->key[0] = llround(a[0] / SEGMENT_KEY_GRID_M);
            segment->key[1] = llround(a[1] / SEGMENT_KEY_GRID_M);
            segment->key[2] = llround(b[0] / SEGMENT_KEY_GRID_M);
            segment->key[3] = llround(b[1] / SEGMENT_KEY_GRID_M);
            segment->first = first;
            segment->count = pieces + 1; /* with the next segment's first point */
        }
        if (status == 0 && used > generators->ring_start[g]) { /* close the ring */
            if (array_reserve(rings, ring_capacity, 2 * (used + 1), 4096) != 0 || !rings) {
                status = -1;
                break;
            }
            rings[2 * used] = rings[2 * generators->ring_start[g]];
            rings[2 * used + 1] = rings[2 * generators->ring_start[g] + 1];
            used++;
        }
    }
    generators->ring_start[generators->count] = used;
    GEOSGeom_destroy_r(geos, cells);
    if (status == 0 && project_points(projection, PJ_INV, rings, used) != 0) {
        snprintf(session->message, sizeof session->message,
                 "cannot take the cell edges back to WGS84");
        status = -2;
    }
    generators->rings = rings;
    return status;
}

/* The noded outline of the land and the cell edges near it, polygonized:
 * the faces. NULL with a message on failure. */
static GEOSGeometry *faces_of(Work *work, const Territory *territory, const Generators *generators,
                              Segment *segments, size_t segment_count)
{
    GEOSContextHandle_t geos = work->session.geos;
    qsort(segments, segment_count, sizeof *segments, compare_segments);
    const PolygonSet *land = &territory->land;
    GEOSGeometry **lines = malloc((land->ring_count + segment_count + 1) * sizeof *lines);
    size_t count = 0;
    int failed = !lines;
    for (uint32_t r = 0; !failed && r < land->ring_count; r++)
        failed = !(lines[count++] = geos_ring(&work->session, land, r, 0));
    for (size_t s = 0; !failed && s < segment_count; s++) {
        if (s > 0 && memcmp(segments[s].key, segments[s - 1].key, sizeof segments[s].key) == 0)
            continue; /* the same edge, seen from its other cell */
        GEOSCoordSequence *sequence = GEOSCoordSeq_copyFromBuffer_r(
            geos, generators->rings + 2 * segments[s].first, (unsigned int)segments[s].count, 0, 0);
        GEOSGeometry *line = sequence ? GEOSGeom_createLineString_r(geos, sequence) : NULL;
        if (!line && sequence)
            GEOSCoordSeq_destroy_r(geos, sequence);
        failed = !(lines[count++] = line);
    }
    if (failed) {
        for (size_t i = 0; lines && i + 1 < count; i++)
            GEOSGeom_destroy_r(geos, lines[i]);
        free(lines);
        return NULL;
    }
    GEOSGeometry *linework =
        GEOSGeom_createCollection_r(geos, GEOS_MULTILINESTRING, lines, (unsigned int)count);
    if (!linework)
        for (size_t i = 0; i < count; i++)
            GEOSGeom_destroy_r(geos, lines[i]);
    free(lines);
    if (!linework)
        return NULL;
    GEOSGeometry *noded = GEOSNode_r(geos, linework);
    if (!noded) /* floating-point noding failed: the robust overlay nodes too */
        noded = GEOSUnaryUnion_r(geos, linework);
    GEOSGeom_destroy_r(geos, linework);
    if (!noded)
        return NULL;
    const GEOSGeometry *const inputs[1] = {noded};
    GEOSGeometry *faces = GEOSPolygonize_r(geos, inputs, 1);
    GEOSGeom_destroy_r(geos, noded);
    return faces;
}

/* The cells of territory `t` for the generators: its land cut by their
 * Voronoi diagram, each face to its generator's area, and the communes.
 * Returns 0, -1 or -2. */
static int territory_cells(Work *work, PJ *projection, const Territory *territory, unsigned t,
                           Generators *generators)
{
    Session *session = &work->session;
    GEOSContextHandle_t geos = session->geos;
    Segment *segments = NULL;
    size_t segment_count = 0;
    int status =
        voronoi_outlines(work, projection, territory, generators, &segments, &segment_count);
    GEOSGeometry *faces =
        status == 0 ? faces_of(work, territory, generators, segments, segment_count) : NULL;
    free(segments);
    if (status == 0 && !faces)
        status = -2;
    GEOSGeometry *land = status == 0 ? geos_multipolygon(session, &territory->land) : NULL;
    const GEOSPreparedGeometry *prepared = land ? GEOSPrepare_r(geos, land) : NULL;
    if (status == 0 && !prepared)
        status = -2;
    int face_count = status == 0 ? GEOSGetNumGeometries_r(geos, faces) : 0;
    for (int f = 0; status == 0 && f < face_count; f++) {
        const GEOSGeometry *face = GEOSGetGeometryN_r(geos, faces, f);
        if (!face || GEOSisEmpty_r(geos, face))
            continue;
        GEOSGeometry *inside = GEOSPointOnSurface_r(geos, face);
        double xy[2];
        char on_land = 2;
        if (inside && GEOSGeomGetX_r(geos, inside, &xy[0]) && GEOSGeomGetY_r(geos, inside, &xy[1]))
            on_land = GEOSPreparedContains_r(geos, prepared, inside);
        if (inside)
            GEOSGeom_destroy_r(geos, inside);
        if (on_land != 1) {
            status = on_land == 0 ? 0 : -2;
            continue;
        }
        double lon = xy[0], lat = xy[1];
        if (project_points(projection, PJ_FWD, xy, 1) != 0) {
            status = -2;
            break;
        }
        size_t g = generator_of(generators, xy[0], xy[1], lon, lat);
        size_t before = work->cells.polygon_count;
        status = polygon_set_add_geos(&work->cells, session, face);
        if (status == 0 && work->cells.polygon_count > before)
            status = work_polygon_of(work, generators->area[g], t);
    }
    if (prepared)
        GEOSPreparedGeom_destroy_r(geos, prepared);
    if (land)
        GEOSGeom_destroy_r(geos, land);
    if (faces)
        GEOSGeom_destroy_r(geos, faces);
    /* The communes: planar nearest, the outlines where ambiguous. */
    const Commune *communes = work->communes->communes;
    for (size_t k = 0; status == 0 && k < territory->commune_count; k++) {
        const Commune *commune = &communes[territory->communes[k]];
        size_t g = generator_of(generators, territory->commune_xy[2 * k],
                                territory->commune_xy[2 * k + 1], commune->lon, commune->lat);
        work->areas[generators->area[g]].population += commune->population;
    }
    return status;
}

/* Territory `t`: which positions take part, then its cells. */
static int territory_answer(Work *work, const Territory *territory, unsigned t)
{
    size_t count = work->area_count;
    double *distance = malloc((count + 1) * sizeof *distance);
    if (!distance)
        return -1;
    size_t nearest = 0;
    for (size_t a = 0; a < count; a++) {
        distance[a] = geodesy_distance_m(territory->centre_lat, territory->centre_lon,
                                         work->areas[a].lat, work->areas[a].lon);
        if (distance[a] < distance[nearest])
            nearest = a; /* ties: the smaller first site */
    }
    int status = 0;
    if (distance[nearest] > territory->radius_m) { /* no position on this territory */
        work->joined |= 1u << t;
        status = territory_whole(work, territory, t, (uint32_t)nearest);
        free(distance);
        return status;
    }
    /* Positions farther than 2 r + d_0 from the centre are farther from
     * every land point than the nearest position can be. */
    double reach = 2 * territory->radius_m + distance[nearest];
    GeneratorOrder *order = malloc((count + 1) * sizeof *order);
    size_t taken = 0;
    for (size_t a = 0; order && a < count; a++)
        if (distance[a] <= reach)
            order[taken++] = (GeneratorOrder){work->areas[a].lon, work->areas[a].lat, (uint32_t)a};
    free(distance);
    if (!order)
        return -1;
    if (taken <= 1) { /* the nearest alone: it is within r of the centre */
        assert(taken == 1 && order[0].area == nearest);
        free(order);
        return territory_whole(work, territory, t, (uint32_t)nearest);
    }
    PJ *projection = proj_create(work->session.proj, territory->projection);
    if (!projection)
        status = -2;
    size_t kept = 0;
    for (size_t i = 0; status == 0 && i < taken; i++) {
        double xy[2] = {order[i].x, order[i].y};
        if (project_points(projection, PJ_FWD, xy, 1) != 0)
            continue; /* far beyond the projection's reach: never nearest here */
        order[kept++] = (GeneratorOrder){xy[0], xy[1], order[i].area};
    }
    if (status == 0 && kept <= 1) {
        status = territory_whole(work, territory, t, kept == 1 ? order[0].area : (uint32_t)nearest);
    } else if (status == 0) {
        Generators generators;
        status = generators_init(&generators, order, kept) == 0 ? 0 : -1;
        if (status == 0)
            status = territory_cells(work, projection, territory, t, &generators);
        generators_free(&generators);
    }
    free(order);
    if (projection)
        proj_destroy(projection);
    return status;
}

typedef struct Placed {
    double lat, lon;
    uint32_t site;
} Placed;

static int compare_placed(const void *a, const void *b)
{
    const Placed *p = a, *q = b;
    if (p->lat != q->lat)
        return p->lat < q->lat ? -1 : 1;
    if (p->lon != q->lon)
        return p->lon < q->lon ? -1 : 1;
    return (p->site > q->site) - (p->site < q->site);
}

static int compare_first_site(const void *a, const void *b)
{
    const ServiceArea *p = a, *q = b;
    return (p->site_start > q->site_start) - (p->site_start < q->site_start);
}

/* The selected sites, and one area per distinct position, ordered by first
 * site. Returns 0, or -1 when out of memory. */
static int select_positions(Work *work, const SpatialIndex *index, const ServiceAreaQuery *query,
                            ServiceAreas *out)
{
    const Snapshot *snapshot = work->snapshot;
    size_t limit = snapshot->site_count, count = 0;
    int truncated = 0;
    uint32_t *sites = malloc((limit + 1) * sizeof *sites);
    if (!sites || spatial_index_box(index, snapshot, -180, -90, 180, 90, query->condition,
                                    &query->filter, limit, sites, &count, &truncated) != 0) {
        free(sites);
        return -1;
    }
    assert(!truncated && count <= UINT32_MAX);
    Placed *placed = malloc((count + 1) * sizeof *placed);
    work->areas = calloc(count + 1, sizeof *work->areas);
    out->sites = malloc((count + 1) * sizeof *out->sites);
    if (!placed || !work->areas || !out->sites) {
        free(sites);
        free(placed);
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        const Site *site = &snapshot->sites[sites[i]];
        assert(isfinite(site->lat) && isfinite(site->lon));
        placed[i] = (Placed){site->lat, site->lon, sites[i]};
    }
    free(sites);
    qsort(placed, count, sizeof *placed, compare_placed);
    /* Areas in position order first, site_start holding their first site
     * (the smallest: ties sort by site); then ordered by it. */
    for (size_t i = 0; i < count; i++) {
        if (i == 0 || placed[i].lat != placed[i - 1].lat || placed[i].lon != placed[i - 1].lon)
            work->areas[work->area_count++] =
                (ServiceArea){placed[i].lat, placed[i].lon, placed[i].site, 0, 0, 0, 0, 0};
        work->areas[work->area_count - 1].site_count++;
    }
    qsort(work->areas, work->area_count, sizeof *work->areas, compare_first_site);
    /* Now each area's sites, grouped in area order. */
    size_t next = 0;
    for (size_t a = 0; a < work->area_count; a++) {
        ServiceArea *area = &work->areas[a];
        Placed key = {area->lat, area->lon, area->site_start};
        const Placed *first = bsearch(&key, placed, count, sizeof *placed, compare_placed);
        assert(first && first->site == area->site_start);
        area->site_start = (uint32_t)next;
        for (uint32_t k = 0; k < area->site_count; k++)
            out->sites[next++] = first[k].site;
    }
    assert(next == count);
    out->site_count = count;
    free(placed);
    return 0;
}

/* Moves the cells into `out`, each area's polygons grouped. */
static int finish_answer(Work *work, ServiceAreas *out)
{
    size_t polygons = work->cells.polygon_count;
    out->area_polygons = malloc((polygons + 1) * sizeof *out->area_polygons);
    if (!out->area_polygons)
        return -1;
    for (size_t p = 0; p < polygons; p++)
        work->areas[work->polygon_area[p]].polygon_count++;
    uint32_t start = 0;
    for (size_t a = 0; a < work->area_count; a++) {
        work->areas[a].polygon_start = start;
        start += work->areas[a].polygon_count;
        work->areas[a].polygon_count = 0;
    }
    for (size_t p = 0; p < polygons; p++) {
        ServiceArea *area = &work->areas[work->polygon_area[p]];
        out->area_polygons[area->polygon_start + area->polygon_count++] = (uint32_t)p;
    }
    out->areas = work->areas;
    out->area_count = work->area_count;
    work->areas = NULL;
    out->polygon_rings = work->cells.polygon_rings;
    out->ring_points = work->cells.ring_points;
    out->points = work->cells.points;
    out->polygon_count = work->cells.polygon_count;
    out->ring_count = work->cells.ring_count;
    out->point_count = work->cells.point_count;
    memset(&work->cells, 0, sizeof work->cells);
    out->joined_territories = work->joined;
    return 0;
}

int service_areas_compute(ServiceLand *land, const SpatialIndex *index, const Snapshot *snapshot,
                          const Communes *communes, const ServiceAreaQuery *query,
                          ServiceAreas *out, char *error, size_t error_size)
{
    memset(out, 0, sizeof *out);
    int status = 0;
    const LandBuild *built = land_ready(land, communes, &status, error, error_size);
    if (!built)
        return status;
    Work work;
    memset(&work, 0, sizeof work);
    work.snapshot = snapshot;
    work.communes = communes;
    status = session_open(&work.session) == 0 && polygon_set_init(&work.cells) == 0 ? 0 : -1;
    if (status == 0)
        status = select_positions(&work, index, query, out);
    for (unsigned t = 0; status == 0 && t < TERRITORY_COUNT; t++) {
        const Territory *territory = &built->territories[t];
        if (!territory->present)
            continue;
        out->land_population += territory->population;
        if (work.area_count > 0)
            status = territory_answer(&work, territory, t);
    }
    if (status == 0)
        status = finish_answer(&work, out);
    if (status != 0) {
        snprintf(error, error_size, "service areas: %s",
                 status == -1              ? "out of memory"
                 : work.session.message[0] ? work.session.message
                                           : "GEOS or PROJ failed");
        service_areas_free(out);
    }
    free(work.areas);
    free(work.polygon_area);
    polygon_set_free(&work.cells);
    session_close(&work.session);
    return status;
}

void service_areas_free(ServiceAreas *areas)
{
    free(areas->areas);
    free(areas->sites);
    free(areas->area_polygons);
    free(areas->polygon_rings);
    free(areas->ring_points);
    free(areas->points);
    memset(areas, 0, sizeof *areas);
}
