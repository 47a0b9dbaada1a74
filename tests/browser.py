"""A real browser for tests and benchmarks: Debian's Chromium, headless, driven by Selenium through
Debian's chromedriver (a browser a Python package would download cannot be fetched here).

:func:`chromium` starts one with a fresh profile and the background services off (they would try the
network); :class:`Browser` opens a page and reports what a person would notice: how long it took to
render, console errors, and every request the page made.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-extensions",
    "--hide-scrollbars",
)
ARTIFACTS = Path(
    os.environ.get("HOMEOPS_ARTIFACTS", Path(__file__).resolve().parents[1] / "build" / "test-artifacts")
)


def missing() -> str | None:
    """Why no browser can run here, or None."""
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not os.path.exists(path):
            return f"{path} not found (apt-get install {package}; .ci/services.sh installs it)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


class Browser:
    def __init__(self, driver: Any) -> None:
        self.driver = driver

    def open(self, path: Path, *, width: int = 1440, height: int = 900) -> float:
        """Load ``path`` from a file:// URL; seconds until the page has rendered (two frames after the
        load event, measured by the page's own clock from navigation start)."""
        self.driver.set_window_size(width, height)
        self.log()  # drop what earlier pages left
        self.driver.get(path.resolve().as_uri())
        rendered = self.driver.execute_async_script(
            "const done = arguments[0];"
            "requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now())));"
        )
        return float(rendered) / 1000

    def log(self) -> dict[str, list[str]]:
        """Console errors and request URLs since the last call."""
        errors = [e["message"] for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]
        requests = []
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                requests.append(message["params"]["request"]["url"])
        return {"errors": errors, "requests": requests}

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def screenshot(self, name: str, *, full: bool = False) -> Path:
        """Save a PNG under the test artifacts folder (the whole page with ``full``)."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        if full:
            import base64

            size = self.js(
                "return [document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
            )
            shot = self.driver.execute_cdp_cmd(
                "Page.captureScreenshot",
                {
                    "captureBeyondViewport": True,
                    "clip": {"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1},
                },
            )
            path.write_bytes(base64.b64decode(shot["data"]))
        else:
            self.driver.save_screenshot(str(path))
        return path

    def colour_scheme(self, scheme: str) -> None:
        """Emulate the browser's light or dark preference."""
        self.driver.execute_cdp_cmd(
            "Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]}
        )


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="homeops-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_script_timeout(30)
    try:
        yield Browser(driver)
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
