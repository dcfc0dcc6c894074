"""A tiny Chrome DevTools Protocol client over ``--remote-debugging-pipe`` (stdlib only).

Why not ``--dump-dom`` alone: headless Chromium does not print page console messages to stderr,
so a console error or a blocked resource would go unseen. Over the pipe we receive
``Runtime.consoleAPICalled``, ``Runtime.exceptionThrown`` and ``Log.entryAdded`` (CSP violations,
failed loads) and can ask the DOM for the elements a report must have.

The network is off: a dead proxy and a resolver that maps every host to nothing, on top of
Chromium's flags that stop background traffic, so any page that tries to load a remote resource
logs an error and fails the test.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-extensions",
    "--mute-audio",
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--host-resolver-rules=MAP * ~NOTFOUND",
)


def find_chromium() -> str | None:
    """Debian's chromium binary, or None (the browser tests then skip)."""
    for path in CHROMIUM_CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("chromium")


@dataclass
class PageReport:
    """What the browser saw: console errors and which required selectors were missing."""

    errors: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    title: str = ""
    overflow_px: int = 0  # how far the page is wider than the viewport (0: no sideways scroll)


class Chromium:
    """One headless browser with a fresh profile; use as a context manager."""

    def __init__(self, binary: str, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self._profile = tempfile.mkdtemp(prefix="omov-chromium-")
        to_child_r, self._to_child_w = os.pipe()
        self._from_child_r, from_child_w = os.pipe()
        # bash places our pipe ends at fds 3 (commands in) and 4 (replies out), as Chromium expects.
        script = f'exec "$0" "$@" 3<&{to_child_r} 4>&{from_child_w}'
        self._proc = subprocess.Popen(
            [
                "bash",
                "-c",
                script,
                binary,
                *FLAGS,
                f"--user-data-dir={self._profile}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            pass_fds=(to_child_r, from_child_w),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._next_id = 0
        self._inbox: queue.Queue[dict[str, Any]] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        buf = b""
        while True:
            chunk = os.read(self._from_child_r, 1 << 16)
            if not chunk:
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                self._inbox.put(json.loads(raw))

    def send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session: str | None = None,
        events: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Send one command and wait for its reply; other messages go to ``events``."""
        self._next_id += 1
        msg: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_child_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._inbox.get(timeout=max(0.1, deadline - time.monotonic()))
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return dict(reply.get("result", {}))
            if events is not None:
                events.append(reply)

    def wait_for(self, method: str, events: list[dict[str, Any]]) -> None:
        """Collect messages into ``events`` until one with ``method`` arrives."""
        deadline = time.monotonic() + self.timeout
        while not any(e.get("method") == method for e in events):
            events.append(self._inbox.get(timeout=max(0.1, deadline - time.monotonic())))

    def drain(self, events: list[dict[str, Any]], quiet: float = 0.3) -> None:
        """Collect late messages until the pipe is quiet for ``quiet`` seconds."""
        while True:
            try:
                events.append(self._inbox.get(timeout=quiet))
            except queue.Empty:
                return

    def evaluate(self, expression: str, session: str, events: list[dict[str, Any]]) -> Any:
        """The value of a JavaScript expression in the page."""
        reply = self.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session, events
        )
        return reply.get("result", {}).get("value")

    def check_page(self, path: Path, selectors: list[str], width: int = 1400) -> PageReport:
        """Load ``path`` in a new tab ``width`` CSS pixels wide (a phone is 390, with touch);
        report console errors, missing selectors and sideways overflow of the whole page."""
        events: list[dict[str, Any]] = []
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Runtime", "Log", "Page"):
            self.send(f"{domain}.enable", session=session, events=events)
        phone = width < 600
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {
                "width": width,
                "height": 844 if phone else 900,
                "deviceScaleFactor": 1,
                "mobile": phone,
            },
            session,
            events,
        )
        self.send("Page.navigate", {"url": path.resolve().as_uri()}, session, events)
        self.wait_for("Page.loadEventFired", events)
        self.drain(events)
        report = PageReport()
        for sel in selectors:
            found = self.send(
                "Runtime.evaluate",
                {
                    "expression": f"document.querySelector({json.dumps(sel)}) !== null",
                    "returnByValue": True,
                },
                session,
                events,
            )
            if found.get("result", {}).get("value") is not True:
                report.missing.append(sel)
        report.title = str(
            self.send(
                "Runtime.evaluate",
                {"expression": "document.title", "returnByValue": True},
                session,
                events,
            )
            .get("result", {})
            .get("value", "")
        )
        report.overflow_px = int(
            self.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth",
                session,
                events,
            )
            or 0
        )
        self.drain(events, quiet=0.1)
        report.errors = _errors(events)
        self.send("Target.closeTarget", {"targetId": target})
        return report

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(RuntimeError, queue.Empty, OSError):
            self.send("Browser.close")
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        os.close(self._to_child_w)
        os.close(self._from_child_r)
        shutil.rmtree(self._profile, ignore_errors=True)


def _errors(events: list[dict[str, Any]]) -> list[str]:
    """Console errors, uncaught exceptions and error-level log entries (CSP, failed loads)."""
    out = []
    for e in events:
        method, params = e.get("method"), e.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            out.append(
                "console."
                + params["type"]
                + ": "
                + " ".join(
                    str(a.get("value", a.get("description", ""))) for a in params.get("args", [])
                )
            )
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            out.append(
                "exception: "
                + str(details.get("exception", {}).get("description", details.get("text", "")))
            )
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            out.append(f"log ({entry.get('source')}): {entry.get('text')} {entry.get('url', '')}")
    return out
