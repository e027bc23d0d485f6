"""Long jobs (apis.md §9): jobs wrapping an API of the suite, the state machine and its
refusals, rerun, update, delete, visibility, suspend/resume."""
import json
import uuid

from zstest import wait_for

VM = "VmInstanceVO"


def submit(ctx, job_name, job_data, session=None, headers=None, **extra):
    params = {"jobName": job_name, "jobData": job_data}
    params.update(extra)
    return ctx.call("POST", "/longjobs", {"params": params}, session=session, headers=headers)


def job(ctx, juuid, session=None):
    r = ctx.get("/longjobs/" + juuid, session=session)
    assert r.status == 200, r
    return r.body["inventories"][0] if r.body["inventories"] else None


def wait_state(ctx, juuid, states, timeout=20):
    states = (states,) if isinstance(states, str) else states
    return wait_for(lambda: (lambda j: j if j and j["state"] in states else None)(job(ctx, juuid)),
                    timeout, "longjob %s to be %s" % (juuid, "/".join(states)))


def tag_job(ctx, tag, ruuid=None, as_text=True, **extra):
    data = {"resourceType": VM, "resourceUuid": ruuid or uuid.uuid4().hex, "tag": tag}
    return submit(ctx, "APICreateSystemTagMsg", json.dumps(data) if as_text else data, **extra)


def test_job_wrapping_a_tag_api_succeeds_with_its_result(ctx):
    ruuid = uuid.uuid4().hex
    api_id = uuid.uuid4().hex
    data = {"resourceType": VM, "resourceUuid": ruuid, "tag": "lj::wrapped"}
    r = ctx.call("POST", "/longjobs", {"params": {"jobName": "APICreateSystemTagMsg", "jobData": json.dumps(data),
                                                  "name": "wrap", "description": "a tag through a long job",
                                                  "targetResourceUuid": ruuid}},
                 headers={"X-Job-UUID": api_id}, wait=False)
    assert r.status == 202, r
    r = ctx.poll(r.body["location"], headers={"X-JSON-Schema": "true"})
    assert r.status == 200, r
    inv = r.body["inventory"]
    assert r.body["schema"] == {"inventory": "org.zstack.header.longjob.LongJobInventory"}, r
    assert inv["state"] in ("Running", "Waiting"), inv
    assert inv["apiId"] == api_id and inv["jobName"] == "APICreateSystemTagMsg", inv
    assert inv["name"] == "wrap" and inv["targetResourceUuid"] == ruuid, inv
    assert json.loads(inv["jobData"])["tag"] == "lj::wrapped", inv
    assert "caller" not in inv and "accountUuid" not in inv and "runId" not in inv, inv
    done = wait_state(ctx, inv["uuid"], ("Succeeded", "Failed"))
    assert done["state"] == "Succeeded", done
    result = json.loads(done["jobResult"])
    assert result["inventory"]["tag"] == "lj::wrapped" and result["inventory"]["resourceUuid"] == ruuid, result
    assert done["executeTime"] >= 1, done
    nodes = ctx.get("/management-nodes?q=role=longjob").body["inventories"]
    assert done["managementNodeUuid"] in [n["uuid"] for n in nodes], (done, nodes)
    # the API ran exactly once, as the submitter
    tags = ctx.get("/system-tags?q=resourceUuid=%s" % ruuid).body["inventories"]
    assert [t["tag"] for t in tags] == ["lj::wrapped"], tags


def test_fully_qualified_name_and_object_job_data(ctx):
    r = tag_job(ctx, "lj::object", as_text=False)
    assert r.status == 200, r
    assert wait_state(ctx, r.body["inventory"]["uuid"], ("Succeeded", "Failed"))["state"] == "Succeeded"
    data = {"resourceType": VM, "resourceUuid": uuid.uuid4().hex, "tags": ["a::1", "b::2"]}
    r = submit(ctx, "org.zstack.header.tag.APICreateSystemTagsMsg", data)
    assert r.status == 200, r
    done = wait_state(ctx, r.body["inventory"]["uuid"], ("Succeeded", "Failed"))
    assert sorted(t["tag"] for t in json.loads(done["jobResult"])["inventories"]) == ["a::1", "b::2"], done


def test_job_whose_api_fails_ends_failed_with_message_detail_cause(ctx):
    data = {"resourceType": "AccountVO", "resourceUuid": uuid.uuid4().hex, "tag": "x"}
    r = submit(ctx, "APICreateSystemTagMsg", data)
    assert r.status == 200, r
    done = wait_state(ctx, r.body["inventory"]["uuid"], ("Succeeded", "Failed"))
    assert done["state"] == "Failed", done
    result = json.loads(done["jobResult"])
    assert set(result) == {"message", "detail", "cause"}, result
    assert result["cause"]["code"] == "SYS.1003" and data["resourceUuid"] in result["detail"], result
    assert done["executeTime"] >= 1, done


def test_submit_validates_like_the_wrapped_api(ctx):
    r = submit(ctx, "APINoSuchThingMsg", {})
    assert r.status == 400 and r.error["details"] == "APINoSuchThingMsg is not an API", r
    r = submit(ctx, "APICreateSystemTagMsg", {"resourceType": VM, "tag": "x"})
    assert r.status == 400 and r.error["code"] == "SYS.1007" and "resourceUuid" in r.error["details"], r
    r = submit(ctx, "APICreateSystemTagMsg", "{not json")
    assert r.status == 400 and "jobData" in r.error["details"], r
    r = submit(ctx, "APICreateSystemTagMsg", "[1, 2]")
    assert r.status == 400 and "jobData" in r.error["details"], r
    r = submit(ctx, "APIQueryAccountMsg", {})            # synchronous: not a job
    assert r.status == 400 and "long job" in r.error["details"], r
    r = submit(ctx, "APISubmitLongJobMsg", {"jobName": "x"})   # no jobs of jobs
    assert r.status == 400, r
    r = submit(ctx, "APIBackupDatabaseMsg", {"path": "relative/dir"})
    assert r.status == 400 and "path" in r.error["details"], r
    r = submit(ctx, "APIBackupDatabaseMsg", {"what": 1})
    assert r.status == 400, r
    r = ctx.call("POST", "/longjobs", {"params": {"jobData": "{}"}})
    assert r.status == 400 and "jobName" in r.error["details"], r


def test_refused_transitions_of_finished_jobs(ctx):
    ok = tag_job(ctx, "lj::refusals").body["inventory"]["uuid"]
    wait_state(ctx, ok, "Succeeded")
    bad = submit(ctx, "APICreateSystemTagMsg",
                 {"resourceType": "AccountVO", "resourceUuid": uuid.uuid4().hex, "tag": "x"}).body["inventory"]["uuid"]
    wait_state(ctx, bad, "Failed")
    for juuid, word in ((ok, "succeeded"), (bad, "failed")):
        r = ctx.call("PUT", "/longjobs/%s/actions" % juuid, {"cancelLongJob": {}})
        assert r.status == 503 and r.error["details"] == "cannot cancel longjob that is " + word, r
        r = ctx.call("PUT", "/longjobs/%s/actions" % juuid, {"resumeLongJob": {}})
        assert r.status == 503 and "cannot resume" in r.error["details"], r
    r = ctx.call("PUT", "/longjobs/%s/actions" % uuid.uuid4().hex, {"cancelLongJob": {}})
    assert r.status == 503 and r.error["code"] == "SYS.1003", r


def test_rerun_update_delete(ctx):
    ruuid = uuid.uuid4().hex
    first = tag_job(ctx, "lj::rerun", ruuid, systemTags=["ljtag::attached"]).body["inventory"]
    done = wait_state(ctx, first["uuid"], "Succeeded")
    attached = ctx.get("/system-tags?q=resourceUuid=%s" % first["uuid"]).body["inventories"]
    assert [t["tag"] for t in attached] == ["ljtag::attached"] and attached[0]["resourceType"] == "LongJobVO", attached
    r = ctx.call("PUT", "/longjobs/%s/actions" % first["uuid"], {"rerunLongJob": {}})
    assert r.status == 200, r
    again = r.body["inventory"]
    assert again["uuid"] == first["uuid"] and again["apiId"] != first["apiId"], (first, again)
    assert again["state"] in ("Waiting", "Running") and "jobResult" not in again, again
    redone = wait_state(ctx, first["uuid"], ("Succeeded", "Failed"))
    assert redone["state"] == "Succeeded", redone
    # a system tag is idempotent: the rerun answers the same tag
    assert json.loads(redone["jobResult"])["inventory"]["uuid"] == json.loads(done["jobResult"])["inventory"]["uuid"]
    r = ctx.call("PUT", "/longjobs/%s/actions" % first["uuid"],
                 {"updateLongJob": {"name": "renamed", "description": "new words"}})
    assert r.status == 200 and r.body["inventory"]["name"] == "renamed", r
    assert r.body["inventory"]["description"] == "new words" and r.body["inventory"]["state"] == "Succeeded", r
    r = ctx.call("DELETE", "/longjobs/" + first["uuid"])
    assert r.status == 200 and r.body == {}, r
    assert job(ctx, first["uuid"]) is None
    # resource.deleted took the job's own tags with it
    wait_for(lambda: ctx.get("/system-tags?q=resourceUuid=%s" % first["uuid"]).body["inventories"] == [],
             10, "the deleted job's tags to go")
    r = ctx.call("DELETE", "/longjobs/" + first["uuid"])   # unknown: already deleted
    assert r.status == 200, r


def test_normal_accounts_see_and_touch_only_their_jobs(ctx):
    for n in ("ljalice", "ljbob"):
        ctx.create_account(n)
    alice, bob = ctx.login("ljalice", "password-123"), ctx.login("ljbob", "password-123")
    r = tag_job(ctx, "lj::alice", session=alice)
    assert r.status == 200, r
    juuid = r.body["inventory"]["uuid"]
    wait_state(ctx, juuid, "Succeeded")
    assert [j["uuid"] for j in ctx.get("/longjobs", session=alice).body["inventories"]] == [juuid]
    assert ctx.get("/longjobs", session=bob).body["inventories"] == []
    r = ctx.call("PUT", "/longjobs/%s/actions" % juuid, {"updateLongJob": {"name": "x"}}, session=bob)
    assert r.status == 503 and r.error["code"] == "ID.1002", r
    r = ctx.call("DELETE", "/longjobs/" + juuid, session=bob)
    assert r.status == 503 and r.error["code"] == "ID.1002", r
    r = submit(ctx, "APIBackupDatabaseMsg", {}, session=alice)
    assert r.status == 503 and r.error["code"] == "ID.1002", r
    # the wrapped API ran as alice: the tag is hers
    tag_uuid = json.loads(job(ctx, juuid)["jobResult"])["inventory"]["uuid"]
    assert [t["uuid"] for t in ctx.get("/system-tags?q=uuid=%s" % tag_uuid, session=alice).body["inventories"]] == [tag_uuid]


def test_unreachable_service_suspends_then_resume_runs_once(ctx):
    """An API job whose service is down cannot be canceled once sent (LONG_JOB.1003); it ends
    Suspended, cannot be deleted or rerun then, and resumes to Succeeded when the service is back."""
    from test_longjob_backup import tune_longjob
    tune_longjob(ctx)
    ctx.stack.kill("tags")
    try:
        ruuid = uuid.uuid4().hex
        r = tag_job(ctx, "lj::resumed", ruuid)
        assert r.status == 200, r
        juuid = r.body["inventory"]["uuid"]
        assert r.body["inventory"]["state"] == "Running", r
        r = ctx.call("PUT", "/longjobs/%s/actions" % juuid, {"cancelLongJob": {}})
        assert r.status == 503 and r.error["code"] == "LONG_JOB.1003", r
        for action in ("rerunLongJob", "resumeLongJob"):
            r = ctx.call("PUT", "/longjobs/%s/actions" % juuid, {action: {}})
            assert r.status == 503, r
        r = ctx.call("DELETE", "/longjobs/" + juuid)
        assert r.status == 503 and "cannot delete longjob that is running" in r.error["details"], r
        susp = wait_state(ctx, juuid, "Suspended")
        assert "tags" in json.loads(susp["jobResult"])["detail"], susp
    finally:
        ctx.stack.start("tags")
    wait_for(lambda: ctx.get("/system-tags?limit=1").status == 200, 20, "tags back")
    r = ctx.call("PUT", "/longjobs/%s/actions" % juuid, {"resumeLongJob": {}})
    assert r.status == 200 and r.body["inventory"]["state"] == "Running", r
    done = wait_state(ctx, juuid, ("Succeeded", "Failed"))
    assert done["state"] == "Succeeded", done
    tags = ctx.get("/system-tags?q=resourceUuid=%s" % ruuid).body["inventories"]
    assert [t["tag"] for t in tags] == ["lj::resumed"], tags


def test_cancel_waiting_job_and_concurrency(ctx):
    """With every slot taken by slow backups, a further job waits; canceling it ends it at once."""
    from test_longjob_backup import tune_longjob, backup
    tune_longjob(ctx, concurrency=1)
    try:
        slow = backup(ctx)
        waiting = tag_job(ctx, "lj::waiting").body["inventory"]
        assert slow["state"] == "Running" and waiting["state"] == "Waiting", (slow, waiting)
        r = ctx.call("PUT", "/longjobs/%s/actions" % waiting["uuid"], {"cancelLongJob": {}})
        assert r.status == 200 and r.body == {}, r
        assert job(ctx, waiting["uuid"])["state"] == "Canceled"
        queued = tag_job(ctx, "lj::queued").body["inventory"]
        assert queued["state"] == "Waiting", queued
        wait_state(ctx, slow["uuid"], "Succeeded", 30)
        wait_state(ctx, queued["uuid"], "Succeeded", 20)
    finally:
        tune_longjob(ctx)
