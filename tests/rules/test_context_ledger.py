"""The rule context finds the configure ledger without importing the configure pipeline."""

from __future__ import annotations

import posixpath
import subprocess
import sys
from pathlib import Path

from homeops.configure.ledger import LEDGER_PATH
from homeops.rules.context import LEDGER_FOLDER


def test_the_ledger_lives_in_the_folder_the_context_looks_for() -> None:
    assert posixpath.dirname(LEDGER_PATH) == LEDGER_FOLDER


def test_no_ledger_folder_means_no_configure_import(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n")
    code = (
        "import sys\n"
        "from homeops.workspace import open_workspace\n"
        "from homeops.rules.context import Context\n"
        f"ws = open_workspace({str(tmp_path)!r}, use_cache=False)\n"
        "assert Context(ws.flux).ledger is None\n"
        "print('homeops.configure' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
