"""Processes die mid-flight (kill -9); nothing accepted is lost or run twice, nothing hangs.
Runs last: it restarts what it kills so the stack is whole again afterwards."""
import os
import signal
import time
import uuid

from zstest import Receiver, free_port, wait_for

VM = "VmInstanceVO"


def submit_user_tag(ctx, ruuid, tag, timeout=None):
    h = ctx.auth()
    if timeout:
        h["X-API-Timeout"] = str(timeout)
    r = ctx.stack.request("POST", "/zstack/v1/user-tags",
                          {"params": {"resourceType": VM, "resourceUuid": ruuid, "tag": tag}}, h)
    assert r.status == 202, r
    return r.body["location"]


def user_tags_of(ctx, ruuid):
    return ctx.get("/user-tags?q=resourceUuid=" + ruuid).body["inventories"]


def gateway_answers(ctx):
    r = ctx.stack.request("PUT", "/zstack/v1/management-nodes/actions", {"getVersion": {}})
    return r.status == 200


def test_job_open_while_tags_is_dead_completes_once_after_restart(ctx):
    ctx.stack.kill("tags")
    vm = uuid.uuid4().hex
    loc = submit_user_tag(ctx, vm, "survivor", timeout=60)
    assert gateway_answers(ctx)
    r = ctx.stack.request("GET", "/zstack/v1/api-jobs/" + loc.rsplit("/", 1)[1])
    assert r.status == 202, r          # still running, not lost, not failed
    time.sleep(2.5)                   # let the broker re-dispatch to the dead service a few times
    ctx.stack.start("tags")
    done = ctx.poll(loc)
    assert done.status == 200 and done.body["inventory"]["tag"] == "survivor", done
    assert len(user_tags_of(ctx, vm)) == 1


def restart_with(ctx, name, env):
    """Restarts zs-<name> with `env` added to the stack's settings (None: the stack's own)."""
    ctx.stack.kill(name, signal.SIGTERM)
    ctx.stack.start(name, env=env)


def log_lines(ctx, name, *needles):
    """The lines of zs-<name>'s log holding every one of `needles`."""
    with open(os.path.join(ctx.stack.data, "log", name + ".log"), errors="replace") as f:
        return [line for line in f if all(n in line for n in needles)]


def test_redispatched_copies_run_once(ctx):
    # A broker that re-sends quickly (its acknowledgement lease 300 ms) and a slow tags service
    # (each write request takes 2 s): paused first, tags finds copies of the job piled up in its
    # queue; running it, it gets more copies, re-sent while the first one runs, which reach it
    # after that execution and are answered from its job memory (a log line each).
    quick = {"ZS_BROKER_ACK_LEASE_MS": "300", "ZS_BROKER_REDISPATCH_MS": "300",
             "ZS_BROKER_REDISPATCH_MAX_MS": "300"}
    try:
        restart_with(ctx, "broker", quick)
        restart_with(ctx, "tags", {"ZS_FAULT_WRITE_DELAY_US": "2000000"})
        ctx.stack.wait_ready()
        ctx.stack.procs["tags"].send_signal(signal.SIGSTOP)
        vm = uuid.uuid4().hex
        loc = submit_user_tag(ctx, vm, "only-once", timeout=60)
        job = loc.rsplit("/", 1)[1]
        time.sleep(2.5)               # copies pile up in the paused service's queue
        ctx.stack.procs["tags"].send_signal(signal.SIGCONT)
        done = ctx.poll(loc)
        # A second execution of a user tag would fail as a duplicate: the job succeeded, one tag exists.
        assert done.status == 200, done
        assert len(user_tags_of(ctx, vm)) == 1
        # ...and copies were re-dispatched: tags answered them with the stored outcome.
        wait_for(lambda: log_lines(ctx, "tags", "req=" + job, "already executed"), 10,
                 "a re-dispatched copy answered from the job memory of tags")
    finally:
        if "tags" in ctx.stack.procs:
            ctx.stack.procs["tags"].send_signal(signal.SIGCONT)
        restart_with(ctx, "broker", None)
        restart_with(ctx, "tags", None)
        ctx.stack.wait_ready()


def test_kill_while_requests_are_queued_then_restart(ctx):
    ctx.stack.procs["tags"].send_signal(signal.SIGSTOP)
    vm = uuid.uuid4().hex
    locs = [submit_user_tag(ctx, vm, "queued-%d" % i, timeout=60) for i in range(5)]
    ctx.stack.kill("tags")            # SIGKILL works on a stopped process
    ctx.stack.start("tags")
    for loc in locs:
        assert ctx.poll(loc).status == 200
    assert sorted(t["tag"] for t in user_tags_of(ctx, vm)) == ["queued-%d" % i for i in range(5)]


def test_job_past_its_deadline_ends_sys1001_and_never_runs(ctx):
    ctx.stack.kill("tags")
    vm = uuid.uuid4().hex
    loc = submit_user_tag(ctx, vm, "too-late", timeout=2)
    t0 = time.time()
    done = ctx.poll(loc, timeout=20)
    assert done.status == 503 and done.error["code"] == "SYS.1001", done
    assert time.time() - t0 < 10
    ctx.stack.start("tags")
    ctx.stack.wait_ready()
    time.sleep(2.5)                   # a late re-dispatch would have executed by now
    assert user_tags_of(ctx, vm) == []
    assert ctx.poll(loc).status == 503   # the outcome does not change


def test_whole_stack_kill9_and_restart_keeps_everything(ctx):
    vm = uuid.uuid4().hex
    finished = submit_user_tag(ctx, vm, "kept")
    finished_body = ctx.poll(finished).body
    port = free_port()
    hook = "http://127.0.0.1:%d/after-restart" % port
    h = ctx.auth()
    h["X-Web-Hook"] = hook
    r = ctx.stack.request("POST", "/zstack/v1/system-tags",
                          {"params": {"resourceType": VM, "resourceUuid": vm, "tag": "hooked"}}, h)
    hooked_job = r.body["location"].rsplit("/", 1)[1]
    assert ctx.poll(r.body["location"]).status == 200
    wait_for(lambda: (ctx.get("/webhook-deliveries?q=jobUuid=" + hooked_job).body["inventories"] or [{}])[0]
             .get("attempts", 0) >= 1, 10, "a failed delivery attempt")

    ctx.stack.kill_all()
    ctx.stack.start_all()

    # the session, the finished job's result, the tags and the pending delivery all survived
    assert ctx.poll(finished).body == finished_body
    assert [t["tag"] for t in user_tags_of(ctx, vm)] == ["kept"]
    assert [t["tag"] for t in ctx.get("/system-tags?q=resourceUuid=" + vm).body["inventories"]] == ["hooked"]
    rx = Receiver(port)
    try:
        hit = rx.next(timeout=30)
        assert hit["headers"]["x-job-uuid"] == hooked_job and hit["body"]["inventory"]["tag"] == "hooked", hit
    finally:
        rx.close()
