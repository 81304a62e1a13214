/* import_areas.h — communes, départements, régions, filières and the 2017
 * FSMR site list.
 *
 * Owns: filling `communes` (a point when lat/lon are given), `departements`
 * and `regions` (one GeoJSON feature per line, stored as MULTIPOLYGON SRID
 * 4326 through SpatiaLite's GeomFromGeoJSON), `filieres` and `fsmr_sites`.
 * Invariants:
 *  - a GeoJSON line that is not a Feature with a code, a name, an integer
 *    population and a (multi)polygon geometry is rejected with its line;
 *  - departements.region is the region of the département's communes
 *    (the most frequent one), so communes load before départements. */
#ifndef MAILLAGE_IMPORT_AREAS_H
#define MAILLAGE_IMPORT_AREAS_H

#include "build/import_common.h"

/* Each imports the file at `path` and adds to the report one input named
 * after its base name, whose every row is counted loaded or rejected (with
 * its line and reason). Returns 0 when the file was read, or -1 for a fatal
 * error with `context->error` set; rows inserted before a -1 stay (the
 * build then discards its database). */

/* communes.csv into `communes`; lat and lon must be both given or both
 * empty. Report kind "communes". */
int import_communes(ImportContext *context, const char *path);
/* The départements GeoJSON into `departements`, then sets each one's region
 * from the communes already loaded. Report kind "departements". */
int import_departements(ImportContext *context, const char *path);
/* The régions GeoJSON into `regions`. Report kind "regions". */
int import_regions(ImportContext *context, const char *path);
/* filieres.csv into `filieres`. Report kind "filieres". */
int import_filieres(ImportContext *context, const char *path);
/* The 2017 FSMR site list into `fsmr_sites`. Report kind "fsmr_sites". */
int import_fsmr_sites(ImportContext *context, const char *path);

#endif
