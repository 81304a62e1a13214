/* load_options.h — how a snapshot is loaded (model/snapshot_load.h).
 *
 * Owns: the options of loading and the loader's name, shared by the public
 * loading API and the model's internal loader.h. */
#ifndef MAILLAGE_LOAD_OPTIONS_H
#define MAILLAGE_LOAD_OPTIONS_H

#include "base/buffer.h"

#include <stddef.h>

typedef struct SnapshotLoadOptions {
    int use_packed;                /* 1: read packed_sites when valid; 0: always the table */
    size_t parallel_minimum_sites; /* tables with this many sites are read by two threads */
    Buffer *warnings; /* NULL: warnings (a packed part refused) go to stderr; else appended
                       * here, a line each, for the caller to show (buffer_warn()) */
} SnapshotLoadOptions;

/* The defaults: packed sites used, two readers from 20,000 sites, warnings
 * on stderr. */
#define SNAPSHOT_LOAD_DEFAULTS ((SnapshotLoadOptions){1, 20000, NULL})

typedef struct SnapshotLoader SnapshotLoader;

#endif
