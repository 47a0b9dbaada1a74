"""A repository's names, values and file names cannot send control sequences to the terminal: an OSC 52
(clipboard), a title, a screen clear or a carriage return hiding a finding is shown as escapes, in
every text output; homeops' own colours still work (real processes, one on a pseudo-terminal)."""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FLUX = Path(__file__).resolve().parent.parent / "testdata" / "flux"
HOSTILE = "apps\\e]52;c;ZWNobyBwd25lZA==\\a\\e]0;title\\a\\e[2J\\rall fine\\x9b8m"
RAW = ("\x1b]52", "\x1b]0", "\x1b[2J", "\r", "\x07", "\x9b")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(FLUX / "gotk-sync", root)
    apps = root / "clusters" / "home" / "apps.yaml"
    apps.write_text(apps.read_text().replace("  name: apps\n", f'  name: "{HOSTILE}"\n', 1))
    return root


@pytest.mark.parametrize(
    "argv",
    [["check"], ["get", "ks"], ["graph"], ["graph", "-f", "tree"], ["explain"], ["simulate"]],
    ids=lambda a: " ".join(a),
)
def test_text_output_shows_control_characters_as_escapes(repo: Path, argv: list[str]) -> None:
    target = [str(repo / "apps"), "--repo", str(repo)] if argv[0] == "explain" else [str(repo)]
    done = subprocess.run(
        [sys.executable, "-m", "homeops", *argv, *target],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "HOMEOPS_CACHE_DIR": str(repo.parent / "cache")},
    )
    output = done.stdout + done.stderr
    assert "\\x1b]52;c;" in output  # the name is shown, escaped
    assert not [raw for raw in RAW if raw in output]


def test_own_colours_still_reach_a_terminal(repo: Path) -> None:
    parent, child = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "homeops", "check", str(repo), "--color", "always"],
        stdin=subprocess.DEVNULL,
        stdout=child,
        stderr=child,
        env={**os.environ, "HOMEOPS_CACHE_DIR": str(repo.parent / "cache"), "TERM": "xterm"},
    )
    os.close(child)
    chunks = []
    while True:
        try:
            chunk = os.read(parent, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=120)
    os.close(parent)
    output = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
    assert "\x1b[1m" in output and "\x1b[0m" in output  # homeops' own bold and reset
    assert "\\x1b]52;c;" in output
    assert not [raw for raw in RAW if raw in output]
