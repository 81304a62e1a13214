/* test_api.c — the API handlers on the real shipped database
 * (build/maillage.sqlite, or $MAILLAGE_DATABASE): seed checks from the
 * network seeds (Provins, Necker), condition and place search, the 400/404
 * rules, GeoJSON boxes, and nearest against brute force for every covered
 * condition. */
#include "api.h"
#include "check.h"
#include "geodesy.h"
#include "json.h"
#include "snapshot.h"
#include "spatial_index.h"

#include <stdlib.h>

static Snapshot *snapshot;

/* Calls the API with `path` and a query string "a=1&b=2" (not decoded). */
static int call(const char *path, const char *query, Response *response)
{
    static char copy[1024];
    Request request;
    memset(&request, 0, sizeof request);
    request.method = "GET";
    request.path = path;
    request.snapshot = snapshot;
    snprintf(copy, sizeof copy, "%s", query ? query : "");
    for (char *item = copy; *item && request.parameter_count < REQUEST_MAX_PARAMETERS;) {
        char *next = strchr(item, '&');
        if (next)
            *next++ = 0;
        char *equals = strchr(item, '=');
        if (equals)
            *equals++ = 0;
        request.parameters[request.parameter_count++] =
            (QueryParameter){item, equals ? equals : ""};
        item = next ? next : item + strlen(item);
    }
    response_init(response);
    return api_handle(&request, response);
}

static const char *body(const Response *response)
{
    return response->body.data ? response->body.data : "";
}

/* The status of GET path?query. */
static int status_of(const char *path, const char *query)
{
    Response response;
    int handled = call(path, query, &response);
    int status = handled ? response.status : 0;
    if (status >= 400)
        CHECK(strstr(body(&response), "\"detail\"") &&
                  strcmp(response.content_type, "application/problem+json") == 0,
              "problem body: %s", body(&response));
    response_free(&response);
    return status;
}

#define CHECK_STATUS(path, query, expected)                                                        \
    do {                                                                                           \
        int status_ = status_of(path, query);                                                      \
        CHECK(status_ == (expected), "%s?%s: status %d, expected %d", path, query, status_,        \
              expected);                                                                           \
    } while (0)

/* The position of `needle` in the body, -1 when absent. */
static long position_of(const Response *response, const char *needle)
{
    const char *found = strstr(body(response), needle);
    return found ? (long)(found - body(response)) : -1;
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
    CHECK(status_of("/", "") == 0, "/ is not the API's");
}

/* The first result of /api/nearest has site_id `site_id` and matched
 * through `via` (0: orpha_matched null). */
static void check_first_nearest(const char *query, const char *site_id, int via,
                                const char *via_label)
{
    Response response;
    call("/api/nearest", query, &response);
    char expected[256];
    snprintf(expected, sizeof expected, "\"results\":[{\"site_id\":\"%s\"", site_id);
    CHECK(response.status == 200 && position_of(&response, expected) >= 0,
          "%s: expected %s first, got %.600s", query, site_id, body(&response));
    if (via) {
        snprintf(expected, sizeof expected, "\"orpha_matched\":{\"orpha\":%d,\"label\":\"%s\"}",
                 via, via_label);
        long matched = position_of(&response, expected);
        long second = position_of(&response, "},{\"site_id\"");
        CHECK(matched >= 0 && (second < 0 || matched < second), "%s: expected %s in %.600s", query,
              expected, body(&response));
    }
    response_free(&response);
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
    Response response;
    call("/api/nearest", "lat=48.8566&lon=2.3522", &response);
    CHECK(response.status == 200 && position_of(&response, "\"orpha_matched\":null") >= 0 &&
              position_of(&response, "\"k\":5") >= 0,
          "%.400s", body(&response));
    int results = 0;
    for (const char *at = body(&response); (at = strstr(at, "\"site_id\"")); at++)
        results++;
    CHECK(results == 5, "%d results, expected the default k = 5", results);
    response_free(&response);
}

TEST(nearest_filters_and_messages)
{
    /* NECKER-MAREP is for children: public=adultes drops it, enfants keeps it. */
    Response response;
    call("/api/nearest", "lat=48.8566&lon=2.3522&orpha=96346&public=adultes", &response);
    CHECK(response.status == 200 && position_of(&response, "\"results\":[]") >= 0, "%.400s",
          body(&response));
    response_free(&response);
    check_first_nearest("lat=48.8566&lon=2.3522&orpha=96346&public=enfants", "NECKER-MAREP", 96346,
                        "Malformation anorectale");
    check_first_nearest("lat=48.8566&lon=2.3522&role=ccmr,crmr", "BRETONNEAU-CAI", 0, NULL);
    call("/api/nearest", "lat=48.8566&lon=2.3522&role=ccmr,crmr&public=tous", &response);
    CHECK(position_of(&response, "\"role\":[\"crmr\",\"ccmr\"]") >= 0 &&
              position_of(&response, "\"public\":\"tous\"") >= 0,
          "query echo: %.300s", body(&response));
    response_free(&response);

    /* A known code that no site covers: 200, empty, a French message naming it. */
    const Condition *uncovered = NULL;
    for (size_t c = 0; c < snapshot->condition_count && !uncovered; c++)
        if (snapshot->conditions[c].covering_sites == 0)
            uncovered = &snapshot->conditions[c];
    CHECK(uncovered != NULL, "every condition is covered");
    if (uncovered) {
        char query[128], label[512];
        snprintf(query, sizeof query, "lat=48.8&lon=2.3&orpha=%d", (int)uncovered->orpha);
        call("/api/nearest", query, &response);
        Buffer escaped;
        buffer_init(&escaped);
        json_escape_string(&escaped, uncovered->label_fr, strlen(uncovered->label_fr));
        snprintf(label, sizeof label, "%.*s", (int)escaped.length - 2, escaped.data + 1);
        buffer_free(&escaped);
        CHECK(response.status == 200 && position_of(&response, "\"results\":[]") >= 0 &&
                  position_of(&response, "\"message\":\"Aucun site") >= 0 &&
                  position_of(&response, label) >= 0,
              "%.500s", body(&response));
        response_free(&response);
    }
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
            int count = spatial_index_nearest(snapshot, points[p][0], points[p][1], condition,
                                              &filter, 100, got);
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
    Response response;
    call("/api/conditions", "q=drépano", &response);
    CHECK(response.status == 200 && position_of(&response, "\"orpha\":275752") >= 0 &&
              position_of(&response, "\"orpha\":232,") >= 0,
          "%.500s", body(&response));
    response_free(&response);
    /* Exact first: "Drépanocytose" is the label of 232. */
    call("/api/conditions", "q=DREPANOCYTOSE", &response);
    CHECK(position_of(&response, "{\"results\":[{\"orpha\":232,\"label\":\"Drépanocytose\"") == 0,
          "%.300s", body(&response));
    response_free(&response);
    static const char *const codes[] = {"q=ORPHA:232", "q=orpha:232", "q=232", "q=Orpha 232"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        call("/api/conditions", codes[i], &response);
        CHECK(position_of(&response, "{\"results\":[{\"orpha\":232,") == 0 &&
                  position_of(&response, "},{") < 0,
              "%s: %.300s", codes[i], body(&response));
        response_free(&response);
    }
    call("/api/conditions", "q=232&lang=en", &response);
    CHECK(position_of(&response, "\"label\":\"Sickle cell anemia\"") >= 0, "%.300s",
          body(&response));
    response_free(&response);
    call("/api/conditions", "q=99999999", &response);
    CHECK_STRING(body(&response), "{\"results\":[]}");
    response_free(&response);
    /* English words with lang=fr fall back to the English texts. */
    call("/api/conditions", "q=sickle cell&limit=3", &response);
    CHECK(position_of(&response, "\"orpha\":232") >= 0 && position_of(&response, "\"sites\":") >= 0,
          "%.300s", body(&response));
    response_free(&response);
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
        Response response;
        call("/api/places", queries[i], &response);
        CHECK(response.status == 200 &&
                  position_of(&response, "{\"results\":[{\"code\":\"94028\",\"name\":\"Créteil\","
                                         "\"postcodes\":[\"94000\"],\"departement\":\"94\"") == 0,
              "%s: %.300s", queries[i], body(&response));
        response_free(&response);
    }
    Response response;
    call("/api/places", "q=9&limit=50", &response);
    int results = 0;
    for (const char *at = body(&response); (at = strstr(at, "\"code\"")); at++)
        results++;
    CHECK(results == 50, "postcode prefix 9: %d results", results);
    response_free(&response);
    CHECK_STATUS("/api/places", "", 400);
    CHECK_STATUS("/api/places", "q=-", 400);
    CHECK_STATUS("/api/places", "q=Paris&limit=51", 400);
    CHECK_STATUS("/api/places", "q=zzzzzz", 200);
}

TEST(structures)
{
    Response response;
    call("/api/structures", "bbox=2.2,48.8,2.4,48.9", &response);
    long bichat = position_of(&response, "\"site_id\":\"BICHAT-CAI\"");
    long necker = position_of(&response, "\"site_id\":\"NECKER-MAREP\"");
    CHECK(response.status == 200 && strcmp(response.content_type, "application/geo+json") == 0 &&
              position_of(&response, "{\"type\":\"FeatureCollection\",\"features\":[") == 0 &&
              bichat >= 0 && necker > bichat && position_of(&response, "\"truncated\":false") >= 0,
          "%.300s", body(&response));
    response_free(&response);
    call("/api/structures", "bbox=-180,-90,180,90&limit=2", &response);
    CHECK(position_of(&response, "\"truncated\":true") >= 0 &&
              position_of(&response, "\"site_id\":\"BICETRE-CAP\"") >= 0,
          "%.300s", body(&response));
    response_free(&response);
    /* Across the antimeridian: Martinique (-61) is not in 170..-170. */
    call("/api/structures", "bbox=170,-90,-170,90", &response);
    CHECK(position_of(&response, "\"features\":[]") >= 0, "%.300s", body(&response));
    response_free(&response);
    /* ...but is in 100..-60, which wraps through 180. */
    call("/api/structures", "bbox=100,-90,-60,90", &response);
    CHECK(position_of(&response, "FORT-DE-FRANCE-ESMARA") >= 0, "%.300s", body(&response));
    response_free(&response);
    /* With orpha: only covering sites, each with orpha_matched. */
    call("/api/structures", "bbox=-5,41,10,52&orpha=870", &response);
    CHECK(position_of(&response, "NECKER-MAREP") >= 0 && position_of(&response, "BICHAT-CAI") < 0 &&
              position_of(&response, "\"orpha_matched\":{\"orpha\":96346") >= 0,
          "%.300s", body(&response));
    response_free(&response);
    call("/api/structures/NECKER-MAREP", "", &response);
    CHECK(response.status == 200 &&
              position_of(&response, "{\"type\":\"Feature\",\"id\":\"NECKER-MAREP\"") == 0 &&
              position_of(&response, "\"orpha_codes\":[96346]") >= 0,
          "%.300s", body(&response));
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
    snapshot = snapshot_load(path, error, sizeof error);
    if (!snapshot) {
        fprintf(stderr, "test_api: cannot load the shipped database: %s\n", error);
        printf("test_api: 0 passed, 1 failed\n");
        return 1;
    }
    RUN(health);
    RUN(seed_nearest);
    RUN(nearest_filters_and_messages);
    RUN(nearest_bad_input);
    RUN(nearest_equals_brute_force_on_real_data);
    RUN(conditions_search);
    RUN(places_search);
    RUN(structures);
    snapshot_free(snapshot);
    return CHECK_SUMMARY("test_api");
}
