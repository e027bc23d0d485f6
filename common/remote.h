/* remote.h — a small pool of threads that talk to other services on behalf of one thread
 * (a service's loop), so that thread never waits on the network.
 *
 * The owner posts a task: work(bus, arg) runs on a pool thread, with that thread's own bus
 * client (bus.h: a zs_bus_t belongs to one thread), and may block on other services for as
 * long as its calls' deadlines allow. When it returns, the task is finished; the owner
 * learns it through zs_remote_signal() (readable while finished tasks wait) and runs their
 * done(owner_arg, arg, true) callbacks on its own thread with zs_remote_finish(). Tasks are
 * taken oldest first by whichever pool thread is free, so one slow peer holds only the
 * threads whose tasks wait on it.
 *
 * Threads: zs_remote_new, _post, _signal, _finish, _pending and _destroy belong to the
 * owner's thread; work runs on a pool thread and must touch only its arg and its bus (and
 * LMDB through read transactions of its own, if it must).
 */
#ifndef ZS_REMOTE_H
#define ZS_REMOTE_H
#include "bus.h"
#include <stdbool.h>

typedef struct zs_remote zs_remote_t;

typedef void (zs_remote_work_fn)(zs_bus_t *bus, void *arg);
/* `ran` is false when the pool was destroyed before the task ran (then only release arg). */
typedef void (zs_remote_done_fn)(void *owner_arg, void *arg, bool ran);

/* Starts `threads` (>= 1) pool threads. Returns the pool, or NULL (logged). Needs the
 * configuration loaded (each thread makes its bus client). */
zs_remote_t *zs_remote_new(size_t threads);

/* Stops the pool: tasks not started are done with ran = false (owner_arg NULL); waits for
 * the threads, each of which finishes the task it is running (bounded by its calls'
 * deadlines); finished tasks whose done has not run are done with ran = true, owner_arg
 * NULL. Nulls *self_p. */
void zs_remote_destroy(zs_remote_t **self_p);

/* Queues a task. Never blocks; the pool does not bound the queue (the owner counts what it
 * posted, see zs_remote_pending). */
void zs_remote_post(zs_remote_t *self, zs_remote_work_fn *work, zs_remote_done_fn *done, void *arg);

/* A socket that is readable while finished tasks wait for zs_remote_finish (for a poller;
 * borrowed). */
zsock_t *zs_remote_signal(zs_remote_t *self);

/* Runs done(owner_arg, arg, true) for every finished task, in the order they finished, and
 * drains the signal. Returns how many. */
size_t zs_remote_finish(zs_remote_t *self, void *owner_arg);

/* Tasks posted and not yet finished by zs_remote_finish. */
size_t zs_remote_pending(const zs_remote_t *self);

#endif
