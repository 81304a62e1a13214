/* service_internal.h — INTERNAL to src/index/ (service_land.c and
 * service_areas.c only; nothing outside index/ includes it): the built land
 * that service_land.c makes and service_areas.c reads.
 *
 * Owns: the types of the built land (Territory, LandBuild) and
 * service_land_ready(), the one way to reach them from a ServiceLand.
 *
 * Invariants:
 *  - a LandBuild is built once per ServiceLand, at the first
 *    service_land_ready(), and immutable after: any number of threads may
 *    read it without locks;
 *  - a Territory with `present` set has a non-empty `land`, its envelopes,
 *    centre, radius and projection; `communes` lists the communes (indexes
 *    into LandBuild.communes) whose point lies in that land, each in one
 *    territory only, with `commune_xy` their points in the projection.
 *
 * It names `struct ServiceLand` rather than including service_land.h, so
 * that service_land.c, which includes this header, and this header do not
 * depend on each other (../shared/tools/include-cycles). */
#ifndef MAILLAGE_SERVICE_INTERNAL_H
#define MAILLAGE_SERVICE_INTERNAL_H

#include "index/communes.h"
#include "index/service_geometry.h"

#include <stddef.h>
#include <stdint.h>

struct ServiceLand;

typedef struct Territory {
    int present;                       /* 1 when some département gave it land */
    char *projection;                  /* PROJ pipeline: degrees -> metres */
    PolygonSet land;                   /* WGS84, the union of its départements */
    double west, south, east, north;   /* WGS84 envelope of `land` */
    double min_x, min_y, max_x, max_y; /* projected envelope, widened */
    double centre_lat, centre_lon;     /* the land's centroid */
    double radius_m;                   /* every land point is this close to the centre */
    uint32_t *communes;                /* communes whose point is on this land */
    double *commune_xy;                /* their points, projected */
    size_t commune_count;
    int64_t population; /* of those communes */
} Territory;

typedef struct LandBuild {
    const Communes *communes; /* the one Communes the commune lists index */
    Territory territories[TERRITORY_COUNT];
} LandBuild;

/* The built land of `land`, building it first when no call has (under the
 * land's mutex; later calls read it without locks). `communes` must be the
 * same Communes at every call on one land. Returns the build, or NULL with
 * *status -1 (memory) or -2 (GEOS or PROJ) and a one-line message in
 * `error`. */
const LandBuild *service_land_ready(struct ServiceLand *land, const Communes *communes, int *status,
                                    char *error, size_t error_size);

#endif
