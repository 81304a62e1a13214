/* once_blobs.c — byte strings computed once per slot; see once_blobs.h. */
#include "base/once_blobs.h"

#include "base/byte_budget.h"

#include <assert.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A published string: its length, then its bytes. */
typedef struct Blob {
    size_t length;
    char bytes[];
} Blob;

struct OnceBlobs {
    _Atomic(Blob *) *slots;
    size_t count;
    ByteBudget held; /* bytes of the published blobs, headers included */
};

OnceBlobs *once_blobs_new(size_t count, size_t budget)
{
    OnceBlobs *blobs = calloc(1, sizeof *blobs);
    if (!blobs)
        return NULL;
    blobs->slots = calloc(count ? count : 1, sizeof *blobs->slots);
    if (!blobs->slots) {
        free(blobs);
        return NULL;
    }
    blobs->count = count;
    byte_budget_init(&blobs->held, budget);
    return blobs;
}

void once_blobs_free(OnceBlobs *blobs)
{
    if (!blobs)
        return;
    for (size_t i = 0; i < blobs->count; i++)
        free(atomic_load_explicit(&blobs->slots[i], memory_order_relaxed));
    free(blobs->slots);
    free(blobs);
}

const char *once_blobs_get(const OnceBlobs *blobs, size_t slot, size_t *length)
{
    assert(slot < blobs->count);
    /* acquire: the bytes were written before the publishing release. */
    Blob *blob = atomic_load_explicit(&((OnceBlobs *)blobs)->slots[slot], memory_order_acquire);
    if (!blob)
        return NULL;
    *length = blob->length;
    return blob->bytes;
}

int once_blobs_put(OnceBlobs *blobs, size_t slot, const char *bytes, size_t length)
{
    assert(slot < blobs->count);
    if (atomic_load_explicit(&blobs->slots[slot], memory_order_relaxed))
        return 0;
    size_t size = sizeof(Blob) + length;
    if (!byte_budget_take(&blobs->held, size, 0))
        return 0;
    Blob *blob = malloc(size);
    if (!blob) {
        byte_budget_give_back(&blobs->held, size);
        return 0;
    }
    blob->length = length;
    memcpy(blob->bytes, bytes, length);
    Blob *expected = NULL;
    if (atomic_compare_exchange_strong_explicit(&blobs->slots[slot], &expected, blob,
                                                memory_order_release, memory_order_relaxed))
        return 1;
    /* Another thread published the same slot first. */
    byte_budget_give_back(&blobs->held, size);
    free(blob);
    return 0;
}

size_t once_blobs_bytes(const OnceBlobs *blobs)
{
    return byte_budget_used(&blobs->held);
}
