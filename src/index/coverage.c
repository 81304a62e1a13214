/* coverage.c — population coverage by area; see coverage.h.
 *
 * One pass: the nearest selected site of every commune with a point (one
 * k = 1 query of the spatial index each), then, per level (départements,
 * régions, territories, France), the sums, the weighted quantiles from the
 * communes sorted by distance once, and the serving site from the
 * population summed per (area, site). The nearest queries are split
 * between two threads (the communes are independent). */
#include "index/coverage.h"

#include "base/slots.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* One commune's nearest selected site. */
typedef struct Reach {
    double distance_m; /* INFINITY: no point, or no selected site */
    uint32_t site;     /* SITE_NONE with INFINITY */
} Reach;

/* The area of commune `c` at one level, or COMMUNES_NONE. */
typedef uint32_t (*AreaOf)(const Commune *commune);

static uint32_t departement_of(const Commune *commune)
{
    return commune->departement;
}

static uint32_t region_of(const Commune *commune)
{
    return commune->region;
}

/* Communes outside the départements (the collectivités d'outre-mer of the
 * COG: Saint-Martin, New Caledonia...) count at no level. */
static uint32_t territory_of(const Commune *commune)
{
    return commune->departement == COMMUNES_NONE ? COMMUNES_NONE : commune->territory;
}

static uint32_t france_of(const Commune *commune)
{
    return commune->departement == COMMUNES_NONE ? COMMUNES_NONE : 0;
}

static void figures_init(CoverageFigures *figures, size_t count)
{
    for (size_t i = 0; i < count; i++)
        figures[i] = (CoverageFigures){0, 0, 0, NAN, NAN, SITE_NONE, 0};
}

/* Populations, covered and without-point sums of one level. */
static void add_sums(const Communes *communes, const Reach *reach, double radius_m, AreaOf area_of,
                     CoverageFigures *figures, size_t area_count)
{
    for (size_t c = 0; c < communes->commune_count; c++) {
        const Commune *commune = &communes->communes[c];
        uint32_t area = area_of(commune);
        if (area == COMMUNES_NONE)
            continue;
        assert(area < area_count);
        CoverageFigures *f = &figures[area];
        f->population += commune->population;
        if (!commune->has_point)
            f->without_point += commune->population;
        else if (reach[c].distance_m <= radius_m)
            f->covered += commune->population;
    }
    (void)area_count;
}

/* The weighted median and 90th percentile of one level, walking the
 * communes in distance order (`by_distance`, only those with a reach). */
static int add_quantiles(const Communes *communes, const Reach *reach, const uint32_t *by_distance,
                         size_t reached, AreaOf area_of, CoverageFigures *figures,
                         size_t area_count)
{
    int64_t *weight = calloc(area_count + 1, sizeof *weight);
    int64_t *seen = calloc(area_count + 1, sizeof *seen);
    if (!weight || !seen) {
        free(weight);
        free(seen);
        return -1;
    }
    for (size_t i = 0; i < reached; i++) {
        uint32_t area = area_of(&communes->communes[by_distance[i]]);
        if (area != COMMUNES_NONE)
            weight[area] += communes->communes[by_distance[i]].population;
    }
    for (size_t i = 0; i < reached; i++) {
        uint32_t c = by_distance[i];
        uint32_t area = area_of(&communes->communes[c]);
        if (area == COMMUNES_NONE || weight[area] == 0)
            continue;
        int64_t before = seen[area];
        seen[area] += communes->communes[c].population;
        double kilometres = reach[c].distance_m / 1000;
        /* seen/weight >= share, in integers: seen * 10 >= weight * 5 (or 9). */
        if (before * 2 < weight[area] && seen[area] * 2 >= weight[area])
            figures[area].median_km = kilometres;
        if (before * 10 < weight[area] * 9 && seen[area] * 10 >= weight[area] * 9)
            figures[area].p90_km = kilometres;
    }
    free(weight);
    free(seen);
    return 0;
}

/* The site nearest to the largest population of each area (ties: the
 * smaller site index): populations summed per (area, site) pair in a slot
 * table (base/slots.h) whose values index `totals`. */
typedef struct Served {
    uint32_t area, site;
    int64_t population;
} Served;

static int add_serving(const Communes *communes, const Reach *reach, AreaOf area_of,
                       CoverageFigures *figures, Served *totals)
{
    HashSlots pairs = {0};
    size_t count = 0;
    int status = 0;
    for (size_t c = 0; c < communes->commune_count && status == 0; c++) {
        uint32_t area = area_of(&communes->communes[c]);
        if (area == COMMUNES_NONE || reach[c].site == SITE_NONE)
            continue;
        uint64_t key = (uint64_t)area << 32 | reach[c].site;
        uint32_t hash = (uint32_t)(key * 0x9E3779B97F4A7C15ull >> 32);
        if (hash_slots_reserve(&pairs, 1024) != 0) {
            status = -1;
            break;
        }
        size_t slot = hash_slots_start(&pairs, hash);
        for (; pairs.values[slot]; slot = hash_slots_next(&pairs, slot)) {
            const Served *held = &totals[pairs.values[slot] - 1];
            if (held->area == area && held->site == reach[c].site)
                break;
        }
        if (!pairs.values[slot]) {
            totals[count] = (Served){area, reach[c].site, 0};
            hash_slots_fill(&pairs, slot, ++count, hash);
        }
        totals[pairs.values[slot] - 1].population += communes->communes[c].population;
    }
    for (size_t i = 0; i < count; i++) {
        CoverageFigures *f = &figures[totals[i].area];
        if (f->serving_site == SITE_NONE || totals[i].population > f->serving_population ||
            (totals[i].population == f->serving_population && totals[i].site < f->serving_site)) {
            f->serving_site = totals[i].site;
            f->serving_population = totals[i].population;
        }
    }
    hash_slots_free(&pairs);
    return status;
}

static int add_level(const Communes *communes, const Reach *reach, const uint32_t *by_distance,
                     size_t reached, double radius_m, AreaOf area_of, CoverageFigures *figures,
                     size_t area_count, Served *scratch)
{
    figures_init(figures, area_count);
    add_sums(communes, reach, radius_m, area_of, figures, area_count);
    if (add_quantiles(communes, reach, by_distance, reached, area_of, figures, area_count) != 0)
        return -1;
    return add_serving(communes, reach, area_of, figures, scratch);
}

/* Commune indexes by distance, ties by index. */
static int compare_by_distance_r(const void *a, const void *b, void *context)
{
    const Reach *reach = context;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    double dx = reach[x].distance_m, dy = reach[y].distance_m;
    if (dx != dy)
        return dx < dy ? -1 : 1;
    return x < y ? -1 : x > y;
}

static size_t count_selected(const Snapshot *snapshot, const CoverageQuery *query)
{
    const SiteFilter *filter = &query->filter;
    /* Unfiltered: the count the loader already made (snapshot.h), not a
     * scan of every site per query. */
    if (query->condition && !filter->filiere && filter->role_mask == SITE_FILTER_ALL_ROLES &&
        filter->audience_mask == SITE_FILTER_ALL_AUDIENCES)
        return query->condition->covering_sites;
    size_t selected = 0;
    for (size_t s = 0; s < snapshot->site_count; s++) {
        const Site *site = &snapshot->sites[s];
        selected += site_filter_accepts(snapshot, &query->filter, site) &&
                    (!query->condition ||
                     snapshot_site_covers(snapshot, site, query->condition, NULL) >= 0);
    }
    return selected;
}

/* The nearest selected site of communes [begin, end). */
typedef struct ReachJob {
    const SpatialIndex *index;
    const Snapshot *snapshot;
    const Communes *communes;
    const CoverageQuery *query;
    Reach *reach;
    size_t begin, end;
    int status;
} ReachJob;

static void *reach_range(void *argument)
{
    ReachJob *job = argument;
    for (size_t c = job->begin; c < job->end && job->status == 0; c++) {
        const Commune *commune = &job->communes->communes[c];
        job->reach[c] = (Reach){INFINITY, SITE_NONE};
        if (!commune->has_point)
            continue;
        NearestResult nearest;
        int found = spatial_index_nearest(job->index, job->snapshot, commune->lat, commune->lon,
                                          job->query->condition, &job->query->filter, 1, &nearest);
        if (found < 0)
            job->status = -1;
        else if (found == 1)
            job->reach[c] = (Reach){nearest.distance_m, nearest.site};
    }
    return NULL;
}

/* Fills reach[] for every commune, in two threads. Returns 0, or -1 when
 * out of memory. */
static int reach_communes(const SpatialIndex *index, const Snapshot *snapshot,
                          const Communes *communes, const CoverageQuery *query, size_t selected,
                          Reach *reach)
{
    size_t n = communes->commune_count;
    if (selected == 0) {
        for (size_t c = 0; c < n; c++)
            reach[c] = (Reach){INFINITY, SITE_NONE};
        return 0;
    }
    ReachJob jobs[2] = {{index, snapshot, communes, query, reach, 0, n / 2, 0},
                        {index, snapshot, communes, query, reach, n / 2, n, 0}};
    pthread_t thread;
    int threaded = pthread_create(&thread, NULL, reach_range, &jobs[1]) == 0;
    reach_range(&jobs[0]);
    if (threaded)
        pthread_join(thread, NULL);
    else
        reach_range(&jobs[1]);
    return jobs[0].status == 0 && jobs[1].status == 0 ? 0 : -1;
}

int coverage_compute(const SpatialIndex *index, const Snapshot *snapshot, const Communes *communes,
                     const CoverageQuery *query, Coverage *out)
{
    memset(out, 0, sizeof *out);
    size_t n = communes->commune_count;
    Reach *reach = malloc((n + 1) * sizeof *reach);
    uint32_t *by_distance = malloc((n + 1) * sizeof *by_distance);
    Served *scratch = malloc((n + 1) * sizeof *scratch);
    out->departements = malloc((communes->departement_count + 1) * sizeof *out->departements);
    out->regions = malloc((communes->region_count + 1) * sizeof *out->regions);
    int status = reach && by_distance && scratch && out->departements && out->regions ? 0 : -1;
    out->selected_sites = status == 0 ? count_selected(snapshot, query) : 0;
    size_t reached = 0;
    if (status == 0 &&
        reach_communes(index, snapshot, communes, query, out->selected_sites, reach) != 0)
        status = -1;
    for (size_t c = 0; status == 0 && c < n; c++)
        if (reach[c].site != SITE_NONE)
            by_distance[reached++] = (uint32_t)c;
    if (status == 0)
        qsort_r(by_distance, reached, sizeof *by_distance, compare_by_distance_r, reach);
    if (status == 0)
        status = add_level(communes, reach, by_distance, reached, query->radius_m, departement_of,
                           out->departements, communes->departement_count, scratch);
    if (status == 0)
        status = add_level(communes, reach, by_distance, reached, query->radius_m, region_of,
                           out->regions, communes->region_count, scratch);
    if (status == 0)
        status = add_level(communes, reach, by_distance, reached, query->radius_m, territory_of,
                           out->territories, TERRITORY_COUNT, scratch);
    if (status == 0)
        status = add_level(communes, reach, by_distance, reached, query->radius_m, france_of,
                           &out->total, 1, scratch);
    free(reach);
    free(by_distance);
    free(scratch);
    if (status != 0)
        coverage_free(out);
    return status;
}

void coverage_free(Coverage *coverage)
{
    free(coverage->departements);
    free(coverage->regions);
    coverage->departements = coverage->regions = NULL;
}
