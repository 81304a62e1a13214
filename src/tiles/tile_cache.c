/* tile_cache.c — the byte-bounded LRU tile cache; see tile_cache.h.
 *
 * The cache is split into CACHE_SHARDS independent shards (chosen by the
 * key's hash), each with its own lock, an equal share of the byte bound, a
 * chained hash table and a doubly linked list from most (head) to least
 * (tail) recently used: concurrent requests rarely wait for one another.
 * Eviction pops a shard's tail until the new entry fits.
 *
 * A gzip variant is made by the first get that asks for it: the body is
 * copied under the lock, compressed after it, and attached when the lock
 * is taken again, if the entry found under the key has the same serial (a
 * replaced entry has a new one) and no variant yet; room is made by
 * evicting older entries, never the entry itself. Two first gets at once
 * may both compress: the second finds the variant kept and drops its own. */
#include "tiles/tile_cache.h"
#include "base/gzip.h"
#include "base/text.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_SHARDS 16

typedef struct CacheEntry {
    struct CacheEntry *chain;         /* next in the same bucket */
    struct CacheEntry *newer, *older; /* recency list */
    uint64_t hash;
    uint64_t serial; /* its shard's insertion count when it was inserted */
    size_t key_length, body_length, gzip_length;
    int status;
    int gzip_state; /* GZIP_UNKNOWN, GZIP_KEPT (gzip holds it) or GZIP_NONE */
    char *body;
    char *gzip; /* NULL unless GZIP_KEPT */
    char key[]; /* NUL-terminated */
} CacheEntry;

enum { GZIP_UNKNOWN, GZIP_KEPT, GZIP_NONE };

typedef struct CacheShard {
    pthread_mutex_t lock;
    uint64_t inserted; /* entries inserted so far: the next serial */
    CacheEntry **buckets;
    size_t bucket_count; /* a power of two */
    CacheEntry *newest, *oldest;
    TileCacheStatistics statistics; /* maximum_bytes: this shard's share */
} CacheShard;

struct TileCache {
    CacheShard shards[CACHE_SHARDS];
    size_t maximum_bytes;
};

static size_t entry_cost(size_t key_length, size_t body_length)
{
    return sizeof(CacheEntry) + key_length + 1 + body_length + sizeof(CacheEntry *);
}

/* What the entry holds now, its gzip variant included. */
static size_t held_bytes(const CacheEntry *entry)
{
    return entry_cost(entry->key_length, entry->body_length) + entry->gzip_length;
}

static void entry_free(CacheEntry *entry)
{
    free(entry->gzip);
    free(entry->body);
    free(entry);
}

static void shard_free(CacheShard *shard)
{
    CacheEntry *entry = shard->newest;
    while (entry) {
        CacheEntry *older = entry->older;
        entry_free(entry);
        entry = older;
    }
    free(shard->buckets);
    pthread_mutex_destroy(&shard->lock);
}

TileCache *tile_cache_new(size_t maximum_bytes)
{
    TileCache *cache = calloc(1, sizeof *cache);
    if (!cache)
        return NULL;
    cache->maximum_bytes = maximum_bytes;
    for (int i = 0; i < CACHE_SHARDS; i++) {
        CacheShard *shard = &cache->shards[i];
        shard->bucket_count = 64;
        shard->buckets = calloc(shard->bucket_count, sizeof *shard->buckets);
        if (!shard->buckets || pthread_mutex_init(&shard->lock, NULL) != 0) {
            free(shard->buckets);
            for (int j = 0; j < i; j++)
                shard_free(&cache->shards[j]);
            free(cache);
            return NULL;
        }
        shard->statistics.maximum_bytes = maximum_bytes / CACHE_SHARDS;
    }
    return cache;
}

void tile_cache_free(TileCache *cache)
{
    if (!cache)
        return;
    for (int i = 0; i < CACHE_SHARDS; i++)
        shard_free(&cache->shards[i]);
    free(cache);
}

static CacheShard *shard_of(TileCache *cache, uint64_t hash)
{
    return &cache->shards[(hash >> 56) % CACHE_SHARDS];
}

static CacheEntry **find_slot(CacheShard *shard, const char *key, size_t key_length, uint64_t hash)
{
    CacheEntry **slot = &shard->buckets[hash & (shard->bucket_count - 1)];
    while (*slot && ((*slot)->hash != hash || (*slot)->key_length != key_length ||
                     memcmp((*slot)->key, key, key_length) != 0))
        slot = &(*slot)->chain;
    return slot;
}

static void list_unlink(CacheShard *shard, CacheEntry *entry)
{
    if (entry->newer)
        entry->newer->older = entry->older;
    else
        shard->newest = entry->older;
    if (entry->older)
        entry->older->newer = entry->newer;
    else
        shard->oldest = entry->newer;
    entry->newer = entry->older = NULL;
}

static void list_push_newest(CacheShard *shard, CacheEntry *entry)
{
    entry->older = shard->newest;
    entry->newer = NULL;
    if (shard->newest)
        shard->newest->newer = entry;
    shard->newest = entry;
    if (!shard->oldest)
        shard->oldest = entry;
}

static void remove_entry(CacheShard *shard, CacheEntry *entry)
{
    CacheEntry **slot = find_slot(shard, entry->key, entry->key_length, entry->hash);
    *slot = entry->chain;
    list_unlink(shard, entry);
    shard->statistics.entries--;
    shard->statistics.bytes -= held_bytes(entry);
    entry_free(entry);
}

/* Evicts the least recently used entries other than `keep` until `extra`
 * more bytes fit in the shard; returns 1 when they fit. */
static int make_room(CacheShard *shard, size_t extra, const CacheEntry *keep)
{
    while (shard->statistics.bytes + extra > shard->statistics.maximum_bytes) {
        CacheEntry *victim = shard->oldest;
        if (victim == keep)
            victim = victim ? victim->newer : NULL;
        if (!victim)
            return 0;
        remove_entry(shard, victim);
        shard->statistics.evictions++;
    }
    return 1;
}

/* Doubles the bucket array when the load passes 1; keeps the old one when
 * out of memory (chains just get longer). */
static void maybe_grow(CacheShard *shard)
{
    if (shard->statistics.entries < shard->bucket_count)
        return;
    size_t bucket_count = shard->bucket_count * 2;
    CacheEntry **buckets = calloc(bucket_count, sizeof *buckets);
    if (!buckets)
        return;
    for (size_t i = 0; i < shard->bucket_count; i++) {
        CacheEntry *entry = shard->buckets[i];
        while (entry) {
            CacheEntry *next = entry->chain;
            CacheEntry **slot = &buckets[entry->hash & (bucket_count - 1)];
            entry->chain = *slot;
            *slot = entry;
            entry = next;
        }
    }
    free(shard->buckets);
    shard->buckets = buckets;
    shard->bucket_count = bucket_count;
}

/* Records the outcome `made` of gzip_variant() (1: `variant` holds the
 * encoding, 0: not worth it, -1: out of memory) for the entry of `key` that
 * had `serial`, if it is still there and has none: attaches a copy of the
 * variant when the shard can make room, remembers that none is worth it,
 * and leaves the entry unknown otherwise (a later get tries again). Takes
 * the lock. */
static void keep_variant(CacheShard *shard, const char *key, size_t key_length, uint64_t hash,
                         uint64_t serial, int made, const Buffer *variant)
{
    if (made < 0)
        return;
    char *copy = made ? malloc(variant->length) : NULL;
    if (copy)
        memcpy(copy, variant->data, variant->length);
    pthread_mutex_lock(&shard->lock);
    CacheEntry *entry = *find_slot(shard, key, key_length, hash);
    if (entry && entry->serial == serial && entry->gzip_state == GZIP_UNKNOWN) {
        if (!made) {
            entry->gzip_state = GZIP_NONE;
        } else if (copy && make_room(shard, variant->length, entry)) {
            entry->gzip = copy;
            entry->gzip_length = variant->length;
            entry->gzip_state = GZIP_KEPT;
            shard->statistics.bytes += variant->length;
            shard->statistics.gzip_made++;
            copy = NULL;
        }
    }
    pthread_mutex_unlock(&shard->lock);
    free(copy);
}

int tile_cache_get(TileCache *cache, const char *key, Buffer *body, Buffer *gzip_body, int *status)
{
    size_t key_length = strlen(key);
    uint64_t hash = hash_fnv1a(HASH_FNV1A_SEED, key, key_length);
    CacheShard *shard = shard_of(cache, hash);
    int found = 0, make_variant = 0;
    uint64_t serial = 0;
    size_t body_start = body->length;
    pthread_mutex_lock(&shard->lock);
    CacheEntry *entry = *find_slot(shard, key, key_length, hash);
    if (entry) {
        list_unlink(shard, entry);
        list_push_newest(shard, entry);
        buffer_append(body, entry->body, entry->body_length);
        if (gzip_body && entry->gzip_state == GZIP_KEPT) {
            buffer_reset(gzip_body);
            buffer_append(gzip_body, entry->gzip, entry->gzip_length);
            if (gzip_body->failed) /* the caller compresses, as without a variant */
                buffer_reset(gzip_body);
        }
        make_variant = gzip_body && entry->gzip_state == GZIP_UNKNOWN;
        serial = entry->serial;
        *status = entry->status;
        found = !body->failed;
        shard->statistics.hits++;
    } else {
        shard->statistics.misses++;
    }
    pthread_mutex_unlock(&shard->lock);
    if (found && make_variant) {
        int made = gzip_variant(body->data + body_start, body->length - body_start, gzip_body);
        keep_variant(shard, key, key_length, hash, serial, made, gzip_body);
    }
    return found;
}

void tile_cache_put(TileCache *cache, const char *key, const void *body, size_t length, int status)
{
    size_t key_length = strlen(key);
    size_t cost = entry_cost(key_length, length);
    if (cost > cache->maximum_bytes / CACHE_SHARDS)
        return;
    CacheEntry *entry = malloc(sizeof *entry + key_length + 1);
    char *copy = malloc(length ? length : 1);
    if (!entry || !copy) {
        free(entry);
        free(copy);
        return;
    }
    memcpy(entry->key, key, key_length + 1);
    if (length)
        memcpy(copy, body, length);
    entry->body = copy;
    entry->gzip = NULL;
    entry->key_length = key_length;
    entry->body_length = length;
    entry->gzip_length = 0;
    entry->gzip_state = GZIP_UNKNOWN;
    entry->status = status;
    entry->hash = hash_fnv1a(HASH_FNV1A_SEED, key, key_length);
    entry->newer = entry->older = entry->chain = NULL;

    CacheShard *shard = shard_of(cache, entry->hash);
    pthread_mutex_lock(&shard->lock);
    CacheEntry *existing = *find_slot(shard, key, key_length, entry->hash);
    if (existing)
        remove_entry(shard, existing);
    int fits = make_room(shard, cost, NULL);
    assert(fits); /* cost is at most the shard's share, checked above */
    (void)fits;
    entry->serial = shard->inserted++;
    maybe_grow(shard);
    CacheEntry **slot = &shard->buckets[entry->hash & (shard->bucket_count - 1)];
    entry->chain = *slot;
    *slot = entry;
    list_push_newest(shard, entry);
    shard->statistics.entries++;
    shard->statistics.bytes += cost;
    pthread_mutex_unlock(&shard->lock);
}

TileCacheStatistics tile_cache_statistics(TileCache *cache)
{
    TileCacheStatistics total;
    memset(&total, 0, sizeof total);
    total.maximum_bytes = cache->maximum_bytes;
    for (int i = 0; i < CACHE_SHARDS; i++) {
        CacheShard *shard = &cache->shards[i];
        pthread_mutex_lock(&shard->lock);
        total.hits += shard->statistics.hits;
        total.misses += shard->statistics.misses;
        total.evictions += shard->statistics.evictions;
        total.gzip_made += shard->statistics.gzip_made;
        total.entries += shard->statistics.entries;
        total.bytes += shard->statistics.bytes;
        pthread_mutex_unlock(&shard->lock);
    }
    return total;
}
