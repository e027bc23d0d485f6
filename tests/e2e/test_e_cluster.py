"""Multi-host operation: a second, separate stack whose processes talk over tcp:// endpoints
on loopback (as they would across hosts), with svc-tags scaled to two instances sharing one
LMDB environment. Requests spread over both instances; killing one leaves the service up."""
import os
import shutil
import subprocess
import tempfile
import uuid

import zstest
from zstest import free_port, wait_for

VM = "VmInstanceVO"


def test_tcp_cluster_with_two_tags_instances(ctx):
    data = tempfile.mkdtemp(prefix="zs-e2e-cluster-")
    services = ["broker", "core", "tags"]
    ports = {s: free_port() for s in services + ["events-in", "events-out"]}
    tags2 = free_port()
    env = {"ZS_BUS_%s" % s.upper().replace("-", "_"): "tcp://127.0.0.1:%d" % p for s, p in ports.items()}
    env["ZS_BUS_TAGS"] = "tcp://127.0.0.1:%d,tcp://127.0.0.1:%d" % (ports["tags"], tags2)
    env["ZS_BUS_TAGS_BIND"] = "tcp://127.0.0.1:%d" % ports["tags"]
    env["ZS_CORE_READY_ROLES"] = "broker,core,tags,gateway"
    env["ZS_LOG_LEVEL"] = "debug"
    # a tcp bus is CURVE-secured: every process needs the installation's keys
    env["ZS_BUS_KEYS"] = os.path.join(data, "keys")
    subprocess.run([os.path.join(ctx.stack.bin, "zs-keys"), "generate", env["ZS_BUS_KEYS"]],
                   check=True, stdout=subprocess.DEVNULL)
    stack = zstest.Stack(ctx.stack.bin, data, env)
    stack.services = services
    try:
        stack.start_all()
        stack.start("tags", instance="tags-2", env={"ZS_BUS_TAGS_BIND": "tcp://127.0.0.1:%d" % tags2})
        c = zstest.Context(stack)
        c.admin = c.login()
        wait_for(lambda: len([n for n in c.get("/management-nodes?q=role=tags").body["inventories"]]) == 2,
                 10, "two tags nodes")
        vm = uuid.uuid4().hex

        def served_by_both():
            return all("handling CreateUserTag" in open(os.path.join(data, "log", n + ".log")).read()
                       for n in ("tags", "tags-2"))
        # requests spread round-robin over the connections that are up; a connection to the
        # younger instance may take a reconnect interval to come up, so keep going (bounded)
        created = 0
        while created < 100 and not (created >= 20 and served_by_both()):
            r = c.call("POST", "/user-tags", {"params": {"resourceType": VM, "resourceUuid": vm,
                                                         "tag": "t%d" % created}})
            assert r.status == 200, r
            created += 1
        assert served_by_both(), "one instance served nothing in %d requests" % created
        assert len(c.get("/user-tags?q=resourceUuid=" + vm).body["inventories"]) == created
        # one instance dies: the service keeps answering through the other
        stack.kill("tags-2")
        for i in range(5):
            r = c.call("POST", "/user-tags", {"params": {"resourceType": VM, "resourceUuid": vm, "tag": "after-%d" % i}})
            assert r.status == 200, r
        assert len(c.get("/user-tags?q=resourceUuid=" + vm).body["inventories"]) == created + 5
    finally:
        problems = stack.finish()
    assert not problems, problems


def test_tcp_bus_refuses_clients_without_an_allowed_key(ctx):
    """Every tcp endpoint (each service's ROUTER, the event intake and fan-out) is a CURVE
    server that admits only certificates of <keys>/public: a plain client and a client with a
    key of its own get nothing through, a forged admin caller changes nothing; the same probe
    with an allowed key is answered (so the refusals are not an unreachable endpoint)."""
    data = tempfile.mkdtemp(prefix="zs-e2e-curve-")
    keys = os.path.join(data, "keys")
    subprocess.run([os.path.join(ctx.stack.bin, "zs-keys"), "generate", keys], check=True,
                   stdout=subprocess.DEVNULL)
    probe = os.path.join(ctx.stack.bin, "zs-bench-bus_probe")
    names = [s for s in zstest.SERVICES if os.access(os.path.join(ctx.stack.bin, "zs-" + s), os.X_OK)]
    eps = {s: "tcp://127.0.0.1:%d" % free_port() for s in names + ["events-in", "events-out"]}
    env = {"ZS_BUS_%s" % s.upper().replace("-", "_"): ep for s, ep in eps.items()}
    env["ZS_BUS_KEYS"] = keys
    stack = zstest.Stack(ctx.stack.bin, data, env)
    stack.services = names
    allowed = os.path.join(keys, "gateway.secret")

    def cert(service):
        owner = "broker" if service.startswith("events") else service
        return os.path.join(keys, "public", owner + ".cert")

    def call(service, client, api="Ping", body="{}", caller="null", job="sync", wait=1500):
        return subprocess.Popen([probe, "call", eps[service], "-" if client == "plain" else cert(service),
                                 client if client != "plain" else "new", api, body, caller, job, str(wait)],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    try:
        stack.start_all()
        c = zstest.Context(stack)
        c.admin = c.login()
        admin_uuid = c.get("/accounts?q=name=admin").body["inventories"][0]["uuid"]
        forged = '{"accountUuid":"%s","accountName":"admin","admin":true}' % admin_uuid
        steal = '{"uuid":"%s","password":"%s"}' % (admin_uuid, zstest.sha512("stolen-password"))
        probes = []
        for s in names:
            for client in ("plain", "new"):
                probes.append(("%s %s Ping" % (s, client), call(s, client)))
        for client in ("plain", "new"):
            for job in ("sync", "job"):
                probes.append(("core %s forged UpdateAccount %s" % (client, job),
                               call("core", client, "UpdateAccount", steal, forged, job)))
        # event fan-out: a subscriber without an allowed key hears nothing while events flow;
        # event intake: what an unknown publisher sends reaches no subscriber
        src = subprocess.Popen([probe, "publish", eps["events-in"], cert("events-in"), allowed,
                                "i11.probe", "{}", "2500"])
        bad_src = subprocess.Popen([probe, "publish", eps["events-in"], cert("events-in"), "new",
                                    "i11.forged", "{}", "2500"])
        plain_src = subprocess.Popen([probe, "publish", eps["events-in"], "-", "new",
                                      "i11.plain", "{}", "2500"])
        listen = lambda client, topic: subprocess.Popen(
            [probe, "listen", eps["events-out"], "-" if client == "plain" else cert("events-out"),
             "new" if client == "plain" else client, topic, "2000"], stdout=subprocess.PIPE)
        probes += [("events-out plain listener", listen("plain", "i11.probe")),
                   ("events-out unknown-key listener", listen("new", "i11.probe")),
                   ("events-in unknown-key publisher", listen(allowed, "i11.forged")),
                   ("events-in plain publisher", listen(allowed, "i11.plain"))]
        good = listen(allowed, "i11.probe")
        for what, p in probes:
            assert p.wait(timeout=30) == 3, "%s got through: %s" % (what, p.stdout.read())
        assert good.wait(timeout=30) == 0, "an allowed subscriber heard nothing (control)"
        for p in (src, bad_src, plain_src):
            p.wait(timeout=30)
        # controls: an allowed key is answered on every endpoint
        for s in names:
            p = call(s, allowed, wait=5000)
            assert p.wait(timeout=30) == 0, "%s does not answer an allowed key (control)" % s
        # nothing was executed: the admin password is unchanged
        c.login()
        r = stack.request("PUT", "/zstack/v1/accounts/login", {"logInByAccount": {
            "accountName": "admin", "password": zstest.sha512("stolen-password")}})
        assert r.status != 200, r
        assert not [l for l in open(os.path.join(data, "log", "core.log")) if "UpdateAccount" in l]
    finally:
        problems = stack.finish()
    assert not problems, problems


def test_a_tcp_bus_without_keys_refuses_to_start(ctx):
    """A process whose bus uses tcp and that lacks its certificate exits at once, naming the
    missing file and the command that makes it; the ipc bus of the shared stack is owner-only."""
    data = tempfile.mkdtemp(prefix="zs-e2e-nokeys-")
    try:
        # the shared stack's environment: a sanitizer report lands in its log directory
        env = dict(ctx.stack.env, ZS_DATA_DIR=data, ZS_BUS_TAGS="tcp://127.0.0.1:%d" % free_port())
        p = subprocess.run([os.path.join(ctx.stack.bin, "zs-tags")], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
        out = p.stdout.decode()
        assert p.returncode != 0, out
        assert os.path.join(data, "keys", "tags.secret") in out and "zs-keys generate" in out, out
    finally:
        shutil.rmtree(data, ignore_errors=True)
    mode = os.stat(os.path.join(ctx.stack.data, "bus")).st_mode & 0o777
    assert mode == 0o700, oct(mode)
