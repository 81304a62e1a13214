/* install_paths.c — the data directory of an installation; see
 * install_paths.h. MAILLAGE_DATADIR is defined by the Makefile's install
 * rule only (it compiles this file again for the installed binary). */
#include "cli/install_paths.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MAILLAGE_DATADIR
#define MAILLAGE_DATADIR ""
#endif

const char *install_paths_datadir(void)
{
    return MAILLAGE_DATADIR;
}

/* Writes "<directory>/<name>" into `path`; returns it when it exists. */
static const char *existing(const char *directory, const char *name, char *path, size_t size)
{
    struct stat status;
    int length = snprintf(path, size, "%s/%s", directory, name);
    if (length < 0 || (size_t)length >= size || stat(path, &status) != 0)
        return NULL;
    return path;
}

/* BINDIR/../share/maillage for the running binary, or 0 when unknown. */
static int beside_binary(char *directory, size_t size)
{
    char binary[PATH_MAX];
    ssize_t length = readlink("/proc/self/exe", binary, sizeof binary - 1);
    if (length <= 0)
        return 0;
    binary[length] = '\0';
    char *slash = strrchr(binary, '/');
    if (!slash)
        return 0;
    *slash = '\0';
    int written = snprintf(directory, size, "%s/../share/maillage", binary);
    return written > 0 && (size_t)written < size;
}

const char *install_paths_find(const char *name, char *path, size_t size)
{
    if (!name || !*name)
        return NULL;
    if (*MAILLAGE_DATADIR && existing(MAILLAGE_DATADIR, name, path, size))
        return path;
    char directory[PATH_MAX];
    if (beside_binary(directory, sizeof directory) && existing(directory, name, path, size))
        return path;
    return NULL;
}
