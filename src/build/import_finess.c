/* import_finess.c — FINESS extract and official stock file; see import_finess.h. */
#include "build/import_finess.h"
#include "base/array.h"
#include "base/slots.h"
#include "base/text.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FINESS_LENGTH 9
#define STRUCTUREET_FIELDS 32
#define GEOLOCALISATION_FIELDS 6

int finess_number_is_valid(const char *finess)
{
    if (strlen(finess) != FINESS_LENGTH)
        return 0;
    for (int i = 0; i < FINESS_LENGTH; i++) {
        unsigned char c = (unsigned char)finess[i];
        if (isdigit(c))
            continue;
        if (i == 1 && finess[0] == '2' && (c == 'A' || c == 'B'))
            continue;
        return 0;
    }
    return 1;
}

/* ---- the shipped extract ---------------------------------------------- */

static const ImportColumn extract_columns[] = {
    {"finess", IMPORT_TEXT, 1},         {"name", IMPORT_TEXT, 0},
    {"site_name", IMPORT_TEXT, 0},      {"lat", IMPORT_LATITUDE, 1},
    {"lon", IMPORT_LONGITUDE, 1},       {"geo_qual", IMPORT_INTEGER, 0},
    {"street", IMPORT_TEXT, 0},         {"house_number", IMPORT_TEXT, 0},
    {"postcode", IMPORT_TEXT, 0},       {"city", IMPORT_TEXT, 0},
    {"country_code", IMPORT_TEXT, 0},   {"facility_type", IMPORT_TEXT, 0},
    {"public_private", IMPORT_TEXT, 0}, {"phone", IMPORT_TEXT, 0},
    {"geo_check", IMPORT_TEXT, 0},
};

static int check_extract_row(ImportContext *context, void *state, BuildInput *input, long line,
                             char *const *values, char *reason, size_t reason_size)
{
    (void)context;
    (void)state;
    if (!finess_number_is_valid(values[0])) {
        snprintf(reason, reason_size, "invalid FINESS number '%.40s'", values[0]);
        return 1;
    }
    if (strcmp(values[14], "outside_departement") == 0)
        build_input_warn(input, line,
                         "FINESS %s (%s): position %s, %s lies outside its departement "
                         "(geo_check=outside_departement); kept as published",
                         values[0], values[1], values[3], values[4]);
    return 0;
}

int import_finess_extract(ImportContext *context, const char *path)
{
    ImportTable table = {
        .kind = "finess_extract",
        .columns = extract_columns,
        .column_count = sizeof extract_columns / sizeof extract_columns[0],
        .insert_sql = "INSERT INTO etablissements(finess, name, site_name, lat, lon, geo_qual, "
                      "street, house_number, postcode, city, country_code, facility_type, "
                      "public_private, phone, geo_check, position_source, geom) VALUES "
                      "(:finess, :name, :site_name, :lat, :lon, :geo_qual, :street, "
                      ":house_number, :postcode, :city, :country_code, :facility_type, "
                      ":public_private, :phone, :geo_check, 'extract', MakePoint(:lon, :lat, "
                      "4326))",
        .check_row = check_extract_row,
    };
    return import_csv_table(context, path, import_base_name(path), &table);
}

/* ---- the official stock file ------------------------------------------ */

/* FINESS numbers seen in structureet lines, with their line: the entries,
 * found by number through slots holding an entry index + 1. */
typedef struct FinessEntry {
    char finess[FINESS_LENGTH + 1];
    long line;
    long geolocation_line;
} FinessEntry;

typedef struct FinessSet {
    HashSlots slots;
    FinessEntry *entries;
    size_t count, capacity;
} FinessSet;

static uint32_t finess_hash(const char *finess)
{
    return (uint32_t)hash_fnv1a(HASH_FNV1A_SEED, finess, FINESS_LENGTH);
}

/* The entry of `finess` (`hash` its finess_hash()), or NULL with *free_slot
 * (when not NULL) the free slot where it would go. */
static FinessEntry *finess_set_find(const FinessSet *set, const char *finess, uint32_t hash,
                                    size_t *free_slot)
{
    if (!set->slots.capacity)
        return NULL;
    size_t slot = hash_slots_start(&set->slots, hash);
    for (; set->slots.values[slot]; slot = hash_slots_next(&set->slots, slot)) {
        FinessEntry *entry = &set->entries[set->slots.values[slot] - 1];
        if (set->slots.hashes[slot] == hash && strcmp(entry->finess, finess) == 0)
            return entry;
    }
    if (free_slot)
        *free_slot = slot;
    return NULL;
}

/* Returns the line of a previous entry, 0 after adding it, -1 when out of memory. */
static long finess_set_add(FinessSet *set, const char *finess, long line)
{
    if (hash_slots_reserve(&set->slots, 4096) != 0 ||
        array_reserve(set->entries, set->capacity, set->count + 1, 2048) != 0)
        return -1;
    uint32_t hash = finess_hash(finess);
    size_t slot = 0;
    const FinessEntry *previous = finess_set_find(set, finess, hash, &slot);
    if (previous)
        return previous->line;
    FinessEntry *entry = &set->entries[set->count++];
    memcpy(entry->finess, finess, FINESS_LENGTH + 1);
    entry->line = line;
    entry->geolocation_line = 0;
    hash_slots_fill(&set->slots, slot, set->count, hash);
    return 0;
}

static void finess_set_free(FinessSet *set)
{
    hash_slots_free(&set->slots);
    free(set->entries);
    memset(set, 0, sizeof *set);
}

/* FINESS street type codes back to words, as in the extract. */
static const char *const street_types[][2] = {
    {"R", "RUE"},          {"AV", "AVENUE"},    {"BD", "BOULEVARD"}, {"PL", "PLACE"},
    {"RTE", "ROUTE"},      {"IMP", "IMPASSE"},  {"CHE", "CHEMIN"},   {"QUA", "QUAI"},
    {"PROM", "PROMENADE"}, {"PASS", "PASSAGE"}, {"ALL", "ALLEE"},
};

static void append_street(Buffer *out, const char *type, const char *name)
{
    for (size_t i = 0; i < sizeof street_types / sizeof street_types[0]; i++) {
        if (strcmp(type, street_types[i][0]) == 0) {
            type = street_types[i][1];
            break;
        }
    }
    buffer_append_string(out, type);
    if (type[0] && name[0])
        buffer_append_char(out, ' ');
    buffer_append_string(out, name);
}

typedef struct OfficialImport {
    ImportContext *context;
    BuildInput *input;
    const char *path;
    const char *file;
    FinessSet structures;
    sqlite3_stmt *upsert;
    sqlite3_stmt *place;
    Buffer scratch;
} OfficialImport;

static void bind_text_or_null(sqlite3_stmt *statement, int index, const char *text)
{
    if (text && text[0])
        sqlite3_bind_text(statement, index, text, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(statement, index);
}

/* structureet;nofinesset;nofinessej;rs;rslongue;complrs;compldistrib;numvoie;typvoie;voie;
 * compvoie;lieuditbp;commune;departement;libdepartement;ligneacheminement;telephone;
 * telecopie;categetab;libcategetab;... (32 fields) */
static int official_structure(OfficialImport *import, CsvReader *reader)
{
    long line = reader->record_line;
    char **f = reader->fields;
    if (reader->field_count != STRUCTUREET_FIELDS) {
        build_input_reject(import->input, line, "structureet line with %zu fields, expected %d",
                           reader->field_count, STRUCTUREET_FIELDS);
        return 0;
    }
    text_trim(f[1]);
    if (!finess_number_is_valid(f[1])) {
        build_input_reject(import->input, line, "invalid FINESS number '%.40s'", f[1]);
        return 0;
    }
    long previous = finess_set_add(&import->structures, f[1], line);
    if (previous < 0)
        return import_fail(import->context, import->file, line, "out of memory");
    if (previous > 0) {
        build_input_reject(import->input, line, "repeated structureet for FINESS %s (line %ld)",
                           f[1], previous);
        return 0;
    }
    sqlite3_stmt *upsert = import->upsert;
    sqlite3_clear_bindings(upsert);
    sqlite3_bind_text(upsert, 1, f[1], -1, SQLITE_TRANSIENT);
    bind_text_or_null(upsert, 2, f[4][0] ? f[4] : f[3]); /* rslongue, else rs */
    bind_text_or_null(upsert, 3, f[5]);                  /* complrs */
    Buffer *scratch = &import->scratch;
    buffer_reset(scratch);
    append_street(scratch, f[8], f[9]);
    bind_text_or_null(upsert, 4, scratch->data);
    buffer_reset(scratch);
    buffer_append_string(scratch, f[7]);
    buffer_append_string(scratch, f[10]);
    bind_text_or_null(upsert, 5, scratch->data);
    /* ligneacheminement: "01110 HAUTEVILLE LOMPNES" */
    char *routing = text_trim(f[15]);
    char *space = strchr(routing, ' ');
    if (space && space - routing == 5) {
        *space = 0;
        bind_text_or_null(upsert, 6, routing);
        bind_text_or_null(upsert, 7, text_trim(space + 1));
    } else {
        bind_text_or_null(upsert, 7, routing);
    }
    bind_text_or_null(upsert, 8, f[19]); /* libcategetab */
    bind_text_or_null(upsert, 9, f[16]); /* telephone */
    int status = sqlite3_step(upsert);
    sqlite3_reset(upsert);
    if (status != SQLITE_DONE || scratch->failed)
        return import_fail(import->context, import->file, line, "database error: %s",
                           sqlite3_errmsg(import->context->db));
    build_input_loaded(import->input);
    return 0;
}

/* geolocalisation;nofinesset;coordxet;coordyet;sourcecoordet;datemaj */
static int official_geolocation(OfficialImport *import, CsvReader *reader)
{
    long line = reader->record_line;
    char **f = reader->fields;
    if (reader->field_count != GEOLOCALISATION_FIELDS) {
        build_input_reject(import->input, line, "geolocalisation line with %zu fields, expected %d",
                           reader->field_count, GEOLOCALISATION_FIELDS);
        return 0;
    }
    const char *finess = text_trim(f[1]);
    FinessEntry *entry =
        finess_number_is_valid(finess)
            ? finess_set_find(&import->structures, finess, finess_hash(finess), NULL)
            : NULL;
    if (!entry) {
        build_input_reject(import->input, line, "no structureet line for FINESS %.40s", finess);
        return 0;
    }
    if (entry->geolocation_line) {
        build_input_reject(import->input, line, "repeated geolocalisation for FINESS %s (line %ld)",
                           finess, entry->geolocation_line);
        return 0;
    }
    double x = 0, y = 0;
    const char *names[2] = {"x", "y"};
    double *values[2] = {&x, &y};
    for (int i = 0; i < 2; i++) {
        if (parse_decimal(text_trim(f[2 + i]), values[i]) != 0) {
            build_input_reject(import->input, line, "non-numeric %s '%.40s'", names[i], f[2 + i]);
            return 0;
        }
    }
    const char *comma = strrchr(f[4], ',');
    char *label = text_trim(comma ? (char *)comma + 1 : f[4]);
    double lat = 0, lon = 0;
    char reason[160];
    if (reprojector_to_wgs84(import->context->reprojector, label, x, y, &lat, &lon, reason,
                             sizeof reason) != 0) {
        build_input_reject(import->input, line, "%s", reason);
        return 0;
    }
    entry->geolocation_line = line;
    sqlite3_stmt *place = import->place;
    sqlite3_bind_double(place, 1, lat);
    sqlite3_bind_double(place, 2, lon);
    sqlite3_bind_text(place, 3, finess, -1, SQLITE_TRANSIENT);
    int status = sqlite3_step(place);
    sqlite3_reset(place);
    if (status != SQLITE_DONE)
        return import_fail(import->context, import->file, line, "database error: %s",
                           sqlite3_errmsg(import->context->db));
    build_input_loaded(import->input);
    return 0;
}

/* One pass over the records: `geolocations` 0 handles everything but the
 * geolocalisation lines, 1 only those (so every structureet is known first). */
static int official_pass(OfficialImport *import, CsvReader *reader, int geolocations)
{
    for (;;) {
        CsvStatus status = csv_next(reader);
        if (status == CSV_END)
            return 0;
        if (status == CSV_MALFORMED) {
            if (!geolocations)
                build_input_reject(import->input, reader->record_line, "%s", reader->error);
            continue;
        }
        if (reader->record_line == 1)
            continue; /* the header, checked before */
        const char *type = reader->fields[0];
        int is_geolocation = strcmp(type, "geolocalisation") == 0;
        if (is_geolocation != geolocations)
            continue;
        int result = 0;
        if (is_geolocation)
            result = official_geolocation(import, reader);
        else if (strcmp(type, "structureet") == 0)
            result = official_structure(import, reader);
        else
            build_input_reject(import->input, reader->record_line, "unknown line type '%.40s'",
                               type);
        if (result != 0)
            return -1;
    }
}

static const char OFFICIAL_UPSERT_SQL[] =
    "INSERT INTO etablissements(finess, name, site_name, street, house_number, postcode, city,"
    "  facility_type, phone, position_source) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'none')"
    " ON CONFLICT(finess) DO UPDATE SET name = coalesce(excluded.name, name),"
    "  site_name = coalesce(excluded.site_name, site_name),"
    "  street = coalesce(excluded.street, street),"
    "  house_number = coalesce(excluded.house_number, house_number),"
    "  postcode = coalesce(excluded.postcode, postcode), city = coalesce(excluded.city, city),"
    "  facility_type = coalesce(excluded.facility_type, facility_type),"
    "  phone = coalesce(excluded.phone, phone)";

static const char OFFICIAL_PLACE_SQL[] =
    "UPDATE etablissements SET lat = ?1, lon = ?2, geom = MakePoint(?2, ?1, 4326),"
    "  position_source = 'finess_official' WHERE finess = ?3";

static int check_official_header(OfficialImport *import, CsvReader *reader)
{
    CsvStatus status = csv_next(reader);
    if (status != CSV_RECORD || reader->record_line != 1 || reader->field_count < 2 ||
        strcmp(reader->fields[0], "finess") != 0 || strcmp(reader->fields[1], "etalab") != 0)
        return import_fail(import->context, import->path, 1,
                           "not an etalab FINESS stock file (the first line must start with "
                           "finess;etalab)");
    return 0;
}

int import_finess_official(ImportContext *context, const char *path, const char *file)
{
    OfficialImport import = {.context = context, .path = path, .file = file};
    buffer_init(&import.scratch);
    import.input = build_report_add_input(context->report, file, "finess_official");
    if (!import.input)
        return import_fail(context, file, 0, "out of memory");
    Buffer raw, utf8;
    buffer_init(&raw);
    buffer_init(&utf8);
    CsvReader reader;
    memset(&reader, 0, sizeof reader);
    int result = -1;
    if (import_read_file(context, path, &raw) != 0)
        goto done;
    latin1_to_utf8(&utf8, raw.data ? raw.data : "", raw.length);
    buffer_free(&raw);
    if (utf8.failed || csv_open_memory(&reader, utf8.data ? utf8.data : "", utf8.length, ';')) {
        import_fail(context, file, 0, "out of memory");
        goto done;
    }
    buffer_free(&utf8);
    if (check_official_header(&import, &reader) != 0 ||
        import_prepare(context, file, OFFICIAL_UPSERT_SQL, &import.upsert) != 0 ||
        import_prepare(context, file, OFFICIAL_PLACE_SQL, &import.place) != 0 ||
        official_pass(&import, &reader, 0) != 0)
        goto done;
    reader.position = 0; /* second pass: the geolocalisation lines */
    reader.line = 1;
    if (official_pass(&import, &reader, 1) != 0)
        goto done;
    result = 0;
done:
    csv_close(&reader);
    sqlite3_finalize(import.upsert);
    sqlite3_finalize(import.place);
    finess_set_free(&import.structures);
    buffer_free(&import.scratch);
    buffer_free(&raw);
    buffer_free(&utf8);
    build_input_finish(import.input);
    return result;
}

/* ---- lookup for the network importer ------------------------------------ */

int finess_lookup_open(ImportContext *context, FinessLookup *lookup, const char *file)
{
    return import_prepare(context, file,
                          "SELECT lat, lon, position_source, phone, house_number, street, "
                          "postcode, city, geo_check FROM etablissements WHERE finess = ?",
                          &lookup->statement);
}

static void copy_column(sqlite3_stmt *statement, int column, char *out, size_t size)
{
    const unsigned char *text = sqlite3_column_text(statement, column);
    snprintf(out, size, "%s", text ? (const char *)text : "");
}

int finess_lookup_find(FinessLookup *lookup, const char *finess, FinessPlace *place)
{
    sqlite3_stmt *statement = lookup->statement;
    sqlite3_bind_text(statement, 1, finess, -1, SQLITE_TRANSIENT);
    int status = sqlite3_step(statement);
    int found = 0;
    if (status == SQLITE_ROW && sqlite3_column_type(statement, 0) != SQLITE_NULL) {
        memset(place, 0, sizeof *place);
        place->lat = sqlite3_column_double(statement, 0);
        place->lon = sqlite3_column_double(statement, 1);
        const unsigned char *source = sqlite3_column_text(statement, 2);
        place->official = source && strcmp((const char *)source, "finess_official") == 0;
        copy_column(statement, 3, place->phone, sizeof place->phone);
        char number[32], street[128];
        copy_column(statement, 4, number, sizeof number);
        copy_column(statement, 5, street, sizeof street);
        snprintf(place->address, sizeof place->address, "%s%s%s", number,
                 number[0] && street[0] ? " " : "", street);
        copy_column(statement, 6, place->postcode, sizeof place->postcode);
        copy_column(statement, 7, place->city, sizeof place->city);
        const unsigned char *check = sqlite3_column_text(statement, 8);
        place->flagged_outside =
            !place->official && check && strcmp((const char *)check, "outside_departement") == 0;
        found = 1;
    } else if (status != SQLITE_ROW && status != SQLITE_DONE) {
        found = -1;
    }
    sqlite3_reset(statement);
    return found;
}

void finess_lookup_close(FinessLookup *lookup)
{
    sqlite3_finalize(lookup->statement);
    lookup->statement = NULL;
}
