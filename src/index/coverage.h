/* coverage.h — who lives far from care: population coverage by area.
 *
 * Owns: computing, for one selection of sites (a condition with its
 * classification, or a filière; roles and audiences), the distance from
 * every commune's point to its nearest selected site (the spatial index's
 * exact geodesic k-nearest, one query per commune, never a scan of the
 * sites), and from it, per département, région, territory and for France:
 * the population, the population within a radius, the population-weighted
 * median and 90th percentile of that distance, and the site nearest to the
 * largest part of the population. Invariants:
 *  - a commune counts with its population at its point; a commune without
 *    a point is never covered and counts in `without_point`; communes
 *    outside the départements (the collectivités d'outre-mer the COG lists)
 *    count nowhere, so France is the sum of its territories, of its
 *    régions and of its départements;
 *  - covered <= population - without_point, and a région's figures are
 *    the sums of its départements' (same communes, same distances);
 *  - the same query on the same data gives the same figures (ties of the
 *    nearest site go to the smaller site index, as the index does);
 *  - quantiles are the smallest distance d such that the communes at
 *    distance <= d hold at least that share of the population that has a
 *    point and a nearest site (NAN when there is none);
 *  - pure: reads the snapshot, index and communes, writes only `out`. */
#ifndef MAILLAGE_COVERAGE_H
#define MAILLAGE_COVERAGE_H

#include "index/communes.h"
#include "index/spatial_index.h"

#include <stddef.h>
#include <stdint.h>

typedef struct CoverageQuery {
    const Condition *condition; /* NULL: every site passing `filter` */
    SiteFilter filter;          /* roles, audiences and, for a filière, its name */
    double radius_m;            /* covered: nearest selected site at most this far */
} CoverageQuery;

typedef struct CoverageFigures {
    int64_t population;       /* of the communes (with or without a point) */
    int64_t covered;          /* of those whose nearest selected site is within the radius */
    int64_t without_point;    /* of the communes without a point */
    double median_km, p90_km; /* population-weighted; NAN when no commune has a nearest site */
    uint32_t serving_site;    /* nearest site of the largest population, or SITE_NONE */
    int64_t serving_population;
} CoverageFigures;

typedef struct Coverage {
    CoverageFigures total;                        /* France */
    CoverageFigures territories[TERRITORY_COUNT]; /* see communes.h */
    CoverageFigures *departements, *regions;      /* parallel to Communes' arrays */
    size_t selected_sites;                        /* sites that the selection keeps */
} Coverage;

/* Computes the coverage of `query` into `out`. Returns 0, or -1 when out of
 * memory (then `out` holds nothing to free). */
int coverage_compute(const SpatialIndex *index, const Snapshot *snapshot, const Communes *communes,
                     const CoverageQuery *query, Coverage *out);
/* Frees the arrays of `coverage` (not the struct). */
void coverage_free(Coverage *coverage);

#endif
