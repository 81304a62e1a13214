/* metrics.c — lock-free request metrics and their Prometheus text; see metrics.h. */
#include "http/metrics.h"

#include "dataset/dataset.h"

#include <stdatomic.h>
#include <string.h>

#define METRICS_MAX_SLOTS 32

static const char *const route_names[ROUTE_COUNT] = {
    "nearest",       "structures", "structure", "conditions", "places",  "coverage",
    "service_areas", "healthz",    "tiles",     "static",     "metrics", "other",
};

/* Statuses with their own series; anything else is counted as "other". */
static const int tracked_statuses[] = {200, 204, 206, 301, 304, 400, 404, 405,
                                       406, 411, 413, 414, 416, 431, 500, 503};
#define STATUS_COUNT (sizeof tracked_statuses / sizeof tracked_statuses[0])
#define STATUS_OTHER STATUS_COUNT

/* Upper bounds of the duration buckets, in seconds; the last bucket is +Inf. */
static const double bucket_bounds[] = {0.00005, 0.0001, 0.0002, 0.0003, 0.0005, 0.00075,
                                       0.001,   0.0025, 0.005,  0.01,   0.025,  0.05,
                                       0.1,     0.25,   0.5,    1.0};
#define BUCKET_COUNT (sizeof bucket_bounds / sizeof bucket_bounds[0])

typedef struct MetricsSlot {
    _Atomic uint64_t requests[ROUTE_COUNT][STATUS_COUNT + 1];
    _Atomic uint64_t buckets[ROUTE_COUNT][BUCKET_COUNT + 1];
    _Atomic uint64_t duration_nanoseconds[ROUTE_COUNT];
} __attribute__((aligned(64))) MetricsSlot;

static MetricsSlot slots[METRICS_MAX_SLOTS];
static atomic_int next_slot;
static _Thread_local int thread_slot = -1;
static _Atomic uint64_t reloads_succeeded;
static _Atomic uint64_t reloads_failed;

static MetricsSlot *current_slot(void)
{
    if (thread_slot < 0) {
        int slot = atomic_fetch_add_explicit(&next_slot, 1, memory_order_relaxed);
        thread_slot = slot < METRICS_MAX_SLOTS ? slot : METRICS_MAX_SLOTS - 1;
    }
    return &slots[thread_slot];
}

const char *metrics_route_name(MetricsRoute route)
{
    return route < ROUTE_COUNT ? route_names[route] : "other";
}

static size_t status_index(int status)
{
    for (size_t i = 0; i < STATUS_COUNT; i++)
        if (tracked_statuses[i] == status)
            return i;
    return STATUS_OTHER;
}

static size_t bucket_index(uint64_t duration_nanoseconds)
{
    double seconds = (double)duration_nanoseconds / 1e9;
    for (size_t i = 0; i < BUCKET_COUNT; i++)
        if (seconds <= bucket_bounds[i])
            return i;
    return BUCKET_COUNT;
}

void metrics_record_request(MetricsRoute route, int status, uint64_t duration_nanoseconds)
{
    if (route >= ROUTE_COUNT)
        route = ROUTE_OTHER;
    MetricsSlot *slot = current_slot();
    atomic_fetch_add_explicit(&slot->requests[route][status_index(status)], 1,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&slot->buckets[route][bucket_index(duration_nanoseconds)], 1,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&slot->duration_nanoseconds[route], duration_nanoseconds,
                              memory_order_relaxed);
}

void metrics_record_reload(int succeeded)
{
    atomic_fetch_add_explicit(succeeded ? &reloads_succeeded : &reloads_failed, 1,
                              memory_order_relaxed);
}

uint64_t metrics_reload_count(void)
{
    return atomic_load_explicit(&reloads_succeeded, memory_order_relaxed);
}

static uint64_t sum_requests(size_t route, size_t status)
{
    uint64_t total = 0;
    for (size_t i = 0; i < METRICS_MAX_SLOTS; i++)
        total += atomic_load_explicit(&slots[i].requests[route][status], memory_order_relaxed);
    return total;
}

static uint64_t sum_bucket(size_t route, size_t bucket)
{
    uint64_t total = 0;
    for (size_t i = 0; i < METRICS_MAX_SLOTS; i++)
        total += atomic_load_explicit(&slots[i].buckets[route][bucket], memory_order_relaxed);
    return total;
}

static uint64_t sum_duration(size_t route)
{
    uint64_t total = 0;
    for (size_t i = 0; i < METRICS_MAX_SLOTS; i++)
        total += atomic_load_explicit(&slots[i].duration_nanoseconds[route], memory_order_relaxed);
    return total;
}

/* Appends a label value escaped as the exposition format requires. */
static void append_label_value(Buffer *out, const char *value)
{
    for (const char *p = value; *p; p++) {
        if (*p == '\\' || *p == '"')
            buffer_append_char(out, '\\');
        if (*p == '\n') {
            buffer_append_string(out, "\\n");
            continue;
        }
        buffer_append_char(out, *p);
    }
}

static void render_requests(Buffer *out)
{
    buffer_append_string(out, "# HELP maillage_requests_total HTTP requests answered, by route "
                              "and status.\n# TYPE maillage_requests_total counter\n");
    for (size_t route = 0; route < ROUTE_COUNT; route++) {
        for (size_t status = 0; status <= STATUS_COUNT; status++) {
            uint64_t count = sum_requests(route, status);
            if (count == 0)
                continue;
            if (status == STATUS_OTHER)
                buffer_printf(out, "maillage_requests_total{route=\"%s\",status=\"other\"} %llu\n",
                              route_names[route], (unsigned long long)count);
            else
                buffer_printf(out, "maillage_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                              route_names[route], tracked_statuses[status],
                              (unsigned long long)count);
        }
    }
}

static void render_durations(Buffer *out)
{
    buffer_append_string(out,
                         "# HELP maillage_request_duration_seconds Time from the complete request "
                         "to the queued response, by route.\n"
                         "# TYPE maillage_request_duration_seconds histogram\n");
    for (size_t route = 0; route < ROUTE_COUNT; route++) {
        uint64_t cumulative = 0;
        for (size_t bucket = 0; bucket <= BUCKET_COUNT; bucket++) {
            cumulative += sum_bucket(route, bucket);
            if (bucket < BUCKET_COUNT)
                buffer_printf(out,
                              "maillage_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} "
                              "%llu\n",
                              route_names[route], bucket_bounds[bucket],
                              (unsigned long long)cumulative);
            else
                buffer_printf(out,
                              "maillage_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} "
                              "%llu\n",
                              route_names[route], (unsigned long long)cumulative);
        }
        buffer_printf(out, "maillage_request_duration_seconds_sum{route=\"%s\"} %.9f\n",
                      route_names[route], (double)sum_duration(route) / 1e9);
        buffer_printf(out, "maillage_request_duration_seconds_count{route=\"%s\"} %llu\n",
                      route_names[route], (unsigned long long)cumulative);
    }
}

void metrics_render(Buffer *out, const MetricsDataset *dataset)
{
    render_requests(out);
    render_durations(out);
    buffer_append_string(out, "# HELP maillage_dataset_info The dataset being served.\n"
                              "# TYPE maillage_dataset_info gauge\n"
                              "maillage_dataset_info{version=\"");
    append_label_value(out, dataset->version ? dataset->version : "");
    buffer_append_string(out, "\"} 1\n");
    buffer_printf(out,
                  "# HELP maillage_dataset_sites Care network sites in the dataset.\n"
                  "# TYPE maillage_dataset_sites gauge\nmaillage_dataset_sites %zu\n",
                  dataset->sites);
    buffer_printf(out,
                  "# HELP maillage_dataset_load_seconds Time the dataset took to load.\n"
                  "# TYPE maillage_dataset_load_seconds gauge\n"
                  "maillage_dataset_load_seconds %.6f\n",
                  dataset->load_seconds);
    buffer_printf(out,
                  "# HELP maillage_nearest_cache_bytes Memory held by the covering trees "
                  "(--nearest-cache-mb).\n"
                  "# TYPE maillage_nearest_cache_bytes gauge\nmaillage_nearest_cache_bytes %zu\n",
                  dataset->nearest_cache_bytes);
    buffer_printf(out,
                  "# HELP maillage_nearest_cache_builds_total Covering trees built since the "
                  "dataset was loaded.\n"
                  "# TYPE maillage_nearest_cache_builds_total counter\n"
                  "maillage_nearest_cache_builds_total %zu\n"
                  "# HELP maillage_nearest_cache_evictions_total Covering trees evicted to make "
                  "room since the dataset was loaded.\n"
                  "# TYPE maillage_nearest_cache_evictions_total counter\n"
                  "maillage_nearest_cache_evictions_total %zu\n",
                  dataset->nearest_cache_builds, dataset->nearest_cache_evictions);
    buffer_printf(
        out,
        "# HELP maillage_reloads_total Datasets reloaded successfully (SIGHUP).\n"
        "# TYPE maillage_reloads_total counter\nmaillage_reloads_total %llu\n",
        (unsigned long long)atomic_load_explicit(&reloads_succeeded, memory_order_relaxed));
    buffer_printf(out,
                  "# HELP maillage_reload_failures_total Reloads that failed (the previous "
                  "dataset kept serving).\n"
                  "# TYPE maillage_reload_failures_total counter\n"
                  "maillage_reload_failures_total %llu\n",
                  (unsigned long long)atomic_load_explicit(&reloads_failed, memory_order_relaxed));
}

void metrics_answer(const Request *request, Response *response, const char *rest)
{
    (void)rest;
    const Dataset *dataset = request->dataset;
    MetricsDataset figures = {dataset->snapshot->version,
                              dataset->snapshot->site_count,
                              dataset->snapshot->load_seconds,
                              spatial_index_cache_bytes(dataset->index),
                              0,
                              0};
    spatial_index_cache_counts(dataset->index, &figures.nearest_cache_builds,
                               &figures.nearest_cache_evictions);
    buffer_reset(&response->body);
    metrics_render(&response->body, &figures);
    response->status = 200;
    response->content_type = "text/plain; version=0.0.4; charset=utf-8";
    response->no_etag = 1;
}
