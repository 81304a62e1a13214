/* mvt.h — a Mapbox Vector Tile 2.1 encoder.
 *
 * Owns: the protobuf wire format of vector_tile.proto (Tile, Layer, Feature,
 * Value) and the geometry command encoding. A small dedicated writer rather
 * than protobuf-c: no .proto/protoc step in the build, no intermediate
 * message objects, features are written straight into the layer's Buffer
 * and the layer straight into the tile's Buffer (one copy per layer).
 * Invariants:
 *  - every layer has version 2 and an explicit extent (MVT_EXTENT, 4096);
 *  - keys and values are deduplicated per layer: a feature's tags refer to
 *    the first occurrence; values are compared by their encoded bytes, so
 *    the integer 1 and the string "1" stay distinct;
 *  - geometry is in tile coordinates (integers, origin top left, y down);
 *    commands are MoveTo/LineTo/ClosePath with zigzag-encoded deltas, the
 *    cursor running across the parts of one feature;
 *  - polygon rings are written with the winding of the spec: an exterior
 *    ring has a positive area by the surveyor's formula in tile coordinates
 *    (clockwise on screen), an interior ring a negative one; rings are
 *    reversed when needed, and rings with fewer than 3 distinct points or a
 *    zero area are dropped (mvt_polygon_ring() says so);
 *  - a feature with no geometry left is not written at all;
 *  - out of memory marks the layer failed (`failed`): no call reports it,
 *    no feature is written after it, and mvt_layer_finish() returns -1, so
 *    callers check once at the end. */
#ifndef MAILLAGE_MVT_H
#define MAILLAGE_MVT_H

#include "base/buffer.h"
#include "base/slots.h"

#include <stddef.h>
#include <stdint.h>

#define MVT_EXTENT 4096

typedef enum MvtGeometryType {
    MVT_UNKNOWN = 0,
    MVT_POINT = 1,
    MVT_LINESTRING = 2,
    MVT_POLYGON = 3
} MvtGeometryType;

typedef struct MvtPoint {
    int32_t x, y;
} MvtPoint;

/* Deduplicating table of byte strings (keys or encoded values). */
typedef struct MvtDictionary {
    Buffer bytes; /* the entries, each as a length-delimited protobuf field */
    struct {
        uint32_t offset; /* start of the entry's payload in `bytes` */
        uint32_t length; /* payload length of the entry */
    } * entries;
    uint32_t count;
    size_t capacity; /* of `entries` */
    HashSlots slots; /* entry index + 1 */
    int failed;
} MvtDictionary;

/* Small growable array of uint32 (tags, geometry commands). */
typedef struct MvtIntegers {
    uint32_t *items;
    size_t count, capacity;
    int failed;
} MvtIntegers;

typedef struct MvtLayer {
    const char *name;
    Buffer features; /* encoded Feature messages, each with its field tag */
    MvtDictionary keys, values;
    size_t feature_count;
    /* The feature being built. */
    uint64_t id;
    int has_id;
    MvtGeometryType type;
    MvtIntegers tags, geometry;
    int32_t cursor_x, cursor_y;
    int failed;
} MvtLayer;

/* Protobuf primitives, exposed for tests. */
uint32_t mvt_zigzag(int32_t value);
uint32_t mvt_command(uint32_t id, uint32_t count); /* MoveTo 1, LineTo 2, ClosePath 7 */
/* Appends `value` as a protobuf varint (a no-op once `out` has failed). */
void mvt_write_varint(Buffer *out, uint64_t value);

/* Makes an empty layer named `name` (not copied: it must outlive the
 * layer); allocates nothing. */
void mvt_layer_init(MvtLayer *layer, const char *name);
/* Frees everything the layer holds and zeroes it; safe on an initialised
 * layer whatever happened since, failures included. */
void mvt_layer_free(MvtLayer *layer);

/* Starts a feature, discarding any feature not ended; `id` is written when
 * has_id is non-zero. */
void mvt_feature_begin(MvtLayer *layer, MvtGeometryType type, int has_id, uint64_t id);
/* Tags of the current feature: `key` (not NULL) with a value, deduplicated
 * per layer; out of memory marks the layer failed. */
void mvt_feature_string(MvtLayer *layer, const char *key, const char *value); /* NULL: skipped */
/* The same for a value the caller knows is not yet in this layer (such as
 * an identifier present once per tile): no dictionary lookup. */
void mvt_feature_unique_string(MvtLayer *layer, const char *key, const char *value);
/* An integer tag: uint_value when >= 0, else sint_value. */
void mvt_feature_integer(MvtLayer *layer, const char *key, int64_t value);
/* A double_value tag. */
void mvt_feature_double(MvtLayer *layer, const char *key, double value);
/* A bool_value tag, true when `value` is non-zero. */
void mvt_feature_bool(MvtLayer *layer, const char *key, int value);
/* Geometry of the current feature: points (one MoveTo with every point),
 * one line string (repeated points removed; fewer than 2 distinct points:
 * skipped), or one polygon ring (closing point optional). Returns 1 when
 * the part was written, 0 when it was dropped as degenerate (or, for lines
 * and rings, when out of memory: the layer is then marked failed). A
 * failure while appending is only seen at mvt_feature_end(). */
int mvt_points(MvtLayer *layer, const MvtPoint *points, size_t count); /* 0 when count is 0 */
/* One line string (see above). */
int mvt_line(MvtLayer *layer, const MvtPoint *points, size_t count);
/* One ring, wound as an exterior ring when `exterior`, else as a hole. */
int mvt_polygon_ring(MvtLayer *layer, const MvtPoint *points, size_t count, int exterior);
/* Writes the feature into the layer (or discards it when it has no
 * geometry). Returns 1 when written, 0 when discarded or when the layer has
 * failed (out of memory now or earlier). */
int mvt_feature_end(MvtLayer *layer);

/* Appends the layer as Tile field 3 to `tile` (nothing when it holds no
 * feature). Returns 0, or -1 when the layer has failed (`tile` untouched)
 * or `tile` ran out of memory (`tile->failed` set). The layer still needs
 * mvt_layer_free(). */
int mvt_layer_finish(MvtLayer *layer, Buffer *tile);

/* Twice the signed area of a ring by the surveyor's formula, in tile
 * coordinates (positive for an MVT exterior ring). */
int64_t mvt_ring_area2(const MvtPoint *points, size_t count);

#endif
