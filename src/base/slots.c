/* slots.c — the open-addressing slot table; see slots.h. */
#include "base/slots.h"

#include <stdlib.h>
#include <string.h>

/* Makes room for one more value, doubling from `initial` slots. The new
 * array is zeroed with memset rather than calloc: probed before it is
 * written, a calloc'd table pays a second page fault per page. Returns 0,
 * or -1 when out of memory (the table is then unchanged). */
int hash_slots_reserve(HashSlots *table, size_t initial)
{
    if ((table->count + 1) * 2 <= table->capacity)
        return 0;
    size_t capacity = table->capacity ? table->capacity * 2 : initial;
    uint64_t *values = malloc(capacity * sizeof *values);
    uint32_t *hashes = malloc(capacity * sizeof *hashes);
    if (!values || !hashes) {
        free(values);
        free(hashes);
        return -1;
    }
    memset(values, 0, capacity * sizeof *values);
    for (size_t i = 0; i < table->capacity; i++) {
        if (!table->values[i])
            continue;
        size_t slot = table->hashes[i] & (capacity - 1);
        while (values[slot])
            slot = (slot + 1) & (capacity - 1);
        values[slot] = table->values[i];
        hashes[slot] = table->hashes[i];
    }
    free(table->values);
    free(table->hashes);
    table->values = values;
    table->hashes = hashes;
    table->capacity = capacity;
    return 0;
}

void hash_slots_free(HashSlots *table)
{
    free(table->values);
    free(table->hashes);
    memset(table, 0, sizeof *table);
}
