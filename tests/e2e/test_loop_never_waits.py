"""A service's loop never waits on another service (service.h, "Other services: never from the
loop thread"): a request whose handler needs a stopped peer's answer waits for it at the pool,
while the other requests of the same service go on being answered."""
import os
import signal
import uuid

from zstest import wait_for


def core_log(ctx):
    with open(os.path.join(ctx.stack.data, "log", "core.log"), errors="replace") as f:
        return f.read()


def test_a_stopped_peer_delays_only_the_request_that_needs_it(ctx):
    stack = ctx.stack
    # core with debug logs, so the test sees AddHost go to the pool for svc-license's answer
    stack.kill("core", signal.SIGTERM)
    stack.start("core", env={"ZS_LOG_LEVEL": "debug"})
    stack.wait_ready()
    ctx.admin = ctx.login()
    license_proc = stack.procs["license"]
    license_proc.send_signal(signal.SIGSTOP)
    host = None
    try:
        params = {"name": "waits-for-license", "managementIp": "h-%s.hosts.test" % uuid.uuid4().hex[:12],
                  "zoneUuid": uuid.uuid4().hex, "clusterUuid": uuid.uuid4().hex, "cpuNum": 4,
                  "totalMemory": 1024 ** 3}
        r = ctx.call("POST", "/hosts", {"params": params}, wait=False)
        assert r.status == 202, r
        job = r.body["location"].split("/zstack/v1/", 1)[1]
        # AddHost has reached core's loop, which asks svc-license (stopped)
        wait_for(lambda: "handling AddHost" in core_log(ctx), 10, "core to handle AddHost")
        # ... while core answers its other requests: a query, a login, a session check
        accounts = ctx.get("/accounts?q=name=admin")
        assert accounts.status == 200 and len(accounts.body["inventories"]) == 1, accounts
        assert ctx.login()
        # and AddHost is still waiting: had core's loop waited for svc-license, the query
        # above would have been answered only after AddHost's call timed out and it failed
        still = stack.request("GET", "/zstack/v1/" + job, headers=ctx.auth())
        assert still.status == 202, still
        assert "AddHost waits for 1 answer(s) of other services" in core_log(ctx)
    finally:
        license_proc.send_signal(signal.SIGCONT)
    try:
        done = ctx.poll(r.body["location"])
        assert done.status == 200, done
        host = done.body["inventory"]["uuid"]
        assert ctx.get("/hosts/" + host).body["inventories"][0]["name"] == "waits-for-license"
    finally:
        if host:
            ctx.call("DELETE", "/hosts/" + host)
        stack.kill("core", signal.SIGTERM)
        stack.start("core")
        stack.wait_ready()
        ctx.admin = ctx.login()


def test_tags_of_a_new_resource_reach_svc_tags_once_it_is_back(ctx):
    """The tags of a created resource go to svc-tags after the creation commits, from the
    creator's durable outbox: with svc-tags down the creation still succeeds (its tags are
    checked before), and they are attached, once, when svc-tags is back."""
    stack = ctx.stack
    stack.kill("tags", signal.SIGKILL)
    acc = None
    try:
        name = "outbox-" + uuid.uuid4().hex[:8]
        r = ctx.call("POST", "/accounts", {"params": {"name": name, "password": "x" * 128},
                                           "systemTags": ["outbox::tag"], "userTags": ["outbox-user"]})
        assert r.status == 200, r
        acc = r.body["inventory"]["uuid"]
        # a tag svc-tags would refuse is refused by the creator, before anything commits
        bad = ctx.call("POST", "/accounts", {"params": {"name": name + "-bad", "password": "x" * 128},
                                             "userTags": ["same", "same"]})
        assert bad.status == 400 and "given twice" in bad.error["details"], bad
        assert ctx.get("/accounts?q=name=%s-bad" % name).body["inventories"] == []
    finally:
        stack.start("tags")
        stack.wait_ready()
    sys_tags = lambda: ctx.get("/system-tags?q=resourceUuid=" + acc).body["inventories"]
    wait_for(lambda: [t["tag"] for t in sys_tags()] == ["outbox::tag"], 15,
             "the account's system tag to be attached")
    user = ctx.get("/user-tags?q=resourceUuid=" + acc).body["inventories"]
    assert [t["tag"] for t in user] == ["outbox-user"], user
    assert ctx.call("DELETE", "/accounts/" + acc).status == 200
