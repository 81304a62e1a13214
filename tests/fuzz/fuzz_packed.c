/* fuzz_packed.c — libFuzzer target `packed`: the server's checks of the
 * packed sites (model/packed_sites.c) and its reading of a tampered sites
 * table (model/site_reader.c), through snapshot_load(), the entry point
 * `serve` loads a file with.
 *
 * Set-up (once): a template database made from the test database
 * (MAILLAGE_FUZZ_DATABASE, default build/maillage.sqlite) with only what
 * snapshot_load() reads: metadata, sites, links, filieres, packed_sites,
 * and the conditions and ancestors of the sites' codes (so a load takes
 * milliseconds), kept in memory and written back to a scratch file before
 * every input.
 * Input: one byte of flags (bit 0: read the sites table only, bit 1:
 * tamper with the sites table), then up to six parts separated by the
 * line "\n@@part@@\n": the packed parts sites, site_codes, text_pool and
 * details (each stored as the blob of that part; a part the input lacks is
 * deleted), the tampering: a column byte (site_id, orpha_codes,
 * coordinator_site_id, role, public, lat, lon, structure_name), a row
 * byte, then the text stored into that column of that row (NULs and
 * invalid UTF-8 included), and the packed links part (last, so that inputs
 * written before it stay valid: without it the links table is read).
 * Checks: snapshot_load() returns a snapshot or an error, never crashes
 * nor trips an assert (the loader asserts snapshot_invariants_hold()); a
 * snapshot it returns holds its invariants, every text, code, details
 * record and coordinator of every site is readable and every link joins
 * two of its sites (AddressSanitizer sees any reference out of its array).
 * Seeds (tests/fuzz/packed/) are written by the binary itself from the
 * test database (MAILLAGE_FUZZ_WRITE_SEEDS=DIR build/fuzz/fuzz_packed):
 * the valid parts, each part truncated, table-path tamperings, and the
 * links part valid, truncated and pointing past the sites. */
#include "fuzz_support.h"

#include "model/snapshot_load.h"
#include "model/text_pool.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { FLAG_TABLE_ONLY = 1, FLAG_TAMPER = 2, PART_COUNT = 4 };

static const char separator[] = "\n@@part@@\n";
static const char *const part_names[PART_COUNT] = {"sites", "site_codes", "text_pool", "details"};
/* The input's part after the tampering: the packed links. */
enum { LINKS_INPUT_PART = PART_COUNT + 1 };
static const char *const tamper_columns[] = {"site_id", "orpha_codes",   "coordinator_site_id",
                                             "role",    "public",        "lat",
                                             "lon",     "structure_name"};

static char directory[64], scratch[128];
static unsigned char *template_bytes;
static size_t template_size;

static void fail_setup(const char *what, sqlite3 *db)
{
    fprintf(stderr, "fuzz packed: cannot make the template: %s%s%s\n", what, db ? ": " : "",
            db ? sqlite3_errmsg(db) : "");
    exit(2);
}

static void remove_scratch(void)
{
    unlink(scratch);
    rmdir(directory);
}

/* The codes the template keeps: the sites' codes and their ancestors. */
static const char TEMPLATE_CODES_SQL[] =
    "CREATE TABLE codes AS WITH used(code) AS (SELECT DISTINCT orpha_code FROM source.site_codes)"
    "  SELECT ancestor AS code FROM source.ancestors WHERE orpha_code IN (SELECT code FROM used)"
    "  UNION SELECT code FROM used;";

/* Copies `table` of the attached source (its schema, then the rows `where` keeps). */
static void copy_table(sqlite3 *db, const char *table, const char *where)
{
    sqlite3_stmt *statement = NULL;
    if (sqlite3_prepare_v2(db, "SELECT sql FROM source.sqlite_master WHERE name = ?", -1,
                           &statement, NULL) != SQLITE_OK)
        fail_setup("schema", db);
    sqlite3_bind_text(statement, 1, table, -1, SQLITE_STATIC);
    if (sqlite3_step(statement) != SQLITE_ROW)
        fail_setup(table, db);
    if (sqlite3_exec(db, (const char *)sqlite3_column_text(statement, 0), NULL, NULL, NULL) !=
        SQLITE_OK)
        fail_setup(table, db);
    sqlite3_finalize(statement);
    char sql[512];
    snprintf(sql, sizeof sql, "INSERT INTO main.%s SELECT * FROM source.%s %s", table, table,
             where);
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        fail_setup(table, db);
}

static void make_template(void)
{
    const char *source = getenv("MAILLAGE_FUZZ_DATABASE");
    if (!source || !source[0])
        source = "build/maillage.sqlite";
    snprintf(directory, sizeof directory, "/tmp/maillage-fuzz-XXXXXX");
    if (!mkdtemp(directory))
        fail_setup("mkdtemp", NULL);
    snprintf(scratch, sizeof scratch, "%s/packed.sqlite", directory);
    atexit(remove_scratch);
    sqlite3 *db = NULL;
    sqlite3_stmt *attach = NULL;
    if (access(source, R_OK) != 0 || sqlite3_open(scratch, &db) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "ATTACH DATABASE ?1 AS source", -1, &attach, NULL) != SQLITE_OK)
        fail_setup(source, db);
    sqlite3_bind_text(attach, 1, source, -1, SQLITE_STATIC);
    if (sqlite3_step(attach) != SQLITE_DONE)
        fail_setup(source, db);
    sqlite3_finalize(attach);
    if (sqlite3_exec(db, TEMPLATE_CODES_SQL, NULL, NULL, NULL) != SQLITE_OK)
        fail_setup("codes", db);
    static const char *const whole[] = {"metadata", "sites", "links", "filieres", "packed_sites"};
    for (size_t t = 0; t < sizeof whole / sizeof whole[0]; t++)
        copy_table(db, whole[t], "");
    copy_table(db, "conditions", "WHERE orpha_code IN (SELECT code FROM codes)");
    copy_table(db, "ancestors",
               "WHERE orpha_code IN (SELECT code FROM codes) AND ancestor IN (SELECT code FROM "
               "codes)");
    if (sqlite3_exec(db, "DROP TABLE codes; DETACH DATABASE source; VACUUM", NULL, NULL, NULL) !=
        SQLITE_OK)
        fail_setup("vacuum", db);
    sqlite3_close(db);
    FILE *file = fopen(scratch, "rb");
    if (!file || fseek(file, 0, SEEK_END) != 0)
        fail_setup("read back", NULL);
    template_size = (size_t)ftell(file);
    template_bytes = malloc(template_size);
    rewind(file);
    if (!template_bytes || fread(template_bytes, 1, template_size, file) != template_size)
        fail_setup("read back", NULL);
    fclose(file);
}

static void check(int condition, const char *what)
{
    if (!condition) {
        fprintf(stderr, "fuzz check failed: %s\n", what);
        abort();
    }
}

static void write_scratch(void)
{
    check(fuzz_write_file(scratch, template_bytes, template_size) == 0,
          "cannot write the scratch database");
}

/* Stores the parts, the tampering and the links of the input into the scratch file. */
static void apply_input(const uint8_t *data, size_t size, int tamper)
{
    sqlite3 *db = NULL;
    check(sqlite3_open(scratch, &db) == SQLITE_OK &&
              sqlite3_exec(db, "BEGIN; DELETE FROM packed_sites", NULL, NULL, NULL) == SQLITE_OK,
          "cannot open the scratch database");
    sqlite3_stmt *insert = NULL;
    check(sqlite3_prepare_v2(db, "INSERT INTO packed_sites(part, bytes) VALUES (?, ?)", -1, &insert,
                             NULL) == SQLITE_OK,
          "cannot prepare");
    const uint8_t *at = data, *end = data + size;
    for (int part = 0; part <= LINKS_INPUT_PART && at <= end; part++) {
        const uint8_t *next = memmem(at, (size_t)(end - at), separator, sizeof separator - 1);
        const uint8_t *stop = next ? next : end;
        if (part != PART_COUNT) {
            sqlite3_bind_text(insert, 1, part < PART_COUNT ? part_names[part] : "links", -1,
                              SQLITE_STATIC);
            sqlite3_bind_blob(insert, 2, stop > at ? (const void *)at : "", (int)(stop - at),
                              SQLITE_STATIC);
            check(sqlite3_step(insert) == SQLITE_DONE, "cannot store a part");
            sqlite3_reset(insert);
        } else if (tamper && stop - at >= 2) {
            char sql[160];
            snprintf(sql, sizeof sql,
                     "UPDATE sites SET %s = ?1 WHERE rowid = (SELECT rowid FROM sites "
                     "ORDER BY rowid LIMIT 1 OFFSET ?2)",
                     tamper_columns[at[0] % (sizeof tamper_columns / sizeof tamper_columns[0])]);
            sqlite3_stmt *update = NULL;
            check(sqlite3_prepare_v2(db, sql, -1, &update, NULL) == SQLITE_OK, "cannot prepare");
            sqlite3_bind_text(update, 1, (const char *)at + 2, (int)(stop - at - 2), SQLITE_STATIC);
            sqlite3_bind_int(update, 2, at[1]);
            sqlite3_step(update); /* a constraint may refuse it: then the file is as it was */
            sqlite3_finalize(update);
        }
        if (!next)
            break;
        at = next + sizeof separator - 1;
    }
    sqlite3_finalize(insert);
    check(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK, "cannot commit");
    sqlite3_close(db);
}

/* The bytes of a text as the JSON writers read them (0 when absent). */
static size_t text_bytes(const Snapshot *snapshot, TextRef ref)
{
    const char *text = snapshot_text(snapshot, ref);
    return text ? strlen(text) + snapshot_text_length(snapshot, ref) : 0;
}

/* Reads everything a server reads of every site. */
static void walk_snapshot(const Snapshot *snapshot)
{
    check(snapshot_invariants_hold(snapshot), "a loaded snapshot breaks its invariants");
    size_t total = 0;
    for (size_t s = 0; s < snapshot->site_count; s++) {
        const Site *site = &snapshot->sites[s];
        total += strlen(site_id_text(snapshot, site));
        const TextRef texts[] = {site->name, site->centre_label, site->filiere};
        for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++)
            total += text_bytes(snapshot, texts[t]);
        const SiteDetails *details = site_details(snapshot, site);
        const TextRef *fields = detail_fields(details);
        for (size_t f = 0; f < DETAIL_FIELD_COUNT; f++)
            total += text_bytes(snapshot, fields[f]);
        const int32_t *codes = site_codes(snapshot, site);
        for (uint32_t c = 0; c < site->code_count; c++)
            check(snapshot_condition(snapshot, codes[c]) != NULL, "a site lists an unknown code");
        if (site->coordinator != SITE_NONE)
            total += strlen(site_id_text(snapshot, &snapshot->sites[site->coordinator]));
    }
    for (size_t l = 0; l < snapshot->link_count; l++) {
        const Link *link = &snapshot->links[l];
        check(link->from < snapshot->site_count && link->to < snapshot->site_count,
              "a link joins a site that is not there");
        total += strlen(site_id_text(snapshot, &snapshot->sites[link->from])) +
                 strlen(site_id_text(snapshot, &snapshot->sites[link->to]));
    }
    check(total < SIZE_MAX, "unreachable");
}

static void load_and_walk(int table_only)
{
    SnapshotLoadOptions options = SNAPSHOT_LOAD_DEFAULTS;
    options.use_packed = !table_only;
    char error[1024];
    Snapshot *snapshot = snapshot_load(scratch, &options, error, sizeof error);
    if (snapshot)
        walk_snapshot(snapshot);
    snapshot_free(snapshot);
}

/* MAILLAGE_FUZZ_WRITE_SEEDS=DIR: writes the seed corpus from the template. */
static void write_seeds(const char *dir)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *statement = NULL;
    check(sqlite3_open(scratch, &db) == SQLITE_OK &&
              sqlite3_prepare_v2(db, "SELECT bytes FROM packed_sites WHERE part = ?", -1,
                                 &statement, NULL) == SQLITE_OK,
          "seeds: cannot read the template");
    size_t size = 1, capacity = template_size + 4096;
    uint8_t *seed = malloc(capacity), *parts[PART_COUNT];
    size_t lengths[PART_COUNT];
    check(seed != NULL, "out of memory");
    seed[0] = 0;
    for (int p = 0; p < PART_COUNT; p++) {
        sqlite3_bind_text(statement, 1, part_names[p], -1, SQLITE_STATIC);
        check(sqlite3_step(statement) == SQLITE_ROW, "seeds: a part is missing");
        lengths[p] = (size_t)sqlite3_column_bytes(statement, 0);
        check(size + lengths[p] + sizeof separator < capacity, "seeds: too large");
        if (p > 0) {
            memcpy(seed + size, separator, sizeof separator - 1);
            size += sizeof separator - 1;
        }
        parts[p] = seed + size;
        memcpy(seed + size, sqlite3_column_blob(statement, 0), lengths[p]);
        size += lengths[p];
        sqlite3_reset(statement);
    }
    /* The links part, whole, cut in half, and its first link's `from`
     * past the sites; after an empty tampering. */
    sqlite3_bind_text(statement, 1, "links", -1, SQLITE_STATIC);
    check(sqlite3_step(statement) == SQLITE_ROW, "seeds: the links part is missing");
    size_t links_length = (size_t)sqlite3_column_bytes(statement, 0);
    uint8_t *links = malloc(size + 2 * sizeof separator + links_length + 1);
    check(links != NULL && links_length >= 4, "seeds: no links");
    memcpy(links, seed, size);
    size_t at = size;
    for (int s = 0; s < 2; s++) {
        memcpy(links + at, separator, sizeof separator - 1);
        at += sizeof separator - 1;
    }
    memcpy(links + at, sqlite3_column_blob(statement, 0), links_length);
    fuzz_write_seed(dir, "seed-links", links, at + links_length);
    fuzz_write_seed(dir, "seed-links-truncated", links, at + links_length / 2);
    memset(links + at, 0xff, 4);
    fuzz_write_seed(dir, "seed-links-past-the-sites", links, at + links_length);
    free(links);
    sqlite3_finalize(statement);
    sqlite3_close(db);
    fuzz_write_seed(dir, "seed-valid", seed, size);
    seed[0] = FLAG_TABLE_ONLY;
    fuzz_write_seed(dir, "seed-table-path", seed, size);
    /* Each part cut in half (the rest of the input after it kept). */
    for (int p = 0; p < PART_COUNT; p++) {
        char name[64];
        snprintf(name, sizeof name, "seed-%s-truncated", part_names[p]);
        uint8_t *cut = malloc(size);
        check(cut != NULL, "out of memory");
        size_t head = (size_t)(parts[p] - seed) + lengths[p] / 2;
        size_t tail = (size_t)(parts[p] - seed) + lengths[p];
        memcpy(cut, seed, head);
        memcpy(cut + head, seed + tail, size - tail);
        cut[0] = 0;
        fuzz_write_seed(dir, name, cut, size - (tail - head));
        free(cut);
    }
    /* Tamperings of the table, read through the table path and the packed one. */
    static const struct {
        const char *name;
        uint8_t flags, column, row;
        const char *value;
        size_t length;
    } tamperings[] = {
        {"seed-tamper-codes", FLAG_TAMPER | FLAG_TABLE_ONLY, 1, 3, "ORPHA:586| 3002 |x|99999999",
         27},
        {"seed-tamper-coordinator", FLAG_TAMPER | FLAG_TABLE_ONLY, 2, 5, "NO-SUCH-SITE", 12},
        {"seed-tamper-role", FLAG_TAMPER | FLAG_TABLE_ONLY, 3, 0, "chef", 4},
        {"seed-tamper-public", FLAG_TAMPER | FLAG_TABLE_ONLY, 4, 1,
         "b\xc3\xa9"
         "b\xc3\xa9s",
         7},
        {"seed-tamper-lat", FLAG_TAMPER | FLAG_TABLE_ONLY, 5, 2, "91.5", 4},
        {"seed-tamper-site-id-nul", FLAG_TAMPER | FLAG_TABLE_ONLY, 0, 4, "BICETRE-CAP\0x", 13},
        {"seed-tamper-name-packed", FLAG_TAMPER, 7, 6,
         "\xff\xfe"
         " not UTF-8",
         12},
    };
    for (size_t t = 0; t < sizeof tamperings / sizeof tamperings[0]; t++) {
        uint8_t *tampered = malloc(size + sizeof separator + 2 + tamperings[t].length);
        check(tampered != NULL, "out of memory");
        memcpy(tampered, seed, size);
        tampered[0] = tamperings[t].flags;
        size_t length = size;
        memcpy(tampered + length, separator, sizeof separator - 1);
        length += sizeof separator - 1;
        tampered[length++] = tamperings[t].column;
        tampered[length++] = tamperings[t].row;
        memcpy(tampered + length, tamperings[t].value, tamperings[t].length);
        length += tamperings[t].length;
        fuzz_write_seed(dir, tamperings[t].name, tampered, length);
        free(tampered);
    }
    free(seed);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    make_template();
    fuzz_write_seeds_if_asked(write_seeds);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    write_scratch();
    apply_input(data + 1, size - 1, data[0] & FLAG_TAMPER);
    load_and_walk(data[0] & FLAG_TABLE_ONLY);
    return 0;
}
