"""Notifications (apis.md §5): made from bus events, queried, marked read, deleted, and sent to
notification.webhook-url through the broker's durable outbox.

Node deaths are caused for real: extra zs-tags processes (sharing the tags store, bound to
endpoints nobody sends to) are started, then killed -9; with the harness's 1 s heartbeat the
core declares them dead after 6 s.
"""
import json
import os
import signal
import subprocess
import time
import uuid as uuidlib

from zstest import Receiver, wait_for

_dead = {}   # node uuid -> notification inventory, made once per run


def _tags_nodes(ctx):
    r = ctx.get("/management-nodes?q=role=tags")
    assert r.status == 200, r
    return {n["uuid"] for n in r.body["inventories"]}


def _dead_node_notifications(ctx, count=3):
    """Starts `count` extra zs-tags processes, kills them -9, returns their notifications."""
    if _dead:
        return _dead
    before = _tags_nodes(ctx)
    procs = []
    log = open(os.path.join(ctx.stack.data, "log", "tags-extra.log"), "ab")
    try:
        for i in range(count):
            env = dict(ctx.stack.env)
            env["ZS_BUS_TAGS_BIND"] = "ipc://%s/bus/tags-extra-%d.ipc" % (ctx.stack.data, i)
            procs.append(subprocess.Popen([os.path.join(ctx.stack.bin, "zs-tags")], env=env,
                                          stdout=log, stderr=subprocess.STDOUT))
        extra = wait_for(lambda: (lambda n: n if len(n) == count else None)(_tags_nodes(ctx) - before),
                         10, "the extra tags nodes to join")
    finally:
        for p in procs:
            p.send_signal(signal.SIGKILL)
            p.wait(timeout=30)
        log.close()
    killed_at = int(time.time() * 1000)

    def notes():
        r = ctx.get("/notifications?q=resourceUuid?=%s" % ",".join(extra))
        assert r.status == 200, r
        return r.body["inventories"] if len(r.body["inventories"]) == count else None
    for n in wait_for(notes, 20, "node.dead notifications"):
        assert n["time"] >= killed_at - 1000, n
        _dead[n["resourceUuid"]] = n
    return _dead


def test_dead_node_makes_a_notification_and_a_webhook(ctx):
    hook = Receiver(port=ctx.stack.notification_hook_port)
    try:
        notes = _dead_node_notifications(ctx)
        for node, n in notes.items():
            assert n["name"] == "managementNode" and n["type"] == "Error", n
            assert n["sender"] == "system" and n["status"] == "Unread", n
            assert n["resourceType"] == "ManagementNodeVO" and n["resourceUuid"] == node, n
            assert n["content"].count("%s") == 2, n
            assert json.loads(n["arguments"]) == [node, "tags"], n
            assert isinstance(n["time"], int) and n["createDate"].endswith(("AM", "PM")), n
            assert "accountUuid" not in n and "webhookPending" not in n, n
        # every new notification is POSTed to notification.webhook-url
        wanted = set(notes)
        end = time.time() + 20
        while wanted and time.time() < end:
            hit = hook.next(timeout=max(0.1, end - time.time()))
            inv = (hit["body"] or {}).get("inventory", {})
            if inv.get("resourceUuid") in wanted:
                assert hit["headers"]["x-job-uuid"] == inv["uuid"], hit
                assert inv["uuid"] == notes[inv["resourceUuid"]]["uuid"] and inv["type"] == "Error", inv
                wanted.discard(inv["resourceUuid"])
        assert not wanted, "no webhook for the notifications of %s" % wanted
    finally:
        hook.close()


def test_query_by_type_status_and_time(ctx):
    notes = _dead_node_notifications(ctx)
    uuids = ",".join(n["uuid"] for n in notes.values())
    t0 = min(n["time"] for n in notes.values())
    r = ctx.get("/notifications?q=uuid?=%s&q=type=Error&q=status=Unread&q=time>=%d" % (uuids, t0))
    assert r.status == 200 and len(r.body["inventories"]) == len(notes), r
    r = ctx.get("/notifications?q=uuid?=%s&q=time<%d" % (uuids, t0))
    assert r.body["inventories"] == [], r
    r = ctx.get("/notifications?q=uuid?=%s&q=type=Info" % uuids)
    assert r.body["inventories"] == [], r
    r = ctx.get("/notifications?q=type=Error&count=true")
    assert r.status == 200 and r.body["total"] >= len(notes), r
    r = ctx.get("/notifications?q=color=red")
    assert r.status == 400, r
    # X-JSON-Schema names ZStack's inventory class
    r = ctx.get("/notifications/" + next(iter(notes.values()))["uuid"], headers={"X-JSON-Schema": "true"})
    assert r.body["schema"]["inventories[0]"] == "org.zstack.core.notification.NotificationInventory", r


def test_normal_accounts_see_none_of_the_system_notifications(ctx):
    notes = _dead_node_notifications(ctx)
    name = "notes-%s" % uuidlib.uuid4().hex[:8]
    ctx.create_account(name)
    s = ctx.login(name, "password-123")
    r = ctx.get("/notifications", session=s)
    assert r.status == 200 and r.body["inventories"] == [], r
    some = next(iter(notes.values()))["uuid"]
    # what a caller cannot see is, for them, not there: "deleting" it changes nothing
    r = ctx.call("DELETE", "/notifications?uuids=" + some, session=s)
    assert r.status == 200, r
    assert len(ctx.get("/notifications/" + some).body["inventories"]) == 1


def test_update_status_and_delete_with_both_list_forms(ctx):
    notes = [n["uuid"] for n in _dead_node_notifications(ctx).values()]
    a, b, c = notes[:3]
    r = ctx.call("PUT", "/notifications/actions",
                 {"updateNotificationsStatus": {"uuids": [a, b], "status": "Read"}})
    assert r.status == 200 and r.body == {}, r
    r = ctx.get("/notifications?q=uuid?=%s,%s,%s&q=status=Read" % (a, b, c))
    assert sorted(n["uuid"] for n in r.body["inventories"]) == sorted([a, b]), r
    r = ctx.call("PUT", "/notifications/actions",
                 {"updateNotificationsStatus": {"uuids": [a], "status": "Gone"}})
    assert r.status == 400, r
    r = ctx.call("PUT", "/notifications/actions", {"updateNotificationsStatus": {"uuids": [], "status": "Read"}})
    assert r.status == 400, r
    # comma form
    r = ctx.call("DELETE", "/notifications?uuids=%s,%s" % (a, b))
    assert r.status == 200 and r.body == {}, r
    r = ctx.get("/notifications?q=uuid?=%s,%s,%s" % (a, b, c))
    assert [n["uuid"] for n in r.body["inventories"]] == [c], r
    # repeated form, with an unknown uuid (deleting what is not there succeeds)
    r = ctx.call("DELETE", "/notifications?uuids=%s&uuids=%s" % (c, uuidlib.uuid4().hex))
    assert r.status == 200, r
    assert ctx.get("/notifications/" + c).body["inventories"] == []
    r = ctx.call("DELETE", "/notifications")
    assert r.status == 400, r
    _dead.clear()


def test_ticket_approval_and_execution_notify_the_submitter(ctx):
    if "ticket" not in ctx.stack.services:
        return
    import test_ticket as tk
    w = tk.world(ctx)
    r = tk.create_ticket(ctx, w["submitter_s"], [tk.tag_request("nt::ticket", uuidlib.uuid4().hex)],
                         name="nt-ticket")
    assert r.status == 200, r
    t = r.body["inventory"]["uuid"]
    for approver in ("approver1_s", "approver2_s"):
        assert tk.status_event(ctx, w[approver], t, "approve").status == 200

    def notes(session=None):
        r = ctx.get("/notifications?q=resourceUuid=%s&sort=+time" % t, session=session)
        assert r.status == 200, r
        return r.body["inventories"]
    # submitted, approved twice, executed: four notifications, and the submitter sees them
    mine = wait_for(lambda: (lambda n: n if len(n) == 4 else None)(notes(w["submitter_s"])), 20,
                    "the ticket's notifications")
    assert all(n["resourceType"] == "TicketVO" and n["name"] == "ticket" for n in mine), mine
    changes = [json.loads(n["arguments"]) for n in mine if "changed its status" in n["content"]]
    assert [a[2:] for a in changes] == [["Pending", "IntermediateApproved"],
                                        ["IntermediateApproved", "FinalApproved"]], changes
    assert all(n["sender"] == "api" and n["type"] == "Info" for n in mine if "changed" in n["content"]), mine
    executed = [n for n in mine if "executed" in n["content"]]
    assert len(executed) == 1 and json.loads(executed[0]["arguments"])[2] == "Succeeded", mine
    assert notes(w["outsider_s"]) == []


def test_failed_long_job_notifies_its_owner(ctx):
    if "longjob" not in ctx.stack.services:
        return
    name = "nt-lj-%s" % uuidlib.uuid4().hex[:8]
    ctx.create_account(name)
    s = ctx.login(name, "password-123")
    # valid at submit (formats are checked there), refused when it runs: a normal account may
    # not tag the admin's account
    admin_uuid = ctx.get("/accounts?q=name=admin").body["inventories"][0]["uuid"]
    data = {"resourceType": "AccountVO", "resourceUuid": admin_uuid, "tag": "nt-not-mine"}
    r = ctx.call("POST", "/longjobs", {"params": {"jobName": "APICreateSystemTagMsg", "jobData": data,
                                                  "name": name}}, session=s)
    assert r.status == 200, r
    job = r.body["inventory"]["uuid"]
    n = wait_for(lambda: ctx.get("/notifications?q=resourceUuid=%s" % job, session=s).body["inventories"],
                 20, "the long job's notification")[0]
    assert n["type"] == "Error" and n["resourceType"] == "LongJobVO" and "failed" in n["content"], n
    args = json.loads(n["arguments"])
    assert args[:3] == [name, job, "APICreateSystemTagMsg"] and "message" in json.loads(args[3]), n
