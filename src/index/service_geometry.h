/* service_geometry.h — INTERNAL to src/index/ (service_land.c and
 * service_areas.c only; nothing outside index/ includes it): the plain
 * polygon sets, the GEOS/PROJ sessions and the projections the service
 * areas are computed with.
 *
 * Owns:
 *  - PolygonSet: polygons as plain arrays (polygons -> rings -> points,
 *    longitude/latitude or projected x/y pairs), so that nothing shared
 *    between threads is a GEOS or PROJ object;
 *  - Session: one GEOS context and one PROJ context for one computation,
 *    and the conversions between PolygonSet and GEOS geometries;
 *  - the PROJ pipelines (degrees -> metres) and their application to
 *    whole arrays, both ways. PROJ is used directly (as geodesy.c does)
 *    rather than through geodesy.h's Reprojector, which takes one point at
 *    a time and only towards WGS84.
 *
 * Invariants:
 *  - a PolygonSet's rings are closed (last point = first, at least 4
 *    points); each polygon has its exterior ring first, then its holes;
 *    polygon_rings[polygon_count] == ring_count and
 *    ring_points[ring_count] == point_count;
 *  - a Session is used by one thread at a time; its `message` holds GEOS's
 *    last error ("" when none); its `scratch` is overwritten by every
 *    session_coordinates() call;
 *  - statuses: 0 success, -1 out of memory, -2 GEOS or PROJ failed.
 */
#ifndef MAILLAGE_SERVICE_GEOMETRY_H
#define MAILLAGE_SERVICE_GEOMETRY_H

#define GEOS_USE_ONLY_R_API
#include <geos_c.h>
#include <proj.h>
#include <stddef.h>
#include <stdint.h>

/* 1 when a comes before b (lexicographic on x, y). */
static inline int point_before(const double *a, const double *b)
{
    return a[0] < b[0] || (a[0] == b[0] && a[1] < b[1]);
}

/* 1 when (px, py) is inside the closed ring (crossing number). */
static inline int ring_contains(const double *xy, size_t count, double px, double py)
{
    int inside = 0;
    for (size_t i = 1; i < count; i++) {
        double x0 = xy[2 * i - 2], y0 = xy[2 * i - 1], x1 = xy[2 * i], y1 = xy[2 * i + 1];
        if ((y0 > py) != (y1 > py) && px < x0 + (x1 - x0) * (py - y0) / (y1 - y0))
            inside = !inside;
    }
    return inside;
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
int polygon_set_init(PolygonSet *set);
/* Frees the arrays of `set` (not the struct), which is left zeroed. */
void polygon_set_free(PolygonSet *set);
/* Appends a closed ring of `count` points (count >= 4, last = first) to the
 * polygon being built, reversed when its orientation is not the one wanted
 * (counterclockwise != 0: exterior; 0: hole). Returns 0, or -1. */
int polygon_set_ring(PolygonSet *set, const double *xy, size_t count, int counterclockwise);
/* Ends the polygon made of the rings appended since the last one (at least
 * one). Returns 0, or -1. */
int polygon_set_close(PolygonSet *set);
/* Appends polygon `p` of `from` to `set`. Returns 0, or -1. */
int polygon_set_copy(PolygonSet *set, const PolygonSet *from, size_t p);
/* 1 when (x, y) is inside polygon `p` of `set` (crossing number: in its
 * exterior ring and in none of its holes). */
int polygon_set_contains(const PolygonSet *set, size_t p, double x, double y);

/* --- GEOS sessions ---------------------------------------------------------- */

/* One GEOS context and one PROJ context, for one thread at a time. */
typedef struct Session {
    GEOSContextHandle_t geos;
    PJ_CONTEXT *proj;
    char message[256]; /* GEOS's last error, "" when none */
    double *scratch;   /* coordinates copied out of GEOS */
    size_t scratch_capacity;
} Session;

/* Opens both contexts (GEOS errors go to session->message, notices and
 * PROJ logs are silenced). Returns 0, or -1; call session_close() either
 * way. */
int session_open(Session *session);
/* Closes what session_open() opened and frees the scratch; the struct is
 * left zeroed. */
void session_close(Session *session);
/* The coordinates of a GEOS ring or line into session->scratch; *count
 * points. Returns 0, -1 (memory) or -2 (GEOS). */
int session_coordinates(Session *session, const GEOSGeometry *line, size_t *count);
/* Appends a GEOS polygon (its exterior ring counterclockwise, holes
 * clockwise; an empty one is skipped). Returns 0, -1 or -2. */
int polygon_set_add_geos(PolygonSet *set, Session *session, const GEOSGeometry *polygon);
/* Ring `r` of `set` as a new GEOS LinearRing (linear_ring != 0) or
 * LineString, owned by the caller; NULL on failure. */
GEOSGeometry *geos_ring(Session *session, const PolygonSet *set, uint32_t r, int linear_ring);
/* Every polygon of `set` as one new GEOS MultiPolygon, owned by the
 * caller; NULL on failure. */
GEOSGeometry *geos_multipolygon(Session *session, const PolygonSet *set);

/* --- Projections ------------------------------------------------------------ */

/* The PROJ pipeline (longitude, latitude in degrees -> metres) of `crs`,
 * as a string (malloc'ed, the caller frees it) to instantiate in any
 * context, or NULL. */
char *projection_string(PJ_CONTEXT *context, const char *crs);
/* Transforms `count` (x, y) pairs in place (PJ_FWD: degrees -> metres,
 * PJ_INV: back); returns 0, or -1 when PROJ failed or gave a non-finite
 * value. */
int project_points(PJ *projection, PJ_DIRECTION direction, double *xy, size_t count);

#endif
