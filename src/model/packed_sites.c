/* packed_sites.c — the packed form of the sites, written by `maillage build`
 * and read back by the server (model/).
 *
 * Owns: the packed_sites parts, their metadata rows, and the checks every
 * part passes before anything uses it. */
#include "model/loader.h"

#include "base/text.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- Packed sites -------------------------------------------------------
 *
 * `maillage build` stores what the sites steps above produce (the Site
 * array sorted with coordinators resolved, site_codes, the text pool and
 * the details) as four blobs of packed_sites, in this process's memory
 * layout, with metadata rows naming that layout, and the links resolved to
 * site indexes as a fifth (three 32-bit words per link, read only beside
 * packed sites: the links table would otherwise cost a site_id lookup per
 * end). load_sites() reads them
 * straight into the snapshot's arrays when the metadata matches the file
 * and build, then checks every reference before anything uses it: the
 * file is input, so a bad blob gives a warning and the table path, never
 * a crash nor an answer the table would not give. */

/* The parts every packed file has (PART_COUNT), then the links part,
 * which files packed before it lack (WRITTEN_PART_COUNT). */
enum {
    PART_SITES,
    PART_SITE_CODES,
    PART_TEXT_POOL,
    PART_DETAILS,
    PART_COUNT,
    PART_LINKS = PART_COUNT,
    WRITTEN_PART_COUNT
};

static const char *const packed_part_names[WRITTEN_PART_COUNT] = {"sites", "site_codes",
                                                                  "text_pool", "details", "links"};

/* The metadata rows that describe the packed parts, and the values this
 * build expects for `snapshot` with `site_count` rows in its sites table. */
#define PACKED_METADATA_COUNT 5

typedef struct PackedMetadata {
    const char *key;
    char value[64];
} PackedMetadata;

static void packed_metadata_expected(const Snapshot *snapshot, size_t site_count,
                                     PackedMetadata rows[PACKED_METADATA_COUNT])
{
    rows[0].key = "packed_format";
    snprintf(rows[0].value, sizeof rows[0].value, "%d", SNAPSHOT_PACKED_FORMAT);
    rows[1].key = "packed_site_size";
    snprintf(rows[1].value, sizeof rows[1].value, "%zu", sizeof(Site));
    rows[2].key = "packed_details_size";
    snprintf(rows[2].value, sizeof rows[2].value, "%zu", sizeof(SiteDetails));
    rows[3].key = "packed_site_count";
    snprintf(rows[3].value, sizeof rows[3].value, "%zu", site_count);
    rows[4].key = "packed_version";
    snprintf(rows[4].value, sizeof rows[4].value, "%s", snapshot->version);
}

/* 1 when `ref` is 0 or the start of a text of the pool (bit set in
 * `starts`, one bit per pool byte). */
static int packed_ref_valid(const uint8_t *starts, size_t pool_size, TextRef ref)
{
    return ref == 0 || (ref < pool_size && (starts[ref >> 3] >> (ref & 7) & 1));
}

/* Walks the pool's records from offset 0 (the pool is nothing but
 * [header][bytes][NUL] records, end to end), checking each one's length,
 * NUL and JSON-plain flag, and marks where each text starts. */
static const char *validate_packed_pool(const Snapshot *snapshot, uint8_t *starts)
{
    const char *pool = snapshot->text_pool;
    size_t size = snapshot->text_pool_size, offset = 0;
    if (size > UINT32_MAX)
        return "the text pool passes 4 GB";
    while (offset < size) {
        uint32_t header = (unsigned char)pool[offset];
        size_t ref = offset + 1;
        if (header >= TEXT_LONG_MARK) {
            if (header != TEXT_LONG_MARK || size - offset < TEXT_LONG_HEADER_SIZE + 2 ||
                (unsigned char)pool[offset + TEXT_LONG_HEADER_SIZE - 1] != TEXT_LONG_MARK)
                return "a text header is malformed";
            memcpy(&header, pool + offset + 1, sizeof header);
            ref = offset + TEXT_LONG_HEADER_SIZE;
            if ((header >> 1) <= TEXT_SHORT_MAX)
                return "a short text has a long header";
        } else if (size - offset < 3) {
            return "a text runs past the pool";
        }
        size_t length = header >> 1;
        if (length == 0)
            return "an empty text in the pool";
        if (length > size - ref - 1)
            return "a text runs past the pool";
        if (pool[ref + length] != 0)
            return "a text without its NUL";
        if ((header & 1) != (uint32_t)text_is_plain(pool + ref, length))
            return "a text's JSON-plain flag is wrong";
        starts[ref >> 3] |= (uint8_t)(1u << (ref & 7));
        offset = ref + length + 1;
    }
    return NULL;
}

static const char *validate_packed_details(const Snapshot *snapshot, const uint8_t *starts)
{
    static const SiteDetails none = {0};
    if (snapshot->details_count == 0 || snapshot->details_count > UINT32_MAX ||
        memcmp(&snapshot->details[0], &none, sizeof none) != 0)
        return "details record 0 is not the all-absent record";
    for (size_t d = 0; d < snapshot->details_count; d++) {
        const TextRef *fields = detail_fields(&snapshot->details[d]);
        for (size_t f = 0; f < DETAIL_FIELD_COUNT; f++)
            if (!packed_ref_valid(starts, snapshot->text_pool_size, fields[f]))
                return "a details text is not in the pool";
    }
    return NULL;
}

/* The checks of one site that need no other site but its codes. */
static const char *validate_packed_site(const Snapshot *snapshot, const Site *site,
                                        size_t code_total, const uint8_t *starts)
{
    size_t pool_size = snapshot->text_pool_size;
    if (!packed_ref_valid(starts, pool_size, site->site_id) ||
        !packed_ref_valid(starts, pool_size, site->name) ||
        !packed_ref_valid(starts, pool_size, site->centre_label) ||
        !packed_ref_valid(starts, pool_size, site->filiere))
        return "a site's text is not in the pool";
    if (site->details >= snapshot->details_count)
        return "a site's details are past the details";
    if ((size_t)site->codes_start + site->code_count > code_total)
        return "a site's codes are past site_codes";
    const int32_t *codes = site_codes(snapshot, site);
    for (uint32_t i = 0; i < site->code_count; i++) {
        if (!snapshot_condition(snapshot, codes[i]))
            return "a site lists an unknown ORPHAcode";
        if (i > 0 && codes[i] <= codes[i - 1])
            return "a site's codes are not strictly ascending";
    }
    if (site->coordinator != SITE_NONE && site->coordinator >= snapshot->site_count)
        return "a site's coordinator is past the sites";
    if (site->role >= ROLE_COUNT || site->audience > AUDIENCE_TOUS)
        return "a site's role or public is unknown";
    if (!isfinite(site->lat) || !isfinite(site->lon) || site->lat < -90 || site->lat > 90 ||
        site->lon < -180 || site->lon > 180)
        return "a site's position is out of range";
    return NULL;
}

/* Every check of the packed parts now in `snapshot`; NULL when valid,
 * else the reason. */
static const char *validate_packed(const Snapshot *snapshot, size_t code_total)
{
    uint8_t *starts = calloc(snapshot->text_pool_size / 8 + 1, 1);
    if (!starts)
        return "out of memory";
    const char *reason = validate_packed_pool(snapshot, starts);
    if (!reason)
        reason = validate_packed_details(snapshot, starts);
    for (size_t s = 0; !reason && s < snapshot->site_count; s++) {
        const Site *site = &snapshot->sites[s];
        reason = validate_packed_site(snapshot, site, code_total, starts);
        if (!reason && s > 0 &&
            strcmp(site_id_text(snapshot, site - 1), site_id_text(snapshot, site)) >= 0)
            reason = "the sites are not in strictly ascending site_id order";
    }
    free(starts);
    return reason;
}

/* Whether the file has packed parts at all (a file built before them, or
 * by hand, has neither the metadata rows nor the parts: not a warning). */
static int packed_parts_present(Loader *loader)
{
    char value[64];
    if (store_metadata(&loader->store, "packed_format", value, sizeof value) == 0)
        return 1;
    sqlite3_stmt *statement = NULL;
    int present = sqlite3_prepare_v2(loader->store.db, "SELECT 1 FROM packed_sites LIMIT 1", -1,
                                     &statement, NULL) == SQLITE_OK &&
                  sqlite3_step(statement) == SQLITE_ROW;
    sqlite3_finalize(statement);
    return present;
}

static const char *check_packed_metadata(Loader *loader, size_t *site_count)
{
    sqlite3_stmt *statement = NULL;
    if (sqlite3_prepare_v2(loader->store.db, "SELECT count(*) FROM sites", -1, &statement, NULL) !=
            SQLITE_OK ||
        sqlite3_step(statement) != SQLITE_ROW) {
        sqlite3_finalize(statement);
        return "the sites table cannot be counted";
    }
    *site_count = (size_t)sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
    if (*site_count >= SITE_NONE - 1)
        return "too many sites";
    PackedMetadata expected[PACKED_METADATA_COUNT];
    packed_metadata_expected(loader->snapshot, *site_count, expected);
    for (size_t m = 0; m < PACKED_METADATA_COUNT; m++) {
        char value[64];
        if (store_metadata(&loader->store, expected[m].key, value, sizeof value) != 0 ||
            strcmp(value, expected[m].value) != 0) {
            snprintf(loader->packed_reason, sizeof loader->packed_reason,
                     "metadata %s is not %.64s", expected[m].key, expected[m].value);
            return loader->packed_reason;
        }
    }
    return NULL;
}

/* Reads the four parts into the snapshot's arrays (sizes checked). */
static const char *read_packed_parts(Loader *loader, size_t site_count, size_t *code_total)
{
    Snapshot *snapshot = loader->snapshot;
    const char *reason = NULL;
    size_t sizes[PART_COUNT] = {0};
    void *parts[PART_COUNT] = {NULL};
    for (int p = 0; p < PART_COUNT && !reason; p++) {
        size_t spare = p == PART_SITES ? sizeof(Site) : p == PART_DETAILS ? 0 : sizeof(int32_t);
        parts[p] =
            store_read_part(&loader->store, packed_part_names[p], spare + 1, &sizes[p], &reason);
        if (parts[p])
            reason = NULL;
    }
    snapshot->sites = parts[PART_SITES];
    snapshot->site_codes = parts[PART_SITE_CODES];
    snapshot->text_pool = parts[PART_TEXT_POOL];
    snapshot->details = parts[PART_DETAILS];
    if (reason)
        return reason;
    if (sizes[PART_SITES] != site_count * sizeof(Site))
        return "the sites part does not hold packed_site_count sites";
    if (sizes[PART_SITE_CODES] % sizeof(int32_t) != 0 ||
        sizes[PART_DETAILS] % sizeof(SiteDetails) != 0)
        return "a part's size is not a whole number of records";
    snapshot->site_count = site_count;
    *code_total = sizes[PART_SITE_CODES] / sizeof(int32_t);
    snapshot->text_pool_size = snapshot->text_pool_capacity = sizes[PART_TEXT_POOL];
    snapshot->details_count = snapshot->details_capacity =
        sizes[PART_DETAILS] / sizeof(SiteDetails);
    return NULL;
}

/* Undoes a packed read that did not pass, for the table path. */
static void discard_packed(Snapshot *snapshot)
{
    free(snapshot->sites);
    free(snapshot->site_codes);
    free(snapshot->text_pool);
    free(snapshot->details);
    snapshot->sites = NULL;
    snapshot->site_codes = NULL;
    snapshot->text_pool = NULL;
    snapshot->details = NULL;
    snapshot->site_count = 0;
    snapshot->text_pool_size = snapshot->text_pool_capacity = 0;
    snapshot->details_count = snapshot->details_capacity = 0;
}

/* PACKED_LOADED with the sites in the snapshot, PACKED_ABSENT when the
 * file has no packed parts, PACKED_INVALID with *reason (and nothing left
 * in the snapshot) when they exist but cannot be used. */
PackedStatus packed_sites_read(Loader *loader, const char **reason)
{
    if (!packed_parts_present(loader))
        return PACKED_ABSENT;
    size_t site_count = 0, code_total = 0;
    *reason = check_packed_metadata(loader, &site_count);
    if (!*reason)
        *reason = read_packed_parts(loader, site_count, &code_total);
    if (!*reason)
        *reason = validate_packed(loader->snapshot, code_total);
    if (*reason) {
        discard_packed(loader->snapshot);
        return PACKED_INVALID;
    }
    loader->snapshot->sites_packed = 1;
    loader->site_code_count = code_total;
    return PACKED_LOADED;
}

/* The links part: (from, to, kind) per link, in the links table's order. */
#define LINK_WORDS 3

PackedStatus packed_links_read(Loader *loader, const char **reason)
{
    Snapshot *snapshot = loader->snapshot;
    size_t size = 0;
    uint32_t *words =
        store_read_part(&loader->store, packed_part_names[PART_LINKS], 1, &size, reason);
    if (!words) /* a file packed before the links were: not a warning */
        return strcmp(*reason, STORE_PART_MISSING) == 0 ? PACKED_ABSENT : PACKED_INVALID;
    size_t count = size / (LINK_WORDS * sizeof *words);
    *reason = NULL;
    if (size % (LINK_WORDS * sizeof *words) != 0)
        *reason = "the links part is not a whole number of links";
    Link *links = *reason ? NULL : malloc((count + 1) * sizeof *links);
    if (!*reason && !links)
        *reason = "out of memory";
    for (size_t i = 0; !*reason && i < count; i++) {
        const uint32_t *link = words + i * LINK_WORDS;
        if (link[0] >= snapshot->site_count || link[1] >= snapshot->site_count ||
            (link[2] != LINK_COORDINATOR && link[2] != LINK_COOPERATION))
            *reason = "a link's site or kind is out of range";
        else
            links[i] = (Link){link[0], link[1], (uint8_t)link[2]};
    }
    free(words);
    if (*reason) {
        free(links);
        return PACKED_INVALID;
    }
    snapshot->links = links;
    snapshot->link_count = count;
    return PACKED_LOADED;
}

/* The links part of `snapshot`: a new buffer of *size bytes, NULL when out
 * of memory. */
static uint32_t *links_part(const Snapshot *snapshot, size_t *size)
{
    uint32_t *words = malloc((snapshot->link_count * LINK_WORDS + 1) * sizeof *words);
    if (!words)
        return NULL;
    for (size_t i = 0; i < snapshot->link_count; i++) {
        const Link *link = &snapshot->links[i];
        words[i * LINK_WORDS] = link->from;
        words[i * LINK_WORDS + 1] = link->to;
        words[i * LINK_WORDS + 2] = link->kind;
    }
    *size = snapshot->link_count * LINK_WORDS * sizeof *words;
    return words;
}

/* 1 when every part fits in one blob (SQLite's length limit, 1e9 bytes by
 * default: about 20 million sites); larger datasets are not packed and
 * load from the table. */
static int packed_parts_fit(sqlite3 *db, const size_t sizes[WRITTEN_PART_COUNT])
{
    size_t limit = (size_t)sqlite3_limit(db, SQLITE_LIMIT_LENGTH, -1);
    for (int p = 0; p < WRITTEN_PART_COUNT; p++)
        if (sizes[p] > limit || sizes[p] > INT32_MAX)
            return 0;
    return 1;
}

/* Writes the packed parts of `snapshot` (loaded through the table path)
 * and their metadata rows into `path`, replacing any older ones, in one
 * transaction (only removing them when the parts would not fit). */
int packed_sites_write(const Snapshot *snapshot, size_t code_total, const char *path, char *error,
                       size_t error_size)
{
    size_t links_size = 0;
    uint32_t *links = links_part(snapshot, &links_size);
    if (!links) {
        snprintf(error, error_size, "%s: out of memory", path);
        return -1;
    }
    const void *parts[WRITTEN_PART_COUNT] = {snapshot->sites, snapshot->site_codes,
                                             snapshot->text_pool, snapshot->details, links};
    size_t sizes[WRITTEN_PART_COUNT] = {snapshot->site_count * sizeof(Site),
                                        code_total * sizeof(int32_t), snapshot->text_pool_size,
                                        snapshot->details_count * sizeof(SiteDetails), links_size};
    PackedMetadata metadata[PACKED_METADATA_COUNT];
    packed_metadata_expected(snapshot, snapshot->site_count, metadata);
    sqlite3 *db = NULL;
    sqlite3_stmt *part = NULL, *row = NULL;
    int ok = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
             sqlite3_exec(db,
                          "PRAGMA synchronous = OFF; BEGIN;"
                          " DELETE FROM packed_sites;"
                          " DELETE FROM metadata WHERE key LIKE 'packed!_%' ESCAPE '!'",
                          NULL, NULL, NULL) == SQLITE_OK &&
             sqlite3_prepare_v2(db, "INSERT INTO packed_sites(part, bytes) VALUES (?, ?)", -1,
                                &part, NULL) == SQLITE_OK &&
             sqlite3_prepare_v2(db, "INSERT INTO metadata(key, value) VALUES (?, ?)", -1, &row,
                                NULL) == SQLITE_OK;
    int fits = ok && packed_parts_fit(db, sizes);
    for (int p = 0; ok && fits && p < WRITTEN_PART_COUNT; p++) {
        sqlite3_bind_text(part, 1, packed_part_names[p], -1, SQLITE_STATIC);
        /* An empty part is an empty blob, not NULL. */
        ok = sqlite3_bind_blob64(part, 2, sizes[p] ? parts[p] : "", sizes[p], SQLITE_STATIC) ==
                 SQLITE_OK &&
             sqlite3_step(part) == SQLITE_DONE;
        sqlite3_reset(part);
    }
    for (size_t m = 0; ok && fits && m < PACKED_METADATA_COUNT; m++) {
        sqlite3_bind_text(row, 1, metadata[m].key, -1, SQLITE_STATIC);
        sqlite3_bind_text(row, 2, metadata[m].value, -1, SQLITE_STATIC);
        ok = sqlite3_step(row) == SQLITE_DONE;
        sqlite3_reset(row);
    }
    ok = ok && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
    if (!ok)
        snprintf(error, error_size, "%s: cannot write the packed sites: %s", path,
                 db ? sqlite3_errmsg(db) : "cannot open the database");
    sqlite3_finalize(part);
    sqlite3_finalize(row);
    sqlite3_close(db); /* an uncommitted transaction is rolled back */
    free(links);
    return ok ? 0 : -1;
}
