/* spatial_index.c — static k-d trees, exact geodesic k-nearest, boxes; see
 * spatial_index.h for the design and its invariants. */
#include "spatial_index.h"

#include "geodesy.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
 * cover it, built on demand (see "Covering trees" below). Immutable once
 * published. */
typedef struct CoveringTree {
    TreePoint *points;
    KdNode *nodes;
    uint32_t root;
    uint32_t count; /* points: the condition's covering sites, each once */
    size_t bytes;   /* what it holds, charged against the cache budget */
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
    /* The covering-tree cache: the only part that changes after building.
     * A slot goes from NULL to a tree once and keeps it until the index is
     * freed; covering_bytes only grows, and never beyond the budget taken
     * when the index was built. */
    _Atomic(CoveringTree *) *covering; /* per condition */
    atomic_size_t covering_bytes;
    size_t covering_budget;
    size_t condition_count; /* slots in `covering` to free */
};

void site_filter_init(SiteFilter *filter)
{
    filter->role_mask = SITE_FILTER_ALL_ROLES;
    filter->audience_mask = SITE_FILTER_ALL_AUDIENCES;
}

/* --- Building ----------------------------------------------------------
 *
 * Every tree is built in place on an array of 16-byte TreePoints (median
 * selection moves little memory). ECEF trees keep that array as their
 * points; a node's box is the exact float extent of its float points,
 * which the search widens by POINT_SLACK_M like the points themselves.
 * The (lon, lat) tree is built on a temporary TreePoint array holding the
 * coordinates rounded to the nearest float; a float is within half a unit
 * in the last place of the double it rounds, so a leaf's float extent
 * widened by one unit (nextafterf) on each side contains the sites' true
 * coordinates; its leaves copy their site indexes to box_points. Role and
 * audience bits are read from two small arrays in site order rather than
 * from the scattered Site records. */

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
} PointBuilder;

static size_t node_count_for(size_t count)
{
    if (count <= LEAF_SIZE)
        return 1;
    return 1 + node_count_for(count / 2) + node_count_for(count - count / 2);
}

static void point_swap(TreePoint *a, TreePoint *b)
{
    TreePoint swap = *a;
    *a = *b;
    *b = swap;
}

/* Partially orders points so that points[nth] is where a full sort by the
 * coordinate `dimension` puts it (quickselect, median of three). */
static void select_nth_point(TreePoint *points, ptrdiff_t count, ptrdiff_t nth, int dimension)
{
    ptrdiff_t left = 0, right = count - 1;
    while (right > left) {
        ptrdiff_t middle = left + (right - left) / 2;
        if (points[middle].position[dimension] < points[left].position[dimension])
            point_swap(&points[middle], &points[left]);
        if (points[right].position[dimension] < points[left].position[dimension])
            point_swap(&points[right], &points[left]);
        if (points[right].position[dimension] < points[middle].position[dimension])
            point_swap(&points[right], &points[middle]);
        float pivot = points[middle].position[dimension];
        ptrdiff_t i = left, j = right;
        while (i <= j) {
            while (points[i].position[dimension] < pivot)
                i++;
            while (pivot < points[j].position[dimension])
                j--;
            if (i <= j) {
                point_swap(&points[i], &points[j]);
                i++;
                j--;
            }
        }
        if (nth <= j)
            right = j;
        else if (nth >= i)
            left = i;
        else
            return;
    }
}

static void point_leaf(PointBuilder *builder, KdNode *node)
{
    float low[3] = {0, 0, 0}, high[3] = {0, 0, 0};
    for (int d = 0; d < builder->dimensions; d++) {
        low[d] = INFINITY;
        high[d] = -INFINITY;
    }
    uint16_t roles = 0;
    uint8_t audiences = 0;
    for (uint32_t i = node->begin; i < node->end; i++) {
        const TreePoint *point = &builder->points[i];
        for (int d = 0; d < builder->dimensions; d++) {
            low[d] = fminf(low[d], point->position[d]);
            high[d] = fmaxf(high[d], point->position[d]);
        }
        if (builder->bits.role) {
            roles |= builder->bits.role[point->site];
            audiences |= builder->bits.audience[point->site];
        } else {
            roles |= (uint16_t)(1u << builder->sites[point->site].role);
            audiences |= (uint8_t)(1u << builder->sites[point->site].audience);
        }
        if (builder->site_out)
            builder->site_out[i] = point->site;
    }
    for (int d = 0; builder->site_out && d < builder->dimensions; d++) {
        low[d] = nextafterf(low[d], -INFINITY);
        high[d] = nextafterf(high[d], INFINITY);
    }
    memcpy(node->low, low, sizeof low);
    memcpy(node->high, high, sizeof high);
    node->role_mask = roles;
    node->audience_mask = audiences;
}

/* Builds the subtree of points[begin, end) in preorder. `low`/`high`
 * bound the points (loosely: the parent's box cut at the split); they
 * choose the split axis. The node's stored box is the union of its
 * children's, so building costs O(n log n) for the median splits and O(n)
 * for boxes. */
static uint32_t build_point_node(PointBuilder *builder, uint32_t begin, uint32_t end,
                                 const float low[3], const float high[3])
{
    uint32_t id = builder->next_node++;
    KdNode *node = &builder->nodes[id];
    node->begin = begin;
    node->end = end;
    node->right = 0;
    if (end - begin <= LEAF_SIZE) {
        point_leaf(builder, node);
        return id;
    }
    int widest = 0;
    for (int d = 1; d < builder->dimensions && d < 3; d++)
        if (high[d] - low[d] > high[widest] - low[widest])
            widest = d;
    uint32_t middle = begin + (end - begin) / 2;
    select_nth_point(builder->points + begin, (ptrdiff_t)(end - begin), (ptrdiff_t)(middle - begin),
                     widest);
    float split = builder->points[middle].position[widest];
    float left_high[3], right_low[3];
    memcpy(left_high, high, sizeof left_high);
    memcpy(right_low, low, sizeof right_low);
    left_high[widest] = split;
    right_low[widest] = split;
    build_point_node(builder, begin, middle, low, left_high);
    uint32_t right = build_point_node(builder, middle, end, right_low, high);
    node = &builder->nodes[id];
    const KdNode *left_child = &builder->nodes[id + 1], *right_child = &builder->nodes[right];
    for (int d = 0; d < 3; d++) {
        node->low[d] = fminf(left_child->low[d], right_child->low[d]);
        node->high[d] = fmaxf(left_child->high[d], right_child->high[d]);
    }
    node->role_mask = left_child->role_mask | right_child->role_mask;
    node->audience_mask = left_child->audience_mask | right_child->audience_mask;
    node->right = right;
    return id;
}

/* Builds the tree of points[begin, begin + count); returns its root or
 * NO_NODE. */
static uint32_t build_point_tree(PointBuilder *builder, uint32_t begin, uint32_t count)
{
    if (count == 0)
        return NO_NODE;
    float low[3] = {INFINITY, INFINITY, INFINITY}, high[3] = {-INFINITY, -INFINITY, -INFINITY};
    for (uint32_t i = begin; i < begin + count; i++)
        for (int d = 0; d < 3; d++) {
            low[d] = fminf(low[d], builder->points[i].position[d]);
            high[d] = fmaxf(high[d], builder->points[i].position[d]);
        }
    return build_point_node(builder, begin, begin + count, low, high);
}

/* Builds the (lon, lat) tree over every site; returns 0, or -1 when out of
 * memory. */
static int build_box_tree(struct SpatialIndex *index, const Snapshot *snapshot, SiteBits bits)
{
    size_t count = snapshot->site_count;
    index->box_root = NO_NODE;
    if (count == 0)
        return 0;
    TreePoint *items = malloc(count * sizeof *items);
    if (!items)
        return -1;
    for (size_t s = 0; s < count; s++) {
        const Site *site = &snapshot->sites[s];
        items[s] = (TreePoint){{(float)site->lon, (float)site->lat, 0}, (uint32_t)s};
    }
    PointBuilder builder = {items, bits, NULL, index->box_nodes, 0, 2, index->box_points};
    index->box_root = build_point_tree(&builder, 0, (uint32_t)count);
    free(items);
    return 0;
}

static int fail(char *error, size_t error_size, const char *message)
{
    snprintf(error, error_size, "spatial index: %s", message);
    return -1;
}

/* Counts each condition's listing sites into code_offsets (prefix sums). */
static void count_sites_per_code(struct SpatialIndex *index, const Snapshot *snapshot)
{
    for (size_t s = 0; s < snapshot->site_count; s++) {
        const Site *site = &snapshot->sites[s];
        for (uint32_t i = 0; i < site->code_count; i++) {
            const Condition *condition =
                snapshot_condition(snapshot, site_codes(snapshot, site)[i]);
            if (condition)
                index->code_offsets[snapshot_condition_index(snapshot, condition) + 1]++;
        }
    }
    for (size_t c = 0; c < snapshot->condition_count; c++)
        index->code_offsets[c + 1] += index->code_offsets[c];
}

/* Writes every site's point in site order at points[0, site_count), then
 * copies each listing site's point to its condition's range (in site
 * order), before any tree permutes them. Returns 0 or -1. */
static int fill_points(struct SpatialIndex *index, const Snapshot *snapshot)
{
    size_t site_count = snapshot->site_count;
    uint32_t *fill = calloc(snapshot->condition_count + 1, sizeof *fill);
    if (!fill)
        return -1;
    for (size_t s = 0; s < site_count; s++) {
        double ecef[3];
        geodesy_to_ecef(snapshot->sites[s].lat, snapshot->sites[s].lon, ecef);
        TreePoint *point = &index->points[s];
        for (int d = 0; d < 3; d++)
            point->position[d] = (float)ecef[d];
        point->site = (uint32_t)s;
    }
    TreePoint *listed = index->points + site_count;
    for (size_t s = 0; s < site_count; s++) {
        const Site *site = &snapshot->sites[s];
        for (uint32_t i = 0; i < site->code_count; i++) {
            const Condition *condition =
                snapshot_condition(snapshot, site_codes(snapshot, site)[i]);
            if (!condition)
                continue;
            uint32_t c = snapshot_condition_index(snapshot, condition);
            listed[index->code_offsets[c] + fill[c]++] = index->points[s];
        }
    }
    free(fill);
    return 0;
}

static int site_bits_make(SiteBits *bits, const Snapshot *snapshot)
{
    bits->role = malloc((snapshot->site_count + 1) * sizeof *bits->role);
    bits->audience = malloc(snapshot->site_count + 1);
    if (!bits->role || !bits->audience)
        return -1;
    for (size_t s = 0; s < snapshot->site_count; s++) {
        bits->role[s] = (uint16_t)(1u << snapshot->sites[s].role);
        bits->audience[s] = (uint8_t)(1u << snapshot->sites[s].audience);
    }
    return 0;
}

/* Allocates the index's arrays once the per-code counts are known; sets
 * *whole_nodes to the node count of a tree over all sites. Returns 0, or
 * -1 when out of memory. */
static int allocate_trees(struct SpatialIndex *index, size_t site_count, size_t condition_count,
                          size_t *whole_nodes)
{
    size_t listed = index->code_offsets[condition_count];
    *whole_nodes = site_count ? node_count_for(site_count) : 0;
    size_t node_total = *whole_nodes;
    for (size_t c = 0; c < condition_count; c++) {
        size_t count = index->code_offsets[c + 1] - index->code_offsets[c];
        node_total += count ? node_count_for(count) : 0;
    }
    index->points = malloc((site_count + listed + 1) * sizeof *index->points);
    index->nodes = malloc((node_total + 1) * sizeof *index->nodes);
    index->box_points = malloc((site_count + 1) * sizeof *index->box_points);
    index->box_nodes = malloc((*whole_nodes + 1) * sizeof *index->box_nodes);
    return index->points && index->nodes && index->box_points && index->box_nodes ? 0 : -1;
}

typedef struct WholeTreeJob {
    struct SpatialIndex *index;
    const Snapshot *snapshot;
    SiteBits bits;
} WholeTreeJob;

/* Builds the ECEF tree over all sites. */
static void *build_whole_tree(void *argument)
{
    WholeTreeJob *job = argument;
    struct SpatialIndex *index = job->index;
    PointBuilder builder = {index->points, job->bits, NULL, index->nodes, 0, 3, NULL};
    index->all_root = build_point_tree(&builder, 0, (uint32_t)job->snapshot->site_count);
    return NULL;
}

/* Builds every tree: the ECEF tree over all sites in a second thread, the
 * per-code trees and the (lon, lat) tree in this one (about as much work;
 * their nodes and points occupy disjoint ranges). Returns 0 or -1. */
static int build_trees(struct SpatialIndex *index, const Snapshot *snapshot, SiteBits bits,
                       size_t whole_nodes)
{
    size_t site_count = snapshot->site_count;
    WholeTreeJob job = {index, snapshot, bits};
    pthread_t thread;
    int threaded = pthread_create(&thread, NULL, build_whole_tree, &job) == 0;
    if (!threaded)
        build_whole_tree(&job);
    PointBuilder builder = {index->points,         bits, NULL, index->nodes,
                            (uint32_t)whole_nodes, 3,    NULL};
    for (size_t c = 0; c < snapshot->condition_count; c++) {
        uint32_t begin = index->code_offsets[c];
        index->code_root[c] = build_point_tree(&builder, (uint32_t)site_count + begin,
                                               index->code_offsets[c + 1] - begin);
    }
    int status = build_box_tree(index, snapshot, bits);
    if (threaded)
        pthread_join(thread, NULL);
    return status;
}

size_t spatial_index_cache_budget = SPATIAL_INDEX_DEFAULT_CACHE_BYTES;

struct SpatialIndex *spatial_index_build(const Snapshot *snapshot, char *error, size_t error_size)
{
    size_t site_count = snapshot->site_count, condition_count = snapshot->condition_count;
    size_t listed = 0, whole_nodes = 0;
    for (size_t s = 0; s < site_count; s++)
        listed += snapshot->sites[s].code_count;
    if (site_count + listed >= UINT32_MAX) {
        fail(error, error_size, "too many sites or site codes");
        return NULL;
    }
    SiteBits bits = {NULL, NULL};
    struct SpatialIndex *index = calloc(1, sizeof *index);
    if (!index || site_bits_make(&bits, snapshot) != 0)
        goto out_of_memory;
    index->code_offsets = calloc(condition_count + 1, sizeof *index->code_offsets);
    index->code_root = malloc((condition_count + 1) * sizeof *index->code_root);
    index->covering = calloc(condition_count + 1, sizeof *index->covering);
    if (!index->code_offsets || !index->code_root || !index->covering)
        goto out_of_memory;
    atomic_init(&index->covering_bytes, 0);
    index->covering_budget = spatial_index_cache_budget;
    count_sites_per_code(index, snapshot);
    if (allocate_trees(index, site_count, condition_count, &whole_nodes) != 0 ||
        fill_points(index, snapshot) != 0 || build_trees(index, snapshot, bits, whole_nodes) != 0)
        goto out_of_memory;
    index->condition_count = condition_count;
    free(bits.role);
    free(bits.audience);
    return index;

out_of_memory:
    fail(error, error_size, "out of memory");
    free(bits.role);
    free(bits.audience);
    spatial_index_free(index);
    return NULL;
}

void spatial_index_free(struct SpatialIndex *index)
{
    if (!index)
        return;
    for (size_t c = 0; index->covering && c < index->condition_count; c++) {
        CoveringTree *tree = atomic_load_explicit(&index->covering[c], memory_order_acquire);
        if (tree) {
            free(tree->points);
            free(tree->nodes);
            free(tree);
        }
    }
    free(index->covering);
    free(index->points);
    free(index->nodes);
    free(index->code_offsets);
    free(index->code_root);
    free(index->box_points);
    free(index->box_nodes);
    free(index);
}

size_t spatial_index_cache_bytes(const struct SpatialIndex *index)
{
    return index ? atomic_load_explicit(&index->covering_bytes, memory_order_relaxed) : 0;
}

/* The points of the tree of the sites that list `condition`'s own code
 * (not through a group), in no particular order; *count gets their number. */
static const TreePoint *listing_points(const Snapshot *snapshot, const Condition *condition,
                                       size_t *count)
{
    const struct SpatialIndex *index = snapshot->index;
    uint32_t c = snapshot_condition_index(snapshot, condition);
    uint32_t begin = index->code_offsets[c];
    *count = index->code_offsets[c + 1] - begin;
    /* The per-code tree permuted the list in place: still the same set. */
    return index->points + snapshot->site_count + begin;
}

/* --- Covering trees -----------------------------------------------------
 *
 * A query for condition D searches the trees of all D's ancestors that
 * some site lists (about 15 for the benchmark's codes); each costs a
 * descent and a leaf scan, most of the query's time. A covering tree holds
 * the distinct sites of all those trees in one tree, so the same query
 * descends once. One for every condition would cost about 23 million
 * points (370 MB) on a 1M-site network, so they are built on demand, at a
 * condition's first query, while their total size stays within the budget
 * (spatial_index_cache_budget when the index was built; `serve
 * --nearest-cache-mb`); past it, queries search the ancestor trees as
 * before. Answers are identical either way (the tests run both). A tree is
 * built outside any lock and published with a compare-and-swap: two
 * threads may build the same tree at once, the loser frees its copy and
 * gives its bytes back. */

int spatial_index_covering_trees = 1;

static size_t covering_tree_bytes(size_t count)
{
    return sizeof(CoveringTree) + count * sizeof(TreePoint) +
           (count ? node_count_for(count) : 0) * sizeof(KdNode);
}

/* Takes `bytes` from the budget; returns 0 when they do not fit. */
static int budget_take(struct SpatialIndex *index, size_t bytes)
{
    size_t used = atomic_load_explicit(&index->covering_bytes, memory_order_relaxed);
    do {
        if (used > index->covering_budget || bytes > index->covering_budget - used)
            return 0;
    } while (!atomic_compare_exchange_weak_explicit(&index->covering_bytes, &used, used + bytes,
                                                    memory_order_relaxed, memory_order_relaxed));
    return 1;
}

static void budget_give_back(struct SpatialIndex *index, size_t bytes)
{
    atomic_fetch_sub_explicit(&index->covering_bytes, bytes, memory_order_relaxed);
}

/* How many of `condition`'s ancestors have a listing tree; *listed gets
 * their total number of points (a site listing two of them counts twice). */
static size_t ancestor_trees(const Snapshot *snapshot, const Condition *condition, size_t *listed)
{
    const struct SpatialIndex *index = snapshot->index;
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
static size_t gather_covering_points(const Snapshot *snapshot, const Condition *condition,
                                     size_t listed, TreePoint *points)
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
            listing_points(snapshot, &snapshot->conditions[ancestors[a].condition], &count);
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
static const CoveringTree *covering_tree_build(struct SpatialIndex *index, const Snapshot *snapshot,
                                               const Condition *condition, uint32_t c,
                                               size_t listed)
{
    size_t charged = covering_tree_bytes(listed);
    if (!budget_take(index, charged))
        return NULL;
    CoveringTree *tree = calloc(1, sizeof *tree);
    TreePoint *points = malloc(listed * sizeof *points);
    size_t count = tree && points ? gather_covering_points(snapshot, condition, listed, points) : 0;
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
static const CoveringTree *covering_tree(const Snapshot *snapshot, const Condition *condition)
{
    struct SpatialIndex *index = snapshot->index;
    if (!spatial_index_covering_trees)
        return NULL;
    uint32_t c = snapshot_condition_index(snapshot, condition);
    const CoveringTree *tree = atomic_load_explicit(&index->covering[c], memory_order_acquire);
    if (tree)
        return tree;
    size_t listed;
    if (ancestor_trees(snapshot, condition, &listed) < 2)
        return NULL;
    return covering_tree_build(index, snapshot, condition, c, listed);
}

size_t spatial_index_covering_tree_size(const Snapshot *snapshot, const Condition *condition)
{
    uint32_t c = snapshot_condition_index(snapshot, condition);
    const CoveringTree *tree =
        atomic_load_explicit(&snapshot->index->covering[c], memory_order_acquire);
    return tree ? tree->count : 0;
}

/* --- Nearest ------------------------------------------------------------
 *
 * Two bounds per site, both from the float chord c~ of its tree point:
 * lower = c~ - POINT_SLACK_M <= chord <= geodesic, and an upper bound of the
 * geodesic, geodesic_upper_bound(c~ + POINT_SLACK_M). The search keeps the k
 * smallest upper chords of distinct sites (`chord_best`); the geodesic
 * bound of the largest of them, `radius`, bounds the k-th geodesic distance
 * from above, so nodes and sites whose lower bound exceeds `radius` cannot
 * be in the answer. Sites within `radius` are kept as candidates; once the
 * trees are exhausted, the candidates are sorted by lower bound and PROJ's
 * geodesic is computed in that order until the next lower bound exceeds
 * the k-th exact distance: about k geodesics a query, and no site enters
 * the node queue. The geodesic bound rests on a theorem (below); the search
 * checks its answer against it and, if ever violated, searches again
 * without pruning, so exactness never depends on it. */

/* The smallest radius of curvature of the WGS84 ellipsoid, b^2/a (the
 * meridian's, at the equator; 6,335,439.33 m), rounded down. */
#define SMALLEST_CURVATURE_RADIUS_M 6335439.0
/* Longer than any geodesic on WGS84 (half a meridian: 20,003,931.46 m). */
#define LONGEST_GEODESIC_M 20004000.0
/* WGS84's semi-axes: b (6,356,752.314 m) rounded down, a. */
#define POLAR_RADIUS_M 6356752.0
#define EQUATORIAL_RADIUS_M 6378137.0
/* Beyond this straight-line distance the lower bounds also use the angle
 * at the Earth's centre (below it the chord is the tighter bound). */
#define FAR_CHORD_M 1.0e6

/* An upper bound of the geodesic distance between two points of the
 * ellipsoid whose chord is at most `chord`. A geodesic's curvature in space
 * is the ellipsoid's normal curvature along it, at most 1/rho with rho =
 * SMALLEST_CURVATURE_RADIUS_M; by Schur's comparison theorem a curve of
 * length g <= pi rho whose curvature is at most 1/rho has a chord of at
 * least 2 rho sin(g / 2 rho), hence g <= 2 rho asin(chord / 2 rho). Near
 * the antipode (chord over 1.9 rho) the bound is the longest geodesic. */
static double geodesic_upper_bound(double chord)
{
    const double rho = SMALLEST_CURVATURE_RADIUS_M;
    if (chord >= 1.9 * rho)
        return LONGEST_GEODESIC_M;
    return 2 * rho * asin(chord / (2 * rho)) * (1 + 1e-9) + BOUND_SLACK_M;
}

double spatial_index_radius_factor = 1.0;

/* Per-query scratch starts on the stack (about 10 KB) and moves to the
 * heap only when a query outgrows it. */
#define LOCAL_QUEUE_CAPACITY 256
#define LOCAL_SEEN_CAPACITY 256
#define LOCAL_CANDIDATE_CAPACITY 256
#define LOCAL_CHORD_BEST_CAPACITY 16

typedef struct QueueEntry {
    double bound;
    uint32_t node;
} QueueEntry;

typedef struct Candidate {
    double lower; /* lower bound of its geodesic distance */
    uint32_t site;
} Candidate;

typedef struct ChordEntry {
    double upper; /* upper bound of its chord */
    uint32_t site;
} ChordEntry;

/* A growable array that starts in the caller's stack memory. */
typedef struct Scratch {
    void *items;
    size_t length, capacity, item_size;
    void *local;
} Scratch;

static void scratch_init(Scratch *scratch, void *local, size_t capacity, size_t item_size)
{
    scratch->items = scratch->local = local;
    scratch->length = 0;
    scratch->capacity = capacity;
    scratch->item_size = item_size;
}

/* Makes room for `extra` more items; returns 0, or -1 when out of memory. */
static int scratch_reserve(Scratch *scratch, size_t extra)
{
    if (scratch->length + extra <= scratch->capacity)
        return 0;
    size_t capacity = scratch->capacity * 2;
    while (capacity < scratch->length + extra)
        capacity *= 2;
    void *grown;
    if (scratch->items == scratch->local) {
        grown = malloc(capacity * scratch->item_size);
        if (grown)
            memcpy(grown, scratch->items, scratch->length * scratch->item_size);
    } else {
        grown = realloc(scratch->items, capacity * scratch->item_size);
    }
    if (!grown)
        return -1;
    scratch->items = grown;
    scratch->capacity = capacity;
    return 0;
}

/* Frees heap storage and forgets the stack storage (whose frame ends). */
static void scratch_free(Scratch *scratch)
{
    if (scratch->items != scratch->local)
        free(scratch->items);
    scratch->items = scratch->local = NULL;
    scratch->length = scratch->capacity = 0;
}

typedef struct NearestSearch {
    const Snapshot *snapshot;
    const struct SpatialIndex *index;
    const SiteFilter *filter;
    const KdNode *nodes; /* of the trees searched: the index's, or a covering tree's */
    const TreePoint *points;
    double lat, lon, query[3];
    double query_radius; /* |query|, the query's distance from the Earth's centre */
    size_t k;
    int prune;          /* 0 in the fallback search: every covering site is a candidate */
    double radius;      /* upper bound of the k-th geodesic distance (INFINITY at first) */
    Scratch queue;      /* QueueEntry, a min-heap of nodes by lower bound */
    Scratch chord_best; /* ChordEntry, a max-heap by upper chord, distinct sites */
    Scratch candidates; /* Candidate, every site seen with lower <= radius */
    uint32_t *seen;     /* open addressing set of site index + 1 of the sites that
                         * entered chord_best; NULL when one tree is searched */
    size_t seen_count, seen_capacity;
    uint32_t *local_seen;
    int failed;
} NearestSearch;

static void queue_push(NearestSearch *search, double bound, uint32_t node)
{
    if (bound == INFINITY || bound > search->radius)
        return;
    if (scratch_reserve(&search->queue, 1) != 0) {
        search->failed = 1;
        return;
    }
    QueueEntry *queue = search->queue.items;
    size_t at = search->queue.length++;
    while (at > 0) {
        size_t parent = (at - 1) / 2;
        if (queue[parent].bound <= bound)
            break;
        queue[at] = queue[parent];
        at = parent;
    }
    queue[at] = (QueueEntry){bound, node};
}

static QueueEntry queue_pop(NearestSearch *search)
{
    QueueEntry *queue = search->queue.items;
    QueueEntry top = queue[0];
    QueueEntry last = queue[--search->queue.length];
    size_t at = 0, length = search->queue.length;
    for (;;) {
        size_t child = 2 * at + 1;
        if (child >= length)
            break;
        if (child + 1 < length && queue[child + 1].bound < queue[child].bound)
            child++;
        if (queue[child].bound >= last.bound)
            break;
        queue[at] = queue[child];
        at = child;
    }
    if (length > 0)
        queue[at] = last;
    return top;
}

/* Returns 1 when `site` was not seen before (and records it), 0 if it was. */
static int seen_insert(NearestSearch *search, uint32_t site)
{
    if (!search->seen)
        return 1;
    if ((search->seen_count + 1) * 2 > search->seen_capacity) {
        size_t capacity = search->seen_capacity * 2;
        uint32_t *grown = calloc(capacity, sizeof *grown);
        if (!grown) {
            search->failed = 1;
            return 0;
        }
        for (size_t i = 0; i < search->seen_capacity; i++) {
            uint32_t value = search->seen[i];
            if (!value)
                continue;
            size_t slot = (value * 2654435761u) & (capacity - 1);
            while (grown[slot])
                slot = (slot + 1) & (capacity - 1);
            grown[slot] = value;
        }
        if (search->seen != search->local_seen)
            free(search->seen);
        search->seen = grown;
        search->seen_capacity = capacity;
    }
    uint32_t value = site + 1;
    size_t slot = (value * 2654435761u) & (search->seen_capacity - 1);
    while (search->seen[slot]) {
        if (search->seen[slot] == value)
            return 0;
        slot = (slot + 1) & (search->seen_capacity - 1);
    }
    search->seen[slot] = value;
    search->seen_count++;
    return 1;
}

/* Offers a site's upper chord to chord_best (a max-heap of at most k
 * distinct sites) and tightens the radius once it holds k. A site leaves
 * the heap only for a smaller chord, so one that entered it once never
 * needs to enter again: `seen` records entries when several trees may hold
 * the same site. */
static void chord_offer(NearestSearch *search, uint32_t site, double upper)
{
    ChordEntry *heap = search->chord_best.items;
    size_t count = search->chord_best.length, k = search->k;
    if (count == k && upper >= heap[0].upper)
        return;
    if (!seen_insert(search, site))
        return;
    size_t at;
    if (count < k) {
        at = search->chord_best.length++;
        while (at > 0 && heap[(at - 1) / 2].upper < upper) {
            heap[at] = heap[(at - 1) / 2];
            at = (at - 1) / 2;
        }
    } else {
        at = 0;
        for (;;) {
            size_t child = 2 * at + 1;
            if (child >= k)
                break;
            if (child + 1 < k && heap[child + 1].upper > heap[child].upper)
                child++;
            if (heap[child].upper <= upper)
                break;
            heap[at] = heap[child];
            at = child;
        }
    }
    heap[at] = (ChordEntry){upper, site};
    if (search->prune && search->chord_best.length == k)
        search->radius = geodesic_upper_bound(heap[0].upper) * spatial_index_radius_factor;
}

/* Drops the candidates now beyond the radius. */
static void candidates_compact(NearestSearch *search)
{
    Candidate *items = search->candidates.items;
    size_t kept = 0;
    for (size_t i = 0; i < search->candidates.length; i++)
        if (items[i].lower <= search->radius)
            items[kept++] = items[i];
    search->candidates.length = kept;
}

static void candidate_add(NearestSearch *search, uint32_t site, double lower)
{
    if (search->candidates.length == search->candidates.capacity) {
        candidates_compact(search);
        if (scratch_reserve(&search->candidates, 1) != 0) {
            search->failed = 1;
            return;
        }
    }
    Candidate *items = search->candidates.items;
    items[search->candidates.length++] = (Candidate){lower, site};
}

static double box_distance(const KdNode *node, const double point[3])
{
    double sum = 0;
    for (int d = 0; d < 3; d++) {
        double gap = 0;
        if (point[d] < node->low[d])
            gap = node->low[d] - point[d];
        else if (point[d] > node->high[d])
            gap = point[d] - node->high[d];
        sum += gap * gap;
    }
    return sqrt(sum);
}

/* Does every site under `node` pass `filter`? */
static int node_all_pass(const KdNode *node, const SiteFilter *filter)
{
    return (node->role_mask & ~filter->role_mask) == 0 &&
           (node->audience_mask & ~filter->audience_mask) == 0;
}

static int node_may_match(const KdNode *node, const SiteFilter *filter)
{
    return (node->role_mask & filter->role_mask) && (node->audience_mask & filter->audience_mask);
}

/* The lower bound of the node's sites' distances, or INFINITY when no site
 * under it passes the filter. */
static double node_bound(const NearestSearch *search, uint32_t id)
{
    const KdNode *node = &search->nodes[id];
    if (!node_may_match(node, search->filter))
        return INFINITY;
    double gap = box_distance(node, search->query) - POINT_SLACK_M;
    if (gap <= 0)
        return 0;
    if (gap <= FAR_CHORD_M)
        return gap;
    /* A site X of the node lies on the ellipsoid (b <= |X| <= a) at least
     * `gap` from the query Q: by the law of cosines the angle between them
     * has cos <= (|Q|^2 + |X|^2 - gap^2) / (2 |Q| |X|), whose largest value
     * over |X| in [b, a] is at an end (the function of |X| is convex or
     * increasing there). */
    double q = search->query_radius, largest_cosine = -1;
    const double radii[2] = {POLAR_RADIUS_M - 1, EQUATORIAL_RADIUS_M + 1};
    for (int i = 0; i < 2; i++) {
        double cosine = (q * q + radii[i] * radii[i] - gap * gap) / (2 * q * radii[i]);
        largest_cosine = fmax(largest_cosine, cosine);
    }
    if (largest_cosine >= 1)
        return gap;
    return fmax(gap, POLAR_RADIUS_M * acos(largest_cosine) - POINT_SLACK_M);
}

/* A lower bound of the geodesic distance from the query to a tree point
 * `chord` away (straight line, from its float position). Far away, the
 * chord is much shorter than the geodesic; there the bound is b times the
 * angle at the Earth's centre: a geodesic never enters the ball of radius
 * b (the polar semi-axis), and projecting a curve outside a ball onto its
 * sphere shortens it, so the geodesic is at least the great-circle arc
 * between the projections. The float position moves the angle by less
 * than 0.44 m / b, hence the slack. */
static double point_lower_bound(const NearestSearch *search, const float position[3], double chord)
{
    double lower = chord - POINT_SLACK_M;
    if (chord > FAR_CHORD_M) {
        const double *q = search->query;
        double p[3] = {position[0], position[1], position[2]};
        double cross[3] = {p[1] * q[2] - p[2] * q[1], p[2] * q[0] - p[0] * q[2],
                           p[0] * q[1] - p[1] * q[0]};
        double angle = atan2(sqrt(cross[0] * cross[0] + cross[1] * cross[1] + cross[2] * cross[2]),
                             p[0] * q[0] + p[1] * q[1] + p[2] * q[2]);
        lower = fmax(lower, POLAR_RADIUS_M * angle - POINT_SLACK_M);
    }
    return lower > 0 ? lower : 0;
}

static void scan_leaf(NearestSearch *search, const KdNode *node)
{
    /* The leaf's points are contiguous; a site itself (scattered, in
     * site_id order) is read only when the filter needs its role or
     * audience. */
    int all_pass = node_all_pass(node, search->filter);
    const TreePoint *points = search->points;
    for (uint32_t p = node->begin; p < node->end; p++) {
        const TreePoint *point = &points[p];
        double sum = 0;
        for (int d = 0; d < 3; d++) {
            double delta = (double)point->position[d] - search->query[d];
            sum += delta * delta;
        }
        double chord = sqrt(sum);
        if (chord - POINT_SLACK_M > search->radius)
            continue;
        double lower = point_lower_bound(search, point->position, chord);
        if (lower > search->radius)
            continue;
        if (!all_pass &&
            !site_filter_accepts(search->filter, &search->snapshot->sites[point->site]))
            continue;
        candidate_add(search, point->site, lower);
        chord_offer(search, point->site, chord + POINT_SLACK_M);
    }
}

/* Descends from node `id` towards the query, queueing the farther child
 * at each level, and scans the leaf it reaches. */
static void expand_node(NearestSearch *search, uint32_t id)
{
    const KdNode *node = &search->nodes[id];
    while (node->right) {
        uint32_t near = id + 1, far = node->right;
        double near_bound = node_bound(search, near), far_bound = node_bound(search, far);
        if (far_bound < near_bound) {
            uint32_t swap = near;
            near = far;
            far = swap;
            double swap_bound = near_bound;
            near_bound = far_bound;
            far_bound = swap_bound;
        }
        queue_push(search, far_bound, far);
        if (near_bound == INFINITY || near_bound > search->radius)
            return;
        id = near;
        node = &search->nodes[id];
    }
    scan_leaf(search, node);
}

static int result_worse(const NearestResult *a, const NearestResult *b)
{
    if (a->distance_m != b->distance_m)
        return a->distance_m > b->distance_m;
    return a->site > b->site;
}

/* Keeps the k best results in a max-heap by (distance, site). */
static void best_offer(NearestResult *best, size_t *count, size_t k, uint32_t site, double distance)
{
    NearestResult candidate = {site, distance};
    size_t at;
    if (*count < k) {
        at = (*count)++;
        while (at > 0 && result_worse(&candidate, &best[(at - 1) / 2])) {
            best[at] = best[(at - 1) / 2];
            at = (at - 1) / 2;
        }
        best[at] = candidate;
        return;
    }
    if (!result_worse(&best[0], &candidate))
        return;
    at = 0;
    for (;;) {
        size_t child = 2 * at + 1;
        if (child >= k)
            break;
        if (child + 1 < k && result_worse(&best[child + 1], &best[child]))
            child++;
        if (!result_worse(&best[child], &candidate))
            break;
        best[at] = best[child];
        at = child;
    }
    best[at] = candidate;
}

static int compare_results(const void *a, const void *b)
{
    const NearestResult *x = a, *y = b;
    return result_worse(x, y) ? 1 : result_worse(y, x) ? -1 : 0;
}

static int compare_candidates(const void *a, const void *b)
{
    const Candidate *x = a, *y = b;
    if (x->lower != y->lower)
        return x->lower < y->lower ? -1 : 1;
    return (x->site > y->site) - (x->site < y->site);
}

static void sort_candidates(Candidate *items, size_t count)
{
    if (count > 24) {
        qsort(items, count, sizeof *items, compare_candidates);
        return;
    }
    for (size_t i = 1; i < count; i++) {
        Candidate item = items[i];
        size_t j = i;
        while (j > 0 && compare_candidates(&items[j - 1], &item) > 0) {
            items[j] = items[j - 1];
            j--;
        }
        items[j] = item;
    }
}

/* Computes exact distances for the candidates in lower-bound order until
 * none can compete; returns the number of results in `results`. */
static size_t measure_candidates(NearestSearch *search, NearestResult *results)
{
    candidates_compact(search);
    Candidate *items = search->candidates.items;
    size_t count = search->candidates.length, found = 0;
    sort_candidates(items, count);
    const Site *sites = search->snapshot->sites;
    /* The sites are scattered: fetch the likely ones' positions together
     * rather than one cache miss per geodesic. */
    for (size_t i = 0; i < count && i < search->k + 4; i++)
        __builtin_prefetch(&sites[items[i].site].lat);
    for (size_t i = 0; i < count; i++) {
        if (i > 0 && items[i].site == items[i - 1].site && items[i].lower == items[i - 1].lower)
            continue; /* the same site from another tree */
        if (found == search->k && items[i].lower > results[0].distance_m + BOUND_SLACK_M)
            break;
        const Site *site = &sites[items[i].site];
        best_offer(results, &found, search->k, items[i].site,
                   geodesy_distance_m(search->lat, search->lon, site->lat, site->lon));
    }
    return found;
}

/* Queues the roots of the trees that hold the covering sites: the tree
 * over all sites, a covering tree, or the condition's ancestor trees;
 * returns how many trees. */
static size_t push_roots(NearestSearch *search, const Condition *condition)
{
    const struct SpatialIndex *index = search->index;
    search->nodes = index->nodes;
    search->points = index->points;
    if (!condition) {
        queue_push(search, node_bound(search, index->all_root), index->all_root);
        return 1;
    }
    const CoveringTree *tree = covering_tree(search->snapshot, condition);
    if (tree) {
        search->nodes = tree->nodes;
        search->points = tree->points;
        queue_push(search, node_bound(search, tree->root), tree->root);
        return 1;
    }
    const AncestorEntry *ancestors = search->snapshot->ancestors + condition->ancestors_start;
    size_t trees = 0;
    for (uint32_t a = 0; a < condition->ancestor_count; a++) {
        uint32_t root = index->code_root[ancestors[a].condition];
        if (root != NO_NODE) {
            queue_push(search, node_bound(search, root), root);
            trees++;
        }
    }
    return trees;
}

/* One search; `prune` 0 turns the radius off. Returns the number of
 * results, or -1 when out of memory. */
static int nearest_search(NearestSearch *search, const Condition *condition, NearestResult *results)
{
    QueueEntry local_queue[LOCAL_QUEUE_CAPACITY];
    Candidate local_candidates[LOCAL_CANDIDATE_CAPACITY];
    ChordEntry local_chord_best[LOCAL_CHORD_BEST_CAPACITY];
    uint32_t local_seen[LOCAL_SEEN_CAPACITY];
    scratch_init(&search->queue, local_queue, LOCAL_QUEUE_CAPACITY, sizeof *local_queue);
    scratch_init(&search->candidates, local_candidates, LOCAL_CANDIDATE_CAPACITY,
                 sizeof *local_candidates);
    scratch_init(&search->chord_best, local_chord_best, LOCAL_CHORD_BEST_CAPACITY,
                 sizeof *local_chord_best);
    search->radius = INFINITY;
    search->seen = NULL;
    search->seen_count = 0;
    search->local_seen = local_seen;
    search->failed = scratch_reserve(&search->chord_best, search->k) != 0;
    if (!search->failed && push_roots(search, condition) > 1) {
        search->seen_capacity = LOCAL_SEEN_CAPACITY;
        search->seen = local_seen;
        memset(local_seen, 0, sizeof local_seen);
    }
    while (search->queue.length > 0 && !search->failed) {
        QueueEntry top = queue_pop(search);
        if (top.bound > search->radius)
            break;
        expand_node(search, top.node);
    }
    size_t found = search->failed ? 0 : measure_candidates(search, results);
    scratch_free(&search->queue);
    scratch_free(&search->candidates);
    scratch_free(&search->chord_best);
    if (search->seen && search->seen != local_seen)
        free(search->seen);
    search->seen = search->local_seen = NULL;
    return search->failed ? -1 : (int)found;
}

int spatial_index_nearest(const Snapshot *snapshot, double lat, double lon,
                          const Condition *condition, const SiteFilter *filter, size_t k,
                          NearestResult *results)
{
    if (k == 0 || snapshot->site_count == 0)
        return 0;
    NearestSearch search = {snapshot, snapshot->index, filter, NULL, NULL, lat,
                            lon,      {0, 0, 0},       0,      k,    1};
    geodesy_to_ecef(lat, lon, search.query);
    search.query_radius =
        sqrt(search.query[0] * search.query[0] + search.query[1] * search.query[1] +
             search.query[2] * search.query[2]);
    int found = nearest_search(&search, condition, results);
    /* Everything pruned had a lower bound above some radius >= the final
     * one. A finite radius means k distinct sites were seen: if k results
     * came out and the k-th exact distance is below the final radius,
     * nothing pruned could beat or tie it. Otherwise (the curvature bound
     * failed, which the theorem says never happens) search again unpruned. */
    if (found >= 0 && search.radius != INFINITY &&
        !(found == (int)k && results[0].distance_m < search.radius)) {
        search.prune = 0;
        found = nearest_search(&search, condition, results);
    }
    if (found > 0)
        qsort(results, (size_t)found, sizeof *results, compare_results);
    return found;
}

/* --- Boxes -------------------------------------------------------------- */

typedef struct SiteList {
    uint32_t *items;
    size_t length, capacity;
    int failed;
} SiteList;

static void list_push(SiteList *list, uint32_t site)
{
    if (list->length == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 256;
        uint32_t *grown = realloc(list->items, capacity * sizeof *grown);
        if (!grown) {
            list->failed = 1;
            return;
        }
        list->items = grown;
        list->capacity = capacity;
    }
    list->items[list->length++] = site;
}

static void list_append(SiteList *list, const uint32_t *sites, size_t count)
{
    if (list->length + count > list->capacity) {
        size_t capacity = list->capacity ? list->capacity : 256;
        while (capacity < list->length + count)
            capacity *= 2;
        uint32_t *grown = realloc(list->items, capacity * sizeof *grown);
        if (!grown) {
            list->failed = 1;
            return;
        }
        list->items = grown;
        list->capacity = capacity;
    }
    memcpy(list->items + list->length, sites, count * sizeof *sites);
    list->length += count;
}

typedef struct Box {
    double west, south, east, north; /* west <= east: one piece */
} Box;

static int box_holds(const Box *box, double lon, double lat)
{
    return lon >= box->west && lon <= box->east && lat >= box->south && lat <= box->north;
}

static int node_outside(const KdNode *node, const Box *box)
{
    return node->high[0] < box->west || node->low[0] > box->east || node->high[1] < box->south ||
           node->low[1] > box->north;
}

static int node_inside(const KdNode *node, const Box *box)
{
    return node->low[0] >= box->west && node->high[0] <= box->east && node->low[1] >= box->south &&
           node->high[1] <= box->north;
}

/* An upper bound of the number of sites in `box` (any filter): the sizes
 * of the nodes inside it and of the leaves it cuts. Cheap: only the
 * boundary of the box is visited. */
static size_t box_upper_bound(const Snapshot *snapshot, const Box *box)
{
    const struct SpatialIndex *index = snapshot->index;
    uint32_t stack[128];
    size_t depth = 0, bound = 0;
    stack[depth++] = index->box_root;
    while (depth > 0) {
        uint32_t id = stack[--depth];
        const KdNode *node = &index->box_nodes[id];
        if (node_outside(node, box))
            continue;
        if (node_inside(node, box) || !node->right) {
            bound += node->end - node->begin;
            continue;
        }
        stack[depth++] = id + 1;
        stack[depth++] = node->right;
    }
    return bound;
}

/* Appends the sites of the (lon, lat) tree inside `box` passing `filter`. */
static void box_collect(const Snapshot *snapshot, const Box *box, const SiteFilter *filter,
                        SiteList *out)
{
    const struct SpatialIndex *index = snapshot->index;
    uint32_t stack[128];
    size_t depth = 0;
    stack[depth++] = index->box_root;
    while (depth > 0) {
        uint32_t id = stack[--depth];
        const KdNode *node = &index->box_nodes[id];
        if (node_outside(node, box) || !node_may_match(node, filter))
            continue;
        int inside = node_inside(node, box);
        if (inside && node_all_pass(node, filter)) {
            /* Every site of the node matches: no need to look at them. */
            list_append(out, index->box_points + node->begin, node->end - node->begin);
            continue;
        }
        if (inside || !node->right) {
            for (uint32_t p = node->begin; p < node->end; p++) {
                uint32_t s = index->box_points[p];
                const Site *site = &snapshot->sites[s];
                if ((inside || box_holds(box, site->lon, site->lat)) &&
                    site_filter_accepts(filter, site))
                    list_push(out, s);
            }
            continue;
        }
        stack[depth++] = id + 1;
        stack[depth++] = node->right;
    }
}

static int compare_sites(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Moves the `nth` smallest values to the front (unordered). */
static void select_smallest(uint32_t *values, ptrdiff_t count, ptrdiff_t nth)
{
    ptrdiff_t left = 0, right = count - 1;
    while (right > left) {
        uint32_t pivot = values[left + (right - left) / 2];
        ptrdiff_t i = left, j = right;
        while (i <= j) {
            while (values[i] < pivot)
                i++;
            while (values[j] > pivot)
                j--;
            if (i <= j) {
                uint32_t swap = values[i];
                values[i] = values[j];
                values[j] = swap;
                i++;
                j--;
            }
        }
        if (nth <= j)
            right = j;
        else if (nth >= i)
            left = i;
        else
            return;
    }
}

static int in_query_box(const Box pieces[2], size_t piece_count, const Site *site)
{
    for (size_t p = 0; p < piece_count; p++)
        if (box_holds(&pieces[p], site->lon, site->lat))
            return 1;
    return 0;
}

/* The sites covering `condition` in the box: the union of its ancestors'
 * listing sites, sorted, without duplicates. */
static void condition_collect(const Snapshot *snapshot, const Box pieces[2], size_t piece_count,
                              const Condition *condition, const SiteFilter *filter, SiteList *out)
{
    const AncestorEntry *ancestors = snapshot->ancestors + condition->ancestors_start;
    for (uint32_t a = 0; a < condition->ancestor_count; a++) {
        size_t count;
        const TreePoint *listing =
            listing_points(snapshot, &snapshot->conditions[ancestors[a].condition], &count);
        for (size_t i = 0; i < count; i++) {
            const Site *site = &snapshot->sites[listing[i].site];
            if (site_filter_accepts(filter, site) && in_query_box(pieces, piece_count, site))
                list_push(out, listing[i].site);
        }
    }
    if (out->failed || out->length == 0)
        return;
    qsort(out->items, out->length, sizeof *out->items, compare_sites);
    size_t unique = 1;
    for (size_t i = 1; i < out->length; i++)
        if (out->items[i] != out->items[unique - 1])
            out->items[unique++] = out->items[i];
    out->length = unique;
}

int spatial_index_box(const Snapshot *snapshot, double west, double south, double east,
                      double north, const Condition *condition, const SiteFilter *filter,
                      size_t limit, uint32_t *sites, size_t *count, int *truncated)
{
    Box pieces[2] = {{west, south, east, north}, {-180, south, east, north}};
    size_t piece_count = 1;
    if (west > east) {
        pieces[0].east = 180;
        piece_count = 2;
    }
    *count = 0;
    *truncated = 0;
    if (snapshot->site_count == 0 || south > north)
        return 0;
    SiteList found = {NULL, 0, 0, 0};
    if (condition) {
        condition_collect(snapshot, pieces, piece_count, condition, filter, &found);
    } else {
        size_t upper_bound = 0;
        for (size_t p = 0; p < piece_count; p++)
            upper_bound += box_upper_bound(snapshot, &pieces[p]);
        /* A box holding a large share of the sites: scanning in site order
         * finds the first `limit` sooner than collecting them all. */
        if ((double)upper_bound * (double)upper_bound >
            (double)(limit + 1) * (double)snapshot->site_count) {
            for (size_t s = 0; s < snapshot->site_count; s++) {
                const Site *site = &snapshot->sites[s];
                if (!site_filter_accepts(filter, site) || !in_query_box(pieces, piece_count, site))
                    continue;
                if (*count == limit) {
                    *truncated = 1;
                    break;
                }
                sites[(*count)++] = (uint32_t)s;
            }
            return 0;
        }
        for (size_t p = 0; p < piece_count; p++)
            box_collect(snapshot, &pieces[p], filter, &found);
        if (!found.failed && found.length > limit && limit > 0)
            select_smallest(found.items, (ptrdiff_t)found.length, (ptrdiff_t)limit - 1);
        if (!found.failed && found.length > 0)
            qsort(found.items, found.length < limit ? found.length : limit, sizeof *found.items,
                  compare_sites);
    }
    if (found.failed) {
        free(found.items);
        return -1;
    }
    *truncated = found.length > limit;
    *count = found.length < limit ? found.length : limit;
    if (*count)
        memcpy(sites, found.items, *count * sizeof *sites);
    free(found.items);
    return 0;
}
