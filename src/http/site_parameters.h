/* site_parameters.h — the site filter parameters shared by the API and the tiles.
 *
 * Owns: parsing `orpha`, `role` and `public` into a condition and a
 * SiteFilter, with one wording for their errors, so /api/nearest,
 * /api/structures and the `sites`/`network` tiles filter identically.
 * Invariants (CONTRACT): `orpha` is 232 or ORPHA:232 and must be in the
 * nomenclature (else 400); `role` is one role or a comma-separated list,
 * any of them (an unknown role is a 400); `public=enfants|adultes` keeps
 * sites whose public is that value, `tous`, or unstated; `tous` keeps all. */
#ifndef MAILLAGE_SITE_PARAMETERS_H
#define MAILLAGE_SITE_PARAMETERS_H

#include "http/request.h"
#include "model/snapshot.h"

typedef struct SiteParameters {
    const Condition *condition; /* NULL without orpha */
    SiteFilter filter;
    const char *role_text;   /* as given, NULL when absent */
    const char *public_text; /* as given, NULL when absent */
} SiteParameters;

/* Returns 0, or -1 after writing a 400 problem into `response`. */
int site_parameters_parse(const Request *request, const Snapshot *snapshot,
                          SiteParameters *parameters, Response *response);

/* Writes the canonical query string of `parameters` into `query` (room for
 * `query_size`, at least 1): "orpha=232&role=ccmr,crmr&public=enfants",
 * roles in Role order, absent parameters left out ("" when none), cut to
 * fit. The same selection always gives the same text (cache keys, TileJSON
 * tile URLs). */
void site_parameters_key(const SiteParameters *parameters, char *query, size_t query_size);

#endif
