"""The pages in a real browser (headless Chromium): they render with no console error and no request
but the file itself, the graph has every node, search, click and the keyboard work, both themes apply.
A screenshot of each page is saved under build/test-artifacts/ (or $HOMEOPS_ARTIFACTS)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from browser import Browser
from homeops.cli.main import main
from services import GitRemote, git_remote

TESTDATA = Path(__file__).resolve().parents[1] / "testdata"
LIVE_REPO = TESTDATA / "live" / "repo"


def write_report(tmp_path: Path, capsys: pytest.CaptureFixture[str], repo: Path, *argv: str) -> Path:
    out = tmp_path / f"{repo.name}.html"
    assert main(["report", str(repo), "--output", str(out), *argv]) == 0, capsys.readouterr().err
    return out


def graph_nodes(capsys: pytest.CaptureFixture[str], repo: Path) -> int:
    capsys.readouterr()
    assert main(["graph", str(repo), "-f", "json"]) == 0
    return len(json.loads(capsys.readouterr().out)["nodes"])


def opened(browser: Browser, page: Path) -> dict[str, list[str]]:
    """Open ``page``; what went wrong while it loaded (console errors, requests to anything else)."""
    browser.open(page)
    log = browser.log()
    return {"errors": log["errors"], "requests": [u for u in log["requests"] if u != page.resolve().as_uri()]}


def keys(browser: Browser, *sequence: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    chain = ActionChains(browser.driver)
    for key in sequence:
        chain.send_keys(key)
    chain.perform()


def active(browser: Browser) -> Any:
    return browser.js(
        "const a = document.activeElement; return [a.id, a.getAttribute('class') || '', a.tagName];"
    )


def test_the_report_in_a_browser(
    chromium: Browser,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    snapshot: Callable[[str], Path],
) -> None:
    from selenium.webdriver.common.keys import Keys

    page = write_report(tmp_path, capsys, LIVE_REPO, "--from", str(snapshot("vault-chain")))
    assert opened(chromium, page) == {"errors": [], "requests": []}
    assert chromium.js("return document.querySelectorAll('#graph .node').length") == graph_nodes(
        capsys, LIVE_REPO
    )
    # search: matching nodes are marked, Enter opens the first one's details
    chromium.driver.find_element("id", "search").send_keys("echo")
    matches = chromium.js(
        "return Array.from(document.querySelectorAll('.node.match')).map(n => n.getAttribute('aria-label'))"
    )
    assert sorted(matches) == ["HelmRelease default/echo", "Kustomization flux-system/echo"]
    chromium.driver.find_element("id", "search").send_keys(Keys.ENTER)
    assert chromium.js("return document.getElementById('details').hidden") is False
    assert chromium.js("return document.getElementById('details-title').textContent").endswith("/echo")
    # the close button closes the details; a click on a node shows its object, what it needs and what
    # needs it
    chromium.driver.find_element("css selector", "#details .close").click()
    assert chromium.js("return document.getElementById('details').hidden") is True
    search = chromium.driver.find_element("id", "search")
    search.send_keys(Keys.CONTROL, "a")
    search.send_keys(Keys.BACKSPACE)
    chromium.driver.find_element("id", "zoom-fit").click()
    node = chromium.driver.find_element(
        "css selector", '.node[aria-label="Kustomization flux-system/external-secrets-stores"]'
    )
    node.click()
    panel = chromium.driver.find_element("id", "details").text
    assert "flux-system/external-secrets-stores" in panel
    assert "Needed by" in panel and "Kustomization flux-system/echo" in panel
    assert "kubernetes/apps/external-secrets/stores/ks.yaml" in panel
    chromium.screenshot("report-details")
    # a dependent in the panel leads to that node
    chromium.driver.find_element("css selector", "#details button.link[data-i]").click()
    assert (
        chromium.js("return document.getElementById('details-title').textContent")
        != "flux-system/external-secrets-stores"
    )
    # keyboard: Esc closes and gives focus back to the node; Enter opens; arrows move; / reaches search
    keys(chromium, Keys.ESCAPE)
    assert chromium.js("return document.getElementById('details').hidden") is True
    assert "node" in active(chromium)[1], active(chromium)
    keys(chromium, Keys.ARROW_LEFT)
    moved = active(chromium)
    assert "node" in moved[1]
    keys(chromium, Keys.ENTER)
    assert chromium.js("return document.getElementById('details').hidden") is False
    assert chromium.js("return document.getElementById('details-title').textContent") in chromium.js(
        "return document.activeElement.getAttribute('aria-label')"
    )
    keys(chromium, Keys.ESCAPE, "/")
    assert active(chromium)[0] == "search"
    # Tab from the last tool button reaches the graph's nodes
    chromium.js("document.getElementById('zoom-fit').focus()")
    keys(chromium, Keys.TAB)
    assert "node" in active(chromium)[1]
    # the live state colours nodes; the doctor's problems are on the page
    assert chromium.js("return document.querySelectorAll('#graph .node.s-bad').length") > 0
    assert "root cause" in chromium.driver.find_element("id", "live").text.lower()
    assert chromium.log()["errors"] == []
    chromium.screenshot("report-light", full=True)


def test_light_and_dark_follow_the_browser(
    chromium: Browser, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = write_report(tmp_path, capsys, LIVE_REPO)
    background = "return getComputedStyle(document.body).backgroundColor"
    try:
        chromium.colour_scheme("light")
        assert opened(chromium, page) == {"errors": [], "requests": []}
        light = chromium.js(background)
        chromium.colour_scheme("dark")
        chromium.open(page)
        dark = chromium.js(background)
        chromium.screenshot("report-dark")
    finally:
        chromium.colour_scheme("")

    def brightness(css: str) -> int:
        return sum(int(v) for v in css[css.index("(") + 1 : css.index(")")].split(",")[:3])

    assert brightness(light) > 600 and brightness(dark) < 150


@pytest.fixture
def remote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[GitRemote]:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    with git_remote(tmp_path / "git") as git:
        shutil.copytree(TESTDATA / "render" / "repo", git.work, dirs_exist_ok=True)
        git.commit({}, "base")
        yield git


def test_the_html_diff_in_a_browser(
    chromium: Browser, remote: GitRemote, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work = remote.work
    for rel, old, new in (
        ("kubernetes/apps/demo/echo/app/helmrelease.yaml", "d: inline", "d: changed"),
        ("kubernetes/apps/demo/echo/app/secret.yaml", "plain-token-in-git", "rotated-token-value"),
        ("kubernetes/apps/demo/tools/ks.yaml", 'TOOLS_TAG: "3.1"', 'TOOLS_TAG: "3.2"'),
    ):
        path = work / rel
        path.write_text(path.read_text().replace(old, new))
    capsys.readouterr()
    assert main(["diff", str(work), "--output", "html"]) == 1
    page = tmp_path / "diff.html"
    page.write_text(capsys.readouterr().out)
    assert opened(chromium, page) == {"errors": [], "requests": []}
    text = chromium.driver.find_element("tag name", "main").text
    assert "rotated-token-value" not in text and "<redacted" in text
    marked = chromium.js(
        "return Array.from(document.querySelectorAll('td.add mark')).map(m => m.textContent)"
    )
    assert "changed" in marked and "2" in marked
    chromium.driver.find_element("id", "collapse").click()
    assert chromium.js("return document.querySelectorAll('details.object[open]').length") == 0
    chromium.driver.find_element("id", "expand").click()
    chromium.screenshot("diff")


@pytest.mark.corpus
@pytest.mark.slow
def test_the_largest_corpus_repository(
    chromium: Browser, corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = corpus / "bjw-s-labs__home-ops"
    if not repo.is_dir():
        pytest.skip("bjw-s-labs__home-ops is not in the corpus")
    page = write_report(tmp_path, capsys, repo)
    assert opened(chromium, page) == {"errors": [], "requests": []}
    assert chromium.js("return document.querySelectorAll('#graph .node').length") == graph_nodes(capsys, repo)
    capsys.readouterr()
    main(["graph", str(repo), "-f", "json"])
    nodes = json.loads(capsys.readouterr().out)["nodes"]
    releases = [n["name"] for n in nodes if n["kind"] == "HelmRelease"]
    chromium.driver.find_element("id", "search").send_keys(releases[0])
    matched = chromium.js(
        "return Array.from(document.querySelectorAll('.node.match')).map(n => n.getAttribute('aria-label'))"
    )
    assert len(matched) == sum(1 for n in nodes if releases[0] in f"{n['namespace']}/{n['name']}")
    chromium.screenshot("report-corpus")
