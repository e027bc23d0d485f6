"""The async path of rest.md: 202 + location, polling, X-Job-UUID, long-poll, webhooks."""
import json
import time
import uuid

from zstest import Receiver, wait_for

VM = "VmInstanceVO"


def tag_body(tag, ruuid=None):
    return {"params": {"resourceType": VM, "resourceUuid": ruuid or uuid.uuid4().hex, "tag": tag}}


def post_tag(ctx, tag, headers=None, ruuid=None):
    h = ctx.auth()
    h.update(headers or {})
    return ctx.stack.request("POST", "/zstack/v1/system-tags", tag_body(tag, ruuid), h)


def test_202_location_then_poll(ctx):
    r = post_tag(ctx, "async::1", headers={"Host": "example.test:9"})
    assert r.status == 202, r
    assert "/zstack/v1/api-jobs/" in r.body["location"], r
    assert r.body["location"].startswith("http://example.test:9/"), r   # built from Host
    job = r.body["location"].rsplit("/", 1)[1]
    done = ctx.poll(r.body["location"])
    assert done.status == 200 and done.body["inventory"]["tag"] == "async::1", done
    # a finished job keeps answering the same body, with the schema when asked
    again = ctx.stack.request("GET", "/zstack/v1/api-jobs/" + job, headers={"X-JSON-Schema": "true"})
    assert again.status == 200 and again.body["inventory"] == done.body["inventory"], again
    assert again.body["schema"] == {"inventory": "org.zstack.header.tag.SystemTagInventory"}, again


def test_failed_job_polls_503_with_error(ctx):
    body = {"params": {"resourceType": "AccountVO", "resourceUuid": uuid.uuid4().hex, "tag": "x"}}
    r = ctx.stack.request("POST", "/zstack/v1/system-tags", body, ctx.auth())
    assert r.status == 202, r
    done = ctx.poll(r.body["location"])
    assert done.status == 503 and done.error["code"] == "SYS.1003", done
    assert set(done.error) >= {"code", "description", "details"}


def test_unknown_job_404_and_wrong_method_405(ctx):
    r = ctx.stack.request("GET", "/zstack/v1/api-jobs/" + uuid.uuid4().hex)
    assert r.status == 404, r
    r = ctx.stack.request("GET", "/zstack/v1/api-jobs/not-a-uuid")
    assert r.status == 404, r
    r = ctx.stack.request("DELETE", "/zstack/v1/api-jobs/" + uuid.uuid4().hex)
    assert r.status == 405, r


def test_x_job_uuid_rules(ctx):
    job = uuid.uuid4().hex
    r = post_tag(ctx, "jobid::1", headers={"X-Job-UUID": job})
    assert r.status == 202 and r.body["location"].endswith("/api-jobs/" + job), r
    first = ctx.poll(r.body["location"])
    assert first.status == 200
    # reuse → 400, and the first job is untouched
    r = post_tag(ctx, "jobid::2", headers={"X-Job-UUID": job})
    assert r.status == 400 and "Duplicate job uuid" in r.error["details"], r
    assert ctx.poll("/zstack/v1/api-jobs/" + job).body == first.body
    for bad in ["ABCDEF" + "0" * 26, "1234", str(uuid.uuid4())]:
        r = post_tag(ctx, "jobid::3", headers={"X-Job-UUID": bad})
        assert r.status == 400 and "X-Job-UUID" in r.error["details"], (bad, r)
    # ignored on synchronous APIs (the Java SDK sends one on every call)
    r = ctx.get("/system-tags?limit=1", headers={"X-Job-UUID": "not even hex"})
    assert r.status == 200, r


def test_api_timeout_header_validation(ctx):
    r = post_tag(ctx, "t::1", headers={"X-API-Timeout": "soon"})
    assert r.status == 400 and "X-API-Timeout" in r.error["details"], r
    r = post_tag(ctx, "t::2", headers={"X-API-Timeout": "30"})
    assert r.status == 202 and ctx.poll(r.body["location"]).status == 200


def test_long_poll_answers_when_done(ctx):
    r = post_tag(ctx, "longpoll::1")
    t0 = time.time()
    done = ctx.stack.request("GET", "/zstack/v1/api-jobs/%s?wait=30" % r.body["location"].rsplit("/", 1)[1])
    assert done.status == 200, done
    assert time.time() - t0 < 10   # answered on completion, not after the full wait
    r = ctx.stack.request("GET", "/zstack/v1/api-jobs/%s?wait=61" % uuid.uuid4().hex)
    assert r.status == 400 and "wait" in r.error["details"], r


def test_webhook_success_and_failure(ctx):
    rx = Receiver()
    try:
        r = post_tag(ctx, "hook::ok", headers={"X-Web-Hook": rx.url})
        assert r.status == 202, r
        job = r.body["location"].rsplit("/", 1)[1]
        hit = rx.next()
        assert hit["headers"]["x-job-uuid"] == job and hit["headers"]["x-job-success"] == "true", hit
        assert hit["body"]["inventory"]["tag"] == "hook::ok", hit
        assert hit["body"] == ctx.poll(r.body["location"]).body   # the same body a poll returns
        body = {"params": {"resourceType": "AccountVO", "resourceUuid": uuid.uuid4().hex, "tag": "x"}}
        h = ctx.auth()
        h["X-Web-Hook"] = rx.url
        r = ctx.stack.request("POST", "/zstack/v1/system-tags", body, h)
        hit = rx.next()
        assert hit["headers"]["x-job-success"] == "false" and hit["body"]["error"]["code"] == "SYS.1003", hit
        # the delivery is visible through the API, recorded Delivered once the hit is in
        failed_job = r.body["location"].rsplit("/", 1)[1]
        query = "/webhook-deliveries?q=jobUuid=" + failed_job
        wait_for(lambda: (ctx.get(query).body["inventories"] or [{}])[0].get("status") == "Delivered",
                 10, "delivery recorded")
        deliveries = ctx.get(query)
        assert deliveries.status == 200, deliveries
        [d] = deliveries.body["inventories"]
        assert d["jobUuid"] == failed_job and d["status"] == "Delivered" and d["attempts"] == 1, d
        assert d["lastStatusCode"] == 200, d
    finally:
        rx.close()


def test_webhook_receiver_down_at_first_gets_it_later(ctx):
    from zstest import free_port
    port = free_port()
    url = "http://127.0.0.1:%d/late" % port
    r = post_tag(ctx, "hook::late", headers={"X-Web-Hook": url})
    job = r.body["location"].rsplit("/", 1)[1]
    assert ctx.poll(r.body["location"]).status == 200
    wait_for(lambda: (ctx.get("/webhook-deliveries?q=jobUuid=" + job).body["inventories"] or [{}])[0]
             .get("attempts", 0) >= 1, 10, "a failed first attempt")
    d = ctx.get("/webhook-deliveries?q=jobUuid=" + job).body["inventories"][0]
    assert d["status"] == "Pending" and d.get("lastError"), d
    rx = Receiver(port)
    try:
        hit = rx.next(timeout=20)
        assert hit["headers"]["x-job-uuid"] == job and hit["path"] == "/late", hit
        wait_for(lambda: ctx.get("/webhook-deliveries?q=jobUuid=" + job).body["inventories"][0]["status"]
                 == "Delivered", 10, "delivery recorded")
    finally:
        rx.close()


def test_webhook_410_stops_retries(ctx):
    rx = Receiver()
    rx.status = 410
    try:
        r = post_tag(ctx, "hook::gone", headers={"X-Web-Hook": rx.url})
        job = r.body["location"].rsplit("/", 1)[1]
        rx.next()
        wait_for(lambda: ctx.get("/webhook-deliveries?q=jobUuid=" + job).body["inventories"][0]["status"]
                 == "Failed", 10, "the delivery to stop")
        d = ctx.get("/webhook-deliveries?q=jobUuid=" + job).body["inventories"][0]
        assert d["attempts"] == 1 and d["lastStatusCode"] == 410, d
    finally:
        rx.close()


def test_webhook_url_must_be_http(ctx):
    r = post_tag(ctx, "hook::bad", headers={"X-Web-Hook": "file:///etc/passwd"})
    assert r.status == 400 and "X-Web-Hook" in r.error["details"], r
    assert json.dumps(r.body).count("error") == 1
