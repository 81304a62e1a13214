/* test_tiles.c — Web Mercator, the Morton point index, the tile cache, the
 * sites layer (folding, clustering, filters: counts against brute force,
 * read back with mvt_read.h) on a synthetic in-memory network,
 * and, on the shipped dataset (MAILLAGE_DATABASE, default
 * build/maillage.sqlite; a failure when it cannot be loaded), validity
 * (GEOS) of every clipped and simplified polygon the areas and basemap
 * layers encode, tile sizes, the tile paths' answers (http/tile_routes.c,
 * TileJSON read with json_read.h) and the cache bypass of TileSetOptions. */
#include "check.h"
#include "gunzip_check.h"
#include "dataset/dataset.h"
#include "http/routes.h"
#include "http/tile_routes.h"
#include "json_read.h"
#include "model/snapshot.h"
#include "mvt_read.h"
#include "tiles/tile_cache.h"
#include "tiles/tile_geometry.h"
#include "tiles/tile_layers.h"
#include "tiles/tile_set.h"
#include "support.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* --- Mercator and the index ------------------------------------------------------- */

TEST(mercator)
{
    double x, y;
    tile_mercator(0, 0, &x, &y);
    CHECK_NEAR(x, 0.5, 1e-15);
    CHECK_NEAR(y, 0.5, 1e-15);
    tile_mercator(TILE_MAX_LATITUDE, -180, &x, &y);
    CHECK_NEAR(x, 0, 1e-15);
    CHECK_NEAR(y, 0, 1e-9);
    tile_mercator(89.9, 180, &x, &y); /* clamped */
    CHECK_NEAR(x, 1, 1e-15);
    CHECK_NEAR(y, 0, 1e-9);
    tile_mercator(-90, 0, &x, &y);
    CHECK_NEAR(y, 1, 1e-9);
    /* Paris, Notre-Dame: z14 tile 8298/5636. */
    tile_mercator(48.853, 2.3499, &x, &y);
    CHECK((int)(x * 16384) == 8298 && (int)(y * 16384) == 5636, "tile %d/%d", (int)(x * 16384),
          (int)(y * 16384));
    double lat, lon;
    tile_mercator_inverse(x, y, &lat, &lon);
    CHECK_NEAR(lat, 48.853, 1e-9);
    CHECK_NEAR(lon, 2.3499, 1e-9);
    TileAddress tile = {1, 1, 0};
    MvtPoint corner = tile_point(tile, 0.5, 0.25);
    CHECK(corner.x == 0 && corner.y == 2048, "%d %d", corner.x, corner.y);
    TileBox box = tile_box(tile, 64);
    CHECK_NEAR(box.min_x, 0.5 - 64.0 / 4096 / 2, 1e-15);
}

TEST(morton_ranges_match_brute_force)
{
    enum { COUNT = 5000 };
    uint32_t *x = malloc(COUNT * sizeof *x), *y = malloc(COUNT * sizeof *y);
    srand(7);
    for (size_t i = 0; i < COUNT; i++) {
        /* Clustered around a few centres, some exact duplicates. */
        uint32_t centre = (uint32_t)(i % 5) * 700000000u;
        x[i] = centre + (uint32_t)(rand() % 20000000);
        y[i] = centre / 2 + (uint32_t)(rand() % 20000000);
        if (i % 17 == 0 && i > 0) {
            x[i] = x[i - 1];
            y[i] = y[i - 1];
        }
    }
    PointIndex index;
    CHECK(point_index_build(&index, x, y, COUNT, NULL, NULL) == 0, "built");
    for (size_t i = 1; i < COUNT; i++)
        CHECK(index.keys[i - 1] <= index.keys[i], "sorted");
    int mismatches = 0;
    for (int z = 0; z <= 16; z += 2) {
        for (size_t probe = 0; probe < COUNT; probe += 499) {
            uint32_t tx = (uint32_t)((uint64_t)x[probe] >> (32 - z));
            uint32_t ty = (uint32_t)((uint64_t)y[probe] >> (32 - z));
            size_t first, last, expected = 0;
            point_index_range(&index, z, tx, ty, &first, &last);
            for (size_t i = 0; i < COUNT; i++)
                if (((uint64_t)x[i] >> (32 - z)) == tx && ((uint64_t)y[i] >> (32 - z)) == ty)
                    expected++;
            if (last - first != expected)
                mismatches++;
            for (size_t i = first; i < last; i++) {
                uint32_t item = index.items[i];
                if (((uint64_t)x[item] >> (32 - z)) != tx || ((uint64_t)y[item] >> (32 - z)) != ty)
                    mismatches++;
            }
        }
    }
    CHECK(mismatches == 0, "%d mismatches", mismatches);
    uint32_t dx, dy;
    tile_morton_decode(tile_morton(123456789u, 987654321u), &dx, &dy);
    CHECK(dx == 123456789u && dy == 987654321u, "decode");
    point_index_free(&index);
    free(x);
    free(y);
}

/* --- cache ----------------------------------------------------------------------------- */

TEST(cache_is_lru_and_bounded)
{
    TileCache *cache = tile_cache_new(256 * 1024);
    CHECK(cache != NULL, "created");
    if (!cache)
        return;
    char body[1000], key[32];
    memset(body, 'x', sizeof body);
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof key, "sites/%d/0/0", i);
        tile_cache_put(cache, key, body, sizeof body, 200);
        if (i >= 1) {
            /* Keep entry 0 recently used. */
            Buffer out;
            buffer_init(&out);
            int status = 0;
            CHECK(tile_cache_get(cache, "sites/0/0/0", &out, NULL, &status) == 1 && status == 200 &&
                      out.length == sizeof body,
                  "entry 0 survives at %d", i);
            buffer_free(&out);
        }
    }
    TileCacheStatistics statistics = tile_cache_statistics(cache);
    CHECK(statistics.bytes <= 256 * 1024, "bytes %zu", statistics.bytes);
    CHECK(statistics.entries > 100, "entries %zu", statistics.entries);
    CHECK(statistics.evictions > 0, "evicted");
    Buffer out;
    buffer_init(&out);
    int status = 0;
    CHECK(tile_cache_get(cache, "sites/1/0/0", &out, NULL, &status) == 0, "oldest evicted");
    CHECK(tile_cache_get(cache, "sites/1999/0/0", &out, NULL, &status) == 1, "newest kept");
    buffer_reset(&out);
    tile_cache_put(cache, "empty", "", 0, 204);
    CHECK(tile_cache_get(cache, "empty", &out, NULL, &status) == 1 && status == 204 &&
              out.length == 0,
          "empty tiles are cached");
    tile_cache_put(cache, "sites/1999/0/0", "abc", 3, 200);
    buffer_reset(&out);
    CHECK(tile_cache_get(cache, "sites/1999/0/0", &out, NULL, &status) == 1 && out.length == 3,
          "replaced");
    static char big[40000];
    tile_cache_put(cache, "big", big, sizeof big, 200);
    CHECK(tile_cache_get(cache, "big", &out, NULL, &status) == 0, "over a quarter: not kept");
    buffer_free(&out);
    tile_cache_free(cache);
}

TEST(cache_makes_each_gzip_variant_once)
{
    TileCache *cache = tile_cache_new(16 * 64 * 1024);
    CHECK(cache != NULL, "created");
    if (!cache)
        return;
    static char body[20000];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (char)('a' + (i * 7 + i / 100) % 26);
    Buffer out, packed;
    buffer_init(&out);
    buffer_init(&packed);
    int status = 0;
    tile_cache_put(cache, "z", body, sizeof body, 200);
    size_t plain_bytes = tile_cache_statistics(cache).bytes;
    CHECK(tile_cache_get(cache, "z", &out, NULL, &status) == 1 &&
              tile_cache_statistics(cache).gzip_made == 0,
          "no variant for a client that does not ask for one");
    for (int round = 0; round < 3; round++) {
        buffer_reset(&out);
        CHECK(tile_cache_get(cache, "z", &out, &packed, &status) == 1 && status == 200 &&
                  out.length == sizeof body,
              "hit %d", round);
        CHECK(packed.length > 0 && packed.length < sizeof body &&
                  gunzips_to(packed.data, packed.length, body, sizeof body),
              "round %d: the variant is the body's gzip (%zu bytes)", round, packed.length);
    }
    TileCacheStatistics statistics = tile_cache_statistics(cache);
    CHECK(statistics.gzip_made == 1, "made once, not %llu times",
          (unsigned long long)statistics.gzip_made);
    CHECK(statistics.bytes == plain_bytes + packed.length, "accounted: %zu = %zu + %zu",
          statistics.bytes, plain_bytes, packed.length);
    /* A new body under the key gets its own variant. */
    body[0] = '#';
    tile_cache_put(cache, "z", body, sizeof body, 200);
    buffer_reset(&out);
    CHECK(tile_cache_get(cache, "z", &out, &packed, &status) == 1 &&
              gunzips_to(packed.data, packed.length, body, sizeof body) &&
              tile_cache_statistics(cache).gzip_made == 2,
          "a replaced entry's variant is the new body's");
    /* Short bodies have none, and are not compressed again at each get. */
    tile_cache_put(cache, "short", "abc", 3, 200);
    for (int round = 0; round < 2; round++) {
        buffer_reset(&out);
        CHECK(tile_cache_get(cache, "short", &out, &packed, &status) == 1 && out.length == 3 &&
                  packed.length == 0,
              "a short body has no variant");
    }
    /* Variants count in the bound: gzip every entry of a full cache. */
    char key[32];
    for (int i = 0; i < 400; i++) {
        snprintf(key, sizeof key, "many/%d", i);
        body[1] = (char)('a' + i % 26);
        tile_cache_put(cache, key, body, sizeof body, 200);
        buffer_reset(&out);
        tile_cache_get(cache, key, &out, &packed, &status);
        statistics = tile_cache_statistics(cache);
        CHECK(statistics.bytes <= statistics.maximum_bytes, "bytes %zu within %zu at %d",
              statistics.bytes, statistics.maximum_bytes, i);
    }
    CHECK(statistics.evictions > 0 && statistics.gzip_made > 300, "evictions %llu, made %llu",
          (unsigned long long)statistics.evictions, (unsigned long long)statistics.gzip_made);
    buffer_free(&out);
    buffer_free(&packed);
    tile_cache_free(cache);
}

/* --- the sites layer on a synthetic network ------------------------------------------------- */

typedef struct Synthetic {
    Snapshot snapshot;
    Site *sites;
} Synthetic;

static void synthetic_network(Synthetic *synthetic, size_t count)
{
    memset(synthetic, 0, sizeof *synthetic);
    synthetic->sites = calloc(count, sizeof *synthetic->sites);
    Snapshot *snapshot = &synthetic->snapshot;
    static const char structure_name[] = "synthetic structure";
    TextRef name = 0;
    uint32_t no_details = 0;
    CHECK(synthetic->sites &&
              snapshot_text_add(snapshot, structure_name, sizeof structure_name - 1, &name) == 0 &&
              snapshot_details_add(snapshot, &(SiteDetails){0}, &no_details) == 0,
          "synthetic texts stored");
    srand(11);
    /* Ids are made in byte order: the sites are sorted by site_id. */
    for (size_t i = 0; synthetic->sites && i < count; i++) {
        Site *site = &synthetic->sites[i];
        char id[32];
        int length = snprintf(id, sizeof id, "syn-%06zu", i);
        CHECK(snapshot_text_add(snapshot, id, (size_t)length, &site->site_id) == 0,
              "site_id stored");
        site->name = name;
        site->details = no_details;
        site->role = (uint8_t)(i % ROLE_COUNT);
        site->audience = (uint8_t)(i % 4);
        site->coordinator = SITE_NONE;
        if (i % 7 == 0 && i > 0) { /* several sites at one hospital */
            site->lat = synthetic->sites[i - 1].lat;
            site->lon = synthetic->sites[i - 1].lon;
        } else if (i % 3 == 0) { /* Paris area */
            site->lat = 48.80 + (rand() % 10000) / 50000.0;
            site->lon = 2.25 + (rand() % 10000) / 40000.0;
        } else { /* mainland France and Martinique */
            site->lat =
                i % 11 == 0 ? 14.6 + (rand() % 1000) / 4000.0 : 43 + (rand() % 10000) / 1400.0;
            site->lon =
                i % 11 == 0 ? -61.2 + (rand() % 1000) / 4000.0 : -1 + (rand() % 10000) / 1400.0;
        }
    }
    synthetic->snapshot.sites = synthetic->sites;
    synthetic->snapshot.site_count = count;
}

static void synthetic_free(Synthetic *synthetic)
{
    free(synthetic->sites);
    free(synthetic->snapshot.text_pool);
    free(synthetic->snapshot.details);
}

/* Sites of `snapshot` in tile (z, x, y) accepted by `filter`, by brute force. */
static size_t sites_in_tile(const TileSet *tiles, TileAddress tile, const TileFilter *filter)
{
    size_t count = 0;
    for (size_t i = 0; i < tiles->snapshot->site_count; i++) {
        const Site *site = &tiles->snapshot->sites[i];
        double x, y;
        tile_mercator(site->lat, site->lon, &x, &y);
        uint32_t fx = tile_fixed(x), fy = tile_fixed(y);
        if (tile.z > 0 && ((fx >> (32 - tile.z)) != tile.x || (fy >> (32 - tile.z)) != tile.y))
            continue;
        if (site_filter_accepts(tiles->snapshot, &filter->sites, site))
            count++;
    }
    return count;
}

TEST(sites_counts_add_up)
{
    Synthetic synthetic;
    synthetic_network(&synthetic, 3000);
    TileSet tiles;
    memset(&tiles, 0, sizeof tiles);
    tiles.snapshot = &synthetic.snapshot;
    char error[256];
    CHECK(tile_sites_load(&tiles, error, sizeof error) == 0, "%s", error);
    TileFilter filters[3];
    for (int f = 0; f < 3; f++) {
        site_filter_init(&filters[f].sites);
        filters[f].condition = NULL;
    }
    filters[1].sites.role_mask = (1u << ROLE_CRMR) | (1u << ROLE_CCMR);
    filters[2].sites.audience_mask = (1u << AUDIENCE_ENFANTS) | (1u << AUDIENCE_TOUS);
    int checked = 0, clusters_seen = 0, folds_seen = 0, dense_seen = 0;
    for (int z = 0; z <= 16; z++) {
        double px, py;
        tile_mercator(48.85, 2.35, &px, &py);
        double mx, my;
        tile_mercator(14.6, -61.0, &mx, &my);
        TileAddress probes[2] = {
            {z, (uint32_t)(px * (1 << z)), (uint32_t)(py * (1 << z))},
            {z, (uint32_t)(mx * (1 << z)), (uint32_t)(my * (1 << z))},
        };
        for (int p = 0; p < 2; p++) {
            for (int f = 0; f < 3; f++) {
                MvtLayer layer;
                mvt_layer_init(&layer, "sites");
                TileJob job = {&tiles, probes[p], filters[f], NULL};
                CHECK(tile_encode_sites(&job, &layer) == 0, "encoded");
                Buffer tile;
                buffer_init(&tile);
                CHECK(mvt_layer_finish(&layer, &tile) == 0, "finished");
                MvtReadLayer decoded;
                mvt_read_layer(tile.data, tile.length, "sites", &decoded);
                CHECK(!decoded.failed, "decoded z%d", z);
                CHECK(tile.length == 0 || (decoded.version == 2 && decoded.extent == 4096),
                      "version %d extent %d", decoded.version, decoded.extent);
                size_t total = 0;
                for (size_t i = 0; i < decoded.feature_count; i++) {
                    const MvtReadFeature *feature = &decoded.features[i];
                    int64_t count = mvt_read_integer(&decoded, feature, "count", -1);
                    int64_t point_count = mvt_read_integer(&decoded, feature, "point_count", -1);
                    CHECK(feature->type == MVT_POINT, "points");
                    CHECK(feature->x >= 0 && feature->x <= 4096 && feature->y >= 0 &&
                              feature->y <= 4096,
                          "inside the tile: %d %d", feature->x, feature->y);
                    if (mvt_read_integer(&decoded, feature, "cluster", 0) == 1) {
                        CHECK(z < TILE_SITES_MAX_ZOOM, "no cluster at the maxzoom");
                        CHECK(point_count >= 2, "cluster of %lld", (long long)point_count);
                        total += (size_t)point_count;
                        clusters_seen++;
                        dense_seen += z > TILE_CLUSTER_MAX_ZOOM;
                    } else {
                        CHECK(count >= 1, "count %lld", (long long)count);
                        total += (size_t)count;
                        folds_seen += count > 1;
                    }
                }
                mvt_read_free(&decoded);
                size_t expected = sites_in_tile(&tiles, probes[p], &filters[f]);
                CHECK(total == expected, "z%d probe %d filter %d: %zu in features, %zu sites", z, p,
                      f, total, expected);
                checked++;
                buffer_free(&tile);
                mvt_layer_free(&layer);
            }
        }
    }
    CHECK(checked == 17 * 6, "checked %d", checked);
    CHECK(clusters_seen > 0 && folds_seen > 0 && dense_seen > 0, "clusters %d (dense %d), folds %d",
          clusters_seen, dense_seen, folds_seen);
    tile_sites_free(&tiles);
    synthetic_free(&synthetic);
}

TEST(network_bundles_account_for_links)
{
    Synthetic synthetic;
    synthetic_network(&synthetic, 3000);
    size_t link_count = synthetic.snapshot.site_count - 1;
    Link *links = calloc(link_count, sizeof *links);
    for (size_t i = 0; i < link_count; i++) {
        links[i].from = (uint32_t)(i + 1);
        links[i].to = (uint32_t)((i * 7919) % 50); /* a few coordinators */
        links[i].kind = (uint8_t)(i % 5 == 0 ? LINK_COOPERATION : LINK_COORDINATOR);
    }
    synthetic.snapshot.links = links;
    synthetic.snapshot.link_count = link_count;
    TileSet tiles;
    memset(&tiles, 0, sizeof tiles);
    tiles.snapshot = &synthetic.snapshot;
    char error[256];
    CHECK(tile_sites_load(&tiles, error, sizeof error) == 0, "%s", error);
    TileFilter filter;
    site_filter_init(&filter.sites);
    filter.condition = NULL;
    for (int z = 2; z <= 14; z += 3) {
        double px, py;
        tile_mercator(48.85, 2.35, &px, &py);
        TileAddress tile = {z, (uint32_t)(px * (1 << z)), (uint32_t)(py * (1 << z))};
        MvtLayer layer;
        mvt_layer_init(&layer, "network");
        TileJob job = {&tiles, tile, filter, NULL};
        CHECK(tile_encode_network(&job, &layer) == 0, "encoded");
        Buffer body;
        buffer_init(&body);
        CHECK(mvt_layer_finish(&layer, &body) == 0, "finished");
        MvtReadLayer decoded;
        mvt_read_layer(body.data, body.length, "network", &decoded);
        CHECK(!decoded.failed, "decoded");
        CHECK(decoded.feature_count <= TILE_MAX_LINK_BUNDLES, "%zu lines", decoded.feature_count);
        int64_t represented = 0;
        for (size_t i = 0; i < decoded.feature_count; i++) {
            int64_t count = mvt_read_integer(&decoded, &decoded.features[i], "count", -1);
            CHECK(decoded.features[i].type == MVT_LINESTRING, "lines");
            CHECK(count >= 1, "count %lld", (long long)count);
            represented += count;
        }
        size_t lines = decoded.feature_count;
        mvt_read_free(&decoded);
        /* Brute force: links near the tile (bounds), and links well inside it
         * whose ends are apart by more than the bundling grid (all drawn). */
        TileBox box = tile_box(tile, TILE_BUFFER);
        int shift = z <= 8 ? 8 : z < 14 ? 6 : 0;
        int64_t near = 0, inside = 0;
        for (size_t i = 0; i < link_count; i++) {
            double ax, ay, bx, by;
            const Site *from = &synthetic.snapshot.sites[links[i].from];
            const Site *to = &synthetic.snapshot.sites[links[i].to];
            tile_mercator(from->lat, from->lon, &ax, &ay);
            tile_mercator(to->lat, to->lon, &bx, &by);
            if (fmax(ax, bx) >= box.min_x && fmin(ax, bx) <= box.max_x &&
                fmax(ay, by) >= box.min_y && fmin(ay, by) <= box.max_y)
                near++;
            MvtPoint a = tile_point(tile, ax, ay), b = tile_point(tile, bx, by);
            int a_in = a.x >= 0 && a.x < 4096 && a.y >= 0 && a.y < 4096;
            int b_in = b.x >= 0 && b.x < 4096 && b.y >= 0 && b.y < 4096;
            if (a_in && b_in &&
                (((a.x + TILE_BUFFER) >> shift) != ((b.x + TILE_BUFFER) >> shift) ||
                 ((a.y + TILE_BUFFER) >> shift) != ((b.y + TILE_BUFFER) >> shift)))
                inside++;
        }
        CHECK(represented <= near, "z%d: %lld represented, %lld near", z, (long long)represented,
              (long long)near);
        if (lines < TILE_MAX_LINK_BUNDLES)
            CHECK(represented >= inside, "z%d: %lld represented, %lld inside", z,
                  (long long)represented, (long long)inside);
        CHECK(z >= 14 || inside > 0, "z%d: some links inside", z);
        buffer_free(&body);
        mvt_layer_free(&layer);
    }
    tile_sites_free(&tiles);
    free(links);
    synthetic_free(&synthetic);
}

/* --- the shipped dataset: polygons valid, sizes --------------------------------------- */

static const char *database_path(void)
{
    const char *path = getenv("MAILLAGE_DATABASE");
    return path && *path ? path : "build/maillage.sqlite";
}

/* The shipped dataset, loaded by the first test that needs it (with
 * `options`, NULL for the defaults): NULL after a failed CHECK when it
 * cannot be loaded, so that a missing fixture fails the test. */
static Dataset *load_shipped(const DatasetOptions *options)
{
    char error[512] = "";
    Dataset *dataset = dataset_load(database_path(), options, error, sizeof error);
    CHECK(dataset != NULL, "cannot load the shipped dataset %s: %s", database_path(), error);
    return dataset;
}

static Dataset *shipped; /* with the defaults, loaded once, freed by main() */

static Dataset *shipped_dataset(void)
{
    if (!shipped)
        shipped = load_shipped(NULL);
    return shipped;
}

/* GET `path` (with `parameter_count` query parameters) on `dataset`
 * through the route table, into `response` (response_init()ed here).
 * Returns 1 when a tile handler answered, 0 when the path is not a tile
 * route. */
static int get_tile_path(const Dataset *dataset, const char *path, const QueryParameter *parameters,
                         size_t parameter_count, Response *response)
{
    const char *rest;
    const Route *route = routes_find(path, &rest);
    if (!route || (route->handler != tile_answer && route->handler != tile_catalogue)) {
        response_init(response);
        return 0;
    }
    return route_call(dataset, path, parameters, parameter_count, response);
}

/* Every polygon clip of `tile` (areas and basemap) is valid. Returns the
 * number of clipped geometries checked. */
static int check_polygons_valid(TileSet *tiles, TileAddress tile, GEOSContextHandle_t geos,
                                int *invalid)
{
    int checked = 0;
    TileBox box = tile_box(tile, TILE_BUFFER);
    for (size_t i = 0; i < tiles->area_count; i++) {
        if (!shape_intersects_box(&tiles->areas[i].source, box))
            continue;
        const Shape *shape = tile_zoom_area(tiles, tile.z, i, geos);
        int failed = 0;
        GEOSGeometry *clipped =
            shape ? tile_clip_shape(geos, shape, tile, TILE_BUFFER, &failed) : NULL;
        CHECK(shape && !failed, "area %zu at z%d", i, tile.z);
        if (clipped) {
            if (GEOSisValid_r(geos, clipped) != 1) {
                (*invalid)++;
                char *reason = GEOSisValidReason_r(geos, clipped);
                fprintf(stderr, "  invalid %s at %d/%u/%u: %s\n", tiles->areas[i].code, tile.z,
                        tile.x, tile.y, reason ? reason : "?");
                GEOSFree_r(geos, reason);
            }
            checked++;
            GEOSGeom_destroy_r(geos, clipped);
        }
    }
    for (size_t i = tiles->basemap_kind_start[BASEMAP_LAND];
         i < tiles->basemap_kind_start[BASEMAP_LAND + 1]; i++) {
        if (!shape_intersects_box(&tiles->basemap_chunks[i], box))
            continue;
        const Shape *shape = tile_zoom_basemap(tiles, tile.z, i, geos);
        int failed = 0;
        GEOSGeometry *clipped =
            shape ? tile_clip_shape(geos, shape, tile, TILE_BUFFER, &failed) : NULL;
        if (clipped) {
            *invalid += GEOSisValid_r(geos, clipped) != 1;
            checked++;
            GEOSGeom_destroy_r(geos, clipped);
        }
    }
    return checked;
}

TEST(dataset_polygons_valid_and_tiles_small)
{
    if (!shipped_dataset())
        return;
    const Snapshot *snapshot = shipped->snapshot;
    TileSet *tiles = shipped->tiles;
    CHECK(tiles != NULL && tile_set_snapshot(tiles) == snapshot, "tiles loaded");
    if (!tiles)
        return;
    CHECK(tiles->area_count == 101 + 18, "areas %zu", tiles->area_count);
    fprintf(stderr, "note: areas and basemap prepared in %.3f s (snapshot %.3f s)\n",
            tiles->basemap_load_seconds, snapshot->load_seconds);
    for (int kind = 0; kind < BASEMAP_SHAPE_COUNT; kind++)
        CHECK(tiles->basemap_kind_start[kind + 1] > tiles->basemap_kind_start[kind],
              "basemap kind %d has shapes", kind);
    GEOSContextHandle_t geos = GEOS_init_r();
    int invalid = 0, checked = 0;
    /* France at z0..z6 (every tile over it), Paris and Martinique deeper. */
    for (int z = 0; z <= 6; z++) {
        double x0, y0, x1, y1;
        tile_mercator(51.2, -5.2, &x0, &y0);
        tile_mercator(41.3, 9.6, &x1, &y1);
        for (uint32_t x = (uint32_t)(x0 * (1 << z)); x <= (uint32_t)(x1 * (1 << z)); x++)
            for (uint32_t y = (uint32_t)(y0 * (1 << z)); y <= (uint32_t)(y1 * (1 << z)); y++)
                checked += check_polygons_valid(tiles, (TileAddress){z, x, y}, geos, &invalid);
    }
    const double places[][2] = {{48.8566, 2.3522}, {14.6, -61.0}, {-21.1, 55.5}, {42.7, 9.45}};
    for (size_t p = 0; p < sizeof places / sizeof places[0]; p++) {
        for (int z = 7; z <= 14; z++) {
            double x, y;
            tile_mercator(places[p][0], places[p][1], &x, &y);
            TileAddress tile = {z, (uint32_t)(x * (1 << z)), (uint32_t)(y * (1 << z))};
            checked += check_polygons_valid(tiles, tile, geos, &invalid);
        }
    }
    CHECK(invalid == 0, "%d invalid of %d clipped geometries", invalid, checked);
    CHECK(checked > 200, "checked %d", checked);
    GEOS_finish_r(geos);

    /* Sizes, through the HTTP handler: z0 and z14 over Paris < 500 KB. */
    const char *paths[] = {
        "/tiles/areas/0/0/0.mvt",          "/tiles/basemap/0/0/0.mvt",
        "/tiles/sites/0/0/0.mvt",          "/tiles/areas/14/8299/5636.mvt",
        "/tiles/basemap/14/8299/5636.mvt", "/tiles/sites/14/8299/5636.mvt",
        "/tiles/network/14/8299/5636.mvt", "/tiles/etablissements/14/8299/5636.mvt"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        Response response;
        CHECK(get_tile_path(shipped, paths[i], NULL, 0, &response) == 1, "%s handled", paths[i]);
        CHECK(response.status == 200 || response.status == 204, "%s: %d", paths[i],
              response.status);
        CHECK(response.body.length < 500 * 1024, "%s: %zu bytes", paths[i], response.body.length);
        response_free(&response);
    }
}

TEST(tile_paths_and_errors)
{
    if (!shipped_dataset())
        return;
    const struct {
        const char *path;
        int status;
    } cases[] = {
        {"/tiles.json", 200},
        {"/tiles/sites.json", 200},
        {"/tiles/nothing.json", 404},
        {"/tiles/nothing/0/0/0.mvt", 404},
        {"/tiles/sites/0/0/0.png", 404},
        {"/tiles/sites/0/0", 404},
        {"/tiles/sites/30/0/0.mvt", 400},
        {"/tiles/sites/17/0/0.mvt", 400},
        {"/tiles/areas/15/0/0.mvt", 400},
        {"/tiles/sites/1/2/0.mvt", 400},
        {"/tiles/sites/1/0/2.mvt", 400},
        {"/tiles/sites/-1/0/0.mvt", 400},
        {"/tiles/sites/a/0/0.mvt", 400},
        {"/tiles/sites/0/0x1/0.mvt", 400},
        {"/tiles/sites/99999999999/0/0.mvt", 400},
        {"/tiles/sites/0/0/0.mvt", 200},
        {"/tiles/etablissements/3/4/2.mvt", 204}, /* below minzoom: empty */
        {"/tiles/sites/10/0/0.mvt", 204},         /* ocean */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Response response;
        CHECK(get_tile_path(shipped, cases[i].path, NULL, 0, &response) == 1, "%s handled",
              cases[i].path);
        CHECK(response.status == cases[i].status, "%s: %d, expected %d", cases[i].path,
              response.status, cases[i].status);
        if (response.status >= 400)
            CHECK_STRING(response.content_type, "application/problem+json");
        if (response.status == 204)
            CHECK(response.body.length == 0, "%s: a 204 with %zu bytes", cases[i].path,
                  response.body.length);
        response_free(&response);
    }
    Response response;
    CHECK(get_tile_path(shipped, "/api/nearest", NULL, 0, &response) == 0, "not a tile path");
    response_free(&response);
    /* Filters: unknown ORPHAcode and role are 400s; a repeated one too. */
    const QueryParameter orpha[] = {{"orpha", "99999999"}};
    CHECK(get_tile_path(shipped, "/tiles/sites/0/0/0.mvt", orpha, 1, &response) == 1 &&
              response.status == 400,
          "orpha %d", response.status);
    response_free(&response);
    const QueryParameter role[] = {{"role", "crmr,nobody"}};
    CHECK(get_tile_path(shipped, "/tiles/sites/0/0/0.mvt", role, 1, &response) == 1 &&
              response.status == 400,
          "role %d", response.status);
    response_free(&response);
    const QueryParameter repeated[] = {{"role", "crmr"}, {"role", "ccmr"}};
    CHECK(get_tile_path(shipped, "/tiles/sites/0/0/0.mvt", repeated, 2, &response) == 1 &&
              response.status == 400,
          "repeated %d", response.status);
    response_free(&response);
}

/* /tiles.json lists every layer's TileJSON 3.0.0; a layer's TileJSON
 * carries its filters, normalised, into its tile URL. */
TEST(tilejson)
{
    if (!shipped_dataset())
        return;
    size_t layer_count;
    const TileLayerInfo *layers = tile_layers(&layer_count);
    Response response;
    get_tile_path(shipped, "/tiles.json", NULL, 0, &response);
    char error[128] = "";
    JsonNode *root = json_node_parse(response.body.data, response.body.length, error, sizeof error);
    CHECK(root && response.status == 200 && strcmp(response.content_type, "application/json") == 0,
          "/tiles.json: %d, %s", response.status, error);
    CHECK(layer_count == 6 && json_node_count(root, "/layers") == (long)layer_count, "%ld layers",
          json_node_count(root, "/layers"));
    const JsonNode *list = json_node_at(root, "/layers");
    for (size_t i = 0; list && list->kind == JSON_NODE_ARRAY && i < list->count && i < layer_count;
         i++) {
        const JsonNode *layer = &list->items[i];
        const char *version = json_node_string(layer, "/tilejson");
        const char *name = json_node_string(layer, "/name");
        const char *url = json_node_string(layer, "/tiles/0");
        char expected[128];
        snprintf(expected, sizeof expected, "/tiles/%s/{z}/{x}/{y}.mvt", layers[i].name);
        CHECK(version && strcmp(version, "3.0.0") == 0 && name &&
                  strcmp(name, layers[i].name) == 0 && url && strcmp(url, expected) == 0 &&
                  json_node_number(layer, "/minzoom") == layers[i].minzoom &&
                  json_node_number(layer, "/maxzoom") == layers[i].maxzoom &&
                  json_node_count(layer, "/bounds") == 4 &&
                  json_node_count(layer, "/vector_layers/0/fields") > 0,
              "layer %zu (%s): %s %s", i, layers[i].name, name ? name : "-", url ? url : "-");
    }
    json_node_free(root);
    response_free(&response);
    const QueryParameter filters[] = {{"role", "ccmr,crmr"}, {"orpha", "ORPHA:232"}};
    get_tile_path(shipped, "/tiles/sites.json", filters, 2, &response);
    root = json_node_parse(response.body.data, response.body.length, error, sizeof error);
    const char *url = json_node_string(root, "/tiles/0");
    CHECK(response.status == 200 && url &&
              strcmp(url, "/tiles/sites/{z}/{x}/{y}.mvt?orpha=232&role=crmr,ccmr") == 0,
          "filtered TileJSON url %s (%s)", url ? url : "-", error);
    json_node_free(root);
    response_free(&response);
}

/* nocache=1 renders without the cache only in a dataset whose tiles were
 * loaded with allow_nocache (benchmarks); elsewhere it is ignored. */
TEST(cache_bypass_only_when_allowed)
{
    shipped_dataset();
    DatasetOptions options = DATASET_DEFAULTS;
    options.tiles.allow_nocache = 1;
    Dataset *bench = load_shipped(&options);
    if (!shipped || !bench) {
        dataset_free(bench);
        return;
    }
    CHECK(!tile_set_allows_nocache(shipped->tiles) && tile_set_allows_nocache(bench->tiles),
          "allow_nocache");
    const Dataset *datasets[] = {shipped, bench};
    const QueryParameter nocache[] = {{"nocache", "1"}};
    const char *path = "/tiles/sites/5/16/11.mvt";
    for (int d = 0; d < 2; d++) {
        TileCacheStatistics before = tile_cache_statistics(datasets[d]->tiles->cache);
        Response first, second;
        get_tile_path(datasets[d], path, nocache, 1, &first);
        get_tile_path(datasets[d], path, nocache, 1, &second);
        TileCacheStatistics after = tile_cache_statistics(datasets[d]->tiles->cache);
        CHECK(first.status == 200 && second.status == 200 &&
                  first.body.length == second.body.length &&
                  memcmp(first.body.data, second.body.data, first.body.length) == 0,
              "%s: %d %d", path, first.status, second.status);
        if (d == 0)
            CHECK(after.hits == before.hits + 1 && after.entries == before.entries + 1,
                  "nocache honoured without allow_nocache: %llu hits, %zu entries",
                  (unsigned long long)(after.hits - before.hits), after.entries - before.entries);
        else
            CHECK(after.hits == before.hits && after.misses == before.misses &&
                      after.entries == before.entries,
                  "nocache ignored with allow_nocache: %llu hits, %zu entries",
                  (unsigned long long)(after.hits - before.hits), after.entries - before.entries);
        response_free(&first);
        response_free(&second);
    }
    dataset_free(bench);
}

int main(void)
{
    RUN(mercator);
    RUN(morton_ranges_match_brute_force);
    RUN(cache_is_lru_and_bounded);
    RUN(cache_makes_each_gzip_variant_once);
    RUN(sites_counts_add_up);
    RUN(network_bundles_account_for_links);
    RUN(dataset_polygons_valid_and_tiles_small);
    RUN(tile_paths_and_errors);
    RUN(tilejson);
    RUN(cache_bypass_only_when_allowed);
    dataset_free(shipped);
    return CHECK_SUMMARY("test_tiles");
}
