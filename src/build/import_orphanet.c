/* import_orphanet.c — Orphanet nomenclature, synonyms, classification and
 * ancestor closure; see import_orphanet.h. */
#include "build/import_orphanet.h"
#include "base/array.h"
#include "base/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const ImportColumn nomenclature_columns[] = {
    {"orpha_code", IMPORT_INTEGER, 1}, {"label_fr", IMPORT_TEXT, 1}, {"label_en", IMPORT_TEXT, 1},
    {"level", IMPORT_TEXT, 1},         {"status", IMPORT_TEXT, 1},   {"type", IMPORT_TEXT, 0},
    {"flag_value", IMPORT_INTEGER, 0},
};

static int check_condition(ImportContext *context, void *state, BuildInput *input, long line,
                           char *const *values, char *reason, size_t reason_size)
{
    (void)state;
    (void)input;
    (void)line;
    int64_t code = 0;
    if (parse_integer(values[0], 1, INT32_MAX, &code) != 0) {
        snprintf(reason, reason_size, "invalid orpha_code '%.40s'", values[0]);
        return 1;
    }
    const char *level = values[3];
    if (strcmp(level, "group") != 0 && strcmp(level, "disorder") != 0 &&
        strcmp(level, "subtype") != 0) {
        snprintf(reason, reason_size, "unknown level '%.40s'", level);
        return 1;
    }
    if (import_orpha_code_known(context, code)) {
        snprintf(reason, reason_size, "repeated orpha_code %lld", (long long)code);
        return 1;
    }
    if (import_orpha_code_add(context, (int32_t)code) != 0)
        return import_fail(context, input->file, line, "out of memory");
    /* Keep the set sorted while loading when codes come in order (the file is
     * sorted); otherwise sort on insert so the duplicate check stays exact. */
    size_t count = context->orpha_code_count;
    if (count > 1 && context->orpha_codes[count - 2] > context->orpha_codes[count - 1])
        import_orpha_codes_seal(context);
    return 0;
}

int import_orphanet_nomenclature(ImportContext *context, const char *path)
{
    ImportTable table = {
        .kind = "nomenclature",
        .columns = nomenclature_columns,
        .column_count = sizeof nomenclature_columns / sizeof nomenclature_columns[0],
        .insert_sql = "INSERT INTO conditions(orpha_code, label_fr, label_en, level, status, "
                      "type, flag_value) VALUES (:orpha_code, :label_fr, :label_en, :level, "
                      ":status, :type, :flag_value)",
        .check_row = check_condition,
    };
    int result = import_csv_table(context, path, import_base_name(path), &table);
    import_orpha_codes_seal(context);
    return result;
}

static const ImportColumn synonym_columns[] = {
    {"orpha_code", IMPORT_INTEGER, 1},
    {"lang", IMPORT_TEXT, 1},
    {"synonym", IMPORT_TEXT, 1},
};

static int check_synonym(ImportContext *context, void *state, BuildInput *input, long line,
                         char *const *values, char *reason, size_t reason_size)
{
    (void)state;
    (void)input;
    (void)line;
    int64_t code = 0;
    if (parse_integer(values[0], 1, INT32_MAX, &code) != 0 ||
        !import_orpha_code_known(context, code)) {
        snprintf(reason, reason_size, "unknown ORPHAcode %.40s", values[0]);
        return 1;
    }
    if (strcmp(values[1], "fr") != 0 && strcmp(values[1], "en") != 0) {
        snprintf(reason, reason_size, "unknown lang '%.40s'", values[1]);
        return 1;
    }
    return 0;
}

int import_orphanet_synonyms(ImportContext *context, const char *path)
{
    ImportTable table = {
        .kind = "synonyms",
        .columns = synonym_columns,
        .column_count = sizeof synonym_columns / sizeof synonym_columns[0],
        .insert_sql = "INSERT INTO synonyms(orpha_code, lang, synonym) "
                      "VALUES (:orpha_code, :lang, :synonym)",
        .check_row = check_synonym,
    };
    return import_csv_table(context, path, import_base_name(path), &table);
}

/* Parent edges gathered while loading the classification, as dense indexes
 * into the sorted code set. */
typedef struct EdgeList {
    struct {
        uint32_t child, parent;
    } * items;
    size_t count;
    size_t capacity;
} EdgeList;

static uint32_t code_index(const ImportContext *context, int64_t code)
{
    int32_t key = (int32_t)code;
    const int32_t *found = NULL;
    size_t low = 0, high = context->orpha_code_count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (context->orpha_codes[middle] < key) {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    if (low < context->orpha_code_count && context->orpha_codes[low] == key)
        found = &context->orpha_codes[low];
    return found ? (uint32_t)(found - context->orpha_codes) : UINT32_MAX;
}

static const ImportColumn classification_columns[] = {
    {"parent", IMPORT_INTEGER, 1},
    {"child", IMPORT_INTEGER, 1},
    {"classification", IMPORT_INTEGER, 1},
    {"classification_name", IMPORT_TEXT, 0},
};

static int check_edge(ImportContext *context, void *state, BuildInput *input, long line,
                      char *const *values, char *reason, size_t reason_size)
{
    EdgeList *edges = state;
    int64_t parent = 0, child = 0;
    for (int i = 0; i < 2; i++) {
        int64_t *code = i == 0 ? &parent : &child;
        if (parse_integer(values[i], 1, INT32_MAX, code) != 0 ||
            !import_orpha_code_known(context, *code)) {
            snprintf(reason, reason_size, "unknown ORPHAcode %.40s", values[i]);
            return 1;
        }
    }
    if (parent == child) {
        snprintf(reason, reason_size, "ORPHAcode %lld is its own parent", (long long)parent);
        return 1;
    }
    if (array_reserve(edges->items, edges->capacity, edges->count + 1, 65536) != 0)
        return import_fail(context, input->file, line, "out of memory");
    edges->items[edges->count].child = code_index(context, child);
    edges->items[edges->count].parent = code_index(context, parent);
    edges->count++;
    return 0;
}

/* Breadth-first search upwards from every code; inserts the closure in
 * (code, ancestor) order. */
typedef struct ClosureWork {
    size_t node_count;
    uint32_t *parents_start; /* CSR: parents of node n are parents[start[n]..start[n+1]) */
    uint32_t *parents;
    uint32_t *queue;
    uint32_t *depth;
    uint32_t *seen_by; /* node + 1 of the search that reached it last */
    uint32_t *found;   /* ancestors reached by the current search */
} ClosureWork;

static void closure_free(ClosureWork *work)
{
    free(work->parents_start);
    free(work->parents);
    free(work->queue);
    free(work->depth);
    free(work->seen_by);
    free(work->found);
}

static int closure_prepare(ClosureWork *work, const EdgeList *edges, size_t node_count)
{
    memset(work, 0, sizeof *work);
    work->node_count = node_count;
    work->parents_start = calloc(node_count + 1, sizeof(uint32_t));
    work->parents = malloc((edges->count + 1) * sizeof(uint32_t));
    work->queue = malloc((node_count + 1) * sizeof(uint32_t));
    work->depth = malloc((node_count + 1) * sizeof(uint32_t));
    work->seen_by = calloc(node_count + 1, sizeof(uint32_t));
    work->found = malloc((node_count + 1) * sizeof(uint32_t));
    if (!work->parents_start || !work->parents || !work->queue || !work->depth || !work->seen_by ||
        !work->found)
        return -1;
    for (size_t i = 0; i < edges->count; i++)
        work->parents_start[edges->items[i].child + 1]++;
    for (size_t n = 0; n < node_count; n++)
        work->parents_start[n + 1] += work->parents_start[n];
    uint32_t *fill = calloc(node_count + 1, sizeof(uint32_t));
    if (!fill)
        return -1;
    for (size_t i = 0; i < edges->count; i++) {
        uint32_t child = edges->items[i].child;
        work->parents[work->parents_start[child] + fill[child]++] = edges->items[i].parent;
    }
    free(fill);
    return 0;
}

static int compare_indexes(const void *left, const void *right)
{
    uint32_t a = *(const uint32_t *)left, b = *(const uint32_t *)right;
    return (a > b) - (a < b);
}

/* Fills work->found with the ancestors of `node` (itself included); returns their count. */
static size_t closure_of(ClosureWork *work, uint32_t node)
{
    size_t head = 0, tail = 0, found = 0;
    uint32_t stamp = node + 1;
    work->queue[tail++] = node;
    work->seen_by[node] = stamp;
    work->depth[node] = 0;
    while (head < tail) {
        uint32_t current = work->queue[head++];
        work->found[found++] = current;
        for (uint32_t i = work->parents_start[current]; i < work->parents_start[current + 1]; i++) {
            uint32_t parent = work->parents[i];
            if (work->seen_by[parent] == stamp)
                continue;
            work->seen_by[parent] = stamp;
            work->depth[parent] = work->depth[current] + 1;
            work->queue[tail++] = parent;
        }
    }
    qsort(work->found, found, sizeof(uint32_t), compare_indexes);
    return found;
}

static int fill_ancestors(ImportContext *context, const EdgeList *edges, const char *file)
{
    ClosureWork work;
    sqlite3_stmt *insert = NULL;
    int result = -1;
    if (closure_prepare(&work, edges, context->orpha_code_count) != 0) {
        import_fail(context, file, 0, "out of memory");
        goto done;
    }
    if (import_prepare(context, file,
                       "INSERT INTO ancestors(orpha_code, ancestor, depth) VALUES (?, ?, ?)",
                       &insert) != 0)
        goto done;
    for (uint32_t node = 0; node < work.node_count; node++) {
        size_t count = closure_of(&work, node);
        for (size_t i = 0; i < count; i++) {
            uint32_t ancestor = work.found[i];
            sqlite3_bind_int(insert, 1, context->orpha_codes[node]);
            sqlite3_bind_int(insert, 2, context->orpha_codes[ancestor]);
            sqlite3_bind_int(insert, 3, (int)work.depth[ancestor]);
            int status = sqlite3_step(insert);
            sqlite3_reset(insert);
            if (status != SQLITE_DONE) {
                import_fail(context, file, 0, "database error: %s", sqlite3_errmsg(context->db));
                goto done;
            }
        }
    }
    result = 0;
done:
    sqlite3_finalize(insert);
    closure_free(&work);
    return result;
}

static const char CONDITION_SEARCH_SQL[] =
    "INSERT INTO condition_search(text, orpha_code, lang, kind)"
    "  SELECT label_fr, orpha_code, 'fr', 'label' FROM conditions;"
    "INSERT INTO condition_search(text, orpha_code, lang, kind)"
    "  SELECT label_en, orpha_code, 'en', 'label' FROM conditions;"
    "INSERT INTO condition_search(text, orpha_code, lang, kind)"
    "  SELECT synonym, orpha_code, lang, 'synonym' FROM synonyms;";

int import_orphanet_classification(ImportContext *context, const char *path)
{
    EdgeList edges = {0};
    const char *file = import_base_name(path);
    ImportTable table = {
        .kind = "classification",
        .columns = classification_columns,
        .column_count = sizeof classification_columns / sizeof classification_columns[0],
        .insert_sql = "INSERT INTO classification(parent, child, classification, "
                      "classification_name) VALUES (:parent, :child, :classification, "
                      ":classification_name)",
        .check_row = check_edge,
        .check_state = &edges,
    };
    int result = import_csv_table(context, path, file, &table);
    if (result == 0)
        result = fill_ancestors(context, &edges, file);
    if (result == 0)
        result = import_exec(context, file, CONDITION_SEARCH_SQL);
    free(edges.items);
    return result;
}
