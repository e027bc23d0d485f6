/* longjob.h — the parts of zs-longjob (apis.md §9, seed 004 §4.8).
 *
 *   longjob.c the service: its module list (zs_longjob_service), run by main.c;
 *   jobs.c    the APIs (Submit/Cancel/Resume/Rerun/Update/Delete; Query is the generic one)
 *             and the job state machine, on the service loop thread;
 *   runner.c  the loop side of running jobs: starting Waiting jobs (longjob.concurrency at
 *             a time), workers' outcomes, taking over the jobs of dead nodes, stop;
 *   worker.c  one thread per running job, with its own bus client: runs the wrapped API
 *             (exactly once, by a request id fixed per run), a backup or a cleanup, and
 *             reports progress to svc-core and the outcome back to the loop;
 *   backup.c  the hot backup of every service's store (APIBackupDatabaseMsg).
 * Only the loop thread writes the store; workers talk to it over an inproc socket.
 *
 * Configuration (ZS_* overrides, config.h): longjob.concurrency (4: jobs running at once per
 * process), longjob.resend-ms (5000: re-send of an unanswered API request, same id),
 * longjob.suspend-after-ms (30000: unreachable owning service -> Suspended),
 * longjob.api-timeout (3600 s: no answer -> Failed), longjob.backup-step-delay-ms (0; tests
 * only: wait before each store copy).
 */
#ifndef ZS_LONGJOB_H
#define ZS_LONGJOB_H
#include "service.h"
#include <stdatomic.h>

#define LONGJOBS "longjobs"

extern const zs_resource_t zs_res_longjob;

extern const zs_service_def_t zs_longjob_service;   /* longjob.c */
extern const zs_module_t longjob_module;            /* jobs.c */

/* What a job runs, from its jobName. */
typedef enum { JOB_API, JOB_BACKUP, JOB_CLEANUP } job_kind_t;

/* The kind named by jobName (simple or fully qualified class name, or API name); sets *api
 * for JOB_API. Returns -1 when jobName names nothing we can run. */
int job_kind(const char *job_name, const zs_api_t **api);

/* The parameters a job runs with: jobData (JSON text or object) as a new object, or NULL
 * when it is neither (then *why says so). Absent jobData is {}. */
json_t *job_params(const json_t *job_data, const char **why);

/* ---- jobs.c: record helpers shared with runner.c (loop thread) ----------------------- */

/* Marks rec final (`state` Succeeded/Failed/Canceled) now: executeTime, lastOpDate, and
 * queues the "longjob.finished" event. Does not write rec. */
void job_finalize(zs_service_t *svc, json_t *rec, const char *state);
/* {"message","detail","cause"} as JSON text (new string), from an error object. */
char *job_failure_text(const char *message, const json_t *error);

/* ---- runner.c (loop thread) ---------------------------------------------------------- */

/* The runner, a module of its own listed after longjob_module: its create takes this
 * node's lock and the workers' outcome socket, its tick (once a second) adopts, schedules
 * and gives workers, it receives "node.dead" / "node.left". */
extern const zs_module_t runner_module;
/* Makes rec Running on this node now (new run id, backup target...) when fewer than
 * longjob.concurrency jobs of this node are Running in txn; returns true when it did. The
 * worker starts once the transaction has committed. */
bool runner_try_start(zs_service_t *svc, MDB_txn *txn, json_t *rec);
/* Makes rec Running again with the same run id (resume), its worker starting after commit. */
void runner_resume(zs_service_t *svc, json_t *rec);
/* Asks the worker of job `uuid` to stop at its next step (after commit). */
void runner_cancel(zs_service_t *svc, const char *uuid);
/* Tells svc-core the job's API call is over (its progress entries then expire). */
void runner_finish_progress(zs_service_t *svc, const char *api_id);

/* ---- worker.c (its own thread) ------------------------------------------------------- */

typedef struct {
    char uuid[33], run_id[33], api_id[33];
    char job_name[256];
    char target[1024];         /* backups: the final directory */
    job_kind_t kind;
    const zs_api_t *api;       /* JOB_API */
    json_t *params;            /* owned */
    json_t *caller;            /* owned, may be NULL */
    char done_endpoint[64];    /* inproc endpoint of the loop's outcome socket */
    atomic_bool cancel;        /* set by the loop: stop at the next step, as Canceled */
    atomic_bool stop;          /* set by the loop: the process stops; report nothing */
    pthread_t thread;
} worker_t;

/* Starts the thread. 0, or -1 (nothing started). On its end the thread pushes one
 * outcome message {uuid, runId, outcome: ok|failed|canceled|suspended, result|error} to
 * done_endpoint, unless `stop` was set. The loop joins it and frees it (worker_free). */
int worker_start(worker_t *w);
void worker_free(worker_t **w);

/* ---- backup.c (worker thread) -------------------------------------------------------- */

typedef struct {
    const char *job_uuid;
    const char *target;        /* final directory; must not exist yet */
    zs_bus_t *bus;             /* the worker thread's bus client: stores come through it */
    bool (*cancelled)(void *arg);
    void (*progress)(void *arg, int done, int total, const char *store);
    void *arg;
} backup_t;

/* Fetches a copy of every service's store from its owner (bus API CopyStore) into
 * target.partial-<job>, then writes a MANIFEST and renames it to target. Returns 0 (*result:
 * {path, stores, totalBytes, totalMs}), 1 canceled (nothing left behind), -1 failed (*error
 * naming the store that could not be copied; nothing left behind). */
int backup_run(const backup_t *b, json_t **result, json_t **error);
/* Removes what an interrupted run of job `job_uuid` left for `target` (any thread). */
void backup_discard(const char *target, const char *job_uuid);

#endif
