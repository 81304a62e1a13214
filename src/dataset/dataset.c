/* dataset.c — loading a Dataset; see dataset.h. */
#include "dataset/dataset.h"

#include <assert.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Computed answers kept per dataset (coverage, service areas). */
#define DATASET_ANSWER_CACHE_BYTES ((size_t)64 << 20)
/* The sites' encoded GeoJSON features (about 0.5 KB each): every site of a
 * network of up to ~100,000 sites; on larger ones, those asked first. */
#define DATASET_FEATURE_BYTES ((size_t)64 << 20)

/* The packed part holding the trees' point orders (spatial_index_order()). */
#define TREE_ORDER_PART "tree_order"

/* The second thread's work: what needs only the sites and conditions. */
typedef struct IndexJob {
    Snapshot *snapshot;
    const SpatialIndexOptions *options;
    void *order; /* the stored tree order, NULL when the file has none */
    size_t order_size;
    const char *order_refused;
    SpatialIndex *index;
    char error[512];
} IndexJob;

static void *build_index(void *argument)
{
    IndexJob *job = argument;
    if (snapshot_count_coverage(job->snapshot) != 0) {
        snprintf(job->error, sizeof job->error, "%.400s: out of memory", job->snapshot->path);
        return NULL;
    }
    job->index =
        spatial_index_build_ordered(job->snapshot, job->options, job->order, job->order_size,
                                    &job->order_refused, job->error, sizeof job->error);
    return NULL;
}

/* What reads the database besides the sites: links, condition search,
 * places and tiles. Returns 0, or -1 with a message. */
static int read_the_rest(SnapshotLoader *loader, Dataset *dataset, const DatasetOptions *options,
                         char *error, size_t error_size)
{
    Store *store = snapshot_loader_store(loader);
    if (snapshot_loader_read_links(loader) != 0)
        return -1;
    dataset->conditions = condition_search_load(dataset->snapshot, store, error, error_size);
    if (!dataset->conditions)
        return -1;
    dataset->places = places_load(store, error, error_size);
    if (!dataset->places)
        return -1;
    dataset->communes = communes_load(store, error, error_size);
    if (!dataset->communes)
        return -1;
    dataset->service_land = service_land_load(store, error, error_size);
    if (!dataset->service_land)
        return -1;
    dataset->answers = tile_cache_new(DATASET_ANSWER_CACHE_BYTES);
    dataset->features = once_blobs_new(dataset->snapshot->site_count, DATASET_FEATURE_BYTES);
    if (!dataset->answers || !dataset->features) {
        snprintf(error, error_size, "%s: out of memory", dataset->snapshot->path);
        return -1;
    }
    dataset->tiles = tiles_load(dataset->snapshot, store, &options->tiles, error, error_size);
    return dataset->tiles ? 0 : -1;
}

Dataset *dataset_load(const char *path, const DatasetOptions *options, char *error,
                      size_t error_size)
{
    DatasetOptions chosen = options ? *options : DATASET_DEFAULTS;
    Dataset *dataset = calloc(1, sizeof *dataset);
    if (!dataset) {
        snprintf(error, error_size, "%s: out of memory", path);
        return NULL;
    }
    SnapshotLoader *loader = snapshot_loader_open(path, &chosen.snapshot, error, error_size);
    if (!loader) {
        free(dataset);
        return NULL;
    }
    dataset->snapshot = snapshot_loader_snapshot(loader);
    IndexJob job = {dataset->snapshot, &chosen.index, NULL, 0, NULL, NULL, ""};
    const char *absent; /* a file without the part builds its trees by selection */
    job.order = store_read_part(snapshot_loader_store(loader), TREE_ORDER_PART, 0, &job.order_size,
                                &absent);
    pthread_t thread;
    int threaded = pthread_create(&thread, NULL, build_index, &job) == 0;
    if (!threaded)
        build_index(&job);
    int status = read_the_rest(loader, dataset, &chosen, error, error_size);
    if (threaded)
        pthread_join(thread, NULL);
    free(job.order);
    if (job.order_refused)
        buffer_warn(chosen.snapshot.warnings,
                    "maillage: the tree order in %s is invalid (%s); built the trees", path,
                    job.order_refused);
    if (status == 0 && !job.index) {
        snprintf(error, error_size, "%s", job.error);
        status = -1;
    }
    dataset->index = job.index;
    if (status != 0) {
        snapshot_loader_abandon(loader); /* frees the snapshot */
        dataset->snapshot = NULL;
        dataset_free(dataset);
        return NULL;
    }
    Snapshot *snapshot = snapshot_loader_finish(loader);
    assert(snapshot == dataset->snapshot);
    (void)snapshot;
    return dataset;
}

int dataset_pack(const char *path, char *error, size_t error_size)
{
    if (snapshot_pack(path, error, error_size) != 0)
        return -1;
    Snapshot *snapshot = snapshot_load(path, NULL, error, error_size);
    if (!snapshot)
        return -1;
    SpatialIndex *index = spatial_index_build(snapshot, NULL, error, error_size);
    size_t size = 0;
    void *order = index ? spatial_index_order(index, snapshot, &size) : NULL;
    int status = -1;
    if (index && !order)
        snprintf(error, error_size, "%s: out of memory", path);
    else if (order)
        status = store_write_part(path, TREE_ORDER_PART, order, size, error, error_size);
    free(order);
    spatial_index_free(index);
    snapshot_free(snapshot);
    return status;
}

void dataset_free(Dataset *dataset)
{
    if (!dataset)
        return;
    tiles_free(dataset->tiles);
    places_free(dataset->places);
    communes_free(dataset->communes);
    service_land_free(dataset->service_land);
    tile_cache_free(dataset->answers);
    once_blobs_free(dataset->features);
    condition_search_free(dataset->conditions);
    spatial_index_free(dataset->index);
    snapshot_free(dataset->snapshot);
    free(dataset);
}
