/* conditions.h — searching the Orphanet conditions by text or code.
 *
 * Owns: the ConditionSearch of a snapshot: every active condition's label
 * and synonyms in French and English, folded once at load (text_fold, the
 * one definition of "accents and case ignored"), scanned per query. A
 * linear scan of the ~50,000 folded strings is fast enough (well under a
 * millisecond) and exact; no token index is kept. Rules:
 *  - a query that is a code ("ORPHA:232", "orpha:232", "Orpha 232", "232")
 *    matches that code exactly, whatever its status; nothing else;
 *  - otherwise the folded query is compared with the folded labels and
 *    synonyms of the requested language; classes: exact (equal), prefix
 *    (the text starts with the query), other (every query word is the
 *    start of a word of the text). If the requested language gives no
 *    result at all, the other language's labels and synonyms are searched
 *    the same way (so "sickle" finds drépanocytose with lang=fr);
 *  - one result per code, through its best matching text; results ranked
 *    by class, then the shorter matched text (folded length), then the
 *    smaller code; only active codes.
 * Invariants: immutable after condition_search_load(); thread-safe. */
#ifndef MAILLAGE_CONDITIONS_H
#define MAILLAGE_CONDITIONS_H

#include "model/snapshot.h"
#include "store/store.h"

#include <stddef.h>

typedef enum ConditionMatchClass {
    CONDITION_MATCH_CODE,
    CONDITION_MATCH_EXACT,
    CONDITION_MATCH_PREFIX,
    CONDITION_MATCH_WORDS
} ConditionMatchClass;

typedef struct ConditionMatch {
    const Condition *condition;
    const char *matched; /* the label or synonym (original text) that matched */
    ConditionMatchClass match_class;
} ConditionMatch;

typedef struct ConditionSearch ConditionSearch;

/* Reads the synonyms from `store` and folds every label and synonym of
 * `snapshot`'s conditions (the snapshot must outlive the search). Returns
 * NULL with a message. */
ConditionSearch *condition_search_load(const Snapshot *snapshot, Store *store, char *error,
                                       size_t error_size);
void condition_search_free(ConditionSearch *search); /* NULL is a no-op */

#define CONDITION_QUERY_EMPTY (-2)

/* Writes at most `limit` matches for `query` (UTF-8) into `matches`, best
 * first. Returns their number, CONDITION_QUERY_EMPTY when the query holds
 * no letter or digit, or -1 when out of memory. The matched text of a code
 * query is "ORPHA:<code>" in `code_text` (room for 32 bytes). */
int condition_search_find(const ConditionSearch *search, const Snapshot *snapshot,
                          const char *query, Language language, size_t limit,
                          ConditionMatch *matches, char *code_text);

#endif
