/* conditions.c — condition search by folded text or ORPHAcode; see
 * conditions.h for the rules. */
#include "index/conditions.h"

#include "base/array.h"
#include "base/text.h"
#include "base/text_match.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct SearchEntry {
    uint32_t condition; /* index into Snapshot.conditions */
    uint32_t folded_length;
    const char *folded;   /* into ConditionSearch.folded */
    const char *original; /* a condition label, or into ConditionSearch.synonyms */
} SearchEntry;

struct ConditionSearch {
    SearchEntry *entries[2]; /* per Language */
    size_t entry_count[2];
    char *folded;   /* every folded text, NUL-separated */
    char *synonyms; /* every synonym's original text, NUL-separated */
};

/* While loading, entries hold offsets; pointers are set once the text
 * buffers stop growing. */
typedef struct PendingEntry {
    uint32_t condition;
    uint32_t language;
    size_t folded_offset, folded_length;
    size_t synonym_offset; /* SIZE_MAX for a label */
} PendingEntry;

typedef struct Pending {
    PendingEntry *items;
    size_t length, capacity;
    Buffer folded, synonyms;
    int failed;
} Pending;

static int is_active(const Condition *condition)
{
    return condition->status && strcmp(condition->status, "active") == 0;
}

static void pending_add(Pending *pending, uint32_t condition, uint32_t language, const char *text,
                        size_t synonym_offset)
{
    if (!text || pending->failed)
        return;
    if (array_reserve(pending->items, pending->capacity, pending->length + 1, 16384) != 0) {
        pending->failed = 1;
        return;
    }
    size_t offset = pending->folded.length;
    text_fold(&pending->folded, text, strlen(text));
    size_t length = pending->folded.length - offset;
    buffer_append_char(&pending->folded, 0);
    if (length == 0)
        return;
    pending->items[pending->length++] =
        (PendingEntry){condition, language, offset, length, synonym_offset};
}

static int read_synonyms(const Snapshot *snapshot, Store *store, Pending *pending, char *error,
                         size_t error_size)
{
    sqlite3_stmt *statement;
    if (sqlite3_prepare_v2(store->db, "SELECT orpha_code, lang, synonym FROM synonyms", -1,
                           &statement, NULL) != SQLITE_OK) {
        snprintf(error, error_size, "%s: %s", snapshot->path, sqlite3_errmsg(store->db));
        return -1;
    }
    int status;
    while ((status = sqlite3_step(statement)) == SQLITE_ROW) {
        const Condition *condition =
            snapshot_condition(snapshot, (int32_t)sqlite3_column_int64(statement, 0));
        const char *language = (const char *)sqlite3_column_text(statement, 1);
        const char *synonym = (const char *)sqlite3_column_text(statement, 2);
        if (!condition || !language || !synonym || !is_active(condition))
            continue;
        size_t offset = pending->synonyms.length;
        buffer_append(&pending->synonyms, synonym, (size_t)sqlite3_column_bytes(statement, 2));
        buffer_append_char(&pending->synonyms, 0);
        pending_add(pending, snapshot_condition_index(snapshot, condition),
                    strcmp(language, "en") == 0 ? LANGUAGE_ENGLISH : LANGUAGE_FRENCH, synonym,
                    offset);
    }
    sqlite3_finalize(statement);
    if (status != SQLITE_DONE) {
        snprintf(error, error_size, "%s: %s", snapshot->path, sqlite3_errmsg(store->db));
        return -1;
    }
    return 0;
}

static ConditionSearch *search_from_pending(const Snapshot *snapshot, Pending *pending)
{
    ConditionSearch *search = calloc(1, sizeof *search);
    if (!search)
        return NULL;
    size_t per_language[2] = {0, 0};
    for (size_t i = 0; i < pending->length; i++)
        per_language[pending->items[i].language]++;
    for (int language = 0; language < 2; language++) {
        search->entries[language] = malloc((per_language[language] + 1) * sizeof(SearchEntry));
        if (!search->entries[language]) {
            condition_search_free(search);
            return NULL;
        }
    }
    search->folded = buffer_detach(&pending->folded, NULL);
    search->synonyms = buffer_detach(&pending->synonyms, NULL);
    for (size_t i = 0; i < pending->length; i++) {
        const PendingEntry *item = &pending->items[i];
        const Condition *condition = &snapshot->conditions[item->condition];
        const char *original = item->synonym_offset != SIZE_MAX
                                   ? search->synonyms + item->synonym_offset
                               : item->language == LANGUAGE_ENGLISH ? condition->label_en
                                                                    : condition->label_fr;
        search->entries[item->language][search->entry_count[item->language]++] =
            (SearchEntry){item->condition, (uint32_t)item->folded_length,
                          search->folded + item->folded_offset, original};
    }
    return search;
}

ConditionSearch *condition_search_load(const Snapshot *snapshot, Store *store, char *error,
                                       size_t error_size)
{
    Pending pending = {0};
    buffer_init(&pending.folded);
    buffer_init(&pending.synonyms);
    for (size_t c = 0; c < snapshot->condition_count; c++) {
        const Condition *condition = &snapshot->conditions[c];
        if (!is_active(condition))
            continue;
        pending_add(&pending, (uint32_t)c, LANGUAGE_FRENCH, condition->label_fr, SIZE_MAX);
        pending_add(&pending, (uint32_t)c, LANGUAGE_ENGLISH, condition->label_en, SIZE_MAX);
    }
    ConditionSearch *search = NULL;
    if (read_synonyms(snapshot, store, &pending, error, error_size) == 0) {
        if (!pending.failed && !pending.folded.failed && !pending.synonyms.failed)
            search = search_from_pending(snapshot, &pending);
        if (!search)
            snprintf(error, error_size, "%s: out of memory for condition search", snapshot->path);
    }
    free(pending.items);
    buffer_free(&pending.folded);
    buffer_free(&pending.synonyms);
    return search;
}

void condition_search_free(ConditionSearch *search)
{
    if (!search)
        return;
    free(search->entries[0]);
    free(search->entries[1]);
    free(search->folded);
    free(search->synonyms);
    free(search);
}

/* --- Queries ------------------------------------------------------------ */

/* The code of a query like "ORPHA:232", "orpha 232" or "232"; 0 if none. */
static int32_t query_code(const char *query)
{
    while (isspace((unsigned char)*query))
        query++;
    if (strncasecmp(query, "orpha", 5) == 0) {
        query += 5;
        while (*query == ':' || isspace((unsigned char)*query))
            query++;
    }
    int64_t code = 0;
    int digits = 0;
    while (isdigit((unsigned char)*query) && digits < 10) {
        code = code * 10 + (*query++ - '0');
        digits++;
    }
    while (isspace((unsigned char)*query))
        query++;
    if (!digits || *query || code <= 0 || code > INT32_MAX)
        return 0;
    return (int32_t)code;
}

static int entry_class(const SearchEntry *entry, const TextQuery *query_text)
{
    const char *query = query_text->folded;
    size_t query_length = query_text->length;
    if (entry->folded_length == query_length && memcmp(entry->folded, query, query_length) == 0)
        return CONDITION_MATCH_EXACT;
    if (entry->folded_length > query_length && memcmp(entry->folded, query, query_length) == 0)
        return CONDITION_MATCH_PREFIX;
    if (text_query_words_match(query_text, entry->folded))
        return CONDITION_MATCH_WORDS;
    return -1;
}

/* The best (class, folded length, entry) per condition, packed so that a
 * smaller key is a better match. */
static uint64_t match_key(int match_class, uint32_t length, size_t entry)
{
    return ((uint64_t)match_class << 56) | ((uint64_t)(length & 0xFFFFFF) << 32) | entry;
}

typedef struct Ranked {
    uint64_t key;
    int32_t orpha;
    uint32_t condition;
} Ranked;

static int compare_ranked(const void *a, const void *b)
{
    const Ranked *x = a, *y = b;
    uint64_t kx = x->key >> 32, ky = y->key >> 32;
    if (kx != ky)
        return kx < ky ? -1 : 1;
    return x->orpha < y->orpha ? -1 : x->orpha > y->orpha;
}

/* Moves the `limit` best of `ranked` to its front, in order, without
 * sorting the rest; returns how many there are. In place: slot writes never
 * pass the item being read. */
static size_t keep_best(Ranked *ranked, size_t count, size_t limit)
{
    if (count <= limit) {
        if (count > 0)
            qsort(ranked, count, sizeof *ranked, compare_ranked);
        return count;
    }
    size_t kept = 0;
    for (size_t i = 0; i < count && limit > 0; i++) {
        Ranked item = ranked[i];
        if (kept == limit && compare_ranked(&item, &ranked[kept - 1]) >= 0)
            continue;
        size_t at = kept < limit ? kept++ : limit - 1;
        while (at > 0 && compare_ranked(&item, &ranked[at - 1]) < 0) {
            ranked[at] = ranked[at - 1];
            at--;
        }
        ranked[at] = item;
    }
    return kept;
}

static int search_language(const ConditionSearch *search, const Snapshot *snapshot,
                           const TextQuery *query_text, Language language, size_t limit,
                           ConditionMatch *matches)
{
    const SearchEntry *entries = search->entries[language];
    size_t entry_count = search->entry_count[language];
    uint64_t *best = malloc((snapshot->condition_count + 1) * sizeof *best);
    Ranked *ranked = malloc((snapshot->condition_count + 1) * sizeof *ranked);
    if (!best || !ranked) {
        free(best);
        free(ranked);
        return -1;
    }
    memset(best, 0xFF, (snapshot->condition_count + 1) * sizeof *best);
    size_t ranked_count = 0;
    for (size_t i = 0; i < entry_count; i++) {
        int match_class = entry_class(&entries[i], query_text);
        if (match_class < 0)
            continue;
        uint32_t c = entries[i].condition;
        uint64_t key = match_key(match_class, entries[i].folded_length, i);
        if (best[c] == UINT64_MAX)
            ranked[ranked_count++] = (Ranked){0, snapshot->conditions[c].orpha, c};
        if (key < best[c])
            best[c] = key;
    }
    for (size_t r = 0; r < ranked_count; r++)
        ranked[r].key = best[ranked[r].condition];
    size_t count = keep_best(ranked, ranked_count, limit);
    for (size_t r = 0; r < count; r++) {
        const SearchEntry *entry = &entries[ranked[r].key & 0xFFFFFFFFu];
        matches[r] = (ConditionMatch){&snapshot->conditions[ranked[r].condition], entry->original,
                                      (ConditionMatchClass)(ranked[r].key >> 56)};
    }
    free(best);
    free(ranked);
    return (int)count;
}

int condition_search_find(const ConditionSearch *search, const Snapshot *snapshot,
                          const char *query, Language language, size_t limit,
                          ConditionMatch *matches, char *code_text)
{
    int32_t code = query_code(query);
    if (code) {
        const Condition *condition = snapshot_condition(snapshot, code);
        if (!condition || limit == 0)
            return 0;
        snprintf(code_text, 32, "ORPHA:%d", (int)code);
        matches[0] = (ConditionMatch){condition, code_text, CONDITION_MATCH_CODE};
        return 1;
    }
    TextQuery query_text;
    if (text_query_init(&query_text, query) != 0)
        return -1;
    int count = CONDITION_QUERY_EMPTY;
    if (query_text.length > 0) {
        count = search_language(search, snapshot, &query_text, language, limit, matches);
        if (count == 0)
            count = search_language(
                search, snapshot, &query_text,
                language == LANGUAGE_FRENCH ? LANGUAGE_ENGLISH : LANGUAGE_FRENCH, limit, matches);
    }
    text_query_free(&query_text);
    return count;
}
