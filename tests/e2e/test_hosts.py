"""Hosts and GetCpuMemoryCapacity (apis.md §6, seed 004 §4.5). The over-provisioning ratio is
the default 10. Every test deletes the hosts it made."""
import uuid

from zstest import wait_for

GiB = 1024 ** 3


def add(ctx, zone, cluster, cpus, memory_gib, name="host", session=None, **extra):
    params = {"name": name, "managementIp": "h-%s.hosts.test" % uuid.uuid4().hex[:12], "zoneUuid": zone,
              "clusterUuid": cluster, "cpuNum": cpus, "totalMemory": memory_gib * GiB}
    params.update(extra)
    r = ctx.call("POST", "/hosts", {"params": params}, session=session)
    return r


def update(ctx, host, **changes):
    return ctx.call("PUT", "/hosts/%s/actions" % host, {"updateHost": changes})


def test_hosts_add_query_update_delete(ctx):
    zone, cluster = uuid.uuid4().hex, uuid.uuid4().hex
    r = add(ctx, zone, cluster, 4, 8, name="h1", description="first", systemTags=["e2e::host"])
    assert r.status == 200, r
    inv = r.body["inventory"]
    host = inv["uuid"]
    try:
        assert inv["name"] == "h1" and inv["zoneUuid"] == zone and inv["clusterUuid"] == cluster, inv
        assert inv["cpuNum"] == 4 and inv["totalMemory"] == 8 * GiB, inv
        assert inv["availableCpu"] == 40 and inv["availableMemory"] == 8 * GiB, inv
        assert inv["state"] == "Enabled" and inv["status"] == "Connected", inv
        assert "usedCpu" not in inv and inv["createDate"].endswith(("AM", "PM")), inv
        # the same managementIp twice is refused
        r = add(ctx, zone, cluster, 1, 1, managementIp=inv["managementIp"])
        assert r.status == 503 and inv["managementIp"] in r.error["details"], r
        # bad input
        assert add(ctx, "nope", cluster, 1, 1).status == 400
        assert add(ctx, zone, cluster, 0, 1).status == 400
        r = add(ctx, zone, cluster, 1, 1, managementIp="not an ip!")
        assert r.status == 400 and "managementIp" in r.error["details"], r
        # queries
        got = ctx.get("/hosts/" + host, headers={"X-JSON-Schema": "true"}).body
        assert [h["uuid"] for h in got["inventories"]] == [host], got
        assert got["schema"]["inventories[0]"] == "org.zstack.header.host.HostInventory", got
        assert [h["uuid"] for h in ctx.get("/hosts?q=zoneUuid=%s" % zone).body["inventories"]] == [host]
        # update
        r = update(ctx, host, usedCpu=15, usedMemory=3 * GiB, name="h1b", state="Disabled")
        assert r.status == 200, r
        inv = r.body["inventory"]
        assert inv["availableCpu"] == 25 and inv["availableMemory"] == 5 * GiB, inv
        assert inv["name"] == "h1b" and inv["state"] == "Disabled", inv
        assert update(ctx, host, state="Broken").status == 400
        r = update(ctx, host, usedMemory=9 * GiB)
        assert r.status == 400 and "usedMemory" in r.error["details"], r
        r = update(ctx, uuid.uuid4().hex, name="x")
        assert r.status == 503 and r.error["code"] == "SYS.1003", r
        # hosts are the admin's: a normal account neither adds nor sees them
        name = "hosts-normal-%s" % uuid.uuid4().hex[:6]
        ctx.create_account(name, "password-123")
        normal = ctx.login(name, "password-123")
        assert ctx.get("/hosts/" + host, session=normal).body["inventories"] == []
        assert add(ctx, zone, cluster, 1, 1, session=normal).error["code"] == "ID.1002"
        tags = ctx.get("/system-tags?q=resourceUuid=%s" % host).body["inventories"]
        assert [t["tag"] for t in tags] == ["e2e::host"] and tags[0]["resourceType"] == "HostVO", tags
    finally:
        assert ctx.call("DELETE", "/hosts/" + host).status == 200
    assert ctx.get("/hosts/" + host).body["inventories"] == []
    assert ctx.call("DELETE", "/hosts/" + host).status == 200   # already gone: fine
    # "resource.deleted" {HostVO} took the host's tags with it
    wait_for(lambda: ctx.get("/system-tags?q=resourceUuid=%s" % host).body["inventories"] == [],
             what="the deleted host's tags to go")


def capacity(ctx, query):
    return ctx.get("/hosts/capacities/cpu-memory" + query)


def test_capacity_sums_over_enabled_connected_hosts(ctx):
    z1, z2 = uuid.uuid4().hex, uuid.uuid4().hex
    c1, c2, c3 = uuid.uuid4().hex, uuid.uuid4().hex, uuid.uuid4().hex
    made = {}
    try:
        for name, zone, cluster, cpus, mem in [("a", z1, c1, 4, 8), ("b", z1, c2, 8, 16), ("c", z2, c3, 2, 4),
                                               ("off", z2, c3, 16, 64), ("gone", z1, c1, 32, 128)]:
            r = add(ctx, zone, cluster, cpus, mem, name=name)
            assert r.status == 200, r
            made[name] = r.body["inventory"]["uuid"]
        assert update(ctx, made["a"], usedCpu=10, usedMemory=2 * GiB).status == 200
        assert update(ctx, made["off"], state="Disabled").status == 200
        assert update(ctx, made["gone"], status="Disconnected").status == 200
        a, b, c = made["a"], made["b"], made["c"]

        def expect(body, kind, total_cpu, avail_cpu, total_mem, avail_mem, cpus, data):
            assert body["resourceType"] == kind, body
            assert (body["totalCpu"], body["availableCpu"], body["totalMemory"], body["availableMemory"],
                    body["managedCpuNum"]) == (total_cpu, avail_cpu, total_mem * GiB, avail_mem * GiB, cpus), body
            assert [(d["resourceUuid"], d["totalCpu"], d["availableMemory"]) for d in body["capacityData"]] == \
                [(u, tc, am * GiB) for u, tc, am in data], body

        # hosts: repeated parameter and comma list; the disabled and disconnected count nothing
        r = capacity(ctx, "?hostUuids=%s&hostUuids=%s" % (a, b))
        assert r.status == 200, r
        expect(r.body, "HostVO", 120, 110, 24, 22, 12, [(a, 40, 6), (b, 80, 16)])
        expect(capacity(ctx, "?hostUuids=%s,%s,%s" % (a, made["off"], made["gone"])).body, "HostVO",
               40, 30, 8, 6, 4, [(a, 40, 6), (made["off"], 0, 0), (made["gone"], 0, 0)])
        # clusters and zones
        expect(capacity(ctx, "?clusterUuids=%s&clusterUuids=%s" % (c1, c3)).body, "ClusterVO",
               60, 50, 12, 10, 6, [(c1, 40, 6), (c3, 20, 4)])
        expect(capacity(ctx, "?zoneUuids=%s,%s" % (z1, z2)).body, "ZoneVO",
               140, 130, 28, 26, 14, [(z1, 120, 22), (z2, 20, 4)])
        # precedence: hostUuids > clusterUuids > zoneUuids
        expect(capacity(ctx, "?zoneUuids=%s&clusterUuids=%s&hostUuids=%s" % (z1, c3, b)).body, "HostVO",
               80, 80, 16, 16, 8, [(b, 80, 16)])
        expect(capacity(ctx, "?zoneUuids=%s&clusterUuids=%s" % (z1, c3)).body, "ClusterVO",
               20, 20, 4, 4, 2, [(c3, 20, 4)])
        # all=true: every host, per zone
        body = capacity(ctx, "?all=true").body
        assert body["resourceType"] == "ZoneVO", body
        per_zone = {d["resourceUuid"]: d for d in body["capacityData"]}
        assert per_zone[z1]["totalCpu"] == 120 and per_zone[z2]["totalCpu"] == 20, body
        assert body["totalCpu"] == sum(d["totalCpu"] for d in body["capacityData"]), body
        # no list and all not true: 400
        for q in ("", "?all=false", "?zoneUuids=", "?hostUuids=nope"):
            r = capacity(ctx, q)
            assert r.status == 400 and r.error["code"] == "SYS.1007", (q, r)
    finally:
        for h in made.values():
            ctx.call("DELETE", "/hosts/" + h)
