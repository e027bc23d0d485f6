"""The web console (/console/) in a real headless Chromium against the real stack: login, a
ticket waiting for the approver approved and executed, session expiry, a backup's progress bar
moving to done, a notification arriving and marked read, every page rendered. Screenshots go
to <build>/test-output/console/ (not committed); any JavaScript console error fails the test.

One browser for the module (its tests run in order and share it); the last test closes it."""
import json
import os
import uuid as uuidlib

import webdriver
import zstest
from test_longjob_backup import tune_longjob
from test_ticket import account

PASSWORD = "password-123"
_b = {}   # the shared browser and what the tests learn along the way


def out_dir(ctx):
    d = os.path.join(os.path.dirname(os.path.abspath(ctx.stack.bin)), "test-output", "console")
    os.makedirs(d, exist_ok=True)
    return d


def browser(ctx):
    if "b" not in _b:
        assert webdriver.available(), "chromium and chromedriver are needed (make deps installs them)"
        _b["b"] = webdriver.Browser(os.path.join(ctx.stack.data, "log", "chromedriver.log"))
        _b["shots"] = []
    return _b["b"]


def shot(ctx, name):
    path = browser(ctx).screenshot(os.path.join(out_dir(ctx), name + ".png"))
    _b["shots"].append(path)
    return path


def no_js_errors(b, refused=None):
    """Fails on any console error; `refused` names the one API path whose HTTP refusal the
    step expects (Chromium logs a refused fetch as a console error of its own)."""
    bad = [m for m in b.console_messages() if m.get("level") == "SEVERE"
           and not (refused and refused in m["message"] and "Failed to load resource" in m["message"])]
    assert not bad, "JavaScript console errors: %s" % json.dumps(bad, indent=1)


def login(ctx, b, name, password):
    b.get(ctx.stack.url + "/console/")
    if b.wait_js("return document.getElementById('top').hidden ? 'out' : "
                 "document.getElementById('who').textContent && 'in'") == "in":
        logout(b)
    b.wait_js("return !document.getElementById('login').hidden")
    b.type("#login-name", name)
    b.type("#login-password", password)
    b.click("#login-form button[type=submit]")
    b.wait_js("return !document.getElementById('top').hidden && document.getElementById('who').textContent",
              what="the console after login")


def logout(b):
    b.click("#logout")
    b.wait_js("return !document.getElementById('login').hidden", what="the login form")


def test_console_is_served_with_a_strict_policy(ctx):
    r = ctx.stack.request("GET", "/console")
    assert r.status == 200 and "<title>ZStack console</title>" in r.body["_raw"], r   # followed the 301
    r = ctx.stack.request("GET", "/console/rest.js")
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/javascript"), r.headers
    assert "default-src 'self'" in r.headers["Content-Security-Policy"], r.headers
    for bad in ("/console/.hidden.js", "/console/notes.txt", "/console/%2e%2e/main.c", "/console/a/b.js"):
        r = ctx.stack.request("GET", bad)
        assert r.status == 404 and r.error["code"] == "SYS.1003", (bad, r)
    r = ctx.stack.request("POST", "/console/index.html", raw=b"x")
    assert r.status == 405, r


def test_console_console_errors_are_caught(ctx):
    """The check every other test relies on: a console error in the page is seen."""
    b = browser(ctx)
    b.get(ctx.stack.url + "/console/")
    b.wait_js("return typeof App === 'object'")
    b.js("console.error('zs-probe-error')")
    got = b.wait_js("return true") and b.console_messages()
    assert any("zs-probe-error" in m["message"] and m["level"] == "SEVERE" for m in got), got
    # the BigInt SHA-512 used where WebCrypto is not allowed agrees with Python's
    for text in ("", "abc", "p" * 300):
        assert b.js("return Sha512.fallback(new TextEncoder().encode(arguments[0]))", text) == zstest.sha512(text)
    no_js_errors(b)


def test_console_submitter_creates_and_approver_approves_a_ticket(ctx):
    b = browser(ctx)
    approver, _ = account(ctx, "cs-approver")
    account(ctx, "cs-submitter")
    r = ctx.call("POST", "/tickets/flow-collections", {"params": {
        "name": "cs-one-step-" + uuidlib.uuid4().hex[:6], "isDefault": False,
        "flows": [{"name": "review", "approverUuid": approver, "approverTitle": "console reviewer"}]}})
    assert r.status == 200, r
    collection = r.body["inventory"]["uuid"]
    vm = uuidlib.uuid4().hex
    name = "cs-ticket-" + vm[:6]

    # the submitter creates the ticket from a request, through the form
    login(ctx, b, "cs-submitter", PASSWORD)
    b.type("#nt-name", name)
    b.type("#nt-req", "tag the vm")
    b.type("#nt-api", "org.zstack.header.tag.APICreateSystemTagMsg")
    b.type("#nt-body", json.dumps({"resourceType": "VmInstanceVO", "resourceUuid": vm, "tag": "cs::ok"}))
    b.wait_js("return [...document.getElementById('nt-flow').options].some(o => o.value === arguments[0])",
              collection, what="the collection in the flow list")
    b.js("document.getElementById('nt-flow').value = arguments[0]", collection)
    b.click("#page form.form button[type=submit]")
    b.wait_js("return location.hash.startsWith('#/ticket/') && "
              "document.querySelector('button[data-event=cancel]') !== null", what="the new ticket's page")
    # the submitter may cancel, not approve
    assert b.js("return document.querySelector('button[data-event=approve]') === null"), "a submitter may not approve"
    shot(ctx, "00-ticket-created")
    ticket = {"uuid": b.js("return location.hash.split('/')[2]")}
    t = ctx.get("/tickets/" + ticket["uuid"]).body["inventories"][0]
    assert t["name"] == name and t["status"] == "Pending" and t["flowCollectionUuid"] == collection, t
    assert t["request"][0]["apiBody"]["resourceUuid"] == vm, t
    no_js_errors(b)
    logout(b)

    b.get(ctx.stack.url + "/console/")
    b.wait_js("return !document.getElementById('login').hidden")
    shot(ctx, "01-login")
    # a wrong password is refused on the form
    b.type("#login-name", "cs-approver")
    b.type("#login-password", "wrong")
    b.click("#login-form button[type=submit]")
    b.wait_js("return document.getElementById('login-error').textContent.length > 0", what="a login error")
    no_js_errors(b, refused="/zstack/v1/accounts/login")
    login(ctx, b, "cs-approver", PASSWORD)
    assert b.text("#who") == "cs-approver"
    # the ticket is in the approver's "Waiting for my approval" table
    row = 'section:first-of-type tr[data-uuid="%s"] a' % ticket["uuid"]
    b.wait_find(row)
    shot(ctx, "02-tickets-waiting")
    b.click(row)
    b.wait_js("return document.querySelector('button[data-event=approve]') !== null", what="the approve button")
    assert b.js("return document.querySelector('button[data-event=cancel]') === null"), "an approver may not cancel"
    assert "console reviewer" in b.text("ol.flow li.current")
    b.type("#ticket-comment", "approved from the console")
    shot(ctx, "03-ticket-detail")
    b.click("button[data-event=approve]")
    # executed: the page follows the execution without a reload
    b.wait_js("return [...document.querySelectorAll('dd span')].some(s => s.textContent === 'Succeeded')",
              timeout=30, what="the ticket executed")
    assert "approved from the console" in b.text("#history")
    shot(ctx, "04-ticket-executed")
    t = ctx.get("/tickets/" + ticket["uuid"]).body["inventories"][0]
    assert t["status"] == "FinalApproved" and t["executionStatus"] == "Succeeded", t
    tags = ctx.get("/system-tags?q=resourceUuid=%s" % vm).body["inventories"]
    assert [x["tag"] for x in tags] == ["cs::ok"], tags
    no_js_errors(b)
    logout(b)


def test_console_session_expiry_returns_to_login(ctx):
    b = browser(ctx)
    login(ctx, b, "admin", zstest.ADMIN_PASSWORD)
    session = b.js("return JSON.parse(sessionStorage.getItem('zs-session')).uuid")
    r = ctx.call("DELETE", "/accounts/sessions/" + session)
    assert r.status == 200, r
    # the unread-count poll meets ID.1001 and the page goes back to the login form
    b.wait_js("return !document.getElementById('login').hidden", what="the login form after expiry")
    assert "expired" in b.text("#login-error")
    no_js_errors(b, refused="/zstack/v1/notifications")   # the poll that met the expired session


def test_console_backup_progress_and_notification(ctx):
    b = browser(ctx)
    tune_longjob(ctx)   # slow backup steps, so the bar has time to move
    login(ctx, b, "admin", zstest.ADMIN_PASSWORD)
    b.get(ctx.stack.url + "/console/#/notifications")
    b.wait_js("return document.querySelector('#page[data-page=notifications] tbody tr') !== null")
    unread = b.wait_js("return document.getElementById('unread').textContent !== '' && "
                       "String(Number(document.getElementById('unread').textContent))")
    b.get(ctx.stack.url + "/console/#/jobs")
    b.click("#start-backup")
    bar = "document.querySelector('tbody tr:first-child .job-progress [role=progressbar]')"
    seen = set()

    def progress_or_done():
        v = b.js("const b = %s; const s = document.querySelector('tbody tr:first-child td:nth-child(3)');"
                 "return b && [Number(b.getAttribute('aria-valuenow')), s.textContent, "
                 "document.querySelector('tbody tr:first-child td:nth-child(2)').textContent]" % bar)
        if v and v[2] == "APIBackupDatabaseMsg":
            seen.add(v[0])
            if 0 < v[0] < 100 and "mid" not in _b:
                _b["mid"] = shot(ctx, "05-jobs-progress")
            return v if v[1] == "Succeeded" else None
        return None
    final = zstest.wait_for(progress_or_done, 60, "the backup to finish")
    assert final[0] == 100, final
    assert any(0 < p < 100 for p in seen), "the bar never showed progress between 0 and 100: %s" % sorted(seen)
    shot(ctx, "06-jobs-done")
    # rerun it, then cancel the rerun while it runs: the row's buttons follow the state
    job_uuid = b.js("return document.querySelector('tbody tr:first-child').dataset.uuid")
    row = "tr[data-uuid='%s']" % job_uuid
    b.click(row + " button[data-action=RerunLongJob]")
    b.wait_js("return document.querySelector(arguments[0] + ' button[data-action=CancelLongJob]') !== null", row,
              what="the rerun to be cancellable")
    b.click(row + " button[data-action=CancelLongJob]")
    b.wait_js("return document.querySelector(arguments[0] + ' td:nth-child(3)').textContent === 'Canceled'", row,
              timeout=30, what="the rerun to be canceled")
    # the long job's notification arrives: the unread badge grows, the row is there, unread
    b.wait_js("return Number(document.getElementById('unread').textContent) > Number(arguments[0])", unread,
              timeout=20, what="the unread count to grow")
    b.get(ctx.stack.url + "/console/#/notifications")
    note = b.wait_js("const tr = [...document.querySelectorAll('tr.unread')].find(tr => "
                     "tr.textContent.includes(arguments[0]) && tr.textContent.includes('finished: Succeeded'));"
                     "return tr && tr.dataset.uuid", job_uuid, what="the backup's notification row")
    shot(ctx, "07-notifications")
    # mark it read: the row stops being unread, the server says Read (other notifications may
    # arrive meanwhile, so the badge is not compared)
    b.click("tr[data-uuid='%s'] button" % note)
    b.wait_js("const tr = document.querySelector(\"tr[data-uuid='\" + arguments[0] + \"']\");"
              "return tr && !tr.classList.contains('unread') && tr.textContent.includes('Read')", note,
              what="the notification row to be read")
    n = ctx.get("/notifications/" + note).body["inventories"][0]
    assert n["status"] == "Read", n
    no_js_errors(b)


def test_console_other_pages_and_phone_layout(ctx):
    b = browser(ctx)
    login(ctx, b, "admin", zstest.ADMIN_PASSWORD)
    r = ctx.call("POST", "/hosts", {"params": {"name": "cs-host", "managementIp": "cs-host.hosts.test",
                                               "zoneUuid": uuidlib.uuid4().hex, "clusterUuid": uuidlib.uuid4().hex,
                                               "cpuNum": 8, "totalMemory": 16 * 1024 ** 3}})
    assert r.status == 200, r
    host = r.body["inventory"]["uuid"]
    try:   # the capacity chart draws the host's CPU and memory bars, with what is used
        assert ctx.call("PUT", "/hosts/%s/actions" % host, {"updateHost": {"usedCpu": 20, "usedMemory": 4 * 1024 ** 3}}).status == 200
        b.get(ctx.stack.url + "/console/#/hosts")
        b.wait_js("const t = [...document.querySelectorAll('svg.chart text')].map(x => x.textContent);"
                  "return t.includes('cs-host CPU') && t.includes('cs-host memory') && "
                  "t.includes('20 / 80 vCPUs') && t.includes('4 / 16 GiB')",
                  what="the capacity chart of cs-host")
        shot(ctx, "08-hosts")
    finally:
        assert ctx.call("DELETE", "/hosts/" + host).status == 200
    b.get(ctx.stack.url + "/console/#/gc")
    b.wait_js("return document.querySelector('#page[data-page=gc] tbody tr[data-uuid]') !== null", what="GC rows")
    shot(ctx, "09-gc")
    b.get(ctx.stack.url + "/console/#/license")
    b.wait_js("return document.querySelector('dl.facts') !== null", what="the license facts")
    assert "Community" in b.text("dl.facts")
    shot(ctx, "10-license")
    # tags of a resource, and the server-side filter of a table
    vm = uuidlib.uuid4().hex
    for tag in ("cs::one", "cs::two"):
        assert ctx.call("POST", "/system-tags", {"params": {"resourceType": "VmInstanceVO", "resourceUuid": vm,
                                                           "tag": tag}}).status == 200
    b.get(ctx.stack.url + "/console/#/tags/" + vm)
    b.wait_js("return document.querySelectorAll('#page table')[0].querySelectorAll('tbody tr[data-uuid]').length === 2",
              what="the two tags of the resource")
    b.type("#page section.card:nth-of-type(1) input[type=search]", "two")
    b.click("#page section.card:nth-of-type(1) form button")
    b.wait_js("const rows = document.querySelectorAll('#page table')[0].querySelectorAll('tbody tr[data-uuid]');"
              "return rows.length === 1 && rows[0].textContent.includes('cs::two')", what="the filtered tag")
    shot(ctx, "11-tags")
    # a phone-sized window: the tickets page still reads in one column
    b.resize(390, 844)
    b.get(ctx.stack.url + "/console/#/tickets")
    b.wait_js("return document.querySelector('#page[data-page=tickets] tbody tr') !== null")
    assert b.js("return document.documentElement.scrollWidth <= window.innerWidth + 1"), "horizontal scroll on a phone"
    shot(ctx, "12-tickets-phone")
    no_js_errors(b)


def test_console_close_browser(ctx):
    b = _b.pop("b", None)
    shots = _b.get("shots", [])
    if b:
        b.close()
    print("console screenshots:\n  " + "\n  ".join(shots))
    assert len(shots) >= 12, shots
