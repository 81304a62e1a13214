/* mvt.c — the Mapbox Vector Tile 2.1 encoder; see mvt.h.
 *
 * Wire format reminders (vector_tile.proto, spec 2.1):
 *   Tile    { repeated Layer layers = 3; }
 *   Layer   { required uint32 version = 15; required string name = 1;
 *             repeated Feature features = 2; repeated string keys = 3;
 *             repeated Value values = 4; optional uint32 extent = 5; }
 *   Feature { optional uint64 id = 1; repeated uint32 tags = 2 [packed];
 *             optional GeomType type = 3; repeated uint32 geometry = 4 [packed]; }
 *   Value   { string 1; float 2; double 3; int64 4; uint64 5; sint64 6; bool 7; }
 * Fields are written in the order version, name, features, keys, values,
 * extent, like the reference JavaScript writer. */
#include "tiles/mvt.h"
#include "base/array.h"
#include "base/text.h"

#include <stdlib.h>
#include <string.h>

enum {
    WIRE_VARINT = 0,
    WIRE_FIXED64 = 1,
    WIRE_LENGTH = 2,
};

enum { COMMAND_MOVE_TO = 1, COMMAND_LINE_TO = 2, COMMAND_CLOSE_PATH = 7 };

uint32_t mvt_zigzag(int32_t value)
{
    /* The sign bit spread over all bits, without shifting a signed value. */
    uint32_t sign = value < 0 ? UINT32_MAX : 0;
    return ((uint32_t)value << 1) ^ sign;
}

uint32_t mvt_command(uint32_t id, uint32_t count)
{
    return (id & 0x7) | (count << 3);
}

void mvt_write_varint(Buffer *out, uint64_t value)
{
    unsigned char bytes[10];
    size_t length = 0;
    while (value >= 0x80) {
        bytes[length++] = (unsigned char)(value | 0x80);
        value >>= 7;
    }
    bytes[length++] = (unsigned char)value;
    buffer_append(out, bytes, length);
}

static size_t varint_size(uint64_t value)
{
    size_t size = 1;
    while (value >= 0x80) {
        value >>= 7;
        size++;
    }
    return size;
}

static void write_key(Buffer *out, uint32_t field, uint32_t wire_type)
{
    mvt_write_varint(out, ((uint64_t)field << 3) | wire_type);
}

static void write_bytes_field(Buffer *out, uint32_t field, const void *bytes, size_t length)
{
    write_key(out, field, WIRE_LENGTH);
    mvt_write_varint(out, length);
    buffer_append(out, bytes, length);
}

/* --- growable integer arrays ---------------------------------------------- */

static void integers_push(MvtIntegers *integers, uint32_t value)
{
    if (integers->failed)
        return;
    if (array_reserve(integers->items, integers->capacity, integers->count + 1, 64) != 0) {
        integers->failed = 1;
        return;
    }
    integers->items[integers->count++] = value;
}

/* --- dictionaries (keys, values) ------------------------------------------ */

/* A fast non-cryptographic hash (8 bytes per step, multiply-xorshift). */
static uint64_t hash_bytes(const void *bytes, size_t length)
{
    const unsigned char *p = bytes;
    uint64_t hash = 0x9E3779B97F4A7C15ull ^ length;
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        hash = (hash ^ word) * 0xBF58476D1CE4E5B9ull;
        hash ^= hash >> 31;
        p += 8;
        length -= 8;
    }
    uint64_t tail = 0;
    memcpy(&tail, p, length);
    hash = (hash ^ tail) * 0x94D049BB133111EBull;
    return hash ^ (hash >> 29);
}

static void dictionary_init(MvtDictionary *dictionary)
{
    memset(dictionary, 0, sizeof *dictionary);
    buffer_init(&dictionary->bytes);
}

static void dictionary_free(MvtDictionary *dictionary)
{
    buffer_free(&dictionary->bytes);
    free(dictionary->entries);
    hash_slots_free(&dictionary->slots);
    memset(dictionary, 0, sizeof *dictionary);
}

/* Index of `bytes` in the dictionary, added when new; UINT32_MAX when out of
 * memory. With `known_unique`, the caller guarantees the bytes are not in
 * the dictionary yet (a site_id in a tile where each site appears once): no
 * lookup, no slot. */
static uint32_t dictionary_index(MvtDictionary *dictionary, const void *bytes, size_t length,
                                 int known_unique)
{
    if (dictionary->failed)
        return UINT32_MAX;
    if (array_reserve(dictionary->entries, dictionary->capacity, dictionary->count + 1, 32) != 0 ||
        (!known_unique && hash_slots_reserve(&dictionary->slots, 64) != 0)) {
        dictionary->failed = 1;
        return UINT32_MAX;
    }
    HashSlots *slots = &dictionary->slots;
    uint32_t hash = 0;
    size_t slot = 0;
    if (!known_unique) {
        hash = (uint32_t)hash_bytes(bytes, length);
        for (slot = hash_slots_start(slots, hash); slots->values[slot];
             slot = hash_slots_next(slots, slot)) {
            uint32_t entry = (uint32_t)slots->values[slot] - 1;
            const char *stored = dictionary->bytes.data + dictionary->entries[entry].offset;
            if (slots->hashes[slot] == hash && dictionary->entries[entry].length == length &&
                memcmp(stored, bytes, length) == 0)
                return entry;
        }
    }
    uint32_t entry = dictionary->count;
    dictionary->entries[entry].offset = (uint32_t)dictionary->bytes.length;
    dictionary->entries[entry].length = (uint32_t)length;
    buffer_append(&dictionary->bytes, bytes, length);
    if (dictionary->bytes.failed) {
        dictionary->failed = 1;
        return UINT32_MAX;
    }
    if (!known_unique)
        hash_slots_fill(slots, slot, (uint64_t)entry + 1, hash);
    dictionary->count++;
    return entry;
}

static void write_dictionary(Buffer *out, uint32_t field, const MvtDictionary *dictionary)
{
    for (uint32_t entry = 0; entry < dictionary->count; entry++)
        write_bytes_field(out, field, dictionary->bytes.data + dictionary->entries[entry].offset,
                          dictionary->entries[entry].length);
}

/* --- layers and features --------------------------------------------------- */

void mvt_layer_init(MvtLayer *layer, const char *name)
{
    memset(layer, 0, sizeof *layer);
    layer->name = name;
    buffer_init(&layer->features);
    dictionary_init(&layer->keys);
    dictionary_init(&layer->values);
}

void mvt_layer_free(MvtLayer *layer)
{
    buffer_free(&layer->features);
    dictionary_free(&layer->keys);
    dictionary_free(&layer->values);
    free(layer->tags.items);
    free(layer->geometry.items);
    memset(layer, 0, sizeof *layer);
}

void mvt_feature_begin(MvtLayer *layer, MvtGeometryType type, int has_id, uint64_t id)
{
    layer->type = type;
    layer->has_id = has_id;
    layer->id = id;
    layer->tags.count = 0;
    layer->geometry.count = 0;
    layer->cursor_x = 0;
    layer->cursor_y = 0;
}

/* Adds a tag whose value is the encoded Value message in `value`. */
static void add_tag(MvtLayer *layer, const char *key, const unsigned char *value, size_t length,
                    int known_unique)
{
    uint32_t key_index = dictionary_index(&layer->keys, key, strlen(key), 0);
    uint32_t value_index = dictionary_index(&layer->values, value, length, known_unique);
    if (key_index == UINT32_MAX || value_index == UINT32_MAX) {
        layer->failed = 1;
        return;
    }
    integers_push(&layer->tags, key_index);
    integers_push(&layer->tags, value_index);
}

static void add_string_tag(MvtLayer *layer, const char *key, const char *value, int known_unique)
{
    if (!value)
        return;
    size_t length = strlen(value);
    unsigned char small[256];
    if (length + 11 <= sizeof small) { /* key byte + varint length + bytes */
        size_t used = 0;
        small[used++] = (1 << 3) | WIRE_LENGTH; /* string_value */
        uint64_t remaining = length;
        while (remaining >= 0x80) {
            small[used++] = (unsigned char)(remaining | 0x80);
            remaining >>= 7;
        }
        small[used++] = (unsigned char)remaining;
        memcpy(small + used, value, length);
        add_tag(layer, key, small, used + length, known_unique);
        return;
    }
    Buffer encoded;
    buffer_init(&encoded);
    write_bytes_field(&encoded, 1, value, length);
    if (encoded.failed)
        layer->failed = 1;
    else
        add_tag(layer, key, (const unsigned char *)encoded.data, encoded.length, known_unique);
    buffer_free(&encoded);
}

void mvt_feature_string(MvtLayer *layer, const char *key, const char *value)
{
    add_string_tag(layer, key, value, 0);
}

void mvt_feature_unique_string(MvtLayer *layer, const char *key, const char *value)
{
    add_string_tag(layer, key, value, 1);
}

/* Encodes a small Value message (a key and a varint or fixed64) in place. */
static size_t encode_varint_value(unsigned char *out, uint32_t field, uint64_t value)
{
    size_t length = 0;
    out[length++] = (unsigned char)((field << 3) | WIRE_VARINT);
    while (value >= 0x80) {
        out[length++] = (unsigned char)(value | 0x80);
        value >>= 7;
    }
    out[length++] = (unsigned char)value;
    return length;
}

void mvt_feature_integer(MvtLayer *layer, const char *key, int64_t value)
{
    unsigned char encoded[16];
    size_t length;
    if (value >= 0) {
        length = encode_varint_value(encoded, 5, (uint64_t)value); /* uint_value */
    } else {
        uint64_t zigzag = ((uint64_t)value << 1) ^ UINT64_MAX; /* value < 0 */
        length = encode_varint_value(encoded, 6, zigzag);      /* sint_value */
    }
    add_tag(layer, key, encoded, length, 0);
}

void mvt_feature_double(MvtLayer *layer, const char *key, double value)
{
    unsigned char encoded[9];
    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    encoded[0] = (unsigned char)((3 << 3) | WIRE_FIXED64); /* double_value, little endian */
    for (int i = 0; i < 8; i++)
        encoded[1 + i] = (unsigned char)(bits >> (8 * i));
    add_tag(layer, key, encoded, sizeof encoded, 0);
}

void mvt_feature_bool(MvtLayer *layer, const char *key, int value)
{
    unsigned char encoded[2] = {(7 << 3) | WIRE_VARINT, value ? 1 : 0};
    add_tag(layer, key, encoded, sizeof encoded, 0);
}

static void push_command(MvtLayer *layer, uint32_t id, uint32_t count)
{
    integers_push(&layer->geometry, mvt_command(id, count));
}

static void push_point(MvtLayer *layer, MvtPoint point)
{
    integers_push(&layer->geometry, mvt_zigzag(point.x - layer->cursor_x));
    integers_push(&layer->geometry, mvt_zigzag(point.y - layer->cursor_y));
    layer->cursor_x = point.x;
    layer->cursor_y = point.y;
}

int mvt_points(MvtLayer *layer, const MvtPoint *points, size_t count)
{
    if (count == 0)
        return 0;
    push_command(layer, COMMAND_MOVE_TO, (uint32_t)count);
    for (size_t i = 0; i < count; i++)
        push_point(layer, points[i]);
    return 1;
}

/* Copies `points` without consecutive repeats (and, for rings, without a
 * closing point equal to the first) into a new array; returns its length. */
static size_t distinct_points(const MvtPoint *points, size_t count, int ring, MvtPoint **out)
{
    *out = NULL;
    if (count == 0)
        return 0;
    MvtPoint *copy = malloc(count * sizeof *copy);
    if (!copy)
        return 0;
    size_t length = 0;
    for (size_t i = 0; i < count; i++) {
        if (length > 0 && copy[length - 1].x == points[i].x && copy[length - 1].y == points[i].y)
            continue;
        copy[length++] = points[i];
    }
    while (ring && length > 1 && copy[length - 1].x == copy[0].x && copy[length - 1].y == copy[0].y)
        length--;
    *out = copy;
    return length;
}

int mvt_line(MvtLayer *layer, const MvtPoint *points, size_t count)
{
    MvtPoint *line;
    size_t length = distinct_points(points, count, 0, &line);
    if (!line) {
        if (count > 0)
            layer->failed = 1; /* out of memory */
        return 0;
    }
    if (length < 2) {
        free(line);
        return 0;
    }
    push_command(layer, COMMAND_MOVE_TO, 1);
    push_point(layer, line[0]);
    push_command(layer, COMMAND_LINE_TO, (uint32_t)(length - 1));
    for (size_t i = 1; i < length; i++)
        push_point(layer, line[i]);
    free(line);
    return 1;
}

int64_t mvt_ring_area2(const MvtPoint *points, size_t count)
{
    int64_t area2 = 0;
    for (size_t i = 0; i < count; i++) {
        const MvtPoint *a = &points[i], *b = &points[(i + 1) % count];
        area2 += (int64_t)a->x * b->y - (int64_t)b->x * a->y;
    }
    return area2;
}

int mvt_polygon_ring(MvtLayer *layer, const MvtPoint *points, size_t count, int exterior)
{
    MvtPoint *ring;
    size_t length = distinct_points(points, count, 1, &ring);
    if (!ring) {
        if (count > 0)
            layer->failed = 1; /* out of memory */
        return 0;
    }
    int64_t area2 = length >= 3 ? mvt_ring_area2(ring, length) : 0;
    if (area2 == 0) {
        free(ring);
        return 0;
    }
    int reverse = exterior ? area2 < 0 : area2 > 0;
    push_command(layer, COMMAND_MOVE_TO, 1);
    push_point(layer, ring[0]); /* reversed rings keep their first point */
    push_command(layer, COMMAND_LINE_TO, (uint32_t)(length - 1));
    for (size_t i = 1; i < length; i++)
        push_point(layer, ring[reverse ? length - i : i]);
    push_command(layer, COMMAND_CLOSE_PATH, 1);
    free(ring);
    return 1;
}

static size_t packed_size(const MvtIntegers *integers)
{
    size_t size = 0;
    for (size_t i = 0; i < integers->count; i++)
        size += varint_size(integers->items[i]);
    return size;
}

/* Raw writers into memory the caller reserved. */
static unsigned char *put_varint(unsigned char *cursor, uint64_t value)
{
    while (value >= 0x80) {
        *cursor++ = (unsigned char)(value | 0x80);
        value >>= 7;
    }
    *cursor++ = (unsigned char)value;
    return cursor;
}

static unsigned char *put_packed(unsigned char *cursor, uint32_t field, const MvtIntegers *integers,
                                 size_t size)
{
    *cursor++ = (unsigned char)((field << 3) | WIRE_LENGTH);
    cursor = put_varint(cursor, size);
    for (size_t i = 0; i < integers->count; i++)
        cursor = put_varint(cursor, integers->items[i]);
    return cursor;
}

int mvt_feature_end(MvtLayer *layer)
{
    if (layer->tags.failed || layer->geometry.failed)
        layer->failed = 1;
    if (layer->geometry.count == 0 || layer->failed)
        return 0;
    /* The size first, so the feature is written straight into the layer. */
    size_t tags_size = packed_size(&layer->tags), geometry_size = packed_size(&layer->geometry);
    size_t size = 2 + varint_size(geometry_size) + geometry_size; /* type, geometry keys */
    size += varint_size((uint64_t)layer->type);
    if (layer->has_id)
        size += 1 + varint_size(layer->id);
    if (layer->tags.count > 0)
        size += 1 + varint_size(tags_size) + tags_size;
    Buffer *out = &layer->features;
    if (buffer_reserve(out, size + 11) != 0) {
        layer->failed = 1;
        return 0;
    }
    unsigned char *cursor = (unsigned char *)out->data + out->length;
    *cursor++ = (2 << 3) | WIRE_LENGTH;
    cursor = put_varint(cursor, size);
    if (layer->has_id) {
        *cursor++ = (1 << 3) | WIRE_VARINT;
        cursor = put_varint(cursor, layer->id);
    }
    if (layer->tags.count > 0)
        cursor = put_packed(cursor, 2, &layer->tags, tags_size);
    *cursor++ = (3 << 3) | WIRE_VARINT;
    cursor = put_varint(cursor, (uint64_t)layer->type);
    cursor = put_packed(cursor, 4, &layer->geometry, geometry_size);
    out->length = (size_t)(cursor - (unsigned char *)out->data);
    out->data[out->length] = 0;
    layer->feature_count++;
    return 1;
}

int mvt_layer_finish(MvtLayer *layer, Buffer *tile)
{
    if (layer->failed || layer->features.failed || layer->keys.failed || layer->values.failed)
        return -1;
    if (layer->feature_count == 0)
        return 0;
    Buffer body;
    buffer_init(&body);
    write_key(&body, 15, WIRE_VARINT);
    mvt_write_varint(&body, 2);
    write_bytes_field(&body, 1, layer->name, strlen(layer->name));
    buffer_append(&body, layer->features.data, layer->features.length);
    write_dictionary(&body, 3, &layer->keys);
    write_dictionary(&body, 4, &layer->values);
    write_key(&body, 5, WIRE_VARINT);
    mvt_write_varint(&body, MVT_EXTENT);
    int failed = body.failed;
    if (!failed)
        write_bytes_field(tile, 3, body.data, body.length);
    buffer_free(&body);
    return failed || tile->failed ? -1 : 0;
}
