/* query_command.c — options to query parameters, answers to stdout; see
 * query_command.h. */
#include "cli/query_command.h"
#include "cli/install_paths.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

int query_command_parse(QueryCommand *command, const char *path, int argc, char **argv,
                        const char **database, Request *request)
{
    memset(request, 0, sizeof *request);
    request->method = "GET";
    request->path = path;
    *database = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(command->usage, stdout);
            return 1;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "maillage %s: option '%s' needs a value\n%s", command->name, argv[i],
                    command->usage);
            return 2;
        }
        if (strcmp(argv[i], "--db") == 0) {
            *database = argv[++i];
            continue;
        }
        const QueryOption *option = NULL;
        size_t own = 0;
        for (size_t o = 0; o < command->option_count && !option; o++) {
            if (strcmp(argv[i], command->options[o].option) == 0)
                option = &command->options[o];
            else if (!command->options[o].parameter)
                own++;
        }
        if (!option) {
            fprintf(stderr, "maillage %s: unknown option '%s'\n%s", command->name, argv[i],
                    command->usage);
            return 2;
        }
        if (!option->parameter) {
            if (own < sizeof command->own_values / sizeof command->own_values[0])
                command->own_values[own] = argv[i + 1];
            i++;
            continue;
        }
        if (request->parameter_count == REQUEST_MAX_PARAMETERS) {
            fprintf(stderr, "maillage %s: too many options\n", command->name);
            return 2;
        }
        request->parameters[request->parameter_count++] =
            (QueryParameter){option->parameter, argv[++i]};
    }
    static char installed[PATH_MAX]; /* one command per process */
    if (!*database)
        *database = install_paths_find("maillage.sqlite", installed, sizeof installed);
    if (!*database) {
        fprintf(stderr, "maillage %s: --db is required\n%s", command->name, command->usage);
        return 2;
    }
    return 0;
}

Dataset *query_command_load(const QueryCommand *command, const char *database, Request *request)
{
    char error[1024];
    Dataset *dataset = dataset_load(database, NULL, error, sizeof error);
    if (!dataset)
        fprintf(stderr, "maillage %s: %s\n", command->name, error);
    request->dataset = dataset;
    return dataset;
}

/* Prints the "detail" member of a problem body (a JSON string) to stderr. */
static void print_problem_detail(const char *name, const char *body)
{
    const char *detail = strstr(body, "\"detail\":\"");
    fprintf(stderr, "maillage %s: ", name);
    if (!detail) {
        fprintf(stderr, "%s\n", body);
        return;
    }
    for (const char *p = detail + 10; *p && *p != '"'; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            fputc(*p == 'n' ? '\n' : *p == 't' ? '\t' : *p, stderr);
        } else {
            fputc(*p, stderr);
        }
    }
    fputc('\n', stderr);
}

int query_command_print(const QueryCommand *command, const Response *response)
{
    if (response->status != 200 || !response->body.data) {
        print_problem_detail(command->name, response->body.data ? response->body.data : "");
        return 1;
    }
    fwrite(response->body.data, 1, response->body.length, stdout);
    if (response->body.length == 0 || response->body.data[response->body.length - 1] != '\n')
        fputc('\n', stdout);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "maillage %s: cannot write the answer\n", command->name);
        return 1;
    }
    return 0;
}
