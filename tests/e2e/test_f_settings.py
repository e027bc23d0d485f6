"""Behaviour that depends on settings: result expiry, webhook signatures, session expiry and
the per-account session limit. Each test restarts one process with its setting, then restores
it as the rest of the suite expects."""
import base64
import hashlib
import hmac
import signal
import time
import uuid

from zstest import Receiver, wait_for

VM = "VmInstanceVO"


def with_settings(ctx, name, env):
    ctx.stack.kill(name, signal.SIGTERM)
    ctx.stack.start(name, env=env)
    ctx.stack.wait_ready()


def restore(ctx, name):
    ctx.stack.kill(name, signal.SIGTERM)
    ctx.stack.start(name)
    ctx.stack.wait_ready()


def post_tag(ctx, tag, headers=None):
    h = ctx.auth()
    h.update(headers or {})
    r = ctx.stack.request("POST", "/zstack/v1/system-tags",
                          {"params": {"resourceType": VM, "resourceUuid": uuid.uuid4().hex, "tag": tag}}, h)
    assert r.status == 202, r
    return r.body["location"]


def test_results_expire_then_404_and_uuid_stays_taken(ctx):
    with_settings(ctx, "broker", {"ZS_BROKER_RESULT_TTL": "1"})
    try:
        job = uuid.uuid4().hex
        loc = post_tag(ctx, "expiring", {"X-Job-UUID": job})
        assert ctx.poll(loc).status == 200
        wait_for(lambda: ctx.stack.request("GET", "/zstack/v1/api-jobs/" + job).status == 404, 10,
                 "the result to expire")
        h = ctx.auth()
        h["X-Job-UUID"] = job
        r = ctx.stack.request("POST", "/zstack/v1/system-tags",
                              {"params": {"resourceType": VM, "resourceUuid": uuid.uuid4().hex, "tag": "x"}}, h)
        assert r.status == 400 and "Duplicate job uuid" in r.error["details"], r
    finally:
        restore(ctx, "broker")


def test_webhook_carries_standard_webhooks_signature(ctx):
    key = b"0123456789abcdef0123456789abcdef"
    secret = "whsec_" + base64.b64encode(key).decode()
    with_settings(ctx, "broker", {"ZS_WEBHOOK_SECRET": secret})
    rx = Receiver()
    try:
        post_tag(ctx, "signed", {"X-Web-Hook": rx.url})
        hit = rx.next()
        h = hit["headers"]
        signed = ("%s.%s." % (h["webhook-id"], h["webhook-timestamp"])).encode() + hit["raw"]
        expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        assert h["webhook-signature"] == "v1," + expected, h
        assert abs(int(h["webhook-timestamp"]) - time.time()) < 60
    finally:
        rx.close()
        restore(ctx, "broker")


def test_sessions_expire_and_are_limited_per_account(ctx):
    name = "limited-" + uuid.uuid4().hex[:8]
    ctx.create_account(name)
    with_settings(ctx, "core", {"ZS_CORE_SESSION_TIMEOUT": "2", "ZS_CORE_MAX_SESSIONS": "3"})
    try:
        sessions = [ctx.login(name, "password-123") for _ in range(3)]
        # At the limit the oldest session gives way: a fourth login works (no lock-out) and
        # ends the first session only.
        fourth = ctx.login(name, "password-123")
        valid = lambda s: ctx.stack.request("GET", "/zstack/v1/accounts/sessions/%s/valid" % s).body
        assert valid(sessions[0]) == {"valid": False}, "the oldest session should have given way"
        assert valid(sessions[1]) == {"valid": True} and valid(fourth) == {"valid": True}
        wait_for(lambda: valid(sessions[1]) == {"valid": False}, 10, "the session to expire")
        wait_for(lambda: ctx.get("/accounts", session=sessions[2]).status == 503, 15,
                 "the gateway to refuse the expired session")
        assert ctx.login(name, "password-123")   # expired sessions no longer count
    finally:
        restore(ctx, "core")
        ctx.admin = ctx.login()   # a fresh admin session under the normal settings


def test_a_failed_commit_never_answers_success(ctx):
    # fault.commit-failures: the next batch commit of zs-tags fails as a full disk would
    with_settings(ctx, "tags", {"ZS_FAULT_COMMIT_FAILURES": "1"})
    try:
        first = ctx.poll(post_tag(ctx, "lost::1"))
        assert first.status == 500 and first.error["code"] == "SYS.1000", first   # internal error
        assert "commit failed" in first.error["details"], first
        second = ctx.poll(post_tag(ctx, "kept::2"))
        assert second.status == 200, second
        tags = {t["tag"] for t in ctx.get("/system-tags?q=tag?=lost::1,kept::2").body["inventories"]}
        assert tags == {"kept::2"}, tags   # nothing of the failed batch is there
    finally:
        restore(ctx, "tags")
