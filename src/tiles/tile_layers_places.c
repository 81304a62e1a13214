/* tile_layers_places.c — the `places` layer: town names to label the map,
 * one point per commune (table `communes`, kind 'commune', with a point),
 * with `name`, `code` (INSEE), `population`, `rank` and `kind`.
 *
 * Which places a zoom draws (chosen once, at load: each place gets the
 * lowest zoom that draws it, `min_zoom`):
 *  - z 5..10: on a grid of 2^TILE_PLACES_CELL_BITS x 2^TILE_PLACES_CELL_BITS
 *    cells per tile (8 x 8: a cell is 512 tile units, 32 pixels on a
 *    256-pixel tile), the most populous place of each cell (ties: the
 *    smaller INSEE code), when it has at least the zoom's minimum
 *    population (MINIMUM_POPULATION: 50,000 at z5, 20,000 at z6, 8,000 at
 *    z7, 3,000 at z8, 1,000 at z9, 300 at z10);
 *  - z >= TILE_PLACES_ALL_ZOOM (11): every place.
 * Why population: the shipped communes have no préfecture or chef-lieu
 * column, and inventing one would be wrong; the largest town of an area is
 * what a reader looks for. Why a grid: a pure population threshold piles
 * the labels up around Paris and leaves rural France blank, a pure grid
 * labels hamlets of the sea cells (islands, border cells mostly abroad);
 * the grid spreads the labels evenly, the minimum keeps them meaningful.
 * The 8 x 8 grid gives the renderer more candidates than fit (it drops the
 * labels that collide, by rank): about 50 places at z5 over France and the
 * overseas départements, 150 at z6, 400 at z7, 1,500 at z8, 6,000 at z9,
 * 19,000 at z10; a z6 tile holds at most about 40 (a few kB).
 * Invariants:
 *  - deterministic: it depends only on the places' positions, populations
 *    and codes;
 *  - monotonic: a place drawn at zoom z is drawn at every higher zoom
 *    (its cell at z+1 lies inside its cell at z, so the most populous place
 *    of the larger cell is the most populous of its smaller one, and the
 *    minimum population does not grow with the zoom);
 *  - points are never buffered: a place is in exactly one tile per zoom
 *    (tile_layers.h);
 *  - `rank` orders every place: by min_zoom, then population (decreasing),
 *    then INSEE code; 0 (Paris) is the label a renderer places first, and a
 *    lower rank wins a collision. Features of a tile come in rank order;
 *  - `kind` is "commune": the municipal arrondissements of Paris, Lyon and
 *    Marseille are not drawn (their commune is labelled by its own name, and
 *    the shipped data gives them no point). */
#include "tiles/tile_layers.h"
#include "base/array.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The minimum population of a cell's place at zooms TILE_PLACES_MIN_ZOOM to
 * TILE_PLACES_ALL_ZOOM - 1; never growing with the zoom. The layer's
 * description (tile_set.c), the README and test_places_tiles.c quote it. */
static const int64_t MINIMUM_POPULATION[TILE_PLACES_ALL_ZOOM - TILE_PLACES_MIN_ZOOM] = {
    50000, 20000, 8000, 3000, 1000, 300};

/* --- loading ------------------------------------------------------------------------ */

/* Reads the communes with a point into tiles->places (sorted by code) and
 * their fixed-point positions. Returns 0, or -1 with a message. */
static int read_places(TileSet *tiles, Store *store, char *error, size_t error_size)
{
    sqlite3_stmt *statement = NULL;
    const char *sql = "SELECT code, name, population, lat, lon FROM communes "
                      "WHERE kind = 'commune' AND lat IS NOT NULL AND lon IS NOT NULL "
                      "ORDER BY code";
    if (sqlite3_prepare_v2(store->db, sql, -1, &statement, NULL) != SQLITE_OK) {
        snprintf(error, error_size, "tiles: reading communes: %s", sqlite3_errmsg(store->db));
        return -1;
    }
    size_t capacity = 0, x_capacity = 0, y_capacity = 0; /* one per array */
    int failed = 0, status = SQLITE_DONE;
    while (!failed && (status = sqlite3_step(statement)) == SQLITE_ROW) {
        size_t needed = tiles->place_count + 1;
        if (needed > UINT32_MAX || array_reserve(tiles->places, capacity, needed, 4096) != 0 ||
            array_reserve(tiles->place_x, x_capacity, needed, 4096) != 0 ||
            array_reserve(tiles->place_y, y_capacity, needed, 4096) != 0) {
            failed = 1;
            break;
        }
        TilePlace *place = &tiles->places[tiles->place_count];
        place->code =
            tile_keep_string(tiles, (const char *)sqlite3_column_text(statement, 0), &failed);
        place->name =
            tile_keep_string(tiles, (const char *)sqlite3_column_text(statement, 1), &failed);
        int64_t population = sqlite3_column_int64(statement, 2);
        place->population = population > 0 ? population : 0;
        place->rank = 0;
        place->min_zoom = TILE_PLACES_ALL_ZOOM;
        double wx, wy;
        tile_mercator(sqlite3_column_double(statement, 3), sqlite3_column_double(statement, 4), &wx,
                      &wy);
        tiles->place_x[tiles->place_count] = tile_fixed(wx);
        tiles->place_y[tiles->place_count] = tile_fixed(wy);
        tiles->place_count++;
    }
    sqlite3_finalize(statement);
    if (!failed && status != SQLITE_DONE) {
        snprintf(error, error_size, "tiles: cannot read the communes: %s",
                 sqlite3_errmsg(store->db));
        return -1;
    }
    if (failed) {
        snprintf(error, error_size, "tiles: out of memory loading places");
        return -1;
    }
    return 0;
}

/* By population, decreasing, then by INSEE code (place indexes). */
static int compare_importance(const void *a, const void *b, void *context)
{
    const TilePlace *places = context;
    const TilePlace *left = &places[*(const uint32_t *)a], *right = &places[*(const uint32_t *)b];
    if (left->population != right->population)
        return left->population > right->population ? -1 : 1;
    return strcmp(left->code ? left->code : "", right->code ? right->code : "");
}

/* Sets each place's min_zoom: at each thinned zoom, the most important
 * place of each grid cell (its lowest `importance`) is drawn when it has
 * the zoom's minimum population. */
static void choose_zooms(TileSet *tiles, const uint32_t *importance)
{
    const PointIndex *index = &tiles->place_index;
    for (int z = TILE_PLACES_MIN_ZOOM; z < TILE_PLACES_ALL_ZOOM; z++) {
        int shift = 64 - 2 * (z + TILE_PLACES_CELL_BITS);
        for (size_t start = 0; start < index->count;) {
            uint64_t cell = index->keys[start] >> shift;
            uint32_t best = index->items[start];
            size_t end = start + 1;
            for (; end < index->count && (index->keys[end] >> shift) == cell; end++)
                if (importance[index->items[end]] < importance[best])
                    best = index->items[end];
            TilePlace *place = &tiles->places[best];
            if (place->population >= MINIMUM_POPULATION[z - TILE_PLACES_MIN_ZOOM] &&
                place->min_zoom > z)
                place->min_zoom = (uint8_t)z;
            start = end;
        }
    }
}

/* Fills place_by_rank and each place's rank: by min_zoom, then in the
 * importance order `order` (place indexes, most important first). */
static void rank_places(TileSet *tiles, const uint32_t *order)
{
    uint32_t rank = 0;
    for (int z = TILE_PLACES_MIN_ZOOM; z <= TILE_PLACES_ALL_ZOOM; z++)
        for (size_t i = 0; i < tiles->place_count; i++) {
            TilePlace *place = &tiles->places[order[i]];
            if (place->min_zoom != z)
                continue;
            place->rank = rank;
            tiles->place_by_rank[rank++] = order[i];
        }
    assert(rank == tiles->place_count);
}

int tile_places_load(TileSet *tiles, Store *store, char *error, size_t error_size)
{
    if (read_places(tiles, store, error, error_size) != 0)
        return -1;
    size_t count = tiles->place_count;
    uint32_t *order = malloc((count ? count : 1) * sizeof *order);
    uint32_t *importance = malloc((count ? count : 1) * sizeof *importance);
    tiles->place_by_rank = malloc((count ? count : 1) * sizeof *tiles->place_by_rank);
    int status = order && importance && tiles->place_by_rank &&
                         point_index_build(&tiles->place_index, tiles->place_x, tiles->place_y,
                                           count, NULL, NULL) == 0
                     ? 0
                     : -1;
    if (status == 0) {
        for (size_t i = 0; i < count; i++)
            order[i] = (uint32_t)i;
        qsort_r(order, count, sizeof *order, compare_importance, tiles->places);
        for (size_t i = 0; i < count; i++)
            importance[order[i]] = (uint32_t)i;
        choose_zooms(tiles, importance);
        rank_places(tiles, order);
    } else
        snprintf(error, error_size, "tiles: out of memory indexing %zu places", count);
    free(order);
    free(importance);
    return status;
}

void tile_places_free(TileSet *tiles)
{
    free(tiles->places);
    free(tiles->place_x);
    free(tiles->place_y);
    free(tiles->place_by_rank);
    point_index_free(&tiles->place_index);
}

/* --- encoding ----------------------------------------------------------------------- */

static int compare_ranks(const void *a, const void *b)
{
    uint32_t left = *(const uint32_t *)a, right = *(const uint32_t *)b;
    return left < right ? -1 : left > right;
}

static void encode_place(const TileJob *job, MvtLayer *layer, uint32_t index)
{
    const TileSet *tiles = job->tiles;
    const TilePlace *place = &tiles->places[index];
    mvt_feature_begin(layer, MVT_POINT, 1, (uint64_t)index + 1);
    mvt_feature_string(layer, "name", place->name);
    mvt_feature_string(layer, "code", place->code);
    mvt_feature_integer(layer, "population", place->population);
    mvt_feature_integer(layer, "rank", place->rank);
    mvt_feature_string(layer, "kind", "commune");
    MvtPoint point = tile_fixed_point(job->tile, tiles->place_x[index], tiles->place_y[index]);
    mvt_points(layer, &point, 1);
    mvt_feature_end(layer);
}

int tile_encode_places(TileJob *job, MvtLayer *layer)
{
    const TileSet *tiles = job->tiles;
    size_t first, last;
    point_index_range(&tiles->place_index, job->tile.z, job->tile.x, job->tile.y, &first, &last);
    if (first == last)
        return 0;
    uint32_t *ranks = malloc((last - first) * sizeof *ranks);
    if (!ranks)
        return -1;
    size_t count = 0;
    for (size_t i = first; i < last; i++) {
        const TilePlace *place = &tiles->places[tiles->place_index.items[i]];
        if (place->min_zoom <= job->tile.z)
            ranks[count++] = place->rank;
    }
    qsort(ranks, count, sizeof *ranks, compare_ranks);
    for (size_t i = 0; i < count; i++)
        encode_place(job, layer, tiles->place_by_rank[ranks[i]]);
    free(ranks);
    return layer->failed ? -1 : 0;
}
