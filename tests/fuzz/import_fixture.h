/* import_fixture.h — a database for the importer fuzz targets (header
 * only, test code).
 *
 * Owns: one fresh database (store_create(), the real schema) in a
 * temporary directory, made at the first call and removed at exit, with
 * the ImportContext the importers of `maillage build` take: a PROJ
 * reprojector, a report and a small sealed set of known ORPHAcodes. Each
 * input is written to a file there and imported inside a transaction that
 * is rolled back (the journal is in memory), so every input starts from the
 * same empty tables; the report is emptied after each. Checks shared by the
 * importers: an importer returns 0 (bad rows are rejected, never fatal: the
 * only -1 would be a database error or out of memory, and the fixture has
 * neither), and each input's rows == loaded + rejected (CONTRACT). */
#ifndef MAILLAGE_FUZZ_IMPORT_FIXTURE_H
#define MAILLAGE_FUZZ_IMPORT_FIXTURE_H

#include "fuzz_support.h"

#include "build/import_common.h"
#include "store/store.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct ImportFixture {
    char directory[64];
    char database[128];
    char input[128];
    Store store;
    BuildReport report;
    ImportContext context;
} ImportFixture;

static ImportFixture import_fixture;

static inline void import_fixture_remove(void)
{
    ImportFixture *fixture = &import_fixture;
    reprojector_free(fixture->context.reprojector);
    free(fixture->context.orpha_codes);
    build_report_free(&fixture->report);
    store_close(&fixture->store);
    unlink(fixture->database);
    unlink(fixture->input);
    rmdir(fixture->directory);
}

static inline void import_fixture_fail(const char *what)
{
    fprintf(stderr, "fuzz: cannot set up the import fixture: %s\n", what);
    exit(2);
}

/* The fixture, made at the first call; exits (a set-up error, not a
 * finding) when it cannot be made. */
static inline ImportFixture *import_fixture_get(void)
{
    ImportFixture *fixture = &import_fixture;
    if (fixture->context.db)
        return fixture;
    const char *temporary = getenv("TMPDIR");
    snprintf(fixture->directory, sizeof fixture->directory, "%s/maillage-fuzz-XXXXXX",
             temporary && temporary[0] && strlen(temporary) < 32 ? temporary : "/tmp");
    if (!mkdtemp(fixture->directory))
        import_fixture_fail("mkdtemp");
    snprintf(fixture->database, sizeof fixture->database, "%s/fixture.sqlite", fixture->directory);
    snprintf(fixture->input, sizeof fixture->input, "%s/input", fixture->directory);
    char error[1024];
    if (store_create(&fixture->store, fixture->database, error, sizeof error) != 0 ||
        store_exec(&fixture->store, "PRAGMA journal_mode = MEMORY", error, sizeof error) != 0)
        import_fixture_fail(error);
    atexit(import_fixture_remove);
    build_report_init(&fixture->report);
    fixture->report.quiet = 1;
    fixture->context.db = fixture->store.db;
    fixture->context.report = &fixture->report;
    fixture->context.reprojector = reprojector_new();
    if (!fixture->context.reprojector)
        import_fixture_fail("PROJ");
    /* The codes of the seeds: drépanocytose, mucoviscidose and some groups. */
    static const int32_t codes[] = {232, 586, 1959, 3002, 68415, 98375, 275752};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (import_orpha_code_add(&fixture->context, codes[i]) != 0)
            import_fixture_fail("out of memory");
    import_orpha_codes_seal(&fixture->context);
    return fixture;
}

static inline void import_fixture_check(int condition, const char *what)
{
    if (!condition) {
        fprintf(stderr, "fuzz check failed: %s (%s)\n", what, import_fixture.context.error);
        abort();
    }
}

/* Writes `data` to the fixture's input file and opens a transaction.
 * Returns the file's path. */
static inline const char *import_fixture_begin(const uint8_t *data, size_t size)
{
    ImportFixture *fixture = import_fixture_get();
    import_fixture_check(fuzz_write_file(fixture->input, data, size) == 0,
                         "cannot write the input file");
    char error[512];
    import_fixture_check(store_exec(&fixture->store, "BEGIN", error, sizeof error) == 0, "BEGIN");
    fixture->context.error[0] = 0;
    return fixture->input;
}

/* The single integer `sql` answers in the fixture's database (-1 when it
 * answers none). */
static inline long long import_fixture_count(const char *sql)
{
    sqlite3_stmt *statement = NULL;
    long long value = -1;
    if (sqlite3_prepare_v2(import_fixture_get()->context.db, sql, -1, &statement, NULL) ==
            SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW)
        value = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
    return value;
}

/* Checks every input of the report (rows == loaded + rejected, a line
 * number for each rejection within the file), rolls the transaction back
 * and empties the report. */
static inline void import_fixture_end(long lines)
{
    ImportFixture *fixture = import_fixture_get();
    for (size_t i = 0; i < fixture->report.count; i++) {
        const BuildInput *input = fixture->report.inputs[i];
        import_fixture_check(!input->failed, "the report ran out of memory");
        import_fixture_check(input->rows == input->loaded + (long)input->rejected.count,
                             "rows != loaded + rejected");
        for (size_t r = 0; r < input->rejected.count; r++)
            import_fixture_check(input->rejected.notes[r].line >= 1 &&
                                     input->rejected.notes[r].line <= lines,
                                 "a rejection without a line of the file");
    }
    char error[512];
    import_fixture_check(store_exec(&fixture->store, "ROLLBACK", error, sizeof error) == 0,
                         "ROLLBACK");
    build_report_free(&fixture->report);
    build_report_init(&fixture->report);
    fixture->report.quiet = 1;
}

/* The number of physical lines of `data` (CRLF, LF and lone CR end a
 * line, as base/csv.h counts them), at least 1. */
static inline long import_fixture_lines(const uint8_t *data, size_t size)
{
    long lines = 1;
    for (size_t i = 0; i < size; i++)
        if (data[i] == '\n' || (data[i] == '\r' && (i + 1 == size || data[i + 1] != '\n')))
            lines++;
    return lines;
}

#endif
