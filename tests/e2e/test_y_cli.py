"""The zs CLI against the real stack: help from the API table, login keeping the session 0600
in the config folder, aligned tables and -o json, exit statuses, completion (the helper, the
bash script) and the interactive shell driven through a pseudo-terminal."""
import json
import os
import pty
import re
import select
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import uuid as uuidlib

import zstest

_cfg = {}


def env(ctx):
    """An environment with a fresh config folder and no session of the caller's."""
    if "dir" not in _cfg:
        _cfg["dir"] = tempfile.mkdtemp(prefix="zs-cli-")
    e = dict(os.environ)
    e.pop("ZS_SESSION", None)
    e.update({"ZS_URL": ctx.stack.url, "XDG_CONFIG_HOME": _cfg["dir"], "HOME": _cfg["dir"], "TERM": "xterm"})
    return e


def zs(ctx, *args, stdin=None):
    p = subprocess.run([os.path.join(ctx.stack.bin, "zs")] + list(args), env=env(ctx), input=stdin,
                       capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def session_file(ctx):
    return os.path.join(_cfg["dir"], "zs", "session")


def test_cli_help_comes_from_the_api_table(ctx):
    rc, out, _ = zs(ctx, "--help")
    assert rc == 0 and "usage:" in out and "zs help <API>" in out and "exit status" in out, out
    rc, out, _ = zs(ctx, "help", "ChangeTicketStatus")
    assert rc == 0, out
    assert "PUT /zstack/v1/tickets/{uuid}/actions" in out and "body key: changeTicketStatus" in out, out
    line = next(x for x in out.splitlines() if x.strip().startswith("statusEvent"))
    assert "string" in line and "required" in line and "one of: open approve cancel reject reopen" in line, line
    assert re.search(r"comment\s+string\s+optional", out), out
    rc, out, _ = zs(ctx, "help", "QueryLongJob")
    assert rc == 0 and "queryable fields of LongJob" in out and re.search(r"\n  state\s+string, indexed", out), out
    rc, out, _ = zs(ctx, "QueryTicket", "--help")
    assert rc == 0 and "currentFlow" in out and "join to TicketFlow" in out, out
    rc, _, err = zs(ctx, "help", "NoSuchApi")
    assert rc == 2 and "no API named NoSuchApi" in err, err
    rc, out, _ = zs(ctx, "list", "ticketflow")
    assert rc == 0 and "QueryTicketFlow" in out and "QueryLongJob" not in out, out


def test_cli_login_keeps_a_private_session_and_prints_tables(ctx):
    rc, _, err = zs(ctx, "login", "admin", "wrong-password")
    assert rc == 1 and "ID.1000" in err and not os.path.exists(session_file(ctx)), err
    rc, out, err = zs(ctx, "login", "admin", stdin=zstest.ADMIN_PASSWORD + "\n")   # asked, not on argv
    assert rc == 0 and "logged in as admin" in out, (out, err)
    st = os.stat(session_file(ctx))
    assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
    assert stat.S_IMODE(os.stat(os.path.dirname(session_file(ctx))).st_mode) == 0o700
    kept = json.load(open(session_file(ctx)))
    assert kept["url"] == ctx.stack.url and kept["account"] == "admin" and len(kept["session"]) == 32, kept

    # an async API, followed to its result, with the kept session
    vm = uuidlib.uuid4().hex
    for tag in ("cli::first", "cli::a-much-longer-second-tag"):
        rc, out, err = zs(ctx, "CreateSystemTag", "resourceType=VmInstanceVO", "resourceUuid=" + vm, "tag=" + tag)
        assert rc == 0, (out, err)
    assert json.loads(out)["inventory"]["tag"] == "cli::a-much-longer-second-tag", out
    # a query is an aligned table: every column starts where its header starts
    rc, out, err = zs(ctx, "QuerySystemTag", "q=resourceUuid=" + vm, "fields=tag,resourceType,uuid", "sortBy=tag")
    assert rc == 0, err
    lines = out.rstrip("\n").split("\n")
    assert lines[0].split() == ["tag", "resourceType", "uuid"] and set(lines[1]) <= {"-", " "}, lines
    starts = [lines[0].index(h) for h in ("resourceType", "uuid")]
    for row in lines[2:]:
        assert [row.index(v) for v in row.split()[1:]] == starts, (row, starts)
    assert [r.split()[0] for r in lines[2:]] == ["cli::a-much-longer-second-tag", "cli::first"], lines
    # the kept session is sent only to the suite that issued it
    e = env(ctx)
    e["ZS_URL"] = ctx.stack.url.replace("127.0.0.1", "localhost")
    p = subprocess.run([os.path.join(ctx.stack.bin, "zs"), "QueryTicket"], env=e, capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 1 and "Authorization" in p.stderr, p
    # -o json for scripts: the API's answer as is
    rc, out, _ = zs(ctx, "-o", "json", "QuerySystemTag", "q=resourceUuid=" + vm, "count=true")
    assert rc == 0 and json.loads(out) == {"total": 2}, out


def test_cli_exit_status_says_failure(ctx):
    rc, out, err = zs(ctx, "ChangeTicketStatus", "uuid=" + uuidlib.uuid4().hex, "statusEvent=approve")
    assert rc == 1 and "SYS.1003" in err and out == "", (out, err)
    rc, _, err = zs(ctx, "QueryTicket", "not-a-pair")
    assert rc == 2 and "name=value" in err, err
    rc, _, err = zs(ctx, "ChangeTicketStatus", "statusEvent=approve")
    assert rc == 2 and "needs uuid=" in err, err
    rc, _, err = zs(ctx, "NoSuchCommand")
    assert rc == 2, err
    rc, out, _ = zs(ctx, "-o", "json", "QueryTicket", "q=nosuchfield=1")   # scripts get the body
    assert rc == 1 and json.loads(out)["error"]["code"] == "SYS.1007", out


def test_cli_completion_helper_and_bash_script(ctx):
    def cands(line):
        rc, out, _ = zs(ctx, "__complete", line)
        assert rc == 0
        return out.splitlines()
    assert cands("QueryTicketFl") == ["QueryTicketFlowCollection ", "QueryTicketFlow "]
    assert "login " in cands("lo") and "logout " in cands("lo")
    assert cands("ChangeTicketStatus st") == ["statusEvent="]
    assert cands("QueryLongJob q=sta") == ["q=state"]
    assert "q=currentFlow." in cands("QueryTicket q=cu") and "q=currentFlowUuid" in cands("QueryTicket q=cu")
    assert cands("-o js") == ["json "]
    assert cands("help GetLicenseI") == ["GetLicenseInfo "]
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "completion", "zs.bash")
    probe = ('source "$1"; PATH="$2:$PATH"; COMP_LINE="zs QueryLongJob q=sta"; COMP_POINT=${#COMP_LINE}; '
             'COMP_WORDS=(zs QueryLongJob q = sta); COMP_CWORD=4; _zs; printf "%s|" "${COMPREPLY[@]}"')
    p = subprocess.run(["bash", "-c", probe, "bash", script, ctx.stack.bin], capture_output=True, text=True,
                       timeout=30, env=env(ctx))
    assert p.stdout == "state|", (p.stdout, p.stderr)


class Terminal:
    """zs running on a pseudo-terminal; read what it shows, type keys."""

    def __init__(self, argv, environ):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execve(argv[0], argv, environ)
        self.seen = ""

    def expect(self, text, timeout=20):
        end = time.time() + timeout
        while text not in self.seen:
            left = end - time.time()
            if left <= 0:
                raise AssertionError("the terminal never showed %r; it shows:\n%s" % (text, self.seen[-2000:]))
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise AssertionError("zs ended before showing %r:\n%s" % (text, self.seen[-2000:]))
                self.seen += chunk.decode(errors="replace")
        at = self.seen.index(text) + len(text)
        shown, self.seen = self.seen[:at], self.seen[at:]
        return shown

    def type(self, keys):
        os.write(self.fd, keys.encode())

    def wait(self, timeout=20):
        end = time.time() + timeout
        while time.time() < end:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
            try:   # drain what it still writes so it never blocks on a full terminal
                if select.select([self.fd], [], [], 0.1)[0]:
                    os.read(self.fd, 65536)
            except OSError:
                pass
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        raise AssertionError("zs did not exit")


def test_cli_interactive_shell_on_a_terminal(ctx):
    vm = uuidlib.uuid4().hex
    assert ctx.call("POST", "/system-tags", {"params": {"resourceType": "VmInstanceVO", "resourceUuid": vm,
                                                       "tag": "cli::shell"}}).status == 200
    t = Terminal([os.path.join(ctx.stack.bin, "zs")], env(ctx))
    try:
        t.expect("zs> ")
        # completion of the API name, a q= field, a parameter name: libedit redraws the line
        # with cursor moves, so the proof is the command that ran (and the history below)
        t.type("QuerySystemT\tq=resourceU\t=%s fie\ttag,resourceType\r" % vm)
        shown = t.expect("zs> ")
        assert re.search(r"tag\s+resourceType", shown) and "cli::shell" in shown, shown
        t.type("\x1b[A\r")                            # history: up arrow runs it again
        t.expect("cli::shell")
        t.expect("zs> ")
        t.type("ChangeTicketStatus uuid=%s statusEvent=approve\r" % uuidlib.uuid4().hex)
        shown = t.expect("zs> ")
        assert "SYS.1003" in shown and "(exit status 1)" in shown, shown
        t.type("exit\r")
        assert t.wait() == 1   # like a shell: the status of the last command
    finally:
        if t.fd:
            try:
                os.kill(t.pid, 0)
                os.kill(t.pid, signal.SIGKILL)
                os.waitpid(t.pid, 0)
            except OSError:
                pass
    history = open(os.path.join(_cfg["dir"], "zs", "history"), errors="replace").read().replace("\\040", " ")  # libedit escapes blanks
    assert "QuerySystemTag q=resourceUuid=%s fields=tag,resourceType" % vm in history, history


def test_cli_zsh_completion_in_a_real_zsh(ctx):
    """tools/completion/_zs loaded by zsh's own completion system, on a terminal."""
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "completion")
    e = env(ctx)
    e.update({"PATH": os.path.abspath(ctx.stack.bin) + ":" + e["PATH"], "ZS_SESSION": ctx.admin})
    t = Terminal(["/usr/bin/zsh", "-f", "-i"], e)
    try:
        t.type("fpath=(%s $fpath); autoload -Uz compinit; compinit -u; PS1='zsh%% '\r" % folder)
        t.expect("zsh% ")
        t.type("zs help GetLicenseI\t\r")                       # an API name
        t.expect("GetLicenseInfo  (org.zstack")
        t.expect("sync, no session needed")
        t.type("zs -o json QueryLongJob q=sta\t=Succeeded count=true\r")   # a q= field
        t.expect('"total"')
        t.type("exit\r")
        t.wait()
    finally:
        try:
            os.kill(t.pid, signal.SIGKILL)
            os.waitpid(t.pid, 0)
        except OSError:
            pass


def test_cli_logout_forgets_the_session(ctx):
    session = json.load(open(session_file(ctx)))["session"]
    rc, _, err = zs(ctx, "logout")
    assert rc == 0, err
    assert not os.path.exists(session_file(ctx))
    r = ctx.get("/accounts/sessions/%s/valid" % session)
    assert r.status == 200 and r.body["valid"] is False, r
    rc, _, err = zs(ctx, "QueryTicket")
    assert rc == 1 and "Authorization" in err, err
    shutil.rmtree(_cfg.pop("dir"), ignore_errors=True)
