"""Licenses (apis.md §8): Community default, signed licenses issued by zs-license-tool with the
run's TEST-ONLY issuer key (zstest.Stack generates it), refusals with their codes, add-ons,
enforcement through AddHost, expiry, reload from the directory, delete, records.
Every test leaves the installation as it found it: Community, no add-on."""
import base64
import datetime
import json
import os
import shutil
import subprocess
import uuid

from zstest import wait_for

ACCEPTED = []   # uuids of licenses the suite accepted (for the records test)
REFUSED = []
GiB = 1024 ** 3


def tool(ctx):
    return os.path.join(ctx.stack.bin, "zs-license-tool")


def when(days):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)
    return t.strftime("%Y-%m-%d %H:%M:%S")


def info(ctx):
    r = ctx.stack.request("GET", "/zstack/v1/licenses")   # no session needed
    assert r.status == 200, r
    return r.body["inventory"]


def issue(ctx, *, request=None, issued=-20, expires=365, hosts=10, key=None, extra=()):
    """Issues a license file with the tool; returns (path, uuid)."""
    out = os.path.join(ctx.stack.data, "lic-%s.lic" % uuid.uuid4().hex[:8])
    lic_uuid = uuid.uuid4().hex
    args = [tool(ctx), "issue", "--key", key or os.path.join(ctx.stack.issuer_dir, "issuer.key"),
            "--request", request or info(ctx)["licenseRequest"], "--user", "e2e@example.com",
            "--issued", when(issued), "--uuid", lic_uuid, "-o", out]
    if expires is not None:
        args += ["--expires", when(expires)]
    if "--addon" not in extra:
        args += ["--type", "Paid", "--host-num", str(hosts)]
    subprocess.run(args + list(extra), check=True, stdout=subprocess.DEVNULL)
    return out, lic_uuid


def b64(path):
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode()


def install(ctx, license_b64, session=None):
    mn = info(ctx)["managementNodeUuid"]
    return ctx.call("PUT", "/licenses/mn/%s/actions" % mn, {"updateLicense": {"license": license_b64}},
                    session=session)


def delete(ctx, query=""):
    mn = info(ctx)["managementNodeUuid"]
    return ctx.call("DELETE", "/licenses/mn/%s/actions%s" % (mn, query))


def accepted(ctx, path, lic_uuid):
    r = install(ctx, b64(path))
    assert r.status == 200, r
    assert r.body["inventory"]["uuid"] == lic_uuid, r
    ACCEPTED.append(lic_uuid)
    return r.body["inventory"]


def refused(ctx, license_b64, code, lic_uuid=None):
    r = install(ctx, license_b64)
    assert r.status == 503 and r.error["code"] == code, r
    if lic_uuid:
        REFUSED.append(lic_uuid)
    return r.error["details"]


def back_to_community(ctx):
    for a in ctx.stack.request("GET", "/zstack/v1/licenses/addons").body["addons"]:
        assert delete(ctx, "?uuid=" + a["uuid"]).status == 200
    assert delete(ctx).status == 200
    assert info(ctx)["licenseType"] == "Community"


def capabilities(ctx):
    r = ctx.get("/licenses/capabilities")
    assert r.status == 200, r
    return r.body["capabilities"]


def add_host(ctx, cpus=4, name="lic-host"):
    return ctx.call("POST", "/hosts", {"params": {
        "name": name, "managementIp": "h-%s.lic.test" % uuid.uuid4().hex[:12],
        "zoneUuid": uuid.uuid4().hex, "clusterUuid": uuid.uuid4().hex, "cpuNum": cpus,
        "totalMemory": 8 * GiB}})


def test_license_default_is_community(ctx):
    inv = info(ctx)
    assert inv["licenseType"] == "Community", inv
    assert inv["hostNum"] == 2147483647 and inv["expired"] is False, inv
    assert "expiredDate" not in inv and len(inv["managementNodeUuid"]) == 32, inv
    request = json.loads(base64.b64decode(inv["licenseRequest"]))
    assert len(request["installationId"]) == 32 and len(request["thumbprint"]) == 32, request
    r = ctx.stack.request("GET", "/zstack/v1/licenses", headers={"X-JSON-Schema": "true"})
    assert r.body["schema"] == {"inventory": "org.zstack.license.LicenseInventory"}, r
    assert ctx.stack.request("GET", "/zstack/v1/licenses/addons").body == {"addons": []}
    assert ctx.stack.request("GET", "/zstack/v1/licenses/capabilities").status == 400   # needs a session
    assert capabilities(ctx) == {"host": True}


def test_license_refusals_carry_their_codes(ctx):
    request = info(ctx)["licenseRequest"]
    ours = json.loads(base64.b64decode(request))
    # undecodable: not base64, base64 of no license file
    assert "base64" in refused(ctx, "%%% not base64 %%%", "LICENSE.1006")
    refused(ctx, base64.b64encode(b"hello").decode(), "LICENSE.1006")
    # tampered: hostNum raised inside a correctly signed file
    path, lic = issue(ctx, hosts=5)
    with open(path) as f:
        doc = json.load(f)
    payload = json.loads(base64.b64decode(doc["payload"]))
    payload["hostNum"] = 5000
    doc["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    details = refused(ctx, base64.b64encode(json.dumps(doc).encode()).decode(), "LICENSE.1006", lic)
    assert "signature" in details, details
    # signed by an issuer this installation does not trust
    other = os.path.join(ctx.stack.data, "other-issuer")
    subprocess.run([tool(ctx), "keygen", other], check=True, stdout=subprocess.DEVNULL)
    untrusting = base64.b64encode(json.dumps({"installationId": ours["installationId"],
                                              "thumbprint": ""}).encode()).decode()
    path, lic = issue(ctx, request=untrusting, key=os.path.join(other, "issuer.key"))
    refused(ctx, b64(path), "LICENSE.1006", lic)
    # the tool itself refuses to sign a request that trusts another key
    r = subprocess.run([tool(ctx), "issue", "--key", os.path.join(other, "issuer.key"), "--request", request,
                        "--type", "Paid", "--user", "x", "--host-num", "1", "--issued", when(-1), "-o",
                        os.path.join(other, "x.lic")], capture_output=True, text=True)
    assert r.returncode != 0 and "trusts the issuer key" in r.stderr, r
    # issued for another installation
    foreign = base64.b64encode(json.dumps({"installationId": uuid.uuid4().hex,
                                           "thumbprint": ours["thumbprint"]}).encode()).decode()
    path, lic = issue(ctx, request=foreign)
    assert ours["installationId"] in refused(ctx, b64(path), "LICENSE.1002", lic)
    # an add-on with no primary license
    path, lic = issue(ctx, extra=("--addon", "--name", "hybrid", "--modules", "vmware"))
    refused(ctx, b64(path), "LICENSE.1008", lic)
    # nothing changed
    assert info(ctx)["licenseType"] == "Community"
    assert ctx.stack.request("GET", "/zstack/v1/licenses/addons").body == {"addons": []}


def test_license_paid_is_accepted_shown_and_an_older_one_refused(ctx):
    path, lic = issue(ctx, issued=-20, expires=365, hosts=7, extra=("--cpu-num", "64"))
    inv = accepted(ctx, path, lic)
    assert inv["licenseType"] == "Paid" and inv["hostNum"] == 7 and inv["cpuNum"] == 64, inv
    assert inv["user"] == "e2e@example.com" and inv["expired"] is False, inv
    assert inv["issuedDate"][:10] == when(-20)[:10] and inv["expiredDate"][:10] == when(365)[:10], inv
    shown = info(ctx)
    assert shown["uuid"] == lic and shown["licenseType"] == "Paid" and "uploadDate" in shown, shown
    hosts = ctx.get("/hosts?count=true").body["total"]
    wait_for(lambda: info(ctx).get("availableHostNum") == 7 - hosts, what="availableHostNum")
    # older than the installed one
    older, old_uuid = issue(ctx, issued=-40, hosts=100)
    assert lic in refused(ctx, b64(older), "LICENSE.1004", old_uuid)
    # installing the same license again is harmless
    assert install(ctx, b64(path)).status == 200
    # only admins install licenses
    name = "lic-normal-%s" % uuid.uuid4().hex[:6]
    ctx.create_account(name, "password-123")
    r = install(ctx, b64(path), session=ctx.login(name, "password-123"))
    assert r.status == 503 and r.error["code"] == "ID.1002", r
    back_to_community(ctx)
    assert info(ctx).get("uuid") is None


def test_license_addon_on_top_of_a_primary(ctx):
    primary, p_uuid = issue(ctx, issued=-10, hosts=10)   # does not allow add-ons
    accepted(ctx, primary, p_uuid)
    addon, a_uuid = issue(ctx, issued=-9, expires=100, extra=("--addon", "--name", "hybrid",
                                                             "--modules", "vmware,baremetal"))
    assert "allowAddOns" in refused(ctx, b64(addon), "LICENSE.1008")
    allowing, p2_uuid = issue(ctx, issued=-8, hosts=10, extra=("--allow-addons",))
    accepted(ctx, allowing, p2_uuid)
    inv = accepted(ctx, addon, a_uuid)
    assert inv["name"] == "hybrid" and inv["modules"] == ["vmware", "baremetal"], inv
    assert inv["licenseType"] == "AddOn", inv
    addons = ctx.stack.request("GET", "/zstack/v1/licenses/addons").body["addons"]
    assert [a["uuid"] for a in addons] == [a_uuid] and addons[0]["expired"] is False, addons
    assert capabilities(ctx) == {"host": True, "vmware": True, "baremetal": True}
    assert info(ctx)["uuid"] == p2_uuid   # the primary is unchanged by an add-on
    # delete by module
    assert delete(ctx, "?module=vmware").status == 200
    assert ctx.stack.request("GET", "/zstack/v1/licenses/addons").body == {"addons": []}
    assert capabilities(ctx) == {"host": True}
    r = delete(ctx, "?module=vmware")
    assert r.status == 503 and r.error["code"] == "SYS.1003", r
    r = delete(ctx, "?uuid=" + uuid.uuid4().hex)
    assert r.status == 503 and r.error["code"] == "SYS.1003", r
    back_to_community(ctx)


def test_license_host_and_cpu_limits_enforced_by_addhost(ctx):
    already = ctx.get("/hosts?count=true").body["total"]
    path, lic = issue(ctx, issued=-5, hosts=already + 2, extra=("--cpu-num", "1000"))
    accepted(ctx, path, lic)
    made = []
    try:
        for i in range(2):
            r = add_host(ctx, cpus=8, name="lic-%d" % i)
            assert r.status == 200, r
            made.append(r.body["inventory"]["uuid"])
        r = add_host(ctx, cpus=1, name="lic-over")
        assert r.status == 503 and r.error["code"] == "LICENSE.1001", r
        assert "hostNum" in r.error["details"], r
        wait_for(lambda: info(ctx).get("availableHostNum") == 0, what="availableHostNum 0")
        assert ctx.get("/hosts?count=true").body["total"] == already + 2
        # after a delete there is room again, but not for more cpus than cpuNum allows
        assert ctx.call("DELETE", "/hosts/" + made.pop()).status == 200
        used = sum(h["cpuNum"] for h in ctx.get("/hosts").body["inventories"])
        r = add_host(ctx, cpus=1000 - used + 1, name="lic-cpus")
        assert r.status == 503 and r.error["code"] == "LICENSE.1001" and "cpuNum" in r.error["details"], r
        r = add_host(ctx, cpus=1000 - used, name="lic-cpus-ok")
        assert r.status == 200, r
        made.append(r.body["inventory"]["uuid"])
    finally:
        for h in made:
            ctx.call("DELETE", "/hosts/" + h)
        back_to_community(ctx)


def test_license_expired_blocks_licensed_apis_and_is_announced(ctx):
    path, lic = issue(ctx, issued=-60, expires=-1, hosts=100)
    inv = accepted(ctx, path, lic)
    assert inv["expired"] is True, inv
    try:
        assert info(ctx)["expired"] is True
        r = add_host(ctx, name="lic-expired")
        assert r.status == 503 and r.error["code"] == "LICENSE.1000", r
        assert lic in r.error["details"] and "host" in r.error["details"], r
        assert capabilities(ctx) == {"host": False}
        assert ctx.get("/hosts").status == 200   # reads are not licensed
        # "license.expired" reached the core's notifications (once)
        found = wait_for(lambda: ctx.get("/notifications?q=resourceUuid=%s" % lic).body["inventories"],
                         what="the license.expired notification")
        assert found[0]["type"] == "Error" and found[0]["resourceType"] == "LicenseVO", found
    finally:
        back_to_community(ctx)
    # Community again: AddHost is licensed
    r = add_host(ctx, name="lic-after-expiry")
    assert r.status == 200, r
    assert ctx.call("DELETE", "/hosts/" + r.body["inventory"]["uuid"]).status == 200


def test_license_expiring_soon_is_announced(ctx):
    path, lic = issue(ctx, issued=-3, expires=10, hosts=100)
    accepted(ctx, path, lic)
    try:
        found = wait_for(lambda: ctx.get("/notifications?q=resourceUuid=%s" % lic).body["inventories"],
                         what="the license.expiring notification")
        assert found[0]["type"] == "Warning" and "expires in" in found[0]["content"], found
    finally:
        back_to_community(ctx)


def test_license_reload_reads_files_dropped_into_the_directory(ctx):
    path, lic = issue(ctx, issued=-2, hosts=42)
    lic_dir = os.path.join(ctx.stack.data, "license")
    shutil.copy(path, os.path.join(lic_dir, "dropped.lic"))
    with open(os.path.join(lic_dir, "junk.lic"), "w") as f:
        f.write("not a license")
    try:
        assert info(ctx)["licenseType"] == "Community"   # not read until ReloadLicense
        r = ctx.call("PUT", "/licenses/actions", {"reloadLicense": {"managementNodeUuids": []}})
        assert r.status == 200, r
        assert r.body["inventory"]["uuid"] == lic and r.body["inventory"]["hostNum"] == 42, r
        ACCEPTED.append(lic)
        assert info(ctx)["uuid"] == lic
        # DeleteLicense removes the operator's file too
        assert delete(ctx, "?uuid=" + lic).status == 200
        assert not os.path.exists(os.path.join(lic_dir, "dropped.lic"))
        assert info(ctx)["licenseType"] == "Community"
    finally:
        os.remove(os.path.join(lic_dir, "junk.lic"))
        back_to_community(ctx)


def test_license_records_keep_every_accepted_license(ctx):
    r = ctx.stack.request("GET", "/zstack/v1/licenses/records")
    assert r.status == 200, r
    uuids = [i["uuid"] for i in r.body["inventories"]]
    assert r.body["total"] == len(uuids) and len(set(uuids)) == len(uuids), r
    assert set(ACCEPTED) <= set(uuids), (ACCEPTED, uuids)
    assert not set(REFUSED) & set(uuids)
    rec = [i for i in r.body["inventories"] if i["uuid"] == ACCEPTED[0]][0]
    assert rec["licenseType"] == "Paid" and "uploadDate" in rec and "license" not in rec, rec
    assert info(ctx)["licenseType"] == "Community"
