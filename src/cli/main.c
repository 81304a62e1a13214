/* main.c — entry point: dispatches to the subcommands of commands.h. */
#include "cli/commands.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: maillage <command> [options]\n"
    "\n"
    "commands:\n"
    "  build    --geodata DIR --out FILE.sqlite [--network CSV]... [--finess FILE]\n"
    "           [--report FILE.json]\n"
    "  serve    --db FILE.sqlite [--listen 127.0.0.1:8080] [--web DIR] [--threads N]\n"
    "  nearest  --db FILE.sqlite --lat Y --lon X [--orpha CODE] [-k N]\n"
    "  coverage --db FILE.sqlite (--orpha CODE | --filiere NAME) --radius-km R\n"
    "           [--level departement|region] [--format json|csv|geojson]\n"
    "\n"
    "`maillage <command> --help` describes every option of a command.\n";

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "build") == 0)
        return command_build(argc - 2, argv + 2);
    if (strcmp(argv[1], "serve") == 0)
        return command_serve(argc - 2, argv + 2);
    if (strcmp(argv[1], "nearest") == 0)
        return command_nearest(argc - 2, argv + 2);
    if (strcmp(argv[1], "coverage") == 0)
        return command_coverage(argc - 2, argv + 2);
    fprintf(stderr, "maillage: unknown command '%s'\n%s", argv[1], usage);
    return 2;
}
