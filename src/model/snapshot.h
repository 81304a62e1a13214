/* snapshot.h — the care network as plain data: what a server answers from.
 *
 * Owns: everything loaded from one database file (snapshot_load.h): the
 * sites and their text pool, the Orphanet conditions with their ancestor
 * closure, the network links; and the lookups every layer above shares
 * (a condition by code, a site by id, "does this site cover this
 * condition"). It knows nothing of the indexes, tiles or HTTP built over
 * it (dataset/ assembles those). Invariants:
 *  - immutable once loaded: any number of threads read it without locks;
 *  - `sites` is sorted by site_id in byte order (strcmp), so an index into
 *    it is also the tie-break order of the API (asserted by the loaders);
 *  - `conditions` is sorted by orpha code; each condition's ancestor list
 *    holds itself at depth 0 and every ancestor in every classification
 *    with its smallest depth, sorted by (depth, orpha);
 *  - a site's codes are the ORPHAcodes its row lists, sorted ascending
 *    without repeats, all present in `conditions` (unknown codes dropped);
 *  - lifetime: owned by its Dataset (dataset/dataset.h), freed with it by
 *    snapshot_free(). */
#ifndef MAILLAGE_SNAPSHOT_H
#define MAILLAGE_SNAPSHOT_H

#include "base/arena.h"
#include "model/site.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
/* The layout of the packed sites `maillage build` stores (snapshot_pack()):
 * bump it whenever Site, SiteDetails, TextRef or the text pool's record
 * layout changes, so that older packed parts are ignored (their sites are
 * then read from the table). */
#define SNAPSHOT_PACKED_FORMAT 2

typedef struct AncestorEntry {
    uint32_t condition; /* index into Snapshot.conditions */
    uint32_t depth;     /* 0 for the condition itself */
} AncestorEntry;

typedef struct Condition {
    int32_t orpha;
    const char *label_fr, *label_en, *level, *status;
    uint32_t ancestors_start; /* into Snapshot.ancestors */
    uint32_t ancestor_count;
    uint32_t covering_sites; /* how many sites cover it (directly or via a group) */
} Condition;

/* The language of an answer's human text (CONTRACT: `lang=fr|en`). */
typedef enum Language { LANGUAGE_FRENCH, LANGUAGE_ENGLISH } Language;

/* The condition's label in `language`: Orphanet's English label, or the
 * French one when the English is missing; NULL only when both are. */
static inline const char *condition_label(const Condition *condition, Language language)
{
    if (language == LANGUAGE_ENGLISH && condition->label_en && *condition->label_en)
        return condition->label_en;
    return condition->label_fr;
}

typedef enum LinkKind { LINK_COORDINATOR, LINK_COOPERATION } LinkKind;

typedef struct Link {
    uint32_t from, to; /* site indexes */
    uint8_t kind;      /* LinkKind */
} Link;

typedef struct Snapshot {
    char version[64];
    char path[4096];
    Site *sites;
    size_t site_count;
    int32_t *site_codes; /* ORPHAcodes, grouped per site */
    Condition *conditions;
    size_t condition_count;
    AncestorEntry *ancestors;
    Link *links;
    size_t link_count;
    Arena *arena;    /* owns the conditions' strings */
    char *text_pool; /* the sites' texts (see TextRef) */
    size_t text_pool_size, text_pool_capacity;
    SiteDetails *details; /* see SiteDetails */
    size_t details_count, details_capacity;
    double load_seconds;
    int sites_packed; /* 1 when the sites came from packed_sites, not the table */
    /* Extension: condition index per ORPHAcode (UINT32_MAX when absent) for
     * codes below condition_by_code_size; NULL in hand-made snapshots, then
     * snapshot_condition() searches `conditions` by bisection. */
    uint32_t *condition_by_code;
    size_t condition_by_code_size;
    const char **filieres; /* names of table `filieres`, sorted (arena strings) */
    size_t filiere_count;
} Snapshot;

/* Frees the snapshot and everything it owns; NULL is a no-op. */
void snapshot_free(Snapshot *snapshot);

/* Lookups. */
const Condition *snapshot_condition(const Snapshot *snapshot, int32_t orpha); /* NULL if absent */
const Site *snapshot_site(const Snapshot *snapshot, const char *site_id);     /* NULL if absent */
/* The depth at which `site` covers `condition` through the site's own codes,
 * writing the code it matched through (the nearest such ancestor; ties by
 * smaller code) into *matched; -1 when the site does not cover it. */
int snapshot_site_covers(const Snapshot *snapshot, const Site *site, const Condition *condition,
                         const Condition **matched);

/* --- Derived data --------------------------------------------------------- */

/* Computes each condition's covering_sites (the sites that list it or one
 * of its ancestors, each once) from the sites and the ancestors. Called by
 * the loader, and by tests that fill a snapshot by hand. Returns 0, or -1
 * when out of memory (the counts are then unchanged). */
int snapshot_count_coverage(Snapshot *snapshot);

/* 1 when every invariant stated above holds (sites sorted and distinct,
 * codes ascending and known, conditions sorted, ancestor lists ordered,
 * every index in range); 0 otherwise. O(sites + codes + ancestors): the
 * loader asserts it once per load. */
int snapshot_invariants_hold(const Snapshot *snapshot);

/* The index of `site` in snapshot->sites (= its rank in site_id order). */
static inline uint32_t snapshot_site_index(const Snapshot *snapshot, const Site *site)
{
    return (uint32_t)(site - snapshot->sites);
}
/* The index of `condition` in snapshot->conditions. */
static inline uint32_t snapshot_condition_index(const Snapshot *snapshot,
                                                const Condition *condition)
{
    return (uint32_t)(condition - snapshot->conditions);
}
/* The ORPHAcodes a site lists, sorted ascending. */
static inline const int32_t *site_codes(const Snapshot *snapshot, const Site *site)
{
    return snapshot->site_codes + site->codes_start;
}
/* Up to this many codes a site's list is scanned whole, without branches
 * (most sites list a few codes: bisection's unpredictable branches cost
 * more); longer lists are bisected. */
#define SITE_CODES_SCANNED 8

/* 1 when the site's own codes (ascending) hold `orpha`. */
static inline int site_lists_code(const Snapshot *snapshot, const Site *site, int32_t orpha)
{
    const int32_t *codes = site_codes(snapshot, site);
    if (site->code_count <= SITE_CODES_SCANNED) {
        int listed = 0;
        for (uint32_t i = 0; i < site->code_count; i++)
            listed |= codes[i] == orpha;
        return listed;
    }
    uint32_t low = 0, high = site->code_count;
    while (low < high) {
        uint32_t middle = low + (high - low) / 2;
        if (codes[middle] == orpha)
            return 1;
        if (codes[middle] < orpha)
            low = middle + 1;
        else
            high = middle;
    }
    return 0;
}

/* 1 when `site` passes `filter` (site.h): role, audience and filière. */
static inline int site_filter_accepts(const Snapshot *snapshot, const SiteFilter *filter,
                                      const Site *site)
{
    if (!site_filter_accepts_kind(filter, site))
        return 0;
    if (!filter->filiere)
        return 1;
    return site->filiere && strcasecmp(snapshot->text_pool + site->filiere, filter->filiere) == 0;
}

/* The filière named `name` (ASCII case ignored) as table `filieres` spells
 * it (the 23 FSMR), or NULL when none has that name. */
const char *snapshot_filiere(const Snapshot *snapshot, const char *name);

/* --- Texts ---------------------------------------------------------------- */

/* The C string of `ref`, NULL when absent. */
static inline const char *snapshot_text(const Snapshot *snapshot, TextRef ref)
{
    return ref ? snapshot->text_pool + ref : NULL;
}
static inline uint32_t snapshot_text_header(const Snapshot *snapshot, TextRef ref)
{
    return ref ? text_header_at(snapshot->text_pool, ref) : 0;
}
/* Its length in bytes, 0 when absent. */
static inline size_t snapshot_text_length(const Snapshot *snapshot, TextRef ref)
{
    return snapshot_text_header(snapshot, ref) >> 1;
}
/* 1 when no byte needs a JSON escape (also for absent texts). */
static inline int snapshot_text_plain(const Snapshot *snapshot, TextRef ref)
{
    return ref ? (int)(snapshot_text_header(snapshot, ref) & 1) : 1;
}
/* The site's rarely-filled texts. */
static inline const SiteDetails *site_details(const Snapshot *snapshot, const Site *site)
{
    return &snapshot->details[site->details];
}
/* The site's id, "" when absent (an empty site_id in the database). */
static inline const char *site_id_text(const Snapshot *snapshot, const Site *site)
{
    return site->site_id ? snapshot->text_pool + site->site_id : "";
}

/* For hand-made snapshots (tests): stores `length` bytes of
 * `text` at the end of the snapshot's pool (no deduplication) and sets *ref
 * (0 for NULL or empty text). Returns 0, or -1 when out of memory or when
 * the pool would pass UINT32_MAX bytes. */
int snapshot_text_add(Snapshot *snapshot, const char *text, size_t length, TextRef *ref);
/* Stores `details` once (an identical record already stored is reused;
 * linear search, for small hand-made snapshots) and sets *index. Returns 0,
 * or -1 when out of memory. */
int snapshot_details_add(Snapshot *snapshot, const SiteDetails *details, uint32_t *index);

#endif
