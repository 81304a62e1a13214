/* once_blobs.h — byte strings computed once per slot and shared after.
 *
 * Owns: an array of `count` slots, each empty or holding one immutable
 * byte string (its own copy), within a byte budget. Made for answers that
 * are the same every time they are written (a site's GeoJSON feature): the
 * first writer publishes its bytes, later ones copy them.
 * Invariants: a slot is published at most once (compare-and-swap) and never
 * changes or empties before once_blobs_free(); the bytes held (each string
 * plus its length header) never pass the budget, so a store costs its slot
 * array (8 bytes a slot) plus at most the budget; reads take no lock. */
#ifndef MAILLAGE_ONCE_BLOBS_H
#define MAILLAGE_ONCE_BLOBS_H

#include <stddef.h>

typedef struct OnceBlobs OnceBlobs;

/* A store of `count` empty slots holding at most `budget` bytes. Returns
 * it, or NULL when out of memory. */
OnceBlobs *once_blobs_new(size_t count, size_t budget);
/* Frees the store and every string; NULL is a no-op. No reader may run. */
void once_blobs_free(OnceBlobs *blobs);

/* The string of slot `slot` (< count) and its length in *length, or NULL
 * when the slot is empty. Valid until once_blobs_free(); from any thread. */
const char *once_blobs_get(const OnceBlobs *blobs, size_t slot, size_t *length);
/* Publishes a copy of `bytes` in slot `slot` unless it holds one already,
 * the budget would pass, or memory is short (all harmless: the caller
 * writes the bytes itself next time). Returns 1 when published. */
int once_blobs_put(OnceBlobs *blobs, size_t slot, const char *bytes, size_t length);
/* Bytes the strings hold now (at most the budget). */
size_t once_blobs_bytes(const OnceBlobs *blobs);

#endif
