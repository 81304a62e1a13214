/* arena.h — a string arena and an interner over it.
 *
 * Owns: copies of strings kept until the whole arena is released, in
 * blocks of 1 MB (a longer string gets a block of its own), so a million
 * strings cost no per-string allocation; and the Interner, which stores
 * each distinct string once in an arena. Invariants:
 *  - every copy is NUL-terminated and never moves or changes until
 *    arena_release();
 *  - an Interner returns one pointer per distinct text, so interned texts
 *    compare equal by pointer;
 *  - out of memory is sticky: `Interner.failed` stays set once a copy
 *    failed, so a loader checks it once after a loop. */
#ifndef MAILLAGE_ARENA_H
#define MAILLAGE_ARENA_H

#include "base/slots.h"

#include <stddef.h>

typedef struct ArenaBlock {
    struct ArenaBlock *next;
    size_t used, size;
    char data[];
} ArenaBlock;

typedef struct Arena {
    ArenaBlock *head;
} Arena; /* {NULL} is an empty arena */

/* A NUL-terminated copy of the `length` bytes of `text` in the arena;
 * NULL when out of memory. */
char *arena_copy(Arena *arena, const char *text, size_t length);
/* Frees every block (the copies die with them); the arena is empty again. */
void arena_release(Arena *arena);

typedef struct Interner {
    Arena *arena;    /* where the copies go; not owned */
    HashSlots table; /* values: the arena copies */
    int failed;
} Interner;

/* The interned copy of `text` (NULL for NULL or empty text); sets
 * `failed` and returns NULL when out of memory. */
const char *intern(Interner *interner, const char *text, size_t length);
/* Frees the table (not the arena, which owns the copies). */
void interner_free(Interner *interner);

#endif
