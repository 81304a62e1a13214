/* loader.h — the state shared by the model's loading files (internal to model/).
 *
 * Owns: the SnapshotLoader (snapshot_load.c), the per-thread SiteReader
 * (site_reader.c) and the calls between those files and packed_sites.c.
 * Nothing outside model/ includes it. Invariants:
 *  - `snapshot` is owned by the loader until snapshot_loader_finish();
 *  - `error` is the caller's buffer; every failing step writes one line
 *    into it ("PATH: reason") and returns -1 (or NULL);
 *  - after loader_read_sites() the sites are sorted by site_id and
 *    distinct; once loader_site_table_ready(), `site_table` maps each
 *    site_id to its index + 1. */
#ifndef MAILLAGE_LOADER_H
#define MAILLAGE_LOADER_H

#include "base/arena.h"
#include "model/load_options.h"
#include "model/snapshot.h"
#include "model/text_pool.h"
#include "store/store.h"

#include <sqlite3.h>

typedef struct SnapshotLoader Loader;

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

struct SnapshotLoader {
    Snapshot *snapshot;
    Store store;
    SnapshotLoadOptions options;
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
    size_t site_code_count; /* length of snapshot->site_codes */
    int table_only;         /* never read the packed sites (snapshot_pack) */
    char packed_reason[160];
    double started; /* monotonic seconds at open, for load_seconds */
};

/* snapshot_load.c: "PATH: what" into the loader's error; returns -1. */
int load_fail(Loader *loader, const char *what);
/* Prepares `sql` on the loader's database; -1 with sqlite's message. */
int load_prepare(Loader *loader, const char *sql, sqlite3_stmt **statement);
/* 0 when a step loop ended with SQLITE_DONE; else -1 with sqlite's message
 * (the statement is then finalized). */
int load_step_error(Loader *loader, sqlite3_stmt *statement, int status);

/* site_reader.c: the sites (packed when allowed and valid, else the
 * table), sorted, distinct, coordinators resolved, and the site table. */
int loader_read_sites(Loader *loader);
/* Builds the site table (site_id -> index) if not built yet: the packed
 * path needs it only when it reads the links table. Returns 0 or -1. */
int loader_site_table_ready(Loader *loader);
/* The site with this id (`length` bytes), NULL when absent; the site table
 * must be ready. */
const Site *loader_find_site(const Loader *loader, const char *site_id, size_t length);
/* loader_find_site(), trying `previous` and the site after it first. */
const Site *loader_find_site_after(const Loader *loader, const Site *previous, const char *site_id,
                                   size_t length);
/* Frees a reader's temporaries (safe on a zeroed reader). */
void site_reader_free(SiteReader *reader);

/* packed_sites.c */
typedef enum PackedStatus { PACKED_ABSENT, PACKED_LOADED, PACKED_INVALID } PackedStatus;
/* Reads and checks the packed parts into the loader's snapshot; on
 * PACKED_INVALID, *reason says why and nothing is kept. */
PackedStatus packed_sites_read(Loader *loader, const char **reason);
/* Reads and checks the packed links (every end a site, every kind known)
 * into the loader's snapshot, whose sites are packed: PACKED_ABSENT when
 * the file has no links part, PACKED_INVALID with *reason (nothing kept). */
PackedStatus packed_links_read(Loader *loader, const char **reason);
/* Writes the packed parts of `snapshot` (read through the table path, its
 * links read) into the database at `path`. Returns 0, or -1 with a message. */
int packed_sites_write(const Snapshot *snapshot, size_t code_total, const char *path, char *error,
                       size_t error_size);

#endif
