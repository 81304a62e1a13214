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

/* Option name -> query parameter name. */
static const struct {
    const char *option;
    const char *parameter;
} nearest_options[] = {
    {"--lat", "lat"}, {"--lon", "lon"},   {"--orpha", "orpha"},   {"-k", "k"},
    {"--k", "k"},     {"--role", "role"}, {"--public", "public"},
};

/* Prints the "detail" member of a problem body (a JSON string) to stderr. */
static void print_problem_detail(const char *body)
{
    const char *detail = strstr(body, "\"detail\":\"");
    fputs("maillage nearest: ", stderr);
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

static int parse_arguments(int argc, char **argv, const char **database, Request *request)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(nearest_usage, stdout);
            return 1;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "maillage nearest: option '%s' needs a value\n%s", argv[i],
                    nearest_usage);
            return 2;
        }
        if (strcmp(argv[i], "--db") == 0) {
            *database = argv[++i];
            continue;
        }
        const char *parameter = NULL;
        for (size_t o = 0; o < sizeof nearest_options / sizeof nearest_options[0]; o++)
            if (strcmp(argv[i], nearest_options[o].option) == 0)
                parameter = nearest_options[o].parameter;
        if (!parameter) {
            fprintf(stderr, "maillage nearest: unknown option '%s'\n%s", argv[i], nearest_usage);
            return 2;
        }
        if (request->parameter_count == REQUEST_MAX_PARAMETERS) {
            fprintf(stderr, "maillage nearest: too many options\n");
            return 2;
        }
        request->parameters[request->parameter_count++] = (QueryParameter){parameter, argv[++i]};
    }
    if (!*database) {
        fprintf(stderr, "maillage nearest: --db is required\n%s", nearest_usage);
        return 2;
    }
    return 0;
}

int command_nearest(int argc, char **argv)
{
    Request request;
    memset(&request, 0, sizeof request);
    request.method = "GET";
    request.path = "/api/nearest";
    const char *database = NULL;
    int status = parse_arguments(argc, argv, &database, &request);
    if (status != 0)
        return status == 1 ? 0 : status;
    char error[1024];
    Dataset *dataset = dataset_load(database, NULL, error, sizeof error);
    if (!dataset) {
        fprintf(stderr, "maillage nearest: %s\n", error);
        return 1;
    }
    request.dataset = dataset;
    Response response;
    response_init(&response);
    api_nearest(&request, &response, "");
    int exit_status = 0;
    if (response.status == 200 && response.body.data) {
        fwrite(response.body.data, 1, response.body.length, stdout);
        fputc('\n', stdout);
        if (fflush(stdout) != 0) {
            fprintf(stderr, "maillage nearest: cannot write the answer\n");
            exit_status = 1;
        }
    } else {
        print_problem_detail(response.body.data ? response.body.data : "");
        exit_status = 1;
    }
    response_free(&response);
    dataset_free(dataset);
    return exit_status;
}
