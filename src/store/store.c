/* store.c — SpatiaLite connection set-up and the schema; see store.h. */
#include "store/store.h"

#include "base/text.h"

#include <errno.h>
#include <inttypes.h>
#include <spatialite.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The schema. Geometry columns are added by STORE_GEOMETRY_SQL once
 * SpatiaLite's metadata exists; spatial indexes are created after bulk
 * loading (store users call CreateSpatialIndex at the end of a build). */
static const char STORE_SCHEMA_SQL[] =
    "CREATE TABLE metadata(key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"
    /* The care network: one row per site of a network CSV. */
    "CREATE TABLE sites(\n"
    "  site_id TEXT PRIMARY KEY,\n"
    "  finess TEXT, structure_name TEXT, role TEXT NOT NULL, centre_label TEXT,\n"
    "  filiere TEXT, orpha_codes TEXT, public TEXT, responsable TEXT, service TEXT,\n"
    "  platform TEXT, source TEXT, coordinator_site_id TEXT, cooperates_with TEXT,\n"
    "  lat REAL NOT NULL, lon REAL NOT NULL,\n"
    "  position_source TEXT NOT NULL,  -- latlon | projected | finess | finess_official\n"
    "  phone TEXT, address TEXT, postcode TEXT, city TEXT,  -- from FINESS when known\n"
    "  input_file TEXT NOT NULL, input_line INTEGER NOT NULL);\n"
    "CREATE TABLE site_codes(orpha_code INTEGER NOT NULL, site_id TEXT NOT NULL,\n"
    "  PRIMARY KEY(orpha_code, site_id)) WITHOUT ROWID;\n"
    "CREATE INDEX site_codes_by_site ON site_codes(site_id);\n"
    /* Links drawn on the map: kind 'coordinator' (to coordinator_site_id) or
     * 'cooperation' (cooperates_with). Both ends are sites. */
    "CREATE TABLE links(from_site_id TEXT NOT NULL, to_site_id TEXT NOT NULL,\n"
    "  kind TEXT NOT NULL CHECK (kind IN ('coordinator', 'cooperation')),\n"
    "  PRIMARY KEY(from_site_id, to_site_id, kind));\n"
    /* FINESS establishments, context structures. */
    "CREATE TABLE etablissements(\n"
    "  finess TEXT PRIMARY KEY, name TEXT, site_name TEXT, lat REAL, lon REAL,\n"
    "  geo_qual INTEGER, street TEXT, house_number TEXT, postcode TEXT, city TEXT,\n"
    "  country_code TEXT, facility_type TEXT, public_private TEXT, phone TEXT,\n"
    "  geo_check TEXT, position_source TEXT NOT NULL  -- extract | finess_official | none\n"
    ");\n"
    /* Orphanet. */
    "CREATE TABLE conditions(orpha_code INTEGER PRIMARY KEY, label_fr TEXT NOT NULL,\n"
    "  label_en TEXT NOT NULL, level TEXT NOT NULL, status TEXT NOT NULL, type TEXT,\n"
    "  flag_value INTEGER);\n"
    "CREATE TABLE synonyms(orpha_code INTEGER NOT NULL, lang TEXT NOT NULL,\n"
    "  synonym TEXT NOT NULL);\n"
    "CREATE INDEX synonyms_by_code ON synonyms(orpha_code);\n"
    "CREATE TABLE classification(parent INTEGER NOT NULL, child INTEGER NOT NULL,\n"
    "  classification INTEGER NOT NULL, classification_name TEXT,\n"
    "  PRIMARY KEY(classification, parent, child)) WITHOUT ROWID;\n"
    "CREATE TABLE ancestors(orpha_code INTEGER NOT NULL, ancestor INTEGER NOT NULL,\n"
    "  depth INTEGER NOT NULL, PRIMARY KEY(orpha_code, ancestor)) WITHOUT ROWID;\n"
    "CREATE INDEX ancestors_by_ancestor ON ancestors(ancestor);\n"
    "CREATE VIRTUAL TABLE condition_search USING fts5(text, orpha_code UNINDEXED,\n"
    "  lang UNINDEXED, kind UNINDEXED, tokenize = 'unicode61 remove_diacritics 2');\n"
    /* Filières and the 2017 site list (no positions in the source). */
    "CREATE TABLE filieres(filiere TEXT PRIMARY KEY, dropdown_name TEXT,\n"
    "  filiere_net_id INTEGER, sites INTEGER, coordonnateur_sites INTEGER,\n"
    "  constitutif_sites INTEGER, competence_sites INTEGER,\n"
    "  distinct_centre_names INTEGER, lead_orpha_expert_centre_id INTEGER);\n"
    "CREATE TABLE fsmr_sites(filiere TEXT NOT NULL, filiere_net_id INTEGER,\n"
    "  orpha_expert_centre_id INTEGER NOT NULL, centre_name TEXT, site_nature TEXT,\n"
    "  filiere_lead INTEGER, priority INTEGER);\n"
    /* Administrative areas and communes. */
    "CREATE TABLE departements(code TEXT PRIMARY KEY, name TEXT NOT NULL,\n"
    "  region TEXT, population INTEGER NOT NULL);\n"
    "CREATE TABLE regions(code TEXT PRIMARY KEY, name TEXT NOT NULL,\n"
    "  population INTEGER NOT NULL);\n"
    "CREATE TABLE communes(code TEXT PRIMARY KEY, name TEXT NOT NULL,\n"
    "  departement TEXT, region TEXT, postcodes TEXT, population INTEGER,\n"
    "  lat REAL, lon REAL, kind TEXT, parent_commune TEXT, point_source TEXT);\n"
    /* What each input contributed (the build report, kept with the data). */
    "CREATE TABLE inputs(file TEXT NOT NULL, kind TEXT NOT NULL, rows INTEGER NOT NULL,\n"
    "  loaded INTEGER NOT NULL, rejected INTEGER NOT NULL);\n"
    "CREATE TABLE rejected_rows(file TEXT NOT NULL, line INTEGER NOT NULL,\n"
    "  reason TEXT NOT NULL);\n"
    /* The loaded sites in the server's memory layout, written by the build
     * after everything else (snapshot_pack(), snapshot.c): parts 'sites',
     * 'site_codes', 'text_pool' and 'details', described by the metadata
     * rows packed_format, packed_site_size, packed_details_size,
     * packed_site_count and packed_version. A derived copy of `sites`: the
     * server checks it and falls back to the table when it does not match. */
    "CREATE TABLE packed_sites(part TEXT PRIMARY KEY, bytes BLOB NOT NULL);\n";

static const char STORE_GEOMETRY_SQL[] =
    "SELECT AddGeometryColumn('sites', 'geom', 4326, 'POINT', 'XY', 1);\n"
    "SELECT AddGeometryColumn('links', 'geom', 4326, 'LINESTRING', 'XY');\n"
    "SELECT AddGeometryColumn('etablissements', 'geom', 4326, 'POINT', 'XY');\n"
    "SELECT AddGeometryColumn('departements', 'geom', 4326, 'MULTIPOLYGON', 'XY', 1);\n"
    "SELECT AddGeometryColumn('regions', 'geom', 4326, 'MULTIPOLYGON', 'XY', 1);\n"
    "SELECT AddGeometryColumn('communes', 'geom', 4326, 'POINT', 'XY');\n";

static int fail(char *error, size_t error_size, const char *path, const char *what)
{
    snprintf(error, error_size, "%s: %s", path, what);
    return -1;
}

static int open_with_spatialite(Store *store, const char *path, int flags, char *error,
                                size_t error_size)
{
    memset(store, 0, sizeof *store);
    if ((flags & SQLITE_OPEN_NOMUTEX) == 0)
        flags |= SQLITE_OPEN_FULLMUTEX;
    if (sqlite3_open_v2(path, &store->db, flags, NULL) != SQLITE_OK) {
        fail(error, error_size, path,
             store->db ? sqlite3_errmsg(store->db) : "cannot open database");
        store_close(store);
        return -1;
    }
    store->spatialite_cache = spatialite_alloc_connection();
    if (!store->spatialite_cache) {
        store_close(store);
        return fail(error, error_size, path, "cannot initialise SpatiaLite");
    }
    spatialite_init_ex(store->db, store->spatialite_cache, 0);
    sqlite3_busy_timeout(store->db, 5000);
    return 0;
}

/* Refuses a file whose metadata schema_version is not the one this build
 * reads: a newer maillage's file (its layout may mean something else) or an
 * older one (tables or columns missing). */
static int check_schema_version(Store *store, const char *path, char *error, size_t error_size)
{
    char value[64];
    if (store_metadata(store, "schema_version", value, sizeof value) != 0)
        return fail(error, error_size, path,
                    "not a maillage database (no metadata schema_version)");
    int64_t version;
    if (parse_integer(value, 0, INT32_MAX, &version) != 0) {
        snprintf(error, error_size, "%s: metadata schema_version '%.20s' is not a number", path,
                 value);
        return -1;
    }
    if (version > STORE_SCHEMA_VERSION) {
        snprintf(error, error_size,
                 "%s: built by a newer maillage (schema version %" PRId64
                 "; this one reads %d): upgrade maillage or rebuild the file",
                 path, version, STORE_SCHEMA_VERSION);
        return -1;
    }
    if (version < STORE_SCHEMA_VERSION) {
        snprintf(error, error_size,
                 "%s: schema version %" PRId64
                 " is older than %d: rebuild the file with `maillage build`",
                 path, version, STORE_SCHEMA_VERSION);
        return -1;
    }
    return 0;
}

int store_open_read_only(Store *store, const char *path, char *error, size_t error_size)
{
    memset(store, 0, sizeof *store);
    /* SQLite's "unable to open database file" does not say why. */
    struct stat status;
    if (stat(path, &status) != 0) {
        snprintf(error, error_size, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(status.st_mode))
        return fail(error, error_size, path, "not a regular file");
    /* Only the snapshot loader reads through this connection, from one
     * thread at a time: no mutex on every call. */
    if (open_with_spatialite(store, path, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, error,
                             error_size) != 0)
        return -1;
    char version[64];
    if (store_metadata(store, "version", version, sizeof version) != 0) {
        /* A file SQLite cannot read at all says so at the first query. */
        int code = sqlite3_errcode(store->db);
        const char *why = code == SQLITE_NOTADB || code == SQLITE_CORRUPT
                              ? sqlite3_errmsg(store->db)
                              : "not a maillage database (no metadata version)";
        fail(error, error_size, path, why);
        store_close(store);
        return -1;
    }
    if (check_schema_version(store, path, error, error_size) != 0) {
        store_close(store);
        return -1;
    }
    return 0;
}

/* Runs one quick_check statement; returns 0 when it says "ok", else -1
 * with "PATH: damaged (integrity check: ...)" in one line. */
static int quick_check_passes(Store *store, const char *sql, const char *path, char *error,
                              size_t error_size)
{
    sqlite3_stmt *statement = NULL;
    int result = -1;
    if (sqlite3_prepare_v2(store->db, sql, -1, &statement, NULL) != SQLITE_OK) {
        fail(error, error_size, path, sqlite3_errmsg(store->db));
    } else {
        int step = sqlite3_step(statement);
        const unsigned char *text = step == SQLITE_ROW ? sqlite3_column_text(statement, 0) : NULL;
        if (text && strcmp((const char *)text, "ok") == 0)
            result = 0;
        else
            snprintf(error, error_size, "%s: damaged (integrity check: %.200s)", path,
                     text ? (const char *)text : sqlite3_errmsg(store->db));
    }
    sqlite3_finalize(statement);
    /* One line: SQLite's report may hold newlines. */
    for (char *p = error; result != 0 && *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return result;
}

/* The tables a server reads (STORE_CHECK_SERVED): every ordinary table
 * but the spatial indexes' R*Trees (idx_*, SpatiaLite's, never read by a
 * server), and but `sites` and `site_codes` when ?1 (the file has packed
 * sites: a server reads those tables only if the packed parts fail their
 * checks). */
static const char SERVED_TABLES_SQL[] =
    "SELECT name FROM sqlite_master WHERE type = 'table'"
    " AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' AND name NOT LIKE 'idx!_%' ESCAPE '!'"
    " AND NOT (?1 AND name IN ('sites', 'site_codes')) ORDER BY name";

/* quick_check of each table a server reads; returns 0 or -1 as
 * quick_check_passes(). */
static int check_served_tables(Store *store, const char *path, char *error, size_t error_size)
{
    char packed[16];
    int has_packed = store_metadata(store, "packed_format", packed, sizeof packed) == 0;
    sqlite3_stmt *tables = NULL;
    if (sqlite3_prepare_v2(store->db, SERVED_TABLES_SQL, -1, &tables, NULL) != SQLITE_OK)
        return fail(error, error_size, path, sqlite3_errmsg(store->db));
    sqlite3_bind_int(tables, 1, has_packed);
    int result = 0, step;
    while (result == 0 && (step = sqlite3_step(tables)) == SQLITE_ROW) {
        char *sql = sqlite3_mprintf("PRAGMA quick_check(\"%w\")",
                                    (const char *)sqlite3_column_text(tables, 0));
        result = sql ? quick_check_passes(store, sql, path, error, error_size)
                     : fail(error, error_size, path, "out of memory");
        sqlite3_free(sql);
    }
    if (result == 0 && step != SQLITE_DONE)
        result = fail(error, error_size, path, sqlite3_errmsg(store->db));
    sqlite3_finalize(tables);
    return result;
}

int store_check_integrity(const char *path, StoreCheckScope scope, char *error, size_t error_size)
{
    Store store;
    if (store_open_read_only(&store, path, error, error_size) != 0)
        return -1;
    int result = scope == STORE_CHECK_FILE
                     ? quick_check_passes(&store, "PRAGMA quick_check(1)", path, error, error_size)
                     : check_served_tables(&store, path, error, error_size);
    store_close(&store);
    return result;
}

int store_create(Store *store, const char *path, char *error, size_t error_size)
{
    if (open_with_spatialite(store, path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, error,
                             error_size) != 0)
        return -1;
    char message[512];
    if (store_exec(store,
                   "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
                   "PRAGMA cache_size = -262144; PRAGMA temp_store = MEMORY;"
                   "BEGIN; SELECT InitSpatialMetadata(0, 'WGS84_ONLY');",
                   message, sizeof message) != 0 ||
        store_exec(store, STORE_SCHEMA_SQL, message, sizeof message) != 0 ||
        store_exec(store, STORE_GEOMETRY_SQL, message, sizeof message) != 0 ||
        store_exec(store, "COMMIT", message, sizeof message) != 0) {
        store_close(store);
        return fail(error, error_size, path, message);
    }
    return 0;
}

void store_close(Store *store)
{
    if (store->db)
        sqlite3_close(store->db);
    if (store->spatialite_cache)
        spatialite_cleanup_ex(store->spatialite_cache);
    memset(store, 0, sizeof *store);
}

int store_exec(Store *store, const char *sql, char *error, size_t error_size)
{
    char *message = NULL;
    if (sqlite3_exec(store->db, sql, NULL, NULL, &message) == SQLITE_OK)
        return 0;
    snprintf(error, error_size, "%s", message ? message : sqlite3_errmsg(store->db));
    sqlite3_free(message);
    return -1;
}

int store_metadata(Store *store, const char *key, char *value, size_t value_size)
{
    sqlite3_stmt *statement = NULL;
    int found = -1;
    if (sqlite3_prepare_v2(store->db, "SELECT value FROM metadata WHERE key = ?", -1, &statement,
                           NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(statement, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(statement) == SQLITE_ROW) {
        const unsigned char *text = sqlite3_column_text(statement, 0);
        snprintf(value, value_size, "%s", text ? (const char *)text : "");
        found = 0;
    }
    sqlite3_finalize(statement);
    return found;
}

void *store_read_part(Store *store, const char *part, size_t spare, size_t *size,
                      const char **reason)
{
    sqlite3_stmt *statement = NULL;
    void *bytes = NULL;
    *reason = "a part cannot be read";
    if (sqlite3_prepare_v2(store->db,
                           "SELECT rowid, length(bytes) FROM packed_sites"
                           " WHERE part = ? AND typeof(bytes) = 'blob'",
                           -1, &statement, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_text(statement, 1, part, -1, SQLITE_STATIC);
    if (sqlite3_step(statement) != SQLITE_ROW) {
        *reason = STORE_PART_MISSING;
        sqlite3_finalize(statement);
        return NULL;
    }
    sqlite3_int64 rowid = sqlite3_column_int64(statement, 0);
    sqlite3_int64 length = sqlite3_column_int64(statement, 1);
    sqlite3_finalize(statement);
    sqlite3_blob *blob = NULL;
    if (length < 0 || length > INT32_MAX ||
        sqlite3_blob_open(store->db, "main", "packed_sites", "bytes", rowid, 0, &blob) !=
            SQLITE_OK) {
        sqlite3_blob_close(blob);
        return NULL;
    }
    if (sqlite3_blob_bytes(blob) == length) {
        bytes = malloc((size_t)length + spare);
        if (!bytes)
            *reason = "out of memory";
        else if (sqlite3_blob_read(blob, bytes, (int)length, 0) != SQLITE_OK) {
            free(bytes);
            bytes = NULL;
        }
    }
    sqlite3_blob_close(blob);
    *size = (size_t)length;
    return bytes;
}

int store_write_part(const char *path, const char *part, const void *bytes, size_t size,
                     char *error, size_t error_size)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *statement = NULL;
    int ok =
        sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
        size <= (size_t)sqlite3_limit(db, SQLITE_LIMIT_LENGTH, -1) &&
        sqlite3_exec(db, "PRAGMA synchronous = OFF", NULL, NULL, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO packed_sites(part, bytes) VALUES (?, ?)", -1,
                           &statement, NULL) == SQLITE_OK;
    if (ok) {
        sqlite3_bind_text(statement, 1, part, -1, SQLITE_STATIC);
        /* An empty part is an empty blob, not NULL. */
        ok = sqlite3_bind_blob64(statement, 2, size ? bytes : "", size, SQLITE_STATIC) ==
                 SQLITE_OK &&
             sqlite3_step(statement) == SQLITE_DONE;
    }
    if (!ok)
        snprintf(error, error_size, "%s: cannot write the packed part %s: %s", path, part,
                 db ? sqlite3_errmsg(db) : "cannot open the database");
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return ok ? 0 : -1;
}
