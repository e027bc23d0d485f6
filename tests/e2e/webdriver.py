"""webdriver — a small client of chromedriver's W3C WebDriver HTTP API (urllib only), driving
headless Debian Chromium for the console tests. One Browser = one chromedriver process + one
browser session with a fresh profile; close() ends both (also registered with atexit).

Chromium runs with the flags a root, offline machine needs (no sandbox, no GPU, no background
networking, component updates or sync: without them it tries to reach Google)."""
import atexit
import base64
import json
import os
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request

from zstest import free_port, wait_for

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--disable-default-apps", "--disable-extensions",
         "--password-store=basic", "--use-mock-keychain"]
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"   # the W3C key of an element reference


class WebDriverError(AssertionError):
    pass


class Browser:
    def __init__(self, log_path, width=1280, height=900):
        self.profile = tempfile.mkdtemp(prefix="zs-chromium-")
        self.port = free_port()
        self.log = open(log_path, "ab")
        self.driver = subprocess.Popen([CHROMEDRIVER, "--port=%d" % self.port], stdout=self.log,
                                       stderr=subprocess.STDOUT)
        self.base = "http://127.0.0.1:%d" % self.port
        self.session = None
        atexit.register(self.close)
        wait_for(self._ready, 20, "chromedriver to listen")
        caps = {"browserName": "chrome",
                "goog:loggingPrefs": {"browser": "ALL"},
                "goog:chromeOptions": {"binary": CHROMIUM,
                                       "args": FLAGS + ["--user-data-dir=" + self.profile,
                                                        "--window-size=%d,%d" % (width, height)]}}
        value = self._call("POST", "/session", {"capabilities": {"alwaysMatch": caps}})
        self.session = value["sessionId"]

    def _ready(self):
        try:
            with urllib.request.urlopen(self.base + "/status", timeout=2) as r:
                return json.load(r)["value"]["ready"]
        except (OSError, ValueError, KeyError):
            return False

    def _call(self, method, path, body=None):
        data = json.dumps(body if body is not None else {}).encode() if method == "POST" else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return json.load(r)["value"]
        except urllib.error.HTTPError as e:
            raise WebDriverError("%s %s: %s" % (method, path, e.read().decode(errors="replace")[:800]))

    def _s(self, method, path, body=None):
        return self._call(method, "/session/%s%s" % (self.session, path), body)

    # -- navigation, script, elements -------------------------------------------------------
    def get(self, url):
        self._s("POST", "/url", {"url": url})

    def js(self, script, *args):
        """Runs `script` (a function body; arguments[i] are args) in the page; returns its value."""
        return self._s("POST", "/execute/sync", {"script": script, "args": list(args)})

    def wait_js(self, script, *args, timeout=20, what=None):
        """Waits until `script` returns a truthy value (returned)."""
        return wait_for(lambda: self.js(script, *args), timeout, what or script)

    def find(self, css):
        return self._s("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]

    def wait_find(self, css, timeout=20):
        self.wait_js("return document.querySelector(arguments[0]) !== null", css, timeout=timeout,
                     what="an element " + css)
        return self.find(css)

    def click(self, css, tries=5):
        """Clicks the element; a live page may redraw it between finding and clicking (stale),
        then it is found again."""
        for attempt in range(tries):
            try:
                self._s("POST", "/element/%s/click" % self.wait_find(css))
                return
            except WebDriverError as e:
                if "stale element reference" not in str(e) or attempt == tries - 1:
                    raise

    def type(self, css, text):
        el = self.wait_find(css)
        self._s("POST", "/element/%s/clear" % el)
        self._s("POST", "/element/%s/value" % el, {"text": text})

    def text(self, css):
        return self._s("GET", "/element/%s/text" % self.wait_find(css))

    def resize(self, width, height):
        self._s("POST", "/window/rect", {"width": width, "height": height})

    def screenshot(self, path):
        with open(path, "wb") as f:
            f.write(base64.b64decode(self._s("GET", "/screenshot")))
        return path

    def console_messages(self):
        """Browser console entries since the last call: [{level, message}, ...]."""
        return self._s("POST", "/se/log", {"type": "browser"})

    def close(self):
        if self.session:
            try:
                self._s("DELETE", "")
            except (OSError, WebDriverError):
                pass
            self.session = None
        if self.driver and self.driver.poll() is None:
            self.driver.terminate()
            try:
                self.driver.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.driver.kill()
                self.driver.wait()
        self.driver = None
        if not self.log.closed:
            self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


def available():
    return os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)


