/* sort.h — sorting unsigned 32-bit keys, the one integer sort of maillage.
 *
 * Owns: sort_uint32(), an LSD radix sort (three passes of 11 bits). Written
 * here rather than qsort() because a 1,000-site bbox answer sorts its site
 * indexes on every request, and qsort's comparison callback made that 13%
 * of the request's CPU (perf, 1M sites).
 * Invariants: the result is the ascending permutation of the input (equal
 * keys are indistinguishable); out of memory, it falls back to qsort, so it
 * always sorts. */
#ifndef MAILLAGE_SORT_H
#define MAILLAGE_SORT_H

#include <stddef.h>
#include <stdint.h>

/* Sorts items[0, count) ascending, in place. */
void sort_uint32(uint32_t *items, size_t count);

#endif
