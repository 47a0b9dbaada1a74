"""Shared fixtures: the real-repo corpus, an isolated cache, the testdata folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

TESTDATA = Path(__file__).parent / "testdata"
CORPUS = Path(os.environ.get("HOMEOPS_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus"))


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


@pytest.fixture
def testdata() -> Path:
    return TESTDATA
