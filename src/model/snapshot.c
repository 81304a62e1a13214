/* snapshot.c — lookups over the plain-data network, derived counts, and
 * hand-made snapshots; see snapshot.h. Loading is in snapshot_load.c. */
#include "model/snapshot.h"

#include "base/array.h"
#include "model/text_pool.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int snapshot_text_add(Snapshot *snapshot, const char *text, size_t length, TextRef *ref)
{
    TextPool pool = {snapshot->text_pool, snapshot->text_pool_size, snapshot->text_pool_capacity};
    PoolStatus status = pool_add(&pool, text, length, ref);
    snapshot->text_pool = pool.bytes;
    snapshot->text_pool_size = pool.size;
    snapshot->text_pool_capacity = pool.capacity;
    return status == POOL_OK ? 0 : -1;
}

int snapshot_details_add(Snapshot *snapshot, const SiteDetails *details, uint32_t *index)
{
    for (size_t i = 0; i < snapshot->details_count; i++) {
        if (memcmp(&snapshot->details[i], details, sizeof *details) == 0) {
            *index = (uint32_t)i;
            return 0;
        }
    }
    if (array_reserve(snapshot->details, snapshot->details_capacity, snapshot->details_count + 1,
                      16) != 0)
        return -1;
    snapshot->details[snapshot->details_count] = *details;
    *index = (uint32_t)snapshot->details_count++;
    return 0;
}

/* --- Lookups ------------------------------------------------------------ */

const Condition *snapshot_condition(const Snapshot *snapshot, int32_t orpha)
{
    if (snapshot->condition_by_code) {
        if (orpha < 0 || (size_t)orpha >= snapshot->condition_by_code_size)
            return NULL;
        uint32_t index = snapshot->condition_by_code[orpha];
        return index == UINT32_MAX ? NULL : &snapshot->conditions[index];
    }
    size_t low = 0, high = snapshot->condition_count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        int32_t code = snapshot->conditions[middle].orpha;
        if (code == orpha)
            return &snapshot->conditions[middle];
        if (code < orpha)
            low = middle + 1;
        else
            high = middle;
    }
    return NULL;
}

const Site *snapshot_site(const Snapshot *snapshot, const char *site_id)
{
    size_t low = 0, high = snapshot->site_count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        int order = strcmp(site_id_text(snapshot, &snapshot->sites[middle]), site_id);
        if (order == 0)
            return &snapshot->sites[middle];
        if (order < 0)
            low = middle + 1;
        else
            high = middle;
    }
    return NULL;
}

int snapshot_site_covers(const Snapshot *snapshot, const Site *site, const Condition *condition,
                         const Condition **matched)
{
    /* Ancestors are sorted by (depth, orpha): the first listed one is the
     * nearest, ties going to the smaller code. */
    const AncestorEntry *ancestors = snapshot->ancestors + condition->ancestors_start;
    for (uint32_t a = 0; a < condition->ancestor_count; a++) {
        const Condition *ancestor = &snapshot->conditions[ancestors[a].condition];
        if (site_lists_code(snapshot, site, ancestor->orpha)) {
            if (matched)
                *matched = ancestor;
            return (int)ancestors[a].depth;
        }
    }
    if (matched)
        *matched = NULL;
    return -1;
}

/* --- Derived data ------------------------------------------------------- */

/* covering_sites: for each site, every condition under one of its codes
 * (the inverted ancestors table) is counted once. */
int snapshot_count_coverage(Snapshot *snapshot)
{
    size_t condition_count = snapshot->condition_count;
    size_t total = condition_count ? snapshot->conditions[condition_count - 1].ancestors_start +
                                         snapshot->conditions[condition_count - 1].ancestor_count
                                   : 0;
    uint32_t *offsets = calloc(condition_count + 1, sizeof *offsets);
    uint32_t *descendants = malloc((total + 1) * sizeof *descendants);
    uint32_t *fill = calloc(condition_count + 1, sizeof *fill);
    uint32_t *stamp = calloc(condition_count + 1, sizeof *stamp);
    if (!offsets || !descendants || !fill || !stamp) {
        free(offsets);
        free(descendants);
        free(fill);
        free(stamp);
        return -1;
    }
    for (size_t c = 0; c < condition_count; c++) {
        const Condition *condition = &snapshot->conditions[c];
        for (uint32_t a = 0; a < condition->ancestor_count; a++)
            offsets[snapshot->ancestors[condition->ancestors_start + a].condition + 1]++;
    }
    for (size_t c = 0; c < condition_count; c++)
        offsets[c + 1] += offsets[c];
    for (size_t c = 0; c < condition_count; c++) {
        const Condition *condition = &snapshot->conditions[c];
        for (uint32_t a = 0; a < condition->ancestor_count; a++) {
            uint32_t ancestor = snapshot->ancestors[condition->ancestors_start + a].condition;
            descendants[offsets[ancestor] + fill[ancestor]++] = (uint32_t)c;
        }
    }
    for (size_t c = 0; c < condition_count; c++)
        snapshot->conditions[c].covering_sites = 0;
    for (size_t s = 0; s < snapshot->site_count; s++) {
        const Site *site = &snapshot->sites[s];
        for (uint32_t i = 0; i < site->code_count; i++) {
            const Condition *code = snapshot_condition(snapshot, site_codes(snapshot, site)[i]);
            if (!code)
                continue;
            uint32_t c = snapshot_condition_index(snapshot, code);
            for (uint32_t d = offsets[c]; d < offsets[c + 1]; d++) {
                uint32_t descendant = descendants[d];
                if (stamp[descendant] != s + 1) {
                    stamp[descendant] = (uint32_t)s + 1;
                    snapshot->conditions[descendant].covering_sites++;
                }
            }
        }
    }
    free(offsets);
    free(descendants);
    free(fill);
    free(stamp);
    return 0;
}

void snapshot_free(Snapshot *snapshot)
{
    if (!snapshot)
        return;
    free(snapshot->sites);
    free(snapshot->site_codes);
    free(snapshot->conditions);
    free(snapshot->ancestors);
    free(snapshot->links);
    free(snapshot->condition_by_code);
    free(snapshot->filieres);
    if (snapshot->arena)
        arena_release(snapshot->arena);
    free(snapshot->arena);
    free(snapshot->text_pool);
    free(snapshot->details);
    free(snapshot);
}

/* --- Invariants ------------------------------------------------------------ */

static int sites_hold(const Snapshot *snapshot)
{
    for (size_t s = 0; s < snapshot->site_count; s++) {
        const Site *site = &snapshot->sites[s];
        if (s > 0 && strcmp(site_id_text(snapshot, site - 1), site_id_text(snapshot, site)) >= 0)
            return 0; /* sorted by site_id, distinct */
        if (site->role >= ROLE_COUNT || site->audience > AUDIENCE_TOUS ||
            site->details >= snapshot->details_count ||
            (site->coordinator != SITE_NONE && site->coordinator >= snapshot->site_count))
            return 0;
        const int32_t *codes = site_codes(snapshot, site);
        for (uint32_t i = 0; i < site->code_count; i++)
            if ((i > 0 && codes[i] <= codes[i - 1]) || !snapshot_condition(snapshot, codes[i]))
                return 0; /* ascending, distinct, known */
    }
    return 1;
}

static int conditions_hold(const Snapshot *snapshot)
{
    for (size_t c = 0; c < snapshot->condition_count; c++) {
        const Condition *condition = &snapshot->conditions[c];
        if (c > 0 && condition->orpha <= condition[-1].orpha)
            return 0; /* sorted by code */
        const AncestorEntry *ancestors = snapshot->ancestors + condition->ancestors_start;
        if (condition->ancestor_count == 0 || ancestors[0].condition != c ||
            ancestors[0].depth != 0)
            return 0; /* itself first, at depth 0 */
        for (uint32_t a = 1; a < condition->ancestor_count; a++) {
            const Condition *previous = &snapshot->conditions[ancestors[a - 1].condition];
            const Condition *ancestor = &snapshot->conditions[ancestors[a].condition];
            if (ancestors[a].condition >= snapshot->condition_count ||
                ancestors[a].depth < ancestors[a - 1].depth ||
                (ancestors[a].depth == ancestors[a - 1].depth &&
                 ancestor->orpha <= previous->orpha))
                return 0; /* by (depth, orpha) */
        }
    }
    return 1;
}

int snapshot_invariants_hold(const Snapshot *snapshot)
{
    for (size_t l = 0; l < snapshot->link_count; l++)
        if (snapshot->links[l].from >= snapshot->site_count ||
            snapshot->links[l].to >= snapshot->site_count)
            return 0;
    return snapshot->text_pool_size <= UINT32_MAX && sites_hold(snapshot) &&
           conditions_hold(snapshot);
}

const char *snapshot_filiere(const Snapshot *snapshot, const char *name)
{
    for (size_t f = 0; f < snapshot->filiere_count; f++)
        if (strcasecmp(snapshot->filieres[f], name) == 0)
            return snapshot->filieres[f];
    return NULL;
}
