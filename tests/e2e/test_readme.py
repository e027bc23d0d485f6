"""The README's examples work as written, and query strings take `%` as ZStack users type it.

The README is read at run time: its shell blocks (curl, zs) and its inline
`METHOD /zstack/v1/...` examples are run against the test stack. The only substitutions are
the ones any reader makes: the stack's address for localhost:8080, the stack's admin password
for ZStack's default `password`, build/bin for the binaries under test, and a session or
management node uuid for the `<...>` placeholders a reader fills in. An example needing
something a reader must make first (a license file from an issuer) is covered by
test_readme_license_examples, where the issuer's key is the one the test stack trusts (the
README's step 2, done by zstest.Stack)."""
import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import uuid

from zstest import ADMIN_PASSWORD

HERE = os.path.dirname(os.path.abspath(__file__))
README = os.path.join(os.path.dirname(os.path.dirname(HERE)), "README.md")
# Placeholders a reader cannot fill from the running stack alone (they need an issued license).
NEEDS_LICENSE_FILE = ("<base64 of acme.lic>", "module=NAME")


def readme():
    with open(README, encoding="utf-8") as f:
        return f.read()


def localize(ctx, text):
    host = ctx.stack.url.split("//", 1)[1]
    text = text.replace("localhost:8080", host).replace("127.0.0.1:8080", host)
    text = re.sub(r"printf password\b", "printf '%s'" % ADMIN_PASSWORD, text)
    text = re.sub(r"zs login admin password\b", "zs login admin '%s'" % ADMIN_PASSWORD, text)
    return text.replace("build/bin/", os.path.abspath(ctx.stack.bin) + "/")


def run_sh(ctx, script, cwd=None):
    r = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=60,
                       cwd=cwd)
    assert r.returncode == 0, (script, r.stdout, r.stderr)
    return r.stdout


def test_readme_shell_examples(ctx):
    """The ```sh blocks with curl: run line by line; `<session uuid>` is the uuid the login
    example printed."""
    blocks = re.findall(r"```sh\n(.*?)```", readme(), re.S)
    curl_blocks = [b for b in blocks if "curl" in b]
    assert curl_blocks, "no curl example in the README"
    ran = 0
    for block in curl_blocks:
        commands = [c.strip() for c in re.split(r"(?<!\\)\n", block.replace("\\\n", " ")) if c.strip()]
        env_lines, session = [], None
        for cmd in commands:
            cmd = localize(ctx, cmd)
            if "<session uuid>" in cmd:
                assert session, "the README uses a session before logging in"
                cmd = cmd.replace("<session uuid>", session)
            if re.match(r"^\w+=", cmd):      # a variable for the next lines
                env_lines.append(cmd)
                continue
            out = run_sh(ctx, "\n".join(env_lines + ["curl -sS -f " + cmd[len("curl "):]]))
            body = json.loads(out)
            assert "error" not in body, (cmd, body)
            session = (body.get("inventory") or {}).get("uuid", session) if "accounts/login" in cmd else session
            ran += 1
    assert ran >= 2, ran


def test_readme_cli_examples(ctx):
    """The ```sh block of `zs` commands, line by line, with ZS_URL/ZS_SESSION naming the stack
    and a session (the README says they override the kept ones). Lines that wait for a person
    (their comment says it: a password prompt, the interactive mode) are not run here."""
    blocks = [b for b in re.findall(r"```sh\n(.*?)```", readme(), re.S) if "build/bin/zs " in b]
    assert blocks, "no zs example in the README"
    env = dict(os.environ, ZS_URL=ctx.stack.url, ZS_SESSION=ctx.admin)
    ran = skipped = 0
    for line in "\n".join(blocks).splitlines():
        cmd, _, comment = line.partition("#")
        if not cmd.strip().startswith("build/bin/zs"):
            continue
        if "asks for the password" in comment or "interactive" in comment:
            skipped += 1
            continue
        r = subprocess.run(["bash", "-c", localize(ctx, cmd)], capture_output=True, text=True, timeout=60, env=env)
        assert r.returncode == 0, (cmd, r.stdout[-500:], r.stderr[-500:])
        if " -o json " in cmd:
            json.loads(r.stdout)
        ran += 1
    print("README zs examples: %d ran, %d wait for a person" % (ran, skipped))
    assert ran >= 3, ran


def test_readme_http_examples(ctx):
    """Inline `METHOD /zstack/v1/... {json}` examples."""
    examples = re.findall(r"`(GET|PUT|POST|DELETE) (/zstack/v1/[^ `]*)(?: (\{[^`]*\}))?`", readme())
    assert examples, "no HTTP example in the README"
    mn = ctx.stack.request("GET", "/zstack/v1/licenses").body["inventory"]["managementNodeUuid"]
    ran = skipped = 0
    for method, path, body in examples:
        if any(p in path + (body or "") for p in NEEDS_LICENSE_FILE):
            skipped += 1
            continue
        path = path.replace("<managementNodeUuid>", mn).replace("<mn>", mn)
        assert "<" not in path, "an unfilled placeholder in %s" % path
        r = ctx.call(method, path[len("/zstack/v1"):], json.loads(body) if body else None)
        assert r.status == 200 and "error" not in (r.body or {}), (method, path, r)
        ran += 1
    print("README HTTP examples: %d ran here, %d with a license file (test_readme_license_examples)" % (ran, skipped))
    assert ran >= 3, ran


def test_readme_license_examples(ctx):
    """Steps 1-5 of the README's license section: keygen, issue, show, install through the API,
    delete the primary (the installation ends as Community, as test_license.py expects)."""
    text = readme()
    tool_examples = [re.sub(r"\s*\n\s*", " ", e) for e in
                     re.findall(r"`((?:build/bin/)?zs-license-tool (?:keygen|issue|show) [^`]*)`", text)]
    assert [e.split()[1] for e in tool_examples] == ["keygen", "issue", "show"], tool_examples
    info = ctx.stack.request("GET", "/zstack/v1/licenses").body["inventory"]
    work = tempfile.mkdtemp(prefix="zs-readme-")
    try:
        for ex in tool_examples:
            tool = os.path.join(os.path.abspath(ctx.stack.bin), "zs-license-tool")
            cmd = re.sub(r"^(?:build/bin/)?zs-license-tool", tool, ex)
            cmd = re.sub(r"\[([^\]]*)\]", r"\1", cmd)          # the optional parts too
            cmd = cmd.replace("<licenseRequest>", info["licenseRequest"])
            run_sh(ctx, cmd, cwd=work)
            if " keygen " in ex:   # step 2: the installation trusts this issuer (zstest.Stack's)
                for f in ("issuer.key", "issuer.pub"):
                    shutil.copy(os.path.join(ctx.stack.issuer_dir, f), os.path.join(work, "issuer", f))
        with open(os.path.join(work, "acme.lic"), "rb") as f:
            lic = base64.b64encode(f.read()).decode()
        put = re.search(r"`PUT (/zstack/v1/licenses/mn/[^ `]*) (\{[^`]*updateLicense[^`]*\})`", text)
        r = ctx.call("PUT", put.group(1)[len("/zstack/v1"):].replace("<managementNodeUuid>", info["managementNodeUuid"]),
                     json.loads(put.group(2).replace("<base64 of acme.lic>", lic)))
        assert r.status == 200 and r.body["inventory"]["user"] == "ACME" and r.body["inventory"]["hostNum"] == 50, r
        delete = re.search(r"`DELETE (/zstack/v1/licenses/mn/<mn>/actions)", text).group(1)
        r = ctx.call("DELETE", delete[len("/zstack/v1"):].replace("<mn>", info["managementNodeUuid"]))
        assert r.status == 200, r
        assert ctx.stack.request("GET", "/zstack/v1/licenses").body["inventory"]["licenseType"] == "Community"
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ---- `%` in query strings: a `%` not followed by two hex digits is a literal `%` -----------

def _tags(ctx, raw_query):
    r = ctx.get("/system-tags?" + raw_query)
    assert r.status == 200, (raw_query, r)
    return sorted(t["tag"] for t in r.body["inventories"])


def test_query_string_percent_is_lenient(ctx):
    vm = uuid.uuid4().hex
    for tag in ("pct::100%", "pct::10x", "pct::a_b", "pct::aXb", "pct::ok"):
        r = ctx.call("POST", "/system-tags", {"params": {"resourceType": "VmInstanceVO", "resourceUuid": vm,
                                                         "tag": tag}})
        assert r.status == 200, r
    mine = "&q=resourceUuid=" + vm
    # raw `%` at the end: a LIKE wildcard, typed by hand
    assert _tags(ctx, "q=tag~=pct::%" + mine) == ["pct::100%", "pct::10x", "pct::aXb", "pct::a_b", "pct::ok"]
    # raw `%` followed by non-hex characters stays a `%`
    assert _tags(ctx, "q=tag~=pct::%x" + mine) == ["pct::10x"]
    assert _tags(ctx, "q=tag~=pct::%o%" + mine) == ["pct::ok"]
    # `%25` is a literal `%` (then a LIKE wildcard, as ZStack has it)
    assert _tags(ctx, "q=tag~=pct::1%2500%25" + mine) == ["pct::100%"]
    # `_` is LIKE's one-character wildcard, raw or encoded
    assert _tags(ctx, "q=tag~=pct::a_b" + mine) == ["pct::aXb", "pct::a_b"]
    assert _tags(ctx, "q=tag~=pct::a%5Fb" + mine) == ["pct::aXb", "pct::a_b"]
    # `%` before two hex digits is an escape: %3A%3A is "::"
    assert _tags(ctx, "q=tag=pct%3A%3Aok" + mine) == ["pct::ok"]
    # a decoded byte sequence that is not UTF-8 is still refused
    r = ctx.get("/system-tags?q=tag=%ff" + mine)
    assert r.status == 400 and "UTF-8" in r.error["details"], r
