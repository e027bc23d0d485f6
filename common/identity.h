/* identity.h — one process per identity: a process refuses to start when a live process
 * already holds its store or its ipc endpoints, instead of silently taking them over.
 *
 * The locks are open-file-description locks (fcntl F_OFD_SETLK) on small files next to what
 * they guard: the kernel keeps them per open file, not per PID, so they are right across PID
 * namespaces (containers), and they vanish when the holder dies (no stale PID files).
 * Each lock file holds a line naming its holder (process, host, pid, PID namespace,
 * since), which the refusal quotes.
 *
 * Store (<store dir>/owner.lock): the instances of a service that share one LMDB environment
 * must live in one PID namespace of one kernel (LMDB keys its reader table by PID, so
 * processes of two PID namespaces would take each other's slots). The first instance claims
 * the store for its PID namespace; more instances of the same PID namespace join (LMDB
 * serializes their write transactions: one writer at a time); an instance of another PID
 * namespace or kernel is refused while any holder lives.
 *
 * Endpoint (<ipc socket path>.lock): exactly one process binds one ipc:// endpoint (ZeroMQ
 * would unlink and replace the live socket). tcp:// endpoints need no lock: the kernel
 * refuses a second bind of an address.
 *
 * The locks are held until the process exits (their descriptors are close-on-exec).
 * Threads: call from the main thread at start, before binding or opening the store.
 */
#ifndef ZS_IDENTITY_H
#define ZS_IDENTITY_H
#include "error.h"

/* Claims store directory `dir` (created with its parents, 0700, if missing) for `process`
 * ("zs-tags"). Returns 0, or -1 and, when `error` is not NULL, *error = SYS.1006 whose
 * details say why (naming the holder, or the file that could not be made or locked). */
int zs_identity_claim_store(const char *dir, const char *process, json_t **error);

/* Claims endpoint `endpoint` (only ipc:// ones lock anything) for `process`. Its directory
 * must exist. Returns 0, or -1 and *error (when not NULL) as above. */
int zs_identity_claim_endpoint(const char *endpoint, const char *process, json_t **error);

#endif
