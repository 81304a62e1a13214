/* import_common.h — what every importer of `maillage build` shares.
 *
 * Owns: the ImportContext (the database being built, the report, the
 * reprojector, the set of known ORPHAcodes, the fatal error message) and a
 * table-driven CSV importer for the simple reference files. Invariants:
 *  - an importer returns 0 when the file was read (bad rows are rejected in
 *    the report, never fatal), or -1 with `context->error` set to
 *    "FILE: reason" or "FILE:LINE: reason" for a fatal error (unreadable
 *    file, missing column, database failure);
 *  - every record read after the header is either loaded or rejected: an
 *    importer never skips a row silently;
 *  - `orpha_codes` is sorted once the nomenclature is loaded
 *    (import_orpha_codes_seal), and only then used by import_orpha_code_known. */
#ifndef MAILLAGE_IMPORT_COMMON_H
#define MAILLAGE_IMPORT_COMMON_H

#include "build/build_report.h"
#include "base/csv.h"
#include "base/geodesy.h"

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ImportContext {
    sqlite3 *db;
    BuildReport *report;
    Reprojector *reprojector;
    int32_t *orpha_codes; /* sorted after import_orpha_codes_seal() */
    size_t orpha_code_count;
    size_t orpha_code_capacity;
    char error[1024];
} ImportContext;

/* Sets context->error to "file: reason" (line <= 0) or "file:line: reason",
 * truncated to fit; returns -1. */
int import_fail(ImportContext *context, const char *file, long line, const char *format, ...)
    __attribute__((format(printf, 4, 5)));
/* The part of `path` after its last '/' (a pointer into `path`). */
const char *import_base_name(const char *path);

/* Appends the whole file at `path` to `out`. Returns 0, or -1 with the
 * error set (`out` may then hold part of the file; the caller frees it). */
int import_read_file(ImportContext *context, const char *path, Buffer *out);
/* Opens `path` as CSV with UTF-8 checking. Returns 0, or -1 with the error
 * set (the reader then holds nothing; csv_close() is harmless). */
int import_open_csv(ImportContext *context, CsvReader *reader, const char *path, char separator);
/* Reads the header (trimming its fields in place) into `indexes` (one per
 * name, -1 when absent; `required` may be NULL). Returns 0, or -1 with the
 * error set when the file is empty, malformed on line 1, repeats a column,
 * or lacks a column flagged required. */
int import_read_header(ImportContext *context, CsvReader *reader, const char *file,
                       const char *const *names, const int *required, int *indexes, size_t count);

/* Appends `code` to the set (unsorted until sealed). Returns 0, or -1 when
 * out of memory (the set unchanged; context->error is not set). */
int import_orpha_code_add(ImportContext *context, int32_t code);
/* Sorts the set so that import_orpha_code_known() can search it. */
void import_orpha_codes_seal(ImportContext *context);
/* 1 when `code` is in the sealed set, else 0 (also for a code outside the
 * int32_t range or an empty set). */
int import_orpha_code_known(const ImportContext *context, int64_t code);

/* Runs SQL without rows. Returns 0, or -1 with the error set (naming
 * `file`); statements before the failing one stay run. */
int import_exec(ImportContext *context, const char *file, const char *sql);
/* Prepares SQL into `*statement`, which the caller finalizes. Returns 0, or
 * -1 with the error set (naming `file`) and `*statement` NULL. */
int import_prepare(ImportContext *context, const char *file, const char *sql,
                   sqlite3_stmt **statement);

/* The table-driven importer: each column of the spec is read by name from
 * the header, checked by type, and bound to the named SQL parameter
 * ":<name>" of `insert_sql`. Empty fields are NULL; a `required` column must
 * not be empty. */
typedef enum ImportColumnType {
    IMPORT_TEXT,
    IMPORT_INTEGER,
    IMPORT_REAL,
    IMPORT_LATITUDE,  /* decimal in [-90, 90] */
    IMPORT_LONGITUDE, /* decimal in [-180, 180] */
    IMPORT_BOOLEAN    /* true | false, stored 1 | 0 */
} ImportColumnType;

typedef struct ImportColumn {
    const char *name;
    ImportColumnType type;
    int required;
} ImportColumn;

/* Called for each well-formed row before its insert, with the fields in spec
 * order (never NULL; "" when empty). Returns 0 to insert the row, 1 to reject
 * it with `reason`, -1 for a fatal error (context->error set). */
typedef int (*ImportRowCheck)(ImportContext *context, void *state, BuildInput *input, long line,
                              char *const *values, char *reason, size_t reason_size);

typedef struct ImportTable {
    const char *kind;
    const ImportColumn *columns;
    size_t column_count;
    const char *insert_sql;
    ImportRowCheck check_row; /* optional */
    void *check_state;
} ImportTable;

/* Imports `path` as one report input named `file` of kind `table->kind`:
 * every record is loaded or rejected (malformed, wrong field count, bad
 * value, check_row verdict 1, constraint failure). Returns 0, or -1 with the
 * error set (unreadable file, missing column, database error, check_row
 * -1); rows inserted before a -1 stay. */
int import_csv_table(ImportContext *context, const char *path, const char *file,
                     const ImportTable *table);

#endif
