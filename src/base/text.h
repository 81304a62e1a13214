/* text.h — text helpers shared by the importers and the API.
 *
 * Owns: UTF-8 validation, Latin-1 to UTF-8 conversion, the search folding
 * used for conditions and places, and strict number parsing. Invariants:
 *  - text_fold() maps Latin letters with diacritics (U+00C0..U+017F, the
 *    ligatures œ æ ß) to ASCII, lower-cases, and turns every other run of
 *    non-alphanumeric characters into one space, trimmed; it is the one
 *    definition of "accents and case ignored" for the whole program;
 *  - parse_decimal() accepts only plain decimal numbers (optional sign,
 *    digits, one dot, optional exponent) that are finite: no hex, no inf,
 *    no nan, no empty string, no trailing bytes. */
#ifndef MAILLAGE_TEXT_H
#define MAILLAGE_TEXT_H

#include "base/buffer.h"

#include <stddef.h>
#include <stdint.h>

/* 1 when the `length` bytes of `text` are well-formed UTF-8 (no overlong
 * form, surrogate or code point above U+10FFFF), else 0. */
int utf8_is_valid(const char *text, size_t length);
/* Appends the Latin-1 bytes as UTF-8. */
void latin1_to_utf8(Buffer *out, const char *text, size_t length);
/* Appends the folded form of UTF-8 `text` (see above). */
void text_fold(Buffer *out, const char *text, size_t length);
/* Returns a malloc'd folded copy, or NULL when out of memory. */
char *text_fold_copy(const char *text);
/* Returns 0 and sets *value, or -1. */
int parse_decimal(const char *text, double *value);
/* Base-10 integer in [minimum, maximum]; returns 0, or -1. */
int parse_integer(const char *text, int64_t minimum, int64_t maximum, int64_t *value);
/* Trims ASCII white space in place; returns `text`. */
char *text_trim(char *text);
/* 64-bit FNV-1a, for dataset versions and ETags (not for security). */
uint64_t hash_fnv1a(uint64_t hash, const void *bytes, size_t length);
#define HASH_FNV1A_SEED 0xcbf29ce484222325ULL

#endif
