/* json.h — a streaming JSON writer into a Buffer.
 *
 * Owns: comma placement and string escaping. Invariants: output is valid
 * UTF-8 JSON whenever the caller passes valid UTF-8 strings and balances
 * begin/end calls; numbers are always finite decimals (a non-finite double
 * is written as null, never inf or nan); nesting deeper than
 * JSON_MAX_DEPTH marks the buffer failed. */
#ifndef MAILLAGE_JSON_H
#define MAILLAGE_JSON_H

#include "base/buffer.h"

#include <stdint.h>

#define JSON_MAX_DEPTH 32

typedef struct JsonWriter {
    Buffer *out;
    int depth;
    unsigned char has_member[JSON_MAX_DEPTH];
    int after_key;
} JsonWriter;

void json_init(JsonWriter *writer, Buffer *out);
void json_begin_object(JsonWriter *writer);
void json_end_object(JsonWriter *writer);
void json_begin_array(JsonWriter *writer);
void json_end_array(JsonWriter *writer);
void json_key(JsonWriter *writer, const char *key);
void json_string(JsonWriter *writer, const char *text);
void json_string_or_null(JsonWriter *writer, const char *text); /* NULL or "" -> null */
void json_integer(JsonWriter *writer, int64_t value);
/* `digits` after the decimal point, trailing zeros removed. */
void json_double(JsonWriter *writer, double value, int digits);
void json_bool(JsonWriter *writer, int value);
void json_null(JsonWriter *writer);
/* Appends already-serialised JSON as one value. */
void json_raw(JsonWriter *writer, const char *json, size_t length);

/* Escapes `text` as a JSON string literal (with quotes) into `out`. */
void json_escape_string(Buffer *out, const char *text, size_t length);

#endif
