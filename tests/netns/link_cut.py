#!/usr/bin/env python3
"""The network path of one of two svc-tags instances is cut (iptables drops every packet to and
from its port: DROP, no TCP reset) while they serve reads; then an instance is killed with -9.
Runs inside namespace i11-m, set up by tests/netns/run. (Instances of a service share one store,
so they live on one host, docs/deployment.md: the cut is per instance, not per host.)

Shows: every GET succeeds through the live instance while the path is cut, and their p99
stays within a few seconds (the per-attempt timeout), not the 30 s sync deadline; a create
sent during the cut finishes once; the silent peer stops getting requests after the
heartbeat timeout; after kill -9 of an instance reads keep succeeding. Prints the figures and
"N passed, N failed"."""
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import zstest  # noqa: E402
from zstest import wait_for  # noqa: E402

VM = "VmInstanceVO"
MAIN = "10.11.0.1"
HOST = "10.11.0.2"   # namespace i11-a: both tags instances
PORTS = {"tags": 5003, "tags-2": 5004}
SILENCED = "tags-2"
CUT_SECONDS = 10
CLIENTS = 8
SLOW_S = 1.0   # a GET slower than this went to the silent peer first


class NsStack(zstest.Stack):
    """zstest.Stack whose tags instances run in namespace i11-a."""

    def start(self, name, instance=None, env=None):
        key = instance or name
        if key not in PORTS:
            return super().start(name, instance, env)
        penv = dict(self.env)
        penv["ZS_BUS_TAGS_BIND"] = "tcp://%s:%d" % (HOST, PORTS[key])
        penv["ZS_LOG_LEVEL"] = "debug"
        log = open(os.path.join(self.data, "log", key + ".log"), "ab")
        self.procs[key] = subprocess.Popen(["ip", "netns", "exec", "i11-a", os.path.join(self.bin, "zs-tags")],
                                           env=penv, stdout=log, stderr=subprocess.STDOUT)
        log.close()


def silence(port, on):
    """Drops (never rejects: no TCP reset, no ICMP) every packet to and from the instance's
    port inside namespace i11-a, or stops."""
    op = "-A" if on else "-D"
    for chain, match in (("INPUT", "--dport"), ("OUTPUT", "--sport")):
        subprocess.run(["ip", "netns", "exec", "i11-a", "iptables", op, chain, "-p", "tcp", match, str(port),
                        "-j", "DROP"], check=True)


def timed_get(c, path):
    t0 = time.time()
    r = c.get(path)
    return t0, time.time() - t0, r.status


def p99(values):
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * 0.99))]


def main():
    bin_dir = os.environ.get("ZS_BIN", "build/bin")
    data = tempfile.mkdtemp(prefix="zs-netns-i11-")
    keys = os.path.join(data, "keys")
    subprocess.run([os.path.join(bin_dir, "zs-keys"), "generate", keys], check=True, stdout=subprocess.DEVNULL)
    env = {"ZS_BUS_KEYS": keys,
           "ZS_BUS_BROKER": "tcp://%s:5001" % MAIN, "ZS_BUS_CORE": "tcp://%s:5002" % MAIN,
           "ZS_BUS_EVENTS_IN": "tcp://%s:5008" % MAIN, "ZS_BUS_EVENTS_OUT": "tcp://%s:5009" % MAIN,
           "ZS_BUS_TAGS": "tcp://%s:%d,tcp://%s:%d" % (HOST, PORTS["tags"], HOST, PORTS["tags-2"]),
           "ZS_CORE_READY_ROLES": "broker,core,tags,gateway"}
    stack = NsStack(bin_dir, data, env)
    stack.services = ["broker", "core", "tags"]
    results = []

    def check(name, fn):
        t0 = time.time()
        try:
            fn()
            results.append(True)
            print("ok   %-50s %.2fs" % (name, time.time() - t0), flush=True)
        except Exception as e:   # noqa: BLE001 - report and go on
            results.append(False)
            print("FAIL %-50s %s" % (name, e), flush=True)

    try:
        stack.start_all()
        stack.start("tags", instance="tags-2")
        c = zstest.Context(stack)
        c.admin = c.login()
        wait_for(lambda: len(c.get("/management-nodes?q=role=tags").body["inventories"]) == 2, 20,
                 "two tags nodes")
        vm = uuid.uuid4().hex
        r = c.call("POST", "/user-tags", {"params": {"resourceType": VM, "resourceUuid": vm, "tag": "before"}})
        assert r.status == 200, r
        path = "/user-tags/" + r.body["inventory"]["uuid"]

        def both_serve():
            for _ in range(200):
                assert timed_get(c, path)[2] == 200
                if all("handling QueryUserTag" in open(os.path.join(data, "log", k + ".log")).read()
                       for k in PORTS):
                    return
            raise AssertionError("one instance served no read in 200 requests")
        check("reads are spread over both instances", both_serve)

        created = {}

        def create_during_cut():
            created["r"] = c.call("POST", "/user-tags", {"params": {"resourceType": VM, "resourceUuid": vm,
                                                                    "tag": "during-cut"}})

        samples = []

        def reads_during_cut():
            silence(PORTS[SILENCED], True)
            cut = time.time()
            writer = threading.Thread(target=create_during_cut)
            writer.start()

            def reader():   # each client's requests land on several gateway workers' sockets
                while time.time() - cut < CUT_SECONDS and len(samples) < 20000:
                    samples.append(timed_get(c, path))
            readers = [threading.Thread(target=reader) for _ in range(CLIENTS)]
            for t in readers:
                t.start()
            for t in readers:
                t.join(CUT_SECONDS + 60)
            writer.join(60)
            bad = [s for s in samples if s[2] != 200]
            lat = [s[1] for s in samples]
            slow = [s for s in samples if s[1] > SLOW_S]
            dropped = (slow[-1][0] - cut) if slow else 0.0
            print("figure: link cut: %d GETs by %d clients in %ds, p99 %.3f s, max %.3f s, %d answered slower than %.1f s; "
                  "the silent instance got its last request %.2f s after the cut" %
                  (len(samples), CLIENTS, CUT_SECONDS, p99(lat), max(lat), len(slow), SLOW_S, dropped), flush=True)
            assert not bad, "failed GETs during the cut: %s" % bad[:5]
            assert p99(lat) < 10, "GET p99 during the cut: %.1f s" % p99(lat)
            assert dropped < CUT_SECONDS - 2, "requests still went to the silent instance at the end of the cut"
        check("reads keep succeeding through the live instance", reads_during_cut)

        def write_during_cut():
            r = created.get("r")
            assert r is not None and r.status == 200, r
            tags = [t["tag"] for t in c.get("/user-tags?q=resourceUuid=" + vm).body["inventories"]]
            assert sorted(tags) == ["before", "during-cut"], tags
        check("a create sent during the cut finishes once", write_during_cut)

        def kill9():
            silence(PORTS[SILENCED], False)
            # the silenced instance is back: wait until it serves reads again, then kill the other
            log = os.path.join(data, "log", SILENCED + ".log")
            mark = os.path.getsize(log)
            wait_for(lambda: timed_get(c, path)[2] == 200 and
                     "handling QueryUserTag" in open(log).read()[mark:], 30, "the instance serving again")
            stack.kill("tags")
            t0 = time.time()
            after = [timed_get(c, path) for _ in range(50)]
            lat = [s[1] for s in after]
            print("figure: after kill -9 of one instance: 50 GETs in %.2f s, max %.3f s" %
                  (time.time() - t0, max(lat)), flush=True)
            assert all(s[2] == 200 for s in after), after
        check("reads survive kill -9 of an instance", kill9)
    except Exception as e:   # noqa: BLE001
        results.append(False)
        print("FAIL netns set-up: %s" % e, flush=True)
    finally:
        problems = stack.finish()
        if problems:
            results.append(False)
            print("FAIL processes: %s (logs in %s)" % (problems, data), flush=True)
    print("%d passed, %d failed" % (results.count(True), results.count(False)))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
