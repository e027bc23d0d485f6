"""Multi-host operation: a second, separate stack whose processes talk over tcp:// endpoints
on loopback (as they would across hosts), with svc-tags scaled to two instances sharing one
LMDB environment. Requests spread over both instances; killing one leaves the service up."""
import os
import shutil
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
        for i in range(20):
            r = c.call("POST", "/user-tags", {"params": {"resourceType": VM, "resourceUuid": vm, "tag": "t%d" % i}})
            assert r.status == 200, r
        # both instances served (round robin over the DEALER's two connections)
        logs = [open(os.path.join(data, "log", n + ".log")).read() for n in ("tags", "tags-2")]
        assert all("serving on tcp://" in text for text in logs), logs
        assert all("handling CreateUserTag" in text for text in logs), "one instance served nothing"
        assert len(c.get("/user-tags?q=resourceUuid=" + vm).body["inventories"]) == 20
        # one instance dies: the service keeps answering through the other
        stack.kill("tags-2")
        for i in range(5):
            r = c.call("POST", "/user-tags", {"params": {"resourceType": VM, "resourceUuid": vm, "tag": "after-%d" % i}})
            assert r.status == 200, r
        assert len(c.get("/user-tags?q=resourceUuid=" + vm).body["inventories"]) == 25
    finally:
        problems = stack.stop()
        reports = stack.sanitizer_reports()
        if not problems and not reports:
            shutil.rmtree(data, ignore_errors=True)
    assert not problems, problems
    assert not reports, reports
