"""The ticket views for other clouds' clients (apis.md §11): Huawei COC script orders
(GET /v1/job/script/orders, X-Auth-Token) and Alibaba GetTicket (GET /?Action=GetTicket)."""
import time

from zstest import wait_for
from test_ticket import world, create_ticket, status_event, tag_request, ticket_of, new_uuid


def orders(ctx, query="", token=None, headers=None):
    h = {"X-Auth-Token": token} if token else {}
    h.update(headers or {})
    return ctx.stack.request("GET", "/v1/job/script/orders" + query, headers=h)


def aliyun(ctx, query, headers=None):
    return ctx.stack.request("GET", "/?Action=GetTicket" + query, headers=headers or {})


def views_world(ctx):
    w = world(ctx)
    s = w["submitter_s"]
    mk = lambda name: create_ticket(ctx, s, [tag_request("tk::" + name, new_uuid())], name=name).body["inventory"]
    w["ready"] = mk("hv-ready")
    w["cancel"] = mk("hv-cancel")
    status_event(ctx, s, w["cancel"]["uuid"], "cancel")
    w["done"] = mk("hv-done")
    for _ in range(2):
        status_event(ctx, ctx.admin, w["done"]["uuid"], "approve")
    wait_for(lambda: ticket_of(ctx, w["done"]["uuid"])["executionStatus"] == "Succeeded", 20, "execution")
    return w


def test_huawei_script_orders(ctx):
    w = views_world(ctx)
    # auth: X-Auth-Token (or OAuth); failures in Huawei's shape
    r = orders(ctx)
    assert r.status == 401 and r.body["error_code"] == "APIGW.0301", r
    r = orders(ctx, token="0" * 32)
    assert r.status == 401 and r.body["error_code"] == "APIGW.0301" and "error_msg" in r.body, r
    r = orders(ctx, token="not-a-uuid")
    assert r.status == 401, r
    assert orders(ctx, headers={"Authorization": "OAuth " + ctx.admin}).status == 200

    r = orders(ctx, "?name_like=hv-", token=ctx.admin)
    assert r.status == 200 and set(r.body) == {"data"}, r
    page = r.body["data"]
    by_name = {o["order_name"]: o for o in page["data"]}
    assert page["total"] == len(page["data"]) >= 3, page
    ids = [o["order_id"] for o in page["data"]]
    assert ids == sorted(ids, reverse=True), ids   # newest first
    done, ready, cancel = by_name["hv-done"], by_name["hv-ready"], by_name["hv-cancel"]
    assert done["status"] == "FINISHED" and done["execute_uuid"] == w["done"]["uuid"], done
    assert done["gmt_finished"] >= done["gmt_created"] and done["execute_costs"] == done["gmt_finished"] - done["gmt_created"]
    assert done["creator"] == "tk-submitter" and isinstance(done["gmt_created"], int), done
    assert ready["status"] == "READY" and ready["gmt_finished"] is None and ready["execute_costs"] is None, ready
    assert cancel["status"] == "CANCELED" and cancel["gmt_finished"] is not None, cancel

    # keyset pagination: limit + marker (the last order_id seen)
    first = orders(ctx, "?name_like=hv-&limit=2", token=ctx.admin).body["data"]
    assert first["total"] == page["total"] and [o["order_id"] for o in first["data"]] == ids[:2], first
    second = orders(ctx, "?name_like=hv-&limit=2&marker=%d" % ids[1], token=ctx.admin).body["data"]
    assert [o["order_id"] for o in second["data"]] == ids[2:4], second

    # filters
    st = lambda s: {o["order_name"] for o in orders(ctx, "?name_like=hv-&status=" + s, token=ctx.admin).body["data"]["data"]}
    assert "hv-done" in st("FINISHED") and "hv-done" not in st("READY")
    assert "hv-cancel" in st("CANCELED") and "hv-ready" in st("READY") and st("PAUSED") == set()
    r = orders(ctx, "?name_like=hv-&creator=tk-submitter", token=ctx.admin).body["data"]
    assert r["total"] == page["total"], r
    assert orders(ctx, "?creator=nobody", token=ctx.admin).body["data"] == {"total": 0, "data": []}
    now = int(time.time() * 1000)
    assert orders(ctx, "?name_like=hv-&end_time=1000", token=ctx.admin).body["data"]["total"] == 0
    assert orders(ctx, "?name_like=hv-&start_time=%d" % (now + 3600000), token=ctx.admin).body["data"]["total"] == 0
    assert orders(ctx, "?name_like=hv-&start_time=0&end_time=%d" % (now + 60000),
                  token=ctx.admin).body["data"]["total"] == page["total"]
    # bad parameters: 400 in Huawei's shape
    for q in ("?limit=abc", "?limit=0", "?limit=5000", "?status=BOGUS", "?marker=x"):
        r = orders(ctx, q, token=ctx.admin)
        assert r.status == 400 and r.body["error_code"].startswith("COC.") and r.body["error_msg"], (q, r)
    # permissions: a normal account sees only its own / its approvals
    assert orders(ctx, "?name_like=hv-", token=w["outsider_s"]).body["data"]["total"] == 0
    assert orders(ctx, "?name_like=hv-", token=w["submitter_s"]).body["data"]["total"] == page["total"]


def test_aliyun_get_ticket(ctx):
    w = views_world(ctx)
    t = create_ticket(ctx, w["submitter_s"], [tag_request("tk::ali", new_uuid())], name="ali-urgent",
                      description="ecs cannot start", severity=2, categoryId="7161").body["inventory"]
    r = aliyun(ctx, "&TicketId=" + t["uuid"], {"Authorization": "OAuth " + ctx.admin})
    assert r.status == 200 and r.body["Success"] is True and r.body["Code"] == 0 and r.body["Message"] == "success", r
    assert len(r.body["RequestId"]) == 36 and r.body["RequestId"] == r.body["RequestId"].upper(), r
    d = r.body["Data"]
    assert d["TicketId"] == t["uuid"] and d["Title"] == "ali-urgent" and d["Description"] == "ecs cannot start", d
    assert d["CreatorId"] == w["submitter"] and d["CategoryId"] == "7161" and isinstance(d["CreateTime"], int), d
    assert d["Status"] == {"Label": "待处理", "Value": "1"} and d["Severity"] == {"Label": "紧急问题", "Value": "2"}, d
    # X-Auth-Token works too; a finished ticket is "6", a common one severity "1"
    r = aliyun(ctx, "&TicketId=" + w["done"]["uuid"], {"X-Auth-Token": w["submitter_s"]})
    assert r.status == 200 and r.body["Data"]["Status"]["Value"] == "6", r
    assert r.body["Data"]["Severity"] == {"Label": "一般问题", "Value": "1"}, r
    # errors: 401 illegal.auth, 400 illegal.param, 403 No permissions
    for headers in ({}, {"X-Auth-Token": "0" * 32}, {"Authorization": "Bearer x"}):
        r = aliyun(ctx, "&TicketId=" + t["uuid"], headers)
        assert r.status == 401 and r.body["Code"] == "illegal.auth" and r.body["Success"] is False, (headers, r)
        assert r.body["RequestId"], r
    r = aliyun(ctx, "", {"X-Auth-Token": ctx.admin})
    assert r.status == 400 and r.body["Code"] == "illegal.param" and "TicketId" in r.body["Message"], r
    r = aliyun(ctx, "&TicketId=" + new_uuid(), {"X-Auth-Token": ctx.admin})
    assert r.status == 400 and r.body["Code"] == "illegal.param", r
    r = aliyun(ctx, "&TicketId=" + "x" * 100, {"X-Auth-Token": ctx.admin})
    assert r.status == 400 and r.body["Code"] == "illegal.param", r
    r = aliyun(ctx, "&TicketId=" + t["uuid"], {"X-Auth-Token": w["outsider_s"]})
    assert r.status == 403 and r.body["Code"] == "No permissions", r
    # an unknown action at the root is not an API
    r = ctx.stack.request("GET", "/?Action=NoSuchAction", headers={"X-Auth-Token": ctx.admin})
    assert r.status == 404 and r.error["code"] == "SYS.1003", r
    r = ctx.stack.request("POST", "/?Action=GetTicket&TicketId=" + t["uuid"], body={},
                          headers={"X-Auth-Token": ctx.admin})
    assert r.status == 405, r
