"""emulate — containers and hosts without Docker or Kubernetes, from namespaces (root only).

- A network (Net) is a Linux bridge living in a network namespace of its own; a host
  (Net.host) is a network namespace joined to that bridge by a veth pair. Nothing is added to
  the caller's network namespace. Every name carries the prefix `i10` plus the network's tag,
  and Net.destroy removes them all (call it in `finally`).
- A container (Container) is a process in a host's network namespace with its own PID and
  mount namespaces, running as the image's user, with the image's files laid out as the
  Dockerfile says: /etc (its ENV, /etc/zs/zs.conf) and /var/lib are overlaid per container,
  the build's binaries appear in /usr/local/bin, volumes are bind mounts.
- HTTP to a process: NetnsHTTP opens its sockets inside a given network namespace (setns on
  the calling thread for the moment of socket(), then back), so the test talks to
  127.0.0.1:<port> *inside* the gateway's namespace, as a client on that host would.
"""
import ctypes
import http.client
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def run(*args, check=True, **kw):
    p = subprocess.run(list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if check and p.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr.strip()))
    return p


def wait_for(pred, timeout, what):
    end = time.time() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.time() > end:
            raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(0.1)


class Net:
    """A bridge (in netns i10<tag>br) and the hosts joined to it, on 10.210.<n>.0/24."""

    def __init__(self, tag, n):
        self.tag, self.n = tag, n
        self.br = "i10%sbr" % tag
        self.hosts = {}
        self.destroy()   # leftovers of an interrupted run
        run("ip", "netns", "add", self.br)
        run("ip", "-n", self.br, "link", "add", "br0", "type", "bridge")
        run("ip", "-n", self.br, "link", "set", "br0", "up")

    def ns(self, host):
        return "i10%s-%s" % (self.tag, host)

    def host(self, name, *ips):
        ns = self.ns(name)
        idx = len(self.hosts) + 1
        run("ip", "netns", "add", ns)
        run("ip", "-n", self.br, "link", "add", "h%d" % idx, "type", "veth", "peer", "name", "eth0", "netns", ns)
        run("ip", "-n", self.br, "link", "set", "h%d" % idx, "master", "br0", "up")
        run("ip", "-n", ns, "link", "set", "lo", "up")
        run("ip", "-n", ns, "link", "set", "eth0", "up")
        for ip in ips:
            self.add_ip(name, ip)
        self.hosts[name] = ns
        return ns

    def add_ip(self, host, ip):
        run("ip", "-n", self.ns(host), "addr", "add", "%s/24" % ip, "dev", "eth0")

    def forget_neighbours(self):
        """What a gratuitous ARP does when an address moves to another host."""
        for ns in self.hosts.values():
            run("ip", "-n", ns, "neigh", "flush", "all", check=False)

    def lose(self, host):
        """The host is gone: every process in its namespace killed, the namespace deleted."""
        ns = self.hosts.pop(host)
        pids = run("ip", "netns", "pids", ns, check=False).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        run("ip", "netns", "del", ns, check=False)

    def destroy(self):
        names = run("ip", "netns", "list", check=False).stdout
        for line in names.splitlines():
            ns = line.split()[0] if line.split() else ""
            if ns == self.br or ns.startswith("i10%s-" % self.tag):
                for pid in run("ip", "netns", "pids", ns, check=False).stdout.split():
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                run("ip", "netns", "del", ns, check=False)
        self.hosts = {}


class Image:
    """What deploy/Dockerfile says of the runtime image: user, ENV, WORKDIR and the files it
    copies from the source tree (read from the file, not restated here)."""

    def __init__(self, repo, bin_dir, work):
        text = open(os.path.join(repo, "deploy", "Dockerfile")).read().replace("\\\n", " ")
        final = text[text.rindex("\nFROM "):]   # the runtime stage
        self.env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
        self.files = []   # (source path in the repo, path in the image)
        self.user = "0:0"
        self.workdir = "/"
        for line in final.splitlines():
            words = line.split()
            if not words:
                continue
            if words[0] == "ENV":
                for k, v in re.findall(r'(\w+)=("[^"]*"|\S+)', line):
                    self.env[k] = v.strip('"')
            elif words[0] == "USER":
                self.user = words[1]
            elif words[0] == "WORKDIR":
                self.workdir = words[1]
            elif words[0] == "COPY" and not words[1].startswith("--from"):
                self.files.append((os.path.join(repo, words[1]), words[2]))
        uid, _, gid = self.user.partition(":")
        assert uid.isdigit() and uid != "0", "the image must run as a numeric non-root user: %s" % self.user
        self.uid, self.gid = int(uid), int(gid or uid)
        # /usr/local/bin of the image: the build's programs (copied: the checkout may not be
        # readable by the image's user) and the files the Dockerfile copies there.
        self.bin = os.path.join(work, "usr-local-bin")
        os.makedirs(self.bin, exist_ok=True)
        for f in os.listdir(bin_dir):
            if f.startswith("zs"):
                shutil.copy2(os.path.join(bin_dir, f), self.bin)
        for src, dst in self.files:
            if dst.startswith("/usr/local/bin/"):
                shutil.copy2(src, os.path.join(self.bin, os.path.basename(dst)))
        os.chmod(work, 0o755)


class Container:
    """One process as a container: `ns` (a host's network namespace), a fresh PID and mount
    namespace, the image's user, `argv` and `env` (exactly; nothing inherited), `mounts`
    [(host dir, container dir, read_only)], /etc/hosts from `hosts`."""

    def __init__(self, name, image, ns, argv, env, mounts, hosts, work, log_dir):
        self.name, self.image, self.ns, self.argv, self.env = name, image, ns, argv, env
        root = os.path.join(work, "containers", name)
        shutil.rmtree(root, ignore_errors=True)
        etc_up, etc_work = os.path.join(root, "etc"), os.path.join(root, "etc-work")
        os.makedirs(etc_work)
        os.makedirs(etc_up)
        for src, dst in image.files:
            if dst.startswith("/etc/"):
                target = os.path.join(etc_up, dst[len("/etc/"):])
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copy2(src, target)
        with open(os.path.join(etc_up, "hosts"), "w") as f:
            f.write("127.0.0.1 localhost\n")
            for host, ip in hosts.items():
                f.write("%s %s\n" % (ip, host))
        with open(os.path.join(etc_up, "hostname"), "w") as f:
            f.write(name + "\n")
        steps = ["set -e", "hostname %s" % shlex.quote(name),
                 "mount -t overlay overlay -o lowerdir=/etc,upperdir=%s,workdir=%s /etc" % (etc_up, etc_work),
                 "mount -t tmpfs -o mode=0755 tmpfs /var/lib",
                 "mount --bind %s /usr/local/bin" % image.bin]
        for src, dst, ro in mounts:
            steps.append("mkdir -p %s" % shlex.quote(dst))
            steps.append("mount --bind %s %s" % (shlex.quote(src), shlex.quote(dst)))
            if ro:
                steps.append("mount -o remount,bind,ro %s" % shlex.quote(dst))
        # the directories the image creates for its user (Dockerfile: install -d -o zs ...)
        for d in {image.workdir, image.env.get("ZS_DATA_DIR", image.workdir)}:
            steps.append("[ -d %s ] || { mkdir -p %s && chown %d:%d %s && chmod 0700 %s; }" % (
                (shlex.quote(d),) * 2 + (image.uid, image.gid) + (shlex.quote(d),) * 2))
        steps.append("cd %s" % shlex.quote(image.workdir))
        steps.append("exec " + " ".join(shlex.quote(a) for a in self.as_user(argv)))
        self.log_path = os.path.join(log_dir, name + ".log")
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, "unshare", "--pid", "--fork", "--mount-proc", "--mount", "--uts",
             "--propagation", "private", "--kill-child=SIGKILL", "--", "sh", "-c", "\n".join(steps)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()

    def as_user(self, argv):
        return (["setpriv", "--reuid=%d" % self.image.uid, "--regid=%d" % self.image.gid, "--clear-groups",
                 "--", "env", "-i"] + ["%s=%s" % kv for kv in sorted(self.env.items())] + list(argv))

    def pid1(self):
        """The container's process (PID 1 of its namespace), seen from here; None when gone."""
        try:
            with open("/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid)) as f:
                kids = f.read().split()
            return int(kids[0]) if kids else None
        except OSError:
            return None

    def exec(self, argv, timeout=15):
        """Runs argv inside the container (its namespaces, user and environment), like
        `docker exec` does for a healthcheck. Returns the CompletedProcess."""
        pid = self.pid1()
        if not pid:
            return subprocess.CompletedProcess(argv, 255, "", "container not running")
        return subprocess.run(["nsenter", "-t", str(pid), "-n", "-m", "-p", "-u", "--"] + self.as_user(argv),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)

    def running(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Signals the container's process and waits for the container to end; its exit code."""
        if self.proc.poll() is None:
            pid = self.pid1()
            try:
                os.kill(pid, sig) if pid else self.proc.send_signal(signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()


class _NetnsConnection(http.client.HTTPConnection):
    def __init__(self, ns, *a, **kw):
        self._ns = ns
        super().__init__(*a, **kw)

    def connect(self):
        self.sock = socket_in(self._ns, self.host, self.port, self.timeout)


def socket_in(ns, host, port, timeout):
    """A TCP connection made from inside network namespace `ns`."""
    own = os.open("/proc/self/ns/net", os.O_RDONLY)
    target = os.open("/var/run/netns/" + ns, os.O_RDONLY)
    try:
        if _libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + ns)
        try:
            s = socket.create_connection((host, port), timeout=timeout)
        finally:
            if _libc.setns(own, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back")
    finally:
        os.close(own)
        os.close(target)
    return s


class Response:
    def __init__(self, status, body, headers):
        self.status, self.body, self.headers = status, body, headers

    @property
    def error(self):
        return (self.body or {}).get("error")

    def __repr__(self):
        return "<%d %s>" % (self.status, json.dumps(self.body)[:600])


class NetnsHTTP:
    """What zstest.Context needs of a stack (request()), for a gateway at 127.0.0.1:port
    inside namespace ns."""

    def __init__(self, ns, port):
        self.ns, self.port = ns, port

    def request(self, method, path, body=None, headers=None, timeout=30, raw=None):
        conn = _NetnsConnection(self.ns, "127.0.0.1", self.port, timeout=timeout)
        try:
            data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
            h = {"Content-Type": "application/json;charset=UTF-8"}
            h.update(headers or {})
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            text = r.read()
            try:
                parsed = json.loads(text) if text else None
            except ValueError:
                parsed = {"_raw": text.decode(errors="replace")}
            return Response(r.status, parsed, dict(r.getheaders()))
        finally:
            conn.close()
