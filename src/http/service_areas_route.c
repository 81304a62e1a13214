/* service_areas_route.c — /api/service-areas; see service_areas_route.h.
 *
 * Owns: the GeoJSON shape of the answer and its cache in the dataset
 * (Dataset.answers, key "service-areas?<selection key>", dropped with the
 * dataset on reload). The cells come from index/service_areas.h; the
 * parameters are coverage_route.h's selection (`orpha` or `filiere`, with
 * `role` and `public`), with its 400 rules, and its language (CONTRACT:
 * `lang=fr|en`, else Accept-Language, else fr: the language of `label`
 * and `message`; the cache keys on it). The
 * answer (RFC 7946, application/geo+json):
 *
 *   {"type":"FeatureCollection",
 *    "query":{"orpha":586,"label":"Mucoviscidose","filiere":null,"role":null,"public":null,
 *             "lang":"fr"},
 *    "selected_sites":43, "positions":40,
 *    "population":<communes whose point is on the land>,
 *    "joined_territories":["971",...],   (territories with no position, joined whole)
 *    "features":[{"type":"Feature","id":"<first site_id>",
 *                 "geometry":Polygon | MultiPolygon | null (a position that serves no land),
 *                 "properties":{"site_ids":[...],"name":"<first site's name>",
 *                               "position":[lon,lat],"population":N,
 *                               "territories":["metropole",...]}}, ...],
 *    "message":"..."}                     (only when no site is selected)
 *
 * Features are ordered by their first site (site_id order), site_ids
 * sorted. Coordinates are written exactly: a value on the 1e-7 degree grid
 * (every vertex of the source land) with at most 7 decimals, any other
 * (a cell edge's vertex) with the shortest decimal that reads back as the
 * same double, so the polygons a client reads are the valid ones GEOS
 * made, bit for bit. */
#include "http/service_areas_route.h"

#include "base/json.h"
#include "dataset/dataset.h"
#include "http/coverage_route.h"
#include "index/service_areas.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Appends `value` exactly (see the header comment). */
static void put_coordinate(Buffer *out, double value)
{
    double scaled = value * 1e7;
    if (fabs(scaled) < 9e15) {
        double units = nearbyint(scaled);
        if (units / 1e7 == value) { /* on the grid: 7 decimals at most */
            char text[32];
            uint64_t magnitude = (uint64_t)fabs(units);
            uint64_t whole = magnitude / 10000000u, fraction = magnitude % 10000000u;
            int length = snprintf(text, sizeof text, "%s%llu", units < 0 ? "-" : "",
                                  (unsigned long long)whole);
            if (fraction) {
                int digits = 7;
                while (fraction % 10 == 0) {
                    fraction /= 10;
                    digits--;
                }
                length += snprintf(text + length, sizeof text - (size_t)length, ".%0*llu", digits,
                                   (unsigned long long)fraction);
            }
            buffer_append(out, text, (size_t)length);
            return;
        }
    }
    char text[40];
    int length = snprintf(text, sizeof text, "%.15g", value);
    if (strtod(text, NULL) != value)
        length = snprintf(text, sizeof text, "%.17g", value);
    buffer_append(out, text, (size_t)length);
}

/* [[[lon,lat],...],...] of polygon p. */
static void put_polygon(Buffer *out, const ServiceAreas *areas, uint32_t p)
{
    buffer_append_char(out, '[');
    for (uint32_t r = areas->polygon_rings[p]; r < areas->polygon_rings[p + 1]; r++) {
        buffer_append_string(out, r > areas->polygon_rings[p] ? ",[" : "[");
        for (uint32_t i = areas->ring_points[r]; i < areas->ring_points[r + 1]; i++) {
            buffer_append_string(out, i > areas->ring_points[r] ? ",[" : "[");
            put_coordinate(out, areas->points[2 * (size_t)i]);
            buffer_append_char(out, ',');
            put_coordinate(out, areas->points[2 * (size_t)i + 1]);
            buffer_append_char(out, ']');
        }
        buffer_append_char(out, ']');
    }
    buffer_append_char(out, ']');
}

/* The geometry of one area, written raw after json_key("geometry"). */
static void write_geometry(JsonWriter *json, const ServiceAreas *areas, const ServiceArea *area)
{
    if (area->polygon_count == 0) {
        json_null(json);
        return;
    }
    Buffer geometry;
    buffer_init(&geometry);
    buffer_append_string(&geometry, area->polygon_count == 1
                                        ? "{\"type\":\"Polygon\",\"coordinates\":"
                                        : "{\"type\":\"MultiPolygon\",\"coordinates\":[");
    for (uint32_t k = 0; k < area->polygon_count; k++) {
        if (k > 0)
            buffer_append_char(&geometry, ',');
        put_polygon(&geometry, areas, areas->area_polygons[area->polygon_start + k]);
    }
    buffer_append_string(&geometry, area->polygon_count == 1 ? "}" : "]}");
    if (geometry.failed)
        json->out->failed = 1;
    else
        json_raw(json, geometry.data, geometry.length);
    buffer_free(&geometry);
}

static void write_territories(JsonWriter *json, uint32_t territories)
{
    json_begin_array(json);
    for (unsigned t = 0; t < TERRITORY_COUNT; t++)
        if (territories >> t & 1u)
            json_string(json, territory_code(t));
    json_end_array(json);
}

static void write_feature(JsonWriter *json, const Snapshot *snapshot, const ServiceAreas *areas,
                          const ServiceArea *area)
{
    const Site *first = &snapshot->sites[areas->sites[area->site_start]];
    json_begin_object(json);
    json_key(json, "type");
    json_string(json, "Feature");
    json_key(json, "id");
    json_string(json, site_id_text(snapshot, first));
    json_key(json, "geometry");
    write_geometry(json, areas, area);
    json_key(json, "properties");
    json_begin_object(json);
    json_key(json, "site_ids");
    json_begin_array(json);
    for (uint32_t k = 0; k < area->site_count; k++)
        json_string(json,
                    site_id_text(snapshot, &snapshot->sites[areas->sites[area->site_start + k]]));
    json_end_array(json);
    json_key(json, "name");
    json_string_or_null(json, snapshot_text(snapshot, first->name));
    json_key(json, "position");
    Buffer position;
    buffer_init(&position);
    buffer_append_char(&position, '[');
    put_coordinate(&position, area->lon);
    buffer_append_char(&position, ',');
    put_coordinate(&position, area->lat);
    buffer_append_char(&position, ']');
    if (position.failed)
        json->out->failed = 1;
    else
        json_raw(json, position.data, position.length);
    buffer_free(&position);
    json_key(json, "population");
    json_integer(json, area->population);
    json_key(json, "territories");
    write_territories(json, area->territories);
    json_end_object(json);
    json_end_object(json);
}

static void write_answer(Buffer *body, const Snapshot *snapshot, const CoverageSelection *selection,
                         const ServiceAreas *areas)
{
    int english = selection->language == LANGUAGE_ENGLISH;
    const Condition *condition = selection->sites.condition;
    JsonWriter json;
    json_init(&json, body);
    json_begin_object(&json);
    json_key(&json, "type");
    json_string(&json, "FeatureCollection");
    json_key(&json, "query");
    json_begin_object(&json);
    json_key(&json, "orpha");
    if (condition)
        json_integer(&json, condition->orpha);
    else
        json_null(&json);
    json_key(&json, "label");
    json_string_or_null(&json, condition ? condition_label(condition, selection->language) : NULL);
    json_key(&json, "filiere");
    json_string_or_null(&json, selection->filiere);
    json_key(&json, "role");
    json_string_or_null(&json, selection->sites.role_text);
    json_key(&json, "public");
    json_string_or_null(&json, selection->sites.public_text);
    json_key(&json, "lang");
    json_string(&json, english ? "en" : "fr");
    json_end_object(&json);
    json_key(&json, "selected_sites");
    json_integer(&json, (int64_t)areas->site_count);
    json_key(&json, "positions");
    json_integer(&json, (int64_t)areas->area_count);
    json_key(&json, "population");
    json_integer(&json, areas->land_population);
    json_key(&json, "joined_territories");
    write_territories(&json, areas->joined_territories);
    json_key(&json, "features");
    json_begin_array(&json);
    for (size_t a = 0; a < areas->area_count; a++)
        write_feature(&json, snapshot, areas, &areas->areas[a]);
    json_end_array(&json);
    if (areas->site_count == 0) {
        char message[512];
        const char *label = condition ? condition_label(condition, selection->language) : NULL;
        const char *filiere = selection->filiere ? selection->filiere : "";
        if (condition && english)
            snprintf(message, sizeof message,
                     "No site of the network covers \"%s\" (ORPHA:%d), directly or through a "
                     "group that contains it: no area to serve.",
                     label ? label : "", (int)condition->orpha);
        else if (condition)
            snprintf(message, sizeof message,
                     "Aucun site du réseau ne couvre « %s » (ORPHA:%d), ni directement ni par un "
                     "groupe qui le contient : aucune zone à desservir.",
                     label ? label : "", (int)condition->orpha);
        else if (english)
            snprintf(message, sizeof message,
                     "No site of the network belongs to the %s filière with these filters: no "
                     "area to serve.",
                     filiere);
        else
            snprintf(message, sizeof message,
                     "Aucun site du réseau ne relève de la filière %s avec ces filtres : aucune "
                     "zone à desservir.",
                     filiere);
        json_key(&json, "message");
        json_string(&json, message);
    }
    json_end_object(&json);
}

void api_service_areas(const Request *request, Response *response, const char *rest)
{
    (void)rest;
    const Dataset *dataset = request->dataset;
    CoverageSelection selection;
    if (coverage_selection_parse(request, dataset->snapshot, &selection, response) != 0)
        return;
    char key[256];
    snprintf(key, sizeof key, "service-areas?%s&lang=%s", selection.key,
             selection.language == LANGUAGE_ENGLISH ? "en" : "fr");
    response->content_type = "application/geo+json";
    int status;
    if (tile_cache_get(dataset->answers, key, &response->body,
                       request->accepts_gzip ? &response->gzip_body : NULL, &status)) {
        response->status = status;
        return;
    }
    buffer_reset(&response->body);
    ServiceAreaQuery query = {selection.sites.condition, selection.sites.filter};
    ServiceAreas areas;
    char error[320];
    int computed = service_areas_compute(dataset->service_land, dataset->index, dataset->snapshot,
                                         dataset->communes, &query, &areas, error, sizeof error);
    if (computed != 0) {
        if (computed == -1)
            response_problem(response, 503, "Service unavailable",
                             "the server ran out of memory while answering; retry later");
        else
            response_problem(response, 500, "Internal error", "%s", error);
        return;
    }
    write_answer(&response->body, dataset->snapshot, &selection, &areas);
    service_areas_free(&areas);
    response_finish(response);
    if (response->status == 200)
        tile_cache_put(dataset->answers, key, response->body.data, response->body.length, 200);
}
