"""zstest — the end-to-end harness: starts the real processes of the suite on free loopback
ports with a temporary data directory, talks HTTP to the gateway, kills and restarts
processes, and runs test functions.

A test module is tests/e2e/test_<name>.py; every function named test_* taking one argument
(the shared Context) is a test. Modules run in name order; tests in definition order. A test
fails by raising (assert). Tests that kill processes must leave the stack running (restart
what they killed: ctx.stack.restart(name)).
"""
import hashlib
import http.server
import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

SERVICES = ["broker", "core", "tags", "ticket", "longjob", "license", "gc"]
ADMIN_PASSWORD = "e2e-admin-password"


def sha512(text):
    return hashlib.sha512(text.encode()).hexdigest()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=10.0, what="condition"):
    """Polls predicate until it returns a truthy value (returned) or timeout (AssertionError)."""
    end = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.time() > end:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.02)


class Response:
    def __init__(self, status, body, headers):
        self.status = status
        self.body = body
        self.headers = headers

    def __repr__(self):
        return "<%d %s>" % (self.status, json.dumps(self.body)[:400])

    @property
    def error(self):
        return (self.body or {}).get("error") or {}


class Stack:
    """The processes of one suite: every built service plus the gateway."""

    def __init__(self, bin_dir, data_dir, extra_env=None):
        self.bin = bin_dir
        self.data = data_dir
        self.port = free_port()
        # where notifications are POSTed (test_notifications starts a Receiver on it)
        self.notification_hook_port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.procs = {}
        self.services = [s for s in SERVICES if os.access(os.path.join(bin_dir, "zs-" + s), os.X_OK)]
        os.makedirs(os.path.join(data_dir, "log"), exist_ok=True)
        self.env = dict(os.environ)
        self.env.update({
            "ZS_DATA_DIR": data_dir,
            "ZS_GATEWAY_LISTEN": "127.0.0.1:%d" % self.port,
            "ZS_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "ZS_CORE_READY_ROLES": ",".join(self.services + ["gateway"]),
            "ZS_NODE_HEARTBEAT_INTERVAL": "1",
            "ZS_WEBHOOK_RETRY_BASE_MS": "200",
            # like `make run`: hooks to loopback receivers allowed (test_hostile proves the
            # default refuses them)
            "ZS_WEBHOOK_ALLOW_LOOPBACK": "true",
            "ZS_GC_INTERVAL": "1",
            "ZS_GC_MAX_INTERVAL": "2",
            "ZS_GC_FAILING_ATTEMPTS": "3",
            "ZS_CLEANUP_RETRY": "2",
            "ZS_OUTBOX_RETRY": "1",
            "ZS_OUTBOX_HOLD_MS": "1000",
            "ZS_NOTIFICATION_WEBHOOK_URL": "http://127.0.0.1:%d/notifications" % self.notification_hook_port,
            "ZS_CORE_PWHASH_MEMORY": str(8 * 1024 * 1024),
            "ASAN_OPTIONS": "log_path=%s/asan:detect_leaks=1:abort_on_error=0" % os.path.join(data_dir, "log"),
            "UBSAN_OPTIONS": "log_path=%s/ubsan:print_stacktrace=1" % os.path.join(data_dir, "log"),
        })
        # A TEST-ONLY license issuer key pair, fresh for each run (tests/e2e/test_license.py
        # issues licenses with it); svc-license trusts its public key.
        self.issuer_dir = os.path.join(data_dir, "issuer")
        tool = os.path.join(bin_dir, "zs-license-tool")
        if os.access(tool, os.X_OK):
            subprocess.run([tool, "keygen", self.issuer_dir], check=True, stdout=subprocess.DEVNULL)
            with open(os.path.join(self.issuer_dir, "issuer.pub")) as f:
                self.env["ZS_LICENSE_TRUSTED_KEYS"] = f.read().strip()
        self.env.update(extra_env or {})

    def start(self, name, instance=None, env=None):
        """Starts zs-<name>; `instance` names a second copy (its log and kill key), `env` adds
        settings for this process only (e.g. its ZS_BUS_<NAME>_BIND)."""
        key = instance or name
        exe = os.path.join(self.bin, "zs-" + name)
        log = open(os.path.join(self.data, "log", key + ".log"), "ab")
        penv = dict(self.env)
        penv.update(env or {})
        self.procs[key] = subprocess.Popen([exe], env=penv, stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def start_all(self):
        for s in self.services:
            self.start(s)
        self.start("gateway")
        self.wait_ready()

    def wait_ready(self, timeout=20):
        def ready():
            try:
                return self.request("GET", "/zstack/v1/management-nodes/ready").status == 200
            except OSError:
                return False
        wait_for(ready, timeout, "the stack to be ready")

    def kill(self, name, sig=signal.SIGKILL):
        p = self.procs.pop(name)
        p.send_signal(sig)
        p.wait(timeout=30)
        return p.returncode

    def restart(self, name):
        if name in self.procs:
            self.kill(name, signal.SIGTERM)
        self.start(name)

    def kill_all(self, sig=signal.SIGKILL):
        for name in list(self.procs):
            self.kill(name, sig)

    def stop(self):
        """Stops every process cleanly; returns the names of those that did not exit 0."""
        bad = []
        for name in list(self.procs):
            code = self.kill(name, signal.SIGTERM)
            if code != 0:
                bad.append("%s exited %s" % (name, code))
        return bad

    def sanitizer_reports(self):
        logdir = os.path.join(self.data, "log")
        return [os.path.join(logdir, f) for f in os.listdir(logdir) if f.startswith(("asan", "ubsan"))]

    def finish(self):
        """For a test's own extra stack: stops it and returns what went wrong (processes that did
        not exit 0, sanitizer reports). A clean stack's data folder is removed; a faulty one's is
        kept for its logs."""
        problems = self.stop() + self.sanitizer_reports()
        if not problems:
            shutil.rmtree(self.data, ignore_errors=True)
        return problems

    # -- HTTP ------------------------------------------------------------------------------
    def request(self, method, path, body=None, headers=None, timeout=90, raw=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json;charset=UTF-8")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                status, text, hdrs = r.status, r.read(), dict(r.headers)
        except urllib.error.HTTPError as e:
            status, text, hdrs = e.code, e.read(), dict(e.headers)
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = {"_raw": text.decode(errors="replace")}
        return Response(status, parsed, hdrs)


class Context:
    """What every test gets: the shared stack and an admin session, plus helpers."""

    def __init__(self, stack):
        self.stack = stack
        self.admin = None

    def login(self, name="admin", password=ADMIN_PASSWORD):
        r = self.stack.request("PUT", "/zstack/v1/accounts/login",
                               {"logInByAccount": {"accountName": name, "password": sha512(password)}})
        assert r.status == 200, r
        return r.body["inventory"]["uuid"]

    def auth(self, session=None):
        return {"Authorization": "OAuth " + (session or self.admin)}

    def get(self, path, session=None, headers=None):
        h = self.auth(session)
        h.update(headers or {})
        return self.stack.request("GET", "/zstack/v1" + path, headers=h)

    def call(self, method, path, body=None, session=None, headers=None, wait=True):
        """Calls an API; an async 202 is followed to its result (long poll) when wait."""
        h = self.auth(session) if session != "" else {}
        h.update(headers or {})
        r = self.stack.request(method, "/zstack/v1" + path, body, h)
        if wait and r.status == 202 and "location" in (r.body or {}):
            return self.poll(r.body["location"])
        return r

    def poll(self, location, timeout=60, headers=None):
        path = location.split("/zstack/v1/", 1)[1]
        end = time.time() + timeout
        while True:
            r = self.stack.request("GET", "/zstack/v1/" + path + "?wait=5", headers=headers)
            if r.status != 202:
                return r
            if time.time() > end:
                raise AssertionError("job %s still running after %ss" % (path, timeout))

    def create_account(self, name, password="password-123", type_="Normal"):
        """Creates an account as ZStack's clients do: they send the SHA-512 hex of the password,
        the same string login() sends."""
        r = self.call("POST", "/accounts", {"params": {"name": name, "password": sha512(password), "type": type_}})
        assert r.status == 200, r
        return r.body["inventory"]


class Receiver:
    """A real local HTTP server receiving webhooks; answers with self.status (default 200)."""

    def __init__(self, port=None, host="127.0.0.1"):
        self.hits = queue.Queue()
        self.status = 200
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                outer.hits.put({"headers": {k.lower(): v for k, v in self.headers.items()},
                                "body": json.loads(body) if body else None, "raw": body,
                                "path": self.path, "answered": outer.status})
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.port = port or free_port()
        self.server = http.server.ThreadingHTTPServer((host, self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = "http://%s:%d/hook" % (host, self.port)

    def next(self, timeout=15):
        try:
            return self.hits.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no webhook delivery within %ss" % timeout)

    def close(self):
        self.server.shutdown()
        self.server.server_close()
