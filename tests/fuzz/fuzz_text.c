/* fuzz_text.c — libFuzzer target `text`: the conditions search and the
 * places search on any bytes (accents, any UTF-8, invalid UTF-8).
 *
 * Input: one byte of options (bit 0: English, bits 1-7: the result limit
 * minus one, 1..128), then the query text (a NUL-terminated copy; an
 * embedded NUL ends it as it would a C string). The query goes straight to
 * condition_search_find() and places_find() on the test dataset (loaded
 * once, fuzz_support.h), below the HTTP layer that refuses invalid UTF-8,
 * and to text_fold(), their one definition of "accents and case ignored".
 * Checks: never more results than the limit, every result a real condition
 * or a commune with a WGS84 point, matched texts valid UTF-8, a code query
 * has one result, and the folded text valid UTF-8 when the input is. Seeds (tests/fuzz/text/):
 * condition names, synonyms, codes and commune names and postcodes in FR and EN. */
#include "fuzz_support.h"

#include "base/text.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_RESULTS = 128 };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_dataset();
    return 0;
}

static void check(int condition, const char *what)
{
    if (!condition) {
        fprintf(stderr, "fuzz check failed: %s\n", what);
        abort();
    }
}

static void search_conditions(const Dataset *dataset, const char *query, int english, size_t limit)
{
    static ConditionMatch matches[MAX_RESULTS];
    char code_text[32];
    Language language = english ? LANGUAGE_ENGLISH : LANGUAGE_FRENCH;
    int count = condition_search_find(dataset->conditions, dataset->snapshot, query, language,
                                      limit, matches, code_text);
    check(count == CONDITION_QUERY_EMPTY || (count >= 0 && (size_t)count <= limit),
          "conditions: a count outside [0, limit]");
    for (int i = 0; i < count; i++) {
        const ConditionMatch *match = &matches[i];
        check(match->condition && snapshot_condition(dataset->snapshot, match->condition->orpha) ==
                                      match->condition,
              "conditions: a result that is not a condition of the snapshot");
        check(match->matched && utf8_is_valid(match->matched, strlen(match->matched)),
              "conditions: a matched text that is not UTF-8");
        check(match->match_class != CONDITION_MATCH_CODE || count == 1,
              "conditions: a code query with more than one result");
    }
}

static void search_places(const Dataset *dataset, const char *query, size_t limit)
{
    static const Place *results[MAX_RESULTS];
    int count = places_find(dataset->places, query, limit, results);
    check(count == PLACES_QUERY_EMPTY || (count >= 0 && (size_t)count <= limit),
          "places: a count outside [0, limit]");
    for (int i = 0; i < count; i++) {
        check(results[i] && results[i]->code && results[i]->name,
              "places: a result without its code or name");
        check(results[i]->lat >= -90 && results[i]->lat <= 90 && results[i]->lon >= -180 &&
                  results[i]->lon <= 180,
              "places: a result outside WGS84");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const Dataset *dataset = fuzz_dataset();
    int english = data[0] & 1;
    size_t limit = (size_t)(data[0] >> 1) + 1;
    char *query = fuzz_text(data + 1, size - 1);
    size_t length = strlen(query);
    search_conditions(dataset, query, english, limit);
    search_places(dataset, query, limit);
    Buffer folded;
    buffer_init(&folded);
    text_fold(&folded, query, length);
    if (!folded.failed && utf8_is_valid(query, length))
        check(utf8_is_valid(folded.data ? folded.data : "", folded.length),
              "text_fold: valid UTF-8 folded into invalid UTF-8");
    buffer_free(&folded);
    free(query);
    return 0;
}
