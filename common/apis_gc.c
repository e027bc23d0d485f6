/* apis_gc.c — API rows and resources of svc-gc. Its APIs are not built yet: with no row,
 * the gateway answers their paths with 404 (see the open issues). */
#include "api.h"

const zs_resource_t *const zs_resources_gc[] = {NULL};
const zs_api_t zs_apis_gc[] = {
    {NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, NULL, NULL},
};
