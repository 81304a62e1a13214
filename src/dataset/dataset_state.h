/* dataset_state.h — the dataset a running server answers from, and its hot reload.
 *
 * Owns: the current Dataset and the reference counts that decide when a
 * retired one is freed. Invariants:
 *  - dataset_state_acquire() returns the current dataset with one more
 *    reference; it stays valid (and unchanged: datasets are immutable)
 *    until the matching dataset_state_release(), whatever reloads happen
 *    meanwhile, so one request never mixes two datasets;
 *  - the state itself holds one reference on the current dataset; a reload
 *    loads the new file completely first, then swaps the pointer under a
 *    short lock and drops the state's reference on the old one, which is
 *    freed by whoever releases it last (the reloader or the last request);
 *  - a failed reload changes nothing: the old dataset keeps serving;
 *  - every load uses the DatasetOptions given at open. */
#ifndef MAILLAGE_DATASET_STATE_H
#define MAILLAGE_DATASET_STATE_H

#include "dataset/dataset.h"

#include <stddef.h>

typedef struct DatasetState DatasetState;
typedef struct DatasetReference DatasetReference;

/* Loads `database_path` (options NULL means DATASET_DEFAULTS, copied) into
 * a new state the caller closes. Returns NULL with a one-line message in
 * `error`, nothing left allocated. */
DatasetState *dataset_state_open(const char *database_path, const DatasetOptions *options,
                                 char *error, size_t error_size);
/* Drops the state's reference and frees the state (the dataset goes once
 * the last reference is released); call once no request or reload can run
 * any more. NULL is a no-op. */
void dataset_state_close(DatasetState *state);

/* The current dataset with one more reference, never NULL (it cannot fail);
 * thread-safe. Every acquire needs one dataset_state_release(). */
DatasetReference *dataset_state_acquire(DatasetState *state);
/* The dataset held by `reference`, valid until it is released. */
const Dataset *dataset_reference_get(const DatasetReference *reference);
/* Drops one reference, freeing the dataset when it was the last; from any
 * thread. NULL is a no-op. */
void dataset_state_release(DatasetReference *reference);

/* Loads the database path again and swaps it in; thread-safe, reloads run
 * one at a time. Returns 0, or -1 with a one-line message in `error` (the
 * old dataset keeps serving). */
int dataset_state_reload(DatasetState *state, char *error, size_t error_size);

#endif
