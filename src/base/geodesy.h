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

/* WGS84, the one definition in maillage: the semi-major axis a (metres)
 * and the flattening f, as EPSG:4326 and PROJ define them. */
#define GEODESY_WGS84_A 6378137.0
#define GEODESY_WGS84_F (1.0 / 298.257223563)
/* The semi-minor (polar) axis b = a (1 - f), 6,356,752.314 m. */
#define GEODESY_WGS84_B (GEODESY_WGS84_A * (1 - GEODESY_WGS84_F))
/* The smallest radius of curvature, b^2 / a (the meridian's, at the
 * equator): 6,335,439.327 m. */
#define GEODESY_WGS84_SMALLEST_CURVATURE_M (GEODESY_WGS84_B * GEODESY_WGS84_B / GEODESY_WGS84_A)

/* The geodesic distance in metres between two WGS84 points (degrees). */
double geodesy_distance_m(double lat1, double lon1, double lat2, double lon2);
/* The Earth-centred, Earth-fixed position (metres) of a WGS84 point on the
 * ellipsoid (height 0). */
void geodesy_to_ecef(double lat, double lon, double xyz[3]);

/* Maps an SRS label of the FINESS / network formats (LAMBERT_93, UTM_N20,
 * UTM_N21, UTM_N22, UTM_S38, UTM_S40) or "EPSG:NNNN" to an authority string;
 * returns NULL for an unknown label. */
const char *geodesy_srs_authority(const char *label, char *scratch, size_t scratch_size);

typedef struct Reprojector Reprojector;
/* A new Reprojector with an empty cache, owned by the caller (free it with
 * reprojector_free()); NULL when out of memory or PROJ cannot start. */
Reprojector *reprojector_new(void);
/* Frees the cached transformations and the Reprojector; NULL is a no-op. */
void reprojector_free(Reprojector *reprojector);
/* Returns 0 with lat/lon, or -1 with a reason in `error` (unknown label,
 * non-finite x/y, a transformation PROJ cannot make, or x/y outside the
 * projection's domain: a point that does not project back to x, y). */
int reprojector_to_wgs84(Reprojector *reprojector, const char *srs_label, double x, double y,
                         double *lat, double *lon, char *error, size_t error_size);

#endif
