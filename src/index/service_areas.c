/* service_areas.c — the cells of a selection; see service_areas.h.
 *
 * Owns: the generators (the positions of one territory, projected), the
 * Voronoi cells cut from the land, the communes counted per cell, and the
 * answer. The land comes built from service_land.c (service_internal.h);
 * the polygon sets, sessions and projections from service_geometry.c.
 *
 * Invariants: nothing here is shared between threads: each computation
 * makes its own GEOS context, PROJ context and projections (from the PROJ
 * pipeline strings kept with the land, 0.2 ms each, where
 * proj_create_crs_to_crs takes 2 to 30 ms), and GEOS geometries from the
 * plain arrays; the built land is only read. */
#include "index/service_areas.h"

#include "base/array.h"
#include "base/geodesy.h"
#include "index/service_geometry.h"
#include "index/service_internal.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The Voronoi diagram is clipped to the territory's projected envelope
 * (widened by the land, service_land.c) widened by VORONOI_FRAME_M, so
 * that every edge piece near the land is a true Voronoi edge. */
#define VORONOI_FRAME_M 50000.0
/* Voronoi segments are deduplicated on their end points rounded to this
 * grid (metres): the two cells of an edge clipped by the frame may compute
 * its end on the frame a few ulps apart. */
#define SEGMENT_KEY_GRID_M 0.001

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
    const LandBuild *built = service_land_ready(land, communes, &status, error, error_size);
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
