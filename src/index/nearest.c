/* nearest.c — the exact geodesic k-nearest search of the spatial index;
 * see spatial_index.h for the design and the section comment below for
 * the bounds. */
#include "index/kd_tree.h"

#include "base/geodesy.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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
#define SMALLEST_CURVATURE_RADIUS_M floor(GEODESY_WGS84_SMALLEST_CURVATURE_M)
/* Longer than any geodesic on WGS84 (half a meridian: 20,003,931.46 m). */
#define LONGEST_GEODESIC_M 20004000.0
/* WGS84's semi-axes: b (6,356,752.314 m) rounded down, a. */
#define POLAR_RADIUS_M floor(GEODESY_WGS84_B)
#define EQUATORIAL_RADIUS_M GEODESY_WGS84_A
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

/* Per-query scratch starts on the stack (about 10 KB) and moves to the
 * heap only when a query outgrows it. */
#define LOCAL_QUEUE_CAPACITY 256
#define LOCAL_SEEN_CAPACITY 256
#define LOCAL_CANDIDATE_CAPACITY 256
#define LOCAL_CHORD_BEST_CAPACITY 16

typedef struct QueueEntry {
    double bound;
    uint32_t node;
    uint32_t tree; /* index into NearestSearch.trees */
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

/* Makes room for `extra` more items; returns 0, or -1 when out of memory.
 * Not base/array.h: the first block is the caller's stack array, which
 * must be copied, never realloc'd (the query's hot path stays off the heap). */
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

typedef struct SearchedTree {
    const KdNode *nodes;
    const TreePoint *points;
} SearchedTree;

typedef struct NearestSearch {
    const Snapshot *snapshot;
    const SpatialIndex *index;
    const SiteFilter *filter;
    /* The arrays of the trees searched: [0] the index's (the tree over all
     * sites and the listing trees), then covering trees. */
    SearchedTree trees[1 + COVER_MAX_TREES];
    size_t tree_count;
    double lat, lon, query[3];
    double query_radius; /* |query|, the query's distance from the Earth's centre */
    size_t k;
    int prune;          /* 0 in the fallback search: every covering site is a candidate */
    int reader;         /* epoch slot while a covering tree may be read; -1: none */
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

static void queue_push(NearestSearch *search, double bound, uint32_t tree, uint32_t node)
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
    queue[at] = (QueueEntry){bound, node, tree};
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

/* Returns 1 when `site` was not seen before (and records it), 0 if it was.
 * A set of site index + 1 in 4 bytes a slot, starting on the stack: not
 * base/slots.h, whose 12-byte slots and heap start would cost the query. */
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
        search->radius = geodesic_upper_bound(heap[0].upper) * search->index->options.radius_factor;
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
/* The lower bound of the node's sites' distances, or INFINITY when no site
 * under it passes the filter. */
static double node_bound(const NearestSearch *search, const KdNode *node)
{
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

static void scan_leaf(NearestSearch *search, const TreePoint *points, const KdNode *node)
{
    /* The leaf's points are contiguous; a site itself (scattered, in
     * site_id order) is read only when the filter needs its role or
     * audience. */
    int all_pass = node_all_pass(node, search->filter);
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
        if (!all_pass && !site_filter_accepts(search->snapshot, search->filter,
                                              &search->snapshot->sites[point->site]))
            continue;
        candidate_add(search, point->site, lower);
        chord_offer(search, point->site, chord + POINT_SLACK_M);
    }
}

/* Descends from node `id` towards the query, queueing the farther child
 * at each level, and scans the leaf it reaches. */
static void expand_node(NearestSearch *search, uint32_t tree, uint32_t id)
{
    const KdNode *nodes = search->trees[tree].nodes;
    const KdNode *node = &nodes[id];
    while (node->right) {
        uint32_t near = id + 1, far = node->right;
        double near_bound = node_bound(search, &nodes[near]);
        double far_bound = node_bound(search, &nodes[far]);
        if (far_bound < near_bound) {
            uint32_t swap = near;
            near = far;
            far = swap;
            double swap_bound = near_bound;
            near_bound = far_bound;
            far_bound = swap_bound;
        }
        queue_push(search, far_bound, tree, far);
        if (near_bound == INFINITY || near_bound > search->radius)
            return;
        id = near;
        node = &nodes[id];
    }
    scan_leaf(search, search->trees[tree].points, node);
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

/* Queues the root of tree `tree`'s node `root`. */
static void push_root(NearestSearch *search, uint32_t tree, uint32_t root)
{
    queue_push(search, node_bound(search, &search->trees[tree].nodes[root]), tree, root);
}

/* Adds a covering tree to the trees searched; returns its number. */
static uint32_t add_covering_tree(NearestSearch *search, const CoveringTree *tree)
{
    assert(search->tree_count < sizeof search->trees / sizeof search->trees[0]);
    search->trees[search->tree_count] = (SearchedTree){tree->nodes, tree->points};
    return (uint32_t)search->tree_count++;
}

/* Queues the roots of the trees that hold the covering sites: the tree
 * over all sites, the condition's covering tree, or its ancestors'
 * covering trees and the listing trees of the ancestors they leave out;
 * returns how many trees. */
static size_t push_roots(NearestSearch *search, const Condition *condition)
{
    const SpatialIndex *index = search->index;
    search->trees[0] = (SearchedTree){index->nodes, index->points};
    search->tree_count = 1;
    if (!condition) {
        push_root(search, 0, index->all_root);
        return 1;
    }
    CoveringPlan plan;
    covering_plan(index, search->snapshot, condition, search->reader, &plan);
    for (size_t t = 0; t < plan.tree_count; t++)
        push_root(search, add_covering_tree(search, plan.trees[t]), plan.trees[t]->root);
    size_t trees = plan.tree_count;
    if (plan.whole)
        return trees;
    const AncestorEntry *ancestors = search->snapshot->ancestors + condition->ancestors_start;
    for (uint32_t a = 0; a < condition->ancestor_count; a++) {
        if (plan_leaves_listing(index, &plan, a, ancestors[a].condition)) {
            push_root(search, 0, index->code_root[ancestors[a].condition]);
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
        expand_node(search, top.tree, top.node);
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

int spatial_index_nearest(const SpatialIndex *index, const Snapshot *snapshot, double lat,
                          double lon, const Condition *condition, const SiteFilter *filter,
                          size_t k, NearestResult *results)
{
    if (k == 0 || snapshot->site_count == 0)
        return 0;
    NearestSearch search = {.snapshot = snapshot,
                            .index = index,
                            .filter = filter,
                            .lat = lat,
                            .lon = lon,
                            .k = k,
                            .prune = 1};
    /* A covering tree found below stays valid until the read ends. */
    search.reader = condition ? epoch_read_begin(&((SpatialIndex *)index)->readers) : -1;
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
    epoch_read_end(&((SpatialIndex *)index)->readers, search.reader);
    if (found > 0)
        qsort(results, (size_t)found, sizeof *results, compare_results);
    return found;
}
