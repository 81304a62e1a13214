/* service_areas_route.c — /api/service-areas; see service_areas_route.h.
 * (Not built yet: answers 404 until index/service_areas.c lands.) */
#include "http/service_areas_route.h"

void api_service_areas(const Request *request, Response *response, const char *rest)
{
    (void)request;
    (void)rest;
    response_problem(response, 404, "Not found", "/api/service-areas is not available yet");
}
