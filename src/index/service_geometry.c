/* service_geometry.c — plain polygon sets, GEOS/PROJ sessions and
 * projections for the service areas; see service_geometry.h (internal to
 * src/index/).
 *
 * Owns no state: every function works on the PolygonSet or Session it is
 * given. Nothing here is shared between threads. */
#include "index/service_geometry.h"

#include "base/array.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- Plain polygon sets ------------------------------------------------- */

/* An empty set with its two index arrays started. Returns 0, or -1. */
int polygon_set_init(PolygonSet *set)
{
    memset(set, 0, sizeof *set);
    if (array_reserve(set->polygon_rings, set->polygon_capacity, 1, 64) != 0 ||
        array_reserve(set->ring_points, set->ring_capacity, 1, 64) != 0)
        return -1;
    set->polygon_rings[0] = 0;
    set->ring_points[0] = 0;
    return 0;
}

void polygon_set_free(PolygonSet *set)
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

/* Appends a closed ring of `count` points to the polygon being built,
 * reversed when its orientation is not the one wanted. Returns 0, or -1. */
int polygon_set_ring(PolygonSet *set, const double *xy, size_t count, int counterclockwise)
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
int polygon_set_close(PolygonSet *set)
{
    assert(set->ring_count > set->polygon_rings[set->polygon_count]);
    if (array_reserve(set->polygon_rings, set->polygon_capacity, set->polygon_count + 2, 64) != 0)
        return -1;
    set->polygon_rings[++set->polygon_count] = (uint32_t)set->ring_count;
    return 0;
}

/* Appends polygon `p` of `from` to `set`. Returns 0, or -1. */
int polygon_set_copy(PolygonSet *set, const PolygonSet *from, size_t p)
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
int polygon_set_contains(const PolygonSet *set, size_t p, double x, double y)
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

static void geos_message(const char *message, void *user)
{
    Session *session = user;
    snprintf(session->message, sizeof session->message, "%s", message);
}

int session_open(Session *session)
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

void session_close(Session *session)
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
int session_coordinates(Session *session, const GEOSGeometry *line, size_t *count)
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
int polygon_set_add_geos(PolygonSet *set, Session *session, const GEOSGeometry *polygon)
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

GEOSGeometry *geos_ring(Session *session, const PolygonSet *set, uint32_t r, int linear_ring)
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
GEOSGeometry *geos_multipolygon(Session *session, const PolygonSet *set)
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
char *projection_string(PJ_CONTEXT *context, const char *crs)
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
int project_points(PJ *projection, PJ_DIRECTION direction, double *xy, size_t count)
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
