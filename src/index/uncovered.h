/* uncovered.h — what the data says about a condition that no selected site covers.
 *
 * Owns: the help an /api/nearest answer gives when no site passing the
 * filters covers the asked condition (the empty answer), computed from the
 * snapshot alone. Rules (what really links a condition to a site or a
 * filière in the data; nothing is inferred beyond it):
 *  - covered: the more specific conditions (descendants of the condition in
 *    any Orphanet classification, the condition itself excluded) that a
 *    site passing the filter LISTS among its own codes, each with the
 *    number of sites passing the filter that cover it (list it or one of
 *    its ancestors: exactly what a search for it finds). Sorted by sites
 *    (most first), then by French label (accents and case ignored), then
 *    by code: the same list in both languages;
 *  - filieres: the filières of the sites (whatever the filter) that list
 *    the condition itself or one of its ancestors (such sites exist only
 *    when the filter left them out), or one of its descendants. A site's
 *    `filiere` is the only link between a condition and a filière in the
 *    shipped data (fsmr-sites-2017.csv names no condition). One entry per
 *    filière (ASCII case ignored, spelled as its first site spells it),
 *    with the code through which it is linked: the nearest listed
 *    ancestor (or the condition itself) when there is one, else the
 *    nearest listed descendant; ties by the smaller code. Sorted by name.
 * Cost: one pass over the conditions and one over the sites' codes, with
 * per-call scratch (five arrays of the condition count); it only runs on
 * the empty path, and covers nothing precomputable (the filter varies).
 * Invariants: pure; thread-safe; the result points into the snapshot. */
#ifndef MAILLAGE_UNCOVERED_H
#define MAILLAGE_UNCOVERED_H

#include "model/snapshot.h"

#include <stddef.h>
#include <stdint.h>

typedef struct UncoveredFiliere {
    const char *filiere;  /* as its first site spells it (the snapshot's text) */
    const Condition *via; /* the listed code that links it to the condition */
} UncoveredFiliere;

typedef struct CoveredCondition {
    const Condition *condition;
    uint32_t sites; /* sites passing the filter that cover it */
} CoveredCondition;

typedef struct UncoveredHelp {
    UncoveredFiliere *filieres; /* sorted by name (ASCII case ignored) */
    size_t filiere_count;
    CoveredCondition *covered; /* every one, in the order above */
    size_t covered_count;
} UncoveredHelp;

/* Fills `help` for `condition` under `filter` (see the rules above).
 * Returns 0, or -1 when out of memory (`help` then empty). The caller
 * frees it with uncovered_help_free(). */
int uncovered_help_compute(const Snapshot *snapshot, const Condition *condition,
                           const SiteFilter *filter, UncoveredHelp *help);
/* Frees the lists of `help` and empties it. */
void uncovered_help_free(UncoveredHelp *help);

#endif
