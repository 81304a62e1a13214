/* version_command.c — `maillage version` (and `maillage --version`).
 *
 * Owns: what the binary says about itself: its version (the VERSION file,
 * compiled in as MAILLAGE_VERSION by the Makefile), the database format it
 * reads (store.h's STORE_SCHEMA_VERSION), the data directory of an
 * installation, and the versions of the libraries it runs with. Invariant:
 * library versions are read at run time from the libraries loaded (not
 * from the headers it was compiled with), so the output tells what this
 * process actually uses. */
#include "cli/commands.h"
#include "cli/install_paths.h"
#include "store/store.h"

#include <geos_c.h>
#include <microhttpd.h>
#include <proj.h>
#include <spatialite.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#ifndef MAILLAGE_VERSION
#define MAILLAGE_VERSION "unknown"
#endif

static const char version_usage[] =
    "usage: maillage version\n"
    "       maillage --version\n"
    "\n"
    "Prints the version of maillage, the database format it reads (the schema\n"
    "version `maillage build` writes), the data directory of an installation and\n"
    "the versions of the libraries loaded at run time: SQLite, SpatiaLite, PROJ,\n"
    "GEOS, libmicrohttpd and zlib.\n"
    "\n"
    "options:\n"
    "  --help    this text\n";

int command_version(int argc, char **argv)
{
    if (argc > 0 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
        fputs(version_usage, stdout);
        return 0;
    }
    if (argc > 0) {
        fprintf(stderr, "maillage version: unknown option '%s'\n%s", argv[0], version_usage);
        return 2;
    }
    const char *datadir = install_paths_datadir();
    printf("maillage %s\n", MAILLAGE_VERSION);
    printf("database format: schema version %d\n", STORE_SCHEMA_VERSION);
    printf("data directory: %s\n", *datadir ? datadir : "(none: not an installed binary)");
    printf("SQLite %s\n", sqlite3_libversion());
    printf("SpatiaLite %s\n", spatialite_version());
    printf("PROJ %s\n", proj_info().version);
    printf("GEOS %s\n", GEOSversion());
    printf("libmicrohttpd %s\n", MHD_get_version());
    printf("zlib %s\n", zlibVersion());
    return 0;
}
