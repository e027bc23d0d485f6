"""Tickets (apis.md §10): flow collections, the status machine and its permissions, history
rows, queries and joins, bad input, and execution of the approved requests as the submitter —
also across a kill -9 of zs-ticket."""
import uuid as uuidlib

from zstest import wait_for

PASSWORD = "password-123"
BUILTIN_TYPE = "3b933e9aaf2d49b9a3dcf0c92867790f"
TAG_API = "org.zstack.header.tag.APICreateSystemTagMsg"


def new_uuid():
    return uuidlib.uuid4().hex


def account(ctx, name):
    """The account `name` (created once) and a fresh session of it."""
    r = ctx.get("/accounts?q=name=%s" % name)
    invs = r.body["inventories"]
    inv = invs[0] if invs else ctx.create_account(name, PASSWORD)
    return inv["uuid"], ctx.login(name, PASSWORD)


def world(ctx):
    """Shared cast: two approvers, a submitter, an outsider, a two-step default collection."""
    w = {}
    for role in ("approver1", "approver2", "submitter", "outsider"):
        w[role], w[role + "_s"] = account(ctx, "tk-" + role)
    r = ctx.get("/tickets/flow-collections?q=name=tk-two-steps")
    if r.body["inventories"]:
        w["collection"] = r.body["inventories"][0]
    else:
        r = ctx.call("POST", "/tickets/flow-collections", {"params": {
            "name": "tk-two-steps", "isDefault": True, "flows": [
                {"name": "step-1", "approverUuid": w["approver1"], "approverTitle": "team lead"},
                {"name": "step-2", "approverUuid": w["approver2"]}]}})
        assert r.status == 200, r
        w["collection"] = r.body["inventory"]
    flows = ctx.get("/tickets/flow?q=collectionUuid=%s&sort=+position" % w["collection"]["uuid"]).body["inventories"]
    w["flow1"], w["flow2"] = flows[0], flows[1]
    return w


def tag_request(tag, resource_uuid, name="tag it", times=1, api=TAG_API):
    return {"requestName": name, "apiName": api, "executeTimes": times,
            "apiBody": {"resourceType": "VmInstanceVO", "resourceUuid": resource_uuid, "tag": tag}}


def create_ticket(ctx, session, requests, **extra):
    params = {"name": extra.pop("name", "tk-ticket"), "requests": requests, "accountSystemType": "account"}
    params.update(extra)
    return ctx.call("POST", "/tickets", {"params": params}, session=session)


def status_event(ctx, session, ticket, event, comment=None):
    body = {"statusEvent": event}
    if comment:
        body["comment"] = comment
    return ctx.call("PUT", "/tickets/%s/actions" % ticket, {"changeTicketStatus": body}, session=session)


def ticket_of(ctx, ticket, session=None):
    invs = ctx.get("/tickets/" + ticket, session=session).body["inventories"]
    return invs[0] if invs else None


def denied_text(status, op):
    return "operation denied. the ticket is in status of %s, cannot do the operation[%s]" % (status, op)


def test_ticket_walks_the_flows_and_runs_as_the_submitter(ctx):
    w = world(ctx)
    vm = new_uuid()
    r = create_ticket(ctx, w["submitter_s"], [tag_request("tk::walk", vm)], name="tk-walk",
                      description="create a tag", severity=2, categoryId="7161",
                      systemTags=["tk-ticket-tag"])
    assert r.status == 200, r
    t = r.body["inventory"]
    assert t["status"] == "Pending" and t["executionStatus"] == "NotStarted", t
    assert t["currentFlowUuid"] == w["flow1"]["uuid"] and t["flowCollectionUuid"] == w["collection"]["uuid"], t
    assert t["submitterUuid"] == w["submitter"] and t["ticketTypeUuid"] == BUILTIN_TYPE, t
    assert t["request"][0]["apiName"] == TAG_API and t["request"][0]["executeTimes"] == 1, t
    assert t["severity"] == 2 and t["categoryId"] == "7161" and t["createDate"].endswith(("AM", "PM")), t
    assert "submitter" not in t and "approvers" not in t, t   # bookkeeping stays hidden
    # the creation tag is on the ticket (TicketVO)
    tags = ctx.get("/system-tags?q=resourceUuid=%s" % t["uuid"]).body["inventories"]
    assert [x["tag"] for x in tags] == ["tk-ticket-tag"] and tags[0]["resourceType"] == "TicketVO", tags

    # only the current flow's approver (or an admin) approves
    r = status_event(ctx, w["approver2_s"], t["uuid"], "approve")
    assert r.status == 503 and r.error["code"] == "ID.1002", r
    r = status_event(ctx, w["outsider_s"], t["uuid"], "approve")
    assert r.status == 503 and r.error["code"] == "SYS.1003", r   # cannot even see it
    assert ticket_of(ctx, t["uuid"], w["outsider_s"]) is None
    assert ticket_of(ctx, t["uuid"], w["approver2_s"])["uuid"] == t["uuid"]   # approvers see it

    r = status_event(ctx, w["approver1_s"], t["uuid"], "approve", "looks fine")
    assert r.status == 200 and r.body["inventory"]["status"] == "IntermediateApproved", r
    assert r.body["inventory"]["currentFlowUuid"] == w["flow2"]["uuid"], r
    r = status_event(ctx, w["approver1_s"], t["uuid"], "approve")
    assert r.status == 503 and r.error["code"] == "ID.1002", r
    r = status_event(ctx, w["approver2_s"], t["uuid"], "approve", "go")
    assert r.status == 200 and r.body["inventory"]["status"] == "FinalApproved", r

    done = wait_for(lambda: (lambda x: x if x["executionStatus"] != "Running" else None)(ticket_of(ctx, t["uuid"])),
                    20, "the execution to end")
    assert done["executionStatus"] == "Succeeded", done
    res = done["executeResults"]
    assert len(res) == 1 and res[0]["success"] is True and res[0]["requestName"] == "tag it", res
    assert res[0]["result"]["inventory"]["tag"] == "tk::walk", res
    # the tag really exists, and belongs to the submitter (tags are visible to their owner)
    tags = ctx.get("/system-tags?q=resourceUuid=%s" % vm, session=w["submitter_s"]).body["inventories"]
    assert [x["tag"] for x in tags] == ["tk::walk"], tags
    assert ctx.get("/system-tags?q=resourceUuid=%s" % vm, session=w["outsider_s"]).body["inventories"] == []

    hist = ctx.get("/tickets/histories?q=ticketUuid=%s&sort=+sequence" % t["uuid"]).body["inventories"]
    steps = [(h["sequence"], h.get("fromStatus"), h["toStatus"], h.get("flowName"), h.get("operatorUuid")) for h in hist]
    assert steps == [(1, None, "Pending", None, w["submitter"]),
                     (2, "Pending", "IntermediateApproved", "step-1", w["approver1"]),
                     (3, "IntermediateApproved", "FinalApproved", "step-2", w["approver2"]),
                     (4, "FinalApproved", "FinalApproved", None, None)], steps
    assert hist[1]["comment"] == "looks fine" and hist[1]["operatorType"] == "AccountVO", hist[1]
    assert hist[3]["operatorType"] == "System" and hist[3]["executeResults"][0]["success"] is True, hist[3]
    # the outsider sees no history of it; the submitter does
    assert ctx.get("/tickets/histories?q=ticketUuid=%s" % t["uuid"], session=w["outsider_s"]).body["inventories"] == []
    assert len(ctx.get("/tickets/histories?q=ticketUuid=%s" % t["uuid"], session=w["submitter_s"]).body["inventories"]) == 4
    # a finished ticket accepts no more status changes
    for ev in ("approve", "reject", "cancel", "reopen", "open"):
        r = status_event(ctx, ctx.admin, t["uuid"], ev)
        assert r.status == 503 and r.error["details"] == denied_text("FinalApproved", ev), r


def test_ticket_reject_reopen_update_cancel_delete(ctx):
    w = world(ctx)
    t = create_ticket(ctx, w["submitter_s"], [tag_request("tk::x", new_uuid())], name="tk-cycle").body["inventory"]
    r = status_event(ctx, w["approver1_s"], t["uuid"], "reject", "not now")
    assert r.status == 200 and r.body["inventory"]["status"] == "Rejected", r
    assert "currentFlowUuid" not in r.body["inventory"], r
    for ev in ("approve", "reject", "cancel", "open"):
        r = status_event(ctx, w["approver1_s"], t["uuid"], ev)
        assert r.status == 503 and r.error["details"] == denied_text("Rejected", ev), r
    # reopen and update are the submitter's
    r = status_event(ctx, w["approver1_s"], t["uuid"], "reopen")
    assert r.status == 503 and r.error["code"] == "ID.1002", r
    upd = {"updateTicketRequest": {"requests": [tag_request("tk::y", new_uuid(), "second")], "description": "v2"}}
    r = ctx.call("PUT", "/tickets/%s/actions" % t["uuid"], upd, session=w["approver1_s"])
    assert r.status == 503 and r.error["code"] == "ID.1002", r
    r = ctx.call("PUT", "/tickets/%s/actions" % t["uuid"], upd, session=w["submitter_s"])
    assert r.status == 200, r
    assert r.body["inventory"]["request"][0]["requestName"] == "second" and r.body["inventory"]["description"] == "v2", r
    r = status_event(ctx, w["submitter_s"], t["uuid"], "reopen", "fixed")
    assert r.status == 200 and r.body["inventory"]["status"] == "Pending", r
    assert r.body["inventory"]["currentFlowUuid"] == w["flow1"]["uuid"], r
    r = ctx.call("PUT", "/tickets/%s/actions" % t["uuid"], upd, session=w["submitter_s"])
    assert r.status == 503 and r.error["details"] == denied_text("Pending", "updateTicketRequest"), r
    r = status_event(ctx, w["submitter_s"], t["uuid"], "reopen")
    assert r.status == 503 and r.error["details"] == denied_text("Pending", "reopen"), r
    # cancel: the submitter only, from Pending or IntermediateApproved
    r = status_event(ctx, w["approver1_s"], t["uuid"], "cancel")
    assert r.status == 503 and r.error["code"] == "ID.1002", r
    assert status_event(ctx, w["approver1_s"], t["uuid"], "approve").body["inventory"]["status"] == "IntermediateApproved"
    r = status_event(ctx, w["submitter_s"], t["uuid"], "cancel", "changed my mind")
    assert r.status == 200 and r.body["inventory"]["status"] == "Cancelled", r
    r = status_event(ctx, w["submitter_s"], t["uuid"], "cancel")
    assert r.status == 503 and r.error["details"] == denied_text("Cancelled", "cancel"), r
    hist = ctx.get("/tickets/histories?q=ticketUuid=%s&sort=+sequence" % t["uuid"]).body["inventories"]
    assert [h["toStatus"] for h in hist] == ["Pending", "Rejected", "Rejected", "Pending", "IntermediateApproved",
                                             "Cancelled"], hist
    assert hist[1]["comment"] == "not now" and hist[1]["flowName"] == "step-1", hist[1]
    assert hist[2]["comment"] == "requests updated" and hist[5]["comment"] == "changed my mind", hist
    # delete: the submitter or an admin; the history and the ticket's tags go with it
    r = ctx.call("DELETE", "/tickets/" + t["uuid"], session=w["approver1_s"])
    assert r.status == 503 and r.error["code"] == "ID.1002", r
    r = ctx.call("DELETE", "/tickets/" + t["uuid"], session=w["submitter_s"])
    assert r.status == 200 and r.body == {}, r
    assert ticket_of(ctx, t["uuid"]) is None
    assert ctx.get("/tickets/histories?q=ticketUuid=%s" % t["uuid"]).body["inventories"] == []
    r = ctx.call("DELETE", "/tickets/" + t["uuid"], session=w["submitter_s"])
    assert r.status == 200, r   # deleting what is gone succeeds


def test_ticket_bad_input(ctx):
    w = world(ctx)
    s = w["submitter_s"]
    ok = [tag_request("tk::bad", new_uuid())]

    def expect(resp, status, code, text):
        assert resp.status == status and resp.error["code"] == code and text in resp.error["details"], resp

    expect(ctx.call("POST", "/tickets", {"params": {"name": "x", "accountSystemType": "account"}}, session=s),
           400, "SYS.1007", "requests")
    expect(create_ticket(ctx, s, []), 400, "SYS.1007", "requests")
    expect(create_ticket(ctx, s, [{"apiName": "APINoSuchMsg", "apiBody": {}}]), 503, "SYS.1007",
           "invalid request. no API[APINoSuchMsg] found")
    expect(create_ticket(ctx, s, [{"apiName": "org.zstack.header.tag.APIQuerySystemTagMsg"}]), 503, "SYS.1007",
           "no API[org.zstack.header.tag.APIQuerySystemTagMsg] found")   # not an async API
    expect(create_ticket(ctx, s, ok, accountSystemType="ldap"), 400, "SYS.1007", "accountSystemType")
    expect(create_ticket(ctx, s, ok, accountSystemType="iam2", accountSystemContext={"projectUuid": "p"}),
           400, "SYS.1007", "virtualIDUuid")
    huge = tag_request("tk::huge", new_uuid())
    huge["apiBody"]["padding"] = "x" * (70 * 1024)
    expect(create_ticket(ctx, s, [huge]), 400, "SYS.1007", "apiBody")
    expect(create_ticket(ctx, s, [tag_request("a", new_uuid(), times=0)]), 400, "SYS.1007", "executeTimes")
    expect(create_ticket(ctx, s, [tag_request("a", new_uuid(), times=101)]), 400, "SYS.1007", "executeTimes")
    expect(create_ticket(ctx, s, [{"apiName": "APICreateSystemTagMsg", "apiBody": {"resourceType": "VmInstanceVO"}}]),
           400, "SYS.1007", "mandatory")   # apiBody checked against the API
    expect(create_ticket(ctx, s, ok, flowCollectionUuid=new_uuid()), 503, "SYS.1003", "flow collection")
    expect(create_ticket(ctx, s, [{"apiName": "CreateAccount", "apiBody": {"name": "n", "password": "12345678"}}]),
           503, "ID.1002", "admin")   # a normal submitter cannot ask for an admin-only API
    # the seed's iam2 form (executeTimes 1.0, simple names work too) is accepted
    r = create_ticket(ctx, s, [dict(tag_request("tk::iam2", new_uuid(), api="APICreateSystemTagMsg"), executeTimes=1.0)],
                      accountSystemType="iam2", accountSystemContext={"projectUuid": new_uuid(), "virtualIDUuid": new_uuid()})
    assert r.status == 200 and r.body["inventory"]["accountSystemContext"]["projectUuid"], r


def test_flow_collection_rules(ctx):
    w = world(ctx)
    r = ctx.call("POST", "/tickets/flow-collections", {"params": {"name": "tk-n", "flows": [
        {"name": "a", "approverUuid": w["approver1"]}]}}, session=w["submitter_s"])
    assert r.status == 503 and r.error["code"] == "ID.1002", r
    r = ctx.call("POST", "/tickets/flow-collections", {"params": {"name": "tk-n", "flows": [
        {"name": "a", "approverUuid": new_uuid()}]}})
    assert r.status == 503 and r.error["code"] == "SYS.1003", r
    r = ctx.call("POST", "/tickets/flow-collections", {"params": {"name": "tk-n", "flows": []}})
    assert r.status == 400, r
    c = ctx.call("POST", "/tickets/flow-collections", {"params": {"name": "tk-one-step", "flows": [
        {"name": "only", "approverUuid": w["approver1"]}]}}).body["inventory"]
    assert c["isDefault"] is False and c["state"] == "Enabled" and c["flows"][0]["name"] == "only", c
    t = create_ticket(ctx, w["submitter_s"], [tag_request("tk::one", new_uuid())], name="tk-one",
                      flowCollectionUuid=c["uuid"]).body["inventory"]
    path = "/tickets/flow-collections/%s" % c["uuid"]
    r = ctx.call("DELETE", path)
    assert r.status == 503 and "open tickets" in r.error["details"], r
    r = ctx.call("PUT", path + "/actions", {"updateTicketFlowCollection": {"flows": [
        {"name": "b", "approverUuid": w["approver2"]}]}})
    assert r.status == 503 and "open tickets" in r.error["details"], r
    r = ctx.call("PUT", path + "/actions", {"changeTicketFlowCollectionState": {"stateEvent": "disable"}})
    assert r.status == 200 and r.body["inventory"]["state"] == "Disabled", r
    r = create_ticket(ctx, w["submitter_s"], [tag_request("tk::two", new_uuid())], flowCollectionUuid=c["uuid"])
    assert r.status == 503 and "disabled" in r.error["details"], r
    # a one-step collection: the first approval is the final one
    r = status_event(ctx, w["approver1_s"], t["uuid"], "approve")
    assert r.body["inventory"]["status"] == "FinalApproved", r
    wait_for(lambda: ticket_of(ctx, t["uuid"])["executionStatus"] == "Succeeded", 20, "execution")
    r = ctx.call("PUT", path + "/actions", {"updateTicketFlowCollection": {"name": "tk-one-step-b", "flows": [
        {"name": "b", "approverUuid": w["approver2"]}]}})
    assert r.status == 200 and r.body["inventory"]["name"] == "tk-one-step-b", r
    assert [f["name"] for f in ctx.get("/tickets/flow?q=collectionUuid=" + c["uuid"]).body["inventories"]] == ["b"]
    # without a default collection, a ticket must name one
    default = w["collection"]["uuid"]
    put = lambda u, v: ctx.call("PUT", "/tickets/flow-collections/%s/actions" % u,
                                {"updateTicketFlowCollection": {"isDefault": v}})
    assert put(default, False).status == 200
    r = create_ticket(ctx, w["submitter_s"], [tag_request("tk::three", new_uuid())])
    assert r.status == 503 and "default" in r.error["details"], r
    assert put(c["uuid"], True).status == 200   # only one default at a time
    assert put(default, True).body["inventory"]["isDefault"] is True
    defaults = ctx.get("/tickets/flow-collections?q=isDefault=true").body["inventories"]
    assert [d["uuid"] for d in defaults] == [default], defaults
    assert ctx.call("DELETE", path).status == 200
    assert ctx.get("/tickets/flow?q=collectionUuid=" + c["uuid"]).body["inventories"] == []
    types = ctx.get("/ticket-types").body["inventories"]
    assert any(x["uuid"] == BUILTIN_TYPE and x["name"] == "CREATE_VM_INSTANCE_TICKET_TYPE" for x in types), types


def test_ticket_queries_and_joins(ctx):
    w = world(ctx)
    s = w["submitter_s"]
    a = create_ticket(ctx, s, [tag_request("tk::qa", new_uuid())], name="tk-q-a", severity=2).body["inventory"]
    b = create_ticket(ctx, s, [tag_request("tk::qb", new_uuid())], name="tk-q-b", categoryId="c-9").body["inventory"]
    status_event(ctx, w["approver1_s"], b["uuid"], "reject")

    def names(q, session=None):
        r = ctx.get("/tickets?" + q + "&q=name~=tk-q-%25", session=session)
        assert r.status == 200, r
        return sorted(t["name"] for t in r.body["inventories"])

    assert names("q=status=Pending") == ["tk-q-a"]
    assert names("q=status=Rejected") == ["tk-q-b"]
    assert names("q=name=tk-q-b") == ["tk-q-b"]
    assert names("q=createDate>=%s" % a["createDate"].replace(" ", "+")) == ["tk-q-a", "tk-q-b"]
    assert names("q=severity=2") == ["tk-q-a"]
    assert names("q=categoryId=c-9") == ["tk-q-b"]
    assert names("q=flowCollection.name=tk-two-steps") == ["tk-q-a", "tk-q-b"]
    assert names("q=flowCollection.name=nope") == []
    assert names("q=histories.toStatus=Rejected") == ["tk-q-b"]
    assert names("q=currentFlow.name=step-1") == ["tk-q-a"]
    assert names("q=submitterUuid=%s" % w["submitter"]) == ["tk-q-a", "tk-q-b"]
    # normal accounts: their own tickets, or the ones they approve
    assert names("q=status=Pending", session=w["outsider_s"]) == []
    assert names("q=status=Pending", session=w["approver2_s"]) == ["tk-q-a"]
    r = ctx.get("/tickets?q=nosuchfield=1")
    assert r.status == 400 and "nosuchfield" in r.error["details"], r
    r = ctx.get("/tickets?q=status=Pending&q=name~=tk-q-%25&count=true")
    assert r.body == {"total": 1}, r
    r = ctx.get("/tickets/histories?q=ticket.name=tk-q-b&sort=+sequence")
    assert [h["toStatus"] for h in r.body["inventories"]] == ["Pending", "Rejected"], r
    r = ctx.get("/tickets/%s" % a["uuid"], headers={"X-JSON-Schema": "true"})
    assert r.body["schema"] == {"inventories[0]": "org.zstack.ticket.entity.TicketInventory",
                                "inventories[0].request[0]": "org.zstack.ticket.entity.TicketRequest"}, r


def test_execution_resumes_after_kill_and_runs_each_call_once(ctx):
    """100 calls creating distinct user tags (a second run of one would fail as a duplicate);
    zs-ticket is killed -9 once the first outcomes are recorded, and restarted."""
    w = world(ctx)
    vm = new_uuid()
    reqs = [{"requestName": "r%d" % i, "apiName": "org.zstack.header.tag.APICreateUserTagMsg", "executeTimes": 1,
             "apiBody": {"resourceType": "VmInstanceVO", "resourceUuid": vm, "tag": "tk-kill-%03d" % i}}
            for i in range(100)]
    t = create_ticket(ctx, w["submitter_s"], reqs, name="tk-kill").body["inventory"]
    assert status_event(ctx, ctx.admin, t["uuid"], "approve").status == 200   # admins approve any step
    assert status_event(ctx, ctx.admin, t["uuid"], "approve").body["inventory"]["status"] == "FinalApproved"
    seen = wait_for(lambda: len(ticket_of(ctx, t["uuid"])["executeResults"]), 20, "the first outcomes")
    ctx.stack.kill("ticket")
    assert seen < 100, "the execution ended before the kill: the test proves nothing"
    ctx.stack.start("ticket")
    done = wait_for(lambda: (lambda x: x if x and x["executionStatus"] != "Running" else None)(
        ctx.get("/tickets/" + t["uuid"]).body.get("inventories", [None])[0]), 60, "the resumed execution to end")
    res = done["executeResults"]
    assert done["executionStatus"] == "Succeeded", [r for r in res if not r["success"]][:3]
    assert [r["index"] for r in res] == list(range(100)), res
    assert len({r["jobUuid"] for r in res}) == 100
    r = ctx.get("/user-tags?q=resourceUuid=%s&count=true" % vm)
    assert r.body == {"total": 100}, r
    tags = ctx.get("/user-tags?q=resourceUuid=%s&limit=200" % vm).body["inventories"]
    assert sorted(x["tag"] for x in tags) == ["tk-kill-%03d" % i for i in range(100)]
