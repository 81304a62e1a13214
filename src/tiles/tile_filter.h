/* tile_filter.h — which sites the `sites` and `network` layers draw.
 *
 * Owns: the TileFilter a tile is rendered with (tile_set.h) and its test
 * on one site (tile_layers_points.c). */
#ifndef MAILLAGE_TILE_FILTER_H
#define MAILLAGE_TILE_FILTER_H

#include "model/snapshot.h"

/* Which sites the `sites` and `network` layers draw. */
typedef struct TileFilter {
    SiteFilter sites;           /* roles, audiences */
    const Condition *condition; /* NULL: any; else its covering sites (classification included) */
} TileFilter;

/* 1 when `site` passes the filter's roles and audiences and covers its
 * condition (when it has one). */
int tile_filter_accepts(const Snapshot *snapshot, const TileFilter *filter, const Site *site);

#endif
