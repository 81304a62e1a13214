/* text_encoding.c — spreadsheet encodings to UTF-8; see text_encoding.h. */
#include "base/text_encoding.h"
#include "base/text.h"

#include <assert.h>
#include <errno.h>
#include <iconv.h>
#include <strings.h>

static const struct {
    const char *name;
    TextEncoding encoding;
} encoding_names[] = {
    {"auto", TEXT_ENCODING_AUTO},           {"utf-8", TEXT_ENCODING_UTF8},
    {"utf8", TEXT_ENCODING_UTF8},           {"windows-1252", TEXT_ENCODING_WINDOWS_1252},
    {"cp1252", TEXT_ENCODING_WINDOWS_1252}, {"latin-1", TEXT_ENCODING_LATIN1},
    {"latin1", TEXT_ENCODING_LATIN1},       {"iso-8859-1", TEXT_ENCODING_LATIN1},
};

const char *text_encoding_name(TextEncoding encoding)
{
    switch (encoding) {
    case TEXT_ENCODING_UTF8:
        return "utf-8";
    case TEXT_ENCODING_WINDOWS_1252:
        return "windows-1252";
    case TEXT_ENCODING_LATIN1:
        return "latin-1";
    case TEXT_ENCODING_AUTO:
        break;
    }
    return "auto";
}

int text_encoding_from_name(const char *name, TextEncoding *encoding)
{
    for (size_t i = 0; i < sizeof encoding_names / sizeof encoding_names[0]; i++) {
        if (strcasecmp(name, encoding_names[i].name) == 0) {
            *encoding = encoding_names[i].encoding;
            return 0;
        }
    }
    return -1;
}

/* The length of the UTF-8 sequence a lead byte announces (1 for ASCII and
 * for a byte that cannot lead). */
static size_t utf8_sequence_length(unsigned char lead)
{
    return lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
}

TextEncoding text_encoding_detect(const char *bytes, size_t length)
{
    size_t multibyte = 0, stray = 0;
    for (size_t i = 0; i < length;) {
        unsigned char lead = (unsigned char)bytes[i];
        size_t sequence = utf8_sequence_length(lead);
        if (lead < 0x80) {
            i++;
        } else if (sequence > 1 && i + sequence <= length && utf8_is_valid(bytes + i, sequence)) {
            multibyte++;
            i += sequence;
        } else {
            stray++;
            i++;
        }
    }
    if (stray == 0 || multibyte > stray)
        return TEXT_ENCODING_UTF8;
    for (size_t i = 0; i < length; i++) {
        unsigned char byte = (unsigned char)bytes[i];
        if (byte >= 0x80 && byte <= 0x9F)
            return TEXT_ENCODING_WINDOWS_1252;
    }
    return TEXT_ENCODING_LATIN1;
}

/* iconv's name of a single-byte set. */
static const char *iconv_name(TextEncoding encoding)
{
    assert(encoding == TEXT_ENCODING_WINDOWS_1252 || encoding == TEXT_ENCODING_LATIN1);
    return encoding == TEXT_ENCODING_WINDOWS_1252 ? "WINDOWS-1252" : "ISO-8859-1";
}

/* Converts with `converter` until the input is used up; a byte the set does
 * not define is copied raw and counted. Returns that count, or -1. */
static long convert_all(iconv_t converter, const char *bytes, size_t length, Buffer *out)
{
    long undefined = 0;
    char *in = (char *)bytes;
    size_t in_left = length;
    char chunk[16384];
    while (in_left > 0) {
        char *out_at = chunk;
        size_t out_left = sizeof chunk;
        size_t result = iconv(converter, &in, &in_left, &out_at, &out_left);
        buffer_append(out, chunk, (size_t)(out_at - chunk));
        if (result != (size_t)-1)
            continue;
        if (errno == E2BIG)
            continue;
        if (errno != EILSEQ && errno != EINVAL)
            return -1;
        buffer_append(out, in, 1); /* invalid UTF-8 on purpose: the row is rejected */
        in++;
        in_left--;
        undefined++;
    }
    return out->failed ? -1 : undefined;
}

long text_encoding_to_utf8(TextEncoding encoding, const char *bytes, size_t length, Buffer *out)
{
    assert(encoding != TEXT_ENCODING_AUTO);
    if (encoding == TEXT_ENCODING_UTF8) {
        buffer_append(out, bytes, length);
        return out->failed ? -1 : 0;
    }
    iconv_t converter = iconv_open("UTF-8", iconv_name(encoding));
    if (converter == (iconv_t)-1)
        return -1;
    long undefined = convert_all(converter, bytes, length, out);
    iconv_close(converter);
    return undefined;
}
