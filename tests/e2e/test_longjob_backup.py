"""The built-in long jobs: APIBackupDatabaseMsg (progress, cancel, kill -9 and restart, restore
into a second stack — docs/backup.md) and APICleanupExpiredMsg."""
import json
import os
import shutil
import signal
import tempfile
import uuid

import zstest
from zstest import wait_for

STEP_DELAY_MS = 300   # longjob.backup-step-delay-ms: every store copy waits this long first


def tune_longjob(ctx, concurrency=4):
    """Restarts zs-longjob with the test knobs (slow backups, quick suspension) when needed."""
    want = {"ZS_LONGJOB_BACKUP_STEP_DELAY_MS": str(STEP_DELAY_MS), "ZS_LONGJOB_SUSPEND_AFTER_MS": "3000",
            "ZS_LONGJOB_CONCURRENCY": str(concurrency)}
    if all(ctx.stack.env.get(k) == v for k, v in want.items()):
        return
    ctx.stack.env.update(want)
    ctx.stack.restart("longjob")
    wait_longjob_up(ctx)


def wait_longjob_up(ctx):
    wait_for(lambda: ctx.get("/longjobs?limit=1").status == 200, 20, "zs-longjob to answer")


def job(ctx, juuid):
    r = ctx.get("/longjobs/" + juuid)
    assert r.status == 200, r
    return r.body["inventories"][0] if r.body["inventories"] else None


def wait_state(ctx, juuid, states, timeout=30):
    states = (states,) if isinstance(states, str) else states
    return wait_for(lambda: (lambda j: j if j and j["state"] in states else None)(job(ctx, juuid)),
                    timeout, "longjob %s to be %s" % (juuid, "/".join(states)))


def backup(ctx, path=None):
    data = {"path": path} if path else {}
    r = ctx.call("POST", "/longjobs", {"params": {"jobName": "APIBackupDatabaseMsg", "jobData": data,
                                                   "name": "backup"}})
    assert r.status == 200, r
    return r.body["inventory"]


def progress(ctx, api_id, all_=False):
    r = ctx.get("/task-progresses/%s?all=%s" % (api_id, "true" if all_ else "false"))
    assert r.status == 200, r
    return r.body["inventories"]


def copied_stores(ctx, api_id):
    """How many stores the running backup has copied, from its newest progress entry."""
    entries = progress(ctx, api_id)
    return entries[-1].get("currentStep", 0) if entries else 0


def stores_of(data_dir):
    return sorted(d for d in os.listdir(data_dir) if os.path.isfile(os.path.join(data_dir, d, "data.mdb")))


def leftovers(directory):
    return [d for d in os.listdir(directory) if ".partial-" in d] if os.path.isdir(directory) else []


def test_backup_reports_progress_and_completes(ctx):
    tune_longjob(ctx)
    inv = backup(ctx)
    assert inv["state"] == "Running", inv
    # while it runs: all=false is the newest step under its root; all=true the whole tree
    wait_for(lambda: copied_stores(ctx, inv["apiId"]) >= 1, 20, "a first store to be copied")
    chain = progress(ctx, inv["apiId"])
    assert chain[0]["type"] == "Task" and chain[0]["taskName"] == "APIBackupDatabaseMsg", chain
    assert chain[-1]["type"] == "Progress" and chain[-1]["parentUuid"] == chain[0]["taskUuid"], chain
    assert 0 < int(chain[-1]["content"]) <= 100 and isinstance(chain[-1]["time"], int), chain
    assert job(ctx, inv["uuid"])["state"] == "Running"
    tree = progress(ctx, inv["apiId"], all_=True)
    assert len(tree) == 1 and tree[0]["taskUuid"] == chain[0]["taskUuid"], tree
    assert [s["type"] for s in tree[0]["subTasks"]] == ["Progress"] * len(tree[0]["subTasks"]), tree
    done = wait_state(ctx, inv["uuid"], ("Succeeded", "Failed"))
    assert done["state"] == "Succeeded", done
    result = json.loads(done["jobResult"])
    path = result["path"]
    assert path.startswith(os.path.join(ctx.stack.data, "backups") + "/"), result
    manifest = json.load(open(os.path.join(path, "MANIFEST")))
    assert manifest["job"] == inv["uuid"], manifest
    names = [s["name"] for s in manifest["stores"]]
    assert names == stores_of(ctx.stack.data) and {"core", "tags", "broker", "longjob"} <= set(names), names
    for s in manifest["stores"]:
        assert os.path.getsize(os.path.join(path, s["name"], "data.mdb")) == s["bytes"] > 0, s
    assert leftovers(os.path.dirname(path)) == []
    final = progress(ctx, inv["apiId"])
    assert final[-1]["content"] == "100" and final[-1]["currentStep"] == final[-1]["totalSteps"] == len(names), final


def test_cancel_running_backup_leaves_nothing(ctx):
    tune_longjob(ctx)
    target = os.path.join(ctx.stack.data, "backups", "canceled-" + uuid.uuid4().hex[:8])
    inv = backup(ctx, target)
    wait_for(lambda: copied_stores(ctx, inv["apiId"]) >= 1, 20, "a first store to be copied")
    r = ctx.call("PUT", "/longjobs/%s/actions" % inv["uuid"], {"cancelLongJob": {}})
    assert r.status == 200 and r.body == {}, r
    assert job(ctx, inv["uuid"])["state"] in ("Canceling", "Canceled")
    done = wait_state(ctx, inv["uuid"], ("Canceled", "Succeeded"))
    assert done["state"] == "Canceled" and done["executeTime"] >= 1, done
    assert not os.path.exists(target) and leftovers(os.path.dirname(target)) == []
    r = ctx.call("PUT", "/longjobs/%s/actions" % inv["uuid"], {"cancelLongJob": {}})
    assert r.status == 200, r                                  # canceling a canceled job is fine
    r = ctx.call("PUT", "/longjobs/%s/actions" % inv["uuid"], {"resumeLongJob": {}})
    assert r.status == 503, r
    r = ctx.call("DELETE", "/longjobs/" + inv["uuid"])
    assert r.status == 200, r


def test_kill_during_backup_then_restart_finishes_it(ctx):
    tune_longjob(ctx)
    target = os.path.join(ctx.stack.data, "backups", "killed-" + uuid.uuid4().hex[:8])
    inv = backup(ctx, target)
    wait_for(lambda: copied_stores(ctx, inv["apiId"]) >= 1, 20, "a first store to be copied")
    old_node = job(ctx, inv["uuid"])["managementNodeUuid"]
    ctx.stack.kill("longjob", signal.SIGKILL)
    ctx.stack.start("longjob")
    wait_longjob_up(ctx)
    # the new process adopts the job (the dead one's lock is free) and runs it from scratch
    done = wait_state(ctx, inv["uuid"], ("Succeeded", "Failed", "Canceled"), 40)
    assert done["state"] == "Succeeded", done
    assert done["managementNodeUuid"] != old_node, done
    manifest = json.load(open(os.path.join(target, "MANIFEST")))
    assert manifest["job"] == inv["uuid"] and leftovers(os.path.dirname(target)) == [], manifest
    # and a new backup works
    again = backup(ctx)
    assert wait_state(ctx, again["uuid"], ("Succeeded", "Failed"))["state"] == "Succeeded"


def test_restore_brings_back_the_data(ctx):
    """docs/backup.md: back up, change data, restore into a fresh data dir of a second stack."""
    ruuid = uuid.uuid4().hex
    r = ctx.call("POST", "/system-tags", {"params": {"resourceType": "VmInstanceVO", "resourceUuid": ruuid,
                                                     "tag": "restore::before"}})
    assert r.status == 200, r
    before_uuid = r.body["inventory"]["uuid"]
    inv = backup(ctx)
    done = wait_state(ctx, inv["uuid"], ("Succeeded", "Failed"))
    assert done["state"] == "Succeeded", done
    path = json.loads(done["jobResult"])["path"]
    r = ctx.call("DELETE", "/tags/" + before_uuid)
    assert r.status == 200, r
    r = ctx.call("POST", "/system-tags", {"params": {"resourceType": "VmInstanceVO", "resourceUuid": ruuid,
                                                     "tag": "restore::after"}})
    assert r.status == 200, r
    assert [t["tag"] for t in ctx.get("/system-tags?q=resourceUuid=%s" % ruuid).body["inventories"]] == ["restore::after"]

    data2 = tempfile.mkdtemp(prefix="zs-e2e-restore-")
    for name in json.load(open(os.path.join(path, "MANIFEST")))["stores"]:
        os.makedirs(os.path.join(data2, name["name"]))
        shutil.copyfile(os.path.join(path, name["name"], "data.mdb"), os.path.join(data2, name["name"], "data.mdb"))
    second = zstest.Stack(ctx.stack.bin, data2)
    try:
        second.start_all()
        ctx2 = zstest.Context(second)
        ctx2.admin = ctx2.login()
        tags = ctx2.get("/system-tags?q=resourceUuid=%s" % ruuid).body["inventories"]
        assert [(t["uuid"], t["tag"]) for t in tags] == [(before_uuid, "restore::before")], tags
        # the restored long job record came back too, as it was when the copy was taken
        assert ctx2.get("/longjobs/" + inv["uuid"]).body["inventories"][0]["jobName"] == "APIBackupDatabaseMsg"
    finally:
        problems = second.stop()
        reports = second.sanitizer_reports()
    assert problems == [] and reports == [], (problems, reports)
    shutil.rmtree(data2, ignore_errors=True)


def test_cleanup_expired_reports_per_service(ctx):
    r = ctx.call("POST", "/longjobs", {"params": {"jobName": "APICleanupExpiredMsg"}})
    assert r.status == 200, r
    done = wait_state(ctx, r.body["inventory"]["uuid"], ("Succeeded", "Failed"))
    assert done["state"] == "Succeeded", done
    services = json.loads(done["jobResult"])["services"]
    assert {"core", "tags", "broker", "longjob"} <= set(services), services
    assert isinstance(services["core"]["taskProgressesDeleted"], int), services
    r = ctx.call("POST", "/longjobs", {"params": {"jobName": "APICleanupExpiredMsg", "jobData": {"x": 1}}})
    assert r.status == 400, r


def test_backup_is_private_and_refuses_control_characters(ctx):
    """Backups hold password hashes: directories 0700, files 0600. A path with a newline or
    another control character is refused before anything runs."""
    inv = backup(ctx)
    done = wait_state(ctx, inv["uuid"], ("Succeeded", "Failed"))
    assert done["state"] == "Succeeded", done
    path = json.loads(done["jobResult"])["path"]
    for root, dirs, files in os.walk(path):
        assert os.stat(root).st_mode & 0o777 == 0o700, root
        for f in files:
            assert os.stat(os.path.join(root, f)).st_mode & 0o777 == 0o600, (root, f)
    for bad in ("/tmp/zs-backup\nforged line", "/tmp/zs-backup\x1b[31m", "/tmp/a\tb", "/tmp/a\x7f"):
        r = ctx.call("POST", "/longjobs", {"params": {"jobName": "APIBackupDatabaseMsg", "jobData": {"path": bad}}})
        assert r.status == 400 and "control characters" in r.error["details"], (bad, r)
        assert not os.path.exists(bad)


def test_backup_missing_a_store_fails_naming_it(ctx):
    """Every store comes from its owner: with svc-gc down the backup fails, says which store,
    and leaves nothing behind — it never reports Succeeded without every store."""
    tune_longjob(ctx)
    target = os.path.join(ctx.stack.data, "backups", "no-gc-" + uuid.uuid4().hex[:8])
    ctx.stack.kill("gc", signal.SIGTERM)
    try:
        inv = backup(ctx, target)
        done = wait_state(ctx, inv["uuid"], ("Succeeded", "Failed"), 60)
        assert done["state"] == "Failed", done
        assert "copying store gc failed" in json.dumps(done), done
        assert not os.path.exists(target) and leftovers(os.path.dirname(target)) == []
    finally:
        ctx.stack.start("gc")
    wait_for(lambda: ctx.get("/gc-jobs?limit=1").status == 200, 20, "zs-gc to answer")
