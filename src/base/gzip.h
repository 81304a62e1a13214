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

/* Replaces the content of `out` with the gzip encoding of `bytes` at zlib
 * `level` (1 fastest .. 9 smallest). Returns 0, or -1 (out emptied). */
int gzip_encode(const void *bytes, size_t length, int level, Buffer *out);

/* 1 when an Accept-Encoding header value accepts gzip (a "gzip" or "*"
 * coding whose q is not 0), else 0. NULL accepts nothing. */
int gzip_accepted(const char *accept_encoding);

#endif
