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
 *    points derived from it, and answers
 *    {"floor":[d1,...,d5],"pad":"xxx..."} padded so that the whole body is
 *    MAILLAGE_FLOOR_BODY_BYTES bytes (environment, read once, default 2150;
 *    tools/bench.sh sets it to the mean size of real nearest answers). The
 *    5 points lie as far from the query as real answers' sites do: a
 *    geodesic's cost grows with its length (PROJ's geod_inverse measured
 *    0.61 us at 5-25 km, 0.78-0.82 us at 190-760 km), and at 20,000 sites
 *    the answers' median distance is ~110 km. MAILLAGE_FLOOR_DISTANCES_FILE
 *    (read once) names a file of distances in metres, one a line, sampled
 *    by tools/bench.sh from real answers; a query takes 5 consecutive ones
 *    from a place its coordinates choose, each at its own azimuth. Without
 *    the file (or with no valid line) the points are 0.05 to 0.25 degrees
 *    away in latitude and longitude, as before. No
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

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLOOR_DISTANCE_COUNT 5
#define FLOOR_DEFAULT_BODY_BYTES 2150
#define FLOOR_MAX_BODY_BYTES (1024 * 1024)
#define FLOOR_MAX_DISTANCES 100000
/* Metres in a degree of latitude (a mean; the points' exact place does
 * not matter, only how far they are). */
#define FLOOR_METRES_PER_DEGREE 111195.0

/* The environment's settings, read once (read_settings()). */
static pthread_once_t settings_once = PTHREAD_ONCE_INIT;
static size_t floor_body_bytes = FLOOR_DEFAULT_BODY_BYTES;
static double *floor_distances; /* NULL: none given */
static size_t floor_distance_count;

/* Reads MAILLAGE_FLOOR_BODY_BYTES; keeps the default when it is unset or
 * not a whole number in 1..FLOOR_MAX_BODY_BYTES. */
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

/* Reads MAILLAGE_FLOOR_DISTANCES_FILE: its lines that are a distance
 * in 0..20,004 km, at most FLOOR_MAX_DISTANCES of them; other lines are
 * skipped. Leaves floor_distances NULL when there is none. */
static void read_distances(void)
{
    const char *path = getenv("MAILLAGE_FLOOR_DISTANCES_FILE");
    FILE *file = path && *path ? fopen(path, "r") : NULL;
    if (!file)
        return;
    double *values = malloc(FLOOR_MAX_DISTANCES * sizeof *values);
    size_t count = 0;
    char line[64];
    while (values && count < FLOOR_MAX_DISTANCES && fgets(line, sizeof line, file)) {
        char *end;
        double value = strtod(line, &end);
        if (end != line && (*end == '\n' || *end == 0) && value >= 0 && value <= 2.0004e7)
            values[count++] = value;
    }
    fclose(file);
    if (count == 0) {
        free(values);
        return;
    }
    floor_distances = values;
    floor_distance_count = count;
}

static void read_settings(void)
{
    read_body_bytes();
    read_distances();
}

static size_t body_bytes(void)
{
    pthread_once(&settings_once, read_settings);
    return floor_body_bytes;
}

/* The 5 points' distances for a query: 5 consecutive sampled distances
 * from a place chosen by the query's coordinates (the same query, the same
 * distances), or 0 when no sample was given. */
static int sampled_distances(double lat, double lon, double out[FLOOR_DISTANCE_COUNT])
{
    pthread_once(&settings_once, read_settings);
    if (!floor_distances)
        return 0;
    uint64_t lat_bits, lon_bits;
    memcpy(&lat_bits, &lat, sizeof lat_bits);
    memcpy(&lon_bits, &lon, sizeof lon_bits);
    uint64_t mixed = (lat_bits ^ (lon_bits * 0x9e3779b97f4a7c15u)) * 0xbf58476d1ce4e5b9u;
    size_t start = (size_t)((mixed >> 32) % floor_distance_count);
    for (int i = 0; i < FLOOR_DISTANCE_COUNT; i++)
        out[i] = floor_distances[(start + (size_t)i) % floor_distance_count];
    return 1;
}

/* The point about `metres` from (lat, lon) at azimuth `radians` (a flat
 * approximation, its latitude clamped to the poles), in *other_lat and
 * *other_lon. */
static void point_at(double lat, double lon, double metres, double radians, double *other_lat,
                     double *other_lon)
{
    double degrees = metres / FLOOR_METRES_PER_DEGREE;
    double shrink = fmax(cos(lat * M_PI / 180), 0.01);
    *other_lat = fmin(90, fmax(-90, lat + degrees * cos(radians)));
    *other_lon = lon + degrees * sin(radians) / shrink;
}

/* The 5 geodesic distances the floor computes for a query. */
static void floor_geodesics(double lat, double lon, double distances[FLOOR_DISTANCE_COUNT])
{
    double sampled[FLOOR_DISTANCE_COUNT];
    int use_sample = sampled_distances(lat, lon, sampled);
    for (int i = 0; i < FLOOR_DISTANCE_COUNT; i++) {
        double other_lat, other_lon;
        if (use_sample) {
            point_at(lat, lon, sampled[i], i * (2 * M_PI / FLOOR_DISTANCE_COUNT), &other_lat,
                     &other_lon);
        } else {
            double offset = 0.05 * (i + 1);
            other_lat = lat + (lat > 0 ? -offset : offset);
            other_lon = lon + offset;
        }
        distances[i] = geodesy_distance_m(lat, lon, other_lat, other_lon);
    }
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
    floor_geodesics(lat, lon, distances);
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
