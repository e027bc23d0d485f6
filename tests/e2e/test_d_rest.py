"""REST-layer rules of rest.md: URLs, status codes, error bodies, limits."""
import uuid

from zstest import sha512


def test_both_prefixes_answer(ctx):
    a = ctx.stack.request("GET", "/zstack/v1/system-tags?limit=1", headers=ctx.auth())
    b = ctx.stack.request("GET", "/v1/system-tags?limit=1", headers=ctx.auth())
    assert a.status == b.status == 200


def test_unknown_path_404_wrong_method_405(ctx):
    r = ctx.stack.request("GET", "/zstack/v1/no-such-thing", headers=ctx.auth())
    assert r.status == 404 and r.error["code"], r
    r = ctx.stack.request("PATCH", "/zstack/v1/system-tags", headers=ctx.auth())
    assert r.status == 405 and r.error["code"], r
    r = ctx.stack.request("GET", "/elsewhere")
    assert r.status == 404, r


def test_action_key_selects_the_api(ctx):
    r = ctx.stack.request("PUT", "/zstack/v1/management-nodes/actions", {"noSuchAction": {}})
    assert r.status == 400 and r.error["code"] == "SYS.1007", r


def test_malformed_json_and_missing_params(ctx):
    r = ctx.stack.request("POST", "/zstack/v1/system-tags", raw=b'{"params": {', headers=ctx.auth())
    assert r.status == 400 and "malformed JSON" in r.error["details"], r
    r = ctx.stack.request("POST", "/zstack/v1/system-tags", raw=b'[1,2]', headers=ctx.auth())
    assert r.status == 400, r
    r = ctx.stack.request("POST", "/zstack/v1/system-tags", {"nothing": 1}, headers=ctx.auth())
    assert r.status == 400 and "params" in r.error["details"], r
    r = ctx.stack.request("POST", "/zstack/v1/system-tags", {"params": {"resourceType": "VmInstanceVO", "resourceUuid": "x"}},
                          headers=ctx.auth())
    assert r.status == 400 and r.error["details"] == "field[tag] of CreateSystemTag is mandatory, can not be null", r
    r = ctx.stack.request("POST", "/zstack/v1/system-tags",
                          {"params": {"resourceType": 5, "resourceUuid": "x", "tag": "t"}}, headers=ctx.auth())
    assert r.status == 400 and "resourceType" in r.error["details"], r


def test_body_limit_413(ctx):
    big = b'{"params": {"tag": "' + b"x" * (1024 * 1024 + 10) + b'"}}'
    r = ctx.stack.request("POST", "/zstack/v1/system-tags", raw=big, headers=ctx.auth())
    assert r.status == 413 and r.error["code"] == "SYS.1007", r


def test_deep_json_refused(ctx):
    deep = b'{"params": ' + b'[' * 200 + b']' * 200 + b'}'
    r = ctx.stack.request("POST", "/zstack/v1/system-tags", raw=deep, headers=ctx.auth())
    assert r.status == 400 and "deeper" in r.error["details"], r


def test_error_body_shape(ctx):
    r = ctx.stack.request("GET", "/zstack/v1/accounts", headers={"Authorization": "OAuth " + uuid.uuid4().hex})
    e = r.body["error"]
    assert set(e) >= {"code", "description", "details"} and r.headers["Content-Type"].startswith("application/json")


def test_accounts_crud_and_permissions(ctx):
    name = "acct-" + uuid.uuid4().hex[:8]
    inv = ctx.create_account(name)
    assert inv["type"] == "Normal" and "password" not in str(inv).lower(), inv
    r = ctx.call("POST", "/accounts", {"params": {"name": name, "password": "password-123"}})
    assert r.status == 503 and "already exists" in r.error["details"], r
    r = ctx.call("POST", "/accounts", {"params": {"name": name + "x", "password": "short"}})
    assert r.status == 400 and "password" in r.error["details"], r
    s = ctx.login(name, "password-123")
    # a normal account sees only itself and cannot create accounts
    r = ctx.get("/accounts", session=s)
    assert [a["name"] for a in r.body["inventories"]] == [name], r
    r = ctx.call("POST", "/accounts", {"params": {"name": name + "y", "password": "password-123"}}, session=s)
    assert r.status == 503 and r.error["code"] == "ID.1002", r
    r = ctx.call("PUT", "/accounts/%s" % inv["uuid"], {"updateAccount": {"description": "me"}}, session=s)
    assert r.status == 200 and r.body["inventory"]["description"] == "me", r
    r = ctx.call("PUT", "/accounts/%s" % inv["uuid"], {"updateAccount": {"password": sha512("another-pass-1")}}, session=s)
    assert r.status == 200
    assert ctx.login(name, "another-pass-1")
    r = ctx.call("DELETE", "/accounts/" + inv["uuid"])
    assert r.status == 200, r
    # its sessions died with it (gateways drop cached sessions on the core's revocation event)
    from zstest import wait_for
    wait_for(lambda: ctx.get("/accounts", session=s).status == 503, 3, "the session to be revoked")
    assert ctx.get("/accounts", session=s).error["code"] == "ID.1001"


def test_last_admin_cannot_be_deleted(ctx):
    admin = ctx.get("/accounts?q=name=admin").body["inventories"][0]
    r = ctx.call("DELETE", "/accounts/" + admin["uuid"])
    assert r.status == 503 and "last admin" in r.error["details"], r


def test_create_with_resource_uuid_and_tags(ctx):
    want = uuid.uuid4().hex
    r = ctx.call("POST", "/accounts", {"params": {"name": "ru-" + want[:8], "password": "password-123",
                                                  "resourceUuid": want}, "systemTags": ["team::blue"]})
    assert r.status == 200 and r.body["inventory"]["uuid"] == want, r
    tags = ctx.get("/system-tags?q=resourceUuid=" + want).body["inventories"]
    assert [t["tag"] for t in tags] == ["team::blue"] and tags[0]["resourceType"] == "AccountVO", tags
    r = ctx.call("POST", "/accounts", {"params": {"name": "ru2-" + want[:8], "password": "password-123",
                                                  "resourceUuid": want}})
    assert r.status == 503 and r.error["code"] == "SYS.1007", r
    r = ctx.call("POST", "/accounts", {"params": {"name": "ru3", "password": "password-123", "resourceUuid": "nope"}})
    assert r.status == 400, r


def test_openapi_and_metrics(ctx):
    r = ctx.stack.request("GET", "/zstack/v1/openapi.json")
    assert r.status == 200 and "/zstack/v1/system-tags" in r.body["paths"], r
    assert r.body["paths"]["/zstack/v1/system-tags"]["post"]["operationId"] == "CreateSystemTag"
    import urllib.request
    text = urllib.request.urlopen(ctx.stack.url + "/metrics").read().decode()
    assert 'zs_requests_total{api="CreateSystemTag",code="202"}' in text, text[:500]


def test_cli_is_driven_by_the_api_table(ctx):
    import json
    import os
    import subprocess
    env = dict(os.environ, ZS_URL=ctx.stack.url, ZS_SESSION=ctx.admin)
    zs = os.path.join(ctx.stack.bin, "zs")
    listing = subprocess.run([zs, "list"], capture_output=True, text=True, env=env, check=True).stdout
    assert "CreateSystemTag" in listing and "/zstack/v1/system-tags" in listing
    vm = uuid.uuid4().hex
    out = subprocess.run([zs, "CreateSystemTag", "resourceType=VmInstanceVO", "resourceUuid=" + vm, "tag=cli::x"],
                         capture_output=True, text=True, env=env)
    assert out.returncode == 0 and json.loads(out.stdout)["inventory"]["tag"] == "cli::x", out
    out = subprocess.run([zs, "-o", "json", "QuerySystemTag", "q=resourceUuid=" + vm, "fields=tag"], capture_output=True,
                         text=True, env=env)
    assert json.loads(out.stdout) == {"inventories": [{"tag": "cli::x"}]}, out
    out = subprocess.run([zs, "-o", "json", "CreateSystemTag", "resourceType=VmInstanceVO"], capture_output=True,
                         text=True, env=env)
    assert out.returncode == 1 and json.loads(out.stdout)["error"]["code"] == "SYS.1007", out
