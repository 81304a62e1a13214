/* tile_layers_points.c — the point index and the layers made of points and
 * straight links: `sites` (folded and clustered care-network sites: on a
 * 16 x 16 grid per tile, a cell clusters at z <= 8 when its sites lie at two
 * positions or more, and at z 9..15 when it also holds more than
 * TILE_DENSE_CELL_SITES sites, so dense synthetic networks keep tiles
 * small; z 16 shows every position),
 * `network` (links between sites) and `etablissements` (FINESS context).
 *
 * Why it is fast: every layer query is a binary search for the contiguous
 * Morton run of the tile, then one sequential pass over it; no site outside
 * the tile is touched. Without an ORPHAcode filter the clustered zooms only
 * read the sorted key and attribute arrays. Links are indexed by the
 * smallest grid cell (levels 0..16) that holds both ends, so a tile reads
 * its ancestors' cells and the descendants of its 3 x 3 neighbourhood. */
#include "tiles/tile_layers.h"
#include "base/array.h"
#include "base/slots.h"
#include "base/sort.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- fixed point and Morton keys ------------------------------------------- */

uint32_t tile_fixed(double world)
{
    double scaled = floor(world * 4294967296.0);
    if (!(scaled >= 0))
        return 0;
    if (scaled > 4294967295.0)
        return UINT32_MAX;
    return (uint32_t)scaled;
}

static uint64_t spread_bits(uint32_t value)
{
    uint64_t x = value;
    x = (x | (x << 16)) & 0x0000FFFF0000FFFFull;
    x = (x | (x << 8)) & 0x00FF00FF00FF00FFull;
    x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0Full;
    x = (x | (x << 2)) & 0x3333333333333333ull;
    x = (x | (x << 1)) & 0x5555555555555555ull;
    return x;
}

static uint32_t compact_bits(uint64_t x)
{
    x &= 0x5555555555555555ull;
    x = (x | (x >> 1)) & 0x3333333333333333ull;
    x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0Full;
    x = (x | (x >> 4)) & 0x00FF00FF00FF00FFull;
    x = (x | (x >> 8)) & 0x0000FFFF0000FFFFull;
    x = (x | (x >> 16)) & 0x00000000FFFFFFFFull;
    return (uint32_t)x;
}

uint64_t tile_morton(uint32_t x, uint32_t y)
{
    return (spread_bits(x) << 1) | spread_bits(y);
}

void tile_morton_decode(uint64_t key, uint32_t *x, uint32_t *y)
{
    *x = compact_bits(key >> 1);
    *y = compact_bits(key);
}

MvtPoint tile_fixed_point(TileAddress tile, uint32_t x, uint32_t y)
{
    int shift = 20 - tile.z; /* fixed point (2^32 per world) to 4096 per tile */
    int64_t dx = (int64_t)x - (int64_t)((uint64_t)tile.x << (32 - tile.z));
    int64_t dy = (int64_t)y - (int64_t)((uint64_t)tile.y << (32 - tile.z));
    MvtPoint point;
    if (shift > 0) {
        int64_t half = (int64_t)1 << (shift - 1);
        point.x = (int32_t)((dx + half) >> shift);
        point.y = (int32_t)((dy + half) >> shift);
    } else {
        point.x = (int32_t)(dx * ((int64_t)1 << -shift));
        point.y = (int32_t)(dy * ((int64_t)1 << -shift));
    }
    return point;
}

/* --- point index ------------------------------------------------------------- */

/* A point's tile key and item (base/sort.h sorts them). */
typedef KeyedItem SortEntry;

typedef struct TieBreak {
    int (*compare)(const void *context, uint32_t a, uint32_t b);
    const void *context;
} TieBreak;

static int compare_tied_entries(const void *a, const void *b, void *argument)
{
    const SortEntry *left = a, *right = b;
    const TieBreak *tie_break = argument;
    int order = tie_break->compare(tie_break->context, left->item, right->item);
    if (order)
        return order;
    return left->item < right->item ? -1 : left->item > right->item;
}

int point_index_build(PointIndex *index, const uint32_t *x, const uint32_t *y, size_t count,
                      int (*tie_break)(const void *context, uint32_t a, uint32_t b),
                      const void *context)
{
    memset(index, 0, sizeof *index);
    SortEntry *entries = malloc((count ? count : 1) * sizeof *entries);
    index->keys = malloc((count ? count : 1) * sizeof *index->keys);
    index->items = malloc((count ? count : 1) * sizeof *index->items);
    if (!entries || !index->keys || !index->items) {
        free(entries);
        point_index_free(index);
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        entries[i].key = tile_morton(x[i], y[i]);
        entries[i].item = (uint32_t)i;
    }
    /* By key, then (stable sort of ascending items) by item; runs of equal
     * keys (sites at one position) are then ordered by the tie-break. */
    if (sort_keyed_items(entries, count) != 0) {
        free(entries);
        point_index_free(index);
        return -1;
    }
    TieBreak order = {tie_break, context};
    for (size_t first = 0; tie_break && first < count;) {
        size_t last = first + 1;
        while (last < count && entries[last].key == entries[first].key)
            last++;
        if (last - first > 1)
            qsort_r(entries + first, last - first, sizeof *entries, compare_tied_entries, &order);
        first = last;
    }
    for (size_t i = 0; i < count; i++) {
        index->keys[i] = entries[i].key;
        index->items[i] = entries[i].item;
    }
    index->count = count;
    free(entries);
    return 0;
}

void point_index_free(PointIndex *index)
{
    free(index->keys);
    free(index->items);
    memset(index, 0, sizeof *index);
}

static size_t lower_bound(const uint64_t *keys, size_t count, uint64_t key)
{
    size_t low = 0, high = count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (keys[middle] < key)
            low = middle + 1;
        else
            high = middle;
    }
    return low;
}

void point_index_range(const PointIndex *index, int level, uint64_t cell_x, uint64_t cell_y,
                       size_t *first, size_t *last)
{
    if (level == 0) {
        *first = 0;
        *last = index->count;
        return;
    }
    int shift = 64 - 2 * level;
    uint64_t cell =
        tile_morton((uint32_t)(cell_x << (32 - level)), (uint32_t)(cell_y << (32 - level))) >>
        shift;
    uint64_t low = cell << shift;
    *first = lower_bound(index->keys, index->count, low);
    if (cell + 1 == ((uint64_t)1 << (2 * level)))
        *last = index->count;
    else
        *last = lower_bound(index->keys, index->count, (cell + 1) << shift);
}

/* --- filters ------------------------------------------------------------------ */

int tile_filter_accepts(const Snapshot *snapshot, const TileFilter *filter, const Site *site)
{
    if (!site_filter_accepts(snapshot, &filter->sites, site))
        return 0;
    return !filter->condition || snapshot_site_covers(snapshot, site, filter->condition, NULL) >= 0;
}

/* Same test from the index's attribute byte, without reading the Site. */
static int attributes_accept(const TileFilter *filter, uint8_t attributes)
{
    return ((filter->sites.role_mask >> (attributes & 0x0F)) & 1u) &&
           ((filter->sites.audience_mask >> (attributes >> 4)) & 1u);
}

static int site_accepted(const TileJob *job, size_t position)
{
    const TileSet *tiles = job->tiles;
    if (!attributes_accept(&job->filter, tiles->site_attributes[position]))
        return 0;
    if (!job->filter.condition)
        return 1;
    const Site *site = &tiles->snapshot->sites[tiles->sites.items[position]];
    return snapshot_site_covers(tiles->snapshot, site, job->filter.condition, NULL) >= 0;
}

/* --- sites ---------------------------------------------------------------------- */

static int compare_site_positions(const void *context, uint32_t a, uint32_t b)
{
    const Site *sites = ((const Snapshot *)context)->sites;
    if (sites[a].lat != sites[b].lat)
        return sites[a].lat < sites[b].lat ? -1 : 1;
    if (sites[a].lon != sites[b].lon)
        return sites[a].lon < sites[b].lon ? -1 : 1;
    return 0;
}

int tile_sites_load(TileSet *tiles, char *error, size_t error_size)
{
    const Snapshot *snapshot = tiles->snapshot;
    size_t count = snapshot->site_count;
    tiles->site_x = calloc(count ? count : 1, sizeof *tiles->site_x);
    tiles->site_y = calloc(count ? count : 1, sizeof *tiles->site_y);
    tiles->site_attributes = malloc(count ? count : 1);
    if (!tiles->site_x || !tiles->site_y || !tiles->site_attributes)
        goto out_of_memory;
    double *bounds = tiles->site_bounds;
    bounds[0] = bounds[1] = INFINITY;
    bounds[2] = bounds[3] = -INFINITY;
    for (size_t i = 0; i < count; i++) {
        const Site *site = &snapshot->sites[i];
        bounds[0] = site->lon < bounds[0] ? site->lon : bounds[0];
        bounds[1] = site->lat < bounds[1] ? site->lat : bounds[1];
        bounds[2] = site->lon > bounds[2] ? site->lon : bounds[2];
        bounds[3] = site->lat > bounds[3] ? site->lat : bounds[3];
        double x, y;
        tile_mercator(snapshot->sites[i].lat, snapshot->sites[i].lon, &x, &y);
        tiles->site_x[i] = tile_fixed(x);
        tiles->site_y[i] = tile_fixed(y);
    }
    if (point_index_build(&tiles->sites, tiles->site_x, tiles->site_y, count,
                          compare_site_positions, snapshot) != 0)
        goto out_of_memory;
    for (size_t i = 0; i < count; i++) {
        const Site *site = &snapshot->sites[tiles->sites.items[i]];
        tiles->site_attributes[i] = (uint8_t)((site->role & 0x0F) | (site->audience << 4));
    }

    /* Links, by the smallest cell holding both ends: key = level << 58 | cell. */
    tiles->link_count = snapshot->link_count;
    size_t links = tiles->link_count ? tiles->link_count : 1;
    SortEntry *entries = malloc(links * sizeof *entries);
    tiles->links_by_cell = malloc(links * sizeof *tiles->links_by_cell);
    tiles->link_cells = malloc(links * sizeof *tiles->link_cells);
    if (!entries || !tiles->links_by_cell || !tiles->link_cells) {
        free(entries);
        goto out_of_memory;
    }
    for (size_t i = 0; i < tiles->link_count; i++) {
        const Link *link = &snapshot->links[i];
        uint32_t x1 = tiles->site_x[link->from], y1 = tiles->site_y[link->from];
        uint32_t x2 = tiles->site_x[link->to], y2 = tiles->site_y[link->to];
        int level_x = (x1 ^ x2) ? __builtin_clz(x1 ^ x2) : 32;
        int level_y = (y1 ^ y2) ? __builtin_clz(y1 ^ y2) : 32;
        int level = level_x < level_y ? level_x : level_y;
        if (level > 16)
            level = 16;
        uint64_t cell = level ? tile_morton(x1, y1) >> (64 - 2 * level) : 0;
        entries[i].key = ((uint64_t)level << 58) | cell;
        entries[i].item = (uint32_t)i;
    }
    if (sort_keyed_items(entries, tiles->link_count) != 0) {
        free(entries);
        goto out_of_memory;
    }
    for (size_t i = 0; i < tiles->link_count; i++) {
        tiles->link_cells[i] = entries[i].key;
        tiles->links_by_cell[i] = entries[i].item;
    }
    free(entries);
    return 0;
out_of_memory:
    snprintf(error, error_size, "tiles: out of memory indexing %zu sites", count);
    return -1;
}

void tile_sites_free(TileSet *tiles)
{
    free(tiles->site_x);
    free(tiles->site_y);
    free(tiles->site_attributes);
    point_index_free(&tiles->sites);
    free(tiles->links_by_cell);
    free(tiles->link_cells);
}

/* Joins a field of the accepted sites of index run [first, last) with '|'. */
static void join_field(const TileJob *job, size_t first, size_t last, Buffer *out,
                       const char *(*field)(const Snapshot *snapshot, const Site *site))
{
    const TileSet *tiles = job->tiles;
    size_t listed = 0;
    for (size_t i = first; i < last && listed < TILE_FOLD_LIST_LIMIT; i++) {
        if (!site_accepted(job, i))
            continue;
        const char *text = field(tiles->snapshot, &tiles->snapshot->sites[tiles->sites.items[i]]);
        if (listed++ > 0)
            buffer_append_char(out, '|');
        buffer_append_string(out, text ? text : "");
    }
}

static const char *site_id_of(const Snapshot *snapshot, const Site *site)
{
    return snapshot_text(snapshot, site->site_id);
}

static const char *name_of(const Snapshot *snapshot, const Site *site)
{
    return snapshot_text(snapshot, site->name);
}

static const char *centre_label_of(const Snapshot *snapshot, const Site *site)
{
    return snapshot_text(snapshot, site->centre_label);
}

static const char *role_of(const Snapshot *snapshot, const Site *site)
{
    (void)snapshot;
    return role_name((Role)site->role);
}

static const char *public_of(const Snapshot *snapshot, const Site *site)
{
    (void)snapshot;
    return audience_name((Audience)site->audience); /* NULL, listed as "", when unstated */
}

static const char *source_of(const Snapshot *snapshot, const Site *site)
{
    return snapshot_text(snapshot, site_details(snapshot, site)->source);
}

/* One point for the accepted sites of the run [first, last), which share
 * one exact position; `count` of them are accepted, the first at `lead`. */
static void encode_folded_point(const TileJob *job, MvtLayer *layer, size_t first, size_t last,
                                size_t lead, size_t count)
{
    const TileSet *tiles = job->tiles;
    uint32_t index = tiles->sites.items[lead];
    const Snapshot *snapshot = tiles->snapshot;
    const Site *site = &snapshot->sites[index];
    const SiteDetails *details = site_details(snapshot, site);
    mvt_feature_begin(layer, MVT_POINT, 1, (uint64_t)index + 1);
    mvt_feature_integer(layer, "count", (int64_t)count);
    mvt_feature_unique_string(layer, "site_id", snapshot_text(snapshot, site->site_id));
    mvt_feature_string(layer, "name", snapshot_text(snapshot, site->name));
    mvt_feature_string(layer, "role", role_name((Role)site->role));
    mvt_feature_string(layer, "centre_label", snapshot_text(snapshot, site->centre_label));
    mvt_feature_string(layer, "filiere", snapshot_text(snapshot, site->filiere));
    mvt_feature_string(layer, "finess", snapshot_text(snapshot, details->finess));
    mvt_feature_string(layer, "city", snapshot_text(snapshot, details->city));
    mvt_feature_string(layer, "public", audience_name((Audience)site->audience));
    mvt_feature_string(layer, "source", snapshot_text(snapshot, details->source));
    if (count > 1) {
        static const struct {
            const char *key;
            const char *(*field)(const Snapshot *snapshot, const Site *site);
        } lists[] = {
            {"site_ids", site_id_of}, {"names", name_of},     {"centre_labels", centre_label_of},
            {"roles", role_of},       {"publics", public_of}, {"sources", source_of}};
        Buffer list;
        buffer_init(&list);
        for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++) {
            buffer_reset(&list);
            join_field(job, first, last, &list, lists[l].field);
            mvt_feature_string(layer, lists[l].key, list.data ? list.data : "");
        }
        if (list.failed)
            layer->failed = 1;
        buffer_free(&list);
        if (count > TILE_FOLD_LIST_LIMIT)
            mvt_feature_bool(layer, "lists_truncated", 1);
    }
    MvtPoint point = tile_fixed_point(job->tile, tiles->site_x[index], tiles->site_y[index]);
    mvt_points(layer, &point, 1);
    mvt_feature_end(layer);
}

/* Folds the index run [first, last) into one point per exact position. */
static void encode_positions(const TileJob *job, MvtLayer *layer, size_t first, size_t last)
{
    const TileSet *tiles = job->tiles;
    const Snapshot *snapshot = tiles->snapshot;
    const Site *sites = snapshot->sites;
    size_t start = first;
    while (start < last) {
        /* The sites and their strings are scattered in memory: fetch the
         * Site structs 16 entries ahead and their strings 8 ahead. */
        if (start + 16 < last)
            __builtin_prefetch(&sites[tiles->sites.items[start + 16]]);
        if (start + 8 < last) {
            const Site *ahead = &sites[tiles->sites.items[start + 8]];
            __builtin_prefetch(snapshot->text_pool + ahead->site_id);
            __builtin_prefetch(snapshot->text_pool + ahead->name);
            __builtin_prefetch(snapshot->text_pool + ahead->centre_label);
            __builtin_prefetch(snapshot->text_pool + ahead->filiere);
        }
        const Site *head = &sites[tiles->sites.items[start]];
        size_t end = start + 1;
        while (end < last && tiles->sites.keys[end] == tiles->sites.keys[start] &&
               sites[tiles->sites.items[end]].lat == head->lat &&
               sites[tiles->sites.items[end]].lon == head->lon)
            end++;
        size_t count = 0, lead = SIZE_MAX;
        for (size_t i = start; i < end; i++) {
            if (site_accepted(job, i)) {
                if (!count)
                    lead = i;
                count++;
            }
        }
        if (count)
            encode_folded_point(job, layer, start, end, lead, count);
        start = end;
    }
}

/* Sums of one cluster cell. */
typedef struct Cluster {
    size_t count;
    uint64_t sum_x, sum_y;
    uint32_t min_x, min_y, max_x, max_y;
} Cluster;

/* The first zoom at which the cluster's sites fall into two cells or
 * more (the maxzoom at worst, where nothing clusters). */
static int expansion_zoom(const Cluster *cluster, int zoom)
{
    for (int z = zoom + 1; z < TILE_SITES_MAX_ZOOM; z++) {
        int shift = 32 - (z + TILE_CLUSTER_CELL_BITS);
        if ((cluster->min_x >> shift) != (cluster->max_x >> shift) ||
            (cluster->min_y >> shift) != (cluster->max_y >> shift))
            return z;
    }
    return TILE_SITES_MAX_ZOOM;
}

static void encode_cluster(const TileJob *job, MvtLayer *layer, const Cluster *cluster,
                           uint64_t cell)
{
    /* No bounds: four doubles per cluster were most of a low-zoom tile's
     * bytes, and expansion_zoom is what a client needs to open a cluster. */
    mvt_feature_begin(layer, MVT_POINT, 1, ((uint64_t)1 << 62) | cell);
    mvt_feature_bool(layer, "cluster", 1);
    mvt_feature_integer(layer, "point_count", (int64_t)cluster->count);
    mvt_feature_integer(layer, "expansion_zoom", expansion_zoom(cluster, job->tile.z));
    MvtPoint point = tile_fixed_point(job->tile, (uint32_t)(cluster->sum_x / cluster->count),
                                      (uint32_t)(cluster->sum_y / cluster->count));
    mvt_points(layer, &point, 1);
    mvt_feature_end(layer);
}

/* One grid cell [first, last): a cluster when its accepted sites lie at
 * two positions or more and the zoom is low (z <= 8) or the cell dense
 * (more than TILE_DENSE_CELL_SITES sites, z < 16); else folded points. */
static void encode_cell(const TileJob *job, MvtLayer *layer, size_t first, size_t last,
                        uint64_t cell)
{
    if (job->tile.z > TILE_CLUSTER_MAX_ZOOM && last - first <= TILE_DENSE_CELL_SITES) {
        encode_positions(job, layer, first, last); /* cannot be dense */
        return;
    }
    const TileSet *tiles = job->tiles;
    Cluster cluster = {0, 0, 0, UINT32_MAX, UINT32_MAX, 0, 0};
    for (size_t i = first; i < last; i++) {
        if (!site_accepted(job, i))
            continue;
        uint32_t x, y; /* from the key: sequential reads only */
        tile_morton_decode(tiles->sites.keys[i], &x, &y);
        cluster.count++;
        cluster.sum_x += x;
        cluster.sum_y += y;
        cluster.min_x = x < cluster.min_x ? x : cluster.min_x;
        cluster.min_y = y < cluster.min_y ? y : cluster.min_y;
        cluster.max_x = x > cluster.max_x ? x : cluster.max_x;
        cluster.max_y = y > cluster.max_y ? y : cluster.max_y;
    }
    if (cluster.count == 0)
        return;
    int dense = cluster.count > TILE_DENSE_CELL_SITES;
    if ((cluster.min_x == cluster.max_x && cluster.min_y == cluster.max_y) ||
        (job->tile.z > TILE_CLUSTER_MAX_ZOOM && !dense))
        encode_positions(job, layer, first, last);
    else
        encode_cluster(job, layer, &cluster, cell);
}

int tile_encode_sites(TileJob *job, MvtLayer *layer)
{
    const TileSet *tiles = job->tiles;
    const PointIndex *index = &tiles->sites;
    size_t first, last;
    point_index_range(index, job->tile.z, job->tile.x, job->tile.y, &first, &last);
    if (job->tile.z >= TILE_SITES_MAX_ZOOM) {
        encode_positions(job, layer, first, last);
        return layer->failed ? -1 : 0;
    }
    int level = job->tile.z + TILE_CLUSTER_CELL_BITS;
    int shift = 64 - 2 * level;
    size_t start = first;
    while (start < last) {
        uint64_t cell = index->keys[start] >> shift;
        size_t end = start + 1;
        while (end < last && (index->keys[end] >> shift) == cell)
            end++;
        encode_cell(job, layer, start, end, cell);
        start = end;
    }
    return layer->failed ? -1 : 0;
}

/* --- network ------------------------------------------------------------------- */

/* Clips the segment a-b (tile coordinates) to [low, high]^2 (Liang-Barsky);
 * returns 0 when nothing is left. */
static int clip_segment(double *ax, double *ay, double *bx, double *by, double low, double high)
{
    double t0 = 0, t1 = 1, dx = *bx - *ax, dy = *by - *ay;
    double p[4] = {-dx, dx, -dy, dy};
    double q[4] = {*ax - low, high - *ax, *ay - low, high - *ay};
    for (int i = 0; i < 4; i++) {
        if (p[i] == 0) {
            if (q[i] < 0)
                return 0;
            continue;
        }
        double t = q[i] / p[i];
        if (p[i] < 0) {
            if (t > t1)
                return 0;
            if (t > t0)
                t0 = t;
        } else {
            if (t < t0)
                return 0;
            if (t < t1)
                t1 = t;
        }
    }
    double x0 = *ax + t0 * dx, y0 = *ay + t0 * dy;
    *bx = *ax + t1 * dx;
    *by = *ay + t1 * dy;
    *ax = x0;
    *ay = y0;
    return 1;
}

/* Links that look the same at this zoom (both ends in the same cells of a
 * grid of 2^shift tile units) are drawn once, as the first of them, with
 * their count, and a tile keeps the TILE_MAX_LINK_BUNDLES bundles with the
 * most links (ties: first met): a dense network stays a few thousand lines
 * per tile. */
typedef struct LinkBundle {
    uint64_t key;
    uint32_t link, count;
    MvtPoint a, b;
} LinkBundle;

typedef struct LinkBundles {
    LinkBundle *items;
    size_t count, capacity;
    HashSlots slots; /* item index + 1 */
    int shift;
    int failed;
} LinkBundles;

static int bundle_shift(int zoom)
{
    return zoom <= 8 ? 8 : zoom < 14 ? 6 : 0;
}

static void bundle_add(LinkBundles *bundles, size_t link_index, MvtPoint a, MvtPoint b)
{
    if (bundles->failed)
        return;
    uint64_t ax = (uint64_t)(a.x + TILE_BUFFER) >> bundles->shift;
    uint64_t ay = (uint64_t)(a.y + TILE_BUFFER) >> bundles->shift;
    uint64_t bx = (uint64_t)(b.x + TILE_BUFFER) >> bundles->shift;
    uint64_t by = (uint64_t)(b.y + TILE_BUFFER) >> bundles->shift;
    if (ax == bx && ay == by)
        return; /* shorter than the grid: nothing to see at this zoom */
    uint64_t first = ax | ay << 16, second = bx | by << 16;
    uint64_t key = first < second ? first | second << 32 : second | first << 32;
    if (hash_slots_reserve(&bundles->slots, 1024) != 0 ||
        array_reserve(bundles->items, bundles->capacity, bundles->count + 1, 512) != 0) {
        bundles->failed = 1;
        return;
    }
    uint32_t hash = (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> 40);
    size_t slot = hash_slots_start(&bundles->slots, hash);
    for (; bundles->slots.values[slot]; slot = hash_slots_next(&bundles->slots, slot)) {
        LinkBundle *bundle = &bundles->items[bundles->slots.values[slot] - 1];
        if (bundles->slots.hashes[slot] == hash && bundle->key == key) {
            bundle->count++;
            return;
        }
    }
    LinkBundle *bundle = &bundles->items[bundles->count];
    bundle->key = key;
    bundle->link = (uint32_t)link_index;
    bundle->count = 1;
    bundle->a = a;
    bundle->b = b;
    hash_slots_fill(&bundles->slots, slot, ++bundles->count, hash);
}

/* Clips one link to the buffered tile and adds it to its bundle. */
static void collect_link(const TileJob *job, LinkBundles *bundles, size_t link_index)
{
    const TileSet *tiles = job->tiles;
    const Snapshot *snapshot = tiles->snapshot;
    const Link *link = &snapshot->links[link_index];
    if (!tile_filter_accepts(snapshot, &job->filter, &snapshot->sites[link->from]) ||
        !tile_filter_accepts(snapshot, &job->filter, &snapshot->sites[link->to]))
        return;
    double ax, ay, bx, by;
    tile_project(job->tile, tiles->site_x[link->from] / 4294967296.0,
                 tiles->site_y[link->from] / 4294967296.0, &ax, &ay);
    tile_project(job->tile, tiles->site_x[link->to] / 4294967296.0,
                 tiles->site_y[link->to] / 4294967296.0, &bx, &by);
    if (!clip_segment(&ax, &ay, &bx, &by, -TILE_BUFFER, MVT_EXTENT + TILE_BUFFER))
        return;
    MvtPoint a = {(int32_t)lround(ax), (int32_t)lround(ay)};
    MvtPoint b = {(int32_t)lround(bx), (int32_t)lround(by)};
    bundle_add(bundles, link_index, a, b);
}

static void collect_link_range(const TileJob *job, LinkBundles *bundles, uint64_t low,
                               uint64_t high)
{
    const TileSet *tiles = job->tiles;
    size_t i = lower_bound(tiles->link_cells, tiles->link_count, low);
    for (; i < tiles->link_count && tiles->link_cells[i] < high; i++)
        collect_link(job, bundles, tiles->links_by_cell[i]);
}

static int compare_bundles(const void *a, const void *b)
{
    const LinkBundle *left = a, *right = b;
    if (left->count != right->count)
        return left->count > right->count ? -1 : 1;
    return left->link < right->link ? -1 : left->link > right->link;
}

static void encode_bundles(const TileJob *job, LinkBundles *bundles, MvtLayer *layer)
{
    const Snapshot *snapshot = job->tiles->snapshot;
    size_t count = bundles->count;
    if (count > TILE_MAX_LINK_BUNDLES) {
        qsort(bundles->items, count, sizeof *bundles->items, compare_bundles);
        count = TILE_MAX_LINK_BUNDLES;
    }
    for (size_t i = 0; i < count; i++) {
        const LinkBundle *bundle = &bundles->items[i];
        const Link *link = &snapshot->links[bundle->link];
        MvtPoint points[2] = {bundle->a, bundle->b};
        mvt_feature_begin(layer, MVT_LINESTRING, 1, (uint64_t)bundle->link + 1);
        mvt_feature_string(layer, "kind",
                           link->kind == LINK_COORDINATOR ? "coordinator" : "cooperation");
        mvt_feature_string(layer, "from",
                           snapshot_text(snapshot, snapshot->sites[link->from].site_id));
        mvt_feature_string(layer, "to", snapshot_text(snapshot, snapshot->sites[link->to].site_id));
        mvt_feature_integer(layer, "count", bundle->count);
        mvt_line(layer, points, 2);
        mvt_feature_end(layer);
    }
}

int tile_encode_network(TileJob *job, MvtLayer *layer)
{
    const TileSet *tiles = job->tiles;
    if (tiles->link_count == 0)
        return 0;
    int z = job->tile.z;
    int64_t size = (int64_t)1 << z;
    LinkBundles bundles;
    memset(&bundles, 0, sizeof bundles);
    bundles.shift = bundle_shift(z);
    /* Ancestor cells (levels 0..min(z, 16)) of the 3 x 3 neighbourhood,
     * each once; then the descendants of each neighbour. */
    for (int level = 0; level <= (z < 16 ? z : 16); level++) {
        uint64_t seen[9] = {0};
        int seen_count = 0;
        for (int dy = -1; dy <= 1; dy++) {
            for (int dx = -1; dx <= 1; dx++) {
                int64_t nx = (int64_t)job->tile.x + dx, ny = (int64_t)job->tile.y + dy;
                if (nx < 0 || ny < 0 || nx >= size || ny >= size)
                    continue;
                uint64_t cx = (uint64_t)nx >> (z - level), cy = (uint64_t)ny >> (z - level);
                uint64_t cell = level ? tile_morton((uint32_t)(cx << (32 - level)),
                                                    (uint32_t)(cy << (32 - level))) >>
                                            (64 - 2 * level)
                                      : 0;
                int duplicate = 0;
                for (int s = 0; s < seen_count; s++)
                    duplicate |= seen[s] == cell;
                if (duplicate)
                    continue;
                seen[seen_count++] = cell;
                uint64_t key = ((uint64_t)level << 58) | cell;
                collect_link_range(job, &bundles, key, key + 1);
            }
        }
    }
    for (int level = z + 1; level <= 16; level++) {
        int depth = level - z;
        for (int dy = -1; dy <= 1; dy++) {
            for (int dx = -1; dx <= 1; dx++) {
                int64_t nx = (int64_t)job->tile.x + dx, ny = (int64_t)job->tile.y + dy;
                if (nx < 0 || ny < 0 || nx >= size || ny >= size)
                    continue;
                uint64_t cell = z ? tile_morton((uint32_t)((uint64_t)nx << (32 - z)),
                                                (uint32_t)((uint64_t)ny << (32 - z))) >>
                                        (64 - 2 * z)
                                  : 0;
                uint64_t base = (uint64_t)level << 58;
                collect_link_range(job, &bundles, base | (cell << (2 * depth)),
                                   base | ((cell + 1) << (2 * depth)));
            }
        }
    }
    if (!bundles.failed)
        encode_bundles(job, &bundles, layer);
    int failed = bundles.failed || layer->failed;
    free(bundles.items);
    hash_slots_free(&bundles.slots);
    return failed ? -1 : 0;
}

/* --- établissements ------------------------------------------------------------- */

int tile_encode_etablissements(TileJob *job, MvtLayer *layer)
{
    const TileSet *tiles = job->tiles;
    size_t first, last;
    point_index_range(&tiles->etablissement_index, job->tile.z, job->tile.x, job->tile.y, &first,
                      &last);
    for (size_t i = first; i < last; i++) {
        uint32_t index = tiles->etablissement_index.items[i];
        const Etablissement *etablissement = &tiles->etablissements[index];
        mvt_feature_begin(layer, MVT_POINT, 1, (uint64_t)index + 1);
        mvt_feature_string(layer, "finess", etablissement->finess);
        mvt_feature_string(layer, "name", etablissement->name);
        mvt_feature_string(layer, "city", etablissement->city);
        mvt_feature_string(layer, "facility_type", etablissement->facility_type);
        mvt_feature_bool(layer, "in_network", etablissement->in_network);
        MvtPoint point = tile_fixed_point(job->tile, tiles->etablissement_x[index],
                                          tiles->etablissement_y[index]);
        mvt_points(layer, &point, 1);
        mvt_feature_end(layer);
    }
    return layer->failed ? -1 : 0;
}

/* Flags the établissements (sorted by FINESS, byte order) that a site of
 * the care network names. */
static void mark_network_etablissements(TileSet *tiles)
{
    const Snapshot *snapshot = tiles->snapshot;
    for (size_t i = 0; i < snapshot->site_count; i++) {
        const char *finess =
            snapshot_text(snapshot, site_details(snapshot, &snapshot->sites[i])->finess);
        if (!finess)
            continue;
        size_t low = 0, high = tiles->etablissement_count;
        while (low < high) {
            size_t middle = low + (high - low) / 2;
            const char *other = tiles->etablissements[middle].finess;
            int order = strcmp(other ? other : "", finess);
            if (order == 0) {
                tiles->etablissements[middle].in_network = 1;
                break;
            }
            if (order < 0)
                low = middle + 1;
            else
                high = middle;
        }
    }
}

int tile_etablissements_load(TileSet *tiles, Store *store, char *error, size_t error_size)
{
    sqlite3_stmt *statement = NULL;
    const char *sql = "SELECT finess, name, city, facility_type, lat, lon FROM etablissements "
                      "WHERE lat IS NOT NULL AND lon IS NOT NULL ORDER BY finess";
    if (sqlite3_prepare_v2(store->db, sql, -1, &statement, NULL) != SQLITE_OK) {
        snprintf(error, error_size, "tiles: reading etablissements: %s", sqlite3_errmsg(store->db));
        return -1;
    }
    size_t capacity = 0, x_capacity = 0, y_capacity = 0; /* one per array */
    int failed = 0, status = SQLITE_DONE;
    while (!failed && (status = sqlite3_step(statement)) == SQLITE_ROW) {
        size_t needed = tiles->etablissement_count + 1;
        if (array_reserve(tiles->etablissements, capacity, needed, 1024) != 0 ||
            array_reserve(tiles->etablissement_x, x_capacity, needed, 1024) != 0 ||
            array_reserve(tiles->etablissement_y, y_capacity, needed, 1024) != 0) {
            failed = 1;
            break;
        }
        Etablissement *etablissement = &tiles->etablissements[tiles->etablissement_count];
        etablissement->finess =
            tile_keep_string(tiles, (const char *)sqlite3_column_text(statement, 0), &failed);
        etablissement->name =
            tile_keep_string(tiles, (const char *)sqlite3_column_text(statement, 1), &failed);
        etablissement->city =
            tile_keep_string(tiles, (const char *)sqlite3_column_text(statement, 2), &failed);
        etablissement->facility_type =
            tile_keep_string(tiles, (const char *)sqlite3_column_text(statement, 3), &failed);
        double wx, wy;
        tile_mercator(sqlite3_column_double(statement, 4), sqlite3_column_double(statement, 5), &wx,
                      &wy);
        tiles->etablissement_x[tiles->etablissement_count] = tile_fixed(wx);
        tiles->etablissement_y[tiles->etablissement_count] = tile_fixed(wy);
        etablissement->in_network = 0;
        tiles->etablissement_count++;
    }
    sqlite3_finalize(statement);
    if (!failed && status != SQLITE_DONE) {
        snprintf(error, error_size, "tiles: cannot read the etablissements: %s",
                 sqlite3_errmsg(store->db));
        return -1;
    }
    mark_network_etablissements(tiles);
    if (failed ||
        point_index_build(&tiles->etablissement_index, tiles->etablissement_x,
                          tiles->etablissement_y, tiles->etablissement_count, NULL, NULL) != 0) {
        snprintf(error, error_size, "tiles: out of memory loading etablissements");
        return -1;
    }
    return 0;
}

void tile_etablissements_free(TileSet *tiles)
{
    free(tiles->etablissements);
    free(tiles->etablissement_x);
    free(tiles->etablissement_y);
    point_index_free(&tiles->etablissement_index);
}
