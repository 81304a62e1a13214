/* site_reader.c — reading the sites table into the snapshot (model/).
 *
 * Owns: the table path of loader_read_sites(): the parallel readers, the
 * merge of their pools, sorting the sites by site_id, the site_id table
 * and the coordinators. Invariants: after it returns 0 the sites are
 * sorted by site_id (strcmp) and distinct (asserted), every coordinator
 * is a site index or SITE_NONE, and each site's codes are sorted and
 * distinct; results do not depend on how the rows were split between the
 * two readers. */
#include "model/loader.h"

#include "base/array.h"
#include "base/text.h"

#include <assert.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- Reading sites ------------------------------------------------------
 *
 * The sites table is the one large read. Two SiteReaders read it at once
 * on two connections, each over half of the rowids, into one array sized
 * by count(*): the first fills it from the front, the second from the back
 * (then its part is reversed). Each reader has its own text pool, interner,
 * details table, coordinator keys and code list; they are merged at the
 * end. While loading, a site's `coordinator` holds the number of its
 * coordinator_site_id among the distinct ones read (its "key"), resolved
 * to a site index once the sites are sorted: one lookup per distinct id. */

static int reader_fail(SiteReader *reader, const char *what)
{
    snprintf(reader->error, sizeof reader->error, "%s: %s", reader->loader->snapshot->path, what);
    return -1;
}

void site_reader_free(SiteReader *reader)
{
    free(reader->pool.bytes);
    pool_interner_free(&reader->interner);
    details_table_free(&reader->details);
    arena_release(&reader->key_arena);
    hash_slots_free(&reader->key_table);
    free(reader->keys);
    free(reader->codes);
    memset(&reader->pool, 0, sizeof reader->pool);
    reader->keys = NULL;
    reader->codes = NULL;
}

/* A column copied into the reader's pool as it comes (mostly distinct). */
static TextRef column_stored(SiteReader *reader, sqlite3_stmt *statement, int column)
{
    const char *text = (const char *)sqlite3_column_text(statement, column);
    TextRef ref;
    PoolStatus status =
        pool_add(&reader->pool, text, (size_t)sqlite3_column_bytes(statement, column), &ref);
    if (status != POOL_OK)
        reader->pool_status = status;
    return ref;
}

/* A column whose values repeat across sites: stored once per reader. */
static TextRef column_pooled(SiteReader *reader, sqlite3_stmt *statement, int column)
{
    const char *text = (const char *)sqlite3_column_text(statement, column);
    TextRef ref;
    PoolStatus status =
        pool_intern(&reader->interner, text, (size_t)sqlite3_column_bytes(statement, column), &ref);
    if (status != POOL_OK)
        reader->pool_status = status;
    return ref;
}

/* The key of the coordinator_site_id column: SITE_NONE when empty,
 * UINT32_MAX - 1 when out of memory. */
#define KEY_FAILED (SITE_NONE - 1)

static uint32_t column_coordinator_key(SiteReader *reader, sqlite3_stmt *statement, int column)
{
    const char *id = (const char *)sqlite3_column_text(statement, column);
    size_t length = (size_t)sqlite3_column_bytes(statement, column);
    if (!id || length == 0)
        return SITE_NONE;
    HashSlots *table = &reader->key_table;
    if (hash_slots_reserve(table, 1024) != 0)
        return KEY_FAILED;
    uint32_t hash = (uint32_t)hash_fnv1a(HASH_FNV1A_SEED, id, length);
    size_t slot = hash_slots_start(table, hash);
    for (; table->values[slot]; slot = hash_slots_next(table, slot)) {
        const char *key = reader->keys[table->values[slot] - 1];
        if (table->hashes[slot] == hash && strncmp(key, id, length) == 0 && key[length] == 0)
            return (uint32_t)table->values[slot] - 1;
    }
    if (array_reserve(reader->keys, reader->key_capacity, reader->key_count + 1, 1024) != 0)
        return KEY_FAILED;
    const char *copy = arena_copy(&reader->key_arena, id, length);
    if (!copy)
        return KEY_FAILED;
    reader->keys[reader->key_count] = copy;
    hash_slots_fill(table, slot, reader->key_count + 1, hash);
    return (uint32_t)reader->key_count++;
}

/* Appends the codes of an orpha_codes field to the reader's code list. */
static int parse_site_codes(SiteReader *reader, Site *site, const char *text)
{
    const Snapshot *snapshot = reader->loader->snapshot;
    site->codes_start = (uint32_t)reader->codes_length;
    uint32_t count = 0;
    const char *cursor = text ? text : "";
    while (*cursor) {
        while (*cursor == '|' || isspace((unsigned char)*cursor))
            cursor++;
        if (strncasecmp(cursor, "ORPHA:", 6) == 0)
            cursor += 6;
        char *end;
        long code = strtol(cursor, &end, 10);
        if (end == cursor) { /* not a number: skip the item */
            while (*cursor && *cursor != '|')
                cursor++;
            continue;
        }
        cursor = end;
        if (code <= 0 || code > INT32_MAX || !snapshot_condition(snapshot, (int32_t)code))
            continue;
        if (array_reserve(reader->codes, reader->codes_capacity, reader->codes_length + 1, 4096) !=
            0)
            return reader_fail(reader, "out of memory");
        reader->codes[reader->codes_length++] = (int32_t)code;
        count++;
    }
    site->code_count = 0;
    if (count == 0)
        return 0; /* reader->codes may still be NULL: no pointer to make */
    /* Sort (insertion: a site lists few codes) and drop duplicates. */
    int32_t *codes = reader->codes + site->codes_start;
    for (uint32_t i = 1; i < count; i++) {
        int32_t code = codes[i];
        uint32_t j = i;
        while (j > 0 && codes[j - 1] > code) {
            codes[j] = codes[j - 1];
            j--;
        }
        codes[j] = code;
    }
    uint32_t unique = 0;
    for (uint32_t i = 0; i < count; i++)
        if (unique == 0 || codes[i] != codes[unique - 1])
            codes[unique++] = codes[i];
    reader->codes_length -= count - unique;
    if (unique > UINT16_MAX)
        return reader_fail(reader, "a site lists more than 65535 distinct ORPHAcodes");
    site->code_count = (uint16_t)unique;
    return 0;
}

enum {
    COLUMN_SITE_ID,
    COLUMN_FINESS,
    COLUMN_NAME,
    COLUMN_ROLE,
    COLUMN_CENTRE_LABEL,
    COLUMN_FILIERE,
    COLUMN_ORPHA_CODES,
    COLUMN_PUBLIC,
    COLUMN_RESPONSABLE,
    COLUMN_SERVICE,
    COLUMN_PLATFORM,
    COLUMN_SOURCE,
    COLUMN_COORDINATOR,
    COLUMN_LAT,
    COLUMN_LON,
    COLUMN_PHONE,
    COLUMN_ADDRESS,
    COLUMN_POSTCODE,
    COLUMN_CITY
};

/* Reads one row into sites[slot]. */
static int read_site(SiteReader *reader, sqlite3_stmt *statement, size_t slot)
{
    Site *site = &reader->loader->snapshot->sites[slot];
    memset(site, 0, sizeof *site);
    const char *role = (const char *)sqlite3_column_text(statement, COLUMN_ROLE);
    int role_value = role ? role_from_name(role) : -1;
    if (role_value < 0) {
        const char *site_id = (const char *)sqlite3_column_text(statement, COLUMN_SITE_ID);
        char message[256];
        snprintf(message, sizeof message, "site %.64s has an unknown role '%.64s'",
                 site_id ? site_id : "?", role ? role : "");
        return reader_fail(reader, message);
    }
    site->site_id = column_stored(reader, statement, COLUMN_SITE_ID);
    site->name = column_pooled(reader, statement, COLUMN_NAME);
    site->centre_label = column_stored(reader, statement, COLUMN_CENTRE_LABEL);
    site->filiere = column_pooled(reader, statement, COLUMN_FILIERE);
    SiteDetails details = {
        .finess = column_pooled(reader, statement, COLUMN_FINESS),
        .responsable = column_pooled(reader, statement, COLUMN_RESPONSABLE),
        .service = column_pooled(reader, statement, COLUMN_SERVICE),
        .platform = column_pooled(reader, statement, COLUMN_PLATFORM),
        .source = column_pooled(reader, statement, COLUMN_SOURCE),
        .phone = column_pooled(reader, statement, COLUMN_PHONE),
        .address = column_pooled(reader, statement, COLUMN_ADDRESS),
        .postcode = column_pooled(reader, statement, COLUMN_POSTCODE),
        .city = column_pooled(reader, statement, COLUMN_CITY),
    };
    if (reader->pool_status != POOL_OK)
        return reader_fail(reader, pool_status_message(reader->pool_status));
    if (details_store(&reader->details, &details, &site->details) != 0)
        return reader_fail(reader, "out of memory");
    site->lat = sqlite3_column_double(statement, COLUMN_LAT);
    site->lon = sqlite3_column_double(statement, COLUMN_LON);
    site->role = (uint8_t)role_value;
    site->audience =
        (uint8_t)audience_from_name((const char *)sqlite3_column_text(statement, COLUMN_PUBLIC));
    site->coordinator = column_coordinator_key(reader, statement, COLUMN_COORDINATOR);
    if (site->coordinator == KEY_FAILED)
        return reader_fail(reader, "out of memory");
    return parse_site_codes(reader, site,
                            (const char *)sqlite3_column_text(statement, COLUMN_ORPHA_CODES));
}

static void *read_sites(void *argument)
{
    SiteReader *reader = argument;
    Loader *loader = reader->loader;
    size_t capacity = loader->snapshot->site_count;
    sqlite3_stmt *statement;
    reader->status = -1;
    reader->interner.pool = &reader->pool;
    uint32_t unused;
    const SiteDetails none = {0};
    if (details_store(&reader->details, &none, &unused) != 0) { /* index 0: all absent */
        reader_fail(reader, "out of memory");
        return NULL;
    }
    if (sqlite3_prepare_v2(reader->db,
                           "SELECT site_id, finess, structure_name, role, centre_label, filiere, "
                           "orpha_codes, public, responsable, service, platform, source, "
                           "coordinator_site_id, lat, lon, phone, address, postcode, city "
                           "FROM sites WHERE rowid BETWEEN ? AND ?",
                           -1, &statement, NULL) != SQLITE_OK) {
        reader_fail(reader, sqlite3_errmsg(reader->db));
        return NULL;
    }
    sqlite3_bind_int64(statement, 1, reader->first_rowid);
    sqlite3_bind_int64(statement, 2, reader->last_rowid);
    int status;
    while ((status = sqlite3_step(statement)) == SQLITE_ROW) {
        /* Both readers share the array: claim a slot first. */
        size_t claimed = __atomic_fetch_add(&loader->claimed_slots, 1, __ATOMIC_RELAXED);
        if (claimed >= capacity) {
            reader_fail(reader, "the sites table changed while being read");
            sqlite3_finalize(statement);
            return NULL;
        }
        size_t slot = reader->from_back ? capacity - 1 - reader->count : reader->count;
        if (read_site(reader, statement, slot) != 0) {
            sqlite3_finalize(statement);
            return NULL;
        }
        reader->count++;
    }
    if (status != SQLITE_DONE)
        reader_fail(reader, sqlite3_errmsg(reader->db));
    else
        reader->status = 0;
    sqlite3_finalize(statement);
    return NULL;
}

/* Row count and rowid range of the sites table (count(*) reads an index). */
static int sites_extent(Loader *loader, size_t *count, sqlite3_int64 *first, sqlite3_int64 *last)
{
    sqlite3_stmt *statement;
    if (load_prepare(loader, "SELECT count(*), min(rowid), max(rowid) FROM sites", &statement) != 0)
        return -1;
    int status = sqlite3_step(statement);
    if (status == SQLITE_ROW) {
        *count = (size_t)sqlite3_column_int64(statement, 0);
        *first = sqlite3_column_int64(statement, 1);
        *last = sqlite3_column_int64(statement, 2);
        status = SQLITE_DONE;
    }
    if (load_step_error(loader, statement, status) != 0)
        return -1;
    sqlite3_finalize(statement);
    return 0;
}

static TextRef shifted(TextRef ref, uint32_t shift)
{
    return ref ? ref + shift : 0;
}

/* Appends the second reader's pool to the first's and its details to the
 * first's table (by content: the two pools interned separately), writing
 * each second-reader detail's merged index into `merged`. */
static int merge_texts(Loader *loader, SiteReader *first, SiteReader *second, uint32_t *merged)
{
    if (second->pool.size > 0) {
        PoolStatus status = pool_reserve(&first->pool, second->pool.size);
        if (status != POOL_OK)
            return load_fail(loader, pool_status_message(status));
        memcpy(first->pool.bytes + first->pool.size, second->pool.bytes, second->pool.size);
    }
    uint32_t shift = (uint32_t)first->pool.size;
    first->pool.size += second->pool.size;
    free(second->pool.bytes);
    memset(&second->pool, 0, sizeof second->pool);
    if (second->details.count == 0) /* one reader: nothing to merge */
        return 0;
    first->details.by_content = &first->pool;
    if (details_table_rehash(&first->details) != 0)
        return load_fail(loader, "out of memory");
    for (size_t d = 0; d < second->details.count; d++) {
        SiteDetails details = second->details.items[d];
        TextRef *fields = (TextRef *)&details;
        for (size_t f = 0; f < DETAIL_FIELD_COUNT; f++)
            fields[f] = shifted(fields[f], shift);
        if (details_store(&first->details, &details, &merged[d]) != 0)
            return load_fail(loader, "out of memory");
    }
    return 0;
}

/* Moves the second reader's codes after the first's, its texts and details
 * into the first's, its keys after the first's, and its sites' slots into
 * rowid order. */
static int merge_readers(Loader *loader, SiteReader *first, SiteReader *second)
{
    Snapshot *snapshot = loader->snapshot;
    size_t total = first->codes_length + second->codes_length;
    if (total > UINT32_MAX)
        return load_fail(loader, "too many ORPHAcodes listed by the sites");
    int32_t *codes = realloc(first->codes, (total + 1) * sizeof *codes);
    if (!codes)
        return load_fail(loader, "out of memory");
    first->codes = NULL;
    snapshot->site_codes = codes;
    loader->site_code_count = total;
    if (second->codes_length)
        memcpy(codes + first->codes_length, second->codes, second->codes_length * sizeof *codes);
    uint32_t *merged = malloc((second->details.count + 1) * sizeof *merged);
    if (!merged)
        return load_fail(loader, "out of memory");
    uint32_t shift = (uint32_t)first->pool.size;
    if (merge_texts(loader, first, second, merged) != 0) {
        free(merged);
        return -1;
    }
    size_t begin = snapshot->site_count - second->count;
    for (size_t i = begin; i < snapshot->site_count; i++) {
        Site *site = &snapshot->sites[i];
        site->codes_start += (uint32_t)first->codes_length;
        site->site_id = shifted(site->site_id, shift);
        site->name = shifted(site->name, shift);
        site->centre_label = shifted(site->centre_label, shift);
        site->filiere = shifted(site->filiere, shift);
        site->details = merged[site->details];
        if (site->coordinator != SITE_NONE)
            site->coordinator += (uint32_t)first->key_count;
    }
    free(merged);
    /* The second reader filled slots from the end: put its rows back in
     * rowid order (keeps the nearly-sorted fast path of sort_sites). */
    for (size_t i = begin, j = snapshot->site_count - 1; second->count > 1 && i < j; i++, j--) {
        Site held = snapshot->sites[i];
        snapshot->sites[i] = snapshot->sites[j];
        snapshot->sites[j] = held;
    }
    return 0;
}

/* Hands the (merged) first reader's texts, details and keys to the
 * snapshot and the loader. */
static int adopt_reader(Loader *loader, SiteReader *first, SiteReader *second)
{
    Snapshot *snapshot = loader->snapshot;
    size_t key_count = first->key_count + second->key_count;
    loader->coordinator_keys = malloc((key_count + 1) * sizeof *loader->coordinator_keys);
    if (!loader->coordinator_keys)
        return load_fail(loader, "out of memory");
    if (first->key_count)
        memcpy(loader->coordinator_keys, first->keys, first->key_count * sizeof(char *));
    if (second->key_count)
        memcpy(loader->coordinator_keys + first->key_count, second->keys,
               second->key_count * sizeof(char *));
    loader->coordinator_key_count = key_count;
    /* Trim the pool and details to their size (realloc to smaller keeps
     * the data; a failure keeps the larger block). */
    if (first->pool.size > 0 && first->pool.size < first->pool.capacity) {
        char *trimmed = realloc(first->pool.bytes, first->pool.size);
        if (trimmed) {
            first->pool.bytes = trimmed;
            first->pool.capacity = first->pool.size;
        }
    }
    snapshot->text_pool = first->pool.bytes;
    snapshot->text_pool_size = first->pool.size;
    snapshot->text_pool_capacity = first->pool.capacity;
    memset(&first->pool, 0, sizeof first->pool);
    if (first->details.count > 0 && first->details.count < first->details.capacity) {
        SiteDetails *trimmed =
            realloc(first->details.items, first->details.count * sizeof *trimmed);
        if (trimmed) {
            first->details.items = trimmed;
            first->details.capacity = first->details.count;
        }
    }
    snapshot->details = first->details.items;
    snapshot->details_count = first->details.count;
    snapshot->details_capacity = first->details.capacity;
    first->details.items = NULL;
    first->details.count = first->details.capacity = 0;
    return 0;
}

static int read_all_sites(Loader *loader)
{
    Snapshot *snapshot = loader->snapshot;
    size_t count = 0;
    sqlite3_int64 first_rowid = 0, last_rowid = -1;
    if (sites_extent(loader, &count, &first_rowid, &last_rowid) != 0)
        return -1;
    if (count >= SITE_NONE - 1)
        return load_fail(loader, "too many sites");
    snapshot->site_count = count;
    snapshot->sites = malloc((count + 1) * sizeof *snapshot->sites);
    if (!snapshot->sites)
        return load_fail(loader, "out of memory");
    int parallel = count >= loader->options.parallel_minimum_sites && count >= 2;
    sqlite3_int64 split = parallel ? first_rowid + (last_rowid - first_rowid) / 2 : last_rowid;
    SiteReader *readers = loader->readers;
    readers[0] = (SiteReader){loader, loader->store.db, first_rowid, split, 0};
    readers[1] = (SiteReader){loader, NULL, split + 1, last_rowid, 1};
    pthread_t thread;
    int threaded = 0;
    if (parallel && sqlite3_open_v2(snapshot->path, &readers[1].db,
                                    SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) == SQLITE_OK)
        threaded = pthread_create(&thread, NULL, read_sites, &readers[1]) == 0;
    if (!threaded) /* one reader over every rowid */
        readers[0].last_rowid = last_rowid;
    read_sites(&readers[0]);
    if (threaded)
        pthread_join(thread, NULL);
    if (readers[1].db)
        sqlite3_close(readers[1].db);
    readers[1].db = NULL;
    for (int r = 0; r < 2; r++)
        if (readers[r].status != 0 && (r == 0 || threaded)) {
            snprintf(loader->error, loader->error_size, "%s", readers[r].error);
            return -1;
        }
    if (readers[0].count + (threaded ? readers[1].count : 0) != count)
        return load_fail(loader, "the sites table changed while being read");
    if (merge_readers(loader, &readers[0], &readers[1]) != 0)
        return -1;
    int status = adopt_reader(loader, &readers[0], &readers[1]);
    /* The loader keeps the keys' arenas until the coordinators are resolved. */
    for (int r = 0; r < 2; r++) {
        pool_interner_free(&readers[r].interner);
        details_table_free(&readers[r].details);
        free(readers[r].codes);
        readers[r].codes = NULL;
    }
    return status;
}

static int compare_site_ids(const void *a, const void *b, void *context)
{
    const Snapshot *snapshot = context;
    return strcmp(site_id_text(snapshot, &snapshot->sites[*(const uint32_t *)a]),
                  site_id_text(snapshot, &snapshot->sites[*(const uint32_t *)b]));
}

/* Sorts the sites by site_id. Databases usually hold them nearly sorted
 * (rowid order), so: set aside every site smaller than the largest before
 * it, sort only those, merge them with the sorted rest into a permutation,
 * and apply the permutation in place (no second array of sites). */
static int sort_sites(Snapshot *snapshot)
{
    size_t count = snapshot->site_count, kept = 0, aside = 0;
    if (count < 2)
        return 0;
    uint32_t *order = malloc(count * sizeof *order);
    uint32_t *misplaced = malloc(count * sizeof *misplaced);
    uint32_t *permutation = malloc(count * sizeof *permutation);
    if (!order || !misplaced || !permutation) {
        free(order);
        free(misplaced);
        free(permutation);
        return -1;
    }
    Site *sites = snapshot->sites;
    for (size_t s = 0; s < count; s++) {
        if (kept > 0 && strcmp(site_id_text(snapshot, &sites[s]),
                               site_id_text(snapshot, &sites[order[kept - 1]])) < 0)
            misplaced[aside++] = (uint32_t)s;
        else
            order[kept++] = (uint32_t)s;
    }
    if (aside > 0) {
        qsort_r(misplaced, aside, sizeof *misplaced, compare_site_ids, snapshot);
        size_t a = 0, b = 0;
        for (size_t out = 0; out < count; out++) {
            int take_aside =
                b == kept || (a < aside && strcmp(site_id_text(snapshot, &sites[misplaced[a]]),
                                                  site_id_text(snapshot, &sites[order[b]])) < 0);
            permutation[out] = take_aside ? misplaced[a++] : order[b++];
        }
        /* sites[i] must become the old sites[permutation[i]]: follow cycles. */
        for (size_t start = 0; start < count; start++) {
            if (permutation[start] == start)
                continue;
            Site held = sites[start];
            size_t at = start;
            while (permutation[at] != start) {
                size_t from = permutation[at];
                sites[at] = sites[from];
                permutation[at] = (uint32_t)at;
                at = from;
            }
            sites[at] = held;
            permutation[at] = (uint32_t)at;
        }
    }
    free(order);
    free(misplaced);
    free(permutation);
    return 0;
}

/* Builds loader->site_table over the sorted sites: resolving a million
 * coordinator and link ids by bisection would cost ~20 cache-missing
 * string comparisons each. */
int loader_site_table_ready(Loader *loader)
{
    const Snapshot *snapshot = loader->snapshot;
    if (loader->site_table)
        return 0;
    size_t capacity = 1024;
    while (capacity < snapshot->site_count * 2)
        capacity *= 2;
    loader->site_table = calloc(capacity, sizeof *loader->site_table);
    if (!loader->site_table)
        return load_fail(loader, "out of memory");
    loader->site_table_capacity = capacity;
    for (size_t s = 0; s < snapshot->site_count; s++) {
        const Site *site = &snapshot->sites[s];
        size_t slot = (size_t)hash_fnv1a(HASH_FNV1A_SEED, site_id_text(snapshot, site),
                                         snapshot_text_length(snapshot, site->site_id)) &
                      (capacity - 1);
        while (loader->site_table[slot])
            slot = (slot + 1) & (capacity - 1);
        loader->site_table[slot] = (uint32_t)s + 1;
    }
    return 0;
}

static int site_has_id(const Snapshot *snapshot, const Site *site, const char *site_id,
                       size_t length)
{
    return snapshot_text_length(snapshot, site->site_id) == length &&
           memcmp(site_id_text(snapshot, site), site_id, length) == 0;
}

const Site *loader_find_site(const Loader *loader, const char *site_id, size_t length)
{
    const Snapshot *snapshot = loader->snapshot;
    assert(loader->site_table);
    size_t mask = loader->site_table_capacity - 1;
    size_t slot = (size_t)hash_fnv1a(HASH_FNV1A_SEED, site_id, length) & mask;
    for (; loader->site_table[slot]; slot = (slot + 1) & mask) {
        const Site *site = &snapshot->sites[loader->site_table[slot] - 1];
        if (site_has_id(snapshot, site, site_id, length))
            return site;
    }
    return NULL;
}

/* find_site(), trying first `previous` and the site after it: rows sorted
 * by site_id (as the links table is) then resolve without hashing. */
const Site *loader_find_site_after(const Loader *loader, const Site *previous, const char *site_id,
                                   size_t length)
{
    const Snapshot *snapshot = loader->snapshot;
    for (int step = 0; previous && step < 2; step++, previous++) {
        if (previous == snapshot->sites + snapshot->site_count)
            break;
        if (site_has_id(snapshot, previous, site_id, length))
            return previous;
    }
    return loader_find_site(loader, site_id, length);
}

/* Turns each site's coordinator key into the coordinator's index: one
 * lookup per distinct coordinator_site_id. */
static int resolve_coordinators(Loader *loader)
{
    Snapshot *snapshot = loader->snapshot;
    uint32_t *resolved = malloc((loader->coordinator_key_count + 1) * sizeof *resolved);
    if (!resolved)
        return load_fail(loader, "out of memory");
    for (size_t k = 0; k < loader->coordinator_key_count; k++) {
        const char *id = loader->coordinator_keys[k];
        const Site *coordinator = loader_find_site(loader, id, strlen(id));
        resolved[k] = coordinator ? snapshot_site_index(snapshot, coordinator) : SITE_NONE;
    }
    for (size_t s = 0; s < snapshot->site_count; s++) {
        Site *site = &snapshot->sites[s];
        if (site->coordinator != SITE_NONE)
            site->coordinator = resolved[site->coordinator];
    }
    free(resolved);
    return 0;
}

static int read_sites_from_table(Loader *loader);

int loader_read_sites(Loader *loader)
{
    Snapshot *snapshot = loader->snapshot;
    const char *invalid = NULL; /* why the packed sites were refused (a static text) */
    if (!loader->table_only && loader->options.use_packed) {
        PackedStatus packed = packed_sites_read(loader, &invalid);
        if (packed == PACKED_LOADED)
            return 0;
        if (packed != PACKED_INVALID)
            invalid = NULL;
    }
    if (read_sites_from_table(loader) != 0)
        return -1;
    /* Said once the table served: if it fails too, its error is the one
     * line a refused start prints. */
    if (invalid)
        buffer_warn(loader->options.warnings,
                    "maillage: packed sites in %s are invalid (%s); read the sites table",
                    snapshot->path, invalid);
    return 0;
}

/* The sites from the sites table, sorted, with their coordinators. */
static int read_sites_from_table(Loader *loader)
{
    Snapshot *snapshot = loader->snapshot;
    if (read_all_sites(loader) != 0)
        return -1;
    if (sort_sites(snapshot) != 0)
        return load_fail(loader, "out of memory");
    for (size_t s = 1; s < snapshot->site_count; s++) {
        int order = strcmp(site_id_text(snapshot, &snapshot->sites[s - 1]),
                           site_id_text(snapshot, &snapshot->sites[s]));
        if (order == 0)
            return load_fail(loader, "two sites share one site_id");
        if (order > 0)
            return load_fail(loader, "internal error: sites out of order after sorting");
    }
    if (loader_site_table_ready(loader) != 0)
        return -1;
    return resolve_coordinators(loader);
}
