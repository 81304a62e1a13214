/* test_places_tiles.c — the `places` tile layer (tiles/tile_layers_places.c)
 * on the shipped dataset (MAILLAGE_DATABASE, default build/maillage.sqlite;
 * a failure when it cannot be loaded), tiles read back with mvt_read.h:
 *  - z6 over metropolitan France, through the tile route: the large cities
 *    are labelled, every tile is under 50 KB, features carry the five
 *    fields and come in rank order;
 *  - z10: the tile holding Provins labels Provins;
 *  - every tile holding a place at z5..14: a place is in at most one tile
 *    per zoom (exactly one from z11), a place kept at z is kept at z+1,
 *    its rank is the same at every zoom, and below z11 no two places share
 *    a cell of the thinning grid;
 *  - the same tiles from a second load (determinism);
 *  - TileJSON (/tiles/places.json and /tiles.json) and the route's
 *    answers (200, 204 below minzoom, 400 problems). */
#include "check.h"
#include "dataset/dataset.h"
#include "http/routes.h"
#include "json_read.h"
#include "mvt_read.h"
#include "support.h"
#include "tiles/tile_geometry.h"
#include "tiles/tile_layers.h"
#include "tiles/tile_set.h"

#include <stdint.h>
#include <stdlib.h>

#define Z6_TILE_LIMIT (50 * 1024)

static const char *database_path(void)
{
    const char *path = getenv("MAILLAGE_DATABASE");
    return path && *path ? path : "build/maillage.sqlite";
}

/* The shipped dataset: NULL after a failed CHECK when it cannot be loaded. */
static Dataset *load_shipped(void)
{
    char error[512] = "";
    Dataset *dataset = dataset_load(database_path(), NULL, error, sizeof error);
    CHECK(dataset != NULL, "cannot load the shipped dataset %s: %s", database_path(), error);
    return dataset;
}

static Dataset *shipped; /* loaded once, by the first test; freed by main() */

TEST(shipped_dataset_loads)
{
    shipped = load_shipped();
}

/* The tile of zoom `z` holding (lat, lon). */
static TileAddress tile_at(int z, double lat, double lon)
{
    double x, y;
    tile_mercator(lat, lon, &x, &y);
    return (TileAddress){z, (uint32_t)(x * (1 << z)), (uint32_t)(y * (1 << z))};
}

/* GET /tiles/places/{z}/{x}/{y}.mvt through the route table. */
static void get_places_tile(TileAddress tile, Response *response)
{
    char path[96];
    snprintf(path, sizeof path, "/tiles/places/%d/%u/%u.mvt", tile.z, tile.x, tile.y);
    CHECK(route_call(shipped, path, NULL, 0, response) == 1, "%s handled", path);
}

/* The place of `code` in the TileSet (sorted by code), or -1. */
static long place_of(const TileSet *tiles, const char *code)
{
    size_t low = 0, high = tiles->place_count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        int order = strcmp(tiles->places[middle].code, code);
        if (order == 0)
            return (long)middle;
        if (order < 0)
            low = middle + 1;
        else
            high = middle;
    }
    return -1;
}

/* Checks the five fields, the point and the rank order of every feature
 * of a decoded places tile. */
static void check_features(const MvtReadLayer *layer, TileAddress tile)
{
    CHECK(!layer->failed && layer->version == 2 && layer->extent == 4096,
          "%d/%u/%u: decoded (version %d, extent %d)", tile.z, tile.x, tile.y, layer->version,
          layer->extent);
    int64_t previous_rank = -1;
    for (size_t f = 0; f < layer->feature_count; f++) {
        const MvtReadFeature *feature = &layer->features[f];
        char name[128], code[16], kind[32];
        int named = mvt_read_string(layer, feature, "name", name, sizeof name);
        int coded = mvt_read_string(layer, feature, "code", code, sizeof code);
        mvt_read_string(layer, feature, "kind", kind, sizeof kind);
        int64_t rank = mvt_read_integer(layer, feature, "rank", -1);
        int64_t population = mvt_read_integer(layer, feature, "population", -1);
        CHECK(feature->type == MVT_POINT && named && coded && strcmp(kind, "commune") == 0 &&
                  rank >= 0 && population >= 0 && feature->tag_count == 5,
              "%d/%u/%u feature %zu: %s %s %s rank %lld population %lld, %zu tags", tile.z, tile.x,
              tile.y, f, name, code, kind, (long long)rank, (long long)population,
              feature->tag_count);
        CHECK(feature->x >= 0 && feature->x <= MVT_EXTENT && feature->y >= 0 &&
                  feature->y <= MVT_EXTENT,
              "%s inside its tile: %d %d", name, feature->x, feature->y);
        CHECK(rank > previous_rank, "%d/%u/%u: %s (rank %lld) after rank %lld", tile.z, tile.x,
              tile.y, name, (long long)rank, (long long)previous_rank);
        previous_rank = rank;
    }
}

/* --- z6 and z10 through the route --------------------------------------------------- */

TEST(z6_labels_the_large_cities_in_small_tiles)
{
    const char *cities[] = {"Paris",    "Lyon",  "Marseille", "Toulouse",
                            "Bordeaux", "Lille", "Nantes",    "Strasbourg"};
    enum { CITY_COUNT = sizeof cities / sizeof cities[0] };
    int found[CITY_COUNT] = {0};
    TileAddress north_west = tile_at(6, 51.2, -5.2), south_east = tile_at(6, 41.3, 9.6);
    size_t largest = 0, tiles = 0, labels = 0;
    for (uint32_t x = north_west.x; x <= south_east.x; x++) {
        for (uint32_t y = north_west.y; y <= south_east.y; y++) {
            TileAddress tile = {6, x, y};
            Response response;
            get_places_tile(tile, &response);
            CHECK(response.status == 200 || response.status == 204, "6/%u/%u: %d", x, y,
                  response.status);
            CHECK(strcmp(response.content_type, "application/vnd.mapbox-vector-tile") == 0,
                  "6/%u/%u: %s", x, y, response.content_type);
            CHECK(response.body.length < Z6_TILE_LIMIT, "6/%u/%u: %zu bytes", x, y,
                  response.body.length);
            largest = response.body.length > largest ? response.body.length : largest;
            MvtReadLayer layer;
            int present =
                mvt_read_layer(response.body.data, response.body.length, "places", &layer);
            CHECK(present == (response.status == 200), "6/%u/%u: layer present %d", x, y, present);
            check_features(&layer, tile);
            for (size_t f = 0; f < layer.feature_count; f++) {
                char name[128];
                mvt_read_string(&layer, &layer.features[f], "name", name, sizeof name);
                for (int c = 0; c < CITY_COUNT; c++)
                    found[c] |= strcmp(name, cities[c]) == 0;
            }
            labels += layer.feature_count;
            tiles++;
            mvt_read_free(&layer);
            response_free(&response);
        }
    }
    for (int c = 0; c < CITY_COUNT; c++)
        CHECK(found[c], "%s is labelled at z6", cities[c]);
    CHECK(tiles >= 9 && labels >= 50, "%zu tiles, %zu labels", tiles, labels);
    fprintf(stderr, "note: z6 places over France: %zu tiles, %zu labels, largest %zu bytes\n",
            tiles, labels, largest);
}

TEST(z10_tile_of_provins_labels_provins)
{
    TileAddress tile = tile_at(10, 48.5597, 3.2994);
    Response response;
    get_places_tile(tile, &response);
    MvtReadLayer layer;
    mvt_read_layer(response.body.data, response.body.length, "places", &layer);
    check_features(&layer, tile);
    int found = 0;
    for (size_t f = 0; f < layer.feature_count; f++) {
        char name[128], code[16];
        mvt_read_string(&layer, &layer.features[f], "name", name, sizeof name);
        mvt_read_string(&layer, &layer.features[f], "code", code, sizeof code);
        found |= strcmp(name, "Provins") == 0 && strcmp(code, "77379") == 0;
    }
    CHECK(response.status == 200 && found, "10/%u/%u: %d, %zu labels, Provins %s", tile.x, tile.y,
          response.status, layer.feature_count, found ? "found" : "missing");
    mvt_read_free(&layer);
    response_free(&response);
}

/* --- every tile holding a place, z5..14 ---------------------------------------------- */

static int compare_tile_keys(const void *a, const void *b)
{
    uint64_t left = *(const uint64_t *)a, right = *(const uint64_t *)b;
    return left < right ? -1 : left > right;
}

/* The tiles of zoom z holding a place, sorted, without repeats; returns
 * how many (written to `tiles`, room for place_count). */
static size_t tiles_with_places(const TileSet *set, int z, uint64_t *tiles)
{
    size_t count = 0;
    for (size_t i = 0; i < set->place_count; i++)
        tiles[count++] =
            ((uint64_t)(set->place_x[i] >> (32 - z)) << 32) | (set->place_y[i] >> (32 - z));
    qsort(tiles, count, sizeof *tiles, compare_tile_keys);
    size_t distinct = 0;
    for (size_t i = 0; i < count; i++)
        if (distinct == 0 || tiles[distinct - 1] != tiles[i])
            tiles[distinct++] = tiles[i];
    return distinct;
}

/* Encodes the places tile `tile` of `set` (no cache) into `body`. */
static int encode_places_tile(TileSet *set, TileAddress tile, Buffer *body)
{
    MvtLayer layer;
    mvt_layer_init(&layer, "places");
    TileJob job;
    memset(&job, 0, sizeof job);
    job.tiles = set;
    job.tile = tile;
    int status = tile_encode_places(&job, &layer);
    buffer_reset(body);
    if (status == 0)
        status = mvt_layer_finish(&layer, body);
    mvt_layer_free(&layer);
    return status;
}

/* The minimum population of a place shown below z11 (the TileJSON's
 * description), z5 first. */
static const int64_t MINIMUM_POPULATION[] = {50000, 20000, 8000, 3000, 1000, 300};

typedef struct ZoomCheck {
    const TileSet *set;
    int z;
    uint8_t *seen; /* per place: its features at z */
    int64_t *rank; /* per place: the rank first seen, -1 */
    size_t features, problems;
} ZoomCheck;

/* Checks the decoded features of one tile of check->z against the places. */
static void check_tile_places(ZoomCheck *check, const MvtReadLayer *layer, TileAddress tile)
{
    enum { SIDE = 1 << TILE_PLACES_CELL_BITS }; /* cells per tile side */
    uint8_t cells[SIDE * SIDE] = {0};
    int level = check->z + TILE_PLACES_CELL_BITS;
    for (size_t f = 0; f < layer->feature_count; f++) {
        char code[16];
        mvt_read_string(layer, &layer->features[f], "code", code, sizeof code);
        long place = place_of(check->set, code);
        if (place < 0) {
            CHECK(0, "%d/%u/%u: unknown code %s", tile.z, tile.x, tile.y, code);
            check->problems++;
            continue;
        }
        check->features++;
        check->seen[place]++;
        int64_t rank = mvt_read_integer(layer, &layer->features[f], "rank", -1);
        if (check->rank[place] < 0)
            check->rank[place] = rank;
        uint32_t x = check->set->place_x[place], y = check->set->place_y[place];
        int inside = (x >> (32 - tile.z)) == tile.x && (y >> (32 - tile.z)) == tile.y;
        int same_rank = check->rank[place] == rank;
        int populated = 1, alone = 1;
        if (check->z < TILE_PLACES_ALL_ZOOM) {
            int64_t population = mvt_read_integer(layer, &layer->features[f], "population", -1);
            populated = population >= MINIMUM_POPULATION[check->z - TILE_PLACES_MIN_ZOOM];
            unsigned cell =
                ((x >> (32 - level)) & (SIDE - 1u)) * SIDE + ((y >> (32 - level)) & (SIDE - 1u));
            alone = !cells[cell]++;
        }
        if (!inside || !same_rank || !populated || !alone || check->seen[place] > 1) {
            check->problems++;
            if (check->problems <= 10)
                CHECK(0,
                      "%d/%u/%u %s: inside %d, rank %lld (first %lld), population ok %d, "
                      "alone in its cell %d, seen %d",
                      tile.z, tile.x, tile.y, code, inside, (long long)rank,
                      (long long)check->rank[place], populated, alone, check->seen[place]);
        }
    }
}

TEST(one_tile_per_zoom_monotonic_and_ranked)
{
    TileSet *set = shipped->tiles;
    size_t count = set->place_count;
    CHECK(count > 34000, "%zu places", count);
    uint64_t *tiles = malloc(count * sizeof *tiles);
    uint8_t *seen = calloc(count, 1), *kept_before = calloc(count, 1);
    int64_t *rank = malloc(count * sizeof *rank);
    if (!tiles || !seen || !kept_before || !rank) {
        CHECK(0, "out of memory");
        free(tiles);
        free(seen);
        free(kept_before);
        free(rank);
        return;
    }
    for (size_t i = 0; i < count; i++)
        rank[i] = -1;
    Buffer body;
    buffer_init(&body);
    long paris = place_of(set, "75056");
    size_t previous_kept = 0;
    for (int z = TILE_PLACES_MIN_ZOOM; z <= TILE_PLACES_MAX_ZOOM; z++) {
        ZoomCheck check = {set, z, seen, rank, 0, 0};
        memset(seen, 0, count);
        size_t tile_count = tiles_with_places(set, z, tiles);
        for (size_t t = 0; t < tile_count; t++) {
            TileAddress tile = {z, (uint32_t)(tiles[t] >> 32), (uint32_t)tiles[t]};
            CHECK(encode_places_tile(set, tile, &body) == 0, "%d/%u/%u encoded", z, tile.x, tile.y);
            MvtReadLayer layer;
            mvt_read_layer(body.data, body.length, "places", &layer);
            if (layer.feature_count)
                check_features(&layer, tile);
            check_tile_places(&check, &layer, tile);
            mvt_read_free(&layer);
        }
        size_t dropped = 0, missing = 0;
        for (size_t i = 0; i < count; i++) {
            dropped += kept_before[i] && !seen[i];
            missing += z >= TILE_PLACES_ALL_ZOOM && seen[i] != 1;
            kept_before[i] = seen[i] != 0;
        }
        CHECK(check.problems == 0, "z%d: %zu problems", z, check.problems);
        CHECK(dropped == 0, "z%d: %zu places kept at z%d are dropped", z, dropped, z - 1);
        CHECK(missing == 0, "z%d: %zu places not in exactly one tile", z, missing);
        CHECK(check.features >= previous_kept, "z%d: %zu places, %zu at z%d", z, check.features,
              previous_kept, z - 1);
        CHECK(z >= TILE_PLACES_ALL_ZOOM || check.features < count * 3 / 5,
              "z%d thinned: %zu places", z, check.features);
        CHECK(paris >= 0 && seen[paris] == 1 && rank[paris] == 0, "z%d: Paris shown, rank 0", z);
        fprintf(stderr, "note: z%d: %zu places in %zu tiles\n", z, check.features, tile_count);
        previous_kept = check.features;
    }
    buffer_free(&body);
    free(tiles);
    free(seen);
    free(kept_before);
    free(rank);
}

/* A second load of the same file draws the same tiles, byte for byte. */
TEST(selection_is_deterministic)
{
    Dataset *again = load_shipped();
    if (!again)
        return;
    TileSet *first = shipped->tiles, *second = again->tiles;
    CHECK(first->place_count == second->place_count, "%zu and %zu places", first->place_count,
          second->place_count);
    uint64_t *tiles = malloc(first->place_count * sizeof *tiles);
    Buffer one, two;
    buffer_init(&one);
    buffer_init(&two);
    size_t differ = 0, compared = 0;
    for (int z = TILE_PLACES_MIN_ZOOM; tiles && z <= 8; z++) {
        size_t tile_count = tiles_with_places(first, z, tiles);
        for (size_t t = 0; t < tile_count; t++) {
            TileAddress tile = {z, (uint32_t)(tiles[t] >> 32), (uint32_t)tiles[t]};
            encode_places_tile(first, tile, &one);
            encode_places_tile(second, tile, &two);
            differ += one.length != two.length || memcmp(one.data, two.data, one.length) != 0;
            compared++;
        }
    }
    CHECK(tiles && differ == 0 && compared > 100, "%zu of %zu tiles differ", differ, compared);
    buffer_free(&one);
    buffer_free(&two);
    free(tiles);
    dataset_free(again);
}

/* --- TileJSON and the route's answers ------------------------------------------------- */

TEST(tilejson_lists_the_fields)
{
    Response response;
    route_call(shipped, "/tiles/places.json", NULL, 0, &response);
    char error[128] = "";
    JsonNode *root = json_node_parse(response.body.data, response.body.length, error, sizeof error);
    CHECK(root && response.status == 200, "/tiles/places.json: %d %s", response.status, error);
    const char *fields[][2] = {{"name", "String"},
                               {"code", "String"},
                               {"population", "Number"},
                               {"rank", "Number"},
                               {"kind", "String"}};
    for (size_t i = 0; root && i < sizeof fields / sizeof fields[0]; i++) {
        char pointer[64];
        snprintf(pointer, sizeof pointer, "/vector_layers/0/fields/%s", fields[i][0]);
        const char *type = json_node_string(root, pointer);
        CHECK(type && strcmp(type, fields[i][1]) == 0, "%s: %s", fields[i][0], type ? type : "-");
    }
    const char *url = json_node_string(root, "/tiles/0");
    const char *id = json_node_string(root, "/vector_layers/0/id");
    CHECK(root && json_node_number(root, "/minzoom") == TILE_PLACES_MIN_ZOOM &&
              json_node_number(root, "/maxzoom") == TILE_PLACES_MAX_ZOOM &&
              json_node_number(root, "/vector_layers/0/minzoom") == 5 &&
              json_node_number(root, "/vector_layers/0/maxzoom") == 14 &&
              json_node_count(root, "/vector_layers/0/fields") == 5 && url &&
              strcmp(url, "/tiles/places/{z}/{x}/{y}.mvt") == 0 && id && strcmp(id, "places") == 0,
          "zooms, fields, url %s, id %s", url ? url : "-", id ? id : "-");
    json_node_free(root);
    response_free(&response);

    route_call(shipped, "/tiles.json", NULL, 0, &response);
    root = json_node_parse(response.body.data, response.body.length, error, sizeof error);
    int listed = 0;
    for (long i = 0; root && i < json_node_count(root, "/layers"); i++) {
        char pointer[48];
        snprintf(pointer, sizeof pointer, "/layers/%ld/name", i);
        const char *name = json_node_string(root, pointer);
        listed |= name && strcmp(name, "places") == 0;
    }
    CHECK(listed, "/tiles.json lists places");
    json_node_free(root);
    response_free(&response);
}

TEST(route_answers)
{
    const struct {
        const char *path;
        int status;
    } cases[] = {
        {"/tiles/places/6/32/22.mvt", 200},      {"/tiles/places/4/8/5.mvt", 204},
        {"/tiles/places/0/0/0.mvt", 204},        {"/tiles/places/8/0/0.mvt", 204},
        {"/tiles/places/14/8298/5636.mvt", 200}, {"/tiles/places/15/0/0.mvt", 400},
        {"/tiles/places/6/64/0.mvt", 400},       {"/tiles/places/6/0/x.mvt", 400},
        {"/tiles/places/6/0/0.png", 404},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Response response;
        route_call(shipped, cases[i].path, NULL, 0, &response);
        CHECK(response.status == cases[i].status, "%s: %d, expected %d", cases[i].path,
              response.status, cases[i].status);
        if (response.status >= 400)
            CHECK_STRING(response.content_type, "application/problem+json");
        else
            CHECK_STRING(response.content_type, "application/vnd.mapbox-vector-tile");
        if (response.status == 204)
            CHECK(response.body.length == 0, "%s: a 204 with %zu bytes", cases[i].path,
                  response.body.length);
        response_free(&response);
    }
}

int main(void)
{
    RUN(shipped_dataset_loads);
    if (shipped) {
        RUN(z6_labels_the_large_cities_in_small_tiles);
        RUN(z10_tile_of_provins_labels_provins);
        RUN(one_tile_per_zoom_monotonic_and_ranked);
        RUN(selection_is_deterministic);
        RUN(tilejson_lists_the_fields);
        RUN(route_answers);
    }
    dataset_free(shipped);
    return CHECK_SUMMARY("test_places_tiles");
}
