/* openapi_route.c — GET /api/openapi.json; see openapi_route.h. */
#include "http/openapi_route.h"

#include <assert.h>

void openapi_answer(const Request *request, Response *response, const char *rest)
{
    (void)request;
    (void)rest;
    assert(openapi_document_length > 0);
    buffer_append(&response->body, openapi_document, openapi_document_length);
    response_finish(response);
}
