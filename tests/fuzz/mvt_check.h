/* mvt_check.h — a strict reader of encoded Mapbox Vector Tiles, for the
 * fuzz targets (header only, test code).
 *
 * Owns: walking the protobuf wire format of a tile the encoder wrote and
 * checking it against vector_tile.proto 2.1, without trusting any length:
 * every varint ends inside its message, every length-delimited field fits;
 * a Tile holds only layers (field 3); a layer has version 2, a name,
 * extent 4096 and at least one feature; a feature's tags come in pairs of
 * indexes below the layer's key and value counts, its type is 1..3 and its
 * geometry is whole commands (MoveTo 1 and LineTo 2 with their parameter
 * pairs, ClosePath 7 with none), MoveTo first, ClosePath only in polygons.
 * mvt_check_tile() returns NULL when the tile passes, else what is wrong. */
#ifndef MAILLAGE_FUZZ_MVT_CHECK_H
#define MAILLAGE_FUZZ_MVT_CHECK_H

#include <stddef.h>
#include <stdint.h>

typedef struct MvtReader {
    const uint8_t *at, *end;
} MvtReader;

/* Reads a varint; 0, or -1 when it runs past the end or beyond 10 bytes. */
static inline int mvt_read_varint(MvtReader *reader, uint64_t *value)
{
    *value = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (reader->at >= reader->end)
            return -1;
        uint8_t byte = *reader->at++;
        *value |= (uint64_t)(byte & 0x7F) << shift;
        if (!(byte & 0x80))
            return 0;
    }
    return -1;
}

/* Reads one field's key and, for wire type 2, its payload into *payload;
 * other wire types (0, 1, 5) are read into *value. 0, or -1. */
static inline int mvt_read_field(MvtReader *reader, uint32_t *field, uint32_t *wire,
                                 uint64_t *value, MvtReader *payload)
{
    uint64_t key;
    if (mvt_read_varint(reader, &key) != 0 || (key >> 3) == 0 || (key >> 3) > UINT32_MAX)
        return -1;
    *field = (uint32_t)(key >> 3);
    *wire = (uint32_t)(key & 7);
    switch (*wire) {
    case 0:
        return mvt_read_varint(reader, value);
    case 1:
    case 5: {
        size_t width = *wire == 1 ? 8 : 4;
        if ((size_t)(reader->end - reader->at) < width)
            return -1;
        reader->at += width;
        return 0;
    }
    case 2:
        if (mvt_read_varint(reader, value) != 0 || *value > (uint64_t)(reader->end - reader->at))
            return -1;
        payload->at = reader->at;
        payload->end = reader->at + *value;
        reader->at += *value;
        return 0;
    default:
        return -1;
    }
}

static inline const char *mvt_check_geometry(MvtReader geometry, uint64_t type)
{
    int first = 1;
    while (geometry.at < geometry.end) {
        uint64_t command;
        if (mvt_read_varint(&geometry, &command) != 0 || command > UINT32_MAX)
            return "a geometry command is cut";
        uint64_t id = command & 7, count = command >> 3;
        if (first && id != 1)
            return "a geometry does not start with MoveTo";
        first = 0;
        if (id == 7) {
            if (count != 1 || type != 3)
                return "a ClosePath outside a polygon or with a count";
            continue;
        }
        if ((id != 1 && id != 2) || count == 0)
            return "an unknown geometry command or a zero count";
        if (type == 1 && id != 1)
            return "a point geometry with LineTo";
        for (uint64_t i = 0; i < 2 * count; i++) {
            uint64_t parameter;
            if (mvt_read_varint(&geometry, &parameter) != 0 || parameter > UINT32_MAX)
                return "a geometry parameter is missing or too large";
        }
    }
    return first ? "a feature without geometry" : NULL;
}

static inline const char *mvt_check_feature(MvtReader feature, long keys, long values)
{
    uint64_t type = 0, value;
    MvtReader tags = {0, 0}, geometry = {0, 0}, payload;
    uint32_t field, wire;
    int has_geometry = 0;
    while (feature.at < feature.end) {
        if (mvt_read_field(&feature, &field, &wire, &value, &payload) != 0)
            return "a feature field is cut";
        if (field == 2 && wire == 2)
            tags = payload;
        else if (field == 3 && wire == 0)
            type = value;
        else if (field == 4 && wire == 2) {
            geometry = payload;
            has_geometry = 1;
        } else if (field != 1 || wire != 0)
            return "a feature field outside the spec";
    }
    if (type < 1 || type > 3)
        return "a feature type outside 1..3";
    if (!has_geometry)
        return "a feature without geometry";
    long index = 0;
    while (tags.at < tags.end) {
        if (mvt_read_varint(&tags, &value) != 0)
            return "a tag is cut";
        if ((long)value >= (index % 2 == 0 ? keys : values) || value > INT32_MAX)
            return "a tag index past the layer's keys or values";
        index++;
    }
    if (index % 2 != 0)
        return "an odd number of tag indexes";
    return mvt_check_geometry(geometry, type);
}

static inline const char *mvt_check_layer(MvtReader layer)
{
    uint64_t version = 0, extent = 4096, value;
    long keys = 0, values = 0, features = 0;
    int has_name = 0;
    MvtReader payload, scan = layer;
    uint32_t field, wire;
    /* First pass: the counts the features' tags refer to. */
    while (scan.at < scan.end) {
        if (mvt_read_field(&scan, &field, &wire, &value, &payload) != 0)
            return "a layer field is cut";
        if (field == 15 && wire == 0)
            version = value;
        else if (field == 1 && wire == 2)
            has_name = 1;
        else if (field == 3 && wire == 2)
            keys++;
        else if (field == 4 && wire == 2)
            values++;
        else if (field == 5 && wire == 0)
            extent = value;
        else if (field == 2 && wire == 2)
            features++;
        else
            return "a layer field outside the spec";
    }
    if (version != 2 || !has_name || extent != 4096 || features == 0)
        return "a layer without version 2, a name, extent 4096 or a feature";
    while (layer.at < layer.end) {
        mvt_read_field(&layer, &field, &wire, &value, &payload);
        if (field == 2) {
            const char *why = mvt_check_feature(payload, keys, values);
            if (why)
                return why;
        } else if (field == 4) {
            /* A Value holds exactly one of its seven fields. */
            int members = 0;
            MvtReader member = payload, inner;
            while (member.at < member.end) {
                if (mvt_read_field(&member, &field, &wire, &value, &inner) != 0 || field > 7)
                    return "a value is cut or outside the spec";
                members++;
            }
            if (members != 1)
                return "a value without exactly one member";
        }
    }
    return NULL;
}

static inline const char *mvt_check_tile(const uint8_t *bytes, size_t length)
{
    if (length == 0)
        return NULL; /* an empty tile (no layer) */
    MvtReader tile = {bytes, bytes + length}, payload;
    uint32_t field, wire;
    uint64_t value;
    while (tile.at < tile.end) {
        if (mvt_read_field(&tile, &field, &wire, &value, &payload) != 0)
            return "a tile field is cut";
        if (field != 3 || wire != 2)
            return "a tile field that is not a layer";
        const char *why = mvt_check_layer(payload);
        if (why)
            return why;
    }
    return NULL;
}

#endif
