/* api.c — the JSON API handlers; see api.h.
 *
 * Owns: parameter rules shared by the handlers (orpha, role, public) and the
 * JSON shape of every /api answer. Each handler validates everything first
 * (a 400 problem names the parameter), then answers from the Dataset's
 * snapshot and indexes; no handler reads the database. Decisions beyond the CONTRACT:
 *  - `orpha` accepts "232" or "ORPHA:232"; lat/lon are echoed as parsed;
 *  - a bbox with west == east or south == north is a valid line or point
 *    box (boundaries are inclusive); south > north is a 400;
 *  - every route resolves the language of its human text with
 *    request_language() (`lang`, else Accept-Language, else fr): labels
 *    (orpha_matched, query.label, uncovered) are Orphanet's labels in that
 *    language, messages are written in it, and the nearest query echo says
 *    which (`query.lang`); the results are the same in both. Problem details
 *    stay English (they are for developers). Routes without language-bound
 *    text (places, a structure by id) still check `lang`, so that every
 *    route accepts the same parameter;
 *  - a nearest answer for a condition no selected site covers carries
 *    `uncovered` (index/uncovered.h: the filières linked to it, the more
 *    specific conditions sites cover, at most 20 of them, and their total)
 *    and a `message` that says so plainly;
 *  - every site carries its `source` (the citation of the document or
 *    designation it comes from, CONTRACT); a nearest answer whose first
 *    site is more than 1,000 km away carries a `message` saying how far;
 *  - /api/structures answers application/geo+json and always carries
 *    "truncated" (false when complete);
 *  - an allocation failure while answering is a 503 problem;
 *  - sites (the bulk of large answers) and whole /api/nearest answers are
 *    written by put_* helpers straight into the body, numbers without
 *    printf; their output equals what json.h would write. */
#include "http/api.h"

#include "base/json.h"
#include "base/text.h"
#include "dataset/dataset.h"
#include "http/site_parameters.h"
#include "index/uncovered.h"

#include <assert.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NEAREST_DEFAULT_K 5
#define NEAREST_MAX_K 100
#define STRUCTURES_DEFAULT_LIMIT 1000
#define STRUCTURES_MAX_LIMIT 10000
#define CONDITIONS_DEFAULT_LIMIT 10
#define CONDITIONS_MAX_LIMIT 100
#define PLACES_DEFAULT_LIMIT 10
#define PLACES_MAX_LIMIT 50
#define COORDINATE_DIGITS 7

static void out_of_memory(Response *response)
{
    response_problem(response, 503, "Service unavailable",
                     "the server ran out of memory while answering; retry later");
}

/* --- Shared parameters -------------------------------------------------- */

/* orpha, role and public (site_parameters.h); returns 0, or -1 after a problem. */
static int parse_site_query(const Request *request, Response *response, SiteParameters *query)
{
    return site_parameters_parse(request, request->dataset->snapshot, query, response);
}

static int optional_integer(const Request *request, Response *response, const char *name,
                            int64_t minimum, int64_t maximum, int64_t fallback, int64_t *value)
{
    *value = fallback;
    return request_integer(request, name, minimum, maximum, value, response) < 0 ? -1 : 0;
}

/* A required text parameter with at least one non-blank character. */
static int required_text(const Request *request, Response *response, const char *name,
                         const char **value)
{
    int status = request_text(request, name, value, response);
    if (status < 0)
        return -1;
    const char *p = status ? *value : "";
    while (isspace((unsigned char)*p))
        p++;
    if (!*p) {
        response_problem(response, 400, "Missing parameter",
                         "the parameter '%s' is required and must not be empty", name);
        return -1;
    }
    return 0;
}

/* --- Site JSON ----------------------------------------------------------
 *
 * Sites are the bulk of large answers (a 1,000-feature box is ~0.5 MB), so
 * each one is written straight into the body: its worst-case size is
 * reserved once, then bytes are stored through a cursor (no per-field
 * buffer calls, numbers without printf). Texts come from the snapshot's
 * pool with their length and JSON-plain flag (snapshot.h): the worst case
 * needs no strlen, and a plain text is one copy between quotes. The output
 * is byte for byte what json.h would write (same escapes, same number
 * format; tests/unit/test_api_load.c compares them). Callers place the
 * commas between sites; the JsonWriter around them only sees the array. */

/* Where the next byte goes, and the end of the room reserved for the
 * answer: every put_* stays within it (asserted after each write, so a
 * worst-case bound that falls short is caught by the tests, not by a
 * neighbour's memory). */
typedef struct Cursor {
    char *at;
    char *end;
} Cursor;

/* The cursor is within its reserved room. */
#define CURSOR_CHECK(cursor) assert((cursor)->at <= (cursor)->end)
/* Writes one byte. */
#define PUT_CHAR(cursor, byte)                                                                     \
    do {                                                                                           \
        *(cursor)->at++ = (byte);                                                                  \
        CURSOR_CHECK(cursor);                                                                      \
    } while (0)

#define PUT_LITERAL(cursor, text) put_bytes((cursor), (text), sizeof(text) - 1)

/* Room that put_string_or_null() may need for `text`. */
static size_t string_bound(const char *text)
{
    return text && *text ? strlen(text) * 6 + 2 : 4;
}

/* Room that put_text() may need for `ref`: no strlen, and a plain text
 * needs only its length and quotes. */
static size_t text_bound(const Snapshot *snapshot, TextRef ref)
{
    uint32_t header = snapshot_text_header(snapshot, ref);
    size_t length = header >> 1;
    return (header & 1 ? length : length * 6) + 4;
}

static void put_bytes(Cursor *cursor, const char *bytes, size_t length)
{
    assert(length <= (size_t)(cursor->end - cursor->at));
    memcpy(cursor->at, bytes, length);
    cursor->at += length;
}

/* The escapes of json_escape_string(): \" \\ \n \r \t, other controls as
 * \u00XX. */
static void put_string_or_null(Cursor *cursor, const char *text)
{
    static const char hex[] = "0123456789abcdef";
    if (!text || !*text) {
        PUT_LITERAL(cursor, "null");
        return;
    }
    char *at = cursor->at;
    *at++ = '"';
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        if (*c >= 0x20 && *c != '"' && *c != '\\') {
            *at++ = (char)*c;
            continue;
        }
        *at++ = '\\';
        switch (*c) {
        case '"':
            *at++ = '"';
            break;
        case '\\':
            *at++ = '\\';
            break;
        case '\n':
            *at++ = 'n';
            break;
        case '\r':
            *at++ = 'r';
            break;
        case '\t':
            *at++ = 't';
            break;
        default:
            memcpy(at, "u00", 3);
            at[3] = hex[*c >> 4];
            at[4] = hex[*c & 15];
            at += 5;
        }
    }
    *at++ = '"';
    cursor->at = at;
    CURSOR_CHECK(cursor);
}

/* A pool text as put_string_or_null() writes it: a plain one (the common
 * case) is one copy between quotes. */
static void put_text(Cursor *cursor, const Snapshot *snapshot, TextRef ref)
{
    if (!ref) {
        PUT_LITERAL(cursor, "null");
        return;
    }
    uint32_t header = snapshot_text_header(snapshot, ref);
    if (!(header & 1)) { /* needs escapes */
        put_string_or_null(cursor, snapshot_text(snapshot, ref));
        return;
    }
    size_t length = header >> 1;
    char *at = cursor->at;
    *at = '"';
    memcpy(at + 1, snapshot->text_pool + ref, length);
    at[length + 1] = '"';
    cursor->at = at + length + 2;
    CURSOR_CHECK(cursor);
}

static void put_unsigned(Cursor *cursor, uint64_t value)
{
    char digits[24];
    size_t at = sizeof digits;
    do {
        digits[--at] = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    put_bytes(cursor, digits + at, sizeof digits - at);
}

static void put_integer(Cursor *cursor, int64_t value)
{
    if (value < 0) {
        PUT_CHAR(cursor, '-');
        put_unsigned(cursor, (uint64_t)0 - (uint64_t)value);
    } else {
        put_unsigned(cursor, (uint64_t)value);
    }
}

/* json_double()'s own text (printf) when at most 64 bytes, else null. */
static void put_fixed_slowly(Cursor *cursor, double value, int digits)
{
    Buffer text;
    buffer_init(&text);
    JsonWriter json;
    json_init(&json, &text);
    json_double(&json, value, digits);
    if (text.failed || text.length > 64)
        PUT_LITERAL(cursor, "null");
    else
        put_bytes(cursor, text.data, text.length);
    buffer_free(&text);
}

/* `value` with at most `digits` (1..9) decimals, trailing zeros removed,
 * exactly as json_double() writes it; at most 64 bytes. */
static void put_fixed(Cursor *cursor, double value, int digits)
{
    static const double scales[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    double scaled = fabs(value) * scales[digits];
    if (!(scaled < 9e15)) { /* huge or NaN: json_double's own text (null for NaN) */
        put_fixed_slowly(cursor, value, digits);
        return;
    }
    /* llround() without the libm call: scaled is below 2^53, so the
     * truncation and the fraction are exact. But the product is rounded
     * (by at most scaled * 2^-53): a fraction that close to one half may be
     * on the other side of it in the exact value, and printf rounds an
     * exact half to even; both rare cases are left to printf. */
    uint64_t units = (uint64_t)scaled;
    double fraction_part = scaled - (double)units;
    if (fabs(fraction_part - 0.5) <= scaled * 0x1p-52) {
        put_fixed_slowly(cursor, value, digits);
        return;
    }
    units += fraction_part > 0.5;
    uint64_t scale = (uint64_t)scales[digits];
    uint64_t whole = units / scale, fraction = units % scale;
    if (value < 0 && units != 0)
        PUT_CHAR(cursor, '-');
    put_unsigned(cursor, whole);
    if (fraction == 0)
        return;
    char text[10] = {0};
    int length = digits;
    for (int i = digits - 1; i >= 0; i--) {
        text[i] = (char)('0' + fraction % 10);
        fraction /= 10;
    }
    while (length > 0 && text[length - 1] == '0')
        length--;
    PUT_CHAR(cursor, '.');
    put_bytes(cursor, text, (size_t)length);
}

static void put_condition_reference(Cursor *cursor, const Condition *condition, Language language)
{
    if (!condition) {
        PUT_LITERAL(cursor, "null");
        return;
    }
    PUT_LITERAL(cursor, "{\"orpha\":");
    put_integer(cursor, condition->orpha);
    PUT_LITERAL(cursor, ",\"label\":");
    put_string_or_null(cursor, condition_label(condition, language));
    PUT_CHAR(cursor, '}');
}

static const Condition *matched_condition(const Snapshot *snapshot, const Site *site,
                                          const Condition *condition)
{
    const Condition *matched = NULL;
    if (condition)
        snapshot_site_covers(snapshot, site, condition, &matched);
    return matched;
}

/* The coordinating site's site_id, 0 when none. */
static TextRef coordinator_id(const Snapshot *snapshot, const Site *site)
{
    return site->coordinator == SITE_NONE ? 0 : snapshot->sites[site->coordinator].site_id;
}

/* Room for everything append_feature() or put_nearest_result() writes for
 * `site`: its strings escaped at worst (a feature's site_id twice, its
 * codes), plus 1 KB for keys, numbers (64 bytes at most each) and the role
 * and audience names. */
static size_t site_bound(const Snapshot *snapshot, const Site *site, const Condition *matched,
                         Language language)
{
    const SiteDetails *details = site_details(snapshot, site);
    const TextRef texts[] = {site->site_id,      site->site_id,     site->name,
                             site->centre_label, site->filiere,     details->finess,
                             details->phone,     details->address,  details->postcode,
                             details->city,      details->platform, details->responsable,
                             details->service,   details->source,   coordinator_id(snapshot, site)};
    size_t bound = 1024 + (size_t)site->code_count * 12 +
                   string_bound(matched ? condition_label(matched, language) : NULL);
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        bound += text_bound(snapshot, texts[i]);
    return bound;
}

/* A role or audience name (snapshot.c's tables: no byte needs escaping)
 * as a JSON string, or null for NULL. */
static void put_name_or_null(Cursor *cursor, const char *name)
{
    if (!name) {
        PUT_LITERAL(cursor, "null");
        return;
    }
    size_t length = strlen(name);
    char *at = cursor->at;
    *at = '"';
    memcpy(at + 1, name, length);
    at[length + 1] = '"';
    cursor->at = at + length + 2;
    CURSOR_CHECK(cursor);
}

/* "site_id", "name", "role", "centre_label", "filiere" (no braces). */
static void put_site_head(Cursor *cursor, const Snapshot *snapshot, const Site *site)
{
    PUT_LITERAL(cursor, "\"site_id\":");
    put_text(cursor, snapshot, site->site_id);
    PUT_LITERAL(cursor, ",\"name\":");
    put_text(cursor, snapshot, site->name);
    PUT_LITERAL(cursor, ",\"role\":");
    put_name_or_null(cursor, role_name((Role)site->role));
    PUT_LITERAL(cursor, ",\"centre_label\":");
    put_text(cursor, snapshot, site->centre_label);
    PUT_LITERAL(cursor, ",\"filiere\":");
    put_text(cursor, snapshot, site->filiere);
}

/* The descriptive members shared by nearest results and GeoJSON features,
 * each preceded by a comma. */
static void put_site_members(Cursor *cursor, const Snapshot *snapshot, const Site *site)
{
    const SiteDetails *details = site_details(snapshot, site);
    PUT_LITERAL(cursor, ",\"finess\":");
    put_text(cursor, snapshot, details->finess);
    PUT_LITERAL(cursor, ",\"public\":");
    put_name_or_null(cursor, audience_name((Audience)site->audience));
    PUT_LITERAL(cursor, ",\"phone\":");
    put_text(cursor, snapshot, details->phone);
    PUT_LITERAL(cursor, ",\"address\":");
    put_text(cursor, snapshot, details->address);
    PUT_LITERAL(cursor, ",\"postcode\":");
    put_text(cursor, snapshot, details->postcode);
    PUT_LITERAL(cursor, ",\"city\":");
    put_text(cursor, snapshot, details->city);
    PUT_LITERAL(cursor, ",\"coordinator_site_id\":");
    put_text(cursor, snapshot, coordinator_id(snapshot, site));
    PUT_LITERAL(cursor, ",\"platform\":");
    put_text(cursor, snapshot, details->platform);
    PUT_LITERAL(cursor, ",\"source\":");
    put_text(cursor, snapshot, details->source);
}

/* Reserves `bound` bytes of `out` and returns a cursor at its end, or
 * NULL when out of memory (the buffer is then marked failed). */
static int cursor_open(Buffer *out, size_t bound, Cursor *cursor)
{
    if (buffer_reserve(out, bound) != 0)
        return -1;
    cursor->at = out->data + out->length;
    cursor->end = cursor->at + bound;
    return 0;
}

static void cursor_close(Buffer *out, const Cursor *cursor)
{
    CURSOR_CHECK(cursor);
    assert(cursor->end < out->data + out->capacity); /* room for the NUL */
    out->length = (size_t)(cursor->at - out->data);
    out->data[out->length] = 0;
}

/* The members of a site's feature that no request changes: from its "{"
 * to the "]" of its orpha_codes (see append_feature()). */
static void put_feature_fixed(Cursor *cursor, const Snapshot *snapshot, const Site *site)
{
    PUT_LITERAL(cursor, "{\"type\":\"Feature\",\"id\":");
    put_text(cursor, snapshot, site->site_id);
    PUT_LITERAL(cursor, ",\"geometry\":{\"type\":\"Point\",\"coordinates\":[");
    put_fixed(cursor, site->lon, COORDINATE_DIGITS);
    PUT_CHAR(cursor, ',');
    put_fixed(cursor, site->lat, COORDINATE_DIGITS);
    PUT_LITERAL(cursor, "]},\"properties\":{");
    put_site_head(cursor, snapshot, site);
    put_site_members(cursor, snapshot, site);
    const SiteDetails *details = site_details(snapshot, site);
    PUT_LITERAL(cursor, ",\"responsable\":");
    put_text(cursor, snapshot, details->responsable);
    PUT_LITERAL(cursor, ",\"service\":");
    put_text(cursor, snapshot, details->service);
    PUT_LITERAL(cursor, ",\"orpha_codes\":[");
    for (uint32_t i = 0; i < site->code_count; i++) {
        if (i > 0)
            PUT_CHAR(cursor, ',');
        put_integer(cursor, site_codes(snapshot, site)[i]);
    }
    PUT_CHAR(cursor, ']');
}

/* Site `site_index`'s GeoJSON feature, with orpha_matched when a condition
 * is asked. Its fixed members are encoded once per dataset
 * (dataset->features, within a budget) and copied after: a 1,000-site bbox
 * answer is then mostly copies (its CPU cost was 18% sizing and 50%
 * writing strings and numbers, perf on 1M sites). */
static void append_feature(Buffer *out, const Dataset *dataset, uint32_t site_index,
                           const Condition *condition, Language language)
{
    const Snapshot *snapshot = dataset->snapshot;
    assert(site_index < snapshot->site_count);
    const Site *site = &snapshot->sites[site_index];
    const Condition *matched = matched_condition(snapshot, site, condition);
    size_t fixed_length = 0;
    const char *fixed = once_blobs_get(dataset->features, site_index, &fixed_length);
    /* Room for the fixed part and orpha_matched's keys, number and label
     * (site_bound() allows 1 KB for keys and numbers), or for all of it. */
    size_t bound = fixed ? fixed_length + 1024 +
                               string_bound(matched ? condition_label(matched, language) : NULL)
                         : site_bound(snapshot, site, matched, language);
    Cursor cursor;
    if (cursor_open(out, bound, &cursor) != 0)
        return;
    if (fixed) {
        put_bytes(&cursor, fixed, fixed_length);
    } else {
        char *start = cursor.at;
        put_feature_fixed(&cursor, snapshot, site);
        once_blobs_put(dataset->features, site_index, start, (size_t)(cursor.at - start));
    }
    if (condition) {
        PUT_LITERAL(&cursor, ",\"orpha_matched\":");
        put_condition_reference(&cursor, matched, language);
    }
    PUT_LITERAL(&cursor, "}}");
    cursor_close(out, &cursor);
}

/* --- /healthz ----------------------------------------------------------- */

static void handle_health(const Request *request, Response *response)
{
    JsonWriter json;
    json_init(&json, &response->body);
    json_begin_object(&json);
    json_key(&json, "status");
    json_string(&json, "ok");
    json_key(&json, "dataset");
    json_string(&json, request->dataset->snapshot->version);
    json_end_object(&json);
}

/* --- /api/nearest -------------------------------------------------------
 *
 * The whole answer is written through one cursor into one reservation: a
 * nearest request is small (~2 KB for k = 5) and frequent, so its cost is
 * in touching scattered data, not in bytes. The output is byte for byte
 * what json.h would write (tests compare bodies). */

static void put_nearest_result(Cursor *cursor, const Snapshot *snapshot,
                               const NearestResult *result, const Condition *matched,
                               Language language)
{
    const Site *site = &snapshot->sites[result->site];
    PUT_CHAR(cursor, '{');
    put_site_head(cursor, snapshot, site);
    PUT_LITERAL(cursor, ",\"orpha_matched\":");
    put_condition_reference(cursor, matched, language);
    PUT_LITERAL(cursor, ",\"distance_m\":");
    put_fixed(cursor, result->distance_m, 1);
    PUT_LITERAL(cursor, ",\"lat\":");
    put_fixed(cursor, site->lat, COORDINATE_DIGITS);
    PUT_LITERAL(cursor, ",\"lon\":");
    put_fixed(cursor, site->lon, COORDINATE_DIGITS);
    put_site_members(cursor, snapshot, site);
    PUT_CHAR(cursor, '}');
}

typedef struct NearestQuery {
    double lat, lon;
    int64_t k;
    SiteParameters parameters;
    Language language;
    char message[1024]; /* empty unless no site covers the condition, or all are far */
} NearestQuery;

/* Room for the answer around the results: its texts escaped at worst,
 * plus 1 KB for keys, numbers and the role list (~500 bytes at most). */
static size_t nearest_frame_bound(const NearestQuery *query)
{
    const Condition *condition = query->parameters.condition;
    return 1024 + string_bound(condition ? condition_label(condition, query->language) : NULL) +
           string_bound(query->parameters.public_text) + string_bound(query->message);
}

static void put_role_list(Cursor *cursor, const SiteParameters *parameters)
{
    if (!parameters->role_text) {
        PUT_LITERAL(cursor, "null");
        return;
    }
    PUT_CHAR(cursor, '[');
    int first = 1;
    for (int role = 0; role < ROLE_COUNT; role++) {
        if (!(parameters->filter.role_mask & (1u << role)))
            continue;
        if (!first)
            PUT_CHAR(cursor, ',');
        put_name_or_null(cursor, role_name((Role)role));
        first = 0;
    }
    PUT_CHAR(cursor, ']');
}

/* {"query":{...} and the message when there is one. */
static void put_nearest_query(Cursor *cursor, const NearestQuery *query)
{
    const Condition *condition = query->parameters.condition;
    PUT_LITERAL(cursor, "{\"query\":{\"lat\":");
    put_fixed(cursor, query->lat, 9);
    PUT_LITERAL(cursor, ",\"lon\":");
    put_fixed(cursor, query->lon, 9);
    PUT_LITERAL(cursor, ",\"k\":");
    put_integer(cursor, query->k);
    PUT_LITERAL(cursor, ",\"orpha\":");
    if (condition)
        put_integer(cursor, condition->orpha);
    else
        PUT_LITERAL(cursor, "null");
    PUT_LITERAL(cursor, ",\"label\":");
    put_string_or_null(cursor, condition ? condition_label(condition, query->language) : NULL);
    PUT_LITERAL(cursor, ",\"role\":");
    put_role_list(cursor, &query->parameters);
    PUT_LITERAL(cursor, ",\"public\":");
    put_string_or_null(cursor, query->parameters.public_text);
    if (query->language == LANGUAGE_ENGLISH)
        PUT_LITERAL(cursor, ",\"lang\":\"en\"}");
    else
        PUT_LITERAL(cursor, ",\"lang\":\"fr\"}");
    if (query->message[0]) {
        PUT_LITERAL(cursor, ",\"message\":");
        put_string_or_null(cursor, query->message);
    }
}

/* A first pass finds each result's orpha_matched and bound: one short
 * loop that reads all the results' scattered data (codes, texts,
 * coordinator), so their cache misses overlap; the writing pass then
 * finds them cached.
 * (Software prefetch, or bounding and writing one result at a time,
 * measured no faster on the synthetic million sites.) */
static void write_nearest_answer(Buffer *out, const Snapshot *snapshot, const NearestQuery *query,
                                 const NearestResult *results, int count, const Buffer *uncovered)
{
    const Condition *matched[NEAREST_MAX_K];
    size_t bound = nearest_frame_bound(query) + uncovered->length;
    for (int i = 0; i < count; i++) {
        const Site *site = &snapshot->sites[results[i].site];
        matched[i] = matched_condition(snapshot, site, query->parameters.condition);
        bound += site_bound(snapshot, site, matched[i], query->language);
    }
    Cursor cursor;
    if (cursor_open(out, bound, &cursor) != 0)
        return;
    put_nearest_query(&cursor, query);
    PUT_LITERAL(&cursor, ",\"results\":[");
    for (int i = 0; i < count; i++) {
        if (i > 0)
            PUT_CHAR(&cursor, ',');
        put_nearest_result(&cursor, snapshot, &results[i], matched[i], query->language);
    }
    PUT_CHAR(&cursor, ']');
    if (uncovered->length) {
        PUT_LITERAL(&cursor, ",\"uncovered\":");
        put_bytes(&cursor, uncovered->data, uncovered->length);
    }
    PUT_CHAR(&cursor, '}');
    cursor_close(out, &cursor);
}

/* --- When no selected site covers the condition ---------------------------- */

/* At most this many covered conditions are listed (all are counted). */
#define UNCOVERED_MAX_LISTED 20

/* The members "orpha" and "label" of a condition (inside its object). */
static void write_condition_members(JsonWriter *json, const Condition *condition, Language language)
{
    json_key(json, "orpha");
    json_integer(json, condition->orpha);
    json_key(json, "label");
    json_string_or_null(json, condition_label(condition, language));
}

/* The `uncovered` object (see api.c's header and index/uncovered.h). */
static void write_uncovered(Buffer *out, const Condition *condition, const UncoveredHelp *help,
                            Language language)
{
    JsonWriter json;
    json_init(&json, out);
    json_begin_object(&json);
    write_condition_members(&json, condition, language);
    json_key(&json, "filieres");
    json_begin_array(&json);
    for (size_t i = 0; i < help->filiere_count; i++) {
        json_begin_object(&json);
        json_key(&json, "filiere");
        json_string(&json, help->filieres[i].filiere);
        write_condition_members(&json, help->filieres[i].via, language);
        json_end_object(&json);
    }
    json_end_array(&json);
    json_key(&json, "covered_conditions");
    json_begin_array(&json);
    for (size_t i = 0; i < help->covered_count && i < UNCOVERED_MAX_LISTED; i++) {
        const CoveredCondition *covered = &help->covered[i];
        json_begin_object(&json);
        write_condition_members(&json, covered->condition, language);
        json_key(&json, "level");
        json_string_or_null(&json, covered->condition->level);
        json_key(&json, "sites");
        json_integer(&json, covered->sites);
        json_end_object(&json);
    }
    json_end_array(&json);
    json_key(&json, "covered_conditions_total");
    json_integer(&json, (int64_t)help->covered_count);
    json_end_object(&json);
}

/* The plain sentence: nothing covers the condition (with these filters,
 * when sites would cover it without them), and the more specific
 * conditions that are covered, the first of them named. */
static void format_uncovered_message(NearestQuery *query, const UncoveredHelp *help)
{
    const Condition *condition = query->parameters.condition;
    const char *label = condition_label(condition, query->language);
    int english = query->language == LANGUAGE_ENGLISH;
    int filtered = condition->covering_sites > 0;
    int length;
    if (english)
        length = snprintf(query->message, sizeof query->message,
                          "No site of the network covers \"%s\" (ORPHA:%d)%s, directly or through "
                          "a group that contains it.",
                          label ? label : "", (int)condition->orpha,
                          filtered ? " with these filters" : "");
    else
        length = snprintf(query->message, sizeof query->message,
                          "Aucun site du réseau ne couvre « %s » (ORPHA:%d)%s, ni directement ni "
                          "par un groupe qui le contient.",
                          label ? label : "", (int)condition->orpha,
                          filtered ? " avec ces filtres" : "");
    if (help->covered_count == 0 || length < 0 || (size_t)length >= sizeof query->message)
        return;
    const CoveredCondition *first = &help->covered[0];
    const char *first_label = condition_label(first->condition, query->language);
    char *rest = query->message + length;
    size_t room = sizeof query->message - (size_t)length;
    unsigned sites = first->sites;
    if (english && help->covered_count == 1)
        snprintf(rest, room,
                 " Sites cover one more specific condition of this group: \"%s\" (%u %s).",
                 first_label ? first_label : "", sites, sites == 1 ? "site" : "sites");
    else if (english)
        snprintf(rest, room,
                 " Sites cover %zu more specific conditions of this group, among them \"%s\" "
                 "(%u %s).",
                 help->covered_count, first_label ? first_label : "", sites,
                 sites == 1 ? "site" : "sites");
    else if (help->covered_count == 1)
        snprintf(rest, room,
                 " Des sites couvrent une maladie plus précise de ce groupe : « %s » (%u %s).",
                 first_label ? first_label : "", sites, sites == 1 ? "site" : "sites");
    else
        snprintf(rest, room,
                 " Des sites couvrent %zu maladies plus précises de ce groupe, dont « %s » "
                 "(%u %s).",
                 help->covered_count, first_label ? first_label : "", sites,
                 sites == 1 ? "site" : "sites");
}

/* Fills `uncovered` (the object's JSON) and the message for a condition
 * no selected site covers. Returns 0, or -1 when out of memory. */
static int explain_uncovered(const Snapshot *snapshot, NearestQuery *query, Buffer *uncovered)
{
    UncoveredHelp help;
    if (uncovered_help_compute(snapshot, query->parameters.condition, &query->parameters.filter,
                               &help) != 0)
        return -1;
    format_uncovered_message(query, &help);
    write_uncovered(uncovered, query->parameters.condition, &help, query->language);
    uncovered_help_free(&help);
    return uncovered->failed ? -1 : 0;
}

/* Beyond this distance the nearest site is in another territory (Paris to
 * Ajaccio is 900 km, to Fort-de-France 6,850 km): the answer says so. */
#define NEAREST_FAR_M 1000e3

/* The kilometres of `metres` with the thousands separated as the language
 * writes them: a narrow no-break space in French ("9 364"), a comma in
 * English ("9,364"). */
static void format_kilometres(double metres, Language language, char *text, size_t size)
{
    long kilometres = lround(metres / 1000);
    if (kilometres < 1000)
        snprintf(text, size, "%ld", kilometres);
    else
        snprintf(text, size, language == LANGUAGE_ENGLISH ? "%ld,%03ld" : "%ld\u202f%03ld",
                 kilometres / 1000, kilometres % 1000);
}

static void format_far_message(NearestQuery *query, double distance_m)
{
    char kilometres[32];
    format_kilometres(distance_m, query->language, kilometres, sizeof kilometres);
    const Condition *condition = query->parameters.condition;
    const char *label = condition ? condition_label(condition, query->language) : NULL;
    if (query->language == LANGUAGE_ENGLISH && condition)
        snprintf(query->message, sizeof query->message,
                 "The nearest site that covers \"%s\" is %s km away: no site of this network in "
                 "your territory.",
                 label ? label : "", kilometres);
    else if (query->language == LANGUAGE_ENGLISH)
        snprintf(query->message, sizeof query->message,
                 "The nearest site is %s km away: no site of this network in your territory.",
                 kilometres);
    else if (condition)
        snprintf(query->message, sizeof query->message,
                 "Le site le plus proche qui couvre « %s » est à %s km : aucun site de ce "
                 "réseau dans votre territoire.",
                 label ? label : "", kilometres);
    else
        snprintf(query->message, sizeof query->message,
                 "Le site le plus proche est à %s km : aucun site de ce réseau dans votre "
                 "territoire.",
                 kilometres);
}

static void handle_nearest(const Request *request, Response *response)
{
    const Snapshot *snapshot = request->dataset->snapshot;
    NearestQuery query;
    query.message[0] = 0;
    if (request_required_decimal(request, "lat", -90, 90, &query.lat, response) != 0 ||
        request_required_decimal(request, "lon", -180, 180, &query.lon, response) != 0 ||
        optional_integer(request, response, "k", 1, NEAREST_MAX_K, NEAREST_DEFAULT_K, &query.k) !=
            0 ||
        parse_site_query(request, response, &query.parameters) != 0 ||
        request_language(request, &query.language, response) != 0)
        return;
    const Condition *condition = query.parameters.condition;
    NearestResult results[NEAREST_MAX_K];
    int count = 0;
    if (!condition || condition->covering_sites > 0) {
        count =
            spatial_index_nearest(request->dataset->index, snapshot, query.lat, query.lon,
                                  condition, &query.parameters.filter, (size_t)query.k, results);
        if (count < 0) {
            out_of_memory(response);
            return;
        }
        if (count > 0 && results[0].distance_m > NEAREST_FAR_M)
            format_far_message(&query, results[0].distance_m);
    }
    Buffer uncovered; /* stays empty (nothing allocated) unless nothing covers the condition */
    buffer_init(&uncovered);
    if (condition && count == 0 && explain_uncovered(snapshot, &query, &uncovered) != 0) {
        buffer_free(&uncovered);
        out_of_memory(response);
        return;
    }
    write_nearest_answer(&response->body, snapshot, &query, results, count, &uncovered);
    buffer_free(&uncovered);
}

/* --- /api/structures ---------------------------------------------------- */

/* Parses "W,S,E,N"; returns 0, or -1 after a problem. */
static int parse_bbox(const Request *request, Response *response, double box[4])
{
    const char *text;
    if (required_text(request, response, "bbox", &text) != 0)
        return -1;
    static const char *const names[4] = {"west", "south", "east", "north"};
    const char *cursor = text;
    for (int i = 0; i < 4; i++) {
        const char *comma = strchr(cursor, ',');
        size_t length = comma ? (size_t)(comma - cursor) : strlen(cursor);
        char number[64];
        if ((i < 3) != (comma != NULL) || length == 0 || length >= sizeof number) {
            response_problem(response, 400, "Invalid parameter",
                             "the parameter 'bbox' must be four decimal numbers W,S,E,N, got "
                             "'%.100s'",
                             text);
            return -1;
        }
        memcpy(number, cursor, length);
        number[length] = 0;
        double limit = (i % 2 == 0) ? 180 : 90;
        if (parse_decimal(number, &box[i]) != 0 || box[i] < -limit || box[i] > limit) {
            response_problem(response, 400, "Invalid parameter",
                             "bbox %s must be a decimal number in [-%g, %g], got '%s'", names[i],
                             limit, limit, number);
            return -1;
        }
        cursor = comma ? comma + 1 : cursor + length;
    }
    if (box[1] > box[3]) {
        response_problem(response, 400, "Invalid parameter",
                         "bbox south (%g) is greater than north (%g)", box[1], box[3]);
        return -1;
    }
    return 0;
}

static void handle_structures(const Request *request, Response *response)
{
    const Snapshot *snapshot = request->dataset->snapshot;
    double box[4];
    int64_t limit;
    SiteParameters query;
    Language language;
    if (parse_bbox(request, response, box) != 0 ||
        optional_integer(request, response, "limit", 1, STRUCTURES_MAX_LIMIT,
                         STRUCTURES_DEFAULT_LIMIT, &limit) != 0 ||
        parse_site_query(request, response, &query) != 0 ||
        request_language(request, &language, response) != 0)
        return;
    uint32_t *sites = malloc((size_t)limit * sizeof *sites);
    size_t count = 0;
    int truncated = 0;
    if (!sites || spatial_index_box(request->dataset->index, snapshot, box[0], box[1], box[2],
                                    box[3], query.condition, &query.filter, (size_t)limit, sites,
                                    &count, &truncated) != 0) {
        free(sites);
        out_of_memory(response);
        return;
    }
    response->content_type = "application/geo+json";
    buffer_reserve(&response->body, 256 + count * 640); /* one allocation, usually */
    JsonWriter json;
    json_init(&json, &response->body);
    json_begin_object(&json);
    json_key(&json, "type");
    json_string(&json, "FeatureCollection");
    json_key(&json, "features");
    json_begin_array(&json);
    for (size_t i = 0; i < count; i++) {
        if (i > 0)
            buffer_append_char(&response->body, ',');
        append_feature(&response->body, request->dataset, sites[i], query.condition, language);
    }
    json_end_array(&json);
    json_key(&json, "truncated");
    json_bool(&json, truncated);
    json_end_object(&json);
    free(sites);
}

static void handle_structure(const Request *request, Response *response, const char *site_id)
{
    Language language;
    if (request_language(request, &language, response) != 0)
        return;
    const Site *site = *site_id ? snapshot_site(request->dataset->snapshot, site_id) : NULL;
    if (!site) {
        response_problem(response, 404, "Not found", "no site has the site_id '%.64s'", site_id);
        return;
    }
    response->content_type = "application/geo+json";
    append_feature(&response->body, request->dataset,
                   (uint32_t)(site - request->dataset->snapshot->sites), NULL, language);
}

/* --- Search answers ----------------------------------------------------- */

/* Opens {"results":[ for a search that found `count` (>= 0) answers, or
 * writes the problem for an empty query (`query_empty`) or a failure
 * (count < 0) and returns -1. */
static int begin_search_results(JsonWriter *json, Response *response, int count, int query_empty)
{
    if (query_empty) {
        response_problem(response, 400, "Invalid parameter",
                         "the parameter 'q' must hold at least one letter or digit");
        return -1;
    }
    if (count < 0) {
        out_of_memory(response);
        return -1;
    }
    json_init(json, &response->body);
    json_begin_object(json);
    json_key(json, "results");
    json_begin_array(json);
    return 0;
}

/* --- /api/conditions ---------------------------------------------------- */

static void handle_conditions(const Request *request, Response *response)
{
    const char *q;
    int64_t limit;
    Language language;
    if (required_text(request, response, "q", &q) != 0 ||
        request_language(request, &language, response) != 0 ||
        optional_integer(request, response, "limit", 1, CONDITIONS_MAX_LIMIT,
                         CONDITIONS_DEFAULT_LIMIT, &limit) != 0)
        return;
    ConditionMatch matches[CONDITIONS_MAX_LIMIT];
    char code_text[32];
    int count = condition_search_find(request->dataset->conditions, request->dataset->snapshot, q,
                                      language, (size_t)limit, matches, code_text);
    JsonWriter json;
    if (begin_search_results(&json, response, count, count == CONDITION_QUERY_EMPTY) != 0)
        return;
    for (int i = 0; i < count; i++) {
        const Condition *condition = matches[i].condition;
        json_begin_object(&json);
        json_key(&json, "orpha");
        json_integer(&json, condition->orpha);
        json_key(&json, "label");
        json_string_or_null(&json, condition_label(condition, language));
        json_key(&json, "matched");
        json_string_or_null(&json, matches[i].matched);
        json_key(&json, "level");
        json_string_or_null(&json, condition->level);
        json_key(&json, "status");
        json_string_or_null(&json, condition->status);
        json_key(&json, "sites");
        json_integer(&json, condition->covering_sites);
        json_end_object(&json);
    }
    json_end_array(&json);
    json_end_object(&json);
}

/* --- /api/places -------------------------------------------------------- */

static void write_postcodes(JsonWriter *json, const char *postcodes)
{
    json_begin_array(json);
    for (const char *cursor = postcodes; cursor && *cursor;) {
        const char *bar = strchr(cursor, '|');
        size_t length = bar ? (size_t)(bar - cursor) : strlen(cursor);
        char postcode[16];
        if (length > 0 && length < sizeof postcode) {
            memcpy(postcode, cursor, length);
            postcode[length] = 0;
            json_string(json, postcode);
        }
        cursor = bar ? bar + 1 : cursor + length;
    }
    json_end_array(json);
}

static void handle_places(const Request *request, Response *response)
{
    const char *q;
    int64_t limit;
    Language language; /* places are proper names: checked, not used */
    if (required_text(request, response, "q", &q) != 0 ||
        optional_integer(request, response, "limit", 1, PLACES_MAX_LIMIT, PLACES_DEFAULT_LIMIT,
                         &limit) != 0 ||
        request_language(request, &language, response) != 0)
        return;
    const Place *places[PLACES_MAX_LIMIT];
    int count = places_find(request->dataset->places, q, (size_t)limit, places);
    JsonWriter json;
    if (begin_search_results(&json, response, count, count == PLACES_QUERY_EMPTY) != 0)
        return;
    for (int i = 0; i < count; i++) {
        const Place *place = places[i];
        json_begin_object(&json);
        json_key(&json, "code");
        json_string(&json, place->code);
        json_key(&json, "name");
        json_string(&json, place->name);
        json_key(&json, "postcodes");
        write_postcodes(&json, place->postcodes);
        json_key(&json, "departement");
        json_string_or_null(&json, place->departement);
        json_key(&json, "lat");
        json_double(&json, place->lat, 5);
        json_key(&json, "lon");
        json_double(&json, place->lon, 5);
        json_key(&json, "population");
        if (place->population >= 0)
            json_integer(&json, place->population);
        else
            json_null(&json);
        json_end_object(&json);
    }
    json_end_array(&json);
    json_end_object(&json);
}

/* --- Route handlers ------------------------------------------------------ */

void api_health(const Request *request, Response *response, const char *rest)
{
    (void)rest;
    handle_health(request, response);
    response_finish(response);
}

void api_nearest(const Request *request, Response *response, const char *rest)
{
    (void)rest;
    handle_nearest(request, response);
    response_finish(response);
}

void api_structures(const Request *request, Response *response, const char *rest)
{
    (void)rest;
    handle_structures(request, response);
    response_finish(response);
}

void api_structure(const Request *request, Response *response, const char *rest)
{
    handle_structure(request, response, rest);
    response_finish(response);
}

void api_conditions(const Request *request, Response *response, const char *rest)
{
    (void)rest;
    handle_conditions(request, response);
    response_finish(response);
}

void api_places(const Request *request, Response *response, const char *rest)
{
    (void)rest;
    handle_places(request, response);
    response_finish(response);
}
