"""Shared fixtures: the real-repo corpus, an isolated cache, an isolated sops/git environment, the testdata
folder, a headless browser."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

TESTDATA = Path(__file__).parent / "testdata"
CORPUS = Path(os.environ.get("HOMEOPS_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus"))


def pytest_sessionstart(session: pytest.Session) -> None:
    """Signals the suite sends to homeops act as they do from a terminal, however pytest was started:
    a shell script's background job (``cmd &``) starts with SIGINT and SIGQUIT ignored, ``nohup`` with
    SIGHUP ignored, and an ignored signal stays ignored in every process started from it."""
    import signal

    for signum in (signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGTERM):
        if signal.getsignal(signum) == signal.SIG_IGN:
            signal.signal(signum, signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL)


def corpus_repos() -> list[Path]:
    """Every repository folder of the corpus (empty when the corpus is absent)."""
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.iterdir() if p.is_dir())


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS} (set HOMEOPS_CORPUS)")
    return CORPUS


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOMEOPS_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "homeops-cache"))
    monkeypatch.setenv("NO_COLOR", "1")
    # Every check runs in the process a test started, never in a resident one that outlives the
    # test (homeops.resident); tests/cli/test_resident.py turns it on where it is the subject.
    monkeypatch.setenv("HOMEOPS_SERVER", "0")
    # The test services (OCI registry, chart repositories, Git remotes) run on loopback or file://,
    # which a repository may not make homeops fetch by default; the tests of that rule unset it.
    monkeypatch.setenv("HOMEOPS_ALLOW_LOCAL_REMOTES", "1")


SOPS_VARIABLES = (
    "SOPS_AGE_KEY",
    "SOPS_AGE_KEY_FILE",
    "SOPS_AGE_KEY_CMD",
    "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
    "SOPS_AGE_RECIPIENTS",
    "SOPS_CONFIG",
    "SOPS_PGP_FP",
)


@pytest.fixture
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No age key, sops configuration, editor or git identity of the person running the tests leaks in.

    Folders whose tests run sops or git request it from an autouse fixture of their own conftest.
    """
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    for name in (*SOPS_VARIABLES, "EDITOR", "VISUAL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name, value in (
        ("GIT_AUTHOR_NAME", "t"),
        ("GIT_AUTHOR_EMAIL", "t@example.com"),
        ("GIT_COMMITTER_NAME", "t"),
        ("GIT_COMMITTER_EMAIL", "t@example.com"),
    ):
        monkeypatch.setenv(name, value)


@pytest.fixture
def testdata() -> Path:
    return TESTDATA


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """A headless Chromium driven by Selenium (tests/browser.py); skipped, with the reason, when absent."""
    import browser

    reason = browser.missing()
    if reason:
        pytest.skip(f"no browser: {reason}")
    with browser.chromium() as running:
        yield running


@pytest.fixture
def snapshot(tmp_path: Path) -> Callable[[str | None], Path]:
    """``snapshot(scenario)``: a snapshot file of tests/testdata/live/repo as a cluster in that scenario
    (None: healthy), built by tests/doctor/cluster_states.py."""
    sys.path.insert(0, str(Path(__file__).resolve().parent / "doctor"))
    import cluster_states

    def make(scenario: str | None = None) -> Path:
        return Path(cluster_states.write(tmp_path / f"{scenario or 'healthy'}.json", scenario))

    return make
