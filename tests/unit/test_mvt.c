/* test_mvt.c — the MVT encoder against the examples of the specification
 * (vector-tile-spec 2.1, section 4.3.5) for the geometries the tiles hold
 * (points, lines and multilines, polygons and multipolygons with holes;
 * never multipoints: every point feature is one position), zigzag and
 * command integers, winding, key/value dedup, and one small tile byte for
 * byte. */
#include "check.h"
#include "tiles/mvt.h"

#include <stdint.h>
#include <stdlib.h>

static int geometry_equals(const MvtLayer *layer, const uint32_t *expected, size_t count)
{
    if (layer->geometry.count != count) {
        fprintf(stderr, "  geometry has %zu integers, expected %zu\n", layer->geometry.count,
                count);
        return 0;
    }
    for (size_t i = 0; i < count; i++) {
        if (layer->geometry.items[i] != expected[i]) {
            fprintf(stderr, "  geometry[%zu] = %u, expected %u\n", i, layer->geometry.items[i],
                    expected[i]);
            return 0;
        }
    }
    return 1;
}

TEST(zigzag_and_commands)
{
    CHECK(mvt_zigzag(0) == 0, "0");
    CHECK(mvt_zigzag(-1) == 1, "-1");
    CHECK(mvt_zigzag(1) == 2, "1");
    CHECK(mvt_zigzag(-2) == 3, "-2");
    CHECK(mvt_zigzag(2147483647) == 4294967294u, "max");
    CHECK(mvt_zigzag(-2147483647 - 1) == 4294967295u, "min");
    CHECK(mvt_command(1, 1) == 9, "MoveTo(1)");
    CHECK(mvt_command(2, 120) == 962, "LineTo(120)");
    CHECK(mvt_command(7, 1) == 15, "ClosePath");
}

TEST(varints)
{
    Buffer out;
    buffer_init(&out);
    mvt_write_varint(&out, 1);
    mvt_write_varint(&out, 300);
    mvt_write_varint(&out, 4096);
    const unsigned char expected[] = {0x01, 0xAC, 0x02, 0x80, 0x20};
    CHECK(out.length == sizeof expected && memcmp(out.data, expected, sizeof expected) == 0,
          "varint bytes");
    buffer_free(&out);
}

TEST(spec_point)
{
    MvtLayer layer;
    mvt_layer_init(&layer, "test");
    mvt_feature_begin(&layer, MVT_POINT, 0, 0);
    MvtPoint point = {25, 17};
    mvt_points(&layer, &point, 1);
    const uint32_t point_expected[] = {9, 50, 34};
    CHECK(geometry_equals(&layer, point_expected, 3), "point");
    mvt_layer_free(&layer);
}

TEST(spec_lines)
{
    MvtLayer layer;
    mvt_layer_init(&layer, "test");
    mvt_feature_begin(&layer, MVT_LINESTRING, 0, 0);
    MvtPoint line[] = {{2, 2}, {2, 10}, {10, 10}};
    CHECK(mvt_line(&layer, line, 3) == 1, "written");
    const uint32_t line_expected[] = {9, 4, 4, 18, 0, 16, 16, 0};
    CHECK(geometry_equals(&layer, line_expected, 8), "linestring");
    MvtPoint second[] = {{1, 1}, {3, 5}};
    CHECK(mvt_line(&layer, second, 2) == 1, "written");
    const uint32_t multi_expected[] = {9, 4, 4, 18, 0, 16, 16, 0, 9, 17, 17, 10, 4, 8};
    CHECK(geometry_equals(&layer, multi_expected, 14), "multilinestring (cursor carries on)");
    /* A line collapsed to one point is dropped. */
    MvtPoint collapsed[] = {{7, 7}, {7, 7}};
    CHECK(mvt_line(&layer, collapsed, 2) == 0, "degenerate line dropped");
    CHECK(layer.geometry.count == 14, "nothing written for it");
    mvt_layer_free(&layer);
}

TEST(spec_polygons_and_winding)
{
    MvtLayer layer;
    mvt_layer_init(&layer, "test");
    mvt_feature_begin(&layer, MVT_POLYGON, 0, 0);
    MvtPoint triangle[] = {{3, 6}, {8, 12}, {20, 34}, {3, 6}};
    CHECK(mvt_polygon_ring(&layer, triangle, 4, 1) == 1, "written");
    const uint32_t polygon_expected[] = {9, 6, 12, 18, 10, 12, 24, 44, 15};
    CHECK(geometry_equals(&layer, polygon_expected, 9), "polygon");

    /* The same triangle given the other way round is reversed. */
    mvt_feature_begin(&layer, MVT_POLYGON, 0, 0);
    MvtPoint reversed[] = {{3, 6}, {20, 34}, {8, 12}};
    CHECK(mvt_polygon_ring(&layer, reversed, 3, 1) == 1, "written");
    CHECK(mvt_ring_area2(reversed, 3) < 0, "input is counter-clockwise on screen");
    CHECK(geometry_equals(&layer, polygon_expected, 9), "reversed, from the same first point");

    /* The multipolygon example of the spec: two exteriors, one hole. */
    mvt_feature_begin(&layer, MVT_POLYGON, 0, 0);
    MvtPoint first[] = {{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}};
    MvtPoint second[] = {{11, 11}, {20, 11}, {20, 20}, {11, 20}, {11, 11}};
    MvtPoint hole_wrong_way[] = {{13, 13}, {17, 13}, {17, 17}, {13, 17}, {13, 13}};
    mvt_polygon_ring(&layer, first, 5, 1);
    mvt_polygon_ring(&layer, second, 5, 1);
    mvt_polygon_ring(&layer, hole_wrong_way, 5, 0);
    const uint32_t multi_expected[] = {9, 0,  0,  26, 20, 0, 0, 20, 19, 0, 15, 9, 22, 2, 26, 18, 0,
                                       0, 18, 17, 0,  15, 9, 4, 13, 26, 0, 8,  8, 0,  0, 7,  15};
    CHECK(geometry_equals(&layer, multi_expected, sizeof multi_expected / sizeof(uint32_t)),
          "multipolygon with a hole");

    /* Degenerate rings are dropped. */
    mvt_feature_begin(&layer, MVT_POLYGON, 0, 0);
    MvtPoint flat[] = {{0, 0}, {5, 5}, {10, 10}, {0, 0}};
    CHECK(mvt_polygon_ring(&layer, flat, 4, 1) == 0, "zero-area ring dropped");
    MvtPoint two[] = {{0, 0}, {5, 5}, {5, 5}, {0, 0}};
    CHECK(mvt_polygon_ring(&layer, two, 4, 1) == 0, "two-point ring dropped");
    CHECK(layer.geometry.count == 0, "nothing written");
    CHECK(mvt_feature_end(&layer) == 0, "a feature without geometry is not written");
    CHECK(layer.feature_count == 0, "no feature");
    mvt_layer_free(&layer);
}

TEST(small_tile_byte_for_byte)
{
    MvtLayer layer;
    mvt_layer_init(&layer, "points");
    mvt_feature_begin(&layer, MVT_POINT, 1, 1);
    mvt_feature_string(&layer, "hello", "world");
    MvtPoint point = {25, 17};
    mvt_points(&layer, &point, 1);
    CHECK(mvt_feature_end(&layer) == 1, "written");
    Buffer tile;
    buffer_init(&tile);
    CHECK(mvt_layer_finish(&layer, &tile) == 0, "finished");
    const unsigned char expected[] = {
        0x1A, 0x2C,                                       /* Tile.layers, 44 bytes */
        0x78, 0x02,                                       /* version 2 */
        0x0A, 0x06, 'p',  'o',  'i',  'n', 't', 's',      /* name */
        0x12, 0x0D,                                       /* feature, 13 bytes */
        0x08, 0x01,                                       /*   id 1 */
        0x12, 0x02, 0x00, 0x00,                           /*   tags [0, 0] */
        0x18, 0x01,                                       /*   type POINT */
        0x22, 0x03, 0x09, 0x32, 0x22,                     /*   geometry [9, 50, 34] */
        0x1A, 0x05, 'h',  'e',  'l',  'l', 'o',           /* keys */
        0x22, 0x07, 0x0A, 0x05, 'w',  'o', 'r', 'l', 'd', /* values: string */
        0x28, 0x80, 0x20,                                 /* extent 4096 */
    };
    CHECK(tile.length == sizeof expected, "length %zu, expected %zu", tile.length, sizeof expected);
    CHECK(tile.length == sizeof expected && memcmp(tile.data, expected, sizeof expected) == 0,
          "bytes differ");
    buffer_free(&tile);
    mvt_layer_free(&layer);
}

TEST(key_value_dedup)
{
    MvtLayer layer;
    mvt_layer_init(&layer, "dedup");
    MvtPoint point = {1, 1};
    for (int i = 0; i < 100; i++) {
        mvt_feature_begin(&layer, MVT_POINT, 1, (uint64_t)i);
        mvt_feature_string(&layer, "kind", i % 2 ? "odd" : "even");
        mvt_feature_integer(&layer, "n", i % 3);
        mvt_feature_string(&layer, "n_text", "1");
        mvt_feature_integer(&layer, "negative", -5);
        mvt_feature_double(&layer, "ratio", 0.5);
        mvt_feature_bool(&layer, "flag", 1);
        mvt_feature_string(&layer, "absent", NULL);
        mvt_points(&layer, &point, 1);
        mvt_feature_end(&layer);
    }
    CHECK(layer.feature_count == 100, "features %zu", layer.feature_count);
    CHECK(layer.keys.count == 6, "keys %u", layer.keys.count);
    /* even, odd, 0, 1, 2, "1", -5, 0.5, true */
    CHECK(layer.values.count == 9, "values %u", layer.values.count);
    /* Many distinct values make the tables grow. */
    char text[32];
    for (int i = 0; i < 1000; i++) {
        mvt_feature_begin(&layer, MVT_POINT, 0, 0);
        snprintf(text, sizeof text, "value %d", i);
        mvt_feature_string(&layer, "kind", text);
        mvt_points(&layer, &point, 1);
        mvt_feature_end(&layer);
    }
    CHECK(layer.values.count == 1009, "values %u", layer.values.count);
    CHECK(!layer.failed, "no failure");
    Buffer tile;
    buffer_init(&tile);
    CHECK(mvt_layer_finish(&layer, &tile) == 0 && tile.length > 0, "finished");
    buffer_free(&tile);
    mvt_layer_free(&layer);
}

TEST(empty_layer_writes_nothing)
{
    MvtLayer layer;
    mvt_layer_init(&layer, "empty");
    Buffer tile;
    buffer_init(&tile);
    CHECK(mvt_layer_finish(&layer, &tile) == 0, "ok");
    CHECK(tile.length == 0, "no bytes");
    buffer_free(&tile);
    mvt_layer_free(&layer);
}

int main(void)
{
    RUN(zigzag_and_commands);
    RUN(varints);
    RUN(spec_point);
    RUN(spec_lines);
    RUN(spec_polygons_and_winding);
    RUN(small_tile_byte_for_byte);
    RUN(key_value_dedup);
    RUN(empty_layer_writes_nothing);
    return CHECK_SUMMARY("test_mvt");
}
