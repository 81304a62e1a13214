/* import_common.c — shared importer plumbing; see import_common.h. */
#include "build/import_common.h"
#include "base/array.h"
#include "base/text.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT_MAX_COLUMNS 64

int import_fail(ImportContext *context, const char *file, long line, const char *format, ...)
{
    char reason[768];
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(reason, sizeof reason, format, arguments);
    va_end(arguments);
    if (line > 0)
        snprintf(context->error, sizeof context->error, "%s:%ld: %s", file, line, reason);
    else
        snprintf(context->error, sizeof context->error, "%s: %s", file, reason);
    return -1;
}

const char *import_base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

int import_read_file(ImportContext *context, const char *path, Buffer *out)
{
    FILE *file = fopen(path, "rb");
    if (!file)
        return import_fail(context, path, 0, "cannot open: %s", strerror(errno));
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, file)) > 0)
        buffer_append(out, chunk, got);
    int read_failed = ferror(file);
    fclose(file);
    if (read_failed)
        return import_fail(context, path, 0, "cannot read");
    if (out->failed)
        return import_fail(context, path, 0, "out of memory");
    return 0;
}

int import_open_csv(ImportContext *context, CsvReader *reader, const char *path, char separator)
{
    char message[512];
    if (csv_open_file(reader, path, separator, message, sizeof message) != 0) {
        snprintf(context->error, sizeof context->error, "%s", message);
        return -1;
    }
    reader->check_utf8 = 1;
    return 0;
}

int import_read_header(ImportContext *context, CsvReader *reader, const char *file,
                       const char *const *names, const int *required, int *indexes, size_t count)
{
    CsvStatus status = csv_next(reader);
    if (status == CSV_END)
        return import_fail(context, file, 0, "empty file, no header line");
    if (status == CSV_MALFORMED)
        return import_fail(context, file, reader->record_line, "malformed header: %s",
                           reader->error);
    for (size_t i = 0; i < reader->field_count; i++) {
        text_trim(reader->fields[i]);
        for (size_t j = 0; j < i; j++)
            if (reader->fields[i][0] && strcmp(reader->fields[i], reader->fields[j]) == 0)
                return import_fail(context, file, reader->record_line,
                                   "column %s appears twice in the header", reader->fields[i]);
    }
    for (size_t i = 0; i < count; i++) {
        indexes[i] = csv_column(reader, names[i]);
        if (indexes[i] < 0 && required && required[i])
            return import_fail(context, file, reader->record_line,
                               "missing column %s in the header", names[i]);
    }
    return 0;
}

int import_orpha_code_add(ImportContext *context, int32_t code)
{
    if (array_reserve(context->orpha_codes, context->orpha_code_capacity,
                      context->orpha_code_count + 1, 16384) != 0)
        return -1;
    context->orpha_codes[context->orpha_code_count++] = code;
    return 0;
}

static int compare_codes(const void *left, const void *right)
{
    int32_t a = *(const int32_t *)left, b = *(const int32_t *)right;
    return (a > b) - (a < b);
}

void import_orpha_codes_seal(ImportContext *context)
{
    if (context->orpha_code_count)
        qsort(context->orpha_codes, context->orpha_code_count, sizeof(int32_t), compare_codes);
}

int import_orpha_code_known(const ImportContext *context, int64_t code)
{
    if (code < INT32_MIN || code > INT32_MAX || !context->orpha_code_count)
        return 0;
    int32_t key = (int32_t)code;
    return bsearch(&key, context->orpha_codes, context->orpha_code_count, sizeof(int32_t),
                   compare_codes) != NULL;
}

int import_exec(ImportContext *context, const char *file, const char *sql)
{
    char *message = NULL;
    if (sqlite3_exec(context->db, sql, NULL, NULL, &message) == SQLITE_OK)
        return 0;
    import_fail(context, file, 0, "database error: %s",
                message ? message : sqlite3_errmsg(context->db));
    sqlite3_free(message);
    return -1;
}

int import_prepare(ImportContext *context, const char *file, const char *sql,
                   sqlite3_stmt **statement)
{
    if (sqlite3_prepare_v2(context->db, sql, -1, statement, NULL) == SQLITE_OK)
        return 0;
    *statement = NULL;
    return import_fail(context, file, 0, "database error: %s", sqlite3_errmsg(context->db));
}

/* Checks and binds one value; returns 0, or 1 with a rejection reason. */
static int bind_value(sqlite3_stmt *statement, const ImportColumn *column, const char *value,
                      char *reason, size_t reason_size)
{
    char parameter[80];
    snprintf(parameter, sizeof parameter, ":%s", column->name);
    int index = sqlite3_bind_parameter_index(statement, parameter);
    if (!value[0]) {
        if (column->required) {
            snprintf(reason, reason_size, "empty %s", column->name);
            return 1;
        }
        if (index)
            sqlite3_bind_null(statement, index);
        return 0;
    }
    int64_t integer = 0;
    double real = 0;
    switch (column->type) {
    case IMPORT_TEXT:
        if (index)
            sqlite3_bind_text(statement, index, value, -1, SQLITE_TRANSIENT);
        return 0;
    case IMPORT_INTEGER:
        if (parse_integer(value, INT64_MIN + 1, INT64_MAX, &integer) != 0)
            break;
        if (index)
            sqlite3_bind_int64(statement, index, integer);
        return 0;
    case IMPORT_BOOLEAN:
        if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0)
            break;
        if (index)
            sqlite3_bind_int(statement, index, strcmp(value, "true") == 0);
        return 0;
    case IMPORT_REAL:
    case IMPORT_LATITUDE:
    case IMPORT_LONGITUDE:
        if (parse_decimal(value, &real) != 0)
            break;
        if ((column->type == IMPORT_LATITUDE && (real < -90 || real > 90)) ||
            (column->type == IMPORT_LONGITUDE && (real < -180 || real > 180))) {
            snprintf(reason, reason_size, "%s %.40s out of range", column->name, value);
            return 1;
        }
        if (index)
            sqlite3_bind_double(statement, index, real);
        return 0;
    }
    snprintf(reason, reason_size, "invalid %s '%.40s'", column->name, value);
    return 1;
}

/* Handles one record; returns 0, or -1 on a fatal error. */
static int import_record(ImportContext *context, const ImportTable *table, CsvReader *reader,
                         size_t header_count, const int *indexes, sqlite3_stmt *insert,
                         BuildInput *input, const char *file)
{
    long line = reader->record_line;
    if (reader->field_count != header_count) {
        build_input_reject(input, line, "too %s fields (%zu, expected %zu)",
                           reader->field_count < header_count ? "few" : "many", reader->field_count,
                           header_count);
        return 0;
    }
    char *values[IMPORT_MAX_COLUMNS];
    static char empty[1];
    for (size_t i = 0; i < table->column_count; i++)
        values[i] = indexes[i] >= 0 ? reader->fields[indexes[i]] : empty;
    char reason[256];
    sqlite3_clear_bindings(insert);
    for (size_t i = 0; i < table->column_count; i++) {
        if (bind_value(insert, &table->columns[i], values[i], reason, sizeof reason) != 0) {
            build_input_reject(input, line, "%s", reason);
            return 0;
        }
    }
    if (table->check_row) {
        int verdict = table->check_row(context, table->check_state, input, line, values, reason,
                                       sizeof reason);
        if (verdict < 0)
            return -1;
        if (verdict > 0) {
            build_input_reject(input, line, "%s", reason);
            return 0;
        }
    }
    int status = sqlite3_step(insert);
    sqlite3_reset(insert);
    if (status == SQLITE_DONE) {
        build_input_loaded(input);
        return 0;
    }
    if (status == SQLITE_CONSTRAINT) {
        build_input_reject(input, line, "rejected by the database: %s",
                           sqlite3_errmsg(context->db));
        return 0;
    }
    return import_fail(context, file, line, "database error: %s", sqlite3_errmsg(context->db));
}

int import_csv_table(ImportContext *context, const char *path, const char *file,
                     const ImportTable *table)
{
    if (table->column_count > IMPORT_MAX_COLUMNS)
        return import_fail(context, file, 0, "too many columns in the import spec");
    BuildInput *input = build_report_add_input(context->report, file, table->kind);
    if (!input)
        return import_fail(context, file, 0, "out of memory");
    CsvReader reader;
    if (import_open_csv(context, &reader, path, ',') != 0)
        return -1;
    const char *names[IMPORT_MAX_COLUMNS];
    int required[IMPORT_MAX_COLUMNS], indexes[IMPORT_MAX_COLUMNS];
    for (size_t i = 0; i < table->column_count; i++) {
        names[i] = table->columns[i].name;
        required[i] = 1; /* every column of a reference file must be in its header */
    }
    sqlite3_stmt *insert = NULL;
    int result = -1;
    if (import_read_header(context, &reader, path, names, required, indexes, table->column_count) !=
            0 ||
        import_prepare(context, file, table->insert_sql, &insert) != 0)
        goto done;
    size_t header_count = reader.field_count;
    for (;;) {
        CsvStatus status = csv_next(&reader);
        if (status == CSV_END)
            break;
        if (status == CSV_MALFORMED) {
            build_input_reject(input, reader.record_line, "%s", reader.error);
            continue;
        }
        if (import_record(context, table, &reader, header_count, indexes, insert, input, file) != 0)
            goto done;
    }
    result = 0;
done:
    sqlite3_finalize(insert);
    csv_close(&reader);
    build_input_finish(input);
    return result;
}
