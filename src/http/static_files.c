/* static_files.c — confined file serving with a gzip cache; see static_files.h. */
#include "http/static_files.h"
#include "base/gzip.h"
#include "base/text.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATIC_FILE_MAX_BYTES (64u << 20)
#define GZIP_CACHE_ENTRIES 64
#define GZIP_CACHE_MAX_BYTES (32u << 20)

typedef struct GzipCacheEntry {
    uint64_t etag_hash; /* 0 = empty slot */
    char *bytes;
    size_t length;
} GzipCacheEntry;

struct StaticFiles {
    char root[PATH_MAX]; /* real path, no trailing slash */
    size_t root_length;
    pthread_mutex_t cache_lock;
    GzipCacheEntry cache[GZIP_CACHE_ENTRIES];
    size_t cache_next; /* round-robin victim */
    size_t cache_bytes;
};

typedef struct MimeType {
    const char *extension;
    const char *type;
    int compressible;
} MimeType;

static const MimeType mime_types[] = {
    {".html", "text/html; charset=utf-8", 1},
    {".js", "text/javascript; charset=utf-8", 1},
    {".mjs", "text/javascript; charset=utf-8", 1},
    {".css", "text/css; charset=utf-8", 1},
    {".json", "application/json", 1},
    {".geojson", "application/geo+json", 1},
    {".map", "application/json", 1},
    {".webmanifest", "application/manifest+json", 1},
    {".svg", "image/svg+xml", 1},
    {".txt", "text/plain; charset=utf-8", 1},
    {".png", "image/png", 0},
    {".jpg", "image/jpeg", 0},
    {".ico", "image/x-icon", 1},
    {".woff2", "font/woff2", 0},
    {".woff", "font/woff", 0},
};

const char *static_files_mime_type(const char *name, int *compressible)
{
    const char *dot = strrchr(name, '.');
    const char *slash = strrchr(name, '/');
    if (dot && (!slash || dot > slash)) {
        for (size_t i = 0; i < sizeof mime_types / sizeof mime_types[0]; i++) {
            if (strcmp(dot, mime_types[i].extension) == 0) {
                if (compressible)
                    *compressible = mime_types[i].compressible;
                return mime_types[i].type;
            }
        }
    }
    if (compressible)
        *compressible = 0;
    return "application/octet-stream";
}

StaticFiles *static_files_open(const char *directory, char *error, size_t error_size)
{
    StaticFiles *files = calloc(1, sizeof *files);
    if (!files) {
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    struct stat status;
    if (!realpath(directory, files->root) || stat(files->root, &status) != 0 ||
        !S_ISDIR(status.st_mode)) {
        snprintf(error, error_size, "%s: not a readable directory (%s)", directory,
                 errno ? strerror(errno) : "not a directory");
        free(files);
        return NULL;
    }
    files->root_length = strlen(files->root);
    if (pthread_mutex_init(&files->cache_lock, NULL) != 0) {
        snprintf(error, error_size, "cannot create a mutex");
        free(files);
        return NULL;
    }
    return files;
}

void static_files_close(StaticFiles *files)
{
    if (!files)
        return;
    for (size_t i = 0; i < GZIP_CACHE_ENTRIES; i++)
        free(files->cache[i].bytes);
    pthread_mutex_destroy(&files->cache_lock);
    free(files);
}

void static_file_free(StaticFile *file)
{
    buffer_free(&file->body);
    buffer_free(&file->gzip_body);
}

/* The file name a request path names, or NULL when it can never be a file:
 * hidden segments, empty segments and traversal are refused here, before
 * the real-path check. */
static const char *file_name_for_path(const char *path)
{
    if (path[0] != '/')
        return NULL;
    for (const char *segment = path; segment; segment = strchr(segment + 1, '/')) {
        if (segment[1] == '.' || segment[1] == '/' || segment[1] == '\0')
            return NULL;
    }
    return path;
}

/* Reads the whole regular file `fd` into `out`. */
static int read_whole_file(int fd, const struct stat *status, Buffer *out)
{
    if (status->st_size < 0 || (uint64_t)status->st_size > STATIC_FILE_MAX_BYTES)
        return -1;
    size_t size = (size_t)status->st_size;
    if (buffer_reserve(out, size) != 0)
        return -1;
    size_t done = 0;
    while (done < size) {
        ssize_t got = read(fd, out->data + done, size - done);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return -1; /* shrunk while reading, or an I/O error */
        done += (size_t)got;
    }
    out->length = done;
    out->data[done] = '\0';
    return 0;
}

static int gzip_from_cache(StaticFiles *files, uint64_t etag_hash, Buffer *out)
{
    int found = 0;
    pthread_mutex_lock(&files->cache_lock);
    for (size_t i = 0; i < GZIP_CACHE_ENTRIES; i++) {
        GzipCacheEntry *entry = &files->cache[i];
        if (entry->bytes && entry->etag_hash == etag_hash) {
            buffer_reset(out);
            buffer_append(out, entry->bytes, entry->length);
            found = !out->failed;
            break;
        }
    }
    pthread_mutex_unlock(&files->cache_lock);
    return found;
}

static void gzip_to_cache(StaticFiles *files, uint64_t etag_hash, const Buffer *gzip_body)
{
    if (gzip_body->length > GZIP_CACHE_MAX_BYTES / 4)
        return;
    char *copy = malloc(gzip_body->length);
    if (!copy)
        return;
    memcpy(copy, gzip_body->data, gzip_body->length);
    pthread_mutex_lock(&files->cache_lock);
    /* Evict round-robin until the new entry fits; the slot taken is the last evicted. */
    GzipCacheEntry *slot = &files->cache[files->cache_next];
    for (size_t tries = 0; tries < GZIP_CACHE_ENTRIES; tries++) {
        slot = &files->cache[files->cache_next];
        files->cache_bytes -= slot->length;
        free(slot->bytes);
        slot->bytes = NULL;
        slot->length = 0;
        if (files->cache_bytes + gzip_body->length <= GZIP_CACHE_MAX_BYTES)
            break;
        files->cache_next = (files->cache_next + 1) % GZIP_CACHE_ENTRIES;
    }
    slot->etag_hash = etag_hash;
    slot->bytes = copy;
    slot->length = gzip_body->length;
    files->cache_bytes += gzip_body->length;
    files->cache_next = (files->cache_next + 1) % GZIP_CACHE_ENTRIES;
    pthread_mutex_unlock(&files->cache_lock);
}

/* Opens the file for `name` if its real path lies under the root. Returns
 * the descriptor, -1 when absent or refused, -2 on a real failure. */
static int open_confined(const StaticFiles *files, const char *name, struct stat *status)
{
    char joined[PATH_MAX];
    char resolved[PATH_MAX];
    if (snprintf(joined, sizeof joined, "%s%s", files->root, name) >= (int)sizeof joined)
        return -1;
    if (!realpath(joined, resolved))
        return errno == ENOENT || errno == ENOTDIR || errno == ENAMETOOLONG || errno == ELOOP ||
                       errno == EACCES
                   ? -1
                   : -2;
    if (strncmp(resolved, files->root, files->root_length) != 0 ||
        resolved[files->root_length] != '/')
        return -1;
    int fd = open(resolved, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT || errno == EACCES || errno == ELOOP ? -1 : -2;
    if (fstat(fd, status) != 0 || !S_ISREG(status->st_mode)) {
        close(fd);
        return -1;
    }
    return fd;
}

int static_files_read(StaticFiles *files, const char *path, int want_gzip, StaticFile *file)
{
    memset(file, 0, sizeof *file);
    buffer_init(&file->body);
    buffer_init(&file->gzip_body);
    const char *name = file_name_for_path(path);
    if (!name)
        return 0;
    struct stat status;
    int fd = open_confined(files, name, &status);
    if (fd < 0)
        return fd == -1 ? 0 : -1;
    int result = read_whole_file(fd, &status, &file->body);
    close(fd);
    if (result != 0)
        return -1;
    file->content_type = static_files_mime_type(name, &file->compressible);
    file->is_html = strncmp(file->content_type, "text/html", 9) == 0;
    uint64_t identity[4] = {
        (uint64_t)status.st_dev, (uint64_t)status.st_ino, (uint64_t)status.st_size,
        (uint64_t)status.st_mtim.tv_sec * 1000000000u + (uint64_t)status.st_mtim.tv_nsec};
    file->etag_hash = hash_fnv1a(HASH_FNV1A_SEED, identity, sizeof identity);
    file->etag_hash = hash_fnv1a(file->etag_hash, name, strlen(name));
    if (!file->etag_hash)
        file->etag_hash = 1;
    if (want_gzip && file->compressible && file->body.length >= GZIP_MINIMUM_LENGTH) {
        if (!gzip_from_cache(files, file->etag_hash, &file->gzip_body) &&
            gzip_encode(file->body.data, file->body.length, 6, &file->gzip_body) == 0)
            gzip_to_cache(files, file->etag_hash, &file->gzip_body);
    }
    return 1;
}
