/* arena.c — the string arena and the interner; see arena.h. */
#include "base/arena.h"

#include "base/text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK_SIZE (1u << 20)

char *arena_copy(Arena *arena, const char *text, size_t length)
{
    ArenaBlock *block = arena->head;
    if (!block || block->size - block->used < length + 1) {
        size_t size = length + 1 > ARENA_BLOCK_SIZE ? length + 1 : ARENA_BLOCK_SIZE;
        block = malloc(sizeof *block + size);
        if (!block)
            return NULL;
        block->next = arena->head;
        block->used = 0;
        block->size = size;
        arena->head = block;
    }
    char *copy = block->data + block->used;
    memcpy(copy, text, length);
    copy[length] = 0;
    block->used += length + 1;
    return copy;
}

void arena_release(Arena *arena)
{
    ArenaBlock *block = arena->head;
    while (block) {
        ArenaBlock *next = block->next;
        free(block);
        block = next;
    }
    arena->head = NULL;
}

/* The arena copy of `text` (NULL for NULL or empty text); sets `failed`
 * when out of memory. */
const char *intern(Interner *interner, const char *text, size_t length)
{
    if (!text || length == 0)
        return NULL;
    HashSlots *table = &interner->table;
    if (hash_slots_reserve(table, 4096) != 0) {
        interner->failed = 1;
        return NULL;
    }
    uint32_t hash = (uint32_t)hash_fnv1a(HASH_FNV1A_SEED, text, length);
    size_t slot = hash_slots_start(table, hash);
    for (; table->values[slot]; slot = hash_slots_next(table, slot)) {
        const char *stored = (const char *)(uintptr_t)table->values[slot];
        if (table->hashes[slot] == hash && strncmp(stored, text, length) == 0 &&
            stored[length] == 0)
            return stored;
    }
    char *copy = arena_copy(interner->arena, text, length);
    if (!copy) {
        interner->failed = 1;
        return NULL;
    }
    hash_slots_fill(table, slot, (uintptr_t)copy, hash);
    return copy;
}

void interner_free(Interner *interner)
{
    hash_slots_free(&interner->table);
}
