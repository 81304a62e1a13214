/* metrics.h — request counters and latency histograms for /metrics.
 *
 * Owns: the process-wide request metrics (per route and status), the
 * request duration histogram per route, the reload counters, and their
 * Prometheus text rendering. Invariants:
 *  - lock-free: each thread adds into its own cache-line-aligned slot of
 *    relaxed atomics (threads beyond METRICS_MAX_SLOTS share one last slot,
 *    still correct because every counter is atomic); rendering sums slots;
 *  - counters only grow for the life of the process;
 *  - route labels are a small fixed set (metrics_route_name), so the number
 *    of series is bounded whatever clients send. */
#ifndef MAILLAGE_METRICS_H
#define MAILLAGE_METRICS_H

#include "base/buffer.h"
#include "http/request.h"

#include <stddef.h>
#include <stdint.h>

typedef enum MetricsRoute {
    ROUTE_NEAREST,
    ROUTE_STRUCTURES,
    ROUTE_STRUCTURE,
    ROUTE_CONDITIONS,
    ROUTE_PLACES,
    ROUTE_COVERAGE,
    ROUTE_SERVICE_AREAS,
    ROUTE_HEALTHZ,
    ROUTE_TILES,
    ROUTE_STATIC,
    ROUTE_METRICS,
    ROUTE_OTHER,
    ROUTE_COUNT
} MetricsRoute;

/* The label of a route (routes.h gives each route its label; "static" is
 * kept only once a file was served, any other path is "other"). */
const char *metrics_route_name(MetricsRoute route);

/* Counts one answered request (a route out of range counts as "other"); a
 * status without its own series is counted as status "other". Thread-safe. */
void metrics_record_request(MetricsRoute route, int status, uint64_t duration_nanoseconds);
/* Counts one reload attempt, succeeded when `succeeded` is non-zero.
 * Thread-safe. */
void metrics_record_reload(int succeeded);
/* The number of successful reloads since the process started (failed ones
 * not included). Thread-safe. */
uint64_t metrics_reload_count(void);

typedef struct MetricsDataset {
    const char *version;
    size_t sites;
    double load_seconds;
    size_t nearest_cache_bytes;     /* held by covering trees (spatial_index.h) */
    size_t nearest_cache_builds;    /* covering trees built since the dataset loaded */
    size_t nearest_cache_evictions; /* and evicted */
} MetricsDataset;

/* Appends the Prometheus text exposition (version 0.0.4) of every metric. */
void metrics_render(Buffer *out, const MetricsDataset *dataset);

/* The /metrics route (routes.h): every metric with request->dataset's
 * figures, 200 text/plain, never an ETag. */
void metrics_answer(const Request *request, Response *response, const char *rest);

#endif
