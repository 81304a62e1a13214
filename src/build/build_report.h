/* build_report.h — the account of every input row of a `maillage build`.
 *
 * Owns: one BuildInput per input file (its report name, kind, row counts,
 * rejected rows and warnings), the JSON report and its copy in the
 * database's `inputs` / `rejected_rows` tables, and the progress lines on
 * stderr. Invariants:
 *  - a row is counted only through build_input_loaded() or
 *    build_input_reject(), so `rows == loaded + rejected_count` always holds;
 *  - after build_input_finish(), rejections and warnings are sorted by line
 *    (stable, so several reasons on one line keep their order);
 *  - an allocation failure sets `failed` on the input (and the build stops
 *    with "out of memory"), never a silently shorter list. */
#ifndef MAILLAGE_BUILD_REPORT_H
#define MAILLAGE_BUILD_REPORT_H

#include "base/buffer.h"

#include <sqlite3.h>
#include <stddef.h>

typedef struct BuildNote {
    long line; /* 1-based line in the input file, 0 when not about one line */
    char *text;
} BuildNote;

typedef struct BuildNoteList {
    BuildNote *notes;
    size_t count;
    size_t capacity;
} BuildNoteList;

/* How a text input was read (network files: see import_format.h);
 * `encoding` NULL when not recorded. */
typedef struct BuildFormat {
    const char *encoding; /* a static name: "utf-8", "windows-1252", "latin-1" */
    char separator;
    int bom;        /* the file starts with a UTF-8 byte order mark */
    int crlf;       /* its lines end with CR LF */
    int detected;   /* encoding and separator were detected, not set */
    long undefined; /* bytes the encoding does not define (their rows rejected) */
} BuildFormat;

typedef struct BuildInput {
    char *file; /* the name used in the report and in sites.input_file */
    char *kind;
    long rows;
    long loaded;
    BuildNoteList rejected;
    BuildNoteList warnings;
    BuildFormat format;
    int failed; /* out of memory while recording */
    int quiet;  /* no progress lines (unit tests) */
} BuildInput;

typedef struct BuildReport {
    BuildInput **inputs;
    size_t count;
    size_t capacity;
    int quiet;
} BuildReport;

/* Makes `report` empty (no input, not quiet); allocates nothing. */
void build_report_init(BuildReport *report);
/* Frees every input (their names and notes) and empties the report; the
 * BuildInput pointers it handed out die with it. */
void build_report_free(BuildReport *report);
/* Adds an input with copies of `file` and `kind`, owned by the report (the
 * input inherits `quiet`). Returns NULL when out of memory, the report then
 * unchanged. */
BuildInput *build_report_add_input(BuildReport *report, const char *file, const char *kind);
/* The input named `file`, or NULL. */
BuildInput *build_report_find_input(const BuildReport *report, const char *file);

/* Counts one row as loaded (with a progress line every 100,000 rows). */
void build_input_loaded(BuildInput *input);
/* Counts one row as rejected at `line`, with a printf-formatted reason the
 * input keeps a copy of; out of memory loses the reason and sets `failed`,
 * but the row is still counted. */
void build_input_reject(BuildInput *input, long line, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
/* Records a warning about `line` (0 for none), counting no row; out of
 * memory sets `failed`. */
void build_input_warn(BuildInput *input, long line, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
/* Sorts the notes and prints "loaded L/R rows from FILE" on stderr (unless
 * quiet); out of memory while sorting sets `failed`, the notes unsorted. */
void build_input_finish(BuildInput *input);
/* Sorts every input's notes again (after late warnings, such as links);
 * out of memory sets the input's `failed`. */
void build_report_sort(BuildReport *report);
/* 1 when any input ran out of memory while recording, else 0. */
int build_report_failed(const BuildReport *report);

/* Appends the JSON report and a newline to `out`; out of memory sets
 * `out->failed` (see buffer.h). */
void build_report_json(const BuildReport *report, const char *version, Buffer *out);
/* Appends a summary a person reads (per input: rows, loaded, rejected, the
 * format when recorded, and the first reasons) to `out`; out of memory sets
 * `out->failed`. */
void build_report_text(const BuildReport *report, const char *version, Buffer *out);
/* Fills the `inputs` and `rejected_rows` tables. Returns 0, or -1 with a
 * message in `error`; rows inserted before a failure are not removed (the
 * caller's transaction decides). */
int build_report_store(const BuildReport *report, sqlite3 *db, char *error, size_t error_size);

#endif
