/* static_files.h — the web page's files (--web DIR) served over HTTP.
 *
 * Owns: mapping a decoded request path to a regular file under the web
 * directory, its MIME type, its validator, and a small cache of gzip
 * encodings. Invariants:
 *  - never serves anything outside the directory: the resolved real path
 *    (symbolic links followed) must lie under the directory's real path;
 *    hidden names (a segment starting with '.') and directories are never
 *    served, and nothing is ever listed;
 *  - paths are file names under the directory (the route table maps `/`
 *    to /index.html and `/embed` to /embed.html);
 *  - the ETag is a strong tag over the file's identity, size and mtime, so
 *    a replaced file gets a new tag;
 *  - thread-safe: any number of threads call static_files_read(). */
#ifndef MAILLAGE_STATIC_FILES_H
#define MAILLAGE_STATIC_FILES_H

#include "base/buffer.h"

#include <stddef.h>
#include <stdint.h>

typedef struct StaticFiles StaticFiles;

typedef struct StaticFile {
    Buffer body;
    Buffer gzip_body;         /* filled only when asked for and worth it */
    const char *content_type; /* static string */
    uint64_t etag_hash;
    int compressible;
    int is_html;
} StaticFile;

/* A new handle on `directory`, which the caller frees with
 * static_files_close(); NULL with a message when `directory` is not a
 * readable directory or out of memory. */
StaticFiles *static_files_open(const char *directory, char *error, size_t error_size);
/* Frees the handle and its gzip cache; NULL is a no-op. Call once no thread
 * can read through it any more. */
void static_files_close(StaticFiles *files);

/* Reads the file for `path` into `file` (which the caller frees with
 * static_file_free even on failure). `want_gzip` asks for gzip_body too.
 * Returns 1 when found, 0 when there is no such file (404), -1 on an I/O
 * or memory failure. */
int static_files_read(StaticFiles *files, const char *path, int want_gzip, StaticFile *file);
/* Frees both bodies (left empty); safe after any static_files_read(). */
void static_file_free(StaticFile *file);

/* MIME type for a file name, by extension; "application/octet-stream" when unknown. */
const char *static_files_mime_type(const char *name, int *compressible);

#endif
