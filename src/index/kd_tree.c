/* kd_tree.c — building the spatial index's trees; see spatial_index.h
 * for the design and kd_tree.h for the layout. */
#include "index/kd_tree.h"

#include "base/geodesy.h"
#include "base/huge_pages.h"
#include "base/select.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

size_t node_count_for(size_t count)
{
    if (count <= LEAF_SIZE)
        return 1;
    return 1 + node_count_for(count / 2) + node_count_for(count - count / 2);
}

/* Partially orders points so that points[nth] is where a full sort by the
 * coordinate `dimension` puts it (base/select.h). */
#define POINT_KEY(point, dimension) ((point)->position[dimension])
SELECT_DEFINE(select_nth_point, TreePoint, int, POINT_KEY)

/* The smaller and the larger of two floats, neither NaN (positions are
 * finite): a plain comparison compiles to one instruction, where fminf()
 * stays a libm call that keeps a leaf's loop from overlapping its loads. */
static inline float smaller(float a, float b)
{
    return b < a ? b : a;
}

static inline float larger(float a, float b)
{
    return b > a ? b : a;
}

/* The union of the roles and audiences of the leaf's sites: one read of
 * scattered per-site memory for each point, the most of an ordered build,
 * so a loop of its own, nothing else between the reads. */
static void leaf_kinds(const PointBuilder *builder, const KdNode *node, uint16_t *roles,
                       uint8_t *audiences)
{
    uint16_t role_union = 0;
    uint8_t audience_union = 0;
    const TreePoint *points = builder->points;
    if (builder->bits.role) {
        for (uint32_t i = node->begin; i < node->end; i++) {
            role_union |= builder->bits.role[points[i].site];
            audience_union |= builder->bits.audience[points[i].site];
        }
    } else {
        for (uint32_t i = node->begin; i < node->end; i++) {
            role_union |= (uint16_t)(1u << builder->sites[points[i].site].role);
            audience_union |= (uint8_t)(1u << builder->sites[points[i].site].audience);
        }
    }
    *roles = role_union;
    *audiences = audience_union;
}

static void point_leaf(PointBuilder *builder, KdNode *node)
{
    float low[3] = {0, 0, 0}, high[3] = {0, 0, 0};
    for (int d = 0; d < builder->dimensions; d++) {
        low[d] = INFINITY;
        high[d] = -INFINITY;
    }
    for (uint32_t i = node->begin; i < node->end; i++) {
        const TreePoint *point = &builder->points[i];
        for (int d = 0; d < builder->dimensions; d++) {
            low[d] = smaller(low[d], point->position[d]);
            high[d] = larger(high[d], point->position[d]);
        }
        if (builder->site_out)
            builder->site_out[i] = point->site;
    }
    uint16_t roles;
    uint8_t audiences;
    leaf_kinds(builder, node, &roles, &audiences);
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
    if (!builder->keep_order)
        select_nth_point(builder->points + begin, (ptrdiff_t)(end - begin),
                         (ptrdiff_t)(middle - begin), widest);
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
        node->low[d] = smaller(left_child->low[d], right_child->low[d]);
        node->high[d] = larger(left_child->high[d], right_child->high[d]);
    }
    node->role_mask = left_child->role_mask | right_child->role_mask;
    node->audience_mask = left_child->audience_mask | right_child->audience_mask;
    node->right = right;
    return id;
}

/* Builds the tree of points[begin, begin + count); returns its root or
 * NO_NODE. */
uint32_t build_point_tree(PointBuilder *builder, uint32_t begin, uint32_t count)
{
    if (count == 0)
        return NO_NODE;
    float low[3] = {INFINITY, INFINITY, INFINITY}, high[3] = {-INFINITY, -INFINITY, -INFINITY};
    for (uint32_t i = begin; i < begin + count; i++)
        for (int d = 0; d < 3; d++) {
            low[d] = smaller(low[d], builder->points[i].position[d]);
            high[d] = larger(high[d], builder->points[i].position[d]);
        }
    return build_point_node(builder, begin, begin + count, low, high);
}

/* Builds the (lon, lat) tree over every site, with its points in `order`
 * (site indexes in tree order) when not NULL; returns 0, or -1 when out of
 * memory. */
static int build_box_tree(SpatialIndex *index, const Snapshot *snapshot, SiteBits bits,
                          const uint32_t *order)
{
    size_t count = snapshot->site_count;
    index->box_root = NO_NODE;
    if (count == 0)
        return 0;
    TreePoint *items = malloc(count * sizeof *items);
    if (!items)
        return -1;
    for (size_t i = 0; i < count; i++) {
        uint32_t s = order ? order[i] : (uint32_t)i;
        const Site *site = &snapshot->sites[s];
        items[i] = (TreePoint){{(float)site->lon, (float)site->lat, 0}, s};
    }
    PointBuilder builder = {items,        bits, NULL, index->box_nodes, 0, 2, index->box_points,
                            order != NULL};
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
static void count_sites_per_code(SpatialIndex *index, const Snapshot *snapshot)
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
static int fill_points(SpatialIndex *index, const Snapshot *snapshot)
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
static int allocate_trees(SpatialIndex *index, size_t site_count, size_t condition_count,
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
    if (!index->points || !index->nodes || !index->box_points || !index->box_nodes)
        return -1;
    /* Every nearest and bbox query walks them at random: huge pages, asked
     * before they are filled so that they are faulted in huge. */
    huge_pages_advise(index->points, (site_count + listed) * sizeof *index->points);
    huge_pages_advise(index->nodes, node_total * sizeof *index->nodes);
    huge_pages_advise(index->box_points, site_count * sizeof *index->box_points);
    huge_pages_advise(index->box_nodes, *whole_nodes * sizeof *index->box_nodes);
    return 0;
}

typedef struct WholeTreeJob {
    SpatialIndex *index;
    const Snapshot *snapshot;
    SiteBits bits;
    int keep_order;
} WholeTreeJob;

/* Builds the ECEF tree over all sites. */
static void *build_whole_tree(void *argument)
{
    WholeTreeJob *job = argument;
    SpatialIndex *index = job->index;
    PointBuilder builder = {index->points, job->bits,      NULL, index->nodes, 0, 3,
                            NULL,          job->keep_order};
    index->all_root = build_point_tree(&builder, 0, (uint32_t)job->snapshot->site_count);
    return NULL;
}

/* Builds every tree: the ECEF tree over all sites in a second thread, the
 * per-code trees and the (lon, lat) tree in this one (about as much work;
 * their nodes and points occupy disjoint ranges). With `box_order` (a
 * stored order applied by tree_order_apply()) every tree keeps its points'
 * order. Returns 0 or -1. */
static int build_trees(SpatialIndex *index, const Snapshot *snapshot, SiteBits bits,
                       size_t whole_nodes, const uint32_t *box_order)
{
    size_t site_count = snapshot->site_count;
    int keep_order = box_order != NULL;
    WholeTreeJob job = {index, snapshot, bits, keep_order};
    pthread_t thread;
    int threaded = pthread_create(&thread, NULL, build_whole_tree, &job) == 0;
    if (!threaded)
        build_whole_tree(&job);
    PointBuilder builder = {index->points,         bits, NULL, index->nodes,
                            (uint32_t)whole_nodes, 3,    NULL, keep_order};
    for (size_t c = 0; c < snapshot->condition_count; c++) {
        uint32_t begin = index->code_offsets[c];
        index->code_root[c] = build_point_tree(&builder, (uint32_t)site_count + begin,
                                               index->code_offsets[c + 1] - begin);
    }
    int status = build_box_tree(index, snapshot, bits, box_order);
    if (threaded)
        pthread_join(thread, NULL);
    return status;
}

SpatialIndex *spatial_index_build(const Snapshot *snapshot, const SpatialIndexOptions *options,
                                  char *error, size_t error_size)
{
    return spatial_index_build_ordered(snapshot, options, NULL, 0, NULL, error, error_size);
}

SpatialIndex *spatial_index_build_ordered(const Snapshot *snapshot,
                                          const SpatialIndexOptions *options, const void *order,
                                          size_t order_size, const char **order_refused,
                                          char *error, size_t error_size)
{
    const char *refused = NULL;
    const uint32_t *box_order = NULL;
    size_t site_count = snapshot->site_count, condition_count = snapshot->condition_count;
    size_t listed = 0, whole_nodes = 0;
    for (size_t s = 0; s < site_count; s++)
        listed += snapshot->sites[s].code_count;
    if (site_count + listed >= UINT32_MAX) {
        fail(error, error_size, "too many sites or site codes");
        return NULL;
    }
    SiteBits bits = {NULL, NULL};
    SpatialIndex *index = calloc(1, sizeof *index);
    if (!index || site_bits_make(&bits, snapshot) != 0)
        goto out_of_memory;
    index->code_offsets = calloc(condition_count + 1, sizeof *index->code_offsets);
    index->code_root = malloc((condition_count + 1) * sizeof *index->code_root);
    index->options = options ? *options : SPATIAL_INDEX_DEFAULTS;
    if (!index->code_offsets || !index->code_root ||
        covering_cache_init(index, condition_count) != 0)
        goto out_of_memory;
    count_sites_per_code(index, snapshot);
    if (allocate_trees(index, site_count, condition_count, &whole_nodes) != 0 ||
        fill_points(index, snapshot) != 0)
        goto out_of_memory;
    if (order) {
        refused = tree_order_check(index, snapshot, order, order_size);
        if (!refused && tree_order_apply(index, snapshot, order, &box_order) != 0)
            refused = "out of memory";
    }
    if (build_trees(index, snapshot, bits, whole_nodes, box_order) != 0)
        goto out_of_memory;
    if (order_refused)
        *order_refused = refused;
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

void spatial_index_free(SpatialIndex *index)
{
    if (!index)
        return;
    covering_cache_free(index);
    free(index->points);
    free(index->nodes);
    free(index->code_offsets);
    free(index->code_root);
    free(index->box_points);
    free(index->box_nodes);
    free(index);
}

size_t spatial_index_cache_bytes(const SpatialIndex *index)
{
    return index ? byte_budget_used(&index->covering_bytes) : 0;
}

void spatial_index_cache_counts(const SpatialIndex *index, size_t *built, size_t *evicted)
{
    *built = index ? atomic_load_explicit(&index->trees_built, memory_order_relaxed) : 0;
    *evicted = index ? atomic_load_explicit(&index->trees_evicted, memory_order_relaxed) : 0;
}

/* The points of the tree of the sites that list `condition`'s own code
 * (not through a group), in no particular order; *count gets their number. */
const TreePoint *listing_points(const SpatialIndex *index, const Snapshot *snapshot,
                                const Condition *condition, size_t *count)
{
    uint32_t c = snapshot_condition_index(snapshot, condition);
    uint32_t begin = index->code_offsets[c];
    *count = index->code_offsets[c + 1] - begin;
    /* The per-code tree permuted the list in place: still the same set. */
    return index->points + snapshot->site_count + begin;
}
