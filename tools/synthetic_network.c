/* synthetic_network.c — writes a SYNTHETIC care-network CSV for tests and
 * benchmarks (built as build/tools/synthetic-network).
 *
 *   synthetic-network --sites N [--seed S] [--geodata DIR] [--out FILE]
 *
 * Owns: nothing but its output. Invariants:
 *  - every row is invented and says so: site_id SYNTH-000001..., names
 *    "... synthétique ...", source "synthetic"; no real hospital is named;
 *  - columns are the CONTRACT's network CSV columns, lat/lon always given,
 *    finess empty;
 *  - positions are communes of geodata/communes.csv drawn with probability
 *    proportional to population, moved by a small jitter (under ~2 km); about
 *    a third of the sites sit exactly on one of a pool of shared positions
 *    (a hospital hosting many centres);
 *  - codes are real active ORPHAcodes of geodata/orphanet-nomenclature.csv,
 *    mostly disorders, some groups; roles and public are mixed; some sites
 *    name an earlier coordinating site, a few cooperate with earlier sites;
 *  - the output depends only on N, the seed and the geodata: same arguments,
 *    same bytes. */
#include "base/csv.h"
#include "base/text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Random {
    uint64_t state;
} Random;

/* splitmix64: small, fast, and the same on every platform. */
static uint64_t random_next(Random *random)
{
    uint64_t z = (random->state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double random_unit(Random *random)
{
    return (double)(random_next(random) >> 11) * (1.0 / 9007199254740992.0);
}

static size_t random_below(Random *random, size_t bound)
{
    return (size_t)(random_unit(random) * (double)bound);
}

typedef struct Places {
    double *lat, *lon;
    double *cumulative; /* cumulative population, for weighted draws */
    size_t count;
} Places;

typedef struct Codes {
    int32_t *disorders, *groups;
    size_t disorder_count, group_count;
} Codes;

typedef struct Names {
    char **items;
    size_t count;
} Names;

static int fail(const char *message, const char *detail)
{
    fprintf(stderr, "synthetic-network: %s%s%s\n", message, detail ? ": " : "",
            detail ? detail : "");
    return -1;
}

static int open_csv(CsvReader *reader, const char *directory, const char *name, int *indexes,
                    const char *const *columns, size_t column_count)
{
    char path[4096], error[512];
    snprintf(path, sizeof path, "%s/%s", directory, name);
    if (csv_open_file(reader, path, ',', error, sizeof error) != 0)
        return fail(error, NULL);
    if (csv_next(reader) != CSV_RECORD) {
        csv_close(reader);
        return fail("no header in", path);
    }
    for (size_t i = 0; i < column_count; i++) {
        indexes[i] = csv_column(reader, columns[i]);
        if (indexes[i] < 0) {
            csv_close(reader);
            return fail("missing column in", path);
        }
    }
    return 0;
}

static int load_places(const char *directory, Places *places)
{
    static const char *const columns[] = {"lat", "lon", "population"};
    int indexes[3];
    CsvReader reader;
    if (open_csv(&reader, directory, "communes.csv", indexes, columns, 3) != 0)
        return -1;
    size_t capacity = 40000;
    places->lat = malloc(capacity * sizeof(double));
    places->lon = malloc(capacity * sizeof(double));
    places->cumulative = malloc(capacity * sizeof(double));
    double total = 0;
    int out_of_memory = 0;
    CsvStatus status;
    while (places->lat && places->lon && places->cumulative &&
           (status = csv_next(&reader)) != CSV_END) {
        if (status != CSV_RECORD || reader.field_count < 3)
            continue;
        double lat, lon, population;
        if (parse_decimal(reader.fields[indexes[0]], &lat) != 0 ||
            parse_decimal(reader.fields[indexes[1]], &lon) != 0 ||
            parse_decimal(reader.fields[indexes[2]], &population) != 0 || population <= 0)
            continue;
        if (places->count == capacity) {
            capacity *= 2;
            double *a = realloc(places->lat, capacity * sizeof(double));
            places->lat = a ? a : places->lat;
            double *b = realloc(places->lon, capacity * sizeof(double));
            places->lon = b ? b : places->lon;
            double *c = realloc(places->cumulative, capacity * sizeof(double));
            places->cumulative = c ? c : places->cumulative;
            if (!a || !b || !c) {
                out_of_memory = 1;
                break;
            }
        }
        total += population;
        places->lat[places->count] = lat;
        places->lon[places->count] = lon;
        places->cumulative[places->count] = total;
        places->count++;
    }
    csv_close(&reader);
    if (out_of_memory || !places->lat || !places->lon || !places->cumulative || !places->count)
        return fail("cannot read communes with a point and a population", NULL);
    return 0;
}

static size_t draw_place(const Places *places, Random *random)
{
    double target = random_unit(random) * places->cumulative[places->count - 1];
    size_t low = 0, high = places->count - 1;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (places->cumulative[middle] <= target)
            low = middle + 1;
        else
            high = middle;
    }
    return low;
}

static int push_code(int32_t **items, size_t *count, int32_t code)
{
    int32_t *grown = realloc(*items, (*count + 1) * sizeof **items);
    if (!grown)
        return -1;
    *items = grown;
    grown[(*count)++] = code;
    return 0;
}

static int load_codes(const char *directory, Codes *codes)
{
    static const char *const columns[] = {"orpha_code", "level", "status"};
    int indexes[3];
    CsvReader reader;
    if (open_csv(&reader, directory, "orphanet-nomenclature.csv", indexes, columns, 3) != 0)
        return -1;
    int result = 0;
    CsvStatus status;
    while (result == 0 && (status = csv_next(&reader)) != CSV_END) {
        if (status != CSV_RECORD || reader.field_count < 3 ||
            strcmp(reader.fields[indexes[2]], "active") != 0)
            continue;
        int64_t code;
        if (parse_integer(reader.fields[indexes[0]], 1, INT32_MAX, &code) != 0)
            continue;
        const char *level = reader.fields[indexes[1]];
        if (strcmp(level, "group") == 0)
            result = push_code(&codes->groups, &codes->group_count, (int32_t)code);
        else if (strcmp(level, "disorder") == 0)
            result = push_code(&codes->disorders, &codes->disorder_count, (int32_t)code);
    }
    csv_close(&reader);
    if (result != 0 || !codes->group_count || !codes->disorder_count)
        return fail("cannot read active ORPHAcodes", NULL);
    return 0;
}

static int load_filieres(const char *directory, Names *names)
{
    static const char *const columns[] = {"filiere"};
    int indexes[1];
    CsvReader reader;
    if (open_csv(&reader, directory, "filieres.csv", indexes, columns, 1) != 0)
        return -1;
    CsvStatus status;
    int result = 0;
    while (result == 0 && (status = csv_next(&reader)) != CSV_END) {
        if (status != CSV_RECORD || !reader.fields[indexes[0]][0])
            continue;
        char **grown = realloc(names->items, (names->count + 1) * sizeof *grown);
        char *copy = strdup(reader.fields[indexes[0]]);
        if (grown)
            names->items = grown;
        if (!grown || !copy) {
            free(copy);
            result = -1;
            break;
        }
        names->items[names->count++] = copy;
    }
    csv_close(&reader);
    return result == 0 && names->count ? 0 : fail("cannot read filieres", NULL);
}

/* Role weights (per thousand), in the CONTRACT's role names. */
static const struct {
    const char *name;
    int weight;
} roles[] = {
    {"ccmr", 380},           {"crmr_constitutif", 200},
    {"crmr", 100},           {"crmr_coordonnateur", 80},
    {"platform_member", 80}, {"platform_coordinator", 20},
    {"cooperation", 70},     {"medico_social", 40},
    {"association", 30},
};

static size_t draw_role(Random *random)
{
    int target = (int)random_below(random, 1000), sum = 0;
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        sum += roles[i].weight;
        if (target < sum)
            return i;
    }
    return 0;
}

static const char *const publics[] = {"",        "",        "",     "enfants", "enfants",
                                      "adultes", "adultes", "tous", "tous",    "tous"};

typedef struct Generator {
    Random random;
    Places places;
    Codes codes;
    Names filieres;
    size_t site_count;
    double *hospital_lat, *hospital_lon;
    size_t hospital_count;
    uint32_t *coordinators; /* indexes of crmr_coordonnateur sites so far */
    size_t coordinator_count;
    uint32_t *platform_coordinators;
    size_t platform_coordinator_count;
} Generator;

static void jittered_place(Generator *generator, double *lat, double *lon)
{
    size_t place = draw_place(&generator->places, &generator->random);
    *lat = generator->places.lat[place] + (random_unit(&generator->random) - 0.5) * 0.03;
    *lon = generator->places.lon[place] + (random_unit(&generator->random) - 0.5) * 0.04;
    if (*lat > 90)
        *lat = 90;
    if (*lat < -90)
        *lat = -90;
}

static void write_codes(Generator *generator, FILE *out)
{
    size_t count = 1 + random_below(&generator->random, 4);
    int32_t chosen[4] = {0};
    size_t written = 0;
    for (size_t i = 0; i < count; i++) {
        int group = random_unit(&generator->random) < 0.15;
        int32_t code =
            group
                ? generator->codes
                      .groups[random_below(&generator->random, generator->codes.group_count)]
                : generator->codes
                      .disorders[random_below(&generator->random, generator->codes.disorder_count)];
        int repeated = 0;
        for (size_t j = 0; j < written; j++)
            repeated |= chosen[j] == code;
        if (repeated)
            continue;
        fprintf(out, "%s%d", written ? "|" : "", code);
        chosen[written++] = code;
    }
}

static void write_site(Generator *generator, FILE *out, size_t index)
{
    Random *random = &generator->random;
    double lat, lon;
    int shared = random_unit(random) < 0.35;
    size_t hospital = 0;
    if (shared) {
        hospital = random_below(random, generator->hospital_count);
        lat = generator->hospital_lat[hospital];
        lon = generator->hospital_lon[hospital];
    } else {
        jittered_place(generator, &lat, &lon);
    }
    size_t role = draw_role(random);
    const char *filiere =
        generator->filieres.items[random_below(random, generator->filieres.count)];
    fprintf(out, "SYNTH-%06zu,,%.6f,%.6f,", index + 1, lat, lon);
    if (shared)
        fprintf(out, "Hôpital synthétique %05zu,", hospital + 1);
    else
        fprintf(out, "Structure synthétique %06zu,", index + 1);
    fprintf(out, "%s,Centre synthétique %06zu,%s,", roles[role].name, index + 1,
            strstr(roles[role].name, "platform") ? "" : filiere);
    write_codes(generator, out);
    fprintf(out, ",%s,,,%s,synthetic,", publics[random_below(random, 10)],
            strstr(roles[role].name, "platform") ? "Plateforme synthétique" : "");
    /* A coordinating site drawn among the earlier ones. */
    const char *name = roles[role].name;
    if (strcmp(name, "platform_member") == 0 && generator->platform_coordinator_count)
        fprintf(out, "SYNTH-%06u",
                generator->platform_coordinators[random_below(
                    random, generator->platform_coordinator_count)] +
                    1);
    else if (strcmp(name, "crmr_constitutif") == 0 && generator->coordinator_count &&
             random_unit(random) < 0.6)
        fprintf(out, "SYNTH-%06u",
                generator->coordinators[random_below(random, generator->coordinator_count)] + 1);
    fputc(',', out);
    if (strcmp(name, "cooperation") == 0 && index > 0) {
        size_t count = 1 + random_below(random, 2);
        for (size_t i = 0; i < count; i++)
            fprintf(out, "%sSYNTH-%06zu", i ? "|" : "", random_below(random, index) + 1);
    }
    fputc('\n', out);
    if (strcmp(name, "crmr_coordonnateur") == 0)
        generator->coordinators[generator->coordinator_count++] = (uint32_t)index;
    else if (strcmp(name, "platform_coordinator") == 0)
        generator->platform_coordinators[generator->platform_coordinator_count++] = (uint32_t)index;
}

static int generate(Generator *generator, FILE *out)
{
    generator->hospital_count = generator->site_count / 25 + 1;
    generator->hospital_lat = malloc(generator->hospital_count * sizeof(double));
    generator->hospital_lon = malloc(generator->hospital_count * sizeof(double));
    generator->coordinators = malloc((generator->site_count + 1) * sizeof(uint32_t));
    generator->platform_coordinators = malloc((generator->site_count + 1) * sizeof(uint32_t));
    if (!generator->hospital_lat || !generator->hospital_lon || !generator->coordinators ||
        !generator->platform_coordinators)
        return fail("out of memory", NULL);
    for (size_t i = 0; i < generator->hospital_count; i++)
        jittered_place(generator, &generator->hospital_lat[i], &generator->hospital_lon[i]);
    fputs("site_id,finess,lat,lon,structure_name,role,centre_label,filiere,orpha_codes,public,"
          "responsable,service,platform,source,coordinator_site_id,cooperates_with\n",
          out);
    for (size_t i = 0; i < generator->site_count; i++)
        write_site(generator, out, i);
    return 0;
}

static void generator_free(Generator *generator)
{
    free(generator->places.lat);
    free(generator->places.lon);
    free(generator->places.cumulative);
    free(generator->codes.disorders);
    free(generator->codes.groups);
    for (size_t i = 0; i < generator->filieres.count; i++)
        free(generator->filieres.items[i]);
    free(generator->filieres.items);
    free(generator->hospital_lat);
    free(generator->hospital_lon);
    free(generator->coordinators);
    free(generator->platform_coordinators);
}

static const char usage[] =
    "usage: synthetic-network --sites N [--seed S] [--geodata DIR] [--out FILE]\n"
    "Writes a SYNTHETIC network CSV (CONTRACT columns) for tests and benchmarks.\n";

int main(int argc, char **argv)
{
    Generator generator;
    memset(&generator, 0, sizeof generator);
    const char *geodata = "geodata", *out_path = NULL;
    int64_t sites = -1, seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        if (!value) {
            fputs(usage, stderr);
            return 2;
        }
        if (strcmp(argv[i], "--sites") == 0 && parse_integer(value, 0, 100000000, &sites) == 0)
            ;
        else if (strcmp(argv[i], "--seed") == 0 && parse_integer(value, 0, INT64_MAX, &seed) == 0)
            ;
        else if (strcmp(argv[i], "--geodata") == 0)
            geodata = value;
        else if (strcmp(argv[i], "--out") == 0)
            out_path = value;
        else {
            fputs(usage, stderr);
            return 2;
        }
        i++;
    }
    if (sites < 0) {
        fputs(usage, stderr);
        return 2;
    }
    generator.site_count = (size_t)sites;
    generator.random.state = (uint64_t)seed * 0x2545F4914F6CDD1DULL + 1;
    int status = 1;
    FILE *out = out_path ? fopen(out_path, "wb") : stdout;
    if (!out) {
        perror(out_path);
        return 1;
    }
    static char output_buffer[1 << 20];
    setvbuf(out, output_buffer, _IOFBF, sizeof output_buffer);
    if (load_places(geodata, &generator.places) == 0 &&
        load_codes(geodata, &generator.codes) == 0 &&
        load_filieres(geodata, &generator.filieres) == 0 && generate(&generator, out) == 0)
        status = 0;
    if (fflush(out) != 0 || ferror(out)) {
        fail("cannot write the output", out_path);
        status = 1;
    }
    if (out != stdout && fclose(out) != 0)
        status = 1;
    generator_free(&generator);
    return status;
}
