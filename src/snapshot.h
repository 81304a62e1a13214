/* snapshot.h — the in-memory dataset a server answers from.
 *
 * Owns: everything loaded from one database file at startup or reload: the
 * sites, the Orphanet conditions with their ancestor closure, the network
 * links, and the indexes built over them (spatial index, condition search,
 * places, tiles). Invariants:
 *  - immutable once snapshot_load() returns: any number of threads read it
 *    without locks;
 *  - `sites` is sorted by site_id in byte order (strcmp), so an index into
 *    it is also the tie-break order of the API;
 *  - `conditions` is sorted by orpha code; each condition's ancestor list
 *    holds itself at depth 0 and every ancestor in every classification
 *    with its smallest depth, sorted by (depth, orpha);
 *  - a site's codes are the ORPHAcodes its row lists, sorted, all present
 *    in `conditions` (the builder rejects unknown codes);
 *  - lifetime: reference counted by the server (serve.c); the last release
 *    of a retired snapshot frees it with snapshot_free(). */
#ifndef MAILLAGE_SNAPSHOT_H
#define MAILLAGE_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

typedef enum Role {
    ROLE_CRMR_COORDONNATEUR,
    ROLE_CRMR_CONSTITUTIF,
    ROLE_CRMR,
    ROLE_CCMR,
    ROLE_COOPERATION,
    ROLE_PLATFORM_MEMBER,
    ROLE_PLATFORM_COORDINATOR,
    ROLE_MEDICO_SOCIAL,
    ROLE_ASSOCIATION,
    ROLE_COUNT
} Role;

typedef enum Audience {
    AUDIENCE_UNSTATED,
    AUDIENCE_ENFANTS,
    AUDIENCE_ADULTES,
    AUDIENCE_TOUS
} Audience;

/* Names as in the CONTRACT ("crmr_coordonnateur", ..., "enfants", ...). */
const char *role_name(Role role);
int role_from_name(const char *name);         /* -1 when unknown */
const char *audience_name(Audience audience); /* NULL for AUDIENCE_UNSTATED */

#define SITE_NONE UINT32_MAX

typedef struct Site {
    /* Text fields are NULL when empty in the source. */
    const char *site_id, *finess, *name, *centre_label, *filiere, *responsable, *service, *platform,
        *source, *phone, *address, *postcode, *city;
    double lat, lon;
    uint32_t codes_start; /* into Snapshot.site_codes */
    uint32_t code_count;
    uint32_t coordinator; /* index of the coordinating site, or SITE_NONE */
    uint8_t role;         /* Role */
    uint8_t audience;     /* Audience */
} Site;

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

typedef enum LinkKind { LINK_COORDINATOR, LINK_COOPERATION } LinkKind;

typedef struct Link {
    uint32_t from, to; /* site indexes */
    uint8_t kind;      /* LinkKind */
} Link;

struct SpatialIndex;    /* spatial_index.h */
struct ConditionSearch; /* conditions.h */
struct Places;          /* places.h */
struct TileSet;         /* tiles.h */

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
    struct SpatialIndex *index;
    struct ConditionSearch *condition_search;
    struct Places *places;
    struct TileSet *tiles;
    void *arena; /* owns every string above */
    double load_seconds;
    /* Extension: condition index per ORPHAcode (UINT32_MAX when absent) for
     * codes below condition_by_code_size; NULL in hand-made snapshots, then
     * snapshot_condition() searches `conditions` by bisection. */
    uint32_t *condition_by_code;
    size_t condition_by_code_size;
} Snapshot;

/* Loads the database at `path` (opened read-only). Returns NULL with a
 * one-line message in `error`. */
Snapshot *snapshot_load(const char *path, char *error, size_t error_size);
void snapshot_free(Snapshot *snapshot);

/* Lookups. */
const Condition *snapshot_condition(const Snapshot *snapshot, int32_t orpha); /* NULL if absent */
const Site *snapshot_site(const Snapshot *snapshot, const char *site_id);     /* NULL if absent */
/* The depth at which `site` covers `condition` through the site's own codes,
 * writing the code it matched through (the nearest such ancestor; ties by
 * smaller code) into *matched; -1 when the site does not cover it. */
int snapshot_site_covers(const Snapshot *snapshot, const Site *site, const Condition *condition,
                         const Condition **matched);

/* --- Extensions (snapshot.c) ------------------------------------------- */

/* Completes a snapshot whose sites (sorted by site_id), site_codes,
 * conditions, ancestors and links are filled: computes each condition's
 * covering_sites and builds the spatial index. Used by snapshot_load() and
 * by tests that make a synthetic snapshot in memory.
 * Arrays must be malloc'd (snapshot_free() frees them); strings may be
 * static when `arena` is NULL. Returns 0, or -1 with a message. */
int snapshot_finish(Snapshot *snapshot, char *error, size_t error_size);
/* Tables with at least this many sites are read by two threads at once
 * (default 20000); tests lower it to exercise that path on small files. */
extern size_t snapshot_parallel_minimum_sites;
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

#endif
