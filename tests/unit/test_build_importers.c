/* Unit tests for the import_* modules one at a time, each into a fresh
 * database: the Orphanet ancestor closure against a brute-force relaxation,
 * bad GeoJSON feature lines, and malformed lines of an official FINESS
 * stock file (latin-1). Fixtures are written into a temporary directory and
 * named synthetic-*. */
#include "check.h"
#include "build/import_areas.h"
#include "build/import_finess.h"
#include "build/import_format.h"
#include "build/import_orphanet.h"
#include "store/store.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

static char directory[512];

typedef struct Fixture {
    char path[600];
    Store store;
    BuildReport report;
    ImportContext context;
} Fixture;

static int fixture_open(Fixture *fixture, const char *name)
{
    memset(fixture, 0, sizeof *fixture);
    snprintf(fixture->path, sizeof fixture->path, "%s/%s", directory, name);
    unlink(fixture->path);
    char error[512];
    if (store_create(&fixture->store, fixture->path, error, sizeof error) != 0) {
        fprintf(stderr, "%s\n", error);
        return -1;
    }
    build_report_init(&fixture->report);
    fixture->report.quiet = 1;
    fixture->context.db = fixture->store.db;
    fixture->context.report = &fixture->report;
    fixture->context.reprojector = reprojector_new();
    return fixture->context.reprojector ? 0 : -1;
}

static void fixture_close(Fixture *fixture)
{
    reprojector_free(fixture->context.reprojector);
    free(fixture->context.orpha_codes);
    build_report_free(&fixture->report);
    store_close(&fixture->store);
    unlink(fixture->path);
}

static int write_fixture(const char *name, const char *text, char *path, size_t path_size)
{
    snprintf(path, path_size, "%s/%s", directory, name);
    FILE *file = fopen(path, "wb");
    if (!file)
        return -1;
    size_t length = strlen(text);
    int ok = fwrite(text, 1, length, file) == length;
    return fclose(file) == 0 && ok ? 0 : -1;
}

static long long query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *statement = NULL;
    long long value = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &statement, NULL) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW)
        value = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
    return value;
}

static int totals_add_up(const BuildInput *input)
{
    return input->rows == input->loaded + (long)input->rejected.count;
}

/* The index of `code` in the sorted `codes`, or `count` when absent. */
static size_t dense_index(const int32_t *codes, size_t count, int32_t code)
{
    size_t low = 0, high = count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (codes[middle] < code)
            low = middle + 1;
        else
            high = middle;
    }
    return low < count && codes[low] == code ? low : count;
}

/* Brute force: Bellman-Ford style relaxation over every edge until nothing
 * changes, for a sample of codes; compared with the stored closure. */
TEST(ancestors_match_a_brute_force_relaxation)
{
    Fixture fixture;
    CHECK(fixture_open(&fixture, "synthetic-orphanet.sqlite") == 0, "open");
    CHECK(import_orphanet_nomenclature(&fixture.context, "geodata/orphanet-nomenclature.csv") == 0,
          "%s", fixture.context.error);
    CHECK(import_orphanet_classification(&fixture.context, "geodata/orphanet-classification.csv") ==
              0,
          "%s", fixture.context.error);
    sqlite3 *db = fixture.store.db;
    size_t code_count = fixture.context.orpha_code_count;
    const int32_t *codes = fixture.context.orpha_codes;
    long long edge_total = query_int(db, "SELECT count(*) FROM classification");
    size_t edge_count = edge_total > 0 ? (size_t)edge_total : 0;
    int32_t *child = malloc((edge_count + 1) * sizeof *child);
    int32_t *parent = malloc((edge_count + 1) * sizeof *parent);
    int *depth = malloc((code_count + 1) * sizeof *depth);
    sqlite3_stmt *edges = NULL, *stored = NULL;
    sqlite3_prepare_v2(db, "SELECT child, parent FROM classification", -1, &edges, NULL);
    sqlite3_prepare_v2(db, "SELECT ancestor, depth FROM ancestors WHERE orpha_code = ?", -1,
                       &stored, NULL);
    size_t loaded = 0;
    while (child && parent && edges && sqlite3_step(edges) == SQLITE_ROW && loaded < edge_count) {
        child[loaded] = sqlite3_column_int(edges, 0);
        parent[loaded] = sqlite3_column_int(edges, 1);
        loaded++;
    }
    /* Edge ends as dense indexes into the sorted code set. */
    for (size_t e = 0; e < loaded; e++) {
        child[e] = (int32_t)dense_index(codes, code_count, child[e]);
        parent[e] = (int32_t)dense_index(codes, code_count, parent[e]);
    }
    size_t checked = 0, mismatches = 0, pairs = 0;
    for (size_t sample = 0; depth && sample < code_count; sample += 37) {
        for (size_t i = 0; i <= code_count; i++)
            depth[i] = -1;
        depth[sample] = 0;
        for (int changed = 1; changed;) {
            changed = 0;
            for (size_t e = 0; e < loaded; e++) {
                int32_t c = child[e], p = parent[e];
                if (depth[c] >= 0 && (depth[p] < 0 || depth[p] > depth[c] + 1)) {
                    depth[p] = depth[c] + 1;
                    changed = 1;
                }
            }
        }
        size_t expected = 0;
        for (size_t i = 0; i < code_count; i++)
            expected += depth[i] >= 0;
        size_t found = 0;
        sqlite3_bind_int(stored, 1, codes[sample]);
        while (sqlite3_step(stored) == SQLITE_ROW) {
            size_t hit = dense_index(codes, code_count, sqlite3_column_int(stored, 0));
            if (hit >= code_count || depth[hit] != sqlite3_column_int(stored, 1))
                mismatches++;
            found++;
        }
        sqlite3_reset(stored);
        if (found != expected)
            mismatches++;
        pairs += found;
        checked++;
    }
    CHECK(checked > 250 && pairs > checked, "checked %zu codes, %zu pairs", checked, pairs);
    CHECK(mismatches == 0, "%zu mismatches", mismatches);
    sqlite3_finalize(edges);
    sqlite3_finalize(stored);
    free(child);
    free(parent);
    free(depth);
    CHECK(query_int(db, "SELECT count(*) FROM condition_search WHERE condition_search MATCH "
                        "'drepanocytose'") > 0,
          "accent-insensitive search");
    fixture_close(&fixture);
}

TEST(bad_geojson_feature_lines_rejected)
{
    char path[600];
    const char *text =
        "{\"type\":\"FeatureCollection\",\"features\":[\n"
        "{\"type\":\"Feature\",\"properties\":{\"code\":\"S1\",\"nom\":\"Synthétique\","
        "\"population\":10},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],"
        "[1,1],[0,0]]]}},\n"
        "{\"type\":\"Feature\",\"properties\":{\"code\":\"S2\",\n"
        "{\"type\":\"Feature\",\"properties\":{\"code\":\"S3\",\"nom\":\"Sans population\"},"
        "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]]]}},\n"
        "{\"type\":\"Feature\",\"properties\":{\"code\":\"S4\",\"nom\":\"Point\","
        "\"population\":5},\"geometry\":{\"type\":\"Point\",\"coordinates\":[0,0]}},\n"
        "{\"type\":\"Feature\",\"properties\":{\"code\":\"S1\",\"nom\":\"Doublon\","
        "\"population\":1},\"geometry\":{\"type\":\"MultiPolygon\",\"coordinates\":[[[[0,0],"
        "[1,0],[1,1],[0,0]]]]}}\n"
        "]}\n";
    CHECK(write_fixture("synthetic-regions.geojson", text, path, sizeof path) == 0, "write");
    Fixture fixture;
    CHECK(fixture_open(&fixture, "synthetic-areas.sqlite") == 0, "open");
    CHECK(import_regions(&fixture.context, path) == 0, "%s", fixture.context.error);
    BuildInput *input = fixture.report.inputs[0];
    CHECK(input->rows == 5 && input->loaded == 1, "rows %ld loaded %ld", input->rows,
          input->loaded);
    CHECK(totals_add_up(input), "totals");
    static const long lines[] = {3, 4, 5, 6};
    CHECK(input->rejected.count == 4, "rejected %zu", input->rejected.count);
    for (size_t i = 0; i < input->rejected.count && i < 4; i++)
        CHECK(input->rejected.notes[i].line == lines[i], "line %ld: %s",
              input->rejected.notes[i].line, input->rejected.notes[i].text);
    CHECK(query_int(fixture.store.db,
                    "SELECT count(*) FROM regions WHERE code = 'S1' AND "
                    "GeometryType(geom) = 'MULTIPOLYGON' AND ST_Srid(geom) = 4326") == 1,
          "stored as MULTIPOLYGON 4326");
    fixture_close(&fixture);
    /* A file that is not one feature per line is a fatal error naming line 1. */
    CHECK(write_fixture("synthetic-one-line.geojson",
                        "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\"}]}\n",
                        path, sizeof path) == 0,
          "write");
    CHECK(fixture_open(&fixture, "synthetic-areas.sqlite") == 0, "open");
    CHECK(import_regions(&fixture.context, path) != 0, "one-line GeoJSON must fail");
    CHECK(strstr(fixture.context.error, "synthetic-one-line.geojson:1: ") != NULL, "%s",
          fixture.context.error);
    fixture_close(&fixture);
}

TEST(official_finess_malformed_lines_rejected)
{
    char path[600];
    /* Latin-1: \xE9 is é. */
    const char *text =
        "finess;etalab;98;2020-03-06\n"
        "structureet;750000001;;CLINIQUE SYNTH\xC9TIQUE;CLINIQUE SYNTH\xC9TIQUE;;;12;R;DES "
        "TESTS;B;;;75;;75013 PARIS;0100000000;;;Synth\xE9tique;;;;;;;;;;;;\n"
        "structureet;750000002;too;few\n"
        "structureet;750000001;;DOUBLON;;;;;;;;;;75;;75013 PARIS;;;;;;;;;;;;;;;;\n"
        "mystere;1;2\n"
        "geolocalisation;750000001;651000.0;6861000.0;1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,"
        "LAMBERT_93;2020-03-06\n"
        "geolocalisation;750000001;651000.0;6861000.0;1,X,LAMBERT_93;2020-03-06\n"
        "geolocalisation;750000002;1;2;1,X,LAMBERT_93;2020-03-06\n"
        "geolocalisation;75000000X;1;2;1,X,LAMBERT_93;2020-03-06\n"
        "geolocalisation;750000001;1;2;1,X,LAMBERT_93\n";
    CHECK(write_fixture("synthetic-official.csv", text, path, sizeof path) == 0, "write");
    Fixture fixture;
    CHECK(fixture_open(&fixture, "synthetic-official.sqlite") == 0, "open");
    CHECK(import_finess_official(&fixture.context, path, "synthetic-official.csv") == 0, "%s",
          fixture.context.error);
    BuildInput *input = fixture.report.inputs[0];
    CHECK(input->rows == 9 && input->loaded == 2, "rows %ld loaded %ld", input->rows,
          input->loaded);
    CHECK(totals_add_up(input), "totals");
    static const struct {
        long line;
        const char *part;
    } expected[] = {{3, "structureet line with 4 fields"},
                    {4, "repeated structureet for FINESS 750000001 (line 2)"},
                    {5, "unknown line type 'mystere'"},
                    {7, "repeated geolocalisation"},
                    {8, "no structureet line for FINESS 750000002"},
                    {9, "no structureet line for FINESS 75000000X"},
                    {10, "geolocalisation line with 5 fields"}};
    CHECK(input->rejected.count == 7, "rejected %zu", input->rejected.count);
    for (size_t i = 0; i < input->rejected.count && i < 7; i++) {
        CHECK(input->rejected.notes[i].line == expected[i].line, "line %ld, expected %ld",
              input->rejected.notes[i].line, expected[i].line);
        CHECK(strstr(input->rejected.notes[i].text, expected[i].part) != NULL,
              "\"%s\" lacks \"%s\"", input->rejected.notes[i].text, expected[i].part);
    }
    CHECK(query_int(fixture.store.db,
                    "SELECT count(*) FROM etablissements WHERE finess = '750000001' AND name = "
                    "'CLINIQUE SYNTHÉTIQUE' AND facility_type = 'Synthétique' AND street = 'RUE "
                    "DES TESTS' AND house_number = '12B' AND postcode = '75013' AND city = 'PARIS' "
                    "AND position_source = 'finess_official' AND lat BETWEEN 48.8 AND 48.9") == 1,
          "structure converted from latin-1 and placed");
    fixture_close(&fixture);
}

/* --network-format: an encoding and a separator, in any order, each once. */
TEST(network_format_values)
{
    ImportFormat format;
    char error[256], text[64];
    CHECK(import_format_parse("windows-1252,semicolon", &format, error, sizeof error) == 0, "%s",
          error);
    CHECK(format.encoding == TEXT_ENCODING_WINDOWS_1252 && format.separator == ';', "both parts");
    import_format_text(&format, text, sizeof text);
    const char *written = text;
    CHECK_STRING(written, "windows-1252,semicolon");
    CHECK(import_format_parse("tab", &format, error, sizeof error) == 0 &&
              format.encoding == TEXT_ENCODING_AUTO && format.separator == '\t',
          "a separator alone");
    CHECK(import_format_parse("auto", &format, error, sizeof error) == 0 &&
              format.encoding == TEXT_ENCODING_AUTO && format.separator == 0,
          "auto");
    const char *refused[] = {"", "utf-8,latin-1", "comma,tab", "ebcdic", "utf-8,,", ",", "utf-16"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        CHECK(import_format_parse(refused[i], &format, error, sizeof error) == -1 &&
                  strstr(error, "ENCODING[,SEPARATOR]"),
              "'%s' refused", refused[i]);
}

int main(void)
{
    const char *temporary = getenv("TMPDIR");
    snprintf(directory, sizeof directory, "%s/maillage-test-importers-XXXXXX",
             temporary && temporary[0] ? temporary : "/tmp");
    if (!mkdtemp(directory)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(network_format_values);
    RUN(ancestors_match_a_brute_force_relaxation);
    RUN(bad_geojson_feature_lines_rejected);
    RUN(official_finess_malformed_lines_rejected);
    static const char *const leftovers[] = {"synthetic-regions.geojson",
                                            "synthetic-one-line.geojson", "synthetic-official.csv"};
    for (size_t i = 0; i < sizeof leftovers / sizeof leftovers[0]; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s", directory, leftovers[i]);
        unlink(path);
    }
    rmdir(directory);
    return CHECK_SUMMARY("test_build_importers");
}
