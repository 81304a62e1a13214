/* routes.c — the route table; see routes.h. */
#include "http/routes.h"

#include "http/api.h"
#include "http/coverage_route.h"
#include "http/openapi_route.h"
#include "http/service_areas_route.h"
#include "http/tile_routes.h"

#include <assert.h>
#include <string.h>

/* clang-format off */
static const Route ROUTES[] = {
    /* method  path                 match               label              handler          page */
    {"GET", "/healthz",          ROUTE_MATCH_EXACT,  ROUTE_HEALTHZ,     api_health,      NULL, 0},
    {"GET", "/api/nearest",      ROUTE_MATCH_EXACT,  ROUTE_NEAREST,     api_nearest,     NULL, 0},
    {"GET", "/api/structures",   ROUTE_MATCH_EXACT,  ROUTE_STRUCTURES,  api_structures,  NULL, 0},
    {"GET", "/api/structures/",  ROUTE_MATCH_PREFIX, ROUTE_STRUCTURE,   api_structure,   NULL, 0},
    {"GET", "/api/conditions",   ROUTE_MATCH_EXACT,  ROUTE_CONDITIONS,  api_conditions,  NULL, 0},
    {"GET", "/api/places",       ROUTE_MATCH_EXACT,  ROUTE_PLACES,      api_places,      NULL, 0},
    {"GET", "/api/coverage",     ROUTE_MATCH_EXACT,  ROUTE_COVERAGE,    api_coverage,    NULL, 0},
    {"GET", "/api/service-areas", ROUTE_MATCH_EXACT, ROUTE_SERVICE_AREAS, api_service_areas, NULL, 0},
    {"GET", "/api/openapi.json", ROUTE_MATCH_EXACT,  ROUTE_STATIC,      openapi_answer,  NULL, 0},
    {"GET", "/tiles.json",       ROUTE_MATCH_EXACT,  ROUTE_TILES,       tile_catalogue,  NULL, 0},
    {"GET", "/tiles/",           ROUTE_MATCH_PREFIX, ROUTE_TILES,       tile_answer,     NULL, 0},
    {"GET", "/metrics",          ROUTE_MATCH_EXACT,  ROUTE_METRICS,     metrics_answer,  NULL, 0},
    {"GET", "/",                 ROUTE_MATCH_EXACT,  ROUTE_STATIC,      NULL, "/index.html", 0},
    {"GET", "/embed",            ROUTE_MATCH_EXACT,  ROUTE_STATIC,      NULL, "/embed.html", 1},
    {"GET", "/embed/",           ROUTE_MATCH_EXACT,  ROUTE_STATIC,      NULL, "/embed.html", 1},
    {"GET", "/embed.html",       ROUTE_MATCH_EXACT,  ROUTE_STATIC,      NULL, "/embed.html", 1},
};
/* clang-format on */

#define ROUTE_COUNT (sizeof ROUTES / sizeof ROUTES[0])

const Route *routes_find(const char *path, const char **rest)
{
    for (size_t i = 0; i < ROUTE_COUNT; i++) {
        const Route *route = &ROUTES[i];
        if (route->match == ROUTE_MATCH_EXACT) {
            if (strcmp(path, route->path) == 0) {
                *rest = path + strlen(path);
                return route;
            }
        } else {
            size_t length = strlen(route->path);
            if (strncmp(path, route->path, length) == 0) {
                *rest = path + length;
                return route;
            }
        }
    }
    *rest = NULL;
    return NULL;
}

const Route *routes_all(size_t *count)
{
    *count = ROUTE_COUNT;
    return ROUTES;
}

size_t routes_check(void)
{
    for (size_t i = 0; i < ROUTE_COUNT; i++) {
        const Route *route = &ROUTES[i];
        assert(strcmp(route->method, "GET") == 0);
        assert(route->path[0] == '/');
        assert((route->handler != NULL) != (route->page != NULL));
        assert(route->match == ROUTE_MATCH_EXACT || route->path[strlen(route->path) - 1] == '/');
        assert(!route->embed || route->page);
        (void)route;
    }
    return ROUTE_COUNT;
}
