/* http.h — the HTTP server of `maillage serve` (libmicrohttpd).
 *
 * Owns: the libmicrohttpd daemon and everything between the socket and the
 * handlers: method rules (GET/HEAD, OPTIONS preflight, 405), the 400 for a
 * target request_target.c refuses, routing (api, tiles, /metrics, static
 * files, 404), and the response envelope: ETag and If-None-Match,
 * Cache-Control, gzip, CORS, Content-Security-Policy for the pages, the
 * access log and metrics.
 * Invariants:
 *  - every request pins one snapshot for its whole handling (dataset_state),
 *    and its ETag is derived from that snapshot's version, so a response
 *    never mixes datasets;
 *  - anything a client sends gets a 2xx/3xx/4xx; a 5xx only for a server
 *    fault (out of memory, unreadable file), never for bad input;
 *  - the response is queued on the second call of the access handler (a
 *    response queued on the first call makes libmicrohttpd 0.9.75 close
 *    keep-alive connections);
 *  - each access-log line is written with one write(2);
 *  - every response this server builds (answers, errors, static files,
 *    304, preflight) carries X-Content-Type-Options: nosniff and
 *    Referrer-Policy: no-referrer (the page's address may name a patient's
 *    condition; nothing here needs the Referer header);
 *  - at most max_connections connections are open, max_connections_per_ip
 *    from one address; one idle for connection_timeout seconds is closed.
 *    The configured lists are used whole (the policies are sized to them). */
#ifndef MAILLAGE_HTTP_H
#define MAILLAGE_HTTP_H

#include "dataset/dataset_state.h"
#include "http/static_files.h"

#include <stddef.h>
#include <stdint.h>

typedef struct HttpConfig {
    const char *listen;              /* "host:port", "[v6]:port"; port 0 picks a free one */
    unsigned threads;                /* worker threads (epoll thread pool) */
    const char *cors_origins;        /* NULL or "*": any origin; else a comma-separated list */
    const char *frame_ancestors;     /* NULL: defaults (see serve --help); else a source list */
    int access_log_fd;               /* -1: no access log */
    unsigned cache_max_age;          /* seconds, for API answers */
    unsigned max_connections;        /* open connections in total; 0: the default */
    unsigned max_connections_per_ip; /* from one client address; 0: no limit */
    unsigned connection_timeout;     /* seconds idle before closing; 0: the default */
    DatasetState *state;
    StaticFiles *static_files; /* NULL: no web directory */
} HttpConfig;

#define HTTP_DEFAULT_MAX_CONNECTIONS 2048u
#define HTTP_DEFAULT_CONNECTION_TIMEOUT 30u

typedef struct HttpServer HttpServer;

/* Validates the configuration and starts listening. NULL with a one-line
 * message in `error` (bad --listen, bad list, port in use...). */
HttpServer *http_server_start(const HttpConfig *config, char *error, size_t error_size);
/* "http://127.0.0.1:8080", with the real port when 0 was asked; owned by
 * the server, valid until http_server_stop(). */
const char *http_server_url(const HttpServer *server);
/* Requests completed since the start (answered, or ended by their client),
 * read without a lock: a count another thread may be moving. */
uint64_t http_server_requests_completed(HttpServer *server);
/* Stops accepting, lets requests in flight finish (up to `drain_seconds`),
 * closes every connection and frees the server. NULL is a no-op. */
void http_server_stop(HttpServer *server, double drain_seconds);

/* 1 when an If-None-Match header value names `tag` (an entity tag without
 * quotes): weak comparison (W/ ignored), lists, "*", and the gzip variant
 * "<tag>-gz" all match. */
int http_etag_matches(const char *if_none_match, const char *tag);

/* Checks a --cors-origins or --frame-ancestors list; 0 when acceptable,
 * else -1 with a message. Exposed for the command-line parser. */
int http_check_origin_list(const char *list, char *error, size_t error_size);

#endif
