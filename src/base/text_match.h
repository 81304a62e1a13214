/* text_match.h — matching a folded query against folded texts, shared by
 * the condition search (conditions.c) and the place search (places.c).
 *
 * Owns: the query side of "accents and case ignored" search: folding a
 * query (text_fold, text.h) and splitting it into words, and the "every
 * query word starts a word of the text" test. Invariants: folded texts hold
 * single spaces between words and none at either end (text_fold's output),
 * so a word starts at the text's start or right after a space; a query
 * keeps at most TEXT_QUERY_MAX_WORDS words (more are ignored). */
#ifndef MAILLAGE_TEXT_MATCH_H
#define MAILLAGE_TEXT_MATCH_H

#include <stddef.h>

#define TEXT_QUERY_MAX_WORDS 16

typedef struct TextQuery {
    char *folded;  /* the whole folded query */
    size_t length; /* strlen(folded); 0 when the query has no letter or digit */
    char *split;   /* a copy cut into words */
    char *words[TEXT_QUERY_MAX_WORDS];
    size_t word_count;
} TextQuery;

/* Folds and splits `text` (not NULL) into `query`, which owns copies.
 * Returns 0, or -1 when out of memory (`query` then holds nothing). */
int text_query_init(TextQuery *query, const char *text);
/* Frees the copies and zeroes `query`; safe after a failed init and twice. */
void text_query_free(TextQuery *query);

/* Is every word of `query` the start of a word of folded `text`? */
int text_query_words_match(const TextQuery *query, const char *text);

#endif
