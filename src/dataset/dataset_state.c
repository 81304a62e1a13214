/* dataset_state.c — reference-counted datasets and hot reload; see dataset_state.h. */
#include "dataset/dataset_state.h"

#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    state->options.snapshot.warnings = NULL; /* the caller's buffer served the first load */
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
        /* Freed chunks stay resident until reused: give every arena's free
         * pages back (a few milliseconds, once per reload). */
        malloc_trim(0);
    }
}

/* Waits until `reference` is held by its caller alone (the requests that
 * read it have released it), for at most `seconds`; 1 when they left. */
static int wait_for_readers(DatasetReference *reference, double seconds)
{
    struct timespec pause = {0, 100000}; /* 0.1 ms, doubling up to 10 ms */
    double waited = 0.0;
    for (;;) {
        if (atomic_load_explicit(&reference->references, memory_order_acquire) == 1)
            return 1;
        if (waited >= seconds)
            return 0;
        nanosleep(&pause, NULL);
        waited += (double)pause.tv_nsec / 1e9;
        if (pause.tv_nsec < 10000000)
            pause.tv_nsec *= 2;
    }
}

int dataset_state_reload(DatasetState *state, double retire_wait_seconds, char *error,
                         size_t error_size)
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
    wait_for_readers(retired, retire_wait_seconds);
    dataset_state_release(retired);
    pthread_mutex_unlock(&state->reload_lock);
    return 0;
}
