/* install_paths.h — where an installed maillage finds its shared files.
 *
 * Owns: the data directory of an installation (`make install` puts the
 * page, the geodata and a prebuilt database in PREFIX/share/maillage) and
 * the lookup of a file in it. Invariants:
 *  - the directories tried are, in order, the one compiled in with
 *    -DMAILLAGE_DATADIR (only the binary `make install` links has one; the
 *    development binary build/maillage has none), then share/maillage next
 *    to the binary's own folder (BINDIR/../share/maillage), so a tree
 *    copied elsewhere or installed under DESTDIR still finds its files;
 *  - a path is returned only when the file or directory exists. */
#ifndef MAILLAGE_INSTALL_PATHS_H
#define MAILLAGE_INSTALL_PATHS_H

#include <stddef.h>

/* The data directory compiled in by `make install` ("" when none). */
const char *install_paths_datadir(void);

/* Writes the path of `name` (such as "maillage.sqlite" or "web") in the
 * first data directory that holds it into `path` (`size` bytes) and
 * returns `path`; returns NULL when no data directory holds it or the path
 * does not fit. */
const char *install_paths_find(const char *name, char *path, size_t size);

#endif
