"""Helpers shared by the secrets tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

LAYOUT = Path(__file__).resolve().parents[1] / "testdata" / "secrets" / "layout"

#: The plaintext values of the layout fixture: none may ever be found in an encrypted file.
LAYOUT_SECRETS = (
    "fixture-token-4f1b2c",
    "fixture-password-9a8b7c",
    "fixture-webhook-77aa11",
    "fixture-cluster-secret-0002",
    "fixture-bootstrap-0003",
)


@dataclass(frozen=True)
class Key:
    public: str
    private: str
    file: Path


def copy_layout(root: Path) -> Path:
    """Copy the layout fixture to ``root``, dropping the ``.plain`` suffixes (see its README)."""
    shutil.copytree(LAYOUT, root)
    for plain in root.rglob("*.plain"):
        plain.rename(plain.with_suffix(""))
    return root
