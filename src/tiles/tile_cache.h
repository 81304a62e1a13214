/* tile_cache.h — an in-memory cache of encoded tiles, least recently used
 * first out, bounded in bytes.
 *
 * Owns: copies of tile bodies keyed by a text key (layer/z/x/y plus the
 * filters that change the tile). Invariants:
 *  - the bytes accounted (keys, bodies and per-entry overhead) never exceed
 *    the bound given to tile_cache_new(): the cache is split into shards by
 *    key hash, each bounded by an equal share and least recently used first
 *    out within itself; an entry larger than a share is not kept;
 *  - thread-safe: one mutex per shard guards its table and recency list;
 *    bodies are copied in and out, so no caller ever holds a pointer into it;
 *  - an entry's gzip variant (gzip_variant()) is made at the first get
 *    that asks for it, outside the lock, and kept with the entry (its bytes
 *    accounted like the body's): once kept, a cached answer is not
 *    compressed again while it stays;
 *  - a cache belongs to one TileSet (one dataset): a reload starts empty. */
#ifndef MAILLAGE_TILE_CACHE_H
#define MAILLAGE_TILE_CACHE_H

#include "base/buffer.h"

#include <stddef.h>
#include <stdint.h>

typedef struct TileCache TileCache;

typedef struct TileCacheStatistics {
    uint64_t hits, misses, evictions;
    uint64_t gzip_made; /* gzip variants made and kept */
    size_t entries, bytes, maximum_bytes;
} TileCacheStatistics;

TileCache *tile_cache_new(size_t maximum_bytes); /* NULL when out of memory */
/* Frees every entry and the cache, once no thread uses it; NULL is a no-op. */
void tile_cache_free(TileCache *cache);
/* On a hit, appends the body to `body`, sets *status and returns 1; returns
 * 0 on a miss (or when `body` could not grow). When `gzip_body` is not
 * NULL (the client accepts gzip), a hit also puts the body's gzip variant
 * in it (emptied first): the entry's, made and kept at the first such get;
 * it stays empty when the body is not worth compressing or memory runs out
 * (the caller then does what it would without the cache). */
int tile_cache_get(TileCache *cache, const char *key, Buffer *body, Buffer *gzip_body, int *status);
/* Stores a copy (replacing an entry of the same key); silently keeps
 * nothing when out of memory or too large. */
void tile_cache_put(TileCache *cache, const char *key, const void *body, size_t length, int status);
/* The counters summed over the shards, each read under its lock (so not one
 * instant across shards); maximum_bytes is the bound given at creation. */
TileCacheStatistics tile_cache_statistics(TileCache *cache);

#endif
