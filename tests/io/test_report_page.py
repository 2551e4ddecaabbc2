"""report.html opened in headless Chromium: every image loaded, no request leaves the file, every claim and
part present; a screenshot of the first screen is saved for review.

The browser is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: fd 3 in, fd 4
out, NUL-terminated JSON), so no extra Python package is needed. Without Chromium the test skips and says
why (``.ci/run`` installs Debian's ``chromium``). The report is built from the committed ``results/`` into a
temporary folder; nothing is written into ``results/``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jaxrnn.io import report
from jaxrnn.io.report import content

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "results"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _browser() -> str | None:
    return next((p for p in map(shutil.which, BROWSERS) if p), None)


# Puts the two pipe ends at fd 3 and fd 4 of the browser, then becomes the browser.
_TRAMPOLINE = """
import fcntl, os, sys
r, w = (fcntl.fcntl(int(fd), fcntl.F_DUPFD, 10) for fd in sys.argv[1:3])
os.dup2(r, 3)
os.dup2(w, 4)
os.execv(sys.argv[3], sys.argv[3:])
"""


class DevTools:
    """A minimal DevTools-protocol client over the browser's pipe."""

    def __init__(self, exe: str, profile: Path):
        to_child_r, self._w = os.pipe()
        self._r, from_child_w = os.pipe()

        # the browser reads commands on fd 3 and writes replies on fd 4 (see _TRAMPOLINE)
        self.log = profile.parent / "browser.log"
        with open(self.log, "wb") as log:
            self.proc = self._start(exe, profile, to_child_r, from_child_w, log)
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict] = []

    @staticmethod
    def _start(exe, profile, to_child_r, from_child_w, log):
        return subprocess.Popen(
            [sys.executable, "-c", _TRAMPOLINE, str(to_child_r), str(from_child_w), exe, "--headless=new", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
             "--disable-background-networking", "--disable-component-update", "--hide-scrollbars",
             f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
            pass_fds=(to_child_r, from_child_w))

    def _read(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._r], [], [], left)[0]:
                raise TimeoutError("no reply from the browser")
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
                raise RuntimeError(f"the browser closed its pipe; its last words:\n{log}")
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 60.0):
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        while True:
            reply = self._read(timeout)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 60.0) -> dict:
        for i, ev in enumerate(self.events):
            if ev.get("method") == method:
                return self.events.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            ev = self._read(max(deadline - time.monotonic(), 0.01))
            if ev.get("method") == method:
                return ev
            self.events.append(ev)

    def close(self):
        try:
            self.send("Browser.close", timeout=10)
        except Exception:  # noqa: BLE001 - closing is best effort; the process is killed below
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._w)
        os.close(self._r)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    if not (RESULTS / "summary.json").exists() and not any(RESULTS.glob("*/summary.json")):
        pytest.skip("no committed results/ to build the report from")
    out = tmp_path_factory.mktemp("report") / "out"
    report.write(RESULTS, out, log=lambda s: None)
    return out


def _open(page: Path, tmp_path: Path) -> dict:
    """Load ``page`` in headless Chromium; its images, text, script count, requests and a first-screen PNG."""
    exe = _browser()
    if exe is None:
        pytest.skip("no Chromium found (install Debian's `chromium`: `apt-get install -y chromium`; .ci/run does)")
    url = page.resolve().as_uri()
    browser = DevTools(exe, tmp_path / "profile")

    def value(expression, session):
        return browser.send("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                            session=session)["result"]["value"]

    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Network.enable", "Page.enable", "Runtime.enable"):
            browser.send(domain, session=session)
        browser.send("Emulation.setDeviceMetricsOverride",
                     {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session=session)
        browser.events.clear()
        browser.send("Page.navigate", {"url": url}, session=session)
        browser.wait_for("Page.loadEventFired", timeout=120)
        got = {
            "images": json.loads(value(
                "JSON.stringify(Array.from(document.images).map(i => ({complete: i.complete, w: i.naturalWidth, "
                "h: i.naturalHeight, shown: i.getBoundingClientRect().width, alt: i.alt})))", session)),
            "text": value("document.body.innerText", session),
            "scripts": value("document.scripts.length", session),
            "screenshot": base64.b64decode(browser.send("Page.captureScreenshot", {"format": "png"},
                                                        session=session)["data"]),
        }
    finally:
        browser.close()
    got["url"] = url
    got["requests"] = [ev["params"]["request"]["url"] for ev in browser.events
                       if ev.get("method") == "Network.requestWillBeSent"]
    return got


def test_the_harness_sees_a_request_that_leaves_and_an_image_that_fails(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><body><p>x</p><img alt="far" src="http://192.0.2.1/x.png"></body></html>')
    got = _open(page, tmp_path)
    assert any(u.startswith("http://192.0.2.1/") for u in got["requests"])
    assert not got["images"][0]["w"]


def test_report_html_in_headless_chromium(built, tmp_path):
    got = _open(built / "report.html", tmp_path)
    screenshot = tmp_path / "report_first_screen.png"
    screenshot.write_bytes(got["screenshot"])
    print(f"screenshot of the first screen: {screenshot}")
    leaving = [u for u in got["requests"] if not (u == got["url"] or u.startswith("data:"))]
    assert leaving == [], f"requests leaving the file: {leaving[:5]}"
    images = got["images"]
    assert len(images) >= 13, "fewer figures than problem parts with figures"
    bad = [i["alt"] for i in images if not (i["complete"] and i["w"] > 0 and i["h"] > 0 and i["shown"] > 0)]
    assert bad == [], f"images not loaded or of zero size: {bad}"
    assert got["scripts"] == 0
    text = got["text"]
    for cid in content.CLAIMS:
        assert re.search(rf"\b{cid}\b", text), cid
    for part in content.PARTS:
        assert f"{part['id']}. {part['title']}" in text, part["id"]
    assert "Figure 1." in text and "Appendix F. On an accelerator" in text
    assert screenshot.stat().st_size > 10_000
