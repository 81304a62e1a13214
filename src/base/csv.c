/* csv.c — RFC 4180 reader; see csv.h for the invariants. */
#include "base/csv.h"
#include "base/array.h"
#include "base/text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void reader_init(CsvReader *reader, char separator)
{
    memset(reader, 0, sizeof *reader);
    reader->separator = separator;
    reader->line = 1;
    buffer_init(&reader->storage);
}

static void skip_byte_order_mark(CsvReader *reader)
{
    if (reader->length >= 3 && memcmp(reader->text, "\xEF\xBB\xBF", 3) == 0)
        reader->position = 3;
}

int csv_open_file(CsvReader *reader, const char *path, char separator, char *error,
                  size_t error_size)
{
    reader_init(reader, separator);
    FILE *file = fopen(path, "rb");
    if (!file) {
        snprintf(error, error_size, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    Buffer content;
    buffer_init(&content);
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, file)) > 0)
        buffer_append(&content, chunk, got);
    int read_failed = ferror(file);
    fclose(file);
    if (read_failed || content.failed) {
        snprintf(error, error_size, "%s: cannot read%s", path,
                 content.failed ? ": out of memory" : "");
        buffer_free(&content);
        return -1;
    }
    reader->text = buffer_detach(&content, &reader->length);
    if (!reader->text) {
        snprintf(error, error_size, "%s: out of memory", path);
        return -1;
    }
    skip_byte_order_mark(reader);
    return 0;
}

int csv_open_memory(CsvReader *reader, const char *text, size_t length, char separator)
{
    reader_init(reader, separator);
    reader->text = malloc(length + 1);
    if (!reader->text)
        return -1;
    memcpy(reader->text, text, length);
    reader->text[length] = 0;
    reader->length = length;
    skip_byte_order_mark(reader);
    return 0;
}

void csv_close(CsvReader *reader)
{
    free(reader->text);
    free(reader->fields);
    free(reader->offsets);
    buffer_free(&reader->storage);
    memset(reader, 0, sizeof *reader);
}

/* Consumes one line break at the position if there is one; returns 1 if so. */
static int consume_line_break(CsvReader *reader)
{
    size_t p = reader->position;
    if (p >= reader->length)
        return 0;
    if (reader->text[p] == '\r') {
        reader->position += (p + 1 < reader->length && reader->text[p + 1] == '\n') ? 2 : 1;
    } else if (reader->text[p] == '\n') {
        reader->position += 1;
    } else {
        return 0;
    }
    reader->line++;
    return 1;
}

static void skip_to_next_line(CsvReader *reader)
{
    while (reader->position < reader->length) {
        if (consume_line_break(reader))
            return;
        reader->position++;
    }
}

/* Makes room for `count` fields. field_capacity counts both arrays: offsets
 * grow first, from a copy of it, to the size fields then grow to, so they
 * are never shorter than fields (also after fields failed to grow). */
static int ensure_field_capacity(CsvReader *reader, size_t count)
{
    size_t offset_capacity = reader->field_capacity;
    if (array_reserve(reader->offsets, offset_capacity, count, 32) != 0 ||
        array_reserve(reader->fields, reader->field_capacity, count, 32) != 0)
        return -1;
    return 0;
}

/* Closes the current field; offsets[field_count] is where the next starts. */
static int end_field(CsvReader *reader)
{
    buffer_append_char(&reader->storage, 0);
    reader->field_count++;
    if (ensure_field_capacity(reader, reader->field_count + 1) != 0)
        return -1;
    reader->offsets[reader->field_count] = reader->storage.length;
    return reader->storage.failed ? -1 : 0;
}

static CsvStatus malformed(CsvReader *reader, const char *reason)
{
    reader->error = reason;
    return CSV_MALFORMED;
}

/* Reads a quoted field; the position is on the opening quote. */
static CsvStatus read_quoted_field(CsvReader *reader, long record_start_line, size_t record_start)
{
    const char *text = reader->text;
    size_t p = reader->position + 1;
    long line = reader->line;
    for (;;) {
        const char *quote = memchr(text + p, '"', reader->length - p);
        if (!quote) {
            /* Resume right after the line where the record started. */
            reader->position = record_start;
            reader->line = record_start_line;
            skip_to_next_line(reader);
            return malformed(reader, "unterminated quoted field");
        }
        size_t q = (size_t)(quote - text);
        for (size_t i = p; i < q; i++)
            if (text[i] == '\n' || (text[i] == '\r' && (i + 1 >= q || text[i + 1] != '\n')))
                line++;
        buffer_append(&reader->storage, text + p, q - p);
        if (q + 1 < reader->length && text[q + 1] == '"') {
            buffer_append_char(&reader->storage, '"');
            p = q + 2;
            continue;
        }
        reader->position = q + 1;
        reader->line = line;
        return CSV_RECORD;
    }
}

static void read_plain_field(CsvReader *reader)
{
    size_t start = reader->position, p = start;
    while (p < reader->length) {
        char c = reader->text[p];
        if (c == reader->separator || c == '\n' || c == '\r')
            break;
        p++;
    }
    buffer_append(&reader->storage, reader->text + start, p - start);
    reader->position = p;
}

static CsvStatus finish_record(CsvReader *reader)
{
    for (size_t i = 0; i < reader->field_count; i++)
        reader->fields[i] = reader->storage.data + reader->offsets[i];
    if (reader->check_utf8) {
        for (size_t i = 0; i < reader->field_count; i++) {
            if (!utf8_is_valid(reader->fields[i], strlen(reader->fields[i]))) {
                snprintf(reader->error_text, sizeof reader->error_text,
                         "invalid UTF-8 in field %zu", i + 1);
                return malformed(reader, reader->error_text);
            }
        }
    }
    return CSV_RECORD;
}

CsvStatus csv_next(CsvReader *reader)
{
    reader->error = NULL;
    while (reader->position < reader->length && consume_line_break(reader))
        ; /* blank lines */
    if (reader->position >= reader->length)
        return CSV_END;
    reader->record_line = reader->line;
    size_t record_start = reader->position;
    reader->field_count = 0;
    buffer_reset(&reader->storage);
    if (ensure_field_capacity(reader, 1) != 0)
        return malformed(reader, "out of memory");
    reader->offsets[0] = 0;
    for (;;) {
        if (reader->position < reader->length && reader->text[reader->position] == '"') {
            CsvStatus status = read_quoted_field(reader, reader->record_line, record_start);
            if (status != CSV_RECORD)
                return status;
            size_t p = reader->position;
            if (p < reader->length && reader->text[p] != reader->separator &&
                reader->text[p] != '\n' && reader->text[p] != '\r') {
                skip_to_next_line(reader);
                return malformed(reader, "unexpected character after a closing quote");
            }
        } else {
            read_plain_field(reader);
        }
        if (end_field(reader) != 0)
            return malformed(reader, "out of memory");
        if (reader->position < reader->length &&
            reader->text[reader->position] == reader->separator) {
            reader->position++;
            continue;
        }
        consume_line_break(reader);
        return finish_record(reader);
    }
}

int csv_column(const CsvReader *reader, const char *name)
{
    for (size_t i = 0; i < reader->field_count; i++)
        if (strcmp(reader->fields[i], name) == 0)
            return (int)i;
    return -1;
}
