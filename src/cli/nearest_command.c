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
    "usage: maillage nearest [--db FILE.sqlite] --lat Y --lon X [--orpha CODE] [-k N]\n"
    "                        [--role ROLE[,ROLE...]] [--public enfants|adultes|tous]\n"
    "\n"
    "Prints the JSON answer of GET /api/nearest for these parameters: the k sites\n"
    "nearest to (lat, lon) by geodesic WGS84 distance, among those covering\n"
    "ORPHAcode CODE (directly or through a group), if given.\n"
    "\n"
    "options:\n"
    "  --db FILE.sqlite  the dataset (default: maillage.sqlite of the installed data\n"
    "                    directory, PREFIX/share/maillage; required when there is none)\n"
    "  --lat Y           latitude in WGS84 degrees, -90 to 90 (required)\n"
    "  --lon X           longitude in WGS84 degrees, -180 to 180 (required)\n"
    "  --orpha CODE      an ORPHAcode such as 232 or ORPHA:232 (default: every site)\n"
    "  -k, --k N         how many sites, 1 to 100 (default 5)\n"
    "  --role ROLE       one role or a comma-separated list: crmr_coordonnateur,\n"
    "                    crmr_constitutif, crmr, ccmr, cooperation, platform_member,\n"
    "                    platform_coordinator, medico_social, association (default: any)\n"
    "  --public P        enfants, adultes or tous: keeps the sites for that public,\n"
    "                    for all (tous) or unstated (default: any)\n"
    "  --help            this text\n"
    "\n"
    "Exit status: 0 printed, 1 bad input or unreadable database, 2 usage error.\n";

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
