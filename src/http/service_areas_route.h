/* service_areas_route.h — /api/service-areas: one cell per position of a
 * covering site, clipped to the land (index/service_areas.h computes them). */
#ifndef MAILLAGE_SERVICE_AREAS_ROUTE_H
#define MAILLAGE_SERVICE_AREAS_ROUTE_H

#include "http/request.h"

/* The /api/service-areas route handler (routes.h): GeoJSON
 * FeatureCollection, or a 400 problem for bad input (coverage_route.h's
 * selection rules). */
void api_service_areas(const Request *request, Response *response, const char *rest);

#endif
