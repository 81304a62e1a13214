/* test_api_load.c — snapshot_load() on a small synthetic database written
 * here: sites stored out of site_id order come back sorted, orpha_codes
 * parsing (blanks, "ORPHA:" prefix, duplicates, unknown codes), the ancestor
 * closure order, coordinators and links by site_id, covering counts,
 * communes without a point skipped, and a clear error for a bad role or a
 * file that is not a database. */
#include "api.h"
#include "check.h"
#include "conditions.h"
#include "json.h"
#include "places.h"
#include "snapshot.h"
#include "store.h"

#include <stdlib.h>
#include <unistd.h>

static char database_path[256];

static const char synthetic_rows[] =
    "INSERT INTO metadata VALUES ('version', 'synthetic-1'), ('schema_version', '1');"
    "INSERT INTO conditions VALUES"
    " (10, 'Groupe synthétique', 'Synthetic group', 'group', 'active', NULL, NULL),"
    " (20, 'Sous-groupe synthétique', 'Synthetic subgroup', 'group', 'active', NULL, NULL),"
    " (30, 'Maladie synthétique', 'Synthetic disease', 'disorder', 'active', NULL, NULL),"
    " (40, 'Autre maladie synthétique', 'Other synthetic disease', 'disorder', 'active',"
    "  NULL, NULL),"
    " (50, 'OBSOLETE : maladie synthétique', 'OBSOLETE: synthetic', 'disorder',"
    "  'inactive_obsolete', NULL, NULL);"
    /* 30 sits under 20 and 10 (polyhierarchy: 10 -> 20 -> 30 and 10 -> 30). */
    "INSERT INTO ancestors VALUES (10, 10, 0), (20, 20, 0), (30, 30, 0), (40, 40, 0),"
    " (50, 50, 0), (20, 10, 1), (30, 20, 1), (30, 10, 1), (40, 10, 1);"
    "INSERT INTO synonyms VALUES (30, 'fr', 'Syndrome synthétique de test'),"
    " (30, 'en', 'Synthetic test syndrome');"
    "INSERT INTO communes(code, name, departement, postcodes, population, lat, lon) VALUES"
    " ('99001', 'Ville-Synthétique', '99', '99100|99101', 1200, 45.0, 3.0),"
    " ('99002', 'Synthétique-sur-Mer', '99', '99200', 800, 45.5, 3.5),"
    " ('99003', 'Sans-Point-Synthétique', '99', '99300', 50, NULL, NULL);";

/* site_id, role, orpha_codes, public, coordinator, lat, lon: out of order. */
static const char *const synthetic_sites[][7] = {
    {"SYN-C", "crmr_constitutif", " 30 | ORPHA:20|30|999", "enfants", "SYN-A", "45.1", "3.1"},
    {"SYN-A", "crmr_coordonnateur", "10", "", "", "45.0", "3.0"},
    {"SYN-B", "ccmr", "40", "adultes", "SYN-A", "45.2", "3.2"},
    {"SYN-10", "association", "", "tous", "SYN-NONE", "46.0", "4.0"},
};

static int exec(Store *store, const char *sql)
{
    char error[512];
    if (store_exec(store, sql, error, sizeof error) == 0)
        return 0;
    fprintf(stderr, "%s: %s\n", sql, error);
    return -1;
}

static int write_database(const char *bad_role)
{
    unlink(database_path);
    Store store;
    char error[512];
    if (store_create(&store, database_path, error, sizeof error) != 0) {
        fprintf(stderr, "store_create: %s\n", error);
        return -1;
    }
    int status = exec(&store, "BEGIN") | exec(&store, synthetic_rows);
    for (size_t i = 0; i < sizeof synthetic_sites / sizeof synthetic_sites[0]; i++) {
        const char *const *site = synthetic_sites[i];
        char *sql = sqlite3_mprintf(
            "INSERT INTO sites(site_id, structure_name, role, orpha_codes, public,"
            " coordinator_site_id, lat, lon, position_source, input_file, input_line, geom)"
            " VALUES (%Q, 'Structure synthétique', %Q, %Q, NULLIF(%Q, ''), NULLIF(%Q, ''),"
            " %s, %s, 'latlon', 'synthetic.csv', %d, MakePoint(%s, %s, 4326))",
            site[0], i == 0 && bad_role ? bad_role : site[1], site[2], site[3], site[4], site[5],
            site[6], (int)i + 2, site[6], site[5]);
        status |= exec(&store, sql);
        sqlite3_free(sql);
    }
    status |= exec(&store, "INSERT INTO links VALUES ('SYN-C', 'SYN-A', 'coordinator', NULL),"
                           " ('SYN-B', 'SYN-A', 'coordinator', NULL),"
                           " ('SYN-B', 'SYN-GONE', 'cooperation', NULL)");
    /* A name that needs every JSON escape. */
    status |= exec(&store, "UPDATE sites SET structure_name = 'Nom \"synthétique\" \\ ' ||"
                           " char(9) || char(10) || char(13) || char(1) || 'fin'"
                           " WHERE site_id = 'SYN-B'");
    status |= exec(&store, "COMMIT");
    store_close(&store);
    return status;
}

TEST(loads_and_sorts)
{
    char error[512];
    Snapshot *snapshot = snapshot_load(database_path, error, sizeof error);
    CHECK(snapshot != NULL, "%s", error);
    if (!snapshot)
        return;
    CHECK_STRING(snapshot->version, "synthetic-1");
    CHECK(snapshot->site_count == 4, "%zu sites", snapshot->site_count);
    static const char *const sorted[] = {"SYN-10", "SYN-A", "SYN-B", "SYN-C"};
    for (size_t i = 0; i < 4 && i < snapshot->site_count; i++)
        CHECK_STRING(snapshot->sites[i].site_id, sorted[i]);
    /* " 30 | ORPHA:20|30|999": 20 and 30, once each; 999 is unknown. */
    const Site *c = snapshot_site(snapshot, "SYN-C");
    CHECK(c && c->code_count == 2 && site_codes(snapshot, c)[0] == 20 &&
              site_codes(snapshot, c)[1] == 30,
          "SYN-C codes");
    const Site *a = snapshot_site(snapshot, "SYN-A");
    CHECK(c && a && c->coordinator == snapshot_site_index(snapshot, a), "SYN-C coordinator");
    const Site *ten = snapshot_site(snapshot, "SYN-10");
    CHECK(ten && ten->coordinator == SITE_NONE && ten->code_count == 0 &&
              ten->audience == AUDIENCE_TOUS && ten->role == ROLE_ASSOCIATION,
          "SYN-10");
    CHECK(c && c->audience == AUDIENCE_ENFANTS && a && a->audience == AUDIENCE_UNSTATED,
          "audiences");
    CHECK(snapshot->link_count == 2, "%zu links (the one to an unknown site is dropped)",
          snapshot->link_count);
    /* Ancestors of 30 by (depth, orpha): 30 at 0, then 10 and 20 at 1. */
    const Condition *thirty = snapshot_condition(snapshot, 30);
    CHECK(thirty && thirty->ancestor_count == 3, "30 has %u ancestors",
          thirty ? thirty->ancestor_count : 0);
    if (thirty && thirty->ancestor_count == 3) {
        const AncestorEntry *entries = snapshot->ancestors + thirty->ancestors_start;
        CHECK(snapshot->conditions[entries[0].condition].orpha == 30 && entries[0].depth == 0 &&
                  snapshot->conditions[entries[1].condition].orpha == 10 && entries[1].depth == 1 &&
                  snapshot->conditions[entries[2].condition].orpha == 20,
              "ancestor order");
        /* SYN-C lists 20 and 30: it covers 30 through 30 itself. */
        const Condition *matched = NULL;
        CHECK(c && snapshot_site_covers(snapshot, c, thirty, &matched) == 0 && matched == thirty,
              "SYN-C covers 30 directly");
        /* SYN-A lists 10: covers 30 at depth 1 through 10. */
        CHECK(a && snapshot_site_covers(snapshot, a, thirty, &matched) == 1 && matched &&
                  matched->orpha == 10,
              "SYN-A covers 30 through 10");
    }
    /* Covering: 10 <- A; 20 <- A, C; 30 <- A, C; 40 <- A, B; 50 <- none. */
    static const int32_t codes[] = {10, 20, 30, 40, 50};
    static const uint32_t covering[] = {1, 2, 2, 2, 0};
    for (size_t i = 0; i < 5; i++) {
        const Condition *condition = snapshot_condition(snapshot, codes[i]);
        CHECK(condition && condition->covering_sites == covering[i], "%d covered by %u", codes[i],
              condition ? condition->covering_sites : 0);
    }
    CHECK(snapshot_condition(snapshot, 999) == NULL && snapshot_condition(snapshot, -1) == NULL &&
              snapshot_condition(snapshot, INT32_MAX) == NULL,
          "absent codes");

    /* Search: synonyms, inactive codes only by code, places without points. */
    ConditionMatch matches[10];
    char code_text[32];
    int count = condition_search_find(snapshot, "syndrome synthetique", CONDITION_FRENCH, 10,
                                      matches, code_text);
    CHECK(count == 1 && matches[0].condition == thirty &&
              strcmp(matches[0].matched, "Syndrome synthétique de test") == 0,
          "synonym search: %d", count);
    count = condition_search_find(snapshot, "obsolete", CONDITION_FRENCH, 10, matches, code_text);
    CHECK(count == 0, "inactive code found by text (%d)", count);
    count = condition_search_find(snapshot, "ORPHA:50", CONDITION_FRENCH, 10, matches, code_text);
    CHECK(count == 1 && matches[0].condition->orpha == 50, "inactive code by code (%d)", count);
    const Place *places[10];
    /* "Synthétique-sur-Mer" starts with the query: before the larger town. */
    count = places_find(snapshot->places, "synthetique", 10, places);
    CHECK(count == 2 && strcmp(places[0]->code, "99002") == 0, "places: %d", count);
    count = places_find(snapshot->places, "99300", 10, places);
    CHECK(count == 0, "a commune without a point is found (%d)", count);
    count = places_find(snapshot->places, "99101", 10, places);
    CHECK(count == 1 && strcmp(places[0]->code, "99001") == 0, "second postcode (%d)", count);

    /* Site JSON escapes exactly like json.h. */
    const Site *b = snapshot_site(snapshot, "SYN-B");
    Request request;
    memset(&request, 0, sizeof request);
    request.method = "GET";
    request.path = "/api/structures/SYN-B";
    request.snapshot = snapshot;
    Response response;
    response_init(&response);
    CHECK(api_handle(&request, &response) == 1 && response.status == 200, "structure SYN-B");
    Buffer expected;
    buffer_init(&expected);
    buffer_append_string(&expected, "\"name\":");
    if (b && b->name)
        json_escape_string(&expected, b->name, strlen(b->name));
    CHECK(b && response.body.data && strstr(response.body.data, expected.data), "%s not in %s",
          expected.data, response.body.data ? response.body.data : "");
    CHECK(strstr(expected.data, "\\\"synth") && strstr(expected.data, "\\u0001"), "escapes: %s",
          expected.data);
    buffer_free(&expected);
    response_free(&response);
    snapshot_free(snapshot);
}

/* The same file read by one reader and by two (forced on 4 rows) gives the
 * same snapshot. */
TEST(two_readers_read_the_same)
{
    char error[512];
    snapshot_parallel_minimum_sites = SIZE_MAX;
    Snapshot *one = snapshot_load(database_path, error, sizeof error);
    snapshot_parallel_minimum_sites = 2;
    Snapshot *two = snapshot_load(database_path, error, sizeof error);
    snapshot_parallel_minimum_sites = 20000;
    CHECK(one && two && one->site_count == two->site_count && one->link_count == two->link_count,
          "loads");
    for (size_t s = 0; one && two && s < one->site_count && s < two->site_count; s++) {
        const Site *a = &one->sites[s], *b = &two->sites[s];
        int same = strcmp(a->site_id, b->site_id) == 0 && a->code_count == b->code_count &&
                   a->coordinator == b->coordinator && a->lat == b->lat && a->lon == b->lon &&
                   a->role == b->role && a->audience == b->audience &&
                   strcmp(a->name, b->name) == 0;
        for (uint32_t i = 0; same && i < a->code_count; i++)
            same = site_codes(one, a)[i] == site_codes(two, b)[i];
        CHECK(same, "site %zu differs", s);
    }
    for (size_t c = 0; one && two && c < one->condition_count; c++)
        CHECK(one->conditions[c].covering_sites == two->conditions[c].covering_sites,
              "covering of condition %zu", c);
    snapshot_free(one);
    snapshot_free(two);
}

TEST(bad_role_is_a_clear_error)
{
    if (write_database("surgeon") != 0) {
        CHECK(0, "cannot write the database");
        return;
    }
    char error[512] = "";
    snapshot_parallel_minimum_sites = 2; /* the error from the second reader too */
    Snapshot *snapshot = snapshot_load(database_path, error, sizeof error);
    snapshot_parallel_minimum_sites = 20000;
    CHECK(snapshot == NULL && strstr(error, "SYN-C") && strstr(error, "surgeon") &&
              strstr(error, database_path),
          "error: %s", error);
    snapshot_free(snapshot);
}

TEST(not_a_database)
{
    char path[300];
    snprintf(path, sizeof path, "%s.txt", database_path);
    FILE *file = fopen(path, "w");
    if (file) {
        fputs("not a database\n", file);
        fclose(file);
    }
    char error[512] = "";
    Snapshot *snapshot = snapshot_load(path, error, sizeof error);
    CHECK(snapshot == NULL && strstr(error, path), "error: %s", error);
    snapshot = snapshot_load("no/such/file.sqlite", error, sizeof error);
    CHECK(snapshot == NULL && strstr(error, "no/such/file.sqlite"), "error: %s", error);
    unlink(path);
}

int main(void)
{
    snprintf(database_path, sizeof database_path, "%s/maillage-test-load-%d.sqlite",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
    if (write_database(NULL) != 0) {
        printf("test_api_load: 0 passed, 1 failed\n");
        return 1;
    }
    RUN(loads_and_sorts);
    RUN(two_readers_read_the_same);
    RUN(bad_role_is_a_clear_error);
    RUN(not_a_database);
    unlink(database_path);
    return CHECK_SUMMARY("test_api_load");
}
