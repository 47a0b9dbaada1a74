"""Helpers for the rendering tests: the fixture repository, the CLI run in-process, golden files."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from homeops.cli.main import main

RENDER = Path(__file__).resolve().parents[1] / "testdata" / "render"
REPO = RENDER / "repo"
EXPECTED = RENDER / "expected"


def copy_repo(tmp_path: Path, name: str = "repo") -> Path:
    target = tmp_path / name
    shutil.copytree(REPO, target)
    return target


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def documents(text: str) -> list[Any]:
    return [d for d in yaml.safe_load_all(text) if d is not None]


def golden(name: str) -> list[Any]:
    return documents((EXPECTED / name).read_text())
