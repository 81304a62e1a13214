/* csv.h — an RFC 4180 reader that never loses a record without saying why.
 *
 * Owns: the whole input text (read into memory once), the current record's
 * fields, and line accounting. Invariants:
 *  - `record_line` is the 1-based physical line where the current record
 *    starts (the header is line 1), counting line breaks inside quoted fields;
 *  - a UTF-8 byte order mark at the start is skipped; CRLF, LF and lone CR
 *    all end a line; quoted fields may hold separators, doubled quotes and
 *    line breaks; blank lines are skipped;
 *  - a malformed record (unterminated quote, text after a closing quote,
 *    invalid UTF-8 when checked) is reported as CSV_MALFORMED with `error`
 *    and `record_line`, and reading resumes at the next physical line, so one
 *    bad row never swallows the rows after it. */
#ifndef MAILLAGE_CSV_H
#define MAILLAGE_CSV_H

#include "base/buffer.h"

#include <stddef.h>

typedef enum { CSV_END = 0, CSV_RECORD = 1, CSV_MALFORMED = -1 } CsvStatus;

typedef struct CsvReader {
    char *text;
    size_t length;
    size_t position;
    long line; /* line of `position` */
    char separator;
    int check_utf8;
    long record_line;
    const char *error;
    char error_text[96];
    char **fields;
    size_t field_count;
    size_t field_capacity;
    size_t *offsets;
    Buffer storage;
} CsvReader;

/* Reads `path` whole. Returns 0, or -1 with a message naming the file in
 * `error` (the reader then holds nothing; csv_close() is harmless). */
int csv_open_file(CsvReader *reader, const char *path, char separator, char *error,
                  size_t error_size);
/* Copies `text` (the caller keeps its own). Returns 0, or -1 when out of
 * memory (the reader then holds nothing). */
int csv_open_memory(CsvReader *reader, const char *text, size_t length, char separator);
/* Frees the text and the fields and zeroes the reader; safe after a failed
 * open and twice in a row. */
void csv_close(CsvReader *reader);
/* Reads the next record into `fields` / `field_count` (owned by the reader,
 * valid until the next call or csv_close()). Returns CSV_RECORD; CSV_END
 * when no record is left; or CSV_MALFORMED with `error` and `record_line`
 * set (`error` is "out of memory" when an allocation failed). */
CsvStatus csv_next(CsvReader *reader);
/* Index of the column named `name` in the current record (usually the
 * header, read by the first csv_next()), or -1. */
int csv_column(const CsvReader *reader, const char *name);

#endif
