/* service_areas.h — which land each care position serves: one cell of France's
 * land per distinct position of the selected sites.
 *
 * Owns: the service-area computation over the land of each territory
 * (communes.h: metropolitan France and the five overseas départements),
 * which service_land.h owns: read once per dataset from the départements'
 * geometry, built at the first computation. For one selection of
 * sites (a condition with its classification, or a filière; roles and
 * audiences), sites at one exact position are merged, and each position
 * gets the land nearer to it than to any other position, with the
 * population of the communes whose point lies in it.
 *
 * How, per territory (territory t, its land L_t, centre c_t and radius r_t:
 * every point of L_t is within r_t of c_t, geodesically):
 *  - t is covered when some position lies within r_t of c_t. Then the
 *    positions within 2 r_t + d_0 of c_t (d_0: the nearest position's
 *    distance) take part, and no other can be nearest to a point of L_t
 *    (triangle inequality). Their Voronoi diagram (GEOS) is computed in the
 *    territory's projection, where planar distance tracks distance on the
 *    ground: Lambert-93 (EPSG:2154) for metropolitan France, WGS 84 / UTM
 *    20N (EPSG:32620) for Guadeloupe and Martinique, 22N (32622) for
 *    Guyane, 40S (32740) for La Réunion, 38S (32738) for Mayotte. The cell
 *    edges are densified every SERVICE_AREAS_DENSIFY_M metres, taken back to
 *    WGS84 and noded with L_t's outline (GEOSNode, GEOSUnaryUnion if that
 *    fails), the faces polygonized, and each face of land given to the cell
 *    it lies in. The overlay happens in WGS84, so the output is exactly the
 *    noded faces: valid, not overlapping, the land's own vertices kept.
 *  - t is not covered (no position within r_t of c_t): L_t joins, whole,
 *    the cell of the position geodesically nearest to c_t (ties: the
 *    position of the smaller site index). So does L_t when only one
 *    position takes part.
 *  - A commune (communes.h, kind commune, with a point) counts in the cell
 *    that contains its point: its planar nearest position in the
 *    projection, or, within SERVICE_AREAS_AMBIGUOUS_M of a cell edge, the
 *    cell whose WGS84 outline contains it (the same outline as the output).
 * The land is the union of the départements at full detail, not
 * simplified: every commune point of the shipped data lies in it (a coast
 * simplified to 100 m leaves coastal points outside), and the cost that
 * grows with the coast, one noding and one polygonization per territory
 * and request, stays well within the budget (measured in-process: 65 to
 * 100 ms for ORPHA:586's 40 positions, 0.25 to 0.35 s for 2,000). It is
 * built at the first computation, not at load (0.15 s: the départements'
 * outline, segments shared by two of them cancelling, polygonized; see
 * service_land.c), so loading a dataset only copies the WKB (10 ms).
 * A position that serves no land (a site abroad, nearer to no French
 * point than the others) keeps its area, with no polygon.
 *
 * Invariants:
 *  - the cells of one answer partition the land: no two overlap, their
 *    union is the land (up to the floating-point noding of the edges);
 *  - a cell contains its own position when that position is on the land,
 *    and no other position;
 *  - a point of a covered territory lies in the cell of its geodesically
 *    nearest position, unless it is near the edge between the two: the
 *    planar bisector differs from the geodesic one by well under 2 km
 *    (82 m at most over the shipped communes for ORPHA:586);
 *  - the population of a cell is the sum over the communes whose point it
 *    contains; summed over the cells it is the population of the communes
 *    whose point is on the land;
 *  - deterministic: the same query on the same data gives the same cells
 *    (positions ordered by their first site index);
 *  - thread-safe: the land is built once, at the first computation (any
 *    number of threads may call; one builds while the others wait), and is
 *    immutable after; each computation uses its own GEOS and PROJ contexts.
 */
#ifndef MAILLAGE_SERVICE_AREAS_H
#define MAILLAGE_SERVICE_AREAS_H

#include "index/communes.h"
#include "index/service_land.h"
#include "index/spatial_index.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

/* Voronoi edges are straight in the projection; they are cut into pieces
 * of at most this length before going back to WGS84, where each piece is
 * straight in longitude/latitude (the two differ by 2.6 m at most, measured
 * over metropolitan France, under 1 m overseas). */
#define SERVICE_AREAS_DENSIFY_M 10000.0
/* A point nearer than this to the planar edge between its two nearest
 * positions is placed by the WGS84 outline of their cells instead. */
#define SERVICE_AREAS_AMBIGUOUS_M 50.0

typedef struct ServiceAreaQuery {
    const Condition *condition; /* NULL: every site passing `filter` */
    SiteFilter filter;          /* roles, audiences and, for a filière, its name */
} ServiceAreaQuery;

/* One position and its cell. */
typedef struct ServiceArea {
    double lat, lon;                       /* the position (its sites' lat/lon) */
    uint32_t site_start, site_count;       /* into ServiceAreas.sites */
    uint32_t polygon_start, polygon_count; /* into ServiceAreas.area_polygons; 0: no land */
    int64_t population;                    /* of the communes whose point the cell contains */
    uint32_t territories;                  /* bit t: the cell holds land of territory t */
} ServiceArea;

/* The cells of one query, as plain arrays (no GEOS object). Polygon p has
 * rings polygon_rings[p] .. polygon_rings[p + 1] - 1, its exterior ring
 * first (counterclockwise) then its holes (clockwise); ring r has points
 * ring_points[r] .. ring_points[r + 1] - 1 of `points` (longitude, latitude
 * pairs), closed (last point = first). */
typedef struct ServiceAreas {
    ServiceArea *areas; /* ordered by their first site index */
    size_t area_count;
    uint32_t *sites; /* the selected sites, grouped by area, ascending in each */
    size_t site_count;
    uint32_t *area_polygons; /* polygon indexes, grouped by area */
    uint32_t *polygon_rings; /* polygon_count + 1 entries */
    uint32_t *ring_points;   /* ring_count + 1 entries */
    double *points;          /* 2 * point_count */
    size_t polygon_count, ring_count, point_count;
    int64_t land_population;     /* of the communes whose point is on the land */
    uint32_t joined_territories; /* bit t: territory t joined one cell whole (not covered) */
} ServiceAreas;

/* Computes the service areas of `query` over the sites of `snapshot`
 * (found through `index`, built over it) and the land, counting the
 * communes of `communes` (the same Communes at every call on one land).
 * Builds the land first if no call has (0.15 s for the shipped data).
 * Returns 0 with `out` filled (to free with service_areas_free()); -1 when
 * out of memory, -2 when GEOS or PROJ failed, both with a one-line message
 * in `error` and `out` holding nothing to free. */
int service_areas_compute(ServiceLand *land, const SpatialIndex *index, const Snapshot *snapshot,
                          const Communes *communes, const ServiceAreaQuery *query,
                          ServiceAreas *out, char *error, size_t error_size);
/* Frees the arrays of `areas` (not the struct), which is left empty. */
void service_areas_free(ServiceAreas *areas);

#endif
