/* test_snapshot_load.c — loading a database: snapshot_load() (model/) and
 * dataset_load() (dataset/) on a small synthetic database written here:
 * sites stored out of site_id order come back sorted, orpha_codes parsing
 * (blanks, "ORPHA:" prefix, duplicates, unknown codes), the ancestor
 * closure order, coordinators and links by site_id, covering counts (the
 * same through both loaders), the condition search and places a dataset
 * builds (synonyms, inactive codes, communes without a point skipped), the
 * text pool and site details (plain and escaped texts written as json.h
 * writes them, empty as absent, identical details stored once across both
 * readers), and a clear error, with nothing left allocated, for a bad role
 * or a file that is not a database. */
#include "base/json.h"
#include "check.h"
#include "dataset/dataset.h"
#include "http/routes.h"
#include "model/snapshot.h"
#include "model/snapshot_load.h"
#include "model/text_pool.h"
#include "store/store.h"
#include "support.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char database_path[256];

/* The schema version as text, for the fixture's metadata. */
#define TEXT_OF(value) #value
#define TEXT_OF_VALUE(value) TEXT_OF(value)

static const char synthetic_rows[] =
    "INSERT INTO metadata VALUES ('version', 'synthetic-1'),"
    " ('schema_version', '" TEXT_OF_VALUE(
        STORE_SCHEMA_VERSION) "');"
                              "INSERT INTO conditions VALUES"
                              " (10, 'Groupe synthétique', 'Synthetic group', 'group', 'active', "
                              "NULL, NULL),"
                              " (20, 'Sous-groupe synthétique', 'Synthetic subgroup', 'group', "
                              "'active', NULL, NULL),"
                              " (30, 'Maladie synthétique', 'Synthetic disease', 'disorder', "
                              "'active', NULL, NULL),"
                              " (40, 'Autre maladie synthétique', 'Other synthetic disease', "
                              "'disorder', 'active',"
                              "  NULL, NULL),"
                              " (50, 'OBSOLETE : maladie synthétique', 'OBSOLETE: synthetic', "
                              "'disorder',"
                              "  'inactive_obsolete', NULL, NULL);"
                              /* 30 sits under 20 and 10 (polyhierarchy: 10 -> 20 -> 30 and 10 ->
                                 30). */
                              "INSERT INTO ancestors VALUES (10, 10, 0), (20, 20, 0), (30, 30, 0), "
                              "(40, 40, 0),"
                              " (50, 50, 0), (20, 10, 1), (30, 20, 1), (30, 10, 1), (40, 10, 1);"
                              "INSERT INTO synonyms VALUES (30, 'fr', 'Syndrome synthétique de "
                              "test'),"
                              " (30, 'en', 'Synthetic test syndrome');"
                              "INSERT INTO communes(code, name, departement, postcodes, "
                              "population, lat, lon) VALUES"
                              " ('99001', 'Ville-Synthétique', '99', '99100|99101', 1200, 45.0, "
                              "3.0),"
                              " ('99002', 'Synthétique-sur-Mer', '99', '99200', 800, 45.5, 3.5),"
                              " ('99003', 'Sans-Point-Synthétique', '99', '99300', 50, NULL, "
                              "NULL);";

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
    /* Details: SYN-C and SYN-B share one record (read by different readers
     * when two read), SYN-A has one with an address that needs escapes,
     * SYN-10's empty texts are absent. */
    status |= exec(&store, "UPDATE sites SET city = 'Ville-Synthétique', source = 'synthetic',"
                           " phone = '01 00 00 00 00', finess = '990000001'"
                           " WHERE site_id IN ('SYN-C', 'SYN-B')");
    status |= exec(&store, "UPDATE sites SET source = 'synthetic', address = '1 rue "
                           "\"synthétique\"' || char(31) || ' \\', postcode = '99100'"
                           " WHERE site_id = 'SYN-A'");
    status |= exec(&store, "UPDATE sites SET city = '', source = '', responsable = ''"
                           " WHERE site_id = 'SYN-10'");
    status |= exec(&store, "COMMIT");
    store_close(&store);
    return status;
}

/* Loads the database with two site readers even on its 4 rows. */
static const SnapshotLoadOptions two_readers = {1, 2};

/* GET `path` on `dataset` through the route table, into `response`
 * (response_free() it); 0 when no handler answers the path. */
static int answer(const Dataset *dataset, const char *path, Response *response)
{
    return route_call(dataset, path, NULL, 0, response);
}

/* Covering: 10 <- A; 20 <- A, C; 30 <- A, C; 40 <- A, B; 50 <- none. */
static void check_covering_counts(const Snapshot *snapshot, const char *loader)
{
    static const int32_t codes[] = {10, 20, 30, 40, 50};
    static const uint32_t covering[] = {1, 2, 2, 2, 0};
    for (size_t i = 0; i < 5; i++) {
        const Condition *condition = snapshot_condition(snapshot, codes[i]);
        CHECK(condition && condition->covering_sites == covering[i], "%s: %d covered by %u", loader,
              codes[i], condition ? condition->covering_sites : 0);
    }
}

TEST(loads_and_sorts)
{
    char error[512];
    Snapshot *snapshot = snapshot_load(database_path, NULL, error, sizeof error);
    CHECK(snapshot != NULL, "%s", error);
    if (!snapshot)
        return;
    CHECK_STRING(snapshot->version, "synthetic-1");
    CHECK(snapshot->site_count == 4, "%zu sites", snapshot->site_count);
    static const char *const sorted[] = {"SYN-10", "SYN-A", "SYN-B", "SYN-C"};
    for (size_t i = 0; i < 4 && i < snapshot->site_count; i++)
        CHECK_STRING(site_id_text(snapshot, &snapshot->sites[i]), sorted[i]);
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
    check_covering_counts(snapshot, "snapshot_load");
    CHECK(snapshot_condition(snapshot, 999) == NULL && snapshot_condition(snapshot, -1) == NULL &&
              snapshot_condition(snapshot, INT32_MAX) == NULL,
          "absent codes");
    snapshot_free(snapshot);
}

/* What dataset_load() builds over the snapshot: the coverage counts (in
 * its second thread), the condition search, the places, and the answers. */
TEST(dataset_searches_and_answers)
{
    char error[512];
    Dataset *dataset = dataset_load(database_path, NULL, error, sizeof error);
    CHECK(dataset != NULL, "%s", error);
    if (!dataset)
        return;
    const Snapshot *snapshot = dataset->snapshot;
    CHECK(dataset->index && dataset->conditions && dataset->places && dataset->tiles,
          "every member built");
    CHECK(snapshot->site_count == 4 && snapshot->link_count == 2, "%zu sites, %zu links",
          snapshot->site_count, snapshot->link_count);
    check_covering_counts(snapshot, "dataset_load");

    /* Search: synonyms, inactive codes only by code, places without points. */
    const Condition *thirty = snapshot_condition(snapshot, 30);
    ConditionMatch matches[10];
    char code_text[32];
    int count = condition_search_find(dataset->conditions, snapshot, "syndrome synthetique",
                                      LANGUAGE_FRENCH, 10, matches, code_text);
    CHECK(count == 1 && thirty && matches[0].condition == thirty &&
              strcmp(matches[0].matched, "Syndrome synthétique de test") == 0,
          "synonym search: %d", count);
    count = condition_search_find(dataset->conditions, snapshot, "obsolete", LANGUAGE_FRENCH, 10,
                                  matches, code_text);
    CHECK(count == 0, "inactive code found by text (%d)", count);
    count = condition_search_find(dataset->conditions, snapshot, "ORPHA:50", LANGUAGE_FRENCH, 10,
                                  matches, code_text);
    CHECK(count == 1 && matches[0].condition->orpha == 50, "inactive code by code (%d)", count);
    const Place *places[10];
    /* "Synthétique-sur-Mer" starts with the query: before the larger town. */
    count = places_find(dataset->places, "synthetique", 10, places);
    CHECK(count == 2 && strcmp(places[0]->code, "99002") == 0, "places: %d", count);
    count = places_find(dataset->places, "99300", 10, places);
    CHECK(count == 0, "a commune without a point is found (%d)", count);
    count = places_find(dataset->places, "99101", 10, places);
    CHECK(count == 1 && strcmp(places[0]->code, "99001") == 0, "second postcode (%d)", count);

    /* Site JSON escapes exactly like json.h (a check of bytes). */
    const Site *b = snapshot_site(snapshot, "SYN-B");
    Response response;
    CHECK(answer(dataset, "/api/structures/SYN-B", &response) == 1 && response.status == 200,
          "structure SYN-B: %d", response.status);
    Buffer expected;
    buffer_init(&expected);
    buffer_append_string(&expected, "\"name\":");
    const char *b_name = b ? snapshot_text(snapshot, b->name) : NULL;
    if (b_name)
        json_escape_string(&expected, b_name, strlen(b_name));
    CHECK(b && response.body.data && strstr(response.body.data, expected.data), "%s not in %s",
          expected.data, response.body.data ? response.body.data : "");
    CHECK(strstr(expected.data, "\\\"synth") && strstr(expected.data, "\\u0001"), "escapes: %s",
          expected.data);
    buffer_free(&expected);
    response_free(&response);
    dataset_free(dataset);
}

static int same_text(const Snapshot *one, TextRef a, const Snapshot *two, TextRef b)
{
    const char *x = snapshot_text(one, a), *y = snapshot_text(two, b);
    return x && y ? strcmp(x, y) == 0 : x == y;
}

/* The same file read by one reader and by two (forced on 4 rows) gives the
 * same snapshot. */
TEST(two_readers_read_the_same)
{
    char error[512];
    const SnapshotLoadOptions one_reader = {1, SIZE_MAX};
    Snapshot *one = snapshot_load(database_path, &one_reader, error, sizeof error);
    CHECK(one != NULL, "one reader: %s", error);
    Snapshot *two = snapshot_load(database_path, &two_readers, error, sizeof error);
    CHECK(two != NULL, "two readers: %s", error);
    CHECK(one && two && one->site_count == two->site_count && one->link_count == two->link_count,
          "loads");
    for (size_t s = 0; one && two && s < one->site_count && s < two->site_count; s++) {
        const Site *a = &one->sites[s], *b = &two->sites[s];
        int same = strcmp(site_id_text(one, a), site_id_text(two, b)) == 0 &&
                   a->code_count == b->code_count && a->coordinator == b->coordinator &&
                   a->lat == b->lat && a->lon == b->lon && a->role == b->role &&
                   a->audience == b->audience && a->details == b->details &&
                   same_text(one, a->name, two, b->name) &&
                   same_text(one, a->centre_label, two, b->centre_label) &&
                   same_text(one, a->filiere, two, b->filiere);
        const TextRef *x = (const TextRef *)site_details(one, a);
        const TextRef *y = (const TextRef *)site_details(two, b);
        for (size_t f = 0; same && f < sizeof(SiteDetails) / sizeof(TextRef); f++)
            same = same_text(one, x[f], two, y[f]);
        for (uint32_t i = 0; same && i < a->code_count; i++)
            same = site_codes(one, a)[i] == site_codes(two, b)[i];
        CHECK(same, "site %zu differs", s);
    }
    CHECK(one && two && one->details_count == 3 && two->details_count == 3,
          "details stored once: %zu and %zu", one ? one->details_count : 0,
          two ? two->details_count : 0);
    for (size_t c = 0; one && two && c < one->condition_count; c++)
        CHECK(one->conditions[c].covering_sites == two->conditions[c].covering_sites,
              "covering of condition %zu", c);
    snapshot_free(one);
    snapshot_free(two);
}

/* The feature json.h would write for `site` (the API writes its own). */
static void expected_feature(const Snapshot *snapshot, const Site *site, Buffer *out)
{
    const SiteDetails *details = site_details(snapshot, site);
    JsonWriter json;
    json_init(&json, out);
    json_begin_object(&json);
    json_key(&json, "type");
    json_string(&json, "Feature");
    json_key(&json, "id");
    json_string_or_null(&json, snapshot_text(snapshot, site->site_id));
    json_key(&json, "geometry");
    json_begin_object(&json);
    json_key(&json, "type");
    json_string(&json, "Point");
    json_key(&json, "coordinates");
    json_begin_array(&json);
    json_double(&json, site->lon, 7);
    json_double(&json, site->lat, 7);
    json_end_array(&json);
    json_end_object(&json);
    json_key(&json, "properties");
    json_begin_object(&json);
    const char *coordinator =
        site->coordinator == SITE_NONE
            ? NULL
            : snapshot_text(snapshot, snapshot->sites[site->coordinator].site_id);
    const struct {
        const char *key, *value;
    } members[] = {
        {"site_id", snapshot_text(snapshot, site->site_id)},
        {"name", snapshot_text(snapshot, site->name)},
        {"role", role_name((Role)site->role)},
        {"centre_label", snapshot_text(snapshot, site->centre_label)},
        {"filiere", snapshot_text(snapshot, site->filiere)},
        {"finess", snapshot_text(snapshot, details->finess)},
        {"public", audience_name((Audience)site->audience)},
        {"phone", snapshot_text(snapshot, details->phone)},
        {"address", snapshot_text(snapshot, details->address)},
        {"postcode", snapshot_text(snapshot, details->postcode)},
        {"city", snapshot_text(snapshot, details->city)},
        {"coordinator_site_id", coordinator},
        {"platform", snapshot_text(snapshot, details->platform)},
        {"source", snapshot_text(snapshot, details->source)},
        {"responsable", snapshot_text(snapshot, details->responsable)},
        {"service", snapshot_text(snapshot, details->service)},
    };
    for (size_t m = 0; m < sizeof members / sizeof members[0]; m++) {
        json_key(&json, members[m].key);
        json_string_or_null(&json, members[m].value);
    }
    json_key(&json, "orpha_codes");
    json_begin_array(&json);
    for (uint32_t i = 0; i < site->code_count; i++)
        json_integer(&json, site_codes(snapshot, site)[i]);
    json_end_array(&json);
    json_end_object(&json);
    json_end_object(&json);
}

TEST(text_pool_and_details)
{
    char error[512];
    DatasetOptions options = DATASET_DEFAULTS;
    options.snapshot = two_readers;
    Dataset *dataset = dataset_load(database_path, &options, error, sizeof error);
    CHECK(dataset != NULL, "%s", error);
    if (!dataset)
        return;
    const Snapshot *snapshot = dataset->snapshot;
    const Site *a = snapshot_site(snapshot, "SYN-A"), *b = snapshot_site(snapshot, "SYN-B");
    const Site *c = snapshot_site(snapshot, "SYN-C"), *ten = snapshot_site(snapshot, "SYN-10");
    CHECK(a && b && c && ten, "sites");
    if (!a || !b || !c || !ten) {
        dataset_free(dataset);
        return;
    }
    /* Identical details once, even across the two readers; empty = absent. */
    CHECK(b->details == c->details && a->details != b->details && ten->details == 0,
          "details %u %u %u %u", a->details, b->details, c->details, ten->details);
    const SiteDetails *none = site_details(snapshot, ten);
    CHECK(none->city == 0 && none->source == 0 && none->responsable == 0 &&
              snapshot_text(snapshot, none->city) == NULL &&
              snapshot_text_length(snapshot, none->city) == 0 &&
              snapshot_text_plain(snapshot, none->city),
          "empty texts are absent");
    /* Lengths and the JSON-plain flag. */
    const SiteDetails *details = site_details(snapshot, c);
    CHECK(snapshot_text_length(snapshot, details->city) == strlen("Ville-Synthétique") &&
              snapshot_text_plain(snapshot, details->city),
          "plain city");
    const char *address = snapshot_text(snapshot, site_details(snapshot, a)->address);
    CHECK(address &&
              snapshot_text_length(snapshot, site_details(snapshot, a)->address) ==
                  strlen(address) &&
              !snapshot_text_plain(snapshot, site_details(snapshot, a)->address),
          "escaped address");
    CHECK(!snapshot_text_plain(snapshot, b->name) && snapshot_text_plain(snapshot, a->name),
          "names");
    /* Every feature is byte for byte what json.h writes. */
    for (size_t s = 0; s < snapshot->site_count; s++) {
        const Site *site = &snapshot->sites[s];
        char path[128];
        snprintf(path, sizeof path, "/api/structures/%s", site_id_text(snapshot, site));
        Response response;
        CHECK(answer(dataset, path, &response) == 1 && response.status == 200, "%s: %d", path,
              response.status);
        Buffer expected;
        buffer_init(&expected);
        expected_feature(snapshot, site, &expected);
        CHECK(response.body.data && expected.data && strcmp(response.body.data, expected.data) == 0,
              "%s:\n%s\nexpected\n%s", path, response.body.data ? response.body.data : "",
              expected.data ? expected.data : "");
        buffer_free(&expected);
        response_free(&response);
    }
    /* A hand-made pool: snapshot_text_add() and snapshot_details_add(). */
    Snapshot made;
    memset(&made, 0, sizeof made);
    TextRef plain = 0, escaped = 0, empty = 1;
    uint32_t first = 9, second = 9, third = 9;
    CHECK(snapshot_text_add(&made, "plain text", 10, &plain) == 0 &&
              snapshot_text_add(&made, "tab\there", 8, &escaped) == 0 &&
              snapshot_text_add(&made, "", 0, &empty) == 0 &&
              snapshot_details_add(&made, &(SiteDetails){.city = plain}, &first) == 0 &&
              snapshot_details_add(&made, &(SiteDetails){.city = escaped}, &second) == 0 &&
              snapshot_details_add(&made, &(SiteDetails){.city = plain}, &third) == 0,
          "hand-made pool");
    CHECK(plain && escaped && empty == 0 &&
              strcmp(snapshot_text(&made, plain), "plain text") == 0 &&
              snapshot_text_plain(&made, plain) && !snapshot_text_plain(&made, escaped) &&
              snapshot_text_length(&made, escaped) == 8 && first == 0 && second == 1 &&
              third == 0 && made.details_count == 2,
          "hand-made texts and details");
    free(made.text_pool);
    free(made.details);
    /* Offsets are 32-bit: a pool that would pass 4 GB is refused. */
    Snapshot full;
    memset(&full, 0, sizeof full);
    full.text_pool_size = UINT32_MAX - 8;
    TextRef beyond = 1;
    CHECK(snapshot_text_add(&full, "0123456789", 10, &beyond) == -1 && beyond == 0 &&
              full.text_pool == NULL,
          "a pool past 4 GB is an error");
    dataset_free(dataset);
}

TEST(bad_role_is_a_clear_error)
{
    if (write_database("surgeon") != 0) {
        CHECK(0, "cannot write the database");
        return;
    }
    char error[512] = "";
    /* Two readers: the error comes from the second reader too. */
    Snapshot *snapshot = snapshot_load(database_path, &two_readers, error, sizeof error);
    CHECK(snapshot == NULL && strstr(error, "SYN-C") && strstr(error, "surgeon") &&
              strstr(error, database_path),
          "error: %s", error);
    snapshot_free(snapshot);
    /* The same error through dataset_load(), which leaves nothing allocated. */
    DatasetOptions options = DATASET_DEFAULTS;
    options.snapshot = two_readers;
    error[0] = 0;
    Dataset *dataset = dataset_load(database_path, &options, error, sizeof error);
    CHECK(dataset == NULL && strstr(error, "SYN-C") && strstr(error, "surgeon") &&
              strstr(error, database_path),
          "dataset error: %s", error);
    dataset_free(dataset);
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
    Snapshot *snapshot = snapshot_load(path, NULL, error, sizeof error);
    CHECK(snapshot == NULL && strstr(error, path), "error: %s", error);
    snapshot = snapshot_load("no/such/file.sqlite", NULL, error, sizeof error);
    CHECK(snapshot == NULL && strstr(error, "no/such/file.sqlite"), "error: %s", error);
    error[0] = 0;
    Dataset *dataset = dataset_load(path, NULL, error, sizeof error);
    CHECK(dataset == NULL && strstr(error, path), "dataset error: %s", error);
    error[0] = 0;
    dataset = dataset_load("no/such/file.sqlite", NULL, error, sizeof error);
    CHECK(dataset == NULL && strstr(error, "no/such/file.sqlite"), "dataset error: %s", error);
    unlink(path);
}

/* text_is_plain() reads eight bytes at a time: every byte value, at every
 * position of texts of every length around the word size, must give the
 * byte-by-byte answer. */
TEST(text_is_plain_finds_every_escaped_byte)
{
    char text[40];
    int wrong = 0;
    for (size_t length = 1; length <= sizeof text; length++)
        for (size_t at = 0; at < length; at++)
            for (int byte = 0; byte < 256; byte++) {
                memset(text, 'a', sizeof text);
                text[at] = (char)byte;
                int expected = byte >= 0x20 && byte != '"' && byte != '\\';
                wrong += text_is_plain(text, length) != expected;
            }
    CHECK(wrong == 0, "%d texts judged wrongly", wrong);
    CHECK(text_is_plain("", 0) && text_is_plain("\xc3\xa9t\xc3\xa9 ~\x7f", 8), "plain texts");
}

/* site_lists_code() scans short lists and bisects long ones: both must
 * find every listed code and nothing else, at each length around the
 * switch, first and last codes included. */
TEST(site_lists_code_scans_and_bisects_alike)
{
    int32_t codes[2 * SITE_CODES_SCANNED + 3];
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        codes[i] = (int32_t)(10 * i + 5);
    Snapshot snapshot = {0};
    snapshot.site_codes = codes;
    for (uint32_t start = 0; start < 2; start++) {
        for (uint16_t count = 0; start + count <= sizeof codes / sizeof codes[0]; count++) {
            Site site = {0};
            site.codes_start = start;
            site.code_count = count;
            for (int32_t orpha = 0; orpha < (int32_t)(10 * sizeof codes / sizeof codes[0] + 10);
                 orpha++) {
                int expected = 0;
                for (uint32_t i = start; i < start + count; i++)
                    expected |= codes[i] == orpha;
                CHECK(site_lists_code(&snapshot, &site, orpha) == expected,
                      "codes %u..%u, orpha %d: %d", start, start + count, orpha, !expected);
            }
        }
    }
}

int main(void)
{
    snprintf(database_path, sizeof database_path, "%s/maillage-test-load-%d.sqlite",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
    if (write_database(NULL) != 0) {
        printf("test_snapshot_load: 0 passed, 1 failed\n");
        return 1;
    }
    RUN(loads_and_sorts);
    RUN(dataset_searches_and_answers);
    RUN(two_readers_read_the_same);
    RUN(text_pool_and_details);
    RUN(text_is_plain_finds_every_escaped_byte);
    RUN(site_lists_code_scans_and_bisects_alike);
    RUN(bad_role_is_a_clear_error);
    RUN(not_a_database);
    unlink(database_path);
    return CHECK_SUMMARY("test_snapshot_load");
}
