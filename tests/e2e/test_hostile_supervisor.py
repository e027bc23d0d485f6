"""deploy/zs-stack supervises its processes: a gateway killed by a hostile request (or
anything else) is restarted, with the restart logged. Runs a second, private stack through
the real script on its own loopback port and data directory, and stops it at the end."""
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request

from zstest import free_port, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def ready(url):
    try:
        with urllib.request.urlopen(url + "/zstack/v1/management-nodes/ready", timeout=5) as r:
            return r.status == 200
    except OSError:
        return False


def pids_of(data, exe=b"zs-"):
    """The zs-* processes (or just `exe`) whose environment names this stack's data directory."""
    pids = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % p, "rb") as f:
                if exe not in os.path.basename(f.read().split(b"\0")[0]):
                    continue
            with open("/proc/%s/environ" % p, "rb") as f:
                if ("ZS_DATA_DIR=" + data).encode() in f.read().split(b"\0"):
                    pids.append(int(p))
        except OSError:
            pass
    return pids


def gateway_pids(data):
    return pids_of(data, b"zs-gateway")


def test_zs_stack_restarts_a_dead_gateway(ctx):
    data = tempfile.mkdtemp(prefix="zs-i13-stack-")
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    env = dict(ctx.stack.env)
    env.update({"ZS_DATA_DIR": data, "ZS_GATEWAY_LISTEN": "127.0.0.1:%d" % port,
                "ZS_BIN": os.path.abspath(ctx.stack.bin)})
    env.pop("ZS_CORE_READY_ROLES", None)
    env.pop("ZS_WEBHOOK_ALLOW_LOOPBACK", None)
    env["ZS_NOTIFICATION_WEBHOOK_URL"] = ""
    env["ASAN_OPTIONS"] = "log_path=%s/log/asan:detect_leaks=1:abort_on_error=0" % data
    env["UBSAN_OPTIONS"] = "log_path=%s/log/ubsan:print_stacktrace=1" % data
    out = open(os.path.join(data, "zs-stack.out"), "wb")
    stack = subprocess.Popen([os.path.join(ROOT, "deploy", "zs-stack"), "run"], cwd=ROOT, env=env,
                             stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def banner():
            with open(os.path.join(data, "zs-stack.out")) as f:
                text = f.read()
            return text if "Press Ctrl-C to stop" in text else None
        banner = wait_for(banner, 60, "the zs-stack stack to be ready")
        assert ready(url)
        assert "loopback targets are ALLOWED" in banner, banner   # the developer stack says so
        first = gateway_pids(data)
        assert len(first) == 1, first
        os.kill(first[0], signal.SIGKILL)   # what a crashing request did
        wait_for(lambda: gateway_pids(data) and gateway_pids(data) != first, 30, "a new gateway")
        wait_for(lambda: ready(url), 30, "the restarted gateway to serve")
        with open(os.path.join(data, "log", "zs-stack.log")) as f:
            log = f.read()
        assert "zs-gateway (pid %d) exited with status 137; restarting it in 1s" % first[0] in log, log
    finally:
        stack.send_signal(signal.SIGTERM)
        try:
            stack.wait(60)
        finally:
            out.close()
        left = pids_of(data)
        for p in left:
            os.kill(p, signal.SIGKILL)
        reports = [f for f in os.listdir(os.path.join(data, "log")) if f.startswith(("asan", "ubsan"))]
        shutil.rmtree(data, ignore_errors=True)
    assert not left, "zs-stack left processes running: %s" % left
    assert not reports, reports
