/* import_network.c — network CSVs into sites, site_codes and links; see
 * import_network.h. */
#include "build/import_network.h"
#include "build/import_finess.h"
#include "base/array.h"
#include "base/text.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SITE_ID_MAX 64

/* Header columns, in this order in `NetworkImport.indexes`. */
enum {
    COLUMN_SITE_ID,
    COLUMN_FINESS,
    COLUMN_LAT,
    COLUMN_LON,
    COLUMN_X,
    COLUMN_Y,
    COLUMN_SRS,
    COLUMN_STRUCTURE_NAME,
    COLUMN_ROLE,
    COLUMN_CENTRE_LABEL,
    COLUMN_FILIERE,
    COLUMN_ORPHA_CODES,
    COLUMN_PUBLIC,
    COLUMN_RESPONSABLE,
    COLUMN_SERVICE,
    COLUMN_PLATFORM,
    COLUMN_SOURCE,
    COLUMN_COORDINATOR_SITE_ID,
    COLUMN_COOPERATES_WITH,
    COLUMN_COUNT
};

static const char *const column_names[COLUMN_COUNT] = {
    "site_id",
    "finess",
    "lat",
    "lon",
    "x",
    "y",
    "srs",
    "structure_name",
    "role",
    "centre_label",
    "filiere",
    "orpha_codes",
    "public",
    "responsable",
    "service",
    "platform",
    "source",
    "coordinator_site_id",
    "cooperates_with",
};

static const char *const roles[] = {
    "crmr_coordonnateur", "crmr_constitutif",     "crmr",          "ccmr",        "cooperation",
    "platform_member",    "platform_coordinator", "medico_social", "association",
};

int network_site_id_is_valid(const char *site_id)
{
    size_t length = 0;
    for (const char *p = site_id; *p; p++, length++) {
        unsigned char c = (unsigned char)*p;
        if (!(isalnum(c) && c < 0x80) && c != '_' && c != '.' && c != '-')
            return 0;
    }
    return length >= 1 && length <= SITE_ID_MAX;
}

static int role_is_known(const char *role)
{
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (strcmp(role, roles[i]) == 0)
            return 1;
    return 0;
}

typedef struct NetworkImport {
    ImportContext *context;
    BuildInput *input;
    const char *file;
    int indexes[COLUMN_COUNT];
    size_t header_count;
    sqlite3_stmt *insert_site;
    sqlite3_stmt *insert_code;
    sqlite3_stmt *first_row;
    FinessLookup finess;
    int32_t *codes;
    size_t code_count;
    size_t code_capacity;
    Buffer normalised_codes;
} NetworkImport;

/* One row being checked; fields are "" when absent. */
typedef struct NetworkRow {
    char *fields[COLUMN_COUNT];
    long line;
    double lat, lon;
    const char *position_source;
    FinessPlace place;
    int has_place;
} NetworkRow;

static int add_code(NetworkImport *import, int32_t code)
{
    for (size_t i = 0; i < import->code_count; i++)
        if (import->codes[i] == code)
            return 0;
    if (array_reserve(import->codes, import->code_capacity, import->code_count + 1, 16) != 0)
        return -1;
    import->codes[import->code_count++] = code;
    return 0;
}

/* Parses the |-joined codes into import->codes; 0, 1 with a reason, -1 out of memory. */
static int parse_codes(NetworkImport *import, char *text, char *reason, size_t reason_size)
{
    import->code_count = 0;
    buffer_reset(&import->normalised_codes);
    if (!text[0])
        return 0;
    char *item = text;
    for (;;) {
        char *bar = strchr(item, '|');
        if (bar)
            *bar = 0;
        char *code_text = text_trim(item);
        if (strncmp(code_text, "ORPHA:", 6) == 0)
            code_text += 6;
        int64_t code = 0;
        if (parse_integer(code_text, 1, INT32_MAX, &code) != 0) {
            snprintf(reason, reason_size, "invalid ORPHAcode '%.40s'", code_text);
            return 1;
        }
        if (!import_orpha_code_known(import->context, code)) {
            snprintf(reason, reason_size, "unknown ORPHAcode %lld", (long long)code);
            return 1;
        }
        size_t before = import->code_count;
        if (add_code(import, (int32_t)code) != 0)
            return -1;
        if (import->code_count > before)
            buffer_printf(&import->normalised_codes, "%s%lld", before ? "|" : "", (long long)code);
        if (!bar)
            break;
        item = bar + 1;
    }
    return import->normalised_codes.failed ? -1 : 0;
}

/* parse_decimal(), also with a decimal comma ("48,5597", as a French
 * spreadsheet writes numbers): one comma and no dot. Returns 0 or -1. */
static int parse_coordinate(const char *text, double *value)
{
    if (parse_decimal(text, value) == 0)
        return 0;
    const char *comma = strchr(text, ',');
    char copy[64];
    if (!comma || strchr(comma + 1, ',') || strchr(text, '.') || strlen(text) >= sizeof copy)
        return -1;
    strcpy(copy, text);
    copy[comma - text] = '.';
    return parse_decimal(copy, value);
}

/* Resolves the position; 0, 1 with a reason, -1 on a database error. */
static int resolve_position(NetworkImport *import, NetworkRow *row, char *reason,
                            size_t reason_size)
{
    char **f = row->fields;
    if (f[COLUMN_FINESS][0]) {
        int found = finess_lookup_find(&import->finess, f[COLUMN_FINESS], &row->place);
        if (found < 0)
            return -1;
        row->has_place = found;
    }
    if (f[COLUMN_LAT][0] || f[COLUMN_LON][0]) {
        if (!f[COLUMN_LAT][0] || !f[COLUMN_LON][0]) {
            snprintf(reason, reason_size, "lat and lon must be given together");
            return 1;
        }
        if (parse_coordinate(f[COLUMN_LAT], &row->lat) != 0 || row->lat < -90 || row->lat > 90) {
            snprintf(reason, reason_size,
                     "invalid lat '%.40s' (decimal degrees between -90 and 90, e.g. 48.5597)",
                     f[COLUMN_LAT]);
            return 1;
        }
        if (parse_coordinate(f[COLUMN_LON], &row->lon) != 0 || row->lon < -180 || row->lon > 180) {
            snprintf(reason, reason_size,
                     "invalid lon '%.40s' (decimal degrees between -180 and 180, e.g. 3.2994)",
                     f[COLUMN_LON]);
            return 1;
        }
        row->position_source = "latlon";
        return 0;
    }
    if (f[COLUMN_X][0] || f[COLUMN_Y][0] || f[COLUMN_SRS][0]) {
        double x = 0, y = 0;
        if (!f[COLUMN_X][0] || !f[COLUMN_Y][0] || !f[COLUMN_SRS][0]) {
            snprintf(reason, reason_size, "x, y and srs must be given together");
            return 1;
        }
        if (parse_coordinate(f[COLUMN_X], &x) != 0) {
            snprintf(reason, reason_size, "non-numeric x '%.40s'", f[COLUMN_X]);
            return 1;
        }
        if (parse_coordinate(f[COLUMN_Y], &y) != 0) {
            snprintf(reason, reason_size, "non-numeric y '%.40s'", f[COLUMN_Y]);
            return 1;
        }
        if (reprojector_to_wgs84(import->context->reprojector, f[COLUMN_SRS], x, y, &row->lat,
                                 &row->lon, reason, reason_size) != 0)
            return 1;
        row->position_source = "projected";
        return 0;
    }
    if (f[COLUMN_FINESS][0]) {
        if (!row->has_place) {
            snprintf(reason, reason_size,
                     "unresolvable position: FINESS %s has no known position and the row has "
                     "no lat/lon or x/y/srs",
                     f[COLUMN_FINESS]);
            return 1;
        }
        row->lat = row->place.lat;
        row->lon = row->place.lon;
        row->position_source = row->place.official ? "finess_official" : "finess";
        if (row->place.flagged_outside)
            build_input_warn(import->input, row->line,
                             "site %s is placed at the position of FINESS %s, which the extract "
                             "flags geo_check=outside_departement",
                             f[COLUMN_SITE_ID], f[COLUMN_FINESS]);
        return 0;
    }
    snprintf(reason, reason_size, "unresolvable position: no lat/lon, x/y/srs or finess");
    return 1;
}

/* Checks a row; 0 when good, 1 with a reason, -1 on a fatal error. */
static int check_row(NetworkImport *import, NetworkRow *row, char *reason, size_t reason_size)
{
    char **f = row->fields;
    static const int trimmed[] = {COLUMN_SITE_ID,
                                  COLUMN_FINESS,
                                  COLUMN_LAT,
                                  COLUMN_LON,
                                  COLUMN_X,
                                  COLUMN_Y,
                                  COLUMN_SRS,
                                  COLUMN_ROLE,
                                  COLUMN_PUBLIC,
                                  COLUMN_COORDINATOR_SITE_ID,
                                  COLUMN_COOPERATES_WITH};
    for (size_t i = 0; i < sizeof trimmed / sizeof trimmed[0]; i++)
        text_trim(f[trimmed[i]]);
    if (!network_site_id_is_valid(f[COLUMN_SITE_ID])) {
        snprintf(reason, reason_size, "invalid site_id '%.70s' (expected [A-Za-z0-9_.-]{1,64})",
                 f[COLUMN_SITE_ID]);
        return 1;
    }
    if (!role_is_known(f[COLUMN_ROLE])) {
        snprintf(reason, reason_size, "unknown role '%.40s'", f[COLUMN_ROLE]);
        return 1;
    }
    const char *audience = f[COLUMN_PUBLIC];
    if (audience[0] && strcmp(audience, "enfants") != 0 && strcmp(audience, "adultes") != 0 &&
        strcmp(audience, "tous") != 0) {
        snprintf(reason, reason_size, "invalid public '%.40s' (expected enfants, adultes or tous)",
                 audience);
        return 1;
    }
    if (f[COLUMN_FINESS][0] && !finess_number_is_valid(f[COLUMN_FINESS])) {
        snprintf(reason, reason_size, "invalid FINESS number '%.40s'", f[COLUMN_FINESS]);
        return 1;
    }
    int verdict = parse_codes(import, f[COLUMN_ORPHA_CODES], reason, reason_size);
    if (verdict != 0)
        return verdict < 0 ? import_fail(import->context, import->file, row->line, "out of memory")
                           : 1;
    verdict = resolve_position(import, row, reason, reason_size);
    if (verdict < 0)
        return import_fail(import->context, import->file, row->line, "database error: %s",
                           sqlite3_errmsg(import->context->db));
    return verdict;
}

static void bind_optional(sqlite3_stmt *statement, int index, const char *text)
{
    if (text && text[0])
        sqlite3_bind_text(statement, index, text, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(statement, index);
}

static const char INSERT_SITE_SQL[] =
    "INSERT INTO sites(site_id, finess, structure_name, role, centre_label, filiere, orpha_codes,"
    "  public, responsable, service, platform, source, coordinator_site_id, cooperates_with,"
    "  lat, lon, position_source, phone, address, postcode, city, input_file, input_line, geom)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
    "  ?19, ?20, ?21, ?22, ?23, MakePoint(?16, ?15, 4326))";

/* Inserts a checked row; 0 done, 1 repeated site_id (reason set), -1 fatal. */
static int insert_site(NetworkImport *import, NetworkRow *row, char *reason, size_t reason_size)
{
    char **f = row->fields;
    sqlite3_stmt *s = import->insert_site;
    static const int text_columns[] = {COLUMN_SITE_ID,
                                       COLUMN_FINESS,
                                       COLUMN_STRUCTURE_NAME,
                                       COLUMN_ROLE,
                                       COLUMN_CENTRE_LABEL,
                                       COLUMN_FILIERE,
                                       COLUMN_ORPHA_CODES,
                                       COLUMN_PUBLIC,
                                       COLUMN_RESPONSABLE,
                                       COLUMN_SERVICE,
                                       COLUMN_PLATFORM,
                                       COLUMN_SOURCE,
                                       COLUMN_COORDINATOR_SITE_ID,
                                       COLUMN_COOPERATES_WITH};
    for (int i = 0; i < (int)(sizeof text_columns / sizeof text_columns[0]); i++)
        bind_optional(s, i + 1, f[text_columns[i]]);
    bind_optional(s, 7, import->normalised_codes.data);
    sqlite3_bind_double(s, 15, row->lat);
    sqlite3_bind_double(s, 16, row->lon);
    sqlite3_bind_text(s, 17, row->position_source, -1, SQLITE_STATIC);
    bind_optional(s, 18, row->has_place ? row->place.phone : NULL);
    bind_optional(s, 19, row->has_place ? row->place.address : NULL);
    bind_optional(s, 20, row->has_place ? row->place.postcode : NULL);
    bind_optional(s, 21, row->has_place ? row->place.city : NULL);
    sqlite3_bind_text(s, 22, import->file, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 23, row->line);
    int status = sqlite3_step(s);
    sqlite3_reset(s);
    if (status == SQLITE_CONSTRAINT) {
        sqlite3_stmt *first = import->first_row;
        sqlite3_bind_text(first, 1, f[COLUMN_SITE_ID], -1, SQLITE_TRANSIENT);
        if (sqlite3_step(first) == SQLITE_ROW)
            snprintf(reason, reason_size, "repeated site_id %s (first at %s line %lld)",
                     f[COLUMN_SITE_ID], (const char *)sqlite3_column_text(first, 0),
                     (long long)sqlite3_column_int64(first, 1));
        else
            snprintf(reason, reason_size, "rejected by the database: %s",
                     sqlite3_errmsg(import->context->db));
        sqlite3_reset(first);
        return 1;
    }
    if (status != SQLITE_DONE)
        return -1;
    for (size_t i = 0; i < import->code_count; i++) {
        sqlite3_bind_int(import->insert_code, 1, import->codes[i]);
        sqlite3_bind_text(import->insert_code, 2, f[COLUMN_SITE_ID], -1, SQLITE_TRANSIENT);
        status = sqlite3_step(import->insert_code);
        sqlite3_reset(import->insert_code);
        if (status != SQLITE_DONE)
            return -1;
    }
    return 0;
}

static int network_record(NetworkImport *import, CsvReader *reader)
{
    NetworkRow row;
    memset(&row, 0, sizeof row);
    row.line = reader->record_line;
    if (reader->field_count != import->header_count) {
        build_input_reject(import->input, row.line, "too %s fields (%zu, expected %zu)",
                           reader->field_count < import->header_count ? "few" : "many",
                           reader->field_count, import->header_count);
        return 0;
    }
    static char empty[COLUMN_COUNT][1];
    for (int i = 0; i < COLUMN_COUNT; i++)
        row.fields[i] = import->indexes[i] >= 0 ? reader->fields[import->indexes[i]] : empty[i];
    char reason[256];
    int verdict = check_row(import, &row, reason, sizeof reason);
    if (verdict == 0) {
        verdict = insert_site(import, &row, reason, sizeof reason);
        if (verdict < 0)
            return import_fail(import->context, import->file, row.line, "database error: %s",
                               sqlite3_errmsg(import->context->db));
    }
    if (verdict < 0)
        return -1;
    if (verdict > 0)
        build_input_reject(import->input, row.line, "%s", reason);
    else
        build_input_loaded(import->input);
    return 0;
}

/* Columns outside the CONTRACT are ignored, with a warning on line 1. */
static void warn_unknown_columns(NetworkImport *import, const CsvReader *header)
{
    for (size_t i = 0; i < header->field_count; i++) {
        int known = 0;
        for (int j = 0; j < COLUMN_COUNT && !known; j++)
            known = strcmp(header->fields[i], column_names[j]) == 0;
        if (!known)
            build_input_warn(import->input, header->record_line, "unknown column '%.60s' ignored",
                             header->fields[i]);
    }
}

int import_network(ImportContext *context, const char *path, const char *file,
                   const ImportFormat *format)
{
    NetworkImport import;
    memset(&import, 0, sizeof import);
    import.context = context;
    import.file = file;
    buffer_init(&import.normalised_codes);
    import.input = build_report_add_input(context->report, file, "network");
    if (!import.input)
        return import_fail(context, file, 0, "out of memory");
    CsvReader reader;
    if (import_format_open(context, &reader, path, file, format, import.input) != 0) {
        build_input_finish(import.input);
        return -1;
    }
    int required[COLUMN_COUNT] = {0};
    required[COLUMN_SITE_ID] = required[COLUMN_ROLE] = 1;
    int result = -1;
    if (import_read_header(context, &reader, path, column_names, required, import.indexes,
                           COLUMN_COUNT) != 0 ||
        import_prepare(context, file, INSERT_SITE_SQL, &import.insert_site) != 0 ||
        import_prepare(context, file,
                       "INSERT OR IGNORE INTO site_codes(orpha_code, site_id) VALUES (?, ?)",
                       &import.insert_code) != 0 ||
        import_prepare(context, file, "SELECT input_file, input_line FROM sites WHERE site_id = ?",
                       &import.first_row) != 0 ||
        finess_lookup_open(context, &import.finess, file) != 0)
        goto done;
    import.header_count = reader.field_count;
    warn_unknown_columns(&import, &reader);
    for (;;) {
        CsvStatus status = csv_next(&reader);
        if (status == CSV_END)
            break;
        if (status == CSV_MALFORMED) {
            char reason[256];
            import_format_reason(import.input, reader.error, reason, sizeof reason);
            build_input_reject(import.input, reader.record_line, "%s", reason);
            continue;
        }
        if (network_record(&import, &reader) != 0)
            goto done;
    }
    result = 0;
done:
    sqlite3_finalize(import.insert_site);
    sqlite3_finalize(import.insert_code);
    sqlite3_finalize(import.first_row);
    finess_lookup_close(&import.finess);
    free(import.codes);
    buffer_free(&import.normalised_codes);
    csv_close(&reader);
    build_input_finish(import.input);
    return result;
}

/* ---- links --------------------------------------------------------------- */

typedef struct LinkWork {
    ImportContext *context;
    sqlite3_stmt *exists;
    sqlite3_stmt *insert;
} LinkWork;

/* Draws one link; a missing target becomes a warning. 0, or -1 on a database error. */
static int draw_link(LinkWork *work, const char *from, const char *to, const char *kind,
                     const char *column, const char *input_file, long line)
{
    BuildInput *input = build_report_find_input(work->context->report, input_file);
    if (strcmp(from, to) == 0) {
        if (input)
            build_input_warn(input, line, "%s of site %s names the site itself; no link drawn",
                             column, from);
        return 0;
    }
    sqlite3_bind_text(work->exists, 1, to, -1, SQLITE_TRANSIENT);
    int status = sqlite3_step(work->exists);
    sqlite3_reset(work->exists);
    if (status == SQLITE_DONE) {
        if (input)
            build_input_warn(input, line, "%s %s of site %s is not a known site; no link drawn",
                             column, to, from);
        return 0;
    }
    if (status != SQLITE_ROW)
        return -1;
    sqlite3_bind_text(work->insert, 1, from, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(work->insert, 2, to, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(work->insert, 3, kind, -1, SQLITE_STATIC);
    status = sqlite3_step(work->insert);
    sqlite3_reset(work->insert);
    return status == SQLITE_DONE ? 0 : -1;
}

static int draw_cooperations(LinkWork *work, const char *from, const char *list,
                             const char *input_file, long line)
{
    char *copy = strdup(list);
    if (!copy)
        return -1;
    int result = 0;
    for (char *item = copy, *bar; item && result == 0; item = bar ? bar + 1 : NULL) {
        bar = strchr(item, '|');
        if (bar)
            *bar = 0;
        char *target = text_trim(item);
        if (target[0])
            result =
                draw_link(work, from, target, "cooperation", "cooperates_with", input_file, line);
    }
    free(copy);
    return result;
}

int import_network_links(ImportContext *context)
{
    const char *what = "network links";
    LinkWork work = {.context = context};
    sqlite3_stmt *sources = NULL;
    int result = -1;
    if (import_prepare(context, what, "SELECT 1 FROM sites WHERE site_id = ?", &work.exists) != 0 ||
        import_prepare(context, what,
                       "INSERT OR IGNORE INTO links(from_site_id, to_site_id, kind, geom)"
                       " SELECT a.site_id, b.site_id, ?3, MakeLine(a.geom, b.geom)"
                       " FROM sites a, sites b WHERE a.site_id = ?1 AND b.site_id = ?2",
                       &work.insert) != 0 ||
        import_prepare(context, what,
                       "SELECT site_id, coordinator_site_id, cooperates_with, input_file,"
                       " input_line FROM sites WHERE coordinator_site_id IS NOT NULL"
                       " OR cooperates_with IS NOT NULL ORDER BY rowid",
                       &sources) != 0)
        goto done;
    int status;
    while ((status = sqlite3_step(sources)) == SQLITE_ROW) {
        const char *from = (const char *)sqlite3_column_text(sources, 0);
        const char *coordinator = (const char *)sqlite3_column_text(sources, 1);
        const char *cooperations = (const char *)sqlite3_column_text(sources, 2);
        const char *input_file = (const char *)sqlite3_column_text(sources, 3);
        long line = (long)sqlite3_column_int64(sources, 4);
        if ((coordinator && draw_link(&work, from, coordinator, "coordinator",
                                      "coordinator_site_id", input_file, line) != 0) ||
            (cooperations && draw_cooperations(&work, from, cooperations, input_file, line) != 0))
            break;
    }
    if (status != SQLITE_DONE) {
        import_fail(context, what, 0, "database error: %s", sqlite3_errmsg(context->db));
        goto done;
    }
    result = 0;
done:
    sqlite3_finalize(work.exists);
    sqlite3_finalize(work.insert);
    sqlite3_finalize(sources);
    return result;
}
