"""ZStack's own clients work unchanged: every action row of ../shared/spec/zstack-sdk.md (read
from that file at run time, not copied) is called the way the Java SDK calls it, and checked:
- the route exists with that method and body key (and the OpenAPI document lists the path);
- async actions answer 202 with a location under /zstack/v1/api-jobs/, sync ones 200 at once;
- the reply of a real, successful call carries every field of its result class by name;
- every object of the reply whose declared type is a listed class (at any depth; every object
  element of a typed list) carries a `schema` entry naming the listed server class (or a
  subclass's), and carries every field of that class by name: primitive ones always (Java
  never leaves those out), others unless the OpenAPI document's x-zstack-classes says the
  suite may lack them (not applicable here, or null in that object).

A call is built from the row alone: its path placeholders and parameters get values from the
fixtures below, keyed by parameter name (or type); a `{uuid}` of a resource comes from the
action that creates that resource (the POST at the path's collection), in the states the
resource kinds offer (RESOURCE_STATES: a state machine refuses some actions in some states,
e.g. ResumeLongJob needs a suspended job). A row added to the file is checked the same way
without changing this test: only a parameter never seen before needs a fixture entry."""
import hashlib
import json
import time
import uuid

import sdkspec
from zstest import ADMIN_PASSWORD, sha512, wait_for

SCHEMA = {"X-JSON-Schema": "true"}


def rand():
    return uuid.uuid4().hex


class Caller:
    """Calls SDK actions as the Java SDK does, and builds their parameters."""

    def __init__(self, ctx, actions):
        self.ctx = ctx
        self.actions = actions
        self.admin_account = ctx.get("/accounts?q=name=admin").body["inventories"][0]["uuid"]

    # -- the wire ----------------------------------------------------------------------------
    def send(self, action, params):
        """One call: returns (first response, final response)."""
        path = action.path
        params = dict(params)
        for name in [p[1:-1] for p in path.split("/") if p.startswith("{")]:
            path = path.replace("{%s}" % name, str(params.pop(name)))
        headers = dict(SCHEMA)
        if action.session:
            headers.update(self.ctx.auth())
        url, body = "/zstack/v1" + path, None
        if action.method in ("GET", "DELETE"):
            query = "&".join("%s=%s" % (k, ",".join(v) if isinstance(v, list) else
                                         json.dumps(v) if isinstance(v, bool) else v) for k, v in params.items())
            url += ("?" + query) if query else ""
        else:
            body = {action.body_key or "params": params}
        first = self.ctx.stack.request(action.method, url, body, headers)
        final = first
        if first.status == 202 and "location" in (first.body or {}):
            final = self.ctx.poll(first.body["location"], headers=SCHEMA)
        return first, final

    def find(self, method, path):
        for a in self.actions:
            if a.method == method and a.path == path:
                return a
        return None

    def creator(self, collection):
        """The action creating resources of `collection` (POST at it, or at a fixed path under it)."""
        exact = self.find("POST", collection)
        if exact:
            return exact
        for a in self.actions:
            if a.method == "POST" and a.path.startswith(collection + "/") and "{" not in a.path:
                return a
        return None

    def create(self, collection):
        """A fresh resource made by the creator of `collection`: its inventory."""
        action = self.creator(collection)
        first, final = self.send(action, self.params(action, skip_uuid=True))
        assert final.status == 200, (action, final)
        return final.body["inventory"]

    # -- parameters --------------------------------------------------------------------------
    def value(self, action, p):
        f = FIXTURES.get(p.name)
        if f is not None:
            return f(self, action) if callable(f) else f
        if p.choices:
            return p.choices[0]
        if not p.required:
            return None
        return TYPE_DEFAULTS.get(p.type, lambda c, a: "sdk-" + rand()[:10])(self, action)

    def params(self, action, skip_uuid=False, resource=None):
        out = {}
        for p in action.params:
            if p.name == "uuid" and "{uuid}" in action.path:
                if not skip_uuid:
                    out["uuid"] = resource
                continue
            v = self.value(action, p)
            if v is not None:
                out[p.name] = v
        result_fields = dict(RESULTS.get(action.result, []))
        if action.method == "GET" and "total" in result_fields and "replyWithCount" not in out:
            out["replyWithCount"] = True   # the SDK's QueryAction asks for the total this way
        return out


# ---- fixtures: parameter values by name, then by type -------------------------------------

def _tag_body(caller, action):
    return {"resourceType": "VmInstanceVO", "resourceUuid": rand(), "tag": "sdk::" + rand()[:12]}


def _fresh_session(caller, action):
    return caller.ctx.login()


def _license_mn(caller, action):
    return caller.ctx.stack.request("GET", "/zstack/v1/licenses").body["inventory"]["managementNodeUuid"]


def _license(caller, action):
    from test_license import b64, issue
    path, _ = issue(caller.ctx, issued=-1, hosts=100000)
    return b64(path)


def _long_job_api_id(caller, action):
    inv = caller.create("/longjobs")
    wait_for(lambda: caller.ctx.get("/task-progresses/%s?all=true" % inv["apiId"]).body["inventories"], 20,
             "progress of long job %s" % inv["uuid"])
    return inv["apiId"]


FIXTURES = {
    "sessionUuid": _fresh_session,
    "accountName": "admin",
    "password": lambda c, a: sha512(ADMIN_PASSWORD),
    "name": lambda c, a: "sdk-" + rand()[:10],
    "description": "made by the SDK conformance test",
    "resourceType": "VmInstanceVO",
    "resourceUuid": lambda c, a: rand(),
    "tag": lambda c, a: "sdk::" + rand()[:12],
    "tags": lambda c, a: ["sdk::" + rand()[:12]],
    "duration": 600,
    "all": False,
    "hostUuids": lambda c, a: [c.create("/hosts")["uuid"]],
    "apiId": _long_job_api_id,
    "username": "root",
    "sshPort": 22,
    "managementIp": lambda c, a: "127.%d.%d.%d" % tuple(hashlib.sha1(rand().encode()).digest()[:3]),
    "clusterUuid": lambda c, a: rand(),
    "zoneUuid": lambda c, a: rand(),
    "projectUuid": lambda c, a: rand(),
    "managementNodeUuid": _license_mn,
    "license": _license,
    "replyWithCount": True,
    "jobName": "APICreateSystemTagMsg",
    "jobData": lambda c, a: json.dumps(_tag_body(c, a)),
    "requests": lambda c, a: [{"requestName": "sdk", "apiName": "org.zstack.header.tag.APICreateSystemTagMsg",
                               "executeTimes": 1, "apiBody": _tag_body(c, a)}],
    "accountSystemType": "account",
    "accountSystemContext": {},
    "flowCollectionUuid": lambda c, a: c.create("/tickets/flow-collections")["uuid"],
    "flows": lambda c, a: [{"name": "sdk-step", "approverUuid": c.admin_account}],
    "statusEvent": "cancel",
    "stateEvent": "disable",
}
TYPE_DEFAULTS = {
    "boolean": lambda c, a: True,
    "Boolean": lambda c, a: True,
    "int": lambda c, a: 1,
    "Integer": lambda c, a: 1,
    "Long": lambda c, a: 1,
    "List": lambda c, a: [],
    "Map": lambda c, a: {},
    "Object": lambda c, a: {},
}


# ---- resource states: fresh from its creator, then the other states its kind offers --------

def _finished_long_job(caller):
    inv = caller.create("/longjobs")
    return wait_for(lambda: (lambda j: j["uuid"] if j and j["state"] in ("Succeeded", "Failed", "Canceled") else None)(
        (caller.ctx.get("/longjobs/" + inv["uuid"]).body["inventories"] or [None])[0]), 30, "the long job to end")


BACKUPS = []   # backups this test started: removed at its end (later tests look for their own)


def _running_long_job(caller):
    """A backup: slow enough to be caught running (test_longjob_backup tunes its steps)."""
    r = caller.ctx.call("POST", "/longjobs", {"params": {"jobName": "APIBackupDatabaseMsg", "jobData": "{}"}})
    assert r.status == 200, r
    BACKUPS.append(r.body["inventory"]["uuid"])
    return r.body["inventory"]["uuid"]


def _remove_backups(ctx):
    for juuid in BACKUPS:
        def final():
            found = ctx.get("/longjobs/" + juuid).body["inventories"]
            return not found or found[0]["state"] in ("Succeeded", "Failed", "Canceled")
        wait_for(final, 60, "backup %s to end" % juuid)
        assert ctx.call("DELETE", "/longjobs/" + juuid).status == 200
    del BACKUPS[:]


def _suspended_long_job(caller):
    """A job whose service is down ends Suspended (longjob.suspend-after-ms, tuned short)."""
    from test_longjob_backup import tune_longjob
    ctx = caller.ctx
    tune_longjob(ctx)
    ctx.stack.kill("tags")
    try:
        inv = caller.create("/longjobs")
        wait_for(lambda: ctx.get("/longjobs/" + inv["uuid"]).body["inventories"][0]["state"] == "Suspended", 30,
                 "the long job to be suspended")
    finally:
        ctx.stack.start("tags")
    wait_for(lambda: ctx.get("/system-tags?limit=1").status == 200, 20, "zs-tags back")
    return inv["uuid"]


def _cancelled_ticket(caller):
    inv = caller.create("/tickets")
    r = caller.ctx.call("PUT", "/tickets/%s/actions" % inv["uuid"], {"changeTicketStatus": {"statusEvent": "cancel"}})
    assert r.status == 200, r
    return inv["uuid"]


RESOURCE_STATES = {
    "/longjobs": [_running_long_job, _finished_long_job, _suspended_long_job],
    "/tickets": [_cancelled_ticket],
}


def uuid_candidates(caller, action):
    """Where the {uuid} of `action` may come from, as functions returning a uuid."""
    collection = action.path.split("/{uuid}")[0]
    out = []
    if caller.creator(collection):
        out.append(lambda c: c.create(collection)["uuid"])
    out += RESOURCE_STATES.get(collection, [])
    query = caller.find("GET", collection)
    if query and action.method != "DELETE":   # never delete what the suite itself keeps
        # what the suite already has, in whatever states (the first few, one after the other)
        def nth(c, i):
            found = c.ctx.get(collection + "?limit=10").body["inventories"]
            return found[i]["uuid"] if i < len(found) else None
        out += [lambda c, i=i: nth(c, i) for i in range(10)]
    if not caller.creator(collection) and not RESOURCE_STATES.get(collection):
        out.append(lambda c: rand())   # an unknown resource: deleting it succeeds (apis.md)
    return out


# ---- checks ----------------------------------------------------------------------------------

RESULTS = {}
CLASSES = {}
MAY_LACK = {}    # server class -> fields our objects may lack (OpenAPI x-zstack-classes)


def may_lack(name):
    """Fields an object of SDK class `name` may lack: its own and its bases' lists."""
    out, seen = set(), set()
    while name in CLASSES and name not in seen:
        seen.add(name)
        out |= set(MAY_LACK.get(CLASSES[name].server, []))
        name = CLASSES[name].base
    return out


def check_reply(action, body):
    """Problems of a successful reply `body` of `action` (a list of strings)."""
    problems = []
    schema = body.get("schema") or {}
    fields = RESULTS.get(action.result)
    if fields is None:
        return ["result class %s is not described in zstack-sdk.md" % action.result]
    for name, _ in fields:
        if name not in body:
            problems.append("result field %r missing" % name)
    by_server = {k.server: k.name for k in CLASSES.values()}

    def typed(path, value, declared):
        """`value` at `path` declared as `declared` (a class name, or List)."""
        if declared in sdkspec.UNTYPED:
            return
        if declared == "List":
            for i, e in enumerate(value if isinstance(value, list) else []):
                if isinstance(e, dict):
                    typed("%s[%d]" % (path, i), e, None)
            return
        if not isinstance(value, dict):
            return
        if declared is not None and declared not in CLASSES:
            return   # a type zstack-sdk.md does not list (TagPatternInventory...)
        server = schema.get(path)
        if server is None:
            problems.append("%s: no schema entry (declared %s)" % (path, declared or "a list element"))
            return
        actual = by_server.get(server)
        if actual is None:
            problems.append("%s: schema class %s is not a class of zstack-sdk.md" % (path, server))
            return
        if declared is not None and not sdkspec.is_a(CLASSES, actual, declared):
            problems.append("%s: schema class %s is not a %s" % (path, server, declared))
            return
        allowed = may_lack(actual)
        for fname, ftype in sdkspec.all_fields(CLASSES, actual):
            if fname not in value and (ftype in sdkspec.PRIMITIVES or fname not in allowed):
                problems.append("%s: field %r (%s) of %s missing" % (path, fname, ftype, actual))
            if fname in value and value[fname] is not None:
                typed("%s.%s" % (path, fname), value[fname], ftype)

    for name, ftype in fields:
        if name in body and body[name] is not None:
            typed(name, body[name], ftype)
    return problems


def run_action(caller, action):
    """Calls `action` in every state its resource offers until one call succeeds; returns the
    problems found (empty = conforms)."""
    sources = uuid_candidates(caller, action) if "{uuid}" in action.path else [None]
    refusals = []
    for source in sources:
        resource = source(caller) if source else None
        if source and resource is None:
            continue
        first, final = caller.send(action, caller.params(action, resource=resource))
        if first.status in (404, 405) or (first.status == 400 and "names no action" in json.dumps(first.body)):
            return ["no route %s %s with body key %s: %r" % (action.method, action.path, action.body_key, first)]
        if action.is_async:
            loc = (first.body or {}).get("location", "")
            if first.status != 202 or "/zstack/v1/api-jobs/" not in loc:
                return ["async action answered %r, not 202 + a location under /zstack/v1/api-jobs/" % first]
        elif first.status != 200:
            if first.status == 202:
                return ["sync action answered 202 (the SDK throws)"]
            refusals.append(repr(first))
            continue
        if final.status != 200:
            refusals.append(repr(final))
            continue
        return check_reply(action, final.body)
    return ["no successful call in any state tried: " + " | ".join(refusals)]


def test_every_sdk_action_conforms(ctx):
    actions, results, classes = sdkspec.load()
    assert actions, "no action rows read from " + sdkspec.find_spec()
    RESULTS.update(results)
    CLASSES.update(classes)
    doc = ctx.stack.request("GET", "/zstack/v1/openapi.json").body
    paths = doc["paths"]
    MAY_LACK.update({k: v.get("mayLack", []) for k, v in doc.get("x-zstack-classes", {}).items()})
    caller = Caller(ctx, actions)
    failures = {}
    t0 = time.time()
    for action in actions:
        problems = []
        item = paths.get("/zstack/v1" + action.path, {})
        if action.method.lower() not in item:
            problems.append("the OpenAPI document has no %s %s" % (action.method, action.path))
        try:
            problems += run_action(caller, action)
        except Exception as e:   # a fixture could not be made: this action is not shown to conform
            problems.append("could not call it: %s: %s" % (type(e).__name__, str(e)[:300]))
        if problems:
            failures[action.name] = problems
    _remove_backups(ctx)
    report = "\n".join("%s: %s" % (name, "; ".join(p)) for name, p in failures.items())
    print("zstack-sdk.md: %d actions, %d conform, %d do not (%.1fs)" % (
        len(actions), len(actions) - len(failures), len(failures), time.time() - t0))
    assert not failures, "actions that do not match zstack-sdk.md:\n" + report


def test_password_sent_to_create_is_what_login_sends(ctx):
    """ZStack's clients send the SHA-512 hex to CreateAccount/UpdateAccount and LogInByAccount
    alike; any string works the same way (the server hashes it, salted and slow, on both sides
    alike: no second client-side digest is expected)."""
    name = "sdkpw-" + rand()[:8]
    hexpw = sha512("the user's password")
    r = ctx.call("POST", "/accounts", {"params": {"name": name, "password": hexpw}})
    assert r.status == 200 and "password" not in json.dumps(r.body).lower(), r
    login = lambda pw: ctx.stack.request("PUT", "/zstack/v1/accounts/login",
                                         {"logInByAccount": {"accountName": name, "password": pw}})
    assert login(hexpw).status == 200
    assert login(sha512(hexpw)).status == 503            # no second hashing on either side
    assert login("the user's password").status == 503
    plain = "not-a-digest-at-all"
    inv_uuid = r.body["inventory"]["uuid"]
    r = ctx.call("PUT", "/accounts/" + inv_uuid, {"updateAccount": {"password": plain}})
    assert r.status == 200, r
    assert login(plain).status == 200 and login(hexpw).status == 503
    # oldPassword, when sent, must be the current one
    r = ctx.call("PUT", "/accounts/" + inv_uuid, {"updateAccount": {"password": hexpw, "oldPassword": "wrong"}})
    assert r.status == 503 and r.error["code"] == "ID.1000", r
    r = ctx.call("PUT", "/accounts/" + inv_uuid, {"updateAccount": {"password": hexpw, "oldPassword": plain}})
    assert r.status == 200 and login(hexpw).status == 200, r


def test_add_kvm_host_has_the_hosts_semantics(ctx):
    """AddKVMHost (the SDK's way to add a host): a host like AddHost's, KVM-typed, keeping the
    SSH user and port and nothing of the password; UpdateHost moves its managementIp."""
    ip = "127.77.%d.%d" % tuple(uuid.uuid4().bytes[:2])
    params = {"name": "kvm-" + rand()[:6], "managementIp": ip, "clusterUuid": rand(), "zoneUuid": rand(),
              "username": "root", "password": "ssh-secret-" + rand(), "cpuNum": 8, "totalMemory": 2 ** 34}
    r = ctx.call("POST", "/hosts/kvm", {"params": params}, wait=False)
    r = ctx.poll(r.body["location"], headers=SCHEMA)
    assert r.status == 200 and r.body["schema"] == {"inventory": "org.zstack.kvm.KVMHostInventory"}, r
    inv = r.body["inventory"]
    assert (inv["hypervisorType"], inv["username"], inv["sshPort"]) == ("KVM", "root", 22), inv
    assert (inv["totalCpuCapacity"], inv["availableCpuCapacity"]) == (80, 80), inv
    assert (inv["totalMemoryCapacity"], inv["availableMemoryCapacity"]) == (2 ** 34, 2 ** 34), inv
    assert params["password"] not in json.dumps(ctx.get("/hosts/" + inv["uuid"]).body)
    r = ctx.call("POST", "/hosts/kvm", {"params": dict(params, name="again")})
    assert r.status == 503 and ip in r.error["details"], r          # one host per managementIp
    for hv, cpus in (("KVM", 80), ("ESX", 0)):
        r = ctx.get("/hosts/capacities/cpu-memory?hostUuids=%s&hypervisorType=%s" % (inv["uuid"], hv))
        assert r.status == 200 and r.body["totalCpu"] == cpus, (hv, r)
    moved = "127.78.%d.%d" % tuple(uuid.uuid4().bytes[:2])
    r = ctx.call("PUT", "/hosts/%s/actions" % inv["uuid"], {"updateHost": {"managementIp": moved}})
    assert r.status == 200 and r.body["inventory"]["managementIp"] == moved, r
    r = ctx.call("PUT", "/hosts/%s/actions" % inv["uuid"], {"updateHost": {"managementIp": "not an ip!"}})
    assert r.status == 400 and "managementIp" in r.error["details"], r
    assert ctx.call("DELETE", "/hosts/" + inv["uuid"]).status == 200


def test_clean_long_job_follows_delete_rules(ctx):
    """CleanLongJob removes a finished job's record; a job still running is refused."""
    r = ctx.call("POST", "/longjobs", {"params": {"jobName": "APICreateSystemTagMsg",
                                                  "jobData": json.dumps({"resourceType": "VmInstanceVO",
                                                                         "resourceUuid": rand(), "tag": "lj::clean"})}})
    assert r.status == 200, r
    juuid = r.body["inventory"]["uuid"]
    wait_for(lambda: ctx.get("/longjobs/" + juuid).body["inventories"][0]["state"] == "Succeeded", 30, "the job")
    r = ctx.call("PUT", "/longjobs/%s/actions" % juuid, {"cleanLongJob": {}})
    assert r.status == 200 and r.body == {}, r
    assert ctx.get("/longjobs/" + juuid).body["inventories"] == []
    r = ctx.call("PUT", "/longjobs/%s/actions" % rand(), {"cleanLongJob": {}})
    assert r.status == 200, r   # unknown: already clean
