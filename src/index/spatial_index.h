/* spatial_index.h — exact k-nearest and bounding-box queries over the sites.
 *
 * Owns: static k-d trees built once per snapshot and the two queries the
 * API needs, split over kd_tree.c (building), covering_trees.c (the
 * cache), nearest.c and box_query.c (layout in kd_tree.h). Design, and why:
 *  - Nearest is EXACT for the geodesic WGS84 distance. Trees are built over
 *    the sites' Earth-centred (ECEF) xyz positions; the straight-line chord
 *    between two points of the ellipsoid is never longer than the geodesic
 *    between them (geodesy.h), so the Euclidean distance to a tree node's
 *    box, or to a point, is a lower bound of the geodesic distance. ECEF
 *    has no antimeridian or pole seams, unlike a lon/lat tree.
 *  - The search is best-first over nodes (one priority queue keyed by that
 *    bound). It keeps the k smallest chords of distinct sites seen so far;
 *    from the largest, a curvature argument (nearest.c) gives an
 *    upper bound of the k-th geodesic distance, the `radius`: nodes and
 *    sites beyond it are skipped, sites within it become candidates. At the
 *    end the candidates are sorted by lower bound and PROJ's geodesic
 *    (geodesy_distance_m) is computed in that order until the next lower
 *    bound exceeds the k-th exact distance: about k geodesics a query, and
 *    no site ever enters the queue. If the exact answer ever contradicted
 *    the radius, the search would run again without it. Beyond 1,000 km
 *    the chord is a poor lower bound (at 7,000 km it is 6% short), so
 *    there bounds also use b times the angle at the Earth's centre (b the
 *    polar semi-axis: a geodesic never enters that ball): a query from
 *    Alaska or the antipode measures a few hundred candidates, not the
 *    whole of metropolitan France.
 *  - One tree over all sites, and one tree per ORPHAcode over the sites that
 *    LIST that code. A query for condition D searches, in the same queue,
 *    the trees of every ancestor of D (depth 0 included): a site covers D
 *    iff it lists one of them. A site found through two trees counts once.
 *    At D's first query those trees are merged into one covering tree of
 *    D's distinct covering sites (covering_trees.c), a cache within a
 *    memory budget that keeps the trees of the most queried codes (CLOCK
 *    and frequency, with lock-free readers), so later queries for D
 *    descend one tree instead of about 15. A code without its own tree
 *    uses its parents' covering trees where they hold only its ancestors,
 *    and the listing trees of the ancestors they leave out; once the
 *    budget is full, a code they cover in a few trees builds its own only
 *    when it is hot.
 *  - Trees are implicit, nodes stored in preorder in one array (left child
 *    follows its parent), median splits on the largest extent, leaves of up
 *    to 32 sites (16 measured no faster and cost 14 MB more on 1M sites),
 *    no per-node allocation. A node is 40 bytes: its box in floats and the
 *    union of its sites' roles and audiences, so filtered queries prune
 *    subtrees that cannot match. The ECEF trees' points hold the site index
 *    and its position in floats (16 bytes; rounding moves a point by less
 *    than 0.44 m, and every chord bound allows 1 m for it), in tree order,
 *    so a leaf scan reads memory sequentially; they are built in place on
 *    that array (median selection moves 16-byte points). A Site is read
 *    only for the exact geodesic of a candidate (from its double lat/lon)
 *    or when a role/audience filter must look at it. Per-query scratch
 *    lives on the stack unless a query outgrows it. Building: O(n log n),
 *    the whole-set ECEF tree in a second thread while the per-code trees
 *    and the (lon, lat) tree are built.
 *  - Ties in distance go to the smaller site index, which is site_id byte
 *    order (snapshot.h). Results equal a brute-force scan exactly.
 *  - Bounding boxes use a second tree over (lon, lat) of all sites;
 *    boundaries are inclusive, a box whose west > east crosses the
 *    antimeridian (two boxes). Results are the `limit` smallest site
 *    indexes (site_id order): the tree collects the matching sites (whole
 *    nodes at once when inside the box) and the smallest are selected; when
 *    the box holds a large share of all sites, scanning the sites in index
 *    order finds the first `limit` sooner. With a condition, the listing
 *    sites of the condition's ancestors are scanned instead.
 * Invariants: immutable after spatial_index_build() except for the
 * covering-tree cache, where a slot holds a finished tree or none (trees
 * are published and evicted with a compare-and-swap, and freed only when no
 * query that could hold them runs) and the bytes held never pass the
 * budget; every query is thread-safe and otherwise touches only its own
 * scratch memory. */
#ifndef MAILLAGE_SPATIAL_INDEX_H
#define MAILLAGE_SPATIAL_INDEX_H

#include "model/snapshot.h"

#include <stddef.h>
#include <stdint.h>

typedef struct NearestResult {
    uint32_t site; /* index into Snapshot.sites */
    double distance_m;
} NearestResult;

typedef struct SpatialIndex SpatialIndex;

/* The default covering-tree cache budget ("Covering trees" in
 * covering_trees.c): 32 MB. */
#define SPATIAL_INDEX_DEFAULT_CACHE_BYTES ((size_t)32 << 20)

typedef struct SpatialIndexOptions {
    size_t cache_budget; /* bytes of covering trees at most (0: none; `serve --nearest-cache-mb`) */
    int covering_trees;  /* 1: use covering trees; 0 (tests): always the ancestor trees */
    double radius_factor; /* 1; tests shrink it below 1 to break the search radius on
                           * purpose: answers must stay exact through the re-search */
} SpatialIndexOptions;

#define SPATIAL_INDEX_DEFAULTS ((SpatialIndexOptions){SPATIAL_INDEX_DEFAULT_CACHE_BYTES, 1, 1.0})

/* Builds the trees over `snapshot`'s sites (which must outlive the index).
 * `options` NULL means SPATIAL_INDEX_DEFAULTS. Returns the index, or NULL
 * with a one-line message in `error`. */
SpatialIndex *spatial_index_build(const Snapshot *snapshot, const SpatialIndexOptions *options,
                                  char *error, size_t error_size);
/* spatial_index_build(), with the trees' point orders read from `order`
 * (`order_size` bytes, written by spatial_index_order() for the same
 * sites; NULL: none) instead of found by median selection: O(n) instead of
 * O(n log n). Any permutation of each tree's sites gives exact answers
 * (nodes bound their own points), so `order` is checked to be one; when it
 * is not (or does not fit this snapshot), the trees are built as without
 * it and *order_refused (when not NULL) gets the reason, a static text;
 * else NULL. Returns as spatial_index_build(); `order` stays the caller's. */
SpatialIndex *spatial_index_build_ordered(const Snapshot *snapshot,
                                          const SpatialIndexOptions *options, const void *order,
                                          size_t order_size, const char **order_refused,
                                          char *error, size_t error_size);
/* The order of every tree's points in `index` (built over `snapshot`), for
 * spatial_index_build_ordered() to load the same trees in O(n): a new
 * malloc'd buffer (the caller frees it) of *size bytes, or NULL when out of
 * memory. */
void *spatial_index_order(const SpatialIndex *index, const Snapshot *snapshot, size_t *size);
/* Frees the index and its covering trees; NULL is a no-op. */
void spatial_index_free(SpatialIndex *index);

/* The (at most k) sites of `snapshot` (the one `index` was built over)
 * nearest to (lat, lon) by geodesic distance that cover `condition` (NULL:
 * every site) and pass `filter`, nearest first, ties by site index.
 * Returns the number written into `results` (room for k), or -1 when out
 * of memory. May add a covering tree to the index's cache (thread-safe). */
int spatial_index_nearest(const SpatialIndex *index, const Snapshot *snapshot, double lat,
                          double lon, const Condition *condition, const SiteFilter *filter,
                          size_t k, NearestResult *results);

/* Bytes the index's covering trees hold now (at most its budget; 0 for NULL). */
size_t spatial_index_cache_bytes(const SpatialIndex *index);
/* Covering trees built (*built) and evicted (*evicted) since the index was
 * built; both 0 for NULL. Thread-safe. */
void spatial_index_cache_counts(const SpatialIndex *index, size_t *built, size_t *evicted);

/* Tests only: the number of points of `condition`'s covering tree (its
 * covering sites, each once), 0 when it has none yet. */
size_t spatial_index_covering_tree_size(const SpatialIndex *index, const Snapshot *snapshot,
                                        const Condition *condition);

/* Sites with west <= lon <= east (or, when west > east, lon >= west or
 * lon <= east) and south <= lat <= north, covering `condition` (NULL: every
 * site) and passing `filter`: the `limit` smallest site indexes, ascending,
 * into `sites` (room for limit); *count gets how many were written and
 * *truncated whether more matched. Returns 0, or -1 when out of memory. */
int spatial_index_box(const SpatialIndex *index, const Snapshot *snapshot, double west,
                      double south, double east, double north, const Condition *condition,
                      const SiteFilter *filter, size_t limit, uint32_t *sites, size_t *count,
                      int *truncated);

#endif
