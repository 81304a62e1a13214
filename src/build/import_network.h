/* import_network.h — the care network: network CSVs (CONTRACT format) into
 * `sites`, `site_codes` and `links`.
 *
 * Owns: row validation and position resolution for network CSVs, and the
 * links drawn between sites. Invariants:
 *  - columns are found by name in any order; `site_id` and `role` must be in
 *    the header, every other column is optional;
 *  - position precedence: lat/lon, then x/y/srs (reprojected with PROJ),
 *    then finess (the official FINESS file's position first, then the
 *    extract's); a row whose position cannot be resolved is rejected;
 *  - a site_id seen before (in this or an earlier network file) is rejected:
 *    the first row wins; every ORPHAcode must be in the nomenclature
 *    (the context's code set is sealed before networks load);
 *  - `site_codes` holds one row per distinct (code, site);
 *  - links are drawn after every network file is loaded, only between two
 *    existing sites; a link to an unknown site keeps the site and adds a
 *    warning to the report of the file that named it. */
#ifndef MAILLAGE_IMPORT_NETWORK_H
#define MAILLAGE_IMPORT_NETWORK_H

#include "build/import_common.h"
#include "build/import_format.h"

/* Imports one network CSV as the report input "network" named `file` (also
 * stored in sites.input_file), saved in `format` (its auto parts detected;
 * what was used is recorded in the input's report): every row is loaded or
 * rejected; unknown columns add warnings on line 1. A decimal comma is read
 * in lat, lon, x and y ("48,5597", as a French spreadsheet writes it).
 * Returns 0, or -1 with context->error set (unreadable file, missing
 * column, database error; rows inserted stay). */
int import_network(ImportContext *context, const char *path, const char *file,
                   const ImportFormat *format);
/* Draws coordinator and cooperation links between loaded sites; a link to
 * itself or to an unknown site adds a warning to the input that named it
 * (call build_report_sort() after). Returns 0, or -1 with the error set. */
int import_network_links(ImportContext *context);

/* 1 when `site_id` matches [A-Za-z0-9_.-]{1,64}. */
int network_site_id_is_valid(const char *site_id);

#endif
