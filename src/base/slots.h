/* slots.h — an open-addressing table of slots, the one hash table of maillage.
 *
 * Owns: a power-of-two array of (value, hash) slots probed linearly, kept
 * at most half full. The table stores no keys: each user stores in a slot
 * a value that leads to its key (an arena pointer, a text pool offset, an
 * array index + 1) and compares keys its own way while probing:
 *
 *     if (hash_slots_reserve(&table, 1024) != 0) return FAILED;
 *     size_t slot = hash_slots_start(&table, hash);
 *     for (; table.values[slot]; slot = hash_slots_next(&table, slot))
 *         if (table.hashes[slot] == hash && same_key(table.values[slot], key))
 *             return table.values[slot];
 *     hash_slots_fill(&table, slot, value, hash);
 *
 * Invariants: capacity is 0 or a power of two; value 0 marks a free slot,
 * so stored values are never 0; count < capacity / 2 after a successful
 * reserve, so every probe ends on a free slot. */
#ifndef MAILLAGE_SLOTS_H
#define MAILLAGE_SLOTS_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

typedef struct HashSlots {
    uint64_t *values; /* 0 = free */
    uint32_t *hashes; /* meaningful where values[i] != 0 */
    size_t count, capacity;
} HashSlots;

/* Makes room for one more value, doubling from `initial` slots (a power of
 * two). Returns 0, or -1 when out of memory (the table is then unchanged). */
int hash_slots_reserve(HashSlots *table, size_t initial);
/* Frees the arrays and empties the table (it may be reused). */
void hash_slots_free(HashSlots *table);

/* The first slot to probe for `hash` (the table has capacity). */
static inline size_t hash_slots_start(const HashSlots *table, uint32_t hash)
{
    assert(table->capacity > 0 && (table->capacity & (table->capacity - 1)) == 0);
    return hash & (table->capacity - 1);
}
/* The slot probed after `slot`. */
static inline size_t hash_slots_next(const HashSlots *table, size_t slot)
{
    return (slot + 1) & (table->capacity - 1);
}
/* Stores `value` (not 0) with its `hash` in the free `slot` a probe ended on. */
static inline void hash_slots_fill(HashSlots *table, size_t slot, uint64_t value, uint32_t hash)
{
    assert(value != 0 && table->values[slot] == 0);
    assert((table->count + 1) * 2 <= table->capacity);
    table->values[slot] = value;
    table->hashes[slot] = hash;
    table->count++;
}

#endif
