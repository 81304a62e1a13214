/* serve.c — `maillage serve`: options, signals, hot reload and shutdown.
 *
 * Owns: the command line of `serve` and the life of the process around the
 * HTTP server (http.c): it loads the dataset (dataset_state.c), starts the
 * server, prints one ready line, then waits for signals in the main thread.
 * Invariants:
 *  - SIGHUP, SIGTERM and SIGINT are blocked in every thread (the mask is
 *    set before any thread starts) and taken synchronously here with
 *    sigtimedwait(), so no work happens in a signal handler;
 *  - SIGHUP reloads the same --db path (`maillage build` replaces it by an
 *    atomic rename), and so does a change of that file with --watch (seen
 *    by a stat every second, acted on once it is stable); a failed reload
 *    is logged and the old data keeps serving; the reload then waits (up to
 *    SERVE_RETIRE_WAIT_SECONDS) for the requests on the old data, so it is
 *    freed, and its memory given back, here rather than in a request;
 *  - SIGTERM/SIGINT stop accepting, let requests in flight finish, free
 *    everything and exit 0;
 *  - once the server has gone quiet (no request completed for one
 *    IDLE_TICK) after answering some, the free pages of every malloc arena
 *    are given back (see IDLE_TICK_NANOSECONDS);
 *  - under systemd (Type=notify, NOTIFY_SOCKET set) the service manager
 *    hears READY=1 once the port answers, RELOADING=1 then READY=1 around a
 *    reload, STOPPING=1 at the end (sd_notify from libsystemd). */
#include "base/text.h"
#include "cli/commands.h"
#include "cli/install_paths.h"
#include "dataset/dataset_state.h"
#include "http/http.h"
#include "http/metrics.h"
#include "http/static_files.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <systemd/sd-daemon.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SERVE_DRAIN_SECONDS 10.0
/* Descriptors beside the connections: the database, log and web files
 * (each worker thread needs 3 more: its epoll and wake-up descriptors). */
#define SERVE_SPARE_DESCRIPTORS 64
/* How long a reload waits for the requests reading the old dataset, so it
 * frees it itself (see dataset_state.h); requests last milliseconds. */
#define SERVE_RETIRE_WAIT_SECONDS 10.0

static const char serve_usage[] =
    "usage: maillage serve [--db FILE.sqlite] [options]\n"
    "\n"
    "Serves the map page, the JSON API and the vector tiles of a dataset built\n"
    "by `maillage build`. Prints one line when ready. SIGHUP reloads FILE (the\n"
    "old data keeps serving if the new file fails to load); SIGTERM or SIGINT\n"
    "finishes the requests in flight and exits 0. The API is described in\n"
    "OpenAPI 3.1 at /api/openapi.json.\n"
    "\n"
    "options:\n"
    "  --db FILE.sqlite        the dataset (default: maillage.sqlite of the installed\n"
    "                          data directory, PREFIX/share/maillage, shown by\n"
    "                          `maillage version`; required when there is none)\n"
    "  --listen ADDRESS:PORT   where to listen (default 127.0.0.1:8080; port 0 picks\n"
    "                          a free port, shown in the ready line; [::1]:PORT for IPv6)\n"
    "  --web DIR               the web page's files (default: ./web, else the web/\n"
    "                          folder next to the binary's build/ folder, else web/ of\n"
    "                          the installed data directory; without one, only the\n"
    "                          API and tiles are served)\n"
    "  --threads N             worker threads, 1 to 256 (default: the number of cores)\n"
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
    "  --cache-max-age S       Cache-Control max-age of API answers in seconds, 0 to\n"
    "                          31536000 (default 300)\n"
    "  --nearest-cache-mb N    memory for per-condition search trees, built at a\n"
    "                          condition's first nearest query (default 32; 0: none);\n"
    "                          once full, the most queried conditions keep theirs.\n"
    "                          Answers are the same; cached conditions answer faster\n"
    "  --watch                 also reload when FILE changes (checked every second;\n"
    "                          reloads once the file has been stable for a second);\n"
    "                          default off: only SIGHUP reloads\n"
    "  --max-connections N     open connections in total (default 2048); more are\n"
    "                          refused at accept. Needs N + 64 + 3 per thread open files\n"
    "  --max-connections-per-ip N\n"
    "                          open connections from one client address (default\n"
    "                          128, or --max-connections if smaller; 0: no limit).\n"
    "                          Behind a reverse proxy every client has the proxy's\n"
    "                          address: raise it or use 0\n"
    "  --connection-timeout S  close a connection idle (or sending nothing) for S\n"
    "                          seconds (default 30, from 1 to 3600)\n"
    "  --integrity-check on|full|off\n"
    "                          check FILE (SQLite quick_check) before serving it, at\n"
    "                          start and on reload. full: every page (0.15 s for the\n"
    "                          shipped dataset, 1.7 s for 1M sites); on (default):\n"
    "                          every page of a file up to 256 MB, and of a larger one\n"
    "                          every table the server reads (all but the spatial\n"
    "                          indexes and the sites table the packed sites replace:\n"
    "                          a third of a 1M-site file); off: none\n"
    "  --help                  this text\n";

typedef struct ServeOptions {
    const char *database;
    char installed_database[PATH_MAX]; /* the default --db of an installation */
    const char *listen;
    const char *web;
    const char *cors_origins;
    const char *frame_ancestors;
    const char *access_log;
    unsigned threads;
    unsigned cache_max_age;
    unsigned nearest_cache_mb;
    unsigned max_connections;
    unsigned max_connections_per_ip;
    unsigned connection_timeout;
    int watch;
    int integrity_check; /* INTEGRITY_* */
} ServeOptions;

/* --integrity-check: off, on (every page of a file up to
 * INTEGRITY_FULL_MAX_BYTES, every table the server reads of a larger one),
 * full (every page). */
enum { INTEGRITY_OFF, INTEGRITY_ON, INTEGRITY_FULL };
/* Checking every page costs about 2.5 ms of CPU per MB (1.7 s for a 690 MB
 * file of 1M sites); beyond this size `on` checks what the server reads. */
#define INTEGRITY_FULL_MAX_BYTES ((off_t)256 << 20)

/* The numeric options: each value is used whole or refused (exit 2). */
typedef struct NumericOption {
    const char *name;
    int64_t minimum, maximum;
    const char *unit;
    size_t offset; /* of the unsigned member in ServeOptions */
} NumericOption;

static const NumericOption numeric_options[] = {
    {"--threads", 1, 256, "an integer", offsetof(ServeOptions, threads)},
    {"--cache-max-age", 0, 31536000, "seconds", offsetof(ServeOptions, cache_max_age)},
    {"--nearest-cache-mb", 0, 65536, "megabytes", offsetof(ServeOptions, nearest_cache_mb)},
    {"--max-connections", 1, 1000000, "an integer", offsetof(ServeOptions, max_connections)},
    {"--max-connections-per-ip", 0, 1000000, "an integer",
     offsetof(ServeOptions, max_connections_per_ip)},
    {"--connection-timeout", 1, 3600, "seconds", offsetof(ServeOptions, connection_timeout)},
};

/* Connections from one address, unless --max-connections is smaller. */
#define SERVE_DEFAULT_PER_IP 128u
#define PER_IP_NOT_GIVEN UINT_MAX

/* Paths longer than this are refused, never cut. */
#define SERVE_MAX_PATH (PATH_MAX - 1)

static const NumericOption *find_numeric_option(const char *name)
{
    for (size_t i = 0; i < sizeof numeric_options / sizeof numeric_options[0]; i++)
        if (strcmp(numeric_options[i].name, name) == 0)
            return &numeric_options[i];
    return NULL;
}

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

static int check_values(ServeOptions *options, const char *integrity);

/* Returns 0, or the exit status of a usage error (or 1 for --help: exit 0). */
static int parse_options(int argc, char **argv, ServeOptions *options, int *help)
{
    memset(options, 0, sizeof *options);
    options->listen = "127.0.0.1:8080";
    options->threads = default_threads();
    options->cache_max_age = 300;
    options->nearest_cache_mb = (unsigned)(SPATIAL_INDEX_DEFAULT_CACHE_BYTES >> 20);
    options->max_connections = HTTP_DEFAULT_MAX_CONNECTIONS;
    options->max_connections_per_ip = PER_IP_NOT_GIVEN;
    options->connection_timeout = HTTP_DEFAULT_CONNECTION_TIMEOUT;
    options->integrity_check = INTEGRITY_ON;
    const char *integrity = NULL;
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
        else if (strcmp(name, "--integrity-check") == 0)
            target = &integrity;
        else if (!find_numeric_option(name))
            return usage_error("unknown option '%s'", argv[i]);
        if (!value)
            return usage_error("%s needs a value", name);
        if (!equals)
            i++;
        if (target) {
            *target = value;
            continue;
        }
        const NumericOption *numeric = find_numeric_option(name);
        int64_t number;
        if (parse_integer(value, numeric->minimum, numeric->maximum, &number) != 0) {
            fprintf(stderr,
                    "maillage serve: %s takes %s from %" PRId64 " to %" PRId64 ", got '%.40s'\n",
                    name, numeric->unit, numeric->minimum, numeric->maximum, value);
            fprintf(stderr, "(see `maillage serve --help`)\n");
            return 2;
        }
        *(unsigned *)((char *)options + numeric->offset) = (unsigned)number;
    }
    if (!options->database)
        options->database = install_paths_find("maillage.sqlite", options->installed_database,
                                               sizeof options->installed_database);
    if (!options->database)
        return usage_error("%s", "--db FILE.sqlite is required");
    return check_values(options, integrity);
}

/* Refuses what could not be used whole: empty or over-long paths, bad
 * lists, limits that contradict each other. Returns 0 or exit status 2. */
static int check_values(ServeOptions *options, const char *integrity)
{
    const struct {
        const char *name;
        const char *value;
    } paths[] = {{"--db", options->database},
                 {"--web", options->web},
                 {"--access-log", options->access_log}};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        const char *value = paths[i].value;
        if (value && value[0] == '\0')
            return usage_error("%s: the path is empty", paths[i].name);
        if (value && strlen(value) > SERVE_MAX_PATH)
            return usage_error("%s: the path is longer than 4095 bytes", paths[i].name);
    }
    if (integrity) {
        if (strcmp(integrity, "on") == 0)
            options->integrity_check = INTEGRITY_ON;
        else if (strcmp(integrity, "full") == 0)
            options->integrity_check = INTEGRITY_FULL;
        else if (strcmp(integrity, "off") == 0)
            options->integrity_check = INTEGRITY_OFF;
        else
            return usage_error("--integrity-check takes on, full or off, got '%.40s'", integrity);
    }
    if (options->max_connections_per_ip == PER_IP_NOT_GIVEN)
        options->max_connections_per_ip = options->max_connections < SERVE_DEFAULT_PER_IP
                                              ? options->max_connections
                                              : SERVE_DEFAULT_PER_IP;
    if (options->max_connections_per_ip > options->max_connections)
        return usage_error("%s", "--max-connections-per-ip is larger than --max-connections");
    if (options->max_connections < options->threads)
        return usage_error("%s", "--max-connections is smaller than --threads (each thread "
                                 "takes its share of the connections)");
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
 * <binary>/../../web (build/maillage, build/san/maillage), else web/ of the
 * installed data directory (install_paths.h). NULL when none. */
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
    char installed[PATH_MAX];
    if (install_paths_find("web", installed, sizeof installed) && is_web_directory(installed))
        return static_files_open(installed, error, sizeof error);
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

/* Makes a load or check failure one line (SQLite's text may hold a
 * newline). */
static void one_line(char *error)
{
    for (char *p = error; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
}

/* Prints why the file cannot be served at start, naming it: a loader's
 * message names the part it was reading ("communes: ...") but not always
 * the file. */
static void print_start_failure(const char *database, char *error)
{
    one_line(error);
    int named = strstr(error, database) != NULL;
    fprintf(stderr, "maillage serve: %s%s%s\n", named ? "" : database, named ? "" : ": ", error);
}

/* The integrity check `integrity_check` asks for (none when off). Returns
 * 0, or -1 with a one-line message naming the file. */
static int check_integrity(const char *database, int integrity_check, char *error,
                           size_t error_size)
{
    if (integrity_check == INTEGRITY_OFF)
        return 0;
    struct stat file;
    int large = stat(database, &file) == 0 && file.st_size > INTEGRITY_FULL_MAX_BYTES;
    StoreCheckScope scope =
        integrity_check == INTEGRITY_ON && large ? STORE_CHECK_SERVED : STORE_CHECK_FILE;
    return store_check_integrity(database, scope, error, error_size);
}

static void reload(DatasetState *state, const char *database, int integrity_check)
{
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    char error[512];
    char version[80];
    size_t sites;
    sd_notify(0, "RELOADING=1");
    if (check_integrity(database, integrity_check, error, sizeof error) != 0 ||
        dataset_state_reload(state, SERVE_RETIRE_WAIT_SECONDS, error, sizeof error) != 0) {
        one_line(error);
        metrics_record_reload(0);
        describe_dataset(state, version, sizeof version, &sites);
        fprintf(stderr, "maillage: reload of %s failed, still serving %s: %s\n", database, version,
                error);
        sd_notifyf(0, "READY=1\nSTATUS=reload failed, still serving %s", version);
        return;
    }
    metrics_record_reload(1);
    describe_dataset(state, version, sizeof version, &sites);
    sd_notifyf(0, "READY=1\nSTATUS=serving %s (%zu sites)", version, sites);
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

/* The main thread wakes this often, and gives memory back when no request
 * completed during the last wake-up period but some did since it last did.
 * Why: answers built cold (after a start or a reload: low-zoom areas tiles
 * with GEOS, service areas) and the connections closed after a burst free
 * their temporaries inside the worker threads' arenas; glibc keeps those
 * pages resident (only an arena's top is given back, see
 * ARENA_TOP_KEPT_BYTES). Measured by `make soak` (shipped data, 256
 * connections, 2 reloads; twice): at rest after the run 99.4 and 98.6 MB
 * resident vs 84.3 and 82.7 MB after the warm-up, and a malloc_trim(0)
 * then brought it to 82.8 and 83.7 MB: freed pages, not live memory; 256
 * connections asking /api/nearest and /healthz for 3 s alone left 4.2 MB
 * so. A trim takes ~0.4 ms (12 ms at most, measured while the caches
 * refill); at the first quiet period it gives those pages back within
 * 0.2 s of the last answer. A server kept busy never trims. */
#define IDLE_TICK_NANOSECONDS (100L * 1000 * 1000)
#define IDLE_TICKS_PER_WATCH 10 /* --watch checks the file every second */

typedef struct IdleTrim {
    uint64_t seen;    /* requests completed at the previous tick */
    uint64_t trimmed; /* ... at the last trim */
} IdleTrim;

static void trim_when_idle(HttpServer *server, IdleTrim *idle)
{
    uint64_t completed = http_server_requests_completed(server);
    if (completed == idle->seen && completed != idle->trimmed) {
        malloc_trim(0);
        idle->trimmed = completed;
    }
    idle->seen = completed;
}

/* With --watch: reloads once the file differs from the one loaded and has
 * stayed the same for one check (so a file being written is not read). */
static void watch_database(DatasetState *state, const ServeOptions *options, FileIdentity *loaded,
                           FileIdentity *pending)
{
    const char *database = options->database;
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
    reload(state, database, options->integrity_check);
}

/* Waits for signals until SIGTERM or SIGINT, trimming memory when the
 * server goes quiet; with `watch`, also checks the database file every
 * second. `loaded` identifies the file first loaded. */
static void wait_for_signals(const sigset_t *signals, DatasetState *state, HttpServer *server,
                             const ServeOptions *options, FileIdentity loaded)
{
    FileIdentity pending = loaded;
    IdleTrim idle = {http_server_requests_completed(server), 0};
    idle.trimmed = idle.seen;
    const struct timespec tick = {0, IDLE_TICK_NANOSECONDS};
    unsigned ticks = 0;
    for (;;) {
        siginfo_t info;
        int signal_number = sigtimedwait(signals, &info, &tick);
        if (signal_number < 0) {
            if (errno == EAGAIN) {
                trim_when_idle(server, &idle);
                if (options->watch && ++ticks % IDLE_TICKS_PER_WATCH == 0)
                    watch_database(state, options, &loaded, &pending);
            }
            continue; /* EINTR */
        }
        if (signal_number == SIGHUP) {
            loaded = pending = file_identity(options->database);
            reload(state, options->database, options->integrity_check);
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

/* The integrity check of the file at start, run beside the load (it reads
 * the pages once more; in parallel it costs less wall time). */
typedef struct IntegrityCheck {
    const char *path;
    int integrity_check;
    pthread_t thread;
    int result;
    char error[512];
} IntegrityCheck;

static void *run_integrity_check(void *argument)
{
    IntegrityCheck *check = argument;
    check->result =
        check_integrity(check->path, check->integrity_check, check->error, sizeof check->error);
    return NULL;
}

/* Raises the open-file limit to what --max-connections needs (up to the
 * hard limit). Returns 0, or 1 after printing why it cannot be met. */
static int reserve_descriptors(unsigned max_connections, unsigned threads)
{
    rlim_t needed = (rlim_t)max_connections + SERVE_SPARE_DESCRIPTORS + 3 * (rlim_t)threads;
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return 0;
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < needed) {
        limit.rlim_cur =
            limit.rlim_max == RLIM_INFINITY || limit.rlim_max > needed ? needed : limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < needed) {
        fprintf(stderr,
                "maillage serve: --max-connections %u needs %llu open files, the limit is %llu "
                "(raise it with ulimit -n, or lower --max-connections)\n",
                max_connections, (unsigned long long)needed, (unsigned long long)limit.rlim_cur);
        return 1;
    }
    return 0;
}

/* Opens the web directory, the access log, the dataset and the listener.
 * Returns 0, or 1 after printing why (the caller still closes `serving`). */
static int serving_open(Serving *serving, const ServeOptions *options)
{
    char error[512];
    if (reserve_descriptors(options->max_connections, options->threads) != 0)
        return 1;
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
    IntegrityCheck check = {.path = options->database, .integrity_check = options->integrity_check};
    int checking = options->integrity_check != INTEGRITY_OFF &&
                   pthread_create(&check.thread, NULL, run_integrity_check, &check) == 0;
    if (!checking)
        run_integrity_check(&check);
    /* The load's warnings (a packed part refused) wait for the check: a
     * damaged file is refused with one line, not its symptoms first. */
    Buffer warnings;
    buffer_init(&warnings);
    dataset_options.snapshot.warnings = &warnings;
    serving->state = dataset_state_open(options->database, &dataset_options, error, sizeof error);
    if (checking)
        pthread_join(check.thread, NULL);
    if (check.result == 0 && warnings.length)
        fwrite(warnings.data, 1, warnings.length, stderr);
    buffer_free(&warnings);
    /* The check's message first: it says why a damaged file failed to load. */
    if (check.result != 0) {
        print_start_failure(options->database, check.error);
        return 1;
    }
    if (!serving->state) {
        print_start_failure(options->database, error);
        return 1;
    }
    HttpConfig config = {
        .listen = options->listen,
        .threads = options->threads,
        .cors_origins = options->cors_origins,
        .frame_ancestors = options->frame_ancestors,
        .access_log_fd = serving->access_log_fd,
        .cache_max_age = options->cache_max_age,
        .max_connections = options->max_connections,
        .max_connections_per_ip = options->max_connections_per_ip,
        .connection_timeout = options->connection_timeout,
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
 * dataset_state.h, and when the server goes quiet, see
 * IDLE_TICK_NANOSECONDS) releases the free pages inside every arena but never
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
    /* Under systemd (Type=notify) the same news for the service manager;
     * without NOTIFY_SOCKET these calls do nothing. */
    sd_notifyf(0, "READY=1\nSTATUS=serving %s (%zu sites) on %s", version, sites,
               http_server_url(serving.server));

    wait_for_signals(&signals, serving.state, serving.server, &options, loaded);
    sd_notify(0, "STOPPING=1");

    serving_close(&serving);
    fprintf(stderr, "maillage: stopped\n");
    return 0;
}
