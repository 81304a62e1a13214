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

/* Loads `database_path`; NULL with a one-line message in `error`. */
DatasetState *dataset_state_open(const char *database_path, const DatasetOptions *options,
                                 char *error, size_t error_size);
/* Drops the state's reference; call once no request can run any more. */
void dataset_state_close(DatasetState *state);

DatasetReference *dataset_state_acquire(DatasetState *state);
const Dataset *dataset_reference_get(const DatasetReference *reference);
void dataset_state_release(DatasetReference *reference);

/* Loads the database path again and swaps it in. Returns 0, or -1 with a
 * one-line message in `error` (the old dataset keeps serving). */
int dataset_state_reload(DatasetState *state, char *error, size_t error_size);

#endif
