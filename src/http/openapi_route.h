/* openapi_route.h — GET /api/openapi.json: the OpenAPI 3.1 description of
 * the HTTP API.
 *
 * Owns: answering with docs/openapi.json. The document is embedded in the
 * binary at build time (the Makefile turns docs/openapi.json into
 * build/gen/openapi_document.c with tools/embed-file.sh) rather than read
 * from --web or a docs folder at start: the binary stays self-contained
 * (an installed or copied binary always describes exactly the API it
 * serves, whatever directory it runs from), and there is no file to fail
 * to open. Invariant: the body is the document's bytes, unchanged;
 * tests/http/openapi.test.mjs checks that it validates as OpenAPI 3.1 and
 * that it describes every route of routes.c. Its /metrics label is
 * `static`: a fixed document, like the page files. */
#ifndef MAILLAGE_OPENAPI_ROUTE_H
#define MAILLAGE_OPENAPI_ROUTE_H

#include "http/request.h"

#include <stddef.h>

/* docs/openapi.json, defined by the generated build/gen/openapi_document.c. */
extern const unsigned char openapi_document[];
extern const size_t openapi_document_length;

/* The /api/openapi.json route (routes.h): 200 application/json with the
 * document, the API's Cache-Control and an ETag (so 304 and gzip as for
 * every answer); 503 only when the body cannot be allocated. */
void openapi_answer(const Request *request, Response *response, const char *rest);

#endif
