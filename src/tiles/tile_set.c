/* tile_set.c — the TileSet, the catalogue of layers and rendering a tile;
 * see tile_set.h.
 *
 * Layers (tile_layers.h has the data, tile_layers_*.c the builders):
 *   sites           z 0..16  care-network sites; clustered on a 16 x 16 grid
 *                            per tile (point_count) at z <= 8, and in dense
 *                            cells (> 8 sites) up to z 15; sites at one exact
 *                            position folded into one point (count, site_ids)
 *   network         z 0..14  links to coordinating and cooperating sites
 *   areas           z 0..14  départements and régions with population
 *   basemap         z 0..14  land, coastline, région/département boundaries
 *   etablissements  z 8..16  FINESS établissements (context)
 *   places          z 5..14  commune names to label, thinned by zoom below
 *                            z 11 (tile_layers_places.c), in rank order
 * `sites` and `network` take a TileFilter (orpha with the classification
 * expansion of /api/nearest, roles, public); a network link is kept when
 * both its ends pass it. Encoded tiles are cached per TileSet
 * (tile_cache.h) under the caller's key. */
#include "tiles/tile_set.h"

#include "base/array.h"
#include "base/text.h"
#include "tiles/tile_layers.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char TILE_ATTRIBUTION[] =
    "Orphanet (INSERM) CC BY 4.0; FINESS, Ministère de la Santé, Licence Ouverte / Etalab 2.0; "
    "IGN Admin Express and INSEE COG, Licence Ouverte / Etalab 2.0";

/* The catalogue, and how each layer is encoded (parallel arrays). */
static const TileLayerInfo LAYERS[] = {
    {"sites",
     "Care-network sites. A 16 x 16 grid of cells per tile: at z <= 8 a cell whose sites lie at "
     "two positions or more is one cluster, at z 9..15 only when it also holds more than 8 "
     "sites, never at z 16 (cluster, point_count, expansion_zoom); "
     "sites at one exact position fold into one point with count and '|'-joined site_ids, "
     "names, centre_labels, roles, publics, sources (first 100). source cites the document or "
     "designation a site comes from.",
     0, 16, 1,
     "{\"count\":\"Number\",\"site_id\":\"String\",\"name\":\"String\",\"role\":\"String\","
     "\"centre_label\":\"String\",\"filiere\":\"String\",\"finess\":\"String\",\"city\":\"String\","
     "\"public\":\"String\",\"source\":\"String\",\"site_ids\":\"String\","
     "\"names\":\"String\",\"centre_labels\":\"String\",\"roles\":\"String\","
     "\"publics\":\"String\",\"sources\":\"String\",\"lists_truncated\":\"Boolean\","
     "\"cluster\":\"Boolean\",\"point_count\":\"Number\",\"expansion_zoom\":\"Number\"}"},
    {"network",
     "Links from each site to its coordinating site and to the sites it cooperates with. Links "
     "whose ends fall in the same cells of a grid (256 tile units at z <= 8, 64 at z 9..13, 1 "
     "at z 14) are drawn once, as the first of them, with their count; links shorter than the "
     "grid are left out at that zoom; a tile keeps the 4096 bundles with the most links.",
     0, 14, 1, "{\"kind\":\"String\",\"from\":\"String\",\"to\":\"String\",\"count\":\"Number\"}"},
    {"areas", "Départements and régions with their population.", 0, 14, 0,
     "{\"level\":\"String\",\"code\":\"String\",\"name\":\"String\",\"population\":\"Number\","
     "\"region\":\"String\"}"},
    {"basemap",
     "Land, coastline (the outline of the territory: coasts and national borders) and région and "
     "département boundaries, overseas départements included.",
     0, 14, 0, "{\"kind\":\"String\",\"level\":\"String\"}"},
    {"etablissements",
     "FINESS hospital-type établissements, as context; in_network says that a care-network "
     "site names its FINESS number.",
     8, 16, 0,
     "{\"finess\":\"String\",\"name\":\"String\",\"city\":\"String\","
     "\"facility_type\":\"String\",\"in_network\":\"Boolean\"}"},
    {"places",
     "Commune names to label the map, one point per commune with its INSEE code and population. "
     "Below z 11, on an 8 x 8 grid of cells per tile, only the most populous commune of each "
     "cell, when it has at least 50,000 inhabitants at z 5, 20,000 at z 6, 8,000 at z 7, 3,000 "
     "at z 8, 1,000 at z 9, 300 at z 10; every commune from z 11. A place shown at one zoom is "
     "shown at every higher zoom. rank orders the labels (0 first; the lower rank wins a "
     "collision): by the zoom a place appears at, then population; features come in rank order. "
     "kind is 'commune' (municipal arrondissements are not shown).",
     TILE_PLACES_MIN_ZOOM, TILE_PLACES_MAX_ZOOM, 0,
     "{\"name\":\"String\",\"code\":\"String\",\"population\":\"Number\","
     "\"rank\":\"Number\",\"kind\":\"String\"}"},
};

#define LAYER_COUNT (sizeof LAYERS / sizeof LAYERS[0])

typedef struct LayerEncoder {
    int needs_geos; /* polygon pipeline */
    int (*encode)(TileJob *job, MvtLayer *layer);
} LayerEncoder;

static const LayerEncoder ENCODERS[LAYER_COUNT] = {
    {0, tile_encode_sites},   {0, tile_encode_network},        {1, tile_encode_areas},
    {1, tile_encode_basemap}, {0, tile_encode_etablissements}, {0, tile_encode_places},
};

const TileLayerInfo *tile_layers(size_t *count)
{
    *count = LAYER_COUNT;
    return LAYERS;
}

const TileLayerInfo *tile_layer_find(const char *name, size_t length)
{
    for (size_t i = 0; i < LAYER_COUNT; i++)
        if (strlen(LAYERS[i].name) == length && memcmp(LAYERS[i].name, name, length) == 0)
            return &LAYERS[i];
    return NULL;
}

/* --- loading ------------------------------------------------------------------------ */

const char *tile_keep_string(TileSet *tiles, const char *text, int *failed)
{
    if (!text || !*text)
        return NULL;
    if (array_reserve(tiles->owned_strings, tiles->owned_string_capacity,
                      tiles->owned_string_count + 1, 1024) != 0) {
        *failed = 1;
        return NULL;
    }
    char *copy = strdup(text);
    if (!copy) {
        *failed = 1;
        return NULL;
    }
    tiles->owned_strings[tiles->owned_string_count++] = copy;
    return copy;
}

typedef struct SitesJob {
    TileSet *tiles;
    int status;
    char error[512];
} SitesJob;

static void *load_sites_in_thread(void *argument)
{
    SitesJob *job = argument;
    job->status = tile_sites_load(job->tiles, job->error, sizeof job->error);
    return NULL;
}

TileSet *tiles_load(const Snapshot *snapshot, Store *store, const TileSetOptions *options,
                    char *error, size_t error_size)
{
    TileSet *tiles = calloc(1, sizeof *tiles);
    if (!tiles) {
        snprintf(error, error_size, "tiles: out of memory");
        return NULL;
    }
    tiles->snapshot = snapshot;
    if (pthread_mutex_init(&tiles->simplify_lock, NULL) != 0) {
        free(tiles);
        snprintf(error, error_size, "tiles: cannot create a lock");
        return NULL;
    }
    TileSetOptions chosen = options ? *options : TILE_SET_DEFAULTS;
    tiles->allow_nocache = chosen.allow_nocache;
    tiles->cache = tile_cache_new(chosen.cache_bytes);
    if (!tiles->cache) {
        snprintf(error, error_size, "tiles: out of memory");
        tiles_free(tiles);
        return NULL;
    }
    /* The sites' layers need only the snapshot, the others only the
     * database: the first load in a second thread. */
    SitesJob job = {tiles, 0, ""};
    pthread_t thread;
    int threaded = pthread_create(&thread, NULL, load_sites_in_thread, &job) == 0;
    if (!threaded)
        load_sites_in_thread(&job);
    int status = tile_areas_load(tiles, store, error, error_size) == 0 &&
                         tile_etablissements_load(tiles, store, error, error_size) == 0 &&
                         tile_places_load(tiles, store, error, error_size) == 0
                     ? 0
                     : -1;
    if (threaded)
        pthread_join(thread, NULL);
    if (status == 0 && job.status != 0) {
        snprintf(error, error_size, "%s", job.error);
        status = -1;
    }
    if (status != 0) {
        tiles_free(tiles);
        return NULL;
    }
    return tiles;
}

void tiles_free(TileSet *tiles)
{
    if (!tiles)
        return;
    tile_sites_free(tiles);
    tile_areas_free(tiles);
    tile_etablissements_free(tiles);
    tile_places_free(tiles);
    for (size_t i = 0; i < tiles->owned_string_count; i++)
        free(tiles->owned_strings[i]);
    free(tiles->owned_strings);
    tile_cache_free(tiles->cache);
    pthread_mutex_destroy(&tiles->simplify_lock);
    free(tiles);
}

/* --- serving ----------------------------------------------------------------------- */

const Snapshot *tile_set_snapshot(const TileSet *tiles)
{
    return tiles->snapshot;
}

int tile_set_allows_nocache(const TileSet *tiles)
{
    return tiles->allow_nocache;
}

void tile_set_bounds(const TileSet *tiles, const TileLayerInfo *layer, double bounds[4])
{
    const double *source = layer->filtered && tiles->snapshot->site_count > 0 ? tiles->site_bounds
                                                                              : tiles->area_bounds;
    memcpy(bounds, source, 4 * sizeof *bounds);
}

/* Encodes the tile into `body`; returns 0, or -1 on failure. */
static int build_tile(TileSet *tiles, const TileLayerInfo *info, TileAddress address,
                      const TileFilter *filter, Buffer *body)
{
    if (address.z < info->minzoom)
        return 0;
    MvtLayer layer;
    mvt_layer_init(&layer, info->name);
    TileJob job = {tiles, address, *filter, NULL};
    int status = 0;
    const LayerEncoder *encoder = &ENCODERS[info - LAYERS];
    if (encoder->needs_geos) {
        job.geos = GEOS_init_r();
        if (!job.geos)
            status = -1;
    }
    if (status == 0)
        status = encoder->encode(&job, &layer);
    if (status == 0)
        status = mvt_layer_finish(&layer, body);
    if (job.geos)
        GEOS_finish_r(job.geos);
    mvt_layer_free(&layer);
    return status;
}

int tile_set_render(TileSet *tiles, const TileLayerInfo *layer, TileAddress address,
                    const TileFilter *filter, const char *cache_key, int use_cache, Buffer *out,
                    Buffer *gzip_out)
{
    assert(layer >= LAYERS && layer < LAYERS + LAYER_COUNT);
    assert(address.z >= 0 && address.z <= layer->maxzoom);
    assert(((uint64_t)address.x >> address.z) == 0 && ((uint64_t)address.y >> address.z) == 0);
    assert(use_cache || tiles->allow_nocache);
    int status;
    buffer_reset(out);
    if (use_cache && tile_cache_get(tiles->cache, cache_key, out, gzip_out, &status))
        return status;
    buffer_reset(out);
    if (build_tile(tiles, layer, address, filter, out) != 0 || out->failed)
        return -1;
    status = out->length ? 200 : 204;
    if (use_cache)
        tile_cache_put(tiles->cache, cache_key, out->data, out->length, status);
    return status;
}
