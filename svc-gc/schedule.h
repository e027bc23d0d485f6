/* schedule.h — when and where GC jobs run (apis.md §7).
 *
 * A job belongs to the svc-gc instance named by its managementNodeUuid; only that instance
 * runs it. A job is due when its nextRunDate has passed; running it marks it Processing with
 * a lease (nextRunDate = now + attempt timeout + 5 s, so an attempt whose outcome is lost is
 * simply run again) and hands the message to the runner thread (runner.h). Outcomes:
 *   success  TimeBased/EventBased -> Done (nextRunDate removed); CycleBased -> Idle, due again
 *            after its interval;
 *   failure  Idle, lastError set, due again after interval × 2^(failures-1) (capped at
 *            gc.max-interval seconds, default 3600; ±10 % jitter). After gc.failing-attempts
 *            (default 5) failures in a row, "gc.failing" {uuid, name, attempts, lastError} is
 *            published once (until the job succeeds again).
 * The interval is the job's own (`interval`, seconds) or gc.interval (default 60 s).
 * EventBased jobs also run as soon as their trigger event arrives ({topic, match}: every
 * member of match equals the event's; the default is "node.joined" of the target service's
 * role — the service came back). Jobs of a gc node that died or left, or whose node is not
 * among the live gc nodes the core knows, are adopted by this instance (on "node.dead" /
 * "node.left", at start and every gc.adopt-interval seconds, default 30).
 *
 * Everything runs on the service loop thread.
 */
#ifndef ZS_GC_SCHEDULE_H
#define ZS_GC_SCHEDULE_H
#include "service.h"

#define GC_JOBS "gcjobs"
#define GC_SWEEP_JOB "expire-done-gc-jobs"

/* The schedule, a module of svc-gc listed after the one that owns the GC jobs: its create
 * starts the runner, watches its outcomes and registers the CycleBased sweep of Done jobs;
 * its tick (once a second) runs what is due; it receives the node events (adoption and
 * EventBased triggers); orphans are also looked for at start and every gc.adopt-interval
 * seconds (again 2 s after the core could not list the live gc nodes). */
extern const zs_module_t sched_module;

/* True when an attempt of job `uuid` is running in this process. */
bool sched_in_flight(zs_service_t *svc, const char *uuid);
/* Epoch ms until which a job handed to the runner now stays Processing. */
int64_t sched_lease_until(void);
/* The job's interval in ms. */
int64_t sched_interval_ms(const json_t *rec);
/* Hands job `rec` (stolen) to the runner once the current batch has committed. Loop thread,
 * inside a handler. */
void sched_run_after_commit(zs_service_t *svc, json_t *rec);

/* Splits runnerClass "<service>:<message>" into service[32] and api[64]; 0, or -1 when it
 * does not name an API of that service. */
int sched_runner_class(const char *runner_class, char service[32], char api[64]);

#endif
