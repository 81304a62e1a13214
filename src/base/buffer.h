/* buffer.h — a growable byte buffer.
 *
 * Owns: one heap block that grows by doubling. Invariants: `data` is always
 * NUL-terminated when non-NULL (data[length] == 0) so text can be used as a C
 * string; an allocation failure sets `failed`, after which every append is a
 * no-op, so callers check once at the end (the pattern of SQLite's StrAccum). */
#ifndef MAILLAGE_BUFFER_H
#define MAILLAGE_BUFFER_H

#include <stdarg.h>
#include <stddef.h>

typedef struct Buffer {
    char *data;
    size_t length;
    size_t capacity;
    int failed;
} Buffer;

void buffer_init(Buffer *buffer);
void buffer_free(Buffer *buffer);
void buffer_reset(Buffer *buffer);
int buffer_reserve(Buffer *buffer, size_t extra);
void buffer_append(Buffer *buffer, const void *bytes, size_t length);
void buffer_append_string(Buffer *buffer, const char *text);
void buffer_append_char(Buffer *buffer, char character);
void buffer_printf(Buffer *buffer, const char *format, ...) __attribute__((format(printf, 2, 3)));
/* Hands the block to the caller (who frees it); the buffer is empty after. */
char *buffer_detach(Buffer *buffer, size_t *length);

#endif
