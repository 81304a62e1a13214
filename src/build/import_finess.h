/* import_finess.h — FINESS establishments: the shipped extract and the
 * official etalab stock file (cs1100507 format).
 *
 * Owns: filling `etablissements`, and the lookup the network importer uses to
 * place a site by its FINESS number. Invariants:
 *  - the extract loads first (position_source 'extract'); its rows flagged
 *    geo_check=outside_departement are kept and listed as warnings;
 *  - the official file then overrides, per FINESS number, the descriptive
 *    fields it fills and the position when its geolocalisation line is good
 *    (position_source 'finess_official'); a structure absent from the
 *    extract whose position is unknown is kept with NULL lat/lon and
 *    position_source 'none';
 *  - an official file's geolocalisation line is rejected (with its line and a
 *    reason) for an unknown SRS label, a non-numeric coordinate, a
 *    coordinate PROJ cannot transform, or a FINESS number without a
 *    structureet line in the same file. */
#ifndef MAILLAGE_IMPORT_FINESS_H
#define MAILLAGE_IMPORT_FINESS_H

#include "build/import_common.h"

/* Imports the shipped extract (CSV) into `etablissements` as the report
 * input "finess_extract" named after its base name: an invalid FINESS
 * number or position rejects the row; geo_check=outside_departement adds a
 * warning. Returns 0, or -1 with context->error set (rows inserted stay). */
int import_finess_extract(ImportContext *context, const char *path);
/* Imports the official stock file (Latin-1, ';') as the report input
 * "finess_official" named `file`; returns as import_finess_extract(). */
int import_finess_official(ImportContext *context, const char *path, const char *file);

typedef struct FinessPlace {
    double lat, lon;
    int official;        /* 1 when the position comes from the official file */
    int flagged_outside; /* the extract flags the position geo_check=outside_departement */
    char phone[32];
    char address[160];
    char postcode[16];
    char city[96];
} FinessPlace;

typedef struct FinessLookup {
    sqlite3_stmt *statement;
} FinessLookup;

/* Prepares the lookup over `etablissements`. Returns 0, or -1 with
 * context->error set (naming `file`); close the lookup either way. */
int finess_lookup_open(ImportContext *context, FinessLookup *lookup, const char *file);
/* Returns 1 with `place` filled when `finess` is known with a position, 0 when
 * unknown or without a position, -1 on a database error. */
int finess_lookup_find(FinessLookup *lookup, const char *finess, FinessPlace *place);
/* Finalizes the statement; safe after a failed open and twice. */
void finess_lookup_close(FinessLookup *lookup);

/* 1 when `finess` looks like a FINESS number: 9 characters, digits, with
 * "2A"/"2B" allowed at the start (Corsica). */
int finess_number_is_valid(const char *finess);

#endif
