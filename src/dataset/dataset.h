/* dataset.h — one loaded database: the snapshot and everything built over it.
 *
 * Owns: assembling, from one database file, the plain-data Snapshot
 * (model/) and the structures built over it: the spatial index, the
 * condition search, the places, the communes and areas, the tiles
 * (index/, tiles/), a cache of the answers computed from them
 * (coverage, service areas) and the sites' features as the API encodes
 * them (written at first use), which die with the dataset. The HTTP
 * handlers answer from a Dataset; dataset_state.h reference-counts them
 * and swaps them on reload. Invariants:
 *  - every member is built from the same snapshot and lives exactly as
 *    long as the Dataset (dataset_free() frees them all);
 *  - immutable once dataset_load() returns, except the caches (in the
 *    index, the tiles, `answers`, `features`), which synchronise
 *    themselves: any number of threads read a Dataset without locks;
 *  - loading overlaps work: the spatial index (and the coverage counts) are
 *    built in a second thread while this one reads the links, synonyms,
 *    communes and tile layers; the result does not depend on the timing;
 *  - a stored tree order only makes the index's build faster: a missing
 *    one changes nothing, an invalid one is said on stderr and ignored. */
#ifndef MAILLAGE_DATASET_H
#define MAILLAGE_DATASET_H

#include "base/once_blobs.h"
#include "index/communes.h"
#include "index/conditions.h"
#include "index/places.h"
#include "index/service_areas.h"
#include "index/spatial_index.h"
#include "model/snapshot.h"
#include "model/snapshot_load.h"
#include "tiles/tile_cache.h"
#include "tiles/tile_set.h"

#include <stddef.h>

typedef struct DatasetOptions {
    SnapshotLoadOptions snapshot;
    SpatialIndexOptions index;
    TileSetOptions tiles;
} DatasetOptions;

#define DATASET_DEFAULTS                                                                           \
    ((DatasetOptions){SNAPSHOT_LOAD_DEFAULTS, SPATIAL_INDEX_DEFAULTS, TILE_SET_DEFAULTS})

typedef struct Dataset {
    Snapshot *snapshot;
    SpatialIndex *index;
    ConditionSearch *conditions;
    Places *places;
    Communes *communes;        /* coverage and service areas are computed over them */
    ServiceLand *service_land; /* the land service areas cut (built at first use) */
    TileSet *tiles;
    TileCache *answers;  /* computed answers (coverage, service areas) by request */
    OnceBlobs *features; /* per site: its GeoJSON feature as http/api.c writes it */
} Dataset;

/* Loads the database at `path` (opened read-only) and builds everything
 * over it. `options` NULL means DATASET_DEFAULTS. Returns the dataset, or
 * NULL with a one-line message in `error` (nothing left allocated). */
Dataset *dataset_load(const char *path, const DatasetOptions *options, char *error,
                      size_t error_size);
/* What `maillage build` adds to a finished database at `path` for a fast
 * start: the packed sites (snapshot_pack()), then the order of the spatial
 * index's trees built over them (spatial_index_order(), the `tree_order`
 * packed part), which dataset_load() reads to build its trees in O(n).
 * Returns 0, or -1 with a one-line message naming the file. */
int dataset_pack(const char *path, char *error, size_t error_size);
/* Frees the dataset and every member; NULL is a no-op. */
void dataset_free(Dataset *dataset);

#endif
