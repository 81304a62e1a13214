/* communes.h — the communes and administrative areas coverage is computed over.
 *
 * Owns: every commune of table `communes` of kind "commune" (the municipal
 * arrondissements of Paris, Lyon and Marseille are left out: their
 * population is already their commune's), with its population and point,
 * and the départements and régions they belong to, read once at load into
 * packed arrays. Territories: metropolitan France (every département whose
 * code does not start with "97") and each overseas département (971 to 976),
 * one territory each. Invariants:
 *  - immutable after communes_load(); thread-safe;
 *  - communes are sorted by INSEE code; `departement` and `region` index the
 *    arrays below, or COMMUNES_NONE when the row names none that exists;
 *  - a commune without a point has has_point 0 (lat/lon 0): it is never
 *    covered, and its population counts as "without a point";
 *  - an unknown population counts as 0;
 *  - départements and régions are sorted by code; every département has
 *    the territory of its code. */
#ifndef MAILLAGE_COMMUNES_H
#define MAILLAGE_COMMUNES_H

#include "model/snapshot.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

#define COMMUNES_NONE UINT32_MAX

/* Territory 0 is metropolitan France, 1..5 the overseas départements
 * 971 (Guadeloupe), 972 (Martinique), 973 (Guyane), 974 (La Réunion),
 * 976 (Mayotte). */
#define TERRITORY_COUNT 6
#define TERRITORY_METROPOLE 0

typedef struct Commune {
    const char *code, *name;
    double lat, lon;
    int64_t population;   /* 0 when unknown */
    uint32_t departement; /* index into Communes.departements, or COMMUNES_NONE */
    uint32_t region;      /* index into Communes.regions, or COMMUNES_NONE */
    uint8_t has_point;
    uint8_t territory;
} Commune;

typedef struct AdminArea {
    const char *code, *name;
    int64_t population; /* as the areas' source gives it (not the communes' sum) */
    uint32_t region;    /* départements: index into regions, or COMMUNES_NONE */
    uint8_t territory;  /* départements: their territory; régions: their first département's */
} AdminArea;

typedef struct Communes {
    Commune *communes;
    size_t commune_count;
    AdminArea *departements;
    size_t departement_count;
    AdminArea *regions;
    size_t region_count;
    char *text; /* owns every string above */
} Communes;

/* The code ("metropole", "971", ...) of territory `t`, and its name in
 * `language` ("France métropolitaine", "Metropolitan France"). */
const char *territory_code(unsigned territory);
const char *territory_name(unsigned territory, Language language);
/* The territory of a département code: its index, TERRITORY_METROPOLE for
 * codes not starting with "97", or -1 for an unknown "97x". */
int territory_of_departement(const char *code);

/* Reads communes, départements and régions from `store`. Returns the set,
 * or NULL with a one-line message in `error`. */
Communes *communes_load(Store *store, char *error, size_t error_size);
/* Frees the set; NULL is a no-op. */
void communes_free(Communes *communes);

#endif
