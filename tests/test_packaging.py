"""What ``pip install homeops`` installs: every file the package reads at run time is package data."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "homeops"


def test_every_data_file_of_the_package_is_installed() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["homeops"]
    data = [
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts
    ]
    assert "validate/data/flux-schemas.json" in data
    left_out = [rel for rel in data if not any(fnmatch.fnmatch(rel, p) for p in patterns)]
    assert left_out == [], "not in [tool.setuptools.package-data]: a pip install would lack them"
