/* openapi.h — the OpenAPI 3 document of the suite, generated from the API table
 * (GET /zstack/v1/openapi.json). Thread-safe. */
#ifndef ZS_GATEWAY_OPENAPI_H
#define ZS_GATEWAY_OPENAPI_H
#include <jansson.h>

/* A new reference to the document. */
json_t *openapi_document(void);

#endif
