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

/* Every call below appends to `out` through buffer.h, so it writes nothing
 * once `out->failed` is set (by out of memory or too deep nesting): the
 * caller checks `out->failed` once at the end. None returns an error. */

/* Starts writing at depth 0 into `out`, which the writer does not own. */
void json_init(JsonWriter *writer, Buffer *out);
/* Opens an object; beyond JSON_MAX_DEPTH levels it sets `out->failed`. */
void json_begin_object(JsonWriter *writer);
/* Closes the innermost object. */
void json_end_object(JsonWriter *writer);
/* Opens an array; beyond JSON_MAX_DEPTH levels it sets `out->failed`. */
void json_begin_array(JsonWriter *writer);
/* Closes the innermost array. */
void json_end_array(JsonWriter *writer);
/* Writes a member name (not NULL); the next call writes its value. */
void json_key(JsonWriter *writer, const char *key);
/* Writes a string value, escaped; NULL is written as "". */
void json_string(JsonWriter *writer, const char *text);
void json_string_or_null(JsonWriter *writer, const char *text); /* NULL or "" -> null */
/* Writes an integer value. */
void json_integer(JsonWriter *writer, int64_t value);
/* `digits` after the decimal point, trailing zeros removed; a non-finite
 * value is written as null. */
void json_double(JsonWriter *writer, double value, int digits);
/* Writes true when `value` is non-zero, else false. */
void json_bool(JsonWriter *writer, int value);
/* Writes null. */
void json_null(JsonWriter *writer);
/* Appends already-serialised JSON as one value (not checked). */
void json_raw(JsonWriter *writer, const char *json, size_t length);

/* Escapes `length` bytes of `text` as a JSON string literal (with quotes)
 * into `out`; a no-op once `out` has failed. */
void json_escape_string(Buffer *out, const char *text, size_t length);

#endif
