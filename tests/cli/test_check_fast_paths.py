"""``homeops check``'s fast paths give the answers of the slow ones.

An unchanged repository is answered from the result cache without loading the rest of homeops; a cold
run loads no ``dataclasses`` (with ``inspect`` and ``ast``, a tenth of a small repository's check); a
cold run that parses, builds and checks on two cores finds exactly what one core finds.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTDATA = Path(__file__).resolve().parent.parent / "testdata"
WARNINGS = TESTDATA / "rules" / "IMG001" / "fail"
REPOS = TESTDATA / "repos"

_RUN = """
import sys
from homeops.cli.main import main
code = main(["check", sys.argv[1], "-o", "json"])
watched = (
    "yaml", "dataclasses", "inspect", "ast", "typing", "shutil", "hashlib", "argparse", "enum", "json", "re",
    "pathlib", "homeops.flux.tree", "homeops.rules.engine", "homeops.secrets.config",
)
heavy = sorted(m for m in watched if m in sys.modules)
sys.stderr.write("loaded: " + ",".join(heavy) + "\\n")
sys.exit(code)
"""


def _check(repo: Path, cache: Path, **env: str) -> tuple[int, str, str]:
    done = subprocess.run(
        [sys.executable, "-c", _RUN, str(repo)],
        env={**os.environ, "HOMEOPS_CACHE_DIR": str(cache), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    loaded = done.stderr.rsplit("loaded: ", 1)[-1].strip()
    return done.returncode, done.stdout, loaded


def test_an_unchanged_repository_is_answered_without_loading_homeops(tmp_path: Path) -> None:
    first = _check(WARNINGS, tmp_path / "cache")
    assert "homeops.flux.tree" in first[2]
    second = _check(WARNINGS, tmp_path / "cache")
    assert second[:2] == first[:2]
    assert second[2] == "", f"the cached answer loaded {second[2]}"


@pytest.mark.parametrize("name", ["layered", "malformed"])
def test_a_cold_check_loads_no_dataclasses(name: str, tmp_path: Path) -> None:
    # layered: kustomize overlays, several clusters, a .sops.yaml; malformed: findings to report
    _code, _out, loaded = _check(REPOS / name, tmp_path / "cache")
    assert {"homeops.flux.tree", "homeops.rules.engine", "homeops.secrets.config"} <= set(loaded.split(","))
    assert not {"dataclasses", "inspect", "ast"} & set(loaded.split(",")), loaded


def test_two_cores_find_what_one_core_finds(corpus: Path, tmp_path: Path) -> None:
    repo = corpus / "bjw-s-labs__home-ops"
    if not repo.is_dir():
        pytest.skip("bjw-s-labs__home-ops is not in the corpus")
    parallel = _check(repo, tmp_path / "a")
    single = _check(repo, tmp_path / "b", HOMEOPS_NO_FORK="1")
    assert parallel[:2] == single[:2]
    assert '"findings": [' in parallel[1]
