/* test_service_areas.c — /api/service-areas and index/service_areas.h on the
 * shipped database (build/maillage.sqlite, or $MAILLAGE_DATABASE).
 *
 * The land the cells must partition is computed here on its own: the
 * départements read from the database and unioned per territory, checked
 * against the sum of their areas. Every answer checked (the route's GeoJSON
 * read back with the test JSON reader, or ServiceAreas from the index) is
 * turned into GEOS geometries and must hold:
 *  - every cell valid; no two overlap (pairwise intersection areas, and the
 *    sum of the cell areas equal to the area of their union, which bounds
 *    every overlap); their union equal to the land within 1e-6 of its
 *    area (GEOSCoverageUnion: shared edges must match exactly);
 *  - a cell contains its own position when it is on the land, and no other;
 *  - a cell's population is the sum over the communes whose point it
 *    contains, and every commune point on the land is in exactly one cell;
 *  - each commune of a territory with a position lies in the cell of its
 *    geodesically nearest position, or within 2 km of the edge between the
 *    two (its distance to its cell's position exceeds the nearest by at
 *    most 4 km); a territory joined whole lies in the cell of the position
 *    nearest to its centroid, and has no position on its land.
 * Cases: ORPHA:586 (43 CRCM sites at 40 positions), 275752 (4 positions),
 * the MARIH filière (2 positions 1 km apart), ORPHA:399 (one position: one
 * cell, all the land), a synthetic network of 2,000 positions over every
 * territory (with a shared position, one in Geneva and one in Tahiti); bad
 * input (400), an uncovered code and filière (200, empty, message, also with
 * lang=en), the cache, threads racing to build the land of a fresh dataset;
 * timings are printed (CPU time of this thread; targets checked outside
 * sanitizer builds: an uncached answer under 200 ms, 2,000 positions under
 * 500 ms). */
#define GEOS_USE_ONLY_R_API
#include <geos_c.h>

#include "base/geodesy.h"
#include "check.h"
#include "dataset/dataset.h"
#include "http/coverage_route.h"
#include "index/service_areas.h"
#include "json_read.h"
#include "store/store.h"
#include "support.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static const char *database_path;
static Dataset *dataset;
static GEOSContextHandle_t geos;
static GEOSGeometry *territory_land[TERRITORY_COUNT];
static const GEOSPreparedGeometry *territory_prepared[TERRITORY_COUNT];
static GEOSGeometry *land; /* every territory, one MultiPolygon */
static const GEOSPreparedGeometry *prepared_land;
static double land_area;
static int64_t point_population; /* of the communes with a point */

static void geos_message(const char *message, void *user)
{
    (void)user;
    fprintf(stderr, "GEOS: %s\n", message);
}

static double cpu_seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static double wall_seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static double area_of(const GEOSGeometry *geometry)
{
    double area = NAN;
    if (!geometry || !GEOSArea_r(geos, geometry, &area))
        return NAN;
    return area;
}

/* --- The land, computed here -------------------------------------------- */

static int load_land(void)
{
    Store store;
    char error[512];
    if (store_open_read_only(&store, database_path, error, sizeof error) != 0) {
        fprintf(stderr, "test_service_areas: %s\n", error);
        return -1;
    }
    sqlite3_stmt *statement = NULL;
    GEOSWKBReader *reader = GEOSWKBReader_create_r(geos);
    GEOSGeometry *parts[TERRITORY_COUNT][128];
    size_t counts[TERRITORY_COUNT] = {0};
    double sums[TERRITORY_COUNT] = {0};
    int failed = sqlite3_prepare_v2(store.db, "SELECT code, AsBinary(geom) FROM departements", -1,
                                    &statement, NULL) != SQLITE_OK;
    while (!failed && sqlite3_step(statement) == SQLITE_ROW) {
        int t = territory_of_departement((const char *)sqlite3_column_text(statement, 0));
        const void *wkb = sqlite3_column_blob(statement, 1);
        if (t < 0 || !wkb || counts[t] == 128)
            continue;
        GEOSGeometry *part =
            GEOSWKBReader_read_r(geos, reader, wkb, (size_t)sqlite3_column_bytes(statement, 1));
        failed = !part;
        if (part) {
            sums[t] += area_of(part);
            parts[t][counts[t]++] = part;
        }
    }
    sqlite3_finalize(statement);
    GEOSWKBReader_destroy_r(geos, reader);
    store_close(&store);
    GEOSGeometry *polygons[4096];
    unsigned polygon_count = 0;
    for (int t = 0; !failed && t < TERRITORY_COUNT; t++) {
        CHECK(counts[t] > 0, "territory %s has no département", territory_code((unsigned)t));
        if (counts[t] == 0)
            continue;
        GEOSGeometry *collection = GEOSGeom_createCollection_r(geos, GEOS_GEOMETRYCOLLECTION,
                                                               parts[t], (unsigned)counts[t]);
        territory_land[t] = GEOSCoverageUnion_r(geos, collection);
        GEOSGeom_destroy_r(geos, collection);
        double area = area_of(territory_land[t]);
        CHECK(territory_land[t] && GEOSisValid_r(geos, territory_land[t]) == 1 &&
                  fabs(area - sums[t]) <= 1e-9 * sums[t],
              "territory %s: union area %.12g, départements %.12g", territory_code((unsigned)t),
              area, sums[t]);
        failed = !territory_land[t];
        for (int i = 0; !failed && i < GEOSGetNumGeometries_r(geos, territory_land[t]); i++)
            polygons[polygon_count++] =
                GEOSGeom_clone_r(geos, GEOSGetGeometryN_r(geos, territory_land[t], i));
        if (!failed)
            territory_prepared[t] = GEOSPrepare_r(geos, territory_land[t]);
    }
    if (failed)
        return -1;
    land = GEOSGeom_createCollection_r(geos, GEOS_MULTIPOLYGON, polygons, polygon_count);
    prepared_land = land ? GEOSPrepare_r(geos, land) : NULL;
    land_area = area_of(land);
    const Communes *communes = dataset->communes;
    for (size_t c = 0; c < communes->commune_count; c++)
        if (communes->communes[c].has_point)
            point_population += communes->communes[c].population;
    return prepared_land ? 0 : -1;
}

/* --- Answers as GEOS cells ------------------------------------------------ */

#define MAX_CELL_SITES 64

typedef struct Cell {
    double lon, lat;
    const char *site_ids[MAX_CELL_SITES];
    size_t site_count;
    int64_t population;
    unsigned territories;
    GEOSGeometry *geometry; /* NULL: serves no land */
    const GEOSPreparedGeometry *prepared;
    double min_x, min_y, max_x, max_y;
    GEOSGeometry *point; /* the position */
} Cell;

typedef struct Cells {
    Cell *cells;
    size_t count;
    int64_t population; /* the answer's: communes whose point is on the land */
    unsigned joined;    /* territories joined whole */
} Cells;

static void cells_free(Cells *cells)
{
    for (size_t i = 0; i < cells->count; i++) {
        if (cells->cells[i].prepared)
            GEOSPreparedGeom_destroy_r(geos, cells->cells[i].prepared);
        if (cells->cells[i].geometry)
            GEOSGeom_destroy_r(geos, cells->cells[i].geometry);
        if (cells->cells[i].point)
            GEOSGeom_destroy_r(geos, cells->cells[i].point);
    }
    free(cells->cells);
    memset(cells, 0, sizeof *cells);
}

/* The envelope, prepared geometry and point of each cell. */
static void cells_prepare(Cells *cells)
{
    for (size_t i = 0; i < cells->count; i++) {
        Cell *cell = &cells->cells[i];
        cell->point = GEOSGeom_createPointFromXY_r(geos, cell->lon, cell->lat);
        if (!cell->geometry)
            continue;
        cell->prepared = GEOSPrepare_r(geos, cell->geometry);
        GEOSGeom_getXMin_r(geos, cell->geometry, &cell->min_x);
        GEOSGeom_getYMin_r(geos, cell->geometry, &cell->min_y);
        GEOSGeom_getXMax_r(geos, cell->geometry, &cell->max_x);
        GEOSGeom_getYMax_r(geos, cell->geometry, &cell->max_y);
    }
}

static unsigned territory_bit(const char *code)
{
    for (unsigned t = 0; code && t < TERRITORY_COUNT; t++)
        if (strcmp(code, territory_code(t)) == 0)
            return 1u << t;
    CHECK(0, "unknown territory code %s", code ? code : "(null)");
    return 0;
}

static GEOSGeometry *ring_from_json(const JsonNode *ring)
{
    if (!ring || ring->kind != JSON_NODE_ARRAY || ring->count < 4)
        return NULL;
    GEOSCoordSequence *sequence = GEOSCoordSeq_create_r(geos, (unsigned)ring->count, 2);
    for (size_t i = 0; i < ring->count; i++) {
        const JsonNode *point = &ring->items[i];
        if (point->kind != JSON_NODE_ARRAY || point->count != 2) {
            GEOSCoordSeq_destroy_r(geos, sequence);
            return NULL;
        }
        GEOSCoordSeq_setXY_r(geos, sequence, (unsigned)i, point->items[0].number,
                             point->items[1].number);
    }
    return GEOSGeom_createLinearRing_r(geos, sequence);
}

static GEOSGeometry *polygon_from_json(const JsonNode *rings)
{
    if (!rings || rings->kind != JSON_NODE_ARRAY || rings->count < 1)
        return NULL;
    GEOSGeometry *shell = ring_from_json(&rings->items[0]);
    GEOSGeometry *holes[1024];
    unsigned hole_count = 0;
    for (size_t r = 1; shell && r < rings->count && hole_count < 1024; r++)
        holes[hole_count++] = ring_from_json(&rings->items[r]);
    for (unsigned h = 0; h < hole_count; h++)
        if (!holes[h])
            return NULL; /* leaks in a failing test only */
    /* RFC 7946: exterior counterclockwise, holes clockwise. */
    char ccw = 0;
    CHECK(shell && GEOSCoordSeq_isCCW_r(geos, GEOSGeom_getCoordSeq_r(geos, shell), &ccw) && ccw,
          "an exterior ring is not counterclockwise");
    for (unsigned h = 0; h < hole_count; h++)
        CHECK(GEOSCoordSeq_isCCW_r(geos, GEOSGeom_getCoordSeq_r(geos, holes[h]), &ccw) && !ccw,
              "a hole is not clockwise");
    return shell ? GEOSGeom_createPolygon_r(geos, shell, holes, hole_count) : NULL;
}

static GEOSGeometry *geometry_from_json(const JsonNode *geometry)
{
    const char *type = json_node_string(geometry, "/type");
    const JsonNode *coordinates = json_node_at(geometry, "/coordinates");
    if (type && strcmp(type, "Polygon") == 0)
        return polygon_from_json(coordinates);
    if (!type || strcmp(type, "MultiPolygon") != 0 || !coordinates ||
        coordinates->kind != JSON_NODE_ARRAY)
        return NULL;
    GEOSGeometry **polygons = malloc((coordinates->count + 1) * sizeof *polygons);
    for (size_t p = 0; p < coordinates->count; p++)
        if (!(polygons[p] = polygon_from_json(&coordinates->items[p]))) {
            free(polygons);
            return NULL;
        }
    GEOSGeometry *multipolygon = GEOSGeom_createCollection_r(geos, GEOS_MULTIPOLYGON, polygons,
                                                             (unsigned)coordinates->count);
    free(polygons);
    return multipolygon;
}

/* The cells of a GeoJSON answer (strings point into `root`). */
static void cells_from_json(const JsonNode *root, Cells *cells)
{
    memset(cells, 0, sizeof *cells);
    const JsonNode *features = json_node_at(root, "/features");
    CHECK(features && features->kind == JSON_NODE_ARRAY, "no features array");
    if (!features || features->kind != JSON_NODE_ARRAY)
        return;
    cells->cells = calloc(features->count + 1, sizeof *cells->cells);
    cells->population = (int64_t)json_node_number(root, "/population");
    const JsonNode *joined = json_node_at(root, "/joined_territories");
    for (size_t j = 0; joined && j < joined->count; j++)
        cells->joined |= territory_bit(joined->items[j].text);
    for (size_t f = 0; f < features->count; f++) {
        const JsonNode *feature = &features->items[f];
        Cell *cell = &cells->cells[cells->count++];
        const char *type = json_node_string(feature, "/type");
        CHECK(type && strcmp(type, "Feature") == 0, "feature %zu type", f);
        cell->lon = json_node_number(feature, "/properties/position/0");
        cell->lat = json_node_number(feature, "/properties/position/1");
        cell->population = (int64_t)json_node_number(feature, "/properties/population");
        const JsonNode *ids = json_node_at(feature, "/properties/site_ids");
        for (size_t i = 0; ids && i < ids->count && i < MAX_CELL_SITES; i++)
            cell->site_ids[cell->site_count++] = ids->items[i].text;
        const char *id = json_node_string(feature, "/id");
        CHECK(id && cell->site_count > 0 && strcmp(id, cell->site_ids[0]) == 0,
              "feature %zu: id %s", f, id ? id : "(null)");
        const JsonNode *territories = json_node_at(feature, "/properties/territories");
        for (size_t i = 0; territories && i < territories->count; i++)
            cell->territories |= territory_bit(territories->items[i].text);
        if (!json_node_is_null(feature, "/geometry")) {
            cell->geometry = geometry_from_json(json_node_at(feature, "/geometry"));
            CHECK(cell->geometry != NULL, "feature %zu: unreadable geometry", f);
        }
    }
    cells_prepare(cells);
}

/* The cells of a ServiceAreas answer over `snapshot`. */
static void cells_from_areas(const ServiceAreas *areas, const Snapshot *snapshot, Cells *cells)
{
    memset(cells, 0, sizeof *cells);
    cells->cells = calloc(areas->area_count + 1, sizeof *cells->cells);
    cells->population = areas->land_population;
    cells->joined = areas->joined_territories;
    for (size_t a = 0; a < areas->area_count; a++) {
        const ServiceArea *area = &areas->areas[a];
        Cell *cell = &cells->cells[cells->count++];
        cell->lon = area->lon;
        cell->lat = area->lat;
        cell->population = area->population;
        cell->territories = area->territories;
        for (uint32_t k = 0; k < area->site_count && k < MAX_CELL_SITES; k++)
            cell->site_ids[cell->site_count++] =
                site_id_text(snapshot, &snapshot->sites[areas->sites[area->site_start + k]]);
        if (area->polygon_count == 0)
            continue;
        GEOSGeometry **polygons = malloc(area->polygon_count * sizeof *polygons);
        for (uint32_t k = 0; k < area->polygon_count; k++) {
            uint32_t p = areas->area_polygons[area->polygon_start + k];
            GEOSGeometry *rings[1024];
            unsigned ring_count = 0;
            for (uint32_t r = areas->polygon_rings[p]; r < areas->polygon_rings[p + 1]; r++) {
                uint32_t first = areas->ring_points[r], end = areas->ring_points[r + 1];
                rings[ring_count++] = GEOSGeom_createLinearRing_r(
                    geos, GEOSCoordSeq_copyFromBuffer_r(geos, areas->points + 2 * (size_t)first,
                                                        end - first, 0, 0));
            }
            polygons[k] = GEOSGeom_createPolygon_r(geos, rings[0], rings + 1, ring_count - 1);
        }
        cell->geometry =
            GEOSGeom_createCollection_r(geos, GEOS_MULTIPOLYGON, polygons, area->polygon_count);
        free(polygons);
    }
    cells_prepare(cells);
}

/* --- The checks ------------------------------------------------------------- */

/* Valid, not overlapping, their union the land. */
static void check_partition(const char *label, const Cells *cells, int pairwise)
{
    double sum = 0;
    GEOSGeometry **members = malloc((cells->count + 1) * sizeof *members);
    unsigned member_count = 0;
    for (size_t i = 0; i < cells->count; i++) {
        const Cell *cell = &cells->cells[i];
        if (!cell->geometry)
            continue;
        char *reason = GEOSisValidReason_r(geos, cell->geometry);
        CHECK(reason && strcmp(reason, "Valid Geometry") == 0, "%s: cell %s: %s", label,
              cell->site_ids[0], reason ? reason : "?");
        GEOSFree_r(geos, reason);
        sum += area_of(cell->geometry);
        members[member_count++] = GEOSGeom_clone_r(geos, cell->geometry);
    }
    /* Pairwise: the area of every intersection. */
    double overlap = 0;
    for (size_t i = 0; pairwise && i < cells->count; i++)
        for (size_t j = i + 1; j < cells->count; j++) {
            const Cell *a = &cells->cells[i], *b = &cells->cells[j];
            if (!a->geometry || !b->geometry || a->max_x < b->min_x || b->max_x < a->min_x ||
                a->max_y < b->min_y || b->max_y < a->min_y)
                continue;
            GEOSGeometry *both = GEOSIntersection_r(geos, a->geometry, b->geometry);
            CHECK(both != NULL, "%s: intersection failed", label);
            overlap += both ? area_of(both) : 0;
            if (both)
                GEOSGeom_destroy_r(geos, both);
        }
    CHECK(overlap < 1e-9 * land_area, "%s: cells overlap by %.3g of the land", label,
          overlap / land_area);
    GEOSGeometry *collection =
        GEOSGeom_createCollection_r(geos, GEOS_GEOMETRYCOLLECTION, members, member_count);
    free(members);
    /* Shared edges match exactly when the cells form a coverage. */
    GEOSGeometry *merged = GEOSCoverageUnion_r(geos, collection);
    CHECK(merged != NULL, "%s: the cells do not form an exact coverage", label);
    if (!merged)
        merged = GEOSUnaryUnion_r(geos, collection);
    GEOSGeom_destroy_r(geos, collection);
    double merged_area = area_of(merged);
    /* sum - union bounds the area of every overlap. */
    CHECK(sum - merged_area < 1e-9 * land_area, "%s: cell areas exceed their union by %.3g", label,
          (sum - merged_area) / land_area);
    GEOSGeometry *difference = merged ? GEOSSymDifference_r(geos, merged, land) : NULL;
    double different = area_of(difference);
    CHECK(different < 1e-6 * land_area, "%s: union and land differ by %.3g of the land", label,
          different / land_area);
    if (difference)
        GEOSGeom_destroy_r(geos, difference);
    if (merged)
        GEOSGeom_destroy_r(geos, merged);
}

/* Each cell holds its own position (when on the land) and no other. */
static void check_positions(const char *label, const Cells *cells)
{
    for (size_t j = 0; j < cells->count; j++) {
        const Cell *owner = &cells->cells[j];
        int on_land = GEOSPreparedContains_r(geos, prepared_land, owner->point) == 1;
        CHECK(!on_land || owner->geometry, "%s: %s is on the land but has no cell", label,
              owner->site_ids[0]);
        for (size_t i = 0; i < cells->count; i++) {
            const Cell *cell = &cells->cells[i];
            if (!cell->geometry || owner->lon < cell->min_x || owner->lon > cell->max_x ||
                owner->lat < cell->min_y || owner->lat > cell->max_y)
                continue;
            int inside = GEOSPreparedContains_r(geos, cell->prepared, owner->point) == 1;
            CHECK(inside == (i == j && on_land), "%s: cell %s %s position of %s", label,
                  cell->site_ids[0], inside ? "contains the" : "misses its", owner->site_ids[0]);
        }
    }
}

/* The cell containing each commune point (SIZE_MAX: none), with the
 * populations; returns the cell of every commune in `cell_of`. */
static void check_populations(const char *label, const Cells *cells, size_t *cell_of)
{
    const Communes *communes = dataset->communes;
    int64_t *sums = calloc(cells->count + 1, sizeof *sums);
    int64_t total = 0, on_land_total = 0;
    size_t misplaced = 0;
    for (size_t c = 0; c < communes->commune_count; c++) {
        const Commune *commune = &communes->communes[c];
        cell_of[c] = SIZE_MAX;
        if (!commune->has_point)
            continue;
        GEOSGeometry *point = GEOSGeom_createPointFromXY_r(geos, commune->lon, commune->lat);
        int on_land = GEOSPreparedContains_r(geos, prepared_land, point) == 1;
        on_land_total += on_land ? commune->population : 0;
        size_t found = 0;
        for (size_t i = 0; i < cells->count; i++) {
            const Cell *cell = &cells->cells[i];
            if (!cell->geometry || commune->lon < cell->min_x || commune->lon > cell->max_x ||
                commune->lat < cell->min_y || commune->lat > cell->max_y ||
                GEOSPreparedContains_r(geos, cell->prepared, point) != 1)
                continue;
            found++;
            cell_of[c] = i;
            sums[i] += commune->population;
            total += commune->population;
        }
        misplaced += found != (size_t)on_land;
        GEOSGeom_destroy_r(geos, point);
    }
    CHECK(misplaced == 0, "%s: %zu commune points in no cell or in two", label, misplaced);
    for (size_t i = 0; i < cells->count; i++)
        CHECK(sums[i] == cells->cells[i].population, "%s: cell %s: population %lld, communes %lld",
              label, cells->cells[i].site_ids[0], (long long)cells->cells[i].population,
              (long long)sums[i]);
    CHECK(total == on_land_total && total == cells->population,
          "%s: cells hold %lld, the land %lld, the answer says %lld", label, (long long)total,
          (long long)on_land_total, (long long)cells->population);
    /* Every commune point of the shipped data is on the land. */
    CHECK(total == point_population, "%s: cells hold %lld of the %lld of communes with a point",
          label, (long long)total, (long long)point_population);
    free(sums);
}

/* The nearest position to (lat, lon) by geodesic distance among the cells'
 * (chords first: a chord is never longer than its geodesic, and shorter by
 * under 1 m below 100 km); ties to the smaller index. */
static size_t nearest_position(const Cells *cells, const double (*ecef)[3], double lat, double lon,
                               double *distance)
{
    double xyz[3];
    geodesy_to_ecef(lat, lon, xyz);
    double *squares = malloc((cells->count + 1) * sizeof *squares), best_square = INFINITY;
    for (size_t i = 0; i < cells->count; i++) {
        double dx = ecef[i][0] - xyz[0], dy = ecef[i][1] - xyz[1], dz = ecef[i][2] - xyz[2];
        squares[i] = dx * dx + dy * dy + dz * dz;
        best_square = fmin(best_square, squares[i]);
    }
    double reach = sqrt(best_square) * 1.01 + 10;
    size_t best = SIZE_MAX;
    *distance = INFINITY;
    for (size_t i = 0; i < cells->count; i++) {
        if (squares[i] > reach * reach)
            continue;
        double d = geodesy_distance_m(lat, lon, cells->cells[i].lat, cells->cells[i].lon);
        if (d < *distance)
            best = i, *distance = d;
    }
    free(squares);
    return best;
}

/* The 2 km nearest-position property, and the whole-territory rule. */
static void check_nearest(const char *label, const Cells *cells, const size_t *cell_of)
{
    const Communes *communes = dataset->communes;
    double(*ecef)[3] = malloc((cells->count + 1) * sizeof *ecef);
    for (size_t i = 0; i < cells->count; i++)
        geodesy_to_ecef(cells->cells[i].lat, cells->cells[i].lon, ecef[i]);
    size_t territory_cell[TERRITORY_COUNT];
    for (unsigned t = 0; t < TERRITORY_COUNT; t++) {
        territory_cell[t] = SIZE_MAX;
        if (!(cells->joined >> t & 1u))
            continue;
        for (size_t i = 0; i < cells->count; i++)
            CHECK(GEOSPreparedContains_r(geos, territory_prepared[t], cells->cells[i].point) != 1,
                  "%s: %s joined whole though %s is on it", label, territory_code(t),
                  cells->cells[i].site_ids[0]);
        GEOSGeometry *centroid = GEOSGetCentroid_r(geos, territory_land[t]);
        double x = 0, y = 0, ignored;
        GEOSGeomGetX_r(geos, centroid, &x);
        GEOSGeomGetY_r(geos, centroid, &y);
        GEOSGeom_destroy_r(geos, centroid);
        territory_cell[t] = nearest_position(cells, ecef, y, x, &ignored);
    }
    size_t others = 0, checked = 0;
    double worst = 0;
    for (size_t c = 0; c < communes->commune_count; c++) {
        const Commune *commune = &communes->communes[c];
        if (cell_of[c] == SIZE_MAX)
            continue;
        if (territory_cell[commune->territory] != SIZE_MAX) {
            CHECK(cell_of[c] == territory_cell[commune->territory],
                  "%s: %s (%s, joined whole) is in the cell of %s", label, commune->name,
                  territory_code(commune->territory), cells->cells[cell_of[c]].site_ids[0]);
            continue;
        }
        checked++;
        double nearest_m;
        size_t nearest = nearest_position(cells, ecef, commune->lat, commune->lon, &nearest_m);
        if (nearest == cell_of[c])
            continue;
        const Cell *cell = &cells->cells[cell_of[c]];
        double excess =
            geodesy_distance_m(commune->lat, commune->lon, cell->lat, cell->lon) - nearest_m;
        others++;
        worst = fmax(worst, excess);
        CHECK(excess <= 4000, "%s: %s %s is in the cell of %s, %.0f m farther than %s", label,
              commune->code, commune->name, cell->site_ids[0], excess,
              cells->cells[nearest].site_ids[0]);
    }
    printf("  %s: %zu communes checked, %zu not in their nearest position's cell (at most %.0f m "
           "farther, within %.0f m of the edge)\n",
           label, checked, others, worst, worst / 2);
    free(ecef);
}

/* Sites: each cell's sorted and at its position, cells ordered by first
 * site, every selected site once. */
static void check_sites(const char *label, const Cells *cells, const Snapshot *snapshot,
                        const Condition *condition, const SiteFilter *filter)
{
    size_t expected = 0, seen = 0;
    for (size_t s = 0; s < snapshot->site_count; s++) {
        const Site *site = &snapshot->sites[s];
        expected += (!condition || snapshot_site_covers(snapshot, site, condition, NULL) >= 0) &&
                    site_filter_accepts(snapshot, filter, site);
    }
    for (size_t i = 0; i < cells->count; i++) {
        const Cell *cell = &cells->cells[i];
        CHECK(i == 0 || strcmp(cells->cells[i - 1].site_ids[0], cell->site_ids[0]) < 0,
              "%s: cells not ordered by first site at %zu", label, i);
        for (size_t k = 0; k < cell->site_count; k++) {
            const Site *site = snapshot_site(snapshot, cell->site_ids[k]);
            CHECK(site && site->lat == cell->lat && site->lon == cell->lon,
                  "%s: %s is not at its cell's position", label, cell->site_ids[k]);
            CHECK(site &&
                      (!condition || snapshot_site_covers(snapshot, site, condition, NULL) >= 0) &&
                      site_filter_accepts(snapshot, filter, site),
                  "%s: %s is not selected", label, cell->site_ids[k]);
            CHECK(k == 0 || strcmp(cell->site_ids[k - 1], cell->site_ids[k]) < 0,
                  "%s: site_ids not sorted", label);
            seen++;
        }
        for (size_t j = 0; j < i; j++)
            CHECK(cells->cells[j].lat != cell->lat || cells->cells[j].lon != cell->lon,
                  "%s: two cells at one position", label);
    }
    CHECK(seen == expected, "%s: %zu sites in the cells, %zu selected", label, seen, expected);
}

static void check_cells(const char *label, const Cells *cells, int pairwise)
{
    size_t *cell_of = malloc((dataset->communes->commune_count + 1) * sizeof *cell_of);
    check_partition(label, cells, pairwise);
    check_positions(label, cells);
    check_populations(label, cells, cell_of);
    check_nearest(label, cells, cell_of);
    free(cell_of);
}

/* --- Calling the route ------------------------------------------------------ */

/* Splits "a=1&b=2" (not decoded) into parameters held in `copy`. */
static void call_on(const Dataset *on, const char *query, Response *response)
{
    char copy[512];
    QueryParameter parameters[REQUEST_MAX_PARAMETERS];
    size_t count = split_query(query, copy, sizeof copy, parameters);
    CHECK(route_call(on, "/api/service-areas", parameters, count, response) == 1,
          "no handler for /api/service-areas");
}

static int status_of(const char *query)
{
    Response response;
    call_on(dataset, query, &response);
    int status = response.status;
    if (status >= 400) {
        char error[128] = "";
        JsonNode *problem = json_node_parse(response.body.data ? response.body.data : "",
                                            response.body.length, error, sizeof error);
        CHECK(problem && strcmp(response.content_type, "application/problem+json") == 0 &&
                  json_node_number(problem, "/status") == status &&
                  json_node_string(problem, "/detail"),
              "%s: problem body %.200s", query, response.body.data ? response.body.data : "");
        json_node_free(problem);
    }
    response_free(&response);
    return status;
}

/* GET /api/service-areas?query, parsed, with its timing; NULL when not JSON. */
static JsonNode *get(const char *query, double *cpu_ms, double *wall_ms)
{
    Response response;
    double cpu = cpu_seconds(), wall = wall_seconds();
    call_on(dataset, query, &response);
    if (cpu_ms)
        *cpu_ms = (cpu_seconds() - cpu) * 1000;
    if (wall_ms)
        *wall_ms = (wall_seconds() - wall) * 1000;
    CHECK(response.status == 200 && strcmp(response.content_type, "application/geo+json") == 0,
          "%s: status %d, %s: %.300s", query, response.status, response.content_type,
          response.body.data ? response.body.data : "");
    char error[128] = "";
    JsonNode *root = json_node_parse(response.body.data ? response.body.data : "",
                                     response.body.length, error, sizeof error);
    CHECK(root != NULL, "%s: not JSON (%s)", query, error);
    response_free(&response);
    return root;
}

/* The selection of `query` as the route parses it. */
static void selection_of(const char *query, CoverageSelection *selection)
{
    char copy[512];
    Request request;
    memset(&request, 0, sizeof request);
    request.method = "GET";
    request.path = "/api/service-areas";
    request.dataset = dataset;
    request.parameter_count = split_query(query, copy, sizeof copy, request.parameters);
    Response response;
    response_init(&response);
    CHECK(coverage_selection_parse(&request, dataset->snapshot, selection, &response) == 0,
          "%s: selection not parsed", query);
    response_free(&response);
}

/* One query through the route, checked whole. */
static void check_query(const char *query, size_t expected_positions)
{
    double cpu_ms, wall_ms;
    JsonNode *root = get(query, &cpu_ms, &wall_ms);
    if (!root)
        return;
    Cells cells;
    cells_from_json(root, &cells);
    printf("  %s: %zu positions, uncached answer %.1f ms CPU, %.1f ms wall\n", query, cells.count,
           cpu_ms, wall_ms);
    if (!SANITIZED)
        CHECK(cpu_ms < 200, "%s: %.1f ms (target: under 200 ms)", query, cpu_ms);
    CHECK(cells.count == expected_positions, "%s: %zu positions, expected %zu", query, cells.count,
          expected_positions);
    CHECK(json_node_number(root, "/positions") == (double)cells.count &&
              json_node_at(root, "/message") == NULL,
          "%s: positions member, or a message", query);
    CoverageSelection selection;
    selection_of(query, &selection);
    check_sites(query, &cells, dataset->snapshot, selection.sites.condition,
                &selection.sites.filter);
    size_t sites = 0;
    for (size_t i = 0; i < cells.count; i++)
        sites += cells.cells[i].site_count;
    CHECK(json_node_number(root, "/selected_sites") == (double)sites, "%s: selected_sites %g, %zu",
          query, json_node_number(root, "/selected_sites"), sites);
    check_cells(query, &cells, 1);
    cells_free(&cells);
    json_node_free(root);
}

/* --- The tests ------------------------------------------------------------------- */

TEST(land_is_built_at_first_use)
{
    /* ORPHA:399 (one position), so that the checked queries below are
     * answered uncached. */
    double cpu = cpu_seconds(), wall = wall_seconds();
    JsonNode *root = get("orpha=399", NULL, NULL);
    printf("  first answer (builds the land): %.0f ms CPU, %.0f ms wall\n",
           (cpu_seconds() - cpu) * 1000, (wall_seconds() - wall) * 1000);
    CHECK(json_node_count(root, "/features") == 1, "%ld features",
          json_node_count(root, "/features"));
    json_node_free(root);
}

TEST(cystic_fibrosis)
{
    check_query("orpha=586", 40);
    check_query("filiere=MUCO&role=ccmr", 40);
}

TEST(other_selections)
{
    check_query("orpha=275752", 4);
    check_query("filiere=MARIH", 2);
}

TEST(one_position_serves_all_the_land)
{
    JsonNode *root = get("orpha=399", NULL, NULL);
    Cells cells;
    cells_from_json(root, &cells);
    CHECK(cells.count == 1 && cells.cells[0].geometry &&
              cells.cells[0].territories == (1u << TERRITORY_COUNT) - 1 &&
              cells.cells[0].population == point_population && point_population > 60000000,
          "%zu cells, territories %x, population %lld of %lld", cells.count,
          cells.count ? cells.cells[0].territories : 0,
          cells.count ? (long long)cells.cells[0].population : 0, (long long)point_population);
    if (cells.count == 1)
        CHECK(fabs(area_of(cells.cells[0].geometry) - land_area) <= 1e-9 * land_area,
              "area %.10g, land %.10g", area_of(cells.cells[0].geometry), land_area);
    check_cells("orpha=399", &cells, 1);
    cells_free(&cells);
    json_node_free(root);
}

TEST(cached_answers_are_identical)
{
    Response first, second;
    call_on(dataset, "orpha=275752", &first);
    call_on(dataset, "orpha=275752", &second);
    CHECK(first.status == 200 && second.status == 200 && first.body.length == second.body.length &&
              memcmp(first.body.data, second.body.data, first.body.length) == 0,
          "two answers differ");
    response_free(&first);
    response_free(&second);
}

TEST(bad_input)
{
    static const char *const bad[] = {
        "",        /* neither orpha nor filiere */
        "orpha=1", /* not in the nomenclature */
        "orpha=abc",
        "filiere=NOPE",           /* unknown filière */
        "orpha=586&filiere=MUCO", /* both */
        "orpha=586&orpha=586",    /* repeated */
        "filiere=MUCO&filiere=MUCO",
        "orpha=586&role=nope",
        "orpha=586&public=nope",
        "orpha=586&lang=de",
        "orpha=586&lang=fr&lang=fr",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int status = status_of(bad[i]);
        CHECK(status == 400, "'%s': status %d, expected 400", bad[i], status);
    }
}

TEST(nothing_covered)
{
    const Snapshot *snapshot = dataset->snapshot;
    const Condition *uncovered = NULL;
    for (size_t c = 0; c < snapshot->condition_count && !uncovered; c++)
        if (snapshot->conditions[c].covering_sites == 0)
            uncovered = &snapshot->conditions[c];
    CHECK(uncovered != NULL, "every condition is covered");
    char query[64];
    snprintf(query, sizeof query, "orpha=%d", uncovered ? (int)uncovered->orpha : 0);
    JsonNode *root = get(query, NULL, NULL);
    const char *message = json_node_string(root, "/message");
    CHECK(json_node_count(root, "/features") == 0 && message && strstr(message, "Aucun site") &&
              json_node_number(root, "/selected_sites") == 0,
          "%s: %ld features, message %s", query, json_node_count(root, "/features"),
          message ? message : "(none)");
    json_node_free(root);
    /* In English: the label and the message. */
    char english[80];
    snprintf(english, sizeof english, "%s&lang=en", query);
    root = get(english, NULL, NULL);
    message = json_node_string(root, "/message");
    const char *label = json_node_string(root, "/query/label");
    CHECK(message && strstr(message, "No site") && uncovered && label && uncovered->label_en &&
              strcmp(label, uncovered->label_en) == 0,
          "%s: message %s, label %s", english, message ? message : "(none)",
          label ? label : "(none)");
    json_node_free(root);
    /* A filière no site belongs to. */
    const char *empty = NULL;
    for (size_t f = 0; f < snapshot->filiere_count && !empty; f++) {
        SiteFilter filter;
        site_filter_init(&filter);
        filter.filiere = snapshot->filieres[f];
        size_t count = 0;
        for (size_t s = 0; s < snapshot->site_count; s++)
            count += site_filter_accepts(snapshot, &filter, &snapshot->sites[s]);
        if (count == 0)
            empty = snapshot->filieres[f];
    }
    CHECK(empty != NULL, "every filière has a site");
    snprintf(query, sizeof query, "filiere=%s", empty ? empty : "");
    root = get(query, NULL, NULL);
    message = json_node_string(root, "/message");
    CHECK(json_node_count(root, "/features") == 0 && message && strstr(message, "filière"),
          "%s: %ld features, message %s", query, json_node_count(root, "/features"),
          message ? message : "(none)");
    json_node_free(root);
}

/* --- Threads racing to build the land of a fresh dataset -------------------- */

typedef struct Racer {
    const Dataset *dataset;
    const char *query;
    Response response;
} Racer;

static void *race(void *argument)
{
    Racer *racer = argument;
    char copy[128];
    QueryParameter parameters[REQUEST_MAX_PARAMETERS];
    size_t count = split_query(racer->query, copy, sizeof copy, parameters);
    route_call(racer->dataset, "/api/service-areas", parameters, count, &racer->response);
    return NULL;
}

TEST(threads_share_one_land)
{
    char error[512];
    Dataset *fresh = dataset_load(database_path, NULL, error, sizeof error);
    CHECK(fresh != NULL, "second load: %s", error);
    if (!fresh)
        return;
    static const char *const queries[] = {"orpha=586", "orpha=275752", "filiere=MARIH",
                                          "orpha=399"};
    enum { RACERS = 4 };
    Racer racers[RACERS];
    pthread_t threads[RACERS];
    for (int i = 0; i < RACERS; i++) {
        racers[i] = (Racer){fresh, queries[i], {0}};
        CHECK(pthread_create(&threads[i], NULL, race, &racers[i]) == 0, "thread %d", i);
    }
    for (int i = 0; i < RACERS; i++)
        pthread_join(threads[i], NULL);
    for (int i = 0; i < RACERS; i++) {
        Response reference;
        call_on(dataset, queries[i], &reference);
        CHECK(racers[i].response.status == 200 &&
                  racers[i].response.body.length == reference.body.length &&
                  memcmp(racers[i].response.body.data, reference.body.data,
                         reference.body.length) == 0,
              "%s: the racing answer differs from the reference", queries[i]);
        response_free(&reference);
        response_free(&racers[i].response);
    }
    dataset_free(fresh);
}

/* --- A synthetic network of 2,000 positions --------------------------------- */

#define SYNTHETIC_POSITIONS 2000

static uint64_t random_state = 0x2545F4914F6CDD1DULL;

static uint64_t random_next(void)
{
    random_state ^= random_state << 13;
    random_state ^= random_state >> 7;
    random_state ^= random_state << 17;
    return random_state;
}

/* Sites at commune points (distinct positions): five in each overseas
 * territory, the others in metropolitan France; two sharing a position, one
 * in Geneva and one in Tahiti. */
static Snapshot *synthetic_snapshot(void)
{
    const Communes *communes = dataset->communes;
    Snapshot *snapshot = calloc(1, sizeof *snapshot);
    snprintf(snapshot->path, sizeof snapshot->path, "synthetic service areas");
    size_t count = SYNTHETIC_POSITIONS + 3;
    snapshot->sites = calloc(count, sizeof *snapshot->sites);
    snapshot->site_codes = calloc(1, sizeof *snapshot->site_codes);
    uint32_t no_details = 0;
    TextRef name = 0;
    CHECK(snapshot_details_add(snapshot, &(SiteDetails){0}, &no_details) == 0 &&
              snapshot_text_add(snapshot, "Synthetic", 9, &name) == 0,
          "texts stored");
    uint8_t *used = calloc(communes->commune_count, 1);
    size_t made = 0, per_territory[TERRITORY_COUNT] = {0};
    while (made < SYNTHETIC_POSITIONS) {
        size_t c = random_next() % communes->commune_count;
        const Commune *commune = &communes->communes[c];
        int overseas = commune->territory != TERRITORY_METROPOLE;
        /* Overseas communes are 0.4% of all: look for them first. */
        int wanted = overseas ? per_territory[commune->territory] < 5
                              : made >= 5 * (TERRITORY_COUNT - 1) || random_next() % 64 == 0;
        if (used[c] || !commune->has_point || !wanted)
            continue;
        used[c] = 1;
        per_territory[commune->territory]++;
        snapshot->sites[made].lat = commune->lat;
        snapshot->sites[made].lon = commune->lon;
        made++;
    }
    free(used);
    snapshot->sites[made++] = (Site){.lat = snapshot->sites[7].lat, .lon = snapshot->sites[7].lon};
    snapshot->sites[made++] = (Site){.lat = 46.2044, .lon = 6.1432};   /* Geneva */
    snapshot->sites[made++] = (Site){.lat = -17.535, .lon = -149.569}; /* Papeete */
    for (size_t s = 0; s < made; s++) {
        Site *site = &snapshot->sites[s];
        char id[16];
        int length = snprintf(id, sizeof id, "SYN-%05zu", s);
        CHECK(snapshot_text_add(snapshot, id, (size_t)length, &site->site_id) == 0, "id stored");
        site->name = name;
        site->details = no_details;
        site->coordinator = SITE_NONE;
        site->role = ROLE_CCMR;
    }
    snapshot->site_count = made;
    CHECK(snapshot_count_coverage(snapshot) == 0, "coverage counted");
    return snapshot;
}

TEST(two_thousand_positions)
{
    Snapshot *snapshot = synthetic_snapshot();
    char error[512] = "";
    SpatialIndex *index = spatial_index_build(snapshot, NULL, error, sizeof error);
    CHECK(index != NULL, "index: %s", error);
    if (!index) {
        snapshot_free(snapshot);
        return;
    }
    ServiceAreaQuery query = {NULL, {0}};
    site_filter_init(&query.filter);
    ServiceAreas areas;
    double cpu = cpu_seconds(), wall = wall_seconds();
    int status = service_areas_compute(dataset->service_land, index, snapshot, dataset->communes,
                                       &query, &areas, error, sizeof error);
    double cpu_ms = (cpu_seconds() - cpu) * 1000, wall_ms = (wall_seconds() - wall) * 1000;
    CHECK(status == 0, "compute: %s", error);
    printf("  %zu positions (%zu polygons, %zu points): %.0f ms CPU, %.0f ms wall\n",
           areas.area_count, areas.polygon_count, areas.point_count, cpu_ms, wall_ms);
    if (!SANITIZED)
        CHECK(cpu_ms < 500, "%.0f ms (target: under 500 ms)", cpu_ms);
    CHECK(areas.area_count == SYNTHETIC_POSITIONS + 2 && areas.joined_territories == 0,
          "%zu areas, joined %x", areas.area_count, areas.joined_territories);
    Cells cells;
    cells_from_areas(&areas, snapshot, &cells);
    SiteFilter all;
    site_filter_init(&all);
    check_sites("synthetic", &cells, snapshot, NULL, &all);
    const Cell *tahiti = &cells.cells[cells.count - 1];
    CHECK(strcmp(tahiti->site_ids[0], "SYN-02002") == 0 && !tahiti->geometry &&
              tahiti->population == 0,
          "Papeete serves land (%s)", tahiti->site_ids[0]);
    check_cells("synthetic", &cells, 0);
    cells_free(&cells);
    service_areas_free(&areas);
    spatial_index_free(index);
    snapshot_free(snapshot);
}

int main(void)
{
    database_path = getenv("MAILLAGE_DATABASE");
    if (!database_path || !*database_path)
        database_path = "build/maillage.sqlite";
    char error[1024];
    double wall = wall_seconds();
    dataset = dataset_load(database_path, NULL, error, sizeof error);
    if (!dataset) {
        fprintf(stderr, "test_service_areas: cannot load the shipped database: %s\n", error);
        printf("test_service_areas: 0 passed, 1 failed\n");
        return 1;
    }
    printf("  dataset loaded in %.0f ms\n", (wall_seconds() - wall) * 1000);
    geos = GEOS_init_r();
    GEOSContext_setErrorMessageHandler_r(geos, geos_message, NULL);
    if (load_land() != 0) {
        fprintf(stderr, "test_service_areas: cannot compute the land\n");
        printf("test_service_areas: 0 passed, 1 failed\n");
        return 1;
    }
    RUN(land_is_built_at_first_use);
    RUN(cystic_fibrosis);
    RUN(other_selections);
    RUN(one_position_serves_all_the_land);
    RUN(cached_answers_are_identical);
    RUN(bad_input);
    RUN(nothing_covered);
    RUN(threads_share_one_land);
    RUN(two_thousand_positions);
    GEOSPreparedGeom_destroy_r(geos, prepared_land);
    GEOSGeom_destroy_r(geos, land);
    for (int t = 0; t < TERRITORY_COUNT; t++) {
        if (territory_prepared[t])
            GEOSPreparedGeom_destroy_r(geos, territory_prepared[t]);
        if (territory_land[t])
            GEOSGeom_destroy_r(geos, territory_land[t]);
    }
    GEOS_finish_r(geos);
    dataset_free(dataset);
    return CHECK_SUMMARY("test_service_areas");
}
