/* gzip.h — gzip (RFC 1952) encoding of response bodies with zlib.
 *
 * Owns: one-shot compression into a Buffer. Invariant: on failure `out` is
 * left empty, so a caller simply falls back to the identity encoding. */
#ifndef MAILLAGE_GZIP_H
#define MAILLAGE_GZIP_H

#include "base/buffer.h"

#include <stddef.h>

/* Bodies shorter than this are not worth compressing. */
#define GZIP_MINIMUM_LENGTH 1024
/* The level of answers compressed as they are made or cached: zlib's
 * fastest, nearly as small as the others on tiles and JSON (a 37 KB sites
 * tile: 12.2 KB in 270 us at level 1, 11.9 KB in 850 us at level 6). */
#define GZIP_ANSWER_LEVEL 1

/* Replaces the content of `out` with the gzip encoding of `bytes` at zlib
 * `level` (1 fastest .. 9 smallest). Returns 0, or -1 (out emptied). */
int gzip_encode(const void *bytes, size_t length, int level, Buffer *out);

/* The encoding worth sending instead of `bytes` to a client that accepts
 * gzip: replaces the content of `out` with it (GZIP_ANSWER_LEVEL) when
 * `length` is at least GZIP_MINIMUM_LENGTH and the encoding is shorter,
 * and returns 1; else leaves `out` empty (send the identity) and returns
 * 0, or -1 when memory ran out (`out` empty, not failed). */
int gzip_variant(const void *bytes, size_t length, Buffer *out);

/* 1 when an Accept-Encoding header value accepts gzip (a "gzip" or "*"
 * coding whose q is not 0), else 0. NULL accepts nothing. */
int gzip_accepted(const char *accept_encoding);

#endif
