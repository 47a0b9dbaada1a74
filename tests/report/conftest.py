"""Fixtures for the HTML report tests: a real headless Chromium (skipped with the reason when absent),
and scenario snapshots of the live test repository (tests/doctor/cluster_states.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "doctor"))

import cluster_states  # noqa: E402

import browser  # noqa: E402

LIVE_REPO = HERE.parent / "testdata" / "live" / "repo"


@pytest.fixture(scope="session")
def chromium() -> Iterator[browser.Browser]:
    reason = browser.missing()
    if reason:
        pytest.skip(f"no browser: {reason}")
    with browser.chromium() as running:
        yield running


@pytest.fixture
def snapshot(tmp_path: Path) -> object:
    """``snapshot(scenario)``: a snapshot file of the live test repository in that scenario."""

    def make(scenario: str | None = None) -> Path:
        return cluster_states.write(tmp_path / f"{scenario or 'healthy'}.json", scenario)

    return make
