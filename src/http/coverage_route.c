/* coverage_route.c — /api/coverage and the coverage site selection; see
 * coverage_route.h. The figures come from index/coverage.h; this file
 * parses, caches and writes them:
 *
 *   {"query":{"orpha":586,"label":"Mucoviscidose","filiere":null,"radius_km":100,
 *             "level":"departement","role":null,"public":null},
 *    "selected_sites":43,
 *    "total":{figures of France},
 *    "territories":[{figures of metropolitan France, then each overseas département}],
 *    "results":[{figures of each area, by code}],
 *    "message":"..."}                                (only when no site is selected)
 *
 * where figures are {"code","name","population","covered_population","share",
 * "median_km","p90_km","without_point_population","serving_site"}, share a
 * fraction in [0, 1] (0 for an empty area), the distances null when no
 * commune of the area has a nearest site, serving_site {"site_id","name",
 * "population"} or null; areas also carry "territory" (and départements
 * their "region"). "query" also says the language of the texts ("lang":
 * "fr" or "en"): the label, the message and the territories' names; the
 * areas' names are proper names, the same in both. */
#include "http/coverage_route.h"

#include "base/json.h"
#include "dataset/dataset.h"
#include "index/coverage.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define COVERAGE_MAX_RADIUS_KM 2000

int coverage_selection_parse(const Request *request, const Snapshot *snapshot,
                             CoverageSelection *selection, Response *response)
{
    memset(selection, 0, sizeof *selection);
    if (site_parameters_parse(request, snapshot, &selection->sites, response) != 0 ||
        request_language(request, &selection->language, response) != 0)
        return -1;
    const char *name = NULL;
    int given = request_text(request, "filiere", &name, response);
    if (given < 0)
        return -1;
    if (given > 0 && selection->sites.condition) {
        response_problem(response, 400, "Invalid parameters",
                         "give either 'orpha' or 'filiere', not both");
        return -1;
    }
    if (given == 0 && !selection->sites.condition) {
        response_problem(response, 400, "Missing parameter",
                         "the parameter 'orpha' (an ORPHAcode) or 'filiere' (a filière name such "
                         "as MUCO) is required");
        return -1;
    }
    if (given > 0) {
        selection->filiere = snapshot_filiere(snapshot, name);
        if (!selection->filiere) {
            response_problem(response, 400, "Unknown filière",
                             "'%.64s' is not one of the filières of this dataset (such as MUCO, "
                             "OSCAR, MARIH)",
                             name);
            return -1;
        }
        selection->sites.filter.filiere = selection->filiere;
    }
    char sites_key[128];
    site_parameters_key(&selection->sites, sites_key, sizeof sites_key);
    if (selection->filiere)
        snprintf(selection->key, sizeof selection->key, "%s%sfiliere=%s", sites_key,
                 sites_key[0] ? "&" : "", selection->filiere);
    else
        snprintf(selection->key, sizeof selection->key, "%s", sites_key);
    return 0;
}

/* radius_km in (0, 2000] and level departement|region (default departement). */
static int parse_coverage_parameters(const Request *request, double *radius_km, int *by_region,
                                     Response *response)
{
    if (request_required_decimal(request, "radius_km", 0, COVERAGE_MAX_RADIUS_KM, radius_km,
                                 response) != 0)
        return -1;
    if (!(*radius_km > 0)) {
        response_problem(response, 400, "Invalid parameter",
                         "the parameter 'radius_km' must be above 0 and at most %d",
                         COVERAGE_MAX_RADIUS_KM);
        return -1;
    }
    const char *level = "departement";
    if (request_text(request, "level", &level, response) < 0)
        return -1;
    if (strcmp(level, "departement") != 0 && strcmp(level, "region") != 0) {
        response_problem(response, 400, "Invalid parameter",
                         "the parameter 'level' must be departement or region, got '%.32s'", level);
        return -1;
    }
    *by_region = strcmp(level, "region") == 0;
    return 0;
}

static void write_distance(JsonWriter *json, const char *key, double kilometres)
{
    json_key(json, key);
    if (isnan(kilometres))
        json_null(json);
    else
        json_double(json, kilometres, 1);
}

/* The members of one area's figures (inside its object). */
static void write_figures(JsonWriter *json, const Snapshot *snapshot, const char *code,
                          const char *name, const CoverageFigures *figures)
{
    json_key(json, "code");
    json_string(json, code);
    json_key(json, "name");
    json_string(json, name);
    json_key(json, "population");
    json_integer(json, figures->population);
    json_key(json, "covered_population");
    json_integer(json, figures->covered);
    json_key(json, "share");
    json_double(
        json, figures->population > 0 ? (double)figures->covered / (double)figures->population : 0,
        4);
    write_distance(json, "median_km", figures->median_km);
    write_distance(json, "p90_km", figures->p90_km);
    json_key(json, "without_point_population");
    json_integer(json, figures->without_point);
    json_key(json, "serving_site");
    if (figures->serving_site == SITE_NONE) {
        json_null(json);
        return;
    }
    const Site *site = &snapshot->sites[figures->serving_site];
    json_begin_object(json);
    json_key(json, "site_id");
    json_string(json, site_id_text(snapshot, site));
    json_key(json, "name");
    json_string_or_null(json, snapshot_text(snapshot, site->name));
    json_key(json, "population");
    json_integer(json, figures->serving_population);
    json_end_object(json);
}

static void write_query(JsonWriter *json, const CoverageSelection *selection, double radius_km,
                        int by_region)
{
    const Condition *condition = selection->sites.condition;
    json_key(json, "query");
    json_begin_object(json);
    json_key(json, "orpha");
    if (condition)
        json_integer(json, condition->orpha);
    else
        json_null(json);
    json_key(json, "label");
    json_string_or_null(json, condition ? condition_label(condition, selection->language) : NULL);
    json_key(json, "filiere");
    json_string_or_null(json, selection->filiere);
    json_key(json, "radius_km");
    json_double(json, radius_km, 3);
    json_key(json, "level");
    json_string(json, by_region ? "region" : "departement");
    json_key(json, "role");
    json_string_or_null(json, selection->sites.role_text);
    json_key(json, "public");
    json_string_or_null(json, selection->sites.public_text);
    json_key(json, "lang");
    json_string(json, selection->language == LANGUAGE_ENGLISH ? "en" : "fr");
    json_end_object(json);
}

static void write_areas(JsonWriter *json, const Dataset *dataset, const Coverage *coverage,
                        int by_region)
{
    const Communes *communes = dataset->communes;
    const AdminArea *areas = by_region ? communes->regions : communes->departements;
    const CoverageFigures *figures = by_region ? coverage->regions : coverage->departements;
    size_t count = by_region ? communes->region_count : communes->departement_count;
    json_key(json, "results");
    json_begin_array(json);
    for (size_t a = 0; a < count; a++) {
        json_begin_object(json);
        write_figures(json, dataset->snapshot, areas[a].code, areas[a].name, &figures[a]);
        json_key(json, "territory");
        json_string(json, territory_code(areas[a].territory));
        if (!by_region) {
            json_key(json, "region");
            json_string_or_null(json, areas[a].region == COMMUNES_NONE
                                          ? NULL
                                          : communes->regions[areas[a].region].code);
        }
        json_end_object(json);
    }
    json_end_array(json);
}

/* The message of an answer without any selected site, in its language. */
static void write_empty_message(const CoverageSelection *selection, char *message, size_t size)
{
    const Condition *condition = selection->sites.condition;
    const char *label = condition ? condition_label(condition, selection->language) : NULL;
    int english = selection->language == LANGUAGE_ENGLISH;
    if (condition && english)
        snprintf(message, size,
                 "No site of the network covers \"%s\" (ORPHA:%d), directly or through a group "
                 "that contains it: nobody is covered.",
                 label ? label : "", (int)condition->orpha);
    else if (condition)
        snprintf(message, size,
                 "Aucun site du réseau ne couvre « %s » (ORPHA:%d), ni directement ni par un "
                 "groupe qui le contient : personne n'est couvert.",
                 label ? label : "", (int)condition->orpha);
    else if (english)
        snprintf(message, size,
                 "No site of the network belongs to the %s filière with these filters: nobody is "
                 "covered.",
                 selection->filiere);
    else
        snprintf(message, size,
                 "Aucun site du réseau ne relève de la filière %s avec ces filtres : "
                 "personne n'est couvert.",
                 selection->filiere);
}

static void write_answer(Buffer *body, const Dataset *dataset, const CoverageSelection *selection,
                         const Coverage *coverage, double radius_km, int by_region)
{
    JsonWriter json;
    json_init(&json, body);
    json_begin_object(&json);
    write_query(&json, selection, radius_km, by_region);
    json_key(&json, "selected_sites");
    json_integer(&json, (int64_t)coverage->selected_sites);
    json_key(&json, "total");
    json_begin_object(&json);
    write_figures(&json, dataset->snapshot, "FR", "France", &coverage->total);
    json_end_object(&json);
    json_key(&json, "territories");
    json_begin_array(&json);
    for (unsigned t = 0; t < TERRITORY_COUNT; t++) {
        json_begin_object(&json);
        write_figures(&json, dataset->snapshot, territory_code(t),
                      territory_name(t, selection->language), &coverage->territories[t]);
        json_end_object(&json);
    }
    json_end_array(&json);
    write_areas(&json, dataset, coverage, by_region);
    if (coverage->selected_sites == 0) {
        char message[768];
        write_empty_message(selection, message, sizeof message);
        json_key(&json, "message");
        json_string(&json, message);
    }
    json_end_object(&json);
}

/* One CSV field (RFC 4180: quoted when it holds a comma, a quote or a line
 * break; quotes doubled), then `end` (',' or '\n'). */
static void csv_field(Buffer *out, const char *text, char end)
{
    text = text ? text : "";
    if (strpbrk(text, ",\"\r\n")) {
        buffer_append_char(out, '"');
        for (const char *p = text; *p; p++) {
            if (*p == '"')
                buffer_append_char(out, '"');
            buffer_append_char(out, *p);
        }
        buffer_append_char(out, '"');
    } else {
        buffer_append_string(out, text);
    }
    buffer_append_char(out, end);
}

static void csv_row(Buffer *out, const Snapshot *snapshot, const char *level, const char *code,
                    const char *name, const char *territory, const char *region,
                    const CoverageFigures *f)
{
    csv_field(out, level, ',');
    csv_field(out, code, ',');
    csv_field(out, name, ',');
    csv_field(out, territory, ',');
    csv_field(out, region, ',');
    double share = f->population > 0 ? (double)f->covered / (double)f->population : 0;
    buffer_printf(out, "%lld,%lld,%.4f,", (long long)f->population, (long long)f->covered, share);
    if (isnan(f->median_km))
        buffer_append_string(out, ",,");
    else
        buffer_printf(out, "%.1f,%.1f,", f->median_km, f->p90_km);
    buffer_printf(out, "%lld,", (long long)f->without_point);
    const Site *site = f->serving_site == SITE_NONE ? NULL : &snapshot->sites[f->serving_site];
    csv_field(out, site ? site_id_text(snapshot, site) : NULL, ',');
    csv_field(out, site ? snapshot_text(snapshot, site->name) : NULL, ',');
    if (site)
        buffer_printf(out, "%lld\n", (long long)f->serving_population);
    else
        buffer_append_char(out, '\n');
}

static void write_csv(Buffer *out, const Dataset *dataset, const Coverage *coverage, int by_region,
                      Language language)
{
    const Communes *communes = dataset->communes;
    buffer_append_string(out, "level,code,name,territory,region,population,covered_population,"
                              "share,median_km,p90_km,without_point_population,serving_site_id,"
                              "serving_site_name,serving_population\n");
    const AdminArea *areas = by_region ? communes->regions : communes->departements;
    const CoverageFigures *figures = by_region ? coverage->regions : coverage->departements;
    size_t count = by_region ? communes->region_count : communes->departement_count;
    for (size_t a = 0; a < count; a++)
        csv_row(out, dataset->snapshot, by_region ? "region" : "departement", areas[a].code,
                areas[a].name, territory_code(areas[a].territory),
                !by_region && areas[a].region != COMMUNES_NONE
                    ? communes->regions[areas[a].region].code
                    : NULL,
                &figures[a]);
    for (unsigned t = 0; t < TERRITORY_COUNT; t++)
        csv_row(out, dataset->snapshot, "territory", territory_code(t), territory_name(t, language),
                territory_code(t), NULL, &coverage->territories[t]);
    csv_row(out, dataset->snapshot, "france", "FR", "France", NULL, NULL, &coverage->total);
}

static void write_geojson(Buffer *out, const Dataset *dataset, const Coverage *coverage,
                          int by_region, const char *(*geometry_of)(void *, const char *),
                          void *context)
{
    const Communes *communes = dataset->communes;
    const AdminArea *areas = by_region ? communes->regions : communes->departements;
    const CoverageFigures *figures = by_region ? coverage->regions : coverage->departements;
    size_t count = by_region ? communes->region_count : communes->departement_count;
    JsonWriter json;
    json_init(&json, out);
    json_begin_object(&json);
    json_key(&json, "type");
    json_string(&json, "FeatureCollection");
    json_key(&json, "features");
    json_begin_array(&json);
    for (size_t a = 0; a < count; a++) {
        json_begin_object(&json);
        json_key(&json, "type");
        json_string(&json, "Feature");
        json_key(&json, "geometry");
        const char *geometry = geometry_of ? geometry_of(context, areas[a].code) : NULL;
        if (geometry)
            json_raw(&json, geometry, strlen(geometry));
        else
            json_null(&json);
        json_key(&json, "properties");
        json_begin_object(&json);
        write_figures(&json, dataset->snapshot, areas[a].code, areas[a].name, &figures[a]);
        json_end_object(&json);
        json_end_object(&json);
    }
    json_end_array(&json);
    json_end_object(&json);
}

void coverage_answer(const Request *request, CoverageFormat format,
                     const char *(*geometry_of)(void *context, const char *code), void *context,
                     Response *response)
{
    const Dataset *dataset = request->dataset;
    CoverageSelection selection;
    double radius_km;
    int by_region;
    if (coverage_selection_parse(request, dataset->snapshot, &selection, response) != 0 ||
        parse_coverage_parameters(request, &radius_km, &by_region, response) != 0)
        return;
    char key[256];
    snprintf(key, sizeof key, "coverage?%s&radius_km=%.17g&level=%s&lang=%s", selection.key,
             radius_km, by_region ? "region" : "departement",
             selection.language == LANGUAGE_ENGLISH ? "en" : "fr");
    int status;
    if (format == COVERAGE_FORMAT_JSON &&
        tile_cache_get(dataset->answers, key, &response->body,
                       request->accepts_gzip ? &response->gzip_body : NULL, &status)) {
        response->status = status;
        return;
    }
    buffer_reset(&response->body);
    CoverageQuery query = {selection.sites.condition, selection.sites.filter, radius_km * 1000};
    Coverage coverage;
    if (coverage_compute(dataset->index, dataset->snapshot, dataset->communes, &query, &coverage) !=
        0) {
        response_problem(response, 503, "Service unavailable",
                         "the server ran out of memory while answering; retry later");
        return;
    }
    if (format == COVERAGE_FORMAT_CSV) {
        write_csv(&response->body, dataset, &coverage, by_region, selection.language);
        response->content_type = "text/csv; charset=utf-8";
    } else if (format == COVERAGE_FORMAT_GEOJSON) {
        write_geojson(&response->body, dataset, &coverage, by_region, geometry_of, context);
        response->content_type = "application/geo+json";
    } else {
        write_answer(&response->body, dataset, &selection, &coverage, radius_km, by_region);
    }
    coverage_free(&coverage);
    response_finish(response);
    if (format == COVERAGE_FORMAT_JSON && response->status == 200)
        tile_cache_put(dataset->answers, key, response->body.data, response->body.length, 200);
}

void api_coverage(const Request *request, Response *response, const char *rest)
{
    (void)rest;
    coverage_answer(request, COVERAGE_FORMAT_JSON, NULL, NULL, response);
}
