/* gzip.c — zlib one-shot gzip encoding and Accept-Encoding parsing; see gzip.h. */
#include "base/gzip.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

/* zlib's window (windowBits) and hash table (memLevel) sized to the
 * input, as nginx's gzip filter does: a window longer than the input gains
 * nothing, and the full-size state (about 256 KB, allocated and cleared at
 * each call) cost more than compressing a 2.8 KB nearest answer (72 us in
 * all against 15 us with windowBits 12, memLevel 5, to the same size). */
static void size_state(size_t length, int *window_bits, int *memory_level)
{
    int bits = 15, memory = 8;
    /* 262: zlib's MIN_LOOKAHEAD (the longest match, the shortest, one
     * byte), which half a window must hold besides the input. */
    while (bits > 9 && length < ((size_t)1 << (bits - 1)) - 262) {
        bits--;
        memory--;
    }
    *window_bits = bits;
    *memory_level = memory < 1 ? 1 : memory;
}

int gzip_encode(const void *bytes, size_t length, int level, Buffer *out)
{
    buffer_reset(out);
    if (length > UINT32_MAX)
        return -1;
    z_stream stream;
    memset(&stream, 0, sizeof stream);
    int window_bits, memory_level;
    size_state(length, &window_bits, &memory_level);
    /* windowBits + 16 asks zlib for the gzip wrapper. */
    if (deflateInit2(&stream, level, Z_DEFLATED, window_bits + 16, memory_level,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    uLong bound = deflateBound(&stream, (uLong)length) + 32;
    if (buffer_reserve(out, bound) != 0) {
        deflateEnd(&stream);
        buffer_reset(out);
        return -1;
    }
    stream.next_in = (Bytef *)(uintptr_t)bytes;
    stream.avail_in = (uInt)length;
    stream.next_out = (Bytef *)out->data;
    stream.avail_out = (uInt)bound;
    int status = deflate(&stream, Z_FINISH);
    size_t produced = stream.total_out;
    deflateEnd(&stream);
    if (status != Z_STREAM_END) {
        buffer_reset(out);
        return -1;
    }
    out->length = produced;
    out->data[produced] = '\0';
    return 0;
}

int gzip_variant(const void *bytes, size_t length, Buffer *out)
{
    buffer_reset(out);
    if (length < GZIP_MINIMUM_LENGTH)
        return 0;
    if (gzip_encode(bytes, length, GZIP_ANSWER_LEVEL, out) != 0) {
        buffer_reset(out);
        return -1;
    }
    if (out->length < length)
        return 1;
    buffer_reset(out);
    return 0;
}

/* Parses one "coding;q=value" element; returns 1 when its q is above 0. */
static int quality_positive(const char *parameters, const char *end)
{
    const char *q = parameters;
    while (q < end) {
        while (q < end && (*q == ';' || *q == ' ' || *q == '\t'))
            q++;
        if (end - q >= 2 && (q[0] == 'q' || q[0] == 'Q') && q[1] == '=') {
            q += 2;
            /* q=0, q=0.0, q=0.00, q=0.000 all mean "not acceptable". */
            if (*q != '0')
                return 1;
            q++;
            if (q < end && *q == '.')
                q++;
            while (q < end && *q == '0')
                q++;
            return q < end && isdigit((unsigned char)*q);
        }
        while (q < end && *q != ';')
            q++;
    }
    return 1;
}

int gzip_accepted(const char *accept_encoding)
{
    if (!accept_encoding)
        return 0;
    int wildcard = -1; /* "*" decides only when gzip is not named */
    const char *p = accept_encoding;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *element = p;
        while (*p && *p != ',')
            p++;
        const char *name_end = element;
        while (name_end < p && *name_end != ';' && *name_end != ' ' && *name_end != '\t')
            name_end++;
        size_t name_length = (size_t)(name_end - element);
        if ((name_length == 4 && strncasecmp(element, "gzip", 4) == 0) ||
            (name_length == 6 && strncasecmp(element, "x-gzip", 6) == 0))
            return quality_positive(name_end, p);
        if (name_length == 1 && element[0] == '*')
            wildcard = quality_positive(name_end, p);
    }
    return wildcard == 1;
}
