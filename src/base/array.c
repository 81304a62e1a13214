/* array.c — growing arrays; see array.h. */
#include "base/array.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int array_reserve_items(void *items_pointer, size_t item_size, size_t *capacity, size_t needed,
                        size_t initial)
{
    assert(item_size > 0);
    if (needed <= *capacity)
        return 0;
    size_t grown = *capacity ? *capacity : (initial ? initial : 1);
    while (grown < needed) {
        if (grown > SIZE_MAX / 2)
            return -1;
        grown *= 2;
    }
    if (grown > SIZE_MAX / item_size)
        return -1;
    void *items;
    memcpy(&items, items_pointer, sizeof items);
    void *resized = realloc(items, grown * item_size);
    if (!resized)
        return -1;
    memcpy(items_pointer, &resized, sizeof resized);
    *capacity = grown;
    return 0;
}
