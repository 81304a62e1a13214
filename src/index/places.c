/* places.c — commune lookup by name, postcode or INSEE code; see places.h. */
#include "index/places.h"

#include "base/array.h"
#include "base/text.h"
#include "base/text_match.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct Places {
    Place *places;
    size_t count;
    char *text; /* every string of `places`, NUL-separated */
};

enum { CLASS_EXACT, CLASS_PREFIX, CLASS_WORDS };

/* Offsets into the text buffer while loading (it moves as it grows). */
typedef struct PendingPlace {
    size_t code, name, folded_name, departement, postcodes; /* SIZE_MAX: NULL */
    double lat, lon;
    int64_t population;
} PendingPlace;

static size_t append_text(Buffer *text, const unsigned char *value, int length)
{
    if (!value || length <= 0)
        return SIZE_MAX;
    size_t offset = text->length;
    buffer_append(text, value, (size_t)length);
    buffer_append_char(text, 0);
    return offset;
}

static size_t append_folded(Buffer *text, const unsigned char *value, int length)
{
    size_t offset = text->length;
    if (value && length > 0)
        text_fold(text, (const char *)value, (size_t)length);
    buffer_append_char(text, 0);
    return offset;
}

static int read_places(Store *store, PendingPlace **pending_out, size_t *count_out, Buffer *text)
{
    sqlite3_stmt *statement;
    if (sqlite3_prepare_v2(store->db,
                           "SELECT code, name, departement, postcodes, population, lat, lon "
                           "FROM communes WHERE lat IS NOT NULL AND lon IS NOT NULL ORDER BY code",
                           -1, &statement, NULL) != SQLITE_OK)
        return -1;
    PendingPlace *pending = NULL;
    size_t count = 0, capacity = 0;
    int status;
    while ((status = sqlite3_step(statement)) == SQLITE_ROW) {
        if (array_reserve(pending, capacity, count + 1, 4096) != 0)
            break;
        PendingPlace *place = &pending[count++];
        place->code = append_text(text, sqlite3_column_text(statement, 0),
                                  sqlite3_column_bytes(statement, 0));
        place->name = append_text(text, sqlite3_column_text(statement, 1),
                                  sqlite3_column_bytes(statement, 1));
        place->folded_name = append_folded(text, sqlite3_column_text(statement, 1),
                                           sqlite3_column_bytes(statement, 1));
        place->departement = append_text(text, sqlite3_column_text(statement, 2),
                                         sqlite3_column_bytes(statement, 2));
        place->postcodes = append_text(text, sqlite3_column_text(statement, 3),
                                       sqlite3_column_bytes(statement, 3));
        place->population = sqlite3_column_type(statement, 4) == SQLITE_NULL
                                ? -1
                                : sqlite3_column_int64(statement, 4);
        place->lat = sqlite3_column_double(statement, 5);
        place->lon = sqlite3_column_double(statement, 6);
        if (place->code == SIZE_MAX || place->name == SIZE_MAX)
            count--;
    }
    sqlite3_finalize(statement);
    if (status != SQLITE_DONE || text->failed) {
        free(pending);
        return -1;
    }
    *pending_out = pending;
    *count_out = count;
    return 0;
}

Places *places_load(Store *store, char *error, size_t error_size)
{
    Places *places = calloc(1, sizeof *places);
    Buffer text;
    buffer_init(&text);
    PendingPlace *pending = NULL;
    size_t count = 0;
    if (!places || read_places(store, &pending, &count, &text) != 0) {
        snprintf(error, error_size, "communes: %s",
                 places ? sqlite3_errmsg(store->db) : "out of memory");
        free(places);
        buffer_free(&text);
        return NULL;
    }
    places->places = malloc((count + 1) * sizeof *places->places);
    places->text = buffer_detach(&text, NULL);
    if (!places->places || !places->text) {
        snprintf(error, error_size, "communes: out of memory");
        free(pending);
        places_free(places);
        return NULL;
    }
    for (size_t i = 0; i < count; i++) {
        const PendingPlace *item = &pending[i];
#define TEXT_AT(offset) ((offset) == SIZE_MAX ? NULL : places->text + (offset))
        places->places[i] = (Place){TEXT_AT(item->code),
                                    TEXT_AT(item->name),
                                    TEXT_AT(item->folded_name),
                                    TEXT_AT(item->departement),
                                    TEXT_AT(item->postcodes),
                                    item->lat,
                                    item->lon,
                                    item->population};
#undef TEXT_AT
    }
    places->count = count;
    free(pending);
    return places;
}

void places_free(Places *places)
{
    if (!places)
        return;
    free(places->places);
    free(places->text);
    free(places);
}

/* --- Queries ------------------------------------------------------------ */

static int is_code_query(const char *query)
{
    size_t length = strlen(query);
    if (length == 0 || length > 5)
        return 0;
    for (size_t i = 0; i < length; i++) {
        int corsica = i == 1 && query[0] == '2' &&
                      (query[1] == 'A' || query[1] == 'B' || query[1] == 'a' || query[1] == 'b');
        if (!isdigit((unsigned char)query[i]) && !corsica)
            return 0;
    }
    return 1;
}

/* Class of a digits query against one place, or -1. */
static int code_class(const Place *place, const char *query, size_t length)
{
    if (strcasecmp(place->code, query) == 0)
        return CLASS_EXACT;
    int best = -1;
    for (const char *postcode = place->postcodes; postcode && *postcode;) {
        const char *end = strchr(postcode, '|');
        size_t postcode_length = end ? (size_t)(end - postcode) : strlen(postcode);
        if (postcode_length >= length && strncmp(postcode, query, length) == 0) {
            int found = postcode_length == length ? CLASS_EXACT : CLASS_PREFIX;
            if (best < 0 || found < best)
                best = found;
        }
        postcode = end ? end + 1 : postcode + postcode_length;
    }
    return best;
}

static int name_class(const Place *place, const TextQuery *query)
{
    if (strncmp(place->folded_name, query->folded, query->length) == 0)
        return place->folded_name[query->length] == 0 ? CLASS_EXACT : CLASS_PREFIX;
    return text_query_words_match(query, place->folded_name) ? CLASS_WORDS : -1;
}

typedef struct RankedPlace {
    int match_class;
    const Place *place;
} RankedPlace;

static int compare_ranked_places(const void *a, const void *b)
{
    const RankedPlace *x = a, *y = b;
    if (x->match_class != y->match_class)
        return x->match_class < y->match_class ? -1 : 1;
    int64_t px = x->place->population > 0 ? x->place->population : 0;
    int64_t py = y->place->population > 0 ? y->place->population : 0;
    if (px != py)
        return px > py ? -1 : 1;
    return strcmp(x->place->code, y->place->code);
}

/* Moves the `limit` best of `ranked` to its front, in order, without
 * sorting the rest; returns how many there are. In place: slot writes never
 * pass the item being read. */
static size_t keep_best(RankedPlace *ranked, size_t count, size_t limit)
{
    if (count <= limit) {
        if (count > 0)
            qsort(ranked, count, sizeof *ranked, compare_ranked_places);
        return count;
    }
    size_t kept = 0;
    for (size_t i = 0; i < count && limit > 0; i++) {
        RankedPlace item = ranked[i];
        if (kept == limit && compare_ranked_places(&item, &ranked[kept - 1]) >= 0)
            continue;
        size_t at = kept < limit ? kept++ : limit - 1;
        while (at > 0 && compare_ranked_places(&item, &ranked[at - 1]) < 0) {
            ranked[at] = ranked[at - 1];
            at--;
        }
        ranked[at] = item;
    }
    return kept;
}

int places_find(const Places *places, const char *query, size_t limit, const Place **results)
{
    TextQuery text;
    if (text_query_init(&text, query) != 0)
        return -1;
    if (text.length == 0) {
        text_query_free(&text);
        return PLACES_QUERY_EMPTY;
    }
    RankedPlace *ranked = malloc((places->count + 1) * sizeof *ranked);
    if (!ranked) {
        text_query_free(&text);
        return -1;
    }
    int by_code = is_code_query(text.folded);
    size_t ranked_count = 0;
    for (size_t i = 0; i < places->count; i++) {
        const Place *place = &places->places[i];
        int match_class =
            by_code ? code_class(place, text.folded, text.length) : name_class(place, &text);
        if (match_class >= 0)
            ranked[ranked_count++] = (RankedPlace){match_class, place};
    }
    size_t count = keep_best(ranked, ranked_count, limit);
    for (size_t i = 0; i < count; i++)
        results[i] = ranked[i].place;
    free(ranked);
    text_query_free(&text);
    return (int)count;
}
