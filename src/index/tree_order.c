/* tree_order.c — the trees' point orders, stored so that a server builds
 * its trees in O(n).
 *
 * Owns: the layout of the order (the `tree_order` packed part that
 * `maillage build` writes, dataset.c), its checks and applying it.
 *
 * Median selection is most of the index's build: on 1M sites, about 1.3
 * CPU seconds of a start. But a tree's shape follows from its point count
 * alone (nodes split their range at the middle, leaves hold up to
 * LEAF_SIZE), and a node's box is computed from its own points: so once the
 * points are in the order the selection left them, building the nodes is
 * one O(n) pass, and the trees are the same trees. The order is input
 * (the file): any permutation of a tree's sites still gives exact answers,
 * only slower ones, so the check is that every segment is one; anything
 * else (wrong header, a site twice, a site the tree does not hold) refuses
 * the whole order, and the trees are built by selection.
 *
 * Layout (native 32-bit words, like the packed sites): a header
 * {TREE_ORDER_FORMAT, site_count, listed, condition_count}, then the site
 * indexes of the whole ECEF tree in tree order (site_count), of every
 * condition's listing tree in condition order (listed in all), and of the
 * (lon, lat) tree (site_count). */
#include "index/kd_tree.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define TREE_ORDER_FORMAT 1u
#define TREE_ORDER_HEADER_WORDS 4

/* The listing points of all conditions together. */
static size_t listed_count(const SpatialIndex *index, const Snapshot *snapshot)
{
    return index->code_offsets[snapshot->condition_count];
}

static size_t order_words(const SpatialIndex *index, const Snapshot *snapshot)
{
    return TREE_ORDER_HEADER_WORDS + 2 * snapshot->site_count + listed_count(index, snapshot);
}

void *spatial_index_order(const SpatialIndex *index, const Snapshot *snapshot, size_t *size)
{
    size_t site_count = snapshot->site_count, listed = listed_count(index, snapshot);
    uint32_t *words = malloc(order_words(index, snapshot) * sizeof *words);
    if (!words)
        return NULL;
    words[0] = TREE_ORDER_FORMAT;
    words[1] = (uint32_t)site_count;
    words[2] = (uint32_t)listed;
    words[3] = (uint32_t)snapshot->condition_count;
    uint32_t *out = words + TREE_ORDER_HEADER_WORDS;
    for (size_t i = 0; i < site_count + listed; i++)
        *out++ = index->points[i].site;
    for (size_t i = 0; i < site_count; i++)
        *out++ = index->box_points[i];
    *size = order_words(index, snapshot) * sizeof *words;
    return words;
}

/* Whether `order[0, count)` is a permutation of the sites stamped
 * `expected` (each once): stamps them `expected + 1` as it goes. */
static int segment_is_permutation(const uint32_t *order, size_t count, uint32_t *stamps,
                                  size_t site_count, uint32_t expected)
{
    for (size_t i = 0; i < count; i++) {
        uint32_t site = order[i];
        if (site >= site_count || stamps[site] != expected)
            return 0;
        stamps[site] = expected + 1;
    }
    return 1;
}

/* Checks the whole-set segment `order` (site_count entries) with stamp
 * generation *next; returns 1 when it is a permutation of every site. */
static int whole_segment_valid(const uint32_t *order, size_t site_count, uint32_t *stamps,
                               uint32_t *next)
{
    uint32_t expected = (*next += 2);
    for (size_t s = 0; s < site_count; s++)
        stamps[s] = expected;
    return segment_is_permutation(order, site_count, stamps, site_count, expected);
}

const char *tree_order_check(const SpatialIndex *index, const Snapshot *snapshot, const void *bytes,
                             size_t size)
{
    size_t site_count = snapshot->site_count, listed = listed_count(index, snapshot);
    const uint32_t *words = bytes;
    if (size % sizeof *words != 0 || size / sizeof *words < TREE_ORDER_HEADER_WORDS)
        return "its size is not a header and whole words";
    if (words[0] != TREE_ORDER_FORMAT)
        return "its format is not this build's";
    if (words[1] != site_count || words[2] != listed || words[3] != snapshot->condition_count ||
        size / sizeof *words != order_words(index, snapshot))
        return "it was written for other sites";
    uint32_t *stamps = calloc(site_count + 1, sizeof *stamps);
    if (!stamps)
        return "out of memory";
    const uint32_t *order = words + TREE_ORDER_HEADER_WORDS;
    const char *reason = NULL;
    uint32_t next = 0;
    if (!whole_segment_valid(order, site_count, stamps, &next))
        reason = "the whole tree's order is not a permutation of the sites";
    /* fill_points() left each condition's listing sites in site order. */
    const TreePoint *listing = index->points + site_count;
    for (size_t c = 0; !reason && c < snapshot->condition_count; c++) {
        uint32_t begin = index->code_offsets[c], count = index->code_offsets[c + 1] - begin;
        uint32_t expected = (next += 2);
        for (uint32_t i = 0; i < count; i++)
            stamps[listing[begin + i].site] = expected;
        if (!segment_is_permutation(order + site_count + begin, count, stamps, site_count,
                                    expected))
            reason = "a condition's order is not a permutation of its listing sites";
    }
    if (!reason && !whole_segment_valid(order + site_count + listed, site_count, stamps, &next))
        reason = "the (lon, lat) tree's order is not a permutation of the sites";
    free(stamps);
    return reason;
}

int tree_order_apply(SpatialIndex *index, const Snapshot *snapshot, const void *bytes,
                     const uint32_t **box_order)
{
    size_t site_count = snapshot->site_count, listed = listed_count(index, snapshot);
    const uint32_t *order = (const uint32_t *)bytes + TREE_ORDER_HEADER_WORDS;
    /* The whole range is in site order: by_site[s] is site s's point. */
    TreePoint *by_site = malloc((site_count + 1) * sizeof *by_site);
    if (!by_site)
        return -1;
    memcpy(by_site, index->points, site_count * sizeof *by_site);
    for (size_t i = 0; i < site_count + listed; i++) {
        assert(order[i] < site_count);
        index->points[i] = by_site[order[i]];
    }
    free(by_site);
    *box_order = order + site_count + listed;
    return 0;
}
