/* snapshot_load.h — reading a database file into a Snapshot.
 *
 * Owns: the one pass that reads a database written by `maillage build`
 * into a Snapshot (model/snapshot.h), and snapshot_pack(), which writes
 * the packed form of the sites back into a file being built. Design:
 *  - the sites' texts live in the text pool and the conditions' in one
 *    arena, so a million sites cost no per-site allocation; columns that
 *    repeat across sites are interned, mostly distinct ones are copied;
 *  - files written by `maillage build` carry the sites pre-packed
 *    (packed_sites.c): read as four blobs and checked; any part that does
 *    not match or pass the checks gives one warning line and the table
 *    path; both paths give identical arrays (tests compare them);
 *  - large tables are read by two threads on two connections
 *    (site_reader.c); results do not depend on the split;
 *  - a site's codes come from `sites.orpha_codes` ('|'-joined decimal
 *    ORPHAcodes, an optional "ORPHA:" prefix and blanks allowed), sorted
 *    and deduplicated; codes absent from `conditions` are dropped.
 * Loading is in steps so that dataset/ can build the indexes over the
 * sites while the rest of the file is read:
 *
 *     SnapshotLoader *loader = snapshot_loader_open(path, &options, error, size);
 *     ... snapshot_loader_snapshot(loader): version, conditions, ancestors
 *         and sites are complete; start what needs only them ...
 *     snapshot_loader_read_links(loader);
 *     ... read other tables through snapshot_loader_store(loader) ...
 *     Snapshot *snapshot = snapshot_loader_finish(loader);
 *
 * Every function that fails writes one line ("PATH: reason") into the
 * `error` buffer given to snapshot_loader_open(), which must outlive the
 * loader. */
#ifndef MAILLAGE_SNAPSHOT_LOAD_H
#define MAILLAGE_SNAPSHOT_LOAD_H

#include "model/load_options.h"
#include "model/snapshot.h"
#include "store/store.h"

#include <stddef.h>

/* Opens `path` read-only and reads its version, conditions, ancestors and
 * sites. `options` NULL means SNAPSHOT_LOAD_DEFAULTS. Returns the loader,
 * or NULL with a message in `error` (nothing is left allocated). */
SnapshotLoader *snapshot_loader_open(const char *path, const SnapshotLoadOptions *options,
                                     char *error, size_t error_size);
/* The snapshot being loaded (owned by the loader until finish). Its sites
 * and conditions are complete; links are read by the next step, and
 * covering_sites stay 0 until snapshot_count_coverage(). */
Snapshot *snapshot_loader_snapshot(SnapshotLoader *loader);
/* The open database, for readers of other tables (valid until finish). */
Store *snapshot_loader_store(SnapshotLoader *loader);
/* Reads the links table. Returns 0, or -1 with a message. */
int snapshot_loader_read_links(SnapshotLoader *loader);
/* Closes the database, frees the loader and returns its snapshot, which
 * the caller now owns (snapshot_free()). */
Snapshot *snapshot_loader_finish(SnapshotLoader *loader);
/* Closes the database and frees the loader and its snapshot. NULL is a no-op. */
void snapshot_loader_abandon(SnapshotLoader *loader);

/* Every step at once, coverage counts included: the snapshot of `path`,
 * or NULL with a message. For tools and tests that need no index. */
Snapshot *snapshot_load(const char *path, const SnapshotLoadOptions *options, char *error,
                        size_t error_size);

/* Packs the sites of the database at `path` (read-write, not in use by a
 * server) for fast loading: reads them and the links through the table
 * path exactly as snapshot_load() does, then replaces the packed_sites
 * parts (the links resolved to site indexes among them) and their metadata
 * rows in one transaction (parts past SQLite's blob limit, some 20 million
 * sites, are not written: such files load from the table). Used by
 * `maillage build` (through dataset_pack()) before it renames the file
 * into place. Returns 0, or -1 with a message. */
int snapshot_pack(const char *path, char *error, size_t error_size);

#endif
