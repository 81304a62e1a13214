/* test_serve.c — unit tests of the HTTP server's pure parts: request-target
 * parsing, If-None-Match, gzip, the route table and its metrics labels,
 * metrics, static-file confinement, option lists, and the dataset state:
 * reference counting across a reload, and a failed reload that changes
 * nothing (against the shipped database, build/maillage.sqlite or
 * $MAILLAGE_DATABASE: a failure when it cannot be loaded). */
#include "base/gzip.h"
#include "check.h"
#include "gunzip_check.h"
#include "dataset/dataset_state.h"
#include "http/api.h"
#include "http/http.h"
#include "http/metrics.h"
#include "http/request_target.h"
#include "http/routes.h"
#include "http/static_files.h"
#include "http/tile_routes.h"
#include "support.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Parses `raw` into `target` using `storage` (freed by the caller). */
static char *parse(const char *raw, RequestTarget *target)
{
    char *storage = malloc(request_target_storage_size(strlen(raw)));
    request_target_parse(raw, storage, target);
    return storage;
}

TEST(target_decodes_path_and_parameters)
{
    RequestTarget target;
    char *storage = parse("/api/n%C3%A9arest?lat=48.5&lon=-2&q=a+b%2Bc&flag&=x&&lat=1", &target);
    CHECK(target.error == NULL, "%s", target.error);
    CHECK_STRING(target.path, "/api/néarest");
    CHECK(target.parameter_count == 6, "%zu", target.parameter_count);
    CHECK_STRING(target.parameters[0].name, "lat");
    CHECK_STRING(target.parameters[0].value, "48.5");
    CHECK_STRING(target.parameters[2].value, "a b+c");
    CHECK_STRING(target.parameters[3].name, "flag");
    CHECK_STRING(target.parameters[3].value, "");
    CHECK_STRING(target.parameters[4].name, "");
    CHECK_STRING(target.parameters[4].value, "x");
    CHECK_STRING(target.parameters[5].value, "1");
    free(storage);
}

TEST(target_forms)
{
    RequestTarget target;
    char *storage = parse("http://example.invalid:8080/healthz?a=1", &target);
    CHECK(target.error == NULL, "%s", target.error);
    CHECK_STRING(target.path, "/healthz");
    CHECK(target.parameter_count == 1, "%zu", target.parameter_count);
    free(storage);
    storage = parse("*", &target);
    CHECK_STRING(target.path, "*");
    free(storage);
    storage = parse("/a+b#fragment", &target);
    CHECK_STRING(target.path, "/a+b"); /* '+' is literal in a path */
    free(storage);
}

TEST(target_refusals)
{
    static const char *const refused[] = {
        "/../etc/passwd", "/a/..",  "/a/./b",   "/%2e%2e/x", "/%2E%2e%2Fx",
        "/a/..%2f..%2fb", "/a%00b", "/?a=1%00", "/?a%00=1",  "/%FF",
        "/?q=%C3",        "/%zz",   "/?a=%4",   "/%",        "relative",
        "ftp://host/x",   "",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        RequestTarget target;
        char *storage = parse(refused[i], &target);
        CHECK(target.error != NULL, "'%s' was accepted", refused[i]);
        CHECK(target.path && strchr(target.path, '\0'), "path set");
        free(storage);
    }
    static const char *const accepted[] = {"/", "/a..b/.c/..d", "/embed", "/tiles/sites/1/2/3.mvt"};
    for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
        RequestTarget target;
        char *storage = parse(accepted[i], &target);
        CHECK(target.error == NULL, "'%s': %s", accepted[i], target.error);
        free(storage);
    }
}

TEST(target_parameter_limit_and_dense_storage)
{
    /* "a&a&a...": the densest target, 2 raw bytes per parameter. */
    char raw[256] = "/x?";
    for (int i = 0; i < 40; i++)
        strcat(raw, i ? "&a" : "a");
    RequestTarget target;
    char *storage = parse(raw, &target);
    CHECK(target.too_many_parameters, "40 parameters accepted");
    CHECK(target.parameter_count == REQUEST_MAX_PARAMETERS, "%zu", target.parameter_count);
    free(storage);
    strcpy(raw, "/x?");
    for (int i = 0; i < REQUEST_MAX_PARAMETERS; i++)
        strcat(raw, i ? "&=" : "=");
    storage = parse(raw, &target);
    CHECK(!target.too_many_parameters && target.error == NULL, "32 empty parameters");
    free(storage);
}

TEST(if_none_match)
{
    const char *tag = "0011aabb-0123456789abcdef";
    CHECK(http_etag_matches("\"0011aabb-0123456789abcdef\"", tag), "exact");
    CHECK(http_etag_matches("W/\"0011aabb-0123456789abcdef\"", tag), "weak");
    CHECK(http_etag_matches("\"x\", W/\"y\" , \"0011aabb-0123456789abcdef-gz\"", tag), "list");
    CHECK(http_etag_matches("*", tag), "star");
    CHECK(!http_etag_matches("\"0011aabb-0123456789abcde\"", tag), "prefix");
    CHECK(!http_etag_matches("\"0011aabb-0123456789abcdef0\"", tag), "longer");
    CHECK(!http_etag_matches("0011aabb-0123456789abcdef", tag), "unquoted");
    CHECK(http_etag_matches("\"0011aabb-0123456789abcdef", tag) == 1, "unterminated, same text");
    CHECK(!http_etag_matches("W/", tag) && !http_etag_matches("\"", tag), "truncated");
    CHECK(!http_etag_matches("", tag), "empty");
}

TEST(gzip_round_trip_and_negotiation)
{
    Buffer text, packed;
    buffer_init(&text);
    buffer_init(&packed);
    for (int i = 0; i < 500; i++)
        buffer_printf(&text, "{\"site_id\":\"SYNTH-%06d\"},", i);
    CHECK(gzip_encode(text.data, text.length, 1, &packed) == 0, "encode");
    CHECK(packed.length < text.length / 3, "%zu", packed.length);
    CHECK(gunzips_to(packed.data, packed.length, text.data, text.length), "same bytes");
    /* The window and hash table follow the length (gzip.c): every size
     * around their steps, of text that repeats and of bytes that do not. */
    static char noise[70000];
    uint32_t state = 1;
    for (size_t i = 0; i < sizeof noise; i++) {
        state = state * 1103515245u + 12345u;
        noise[i] = (char)(state >> 24);
    }
    buffer_reset(&text);
    while (text.length < sizeof noise)
        buffer_printf(&text, "{\"distance_m\":%zu,\"city\":\"PARIS\"},", text.length);
    for (int bits = 10; bits <= 17; bits++) {
        size_t step = ((size_t)1 << (bits - 1)) - 262;
        for (size_t length = step - 1; length <= step + 1; length++) {
            CHECK(gzip_encode(text.data, length, 1, &packed) == 0 &&
                      gunzips_to(packed.data, packed.length, text.data, length),
                  "text of %zu bytes", length);
            CHECK(gzip_encode(noise, length, 6, &packed) == 0 &&
                      gunzips_to(packed.data, packed.length, noise, length),
                  "noise of %zu bytes", length);
        }
    }
    CHECK(gzip_encode("", 0, 1, &packed) == 0 && gunzips_to(packed.data, packed.length, "", 0),
          "empty");
    CHECK(gzip_variant(text.data, 2800, &packed) == 1 && packed.length < 2800 &&
              gunzips_to(packed.data, packed.length, text.data, 2800),
          "a variant of a nearest-sized answer");
    CHECK(gzip_variant(text.data, GZIP_MINIMUM_LENGTH - 1, &packed) == 0 && packed.length == 0,
          "too short for a variant");
    CHECK(gzip_variant(noise, 5000, &packed) == 0 && packed.length == 0,
          "no variant when it is not shorter");
    buffer_free(&text);
    buffer_free(&packed);

    CHECK(gzip_accepted("gzip"), "gzip");
    CHECK(gzip_accepted("br, GZIP;q=0.5"), "case and q");
    CHECK(gzip_accepted("*"), "star");
    CHECK(gzip_accepted("deflate, x-gzip"), "x-gzip");
    CHECK(!gzip_accepted(NULL), "absent");
    CHECK(!gzip_accepted("identity"), "identity");
    CHECK(!gzip_accepted("gzip;q=0"), "q=0");
    CHECK(!gzip_accepted("gzip; q=0.000, br"), "q=0.000");
    CHECK(!gzip_accepted("*;q=0"), "star q=0");
    CHECK(gzip_accepted("*;q=0, gzip"), "gzip named beats star");
    CHECK(!gzip_accepted("gzip;q=0, *"), "gzip refused beats star");
    CHECK(!gzip_accepted("gzipped"), "not a prefix match");
}

/* The metrics label http.c gives `path`: its route's, ROUTE_OTHER when no
 * route matches. */
static MetricsRoute label_of(const char *path)
{
    const char *rest;
    const Route *route = routes_find(path, &rest);
    return route ? route->label : ROUTE_OTHER;
}

TEST(route_table)
{
    CHECK(routes_check() > 0, "no route");
    static const struct {
        const char *path;
        RouteHandler handler;
        const char *rest;
    } handled[] = {
        {"/healthz", api_health, ""},
        {"/api/nearest", api_nearest, ""},
        {"/api/structures", api_structures, ""},
        {"/api/structures/NECKER-MAREP", api_structure, "NECKER-MAREP"},
        {"/api/conditions", api_conditions, ""},
        {"/api/places", api_places, ""},
        {"/tiles.json", tile_catalogue, ""},
        {"/tiles/sites/1/1/1.mvt", tile_answer, "sites/1/1/1.mvt"},
        {"/tiles/sites.json", tile_answer, "sites.json"},
        {"/metrics", metrics_answer, ""},
    };
    for (size_t i = 0; i < sizeof handled / sizeof handled[0]; i++) {
        const char *rest = NULL;
        const Route *route = routes_find(handled[i].path, &rest);
        CHECK(route && route->handler == handled[i].handler && !route->page &&
                  strcmp(route->method, "GET") == 0,
              "%s: wrong route", handled[i].path);
        CHECK_STRING(rest, handled[i].rest);
    }
    /* Pages: a file under --web, never a handler; /embed may be framed. */
    static const struct {
        const char *path, *page;
        int embed;
    } pages[] = {{"/", "/index.html", 0},
                 {"/embed", "/embed.html", 1},
                 {"/embed/", "/embed.html", 1},
                 {"/embed.html", "/embed.html", 1}};
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
        const char *rest = NULL;
        const Route *route = routes_find(pages[i].path, &rest);
        CHECK(route && !route->handler && route->page && strcmp(route->page, pages[i].page) == 0 &&
                  route->embed == pages[i].embed && route->label == ROUTE_STATIC,
              "%s: wrong page route", pages[i].path);
    }
    /* Exact routes match their path only; other paths are static files. */
    static const char *const unrouted[] = {"/api/nearestX", "/api/nearest/", "/healthz/",
                                           "/api",          "/index.html",   "/tiles",
                                           "/embedded",     "/js/app.js",    "/metrics2"};
    for (size_t i = 0; i < sizeof unrouted / sizeof unrouted[0]; i++) {
        const char *rest = "";
        CHECK(routes_find(unrouted[i], &rest) == NULL && rest == NULL, "%s is routed", unrouted[i]);
    }
}

TEST(metrics_routes_and_text)
{
    CHECK(label_of("/api/nearest") == ROUTE_NEAREST, "nearest");
    CHECK(label_of("/api/structures") == ROUTE_STRUCTURES, "structures");
    CHECK(label_of("/api/structures/X") == ROUTE_STRUCTURE, "structure");
    CHECK(label_of("/api/conditions") == ROUTE_CONDITIONS, "conditions");
    CHECK(label_of("/api/places") == ROUTE_PLACES, "places");
    CHECK(label_of("/healthz") == ROUTE_HEALTHZ, "healthz");
    CHECK(label_of("/metrics") == ROUTE_METRICS, "metrics");
    CHECK(label_of("/tiles/sites/1/1/1.mvt") == ROUTE_TILES, "tiles");
    CHECK(label_of("/tiles.json") == ROUTE_TILES, "tiles.json");
    CHECK(label_of("/api/nearestX") == ROUTE_OTHER, "other");
    CHECK(strcmp(metrics_route_name(ROUTE_NEAREST), "nearest") == 0 &&
              strcmp(metrics_route_name(ROUTE_OTHER), "other") == 0,
          "route names");
    metrics_record_request(ROUTE_NEAREST, 200, 40000);   /* 40 µs */
    metrics_record_request(ROUTE_NEAREST, 200, 700000);  /* 0.7 ms */
    metrics_record_request(ROUTE_NEAREST, 418, 5000000); /* untracked status */
    metrics_record_reload(1);
    metrics_record_reload(0);
    Buffer out;
    buffer_init(&out);
    MetricsDataset dataset = {"v\"1", 42, 0.5};
    metrics_render(&out, &dataset);
    CHECK(!out.failed, "rendered");
    CHECK(strstr(out.data, "maillage_requests_total{route=\"nearest\",status=\"200\"} 2\n"), "%s",
          out.data);
    CHECK(strstr(out.data, "maillage_requests_total{route=\"nearest\",status=\"other\"} 1\n"),
          "other status");
    CHECK(strstr(out.data, "route=\"nearest\",le=\"5e-05\"} 1\n"), "first bucket");
    CHECK(strstr(out.data, "route=\"nearest\",le=\"0.00075\"} 2\n"), "cumulative");
    CHECK(strstr(out.data, "route=\"nearest\",le=\"+Inf\"} 3\n"), "+Inf");
    CHECK(strstr(out.data, "maillage_request_duration_seconds_count{route=\"nearest\"} 3\n"),
          "count");
    CHECK(strstr(out.data, "maillage_dataset_info{version=\"v\\\"1\"} 1\n"), "escaped label");
    CHECK(strstr(out.data, "maillage_dataset_sites 42\n"), "sites");
    CHECK(strstr(out.data, "maillage_reloads_total 1\n"), "reloads");
    CHECK(strstr(out.data, "maillage_reload_failures_total 1\n"), "failures");
    CHECK(metrics_reload_count() == 1, "reload count");
    buffer_free(&out);
}

static void write_file(const char *path, const char *text)
{
    FILE *file = fopen(path, "w");
    if (file) {
        fputs(text, file);
        fclose(file);
    }
}

TEST(static_files_confined)
{
    char root[] = "/tmp/maillage-static-synthetic-XXXXXX";
    CHECK(mkdtemp(root) != NULL, "mkdtemp");
    char path[512], web[128];
    snprintf(web, sizeof web, "%s/web", root);
    mkdir(web, 0755);
    snprintf(path, sizeof path, "%s/index.html", web);
    write_file(path, "<!doctype html>");
    snprintf(path, sizeof path, "%s/app.js", web);
    write_file(path, "console.log(1)");
    snprintf(path, sizeof path, "%s/secret.txt", root);
    write_file(path, "outside");
    char link[512];
    snprintf(link, sizeof link, "%s/escape.txt", web);
    CHECK(symlink(path, link) == 0, "symlink");
    char error[256];
    StaticFiles *files = static_files_open(web, error, sizeof error);
    CHECK(files != NULL, "%s", error);
    if (files) {
        StaticFile file;
        /* Paths are file names: the route table maps "/" to /index.html. */
        CHECK(static_files_read(files, "/index.html", 0, &file) == 1, "index");
        CHECK_STRING(file.content_type, "text/html; charset=utf-8");
        CHECK(file.is_html && file.body.length == 15, "html body");
        static_file_free(&file);
        CHECK(static_files_read(files, "/app.js", 1, &file) == 1, "app.js");
        CHECK_STRING(file.content_type, "text/javascript; charset=utf-8");
        CHECK(file.gzip_body.length == 0, "too small to gzip");
        static_file_free(&file);
        static const char *const refused[] = {
            "/escape.txt", "/../secret.txt", "/.hidden", "/missing",
            "//app.js",    "/app.js/",       "relative", "/" /* a directory, never listed */};
        for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
            CHECK(static_files_read(files, refused[i], 0, &file) == 0, "%s served", refused[i]);
            static_file_free(&file);
        }
        static_files_close(files);
    }
    CHECK(static_files_open(path, error, sizeof error) == NULL, "a file is not a directory");
    int compressible;
    CHECK_STRING(static_files_mime_type("a/b.woff2", &compressible), "font/woff2");
    CHECK(!compressible, "woff2 is compressed already");
    CHECK_STRING(static_files_mime_type("x.webmanifest", NULL), "application/manifest+json");
    CHECK_STRING(static_files_mime_type("dir.d/noextension", NULL), "application/octet-stream");
    unlink(link);
    unlink(path);
    snprintf(path, sizeof path, "%s/index.html", web);
    unlink(path);
    snprintf(path, sizeof path, "%s/app.js", web);
    unlink(path);
    rmdir(web);
    rmdir(root);
}

TEST(origin_lists)
{
    char error[256];
    CHECK(http_check_origin_list("https://a.example,https://b.example", error, sizeof error) == 0,
          "%s", error);
    CHECK(http_check_origin_list("'self' https://c.example", error, sizeof error) == 0, "%s",
          error);
    CHECK(http_check_origin_list("https://a.example;", error, sizeof error) != 0, "semicolon");
    CHECK(http_check_origin_list("https://a.example\"", error, sizeof error) != 0, "quote");
    CHECK(http_check_origin_list("https://a.example\r\nX: y", error, sizeof error) != 0, "CRLF");
    CHECK(http_check_origin_list(" , ", error, sizeof error) != 0, "empty");
}

/* The shipped database: build/maillage.sqlite, or $MAILLAGE_DATABASE. */
static const char *shipped_database(void)
{
    const char *database = getenv("MAILLAGE_DATABASE");
    return database && *database ? database : "build/maillage.sqlite";
}

TEST(dataset_references_survive_a_reload)
{
    const char *database = shipped_database();
    char error[512] = "";
    DatasetState *state = dataset_state_open(database, NULL, error, sizeof error);
    CHECK(state != NULL, "cannot load the shipped database: %s", error);
    if (!state)
        return;
    DatasetReference *first = dataset_state_acquire(state);
    const Dataset *old = dataset_reference_get(first);
    CHECK(dataset_state_reload(state, 0.0, error, sizeof error) == 0, "%s", error);
    DatasetReference *second = dataset_state_acquire(state);
    const Dataset *current = dataset_reference_get(second);
    CHECK(current != old && current->snapshot != old->snapshot && current->index != old->index &&
              current->tiles != old->tiles,
          "a new dataset after reload");
    /* The old one is still pinned and readable, members included (ASan
     * checks the accesses). */
    CHECK(old->snapshot->site_count == current->snapshot->site_count, "same data");
    CHECK(strcmp(old->snapshot->version, current->snapshot->version) == 0, "same version");
    SiteFilter filter;
    site_filter_init(&filter);
    NearestResult old_result, new_result;
    CHECK(spatial_index_nearest(old->index, old->snapshot, 48.85, 2.35, NULL, &filter, 1,
                                &old_result) == 1 &&
              spatial_index_nearest(current->index, current->snapshot, 48.85, 2.35, NULL, &filter,
                                    1, &new_result) == 1 &&
              old_result.site == new_result.site,
          "the old index still answers, as the new one");
    dataset_state_release(first); /* frees the retired dataset */
    dataset_state_release(second);
    dataset_state_close(state);
    DatasetState *missing =
        dataset_state_open("/nonexistent/synthetic.sqlite", NULL, error, sizeof error);
    CHECK(missing == NULL && strstr(error, "synthetic.sqlite"), "%s", error);
}

/* A request reading the old dataset: once the reload has swapped the
 * datasets, it releases its reference 100 ms later (`patient` 0), or when
 * told to (`patient` 1, `go`). */
typedef struct SlowReader {
    DatasetState *state;
    DatasetReference *reference;
    int patient;
    atomic_int go, released;
} SlowReader;

static void *slow_reader(void *argument)
{
    SlowReader *reader = argument;
    const struct timespec pause = {0, 1000000};
    for (int swapped = 0; !swapped;) {
        DatasetReference *current = dataset_state_acquire(reader->state);
        swapped = dataset_reference_get(current) != dataset_reference_get(reader->reference);
        dataset_state_release(current);
        nanosleep(&pause, NULL);
    }
    if (reader->patient)
        while (!atomic_load(&reader->go))
            nanosleep(&pause, NULL);
    else
        nanosleep(&(struct timespec){0, 100000000}, NULL);
    atomic_store(&reader->released, 1);
    dataset_state_release(reader->reference);
    return NULL;
}

/* A reload with a wait returns once the readers of the old dataset left
 * (so it freed the dataset itself); without one it returns at once and
 * the last reader frees it. */
TEST(reload_waits_for_the_readers_of_the_old_dataset)
{
    char error[512] = "";
    DatasetState *state = dataset_state_open(shipped_database(), NULL, error, sizeof error);
    CHECK(state != NULL, "cannot load the shipped database: %s", error);
    if (!state)
        return;
    for (int wait = 1; wait >= 0; wait--) {
        SlowReader reader = {state, dataset_state_acquire(state), !wait, 0, 0};
        pthread_t thread;
        CHECK(pthread_create(&thread, NULL, slow_reader, &reader) == 0, "thread");
        CHECK(dataset_state_reload(state, wait ? 30.0 : 0.0, error, sizeof error) == 0, "%s",
              error);
        CHECK(atomic_load(&reader.released) == wait,
              wait ? "the reload returned before the reader left" : "the reload waited");
        atomic_store(&reader.go, 1);
        pthread_join(thread, NULL);
    }
    dataset_state_close(state);
}

/* A reload of a file that no longer loads fails with its name and
 * changes nothing: the same dataset keeps answering. */
TEST(failed_reload_keeps_the_dataset)
{
    char copy[256], garbage[300];
    const char *temporary = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(copy, sizeof copy, "%s/maillage-test-serve-%d.sqlite", temporary, (int)getpid());
    snprintf(garbage, sizeof garbage, "%s.new", copy);
    CHECK(copy_file(shipped_database(), copy) == 0, "cannot copy %s", shipped_database());
    char error[512] = "";
    DatasetState *state = dataset_state_open(copy, NULL, error, sizeof error);
    CHECK(state != NULL, "cannot load the shipped database: %s", error);
    if (state) {
        DatasetReference *before = dataset_state_acquire(state);
        write_file(garbage, "not a database");
        CHECK(rename(garbage, copy) == 0, "replacing %s", copy);
        error[0] = 0;
        CHECK(dataset_state_reload(state, 0.0, error, sizeof error) == -1 && strstr(error, copy),
              "reload of a broken file: %s", error);
        DatasetReference *after = dataset_state_acquire(state);
        CHECK(dataset_reference_get(after) == dataset_reference_get(before) &&
                  dataset_reference_get(after)->snapshot->site_count > 0,
              "the dataset changed after a failed reload");
        dataset_state_release(before);
        dataset_state_release(after);
        dataset_state_close(state);
    }
    unlink(garbage);
    unlink(copy);
}

int main(void)
{
    RUN(target_decodes_path_and_parameters);
    RUN(target_forms);
    RUN(target_refusals);
    RUN(target_parameter_limit_and_dense_storage);
    RUN(if_none_match);
    RUN(gzip_round_trip_and_negotiation);
    RUN(route_table);
    RUN(metrics_routes_and_text);
    RUN(static_files_confined);
    RUN(origin_lists);
    RUN(dataset_references_survive_a_reload);
    RUN(reload_waits_for_the_readers_of_the_old_dataset);
    RUN(failed_reload_keeps_the_dataset);
    return CHECK_SUMMARY("test_serve");
}
