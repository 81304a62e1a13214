/* nearest_command.c — `maillage nearest`: the /api/nearest answer on the
 * command line.
 *
 * Owns: turning command-line options into the query parameters of
 * /api/nearest and printing the handler's body. Invariants: the JSON printed
 * on stdout (followed by one newline) is byte for byte the body the server
 * answers for the same parameters, because it comes from the same handler
 * (api_nearest); bad input exits 1 with the problem's detail on stderr;
 * a usage error exits 2. */
#include "cli/commands.h"
#include "cli/query_command.h"
#include "dataset/dataset.h"
#include "http/api.h"

#include <stdio.h>
#include <string.h>

static const char nearest_usage[] =
    "usage: maillage nearest --db FILE.sqlite --lat Y --lon X [--orpha CODE] [-k N]\n"
    "                        [--role ROLE[,ROLE...]] [--public enfants|adultes|tous]\n"
    "\n"
    "Prints the JSON answer of GET /api/nearest for these parameters: the k sites\n"
    "(default 5, at most 100) nearest to (lat, lon) by geodesic WGS84 distance,\n"
    "among those covering ORPHAcode CODE (directly or through a group), if given.\n";

static const QueryOption nearest_options[] = {
    {"--lat", "lat"}, {"--lon", "lon"},   {"--orpha", "orpha"},   {"-k", "k"},
    {"--k", "k"},     {"--role", "role"}, {"--public", "public"},
};

int command_nearest(int argc, char **argv)
{
    QueryCommand command = {"nearest",
                            nearest_usage,
                            nearest_options,
                            sizeof nearest_options / sizeof nearest_options[0],
                            {NULL}};
    Request request;
    const char *database = NULL;
    int status = query_command_parse(&command, "/api/nearest", argc, argv, &database, &request);
    if (status != 0)
        return status == 1 ? 0 : status;
    Dataset *dataset = query_command_load(&command, database, &request);
    if (!dataset)
        return 1;
    Response response;
    response_init(&response);
    api_nearest(&request, &response, "");
    int exit_status = query_command_print(&command, &response);
    response_free(&response);
    dataset_free(dataset);
    return exit_status;
}
