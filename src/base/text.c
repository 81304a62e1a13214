/* text.c — UTF-8, folding and strict number parsing; see text.h. */
#include "base/text.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int utf8_is_valid(const char *text, size_t length)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < length) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t extra;
        uint32_t code;
        if (c >= 0xC2 && c <= 0xDF) {
            extra = 1;
            code = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            extra = 2;
            code = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            extra = 3;
            code = c & 0x07;
        } else {
            return 0;
        }
        if (i + extra >= length)
            return 0;
        for (size_t k = 1; k <= extra; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            code = (code << 6) | (s[i + k] & 0x3F);
        }
        if ((extra == 2 && code < 0x800) || (extra == 3 && (code < 0x10000 || code > 0x10FFFF)) ||
            (code >= 0xD800 && code <= 0xDFFF))
            return 0;
        i += extra + 1;
    }
    return 1;
}

void latin1_to_utf8(Buffer *out, const char *text, size_t length)
{
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x80) {
            buffer_append_char(out, (char)c);
        } else {
            buffer_append_char(out, (char)(0xC0 | (c >> 6)));
            buffer_append_char(out, (char)(0x80 | (c & 0x3F)));
        }
    }
}

/* ASCII base letters for U+00C0..U+017F; '\0' means "not a letter". Capitals
 * are listed lower-case directly. Ligatures are handled separately. */
static const char latin_base[] = "aaaaaaaceeeeiiii"  /* C0-CF */
                                 "dnooooo\0ouuuuyts" /* D0-DF (D7 ×, DE þ, DF ß) */
                                 "aaaaaaaceeeeiiii"  /* E0-EF */
                                 "dnooooo\0ouuuuyty" /* F0-FF (F7 ÷) */
                                 "aaaaaaccccccccdd"  /* 100-10F */
                                 "ddeeeeeeeeeegggg"  /* 110-11F */
                                 "gggghhhhiiiiiiii"  /* 120-12F */
                                 "iiiijjkkklllllll"  /* 130-13F */
                                 "lllnnnnnnnnnoooo"  /* 140-14F */
                                 "oooorrrrrrssssss"  /* 150-15F */
                                 "ssttttttuuuuuuuu"  /* 160-16F */
                                 "uuuuwwyyyzzzzzzs"; /* 170-17F */

/* Separator state while folding: a space is written only between words. */
typedef struct FoldState {
    int pending_space;
    int wrote_word;
} FoldState;

static void fold_emit(Buffer *out, FoldState *state, const char *bytes, size_t length)
{
    if (state->pending_space && state->wrote_word)
        buffer_append_char(out, ' ');
    state->pending_space = 0;
    state->wrote_word = 1;
    buffer_append(out, bytes, length);
}

/* Appends the fold of one code point. */
static void fold_code_point(Buffer *out, uint32_t code, FoldState *state)
{
    const char *ascii = NULL;
    char single[2] = {0, 0};
    if (code < 0x80 && isalnum((int)code)) {
        single[0] = (char)tolower((int)code);
        ascii = single;
    } else if (code == 0xC6 || code == 0xE6) {
        ascii = "ae";
    } else if (code == 0x152 || code == 0x153) {
        ascii = "oe";
    } else if (code == 0xDF) {
        ascii = "ss";
    } else if (code >= 0xC0 && code <= 0x17F && latin_base[code - 0xC0]) {
        single[0] = latin_base[code - 0xC0];
        ascii = single;
    } else if (code >= 0x80 && !(code >= 0x2000 && code <= 0x206F) && code != 0xA0 &&
               !(code >= 0xA1 && code <= 0xBF) && code != 0xD7 && code != 0xF7) {
        /* Other scripts: keep the character itself (Greek, symbols in labels). */
        char encoded[4];
        size_t n = 0;
        if (code < 0x800) {
            encoded[n++] = (char)(0xC0 | (code >> 6));
        } else if (code < 0x10000) {
            encoded[n++] = (char)(0xE0 | (code >> 12));
            encoded[n++] = (char)(0x80 | ((code >> 6) & 0x3F));
        } else {
            encoded[n++] = (char)(0xF0 | (code >> 18));
            encoded[n++] = (char)(0x80 | ((code >> 12) & 0x3F));
            encoded[n++] = (char)(0x80 | ((code >> 6) & 0x3F));
        }
        encoded[n++] = (char)(0x80 | (code & 0x3F));
        fold_emit(out, state, encoded, n);
        return;
    }
    if (!ascii) {
        state->pending_space = 1;
        return;
    }
    fold_emit(out, state, ascii, strlen(ascii));
}

/* Decodes one UTF-8 sequence at s[i]; an invalid byte decodes as a space. */
static uint32_t decode_code_point(const unsigned char *s, size_t length, size_t *i)
{
    uint32_t code = s[*i];
    if (code < 0x80) {
        (*i)++;
        return code;
    }
    size_t extra = code < 0xC0 ? 0 : code < 0xE0 ? 1 : code < 0xF0 ? 2 : 3;
    if (extra == 0) {
        (*i)++;
        return ' ';
    }
    if (*i + extra >= length) {
        (*i)++;
        return ' ';
    }
    code &= (extra == 1) ? 0x1F : (extra == 2) ? 0x0F : 0x07;
    for (size_t k = 1; k <= extra; k++) {
        if ((s[*i + k] & 0xC0) != 0x80) {
            (*i)++;
            return ' ';
        }
        code = (code << 6) | (s[*i + k] & 0x3F);
    }
    *i += extra + 1;
    return code;
}

void text_fold(Buffer *out, const char *text, size_t length)
{
    const unsigned char *s = (const unsigned char *)text;
    FoldState state = {0, 0};
    size_t i = 0;
    while (i < length)
        fold_code_point(out, decode_code_point(s, length, &i), &state);
}

char *text_fold_copy(const char *text)
{
    Buffer folded;
    buffer_init(&folded);
    buffer_reserve(&folded, strlen(text));
    text_fold(&folded, text, strlen(text));
    return buffer_detach(&folded, NULL);
}

int parse_decimal(const char *text, double *value)
{
    const char *p = text;
    if (*p == '+' || *p == '-')
        p++;
    int digits = 0;
    while (isdigit((unsigned char)*p)) {
        p++;
        digits++;
    }
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) {
            p++;
            digits++;
        }
    }
    if (!digits)
        return -1;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p)
        return -1;
    errno = 0;
    char *end;
    double parsed = strtod(text, &end);
    if (*end || !isfinite(parsed) || errno == ERANGE)
        return -1;
    *value = parsed;
    return 0;
}

int parse_integer(const char *text, int64_t minimum, int64_t maximum, int64_t *value)
{
    const char *p = text;
    if (*p == '+' || *p == '-')
        p++;
    if (!isdigit((unsigned char)*p))
        return -1;
    while (isdigit((unsigned char)*p))
        p++;
    if (*p)
        return -1;
    errno = 0;
    long long parsed = strtoll(text, NULL, 10);
    if (errno == ERANGE || parsed < minimum || parsed > maximum)
        return -1;
    *value = parsed;
    return 0;
}

char *text_trim(char *text)
{
    char *start = text;
    while (*start && isspace((unsigned char)*start))
        start++;
    size_t length = strlen(start);
    while (length && isspace((unsigned char)start[length - 1]))
        length--;
    memmove(text, start, length);
    text[length] = 0;
    return text;
}

uint64_t hash_fnv1a(uint64_t hash, const void *bytes, size_t length)
{
    const unsigned char *p = bytes;
    for (size_t i = 0; i < length; i++) {
        hash ^= p[i];
        hash *= 0x100000001b3ULL;
    }
    return hash;
}
