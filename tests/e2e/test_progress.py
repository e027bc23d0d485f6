"""Task progress (apis.md §4): GetTaskProgress shapes, refusals, progress of a long job under
its apiId, and expiry after the API finished."""
import json
import uuid

from zstest import wait_for


def test_bad_and_unknown_api_ids(ctx):
    r = ctx.get("/task-progresses/not-a-uuid")
    assert r.status == 400 and r.error["code"] == "SYS.1007" and "apiId" in r.error["details"], r
    r = ctx.get("/task-progresses/%s" % ("A" * 32))
    assert r.status == 400, r
    r = ctx.get("/task-progresses/%s?all=maybe" % uuid.uuid4().hex)
    assert r.status == 400 and "all" in r.error["details"], r
    for q in ("", "?all=false", "?all=true"):
        r = ctx.get("/task-progresses/%s%s" % (uuid.uuid4().hex, q))
        assert r.status == 200 and r.body == {"inventories": []}, r
    r = ctx.stack.request("GET", "/zstack/v1/task-progresses/%s" % uuid.uuid4().hex)
    assert r.status == 400, r   # a session is needed


def finished_tag_job(ctx):
    data = {"resourceType": "VmInstanceVO", "resourceUuid": uuid.uuid4().hex, "tag": "progress::x"}
    r = ctx.call("POST", "/longjobs", {"params": {"jobName": "APICreateSystemTagMsg", "jobData": data}})
    assert r.status == 200, r
    inv = r.body["inventory"]
    wait_for(lambda: ctx.get("/longjobs/" + inv["uuid"]).body["inventories"][0]["state"] == "Succeeded",
             20, "the job to succeed")
    return inv


def test_long_job_progress_under_its_api_id(ctx):
    inv = finished_tag_job(ctx)
    r = ctx.get("/task-progresses/%s?all=true" % inv["apiId"], headers={"X-JSON-Schema": "true"})
    assert r.status == 200, r
    roots = r.body["inventories"]
    assert len(roots) == 1, roots
    root = roots[0]
    assert root["taskName"] == "org.zstack.header.tag.APICreateSystemTagMsg" and root["type"] == "Task", root
    assert "parentUuid" not in root and isinstance(root["time"], int) and len(root["taskUuid"]) == 32, root
    assert [(s["type"], s["content"], s["parentUuid"]) for s in root["subTasks"]] == \
        [("Progress", "100", root["taskUuid"])], root
    tp = "org.zstack.header.core.progress.TaskProgressInventory"
    assert r.body["schema"] == {"inventories[0]": tp, "inventories[0].subTasks[0]": tp}, r
    chain = ctx.get("/task-progresses/%s" % inv["apiId"]).body["inventories"]
    assert [e["taskUuid"] for e in chain] == [root["taskUuid"], root["subTasks"][0]["taskUuid"]], chain
    assert "subTasks" not in chain[0], chain


def test_entries_expire_after_their_api_finished(ctx):
    """Entries go progress.keep-after-finish seconds after FinishProgress (300 by default;
    2 here, core restarted with the knob and restarted back afterwards)."""
    ctx.stack.env["ZS_PROGRESS_KEEP_AFTER_FINISH"] = "2"
    ctx.stack.restart("core")
    try:
        wait_for(lambda: ctx.get("/task-progresses/%s" % uuid.uuid4().hex).status == 200, 20, "core back")
        inv = finished_tag_job(ctx)
        assert ctx.get("/task-progresses/%s" % inv["apiId"]).body["inventories"] != []
        wait_for(lambda: ctx.get("/task-progresses/%s?all=true" % inv["apiId"]).body == {"inventories": []},
                 10, "the finished job's progress to expire")
        # the job itself stays
        assert json.loads(ctx.get("/longjobs/" + inv["uuid"]).body["inventories"][0]["jobResult"])["inventory"]
    finally:
        del ctx.stack.env["ZS_PROGRESS_KEEP_AFTER_FINISH"]
        ctx.stack.restart("core")
        wait_for(lambda: ctx.get("/task-progresses/%s" % uuid.uuid4().hex).status == 200, 20, "core back")
