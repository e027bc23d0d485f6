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
        problems = stack.stop()
        reports = stack.sanitizer_reports()
        if not problems and not reports:
            shutil.rmtree(data, ignore_errors=True)
    assert not problems, problems
    assert not reports, reports
