/* test_base.c — unit tests for the base/ layer: csv.c, text.c, json.c and
 * geodesy.c, the edge cases the importers and the API rely on; and the
 * tests' own JSON reader (json_read.h), which must accept what json.h
 * writes and refuse what is not JSON, or the tests that read answers with
 * it would prove nothing. */
#include "base/buffer.h"
#include "base/byte_budget.h"
#include "base/csv.h"
#include "base/geodesy.h"
#include "base/huge_pages.h"
#include "base/json.h"
#include "base/once_blobs.h"
#include "base/sort.h"
#include "base/text.h"
#include "base/text_encoding.h"
#include "check.h"
#include "json_read.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static CsvReader reader;

static void open_text(const char *text)
{
    csv_open_memory(&reader, text, strlen(text), ',');
    reader.check_utf8 = 1;
}

/* buffer_printf() formats short text on the stack and long text (past its
 * 256-byte first try) straight into the buffer; buffer_warn() appends a
 * line to its sink. */
TEST(buffer_printf_short_and_long_and_warn_lines)
{
    char long_text[700];
    memset(long_text, 'x', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = 0;
    Buffer buffer;
    buffer_init(&buffer);
    buffer_printf(&buffer, "[%d]", 42);
    buffer_printf(&buffer, "<%s>", long_text);
    buffer_warn(&buffer, "warned %s", "once");
    buffer_append_char(&buffer, 0);
    CHECK(!buffer.failed && buffer.length == 4 + 701 + 12 + 1, "length %zu", buffer.length);
    CHECK(!buffer.failed && strncmp(buffer.data, "[42]<", 5) == 0 &&
              strncmp(buffer.data + 5, long_text, sizeof long_text - 1) == 0 &&
              strcmp(buffer.data + 4 + 700, ">warned once\n") == 0,
          "\"%.20s...\"", buffer.data ? buffer.data : "");
    buffer_free(&buffer);
}

TEST(csv_quotes_and_embedded_newlines)
{
    open_text("a,b,c\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\nlast,,\n");
    CHECK(csv_next(&reader) == CSV_RECORD, "header");
    CHECK(reader.record_line == 1, "line %ld", reader.record_line);
    CHECK(csv_next(&reader) == CSV_RECORD, "record");
    CHECK(reader.field_count == 3, "fields %zu", reader.field_count);
    CHECK_STRING(reader.fields[0], "x, y");
    CHECK_STRING(reader.fields[1], "say \"hi\"");
    CHECK_STRING(reader.fields[2], "two\nlines");
    CHECK(csv_next(&reader) == CSV_RECORD, "last");
    CHECK(reader.record_line == 4, "line after embedded newline: %ld", reader.record_line);
    CHECK(reader.field_count == 3, "empty fields kept: %zu", reader.field_count);
    CHECK_STRING(reader.fields[1], "");
    CHECK(csv_next(&reader) == CSV_END, "end");
    csv_close(&reader);
}

TEST(csv_bom_crlf_and_blank_lines)
{
    open_text("\xEF\xBB\xBFid,name\r\n1,un\r\n\r\n2,deux");
    CHECK(csv_next(&reader) == CSV_RECORD, "header");
    CHECK_STRING(reader.fields[0], "id");
    CHECK(csv_next(&reader) == CSV_RECORD && reader.record_line == 2, "line 2");
    CHECK_STRING(reader.fields[1], "un");
    CHECK(csv_next(&reader) == CSV_RECORD, "no final newline");
    CHECK(reader.record_line == 4, "blank line counted: %ld", reader.record_line);
    CHECK_STRING(reader.fields[1], "deux");
    CHECK(csv_next(&reader) == CSV_END, "end");
    csv_close(&reader);
}

TEST(csv_malformed_records_do_not_swallow_the_rest)
{
    open_text("a,b\n\"bad\"x,1\n2,\xC3\x28\n3,\"open\n4,ok\n");
    csv_next(&reader);
    CHECK(csv_next(&reader) == CSV_MALFORMED && reader.record_line == 2, "text after quote");
    CHECK(csv_next(&reader) == CSV_MALFORMED && reader.record_line == 3, "invalid UTF-8");
    CHECK(reader.error && strstr(reader.error, "UTF-8"), "reason: %s", reader.error);
    CHECK(csv_next(&reader) == CSV_MALFORMED && reader.record_line == 4, "unterminated");
    CHECK(csv_next(&reader) == CSV_RECORD && reader.record_line == 5, "recovers at line 5: %ld",
          reader.record_line);
    CHECK_STRING(reader.fields[1], "ok");
    csv_close(&reader);
}

TEST(fold_ignores_accents_case_and_punctuation)
{
    char *folded = text_fold_copy("  Drépanocytose  et maladies-associées (Œdème) ");
    CHECK_STRING(folded, "drepanocytose et maladies associees oedeme");
    free(folded);
    folded = text_fold_copy("CRÉTEIL");
    CHECK_STRING(folded, "creteil");
    free(folded);
    folded = text_fold_copy("\xC2\xA0"
                            "Saint-Étienne\xE2\x80\x93Ville");
    CHECK_STRING(folded, "saint etienne ville");
    free(folded);
}

TEST(fold_of_text_without_letters_is_empty)
{
    char *folded = text_fold_copy(" - ");
    CHECK_STRING(folded, "");
    free(folded);
    Buffer reserved;
    buffer_init(&reserved);
    CHECK(buffer_reserve(&reserved, 10) == 0 && reserved.data[0] == 0, "fresh block not empty");
    buffer_free(&reserved);
}

TEST(strict_decimal_parsing)
{
    double value;
    CHECK(parse_decimal("48.85", &value) == 0 && value == 48.85, "plain");
    CHECK(parse_decimal("-2.5e1", &value) == 0 && value == -25, "exponent");
    const char *bad[] = {"",     "nan",   "NaN", "inf", "-inf", "1e999",
                         "0x10", "1.2.3", " 1",  "1 ",  "+",    "."};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(parse_decimal(bad[i], &value) != 0, "accepted '%s'", bad[i]);
    int64_t integer;
    CHECK(parse_integer("100", 1, 100, &integer) == 0 && integer == 100, "integer");
    CHECK(parse_integer("0", 1, 100, &integer) != 0, "below range");
    CHECK(parse_integer("1000000000000000000000", 1, 100, &integer) != 0, "overflow");
}

TEST(utf8_validation)
{
    CHECK(utf8_is_valid("é", 2), "é");
    CHECK(!utf8_is_valid("\xC3", 1), "truncated");
    CHECK(!utf8_is_valid("\xC0\xAF", 2), "overlong");
    CHECK(!utf8_is_valid("\xED\xA0\x80", 3), "surrogate");
    Buffer out;
    buffer_init(&out);
    latin1_to_utf8(&out, "H\xD4PITAL", 7);
    CHECK_STRING(out.data, "HÔPITAL");
    buffer_free(&out);
}

TEST(json_writer_escapes_and_never_writes_nan)
{
    Buffer out;
    buffer_init(&out);
    JsonWriter json;
    json_init(&json, &out);
    json_begin_object(&json);
    json_key(&json, "a");
    json_string(&json, "q\"\\\n\x01");
    json_key(&json, "n");
    json_double(&json, NAN, 3);
    json_key(&json, "d");
    json_double(&json, 12.5000, 7);
    json_key(&json, "list");
    json_begin_array(&json);
    json_integer(&json, 1);
    json_integer(&json, 2);
    json_end_array(&json);
    json_end_object(&json);
    CHECK_STRING(out.data, "{\"a\":\"q\\\"\\\\\\n\\u0001\",\"n\":null,\"d\":12.5,\"list\":[1,2]}");
    buffer_free(&out);
}

/* What json.h writes, read back by json_read.h: the same values. */
TEST(json_reader_reads_what_the_writer_writes)
{
    Buffer out;
    buffer_init(&out);
    JsonWriter json;
    json_init(&json, &out);
    json_begin_object(&json);
    json_key(&json, "text");
    json_string(&json, "q\"\\/\n\t\x01\x1f é 𝄞 ~");
    json_key(&json, "empty");
    json_string_or_null(&json, "");
    json_key(&json, "numbers");
    json_begin_array(&json);
    json_integer(&json, -42);
    json_double(&json, 2.3522, 7);
    json_double(&json, NAN, 3);
    json_integer(&json, INT64_MAX);
    json_end_array(&json);
    json_key(&json, "flags");
    json_begin_array(&json);
    json_bool(&json, 1);
    json_bool(&json, 0);
    json_end_array(&json);
    json_key(&json, "a/b~c");
    json_begin_object(&json);
    json_end_object(&json);
    json_end_object(&json);
    char error[128] = "";
    JsonNode *root = json_node_parse(out.data, out.length, error, sizeof error);
    CHECK(root != NULL, "%s in %s", error, out.data);
    CHECK_STRING(json_node_string(root, "/text"), "q\"\\/\n\t\x01\x1f é 𝄞 ~");
    CHECK(json_node_is_null(root, "/empty") && json_node_count(root, "") == 5, "null, 5 members");
    CHECK(json_node_number(root, "/numbers/0") == -42 &&
              json_node_number(root, "/numbers/1") == 2.3522 &&
              json_node_is_null(root, "/numbers/2") &&
              json_node_number(root, "/numbers/3") == (double)INT64_MAX &&
              json_node_count(root, "/numbers") == 4,
          "numbers");
    CHECK(json_node_is_bool(root, "/flags/0", 1) && json_node_is_bool(root, "/flags/1", 0) &&
              !json_node_is_bool(root, "/flags/1", 1),
          "booleans");
    CHECK(json_node_count(root, "/a~1b~0c") == 0, "escaped pointer");
    /* Absent members and wrong kinds. */
    CHECK(json_node_at(root, "/missing") == NULL && json_node_at(root, "/numbers/4") == NULL &&
              json_node_at(root, "/numbers/01") == NULL && json_node_at(root, "/text/0") == NULL &&
              json_node_string(root, "/numbers/0") == NULL &&
              isnan(json_node_number(root, "/text")) && json_node_count(root, "/text") == -1 &&
              json_node_at(root, "numbers") == NULL,
          "absent members");
    json_node_free(root);
    buffer_free(&out);
    /* Escapes the writer never uses, and surrogate pairs. */
    static const char escaped[] = "[\"\\u00e9\\ud834\\udd1e\\b\\f\\r\\/\\u0000x\"]";
    root = json_node_parse(escaped, sizeof escaped - 1, error, sizeof error);
    const JsonNode *text = json_node_at(root, "/0");
    CHECK(text && text->length == 12 && memcmp(text->text, "é𝄞\b\f\r/\0x", 12) == 0, "%s", error);
    json_node_free(root);
}

TEST(json_reader_refuses_what_is_not_json)
{
    static const char *const refused[] = {
        "",
        " ",
        "{",
        "[1,]",
        "{\"a\":1,}",
        "{\"a\" 1}",
        "{a:1}",
        "{\"a\":1,\"a\":2}", /* a repeated key */
        "[1] [2]",
        "01",
        "-",
        "1.",
        ".5",
        "1e",
        "+1",
        "NaN",
        "Infinity",
        "nul",
        "True",
        "'a'",
        "\"a",
        "\"tab\there\"",
        "\"\\x41\"",
        "\"\\u12\"",
        "\"\\ud834\"",
        "\"\\udd1e\"",
        "\"\xff\"",
        "\"\xc3\"",
        "\"\xc0\xaf\"",
        "\"\xed\xa0\x80\"",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        char error[128] = "";
        JsonNode *root = json_node_parse(refused[i], strlen(refused[i]), error, sizeof error);
        CHECK(root == NULL && error[0], "accepted: %s", refused[i]);
        json_node_free(root);
    }
    /* Nesting: 64 levels are read, 70 are refused. */
    for (int levels = 64; levels <= 70; levels += 6) {
        char nested[160];
        memset(nested, '[', (size_t)levels);
        memset(nested + levels, ']', (size_t)levels);
        char error[128] = "";
        JsonNode *root = json_node_parse(nested, 2 * (size_t)levels, error, sizeof error);
        CHECK((root != NULL) == (levels == 64), "%d levels: %s", levels, error);
        json_node_free(root);
    }
    static const char *const accepted[] = {
        "0", "-0.5e+3", " [ ] ", "{}", "\"\"", "null", "[1E2,true,false,null,{\"a\":[]}]"};
    for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
        char error[128] = "";
        JsonNode *root = json_node_parse(accepted[i], strlen(accepted[i]), error, sizeof error);
        CHECK(root != NULL, "refused %s: %s", accepted[i], error);
        json_node_free(root);
    }
}

TEST(reprojection_vectors)
{
    Reprojector *reprojector = reprojector_new();
    double lat, lon;
    char error[128];
    CHECK(reprojector_to_wgs84(reprojector, "LAMBERT_93", 882408.3, 6543019.6, &lat, &lon, error,
                               sizeof error) == 0,
          "%s", error);
    CHECK_NEAR(lat, 45.9624017, 1e-6);
    CHECK_NEAR(lon, 5.3556513, 1e-6);
    /* One vector per UTM zone, from geodata/finess-cs1100507-sample.expected.csv
     * (x/y written with 1 decimal, so 1e-5 degree is about a metre). */
    struct {
        const char *srs;
        double x, y, lat, lon;
    } vectors[] = {
        {"UTM_N20", 657363.0, 1795439.0, 16.23449, -61.52761},                     /* 970100012 */
        {"UTM_N21", 563251.3, 5180273.3, 46.773010, -56.171526},                   /* 970500013 */
        {"UTM_N22", 350888.9, 539238.1, 4.87719188643512, -52.3447382579018},      /* 970300026 */
        {"UTM_S38", 520967.4, 8587640.4, -12.775883674621582, 45.193180084228516}, /* 980500011 */
        {"UTM_S40", 323376.0, 7679604.0, -20.975701, 55.30099},                    /* 970400016 */
    };
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        int status = reprojector_to_wgs84(reprojector, vectors[i].srs, vectors[i].x, vectors[i].y,
                                          &lat, &lon, error, sizeof error);
        CHECK(status == 0, "%s: %s", vectors[i].srs, error);
        CHECK(fabs(lat - vectors[i].lat) < 1e-5 && fabs(lon - vectors[i].lon) < 1e-5,
              "%s: got %.6f %.6f expected %.6f %.6f", vectors[i].srs, lat, lon, vectors[i].lat,
              vectors[i].lon);
    }
    CHECK(reprojector_to_wgs84(reprojector, "FOO_99", 1, 1, &lat, &lon, error, sizeof error) != 0,
          "unknown label accepted");
    CHECK(strstr(error, "FOO_99") != NULL, "reason names the label: %s", error);
    /* Far outside Lambert-93 (found by the csv fuzz target): PROJ gives the
     * south pole, which must not become a site's position. */
    CHECK(reprojector_to_wgs84(reprojector, "LAMBERT_93", 1e300, 2, &lat, &lon, error,
                               sizeof error) != 0,
          "x = 1e300 accepted as %.6f %.6f", lat, lon);
    CHECK(reprojector_to_wgs84(reprojector, "UTM_S40", 323376.0, -1e12, &lat, &lon, error,
                               sizeof error) != 0,
          "y = -1e12 accepted as %.6f %.6f", lat, lon);
    reprojector_free(reprojector);
}

TEST(geodesic_distance_and_chord_bound)
{
    /* Paris (Notre-Dame) to Marseille (Vieux-Port); PROJ's geod gives 661 km. */
    double d = geodesy_distance_m(48.8530, 2.3499, 43.2951, 5.3745);
    CHECK(d > 660000 && d < 662000, "distance %.1f", d);
    double a[3], b[3];
    geodesy_to_ecef(48.8530, 2.3499, a);
    geodesy_to_ecef(43.2951, 5.3745, b);
    double chord = sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) +
                        (a[2] - b[2]) * (a[2] - b[2]));
    CHECK(chord <= d && chord > d * 0.999, "chord %.1f distance %.1f", chord, d);
}

/* The encodings of a spreadsheet export: detection and conversion. */
TEST(spreadsheet_encodings_are_detected_and_converted)
{
    CHECK(text_encoding_detect("site_id,name", 12) == TEXT_ENCODING_UTF8, "ASCII is UTF-8");
    CHECK(text_encoding_detect("H\xC3\xB4pital", 8) == TEXT_ENCODING_UTF8, "UTF-8");
    CHECK(text_encoding_detect("H\xF4pital", 7) == TEXT_ENCODING_LATIN1, "Latin-1");
    CHECK(text_encoding_detect("d\x92"
                               "essai \xE9",
                               9) == TEXT_ENCODING_WINDOWS_1252,
          "’ is 0x92");
    /* A UTF-8 file with one stray byte stays UTF-8 (its row is rejected). */
    const char mixed[] = "\xC3\xA9t\xC3\xA9 \xC3\xA0 \xE9";
    CHECK(text_encoding_detect(mixed, sizeof mixed - 1) == TEXT_ENCODING_UTF8, "mostly UTF-8");
    Buffer out;
    buffer_init(&out);
    CHECK(text_encoding_to_utf8(TEXT_ENCODING_WINDOWS_1252, "\x80 d\x92\xE9", 5, &out) == 0,
          "all defined");
    buffer_append_char(&out, 0);
    CHECK_STRING(out.data, "€ d’é");
    buffer_reset(&out);
    CHECK(text_encoding_to_utf8(TEXT_ENCODING_WINDOWS_1252,
                                "a\x81"
                                "b",
                                3, &out) == 1,
          "0x81 is undefined");
    CHECK(out.length == 3 && !utf8_is_valid(out.data, out.length), "kept raw, invalid UTF-8");
    buffer_reset(&out);
    CHECK(text_encoding_to_utf8(TEXT_ENCODING_LATIN1, "\x92\xE9", 2, &out) == 0, "Latin-1");
    CHECK(out.length == 4 && memcmp(out.data, "\xC2\x92\xC3\xA9", 4) == 0, "U+0092 U+00E9");
    buffer_free(&out);
    TextEncoding encoding = TEXT_ENCODING_AUTO;
    CHECK(text_encoding_from_name("CP1252", &encoding) == 0 &&
              encoding == TEXT_ENCODING_WINDOWS_1252,
          "cp1252");
    CHECK(text_encoding_from_name("iso-8859-15", &encoding) == -1, "-15 is another set");
    CHECK_STRING(text_encoding_name(TEXT_ENCODING_LATIN1), "latin-1");
}

static int compare_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The radix sort equals qsort on every size around its thresholds (the
 * insertion sort below 48, the stack scratch up to 2048), with duplicates
 * and keys using all 32 bits. */
TEST(sort_uint32_equals_qsort)
{
    const size_t sizes[] = {0, 1, 2, 47, 48, 49, 1000, 2047, 2048, 2049, 100000};
    uint64_t state = 88172645463325252ULL;
    for (size_t n = 0; n < sizeof sizes / sizeof sizes[0]; n++) {
        size_t count = sizes[n];
        uint32_t *items = malloc((count + 1) * sizeof *items);
        uint32_t *expected = malloc((count + 1) * sizeof *expected);
        CHECK(items && expected, "memory");
        if (!items || !expected) {
            free(items);
            free(expected);
            return;
        }
        for (size_t i = 0; i < count; i++) {
            state ^= state << 13, state ^= state >> 7, state ^= state << 17;
            items[i] = i % 3 == 0 ? (uint32_t)(state >> 32) : (uint32_t)(state % 500);
        }
        memcpy(expected, items, count * sizeof *items);
        qsort(expected, count, sizeof *expected, compare_u32);
        sort_uint32(items, count);
        CHECK(count == 0 || memcmp(items, expected, count * sizeof *items) == 0,
              "%zu keys: the radix sort differs from qsort", count);
        free(items);
        free(expected);
    }
}

/* Keyed items by (key, then their first order): what a stable sort of
 * items numbered in order gives. */
static int compare_keyed(const void *a, const void *b)
{
    const KeyedItem *x = a, *y = b;
    if (x->key != y->key)
        return (x->key > y->key) - (x->key < y->key);
    return (x->item > y->item) - (x->item < y->item);
}

/* Both radix sorts against qsort, on keys where some digits are the same
 * in every key (the passes skipped) and keys repeat (stability). */
TEST(radix_sorts_skip_uniform_digits_and_keep_equal_keys_in_order)
{
    enum { COUNT = 5000 };
    static KeyedItem items[COUNT], expected[COUNT];
    static uint32_t keys[COUNT], expected_keys[COUNT];
    uint64_t state = 0x2545F4914F6CDD1DULL;
    const uint64_t shapes[] = {0, 1, 0xFFFFF800ULL, (uint64_t)7 << 40, ~(uint64_t)0};
    for (size_t shape = 0; shape < sizeof shapes / sizeof shapes[0]; shape++) {
        for (size_t i = 0; i < COUNT; i++) {
            state ^= state << 13, state ^= state >> 7, state ^= state << 17;
            items[i] = (KeyedItem){(state % 97) * shapes[shape], (uint32_t)i};
            keys[i] = (uint32_t)((state % 97) * (shapes[shape] & 0xFFFFFFFFu));
        }
        memcpy(expected, items, sizeof items);
        memcpy(expected_keys, keys, sizeof keys);
        qsort(expected, COUNT, sizeof *expected, compare_keyed);
        qsort(expected_keys, COUNT, sizeof *expected_keys, compare_u32);
        CHECK(sort_keyed_items(items, COUNT) == 0, "shape %zu: out of memory", shape);
        sort_uint32(keys, COUNT);
        CHECK(memcmp(items, expected, sizeof items) == 0,
              "shape %zu: the keyed sort differs from a stable sort", shape);
        CHECK(memcmp(keys, expected_keys, sizeof keys) == 0,
              "shape %zu: the 32-bit sort differs from qsort", shape);
    }
}

/* Slots are published once, read back byte for byte, and the budget is
 * kept: a put that would pass it is refused and costs nothing. */
TEST(once_blobs_publish_once_within_the_budget)
{
    size_t header = 0;
    OnceBlobs *probe = once_blobs_new(1, 1000);
    CHECK(probe && once_blobs_put(probe, 0, "", 0) == 1, "an empty string is published");
    if (probe)
        header = once_blobs_bytes(probe);
    once_blobs_free(probe);
    OnceBlobs *blobs = once_blobs_new(4, 2 * (header + 5));
    CHECK(blobs != NULL, "a store of 4 slots");
    if (!blobs)
        return;
    size_t length = 99;
    CHECK(once_blobs_get(blobs, 2, &length) == NULL && length == 99, "an empty slot reads NULL");
    CHECK(once_blobs_put(blobs, 2, "hello", 5) == 1, "first put published");
    CHECK(once_blobs_put(blobs, 2, "other", 5) == 0, "a second put to the same slot refused");
    const char *read = once_blobs_get(blobs, 2, &length);
    CHECK(read && length == 5 && memcmp(read, "hello", 5) == 0, "the first string stays");
    CHECK(once_blobs_put(blobs, 0, "world", 5) == 1, "second slot fits the budget");
    CHECK(once_blobs_put(blobs, 1, "x", 1) == 0, "a third string would pass the budget");
    CHECK(once_blobs_get(blobs, 1, &length) == NULL, "the refused slot stays empty");
    CHECK(once_blobs_bytes(blobs) == 2 * (header + 5), "held %zu bytes, expected %zu",
          once_blobs_bytes(blobs), 2 * (header + 5));
    once_blobs_free(blobs);
    once_blobs_free(NULL);
}

static OnceBlobs *raced_blobs;

static void *put_every_slot(void *argument)
{
    char text[32];
    for (size_t slot = 0; slot < 1000; slot++) {
        int length = snprintf(text, sizeof text, "slot %zu by %d", slot, (int)(intptr_t)argument);
        once_blobs_put(raced_blobs, slot, text, (size_t)length);
    }
    return NULL;
}

/* Four threads publishing the same slots: each slot holds one whole
 * string, and the bytes held are exactly those of the winners. */
TEST(once_blobs_racing_puts_keep_one_string)
{
    raced_blobs = once_blobs_new(1000, (size_t)1 << 20);
    CHECK(raced_blobs != NULL, "a store of 1000 slots");
    if (!raced_blobs)
        return;
    pthread_t threads[4];
    int started[4];
    for (int t = 0; t < 4; t++)
        started[t] = pthread_create(&threads[t], NULL, put_every_slot, (void *)(intptr_t)t) == 0;
    for (int t = 0; t < 4; t++)
        if (started[t])
            pthread_join(threads[t], NULL);
    size_t total = 0, bad = 0;
    for (size_t slot = 0; slot < 1000; slot++) {
        size_t length = 0;
        const char *text = once_blobs_get(raced_blobs, slot, &length);
        char prefix[24];
        int prefix_length = snprintf(prefix, sizeof prefix, "slot %zu by ", slot);
        bad += !text || length != (size_t)prefix_length + 1 ||
               memcmp(text, prefix, (size_t)prefix_length) != 0;
        total += length;
    }
    CHECK(bad == 0, "%zu slots lost or mixed their string", bad);
    CHECK(once_blobs_bytes(raced_blobs) > total &&
              once_blobs_bytes(raced_blobs) < total + 1000 * 64,
          "held %zu bytes for %zu bytes of strings", once_blobs_bytes(raced_blobs), total);
    once_blobs_free(raced_blobs);
    raced_blobs = NULL;
}

/* A take passes neither the limit nor the room kept free for someone else,
 * and a refused take changes nothing. */
TEST(byte_budget_keeps_its_limit_and_promised_room)
{
    ByteBudget budget;
    byte_budget_init(&budget, 100);
    CHECK(byte_budget_take(&budget, 60, 0) == 1, "60 of 100 bytes refused");
    CHECK(byte_budget_take(&budget, 41, 0) == 0, "41 bytes taken with 40 free");
    CHECK(byte_budget_take(&budget, 30, 20) == 0, "30 bytes taken though 20 of 40 are promised");
    CHECK(byte_budget_used(&budget) == 60, "a refused take changed the count to %zu",
          byte_budget_used(&budget));
    CHECK(byte_budget_take(&budget, 20, 20) == 1, "20 bytes refused with 40 free and 20 promised");
    CHECK(byte_budget_take(&budget, 20, 0) == 1, "the promised 20 bytes refused");
    CHECK(byte_budget_take(&budget, 1, 0) == 0, "a byte taken past the limit");
    byte_budget_give_back(&budget, 100);
    CHECK(byte_budget_used(&budget) == 0, "%zu bytes held after giving all back",
          byte_budget_used(&budget));
    CHECK(byte_budget_take(&budget, 101, 0) == 0, "more than the limit taken at once");
    CHECK(byte_budget_take(&budget, 1, SIZE_MAX) == 0, "a promise larger than the limit ignored");
}

/* The process's AnonHugePages in kB (/proc/self/smaps_rollup), -1 when
 * unreadable. */
static long anon_huge_kb(void)
{
    FILE *file = fopen("/proc/self/smaps_rollup", "r");
    if (!file)
        return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, file))
        if (sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
            break;
    fclose(file);
    return kb;
}

/* 1 when this kernel has transparent huge pages and they are not turned
 * off ("[never]" selected). */
static int kernel_has_huge_pages(void)
{
    FILE *file = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (!file)
        return 0;
    char setting[128] = "";
    int has_line = fgets(setting, sizeof setting, file) != NULL;
    fclose(file);
    return has_line && strstr(setting, "[never]") == NULL;
}

/* A filled 24 MB array comes back in huge pages with its bytes unchanged;
 * small arrays and NULL are left alone. */
TEST(huge_pages_back_a_filled_array_and_keep_its_bytes)
{
    CHECK(huge_pages_advise(NULL, (size_t)64 << 20) == 0, "NULL");
    size_t small_size = HUGE_PAGES_MIN_BYTES - 1;
    unsigned char *small = malloc(small_size);
    CHECK(small && huge_pages_advise(small, small_size) == 0, "under the minimum");
    free(small);
    size_t size = (size_t)24 << 20;
    uint32_t *words = malloc(size);
    CHECK(words != NULL, "malloc");
    if (!words)
        return;
    for (size_t i = 0; i < size / sizeof *words; i++)
        words[i] = (uint32_t)(i * 2654435761u);
    long before = anon_huge_kb();
    size_t advised = huge_pages_advise(words, size);
    long after = anon_huge_kb();
    if (kernel_has_huge_pages()) {
        /* 24 MB hold at least 11 whole 2 MB pages wherever they start. */
        CHECK(advised >= (size_t)22 << 20 && advised <= size, "advised %zu bytes", advised);
        CHECK(after - before >= (long)(advised >> 10), "AnonHugePages %ld -> %ld kB", before,
              after);
    } else {
        printf("test_base: no transparent huge pages here; only the bytes are checked\n");
    }
    size_t changed = 0;
    for (size_t i = 0; i < size / sizeof *words; i++)
        changed += words[i] != (uint32_t)(i * 2654435761u);
    CHECK(changed == 0, "%zu words changed", changed);
    free(words);
}

int main(void)
{
    RUN(buffer_printf_short_and_long_and_warn_lines);
    RUN(csv_quotes_and_embedded_newlines);
    RUN(csv_bom_crlf_and_blank_lines);
    RUN(csv_malformed_records_do_not_swallow_the_rest);
    RUN(fold_ignores_accents_case_and_punctuation);
    RUN(fold_of_text_without_letters_is_empty);
    RUN(strict_decimal_parsing);
    RUN(utf8_validation);
    RUN(spreadsheet_encodings_are_detected_and_converted);
    RUN(json_writer_escapes_and_never_writes_nan);
    RUN(json_reader_reads_what_the_writer_writes);
    RUN(json_reader_refuses_what_is_not_json);
    RUN(reprojection_vectors);
    RUN(geodesic_distance_and_chord_bound);
    RUN(sort_uint32_equals_qsort);
    RUN(radix_sorts_skip_uniform_digits_and_keep_equal_keys_in_order);
    RUN(byte_budget_keeps_its_limit_and_promised_room);
    RUN(once_blobs_publish_once_within_the_budget);
    RUN(once_blobs_racing_puts_keep_one_string);
    RUN(huge_pages_back_a_filled_array_and_keep_its_bytes);
    return CHECK_SUMMARY("test_base");
}
