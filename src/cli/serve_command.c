/* serve.c — `maillage serve`: options, signals, hot reload and shutdown.
 *
 * Owns: the command line of `serve` and the life of the process around the
 * HTTP server (http.c): it loads the dataset (dataset_state.c), starts the
 * server, prints one ready line, then waits for signals in the main thread.
 * Invariants:
 *  - SIGHUP, SIGTERM and SIGINT are blocked in every thread (the mask is
 *    set before any thread starts) and taken synchronously here with
 *    sigwaitinfo(), so no work happens in a signal handler;
 *  - SIGHUP reloads the same --db path (`maillage build` replaces it by an
 *    atomic rename), and so does a change of that file with --watch (seen
 *    by a stat every second, acted on once it is stable); a failed reload
 *    is logged and the old data keeps serving; the reload then waits (up to
 *    SERVE_RETIRE_WAIT_SECONDS) for the requests on the old data, so it is
 *    freed, and its memory given back, here rather than in a request;
 *  - SIGTERM/SIGINT stop accepting, let requests in flight finish, free
 *    everything and exit 0. */
#include "base/text.h"
#include "cli/commands.h"
#include "dataset/dataset_state.h"
#include "http/http.h"
#include "http/metrics.h"
#include "http/static_files.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SERVE_DRAIN_SECONDS 10.0
/* How long a reload waits for the requests reading the old dataset, so it
 * frees it itself (see dataset_state.h); requests last milliseconds. */
#define SERVE_RETIRE_WAIT_SECONDS 10.0

static const char serve_usage[] =
    "usage: maillage serve --db FILE.sqlite [options]\n"
    "\n"
    "Serves the map page, the JSON API and the vector tiles of a dataset built\n"
    "by `maillage build`. Prints one line when ready. SIGHUP reloads FILE (the\n"
    "old data keeps serving if the new file fails to load); SIGTERM or SIGINT\n"
    "finishes the requests in flight and exits 0.\n"
    "\n"
    "options:\n"
    "  --db FILE.sqlite        the dataset (required)\n"
    "  --listen ADDRESS:PORT   where to listen (default 127.0.0.1:8080; port 0 picks\n"
    "                          a free port, shown in the ready line; [::1]:PORT for IPv6)\n"
    "  --web DIR               the web page's files (default: ./web, else the web/\n"
    "                          folder next to the binary's build/ folder; without\n"
    "                          one, only the API and tiles are served)\n"
    "  --threads N             worker threads (default: the number of cores)\n"
    "  --cors-origins LIST     origins allowed to call the API from a browser,\n"
    "                          comma-separated (https://a.example,https://b.example);\n"
    "                          default '*' (any origin: the data is public)\n"
    "  --frame-ancestors LIST  sites allowed to embed the pages in a frame\n"
    "                          (Content-Security-Policy frame-ancestors), comma- or\n"
    "                          space-separated; the server itself is always allowed.\n"
    "                          Default: /embed can be framed by any site ('*'), the\n"
    "                          full page / only by this server ('self')\n"
    "  --access-log FILE|-|off one line per request (time, method, target, status,\n"
    "                          bytes, microseconds); '-' is standard output;\n"
    "                          default standard error\n"
    "  --cache-max-age S       Cache-Control max-age of API answers (default 300)\n"
    "  --nearest-cache-mb N    memory for per-condition search trees, built at a\n"
    "                          condition's first nearest query (default 32; 0: none).\n"
    "                          Answers are the same; cached conditions answer faster\n"
    "  --watch                 also reload when FILE changes (checked every second;\n"
    "                          reloads once the file has been stable for a second)\n"
    "  --help                  this text\n";

typedef struct ServeOptions {
    const char *database;
    const char *listen;
    const char *web;
    const char *cors_origins;
    const char *frame_ancestors;
    const char *access_log;
    unsigned threads;
    unsigned cache_max_age;
    unsigned nearest_cache_mb;
    int watch;
} ServeOptions;

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static int usage_error(const char *format, const char *argument)
{
    fprintf(stderr, "maillage serve: ");
    fprintf(stderr, format, argument);
    fprintf(stderr, "\n(see `maillage serve --help`)\n");
    return 2;
}

static unsigned default_threads(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1)
        return 1;
    return cores > 64 ? 64 : (unsigned)cores;
}

/* Returns 0, or the exit status of a usage error (or 1 for --help: exit 0). */
static int parse_options(int argc, char **argv, ServeOptions *options, int *help)
{
    memset(options, 0, sizeof *options);
    options->listen = "127.0.0.1:8080";
    options->threads = default_threads();
    options->cache_max_age = 300;
    options->nearest_cache_mb = (unsigned)(SPATIAL_INDEX_DEFAULT_CACHE_BYTES >> 20);
    *help = 0;
    for (int i = 0; i < argc; i++) {
        const char *name = argv[i];
        if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
            *help = 1;
            return 0;
        }
        if (strcmp(name, "--watch") == 0) {
            options->watch = 1;
            continue;
        }
        const char *value = NULL;
        char option[64];
        const char *equals = strchr(name, '=');
        if (strncmp(name, "--", 2) == 0 && equals && (size_t)(equals - name) < sizeof option) {
            memcpy(option, name, (size_t)(equals - name));
            option[equals - name] = '\0';
            name = option;
            value = equals + 1;
        } else if (i + 1 < argc) {
            value = argv[i + 1];
        }
        const char **target = NULL;
        if (strcmp(name, "--db") == 0)
            target = &options->database;
        else if (strcmp(name, "--listen") == 0)
            target = &options->listen;
        else if (strcmp(name, "--web") == 0)
            target = &options->web;
        else if (strcmp(name, "--cors-origins") == 0)
            target = &options->cors_origins;
        else if (strcmp(name, "--frame-ancestors") == 0)
            target = &options->frame_ancestors;
        else if (strcmp(name, "--access-log") == 0)
            target = &options->access_log;
        else if (strcmp(name, "--threads") != 0 && strcmp(name, "--cache-max-age") != 0 &&
                 strcmp(name, "--nearest-cache-mb") != 0)
            return usage_error("unknown option '%s'", argv[i]);
        if (!value)
            return usage_error("%s needs a value", name);
        if (!equals)
            i++;
        if (target) {
            *target = value;
            continue;
        }
        int64_t number;
        if (strcmp(name, "--threads") == 0) {
            if (parse_integer(value, 1, 256, &number) != 0)
                return usage_error("--threads takes an integer from 1 to 256, got '%s'", value);
            options->threads = (unsigned)number;
        } else if (strcmp(name, "--nearest-cache-mb") == 0) {
            if (parse_integer(value, 0, 65536, &number) != 0)
                return usage_error("--nearest-cache-mb takes megabytes from 0 to 65536, got '%s'",
                                   value);
            options->nearest_cache_mb = (unsigned)number;
        } else {
            if (parse_integer(value, 0, 31536000, &number) != 0)
                return usage_error("--cache-max-age takes seconds from 0 to 31536000, got '%s'",
                                   value);
            options->cache_max_age = (unsigned)number;
        }
    }
    if (!options->database)
        return usage_error("%s", "--db FILE.sqlite is required");
    char error[256];
    if (options->cors_origins && strcmp(options->cors_origins, "*") != 0 &&
        http_check_origin_list(options->cors_origins, error, sizeof error) != 0)
        return usage_error("--cors-origins: %s", error);
    if (options->frame_ancestors &&
        http_check_origin_list(options->frame_ancestors, error, sizeof error) != 0)
        return usage_error("--frame-ancestors: %s", error);
    return 0;
}

static int is_web_directory(const char *directory)
{
    char index[PATH_MAX];
    struct stat status;
    if (snprintf(index, sizeof index, "%s/index.html", directory) >= (int)sizeof index)
        return 0;
    return stat(index, &status) == 0 && S_ISREG(status.st_mode);
}

/* The web directory when --web is not given: ./web, else <binary>/../web or
 * <binary>/../../web (build/maillage, build/san/maillage). NULL when none. */
static StaticFiles *open_default_web(void)
{
    char error[256];
    if (is_web_directory("web"))
        return static_files_open("web", error, sizeof error);
    char binary[PATH_MAX];
    ssize_t length = readlink("/proc/self/exe", binary, sizeof binary - 1);
    if (length <= 0)
        return NULL;
    binary[length] = '\0';
    char *slash = strrchr(binary, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    static const char *const relative[] = {"/../web", "/../../web"};
    for (size_t i = 0; i < sizeof relative / sizeof relative[0]; i++) {
        char candidate[PATH_MAX + 16];
        snprintf(candidate, sizeof candidate, "%s%s", binary, relative[i]);
        if (is_web_directory(candidate))
            return static_files_open(candidate, error, sizeof error);
    }
    return NULL;
}

/* -1 for off, else a descriptor; -2 on failure (message printed). */
static int open_access_log(const char *setting)
{
    if (!setting)
        return STDERR_FILENO;
    if (strcmp(setting, "off") == 0)
        return -1;
    if (strcmp(setting, "-") == 0)
        return STDOUT_FILENO;
    int fd = open(setting, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "maillage serve: --access-log %s: %s\n", setting, strerror(errno));
        return -2;
    }
    return fd;
}

static void describe_dataset(DatasetState *state, char *version, size_t version_size, size_t *sites)
{
    DatasetReference *reference = dataset_state_acquire(state);
    const Snapshot *snapshot = dataset_reference_get(reference)->snapshot;
    snprintf(version, version_size, "%s", snapshot->version);
    *sites = snapshot->site_count;
    dataset_state_release(reference);
}

static void reload(DatasetState *state, const char *database)
{
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    char error[512];
    char version[80];
    size_t sites;
    if (dataset_state_reload(state, SERVE_RETIRE_WAIT_SECONDS, error, sizeof error) != 0) {
        metrics_record_reload(0);
        describe_dataset(state, version, sizeof version, &sites);
        fprintf(stderr, "maillage: reload of %s failed, still serving %s: %s\n", database, version,
                error);
        return;
    }
    metrics_record_reload(1);
    describe_dataset(state, version, sizeof version, &sites);
    fprintf(stderr, "maillage: reloaded %s (%zu sites) from %s in %.2f s\n", version, sites,
            database, seconds_since(&start));
}

/* What identifies the file behind a path: a replaced file (new inode) or a
 * rewritten one (new size or mtime) differs. */
typedef struct FileIdentity {
    dev_t device;
    ino_t inode;
    off_t size;
    struct timespec modified;
    int exists;
} FileIdentity;

static FileIdentity file_identity(const char *path)
{
    FileIdentity identity;
    memset(&identity, 0, sizeof identity);
    struct stat status;
    if (stat(path, &status) == 0) {
        identity.device = status.st_dev;
        identity.inode = status.st_ino;
        identity.size = status.st_size;
        identity.modified = status.st_mtim;
        identity.exists = 1;
    }
    return identity;
}

static int same_identity(const FileIdentity *a, const FileIdentity *b)
{
    return a->exists == b->exists && a->device == b->device && a->inode == b->inode &&
           a->size == b->size && a->modified.tv_sec == b->modified.tv_sec &&
           a->modified.tv_nsec == b->modified.tv_nsec;
}

/* With --watch: reloads once the file differs from the one loaded and has
 * stayed the same for one check (so a file being written is not read). */
static void watch_database(DatasetState *state, const char *database, FileIdentity *loaded,
                           FileIdentity *pending)
{
    FileIdentity now = file_identity(database);
    if (!now.exists || same_identity(&now, loaded)) {
        *pending = *loaded;
        return;
    }
    if (!same_identity(&now, pending)) {
        *pending = now;
        return;
    }
    fprintf(stderr, "maillage: %s changed, reloading\n", database);
    *loaded = now; /* a broken file is reported once, not every second */
    reload(state, database);
}

/* Waits for signals until SIGTERM or SIGINT; with `watch`, also checks the
 * database file every second. `loaded` identifies the file first loaded. */
static void wait_for_signals(const sigset_t *signals, DatasetState *state, const char *database,
                             int watch, FileIdentity loaded)
{
    FileIdentity pending = loaded;
    const struct timespec second = {1, 0};
    for (;;) {
        siginfo_t info;
        int signal_number =
            watch ? sigtimedwait(signals, &info, &second) : sigwaitinfo(signals, &info);
        if (signal_number < 0) {
            if (watch && errno == EAGAIN)
                watch_database(state, database, &loaded, &pending);
            continue; /* EINTR */
        }
        if (signal_number == SIGHUP) {
            loaded = pending = file_identity(database);
            reload(state, database);
            continue;
        }
        fprintf(stderr, "maillage: %s received, stopping\n",
                signal_number == SIGINT ? "SIGINT" : "SIGTERM");
        return;
    }
}

/* What a running server holds; each member is NULL/-1 until opened. */
typedef struct Serving {
    StaticFiles *static_files;
    int access_log_fd; /* -1: off */
    DatasetState *state;
    HttpServer *server;
} Serving;

static void serving_close(Serving *serving)
{
    http_server_stop(serving->server, SERVE_DRAIN_SECONDS);
    dataset_state_close(serving->state);
    static_files_close(serving->static_files);
    if (serving->access_log_fd > STDERR_FILENO)
        close(serving->access_log_fd);
}

/* Opens the web directory, the access log, the dataset and the listener.
 * Returns 0, or 1 after printing why (the caller still closes `serving`). */
static int serving_open(Serving *serving, const ServeOptions *options)
{
    char error[512];
    if (options->web) {
        serving->static_files = static_files_open(options->web, error, sizeof error);
        if (!serving->static_files) {
            fprintf(stderr, "maillage serve: --web %s\n", error);
            return 1;
        }
    } else {
        serving->static_files = open_default_web();
    }
    serving->access_log_fd = open_access_log(options->access_log);
    if (serving->access_log_fd == -2)
        return 1;
    DatasetOptions dataset_options = DATASET_DEFAULTS;
    dataset_options.index.cache_budget = (size_t)options->nearest_cache_mb << 20;
    /* Benchmarks only: MAILLAGE_BENCH=1 lets ?nocache=1 bypass the tile cache. */
    const char *bench = getenv("MAILLAGE_BENCH");
    dataset_options.tiles.allow_nocache = bench && strcmp(bench, "1") == 0;
    serving->state = dataset_state_open(options->database, &dataset_options, error, sizeof error);
    if (!serving->state) {
        fprintf(stderr, "maillage serve: %s\n", error);
        return 1;
    }
    HttpConfig config = {
        .listen = options->listen,
        .threads = options->threads,
        .cors_origins = options->cors_origins,
        .frame_ancestors = options->frame_ancestors,
        .access_log_fd = serving->access_log_fd,
        .cache_max_age = options->cache_max_age,
        .state = serving->state,
        .static_files = serving->static_files,
    };
    serving->server = http_server_start(&config, error, sizeof error);
    if (!serving->server) {
        fprintf(stderr, "maillage serve: %s\n", error);
        return 1;
    }
    return 0;
}

/* Blocks of at least this size are mapped and unmapped on their own
 * (glibc's M_MMAP_THRESHOLD, fixed here rather than adaptive). Loading
 * frees large temporaries in worker threads; with the adaptive threshold
 * later ones landed in those threads' malloc arenas: measured on 1M sites,
 * half the starts kept 15.6 MB more resident. Response bodies up to a few
 * thousand features stay below it and are reused from the heap. */
#define LARGE_BLOCK_BYTES (4u << 20)
/* Free memory at the top of an arena beyond this is given back at once
 * (M_TRIM_THRESHOLD). Each worker thread has its own arena, and
 * malloc_trim() (called after a reload frees the old dataset, see
 * dataset_state.h) releases the free pages inside every arena but never
 * the top of a thread's arena: that top is bounded by this threshold only.
 * At 8 MB (twice the mmap threshold, glibc's adaptive rule) a server at
 * rest after reloads kept up to 8 MB per worker thread (shipped data, 2
 * threads: 61 MB vs 57 MB at 1 MB). 1 MB still keeps the common response
 * buffers (a ~1000-site bbox answer is ~0.7 MB) for reuse instead of
 * faulting them in again on every large answer. */
#define ARENA_TOP_KEPT_BYTES (1u << 20)

int command_serve(int argc, char **argv)
{
    mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK_BYTES);
    mallopt(M_TRIM_THRESHOLD, ARENA_TOP_KEPT_BYTES);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    ServeOptions options;
    int help;
    int status = parse_options(argc, argv, &options, &help);
    if (help) {
        fputs(serve_usage, stdout);
        return 0;
    }
    if (status != 0)
        return status;

    /* Block before any thread exists, so every thread inherits the mask. */
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGHUP);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    FileIdentity loaded = file_identity(options.database); /* before loading: see watch */
    Serving serving = {NULL, -1, NULL, NULL};
    if (serving_open(&serving, &options) != 0) {
        serving_close(&serving);
        return 1;
    }
    char version[80];
    size_t sites;
    describe_dataset(serving.state, version, sizeof version, &sites);
    printf("maillage: serving %s (%zu sites) on %s in %.2f s\n", version, sites,
           http_server_url(serving.server), seconds_since(&start));
    fflush(stdout);

    wait_for_signals(&signals, serving.state, options.database, options.watch, loaded);

    serving_close(&serving);
    fprintf(stderr, "maillage: stopped\n");
    return 0;
}
