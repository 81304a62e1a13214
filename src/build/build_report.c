/* build_report.c — row accounting, JSON report, progress; see build_report.h. */
#include "build/build_report.h"
#include "base/array.h"
#include "base/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROGRESS_EVERY 100000

void build_report_init(BuildReport *report)
{
    memset(report, 0, sizeof *report);
}

static void note_list_free(BuildNoteList *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->notes[i].text);
    free(list->notes);
    memset(list, 0, sizeof *list);
}

static void input_free(BuildInput *input)
{
    if (!input)
        return;
    free(input->file);
    free(input->kind);
    note_list_free(&input->rejected);
    note_list_free(&input->warnings);
    free(input);
}

void build_report_free(BuildReport *report)
{
    for (size_t i = 0; i < report->count; i++)
        input_free(report->inputs[i]);
    free(report->inputs);
    memset(report, 0, sizeof *report);
}

BuildInput *build_report_add_input(BuildReport *report, const char *file, const char *kind)
{
    if (array_reserve(report->inputs, report->capacity, report->count + 1, 16) != 0)
        return NULL;
    BuildInput *input = calloc(1, sizeof *input);
    if (!input)
        return NULL;
    input->file = strdup(file);
    input->kind = strdup(kind);
    input->quiet = report->quiet;
    if (!input->file || !input->kind) {
        input_free(input);
        return NULL;
    }
    report->inputs[report->count++] = input;
    return input;
}

BuildInput *build_report_find_input(const BuildReport *report, const char *file)
{
    for (size_t i = 0; i < report->count; i++)
        if (strcmp(report->inputs[i]->file, file) == 0)
            return report->inputs[i];
    return NULL;
}

static void count_row(BuildInput *input)
{
    input->rows++;
    if (!input->quiet && input->rows % PROGRESS_EVERY == 0)
        fprintf(stderr, "  %s: %ld rows read\n", input->file, input->rows);
}

void build_input_loaded(BuildInput *input)
{
    input->loaded++;
    count_row(input);
}

static void note_add(BuildInput *input, BuildNoteList *list, long line, const char *format,
                     va_list arguments)
{
    if (array_reserve(list->notes, list->capacity, list->count + 1, 16) != 0) {
        input->failed = 1;
        return;
    }
    char *text = NULL;
    if (vasprintf(&text, format, arguments) < 0 || !text) {
        input->failed = 1;
        return;
    }
    list->notes[list->count].line = line;
    list->notes[list->count].text = text;
    list->count++;
}

void build_input_reject(BuildInput *input, long line, const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    note_add(input, &input->rejected, line, format, arguments);
    va_end(arguments);
    count_row(input);
}

void build_input_warn(BuildInput *input, long line, const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    note_add(input, &input->warnings, line, format, arguments);
    va_end(arguments);
}

/* Stable sort by line: insertion sort when nearly sorted (the usual case),
 * merge sort otherwise. */
static void notes_sort(BuildNoteList *list, int *failed)
{
    size_t count = list->count;
    int sorted = 1;
    for (size_t i = 1; i < count && sorted; i++)
        sorted = list->notes[i - 1].line <= list->notes[i].line;
    if (sorted)
        return;
    BuildNote *scratch = malloc(count * sizeof *scratch);
    if (!scratch) {
        *failed = 1;
        return;
    }
    for (size_t width = 1; width < count; width *= 2) {
        for (size_t low = 0; low < count; low += 2 * width) {
            size_t middle = low + width < count ? low + width : count;
            size_t high = low + 2 * width < count ? low + 2 * width : count;
            size_t left = low, right = middle, out = low;
            while (left < middle && right < high)
                scratch[out++] = list->notes[right].line < list->notes[left].line
                                     ? list->notes[right++]
                                     : list->notes[left++];
            while (left < middle)
                scratch[out++] = list->notes[left++];
            while (right < high)
                scratch[out++] = list->notes[right++];
        }
        memcpy(list->notes, scratch, count * sizeof *scratch);
    }
    free(scratch);
}

void build_input_finish(BuildInput *input)
{
    notes_sort(&input->rejected, &input->failed);
    notes_sort(&input->warnings, &input->failed);
    if (input->quiet)
        return;
    fprintf(stderr, "loaded %ld/%ld rows from %s", input->loaded, input->rows, input->file);
    if (input->rejected.count)
        fprintf(stderr, " (%zu rejected)", input->rejected.count);
    if (input->warnings.count)
        fprintf(stderr, " (%zu warnings)", input->warnings.count);
    fputc('\n', stderr);
}

void build_report_sort(BuildReport *report)
{
    for (size_t i = 0; i < report->count; i++) {
        notes_sort(&report->inputs[i]->rejected, &report->inputs[i]->failed);
        notes_sort(&report->inputs[i]->warnings, &report->inputs[i]->failed);
    }
}

int build_report_failed(const BuildReport *report)
{
    for (size_t i = 0; i < report->count; i++)
        if (report->inputs[i]->failed)
            return 1;
    return 0;
}

static void notes_json(JsonWriter *writer, const BuildNoteList *list, const char *text_key)
{
    json_begin_array(writer);
    for (size_t i = 0; i < list->count; i++) {
        json_begin_object(writer);
        json_key(writer, "line");
        json_integer(writer, list->notes[i].line);
        json_key(writer, text_key);
        json_string(writer, list->notes[i].text);
        json_end_object(writer);
    }
    json_end_array(writer);
}

/* The separator as the report names it: ",", ";" or "\t". */
static const char *separator_text(char separator)
{
    return separator == ';' ? ";" : separator == '\t' ? "\t" : ",";
}

static void format_json(JsonWriter *writer, const BuildFormat *format)
{
    json_key(writer, "format");
    json_begin_object(writer);
    json_key(writer, "encoding");
    json_string(writer, format->encoding);
    json_key(writer, "separator");
    json_string(writer, separator_text(format->separator));
    json_key(writer, "bom");
    json_bool(writer, format->bom);
    json_key(writer, "line_end");
    json_string(writer, format->crlf ? "crlf" : "lf");
    json_key(writer, "detected");
    json_bool(writer, format->detected);
    json_end_object(writer);
}

void build_report_json(const BuildReport *report, const char *version, Buffer *out)
{
    JsonWriter writer;
    json_init(&writer, out);
    json_begin_object(&writer);
    json_key(&writer, "version");
    json_string(&writer, version);
    json_key(&writer, "inputs");
    json_begin_array(&writer);
    for (size_t i = 0; i < report->count; i++) {
        const BuildInput *input = report->inputs[i];
        json_begin_object(&writer);
        json_key(&writer, "file");
        json_string(&writer, input->file);
        json_key(&writer, "kind");
        json_string(&writer, input->kind);
        if (input->format.encoding)
            format_json(&writer, &input->format);
        json_key(&writer, "rows");
        json_integer(&writer, input->rows);
        json_key(&writer, "loaded");
        json_integer(&writer, input->loaded);
        json_key(&writer, "rejected");
        notes_json(&writer, &input->rejected, "reason");
        json_key(&writer, "warnings");
        notes_json(&writer, &input->warnings, "message");
        json_end_object(&writer);
    }
    json_end_array(&writer);
    json_end_object(&writer);
    buffer_append_char(out, '\n');
}

#define TEXT_REPORT_REASONS 3 /* reasons listed per input; the JSON has all */

static void format_text(Buffer *out, const BuildFormat *format)
{
    buffer_printf(out, "    read as %s, separator '%s'%s%s, %s\n", format->encoding,
                  format->separator == '\t' ? "TAB" : separator_text(format->separator),
                  format->bom ? ", byte order mark" : "", format->crlf ? ", CRLF line ends" : "",
                  format->detected ? "detected" : "as set by --network-format");
}

void build_report_text(const BuildReport *report, const char *version, Buffer *out)
{
    buffer_printf(out, "dataset %s\n\n%-32s %-14s %9s %9s %9s\n", version, "file", "kind", "rows",
                  "loaded", "rejected");
    long rows = 0, loaded = 0, rejected = 0;
    for (size_t i = 0; i < report->count; i++) {
        const BuildInput *input = report->inputs[i];
        buffer_printf(out, "%-32s %-14s %9ld %9ld %9zu\n", input->file, input->kind, input->rows,
                      input->loaded, input->rejected.count);
        if (input->format.encoding)
            format_text(out, &input->format);
        for (size_t j = 0; j < input->rejected.count && j < TEXT_REPORT_REASONS; j++)
            buffer_printf(out, "    line %ld: %s\n", input->rejected.notes[j].line,
                          input->rejected.notes[j].text);
        if (input->rejected.count > TEXT_REPORT_REASONS)
            buffer_printf(out,
                          "    … and %zu more rejected rows (the JSON report lists them all)\n",
                          input->rejected.count - TEXT_REPORT_REASONS);
        rows += input->rows;
        loaded += input->loaded;
        rejected += (long)input->rejected.count;
    }
    buffer_printf(out, "%-32s %-14s %9ld %9ld %9ld\n", "total", "", rows, loaded, rejected);
}

static int store_input(const BuildInput *input, sqlite3_stmt *input_row, sqlite3_stmt *rejected_row)
{
    sqlite3_bind_text(input_row, 1, input->file, -1, SQLITE_STATIC);
    sqlite3_bind_text(input_row, 2, input->kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(input_row, 3, input->rows);
    sqlite3_bind_int64(input_row, 4, input->loaded);
    sqlite3_bind_int64(input_row, 5, (sqlite3_int64)input->rejected.count);
    int status = sqlite3_step(input_row);
    sqlite3_reset(input_row);
    if (status != SQLITE_DONE)
        return -1;
    for (size_t i = 0; i < input->rejected.count; i++) {
        sqlite3_bind_text(rejected_row, 1, input->file, -1, SQLITE_STATIC);
        sqlite3_bind_int64(rejected_row, 2, input->rejected.notes[i].line);
        sqlite3_bind_text(rejected_row, 3, input->rejected.notes[i].text, -1, SQLITE_STATIC);
        status = sqlite3_step(rejected_row);
        sqlite3_reset(rejected_row);
        if (status != SQLITE_DONE)
            return -1;
    }
    return 0;
}

int build_report_store(const BuildReport *report, sqlite3 *db, char *error, size_t error_size)
{
    sqlite3_stmt *input_row = NULL, *rejected_row = NULL;
    int result = -1;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO inputs(file, kind, rows, loaded, rejected) "
                           "VALUES (?, ?, ?, ?, ?)",
                           -1, &input_row, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO rejected_rows(file, line, reason) VALUES (?, ?, ?)", -1,
                           &rejected_row, NULL) != SQLITE_OK)
        goto done;
    for (size_t i = 0; i < report->count; i++)
        if (store_input(report->inputs[i], input_row, rejected_row) != 0)
            goto done;
    result = 0;
done:
    if (result != 0)
        snprintf(error, error_size, "cannot store the report: %s", sqlite3_errmsg(db));
    sqlite3_finalize(input_row);
    sqlite3_finalize(rejected_row);
    return result;
}
