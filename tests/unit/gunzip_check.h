/* gunzip_check.h — one check of a gzip encoding, shared by the C unit tests
 * and the fuzz targets (header only, test code).
 *
 * Owns: gunzips_to(), the test side of base/gzip.h: an encoding is right
 * when it is one gzip member (RFC 1952 magic bytes, at least a header and
 * a trailer) that inflates, with zlib, to exactly the expected bytes. */
#ifndef MAILLAGE_GUNZIP_CHECK_H
#define MAILLAGE_GUNZIP_CHECK_H

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* 1 when the `packed_length` bytes at `packed` are a gzip member that
 * inflates to exactly the `length` bytes at `expected`, else 0 (also when
 * memory runs out). */
static inline int gunzips_to(const char *packed, size_t packed_length, const void *expected,
                             size_t length)
{
    if (packed_length < 18 || (unsigned char)packed[0] != 0x1f || (unsigned char)packed[1] != 0x8b)
        return 0;
    char *unpacked = malloc(length + 1);
    z_stream stream;
    memset(&stream, 0, sizeof stream);
    if (!unpacked || inflateInit2(&stream, 15 + 16) != Z_OK) {
        free(unpacked);
        return 0;
    }
    stream.next_in = (Bytef *)packed;
    stream.avail_in = (uInt)packed_length;
    stream.next_out = (Bytef *)unpacked;
    stream.avail_out = (uInt)length + 1; /* room for one byte too many */
    int same = inflate(&stream, Z_FINISH) == Z_STREAM_END && stream.total_out == length &&
               memcmp(unpacked, expected, length) == 0;
    inflateEnd(&stream);
    free(unpacked);
    return same;
}

#endif
