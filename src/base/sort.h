/* sort.h — the integer sorts of maillage: unsigned 32-bit keys, and items
 * by 64-bit key.
 *
 * Owns: sort_uint32() and sort_keyed_items(), least significant digit
 * radix sorts (11 bits a pass, skipping a pass whose digit is the same in
 * every key). Written here rather than qsort() because a 1,000-site bbox
 * answer sorts its site indexes on every request (qsort's comparison
 * callback made that 13% of the request's CPU, perf on 1M sites), and the
 * tile layers sort a million points by tile key at load (a few tens of
 * milliseconds, against a quarter of a second for qsort).
 * Invariants: the result is the ascending permutation of the input;
 * sort_keyed_items() is stable (equal keys keep their order). */
#ifndef MAILLAGE_SORT_H
#define MAILLAGE_SORT_H

#include <stddef.h>
#include <stdint.h>

/* Sorts items[0, count) ascending, in place. Out of memory it falls back
 * to qsort(), so it always sorts. */
void sort_uint32(uint32_t *items, size_t count);

typedef struct KeyedItem {
    uint64_t key;
    uint32_t item;
} KeyedItem;

/* Sorts entries[0, count) by key ascending, in place, keeping the order of
 * equal keys. Returns 0, or -1 when out of memory (entries unchanged). */
int sort_keyed_items(KeyedItem *entries, size_t count);

#endif
