/* mvt_read.h — a small Mapbox Vector Tile reader for the C tests (header
 * only), written from the protobuf wire format independently of the
 * encoder (src/tiles/mvt.c) so that it checks it.
 *
 * Owns: decoding one layer of a tile: its version and extent, and per
 * feature its id, type, first point (tile coordinates) and tags resolved
 * to keys and values. Invariants: keys and string values point into the
 * tile's bytes (they live as long as the caller's buffer); a malformed
 * tile, a tag pointing outside the layer's tables or an unknown wire type
 * sets `failed`, never reads out of bounds. Test code only. */
#ifndef MAILLAGE_MVT_READ_H
#define MAILLAGE_MVT_READ_H

#include "base/array.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum MvtReadType {
    MVT_READ_NONE,
    MVT_READ_STRING,
    MVT_READ_INTEGER, /* int, uint or sint */
    MVT_READ_DOUBLE,  /* double or float */
    MVT_READ_BOOL
} MvtReadType;

typedef struct MvtReadValue {
    MvtReadType type;
    const char *text; /* strings: not NUL-terminated, `length` bytes */
    size_t length;
    int64_t integer; /* integers and bools */
    double number;
} MvtReadValue;

typedef struct MvtReadFeature {
    uint64_t id;
    int type;
    int x, y;                    /* the first point (0, 0 when none) */
    size_t first_tag, tag_count; /* in MvtReadLayer.tags */
} MvtReadFeature;

typedef struct MvtReadTag {
    uint32_t key, value; /* indexes into MvtReadLayer.keys and .values */
} MvtReadTag;

typedef struct MvtReadLayer {
    const char *name; /* not NUL-terminated, `name_length` bytes */
    size_t name_length;
    int version, extent;
    MvtReadFeature *features;
    size_t feature_count;
    MvtReadValue *keys, *values; /* keys: strings */
    size_t key_count, value_count, key_capacity, value_capacity;
    MvtReadTag *tags;
    size_t tag_count, tag_capacity;
    int failed;
} MvtReadLayer;

typedef struct MvtReader {
    const unsigned char *data;
    size_t length, position;
    int failed;
} MvtReader;

static inline uint64_t mvt_read_varint(MvtReader *reader)
{
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (reader->position >= reader->length) {
            reader->failed = 1;
            return 0;
        }
        unsigned char byte = reader->data[reader->position++];
        value |= (uint64_t)(byte & 0x7F) << shift;
        if (!(byte & 0x80))
            return value;
    }
    reader->failed = 1;
    return 0;
}

static inline int64_t mvt_read_unzigzag(uint64_t value)
{
    return (int64_t)(value >> 1) ^ -(int64_t)(value & 1);
}

/* The length-delimited field at the reader's position, as a reader. */
static inline MvtReader mvt_read_sub(MvtReader *reader)
{
    uint64_t length = mvt_read_varint(reader);
    MvtReader sub = {reader->data + reader->position, 0, 0, 0};
    if (reader->failed || length > reader->length - reader->position) {
        reader->failed = 1;
        sub.data = NULL;
        return sub;
    }
    sub.length = (size_t)length;
    reader->position += (size_t)length;
    return sub;
}

/* Skips a fixed-size field of `size` bytes. */
static inline void mvt_read_skip_bytes(MvtReader *reader, size_t size, void *copy)
{
    if (reader->length - reader->position < size) {
        reader->failed = 1;
        return;
    }
    if (copy)
        memcpy(copy, reader->data + reader->position, size);
    reader->position += size;
}

static inline void mvt_read_skip(MvtReader *reader, int wire_type)
{
    if (wire_type == 0)
        mvt_read_varint(reader);
    else if (wire_type == 2)
        mvt_read_sub(reader);
    else if (wire_type == 1)
        mvt_read_skip_bytes(reader, 8, NULL);
    else if (wire_type == 5)
        mvt_read_skip_bytes(reader, 4, NULL);
    else
        reader->failed = 1;
}

static inline MvtReadValue mvt_read_value(MvtReader value)
{
    MvtReadValue out = {MVT_READ_NONE, NULL, 0, 0, 0};
    while (!value.failed && value.position < value.length) {
        uint64_t key = mvt_read_varint(&value);
        int field = (int)(key >> 3), wire = (int)(key & 7);
        if (field == 1 && wire == 2) {
            MvtReader text = mvt_read_sub(&value);
            out = (MvtReadValue){MVT_READ_STRING, (const char *)text.data, text.length, 0, 0};
        } else if (field == 2 && wire == 5) {
            float number = 0;
            mvt_read_skip_bytes(&value, 4, &number);
            out = (MvtReadValue){MVT_READ_DOUBLE, NULL, 0, 0, number};
        } else if (field == 3 && wire == 1) {
            double number = 0;
            mvt_read_skip_bytes(&value, 8, &number);
            out = (MvtReadValue){MVT_READ_DOUBLE, NULL, 0, 0, number};
        } else if ((field == 4 || field == 5) && wire == 0)
            out = (MvtReadValue){MVT_READ_INTEGER, NULL, 0, (int64_t)mvt_read_varint(&value), 0};
        else if (field == 6 && wire == 0)
            out = (MvtReadValue){MVT_READ_INTEGER, NULL, 0,
                                 mvt_read_unzigzag(mvt_read_varint(&value)), 0};
        else if (field == 7 && wire == 0)
            out = (MvtReadValue){MVT_READ_BOOL, NULL, 0, mvt_read_varint(&value) != 0, 0};
        else
            mvt_read_skip(&value, wire);
    }
    return out;
}

/* Reads one Feature message into `feature` and its tags into `layer`. */
static inline void mvt_read_feature(MvtReader reader, MvtReadLayer *layer, MvtReadFeature *feature)
{
    memset(feature, 0, sizeof *feature);
    feature->first_tag = layer->tag_count;
    while (!reader.failed && reader.position < reader.length) {
        uint64_t key = mvt_read_varint(&reader);
        int field = (int)(key >> 3), wire = (int)(key & 7);
        if (field == 1 && wire == 0)
            feature->id = mvt_read_varint(&reader);
        else if (field == 3 && wire == 0)
            feature->type = (int)mvt_read_varint(&reader);
        else if (field == 2 && wire == 2) {
            MvtReader tags = mvt_read_sub(&reader);
            while (!tags.failed && tags.position < tags.length && !layer->failed) {
                if (array_reserve(layer->tags, layer->tag_capacity, layer->tag_count + 1, 64) !=
                    0) {
                    layer->failed = 1;
                    break;
                }
                MvtReadTag *tag = &layer->tags[layer->tag_count++];
                tag->key = (uint32_t)mvt_read_varint(&tags);
                tag->value = (uint32_t)mvt_read_varint(&tags);
                feature->tag_count++;
            }
            layer->failed |= tags.failed;
        } else if (field == 4 && wire == 2) {
            MvtReader geometry = mvt_read_sub(&reader);
            uint64_t command = mvt_read_varint(&geometry);
            if ((command & 7) == 1 && (command >> 3) >= 1) {
                feature->x = (int)mvt_read_unzigzag(mvt_read_varint(&geometry));
                feature->y = (int)mvt_read_unzigzag(mvt_read_varint(&geometry));
            }
        } else
            mvt_read_skip(&reader, wire);
    }
    layer->failed |= reader.failed;
}

/* Reads the layer named `name` (NULL: the first layer) of the `length`
 * bytes at `data` into `layer` (overwritten; free it with
 * mvt_read_free()). Returns 1 when the layer was found, 0 when the tile has
 * no such layer (an empty tile included); `layer->failed` says the tile or
 * layer was malformed or memory ran out. */
static inline int mvt_read_layer(const void *data, size_t length, const char *name,
                                 MvtReadLayer *layer)
{
    memset(layer, 0, sizeof *layer);
    MvtReader tile = {data, length, 0, 0};
    while (!tile.failed && tile.position < tile.length) {
        uint64_t key = mvt_read_varint(&tile);
        if (key != ((3 << 3) | 2)) {
            mvt_read_skip(&tile, (int)(key & 7));
            continue;
        }
        MvtReader reader = mvt_read_sub(&tile);
        MvtReader *features = NULL;
        size_t feature_count = 0, feature_capacity = 0;
        memset(layer, 0, sizeof *layer);
        layer->version = 1; /* the default of vector_tile.proto */
        while (!reader.failed && reader.position < reader.length && !layer->failed) {
            uint64_t field_key = mvt_read_varint(&reader);
            int field = (int)(field_key >> 3), wire = (int)(field_key & 7);
            if (field == 1 && wire == 2) {
                MvtReader text = mvt_read_sub(&reader);
                layer->name = (const char *)text.data;
                layer->name_length = text.length;
            } else if (field == 15 && wire == 0)
                layer->version = (int)mvt_read_varint(&reader);
            else if (field == 5 && wire == 0)
                layer->extent = (int)mvt_read_varint(&reader);
            else if (field == 2 && wire == 2) {
                if (array_reserve(features, feature_capacity, feature_count + 1, 64) != 0)
                    layer->failed = 1;
                else
                    features[feature_count++] = mvt_read_sub(&reader);
            } else if (field == 3 && wire == 2) {
                MvtReader text = mvt_read_sub(&reader);
                if (array_reserve(layer->keys, layer->key_capacity, layer->key_count + 1, 16) != 0)
                    layer->failed = 1;
                else
                    layer->keys[layer->key_count++] =
                        (MvtReadValue){MVT_READ_STRING, (const char *)text.data, text.length, 0, 0};
            } else if (field == 4 && wire == 2) {
                MvtReader value = mvt_read_sub(&reader);
                if (array_reserve(layer->values, layer->value_capacity, layer->value_count + 1,
                                  64) != 0)
                    layer->failed = 1;
                else
                    layer->values[layer->value_count++] = mvt_read_value(value);
            } else
                mvt_read_skip(&reader, wire);
        }
        layer->failed |= reader.failed;
        int wanted = !name || (layer->name && strlen(name) == layer->name_length &&
                               memcmp(name, layer->name, layer->name_length) == 0);
        if (wanted && !layer->failed) {
            layer->features = calloc(feature_count ? feature_count : 1, sizeof *layer->features);
            layer->failed |= !layer->features;
            for (size_t f = 0; f < feature_count && !layer->failed; f++)
                mvt_read_feature(features[f], layer, &layer->features[f]);
            layer->feature_count = layer->failed ? 0 : feature_count;
            for (size_t t = 0; t < layer->tag_count; t++)
                if (layer->tags[t].key >= layer->key_count ||
                    layer->tags[t].value >= layer->value_count)
                    layer->failed = 1;
        }
        free(features);
        if (wanted)
            return 1;
        free(layer->keys);
        free(layer->values);
        free(layer->tags);
        memset(layer, 0, sizeof *layer);
    }
    layer->failed |= tile.failed;
    return 0;
}

/* Frees what mvt_read_layer() allocated and zeroes the layer. */
static inline void mvt_read_free(MvtReadLayer *layer)
{
    free(layer->features);
    free(layer->keys);
    free(layer->values);
    free(layer->tags);
    memset(layer, 0, sizeof *layer);
}

/* The value of `key` on `feature`, or NULL when it has none. */
static inline const MvtReadValue *mvt_read_property(const MvtReadLayer *layer,
                                                    const MvtReadFeature *feature, const char *key)
{
    size_t key_length = strlen(key);
    for (size_t t = feature->first_tag; t < feature->first_tag + feature->tag_count; t++) {
        const MvtReadValue *name = &layer->keys[layer->tags[t].key];
        if (name->length == key_length && memcmp(name->text, key, key_length) == 0)
            return &layer->values[layer->tags[t].value];
    }
    return NULL;
}

/* The integer (or bool) `key` of `feature`, or `missing` when it has none
 * of that type. */
static inline int64_t mvt_read_integer(const MvtReadLayer *layer, const MvtReadFeature *feature,
                                       const char *key, int64_t missing)
{
    const MvtReadValue *value = mvt_read_property(layer, feature, key);
    return value && (value->type == MVT_READ_INTEGER || value->type == MVT_READ_BOOL)
               ? value->integer
               : missing;
}

/* Copies the string `key` of `feature` into `out` (NUL-terminated,
 * truncated to `size`); returns 1, or 0 (`out` "") when it has none. */
static inline int mvt_read_string(const MvtReadLayer *layer, const MvtReadFeature *feature,
                                  const char *key, char *out, size_t size)
{
    const MvtReadValue *value = mvt_read_property(layer, feature, key);
    int found = value && value->type == MVT_READ_STRING;
    snprintf(out, size, "%.*s", found ? (int)value->length : 0, found ? value->text : "");
    return found;
}

#endif
