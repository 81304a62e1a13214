/* bench_floor_api.c — a benchmark-only stand-in for src/http/api.c: the floor of
 * the nearest/healthz ratio.
 *
 * What it is: a drop-in replacement of the handlers of src/http/api.h, linked
 * instead of api.o into build/tools/maillage-floor by `make bench` only. It
 * is never installed, never built by `make all` or `make test`, and no test
 * of the product uses it. Everything else in that binary is the real
 * server: `maillage-floor serve ...` runs the same HTTP layer, routing,
 * metrics, ETag, gzip and logging as build/maillage.
 *
 * Why: the benchmark target "/api/nearest reaches >= 80% of /healthz req/s"
 * compares a ~2 kB answer holding k=5 exact geodesic distances with a
 * 40-byte one. This file answers /api/nearest with only the work every exact
 * answer must do whatever its search, so `make bench` can print, from the
 * same run, the best ratio any nearest implementation could reach.
 *
 * Exactly what it does:
 *  - /healthz: the real body, {"status":"ok","dataset":"<snapshot version>"};
 *  - /api/nearest: parses lat and lon like the real handler (request_decimal,
 *    a 400 problem when missing, malformed or out of range), computes k=5
 *    PROJ geodesic distances (geodesy_distance_m) from the query point to 5
 *    points derived from it (offsets of 0.05 to 0.25 degrees), and answers
 *    {"floor":[d1,...,d5],"pad":"xxx..."} padded so that the whole body is
 *    MAILLAGE_FLOOR_BODY_BYTES bytes (environment, read once, default 2150;
 *    tools/bench.sh sets it to the mean size of real nearest answers). No
 *    spatial search, no site lookup, no ORPHAcode parsing;
 *  - the other API routes (/api/structures, /api/conditions, /api/places,
 *    /api/structures/{id}): a 404 problem (the floor benchmark never asks
 *    them); tiles, static files and /metrics are the real ones.
 * Invariants: same Response conventions as src/http/api.c (200
 * application/json, or a problem; a failed body allocation gives a 503
 * problem); the same request gives a byte-identical body. */
#include "http/api.h"

#include "base/geodesy.h"
#include "base/json.h"
#include "dataset/dataset.h"
#include "http/request.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define FLOOR_DISTANCE_COUNT 5
#define FLOOR_DEFAULT_BODY_BYTES 2150
#define FLOOR_MAX_BODY_BYTES (1024 * 1024)

static pthread_once_t body_bytes_once = PTHREAD_ONCE_INIT;
static size_t floor_body_bytes = FLOOR_DEFAULT_BODY_BYTES;

/* Reads MAILLAGE_FLOOR_BODY_BYTES once; keeps the default when it is unset
 * or not a whole number in 1..FLOOR_MAX_BODY_BYTES. */
static void read_body_bytes(void)
{
    const char *text = getenv("MAILLAGE_FLOOR_BODY_BYTES");
    if (!text || !*text)
        return;
    char *end;
    long value = strtol(text, &end, 10);
    if (*end == 0 && value > 0 && value <= FLOOR_MAX_BODY_BYTES)
        floor_body_bytes = (size_t)value;
}

static size_t body_bytes(void)
{
    pthread_once(&body_bytes_once, read_body_bytes);
    return floor_body_bytes;
}

/* A copy of src/http/api.c's handle_health(), kept identical on purpose: the
 * floor compares against the real /healthz. */
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

/* Appends 'x' until the body, with the closing `"}` still to come, is
 * `total` bytes (nothing when it is already that long or longer). */
static void append_padding(Buffer *body, size_t total)
{
    const size_t closing = 2;
    if (body->length + closing >= total)
        return;
    size_t count = total - closing - body->length;
    if (buffer_reserve(body, count) != 0)
        return;
    memset(body->data + body->length, 'x', count);
    body->length += count;
    body->data[body->length] = 0;
}

static void handle_nearest_floor(const Request *request, Response *response)
{
    double lat, lon;
    if (request_required_decimal(request, "lat", -90, 90, &lat, response) != 0 ||
        request_required_decimal(request, "lon", -180, 180, &lon, response) != 0)
        return;
    double distances[FLOOR_DISTANCE_COUNT];
    for (int i = 0; i < FLOOR_DISTANCE_COUNT; i++) {
        double offset = 0.05 * (i + 1);
        double other_lat = lat + (lat > 0 ? -offset : offset);
        distances[i] = geodesy_distance_m(lat, lon, other_lat, lon + offset);
    }
    JsonWriter json;
    json_init(&json, &response->body);
    json_begin_object(&json);
    json_key(&json, "floor");
    json_begin_array(&json);
    for (int i = 0; i < FLOOR_DISTANCE_COUNT; i++)
        json_double(&json, distances[i], 1);
    json_end_array(&json);
    json_key(&json, "pad");
    buffer_append_char(&response->body, '"');
    append_padding(&response->body, body_bytes());
    buffer_append_string(&response->body, "\"}");
}

void api_health(const Request *request, Response *response, const char *rest)
{
    (void)rest;
    handle_health(request, response);
    response_finish(response);
}

void api_nearest(const Request *request, Response *response, const char *rest)
{
    (void)rest;
    handle_nearest_floor(request, response);
    response_finish(response);
}

static void not_in_floor(const Request *request, Response *response)
{
    response_problem(response, 404, "Not found",
                     "the floor server answers only /healthz and "
                     "/api/nearest, not %.200s",
                     request->path);
}

void api_structures(const Request *request, Response *response, const char *rest)
{
    (void)rest;
    not_in_floor(request, response);
}

void api_structure(const Request *request, Response *response, const char *rest)
{
    (void)rest;
    not_in_floor(request, response);
}

void api_conditions(const Request *request, Response *response, const char *rest)
{
    (void)rest;
    not_in_floor(request, response);
}

void api_places(const Request *request, Response *response, const char *rest)
{
    (void)rest;
    not_in_floor(request, response);
}
