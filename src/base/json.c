/* json.c — streaming JSON writer; see json.h for the invariants. */
#include "base/json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void json_init(JsonWriter *writer, Buffer *out)
{
    memset(writer, 0, sizeof *writer);
    writer->out = out;
}

/* Writes the comma that separates this value from the previous sibling. */
static void before_value(JsonWriter *writer)
{
    if (writer->after_key) {
        writer->after_key = 0;
        return;
    }
    if (writer->depth > 0) {
        if (writer->has_member[writer->depth - 1])
            buffer_append_char(writer->out, ',');
        writer->has_member[writer->depth - 1] = 1;
    }
}

static void open_container(JsonWriter *writer, char bracket)
{
    before_value(writer);
    if (writer->depth >= JSON_MAX_DEPTH) {
        writer->out->failed = 1;
        return;
    }
    writer->has_member[writer->depth++] = 0;
    buffer_append_char(writer->out, bracket);
}

static void close_container(JsonWriter *writer, char bracket)
{
    if (writer->depth > 0)
        writer->depth--;
    buffer_append_char(writer->out, bracket);
}

void json_begin_object(JsonWriter *writer)
{
    open_container(writer, '{');
}

void json_end_object(JsonWriter *writer)
{
    close_container(writer, '}');
}

void json_begin_array(JsonWriter *writer)
{
    open_container(writer, '[');
}

void json_end_array(JsonWriter *writer)
{
    close_container(writer, ']');
}

void json_escape_string(Buffer *out, const char *text, size_t length)
{
    static const char hex[] = "0123456789abcdef";
    buffer_append_char(out, '"');
    size_t run_start = 0;
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        buffer_append(out, text + run_start, i - run_start);
        run_start = i + 1;
        switch (c) {
        case '"':
            buffer_append(out, "\\\"", 2);
            break;
        case '\\':
            buffer_append(out, "\\\\", 2);
            break;
        case '\n':
            buffer_append(out, "\\n", 2);
            break;
        case '\r':
            buffer_append(out, "\\r", 2);
            break;
        case '\t':
            buffer_append(out, "\\t", 2);
            break;
        default: {
            char escaped[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            buffer_append(out, escaped, 6);
        }
        }
    }
    buffer_append(out, text + run_start, length - run_start);
    buffer_append_char(out, '"');
}

void json_key(JsonWriter *writer, const char *key)
{
    before_value(writer);
    json_escape_string(writer->out, key, strlen(key));
    buffer_append_char(writer->out, ':');
    writer->after_key = 1;
}

void json_string(JsonWriter *writer, const char *text)
{
    before_value(writer);
    json_escape_string(writer->out, text ? text : "", text ? strlen(text) : 0);
}

void json_string_or_null(JsonWriter *writer, const char *text)
{
    if (!text || !*text)
        json_null(writer);
    else
        json_string(writer, text);
}

void json_integer(JsonWriter *writer, int64_t value)
{
    before_value(writer);
    buffer_printf(writer->out, "%lld", (long long)value);
}

void json_double(JsonWriter *writer, double value, int digits)
{
    before_value(writer);
    if (!isfinite(value)) {
        buffer_append(writer->out, "null", 4);
        return;
    }
    char text[64];
    int length = snprintf(text, sizeof text, "%.*f", digits, value);
    if (length <= 0 || length >= (int)sizeof text) {
        buffer_append(writer->out, "null", 4);
        return;
    }
    if (memchr(text, '.', (size_t)length)) {
        while (length > 1 && text[length - 1] == '0')
            length--;
        if (text[length - 1] == '.')
            length--;
    }
    if (length == 2 && text[0] == '-' && text[1] == '0')
        buffer_append(writer->out, "0", 1);
    else
        buffer_append(writer->out, text, (size_t)length);
}

void json_bool(JsonWriter *writer, int value)
{
    before_value(writer);
    buffer_append_string(writer->out, value ? "true" : "false");
}

void json_null(JsonWriter *writer)
{
    before_value(writer);
    buffer_append(writer->out, "null", 4);
}

void json_raw(JsonWriter *writer, const char *json, size_t length)
{
    before_value(writer);
    buffer_append(writer->out, json, length);
}
