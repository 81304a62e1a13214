/* server_state.c — reference-counted snapshots and hot reload; see server_state.h. */
#include "server_state.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct SnapshotReference {
    Snapshot *snapshot;
    _Atomic long references;
};

struct ServerState {
    pthread_mutex_t lock; /* guards `current` (not the snapshot it points to) */
    SnapshotReference *current;
    pthread_mutex_t reload_lock; /* one reload at a time */
    char database_path[4096];
};

static SnapshotReference *reference_load(const char *path, char *error, size_t error_size)
{
    SnapshotReference *reference = malloc(sizeof *reference);
    if (!reference) {
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    reference->snapshot = snapshot_load(path, error, error_size);
    if (!reference->snapshot) {
        free(reference);
        return NULL;
    }
    atomic_init(&reference->references, 1);
    return reference;
}

ServerState *server_state_open(const char *database_path, char *error, size_t error_size)
{
    if (strlen(database_path) >= sizeof((ServerState *)0)->database_path) {
        snprintf(error, error_size, "%s: path too long", database_path);
        return NULL;
    }
    ServerState *state = calloc(1, sizeof *state);
    if (!state) {
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    strcpy(state->database_path, database_path);
    state->current = reference_load(database_path, error, error_size);
    if (!state->current) {
        free(state);
        return NULL;
    }
    if (pthread_mutex_init(&state->lock, NULL) != 0 ||
        pthread_mutex_init(&state->reload_lock, NULL) != 0) {
        snprintf(error, error_size, "cannot create a mutex");
        server_state_release(state->current);
        free(state);
        return NULL;
    }
    return state;
}

void server_state_close(ServerState *state)
{
    if (!state)
        return;
    server_state_release(state->current);
    pthread_mutex_destroy(&state->lock);
    pthread_mutex_destroy(&state->reload_lock);
    free(state);
}

SnapshotReference *server_state_acquire(ServerState *state)
{
    pthread_mutex_lock(&state->lock);
    SnapshotReference *reference = state->current;
    atomic_fetch_add_explicit(&reference->references, 1, memory_order_relaxed);
    pthread_mutex_unlock(&state->lock);
    return reference;
}

const Snapshot *snapshot_reference_get(const SnapshotReference *reference)
{
    return reference->snapshot;
}

void server_state_release(SnapshotReference *reference)
{
    if (!reference)
        return;
    /* acq_rel: every reader's use happens before the free. */
    if (atomic_fetch_sub_explicit(&reference->references, 1, memory_order_acq_rel) == 1) {
        snapshot_free(reference->snapshot);
        free(reference);
    }
}

int server_state_reload(ServerState *state, char *error, size_t error_size)
{
    pthread_mutex_lock(&state->reload_lock);
    SnapshotReference *fresh = reference_load(state->database_path, error, error_size);
    if (!fresh) {
        pthread_mutex_unlock(&state->reload_lock);
        return -1;
    }
    pthread_mutex_lock(&state->lock);
    SnapshotReference *retired = state->current;
    state->current = fresh;
    pthread_mutex_unlock(&state->lock);
    pthread_mutex_unlock(&state->reload_lock);
    server_state_release(retired);
    return 0;
}
