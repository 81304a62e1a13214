/* snapshot.c — loading the dataset into memory; see snapshot.h.
 *
 * Owns: the one pass that reads a database into a Snapshot, the text pool
 * and site details (layout in snapshot.h), the conditions' string arena,
 * and the derived data computed once at load (covering-site counts, the
 * indexes). Invariants beyond snapshot.h:
 *  - the sites' texts live in the text pool, the conditions' in one arena
 *    of large blocks, so a million sites cost no per-site allocation;
 *    columns that repeat across sites (structure name, filière and every
 *    detail column: FINESS, address, city...) are interned (stored once
 *    per reader thread), those mostly distinct (site_id, centre label) are
 *    copied without the interning cost; identical SiteDetails records are
 *    stored once (across both readers);
 *  - the database is read with a handful of prepared statements, then
 *    closed: nothing reads SQLite after snapshot_load() returns. Large
 *    files use two threads: the sites table is read by two connections at
 *    once (each over half of the rowids), then the indexes are built while
 *    the links, synonyms and communes are read; results do not depend on
 *    the split (tests compare one and two readers);
 *  - files written by `maillage build` carry the sites pre-packed
 *    (packed_sites, see "Packed sites" below): they are read as four blobs
 *    into the snapshot's own arrays and checked, and any part that does not
 *    match or pass the checks gives one warning and the table path; both
 *    paths give identical arrays (tests compare them);
 *  - a site's codes come from the `sites.orpha_codes` column ('|'-joined
 *    decimal ORPHAcodes, an optional "ORPHA:" prefix and blanks allowed),
 *    sorted and deduplicated; codes absent from `conditions` are dropped. */
#include "snapshot.h"

#include "conditions.h"
#include "geodesy.h"
#include "places.h"
#include "spatial_index.h"
#include "store.h"
#include "text.h"
#include "tiles.h"

#include <ctype.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double seconds_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/* --- Names -------------------------------------------------------------- */

static const char *const role_names[ROLE_COUNT] = {
    "crmr_coordonnateur", "crmr_constitutif",     "crmr",          "ccmr",        "cooperation",
    "platform_member",    "platform_coordinator", "medico_social", "association",
};

const char *role_name(Role role)
{
    return (unsigned)role < ROLE_COUNT ? role_names[role] : "unknown";
}

int role_from_name(const char *name)
{
    for (int role = 0; role < ROLE_COUNT; role++)
        if (strcmp(name, role_names[role]) == 0)
            return role;
    return -1;
}

const char *audience_name(Audience audience)
{
    switch (audience) {
    case AUDIENCE_ENFANTS:
        return "enfants";
    case AUDIENCE_ADULTES:
        return "adultes";
    case AUDIENCE_TOUS:
        return "tous";
    default:
        return NULL;
    }
}

static Audience audience_from_name(const char *name)
{
    if (!name)
        return AUDIENCE_UNSTATED;
    if (strcmp(name, "enfants") == 0)
        return AUDIENCE_ENFANTS;
    if (strcmp(name, "adultes") == 0)
        return AUDIENCE_ADULTES;
    if (strcmp(name, "tous") == 0)
        return AUDIENCE_TOUS;
    return AUDIENCE_UNSTATED;
}

/* --- The string arena --------------------------------------------------- */

#define ARENA_BLOCK_SIZE (1u << 20)

typedef struct ArenaBlock {
    struct ArenaBlock *next;
    size_t used, size;
    char data[];
} ArenaBlock;

typedef struct Arena {
    ArenaBlock *head;
} Arena;

static char *arena_copy(Arena *arena, const char *text, size_t length)
{
    ArenaBlock *block = arena->head;
    if (!block || block->size - block->used < length + 1) {
        size_t size = length + 1 > ARENA_BLOCK_SIZE ? length + 1 : ARENA_BLOCK_SIZE;
        block = malloc(sizeof *block + size);
        if (!block)
            return NULL;
        block->next = arena->head;
        block->used = 0;
        block->size = size;
        arena->head = block;
    }
    char *copy = block->data + block->used;
    memcpy(copy, text, length);
    copy[length] = 0;
    block->used += length + 1;
    return copy;
}

static void arena_free(Arena *arena)
{
    if (!arena)
        return;
    ArenaBlock *block = arena->head;
    while (block) {
        ArenaBlock *next = block->next;
        free(block);
        block = next;
    }
    free(arena);
}

/* Open addressing slots shared by the two interners below: a value per
 * slot (never 0: an arena pointer or a pool offset) and its text's hash,
 * kept at most half full; each interner compares texts its own way. */
typedef struct HashSlots {
    uint64_t *values; /* 0 = free */
    uint32_t *hashes; /* meaningful where values[i] != 0 */
    size_t count, capacity;
} HashSlots;

/* Makes room for one more value, doubling from `initial` slots. The new
 * array is zeroed with memset rather than calloc: probed before it is
 * written, a calloc'd table pays a second page fault per page. Returns 0,
 * or -1 when out of memory (the table is then unchanged). */
static int hash_slots_reserve(HashSlots *table, size_t initial)
{
    if ((table->count + 1) * 2 <= table->capacity)
        return 0;
    size_t capacity = table->capacity ? table->capacity * 2 : initial;
    uint64_t *values = malloc(capacity * sizeof *values);
    uint32_t *hashes = malloc(capacity * sizeof *hashes);
    if (!values || !hashes) {
        free(values);
        free(hashes);
        return -1;
    }
    memset(values, 0, capacity * sizeof *values);
    for (size_t i = 0; i < table->capacity; i++) {
        if (!table->values[i])
            continue;
        size_t slot = table->hashes[i] & (capacity - 1);
        while (values[slot])
            slot = (slot + 1) & (capacity - 1);
        values[slot] = table->values[i];
        hashes[slot] = table->hashes[i];
    }
    free(table->values);
    free(table->hashes);
    table->values = values;
    table->hashes = hashes;
    table->capacity = capacity;
    return 0;
}

static void hash_slots_free(HashSlots *table)
{
    free(table->values);
    free(table->hashes);
    memset(table, 0, sizeof *table);
}

/* Stores each distinct string once while loading. */
typedef struct Interner {
    Arena *arena;
    HashSlots table; /* values: the arena copies */
    int failed;
} Interner;

/* The arena copy of `text` (NULL for NULL or empty text); sets `failed`
 * when out of memory. */
static const char *intern(Interner *interner, const char *text, size_t length)
{
    if (!text || length == 0)
        return NULL;
    HashSlots *table = &interner->table;
    if (hash_slots_reserve(table, 4096) != 0) {
        interner->failed = 1;
        return NULL;
    }
    uint32_t hash = (uint32_t)hash_fnv1a(HASH_FNV1A_SEED, text, length);
    size_t mask = table->capacity - 1, slot = hash & mask;
    for (; table->values[slot]; slot = (slot + 1) & mask) {
        const char *stored = (const char *)(uintptr_t)table->values[slot];
        if (table->hashes[slot] == hash && strncmp(stored, text, length) == 0 &&
            stored[length] == 0)
            return stored;
    }
    char *copy = arena_copy(interner->arena, text, length);
    if (!copy) {
        interner->failed = 1;
        return NULL;
    }
    table->values[slot] = (uintptr_t)copy;
    table->hashes[slot] = hash;
    table->count++;
    return copy;
}

static void interner_free(Interner *interner)
{
    hash_slots_free(&interner->table);
}

/* --- The text pool ------------------------------------------------------
 *
 * See snapshot.h for the layout. While loading, each site reader fills its
 * own TextPool; the second reader's pool is appended to the first's at the
 * end (its refs shifted by the first pool's size). */

typedef struct TextPool {
    char *bytes;
    size_t size, capacity;
} TextPool;

typedef enum PoolStatus { POOL_OK, POOL_OUT_OF_MEMORY, POOL_TOO_LARGE } PoolStatus;

static const char *pool_status_message(PoolStatus status)
{
    return status == POOL_TOO_LARGE ? "too much text (the sites' texts pass 4 GB)"
                                    : "out of memory";
}

/* 1 when put_string_or_null()'s rules (api.c, json.h) escape no byte. */
static int text_is_plain(const char *text, size_t length)
{
    int plain = 1;
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)text[i];
        plain &= c >= 0x20 && c != '"' && c != '\\';
    }
    return plain;
}

static PoolStatus pool_reserve(TextPool *pool, size_t extra)
{
    if (extra > UINT32_MAX || pool->size > UINT32_MAX - extra)
        return POOL_TOO_LARGE;
    if (pool->size + extra <= pool->capacity)
        return POOL_OK;
    size_t capacity = pool->capacity ? pool->capacity : 65536;
    while (capacity < pool->size + extra)
        capacity *= 2;
    char *grown = realloc(pool->bytes, capacity);
    if (!grown)
        return POOL_OUT_OF_MEMORY;
    pool->bytes = grown;
    pool->capacity = capacity;
    return POOL_OK;
}

/* Appends `text` (header, bytes, NUL; snapshot.h) and sets *ref; 0 for
 * NULL or empty. */
static PoolStatus pool_add(TextPool *pool, const char *text, size_t length, TextRef *ref)
{
    *ref = 0;
    if (!text || length == 0)
        return POOL_OK;
    if (length > UINT32_MAX >> 1)
        return POOL_TOO_LARGE;
    size_t header_size = length <= TEXT_SHORT_MAX ? 1 : TEXT_LONG_HEADER_SIZE;
    PoolStatus status = pool_reserve(pool, header_size + length + 1);
    if (status != POOL_OK)
        return status;
    uint32_t header = (uint32_t)length << 1 | (uint32_t)text_is_plain(text, length);
    char *at = pool->bytes + pool->size;
    if (header_size == 1) {
        at[0] = (char)header;
    } else {
        at[0] = at[5] = (char)TEXT_LONG_MARK;
        memcpy(at + 1, &header, sizeof header);
    }
    memcpy(at + header_size, text, length);
    at[header_size + length] = 0;
    *ref = (TextRef)(pool->size + header_size);
    pool->size += header_size + length + 1;
    return POOL_OK;
}

static size_t pool_text_length(const TextPool *pool, TextRef ref)
{
    return text_header_at(pool->bytes, ref) >> 1;
}

static int pool_text_equals(const TextPool *pool, TextRef ref, const char *text, size_t length)
{
    return pool_text_length(pool, ref) == length && memcmp(pool->bytes + ref, text, length) == 0;
}

/* Stores each distinct text of a pool once. */
typedef struct PoolInterner {
    TextPool *pool;
    HashSlots table; /* values: the texts' refs */
} PoolInterner;

static PoolStatus pool_intern(PoolInterner *interner, const char *text, size_t length, TextRef *ref)
{
    *ref = 0;
    if (!text || length == 0)
        return POOL_OK;
    HashSlots *table = &interner->table;
    if (hash_slots_reserve(table, 1024) != 0)
        return POOL_OUT_OF_MEMORY;
    uint32_t hash = (uint32_t)hash_fnv1a(HASH_FNV1A_SEED, text, length);
    size_t mask = table->capacity - 1, slot = hash & mask;
    for (; table->values[slot]; slot = (slot + 1) & mask) {
        if (table->hashes[slot] == hash &&
            pool_text_equals(interner->pool, (TextRef)table->values[slot], text, length)) {
            *ref = (TextRef)table->values[slot];
            return POOL_OK;
        }
    }
    PoolStatus status = pool_add(interner->pool, text, length, ref);
    if (status != POOL_OK)
        return status;
    table->values[slot] = *ref;
    table->hashes[slot] = hash;
    table->count++;
    return POOL_OK;
}

static void pool_interner_free(PoolInterner *interner)
{
    hash_slots_free(&interner->table);
}

int snapshot_text_add(Snapshot *snapshot, const char *text, size_t length, TextRef *ref)
{
    TextPool pool = {snapshot->text_pool, snapshot->text_pool_size, snapshot->text_pool_capacity};
    PoolStatus status = pool_add(&pool, text, length, ref);
    snapshot->text_pool = pool.bytes;
    snapshot->text_pool_size = pool.size;
    snapshot->text_pool_capacity = pool.capacity;
    return status == POOL_OK ? 0 : -1;
}

/* --- Site details -------------------------------------------------------
 *
 * Each distinct SiteDetails record once. A reader's table compares records
 * by their refs (its detail texts are interned, so equal texts have equal
 * refs); merging two readers compares them by the texts themselves. */

#define DETAIL_FIELD_COUNT (sizeof(SiteDetails) / sizeof(TextRef))

typedef struct DetailsTable {
    SiteDetails *items;
    size_t count, capacity;
    uint32_t *slots; /* item index + 1; 0 = free */
    size_t slot_capacity;
    const TextPool *by_content; /* compare texts in this pool; NULL: compare refs */
} DetailsTable;

static const TextRef *detail_fields(const SiteDetails *details)
{
    return (const TextRef *)details;
}

static uint32_t details_hash(const DetailsTable *table, const SiteDetails *details)
{
    if (!table->by_content)
        return (uint32_t)hash_fnv1a(HASH_FNV1A_SEED, details, sizeof *details);
    uint64_t hash = HASH_FNV1A_SEED;
    for (size_t f = 0; f < DETAIL_FIELD_COUNT; f++) {
        TextRef ref = detail_fields(details)[f];
        const char *text = ref ? table->by_content->bytes + ref : "";
        /* The NUL separates the fields. */
        hash = hash_fnv1a(hash, text, (ref ? pool_text_length(table->by_content, ref) : 0) + 1);
    }
    return (uint32_t)hash;
}

static int details_equal(const DetailsTable *table, const SiteDetails *a, const SiteDetails *b)
{
    if (!table->by_content)
        return memcmp(a, b, sizeof *a) == 0;
    for (size_t f = 0; f < DETAIL_FIELD_COUNT; f++) {
        TextRef x = detail_fields(a)[f], y = detail_fields(b)[f];
        if ((x == 0) != (y == 0))
            return 0;
        if (x && x != y &&
            !pool_text_equals(table->by_content, x, table->by_content->bytes + y,
                              pool_text_length(table->by_content, y)))
            return 0;
    }
    return 1;
}

/* Rebuilds the slots, hashed for the table's current comparison mode, with
 * room for twice the records (at least 256). */
static int details_table_rehash(DetailsTable *table)
{
    size_t capacity = 256;
    while (capacity < (table->count + 1) * 4)
        capacity *= 2;
    uint32_t *slots = calloc(capacity, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < table->count; i++) {
        size_t slot = details_hash(table, &table->items[i]) & (capacity - 1);
        while (slots[slot])
            slot = (slot + 1) & (capacity - 1);
        slots[slot] = (uint32_t)i + 1;
    }
    free(table->slots);
    table->slots = slots;
    table->slot_capacity = capacity;
    return 0;
}

/* Sets *index to the stored copy of `details`, adding it when new. */
static int details_store(DetailsTable *table, const SiteDetails *details, uint32_t *index)
{
    if ((table->count + 1) * 2 > table->slot_capacity && details_table_rehash(table) != 0)
        return -1;
    size_t mask = table->slot_capacity - 1;
    size_t slot = details_hash(table, details) & mask;
    for (; table->slots[slot]; slot = (slot + 1) & mask) {
        if (details_equal(table, &table->items[table->slots[slot] - 1], details)) {
            *index = table->slots[slot] - 1;
            return 0;
        }
    }
    if (table->count == table->capacity) {
        size_t capacity = table->capacity ? table->capacity * 2 : 64;
        SiteDetails *grown = realloc(table->items, capacity * sizeof *grown);
        if (!grown)
            return -1;
        table->items = grown;
        table->capacity = capacity;
    }
    table->items[table->count] = *details;
    table->slots[slot] = (uint32_t)table->count + 1;
    *index = (uint32_t)table->count++;
    return 0;
}

static void details_table_free(DetailsTable *table)
{
    free(table->items);
    free(table->slots);
    memset(table, 0, sizeof *table);
}

int snapshot_details_add(Snapshot *snapshot, const SiteDetails *details, uint32_t *index)
{
    for (size_t i = 0; i < snapshot->details_count; i++) {
        if (memcmp(&snapshot->details[i], details, sizeof *details) == 0) {
            *index = (uint32_t)i;
            return 0;
        }
    }
    if (snapshot->details_count == snapshot->details_capacity) {
        size_t capacity = snapshot->details_capacity ? snapshot->details_capacity * 2 : 16;
        SiteDetails *grown = realloc(snapshot->details, capacity * sizeof *grown);
        if (!grown)
            return -1;
        snapshot->details = grown;
        snapshot->details_capacity = capacity;
    }
    snapshot->details[snapshot->details_count] = *details;
    *index = (uint32_t)snapshot->details_count++;
    return 0;
}

/* --- Lookups ------------------------------------------------------------ */

const Condition *snapshot_condition(const Snapshot *snapshot, int32_t orpha)
{
    if (snapshot->condition_by_code) {
        if (orpha < 0 || (size_t)orpha >= snapshot->condition_by_code_size)
            return NULL;
        uint32_t index = snapshot->condition_by_code[orpha];
        return index == UINT32_MAX ? NULL : &snapshot->conditions[index];
    }
    size_t low = 0, high = snapshot->condition_count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        int32_t code = snapshot->conditions[middle].orpha;
        if (code == orpha)
            return &snapshot->conditions[middle];
        if (code < orpha)
            low = middle + 1;
        else
            high = middle;
    }
    return NULL;
}

const Site *snapshot_site(const Snapshot *snapshot, const char *site_id)
{
    size_t low = 0, high = snapshot->site_count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        int order = strcmp(site_id_text(snapshot, &snapshot->sites[middle]), site_id);
        if (order == 0)
            return &snapshot->sites[middle];
        if (order < 0)
            low = middle + 1;
        else
            high = middle;
    }
    return NULL;
}

int snapshot_site_covers(const Snapshot *snapshot, const Site *site, const Condition *condition,
                         const Condition **matched)
{
    /* Ancestors are sorted by (depth, orpha): the first listed one is the
     * nearest, ties going to the smaller code. */
    const AncestorEntry *ancestors = snapshot->ancestors + condition->ancestors_start;
    for (uint32_t a = 0; a < condition->ancestor_count; a++) {
        const Condition *ancestor = &snapshot->conditions[ancestors[a].condition];
        if (site_lists_code(snapshot, site, ancestor->orpha)) {
            if (matched)
                *matched = ancestor;
            return (int)ancestors[a].depth;
        }
    }
    if (matched)
        *matched = NULL;
    return -1;
}

/* --- Derived data ------------------------------------------------------- */

/* covering_sites: for each site, every condition under one of its codes
 * (the inverted ancestors table) is counted once. */
static int count_covering_sites(Snapshot *snapshot)
{
    size_t condition_count = snapshot->condition_count;
    size_t total = condition_count ? snapshot->conditions[condition_count - 1].ancestors_start +
                                         snapshot->conditions[condition_count - 1].ancestor_count
                                   : 0;
    uint32_t *offsets = calloc(condition_count + 1, sizeof *offsets);
    uint32_t *descendants = malloc((total + 1) * sizeof *descendants);
    uint32_t *fill = calloc(condition_count + 1, sizeof *fill);
    uint32_t *stamp = calloc(condition_count + 1, sizeof *stamp);
    if (!offsets || !descendants || !fill || !stamp) {
        free(offsets);
        free(descendants);
        free(fill);
        free(stamp);
        return -1;
    }
    for (size_t c = 0; c < condition_count; c++) {
        const Condition *condition = &snapshot->conditions[c];
        for (uint32_t a = 0; a < condition->ancestor_count; a++)
            offsets[snapshot->ancestors[condition->ancestors_start + a].condition + 1]++;
    }
    for (size_t c = 0; c < condition_count; c++)
        offsets[c + 1] += offsets[c];
    for (size_t c = 0; c < condition_count; c++) {
        const Condition *condition = &snapshot->conditions[c];
        for (uint32_t a = 0; a < condition->ancestor_count; a++) {
            uint32_t ancestor = snapshot->ancestors[condition->ancestors_start + a].condition;
            descendants[offsets[ancestor] + fill[ancestor]++] = (uint32_t)c;
        }
    }
    for (size_t c = 0; c < condition_count; c++)
        snapshot->conditions[c].covering_sites = 0;
    for (size_t s = 0; s < snapshot->site_count; s++) {
        const Site *site = &snapshot->sites[s];
        for (uint32_t i = 0; i < site->code_count; i++) {
            const Condition *code = snapshot_condition(snapshot, site_codes(snapshot, site)[i]);
            if (!code)
                continue;
            uint32_t c = snapshot_condition_index(snapshot, code);
            for (uint32_t d = offsets[c]; d < offsets[c + 1]; d++) {
                uint32_t descendant = descendants[d];
                if (stamp[descendant] != s + 1) {
                    stamp[descendant] = (uint32_t)s + 1;
                    snapshot->conditions[descendant].covering_sites++;
                }
            }
        }
    }
    free(offsets);
    free(descendants);
    free(fill);
    free(stamp);
    return 0;
}

int snapshot_finish(Snapshot *snapshot, char *error, size_t error_size)
{
    if (count_covering_sites(snapshot) != 0) {
        snprintf(error, error_size, "%.400s: out of memory", snapshot->path);
        return -1;
    }
    snapshot->index = spatial_index_build(snapshot, error, error_size);
    return snapshot->index ? 0 : -1;
}

/* --- Loading ------------------------------------------------------------ */

typedef struct Loader Loader;

typedef struct SiteReader {
    Loader *loader;
    sqlite3 *db;
    sqlite3_int64 first_rowid, last_rowid;
    int from_back; /* fill slots downwards from the end */
    size_t count;  /* rows read */
    TextPool pool;
    PoolInterner interner;
    DetailsTable details;
    PoolStatus pool_status;
    /* Distinct coordinator_site_ids: key -> id (in `key_arena`). */
    Arena key_arena;
    const char **keys;
    size_t key_count, key_capacity;
    HashSlots key_table; /* values: key + 1, by the id's text */
    int32_t *codes;
    size_t codes_length, codes_capacity;
    int status;
    char error[4096 + 512]; /* the path, then the reason */
} SiteReader;

struct Loader {
    Snapshot *snapshot;
    Store store;
    Interner interner; /* conditions' strings */
    char *error;
    size_t error_size;
    size_t claimed_slots; /* rows claimed by the site readers (atomic) */
    SiteReader readers[2];
    /* Coordinator key -> coordinator_site_id (in the readers' key arenas). */
    const char **coordinator_keys;
    size_t coordinator_key_count;
    /* site_id -> site index + 1 (open addressing), once sites are sorted. */
    uint32_t *site_table;
    size_t site_table_capacity;
    size_t site_code_count; /* length of snapshot->site_codes (table path) */
    int table_only;         /* never read the packed sites (snapshot_pack) */
    char packed_reason[160];
};

static int load_fail(Loader *loader, const char *what)
{
    snprintf(loader->error, loader->error_size, "%s: %s", loader->snapshot->path, what);
    return -1;
}

static int prepare(Loader *loader, const char *sql, sqlite3_stmt **statement)
{
    if (sqlite3_prepare_v2(loader->store.db, sql, -1, statement, NULL) == SQLITE_OK)
        return 0;
    snprintf(loader->error, loader->error_size, "%s: %s", loader->snapshot->path,
             sqlite3_errmsg(loader->store.db));
    return -1;
}

static int step_error(Loader *loader, sqlite3_stmt *statement, int status)
{
    if (status == SQLITE_DONE)
        return 0;
    snprintf(loader->error, loader->error_size, "%s: %s", loader->snapshot->path,
             sqlite3_errmsg(loader->store.db));
    sqlite3_finalize(statement);
    return -1;
}

static size_t count_rows(Loader *loader, const char *table)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    sqlite3_stmt *statement;
    size_t count = 0;
    if (prepare(loader, sql, &statement) != 0)
        return 0;
    if (sqlite3_step(statement) == SQLITE_ROW)
        count = (size_t)sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
    return count;
}

static const char *column_interned(Interner *interner, sqlite3_stmt *statement, int column)
{
    const char *text = (const char *)sqlite3_column_text(statement, column);
    return intern(interner, text, (size_t)sqlite3_column_bytes(statement, column));
}

static const char *column_copied(Interner *interner, sqlite3_stmt *statement, int column)
{
    const char *text = (const char *)sqlite3_column_text(statement, column);
    size_t length = (size_t)sqlite3_column_bytes(statement, column);
    if (!text)
        text = "";
    const char *copy = arena_copy(interner->arena, text, length);
    if (!copy)
        interner->failed = 1;
    return copy;
}

/* ORPHAcodes are below a few million: a direct table makes the millions of
 * code lookups of a large load O(1). Codes beyond the table's bound (or
 * negative) are simply absent from it, so the table stays bounded. */
#define CONDITION_TABLE_MAX_CODE 16000000

static int index_conditions_by_code(Loader *loader)
{
    Snapshot *snapshot = loader->snapshot;
    int32_t largest = -1;
    for (size_t c = 0; c < snapshot->condition_count; c++) {
        int32_t code = snapshot->conditions[c].orpha;
        if (code < 0 || code >= CONDITION_TABLE_MAX_CODE ||
            (c > 0 && code <= snapshot->conditions[c - 1].orpha))
            return 0; /* unusual codes: keep the bisection */
        largest = code;
    }
    size_t size = (size_t)largest + 1;
    uint32_t *table = malloc((size + 1) * sizeof *table);
    if (!table)
        return load_fail(loader, "out of memory");
    memset(table, 0xFF, (size + 1) * sizeof *table);
    for (size_t c = 0; c < snapshot->condition_count; c++)
        table[snapshot->conditions[c].orpha] = (uint32_t)c;
    snapshot->condition_by_code = table;
    snapshot->condition_by_code_size = size;
    return 0;
}

static int load_conditions(Loader *loader)
{
    Snapshot *snapshot = loader->snapshot;
    size_t capacity = count_rows(loader, "conditions");
    snapshot->conditions = calloc(capacity + 1, sizeof *snapshot->conditions);
    if (!snapshot->conditions)
        return load_fail(loader, "out of memory");
    sqlite3_stmt *statement;
    if (prepare(loader,
                "SELECT orpha_code, label_fr, label_en, level, status FROM conditions "
                "ORDER BY orpha_code",
                &statement) != 0)
        return -1;
    int status;
    while ((status = sqlite3_step(statement)) == SQLITE_ROW &&
           snapshot->condition_count < capacity) {
        Condition *condition = &snapshot->conditions[snapshot->condition_count++];
        condition->orpha = (int32_t)sqlite3_column_int64(statement, 0);
        condition->label_fr = column_copied(&loader->interner, statement, 1);
        condition->label_en = column_copied(&loader->interner, statement, 2);
        condition->level = column_interned(&loader->interner, statement, 3);
        condition->status = column_interned(&loader->interner, statement, 4);
    }
    if (status == SQLITE_ROW)
        status = SQLITE_DONE; /* rows added while reading: a read-only file cannot */
    if (step_error(loader, statement, status) != 0)
        return -1;
    sqlite3_finalize(statement);
    if (loader->interner.failed)
        return load_fail(loader, "out of memory");
    return index_conditions_by_code(loader);
}

static int compare_ancestors(const void *a, const void *b, const Snapshot *snapshot)
{
    const AncestorEntry *x = a, *y = b;
    if (x->depth != y->depth)
        return x->depth < y->depth ? -1 : 1;
    int32_t ox = snapshot->conditions[x->condition].orpha;
    int32_t oy = snapshot->conditions[y->condition].orpha;
    return ox < oy ? -1 : ox > oy;
}

/* Sorts one condition's ancestor list by (depth, orpha): insertion sort,
 * lists are short. */
static void sort_ancestor_list(const Snapshot *snapshot, AncestorEntry *entries, size_t count)
{
    for (size_t i = 1; i < count; i++) {
        AncestorEntry entry = entries[i];
        size_t j = i;
        while (j > 0 && compare_ancestors(&entries[j - 1], &entry, snapshot) > 0) {
            entries[j] = entries[j - 1];
            j--;
        }
        entries[j] = entry;
    }
}

typedef struct AncestorRow {
    uint32_t condition, ancestor, depth;
} AncestorRow;

static int read_ancestor_rows(Loader *loader, AncestorRow **rows_out, size_t *count_out)
{
    Snapshot *snapshot = loader->snapshot;
    size_t capacity = count_rows(loader, "ancestors") + 1, count = 0;
    AncestorRow *rows = malloc(capacity * sizeof *rows);
    if (!rows)
        return load_fail(loader, "out of memory");
    sqlite3_stmt *statement;
    if (prepare(loader, "SELECT orpha_code, ancestor, depth FROM ancestors", &statement) != 0) {
        free(rows);
        return -1;
    }
    int status;
    while ((status = sqlite3_step(statement)) == SQLITE_ROW && count < capacity) {
        const Condition *condition =
            snapshot_condition(snapshot, (int32_t)sqlite3_column_int64(statement, 0));
        const Condition *ancestor =
            snapshot_condition(snapshot, (int32_t)sqlite3_column_int64(statement, 1));
        sqlite3_int64 depth = sqlite3_column_int64(statement, 2);
        if (!condition || !ancestor || depth < 0 || condition == ancestor)
            continue; /* the depth-0 entry is added for every condition */
        rows[count++] =
            (AncestorRow){snapshot_condition_index(snapshot, condition),
                          snapshot_condition_index(snapshot, ancestor), (uint32_t)depth};
    }
    if (status == SQLITE_ROW)
        status = SQLITE_DONE;
    if (step_error(loader, statement, status) != 0) {
        free(rows);
        return -1;
    }
    sqlite3_finalize(statement);
    *rows_out = rows;
    *count_out = count;
    return 0;
}

static int load_ancestors(Loader *loader)
{
    Snapshot *snapshot = loader->snapshot;
    AncestorRow *rows = NULL;
    size_t row_count = 0;
    if (read_ancestor_rows(loader, &rows, &row_count) != 0)
        return -1;
    size_t condition_count = snapshot->condition_count;
    snapshot->ancestors = malloc((row_count + condition_count + 1) * sizeof *snapshot->ancestors);
    if (!snapshot->ancestors) {
        free(rows);
        return load_fail(loader, "out of memory");
    }
    for (size_t c = 0; c < condition_count; c++)
        snapshot->conditions[c].ancestor_count = 1; /* itself */
    for (size_t r = 0; r < row_count; r++)
        snapshot->conditions[rows[r].condition].ancestor_count++;
    uint32_t start = 0;
    for (size_t c = 0; c < condition_count; c++) {
        Condition *condition = &snapshot->conditions[c];
        condition->ancestors_start = start;
        start += condition->ancestor_count;
        snapshot->ancestors[condition->ancestors_start] = (AncestorEntry){(uint32_t)c, 0};
        condition->ancestor_count = 1;
    }
    for (size_t r = 0; r < row_count; r++) {
        Condition *condition = &snapshot->conditions[rows[r].condition];
        snapshot->ancestors[condition->ancestors_start + condition->ancestor_count++] =
            (AncestorEntry){rows[r].ancestor, rows[r].depth};
    }
    free(rows);
    for (size_t c = 0; c < condition_count; c++) {
        Condition *condition = &snapshot->conditions[c];
        sort_ancestor_list(snapshot, snapshot->ancestors + condition->ancestors_start,
                           condition->ancestor_count);
    }
    return 0;
}

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

static void reader_free(SiteReader *reader)
{
    free(reader->pool.bytes);
    pool_interner_free(&reader->interner);
    details_table_free(&reader->details);
    ArenaBlock *block = reader->key_arena.head;
    while (block) {
        ArenaBlock *next = block->next;
        free(block);
        block = next;
    }
    reader->key_arena.head = NULL;
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
    size_t mask = table->capacity - 1, slot = hash & mask;
    for (; table->values[slot]; slot = (slot + 1) & mask) {
        const char *key = reader->keys[table->values[slot] - 1];
        if (table->hashes[slot] == hash && strncmp(key, id, length) == 0 && key[length] == 0)
            return (uint32_t)table->values[slot] - 1;
    }
    if (reader->key_count == reader->key_capacity) {
        size_t capacity = reader->key_capacity ? reader->key_capacity * 2 : 1024;
        const char **keys = realloc(reader->keys, capacity * sizeof *keys);
        if (!keys)
            return KEY_FAILED;
        reader->keys = keys;
        reader->key_capacity = capacity;
    }
    const char *copy = arena_copy(&reader->key_arena, id, length);
    if (!copy)
        return KEY_FAILED;
    reader->keys[reader->key_count] = copy;
    table->values[slot] = reader->key_count + 1;
    table->hashes[slot] = hash;
    table->count++;
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
        if (reader->codes_length == reader->codes_capacity) {
            size_t capacity = reader->codes_capacity ? reader->codes_capacity * 2 : 4096;
            int32_t *grown = realloc(reader->codes, capacity * sizeof *grown);
            if (!grown)
                return reader_fail(reader, "out of memory");
            reader->codes = grown;
            reader->codes_capacity = capacity;
        }
        reader->codes[reader->codes_length++] = (int32_t)code;
        count++;
    }
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
    if (prepare(loader, "SELECT count(*), min(rowid), max(rowid) FROM sites", &statement) != 0)
        return -1;
    int status = sqlite3_step(statement);
    if (status == SQLITE_ROW) {
        *count = (size_t)sqlite3_column_int64(statement, 0);
        *first = sqlite3_column_int64(statement, 1);
        *last = sqlite3_column_int64(statement, 2);
        status = SQLITE_DONE;
    }
    if (step_error(loader, statement, status) != 0)
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

size_t snapshot_parallel_minimum_sites = 20000;

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
    int parallel = count >= snapshot_parallel_minimum_sites && count >= 2;
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
static int build_site_table(Loader *loader)
{
    const Snapshot *snapshot = loader->snapshot;
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

static const Site *find_site(const Loader *loader, const char *site_id, size_t length)
{
    const Snapshot *snapshot = loader->snapshot;
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
static const Site *find_site_after(const Loader *loader, const Site *previous, const char *site_id,
                                   size_t length)
{
    const Snapshot *snapshot = loader->snapshot;
    for (int step = 0; previous && step < 2; step++, previous++) {
        if (previous == snapshot->sites + snapshot->site_count)
            break;
        if (site_has_id(snapshot, previous, site_id, length))
            return previous;
    }
    return find_site(loader, site_id, length);
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
        const Site *coordinator = find_site(loader, id, strlen(id));
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

/* --- Packed sites -------------------------------------------------------
 *
 * `maillage build` stores what the sites steps above produce (the Site
 * array sorted with coordinators resolved, site_codes, the text pool and
 * the details) as four blobs of packed_sites, in this process's memory
 * layout, with metadata rows naming that layout. load_sites() reads them
 * straight into the snapshot's arrays when the metadata matches the file
 * and build, then checks every reference before anything uses it: the
 * file is input, so a bad blob gives a warning and the table path, never
 * a crash nor an answer the table would not give. */

int snapshot_use_packed = 1;

enum { PART_SITES, PART_SITE_CODES, PART_TEXT_POOL, PART_DETAILS, PART_COUNT };

static const char *const packed_part_names[PART_COUNT] = {"sites", "site_codes", "text_pool",
                                                          "details"};

typedef enum PackedStatus { PACKED_ABSENT, PACKED_LOADED, PACKED_INVALID } PackedStatus;

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

/* Reads one part into a new malloc'd array of its size (+ `spare` bytes,
 * so that an empty part is still an allocation). Returns NULL with
 * `reason` set when the part is missing, not a blob, or unreadable. */
static void *read_packed_part(Loader *loader, const char *part, size_t spare, size_t *size,
                              const char **reason)
{
    sqlite3 *db = loader->store.db;
    sqlite3_stmt *statement = NULL;
    void *bytes = NULL;
    *reason = "a part cannot be read";
    if (sqlite3_prepare_v2(db,
                           "SELECT rowid, length(bytes) FROM packed_sites"
                           " WHERE part = ? AND typeof(bytes) = 'blob'",
                           -1, &statement, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_text(statement, 1, part, -1, SQLITE_STATIC);
    if (sqlite3_step(statement) != SQLITE_ROW) {
        *reason = "a part is missing or not a blob";
        sqlite3_finalize(statement);
        return NULL;
    }
    sqlite3_int64 rowid = sqlite3_column_int64(statement, 0);
    sqlite3_int64 length = sqlite3_column_int64(statement, 1);
    sqlite3_finalize(statement);
    sqlite3_blob *blob = NULL;
    if (length < 0 || length > INT32_MAX ||
        sqlite3_blob_open(db, "main", "packed_sites", "bytes", rowid, 0, &blob) != SQLITE_OK) {
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
        parts[p] = read_packed_part(loader, packed_part_names[p], spare + 1, &sizes[p], &reason);
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
static PackedStatus read_packed_sites(Loader *loader, const char **reason)
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
    return PACKED_LOADED;
}

/* 1 when every part fits in one blob (SQLite's length limit, 1e9 bytes by
 * default: about 20 million sites); larger datasets are not packed and
 * load from the table. */
static int packed_parts_fit(sqlite3 *db, const size_t sizes[PART_COUNT])
{
    size_t limit = (size_t)sqlite3_limit(db, SQLITE_LIMIT_LENGTH, -1);
    for (int p = 0; p < PART_COUNT; p++)
        if (sizes[p] > limit || sizes[p] > INT32_MAX)
            return 0;
    return 1;
}

/* Writes the packed parts of `snapshot` (loaded through the table path)
 * and their metadata rows into `path`, replacing any older ones, in one
 * transaction (only removing them when the parts would not fit). */
static int write_packed(const Snapshot *snapshot, size_t code_total, const char *path, char *error,
                        size_t error_size)
{
    const void *parts[PART_COUNT] = {snapshot->sites, snapshot->site_codes, snapshot->text_pool,
                                     snapshot->details};
    size_t sizes[PART_COUNT] = {snapshot->site_count * sizeof(Site), code_total * sizeof(int32_t),
                                snapshot->text_pool_size,
                                snapshot->details_count * sizeof(SiteDetails)};
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
    for (int p = 0; ok && fits && p < PART_COUNT; p++) {
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
    return ok ? 0 : -1;
}

static int load_sites(Loader *loader)
{
    Snapshot *snapshot = loader->snapshot;
    if (!loader->table_only && snapshot_use_packed) {
        const char *reason = NULL;
        PackedStatus packed = read_packed_sites(loader, &reason);
        if (packed == PACKED_LOADED)
            return build_site_table(loader);
        if (packed == PACKED_INVALID)
            fprintf(stderr,
                    "maillage: packed sites in %s are invalid (%s); reading the sites table\n",
                    snapshot->path, reason);
    }
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
    if (build_site_table(loader) != 0)
        return -1;
    return resolve_coordinators(loader);
}

static int load_links(Loader *loader)
{
    Snapshot *snapshot = loader->snapshot;
    size_t capacity = count_rows(loader, "links");
    snapshot->links = malloc((capacity + 1) * sizeof *snapshot->links);
    if (!snapshot->links)
        return load_fail(loader, "out of memory");
    sqlite3_stmt *statement;
    if (prepare(loader, "SELECT from_site_id, to_site_id, kind FROM links", &statement) != 0)
        return -1;
    const Site *previous_from = NULL;
    int status;
    while ((status = sqlite3_step(statement)) == SQLITE_ROW && snapshot->link_count < capacity) {
        const char *from_id = (const char *)sqlite3_column_text(statement, 0);
        const char *to_id = (const char *)sqlite3_column_text(statement, 1);
        const char *kind = (const char *)sqlite3_column_text(statement, 2);
        const Site *from = from_id ? find_site_after(loader, previous_from, from_id,
                                                     (size_t)sqlite3_column_bytes(statement, 0))
                                   : NULL;
        previous_from = from;
        const Site *to =
            to_id ? find_site(loader, to_id, (size_t)sqlite3_column_bytes(statement, 1)) : NULL;
        if (!from || !to || !kind)
            continue;
        snapshot->links[snapshot->link_count++] = (Link){
            snapshot_site_index(snapshot, from), snapshot_site_index(snapshot, to),
            (uint8_t)(strcmp(kind, "coordinator") == 0 ? LINK_COORDINATOR : LINK_COOPERATION)};
    }
    if (status == SQLITE_ROW)
        status = SQLITE_DONE;
    if (step_error(loader, statement, status) != 0)
        return -1;
    sqlite3_finalize(statement);
    return 0;
}

typedef struct FinishJob {
    Snapshot *snapshot;
    int status;
    char error[512];
} FinishJob;

static void *finish_in_thread(void *argument)
{
    FinishJob *job = argument;
    job->status = snapshot_finish(job->snapshot, job->error, sizeof job->error);
    return NULL;
}

/* What only needs the database: links, condition search, places. */
static int load_the_rest(Loader *loader)
{
    Snapshot *snapshot = loader->snapshot;
    if (load_links(loader) != 0)
        return -1;
    snapshot->condition_search =
        condition_search_load(snapshot, &loader->store, loader->error, loader->error_size);
    if (!snapshot->condition_search)
        return -1;
    snapshot->places = places_load(&loader->store, loader->error, loader->error_size);
    return snapshot->places ? 0 : -1;
}

/* The dataset version, the conditions and the sites: all snapshot_pack()
 * needs. */
static int load_site_steps(Loader *loader)
{
    Snapshot *snapshot = loader->snapshot;
    if (store_metadata(&loader->store, "version", snapshot->version, sizeof snapshot->version) != 0)
        return load_fail(loader, "no dataset version in metadata");
    if (load_conditions(loader) != 0 || load_ancestors(loader) != 0 || load_sites(loader) != 0)
        return -1;
    return 0;
}

static int load_all(Loader *loader)
{
    Snapshot *snapshot = loader->snapshot;
    if (load_site_steps(loader) != 0)
        return -1;
    /* The indexes need only the sites and conditions: build them in a
     * second thread while this one reads the rest of the database and
     * loads the tiles (which need the sites, the links and the database,
     * not the indexes nor the conditions' coverage counts). */
    FinishJob job = {snapshot, 0, ""};
    pthread_t thread;
    int threaded = pthread_create(&thread, NULL, finish_in_thread, &job) == 0;
    if (!threaded)
        finish_in_thread(&job);
    int status = load_the_rest(loader);
    if (status == 0) {
        snapshot->tiles = tiles_load(snapshot, &loader->store, loader->error, loader->error_size);
        status = snapshot->tiles ? 0 : -1;
    }
    if (threaded)
        pthread_join(thread, NULL);
    if (status != 0)
        return -1;
    if (job.status != 0) {
        snprintf(loader->error, loader->error_size, "%s", job.error);
        return -1;
    }
    return 0;
}

/* A new empty snapshot of `path` and its loader; NULL when out of memory. */
static Snapshot *loader_start(Loader *loader, const char *path, char *error, size_t error_size)
{
    memset(loader, 0, sizeof *loader);
    Snapshot *snapshot = calloc(1, sizeof *snapshot);
    Arena *arena = calloc(1, sizeof *arena);
    if (!snapshot || !arena) {
        free(snapshot);
        free(arena);
        snprintf(error, error_size, "%s: out of memory", path);
        return NULL;
    }
    snapshot->arena = arena;
    snprintf(snapshot->path, sizeof snapshot->path, "%s", path);
    loader->snapshot = snapshot;
    loader->interner.arena = arena;
    loader->error = error;
    loader->error_size = error_size;
    return snapshot;
}

/* Closes the database and frees the loader's temporaries. */
static void loader_end(Loader *loader)
{
    store_close(&loader->store);
    interner_free(&loader->interner);
    for (int r = 0; r < 2; r++)
        reader_free(&loader->readers[r]);
    free(loader->coordinator_keys);
    free(loader->site_table);
    loader->coordinator_keys = NULL;
    loader->site_table = NULL;
}

int snapshot_pack(const char *path, char *error, size_t error_size)
{
    Loader loader;
    Snapshot *snapshot = loader_start(&loader, path, error, error_size);
    if (!snapshot)
        return -1;
    loader.table_only = 1;
    int status = store_open_read_only(&loader.store, path, error, error_size);
    if (status == 0)
        status = load_site_steps(&loader);
    size_t code_total = loader.site_code_count;
    loader_end(&loader);
    if (status == 0)
        status = write_packed(snapshot, code_total, path, error, error_size);
    snapshot_free(snapshot);
    return status;
}

Snapshot *snapshot_load(const char *path, char *error, size_t error_size)
{
    double started = seconds_now();
    Loader loader;
    Snapshot *snapshot = loader_start(&loader, path, error, error_size);
    if (!snapshot)
        return NULL;
    if (store_open_read_only(&loader.store, path, error, error_size) != 0) {
        snapshot_free(snapshot);
        return NULL;
    }
    int status = load_all(&loader);
    loader_end(&loader);
    if (status != 0) {
        snapshot_free(snapshot);
        return NULL;
    }
    /* Loading freed large temporaries (trees' scratch, interners) in the
     * loader threads' malloc arenas: hand those pages back (glibc). */
    malloc_trim(0);
    snapshot->load_seconds = seconds_now() - started;
    return snapshot;
}

void snapshot_free(Snapshot *snapshot)
{
    if (!snapshot)
        return;
    if (snapshot->tiles)
        tiles_free(snapshot->tiles);
    places_free(snapshot->places);
    condition_search_free(snapshot->condition_search);
    spatial_index_free(snapshot->index);
    free(snapshot->sites);
    free(snapshot->site_codes);
    free(snapshot->conditions);
    free(snapshot->ancestors);
    free(snapshot->links);
    free(snapshot->condition_by_code);
    arena_free(snapshot->arena);
    free(snapshot->text_pool);
    free(snapshot->details);
    free(snapshot);
}
