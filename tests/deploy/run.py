#!/usr/bin/env python3
"""The deployment tests (docs/deployment.md): the shipped artefacts validate, and the two
topologies run for real, emulated with namespaces (root only; see emulate.py):

  compose    deploy/docker-compose.yml as `docker-compose config` resolves it: each service a
             container (own PID, network and mount namespace, the image's user, its exact
             command and environment, the volumes laid out as Docker creates them); login, a
             tag, a ticket approved and executed, a long job, a backup holding every store, the
             restore of docs/backup.md; a second container of a stateful service is refused.
  hosts      three hosts (network namespaces): gateways on two, services spread over the
             three, each with its own data directory; the flows through either gateway; then
             a host is lost and its services start on another host on the same data
             directories (the volume moving): measures how long the moved APIs were
             unavailable and what callers saw, and checks nothing accepted was lost.

Usage: ZS_BIN=build-asan/bin python3 tests/deploy/run.py [name-filter]
Ends with "N passed, N failed". Without root (or without unshare/ip) the emulations are
reported as failures, not skipped: CI runs as root.
"""
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid

try:
    import yaml
except ImportError:   # a python3 of its own (pyenv) without PyYAML: Debian's python3-yaml
    sys.path.append("/usr/lib/python3/dist-packages")
    import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
import emulate  # noqa: E402
import zstest  # noqa: E402
from emulate import wait_for  # noqa: E402

BIN = os.path.abspath(os.environ.get("ZS_BIN", os.path.join(REPO, "build-asan", "bin")))
PASSWORD = "deploy-test-password"
STATEFUL = ["broker", "core", "gc", "license", "longjob", "tags", "ticket"]
COMPOSE = os.path.join(REPO, "deploy", "docker-compose.yml")
K8S = os.path.join(REPO, "deploy", "k8s", "zstack-global.yaml")
VM = "VmInstanceVO"


def compose_config():
    """The compose file as docker-compose resolves it (anchors, merges, ${...})."""
    env = dict(os.environ, ZS_ADMIN_PASSWORD=PASSWORD)
    p = subprocess.run(["docker-compose", "-f", COMPOSE, "config"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, env=env, timeout=120)
    assert p.returncode == 0, "docker-compose config failed: %s" % p.stderr
    return yaml.safe_load(p.stdout)


# ---- the artefacts ---------------------------------------------------------------------------

def test_compose_file_validates():
    cfg = compose_config()
    services = cfg["services"]
    assert set(STATEFUL + ["gateway"]) <= set(services), services.keys()
    for name in STATEFUL + ["gateway"]:
        s = services[name]
        test = s.get("healthcheck", {}).get("test")
        assert test and test[0] == "CMD", (name, s.get("healthcheck"))
        assert "/var/lib/zs" in " ".join(s["volumes"]), (name, s["volumes"])
        assert s["environment"].get("ZS_BUS_KEYS"), name
        assert any(v.endswith(":ro") and ":" + s["environment"]["ZS_BUS_KEYS"] in v for v in s["volumes"]), \
            (name, "bus keys mounted read-only")
    for name in STATEFUL:   # one container per store: nothing scales a stateful service
        assert "deploy" not in services[name] and "scale" not in services[name], name
        assert not services[name].get("ports"), (name, "no published port on a stateful service")
    gw = services["gateway"]
    deps = gw["depends_on"]
    assert all(deps[s]["condition"] == "service_healthy" for s in STATEFUL), deps
    # --scale gateway=3 needs no fixed single host port: a range of at least 3
    for p in gw.get("ports", []):
        published = str(p.get("published", "")) if isinstance(p, dict) else str(p).rsplit(":", 1)[0]
        lo, _, hi = published.partition("-")
        assert hi and int(hi) - int(lo) >= 2, ("gateway port must be a range", p)


def ensure_validator():
    mods = os.path.join(HERE, "node_modules", "kubernetes-models")
    if not os.path.isdir(mods):
        p = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--prefix", HERE], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=600)
        assert p.returncode == 0, "npm ci failed: %s" % p.stdout[-2000:]


def test_k8s_manifests_validate():
    ensure_validator()
    validator = os.path.join(HERE, "validate-k8s.mjs")
    p = subprocess.run(["node", validator, K8S], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert p.returncode == 0, p.stdout
    # the validator does refuse a broken manifest (a string where the schema wants a number)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(open(K8S).read().replace("containerPort: 7002", "containerPort: seven-thousand-two", 1))
    try:
        bad = subprocess.run(["node", validator, f.name], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert bad.returncode == 1 and "INVALID" in bad.stdout, bad.stdout
    finally:
        os.unlink(f.name)
    docs = [d for d in yaml.safe_load_all(open(K8S)) if d]
    kinds = collections.defaultdict(dict)
    for d in docs:
        kinds[d["kind"]][d["metadata"]["name"]] = d
    conf = next(iter(kinds["ConfigMap"].values()))["data"]["zs.conf"]
    service_ports = {(n, p["port"]) for n, s in kinds["Service"].items() for p in s["spec"]["ports"]}
    for line in conf.splitlines():   # a Service behind every bus endpoint of the configuration
        if "tcp://" in line:
            host, port = line.split("tcp://")[1].rsplit(":", 1)
            assert (host, int(port)) in service_ports, ("no Service for", line)
    for name in STATEFUL:
        ss = kinds["StatefulSet"]["zs-" + name]
        assert ss["spec"]["replicas"] == 1 and ss["spec"]["volumeClaimTemplates"], name
    assert kinds["Deployment"]["zs-gateway"]["spec"]["replicas"] >= 2
    for w in list(kinds["StatefulSet"].values()) + list(kinds["Deployment"].values()):
        pod = w["spec"]["template"]["spec"]
        assert pod["securityContext"]["fsGroup"] and pod["securityContext"]["runAsNonRoot"], w["metadata"]
        for c in pod["containers"]:
            assert c["readinessProbe"] and c["livenessProbe"], c["name"]
            assert c["resources"]["requests"] and c["resources"]["limits"], c["name"]
            mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
            assert mounts["/etc/zs/keys"]["readOnly"], c["name"]
        vols = {v["name"]: v for v in pod["volumes"]}
        assert vols["bus-keys"]["secret"]["secretName"] == "zs-bus-keys", w["metadata"]
        assert vols["config"]["configMap"]["name"] == "zs-config", w["metadata"]
    gw = kinds["Deployment"]["zs-gateway"]["spec"]["template"]["spec"]["containers"][0]
    assert gw["readinessProbe"]["httpGet"]["path"] == "/healthz", gw   # the gateway itself, not the stack
    core = kinds["StatefulSet"]["zs-core"]["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "ZS_ADMIN_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "zs-admin", "key": "password"}}} \
        in core["env"], core["env"]


# ---- shared flows ------------------------------------------------------------------------------

def _raise(message):
    raise AssertionError(message)


def admin_uuid(ctx):
    return ctx.get("/accounts?q=name=admin").body["inventories"][0]["uuid"]


def flows(ctx, other=None):
    """Login, a tag, a ticket approved and executed, a long job. `other` (a second gateway's
    context) is used for half of the calls. Returns the uuids created."""
    ctx.admin = ctx.login(password=PASSWORD)
    alt = other or ctx
    alt.admin = ctx.admin   # a session made through one gateway works through the other
    vm = uuid.uuid4().hex
    r = alt.call("POST", "/user-tags", {"params": {"resourceType": VM, "resourceUuid": vm, "tag": "deploy-tag"}})
    assert r.status == 200, r
    tag = r.body["inventory"]["uuid"]
    assert [t["uuid"] for t in ctx.get("/user-tags?q=resourceUuid=%s" % vm).body["inventories"]] == [tag]
    # a ticket: one flow approved by the admin, then executed (it creates a system tag)
    me = admin_uuid(ctx)
    r = ctx.call("POST", "/tickets/flow-collections", {"params": {
        "name": "deploy-" + vm[:8], "isDefault": True, "flows": [{"name": "only", "approverUuid": me}]}})
    assert r.status == 200, r
    req = {"requestName": "tag it", "apiName": "org.zstack.header.tag.APICreateSystemTagMsg", "executeTimes": 1,
           "apiBody": {"resourceType": VM, "resourceUuid": vm, "tag": "ticket::done"}}
    r = alt.call("POST", "/tickets", {"params": {"name": "deploy", "requests": [req], "accountSystemType": "account"}})
    assert r.status == 200, r
    ticket = r.body["inventory"]["uuid"]
    r = ctx.call("PUT", "/tickets/%s/actions" % ticket, {"changeTicketStatus": {"statusEvent": "approve"}})
    assert r.status == 200 and r.body["inventory"]["status"] == "FinalApproved", r
    done = wait_for(lambda: (lambda t: t if t and t["executionStatus"] not in ("NotStarted", "Running") else None)(
        (ctx.get("/tickets/" + ticket).body["inventories"] or [None])[0]), 60, "the ticket's execution")
    assert done["executionStatus"] == "Succeeded", done
    assert "ticket::done" in [t["tag"] for t in ctx.get("/system-tags?q=resourceUuid=%s" % vm).body["inventories"]]
    # a long job wrapping an async API of another service
    data = json.dumps({"resourceType": VM, "resourceUuid": vm, "tag": "longjob::done"})
    r = alt.call("POST", "/longjobs", {"params": {"jobName": "APICreateSystemTagMsg", "jobData": data}})
    assert r.status == 200, r
    job = wait_long_job(ctx, r.body["inventory"]["uuid"])
    assert job["state"] == "Succeeded", job
    return {"vm": vm, "tag": tag}


def wait_long_job(ctx, juuid, timeout=90):
    def state():
        invs = ctx.get("/longjobs/" + juuid).body["inventories"]
        return invs[0] if invs and invs[0]["state"] not in ("Waiting", "Running", "Canceling") else None
    return wait_for(state, timeout, "long job %s" % juuid)


def backup(ctx, uid):
    """A backup through the gateway; checks it holds every store, 0700/0600, owned by uid."""
    r = ctx.call("POST", "/longjobs", {"params": {"jobName": "APIBackupDatabaseMsg", "jobData": {}}})
    assert r.status == 200, r
    job = wait_long_job(ctx, r.body["inventory"]["uuid"])
    assert job["state"] == "Succeeded", job
    result = json.loads(job["jobResult"])
    assert sorted(s["name"] for s in result["stores"]) == STATEFUL, result
    assert all(s["bytes"] > 0 for s in result["stores"]), result
    return result["path"], result


def check_backup_files(path, uid):
    for root, dirs, files in os.walk(path):
        st = os.stat(root)
        assert st.st_mode & 0o777 == 0o700 and st.st_uid == uid, (root, oct(st.st_mode), st.st_uid)
        for f in files:
            st = os.stat(os.path.join(root, f))
            assert st.st_mode & 0o777 == 0o600 and st.st_uid == uid, (f, oct(st.st_mode), st.st_uid)
    manifest = json.load(open(os.path.join(path, "MANIFEST")))
    assert sorted(s["name"] for s in manifest["stores"]) == STATEFUL, manifest
    for s in manifest["stores"]:
        assert os.path.getsize(os.path.join(path, s["name"], "data.mdb")) == s["bytes"], s


def restore_script():
    """The restore loop of docs/backup.md, as shipped."""
    text = open(os.path.join(REPO, "docs", "backup.md")).read()
    block = text.split("## Restoring a backup", 1)[1].split("```", 2)[1]
    assert "for dir in" in block, block
    return "\n".join(line for line in block.splitlines() if not line.strip().startswith(("BACKUP=", "DATA=")))


def sanitizer_reports(log_dir):
    return [f for f in os.listdir(log_dir) if f.startswith(("asan", "ubsan"))]


# ---- topology (a): docker-compose ---------------------------------------------------------------

class ComposeStack:
    """The compose file's services as emulated containers on one bridge."""

    def __init__(self, work, cfg, image, volumes_dir, net):
        self.work, self.cfg, self.image, self.volumes, self.net = work, cfg, image, volumes_dir, net
        self.containers = {}
        names = list(cfg["services"])
        self.ips = {n: "10.210.1.%d" % (10 + i) for i, n in enumerate(names)}
        self.log_dir = os.path.join(work, "log")
        os.makedirs(self.log_dir, exist_ok=True)
        os.chmod(self.log_dir, 0o777)   # the sanitizers write here as the image's user

    def env_of(self, name):
        env = dict(self.image.env)
        env.update({k: str(v) for k, v in (self.cfg["services"][name].get("environment") or {}).items()})
        env["ASAN_OPTIONS"] = "log_path=%s/asan:detect_leaks=1:abort_on_error=0" % self.log_dir
        env["UBSAN_OPTIONS"] = "log_path=%s/ubsan:print_stacktrace=1" % self.log_dir
        return env

    def mounts_of(self, name):
        out = []
        for v in self.cfg["services"][name].get("volumes", []):
            src, dst, *mode = v.split(":")
            out.append((os.path.join(self.volumes, src), dst, bool(mode) and mode[0] == "ro"))
        return out

    def start(self, name, instance=None):
        key = instance or name
        if key not in self.net.hosts:
            self.net.host(key, self.ips.get(key) or "10.210.1.%d" % (100 + len(self.net.hosts)))
        svc = self.cfg["services"][name]
        c = emulate.Container(key, self.image, self.net.ns(key), svc["command"], self.env_of(name),
                              self.mounts_of(name), self.ips, self.work, self.log_dir)
        self.containers[key] = c
        return c

    def healthy(self, name, instance=None):
        test = self.cfg["services"][name]["healthcheck"]["test"]
        assert test[0] == "CMD", test
        return self.containers[instance or name].exec(test[1:]).returncode == 0

    def up(self):
        """Starts in depends_on order, waiting for each condition as compose does."""
        services = self.cfg["services"]
        started = set()
        if "keys" in services:
            if os.path.exists(os.path.join(self.image.bin, services["keys"]["command"][0])):
                c = self.start("keys")
                assert c.proc.wait(timeout=60) == 0, c.log()
            started.add("keys")   # without zs-keys in this build: no keys to make yet
        while len(started) < len(services):
            ready = [n for n in services if n not in started and
                     all(d in started for d in (services[n].get("depends_on") or {}))]
            assert ready, "depends_on cycle among %s" % (set(services) - started)
            for n in ready:
                self.start(n)
            for n in ready:
                self.wait_healthy(n)
                started.add(n)

    def wait_healthy(self, name):
        c = self.containers[name]

        def ok():
            if not c.running():
                raise AssertionError("%s exited: %s" % (name, c.log()[-3000:]))
            return self.healthy(name)
        wait_for(ok, 60, "%s to be healthy" % name)

    def down(self):
        bad = []
        for key, c in reversed(list(self.containers.items())):
            if key == "keys":
                continue
            code = c.stop()
            if code != 0:
                bad.append("%s exited %s: %s" % (key, code, c.log()[-1500:]))
        self.containers = {}
        return bad


def test_compose_topology():
    work = tempfile.mkdtemp(prefix="zs-deploy-compose-")
    os.chmod(work, 0o755)
    net = emulate.Net("c", 1)
    stacks = []
    try:
        cfg = compose_config()
        image = emulate.Image(REPO, BIN, work)
        volumes = os.path.join(work, "volumes")
        for v in cfg.get("volumes", {}):
            # a fresh named volume takes the ownership and mode of the image's directory
            d = os.path.join(volumes, v)
            os.makedirs(d)
            os.chown(d, image.uid, image.gid)
            os.chmod(d, 0o700)
        stack = ComposeStack(work, cfg, image, volumes, net)
        stacks.append(stack)
        stack.up()
        ctx = zstest.Context(emulate.NetnsHTTP(net.ns("gateway"), 8080))
        for name in ("gateway", "tags", "broker"):   # the image's own HEALTHCHECK (zs-health)
            p = stack.containers[name].exec(["zs-health"])
            assert p.returncode == 0, (name, p.stdout, p.stderr)
        made = flows(ctx)

        # `--scale gateway=3`: two more gateway containers, same command and environment
        for i in (2, 3):
            extra = stack.start("gateway", instance="gateway-%d" % i)
            wait_for(lambda: stack.healthy("gateway", "gateway-%d" % i) or
                     (not extra.running() and _raise("gateway-%d exited: %s" % (i, extra.log()[-2000:]))),
                     60, "gateway-%d to be healthy" % i)
            other = zstest.Context(emulate.NetnsHTTP(net.ns("gateway-%d" % i), 8080))
            other.admin = other.login(password=PASSWORD)
            r = other.get("/user-tags?q=resourceUuid=%s" % made["vm"])
            assert r.status == 200 and [t["uuid"] for t in r.body["inventories"]] == [made["tag"]], r

        # a second container of a stateful service (its own PID namespace) on the same
        # volume is refused, naming the live one; the first keeps serving
        second = stack.start("tags", instance="tags-2")
        assert second.proc.wait(timeout=30) != 0
        assert "held by a live process of another PID namespace" in second.log(), second.log()[-2000:]
        assert "zs-tags host tags pid 1 " in second.log(), second.log()[-2000:]   # names the holder
        del stack.containers["tags-2"]
        assert stack.healthy("tags")

        path, _ = backup(ctx, image.uid)
        data_dir = os.path.join(volumes, "zsdata")
        host_path = os.path.join(data_dir, os.path.relpath(path, image.env["ZS_DATA_DIR"]))
        check_backup_files(host_path, image.uid)
        # changes after the backup: the restore must not have them
        r = ctx.call("POST", "/user-tags", {"params": {"resourceType": VM, "resourceUuid": made["vm"], "tag": "after"}})
        assert r.status == 200, r
        problems = stack.down()
        assert problems == [], problems

        # restore (docs/backup.md) into a fresh volume, as the image's user, and start again
        fresh = os.path.join(volumes, "restored")
        os.makedirs(fresh)
        os.chown(fresh, image.uid, image.gid)
        os.chmod(fresh, 0o700)
        p = subprocess.run(["setpriv", "--reuid=%d" % image.uid, "--regid=%d" % image.gid, "--clear-groups",
                            "bash", "-euc", restore_script()], env={"BACKUP": host_path, "DATA": fresh,
                                                                   "PATH": "/usr/bin:/bin"},
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert p.returncode == 0, p.stdout
        shutil.move(data_dir, data_dir + ".old")
        shutil.move(fresh, data_dir)
        net.destroy()
        net = emulate.Net("c", 1)
        stack = ComposeStack(work, cfg, image, volumes, net)
        stacks.append(stack)
        stack.up()
        ctx = zstest.Context(emulate.NetnsHTTP(net.ns("gateway"), 8080))
        ctx.admin = ctx.login(password=PASSWORD)
        tags = [t["tag"] for t in ctx.get("/user-tags?q=resourceUuid=%s" % made["vm"]).body["inventories"]]
        assert tags == ["deploy-tag"], tags
        problems = stack.down()
        assert problems == [], problems
        reports = sanitizer_reports(stack.log_dir)
        assert reports == [], reports
    finally:
        for s in stacks:
            for c in s.containers.values():
                c.stop(timeout=10)
        net.destroy()
    shutil.rmtree(work, ignore_errors=True)


# ---- topology (b): three hosts ----------------------------------------------------------------

PORTS = {"broker": 7000, "core": 7001, "tags": 7002, "ticket": 7003, "longjob": 7004, "license": 7005, "gc": 7006}
PLACEMENT = {"a": ["gateway", "broker", "core"], "b": ["gateway", "tags", "ticket"],
             "c": ["longjob", "license", "gc"]}


class Hosts:
    def __init__(self, work, image):
        self.work, self.image = work, image
        self.net = emulate.Net("h", 2)
        self.host_ip = {h: "10.210.2.%d" % (i + 1) for i, h in enumerate(PLACEMENT)}
        # every service has an address of its own that moves with it (a Kubernetes Service)
        self.vip = {s: "10.210.2.%d" % (20 + i) for i, s in enumerate(PORTS)}
        self.log_dir = os.path.join(work, "log")
        os.makedirs(self.log_dir, exist_ok=True)
        os.chmod(self.log_dir, 0o777)
        self.containers = {}
        self.env = dict(image.env)
        for s, p in PORTS.items():
            self.env["ZS_BUS_%s" % s.upper()] = "tcp://%s:%d" % (self.vip[s], p)
        self.env["ZS_BUS_EVENTS_IN"] = "tcp://%s:7100" % self.vip["broker"]
        self.env["ZS_BUS_EVENTS_OUT"] = "tcp://%s:7101" % self.vip["broker"]
        self.env["ZS_CORE_READY_ROLES"] = ",".join(list(PORTS) + ["gateway"])
        self.env["ZS_ADMIN_PASSWORD"] = PASSWORD
        self.env["ZS_LONGJOB_SUSPEND_AFTER_MS"] = "120000"   # the move takes seconds, not minutes
        self.env["ASAN_OPTIONS"] = "log_path=%s/asan:detect_leaks=1:abort_on_error=0" % self.log_dir
        self.env["UBSAN_OPTIONS"] = "log_path=%s/ubsan:print_stacktrace=1" % self.log_dir
        self.keys = os.path.join(work, "keys")
        os.makedirs(self.keys)
        os.chown(self.keys, image.uid, image.gid)
        os.chmod(self.keys, 0o700)
        self.env["ZS_BUS_KEYS"] = "/etc/zs/keys"
        for h in PLACEMENT:
            self.net.host(h, self.host_ip[h])

    def data_dir(self, service):
        d = os.path.join(self.work, "data-" + service)
        if not os.path.isdir(d):
            os.makedirs(d)
            os.chown(d, self.image.uid, self.image.gid)
            os.chmod(d, 0o700)
        return d

    def start(self, service, host):
        env = dict(self.env)
        hosts = {"host-" + h: ip for h, ip in self.host_ip.items()}
        if service == "gateway":
            argv, key = ["zs-gateway", "--listen", "0.0.0.0:8080"], "gateway-" + host
        else:
            if self.vip[service] not in emulate.run("ip", "-n", self.net.ns(host), "addr").stdout:
                self.net.add_ip(host, self.vip[service])
            argv, key = ["zs-" + service], service
            env["ZS_BUS_%s_BIND" % service.upper()] = "tcp://%s:%d" % (self.vip[service], PORTS[service])
            if service == "broker":
                env["ZS_BUS_EVENTS_IN"] = "tcp://%s:7100" % self.vip["broker"]
                env["ZS_BUS_EVENTS_OUT"] = "tcp://%s:7101" % self.vip["broker"]
        mounts = [(self.keys, "/etc/zs/keys", True)]
        if service != "gateway":
            mounts.append((self.data_dir(service), "/var/lib/zs", False))
        c = emulate.Container(key + "-on-" + host, self.image, self.net.ns(host), argv, env, mounts, hosts,
                              self.work, self.log_dir)
        self.containers[key] = c
        return c

    def wait_healthy(self, key):
        c = self.containers[key]
        check = (["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8080/metrics"] if key.startswith("gateway")
                 else ["zs-" + key, "--check"])

        def ok():
            if not c.running():
                raise AssertionError("%s exited: %s" % (key, c.log()[-3000:]))
            return c.exec(check).returncode == 0
        wait_for(ok, 60, "%s to be healthy" % key)

    def up(self):
        keygen = os.path.join(self.image.bin, "zs-keys")
        if os.path.exists(keygen):
            p = subprocess.run(["setpriv", "--reuid=%d" % self.image.uid, "--regid=%d" % self.image.gid,
                                "--clear-groups", keygen, "generate", self.keys], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
            assert p.returncode == 0, p.stdout
        for h, services in PLACEMENT.items():
            for s in services:
                if s != "gateway":
                    self.start(s, h)
        for s in PORTS:
            self.wait_healthy(s)
        for h, services in PLACEMENT.items():
            if "gateway" in services:
                self.start("gateway", h)
                self.wait_healthy("gateway-" + h)

    def http(self, host):
        return zstest.Context(emulate.NetnsHTTP(self.net.ns(host), 8080))

    def down(self):
        bad = []
        for key, c in reversed(list(self.containers.items())):
            code = c.stop()
            if code != 0:
                bad.append("%s exited %s: %s" % (key, code, c.log()[-1500:]))
        self.containers = {}
        return bad


class Prober(threading.Thread):
    """Calls a query API of the moved service through gateway A every 100 ms (bounded)."""

    def __init__(self, ctx, path, limit_s=240):
        super().__init__(daemon=True)
        self.ctx, self.path, self.limit_s = ctx, path, limit_s
        self.samples = []   # (start, end, status or "conn:<error>"), monotonic seconds
        self.halt = threading.Event()
        self.errors = collections.Counter()   # (status, error code, details) of the failures

    def run(self):
        end = time.monotonic() + self.limit_s
        while not self.halt.is_set() and time.monotonic() < end:
            t = time.monotonic()
            try:
                r = self.ctx.stack.request("GET", "/zstack/v1" + self.path, headers=self.ctx.auth(), timeout=10)
                status = r.status
                if status != 200:
                    self.errors[(status, r.error.get("code"), r.error.get("details", "")[:120])] += 1
            except OSError as e:
                status = "conn:" + type(e).__name__
            self.samples.append((t, time.monotonic(), status))
            self.halt.wait(0.1)


def test_three_hosts_and_a_lost_host():
    work = tempfile.mkdtemp(prefix="zs-deploy-hosts-")
    os.chmod(work, 0o755)
    hosts = None
    try:
        image = emulate.Image(REPO, BIN, work)
        hosts = Hosts(work, image)
        hosts.up()
        a, b = hosts.http("a"), hosts.http("b")
        made = flows(a, b)
        path, _ = backup(b, image.uid)   # every store, each from its own host and data directory
        check_backup_files(os.path.join(hosts.data_dir("longjob"), os.path.relpath(path, "/var/lib/zs")), image.uid)

        # accepted before the loss: tags created synchronously
        before = []
        for i in range(10):
            r = a.call("POST", "/user-tags", {"params": {"resourceType": VM, "resourceUuid": made["vm"],
                                                         "tag": "before-%d" % i}})
            assert r.status == 200, r
            before.append(r.body["inventory"]["uuid"])
        prober = Prober(a, "/user-tags?q=resourceUuid=%s&limit=1" % made["vm"])
        prober.start()
        wait_for(lambda: len(prober.samples) >= 5, 20, "the prober to run")
        assert all(st == 200 for _, _, st in prober.samples), prober.samples
        t_lost = time.monotonic()
        hosts.net.lose("b")   # tags, ticket and gateway B die with their host
        for key in ("tags", "ticket", "gateway-b"):
            hosts.containers.pop(key).proc.wait(timeout=30)
        # accepted while the service is away: async jobs the broker holds (202)
        accepted = []
        for i in range(5):
            r = a.call("POST", "/system-tags", {"params": {"resourceType": VM, "resourceUuid": made["vm"],
                                                           "tag": "during::%d" % i}}, wait=False)
            if r.status == 202:
                accepted.append(r.body["location"])
        # and a long job whose wrapped API needs the lost service (svc-longjob is on host C)
        data = json.dumps({"resourceType": VM, "resourceUuid": made["vm"], "tag": "during::longjob"})
        r = a.call("POST", "/longjobs", {"params": {"jobName": "APICreateSystemTagMsg", "jobData": data}})
        assert r.status == 200, r
        in_flight = r.body["inventory"]["uuid"]
        # what callers see while the service is away: at least 5 calls made after the loss
        wait_for(lambda: len([x for x in prober.samples if x[0] > t_lost]) >= 5, 120,
                 "calls during the outage")
        # the orchestrator moves the services to host C, on the same data directories
        t_moved = time.monotonic()
        hosts.start("tags", "c")
        hosts.start("ticket", "c")
        hosts.net.forget_neighbours()
        hosts.wait_healthy("tags")
        hosts.wait_healthy("ticket")
        t_healthy = time.monotonic()
        wait_for(lambda: len([x for x in prober.samples if x[0] > t_healthy and x[2] == 200]) >= 5, 60,
                 "the moved service to answer through gateway A")
        prober.halt.set()
        prober.join()

        # nothing accepted was lost; in-flight jobs finished
        for loc in accepted:
            r = a.poll(loc, timeout=90)
            assert r.status == 200, r
        job = wait_long_job(a, in_flight)
        assert job["state"] == "Succeeded", job
        tags = {t["tag"] for t in a.get("/system-tags?q=resourceUuid=%s" % made["vm"]).body["inventories"]}
        assert "during::longjob" in tags, tags
        assert {"during::%d" % i for i in range(len(accepted))} <= tags, tags
        assert len(tags & {"during::%d" % i for i in range(5)}) == len(accepted), (tags, accepted)
        users = {t["uuid"] for t in a.get("/user-tags?q=resourceUuid=%s" % made["vm"]).body["inventories"]}
        assert set(before) | {made["tag"]} <= users, users
        # the moved service takes new work through the remaining gateway
        r = a.call("POST", "/user-tags", {"params": {"resourceType": VM, "resourceUuid": made["vm"], "tag": "after"}})
        assert r.status == 200, r

        after = [x for x in prober.samples if x[0] >= t_lost]
        first_ok = min(end for start, end, st in after if st == 200 and start >= t_moved)
        statuses = collections.Counter(str(st) for _, _, st in after if st != 200)
        figures = {"unavailable_s": round(first_ok - t_lost, 2),
                   "restart_to_serving_s": round(first_ok - t_moved, 2),
                   "move_started_after_s": round(t_moved - t_lost, 2),
                   "calls_after_loss": len(after), "failed_calls_by_status": dict(statuses),
                   "slowest_call_s": round(max(end - start for start, end, _ in after), 2),
                   "accepted_during_outage": len(accepted), "accepted_lost": 0,
                   "long_job_in_flight": job["state"],
                   "synchronous_creates_before_loss_kept": len(before),
                   "errors": ["%s %s %s x%d" % (k + (n,)) for k, n in prober.errors.items()]}
        print("topology (b) figures: " + json.dumps(figures, sort_keys=True))
        with open(os.path.join(REPO, "tests", "deploy", "last-figures.json"), "w") as f:
            json.dump(figures, f, indent=2, sort_keys=True)
        problems = hosts.down()
        assert problems == [], problems
        reports = sanitizer_reports(hosts.log_dir)
        assert reports == [], reports
    finally:
        if hosts:
            for c in hosts.containers.values():
                c.stop(timeout=10)
            hosts.net.destroy()
    shutil.rmtree(work, ignore_errors=True)


TESTS = [test_compose_file_validates, test_k8s_manifests_validate, test_compose_topology,
         test_three_hosts_and_a_lost_host]


def main():
    pattern = sys.argv[1] if len(sys.argv) > 1 else ""
    passed = failed = 0
    for t in TESTS:
        if pattern not in t.__name__:
            continue
        started = time.time()
        try:
            t()
            passed += 1
            print("ok   deploy.%-45s %.2fs" % (t.__name__, time.time() - started), flush=True)
        except Exception:   # a failed assert or a broken emulation: both are failures
            failed += 1
            print("FAIL deploy.%s\n%s" % (t.__name__, traceback.format_exc()), flush=True)
    print("deploy: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
