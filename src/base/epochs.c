/* epochs.c — epoch-based reclamation; see epochs.h for the protocol. */
#include "base/epochs.h"

#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

/* Process-wide slot numbers, one per reading thread. */
static atomic_bool slot_taken[EPOCH_READER_SLOTS];
static pthread_key_t slot_key;
static pthread_once_t slot_key_once = PTHREAD_ONCE_INIT;
static _Thread_local int thread_slot = -2; /* -2: not asked yet; -1: none left */

static void slot_release(void *value)
{
    int slot = (int)(intptr_t)value - 1;
    assert(slot >= 0 && slot < EPOCH_READER_SLOTS);
    atomic_store_explicit(&slot_taken[slot], false, memory_order_release);
}

static void slot_key_create(void)
{
    if (pthread_key_create(&slot_key, slot_release) != 0)
        abort(); /* only on resource exhaustion at the first read of the process */
}

/* The calling thread's slot, taken at its first call; -1 when none is left. */
static int thread_slot_number(void)
{
    if (thread_slot != -2)
        return thread_slot;
    pthread_once(&slot_key_once, slot_key_create);
    thread_slot = -1;
    for (int slot = 0; slot < EPOCH_READER_SLOTS; slot++) {
        bool expected = false;
        if (atomic_compare_exchange_strong(&slot_taken[slot], &expected, true)) {
            if (pthread_setspecific(slot_key, (void *)(intptr_t)(slot + 1)) != 0) {
                atomic_store(&slot_taken[slot], false);
                break;
            }
            thread_slot = slot;
            break;
        }
    }
    return thread_slot;
}

int epoch_readers_init(EpochReaders *readers)
{
    atomic_init(&readers->epoch, 1);
    readers->slots = aligned_alloc(_Alignof(EpochSlot), EPOCH_READER_SLOTS * sizeof(EpochSlot));
    if (!readers->slots)
        return -1;
    for (int slot = 0; slot < EPOCH_READER_SLOTS; slot++)
        atomic_init(&readers->slots[slot].active, 0);
    return 0;
}

void epoch_readers_free(EpochReaders *readers)
{
    free(readers->slots);
    readers->slots = NULL;
}

int epoch_read_begin(EpochReaders *readers)
{
    int slot = thread_slot_number();
    if (slot < 0)
        return -1;
    assert(atomic_load_explicit(&readers->slots[slot].active, memory_order_relaxed) == 0);
    uint64_t epoch = atomic_load(&readers->epoch);
    atomic_store(&readers->slots[slot].active, epoch); /* seq_cst: before the loads that follow */
    return slot;
}

void epoch_read_end(EpochReaders *readers, int slot)
{
    if (slot >= 0)
        atomic_store_explicit(&readers->slots[slot].active, 0, memory_order_release);
}

uint64_t epoch_retire(EpochReaders *readers)
{
    return atomic_fetch_add(&readers->epoch, 1);
}

uint64_t epoch_oldest_reader(const EpochReaders *readers)
{
    uint64_t oldest = UINT64_MAX;
    for (int slot = 0; slot < EPOCH_READER_SLOTS; slot++) {
        uint64_t active = atomic_load(&readers->slots[slot].active);
        if (active != 0 && active < oldest)
            oldest = active;
    }
    return oldest;
}
