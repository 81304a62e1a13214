/* commands.h — the subcommands of the one `maillage` binary.
 *
 * Each takes the arguments after its own name and returns the process exit
 * status: 0 success, 1 a fatal error (one line on stderr naming the file and
 * line when there is one), 2 a usage error. Each prints its help (every
 * option with its default) on stdout for `--help` and returns 0;
 * `maillage help COMMAND` is COMMAND --help. */
#ifndef MAILLAGE_COMMANDS_H
#define MAILLAGE_COMMANDS_H

int command_build(int argc, char **argv);    /* build_command.c */
int command_serve(int argc, char **argv);    /* serve_command.c */
int command_nearest(int argc, char **argv);  /* nearest_command.c */
int command_coverage(int argc, char **argv); /* coverage_command.c */
int command_version(int argc, char **argv);  /* version_command.c */
int command_routes(int argc, char **argv);   /* routes_command.c */

#endif
