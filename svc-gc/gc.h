/* gc.h — the GC service (zs-gc): GC jobs (apis.md §7, seed 004 §4.6), deferred cleanup that
 * a service could not finish at once. Services submit jobs over the bus (SubmitGCJob). The
 * service and its module are in gc.c; main.c runs it. Loop thread only (service.h). */
#ifndef ZS_GC_H
#define ZS_GC_H
#include "service.h"

extern const zs_service_def_t zs_gc_service;

#endif
