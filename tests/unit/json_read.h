/* json_read.h — a small strict JSON reader for the unit tests.
 *
 * The project only writes JSON (base/json.h); tests that look at an answer's
 * content read it through this instead of searching its bytes, so a check
 * holds whatever the member order and fails on a body that is not JSON.
 * Strict RFC 8259: one value and nothing after it but blanks; no trailing
 * comma, no leading zero, no bare control byte, no lone surrogate, valid
 * UTF-8 only; a key repeated in one object is an error too (the server
 * never writes one). Members are found by JSON Pointer (RFC 6901):
 *
 *     JsonNode *root = json_node_parse(body, length, error, sizeof error);
 *     json_node_string(root, "/results/0/site_id")     "NECKER-MAREP" or NULL
 *     json_node_number(root, "/query/k")               5, or NAN when absent
 *     json_node_count(root, "/results")                items, -1 if not an array/object
 *     json_node_free(root);
 *
 * Header only (every function static inline), for tests alone. */
#ifndef MAILLAGE_TEST_JSON_READ_H
#define MAILLAGE_TEST_JSON_READ_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum JsonNodeKind {
    JSON_NODE_NULL,
    JSON_NODE_BOOL,
    JSON_NODE_NUMBER,
    JSON_NODE_STRING,
    JSON_NODE_ARRAY,
    JSON_NODE_OBJECT
} JsonNodeKind;

typedef struct JsonNode {
    JsonNodeKind kind;
    int boolean;            /* JSON_NODE_BOOL */
    double number;          /* JSON_NODE_NUMBER */
    char *text;             /* JSON_NODE_STRING: decoded, NUL-terminated */
    size_t length;          /* bytes of `text` (a \u0000 counts) */
    struct JsonNode *items; /* arrays and objects: the members, in order */
    char **keys;            /* objects: the key of each member */
    size_t count;           /* arrays and objects: members */
} JsonNode;

#define JSON_READ_MAX_DEPTH 64

typedef struct JsonParser {
    const char *text;
    size_t length, at;
    char *error;
    size_t error_size;
    int failed;
} JsonParser;

static inline void json_read_fail(JsonParser *parser, const char *reason)
{
    if (!parser->failed && parser->error_size)
        snprintf(parser->error, parser->error_size, "byte %zu: %s", parser->at, reason);
    parser->failed = 1;
}

static inline void json_read_blanks(JsonParser *parser)
{
    while (parser->at < parser->length &&
           (parser->text[parser->at] == ' ' || parser->text[parser->at] == '\t' ||
            parser->text[parser->at] == '\n' || parser->text[parser->at] == '\r'))
        parser->at++;
}

static inline void json_node_release(JsonNode *node)
{
    free(node->text);
    for (size_t i = 0; i < node->count; i++) {
        json_node_release(&node->items[i]);
        if (node->keys)
            free(node->keys[i]);
    }
    free(node->items);
    free(node->keys);
    memset(node, 0, sizeof *node);
}

/* Appends one code point as UTF-8. */
static inline size_t json_read_put_utf8(char *out, uint32_t code)
{
    if (code < 0x80) {
        out[0] = (char)code;
        return 1;
    }
    if (code < 0x800) {
        out[0] = (char)(0xC0 | code >> 6);
        out[1] = (char)(0x80 | (code & 0x3F));
        return 2;
    }
    if (code < 0x10000) {
        out[0] = (char)(0xE0 | code >> 12);
        out[1] = (char)(0x80 | (code >> 6 & 0x3F));
        out[2] = (char)(0x80 | (code & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | code >> 18);
    out[1] = (char)(0x80 | (code >> 12 & 0x3F));
    out[2] = (char)(0x80 | (code >> 6 & 0x3F));
    out[3] = (char)(0x80 | (code & 0x3F));
    return 4;
}

/* Four hex digits at the cursor; -1 when malformed. */
static inline long json_read_hex4(JsonParser *parser)
{
    if (parser->length - parser->at < 4)
        return -1;
    long value = 0;
    for (int i = 0; i < 4; i++) {
        char c = parser->text[parser->at++];
        int digit = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
        if (digit < 0)
            return -1;
        value = value * 16 + digit;
    }
    return value;
}

/* The length of the valid UTF-8 sequence at `bytes` (at most `available`
 * bytes), 0 when invalid (overlong, surrogate, past U+10FFFF, truncated). */
static inline size_t json_read_utf8_length(const unsigned char *bytes, size_t available)
{
    unsigned char first = bytes[0];
    size_t length;
    uint32_t code, minimum;
    if (first < 0x80)
        return 1;
    if (first >= 0xC2 && first <= 0xDF) {
        length = 2;
        code = first & 0x1F;
        minimum = 0x80;
    } else if (first >= 0xE0 && first <= 0xEF) {
        length = 3;
        code = first & 0x0F;
        minimum = 0x800;
    } else if (first >= 0xF0 && first <= 0xF4) {
        length = 4;
        code = first & 0x07;
        minimum = 0x10000;
    } else {
        return 0;
    }
    if (available < length)
        return 0;
    for (size_t i = 1; i < length; i++) {
        if ((bytes[i] & 0xC0) != 0x80)
            return 0;
        code = code << 6 | (bytes[i] & 0x3F);
    }
    if (code < minimum || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
        return 0;
    return length;
}

/* A string at the cursor (on its opening quote): decoded into a new
 * NUL-terminated block; NULL on failure. */
static inline char *json_read_string(JsonParser *parser, size_t *length)
{
    parser->at++; /* the quote */
    /* Decoded text is never longer than its source, which ends at the
     * first quote that no backslash escapes (or at the end). */
    size_t end = parser->at;
    while (end < parser->length && parser->text[end] != '"')
        end += parser->text[end] == '\\' ? 2 : 1;
    char *out = malloc((end < parser->length ? end : parser->length) - parser->at + 1);
    size_t used = 0;
    if (!out) {
        json_read_fail(parser, "out of memory");
        return NULL;
    }
    for (;;) {
        if (parser->at >= parser->length) {
            json_read_fail(parser, "unterminated string");
            break;
        }
        unsigned char c = (unsigned char)parser->text[parser->at];
        if (c == '"') {
            parser->at++;
            out[used] = 0;
            *length = used;
            return out;
        }
        if (c < 0x20) {
            json_read_fail(parser, "control byte in a string");
            break;
        }
        if (c != '\\') {
            size_t sequence = json_read_utf8_length(
                (const unsigned char *)parser->text + parser->at, parser->length - parser->at);
            if (sequence == 0) {
                json_read_fail(parser, "invalid UTF-8 in a string");
                break;
            }
            memcpy(out + used, parser->text + parser->at, sequence);
            used += sequence;
            parser->at += sequence;
            continue;
        }
        parser->at++;
        char escape = parser->at < parser->length ? parser->text[parser->at++] : 0;
        const char *simple = strchr("\"\\/bfnrt", escape);
        if (escape && simple) {
            static const char decoded[] = "\"\\/\b\f\n\r\t";
            out[used++] = decoded[simple - "\"\\/bfnrt"];
            continue;
        }
        if (escape != 'u') {
            json_read_fail(parser, "invalid escape");
            break;
        }
        long code = json_read_hex4(parser);
        if (code < 0) {
            json_read_fail(parser, "invalid \\u escape");
            break;
        }
        if (code >= 0xDC00 && code <= 0xDFFF) {
            json_read_fail(parser, "lone low surrogate");
            break;
        }
        if (code >= 0xD800 && code <= 0xDBFF) {
            long low = -1;
            if (parser->length - parser->at >= 2 && parser->text[parser->at] == '\\' &&
                parser->text[parser->at + 1] == 'u') {
                parser->at += 2;
                low = json_read_hex4(parser);
            }
            if (low < 0xDC00 || low > 0xDFFF) {
                json_read_fail(parser, "lone high surrogate");
                break;
            }
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
        }
        used += json_read_put_utf8(out + used, (uint32_t)code);
    }
    free(out);
    return NULL;
}

static inline void json_read_number(JsonParser *parser, JsonNode *node)
{
    size_t start = parser->at;
    const char *text = parser->text;
#define JSON_READ_DIGIT()                                                                          \
    (parser->at < parser->length && text[parser->at] >= '0' && text[parser->at] <= '9')
    if (parser->at < parser->length && text[parser->at] == '-')
        parser->at++;
    if (!JSON_READ_DIGIT()) {
        json_read_fail(parser, "invalid value");
        return;
    }
    if (text[parser->at] == '0') {
        parser->at++;
        if (JSON_READ_DIGIT()) {
            json_read_fail(parser, "leading zero");
            return;
        }
    } else {
        while (JSON_READ_DIGIT())
            parser->at++;
    }
    if (parser->at < parser->length && text[parser->at] == '.') {
        parser->at++;
        if (!JSON_READ_DIGIT()) {
            json_read_fail(parser, "no digit after the decimal point");
            return;
        }
        while (JSON_READ_DIGIT())
            parser->at++;
    }
    if (parser->at < parser->length && (text[parser->at] == 'e' || text[parser->at] == 'E')) {
        parser->at++;
        if (parser->at < parser->length && (text[parser->at] == '+' || text[parser->at] == '-'))
            parser->at++;
        if (!JSON_READ_DIGIT()) {
            json_read_fail(parser, "no digit in the exponent");
            return;
        }
        while (JSON_READ_DIGIT())
            parser->at++;
    }
#undef JSON_READ_DIGIT
    char copy[400];
    size_t length = parser->at - start;
    if (length >= sizeof copy) {
        json_read_fail(parser, "number too long");
        return;
    }
    memcpy(copy, text + start, length);
    copy[length] = 0;
    node->kind = JSON_NODE_NUMBER;
    node->number = strtod(copy, NULL);
}

/* Adds a zeroed member to an array or object node; NULL when out of memory. */
static inline JsonNode *json_read_add(JsonParser *parser, JsonNode *node, size_t *capacity)
{
    if (node->count == *capacity) {
        size_t grown = *capacity ? *capacity * 2 : 8;
        JsonNode *items = realloc(node->items, grown * sizeof *items);
        if (items)
            node->items = items;
        if (items && node->kind == JSON_NODE_OBJECT) {
            char **keys = realloc(node->keys, grown * sizeof *keys);
            if (!keys)
                items = NULL;
            else
                node->keys = keys;
        }
        if (!items) {
            json_read_fail(parser, "out of memory");
            return NULL;
        }
        *capacity = grown;
    }
    JsonNode *item = &node->items[node->count];
    memset(item, 0, sizeof *item);
    if (node->keys)
        node->keys[node->count] = NULL;
    node->count++;
    return item;
}

static inline int json_read_literal(JsonParser *parser, const char *word)
{
    size_t length = strlen(word);
    if (parser->length - parser->at < length || memcmp(parser->text + parser->at, word, length))
        return 0;
    parser->at += length;
    return 1;
}

static inline void json_read_value(JsonParser *parser, JsonNode *node, int depth)
{
    json_read_blanks(parser);
    if (parser->at >= parser->length) {
        json_read_fail(parser, "a value is missing");
        return;
    }
    if (depth > JSON_READ_MAX_DEPTH) {
        json_read_fail(parser, "nested too deeply");
        return;
    }
    char c = parser->text[parser->at];
    if (c == '{' || c == '[') {
        int object = c == '{';
        char close = object ? '}' : ']';
        size_t capacity = 0;
        node->kind = object ? JSON_NODE_OBJECT : JSON_NODE_ARRAY;
        parser->at++;
        json_read_blanks(parser);
        if (parser->at < parser->length && parser->text[parser->at] == close) {
            parser->at++;
            return;
        }
        while (!parser->failed) {
            json_read_blanks(parser);
            char *key = NULL;
            if (object) {
                size_t key_length;
                if (parser->at >= parser->length || parser->text[parser->at] != '"') {
                    json_read_fail(parser, "a key is missing");
                    return;
                }
                key = json_read_string(parser, &key_length);
                if (!key)
                    return;
                for (size_t i = 0; i < node->count; i++) {
                    if (strcmp(node->keys[i], key) == 0) {
                        free(key);
                        json_read_fail(parser, "a key repeated in one object");
                        return;
                    }
                }
                json_read_blanks(parser);
                if (parser->at >= parser->length || parser->text[parser->at] != ':') {
                    free(key);
                    json_read_fail(parser, "':' expected");
                    return;
                }
                parser->at++;
            }
            JsonNode *item = json_read_add(parser, node, &capacity);
            if (!item) {
                free(key);
                return;
            }
            if (object)
                node->keys[node->count - 1] = key;
            json_read_value(parser, item, depth + 1);
            json_read_blanks(parser);
            if (parser->failed)
                return;
            if (parser->at < parser->length && parser->text[parser->at] == ',') {
                parser->at++;
                continue;
            }
            if (parser->at < parser->length && parser->text[parser->at] == close) {
                parser->at++;
                return;
            }
            json_read_fail(parser, object ? "',' or '}' expected" : "',' or ']' expected");
        }
        return;
    }
    if (c == '"') {
        node->text = json_read_string(parser, &node->length);
        if (node->text)
            node->kind = JSON_NODE_STRING;
        return;
    }
    if (json_read_literal(parser, "true")) {
        node->kind = JSON_NODE_BOOL;
        node->boolean = 1;
    } else if (json_read_literal(parser, "false")) {
        node->kind = JSON_NODE_BOOL;
    } else if (json_read_literal(parser, "null")) {
        node->kind = JSON_NODE_NULL;
    } else {
        json_read_number(parser, node);
    }
}

/* Parses the `length` bytes of `text`: one JSON value, blanks around it.
 * Returns the tree (json_node_free()), or NULL with "byte N: reason" in
 * `error`. */
static inline JsonNode *json_node_parse(const char *text, size_t length, char *error,
                                        size_t error_size)
{
    JsonParser parser = {text ? text : "", text ? length : 0, 0, error, error_size, 0};
    JsonNode *root = calloc(1, sizeof *root);
    if (!root) {
        json_read_fail(&parser, "out of memory");
        return NULL;
    }
    json_read_value(&parser, root, 0);
    json_read_blanks(&parser);
    if (!parser.failed && parser.at != parser.length)
        json_read_fail(&parser, "bytes after the value");
    if (parser.failed) {
        json_node_release(root);
        free(root);
        return NULL;
    }
    return root;
}

static inline void json_node_free(JsonNode *node)
{
    if (!node)
        return;
    json_node_release(node);
    free(node);
}

/* The node at JSON Pointer `pointer` ("" is `node` itself; "/a/0/b";
 * "~1" stands for '/' and "~0" for '~' in a key), NULL when absent. */
static inline const JsonNode *json_node_at(const JsonNode *node, const char *pointer)
{
    if (!pointer)
        return NULL;
    while (node && *pointer == '/') {
        pointer++;
        char token[256];
        size_t used = 0;
        while (*pointer && *pointer != '/' && used + 1 < sizeof token) {
            if (pointer[0] == '~' && (pointer[1] == '0' || pointer[1] == '1')) {
                token[used++] = pointer[1] == '0' ? '~' : '/';
                pointer += 2;
            } else {
                token[used++] = *pointer++;
            }
        }
        token[used] = 0;
        const JsonNode *next = NULL;
        if (node->kind == JSON_NODE_OBJECT) {
            for (size_t i = 0; i < node->count && !next; i++)
                if (strcmp(node->keys[i], token) == 0)
                    next = &node->items[i];
        } else if (node->kind == JSON_NODE_ARRAY && used > 0 &&
                   strspn(token, "0123456789") == used && (token[0] != '0' || used == 1)) {
            size_t index = strtoul(token, NULL, 10);
            if (index < node->count)
                next = &node->items[index];
        }
        node = next;
    }
    return *pointer == 0 ? node : NULL;
}

/* The string at `pointer`, NULL when absent or not a string. */
static inline const char *json_node_string(const JsonNode *node, const char *pointer)
{
    const JsonNode *found = json_node_at(node, pointer);
    return found && found->kind == JSON_NODE_STRING ? found->text : NULL;
}

/* The number at `pointer`, NAN when absent or not a number. */
static inline double json_node_number(const JsonNode *node, const char *pointer)
{
    const JsonNode *found = json_node_at(node, pointer);
    return found && found->kind == JSON_NODE_NUMBER ? found->number : NAN;
}

/* The members of the array or object at `pointer`, -1 when it is neither. */
static inline long json_node_count(const JsonNode *node, const char *pointer)
{
    const JsonNode *found = json_node_at(node, pointer);
    return found && (found->kind == JSON_NODE_ARRAY || found->kind == JSON_NODE_OBJECT)
               ? (long)found->count
               : -1;
}

/* 1 when `pointer` names a JSON null. */
static inline int json_node_is_null(const JsonNode *node, const char *pointer)
{
    const JsonNode *found = json_node_at(node, pointer);
    return found && found->kind == JSON_NODE_NULL;
}

/* 1 when `pointer` names a boolean `value` (0 or 1). */
static inline int json_node_is_bool(const JsonNode *node, const char *pointer, int value)
{
    const JsonNode *found = json_node_at(node, pointer);
    return found && found->kind == JSON_NODE_BOOL && found->boolean == value;
}

#endif
