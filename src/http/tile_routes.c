/* tile_routes.c — the tile paths over HTTP; see tile_routes.h.
 *
 * Answers: 200 with the tile; 204 No Content with an empty body when the
 * tile has no feature (also below a layer's minzoom); 400 for z/x/y that
 * are not decimal integers, outside the grid, or z beyond maxzoom; 404 for
 * an unknown layer or path under /tiles/. `sites` and `network` take orpha,
 * role and public, validated like the API (site_parameters.h); the cache
 * key is the layer, z/x/y and the normalised filter. Benchmarks: when the
 * dataset was loaded with tiles allow_nocache (`serve` under
 * MAILLAGE_BENCH=1), `nocache=1` renders without the cache. */
#include "http/tile_routes.h"

#include "base/json.h"
#include "dataset/dataset.h"
#include "http/site_parameters.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    site_parameters_key(&parameters, query, query_size);
    return 0;
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

static void write_tilejson(JsonWriter *json, const TileSet *tiles, const TileLayerInfo *layer,
                           const char *query)
{
    char url[512];
    snprintf(url, sizeof url, "/tiles/%s/{z}/{x}/{y}.mvt%s%s", layer->name, *query ? "?" : "",
             query);
    double bounds[4];
    tile_set_bounds(tiles, layer, bounds);
    json_begin_object(json);
    json_key(json, "tilejson");
    json_string(json, "3.0.0");
    json_key(json, "name");
    json_string(json, layer->name);
    json_key(json, "description");
    json_string(json, layer->description);
    json_key(json, "attribution");
    json_string(json, TILE_ATTRIBUTION);
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
    json_string(&json, TILE_ATTRIBUTION);
    json_key(&json, "layers");
    json_begin_array(&json);
    size_t layer_count;
    const TileLayerInfo *layers = tile_layers(&layer_count);
    for (size_t i = 0; i < layer_count; i++)
        write_tilejson(&json, tiles, &layers[i], "");
    json_end_array(&json);
    json_end_object(&json);
}

/* --- tiles ----------------------------------------------------------------------------- */

static void answer_tile(TileSet *tiles, const TileLayerInfo *info, const Request *request,
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
    if (info->filtered && parse_filter(request, tile_set_snapshot(tiles), &filter, query,
                                       sizeof query, response) != 0)
        return;
    int bypass = 0;
    const char *nocache;
    if (tile_set_allows_nocache(tiles) && request_text(request, "nocache", &nocache, response) > 0)
        bypass = strcmp(nocache, "1") == 0;
    char key[512];
    snprintf(key, sizeof key, "%s/%llu/%llu/%llu?%s", info->name, (unsigned long long)z,
             (unsigned long long)x, (unsigned long long)y, query);
    response->content_type = "application/vnd.mapbox-vector-tile";
    TileAddress address = {(int)z, (uint32_t)x, (uint32_t)y};
    int status = tile_set_render(tiles, info, address, &filter, key, !bypass, &response->body,
                                 request->accepts_gzip ? &response->gzip_body : NULL);
    if (status < 0) {
        response_problem(response, 503, "Tile unavailable",
                         "the tile could not be built (out of memory); try again");
        return;
    }
    response->status = status;
}

void tile_catalogue(const Request *request, Response *response, const char *rest)
{
    (void)rest;
    answer_catalogue(request->dataset->tiles, response);
    response_finish(response);
}

void tile_answer(const Request *request, Response *response, const char *rest)
{
    TileSet *tiles = request->dataset->tiles;
    static const char tilejson_suffix[] = ".json"; /* /tiles/{layer}.json */
    const size_t suffix_length = sizeof tilejson_suffix - 1;
    size_t name_length = strcspn(rest, "/");
    size_t rest_length = strlen(rest);
    if (rest[name_length] == 0 && rest_length > suffix_length &&
        strcmp(rest + rest_length - suffix_length, tilejson_suffix) == 0) {
        size_t layer_length = rest_length - suffix_length;
        const TileLayerInfo *info = tile_layer_find(rest, layer_length);
        if (!info) {
            response_problem(response, 404, "Unknown layer",
                             "no tile layer named '%.*s'; /tiles.json lists them",
                             (int)layer_length, rest);
            return;
        }
        TileFilter filter;
        char query[256] = "";
        if (info->filtered && parse_filter(request, tile_set_snapshot(tiles), &filter, query,
                                           sizeof query, response) != 0)
            return;
        JsonWriter json;
        json_init(&json, &response->body);
        write_tilejson(&json, tiles, info, query);
        response_finish(response);
        return;
    }
    const TileLayerInfo *info = tile_layer_find(rest, name_length);
    if (!info || rest[name_length] != '/') {
        response_problem(response, 404, "Unknown layer",
                         "no tile layer named '%.*s'; /tiles.json lists them",
                         (int)(name_length > 64 ? 64 : name_length), rest);
        return;
    }
    answer_tile(tiles, info, request, rest + name_length + 1, response);
}
