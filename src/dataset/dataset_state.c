/* dataset_state.c — reference-counted datasets and hot reload; see dataset_state.h. */
#include "dataset/dataset_state.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct DatasetReference {
    Dataset *dataset;
    _Atomic long references;
};

struct DatasetState {
    pthread_mutex_t lock; /* guards `current` (not the snapshot it points to) */
    DatasetReference *current;
    pthread_mutex_t reload_lock; /* one reload at a time */
    char database_path[4096];
    DatasetOptions options;
};

static DatasetReference *reference_load(const char *path, const DatasetOptions *options,
                                        char *error, size_t error_size)
{
    DatasetReference *reference = malloc(sizeof *reference);
    if (!reference) {
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    reference->dataset = dataset_load(path, options, error, error_size);
    if (!reference->dataset) {
        free(reference);
        return NULL;
    }
    atomic_init(&reference->references, 1);
    return reference;
}

DatasetState *dataset_state_open(const char *database_path, const DatasetOptions *options,
                                 char *error, size_t error_size)
{
    if (strlen(database_path) >= sizeof((DatasetState *)0)->database_path) {
        snprintf(error, error_size, "%s: path too long", database_path);
        return NULL;
    }
    DatasetState *state = calloc(1, sizeof *state);
    if (!state) {
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    strcpy(state->database_path, database_path);
    state->options = options ? *options : DATASET_DEFAULTS;
    state->current = reference_load(database_path, &state->options, error, error_size);
    if (!state->current) {
        free(state);
        return NULL;
    }
    if (pthread_mutex_init(&state->lock, NULL) != 0 ||
        pthread_mutex_init(&state->reload_lock, NULL) != 0) {
        snprintf(error, error_size, "cannot create a mutex");
        dataset_state_release(state->current);
        free(state);
        return NULL;
    }
    return state;
}

void dataset_state_close(DatasetState *state)
{
    if (!state)
        return;
    dataset_state_release(state->current);
    pthread_mutex_destroy(&state->lock);
    pthread_mutex_destroy(&state->reload_lock);
    free(state);
}

DatasetReference *dataset_state_acquire(DatasetState *state)
{
    pthread_mutex_lock(&state->lock);
    DatasetReference *reference = state->current;
    atomic_fetch_add_explicit(&reference->references, 1, memory_order_relaxed);
    pthread_mutex_unlock(&state->lock);
    return reference;
}

const Dataset *dataset_reference_get(const DatasetReference *reference)
{
    return reference->dataset;
}

void dataset_state_release(DatasetReference *reference)
{
    if (!reference)
        return;
    /* acq_rel: every reader's use happens before the free. */
    if (atomic_fetch_sub_explicit(&reference->references, 1, memory_order_acq_rel) == 1) {
        dataset_free(reference->dataset);
        free(reference);
    }
}

int dataset_state_reload(DatasetState *state, char *error, size_t error_size)
{
    pthread_mutex_lock(&state->reload_lock);
    DatasetReference *fresh =
        reference_load(state->database_path, &state->options, error, error_size);
    if (!fresh) {
        pthread_mutex_unlock(&state->reload_lock);
        return -1;
    }
    pthread_mutex_lock(&state->lock);
    DatasetReference *retired = state->current;
    state->current = fresh;
    pthread_mutex_unlock(&state->lock);
    pthread_mutex_unlock(&state->reload_lock);
    dataset_state_release(retired);
    return 0;
}
