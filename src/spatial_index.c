/* spatial_index.c — static k-d trees, exact geodesic k-nearest, boxes; see
 * spatial_index.h for the design and its invariants. */
#include "spatial_index.h"

#include "geodesy.h"

#include <math.h>
#include <pthread.h>
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

/* 40 bytes. Boxes are floats rounded outwards, so they still contain every
 * point of the node and distances to them stay lower bounds. */
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
};

void site_filter_init(SiteFilter *filter)
{
    filter->role_mask = SITE_FILTER_ALL_ROLES;
    filter->audience_mask = SITE_FILTER_ALL_AUDIENCES;
}

/* --- Building ---------------------------------------------------------- */

typedef struct KdItem {
    double coordinate[3];
    uint32_t site;
} KdItem;

typedef struct Builder {
    const Site *sites;
    const double (*ecef)[3]; /* per site; NULL for the (lon, lat) tree */
    KdItem *items;
    TreePoint *tree_points; /* where an ECEF tree's points go, or NULL */
    uint32_t *points;       /* where the (lon, lat) tree's points go, or NULL */
    KdNode *nodes;
    uint32_t next_node;
    int dimensions;
} Builder;

static size_t node_count_for(size_t count)
{
    if (count <= LEAF_SIZE)
        return 1;
    return 1 + node_count_for(count / 2) + node_count_for(count - count / 2);
}

static int item_less(const KdItem *a, const KdItem *b, int dimension)
{
    if (a->coordinate[dimension] != b->coordinate[dimension])
        return a->coordinate[dimension] < b->coordinate[dimension];
    return a->site < b->site;
}

static void item_swap(KdItem *a, KdItem *b)
{
    KdItem swap = *a;
    *a = *b;
    *b = swap;
}

/* Partially orders items so that items[nth] is where a full sort puts it. */
static void select_nth(KdItem *items, ptrdiff_t count, ptrdiff_t nth, int dimension)
{
    ptrdiff_t left = 0, right = count - 1;
    while (right > left) {
        ptrdiff_t middle = left + (right - left) / 2;
        if (item_less(&items[middle], &items[left], dimension))
            item_swap(&items[middle], &items[left]);
        if (item_less(&items[right], &items[left], dimension))
            item_swap(&items[right], &items[left]);
        if (item_less(&items[right], &items[middle], dimension))
            item_swap(&items[right], &items[middle]);
        KdItem pivot = items[middle];
        ptrdiff_t i = left, j = right;
        while (i <= j) {
            while (item_less(&items[i], &pivot, dimension))
                i++;
            while (item_less(&pivot, &items[j], dimension))
                j--;
            if (i <= j) {
                item_swap(&items[i], &items[j]);
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

static float float_below(double value)
{
    float rounded = (float)value;
    return (double)rounded > value ? nextafterf(rounded, -INFINITY) : rounded;
}

static float float_above(double value)
{
    float rounded = (float)value;
    return (double)rounded < value ? nextafterf(rounded, INFINITY) : rounded;
}

static void leaf_box(Builder *builder, KdNode *node, size_t begin, size_t end)
{
    double low[3] = {INFINITY, INFINITY, INFINITY}, high[3] = {-INFINITY, -INFINITY, -INFINITY};
    node->role_mask = 0;
    node->audience_mask = 0;
    for (size_t i = begin; i < end; i++) {
        const KdItem *item = &builder->items[i];
        for (int d = 0; d < builder->dimensions; d++) {
            if (item->coordinate[d] < low[d])
                low[d] = item->coordinate[d];
            if (item->coordinate[d] > high[d])
                high[d] = item->coordinate[d];
        }
        const Site *site = &builder->sites[item->site];
        node->role_mask |= (uint16_t)(1u << site->role);
        node->audience_mask |= (uint8_t)(1u << site->audience);
    }
    for (int d = 0; d < 3; d++) {
        node->low[d] = d < builder->dimensions ? float_below(low[d]) : 0;
        node->high[d] = d < builder->dimensions ? float_above(high[d]) : 0;
    }
}

/* Builds the subtree of items[begin, end) in preorder. `low`/`high` bound
 * the items (loosely: the parent's box cut at the split); they choose the
 * split axis. The node's stored box is the union of its children's, so
 * building costs O(n log n) for the median splits and O(n) for boxes. */
static uint32_t build_node(Builder *builder, size_t begin, size_t end, uint32_t offset,
                           const double low[3], const double high[3])
{
    uint32_t id = builder->next_node++;
    KdNode *node = &builder->nodes[id];
    node->begin = offset + (uint32_t)begin;
    node->end = offset + (uint32_t)end;
    node->right = 0;
    if (end - begin <= LEAF_SIZE) {
        leaf_box(builder, node, begin, end);
        for (size_t i = begin; i < end; i++) {
            const KdItem *item = &builder->items[i];
            if (builder->tree_points) {
                TreePoint *point = &builder->tree_points[offset + i];
                for (int d = 0; d < 3; d++)
                    point->position[d] = (float)item->coordinate[d];
                point->site = item->site;
            } else {
                builder->points[offset + i] = item->site;
            }
        }
        return id;
    }
    int widest = 0;
    for (int d = 1; d < builder->dimensions; d++)
        if (high[d] - low[d] > high[widest] - low[widest])
            widest = d;
    size_t middle = begin + (end - begin) / 2;
    select_nth(builder->items + begin, (ptrdiff_t)(end - begin), (ptrdiff_t)(middle - begin),
               widest);
    double split = builder->items[middle].coordinate[widest];
    double left_high[3], right_low[3];
    memcpy(left_high, high, sizeof left_high);
    memcpy(right_low, low, sizeof right_low);
    left_high[widest] = split;
    right_low[widest] = split;
    build_node(builder, begin, middle, offset, low, left_high);
    uint32_t right = build_node(builder, middle, end, offset, right_low, high);
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

static void item_set(const Builder *builder, KdItem *item, uint32_t index)
{
    const Site *site = &builder->sites[index];
    item->site = index;
    if (builder->dimensions == 3) {
        memcpy(item->coordinate, builder->ecef[index], sizeof item->coordinate);
    } else {
        item->coordinate[0] = site->lon;
        item->coordinate[1] = site->lat;
        item->coordinate[2] = 0;
    }
}

/* Builds a tree over `sites_in_tree` (count of them) whose points are
 * written at builder->points[offset...]; returns its root or NO_NODE. */
static uint32_t build_tree(Builder *builder, const uint32_t *sites_in_tree, size_t count,
                           uint32_t offset)
{
    if (count == 0)
        return NO_NODE;
    double low[3] = {INFINITY, INFINITY, INFINITY}, high[3] = {-INFINITY, -INFINITY, -INFINITY};
    for (size_t i = 0; i < count; i++) {
        KdItem *item = &builder->items[i];
        item_set(builder, item, sites_in_tree[i]);
        for (int d = 0; d < 3; d++) {
            if (item->coordinate[d] < low[d])
                low[d] = item->coordinate[d];
            if (item->coordinate[d] > high[d])
                high[d] = item->coordinate[d];
        }
    }
    return build_node(builder, 0, count, offset, low, high);
}

static int fail(char *error, size_t error_size, const char *message)
{
    snprintf(error, error_size, "spatial index: %s", message);
    return -1;
}

/* Fills code_offsets and the listing-site lists (points after the first
 * site_count entries), in site order. */
static int list_sites_per_code(struct SpatialIndex *index, const Snapshot *snapshot,
                               uint32_t *lists)
{
    size_t condition_count = snapshot->condition_count;
    uint32_t *fill = calloc(condition_count + 1, sizeof *fill);
    if (!fill)
        return -1;
    for (size_t s = 0; s < snapshot->site_count; s++) {
        const Site *site = &snapshot->sites[s];
        for (uint32_t i = 0; i < site->code_count; i++) {
            const Condition *condition =
                snapshot_condition(snapshot, site_codes(snapshot, site)[i]);
            if (condition)
                index->code_offsets[snapshot_condition_index(snapshot, condition) + 1]++;
        }
    }
    for (size_t c = 0; c < condition_count; c++)
        index->code_offsets[c + 1] += index->code_offsets[c];
    for (size_t s = 0; s < snapshot->site_count; s++) {
        const Site *site = &snapshot->sites[s];
        for (uint32_t i = 0; i < site->code_count; i++) {
            const Condition *condition =
                snapshot_condition(snapshot, site_codes(snapshot, site)[i]);
            if (!condition)
                continue;
            uint32_t c = snapshot_condition_index(snapshot, condition);
            lists[index->code_offsets[c] + fill[c]++] = (uint32_t)s;
        }
    }
    free(fill);
    return 0;
}

typedef struct WholeTreesJob {
    struct SpatialIndex *index;
    const Snapshot *snapshot;
    const uint32_t *all;
    const double (*ecef)[3];
    KdItem *items;
} WholeTreesJob;

/* Builds the ECEF tree and the (lon, lat) tree over all sites. */
static void *build_whole_trees(void *argument)
{
    WholeTreesJob *job = argument;
    struct SpatialIndex *index = job->index;
    size_t site_count = job->snapshot->site_count;
    Builder builder = {job->snapshot->sites, job->ecef, job->items, index->points, NULL,
                       index->nodes,         0,         3};
    index->all_root = build_tree(&builder, job->all, site_count, 0);
    Builder box_builder = {job->snapshot->sites, NULL, job->items, NULL, index->box_points,
                           index->box_nodes,     0,    2};
    index->box_root = build_tree(&box_builder, job->all, site_count, 0);
    return NULL;
}

/* Allocates the index's arrays once the per-code lists are known; sets
 * *largest to the longest list. Returns 0, or -1 when out of memory. */
static int allocate_trees(struct SpatialIndex *index, size_t site_count, size_t condition_count,
                          size_t *whole_nodes, size_t *largest)
{
    size_t listed = index->code_offsets[condition_count];
    *whole_nodes = site_count ? node_count_for(site_count) : 0;
    size_t node_total = *whole_nodes;
    *largest = 0;
    for (size_t c = 0; c < condition_count; c++) {
        size_t count = index->code_offsets[c + 1] - index->code_offsets[c];
        node_total += count ? node_count_for(count) : 0;
        if (count > *largest)
            *largest = count;
    }
    index->points = malloc((site_count + listed + 1) * sizeof *index->points);
    index->nodes = malloc((node_total + 1) * sizeof *index->nodes);
    index->box_points = malloc((site_count + 1) * sizeof *index->box_points);
    index->box_nodes = malloc((*whole_nodes + 1) * sizeof *index->box_nodes);
    return index->points && index->nodes && index->box_points && index->box_nodes ? 0 : -1;
}

/* Builds every tree: the two whole-set trees in a second thread, the
 * per-code trees in this one (their nodes and points occupy disjoint
 * ranges). `lists` holds the per-code lists; returns 0 or -1. */
static int build_trees(struct SpatialIndex *index, const Snapshot *snapshot, uint32_t *lists,
                       size_t whole_nodes, size_t largest)
{
    size_t site_count = snapshot->site_count;
    uint32_t *all = malloc((site_count + 1) * sizeof *all);
    KdItem *items = malloc((largest + 1) * sizeof *items);
    KdItem *whole_items = malloc((site_count + 1) * sizeof *whole_items);
    double(*ecef)[3] = malloc((site_count + 1) * sizeof *ecef);
    if (!all || !items || !whole_items || !ecef) {
        free(all);
        free(items);
        free(whole_items);
        free(ecef);
        return -1;
    }
    for (size_t s = 0; s < site_count; s++) {
        all[s] = (uint32_t)s;
        geodesy_to_ecef(snapshot->sites[s].lat, snapshot->sites[s].lon, ecef[s]);
    }
    WholeTreesJob job = {index, snapshot, all, (const double(*)[3])ecef, whole_items};
    pthread_t thread;
    int threaded = pthread_create(&thread, NULL, build_whole_trees, &job) == 0;
    if (!threaded)
        build_whole_trees(&job);
    Builder builder = {snapshot->sites, (const double(*)[3])ecef, items, index->points, NULL,
                       index->nodes,    (uint32_t)whole_nodes,    3};
    for (size_t c = 0; c < snapshot->condition_count; c++) {
        uint32_t begin = index->code_offsets[c];
        index->code_root[c] =
            build_tree(&builder, lists + begin, index->code_offsets[c + 1] - begin,
                       (uint32_t)site_count + begin);
    }
    if (threaded)
        pthread_join(thread, NULL);
    free(whole_items);
    free(items);
    free(all);
    free(ecef);
    return 0;
}

struct SpatialIndex *spatial_index_build(const Snapshot *snapshot, char *error, size_t error_size)
{
    size_t site_count = snapshot->site_count, condition_count = snapshot->condition_count;
    size_t listed = 0, whole_nodes = 0, largest = 0;
    for (size_t s = 0; s < site_count; s++)
        listed += snapshot->sites[s].code_count;
    if (site_count + listed >= UINT32_MAX) {
        fail(error, error_size, "too many sites or site codes");
        return NULL;
    }
    struct SpatialIndex *index = calloc(1, sizeof *index);
    uint32_t *lists = malloc((listed + 1) * sizeof *lists);
    if (!index || !lists)
        goto out_of_memory;
    index->code_offsets = calloc(condition_count + 1, sizeof *index->code_offsets);
    index->code_root = malloc((condition_count + 1) * sizeof *index->code_root);
    if (!index->code_offsets || !index->code_root ||
        list_sites_per_code(index, snapshot, lists) != 0 ||
        allocate_trees(index, site_count, condition_count, &whole_nodes, &largest) != 0 ||
        build_trees(index, snapshot, lists, whole_nodes, largest) != 0)
        goto out_of_memory;
    free(lists);
    return index;

out_of_memory:
    fail(error, error_size, "out of memory");
    free(lists);
    spatial_index_free(index);
    return NULL;
}

void spatial_index_free(struct SpatialIndex *index)
{
    if (!index)
        return;
    free(index->points);
    free(index->nodes);
    free(index->code_offsets);
    free(index->code_root);
    free(index->box_points);
    free(index->box_nodes);
    free(index);
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

/* --- Nearest ------------------------------------------------------------ */

/* Per-query scratch starts on the stack (about 8 KB) and moves to the heap
 * only when a query outgrows it. */
#define LOCAL_QUEUE_CAPACITY 384
#define LOCAL_SEEN_CAPACITY 256

typedef struct QueueEntry {
    double bound;
    uint32_t id; /* node index, or site index when is_site */
    uint32_t is_site;
} QueueEntry;

typedef struct NearestSearch {
    const Snapshot *snapshot;
    const struct SpatialIndex *index;
    const SiteFilter *filter;
    double lat, lon, query[3];
    QueueEntry *queue; /* local_queue until it grows, then malloc'd */
    size_t queue_length, queue_capacity;
    uint32_t *seen; /* open addressing set of site index + 1; NULL for one tree;
                     * local_seen until it grows, then malloc'd */
    size_t seen_count, seen_capacity;
    QueueEntry *local_queue; /* the caller's stack arrays */
    uint32_t *local_seen;
    NearestResult *best; /* max-heap by (distance, site) */
    size_t best_count, k;
    int failed;
} NearestSearch;

static int result_worse(const NearestResult *a, const NearestResult *b)
{
    if (a->distance_m != b->distance_m)
        return a->distance_m > b->distance_m;
    return a->site > b->site;
}

static void queue_push(NearestSearch *search, double bound, uint32_t id, uint32_t is_site)
{
    if (search->best_count == search->k && bound > search->best[0].distance_m + BOUND_SLACK_M)
        return;
    if (search->queue_length == search->queue_capacity) {
        size_t capacity = search->queue_capacity * 2;
        QueueEntry *grown;
        if (search->queue == search->local_queue) {
            grown = malloc(capacity * sizeof *grown);
            if (grown)
                memcpy(grown, search->queue, search->queue_length * sizeof *grown);
        } else {
            grown = realloc(search->queue, capacity * sizeof *grown);
        }
        if (!grown) {
            search->failed = 1;
            return;
        }
        search->queue = grown;
        search->queue_capacity = capacity;
    }
    size_t at = search->queue_length++;
    while (at > 0) {
        size_t parent = (at - 1) / 2;
        if (search->queue[parent].bound <= bound)
            break;
        search->queue[at] = search->queue[parent];
        at = parent;
    }
    search->queue[at] = (QueueEntry){bound, id, is_site};
}

static QueueEntry queue_pop(NearestSearch *search)
{
    QueueEntry top = search->queue[0];
    QueueEntry last = search->queue[--search->queue_length];
    size_t at = 0, length = search->queue_length;
    for (;;) {
        size_t child = 2 * at + 1;
        if (child >= length)
            break;
        if (child + 1 < length && search->queue[child + 1].bound < search->queue[child].bound)
            child++;
        if (search->queue[child].bound >= last.bound)
            break;
        search->queue[at] = search->queue[child];
        at = child;
    }
    if (length > 0)
        search->queue[at] = last;
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

static void best_offer(NearestSearch *search, uint32_t site, double distance)
{
    NearestResult candidate = {site, distance};
    NearestResult *best = search->best;
    size_t at;
    if (search->best_count < search->k) {
        at = search->best_count++;
        while (at > 0) {
            size_t parent = (at - 1) / 2;
            if (!result_worse(&candidate, &best[parent]))
                break;
            best[at] = best[parent];
            at = parent;
        }
        best[at] = candidate;
        return;
    }
    if (!result_worse(&best[0], &candidate))
        return;
    at = 0;
    for (;;) {
        size_t child = 2 * at + 1;
        if (child >= search->k)
            break;
        if (child + 1 < search->k && result_worse(&best[child + 1], &best[child]))
            child++;
        if (!result_worse(&best[child], &candidate))
            break;
        best[at] = best[child];
        at = child;
    }
    best[at] = candidate;
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

/* Can something at `bound` still enter the k best? */
static int may_compete(const NearestSearch *search, double bound)
{
    return search->best_count < search->k || bound <= search->best[0].distance_m + BOUND_SLACK_M;
}

/* Computes the exact geodesic distance of `site` (once) and offers it. */
static void measure_site(NearestSearch *search, uint32_t site_index)
{
    if (!seen_insert(search, site_index))
        return;
    const Site *site = &search->snapshot->sites[site_index];
    best_offer(search, site_index,
               geodesy_distance_m(search->lat, search->lon, site->lat, site->lon));
}

/* The lower bound of the node's sites' distances, or INFINITY when no site
 * under it passes the filter. */
static double node_bound(const NearestSearch *search, uint32_t id)
{
    const KdNode *node = &search->index->nodes[id];
    return node_may_match(node, search->filter) ? box_distance(node, search->query) : INFINITY;
}

static void push_node(NearestSearch *search, uint32_t id)
{
    double bound = node_bound(search, id);
    if (bound != INFINITY)
        queue_push(search, bound, id, 0);
}

static void scan_leaf(NearestSearch *search, const KdNode *node)
{
    /* The leaf's points are contiguous; the sites themselves (scattered,
     * in site_id order) are read only when the filter needs their role or
     * audience, or for the geodesic of a candidate when it is popped (the
     * geodesic costs far more than a queue entry). */
    int all_pass = node_all_pass(node, search->filter);
    const TreePoint *points = search->index->points;
    for (uint32_t p = node->begin; p < node->end; p++) {
        const TreePoint *point = &points[p];
        double sum = 0;
        for (int d = 0; d < 3; d++) {
            double delta = (double)point->position[d] - search->query[d];
            sum += delta * delta;
        }
        double bound = sqrt(sum) - POINT_SLACK_M;
        if (!may_compete(search, bound))
            continue;
        if (!all_pass &&
            !site_filter_accepts(search->filter, &search->snapshot->sites[point->site]))
            continue;
        queue_push(search, bound > 0 ? bound : 0, point->site, 1);
    }
}

/* Descends from node `id` towards the query, queueing the farther child
 * at each level, and scans the leaf it reaches. */
static void expand_node(NearestSearch *search, uint32_t id)
{
    const KdNode *node = &search->index->nodes[id];
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
        if (far_bound != INFINITY)
            queue_push(search, far_bound, far, 0);
        if (near_bound == INFINITY || !may_compete(search, near_bound))
            return;
        id = near;
        node = &search->index->nodes[id];
    }
    scan_leaf(search, node);
}

static int compare_results(const void *a, const void *b)
{
    const NearestResult *x = a, *y = b;
    return result_worse(x, y) ? 1 : result_worse(y, x) ? -1 : 0;
}

int spatial_index_nearest(const Snapshot *snapshot, double lat, double lon,
                          const Condition *condition, const SiteFilter *filter, size_t k,
                          NearestResult *results)
{
    const struct SpatialIndex *index = snapshot->index;
    if (k == 0 || snapshot->site_count == 0)
        return 0;
    QueueEntry local_queue[LOCAL_QUEUE_CAPACITY];
    uint32_t local_seen[LOCAL_SEEN_CAPACITY];
    NearestSearch search = {snapshot, index, filter, lat, lon, {0, 0, 0}};
    search.local_queue = local_queue;
    search.local_seen = local_seen;
    geodesy_to_ecef(lat, lon, search.query);
    search.k = k;
    search.best = results;
    search.queue_capacity = LOCAL_QUEUE_CAPACITY;
    search.queue = search.local_queue;
    if (!condition) {
        push_node(&search, index->all_root);
    } else {
        const AncestorEntry *ancestors = snapshot->ancestors + condition->ancestors_start;
        size_t trees = 0;
        for (uint32_t a = 0; a < condition->ancestor_count; a++) {
            uint32_t root = index->code_root[ancestors[a].condition];
            if (root != NO_NODE) {
                push_node(&search, root);
                trees++;
            }
        }
        if (trees > 1) {
            search.seen_capacity = LOCAL_SEEN_CAPACITY;
            search.seen = search.local_seen;
            memset(local_seen, 0, sizeof local_seen);
        }
    }
    while (search.queue_length > 0 && !search.failed) {
        QueueEntry top = queue_pop(&search);
        if (search.best_count == k && top.bound > search.best[0].distance_m + BOUND_SLACK_M)
            break;
        if (!top.is_site) {
            expand_node(&search, top.id);
            continue;
        }
        measure_site(&search, top.id);
    }
    if (search.queue != search.local_queue)
        free(search.queue);
    if (search.seen != search.local_seen)
        free(search.seen);
    if (search.failed)
        return -1;
    qsort(results, search.best_count, sizeof *results, compare_results);
    return (int)search.best_count;
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
