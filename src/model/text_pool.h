/* text_pool.h — building the text pool and the SiteDetails table of a snapshot.
 *
 * Owns: the writers of the pool layout described in site.h (TextRef):
 * appending a text with its header, interning texts that repeat, and the
 * table that stores each distinct SiteDetails record once. Used by the
 * model's loaders (site_reader.c, snapshot.c); the server only reads the
 * finished pool through snapshot.h. Invariants:
 *  - a pool holds nothing but text records end to end from offset 0; ref 0
 *    is "absent" and never a text (a header precedes every text);
 *  - a pool stays below UINT32_MAX bytes: a write that would pass it fails
 *    with POOL_TOO_LARGE and leaves the pool unchanged;
 *  - an interner returns one ref per distinct text of its pool;
 *  - a DetailsTable compares records by their refs (the texts of one pool
 *    are interned, so equal texts have equal refs) or, when `by_content` is
 *    set (merging two readers' pools), by the texts themselves. */
#ifndef MAILLAGE_TEXT_POOL_H
#define MAILLAGE_TEXT_POOL_H

#include "base/slots.h"
#include "model/site.h"

#include <stddef.h>
#include <stdint.h>

typedef struct TextPool {
    char *bytes;
    size_t size, capacity;
} TextPool;

typedef enum PoolStatus { POOL_OK, POOL_OUT_OF_MEMORY, POOL_TOO_LARGE } PoolStatus;

/* Stores each distinct text of a pool once. */
typedef struct PoolInterner {
    TextPool *pool;
    HashSlots table; /* values: the texts' refs */
} PoolInterner;

#define DETAIL_FIELD_COUNT (sizeof(SiteDetails) / sizeof(TextRef))

typedef struct DetailsTable {
    SiteDetails *items;
    size_t count, capacity;
    uint32_t *slots; /* item index + 1; 0 = free */
    size_t slot_capacity;
    const TextPool *by_content; /* compare texts in this pool; NULL: compare refs */
} DetailsTable;

/* 1 when no byte of the text needs a JSON escape (no '"', '\\' nor
 * byte < 0x20): the header's `plain` bit. */
int text_is_plain(const char *text, size_t length);
/* The fields of a SiteDetails record as an array of DETAIL_FIELD_COUNT refs. */
const TextRef *detail_fields(const SiteDetails *details);

/* The message for a failed pool write. */
const char *pool_status_message(PoolStatus status);
/* Makes room for `extra` more bytes (doubling from 64 KB). Returns POOL_OK,
 * or POOL_TOO_LARGE / POOL_OUT_OF_MEMORY with the pool unchanged. */
PoolStatus pool_reserve(TextPool *pool, size_t extra);
/* Appends `text` (header, bytes, NUL) and sets *ref; *ref = 0 and POOL_OK
 * for NULL or empty text. On failure *ref is 0 and the pool unchanged. */
PoolStatus pool_add(TextPool *pool, const char *text, size_t length, TextRef *ref);
/* The length in bytes of the text at `ref` (not 0). */
size_t pool_text_length(const TextPool *pool, TextRef ref);
/* 1 when the text at `ref` (not 0) is the `length` bytes of `text`, else 0. */
int pool_text_equals(const TextPool *pool, TextRef ref, const char *text, size_t length);
/* pool_add() for a text not stored yet, else *ref to the stored one; on
 * failure *ref is 0 and the pool unchanged. */
PoolStatus pool_intern(PoolInterner *interner, const char *text, size_t length, TextRef *ref);
void pool_interner_free(PoolInterner *interner); /* the table only; the pool stays */

/* Rebuilds the slots for the table's comparison mode (call after setting
 * `by_content`). Returns 0, or -1 when out of memory. */
int details_table_rehash(DetailsTable *table);
/* Sets *index to the stored copy of `details`, adding it when new.
 * Returns 0, or -1 when out of memory. */
int details_store(DetailsTable *table, const SiteDetails *details, uint32_t *index);
/* Frees the records and slots and zeroes the table (not `by_content`'s pool). */
void details_table_free(DetailsTable *table);

#endif
