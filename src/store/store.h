/* store.h — the SpatiaLite database: opening it and its schema.
 *
 * Owns: the one definition of the on-disk schema (store.c, STORE_SCHEMA_SQL)
 * and the SpatiaLite initialisation of a connection. Invariants:
 *  - every table that holds positions has WGS84 (SRID 4326) geometry columns
 *    registered with SpatiaLite and an R*Tree spatial index;
 *  - `metadata` holds at least `version` (a hash of every input byte, the
 *    schema version and the build options: same inputs, same version) and
 *    `schema_version`;
 *  - `ancestors` is the reflexive-transitive closure of the Orphanet
 *    classification: (code, ancestor, depth) with (code, code, 0) for every
 *    code, depth the fewest edges, so "site S covers disorder D" is
 *    EXISTS site_codes(S, c) JOIN ancestors(D, c);
 *  - `packed_sites` holds the sites as the server lays them out in memory
 *    (written by `maillage build` through snapshot_pack()) and the order of
 *    the spatial index's trees (part `tree_order`, dataset_pack()); both are
 *    derived from `sites` and never trusted without checks (packed_sites.c,
 *    tree_order.c);
 *  - a server opens the file read-only and never writes to it;
 *  - a reader accepts only files of its own STORE_SCHEMA_VERSION: a file
 *    from a newer or older maillage is refused with a message, never read
 *    half-understood. */
#ifndef MAILLAGE_STORE_H
#define MAILLAGE_STORE_H

#include <sqlite3.h>
#include <stddef.h>

#define STORE_SCHEMA_VERSION 2 /* 2: packed_sites */

typedef struct Store {
    sqlite3 *db;
    void *spatialite_cache;
} Store;

/* Opens `path` read-only (SQLITE_OPEN_READONLY: a server never writes,
 * and the file may be mode 0444 or on a read-only mount) with SpatiaLite
 * loaded; the connection has no mutex, so one thread at a time uses it.
 * Returns 0, or -1 with a one-line message naming the file: missing, not a
 * regular file, not a database, no metadata `version` or `schema_version`,
 * or a schema version other than STORE_SCHEMA_VERSION (a newer maillage's
 * file, or an older one to rebuild). On -1 the store is left closed
 * (zeroed). */
int store_open_read_only(Store *store, const char *path, char *error, size_t error_size);
/* What store_check_integrity() reads. */
typedef enum StoreCheckScope {
    /* Every table a server reads: all but SpatiaLite's R*Tree indexes, and
     * but `sites` and `site_codes` when the file has packed sites (a server
     * reads them only if the packed parts fail their own checks). About a
     * third of a 1M-site file. */
    STORE_CHECK_SERVED,
    /* Every page of the file, the free list included (about 1.7 s of CPU
     * for 690 MB, 0.15 s for the shipped 28 MB file). */
    STORE_CHECK_FILE,
} StoreCheckScope;

/* Opens `path` as store_open_read_only() does and runs SQLite's
 * `PRAGMA quick_check` over `scope` (every page of those b-trees read and
 * checked). Returns 0 when they are sound, else -1 with a one-line message
 * naming the file. */
int store_check_integrity(const char *path, StoreCheckScope scope, char *error, size_t error_size);
/* Creates a new database at `path` (which must not exist or be empty), tuned for bulk
 * loading, with SpatiaLite metadata and the schema. Returns 0, or -1 with a
 * message naming the file; on -1 the store is left closed, but the file may
 * exist (the caller removes it). */
int store_create(Store *store, const char *path, char *error, size_t error_size);
/* Closes the connection and frees SpatiaLite's cache, then zeroes `store`.
 * A no-op on a zeroed store (never opened, failed to open, or closed). */
void store_close(Store *store);
/* Runs SQL that returns no rows; returns 0, or -1 with sqlite's message. */
int store_exec(Store *store, const char *sql, char *error, size_t error_size);
/* Reads metadata[key] into `value` (truncated to fit); returns 0, or -1
 * when absent or on a database error (`value` then untouched). */
int store_metadata(Store *store, const char *key, char *value, size_t value_size);
/* Reads the blob packed_sites[part] into a new malloc'd buffer of its size
 * plus `spare` bytes (so that an empty part is still an allocation; the
 * caller frees it) and sets *size. Returns NULL with *reason (a static
 * text: STORE_PART_MISSING when the part is missing or not a blob) when it
 * is absent, unreadable or too large for memory. */
#define STORE_PART_MISSING "a part is missing or not a blob"
void *store_read_part(Store *store, const char *part, size_t spare, size_t *size,
                      const char **reason);
/* Writes (or replaces) the blob packed_sites[part] of the database at
 * `path`, through a connection of its own. Returns 0, or -1 with a
 * one-line message naming the file. */
int store_write_part(const char *path, const char *part, const void *bytes, size_t size,
                     char *error, size_t error_size);

#endif
