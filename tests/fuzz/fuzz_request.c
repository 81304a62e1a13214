/* fuzz_request.c — libFuzzer target `request`: any request target against
 * the real route handlers, in-process.
 *
 * Input: the raw request target as libmicrohttpd hands it to http.c
 * ("/api/nearest?lat=48.8&lon=2.3&k=5", absolute-form, '*', anything).
 * It goes through request_target_parse() (path, percent-decoding, '+',
 * dot segments, NUL, UTF-8, the parameter limit), then the route table
 * and the handler, on the dataset of the test database (loaded once,
 * fuzz_support.h): so every parameter the API reads (lat, lon, k, bbox,
 * role, public, orpha, q, lang, limit, radius_km, level, filiere...) is
 * parsed and used as the server would. Checks: never a 5xx, errors are
 * problem+json, every JSON body is strict JSON (fuzz_support.h).
 * /api/coverage and /api/service-areas are answered only when
 * MAILLAGE_FUZZ_HEAVY_ROUTES=1: each new parameter set costs them
 * seconds of computation (22 s for the first service areas under the
 * sanitizers), which would take the fuzzer from ~19,000 inputs a second to
 * ~15; they parse orpha, role and public through site_parameters.c like
 * /api/nearest, and their own parameters are covered by their unit and
 * HTTP tests. The seed
 * corpus (tests/fuzz/request/) holds real-looking requests of every route;
 * request.dict the paths and parameter names. */
#include "fuzz_support.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int heavy_routes; /* MAILLAGE_FUZZ_HEAVY_ROUTES=1 */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *heavy = getenv("MAILLAGE_FUZZ_HEAVY_ROUTES");
    heavy_routes = heavy && strcmp(heavy, "1") == 0;
    fuzz_dataset();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *raw = fuzz_text(data, size);
    Response response;
    if (fuzz_answer_target(fuzz_dataset(), raw, !heavy_routes, &response))
        fuzz_check_response(&response);
    response_free(&response);
    free(raw);
    return 0;
}
