"""Login, logout, session validation/renewal and the session errors of rest.md."""
from zstest import sha512, ADMIN_PASSWORD


def test_login_both_spellings_and_inventory(ctx):
    for key in ("logInByAccount", "loginByAccount"):
        r = ctx.stack.request("PUT", "/zstack/v1/accounts/login",
                              {key: {"accountName": "admin", "password": sha512(ADMIN_PASSWORD)}})
        assert r.status == 200, r
        inv = r.body["inventory"]
        assert set(inv) >= {"uuid", "accountUuid", "userUuid", "expiredDate", "createDate"}, inv
        assert len(inv["uuid"]) == 32
        assert inv["createDate"].endswith(("AM", "PM")), inv   # ZStack date form


def test_wrong_password_and_unknown_account_answer_alike(ctx):
    bad = ctx.stack.request("PUT", "/zstack/v1/accounts/login",
                            {"logInByAccount": {"accountName": "admin", "password": sha512("nope")}})
    unknown = ctx.stack.request("PUT", "/zstack/v1/accounts/login",
                                {"logInByAccount": {"accountName": "nobody", "password": sha512("nope")}})
    assert bad.status == unknown.status == 503
    assert bad.error["code"] == unknown.error["code"] == "ID.1000"
    assert bad.error["details"] == unknown.error["details"]


def test_missing_or_malformed_authorization(ctx):
    r = ctx.stack.request("GET", "/zstack/v1/accounts")
    assert r.status == 400 and r.error["code"] == "SYS.1007" and "Authorization" in r.error["details"], r
    r = ctx.stack.request("GET", "/zstack/v1/accounts", headers={"Authorization": "Bearer " + ctx.admin})
    assert r.status == 400 and "OAuth" in r.error["details"], r
    r = ctx.stack.request("GET", "/zstack/v1/accounts", headers={"Authorization": "OAuth " + "0" * 32})
    assert r.status == 503 and r.error["code"] == "ID.1001", r
    # an async API answers a bad session synchronously too
    r = ctx.stack.request("POST", "/zstack/v1/system-tags",
                          {"params": {"resourceType": "VmInstanceVO", "resourceUuid": "a" * 32, "tag": "x"}},
                          headers={"Authorization": "OAuth " + "0" * 32})
    assert r.status == 503 and r.error["code"] == "ID.1001", r


def test_validate_renew_logout(ctx):
    s = ctx.login()
    r = ctx.stack.request("GET", "/zstack/v1/accounts/sessions/%s/valid" % s)
    assert r.status == 200 and r.body == {"valid": True}, r
    r = ctx.call("PUT", "/accounts/sessions/%s/renew" % s, {"renewSession": {"duration": 600}}, session=s)
    assert r.status == 200 and r.body["inventory"]["uuid"] == s, r
    r = ctx.stack.request("DELETE", "/zstack/v1/accounts/sessions/%s" % s)
    assert r.status == 200 and r.body == {}, r
    r = ctx.stack.request("GET", "/zstack/v1/accounts/sessions/%s/valid" % s)
    assert r.body == {"valid": False}, r
    # the gateway forgets a logged-out session at once
    r = ctx.get("/accounts", session=s)
    assert r.status == 503 and r.error["code"] == "ID.1001", r


def test_version_time_ready_without_session(ctx):
    r = ctx.stack.request("PUT", "/zstack/v1/management-nodes/actions", {"getVersion": {}})
    assert r.status == 200 and r.body["version"], r
    r = ctx.stack.request("PUT", "/zstack/v1/management-nodes/actions", {"getCurrentTime": {}})
    assert r.status == 200 and r.body["currentTime"]["MillionSeconds"] // 1000 == r.body["currentTime"]["Seconds"], r
    r = ctx.stack.request("GET", "/v1/management-nodes/ready")
    assert r.status == 200 and len(r.body["managementNodeId"]) == 32, r
    r = ctx.get("/management-nodes")
    roles = {n["role"] for n in r.body["inventories"]}
    assert {"gateway", "broker", "core", "tags"} <= roles, roles
