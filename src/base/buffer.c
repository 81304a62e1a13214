/* buffer.c — growable byte buffer; see buffer.h for the invariants. */
#include "base/buffer.h"
#include "base/array.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buffer_init(Buffer *buffer)
{
    memset(buffer, 0, sizeof *buffer);
}

void buffer_free(Buffer *buffer)
{
    free(buffer->data);
    buffer_init(buffer);
}

void buffer_reset(Buffer *buffer)
{
    buffer->length = 0;
    buffer->failed = 0;
    if (buffer->data)
        buffer->data[0] = 0;
}

int buffer_reserve(Buffer *buffer, size_t extra)
{
    if (buffer->failed)
        return -1;
    int fresh = buffer->data == NULL;
    if (extra >= SIZE_MAX - buffer->length ||
        array_reserve(buffer->data, buffer->capacity, buffer->length + extra + 1, 256) != 0) {
        buffer->failed = 1;
        return -1;
    }
    if (fresh)
        buffer->data[0] = 0; /* a fresh block is an empty string, as buffer.h promises */
    return 0;
}

void buffer_append(Buffer *buffer, const void *bytes, size_t length)
{
    if (buffer_reserve(buffer, length) != 0)
        return;
    if (length)
        memcpy(buffer->data + buffer->length, bytes, length);
    buffer->length += length;
    buffer->data[buffer->length] = 0;
}

void buffer_append_string(Buffer *buffer, const char *text)
{
    buffer_append(buffer, text, strlen(text));
}

void buffer_append_char(Buffer *buffer, char character)
{
    buffer_append(buffer, &character, 1);
}

void buffer_vprintf(Buffer *buffer, const char *format, va_list arguments)
{
    va_list again;
    va_copy(again, arguments);
    char small[256];
    int needed = vsnprintf(small, sizeof small, format, arguments);
    if (needed < 0) {
        buffer->failed = 1;
    } else if ((size_t)needed < sizeof small) {
        buffer_append(buffer, small, (size_t)needed);
    } else if (buffer_reserve(buffer, (size_t)needed) == 0) {
        vsnprintf(buffer->data + buffer->length, (size_t)needed + 1, format, again);
        buffer->length += (size_t)needed;
    }
    va_end(again);
}

void buffer_printf(Buffer *buffer, const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    buffer_vprintf(buffer, format, arguments);
    va_end(arguments);
}

void buffer_warn(Buffer *sink, const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    if (sink) {
        buffer_vprintf(sink, format, arguments);
        buffer_append_char(sink, '\n');
    } else {
        vfprintf(stderr, format, arguments);
        fputc('\n', stderr);
    }
    va_end(arguments);
}

char *buffer_detach(Buffer *buffer, size_t *length)
{
    if (buffer_reserve(buffer, 0) != 0) {
        buffer_free(buffer);
        return NULL;
    }
    char *data = buffer->data;
    if (length)
        *length = buffer->length;
    buffer_init(buffer);
    return data;
}
