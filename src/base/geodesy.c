/* geodesy.c — WGS84 distances, ECEF and reprojection via PROJ; see geodesy.h. */
#include "base/geodesy.h"

#include <ctype.h>
#include <geodesic.h>
#include <math.h>
#include <proj.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct geod_geodesic wgs84;
static int wgs84_ready;

static const struct geod_geodesic *wgs84_geodesic(void)
{
    /* geod_init is pure arithmetic: racing initialisations write equal values. */
    if (!wgs84_ready) {
        struct geod_geodesic g;
        geod_init(&g, GEODESY_WGS84_A, GEODESY_WGS84_F);
        wgs84 = g;
        __atomic_store_n(&wgs84_ready, 1, __ATOMIC_RELEASE);
    }
    return &wgs84;
}

double geodesy_distance_m(double lat1, double lon1, double lat2, double lon2)
{
    double distance = 0;
    geod_inverse(wgs84_geodesic(), lat1, lon1, lat2, lon2, &distance, NULL, NULL);
    return distance;
}

void geodesy_to_ecef(double lat, double lon, double xyz[3])
{
    const double e2 = GEODESY_WGS84_F * (2 - GEODESY_WGS84_F);
    double phi = lat * M_PI / 180, lambda = lon * M_PI / 180;
    double sin_phi = sin(phi), cos_phi = cos(phi);
    double n = GEODESY_WGS84_A / sqrt(1 - e2 * sin_phi * sin_phi);
    xyz[0] = n * cos_phi * cos(lambda);
    xyz[1] = n * cos_phi * sin(lambda);
    xyz[2] = n * (1 - e2) * sin_phi;
}

static const struct {
    const char *label;
    const char *authority;
} srs_labels[] = {
    {"LAMBERT_93", "EPSG:2154"}, /* RGF93 / Lambert-93, metropolitan France */
    {"UTM_N20", "EPSG:4559"},    /* RRAF 1991 / UTM 20N, Guadeloupe, Martinique */
    {"UTM_N21", "EPSG:4467"},    /* RGSPM06 / UTM 21N, Saint-Pierre-et-Miquelon */
    {"UTM_N22", "EPSG:2972"},    /* RGFG95 / UTM 22N, Guyane */
    {"UTM_S38", "EPSG:4471"},    /* RGM04 / UTM 38S, Mayotte */
    {"UTM_S40", "EPSG:2975"},    /* RGR92 / UTM 40S, La Réunion */
};

const char *geodesy_srs_authority(const char *label, char *scratch, size_t scratch_size)
{
    for (size_t i = 0; i < sizeof srs_labels / sizeof srs_labels[0]; i++)
        if (strcmp(label, srs_labels[i].label) == 0)
            return srs_labels[i].authority;
    if (strncmp(label, "EPSG:", 5) != 0)
        return NULL;
    const char *digits = label + 5;
    size_t count = strlen(digits);
    if (count == 0 || count > 6)
        return NULL;
    for (size_t i = 0; i < count; i++)
        if (!isdigit((unsigned char)digits[i]))
            return NULL;
    snprintf(scratch, scratch_size, "EPSG:%s", digits);
    return scratch;
}

#define REPROJECTOR_SLOTS 16

struct Reprojector {
    PJ_CONTEXT *context;
    struct {
        char authority[16];
        PJ *transformation; /* NULL with `failed` set when PROJ refused it */
        int failed;
    } slots[REPROJECTOR_SLOTS];
    int used;
};

Reprojector *reprojector_new(void)
{
    Reprojector *reprojector = calloc(1, sizeof *reprojector);
    if (!reprojector)
        return NULL;
    reprojector->context = proj_context_create();
    if (!reprojector->context) {
        free(reprojector);
        return NULL;
    }
    proj_log_level(reprojector->context, PJ_LOG_NONE);
    return reprojector;
}

void reprojector_free(Reprojector *reprojector)
{
    if (!reprojector)
        return;
    for (int i = 0; i < reprojector->used; i++)
        if (reprojector->slots[i].transformation)
            proj_destroy(reprojector->slots[i].transformation);
    proj_context_destroy(reprojector->context);
    free(reprojector);
}

/* The cached transformation from `authority` to WGS84 lon/lat, or NULL. */
static PJ *transformation_for(Reprojector *reprojector, const char *authority)
{
    for (int i = 0; i < reprojector->used; i++)
        if (strcmp(reprojector->slots[i].authority, authority) == 0)
            return reprojector->slots[i].transformation;
    PJ *raw = proj_create_crs_to_crs(reprojector->context, authority, "EPSG:4326", NULL);
    PJ *normalised = NULL;
    if (raw) {
        normalised = proj_normalize_for_visualization(reprojector->context, raw);
        proj_destroy(raw);
    }
    if (reprojector->used < REPROJECTOR_SLOTS) {
        int slot = reprojector->used++;
        snprintf(reprojector->slots[slot].authority, sizeof reprojector->slots[slot].authority,
                 "%s", authority);
        reprojector->slots[slot].transformation = normalised;
        reprojector->slots[slot].failed = normalised == NULL;
        return normalised;
    }
    /* Cache full (many distinct EPSG codes in one file): keep it uncached. */
    if (normalised)
        proj_destroy(normalised);
    return NULL;
}

/* How far a reprojected point may project back from its x, y (PROJ's own
 * round trip is within a millimetre inside a projection's domain). */
#define REPROJECTION_ROUND_TRIP_METRES 0.01

int reprojector_to_wgs84(Reprojector *reprojector, const char *srs_label, double x, double y,
                         double *lat, double *lon, char *error, size_t error_size)
{
    char scratch[16];
    const char *authority = geodesy_srs_authority(srs_label, scratch, sizeof scratch);
    if (!authority) {
        snprintf(error, error_size, "unknown SRS label %s", srs_label);
        return -1;
    }
    if (!isfinite(x) || !isfinite(y)) {
        snprintf(error, error_size, "non-finite projected coordinates");
        return -1;
    }
    PJ *transformation = transformation_for(reprojector, authority);
    if (!transformation) {
        snprintf(error, error_size, "PROJ cannot transform %s to WGS84", srs_label);
        return -1;
    }
    PJ_COORD result = proj_trans(transformation, PJ_FWD, proj_coord(x, y, 0, 0));
    /* Coordinates far outside the projection's domain (Lambert-93 x = 1e300)
     * come out as a plausible point (the south pole): only a point that
     * projects back to x, y (within REPROJECTION_ROUND_TRIP_METRES) is one. */
    PJ_COORD back = proj_trans(transformation, PJ_INV, result);
    if (!isfinite(result.xy.x) || !isfinite(result.xy.y) || fabs(result.xy.y) > 90 ||
        fabs(result.xy.x) > 180 || !(fabs(back.xy.x - x) <= REPROJECTION_ROUND_TRIP_METRES) ||
        !(fabs(back.xy.y - y) <= REPROJECTION_ROUND_TRIP_METRES)) {
        snprintf(error, error_size, "coordinates %g %g outside %s", x, y, srs_label);
        return -1;
    }
    *lon = result.xy.x;
    *lat = result.xy.y;
    return 0;
}
