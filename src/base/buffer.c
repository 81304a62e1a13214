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

void buffer_printf(Buffer *buffer, const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    char small[256];
    int needed = vsnprintf(small, sizeof small, format, arguments);
    va_end(arguments);
    if (needed < 0) {
        buffer->failed = 1;
        return;
    }
    if ((size_t)needed < sizeof small) {
        buffer_append(buffer, small, (size_t)needed);
        return;
    }
    if (buffer_reserve(buffer, (size_t)needed) != 0)
        return;
    va_start(arguments, format);
    vsnprintf(buffer->data + buffer->length, (size_t)needed + 1, format, arguments);
    va_end(arguments);
    buffer->length += (size_t)needed;
}

void buffer_warn(Buffer *sink, const char *format, ...)
{
    char line[1024];
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(line, sizeof line, format, arguments);
    va_end(arguments);
    if (sink)
        buffer_printf(sink, "%s\n", line);
    else
        fprintf(stderr, "%s\n", line);
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
