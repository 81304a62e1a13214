/* import_areas.c — communes, areas, filières, FSMR sites; see import_areas.h. */
#include "build/import_areas.h"
#include "base/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const ImportColumn commune_columns[] = {
    {"code", IMPORT_TEXT, 1},         {"name", IMPORT_TEXT, 1},
    {"departement", IMPORT_TEXT, 0},  {"region", IMPORT_TEXT, 0},
    {"postcodes", IMPORT_TEXT, 0},    {"population", IMPORT_INTEGER, 0},
    {"lat", IMPORT_LATITUDE, 0},      {"lon", IMPORT_LONGITUDE, 0},
    {"kind", IMPORT_TEXT, 0},         {"parent_commune", IMPORT_TEXT, 0},
    {"point_source", IMPORT_TEXT, 0},
};

static int check_commune(ImportContext *context, void *state, BuildInput *input, long line,
                         char *const *values, char *reason, size_t reason_size)
{
    (void)context;
    (void)state;
    (void)input;
    (void)line;
    if (!values[6][0] != !values[7][0]) {
        snprintf(reason, reason_size, "lat and lon must be both given or both empty");
        return 1;
    }
    return 0;
}

int import_communes(ImportContext *context, const char *path)
{
    ImportTable table = {
        .kind = "communes",
        .columns = commune_columns,
        .column_count = sizeof commune_columns / sizeof commune_columns[0],
        .insert_sql = "INSERT INTO communes(code, name, departement, region, postcodes, "
                      "population, lat, lon, kind, parent_commune, point_source, geom) VALUES "
                      "(:code, :name, :departement, :region, :postcodes, :population, :lat, "
                      ":lon, :kind, :parent_commune, :point_source, CASE WHEN :lat IS NULL "
                      "THEN NULL ELSE MakePoint(:lon, :lat, 4326) END)",
        .check_row = check_commune,
    };
    return import_csv_table(context, path, import_base_name(path), &table);
}

static const ImportColumn filiere_columns[] = {
    {"filiere", IMPORT_TEXT, 1},
    {"dropdown_name", IMPORT_TEXT, 0},
    {"filiere_net_id", IMPORT_INTEGER, 0},
    {"sites", IMPORT_INTEGER, 0},
    {"coordonnateur_sites", IMPORT_INTEGER, 0},
    {"constitutif_sites", IMPORT_INTEGER, 0},
    {"competence_sites", IMPORT_INTEGER, 0},
    {"distinct_centre_names", IMPORT_INTEGER, 0},
    {"lead_orpha_expert_centre_id", IMPORT_INTEGER, 0},
};

int import_filieres(ImportContext *context, const char *path)
{
    ImportTable table = {
        .kind = "filieres",
        .columns = filiere_columns,
        .column_count = sizeof filiere_columns / sizeof filiere_columns[0],
        .insert_sql = "INSERT INTO filieres(filiere, dropdown_name, filiere_net_id, sites, "
                      "coordonnateur_sites, constitutif_sites, competence_sites, "
                      "distinct_centre_names, lead_orpha_expert_centre_id) VALUES (:filiere, "
                      ":dropdown_name, :filiere_net_id, :sites, :coordonnateur_sites, "
                      ":constitutif_sites, :competence_sites, :distinct_centre_names, "
                      ":lead_orpha_expert_centre_id)",
    };
    return import_csv_table(context, path, import_base_name(path), &table);
}

static const ImportColumn fsmr_columns[] = {
    {"filiere", IMPORT_TEXT, 1},
    {"filiere_net_id", IMPORT_INTEGER, 0},
    {"orpha_expert_centre_id", IMPORT_INTEGER, 1},
    {"centre_name", IMPORT_TEXT, 0},
    {"site_nature", IMPORT_TEXT, 0},
    {"filiere_lead", IMPORT_BOOLEAN, 0},
    {"priority", IMPORT_INTEGER, 0},
};

int import_fsmr_sites(ImportContext *context, const char *path)
{
    ImportTable table = {
        .kind = "fsmr_sites",
        .columns = fsmr_columns,
        .column_count = sizeof fsmr_columns / sizeof fsmr_columns[0],
        .insert_sql = "INSERT INTO fsmr_sites(filiere, filiere_net_id, orpha_expert_centre_id, "
                      "centre_name, site_nature, filiere_lead, priority) VALUES (:filiere, "
                      ":filiere_net_id, :orpha_expert_centre_id, :centre_name, :site_nature, "
                      ":filiere_lead, :priority)",
    };
    return import_csv_table(context, path, import_base_name(path), &table);
}

/* ---- one-feature-per-line GeoJSON --------------------------------------- */

static const char FEATURE_SQL[] =
    "SELECT json_extract(?1, '$.type'), json_extract(?1, '$.properties.code'),"
    "  json_extract(?1, '$.properties.nom'), json_type(?1, '$.properties.population'),"
    "  json_extract(?1, '$.properties.population'), json_extract(?1, '$.geometry.type'),"
    "  CastToMultiPolygon(SetSRID(GeomFromGeoJSON(json_extract(?1, '$.geometry')), 4326))";

typedef struct AreaImport {
    ImportContext *context;
    BuildInput *input;
    const char *path;
    const char *file;
    sqlite3_stmt *is_json;
    sqlite3_stmt *feature;
    sqlite3_stmt *insert;
} AreaImport;

static int text_equals(sqlite3_stmt *statement, int column, const char *expected)
{
    const unsigned char *text = sqlite3_column_text(statement, column);
    return text && strcmp((const char *)text, expected) == 0;
}

/* Checks one feature (the `feature` statement has a row) and inserts it;
 * returns 0, or 1 with a reason, or -1 on a database error. */
static int insert_feature(AreaImport *import, char *reason, size_t reason_size)
{
    sqlite3_stmt *feature = import->feature, *insert = import->insert;
    if (!text_equals(feature, 0, "Feature")) {
        snprintf(reason, reason_size, "not a GeoJSON Feature");
        return 1;
    }
    if (sqlite3_column_type(feature, 1) != SQLITE_TEXT ||
        sqlite3_column_type(feature, 2) != SQLITE_TEXT) {
        snprintf(reason, reason_size, "missing properties.code or properties.nom");
        return 1;
    }
    if (!text_equals(feature, 3, "integer") || sqlite3_column_int64(feature, 4) < 0) {
        snprintf(reason, reason_size, "properties.population is not a non-negative integer");
        return 1;
    }
    if (!(text_equals(feature, 5, "Polygon") || text_equals(feature, 5, "MultiPolygon")) ||
        sqlite3_column_type(feature, 6) != SQLITE_BLOB) {
        snprintf(reason, reason_size, "geometry is not a valid Polygon or MultiPolygon");
        return 1;
    }
    sqlite3_bind_value(insert, 1, sqlite3_column_value(feature, 1));
    sqlite3_bind_value(insert, 2, sqlite3_column_value(feature, 2));
    sqlite3_bind_value(insert, 3, sqlite3_column_value(feature, 4));
    sqlite3_bind_value(insert, 4, sqlite3_column_value(feature, 6));
    int status = sqlite3_step(insert);
    sqlite3_reset(insert);
    if (status == SQLITE_DONE)
        return 0;
    if (status == SQLITE_CONSTRAINT) {
        snprintf(reason, reason_size, "rejected by the database: %s",
                 sqlite3_errmsg(import->context->db));
        return 1;
    }
    return -1;
}

/* Handles one feature line (text without the trailing comma). */
static int area_line(AreaImport *import, const char *text, size_t length, long line)
{
    char reason[256];
    sqlite3_bind_text(import->is_json, 1, text, (int)length, SQLITE_STATIC);
    int valid =
        sqlite3_step(import->is_json) == SQLITE_ROW && sqlite3_column_int(import->is_json, 0) == 1;
    sqlite3_reset(import->is_json);
    if (!valid || !utf8_is_valid(text, length)) {
        build_input_reject(import->input, line, "not valid JSON");
        return 0;
    }
    sqlite3_bind_text(import->feature, 1, text, (int)length, SQLITE_STATIC);
    int status = sqlite3_step(import->feature);
    int verdict = -1;
    if (status == SQLITE_ROW)
        verdict = insert_feature(import, reason, sizeof reason);
    sqlite3_reset(import->feature);
    if (verdict < 0)
        return import_fail(import->context, import->file, line, "database error: %s",
                           sqlite3_errmsg(import->context->db));
    if (verdict > 0)
        build_input_reject(import->input, line, "%s", reason);
    else
        build_input_loaded(import->input);
    return 0;
}

static int area_lines(AreaImport *import, char *text, size_t length)
{
    long line = 0;
    size_t start = 0;
    while (start < length) {
        size_t end = start;
        while (end < length && text[end] != '\n')
            end++;
        line++;
        size_t last = end;
        while (last > start && (text[last - 1] == '\r' || text[last - 1] == ' ' ||
                                text[last - 1] == '\t' || text[last - 1] == ','))
            last--;
        size_t first = start;
        while (first < last && (text[first] == ' ' || text[first] == '\t'))
            first++;
        if (line == 1) {
            /* The opening line: {"type":"FeatureCollection","features":[ */
            int opening = last > start && text[last - 1] == '[' &&
                          memmem(text + start, last - start, "\"FeatureCollection\"", 19) &&
                          !memmem(text + start, last - start, "\"Feature\"", 9);
            if (!opening)
                return import_fail(import->context, import->path, 1,
                                   "not a GeoJSON FeatureCollection with one feature per line");
        } else if (first < last && text[first] != ']') {
            if (area_line(import, text + first, last - first, line) != 0)
                return -1;
        }
        start = end + 1;
    }
    if (line == 0)
        return import_fail(import->context, import->path, 0, "empty file");
    return 0;
}

static int import_area_file(ImportContext *context, const char *path, const char *kind,
                            const char *insert_sql)
{
    AreaImport import = {.context = context, .path = path, .file = import_base_name(path)};
    import.input = build_report_add_input(context->report, import.file, kind);
    if (!import.input)
        return import_fail(context, import.file, 0, "out of memory");
    Buffer content;
    buffer_init(&content);
    int result = -1;
    if (import_read_file(context, path, &content) != 0 ||
        import_prepare(context, import.file, "SELECT json_valid(?1)", &import.is_json) != 0 ||
        import_prepare(context, import.file, FEATURE_SQL, &import.feature) != 0 ||
        import_prepare(context, import.file, insert_sql, &import.insert) != 0)
        goto done;
    result = area_lines(&import, content.data, content.length);
done:
    sqlite3_finalize(import.is_json);
    sqlite3_finalize(import.feature);
    sqlite3_finalize(import.insert);
    buffer_free(&content);
    build_input_finish(import.input);
    return result;
}

int import_departements(ImportContext *context, const char *path)
{
    if (import_area_file(context, path, "departements",
                         "INSERT INTO departements(code, name, population, geom) "
                         "VALUES (?, ?, ?, ?)") != 0)
        return -1;
    return import_exec(context, import_base_name(path),
                       "UPDATE departements SET region = (SELECT region FROM communes"
                       "  WHERE communes.departement = departements.code AND region IS NOT NULL"
                       "  GROUP BY region ORDER BY count(*) DESC, region LIMIT 1)");
}

int import_regions(ImportContext *context, const char *path)
{
    return import_area_file(context, path, "regions",
                            "INSERT INTO regions(code, name, population, geom) "
                            "VALUES (?, ?, ?, ?)");
}
