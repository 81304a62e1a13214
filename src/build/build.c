/* build.c — every input into one SpatiaLite database; see build.h.
 *
 * Owns: the fixed list and order of inputs, the dataset
 * version, the order of the importers, the spatial indexes, and the atomic
 * replacement of the output and report files. Invariants:
 *  - the version is the 64-bit FNV-1a, as 16 hex digits, of the schema
 *    version and of every input's kind, report name and bytes, in the fixed
 *    input order (which also encodes the options): same inputs, same
 *    version; `built_at` is stored but never hashed;
 *  - every input is opened and hashed before anything is written, so a
 *    missing file fails fast with one line naming it;
 *  - once filled and closed, the temporary database gets its packed sites
 *    and tree order (BuildOptions.pack: the sites and the index's trees as
 *    the server loads them, for a fast start); a failure to pack fails the
 *    build;
 *  - the database is written to FILE.tmp-PID next to FILE and renamed over
 *    FILE only when complete (then the directory is synced); on any fatal
 *    error (or SIGINT/SIGTERM) the temporary file is removed and FILE is
 *    untouched; the report is replaced the same way;
 *  - a SIGKILL (or a power cut) cannot run that clean-up, so each
 *    temporary file is held with an exclusive flock(2) while this build
 *    lives: the next build to the same FILE (or report) removes every
 *    FILE.tmp-DIGITS it can lock, with the SQLite side files
 *    (-journal, -wal, -shm) of such names, and says so. A lock is free
 *    only when its holder is dead, so a build running beside it keeps its
 *    file, whatever its process id became. */
#include "build/build.h"

#include "base/text.h"
#include "build/build_report.h"
#include "build/import_areas.h"
#include "build/import_common.h"
#include "build/import_finess.h"
#include "build/import_network.h"
#include "build/import_orphanet.h"
#include "store/store.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

typedef enum InputKind {
    INPUT_NOMENCLATURE,
    INPUT_SYNONYMS,
    INPUT_CLASSIFICATION,
    INPUT_FINESS_EXTRACT,
    INPUT_FINESS_OFFICIAL,
    INPUT_COMMUNES,
    INPUT_DEPARTEMENTS,
    INPUT_REGIONS,
    INPUT_FILIERES,
    INPUT_FSMR_SITES,
    INPUT_NETWORK
} InputKind;

static const char *const input_kind_names[] = {
    "nomenclature", "synonyms", "classification", "finess_extract", "finess_official", "communes",
    "departements", "regions",  "filieres",       "fsmr_sites",     "network",
};

/* Geodata files in load order: the shipped network (the seeds, then the
 * CRCM of the 2014 designation) comes last, before any --network file. */
static const struct {
    InputKind kind;
    const char *name;
} geodata_files[] = {
    {INPUT_NOMENCLATURE, "orphanet-nomenclature.csv"},
    {INPUT_SYNONYMS, "orphanet-synonyms.csv"},
    {INPUT_CLASSIFICATION, "orphanet-classification.csv"},
    {INPUT_FINESS_EXTRACT, "finess-etablissements.csv"},
    {INPUT_COMMUNES, "communes.csv"},
    {INPUT_DEPARTEMENTS, "departements.geojson"},
    {INPUT_REGIONS, "regions.geojson"},
    {INPUT_FILIERES, "filieres.csv"},
    {INPUT_FSMR_SITES, "fsmr-sites-2017.csv"},
    {INPUT_NETWORK, "network-seeds.csv"},
    {INPUT_NETWORK, "network-crcm-2014.csv"},
};

#define GEODATA_FILE_COUNT (sizeof geodata_files / sizeof geodata_files[0])

typedef struct BuildInputFile {
    InputKind kind;
    char *path;
    const char *name;           /* report name: into `path` or into `name_storage` */
    const ImportFormat *format; /* a network file's format (auto for the shipped ones) */
} BuildInputFile;

typedef struct BuildPlan {
    BuildInputFile *files;
    size_t count;
    char version[17];
} BuildPlan;

/* The temporary files to remove if a signal ends the build. */
static char temporary_database[4096];
static char temporary_report[4096];

/* The SQLite side files a temporary database may have left. */
static const char *const side_file_suffixes[] = {"", "-journal", "-wal", "-shm"};

/* 1 when `name` is `base`.tmp-DIGITS followed by one of the suffixes;
 * `*side` says it was a side file (not the database itself). */
static int is_temporary_name(const char *name, const char *base, int *side)
{
    size_t base_length = strlen(base);
    if (strncmp(name, base, base_length) != 0 || strncmp(name + base_length, ".tmp-", 5) != 0)
        return 0;
    const char *p = name + base_length + 5;
    if (*p < '0' || *p > '9')
        return 0;
    while (*p >= '0' && *p <= '9')
        p++;
    for (size_t i = 0; i < sizeof side_file_suffixes / sizeof side_file_suffixes[0]; i++)
        if (strcmp(p, side_file_suffixes[i]) == 0) {
            *side = i > 0;
            return 1;
        }
    return 0;
}

/* Removes `directory`/`name` when no live build holds it: for a temporary
 * database or report, when its flock can be taken; for a side file, when
 * its database is gone (swept first). Returns 1 when removed. */
static int remove_if_stale(const char *directory, const char *name, int side)
{
    char path[8192];
    if (snprintf(path, sizeof path, "%s/%s", directory, name) >= (int)sizeof path)
        return 0;
    if (side) {
        char owner[8192];
        snprintf(owner, sizeof owner, "%s", path);
        char *dash = strrchr(owner, '-');
        if (dash)
            *dash = '\0';
        return access(owner, F_OK) != 0 && unlink(path) == 0;
    }
    int descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (descriptor < 0)
        return 0;
    int stale = flock(descriptor, LOCK_EX | LOCK_NB) == 0 && unlink(path) == 0;
    close(descriptor);
    return stale;
}

/* Sweeps what killed builds left next to `path`: FILE.tmp-DIGITS files
 * nobody holds, then their side files. Prints one line per file removed
 * (unless quiet). */
static void sweep_stale_temporaries(const char *path, int quiet)
{
    char *copy_dir = strdup(path), *copy_base = strdup(path);
    DIR *listing = copy_dir ? opendir(dirname(copy_dir)) : NULL;
    const char *base = copy_base ? basename(copy_base) : NULL;
    for (int pass = 0; listing && base && pass < 2; pass++) {
        rewinddir(listing);
        const struct dirent *entry;
        while ((entry = readdir(listing)) != NULL) {
            int side = 0;
            if (!is_temporary_name(entry->d_name, base, &side) || side != pass)
                continue;
            if (remove_if_stale(copy_dir, entry->d_name, side) && !quiet)
                fprintf(stderr, "removed %s/%s, left by a build that did not finish\n", copy_dir,
                        entry->d_name);
        }
    }
    if (listing)
        closedir(listing);
    free(copy_dir);
    free(copy_base);
}

/* Creates `path` (which must not exist) and takes its flock, held until
 * the returned descriptor is closed; -1 on failure (errno set). */
static int create_locked(const char *path)
{
    int descriptor = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (descriptor < 0)
        return -1;
    if (flock(descriptor, LOCK_EX | LOCK_NB) != 0) {
        int saved = errno;
        close(descriptor);
        unlink(path);
        errno = saved;
        return -1;
    }
    return descriptor;
}

/* fsync(2) of the directory holding `path`, so a rename into it survives
 * a power cut. Returns 0 or -1. */
static int sync_directory_of(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return -1;
    int descriptor = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (descriptor < 0)
        return -1;
    int result = fsync(descriptor);
    close(descriptor);
    return result;
}

static void remove_temporaries_and_exit(int signal_number)
{
    if (temporary_database[0])
        unlink(temporary_database);
    if (temporary_report[0])
        unlink(temporary_report);
    signal(signal_number, SIG_DFL);
    raise(signal_number);
}

static void install_signal_handlers(void)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = remove_temporaries_and_exit;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGHUP, &action, NULL);
}

static int plan_add(BuildPlan *plan, InputKind kind, const char *directory, const char *path)
{
    BuildInputFile *file = &plan->files[plan->count];
    file->kind = kind;
    if (directory) {
        size_t length = strlen(directory);
        int slash = length && directory[length - 1] == '/';
        if (asprintf(&file->path, "%s%s%s", directory, slash ? "" : "/", path) < 0)
            file->path = NULL;
    } else {
        file->path = strdup(path);
    }
    if (!file->path)
        return -1;
    /* The report name is the base name, or the path as given when another
     * input already uses that base name. */
    file->name = import_base_name(file->path);
    for (size_t i = 0; i < plan->count; i++)
        if (strcmp(plan->files[i].name, file->name) == 0)
            file->name = file->path;
    plan->count++;
    return 0;
}

static void plan_free(BuildPlan *plan)
{
    for (size_t i = 0; i < plan->count; i++)
        free(plan->files[i].path);
    free(plan->files);
    memset(plan, 0, sizeof *plan);
}

static int plan_inputs(const BuildOptions *options, BuildPlan *plan)
{
    plan->files = calloc(GEODATA_FILE_COUNT + 1 + options->network_count, sizeof *plan->files);
    if (!plan->files)
        return -1;
    for (size_t i = 0; i < GEODATA_FILE_COUNT; i++) {
        if (plan_add(plan, geodata_files[i].kind, options->geodata, geodata_files[i].name) != 0)
            return -1;
        if (geodata_files[i].kind == INPUT_FINESS_EXTRACT && options->finess &&
            plan_add(plan, INPUT_FINESS_OFFICIAL, NULL, options->finess) != 0)
            return -1;
    }
    static const ImportFormat detect = {TEXT_ENCODING_AUTO, 0};
    for (size_t i = 0; i < plan->count; i++)
        plan->files[i].format = &detect;
    for (size_t i = 0; i < options->network_count; i++) {
        if (plan_add(plan, INPUT_NETWORK, NULL, options->networks[i]) != 0)
            return -1;
        plan->files[plan->count - 1].format = &options->network_format;
    }
    return 0;
}

static uint64_t hash_text(uint64_t hash, const char *text)
{
    return hash_fnv1a(hash, text, strlen(text) + 1); /* with the NUL as separator */
}

/* Hashes every input; fails with one line naming a missing or unreadable file. */
static int plan_version(BuildPlan *plan, char *error, size_t error_size)
{
    uint64_t hash = hash_text(HASH_FNV1A_SEED, "maillage dataset");
    char schema[32];
    snprintf(schema, sizeof schema, "schema %d", STORE_SCHEMA_VERSION);
    hash = hash_text(hash, schema);
    static unsigned char chunk[1 << 16];
    for (size_t i = 0; i < plan->count; i++) {
        const BuildInputFile *file = &plan->files[i];
        FILE *stream = fopen(file->path, "rb");
        if (!stream) {
            snprintf(error, error_size, "%s: cannot open: %s", file->path, strerror(errno));
            return -1;
        }
        char format[64];
        import_format_text(file->format, format, sizeof format);
        hash = hash_text(hash, input_kind_names[file->kind]);
        hash = hash_text(hash, file->name);
        hash = hash_text(hash, format);
        uint64_t length = 0;
        size_t got;
        while ((got = fread(chunk, 1, sizeof chunk, stream)) > 0) {
            hash = hash_fnv1a(hash, chunk, got);
            length += got;
        }
        int failed = ferror(stream);
        fclose(stream);
        if (failed) {
            snprintf(error, error_size, "%s: cannot read (is it a directory?)", file->path);
            return -1;
        }
        char size_text[32];
        snprintf(size_text, sizeof size_text, "%" PRIu64, length);
        hash = hash_text(hash, size_text);
    }
    snprintf(plan->version, sizeof plan->version, "%016" PRIx64, hash);
    return 0;
}

static int import_one(ImportContext *context, const BuildInputFile *file)
{
    switch (file->kind) {
    case INPUT_NOMENCLATURE:
        return import_orphanet_nomenclature(context, file->path);
    case INPUT_SYNONYMS:
        return import_orphanet_synonyms(context, file->path);
    case INPUT_CLASSIFICATION:
        return import_orphanet_classification(context, file->path);
    case INPUT_FINESS_EXTRACT:
        return import_finess_extract(context, file->path);
    case INPUT_FINESS_OFFICIAL:
        return import_finess_official(context, file->path, file->name);
    case INPUT_COMMUNES:
        return import_communes(context, file->path);
    case INPUT_DEPARTEMENTS:
        return import_departements(context, file->path);
    case INPUT_REGIONS:
        return import_regions(context, file->path);
    case INPUT_FILIERES:
        return import_filieres(context, file->path);
    case INPUT_FSMR_SITES:
        return import_fsmr_sites(context, file->path);
    case INPUT_NETWORK:
        return import_network(context, file->path, file->name, file->format);
    }
    return import_fail(context, file->path, 0, "unknown input kind");
}

static const char *const spatial_indexes[][2] = {
    {"sites", "geom"},        {"links", "geom"},   {"etablissements", "geom"},
    {"departements", "geom"}, {"regions", "geom"}, {"communes", "geom"},
};

static int create_spatial_indexes(ImportContext *context, const char *out)
{
    for (size_t i = 0; i < sizeof spatial_indexes / sizeof spatial_indexes[0]; i++) {
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT CreateSpatialIndex('%s', '%s')", spatial_indexes[i][0],
                 spatial_indexes[i][1]);
        sqlite3_stmt *statement = NULL;
        if (import_prepare(context, out, sql, &statement) != 0)
            return -1;
        int ok = sqlite3_step(statement) == SQLITE_ROW && sqlite3_column_int(statement, 0) == 1;
        sqlite3_finalize(statement);
        if (!ok)
            return import_fail(context, out, 0, "cannot create the spatial index of %s.%s",
                               spatial_indexes[i][0], spatial_indexes[i][1]);
    }
    return 0;
}

static int write_metadata(ImportContext *context, const char *out, const char *version)
{
    char schema[16], built_at[32];
    snprintf(schema, sizeof schema, "%d", STORE_SCHEMA_VERSION);
    time_t now = time(NULL);
    struct tm utc;
    gmtime_r(&now, &utc);
    strftime(built_at, sizeof built_at, "%Y-%m-%dT%H:%M:%SZ", &utc);
    const char *pairs[][2] = {
        {"version", version},
        {"schema_version", schema},
        {"built_at", built_at},
    };
    sqlite3_stmt *insert = NULL;
    if (import_prepare(context, out, "INSERT INTO metadata(key, value) VALUES (?, ?)", &insert))
        return -1;
    int result = 0;
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0] && result == 0; i++) {
        sqlite3_bind_text(insert, 1, pairs[i][0], -1, SQLITE_STATIC);
        sqlite3_bind_text(insert, 2, pairs[i][1], -1, SQLITE_STATIC);
        if (sqlite3_step(insert) != SQLITE_DONE)
            result =
                import_fail(context, out, 0, "database error: %s", sqlite3_errmsg(context->db));
        sqlite3_reset(insert);
    }
    sqlite3_finalize(insert);
    return result;
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Wall and CPU clocks of one build step. */
typedef struct StepClock {
    struct timespec wall;
    struct timespec cpu;
} StepClock;

static void step_clock_start(StepClock *clock)
{
    clock_gettime(CLOCK_MONOTONIC, &clock->wall);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &clock->cpu);
}

/* Prints "<what> in N.N s (CPU N.N s)" unless quiet, and restarts the clock. */
static void progress_step(const BuildReport *report, const char *what, StepClock *clock)
{
    struct timespec cpu;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
    if (!report->quiet)
        fprintf(stderr, "%s in %.1f s (CPU %.1f s)\n", what, seconds_since(&clock->wall),
                (double)(cpu.tv_sec - clock->cpu.tv_sec) +
                    (double)(cpu.tv_nsec - clock->cpu.tv_nsec) / 1e9);
    step_clock_start(clock);
}

/* SpatiaLite's per-row geometry triggers (type/SRID check, last-insert
 * timestamp) are dropped while bulk loading and recreated, from their saved
 * SQL, before the spatial indexes: every geometry the importers write is
 * built with an explicit type and SRID 4326, so the checks cannot fail, and
 * the final schema is the same. */
typedef struct SavedTriggers {
    char **sql;
    size_t count;
} SavedTriggers;

static void saved_triggers_free(SavedTriggers *saved)
{
    for (size_t i = 0; i < saved->count; i++)
        sqlite3_free(saved->sql[i]);
    free(saved->sql);
    memset(saved, 0, sizeof *saved);
}

static int suspend_geometry_triggers(ImportContext *context, const char *out, SavedTriggers *saved)
{
    sqlite3_stmt *statement = NULL;
    if (import_prepare(context, out,
                       "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN"
                       " (SELECT f_table_name FROM geometry_columns) ORDER BY name",
                       &statement) != 0)
        return -1;
    int status = SQLITE_DONE;
    int result = 0;
    while (result == 0 && (status = sqlite3_step(statement)) == SQLITE_ROW) {
        char **grown = realloc(saved->sql, (saved->count + 1) * sizeof *grown);
        char *copy = sqlite3_mprintf("%s", (const char *)sqlite3_column_text(statement, 1));
        char *drop =
            sqlite3_mprintf("DROP TRIGGER \"%w\"", (const char *)sqlite3_column_text(statement, 0));
        if (grown)
            saved->sql = grown;
        if (!grown || !copy || !drop) {
            sqlite3_free(copy);
            sqlite3_free(drop);
            result = import_fail(context, out, 0, "out of memory");
            break;
        }
        saved->sql[saved->count++] = copy;
        result = import_exec(context, out, drop);
        sqlite3_free(drop);
    }
    if (result == 0 && status != SQLITE_DONE)
        result = import_fail(context, out, 0, "database error: %s", sqlite3_errmsg(context->db));
    sqlite3_finalize(statement);
    return result;
}

static int restore_geometry_triggers(ImportContext *context, const char *out,
                                     const SavedTriggers *saved)
{
    for (size_t i = 0; i < saved->count; i++)
        if (import_exec(context, out, saved->sql[i]) != 0)
            return -1;
    return import_exec(context, out,
                       "UPDATE geometry_columns_time SET last_insert = "
                       "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')");
}

/* Runs every importer into the open database. */
static int fill_database(ImportContext *context, const BuildPlan *plan, const char *out)
{
    StepClock clock;
    step_clock_start(&clock);
    SavedTriggers triggers = {0};
    int loaded = import_exec(context, out, "BEGIN") == 0 &&
                 suspend_geometry_triggers(context, out, &triggers) == 0;
    for (size_t i = 0; loaded && i < plan->count; i++)
        loaded = import_one(context, &plan->files[i]) == 0;
    if (loaded)
        progress_step(context->report, "loaded every input", &clock);
    loaded = loaded && import_network_links(context) == 0;
    if (loaded)
        progress_step(context->report, "drew the network links", &clock);
    loaded = loaded && restore_geometry_triggers(context, out, &triggers) == 0;
    saved_triggers_free(&triggers);
    if (!loaded)
        return -1;
    build_report_sort(context->report);
    if (build_report_failed(context->report))
        return import_fail(context, out, 0, "out of memory while recording the report");
    char message[512];
    if (create_spatial_indexes(context, out) != 0)
        return -1;
    progress_step(context->report, "created the spatial indexes", &clock);
    if (write_metadata(context, out, plan->version) != 0)
        return -1;
    if (build_report_store(context->report, context->db, message, sizeof message) != 0)
        return import_fail(context, out, 0, "%s", message);
    if (import_exec(context, out, "COMMIT") != 0)
        return -1;
    progress_step(context->report, "committed", &clock);
    return 0;
}

/* Flushes a finished file to disk, so a rename never exposes a file whose
 * bytes are still only in the page cache. */
static int sync_file(const char *path)
{
    int descriptor = open(path, O_RDONLY);
    if (descriptor < 0)
        return -1;
    int result = fsync(descriptor);
    close(descriptor);
    return result;
}

/* Writes `text` to `path` through a temporary file and rename(2). */
static int write_file_atomically(const char *path, const Buffer *text, char *error,
                                 size_t error_size)
{
    snprintf(temporary_report, sizeof temporary_report, "%s.tmp-%ld", path, (long)getpid());
    unlink(temporary_report);
    int descriptor = create_locked(temporary_report);
    FILE *stream = descriptor < 0 ? NULL : fdopen(descriptor, "wb");
    if (!stream) {
        snprintf(error, error_size, "%s: cannot write: %s", path, strerror(errno));
        if (descriptor >= 0) {
            close(descriptor);
            unlink(temporary_report);
        }
        temporary_report[0] = 0;
        return -1;
    }
    int failed = fwrite(text->data, 1, text->length, stream) != text->length;
    failed |= fflush(stream) != 0 || fsync(fileno(stream)) != 0;
    if (failed || rename(temporary_report, path) != 0 || sync_directory_of(path) != 0) {
        int saved = errno;
        fclose(stream);
        snprintf(error, error_size, "%s: cannot write: %s", path, strerror(saved));
        unlink(temporary_report);
        temporary_report[0] = 0;
        return -1;
    }
    temporary_report[0] = 0;
    /* Closed after the rename: the lock is held until the file has its name. */
    return fclose(stream) == 0 ? 0 : -1;
}

int build_run(const BuildOptions *options)
{
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    BuildPlan plan = {0};
    BuildReport report;
    build_report_init(&report);
    report.quiet = options->quiet;
    ImportContext context;
    memset(&context, 0, sizeof context);
    context.report = &report;
    Store store = {0};
    int status = 1;
    int lock = -1; /* the temporary database's flock (see the header) */
    if (plan_inputs(options, &plan) != 0) {
        snprintf(context.error, sizeof context.error, "%s: out of memory", options->out);
        goto done;
    }
    if (plan_version(&plan, context.error, sizeof context.error) != 0)
        goto done;
    context.reprojector = reprojector_new();
    if (!context.reprojector) {
        snprintf(context.error, sizeof context.error, "%s: cannot initialise PROJ", options->out);
        goto done;
    }
    install_signal_handlers();
    sweep_stale_temporaries(options->out, options->quiet);
    if (options->report)
        sweep_stale_temporaries(options->report, options->quiet);
    snprintf(temporary_database, sizeof temporary_database, "%s.tmp-%ld", options->out,
             (long)getpid());
    unlink(temporary_database);
    char message[768];
    lock = create_locked(temporary_database);
    if (lock < 0) {
        snprintf(context.error, sizeof context.error, "%.400s: cannot create %.400s: %s",
                 options->out, temporary_database, strerror(errno));
        temporary_database[0] = 0;
        goto done;
    }
    if (store_create(&store, temporary_database, message, sizeof message) != 0) {
        snprintf(context.error, sizeof context.error, "%s: cannot create the database (%s)",
                 options->out, message);
        goto done;
    }
    context.db = store.db;
    if (fill_database(&context, &plan, options->out) != 0)
        goto done;
    store_close(&store);
    context.db = NULL;
    StepClock pack_clock;
    step_clock_start(&pack_clock);
    if (options->pack && options->pack(temporary_database, message, sizeof message) != 0) {
        snprintf(context.error, sizeof context.error,
                 "%s: cannot pack the sites and the trees (%s)", options->out, message);
        goto done;
    }
    progress_step(&report, "packed the sites and the tree order for serve", &pack_clock);
    if (sync_file(temporary_database) != 0 || rename(temporary_database, options->out) != 0 ||
        sync_directory_of(options->out) != 0) {
        snprintf(context.error, sizeof context.error, "%s: cannot replace: %s", options->out,
                 strerror(errno));
        goto done;
    }
    temporary_database[0] = 0;
    if (options->report) {
        int to_stdout = strcmp(options->report, "-") == 0;
        Buffer json;
        buffer_init(&json);
        if (to_stdout)
            build_report_text(&report, plan.version, &json);
        else
            build_report_json(&report, plan.version, &json);
        int written = !json.failed &&
                      (to_stdout ? fwrite(json.data, 1, json.length, stdout) == json.length
                                 : write_file_atomically(options->report, &json, context.error,
                                                         sizeof context.error) == 0);
        if (to_stdout && !written && !json.failed)
            snprintf(context.error, sizeof context.error, "cannot write the report to stdout");
        if (json.failed)
            snprintf(context.error, sizeof context.error, "%s: out of memory", options->report);
        buffer_free(&json);
        if (!written)
            goto done;
    }
    if (!options->quiet)
        fprintf(stderr, "built %s (version %s) in %.1f s\n", options->out, plan.version,
                seconds_since(&start));
    status = 0;
done:
    if (status != 0)
        fprintf(stderr, "maillage build: %s\n", context.error);
    store_close(&store);
    if (temporary_database[0]) {
        unlink(temporary_database);
        temporary_database[0] = 0;
    }
    if (lock >= 0)
        close(lock);
    reprojector_free(context.reprojector);
    free(context.orpha_codes);
    build_report_free(&report);
    plan_free(&plan);
    return status;
}
