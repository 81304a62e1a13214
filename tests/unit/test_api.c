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

#include <math.h>
#include <stdlib.h>
#include <strings.h>

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

/* --- Language (lang, Accept-Language) ------------------------------------ */

/* GET path?query with the Accept-Language header `accept` (NULL: none):
 * the parsed body (NULL when not JSON), its status, and its entity tag as
 * http.c computes it. */
static JsonNode *get_as(const char *path, const char *query, const char *accept, int *status,
                        char etag[40])
{
    static char copy[1024];
    Request request;
    memset(&request, 0, sizeof request);
    request.method = "GET";
    request.path = path;
    request.dataset = dataset;
    request.accept_language = accept;
    request.parameter_count = split_query(query, copy, sizeof copy, request.parameters);
    Response response;
    route_call_as(dataset, path, request.parameters, request.parameter_count, accept, &response);
    *status = response.status;
    request_etag(&request, &response, etag);
    JsonNode *root = parse(&response);
    response_free(&response);
    return root;
}

static int starts_with(const char *text, const char *prefix)
{
    return text && strncmp(text, prefix, strlen(prefix)) == 0;
}

static void check_string(const JsonNode *root, const char *pointer, const char *expected)
{
    const char *found = json_node_string(root, pointer);
    CHECK(found && expected && strcmp(found, expected) == 0, "%s: '%s', expected '%s'", pointer,
          found ? found : "(none)", expected ? expected : "(none)");
}

TEST(accept_language_choice)
{
    static const struct {
        const char *header;
        Language expected;
    } cases[] = {
        {NULL, LANGUAGE_FRENCH},
        {"", LANGUAGE_FRENCH},
        {"en-GB,en;q=0.9", LANGUAGE_ENGLISH},
        {"EN-us", LANGUAGE_ENGLISH},
        {"fr-FR,fr;q=0.9,en;q=0.8", LANGUAGE_FRENCH},
        {"de-DE,de;q=0.9,en;q=0.8,fr;q=0.5", LANGUAGE_ENGLISH},
        {"fr-CA;q=0.9, en;q=0.95", LANGUAGE_ENGLISH},
        {"en;q=0.5,fr;q=0.5", LANGUAGE_ENGLISH}, /* a tie: the first listed */
        {"fr;q=0.5,en;q=0.5", LANGUAGE_FRENCH},
        {"de", LANGUAGE_FRENCH},
        {"*", LANGUAGE_FRENCH},
        {"en;q=0", LANGUAGE_FRENCH},
        {"*;q=0.5,fr;q=0", LANGUAGE_ENGLISH},   /* fr refused, en through "*" */
        {"en;q=abc,fr;q=0.1", LANGUAGE_FRENCH}, /* an unreadable q drops its range */
        {"english,en-gb ; q=0.7 , fr ;q=0.6", LANGUAGE_ENGLISH},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK(accept_language_choose(cases[i].header) == cases[i].expected, "'%s': %s",
              cases[i].header ? cases[i].header : "(none)",
              cases[i].expected == LANGUAGE_ENGLISH ? "en expected" : "fr expected");
}

/* The site ids and distances of a nearest answer, as one text. */
static void nearest_results_text(const JsonNode *root, char *text, size_t size)
{
    size_t used = 0;
    text[0] = 0;
    for (long i = 0; i < json_node_count(root, "/results") && used < size; i++) {
        char pointer[64], distance[64];
        snprintf(pointer, sizeof pointer, "/results/%ld/site_id", i);
        const char *site_id = json_node_string(root, pointer);
        snprintf(distance, sizeof distance, "/results/%ld/distance_m", i);
        used += (size_t)snprintf(text + used, size - used, "%s@%.1f;", site_id ? site_id : "-",
                                 json_node_number(root, distance));
    }
}

TEST(nearest_in_both_languages)
{
    /* Cystic fibrosis (ORPHA:586) from Paris: five CRCM. */
    const char *query = "lat=48.8566&lon=2.3522&orpha=586&k=5";
    char fr_query[128], en_query[128];
    snprintf(fr_query, sizeof fr_query, "%s&lang=fr", query);
    snprintf(en_query, sizeof en_query, "%s&lang=en", query);
    int fr_status, en_status, header_status, default_status;
    char fr_tag[40], en_tag[40], header_tag[40], default_tag[40];
    JsonNode *fr = get_as("/api/nearest", fr_query, NULL, &fr_status, fr_tag);
    JsonNode *en = get_as("/api/nearest", en_query, NULL, &en_status, en_tag);
    JsonNode *by_header =
        get_as("/api/nearest", query, "en-GB,en;q=0.9", &header_status, header_tag);
    JsonNode *by_default = get_as("/api/nearest", query, NULL, &default_status, default_tag);
    CHECK(fr_status == 200 && en_status == 200 && header_status == 200 && default_status == 200,
          "statuses %d %d %d %d", fr_status, en_status, header_status, default_status);
    char fr_results[2048], en_results[2048], header_results[2048];
    nearest_results_text(fr, fr_results, sizeof fr_results);
    nearest_results_text(en, en_results, sizeof en_results);
    nearest_results_text(by_header, header_results, sizeof header_results);
    CHECK(json_node_count(fr, "/results") == 5, "%ld results", json_node_count(fr, "/results"));
    CHECK(strcmp(en_results, fr_results) == 0, "en %s, fr %s", en_results, fr_results);
    CHECK(strcmp(header_results, fr_results) == 0, "header %s", header_results);
    const Condition *muco = snapshot_condition(snapshot, 586);
    CHECK(muco && strcmp(muco->label_fr, muco->label_en) != 0, "ORPHA:586 labels");
    if (muco) {
        check_string(fr, "/results/4/orpha_matched/label", muco->label_fr);
        check_string(en, "/results/4/orpha_matched/label", muco->label_en);
        check_string(by_header, "/results/4/orpha_matched/label", muco->label_en);
        check_string(by_default, "/results/4/orpha_matched/label", muco->label_fr);
        check_string(fr, "/query/label", muco->label_fr);
        check_string(en, "/query/label", muco->label_en);
    }
    check_string(fr, "/query/lang", "fr");
    check_string(en, "/query/lang", "en");
    check_string(by_header, "/query/lang", "en");
    /* Different languages, different tags; the header's choice counts. */
    CHECK(strcmp(fr_tag, en_tag) != 0, "lang=fr and lang=en share the tag %s", fr_tag);
    CHECK(strcmp(header_tag, default_tag) != 0, "Accept-Language en and none share %s", header_tag);
    /* The same question asked the same way keeps its tag. */
    int again_status;
    char again_tag[40];
    json_node_free(get_as("/api/nearest", en_query, NULL, &again_status, again_tag));
    CHECK(strcmp(again_tag, en_tag) == 0, "tag %s then %s", en_tag, again_tag);
    json_node_free(fr);
    json_node_free(en);
    json_node_free(by_header);
    json_node_free(by_default);
    /* Matched through a group: trisomy 21 (ORPHA:870) through MAREP. */
    const Condition *marep = snapshot_condition(snapshot, 96346);
    JsonNode *via = get_as("/api/nearest", "lat=48.8566&lon=2.3522&orpha=870&k=1",
                           "en;q=0.8,fr;q=0.2", &fr_status, fr_tag);
    if (marep)
        check_string(via, "/results/0/orpha_matched/label", marep->label_en);
    json_node_free(via);

    /* From La Réunion the nearest CRCM is far: the message in English,
     * thousands with a comma. */
    int status;
    char tag[40];
    JsonNode *far =
        get_as("/api/nearest", "lat=-20.88&lon=55.45&orpha=586&k=1", "en", &status, tag);
    const char *message = json_node_string(far, "/message");
    CHECK(message && starts_with(message, "The nearest site that covers \"Cystic fibrosis\" is 8,"),
          "far message: %s", message ? message : "(none)");
    json_node_free(far);
}

TEST(every_route_takes_lang)
{
    static const struct {
        const char *path, *query;
    } routes[] = {
        {"/api/nearest", "lat=48.8&lon=2.3"}, {"/api/structures", "bbox=2.2,48.8,2.5,48.9"},
        {"/api/structures/NECKER-MAREP", ""}, {"/api/conditions", "q=mucoviscidose"},
        {"/api/places", "q=Provins"},         {"/api/coverage", "orpha=586&radius_km=100"},
        {"/api/service-areas", "orpha=586"},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        char query[160];
        for (int l = 0; l < 3; l++) {
            static const char *const values[] = {"fr", "en", "de"};
            snprintf(query, sizeof query, "%s%slang=%s", routes[i].query,
                     routes[i].query[0] ? "&" : "", values[l]);
            CHECK_STATUS(routes[i].path, query, l < 2 ? 200 : 400);
        }
        snprintf(query, sizeof query, "%s%slang=fr&lang=en", routes[i].query,
                 routes[i].query[0] ? "&" : "");
        CHECK_STATUS(routes[i].path, query, 400);
    }
    /* Conditions: the same codes, labels in each language. */
    int fr_status, en_status;
    char fr_tag[40], en_tag[40];
    JsonNode *fr = get_as("/api/conditions", "q=586", NULL, &fr_status, fr_tag);
    JsonNode *en = get_as("/api/conditions", "q=586", "en", &en_status, en_tag);
    CHECK(json_node_number(fr, "/results/0/orpha") == 586 &&
              json_node_number(en, "/results/0/orpha") == 586,
          "ORPHA:586 found in both");
    check_string(fr, "/results/0/label", "Mucoviscidose");
    check_string(en, "/results/0/label", "Cystic fibrosis");
    CHECK(strcmp(fr_tag, en_tag) != 0, "same tag %s", fr_tag);
    json_node_free(fr);
    json_node_free(en);
    /* Coverage: the same figures; names and label in each language. */
    fr = get_as("/api/coverage", "orpha=586&radius_km=100&lang=fr", NULL, &fr_status, fr_tag);
    en = get_as("/api/coverage", "orpha=586&radius_km=100&lang=en", NULL, &en_status, en_tag);
    check_string(fr, "/territories/0/name", "France métropolitaine");
    check_string(en, "/territories/0/name", "Metropolitan France");
    check_string(en, "/query/label", "Cystic fibrosis");
    CHECK(json_node_number(fr, "/total/covered_population") ==
                  json_node_number(en, "/total/covered_population") &&
              json_node_number(fr, "/selected_sites") == json_node_number(en, "/selected_sites"),
          "coverage figures differ between languages");
    json_node_free(fr);
    json_node_free(en);
}

/* --- A condition no selected site covers ---------------------------------- */

/* Brute force over the snapshot: the descendants of `group` (itself
 * excluded) that a site passing `filter` lists, each with the number of
 * sites passing `filter` that cover it; returns how many (at most room). */
static size_t brute_force_covered(const Condition *group, const SiteFilter *filter,
                                  const Condition **codes, uint32_t *sites, size_t room)
{
    size_t count = 0;
    for (size_t s = 0; s < snapshot->site_count; s++) {
        const Site *site = &snapshot->sites[s];
        if (!site_filter_accepts(snapshot, filter, site))
            continue;
        for (uint32_t k = 0; k < site->code_count; k++) {
            const Condition *listed = snapshot_condition(snapshot, site_codes(snapshot, site)[k]);
            if (!listed || listed == group)
                continue;
            int below = 0;
            for (uint32_t a = 0; a < listed->ancestor_count; a++)
                below |= snapshot->ancestors[listed->ancestors_start + a].condition ==
                         snapshot_condition_index(snapshot, group);
            size_t known = 0;
            while (known < count && codes[known] != listed)
                known++;
            if (below && known == count && count < room)
                codes[count++] = listed;
        }
    }
    for (size_t i = 0; i < count; i++) {
        sites[i] = 0;
        for (size_t s = 0; s < snapshot->site_count; s++)
            sites[i] += site_filter_accepts(snapshot, filter, &snapshot->sites[s]) &&
                        snapshot_site_covers(snapshot, &snapshot->sites[s], codes[i], NULL) >= 0;
    }
    return count;
}

TEST(uncovered_group_lists_covered_conditions)
{
    /* "Maladie neurologique rare": no site lists it or a group above it,
     * but sites list disorders under it. */
    const Condition *group = snapshot_condition(snapshot, 98006);
    CHECK(group && group->covering_sites == 0 &&
              strcmp(group->label_fr, "Maladie neurologique rare") == 0,
          "ORPHA:98006 is the uncovered neurology group");
    if (!group)
        return;
    SiteFilter all;
    site_filter_init(&all);
    const Condition *codes[64];
    uint32_t sites[64];
    size_t expected = brute_force_covered(group, &all, codes, sites, 64);
    CHECK(expected >= 2, "only %zu covered conditions under the group", expected);
    int status;
    char tag[40];
    JsonNode *root =
        get_as("/api/nearest", "lat=48.5597&lon=3.2994&orpha=98006", NULL, &status, tag);
    CHECK(status == 200 && json_node_count(root, "/results") == 0, "empty results");
    CHECK(json_node_number(root, "/uncovered/orpha") == 98006, "uncovered.orpha");
    check_string(root, "/uncovered/label", group->label_fr);
    CHECK(json_node_number(root, "/uncovered/covered_conditions_total") == (double)expected,
          "total %g, expected %zu", json_node_number(root, "/uncovered/covered_conditions_total"),
          expected);
    long listed = json_node_count(root, "/uncovered/covered_conditions");
    CHECK(listed == (long)(expected < 20 ? expected : 20), "%ld listed", listed);
    double previous = INFINITY;
    for (long i = 0; i < listed; i++) {
        char pointer[96];
        snprintf(pointer, sizeof pointer, "/uncovered/covered_conditions/%ld/orpha", i);
        double orpha = json_node_number(root, pointer);
        snprintf(pointer, sizeof pointer, "/uncovered/covered_conditions/%ld/sites", i);
        double count = json_node_number(root, pointer);
        size_t k = 0;
        while (k < expected && codes[k]->orpha != orpha)
            k++;
        CHECK(k < expected && sites[k] == count, "ORPHA:%g with %g sites: brute force says %u",
              orpha, count, k < expected ? sites[k] : 0);
        CHECK(count <= previous, "not sorted by sites");
        previous = count;
    }
    /* The filières: those of the sites listing a descendant (no site lists
     * the group or an ancestor), each once. */
    long filieres = json_node_count(root, "/uncovered/filieres");
    CHECK(filieres >= 1, "no filière");
    for (long i = 0; i < filieres; i++) {
        char pointer[96];
        snprintf(pointer, sizeof pointer, "/uncovered/filieres/%ld/filiere", i);
        const char *name = json_node_string(root, pointer);
        snprintf(pointer, sizeof pointer, "/uncovered/filieres/%ld/orpha", i);
        const Condition *via =
            snapshot_condition(snapshot, (int32_t)json_node_number(root, pointer));
        int found = 0;
        for (size_t s = 0; s < snapshot->site_count && name && via; s++) {
            const Site *site = &snapshot->sites[s];
            const char *filiere = snapshot_text(snapshot, site->filiere);
            found |= filiere && strcasecmp(filiere, name) == 0 &&
                     site_lists_code(snapshot, site, via->orpha);
        }
        CHECK(found, "filière %s through ORPHA:%d: no site says so", name ? name : "-",
              via ? (int)via->orpha : 0);
    }
    const char *message = json_node_string(root, "/message");
    char words[64];
    snprintf(words, sizeof words, "Des sites couvrent %zu maladies plus précises", expected);
    CHECK(starts_with(message, "Aucun site du réseau ne couvre « Maladie neurologique rare »") &&
              strstr(message, words),
          "message: %s", message ? message : "(none)");
    json_node_free(root);

    /* In English: Orphanet's English labels and an English sentence. */
    root = get_as("/api/nearest", "lat=48.5597&lon=3.2994&orpha=98006&lang=en", NULL, &status, tag);
    check_string(root, "/uncovered/label", group->label_en);
    message = json_node_string(root, "/message");
    CHECK(starts_with(message, "No site of the network covers \"Rare neurologic disease\"") &&
              strstr(message, "more specific conditions"),
          "message: %s", message ? message : "(none)");
    json_node_free(root);

    /* A covered code has no `uncovered`; a condition with nothing under it
     * has an empty one. */
    root = get_as("/api/nearest", "lat=48.5597&lon=3.2994&orpha=399", NULL, &status, tag);
    CHECK(json_node_count(root, "/results") > 0 && !json_node_at(root, "/uncovered"),
          "ORPHA:399 is covered");
    json_node_free(root);
    root = get_as("/api/nearest", "lat=48.5597&lon=3.2994&orpha=558", NULL, &status, tag);
    CHECK(json_node_count(root, "/uncovered/covered_conditions") == 0 &&
              json_node_number(root, "/uncovered/covered_conditions_total") == 0,
          "ORPHA:558 has nothing under it");
    json_node_free(root);

    /* Filters that leave every covering site out: MAREP is for children. */
    root = get_as("/api/nearest", "lat=48.8566&lon=2.3522&orpha=96346&public=adultes", NULL,
                  &status, tag);
    message = json_node_string(root, "/message");
    CHECK(json_node_count(root, "/results") == 0 && message && strstr(message, "avec ces filtres"),
          "message: %s", message ? message : "(none)");
    CHECK(json_node_string(root, "/uncovered/filieres/0/filiere") &&
              json_node_number(root, "/uncovered/filieres/0/orpha") == 96346,
          "the filière of the children's centre, through MAREP itself");
    json_node_free(root);
}

/* A bbox answer's features are encoded at their first request and copied
 * after (dataset->features): on a freshly loaded dataset, the second answer
 * of each request is byte for byte the first, with and without a
 * condition (orpha_matched is written per request) and in both languages. */
TEST(structures_answer_the_same_once_features_are_encoded)
{
    char error[1024];
    const char *path = getenv("MAILLAGE_DATABASE");
    Dataset *fresh =
        dataset_load(path && *path ? path : "build/maillage.sqlite", NULL, error, sizeof error);
    CHECK(fresh != NULL, "loading a second dataset: %s", error);
    if (!fresh)
        return;
    static const char *const queries[] = {
        "bbox=-5,41,10,52&limit=5000", "bbox=-5,41,10,52&orpha=586&limit=5000",
        "bbox=-5,41,10,52&orpha=586&lang=en", "bbox=2.2,48.8,2.4,48.9"};
    for (size_t q = 0; q < sizeof queries / sizeof queries[0]; q++) {
        static char copy[1024];
        QueryParameter parameters[REQUEST_MAX_PARAMETERS];
        Response first, second;
        size_t count = split_query(queries[q], copy, sizeof copy, parameters);
        route_call(fresh, "/api/structures", parameters, count, &first);
        size_t encoded = once_blobs_bytes(fresh->features);
        route_call(fresh, "/api/structures", parameters, count, &second);
        CHECK(first.status == 200 && second.status == 200 && first.body.length > 100 &&
                  first.body.length == second.body.length &&
                  memcmp(first.body.data, second.body.data, first.body.length) == 0,
              "%s: the answer changed once its features were encoded (%zu then %zu bytes)",
              queries[q], first.body.length, second.body.length);
        CHECK(encoded > 0 && once_blobs_bytes(fresh->features) == encoded,
              "%s: %zu bytes encoded by the first answer, %zu after the second", queries[q],
              encoded, once_blobs_bytes(fresh->features));
        response_free(&first);
        response_free(&second);
    }
    dataset_free(fresh);
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
    RUN(structures_answer_the_same_once_features_are_encoded);
    RUN(accept_language_choice);
    RUN(nearest_in_both_languages);
    RUN(every_route_takes_lang);
    RUN(uncovered_group_lists_covered_conditions);
    dataset_free(dataset);
    return CHECK_SUMMARY("test_api");
}
