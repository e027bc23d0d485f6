"""Every tag API of apis.md §3 with its rules, through the gateway."""
import uuid

VM = "VmInstanceVO"


def new_uuid():
    return uuid.uuid4().hex


def create_system_tag(ctx, ruuid, tag, rtype=VM, session=None):
    return ctx.call("POST", "/system-tags", {"params": {"resourceType": rtype, "resourceUuid": ruuid, "tag": tag}},
                    session=session)


def test_create_query_update_delete_system_tag(ctx):
    vm = new_uuid()
    r = create_system_tag(ctx, vm, "reservedMemory::1G")
    assert r.status == 200, r
    inv = r.body["inventory"]
    assert inv["type"] == "System" and inv["inherent"] is False and inv["resourceUuid"] == vm, inv
    assert inv["tag"] == "reservedMemory::1G" and inv["resourceType"] == VM
    r = ctx.get("/system-tags/" + inv["uuid"])
    assert r.status == 200 and [t["uuid"] for t in r.body["inventories"]] == [inv["uuid"]], r
    r = ctx.get("/system-tags?q=resourceUuid=" + vm)
    assert [t["tag"] for t in r.body["inventories"]] == ["reservedMemory::1G"], r
    r = ctx.call("PUT", "/system-tags/%s/actions" % inv["uuid"], {"updateSystemTag": {"tag": "reservedMemory::2G"}})
    assert r.status == 200 and r.body["inventory"]["tag"] == "reservedMemory::2G", r
    r = ctx.call("DELETE", "/tags/" + inv["uuid"])
    assert r.status == 200 and r.body == {}, r
    r = ctx.get("/system-tags/" + inv["uuid"])
    assert r.status == 200 and r.body["inventories"] == [], r   # absent: empty list, not 404


def test_same_system_tag_twice_is_idempotent(ctx):
    vm = new_uuid()
    a = create_system_tag(ctx, vm, "ha::NeverStop")
    b = create_system_tag(ctx, vm, "ha::NeverStop")
    assert a.status == b.status == 200
    assert a.body["inventory"]["uuid"] == b.body["inventory"]["uuid"]
    assert len(ctx.get("/system-tags?q=resourceUuid=" + vm).body["inventories"]) == 1


def test_user_tag_duplicate_is_refused(ctx):
    vm = new_uuid()
    body = {"params": {"resourceType": VM, "resourceUuid": vm, "tag": "web"}}
    r = ctx.call("POST", "/user-tags", body)
    assert r.status == 200 and r.body["inventory"]["type"] == "User" and "inherent" not in r.body["inventory"], r
    r = ctx.call("POST", "/user-tags", body)
    assert r.status == 503 and r.error["code"] == "SYS.1007" and "Duplicated Tag" in r.error["details"], r
    r = ctx.get("/user-tags?q=resourceUuid=" + vm)
    assert len(r.body["inventories"]) == 1
    # user tags are not system tags
    assert ctx.get("/system-tags?q=resourceUuid=" + vm).body["inventories"] == []


def test_create_system_tags_in_one_call(ctx):
    vm = new_uuid()
    r = ctx.call("POST", "/system-tags/%s/tags" % vm, {"params": {"resourceType": VM, "tags": ["a::1", "b::2"]}})
    assert r.status == 200, r
    assert sorted(t["tag"] for t in r.body["inventories"]) == ["a::1", "b::2"]
    r = ctx.call("POST", "/system-tags/%s/tags" % vm, {"params": {"resourceType": VM, "tags": []}})
    assert r.status == 400 and "tags" in r.error["details"], r


def test_tag_text_rules(ctx):
    vm = new_uuid()
    for bad in ["::x", "x::", "a::::b", "x" * 513, "tab\tinside"]:
        r = create_system_tag(ctx, vm, bad)
        assert r.status == 400 and r.error["code"] == "SYS.1007", (bad, r)
    r = create_system_tag(ctx, vm, "ok", rtype="VmInstance")
    assert r.status == 400 and "VO" in r.error["details"], r
    r = ctx.call("POST", "/system-tags", {"params": {"resourceType": VM, "tag": "x"}})
    assert r.status == 400 and "resourceUuid" in r.error["details"], r


def test_resource_of_the_suite_must_exist(ctx):
    r = create_system_tag(ctx, new_uuid(), "x", rtype="AccountVO")
    assert r.status == 503 and r.error["code"] == "SYS.1003", r
    me = ctx.get("/accounts?q=name=admin").body["inventories"][0]["uuid"]
    r = create_system_tag(ctx, me, "owner::ops", rtype="AccountVO")
    assert r.status == 200, r


def test_delete_unknown_tag_succeeds_and_modes(ctx):
    r = ctx.call("DELETE", "/tags/" + new_uuid())
    assert r.status == 200 and r.body == {}, r
    r = ctx.call("DELETE", "/tags/%s?deleteMode=Sometimes" % new_uuid())
    assert r.status == 400 and "deleteMode" in r.error["details"], r


def test_normal_account_sees_and_changes_only_its_tags(ctx):
    acc = ctx.create_account("tagger-" + new_uuid()[:8])
    s = ctx.login(acc["name"], "password-123")
    vm = new_uuid()
    mine = create_system_tag(ctx, vm, "mine", session=s).body["inventory"]
    admins = create_system_tag(ctx, vm, "admins").body["inventory"]
    seen = {t["uuid"] for t in ctx.get("/system-tags?q=resourceUuid=" + vm, session=s).body["inventories"]}
    assert seen == {mine["uuid"]}, seen
    r = ctx.call("DELETE", "/tags/" + admins["uuid"], session=s)
    assert r.status == 503 and r.error["code"] == "ID.1002", r
    r = ctx.call("DELETE", "/tags/" + mine["uuid"], session=s)
    assert r.status == 200, r


def test_tags_of_a_deleted_account_go_with_it(ctx):
    acc = ctx.create_account("doomed-" + new_uuid()[:8])
    assert create_system_tag(ctx, acc["uuid"], "k::v", rtype="AccountVO").status == 200
    r = ctx.call("DELETE", "/accounts/" + acc["uuid"])
    assert r.status == 200, r
    from zstest import wait_for
    wait_for(lambda: ctx.get("/system-tags?q=resourceUuid=" + acc["uuid"]).body["inventories"] == [],
             10, "the tags of the deleted account to go")


def test_schema_header(ctx):
    vm = new_uuid()
    create_system_tag(ctx, vm, "s1")
    r = ctx.get("/system-tags?q=resourceUuid=" + vm, headers={"X-JSON-Schema": "true"})
    assert r.body["schema"] == {"inventories[0]": "org.zstack.header.tag.SystemTagInventory"}, r
    r = ctx.get("/system-tags?q=resourceUuid=" + vm)
    assert "schema" not in r.body
