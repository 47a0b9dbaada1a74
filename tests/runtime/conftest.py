"""The controllers' reference material in ../shared/runtime/ (Apache-2.0, written by their maintainers)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REFERENCE = Path(
    os.environ.get("HOMEOPS_RUNTIME_REFERENCE", Path(__file__).resolve().parents[3] / "shared" / "runtime")
)


@pytest.fixture
def reference() -> Path:
    if not REFERENCE.is_dir():
        pytest.skip(f"controller reference not found at {REFERENCE} (set HOMEOPS_RUNTIME_REFERENCE)")
    return REFERENCE
