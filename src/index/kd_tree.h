/* kd_tree.h — the trees of the spatial index (internal to index/).
 *
 * Owns: the layout shared by the files of the spatial index: k-d nodes,
 * tree points, covering trees and the SpatialIndex itself, and the calls
 * between kd_tree.c (building), covering_trees.c, nearest.c and
 * box_query.c. Nothing outside index/ includes it but its unit test; the design and the
 * invariants are in spatial_index.h. */
#ifndef MAILLAGE_KD_TREE_H
#define MAILLAGE_KD_TREE_H

#include "base/byte_budget.h"
#include "base/epochs.h"
#include "index/spatial_index.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define LEAF_SIZE 32
#define NO_NODE UINT32_MAX
/* Chord bounds are compared with geodesic distances with this much room (in
 * metres) for rounding; PROJ's geodesic is accurate to 15 nm. */
#define BOUND_SLACK_M 1e-3
/* Tree points keep their ECEF position in floats: every coordinate is below
 * 2^23 m in magnitude, so rounding moves it by at most 0.25 m and the point
 * by at most 0.44 m; a chord computed from the floats, minus this, stays a
 * strict lower bound of the true chord (hence of the geodesic distance). */
#define POINT_SLACK_M 1.0

/* 40 bytes. An ECEF node's box is the float extent of its float points
 * (so a distance to it, minus POINT_SLACK_M, is a lower bound for the true
 * positions); a (lon, lat) node's box is its float extent widened by one
 * unit in the last place, so it contains the sites' double coordinates. */
typedef struct KdNode {
    float low[3], high[3];
    uint32_t begin, end; /* range of the tree's point array */
    uint32_t right;      /* right child; 0 for a leaf (the left child is this + 1) */
    uint16_t role_mask;
    uint8_t audience_mask;
} KdNode;

/* 16 bytes: a point of an ECEF tree, stored in tree order so that a leaf's
 * points are read sequentially. */
typedef struct TreePoint {
    float position[3]; /* ECEF, rounded to nearest (see POINT_SLACK_M) */
    uint32_t site;
} TreePoint;

/* A condition's covering tree: one ECEF tree over the distinct sites that
 * cover it, built on demand (see covering_trees.c). Its points and nodes
 * are immutable once published; `referenced` is CLOCK's use bit. */
typedef struct CoveringTree {
    TreePoint *points;
    KdNode *nodes;
    uint32_t root;
    uint32_t count;            /* points: the condition's covering sites, each once */
    size_t bytes;              /* what it holds, charged against the cache budget */
    atomic_bool referenced;    /* set by a query that used it, cleared by the clock hand */
    uint64_t retired_epoch;    /* once evicted: the epoch it was unlinked in */
    struct CoveringTree *next; /* once evicted: the next tree waiting to be freed */
} CoveringTree;

struct SpatialIndex {
    /* ECEF trees: points [0, site_count) are the tree over all sites, then
     * each condition's listing sites at site_count + code_offsets[c]. */
    TreePoint *points;
    KdNode *nodes;
    uint32_t all_root;
    uint32_t *code_offsets; /* condition_count + 1 entries */
    uint32_t *code_root;    /* per condition: root node or NO_NODE */
    /* (lon, lat) tree over all sites. */
    uint32_t *box_points;
    KdNode *box_nodes;
    uint32_t box_root;
    /* The covering-tree cache: the only part that changes after building
     * (covering_trees.c). Readers load slots lock-free between
     * epoch_read_begin() and epoch_read_end(); covering_bytes counts every
     * tree published or waiting to be freed, and never passes the budget. */
    _Atomic(CoveringTree *) *covering; /* per condition */
    _Atomic uint8_t *uses;             /* per condition: recent queries (saturating) */
    atomic_size_t use_count;           /* uses since the counters were last halved */
    ByteBudget covering_bytes; /* trees published, being built, or retired and not yet freed */
    /* Room the clock hand made for one newcomer (a hint: the room comes
     * back only once the evicted trees' readers are gone, and should then
     * go to the tree it was made for, not to the first query that finds
     * it free). NO_RESERVATION: none. */
    _Atomic uint32_t reserved_for;
    atomic_size_t reserved_bytes;
    atomic_size_t trees_built;   /* published since the index was built (/metrics) */
    atomic_size_t trees_evicted; /* unlinked by the clock hand since then */
    atomic_bool covering_filled; /* the budget has been full once: admission by uses */
    EpochReaders readers;
    pthread_mutex_t evict_lock; /* one evictor at a time; never taken by a reader */
    int evict_lock_ready;
    size_t clock_hand;           /* under evict_lock: the next slot the hand looks at */
    CoveringTree *retired;       /* under evict_lock: unlinked, waiting for their readers */
    SpatialIndexOptions options; /* as given to spatial_index_build() */
    size_t condition_count;      /* slots in `covering` to free */
};

typedef struct SiteBits {
    uint16_t *role;    /* per site: 1 << role */
    uint8_t *audience; /* per site: 1 << audience */
} SiteBits;

typedef struct PointBuilder {
    TreePoint *points;
    SiteBits bits; /* NULL arrays: read the roles and audiences from `sites` */
    const Site *sites;
    KdNode *nodes;
    uint32_t next_node;
    int dimensions;     /* 3 (ECEF) or 2 (lon, lat) */
    uint32_t *site_out; /* the (lon, lat) tree's box_points; NULL for ECEF */
    int keep_order;     /* 1: the points are already in tree order (a stored
                         * order, tree_order.c): no median selection */
} PointBuilder;

/* 1 when every site under the node passes `filter` (never with a filière:
 * nodes do not know their sites' filières). */
static inline int node_all_pass(const KdNode *node, const SiteFilter *filter)
{
    return !filter->filiere && (node->role_mask & ~filter->role_mask) == 0 &&
           (node->audience_mask & ~filter->audience_mask) == 0;
}

/* 0 when no site under the node can pass `filter`. */
static inline int node_may_match(const KdNode *node, const SiteFilter *filter)
{
    return (node->role_mask & filter->role_mask) && (node->audience_mask & filter->audience_mask);
}

/* Nodes of a tree over `count` points (leaves of up to LEAF_SIZE). */
size_t node_count_for(size_t count);
/* Builds the ECEF tree over points [begin, begin + count) of the builder's
 * array (reordered in place) and returns its root, NO_NODE when empty. */
uint32_t build_point_tree(PointBuilder *builder, uint32_t begin, uint32_t count);
/* The points of the tree of the sites that list `condition`'s own code
 * (not through a group), in no particular order; *count gets their number. */
const TreePoint *listing_points(const SpatialIndex *index, const Snapshot *snapshot,
                                const Condition *condition, size_t *count);
/* The stored tree order (tree_order.c). Checks `bytes` against the index
 * whose points are filled in site order (fill_points: the whole range,
 * then each condition's listing sites): NULL when its header matches and
 * every segment is a permutation of its tree's sites, else the reason (a
 * static text). */
const char *tree_order_check(const SpatialIndex *index, const Snapshot *snapshot, const void *bytes,
                             size_t size);
/* Puts the whole tree's and the per-code trees' points in the checked
 * order `bytes`; *box_order gets the (lon, lat) tree's order (inside
 * `bytes`). Returns 0, or -1 when out of memory (the points then unchanged). */
int tree_order_apply(SpatialIndex *index, const Snapshot *snapshot, const void *bytes,
                     const uint32_t **box_order);

/* Most covering trees one query searches besides the listing trees. */
#define COVER_MAX_TREES 8
/* Longest ancestor list a query covers with its ancestors' trees (longer
 * ones search the listing trees). */
#define COVER_MAX_ANCESTORS 256
/* Most trees (covering and listing) a cover through the ancestors' covering
 * trees may leave a query to search, once the cache is full, before the
 * condition's own tree is worth building (covering_trees.c). */
#define COVER_GOOD_TREES 4

/* What a query for a condition searches besides listing trees. */
typedef struct CoveringPlan {
    const CoveringTree *trees[COVER_MAX_TREES];
    size_t tree_count;
    int whole; /* 1: trees[0] is the condition's own tree, holding every covering site */
    /* When !whole, for the first COVER_MAX_ANCESTORS entries of the
     * condition's ancestor list: 1 when trees[] hold that ancestor's
     * listing (never the condition's own, entry 0). */
    uint8_t covered[COVER_MAX_ANCESTORS];
} CoveringPlan;

/* The covering trees a query for `condition` searches (covering_trees.c):
 * its own tree when held, or built now if worth its room; otherwise its
 * ancestors' trees that hold some of its ancestors' listings (the caller
 * searches the listing trees of the others). Counts a use of the condition
 * for the cache's policy. With covering trees off or `reader` -1 the plan
 * is empty. `reader` is the query's epoch_read_begin() slot on
 * index->readers: the trees stay valid until epoch_read_end(). Never fails:
 * without memory a plan holds fewer trees. */
void covering_plan(const SpatialIndex *index, const Snapshot *snapshot, const Condition *condition,
                   int reader, CoveringPlan *plan);
/* 1 when a query with `plan` (not whole) searches the listing tree of entry
 * `a` of its condition's ancestor list, condition index `listed`: it has
 * one and the plan's trees do not hold it. */
static inline int plan_leaves_listing(const SpatialIndex *index, const CoveringPlan *plan,
                                      uint32_t a, uint32_t listed)
{
    return index->code_root[listed] != NO_NODE && !(a < COVER_MAX_ANCESTORS && plan->covered[a]);
}
/* The cover part of covering_plan(), exposed for the tests: covering trees
 * of `condition`'s ancestors (held now, or built now for its parents if
 * worth their room) that hold the listings of some of its ancestors, at
 * most `max_trees` into `trees`, and covered[a] = 1 for each entry `a` of
 * the condition's ancestor list whose listing one of them holds (0 for the
 * others, always for the condition itself). `covered` has room for
 * condition->ancestor_count entries. Returns the number of trees (0 when
 * covering trees are off or `reader` is -1). */
size_t covering_cover(const SpatialIndex *index, const Snapshot *snapshot,
                      const Condition *condition, int reader, const CoveringTree **trees,
                      size_t max_trees, uint8_t *covered);
/* Prepares the cache of an index with `condition_count` slots. Returns 0,
 * or -1 when out of memory (covering_cache_free() is then harmless). */
int covering_cache_init(SpatialIndex *index, size_t condition_count);
/* Frees every tree, published or retired, and the cache's own memory; no
 * query may be running. */
void covering_cache_free(SpatialIndex *index);

#endif
