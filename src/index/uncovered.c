/* uncovered.c — the help for a condition no selected site covers; see uncovered.h. */
#include "index/uncovered.h"

#include "base/array.h"
#include "base/text.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Per-call scratch, one slot per condition (index into snapshot->conditions). */
typedef struct Scratch {
    uint32_t *above;       /* depth + 1 of each ancestor of the query (itself: 1); 0: not one */
    uint32_t *below;       /* depth + 1 of the query among a descendant's ancestors; 0: none */
    uint32_t *reach_start; /* condition_count + 1 offsets into reach */
    uint32_t *reach;       /* per condition a: the descendants that have a as an ancestor */
    uint32_t *sites;       /* per descendant: sites passing the filter that cover it */
    uint32_t *stamp;       /* per descendant: 1 + the last site counted for it */
    uint8_t *listed;       /* per descendant: a site passing the filter lists it */
} Scratch;

static void scratch_free(Scratch *scratch)
{
    free(scratch->above);
    free(scratch->below);
    free(scratch->reach_start);
    free(scratch->reach);
    free(scratch->sites);
    free(scratch->stamp);
    free(scratch->listed);
}

static const AncestorEntry *ancestors_of(const Snapshot *snapshot, const Condition *condition)
{
    return snapshot->ancestors + condition->ancestors_start;
}

/* Marks the query's ancestors (above) and descendants (below), and lays out
 * `reach`: for each condition, the descendants of the query under it.
 * Returns 0, or -1 when out of memory. */
static int scratch_fill(const Snapshot *snapshot, const Condition *query, Scratch *scratch)
{
    size_t count = snapshot->condition_count;
    uint32_t query_index = snapshot_condition_index(snapshot, query);
    scratch->above = calloc(count, sizeof *scratch->above);
    scratch->below = calloc(count, sizeof *scratch->below);
    scratch->reach_start = calloc(count + 1, sizeof *scratch->reach_start);
    scratch->sites = calloc(count, sizeof *scratch->sites);
    scratch->stamp = calloc(count, sizeof *scratch->stamp);
    scratch->listed = calloc(count, sizeof *scratch->listed);
    if (!scratch->above || !scratch->below || !scratch->reach_start || !scratch->sites ||
        !scratch->stamp || !scratch->listed)
        return -1;
    for (uint32_t a = 0; a < query->ancestor_count; a++)
        scratch->above[ancestors_of(snapshot, query)[a].condition] =
            ancestors_of(snapshot, query)[a].depth + 1;
    size_t total = 0;
    for (size_t c = 0; c < count; c++) {
        const Condition *condition = &snapshot->conditions[c];
        const AncestorEntry *ancestors = ancestors_of(snapshot, condition);
        for (uint32_t a = 1; a < condition->ancestor_count && c != query_index; a++)
            if (ancestors[a].condition == query_index) {
                scratch->below[c] = ancestors[a].depth + 1;
                break;
            }
        if (!scratch->below[c])
            continue;
        total += condition->ancestor_count;
        for (uint32_t a = 0; a < condition->ancestor_count; a++)
            scratch->reach_start[ancestors[a].condition + 1]++;
    }
    for (size_t c = 0; c < count; c++)
        scratch->reach_start[c + 1] += scratch->reach_start[c];
    scratch->reach = malloc((total + 1) * sizeof *scratch->reach);
    uint32_t *fill = malloc((count + 1) * sizeof *fill);
    if (!scratch->reach || !fill) {
        free(fill);
        return -1;
    }
    memcpy(fill, scratch->reach_start, (count + 1) * sizeof *fill);
    for (size_t c = 0; c < count; c++) {
        if (!scratch->below[c])
            continue;
        const Condition *condition = &snapshot->conditions[c];
        for (uint32_t a = 0; a < condition->ancestor_count; a++)
            scratch->reach[fill[ancestors_of(snapshot, condition)[a].condition]++] = (uint32_t)c;
    }
    free(fill);
    return 0;
}

/* How a listed code links its site's filière to the query: ancestors (and
 * the query itself) before descendants, the nearest first. */
static uint32_t link_rank(const Scratch *scratch, uint32_t condition)
{
    return scratch->above[condition] ? scratch->above[condition]
                                     : (1u << 20) + scratch->below[condition];
}

/* Records that a site of filière `name` lists `via` (an ancestor or a
 * descendant of the query). Returns 0, or -1 when out of memory. */
static int note_filiere(UncoveredHelp *help, size_t *capacity, const Snapshot *snapshot,
                        const Scratch *scratch, const char *name, uint32_t via)
{
    const Condition *condition = &snapshot->conditions[via];
    for (size_t i = 0; i < help->filiere_count; i++) {
        UncoveredFiliere *known = &help->filieres[i];
        if (strcasecmp(known->filiere, name) != 0)
            continue;
        uint32_t rank = link_rank(scratch, via);
        uint32_t known_rank = link_rank(scratch, snapshot_condition_index(snapshot, known->via));
        if (rank < known_rank || (rank == known_rank && condition->orpha < known->via->orpha))
            known->via = condition;
        return 0;
    }
    if (array_reserve(help->filieres, *capacity, help->filiere_count + 1, 8) != 0)
        return -1;
    help->filieres[help->filiere_count++] = (UncoveredFiliere){name, condition};
    return 0;
}

/* One pass over the sites: the filières linked to the query, and for each
 * descendant whether a selected site lists it and how many cover it. */
static int scan_sites(const Snapshot *snapshot, const SiteFilter *filter, Scratch *scratch,
                      UncoveredHelp *help)
{
    size_t filiere_capacity = 0;
    for (size_t s = 0; s < snapshot->site_count; s++) {
        const Site *site = &snapshot->sites[s];
        const char *filiere = snapshot_text(snapshot, site->filiere);
        int selected = site_filter_accepts(snapshot, filter, site);
        for (uint32_t k = 0; k < site->code_count; k++) {
            const Condition *listed = snapshot_condition(snapshot, site_codes(snapshot, site)[k]);
            if (!listed)
                continue;
            uint32_t c = snapshot_condition_index(snapshot, listed);
            if ((scratch->above[c] || scratch->below[c]) && filiere && *filiere &&
                note_filiere(help, &filiere_capacity, snapshot, scratch, filiere, c) != 0)
                return -1;
            if (!selected)
                continue;
            if (scratch->below[c])
                scratch->listed[c] = 1;
            for (uint32_t r = scratch->reach_start[c]; r < scratch->reach_start[c + 1]; r++) {
                uint32_t descendant = scratch->reach[r];
                if (scratch->stamp[descendant] != s + 1) {
                    scratch->stamp[descendant] = (uint32_t)s + 1;
                    scratch->sites[descendant]++;
                }
            }
        }
    }
    return 0;
}

static int compare_filieres(const void *a, const void *b)
{
    return strcasecmp(((const UncoveredFiliere *)a)->filiere,
                      ((const UncoveredFiliere *)b)->filiere);
}

/* A covered condition with its folded French label, for sorting. */
typedef struct SortedCondition {
    CoveredCondition item;
    char *folded;
} SortedCondition;

static int compare_covered(const void *a, const void *b)
{
    const SortedCondition *x = a, *y = b;
    if (x->item.sites != y->item.sites)
        return x->item.sites > y->item.sites ? -1 : 1;
    int order = strcmp(x->folded, y->folded);
    if (order)
        return order;
    return (x->item.condition->orpha > y->item.condition->orpha) -
           (x->item.condition->orpha < y->item.condition->orpha);
}

/* help->covered: the listed descendants in order. Returns 0, or -1. */
static int collect_covered(const Snapshot *snapshot, const Scratch *scratch, UncoveredHelp *help)
{
    size_t count = 0;
    for (size_t c = 0; c < snapshot->condition_count; c++)
        count += scratch->listed[c];
    SortedCondition *sorted = calloc(count + 1, sizeof *sorted);
    help->covered = malloc((count + 1) * sizeof *help->covered);
    int failed = !sorted || !help->covered;
    size_t n = 0;
    for (size_t c = 0; c < snapshot->condition_count && !failed; c++) {
        if (!scratch->listed[c])
            continue;
        const Condition *condition = &snapshot->conditions[c];
        assert(scratch->sites[c] > 0); /* its listing site covers it */
        sorted[n].item = (CoveredCondition){condition, scratch->sites[c]};
        sorted[n].folded = text_fold_copy(condition->label_fr ? condition->label_fr : "");
        failed = !sorted[n++].folded;
    }
    if (!failed) {
        qsort(sorted, n, sizeof *sorted, compare_covered);
        for (size_t i = 0; i < n; i++)
            help->covered[i] = sorted[i].item;
        help->covered_count = n;
    }
    for (size_t i = 0; sorted && i < n; i++)
        free(sorted[i].folded);
    free(sorted);
    return failed ? -1 : 0;
}

int uncovered_help_compute(const Snapshot *snapshot, const Condition *condition,
                           const SiteFilter *filter, UncoveredHelp *help)
{
    memset(help, 0, sizeof *help);
    Scratch scratch = {0};
    int status = scratch_fill(snapshot, condition, &scratch) == 0 &&
                         scan_sites(snapshot, filter, &scratch, help) == 0 &&
                         collect_covered(snapshot, &scratch, help) == 0
                     ? 0
                     : -1;
    scratch_free(&scratch);
    if (status != 0) {
        uncovered_help_free(help);
        return -1;
    }
    if (help->filiere_count > 1)
        qsort(help->filieres, help->filiere_count, sizeof *help->filieres, compare_filieres);
    return 0;
}

void uncovered_help_free(UncoveredHelp *help)
{
    free(help->filieres);
    free(help->covered);
    memset(help, 0, sizeof *help);
}
