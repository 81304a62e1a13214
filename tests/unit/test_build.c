/* Unit tests for `maillage build`'s work (build/build.c, run through
 * build_run() with snapshot_pack() as its packing step, and the import_*
 * modules): the FINESS fixture round trip, network CSV edge cases with exact
 * rejected lines, the seed sites, the report (read with json_read.h) and its
 * totals, the official importer alone, the determinism of the dataset
 * version, a failed build leaving its output untouched, and the command
 * line's usage errors (cli/build_command.c). Fixtures are written by the
 * tests into a temporary directory; their names say "synthetic". */
#include "base/csv.h"
#include "base/geodesy.h"
#include "build/build.h"
#include "build/import_finess.h"
#include "check.h"
#include "cli/commands.h"
#include "json_read.h"
#include "model/snapshot_load.h"
#include "store/store.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

static char directory[512];
static char database[600];
static char report_path[600];
static sqlite3 *db;

/* Arrays go through this so CHECK_STRING's NULL test stays meaningful. */
static const char *text_of(const char *text)
{
    return text;
}

static void path_in(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", directory, name);
}

static int write_text(const char *name, const char *text)
{
    char path[600];
    path_in(path, sizeof path, name);
    FILE *file = fopen(path, "wb");
    if (!file)
        return -1;
    size_t length = strlen(text);
    int ok = fwrite(text, 1, length, file) == length;
    return (fclose(file) == 0 && ok) ? 0 : -1;
}

/* Builds `out` from geodata/, the network CSV `network` and the FINESS
 * stock file `finess` (each NULL for none), with a report when `report` is
 * not NULL, quietly, packing the sites as `maillage build` does. Returns
 * build_run()'s exit status. */
static int build(const char *out, const char *network, const char *finess, const char *report)
{
    BuildOptions options;
    memset(&options, 0, sizeof options);
    options.geodata = "geodata";
    options.out = out;
    options.networks = &network;
    options.network_count = network ? 1 : 0;
    options.finess = finess;
    options.report = report;
    options.quiet = 1;
    options.pack = snapshot_pack;
    return build_run(&options);
}

/* Runs the command line `maillage build --quiet` with the arguments (a
 * NULL-terminated array). */
static int command_with(const char *const *arguments)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = (char *)"--quiet";
    for (size_t i = 0; arguments[i] && argc < 31; i++)
        argv[argc++] = (char *)arguments[i];
    argv[argc] = NULL;
    return command_build(argc, argv);
}

#define command(...) command_with((const char *const[]){__VA_ARGS__})

static int query_int(sqlite3 *handle, const char *sql, const char *parameter, long long *value)
{
    sqlite3_stmt *statement = NULL;
    int found = -1;
    if (sqlite3_prepare_v2(handle, sql, -1, &statement, NULL) != SQLITE_OK)
        return -1;
    if (parameter)
        sqlite3_bind_text(statement, 1, parameter, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(statement) == SQLITE_ROW && sqlite3_column_type(statement, 0) != SQLITE_NULL) {
        *value = sqlite3_column_int64(statement, 0);
        found = 0;
    }
    sqlite3_finalize(statement);
    return found;
}

static void read_version(const char *path, char *version, size_t size)
{
    sqlite3 *handle = NULL;
    version[0] = 0;
    if (sqlite3_open_v2(path, &handle, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *statement = NULL;
        if (sqlite3_prepare_v2(handle, "SELECT value FROM metadata WHERE key = 'version'", -1,
                               &statement, NULL) == SQLITE_OK &&
            sqlite3_step(statement) == SQLITE_ROW)
            snprintf(version, size, "%s", (const char *)sqlite3_column_text(statement, 0));
        sqlite3_finalize(statement);
    }
    sqlite3_close(handle);
}

/* A network CSV of edge cases. Its lines (1-based) are listed with the
 * expected outcome in `expected_rejections` and the loaded site ids. */
static const char edge_network[] =
    "\xEF\xBB\xBFsite_id,finess,lat,lon,x,y,srs,structure_name,role,orpha_codes,public,"
    "coordinator_site_id,cooperates_with\r\n" /* 1 header with BOM, CRLF */
    "T-LATLON,,48.85,2.35,,,,\"Hôpital \"\"synthétique\"\", Paris\",crmr,96346,enfants,,\r\n" /* 2
                                                                                               */
    "T-NEWLINE,,45.0,5.0,,,,\"Deux\r\nlignes\",ccmr,,,T-LATLON,\r\n"        /* 3-4 */
    "T-L93,,,,882408.3,6543019.6,LAMBERT_93,Lambert,ccmr,399|306715,,,\r\n" /* 5 */
    "T-UTM20,,,,657363.0,1795439.0,UTM_N20,Guadeloupe,ccmr,,,,\r\n"         /* 6 */
    "T-UTM40,,,,323376.0,7679604.0,UTM_S40,Reunion,ccmr,,,,\r\n"            /* 7 */
    "T-EMPTY,,,,,,,,ccmr,,,,\r\n"                                           /* 8 */
    "T-BADUTF8,,48.0,2.0,,,,Nom \xff\xfe,ccmr,,,,\r\n"                      /* 9 */
    "T-FEW,,48.0,2.0\r\n"                                                   /* 10 */
    "T-MANY,,48,2,,,,x,ccmr,,,,,extra\r\n"                                  /* 11 */
    "T-LATLON,,47.0,1.0,,,,repeated,ccmr,,,,\r\n"                           /* 12 */
    "T-CODE,,47.0,1.0,,,,x,ccmr,96346|99999999,,,\r\n"                      /* 13 */
    "T-SRS,,,,100,200,FOO_99,x,ccmr,,,,\r\n"                                /* 14 */
    "T-FINESS-OFFICIAL,940100027,,,,,,Mondor,crmr,,,,\r\n"                  /* 15 */
    "T-FINESS-EXTRACT,010000032,,,,,,Belley,ccmr,,,,\r\n"                   /* 16 */
    "T-FINESS-UNKNOWN,999999999,,,,,,x,ccmr,,,,\r\n"                        /* 17 */
    "T-ROLE,,48,2,,,,x,chief,,,,\r\n"                                       /* 18 */
    "T-LINK,,48,2,,,,x,ccmr,,,T-NOPE,T-L93|T-GONE\r\n"                      /* 19 */
    "T-QUOTE,,48,2,,,,\"unterminated,ccmr,,,,\r\n"                          /* 20 */
    "T-AFTER,,48.5,2.5,,,,after,ccmr,,,,\r\n"                               /* 21 */
    "T-PUBLIC,,48,2,,,,x,ccmr,,bebes,,\r\n"                                 /* 22 */
    "\r\n"                                                                  /* 23 blank */
    "T-LAST,,48.1,2.1,,,,last,ccmr,,tous,,";                                /* 24 no final CRLF */

static const struct {
    long line;
    const char *reason_part;
} expected_rejections[] = {
    {8, "unresolvable position"},
    {9, "is not UTF-8 text"},
    {10, "too few fields"},
    {11, "too many fields"},
    {12, "repeated site_id T-LATLON"},
    {13, "unknown ORPHAcode 99999999"},
    {14, "unknown SRS label FOO_99"},
    {17, "unresolvable position: FINESS 999999999"},
    {18, "unknown role 'chief'"},
    {20, "unterminated quoted field"},
    {22, "invalid public 'bebes'"},
};

static const char *const expected_loaded[] = {
    "T-LATLON",          "T-NEWLINE",        "T-L93",  "T-UTM20", "T-UTM40",
    "T-FINESS-OFFICIAL", "T-FINESS-EXTRACT", "T-LINK", "T-AFTER", "T-LAST",
};

#define EDGE_ROWS 21

TEST(finess_fixture_round_trip_within_half_a_metre)
{
    CsvReader expected;
    char error[256];
    CHECK(csv_open_file(&expected, "geodata/finess-cs1100507-sample.expected.csv", ',', error,
                        sizeof error) == 0,
          "%s", error);
    sqlite3_stmt *statement = NULL;
    CHECK(sqlite3_prepare_v2(db,
                             "SELECT lat, lon, position_source FROM etablissements "
                             "WHERE finess = ?",
                             -1, &statement, NULL) == SQLITE_OK,
          "%s", sqlite3_errmsg(db));
    int rows = 0, close = 0;
    double worst = 0;
    csv_next(&expected); /* header */
    while (statement && csv_next(&expected) == CSV_RECORD) {
        rows++;
        double lat = atof(expected.fields[4]), lon = atof(expected.fields[5]);
        sqlite3_bind_text(statement, 1, expected.fields[0], -1, SQLITE_TRANSIENT);
        if (sqlite3_step(statement) == SQLITE_ROW &&
            strcmp((const char *)sqlite3_column_text(statement, 2), "finess_official") == 0) {
            double distance = geodesy_distance_m(lat, lon, sqlite3_column_double(statement, 0),
                                                 sqlite3_column_double(statement, 1));
            if (distance > worst)
                worst = distance;
            close += distance <= 0.5;
        }
        sqlite3_reset(statement);
    }
    sqlite3_finalize(statement);
    csv_close(&expected);
    CHECK(rows == 600, "expected rows %d", rows);
    CHECK(close == 600, "%d of 600 official positions within 0.5 m (worst %.3f m)", close, worst);
    long long count = 0;
    query_int(db, "SELECT count(*) FROM etablissements WHERE position_source = 'finess_official'",
              NULL, &count);
    CHECK(count == 600, "official positions %lld", count);
}

TEST(finess_fixture_bad_lines_rejected_with_reasons)
{
    sqlite3_stmt *statement = NULL;
    sqlite3_prepare_v2(db,
                       "SELECT line, reason FROM rejected_rows WHERE file = "
                       "'finess-cs1100507-sample.csv' ORDER BY line",
                       -1, &statement, NULL);
    static const struct {
        long line;
        const char *reason;
    } expected[] = {{1204, "unknown SRS label FOO_99"},
                    {1205, "non-numeric x '69O778.2'"},
                    {1206, "no structureet line for FINESS 380000406"}};
    size_t index = 0;
    while (statement && sqlite3_step(statement) == SQLITE_ROW) {
        if (index < 3) {
            CHECK(sqlite3_column_int64(statement, 0) == expected[index].line, "line %lld",
                  (long long)sqlite3_column_int64(statement, 0));
            CHECK_STRING((const char *)sqlite3_column_text(statement, 1), expected[index].reason);
        }
        index++;
    }
    sqlite3_finalize(statement);
    CHECK(index == 3, "rejected %zu lines", index);
    long long rows = 0, loaded = 0;
    query_int(db, "SELECT rows FROM inputs WHERE kind = 'finess_official'", NULL, &rows);
    query_int(db, "SELECT loaded FROM inputs WHERE kind = 'finess_official'", NULL, &loaded);
    CHECK(rows == 1205 && loaded == 1202, "rows %lld loaded %lld", rows, loaded);
    /* The two structures whose geolocation was bad keep no official position. */
    long long official = 0;
    query_int(db,
              "SELECT count(*) FROM etablissements WHERE finess IN ('370002511', '770016467') "
              "AND position_source = 'finess_official'",
              NULL, &official);
    CHECK(official == 0, "bad geolocations gave %lld official positions", official);
}

/* The official importer alone: structures with a bad geolocation keep their
 * structureet data and no position. */
TEST(finess_official_alone_keeps_structures_without_position)
{
    char path[600];
    path_in(path, sizeof path, "synthetic-official-only.sqlite");
    unlink(path);
    Store store;
    char error[512];
    CHECK(store_create(&store, path, error, sizeof error) == 0, "%s", error);
    BuildReport report;
    build_report_init(&report);
    report.quiet = 1;
    ImportContext context;
    memset(&context, 0, sizeof context);
    context.db = store.db;
    context.report = &report;
    context.reprojector = reprojector_new();
    int result = import_finess_official(&context, "geodata/finess-cs1100507-sample.csv",
                                        "finess-cs1100507-sample.csv");
    CHECK(result == 0, "%s", context.error);
    long long count = -1;
    query_int(store.db, "SELECT count(*) FROM etablissements", NULL, &count);
    CHECK(count == 602, "structures %lld", count);
    query_int(store.db,
              "SELECT count(*) FROM etablissements WHERE finess IN ('370002511', '770016467') "
              "AND lat IS NULL AND name IS NOT NULL AND position_source = 'none'",
              NULL, &count);
    CHECK(count == 2, "structures without position %lld", count);
    CHECK(report.count == 1 && report.inputs[0]->rows == report.inputs[0]->loaded +
                                                             (long)report.inputs[0]->rejected.count,
          "totals");
    reprojector_free(context.reprojector);
    build_report_free(&report);
    store_close(&store);
    unlink(path);
}

TEST(network_edge_cases_exact_lines_and_reasons)
{
    sqlite3_stmt *statement = NULL;
    sqlite3_prepare_v2(db,
                       "SELECT line, reason FROM rejected_rows WHERE file = "
                       "'synthetic-edge-network.csv' ORDER BY line",
                       -1, &statement, NULL);
    size_t index = 0, expected_count = sizeof expected_rejections / sizeof expected_rejections[0];
    while (statement && sqlite3_step(statement) == SQLITE_ROW) {
        long line = (long)sqlite3_column_int64(statement, 0);
        const char *reason = (const char *)sqlite3_column_text(statement, 1);
        if (index < expected_count) {
            CHECK(line == expected_rejections[index].line,
                  "rejection %zu at line %ld, "
                  "expected %ld (%s)",
                  index, line, expected_rejections[index].line, reason);
            CHECK(strstr(reason, expected_rejections[index].reason_part) != NULL,
                  "line %ld: reason \"%s\" lacks \"%s\"", line, reason,
                  expected_rejections[index].reason_part);
        }
        index++;
    }
    sqlite3_finalize(statement);
    CHECK(index == expected_count, "rejected %zu rows, expected %zu", index, expected_count);
    long long rows = 0, loaded = 0, rejected = 0;
    query_int(db, "SELECT rows FROM inputs WHERE file = 'synthetic-edge-network.csv'", NULL, &rows);
    query_int(db, "SELECT loaded FROM inputs WHERE file = 'synthetic-edge-network.csv'", NULL,
              &loaded);
    query_int(db, "SELECT rejected FROM inputs WHERE file = 'synthetic-edge-network.csv'", NULL,
              &rejected);
    CHECK(rows == EDGE_ROWS, "rows %lld", rows);
    CHECK(rows == loaded + rejected, "rows %lld loaded %lld rejected %lld", rows, loaded, rejected);
    for (size_t i = 0; i < sizeof expected_loaded / sizeof expected_loaded[0]; i++) {
        long long found = 0;
        query_int(db,
                  "SELECT count(*) FROM sites WHERE site_id = ? AND input_file = "
                  "'synthetic-edge-network.csv'",
                  expected_loaded[i], &found);
        CHECK(found == 1, "site %s not loaded", expected_loaded[i]);
    }
    CHECK(loaded == (long long)(sizeof expected_loaded / sizeof expected_loaded[0]), "loaded %lld",
          loaded);
}

static void site_position(const char *site_id, double *lat, double *lon, char *source,
                          size_t source_size)
{
    sqlite3_stmt *statement = NULL;
    *lat = *lon = 1000;
    source[0] = 0;
    sqlite3_prepare_v2(db, "SELECT lat, lon, position_source FROM sites WHERE site_id = ?", -1,
                       &statement, NULL);
    sqlite3_bind_text(statement, 1, site_id, -1, SQLITE_STATIC);
    if (sqlite3_step(statement) == SQLITE_ROW) {
        *lat = sqlite3_column_double(statement, 0);
        *lon = sqlite3_column_double(statement, 1);
        snprintf(source, source_size, "%s", (const char *)sqlite3_column_text(statement, 2));
    }
    sqlite3_finalize(statement);
}

TEST(network_positions_reprojected_and_resolved)
{
    double lat, lon;
    char source[32];
    site_position("T-L93", &lat, &lon, source, sizeof source);
    CHECK_NEAR(lat, 45.9624017, 1e-6);
    CHECK_NEAR(lon, 5.3556513, 1e-6);
    CHECK_STRING(text_of(source), "projected");
    site_position("T-UTM20", &lat, &lon, source, sizeof source);
    CHECK(geodesy_distance_m(lat, lon, 16.23449, -61.52761) < 0.5, "UTM_N20 %.7f %.7f", lat, lon);
    site_position("T-UTM40", &lat, &lon, source, sizeof source);
    CHECK(geodesy_distance_m(lat, lon, -20.975701, 55.30099) < 0.5, "UTM_S40 %.7f %.7f", lat, lon);
    site_position("T-FINESS-OFFICIAL", &lat, &lon, source, sizeof source);
    CHECK_STRING(text_of(source), "finess_official");
    site_position("T-FINESS-EXTRACT", &lat, &lon, source, sizeof source);
    CHECK_STRING(text_of(source), "finess");
    CHECK_NEAR(lat, 45.76121, 1e-9);
    CHECK_NEAR(lon, 5.68498, 1e-9);
    site_position("T-LATLON", &lat, &lon, source, sizeof source);
    CHECK_STRING(text_of(source), "latlon");
    long long count = 0;
    query_int(db,
              "SELECT count(*) FROM sites WHERE site_id = 'T-LATLON' AND structure_name = "
              "'Hôpital \"synthétique\", Paris' AND public = 'enfants'",
              NULL, &count);
    CHECK(count == 1, "quoted field");
    query_int(db,
              "SELECT count(*) FROM sites WHERE site_id = 'T-NEWLINE' AND input_line = 3 AND "
              "structure_name = 'Deux' || char(13, 10) || 'lignes'",
              NULL, &count);
    CHECK(count == 1, "embedded line break");
    query_int(db, "SELECT count(*) FROM site_codes WHERE site_id = 'T-L93'", NULL, &count);
    CHECK(count == 2, "site_codes %lld", count);
    query_int(db,
              "SELECT count(*) FROM sites WHERE site_id = 'T-FINESS-EXTRACT' AND "
              "phone = '0479425959' AND city = 'BELLEY' AND postcode = '01300'",
              NULL, &count);
    CHECK(count == 1, "FINESS fields filled");
}

TEST(network_links_drawn_only_between_existing_sites)
{
    long long count = 0;
    query_int(db,
              "SELECT count(*) FROM links WHERE from_site_id = 'T-NEWLINE' AND to_site_id = "
              "'T-LATLON' AND kind = 'coordinator' AND geom IS NOT NULL",
              NULL, &count);
    CHECK(count == 1, "coordinator link");
    query_int(db, "SELECT count(*) FROM links WHERE from_site_id = 'T-LINK'", NULL, &count);
    CHECK(count == 1, "links from T-LINK %lld", count);
    query_int(db,
              "SELECT count(*) FROM links l LEFT JOIN sites a ON a.site_id = l.from_site_id "
              "LEFT JOIN sites b ON b.site_id = l.to_site_id WHERE a.site_id IS NULL OR "
              "b.site_id IS NULL",
              NULL, &count);
    CHECK(count == 0, "dangling links %lld", count);
}

/* The report, read whole; NULL after a failed CHECK. */
static JsonNode *read_report(void)
{
    FILE *file = fopen(report_path, "rb");
    Buffer text;
    buffer_init(&text);
    char block[65536];
    size_t got;
    while (file && (got = fread(block, 1, sizeof block, file)) > 0)
        buffer_append(&text, block, got);
    if (file)
        fclose(file);
    char error[128] = "";
    JsonNode *report =
        file && !text.failed ? json_node_parse(text.data, text.length, error, sizeof error) : NULL;
    CHECK(report != NULL, "%s: not read, or not JSON (%s)", report_path, error);
    buffer_free(&text);
    return report;
}

/* The input of the report that read `file`; NULL when none. */
static const JsonNode *report_input(const JsonNode *report, const char *file)
{
    const JsonNode *inputs = json_node_at(report, "/inputs");
    for (size_t i = 0; inputs && inputs->kind == JSON_NODE_ARRAY && i < inputs->count; i++) {
        const char *name = json_node_string(&inputs->items[i], "/file");
        if (name && strcmp(name, file) == 0)
            return &inputs->items[i];
    }
    return NULL;
}

/* 1 when the input's `list` ("rejected" or "warnings") has an entry at
 * `line` whose message starts with `message`. */
static int report_lists(const JsonNode *input, const char *list, long line, const char *message)
{
    char pointer[32];
    snprintf(pointer, sizeof pointer, "/%s", list);
    const JsonNode *entries = json_node_at(input, pointer);
    for (size_t i = 0; entries && entries->kind == JSON_NODE_ARRAY && i < entries->count; i++) {
        const char *text = json_node_string(&entries->items[i], "/message");
        if (json_node_number(&entries->items[i], "/line") == line && text &&
            strncmp(text, message, strlen(message)) == 0)
            return 1;
    }
    return 0;
}

TEST(report_warns_about_links_to_unknown_sites)
{
    JsonNode *report = read_report();
    const JsonNode *network = report_input(report, "synthetic-edge-network.csv");
    CHECK(report_lists(network, "warnings", 19,
                       "coordinator_site_id T-NOPE of site T-LINK is not a known site"),
          "coordinator warning");
    CHECK(report_lists(network, "warnings", 19,
                       "cooperates_with T-GONE of site T-LINK is not a known site"),
          "cooperation warning");
    const char *kind = json_node_string(network, "/kind");
    CHECK(network && kind && strcmp(kind, "network") == 0 &&
              json_node_number(network, "/rows") == EDGE_ROWS &&
              json_node_number(network, "/loaded") == 10 &&
              json_node_count(network, "/rejected") ==
                  (long)(sizeof expected_rejections / sizeof expected_rejections[0]),
          "network totals in the report");
    /* The same rejections as the database, with their lines. */
    for (size_t i = 0; i < sizeof expected_rejections / sizeof expected_rejections[0]; i++) {
        char pointer[64];
        snprintf(pointer, sizeof pointer, "/rejected/%zu/line", i);
        CHECK(json_node_number(network, pointer) == expected_rejections[i].line,
              "report rejection %zu at line %g, expected %ld", i,
              json_node_number(network, pointer), expected_rejections[i].line);
    }
    /* Every input adds up, and the version is the database's. */
    const JsonNode *inputs = json_node_at(report, "/inputs");
    CHECK(inputs && inputs->kind == JSON_NODE_ARRAY && inputs->count == 13, "%zu inputs",
          inputs ? inputs->count : 0);
    for (size_t i = 0; inputs && i < inputs->count; i++) {
        const JsonNode *input = &inputs->items[i];
        CHECK(json_node_number(input, "/rows") ==
                  json_node_number(input, "/loaded") + (double)json_node_count(input, "/rejected"),
              "input %s: rows != loaded + rejected", json_node_string(input, "/file"));
    }
    char version[32];
    read_version(database, version, sizeof version);
    const char *reported = json_node_string(report, "/version");
    CHECK(version[0] && reported && strcmp(reported, version) == 0, "report version %s, file %s",
          reported ? reported : "-", version);
    json_node_free(report);
}

TEST(every_seed_site_has_a_position)
{
    CsvReader seeds;
    char error[256];
    CHECK(csv_open_file(&seeds, "geodata/network-seeds.csv", ',', error, sizeof error) == 0, "%s",
          error);
    csv_next(&seeds);
    int id_column = csv_column(&seeds, "site_id"), count = 0, found = 0;
    while (id_column >= 0 && csv_next(&seeds) == CSV_RECORD) {
        count++;
        long long present = 0;
        query_int(db,
                  "SELECT count(*) FROM sites WHERE site_id = ? AND lat BETWEEN -90 AND 90 AND "
                  "lon BETWEEN -180 AND 180 AND geom IS NOT NULL",
                  seeds.fields[id_column], &present);
        CHECK(present == 1, "seed site %s missing", seeds.fields[id_column]);
        found += present == 1;
    }
    csv_close(&seeds);
    CHECK(count == 23 && found == 23, "%d of %d seed sites", found, count);
}

TEST(every_input_accounts_for_its_rows)
{
    long long inputs = 0, bad = -1;
    query_int(db, "SELECT count(*) FROM inputs", NULL, &inputs);
    CHECK(inputs == 13, "inputs %lld", inputs);
    query_int(db,
              "SELECT count(*) FROM inputs i WHERE rows != loaded + rejected OR rejected != "
              "(SELECT count(*) FROM rejected_rows r WHERE r.file = i.file)",
              NULL, &bad);
    CHECK(bad == 0, "inputs whose totals do not add up: %lld", bad);
    long long outside = 0;
    query_int(db, "SELECT count(*) FROM etablissements WHERE geo_check = 'outside_departement'",
              NULL, &outside);
    CHECK(outside == 27, "outside_departement rows %lld", outside);
    long long ancestors = 0;
    query_int(db, "SELECT count(*) FROM ancestors WHERE orpha_code = ancestor AND depth = 0", NULL,
              &ancestors);
    long long conditions = 0;
    query_int(db, "SELECT count(*) FROM conditions", NULL, &conditions);
    CHECK(ancestors == conditions && conditions == 10839, "reflexive ancestors %lld of %lld",
          ancestors, conditions);
    long long search = 0;
    query_int(db, "SELECT count(*) FROM condition_search WHERE condition_search MATCH 'evans'",
              NULL, &search);
    CHECK(search >= 1, "full-text search");
}

TEST(version_is_deterministic_and_follows_every_byte)
{
    char network[600], finess_path[] = "geodata/finess-cs1100507-sample.csv";
    char again[600], changed[600], v1[32], v2[32], v3[32];
    path_in(network, sizeof network, "synthetic-edge-network.csv");
    path_in(again, sizeof again, "synthetic-again.sqlite");
    path_in(changed, sizeof changed, "synthetic-changed.sqlite");
    CHECK(build(again, network, finess_path, NULL) == 0, "second build");
    read_version(database, v1, sizeof v1);
    read_version(again, v2, sizeof v2);
    CHECK(strlen(v1) == 16, "version '%s'", v1);
    CHECK_STRING(text_of(v2), v1);
    /* One byte changed in the network file. */
    char *copy = strdup(edge_network);
    char *digit = copy ? strstr(copy, "48.85") : NULL;
    if (digit)
        digit[4] = '6';
    CHECK(copy && write_text("synthetic-edge-network.csv", copy) == 0, "rewrite");
    free(copy);
    CHECK(build(changed, network, finess_path, NULL) == 0, "third build");
    read_version(changed, v3, sizeof v3);
    CHECK(strlen(v3) == 16 && strcmp(v3, v1) != 0, "changed byte kept version %s", v3);
    write_text("synthetic-edge-network.csv", edge_network);
    unlink(again);
    unlink(changed);
}

TEST(failed_build_leaves_output_untouched)
{
    char before[32], after[32], missing[600];
    read_version(database, before, sizeof before);
    path_in(missing, sizeof missing, "synthetic-missing.csv");
    CHECK(build(database, missing, NULL, NULL) == 1, "missing network file must fail");
    read_version(database, after, sizeof after);
    CHECK(before[0] && strcmp(before, after) == 0, "version %s -> %s", before, after);
    char temporary[700];
    snprintf(temporary, sizeof temporary, "%s.tmp-%ld", database, (long)getpid());
    CHECK(access(temporary, F_OK) != 0, "temporary file left behind");
}

/* The command line: usage errors exit 2 and build nothing. */
TEST(command_line_usage_errors)
{
    char before[32], after[32];
    read_version(database, before, sizeof before);
    CHECK(command("--geodata", "geodata", "--bogus", NULL) == 2, "unknown option");
    CHECK(command("--out", database, NULL) == 2, "missing --geodata");
    CHECK(command("--geodata", "geodata", NULL) == 2, "missing --out");
    CHECK(command("--geodata", "geodata", "--out", database, "--out", database, NULL) == 2,
          "--out twice");
    CHECK(command("--geodata", "geodata", "--out", database, "--network", NULL) == 2,
          "--network without a value");
    read_version(database, after, sizeof after);
    CHECK(before[0] && strcmp(before, after) == 0, "version %s -> %s", before, after);
}

int main(void)
{
    const char *temporary = getenv("TMPDIR");
    snprintf(directory, sizeof directory, "%s/maillage-test-build-XXXXXX",
             temporary && temporary[0] ? temporary : "/tmp");
    if (!mkdtemp(directory)) {
        perror("mkdtemp");
        return 1;
    }
    path_in(database, sizeof database, "synthetic-build.sqlite");
    path_in(report_path, sizeof report_path, "synthetic-build-report.json");
    char network[600];
    path_in(network, sizeof network, "synthetic-edge-network.csv");
    int built = write_text("synthetic-edge-network.csv", edge_network) == 0 &&
                build(database, network, "geodata/finess-cs1100507-sample.csv", report_path) == 0 &&
                sqlite3_open_v2(database, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK;
    if (!built) {
        fprintf(stderr, "test_build: the fixture build failed\n");
        printf("test_build: 0 passed, 1 failed\n");
        return 1;
    }
    RUN(finess_fixture_round_trip_within_half_a_metre);
    RUN(finess_fixture_bad_lines_rejected_with_reasons);
    RUN(finess_official_alone_keeps_structures_without_position);
    RUN(network_edge_cases_exact_lines_and_reasons);
    RUN(network_positions_reprojected_and_resolved);
    RUN(network_links_drawn_only_between_existing_sites);
    RUN(report_warns_about_links_to_unknown_sites);
    RUN(every_seed_site_has_a_position);
    RUN(every_input_accounts_for_its_rows);
    RUN(version_is_deterministic_and_follows_every_byte);
    RUN(failed_build_leaves_output_untouched);
    RUN(command_line_usage_errors);
    sqlite3_close(db);
    unlink(database);
    unlink(report_path);
    unlink(network);
    rmdir(directory);
    return CHECK_SUMMARY("test_build");
}
