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

/* Makes `buffer` empty (data NULL, not failed); allocates nothing. */
void buffer_init(Buffer *buffer);
/* Frees the block and re-initialises the buffer, which may be reused. */
void buffer_free(Buffer *buffer);
/* Empties the buffer and clears `failed`, keeping the block for reuse. */
void buffer_reset(Buffer *buffer);
/* Makes room for `extra` more bytes plus the NUL. Returns 0, or -1 when the
 * buffer has already failed or out of memory (then sets `failed`; the
 * content is unchanged). */
int buffer_reserve(Buffer *buffer, size_t extra);
/* Appends `length` bytes (`bytes` may be NULL when length is 0); a no-op
 * once failed, and sets `failed` when out of memory. */
void buffer_append(Buffer *buffer, const void *bytes, size_t length);
/* Appends the C string `text` (not NULL), as buffer_append(). */
void buffer_append_string(Buffer *buffer, const char *text);
/* Appends one byte (which may be 0), as buffer_append(). */
void buffer_append_char(Buffer *buffer, char character);
/* Appends printf-formatted text, as buffer_append(); a formatting error
 * also sets `failed`. */
void buffer_printf(Buffer *buffer, const char *format, ...) __attribute__((format(printf, 2, 3)));
/* The same from a va_list (which it consumes: the caller va_end()s it). */
void buffer_vprintf(Buffer *buffer, const char *format, va_list arguments)
    __attribute__((format(printf, 2, 0)));
/* A warning line (`format` without its newline): appended, with a
 * newline, to `sink` when it is not NULL, else written to stderr. For
 * loaders whose caller decides when (or whether) their warnings are shown. */
void buffer_warn(Buffer *sink, const char *format, ...) __attribute__((format(printf, 2, 3)));
/* Hands the NUL-terminated block (never NULL on success, even when empty)
 * to the caller, who frees it, and stores its length in `*length` unless
 * `length` is NULL; the buffer is empty after. Returns NULL, with the
 * buffer freed, when it had failed or out of memory. */
char *buffer_detach(Buffer *buffer, size_t *length);

#endif
