/* test_store.c — the store's refusals: store_open_read_only() and
 * store_check_integrity() on a missing file, a file that is not a
 * database, a database without metadata, of an older or newer schema
 * version, and a damaged one; each message names the file and is one line.
 * Every database here is a small synthetic one made by store_create(). */
#include "check.h"
#include "store/store.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char directory[512];

static void path_in(char *path, size_t size, const char *name)
{
    snprintf(path, size, "%s/%s", directory, name);
}

/* A maillage database with the schema, metadata `version` and
 * `schema_version` (NULL: no such row), and a few pages of rows so that
 * damage lands in a b-tree. Returns 0 or -1. */
static int make_database_filled(const char *path, const char *schema_version,
                                const char *last_fill);

static int make_database(const char *path, const char *schema_version)
{
    return make_database_filled(path, schema_version, NULL);
}

/* make_database(), then `last_fill` (SQL, NULL: none) run last. */
static int make_database_filled(const char *path, const char *schema_version, const char *last_fill)
{
    Store store;
    char error[512];
    unlink(path);
    if (store_create(&store, path, error, sizeof error) != 0) {
        fprintf(stderr, "%s\n", error);
        return -1;
    }
    sqlite3_stmt *insert = NULL;
    int ok = sqlite3_prepare_v2(store.db, "INSERT INTO metadata(key, value) VALUES (?, ?)", -1,
                                &insert, NULL) == SQLITE_OK;
    const char *rows[][2] = {{"version", "synthetic-store"}, {"schema_version", schema_version}};
    for (size_t i = 0; ok && i < 2; i++) {
        if (!rows[i][1])
            continue;
        sqlite3_bind_text(insert, 1, rows[i][0], -1, SQLITE_STATIC);
        sqlite3_bind_text(insert, 2, rows[i][1], -1, SQLITE_STATIC);
        ok = sqlite3_step(insert) == SQLITE_DONE;
        sqlite3_reset(insert);
    }
    sqlite3_finalize(insert);
    ok = ok &&
         store_exec(&store,
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                    "WHERE i < 2000) INSERT INTO inputs(file, kind, rows, loaded, rejected) "
                    "SELECT 'synthetic-' || i || '.csv', 'network', i, i, 0 FROM n",
                    error, sizeof error) == 0 &&
         (!last_fill || store_exec(&store, last_fill, error, sizeof error) == 0);
    if (!ok)
        fprintf(stderr, "%s: %s\n", path, sqlite3_errmsg(store.db));
    store_close(&store);
    return ok ? 0 : -1;
}

/* A database of this schema version named `name` in the test directory
 * (its path into `path`), `last_fill` run last (NULL: none). Returns 0 or
 * -1. */
static int make_current_database(const char *name, const char *last_fill, char *path, size_t size)
{
    path_in(path, size, name);
    char version[16];
    snprintf(version, sizeof version, "%d", STORE_SCHEMA_VERSION);
    return make_database_filled(path, version, last_fill);
}

/* 1 when opening `path` read-only fails with one line holding `path` and `expected`. */
static int refused_with(const char *path, const char *expected)
{
    Store store;
    char error[512] = "";
    int refused = store_open_read_only(&store, path, error, sizeof error) != 0;
    if (!refused)
        store_close(&store);
    int ok = refused && strstr(error, path) && strstr(error, expected) && !strchr(error, '\n');
    if (!ok)
        fprintf(stderr, "  %s: got \"%s\"\n", path, error);
    return ok && store.db == NULL;
}

TEST(opens_its_own_schema_version)
{
    char path[600];
    CHECK(make_current_database("good.sqlite", NULL, path, sizeof path) == 0, "fixture");
    Store store;
    char error[512];
    CHECK(store_open_read_only(&store, path, error, sizeof error) == 0, "%s", error);
    char value[64];
    CHECK(store_metadata(&store, "version", value, sizeof value) == 0, "version");
    CHECK(strcmp(value, "synthetic-store") == 0, "version %s", value);
    /* Read-only: a write fails. */
    CHECK(store_exec(&store, "DELETE FROM inputs", error, sizeof error) != 0, "wrote");
    store_close(&store);
    CHECK(store_check_integrity(path, STORE_CHECK_FILE, error, sizeof error) == 0, "%s", error);
    CHECK(store_check_integrity(path, STORE_CHECK_SERVED, error, sizeof error) == 0, "%s", error);
}

TEST(refuses_other_schema_versions)
{
    char path[600];
    path_in(path, sizeof path, "newer.sqlite");
    CHECK(make_database(path, "99") == 0, "fixture");
    CHECK(refused_with(path, "built by a newer maillage (schema version 99"), "newer");
    path_in(path, sizeof path, "older.sqlite");
    CHECK(make_database(path, "1") == 0, "fixture");
    CHECK(refused_with(path, "schema version 1 is older"), "older");
    path_in(path, sizeof path, "word.sqlite");
    CHECK(make_database(path, "two") == 0, "fixture");
    CHECK(refused_with(path, "is not a number"), "not a number");
    path_in(path, sizeof path, "none.sqlite");
    CHECK(make_database(path, NULL) == 0, "fixture");
    CHECK(refused_with(path, "no metadata schema_version"), "absent");
}

TEST(refuses_what_is_not_a_database)
{
    char path[600];
    path_in(path, sizeof path, "missing.sqlite");
    CHECK(refused_with(path, "cannot open"), "missing");
    path_in(path, sizeof path, "text.sqlite");
    FILE *file = fopen(path, "w");
    CHECK(file != NULL, "fixture");
    if (file) {
        fputs("synthetic: not a database\n", file);
        fclose(file);
    }
    CHECK(refused_with(path, "not a database"), "text");
    CHECK(refused_with(directory, "not a regular file"), "directory");
}

/* Overwrites the last page of the file at `path` with garbage. */
static int damage_last_page(const char *path)
{
    int descriptor = open(path, O_WRONLY);
    off_t size = descriptor >= 0 ? lseek(descriptor, 0, SEEK_END) : 0;
    char garbage[4096];
    for (size_t i = 0; i < sizeof garbage; i++)
        garbage[i] = (char)(i * 7 + 13);
    int damaged =
        descriptor >= 0 && size > 8192 &&
        pwrite(descriptor, garbage, sizeof garbage, size - 4096) == (ssize_t)sizeof garbage;
    if (descriptor >= 0)
        close(descriptor);
    return damaged ? 0 : -1;
}

/* 1 when the check of `path` over `scope` fails with one line naming it. */
static int check_fails(const char *path, StoreCheckScope scope)
{
    char error[512] = "";
    return store_check_integrity(path, scope, error, sizeof error) != 0 && strstr(error, path) &&
           !strchr(error, '\n');
}

TEST(integrity_check_finds_a_damaged_page)
{
    char path[600];
    CHECK(make_current_database("damaged.sqlite", NULL, path, sizeof path) == 0, "fixture");
    /* The inputs table's last page is the file's last page: a table the
     * server reads. */
    CHECK(damage_last_page(path) == 0, "damage");
    CHECK(check_fails(path, STORE_CHECK_FILE), "a damaged file passed the whole check");
    CHECK(check_fails(path, STORE_CHECK_SERVED), "a damaged file passed the served check");
}

/* Rows of the sites table, filled last (its last page is the file's last
 * page), and the metadata row of a file with packed sites. */
#define SITES_ROWS_SQL                                                                             \
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) "              \
    "INSERT INTO sites(site_id, role, lat, lon, position_source, input_file, input_line, geom) "   \
    "SELECT 'synthetic-' || i, 'competence', 45, 4, 'latlon', 'synthetic.csv', i, "                \
    "MakePoint(4, 45, 4326) FROM n"
static const char FILL_SITES_SQL[] = SITES_ROWS_SQL;
static const char FILL_PACKED_SITES_SQL[] =
    "INSERT INTO metadata(key, value) VALUES ('packed_format', '1');" SITES_ROWS_SQL;

/* The served check skips the sites table when packed sites replace it,
 * and only then; the whole check never does. */
TEST(served_check_skips_only_the_packed_sites_table)
{
    for (int packed = 0; packed <= 1; packed++) {
        char path[600];
        CHECK(make_current_database(packed ? "packed.sqlite" : "unpacked.sqlite",
                                    packed ? FILL_PACKED_SITES_SQL : FILL_SITES_SQL, path,
                                    sizeof path) == 0,
              "fixture");
        char error[512] = "";
        CHECK(store_check_integrity(path, STORE_CHECK_SERVED, error, sizeof error) == 0,
              "sound file: %s", error);
        CHECK(damage_last_page(path) == 0, "damage");
        CHECK(check_fails(path, STORE_CHECK_FILE), "packed %d: the whole check passed", packed);
        CHECK(check_fails(path, STORE_CHECK_SERVED) == !packed,
              "packed %d: the served check %s a damaged sites table", packed,
              packed ? "refused" : "passed");
    }
}

int main(void)
{
    const char *temporary = getenv("TMPDIR");
    snprintf(directory, sizeof directory, "%s/maillage-test-store-XXXXXX",
             temporary && temporary[0] ? temporary : "/tmp");
    if (!mkdtemp(directory)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(opens_its_own_schema_version);
    RUN(refuses_other_schema_versions);
    RUN(refuses_what_is_not_a_database);
    RUN(integrity_check_finds_a_damaged_page);
    RUN(served_check_skips_only_the_packed_sites_table);
    static const char *const made[] = {"good.sqlite",    "newer.sqlite",  "older.sqlite",
                                       "word.sqlite",    "none.sqlite",   "text.sqlite",
                                       "damaged.sqlite", "packed.sqlite", "unpacked.sqlite"};
    for (size_t i = 0; i < sizeof made / sizeof made[0]; i++) {
        char path[600];
        path_in(path, sizeof path, made[i]);
        unlink(path);
    }
    rmdir(directory);
    return CHECK_SUMMARY("test_store");
}
