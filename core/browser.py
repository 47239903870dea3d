"""Open an HTML file in headless Chromium and look at it: console errors, failed loads,
network requests and a full-page screenshot.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``:
JSON messages separated by NUL bytes on file descriptors 3 and 4), so no WebSocket
client is needed. Debian's package is ``chromium`` (``/usr/bin/chromium``).
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from affrepro.errors import AffreproError
from affrepro.fileio import atomic_write_bytes

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--mute-audio")


def find_chromium() -> str | None:
    """Path of a Chromium binary (``AFFREPRO_CHROMIUM``, else chromium on PATH), or None."""
    env = os.environ.get("AFFREPRO_CHROMIUM")
    if env:
        return env if Path(env).is_file() else None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class PageCheck:
    """What the browser saw: console errors, uncaught exceptions, failed loads, every
    requested URL, the page's title and size, and the screenshot's path."""

    url: str
    title: str = ""
    width: int = 0
    height: int = 0
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    svg_count: int = 0
    img_count: int = 0
    broken_images: int = 0
    screenshot: Path | None = None

    @property
    def network_requests(self) -> list[str]:
        """Requests that would leave the machine (anything but file:, data: and about:)."""
        return [u for u in self.requests if not u.startswith(("file:", "data:", "about:"))]


class _Pipe:
    """The DevTools protocol over Chromium's pipe: send commands, collect events."""

    def __init__(self, proc: subprocess.Popen, to_chrome: int, from_chrome: int):
        self.proc, self.w, self.r = proc, to_chrome, from_chrome
        self.buf = b""
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def _read_message(self, deadline: float) -> dict[str, Any]:
        import select

        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AffreproError("chromium did not answer within the time limit")
            ready, _, _ = select.select([self.r], [], [], left)
            if ready:
                chunk = os.read(self.r, 1 << 16)
                if not chunk:
                    raise AffreproError(f"chromium closed its DevTools pipe (exit code {self.proc.poll()})")
                self.buf += chunk
        msg, _, self.buf = self.buf.partition(b"\0")
        return json.loads(msg)

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None,
             timeout: float = 30.0) -> dict[str, Any]:
        self.next_id += 1
        msg: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise AffreproError(f"chromium: {method} failed: {reply['error'].get('message')}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30.0) -> dict[str, Any]:
        for ev in self.events:
            if ev["method"] == method:
                return ev
        deadline = time.monotonic() + timeout
        while True:
            msg = self._read_message(deadline)
            if "method" in msg:
                self.events.append(msg)
                if msg["method"] == method:
                    return msg


def _console_errors(events: list[dict[str, Any]]) -> list[str]:
    out = []
    for ev in events:
        p = ev.get("params", {})
        if ev["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            out.append("console." + p["type"] + ": " + " ".join(str(a.get("value", a.get("description", "")))
                                                              for a in p.get("args", [])))
        elif ev["method"] == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            out.append("uncaught: " + str(d.get("exception", {}).get("description") or d.get("text")))
        elif ev["method"] == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            e = p["entry"]
            out.append(f"{e.get('source')}: {e.get('text')} {e.get('url', '')}".strip())
        elif ev["method"] == "Network.loadingFailed" and not p.get("canceled"):
            out.append(f"load failed: {p.get('errorText')}")
    return out


_PAGE_FACTS = """JSON.stringify({title: document.title,
  width: Math.ceil(document.documentElement.scrollWidth),
  height: Math.ceil(document.documentElement.scrollHeight),
  svgs: document.querySelectorAll('svg').length,
  imgs: document.images.length,
  broken: Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).length})"""


def check_page(html: Path | str, screenshot: Path | str | None = None, width: int = 1100,
               chromium: str | None = None, timeout: float = 60.0) -> PageCheck:
    """Load ``html`` in headless Chromium, wait for its load event, and return what the
    browser reported; with ``screenshot``, write a full-page PNG there (atomically)."""
    binary = chromium or find_chromium()
    if binary is None:
        raise AffreproError("no Chromium found (install Debian's `chromium`, or set AFFREPRO_CHROMIUM)")
    url = Path(html).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="affrepro-chromium-") as profile:
        to_r, to_w = os.pipe()
        from_r, from_w = os.pipe()

        def child_fds() -> None:  # the child's fd 3 reads our commands, fd 4 writes replies
            import fcntl

            a, b = fcntl.fcntl(to_r, fcntl.F_DUPFD, 10), fcntl.fcntl(from_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)  # inheritable; every other descriptor Python opened is not (PEP 446)
            os.dup2(b, 4)

        args = [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe",
                f"--window-size={width},900", "about:blank"]
        log = open(Path(profile) / "chromium.log", "wb")  # noqa: SIM115 (closed below)
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                preexec_fn=child_fds, close_fds=False)
        os.close(to_r)
        os.close(from_w)
        pipe = _Pipe(proc, to_w, from_r)
        try:
            target = pipe.call("Target.createTarget", {"url": "about:blank"}, timeout=timeout)["targetId"]
            sid = pipe.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Runtime", "Log", "Page", "Network"):
                pipe.call(f"{domain}.enable", session=sid)
            pipe.call("Emulation.setDeviceMetricsOverride",
                      {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session=sid)
            pipe.call("Page.navigate", {"url": url}, session=sid, timeout=timeout)
            pipe.wait_for("Page.loadEventFired", timeout=timeout)
            facts = json.loads(pipe.call("Runtime.evaluate", {"expression": _PAGE_FACTS, "returnByValue": True},
                                         session=sid)["result"]["value"])
            check = PageCheck(url=url, title=facts["title"], width=facts["width"], height=facts["height"],
                              svg_count=facts["svgs"], img_count=facts["imgs"], broken_images=facts["broken"])
            if screenshot is not None:
                shot = pipe.call("Page.captureScreenshot", {
                    "format": "png", "captureBeyondViewport": True,
                    "clip": {"x": 0, "y": 0, "width": max(width, check.width), "height": check.height, "scale": 1}},
                    session=sid, timeout=timeout)
                check.screenshot = atomic_write_bytes(Path(screenshot), base64.b64decode(shot["data"]))
            check.requests = [ev["params"]["request"]["url"] for ev in pipe.events
                              if ev["method"] == "Network.requestWillBeSent"]
            check.console_errors = _console_errors(pipe.events)
            try:
                pipe.call("Browser.close", timeout=5)
            except AffreproError:
                pass
            return check
        finally:
            os.close(to_w)
            os.close(from_r)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
