/* tiles.c — the tile paths and the TileSet; see tiles.h.
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
 * `sites` and `network` take the filters orpha (with the classification
 * expansion of /api/nearest), role (comma list) and public, validated like
 * the API (400 for an unknown code or role). A network link is kept when
 * both its ends pass the filters.
 *
 * Answers: 200 with the tile; 204 No Content with an empty body when the
 * tile has no feature (also below a layer's minzoom); 400 for z/x/y that
 * are not decimal integers, outside the grid, or z beyond maxzoom; 404 for
 * an unknown layer or path under /tiles/. Encoded tiles are cached per
 * TileSet (tile_cache.h) keyed by layer/z/x/y and the normalised filters.
 * Benchmarks: when the server was started with MAILLAGE_BENCH=1 in its
 * environment, `nocache=1` builds the tile without reading or filling the
 * cache (ignored otherwise). */
#include "tiles.h"
#include "site_parameters.h"
#include "json.h"
#include "text.h"
#include "tile_layers.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char ATTRIBUTION[] =
    "Orphanet (INSERM) CC BY 4.0; FINESS, Ministère de la Santé, Licence Ouverte / Etalab 2.0; "
    "IGN Admin Express and INSEE COG, Licence Ouverte / Etalab 2.0";

typedef struct LayerInfo {
    const char *name, *description;
    int minzoom, maxzoom;
    int filtered;   /* takes orpha, role, public */
    int needs_geos; /* polygon pipeline */
    int (*encode)(TileJob *job, MvtLayer *layer);
    const char *fields; /* TileJSON vector_layers fields, as JSON */
} LayerInfo;

static const LayerInfo LAYERS[] = {
    {"sites",
     "Care-network sites. A 16 x 16 grid of cells per tile: at z <= 8 a cell whose sites lie at "
     "two positions or more is one cluster, at z 9..15 only when it also holds more than 8 "
     "sites, never at z 16 (cluster, point_count, expansion_zoom); "
     "sites at one exact position fold into one point with count and '|'-joined site_ids, "
     "names, centre_labels, roles (first 100).",
     0, 16, 1, 0, tile_encode_sites,
     "{\"count\":\"Number\",\"site_id\":\"String\",\"name\":\"String\",\"role\":\"String\","
     "\"centre_label\":\"String\",\"filiere\":\"String\",\"finess\":\"String\",\"city\":\"String\","
     "\"public\":\"String\",\"site_ids\":\"String\",\"names\":\"String\","
     "\"centre_labels\":\"String\",\"roles\":\"String\",\"lists_truncated\":\"Boolean\","
     "\"cluster\":\"Boolean\",\"point_count\":\"Number\",\"expansion_zoom\":\"Number\"}"},
    {"network",
     "Links from each site to its coordinating site and to the sites it cooperates with. Links "
     "whose ends fall in the same cells of a grid (256 tile units at z <= 8, 64 at z 9..13, 1 "
     "at z 14) are drawn once, as the first of them, with their count; links shorter than the "
     "grid are left out at that zoom; a tile keeps the 4096 bundles with the most links.",
     0, 14, 1, 0, tile_encode_network,
     "{\"kind\":\"String\",\"from\":\"String\",\"to\":\"String\",\"count\":\"Number\"}"},
    {"areas", "Départements and régions with their population.", 0, 14, 0, 1, tile_encode_areas,
     "{\"level\":\"String\",\"code\":\"String\",\"name\":\"String\",\"population\":\"Number\","
     "\"region\":\"String\"}"},
    {"basemap",
     "Land, coastline (the outline of the territory: coasts and national borders) and région and "
     "département boundaries, overseas départements included.",
     0, 14, 0, 1, tile_encode_basemap, "{\"kind\":\"String\",\"level\":\"String\"}"},
    {"etablissements",
     "FINESS hospital-type établissements, as context; in_network says that a care-network "
     "site names its FINESS number.",
     8, 16, 0, 0, tile_encode_etablissements,
     "{\"finess\":\"String\",\"name\":\"String\",\"city\":\"String\","
     "\"facility_type\":\"String\",\"in_network\":\"Boolean\"}"},
};

#define LAYER_COUNT (sizeof LAYERS / sizeof LAYERS[0])

/* --- loading ------------------------------------------------------------------------ */

const char *tile_keep_string(TileSet *tiles, const char *text, int *failed)
{
    if (!text || !*text)
        return NULL;
    if (tiles->owned_string_count == tiles->owned_string_capacity) {
        size_t capacity = tiles->owned_string_capacity ? tiles->owned_string_capacity * 2 : 1024;
        char **grown = realloc(tiles->owned_strings, capacity * sizeof *grown);
        if (!grown) {
            *failed = 1;
            return NULL;
        }
        tiles->owned_strings = grown;
        tiles->owned_string_capacity = capacity;
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

struct TileSet *tiles_load(const Snapshot *snapshot, Store *store, char *error, size_t error_size)
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
    const char *bench = getenv("MAILLAGE_BENCH");
    tiles->allow_nocache = bench && strcmp(bench, "1") == 0;
    tiles->cache = tile_cache_new(TILE_CACHE_BYTES);
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
                         tile_etablissements_load(tiles, store, error, error_size) == 0
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

void tiles_free(struct TileSet *tiles)
{
    if (!tiles)
        return;
    tile_sites_free(tiles);
    tile_areas_free(tiles);
    tile_etablissements_free(tiles);
    for (size_t i = 0; i < tiles->owned_string_count; i++)
        free(tiles->owned_strings[i]);
    free(tiles->owned_strings);
    tile_cache_free(tiles->cache);
    pthread_mutex_destroy(&tiles->simplify_lock);
    free(tiles);
}

/* --- parameters --------------------------------------------------------------------- */

/* The filters of `sites` and `network`, with `query` set to the canonical
 * query string (for cache keys and TileJSON URLs). Returns 0, or -1 after
 * writing a 400 problem. */
static int parse_filter(const Request *request, const Snapshot *snapshot, TileFilter *filter,
                        char *query, size_t query_size, Response *response)
{
    SiteParameters parameters;
    if (site_parameters_parse(request, snapshot, &parameters, response) != 0)
        return -1;
    filter->sites = parameters.filter;
    filter->condition = parameters.condition;
    query[0] = 0;
    size_t used = 0;
    if (parameters.condition)
        used += (size_t)snprintf(query + used, query_size - used, "orpha=%lld",
                                 (long long)parameters.condition->orpha);
    if (parameters.role_text) {
        used += (size_t)snprintf(query + used, query_size - used, "%srole=", used ? "&" : "");
        int first = 1;
        for (int role = 0; role < ROLE_COUNT && used < query_size; role++) {
            if (!(parameters.filter.role_mask >> role & 1u))
                continue;
            used += (size_t)snprintf(query + used, query_size - used, "%s%s", first ? "" : ",",
                                     role_name((Role)role));
            first = 0;
        }
    }
    if (parameters.public_text && used < query_size)
        used += (size_t)snprintf(query + used, query_size - used, "%spublic=%s", used ? "&" : "",
                                 parameters.public_text);
    if (used >= query_size)
        query[query_size - 1] = 0;
    return 0;
}

static const LayerInfo *find_layer(const char *name, size_t length)
{
    for (size_t i = 0; i < LAYER_COUNT; i++)
        if (strlen(LAYERS[i].name) == length && memcmp(LAYERS[i].name, name, length) == 0)
            return &LAYERS[i];
    return NULL;
}

/* A tile coordinate: 1 to 10 decimal digits. Returns 0, or -1. */
static int parse_coordinate(const char *text, size_t length, uint64_t *value)
{
    if (length == 0 || length > 10)
        return -1;
    uint64_t parsed = 0;
    for (size_t i = 0; i < length; i++) {
        if (!isdigit((unsigned char)text[i]))
            return -1;
        parsed = parsed * 10 + (uint64_t)(text[i] - '0');
    }
    *value = parsed;
    return 0;
}

/* --- TileJSON ---------------------------------------------------------------------- */

static void bounds_of(const TileSet *tiles, const LayerInfo *layer, double bounds[4])
{
    const double *source = layer->filtered && tiles->snapshot->site_count > 0 ? tiles->site_bounds
                                                                              : tiles->area_bounds;
    memcpy(bounds, source, 4 * sizeof *bounds);
}

static void write_tilejson(JsonWriter *json, const TileSet *tiles, const LayerInfo *layer,
                           const char *query)
{
    char url[512];
    snprintf(url, sizeof url, "/tiles/%s/{z}/{x}/{y}.mvt%s%s", layer->name, *query ? "?" : "",
             query);
    double bounds[4];
    bounds_of(tiles, layer, bounds);
    json_begin_object(json);
    json_key(json, "tilejson");
    json_string(json, "3.0.0");
    json_key(json, "name");
    json_string(json, layer->name);
    json_key(json, "description");
    json_string(json, layer->description);
    json_key(json, "attribution");
    json_string(json, ATTRIBUTION);
    json_key(json, "scheme");
    json_string(json, "xyz");
    json_key(json, "tiles");
    json_begin_array(json);
    json_string(json, url);
    json_end_array(json);
    json_key(json, "minzoom");
    json_integer(json, layer->minzoom);
    json_key(json, "maxzoom");
    json_integer(json, layer->maxzoom);
    json_key(json, "bounds");
    json_begin_array(json);
    for (int i = 0; i < 4; i++)
        json_double(json, bounds[i], 6);
    json_end_array(json);
    json_key(json, "vector_layers");
    json_begin_array(json);
    json_begin_object(json);
    json_key(json, "id");
    json_string(json, layer->name);
    json_key(json, "description");
    json_string(json, layer->description);
    json_key(json, "minzoom");
    json_integer(json, layer->minzoom);
    json_key(json, "maxzoom");
    json_integer(json, layer->maxzoom);
    json_key(json, "fields");
    json_raw(json, layer->fields, strlen(layer->fields));
    json_end_object(json);
    json_end_array(json);
    json_key(json, "empty_tile");
    json_string(json, "204 No Content");
    json_end_object(json);
}

static void answer_catalogue(const TileSet *tiles, Response *response)
{
    JsonWriter json;
    json_init(&json, &response->body);
    json_begin_object(&json);
    json_key(&json, "attribution");
    json_string(&json, ATTRIBUTION);
    json_key(&json, "layers");
    json_begin_array(&json);
    for (size_t i = 0; i < LAYER_COUNT; i++)
        write_tilejson(&json, tiles, &LAYERS[i], "");
    json_end_array(&json);
    json_end_object(&json);
}

/* --- tiles ----------------------------------------------------------------------------- */

/* Builds the tile into response->body; returns 0, or -1 on failure. */
static int build_tile(TileSet *tiles, const LayerInfo *info, TileAddress address,
                      const TileFilter *filter, Buffer *body)
{
    if (address.z < info->minzoom)
        return 0;
    MvtLayer layer;
    mvt_layer_init(&layer, info->name);
    TileJob job = {tiles, address, *filter, NULL};
    int status = 0;
    if (info->needs_geos) {
        job.geos = GEOS_init_r();
        if (!job.geos)
            status = -1;
    }
    if (status == 0)
        status = info->encode(&job, &layer);
    if (status == 0)
        status = mvt_layer_finish(&layer, body);
    if (job.geos)
        GEOS_finish_r(job.geos);
    mvt_layer_free(&layer);
    return status;
}

static void answer_tile(TileSet *tiles, const LayerInfo *info, const Request *request,
                        const char *coordinates, Response *response)
{
    /* coordinates: "{z}/{x}/{y}.mvt" */
    const char *slash1 = strchr(coordinates, '/');
    const char *slash2 = slash1 ? strchr(slash1 + 1, '/') : NULL;
    const char *dot = slash2 ? strrchr(slash2 + 1, '.') : NULL;
    if (!slash2 || strchr(slash2 + 1, '/') || !dot || strcmp(dot, ".mvt") != 0) {
        response_problem(response, 404, "Not found", "tile paths are /tiles/%s/{z}/{x}/{y}.mvt",
                         info->name);
        return;
    }
    uint64_t z, x, y;
    if (parse_coordinate(coordinates, (size_t)(slash1 - coordinates), &z) != 0 ||
        parse_coordinate(slash1 + 1, (size_t)(slash2 - slash1 - 1), &x) != 0 ||
        parse_coordinate(slash2 + 1, (size_t)(dot - slash2 - 1), &y) != 0) {
        response_problem(response, 400, "Invalid tile address",
                         "z, x and y must be non-negative decimal integers");
        return;
    }
    if (z > (uint64_t)info->maxzoom) {
        response_problem(response, 400, "Zoom out of range",
                         "the layer '%s' has zoom levels %d to %d, got %llu", info->name,
                         info->minzoom, info->maxzoom, (unsigned long long)z);
        return;
    }
    uint64_t size = (uint64_t)1 << z;
    if (x >= size || y >= size) {
        response_problem(response, 400, "Tile out of range",
                         "at zoom %llu, x and y must be below %llu", (unsigned long long)z,
                         (unsigned long long)size);
        return;
    }
    TileFilter filter;
    site_filter_init(&filter.sites);
    filter.condition = NULL;
    char query[256] = "";
    if (info->filtered &&
        parse_filter(request, tiles->snapshot, &filter, query, sizeof query, response) != 0)
        return;
    int bypass = 0;
    const char *nocache;
    if (tiles->allow_nocache && request_text(request, "nocache", &nocache, response) > 0)
        bypass = strcmp(nocache, "1") == 0;
    char key[512];
    snprintf(key, sizeof key, "%s/%llu/%llu/%llu?%s", info->name, (unsigned long long)z,
             (unsigned long long)x, (unsigned long long)y, query);
    response->content_type = "application/vnd.mapbox-vector-tile";
    int status;
    if (!bypass && tile_cache_get(tiles->cache, key, &response->body, &status)) {
        response->status = status;
        return;
    }
    buffer_reset(&response->body);
    TileAddress address = {(int)z, (uint32_t)x, (uint32_t)y};
    if (build_tile(tiles, info, address, &filter, &response->body) != 0 || response->body.failed) {
        response_problem(response, 503, "Tile unavailable",
                         "the tile could not be built (out of memory); try again");
        return;
    }
    response->status = response->body.length ? 200 : 204;
    if (!bypass)
        tile_cache_put(tiles->cache, key, response->body.data, response->body.length,
                       response->status);
}

int tiles_handle(const Request *request, Response *response)
{
    const char *path = request->path;
    int catalogue = strcmp(path, "/tiles.json") == 0;
    if (!catalogue && strncmp(path, "/tiles/", 7) != 0)
        return 0;
    TileSet *tiles = request->snapshot ? request->snapshot->tiles : NULL;
    if (!tiles) {
        response_problem(response, 503, "Tiles unavailable",
                         "the tile layers of this dataset could not be prepared");
        return 1;
    }
    if (catalogue) {
        answer_catalogue(tiles, response);
        return 1;
    }
    const char *rest = path + 7;
    size_t name_length = strcspn(rest, "/");
    size_t rest_length = strlen(rest);
    if (rest[name_length] == 0 && rest_length > 5 && strcmp(rest + rest_length - 5, ".json") == 0) {
        const LayerInfo *info = find_layer(rest, rest_length - 5);
        if (!info) {
            response_problem(response, 404, "Unknown layer",
                             "no tile layer named '%.*s'; /tiles.json lists them",
                             (int)(rest_length - 5), rest);
            return 1;
        }
        TileFilter filter;
        char query[256] = "";
        if (info->filtered &&
            parse_filter(request, tiles->snapshot, &filter, query, sizeof query, response) != 0)
            return 1;
        JsonWriter json;
        json_init(&json, &response->body);
        write_tilejson(&json, tiles, info, query);
        return 1;
    }
    const LayerInfo *info = find_layer(rest, name_length);
    if (!info || rest[name_length] != '/') {
        response_problem(response, 404, "Unknown layer",
                         "no tile layer named '%.*s'; /tiles.json lists them",
                         (int)(name_length > 64 ? 64 : name_length), rest);
        return 1;
    }
    answer_tile(tiles, info, request, rest + name_length + 1, response);
    return 1;
}
