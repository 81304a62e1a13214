/* places.h — finding a commune by name, postcode or INSEE code.
 *
 * Owns: the Places of a snapshot: every commune (and municipal
 * arrondissement) of table `communes` that has a point, with its folded
 * name, read once at load. Rules of places_find():
 *  - a query of digits (or a Corsican "2A..."/"2B..." code) matches INSEE
 *    codes exactly and postcodes exactly (class exact) or by prefix (class
 *    prefix, so "94" finds every commune of the Val-de-Marne);
 *  - any other query is folded (text_fold) and compared with the folded
 *    names: exact, prefix, then other (every query word starts a word of
 *    the name);
 *  - results ranked by class, then population (largest first; unknown
 *    counts as 0), then INSEE code.
 * Invariants: immutable after places_load(); thread-safe; rows without a
 * point are skipped (no position is invented). */
#ifndef MAILLAGE_PLACES_H
#define MAILLAGE_PLACES_H

#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

typedef struct Place {
    const char *code, *name, *folded_name, *departement;
    const char *postcodes; /* '|'-joined, sorted; NULL when none */
    double lat, lon;
    int64_t population; /* -1 when unknown */
} Place;

typedef struct Places Places;

/* Reads table `communes`. Returns NULL with a one-line message. */
Places *places_load(Store *store, char *error, size_t error_size);
void places_free(Places *places); /* NULL is a no-op */

#define PLACES_QUERY_EMPTY (-2)

/* Writes at most `limit` places matching `query` into `results`, best
 * first. Returns their number, PLACES_QUERY_EMPTY for a query with no
 * letter or digit, or -1 when out of memory. */
int places_find(const Places *places, const char *query, size_t limit, const Place **results);

#endif
