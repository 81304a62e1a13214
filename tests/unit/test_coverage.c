/* test_coverage.c — /api/coverage on the shipped database against brute
 * force: every commune's nearest covering site by PROJ's geodesic over all
 * sites, covered population to the inhabitant per département, régions
 * equal to the sums of their départements, the same answer twice, a code
 * covered only through its group, a filière, a code nobody covers, and the
 * bad-input table. */
#include "check.h"
#include "json_read.h"
#include "support.h"

#include "base/geodesy.h"
#include "http/coverage_route.h"
#include "index/coverage.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static Dataset *dataset;

/* GET /api/coverage?<query>; the parsed body (json_node_free), status in *status. */
static JsonNode *coverage(const char *query, int *status, Buffer *raw)
{
    QueryParameter parameters[REQUEST_MAX_PARAMETERS];
    static char copy[512];
    size_t count = split_query(query, copy, sizeof copy, parameters);
    Response response;
    route_call(dataset, "/api/coverage", parameters, count, &response);
    *status = response.status;
    char error[128];
    JsonNode *root = response.body.data ? json_node_parse(response.body.data, response.body.length,
                                                          error, sizeof error)
                                        : NULL;
    if (raw)
        buffer_append(raw, response.body.data ? response.body.data : "", response.body.length);
    response_free(&response);
    return root;
}

/* Brute force: each commune's distance (m) to its nearest site covering
 * `condition` (NULL: of filière `filiere`), by PROJ over every site;
 * INFINITY without a point. */
static double *brute_force_distances(const Condition *condition, const char *filiere)
{
    const Snapshot *snapshot = dataset->snapshot;
    const Communes *communes = dataset->communes;
    double *distance = malloc((communes->commune_count + 1) * sizeof *distance);
    const Site **selected = malloc((snapshot->site_count + 1) * sizeof *selected);
    size_t count = 0;
    for (size_t s = 0; selected && s < snapshot->site_count; s++) {
        const Site *site = &snapshot->sites[s];
        if (condition
                ? snapshot_site_covers(snapshot, site, condition, NULL) >= 0
                : site->filiere && strcasecmp(snapshot_text(snapshot, site->filiere), filiere) == 0)
            selected[count++] = site;
    }
    for (size_t c = 0; distance && selected && c < communes->commune_count; c++) {
        const Commune *commune = &communes->communes[c];
        distance[c] = INFINITY;
        for (size_t s = 0; commune->has_point && s < count; s++) {
            double d =
                geodesy_distance_m(commune->lat, commune->lon, selected[s]->lat, selected[s]->lon);
            if (d < distance[c])
                distance[c] = d;
        }
    }
    free(selected);
    return distance;
}

/* The population of each département's communes within `radius_m`. */
static void brute_force(const double *distance, double radius_m, int64_t *covered,
                        int64_t *total_covered)
{
    const Communes *communes = dataset->communes;
    memset(covered, 0, communes->departement_count * sizeof *covered);
    *total_covered = 0;
    for (size_t c = 0; c < communes->commune_count; c++) {
        const Commune *commune = &communes->communes[c];
        if (distance[c] <= radius_m) {
            *total_covered += commune->population;
            if (commune->departement != COMMUNES_NONE)
                covered[commune->departement] += commune->population;
        }
    }
}

/* The answer's covered_population of area `code`, or -1. */
static int64_t area_covered(const JsonNode *root, const char *code)
{
    long count = json_node_count(root, "/results");
    for (long i = 0; i < count; i++) {
        char pointer[64];
        snprintf(pointer, sizeof pointer, "/results/%ld/code", i);
        const char *area = json_node_string(root, pointer);
        if (area && strcmp(area, code) == 0) {
            snprintf(pointer, sizeof pointer, "/results/%ld/covered_population", i);
            return (int64_t)json_node_number(root, pointer);
        }
    }
    return -1;
}

static void check_against_brute_force(const char *selection, const Condition *condition,
                                      const char *filiere)
{
    static const int radii[] = {20, 50, 100, 150};
    const Communes *communes = dataset->communes;
    int64_t *expected = calloc(communes->departement_count + 1, sizeof *expected);
    double *distance = brute_force_distances(condition, filiere);
    CHECK(expected && distance, "out of memory");
    for (size_t r = 0; expected && distance && r < sizeof radii / sizeof radii[0]; r++) {
        int64_t total;
        brute_force(distance, radii[r] * 1000.0, expected, &total);
        char query[160];
        snprintf(query, sizeof query, "%s&radius_km=%d", selection, radii[r]);
        int status;
        JsonNode *root = coverage(query, &status, NULL);
        CHECK(status == 200 && root, "%s: status %d", query, status);
        CHECK((int64_t)json_node_number(root, "/total/covered_population") == total,
              "%s: France covered %.0f, brute force %lld", query,
              json_node_number(root, "/total/covered_population"), (long long)total);
        size_t wrong = 0;
        for (size_t d = 0; d < communes->departement_count; d++)
            wrong += area_covered(root, communes->departements[d].code) != expected[d];
        CHECK(wrong == 0, "%s: %zu départements differ from brute force", query, wrong);
        json_node_free(root);
        /* Régions: the sums of their départements. */
        snprintf(query, sizeof query, "%s&radius_km=%d&level=region", selection, radii[r]);
        root = coverage(query, &status, NULL);
        size_t regions_wrong = 0;
        for (size_t g = 0; g < communes->region_count; g++) {
            int64_t sum = 0;
            for (size_t d = 0; d < communes->departement_count; d++)
                if (communes->departements[d].region == g)
                    sum += expected[d];
            regions_wrong += area_covered(root, communes->regions[g].code) != sum;
        }
        CHECK(status == 200 && regions_wrong == 0, "%s: %zu régions differ", query, regions_wrong);
        json_node_free(root);
    }
    free(expected);
    free(distance);
}

TEST(cystic_fibrosis_against_brute_force)
{
    check_against_brute_force("orpha=586", snapshot_condition(dataset->snapshot, 586), NULL);
}

TEST(group_coverage_against_brute_force)
{
    /* Drépanocytose (232) is covered only through its group 275752. */
    const Condition *condition = snapshot_condition(dataset->snapshot, 232);
    CHECK(condition && condition->covering_sites > 0, "ORPHA:232 covered");
    int direct = 0;
    for (size_t s = 0; s < dataset->snapshot->site_count; s++)
        direct += site_lists_code(dataset->snapshot, &dataset->snapshot->sites[s], 232);
    CHECK(direct == 0, "ORPHA:232 is listed directly by %d sites", direct);
    check_against_brute_force("orpha=232", condition, NULL);
}

TEST(filiere_against_brute_force)
{
    check_against_brute_force("filiere=muco", NULL, "MUCO");
}

/* Field by field (the struct has padding); NAN equals NAN here. */
static int same_figures(const CoverageFigures *a, const CoverageFigures *b)
{
    return a->population == b->population && a->covered == b->covered &&
           a->without_point == b->without_point && a->serving_site == b->serving_site &&
           a->serving_population == b->serving_population &&
           (a->median_km == b->median_km || (isnan(a->median_km) && isnan(b->median_km))) &&
           (a->p90_km == b->p90_km || (isnan(a->p90_km) && isnan(b->p90_km)));
}

TEST(answers_repeat_and_add_up)
{
    Buffer first, second;
    buffer_init(&first);
    buffer_init(&second);
    int status;
    JsonNode *root = coverage("orpha=586&radius_km=100", &status, &first);
    json_node_free(coverage("orpha=586&radius_km=100", &status, &second));
    CHECK(first.data && second.data && strcmp(first.data, second.data) == 0, "repeat differs");
    /* France = metropolitan France + the overseas départements. */
    double france = json_node_number(root, "/total/population"), sum = 0, covered = 0;
    for (long t = 0; t < json_node_count(root, "/territories"); t++) {
        char pointer[64];
        snprintf(pointer, sizeof pointer, "/territories/%ld/population", t);
        sum += json_node_number(root, pointer);
        snprintf(pointer, sizeof pointer, "/territories/%ld/covered_population", t);
        covered += json_node_number(root, pointer);
    }
    double departements = 0;
    JsonNode *by_departement = coverage("orpha=586&radius_km=100", &status, NULL);
    for (long d = 0; d < json_node_count(by_departement, "/results"); d++) {
        char pointer[64];
        snprintf(pointer, sizeof pointer, "/results/%ld/population", d);
        departements += json_node_number(by_departement, pointer);
    }
    json_node_free(by_departement);
    CHECK(departements == france, "France %.0f, départements %.0f", france, departements);
    CHECK(json_node_count(root, "/territories") == TERRITORY_COUNT && sum == france &&
              covered == json_node_number(root, "/total/covered_population"),
          "territories: %.0f of %.0f", sum, france);
    double share = json_node_number(root, "/total/share");
    CHECK(share > 0 && share < 1, "share %g is a fraction", share);
    CHECK(json_node_number(root, "/total/without_point_population") > 0,
          "communes without a point are reported");
    CHECK(json_node_string(root, "/total/serving_site/site_id") != NULL, "serving site");
    /* La Réunion: no CRCM placed there, nobody within 100 km. */
    CHECK(json_node_number(root, "/territories/4/covered_population") == 0 &&
              json_node_number(root, "/territories/4/median_km") > 8000,
          "La Réunion");
    json_node_free(root);
    /* Direct computation twice: the same figures. */
    CoverageQuery query = {snapshot_condition(dataset->snapshot, 586), {0}, 50e3};
    site_filter_init(&query.filter);
    Coverage a, b;
    CHECK(coverage_compute(dataset->index, dataset->snapshot, dataset->communes, &query, &a) == 0 &&
              coverage_compute(dataset->index, dataset->snapshot, dataset->communes, &query, &b) ==
                  0,
          "compute");
    size_t differ = !same_figures(&a.total, &b.total);
    for (size_t d = 0; d < dataset->communes->departement_count; d++)
        differ += !same_figures(&a.departements[d], &b.departements[d]);
    CHECK(differ == 0, "%zu figures differ between two runs", differ);
    coverage_free(&a);
    coverage_free(&b);
    buffer_free(&first);
    buffer_free(&second);
}

TEST(uncovered_code)
{
    const Snapshot *snapshot = dataset->snapshot;
    const Condition *uncovered = NULL;
    for (size_t c = 0; c < snapshot->condition_count && !uncovered; c++)
        if (snapshot->conditions[c].covering_sites == 0)
            uncovered = &snapshot->conditions[c];
    CHECK(uncovered != NULL, "some code is covered by no site");
    if (!uncovered)
        return;
    char query[96];
    snprintf(query, sizeof query, "orpha=%d&radius_km=100", (int)uncovered->orpha);
    int status;
    JsonNode *root = coverage(query, &status, NULL);
    CHECK(status == 200 && json_node_number(root, "/total/covered_population") == 0 &&
              json_node_number(root, "/selected_sites") == 0 &&
              json_node_string(root, "/message") != NULL,
          "%s: status %d", query, status);
    json_node_free(root);
}

TEST(bad_input)
{
    static const char *const queries[] = {
        "orpha=586&radius_km=0",
        "orpha=586&radius_km=-5",
        "orpha=586&radius_km=2001",
        "orpha=586&radius_km=NaN",
        "orpha=586&radius_km=",
        "orpha=586",
        "orpha=999999999&radius_km=50",
        "filiere=NOPE&radius_km=50",
        "orpha=586&orpha=586&radius_km=50",
        "orpha=586&radius_km=50&radius_km=60",
        "orpha=586&radius_km=50&level=commune",
        "orpha=586&filiere=MUCO&radius_km=50",
        "radius_km=50",
        "orpha=586&radius_km=50&role=chef",
        "orpha=586&radius_km=inf",
        "orpha=586&radius_km=1e400",
    };
    for (size_t q = 0; q < sizeof queries / sizeof queries[0]; q++) {
        int status;
        JsonNode *root = coverage(queries[q], &status, NULL);
        CHECK(status == 400 && json_node_number(root, "/status") == 400 &&
                  json_node_string(root, "/title") && json_node_string(root, "/detail"),
              "%s: status %d", queries[q], status);
        json_node_free(root);
    }
}

int main(void)
{
    const char *path = getenv("MAILLAGE_DATABASE");
    if (!path || !*path)
        path = "build/maillage.sqlite";
    char error[1024];
    dataset = dataset_load(path, NULL, error, sizeof error);
    if (!dataset) {
        fprintf(stderr, "test_coverage: cannot load %s: %s\n", path, error);
        printf("test_coverage: 0 passed, 1 failed\n");
        return 1;
    }
    RUN(cystic_fibrosis_against_brute_force);
    RUN(group_coverage_against_brute_force);
    RUN(filiere_against_brute_force);
    RUN(answers_repeat_and_add_up);
    RUN(uncovered_code);
    RUN(bad_input);
    dataset_free(dataset);
    return CHECK_SUMMARY("test_coverage");
}
