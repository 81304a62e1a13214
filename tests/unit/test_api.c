/* test_api.c — the API handlers on the real shipped database
 * (build/maillage.sqlite, or $MAILLAGE_DATABASE), called through the route
 * table as the server does: seed checks from the network seeds (Provins,
 * Necker), condition and place search, the 400/404 rules, GeoJSON boxes,
 * and nearest against brute force for every covered condition. Answers are
 * read with the test JSON reader (json_read.h), so every body checked is
 * also checked to be JSON. */
#include "base/geodesy.h"
#include "check.h"
#include "dataset/dataset.h"
#include "http/api.h"
#include "http/routes.h"
#include "index/spatial_index.h"
#include "json_read.h"
#include "model/snapshot.h"
#include "support.h"

#include <stdlib.h>

static Dataset *dataset;
static const Snapshot *snapshot; /* dataset->snapshot */

/* Calls the route of `path` with a query string "a=1&b=2" (not decoded).
 * Returns 1 when an API handler answered, 0 when no route has a handler
 * for the path (a page, a static file or a 404 of the server's own). */
static int call(const char *path, const char *query, Response *response)
{
    static char copy[1024];
    QueryParameter parameters[REQUEST_MAX_PARAMETERS];
    size_t count = split_query(query, copy, sizeof copy, parameters);
    return route_call(dataset, path, parameters, count, response);
}

static const char *body(const Response *response)
{
    return response->body.data ? response->body.data : "";
}

/* The body read as JSON; NULL after a failed CHECK when it is not JSON. */
static JsonNode *parse(const Response *response)
{
    char error[128] = "";
    JsonNode *root = json_node_parse(body(response), response->body.length, error, sizeof error);
    CHECK(root != NULL, "not JSON (%s): %.300s", error, body(response));
    return root;
}

/* GET path?query, parsed: the status in *status; NULL when not JSON. */
static JsonNode *get(const char *path, const char *query, int *status)
{
    Response response;
    call(path, query, &response);
    *status = response.status;
    JsonNode *root = parse(&response);
    response_free(&response);
    return root;
}

/* The status of GET path?query (0 when no API handler answers); a 4xx or
 * 5xx must be an RFC 9457 problem with its status and a detail. */
static int status_of(const char *path, const char *query)
{
    Response response;
    int handled = call(path, query, &response);
    int status = handled ? response.status : 0;
    if (status >= 400) {
        JsonNode *problem = parse(&response);
        CHECK(problem && strcmp(response.content_type, "application/problem+json") == 0 &&
                  json_node_number(problem, "/status") == status &&
                  json_node_string(problem, "/detail") && json_node_string(problem, "/title"),
              "problem body: %s", body(&response));
        json_node_free(problem);
    }
    response_free(&response);
    return status;
}

#define CHECK_STATUS(path, query, expected)                                                        \
    do {                                                                                           \
        int status_ = status_of(path, query);                                                      \
        CHECK(status_ == (expected), "%s?%s: status %d, expected %d", path, query, status_,        \
              expected);                                                                           \
    } while (0)

/* The index in the array at `pointer` of the first item whose member
 * `member` (a JSON Pointer from the item) is the string `value`; -1 when
 * none. */
static long find_item(const JsonNode *root, const char *pointer, const char *member,
                      const char *value)
{
    const JsonNode *array = json_node_at(root, pointer);
    for (size_t i = 0; array && array->kind == JSON_NODE_ARRAY && i < array->count; i++) {
        const char *text = json_node_string(&array->items[i], member);
        if (text && strcmp(text, value) == 0)
            return (long)i;
    }
    return -1;
}

/* The same for a number. */
static long find_number(const JsonNode *root, const char *pointer, const char *member, double value)
{
    const JsonNode *array = json_node_at(root, pointer);
    for (size_t i = 0; array && array->kind == JSON_NODE_ARRAY && i < array->count; i++)
        if (json_node_number(&array->items[i], member) == value)
            return (long)i;
    return -1;
}

TEST(health)
{
    Response response;
    CHECK(call("/healthz", NULL, &response) == 1, "not handled");
    char expected[128];
    snprintf(expected, sizeof expected, "{\"status\":\"ok\",\"dataset\":\"%s\"}",
             snapshot->version);
    CHECK_STRING(body(&response), expected);
    response_free(&response);
    CHECK(status_of("/api/unknown", "") == 0, "an unknown path is not the API's");
    CHECK(status_of("/", "") == 0, "/ is a page, not the API's");
}

/* The first result of /api/nearest has site_id `site_id` and matched
 * through `via` (0: orpha_matched null). */
static void check_first_nearest(const char *query, const char *site_id, int via,
                                const char *via_label)
{
    int status;
    JsonNode *root = get("/api/nearest", query, &status);
    const char *first = json_node_string(root, "/results/0/site_id");
    CHECK(status == 200 && first && strcmp(first, site_id) == 0, "%s: expected %s first, got %s",
          query, site_id, first ? first : "(none)");
    if (via) {
        const char *label = json_node_string(root, "/results/0/orpha_matched/label");
        CHECK(json_node_number(root, "/results/0/orpha_matched/orpha") == via && label &&
                  strcmp(label, via_label) == 0 &&
                  json_node_count(root, "/results/0/orpha_matched") == 2,
              "%s: expected orpha_matched %d (%s), got %g (%s)", query, via, via_label,
              json_node_number(root, "/results/0/orpha_matched/orpha"), label ? label : "-");
    } else if (status == 200) {
        CHECK(json_node_is_null(root, "/results/0/orpha_matched"), "%s: orpha_matched not null",
              query);
    }
    json_node_free(root);
}

TEST(seed_nearest)
{
    /* Provins: the Provins cooperation site covers the drépanocytose group. */
    check_first_nearest("lat=48.5597&lon=3.2994&orpha=275752", "PROVINS-COOP", 275752,
                        "Drépanocytose et maladies associées");
    /* A disorder under the group (232, drépanocytose) is covered through it. */
    check_first_nearest("lat=48.5597&lon=3.2994&orpha=232", "PROVINS-COOP", 275752,
                        "Drépanocytose et maladies associées");
    /* Central Paris: MAREP (96346) and trisomy 21 (870), a descendant. */
    check_first_nearest("lat=48.8566&lon=2.3522&orpha=96346", "NECKER-MAREP", 96346,
                        "Malformation anorectale");
    check_first_nearest("lat=48.8566&lon=2.3522&orpha=870&k=3", "NECKER-MAREP", 96346,
                        "Malformation anorectale");
    check_first_nearest("lat=48.8566&lon=2.3522&orpha=ORPHA:870", "NECKER-MAREP", 96346,
                        "Malformation anorectale");
    /* Without orpha every site counts, and orpha_matched is null. */
    int status;
    JsonNode *root = get("/api/nearest", "lat=48.8566&lon=2.3522", &status);
    long results = json_node_count(root, "/results");
    CHECK(status == 200 && json_node_number(root, "/query/k") == 5 &&
              json_node_is_null(root, "/query/orpha"),
          "query echo");
    CHECK(results == 5, "%ld results, expected the default k = 5", results);
    for (long i = 0; i < results; i++) {
        char pointer[64];
        snprintf(pointer, sizeof pointer, "/results/%ld/orpha_matched", i);
        CHECK(json_node_is_null(root, pointer), "%s is not null", pointer);
    }
    json_node_free(root);
}

TEST(nearest_filters_and_messages)
{
    /* NECKER-MAREP is for children: public=adultes drops it, enfants keeps it. */
    int status;
    JsonNode *root =
        get("/api/nearest", "lat=48.8566&lon=2.3522&orpha=96346&public=adultes", &status);
    CHECK(status == 200 && json_node_count(root, "/results") == 0, "public=adultes: %ld results",
          json_node_count(root, "/results"));
    json_node_free(root);
    check_first_nearest("lat=48.8566&lon=2.3522&orpha=96346&public=enfants", "NECKER-MAREP", 96346,
                        "Malformation anorectale");
    /* Cochin's adult CRCM (2014 designation) is nearer the Hôtel de Ville than
     * Bretonneau's centre; a crmr-only query still finds a seed. */
    check_first_nearest("lat=48.8566&lon=2.3522&role=ccmr,crmr", "CRCM-PARIS-COCHIN-ADU", 0, NULL);
    root = get("/api/nearest", "lat=48.8566&lon=2.3522&role=ccmr,crmr&public=tous", &status);
    const char *first = json_node_string(root, "/query/role/0");
    const char *second = json_node_string(root, "/query/role/1");
    const char *audience = json_node_string(root, "/query/public");
    CHECK(json_node_count(root, "/query/role") == 2 && first && strcmp(first, "crmr") == 0 &&
              second && strcmp(second, "ccmr") == 0 && audience && strcmp(audience, "tous") == 0,
          "query echo: role %s,%s public %s", first ? first : "-", second ? second : "-",
          audience ? audience : "-");
    json_node_free(root);

    /* A known code that no site covers: 200, empty, a French message naming it. */
    const Condition *uncovered = NULL;
    for (size_t c = 0; c < snapshot->condition_count && !uncovered; c++)
        if (snapshot->conditions[c].covering_sites == 0)
            uncovered = &snapshot->conditions[c];
    CHECK(uncovered != NULL, "every condition is covered");
    if (uncovered) {
        char query[128];
        snprintf(query, sizeof query, "lat=48.8&lon=2.3&orpha=%d", (int)uncovered->orpha);
        root = get("/api/nearest", query, &status);
        const char *message = json_node_string(root, "/message");
        CHECK(status == 200 && json_node_count(root, "/results") == 0 && message &&
                  strncmp(message, "Aucun site", 10) == 0 &&
                  strstr(message, uncovered->label_fr) != NULL,
              "message: %s", message ? message : "(none)");
        json_node_free(root);
    }
}

/* The 2014 CRCM designation (geodata/network-crcm-2014.csv): mucoviscidose
 * (ORPHA:586) finds a national network, every result cites its source. */
static JsonNode *muco_from(double lat, double lon, const char *extra, int *status)
{
    char query[160];
    snprintf(query, sizeof query, "lat=%.4f&lon=%.4f&orpha=586%s", lat, lon, extra);
    return get("/api/nearest", query, status);
}

/* Every result of `root` carries a non-empty source; returns how many. */
static long results_with_source(const JsonNode *root)
{
    long count = json_node_count(root, "/results"), cited = 0;
    for (long i = 0; i < count; i++) {
        char pointer[64];
        snprintf(pointer, sizeof pointer, "/results/%ld/source", i);
        const char *source = json_node_string(root, pointer);
        cited += source && *source;
    }
    return cited;
}

TEST(cystic_fibrosis_network)
{
    int status;
    JsonNode *root = muco_from(45.7640, 4.8357, "", &status); /* Lyon */
    const char *first = json_node_string(root, "/results/0/site_id");
    double distance = json_node_number(root, "/results/0/distance_m");
    CHECK(status == 200 && first && strncmp(first, "CRCM-LYON-", 10) == 0 && distance < 10e3,
          "Lyon: first %s at %.0f m", first ? first : "-", distance);
    long count = json_node_count(root, "/results");
    CHECK(count == 5 && results_with_source(root) == count, "Lyon: %ld results, %ld cited", count,
          results_with_source(root));
    const char *source = json_node_string(root, "/results/0/source");
    CHECK(source && strstr(source, "16 janvier 2014"), "Lyon: source %s", source ? source : "-");
    CHECK(json_node_string(root, "/message") == NULL, "Lyon: no message expected");
    json_node_free(root);
    static const struct {
        const char *town;
        double lat, lon;
    } brittany[] = {
        {"Brest", 48.3904, -4.4861}, {"Roscoff", 48.7262, -3.9853}, {"Vannes", 47.6582, -2.7608}};
    for (size_t t = 0; t < sizeof brittany / sizeof brittany[0]; t++) {
        root = muco_from(brittany[t].lat, brittany[t].lon, "", &status);
        distance = json_node_number(root, "/results/0/distance_m");
        CHECK(status == 200 && distance < 120e3, "%s: nearest CRCM at %.0f m", brittany[t].town,
              distance);
        json_node_free(root);
    }
    /* Saint-Denis de La Réunion: no CRCM placed there yet; the answer says
     * how far the nearest is instead of a silent 8,700 km. */
    root = muco_from(-20.8823, 55.4504, "", &status);
    const char *message = json_node_string(root, "/message");
    distance = json_node_number(root, "/results/0/distance_m");
    CHECK(status == 200 && distance > 8000e3 && message && strstr(message, " km") &&
              strstr(message, "Mucoviscidose"),
          "Réunion: %.0f m, message %s", distance, message ? message : "-");
    json_node_free(root);
    /* Children: only paediatric or mixed centres. */
    root = muco_from(48.8566, 2.3522, "&public=enfants&k=20", &status);
    count = json_node_count(root, "/results");
    long for_children = 0;
    for (long i = 0; i < count; i++) {
        char pointer[64];
        snprintf(pointer, sizeof pointer, "/results/%ld/public", i);
        const char *audience = json_node_string(root, pointer);
        for_children +=
            audience && (strcmp(audience, "enfants") == 0 || strcmp(audience, "tous") == 0);
    }
    CHECK(status == 200 && count == 20 && for_children == count,
          "public=enfants: %ld of %ld for children", for_children, count);
    json_node_free(root);
}

TEST(nearest_bad_input)
{
    CHECK_STATUS("/api/nearest", "", 400);
    CHECK_STATUS("/api/nearest", "lat=48", 400);
    CHECK_STATUS("/api/nearest", "lon=2", 400);
    CHECK_STATUS("/api/nearest", "lat=nan&lon=2", 400);
    CHECK_STATUS("/api/nearest", "lat=inf&lon=2", 400);
    CHECK_STATUS("/api/nearest", "lat=0x10&lon=2", 400);
    CHECK_STATUS("/api/nearest", "lat=1e999&lon=2", 400);
    CHECK_STATUS("/api/nearest", "lat=90.0001&lon=2", 400);
    CHECK_STATUS("/api/nearest", "lat=48&lon=-180.5", 400);
    CHECK_STATUS("/api/nearest", "lat=48&lon=", 400);
    CHECK_STATUS("/api/nearest", "lat=48&lat=49&lon=2", 400);
    CHECK_STATUS("/api/nearest", "lat=48&lon=2&k=0", 400);
    CHECK_STATUS("/api/nearest", "lat=48&lon=2&k=101", 400);
    CHECK_STATUS("/api/nearest", "lat=48&lon=2&k=1.5", 400);
    CHECK_STATUS("/api/nearest", "lat=48&lon=2&k=100", 200);
    CHECK_STATUS("/api/nearest", "lat=90&lon=180&k=1", 200);
    CHECK_STATUS("/api/nearest", "lat=-90&lon=-180", 200);
    CHECK_STATUS("/api/nearest", "lat=48&lon=2&orpha=99999999", 400);
    CHECK_STATUS("/api/nearest", "lat=48&lon=2&orpha=0", 400);
    CHECK_STATUS("/api/nearest", "lat=48&lon=2&orpha=abc", 400);
    CHECK_STATUS("/api/nearest", "lat=48&lon=2&orpha=", 400);
    CHECK_STATUS("/api/nearest", "lat=48&lon=2&role=doctor", 400);
    CHECK_STATUS("/api/nearest", "lat=48&lon=2&role=crmr,", 400);
    CHECK_STATUS("/api/nearest", "lat=48&lon=2&role=", 400);
    CHECK_STATUS("/api/nearest", "lat=48&lon=2&public=seniors", 400);
    CHECK_STATUS("/api/nearest", "lat=48&lon=2&unknown=1", 200);
}

TEST(nearest_equals_brute_force_on_real_data)
{
    static const double points[][2] = {{48.5597, 3.2994}, {48.8566, 2.3522}, {14.6, -61.0},
                                       {43.3, 5.4},       {-21.1, 55.5},     {51.0, 2.4}};
    NearestResult got[100];
    int mismatches = 0, checked = 0;
    for (size_t c = 0; c < snapshot->condition_count; c++) {
        const Condition *condition = &snapshot->conditions[c];
        if (condition->covering_sites == 0)
            continue;
        for (size_t p = 0; p < sizeof points / sizeof points[0]; p++) {
            SiteFilter filter;
            site_filter_init(&filter);
            int count = spatial_index_nearest(dataset->index, snapshot, points[p][0], points[p][1],
                                              condition, &filter, 100, got);
            /* Brute force: every covering site, by (distance, index). */
            int expected = 0, same = count == (int)condition->covering_sites;
            double previous = -1;
            for (size_t s = 0; s < snapshot->site_count && same; s++)
                expected +=
                    snapshot_site_covers(snapshot, &snapshot->sites[s], condition, NULL) >= 0;
            for (int i = 0; same && i < count; i++) {
                const Site *site = &snapshot->sites[got[i].site];
                double distance =
                    geodesy_distance_m(points[p][0], points[p][1], site->lat, site->lon);
                same = distance == got[i].distance_m && distance >= previous &&
                       snapshot_site_covers(snapshot, site, condition, NULL) >= 0;
                if (i > 0 && distance == previous)
                    same = same && got[i].site > got[i - 1].site;
                previous = distance;
            }
            same = same && expected == count;
            mismatches += !same;
            checked++;
        }
    }
    CHECK(mismatches == 0 && checked > 0, "%d of %d queries differ from brute force", mismatches,
          checked);
}

TEST(conditions_search)
{
    int status;
    JsonNode *root = get("/api/conditions", "q=drépano", &status);
    CHECK(status == 200 && find_number(root, "/results", "/orpha", 275752) >= 0 &&
              find_number(root, "/results", "/orpha", 232) >= 0,
          "q=drépano: 275752 and 232 expected");
    json_node_free(root);
    /* Exact first: "Drépanocytose" is the label of 232. */
    root = get("/api/conditions", "q=DREPANOCYTOSE", &status);
    const char *label = json_node_string(root, "/results/0/label");
    CHECK(json_node_number(root, "/results/0/orpha") == 232 && label &&
              strcmp(label, "Drépanocytose") == 0,
          "first: %g %s", json_node_number(root, "/results/0/orpha"), label ? label : "-");
    json_node_free(root);
    static const char *const codes[] = {"q=ORPHA:232", "q=orpha:232", "q=232", "q=Orpha 232"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        root = get("/api/conditions", codes[i], &status);
        CHECK(json_node_count(root, "/results") == 1 &&
                  json_node_number(root, "/results/0/orpha") == 232,
              "%s: %ld results, first %g", codes[i], json_node_count(root, "/results"),
              json_node_number(root, "/results/0/orpha"));
        json_node_free(root);
    }
    root = get("/api/conditions", "q=232&lang=en", &status);
    label = json_node_string(root, "/results/0/label");
    CHECK(label && strcmp(label, "Sickle cell anemia") == 0, "lang=en: %s", label ? label : "-");
    json_node_free(root);
    Response response;
    call("/api/conditions", "q=99999999", &response);
    CHECK_STRING(body(&response), "{\"results\":[]}");
    response_free(&response);
    /* English words with lang=fr fall back to the English texts. */
    root = get("/api/conditions", "q=sickle cell&limit=3", &status);
    long found = find_number(root, "/results", "/orpha", 232);
    long results = json_node_count(root, "/results");
    CHECK(found >= 0 && results <= 3, "q=sickle cell: 232 at %ld of %ld", found, results);
    for (long i = 0; i < results; i++) {
        char pointer[64];
        snprintf(pointer, sizeof pointer, "/results/%ld/sites", i);
        CHECK(json_node_number(root, pointer) >= 0, "%s is not a count", pointer);
    }
    json_node_free(root);
    /* Covering counts include sites listing a group. */
    const Condition *sickle = snapshot_condition(snapshot, 232);
    const Condition *group = snapshot_condition(snapshot, 275752);
    CHECK(sickle && group && sickle->covering_sites >= group->covering_sites &&
              group->covering_sites > 0,
          "232 covered by %u, 275752 by %u", sickle ? sickle->covering_sites : 0,
          group ? group->covering_sites : 0);
    CHECK_STATUS("/api/conditions", "", 400);
    CHECK_STATUS("/api/conditions", "q=", 400);
    CHECK_STATUS("/api/conditions", "q=  ", 400);
    CHECK_STATUS("/api/conditions", "q=-", 400);
    CHECK_STATUS("/api/conditions", "q=!!!", 400);
    CHECK_STATUS("/api/conditions", "q=a&lang=de", 400);
    CHECK_STATUS("/api/conditions", "q=a&limit=0", 400);
    CHECK_STATUS("/api/conditions", "q=a&limit=101", 400);
    CHECK_STATUS("/api/conditions", "q=a&limit=100", 200);
    CHECK_STATUS("/api/conditions", "q=a&q=b", 400);
}

TEST(places_search)
{
    static const char *const queries[] = {"q=Créteil", "q=creteil", "q=CRÉTEIL", "q=94000",
                                          "q=94028"};
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        int status;
        JsonNode *root = get("/api/places", queries[i], &status);
        const char *code = json_node_string(root, "/results/0/code");
        const char *name = json_node_string(root, "/results/0/name");
        const char *postcode = json_node_string(root, "/results/0/postcodes/0");
        const char *departement = json_node_string(root, "/results/0/departement");
        CHECK(status == 200 && code && strcmp(code, "94028") == 0 && name &&
                  strcmp(name, "Créteil") == 0 &&
                  json_node_count(root, "/results/0/postcodes") == 1 && postcode &&
                  strcmp(postcode, "94000") == 0 && departement && strcmp(departement, "94") == 0,
              "%s: first %s %s", queries[i], code ? code : "-", name ? name : "-");
        json_node_free(root);
    }
    int status;
    JsonNode *root = get("/api/places", "q=9&limit=50", &status);
    long results = json_node_count(root, "/results");
    CHECK(results == 50, "postcode prefix 9: %ld results", results);
    json_node_free(root);
    CHECK_STATUS("/api/places", "", 400);
    CHECK_STATUS("/api/places", "q=-", 400);
    CHECK_STATUS("/api/places", "q=Paris&limit=51", 400);
    CHECK_STATUS("/api/places", "q=zzzzzz", 200);
}

TEST(structures)
{
    Response response;
    call("/api/structures", "bbox=2.2,48.8,2.4,48.9", &response);
    JsonNode *root = parse(&response);
    const char *type = json_node_string(root, "/type");
    long bichat = find_item(root, "/features", "/properties/site_id", "BICHAT-CAI");
    long necker = find_item(root, "/features", "/properties/site_id", "NECKER-MAREP");
    CHECK(response.status == 200 && strcmp(response.content_type, "application/geo+json") == 0 &&
              type && strcmp(type, "FeatureCollection") == 0 && bichat >= 0 && necker > bichat &&
              json_node_is_bool(root, "/truncated", 0),
          "BICHAT-CAI at %ld, NECKER-MAREP at %ld", bichat, necker);
    json_node_free(root);
    response_free(&response);
    int status;
    root = get("/api/structures", "bbox=-180,-90,180,90&limit=2", &status);
    CHECK(json_node_is_bool(root, "/truncated", 1) && json_node_count(root, "/features") == 2 &&
              find_item(root, "/features", "/properties/site_id", "BICETRE-CAP") >= 0,
          "limit=2: %ld features", json_node_count(root, "/features"));
    json_node_free(root);
    /* Across the antimeridian: Martinique (-61) is not in 170..-170. */
    root = get("/api/structures", "bbox=170,-90,-170,90", &status);
    CHECK(json_node_count(root, "/features") == 0, "170..-170: %ld features",
          json_node_count(root, "/features"));
    json_node_free(root);
    /* ...but is in 100..-60, which wraps through 180. */
    root = get("/api/structures", "bbox=100,-90,-60,90", &status);
    CHECK(find_item(root, "/features", "/properties/site_id", "FORT-DE-FRANCE-ESMARA") >= 0,
          "100..-60: no FORT-DE-FRANCE-ESMARA");
    json_node_free(root);
    /* With orpha: only covering sites, each with orpha_matched. */
    root = get("/api/structures", "bbox=-5,41,10,52&orpha=870", &status);
    necker = find_item(root, "/features", "/properties/site_id", "NECKER-MAREP");
    char pointer[96];
    snprintf(pointer, sizeof pointer, "/features/%ld/properties/orpha_matched/orpha", necker);
    CHECK(necker >= 0 && find_item(root, "/features", "/properties/site_id", "BICHAT-CAI") < 0 &&
              json_node_number(root, pointer) == 96346,
          "orpha=870: NECKER-MAREP at %ld, matched %g", necker, json_node_number(root, pointer));
    for (long i = 0; i < json_node_count(root, "/features"); i++) {
        snprintf(pointer, sizeof pointer, "/features/%ld/properties/orpha_matched/orpha", i);
        CHECK(json_node_number(root, pointer) > 0, "feature %ld without orpha_matched", i);
    }
    json_node_free(root);
    call("/api/structures/NECKER-MAREP", "", &response);
    root = parse(&response);
    type = json_node_string(root, "/type");
    const char *id = json_node_string(root, "/id");
    CHECK(response.status == 200 && type && strcmp(type, "Feature") == 0 && id &&
              strcmp(id, "NECKER-MAREP") == 0 &&
              json_node_count(root, "/properties/orpha_codes") == 1 &&
              json_node_number(root, "/properties/orpha_codes/0") == 96346,
          "%.300s", body(&response));
    json_node_free(root);
    response_free(&response);
    CHECK_STATUS("/api/structures/NOPE", "", 404);
    CHECK_STATUS("/api/structures/", "", 404);
    CHECK_STATUS("/api/structures", "", 400);
    CHECK_STATUS("/api/structures", "bbox=1,2,3", 400);
    CHECK_STATUS("/api/structures", "bbox=1,2,3,4,5", 400);
    CHECK_STATUS("/api/structures", "bbox=1,2,3,", 400);
    CHECK_STATUS("/api/structures", "bbox=a,2,3,4", 400);
    CHECK_STATUS("/api/structures", "bbox=1,50,3,40", 400);
    CHECK_STATUS("/api/structures", "bbox=-181,2,3,4", 400);
    CHECK_STATUS("/api/structures", "bbox=1,-91,3,4", 400);
    CHECK_STATUS("/api/structures", "bbox=1,2,3,nan", 400);
    CHECK_STATUS("/api/structures", "bbox=2,48,2,48", 200);
    CHECK_STATUS("/api/structures", "bbox=1,2,3,4&limit=10001", 400);
    CHECK_STATUS("/api/structures", "bbox=1,2,3,4&limit=10000", 200);
    CHECK_STATUS("/api/structures", "bbox=1,2,3,4&orpha=1", 400);
    CHECK_STATUS("/api/structures", "bbox=1,2,3,4&role=x", 400);
}

int main(void)
{
    const char *path = getenv("MAILLAGE_DATABASE");
    if (!path || !*path)
        path = "build/maillage.sqlite";
    char error[1024];
    dataset = dataset_load(path, NULL, error, sizeof error);
    if (!dataset) {
        fprintf(stderr, "test_api: cannot load the shipped database: %s\n", error);
        printf("test_api: 0 passed, 1 failed\n");
        return 1;
    }
    snapshot = dataset->snapshot;
    RUN(health);
    RUN(seed_nearest);
    RUN(nearest_filters_and_messages);
    RUN(cystic_fibrosis_network);
    RUN(nearest_bad_input);
    RUN(nearest_equals_brute_force_on_real_data);
    RUN(conditions_search);
    RUN(places_search);
    RUN(structures);
    dataset_free(dataset);
    return CHECK_SUMMARY("test_api");
}
