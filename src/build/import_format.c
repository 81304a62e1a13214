/* import_format.c — a network file as saved by a spreadsheet, read as
 * UTF-8 CSV; see import_format.h. */
#include "build/import_format.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *name;
    char separator;
} separator_names[] = {
    {"comma", ','},
    {"semicolon", ';'},
    {"tab", '\t'},
};

/* Reads one part of a --network-format value into `format`; 0 or -1. */
static int parse_part(const char *part, ImportFormat *format, int *seen_encoding,
                      int *seen_separator)
{
    if (strcasecmp(part, "auto") == 0)
        return 0;
    for (size_t i = 0; i < sizeof separator_names / sizeof separator_names[0]; i++) {
        if (strcasecmp(part, separator_names[i].name) == 0) {
            if ((*seen_separator)++)
                return -1;
            format->separator = separator_names[i].separator;
            return 0;
        }
    }
    TextEncoding encoding;
    if (text_encoding_from_name(part, &encoding) != 0 || (*seen_encoding)++)
        return -1;
    format->encoding = encoding;
    return 0;
}

int import_format_parse(const char *text, ImportFormat *format, char *error, size_t error_size)
{
    ImportFormat parsed = {TEXT_ENCODING_AUTO, 0};
    char copy[64];
    int seen_encoding = 0, seen_separator = 0;
    size_t length = strlen(text);
    if (!length || length >= sizeof copy || text[0] == ',' || text[length - 1] == ',' ||
        strstr(text, ",,"))
        goto invalid; /* no empty part (strtok_r would skip it) */
    strcpy(copy, text);
    char *saved = NULL;
    for (char *part = strtok_r(copy, ",", &saved); part; part = strtok_r(NULL, ",", &saved))
        if (parse_part(part, &parsed, &seen_encoding, &seen_separator) != 0)
            goto invalid;
    *format = parsed;
    return 0;
invalid:
    snprintf(error, error_size,
             "--network-format '%.60s' is not ENCODING[,SEPARATOR]: encoding utf-8, "
             "windows-1252, latin-1 or auto; separator comma, semicolon, tab or auto",
             text);
    return -1;
}

static const char *separator_name(char separator)
{
    for (size_t i = 0; i < sizeof separator_names / sizeof separator_names[0]; i++)
        if (separator_names[i].separator == separator)
            return separator_names[i].name;
    return "auto";
}

void import_format_text(const ImportFormat *format, char *out, size_t out_size)
{
    snprintf(out, out_size, "%s,%s", text_encoding_name(format->encoding),
             separator_name(format->separator));
}

/* The separator of the header line: the most frequent of , ; TAB outside
 * quotes, ',' on a tie (the CONTRACT's). */
static char detect_separator(const char *text, size_t length)
{
    size_t commas = 0, semicolons = 0, tabs = 0;
    int quoted = 0;
    for (size_t i = 0; i < length && (quoted || (text[i] != '\n' && text[i] != '\r')); i++) {
        if (text[i] == '"')
            quoted = !quoted;
        else if (!quoted && text[i] == ',')
            commas++;
        else if (!quoted && text[i] == ';')
            semicolons++;
        else if (!quoted && text[i] == '\t')
            tabs++;
    }
    if (semicolons > commas && semicolons >= tabs)
        return ';';
    if (tabs > commas && tabs > semicolons)
        return '\t';
    return ',';
}

static int has_crlf(const char *text, size_t length)
{
    const char *newline = memchr(text, '\n', length);
    return newline && newline > text && newline[-1] == '\r';
}

int import_format_open(ImportContext *context, CsvReader *reader, const char *path,
                       const char *file, const ImportFormat *requested, BuildInput *input)
{
    memset(reader, 0, sizeof *reader);
    Buffer raw, text;
    buffer_init(&raw);
    buffer_init(&text);
    int result = -1;
    if (import_read_file(context, path, &raw) != 0)
        goto done;
    const char *bytes = raw.data ? raw.data : "";
    size_t length = raw.length;
    BuildFormat *format = &input->format;
    format->bom = length >= 3 && memcmp(bytes, "\xEF\xBB\xBF", 3) == 0;
    if (format->bom) {
        bytes += 3;
        length -= 3;
    }
    TextEncoding encoding = requested->encoding;
    if (encoding == TEXT_ENCODING_AUTO)
        encoding = format->bom ? TEXT_ENCODING_UTF8 : text_encoding_detect(bytes, length);
    format->encoding = text_encoding_name(encoding);
    format->undefined = text_encoding_to_utf8(encoding, bytes, length, &text);
    if (format->undefined < 0) {
        import_fail(context, file, 0, "cannot convert from %s to UTF-8", format->encoding);
        goto done;
    }
    format->separator = requested->separator
                            ? requested->separator
                            : detect_separator(text.data ? text.data : "", text.length);
    format->crlf = has_crlf(text.data ? text.data : "", text.length);
    format->detected = requested->encoding == TEXT_ENCODING_AUTO && !requested->separator;
    if (csv_open_memory(reader, text.data ? text.data : "", text.length, format->separator) != 0) {
        import_fail(context, file, 0, "out of memory");
        goto done;
    }
    reader->check_utf8 = 1;
    result = 0;
done:
    buffer_free(&raw);
    buffer_free(&text);
    return result;
}

void import_format_reason(const BuildInput *input, const char *reader_error, char *reason,
                          size_t reason_size)
{
    unsigned field = 0;
    const char *encoding = input->format.encoding;
    if (!encoding || sscanf(reader_error, "invalid UTF-8 in field %u", &field) != 1) {
        snprintf(reason, reason_size, "%s", reader_error);
    } else if (strcmp(encoding, "utf-8") == 0) {
        snprintf(reason, reason_size,
                 "field %u is not UTF-8 text (if the file was saved as Windows-1252 or "
                 "Latin-1, say so with --network-format)",
                 field);
    } else {
        snprintf(reason, reason_size, "field %u holds a byte that is not a character in %s", field,
                 encoding);
    }
}
