/* import_orphanet.h — the Orphanet nomenclature, synonyms and classification.
 *
 * Owns: filling `conditions`, `synonyms`, `classification`, the `ancestors`
 * closure and the `condition_search` FTS5 table. Invariants:
 *  - the nomenclature is read first and seals the context's ORPHAcode set;
 *    a synonym or an edge naming an unknown code is rejected, not guessed;
 *  - `ancestors` holds (code, code, 0) for every code and (code, ancestor,
 *    depth) for every ancestor in any classification, depth being the fewest
 *    edges (breadth-first search upwards, so cycles cannot loop);
 *  - `condition_search` holds one row per label (fr, en; kind 'label') and
 *    per synonym (kind 'synonym'). */
#ifndef MAILLAGE_IMPORT_ORPHANET_H
#define MAILLAGE_IMPORT_ORPHANET_H

#include "build/import_common.h"

/* Each takes the file's path and adds one report input named after its
 * base name, every row loaded or rejected. Each returns 0, or -1 with
 * context->error set (rows inserted before a -1 stay). */

/* Fills `conditions` (kind "nomenclature"), rejecting an invalid or repeated
 * code or an unknown level, and seals the code set, even on -1. */
int import_orphanet_nomenclature(ImportContext *context, const char *path);
/* Fills `synonyms` (kind "synonyms"), rejecting an unknown code or lang. */
int import_orphanet_synonyms(ImportContext *context, const char *path);
/* Loads the edges (kind "classification"), then computes `ancestors` and
 * fills `condition_search`. */
int import_orphanet_classification(ImportContext *context, const char *path);

#endif
