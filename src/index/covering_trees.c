/* covering_trees.c — the spatial index's cache of covering trees; see
 * spatial_index.h and the section comment below. */
#include "index/kd_tree.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* --- Covering trees -----------------------------------------------------
 *
 * A query for condition D searches the trees of all D's ancestors that
 * some site lists (about 15 for the benchmark's codes); each costs a
 * descent and a leaf scan, most of the query's time. A covering tree holds
 * the distinct sites of all those trees in one tree, so the same query
 * descends once. One for every condition would cost about 23 million
 * points (370 MB) on a 1M-site network, so they are a cache within a
 * budget (SpatialIndexOptions.cache_budget; `serve --nearest-cache-mb`),
 * built on demand. Answers are identical with or without a tree (the tests
 * run both).
 *
 * Policy. While the budget has room, a condition's tree is built at its
 * first query. Once it is full, admission is by frequency (TinyLFU's rule):
 * every query counts a use of its condition (a saturating 8-bit counter,
 * all of them halved each time the uses add up to AGING_USES per
 * condition, so "frequent" means recently frequent), and a condition used
 * at least ADMIT_USES times may build its tree only by evicting trees of
 * conditions used less than itself. The victims are found with CLOCK: the
 * hand walks the slots, a tree used since the hand last passed (its
 * `referenced` bit, set by queries) loses the bit and stays, an unused one
 * used less than half as often as the newcomer is evicted (the counts are
 * noisy: with "less often" alone, codes of about equal use evicted each
 * other in turn, 19,500 trees rebuilt in 20 s of a Zipf load). The hand looks at
 * EVICT_LOOKS trees at most per admission, and a query that finds another
 * evicting gives up at once (trylock): admission never makes a query wait.
 * Without the frequency rule (admission by recent misses alone), a Zipf
 * law over 9,479 codes on 1M sites made the cache churn: 45% of the CPU
 * went to building trees that were evicted before they paid back, and
 * nearest fell to 0.56 of its 400-code rate.
 *
 * The room an eviction makes comes back only once the evicted trees'
 * readers are gone, usually after the newcomer's query has given up; it is
 * then reserved for that newcomer (`reserved_for`): other conditions take
 * only the room beyond it. Without the reservation, the room went to
 * whichever admitted code came first, often one used half as much, which
 * the next newcomer evicted again: a Zipf load on 1M sites still rebuilt
 * about 250 trees a second. With it and the rule below, about 60 (trees of
 * conditions whose halved counts fall just under half a newcomer's).
 *
 * Without its own tree, a condition is searched through its ancestors'
 * trees (covering_cover): a covering tree of an ancestor A holds every
 * listing of A's ancestors, so it replaces all their listing trees when
 * they are all ancestors of the condition too (checked: an ancestor in one
 * classification may have parents in another that the condition lacks).
 * Parents' trees are built and admitted like any other, and since each
 * serves all its children, they stay hot: a rare code searches its own
 * listing and one or two parent trees instead of about 15 listing trees.
 * So once the budget is full, a condition whose cover leaves at most
 * COVER_GOOD_TREES trees to search does not build its own tree unless it
 * is hot (HOT_USES): its room is worth more to a tree that saves more. On
 * 1M sites and 9,479 codes, every tree would take 94 MB; with this rule the
 * ones worth building take about 60 MB, and the 32 MB budget keeps the
 * hottest of them.
 *
 * Concurrency. Readers never lock: a query announces itself
 * (epoch_read_begin, base/epochs.h), loads a slot, sets the use bit, and
 * searches. A tree is built outside any lock and published with a
 * compare-and-swap (two threads may build the same tree at once: the loser
 * frees its copy and gives its bytes back). Eviction runs under
 * `evict_lock`, one evictor at a time: it unlinks a tree with a
 * compare-and-swap, keeps it on the retired list with its epoch, and frees
 * it, giving its bytes back, once no query that began before the unlink is
 * still running. Bytes are charged from before a tree is built until it is
 * freed, so the budget bounds what is held, not just what is published. */

#define ADMIT_USES 16  /* recent uses before a tree may displace others */
#define AGING_USES 16  /* per condition: uses after which every counter is halved */
#define HOT_USES 64    /* recent uses after which a condition is worth its own tree */
#define EVICT_MARGIN 2 /* a victim is used less than 1/EVICT_MARGIN as often as the newcomer */
#define EVICT_LOOKS 64 /* trees the clock hand looks at per admission, at most */

static size_t covering_tree_bytes(size_t count)
{
    return sizeof(CoveringTree) + count * sizeof(TreePoint) +
           (count ? node_count_for(count) : 0) * sizeof(KdNode);
}

#define NO_RESERVATION UINT32_MAX

/* Takes `bytes` for a tree of condition `c` from the budget, leaving free
 * the room made for another condition's tree; returns 0 when they do not
 * fit. Taking the room made for `c` ends its reservation. */
static int budget_take(SpatialIndex *index, uint32_t c, size_t bytes)
{
    uint32_t reserved_for = atomic_load_explicit(&index->reserved_for, memory_order_relaxed);
    size_t promised =
        reserved_for == c ? 0 : atomic_load_explicit(&index->reserved_bytes, memory_order_relaxed);
    if (!byte_budget_take(&index->covering_bytes, bytes, promised))
        return 0;
    if (reserved_for == c &&
        atomic_compare_exchange_strong(&index->reserved_for, &reserved_for, NO_RESERVATION))
        atomic_store_explicit(&index->reserved_bytes, 0, memory_order_relaxed);
    return 1;
}

static void budget_give_back(SpatialIndex *index, size_t bytes)
{
    byte_budget_give_back(&index->covering_bytes, bytes);
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

static void covering_tree_free(CoveringTree *tree)
{
    free(tree->points);
    free(tree->nodes);
    free(tree);
}

/* Frees the retired trees no running query can hold, giving their bytes
 * back. Called under evict_lock. */
static void collect_retired(SpatialIndex *index)
{
    uint64_t oldest = epoch_oldest_reader(&index->readers);
    CoveringTree **link = &index->retired;
    while (*link) {
        CoveringTree *tree = *link;
        if (tree->retired_epoch >= oldest) {
            link = &tree->next;
            continue;
        }
        *link = tree->next;
        budget_give_back(index, tree->bytes);
        covering_tree_free(tree);
    }
}

/* Moves the clock hand over at most EVICT_LOOKS trees (and two turns),
 * evicting unused trees of conditions used less than `uses` times until
 * `wanted` bytes of them wait on the retired list; returns the bytes
 * evicted. Called under evict_lock. */
static size_t evict_unused(SpatialIndex *index, size_t wanted, unsigned uses)
{
    size_t evicted = 0, looked = 0;
    for (size_t step = 0;
         step < 2 * index->condition_count && evicted < wanted && looked < EVICT_LOOKS; step++) {
        size_t slot = index->clock_hand;
        index->clock_hand = (slot + 1) % index->condition_count;
        CoveringTree *tree = atomic_load(&index->covering[slot]);
        if (!tree)
            continue;
        looked++;
        if (atomic_exchange_explicit(&tree->referenced, false, memory_order_relaxed))
            continue; /* used since the hand last passed: a second chance */
        if (EVICT_MARGIN *
                (unsigned)atomic_load_explicit(&index->uses[slot], memory_order_relaxed) >=
            uses)
            continue; /* not clearly less useful than the newcomer */
        CoveringTree *expected = tree;
        if (!atomic_compare_exchange_strong(&index->covering[slot], &expected, NULL))
            continue;
        atomic_fetch_add_explicit(&index->trees_evicted, 1, memory_order_relaxed);
        tree->retired_epoch = epoch_retire(&index->readers);
        tree->next = index->retired;
        index->retired = tree;
        evicted += tree->bytes;
    }
    return evicted;
}

/* Makes room for a tree of `bytes` for condition `c`, used `uses` times,
 * by evicting unused trees of conditions used less; the room is reserved
 * for `c` until it takes it or another newcomer evicts. Returns 1 when
 * the tree fits the budget now (its bytes are not taken), 0 otherwise
 * (the evicted trees still have readers, nothing could be evicted, or
 * another query is evicting). */
static int make_room(SpatialIndex *index, uint32_t c, size_t bytes, unsigned uses)
{
    size_t limit = index->covering_bytes.limit;
    if (bytes > limit)
        return 0;
    if (pthread_mutex_trylock(&index->evict_lock) != 0)
        return 0;
    collect_retired(index);
    size_t used = byte_budget_used(&index->covering_bytes);
    if (used + bytes > limit && evict_unused(index, used + bytes - limit, uses) > 0) {
        atomic_store_explicit(&index->reserved_bytes, bytes, memory_order_relaxed);
        atomic_store_explicit(&index->reserved_for, c, memory_order_relaxed);
        collect_retired(index);
    }
    used = byte_budget_used(&index->covering_bytes);
    pthread_mutex_unlock(&index->evict_lock);
    return used + bytes <= limit;
}

/* Counts a use of condition `c` (halving every counter once the uses add
 * up to AGING_USES per condition); returns its recent uses. The counters
 * are hints: two queries counting at once may count one use. */
static unsigned count_use(SpatialIndex *index, uint32_t c)
{
    unsigned uses = atomic_load_explicit(&index->uses[c], memory_order_relaxed);
    if (uses < UINT8_MAX)
        atomic_store_explicit(&index->uses[c], (uint8_t)++uses, memory_order_relaxed);
    if (atomic_fetch_add_explicit(&index->use_count, 1, memory_order_relaxed) + 1 >=
        AGING_USES * index->condition_count) {
        atomic_store_explicit(&index->use_count, 0, memory_order_relaxed);
        for (size_t i = 0; i < index->condition_count; i++) {
            unsigned value = atomic_load_explicit(&index->uses[i], memory_order_relaxed);
            atomic_store_explicit(&index->uses[i], (uint8_t)(value / 2), memory_order_relaxed);
        }
    }
    return uses;
}

/* Charges `bytes` for a new tree of condition `c`, used `uses` times:
 * from free room until the budget first fills up; after that, only once
 * it is admitted by its uses, from free room or room made by evicting
 * trees of conditions used less than half `claim` times (room made for
 * another newcomer is not taken). Returns 1 when charged, 0 when the query
 * should do without. */
static int charge_new_tree(SpatialIndex *index, uint32_t c, unsigned uses, unsigned claim,
                           size_t bytes)
{
    int filled = atomic_load_explicit(&index->covering_filled, memory_order_relaxed);
    if ((!filled || uses >= ADMIT_USES) && budget_take(index, c, bytes))
        return 1;
    if (!filled)
        atomic_store_explicit(&index->covering_filled, true, memory_order_relaxed);
    if (uses < ADMIT_USES)
        return 0;
    return make_room(index, c, bytes, claim) && budget_take(index, c, bytes);
}

/* Builds and publishes the covering tree of condition `c`, used `uses`
 * times and evicting with `claim` (see charge_new_tree()), whose ancestor
 * trees hold `listed` points; returns the published tree, or NULL when it
 * was not admitted or the memory is short. */
static const CoveringTree *covering_tree_build(SpatialIndex *index, const Snapshot *snapshot,
                                               const Condition *condition, uint32_t c,
                                               size_t listed, unsigned uses, unsigned claim)
{
    size_t charged = covering_tree_bytes(listed);
    if (!charge_new_tree(index, c, uses, claim, charged))
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
    tree->points = points;
    tree->nodes = nodes;
    tree->root = build_point_tree(&builder, 0, (uint32_t)count);
    tree->count = (uint32_t)count;
    tree->bytes = covering_tree_bytes(count);
    atomic_init(&tree->referenced, true);
    budget_give_back(index, charged - tree->bytes);
    CoveringTree *expected = NULL;
    if (atomic_compare_exchange_strong(&index->covering[c], &expected, tree)) {
        atomic_fetch_add_explicit(&index->trees_built, 1, memory_order_relaxed);
        return tree;
    }
    /* Another thread published the same tree first. */
    budget_give_back(index, tree->bytes);
    free(points);
    free(nodes);
    free(tree);
    return expected;
}

/* The tree condition `c` holds now, marked as used; NULL when none. */
static const CoveringTree *held_tree(SpatialIndex *index, uint32_t c)
{
    CoveringTree *tree = atomic_load(&index->covering[c]); /* seq_cst: see epochs.h */
    if (tree && !atomic_load_explicit(&tree->referenced, memory_order_relaxed))
        atomic_store_explicit(&tree->referenced, true, memory_order_relaxed);
    return tree;
}

/* The tree of condition `c` (`condition`), held now or built now if
 * admitted, after counting a use; NULL when it has none (its ancestors
 * have fewer than two listing trees, or it was not admitted). */
static const CoveringTree *condition_tree(SpatialIndex *index, const Snapshot *snapshot,
                                          const Condition *condition)
{
    uint32_t c = snapshot_condition_index(snapshot, condition);
    unsigned uses = count_use(index, c);
    const CoveringTree *tree = held_tree(index, c);
    size_t listed;
    if (tree || ancestor_trees(index, snapshot, condition, &listed) < 2)
        return tree;
    return covering_tree_build(index, snapshot, condition, c, listed, uses, uses);
}

/* The entry of `condition`'s ancestor list that holds condition index
 * `c`, or -1 when `c` is not among its ancestors. */
static long ancestor_entry(const Snapshot *snapshot, const Condition *condition, uint32_t c)
{
    const AncestorEntry *ancestors = snapshot->ancestors + condition->ancestors_start;
    for (uint32_t a = 0; a < condition->ancestor_count; a++)
        if (ancestors[a].condition == c)
            return (long)a;
    return -1;
}

/* Marks in `covered` (entries of `condition`'s ancestor list) every
 * ancestor of `ancestor`, whose covering tree holds their listings.
 * Returns 0, marking nothing, when one of them is not an ancestor of
 * `condition`: that tree holds sites that do not cover it. */
static int mark_covered(const Snapshot *snapshot, const Condition *condition,
                        const Condition *ancestor, uint8_t *covered)
{
    const AncestorEntry *above = snapshot->ancestors + ancestor->ancestors_start;
    for (uint32_t a = 0; a < ancestor->ancestor_count; a++)
        if (ancestor_entry(snapshot, condition, above[a].condition) < 0)
            return 0;
    for (uint32_t a = 0; a < ancestor->ancestor_count; a++)
        covered[ancestor_entry(snapshot, condition, above[a].condition)] = 1;
    return 1;
}

size_t covering_cover(const SpatialIndex *shared, const Snapshot *snapshot,
                      const Condition *condition, int reader, const CoveringTree **trees,
                      size_t max_trees, uint8_t *covered)
{
    SpatialIndex *index = (SpatialIndex *)shared; /* see covering_plan() */
    memset(covered, 0, condition->ancestor_count);
    if (!index->options.covering_trees || reader < 0)
        return 0;
    const AncestorEntry *ancestors = snapshot->ancestors + condition->ancestors_start;
    size_t count = 0;
    /* By depth: a parent's tree holds its own ancestors' listings. */
    for (uint32_t a = 1; a < condition->ancestor_count && count < max_trees; a++) {
        if (covered[a])
            continue;
        const Condition *ancestor = &snapshot->conditions[ancestors[a].condition];
        const CoveringTree *tree = ancestors[a].depth == 1
                                       ? condition_tree(index, snapshot, ancestor)
                                       : held_tree(index, ancestors[a].condition);
        if (tree && mark_covered(snapshot, condition, ancestor, covered))
            trees[count++] = tree;
    }
    assert(!covered[0]);
    return count;
}

/* Listing trees of `condition`'s ancestors that `plan` leaves to search. */
static size_t uncovered_listing_trees(const SpatialIndex *index, const Snapshot *snapshot,
                                      const Condition *condition, const CoveringPlan *plan)
{
    const AncestorEntry *ancestors = snapshot->ancestors + condition->ancestors_start;
    size_t trees = 0;
    for (uint32_t a = 0; a < condition->ancestor_count; a++)
        trees += plan_leaves_listing(index, plan, a, ancestors[a].condition);
    return trees;
}

/* Fills `plan` with `condition`'s cover by its ancestors' trees; returns
 * the number of trees (covering and listing) a query then searches. */
static size_t plan_cover(SpatialIndex *index, const Snapshot *snapshot, const Condition *condition,
                         int reader, CoveringPlan *plan)
{
    if (condition->ancestor_count > COVER_MAX_ANCESTORS)
        return uncovered_listing_trees(index, snapshot, condition, plan);
    plan->tree_count = covering_cover(index, snapshot, condition, reader, plan->trees,
                                      COVER_MAX_TREES, plan->covered);
    return plan->tree_count + uncovered_listing_trees(index, snapshot, condition, plan);
}

/* The claim of a condition without a tree, used `uses` times, to a tree
 * of its own: the uses it evicts with (trees of conditions used less than
 * half that give way), 0 when it should do without. While the cache has
 * never been full: its uses. After that: its uses when its ancestors'
 * trees would leave more than COVER_GOOD_TREES trees to search; half of
 * them when they would leave fewer but it is hot (it then displaces only
 * trees used less than a quarter as much: with half, codes just above and
 * just below HOT_USES displaced each other, 60 rebuilds a second); else 0.
 * Sets *planned when it filled `plan` with that cover. */
static unsigned claim_to_own_tree(SpatialIndex *index, const Snapshot *snapshot,
                                  const Condition *condition, int reader, unsigned uses,
                                  CoveringPlan *plan, int *planned)
{
    if (!atomic_load_explicit(&index->covering_filled, memory_order_relaxed))
        return uses;
    *planned = 1;
    if (plan_cover(index, snapshot, condition, reader, plan) > COVER_GOOD_TREES)
        return uses;
    return uses >= HOT_USES ? uses / 2 : 0;
}

void covering_plan(const SpatialIndex *shared, const Snapshot *snapshot, const Condition *condition,
                   int reader, CoveringPlan *plan)
{
    /* The cache is the index's one mutable part, synchronised by atomics
     * and epochs (see above): a query may add a tree to an index it reads. */
    SpatialIndex *index = (SpatialIndex *)shared;
    plan->tree_count = 0;
    plan->whole = 0;
    uint32_t entries = condition->ancestor_count;
    memset(plan->covered, 0, entries < COVER_MAX_ANCESTORS ? entries : COVER_MAX_ANCESTORS);
    if (!index->options.covering_trees || reader < 0)
        return;
    uint32_t c = snapshot_condition_index(snapshot, condition);
    unsigned uses = count_use(index, c);
    const CoveringTree *tree = held_tree(index, c);
    size_t listed;
    if (!tree && ancestor_trees(index, snapshot, condition, &listed) >= 2) {
        int planned = 0;
        unsigned claim =
            claim_to_own_tree(index, snapshot, condition, reader, uses, plan, &planned);
        if (claim > 0)
            tree = covering_tree_build(index, snapshot, condition, c, listed, uses, claim);
        if (!tree && !planned)
            plan_cover(index, snapshot, condition, reader, plan);
    }
    if (tree) {
        plan->trees[0] = tree;
        plan->tree_count = 1;
        plan->whole = 1;
    }
}

int covering_cache_init(SpatialIndex *index, size_t condition_count)
{
    index->covering = calloc(condition_count + 1, sizeof *index->covering);
    index->uses = calloc(condition_count + 1, sizeof *index->uses);
    if (!index->covering || !index->uses || epoch_readers_init(&index->readers) != 0)
        return -1;
    if (pthread_mutex_init(&index->evict_lock, NULL) != 0)
        return -1;
    index->evict_lock_ready = 1;
    byte_budget_init(&index->covering_bytes, index->options.cache_budget);
    atomic_init(&index->reserved_for, NO_RESERVATION);
    atomic_init(&index->reserved_bytes, 0);
    atomic_init(&index->trees_built, 0);
    atomic_init(&index->trees_evicted, 0);
    atomic_init(&index->use_count, 0);
    atomic_init(&index->covering_filled, false);
    return 0;
}

void covering_cache_free(SpatialIndex *index)
{
    for (size_t c = 0; index->covering && c < index->condition_count; c++) {
        CoveringTree *tree = atomic_load(&index->covering[c]);
        if (tree)
            covering_tree_free(tree);
    }
    while (index->retired) {
        CoveringTree *next = index->retired->next;
        covering_tree_free(index->retired);
        index->retired = next;
    }
    free(index->covering);
    free(index->uses);
    epoch_readers_free(&index->readers);
    if (index->evict_lock_ready)
        pthread_mutex_destroy(&index->evict_lock);
}

size_t spatial_index_covering_tree_size(const SpatialIndex *index, const Snapshot *snapshot,
                                        const Condition *condition)
{
    uint32_t c = snapshot_condition_index(snapshot, condition);
    const CoveringTree *tree = atomic_load(&index->covering[c]); /* tests: no query running */
    return tree ? tree->count : 0;
}
