/* build_command.c — `maillage build`: the command line of a build.
 *
 * Owns: the usage text and options of `maillage build`; the build itself
 * is build/build.c, and packing the sites and the index's tree order for a
 * fast start is the dataset's dataset_pack(), handed to it. */
#include "build/build.h"
#include "cli/commands.h"
#include "cli/install_paths.h"
#include "dataset/dataset.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char build_usage[] =
    "usage: maillage build [--geodata DIR] --out FILE.sqlite [--network CSV]... [--finess FILE]\n"
    "                      [--network-format ENCODING[,SEPARATOR]] [--report FILE.json|-]\n"
    "                      [--quiet]\n"
    "\n"
    "Builds the SpatiaLite dataset the server answers from.\n"
    "\n"
    "options:\n"
    "  --geodata DIR     the reference data directory (geodata/ in the repository): the\n"
    "                    Orphanet nomenclature, synonyms and classification, the FINESS\n"
    "                    extract, communes, departements, regions, filieres, the 2017 FSMR\n"
    "                    site list, and the shipped network (network-seeds.csv and\n"
    "                    network-crcm-2014.csv), which always loads. Default: geodata/ of\n"
    "                    the installed data directory (PREFIX/share/maillage); required\n"
    "                    when there is none\n"
    "  --out FILE        the database to write (required); replaced atomically\n"
    "                    (FILE.tmp-PID, then rename), left untouched when the build fails\n"
    "  --network CSV     a network CSV in the CONTRACT format, added to the seeds; may be\n"
    "                    repeated (a site_id already loaded is rejected: the first row\n"
    "                    wins); default none\n"
    "  --network-format ENCODING[,SEPARATOR]\n"
    "                    how the --network files were saved (default auto: detected and\n"
    "                    named in the report): ENCODING utf-8, windows-1252, latin-1 or\n"
    "                    auto; SEPARATOR comma, semicolon, tab or auto. A spreadsheet's\n"
    "                    French CSV export is windows-1252,semicolon; a byte order mark\n"
    "                    and CRLF line ends are always accepted, and so is a decimal\n"
    "                    comma in lat, lon, x and y\n"
    "  --finess FILE     an official FINESS stock file (etalab cs1100507 format: latin-1,\n"
    "                    ';', structureet and geolocalisation lines); its positions override\n"
    "                    the extract's and resolve network FINESS numbers first; default\n"
    "                    none (the shipped extract only)\n"
    "  --report FILE     write the JSON build report (every input row loaded or rejected\n"
    "                    with its line and reason), also replaced atomically; `-` prints\n"
    "                    a summary a person reads on stdout instead (per file: rows,\n"
    "                    loaded, rejected, format, the first reasons); default none\n"
    "  --quiet           no progress lines on stderr (default: progress lines)\n"
    "  --help            this text\n"
    "\n"
    "Exit status: 0 built, 1 fatal error (one line `maillage build: FILE[:LINE]: reason`),\n"
    "2 usage error.\n";

static int usage_error(const char *format, const char *argument)
{
    fprintf(stderr, "maillage build: ");
    fprintf(stderr, format, argument);
    fprintf(stderr, " (see maillage build --help)\n");
    return 2;
}

/* Parses argv; returns 0, 1 for --help (done), or 2 on a usage error.
 * `installed_geodata` (PATH_MAX bytes) holds the default --geodata. */
static int parse_options(int argc, char **argv, BuildOptions *options, char *installed_geodata)
{
    for (int i = 0; i < argc; i++) {
        const char *option = argv[i];
        if (strcmp(option, "--help") == 0 || strcmp(option, "-h") == 0) {
            fputs(build_usage, stdout);
            return 1;
        }
        if (strcmp(option, "--quiet") == 0) {
            options->quiet = 1;
            continue;
        }
        const char **target = NULL;
        if (strcmp(option, "--network-format") == 0) {
            if (i + 1 >= argc)
                return usage_error("option %s needs a value", option);
            char message[256];
            if (import_format_parse(argv[++i], &options->network_format, message, sizeof message) !=
                0)
                return usage_error("%s", message);
            continue;
        }
        if (strcmp(option, "--geodata") == 0)
            target = &options->geodata;
        else if (strcmp(option, "--out") == 0)
            target = &options->out;
        else if (strcmp(option, "--finess") == 0)
            target = &options->finess;
        else if (strcmp(option, "--report") == 0)
            target = &options->report;
        else if (strcmp(option, "--network") != 0)
            return usage_error("unknown option '%s'", option);
        if (i + 1 >= argc || !argv[i + 1][0])
            return usage_error("option %s needs a value", option);
        const char *value = argv[++i];
        if (target) {
            if (*target)
                return usage_error("option %s given twice", option);
            *target = value;
        } else {
            options->networks[options->network_count++] = value;
        }
    }
    if (!options->geodata)
        options->geodata = install_paths_find("geodata", installed_geodata, PATH_MAX);
    if (!options->geodata)
        return usage_error("missing %s", "--geodata DIR");
    if (!options->out)
        return usage_error("missing %s", "--out FILE.sqlite");
    return 0;
}

int command_build(int argc, char **argv)
{
    BuildOptions options;
    memset(&options, 0, sizeof options);
    options.networks = calloc((size_t)(argc > 0 ? argc : 1), sizeof *options.networks);
    if (!options.networks) {
        fprintf(stderr, "maillage build: out of memory\n");
        return 1;
    }
    options.pack = dataset_pack;
    char installed_geodata[PATH_MAX];
    int parsed = parse_options(argc, argv, &options, installed_geodata);
    int status = parsed == 1 ? 0 : parsed == 2 ? 2 : build_run(&options);
    free(options.networks);
    return status;
}
