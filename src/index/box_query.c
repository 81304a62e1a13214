/* box_query.c — bounding-box queries of the spatial index; see
 * spatial_index.h. */
#include "index/kd_tree.h"

#include "base/array.h"
#include "base/select.h"
#include "base/sort.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* --- Boxes -------------------------------------------------------------- */

typedef struct SiteList {
    uint32_t *items;
    size_t length, capacity;
    int failed;
} SiteList;

static void list_push(SiteList *list, uint32_t site)
{
    if (array_reserve(list->items, list->capacity, list->length + 1, 256) != 0) {
        list->failed = 1;
        return;
    }
    list->items[list->length++] = site;
}

static void list_append(SiteList *list, const uint32_t *sites, size_t count)
{
    if (array_reserve(list->items, list->capacity, list->length + count, 256) != 0) {
        list->failed = 1;
        return;
    }
    memcpy(list->items + list->length, sites, count * sizeof *sites);
    list->length += count;
}

typedef struct Box {
    double west, south, east, north; /* west <= east: one piece */
} Box;

static int box_holds(const Box *box, double lon, double lat)
{
    return lon >= box->west && lon <= box->east && lat >= box->south && lat <= box->north;
}

static int node_outside(const KdNode *node, const Box *box)
{
    return node->high[0] < box->west || node->low[0] > box->east || node->high[1] < box->south ||
           node->low[1] > box->north;
}

static int node_inside(const KdNode *node, const Box *box)
{
    return node->low[0] >= box->west && node->high[0] <= box->east && node->low[1] >= box->south &&
           node->high[1] <= box->north;
}

/* An upper bound of the number of sites in `box` (any filter): the sizes
 * of the nodes inside it and of the leaves it cuts. Cheap: only the
 * boundary of the box is visited. */
static size_t box_upper_bound(const SpatialIndex *index, const Box *box)
{
    uint32_t stack[128];
    size_t depth = 0, bound = 0;
    stack[depth++] = index->box_root;
    while (depth > 0) {
        uint32_t id = stack[--depth];
        const KdNode *node = &index->box_nodes[id];
        if (node_outside(node, box))
            continue;
        if (node_inside(node, box) || !node->right) {
            bound += node->end - node->begin;
            continue;
        }
        stack[depth++] = id + 1;
        stack[depth++] = node->right;
    }
    return bound;
}

/* Appends the sites of the (lon, lat) tree inside `box` passing `filter`. */
static void box_collect(const SpatialIndex *index, const Snapshot *snapshot, const Box *box,
                        const SiteFilter *filter, SiteList *out)
{
    uint32_t stack[128];
    size_t depth = 0;
    stack[depth++] = index->box_root;
    while (depth > 0) {
        uint32_t id = stack[--depth];
        const KdNode *node = &index->box_nodes[id];
        if (node_outside(node, box) || !node_may_match(node, filter))
            continue;
        int inside = node_inside(node, box);
        if (inside && node_all_pass(node, filter)) {
            /* Every site of the node matches: no need to look at them. */
            list_append(out, index->box_points + node->begin, node->end - node->begin);
            continue;
        }
        if (inside || !node->right) {
            for (uint32_t p = node->begin; p < node->end; p++) {
                uint32_t s = index->box_points[p];
                const Site *site = &snapshot->sites[s];
                if ((inside || box_holds(box, site->lon, site->lat)) &&
                    site_filter_accepts(snapshot, filter, site))
                    list_push(out, s);
            }
            continue;
        }
        stack[depth++] = id + 1;
        stack[depth++] = node->right;
    }
}

/* Moves the `nth` smallest values to the front (unordered). */
/* A site index is its own key (site_id order). */
#define SITE_KEY(site, unused) (*(site))
SELECT_DEFINE(select_smallest, uint32_t, int, SITE_KEY)

static int in_query_box(const Box pieces[2], size_t piece_count, const Site *site)
{
    for (size_t p = 0; p < piece_count; p++)
        if (box_holds(&pieces[p], site->lon, site->lat))
            return 1;
    return 0;
}

/* The sites covering `condition` in the box: the union of its ancestors'
 * listing sites, sorted, without duplicates. */
static void condition_collect(const SpatialIndex *index, const Snapshot *snapshot,
                              const Box pieces[2], size_t piece_count, const Condition *condition,
                              const SiteFilter *filter, SiteList *out)
{
    const AncestorEntry *ancestors = snapshot->ancestors + condition->ancestors_start;
    for (uint32_t a = 0; a < condition->ancestor_count; a++) {
        size_t count;
        const TreePoint *listing =
            listing_points(index, snapshot, &snapshot->conditions[ancestors[a].condition], &count);
        for (size_t i = 0; i < count; i++) {
            const Site *site = &snapshot->sites[listing[i].site];
            if (site_filter_accepts(snapshot, filter, site) &&
                in_query_box(pieces, piece_count, site))
                list_push(out, listing[i].site);
        }
    }
    if (out->failed || out->length == 0)
        return;
    sort_uint32(out->items, out->length);
    size_t unique = 1;
    for (size_t i = 1; i < out->length; i++)
        if (out->items[i] != out->items[unique - 1])
            out->items[unique++] = out->items[i];
    out->length = unique;
}

int spatial_index_box(const SpatialIndex *index, const Snapshot *snapshot, double west,
                      double south, double east, double north, const Condition *condition,
                      const SiteFilter *filter, size_t limit, uint32_t *sites, size_t *count,
                      int *truncated)
{
    Box pieces[2] = {{west, south, east, north}, {-180, south, east, north}};
    size_t piece_count = 1;
    if (west > east) {
        pieces[0].east = 180;
        piece_count = 2;
    }
    *count = 0;
    *truncated = 0;
    if (snapshot->site_count == 0 || south > north)
        return 0;
    SiteList found = {NULL, 0, 0, 0};
    if (condition) {
        condition_collect(index, snapshot, pieces, piece_count, condition, filter, &found);
    } else {
        size_t upper_bound = 0;
        for (size_t p = 0; p < piece_count; p++)
            upper_bound += box_upper_bound(index, &pieces[p]);
        /* A box holding a large share of the sites: scanning in site order
         * finds the first `limit` sooner than collecting them all. */
        if ((double)upper_bound * (double)upper_bound >
            (double)(limit + 1) * (double)snapshot->site_count) {
            for (size_t s = 0; s < snapshot->site_count; s++) {
                const Site *site = &snapshot->sites[s];
                if (!site_filter_accepts(snapshot, filter, site) ||
                    !in_query_box(pieces, piece_count, site))
                    continue;
                if (*count == limit) {
                    *truncated = 1;
                    break;
                }
                sites[(*count)++] = (uint32_t)s;
            }
            return 0;
        }
        for (size_t p = 0; p < piece_count; p++)
            box_collect(index, snapshot, &pieces[p], filter, &found);
        if (!found.failed && found.length > limit && limit > 0)
            select_smallest(found.items, (ptrdiff_t)found.length, (ptrdiff_t)limit - 1, 0);
        if (!found.failed && found.length > 0)
            sort_uint32(found.items, found.length < limit ? found.length : limit);
    }
    if (found.failed) {
        free(found.items);
        return -1;
    }
    *truncated = found.length > limit;
    *count = found.length < limit ? found.length : limit;
    if (*count)
        memcpy(sites, found.items, *count * sizeof *sites);
    free(found.items);
    return 0;
}
