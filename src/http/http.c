/* http.c — libmicrohttpd daemon, routing and the response envelope (ETag,
 * Cache-Control, gzip, CORS, CSP, access log, metrics); see http.h. The
 * request target itself is parsed by request_target.c. */
#include "http/http.h"

#include "base/gzip.h"
#include "base/text.h"
#include "http/metrics.h"
#include "http/request.h"
#include "http/request_target.h"
#include "http/routes.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Per-connection memory pool: the request line and headers must fit in it,
 * so targets beyond ~12 KB (and a ~100 KB URL) are refused by
 * libmicrohttpd itself (414, or 431 for headers) before any handler runs.
 * libmicrohttpd zeroes the whole pool after every request, so it is kept
 * small: at 64 KB that memset was 9% of a /healthz request. */
#define HTTP_CONNECTION_MEMORY_LIMIT (16u * 1024u)
#define HTTP_LISTEN_BACKLOG 1024u
#define HTTP_MAX_ORIGINS 32
#define HTTP_STATIC_CACHE_CONTROL "public, max-age=3600"
#define HTTP_ALLOWED_METHODS "GET, HEAD, OPTIONS"
/* A body sent with GET, HEAD or OPTIONS is read and dropped up to this
 * size (so keep-alive survives a stray small one), then refused (413). */
#define HTTP_MAX_DISCARDED_BODY (64u * 1024u)
/* The page's address may name a condition: never pass it on. */
#define HTTP_REFERRER_POLICY "no-referrer"
/* A --cors-origins or --frame-ancestors list longer than this is refused. */
#define HTTP_MAX_ORIGIN_LIST_BYTES 2000

struct HttpServer {
    struct MHD_Daemon *daemon;
    HttpConfig config;
    char url[128];
    int any_origin;
    char *origin_storage;
    const char *origins[HTTP_MAX_ORIGINS];
    size_t origin_count;
    char *page_policy;  /* Content-Security-Policy of the full page */
    char *embed_policy; /* ... of the embeddable page */
    char api_cache_control[64];
    _Atomic long requests_in_flight;
    _Atomic uint64_t requests_completed;
};

/* One request, from its request line to its completion. The storage holds
 * a copy of the raw target (for the access log), then the decoded path and
 * parameters `target` points into. */
typedef struct RequestContext {
    uint64_t start_nanoseconds; /* when the answer started to be built */
    int calls;
    int responded;
    size_t discarded; /* body bytes of a GET/HEAD/OPTIONS read and dropped */
    const char *raw_target;
    RequestTarget target;
    char storage[];
} RequestContext;

/* What goes back to the client, before it becomes an MHD_Response. */
typedef struct Outgoing {
    Response response;
    MetricsRoute route;
    char etag[40]; /* the entity tag without quotes; empty: none */
    int compressible;
    int accepts_gzip; /* the request's Accept-Encoding accepts gzip, read once */
    int is_page;      /* an HTML page: gets the Content-Security-Policy */
    int is_embed;     /* the embeddable page */
    int preflight;
    Buffer gzip_body; /* precomputed (static files, cached answers) or filled here */
} Outgoing;

static uint64_t monotonic_nanoseconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

/* Called by libmicrohttpd once per request with the raw target; the result
 * becomes the request's *con_cls. */
static void *on_request_line(void *closure, const char *uri, struct MHD_Connection *connection)
{
    HttpServer *server = closure;
    (void)connection;
    size_t length = strlen(uri);
    RequestContext *context =
        malloc(sizeof *context + length + 1 + request_target_storage_size(length));
    if (!context)
        return NULL;
    memset(context, 0, sizeof *context);
    memcpy(context->storage, uri, length + 1);
    context->raw_target = context->storage;
    request_target_parse(uri, context->storage + length + 1, &context->target);
    atomic_fetch_add_explicit(&server->requests_in_flight, 1, memory_order_relaxed);
    return context;
}

static void on_request_completed(void *closure, struct MHD_Connection *connection,
                                 void **request_closure, enum MHD_RequestTerminationCode why)
{
    HttpServer *server = closure;
    (void)connection;
    (void)why;
    RequestContext *context = *request_closure;
    if (!context)
        return;
    free(context);
    *request_closure = NULL;
    atomic_fetch_sub_explicit(&server->requests_in_flight, 1, memory_order_release);
    atomic_fetch_add_explicit(&server->requests_completed, 1, memory_order_relaxed);
}

/* ---- Routing ------------------------------------------------------------ */

static void outgoing_init(Outgoing *out)
{
    memset(out, 0, sizeof *out);
    response_init(&out->response);
    buffer_init(&out->gzip_body);
    out->route = ROUTE_OTHER;
    out->compressible = 1;
}

static void outgoing_free(Outgoing *out)
{
    response_free(&out->response);
    buffer_free(&out->gzip_body);
}

/* Returns 1 when a file answered: `path` names a file under --web (a
 * page route's file, or the request path itself); `embed` marks the page
 * meant for iframes. */
static int serve_static(HttpServer *server, const char *path, int embed, Outgoing *out)
{
    if (!server->config.static_files)
        return 0;
    StaticFile file;
    int found = static_files_read(server->config.static_files, path, out->accepts_gzip, &file);
    if (found < 0) {
        static_file_free(&file);
        response_problem(&out->response, 503, "File unavailable",
                         "the file for %.200s could not be read", path);
        return 1;
    }
    if (found == 0) {
        static_file_free(&file);
        return 0;
    }
    buffer_free(&out->response.body);
    out->response.body = file.body;
    out->gzip_body = file.gzip_body;
    out->response.status = 200;
    out->response.content_type = file.content_type;
    out->response.cache_control = HTTP_STATIC_CACHE_CONTROL;
    snprintf(out->etag, sizeof out->etag, "%016llx", (unsigned long long)file.etag_hash);
    out->compressible = file.compressible;
    out->is_page = file.is_html;
    out->is_embed = embed;
    out->route = ROUTE_STATIC;
    return 1;
}

static void route_request(HttpServer *server, const RequestContext *context, int is_head,
                          const char *accept_language, Outgoing *out)
{
    Request request;
    memset(&request, 0, sizeof request);
    request.method = is_head ? "HEAD" : "GET";
    request.path = context->target.path;
    memcpy(request.parameters, context->target.parameters,
           context->target.parameter_count * sizeof context->target.parameters[0]);
    request.parameter_count = context->target.parameter_count;
    request.accept_language = accept_language;
    request.accepts_gzip = out->accepts_gzip;
    DatasetReference *reference = dataset_state_acquire(server->config.state);
    const Dataset *dataset = dataset_reference_get(reference);
    request.dataset = dataset;
    const char *rest;
    const Route *route = routes_find(context->target.path, &rest);
    out->route = route ? route->label : ROUTE_OTHER;
    int dynamic = 1;
    if (route && route->handler) {
        route->handler(&request, &out->response, rest);
        /* A cached answer's gzip variant: sent as the static files' are. */
        buffer_free(&out->gzip_body);
        out->gzip_body = out->response.gzip_body;
        buffer_init(&out->response.gzip_body);
    } else if (serve_static(server, route ? route->page : context->target.path,
                            route && route->embed, out)) {
        dynamic = 0;
    } else {
        out->route = ROUTE_OTHER;
        response_problem(&out->response, 404, "Not found", "there is no resource at %.200s",
                         context->target.path);
    }
    int status = out->response.status;
    if (dynamic && (status == 200 || status == 204) && !out->response.no_etag &&
        out->route != ROUTE_HEALTHZ && out->route != ROUTE_METRICS)
        request_etag(&request, &out->response, out->etag);
    dataset_state_release(reference);
}

/* ---- Response envelope -------------------------------------------------- */

static const char *request_header(struct MHD_Connection *connection, const char *name)
{
    return MHD_lookup_connection_value(connection, MHD_HEADER_KIND, name);
}

/* The Access-Control-Allow-Origin value for this request, or NULL. */
static const char *allowed_origin(const HttpServer *server, const char *origin)
{
    if (server->any_origin)
        return "*";
    if (!origin)
        return NULL;
    for (size_t i = 0; i < server->origin_count; i++)
        if (strcmp(server->origins[i], origin) == 0)
            return server->origins[i];
    return NULL;
}

/* 1 when an If-None-Match list names our tag (weak comparison, RFC 9110
 * 13.1.2: W/ is ignored; the gzip variant "<tag>-gz" matches too). */
int http_etag_matches(const char *list, const char *tag)
{
    size_t tag_length = strlen(tag);
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return 1;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        if (*p != '"') {
            while (*p && *p != ',')
                p++;
            continue;
        }
        const char *opaque = ++p;
        while (*p && *p != '"')
            p++;
        size_t length = (size_t)(p - opaque);
        if (strncmp(opaque, tag, tag_length) == 0 &&
            (length == tag_length ||
             (length == tag_length + 3 && strncmp(opaque + tag_length, "-gz", 3) == 0)))
            return 1;
        if (*p == '"')
            p++;
    }
    return 0;
}

static void method_not_allowed(Outgoing *out, const char *method)
{
    response_problem(&out->response, 405, "Method not allowed",
                     "%.16s is not allowed; use GET or HEAD (OPTIONS for CORS preflight)", method);
    out->compressible = 0;
}

/* Appends `text` to line[*length] (at most `limit` source bytes), writing
 * bytes outside printable ASCII and the backslash as \xHH, never past
 * `capacity`. */
static void append_log_field(char *line, size_t *length, size_t capacity, const char *text,
                             size_t limit)
{
    const unsigned char *bytes = (const unsigned char *)text;
    for (size_t i = 0; i < limit && bytes[i] && *length + 4 < capacity; i++) {
        if (bytes[i] > 0x20 && bytes[i] < 0x7f && bytes[i] != '\\')
            line[(*length)++] = (char)bytes[i];
        else
            *length += (size_t)snprintf(line + *length, 5, "\\x%02x", bytes[i]);
    }
    line[(*length)++] = ' ';
}

/* Writes one access-log line (UTC time, method, target, status, body
 * bytes, microseconds) with a single write(2), so lines from concurrent
 * threads never interleave. */
static void write_access_log(const HttpServer *server, const char *method,
                             const RequestContext *context, int status, size_t bytes,
                             uint64_t microseconds)
{
    if (server->config.access_log_fd < 0)
        return;
    char line[2400];
    struct timespec now;
    struct tm calendar;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &calendar);
    size_t length = strftime(line, 64, "%Y-%m-%dT%H:%M:%S", &calendar);
    length += (size_t)snprintf(line + length, 16, ".%03ldZ ", now.tv_nsec / 1000000);
    /* Room is kept for the status and the two numbers (under 64 bytes). */
    append_log_field(line, &length, sizeof line - 64, method, 16);
    append_log_field(line, &length, sizeof line - 64, context->raw_target, 2000);
    length += (size_t)snprintf(line + length, sizeof line - length, "%d %zu %llu\n", status, bytes,
                               (unsigned long long)microseconds);
    ssize_t ignored = write(server->config.access_log_fd, line, length);
    (void)ignored;
}

static const char *cache_control_for(const HttpServer *server, const Outgoing *out, int status)
{
    if (out->route == ROUTE_HEALTHZ || out->route == ROUTE_METRICS)
        return "no-store";
    if (out->response.cache_control)
        return out->response.cache_control;
    if (status == 200 || status == 204 || status == 304)
        return server->api_cache_control;
    return "no-store";
}

/* Vary names the request headers the answer depends on: Accept-Encoding
 * (gzip), Origin (a CORS list) and Accept-Language (an answer whose text
 * follows the language: without `lang`, that header chooses it). */
static void add_vary(struct MHD_Response *response, int encoding, int origin, int language)
{
    char vary[64] = "";
    if (encoding)
        strcat(vary, "Accept-Encoding");
    if (origin)
        strcat(strcat(vary, vary[0] ? ", " : ""), "Origin");
    if (language)
        strcat(strcat(vary, vary[0] ? ", " : ""), "Accept-Language");
    if (vary[0])
        MHD_add_response_header(response, "Vary", vary);
}

static void add_common_headers(const HttpServer *server, struct MHD_Response *response,
                               const Outgoing *out, const char *origin, int status, int gzip_tag)
{
    if (out->etag[0] && (status == 200 || status == 204 || status == 304)) {
        char etag[48];
        snprintf(etag, sizeof etag, gzip_tag ? "\"%s-gz\"" : "\"%s\"", out->etag);
        MHD_add_response_header(response, "ETag", etag);
    }
    if (!out->preflight)
        MHD_add_response_header(response, "Cache-Control", cache_control_for(server, out, status));
    add_vary(response, out->compressible && !out->preflight, !server->any_origin,
             out->response.language != NULL);
    const char *allow_origin = allowed_origin(server, origin);
    if (allow_origin) {
        MHD_add_response_header(response, "Access-Control-Allow-Origin", allow_origin);
        MHD_add_response_header(response, "Access-Control-Expose-Headers", "ETag");
    }
    MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(response, "Referrer-Policy", HTTP_REFERRER_POLICY);
    if (out->is_page)
        MHD_add_response_header(response, "Content-Security-Policy",
                                out->is_embed ? server->embed_policy : server->page_policy);
    if (status == 405 || out->preflight)
        MHD_add_response_header(response, "Allow", HTTP_ALLOWED_METHODS);
}

static void add_preflight_headers(struct MHD_Response *response, struct MHD_Connection *connection)
{
    MHD_add_response_header(response, "Access-Control-Allow-Methods", HTTP_ALLOWED_METHODS);
    const char *asked = request_header(connection, "Access-Control-Request-Headers");
    /* Echo the asked headers only when they are plain tokens. */
    int plain = asked && strlen(asked) < 512;
    for (const char *p = asked; plain && *p; p++)
        if (!(*p == ',' || *p == ' ' || *p == '-' || *p == '_' || (*p >= '0' && *p <= '9') ||
              (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
            plain = 0;
    MHD_add_response_header(response, "Access-Control-Allow-Headers",
                            plain ? asked : "If-None-Match, Content-Type");
    MHD_add_response_header(response, "Access-Control-Max-Age", "86400");
}

/* How the answer is sent: its status after If-None-Match and the body
 * variant chosen. */
typedef struct Representation {
    int status;
    int gzipped;  /* the body sent is gzip_body */
    int gzip_tag; /* the ETag names the gzip variant */
} Representation;

/* Applies If-None-Match and Accept-Encoding to `out`; a 304 frees the body. */
static Representation choose_representation(struct MHD_Connection *connection, Outgoing *out)
{
    Representation chosen = {out->response.status, 0, 0};
    Buffer *body = &out->response.body;
    if (body->failed || out->gzip_body.failed) {
        buffer_free(body);
        buffer_free(&out->gzip_body);
        chosen.status = 503;
        out->etag[0] = '\0';
        out->response.content_type = "application/problem+json";
        out->response.cache_control = "no-store";
        return chosen;
    }
    int want_gzip = out->compressible && body->length >= GZIP_MINIMUM_LENGTH && out->accepts_gzip;
    const char *if_none_match = request_header(connection, "If-None-Match");
    if (out->etag[0] && if_none_match && (chosen.status == 200 || chosen.status == 204) &&
        http_etag_matches(if_none_match, out->etag)) {
        chosen.status = 304;
        chosen.gzip_tag = want_gzip; /* the variant a 200 would (almost surely) send */
        buffer_free(body);
        buffer_free(&out->gzip_body);
        return chosen;
    }
    if (want_gzip && out->gzip_body.length == 0) /* none ready: one made here, if it pays */
        gzip_variant(body->data, body->length, &out->gzip_body);
    chosen.gzipped = chosen.gzip_tag =
        want_gzip && out->gzip_body.length > 0 && out->gzip_body.length < body->length;
    return chosen;
}

/* A minimal 503 for when even the problem document cannot be allocated. */
static const char out_of_memory_body[] =
    "{\"type\":\"about:blank\",\"title\":\"Out of memory\",\"status\":503,"
    "\"detail\":\"the server is out of memory; retry later\"}";

/* The MHD_Response carrying the chosen body (ownership passes to it). */
static struct MHD_Response *create_response(Outgoing *out, const Representation *chosen,
                                            size_t *length)
{
    Buffer *body = chosen->gzipped ? &out->gzip_body : &out->response.body;
    *length = 0;
    if (chosen->status == 503 && !body->data) {
        *length = sizeof out_of_memory_body - 1;
        return MHD_create_response_from_buffer(*length, (void *)out_of_memory_body,
                                               MHD_RESPMEM_PERSISTENT);
    }
    if (body->length == 0)
        return MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    char *data = buffer_detach(body, length);
    struct MHD_Response *response =
        MHD_create_response_from_buffer(*length, data, MHD_RESPMEM_MUST_FREE);
    if (!response)
        free(data);
    return response;
}

static enum MHD_Result queue_outgoing(HttpServer *server, struct MHD_Connection *connection,
                                      const char *method, RequestContext *context, Outgoing *out)
{
    Representation chosen = choose_representation(connection, out);
    size_t length;
    struct MHD_Response *response = create_response(out, &chosen, &length);
    if (!response)
        return MHD_NO;
    /* A 304 has no Content-Type; libmicrohttpd 0.9.75 gives it a
     * "Content-Length: 0" that the application cannot remove. */
    if (chosen.status != 304 && out->response.content_type)
        MHD_add_response_header(response, "Content-Type", out->response.content_type);
    if (chosen.gzipped)
        MHD_add_response_header(response, "Content-Encoding", "gzip");
    add_common_headers(server, response, out, request_header(connection, "Origin"), chosen.status,
                       chosen.gzip_tag);
    if (out->preflight)
        add_preflight_headers(response, connection);
    enum MHD_Result queued = MHD_queue_response(connection, (unsigned)chosen.status, response);
    MHD_destroy_response(response);
    context->responded = 1;
    uint64_t elapsed = monotonic_nanoseconds() - context->start_nanoseconds;
    metrics_record_request(out->route, chosen.status, elapsed);
    write_access_log(server, method, context, chosen.status,
                     strcmp(method, "HEAD") == 0 ? 0 : length, elapsed / 1000);
    return queued;
}

static enum MHD_Result respond(HttpServer *server, struct MHD_Connection *connection,
                               const char *method, RequestContext *context)
{
    /* Durations (metrics, access log) run from the complete request to the
     * queued answer: the time the server spends on it, not the time it
     * waited behind other connections of the same worker. */
    context->start_nanoseconds = monotonic_nanoseconds();
    Outgoing out;
    outgoing_init(&out);
    out.accepts_gzip = gzip_accepted(request_header(connection, "Accept-Encoding"));
    int is_get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
    int is_head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    if (!context->target.error) {
        const char *rest;
        const Route *route = routes_find(context->target.path, &rest);
        out.route = route && route->handler ? route->label : ROUTE_OTHER;
    }
    if (strcmp(method, MHD_HTTP_METHOD_OPTIONS) == 0) {
        out.preflight = 1;
        out.compressible = 0;
        out.response.status = 204;
        out.response.content_type = NULL;
    } else if (!is_get && !is_head) {
        method_not_allowed(&out, method);
    } else if (context->target.error) {
        response_problem(&out.response, 400, "Bad request target", "%s", context->target.error);
    } else if (context->target.too_many_parameters) {
        response_problem(&out.response, 400, "Too many parameters",
                         "at most %d query parameters are accepted", REQUEST_MAX_PARAMETERS);
    } else {
        route_request(server, context, is_head, request_header(connection, "Accept-Language"),
                      &out);
    }
    enum MHD_Result result = queue_outgoing(server, connection, method, context, &out);
    outgoing_free(&out);
    return result;
}

/* A GET/HEAD/OPTIONS body beyond HTTP_MAX_DISCARDED_BODY: 413 at once,
 * the rest unread (libmicrohttpd then closes the connection). */
static enum MHD_Result refuse_body(HttpServer *server, struct MHD_Connection *connection,
                                   const char *method, RequestContext *context)
{
    context->start_nanoseconds = monotonic_nanoseconds();
    Outgoing out;
    outgoing_init(&out);
    out.compressible = 0;
    response_problem(&out.response, 413, "Content too large",
                     "a %.16s request carries no body; at most %u bytes are read and dropped",
                     method, HTTP_MAX_DISCARDED_BODY);
    enum MHD_Result result = queue_outgoing(server, connection, method, context, &out);
    outgoing_free(&out);
    return result;
}

static enum MHD_Result on_request(void *closure, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **request_closure)
{
    HttpServer *server = closure;
    RequestContext *context = *request_closure;
    (void)url;
    (void)version;
    (void)upload_data;
    if (!context)
        return MHD_NO; /* out of memory at the request line: drop the connection */
    int first_call = context->calls++ == 0;
    int body_free_method = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
                           strcmp(method, MHD_HTTP_METHOD_HEAD) == 0 ||
                           strcmp(method, MHD_HTTP_METHOD_OPTIONS) == 0;
    if (context->responded) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    /* Other methods are refused at once, body unread (the connection then
     * closes). GET/HEAD/OPTIONS answer on the second call, after any body
     * is discarded, which keeps the connection alive. */
    if (!body_free_method)
        return respond(server, connection, method, context);
    if (first_call)
        return MHD_YES;
    if (*upload_data_size != 0) {
        context->discarded += *upload_data_size;
        *upload_data_size = 0;
        if (context->discarded > HTTP_MAX_DISCARDED_BODY)
            return refuse_body(server, connection, method, context);
        return MHD_YES;
    }
    return respond(server, connection, method, context);
}

/* ---- Daemon life ---------------------------------------------------------- */

static void log_library_message(void *closure, const char *format, va_list arguments)
{
    (void)closure;
    char message[512];
    vsnprintf(message, sizeof message, format, arguments);
    size_t length = strlen(message);
    while (length > 0 && (message[length - 1] == '\n' || message[length - 1] == ' '))
        message[--length] = '\0';
    char line[600];
    int written = snprintf(line, sizeof line, "maillage: libmicrohttpd: %s\n", message);
    if (written > 0) {
        ssize_t ignored = write(STDERR_FILENO, line,
                                (size_t)written < sizeof line ? (size_t)written : sizeof line);
        (void)ignored;
    }
}

typedef struct ListenAddress {
    struct sockaddr_storage storage;
    int ipv6;
    char host[64];
    unsigned port;
} ListenAddress;

static int parse_listen(const char *listen, ListenAddress *address, char *error, size_t error_size)
{
    memset(address, 0, sizeof *address);
    const char *port_text;
    char host[64];
    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (!close || close[1] != ':' || (size_t)(close - listen - 1) >= sizeof host)
            goto bad;
        memcpy(host, listen + 1, (size_t)(close - listen - 1));
        host[close - listen - 1] = '\0';
        port_text = close + 2;
    } else {
        const char *colon = strrchr(listen, ':');
        if (!colon) {
            snprintf(host, sizeof host, "127.0.0.1");
            port_text = listen;
        } else {
            if ((size_t)(colon - listen) >= sizeof host)
                goto bad;
            memcpy(host, listen, (size_t)(colon - listen));
            host[colon - listen] = '\0';
            port_text = colon + 1;
        }
        if (host[0] == '\0' || strcmp(host, "localhost") == 0)
            snprintf(host, sizeof host, "%s", host[0] ? "127.0.0.1" : "0.0.0.0");
    }
    int64_t port;
    if (parse_integer(port_text, 0, 65535, &port) != 0)
        goto bad;
    address->port = (unsigned)port;
    struct sockaddr_in *ipv4 = (struct sockaddr_in *)&address->storage;
    struct sockaddr_in6 *ipv6 = (struct sockaddr_in6 *)&address->storage;
    if (inet_pton(AF_INET, host, &ipv4->sin_addr) == 1) {
        ipv4->sin_family = AF_INET;
        ipv4->sin_port = htons((uint16_t)port);
    } else if (inet_pton(AF_INET6, host, &ipv6->sin6_addr) == 1) {
        ipv6->sin6_family = AF_INET6;
        ipv6->sin6_port = htons((uint16_t)port);
        address->ipv6 = 1;
    } else {
        goto bad;
    }
    snprintf(address->host, sizeof address->host, "%s", host);
    return 0;
bad:
    snprintf(error, error_size,
             "--listen %.100s: expected ADDRESS:PORT with a numeric address, "
             "like 127.0.0.1:8080 or [::1]:8080",
             listen);
    return -1;
}

/* One source of a comma- or space-separated list: printable ASCII with no
 * quote-breaking or header-breaking characters. */
static int list_character_ok(char character)
{
    return character > 0x20 && character < 0x7f && character != ';' && character != '"' &&
           character != ',' && character != '\\';
}

int http_check_origin_list(const char *list, char *error, size_t error_size)
{
    size_t count = 0;
    if (strlen(list) > HTTP_MAX_ORIGIN_LIST_BYTES) {
        snprintf(error, error_size, "the list is longer than %d bytes", HTTP_MAX_ORIGIN_LIST_BYTES);
        return -1;
    }
    for (const char *p = list; *p;) {
        while (*p == ',' || *p == ' ')
            p++;
        if (!*p)
            break;
        const char *start = p;
        while (*p && *p != ',' && *p != ' ') {
            if (!list_character_ok(*p)) {
                snprintf(error, error_size, "'%.40s' holds a character not allowed in an origin",
                         start);
                return -1;
            }
            p++;
        }
        count++;
    }
    if (count == 0 || count > HTTP_MAX_ORIGINS) {
        snprintf(error, error_size, "give from 1 to %d origins", HTTP_MAX_ORIGINS);
        return -1;
    }
    return 0;
}

static int configure_origins(HttpServer *server, char *error, size_t error_size)
{
    const char *list = server->config.cors_origins;
    if (!list || strcmp(list, "*") == 0) {
        server->any_origin = 1;
        return 0;
    }
    if (http_check_origin_list(list, error, error_size) != 0)
        return -1;
    server->origin_storage = strdup(list);
    if (!server->origin_storage) {
        snprintf(error, error_size, "out of memory");
        return -1;
    }
    char *saved = NULL;
    for (char *origin = strtok_r(server->origin_storage, ", ", &saved); origin;
         origin = strtok_r(NULL, ", ", &saved)) {
        if (strcmp(origin, "*") == 0)
            server->any_origin = 1;
        server->origins[server->origin_count++] = origin;
    }
    return 0;
}

/* Pages load everything from this server only; see serve --help for the
 * frame-ancestors defaults. The policies are allocated to fit the whole
 * configured list (checked: at most HTTP_MAX_ORIGIN_LIST_BYTES). */
static int configure_policies(HttpServer *server, char *error, size_t error_size)
{
    static const char base[] =
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        "img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; "
        "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors ";
    const char *list = server->config.frame_ancestors;
    char *ancestors = NULL;
    if (list) {
        if (http_check_origin_list(list, error, error_size) != 0)
            return -1;
        ancestors = strdup(list);
        for (char *p = ancestors; p && *p; p++)
            if (*p == ',')
                *p = ' ';
    }
    int failed = !!list && !ancestors;
    if (!failed && list) {
        failed = asprintf(&server->page_policy, "%s'self' %s", base, ancestors) < 0;
        failed = failed || asprintf(&server->embed_policy, "%s'self' %s", base, ancestors) < 0;
    } else if (!failed) {
        failed = asprintf(&server->page_policy, "%s'self'", base) < 0;
        failed = failed || asprintf(&server->embed_policy, "%s*", base) < 0;
    }
    free(ancestors);
    if (failed) {
        snprintf(error, error_size, "out of memory");
        return -1;
    }
    return 0;
}

static void server_free(HttpServer *server)
{
    free(server->page_policy);
    free(server->embed_policy);
    free(server->origin_storage);
    free(server);
}

HttpServer *http_server_start(const HttpConfig *config, char *error, size_t error_size)
{
    ListenAddress address;
    routes_check();
    if (parse_listen(config->listen, &address, error, error_size) != 0)
        return NULL;
    HttpServer *server = calloc(1, sizeof *server);
    if (!server) {
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    server->config = *config;
    atomic_init(&server->requests_in_flight, 0);
    atomic_init(&server->requests_completed, 0);
    snprintf(server->api_cache_control, sizeof server->api_cache_control, "public, max-age=%u",
             config->cache_max_age);
    if (configure_origins(server, error, error_size) != 0 ||
        configure_policies(server, error, error_size) != 0) {
        server_free(server);
        return NULL;
    }
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_TURBO |
                     MHD_USE_ERROR_LOG | (address.ipv6 ? MHD_USE_IPv6 : 0);
    unsigned threads = config->threads ? config->threads : 1;
    unsigned timeout =
        config->connection_timeout ? config->connection_timeout : HTTP_DEFAULT_CONNECTION_TIMEOUT;
    unsigned max_connections =
        config->max_connections ? config->max_connections : HTTP_DEFAULT_MAX_CONNECTIONS;
    /* libmicrohttpd splits the limit between the pool's threads. */
    if (max_connections < threads)
        max_connections = threads;
    unsigned per_ip = config->max_connections_per_ip;
    struct MHD_OptionItem options[] = {
        {MHD_OPTION_SOCK_ADDR, 0, &address.storage},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_request_line, server},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_request_completed, server},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, HTTP_CONNECTION_MEMORY_LIMIT, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, timeout, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, max_connections, NULL},
        {per_ip ? MHD_OPTION_PER_IP_CONNECTION_LIMIT : MHD_OPTION_END, per_ip, NULL},
        {MHD_OPTION_LISTEN_BACKLOG_SIZE, HTTP_LISTEN_BACKLOG, NULL},
        {threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    server->daemon = MHD_start_daemon(flags, (uint16_t)address.port, NULL, NULL, on_request, server,
                                      MHD_OPTION_EXTERNAL_LOGGER, log_library_message, NULL,
                                      MHD_OPTION_ARRAY, options, MHD_OPTION_END);
    if (!server->daemon) {
        snprintf(error, error_size, "cannot listen on %s (address in use or not available)",
                 config->listen);
        server_free(server);
        return NULL;
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = info && info->port ? info->port : address.port;
    snprintf(server->url, sizeof server->url, address.ipv6 ? "http://[%s]:%u" : "http://%s:%u",
             address.host, port);
    return server;
}

const char *http_server_url(const HttpServer *server)
{
    return server->url;
}

uint64_t http_server_requests_completed(HttpServer *server)
{
    return atomic_load_explicit(&server->requests_completed, memory_order_relaxed);
}

void http_server_stop(HttpServer *server, double drain_seconds)
{
    if (!server)
        return;
    MHD_socket listener = MHD_quiesce_daemon(server->daemon);
    if (listener != MHD_INVALID_SOCKET)
        close(listener);
    uint64_t deadline = monotonic_nanoseconds() + (uint64_t)(drain_seconds * 1e9);
    while (atomic_load_explicit(&server->requests_in_flight, memory_order_acquire) > 0 &&
           monotonic_nanoseconds() < deadline) {
        struct timespec pause = {0, 5 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    MHD_stop_daemon(server->daemon);
    server_free(server);
}
