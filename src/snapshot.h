/* snapshot.h — the in-memory dataset a server answers from.
 *
 * Owns: everything loaded from one database file at startup or reload: the
 * sites, the Orphanet conditions with their ancestor closure, the network
 * links, and the indexes built over them (spatial index, condition search,
 * places, tiles). Invariants:
 *  - immutable once snapshot_load() returns: any number of threads read it
 *    without locks (the spatial index's covering-tree cache, and the tile
 *    cache, change inside their modules with atomics or locks of their own,
 *    never what a reader already holds);
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
#include <string.h>

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

/* --- The text pool -------------------------------------------------------
 *
 * Every text of the sites lives in one contiguous char array owned by the
 * snapshot (`text_pool`, `text_pool_size` bytes). A stored text is
 *
 *     [h][bytes...][NUL]                                 length 1 to 63
 *     [0x80][uint32 header][0x80][bytes...][NUL]         longer texts
 *
 * where h = header = length << 1 | plain (one byte below 0x80), and a
 * TextRef is the offset of its first byte (just after the header), so the
 * C string is text_pool + ref and the byte before it tells the two forms
 * apart (the 0x80 first byte lets a walk from offset 0 do the same). Most
 * texts are short: one header byte instead of four saved 8 MB on the 1M-site
 * benchmark. Invariants:
 *  - ref 0 means absent: the loader stores an empty source field as 0 (the
 *    API writes null for both), and no text starts at offset 0 because a
 *    header precedes every text;
 *  - `plain` is 1 when no byte of the text needs a JSON escape (no '"',
 *    '\\' nor byte < 0x20): the API then copies it with one memcpy;
 *  - the long header is read with memcpy (texts are not aligned);
 *  - the pool holds nothing but these records, end to end from offset 0
 *    (the packed-sites check walks it that way);
 *  - the pool is at most UINT32_MAX bytes: a larger load fails with "too
 *    much text" rather than wrapping an offset;
 *  - texts that repeat across sites (structure names, filière, the detail
 *    columns) are stored once per loader thread; site ids and centre
 *    labels, mostly distinct, are stored as they come. */
typedef uint32_t TextRef;

#define TEXT_SHORT_MAX 63   /* longest text with a one-byte header */
#define TEXT_LONG_MARK 0x80 /* first and last byte of a long header */
#define TEXT_LONG_HEADER_SIZE 6

/* The header (length << 1 | plain) of the text at `ref` (not 0) of `pool`. */
static inline uint32_t text_header_at(const char *pool, uint32_t ref)
{
    unsigned char last = (unsigned char)pool[ref - 1];
    if (last < TEXT_LONG_MARK)
        return last;
    uint32_t header;
    memcpy(&header, pool + ref - 5, sizeof header);
    return header;
}

/* The texts a site rarely fills, deduplicated: Snapshot.details holds each
 * distinct combination once, and most sites share a few records (index 0
 * is the all-absent record in loaded snapshots). Every site's `details`
 * indexes Snapshot.details, hand-made snapshots included (they store their
 * records with snapshot_details_add()). */
typedef struct SiteDetails {
    TextRef finess, responsable, service, platform, source, phone, address, postcode, city;
} SiteDetails;

/* One site in 48 bytes (1M sites = 48 MB): position first (the spatial
 * index reads it), then the texts the tiles and the API read most. */
typedef struct Site {
    double lat, lon;
    TextRef site_id, name, centre_label, filiere; /* into the text pool; 0 = absent */
    uint32_t details;                             /* into Snapshot.details */
    uint32_t codes_start;                         /* into Snapshot.site_codes */
    uint32_t coordinator;                         /* index of the coordinating site, or SITE_NONE */
    uint16_t code_count; /* distinct known codes: at most condition_count */
    uint8_t role;        /* Role */
    uint8_t audience;    /* Audience */
} Site;

_Static_assert(sizeof(Site) <= 48, "Site must stay within 48 bytes");

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
    void *arena;     /* owns the conditions' strings */
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
 * Arrays must be malloc'd (snapshot_free() frees them, the text pool and
 * the details too); the sites' texts are stored with snapshot_text_add(),
 * the conditions' strings may be static when `arena` is NULL. Returns 0,
 * or -1 with a message. */
int snapshot_finish(Snapshot *snapshot, char *error, size_t error_size);
/* Packs the sites of the database at `path` (read-write, not in use by a
 * server) for fast loading: reads them through the table path exactly as
 * snapshot_load() does, then replaces the packed_sites parts and their
 * metadata rows in one transaction (parts past SQLite's blob limit, some
 * 20 million sites, are not written: such files load from the table).
 * Used by `maillage build` before it renames the file into place.
 * Returns 0, or -1 with a message. */
int snapshot_pack(const char *path, char *error, size_t error_size);
/* snapshot_load() reads the packed sites when they exist, match the file
 * (format, sizes, site count, dataset version) and pass every check;
 * otherwise (one warning line on stderr when they exist but do not pass)
 * it reads the sites table. Default 1; tests set 0 to force the table. */
extern int snapshot_use_packed;
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
/* 1 when the site's own codes (ascending) hold `orpha`; by bisection. */
static inline int site_lists_code(const Snapshot *snapshot, const Site *site, int32_t orpha)
{
    const int32_t *codes = site_codes(snapshot, site);
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
