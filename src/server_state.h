/* server_state.h — the dataset a running server answers from, and its hot reload.
 *
 * Owns: the current Snapshot and the reference counts that decide when a
 * retired one is freed. Invariants:
 *  - server_state_acquire() returns the current snapshot with one more
 *    reference; it stays valid (and unchanged: snapshots are immutable)
 *    until the matching server_state_release(), whatever reloads happen
 *    meanwhile, so one request never mixes two datasets;
 *  - the state itself holds one reference on the current snapshot; a reload
 *    loads the new file completely first, then swaps the pointer under a
 *    short lock and drops the state's reference on the old one, which is
 *    freed by whoever releases it last (the reloader or the last request);
 *  - a failed reload changes nothing: the old snapshot keeps serving. */
#ifndef MAILLAGE_SERVER_STATE_H
#define MAILLAGE_SERVER_STATE_H

#include "snapshot.h"

#include <stddef.h>

typedef struct ServerState ServerState;
typedef struct SnapshotReference SnapshotReference;

/* Loads `database_path`; NULL with a one-line message in `error`. */
ServerState *server_state_open(const char *database_path, char *error, size_t error_size);
/* Drops the state's reference; call once no request can run any more. */
void server_state_close(ServerState *state);

SnapshotReference *server_state_acquire(ServerState *state);
const Snapshot *snapshot_reference_get(const SnapshotReference *reference);
void server_state_release(SnapshotReference *reference);

/* Loads the database path again and swaps it in. Returns 0, or -1 with a
 * one-line message in `error` (the old snapshot keeps serving). */
int server_state_reload(ServerState *state, char *error, size_t error_size);

#endif
