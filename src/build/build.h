/* build.h — `maillage build`'s work: every input into one SpatiaLite database.
 *
 * Owns: running a build once its options are known (cli/build_command.c
 * parses them): inputs hashed into the dataset version, the importers in
 * order, the spatial indexes, and the atomic replacement of the output and
 * report files (build.c says how). */
#ifndef MAILLAGE_BUILD_H
#define MAILLAGE_BUILD_H

#include "build/import_format.h"

#include <stddef.h>

typedef struct BuildOptions {
    const char *geodata;
    const char *out;
    const char *finess;
    const char *report; /* "-": a summary a person reads, on stdout */
    const char **networks;
    size_t network_count;
    ImportFormat network_format; /* how the --network files were saved */
    int quiet;
    /* Completes the temporary database before it replaces --out: the
     * command passes dataset_pack() (dataset/), which owns the packed
     * layout; NULL for none. Returns 0, or -1 with a message. */
    int (*pack)(const char *path, char *error, size_t error_size);
} BuildOptions;

/* Builds `options->out`. Returns the process exit status: 0 built, 1 a
 * fatal error (one line on stderr naming the file, and the line when there
 * is one; --out is then untouched and no temporary file is left). */
int build_run(const BuildOptions *options);

#endif
