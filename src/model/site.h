/* site.h — one care-network site as the model holds it, and the filter on sites.
 *
 * Owns: the Site record (48 bytes), its roles and audiences with their
 * CONTRACT names, the layout of the text pool its texts live in (TextRef),
 * its rarely-filled texts (SiteDetails), and SiteFilter, the role and
 * audience filter every query and tile applies. Invariants are stated at
 * each type; the pool layout is asserted where texts are written
 * (text_pool.c) and checked byte by byte where packed parts are read
 * (packed_sites.c). */
#ifndef MAILLAGE_SITE_H
#define MAILLAGE_SITE_H

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

/* Names as in the CONTRACT ("crmr_coordonnateur", ..., "enfants", ...), as
 * static strings; role_name() gives "unknown" for a value out of range. */
const char *role_name(Role role);
int role_from_name(const char *name);         /* -1 when unknown; `name` not NULL */
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

/* The audience of a CONTRACT name; AUDIENCE_UNSTATED when unknown or NULL. */
Audience audience_from_name(const char *name);

/* Which sites a query accepts: bit (1u << role) of role_mask and bit
 * (1u << audience) of audience_mask must be set, and, when `filiere` is
 * not NULL, the site's filière must be that name (ASCII case ignored;
 * site_filter_accepts() in snapshot.h, which can read the site's texts). */
typedef struct SiteFilter {
    uint32_t role_mask;
    uint32_t audience_mask;
    const char *filiere; /* NULL: any filière */
} SiteFilter;

#define SITE_FILTER_ALL_ROLES ((1u << ROLE_COUNT) - 1)
#define SITE_FILTER_ALL_AUDIENCES                                                                  \
    ((1u << AUDIENCE_UNSTATED) | (1u << AUDIENCE_ENFANTS) | (1u << AUDIENCE_ADULTES) |             \
     (1u << AUDIENCE_TOUS))

void site_filter_init(SiteFilter *filter); /* accepts every site */
/* 1 when the site's role and audience pass (the filière is not looked at). */
static inline int site_filter_accepts_kind(const SiteFilter *filter, const Site *site)
{
    return ((filter->role_mask >> site->role) & 1u) &&
           ((filter->audience_mask >> site->audience) & 1u);
}

#endif
