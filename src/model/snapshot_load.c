/* snapshot_load.c — the steps of reading a database into a Snapshot; see
 * snapshot_load.h. Owns the loader itself, the conditions, their ancestors
 * and the links; the sites are read by site_reader.c (table) or
 * packed_sites.c (packed parts). The database is read with a handful of
 * prepared statements, then closed: nothing reads SQLite once the loader
 * is finished. */
#include "model/snapshot_load.h"

#include "model/loader.h"

#include "base/huge_pages.h"
#include "base/text.h"

#include <assert.h>
#include <malloc.h>
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

int load_fail(Loader *loader, const char *what)
{
    snprintf(loader->error, loader->error_size, "%s: %s", loader->snapshot->path, what);
    return -1;
}

int load_prepare(Loader *loader, const char *sql, sqlite3_stmt **statement)
{
    if (sqlite3_prepare_v2(loader->store.db, sql, -1, statement, NULL) == SQLITE_OK)
        return 0;
    snprintf(loader->error, loader->error_size, "%s: %s", loader->snapshot->path,
             sqlite3_errmsg(loader->store.db));
    return -1;
}

int load_step_error(Loader *loader, sqlite3_stmt *statement, int status)
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
    if (load_prepare(loader, sql, &statement) != 0)
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
    if (load_prepare(loader,
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
    if (load_step_error(loader, statement, status) != 0)
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
    if (load_prepare(loader, "SELECT orpha_code, ancestor, depth FROM ancestors", &statement) !=
        0) {
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
    if (load_step_error(loader, statement, status) != 0) {
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

/* The links from the packed part when the sites are packed and it passes
 * its checks (1), else 0 (the table then; said on stderr when the part is
 * there but invalid). */
static int read_packed_links(Loader *loader)
{
    if (!loader->snapshot->sites_packed)
        return 0;
    const char *invalid = NULL;
    PackedStatus packed = packed_links_read(loader, &invalid);
    if (packed == PACKED_INVALID)
        buffer_warn(loader->options.warnings,
                    "maillage: packed links in %s are invalid (%s); read the links table",
                    loader->snapshot->path, invalid);
    return packed == PACKED_LOADED;
}

int snapshot_loader_read_links(Loader *loader)
{
    Snapshot *snapshot = loader->snapshot;
    if (read_packed_links(loader))
        return 0;
    if (loader_site_table_ready(loader) != 0)
        return -1;
    size_t capacity = count_rows(loader, "links");
    snapshot->links = malloc((capacity + 1) * sizeof *snapshot->links);
    if (!snapshot->links)
        return load_fail(loader, "out of memory");
    sqlite3_stmt *statement;
    if (load_prepare(loader, "SELECT from_site_id, to_site_id, kind FROM links", &statement) != 0)
        return -1;
    const Site *previous_from = NULL;
    int status;
    while ((status = sqlite3_step(statement)) == SQLITE_ROW && snapshot->link_count < capacity) {
        const char *from_id = (const char *)sqlite3_column_text(statement, 0);
        const char *to_id = (const char *)sqlite3_column_text(statement, 1);
        const char *kind = (const char *)sqlite3_column_text(statement, 2);
        const Site *from = from_id
                               ? loader_find_site_after(loader, previous_from, from_id,
                                                        (size_t)sqlite3_column_bytes(statement, 0))
                               : NULL;
        previous_from = from;
        const Site *to =
            to_id ? loader_find_site(loader, to_id, (size_t)sqlite3_column_bytes(statement, 1))
                  : NULL;
        if (!from || !to || !kind)
            continue;
        snapshot->links[snapshot->link_count++] = (Link){
            snapshot_site_index(snapshot, from), snapshot_site_index(snapshot, to),
            (uint8_t)(strcmp(kind, "coordinator") == 0 ? LINK_COORDINATOR : LINK_COOPERATION)};
    }
    if (status == SQLITE_ROW)
        status = SQLITE_DONE;
    if (load_step_error(loader, statement, status) != 0)
        return -1;
    sqlite3_finalize(statement);
    return 0;
}

/* The names of table `filieres`, sorted, in the conditions' arena. */
static int load_filieres(Loader *loader)
{
    Snapshot *snapshot = loader->snapshot;
    size_t capacity = count_rows(loader, "filieres");
    snapshot->filieres = calloc(capacity + 1, sizeof *snapshot->filieres);
    if (!snapshot->filieres)
        return load_fail(loader, "out of memory");
    sqlite3_stmt *statement;
    if (load_prepare(loader, "SELECT filiere FROM filieres ORDER BY filiere", &statement) != 0)
        return -1;
    int status;
    while ((status = sqlite3_step(statement)) == SQLITE_ROW && snapshot->filiere_count < capacity) {
        const char *name = column_interned(&loader->interner, statement, 0);
        if (name)
            snapshot->filieres[snapshot->filiere_count++] = name;
    }
    if (status == SQLITE_ROW)
        status = SQLITE_DONE;
    if (load_step_error(loader, statement, status) != 0)
        return -1;
    sqlite3_finalize(statement);
    return loader->interner.failed ? load_fail(loader, "out of memory") : 0;
}

/* The dataset version, the conditions and the sites: all snapshot_pack()
 * needs. */
static int load_site_steps(Loader *loader)
{
    Snapshot *snapshot = loader->snapshot;
    if (store_metadata(&loader->store, "version", snapshot->version, sizeof snapshot->version) != 0)
        return load_fail(loader, "no dataset version in metadata");
    if (load_conditions(loader) != 0 || load_ancestors(loader) != 0 || load_filieres(loader) != 0 ||
        loader_read_sites(loader) != 0)
        return -1;
    return 0;
}

/* A new loader with an empty snapshot of `path`; NULL when out of memory. */
static Loader *loader_new(const char *path, const SnapshotLoadOptions *options, char *error,
                          size_t error_size)
{
    Loader *loader = calloc(1, sizeof *loader);
    Snapshot *snapshot = calloc(1, sizeof *snapshot);
    Arena *arena = calloc(1, sizeof *arena);
    if (!loader || !snapshot || !arena) {
        free(loader);
        free(snapshot);
        free(arena);
        snprintf(error, error_size, "%s: out of memory", path);
        return NULL;
    }
    snapshot->arena = arena;
    snprintf(snapshot->path, sizeof snapshot->path, "%s", path);
    loader->snapshot = snapshot;
    loader->options = options ? *options : SNAPSHOT_LOAD_DEFAULTS;
    loader->interner.arena = arena;
    loader->error = error;
    loader->error_size = error_size;
    loader->started = seconds_now();
    return loader;
}

/* Closes the database and frees the loader (not its snapshot). */
static void loader_free(Loader *loader)
{
    store_close(&loader->store);
    interner_free(&loader->interner);
    for (int r = 0; r < 2; r++)
        site_reader_free(&loader->readers[r]);
    free(loader->coordinator_keys);
    free(loader->site_table);
    free(loader);
}

SnapshotLoader *snapshot_loader_open(const char *path, const SnapshotLoadOptions *options,
                                     char *error, size_t error_size)
{
    Loader *loader = loader_new(path, options, error, error_size);
    if (!loader)
        return NULL;
    if (store_open_read_only(&loader->store, path, error, error_size) != 0 ||
        load_site_steps(loader) != 0) {
        snapshot_loader_abandon(loader);
        return NULL;
    }
    return loader;
}

Snapshot *snapshot_loader_snapshot(SnapshotLoader *loader)
{
    return loader->snapshot;
}

Store *snapshot_loader_store(SnapshotLoader *loader)
{
    return &loader->store;
}

/* The arrays every query reads at random, in huge pages (huge_pages.h):
 * on 1M sites the sites (48 MB), their codes and the text pool. */
static void advise_huge_pages(const Snapshot *snapshot, size_t site_code_count)
{
    huge_pages_advise(snapshot->sites, snapshot->site_count * sizeof *snapshot->sites);
    huge_pages_advise(snapshot->site_codes, site_code_count * sizeof *snapshot->site_codes);
    huge_pages_advise(snapshot->text_pool, snapshot->text_pool_size);
    huge_pages_advise(snapshot->details, snapshot->details_count * sizeof *snapshot->details);
}

Snapshot *snapshot_loader_finish(SnapshotLoader *loader)
{
    Snapshot *snapshot = loader->snapshot;
    assert(snapshot_invariants_hold(snapshot));
    advise_huge_pages(snapshot, loader->site_code_count);
    double started = loader->started;
    loader_free(loader);
    /* Loading freed large temporaries (interners, readers) in the loader
     * threads' malloc arenas: hand those pages back (glibc). */
    malloc_trim(0);
    snapshot->load_seconds = seconds_now() - started;
    return snapshot;
}

void snapshot_loader_abandon(SnapshotLoader *loader)
{
    if (!loader)
        return;
    snapshot_free(loader->snapshot);
    loader_free(loader);
}

Snapshot *snapshot_load(const char *path, const SnapshotLoadOptions *options, char *error,
                        size_t error_size)
{
    SnapshotLoader *loader = snapshot_loader_open(path, options, error, error_size);
    if (!loader)
        return NULL;
    int status = snapshot_loader_read_links(loader);
    if (status == 0 && snapshot_count_coverage(loader->snapshot) != 0)
        status = load_fail(loader, "out of memory");
    if (status != 0) {
        snapshot_loader_abandon(loader);
        return NULL;
    }
    return snapshot_loader_finish(loader);
}

int snapshot_pack(const char *path, char *error, size_t error_size)
{
    Loader *loader = loader_new(path, NULL, error, error_size);
    if (!loader)
        return -1;
    loader->table_only = 1;
    int status = store_open_read_only(&loader->store, path, error, error_size);
    if (status == 0)
        status = load_site_steps(loader);
    if (status == 0)
        status = snapshot_loader_read_links(loader);
    size_t code_total = loader->site_code_count;
    Snapshot *snapshot = loader->snapshot;
    loader_free(loader);
    if (status == 0)
        status = packed_sites_write(snapshot, code_total, path, error, error_size);
    snapshot_free(snapshot);
    return status;
}
