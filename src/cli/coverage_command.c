/* coverage_command.c — `maillage coverage`: the /api/coverage figures on
 * the command line, for reports and spreadsheets.
 *
 * Owns: the options of the command, the choice of format, and reading the
 * areas' geometry from the database for GeoJSON. Invariants: `--format
 * json` prints byte for byte the body /api/coverage answers for the same
 * parameters (the same handler, http/coverage_route.c); csv and geojson
 * carry the same figures; bad input exits 1 with the problem's detail,
 * usage errors exit 2. */
#include "base/array.h"
#include "cli/commands.h"
#include "cli/query_command.h"
#include "http/coverage_route.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char coverage_usage[] =
    "usage: maillage coverage [--db FILE.sqlite] (--orpha CODE | --filiere NAME) --radius-km R\n"
    "                         [--level departement|region] [--role ROLE[,ROLE...]]\n"
    "                         [--public enfants|adultes|tous] [--format json|csv|geojson]\n"
    "\n"
    "Who lives far from care: for each departement (or region), the population, the\n"
    "population whose commune lies within R km (geodesic, 0 < R <= 2000) of a site\n"
    "covering ORPHAcode CODE (directly or through a group) or belonging to filiere NAME,\n"
    "the share covered, the population-weighted median and 90th-percentile distance to\n"
    "the nearest such site, and the site serving the largest part of the population;\n"
    "then the territories and France.\n"
    "\n"
    "options:\n"
    "  --db FILE.sqlite  the dataset (default: maillage.sqlite of the installed data\n"
    "                    directory, PREFIX/share/maillage; required when there is none)\n"
    "  --orpha CODE      the sites covering this ORPHAcode (232 or ORPHA:232); required\n"
    "                    unless --filiere is given (no default)\n"
    "  --filiere NAME    the sites of this filiere (such as MUCO, case ignored); required\n"
    "                    unless --orpha is given (no default)\n"
    "  --radius-km R     the distance that counts as covered, 0 < R <= 2000 (required)\n"
    "  --level L         departement (default) or region\n"
    "  --role ROLE       one role or a comma-separated list, as for `maillage nearest`\n"
    "                    (default: any)\n"
    "  --public P        enfants, adultes or tous (default: any)\n"
    "  --format F        json (default: the /api/coverage answer), csv (one row per area,\n"
    "                    then the territories and France), geojson (the areas with their\n"
    "                    figures)\n"
    "  --help            this text\n"
    "\n"
    "Exit status: 0 printed, 1 bad input or unreadable database, 2 usage error.\n";

static const QueryOption coverage_options[] = {
    {"--orpha", "orpha"}, {"--filiere", "filiere"}, {"--radius-km", "radius_km"},
    {"--level", "level"}, {"--role", "role"},       {"--public", "public"},
    {"--format", NULL},
};

/* The areas' GeoJSON geometries, read once from the database. */
typedef struct Geometries {
    char **codes, **texts;
    size_t count;
} Geometries;

static void geometries_free(Geometries *geometries)
{
    for (size_t i = 0; i < geometries->count; i++) {
        free(geometries->codes[i]);
        free(geometries->texts[i]);
    }
    free(geometries->codes);
    free(geometries->texts);
}

/* Reads code and AsGeoJSON(geom) of every département or région. Returns
 * 0, or -1 with a message. */
static int geometries_read(const char *database, int by_region, Geometries *geometries, char *error,
                           size_t error_size)
{
    Store store = {0};
    if (store_open_read_only(&store, database, error, error_size) != 0)
        return -1;
    const char *sql = by_region ? "SELECT code, AsGeoJSON(geom, 5) FROM regions"
                                : "SELECT code, AsGeoJSON(geom, 5) FROM departements";
    sqlite3_stmt *statement;
    int status = sqlite3_prepare_v2(store.db, sql, -1, &statement, NULL) == SQLITE_OK ? 0 : -1;
    size_t code_capacity = 0, text_capacity = 0;
    while (status == 0 && sqlite3_step(statement) == SQLITE_ROW) {
        if (array_reserve(geometries->codes, code_capacity, geometries->count + 1, 128) != 0 ||
            array_reserve(geometries->texts, text_capacity, geometries->count + 1, 128) != 0) {
            status = -1;
            break;
        }
        const char *code = (const char *)sqlite3_column_text(statement, 0);
        const char *text = (const char *)sqlite3_column_text(statement, 1);
        geometries->codes[geometries->count] = strdup(code ? code : "");
        geometries->texts[geometries->count] = text ? strdup(text) : NULL;
        geometries->count++;
    }
    if (status != 0)
        snprintf(error, error_size, "%s: cannot read the areas' geometry: %s", database,
                 sqlite3_errmsg(store.db));
    sqlite3_finalize(statement);
    store_close(&store);
    return status;
}

static const char *geometry_of(void *context, const char *code)
{
    const Geometries *geometries = context;
    for (size_t i = 0; i < geometries->count; i++)
        if (geometries->codes[i] && strcmp(geometries->codes[i], code) == 0)
            return geometries->texts[i];
    return NULL;
}

static int parse_format(const char *text, CoverageFormat *format)
{
    if (!text || strcmp(text, "json") == 0)
        *format = COVERAGE_FORMAT_JSON;
    else if (strcmp(text, "csv") == 0)
        *format = COVERAGE_FORMAT_CSV;
    else if (strcmp(text, "geojson") == 0)
        *format = COVERAGE_FORMAT_GEOJSON;
    else
        return -1;
    return 0;
}

int command_coverage(int argc, char **argv)
{
    QueryCommand command = {"coverage",
                            coverage_usage,
                            coverage_options,
                            sizeof coverage_options / sizeof coverage_options[0],
                            {NULL}};
    Request request;
    const char *database = NULL;
    int status = query_command_parse(&command, "/api/coverage", argc, argv, &database, &request);
    if (status != 0)
        return status == 1 ? 0 : status;
    CoverageFormat format;
    if (parse_format(command.own_values[0], &format) != 0) {
        fprintf(stderr, "maillage coverage: --format must be json, csv or geojson\n%s",
                coverage_usage);
        return 2;
    }
    Dataset *dataset = query_command_load(&command, database, &request);
    if (!dataset)
        return 1;
    char error[1024];
    Geometries geometries = {NULL, NULL, 0};
    int by_region = 0;
    for (size_t p = 0; p < request.parameter_count; p++)
        by_region |= strcmp(request.parameters[p].name, "level") == 0 &&
                     strcmp(request.parameters[p].value, "region") == 0;
    int exit_status = 0;
    if (format == COVERAGE_FORMAT_GEOJSON &&
        geometries_read(database, by_region, &geometries, error, sizeof error) != 0) {
        fprintf(stderr, "maillage coverage: %s\n", error);
        exit_status = 1;
    }
    if (exit_status == 0) {
        Response response;
        response_init(&response);
        coverage_answer(&request, format, geometry_of, &geometries, &response);
        exit_status = query_command_print(&command, &response);
        response_free(&response);
    }
    geometries_free(&geometries);
    dataset_free(dataset);
    return exit_status;
}
