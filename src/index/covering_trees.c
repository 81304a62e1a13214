/* covering_trees.c — the spatial index's cache of covering trees; see
 * spatial_index.h and the section comment below. */
#include "index/kd_tree.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* --- Covering trees -----------------------------------------------------
 *
 * A query for condition D searches the trees of all D's ancestors that
 * some site lists (about 15 for the benchmark's codes); each costs a
 * descent and a leaf scan, most of the query's time. A covering tree holds
 * the distinct sites of all those trees in one tree, so the same query
 * descends once. One for every condition would cost about 23 million
 * points (370 MB) on a 1M-site network, so they are built on demand, at a
 * condition's first query, while their total size stays within the budget
 * (SpatialIndexOptions.cache_budget when the index was built; `serve
 * --nearest-cache-mb`); past it, queries search the ancestor trees as
 * before. Answers are identical either way (the tests run both). A tree is
 * built outside any lock and published with a compare-and-swap: two
 * threads may build the same tree at once, the loser frees its copy and
 * gives its bytes back. */

static size_t covering_tree_bytes(size_t count)
{
    return sizeof(CoveringTree) + count * sizeof(TreePoint) +
           (count ? node_count_for(count) : 0) * sizeof(KdNode);
}

/* Takes `bytes` from the budget; returns 0 when they do not fit. */
static int budget_take(SpatialIndex *index, size_t bytes)
{
    size_t used = atomic_load_explicit(&index->covering_bytes, memory_order_relaxed);
    do {
        if (used > index->covering_budget || bytes > index->covering_budget - used)
            return 0;
    } while (!atomic_compare_exchange_weak_explicit(&index->covering_bytes, &used, used + bytes,
                                                    memory_order_relaxed, memory_order_relaxed));
    return 1;
}

static void budget_give_back(SpatialIndex *index, size_t bytes)
{
    atomic_fetch_sub_explicit(&index->covering_bytes, bytes, memory_order_relaxed);
}

/* How many of `condition`'s ancestors have a listing tree; *listed gets
 * their total number of points (a site listing two of them counts twice). */
static size_t ancestor_trees(const SpatialIndex *index, const Snapshot *snapshot,
                             const Condition *condition, size_t *listed)
{
    const AncestorEntry *ancestors = snapshot->ancestors + condition->ancestors_start;
    size_t trees = 0;
    *listed = 0;
    for (uint32_t a = 0; a < condition->ancestor_count; a++) {
        uint32_t c = ancestors[a].condition;
        if (index->code_root[c] != NO_NODE) {
            trees++;
            *listed += index->code_offsets[c + 1] - index->code_offsets[c];
        }
    }
    return trees;
}

/* Copies the ancestors' listing points into `points` (room for `listed`),
 * each site once; returns how many were kept, or 0 when out of memory. */
static size_t gather_covering_points(const SpatialIndex *index, const Snapshot *snapshot,
                                     const Condition *condition, size_t listed, TreePoint *points)
{
    size_t capacity = 16;
    while (capacity < 2 * listed)
        capacity *= 2;
    uint32_t *seen = calloc(capacity, sizeof *seen); /* site index + 1; 0: empty */
    if (!seen)
        return 0;
    const AncestorEntry *ancestors = snapshot->ancestors + condition->ancestors_start;
    size_t kept = 0;
    for (uint32_t a = 0; a < condition->ancestor_count; a++) {
        size_t count;
        const TreePoint *source =
            listing_points(index, snapshot, &snapshot->conditions[ancestors[a].condition], &count);
        for (size_t i = 0; i < count; i++) {
            uint32_t value = source[i].site + 1;
            size_t slot = (value * 2654435761u) & (capacity - 1);
            while (seen[slot] && seen[slot] != value)
                slot = (slot + 1) & (capacity - 1);
            if (seen[slot])
                continue;
            seen[slot] = value;
            points[kept++] = source[i];
        }
    }
    free(seen);
    return kept;
}

/* Builds and publishes the covering tree of condition `c` whose ancestor
 * trees hold `listed` points; returns the published tree, or NULL when the
 * budget or the memory is short. */
static const CoveringTree *covering_tree_build(SpatialIndex *index, const Snapshot *snapshot,
                                               const Condition *condition, uint32_t c,
                                               size_t listed)
{
    size_t charged = covering_tree_bytes(listed);
    if (!budget_take(index, charged))
        return NULL;
    CoveringTree *tree = calloc(1, sizeof *tree);
    TreePoint *points = malloc(listed * sizeof *points);
    size_t count =
        tree && points ? gather_covering_points(index, snapshot, condition, listed, points) : 0;
    KdNode *nodes = count ? malloc(node_count_for(count) * sizeof *nodes) : NULL;
    if (!nodes) {
        free(tree);
        free(points);
        budget_give_back(index, charged);
        return NULL;
    }
    PointBuilder builder = {points, {NULL, NULL}, snapshot->sites, nodes, 0, 3, NULL};
    *tree = (CoveringTree){points, nodes, build_point_tree(&builder, 0, (uint32_t)count),
                           (uint32_t)count, covering_tree_bytes(count)};
    budget_give_back(index, charged - tree->bytes);
    CoveringTree *expected = NULL;
    if (atomic_compare_exchange_strong_explicit(&index->covering[c], &expected, tree,
                                                memory_order_acq_rel, memory_order_acquire))
        return tree;
    /* Another thread published the same tree first. */
    budget_give_back(index, tree->bytes);
    free(points);
    free(nodes);
    free(tree);
    return expected;
}

/* The covering tree to search for `condition`, built now if it fits the
 * budget; NULL when the query should search the ancestor trees (fewer
 * than two of them, or no room). */
const CoveringTree *covering_tree(const SpatialIndex *shared, const Snapshot *snapshot,
                                  const Condition *condition)
{
    /* The cache is the index's one mutable part, synchronised by atomics
     * (spatial_index.h): a query may add a tree to an index it reads. */
    SpatialIndex *index = (SpatialIndex *)shared;
    if (!index->options.covering_trees)
        return NULL;
    uint32_t c = snapshot_condition_index(snapshot, condition);
    const CoveringTree *tree = atomic_load_explicit(&index->covering[c], memory_order_acquire);
    if (tree)
        return tree;
    size_t listed;
    if (ancestor_trees(index, snapshot, condition, &listed) < 2)
        return NULL;
    return covering_tree_build(index, snapshot, condition, c, listed);
}

size_t spatial_index_covering_tree_size(const SpatialIndex *index, const Snapshot *snapshot,
                                        const Condition *condition)
{
    uint32_t c = snapshot_condition_index(snapshot, condition);
    const CoveringTree *tree = atomic_load_explicit(&index->covering[c], memory_order_acquire);
    return tree ? tree->count : 0;
}
