/* communes.c — loading the communes and areas; see communes.h. */
#include "index/communes.h"

#include "base/array.h"
#include "base/buffer.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const territory_codes[TERRITORY_COUNT] = {"metropole", "971", "972",
                                                             "973",       "974", "976"};
static const char *const territory_names[2][TERRITORY_COUNT] = {
    {"France métropolitaine", "Guadeloupe", "Martinique", "Guyane", "La Réunion", "Mayotte"},
    {"Metropolitan France", "Guadeloupe", "Martinique", "French Guiana", "Réunion", "Mayotte"}};

const char *territory_code(unsigned territory)
{
    return territory < TERRITORY_COUNT ? territory_codes[territory] : "?";
}

const char *territory_name(unsigned territory, Language language)
{
    return territory < TERRITORY_COUNT ? territory_names[language == LANGUAGE_ENGLISH][territory]
                                       : "?";
}

int territory_of_departement(const char *code)
{
    if (!code || strncmp(code, "97", 2) != 0)
        return TERRITORY_METROPOLE;
    for (int t = 1; t < TERRITORY_COUNT; t++)
        if (strcmp(code, territory_codes[t]) == 0)
            return t;
    return -1;
}

/* While loading, strings are offsets into one text buffer (it moves as it
 * grows); they become pointers once it is complete. */
typedef struct Pending {
    size_t code, name, parent; /* offsets; SIZE_MAX: none */
    double lat, lon;
    int64_t population;
    int has_point;
} Pending;

static size_t keep_text(Buffer *text, const unsigned char *value)
{
    if (!value)
        return SIZE_MAX;
    size_t offset = text->length;
    buffer_append_string(text, (const char *)value);
    buffer_append_char(text, 0);
    return offset;
}

/* Reads the rows of `sql` (code, name, parent code, population, lat, lon)
 * into *rows. Returns 0, or -1 with a message. */
static int read_rows(Store *store, const char *sql, Buffer *text, Pending **rows, size_t *count,
                     char *error, size_t error_size)
{
    sqlite3_stmt *statement;
    if (sqlite3_prepare_v2(store->db, sql, -1, &statement, NULL) != SQLITE_OK) {
        snprintf(error, error_size, "communes: %s", sqlite3_errmsg(store->db));
        return -1;
    }
    size_t capacity = 0;
    int status;
    while ((status = sqlite3_step(statement)) == SQLITE_ROW) {
        if (array_reserve(*rows, capacity, *count + 1, 1024) != 0)
            break;
        Pending *row = &(*rows)[(*count)++];
        row->code = keep_text(text, sqlite3_column_text(statement, 0));
        row->name = keep_text(text, sqlite3_column_text(statement, 1));
        row->parent = keep_text(text, sqlite3_column_text(statement, 2));
        row->population = sqlite3_column_int64(statement, 3);
        row->has_point = sqlite3_column_type(statement, 4) != SQLITE_NULL &&
                         sqlite3_column_type(statement, 5) != SQLITE_NULL;
        row->lat = row->has_point ? sqlite3_column_double(statement, 4) : 0;
        row->lon = row->has_point ? sqlite3_column_double(statement, 5) : 0;
        if (row->population < 0)
            row->population = 0;
    }
    sqlite3_finalize(statement);
    if (status != SQLITE_DONE || text->failed) {
        snprintf(error, error_size, "communes: %s",
                 status == SQLITE_ROW ? "out of memory" : sqlite3_errmsg(store->db));
        return -1;
    }
    return 0;
}

/* The index of the area whose code is `code` in the sorted `areas`, or
 * COMMUNES_NONE. */
static uint32_t find_area(const AdminArea *areas, size_t count, const char *code)
{
    size_t low = 0, high = count;
    while (code && low < high) {
        size_t middle = low + (high - low) / 2;
        int order = strcmp(areas[middle].code, code);
        if (order == 0)
            return (uint32_t)middle;
        if (order < 0)
            low = middle + 1;
        else
            high = middle;
    }
    return COMMUNES_NONE;
}

/* The string at `offset` of the finished text, NULL for SIZE_MAX. */
static const char *text_at(const char *text, size_t offset)
{
    return offset == SIZE_MAX ? NULL : text + offset;
}

static AdminArea *make_areas(const Pending *rows, size_t count, const char *text)
{
    AdminArea *areas = calloc(count + 1, sizeof *areas);
    for (size_t i = 0; areas && i < count; i++)
        areas[i] = (AdminArea){text_at(text, rows[i].code), text_at(text, rows[i].name),
                               rows[i].population, COMMUNES_NONE, TERRITORY_METROPOLE};
    return areas;
}

Communes *communes_load(Store *store, char *error, size_t error_size)
{
    Communes *set = calloc(1, sizeof *set);
    Buffer text;
    buffer_init(&text);
    Pending *regions = NULL, *departements = NULL, *communes = NULL;
    size_t region_count = 0, departement_count = 0, commune_count = 0;
    int status = set ? 0 : -1;
    if (status == 0)
        status = read_rows(store,
                           "SELECT code, name, NULL, population, NULL, NULL FROM regions "
                           "ORDER BY code",
                           &text, &regions, &region_count, error, error_size);
    if (status == 0)
        status = read_rows(store,
                           "SELECT code, name, region, population, NULL, NULL FROM "
                           "departements ORDER BY code",
                           &text, &departements, &departement_count, error, error_size);
    if (status == 0)
        status = read_rows(store,
                           "SELECT code, name, departement, population, lat, lon FROM "
                           "communes WHERE kind = 'commune' ORDER BY code",
                           &text, &communes, &commune_count, error, error_size);
    if (status == 0) {
        set->text = text.data; /* complete: offsets become pointers */
        text.data = NULL;
        const char *view = set->text;
        set->regions = make_areas(regions, region_count, view);
        set->departements = make_areas(departements, departement_count, view);
        set->communes = calloc(commune_count + 1, sizeof *set->communes);
        if (!set->regions || !set->departements || !set->communes) {
            snprintf(error, error_size, "communes: out of memory");
            status = -1;
        }
        set->region_count = region_count;
        set->departement_count = departement_count;
        for (size_t d = 0; status == 0 && d < departement_count; d++) {
            AdminArea *area = &set->departements[d];
            int territory = territory_of_departement(area->code);
            area->territory = (uint8_t)(territory < 0 ? TERRITORY_METROPOLE : territory);
            area->region =
                find_area(set->regions, region_count, text_at(view, departements[d].parent));
            if (area->region != COMMUNES_NONE && territory > 0)
                set->regions[area->region].territory = area->territory;
        }
        for (size_t c = 0; status == 0 && c < commune_count; c++) {
            const Pending *row = &communes[c];
            uint32_t departement =
                find_area(set->departements, departement_count, text_at(view, row->parent));
            set->communes[c] =
                (Commune){text_at(view, row->code),
                          text_at(view, row->name),
                          row->lat,
                          row->lon,
                          row->population,
                          departement,
                          departement == COMMUNES_NONE ? COMMUNES_NONE
                                                       : set->departements[departement].region,
                          (uint8_t)row->has_point,
                          departement == COMMUNES_NONE ? TERRITORY_METROPOLE
                                                       : set->departements[departement].territory};
        }
        set->commune_count = commune_count;
    }
    free(regions);
    free(departements);
    free(communes);
    buffer_free(&text);
    if (status != 0) {
        if (!set)
            snprintf(error, error_size, "communes: out of memory");
        communes_free(set);
        return NULL;
    }
    return set;
}

void communes_free(Communes *communes)
{
    if (!communes)
        return;
    free(communes->communes);
    free(communes->departements);
    free(communes->regions);
    free(communes->text);
    free(communes);
}
