/* query_command.h — commands that print an HTTP answer on the command line
 * (`maillage nearest`, `maillage coverage`).
 *
 * Owns: turning `--option value` pairs into the query parameters of one
 * route, loading the dataset, and printing the handler's body (or the
 * problem's detail). The answer is the one the server gives for the same
 * parameters, because it comes from the same handler. */
#ifndef MAILLAGE_QUERY_COMMAND_H
#define MAILLAGE_QUERY_COMMAND_H

#include "dataset/dataset.h"
#include "http/request.h"

#include <stddef.h>

/* An option of the command and the query parameter it sets; parameter
 * NULL marks an option the command reads itself (its value goes to
 * `QueryCommand.own_values`). */
typedef struct QueryOption {
    const char *option;
    const char *parameter;
} QueryOption;

typedef struct QueryCommand {
    const char *name;  /* "nearest" */
    const char *usage; /* printed by --help, and after usage errors */
    const QueryOption *options;
    size_t option_count;
    const char *own_values[4]; /* values of the parameter-less options, in table order */
} QueryCommand;

/* Parses argv (after the command name) into a GET Request for `path`:
 * --db FILE is required unless an installation holds maillage.sqlite
 * (install_paths.h; *database then points to static storage); the other
 * options fill request->parameters.
 * Returns 0 with *database set, 1 after --help (printed), or 2 after a
 * usage error (one line and the usage on stderr). */
int query_command_parse(QueryCommand *command, const char *path, int argc, char **argv,
                        const char **database, Request *request);

/* Loads the dataset of `database` into request->dataset. Returns it (the
 * caller frees it with dataset_free()), or NULL after one line on stderr. */
Dataset *query_command_load(const QueryCommand *command, const char *database, Request *request);

/* Prints the body of a 200 answer to stdout with a final newline and
 * returns 0; otherwise prints "maillage NAME: <the problem's detail>" to
 * stderr and returns 1. */
int query_command_print(const QueryCommand *command, const Response *response);

#endif
