"""One process per identity (docs/deployment.md): a second broker or tags started by mistake
on the live one's ipc endpoints is refused, naming the live one, and the live one keeps
serving; command-line flags beat the environment in a real process."""
import os
import shutil
import subprocess
import tempfile

from zstest import wait_for

VM = "VmInstanceVO"


def start_second(ctx, name, args=(), env=None):
    penv = dict(ctx.stack.env)
    penv.update(env or {})
    return subprocess.run([os.path.join(ctx.stack.bin, "zs-" + name)] + list(args), env=penv,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)


def test_second_broker_and_tags_are_refused(ctx):
    for name in ("broker", "tags"):
        p = start_second(ctx, name)
        assert p.returncode != 0, p.stdout
        assert "refusing to start" in p.stdout and "already served by a live process (zs-%s host" % name in p.stdout, \
            p.stdout
    # the live ones still serve: an async create goes through the broker to svc-tags
    r = ctx.call("POST", "/system-tags", {"params": {"resourceType": VM, "resourceUuid": "ab" * 16,
                                                     "tag": "identity::still-served"}})
    assert r.status == 200, r


def test_flags_beat_the_environment(ctx):
    other = tempfile.mkdtemp(prefix="zs-e2e-flags-")
    try:
        # ZS_DATA_DIR names the live stack's directory: --data-dir must win, or the store lock
        # of the live svc-tags would refuse this one (same PID namespace: it would join it)
        proc = subprocess.Popen([os.path.join(ctx.stack.bin, "zs-tags"), "--data-dir", other,
                                 "--bind", "ipc://%s/tags-flags.ipc" % other], env=dict(ctx.stack.env),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            wait_for(lambda: os.path.exists(os.path.join(other, "tags", "data.mdb")), 20, "the store under --data-dir")
            check = start_second(ctx, "tags", ["--data-dir", other, "--bind", "ipc://%s/tags-flags.ipc" % other,
                                               "--check"])
            assert check.returncode == 0 and "ok" in check.stdout, check.stdout
        finally:
            proc.terminate()
            out = proc.communicate(timeout=30)[0]
        assert proc.returncode == 0, out
        assert "(data %s/tags)" % other in out, out
    finally:
        shutil.rmtree(other, ignore_errors=True)
