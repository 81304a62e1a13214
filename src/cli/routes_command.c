/* routes_command.c — `maillage routes`: the HTTP route table as text.
 *
 * Owns: printing the server's one route table (http/routes.c) so that
 * tools and tests (tests/http/openapi.test.mjs checks that the OpenAPI
 * document describes every route) read the table the server dispatches
 * through rather than parsing its source. Invariant: one line per route,
 * in matching order: METHOD PATH MATCH KIND, MATCH `exact` or `prefix`,
 * KIND `handler` or `page`. */
#include "cli/commands.h"
#include "http/routes.h"

#include <stdio.h>
#include <string.h>

static const char routes_usage[] =
    "usage: maillage routes\n"
    "\n"
    "Prints the route table of `maillage serve`, one route a line, in matching\n"
    "order: method, path, `exact` or `prefix` (the path is a prefix of the paths\n"
    "it answers), `handler` (the API, tiles, health and metrics) or `page` (a file\n"
    "of the web directory). Paths no route matches are static files of the web\n"
    "directory. docs/openapi.json (served at /api/openapi.json) describes them.\n"
    "\n"
    "options:\n"
    "  --help    this text\n";

int command_routes(int argc, char **argv)
{
    if (argc > 0 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
        fputs(routes_usage, stdout);
        return 0;
    }
    if (argc > 0) {
        fprintf(stderr, "maillage routes: unknown option '%s'\n%s", argv[0], routes_usage);
        return 2;
    }
    size_t count;
    const Route *routes = routes_all(&count);
    for (size_t i = 0; i < count; i++)
        printf("%s %s %s %s\n", routes[i].method, routes[i].path,
               routes[i].match == ROUTE_MATCH_EXACT ? "exact" : "prefix",
               routes[i].handler ? "handler" : "page");
    return 0;
}
