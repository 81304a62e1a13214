/* epochs.h — when memory that lock-free readers may hold can be freed.
 *
 * Owns: epoch-based reclamation for one shared structure: a global epoch,
 * one announcement slot per reading thread, and the test that decides
 * whether an object unlinked at some epoch can no longer be held. Written
 * here (about 100 lines) rather than taken from a library because the one
 * user, the covering-tree cache (index/covering_trees.c), needs only this
 * and Debian's userspace-RCU would add a dependency and a registration
 * model for the server's threads. Protocol and invariants:
 *  - a reader calls epoch_read_begin() before it loads a shared pointer and
 *    epoch_read_end() when it holds none any more; between the two it
 *    announces the epoch it began in (sequentially consistent store, and
 *    the pointer loads that follow are sequentially consistent too);
 *  - a writer unlinks an object (a sequentially consistent exchange or
 *    compare-and-swap), then calls epoch_retire(), which returns the epoch
 *    the object was unlinked in and starts a new one; it frees the object
 *    once that epoch is below epoch_oldest_reader(): no reader announced it
 *    or an earlier one, and a reader that began later loaded the pointer
 *    after the unlink, so it cannot hold the object;
 *  - slots belong to threads, not to one EpochReaders: a thread takes a
 *    process-wide slot number at its first read and gives it back when it
 *    exits; with more than EPOCH_READER_SLOTS threads reading at once, the
 *    extra ones get -1 and must not load shared pointers (the cache then
 *    answers from its fallback). */
#ifndef MAILLAGE_EPOCHS_H
#define MAILLAGE_EPOCHS_H

#include <stdatomic.h>
#include <stdint.h>

#define EPOCH_READER_SLOTS 512

typedef struct EpochSlot {
    _Alignas(64) _Atomic uint64_t active; /* the epoch its reader began in; 0: not reading */
} EpochSlot;

typedef struct EpochReaders {
    _Atomic uint64_t epoch; /* starts at 1 */
    EpochSlot *slots;       /* EPOCH_READER_SLOTS */
} EpochReaders;

/* Prepares `readers` (no reader, epoch 1). Returns 0, or -1 when out of
 * memory (`readers` then holds nothing; epoch_readers_free() is harmless). */
int epoch_readers_init(EpochReaders *readers);
/* Frees the slots; no thread may be between begin and end. */
void epoch_readers_free(EpochReaders *readers);
/* Announces the calling thread as a reader. Returns its slot (>= 0), or -1
 * when every slot is taken (the thread must not load shared pointers). */
int epoch_read_begin(EpochReaders *readers);
/* Ends the read begun with `slot` (-1 is a no-op). */
void epoch_read_end(EpochReaders *readers, int slot);
/* Called after unlinking an object: returns the epoch to keep with it, and
 * starts the next epoch. */
uint64_t epoch_retire(EpochReaders *readers);
/* The earliest epoch a reader announced, UINT64_MAX when none reads: an
 * object retired at an epoch below it can be freed. */
uint64_t epoch_oldest_reader(const EpochReaders *readers);

#endif
