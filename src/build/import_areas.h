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

int import_communes(ImportContext *context, const char *path);
int import_departements(ImportContext *context, const char *path);
int import_regions(ImportContext *context, const char *path);
int import_filieres(ImportContext *context, const char *path);
int import_fsmr_sites(ImportContext *context, const char *path);

#endif
