/* import_format.h — how a platform's directory was saved: encoding,
 * separator, byte order mark and line ends, detected or set.
 *
 * Owns: the `--network-format` value (ImportFormat), reading a network file
 * into a CSV reader as UTF-8 whatever it was saved as, and the account of
 * what was found (BuildFormat in the report). Most directories come out of a
 * spreadsheet: the French "CSV (séparateur : point-virgule)" export is
 * Windows-1252 with ';' and CRLF, "CSV UTF-8" adds a BOM, LibreOffice may
 * write Latin-1. Invariants:
 *  - a requested encoding or separator is used as given; an "auto" part is
 *    detected (text_encoding_detect(); the separator is the one of ',' ';'
 *    TAB found most often outside quotes on the header line, ',' on a tie);
 *  - the reader always receives UTF-8 with UTF-8 checking on, so a byte the
 *    encoding does not define rejects its record (with its line), never
 *    the file;
 *  - line numbers are those of the file as saved (conversion keeps lines). */
#ifndef MAILLAGE_IMPORT_FORMAT_H
#define MAILLAGE_IMPORT_FORMAT_H

#include "base/csv.h"
#include "base/text_encoding.h"
#include "build/import_common.h"

typedef struct ImportFormat {
    TextEncoding encoding; /* TEXT_ENCODING_AUTO: detect */
    char separator;        /* 0: detect */
} ImportFormat;

/* Reads a --network-format value: "auto", or one or two comma-separated
 * parts, an encoding (utf-8, windows-1252, latin-1, auto) and a separator
 * (comma, semicolon, tab, auto), e.g. "windows-1252,semicolon". Returns 0
 * and fills *format, or -1 with a sentence in `error`. */
int import_format_parse(const char *text, ImportFormat *format, char *error, size_t error_size);
/* The value import_format_parse() reads back, e.g. "windows-1252,semicolon"
 * (a static string per call site is not needed: written into `out`). */
void import_format_text(const ImportFormat *format, char *out, size_t out_size);
/* Opens `path` (named `file` in errors) as CSV in `requested` format,
 * converted to UTF-8, and records what was used in `input->format`.
 * Returns 0, or -1 with the error set (unreadable file, no converter, out of
 * memory; the reader then holds nothing and csv_close() is harmless). */
int import_format_open(ImportContext *context, CsvReader *reader, const char *path,
                       const char *file, const ImportFormat *requested, BuildInput *input);
/* A reason a person understands for a record the reader called malformed,
 * given the encoding it was read in: "invalid UTF-8 in field 3" becomes,
 * for a Windows-1252 file, "field 3 holds a byte that is not a character
 * in windows-1252". Writes into `reason`. */
void import_format_reason(const BuildInput *input, const char *reader_error, char *reason,
                          size_t reason_size);

#endif
