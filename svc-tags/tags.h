/* tags.h — the tag service (zs-tags): system and user tags (apis.md §3), one module in
 * tags.c; main.c runs it. Its handlers run on the service loop thread (service.h). */
#ifndef ZS_TAGS_H
#define ZS_TAGS_H
#include "service.h"

extern const zs_service_def_t zs_tags_service;

#endif
