"""The CLI's help is as wide as argparse would make it, without argparse's own lookup."""

from __future__ import annotations

import shutil

import pytest

from homeops.cli.parser import _columns


@pytest.mark.parametrize("columns", [None, "", "0", "-3", "abc", "57", "200"])
def test_columns_as_shutil_reports_them(monkeypatch: pytest.MonkeyPatch, columns: str | None) -> None:
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert _columns() == shutil.get_terminal_size().columns
