/* fuzz_tree_order.c — libFuzzer target `tree_order`: the index's checks of
 * a stored tree order (index/tree_order.c) through
 * spatial_index_build_ordered(), the call `serve` builds its trees with
 * from the file's `tree_order` part.
 *
 * Set-up (once): the test dataset (fuzz_support.h); its snapshot's trees
 * built by median selection (the reference index), their order as
 * spatial_index_order() writes it (the valid order), and each of its
 * segments sorted (the oracle's sets).
 * Input: the order part itself, native 32-bit words: a header {format,
 * site count, listed count, condition count}, then the whole tree's sites,
 * every condition's listing sites, the (lon, lat) tree's sites.
 * Checks:
 *  - the build returns an index (it only refuses a bad order, never fails
 *    for one), without a crash or a tripped assert;
 *  - the order is accepted exactly when an oracle written independently of
 *    tree_order.c says it is valid: the valid order's header and size, and
 *    each segment, sorted, equal to the valid order's segment sorted;
 *  - an index built from an accepted order answers as the reference: k = 5
 *    nearest at fixed points, without a code and with a few codes, and
 *    bounding boxes, result for result (a permutation of a tree's points
 *    changes its shape, never its answers).
 * Seeds (tests/fuzz/tree_order/) are written by the binary itself
 * (MAILLAGE_FUZZ_WRITE_SEEDS=DIR build/fuzz/fuzz_tree_order): the valid
 * order, each segment reversed (valid, other trees), a site twice, a site
 * past the last, a site moved to another condition's segment, another
 * format, and the order cut short. */
#include "fuzz_support.h"

#include "index/kd_tree.h"
#include "index/spatial_index.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { HEADER_WORDS = 4, QUERY_K = 5, QUERY_CODES = 4, BOX_LIMIT = 4096 };

/* Query points: Paris, Lyon, Brest, Ajaccio, Fort-de-France, Saint-Denis
 * (La Réunion), and the antipode of Paris. */
static const double query_points[][2] = {
    {48.8566, 2.3522},   {45.764, 4.8357},    {48.3904, -4.4861},   {41.9192, 8.7386},
    {14.6161, -61.0588}, {-20.8823, 55.4504}, {-48.8566, -177.6478}};
/* West, south, east, north; the last crosses the antimeridian. */
static const double query_boxes[][4] = {
    {-5.5, 41, 10, 51.5}, {2, 48.5, 2.8, 49.1}, {-62, 14, -60, 17}, {170, -60, -170, 60}};

static const Snapshot *snapshot;
static SpatialIndex *reference;
static uint32_t *valid_order;     /* spatial_index_order() of the reference */
static size_t valid_words;        /* its length in words */
static uint32_t *sorted_segments; /* its words after the header, each segment sorted */
static size_t *segment_starts;    /* word offsets after the header; segment_count + 1 */
static size_t segment_count;
static const Condition *query_codes[QUERY_CODES];
static size_t query_code_count;

static void check(int condition, const char *what)
{
    if (!condition) {
        fprintf(stderr, "fuzz tree_order check failed: %s\n", what);
        abort();
    }
}

static int compare_words(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Sorts each segment of `words` (the order after its header) in place. */
static void sort_segments(uint32_t *words)
{
    for (size_t s = 0; s < segment_count; s++)
        qsort(words + segment_starts[s], segment_starts[s + 1] - segment_starts[s], sizeof *words,
              compare_words);
}

/* The segments: the whole tree, one per condition (its listing sites),
 * the (lon, lat) tree. */
static void find_segments(void)
{
    size_t site_count = snapshot->site_count, conditions = snapshot->condition_count;
    segment_count = conditions + 2;
    segment_starts = malloc((segment_count + 1) * sizeof *segment_starts);
    check(segment_starts != NULL, "set-up: out of memory");
    segment_starts[0] = 0;
    for (size_t c = 0; c <= conditions; c++)
        segment_starts[c + 1] = site_count + reference->code_offsets[c];
    segment_starts[segment_count] = segment_starts[segment_count - 1] + site_count;
    check(HEADER_WORDS + segment_starts[segment_count] == valid_words,
          "set-up: the valid order's size is not its segments'");
}

/* A few codes sites cover, spread over the conditions (with and without
 * their own listing sites). */
static void choose_codes(void)
{
    size_t step = snapshot->condition_count / QUERY_CODES + 1;
    for (size_t c = 0; c < snapshot->condition_count && query_code_count < QUERY_CODES; c++) {
        const Condition *condition = &snapshot->conditions[c];
        if (condition->covering_sites > 0 && c >= query_code_count * step)
            query_codes[query_code_count++] = condition;
    }
    check(query_code_count > 0, "set-up: no condition covered by a site");
}

static SpatialIndex *build_index(const void *order, size_t size, const char **refused)
{
    char error[256];
    SpatialIndex *index =
        spatial_index_build_ordered(snapshot, NULL, order, size, refused, error, sizeof error);
    if (!index) {
        fprintf(stderr, "fuzz tree_order: the index was not built: %s\n", error);
        abort();
    }
    return index;
}

static void write_seeds(const char *dir);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snapshot = fuzz_dataset()->snapshot;
    reference = build_index(NULL, 0, NULL);
    size_t bytes = 0;
    valid_order = spatial_index_order(reference, snapshot, &bytes);
    check(valid_order != NULL && bytes % sizeof *valid_order == 0, "set-up: no valid order");
    valid_words = bytes / sizeof *valid_order;
    find_segments();
    sorted_segments = malloc(bytes);
    check(sorted_segments != NULL, "set-up: out of memory");
    memcpy(sorted_segments, valid_order + HEADER_WORDS, bytes - HEADER_WORDS * sizeof *valid_order);
    sort_segments(sorted_segments);
    choose_codes();
    fuzz_write_seeds_if_asked(write_seeds);
    return 0;
}

/* The oracle: the valid order's header and size, and each segment a
 * permutation of the valid order's. */
static int order_is_valid(const uint8_t *data, size_t size)
{
    if (size != valid_words * sizeof *valid_order)
        return 0;
    uint32_t *words = malloc(size);
    check(words != NULL, "out of memory");
    memcpy(words, data, size);
    int valid = memcmp(words, valid_order, HEADER_WORDS * sizeof *words) == 0;
    if (valid) {
        sort_segments(words + HEADER_WORDS);
        valid =
            memcmp(words + HEADER_WORDS, sorted_segments, size - HEADER_WORDS * sizeof *words) == 0;
    }
    free(words);
    return valid;
}

static void check_nearest(const SpatialIndex *index, const SiteFilter *filter, double lat,
                          double lon, const Condition *condition)
{
    NearestResult want[QUERY_K], got[QUERY_K];
    int wanted =
        spatial_index_nearest(reference, snapshot, lat, lon, condition, filter, QUERY_K, want);
    int found = spatial_index_nearest(index, snapshot, lat, lon, condition, filter, QUERY_K, got);
    check(wanted >= 0 && found == wanted, "nearest: another count than the reference's");
    for (int i = 0; i < found; i++)
        check(got[i].site == want[i].site && got[i].distance_m == want[i].distance_m,
              "nearest: another site or distance than the reference's");
}

static void check_box(const SpatialIndex *index, const SiteFilter *filter, const double box[4],
                      const Condition *condition)
{
    static uint32_t want[BOX_LIMIT], got[BOX_LIMIT];
    size_t wanted = 0, found = 0;
    int want_truncated = 0, got_truncated = 0;
    check(spatial_index_box(reference, snapshot, box[0], box[1], box[2], box[3], condition, filter,
                            BOX_LIMIT, want, &wanted, &want_truncated) == 0 &&
              spatial_index_box(index, snapshot, box[0], box[1], box[2], box[3], condition, filter,
                                BOX_LIMIT, got, &found, &got_truncated) == 0,
          "box: out of memory");
    check(found == wanted && got_truncated == want_truncated &&
              memcmp(got, want, found * sizeof *got) == 0,
          "box: other sites than the reference's");
}

/* Every query of the header comment, on `index` and on the reference. */
static void check_answers(const SpatialIndex *index)
{
    SiteFilter filter;
    site_filter_init(&filter);
    for (size_t p = 0; p < sizeof query_points / sizeof query_points[0]; p++) {
        check_nearest(index, &filter, query_points[p][0], query_points[p][1], NULL);
        for (size_t c = 0; c < query_code_count; c++)
            check_nearest(index, &filter, query_points[p][0], query_points[p][1], query_codes[c]);
    }
    for (size_t b = 0; b < sizeof query_boxes / sizeof query_boxes[0]; b++) {
        check_box(index, &filter, query_boxes[b], NULL);
        check_box(index, &filter, query_boxes[b], query_codes[0]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A private, aligned copy: the index reads the order as words. */
    uint32_t *order = malloc(size ? size : 1);
    check(order != NULL, "out of memory");
    memcpy(order, data, size);
    const char *refused = "not set";
    SpatialIndex *index = build_index(order, size, &refused);
    int valid = order_is_valid(data, size);
    if (valid && refused)
        fprintf(stderr, "refused: %s\n", refused);
    check(valid == (refused == NULL),
          valid ? "a valid order was refused" : "an order that is not one was accepted");
    check_answers(index);
    spatial_index_free(index);
    free(order);
    return 0;
}

/* --- Seeds ------------------------------------------------------------------ */

/* The seed DIR/NAME: the first `count` words of `words`. */
static void write_seed(const char *dir, const char *name, const uint32_t *words, size_t count)
{
    fuzz_write_seed(dir, name, words, count * sizeof *words);
}

static void write_seeds(const char *dir)
{
    size_t bytes = valid_words * sizeof *valid_order;
    uint32_t *words = malloc(bytes);
    check(words != NULL, "out of memory");
    uint32_t *body = words + HEADER_WORDS;
    write_seed(dir, "seed-valid", valid_order, valid_words);
    memcpy(words, valid_order, bytes);
    for (size_t s = 0; s < segment_count; s++)
        for (size_t i = segment_starts[s], j = segment_starts[s + 1]; i + 1 < j; i++, j--) {
            uint32_t site = body[i];
            body[i] = body[j - 1];
            body[j - 1] = site;
        }
    write_seed(dir, "seed-segments-reversed", words, valid_words);
    memcpy(words, valid_order, bytes);
    body[1] = body[0];
    write_seed(dir, "seed-site-twice", words, valid_words);
    memcpy(words, valid_order, bytes);
    body[0] = (uint32_t)snapshot->site_count;
    write_seed(dir, "seed-site-past-the-last", words, valid_words);
    /* The last site of the first condition segment that has one swapped
     * with the first of the next non-empty one: two sites out of place. */
    memcpy(words, valid_order, bytes);
    for (size_t s = 1; s + 2 < segment_count; s++) {
        size_t end = segment_starts[s + 1];
        if (end > segment_starts[s] && end < segment_starts[segment_count - 1] &&
            body[end - 1] != body[end]) {
            uint32_t site = body[end - 1];
            body[end - 1] = body[end];
            body[end] = site;
            break;
        }
    }
    write_seed(dir, "seed-site-in-another-condition", words, valid_words);
    memcpy(words, valid_order, bytes);
    words[0] ^= 0xffu;
    write_seed(dir, "seed-other-format", words, valid_words);
    write_seed(dir, "seed-cut-short", valid_order, valid_words / 2);
    free(words);
}
