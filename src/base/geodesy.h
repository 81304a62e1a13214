/* geodesy.h — every coordinate computation on the WGS84 ellipsoid, through PROJ.
 *
 * Owns: geodesic distances (PROJ's geodesic API, Karney's algorithm), the
 * Earth-centred (ECEF) position used by the nearest-neighbour index, and
 * reprojection of projected coordinates (Lambert-93, the overseas UTM zones,
 * any EPSG code) to WGS84 latitude/longitude. Invariants:
 *  - geodesy_distance_m() is the distance PROJ's `geod` prints, in metres;
 *  - the straight-line (chord) distance between two geodesy_to_ecef() points
 *    is never larger than their geodesic distance: the index relies on it as
 *    an exact lower bound;
 *  - a Reprojector caches one PROJ transformation per SRS and is used by one
 *    thread at a time. */
#ifndef MAILLAGE_GEODESY_H
#define MAILLAGE_GEODESY_H

#include <stddef.h>

double geodesy_distance_m(double lat1, double lon1, double lat2, double lon2);
void geodesy_to_ecef(double lat, double lon, double xyz[3]);

/* Maps an SRS label of the FINESS / network formats (LAMBERT_93, UTM_N20,
 * UTM_N21, UTM_N22, UTM_S38, UTM_S40) or "EPSG:NNNN" to an authority string;
 * returns NULL for an unknown label. */
const char *geodesy_srs_authority(const char *label, char *scratch, size_t scratch_size);

typedef struct Reprojector Reprojector;
Reprojector *reprojector_new(void);
void reprojector_free(Reprojector *reprojector);
/* Returns 0 with lat/lon, or -1 with a reason in `error`. */
int reprojector_to_wgs84(Reprojector *reprojector, const char *srs_label, double x, double y,
                         double *lat, double *lon, char *error, size_t error_size);

#endif
