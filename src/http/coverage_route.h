/* coverage_route.h — /api/coverage, and the site selection it shares with
 * /api/service-areas.
 *
 * Owns: the parameters that select the sites of a coverage question
 * (`orpha` or `filiere`, with `role` and `public` as /api/nearest takes
 * them), the coverage parameters (`radius_km`, `level`), the JSON answer,
 * and its cache in the dataset (Dataset.answers, keyed by the normalised
 * query, dropped with the dataset on reload). Invariants: bad input is a
 * 400 problem (radius 0, negative, above 2000, not a number, empty; an
 * unknown code or filière; both or neither of orpha and filiere; a
 * repeated parameter; a level other than departement or region; a `lang`
 * other than fr or en); a code or filière that no site covers is a 200 with
 * zero covered and a `message`. The condition's label, the message and the
 * territories' names are in the request's language (request_language());
 * the cache keys on it. */
#ifndef MAILLAGE_COVERAGE_ROUTE_H
#define MAILLAGE_COVERAGE_ROUTE_H

#include "http/request.h"
#include "http/site_parameters.h"

/* The sites a coverage question is about. */
typedef struct CoverageSelection {
    SiteParameters
        sites; /* condition (orpha), role and public; sites.filter.filiere set for a filière */
    const char *filiere; /* the filière as the data spells it, NULL with orpha */
    char key[160];       /* normalised "orpha=586&role=...&public=..." or "filiere=MUCO&..." */
    Language language;   /* of the answer's text (request_language()); not in `key` */
} CoverageSelection;

/* Parses orpha or filiere, role, public and the language of `request` on `snapshot`.
 * Returns 0, or -1 after writing a 400 problem into `response`. */
int coverage_selection_parse(const Request *request, const Snapshot *snapshot,
                             CoverageSelection *selection, Response *response);

typedef enum CoverageFormat {
    COVERAGE_FORMAT_JSON,   /* the /api/coverage answer */
    COVERAGE_FORMAT_CSV,    /* one row per area, then territories and France (RFC 4180) */
    COVERAGE_FORMAT_GEOJSON /* areas as Features, figures in properties */
} CoverageFormat;

/* Answers the coverage question of `request` (its parameters and dataset)
 * in `format` into `response` (response_init()ed): 200, or a 400 problem
 * for bad input, 503 when memory runs out. For GeoJSON, `geometry_of`
 * returns an area's geometry as GeoJSON text for its code (NULL: null
 * geometry); `maillage coverage` reads them from the database. Only JSON
 * answers are cached. */
void coverage_answer(const Request *request, CoverageFormat format,
                     const char *(*geometry_of)(void *context, const char *code), void *context,
                     Response *response);

/* The /api/coverage route handler (routes.h). */
void api_coverage(const Request *request, Response *response, const char *rest);

#endif
