/* text_pool.c — writing the sites' text pool and their details while loading; see text_pool.h. */
#include "model/text_pool.h"

#include "base/array.h"
#include "base/text.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

const char *pool_status_message(PoolStatus status)
{
    return status == POOL_TOO_LARGE ? "too much text (the sites' texts pass 4 GB)"
                                    : "out of memory";
}

#define EVERY_BYTE(b) ((uint64_t)(b)*0x0101010101010101ull)

/* Nonzero when some byte of `word` is below `n` (n <= 0x80): exact for
 * "some byte", though not for which one ("Bit Twiddling Hacks"). */
static inline uint64_t some_byte_below(uint64_t word, uint8_t n)
{
    return (word - EVERY_BYTE(n)) & ~word & EVERY_BYTE(0x80);
}

/* 1 when put_string_or_null()'s rules (api.c, json.h) escape no byte: no
 * control byte, '"' or '\\'. Eight bytes at a time: a start checks every
 * text of the pool (packed_sites.c), 64 MB on 1M sites. */
int text_is_plain(const char *text, size_t length)
{
    uint64_t escaped = 0;
    size_t i = 0;
    for (; i + sizeof escaped <= length; i += sizeof escaped) {
        uint64_t word;
        memcpy(&word, text + i, sizeof word);
        escaped |= some_byte_below(word, 0x20) | some_byte_below(word ^ EVERY_BYTE('"'), 1) |
                   some_byte_below(word ^ EVERY_BYTE('\\'), 1);
    }
    int plain = escaped == 0;
    for (; i < length; i++) {
        unsigned char c = (unsigned char)text[i];
        plain &= c >= 0x20 && c != '"' && c != '\\';
    }
    return plain;
}

PoolStatus pool_reserve(TextPool *pool, size_t extra)
{
    if (extra > UINT32_MAX || pool->size > UINT32_MAX - extra)
        return POOL_TOO_LARGE;
    if (array_reserve(pool->bytes, pool->capacity, pool->size + extra, 65536) != 0)
        return POOL_OUT_OF_MEMORY;
    return POOL_OK;
}

/* Appends `text` (header, bytes, NUL; snapshot.h) and sets *ref; 0 for
 * NULL or empty. */
PoolStatus pool_add(TextPool *pool, const char *text, size_t length, TextRef *ref)
{
    *ref = 0;
    if (!text || length == 0)
        return POOL_OK;
    if (length > UINT32_MAX >> 1)
        return POOL_TOO_LARGE;
    size_t header_size = length <= TEXT_SHORT_MAX ? 1 : TEXT_LONG_HEADER_SIZE;
    PoolStatus status = pool_reserve(pool, header_size + length + 1);
    if (status != POOL_OK)
        return status;
    uint32_t header = (uint32_t)length << 1 | (uint32_t)text_is_plain(text, length);
    char *at = pool->bytes + pool->size;
    if (header_size == 1) {
        at[0] = (char)header;
    } else {
        at[0] = at[5] = (char)TEXT_LONG_MARK;
        memcpy(at + 1, &header, sizeof header);
    }
    memcpy(at + header_size, text, length);
    at[header_size + length] = 0;
    *ref = (TextRef)(pool->size + header_size);
    pool->size += header_size + length + 1;
    /* site.h's layout: the header reads back from the byte before the text. */
    assert(*ref > 0 && text_header_at(pool->bytes, *ref) == header);
    assert(pool->bytes[*ref + length] == 0 && pool->size <= UINT32_MAX);
    return POOL_OK;
}

size_t pool_text_length(const TextPool *pool, TextRef ref)
{
    return text_header_at(pool->bytes, ref) >> 1;
}

int pool_text_equals(const TextPool *pool, TextRef ref, const char *text, size_t length)
{
    return pool_text_length(pool, ref) == length && memcmp(pool->bytes + ref, text, length) == 0;
}

PoolStatus pool_intern(PoolInterner *interner, const char *text, size_t length, TextRef *ref)
{
    *ref = 0;
    if (!text || length == 0)
        return POOL_OK;
    HashSlots *table = &interner->table;
    if (hash_slots_reserve(table, 1024) != 0)
        return POOL_OUT_OF_MEMORY;
    uint32_t hash = (uint32_t)hash_fnv1a(HASH_FNV1A_SEED, text, length);
    size_t slot = hash_slots_start(table, hash);
    for (; table->values[slot]; slot = hash_slots_next(table, slot)) {
        if (table->hashes[slot] == hash &&
            pool_text_equals(interner->pool, (TextRef)table->values[slot], text, length)) {
            *ref = (TextRef)table->values[slot];
            return POOL_OK;
        }
    }
    PoolStatus status = pool_add(interner->pool, text, length, ref);
    if (status != POOL_OK)
        return status;
    hash_slots_fill(table, slot, *ref, hash);
    return POOL_OK;
}

void pool_interner_free(PoolInterner *interner)
{
    hash_slots_free(&interner->table);
}

const TextRef *detail_fields(const SiteDetails *details)
{
    return (const TextRef *)details;
}

static uint32_t details_hash(const DetailsTable *table, const SiteDetails *details)
{
    if (!table->by_content)
        return (uint32_t)hash_fnv1a(HASH_FNV1A_SEED, details, sizeof *details);
    uint64_t hash = HASH_FNV1A_SEED;
    for (size_t f = 0; f < DETAIL_FIELD_COUNT; f++) {
        TextRef ref = detail_fields(details)[f];
        const char *text = ref ? table->by_content->bytes + ref : "";
        /* The NUL separates the fields. */
        hash = hash_fnv1a(hash, text, (ref ? pool_text_length(table->by_content, ref) : 0) + 1);
    }
    return (uint32_t)hash;
}

static int details_equal(const DetailsTable *table, const SiteDetails *a, const SiteDetails *b)
{
    if (!table->by_content)
        return memcmp(a, b, sizeof *a) == 0;
    for (size_t f = 0; f < DETAIL_FIELD_COUNT; f++) {
        TextRef x = detail_fields(a)[f], y = detail_fields(b)[f];
        if ((x == 0) != (y == 0))
            return 0;
        if (x && x != y &&
            !pool_text_equals(table->by_content, x, table->by_content->bytes + y,
                              pool_text_length(table->by_content, y)))
            return 0;
    }
    return 1;
}

/* Rebuilds the slots, hashed for the table's current comparison mode, with
 * room for twice the records (at least 256). */
int details_table_rehash(DetailsTable *table)
{
    size_t capacity = 256;
    while (capacity < (table->count + 1) * 4)
        capacity *= 2;
    uint32_t *slots = calloc(capacity, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < table->count; i++) {
        size_t slot = details_hash(table, &table->items[i]) & (capacity - 1);
        while (slots[slot])
            slot = (slot + 1) & (capacity - 1);
        slots[slot] = (uint32_t)i + 1;
    }
    free(table->slots);
    table->slots = slots;
    table->slot_capacity = capacity;
    return 0;
}

/* Sets *index to the stored copy of `details`, adding it when new. */
int details_store(DetailsTable *table, const SiteDetails *details, uint32_t *index)
{
    if ((table->count + 1) * 2 > table->slot_capacity && details_table_rehash(table) != 0)
        return -1;
    size_t mask = table->slot_capacity - 1;
    size_t slot = details_hash(table, details) & mask;
    for (; table->slots[slot]; slot = (slot + 1) & mask) {
        if (details_equal(table, &table->items[table->slots[slot] - 1], details)) {
            *index = table->slots[slot] - 1;
            return 0;
        }
    }
    if (array_reserve(table->items, table->capacity, table->count + 1, 64) != 0)
        return -1;
    table->items[table->count] = *details;
    table->slots[slot] = (uint32_t)table->count + 1;
    *index = (uint32_t)table->count++;
    return 0;
}

void details_table_free(DetailsTable *table)
{
    free(table->items);
    free(table->slots);
    memset(table, 0, sizeof *table);
}
