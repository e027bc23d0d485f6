/* store_copy.h — the owner side of backups: every service answers the bus-only API
 * "CopyStore" with a consistent copy of its own store, shipped in bounded chunks. The backup
 * job (svc-longjob/backup.c) thus never opens another process's LMDB environment, so it works
 * with services on other hosts and in other PID namespaces.
 *
 * Protocol (one copy per backup job and store):
 *   request {"job": <id, 1..64 chars of [0-9a-zA-Z-]>, "offset": n}
 *   reply   {"store": name, "size": bytes, "sha256": hex, "offset": n,
 *            "data": base64 of at most ZS_STORE_COPY_CHUNK bytes from offset}
 * The first request of a job (offset 0) makes the copy: mdb_env_copyfd2 with compaction (one
 * read transaction) into an unlinked temporary file in the store's directory, hashed with
 * SHA-256. Later requests read it at their offset (a repeated offset is answered again, so a
 * lost reply can be asked for again). The copy is dropped when the job asks at offset == size
 * (an empty chunk: "I have it all"), when
 * it stays unread for ZS_STORE_COPY_IDLE_MS, or when the process exits. At most
 * ZS_STORE_COPY_SLOTS copies exist at once; more are refused (SYS.1006 busy).
 * The loop thread makes the copy itself: requests wait while it runs (LMDB copies a few
 * hundred MB a second).
 *
 * Threads: the loop thread (it is a handler).
 */
#ifndef ZS_STORE_COPY_H
#define ZS_STORE_COPY_H
#include "service.h"

#define ZS_STORE_COPY_CHUNK (512 * 1024)
#define ZS_STORE_COPY_SLOTS 4
#define ZS_STORE_COPY_IDLE_MS (120 * 1000)

/* The handler of "CopyStore" (registered by service_builtins.c for every service). */
json_t *zs_store_copy_handle(zs_call_t *call, json_t **error);

#endif
