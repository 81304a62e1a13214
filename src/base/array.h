/* array.h — the one growable array of maillage: overflow-checked doubling.
 *
 * Owns: growing a malloc'd array of fixed-size items. Every array that
 * grows while it is filled uses it:
 *
 *     Item *items = NULL; size_t count = 0, capacity = 0;
 *     if (array_reserve(items, capacity, count + 1, 64) != 0) return FAILED;
 *     items[count++] = item;
 *     ...
 *     free(items);
 *
 * Invariants: on success capacity >= needed and the first `capacity` items
 * are allocated (the old items kept, the new ones uninitialised); on
 * failure (out of memory, or a size that would overflow size_t) nothing
 * changes: the caller still owns the old array and frees it. Capacity
 * doubles from `initial` (at least 1), so n appends cost O(n). */
#ifndef MAILLAGE_ARRAY_H
#define MAILLAGE_ARRAY_H

#include <stddef.h>

/* Grows the array whose pointer is at `items_pointer` (a T **, passed as
 * void *) to hold at least `needed` items of `item_size` bytes. Returns 0,
 * or -1 with nothing changed. Use array_reserve(). */
int array_reserve_items(void *items_pointer, size_t item_size, size_t *capacity, size_t needed,
                        size_t initial);

/* Makes room for `needed` items in `items` (an lvalue T *) of `capacity`
 * (an lvalue size_t). Returns 0, or -1 with nothing changed. */
#define array_reserve(items, capacity, needed, initial)                                            \
    ((size_t)(needed) <= (capacity)                                                                \
         ? 0                                                                                       \
         : array_reserve_items(&(items), sizeof *(items), &(capacity), (needed), (initial)))

#endif
