/* service_land.h — the land service areas cut: France's land by territory
 * (communes.h: metropolitan France and the five overseas départements).
 *
 * Owns: ServiceLand, read once per dataset from the départements' geometry
 * (only their WKB is copied at load, 10 ms), and its build at the first
 * service-area computation (0.15 s for the shipped data): per territory the
 * union of its départements at full detail, not simplified (every commune
 * point of the shipped data lies in it), its envelope, centre, radius and
 * projection, and the communes whose point lies in it. The build is
 * internal to src/index/ (service_internal.h, service_land.c); the
 * computation over it is service_areas.h's.
 *
 * Invariants:
 *  - the land of a territory is the union of its départements: valid, its
 *    area their summed area (within 1e-9), enclaves left out;
 *  - thread-safe: the land is built once, at the first computation (any
 *    number of threads may call; one builds while the others wait), and is
 *    immutable after.
 */
#ifndef MAILLAGE_SERVICE_LAND_H
#define MAILLAGE_SERVICE_LAND_H

#include "store/store.h"

#include <stddef.h>

typedef struct ServiceLand ServiceLand;

/* Reads the départements' geometry (table `departements`, SpatiaLite
 * `geom`, WGS84) from `store` and keeps it by territory; départements of
 * no territory (an unknown "97x") and rows without geometry are left out.
 * The union and the projections are built at the first
 * service_areas_compute(). Returns the land, or NULL with a one-line
 * message in `error`. */
ServiceLand *service_land_load(Store *store, char *error, size_t error_size);
/* Frees the land; NULL is a no-op. No computation may be running on it. */
void service_land_free(ServiceLand *land);

#endif
