/* libFuzzer harness: what the gateway does with a hostile request before anything reaches
 * the bus — the JSON body parser and depth bound, the query-string parser, routing, and
 * parameter validation against the API table. Input: "<path>\n<query string>\n<body>". */
#include "api.h"
#include "../../gateway/http.c"
#include "../../gateway/route.c"
#include "fuzz_route.h"
#include <stdint.h>

static const char *const methods[] = {"GET", "POST", "PUT", "DELETE"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    char *path = text, *qs = strchr(path, '\n'), *body = NULL;
    if (qs) {
        *qs++ = '\0';
        body = strchr(qs, '\n');
        if (body)
            *body++ = '\0';
    }
    const char *why = NULL;
    json_t *params = http_parse_query(qs, &why);
    char err[256];
    json_t *doc = body ? http_parse_json(body, strlen(body), err) : NULL;
    fuzz_route_and_validate(methods[size % 4], path, doc, params);
    json_decref(params);
    json_decref(doc);
    free(text);
    return 0;
}
