/* tile_cache.c — the byte-bounded LRU tile cache; see tile_cache.h.
 *
 * The cache is split into CACHE_SHARDS independent shards (chosen by the
 * key's hash), each with its own lock, an equal share of the byte bound, a
 * chained hash table and a doubly linked list from most (head) to least
 * (tail) recently used: concurrent requests rarely wait for one another.
 * Eviction pops a shard's tail until the new entry fits. */
#include "tiles/tile_cache.h"
#include "base/text.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_SHARDS 16

typedef struct CacheEntry {
    struct CacheEntry *chain;         /* next in the same bucket */
    struct CacheEntry *newer, *older; /* recency list */
    uint64_t hash;
    size_t key_length, body_length;
    int status;
    char *body;
    char key[]; /* NUL-terminated */
} CacheEntry;

typedef struct CacheShard {
    pthread_mutex_t lock;
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

static void shard_free(CacheShard *shard)
{
    CacheEntry *entry = shard->newest;
    while (entry) {
        CacheEntry *older = entry->older;
        free(entry->body);
        free(entry);
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
    shard->statistics.bytes -= entry_cost(entry->key_length, entry->body_length);
    free(entry->body);
    free(entry);
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

int tile_cache_get(TileCache *cache, const char *key, Buffer *body, int *status)
{
    size_t key_length = strlen(key);
    uint64_t hash = hash_fnv1a(HASH_FNV1A_SEED, key, key_length);
    CacheShard *shard = shard_of(cache, hash);
    int found = 0;
    pthread_mutex_lock(&shard->lock);
    CacheEntry *entry = *find_slot(shard, key, key_length, hash);
    if (entry) {
        list_unlink(shard, entry);
        list_push_newest(shard, entry);
        buffer_append(body, entry->body, entry->body_length);
        *status = entry->status;
        found = !body->failed;
        shard->statistics.hits++;
    } else {
        shard->statistics.misses++;
    }
    pthread_mutex_unlock(&shard->lock);
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
    entry->key_length = key_length;
    entry->body_length = length;
    entry->status = status;
    entry->hash = hash_fnv1a(HASH_FNV1A_SEED, key, key_length);
    entry->newer = entry->older = entry->chain = NULL;

    CacheShard *shard = shard_of(cache, entry->hash);
    pthread_mutex_lock(&shard->lock);
    CacheEntry *existing = *find_slot(shard, key, key_length, entry->hash);
    if (existing)
        remove_entry(shard, existing);
    while (shard->oldest && shard->statistics.bytes + cost > shard->statistics.maximum_bytes) {
        remove_entry(shard, shard->oldest);
        shard->statistics.evictions++;
    }
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
        total.entries += shard->statistics.entries;
        total.bytes += shard->statistics.bytes;
        pthread_mutex_unlock(&shard->lock);
    }
    return total;
}
