/* main.c — entry point: dispatches to the subcommands of commands.h.
 *
 * Owns: the command table (name, function, one-line summary), the general
 * usage text, `maillage help [COMMAND]` and `maillage --version`.
 * Invariant: every command of the table answers `--help` with its full
 * help and exit 0, so `maillage help COMMAND` is exactly that text (and
 * tools/make-man.mjs builds the man page from it). */
#include "cli/commands.h"

#include <stdio.h>
#include <string.h>

typedef struct Command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} Command;

static const Command COMMANDS[] = {
    {"build", command_build, "build the SpatiaLite dataset from the reference data"},
    {"serve", command_serve, "serve the map page, the JSON API and the vector tiles"},
    {"nearest", command_nearest, "print the /api/nearest answer: the nearest sites"},
    {"coverage", command_coverage, "print the /api/coverage figures (json, csv, geojson)"},
    {"version", command_version, "print the versions of maillage and its libraries"},
    {"routes", command_routes, "print the HTTP route table"},
    {"help", NULL, "print the help of a command"},
};

#define COMMAND_COUNT (sizeof COMMANDS / sizeof COMMANDS[0])

static const char usage_head[] =
    "usage: maillage <command> [options]\n"
    "       maillage help <command>\n"
    "       maillage --version\n"
    "\n"
    "maillage finds the nearest centre of the French rare-disease care network for\n"
    "a condition and serves the network as a JSON API, vector tiles and a map page.\n"
    "\n"
    "commands:\n";

static const char usage_tail[] =
    "\n"
    "`maillage help <command>` (or `maillage <command> --help`) describes every\n"
    "option of a command with its default.\n";

static void print_usage(FILE *out)
{
    fputs(usage_head, out);
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        fprintf(out, "  %-9s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    fputs(usage_tail, out);
}

static const Command *find_command(const char *name)
{
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (strcmp(COMMANDS[i].name, name) == 0)
            return &COMMANDS[i];
    return NULL;
}

/* `maillage help [COMMAND]`: the general usage, or COMMAND --help. */
static int help(int argc, char **argv)
{
    if (argc == 0) {
        print_usage(stdout);
        return 0;
    }
    const Command *command = find_command(argv[0]);
    if (argc > 1 || !command) {
        fprintf(stderr, "maillage help: unknown command '%s'\n", argv[argc > 1 ? 1 : 0]);
        print_usage(stderr);
        return 2;
    }
    if (!command->run) {
        print_usage(stdout);
        return 0;
    }
    char option[] = "--help";
    char *help_argv[] = {option, NULL};
    return command->run(1, help_argv);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
        return help(0, NULL);
    if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0)
        return command_version(argc - 2, argv + 2);
    const Command *command = find_command(name);
    if (!command) {
        fprintf(stderr, "maillage: unknown command '%s'\n", name);
        print_usage(stderr);
        return 2;
    }
    if (!command->run)
        return help(argc - 2, argv + 2);
    return command->run(argc - 2, argv + 2);
}
