/* test_index.c — the spatial index against brute force on a synthetic
 * in-memory snapshot (5,000 synthetic sites, many sharing positions, a small
 * synthetic polyhierarchical classification): nearest with and without a
 * condition and filters, bounding boxes (antimeridian, inclusive edges,
 * truncation), covering-site counts, and distances against PROJ's `geod`. */
#include "check.h"
#include "base/geodesy.h"
#include "index/kd_tree.h" /* covering_cover(), the cache's internals */
#include "index/spatial_index.h"
#include "model/snapshot.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SYNTHETIC_SITES 5000
#define SYNTHETIC_CONDITIONS 80
#define MAX_PARENTS 3

static uint64_t random_state = 0x9E3779B97F4A7C15ULL;

static uint64_t random_next(void)
{
    random_state ^= random_state << 13;
    random_state ^= random_state >> 7;
    random_state ^= random_state << 17;
    return random_state;
}

static double random_uniform(double low, double high)
{
    return low + (high - low) * ((double)(random_next() >> 11) / 9007199254740992.0);
}

static size_t random_below(size_t n)
{
    return (size_t)(random_next() % n);
}

/* The synthetic classification: parents per condition (index < child). */
static int parent_count[SYNTHETIC_CONDITIONS];
static int parents[SYNTHETIC_CONDITIONS][MAX_PARENTS];
/* depth[d][a]: fewest edges from d up to a, -1 when a is not an ancestor. */
static int ancestor_depth[SYNTHETIC_CONDITIONS][SYNTHETIC_CONDITIONS];

static Snapshot *snapshot;
/* The index every test queries (SPATIAL_INDEX_DEFAULTS); tests that need
 * other options build their own over the same snapshot. */
static SpatialIndex *default_index;

static void make_classification(void)
{
    for (int c = 0; c < SYNTHETIC_CONDITIONS; c++) {
        parent_count[c] = c < 4 ? 0 : 1 + (int)random_below(c < 10 ? 1 : MAX_PARENTS);
        for (int p = 0; p < parent_count[c]; p++)
            parents[c][p] = (int)random_below((size_t)(c < 20 ? c : 20 + (c - 20) / 2));
    }
    for (int c = 0; c < SYNTHETIC_CONDITIONS; c++) {
        for (int a = 0; a < SYNTHETIC_CONDITIONS; a++)
            ancestor_depth[c][a] = -1;
        ancestor_depth[c][c] = 0;
        /* Breadth-first upwards. */
        int queue[SYNTHETIC_CONDITIONS], head = 0, tail = 0;
        queue[tail++] = c;
        while (head < tail) {
            int node = queue[head++];
            for (int p = 0; p < parent_count[node]; p++) {
                int parent = parents[node][p];
                if (ancestor_depth[c][parent] < 0) {
                    ancestor_depth[c][parent] = ancestor_depth[c][node] + 1;
                    queue[tail++] = parent;
                }
            }
        }
    }
}

static int32_t code_of(int c)
{
    return 5000 + c * 7; /* orpha codes, increasing with the index */
}

static void fill_conditions(void)
{
    static const char *const labels[] = {"synthetic group", "synthetic disorder"};
    snapshot->condition_count = SYNTHETIC_CONDITIONS;
    snapshot->conditions = calloc(SYNTHETIC_CONDITIONS, sizeof *snapshot->conditions);
    snapshot->ancestors =
        calloc(SYNTHETIC_CONDITIONS * SYNTHETIC_CONDITIONS, sizeof *snapshot->ancestors);
    uint32_t start = 0;
    for (int c = 0; c < SYNTHETIC_CONDITIONS; c++) {
        Condition *condition = &snapshot->conditions[c];
        condition->orpha = code_of(c);
        condition->label_fr = condition->label_en = labels[c >= 20];
        condition->level = c >= 20 ? "disorder" : "group";
        condition->status = "active";
        condition->ancestors_start = start;
        /* Sorted by (depth, orpha): depth-major, then index order. */
        for (int depth = 0; depth < SYNTHETIC_CONDITIONS; depth++)
            for (int a = 0; a < SYNTHETIC_CONDITIONS; a++)
                if (ancestor_depth[c][a] == depth)
                    snapshot->ancestors[start + condition->ancestor_count++] =
                        (AncestorEntry){(uint32_t)a, (uint32_t)depth};
        start += condition->ancestor_count;
    }
}

static void fill_sites(void)
{
    /* A few positions shared by many sites (one building, many centres). */
    static const double shared[][2] = {{48.8566, 2.3522},   {48.8449, 2.3133}, {43.2965, 5.3698},
                                       {-21.1151, 55.5364}, {0, 180},          {12.5, -180},
                                       {-89.9, 10},         {45.75, 4.85}};
    snapshot->site_count = SYNTHETIC_SITES;
    snapshot->sites = calloc(SYNTHETIC_SITES, sizeof *snapshot->sites);
    snapshot->site_codes = calloc(SYNTHETIC_SITES * 3 + 1, sizeof *snapshot->site_codes);
    /* Texts live in the snapshot's pool; every site shares the all-absent
     * details record (index 0). */
    static const char structure_name[] = "Synthetic structure";
    TextRef name = 0;
    uint32_t no_details = 0;
    CHECK(snapshot_text_add(snapshot, structure_name, sizeof structure_name - 1, &name) == 0 &&
              snapshot_details_add(snapshot, &(SiteDetails){0}, &no_details) == 0 &&
              no_details == 0,
          "texts stored");
    uint32_t code_cursor = 0;
    for (size_t s = 0; s < SYNTHETIC_SITES; s++) {
        Site *site = &snapshot->sites[s];
        char id[16];
        int length = snprintf(id, sizeof id, "SYN-%05zu", s);
        CHECK(snapshot_text_add(snapshot, id, (size_t)length, &site->site_id) == 0,
              "site_id stored");
        site->name = name;
        site->details = no_details;
        size_t kind = random_below(10);
        if (kind < 3) {
            const double *position = shared[random_below(sizeof shared / sizeof shared[0])];
            site->lat = position[0];
            site->lon = position[1];
        } else if (kind < 7) { /* metropolitan France */
            site->lat = random_uniform(42.3, 51.1);
            site->lon = random_uniform(-4.8, 8.2);
        } else { /* anywhere */
            site->lat = random_uniform(-90, 90);
            site->lon = random_uniform(-180, 180);
        }
        if (kind == 6) { /* round coordinates: points on box edges */
            site->lat = (double)(int)site->lat;
            site->lon = (double)(int)site->lon;
        }
        site->role = (uint8_t)random_below(ROLE_COUNT);
        site->audience = (uint8_t)random_below(4);
        site->coordinator = SITE_NONE;
        site->codes_start = code_cursor;
        size_t count = random_below(4);
        int32_t codes[3];
        for (size_t i = 0; i < count; i++)
            codes[i] =
                code_of((int)(random_below(10) < 2 ? random_below(20)
                                                   : 20 + random_below(SYNTHETIC_CONDITIONS - 20)));
        /* Sorted, unique. */
        for (size_t i = 0; i < count; i++)
            for (size_t j = i + 1; j < count; j++)
                if (codes[j] < codes[i]) {
                    int32_t swap = codes[i];
                    codes[i] = codes[j];
                    codes[j] = swap;
                }
        for (size_t i = 0; i < count; i++)
            if (i == 0 || codes[i] != codes[i - 1])
                snapshot->site_codes[code_cursor + site->code_count++] = codes[i];
        code_cursor += site->code_count;
    }
}

static int build_snapshot(void)
{
    snapshot = calloc(1, sizeof *snapshot);
    snprintf(snapshot->path, sizeof snapshot->path, "synthetic");
    make_classification();
    fill_conditions();
    fill_sites();
    if (snapshot_count_coverage(snapshot) != 0) {
        fprintf(stderr, "snapshot_count_coverage: out of memory\n");
        return -1;
    }
    char error[256] = "";
    default_index = spatial_index_build(snapshot, NULL, error, sizeof error);
    if (!default_index) {
        fprintf(stderr, "spatial_index_build: %s\n", error);
        return -1;
    }
    return 0;
}

/* A second index over the snapshot with `options`; NULL after a failed CHECK. */
static SpatialIndex *build_index(SpatialIndexOptions options)
{
    char error[256] = "";
    SpatialIndex *built = spatial_index_build(snapshot, &options, error, sizeof error);
    CHECK(built != NULL, "building an index: %s", error);
    return built;
}

/* --- Brute force -------------------------------------------------------- */

static int condition_index_of(int32_t code)
{
    return (code - 5000) / 7;
}

/* Depth through which site covers condition c (brute force), -1 if not;
 * *via gets the code matched through. */
static int brute_covers(const Site *site, int c, int32_t *via)
{
    int best_depth = -1;
    const int32_t *codes = snapshot->site_codes + site->codes_start;
    for (uint32_t i = 0; i < site->code_count; i++) {
        int depth = ancestor_depth[c][condition_index_of(codes[i])];
        if (depth >= 0 &&
            (best_depth < 0 || depth < best_depth || (depth == best_depth && codes[i] < *via))) {
            best_depth = depth;
            *via = codes[i];
        }
    }
    return best_depth;
}

static int brute_accepts(const Site *site, int c, const SiteFilter *filter)
{
    int32_t via = 0;
    return site_filter_accepts_kind(filter, site) && (c < 0 || brute_covers(site, c, &via) >= 0);
}

static int compare_nearest(const void *a, const void *b)
{
    const NearestResult *x = a, *y = b;
    if (x->distance_m != y->distance_m)
        return x->distance_m < y->distance_m ? -1 : 1;
    return x->site < y->site ? -1 : x->site > y->site;
}

static size_t brute_nearest(double lat, double lon, int c, const SiteFilter *filter, size_t k,
                            NearestResult *out)
{
    static NearestResult all[SYNTHETIC_SITES];
    size_t count = 0;
    for (size_t s = 0; s < snapshot->site_count; s++) {
        const Site *site = &snapshot->sites[s];
        if (brute_accepts(site, c, filter))
            all[count++] =
                (NearestResult){(uint32_t)s, geodesy_distance_m(lat, lon, site->lat, site->lon)};
    }
    qsort(all, count, sizeof *all, compare_nearest);
    size_t kept = count < k ? count : k;
    memcpy(out, all, kept * sizeof *out);
    return kept;
}

static void random_filter(SiteFilter *filter)
{
    site_filter_init(filter);
    if (random_below(4) == 0)
        filter->role_mask = (uint32_t)(1 + random_below(SITE_FILTER_ALL_ROLES));
    if (random_below(4) == 0) {
        uint32_t keep = (1u << AUDIENCE_UNSTATED) | (1u << AUDIENCE_TOUS);
        filter->audience_mask =
            keep | (1u << (random_below(2) ? AUDIENCE_ENFANTS : AUDIENCE_ADULTES));
    }
}

/* 1 when `count` results equal the `expected_count` expected ones: the
 * same sites in the same order, at the same distances. */
static int same_results(const NearestResult *got, int count, const NearestResult *expected,
                        size_t expected_count)
{
    if (count != (int)expected_count)
        return 0;
    for (size_t i = 0; i < expected_count; i++)
        if (got[i].site != expected[i].site || got[i].distance_m != expected[i].distance_m)
            return 0;
    return 1;
}

/* --- Tests -------------------------------------------------------------- */

/* Runs `queries` random nearest queries on `index` (points near sites, over
 * France and anywhere on Earth; with and without a condition, a filter, k
 * from 1 to 100) against brute force; returns how many differ. */
static int nearest_mismatches(const SpatialIndex *index, int queries)
{
    static NearestResult expected[100], got[100];
    int mismatches = 0;
    for (int query = 0; query < queries; query++) {
        double lat, lon;
        if (random_below(5) == 0) { /* exactly on a site */
            const Site *site = &snapshot->sites[random_below(SYNTHETIC_SITES)];
            lat = site->lat;
            lon = site->lon;
        } else if (random_below(2)) {
            lat = random_uniform(41, 52);
            lon = random_uniform(-6, 10);
        } else {
            lat = random_uniform(-90, 90);
            lon = random_uniform(-180, 180);
        }
        int c = random_below(3) == 0 ? -1 : (int)random_below(SYNTHETIC_CONDITIONS);
        SiteFilter filter;
        random_filter(&filter);
        size_t k = random_below(4) == 0 ? 100 : 1 + random_below(12);
        const Condition *condition = c < 0 ? NULL : &snapshot->conditions[c];
        size_t expected_count = brute_nearest(lat, lon, c, &filter, k, expected);
        int count = spatial_index_nearest(index, snapshot, lat, lon, condition, &filter, k, got);
        int same = same_results(got, count, expected, expected_count);
        if (!same && mismatches++ < 5)
            CHECK(same, "query %d (%.6f, %.6f) orpha index %d k %zu: %d results, expected %zu",
                  query, lat, lon, c, k, count, expected_count);
        /* orpha_matched: the nearest listed ancestor, ties by smaller code. */
        for (int i = 0; same && c >= 0 && i < count; i++) {
            const Site *site = &snapshot->sites[got[i].site];
            const Condition *matched = NULL;
            int32_t via = 0;
            int depth = snapshot_site_covers(snapshot, site, condition, &matched);
            int expected_depth = brute_covers(site, c, &via);
            CHECK(depth == expected_depth && matched && matched->orpha == via,
                  "site %s covers through %d at %d, expected %d at %d",
                  site_id_text(snapshot, site), matched ? matched->orpha : 0, depth, via,
                  expected_depth);
        }
    }
    return mismatches;
}

TEST(nearest_matches_brute_force)
{
    int mismatches = nearest_mismatches(default_index, 1000);
    CHECK(mismatches == 0, "%d of 1000 queries differ from brute force", mismatches);
}

/* The search prunes with a radius derived from a curvature bound, then
 * checks its answer against it and searches again unpruned if the check
 * fails. Shrinking the radius (an index built with radius_factor below 1)
 * breaks the bound on purpose: half of it prunes true answers in most
 * queries, 0.99999 only near the edge. The answers must stay exact either
 * way. */
TEST(nearest_exact_when_the_radius_is_wrong)
{
    const double factors[] = {0.5, 0.99999};
    for (size_t i = 0; i < sizeof factors / sizeof factors[0]; i++) {
        SpatialIndexOptions options = SPATIAL_INDEX_DEFAULTS;
        options.radius_factor = factors[i];
        SpatialIndex *shrunk = build_index(options);
        if (!shrunk)
            return;
        int mismatches = nearest_mismatches(shrunk, 300);
        CHECK(mismatches == 0, "radius factor %g: %d of 300 queries differ from brute force",
              factors[i], mismatches);
        spatial_index_free(shrunk);
    }
}

/* The ancestor-tree search, which covering trees replace when they fit
 * the budget: still exactly brute force. */
TEST(nearest_without_covering_trees_matches_brute_force)
{
    SpatialIndexOptions options = SPATIAL_INDEX_DEFAULTS;
    options.covering_trees = 0;
    SpatialIndex *ancestors_only = build_index(options);
    if (!ancestors_only)
        return;
    int mismatches = nearest_mismatches(ancestors_only, 500);
    CHECK(mismatches == 0, "%d of 500 queries differ from brute force", mismatches);
    CHECK(spatial_index_cache_bytes(ancestors_only) == 0,
          "an index without covering trees holds %zu bytes of them",
          spatial_index_cache_bytes(ancestors_only));
    CHECK(spatial_index_cache_bytes(default_index) > 0,
          "the earlier tests built no covering tree: the two searches were not both run");
    spatial_index_free(ancestors_only);
}

/* With room for a few covering trees only, some conditions use theirs and
 * the others their ancestor trees; answers stay exact, the budget holds,
 * and a zero budget builds nothing. */
TEST(covering_tree_budget_is_kept)
{
    const size_t budgets[] = {48 * 1024, 0};
    for (size_t i = 0; i < sizeof budgets / sizeof budgets[0]; i++) {
        SpatialIndexOptions options = SPATIAL_INDEX_DEFAULTS;
        options.cache_budget = budgets[i];
        SpatialIndex *budgeted = build_index(options);
        if (!budgeted)
            return;
        int mismatches = nearest_mismatches(budgeted, 300);
        size_t used = spatial_index_cache_bytes(budgeted);
        CHECK(mismatches == 0, "budget %zu: %d of 300 queries differ from brute force", budgets[i],
              mismatches);
        CHECK(used <= budgets[i], "budget %zu: the covering trees hold %zu bytes", budgets[i],
              used);
        CHECK(budgets[i] == 0 || used > 0, "budget %zu: no covering tree was built", budgets[i]);
        spatial_index_free(budgeted);
    }
}

/* A query and its brute-force answer, computed ahead of threads that run it. */
typedef struct RaceQueryExpected {
    double lat, lon;
    int condition;
    size_t expected_count;
    NearestResult expected[10];
} RaceQueryExpected;

/* One query for condition `c` at (lat, lon), checked against brute force;
 * returns 1 when it matches. */
static int checked_query_at(const SpatialIndex *index, int c, double lat, double lon)
{
    NearestResult expected[10], got[10];
    SiteFilter filter;
    site_filter_init(&filter);
    size_t expected_count = brute_nearest(lat, lon, c, &filter, 10, expected);
    int count = spatial_index_nearest(index, snapshot, lat, lon, &snapshot->conditions[c], &filter,
                                      10, got);
    return same_results(got, count, expected, expected_count);
}

/* checked_query_at() a random point of metropolitan France. */
static int checked_query(const SpatialIndex *index, int c)
{
    double lat = random_uniform(41, 52);
    return checked_query_at(index, c, lat, random_uniform(-6, 10));
}

/* A query for condition `c` at a random point, its answer not checked
 * (the cache's policy counts it all the same). */
static void unchecked_query(const SpatialIndex *index, int c)
{
    NearestResult got[10];
    SiteFilter filter;
    site_filter_init(&filter);
    double lat = random_uniform(41, 52);
    spatial_index_nearest(index, snapshot, lat, random_uniform(-6, 10), &snapshot->conditions[c],
                          &filter, 10, got);
}

/* Conditions with a covering tree now. */
static size_t trees_held(const SpatialIndex *index, int *held)
{
    size_t trees = 0;
    for (int c = 0; c < SYNTHETIC_CONDITIONS; c++) {
        held[c] = spatial_index_covering_tree_size(index, snapshot, &snapshot->conditions[c]) > 0;
        trees += (size_t)held[c];
    }
    return trees;
}

/* The cache evicts by use: with room for a few trees, a condition queried
 * between every other query keeps its tree while the others, each queried
 * often enough to be admitted, come and go (CLOCK and frequency); answers
 * stay exact and the budget holds throughout. */
TEST(covering_cache_keeps_the_hot_condition)
{
    SpatialIndexOptions options = SPATIAL_INDEX_DEFAULTS;
    options.cache_budget = 40 * 1024;
    SpatialIndex *small = build_index(options);
    if (!small)
        return;
    int hot = -1;
    for (int c = 0; c < SYNTHETIC_CONDITIONS && hot < 0; c++) {
        checked_query(small, c);
        if (spatial_index_covering_tree_size(small, snapshot, &snapshot->conditions[c]) > 0)
            hot = c;
    }
    CHECK(hot >= 0, "no condition got a covering tree");
    int mismatches = 0, ever[SYNTHETIC_CONDITIONS] = {0}, held[SYNTHETIC_CONDITIONS];
    size_t most_at_once = 0, hot_kept = 0, checks = 0, over_budget = 0;
    for (int round = 0; round < 6 && hot >= 0; round++) {
        for (int c = 0; c < SYNTHETIC_CONDITIONS; c++) {
            mismatches += !checked_query(small, hot);
            mismatches += !checked_query(small, c);
            for (int repeat = 0; repeat < 40; repeat++) { /* admitted by its uses */
                unchecked_query(small, hot);
                unchecked_query(small, c);
            }
            size_t trees = trees_held(small, held);
            most_at_once = trees > most_at_once ? trees : most_at_once;
            for (int i = 0; i < SYNTHETIC_CONDITIONS; i++)
                ever[i] |= held[i];
            hot_kept += (size_t)held[hot];
            checks++;
            over_budget += spatial_index_cache_bytes(small) > options.cache_budget;
        }
    }
    size_t ever_count = 0;
    for (int i = 0; i < SYNTHETIC_CONDITIONS; i++)
        ever_count += (size_t)ever[i];
    CHECK(mismatches == 0, "%d queries differ from brute force", mismatches);
    CHECK(over_budget == 0, "the trees passed the budget %zu times", over_budget);
    CHECK(ever_count > most_at_once + 10,
          "%zu conditions had a tree, at most %zu at once: nothing was evicted", ever_count,
          most_at_once);
    CHECK(hot_kept == checks, "the hot condition lost its tree %zu times in %zu", checks - hot_kept,
          checks);
    spatial_index_free(small);
}

/* How many sites list condition `c`'s own code. */
static size_t listing_sites(int c)
{
    size_t count = 0;
    for (size_t s = 0; s < snapshot->site_count; s++) {
        const Site *site = &snapshot->sites[s];
        for (uint32_t i = 0; i < site->code_count; i++)
            count += snapshot->site_codes[site->codes_start + i] == code_of(c);
    }
    return count;
}

/* Conditions with fewer than two listed ancestors (themselves included):
 * one listing tree or none holds their sites, so they need no covering
 * tree. */
static size_t conditions_without_tree(void)
{
    size_t count = 0;
    for (int c = 0; c < SYNTHETIC_CONDITIONS; c++) {
        int listed = 0;
        for (int a = 0; a < SYNTHETIC_CONDITIONS; a++)
            listed += ancestor_depth[c][a] >= 0 && listing_sites(a) > 0;
        count += listed < 2;
    }
    return count;
}

/* A disorder `d` whose parent `*parent` and an ancestor `*above` above it
 * are both listed by sites (so the parent has a covering tree); -1 when
 * none. */
static int disorder_with_grandparent(int *parent, int *above)
{
    for (int d = 20; d < SYNTHETIC_CONDITIONS; d++)
        for (int p = 0; p < parent_count[d]; p++)
            for (int a = 0; a < SYNTHETIC_CONDITIONS; a++)
                if (a != parents[d][p] && ancestor_depth[parents[d][p]][a] > 0 &&
                    listing_sites(a) > 20 && listing_sites(parents[d][p]) > 0) {
                    *parent = parents[d][p];
                    *above = a;
                    return d;
                }
    return -1;
}

/* covering_cover() for `condition` on `index`, inside a reader's epoch
 * (no other thread evicts in these tests: the trees stay valid after). */
static size_t cover_of(SpatialIndex *index, const Condition *condition, const CoveringTree **trees,
                       uint8_t *covered)
{
    int reader = epoch_read_begin(&index->readers);
    size_t count =
        covering_cover(index, snapshot, condition, reader, trees, COVER_MAX_TREES, covered);
    epoch_read_end(&index->readers, reader);
    return count;
}

/* The covering trees covering_cover() gives condition `d` on `index` (its
 * parent's tree built first); 1 when they are exactly `parent`'s, with
 * covered[] set for the entries of d's ancestor list that are ancestors of
 * `parent` and no other. */
static int covered_by_parent_tree(SpatialIndex *index, int d, int parent)
{
    unchecked_query(index, parent);
    const Condition *condition = &snapshot->conditions[d];
    const CoveringTree *trees[COVER_MAX_TREES];
    uint8_t covered[SYNTHETIC_CONDITIONS];
    size_t count = cover_of(index, condition, trees, covered);
    int expected =
        count == 1 && trees[0]->count == spatial_index_covering_tree_size(
                                             index, snapshot, &snapshot->conditions[parent]);
    const AncestorEntry *list = snapshot->ancestors + condition->ancestors_start;
    for (uint32_t a = 0; a < condition->ancestor_count; a++)
        expected &= covered[a] == (ancestor_depth[parent][list[a].condition] >= 0);
    return expected;
}

/* A condition without its own covering tree is searched through its
 * parent's when the parent's ancestors are all its own: the parent's tree
 * then holds only sites that cover it, and replaces their listing trees.
 * With one of them taken out of the child's list (as when the parent sits
 * in a second classification the child is not in), the parent's tree
 * would bring that ancestor's sites: the cover must not use it. */
TEST(covering_cover_uses_a_parent_tree_only_when_it_covers)
{
    int parent = -1, above = -1;
    int d = disorder_with_grandparent(&parent, &above);
    CHECK(d >= 0, "no disorder with a listed grandparent in the synthetic classification");
    SpatialIndex *index = d >= 0 ? build_index(SPATIAL_INDEX_DEFAULTS) : NULL;
    if (!index)
        return;
    CHECK(covered_by_parent_tree(index, d, parent),
          "condition %d is not covered by its parent %d's tree", d, parent);

    Condition *condition = &snapshot->conditions[d];
    AncestorEntry *list = snapshot->ancestors + condition->ancestors_start;
    AncestorEntry saved[SYNTHETIC_CONDITIONS];
    uint32_t saved_count = condition->ancestor_count, kept = 0;
    memcpy(saved, list, saved_count * sizeof *list);
    for (uint32_t a = 0; a < saved_count; a++)
        if (saved[a].condition != (uint32_t)above)
            list[kept++] = saved[a];
    condition->ancestor_count = kept;
    const CoveringTree *trees[COVER_MAX_TREES];
    uint8_t covered[SYNTHETIC_CONDITIONS];
    size_t count = cover_of(index, condition, trees, covered);
    CHECK(count == 0, "without ancestor %d, condition %d still used %zu trees of its ancestors",
          above, d, count);
    condition->ancestor_count = saved_count;
    memcpy(list, saved, saved_count * sizeof *list);
    spatial_index_free(index);
}

/* The trees (covering and listing) a query for condition `d` searches
 * through its ancestors' trees held now, without a tree of its own. */
static size_t cover_trees_searched(SpatialIndex *index, int d)
{
    const Condition *condition = &snapshot->conditions[d];
    const CoveringTree *trees[COVER_MAX_TREES];
    uint8_t covered[SYNTHETIC_CONDITIONS];
    size_t count = cover_of(index, condition, trees, covered);
    const AncestorEntry *list = snapshot->ancestors + condition->ancestors_start;
    for (uint32_t a = 0; a < condition->ancestor_count; a++)
        count += index->code_root[list[a].condition] != NO_NODE && !covered[a];
    return count;
}

/* Once the cache has been full, a condition gets a tree of its own only
 * when its ancestors' trees would leave more than COVER_GOOD_TREES trees to
 * search, or when it is hot: one its parents' trees cover cheaply, used
 * often enough to be admitted, keeps searching them (and stays exact),
 * until it is used HOT_USES times. Before the cache fills, every condition
 * gets its tree at its first query. (The synthetic classification has no
 * condition its parents' trees leave more than COVER_GOOD_TREES trees to;
 * the benchmark's real one has many.) */
TEST(full_cache_builds_trees_that_save_searches)
{
    SpatialIndex *index = build_index(SPATIAL_INDEX_DEFAULTS);
    if (!index)
        return;
    for (int c = 0; c < SYNTHETIC_CONDITIONS; c++) /* parents' trees first */
        for (int repeat = 0; repeat < 20; repeat++)
            unchecked_query(index, c);
    int held[SYNTHETIC_CONDITIONS];
    size_t first_come = trees_held(index, held);
    spatial_index_free(index);
    index = build_index(SPATIAL_INDEX_DEFAULTS);
    if (!index)
        return;
    atomic_store(&index->covering_filled, 1); /* as after the budget filled once */
    int cheap = -1, mismatches = 0;
    for (int c = 0; c < SYNTHETIC_CONDITIONS; c++) {
        for (int p = 0; p < parent_count[c]; p++)
            for (int repeat = 0; repeat < 20; repeat++)
                unchecked_query(index, parents[c][p]);
        if (spatial_index_covering_tree_size(index, snapshot, &snapshot->conditions[c]) > 0)
            continue;
        size_t searched = cover_trees_searched(index, c);
        for (int repeat = 0; repeat < 20; repeat++)
            mismatches += !checked_query(index, c);
        size_t own = spatial_index_covering_tree_size(index, snapshot, &snapshot->conditions[c]);
        if (searched >= 2 && searched <= COVER_GOOD_TREES && cheap < 0) {
            CHECK(own == 0, "condition %d, covered in %zu trees, built its own", c, searched);
            cheap = c;
            for (int repeat = 0; repeat < 80; repeat++) /* now hot */
                mismatches += !checked_query(index, c);
            CHECK(spatial_index_covering_tree_size(index, snapshot, &snapshot->conditions[c]) > 0,
                  "hot condition %d got no tree of its own", c);
        }
    }
    CHECK(first_come == SYNTHETIC_CONDITIONS - conditions_without_tree(),
          "%zu trees built before the cache filled, not one per condition", first_come);
    CHECK(cheap >= 0, "no condition is covered by its parents' trees in a few trees");
    CHECK(mismatches == 0, "%d queries differ from brute force", mismatches);
    spatial_index_free(index);
}

#define EVICTION_THREADS 4
#define EVICTION_QUERIES 1500

static const SpatialIndex *evicted_index;
static _Atomic int eviction_mismatches;
static RaceQueryExpected eviction_queries[EVICTION_QUERIES];

/* One querier: every query twice, from its own offset (brute force ran
 * before, in one thread: it is not thread-safe). */
static void *query_while_evicting(void *argument)
{
    size_t start = (size_t)(intptr_t)argument * EVICTION_QUERIES / EVICTION_THREADS;
    SiteFilter filter;
    site_filter_init(&filter);
    for (size_t n = 0; n < 2 * EVICTION_QUERIES; n++) {
        const RaceQueryExpected *query = &eviction_queries[(start + n) % EVICTION_QUERIES];
        NearestResult got[10];
        int count =
            spatial_index_nearest(evicted_index, snapshot, query->lat, query->lon,
                                  &snapshot->conditions[query->condition], &filter, 10, got);
        if (!same_results(got, count, query->expected, query->expected_count))
            eviction_mismatches++;
    }
    return NULL;
}

/* Threads querying while the cache evicts under them: exact answers, and
 * (under ASan) no tree is read after it is freed. */
TEST(eviction_under_concurrent_queries_is_safe)
{
    SiteFilter filter;
    site_filter_init(&filter);
    for (size_t q = 0; q < EVICTION_QUERIES; q++) {
        RaceQueryExpected *query = &eviction_queries[q];
        query->lat = random_uniform(41, 52);
        query->lon = random_uniform(-6, 10);
        query->condition = (int)random_below(SYNTHETIC_CONDITIONS);
        query->expected_count =
            brute_nearest(query->lat, query->lon, query->condition, &filter, 10, query->expected);
    }
    SpatialIndexOptions options = SPATIAL_INDEX_DEFAULTS;
    options.cache_budget = 24 * 1024;
    SpatialIndex *small = build_index(options);
    if (!small)
        return;
    evicted_index = small;
    pthread_t threads[EVICTION_THREADS];
    int started = 0;
    for (int t = 0; t < EVICTION_THREADS; t++)
        started +=
            pthread_create(&threads[t], NULL, query_while_evicting, (void *)(intptr_t)t) == 0;
    for (int t = 0; t < started; t++)
        pthread_join(threads[t], NULL);
    CHECK(started == EVICTION_THREADS, "started %d threads", started);
    CHECK(eviction_mismatches == 0, "%d queries differ from brute force", (int)eviction_mismatches);
    CHECK(spatial_index_cache_bytes(small) <= options.cache_budget, "%zu bytes held",
          spatial_index_cache_bytes(small));
    evicted_index = NULL;
    spatial_index_free(small);
}

#define RACE_THREADS 4
#define RACE_POINTS 3

typedef RaceQueryExpected RaceQuery;

static RaceQuery race_queries[SYNTHETIC_CONDITIONS * RACE_POINTS];
static const SpatialIndex *race_index; /* the index the racers query */
static _Atomic int race_mismatches;

/* One racer: every query once, starting at its own offset, so that the
 * threads reach each condition's first query at about the same time. */
static void *race(void *argument)
{
    size_t count = sizeof race_queries / sizeof race_queries[0];
    size_t start = (size_t)(intptr_t)argument * count / RACE_THREADS;
    SiteFilter filter;
    site_filter_init(&filter);
    for (size_t n = 0; n < count; n++) {
        const RaceQuery *query = &race_queries[(start + n) % count];
        NearestResult got[10];
        int found =
            spatial_index_nearest(race_index, snapshot, query->lat, query->lon,
                                  &snapshot->conditions[query->condition], &filter, 10, got);
        int same = same_results(got, found, query->expected, query->expected_count);
        if (!same)
            race_mismatches++;
    }
    return NULL;
}

/* Threads asking for the same conditions at once build covering trees
 * concurrently: answers stay exact, and the bytes charged equal those of
 * building every tree once in one thread (losers give theirs back). */
TEST(concurrent_first_queries_are_exact)
{
    SiteFilter filter;
    site_filter_init(&filter);
    size_t count = sizeof race_queries / sizeof race_queries[0];
    for (size_t q = 0; q < count; q++) {
        RaceQuery *query = &race_queries[q];
        query->lat = random_uniform(41, 52);
        query->lon = random_uniform(-6, 10);
        query->condition = (int)(q % SYNTHETIC_CONDITIONS);
        query->expected_count =
            brute_nearest(query->lat, query->lon, query->condition, &filter, 10, query->expected);
    }
    SpatialIndex *raced = build_index(SPATIAL_INDEX_DEFAULTS);
    if (!raced)
        return;
    race_index = raced;
    pthread_t threads[RACE_THREADS];
    int started = 0;
    for (int t = 0; t < RACE_THREADS; t++)
        started += pthread_create(&threads[t], NULL, race, (void *)(intptr_t)t) == 0;
    CHECK(started == RACE_THREADS, "started %d of %d threads", started, RACE_THREADS);
    for (int t = 0; t < started; t++)
        pthread_join(threads[t], NULL);
    size_t concurrent_bytes = spatial_index_cache_bytes(raced);
    CHECK(race_mismatches == 0, "%d concurrent queries differ from brute force",
          (int)race_mismatches);
    SpatialIndex *serial = build_index(SPATIAL_INDEX_DEFAULTS);
    if (serial) {
        race_index = serial;
        race((void *)(intptr_t)0);
        size_t serial_bytes = spatial_index_cache_bytes(serial);
        CHECK(concurrent_bytes == serial_bytes && serial_bytes > 0,
              "covering trees hold %zu bytes after the race, %zu built one at a time",
              concurrent_bytes, serial_bytes);
    }
    /* Each tree, raced or not, holds every covering site once. */
    const SpatialIndex *indexes[] = {raced, serial};
    for (size_t i = 0; i < sizeof indexes / sizeof indexes[0] && indexes[i]; i++) {
        size_t trees = 0;
        for (size_t c = 0; c < snapshot->condition_count; c++) {
            const Condition *condition = &snapshot->conditions[c];
            size_t size = spatial_index_covering_tree_size(indexes[i], snapshot, condition);
            trees += size > 0;
            CHECK(size == 0 || size == condition->covering_sites,
                  "%s: orpha %d: a covering tree of %zu points for %u covering sites",
                  i ? "serial" : "raced", condition->orpha, size, condition->covering_sites);
        }
        CHECK(trees > SYNTHETIC_CONDITIONS / 2, "%s: only %zu conditions have a covering tree",
              i ? "serial" : "raced", trees);
    }
    race_index = NULL;
    spatial_index_free(raced);
    spatial_index_free(serial);
}

/* Far from every site (the antipode of a site, the Pacific), where the
 * search bounds distances by the angle at the Earth's centre rather than
 * the chord: still exactly brute force. */
TEST(nearest_far_away_matches_brute_force)
{
    static NearestResult expected[100], got[100];
    for (int query = 0; query < 200; query++) {
        const Site *site = &snapshot->sites[random_below(SYNTHETIC_SITES)];
        double lat = -site->lat, lon = site->lon > 0 ? site->lon - 180 : site->lon + 180;
        if (query % 4 == 0) {
            lat = random_uniform(-60, 60);
            lon = random_uniform(-180, -120);
        }
        int c = query % 3 == 0 ? -1 : (int)random_below(SYNTHETIC_CONDITIONS);
        SiteFilter filter;
        random_filter(&filter);
        size_t k = 1 + random_below(20);
        const Condition *condition = c < 0 ? NULL : &snapshot->conditions[c];
        size_t expected_count = brute_nearest(lat, lon, c, &filter, k, expected);
        int count =
            spatial_index_nearest(default_index, snapshot, lat, lon, condition, &filter, k, got);
        int same = same_results(got, count, expected, expected_count);
        CHECK(same, "far query %d (%.6f, %.6f) orpha index %d k %zu: %d results, expected %zu",
              query, lat, lon, c, k, count, expected_count);
        if (!same)
            break;
    }
}

TEST(nearest_with_k_above_candidates)
{
    /* A condition with few covering sites: every one of them, in order. */
    int chosen = -1;
    size_t covering = 0;
    SiteFilter filter;
    site_filter_init(&filter);
    for (int c = SYNTHETIC_CONDITIONS - 1; c >= 0 && chosen < 0; c--) {
        covering = snapshot->conditions[c].covering_sites;
        if (covering > 0 && covering < 100)
            chosen = c;
    }
    CHECK(chosen >= 0, "no condition with fewer than 100 covering sites");
    if (chosen < 0)
        return;
    NearestResult expected[100], got[100];
    size_t expected_count = brute_nearest(45, 3, chosen, &filter, 100, expected);
    int count = spatial_index_nearest(default_index, snapshot, 45, 3, &snapshot->conditions[chosen],
                                      &filter, 100, got);
    CHECK(count == (int)covering && expected_count == covering, "%d results, %zu covering", count,
          covering);
    for (size_t i = 0; i < expected_count && count == (int)expected_count; i++)
        CHECK(got[i].site == expected[i].site, "result %zu differs", i);
}

TEST(ties_go_to_smaller_site_id)
{
    /* Every site at the first shared position, nearest from exactly there. */
    SiteFilter filter;
    site_filter_init(&filter);
    NearestResult got[20];
    int count =
        spatial_index_nearest(default_index, snapshot, 48.8566, 2.3522, NULL, &filter, 20, got);
    CHECK(count == 20, "%d results", count);
    for (int i = 1; i < count; i++)
        CHECK(got[i].distance_m > got[i - 1].distance_m ||
                  (got[i].distance_m == got[i - 1].distance_m && got[i].site > got[i - 1].site),
              "results %d and %d out of order", i - 1, i);
    CHECK(count > 0 && got[0].distance_m == 0, "first distance %g", count ? got[0].distance_m : -1);
}

TEST(covering_sites_match_brute_force)
{
    for (int c = 0; c < SYNTHETIC_CONDITIONS; c++) {
        uint32_t expected = 0;
        for (size_t s = 0; s < snapshot->site_count; s++) {
            int32_t via = 0;
            expected += brute_covers(&snapshot->sites[s], c, &via) >= 0;
        }
        CHECK(snapshot->conditions[c].covering_sites == expected, "condition %d: %u, expected %u",
              c, snapshot->conditions[c].covering_sites, expected);
    }
}

static int brute_in_box(const Site *site, double west, double south, double east, double north)
{
    if (site->lat < south || site->lat > north)
        return 0;
    if (west <= east)
        return site->lon >= west && site->lon <= east;
    return site->lon >= west || site->lon <= east;
}

static double random_edge(int latitude)
{
    size_t kind = random_below(4);
    if (kind == 0) { /* exactly a site's coordinate */
        const Site *site = &snapshot->sites[random_below(SYNTHETIC_SITES)];
        return latitude ? site->lat : site->lon;
    }
    if (kind == 1)
        return (double)((int)random_below(latitude ? 181 : 361) - (latitude ? 90 : 180));
    return latitude ? random_uniform(-90, 90) : random_uniform(-180, 180);
}

/* Runs `queries` random boxes on `index` against brute force; returns how
 * many differ, and counts the boxes crossing the antimeridian and the
 * truncated answers into *crossing and *truncations. */
static int box_mismatches(const SpatialIndex *index, int queries, int *crossing, int *truncations)
{
    static uint32_t got[SYNTHETIC_SITES], expected[SYNTHETIC_SITES];
    int mismatches = 0;
    for (int query = 0; query < queries; query++) {
        double west = random_edge(0), east = random_edge(0);
        double south = random_edge(1), north = random_edge(1);
        if (south > north) {
            double swap = south;
            south = north;
            north = swap;
        }
        if (random_below(10) == 0) { /* a small box in France */
            west = random_uniform(-4, 7);
            east = west + random_uniform(0, 1.5);
            south = random_uniform(42, 50);
            north = south + random_uniform(0, 1.5);
        }
        if (random_below(20) == 0) { /* whole world: the site-order scan */
            west = -180;
            east = 180;
            south = -90;
            north = 90;
        }
        *crossing += west > east;
        int c = random_below(3) == 0 ? (int)random_below(SYNTHETIC_CONDITIONS) : -1;
        SiteFilter filter;
        random_filter(&filter);
        size_t limit = random_below(3) == 0 ? 1 + random_below(40) : SYNTHETIC_SITES;
        size_t expected_count = 0;
        int expected_truncated = 0;
        for (size_t s = 0; s < snapshot->site_count; s++) {
            const Site *site = &snapshot->sites[s];
            if (!brute_in_box(site, west, south, east, north) || !brute_accepts(site, c, &filter))
                continue;
            if (expected_count == limit) {
                expected_truncated = 1;
                break;
            }
            expected[expected_count++] = (uint32_t)s;
        }
        size_t count = 0;
        int truncated = 0;
        int status = spatial_index_box(index, snapshot, west, south, east, north,
                                       c < 0 ? NULL : &snapshot->conditions[c], &filter, limit, got,
                                       &count, &truncated);
        *truncations += truncated;
        int same = status == 0 && count == expected_count && truncated == expected_truncated &&
                   (count == 0 || memcmp(got, expected, count * sizeof *got) == 0);
        if (!same && mismatches++ < 5)
            CHECK(same, "box %d (%g,%g,%g,%g) orpha index %d limit %zu: %zu%s, expected %zu%s",
                  query, west, south, east, north, c, limit, count, truncated ? "+" : "",
                  expected_count, expected_truncated ? "+" : "");
    }
    return mismatches;
}

TEST(boxes_match_brute_force)
{
    int crossing = 0, truncations = 0;
    int mismatches = box_mismatches(default_index, 1000, &crossing, &truncations);
    CHECK(mismatches == 0, "%d of 1000 boxes differ from brute force", mismatches);
    CHECK(crossing > 100 && truncations > 50, "only %d crossing boxes, %d truncated", crossing,
          truncations);
}

/* --- Stored tree orders ------------------------------------------------ */

/* The stored order's layout (tree_order.c): a 4-word header, the whole
 * tree's sites, every condition's listing sites, the (lon, lat) tree's. */
#define ORDER_HEADER_WORDS 4

static size_t listed_points(const SpatialIndex *index)
{
    return index->code_offsets[snapshot->condition_count];
}

/* An index built from `order`; *refused gets the reason it was refused. */
static SpatialIndex *build_from_order(const uint32_t *order, size_t size, const char **refused)
{
    char error[256] = "";
    *refused = "not built";
    SpatialIndex *built =
        spatial_index_build_ordered(snapshot, NULL, order, size, refused, error, sizeof error);
    CHECK(built != NULL, "building an index from an order: %s", error);
    return built;
}

/* 1 when nodes a[0, count) and b[0, count) are equal field by field (a
 * node's padding byte is never written). */
static int same_nodes(const KdNode *a, const KdNode *b, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (memcmp(a[i].low, b[i].low, sizeof a[i].low) != 0 ||
            memcmp(a[i].high, b[i].high, sizeof a[i].high) != 0 || a[i].begin != b[i].begin ||
            a[i].end != b[i].end || a[i].right != b[i].right || a[i].role_mask != b[i].role_mask ||
            a[i].audience_mask != b[i].audience_mask)
            return 0;
    return 1;
}

/* 1 when two indexes hold the same trees: nodes, points and roots. */
static int same_trees(const SpatialIndex *a, const SpatialIndex *b)
{
    size_t site_count = snapshot->site_count, listed = listed_points(a);
    size_t nodes = node_count_for(site_count);
    for (size_t c = 0; c < snapshot->condition_count; c++) {
        size_t count = a->code_offsets[c + 1] - a->code_offsets[c];
        nodes += count ? node_count_for(count) : 0;
    }
    return a->all_root == b->all_root && listed == listed_points(b) &&
           memcmp(a->code_root, b->code_root, snapshot->condition_count * sizeof *a->code_root) ==
               0 &&
           memcmp(a->points, b->points, (site_count + listed) * sizeof *a->points) == 0 &&
           same_nodes(a->nodes, b->nodes, nodes) && a->box_root == b->box_root &&
           memcmp(a->box_points, b->box_points, site_count * sizeof *a->box_points) == 0 &&
           same_nodes(a->box_nodes, b->box_nodes, node_count_for(site_count));
}

/* The default index's stored order (*size bytes); NULL after a failed
 * CHECK. The caller frees it. */
static uint32_t *default_order(size_t *size)
{
    uint32_t *order = spatial_index_order(default_index, snapshot, size);
    CHECK(order != NULL, "spatial_index_order: out of memory");
    return order;
}

TEST(stored_order_rebuilds_the_same_trees)
{
    size_t size = 0;
    uint32_t *order = default_order(&size);
    if (!order)
        return;
    CHECK(size == (ORDER_HEADER_WORDS + 2 * snapshot->site_count + listed_points(default_index)) *
                      sizeof *order,
          "the order holds %zu bytes", size);
    const char *refused;
    SpatialIndex *ordered = build_from_order(order, size, &refused);
    if (ordered) {
        CHECK(refused == NULL, "a stored order was refused: %s", refused);
        CHECK(same_trees(default_index, ordered), "the trees built from the order differ");
        size_t again_size = 0;
        uint32_t *again = spatial_index_order(ordered, snapshot, &again_size);
        CHECK(again && again_size == size && memcmp(again, order, size) == 0,
              "the order of trees built from an order is not that order");
        free(again);
    }
    spatial_index_free(ordered);
    free(order);
}

/* Shuffles order[begin, begin + count) (Fisher-Yates). */
static void shuffle_segment(uint32_t *order, size_t begin, size_t count)
{
    for (size_t i = count; i > 1; i--) {
        size_t j = random_below(i);
        uint32_t swap = order[begin + i - 1];
        order[begin + i - 1] = order[begin + j];
        order[begin + j] = swap;
    }
}

/* Any permutation of each tree's sites is a valid order: the nodes bound
 * their own points, so the answers stay exact, only the trees get worse. */
TEST(shuffled_order_still_answers_exactly)
{
    size_t size = 0;
    uint32_t *order = default_order(&size);
    if (!order)
        return;
    size_t site_count = snapshot->site_count, listed = listed_points(default_index);
    shuffle_segment(order, ORDER_HEADER_WORDS, site_count);
    for (size_t c = 0; c < snapshot->condition_count; c++)
        shuffle_segment(order, ORDER_HEADER_WORDS + site_count + default_index->code_offsets[c],
                        default_index->code_offsets[c + 1] - default_index->code_offsets[c]);
    shuffle_segment(order, ORDER_HEADER_WORDS + site_count + listed, site_count);
    const char *refused;
    SpatialIndex *shuffled = build_from_order(order, size, &refused);
    if (shuffled) {
        CHECK(refused == NULL, "a shuffled order was refused: %s", refused);
        CHECK(!same_trees(default_index, shuffled), "shuffling changed no tree");
        int crossing = 0, truncations = 0;
        int nearest = nearest_mismatches(shuffled, 500);
        int boxes = box_mismatches(shuffled, 300, &crossing, &truncations);
        CHECK(nearest == 0 && boxes == 0,
              "a shuffled order: %d nearest and %d box answers differ from brute force", nearest,
              boxes);
    }
    spatial_index_free(shuffled);
    free(order);
}

static int site_lists(const Site *site, int32_t orpha)
{
    for (uint32_t i = 0; i < site->code_count; i++)
        if (site_codes(snapshot, site)[i] == orpha)
            return 1;
    return 0;
}

/* An order that is not a permutation of each tree's sites would lose or
 * repeat sites: it is refused whole, and the trees are built as without it. */
TEST(damaged_orders_are_refused)
{
    size_t size = 0;
    uint32_t *valid = default_order(&size);
    uint32_t *order = valid ? malloc(size) : NULL;
    CHECK(order != NULL, "out of memory");
    if (!valid || !order) {
        free(valid);
        free(order);
        return;
    }
    size_t site_count = snapshot->site_count, listed = listed_points(default_index);
    size_t whole = ORDER_HEADER_WORDS, listing = whole + site_count, box = listing + listed;
    /* A condition with listing sites, and a site that does not list it. */
    size_t c = 0;
    while (default_index->code_offsets[c + 1] == default_index->code_offsets[c])
        c++;
    size_t segment = listing + default_index->code_offsets[c];
    uint32_t stranger = 0;
    while (site_lists(&snapshot->sites[stranger], snapshot->conditions[c].orpha))
        stranger++;
    struct {
        const char *what;
        size_t word; /* the word changed */
        uint32_t value;
        size_t size; /* the size given */
    } damages[] = {
        {"a format from elsewhere", 0, 99, size},
        {"another site count", 1, (uint32_t)site_count + 1, size},
        {"a short part", 1, (uint32_t)site_count, size - sizeof *order},
        {"a ragged size", 1, (uint32_t)site_count, size - 1},
        {"a site twice in the whole tree", whole + 1, valid[whole], size},
        {"a site past the sites", whole + 7, (uint32_t)site_count, size},
        {"a site twice in the box tree", box + 2, valid[box + 3], size},
        {"a site that does not list the condition", segment, stranger, size},
    };
    for (size_t d = 0; d < sizeof damages / sizeof damages[0]; d++) {
        memcpy(order, valid, size);
        order[damages[d].word] = damages[d].value;
        const char *refused = NULL;
        SpatialIndex *built = build_from_order(order, damages[d].size, &refused);
        CHECK(refused != NULL, "%s: the order was accepted", damages[d].what);
        CHECK(built && same_trees(default_index, built), "%s: the trees are not the built ones",
              damages[d].what);
        spatial_index_free(built);
    }
    free(valid);
    free(order);
}

TEST(box_edges_are_inclusive)
{
    const Site *site = &snapshot->sites[17];
    SiteFilter filter;
    site_filter_init(&filter);
    uint32_t got[SYNTHETIC_SITES];
    size_t count = 0;
    int truncated = 0, found = 0;
    /* A point box exactly on the site. */
    spatial_index_box(default_index, snapshot, site->lon, site->lat, site->lon, site->lat, NULL,
                      &filter, SYNTHETIC_SITES, got, &count, &truncated);
    for (size_t i = 0; i < count; i++)
        found |= got[i] == 17;
    CHECK(found, "a point box on site 17 misses it (%zu results)", count);
}

/* Distances against PROJ's `geod` command (proj-bin), for a handful of
 * pairs, including long and near-antipodal ones. */
TEST(distances_agree_with_geod)
{
    static const double pairs[][4] = {
        {48.5597, 3.2994, 48.8566, 2.3522},
        {48.8566, 2.3522, -21.1151, 55.5364},
        {0, 0, 0.5, 179.7},
        {-33.9, 18.4, 35.7, 139.7},
        {89.9, 10, -89.9, -170},
        {43.2965, 5.3698, 43.2965, 5.3698},
        {14.6, -61.0, 46.8, -56.2},
    };
    FILE *probe = popen("command -v geod", "r");
    char path[256] = "";
    int available = probe && fgets(path, sizeof path, probe) != NULL;
    if (probe)
        pclose(probe);
    CHECK(available, "the geod command (Debian package proj-bin) is not installed");
    if (!available)
        return;
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        char command[256];
        snprintf(command, sizeof command,
                 "echo '%.7f %.7f %.7f %.7f' | geod +ellps=WGS84 -I +units=m -f %%.3f", pairs[i][0],
                 pairs[i][1], pairs[i][2], pairs[i][3]);
        FILE *output = popen(command, "r");
        char line[256] = "";
        int read = output && fgets(line, sizeof line, output) != NULL;
        if (output)
            pclose(output);
        double azimuth1, azimuth2, distance;
        CHECK(read && sscanf(line, "%lf %lf %lf", &azimuth1, &azimuth2, &distance) == 3,
              "geod printed '%s'", line);
        CHECK_NEAR(geodesy_distance_m(pairs[i][0], pairs[i][1], pairs[i][2], pairs[i][3]), distance,
                   1.0);
    }
}

int main(void)
{
    if (build_snapshot() != 0)
        return 1;
    RUN(nearest_matches_brute_force);
    RUN(nearest_exact_when_the_radius_is_wrong);
    RUN(nearest_far_away_matches_brute_force);
    RUN(nearest_without_covering_trees_matches_brute_force);
    RUN(covering_tree_budget_is_kept);
    RUN(covering_cache_keeps_the_hot_condition);
    RUN(covering_cover_uses_a_parent_tree_only_when_it_covers);
    RUN(full_cache_builds_trees_that_save_searches);
    RUN(eviction_under_concurrent_queries_is_safe);
    RUN(concurrent_first_queries_are_exact);
    RUN(nearest_with_k_above_candidates);
    RUN(ties_go_to_smaller_site_id);
    RUN(covering_sites_match_brute_force);
    RUN(boxes_match_brute_force);
    RUN(box_edges_are_inclusive);
    RUN(stored_order_rebuilds_the_same_trees);
    RUN(shuffled_order_still_answers_exactly);
    RUN(damaged_orders_are_refused);
    RUN(distances_agree_with_geod);
    spatial_index_free(default_index);
    snapshot_free(snapshot);
    return CHECK_SUMMARY("test_index");
}
