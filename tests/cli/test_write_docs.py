"""The three doc generators (rules, machines, doctor scenarios): the pages in docs/ are theirs, current,
and each command says what it wrote."""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest

from homeops.cli.main import main

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize(
    ("command", "folder"), [("rules", "rules"), ("machines", "runtime"), ("doctor", "doctor")]
)
def test_write_docs_writes_the_current_pages(
    command: str, folder: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, "--write-docs", str(tmp_path)]) == 0
    written = sorted(p.name for p in tmp_path.iterdir())
    assert capsys.readouterr().err == f"wrote {len(written)} pages to {tmp_path}\n"
    compared = filecmp.dircmp(DOCS / folder, tmp_path)
    assert compared.left_only == [] and compared.right_only == [], (
        f"docs/{folder} is not what {command} writes"
    )
    assert compared.diff_files == [], f"docs/{folder} is out of date: run homeops {command} --write-docs"
