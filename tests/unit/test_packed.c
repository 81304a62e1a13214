/* test_packed.c — the packed sites (snapshot_pack(), model/packed_sites.c):
 * a database written by `maillage build` (build_run() with dataset_pack()
 * as its packing step, on the shipped geodata plus a small
 * synthetic network with texts that need JSON escapes, coordinators and
 * codes) loads through the packed parts with the same Site array, codes,
 * texts and details as through the sites table, and the same API answers
 * byte for byte; packed parts that are tampered with (truncated, a text
 * reference past the pool or inside a text, codes past site_codes, a '"'
 * in a text marked plain, a wrong format or version...) are refused with
 * one warning and the answers are the table's; a bad links part or tree
 * order is refused on its own, with one warning; a file without packed
 * parts loads silently from the table; packing again repairs a tampered
 * file. */
#include "build/build.h"
#include "check.h"
#include "dataset/dataset.h"
#include "http/routes.h"
#include "model/snapshot.h"
#include "model/snapshot_load.h"
#include "support.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

static char directory[512];
static char database[600];
static char tampered[600];
static char warnings[600];

static const char synthetic_network[] =
    "site_id,structure_name,role,centre_label,filiere,orpha_codes,public,responsable,"
    "service,coordinator_site_id,platform,source,lat,lon\n"
    "SYN-PACK-A,\"Hôpital \"\"synthétique\"\" \\ A\",crmr_coordonnateur,Centre synthétique A,"
    "OSCAR,68415|3002,enfants,Pr Synthétique,pédiatrie,,,synthetic,48.85,2.35\n"
    "SYN-PACK-B,Hôpital synthétique B,crmr_constitutif,Centre synthétique A,OSCAR,"
    "ORPHA:98375| 1959 |1959,adultes,,,SYN-PACK-A,plateforme synthétique,synthetic,45.75,4.85\n"
    "SYN-PACK-C,Hôpital synthétique C,ccmr,\"Centre \"\"C\"\"\",MARIH,3002,tous,,,SYN-PACK-A,,"
    "synthetic,43.3,5.4\n"
    "SYN-PACK-D,Association synthétique d'aide aux familles touchées par une maladie rare "
    "(nom long),association,,,,,,,,,synthetic,-21.1,55.5\n";

static int write_file(const char *path, const char *text, size_t length)
{
    FILE *file = fopen(path, "wb");
    if (!file)
        return -1;
    int ok = fwrite(text, 1, length, file) == length;
    return fclose(file) == 0 && ok ? 0 : -1;
}

static int build_database(void)
{
    char network[600];
    snprintf(network, sizeof network, "%s/synthetic-packed-network.csv", directory);
    if (write_file(network, synthetic_network, sizeof synthetic_network - 1) != 0)
        return -1;
    const char *networks[] = {network};
    BuildOptions options = {0};
    options.geodata = "geodata";
    options.out = database;
    options.networks = networks;
    options.network_count = 1;
    options.quiet = 1;
    options.pack = dataset_pack;
    return build_run(&options);
}

/* The dataset of `path`, its sites read from the packed parts when
 * `packed` allows and they are valid, else from the table; the load's
 * warnings go to `sink` (NULL: stderr). */
static Dataset *load_warning_into(const char *path, int packed, Buffer *sink)
{
    char error[512];
    DatasetOptions options = DATASET_DEFAULTS;
    options.snapshot.use_packed = packed;
    options.snapshot.warnings = sink;
    Dataset *dataset = dataset_load(path, &options, error, sizeof error);
    CHECK(dataset != NULL, "%s", error);
    return dataset;
}

/* The same, warnings on stderr. */
static Dataset *load(const char *path, int packed)
{
    return load_warning_into(path, packed, NULL);
}

/* Loads `path` with stderr going to a file and the load's warnings to
 * `sink` (NULL: stderr); *warning gets what stderr received (the
 * caller frees it). */
static Dataset *load_capturing_into(const char *path, Buffer *sink, char **warning)
{
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    int file = open(warnings, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (saved >= 0 && file >= 0)
        dup2(file, STDERR_FILENO);
    if (file >= 0)
        close(file);
    Dataset *dataset = load_warning_into(path, 1, sink);
    fflush(stderr);
    if (saved >= 0) {
        dup2(saved, STDERR_FILENO);
        close(saved);
    }
    *warning = calloc(4096, 1);
    FILE *in = fopen(warnings, "rb");
    if (in && *warning)
        (void)!fread(*warning, 1, 4095, in);
    if (in)
        fclose(in);
    return dataset;
}

/* Loads `path` with stderr going to a file; *warning gets what was written
 * there (the caller frees it). */
static Dataset *load_capturing(const char *path, char **warning)
{
    return load_capturing_into(path, NULL, warning);
}

static size_t code_total(const Snapshot *snapshot)
{
    size_t total = 0;
    for (size_t s = 0; s < snapshot->site_count; s++) {
        size_t end = (size_t)snapshot->sites[s].codes_start + snapshot->sites[s].code_count;
        total = end > total ? end : total;
    }
    return total;
}

/* Every API answer this test compares, status and body, one after the
 * other. */
static void add_answer(const Dataset *dataset, const char *path, const char *const *parameters,
                       Buffer *out)
{
    QueryParameter decoded[REQUEST_MAX_PARAMETERS];
    size_t count = 0;
    for (size_t p = 0; parameters && parameters[p] && count < REQUEST_MAX_PARAMETERS; p += 2)
        decoded[count++] = (QueryParameter){parameters[p], parameters[p + 1]};
    Response response;
    CHECK(route_call(dataset, path, decoded, count, &response), "no handler for %s", path);
    char status[64];
    snprintf(status, sizeof status, "\n%s %d ", path, response.status);
    buffer_append_string(out, status);
    if (response.body.data)
        buffer_append(out, response.body.data, response.body.length);
    response_free(&response);
}

static void all_answers(const Dataset *dataset, Buffer *out)
{
    const Snapshot *snapshot = dataset->snapshot;
    buffer_init(out);
    for (size_t s = 0; s < snapshot->site_count; s++) {
        char path[256];
        snprintf(path, sizeof path, "/api/structures/%s",
                 site_id_text(snapshot, &snapshot->sites[s]));
        add_answer(dataset, path, NULL, out);
    }
    static const char *const points[][2] = {
        {"48.85", "2.35"}, {"45.75", "4.85"}, {"43.3", "5.4"}, {"-21.1", "55.5"}, {"50", "3"}};
    static const char *const codes[] = {NULL, "68415", "3002", "98375", "1959"};
    for (size_t p = 0; p < sizeof points / sizeof points[0]; p++) {
        for (size_t c = 0; c < sizeof codes / sizeof codes[0]; c++) {
            const char *parameters[] = {
                "lat",    points[p][0], "lon", points[p][1], "k", "100", codes[c] ? "orpha" : NULL,
                codes[c], NULL};
            add_answer(dataset, "/api/nearest", parameters, out);
        }
    }
    static const char *const bboxes[] = {"-180,-90,180,90", "-5,41,10,52", "170,-90,-170,90"};
    for (size_t b = 0; b < sizeof bboxes / sizeof bboxes[0]; b++) {
        const char *parameters[] = {"bbox", bboxes[b], "limit", "10000", NULL};
        add_answer(dataset, "/api/structures", parameters, out);
        const char *with_code[] = {"bbox", bboxes[b], "orpha", "3002", NULL};
        add_answer(dataset, "/api/structures", with_code, out);
    }
    const char *conditions[] = {"q", "3002", NULL};
    add_answer(dataset, "/api/conditions", conditions, out);
}

/* The table path's dataset, its snapshot and answers, the reference of
 * every test. */
static Dataset *table_dataset;
static const Snapshot *table;
static Buffer table_answers;

/* 1 when `snapshot` holds the table path's links, in its order. */
static int same_links(const Snapshot *snapshot)
{
    if (snapshot->link_count != table->link_count)
        return 0;
    for (size_t i = 0; i < table->link_count; i++)
        if (snapshot->links[i].from != table->links[i].from ||
            snapshot->links[i].to != table->links[i].to ||
            snapshot->links[i].kind != table->links[i].kind)
            return 0;
    return 1;
}

static void check_same_answers(const Dataset *dataset, const char *what)
{
    Buffer answers;
    all_answers(dataset, &answers);
    CHECK(!answers.failed && answers.length == table_answers.length &&
              memcmp(answers.data, table_answers.data, answers.length) == 0,
          "%s: answers differ from the table path's", what);
    buffer_free(&answers);
}

TEST(build_and_load_through_the_table)
{
    CHECK(build_database() == 0, "maillage build failed");
    table_dataset = load(database, 0);
    table = table_dataset ? table_dataset->snapshot : NULL;
    if (table)
        all_answers(table_dataset, &table_answers);
    CHECK(table && !table_answers.failed, "the table path's answers");
}

TEST(the_build_packs_and_both_paths_agree)
{
    CHECK(table != NULL, "no reference");
    Dataset *packed_dataset = load(database, 1);
    if (!packed_dataset || !table) {
        dataset_free(packed_dataset);
        return;
    }
    const Snapshot *packed = packed_dataset->snapshot;
    CHECK(packed->sites_packed == 1 && table->sites_packed == 0, "paths: %d %d",
          packed->sites_packed, table->sites_packed);
    CHECK(packed->site_count == table->site_count && packed->site_count >= 27, "%zu and %zu sites",
          packed->site_count, table->site_count);
    CHECK(memcmp(packed->sites, table->sites, table->site_count * sizeof(Site)) == 0,
          "Site arrays differ");
    size_t codes = code_total(table);
    CHECK(codes > 0 && code_total(packed) == codes &&
              memcmp(packed->site_codes, table->site_codes, codes * sizeof(int32_t)) == 0,
          "codes differ");
    CHECK(packed->text_pool_size == table->text_pool_size &&
              memcmp(packed->text_pool, table->text_pool, table->text_pool_size) == 0,
          "text pools differ");
    CHECK(packed->details_count == table->details_count && table->details_count > 1 &&
              memcmp(packed->details, table->details, table->details_count * sizeof(SiteDetails)) ==
                  0,
          "details differ");
    CHECK(same_links(packed) && table->link_count >= 2, "%zu and %zu links, or not the same",
          packed->link_count, table->link_count);
    for (size_t c = 0; c < table->condition_count; c++)
        CHECK(packed->conditions[c].covering_sites == table->conditions[c].covering_sites,
              "covering of condition %zu", c);
    const Site *a = snapshot_site(packed, "SYN-PACK-A"), *b = snapshot_site(packed, "SYN-PACK-B");
    CHECK(a && b && b->coordinator == snapshot_site_index(packed, a) &&
              !snapshot_text_plain(packed, a->name) && b->code_count == 2,
          "synthetic sites");
    check_same_answers(packed_dataset, "packed");
    /* Bytes: the name's quotes and backslash escaped as json.h escapes them. */
    CHECK(strstr(table_answers.data, "Hôpital \\\"synthétique\\\" \\\\ A") != NULL,
          "escaped name answered");
    dataset_free(packed_dataset);
}

/* --- Tampering ------------------------------------------------------------ */

typedef struct Part {
    unsigned char *bytes;
    size_t size;
} Part;

static int exec_sql(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    int ok = sqlite3_open(path, &db) == SQLITE_OK &&
             sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
    sqlite3_close(db);
    return ok ? 0 : -1;
}

/* Copies the test database to `tampered` and runs `sql` on the copy;
 * returns 0, or -1 after a failed check naming `what`. */
static int tamper_with(const char *what, const char *sql)
{
    if (copy_file(database, tampered) == 0 && exec_sql(tampered, sql) == 0)
        return 0;
    CHECK(0, "%s: cannot tamper", what);
    return -1;
}

static int read_part(const char *path, const char *name, Part *part)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *statement = NULL;
    memset(part, 0, sizeof *part);
    int ok = sqlite3_open(path, &db) == SQLITE_OK &&
             sqlite3_prepare_v2(db, "SELECT bytes FROM packed_sites WHERE part = ?", -1, &statement,
                                NULL) == SQLITE_OK &&
             sqlite3_bind_text(statement, 1, name, -1, SQLITE_STATIC) == SQLITE_OK &&
             sqlite3_step(statement) == SQLITE_ROW;
    if (ok) {
        part->size = (size_t)sqlite3_column_bytes(statement, 0);
        part->bytes = malloc(part->size + 1);
        ok = part->bytes != NULL;
        if (ok && part->size)
            memcpy(part->bytes, sqlite3_column_blob(statement, 0), part->size);
    }
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return ok ? 0 : -1;
}

static int write_part(const char *path, const char *name, const Part *part)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *statement = NULL;
    int ok = sqlite3_open(path, &db) == SQLITE_OK &&
             sqlite3_prepare_v2(db, "UPDATE packed_sites SET bytes = ? WHERE part = ?", -1,
                                &statement, NULL) == SQLITE_OK &&
             sqlite3_bind_blob64(statement, 1, part->size ? (const void *)part->bytes : "",
                                 part->size, SQLITE_STATIC) == SQLITE_OK &&
             sqlite3_bind_text(statement, 2, name, -1, SQLITE_STATIC) == SQLITE_OK &&
             sqlite3_step(statement) == SQLITE_DONE && sqlite3_changes(db) == 1;
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return ok ? 0 : -1;
}

/* The index of the first site of `table` that lists at least `codes` codes. */
static size_t site_with_codes(uint16_t codes)
{
    for (size_t s = 0; s < table->site_count; s++)
        if (table->sites[s].code_count >= codes)
            return s;
    return 0;
}

/* The header of the pool record at `offset` (snapshot.h: one byte, or
 * 0x80, a uint32, 0x80); *ref gets where its text starts. */
static uint32_t pool_record(const unsigned char *pool, size_t offset, size_t *ref)
{
    if (pool[offset] < TEXT_LONG_MARK) {
        *ref = offset + 1;
        return pool[offset];
    }
    uint32_t header;
    memcpy(&header, pool + offset + 1, sizeof header);
    *ref = offset + TEXT_LONG_HEADER_SIZE;
    return header;
}

/* The text start of the pool's first record that is plain (`long_header`
 * 0) or has a long header (1); 0 when there is none. */
static size_t first_pool_text(const Part *part, int long_header)
{
    size_t ref;
    uint32_t header;
    for (size_t offset = 0; offset < part->size; offset = ref + (header >> 1) + 1) {
        header = pool_record(part->bytes, offset, &ref);
        if (long_header ? ref - offset == TEXT_LONG_HEADER_SIZE : (header & 1))
            return ref;
    }
    return 0;
}

typedef enum Tamper {
    TAMPER_SITES_TRUNCATED,
    TAMPER_NAME_PAST_POOL,
    TAMPER_NAME_INSIDE_TEXT,
    TAMPER_CODES_PAST_END,
    TAMPER_QUOTE_IN_PLAIN_TEXT,
    TAMPER_UNKNOWN_CODE,
    TAMPER_CODES_DESCENDING,
    TAMPER_COORDINATOR_PAST_END,
    TAMPER_ROLE,
    TAMPER_AUDIENCE,
    TAMPER_LATITUDE_NAN,
    TAMPER_LONGITUDE_RANGE,
    TAMPER_SITES_SWAPPED,
    TAMPER_DETAILS_PAST_END,
    TAMPER_DETAILS_ZERO_FILLED,
    TAMPER_DETAILS_TEXT_PAST_POOL,
    TAMPER_POOL_LENGTH,
    TAMPER_POOL_NUL,
    TAMPER_POOL_LONG_MARK,
    TAMPER_COUNT
} Tamper;

/* Each tamper's name, and the reason the warning must give. */
static const char *const tampers[TAMPER_COUNT][2] = {
    {"sites blob truncated", "the sites part does not hold packed_site_count sites"},
    {"name past the pool", "a site's text is not in the pool"},
    {"name inside a text", "a site's text is not in the pool"},
    {"codes past site_codes", "a site's codes are past site_codes"},
    {"'\"' in a plain text", "a text's JSON-plain flag is wrong"},
    {"unknown code", "a site lists an unknown ORPHAcode"},
    {"codes descending", "a site's codes are not strictly ascending"},
    {"coordinator past sites", "a site's coordinator is past the sites"},
    {"role", "a site's role or public is unknown"},
    {"audience", "a site's role or public is unknown"},
    {"latitude NaN", "a site's position is out of range"},
    {"longitude 200", "a site's position is out of range"},
    {"two sites swapped", "the sites are not in strictly ascending site_id order"},
    {"details past the end", "a site's details are past the details"},
    {"details record 0 filled", "details record 0 is not the all-absent record"},
    {"details text past the pool", "a details text is not in the pool"},
    {"text length past pool", "a text runs past the pool"},
    {"text without its NUL", "a text without its NUL"},
    {"long header without its mark", "a text header is malformed"},
};

static const char *tamper_part_name(Tamper tamper)
{
    switch (tamper) {
    case TAMPER_UNKNOWN_CODE:
    case TAMPER_CODES_DESCENDING:
        return "site_codes";
    case TAMPER_QUOTE_IN_PLAIN_TEXT:
    case TAMPER_POOL_LENGTH:
    case TAMPER_POOL_NUL:
    case TAMPER_POOL_LONG_MARK:
        return "text_pool";
    case TAMPER_DETAILS_ZERO_FILLED:
    case TAMPER_DETAILS_TEXT_PAST_POOL:
        return "details";
    default:
        return "sites";
    }
}

/* Applies `tamper` to a copy of the part; sites are edited as Site
 * records (memcpy: the blob's bytes are not aligned for Site). */
static void apply_tamper(Tamper tamper, Part *part)
{
    Site site;
    size_t s = 1;
    const Site *reference = &table->sites[s];
    memcpy(&site, part->bytes + s * sizeof site, sizeof site);
    switch (tamper) {
    case TAMPER_SITES_TRUNCATED:
        part->size -= 10;
        return;
    case TAMPER_NAME_PAST_POOL:
        site.name = (TextRef)table->text_pool_size + 8;
        break;
    case TAMPER_NAME_INSIDE_TEXT:
        site.name = reference->site_id + 1;
        break;
    case TAMPER_CODES_PAST_END:
        s = site_with_codes(1);
        memcpy(&site, part->bytes + s * sizeof site, sizeof site);
        site.codes_start = (uint32_t)code_total(table);
        break;
    case TAMPER_QUOTE_IN_PLAIN_TEXT: {
        /* The first text marked plain gets a '"' as its first byte. */
        size_t ref = first_pool_text(part, 0);
        CHECK(ref > 0, "no plain text in the pool");
        if (ref)
            part->bytes[ref] = '"';
        return;
    }
    case TAMPER_UNKNOWN_CODE: {
        int32_t unknown = 999999999;
        memcpy(part->bytes, &unknown, sizeof unknown);
        return;
    }
    case TAMPER_CODES_DESCENDING: {
        const Site *listing = &table->sites[site_with_codes(2)];
        CHECK(listing->code_count >= 2, "no site lists two codes");
        unsigned char *codes = part->bytes + listing->codes_start * sizeof(int32_t);
        int32_t first, second;
        memcpy(&first, codes, sizeof first);
        memcpy(&second, codes + sizeof first, sizeof second);
        memcpy(codes, &second, sizeof second);
        memcpy(codes + sizeof first, &first, sizeof first);
        return;
    }
    case TAMPER_COORDINATOR_PAST_END:
        site.coordinator = (uint32_t)table->site_count;
        break;
    case TAMPER_ROLE:
        site.role = ROLE_COUNT;
        break;
    case TAMPER_AUDIENCE:
        site.audience = AUDIENCE_TOUS + 1;
        break;
    case TAMPER_LATITUDE_NAN:
        site.lat = NAN;
        break;
    case TAMPER_LONGITUDE_RANGE:
        site.lon = 200;
        break;
    case TAMPER_SITES_SWAPPED:
        memcpy(part->bytes + s * sizeof site, part->bytes, sizeof site);
        memcpy(part->bytes, &site, sizeof site);
        return;
    case TAMPER_DETAILS_PAST_END:
        site.details = (uint32_t)table->details_count;
        break;
    case TAMPER_DETAILS_ZERO_FILLED: {
        TextRef ref = table->sites[0].site_id;
        memcpy(part->bytes, &ref, sizeof ref);
        return;
    }
    case TAMPER_DETAILS_TEXT_PAST_POOL: {
        TextRef past = (TextRef)table->text_pool_size;
        memcpy(part->bytes + part->size - sizeof past, &past, sizeof past);
        return;
    }
    case TAMPER_POOL_LENGTH: {
        /* The first record becomes a long header claiming the whole pool. */
        uint32_t header = (uint32_t)table->text_pool_size << 1;
        part->bytes[0] = part->bytes[TEXT_LONG_HEADER_SIZE - 1] = TEXT_LONG_MARK;
        memcpy(part->bytes + 1, &header, sizeof header);
        return;
    }
    case TAMPER_POOL_NUL: {
        size_t ref;
        uint32_t header = pool_record(part->bytes, 0, &ref);
        part->bytes[ref + (header >> 1)] = 'x';
        return;
    }
    case TAMPER_POOL_LONG_MARK: {
        /* The closing mark of the first long header. */
        size_t ref = first_pool_text(part, 1);
        CHECK(ref > 0, "no long text in the pool");
        if (ref)
            part->bytes[ref - 1] = TEXT_LONG_MARK + 1;
        return;
    }
    case TAMPER_COUNT:
        return;
    }
    memcpy(part->bytes + s * sizeof site, &site, sizeof site);
}

/* Loads the tampered copy: it must fall back to the table with one
 * warning and answer exactly as the table path does. */
static void check_falls_back(const char *what, const char *reason)
{
    char *warning = NULL;
    Dataset *dataset = load_capturing(tampered, &warning);
    CHECK(dataset && dataset->snapshot->sites_packed == 0, "%s: the packed sites were used", what);
    CHECK(warning && strstr(warning, "maillage: packed sites in ") &&
              strstr(warning, "are invalid (") && strstr(warning, "); read the sites table\n") &&
              strstr(warning, reason) && strchr(warning, '\n') == warning + strlen(warning) - 1,
          "%s: warning \"%s\"", what, warning ? warning : "");
    if (dataset)
        check_same_answers(dataset, what);
    free(warning);
    dataset_free(dataset);
}

TEST(tampered_parts_fall_back_to_the_table)
{
    CHECK(table != NULL, "no reference");
    if (!table)
        return;
    for (int t = 0; t < TAMPER_COUNT; t++) {
        Part part;
        const char *name = tamper_part_name((Tamper)t);
        if (copy_file(database, tampered) != 0 || read_part(tampered, name, &part) != 0) {
            CHECK(0, "%s: cannot copy the database", tampers[t][0]);
            continue;
        }
        apply_tamper((Tamper)t, &part);
        CHECK(write_part(tampered, name, &part) == 0, "%s: cannot write", tampers[t][0]);
        free(part.bytes);
        check_falls_back(tampers[t][0], tampers[t][1]);
    }
    /* What, the SQL, the reason. */
    static const char *const statements[][3] = {
        {"wrong packed_format", "UPDATE metadata SET value = '999' WHERE key = 'packed_format'",
         "metadata packed_format is not"},
        {"wrong packed_version", "UPDATE metadata SET value = 'x' WHERE key = 'packed_version'",
         "metadata packed_version is not"},
        {"wrong packed_site_size",
         "UPDATE metadata SET value = '40' WHERE key = 'packed_site_size'",
         "metadata packed_site_size is not 48"},
        {"wrong packed_site_count", "DELETE FROM sites WHERE site_id = 'SYN-PACK-D'",
         "metadata packed_site_count is not"},
        {"no packed_format row", "DELETE FROM metadata WHERE key = 'packed_format'",
         "metadata packed_format is not"},
        {"a part missing", "DELETE FROM packed_sites WHERE part = 'details'",
         "a part is missing or not a blob"},
        {"a part as text", "UPDATE packed_sites SET bytes = 'text' WHERE part = 'site_codes'",
         "a part is missing or not a blob"},
        {"sites truncated by SQL",
         "UPDATE packed_sites SET bytes = substr(bytes, 1, 100) WHERE part = 'sites'",
         "the sites part does not hold packed_site_count sites"},
    };
    for (size_t i = 0; i < sizeof statements / sizeof statements[0]; i++) {
        if (tamper_with(statements[i][0], statements[i][1]) != 0)
            continue;
        if (i == 3) { /* one site fewer in the table: compare with its own table path */
            char *warning = NULL;
            Dataset *dataset = load_capturing(tampered, &warning);
            CHECK(dataset && !dataset->snapshot->sites_packed &&
                      dataset->snapshot->site_count == table->site_count - 1 && warning &&
                      strstr(warning, statements[i][2]),
                  "%s: %s", statements[i][0], warning ? warning : "");
            free(warning);
            dataset_free(dataset);
            continue;
        }
        check_falls_back(statements[i][0], statements[i][2]);
    }
}

/* Loads the tampered copy: its sites must still load packed, with the
 * one warning `expected` (NULL: none) and the table path's links and
 * answers. */
static void check_other_part_refused(const char *what, const char *expected)
{
    char *warning = NULL;
    Dataset *dataset = load_capturing(tampered, &warning);
    CHECK(dataset && dataset->snapshot->sites_packed == 1, "%s: the packed sites were not used",
          what);
    CHECK(warning && (expected ? strstr(warning, expected) &&
                                     strchr(warning, '\n') == warning + strlen(warning) - 1
                               : warning[0] == 0),
          "%s: warning \"%s\"", what, warning ? warning : "");
    if (dataset) {
        CHECK(same_links(dataset->snapshot), "%s: the links differ from the table's", what);
        check_same_answers(dataset, what);
    }
    free(warning);
    dataset_free(dataset);
}

/* The links part and the tree order are checked on their own: a bad one is
 * said once and replaced (the links table, trees built by selection), the
 * packed sites still serve; a missing one is silent. */
TEST(tampered_links_and_tree_order_are_refused)
{
    CHECK(table != NULL, "no reference");
    if (!table)
        return;
    Part links = {NULL, 0}, order = {NULL, 0};
    CHECK(read_part(database, "links", &links) == 0 && links.size == table->link_count * 12 &&
              read_part(database, "tree_order", &order) == 0 && order.size > 16,
          "the build wrote no links part or no tree order");
    free(links.bytes);
    free(order.bytes);
    /* What, the SQL, the warning. */
    static const char *const statements[][3] = {
        {"links truncated", "UPDATE packed_sites SET bytes = substr(bytes, 2) WHERE part = 'links'",
         "packed links in %s are invalid (the links part is not a whole number of links); read "
         "the links table"},
        {"a link past the sites",
         "UPDATE packed_sites SET bytes = CAST(x'ffffff7f' || substr(bytes, 5) AS BLOB)"
         " WHERE part = 'links'",
         "packed links in %s are invalid (a link's site or kind is out of range)"},
        {"a link of no kind",
         "UPDATE packed_sites SET bytes = CAST(substr(bytes, 1, 8) || x'07000000' ||"
         " substr(bytes, 13) AS BLOB) WHERE part = 'links'",
         "packed links in %s are invalid (a link's site or kind is out of range)"},
        {"no links part", "DELETE FROM packed_sites WHERE part = 'links'", NULL},
        {"a site twice in the tree order",
         "UPDATE packed_sites SET bytes = CAST(substr(bytes, 1, 20) || substr(bytes, 17, 4) ||"
         " substr(bytes, 25) AS BLOB) WHERE part = 'tree_order'",
         "the tree order in %s is invalid (the whole tree's order is not a permutation of the "
         "sites); built the trees"},
        {"a tree order for other sites",
         "UPDATE packed_sites SET bytes = CAST(substr(bytes, 1, 4) || x'01000000' ||"
         " substr(bytes, 9) AS BLOB) WHERE part = 'tree_order'",
         "the tree order in %s is invalid (it was written for other sites); built the trees"},
        {"no tree order", "DELETE FROM packed_sites WHERE part = 'tree_order'", NULL},
    };
    for (size_t i = 0; i < sizeof statements / sizeof statements[0]; i++) {
        if (tamper_with(statements[i][0], statements[i][1]) != 0)
            continue;
        char expected[1024];
        if (statements[i][2])
            snprintf(expected, sizeof expected, statements[i][2], tampered);
        check_other_part_refused(statements[i][0], statements[i][2] ? expected : NULL);
    }
}

/* Loads the tampered copy with a warnings buffer: stderr must stay silent
 * and the buffer hold each of `expected`'s lines, one line per warning. */
static void check_warnings_buffered(const char *what, const char *const *expected, size_t count)
{
    Buffer sink;
    buffer_init(&sink);
    char *printed = NULL;
    Dataset *dataset = load_capturing_into(tampered, &sink, &printed);
    CHECK(dataset != NULL, "%s: not loaded", what);
    CHECK(printed && printed[0] == 0, "%s: stderr got \"%s\"", what, printed ? printed : "");
    buffer_append_char(&sink, 0);
    size_t lines = 0;
    for (size_t i = 0; i < sink.length; i++)
        lines += sink.data[i] == '\n';
    CHECK(lines == count, "%s: %zu warning line(s), not %zu: \"%s\"", what, lines, count,
          sink.data);
    for (size_t i = 0; i < count; i++)
        CHECK(strstr(sink.data, expected[i]), "%s: no \"%s\" in \"%s\"", what, expected[i],
              sink.data);
    buffer_free(&sink);
    free(printed);
    dataset_free(dataset);
}

/* A caller that passes a warnings buffer (serve, which shows them only
 * once the integrity check passed) gets every refused part there. */
TEST(warnings_go_to_the_callers_buffer)
{
    static const char *const sites_refused[] = {"packed sites in "};
    if (tamper_with("sites",
                    "UPDATE packed_sites SET bytes = substr(bytes, 1, 100) WHERE part = 'sites'") ==
        0)
        check_warnings_buffered("sites", sites_refused, 1);
    static const char *const others_refused[] = {"packed links in ", "the tree order in "};
    if (tamper_with("links and tree order", "UPDATE packed_sites SET bytes = substr(bytes, 2)"
                                            " WHERE part IN ('links', 'tree_order')") == 0)
        check_warnings_buffered("links and tree order", others_refused, 2);
}

TEST(no_packed_parts_loads_silently_and_packing_repairs)
{
    CHECK(table != NULL, "no reference");
    if (!table)
        return;
    tamper_with("remove the packed parts",
                "DELETE FROM packed_sites; DELETE FROM metadata WHERE key LIKE 'packed%'");
    char *warning = NULL;
    Dataset *dataset = load_capturing(tampered, &warning);
    CHECK(dataset && !dataset->snapshot->sites_packed && warning && warning[0] == 0,
          "no packed parts: \"%s\"", warning ? warning : "");
    if (dataset)
        check_same_answers(dataset, "no packed parts");
    free(warning);
    dataset_free(dataset);
    /* Packing a tampered file again writes good parts. */
    CHECK(exec_sql(tampered, "CREATE TABLE IF NOT EXISTS packed_sites(part TEXT PRIMARY KEY,"
                             " bytes BLOB NOT NULL);"
                             " INSERT INTO packed_sites VALUES ('sites', x'00')") == 0,
          "a bad part");
    char error[512];
    CHECK(snapshot_pack(tampered, error, sizeof error) == 0, "%s", error);
    dataset = load_capturing(tampered, &warning);
    CHECK(dataset && dataset->snapshot->sites_packed && warning && warning[0] == 0,
          "repacked: \"%s\"", warning ? warning : "");
    if (dataset)
        check_same_answers(dataset, "repacked");
    free(warning);
    dataset_free(dataset);
    /* A file that is not a database cannot be packed. */
    CHECK(write_file(tampered, "not a database", 14) == 0 &&
              snapshot_pack(tampered, error, sizeof error) == -1 && strstr(error, tampered),
          "packing a non-database: %s", error);
}

int main(void)
{
    snprintf(directory, sizeof directory, "%s/maillage-test-packed-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(directory)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(database, sizeof database, "%s/synthetic-packed.sqlite", directory);
    snprintf(tampered, sizeof tampered, "%s/synthetic-tampered.sqlite", directory);
    snprintf(warnings, sizeof warnings, "%s/warnings.txt", directory);
    RUN(build_and_load_through_the_table);
    RUN(the_build_packs_and_both_paths_agree);
    RUN(tampered_parts_fall_back_to_the_table);
    RUN(tampered_links_and_tree_order_are_refused);
    RUN(warnings_go_to_the_callers_buffer);
    RUN(no_packed_parts_loads_silently_and_packing_repairs);
    if (table)
        buffer_free(&table_answers);
    dataset_free(table_dataset);
    unlink(database);
    unlink(tampered);
    unlink(warnings);
    char network[600];
    snprintf(network, sizeof network, "%s/synthetic-packed-network.csv", directory);
    unlink(network);
    rmdir(directory);
    return CHECK_SUMMARY("test_packed");
}
