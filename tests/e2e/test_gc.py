"""GC jobs (apis.md §7) and the durable cleanup of a deleted resource's tags (common/cleanup.h).

The harness runs svc-gc with gc.interval 1 s, gc.max-interval 2 s and gc.failing-attempts 3.
"""
import json
import os
import uuid as uuidlib

from zstest import wait_for


def _tagged_account(ctx, prefix):
    name = "%s-%s" % (prefix, uuidlib.uuid4().hex[:8])
    r = ctx.call("POST", "/accounts", {"params": {"name": name, "password": "password-123"},
                                       "systemTags": ["gc-test::%s" % name]})
    assert r.status == 200, r
    acc = r.body["inventory"]["uuid"]
    r = ctx.call("POST", "/user-tags", {"params": {"resourceType": "AccountVO", "resourceUuid": acc,
                                                   "tag": "owner::%s" % name}})
    assert r.status == 200, r
    assert len(_tags_of(ctx, acc)) == 2
    return acc


def _tags_of(ctx, resource_uuid):
    tags = []
    for kind in ("system-tags", "user-tags"):
        r = ctx.get("/%s?q=resourceUuid=%s" % (kind, resource_uuid))
        assert r.status == 200, r
        tags += r.body["inventories"]
    return tags


def _gc_jobs_for(ctx, resource_uuid):
    r = ctx.get("/gc-jobs?q=name~=%%25%s%%25" % resource_uuid)
    assert r.status == 200, r
    return r.body["inventories"]


def _job(ctx, job_uuid):
    r = ctx.get("/gc-jobs/" + job_uuid)
    assert r.status == 200, r
    return r.body["inventories"][0] if r.body["inventories"] else None


def test_deleted_account_loses_its_tags(ctx):
    acc = _tagged_account(ctx, "gc-fast")
    r = ctx.call("DELETE", "/accounts/" + acc)
    assert r.status == 200 and r.body == {}, r
    wait_for(lambda: _tags_of(ctx, acc) == [], 10, "the tags of the deleted account to go")
    # svc-tags was there: no GC job was needed
    assert _gc_jobs_for(ctx, acc) == []


def test_tags_down_cleanup_goes_through_a_gc_job(ctx):
    acc = _tagged_account(ctx, "gc-slow")
    ctx.stack.kill("tags")
    try:
        r = ctx.call("DELETE", "/accounts/" + acc)
        assert r.status == 200 and r.body == {}, r
        jobs = wait_for(lambda: _gc_jobs_for(ctx, acc), 10, "a GC job for the tags of " + acc)
        assert len(jobs) == 1, jobs
        job = jobs[0]
        assert job["type"] == "EventBased" and job["runnerClass"] == "tags:DeleteResourceTags", job
        assert json.loads(job["context"]) == {"resourceUuid": acc}, job
        assert job["status"] in ("Idle", "Processing"), job
        assert job["createDate"].endswith(("AM", "PM")), job
        gc_nodes = {n["uuid"] for n in ctx.get("/management-nodes?q=role=gc").body["inventories"]}
        assert job["managementNodeUuid"] in gc_nodes, (job, gc_nodes)
        # retried while svc-tags is away: attempts count, the error is kept
        failing = wait_for(lambda: (lambda j: j if j["attempts"] >= 3 else None)(_job(ctx, job["uuid"])),
                           20, "3 failed attempts")
        assert failing["status"] in ("Idle", "Processing") and "tags" in failing["lastError"], failing
        assert "nextRunDate" in failing, failing
        # 3 failures in a row (gc.failing-attempts) -> "gc.failing" -> a Warning notification
        notes = wait_for(lambda: ctx.get("/notifications?q=resourceUuid=%s" % job["uuid"]).body["inventories"],
                         10, "the gc.failing notification")
        assert notes[0]["type"] == "Warning" and notes[0]["resourceType"] == "GarbageCollectorVO", notes
        assert json.loads(notes[0]["arguments"])[1] == job["uuid"], notes
        # TriggerGCJob runs it now (and it fails again: svc-tags is still down)
        before = _job(ctx, job["uuid"])["attempts"]
        r = ctx.call("PUT", "/gc-jobs/%s/actions" % job["uuid"], {"triggerGCJob": {}})
        assert r.status == 200 and r.body == {}, r
        wait_for(lambda: _job(ctx, job["uuid"])["attempts"] > before, 5, "the triggered attempt")
        # svc-gc dies (-9): once the core declares its node dead, the new svc-gc adopts the job
        ctx.stack.kill("gc")
        ctx.stack.start("gc")

        def adopted_job():
            # the new svc-gc may not be listening yet: its APIs answer 503 until it is
            r = ctx.get("/gc-jobs/" + job["uuid"])
            if r.status == 503:
                return None
            assert r.status == 200, r
            j = r.body["inventories"][0]
            return j if j["managementNodeUuid"] != job["managementNodeUuid"] else None
        adopted = wait_for(adopted_job, 15, "the job to be adopted by the new svc-gc")
        live_gc = {n["uuid"] for n in ctx.get("/management-nodes?q=role=gc").body["inventories"]}
        assert adopted["managementNodeUuid"] in live_gc, (adopted, live_gc)
        assert job["managementNodeUuid"] not in live_gc
    finally:
        ctx.stack.start("tags")
        ctx.stack.wait_ready()
    # svc-tags is back ("node.joined" of role tags): the EventBased job runs and is Done
    done = wait_for(lambda: (lambda j: j if j["status"] == "Done" else None)(_job(ctx, job["uuid"])),
                    10, "the GC job to be Done")
    assert "nextRunDate" not in done and "lastError" not in done, done
    assert _tags_of(ctx, acc) == []
    # a Done job cannot be triggered
    r = ctx.call("PUT", "/gc-jobs/%s/actions" % job["uuid"], {"triggerGCJob": {}})
    assert r.status == 503 and "cannot trigger a finished GC job" in r.error["details"], r
    # DeleteGCJob, twice: the second time the uuid is unknown and it still succeeds
    for _ in range(2):
        r = ctx.call("DELETE", "/gc-jobs/" + job["uuid"])
        assert r.status == 200 and r.body == {}, r
    assert _job(ctx, job["uuid"]) is None


def test_cycle_based_sweep_job_is_rearmed_after_a_run(ctx):
    r = ctx.get("/gc-jobs?q=name=expire-done-gc-jobs")
    assert r.status == 200 and len(r.body["inventories"]) == 1, r
    job = r.body["inventories"][0]
    assert job["type"] == "CycleBased" and job["runnerClass"] == "gc:ExpireGCJobs", job
    before = job["attempts"]
    r = ctx.call("PUT", "/gc-jobs/%s/actions" % job["uuid"], {"triggerGCJob": {}})
    assert r.status == 200, r
    after = wait_for(lambda: (lambda j: j if j["attempts"] > before and j["status"] == "Idle" else None)(
        _job(ctx, job["uuid"])), 10, "the sweep to run")
    assert "lastError" not in after and "nextRunDate" in after, after


def test_gc_job_uuid_rules_and_permissions(ctx):
    unknown = uuidlib.uuid4().hex
    r = ctx.call("PUT", "/gc-jobs/%s/actions" % unknown, {"triggerGCJob": {}})
    assert r.status == 503 and r.error["code"] == "SYS.1003", r
    r = ctx.call("DELETE", "/gc-jobs/" + unknown)
    assert r.status == 200 and r.body == {}, r
    r = ctx.get("/gc-jobs/" + unknown)
    assert r.status == 200 and r.body == {"inventories": []}, r
    r = ctx.call("DELETE", "/gc-jobs/not-a-uuid")
    assert r.status == 400, r
    r = ctx.get("/gc-jobs?q=nosuchfield=1")
    assert r.status == 400, r
    r = ctx.get("/gc-jobs?q=status=Idle&count=true")
    assert r.status == 200 and r.body["total"] >= 1, r
    # GC jobs are the system's business: admins only
    name = "gc-normal-%s" % uuidlib.uuid4().hex[:8]
    ctx.create_account(name)
    s = ctx.login(name, "password-123")
    r = ctx.get("/gc-jobs", session=s)
    assert r.status == 503 and r.error["code"] == "ID.1002", r


def test_tags_and_gc_both_down_the_cleanup_waits_in_the_outbox(ctx):
    acc = _tagged_account(ctx, "gc-outbox")
    ctx.stack.kill("tags")
    ctx.stack.kill("gc")
    try:
        r = ctx.call("DELETE", "/accounts/" + acc)
        assert r.status == 200 and r.body == {}, r
        # the first attempt (after commit) found neither service
        log = os.path.join(ctx.stack.data, "log", "core.log")
        wait_for(lambda: "NEITHER svc-tags NOR svc-gc is reachable: the tags of deleted AccountVO %s" % acc
                 in open(log, errors="replace").read(), 10, "the core to give up its first attempt")
    finally:
        ctx.stack.start("gc")
    # the core keeps the cleanup in its own store and retries (cleanup.retry 2 s in the
    # harness): once svc-gc is back, the job appears
    def made():
        # the new svc-gc may not be listening yet: its APIs answer 503 until it is
        r = ctx.get("/gc-jobs?q=name~=%%25%s%%25" % acc)
        if r.status == 503:
            return None
        assert r.status == 200, r
        return r.body["inventories"]
    try:
        jobs = wait_for(made, 15, "the GC job made from the core's outbox")
        assert len(jobs) == 1 and jobs[0]["runnerClass"] == "tags:DeleteResourceTags", jobs
    finally:   # later tests need svc-tags, whatever happened here
        ctx.stack.start("tags")
    ctx.stack.wait_ready()
    wait_for(lambda: _job(ctx, jobs[0]["uuid"])["status"] == "Done", 10, "the GC job to be Done")
    assert _tags_of(ctx, acc) == []
    # nothing is retried twice: still one job
    assert len(_gc_jobs_for(ctx, acc)) == 1
