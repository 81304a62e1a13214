/* text_encoding.h — the character sets a spreadsheet export comes in, read
 * as UTF-8.
 *
 * Owns: the names of the encodings a platform's directory may be saved in
 * (UTF-8, Windows-1252, Latin-1), their detection, and the conversion to
 * UTF-8 through iconv(3) (glibc's: a well-kept converter, no table of ours).
 * Invariants:
 *  - detection is deterministic: bytes that are well-formed UTF-8 are UTF-8
 *    (an ASCII file is UTF-8), and so are bytes with more well-formed
 *    multi-byte sequences than stray bytes (a UTF-8 file with a few bad
 *    rows: those rows are rejected, the others must not turn into "Ã©");
 *    otherwise a byte in 0x80..0x9F (‘ ’ “ ” € … in Windows-1252, control
 *    codes in Latin-1, which no spreadsheet writes) means Windows-1252;
 *    otherwise Latin-1;
 *  - conversion never drops a byte silently: a byte the encoding does not
 *    define (0x81, 0x8D, 0x8F, 0x90, 0x9D in Windows-1252) is copied as is,
 *    which is invalid UTF-8, so the CSV reader rejects that record with its
 *    line; the count of such bytes is returned;
 *  - line breaks are single bytes in all three encodings, so line numbers
 *    are the same before and after conversion. */
#ifndef MAILLAGE_TEXT_ENCODING_H
#define MAILLAGE_TEXT_ENCODING_H

#include "base/buffer.h"

#include <stddef.h>

typedef enum TextEncoding {
    TEXT_ENCODING_AUTO = 0, /* detect (only as a request, never a result) */
    TEXT_ENCODING_UTF8,
    TEXT_ENCODING_WINDOWS_1252,
    TEXT_ENCODING_LATIN1
} TextEncoding;

/* The encoding's name as the report writes it ("utf-8", "windows-1252",
 * "latin-1", "auto"); never NULL. */
const char *text_encoding_name(TextEncoding encoding);
/* Reads a name, case ignored: utf-8 (utf8), windows-1252 (cp1252), latin-1
 * (latin1, iso-8859-1) or auto. Returns 0 and sets *encoding, or -1 when
 * the name is unknown (*encoding unchanged). */
int text_encoding_from_name(const char *name, TextEncoding *encoding);
/* The encoding of `length` bytes (see the detection rule above). */
TextEncoding text_encoding_detect(const char *bytes, size_t length);
/* Appends `bytes` converted from `encoding` to UTF-8 to `out` (UTF-8 is
 * copied as is). Returns the number of bytes the encoding does not define
 * (copied raw), or -1 when the converter cannot be opened or memory runs
 * out (`out` may then hold part of the text; the caller frees it). */
long text_encoding_to_utf8(TextEncoding encoding, const char *bytes, size_t length, Buffer *out);

#endif
