/* fuzz_tiles.c — libFuzzer target `tiles`: the tile route and the MVT
 * encoder.
 *
 * Input, two kinds (the first byte tells):
 *  - anything but 0xFF first: the rest of a tile path after "/tiles/",
 *    "sites/8/129/88.mvt?orpha=3002&role=ccmr&public=enfants" — layer,
 *    z/x/y, the suffix and the filters (orpha, role, public) go through
 *    the real route handler (tile_answer(), with request_target_parse()
 *    before it) on the test dataset (loaded once, fuzz_support.h), so the
 *    encoder is fed the features a fuzzed filter selects; a TileJSON path
 *    works too. Checks: fuzz_support.h's (never a 5xx, problem+json,
 *    strict JSON), and every 200 tile passes mvt_check.h (well-formed
 *    protobuf, version 2, extent 4096, tags and geometry commands whole);
 *  - 0xFF first: a program for the encoder itself (tiles/mvt.h), one
 *    operation per byte: begin a feature (type from
 *    the byte: point, line or polygon), a string, integer, double or bool
 *    tag, a part of the feature's type (points, a line, or a ring, outer
 *    or hole: a count byte, then that many int16 x,y pairs; the clipped
 *    tile coordinates the layers produce stay far inside int16), end the
 *    feature (operation = byte % 7); the layer is then finished into a tile and checked by
 *    mvt_check.h.
 * Seeds (tests/fuzz/tiles/): tiles of every layer over Paris and the
 * overseas départements with filters, TileJSON paths, bad z/x/y, and
 * encoder programs of points, lines and rings with holes. */
#include "fuzz_support.h"
#include "mvt_check.h"

#include "tiles/mvt.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { ENCODER_PROGRAM = 0xFF, MAX_POINTS = 64 };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_dataset();
    return 0;
}

static void check_tile(const char *what, const uint8_t *bytes, size_t length)
{
    const char *why = mvt_check_tile(bytes, length);
    if (why) {
        fprintf(stderr, "fuzz check failed: %s: %s\n", what, why);
        abort();
    }
}

static void answer_route(const uint8_t *data, size_t size)
{
    static const char prefix[] = "/tiles/";
    char *raw = malloc(sizeof prefix + size);
    if (!raw)
        abort();
    memcpy(raw, prefix, sizeof prefix - 1);
    memcpy(raw + sizeof prefix - 1, data, size);
    raw[sizeof prefix - 1 + size] = 0;
    Response response;
    if (fuzz_answer_target(fuzz_dataset(), raw, 0, &response)) {
        fuzz_check_response(&response);
        if (response.status == 200 && response.content_type &&
            strcmp(response.content_type, "application/vnd.mapbox-vector-tile") == 0)
            check_tile("a tile the route answered", (const uint8_t *)response.body.data,
                       response.body.length);
    }
    response_free(&response);
    free(raw);
}

/* The encoder program's input, read without running past its end. */
typedef struct Program {
    const uint8_t *at, *end;
} Program;

static uint8_t next_byte(Program *program)
{
    return program->at < program->end ? *program->at++ : 0;
}

static uint64_t next_u64(Program *program)
{
    uint64_t value = 0;
    for (int i = 0; i < 8; i++)
        value = value << 8 | next_byte(program);
    return value;
}

static size_t next_points(Program *program, MvtPoint *points)
{
    size_t count = next_byte(program) % MAX_POINTS;
    for (size_t i = 0; i < count; i++) {
        int16_t x = (int16_t)(next_byte(program) << 8 | next_byte(program));
        int16_t y = (int16_t)(next_byte(program) << 8 | next_byte(program));
        points[i] = (MvtPoint){x, y};
    }
    return count;
}

static void run_encoder(const uint8_t *data, size_t size)
{
    static const char *const keys[] = {"name", "kind", "count", "site_ids", "population", ""};
    static const char *const texts[] = {"", "sites", "Hôpital Necker", "a|b|c", "1", "\"\\"};
    Program program = {data, data + size};
    MvtLayer layer;
    mvt_layer_init(&layer, "fuzz");
    MvtPoint points[MAX_POINTS];
    MvtGeometryType type = MVT_UNKNOWN; /* of the open feature; MVT_UNKNOWN when none */
    while (program.at < program.end) {
        uint8_t operation = next_byte(&program);
        const char *key = keys[(operation >> 4) % (sizeof keys / sizeof keys[0])];
        switch (operation % 7) {
        case 0:
            type = (MvtGeometryType)(MVT_POINT + (operation >> 4) % 3);
            mvt_feature_begin(&layer, type, operation & 8, next_byte(&program));
            break;
        case 1:
            mvt_feature_string(&layer, key, texts[next_byte(&program) % 6]);
            break;
        case 2:
            mvt_feature_integer(&layer, key, (int64_t)next_u64(&program));
            break;
        case 3: {
            uint64_t bits = next_u64(&program);
            double value;
            memcpy(&value, &bits, sizeof value);
            mvt_feature_double(&layer, key, value);
            break;
        }
        case 4:
            mvt_feature_bool(&layer, key, operation & 16);
            break;
        case 5: {
            /* A part of the open feature's type, as the layers write them. */
            size_t count = next_points(&program, points);
            if (type == MVT_UNKNOWN)
                break;
            if (type == MVT_POINT)
                mvt_points(&layer, points, count);
            else if (type == MVT_LINESTRING)
                mvt_line(&layer, points, count);
            else
                mvt_polygon_ring(&layer, points, count, operation & 16);
            break;
        }
        default:
            mvt_feature_end(&layer);
            type = MVT_UNKNOWN;
            break;
        }
    }
    mvt_feature_end(&layer);
    Buffer tile;
    buffer_init(&tile);
    if (mvt_layer_finish(&layer, &tile) != 0 || tile.failed)
        abort(); /* only out of memory fails, which the fuzzer's limit reports itself */
    check_tile("a tile the encoder wrote", (const uint8_t *)tile.data, tile.length);
    buffer_free(&tile);
    mvt_layer_free(&layer);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 0 && data[0] == ENCODER_PROGRAM)
        run_encoder(data + 1, size - 1);
    else
        answer_route(data, size);
    return 0;
}
