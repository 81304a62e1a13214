/* sort.c — sorting unsigned 32-bit keys; see sort.h. */
#include "base/sort.h"

#include <stdlib.h>
#include <string.h>

#define RADIX_BITS 11
#define RADIX_BUCKETS (1u << RADIX_BITS)
#define RADIX_PASSES 3 /* 33 bits >= 32 */
#define SMALL_SORT 48  /* below this, insertion sort is faster */
#define STACK_ITEMS 2048

static int compare_uint32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void insertion_sort(uint32_t *items, size_t count)
{
    for (size_t i = 1; i < count; i++) {
        uint32_t item = items[i];
        size_t j = i;
        for (; j > 0 && items[j - 1] > item; j--)
            items[j] = items[j - 1];
        items[j] = item;
    }
}

/* One stable counting pass on the digit at `shift`, from `from` to `to`. */
static void radix_pass(const uint32_t *from, uint32_t *to, size_t count, unsigned shift)
{
    size_t offsets[RADIX_BUCKETS] = {0};
    for (size_t i = 0; i < count; i++)
        offsets[(from[i] >> shift) & (RADIX_BUCKETS - 1)]++;
    size_t total = 0;
    for (size_t b = 0; b < RADIX_BUCKETS; b++) {
        size_t size = offsets[b];
        offsets[b] = total;
        total += size;
    }
    for (size_t i = 0; i < count; i++)
        to[offsets[(from[i] >> shift) & (RADIX_BUCKETS - 1)]++] = from[i];
}

void sort_uint32(uint32_t *items, size_t count)
{
    if (count < SMALL_SORT) {
        insertion_sort(items, count);
        return;
    }
    uint32_t stack[STACK_ITEMS];
    uint32_t *scratch = count <= STACK_ITEMS ? stack : malloc(count * sizeof *scratch);
    if (!scratch) {
        qsort(items, count, sizeof *items, compare_uint32);
        return;
    }
    /* Three passes: items -> scratch -> items -> scratch; copy back. */
    uint32_t *from = items, *to = scratch;
    for (unsigned pass = 0; pass < RADIX_PASSES; pass++) {
        radix_pass(from, to, count, pass * RADIX_BITS);
        uint32_t *swap = from;
        from = to;
        to = swap;
    }
    if (from != items)
        memcpy(items, from, count * sizeof *items);
    if (scratch != stack)
        free(scratch);
}
