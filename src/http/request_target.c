/* request_target.c — percent-decoding and checks of request targets; see request_target.h. */
#include "http/request_target.h"
#include "base/text.h"

#include <string.h>
#include <strings.h>

size_t request_target_storage_size(size_t length)
{
    /* Each decoded piece (the path, each name, each value) is at most its
     * raw bytes plus a NUL, and there are at most length + 2 pieces. */
    return 2 * length + 4;
}

static int hex_digit(char character)
{
    if (character >= '0' && character <= '9')
        return character - '0';
    if (character >= 'a' && character <= 'f')
        return character - 'a' + 10;
    if (character >= 'A' && character <= 'F')
        return character - 'A' + 10;
    return -1;
}

/* Decodes [text, text + length) into `out` (NUL-terminated). Returns the
 * decoded length, or -1 with `*why` set. */
static long percent_decode(const char *text, size_t length, int plus_is_space, char *out,
                           const char **why)
{
    size_t written = 0;
    for (size_t i = 0; i < length; i++) {
        char character = text[i];
        if (character == '%') {
            int high = i + 1 < length ? hex_digit(text[i + 1]) : -1;
            int low = i + 2 < length ? hex_digit(text[i + 2]) : -1;
            if (high < 0 || low < 0) {
                *why = "the request target holds a malformed percent-escape";
                return -1;
            }
            character = (char)(high * 16 + low);
            i += 2;
        } else if (character == '+' && plus_is_space) {
            character = ' ';
        }
        if (character == '\0') {
            *why = "the request target holds a NUL byte (%00)";
            return -1;
        }
        out[written++] = character;
    }
    out[written] = '\0';
    if (!utf8_is_valid(out, written)) {
        *why = "the request target is not valid UTF-8 once percent-decoded";
        return -1;
    }
    return (long)written;
}

/* 1 when the decoded path has a "." or ".." segment. */
static int has_dot_segment(const char *path)
{
    for (const char *segment = path; segment; segment = strchr(segment + 1, '/')) {
        const char *start = segment[0] == '/' ? segment + 1 : segment;
        size_t length = strcspn(start, "/");
        if ((length == 1 && start[0] == '.') || (length == 2 && start[0] == '.' && start[1] == '.'))
            return 1;
    }
    return 0;
}

/* Splits "a=1&b=2" into decoded parameters written from `out` on. */
static void parse_query(RequestTarget *target, const char *query, size_t length, char *out)
{
    const char *end = query + length;
    const char *piece = query;
    while (piece < end && !target->error) {
        const char *separator = memchr(piece, '&', (size_t)(end - piece));
        if (!separator)
            separator = end;
        if (separator > piece) {
            if (target->parameter_count == REQUEST_MAX_PARAMETERS) {
                target->too_many_parameters = 1;
                return;
            }
            const char *equals = memchr(piece, '=', (size_t)(separator - piece));
            const char *name_end = equals ? equals : separator;
            QueryParameter *parameter = &target->parameters[target->parameter_count];
            long written =
                percent_decode(piece, (size_t)(name_end - piece), 1, out, &target->error);
            if (written < 0)
                return;
            parameter->name = out;
            out += written + 1;
            parameter->value = "";
            if (equals) {
                written = percent_decode(equals + 1, (size_t)(separator - equals - 1), 1, out,
                                         &target->error);
                if (written < 0)
                    return;
                parameter->value = out;
                out += written + 1;
            }
            target->parameter_count++;
        }
        piece = separator + 1;
    }
}

/* The origin-form part of `raw`, or NULL when the target has none. */
static const char *origin_form(const char *raw)
{
    if (raw[0] == '/')
        return raw;
    const char *scheme_end = strstr(raw, "://");
    if (!scheme_end || strncasecmp(raw, "http", 4) != 0)
        return NULL;
    const char *path = strchr(scheme_end + 3, '/');
    return path ? path : "/";
}

void request_target_parse(const char *raw, char *storage, RequestTarget *target)
{
    memset(target, 0, sizeof *target);
    target->path = "/";
    if (strcmp(raw, "*") == 0) {
        target->path = "*";
        return;
    }
    const char *form = origin_form(raw);
    if (!form) {
        target->error = "the request target must start with '/'";
        return;
    }
    size_t form_length = strcspn(form, "#");
    const char *query = memchr(form, '?', form_length);
    size_t path_length = query ? (size_t)(query - form) : form_length;
    long written = percent_decode(form, path_length, 0, storage, &target->error);
    if (written < 0)
        return;
    if (has_dot_segment(storage)) {
        target->error = "the path holds a '.' or '..' segment";
        return;
    }
    target->path = storage;
    if (query)
        parse_query(target, query + 1, form_length - path_length - 1, storage + written + 1);
}
