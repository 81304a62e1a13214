/* sort.c — the integer sorts; see sort.h. */
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

/* Turns `counts` (of `count` keys per digit) into each digit's first
 * position; returns 0, leaving them, when one digit holds every key (a
 * pass on it would move nothing). */
static int counts_to_offsets(size_t *counts, size_t count)
{
    size_t total = 0;
    for (size_t digit = 0; digit < RADIX_BUCKETS; digit++) {
        size_t size = counts[digit];
        if (size == count)
            return 0;
        counts[digit] = total;
        total += size;
    }
    return 1;
}

/* One stable counting pass on the digit at `shift`, from `from` to `to`
 * (`count` items), with room for the counts in `counts`; returns 0 when
 * it was skipped (`to` untouched). */
typedef int RadixPass(const void *from, void *to, size_t count, unsigned shift, size_t *counts);

static int uint32_pass(const void *from_items, void *to_items, size_t count, unsigned shift,
                       size_t *counts)
{
    const uint32_t *from = from_items;
    uint32_t *to = to_items;
    memset(counts, 0, RADIX_BUCKETS * sizeof *counts);
    for (size_t i = 0; i < count; i++)
        counts[(from[i] >> shift) & (RADIX_BUCKETS - 1)]++;
    if (!counts_to_offsets(counts, count))
        return 0;
    for (size_t i = 0; i < count; i++)
        to[counts[(from[i] >> shift) & (RADIX_BUCKETS - 1)]++] = from[i];
    return 1;
}

static int keyed_pass(const void *from_items, void *to_items, size_t count, unsigned shift,
                      size_t *counts)
{
    const KeyedItem *from = from_items;
    KeyedItem *to = to_items;
    memset(counts, 0, RADIX_BUCKETS * sizeof *counts);
    for (size_t i = 0; i < count; i++)
        counts[(from[i].key >> shift) & (RADIX_BUCKETS - 1)]++;
    if (!counts_to_offsets(counts, count))
        return 0;
    for (size_t i = 0; i < count; i++)
        to[counts[(from[i].key >> shift) & (RADIX_BUCKETS - 1)]++] = from[i];
    return 1;
}

/* Sorts `count` items of `size` bytes by `passes` digits, least
 * significant first, between `items` and `scratch` (as large), ending in
 * `items`. */
static void radix_sort(void *items, void *scratch, size_t count, size_t size, unsigned passes,
                       RadixPass *pass, size_t *counts)
{
    void *from = items, *to = scratch;
    for (unsigned digit = 0; digit < passes; digit++) {
        if (!pass(from, to, count, digit * RADIX_BITS, counts))
            continue;
        void *swap = from;
        from = to;
        to = swap;
    }
    if (from != items)
        memcpy(items, from, count * size);
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
    size_t counts[RADIX_BUCKETS];
    radix_sort(items, scratch, count, sizeof *items, RADIX_PASSES, uint32_pass, counts);
    if (scratch != stack)
        free(scratch);
}

int sort_keyed_items(KeyedItem *entries, size_t count)
{
    if (count < 2)
        return 0;
    KeyedItem *spare = malloc(count * sizeof *spare);
    size_t *counts = malloc(RADIX_BUCKETS * sizeof *counts);
    if (!spare || !counts) {
        free(spare);
        free(counts);
        return -1;
    }
    radix_sort(entries, spare, count, sizeof *entries, (64 + RADIX_BITS - 1) / RADIX_BITS,
               keyed_pass, counts);
    free(spare);
    free(counts);
    return 0;
}
