/* test_serve.c — unit tests of the HTTP server's pure parts: request-target
 * parsing, If-None-Match, gzip, metrics, static-file confinement, option
 * lists, and snapshot reference counting across a reload (this last one
 * against the database in MAILLAGE_DATABASE, skipped when it is absent). */
#include "check.h"
#include "gzip.h"
#include "http.h"
#include "metrics.h"
#include "request_target.h"
#include "server_state.h"
#include "static_files.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

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
    CHECK(packed.length > 18 && packed.length < text.length / 3, "%zu", packed.length);
    CHECK((unsigned char)packed.data[0] == 0x1f && (unsigned char)packed.data[1] == 0x8b,
          "gzip magic");
    char *unpacked = malloc(text.length + 1);
    z_stream stream;
    memset(&stream, 0, sizeof stream);
    inflateInit2(&stream, 15 + 16);
    stream.next_in = (Bytef *)packed.data;
    stream.avail_in = (uInt)packed.length;
    stream.next_out = (Bytef *)unpacked;
    stream.avail_out = (uInt)text.length + 1;
    CHECK(inflate(&stream, Z_FINISH) == Z_STREAM_END, "inflate");
    CHECK(stream.total_out == text.length && memcmp(unpacked, text.data, text.length) == 0,
          "same bytes");
    inflateEnd(&stream);
    free(unpacked);
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

TEST(metrics_routes_and_text)
{
    CHECK(metrics_route_for_path("/api/nearest") == ROUTE_NEAREST, "nearest");
    CHECK(metrics_route_for_path("/api/structures") == ROUTE_STRUCTURES, "structures");
    CHECK(metrics_route_for_path("/api/structures/X") == ROUTE_STRUCTURE, "structure");
    CHECK(metrics_route_for_path("/tiles/sites/1/1/1.mvt") == ROUTE_TILES, "tiles");
    CHECK(metrics_route_for_path("/tiles.json") == ROUTE_TILES, "tiles.json");
    CHECK(metrics_route_for_path("/api/nearestX") == ROUTE_OTHER, "other");
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
        CHECK(static_files_read(files, "/", 0, &file) == 1, "index");
        CHECK_STRING(file.content_type, "text/html; charset=utf-8");
        CHECK(file.is_html && file.body.length == 15, "html body");
        static_file_free(&file);
        CHECK(static_files_read(files, "/app.js", 1, &file) == 1, "app.js");
        CHECK_STRING(file.content_type, "text/javascript; charset=utf-8");
        CHECK(file.gzip_body.length == 0, "too small to gzip");
        static_file_free(&file);
        static const char *const refused[] = {"/escape.txt", "/../secret.txt", "/.hidden",
                                              "/missing",    "//app.js",       "/app.js/",
                                              "relative"};
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

TEST(snapshot_references_survive_a_reload)
{
    const char *database = getenv("MAILLAGE_DATABASE");
    if (!database || access(database, R_OK) != 0) {
        printf("note: MAILLAGE_DATABASE not set or unreadable; reload test skipped\n");
        return;
    }
    char error[512];
    ServerState *state = server_state_open(database, error, sizeof error);
    CHECK(state != NULL, "%s", error);
    if (!state)
        return;
    SnapshotReference *first = server_state_acquire(state);
    const Snapshot *old = snapshot_reference_get(first);
    CHECK(server_state_reload(state, error, sizeof error) == 0, "%s", error);
    SnapshotReference *second = server_state_acquire(state);
    CHECK(snapshot_reference_get(second) != old, "a new snapshot after reload");
    /* The old one is still pinned and readable (ASan checks the access). */
    CHECK(old->site_count == snapshot_reference_get(second)->site_count, "same data");
    CHECK(strcmp(old->version, snapshot_reference_get(second)->version) == 0, "same version");
    server_state_release(first); /* frees the retired snapshot */
    server_state_release(second);
    ServerState *missing = server_state_open("/nonexistent/synthetic.sqlite", error, sizeof error);
    CHECK(missing == NULL && strstr(error, "synthetic.sqlite"), "%s", error);
    server_state_close(state);
}

int main(void)
{
    RUN(target_decodes_path_and_parameters);
    RUN(target_forms);
    RUN(target_refusals);
    RUN(target_parameter_limit_and_dense_storage);
    RUN(if_none_match);
    RUN(gzip_round_trip_and_negotiation);
    RUN(metrics_routes_and_text);
    RUN(static_files_confined);
    RUN(origin_lists);
    RUN(snapshot_references_survive_a_reload);
    return CHECK_SUMMARY("test_serve");
}
