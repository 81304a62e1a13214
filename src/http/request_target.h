/* request_target.h — an HTTP request target parsed into a path and parameters.
 *
 * Owns: percent-decoding of the target libmicrohttpd receives (origin-form
 * "/path?query", absolute-form "http://host/path?query", or "*") and the
 * rules on what a target may hold. Invariants:
 *  - the decoded path and every decoded name and value are NUL-free,
 *    valid UTF-8 C strings; in the query '+' means a space;
 *  - a path with a "." or ".." segment (also when written %2e%2e or with
 *    %2f separators), a NUL (%00), a malformed escape, bytes that are not
 *    UTF-8 once decoded, or a target not starting with '/' sets `error`
 *    (the caller answers 400); parsing never reads past the target;
 *  - parameters keep their order and repeats (request.c rejects repeats of
 *    the parameters a handler reads); beyond REQUEST_MAX_PARAMETERS the
 *    parse stops and sets `too_many_parameters`;
 *  - every pointer is into the caller's storage or to a static string. */
#ifndef MAILLAGE_REQUEST_TARGET_H
#define MAILLAGE_REQUEST_TARGET_H

#include "http/request.h"

#include <stddef.h>

typedef struct RequestTarget {
    const char *path;
    QueryParameter parameters[REQUEST_MAX_PARAMETERS];
    size_t parameter_count;
    int too_many_parameters;
    const char *error; /* NULL, or why the target is refused (a 400) */
} RequestTarget;

/* Bytes of storage request_target_parse() needs for a target of `length` bytes. */
size_t request_target_storage_size(size_t length);

/* Parses the NUL-terminated `raw` into `target`, writing decoded text into
 * `storage` (request_target_storage_size(strlen(raw)) bytes). */
void request_target_parse(const char *raw, char *storage, RequestTarget *target);

#endif
