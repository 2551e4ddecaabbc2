"""report.html opened in headless Chromium: every image loaded, no request leaves the file, every claim and
part present; a screenshot of the first screen is saved for review.

The browser is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: fd 3 in, fd 4
out, NUL-terminated JSON), so no extra Python package is needed. Without Chromium the test skips and says
why (``.ci/run`` installs Debian's ``chromium``). The report is built from the committed ``results/`` into a
temporary folder; nothing is written into ``results/``.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
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


class DevTools:
    """A minimal DevTools-protocol client over the browser's pipe."""

    def __init__(self, exe: str, profile: Path):
        to_child_r, self._w = os.pipe()
        self._r, from_child_w = os.pipe()

        # the browser reads commands on fd 3 and writes replies on fd 4: the shell moves the pipes there
        self.proc = subprocess.Popen(
            ["/bin/sh", "-c", f'exec "$0" "$@" 3<&{to_child_r} 4>&{from_child_w}', exe, "--headless=new", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
             "--disable-background-networking", "--disable-component-update", "--hide-scrollbars",
             f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(to_child_r, from_child_w))
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict] = []

    def _read(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._r], [], [], left)[0]:
                raise TimeoutError("no reply from the browser")
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise RuntimeError("the browser closed its pipe")
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


def test_report_html_in_headless_chromium(built, tmp_path):
    exe = _browser()
    if exe is None:
        pytest.skip("no Chromium found (install Debian's `chromium`: `apt-get install -y chromium`; .ci/run does)")
    page = (built / "report.html").resolve()
    url = page.as_uri()
    browser = DevTools(exe, tmp_path / "profile")
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
        images = browser.send("Runtime.evaluate", {"expression": (
            "JSON.stringify(Array.from(document.images).map(i => ({complete: i.complete, w: i.naturalWidth, "
            "h: i.naturalHeight, shown: i.getBoundingClientRect().width, alt: i.alt})))"),
            "returnByValue": True}, session=session)["result"]["value"]
        text = browser.send("Runtime.evaluate", {"expression": "document.body.innerText", "returnByValue": True},
                            session=session)["result"]["value"]
        scripts = browser.send("Runtime.evaluate", {"expression": "document.scripts.length", "returnByValue": True},
                               session=session)["result"]["value"]
        shot = browser.send("Page.captureScreenshot", {"format": "png"}, session=session)["data"]
    finally:
        browser.close()
    import base64
    screenshot = tmp_path / "report_first_screen.png"
    screenshot.write_bytes(base64.b64decode(shot))
    print(f"screenshot of the first screen: {screenshot}")

    requests = [ev["params"]["request"]["url"] for ev in browser.events
                if ev.get("method") == "Network.requestWillBeSent"]
    leaving = [u for u in requests if not (u == url or u.startswith("data:"))]
    assert leaving == [], f"requests leaving the file: {leaving[:5]}"
    images = json.loads(images)
    assert images, "no image on the page"
    bad = [i["alt"] for i in images if not (i["complete"] and i["w"] > 0 and i["h"] > 0 and i["shown"] > 0)]
    assert bad == [], f"images not loaded or of zero size: {bad}"
    assert scripts == 0
    for cid in content.CLAIMS:
        assert cid in text, cid
    for part in content.PARTS:
        assert f"{part['id']}. {part['title']}" in text, part["id"]
    assert "Figure 1." in text
    assert screenshot.stat().st_size > 10_000
